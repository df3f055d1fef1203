//! What servers of the key-value service send each other, and what their log entries hold.
//!
//! Given code. The Raft messages of stages 1 to 5 travel unchanged inside [`Message::Raft`];
//! the service adds one exchange of its own, for reads (§6.4): a leader asks its followers
//! whether it still leads ([`Message::ReadIndex`]), and each follower that has seen no newer
//! term says yes ([`Message::ReadIndexReply`]). The round number ties an answer to a request:
//! only answers to a round sent after a read arrived confirm that read.
//!
//! A log entry's command is a string (stage 1's `Command`): here, an [`Entry`] as JSON.

use std::fmt;

use harness::Term;
use harness::service::Request;
use harness::service::kv::KvOp;
use serde::{Deserialize, Serialize};

/// A message between two servers of the service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// A Raft message (stages 1 to 5).
    Raft(data_structures::Message),
    /// A leader of `term` asks: do you still know no newer term? (§6.4)
    ReadIndex(ReadIndex),
    /// Yes: the sender knows no term newer than `term`.
    ReadIndexReply(ReadIndex),
}

/// A leadership check, and the answer to it (§6.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadIndex {
    /// The leader's term.
    pub term: Term,
    /// The leader's round number: one more for every check it starts in its term.
    pub round: u64,
}

impl Message {
    /// The message's term.
    pub fn term(&self) -> Term {
        match self {
            Message::Raft(message) => message.term(),
            Message::ReadIndex(check) | Message::ReadIndexReply(check) => check.term,
        }
    }
}

/// A Raft message as in the stages before; `ReadIndex t3 r7`, `ReadIndexReply t3 r7`.
impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Raft(message) => write!(f, "{message}"),
            Message::ReadIndex(ReadIndex { term, round }) => {
                write!(f, "ReadIndex t{term} r{round}")
            }
            Message::ReadIndexReply(ReadIndex { term, round }) => {
                write!(f, "ReadIndexReply t{term} r{round}")
            }
        }
    }
}

/// What a log entry of the service holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Entry {
    /// A new leader's first entry (§8): it commits the entries of earlier terms, and lets the
    /// leader know its commit index is up to date before it serves a read (§6.4).
    Noop,
    /// A client's registration (§6.3): applied at index `i`, it opens the session of client
    /// `i`. It carries nothing: the index it gets is the client's id.
    Register,
    /// A client's write.
    Request(Request<KvOp>),
}

impl Entry {
    /// The entry as a log command: JSON.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("an entry serializes to JSON")
    }

    /// The entry a log command holds. Panics on a command that is not one: every command in a
    /// service's log was written by [`Entry::encode`].
    pub fn decode(command: &str) -> Entry {
        serde_json::from_str(command)
            .unwrap_or_else(|error| panic!("log command {command:?} is not an entry: {error}"))
    }
}
