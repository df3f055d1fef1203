//! A replicated service on top of Raft, and the clients that use it (Raft dissertation §6).
//!
//! Up to stage 5 the cluster itself plays the state machine. From stage 6 on a node *is* a
//! service: it keeps its own state machine, takes requests from clients, answers them, and
//! decides itself when to compact its log into a snapshot of that state. The harness drives it
//! through one more trait, [`Service`]: an input, [`Service::request`], and an output,
//! [`Service::take_replies`], drained after every input like the others.
//!
//! - [`clients`]: simulated clients on the cluster's clock. Each registers first (its session,
//!   §6.3), then sends one request at a time to a server, waits with a timeout, and retries at
//!   the hinted leader or the next server with the same client id and sequence number (§6.2,
//!   §6.3). Requests and replies travel over a
//!   *client link* with its own delays and losses, apart from the network between servers.
//! - [`history`]: every operation the clients call, with its call tick, its return tick and its
//!   output (or an unknown outcome when the client never learned it), checked for
//!   linearizability by the `linearizability` crate; a failure prints the usual report with the
//!   part of the history that cannot be linearized.
//! - [`kv`]: the key-value operations of stage 6 and their sequential model.
//! - [`view`]: the history and the checker's verdict as the trace page draws them (a bar per
//!   operation per client, the order found, the operations that cannot be placed).
//! - [`chaos`]: the randomized run of a key-value service: faults, clients that keep calling,
//!   a final read, the history checked, each seed with its own mix.
//!
//! # Why a client link, not the network between servers
//!
//! Clients are not Raft nodes: the network routes messages between node ids, and a node's
//! `Message` type is its protocol with its peers. Keeping clients apart leaves the node's
//! messages, the network's statistics ("messages per operation") and the partitions between
//! servers exactly as in the stages before. The link still loses and delays requests and
//! replies, so every retry path runs; a client can be kept to some servers only
//! ([`clients::Clients::restrict`]), which is how a client ends up on one side of a partition.

pub mod chaos;
pub mod clients;
pub mod history;
pub mod kv;
pub mod view;

use std::fmt::{self, Debug, Display};

use serde::{Deserialize, Serialize};

use crate::cluster::{Cluster, guarded};
use crate::node::{Compact, NodeId, Persist};
use crate::trace::Event;
use crate::watchdog::Call;

/// A client's id: distinct per client, never reused. A service that registers its clients
/// (§6.3) hands the ids out itself ([`Answer::Registered`]).
pub type ClientId = u64;

/// A client's request: who asks (`client`), which of its requests this is (`seq`, from 1, one
/// more for each new operation, the same for every retry of one), and what (`op`) (§6.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request<Op> {
    /// The client.
    pub client: ClientId,
    /// Its sequence number: 1 for its first operation, then one more per operation.
    pub seq: u64,
    /// The operation.
    pub op: Op,
}

/// A server's answer to the request `(client, seq)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply<Output> {
    /// The client that asked.
    pub client: ClientId,
    /// The sequence number of the request answered.
    pub seq: u64,
    /// The answer.
    pub answer: Answer<Output>,
}

/// What a server answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Answer<Output> {
    /// The operation took effect once, and this is its output.
    Done(Output),
    /// This server cannot serve the request: it does not lead, or lost its leadership, or
    /// another entry took the request's place in the log (§6.2). `leader_hint` is the leader
    /// it knows, where the client retries; the request may still take effect, once.
    NotLeader {
        /// The leader this server knows of, if any.
        leader_hint: Option<NodeId>,
    },
    /// The request is refused and changed nothing, e.g. a value over the size limit, or a
    /// sequence number older than the client's last (§6.3). Says why.
    Refused(String),
    /// The answer to a registration ([`Service::register`]): the client's session is open,
    /// and `client_id` is the id its requests carry from now on (§6.3).
    Registered {
        /// The client's id.
        client_id: ClientId,
    },
    /// The client has no session (it was never registered, or its session was evicted to make
    /// room for newer ones), so the service cannot tell whether this request was applied
    /// already: it applies nothing now, and the request's outcome stays *unknown* (it may have
    /// taken effect before the eviction). The client registers again and goes on (§6.3).
    SessionExpired,
}

/// `ok`, `not leader (try n2)`, `refused: why`, `registered as c5`, `session expired`.
impl<Output: Display> Display for Answer<Output> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answer::Done(output) => write!(f, "{output}"),
            Answer::NotLeader { leader_hint: Some(hint) } => write!(f, "not leader (try n{hint})"),
            Answer::NotLeader { leader_hint: None } => write!(f, "not leader (no leader known)"),
            Answer::Refused(why) => write!(f, "refused: {why}"),
            Answer::Registered { client_id } => write!(f, "registered as c{client_id}"),
            Answer::SessionExpired => write!(f, "session expired"),
        }
    }
}

