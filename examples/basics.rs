//! The Rust this course needs, one section per concept, each tied to Raft.
//!
//! Run it with `cargo run --example basics` and read it beside `docs/00-rust-basics.md`: every
//! heading it prints is a section of that chapter, and the chapter quotes this file's code.
//! The types here are small stand-ins for the ones you write in the stages; this example
//! depends on no stage crate.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};

fn main() {
    structs();
    ownership_and_borrowing();
    enums_and_match();
    option_result_and_question_mark();
    collections();
    iterators();
    traits_and_generics();
    modules();
    tests_and_tables();
    serde_round_trip();
    todo_stubs();
    println!("\nNext: docs/01-data-structures.md, then `cargo test -p data-structures`.");
}

/// Prints a section heading; the chapter has the same headings.
fn section(title: &str) {
    println!("\n== {title} ==");
}

// ---------------------------------------------------------------------------------------------
// 1. Structs

// ANCHOR: structs
/// A term number (§5.1). Plain `u64` aliases, as in the stages: the name says which is which.
type Term = u64;
/// A log index: 1 for the first entry, 0 for the empty prefix before it (Figure 2).
type Index = u64;
/// A server's id.
type NodeId = u64;

/// One log entry: a client command and the term in which the leader received it (§5.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct LogEntry {
    term: Term,
    command: String,
}

impl LogEntry {
    /// `command` takes anything that turns into a `String`: `"x=1"` as well as a `String`.
    fn new(term: Term, command: impl Into<String>) -> Self {
        LogEntry { term, command: command.into() }
    }
}

fn structs() {
    section("1. Structs: a LogEntry");
    let entry = LogEntry::new(2, "x=1");
    println!("entry.term = {}, entry.command = {:?}", entry.term, entry.command);
    println!("with Debug: {entry:?}");
    let cloned = entry.clone();
    println!("cloned == entry: {}", cloned == entry);
}
// ANCHOR_END: structs

// ---------------------------------------------------------------------------------------------
// 2. Ownership and borrowing

// ANCHOR: log
/// The log: the entry at index `i` is `entries[i - 1]`, since the paper counts from 1.
#[derive(Debug, Default)]
struct Log {
    entries: Vec<LogEntry>,
}

impl Log {
    /// A log owning `entries`: the vector is moved in, not copied.
    fn from_entries(entries: Vec<LogEntry>) -> Self {
        Log { entries }
    }

    /// The index of the last entry, 0 if the log is empty.
    fn last_index(&self) -> Index {
        self.entries.len() as Index
    }

    /// A leader appends a command it received in `term` and returns its index (§5.3).
    fn append(&mut self, term: Term, command: &str) -> Index {
        self.entries.push(LogEntry::new(term, command));
        self.last_index()
    }

    /// The entries from `index` to the end, borrowed from the log: what a leader sends a
    /// follower whose `next_index` is `index` (§5.3). Empty if `index` is `last_index() + 1`.
    fn entries_from(&self, index: Index) -> &[LogEntry] {
        assert!(
            1 <= index && index <= self.last_index() + 1,
            "entries_from({index}) on a log whose last index is {}",
            self.last_index()
        );
        &self.entries[(index - 1) as usize..]
    }
}
// ANCHOR_END: log

// ANCHOR: message
/// A message between servers (Figure 2), cut down to a few fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum Message {
    /// A candidate asks for a vote (§5.2).
    RequestVote { term: Term, last_log_index: Index, last_log_term: Term },
    /// A leader replicates entries; with no entries, it is a heartbeat (§5.3).
    AppendEntries { term: Term, prev_log_index: Index, prev_log_term: Term, entries: Vec<LogEntry> },
}

/// Three entries: two of term 1, one of term 2.
fn sample_log() -> Log {
    Log::from_entries(vec![
        LogEntry::new(1, "x=1"),
        LogEntry::new(1, "y=2"),
        LogEntry::new(2, "x=3"),
    ])
}

