//! The one byte format for messages on the wire and state on disk: JSON (serde_json).
//!
//! JSON is slower and larger than a binary format, but a learner can read it in a trace, a
//! failing test or a persisted file. The tests pin the exact bytes of a few values, so a change
//! of format (a renamed field, another enum layout) is noticed before two versions of a node
//! fail to understand each other.

use std::fmt;

/// Bytes that are not the encoding of the value asked for: a corrupted message or file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// What the decoder reported, e.g. `expected value at line 1 column 1`.
    pub reason: String,
}

impl From<serde_json::Error> for DecodeError {
    fn from(error: serde_json::Error) -> Self {
        DecodeError { reason: error.to_string() }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot decode: {}", self.reason)
    }
}

impl std::error::Error for DecodeError {}
