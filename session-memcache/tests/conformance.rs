//! The whole conformance suite against a real memcached (a private server, or the one
//! `SESSION_TEST_MEMCACHE_URL` names), each case in its own random key prefix.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

mod common;

use session_conformance::suite;

suite!(
    memcache,
    fixture = |clock| async move { common::suite_fixture(clock).await }
);
