//! Redis Cluster: connecting through redis-rs's cluster client, and finding every primary
//! so that `SCAN`, which only ever walks one node, can walk them all.
//!
//! Nothing else is cluster-specific: every command and script touches one key, which
//! redis-rs routes to the node owning its slot (following `MOVED`/`ASK` on resharding).

use std::collections::BTreeMap;
use std::time::Duration;

use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::Value;
use session_core::{Error, Operation, Result};

use crate::connection::{timed, unexpected};

/// A cluster client for `nodes` whose per-request timeouts match the store's.
pub(crate) fn client(nodes: &[String], timeout: Duration) -> Result<ClusterClient> {
    if nodes.is_empty() {
        return Err(Error::Config(
            "session-redis: a Redis Cluster needs at least one node URL".into(),
        ));
    }
    ClusterClient::builder(nodes.iter().map(String::as_str))
        .connection_timeout(timeout)
        .response_timeout(timeout)
        .build()
        .map_err(|e| Error::Config(format!("session-redis: bad cluster node URL: {e}")))
}

/// Connects `client`, giving up after `timeout`.
pub(crate) async fn connect(
    client: &ClusterClient,
    timeout: Duration,
) -> Result<ClusterConnection> {
    timed(Operation::Connect, timeout, client.get_async_connection()).await
}

/// Routing to the primary that owns `slot`.
pub(crate) fn primary_of(slot: u16) -> RoutingInfo {
    RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(Route::new(
        slot,
        SlotAddr::Master,
    )))
}

/// One slot per primary, so that routing by that slot reaches each primary once.
/// Routing by slot rather than by address leaves address matching (announced IPs,
/// host names) to redis-rs's own slot map.
pub(crate) async fn one_slot_per_primary(
    conn: &mut ClusterConnection,
    timeout: Duration,
) -> Result<Vec<u16>> {
    let reply = timed(
        Operation::Scan,
        timeout,
        conn.route_command(
            redis::cmd("CLUSTER").arg("SLOTS").clone(),
            RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random),
        ),
    )
    .await?;
    parse_slots(&reply).ok_or_else(|| unexpected(None, "CLUSTER SLOTS", &reply))
}

/// Reads `CLUSTER SLOTS`: `[[start, end, [host, port, id…], replicas…]…]`.
fn parse_slots(reply: &Value) -> Option<Vec<u16>> {
    let Value::Array(ranges) = reply else {
        return None;
    };
    let mut first_slot: BTreeMap<(Vec<u8>, i64), u16> = BTreeMap::new();
    for range in ranges {
        let Value::Array(items) = range else {
            return None;
        };
        let Some(Value::Int(start)) = items.first() else {
            return None;
        };
        let Some(Value::Array(primary)) = items.get(2) else {
            return None;
        };
        let host = match primary.first() {
            Some(Value::BulkString(b)) => b.clone(),
            Some(Value::SimpleString(s)) => s.clone().into_bytes(),
            _ => return None,
        };
        let Some(Value::Int(port)) = primary.get(1) else {
            return None;
        };
        let start = u16::try_from(*start).ok()?;
        let slot = first_slot.entry((host, *port)).or_insert(start);
        *slot = (*slot).min(start);
    }
    Some(first_slot.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(host: &str, port: i64) -> Value {
        Value::Array(vec![
            Value::BulkString(host.as_bytes().to_vec()),
            Value::Int(port),
            Value::BulkString(b"0123abcd".to_vec()),
        ])
    }

    fn range(start: i64, end: i64, primary: Value) -> Value {
        Value::Array(vec![Value::Int(start), Value::Int(end), primary])
    }

    #[test]
    fn one_slot_per_primary_even_with_split_ranges() {
        let reply = Value::Array(vec![
            range(5461, 10922, node("127.0.0.1", 7001)),
            range(0, 5460, node("127.0.0.1", 7000)),
            range(10923, 12000, node("127.0.0.1", 7002)),
            range(12001, 16383, node("127.0.0.1", 7000)),
        ]);
        let mut slots = parse_slots(&reply).unwrap();
        slots.sort_unstable();
        assert_eq!(slots, vec![0, 5461, 10923]);
    }

    #[test]
    fn malformed_replies_are_refused() {
        assert_eq!(parse_slots(&Value::Nil), None);
        assert_eq!(parse_slots(&Value::Array(vec![Value::Int(1)])), None);
        let no_port = Value::Array(vec![range(
            0,
            1,
            Value::Array(vec![Value::BulkString(b"h".to_vec())]),
        )]);
        assert_eq!(parse_slots(&no_port), None);
        assert_eq!(parse_slots(&Value::Array(vec![])), Some(vec![]));
    }

    #[test]
    fn no_nodes_is_a_config_error() {
        assert!(matches!(
            client(&[], Duration::from_secs(1)),
            Err(Error::Config(_))
        ));
        assert!(matches!(
            client(&["not a url".to_owned()], Duration::from_secs(1)),
            Err(Error::Config(_))
        ));
    }
}
