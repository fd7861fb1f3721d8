//! Walking every key of a store with `SCAN` (never `KEYS`, which blocks the server):
//! one cursor on a standalone server, one cursor per primary on a cluster.

use redis::{FromRedisValue, RedisResult, Value};
use session_core::{BackendError, BackendErrorKind, Error, Operation, Result};

use crate::cluster;
use crate::connection::{timed, Connection};
use crate::keys::KeySpace;

/// A `SCAN` in progress over the store's prefix.
pub(crate) struct KeyScan {
    /// `None` for the standalone server, else one slot per primary to route by.
    targets: Vec<Option<u16>>,
    at: usize,
    cursor: u64,
}

/// What a scan needs from the store.
pub(crate) struct ScanContext<'a> {
    pub(crate) conn: &'a Connection,
    pub(crate) keys: &'a KeySpace,
    pub(crate) timeout: std::time::Duration,
    pub(crate) count: usize,
}

impl KeyScan {
    pub(crate) async fn start(cx: &ScanContext<'_>) -> Result<Self> {
        let mut targets = match cx.conn {
            Connection::Standalone(_) => vec![None],
            Connection::Cluster(c) => cluster::one_slot_per_primary(&mut c.clone(), cx.timeout)
                .await?
                .into_iter()
                .map(Some)
                .collect(),
        };
        // In slot order, so a walk resumed from a cursor visits the primaries in the
        // same order whatever their addresses.
        targets.sort_unstable();
        Ok(KeyScan {
            targets,
            at: 0,
            cursor: 0,
        })
    }

    /// Resumes a walk where [`KeyScan::position`] said it stood. On a cluster the
    /// primaries are looked up again; if the one owning `slot` is no longer a walk
    /// target (the slots moved), the walk cannot go on.
    pub(crate) async fn resume(cx: &ScanContext<'_>, (slot, cursor): (u16, u64)) -> Result<Self> {
        let mut scan = Self::start(cx).await?;
        scan.at = match cx.conn {
            Connection::Standalone(_) => 0,
            Connection::Cluster(_) => scan
                .targets
                .iter()
                .position(|t| *t == Some(slot))
                .ok_or_else(|| {
                    Error::from(
                        BackendError::new(
                            BackendErrorKind::Other,
                            "the cluster's slots moved during the scan; start it again",
                        )
                        .with_store(crate::connection::STORE)
                        .with_operation(Operation::Scan),
                    )
                })?,
        };
        scan.cursor = cursor;
        Ok(scan)
    }

    /// Where the walk stands, as (first slot of the current primary, or 0 on a
    /// standalone server; `SCAN` cursor on it); `None` once every node is walked.
    pub(crate) fn position(&self) -> Option<(u16, u64)> {
        let target = self.targets.get(self.at)?;
        Some((target.unwrap_or(0), self.cursor))
    }

    /// The next non-empty batch of this store's keys, or `None` when every node has been
    /// walked. Each `SCAN` call is one round trip under the store's timeout. A key that
    /// exists for the whole walk is returned at least once; keys added or removed during
    /// it may or may not be (the `SCAN` guarantee).
    pub(crate) async fn next(&mut self, cx: &ScanContext<'_>) -> Result<Option<Vec<Vec<u8>>>> {
        while let Some(target) = self.targets.get(self.at).copied() {
            let mut cmd = redis::cmd("SCAN");
            cmd.arg(self.cursor)
                .arg("MATCH")
                .arg(cx.keys.pattern())
                .arg("COUNT")
                .arg(cx.count);
            let (cursor, found): (u64, Vec<Vec<u8>>) = match (target, cx.conn) {
                (Some(slot), Connection::Cluster(c)) => {
                    let mut c = c.clone();
                    timed(Operation::Scan, cx.timeout, async move {
                        let reply = c.route_command(cmd, cluster::primary_of(slot)).await?;
                        Ok(FromRedisValue::from_redis_value(reply.extract_error()?)?)
                    })
                    .await?
                }
                _ => {
                    let mut c = cx.conn.clone();
                    timed(Operation::Scan, cx.timeout, async move {
                        cmd.query_async(&mut c).await
                    })
                    .await?
                }
            };
            self.cursor = cursor;
            if cursor == 0 {
                self.at += 1;
            }
            let mine: Vec<Vec<u8>> = found.into_iter().filter(|k| cx.keys.owns(k)).collect();
            if !mine.is_empty() {
                return Ok(Some(mine));
            }
        }
        Ok(None)
    }
}

/// Replies for one single-key command per key, in key order: one pipeline on a
/// standalone server; on a cluster, concurrent commands that redis-rs routes (and
/// redirects) per key, since a cluster pipeline must stay within one slot.
///
/// `None` for a key of another type (`WRONGTYPE`): whatever it is, it is not a session
/// record, and it must not fail a walk over every other key.
pub(crate) async fn per_key(
    operation: Operation,
    cx: &ScanContext<'_>,
    keys: &[Vec<u8>],
    command: impl Fn(&[u8]) -> redis::Cmd,
) -> Result<Vec<Option<Value>>> {
    use futures::{StreamExt, TryStreamExt};

    /// Commands in flight at once on a cluster.
    const CLUSTER_FANOUT: usize = 64;

    fn per_key_reply(reply: RedisResult<Value>) -> RedisResult<Option<Value>> {
        match reply {
            Ok(value) => Ok(Some(value)),
            Err(e) if e.code() == Some("WRONGTYPE") => Ok(None),
            Err(e) => Err(e),
        }
    }

    if keys.is_empty() {
        // An empty pipeline is a client error, not an empty answer.
        return Ok(Vec::new());
    }
    match cx.conn {
        Connection::Standalone(_) => {
            let mut pipe = redis::pipe();
            pipe.ignore_errors();
            for key in keys {
                pipe.add_command(command(key));
            }
            let mut c = cx.conn.clone();
            timed(operation, cx.timeout, async move {
                let replies: Vec<RedisResult<Value>> = pipe.query_async(&mut c).await?;
                replies.into_iter().map(per_key_reply).collect()
            })
            .await
        }
        Connection::Cluster(_) => {
            let commands: Vec<redis::Cmd> = keys.iter().map(|k| command(k)).collect();
            let conn = cx.conn.clone();
            let all = futures::stream::iter(commands)
                .map(move |cmd| {
                    let mut c = conn.clone();
                    async move { per_key_reply(cmd.query_async::<Value>(&mut c).await) }
                })
                .buffered(CLUSTER_FANOUT)
                .try_collect::<Vec<Option<Value>>>();
            timed(operation, cx.timeout, all).await
        }
    }
}
