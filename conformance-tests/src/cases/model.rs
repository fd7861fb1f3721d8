//! Model-based testing: random sequences of store operations, checked step by step
//! against an in-memory reference model of the contract, shrunk to a minimal failing
//! sequence when the store disagrees.

use std::fmt::Write as _;
use std::time::Duration;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::json;
use session_core::{Capabilities, Error, Record, SessionId, Timestamp};

use super::util::data;
use crate::{CaseResult, Check, Failure, Harness};

const SLOTS: usize = 3;
/// Sequences per run; `SESSION_CONFORMANCE_MODEL_CASES` overrides it.
const DEFAULT_CASES: u32 = 32;
/// Shrinking stops after this many re-runs.
const SHRINK_RUNS: u32 = 200;

/// One step of a generated sequence.
#[derive(Debug, Clone)]
enum Op {
    Create {
        slot: usize,
        ttl: u64,
        value: u8,
    },
    Load {
        slot: usize,
    },
    Save {
        slot: usize,
        ttl: u64,
        value: u8,
        stale: bool,
    },
    Touch {
        slot: usize,
        ttl: u64,
    },
    Delete {
        slot: usize,
    },
    Advance {
        secs: u64,
    },
    DeleteExpired,
    Count,
}

fn op() -> impl Strategy<Value = Op> {
    let slot = 0..SLOTS;
    let ttl = 1u64..300;
    prop_oneof![
        3 => (slot.clone(), ttl.clone(), any::<u8>()).prop_map(|(slot, ttl, value)| Op::Create { slot, ttl, value }),
        4 => slot.clone().prop_map(|slot| Op::Load { slot }),
        3 => (slot.clone(), ttl.clone(), any::<u8>(), any::<bool>())
            .prop_map(|(slot, ttl, value, stale)| Op::Save { slot, ttl, value, stale }),
        2 => (slot.clone(), ttl).prop_map(|(slot, ttl)| Op::Touch { slot, ttl }),
        1 => slot.prop_map(|slot| Op::Delete { slot }),
        2 => (1u64..200).prop_map(|secs| Op::Advance { secs }),
        1 => Just(Op::DeleteExpired),
        1 => Just(Op::Count),
    ]
}

/// The reference model: what each slot's record should be.
struct Slot {
    id: SessionId,
    cookie: String,
    stored: Option<Record>,
}

struct Model {
    caps: Capabilities,
    slots: Vec<Slot>,
}

impl Model {
    fn live(&self, slot: usize, now: Timestamp) -> Option<&Record> {
        self.slots[slot]
            .stored
            .as_ref()
            .filter(|r| !r.is_expired(now))
    }

    /// The record a write to `slot` starts from: the stored one, or a stand-in.
    fn base(&self, slot: usize, now: Timestamp) -> Record {
        self.slots[slot]
            .stored
            .clone()
            .unwrap_or_else(|| Record::new(self.slots[slot].id, data([]), now, now))
    }
}

fn ttl(now: Timestamp, secs: u64) -> Timestamp {
    now.saturating_add(Duration::from_secs(secs))
}

