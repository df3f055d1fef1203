//! Message counts and bytes per kind: what a run cost on the wire.
//!
//! The kind of a message is the first word of its `Display` summary (`RequestVote`,
//! `AppendEntries`, ...); its size is the length of its JSON form, the course's wire format.

use std::collections::BTreeMap;
use std::fmt;
use std::io;

use serde::Serialize;

/// Counts for one kind of message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KindStats {
    /// Messages handed to the network.
    pub sent: u64,
    /// Messages a node stepped (a duplicate counts twice).
    pub delivered: u64,
    /// Messages lost: cut link, random loss, or a receiver that crashed.
    pub dropped: u64,
    /// Extra copies the network made.
    pub duplicated: u64,
    /// JSON bytes of the messages sent.
    pub bytes: u64,
}

/// Counts per message kind, in kind order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MessageStats {
    /// Kind → counts.
    pub kinds: BTreeMap<String, KindStats>,
}

impl MessageStats {
    /// The counts of the kind of the message summarized as `summary`.
    pub fn kind_mut(&mut self, summary: &str) -> &mut KindStats {
        let kind = kind_of(summary);
        if !self.kinds.contains_key(kind) {
            self.kinds.insert(kind.to_string(), KindStats::default());
        }
        self.kinds.get_mut(kind).expect("inserted above")
    }

    /// The sum over all kinds.
    pub fn total(&self) -> KindStats {
        let mut total = KindStats::default();
        for kind in self.kinds.values() {
            total.sent += kind.sent;
            total.delivered += kind.delivered;
            total.dropped += kind.dropped;
            total.duplicated += kind.duplicated;
            total.bytes += kind.bytes;
        }
        total
    }
}

/// A table, one line per kind and a total.
impl fmt::Display for MessageStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<20} {:>9} {:>9} {:>9} {:>9} {:>11}",
            "kind", "sent", "delivered", "dropped", "dup", "bytes"
        )?;
        let total = self.total();
        for (kind, s) in self.kinds.iter().chain([(&"total".to_string(), &total)]) {
            writeln!(
                f,
                "{:<20} {:>9} {:>9} {:>9} {:>9} {:>11}",
                kind, s.sent, s.delivered, s.dropped, s.duplicated, s.bytes
            )?;
        }
        Ok(())
    }
}

/// The first word of a summary.
pub fn kind_of(summary: &str) -> &str {
    summary.split_whitespace().next().unwrap_or("message")
}

/// The length of `message` in JSON, without building the JSON.
pub fn json_len<M: Serialize>(message: &M) -> u64 {
    let mut counter = Counter(0);
    serde_json::to_writer(&mut counter, message).expect("a message serializes to JSON");
    counter.0
}

struct Counter(u64);

impl io::Write for Counter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0 += bytes.len() as u64;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
