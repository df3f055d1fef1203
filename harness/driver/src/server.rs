//! One server process: the node on a thread of its own, peers and clients on tokio.
//!
//! # The node's loop
//!
//! The node runs on one OS thread that owns it and its disk, and takes inputs from one
//! channel: peer messages, client requests, forwarded requests and replies, `INFO` queries.
//! A loop turn waits for the first input or the next tick (every [`TICK`]), takes every
//! input already waiting, gives the node every peer message and at most
//! [`REQUESTS_PER_TURN`] client requests (the rest wait for the next turns), and a leader none
//! while its log holds [`UNCOMMITTED_WINDOW`] entries past its commit index; ticks if a tick
//! is due, then carries out the node's outputs in the contract's order ([`harness::node`]):
//!
//! 1. the writes, made durable: one `Disk::write`, so one fdatasync for the whole turn,
//!    however many inputs it took (group commit). Nothing leaves before it returns, so no
//!    message or reply depends on state a crash could lose (§5.1);
//! 2. the messages, coalesced per peer ([`crate::coalesce`]: of the AppendEntries a leader
//!    makes for every proposal, one per follower is left), to the peers' connection queues;
//! 3. the replies: the state machine applied what was committed, and clients get answers.
//!
//! The bound on requests per turn is time-slicing: a turn's cost grows with the requests it
//! takes (a proposal, its log record, its reply), and a turn that took all of them at once
//! under `redis-benchmark -P 16` (800 in flight) ran long enough for the leader's heartbeats
//! to be late (§5.2). Peer messages are never held back: they are few, and a follower's
//! answers are what commit the requests.
//!
//! The window on uncommitted entries is the cost of the stage 3 reference's replication: it
//! copies, on every proposal, every entry a follower has not acknowledged (up to
//! [`MAX_ENTRIES_PER_APPEND`]) into an AppendEntries for it. A request proposed behind 800
//! others cost the leader over ten times one proposed behind 64 (`examples/propose_cost.rs`);
//! the window keeps the requests that would only wait for acknowledgements out of the node,
//! where they cost nothing, until the entries before them commit.
//!
//! A write that fails stops the process: after a failed fsync the kernel may have dropped the
//! pages, and retrying could report durable what is not (PostgreSQL's "fsyncgate", 2018).

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use harness::{Config, NodeId, Rng, Role};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use crate::client;
use crate::coalesce;
use crate::peers::{self, Frame};
use crate::routes::Routes;
use crate::service::{Call, Hosted, Reply};
use crate::storage::Disk;

/// One tick of the node's clock.
pub const TICK: Duration = Duration::from_millis(10);

/// The election timeout, in ticks: 1 to 2 s ([`node_config`]).
pub const ELECTION_TIMEOUT: u64 = 100;

/// The heartbeat interval, in ticks: 100 ms.
pub const HEARTBEAT_INTERVAL: u64 = 10;

/// The most client requests (local or forwarded) one loop turn gives the node; the others wait
/// for the next turns, so that a turn stays short and ticks come on time. As many as
/// [`UNCOMMITTED_WINDOW`]: one turn (one fdatasync) may fill the window.
pub const REQUESTS_PER_TURN: usize = 128;

/// The most entries one AppendEntries carries. A follower gets at most this many new entries
/// per round trip (its `next_index` moves only when its answer comes back, §5.3), so it caps
/// what the cluster commits per round trip: at the simulator's 64, `redis-benchmark -P 16`
/// (800 SETs in flight) was measured at 64 entries per AppendEntries and about 35
/// AppendEntries per follower per second. As large as [`UNCOMMITTED_WINDOW`], so that an
/// AppendEntries carries everything a follower has not acknowledged, and no larger: the
/// reference copies up to this many entries per follower on *every* proposal, so a follower
/// that lags costs every request this many copies.
pub const MAX_ENTRIES_PER_APPEND: usize = 128;

