//! Which seeds a randomized test runs: a few fixed ones by default, many in the stress pass,
//! exactly one when replaying a failure.
//!
//! - `RAFT_SEED=<n>`: exactly `[n]` (the replay command of a failure report sets it);
//! - `RAFT_SEEDS=<k>`: seeds `1..=k` (the stress pass, e.g. `RAFT_SEEDS=2000`);
//!   `RAFT_SEEDS=<a>..<b>` runs seeds `a..b`, to split a stress pass between machines;
//! - neither: [`DEFAULT_SEEDS`], so that the default run stays fast.
//!
//! A story, a test built to reach one schedule, runs [`story_seeds`]: the default ones even in
//! the stress pass, or the one `RAFT_SEED` replays.

/// The seeds of the default run: few, fixed, and a prefix of every stress pass.
pub const DEFAULT_SEEDS: [u64; 5] = [1, 2, 3, 4, 5];

/// The seeds to run, from `RAFT_SEED` / `RAFT_SEEDS` (see the module doc).
///
/// Panics with a message naming the variable if its value does not parse, or selects no seed
/// (`RAFT_SEEDS=0`, `RAFT_SEEDS=5..3`): a typo must not silently run the default seeds, or
/// none.
pub fn seeds() -> Vec<u64> {
    seeds_from(
        std::env::var("RAFT_SEED").ok().as_deref(),
        std::env::var("RAFT_SEEDS").ok().as_deref(),
    )
}

/// The seeds of a story, a test built to reach one schedule (with
/// [`Cluster::story_step`](crate::Cluster::story_step)): [`DEFAULT_SEEDS`], in the stress pass
/// too, since more seeds would tell the same story again and only cost time; or exactly
/// `RAFT_SEED`, the one a failure report's replay command names. `RAFT_SEEDS` is not read.
///
/// ```ignore
/// for seed in harness::seeds::story_seeds() {
///     let mut cluster = Cluster::<RaftNode>::new(3, seed);
///     // ... set the scene, then each step of the story with `cluster.story_step(...)`
/// }
/// ```
pub fn story_seeds() -> Vec<u64> {
    seeds_from(std::env::var("RAFT_SEED").ok().as_deref(), None)
}

/// [`seeds`] with the two variables passed in, so that the rules can be tested without
/// touching the process environment.
pub fn seeds_from(seed: Option<&str>, seeds: Option<&str>) -> Vec<u64> {
    if let Some(text) = seed {
        return vec![parse("RAFT_SEED", text)];
    }
    let Some(text) = seeds else { return DEFAULT_SEEDS.to_vec() };
    let chosen: Vec<u64> = match text.split_once("..") {
        Some((low, high)) => (parse("RAFT_SEEDS", low)..parse("RAFT_SEEDS", high)).collect(),
        None => (1..=parse("RAFT_SEEDS", text)).collect(),
    };
    // A run of no seed would pass while checking nothing.
    assert!(
        !chosen.is_empty(),
        "RAFT_SEEDS={text:?} selects no seed: use RAFT_SEEDS=1000 (seeds 1..=1000) or a \
         non-empty range like RAFT_SEEDS=10..20"
    );
    chosen
}

fn parse(variable: &str, text: &str) -> u64 {
    text.trim().parse().unwrap_or_else(|_| {
        panic!("{variable}={text:?} is not a number: use {variable}=42 (or RAFT_SEEDS=10..20)")
    })
}
