//! Lowe's memoization: the configurations the search has already been through.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use crate::bitset::Bitset;

/// What the cache remembers of one configuration: the known-outcome operations placed and the
/// state (the key), and which unknown-outcome operations were placed to get there.
struct Entry<S> {
    known: Bitset,
    state: S,
    /// One set per visit not dominated by an earlier one (see [`Cache::visit`]).
    unknown: Vec<Bitset>,
}

/// Lowe's memoization, with one refinement for unknown outcomes.
///
/// A configuration is (known-outcome ops placed K, unknown-outcome ops placed U, state s). If
/// the search already visited (K, U', s) and now reaches (K, U, s) with U' a subset of U, the
/// new one can do nothing the old one could not: success depends on K alone, and an unknown op
/// left unplaced constrains nothing (it has no return), so every continuation from (K, U, s)
/// is one from (K, U', s). Without unknown outcomes this is Lowe's plain "(set, state) seen
/// before"; with them, it keeps the search from trying every subset of the writes whose
/// clients gave up.
///
/// Entries are found by a 64-bit hash of (K, s) and compared in full. The map is never
/// iterated, so no result depends on its order.
pub(crate) struct Cache<S> {
    buckets: HashMap<u64, Vec<Entry<S>>, BuildHasherDefault<PassThrough>>,
    entries: usize,
}

impl<S: Clone + Eq + Hash> Cache<S> {
    pub(crate) fn new() -> Self {
        Cache { buckets: HashMap::default(), entries: 0 }
    }

    /// How many (K, U, s) visits are remembered.
    pub(crate) fn len(&self) -> usize {
        self.entries
    }

    /// Records a visit to (known, unknown, state), whose K has the Zobrist hash `known_hash`;
    /// false if an earlier visit dominates it (nothing new to search from here).
    pub(crate) fn visit(
        &mut self,
        known_hash: u64,
        known: &Bitset,
        unknown: &Bitset,
        state: &S,
    ) -> bool {
        let mut hasher = Mix(known_hash);
        state.hash(&mut hasher);
        let bucket = self.buckets.entry(hasher.finish()).or_default();
        match bucket.iter_mut().find(|e| e.known == *known && e.state == *state) {
            Some(entry) => {
                if entry.unknown.iter().any(|seen| seen.is_subset_of(unknown)) {
                    return false;
                }
                // Earlier visits that placed more unknown ops are dominated by this one now.
                let before = entry.unknown.len();
                entry.unknown.retain(|seen| !unknown.is_subset_of(seen));
                self.entries -= before - entry.unknown.len();
                entry.unknown.push(unknown.clone());
            }
            None => bucket.push(Entry {
                known: known.clone(),
                state: state.clone(),
                unknown: vec![unknown.clone()],
            }),
        }
        self.entries += 1;
        true
    }
}

/// Zobrist hashing (A. Zobrist, 1970): one random 64-bit key per operation; the hash of a set
/// is the XOR of its members' keys, so placing or removing an operation updates it in O(1)
/// instead of rehashing the whole bitset at every step.
pub(crate) fn zobrist_keys(count: usize) -> Vec<u64> {
    let mut seed = 0x5EED_u64;
    (0..count)
        .map(|_| {
            // SplitMix64: fixed keys, so hashing (and the cache's bucket layout) is the same
            // on every run and machine.
            seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = seed;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        })
        .collect()
}

/// A small, fast multiplicative hasher for model states (FxHash's mixing step), started from
/// the set's Zobrist hash.
struct Mix(u64);

impl Hasher for Mix {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7C_C1_B7_27_22_0A_95);
    }

    fn write_u8(&mut self, byte: u8) {
        self.write_u64(u64::from(byte));
    }

    fn write_usize(&mut self, word: usize) {
        self.write_u64(word as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The map's keys are already hashes: use them as they are.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn write(&mut self, _bytes: &[u8]) {
        unreachable!("only u64 keys")
    }

    fn write_u64(&mut self, word: u64) {
        self.0 = word;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
