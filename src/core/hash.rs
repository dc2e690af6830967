//! 64-bit hashes of keys (phones, emails, referenceIds) and a map keyed by them, and exact keys
//! for lead ids with a set of them. Keys are hashed once, so no SipHash code is linked, and the
//! map is this module's own: std's (hashbrown) put ~10 KB of code into the module for its six
//! value types, where this one's probing is one copy whatever the values.

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
    // The first 8 digits and the last 16 in two u64s: wasm has no 128-bit arithmetic.
    let b = id.as_bytes();
    if let (24, Some(hi), Some(lo)) = (b.len(), hex(b.get(..8)), hex(b.get(8..))) {
        return (u128::from(hi) << 64) | u128::from(lo);
    }
    (1 << 127) | u128::from(hash(id))
}

/// The value of at most 16 lowercase hex digits; `None` if one is not. Branch-free per digit:
/// `iterateLeads` keys every lead it hands out.
fn hex(digits: Option<&[u8]>) -> Option<u64> {
    let mut v = 0u64;
    let mut bad = false;
    for &c in digits? {
        let d = c.wrapping_sub(b'0');
        let l = c.wrapping_sub(b'a');
        bad |= d >= 10 && l >= 6;
        v = (v << 4) | u64::from(if d < 10 { d } else { l.wrapping_add(10) } & 15);
    }
    (!bad).then_some(v)
}

/// A map keyed by [`hash`]es: the values in one dense array, their keys in another beside it,
/// and a table of positions into them, probed linearly. Only the values' moves are generic.
#[derive(Debug)]
pub struct HashedMap<V> {
    slots: Slots,
    values: Vec<V>,
    /// [`HashedMap::prune`] runs `retain` once the map holds more entries than this.
    prune_above: usize,
}

impl<V> Default for HashedMap<V> {
    fn default() -> Self {
        HashedMap {
            slots: Slots::default(),
            values: Vec::new(),
            prune_above: 0,
        }
    }
}

impl<V> HashedMap<V> {
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn get(&self, key: &u64) -> Option<&V> {
        self.values.get(self.slots.find(*key)?)
    }

    pub fn contains_key(&self, key: &u64) -> bool {
        self.slots.find(*key).is_some()
    }

    /// Sets `key` to `value`; the value it had, if any.
    pub fn insert(&mut self, key: u64, value: V) -> Option<V> {
        match self.slots.find(key).and_then(|at| self.values.get_mut(at)) {
            Some(old) => Some(std::mem::replace(old, value)),
            None => {
                self.slots.push(key);
                self.values.push(value);
                None
            }
        }
    }

    pub fn remove(&mut self, key: &u64) -> Option<V> {
        let at = self.slots.find(*key)?;
        self.slots.swap_remove(at);
        (at < self.values.len()).then(|| self.values.swap_remove(at))
    }

    /// Keeps only the entries `keep` says yes to.
    pub fn retain(&mut self, mut keep: impl FnMut(&u64, &mut V) -> bool) {
        let mut at = 0;
        while let (Some(key), Some(value)) = (self.slots.keys.get(at), self.values.get_mut(at)) {
            if keep(key, value) {
                at += 1;
            } else {
                self.slots.keys.swap_remove(at);
                self.values.swap_remove(at);
            }
        }
        self.slots.rebuild();
    }

    /// `retain`, amortised: only once the map has doubled since the last prune (and holds more
    /// than 4,096 entries after the first), for maps whose readers skip stale entries anyway.
    pub fn prune(&mut self, keep: impl FnMut(&u64, &mut V) -> bool) {
        if self.len() > self.prune_above {
            self.retain(keep);
            self.prune_above = (2 * self.len()).max(4096);
        }
    }
}

impl<V> Extend<(u64, V)> for HashedMap<V> {
    fn extend<I: IntoIterator<Item = (u64, V)>>(&mut self, entries: I) {
        for (key, value) in entries {
            self.insert(key, value);
        }
    }
}

