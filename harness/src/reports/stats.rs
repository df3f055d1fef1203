//! Message counts and bytes per kind, and per receiving node: what a run cost on the wire.
//!
//! The kind of a message is the first word of its `Display` summary (`RequestVote`,
//! `AppendEntries`, ...; requests and replies are separate kinds); its size is the length of
//! its JSON form, the course's wire format. The classic lab counts RPCs per server to bound
//! what an election costs, and bytes to bound what agreement costs per committed byte: read
//! them with [`MessageStats::received_by`], [`MessageStats::to_node`] and
//! [`MessageStats::kind`].
//!
//! Counting is cheap: the kind is found by formatting a message only up to the end of its
//! first word (`first_word`), and sizes are measured only in a cluster that asked for them
//! with [`Cluster::count_bytes`] (measuring every message's JSON is a good part of what a
//! run costs, and only a test about bytes reads them). Without it the table shows `-`, and
//! reading a byte count ([`KindStats::bytes`]) fails the test, naming the call to make: a count
//! that was never kept must not read as 0, or a test bounding bytes passes whatever the node
//! sends.

use std::collections::BTreeMap;
use std::fmt::{self, Display, Write as _};
use std::io;

use serde::{Serialize, Serializer};

use crate::cluster::Cluster;
use crate::node::{Node, NodeId};

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
    /// JSON bytes of the messages sent, if the cluster counts them ([`Cluster::count_bytes`]):
    /// read with [`KindStats::bytes`]. `None` (`null` in JSON) if it does not.
    #[serde(rename = "bytes")]
    measured: Option<u64>,
}

impl KindStats {
    /// JSON bytes of the messages sent. Fails the test, naming the call to make, if the
    /// cluster does not count bytes: [`Cluster::count_bytes`] before the run.
    pub fn bytes(&self) -> u64 {
        match self.measured {
            Some(bytes) => bytes,
            None => panic!(
                "message bytes are not counted in this cluster: call cluster.count_bytes() \
                 before the run (off by default: measuring every message's JSON costs a good \
                 part of a run); without it every byte count would read 0"
            ),
        }
    }

    /// JSON bytes of the messages sent, `None` if the cluster does not count them.
    pub fn bytes_if_counted(&self) -> Option<u64> {
        self.measured
    }

    /// Counts one message sent, of `bytes` bytes if they are measured.
    pub(crate) fn count_sent(&mut self, bytes: Option<u64>) {
        self.sent += 1;
        if let Some(bytes) = bytes {
            self.measured = Some(self.measured.unwrap_or(0) + bytes);
        }
    }

    /// The counts with bytes kept (from 0) if `counted`, not kept otherwise.
    fn bytes_kept(mut self, counted: bool) -> Self {
        self.measured = counted.then(|| self.measured.unwrap_or(0));
        self
    }

    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &KindStats) {
        self.sent += other.sent;
        self.delivered += other.delivered;
        self.dropped += other.dropped;
        self.duplicated += other.duplicated;
        self.measured = match (self.measured, other.measured) {
            (None, None) => None,
            (mine, theirs) => Some(mine.unwrap_or(0) + theirs.unwrap_or(0)),
        };
    }
}

/// Counts per message kind, in kind order, and per receiving node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MessageStats {
    /// Kind → counts.
    pub kinds: BTreeMap<String, KindStats>,
    /// `to[id - 1]`: the counts of the messages addressed to node `id`, kind by kind (a list:
    /// a handful of kinds, searched faster than a map on the hot path).
    #[serde(rename = "to_node", serialize_with = "by_node")]
    to: Vec<Vec<(String, KindStats)>>,
    /// False if `bytes` were not counted ([`Cluster::count_bytes`]): the table shows `-`.
    #[serde(skip)]
    bytes_counted: bool,
}

