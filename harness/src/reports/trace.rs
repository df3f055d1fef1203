//! The trace: every event of a run, in order, as data.
//!
//! The failure report renders its last events as a timeline ([`crate::report`]); `RAFT_TRACE`
//! writes all of them as JSON; the determinism self-check compares two runs' traces. Events
//! carry the summary of a message (its `Display`, a [`Summary`]), never the message, so the
//! harness needs nothing of a stage's types.
//!
//! A summary is written when something first reads it (a failure report, a trace file, a
//! test looking at the trace), not when the message is sent: most runs pass and nobody reads
//! the summaries of their messages. Until then it holds the message itself ([`Sent`]), shared
//! with the network that carries it. The text is the same either way, byte for byte.

use std::cell::{Cell, OnceCell, RefCell};
use std::fmt::{self, Display, Write as _};
use std::ops::Deref;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;

use serde::{Serialize, Serializer};

use crate::logbook::Logbook;
use crate::node::{Index, NodeId, Role, Term};

/// One event and the tick it happened at.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Record {
    /// The simulated tick.
    pub tick: u64,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
}

/// Something that happened in the cluster.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A node's term changed (it never goes down: the checks see to that).
    Term {
        /// The node.
        node: NodeId,
        /// Its new term.
        term: Term,
    },
    /// A node changed role (§5.1, Figure 4).
    Role {
        /// The node.
        node: NodeId,
        /// Its term.
        term: Term,
        /// Its new role.
        role: Role,
    },
    /// A node voted (§5.2).
    Vote {
        /// The voter.
        node: NodeId,
        /// Its term.
        term: Term,
        /// The candidate it voted for.
        voted_for: NodeId,
    },
    /// A node's `commit_index` moved.
    Commit {
        /// The node.
        node: NodeId,
        /// Its term.
        term: Term,
        /// Its new `commit_index`.
        commit_index: Index,
    },
    /// A node applied committed entries `first..=last` to its state machine.
    Apply {
        /// The node.
        node: NodeId,
        /// Its term.
        term: Term,
        /// The first index applied.
        first: Index,
        /// The last index applied.
        last: Index,
    },
    /// The service asked a node to compact its log through `index` into a snapshot (§7).
    Compact {
        /// The node.
        node: NodeId,
        /// Its term.
        term: Term,
        /// The last index the snapshot covers.
        index: Index,
    },
    /// A node handed its state machine a snapshot through `index` (§7): installed from the
    /// leader, or its own after a restart.
    Restore {
        /// The node.
        node: NodeId,
        /// Its term.
        term: Term,
        /// The last index the snapshot covers.
        index: Index,
    },
    /// A node sent a message.
    Send {
        /// The sender.
        from: NodeId,
        /// The sender's term.
        term: Term,
        /// The receiver.
        to: NodeId,
        /// The message's summary.
        message: Summary,
        /// When it will arrive (`None`: it will not).
        deliver_at: Option<u64>,
    },
    /// A message arrived and the receiver stepped it.
    Receive {
        /// The sender.
        from: NodeId,
        /// The receiver.
        to: NodeId,
        /// The receiver's term before the message.
        term: Term,
        /// The message's summary.
        message: Summary,
    },
    /// A message was lost.
    Drop {
        /// The sender.
        from: NodeId,
        /// The receiver.
        to: NodeId,
        /// The message's summary.
        message: Summary,
        /// Why: `"cut"`, `"loss"` or `"crashed"`.
        reason: &'static str,
    },
    /// A message was duplicated: a second copy arrives at `again`.
    Duplicate {
        /// The sender.
        from: NodeId,
        /// The receiver.
        to: NodeId,
        /// The message's summary.
        message: Summary,
        /// When the copy arrives.
        again: u64,
    },
    /// A client proposed a command to a node.
    Propose {
        /// The node.
        node: NodeId,
        /// Its term.
        term: Term,
        /// The command (`Debug`).
        command: String,
        /// `Some(index)` if the node accepted it as leader.
        index: Option<Index>,
    },
    /// A client's request reached a node, or the node answered one (`crate::service`).
    Client {
        /// The node.
        node: NodeId,
        /// Its term.
        term: Term,
        /// The request or the answer, e.g. `c2#5 Put("x", "1")` or `c2#5 → Ok`.
        text: String,
    },
    /// The test reached into a node with `Cluster::with_node`.
    WithNode {
        /// The node.
        node: NodeId,
        /// Its term before.
        term: Term,
    },
    /// A node crashed: its volatile state and the messages in flight to it are lost.
    Crash {
        /// The node.
        node: NodeId,
    },
    /// A node restarted from its disk.
    Restart {
        /// The node.
        node: NodeId,
        /// Its term, read from its disk.
        term: Term,
    },
    /// The network changed: a partition, a cut, a heal, new settings.
    Network {
        /// What changed.
        change: String,
    },
    /// A node panicked.
    Panic {
        /// The node.
        node: NodeId,
        /// Its panic message, verbatim.
        message: String,
    },
    /// A check or a budget failed.
    Failure {
        /// Why.
        why: String,
    },
}

