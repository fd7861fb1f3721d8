//! The client side of a scenario: its fixture and settings, the apps it starts, and the
//! responses it reads (raw `Set-Cookie` headers, parsed the way a browser does).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, COOKIE, SET_COOKIE};
use session_conformance::{CaseResult, Check, CountingStore, Failure, Fixture, Harness};
use session_core::{ManualClock, SessionOptions, SessionStore};
use session_http::{Builder, HttpSessions, SigningKeys};

use crate::{Adapter, Served};

/// The secret the suite's sessions are signed with.
const KEY: [u8; 32] = [7u8; 32];
/// A second secret, for rotation and forgery.
pub(crate) const OTHER_KEY: [u8; 32] = [8u8; 32];

/// How long one request may take before the scenario fails rather than hangs.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// One scenario's store, clock and checks.
pub(crate) struct Test<'a, A> {
    pub(crate) check: Check,
    adapter: &'a A,
    fixture: Fixture,
    clock: ManualClock,
    /// Every server the scenario started, kept up until it ends. A server stopped
    /// right after answering may drop the store connection it was about to hand back
    /// (sqlx returns it to its pool from a task on the server's runtime), and an
    /// in-memory SQLite database lives in that one connection.
    servers: RefCell<Vec<Rc<Served>>>,
}

impl<'a, A: Adapter> Test<'a, A> {
    /// A fresh store from the harness, for the scenario `name`.
    pub(crate) async fn new(name: &'static str, adapter: &'a A, harness: &Harness) -> Test<'a, A> {
        Test {
            check: Check::new(name),
            adapter,
            fixture: harness.fixture().await,
            clock: harness.clock().clone(),
            servers: RefCell::new(Vec::new()),
        }
    }

    /// The store under test.
    pub(crate) fn store(&self) -> Arc<dyn SessionStore> {
        self.fixture.store().clone()
    }

    /// Whether sessions live on the server (everything but a self-sealed cookie store):
    /// only then is there a record to revoke, count or share between two requests.
    pub(crate) fn server_side(&self) -> bool {
        !self.fixture.caps().self_sealed
    }

    /// Whether deleting a session makes its old token dead (a server-side store that
    /// can delete records).
    pub(crate) fn revokes(&self) -> bool {
        let caps = self.fixture.caps();
        caps.revoke && !caps.self_sealed
    }

    /// Whether concurrent writes to one session are merged rather than last-wins.
    pub(crate) fn compare_and_set(&self) -> bool {
        let caps = self.fixture.caps();
        caps.compare_and_set && !caps.self_sealed
    }

    /// Moves the clock the store and the sessions share.
    pub(crate) fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// Default options on the scenario's clock.
    pub(crate) fn options(&self) -> SessionOptions {
        SessionOptions::default().with_clock(self.clock.clock())
    }

    /// A builder over the store, with the suite's key and default options on the
    /// scenario's clock.
    pub(crate) fn builder(&self) -> Builder<HttpSessions> {
        self.builder_over(self.store())
    }

    /// [`Test::builder`] with an idle timeout of an hour, tower-sessions' usual layer.
    pub(crate) fn hour(&self) -> Builder<HttpSessions> {
        let hour = crate::scenarios::idle(Duration::from_secs(3600));
        self.builder().options(self.options().with_expiry(hour))
    }

    /// The store wrapped in a [`CountingStore`], to check what requests cost.
    pub(crate) fn counting(&self) -> Arc<CountingStore<Arc<dyn SessionStore>>> {
        Arc::new(CountingStore::new(self.store()))
    }

    /// A builder like [`Test::builder`] over another store (a wrapper of this one).
    pub(crate) fn builder_over(&self, store: Arc<dyn SessionStore>) -> Builder<HttpSessions> {
        Builder::new(store)
            .keys(keys(&[KEY]))
            .options(self.options())
    }

    /// Keys from the suite's secrets, by name: `[OTHER_KEY, KEY]` is a rotation.
    pub(crate) fn keys(&self, secrets: &[[u8; 32]]) -> SigningKeys {
        keys(secrets)
    }

    /// The suite's signing secret.
    pub(crate) fn key(&self) -> [u8; 32] {
        KEY
    }

    /// Builds `builder` and starts the adapter's server for it.
    pub(crate) async fn serve(&self, builder: Builder<HttpSessions>) -> Result<App, Failure> {
        let sessions = self.check.ok("build the sessions", builder.build())?;
        let served = self
            .adapter
            .serve(sessions)
            .await
            .map_err(|e| self.check.fail("start the adapter's server", "a server", e))?;
        let served = Rc::new(served);
        self.servers.borrow_mut().push(served.clone());
        App::new(self.check, served)
    }

    /// `expected == actual`.
    pub(crate) fn eq<T: PartialEq + std::fmt::Debug>(
        &self,
        step: &str,
        expected: T,
        actual: T,
    ) -> CaseResult {
        self.check.eq(step, expected, actual)
    }

    /// `cond` holds; `expected` describes it.
    pub(crate) fn that(
        &self,
        step: &str,
        cond: bool,
        expected: &str,
        actual: impl std::fmt::Debug,
    ) -> CaseResult {
        self.check.that(step, cond, expected, actual)
    }
}

