//! Which server a key lives on: rendezvous hashing over a hash that is the same in every
//! process, on every platform and with every Rust release.

use memcache::exp::Router;

/// Rendezvous (highest random weight) hashing with FNV-1a and a SplitMix64 finalizer.
///
/// The memcache crate's own router hashes with `std`'s `DefaultHasher`, whose output
/// Rust does not promise to keep across releases: two app builds made with different
/// compilers could then file the same session on different servers, and each would see
/// the other's sessions as missing. This router's output depends only on the key and
/// the configured server addresses (not their order), and removing a server moves only
/// that server's keys.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct StableRendezvous;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv1a(seed: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(seed, |h, &b| (h ^ u64::from(b)).wrapping_mul(FNV_PRIME))
}

/// SplitMix64's finalizer: FNV-1a alone mixes the last bytes poorly, and keys of one
/// store differ only in their hex tail.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl StableRendezvous {
    /// The server index for `key` among `servers` (0 when there is one or none).
    pub(crate) fn pick(key: &[u8], servers: &[String]) -> usize {
        let key_hash = fnv1a(FNV_OFFSET, key);
        let mut best = (0usize, 0u64);
        for (index, server) in servers.iter().enumerate() {
            let score = mix(fnv1a(key_hash, server.as_bytes()));
            // Ties are broken by address, not list position, so order never matters.
            let better = index == 0
                || score > best.1
                || (score == best.1 && server.as_str() < servers[best.0].as_str());
            if better {
                best = (index, score);
            }
        }
        best.0
    }
}

impl Router for StableRendezvous {
    fn route(&self, key: &[u8], servers: &[String]) -> usize {
        Self::pick(key, servers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn servers(n: u16) -> Vec<String> {
        (0..n).map(|i| format!("10.0.0.{i}:11211")).collect()
    }

    fn key(i: u32) -> Vec<u8> {
        format!(
            "session:{:064x}",
            u64::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15)
        )
        .into_bytes()
    }

    #[test]
    fn fixed_outputs_never_change() {
        // Pinned values: if these move, deployed apps would lose their sessions on
        // upgrade, because keys would be looked up on other servers.
        assert_eq!(fnv1a(FNV_OFFSET, b""), FNV_OFFSET);
        assert_eq!(fnv1a(FNV_OFFSET, b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(FNV_OFFSET, b"foobar"), 0x8594_4171_f739_67e8);
        let three = servers(3);
        let picks: Vec<usize> = (0..8)
            .map(|i| StableRendezvous::pick(&key(i), &three))
            .collect();
        assert_eq!(picks, PINNED_PICKS);
    }

    const PINNED_PICKS: [usize; 8] = [1, 1, 2, 1, 2, 1, 2, 1];

    #[test]
    fn order_of_servers_does_not_matter() {
        let forward = servers(4);
        let mut backward = forward.clone();
        backward.reverse();
        for i in 0..1000 {
            let k = key(i);
            let a = &forward[StableRendezvous::pick(&k, &forward)];
            let b = &backward[StableRendezvous::pick(&k, &backward)];
            assert_eq!(a, b);
        }
    }

    #[test]
    fn spreads_evenly_and_removing_a_server_moves_only_its_keys() {
        let four = servers(4);
        let mut three = four.clone();
        let removed = three.remove(2);
        let mut counts = [0usize; 4];
        for i in 0..8000 {
            let k = key(i);
            let before = &four[StableRendezvous::pick(&k, &four)];
            counts[StableRendezvous::pick(&k, &four)] += 1;
            let after = &three[StableRendezvous::pick(&k, &three)];
            if *before != removed {
                assert_eq!(before, after, "a key not on the removed server moved");
            }
        }
        for count in counts {
            assert!((1600..=2400).contains(&count), "unbalanced: {counts:?}");
        }
    }

    #[test]
    fn one_server_takes_everything() {
        assert_eq!(StableRendezvous::pick(b"k", &servers(1)), 0);
        assert_eq!(StableRendezvous::pick(b"k", &[]), 0);
    }
}
