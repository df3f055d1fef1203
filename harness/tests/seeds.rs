//! Which seeds a randomized test runs.

use harness::seeds::{DEFAULT_SEEDS, seeds_from};
use pretty_assertions::assert_eq;
use rstest::rstest;

/// `RAFT_SEED` replays one seed, `RAFT_SEEDS` runs many, neither runs the default few.
#[rstest]
#[case::default_seeds(None, None, DEFAULT_SEEDS.to_vec())]
#[case::one_seed_to_replay(Some("42"), None, vec![42])]
#[case::replay_wins_over_stress(Some("42"), Some("1000"), vec![42])]
#[case::stress_count(None, Some("7"), vec![1, 2, 3, 4, 5, 6, 7])]
#[case::stress_range(None, Some("10..13"), vec![10, 11, 12])]
fn seeds_follow_the_environment(
    #[case] seed: Option<&str>,
    #[case] seeds: Option<&str>,
    #[case] expected: Vec<u64>,
) {
    assert_eq!(seeds_from(seed, seeds), expected);
}

/// A typo in a seed variable is an error, not a silent default run.
#[test]
#[should_panic(expected = "RAFT_SEED=\"4x2\" is not a number")]
fn unparsable_seed_is_an_error() {
    seeds_from(Some("4x2"), None);
}

/// A choice of no seed is an error: a randomized test that runs no seed passes while checking
/// nothing.
#[rstest]
#[case::zero_seeds("0")]
#[case::empty_range("5..3")]
#[case::range_of_nothing("4..4")]
#[should_panic(expected = "selects no seed")]
fn choosing_no_seed_is_an_error(#[case] seeds: &str) {
    seeds_from(None, Some(seeds));
}