impl MessageStats {
    /// The counts of messages addressed to node `id` (sent to it, delivered to it, dropped on
    /// the way, duplicated, their bytes), per kind, as a `MessageStats` of their own.
    pub fn to_node(&self, id: NodeId) -> MessageStats {
        let list = (id as usize).checked_sub(1).and_then(|index| self.to.get(index));
        let kinds = list.into_iter().flatten().cloned().collect();
        MessageStats { kinds, to: Vec::new(), bytes_counted: self.bytes_counted }
    }

    /// True if the cluster counts bytes ([`Cluster::count_bytes`]): only then can
    /// [`KindStats::bytes`] be read.
    pub fn bytes_counted(&self) -> bool {
        self.bytes_counted
    }

    /// How many messages of `kind` node `id` received (stepped): the classic lab's per-server
    /// RPC count, e.g. `received_by(2, "RequestVote")`.
    pub fn received_by(&self, id: NodeId, kind: &str) -> u64 {
        self.to_node(id).kind(kind).delivered
    }

    /// The counts of `kind`, all zero if no such message was sent.
    pub fn kind(&self, kind: &str) -> KindStats {
        let counts = self.kinds.get(kind).cloned().unwrap_or_default();
        counts.bytes_kept(self.bytes_counted)
    }

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
            total.add(kind);
        }
        total.bytes_kept(self.bytes_counted)
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
            let bytes = s.measured.filter(|_| self.bytes_counted);
            let bytes = bytes.map_or("-".to_string(), |bytes| bytes.to_string());
            writeln!(
                f,
                "{:<20} {:>9} {:>9} {:>9} {:>9} {:>11}",
                kind, s.sent, s.delivered, s.dropped, s.duplicated, bytes
            )?;
        }
        Ok(())
    }
}

/// The per-node counts as a map, node → kind → counts.
fn by_node<S: Serializer>(
    to: &[Vec<(String, KindStats)>],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let nodes = to.iter().enumerate().map(|(index, kinds)| {
        let kinds: BTreeMap<&String, &KindStats> = kinds.iter().map(|(k, s)| (k, s)).collect();
        (index as NodeId + 1, kinds)
    });
    serializer.collect_map(nodes)
}

/// The counts as the cluster keeps them while it runs: per kind id (kinds numbered as first
/// seen), so that counting a message costs no string look-up. A message's kind is found once,
/// when it is sent ([`Tally::kind`]), and travels with it. [`Tally::stats`] builds the
/// [`MessageStats`] when someone reads them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tally {
    /// `names[kind]`.
    names: Vec<Box<str>>,
    /// `all[kind]`: cluster-wide.
    all: Vec<KindStats>,
    /// `to[id - 1][kind]`: messages addressed to node `id`.
    to: Vec<Vec<KindStats>>,
    /// Whether sent messages are measured ([`Cluster::count_bytes`]).
    pub(crate) count_bytes: bool,
}

impl Tally {
    /// The id of `kind`, the first word of a message's summary ([`first_word`]; `message` if
    /// it has none, as [`kind_of`] says).
    pub(crate) fn kind(&mut self, kind: &str) -> usize {
        let kind = if kind.is_empty() { "message" } else { kind };
        match self.names.iter().position(|name| **name == *kind) {
            Some(id) => id,
            None => {
                self.names.push(kind.into());
                self.all.push(KindStats::default());
                self.names.len() - 1
            }
        }
    }

    /// The counts of `kind`, cluster-wide and for messages to node `to`: the cluster counts
    /// every message in both.
    pub(crate) fn both_mut(&mut self, to: NodeId, kind: usize) -> (&mut KindStats, &mut KindStats) {
        let index = to as usize - 1;
        if self.to.len() <= index {
            self.to.resize_with(index + 1, Vec::new);
        }
        let list = &mut self.to[index];
        if list.len() <= kind {
            list.resize_with(kind + 1, KindStats::default);
        }
        (&mut self.all[kind], &mut list[kind])
    }

