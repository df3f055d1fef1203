//! A small seeded pseudo-random generator (SplitMix64).
//!
//! Written here rather than taken from a crate on purpose: its output is fixed forever by these
//! few lines, so a seed printed in a failure report replays the same run on any machine, with
//! any version of any dependency. It is not cryptographic and does not need to be.

/// A seeded pseudo-random generator. Cloning it clones its position in the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator whose whole stream is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// An independent generator for the sub-stream named `stream` (e.g. network, faults,
    /// node 3's timers), so that a new random draw in one place does not shift every other one.
    pub fn fork(&self, stream: u64) -> Rng {
        let mut mix = Rng::new(self.state ^ stream.wrapping_mul(0xA076_1D64_78BD_642F));
        Rng::new(mix.next_u64())
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `low..high`, uniform up to a negligible bias; `low` if the range is empty.
    pub fn range(&mut self, low: u64, high: u64) -> u64 {
        if high <= low {
            return low;
        }
        let span = high - low;
        // Multiply-shift (Lemire) maps 64 random bits onto `span` without a division.
        low + ((u128::from(self.next_u64()) * u128::from(span)) >> 64) as u64
    }

    /// One of `choices`, each with probability `weight / total`; `None` if every weight is 0.
    /// Draws one number.
    pub fn weighted<T: Copy>(&mut self, choices: &[(T, u64)]) -> Option<T> {
        let total: u64 = choices.iter().map(|&(_, weight)| weight).sum();
        let mut draw = self.range(0, total);
        for &(choice, weight) in choices {
            if draw < weight {
                return Some(choice);
            }
            draw -= weight;
        }
        None
    }

    /// True with probability `p` (clamped to 0..=1).
    pub fn chance(&mut self, p: f64) -> bool {
        if p <= 0.0 {
            return false;
        }
        if p >= 1.0 {
            return true;
        }
        // 53 random bits make a uniform f64 in [0, 1).
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}