/// The most entries a leader's log may hold past its commit index before the loop gives the
/// node more client requests; the others wait in the loop's queue, in order.
///
/// Why: the reference sends each follower, on every proposal, the entries from that
/// follower's `next_index` to the log's end (at most [`MAX_ENTRIES_PER_APPEND`]), copies it
/// then drops in [`crate::coalesce`]. So a request costs the leader a copy of every entry not
/// yet acknowledged, per follower: with 800 pipelined SETs all proposed at once, hundreds
/// (measured with `examples/propose_cost.rs`: about 0.2 µs of CPU per entry copied, 25 µs
/// per request at 64 unacknowledged entries, 310 µs at 800 with 1,024 per AppendEntries).
/// Holding requests back is always allowed (a client cannot tell a slow network from a
/// queue), and the requests held are the ones that would wait for those acknowledgements
/// anyway.
pub const UNCOMMITTED_WINDOW: u64 = 128;

/// The most inputs one loop turn takes from the channel.
const INPUTS_PER_TURN: usize = 10_000;

/// What one server process needs to run.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// This node's id, 1-based: its place in `peers`.
    pub id: NodeId,
    /// Every node's peer address, in id order, this node's own included.
    pub peers: Vec<SocketAddr>,
    /// Where clients connect.
    pub client_address: SocketAddr,
    /// The data directory.
    pub data_dir: PathBuf,
}

/// What `INFO` shows of the node.
#[derive(Clone, Debug, Default)]
pub struct Info {
    /// The node's id.
    pub id: NodeId,
    /// "leader", "follower" or "candidate".
    pub role: &'static str,
    /// `current_term`.
    pub term: u64,
    /// The leader this node knows of.
    pub leader: Option<NodeId>,
    /// `commit_index`.
    pub commit_index: u64,
    /// The index the state machine applied through.
    pub applied: u64,
    /// The last log index.
    pub last_log_index: u64,
    /// The snapshot's last index.
    pub snapshot_index: u64,
    /// fsyncs since the process started.
    pub fsyncs: u64,
    /// Cut off from its peers by `RAFT.ISOLATE ON`.
    pub isolated: bool,
    /// Loop turns that wrote something (each costs one fdatasync of the log, at least).
    pub write_turns: u64,
    /// Where the loop's time went.
    pub counters: Counters,
    /// Requests whose reply this process waits for, to send it back ([`Routes`]).
    pub routes: usize,
}

/// Where a node's loop spends its time, since the process started: for `INFO` and the
/// benchmark's "where the time goes".
#[derive(Clone, Copy, Debug, Default)]
pub struct Counters {
    /// Loop turns.
    pub turns: u64,
    /// The longest turn.
    pub longest: Duration,
    /// In the node: inputs given to it, ticks, and its work on them (proposals, messages made).
    pub node: Duration,
    /// Writing and syncing the turn's writes (`Disk::write`).
    pub disk: Duration,
    /// Coalescing the messages, queueing them and the replies.
    pub out: Duration,
    /// Messages put on the peers' queues.
    pub sent: u64,
    /// Messages not sent: a later one of the same turn covered them ([`coalesce`]).
    pub coalesced: u64,
    /// Turns that left client requests waiting because the leader's window was full
    /// ([`UNCOMMITTED_WINDOW`]).
    pub window_full: u64,
}

impl Counters {
    fn turn(&mut self, took: Duration) {
        self.turns += 1;
        self.longest = self.longest.max(took);
    }
}

/// `RAFT_DRIVER_TRACE=1`: a line on stderr every second with what the loop did in it, and
/// one at every change of term or role.
struct Trace {
    since: Instant,
    last: Counters,
}

impl Trace {
    fn new() -> Trace {
        Trace { since: Instant::now(), last: Counters::default() }
    }

    fn maybe_print(&mut self, id: NodeId, now: &Counters, waiting: usize) {
        if self.since.elapsed() < Duration::from_secs(1) {
            return;
        }
        let ms = |d: Duration| d.as_millis();
        eprintln!(
            "[n{id}] last {:?}: {} turns (longest {} ms since start), node {} ms, disk {} ms, \
             out {} ms, {} messages sent, {} coalesced away, {waiting} requests waiting, \
             {} turns with the window full",
            self.since.elapsed(),
            now.turns - self.last.turns,
            ms(now.longest),
            ms(now.node - self.last.node),
            ms(now.disk - self.last.disk),
            ms(now.out - self.last.out),
            now.sent - self.last.sent,
            now.coalesced - self.last.coalesced,
            now.window_full - self.last.window_full,
        );
        (self.since, self.last) = (Instant::now(), *now);
    }
}

