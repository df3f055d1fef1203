//! Lowe's memoization: the configurations the search has already been through.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use crate::bitset::Bitset;

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
/// Flat memory: every bitset lives in one of two word arenas, every entry in one vector,
/// chained by index; the only per-entry allocation is whatever the model's state holds. An
/// entry is found by a 64-bit hash of (K, s) and compared in full. The map is never iterated,
/// so no result depends on its order.
pub(crate) struct Cache<S> {
    /// Hash of (K, s) -> the first entry with that hash (more are chained by `next`).
    buckets: HashMap<u64, u32, BuildHasherDefault<PassThrough>>,
    entries: Vec<Entry<S>>,
    /// Every entry's K, compressed ([`window`]): entry `e`'s words are
    /// `known_words[e.known_start..][..e.known_len]`, from word `e.known_low` on.
    known_words: Vec<u64>,
    /// The U sets seen with each entry: node `n`'s set is `unknown_words[n * unknown_width..]`.
    unknown_nodes: Vec<UnknownNode>,
    unknown_words: Vec<u64>,
    unknown_width: usize,
    /// Live U sets (dominated ones are unlinked and no longer counted).
    live: usize,
}

/// One (K, s) seen: its state, the next entry of its bucket, the first of its U sets, and
/// where its K is.
struct Entry<S> {
    state: S,
    next: u32,
    first_unknown: u32,
    known_low: u32,
    known_start: u32,
    known_len: u32,
}

/// One U set of an entry, and the next one of the same entry.
struct UnknownNode {
    next: u32,
}

/// "No next": the end of a chain.
const NONE: u32 = u32::MAX;

impl<S: Clone + Eq + Hash> Cache<S> {
    /// A cache for sets of known-outcome operations and of `unknown` unknown-outcome ones.
    pub(crate) fn new(unknown: usize) -> Self {
        Cache {
            buckets: HashMap::default(),
            entries: Vec::new(),
            known_words: Vec::new(),
            unknown_nodes: Vec::new(),
            unknown_words: Vec::new(),
            unknown_width: unknown.div_ceil(64),
            live: 0,
        }
    }

    /// How many (K, U, s) visits are remembered (dominated ones not counted).
    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// Bytes of bitsets held (the arenas), for the bench's memory figure.
    pub(crate) fn bitset_bytes(&self) -> usize {
        (self.known_words.len() + self.unknown_words.len()) * 8
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
        let hash = hasher.finish();
        let (low, words) = window(known.words());
        let mut at = self.buckets.get(&hash).copied().unwrap_or(NONE);
        while at != NONE {
            let entry = &self.entries[at as usize];
            if entry.state == *state && entry.known_low == low && self.known_of(at) == words {
                return self.visit_entry(at, unknown);
            }
            at = entry.next;
        }
        let index = self.entries.len() as u32;
        let first_unknown = self.push_unknown(unknown, NONE);
        let next = self.buckets.insert(hash, index).unwrap_or(NONE);
        self.entries.push(Entry {
            state: state.clone(),
            next,
            first_unknown,
            known_low: low,
            known_start: self.known_words.len() as u32,
            known_len: words.len() as u32,
        });
        self.known_words.extend_from_slice(words);
        true
    }

    /// (K, s) was seen: is some U' seen with it a subset of `unknown`? If not, remember
    /// `unknown`, dropping the U' it dominates.
    fn visit_entry(&mut self, entry: u32, unknown: &Bitset) -> bool {
        let mut at = self.entries[entry as usize].first_unknown;
        while at != NONE {
            if is_subset(self.unknown_of(at), unknown.words()) {
                return false;
            }
            at = self.unknown_nodes[at as usize].next;
        }
        // Unlink the sets this one dominates (supersets of it).
        let mut kept = NONE;
        let mut at = self.entries[entry as usize].first_unknown;
        let mut dropped = 0;
        let mut chain = Vec::new();
        while at != NONE {
            if !is_subset(unknown.words(), self.unknown_of(at)) {
                chain.push(at);
            } else {
                dropped += 1;
            }
            at = self.unknown_nodes[at as usize].next;
        }
        for &node in chain.iter().rev() {
            self.unknown_nodes[node as usize].next = kept;
            kept = node;
        }
        self.live -= dropped;
        self.entries[entry as usize].first_unknown = self.push_unknown(unknown, kept);
        true
    }

    fn push_unknown(&mut self, unknown: &Bitset, next: u32) -> u32 {
        let index = self.unknown_nodes.len() as u32;
        self.unknown_nodes.push(UnknownNode { next });
        self.unknown_words.extend_from_slice(unknown.words());
        self.live += 1;
        index
    }

    fn known_of(&self, entry: u32) -> &[u64] {
        let entry = &self.entries[entry as usize];
        let start = entry.known_start as usize;
        &self.known_words[start..start + entry.known_len as usize]
    }

    fn unknown_of(&self, node: u32) -> &[u64] {
        let start = node as usize * self.unknown_width;
        &self.unknown_words[start..start + self.unknown_width]
    }
}

