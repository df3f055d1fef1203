//! Each safety check fires on the exact step that breaks its rule, and stays quiet on the legal
//! step next to it.
//!
//! Most tests drive [`Checks`] directly with scripted nodes: a test writes a node's log and
//! status by hand between observations, so each one shows the single step the checker judges.
//! The report and the periodic rescan are shown on a toy cluster.

mod common;

use std::cell::Cell;

use common::*;
use harness::checks::Checks;
use harness::{Cluster, Config, Envelope, Index, Node, NodeId, Rng, Role, Status, Term};
use pretty_assertions::assert_eq;
use rstest::rstest;

/// More reads than any log in these tests could need: a walk that never stops fails here.
const READ_LIMIT: usize = 1_000;

/// A node whose term, role, commit index and log a test sets by hand: only what the checks
/// read, no protocol.
#[derive(Debug)]
struct Scripted {
    id: NodeId,
    step: Step,
    /// How many entries the checks read since the last observation.
    reads: Cell<usize>,
}

/// What a scripted node shows the checker at one observation.
#[derive(Clone, Debug)]
struct Step {
    term: Term,
    role: Role,
    commit_index: Index,
    log: Vec<(Term, String)>,
}

fn step(term: Term, role: Role, commit_index: Index, log: &[(Term, &str)]) -> Step {
    let log = log.iter().map(|(term, command)| (*term, command.to_string())).collect();
    Step { term, role, commit_index, log }
}

fn follower(term: Term, commit_index: Index, log: &[(Term, &str)]) -> Step {
    step(term, Role::Follower, commit_index, log)
}

fn leader(term: Term, commit_index: Index, log: &[(Term, &str)]) -> Step {
    step(term, Role::Leader, commit_index, log)
}

impl Node for Scripted {
    type Message = Message;
    type Command = String;

    fn new(id: NodeId, _peers: Vec<NodeId>, _config: Config, _rng: Rng) -> Self {
        Scripted { id, step: follower(0, 0, &[]), reads: Cell::new(0) }
    }

    fn id(&self) -> NodeId {
        self.id
    }

    fn tick(&mut self) {}

    fn step(&mut self, _from: NodeId, _message: Message) {}

    fn take_messages(&mut self) -> Vec<Envelope<Message>> {
        Vec::new()
    }

    fn status(&self) -> Status {
        Status {
            term: self.step.term,
            role: self.step.role,
            voted_for: None,
            commit_index: self.step.commit_index,
            last_log_index: self.step.log.len() as Index,
            snapshot_index: 0,
        }
    }

    fn log_entry(&self, index: Index) -> Option<(Term, &String)> {
        let reads = self.reads.get() + 1;
        assert!(
            reads <= READ_LIMIT,
            "the checks read {reads} entries of n{}'s {}-entry log in one observation",
            self.id,
            self.step.log.len()
        );
        self.reads.set(reads);
        let (term, command) = self.step.log.get((index as usize).checked_sub(1)?)?;
        Some((*term, command))
    }
}

/// A checker and the scripted nodes it watches.
struct Scene {
    checks: Checks<String>,
    nodes: Vec<Scripted>,
}

impl Scene {
    fn new(size: usize) -> Self {
        let nodes = (1..=size as NodeId)
            .map(|id| Scripted::new(id, Vec::new(), Config::default(), Rng::new(id)))
            .collect();
        Scene { checks: Checks::new(size), nodes }
    }

    /// Node `id` now shows `step`; the checker observes it, as after an event.
    fn observe(&mut self, id: NodeId, step: Step) -> Result<(), String> {
        let node = &mut self.nodes[id as usize - 1];
        node.step = step;
        node.reads.set(0);
        let status = node.status();
        self.checks.observe(id, &*node, &status).map_err(|violation| violation.to_string())
    }

    /// The checker rebuilds node `id`'s shadow from scratch and checks it again.
    fn rescan(&mut self, id: NodeId) -> Result<(), String> {
        let node = &self.nodes[id as usize - 1];
        node.reads.set(0);
        let status = node.status();
        self.checks.rescan(id, node, &status).map_err(|violation| violation.to_string())
    }

    /// How many entries the checker read at node `id`'s last observation.
    fn reads(&self, id: NodeId) -> usize {
        self.nodes[id as usize - 1].reads.get()
    }
}

/// A follower deletes a conflicting suffix and appends the leader's entries at the same
/// indexes (Figure 2, AppendEntries steps 3 and 4): a legal rewrite of its tail, no alarm;
/// its new entries are checked on top of the prefix it kept (§5.3).
#[test]
fn legal_truncate_and_replace_raises_no_alarm() {
    let mut scene = Scene::new(3);
    scene.observe(1, leader(1, 0, &[(1, "a"), (1, "b")])).unwrap();
    scene.observe(2, follower(1, 0, &[(1, "a"), (1, "b")])).unwrap();
    scene.observe(3, leader(2, 0, &[(1, "a"), (2, "c"), (2, "d")])).unwrap();

    let replaced = scene.observe(2, follower(2, 0, &[(1, "a"), (2, "c"), (2, "d")]));

    assert_eq!(replaced, Ok(()));
}

