//! What the driver runs: a node that is a key-value service, and the requests and replies it
//! exchanges with clients (Raft dissertation §6).
//!
//! The shapes follow stage 6's `harness::service` (a request carries the client's session id
//! and sequence number, so a retried request is applied once, §6.3). Until stage 6 is in the
//! workspace, [`crate::kv_over_log`] plays the service on top of the stage 5 reference.

use std::fmt::Debug;

use harness::{Config, Envelope, NodeId, Rng, Status};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::storage::Durable;

/// A client's id: one per client connection, random, never reused.
pub type ClientId = u64;

/// A client's request: who asks, which of its requests this is (from 1, the same for every
/// retry of one operation), and what (§6.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// The client (its session).
    pub client: ClientId,
    /// Its sequence number.
    pub seq: u64,
    /// The operation.
    pub op: KvOp,
}

/// A server's answer to the request `(client, seq)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// The client that asked.
    pub client: ClientId,
    /// The sequence number of the request answered.
    pub seq: u64,
    /// The answer.
    pub answer: Answer,
}

/// What a server answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Answer {
    /// The operation took effect once, and this is its output.
    Done(KvOutput),
    /// This server cannot serve it: retry at `leader_hint` (the request may still take effect,
    /// once).
    NotLeader {
        /// The leader this server knows of, if any.
        leader_hint: Option<NodeId>,
    },
    /// Refused, and changed nothing; says why.
    Refused(String),
}

/// An operation on the key-value store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvOp {
    /// The value of `key`, if any.
    Get {
        /// The key.
        key: String,
    },
    /// Sets `key` to `value`.
    Put {
        /// The key.
        key: String,
        /// The new value.
        value: String,
    },
    /// Appends `value` to the value of `key` ("" if it has none).
    Append {
        /// The key.
        key: String,
        /// What to append.
        value: String,
    },
    /// Removes `key`.
    Delete {
        /// The key.
        key: String,
    },
    /// If the value of `key` is `expected` (`None`: absent), sets it to `new`.
    Cas {
        /// The key.
        key: String,
        /// The value it must have.
        expected: Option<String>,
        /// The value it gets if so.
        new: String,
    },
}

/// What an operation answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvOutput {
    /// A `Get`: the value, or `None`.
    Value(Option<String>),
    /// A `Put`, `Append` or `Delete` took effect.
    Ok,
    /// A `Cas`: whether it set the value.
    Cas(bool),
}

/// What the driver needs of the service it runs: the node contract's inputs and outputs
/// ([`harness::node`]), client requests, and a few numbers for `INFO`.
pub trait Hosted {
    /// The Raft node inside, whose writes the disk keeps.
    type Node: Durable;
    /// The messages between peers.
    type Message: Clone + Debug + Serialize + DeserializeOwned + Send + 'static;

    /// A node started from what its disk holds (`None`: a blank disk, a new node).
    fn start(
        id: NodeId,
        peers: Vec<NodeId>,
        config: Config,
        rng: Rng,
        disk: Option<<Self::Node as harness::Persist>::State>,
    ) -> Self;

    /// One tick of real time passed.
    fn tick(&mut self);
    /// A peer's message arrived.
    fn step(&mut self, from: NodeId, message: Self::Message);
    /// A client's request arrived.
    fn request(&mut self, request: Request);

    /// Output 1: the writes to make durable before anything is sent; drained.
    fn take_persist(&mut self) -> Vec<<Self::Node as harness::Persist>::Write>;
    /// Output 2: the messages to send; drained.
    fn take_messages(&mut self) -> Vec<Envelope<Self::Message>>;
    /// Output 3: the state machine loads and applies what was committed, and these are the
    /// answers to send back; drained.
    fn take_replies(&mut self) -> Vec<Reply>;

    /// Term, role and indexes.
    fn status(&self) -> Status;
    /// The index the state machine applied through.
    fn applied(&self) -> u64;
    /// The leader this node knows of in its term, if any (itself if it leads).
    fn leader(&self) -> Option<NodeId>;
}
