//! `MemcacheStore` next to raw meta-protocol commands of the same client kind (its own
//! `memcache::exp::AsyncMetaClient`), on the envelope bytes the store writes, under
//! twin keys:
//!
//! - create: `ms key T<exptime> ME` (add);
//! - load: `mg key v`;
//! - save: `ms key T<exptime>` (no compare-and-swap: the store's save must check the
//!   version, which a plain set cannot);
//! - touch: `mg key T<exptime>` without the value (the store's touch rewrites the
//!   envelope's times under compare-and-swap);
//! - delete: `md key`.
//!
//! The rows also carry the commands our store sent per operation, by memcached's own
//! counters (`stats`), read around our rounds: issue 21's "touch in one round trip".
//!
//! Without `--memcache URL` the benchmark starts a private memcached on a free loopback
//! port and stops it at the end; with one, its keys (under a per-run prefix) expire
//! by themselves within ten minutes.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use session_memcache::memcache::exp::{AsyncMetaClient, GetStatus, MetaClient, MutationStatus};
use session_memcache::{MemcacheOptions, MemcacheStore};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::driver::{CommandCount, Item, Raw, Target};
use crate::measure::{Op, TaskResult, TTL};
use crate::BoxResult;

/// Generous: a benchmark should report slowness, not fail on it.
const TIMEOUT: Duration = Duration::from_secs(5);

/// A memcached started for this run, stopped when dropped.
pub struct PrivateServer {
    child: Child,
    /// `127.0.0.1:port`.
    pub addr: String,
}

