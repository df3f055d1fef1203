//! A fixed-size set of operation numbers, one bit each.

/// The set of operations linearized so far, one bit per operation of a partition.
///
/// One of these is mutated in place during the search; the cache copies its words into an
/// arena of its own, keeping only the words after the full ones (`cache::window`).
#[derive(Clone, PartialEq, Eq, Debug)]
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

    /// The words, bit `i` in word `i / 64`.
    pub(crate) fn words(&self) -> &[u64] {
        &self.words
    }
}