impl Event {
    /// The node whose column the event goes in, or `None` for a cluster-wide event.
    pub fn column(&self) -> Option<NodeId> {
        match self {
            Event::Term { node, .. }
            | Event::Role { node, .. }
            | Event::Vote { node, .. }
            | Event::Commit { node, .. }
            | Event::Apply { node, .. }
            | Event::Compact { node, .. }
            | Event::Restore { node, .. }
            | Event::Propose { node, .. }
            | Event::Client { node, .. }
            | Event::WithNode { node, .. }
            | Event::Crash { node }
            | Event::Restart { node, .. }
            | Event::Panic { node, .. } => Some(*node),
            Event::Send { from, .. } | Event::Drop { from, .. } | Event::Duplicate { from, .. } => {
                Some(*from)
            }
            Event::Receive { to, .. } => Some(*to),
            Event::Network { .. } | Event::Failure { .. } => None,
        }
    }
}

/// The compact notation of a timeline cell: `n1@3 → n2 RequestVote t3 last 0/0`, where `n1@3`
/// is node 1 in term 3.
impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Term { node, term } => write!(f, "n{node}@{term} new term"),
            Event::Role { node, term, role } => write!(f, "n{node}@{term} {role:?}"),
            Event::Vote { node, term, voted_for } => write!(f, "n{node}@{term} votes n{voted_for}"),
            Event::Commit { node, term, commit_index } => {
                write!(f, "n{node}@{term} commit {commit_index}")
            }
            Event::Apply { node, term, first, last } => {
                write!(f, "n{node}@{term} apply {first}..={last}")
            }
            Event::Compact { node, term, index } => {
                write!(f, "n{node}@{term} compact through {index}")
            }
            Event::Restore { node, term, index } => {
                write!(f, "n{node}@{term} state machine ← snapshot through {index}")
            }
            Event::Send { from, term, to, message, deliver_at } => match deliver_at {
                Some(at) => write!(f, "n{from}@{term} → n{to} {message} (at {at})"),
                None => write!(f, "n{from}@{term} → n{to} {message}"),
            },
            Event::Receive { from, to, term, message } => {
                write!(f, "n{to}@{term} ← n{from} {message}")
            }
            Event::Drop { from, to, message, reason } => {
                write!(f, "n{from} ✗ n{to} {message} ({reason})")
            }
            Event::Duplicate { from, to, message, again } => {
                write!(f, "n{from} ⇉ n{to} {message} (copy at {again})")
            }
            Event::Propose { node, term, command, index } => match index {
                Some(index) => write!(f, "n{node}@{term} propose {command} → index {index}"),
                None => write!(f, "n{node}@{term} propose {command}: not leader"),
            },
            Event::Client { node, term, text } => write!(f, "n{node}@{term} client {text}"),
            Event::WithNode { node, term } => write!(f, "n{node}@{term} with_node (the test)"),
            Event::Crash { node } => write!(f, "n{node} CRASH"),
            Event::Restart { node, term } => write!(f, "n{node}@{term} RESTART"),
            Event::Network { change } => write!(f, "network: {change}"),
            Event::Panic { node, message } => write!(f, "n{node} PANIC: {message}"),
            Event::Failure { why } => write!(f, "FAILED: {why}"),
        }
    }
}

/// The last events of a run, and all of them when asked for.
#[derive(Debug, Default)]
pub struct Trace {
    /// The last [`RECENT`] events: a ring, the oldest at `head` once it is full.
    recent: Vec<Record>,
    head: usize,
    all: Option<Vec<Record>>,
    count: u64,
    /// Every node's log changes, kept with all the events, for the trace page
    /// ([`crate::logbook`]).
    pub(crate) logbook: Option<Logbook>,
    /// Counts events without keeping them: a run that replays its seed to report a failure
    /// ([`quiet_from_now`]).
    quiet: bool,
    /// How many events were counted and not kept, while quiet.
    unkept: u64,
    /// The clients' history and the checker's verdict, as the trace file's `history`, once a
    /// stage 6 run checked it ([`crate::service::view`]); set through a shared reference,
    /// since the check has only that of the cluster.
    pub(crate) history: RefCell<Option<serde_json::Value>>,
}

/// How many events the trace keeps when it does not keep them all.
pub const RECENT: usize = 64;

