//! The watchdog: the last resort that turns a node call that never returns into a failure.
//!
//! A node whose own `tick()` loops forever (`while self.election_elapsed <
//! self.election_timeout {}`) never hands control back, so no budget can stop it, and libtest
//! has no timeout. So every call a cluster makes into a node goes between `Watch::enter` and
//! `Watch::exit`, a few atomic loads and stores that cost no locked instruction: a progress
//! counter bumped on both (odd: inside a call) and, on entry, the node and the call (the tick
//! is stored once per tick, the seed once per cluster). One thread per process,
//! `raft-watchdog`, wakes every 500 ms; if a cluster's thread has been inside the same node
//! call for longer than the limit, it prints the node, the call, the seed and tick and the
//! replay command to stderr and ends the process with 101, the code of a failed test run.
//!
//! A thread and a wall clock are allowed here and nowhere else in the harness because the
//! watchdog only observes: nothing it reads or measures flows back into a run, so a run that
//! returns is the same, byte for byte, with or without it. Only a hang changes, into a failure.
//!
//! `RAFT_WATCHDOG=<seconds>` sets the limit (default 30), read once; `RAFT_WATCHDOG=0` turns
//! the watchdog off, e.g. to step through a node in a debugger.

use std::io::Write as _;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::{Arc, Mutex, Once, OnceLock, PoisonError, Weak};
use std::time::{Duration, Instant};

use crate::node::{
    Applied, Compact, Config, Envelope, Index, Node, NodeId, NotLeader, Persist, Replicate,
    Snapshot, Status, Term,
};
use crate::report::TestId;
use crate::rng::Rng;

/// The limit, in seconds of wall time, when `RAFT_WATCHDOG` is not set.
pub const DEFAULT_LIMIT: u64 = 30;
/// How often the watchdog looks.
const PERIOD: Duration = Duration::from_millis(500);

/// The calls a cluster makes into a node; [`CALL_NAMES`] names them, in the same order.
#[derive(Clone, Copy, Debug)]
#[rustfmt::skip]
pub(crate) enum Call {
    New, Restart, Tick, Step, Propose, TakePersist, TakeMessages, TakeCommitted, Status, LogEntry,
    Display, WholeTest, WithNode, Compact, TakeSnapshot, Request, TakeReplies, Register,
}

/// The [`Call`]s as failure reports name them, indexed by `call as u64`.
#[rustfmt::skip]
const CALL_NAMES: [&str; 18] = [
    "new()", "restart()", "tick()", "step()", "propose()", "take_persist()", "take_messages()",
    "take_committed()", "status()", "log_entry()", "Display::fmt() of a message", "the test",
    "the closure given to with_node()", "compact()", "take_snapshot()", "request()",
    "take_replies()", "register()",
];

/// Where one cluster is: written by the thread that runs it only, read by the watchdog.
#[derive(Default)]
struct Shared {
    /// Bumped on entering and on leaving a node call: odd while inside one.
    progress: AtomicU64,
    /// The node and the [`Call`] of the latest node call: `node << 8 | call`.
    call: AtomicU64,
    /// The cluster's simulated time.
    tick: AtomicU64,
}

/// A cluster's line to the watchdog (nothing when it is off). A cluster is not `Send` (its
/// trace shares message summaries through `Rc`): it runs on the thread that built it, the one
/// named in reports.
pub(crate) struct Watch(Option<Arc<Shared>>);

impl Watch {
    /// Watches a cluster with `seed` built on the calling thread; starts the watchdog, once.
    pub(crate) fn new(seed: u64) -> Watch {
        Watch(limit().map(|limit| register(seed, limit)))
    }

    /// Simulated time is now `tick`.
    pub(crate) fn set_tick(&self, tick: u64) {
        if let Some(shared) = &self.0 {
            shared.tick.store(tick, Relaxed);
        }
    }