/// An input to the node's loop.
pub enum Input<M> {
    /// A peer's frame.
    Peer(NodeId, Frame<M>),
    /// A client's request or registration, for this node (`target` `None` or this node) or
    /// to forward to `target`; its reply goes to `reply`.
    Client {
        /// The request.
        request: Call,
        /// Where to send it.
        target: Option<NodeId>,
        /// The client's connection.
        reply: mpsc::UnboundedSender<Reply>,
    },
    /// `INFO`.
    Info(oneshot::Sender<Info>),
    /// `RAFT.ISOLATE ON|OFF`: drop every frame to and from the peers (a partition, for the
    /// live view and for experiments), or stop dropping them.
    Isolate(bool),
}

/// A client request waiting for its turn.
enum Waiting {
    /// From a connection to this process, for this node or to forward to `target`.
    Local { request: Call, target: Option<NodeId>, reply: mpsc::UnboundedSender<Reply> },
    /// Forwarded by the follower `from`.
    Forwarded { from: NodeId, request: Call },
}

/// Where the reply to a client's requests goes.
enum Route {
    /// A connection to this process.
    Local(mpsc::UnboundedSender<Reply>),
    /// The follower that forwarded the request.
    Peer(NodeId),
}

/// Runs the server until the process is killed. Fails at once if the data directory cannot
/// be used (a damaged log: the error names the file and the offset) or an address is taken.
pub fn run<H: Hosted + 'static>(config: ServerConfig) -> Result<(), String>
where
    <H::Node as harness::Persist>::State: Send,
{
    let (disk, recovered) = Disk::<H::Node>::open(&config.data_dir)
        .map_err(|error| format!("n{}: cannot start: {error}", config.id))?;
    for note in &recovered.notes {
        eprintln!("[n{}] {note}", config.id);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start tokio: {error}"))?;
    let (input_tx, input_rx) = std_mpsc::channel::<Input<H::Message>>();
    let queues = runtime.block_on(start_network::<H>(&config, input_tx.clone()))?;
    let id = config.id;
    let peer_ids = peer_ids(&config);
    eprintln!(
        "[n{id}] up: clients on {}, peers on {}, data in {} ({})",
        config.client_address,
        config.peers[id as usize - 1],
        config.data_dir.display(),
        if recovered.fresh { "new" } else { "restarted from disk" }
    );
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as u64)
        ^ u64::from(std::process::id())
        ^ id;
    let disk_state = (!recovered.fresh).then_some(recovered.state);
    drop(input_tx);
    std::thread::Builder::new()
        .name(format!("n{id}-node"))
        .spawn(move || {
            let node = H::start(id, peer_ids, node_config(), Rng::new(seed), disk_state);
            let routes = Routes::new(Instant::now());
            let requests = VecDeque::new();
            NodeLoop {
                id,
                node,
                disk,
                queues,
                routes,
                requests,
                write_turns: 0,
                resends: Default::default(),
                counters: Counters::default(),
                isolated: false,
            }
            .run(input_rx)
        })
        .map_err(|error| format!("cannot start the node thread: {error}"))?
        .join()
        .map_err(|_| format!("n{id}: the node thread panicked"))?
}

/// The node's settings for real time: an election timeout of [`ELECTION_TIMEOUT`] ticks (1 to
/// 2 s) and a heartbeat every [`HEARTBEAT_INTERVAL`] (100 ms), etcd's defaults, rather than
/// the simulator's 20 and 4 (200 to 400 ms, 40 ms): on a loaded two-core machine a process
/// was measured to stall 150 to 600 ms at times (an fdatasync behind other programs' writes, a
/// CPU shared with a dozen compilers), and a leader's stall longer than the followers'
/// election timeout is an election.
pub fn node_config() -> Config {
    Config {
        election_timeout: ELECTION_TIMEOUT,
        heartbeat_interval: HEARTBEAT_INTERVAL,
        max_entries_per_append: MAX_ENTRIES_PER_APPEND,
    }
}

/// "leader", "follower" or "candidate".
fn role_name(role: Role) -> &'static str {
    match role {
        Role::Leader => "leader",
        Role::Follower => "follower",
        Role::Candidate => "candidate",
    }
}

/// The other nodes' ids.
fn peer_ids(config: &ServerConfig) -> Vec<NodeId> {
    (1..=config.peers.len() as NodeId).filter(|&peer| peer != config.id).collect()
}