/// Queues `message` for `to`. It takes `message` by value: the caller gives it up.
fn send(outbox: &mut Vec<(NodeId, Message)>, to: NodeId, message: Message) {
    outbox.push((to, message));
}
// ANCHOR_END: message

// ANCHOR: ownership
fn ownership_and_borrowing() {
    section("2. Ownership and borrowing: lend the log, move the message");
    let mut log = sample_log();
    let mut outbox = Vec::new();

    // A borrow: `to_send` points into the log; nothing is copied.
    let to_send: &[LogEntry] = log.entries_from(2);
    println!("borrowed {} entries from index 2: {to_send:?}", to_send.len());
    // log.append(2, "z=4"); // error[E0502]: cannot borrow `log` as mutable because it is
    //                       // also borrowed as immutable (`to_send` is still used below)

    // A message leaves the node, so it owns its entries: copy them once, with `to_vec`.
    let message = Message::AppendEntries {
        term: 2,
        prev_log_index: 1,
        prev_log_term: 1,
        entries: to_send.to_vec(),
    };
    send(&mut outbox, 2, message); // `message` moves into the outbox
    // println!("{message:?}"); // error[E0382]: borrow of moved value: `message`
    println!("the outbox owns {} message(s), the first to node {}", outbox.len(), outbox[0].0);

    // The borrow ended with its last use, so the log can change again.
    let index = log.append(2, "z=4");
    println!("appended at index {index}; the log has {} entries", log.last_index());
}
// ANCHOR_END: ownership

// ---------------------------------------------------------------------------------------------
// 3. Enums and match

// ANCHOR: role
/// What a server is doing, with the data only that role has (§5.1, Figure 4).
#[derive(Debug)]
enum Role {
    /// Answers leaders and candidates.
    Follower,
    /// Asks for votes; `votes` holds who granted one, itself included (§5.2).
    Candidate { votes: BTreeSet<NodeId> },
    /// Replicates its log; one entry per other server in each map (§5.3).
    Leader { next_index: BTreeMap<NodeId, Index>, match_index: BTreeMap<NodeId, Index> },
}

/// One arm per role and no `_ =>` arm: a new role will not compile until every match has
/// decided what to do with it.
fn describe(role: &Role) -> String {
    match role {
        Role::Follower => "follower: waits to hear from a leader".to_string(),
        Role::Candidate { votes } => format!("candidate: {} vote(s) from {votes:?}", votes.len()),
        Role::Leader { next_index, match_index } => {
            format!("leader: next_index {next_index:?}, match_index {match_index:?}")
        }
    }
}

fn enums_and_match() {
    section("3. Enums and match: a Role with data");
    let peers = [2, 3];
    let last_index = 3;
    let roles = [
        Role::Follower,
        Role::Candidate { votes: BTreeSet::from([1]) },
        Role::Leader {
            // Figure 2: next_index starts just past the leader's log, match_index at 0.
            next_index: peers.iter().map(|&peer| (peer, last_index + 1)).collect(),
            match_index: peers.iter().map(|&peer| (peer, 0)).collect(),
        },
    ];
    for role in &roles {
        println!("{}", describe(role));
    }
    // `matches!` asks "is it this variant?" without naming the data.
    println!("is the last one a leader? {}", matches!(roles[2], Role::Leader { .. }));
}
// ANCHOR_END: role

// ---------------------------------------------------------------------------------------------
// 4. Option, Result and ?

// ANCHOR: term_at
impl Log {
    /// The term of the entry at `index`: `Some(0)` for index 0, the empty prefix before the
    /// first entry (Figure 2), and `None` past the end.
    fn term_at(&self, index: Index) -> Option<Term> {
        if index == 0 {
            return Some(0);
        }
        let entry = self.entries.get((index - 1) as usize)?; // `None` past the end
        Some(entry.term)
    }