fn keys(secrets: &[[u8; 32]]) -> SigningKeys {
    match SigningKeys::new(secrets.iter().copied()) {
        Ok(keys) => keys,
        // 32-byte secrets always make keys; an empty list is the suite's own mistake.
        Err(e) => panic!("the suite's signing secrets were refused: {e}"),
    }
}

/// A running app and the clients that talk to it.
pub(crate) struct App {
    check: Check,
    base: String,
    /// Sends only the headers a step gives: raw cookies, raw tokens.
    raw: reqwest::Client,
    /// Keeps cookies like a browser, for flows.
    jar: reqwest::Client,
    _served: Rc<Served>,
}

impl App {
    fn new(check: Check, served: Rc<Served>) -> Result<App, Failure> {
        let client = |jar: bool| {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(REQUEST_TIMEOUT)
                .cookie_store(jar)
                .build()
                .map_err(|e| check.fail("make an HTTP client", "a client", e))
        };
        Ok(App {
            check,
            base: format!("http://{}", served.addr()),
            raw: client(false)?,
            jar: client(true)?,
            _served: served,
        })
    }

    /// `GET path`, with the session cookie pair `cookie` (`name=value`) if given.
    pub(crate) async fn get(&self, path: &str, cookie: Option<&str>) -> Result<Answer, Failure> {
        match cookie {
            Some(c) => self.get_with(path, &[(COOKIE.as_str(), c)]).await,
            None => self.get_with(path, &[]).await,
        }
    }

    /// `GET path` with `headers` (values given as bytes may be any octets).
    pub(crate) async fn get_with(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<Answer, Failure> {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| self.check.fail(path, "a header name", e))?;
            let value = HeaderValue::from_bytes(value.as_bytes())
                .map_err(|e| self.check.fail(path, "a header value", e))?;
            map.append(name, value);
        }
        self.send(&self.raw, path, map).await
    }

    /// `GET path` from the client with a cookie jar, as a browser would send it.
    pub(crate) async fn browse(&self, path: &str) -> Result<Answer, Failure> {
        self.send(&self.jar, path, HeaderMap::new()).await
    }

    async fn send(
        &self,
        client: &reqwest::Client,
        path: &str,
        headers: HeaderMap,
    ) -> Result<Answer, Failure> {
        let step = format!("GET {path}");
        let res = client
            .get(format!("{}{path}", self.base))
            .headers(headers)
            .send()
            .await
            .map_err(|e| self.check.fail(&step, "a response", e))?;
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res
            .text()
            .await
            .map_err(|e| self.check.fail(&step, "a body", e))?;
        Ok(Answer {
            check: self.check,
            step,
            status,
            headers,
            body,
        })
    }
}

/// One response, read raw.
pub(crate) struct Answer {
    check: Check,
    step: String,
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Answer {
    /// Every `Set-Cookie` header, as sent.
    pub(crate) fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect()
    }

