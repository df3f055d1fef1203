//! Stage 1: the data structures of Raft's Figure 2.
//!
//! - [`log`]: terms, log entries and the replicated log with the paper's 1-based indexing,
//!   the consistency check and conflict resolution (§5.3) and the up-to-date comparison (§5.4.1);
//! - [`message`]: the RequestVote and AppendEntries RPCs, requests and replies (Figure 2), and
//!   InstallSnapshot (Figure 13, stage 5);
//! - [`state`]: a server's persistent and volatile state and its role transitions (§5.1, §5.2);
//! - [`encoding`]: the byte format (JSON) of messages and persisted state.
//!
//! Nothing here panics on any input: an index out of range gives `None`, an illegal transition
//! gives a typed error. Later stages build their nodes on these types.

pub mod encoding;
pub mod log;
pub mod message;
pub mod state;

pub use encoding::DecodeError;
pub use log::{Command, Index, Log, LogEntry, LogError, NodeId, Term};
pub use message::{
    AppendEntries, AppendEntriesReply, Conflict, InstallSnapshot, InstallSnapshotReply, Message,
    RequestVote, RequestVoteReply,
};
pub use state::{PersistentState, Role, State, StorageWrite, TransitionError};