    /// The consistency check (§5.3): does the log hold an entry at `prev_log_index` whose
    /// term is `prev_log_term`? If not, the error says why.
    fn check_prev(&self, prev_log_index: Index, prev_log_term: Term) -> Result<(), LogError> {
        let missing = LogError::Missing { prev_log_index, last_index: self.last_index() };
        let found = self.term_at(prev_log_index).ok_or(missing)?;
        if found != prev_log_term {
            return Err(LogError::TermMismatch { prev_log_index, expected: prev_log_term, found });
        }
        Ok(())
    }
}

/// Why a follower refuses an AppendEntries (Figure 2, AppendEntries receiver rule 2).
#[derive(Debug, PartialEq, Eq)]
enum LogError {
    /// The log is too short to have an entry at `prev_log_index`.
    Missing { prev_log_index: Index, last_index: Index },
    /// The entry at `prev_log_index` has another term.
    TermMismatch { prev_log_index: Index, expected: Term, found: Term },
}

impl fmt::Display for LogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogError::Missing { prev_log_index, last_index } => {
                write!(f, "no entry at {prev_log_index}: the log ends at {last_index}")
            }
            LogError::TermMismatch { prev_log_index, expected, found } => {
                write!(f, "entry {prev_log_index} has term {found}, not {expected}")
            }
        }
    }
}

impl std::error::Error for LogError {}

fn option_result_and_question_mark() {
    section("4. Option, Result and ?: term_at and a typed error");
    let log = sample_log();
    for index in [0, 1, 3, 4] {
        println!("term_at({index}) = {:?}", log.term_at(index));
    }
    for (prev_log_index, prev_log_term) in [(3, 2), (3, 1), (5, 2)] {
        match log.check_prev(prev_log_index, prev_log_term) {
            Ok(()) => println!("check_prev({prev_log_index}, {prev_log_term}): ok"),
            Err(error) => println!("check_prev({prev_log_index}, {prev_log_term}): {error}"),
        }
    }
}
// ANCHOR_END: term_at

// ---------------------------------------------------------------------------------------------
// 5. Vec, BTreeMap, HashSet

// ANCHOR: collections
fn collections() {
    section("5. Vec, BTreeMap, HashSet: and why BTree where order shows");
    // Vec: an ordered, growable list; the log is one.
    let commands: Vec<&str> = vec!["x=1", "y=2"];
    println!("Vec {commands:?}, first {:?}, at 5 {:?}", commands.first(), commands.get(5));

    // BTreeMap: a value per key, iterated in key order, the same on every run.
    let mut next_index: BTreeMap<NodeId, Index> = BTreeMap::new();
    for peer in [5, 2, 4, 3] {
        next_index.insert(peer, 4);
    }
    if let Some(next) = next_index.get_mut(&3) {
        *next -= 1; // node 3 refused: try one entry earlier (§5.3)
    }
    for (peer, next) in &next_index {
        println!("send AppendEntries to {peer} from index {next}");
    }

    // HashSet: fast membership tests; fine as long as its order never reaches the output.
    let mut voters: HashSet<NodeId> = HashSet::new();
    voters.insert(1);
    voters.insert(3);
    let new_vote = voters.insert(3); // a duplicated reply
    println!(
        "{} votes; was the second vote of 3 new? {new_vote}; has 2 voted? {}",
        voters.len(),
        voters.contains(&2)
    );
}
// ANCHOR_END: collections

// ---------------------------------------------------------------------------------------------
// 6. Iterators

// ANCHOR: majority
/// How many servers of `cluster_size` make a majority (§5.2).
fn majority(cluster_size: usize) -> usize {
    cluster_size / 2 + 1
}

