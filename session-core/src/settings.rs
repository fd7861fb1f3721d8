//! What every store needs to write a record: a codec, a size limit and a clock, as one
//! value each store embeds.

use crate::{Clock, Codec, Error, Record, Result, Timestamp, DEFAULT_MAX_RECORD_SIZE};

/// The codec a store writes records with, the largest encoded record it accepts and
/// the clock it decides expiry by.
///
/// Every store in the workspace embeds one and takes it whole (`with_settings`), so the
/// "encode, then refuse what is over the limit" step is [`StoreSettings::encode`] in all
/// of them, and a store's [`Capabilities::max_record_size`](crate::Capabilities) is
/// [`StoreSettings::max_record_size`].
///
/// Defaults: MessagePack, records up to [`DEFAULT_MAX_RECORD_SIZE`] (256 KiB), the
/// system clock.
///
/// ```
/// use session_core::{
///     Data, Error, ManualClock, MemoryStore, Record, SessionId, SessionStore, StoreSettings,
///     Timestamp, Value,
/// };
///
/// let clock = ManualClock::at(Timestamp::from_millis(1_000));
/// let settings = StoreSettings::new()
///     .with_clock(clock.clone())
///     .with_max_record_size(Some(100));
/// assert_eq!(settings.now(), Timestamp::from_millis(1_000));
///
/// let mut data = Data::new();
/// data.insert("note".into(), Value::String("x".repeat(1000)));
/// let record = Record::new(SessionId::generate(), data, settings.now(),
///                          Timestamp::from_millis(2_000));
/// assert!(matches!(settings.encode(&record), Err(Error::TooLarge { limit: 100, .. })));
///
/// let store = MemoryStore::new().with_settings(settings);
/// assert_eq!(store.capabilities().max_record_size, Some(100));
/// ```
#[derive(Debug, Clone)]
pub struct StoreSettings {
    codec: Codec,
    max_record_size: Option<usize>,
    clock: Clock,
}

impl StoreSettings {
    /// MessagePack, [`DEFAULT_MAX_RECORD_SIZE`], the system clock.
    pub fn new() -> Self {
        StoreSettings {
            codec: Codec::default(),
            max_record_size: Some(DEFAULT_MAX_RECORD_SIZE),
            clock: Clock::system(),
        }
    }

    /// Encodes new records with `codec`; records in any known format still load.
    pub fn with_codec(mut self, codec: Codec) -> Self {
        self.codec = codec;
        self
    }

    /// Refuses records whose encoding exceeds `limit` bytes with [`Error::TooLarge`],
    /// before any I/O (default: `Some(`[`DEFAULT_MAX_RECORD_SIZE`]`)`); `None` lifts the
    /// limit, leaving only whatever the backend itself caps.
    pub fn with_max_record_size(mut self, limit: Option<usize>) -> Self {
        self.max_record_size = limit;
        self
    }

    /// Decides expiry by `clock` (tests pass a [`ManualClock`](crate::ManualClock)).
    pub fn with_clock(mut self, clock: impl Into<Clock>) -> Self {
        self.clock = clock.into();
        self
    }

    /// The codec new records are written with.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// The largest encoded record accepted, if any.
    pub fn max_record_size(&self) -> Option<usize> {
        self.max_record_size
    }

    /// The clock expiry is decided by.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The clock's current time.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Encodes `record` with the codec, then [`Error::TooLarge`] if the envelope is
    /// longer than the limit: the one size check every store makes before any I/O.
    pub fn encode(&self, record: &Record) -> Result<Vec<u8>> {
        let bytes = self.codec.encode(record)?;
        match self.max_record_size {
            Some(limit) if bytes.len() > limit => Err(Error::TooLarge {
                limit,
                size: bytes.len(),
            }),
            _ => Ok(bytes),
        }
    }
}

impl Default for StoreSettings {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::{Data, SessionId, Value};

    #[test]
    fn encode_refuses_only_over_the_limit() {
        let mut data = Data::new();
        data.insert("k".into(), Value::String("v".repeat(100)));
        let r = Record::new(
            SessionId::generate(),
            data,
            Timestamp::from_millis(0),
            Timestamp::from_millis(1),
        );
        let len = StoreSettings::new().encode(&r).unwrap().len();
        let exact = StoreSettings::new().with_max_record_size(Some(len));
        assert_eq!(exact.encode(&r).unwrap().len(), len);
        assert!(StoreSettings::new()
            .with_max_record_size(None)
            .encode(&r)
            .is_ok());
        match StoreSettings::new()
            .with_max_record_size(Some(len - 1))
            .encode(&r)
        {
            Err(Error::TooLarge { limit, size }) => assert_eq!((limit, size), (len - 1, len)),
            other => panic!("{other:?}"),
        }
    }
}
