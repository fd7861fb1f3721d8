//! The dict-like side of the handle: typed reads and writes of the session's keys.
//!
//! Every method here may read the store (the first one a request calls loads the
//! session), so each returns `Result`; none writes to the store (that happens when the
//! request ends, or at [`Session::persist`]).

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::change::{Change, UpdateFn};
use super::{value_error, Session};
use crate::Result;

fn to_value<T: Serialize>(key: &str, value: T) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| value_error(key, e))
}

fn from_value<T: DeserializeOwned>(key: &str, value: &Value) -> Result<T> {
    T::deserialize(value).map_err(|e| value_error(key, e))
}

impl Session {
    /// The value under `key`, converted to `T`; `None` if there is none. A value that
    /// does not convert is [`Error::Value`](crate::Error::Value).
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        let st = self.loaded().await?;
        st.data.get(key).map(|v| from_value(key, v)).transpose()
    }

    /// The value under `key`, or `default` when there is none (Python's
    /// `dict.get(key, default)`). Writes nothing.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use session_core::{MemoryStore, SessionDriver, SessionOptions};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// # let driver = SessionDriver::new(Arc::new(MemoryStore::new()), Arc::new(SessionOptions::default()), None);
    /// # let session = driver.session();
    /// assert_eq!(session.get_or("theme", "light".to_string()).await?, "light");
    /// assert_eq!(session.get_or_default::<u32>("visits").await?, 0);
    /// assert!(!session.is_modified().await);
    /// # Ok::<(), session_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn get_or<T: DeserializeOwned>(&self, key: &str, default: T) -> Result<T> {
        Ok(self.get(key).await?.unwrap_or(default))
    }

    /// The value under `key`, or `T::default()` when there is none. Writes nothing.
    pub async fn get_or_default<T: DeserializeOwned + Default>(&self, key: &str) -> Result<T> {
        Ok(self.get(key).await?.unwrap_or_default())
    }

    /// The raw value under `key`.
    pub async fn get_value(&self, key: &str) -> Result<Option<Value>> {
        Ok(self.loaded().await?.data.get(key).cloned())
    }

    /// The value under `key`; when there is none, `make()`'s value, which is stored
    /// (Python's `setdefault`). A key already present is left as it is and nothing is
    /// written; `make` is then not called.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use session_core::{MemoryStore, SessionDriver, SessionOptions};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// # let driver = SessionDriver::new(Arc::new(MemoryStore::new()), Arc::new(SessionOptions::default()), None);
    /// # let session = driver.session();
    /// let cart: Vec<u32> = session.get_or_insert_with("cart", Vec::new).await?;
    /// assert!(cart.is_empty());
    /// assert!(session.is_modified().await); // the empty cart is stored
    ///
    /// session.insert("cart", vec![7]).await?;
    /// let cart: Vec<u32> = session.get_or_insert_with("cart", Vec::new).await?;
    /// assert_eq!(cart, [7]); // present: kept
    /// # Ok::<(), session_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn get_or_insert_with<T, F>(&self, key: &str, make: F) -> Result<T>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> T,
    {
        let mut st = self.loaded().await?;
        if let Some(present) = st.data.get(key) {
            return from_value(key, present);
        }
        let value = make();
        st.set_key(key, to_value(key, &value)?);
        Ok(value)
    }

    /// Stores `value` under `key`. Storing the value already there changes nothing.
    pub async fn insert<T: Serialize>(&self, key: &str, value: T) -> Result<()> {
        let value = to_value(key, value)?;
        self.loaded().await?.set_key(key, value);
        Ok(())
    }

    /// Stores every pair (Python's `dict.update`). All values are converted first: if
    /// one does not convert, the error names its key and nothing is stored.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use session_core::{MemoryStore, SessionDriver, SessionOptions};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// # let driver = SessionDriver::new(Arc::new(MemoryStore::new()), Arc::new(SessionOptions::default()), None);
    /// # let session = driver.session();
    /// session.extend([("user", "ada"), ("theme", "dark")]).await?;
    /// assert_eq!(session.keys().await?, ["theme", "user"]);
    /// # Ok::<(), session_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn extend<K, V, I>(&self, pairs: I) -> Result<()>
    where
        K: Into<String>,
        V: Serialize,
        I: IntoIterator<Item = (K, V)>,
    {
        let converted = pairs
            .into_iter()
            .map(|(k, v)| {
                let k = k.into();
                to_value(&k, v).map(|v| (k, v))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut st = self.loaded().await?;
        for (key, value) in converted {
            st.set_key(&key, value);
        }
        Ok(())
    }

    /// Removes `key`, returning its value converted to `T` (tower-sessions' `remove`,
    /// Python's `dict.pop`). A value that does not convert is
    /// [`Error::Value`](crate::Error::Value) and is *not* removed.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use session_core::{MemoryStore, SessionDriver, SessionOptions};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// # let driver = SessionDriver::new(Arc::new(MemoryStore::new()), Arc::new(SessionOptions::default()), None);
    /// # let session = driver.session();
    /// session.insert("next", "/account").await?;
    /// assert_eq!(session.remove::<String>("next").await?.as_deref(), Some("/account"));
    /// assert_eq!(session.remove::<String>("next").await?, None);
    /// # Ok::<(), session_core::Error>(())
    /// # }).unwrap();
    /// ```
    #[doc(alias = "pop")]
    pub async fn remove<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        let mut st = self.loaded().await?;
        let Some(value) = st.data.get(key) else {
            return Ok(None);
        };
        let typed = from_value(key, value)?;
        st.remove_key(key);
        Ok(Some(typed))
    }

    /// [`remove`](Self::remove) under the name Rust gives it on `Option` and `Cell`:
    /// the value leaves the session and comes back typed.
    pub async fn take<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        self.remove(key).await
    }

    /// Removes `key`, returning its raw value.
    pub async fn remove_value(&self, key: &str) -> Result<Option<Value>> {
        Ok(self.loaded().await?.remove_key(key))
    }

    /// Read-modify-write of one key: `f` gets the current value (or `None`) and returns
    /// the new one, which is also returned.
    ///
    /// Unlike `get` followed by `insert`, if another request saved the session in
    /// between, `f` is re-run on that request's value when this one is saved, so
    /// concurrent increments all count.
    ///
    /// When `f` returns the value already stored, nothing changes and nothing is
    /// written:
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use session_core::{MemoryStore, SessionDriver, SessionOptions};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// # let store = Arc::new(MemoryStore::new());
    /// # let driver = SessionDriver::new(store, Arc::new(SessionOptions::default()), None);
    /// # let session = driver.session();
    /// session.insert("theme", "dark").await?;
    /// session.persist().await?;
    ///
    /// let theme = session
    ///     .update("theme", |t: Option<String>| t.unwrap_or_else(|| "light".into()))
    ///     .await?;
    /// assert_eq!(theme, "dark");
    /// assert!(!session.is_modified().await); // the stored value stays: nothing to write
    /// # Ok::<(), session_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn update<T, F>(&self, key: &str, f: F) -> Result<T>
    where
        T: Serialize + DeserializeOwned,
        F: Fn(Option<T>) -> T + Send + Sync + 'static,
    {
        let owned_key = key.to_owned();
        let step: Arc<UpdateFn> = Arc::new(move |old: Option<&Value>| {
            let old = old.map(|v| from_value(&owned_key, v)).transpose()?;
            to_value(&owned_key, f(old))
        });
        let mut st = self.loaded().await?;
        let new_value = step(st.data.get(key))?;
        let typed = from_value(key, &new_value)?;
        if st.data.get(key) == Some(&new_value) && !st.changes.contains_key(key) {
            // A fixed point of `f`: nothing to write, and nothing to replay over a
            // concurrent writer's value either.
            return Ok(typed);
        }
        st.remember(key);
        let change = match st.changes.remove(key) {
            Some(earlier) => earlier.then_update(step, &new_value),
            None => Change::Update(step),
        };
        st.data.insert(key.to_owned(), new_value);
        st.record_change(key, change);
        Ok(typed)
    }

    /// Whether `key` has a value.
    pub async fn contains_key(&self, key: &str) -> Result<bool> {
        Ok(self.loaded().await?.data.contains_key(key))
    }

    /// All keys, in order.
    pub async fn keys(&self) -> Result<Vec<String>> {
        Ok(self.loaded().await?.data.keys().cloned().collect())
    }

    /// All values, in key order.
    pub async fn values(&self) -> Result<Vec<Value>> {
        Ok(self.loaded().await?.data.values().cloned().collect())
    }

    /// Every key with its value, in key order: a copy, so the session can be changed
    /// while iterating over it.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use session_core::{MemoryStore, SessionDriver, SessionOptions, Value};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// # let driver = SessionDriver::new(Arc::new(MemoryStore::new()), Arc::new(SessionOptions::default()), None);
    /// # let session = driver.session();
    /// session.extend([("a", 1), ("b", 2)]).await?;
    /// for (key, value) in session.entries().await? {
    ///     if value == Value::from(1) {
    ///         session.remove_value(&key).await?;
    ///     }
    /// }
    /// assert_eq!(session.keys().await?, ["b"]);
    /// # Ok::<(), session_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn entries(&self) -> Result<Vec<(String, Value)>> {
        let st = self.loaded().await?;
        Ok(st
            .data
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    /// Number of keys.
    pub async fn len(&self) -> Result<usize> {
        Ok(self.loaded().await?.data.len())
    }

    /// Whether the session holds no keys.
    pub async fn is_empty(&self) -> Result<bool> {
        Ok(self.loaded().await?.data.is_empty())
    }

    /// Removes every key (the session itself stays; see [`Session::invalidate`]).
    pub async fn clear(&self) -> Result<()> {
        let mut st = self.loaded().await?;
        if !st.data.is_empty() || !st.changes.is_empty() {
            st.remember_all();
            st.data.clear();
            st.changes.clear();
            st.cleared = true;
        }
        Ok(())
    }
}