/// Binds the peer and client listeners, starts the dialers; returns each peer's queue.
async fn start_network<H: Hosted + 'static>(
    config: &ServerConfig,
    input: std_mpsc::Sender<Input<H::Message>>,
) -> Result<BTreeMap<NodeId, mpsc::Sender<Frame<H::Message>>>, String> {
    let id = config.id;
    let peer_address = config.peers[id as usize - 1];
    let peer_listener = TcpListener::bind(peer_address)
        .await
        .map_err(|error| format!("n{id}: cannot listen for peers on {peer_address}: {error}"))?;
    let client_listener = TcpListener::bind(config.client_address).await.map_err(|error| {
        format!("n{id}: cannot listen for clients on {}: {error}", config.client_address)
    })?;
    let mut queues = BTreeMap::new();
    for peer in peer_ids(config) {
        let (tx, rx) = mpsc::channel(peers::QUEUE);
        queues.insert(peer, tx);
        tokio::spawn(peers::dial(id, peer, config.peers[peer as usize - 1], rx));
    }
    let to_node = input.clone();
    let deliver = move |from, frame| {
        let _ = to_node.send(Input::Peer(from, frame));
    };
    tokio::spawn(peers::listen(id, peer_ids(config), peer_listener, deliver));
    tokio::spawn(client::serve(id, client_listener, input));
    Ok(queues)
}

/// The node, its disk, and where its outputs go.
struct NodeLoop<H: Hosted> {
    id: NodeId,
    node: H,
    disk: Disk<H::Node>,
    queues: BTreeMap<NodeId, mpsc::Sender<Frame<H::Message>>>,
    routes: Routes<Route>,
    /// Client requests taken from the channel, not yet given to the node.
    requests: VecDeque<Waiting>,
    write_turns: u64,
    /// Snapshots sent lately, not to send again too soon.
    resends: coalesce::Resends,
    /// Where the loop's time goes.
    counters: Counters,
    /// Cut off from every peer (`RAFT.ISOLATE ON`).
    isolated: bool,
}

