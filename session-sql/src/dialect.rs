//! The SQL each database gets: identifier quoting, placeholders, and every statement the
//! store runs, rendered once per store for its table.

use crate::TableName;

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// SQLite, embedded in the process.
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    MySql,
}

impl Backend {
    /// The name used in messages: `sqlite`, `postgres`, `mysql`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::MySql => "mysql",
        }
    }

    /// `part` quoted as an identifier. `part` is already validated by [`TableName`]
    /// (no quote characters can occur); quoting only makes reserved words usable.
    pub(crate) fn quote(self, part: &str) -> String {
        match self {
            Backend::MySql => format!("`{part}`"),
            Backend::Sqlite | Backend::Postgres => format!("\"{part}\""),
        }
    }

    /// The table name, quoted and schema-qualified if it has a schema.
    pub(crate) fn qualified(self, table: &TableName) -> String {
        match table.schema() {
            Some(schema) => format!("{}.{}", self.quote(schema), self.quote(table.table())),
            None => self.quote(table.table()),
        }
    }

    /// Rewrites the `$1`, `$2`… placeholders of `template` into this database's form.
    /// MySQL's `?` is positional only, so templates name each parameter once and in
    /// ascending order (checked by this module's tests).
    pub(crate) fn render(self, template: &str) -> String {
        if self == Backend::Postgres {
            return template.to_owned();
        }
        let mut out = String::with_capacity(template.len());
        let mut chars = template.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '$' || !chars.peek().is_some_and(char::is_ascii_digit) {
                out.push(c);
                continue;
            }
            out.push('?');
            while let Some(d) = chars.next_if(char::is_ascii_digit) {
                // SQLite takes `?NNN`, numbered; MySQL only the bare `?`.
                if self == Backend::Sqlite {
                    out.push(d);
                }
            }
        }
        out
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Every statement a store runs, rendered for one backend and table. The comment on
/// each field gives its parameters in bind order.
#[derive(Debug)]
pub(crate) struct Statements {
    /// `key, now` → `atime, expires_at, version, data` of the live row.
    pub load: String,
    /// `key, atime, expires_at, version, data, user_key`, then `now` when
    /// [`Statements::insert_replaces_expired`]. Affects 1 row when the record went in.
    pub insert: String,
    /// Whether `insert` also takes over an expired row under the same key in the same
    /// statement (an upsert guarded by expiry). Where it cannot (MySQL), a unique
    /// violation is followed by `purge_expired_key` and one more insert.
    pub insert_replaces_expired: bool,
    /// `key, now`: deletes the row under `key` only if it has expired.
    pub purge_expired_key: String,
    /// `atime, expires_at, new version, data, user_key, key, expected version, now`.
    pub save: String,
    /// `key, now` → `version` of the live row: tells `NotFound` from `Conflict` after a
    /// save matched nothing.
    pub version_probe: String,
    /// `atime, expires_at, key, now`.
    pub touch: String,
    /// `key`.
    pub delete: String,
    /// `now, batch size`: deletes up to one batch of expired rows.
    pub sweep: String,
    /// `now` → number of live rows.
    pub count: String,
    /// `after key, limit` → `session_id, expires_at, stored size` of up to `limit` rows
    /// after `after key`, in key order (a keyset page; `''` starts the walk).
    pub scan: String,
    /// `user_key, now, after key, limit` → `session_id, atime, expires_at, data` of up
    /// to `limit` live rows of the user after `after key`, in key order.
    pub sessions_of: String,
    /// `user_key, except key, now`: deletes every row of the user but `except` (`''`
    /// spares none). On PostgreSQL it answers one integer, how many of them were live;
    /// on SQLite one row per deleted session, holding 1 if it was live; on MySQL it
    /// deletes only the live rows and its affected count answers.
    pub revoke_user: String,
    /// MySQL only (`user_key, except key, now`): after `revoke_user`, the user's
    /// expired rows. Empty elsewhere.
    pub revoke_user_expired: String,
    /// `key, user_key, now`: deletes the row if it is live and bound to the user.
    pub revoke_session: String,
    /// No arguments → `session_id, data` of every row, expired ones included, in key
    /// order (inspection: [`SqlStore::raw_entries`](crate::SqlStore::raw_entries)).
    pub raw: String,
}

const COLUMNS: &str = "session_id, atime, expires_at, version, data, user_key";