    /// The one header `name`, if sent (fails if it was sent more than once).
    pub(crate) fn header(&self, name: &str) -> Result<Option<String>, Failure> {
        let values: Vec<String> = self
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        match values.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one.clone())),
            _ => Err(self.fail(&format!("one `{name}` header"), values)),
        }
    }

    /// The one `Set-Cookie` header, parsed; fails if there is none or more than one.
    pub(crate) fn cookie(&self) -> Result<SetCookie, Failure> {
        match self.set_cookies().as_slice() {
            [one] => SetCookie::parse(one).ok_or_else(|| self.fail("a parseable Set-Cookie", one)),
            other => Err(self.fail("exactly one Set-Cookie", other)),
        }
    }

    /// Fails unless the response sets no cookie.
    pub(crate) fn no_cookie(&self) -> CaseResult {
        let set = self.set_cookies();
        match set.is_empty() {
            true => Ok(()),
            false => Err(self.fail("no Set-Cookie", set)),
        }
    }

    /// Fails unless the response expires the cookie (an empty value, `Max-Age=0`).
    pub(crate) fn removes_cookie(&self) -> Result<SetCookie, Failure> {
        let cookie = self.cookie()?;
        match cookie.removes() {
            true => Ok(cookie),
            false => Err(self.fail("a removal cookie (empty value, Max-Age=0)", &cookie.raw)),
        }
    }

    /// Fails unless the status and body are `status` and `body`.
    pub(crate) fn is(&self, status: u16, body: &str) -> CaseResult {
        match self.status == status && self.body == body {
            true => Ok(()),
            false => Err(self.fail(
                &format!("{status} {body:?}"),
                format!("{} {:?}", self.status, self.body),
            )),
        }
    }

    fn fail(&self, expected: &str, actual: impl std::fmt::Debug) -> Failure {
        let actual = format!("{actual:?} (the response: {} {:?})", self.status, self.body);
        self.check.fail(&self.step, expected, actual)
    }
}

/// One `Set-Cookie` header, split the way a browser reads it.
#[derive(Debug, Clone)]
pub(crate) struct SetCookie {
    pub(crate) raw: String,
    pub(crate) name: String,
    pub(crate) value: String,
    attrs: Vec<(String, String)>,
}

impl SetCookie {
    fn parse(raw: &str) -> Option<SetCookie> {
        let mut parts = raw.split(';');
        let (name, value) = parts.next()?.trim().split_once('=')?;
        let attrs = parts
            .map(|a| {
                let a = a.trim();
                let (k, v) = a.split_once('=').unwrap_or((a, ""));
                (k.to_owned(), v.to_owned())
            })
            .collect();
        Some(SetCookie {
            raw: raw.to_owned(),
            name: name.to_owned(),
            value: value.to_owned(),
            attrs,
        })
    }

    /// `name=value`, to send back.
    pub(crate) fn pair(&self) -> String {
        format!("{}={}", self.name, self.value)
    }

    /// Attribute `name` (`Some("")` for a flag such as `HttpOnly`), matched without
    /// regard to case as browsers do.
    pub(crate) fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether flag or attribute `name` is present.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.attr(name).is_some()
    }

    /// `Max-Age` in seconds (`Some(u64::MAX)` for a value that is not a number, which
    /// no check expects).
    pub(crate) fn max_age(&self) -> Option<u64> {
        self.attr("Max-Age").map(|v| v.parse().unwrap_or(u64::MAX))
    }

    /// Whether this expires the client's cookie.
    pub(crate) fn removes(&self) -> bool {
        self.value.is_empty() && self.max_age() == Some(0)
    }
}

impl<A: Adapter> Test<'_, A> {
    /// `Max-Age` of a cookie, failing on `Expires` next to it: a live cookie never
    /// carries both (they would disagree under clock skew); only a removal cookie does,
    /// dated in the past, for browsers that ignore `Max-Age=0`.
    pub(crate) fn max_age(&self, step: &str, cookie: &SetCookie) -> Result<Option<u64>, Failure> {
        if !cookie.removes() && cookie.has("Expires") {
            return Err(self
                .check
                .fail(step, "no Expires on a live cookie", &cookie.raw));
        }
        Ok(cookie.max_age())
    }

    /// The cookie's `Max-Age` is `expected` (`None`: a browser-session cookie).
    pub(crate) fn max_age_is(
        &self,
        step: &str,
        expected: Option<u64>,
        cookie: &SetCookie,
    ) -> CaseResult {
        let actual = self.max_age(step, cookie)?;
        self.check.that(
            step,
            actual == expected,
            &format!("Max-Age {expected:?}"),
            &cookie.raw,
        )
    }

    /// The cookie has attribute `name` with `value` (`Some("")` for a flag), or lacks
    /// it (`None`).
    pub(crate) fn attr_is(
        &self,
        step: &str,
        name: &str,
        value: Option<&str>,
        cookie: &SetCookie,
    ) -> CaseResult {
        let expected = match value {
            Some("") => format!("the {name} flag"),
            Some(v) => format!("{name}={v}"),
            None => format!("no {name}"),
        };
        self.check
            .that(step, cookie.attr(name) == value, &expected, &cookie.raw)
    }
}
