//! A fixed-size set of operation numbers, one bit each.

/// The set of operations linearized so far, one bit per operation of a partition.
///
/// One of these is mutated in place during the search; a copy is made only when a new
/// (set, state) pair goes into the cache, so memory stays flat: `n / 64` words per cache entry.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub(crate) struct Bitset {
    words: Box<[u64]>,
}

impl Bitset {
    /// An empty set able to hold `0..len`.
    pub(crate) fn new(len: usize) -> Self {
        Bitset { words: vec![0; len.div_ceil(64)].into_boxed_slice() }
    }

    pub(crate) fn set(&mut self, bit: usize) {
        self.words[bit / 64] |= 1 << (bit % 64);
    }

    pub(crate) fn clear(&mut self, bit: usize) {
        self.words[bit / 64] &= !(1 << (bit % 64));
    }

    /// Whether every element of `self` is in `other` (same length).
    pub(crate) fn is_subset_of(&self, other: &Bitset) -> bool {
        self.words.iter().zip(other.words.iter()).all(|(a, b)| a & !b == 0)
    }

    /// Bytes held by the words (for the bench's memory figure).
    pub(crate) fn bytes(&self) -> usize {
        self.words.len() * 8
    }
}