impl<H: Hosted> NodeLoop<H> {
    /// The loop: inputs, ticks, outputs in order, until every input sender is gone.
    fn run(mut self, inputs: std_mpsc::Receiver<Input<H::Message>>) -> Result<(), String> {
        let mut next_tick = Instant::now() + TICK;
        let mut trace = std::env::var_os("RAFT_DRIVER_TRACE").map(|_| Trace::new());
        let mut role = (0, Role::Follower);
        loop {
            // Requests still waiting that the node may take: no sleep, only what already
            // arrived. Waiting for the window: until an input (an acknowledgement) or a tick.
            let wait = if self.requests.is_empty() || self.window_full() {
                next_tick.saturating_duration_since(Instant::now())
            } else {
                Duration::ZERO
            };
            let received = inputs.recv_timeout(wait);
            let started = Instant::now();
            match received {
                Ok(input) => self.handle(input),
                Err(std_mpsc::RecvTimeoutError::Timeout) => {}
                Err(std_mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
            }
            for input in inputs.try_iter().take(INPUTS_PER_TURN) {
                self.handle(input);
            }
            for _ in 0..REQUESTS_PER_TURN {
                if self.requests.is_empty() {
                    break;
                }
                if self.window_full() {
                    self.counters.window_full += 1;
                    break;
                }
                let Some(waiting) = self.requests.pop_front() else { break };
                self.request(waiting);
            }
            let now = Instant::now();
            if now >= next_tick {
                self.routes.expire(now);
                self.node.tick();
                next_tick = (next_tick + TICK).max(now);
            }
            self.counters.node += started.elapsed();
            self.drain_outputs()?;
            self.say_role_changes(&mut role);
            self.counters.turn(started.elapsed());
            if let Some(trace) = &mut trace {
                trace.maybe_print(self.id, &self.counters, self.requests.len());
            }
        }
    }

    /// True if this node leads and its log holds [`UNCOMMITTED_WINDOW`] entries past its
    /// commit index: client requests wait. A follower only forwards or refuses requests, so
    /// its window never closes.
    fn window_full(&self) -> bool {
        let status = self.node.status();
        status.role == Role::Leader
            && status.last_log_index.saturating_sub(status.commit_index) >= UNCOMMITTED_WINDOW
    }

    /// Says on stderr when the node's term or role changed since `last`.
    fn say_role_changes(&self, last: &mut (u64, Role)) {
        let status = self.node.status();
        if (status.term, status.role) != *last {
            *last = (status.term, status.role);
            eprintln!("[n{}] term {}: {}", self.id, status.term, role_name(status.role));
        }
    }

    /// Takes one input: a peer's message goes to the node now, a client's request waits in
    /// `requests` for its turn.
    fn handle(&mut self, input: Input<H::Message>) {
        match input {
            Input::Peer(..) if self.isolated => {}
            Input::Isolate(isolated) => {
                self.isolated = isolated;
                eprintln!(
                    "[n{}] {}",
                    self.id,
                    if isolated { "isolated from its peers" } else { "reconnected to its peers" }
                );
            }
            Input::Peer(from, Frame::Raft(message)) => self.node.step(from, message),
            Input::Peer(from, Frame::Forward(request)) => {
                self.requests.push_back(Waiting::Forwarded { from, request });
            }
            Input::Peer(_, Frame::ForwardReply(reply)) => self.deliver(reply),
            Input::Peer(_, Frame::Hello { .. }) => {}
            Input::Client { request, target, reply } => {
                self.requests.push_back(Waiting::Local { request, target, reply });
            }
            Input::Info(respond) => {
                let _ = respond.send(self.info());
            }
        }
    }

    /// Gives the node a client's request, or forwards it to the leader the client named.
    fn request(&mut self, waiting: Waiting) {
        match waiting {
            Waiting::Forwarded { from, request } => {
                self.routes.insert(request.route(), Route::Peer(from), Instant::now());
                self.call(request);
            }
            Waiting::Local { request, target, reply } => {
                self.routes.insert(request.route(), Route::Local(reply), Instant::now());
                match target {
                    Some(leader) if leader != self.id => self.send(leader, Frame::Forward(request)),
                    _ => self.call(request),
                }
            }
        }
    }

    /// Hands the node a client's request or registration.
    fn call(&mut self, call: Call) {
        match call {
            Call::Register { nonce } => self.node.register(nonce),
            Call::Request(request) => self.node.request(request),
        }
    }

    /// The node contract's outputs, in order: durable writes, then messages, then replies.
    fn drain_outputs(&mut self) -> Result<(), String> {
        let started = Instant::now();
        let writes = self.node.take_persist();
        if !writes.is_empty() {
            self.write_turns += 1;
            self.disk.write(writes).map_err(|error| {
                format!("n{}: a write to the data directory failed, stopping: {error}", self.id)
            })?;
        }
        let written = Instant::now();
        self.counters.disk += written - started;
        let messages = self.node.take_messages();
        let made = messages.len();
        let messages = coalesce::coalesce(messages, H::kind);
        self.counters.coalesced += (made - messages.len()) as u64;
        for envelope in messages {
            if !self.resends.allow(envelope.to, H::kind(&envelope.message), written) {
                self.counters.coalesced += 1;
                continue;
            }
            self.counters.sent += 1;
            self.send(envelope.to, Frame::Raft(envelope.message));
        }
        for reply in self.node.take_replies() {
            self.deliver(reply);
        }
        self.counters.out += written.elapsed();
        Ok(())
    }

    fn send(&self, to: NodeId, frame: Frame<H::Message>) {
        if self.isolated {
            return;
        }
        if let Some(queue) = self.queues.get(&to) {
            let _ = queue.try_send(frame); // full: the peer is slow or down; Raft resends
        }
    }

    /// Sends `reply` where its request came from, once ([`Routes`]); a reply for a
    /// connection that closed, or whose route expired, goes nowhere.
    fn deliver(&mut self, reply: Reply) {
        match self.routes.take(reply.client) {
            Some(Route::Local(connection)) => {
                let _ = connection.send(reply);
            }
            Some(Route::Peer(follower)) => self.send(follower, Frame::ForwardReply(reply)),
            None => {}
        }
    }

    fn info(&self) -> Info {
        let status = self.node.status();
        Info {
            id: self.id,
            role: role_name(status.role),
            term: status.term,
            leader: self.node.leader(),
            commit_index: status.commit_index,
            applied: self.node.applied(),
            last_log_index: status.last_log_index,
            snapshot_index: status.snapshot_index,
            fsyncs: self.disk.fsyncs(),
            isolated: self.isolated,
            write_turns: self.write_turns,
            counters: self.counters,
            routes: self.routes.len(),
        }
    }
}