    /// The cluster's thread is now inside `call` on node `node`.
    #[inline]
    pub(crate) fn enter(&self, node: NodeId, call: Call) {
        if let Some(shared) = &self.0 {
            shared.call.store(node << 8 | call as u64, Relaxed);
            // Only this thread writes `progress`, so a load and a store do, no locked add.
            // Release: a watchdog that reads the odd value reads the call above too.
            shared.progress.store(shared.progress.load(Relaxed) + 1, Release);
        }
    }

    /// The cluster's replay command is `command` (`Cluster::set_replay`), not the test's.
    pub(crate) fn set_replay(&self, command: String) {
        let Some(shared) = &self.0 else { return };
        let mut watched = WATCHED.lock().unwrap_or_else(PoisonError::into_inner);
        let mine =
            watched.iter_mut().find(|w| std::ptr::eq(w.shared.as_ptr(), Arc::as_ptr(shared)));
        if let Some(mine) = mine {
            mine.replay = Some(command);
        }
    }

    /// The cluster's thread left the node call.
    #[inline]
    pub(crate) fn exit(&self) {
        if let Some(shared) = &self.0 {
            shared.progress.store(shared.progress.load(Relaxed) + 1, Relaxed);
        }
    }
}

/// Watches the calling test as a whole, for tests that drive a node directly instead of
/// through a [`Cluster`](crate::cluster::Cluster) (the one-node paper tests): a test still
/// running after the limit is reported, and the process ends, as for a stuck node call. A
/// one-node test takes milliseconds, so only an infinite loop gets there.
///
/// Call it where a test builds its node (the stages' test helpers do); calling it again on the
/// same thread does nothing. libtest runs every test on a thread of its own, named after the
/// test, so the watch ends with the test; on an unnamed or `main` thread it does nothing.
pub fn watch_this_test() {
    let Some(limit) = limit() else { return };
    if matches!(std::thread::current().name(), None | Some("main")) {
        return;
    }
    TEST.with(|test| {
        let mut test = test.borrow_mut();
        if test.is_none() {
            let shared = register_as(0, limit, true);
            shared.call.store(Call::WholeTest as u64, Relaxed);
            // Odd, and it never changes: "inside" from now until the test's thread ends.
            shared.progress.store(1, Release);
            *test = Some(shared);
        }
    });
}

