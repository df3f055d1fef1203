//! A deterministic simulated Raft cluster for testing sans-IO Raft nodes.
//!
//! Everything here is driven by one `u64` seed and simulated ticks: no wall clock, no threads,
//! no global randomness. Same seed, same run, byte for byte. The one thread and clock, the
//! [`watchdog`], only observe: they end a test whose node call never returns
//! (`RAFT_WATCHDOG=<seconds>`, default 30; `0` turns it off).
//!
//! The harness knows nothing of any stage's types. A node plugs in through the traits in
//! [`node`]: [`Node`] (elections: every stage), [`Replicate`] (proposals and committed
//! entries: stage 3 on) and [`Persist`] (crash and restart: state to persist).
//!
//! # The rooms
//!
//! ```text
//! simulation/  the world a node lives in: node contract, cluster and clock, network, faults and
//!              disks, a state machine per node, the lab's helpers, rng, stage 6's service.
//!              Open it to see what the harness does between your node's calls.
//! checks/      what a run is judged by: Raft's safety rules, persistence across restarts,
//!              determinism, the watchdog. Open it when a rule fired and you want its exact test.
//! reports/     what a run leaves to read: the failure report, the trace and logbook, the trace
//!              page, message stats. Open it to change what a failure or a trace shows.
//! runs/        ways to run many or watch one: seeds, randomized chaos runs, the bare benchmark
//!              loop, live in a browser. Open it to change how seeds and faults are drawn.
//! ```
//!
//! Every module keeps its short path at the crate root (`harness::network`, `harness::chaos`,
//! ...): the rooms arrange the source, the paths tests use stay as they were.
//!
//! # The API in one page
//!
//! ```text
//! Cluster<N: Node>                          (simulation/cluster.rs: the clock, events, checks)
//!   new(nodes, seed) / with_config(nodes, seed, Config, NetworkConfig)
//!   seed() now() ids() config() node(id) is_up(id) status(id) stats() trace() network()
//!   tick() run_for(ticks) run_until(max_ticks, |c| cond) -> bool   check_logs()
//!   deliver(to, from, message)      a message the test built, stepped now, checks after
//!   with_node(id, |node| -> R) -> R reach one node mutably, checks after
//!   note(name, value)   fork_rng(stream)   set_budgets(Budgets)
//!   crash(id) isolate(id) disconnect(id) connect(id) is_connected(id)  (simulation/faults.rs)
//!   partition(&[&[..], &[..]]) cut(from, to) heal() set_network(cfg)
//!   set_message_fault(MessageFault { name, matches, loss, extra_delay }) clear_message_faults()
//!   leaders() -> Vec<(NodeId, Term)>   majority_leader() -> Option<NodeId>   (simulation/lab.rs)
//!   check_one_leader() -> NodeId   check_no_leader()   check_terms() -> Term
//!   fail(why) -> !   ensure(condition, || why)   set_replay(|seed| command)  (reports/failure.rs)
//!   story_step(step, max_ticks, |c| ..)   ensure_story(happened, || what)   a story's steps
//! Cluster<N: Persist + 'static>
//!   with_disks(self) -> Self      REQUIRED before restart: nodes persist after every event
//!   restart(id)                   checked: same term, vote and log as at the crash
//! Cluster<N: Replicate>
//!   propose(id, cmd) -> Result<(Index, Term), NotLeader>
//!   one(cmd, expected, retry) -> Index      the classic lab's one()   (simulation/lab.rs)
//!   run_clients(&mut [Client]) -> Vec<Index>  clients side by side, one tick per round
//!   submit(cmd, expected) -> Index          = one(cmd, expected, true), the earlier name
//!   committed_count(index) -> (usize, Option<Command>)   every node, up or down (lab)
//!   track_applied()   (propose/one call it; applied entries are checked from then on)
//! Client::new(cmd, expected, retry)  .poll(&mut cluster) -> Option<Result<Index, String>>
//! Cluster<N: Service> (stage 6: a node that is a replicated service)  (simulation/service/)
//!   request(id, Request { client, seq, op })   take_replies(id) -> Vec<Reply>
//!   service_snapshots()   check the snapshots a service takes itself (opaque bytes), and that
//!                         it hands out everything it committed after every event
//! Clients::new(&cluster, count, ClientLink::reliable() / unreliable())  (simulation/service/)
//!   submit(client, op) call(&mut cluster, client, op, max_ticks) -> output tick(&mut cluster)
//!   run_for / run_until_idle   restrict(client, &[ids]) unrestrict   give_up() history() counts()
//!   check_linearizable(&cluster)   (key-value: service::kv, the `linearizability` crate)
//! MessageStats: kinds, total(), kind(k), to_node(id), received_by(id, k)   (reports/stats.rs)
//!   cluster.count_bytes()   measure bytes too (off by default: reading bytes() then fails)
//! seeds() -> Vec<u64>                                (RAFT_SEED=n, RAFT_SEEDS=k or a..b)
//! seeds::story_seeds() -> Vec<u64>                   (a story's: the default ones, or RAFT_SEED=n)
//! watchdog::limit_from(RAFT_WATCHDOG) -> Option<Duration>     (default 30 s; "0": off)
//! chaos::elections::<N: Persist>(seed) -> Cluster<N>
//! chaos::replication::<N: Replicate + Persist>(seed) -> Cluster<N>   (N::Command: From<String>)
//! check_determinism(|| -> Cluster<N>) -> usize      (same seed twice, identical traces)
//! determinism::record_events(|| -> Cluster<N>) -> Vec<Record>   (every event of one run)
//! NetworkConfig { min_delay, max_delay, loss, duplicate, reorder, max_hold_back }:
//!   reliable(), unreliable(); min_delay 0: same-tick delivery; max_hold_back None: 4 x max_delay
//! ```
//!
//! A cluster test:
//!
//! ```ignore
//! for seed in harness::seeds() {
//!     let mut cluster = Cluster::<RaftNode>::new(3, seed).with_disks();
//!     let leader = cluster.check_one_leader();
//!     cluster.crash(leader);
//!     let next = cluster.check_one_leader();
//!     assert_ne!(next, leader);
//!     cluster.restart(leader);
//!     cluster.run_for(100);
//!     cluster.check_terms();
//! }
//! ```
//!
//! Every failure (a broken safety rule, a panic inside a node, an exhausted budget, a helper
//! like `check_one_leader` that gives up) panics with a report: the rule and its section, the
//! command that replays the run, the seed and settings, the last 40 events as a timeline with
//! one column per node, and a table of every node's state. See `docs/harness.md`.

pub mod checks;
pub mod reports;
pub mod runs;
pub mod simulation;

// The short paths every test, stage and tool uses (`harness::network::NetworkConfig`).
pub use checks::{determinism, watchdog};
pub use reports::{logbook, page, report, stats, trace};
pub use runs::{bare, chaos, live, seeds};
pub use simulation::{client, cluster, machine, network, node, rng, service};
// The same short paths inside the crate, for the modules that stay private to it.
pub(crate) use checks::persistence;
pub(crate) use simulation::{disk, snapshots};

pub use checks::Violation;
pub use client::Client;
pub use cluster::{Budgets, Cluster};
pub use determinism::check_determinism;
pub use network::{MessageFault, NetworkConfig};
pub use node::{
    Applied, Compact, Config, Envelope, Index, Node, NodeId, NotLeader, Persist, Replicate, Role,
    Snapshot, Status, Term,
};
pub use rng::Rng;
pub use seeds::seeds;
pub use stats::MessageStats;
