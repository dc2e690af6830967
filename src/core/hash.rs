//! 64-bit hashes of keys (phones, emails, referenceIds) and a map keyed by them. Keys are
//! hashed once; the map's own hasher passes the hash through, so no SipHash code is linked.

use std::collections::HashMap;
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

/// Hashes a `u64` key to itself (keys are already hashes).
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
}

/// A map keyed by [`hash`]es.
pub type HashedMap<V> = HashMap<u64, V, BuildHasherDefault<PassThrough>>;

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
}
