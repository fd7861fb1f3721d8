//! The session table's name, validated so that configuration can never inject SQL.

use std::fmt;
use std::str::FromStr;

use session_core::Error;

/// Longest accepted name part. The index is named `<table>_expires_at_idx`, and that
/// must still fit PostgreSQL's 63-byte identifier limit (MySQL allows 64).
pub const MAX_NAME_LEN: usize = 48;

const INDEX_SUFFIX: &str = "_expires_at_idx";
const USER_INDEX_SUFFIX: &str = "_user_key_idx";

/// The name of the session table: `table` or `schema.table`.
///
/// Each part is 1 to [`MAX_NAME_LEN`] characters of lower-case ASCII letters, digits
/// and `_`, not starting with a digit. That is deliberately narrower than what the
/// databases accept: such a name means the same table on SQLite, PostgreSQL and MySQL
/// whatever their case rules, needs no escaping beyond quoting, and cannot carry SQL.
/// Names are always quoted in statements, so reserved words (`user`, `order`) work.
///
/// ```
/// use session_sql::TableName;
///
/// assert_eq!(TableName::new("sessions")?.to_string(), "sessions");
/// assert_eq!(TableName::new("app.web_sessions")?.table(), "web_sessions");
/// assert!(TableName::new("sessions; DROP TABLE users").is_err());
/// assert!(TableName::new("Sessions").is_err());
/// # Ok::<(), session_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TableName {
    schema: Option<String>,
    table: String,
}

impl TableName {
    /// The default table: `sessions`.
    pub fn sessions() -> Self {
        TableName {
            schema: None,
            table: "sessions".to_owned(),
        }
    }

    /// Validates `name` (`table` or `schema.table`); anything else is
    /// [`Error::Config`].
    pub fn new(name: &str) -> Result<Self, Error> {
        let mut parts = name.split('.');
        let (schema, table) = match (parts.next(), parts.next(), parts.next()) {
            (Some(table), None, None) => (None, table),
            (Some(schema), Some(table), None) => (Some(schema), table),
            _ => {
                return Err(Error::Config(format!(
                    "table name {:?}: use `table` or `schema.table`",
                    shorten(name)
                )))
            }
        };
        if let Some(schema) = schema {
            check_part(name, schema)?;
        }
        check_part(name, table)?;
        Ok(TableName {
            schema: schema.map(str::to_owned),
            table: table.to_owned(),
        })
    }

    /// The schema (PostgreSQL schema, MySQL database, SQLite attached database), if
    /// one was given.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// The table part of the name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The unqualified name of the `expires_at` index.
    pub fn index(&self) -> String {
        format!("{}{INDEX_SUFFIX}", self.table)
    }

    /// The unqualified name of the `(user_key, session_id)` index.
    pub fn user_index(&self) -> String {
        format!("{}{USER_INDEX_SUFFIX}", self.table)
    }
}

/// Keeps error messages about hostile input short.
fn shorten(name: &str) -> String {
    name.chars().take(80).collect()
}

fn check_part(whole: &str, part: &str) -> Result<(), Error> {
    let bad = |why: &str| {
        Err(Error::Config(format!(
            "table name {:?}: {why}",
            shorten(whole)
        )))
    };
    if part.is_empty() {
        return bad("a name part is empty");
    }
    if part.len() > MAX_NAME_LEN {
        return bad("a name part is longer than 48 characters");
    }
    if part.starts_with(|c: char| c.is_ascii_digit()) {
        return bad("a name part starts with a digit");
    }
    if !part
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return bad("only lower-case ASCII letters, digits and `_` are allowed");
    }
    Ok(())
}

impl Default for TableName {
    fn default() -> Self {
        Self::sessions()
    }
}

impl FromStr for TableName {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        TableName::new(s)
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.table),
            None => f.write_str(&self.table),
        }
    }
}

impl fmt::Debug for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TableName({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_and_qualified_names() {
        for ok in ["sessions", "_s", "web_sessions_2", "app.sessions", "user"] {
            let t = TableName::new(ok).unwrap();
            assert_eq!(t.to_string(), ok);
        }
        let t = TableName::new(&"a".repeat(MAX_NAME_LEN)).unwrap();
        assert_eq!(t.index().len(), MAX_NAME_LEN + INDEX_SUFFIX.len());
        assert!(t.index().len() <= 63);
        assert!(t.user_index().len() <= 63);
    }

    #[test]
    fn refuses_anything_that_could_carry_sql() {
        let hostile = [
            "",
            ".",
            "a.",
            ".a",
            "a.b.c",
            "sessions; DROP TABLE users",
            "sessions--",
            "s\"x",
            "s`x",
            "s'x",
            "s x",
            "s\0",
            "Sessions",
            "séssions",
            "1sessions",
            "s/*",
            "s\n",
        ];
        for bad in hostile {
            assert!(
                matches!(TableName::new(bad), Err(Error::Config(_))),
                "{bad:?} accepted"
            );
        }
        let long = "a".repeat(MAX_NAME_LEN + 1);
        assert!(matches!(TableName::new(&long), Err(Error::Config(_))));
    }
}
