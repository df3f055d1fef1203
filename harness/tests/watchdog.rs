//! The watchdog: a node call that never returns ends the test process with a report, in
//! bounded time, instead of hanging `cargo test` forever (design contract 6).
//!
//! A hang cannot be caught from inside the process that hangs, so each scenario is an ignored
//! test that another test runs as a child process (this very test binary) and watches from
//! outside. The watchdog measures wall time, so these are the harness's only tests that read a
//! clock or sleep.

mod common;

use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::{Correct, Message};
use harness::watchdog::{DEFAULT_LIMIT, WatchedNode, limit_from};
use harness::{Cluster, Config, Envelope, Index, Node, NodeId, Rng, Status, Term};
use pretty_assertions::assert_eq;
use rstest::rstest;

/// The longest the child may run before the test gives up on the watchdog and kills it.
const CHILD_LIMIT: Duration = Duration::from_secs(60);

/// The correct toy, except that at tick 5 node 2 waits inside `tick()` for its timer to expire,
/// a loop that never ends: only `tick()` itself advances the timer.
struct WaitsInTick {
    toy: Correct,
    elapsed: u64,
}

impl WaitsInTick {
    fn timer_expired(&self) -> bool {
        self.elapsed >= 10
    }
}

impl Node for WaitsInTick {
    type Message = Message;
    type Command = String;

    fn new(id: NodeId, peers: Vec<NodeId>, config: Config, rng: Rng) -> Self {
        WaitsInTick { toy: Correct::new(id, peers, config, rng), elapsed: 0 }
    }

    fn id(&self) -> NodeId {
        self.toy.id()
    }

    fn tick(&mut self) {
        self.elapsed += 1;
        if self.id() == 2 && self.elapsed == 5 {
            // The bug: waiting for time to pass inside a call, instead of returning.
            while !self.timer_expired() {}
        }
        self.toy.tick();
    }

    fn step(&mut self, from: NodeId, message: Message) {
        self.toy.step(from, message);
    }

    fn take_messages(&mut self) -> Vec<Envelope<Message>> {
        self.toy.take_messages()
    }

    fn status(&self) -> Status {
        self.toy.status()
    }

    fn log_entry(&self, index: Index) -> Option<(Term, &String)> {
        self.toy.log_entry(index)
    }
}

/// Hangs in n2's `tick()` at tick 5 until the watchdog ends the process.
#[test]
#[ignore = "run by watchdog_stops_a_node_that_never_returns as a child process"]
fn node_never_returns_from_tick() {
    let mut cluster = Cluster::<WaitsInTick>::new(3, 7);
    cluster.run_for(100);
    panic!("n2's tick() returned: WaitsInTick no longer hangs, so this test proves nothing");
}

/// A node call that never returns ends the test process in bounded time (the limit is 1 s
/// here; the test allows a minute) with code 101, the code of a failed run, and a report on
/// stderr names the node, the call, the seed and the replay command, whether libtest captures
/// output or not.
#[rstest]
#[case::output_captured(&[])]
#[case::nocapture(&["--nocapture"])]
fn watchdog_stops_a_node_that_never_returns(#[case] extra: &[&str]) {
    let (status, stderr) = run_child("node_never_returns_from_tick", extra);
    let Some(status) = status else {
        panic!(
            "the watchdog did not end a test stuck in n2's tick() (RAFT_WATCHDOG=1): the child \
             still ran after {CHILD_LIMIT:?} and was killed; its stderr:\n{stderr}"
        )
    };
    assert_eq!(status.code(), Some(101), "the child's exit status; its stderr:\n{stderr}");
    for expected in [
        "harness watchdog: n2 has not returned from tick() for ",
        " s of wall time (seed 7, tick 5) in test node_never_returns_from_tick: an infinite loop \
         in the node?",
        "replay:   RAFT_SEED=7 cargo test -p harness --test watchdog -- --exact \
         node_never_returns_from_tick",
        "RAFT_WATCHDOG=1",
    ] {
        assert!(
            stderr.contains(expected),
            "expected {expected:?} in the child's stderr:\n{stderr}"
        );
    }
}

/// Like `node_never_returns_from_tick`, in a cluster that set its own replay command.
#[test]
#[ignore = "run by watchdog_prints_the_replay_command_the_cluster_set as a child process"]
fn node_never_returns_with_its_own_replay_command() {
    let mut cluster = Cluster::<WaitsInTick>::new(3, 7);
    cluster.set_replay(|seed| format!("./scenario --seed {seed}"));
    cluster.run_for(100);
    panic!("n2's tick() returned: WaitsInTick no longer hangs, so this test proves nothing");
}

/// The watchdog's report prints the replay command the cluster set, as the failure report does.
#[test]
fn watchdog_prints_the_replay_command_the_cluster_set() {
    let (status, stderr) = run_child("node_never_returns_with_its_own_replay_command", &[]);
    assert_eq!(status.and_then(|s| s.code()), Some(101), "the child's stderr:\n{stderr}");
    assert!(stderr.contains("\n  replay:   ./scenario --seed 7\n"), "{stderr}");
}

/// Watches itself as a whole, like a one-node paper test, then loops as a node that never
/// returns would.
#[test]
#[ignore = "run by watchdog_stops_a_directly_driven_test_that_never_ends as a child process"]
fn directly_driven_test_never_ends() {
    harness::watchdog::watch_this_test();
    harness::watchdog::watch_this_test(); // a second call on the same thread changes nothing
    let mut elapsed = 0u64;
    while std::hint::black_box(elapsed) < 1 {
        elapsed = std::hint::black_box(0);
    }
}