impl Trace {
    /// A trace that keeps the last [`RECENT`] events.
    pub fn new() -> Self {
        let recent = Vec::with_capacity(RECENT);
        Trace {
            recent,
            head: 0,
            all: None,
            count: 0,
            logbook: None,
            quiet: false,
            unkept: 0,
            history: RefCell::new(None),
        }
    }

    /// From now on, keep every event (for `RAFT_TRACE` and the determinism check).
    pub fn keep_all(&mut self) {
        if self.all.is_none() {
            self.all = Some(self.kept().cloned().collect());
            self.logbook = Some(Logbook::default());
            self.quiet = false;
        }
    }

    /// Keeps no event from now on, only counts them (unless it keeps them all), or keeps
    /// them again: see [`quiet_from_now`].
    pub(crate) fn set_quiet(&mut self, quiet: bool) {
        self.quiet = quiet && self.all.is_none();
    }

    /// True if it only counts events ([`Trace::set_quiet`]).
    pub(crate) fn is_quiet(&self) -> bool {
        self.quiet
    }

    /// True if it keeps every event ([`Trace::keep_all`]).
    pub fn keeps_all(&self) -> bool {
        self.all.is_some()
    }

    /// Adds an event.
    pub fn push(&mut self, tick: u64, event: Event) {
        if self.quiet {
            // Dropped here, the event lets go of its message: the receiver gets the message
            // itself, not a copy kept for a summary nobody will read.
            self.count += 1;
            self.unkept += 1;
            return;
        }
        let record = Record { tick, event };
        if let Some(all) = &mut self.all {
            all.push(record.clone());
        }
        if self.recent.len() < RECENT {
            self.recent.push(record);
        } else {
            // Overwrites (and drops) the oldest.
            self.recent[self.head] = record;
            self.head = (self.head + 1) % RECENT;
        }
        self.count += 1;
    }

    /// The last events (up to [`RECENT`] of them), oldest first.
    ///
    /// A randomized run ([`crate::chaos`]) keeps no event while it runs: until [`RECENT`]
    /// events have been kept since, this fails the test, naming what to call instead, rather
    /// than reading as empty (or as a few events) where many happened.
    pub fn recent(&self) -> impl Iterator<Item = &Record> {
        self.ensure_kept("recent()");
        self.kept()
    }

    /// The last events kept, oldest first, whatever the run kept.
    pub(crate) fn kept(&self) -> impl Iterator<Item = &Record> {
        let (newer, older) = self.recent.split_at(self.head);
        older.iter().chain(newer)
    }

    /// Fails unless the last [`RECENT`] events, or every event so far, were kept.
    fn ensure_kept(&self, call: &str) {
        if self.unkept > 0 && self.recent.len() < RECENT {
            panic!(
                "trace().{call}: this run kept none of its first {} events (a randomized run \
                 keeps no timeline while it runs) and only {} since, so the last events would \
                 read as {}: use harness::determinism::record_events(|| ...) to get every event \
                 of a run",
                self.unkept,
                self.recent.len(),
                if self.recent.is_empty() { "none" } else { "a few" }
            );
        }
    }

    /// Every event, if [`Trace::keep_all`] was called before the run.
    pub fn all(&self) -> Option<&[Record]> {
        self.all.as_deref()
    }

    /// How many events happened.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The whole trace (or the recent part) as pretty JSON. Fails as [`Trace::recent`] does
    /// after a randomized run.
    pub fn to_json(&self) -> String {
        let records: Vec<&Record> = match &self.all {
            Some(all) => all.iter().collect(),
            None => self.recent().collect(),
        };
        serde_json::to_string_pretty(&records).expect("a trace serializes to JSON")
    }
}

/// A message on its way, shared by the network (which hands it to its receiver) and the trace
/// records of its send, arrival or drop (which show its summary): the summary is written from
/// it the first time someone reads it.
pub struct Sent<M> {
    message: M,
    text: OnceCell<Box<str>>,
}

impl<M> Sent<M> {
    /// The message.
    pub fn message(&self) -> &M {
        &self.message
    }

    /// The message, for its receiver: moved out if nothing else holds it any more, cloned if a
    /// trace record still does.
    pub fn into_message(sent: Rc<Self>) -> M
    where
        M: Clone,
    {
        match Rc::try_unwrap(sent) {
            Ok(sent) => sent.message,
            Err(shared) => shared.message.clone(),
        }
    }
}

