//! The snapshot checks (§7) fire, with their rule and values, on states built to break them.
//!
//! These drive `Checks` directly with a node that is only a log and a snapshot boundary, so
//! that each test sets up exactly one broken state: a cluster run would have to find it.

use harness::checks::{Checks, hash_command};
use harness::machine::Machine;
use harness::{Applied, Config, Envelope, Index, Node, NodeId, Rng, Role, Snapshot, Status, Term};

/// A node that is its log (all entries of term 1, `log[i - 1]` at index `i`) and the index its
/// snapshot reaches; `log_entry` has nothing at or before it, as a compacted log.
struct Held {
    id: NodeId,
    log: Vec<String>,
    snapshot_index: Index,
}

impl Node for Held {
    type Message = String;
    type Command = String;

    fn new(id: NodeId, _peers: Vec<NodeId>, _config: Config, _rng: Rng) -> Self {
        Held { id, log: Vec::new(), snapshot_index: 0 }
    }
    fn id(&self) -> NodeId {
        self.id
    }
    fn tick(&mut self) {}
    fn step(&mut self, _from: NodeId, _message: String) {}
    fn take_messages(&mut self) -> Vec<Envelope<String>> {
        Vec::new()
    }
    fn status(&self) -> Status {
        unreachable!("the tests build statuses with `status`")
    }
    fn log_entry(&self, index: Index) -> Option<(Term, &String)> {
        if index <= self.snapshot_index {
            return None;
        }
        self.log.get(usize::try_from(index).ok()?.checked_sub(1)?).map(|command| (1, command))
    }
}

fn held(id: NodeId, commands: &[&str], snapshot_index: Index) -> Held {
    Held { id, log: commands.iter().map(|c| c.to_string()).collect(), snapshot_index }
}

fn status(node: &Held, commit_index: Index) -> Status {
    Status {
        term: 1,
        role: Role::Follower,
        voted_for: None,
        commit_index,
        last_log_index: node.log.len() as Index,
        snapshot_index: node.snapshot_index,
    }
}

/// The state machine after applying `commands` at indexes 1, 2, ...
fn machine(commands: &[&str]) -> Machine {
    (1..).zip(commands).fold(Machine::default(), |machine, (index, command)| {
        machine.applied(index, hash_command(&command.to_string()))
    })
}

/// Two nodes; node 1 committed and applied a, b, c; state machines on.
fn checks_after_node_1_applied_abc() -> Checks<String> {
    let mut checks = Checks::new(2);
    checks.track_machines();
    let one = held(1, &["a", "b", "c"], 0);
    checks.observe(1, &one, &status(&one, 3)).expect("node 1 commits a, b, c");
    let applied: Vec<Applied<String>> = (1..)
        .zip(["a", "b", "c"])
        .map(|(index, command)| Applied { index, term: 1, command: command.to_string() })
        .collect();
    checks.observe_applied(1, &status(&one, 3), &applied).expect("node 1 applies a, b, c");
    checks
}

fn snapshot(index: Index, term: Term, data: Vec<u8>) -> Snapshot {
    Snapshot { index, term, data }
}

/// Node 2 installs a snapshot through 3: its log starts there, and it hands the snapshot to
/// its state machine, which then holds exactly node 1's state.
#[test]
fn a_correct_snapshot_passes_and_the_state_machine_holds_it() {
    let mut checks = checks_after_node_1_applied_abc();
    let two = held(2, &["a", "b", "c"], 3);
    checks.observe(2, &two, &status(&two, 3)).expect("node 2's log starts after 3");
    let good = snapshot(3, 1, machine(&["a", "b", "c"]).encode());
    checks.observe_snapshot(2, &status(&two, 3), &good).expect("the state after a, b, c");
    assert_eq!(checks.machine(2), machine(&["a", "b", "c"]), "node 2's state machine");
}

/// A snapshot whose bytes are not the state after the commands applied through its index
/// breaks State Machine Safety (§5.4.3, §7).
#[test]
fn a_snapshot_with_other_bytes_breaks_state_machine_safety() {
    let mut checks = checks_after_node_1_applied_abc();
    let two = held(2, &["a", "b", "c"], 3);
    checks.observe(2, &two, &status(&two, 3)).expect("node 2's log starts after 3");
    let wrong = snapshot(3, 1, machine(&["a", "b", "x"]).encode());
    let violation = checks.observe_snapshot(2, &status(&two, 3), &wrong).unwrap_err();
    assert_eq!((violation.rule, violation.section), ("State Machine Safety", "§5.4.3, §7"));
    assert!(violation.detail.contains("n2 handed its state machine a snapshot through index 3"));
}