/// Fibonacci hashing: the slot of hash `h` in a table of `mask + 1` slots (a power of two) is the
/// product's top bits, mixed from every bit of `h`.
fn slot_of(h: u64, mask: usize) -> usize {
    (h.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as usize & mask
}

/// The keys of a [`HashedMap`], in its values' order, and the table that finds them: each slot
/// is 0 (empty) or a key's position + 1. The table is a power of two long and at most 3/4 full.
#[derive(Debug, Default)]
struct Slots {
    keys: Vec<u64>,
    table: Vec<u32>,
}

impl Slots {
    /// The slot where `key`'s probe starts.
    fn home(&self, key: u64) -> usize {
        slot_of(key, self.table.len().wrapping_sub(1))
    }

    /// The slot holding `key`'s position, or the empty slot where it would go.
    fn probe(&self, key: u64) -> Result<usize, usize> {
        let mask = self.table.len().wrapping_sub(1);
        let mut i = self.home(key);
        while let Some(&slot) = self.table.get(i) {
            if slot == 0 {
                return Err(i);
            }
            if self.keys.get(slot as usize - 1) == Some(&key) {
                return Ok(i);
            }
            i = (i + 1) & mask;
        }
        Err(usize::MAX) // no table yet
    }

    /// The position of `key`, if it is there.
    fn find(&self, key: u64) -> Option<usize> {
        let slot = self.probe(key).ok()?;
        self.table.get(slot).map(|&p| p as usize - 1)
    }

    /// Adds `key` (not there yet) at the end.
    fn push(&mut self, key: u64) {
        self.keys.push(key);
        if 4 * self.keys.len() > 3 * self.table.len() {
            self.rebuild();
        } else if let Err(slot) = self.probe(key) {
            self.set(slot, self.keys.len());
        }
    }

    fn set(&mut self, slot: usize, position_plus_one: usize) {
        if let Some(s) = self.table.get_mut(slot) {
            *s = position_plus_one as u32;
        }
    }

    /// Removes the key at `at`; the last key moves into its place, as `Vec::swap_remove` does.
    fn swap_remove(&mut self, at: usize) {
        let Some(&key) = self.keys.get(at) else {
            return;
        };
        let Ok(mut hole) = self.probe(key) else {
            return;
        };
        // Backward shift: each key after the hole in its run whose probe passes the hole moves
        // back into it, so that no probe stops early at an empty slot.
        let mask = self.table.len() - 1;
        let mut i = hole;
        loop {
            i = (i + 1) & mask;
            let Some(&slot) = self.table.get(i) else {
                break;
            };
            if slot == 0 {
                break;
            }
            let home = self
                .keys
                .get(slot as usize - 1)
                .map_or(i, |&k| self.home(k));
            // Its probe, from `home` to `i`, passes the hole.
            if (i.wrapping_sub(home) & mask) >= (i.wrapping_sub(hole) & mask) {
                self.set(hole, slot as usize);
                hole = i;
            }
        }
        self.set(hole, 0);
        let last = self.keys.len() - 1;
        if at != last {
            if let Some(Ok(slot)) = self.keys.get(last).map(|&k| self.probe(k)) {
                self.set(slot, at + 1);
            }
        }
        self.keys.swap_remove(at);
    }

    /// The table made again for the keys (after they moved, or to grow it).
    fn rebuild(&mut self) {
        let size = (4 * self.keys.len())
            .div_ceil(3)
            .next_power_of_two()
            .max(16);
        self.table.clear();
        self.table.resize(size, 0);
        for at in 0..self.keys.len() {
            let Some(&key) = self.keys.get(at) else { break };
            if let Err(slot) = self.probe(key) {
                self.set(slot, at + 1);
            }
        }
    }
}

/// A set of [`id_key`]s. `iterateLeads` adds every lead it hands out, and those usually come in
/// order: a query is sorted by `createdAt`, and an ObjectId starts with its creation time and
/// ends with a counter. So a key that goes on in the order of the keys before it is appended to
/// `run`, a sequential write that needs no lookup; only a key out of that order is looked up in
/// `run` (binary search) and kept, when new, in a hash table. Over 100,000 ids in order, the
/// table alone (random probes into 4 MB as it grew) took 20–30 µs more a page of 100.
#[derive(Default)]
pub struct IdSet {
    /// Keys in strictly ascending order, or strictly descending when `descending`.
    run: Vec<u128>,
    /// The run's order, set by its second key.
    descending: Option<bool>,
    /// The keys out of the run's order.
    rest: Table,
}

impl IdSet {
    /// Adds `key`; false when it was there already.
    pub fn insert(&mut self, key: u128) -> bool {
        let Some(&last) = self.run.last() else {
            self.run.push(key);
            return true;
        };
        if key == last {
            return false;
        }
        let descending = *self.descending.get_or_insert(key < last);
        if (key < last) == descending {
            // Beyond the run's end: in neither part, since every key in `rest` was behind the
            // end when it came, and the end only moves on.
            self.run.push(key);
            return true;
        }
        let found = if descending {
            self.run.binary_search_by(|k| key.cmp(k))
        } else {
            self.run.binary_search(&key)
        };
        found.is_err() && self.rest.insert(key)
    }
}

/// Open addressing with linear probing in one flat table, at most 3/4 full (std's set of `u128`
/// probes 4-slot groups on a 32-bit target and keeps a control byte a slot).
#[derive(Default)]
struct Table {
    /// `EMPTY` or a key; the key `EMPTY` itself is `has_empty`.
    slots: Vec<u128>,
    len: usize,
    has_empty: bool,
}

const EMPTY: u128 = 0;

impl Table {
    /// Adds `key`; false when it was there already.
    fn insert(&mut self, key: u128) -> bool {
        if key == EMPTY {
            return !std::mem::replace(&mut self.has_empty, true);
        }
        if 4 * (self.len + 1) > 3 * self.slots.len() {
            self.grow();
        }
        if !Self::put(&mut self.slots, key) {
            return false;
        }
        self.len += 1;
        true
    }

    /// Puts `key` in its slot of `slots` (a power of two long, never full); false if it was there.
    fn put(slots: &mut [u128], key: u128) -> bool {
        let mask = slots.len() - 1;
        // Both halves folded into one u64 first, so that the slot depends on every bit.
        let mut i = slot_of(key as u64 ^ ((key >> 64) as u64).rotate_left(32), mask);
        while let Some(slot) = slots.get_mut(i) {
            if *slot == key {
                return false;
            }
            if *slot == EMPTY {
                *slot = key;
                return true;
            }
            i = (i + 1) & mask;
        }
        false
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(64);
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; size]);
        for key in old.into_iter().filter(|&k| k != EMPTY) {
            Self::put(&mut self.slots, key);
        }
    }
}

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
    fn a_hashed_map_agrees_with_std_through_inserts_removals_and_retains() {
        let mut ours: HashedMap<u64> = HashedMap::default();
        let mut std_map = std::collections::HashMap::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for step in 0..60_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Keys from a small range (many repeats), some sharing their home slot (same top
            // bits of the product: equal high halves), 0 among them.
            let key = match x % 3 {
                0 => x % 700,
                1 => (x % 50) << 40,
                _ => hash(&format!("k{}", x % 900)),
            };
            match (x >> 20) % 10 {
                0..=5 => assert_eq!(ours.insert(key, step), std_map.insert(key, step)),
                6..=8 => assert_eq!(ours.remove(&key), std_map.remove(&key), "remove {key}"),
                _ if step % 97 == 0 => {
                    ours.retain(|k, v| (k ^ *v) % 3 != 0);
                    std_map.retain(|k, v| (k ^ *v) % 3 != 0);
                }
                _ => assert_eq!(ours.get(&key), std_map.get(&key), "get {key}"),
            }
            assert_eq!(ours.len(), std_map.len());
        }
        assert!(std_map.len() > 500, "the test kept a map of some size");
        for (k, v) in &std_map {
            assert_eq!(ours.get(k), Some(v));
        }
        for k in 0..2_000u64 {
            assert_eq!(ours.contains_key(&k), std_map.contains_key(&k));
        }
        // prune: a retain only once the map has grown past its mark.
        let mut small: HashedMap<u64> = HashedMap::default();
        small.extend((0..10).map(|k| (k, k)));
        small.prune(|_, v| *v >= 5);
        assert_eq!(small.len(), 5, "the first prune runs");
        small.extend((10..20).map(|k| (k, k)));
        small.prune(|_, v| *v >= 15);
        assert_eq!(small.len(), 15, "and the next only past 4,096 entries");
        ours.extend([(1, 1), (2, 2)]);
        ours.retain(|_, _| false);
        assert!(ours.is_empty() && ours.get(&1).is_none() && ours.remove(&2).is_none());
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
        // Every byte next to a digit range is not a digit, in either half.
        for bad in ["/", ":", "`", "g", "G", "\u{e9}", "\u{0}"] {
            for at in [0, 7, 8, 23] {
                let mut id = a.to_string();
                id.replace_range(at..at + 1, bad);
                assert_eq!(id_key(&id) >> 127, 1, "{id:?}");
            }
        }
        assert_eq!(id_key("ffffffffffffffffffffffff"), (1 << 96) - 1);
        let mut set = IdSet::default();
        assert!(set.insert(id_key(a)) && !set.insert(id_key(a)) && set.insert(id_key("x")));
    }

    #[test]
    fn a_table_holds_each_key_once_as_it_grows() {
        let mut set = Table::default();
        // Distinct keys that differ in the high half, the low half or both (0 among them).
        let keys: Vec<u128> = (0..5_000u128)
            .map(|n| match n % 3 {
                0 => n << 64,
                1 => n,
                _ => (n << 70) | (n << 20),
            })
            .collect();
        assert!(keys.iter().all(|&k| set.insert(k)), "every key is new once");
        assert!(
            keys.iter().all(|&k| !set.insert(k)),
            "and known after the table grew"
        );
        assert_eq!(
            set.len,
            keys.len() - 1,
            "0 (the empty slot's value) is kept aside"
        );
        assert!(set.has_empty && !set.insert(0));
        assert!(set.insert(1 << 127) && !set.insert(1 << 127));
    }

    /// `IdSet::insert` against std's set, for every key of `keys` in turn.
    fn agrees_with_std(keys: &[u128]) {
        let mut set = IdSet::default();
        let mut std_set = std::collections::HashSet::new();
        for (at, &k) in keys.iter().enumerate() {
            assert_eq!(set.insert(k), std_set.insert(k), "key {k:#x}, number {at}");
        }
    }

    #[test]
    fn an_id_set_holds_each_key_once_in_order_or_not() {
        let up: Vec<u128> = (0..3_000u128).map(|n| (7 << 64) | (n * 3)).collect();
        let down: Vec<u128> = up.iter().rev().copied().collect();
        for keys in [&up, &down] {
            let mut set = IdSet::default();
            assert!(keys.iter().all(|&k| set.insert(k)), "each new once");
            assert!(keys.iter().all(|&k| !set.insert(k)), "then known");
            assert!(set.rest.len == 0, "all of them in the run");
        }
        // A run with keys behind it, in it and beyond it, and each of them again (0 too).
        let mut mixed = up.clone();
        for n in 0..1_000u128 {
            mixed.push(match n % 4 {
                0 => (7 << 64) | (n * 3),     // in the run
                1 => (7 << 64) | (n * 3 + 1), // between two of its keys
                2 => n - 2,                   // below all of them, 0 first
                _ => (8 << 64) | n,           // beyond its end: the run goes on
            });
        }
        let again = mixed.clone();
        mixed.extend(again);
        agrees_with_std(&mixed);
        // Descending, then a page that starts over from the top (a shifted page).
        let mut shifted = down.clone();
        shifted.extend(down.iter().take(500));
        shifted.extend((0..500u128).map(|n| (9 << 64) | n));
        agrees_with_std(&shifted);
        // Pseudo-random keys from a small range: no order at all, many repeats.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let random: Vec<u128> = (0..20_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                u128::from(x % 5_000) << (x % 3 * 40)
            })
            .collect();
        agrees_with_std(&random);
    }
}
