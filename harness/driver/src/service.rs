//! What the driver runs: a node that is a key-value service, and the requests and replies it
//! exchanges with clients (Raft dissertation §6).
//!
//! The types are stage 6's (`harness::service`): a request carries the client's session id and
//! sequence number, so a retried request is applied once (§6.3). [`crate::stage6`] hosts the
//! stage 6 reference's `KvNode`.

use std::fmt::Debug;

use harness::{Config, Envelope, NodeId, Rng, Status};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::coalesce::Kind;
use crate::storage::Durable;

pub use harness::service::ClientId;
pub use harness::service::kv::{KvOp, KvOutput};

/// A client's request: who asks, which of its requests this is, and what (§6.3).
pub type Request = harness::service::Request<KvOp>;
/// A server's answer to a request.
pub type Reply = harness::service::Reply<KvOutput>;
/// What a server answers.
pub type Answer = harness::service::Answer<KvOutput>;

/// What a client's connection asks of a node: a session (RegisterClient, §6.3), or a request
/// of a session it has.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Call {
    /// A registration, answered to `nonce` ([`harness::service::Service::register`]).
    Register {
        /// The connection's name for this registration: at least 2^56
        /// ([`crate::client`]), so never a log index, so never a client id: the two share
        /// the route table without meeting.
        nonce: ClientId,
    },
    /// A request of a registered client.
    Request(Request),
}

impl Call {
    /// The id its reply carries, by which the reply is routed: the nonce, or the client id.
    pub fn route(&self) -> ClientId {
        match self {
            Call::Register { nonce } => *nonce,
            Call::Request(request) => request.client,
        }
    }
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
    /// A client's registration arrived (§6.3).
    fn register(&mut self, nonce: ClientId);

    /// Output 1: the writes to make durable before anything is sent; drained.
    fn take_persist(&mut self) -> Vec<<Self::Node as harness::Persist>::Write>;
    /// Output 2: the messages to send; drained.
    fn take_messages(&mut self) -> Vec<Envelope<Self::Message>>;
    /// Output 3: the state machine loads and applies what was committed, and these are the
    /// answers to send back; drained.
    fn take_replies(&mut self) -> Vec<Reply>;

    /// What [`crate::coalesce`] needs to know of `message`.
    fn kind(message: &Self::Message) -> Kind;

    /// Term, role and indexes.
    fn status(&self) -> Status;
    /// The index the state machine applied through.
    fn applied(&self) -> u64;
    /// The leader this node knows of in its term, if any (itself if it leads).
    fn leader(&self) -> Option<NodeId>;
}