async fn step(c: Check, h: &Harness, fx: &crate::Fixture, m: &mut Model, op: &Op) -> CaseResult {
    let store = fx.store();
    let now = h.clock().now();
    // A store that keeps records (whether or not it can delete them) against one whose
    // cookie value is the record.
    let server = !m.caps.self_sealed;
    match *op {
        Op::Create {
            slot,
            ttl: t,
            value,
        } => {
            let r = Record::new(
                m.slots[slot].id,
                data([("v", json!(value))]),
                now,
                ttl(now, t),
            );
            let result = store.create(&r).await;
            let had = m.slots[slot].stored.is_some();
            match (result, m.live(slot, now).is_some()) {
                (Err(Error::Collision), true) if server => {}
                // An expired leftover may block its id until swept, or be replaced.
                (Err(Error::Collision), false) if server && had => {}
                (Ok(cookie), false) => {
                    m.slots[slot].cookie = cookie;
                    m.slots[slot].stored = Some(r);
                }
                (Ok(cookie), true) if !server => {
                    m.slots[slot].cookie = cookie;
                    m.slots[slot].stored = Some(r);
                }
                (other, live) => {
                    return Err(c.fail(
                        "create",
                        format!("Collision if live ({live}), else Ok"),
                        format!("{other:?}"),
                    ))
                }
            }
        }
        Op::Load { slot } => {
            let got = c.ok("load", store.load(&m.slots[slot].cookie).await)?;
            c.eq("load", m.live(slot, now).cloned(), got)?;
        }
        Op::Save {
            slot,
            ttl: t,
            value,
            stale,
        } => {
            let base = m.base(slot, now);
            let expected_version = if stale {
                base.version + 7
            } else {
                base.version
            };
            let mut r = base
                .with_accessed_at(now)
                .with_expires_at(ttl(now, t))
                .with_version(expected_version + 1);
            r.data = data([("v", json!(value))]);
            let result = store.save(&r, expected_version).await;
            let live = m.live(slot, now).is_some();
            if server && !live {
                c.err("save of a missing record", result, "NotFound", |e| {
                    matches!(e, Error::NotFound)
                })?;
            } else if server && stale && m.caps.compare_and_set {
                c.err("stale save", result, "Conflict", |e| {
                    matches!(e, Error::Conflict)
                })?;
            } else {
                m.slots[slot].cookie = c.ok("save", result)?;
                m.slots[slot].stored = Some(r);
            }
        }
        Op::Touch { slot, ttl: t } => {
            let base = m.base(slot, now);
            // The touch carries data the store must ignore: a touch moves deadlines only.
            let mut r = base
                .clone()
                .with_accessed_at(now)
                .with_expires_at(ttl(now, t));
            r.data = data([("touch", json!("must not be written"))]);
            let result = store.touch(&r).await;
            if server && m.live(slot, now).is_none() {
                c.err("touch of a missing record", result, "NotFound", |e| {
                    matches!(e, Error::NotFound)
                })?;
            } else if server {
                m.slots[slot].cookie = c.ok("touch", result)?;
                m.slots[slot].stored = Some(
                    base.with_accessed_at(r.accessed_at)
                        .with_expires_at(r.expires_at),
                );
            } else {
                m.slots[slot].cookie = c.ok("touch", result)?;
                m.slots[slot].stored = Some(r);
            }
        }
        Op::Delete { slot } => {
            let result = store.delete(&m.slots[slot].id).await;
            if m.caps.revoke {
                c.ok("delete", result)?;
                m.slots[slot].stored = None;
            } else {
                c.unsupported("delete without revoke", result)?;
            }
        }
        Op::Advance { secs } => h.clock().advance(Duration::from_secs(secs)),
        Op::DeleteExpired => {
            let result = store.delete_expired().await;
            if !m.caps.enumerate {
                return c.unsupported("delete_expired", result);
            }
            let removed = c.ok("delete_expired", result)?;
            let mut expired = 0;
            for s in &mut m.slots {
                if s.stored.as_ref().is_some_and(|r| r.is_expired(now)) {
                    s.stored = None;
                    expired += 1;
                }
            }
            if m.caps.native_ttl {
                c.that(
                    "delete_expired (native TTL)",
                    removed <= expired,
                    "at most the expired count",
                    removed,
                )?;
            } else {
                c.eq("delete_expired count", expired, removed)?;
            }
        }
        Op::Count => {
            let result = store.count().await;
            if !m.caps.enumerate {
                return c.unsupported("count", result);
            }
            let n = c.ok("count", result)?;
            let live = (0..SLOTS).filter(|&s| m.live(s, now).is_some()).count() as u64;
            if m.caps.native_ttl {
                let stored = m.slots.iter().filter(|s| s.stored.is_some()).count() as u64;
                c.that(
                    "count (native TTL)",
                    live <= n && n <= stored,
                    "between live and stored",
                    n,
                )?;
            } else {
                c.eq("count", live, n)?;
            }
        }
    }
    Ok(())
}

async fn run(c: Check, h: &Harness, ops: &[Op]) -> CaseResult {
    let fx = h.fixture().await;
    let slots = (0..SLOTS)
        .map(|_| {
            let id = SessionId::generate();
            Slot {
                id,
                cookie: id.to_string(),
                stored: None,
            }
        })
        .collect();
    let mut model = Model {
        caps: fx.caps(),
        slots,
    };
    for (i, op) in ops.iter().enumerate() {
        step(c, h, &fx, &mut model, op).await.map_err(|mut f| {
            f.step = format!("op #{i} {op:?}: {}", f.step);
            f
        })?;
    }
    Ok(())
}

fn report(c: Check, ops: &[Op], failure: Failure) -> Failure {
    let mut seq = String::new();
    for (i, op) in ops.iter().enumerate() {
        let _ = write!(seq, "\n    #{i} {op:?}");
    }
    c.fail(
        &format!("{} (shrunk sequence:{seq}\n  )", failure.step),
        failure.expected,
        failure.actual,
    )
}

/// Random operation sequences against the reference model; a failure reports the
/// shrunk sequence. Runs 32 sequences (`SESSION_CONFORMANCE_MODEL_CASES`
/// to change).
pub async fn model_based_sequences(h: &Harness) -> CaseResult {
    let c = Check::new("model_based_sequences");
    let cases = std::env::var("SESSION_CONFORMANCE_MODEL_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    let mut runner = TestRunner::new(Config::with_cases(cases));
    let strategy = vec(op(), 1..40);
    for _ in 0..cases {
        let mut tree = strategy
            .new_tree(&mut runner)
            .map_err(|e| c.fail("generate", "a sequence", e))?;
        let Err(first) = run(c, h, &tree.current()).await else {
            continue;
        };
        let mut best = (tree.current(), first);
        let mut runs = 0;
        if tree.simplify() {
            while runs < SHRINK_RUNS {
                runs += 1;
                let ops = tree.current();
                let more = match run(c, h, &ops).await {
                    Err(f) => {
                        best = (ops, f);
                        tree.simplify()
                    }
                    Ok(()) => tree.complicate(),
                };
                if !more {
                    break;
                }
            }
        }
        return Err(report(c, &best.0, best.1));
    }
    Ok(())
}