/// A snapshot handed out past the node's commit index, or claiming another term than the
/// committed entry at its index, holds entries that are not committed (§7).
#[test]
fn a_snapshot_past_commit_or_of_another_term_is_refused() {
    let mut checks = checks_after_node_1_applied_abc();
    let two = held(2, &["a", "b", "c"], 3);
    checks.observe(2, &two, &status(&two, 3)).expect("node 2's log starts after 3");
    let data = machine(&["a", "b", "c"]).encode();
    let other_term = checks.observe_snapshot(2, &status(&two, 3), &snapshot(3, 2, data.clone()));
    assert_eq!(other_term.unwrap_err().rule, "Snapshots hold committed entries only");
    let past_commit = checks.observe_snapshot(2, &status(&two, 2), &snapshot(3, 1, data));
    assert_eq!(past_commit.unwrap_err().rule, "Snapshots hold committed entries only");
}

/// A log that starts after entries the cluster has not committed compacted too much (§7).
#[test]
fn a_log_compacted_past_the_committed_entries_is_refused() {
    let mut checks = checks_after_node_1_applied_abc();
    let two = held(2, &["a", "b", "c", "d"], 4);
    let violation = checks.observe(2, &two, &status(&two, 4)).unwrap_err();
    assert_eq!(violation.rule, "Snapshots hold committed entries only");
    assert!(violation.detail.contains("committed only up to index 3"), "{}", violation.detail);
}

/// A snapshot index that goes back while the node is up grows back a compacted prefix (§7).
#[test]
fn a_snapshot_index_going_back_is_refused() {
    let mut checks = checks_after_node_1_applied_abc();
    let two = held(2, &["a", "b", "c"], 3);
    checks.observe(2, &two, &status(&two, 3)).expect("node 2's log starts after 3");
    let back = held(2, &["a", "b", "c"], 2);
    let violation = checks.observe(2, &back, &status(&back, 3)).unwrap_err();
    assert_eq!((violation.rule, violation.section), ("Snapshot monotonicity", "§7"));
}

/// A snapshot at or behind what the node's state machine applied would move it back; and
/// after a restart the snapshot must come before the entries after it (Figure 2, §7).
#[test]
fn a_state_machine_never_goes_back_or_skips_its_snapshot() {
    let mut checks = checks_after_node_1_applied_abc();
    let one = held(1, &["a", "b", "c"], 0);
    let old = snapshot(2, 1, machine(&["a", "b"]).encode());
    let back = checks.observe_snapshot(1, &status(&one, 3), &old).unwrap_err();
    assert_eq!(back.rule, "Apply in order");
    assert!(back.detail.contains("after applying through index 3"), "{}", back.detail);

    let compacted = held(1, &["a", "b", "c", "d"], 3);
    checks.crashed(1, &status(&one, 3));
    checks.restarted(1);
    checks.observe(1, &compacted, &status(&compacted, 4)).expect("node 1 back, commits d");
    let d = Applied { index: 4, term: 1, command: "d".to_string() };
    let skipped = checks.observe_applied(1, &status(&compacted, 4), &[d]).unwrap_err();
    assert_eq!((skipped.rule, skipped.section), ("Apply in order", "Figure 2, §7"));
    assert!(skipped.detail.contains("holds indexes 1..=0 only"), "{}", skipped.detail);
}

/// The snapshot is persistent state: a node that compacted through 3 and comes back with its
/// whole log and no snapshot did not write it, and the restart check names both indexes (§7).
#[test]
fn a_restart_without_the_snapshot_is_caught() {
    let mut checks = checks_after_node_1_applied_abc();
    let compacted = held(1, &["a", "b", "c"], 3);
    checks.observe(1, &compacted, &status(&compacted, 3)).expect("node 1 compacts through 3");
    checks.crashed(1, &status(&compacted, 3));
    checks.restarted(1);
    let whole = held(1, &["a", "b", "c"], 0);
    let violation = checks.check_restart(1, &whole, &status(&whole, 0)).unwrap_err();
    assert_eq!(violation.rule, "Persistent state survives a restart");
    assert!(
        violation.detail.contains(
            "n1 restarted with its log starting after a snapshot through index 0, but it had one \
             through index 3"
        ),
        "{}",
        violation.detail
    );
}
