//! The state machine: a map of string keys to string values, and the clients' sessions
//! (dissertation §6.3).
//!
//! Every server applies the same committed entries in the same order, so every server's store
//! goes through the same states (§5, Figure 1). What a store holds is exactly what its
//! snapshot holds (§7): the map *and* the sessions. A server restored from a snapshot must
//! still recognize a retried request that was applied before the snapshot, or it would apply
//! it a second time.
//!
//! **Sessions** make every write take effect exactly once (§6.3). A client first *registers*:
//! its registration is a log entry, and applying it at index `i` opens a session for client
//! id `i` ([`Store::register`]). The index is the id because every server applies the same
//! entry at the same index, so every server opens the same session under the same id, and no
//! two registrations share an index, so no two clients share an id, ever. The client then
//! numbers its operations 1, 2, 3, ... and sends every retry of one with the same number. The
//! store remembers, per client, the last number it applied and the answer it gave:
//!
//! - a request numbered *after* the last is new: apply it, remember its number and answer;
//! - a request numbered *as* the last is a retry: answer from the record, change nothing;
//! - a request numbered *before* the last is older than what the client already moved past
//!   (a stray, delayed copy): refuse it ([`KvError::StaleRequest`]), change nothing;
//! - a request from a client with *no* session is refused ([`KvError::SessionExpired`]),
//!   changing nothing.
//!
//! Sessions are bounded by a rule every server applies at the same log index, never by a
//! local clock (the servers' clocks would disagree, and so would their stores): at most
//! `max_sessions` sessions; a registration evicts the session used least recently, by log
//! index. Without registration, a request from an evicted client would look like a new
//! client's first request, and a retry of a write applied before the eviction would be applied
//! again. With it, the store knows the client *had* a session it no longer holds: it answers
//! "session expired", and the client, which cannot know whether that write took effect, treats
//! its outcome as unknown and registers again (§6.3).
//!
//! Invariants: `sessions.len() <= max_sessions`; every session's `last_index` is the index of
//! an entry this store applied; no key is longer than [`MAX_KEY_BYTES`] and no value longer
//! than [`MAX_VALUE_BYTES`].

use std::collections::BTreeMap;
use std::fmt;

use harness::Index;
use harness::service::ClientId;
use harness::service::kv::{KvOp, KvOutput};
use serde::{Deserialize, Serialize};

/// The longest key accepted, in bytes.
pub const MAX_KEY_BYTES: usize = 64;
/// The longest value accepted (after an `Append`, too), in bytes.
pub const MAX_VALUE_BYTES: usize = 1024;
/// The most sessions a store keeps, by default.
pub const DEFAULT_MAX_SESSIONS: usize = 1_000;

/// Why a request is refused. A refused request changes nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvError {
    /// The key is longer than [`MAX_KEY_BYTES`].
    KeyTooLong {
        /// Its length in bytes.
        bytes: usize,
    },
    /// The value (for an `Append`: the value it would make) is longer than [`MAX_VALUE_BYTES`].
    ValueTooLong {
        /// Its length in bytes.
        bytes: usize,
    },
    /// The request is older than the client's last applied one (§6.3).
    StaleRequest {
        /// Its sequence number.
        seq: u64,
        /// The session's last applied sequence number.
        last: u64,
    },
    /// The client has no session: it never registered, or its session was evicted. Whether an
    /// earlier copy of this request was applied cannot be known any more (§6.3).
    SessionExpired {
        /// The client's id.
        client: ClientId,
    },
}

/// `key of 70 bytes is longer than the limit of 64`, ...
impl fmt::Display for KvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvError::KeyTooLong { bytes } => {
                write!(f, "key of {bytes} bytes is longer than the limit of {MAX_KEY_BYTES}")
            }
            KvError::ValueTooLong { bytes } => {
                write!(f, "value of {bytes} bytes is longer than the limit of {MAX_VALUE_BYTES}")
            }
            KvError::StaleRequest { seq, last } => write!(
                f,
                "request #{seq} is older than this client's last applied request #{last} (§6.3)"
            ),
            KvError::SessionExpired { client } => write!(
                f,
                "client {client} has no session (never registered, or evicted): register again \
                 (§6.3)"
            ),
        }
    }
}

/// What the store remembers of one client (§6.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The sequence number of the client's last applied request (0: none yet, the session
    /// was just registered).
    pub last_seq: u64,
    /// The answer it got, given again to every retry of it (`Ok`, for the registration).
    pub answer: Result<KvOutput, KvError>,
    /// The log index of that request: the least recent is evicted first.
    pub last_index: Index,
}

/// The key-value state machine and its sessions. The whole of it is the snapshot (§7).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Store {
    /// The keys and their values.
    pub data: BTreeMap<String, String>,
    /// Per client, its session.
    pub sessions: BTreeMap<ClientId, Session>,
    /// The most sessions kept.
    pub max_sessions: usize,
}

impl Default for Store {
    fn default() -> Self {
        Store::new(DEFAULT_MAX_SESSIONS)
    }
}

impl Store {
    /// An empty store that keeps at most `max_sessions` sessions (at least 1).
    pub fn new(max_sessions: usize) -> Self {
        Store {
            data: BTreeMap::new(),
            sessions: BTreeMap::new(),
            max_sessions: max_sessions.max(1),
        }
    }

