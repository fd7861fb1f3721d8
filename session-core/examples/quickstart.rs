//! Three requests against the in-memory store, the way an HTTP layer drives a session:
//! log in, count visits, log out, then replay the old cookie.
//!
//! `cargo run -p session-core --example quickstart`

use std::sync::Arc;

use session_core::{
    CookieChange, MemoryStore, Session, SessionDriver, SessionOptions, SessionStore,
};

/// What a browser would hold.
#[derive(Default)]
struct Jar(Option<String>);

impl Jar {
    fn apply(&mut self, change: CookieChange) {
        match change {
            CookieChange::Set(v) => self.0 = Some(v),
            CookieChange::Remove => self.0 = None,
            CookieChange::Unchanged => {}
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), session_core::Error> {
    let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
    let options = Arc::new(SessionOptions::default());
    let mut jar = Jar::default();

    // GET /login: the adapter keeps the driver, the handler gets the session.
    let driver = SessionDriver::new(store.clone(), options.clone(), jar.0.clone());
    login(driver.session()).await?;
    jar.apply(driver.finish().await?.cookie);
    println!(
        "logged in; cookie holds a {}-character id",
        jar.0.as_deref().map_or(0, str::len)
    );

    // GET /counter, three times
    for _ in 0..3 {
        let driver = SessionDriver::new(store.clone(), options.clone(), jar.0.clone());
        let n = driver
            .update("counter", |n: Option<u64>| n.unwrap_or(0) + 1)
            .await?;
        jar.apply(driver.finish().await?.cookie);
        println!("counter = {n}");
    }

    // GET /logout, keeping a copy of the cookie as an attacker would
    let stolen = jar.0.clone();
    let driver = SessionDriver::new(store.clone(), options.clone(), jar.0.clone());
    driver.delete().await?;
    jar.apply(driver.finish().await?.cookie);
    println!("logged out; browser cookie: {:?}", jar.0);

    // Replaying the old cookie finds nothing.
    let session = SessionDriver::new(store.clone(), options, stolen).session();
    let logged_in = session.get::<bool>("logged_in").await?.unwrap_or(false);
    println!("replayed old cookie: logged_in = {logged_in}");
    println!("sessions in the store: {}", store.count().await?);
    Ok(())
}

/// A handler: it reads and writes the session, but cannot end the request.
async fn login(session: Session) -> Result<(), session_core::Error> {
    session.insert("logged_in", true).await?;
    session.cycle_id().await;
    Ok(())
}