thread_local! {
    /// The calling test's watch ([`watch_this_test`]), if it has one.
    static TEST: std::cell::RefCell<Option<Arc<Shared>>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f`, the test's `call` into node `node`, telling the test's watch; a watchdog that
/// fires meanwhile names the node and the call, not only the test.
fn in_test_call<T>(node: NodeId, call: Call, f: impl FnOnce() -> T) -> T {
    watch_this_test();
    let shared = TEST.with(|test| test.borrow().clone());
    if let Some(shared) = &shared {
        shared.call.store(node << 8 | call as u64, Release);
    }
    let result = f();
    if let Some(shared) = &shared {
        shared.call.store(Call::WholeTest as u64, Release);
    }
    result
}

/// A node driven directly by a test (the one-node paper tests), watched call by call: a call
/// that never returns is reported with the node, the call and the test, as a cluster's is.
/// It is the node in every other way: it implements the harness's traits by calling the
/// node's, and derefs to it for everything else (`node.state()`, …). A test file makes every
/// node it builds one by naming its node type through it:
///
/// ```ignore
/// type RaftNode = harness::watchdog::WatchedNode<election::RaftNode>;
/// ```
#[derive(Clone, Debug)]
pub struct WatchedNode<N>(N);

impl<N> WatchedNode<N> {
    /// The node itself.
    pub fn into_inner(self) -> N {
        self.0
    }
}

impl<N> std::ops::Deref for WatchedNode<N> {
    type Target = N;
    fn deref(&self) -> &N {
        &self.0
    }
}

impl<N> std::ops::DerefMut for WatchedNode<N> {
    fn deref_mut(&mut self) -> &mut N {
        &mut self.0
    }
}

impl<N: Node> Node for WatchedNode<N> {
    type Message = N::Message;
    type Command = N::Command;

    fn new(id: NodeId, peers: Vec<NodeId>, config: Config, rng: Rng) -> Self {
        WatchedNode(in_test_call(id, Call::New, || N::new(id, peers, config, rng)))
    }

    fn id(&self) -> NodeId {
        self.0.id()
    }

    fn tick(&mut self) {
        in_test_call(self.0.id(), Call::Tick, || self.0.tick())
    }

    fn step(&mut self, from: NodeId, message: Self::Message) {
        in_test_call(self.0.id(), Call::Step, || self.0.step(from, message))
    }

    fn take_messages(&mut self) -> Vec<Envelope<Self::Message>> {
        in_test_call(self.0.id(), Call::TakeMessages, || self.0.take_messages())
    }

    fn status(&self) -> Status {
        in_test_call(self.0.id(), Call::Status, || self.0.status())
    }

    fn log_entry(&self, index: Index) -> Option<(Term, &Self::Command)> {
        in_test_call(self.0.id(), Call::LogEntry, || self.0.log_entry(index))
    }
}

impl<N: Replicate> Replicate for WatchedNode<N> {
    fn propose(&mut self, command: Self::Command) -> Result<(Index, Term), NotLeader> {
        in_test_call(self.0.id(), Call::Propose, || self.0.propose(command))
    }

    fn take_committed(&mut self) -> Vec<Applied<Self::Command>> {
        in_test_call(self.0.id(), Call::TakeCommitted, || self.0.take_committed())
    }
}

impl<N: Persist> Persist for WatchedNode<N> {
    type State = N::State;
    type Write = N::Write;

    fn take_persist(&mut self) -> Vec<Self::Write> {
        in_test_call(self.0.id(), Call::TakePersist, || self.0.take_persist())
    }

    fn apply_write(state: &mut Self::State, write: Self::Write) {
        N::apply_write(state, write)
    }

    fn restart(
        id: NodeId,
        peers: Vec<NodeId>,
        config: Config,
        rng: Rng,
        state: Self::State,
    ) -> Self {
        WatchedNode(in_test_call(id, Call::Restart, || N::restart(id, peers, config, rng, state)))
    }
}

impl<N: Compact> Compact for WatchedNode<N> {
    fn compact(&mut self, index: Index, snapshot: Vec<u8>) {
        in_test_call(self.0.id(), Call::Compact, || self.0.compact(index, snapshot))
    }

    fn take_snapshot(&mut self) -> Option<Snapshot> {
        in_test_call(self.0.id(), Call::TakeSnapshot, || self.0.take_snapshot())
    }
}

/// The limit from `RAFT_WATCHDOG`, read once; `None`: the watchdog is off.
fn limit() -> Option<Duration> {
    static LIMIT: OnceLock<Option<Duration>> = OnceLock::new();
    *LIMIT.get_or_init(|| limit_from(std::env::var("RAFT_WATCHDOG").ok().as_deref()))
}

/// The limit for a value of `RAFT_WATCHDOG`: unset, [`DEFAULT_LIMIT`] seconds; `0`, `None` (off).
/// Panics naming the variable if the value does not parse: a typo must not go unnoticed.
pub fn limit_from(text: Option<&str>) -> Option<Duration> {
    let Some(text) = text else { return Some(Duration::from_secs(DEFAULT_LIMIT)) };
    let seconds: u64 = text.trim().parse().unwrap_or_else(|_| {
        panic!("RAFT_WATCHDOG={text:?} is not a number of seconds (use 60, or 0 for no watchdog)")
    });
    (seconds > 0).then(|| Duration::from_secs(seconds))
}

/// A registered cluster as the watchdog last saw it.
struct Watched {
    /// Weak: a dropped cluster drops out.
    shared: Weak<Shared>,
    seed: u64,
    /// The test, taken on the cluster's thread: the report is written on another.
    test: TestId,
    /// The replay command the cluster set, if it set one.
    replay: Option<String>,
    /// A test watched as a whole ([`watch_this_test`]), not a cluster.
    whole_test: bool,
    progress: u64,
    since: Instant,
}

static WATCHED: Mutex<Vec<Watched>> = Mutex::new(Vec::new());

/// A new [`Shared`], watched from now on; starts the watchdog the first time.
fn register(seed: u64, limit: Duration) -> Arc<Shared> {
    register_as(seed, limit, false)
}

/// [`register`], for a cluster or (`whole_test`) a test watched as a whole.
fn register_as(seed: u64, limit: Duration, whole_test: bool) -> Arc<Shared> {
    let shared = Arc::new(Shared::default());
    let (test, since) = (TestId::current(), Instant::now());
    let shared_weak = Arc::downgrade(&shared);
    let entry =
        Watched { shared: shared_weak, seed, test, replay: None, whole_test, progress: 0, since };
    WATCHED.lock().unwrap_or_else(PoisonError::into_inner).push(entry);
    static START: Once = Once::new();
    START.call_once(|| {
        let watchdog = std::thread::Builder::new().name("raft-watchdog".to_string());
        watchdog.spawn(move || watch(limit)).expect("the harness starts its watchdog thread");
    });
    shared
}

/// The watchdog thread: every [`PERIOD`], a cluster that has been inside the same node call
/// for `limit` or longer ends the process.
fn watch(limit: Duration) {
    loop {
        std::thread::sleep(PERIOD);
        let now = Instant::now();
        let mut watched = WATCHED.lock().unwrap_or_else(PoisonError::into_inner);
        watched.retain_mut(|watched| {
            let Some(shared) = watched.shared.upgrade() else { return false };
            let progress = shared.progress.load(Acquire);
            if progress != watched.progress {
                (watched.progress, watched.since) = (progress, now);
            } else if progress % 2 == 1 && now - watched.since >= limit {
                stop(&shared, watched, now - watched.since, limit);
            }
            true
        });
    }
}

/// Reports the node call a cluster (or the test a node) is stuck in, and ends the process.
fn stop(shared: &Shared, watched: &Watched, stuck: Duration, limit: Duration) -> ! {
    let (seed, tick, call) = (watched.seed, shared.tick.load(Relaxed), shared.call.load(Relaxed));
    let (node, call) = (call >> 8, CALL_NAMES[(call & 0xff) as usize]);
    let (stuck, name, limit) = (stuck.as_secs(), &watched.test.name, limit.as_secs());
    let (what, rerun) = if call == CALL_NAMES[Call::WholeTest as usize] {
        let what = format!(
            "test {name} has not finished after {stuck} s of wall time, and a test that drives \
             a node or a log directly takes milliseconds"
        );
        (what, format!("rerun:    {}", watched.test.command()))
    } else if watched.whole_test {
        let what = format!(
            "n{node} has not returned from {call} in test {name} ({stuck} s of wall time since \
             the test began; a test that drives a node directly takes milliseconds)"
        );
        (what, format!("rerun:    {}", watched.test.command()))
    } else {
        let what = format!(
            "n{node} has not returned from {call} for {stuck} s of wall time (seed {seed}, tick \
             {tick}) in test {name}"
        );
        let replay = watched.replay.clone();
        (what, format!("replay:   {}", replay.unwrap_or_else(|| watched.test.replay_command(seed))))
    };
    let report = format!(
        "\nharness watchdog: {what}: an infinite loop in the node? (contract: a node call \
         returns at once; time passes only through tick())\n\n  {rerun}\n  \
         limit:    RAFT_WATCHDOG={limit} (seconds; 0 turns the watchdog off, e.g. in a debugger)\n"
    );
    // Straight to stderr, not eprint!: this thread inherited a test's output capture.
    let _ = std::io::stderr().lock().write_all(report.as_bytes());
    std::process::exit(101)
}
