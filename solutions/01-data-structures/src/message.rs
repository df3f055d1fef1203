//! The RPCs of Figure 2: RequestVote (§5.2) and AppendEntries (§5.3), requests and replies;
//! and Figure 13's InstallSnapshot (§7), which stage 5 uses.
//!
//! Messages are plain data with serde derives: a node hands them to whatever transport it runs
//! on (the course's simulated network, a socket) and never sends anything itself.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::encoding::DecodeError;
use crate::log::{Index, LogEntry, NodeId, Term};

/// Invoked by candidates to gather votes (§5.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestVote {
    /// The candidate's term.
    pub term: Term,
    /// The candidate requesting the vote.
    pub candidate_id: NodeId,
    /// The index of the candidate's last log entry (§5.4.1).
    pub last_log_index: Index,
    /// The term of the candidate's last log entry (§5.4.1).
    pub last_log_term: Term,
}

/// The answer to a [`RequestVote`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestVoteReply {
    /// The voter's `current_term`, for the candidate to update itself.
    pub term: Term,
    /// True means the candidate received the vote.
    pub vote_granted: bool,
}

/// Invoked by the leader to replicate log entries (§5.3); also used as heartbeat (§5.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendEntries {
    /// The leader's term.
    pub term: Term,
    /// So the follower can redirect clients.
    pub leader_id: NodeId,
    /// The index of the log entry immediately preceding the new ones.
    pub prev_log_index: Index,
    /// The term of the entry at `prev_log_index`.
    pub prev_log_term: Term,
    /// The entries to store: empty for a heartbeat.
    pub entries: Vec<LogEntry>,
    /// The leader's `commit_index`.
    pub leader_commit: Index,
}

/// The answer to an [`AppendEntries`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendEntriesReply {
    /// The follower's `current_term`, for the leader to update itself.
    pub term: Term,
    /// True if the follower contained an entry matching `prev_log_index` and `prev_log_term`.
    pub success: bool,
    /// On success, the index of the last entry the request covered (`prev_log_index` plus the
    /// number of entries); on failure, the request's `prev_log_index`.
    ///
    /// Not in Figure 2, which assumes the leader knows which request a reply answers. On a
    /// network that delays, reorders and duplicates, it does not: with this field, a reply
    /// says which request it answers, and the leader never sets `match_index` from a stale one.
    pub match_index: Index,
    /// On a refusal, where this log parts from the leader's, so that the leader can skip back
    /// a whole term at a time instead of one entry per round trip (the optimization at the
    /// end of §5.3). `None` on success, and from a server that gives no hint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict: Option<Conflict>,
}

/// A follower's hint, sent with a refused AppendEntries: what it holds at the leader's
/// `prev_log_index` (§5.3, last paragraphs).
///
/// With it, the leader moves `next_index` back past every entry of the conflicting term in
/// one step; without it, one entry per round trip, which a follower that missed hundreds of
/// entries would feel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    /// The term of the follower's entry at `prev_log_index`, or `None` if its log ends before
    /// `prev_log_index`.
    pub term: Option<Term>,
    /// The first index of the follower's entries of `term`; with no `term`, the follower's
    /// last index + 1, where its log ends.
    pub first_index: Index,
}

/// Invoked by the leader to send a follower the snapshot that replaces entries it needs but
/// the leader no longer holds (§7, Figure 13).
///
/// Sent whole: Figure 13's `offset` and `done` split a large snapshot into chunks over a real
/// network, which the course's simulated one does not need.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallSnapshot {
    /// The leader's term.
    pub term: Term,
    /// So the follower can redirect clients.
    pub leader_id: NodeId,
    /// The snapshot replaces all entries up through and including this index.
    pub last_included_index: Index,
    /// The term of the entry at `last_included_index`.
    pub last_included_term: Term,
    /// The state machine's state as of `last_included_index`, as the service encoded it.
    pub data: Vec<u8>,
}

/// The answer to an [`InstallSnapshot`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallSnapshotReply {
    /// The follower's `current_term`, for the leader to update itself.
    pub term: Term,
    /// The request's `last_included_index`: the follower now holds everything through it (in
    /// its snapshot, or committed in its log). 0 in a refusal of a stale leader's request.
    ///
    /// Not in Figure 13, for the reason `AppendEntriesReply::match_index` is not in Figure 2:
    /// a reply must say which request it answers.
    pub last_included_index: Index,
}

/// Any message between two servers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// A candidate asks for a vote.
    RequestVote(RequestVote),
    /// A voter answers.
    RequestVoteReply(RequestVoteReply),
    /// A leader replicates entries or sends a heartbeat.
    AppendEntries(AppendEntries),
    /// A follower answers.
    AppendEntriesReply(AppendEntriesReply),
    /// A leader sends its snapshot (stage 5).
    InstallSnapshot(InstallSnapshot),
    /// A follower answers.
    InstallSnapshotReply(InstallSnapshotReply),
}

impl Message {
    /// The sender's term: every RPC carries one, and every receiver compares it with its own
    /// first (§5.1).
    pub fn term(&self) -> Term {
        match self {
            Message::RequestVote(request) => request.term,
            Message::RequestVoteReply(reply) => reply.term,
            Message::AppendEntries(request) => request.term,
            Message::AppendEntriesReply(reply) => reply.term,
            Message::InstallSnapshot(request) => request.term,
            Message::InstallSnapshotReply(reply) => reply.term,
        }
    }

    /// The bytes to put on the wire: this message as JSON (see [`crate::encoding`]).
    pub fn encode(&self) -> Vec<u8> {
        // Serializing plain structs, strings and numbers to JSON cannot fail.
        serde_json::to_vec(self).expect("a message always encodes to JSON")
    }

    /// The message that [`Message::encode`] turned into `bytes`, or why they are not one.
    pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
        Ok(serde_json::from_slice(bytes)?)
    }
}

/// One line for timelines, e.g. `AppendEntries t3 prev 4/2 +2 commit 4`.
impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::RequestVote(m) => {
                write!(f, "RequestVote t{} last {}/{}", m.term, m.last_log_index, m.last_log_term)
            }
            Message::RequestVoteReply(m) => {
                let answer = if m.vote_granted { "granted" } else { "refused" };
                write!(f, "VoteReply t{} {answer}", m.term)
            }
            Message::AppendEntries(m) => write!(
                f,
                "AppendEntries t{} prev {}/{} +{} commit {}",
                m.term,
                m.prev_log_index,
                m.prev_log_term,
                m.entries.len(),
                m.leader_commit
            ),
            Message::AppendEntriesReply(m) => {
                let answer = if m.success { "ok" } else { "reject" };
                write!(f, "AppendReply t{} {answer} match {}", m.term, m.match_index)?;
                match m.conflict {
                    Some(Conflict { term: Some(term), first_index }) => {
                        write!(f, " conflict t{term} from {first_index}")
                    }
                    Some(Conflict { term: None, first_index }) => {
                        write!(f, " conflict ends at {first_index}")
                    }
                    None => Ok(()),
                }
            }
            Message::InstallSnapshot(m) => write!(
                f,
                "InstallSnapshot t{} through {}/{} ({} bytes)",
                m.term,
                m.last_included_index,
                m.last_included_term,
                m.data.len()
            ),
            Message::InstallSnapshotReply(m) => {
                write!(f, "SnapshotReply t{} through {}", m.term, m.last_included_index)
            }
        }
    }
}