/// After a follower truncates its tail, the entry it appends at the same index is compared
/// with the leader's: one with the leader's index and term but another command breaks Log
/// Matching (§5.3).
#[test]
fn divergent_entry_after_truncate_and_replace_is_caught() {
    let mut scene = Scene::new(3);
    scene.observe(1, leader(2, 0, &[(1, "a"), (2, "c")])).unwrap();
    scene.observe(2, follower(1, 0, &[(1, "a"), (1, "b")])).unwrap();

    let diverged = scene.observe(2, follower(2, 0, &[(1, "a"), (2, "x")]));

    assert_eq!(
        diverged,
        Err("Log Matching (§5.3) violated: n2 and n1 both hold an entry at index 2 in term 2, \
             but their logs differ at or before index 2"
            .to_string())
    );
}

/// The checker keeps up with a log in O(1) per event: an unchanged 100-entry log costs one
/// read, its last entry, to see that nothing changed.
#[test]
fn unchanged_log_costs_one_read_per_observation() {
    let mut scene = Scene::new(3);
    let log: Vec<(Term, String)> = (1..=100).map(|i| (1, format!("x{i}"))).collect();
    let log: Vec<(Term, &str)> = log.iter().map(|(term, command)| (*term, &**command)).collect();
    scene.observe(1, leader(1, 0, &log)).unwrap();

    scene.observe(1, leader(1, 0, &log)).unwrap();

    assert_eq!(scene.reads(1), 1);
}

/// A committed entry is never overwritten (§5.4.3): a node that rewrites an entry at or below
/// its commit_index, even without moving commit_index, is caught at once.
#[test]
fn overwriting_a_committed_entry_is_caught() {
    let mut scene = Scene::new(3);
    scene.observe(1, leader(1, 2, &[(1, "a"), (1, "b")])).unwrap();
    scene.observe(2, follower(1, 2, &[(1, "a"), (1, "b")])).unwrap();

    let overwritten = scene.observe(2, follower(2, 2, &[(1, "a"), (2, "c")]));

    assert_eq!(
        overwritten,
        Err("State Machine Safety (§5.4.3) violated: n2's log up to its commit_index 2 is no \
             longer the committed log (n1 committed it): a committed entry was overwritten"
            .to_string())
    );
}

/// Leader Completeness (§5.4): a leader holds every entry committed in an earlier term. One
/// without them is caught at the first observation that shows it leading, not later.
#[test]
fn leader_without_an_entry_committed_in_an_earlier_term_is_caught_as_it_takes_office() {
    let mut scene = Scene::new(3);
    scene.observe(1, leader(1, 1, &[(1, "a")])).unwrap();
    scene.observe(3, follower(2, 0, &[])).unwrap();

    let elected = scene.observe(3, leader(2, 0, &[]));

    assert_eq!(
        elected,
        Err("Leader Completeness (§5.4) violated: n3 became leader in term 2 without the entries \
             up to index 1 (term 1) that n1 saw committed in term 1"
            .to_string())
    );
}

/// Leader Completeness (§5.4) holds for a leader whose log ends exactly at the last entry
/// committed in an earlier term, when it takes office and as it goes on leading.
#[test]
fn leader_holding_every_entry_committed_in_earlier_terms_raises_no_alarm() {
    let mut scene = Scene::new(3);
    scene.observe(1, leader(1, 2, &[(1, "a"), (1, "b")])).unwrap();
    scene.observe(2, follower(1, 2, &[(1, "a"), (1, "b")])).unwrap();

    let elected = scene.observe(2, leader(2, 2, &[(1, "a"), (1, "b")]));
    let leading = scene.observe(2, leader(2, 2, &[(1, "a"), (1, "b"), (2, "c")]));

    assert_eq!((elected, leading), (Ok(()), Ok(())));
}

/// Leader Completeness (§5.4) binds leaders only: a deposed leader that stepped down without
/// the entries committed after it lost office is a lagging follower, which is legal.
#[test]
fn deposed_leader_behind_later_commits_raises_no_alarm() {
    let mut scene = Scene::new(3);
    scene.observe(1, leader(1, 1, &[(1, "a")])).unwrap();
    scene.observe(2, follower(1, 1, &[(1, "a")])).unwrap();
    scene.observe(2, leader(2, 1, &[(1, "a"), (2, "b")])).unwrap();
    scene.observe(2, leader(2, 2, &[(1, "a"), (2, "b")])).unwrap();

    let deposed = scene.observe(1, follower(3, 1, &[(1, "a")]));

    assert_eq!(deposed, Ok(()));
}