/// A node that is a replicated service: it takes client requests and answers them (§6).
///
/// Besides the node contract ([`crate::node`]), after every input the harness drains
/// [`Service::take_replies`], after the node's messages. A service keeps its own state machine:
/// it applies the entries it commits itself, compacts its own log (§7), and hands the harness
/// what it applied ([`crate::Replicate::take_committed`]) and the snapshots it loaded
/// ([`Compact::take_snapshot`]) so that the safety checks still see them.
pub trait Service: Compact + Persist {
    /// What a client asks for (`Display`: one line in timelines and histories).
    type Op: Clone + Debug + Display + PartialEq + Serialize + 'static;
    /// What an operation answers (`Display`: as for `Op`).
    type Output: Clone + Debug + Display + PartialEq + Serialize + 'static;

    /// A client's request arrived.
    fn request(&mut self, request: Request<Self::Op>);

    /// A client asks for a session (RegisterClient, §6.3). It has no id yet: `nonce` is its
    /// own name for this registration, only to route the answer back, and the answer is a
    /// [`Reply`] with `client: nonce`, `seq: 0` (no request has number 0) and
    /// [`Answer::Registered`] (or [`Answer::NotLeader`]: the client tries elsewhere, with the
    /// same nonce).
    fn register(&mut self, nonce: ClientId);

    /// The answers this node sends back since the last call, in order; drained.
    fn take_replies(&mut self) -> Vec<Reply<Self::Output>>;
}

impl<N: Service + 'static> Cluster<N> {
    /// Hands node `id` a client's `request` now: traced, then the node's outputs drained and
    /// checked as after any event. The node's replies are drained with
    /// [`take_replies`](Cluster::take_replies). Fails with the report if `id` is crashed.
    pub fn request(&mut self, id: NodeId, request: Request<N::Op>) {
        let term = self.slot(id).status.term;
        let text = format!("c{}#{} {}", request.client, request.seq, request.op);
        let Some(node) = self.slots[id as usize - 1].node.as_mut() else {
            self.fail(&format!("request(n{id}, {text}): n{id} is crashed"))
        };
        self.trace.push(self.now, Event::Client { node: id, term, text });
        if let Err(panic) = guarded(&self.watch, id, Call::Request, || node.request(request)) {
            self.node_panicked(id, "request()", panic);
        }
        self.after_event(id);
    }

    /// Hands node `id` a client's registration now (nonce `nonce`, [`Service::register`]):
    /// traced, then the node's outputs drained and checked as after any event. Fails with the
    /// report if `id` is crashed.
    pub fn register(&mut self, id: NodeId, nonce: ClientId) {
        let term = self.slot(id).status.term;
        let text = format!("register (nonce {nonce})");
        let Some(node) = self.slots[id as usize - 1].node.as_mut() else {
            self.fail(&format!("register(n{id}, nonce {nonce}): n{id} is crashed"))
        };
        self.trace.push(self.now, Event::Client { node: id, term, text });
        if let Err(panic) = guarded(&self.watch, id, Call::Register, || node.register(nonce)) {
            self.node_panicked(id, "register()", panic);
        }
        self.after_event(id);
    }

    /// Puts `view` (the clients' history, checked) into the trace file, for the trace page's
    /// history view, if the cluster keeps its whole trace; `view` is built only then.
    pub(crate) fn show_history(&self, view: impl FnOnce() -> view::HistoryView) {
        if self.trace.keeps_all() {
            let json = serde_json::to_value(view()).expect("a history view serializes");
            self.trace.history.replace(Some(json));
        }
    }

    /// The replies node `id` sent since the last call (none if it is crashed), each traced.
    pub fn take_replies(&mut self, id: NodeId) -> Vec<Reply<N::Output>> {
        let Some(node) = self.slots[id as usize - 1].node.as_mut() else { return Vec::new() };
        let replies = match guarded(&self.watch, id, Call::TakeReplies, || node.take_replies()) {
            Ok(replies) => replies,
            Err(panic) => self.node_panicked(id, "take_replies()", panic),
        };
        let term = self.slot(id).status.term;
        for reply in &replies {
            let text = if reply.seq == 0 {
                format!("nonce {} → {}", reply.client, reply.answer)
            } else {
                format!("c{}#{} → {}", reply.client, reply.seq, reply.answer)
            };
            self.trace.push(self.now, Event::Client { node: id, term, text });
        }
        replies
    }
}
