//! How the driver turns writes and messages into bytes, and back: in one place, so that the
//! choice is one line.
//!
//! MessagePack (rmp-serde), with field names, chosen by a measurement: `examples/encoding.rs`
//! (`cargo run --release -p driver --example encoding`) and the table in
//! docs/07-real-cluster.md. Under pipelined SETs, encoding AppendEntries in JSON was 18.5 % of
//! the leader's CPU: each entry's command is itself JSON (stage 6's `Entry::encode`), and in a
//! JSON frame its every quote was escaped again. MessagePack carries the command as raw string
//! bytes: an AppendEntries of 128 SETs encodes and decodes 3.7 to 4.9 times faster, in 20 %
//! fewer bytes. The small messages cost about the same either way. End to end, on short
//! `raft-bench` runs, the gain did not show (the leader's CPU per run the same within the
//! spread); the chapter has those numbers too.
//!
//! Field names are kept (`to_vec_named`, structs as maps): the stage types leave fields out
//! with `skip_serializing_if` (a reply's `conflict`, a log's `snapshot_index`), which the
//! positional form (structs as arrays) cannot read back. The files under a data directory use
//! this encoding too: a directory written by a JSON driver does not read (a record that does
//! not decode is named, with its file and offset).

use serde::Serialize;
use serde::de::DeserializeOwned;

/// `value` as bytes.
pub fn to_bytes<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    // The node's types are plain structs, enums, strings and numbers: they always encode.
    rmp_serde::to_vec_named(value).expect("a node's writes and messages encode to MessagePack")
}

/// The value `bytes` encode, or why they do not.
pub fn from_bytes<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, rmp_serde::decode::Error> {
    rmp_serde::from_slice(bytes)
}

#[cfg(test)]
mod tests {
    use data_structures::{LogEntry, PersistentState, StorageWrite};
    use pretty_assertions::assert_eq;

    use super::{from_bytes, to_bytes};

    /// The fields `skip_serializing_if` leaves out (a log's `snapshot_index` and
    /// `snapshot_term`, before its `entries`) read back: the positional form would shift them.
    #[test]
    fn a_state_without_a_snapshot_round_trips() {
        let mut state = PersistentState::default();
        state.log.append(3, "SET k v");
        let back: PersistentState = from_bytes(&to_bytes(&state))
            .unwrap_or_else(|error| panic!("a state without a snapshot does not decode: {error}"));
        assert_eq!(back, state);
    }

    /// A `voted_for` of `None` reads back as `None`, and a log write as itself.
    #[test]
    fn writes_round_trip() {
        for write in [
            StorageWrite::HardState { current_term: 4, voted_for: None },
            StorageWrite::HardState { current_term: 4, voted_for: Some(2) },
            StorageWrite::AppendLog { entries: vec![LogEntry::new(4, "SET k v")] },
        ] {
            let back: StorageWrite = from_bytes(&to_bytes(&write))
                .unwrap_or_else(|error| panic!("{write:?} does not decode: {error}"));
            assert_eq!(back, write);
        }
    }
}