fn iterators() {
    section("6. Iterators: count votes, find what a majority stores");
    // A candidate in a 5-server cluster, by voter: did the vote come back granted?
    let replies: BTreeMap<NodeId, bool> =
        BTreeMap::from([(1, true), (2, false), (3, true), (4, true)]);
    // `values()` yields `&bool`, and `filter` lends each item again: hence `&&granted`.
    let granted = replies.values().filter(|&&granted| granted).count();
    let elected = granted >= majority(5);
    println!("{granted} of 5 granted, a majority is {}: elected = {elected}", majority(5));

    // A leader with last index 5 and, per follower, the highest index it stores (match_index).
    let last_index: Index = 5;
    let match_index: BTreeMap<NodeId, Index> = BTreeMap::from([(2, 5), (3, 3), (4, 2), (5, 0)]);
    // On how many servers is entry `n` stored? The leader (1) plus the followers that match.
    let stored_on = |n: Index| 1 + match_index.values().filter(|&&matched| matched >= n).count();
    let counts: Vec<(Index, usize)> = (1..=last_index).map(|n| (n, stored_on(n))).collect();
    println!("(index, servers storing it): {counts:?}");
    // The highest index stored on a majority: the candidate for commit_index (Figure 2).
    let highest = (1..=last_index).rev().find(|&n| stored_on(n) >= majority(5));
    println!("highest index on a majority: {highest:?}");
}
// ANCHOR_END: majority

// ---------------------------------------------------------------------------------------------
// 7. Traits and generics

// ANCHOR: node_trait
/// A node as a harness drives it: a cut-down `harness::Node`.
trait Node {
    /// The messages this kind of node sends; each implementation chooses its own type.
    type Message: fmt::Debug;

    /// One tick of simulated time passed.
    fn tick(&mut self);
    /// A message from `from` arrived.
    fn step(&mut self, from: NodeId, message: Self::Message);
    /// The messages produced since the last call, with their receivers; drained.
    fn take_messages(&mut self) -> Vec<(NodeId, Self::Message)>;
}

/// A heartbeat carrying the sender's term.
#[derive(Debug)]
struct Heartbeat {
    term: Term,
}

/// A toy node: every `interval` ticks it sends a heartbeat to each peer.
struct Heartbeater {
    current_term: Term,
    peers: Vec<NodeId>,
    interval: u64,
    elapsed: u64,
    outbox: Vec<(NodeId, Heartbeat)>,
}

impl Node for Heartbeater {
    type Message = Heartbeat;

    fn tick(&mut self) {
        self.elapsed += 1;
        if self.elapsed < self.interval {
            return;
        }
        self.elapsed = 0;
        for &peer in &self.peers {
            self.outbox.push((peer, Heartbeat { term: self.current_term }));
        }
    }

    fn step(&mut self, _from: NodeId, message: Heartbeat) {
        // §5.1: a server that sees a larger term adopts it.
        self.current_term = self.current_term.max(message.term);
    }

    fn take_messages(&mut self) -> Vec<(NodeId, Heartbeat)> {
        // Moves the outbox out and leaves an empty one in its place.
        std::mem::take(&mut self.outbox)
    }
}

/// Ticks any node `ticks` times and collects what it sent: written once, for every `N: Node`.
fn run<N: Node>(node: &mut N, ticks: u64) -> Vec<(NodeId, N::Message)> {
    let mut sent = Vec::new();
    for _ in 0..ticks {
        node.tick();
        sent.extend(node.take_messages());
    }
    sent
}

fn traits_and_generics() {
    section("7. Traits and generics: a Node with an associated Message type");
    let mut node =
        Heartbeater { current_term: 1, peers: vec![2, 3], interval: 2, elapsed: 0, outbox: vec![] };
    println!("sent in 5 ticks: {:?}", run(&mut node, 5));
    node.step(2, Heartbeat { term: 4 });
    println!("after a heartbeat of term 4: {:?}", run(&mut node, 2));
}
// ANCHOR_END: node_trait

// ---------------------------------------------------------------------------------------------
// 8. Modules

// ANCHOR: modules
/// One concept per module: counting votes. In a stage this would be the file `src/election.rs`.
mod election {
    use std::collections::BTreeSet;

    use super::NodeId;

    /// The votes a candidate collected in its current term (§5.2).
    #[derive(Debug, Default)]
    pub struct Votes {
        /// Private: only `record` changes it, so a vote can never be counted twice.
        granted: BTreeSet<NodeId>,
    }