impl Statements {
    pub(crate) fn new(backend: Backend, table: &TableName) -> Self {
        let t = backend.qualified(table);
        let r = |template: String| backend.render(&template);
        let insert = match backend {
            // `cur` names the row already stored: the takeover happens only if it has
            // expired, so a live session is never overwritten.
            Backend::Sqlite | Backend::Postgres => format!(
                "INSERT INTO {t} AS cur ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (session_id) DO UPDATE SET atime = excluded.atime, \
                 expires_at = excluded.expires_at, version = excluded.version, \
                 data = excluded.data, user_key = excluded.user_key \
                 WHERE cur.expires_at <= $7"
            ),
            Backend::MySql => {
                format!("INSERT INTO {t} ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)")
            }
        };
        let sweep = match backend {
            // SKIP LOCKED lets two instances sweep at once without queueing on the
            // same batch.
            Backend::Postgres => format!(
                "DELETE FROM {t} WHERE session_id IN (SELECT session_id FROM {t} \
                 WHERE expires_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)"
            ),
            Backend::Sqlite => format!(
                "DELETE FROM {t} WHERE rowid IN \
                 (SELECT rowid FROM {t} WHERE expires_at <= $1 LIMIT $2)"
            ),
            Backend::MySql => format!("DELETE FROM {t} WHERE expires_at <= $1 LIMIT $2"),
        };
        let (key, size) = match backend {
            // LENGTH of a BLOB counts bytes on SQLite and MySQL; PostgreSQL's
            // octet_length is an int4, widened so every dialect answers a BIGINT. MySQL
            // reports the binary-collated key column as BINARY, so it is converted to
            // text for the driver.
            Backend::Sqlite => ("session_id", "length(data)"),
            Backend::Postgres => ("session_id", "CAST(octet_length(data) AS BIGINT)"),
            Backend::MySql => (
                "CONVERT(session_id USING utf8mb4)",
                "CAST(LENGTH(data) AS SIGNED)",
            ),
        };
        let revoke_user = match backend {
            // One statement: the CTE deletes, the outer query counts the live ones.
            Backend::Postgres => format!(
                "WITH gone AS (DELETE FROM {t} WHERE user_key = $1 AND session_id <> $2 \
                 RETURNING expires_at) SELECT COUNT(*) FROM gone WHERE expires_at > $3"
            ),
            Backend::Sqlite => format!(
                "DELETE FROM {t} WHERE user_key = $1 AND session_id <> $2 \
                 RETURNING expires_at > $3"
            ),
            // MySQL has no DELETE … RETURNING (MariaDB does, MySQL does not): the live
            // rows go first and are counted, then the expired ones.
            Backend::MySql => format!(
                "DELETE FROM {t} WHERE user_key = $1 AND session_id <> $2 AND expires_at > $3"
            ),
        };
        let revoke_user_expired = match backend {
            Backend::MySql => format!(
                "DELETE FROM {t} WHERE user_key = $1 AND session_id <> $2 AND expires_at <= $3"
            ),
            Backend::Sqlite | Backend::Postgres => String::new(),
        };
        Statements {
            load: r(format!(
                "SELECT atime, expires_at, version, data FROM {t} \
                 WHERE session_id = $1 AND expires_at > $2"
            )),
            insert: r(insert),
            insert_replaces_expired: backend != Backend::MySql,
            purge_expired_key: r(format!(
                "DELETE FROM {t} WHERE session_id = $1 AND expires_at <= $2"
            )),
            save: r(format!(
                "UPDATE {t} SET atime = $1, expires_at = $2, version = $3, data = $4, \
                 user_key = $5 WHERE session_id = $6 AND version = $7 AND expires_at > $8"
            )),
            version_probe: r(format!(
                "SELECT version FROM {t} WHERE session_id = $1 AND expires_at > $2"
            )),
            touch: r(format!(
                "UPDATE {t} SET atime = $1, expires_at = $2 \
                 WHERE session_id = $3 AND expires_at > $4"
            )),
            delete: r(format!("DELETE FROM {t} WHERE session_id = $1")),
            sweep: r(sweep),
            count: r(format!("SELECT COUNT(*) FROM {t} WHERE expires_at > $1")),
            scan: r(format!(
                "SELECT {key}, expires_at, {size} FROM {t} \
                 WHERE session_id > $1 ORDER BY session_id LIMIT $2"
            )),
            sessions_of: r(format!(
                "SELECT {key}, atime, expires_at, data FROM {t} \
                 WHERE user_key = $1 AND expires_at > $2 AND session_id > $3 \
                 ORDER BY session_id LIMIT $4"
            )),
            revoke_user: r(revoke_user),
            revoke_user_expired: r(revoke_user_expired),
            revoke_session: r(format!(
                "DELETE FROM {t} WHERE session_id = $1 AND user_key = $2 AND expires_at > $3"
            )),
            raw: r(format!("SELECT {key}, data FROM {t} ORDER BY session_id")),
        }
    }