    /// The value of `key`, if any: what a read answers.
    pub fn get(&self, key: &str) -> Option<&String> {
        self.data.get(key)
    }

    /// Checks `op` against the size limits before it goes anywhere: a key over
    /// [`MAX_KEY_BYTES`] or a value over [`MAX_VALUE_BYTES`] is refused. (An `Append` whose
    /// *result* would be too long is refused when applied, by [`Store::execute`].)
    pub fn validate(op: &KvOp) -> Result<(), KvError> {
        let key = op.key().len();
        if key > MAX_KEY_BYTES {
            return Err(KvError::KeyTooLong { bytes: key });
        }
        let value = match op {
            KvOp::Put { value, .. } | KvOp::Append { value, .. } => value.len(),
            KvOp::Cas { new, .. } => new.len(),
            KvOp::Get { .. } | KvOp::Delete { .. } => 0,
        };
        if value > MAX_VALUE_BYTES {
            return Err(KvError::ValueTooLong { bytes: value });
        }
        Ok(())
    }

    /// Carries out `op` on the map, as a sequential store does: `Get` reads, `Put` sets,
    /// `Append` adds to the end (of `""` for an absent key), `Delete` removes (an absent key
    /// too), `Cas` sets `new` only if the value is `expected` (`None`: absent). Refuses, and
    /// changes nothing, an op over the size limits, or an `Append` whose result would be.
    pub fn execute(&mut self, op: &KvOp) -> Result<KvOutput, KvError> {
        Store::validate(op)?;
        let output = match op {
            KvOp::Get { key } => KvOutput::Value(self.data.get(key).cloned()),
            KvOp::Put { key, value } => {
                self.data.insert(key.clone(), value.clone());
                KvOutput::Ok
            }
            KvOp::Append { key, value } => {
                let old = self.data.get(key).map_or(0, String::len);
                if old + value.len() > MAX_VALUE_BYTES {
                    return Err(KvError::ValueTooLong { bytes: old + value.len() });
                }
                self.data.entry(key.clone()).or_default().push_str(value);
                KvOutput::Ok
            }
            KvOp::Delete { key } => {
                self.data.remove(key);
                KvOutput::Ok
            }
            KvOp::Cas { key, expected, new } => {
                let matches = self.data.get(key) == expected.as_ref();
                if matches {
                    self.data.insert(key.clone(), new.clone());
                }
                KvOutput::Cas(matches)
            }
        };
        Ok(output)
    }

    /// Opens a session for a client whose registration was committed at log `index`, and
    /// returns its id: `index` itself, the same on every server and never given twice (§6.3).
    /// Evicts the least recently used session first if the store holds `max_sessions`
    /// already. The new session has applied no request yet (`last_seq` 0).
    pub fn register(&mut self, index: Index) -> ClientId {
        self.make_room();
        let session = Session { last_seq: 0, answer: Ok(KvOutput::Ok), last_index: index };
        self.sessions.insert(index, session);
        index
    }

    /// Applies client `client`'s request number `seq`, committed at log `index`, exactly once
    /// (§6.3): a new request (after the session's last) is executed and its answer recorded;
    /// the session's last request again gets the recorded answer, and nothing changes; an
    /// older one is refused with [`KvError::StaleRequest`]. A client with no session (never
    /// registered, or evicted) is refused with [`KvError::SessionExpired`], and nothing
    /// changes: its request may be the retry of one applied before the eviction.
    pub fn apply(
        &mut self,
        index: Index,
        client: ClientId,
        seq: u64,
        op: &KvOp,
    ) -> Result<KvOutput, KvError> {
        let Some(session) = self.sessions.get(&client) else {
            return Err(KvError::SessionExpired { client });
        };
        if seq == session.last_seq {
            return session.answer.clone();
        }
        if seq < session.last_seq {
            return Err(KvError::StaleRequest { seq, last: session.last_seq });
        }
        let answer = self.execute(op);
        let session = Session { last_seq: seq, answer: answer.clone(), last_index: index };
        self.sessions.insert(client, session);
        answer
    }

    /// Evicts the least recently used session (smallest `last_index`) while the store is
    /// full, so that a new one fits (a registration's). Every server evicts the same one, at the same index.
    pub fn make_room(&mut self) {
        while self.sessions.len() >= self.max_sessions {
            let oldest = self.sessions.iter().min_by_key(|(_, session)| session.last_index);
            let Some((&client, _)) = oldest else { return };
            self.sessions.remove(&client);
        }
    }

    /// The store as bytes, for a snapshot (§7): the map and the sessions, so that a server
    /// restored from it still refuses to apply a duplicate (§6.3).
    pub fn snapshot(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a store serializes to JSON")
    }

    /// The store a snapshot's bytes hold (the inverse of [`Store::snapshot`]). Panics on bytes
    /// that are not a store: a snapshot is only ever what `snapshot` wrote.
    pub fn restore(bytes: &[u8]) -> Store {
        serde_json::from_slice(bytes).unwrap_or_else(|error| {
            panic!("a snapshot's {} bytes are not a store: {error} (§7)", bytes.len())
        })
    }
}
