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

use crate::driver::{Item, Raw, Target};
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
    })
}
