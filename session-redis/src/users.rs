//! The user index (contract rule 12): one sorted set per user, `prefix` + `user:` +
//! the user key's hex, whose members are the hex storage keys of the user's sessions,
//! all of score 0, so that `ZRANGEBYLEX` pages them in key order.
//!
//! On a standalone server the session scripts keep it exact inside the write's script
//! (`scripts.rs`), and the revoke and prune scripts change sessions and index together.
//! On a cluster the index lives in another slot than the sessions: a binding is filed
//! before the session is written, unfiled after it is deleted or rebound, and a
//! listing (or `delete_expired`) takes out a member whose session is gone only after
//! looking again (`unfile_checked`). The README's "Sessions by user on Redis Cluster"
//! says which race remains.

use redis::Value;
use session_core::{
    Error, Operation, Result, ScanCursor, StorageKey, UserKey, UserSession, UserSessionsPage,
};

use crate::connection::unexpected;
use crate::layout;
use crate::scan::{per_key, KeyScan, ScanContext};
use crate::scripts::{DELETE_IF_BOUND, FILE, PRUNE, REVOKE};
use crate::store::RedisStore;

/// Members read (and sessions revoked or checked) per round trip.
const BATCH: usize = 256;

/// What the walk over a batch of members found.
enum Member {
    /// Live and bound to the user: listed.
    Listed(UserSession),
    /// The session is gone, or bound to someone else: the member is stale.
    Stale(StorageKey),
    /// Expired by the store's clock, or unreadable: neither listed nor removed.
    Skipped,
}

impl RedisStore {
    /// The index key of `user`.
    fn index_key(&self, user: &UserKey) -> String {
        self.settings.indexes.key_of_user(user)
    }

    /// The session key of a member (a storage key's hex).
    fn member_key(&self, member: &StorageKey) -> Vec<u8> {
        self.settings.keys.key_of_storage_key(member).into_bytes()
    }

    /// Cluster: files `member` in `user`'s index (or, with `None`, only stretches its
    /// lifetime) so that the index outlives the deadline `pxat`.
    pub(crate) async fn file(
        &self,
        operation: Operation,
        user: &UserKey,
        member: Option<&StorageKey>,
        pxat: i64,
    ) -> Result<()> {
        let mut script = FILE.key(self.index_key(user));
        script.arg(pxat);
        if let Some(member) = member {
            script.arg(member.to_hex());
        }
        let mut conn = self.conn.clone();
        let _: i64 = self.run(operation, script.invoke_async(&mut conn)).await?;
        Ok(())
    }

    /// Takes `members` out of `user`'s index (`ZREM`).
    pub(crate) async fn unfile(
        &self,
        operation: Operation,
        user: &UserKey,
        members: &[StorageKey],
    ) -> Result<()> {
        if members.is_empty() {
            return Ok(());
        }
        let mut cmd = redis::cmd("ZREM");
        cmd.arg(self.index_key(user));
        for member in members {
            cmd.arg(member.to_hex());
        }
        let mut conn = self.conn.clone();
        let _: i64 = self.run(operation, cmd.query_async(&mut conn)).await?;
        Ok(())
    }

    /// Cluster, after a write moved `member` away from the user whose key hex is
    /// `old`: unfiles it there, checking afterwards.
    pub(crate) async fn unfile_after_write(
        &self,
        operation: Operation,
        old: &str,
        member: &StorageKey,
    ) -> Result<()> {
        match UserKey::from_hex(old) {
            Some(old) => self.unfile_checked(operation, &old, &[*member]).await,
            None => Err(unexpected(Some(operation), "a script's old user", old)),
        }
    }

    /// Cluster: unfiles `members` from `user`'s index, then reads their headers again
    /// and files back any that a concurrent write bound to `user` meanwhile (its
    /// filing may have come just before this removal). What can still slip through is
    /// a write that lands after the second read: the README's cluster section.
    async fn unfile_checked(
        &self,
        operation: Operation,
        user: &UserKey,
        members: &[StorageKey],
    ) -> Result<()> {
        self.unfile(operation, user, members).await?;
        let names: Vec<Vec<u8>> = members.iter().map(|m| self.member_key(m)).collect();
        let heads = per_key(operation, &self.scan_context(), &names, |k| {
            let mut c = redis::cmd("GETRANGE");
            c.arg(k).arg(0).arg(layout::HEADER_V2_LEN - 1);
            c
        })
        .await?;
        for (member, head) in members.iter().zip(heads) {
            let Some(Value::BulkString(head)) = head else {
                continue;
            };
            if let Ok((header, _)) = layout::split(&head) {
                if header.user.as_ref() == Some(user) {
                    let pxat = layout::pxat(header.expires_at);
                    self.file(operation, user, Some(member), pxat).await?;
                }
            }
        }
        Ok(())
    }