/// A set of placed operations, compressed: the index of its first word that is not full, and
/// the words from there to its last non-empty one. The search numbers operations in call
/// order and places them roughly in that order, so a set is "every operation called before
/// some time, and a few more": its full words are dropped and what is kept is a word or two,
/// not `n / 64` (a 10,000-operation register history: 16 bytes an entry instead of 1,256).
/// Two sets are equal exactly when their windows are.
fn window(words: &[u64]) -> (u32, &[u64]) {
    let low = words.iter().position(|&word| word != u64::MAX).unwrap_or(words.len());
    let high = words.iter().rposition(|&word| word != 0).map_or(0, |last| last + 1).max(low);
    (low as u32, &words[low..high])
}

/// Whether every bit of `a` is in `b`.
fn is_subset(a: &[u64], b: &[u64]) -> bool {
    a.iter().zip(b).all(|(a, b)| a & !b == 0)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn set(len: usize, bits: impl IntoIterator<Item = usize>) -> Bitset {
        let mut set = Bitset::new(len);
        bits.into_iter().for_each(|bit| set.set(bit));
        set
    }

    /// Entries that share a hash (here forced: every visit says hash 0) are told apart by their
    /// full set and state, so a collision never merges two configurations. The two sets below
    /// keep the same words after their full ones (`[1]`) but from different places.
    #[test]
    fn colliding_hashes_are_told_apart_by_set_and_state() {
        let mut cache: Cache<u8> = Cache::new(0);
        let no_unknown = Bitset::new(0);
        let first_word_and_one = set(192, (0..64).chain([64]));
        let just_one = set(192, [0]);
        assert_eq!(window(first_word_and_one.words()), (1, &[1u64][..]));
        assert_eq!(window(just_one.words()), (0, &[1u64][..]));
        assert!(cache.visit(0, &first_word_and_one, &no_unknown, &7));
        assert!(cache.visit(0, &just_one, &no_unknown, &7), "another set, same hash and state");
        assert!(cache.visit(0, &just_one, &no_unknown, &8), "same set, another state");
        assert!(!cache.visit(0, &first_word_and_one, &no_unknown, &7), "seen");
        assert!(!cache.visit(0, &just_one, &no_unknown, &8), "seen");
        assert_eq!(cache.len(), 3);
    }

    /// A visit whose unknown set U is a subset of earlier ones' (same K and state) dominates
    /// them: it can do all they could, with fewer operations of unknown outcome spent. They
    /// are dropped, and `len` counts only what is kept (the bench's cache figure).
    #[test]
    fn a_smaller_unknown_set_drops_the_sets_it_dominates() {
        let mut cache: Cache<u8> = Cache::new(3);
        let known = set(4, [0]);
        assert!(cache.visit(9, &known, &set(3, [0, 1]), &7));
        assert!(cache.visit(9, &known, &set(3, [0, 2]), &7), "neither set holds the other");
        assert_eq!(cache.len(), 2);
        assert!(cache.visit(9, &known, &set(3, [0]), &7), "a subset of both: new");
        assert_eq!(cache.len(), 1, "{{0}} dominates {{0, 1}} and {{0, 2}}: both dropped");
        assert!(!cache.visit(9, &known, &set(3, [0, 1]), &7), "dominated by {{0}}");
        assert!(cache.visit(9, &known, &set(3, [1]), &7), "not a superset of {{0}}");
        assert_eq!(cache.len(), 2);
    }

    /// Distinct configurations get distinct hashes: the hash mixes the set's Zobrist hash with
    /// every part of the state (integers of each width, strings), so each bucket holds one
    /// entry and a lookup costs one comparison. A weak hash would keep every verdict (entries
    /// are compared in full) and only make lookups walk long chains, which no verdict shows.
    #[test]
    fn distinct_configurations_hash_apart() {
        type State = (u64, usize, String, u8);
        let keys = zobrist_keys(64);
        assert_eq!(keys.len(), 64, "one key per operation");
        let no_unknown = Bitset::new(0);
        let mut cache: Cache<State> = Cache::new(0);
        let mut states: Vec<State> = vec![(0, 0, String::new(), 0)];
        for n in 1..8 {
            states.push((n, 0, String::new(), 0));
            states.push((0, n as usize, String::new(), 0));
            states.push((0, 0, format!("v{n}"), 0));
            states.push((0, 0, String::new(), n as u8));
        }
        for (op, &key) in keys.iter().enumerate() {
            for state in &states {
                assert!(cache.visit(key, &set(64, [op]), &no_unknown, state), "{op} {state:?}");
            }
        }
        let visits = keys.len() * states.len();
        assert_eq!(cache.buckets.len(), visits, "distinct hashes for {visits} configurations");
    }

    /// The window of an empty set and of a full one hold no words.
    #[test]
    fn window_of_empty_and_full_sets_is_empty() {
        assert_eq!(window(&[0, 0]), (0, &[][..]));
        assert_eq!(window(&[u64::MAX, u64::MAX]), (2, &[][..]));
        assert_eq!(window(&[u64::MAX, 0, 4, 0]), (1, &[0, 4][..]));
    }
}