/// A test that drives a node directly (no cluster) and never ends is stopped too, with code
/// 101, naming the test and the command that reruns it.
#[test]
fn watchdog_stops_a_directly_driven_test_that_never_ends() {
    let (status, stderr) = run_child("directly_driven_test_never_ends", &[]);
    let Some(status) = status else {
        panic!(
            "the watchdog did not end a test that watches itself (RAFT_WATCHDOG=1): the child \
             still ran after {CHILD_LIMIT:?} and was killed; its stderr:\n{stderr}"
        )
    };
    assert_eq!(status.code(), Some(101), "the child's exit status; its stderr:\n{stderr}");
    for expected in [
        "harness watchdog: test directly_driven_test_never_ends has not finished after ",
        "an infinite loop in the node?",
        "rerun:    cargo test -p harness --test watchdog -- --exact directly_driven_test_never_ends",
    ] {
        assert!(
            stderr.contains(expected),
            "expected {expected:?} in the child's stderr:\n{stderr}"
        );
    }
}

/// A paper test's node, watched call by call (`WatchedNode`): node 2 loops inside its fifth
/// `tick()`; the calls before it returned.
#[test]
#[ignore = "run by watchdog_names_the_node_and_call_a_paper_test_is_stuck_in as a child process"]
fn paper_test_node_never_returns_from_tick() {
    let mut node = WatchedNode::<WaitsInTick>::new(2, vec![1, 3], Config::default(), Rng::new(2));
    let _ = node.status();
    for _ in 0..5 {
        node.tick();
    }
}

/// A one-node paper test stuck in a node call: the report names the node and the call, as for
/// a cluster, and the command that reruns the test.
#[test]
fn watchdog_names_the_node_and_call_a_paper_test_is_stuck_in() {
    let (status, stderr) = run_child("paper_test_node_never_returns_from_tick", &[]);
    let Some(status) = status else {
        panic!("the watchdog did not end a paper test stuck in tick(); its stderr:\n{stderr}")
    };
    assert_eq!(status.code(), Some(101), "the child's exit status; its stderr:\n{stderr}");
    for expected in [
        "harness watchdog: n2 has not returned from tick() in test \
         paper_test_node_never_returns_from_tick (",
        "rerun:    cargo test -p harness --test watchdog -- --exact \
         paper_test_node_never_returns_from_tick",
    ] {
        assert!(
            stderr.contains(expected),
            "expected {expected:?} in the child's stderr:\n{stderr}"
        );
    }
}

/// Runs a cluster, then spends longer than the limit outside any node call, then runs it again.
/// 2 s: a watchdog that fired outside calls would fire within the limit plus its period, 1.5 s.
#[test]
#[ignore = "run by watchdog_ignores_time_spent_between_node_calls as a child process"]
fn cluster_waits_between_node_calls() {
    let mut cluster = Cluster::<Correct>::new(3, 7);
    cluster.run_for(50);
    std::thread::sleep(Duration::from_secs(2));
    cluster.run_for(50);
}

/// The watchdog only looks inside node calls: a test that spends longer than the limit between
/// two calls (here sleeping; in life, checking or printing) runs to its end and passes.
#[test]
fn watchdog_ignores_time_spent_between_node_calls() {
    let (status, stderr) = run_child("cluster_waits_between_node_calls", &[]);
    let code = status.map(|status| status.code());
    assert_eq!(code, Some(Some(0)), "the child's exit code (None: killed); its stderr:\n{stderr}");
}

/// Runs the ignored test `name` of this test binary in a child process with `RAFT_WATCHDOG=1`
/// and waits for it at most [`CHILD_LIMIT`]: its exit status (`None`: it was still running
/// and was killed) and its stderr.
fn run_child(name: &str, extra: &[&str]) -> (Option<ExitStatus>, String) {
    let mut child = Command::new(std::env::current_exe().expect("the test binary's path"))
        .args(["--ignored", "--exact", name])
        .args(extra)
        .env("RAFT_WATCHDOG", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the test binary starts as a child process");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("the child's status can be read") {
            break Some(status);
        }
        if started.elapsed() > CHILD_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    let pipe = child.stderr.as_mut().expect("stderr is piped");
    pipe.read_to_string(&mut stderr).expect("the child's stderr is text");
    (status, stderr)
}

/// `RAFT_WATCHDOG` is the limit in seconds; unset, the default; `0` turns the watchdog off.
#[rstest]
#[case::unset(None, Some(DEFAULT_LIMIT))]
#[case::seconds(Some("5"), Some(5))]
#[case::spaces_around(Some(" 60 "), Some(60))]
#[case::zero_is_off(Some("0"), None)]
fn raft_watchdog_sets_the_limit_in_seconds(
    #[case] value: Option<&str>,
    #[case] seconds: Option<u64>,
) {
    assert_eq!(limit_from(value), seconds.map(Duration::from_secs));
}

/// A value that is not a number of seconds fails loudly: a typo must not go unnoticed.
#[test]
#[should_panic(expected = "RAFT_WATCHDOG=\"30s\" is not a number of seconds")]
fn raft_watchdog_rejects_a_value_that_is_not_a_number() {
    limit_from(Some("30s"));
}