impl PrivateServer {
    /// Starts `memcached -m 1024` on a free loopback port and waits until it answers.
    pub fn start() -> BoxResult<Self> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = crate::pin::server_command("memcached")
            .args(["-l", "127.0.0.1", "-p", &port.to_string(), "-U", "0"])
            .args(["-m", "1024", "-c", "4096", "-u", "root"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start memcached ({e}): install it (apt-get install memcached, or \
                     session-memcache/ci-services.sh) or pass --memcache memcache://host:port"
                )
            })?;
        let mut server = PrivateServer {
            child,
            addr: format!("127.0.0.1:{port}"),
        };
        let started = Instant::now();
        loop {
            if let Some(status) = server.child.try_wait()? {
                return Err(format!("memcached exited at start: {status}").into());
            }
            let answered = MetaClient::connect(server.addr.as_str())
                .and_then(|c| c.noop())
                .is_ok();
            if answered {
                return Ok(server);
            }
            if started.elapsed() > Duration::from_secs(10) {
                return Err("memcached did not answer within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `memcached -V`.
pub fn binary_version() -> String {
    Command::new("memcached")
        .arg("-V")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "memcached (version unknown)".to_owned())
}

/// The servers to use: those of `url`, or a private one (kept alive by the returned
/// guard).
pub async fn servers(url: Option<&str>) -> BoxResult<(Option<PrivateServer>, Vec<String>)> {
    Ok(match url {
        Some(url) => (None, MemcacheOptions::from_url(url)?.servers().to_vec()),
        None => {
            let server =
                tokio::task::spawn_blocking(|| PrivateServer::start().map_err(|e| e.to_string()))
                    .await??;
            let addr = server.addr.clone();
            (Some(server), vec![addr])
        }
    })
}

struct MemcacheRaw {
    meta: AsyncMetaClient,
    prefix: String,
}

fn exptime() -> u32 {
    TTL.as_secs() as u32
}

#[async_trait]
impl Raw for MemcacheRaw {
    fn label(&self, op: Op) -> Option<String> {
        Some(
            match op {
                Op::Create => "ms ME (add)",
                Op::Load => "mg v",
                Op::Save => "ms",
                Op::Touch => "mg T (touch, no value)",
                Op::Delete => "md",
            }
            .to_owned(),
        )
    }

    async fn create(&self, item: &Item) -> TaskResult<String> {
        let key = format!("{}{}", self.prefix, item.key);
        let r = self
            .meta
            .set(&key, item.bytes.as_slice())
            .ttl_raw(exptime())
            .add()
            .send()
            .await
            .map_err(|e| e.to_string())?;
        match r.status {
            MutationStatus::Applied => Ok(key),
            other => Err(format!("a fresh key was taken: {other:?}")),
        }
    }

    async fn load(&self, handle: &str) -> TaskResult<()> {
        let r = self
            .meta
            .get(handle)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if r.status != GetStatus::Hit {
            return Err("a key went missing".into());
        }
        std::hint::black_box(r.value);
        Ok(())
    }

    async fn save(&self, handle: &str, item: &Item) -> TaskResult<()> {
        let r = self
            .meta
            .set(handle, item.bytes.as_slice())
            .ttl_raw(exptime())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        match r.status {
            MutationStatus::Applied => Ok(()),
            other => Err(format!("raw set answered {other:?}")),
        }
    }

    async fn touch(&self, handle: &str, _item: &Item) -> TaskResult<()> {
        let r = self
            .meta
            .get(handle)
            .touch_raw(exptime())
            .without_value()
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if r.status != GetStatus::Hit {
            return Err("a key went missing".into());
        }
        Ok(())
    }

    async fn delete(&self, handle: &str) -> TaskResult<()> {
        self.meta
            .delete(handle)
            .send()
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }
}

/// The memcached target on `servers`.
pub async fn target(servers: &[String]) -> BoxResult<Target> {
    let prefix = format!("bench:{}:", std::process::id());
    let options = MemcacheOptions::new(servers)?
        .with_prefix(prefix.clone())?
        .with_timeout(TIMEOUT);
    let store = MemcacheStore::connect(options).await?;
    let meta = AsyncMetaClient::builder()
        .io_timeout(Some(TIMEOUT))
        .connect_timeout(Some(TIMEOUT))
        .max_idle(64)
        .connect_multiple_async(servers.iter().map(String::as_str))
        .await?;
    Ok(Target {
        backend: "memcache".into(),
        what: "MemcacheStore".into(),
        store: Arc::new(store),
        raw: Some(Arc::new(MemcacheRaw {
            meta,
            prefix: format!("{prefix}raw:"),
        })),
        raw_async: None,
        cleanup: None,
        commands: Some(Arc::new(Stats {
            servers: servers.to_vec(),
        })),
    })
}

/// The counters of memcached's `stats` that a store's command adds to: `mg` counts in
/// `cmd_get`, `ms` in `cmd_set`, `md` in `delete_hits` or `delete_misses`, and the
/// classic `touch` and `gat` in `cmd_touch`.
const COMMAND_COUNTERS: [&str; 5] = [
    "cmd_get",
    "cmd_set",
    "cmd_touch",
    "delete_hits",
    "delete_misses",
];

/// Every command the servers have served, summed over [`COMMAND_COUNTERS`]: what the
/// driver reads around our store's rounds. Our store sends one command per round
/// trip and does not pipeline, so commands per operation are its round trips.
struct Stats {
    servers: Vec<String>,
}

#[async_trait]
impl CommandCount for Stats {
    async fn commands(&self) -> BoxResult<u64> {
        let mut total = 0;
        for server in &self.servers {
            total += tokio::time::timeout(TIMEOUT, server_commands(server))
                .await
                .map_err(|_| format!("memcached {server}: no answer to stats"))??;
        }
        Ok(total)
    }
}

/// [`COMMAND_COUNTERS`] of one server, from `stats`.
async fn server_commands(server: &str) -> BoxResult<u64> {
    let mut conn = tokio::net::TcpStream::connect(server).await?;
    conn.write_all(b"stats\r\n").await?;
    let mut lines = BufReader::new(conn).lines();
    let mut reply = Vec::new();
    while let Some(line) = lines.next_line().await? {
        if line == "END" {
            break;
        }
        reply.push(line);
    }
    sum_commands(reply.iter().map(String::as_str))
        .map_err(|e| format!("memcached {server}: {e}").into())
}

/// The sum of [`COMMAND_COUNTERS`] in the lines of a `stats` reply (`STAT name value`);
/// an error if one is missing or not a number.
fn sum_commands<'a>(lines: impl IntoIterator<Item = &'a str>) -> Result<u64, String> {
    let mut total = 0;
    let mut found = 0;
    for line in lines {
        let mut words = line.split_whitespace();
        if let (Some("STAT"), Some(name), Some(value)) = (words.next(), words.next(), words.next())
        {
            if COMMAND_COUNTERS.contains(&name) {
                total += value
                    .parse::<u64>()
                    .map_err(|e| format!("stat {name} {value:?}: {e}"))?;
                found += 1;
            }
        }
    }
    if found != COMMAND_COUNTERS.len() {
        return Err(format!("stats lacks some of {COMMAND_COUNTERS:?}"));
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_the_sum_of_the_command_counters() {
        let reply = [
            "STAT pid 7",
            "STAT cmd_get 10",
            "STAT cmd_set 5",
            "STAT cmd_flush 100",
            "STAT cmd_touch 2",
            "STAT get_hits 9",
            "STAT delete_misses 1",
            "STAT delete_hits 3",
        ];
        assert_eq!(sum_commands(reply), Ok(21));
    }

    #[test]
    fn a_missing_or_garbled_counter_is_an_error() {
        assert!(sum_commands(["STAT cmd_get 10", "STAT cmd_set 5"]).is_err());
        let garbled = [
            "STAT cmd_get ten",
            "STAT cmd_set 5",
            "STAT cmd_touch 2",
            "STAT delete_misses 1",
            "STAT delete_hits 3",
        ];
        assert!(sum_commands(garbled).is_err());
    }
}