    /// Removes stale members (session gone or bound elsewhere) from `user`'s index:
    /// atomically with the check on a standalone server, checked again on a cluster.
    async fn prune(
        &self,
        operation: Operation,
        user: &UserKey,
        stale: &[StorageKey],
    ) -> Result<()> {
        if stale.is_empty() {
            return Ok(());
        }
        if self.conn.is_cluster() {
            return self.unfile_checked(operation, user, stale).await;
        }
        let mut script = PRUNE.key(self.index_key(user));
        for member in stale {
            script.key(self.member_key(member));
        }
        script.arg(user.to_hex());
        let mut conn = self.conn.clone();
        let _: i64 = self.run(operation, script.invoke_async(&mut conn)).await?;
        Ok(())
    }

    /// Up to `count` members of `user`'s index after `from` (a `ZRANGEBYLEX` bound:
    /// `-` or `(hex`), in key order, and where the next batch starts if the index may
    /// go on (a full batch).
    async fn members(
        &self,
        operation: Operation,
        user: &UserKey,
        from: &str,
        count: usize,
    ) -> Result<(Vec<StorageKey>, Option<String>)> {
        let mut cmd = redis::cmd("ZRANGEBYLEX");
        cmd.arg(self.index_key(user))
            .arg(from)
            .arg("+")
            .arg("LIMIT")
            .arg(0)
            .arg(count);
        let mut conn = self.conn.clone();
        let raw: Vec<String> = self.run(operation, cmd.query_async(&mut conn)).await?;
        let next = match raw.last() {
            Some(last) if raw.len() >= count => Some(format!("({last}")),
            _ => None,
        };
        // A member that is no storage key's hex was not written by this store: ignored.
        let members = raw.iter().filter_map(|m| StorageKey::from_hex(m)).collect();
        Ok((members, next))
    }

    /// What each member's session says about the listing of `user`.
    async fn classify(&self, user: &UserKey, members: &[StorageKey]) -> Result<Vec<Member>> {
        let names: Vec<Vec<u8>> = members.iter().map(|m| self.member_key(m)).collect();
        let values = per_key(Operation::SessionsOf, &self.scan_context(), &names, |k| {
            let mut c = redis::cmd("GET");
            c.arg(k);
            c
        })
        .await?;
        let now = self.now();
        Ok(members
            .iter()
            .zip(values)
            .map(|(member, value)| match value {
                Some(Value::Nil) => Member::Stale(*member),
                Some(Value::BulkString(bytes)) => match layout::split(&bytes) {
                    Ok((header, _)) if header.user.as_ref() != Some(user) => Member::Stale(*member),
                    Ok((header, _)) if header.expires_at <= now => Member::Skipped,
                    Ok((header, envelope)) => match UserSession::decode(*member, envelope) {
                        Ok((mut entry, Some(bound))) if bound == *user => {
                            // A touch rewrites only the header's times: they are current.
                            entry.accessed_at = header.accessed_at;
                            entry.expires_at = header.expires_at;
                            Member::Listed(entry)
                        }
                        _ => Member::Skipped,
                    },
                    Err(_) => Member::Skipped,
                },
                _ => Member::Skipped,
            })
            .collect())
    }

    /// `sessions_of`: members from the cursor on, each checked against its record
    /// (read with `GET`, decoded, unexpired by the store's clock, bound to `user`), until
    /// one more than the page is found or the index ends; stale members found on the
    /// way are pruned.
    pub(crate) async fn list_user(
        &self,
        user: &UserKey,
        cursor: Option<ScanCursor>,
        limit: usize,
    ) -> Result<UserSessionsPage> {
        let after = UserSessionsPage::resume_after(cursor.as_ref())?;
        let limit = limit.max(1);
        let mut from = after.map_or_else(|| "-".to_owned(), |k| format!("({}", k.to_hex()));
        let mut found = Vec::new();
        let mut stale = Vec::new();
        loop {
            let want = (limit + 1 - found.len()).min(BATCH);
            let (members, next) = self
                .members(Operation::SessionsOf, user, &from, want)
                .await?;
            for member in self.classify(user, &members).await? {
                match member {
                    Member::Listed(entry) if found.len() <= limit => found.push(entry),
                    Member::Stale(key) => stale.push(key),
                    _ => {}
                }
            }
            match next {
                Some(next) if found.len() <= limit => from = next,
                _ => break,
            }
        }
        self.prune(Operation::SessionsOf, user, &stale).await?;
        Ok(UserSessionsPage::first(found, limit))
    }

