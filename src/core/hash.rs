//! 64-bit hashes of keys (phones, emails, referenceIds) and a map keyed by them, and exact keys
//! for lead ids. Keys are hashed once; the maps' own hasher passes the hash through (or mixes an
//! exact key's halves), so no SipHash code is linked.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// FNV-1a over the bytes, then the SplitMix64 finaliser so that the low bits are well mixed.
pub fn hash(s: &str) -> u64 {
    hash_parts(&[s])
}

/// [`hash`] of the parts written one after the other (no text is built).
pub fn hash_parts(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in part.as_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// A lead id as an exact key: an id of 24 lowercase hex digits (an ObjectId, as the API's ids
/// are) is its 96-bit value, so two such ids never share a key; any other text is its [`hash`]
/// with bit 127 set.
pub fn id_key(id: &str) -> u128 {
    let b = id.as_bytes();
    if b.len() == 24 {
        // The first 8 digits and the last 16 in two u64s: wasm has no 128-bit arithmetic.
        let (mut hi, mut lo) = (0u64, 0u64);
        for (i, &c) in b.iter().enumerate() {
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                _ => return (1 << 127) | u128::from(hash(id)),
            };
            if i < 8 {
                hi = (hi << 4) | u64::from(d);
            } else {
                lo = (lo << 4) | u64::from(d);
            }
        }
        return (u128::from(hi) << 64) | u128::from(lo);
    }
    (1 << 127) | u128::from(hash(id))
}

/// Hashes a `u64` key to itself (keys are already hashes) and a `u128` key (an [`id_key`]) by
/// mixing its halves.
#[derive(Default)]
pub struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }

    fn write_u128(&mut self, n: u128) {
        let h = (n as u64 ^ (n >> 64) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.0 = h ^ (h >> 29);
    }
}

/// A map keyed by [`hash`]es.
pub type HashedMap<V> = HashMap<u64, V, BuildHasherDefault<PassThrough>>;

/// A set of [`id_key`]s.
pub type IdSet = HashSet<u128, BuildHasherDefault<PassThrough>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_keys_distinct_hashes() {
        let keys: Vec<String> = (0..10_000).map(|i| format!("phone:+9198{i:08}")).collect();
        let mut seen = std::collections::HashSet::new();
        assert!(keys.iter().all(|k| seen.insert(hash(k))));
        let mut m: HashedMap<u32> = HashedMap::default();
        m.insert(hash("a"), 1);
        assert_eq!(m.get(&hash("a")), Some(&1));
        assert_eq!(m.get(&hash("b")), None);
        assert_eq!(hash_parts(&["phone:", "+91"]), hash("phone:+91"));
    }

    #[test]
    fn id_keys_are_exact_for_object_ids() {
        let a = "6650a1b2c3d4e5f601234567";
        assert_eq!(id_key(a), 0x6650a1b2c3d4e5f601234567);
        assert_ne!(id_key(a), id_key("6650a1b2c3d4e5f601234568"));
        // Not an ObjectId (capitals, other lengths): hashed, and never equal to an exact key.
        let upper = id_key("6650A1B2C3D4E5F601234567");
        assert_eq!(upper >> 127, 1);
        assert_ne!(upper, id_key(a));
        assert_eq!(id_key("x"), (1 << 127) | u128::from(hash("x")));
        let mut set = IdSet::default();
        assert!(set.insert(id_key(a)) && !set.insert(id_key(a)) && set.insert(id_key("x")));
    }
}