    /// The counts as [`MessageStats`]. A kind appears for a node once a message of it to that
    /// node was counted: every count starts at a send or a delivery, so those are the kinds
    /// whose counts are not all zero.
    pub(crate) fn stats(&self) -> MessageStats {
        let named = |counts: &[KindStats]| -> Vec<(String, KindStats)> {
            let pairs = self.names.iter().zip(counts);
            let touched = pairs.filter(|(_, counts)| **counts != KindStats::default());
            let kept = |counts: &KindStats| counts.clone().bytes_kept(self.count_bytes);
            touched.map(|(name, counts)| (name.to_string(), kept(counts))).collect()
        };
        let kinds = named(&self.all).into_iter().collect();
        let to = self.to.iter().map(|counts| named(counts)).collect();
        MessageStats { kinds, to, bytes_counted: self.count_bytes }
    }
}

/// The first word of a summary.
pub fn kind_of(summary: &str) -> &str {
    summary.split_whitespace().next().unwrap_or("message")
}

impl<N: Node> Cluster<N> {
    /// From now on, measure every message sent (its JSON length) into the `bytes` of
    /// [`stats`](Cluster::stats): for a test that bounds what agreement costs on the wire.
    /// Off by default, because measuring every message costs a good part of a run. Changes
    /// nothing else: the run, its trace and every other count are the same with or without.
    pub fn count_bytes(&mut self) {
        self.tally.count_bytes = true;
        self.stats.take();
    }
}

/// Writes the first word of `message`'s `Display` (its kind) into `word` and stops the
/// formatting there, so that finding a message's kind costs a few characters, not its whole
/// summary. The word is what [`kind_of`] finds in the whole summary: leading whitespace
/// skipped, up to the next whitespace; empty if there is none.
///
/// `Ok(())` once the word is known; `Err` if the `Display` returned an error of its own before
/// that (the harness reports it as the node's fault). A panic is the caller's to catch.
pub(crate) fn first_word<M: Display>(message: &M, word: &mut String) -> fmt::Result {
    let mut writer = FirstWord { word, done: false };
    match write!(writer, "{message}") {
        Ok(()) => Ok(()),
        Err(_) if writer.done => Ok(()),
        Err(error) => Err(error),
    }
}

/// The writer of [`first_word`]: it fails on purpose once the word is complete, which ends
/// the formatting.
struct FirstWord<'a> {
    word: &'a mut String,
    done: bool,
}

impl fmt::Write for FirstWord<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        if self.done {
            return Err(fmt::Error);
        }
        let text = if self.word.is_empty() { text.trim_start() } else { text };
        let Some(end) = find_whitespace(text) else {
            self.word.push_str(text);
            return Ok(());
        };
        self.word.push_str(&text[..end]);
        self.done = true;
        Err(fmt::Error)
    }
}

/// `text.find(char::is_whitespace)`, byte by byte while the text is ASCII.
fn find_whitespace(text: &str) -> Option<usize> {
    for (at, &byte) in text.as_bytes().iter().enumerate() {
        if byte >= 0x80 {
            return text[at..].find(char::is_whitespace).map(|end| at + end);
        }
        // The ASCII characters `char::is_whitespace` accepts: tab to carriage return, space.
        if byte == b' ' || (b'\t'..=b'\r').contains(&byte) {
            return Some(at);
        }
    }
    None
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte scan finds what `str::find(char::is_whitespace)` finds, Unicode included.
    #[test]
    fn find_whitespace_agrees_with_char_is_whitespace() {
        let texts = [
            "",
            "Append",
            "Append t3",
            "a\tb",
            "a\u{b}b",
            "a\u{c}b",
            "a\rb",
            "a\nb",
            "é b",
            "ü\u{a0}b",
            "x\u{2028}y",
            "\u{3000}",
            "abc\u{85}",
            "a\u{1c}b",
        ];
        for text in texts {
            assert_eq!(find_whitespace(text), text.find(char::is_whitespace), "{text:?}");
        }
    }
}