    /// `revoke_user`: the index in batches of [`BATCH`] members; each session deleted
    /// only if its header still binds it to `user`. Standalone: one script per batch,
    /// atomic with the index. Cluster: the conditional deletes run concurrently, then
    /// the deleted members leave the index (a member whose session is missing is left
    /// alone: its bind may be in flight).
    pub(crate) async fn revoke_all_of(
        &self,
        user: &UserKey,
        except: Option<&StorageKey>,
    ) -> Result<u64> {
        let op = Operation::RevokeUser;
        let mut from = "-".to_owned();
        let mut removed = 0u64;
        loop {
            let (members, next) = self.members(op, user, &from, BATCH).await?;
            let targets: Vec<StorageKey> =
                members.into_iter().filter(|m| Some(m) != except).collect();
            removed += self.revoke_batch(op, user, &targets, false).await?;
            match next {
                Some(next) => from = next,
                None => break,
            }
        }
        Ok(removed)
    }

    /// `revoke_session`: only a member of `user`'s index, and only if bound to `user`.
    pub(crate) async fn revoke_one(&self, user: &UserKey, key: &StorageKey) -> Result<bool> {
        let op = Operation::RevokeSession;
        if self.conn.is_cluster() {
            let mut cmd = redis::cmd("ZSCORE");
            cmd.arg(self.index_key(user)).arg(key.to_hex());
            let mut conn = self.conn.clone();
            let score: Option<String> = self.run(op, cmd.query_async(&mut conn)).await?;
            if score.is_none() {
                return Ok(false);
            }
        }
        Ok(self.revoke_batch(op, user, &[*key], true).await? == 1)
    }

    /// Deletes those of `members` bound to `user`; how many live ones went.
    /// `indexed_only`: on a standalone server, only members of the index count (the
    /// cluster caller checked that itself).
    async fn revoke_batch(
        &self,
        op: Operation,
        user: &UserKey,
        members: &[StorageKey],
        indexed_only: bool,
    ) -> Result<u64> {
        use futures::{StreamExt, TryStreamExt};

        if members.is_empty() {
            return Ok(0);
        }
        let now = self.now().as_millis();
        let hex = user.to_hex();
        if !self.conn.is_cluster() {
            let mut script = REVOKE.key(self.index_key(user));
            for member in members {
                script.key(self.member_key(member));
            }
            script
                .arg(&hex)
                .arg(now)
                .arg(if indexed_only { "1" } else { "0" });
            let mut conn = self.conn.clone();
            let live: i64 = self.run(op, script.invoke_async(&mut conn)).await?;
            return u64::try_from(live)
                .map_err(|_| unexpected(Some(op), "the revoke script", live));
        }
        let codes: Vec<i64> = futures::stream::iter(members.iter().copied())
            .map(|member: StorageKey| {
                let mut script = DELETE_IF_BOUND.key(self.member_key(&member));
                script.arg(&hex).arg(now);
                let mut conn = self.conn.clone();
                async move { self.run(op, script.invoke_async::<i64>(&mut conn)).await }
            })
            .buffered(64)
            .try_collect()
            .await?;
        let deleted: Vec<StorageKey> = members
            .iter()
            .zip(&codes)
            .filter(|(_, &code)| code == 1 || code == 2)
            .map(|(m, _)| *m)
            .collect();
        // After the deletions: a revoked session is never live unlisted.
        self.unfile(op, user, &deleted).await?;
        Ok(codes.iter().filter(|&&c| c == 1).count() as u64)
    }

    /// `delete_expired`'s part: every user index (a `SCAN` of its key space) loses its
    /// stale members.
    pub(crate) async fn prune_indexes(&self) -> Result<()> {
        let op = Operation::DeleteExpired;
        let cx = ScanContext {
            keys: &self.settings.indexes,
            ..self.scan_context()
        };
        let mut scan = KeyScan::start(&cx).await?;
        while let Some(keys) = scan.next(&cx).await? {
            for key in keys {
                let Some(user) = self.settings.indexes.user_key(&key) else {
                    continue;
                };
                let mut from = "-".to_owned();
                loop {
                    let (members, next) = match self.members(op, &user, &from, BATCH).await {
                        Ok(found) => found,
                        // Not a sorted set: not an index this store wrote.
                        Err(Error::Backend(e)) if e.to_string().contains("WRONGTYPE") => break,
                        Err(e) => return Err(e),
                    };
                    let stale: Vec<StorageKey> = self
                        .classify(&user, &members)
                        .await?
                        .into_iter()
                        .filter_map(|m| match m {
                            Member::Stale(key) => Some(key),
                            _ => None,
                        })
                        .collect();
                    self.prune(op, &user, &stale).await?;
                    match next {
                        Some(next) => from = next,
                        None => break,
                    }
                }
            }
        }
        Ok(())
    }
}