/// Log Matching (§5.3) compares whole prefixes: two logs with the same entry at index 2 in
/// term 3 must agree before it, so an earlier entry that differs only in its term breaks it
/// (a follower that skipped the prev_log_term check).
#[test]
fn logs_differing_only_in_an_earlier_term_are_told_apart() {
    let mut scene = Scene::new(3);
    scene.observe(1, leader(3, 0, &[(1, "a"), (3, "b")])).unwrap();

    let diverged = scene.observe(2, follower(3, 0, &[(2, "a"), (3, "b")]));

    assert_eq!(
        diverged,
        Err("Log Matching (§5.3) violated: n2 and n1 both hold an entry at index 2 in term 3, \
             but their logs differ at or before index 2"
            .to_string())
    );
}

/// Two entries with the same index and term hold the same command (§5.3): commands that
/// differ in a single character are told apart.
#[rstest]
#[case::last_digit("x1", "x2")]
#[case::first_letter("a", "b")]
#[case::value_in_a_command("set k 1", "set k 2")]
#[case::swapped_letters("ab", "ba")]
#[case::key_in_a_command("put x", "put y")]
fn commands_differing_in_one_character_are_told_apart(#[case] left: &str, #[case] right: &str) {
    let mut scene = Scene::new(3);
    scene.observe(1, leader(1, 0, &[(1, left)])).unwrap();

    let diverged = scene.observe(2, follower(1, 0, &[(1, right)]));

    assert_eq!(
        diverged,
        Err("Log Matching (§5.3) violated: n2 and n1 both hold an entry at index 1 in term 1, \
             but their logs differ at or before index 1"
            .to_string())
    );
}

/// An entry rewritten in place in the middle of a log (same index and term, another command)
/// leaves the tail as it was, so only a full rescan sees it; the rescan reports it as broken
/// Log Matching (§5.3).
#[test]
fn rescan_catches_an_entry_changed_in_place_mid_log() {
    let mut scene = Scene::new(3);
    scene.observe(1, leader(1, 0, &[(1, "a"), (1, "b"), (1, "c")])).unwrap();
    scene.observe(2, follower(1, 0, &[(1, "a"), (1, "b"), (1, "c")])).unwrap();
    let rewritten = scene.observe(2, follower(1, 0, &[(1, "a"), (1, "B"), (1, "c")]));
    assert_eq!(rewritten, Ok(()), "the tail walk is not expected to see it");

    let rescanned = scene.rescan(2);

    assert_eq!(
        rescanned,
        Err("Log Matching (§5.3) violated: n2 and n1 both hold an entry at index 2 in term 1, \
             but their logs differ at or before index 2"
            .to_string())
    );
}

/// The cluster rescans one node's log every so often by itself, so an entry rewritten in
/// place is caught even if the test never calls `check_logs` (§5.3).
#[test]
fn periodic_rescan_catches_an_entry_changed_in_place() {
    let report = failure_of(|| {
        let mut cluster = Cluster::<Toy<REWRITES_IN_PLACE>>::new(3, 7).with_disks();
        for round in 0..100 {
            cluster.run_for(10);
            let _ = cluster.propose(1, format!("x{round}"));
        }
    });
    let expected = "Log Matching (§5.3) violated: n2 and n1 both hold an entry at index 2 in \
                    term 1, but their logs differ at or before index 2";
    assert!(report.contains(expected), "expected {expected:?} in the report:\n{report}");
}

/// The report's state table shows how far each node applied its log (Figure 2's
/// `last_applied`): here an isolated node applied nothing while the others applied both
/// commands.
#[test]
fn report_shows_each_nodes_last_applied() {
    let report = failure_of(|| {
        let mut cluster = Cluster::<Correct>::new(3, 1);
        cluster.isolate(3);
        cluster.submit("a".to_string(), 2);
        cluster.submit("b".to_string(), 2);
        cluster.fail("stop");
    });
    let rows: Vec<&str> = report
        .lines()
        .skip_while(|line| !line.starts_with("state at tick"))
        .skip(2)
        .take(3)
        .collect();
    let last_applied: Vec<&str> =
        rows.iter().map(|row| row.split_whitespace().nth(7).unwrap_or("?")).collect();
    assert_eq!(last_applied, ["2", "2", "0"], "state table:\n{}", rows.join("\n"));
}

/// `current_term` is persistent (§5.1): the checker remembers a node's highest term across a
/// restart, so a term that goes below it afterwards is caught even where no image of the node
/// was kept at its crash (a checker driven directly).
#[test]
fn term_below_the_one_before_a_restart_is_caught() {
    let mut scene = Scene::new(3);
    scene.observe(2, follower(4, 0, &[])).unwrap();
    scene.checks.restarted(2);

    let lower = scene.observe(2, follower(3, 0, &[]));

    assert_eq!(
        lower,
        Err("Term monotonicity (§5.1) violated: n2's current_term went down from 4 to 3"
            .to_string())
    );
}
