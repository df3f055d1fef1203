//! Deliberately wrong key-value services, and how often the randomized run catches each.
//!
//! Each wrong service is the reference [`KvNode`] with one classic mistake (dissertation §6),
//! made by a wrapper that changes what the node answers or remembers:
//!
//! - `stale-read`: the leader answers a read at once from its store, without the leadership
//!   round or the no-op (§6.4): a deposed leader serves stale values;
//! - `no-dedup`: the sessions forget their last request after every input (they stay open, so
//!   the clients stay registered), so a retried write applies again (§6.3);
//! - `sessions-not-in-snapshot`: a store loaded from a snapshot (after a restart or an
//!   InstallSnapshot) comes without its sessions (§6.3, §7);
//! - `answer-before-commit`: the leader answers a write as soon as it proposes it, with what its
//!   own store would answer (§6.2);
//! - `wrong-request`: a write waits at its index whatever happens, and gets the answer of the
//!   entry applied there, whichever it is (§6.2: the entry at the index must have the write's
//!   term, and a deposed leader answers "not leader");
//! - `hands-out-nothing`: the store applies what the node commits, but `take_committed` hands
//!   the harness none of it, so State Machine Safety never sees the service's state machine
//!   (Figure 2: a service applies, and shows, everything through its commit index).
//!
//! `cargo run --release -p kv-solution --example wrong_services [-- <seeds>]` runs each over
//! seeds `1..=<seeds>` (default 1,000) of the randomized run of `tests/random.rs`
//! ([`chaos::kv`]) and prints its catch rate and the first seed that caught it. (The reference's
//! speed and messages per operation: the `kv_bench` example.)

use std::panic::{AssertUnwindSafe, catch_unwind};

use harness::service::chaos;
use harness::service::clients::Clients;
use harness::service::kv::{KvOp, KvOutput};
use harness::service::{Answer, Reply, Request, Service};
use harness::{
    Applied, Cluster, Compact, Config, Envelope, Index, Node, NodeId, NotLeader, Persist,
    Replicate, Rng, Snapshot, Status, Term,
};
use kv::{Entry, KvNode, Message, PersistentState, StorageWrite};

const CORRECT: u8 = 0;
const STALE_READ: u8 = 1;
const NO_DEDUP: u8 = 2;
const SESSIONS_NOT_IN_SNAPSHOT: u8 = 3;
const ANSWER_BEFORE_COMMIT: u8 = 4;
const WRONG_REQUEST: u8 = 5;
const HANDS_OUT_NOTHING: u8 = 6;

/// The reference with mistake `BUG`.
struct Wrong<const BUG: u8> {
    node: KvNode,
    /// `wrong-request`: the writes this node proposed, by index, as (client, seq).
    waiting: std::collections::BTreeMap<Index, (u64, u64)>,
}

impl<const BUG: u8> Wrong<BUG> {
    fn of(node: KvNode) -> Self {
        Wrong { node, waiting: std::collections::BTreeMap::new() }
    }
}

impl<const BUG: u8> Wrong<BUG> {
    /// Runs one input of the inner node, then makes the mistake.
    fn input(&mut self, input: impl FnOnce(&mut KvNode)) {
        input(&mut self.node);
        match BUG {
            NO_DEDUP => {
                for session in self.node.store.sessions.values_mut() {
                    session.last_seq = 0;
                }
            }
            WRONG_REQUEST => {
                for (&index, write) in &self.node.pending {
                    self.waiting.insert(index, (write.client, write.seq));
                }
            }
            _ => {}
        }
    }

    /// `wrong-request`: whatever entry is applied at a write's index answers that write, and
    /// nothing else does (no "not leader" for it, ever).
    fn answer_by_index(&mut self, applied: &[Applied<String>]) {
        for entry in applied {
            let Some((client, seq)) = self.waiting.remove(&entry.index) else { continue };
            let answer = match Entry::decode(&entry.command) {
                Entry::Noop => Answer::Done(KvOutput::Ok),
                Entry::Register => Answer::Registered { client_id: entry.index },
                Entry::Request(request) => {
                    let session = self.node.store.sessions.get(&request.client);
                    match session.filter(|s| s.last_seq == request.seq).map(|s| s.answer.clone()) {
                        Some(answer) => kv::to_answer(answer),
                        None => continue,
                    }
                }
            };
            self.node.answer(client, seq, answer);
        }
    }
}

impl<const BUG: u8> Node for Wrong<BUG> {
    type Message = Message;
    type Command = String;

    fn new(id: NodeId, peers: Vec<NodeId>, config: Config, rng: Rng) -> Self {
        Wrong::of(KvNode::new(id, peers, config, rng))
    }
    fn id(&self) -> NodeId {
        self.node.id()
    }
    fn tick(&mut self) {
        self.input(|node| node.tick());
    }
    fn step(&mut self, from: NodeId, message: Message) {
        self.input(|node| node.step(from, message));
    }
    fn take_messages(&mut self) -> Vec<Envelope<Message>> {
        self.node.take_messages()
    }
    fn status(&self) -> Status {
        self.node.status()
    }
    fn log_entry(&self, index: Index) -> Option<(Term, &String)> {
        self.node.log_entry(index)
    }
}

impl<const BUG: u8> Replicate for Wrong<BUG> {
    fn propose(&mut self, command: String) -> Result<(Index, Term), NotLeader> {
        self.node.propose(command)
    }
    fn take_committed(&mut self) -> Vec<Applied<String>> {
        let applied = self.node.take_committed();
        if BUG == WRONG_REQUEST {
            self.answer_by_index(&applied);
        }
        if BUG == HANDS_OUT_NOTHING {
            return Vec::new();
        }
        applied
    }
}

