//! How the driver turns writes and messages into bytes, and back: in one place, so that the
//! choice is one line.
//!
//! JSON (serde_json, already in the workspace), chosen by a measurement: see
//! `examples/encoding.rs` and the chapter's table.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// `value` as bytes.
pub fn to_bytes<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    // The node's types are plain structs, enums, strings and numbers: they always encode.
    serde_json::to_vec(value).expect("a node's writes and messages encode to JSON")
}

/// The value `bytes` encode, or why they do not.
pub fn from_bytes<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    serde_json::from_slice(bytes)
}
