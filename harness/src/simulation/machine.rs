//! The state machine the cluster runs beside each node when snapshots are on (§7).
//!
//! Raft replicates a log so that every server's state machine applies the same commands in
//! the same order (§5, Figure 1). To test snapshots the harness needs a state machine whose
//! state can be a snapshot: this one keeps the index it applied through and a digest of every
//! command up to there. Two machines that applied the same commands have the same bytes, and
//! the bytes stay 16 however long the log grows, so a snapshot's size is bounded (§7: the
//! snapshot replaces the log up to its index).
//!
//! The checks compare a snapshot handed to a state machine with the cluster's register of
//! applied commands: a snapshot of index `i` must be the state after exactly the commands
//! applied at `1..=i` (State Machine Safety through snapshots, §5.4.3, §7).

use crate::node::Index;

/// A state machine: the last index applied and a digest of every command through it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Machine {
    /// The last index applied (0: nothing yet).
    pub index: Index,
    /// A digest of the commands at `1..=index`, in order.
    pub digest: u64,
}

impl Machine {
    /// The machine after applying the command whose hash is `command` at `index`.
    pub fn applied(self, index: Index, command: u64) -> Machine {
        Machine { index, digest: chain(self.digest, index, command) }
    }

    /// The state as bytes: what the service hands a node to keep as its snapshot.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = self.index.to_le_bytes().to_vec();
        bytes.extend_from_slice(&self.digest.to_le_bytes());
        bytes
    }

    /// The machine `bytes` encode, or `None` if they are not one (16 bytes).
    pub fn decode(bytes: &[u8]) -> Option<Machine> {
        let (index, digest) = bytes.split_first_chunk::<8>()?;
        let digest: [u8; 8] = digest.try_into().ok()?;
        Some(Machine { index: Index::from_le_bytes(*index), digest: u64::from_le_bytes(digest) })
    }
}

/// Extends a digest by one command.
fn chain(digest: u64, index: Index, command: u64) -> u64 {
    let mut z = digest.rotate_left(17) ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ command;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_and_anything_else_is_refused() {
        let machine = Machine::default().applied(1, 7).applied(2, 9);
        assert_eq!(Machine::decode(&machine.encode()), Some(machine));
        assert_eq!(machine.encode().len(), 16);
        assert_eq!(Machine::decode(&[]), None);
        assert_eq!(Machine::decode(&machine.encode()[..15]), None);
        assert_eq!(Machine::decode(&[machine.encode(), vec![0]].concat()), None);
    }

    #[test]
    fn the_digest_depends_on_every_command_and_its_place() {
        let ab = Machine::default().applied(1, 1).applied(2, 2);
        let ba = Machine::default().applied(1, 2).applied(2, 1);
        let a = Machine::default().applied(1, 1);
        assert_ne!(ab, ba);
        assert_ne!(ab.digest, a.digest);
        assert_eq!(ab, Machine::default().applied(1, 1).applied(2, 2));
    }
}