impl<M: Display + 'static> Sent<M> {
    /// `message`, its summary not yet written.
    pub fn new(message: M) -> Rc<Self> {
        Rc::new(Sent { message, text: OnceCell::new() })
    }

    /// `message` with its summary written now (when the whole trace is kept, it will be read).
    pub fn written(message: M) -> Rc<Self> {
        let sent = Sent::new(message);
        sent.text();
        sent
    }

    /// Its summary, for the trace: the text, or the message to write it from, shared.
    pub fn summary(sent: &Rc<Self>) -> Summary {
        if let Some(text) = sent.text.get() {
            return Summary(Rc::new(Written(text.clone())));
        }
        Summary(sent.clone())
    }

    fn text(&self) -> &str {
        self.text.get_or_init(|| write_summary(&self.message))
    }
}

/// The `Display` of `message`. The harness checked at the send that it starts without a panic
/// (its first word is the message's kind, see [`crate::stats`]); one that panics or fails
/// further on gives a summary that says so, where the report or trace shows it.
fn write_summary<M: Display>(message: &M) -> Box<str> {
    let mut text = String::new();
    let written = panic::catch_unwind(AssertUnwindSafe(|| write!(text, "{message}")));
    match written {
        Ok(Ok(())) => text.into(),
        Ok(Err(_)) => format!("{text} (its Display returned an error here)").into(),
        Err(payload) => {
            let why = crate::cluster::panic_text(payload);
            format!("{text} (its Display panicked here: {why})").into()
        }
    }
}

/// What a [`Summary`] reads its text from.
trait Text {
    fn text(&self) -> &str;
}

impl<M: Display + 'static> Text for Sent<M> {
    fn text(&self) -> &str {
        Sent::text(self)
    }
}

/// A summary written from the start.
struct Written(Box<str>);

impl Text for Written {
    fn text(&self) -> &str {
        &self.0
    }
}

/// A message's one-line summary (its `Display`), as trace events carry it: reads as a `str`,
/// written the first time it is read (see the module documentation). Clones share it.
#[derive(Clone)]
pub struct Summary(Rc<dyn Text>);

impl Summary {
    /// The summary's text.
    pub fn as_str(&self) -> &str {
        self.0.text()
    }
}

impl Deref for Summary {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Summary {
    fn from(text: &str) -> Self {
        Summary(Rc::new(Written(text.into())))
    }
}

impl From<String> for Summary {
    fn from(text: String) -> Self {
        Summary(Rc::new(Written(text.into())))
    }
}

impl PartialEq for Summary {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl fmt::Debug for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Display::fmt(self.as_str(), f)
    }
}

impl Serialize for Summary {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

thread_local! {
    /// Set by the determinism check while it runs a scenario: see [`keeping_all`].
    static KEEP_ALL: Cell<bool> = const { Cell::new(false) };
}

/// True while clusters built on this thread keep their whole trace, not just the recent part:
/// while [`crate::determinism::check_determinism`] runs (it compares every event of two runs).
/// The flag lives here, with the trace, so that the cluster needs nothing of the check.
pub fn keeping_all() -> bool {
    KEEP_ALL.with(Cell::get)
}

/// Turns [`keeping_all`] on or off for clusters built on this thread from now on.
pub(crate) fn keep_all_from_now(on: bool) {
    KEEP_ALL.with(|keep| keep.set(on));
}

thread_local! {
    /// Set while a randomized run runs quietly: see [`quiet_from_now`].
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// True while a run on this thread runs quietly ([`quiet_from_now`]).
pub(crate) fn quieting() -> bool {
    QUIET.with(Cell::get)
}

/// Turns quiet runs on or off on this thread. A cluster built while they are on keeps no
/// event and no message for a summary (it counts events), and a failure unwinds with a
/// [`QuietFailure`] instead of printing a report; panics on this thread print nothing
/// meanwhile. A randomized run does this because it can run its seed again: nobody reads the
/// timeline of a run that passes, and a run that fails is replayed with the timeline on, which
/// prints the very report it would have printed (same seed, same run). Never on while every
/// event is kept (`RAFT_TRACE`, the determinism check).
pub(crate) fn quiet_from_now(on: bool) {
    if on {
        silence_quiet_panics();
    }
    QUIET.with(|quiet| quiet.set(on));
}

/// Why a quiet run failed: what its report would have said first, and when.
#[derive(Debug)]
pub(crate) struct QuietFailure {
    pub(crate) why: String,
    pub(crate) tick: u64,
}

/// Wraps the panic hook, once per process, so that it prints nothing for a panic on a thread
/// that runs quietly (a node's panic there is printed by the replay, with its report) and
/// everything else as before.
fn silence_quiet_panics() {
    static WRAPPED: std::sync::Once = std::sync::Once::new();
    WRAPPED.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            // `try_with`: a panic while the thread's locals are torn down still prints.
            if !QUIET.try_with(Cell::get).unwrap_or(false) {
                previous(info);
            }
        }));
    });
}