impl<const BUG: u8> Persist for Wrong<BUG> {
    type State = PersistentState;
    type Write = StorageWrite;
    fn take_persist(&mut self) -> Vec<StorageWrite> {
        self.node.take_persist()
    }
    fn apply_write(state: &mut PersistentState, write: StorageWrite) {
        KvNode::apply_write(state, write);
    }
    fn restart(
        id: NodeId,
        peers: Vec<NodeId>,
        config: Config,
        rng: Rng,
        state: Self::State,
    ) -> Self {
        let mut node = KvNode::restart(id, peers, config, rng, state);
        if BUG == SESSIONS_NOT_IN_SNAPSHOT {
            node.store.sessions.clear();
        }
        Wrong::of(node)
    }
}

impl<const BUG: u8> Compact for Wrong<BUG> {
    fn compact(&mut self, index: Index, snapshot: Vec<u8>) {
        self.node.compact(index, snapshot);
    }
    fn take_snapshot(&mut self) -> Option<Snapshot> {
        let snapshot = self.node.take_snapshot();
        if BUG == SESSIONS_NOT_IN_SNAPSHOT && snapshot.is_some() {
            self.node.store.sessions.clear();
        }
        snapshot
    }
}

impl<const BUG: u8> Service for Wrong<BUG> {
    type Op = KvOp;
    type Output = KvOutput;

    fn request(&mut self, request: Request<KvOp>) {
        let node = &mut self.node;
        if node.is_leader() && kv::Store::validate(&request.op).is_ok() {
            match BUG {
                STALE_READ if request.op.is_read() => {
                    let value = node.store.get(request.op.key()).cloned();
                    let answer = Answer::Done(KvOutput::Value(value));
                    return node.answer(request.client, request.seq, answer);
                }
                ANSWER_BEFORE_COMMIT if !request.op.is_read() => {
                    let (client, seq) = (request.client, request.seq);
                    let mut store = node.store.clone();
                    let index = node.state().log.last_index() + 1;
                    let answer = store.apply(index, client, seq, &request.op);
                    node.request(request);
                    node.pending.retain(|_, write| (write.client, write.seq) != (client, seq));
                    return node.answer(client, seq, kv::to_answer(answer));
                }
                _ => {}
            }
        }
        self.input(|node| node.request(request));
    }

    fn register(&mut self, nonce: u64) {
        self.input(|node| node.register(nonce));
    }

    fn take_replies(&mut self) -> Vec<Reply<KvOutput>> {
        let mut replies = self.node.take_replies();
        if BUG == WRONG_REQUEST {
            let waiting: Vec<(u64, u64)> = self.waiting.values().copied().collect();
            replies.retain(|reply| {
                !matches!(reply.answer, Answer::NotLeader { .. })
                    || !waiting.contains(&(reply.client, reply.seq))
            });
        }
        replies
    }
}

/// The randomized run of `tests/random.rs` ([`chaos::kv`]) for the reference with mistake
/// `BUG`; panics with the report if a check fails. Returns the cluster and its clients.
fn run<const BUG: u8>(seed: u64) -> (Cluster<Wrong<BUG>>, Clients<KvOp, KvOutput>) {
    let compact = |wrong: &mut Wrong<BUG>, every| wrong.node.config.snapshot_every = every;
    chaos::kv(seed, compact, |wrong: &Wrong<BUG>| wrong.node.store.clone())
}

/// Runs `BUG` over `seeds`; returns how many seeds failed, the first that did and its reason.
fn catch_rate<const BUG: u8>(seeds: u64) -> (u64, Option<(u64, String)>) {
    let mut caught = 0;
    let mut first = None;
    for seed in 1..=seeds {
        let result = catch_unwind(AssertUnwindSafe(|| run::<BUG>(seed)));
        if let Err(panic) = result {
            caught += 1;
            if first.is_none() {
                let text = panic.downcast_ref::<String>().cloned().unwrap_or_default();
                let rule =
                    text.lines().find(|l| l.starts_with("harness:")).unwrap_or("").to_string();
                first = Some((seed, rule));
            }
        }
    }
    (caught, first)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seeds: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(1_000);
    // Quiet: failing runs replay only to print, and here nobody reads the reports.
    std::panic::set_hook(Box::new(|_| {}));
    let results = [
        ("correct (the reference)", catch_rate::<CORRECT>(seeds)),
        ("stale-read", catch_rate::<STALE_READ>(seeds)),
        ("no-dedup", catch_rate::<NO_DEDUP>(seeds)),
        ("sessions-not-in-snapshot", catch_rate::<SESSIONS_NOT_IN_SNAPSHOT>(seeds)),
        ("answer-before-commit", catch_rate::<ANSWER_BEFORE_COMMIT>(seeds)),
        ("wrong-request", catch_rate::<WRONG_REQUEST>(seeds)),
        ("hands-out-nothing", catch_rate::<HANDS_OUT_NOTHING>(seeds)),
    ];
    println!("{:<26} {:>8}  first seed caught, and the rule", "service", "caught");
    for (name, (caught, first)) in results {
        let rate = 100.0 * caught as f64 / seeds as f64;
        let first = first.map_or("-".to_string(), |(seed, rule)| format!("{seed}: {rule}"));
        let first: String = first.chars().take(110).collect();
        println!("{name:<26} {caught:>4}/{seeds} ({rate:.1}%)  {first}");
    }
}
