//! The runs: ways to run a cluster beyond one hand-written scenario.
//!
//! Which [`seeds`] a test runs, the randomized fault runs of [`chaos`], the [`bare`] loop that
//! the benchmark measures the harness against, and [`live`]: one run watched and steered in a
//! browser.

pub mod bare;
pub mod chaos;
pub mod live;
pub mod seeds;