    #[cfg(test)]
    fn all(&self) -> [&str; 14] {
        [
            &self.raw,
            &self.sessions_of,
            &self.revoke_user,
            &self.revoke_session,
            &self.load,
            &self.insert,
            &self.purge_expired_key,
            &self.save,
            &self.version_probe,
            &self.touch,
            &self.delete,
            &self.sweep,
            &self.count,
            &self.scan,
        ]
    }
}

/// `DELETE` of the rows under `keys` keys (bound `$1`…`$keys`), with `only_expired` also
/// `expires_at <= $keys+1` (now), rendered for `backend`. Built per call: the number
/// of keys varies.
pub(crate) fn delete_keys(
    backend: Backend,
    table: &TableName,
    keys: usize,
    only_expired: bool,
) -> String {
    let t = backend.qualified(table);
    let list: Vec<String> = (1..=keys).map(|i| format!("${i}")).collect();
    let mut sql = format!("DELETE FROM {t} WHERE session_id IN ({})", list.join(", "));
    if only_expired {
        sql.push_str(&format!(" AND expires_at <= ${}", keys + 1));
    }
    backend.render(&sql)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BACKENDS: [Backend; 3] = [Backend::Sqlite, Backend::Postgres, Backend::MySql];

    /// The placeholders of a Postgres-form statement, in order of appearance.
    fn params(sql: &str) -> Vec<u32> {
        let mut out = Vec::new();
        let mut rest = sql;
        while let Some(i) = rest.find('$') {
            let digits: String = rest[i + 1..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            out.push(digits.parse().unwrap());
            rest = &rest[i + 1 + digits.len()..];
        }
        out
    }

    #[test]
    fn placeholders_are_used_once_in_ascending_order() {
        // MySQL binds `?` by position, so this is what keeps bind order correct there.
        let pg = Statements::new(Backend::Postgres, &TableName::sessions());
        for sql in pg.all() {
            let found = params(sql);
            let expected: Vec<u32> = (1..=found.len() as u32).collect();
            assert_eq!(found, expected, "{sql}");
        }
    }

    #[test]
    fn delete_keys_binds_every_key_then_now() {
        let t = TableName::sessions();
        let pg = delete_keys(Backend::Postgres, &t, 3, true);
        assert_eq!(params(&pg), vec![1, 2, 3, 4]);
        assert!(pg.ends_with("IN ($1, $2, $3) AND expires_at <= $4"), "{pg}");
        assert!(!delete_keys(Backend::Postgres, &t, 2, false).contains("expires_at"));
        assert_eq!(
            delete_keys(Backend::MySql, &t, 2, true),
            "DELETE FROM `sessions` WHERE session_id IN (?, ?) AND expires_at <= ?"
        );
    }

    #[test]
    fn renders_each_dialect() {
        let t = TableName::new("app.user").unwrap();
        assert_eq!(Backend::Postgres.qualified(&t), "\"app\".\"user\"");
        assert_eq!(Backend::MySql.qualified(&t), "`app`.`user`");
        assert_eq!(
            Backend::Sqlite.render("a = $1 AND b = $12"),
            "a = ?1 AND b = ?12"
        );
        assert_eq!(
            Backend::MySql.render("a = $1 AND b = $12"),
            "a = ? AND b = ?"
        );
        assert_eq!(Backend::Postgres.render("a = $1"), "a = $1");
        for backend in BACKENDS {
            let s = Statements::new(backend, &t);
            for sql in s.all() {
                assert!(!sql.contains("app.user"), "unquoted name in {sql}");
                if backend != Backend::Postgres {
                    assert!(!sql.contains('$'), "{sql}");
                }
            }
        }
    }
}
