//! Serving the demo for the tests, one way each: the app in this process on a free
//! port ([`serve`]), the binary in its own process ([`demo_command`], [`start`]), and
//! requests over a raw socket ([`raw`]) for what no HTTP client sends. Each way serves
//! on one [`Framework`]; [`per_framework!`] makes a test run on each of them.

#![allow(dead_code, unused_macros, clippy::unwrap_used, clippy::expect_used)] // test code; each binary uses part

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::cookie::{CookieStore as _, Jar};
use session_any::SessionConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The configuration the in-process tests serve `url` with: plain-HTTP cookies (the
/// tests talk to 127.0.0.1) and `secret` as the signing key.
pub fn test_config(url: &str, secret: &str) -> SessionConfig {
    let mut config = SessionConfig::for_url(url);
    config.cookie.secure = false;
    config.secrets = vec![secret.into()];
    config
}

/// A web framework the demo runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framework {
    /// axum, through session-tower's `SessionLayer`.
    Axum,
    /// actix-web, through session-actix's `SessionMiddleware`.
    Actix,
}

/// Turns each named `async fn NAME(framework: Framework)` into one test per framework,
/// `axum::NAME` and `actix::NAME`, each under the test attributes written before its
/// name:
///
/// ```ignore
/// common::per_framework! {
///     #[tokio::test] counter_counts,
///     #[tokio::test(flavor = "multi_thread")] #[ignore = "why"] slow_one,
/// }
/// ```
macro_rules! per_framework {
    ($($(#[$attr:meta])* $name:ident),* $(,)?) => {
        $crate::common::per_framework!(@module axum Axum $($(#[$attr])* $name),*);
        $crate::common::per_framework!(@module actix Actix $($(#[$attr])* $name),*);
    };
    (@module $module:ident $framework:ident $($(#[$attr:meta])* $name:ident),*) => {
        mod $module {
            $(
                $(#[$attr])*
                async fn $name() {
                    super::$name($crate::common::Framework::$framework).await
                }
            )*
        }
    };
}
#[allow(unused_imports)] // not every test binary runs tests per framework
pub(crate) use per_framework;

/// Serves the demo app for `url` (see [`test_config`]) on `framework` in this process,
/// on a free loopback port, until the test's runtime ends.
pub async fn serve(url: &str, secret: &str, framework: Framework) -> SocketAddr {
    serve_config(test_config(url, secret), framework).await
}

/// Serves the demo app with `config` on `framework` in this process, on a free
/// loopback port.
pub async fn serve_config(config: SessionConfig, framework: Framework) -> SocketAddr {
    match framework {
        Framework::Axum => {
            let layer = config.layer().await.unwrap();
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move {
                axum::serve(listener, session_demo::app(layer))
                    .await
                    .unwrap()
            });
            addr
        }
        Framework::Actix => {
            let middleware =
                session_actix::SessionMiddleware::from(config.sessions().await.unwrap());
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            // Spawned on the test's runtime: when the test ends, dropping the server
            // stops its worker, and with it the store's connections.
            let server = actix_web::HttpServer::new(move || {
                session_demo::actix_app::app(middleware.clone())
            })
            .workers(1)
            .disable_signals()
            .listen(listener)
            .unwrap()
            .run();
            tokio::spawn(server);
            addr
        }
    }
}

impl Framework {
    /// Its name as the binary's `--framework` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Framework::Axum => "axum",
            Framework::Actix => "actix",
        }
    }
}

/// The demo binary on `framework` on a free port, with `SESSION_URL=url`, INFO logs,
/// and none of the session environment inherited (the caller adds what its test needs).
pub fn demo_command(url: &str, framework: Framework) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_session-demo"));
    cmd.args(["--addr", "127.0.0.1:0", "--framework", framework.name()]);
    for var in [
        "SESSION_URL",
        "SESSION_CACHE_URL",
        "SESSION_SECRET",
        "SESSION_COOKIE_SECRET",
        "SESSION_COOKIE_NAME",
        "SESSION_COOKIE_SECURE",
        "DEMO_ADDR",
        "DEMO_FRAMEWORK",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("SESSION_URL", url).env("RUST_LOG", "info");
    cmd
}

/// A running demo binary: its address and everything it printed until it said so.
/// Killed when dropped.
pub struct Running {
    child: Child,
    /// Where it serves.
    pub addr: SocketAddr,
    printed: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    /// What the demo printed to stdout until it said where it serves.
    pub fn printed(&self) -> &str {
        &self.printed
    }

    /// Stops the demo and returns all it printed: stdout (and stderr, if the command
    /// piped it).
    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut rest = String::new();
        if let Some(mut err) = self.child.stderr.take() {
            let _ = err.read_to_string(&mut rest);
        }
        format!("{}{rest}", self.printed)
    }

    /// Panics if the process has exited (an abort, a panic that took it down).
    pub fn assert_alive(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!("the demo exited: {status}");
        }
    }
}

/// Starts `cmd` (stdout is piped here; stderr is as the caller set it) and waits for
/// its "serving on http://ADDR" log line (tracing writes to stdout), panicking with
/// what it printed if it exits or takes more than a minute. Stdout is drained for the
/// demo's whole life, so it never blocks on a full pipe.
pub fn start(mut cmd: Command) -> Running {
    let mut child = cmd.stdout(Stdio::piped()).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut printed = String::new();
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => {
                printed.push_str(&line);
                printed.push('\n');
                if let Some((_, addr)) = line.split_once("serving on http://") {
                    let addr = addr.trim().parse().unwrap();
                    return Running {
                        child,
                        addr,
                        printed,
                    };
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                let out = child.wait_with_output().unwrap();
                panic!(
                    "the demo exited ({}) before serving:\n{printed}{}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the demo did not start within a minute:\n{printed}");
        }
    }
}

/// A response read off a raw socket.
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Every `Set-Cookie` header, in order.
    pub set_cookies: Vec<String>,
    /// Every header, names in lower case, in order.
    pub headers: Vec<(String, String)>,
    /// The body as text.
    pub body: String,
}

impl Reply {
    /// The first value of header `name` (lower case), if there is one.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `session=…` value this response set, if it set one (not a removal).
    pub fn session_cookie(&self) -> Option<String> {
        self.set_cookies
            .iter()
            .filter_map(|c| c.split(';').next())
            .filter_map(|kv| kv.strip_prefix("session="))
            .find(|v| !v.is_empty())
            .map(str::to_owned)
    }
}

/// One request over a fresh connection: `head` is the request line and headers
/// (without the final blank line), sent byte for byte, then `Host`, `Connection:
/// close`, a `Content-Length` when there is a body, and the body. The answer must
/// come `within`. Write errors are ignored: the server may answer (a 413, a 431) and
/// close before it has read everything.
pub async fn raw(addr: SocketAddr, head: &[u8], body: &[u8], within: Duration) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = head.to_vec();
    req.extend_from_slice(b"\r\nHost: demo\r\nConnection: close\r\n");
    if !body.is_empty() {
        req.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    req.extend_from_slice(b"\r\n");
    req.extend_from_slice(body);
    let _ = stream.write_all(&req).await;
    let mut out = Vec::new();
    tokio::time::timeout(within, stream.read_to_end(&mut out))
        .await
        .unwrap_or_else(|_| panic!("the server answered within {within:?}"))
        .ok();
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?} (did the server die?)"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let set_cookies = headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .map(|(_, v)| v.clone())
        .collect();
    Reply {
        status,
        set_cookies,
        headers,
        body: body.to_owned(),
    }
}

/// Serves the demo for `url` on `framework` with fixed signing and sealing secrets (any
/// backend, `cookie://` included).
pub async fn serve_sealed(url: &str, framework: Framework) -> SocketAddr {
    serve_sealed_cached(url, None, framework).await
}

/// [`serve_sealed`], with the store behind the cache `cache` names if given
/// (session-any's `cache`: `local://…`, or a shared `redis://…`).
pub async fn serve_sealed_cached(
    url: &str,
    cache: Option<&str>,
    framework: Framework,
) -> SocketAddr {
    let mut config = test_config(url, "demo-test-secret-demo-test-secret-0123");
    config.cookie_secrets = vec!["demo-test-sealing-secret-0123456789abcdef".into()];
    config.cache = cache.map(str::to_owned);
    serve_config(config, framework).await
}

/// A browser: one client with its own cookie jar, following redirects.
pub struct Browser {
    base: String,
    jar: Arc<Jar>,
    client: reqwest::Client,
}

impl Browser {
    /// A browser with an empty jar, for the demo at `addr`.
    pub fn new(addr: SocketAddr) -> Self {
        Self::build(addr, None)
    }

    /// A browser with an empty jar that sends `agent` as its `User-Agent`.
    pub fn with_agent(addr: SocketAddr, agent: &str) -> Self {
        Self::build(addr, Some(agent))
    }

    fn build(addr: SocketAddr, agent: Option<&str>) -> Self {
        let jar = Arc::new(Jar::default());
        let mut client = reqwest::Client::builder().cookie_provider(jar.clone());
        if let Some(agent) = agent {
            client = client.user_agent(agent);
        }
        let client = client.build().unwrap();
        Browser {
            base: format!("http://{addr}"),
            jar,
            client,
        }
    }

    /// GETs `path` (following redirects), asserts a 2xx and returns the body.
    pub async fn get(&self, path: &str) -> String {
        let (status, body) = self.get_status(path).await;
        assert!((200..300).contains(&status), "{path}: {status}");
        body
    }

    /// GETs `path` (following redirects) and returns the final status and body.
    pub async fn get_status(&self, path: &str) -> (u16, String) {
        let res = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    }

    /// The `Cookie` header the jar would send.
    pub fn cookie(&self) -> Option<String> {
        let url = self.base.parse().unwrap();
        self.jar
            .cookies(&url)
            .map(|v| v.to_str().unwrap().to_owned())
    }
}