    impl Votes {
        /// Records the vote of `voter`; a duplicated reply changes nothing.
        pub fn record(&mut self, voter: NodeId) {
            self.granted.insert(voter);
        }

        /// Whether the votes are a majority of `cluster_size` servers.
        pub fn is_majority_of(&self, cluster_size: usize) -> bool {
            self.granted.len() >= super::majority(cluster_size)
        }
    }
}

fn modules() {
    use election::Votes;

    section("8. Modules: one concept per module, pub and use");
    let mut votes = Votes::default();
    for voter in [1, 3, 3] {
        votes.record(voter);
    }
    // votes.granted.insert(5); // error[E0616]: field `granted` of struct `Votes` is private
    println!("{votes:?}: a majority of 5? {}", votes.is_majority_of(5));
    votes.record(4);
    println!("{votes:?}: a majority of 5? {}", votes.is_majority_of(5));
}
// ANCHOR_END: modules

// ---------------------------------------------------------------------------------------------
// 9. Tests and rstest tables

// ANCHOR: tables
fn tests_and_tables() {
    section("9. Tests and rstest tables");
    // The chapter's rstest table, run by hand: rstest turns each case into its own test.
    let log = sample_log();
    let cases = [
        ("index_zero_is_the_empty_prefix", 0, Some(0)),
        ("first_entry", 1, Some(1)),
        ("last_entry", 3, Some(2)),
        ("past_the_end", 4, None),
    ];
    for (label, index, expected) in cases {
        let actual = log.term_at(index);
        let verdict = if actual == expected { "ok" } else { "FAILED" };
        println!("case {label}: term_at({index}) = {actual:?}, expected {expected:?}: {verdict}");
    }
}
// ANCHOR_END: tables

// ANCHOR: tests
#[cfg(test)]
mod tests {
    use super::*;

    /// Index 0 is the empty prefix before the first entry; its term is 0 (Figure 2).
    #[test]
    fn term_at_zero_is_zero_even_in_an_empty_log() {
        assert_eq!(Log::default().term_at(0), Some(0));
    }
}
// ANCHOR_END: tests

// ---------------------------------------------------------------------------------------------
// 10. Serde

// ANCHOR: serde
fn serde_round_trip() {
    section("10. Serde: a message to JSON and back");
    let message = Message::AppendEntries {
        term: 2,
        prev_log_index: 1,
        prev_log_term: 1,
        entries: vec![LogEntry::new(2, "x=3")],
    };
    let json = serde_json::to_string(&message).expect("a Message always encodes");
    println!("{json}");
    let back: Message = serde_json::from_str(&json).expect("decodes what it encoded");
    println!("decoded == original: {}", back == message);

    let request = Message::RequestVote { term: 3, last_log_index: 3, last_log_term: 2 };
    println!("{}", serde_json::to_string(&request).expect("a Message always encodes"));
    let garbled = r#"{"RequestVote":{"term":3}}"#;
    match serde_json::from_str::<Message>(garbled) {
        Ok(message) => println!("decoded {message:?}"),
        Err(error) => println!("cannot decode {garbled}: {error}"),
    }
}
// ANCHOR_END: serde

// ---------------------------------------------------------------------------------------------
// 11. todo!()

// ANCHOR: todo_stub
/// The term of the last entry, 0 if the log is empty (§5.4.1).
///
/// A stub as the exercises ship it: the signature and doc are final, the body is a `todo!()`
/// whose message uses the argument, so the stub compiles without an unused-variable warning.
fn last_term(log: &Log) -> Term {
    // TODO: return the term of the last entry, or 0 for an empty log.
    todo!("last_term of a log ending at {} (§5.4.1)", log.last_index())
}

fn todo_stubs() {
    section("11. todo!(): what a stub's panic looks like");
    println!("calling the stub last_term; Rust prints the panic on stderr:");
    // `catch_unwind` stops the panic here, as the test runner does for each test.
    let result = std::panic::catch_unwind(|| last_term(&sample_log()));
    println!("the stub panicked: {}", result.is_err());
}
// ANCHOR_END: todo_stub
