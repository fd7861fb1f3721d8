//! Helpers shared by the fuzz targets and the seed generator: fixed secrets, a fixed
//! clock, a tiny runtime, and records built from fuzz input.

use std::sync::OnceLock;

use libfuzzer_sys::arbitrary::{Result, Unstructured};
use session_core::{Data, ManualClock, Record, SessionId, Timestamp, Value};

/// The current secret of the fuzzed stores (32 bytes, the minimum).
pub const SECRET_NEW: &[u8; 32] = b"fuzz-secret-0000-new-key-32bytes";
/// A retired secret, still accepted, so the rotation path is reachable.
pub const SECRET_OLD: &[u8; 32] = b"fuzz-secret-1111-old-key-32bytes";
/// The cookie name everything is signed / sealed for.
pub const COOKIE_NAME: &str = "session";
/// "Now" for every fuzzed store: 2026-01-01T00:00:00Z, so runs are deterministic.
pub const NOW_MS: i64 = 1_767_225_600_000;
/// Deadline of the genuine seed sessions: far in the future of `NOW_MS`.
pub const SEED_EXPIRES_MS: i64 = NOW_MS + 365 * 24 * 3600 * 1000;

/// A clock stopped at [`NOW_MS`].
pub fn fixed_clock() -> ManualClock {
    ManualClock::at(Timestamp::from_millis(NOW_MS))
}

/// A current-thread tokio runtime, built once per process.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("tokio runtime: {e}"))
    })
}

/// The genuine seed record: a fixed id and a little data.
pub fn seed_record() -> Record {
    let id = SessionId::from_bytes([7u8; 32]);
    let mut data = Data::new();
    data.insert("user".into(), Value::String("alice".into()));
    data.insert("count".into(), Value::from(3));
    data.insert(
        "cart".into(),
        Value::Array(vec![Value::from(1.5), Value::Bool(true), Value::Null]),
    );
    Record::new(
        id,
        data,
        Timestamp::from_millis(NOW_MS),
        Timestamp::from_millis(SEED_EXPIRES_MS),
    )
}

/// A JSON value from fuzz input; `depth` bounds the nesting.
pub fn arbitrary_value(u: &mut Unstructured<'_>, depth: u32) -> Result<Value> {
    let max = if depth == 0 { 5 } else { 7 };
    Ok(match u.int_in_range(0..=max)? {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => Value::from(u.arbitrary::<u64>()?),
        3 => Value::from(u.arbitrary::<i64>()?),
        // Non-finite floats are not JSON numbers: `from` maps them to Null.
        4 => Value::from(u.arbitrary::<f64>()?),
        5 => Value::String(u.arbitrary()?),
        6 => {
            let n = u.int_in_range(0..=4)?;
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                v.push(arbitrary_value(u, depth - 1)?);
            }
            Value::Array(v)
        }
        _ => {
            let n = u.int_in_range(0..=4)?;
            let mut m = session_core::Value::Object(Default::default());
            if let Value::Object(map) = &mut m {
                for _ in 0..n {
                    let k: String = u.arbitrary()?;
                    let v = arbitrary_value(u, depth - 1)?;
                    map.insert(k, v);
                }
            }
            m
        }
    })
}

/// A record from fuzz input: any id, data, timestamps and version.
pub fn arbitrary_record(u: &mut Unstructured<'_>) -> Result<Record> {
    let id = SessionId::from_bytes(u.arbitrary()?);
    let n = u.int_in_range(0..=6)?;
    let mut data = Data::new();
    for _ in 0..n {
        let k: String = u.arbitrary()?;
        let v = arbitrary_value(u, 3)?;
        data.insert(k, v);
    }
    let created_at = Timestamp::from_millis(u.arbitrary()?);
    let accessed_at = Timestamp::from_millis(u.arbitrary()?);
    let expires_at = Timestamp::from_millis(u.arbitrary()?);
    let version = u.arbitrary()?;
    Ok(Record::new(id, data, created_at, expires_at)
        .with_accessed_at(accessed_at)
        .with_version(version))
}

/// Applies a few byte edits, chosen by `u`, to `value`: flip, overwrite, insert,
/// remove, truncate. Used to mutate genuine values from inside a target, so mutants
/// stay close to the real thing whatever the corpus holds.
pub fn mutate(u: &mut Unstructured<'_>, value: &str) -> Result<Vec<u8>> {
    let mut bytes = value.as_bytes().to_vec();
    let edits = u.int_in_range(0..=4)?;
    for _ in 0..edits {
        let len = bytes.len();
        match u.int_in_range(0..=4)? {
            0 if len > 0 => {
                let i = u.choose_index(len)?;
                bytes[i] ^= u.arbitrary::<u8>()? | 1;
            }
            1 if len > 0 => {
                let i = u.choose_index(len)?;
                bytes[i] = u.arbitrary()?;
            }
            2 => {
                let i = u.int_in_range(0..=len)?;
                bytes.insert(i, u.arbitrary()?);
            }
            3 if len > 0 => {
                let i = u.choose_index(len)?;
                bytes.remove(i);
            }
            4 => {
                let i = u.int_in_range(0..=len)?;
                bytes.truncate(i);
            }
            _ => {}
        }
    }
    Ok(bytes)
}
