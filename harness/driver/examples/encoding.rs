//! The measurement behind [`driver::encoding`]: bytes, encode and decode time of the values the
//! driver really encodes, in JSON (serde_json) and in MessagePack (rmp-serde, named fields).
//!
//! ```text
//! cargo run --release -p driver --example encoding
//! ```
//!
//! The values: a peer frame carrying an AppendEntries of 128 stage 6 entries (`SET`s of 3-byte
//! keys and values, as `redis-benchmark` sends), its reply, a hard-state record, and a log
//! record of one entry. Each is first checked to round-trip in each encoding (with a refused
//! reply's `conflict` and a state with a snapshot, the fields `skip_serializing_if` leaves
//! out). Times are the median of 15 repetitions of a batch, per message; the machine is shared,
//! so compare the two columns of one run, not runs.

use std::fmt::Debug;
use std::time::Instant;

use data_structures::{
    AppendEntries, AppendEntriesReply, Conflict, Log, LogEntry, Message, PersistentState,
    StorageWrite,
};
use driver::peers::Frame;
use harness::service::Request;
use harness::service::kv::KvOp;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Repetitions of each batch; the median is reported.
const REPETITIONS: usize = 15;

/// One candidate: its name and its two functions.
struct Candidate {
    name: &'static str,
    encode: fn(&dyn ErasedValue) -> Vec<u8>,
}

/// A value either candidate can encode and decode (the example's own small type erasure).
trait ErasedValue {
    fn json(&self) -> Vec<u8>;
    fn msgpack(&self) -> Vec<u8>;
    fn decode_json(&self, bytes: &[u8]);
    fn decode_msgpack(&self, bytes: &[u8]);
}

impl<T: Serialize + DeserializeOwned> ErasedValue for T {
    fn json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap()
    }
    fn msgpack(&self) -> Vec<u8> {
        rmp_serde::to_vec_named(self).unwrap()
    }
    fn decode_json(&self, bytes: &[u8]) {
        let back: T = serde_json::from_slice(bytes).unwrap();
        std::hint::black_box(back);
    }
    fn decode_msgpack(&self, bytes: &[u8]) {
        let back: T = rmp_serde::from_slice(bytes).unwrap();
        std::hint::black_box(back);
    }
}

/// Panics unless `value` comes back equal from both encodings.
fn check_round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(name: &str, value: &T) {
    let json: T = serde_json::from_slice(&serde_json::to_vec(value).unwrap()).unwrap();
    assert_eq!(&json, value, "{name}: JSON round trip");
    let bytes = rmp_serde::to_vec_named(value).unwrap();
    let msgpack: T = rmp_serde::from_slice(&bytes)
        .unwrap_or_else(|error| panic!("{name}: MessagePack does not decode: {error}"));
    assert_eq!(&msgpack, value, "{name}: MessagePack round trip");
}

/// The stage 6 command of one `SET`: the service's own log command (JSON, as stage 6 writes it).
fn set_command(seq: u64) -> String {
    let key = format!("k{:02}", seq % 100);
    let op = KvOp::Put { key, value: "xxx".into() };
    kv::Entry::Request(Request { client: seq % 50 + 1, seq, op }).encode()
}

fn append_entries(entries: usize) -> kv::Message {
    let entries =
        (1..=entries as u64).map(|seq| LogEntry::new(7, set_command(1_000_000 + seq))).collect();
    kv::Message::Raft(Message::AppendEntries(AppendEntries {
        term: 7,
        leader_id: 1,
        prev_log_index: 1_234_567,
        prev_log_term: 7,
        entries,
        leader_commit: 1_234_500,
    }))
}

fn reply(conflict: Option<Conflict>) -> kv::Message {
    kv::Message::Raft(Message::AppendEntriesReply(AppendEntriesReply {
        term: 7,
        success: conflict.is_none(),
        match_index: 1_234_695,
        conflict,
    }))
}

/// Median nanoseconds per call of `f`, run `per_batch` times a repetition.
fn median_nanos(per_batch: u32, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..REPETITIONS)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..per_batch {
                f();
            }
            start.elapsed().as_nanos() as f64 / f64::from(per_batch)
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[REPETITIONS / 2]
}

fn main() {
    let append: Frame<kv::Message> = Frame::Raft(append_entries(128));
    let ok: Frame<kv::Message> = Frame::Raft(reply(None));
    let hard_state = StorageWrite::HardState { current_term: 7, voted_for: Some(2) };
    let log_record = StorageWrite::AppendLog { entries: vec![LogEntry::new(7, set_command(42))] };

    // Round trips first, including what `skip_serializing_if` leaves out and `Option`s.
    let refused = reply(Some(Conflict { term: Some(6), first_index: 1_000 }));
    let mut state = PersistentState {
        current_term: 7,
        voted_for: None,
        log: Log::after_snapshot(1_000, 6, Vec::new()),
        snapshot: vec![1, 2, 3, 255],
    };
    state.log.append(7, set_command(1));
    check_round_trip("refused reply", &refused);
    check_round_trip("reply", &reply(None));
    check_round_trip("state with a snapshot", &state);
    check_round_trip("state without one", &PersistentState::default());
    check_round_trip("hard state", &hard_state);
    check_round_trip("no vote", &StorageWrite::HardState { current_term: 7, voted_for: None });
    check_round_trip("log record", &log_record);
    check_round_trip("truncation", &StorageWrite::TruncateLog { from: 9 });
    check_round_trip(
        "snapshot write",
        &StorageWrite::Snapshot {
            last_included_index: 1_000,
            last_included_term: 6,
            data: vec![0, 9, 255],
        },
    );
    check_round_trip("append entries", &append_entries(128));
    // `Frame` is not `PartialEq`: its encodings must at least decode.
    let bytes = rmp_serde::to_vec_named(&append).unwrap();
    let _: Frame<kv::Message> = rmp_serde::from_slice(&bytes).unwrap();

    // The positional form (`to_vec`, structs as arrays) cannot read back a field that
    // `skip_serializing_if` left out before others: the fields after it shift (a log without a
    // snapshot leaves out `snapshot_index` and `snapshot_term`, before `entries`).
    let mut unsnapshotted = PersistentState::default();
    unsnapshotted.log.append(7, set_command(1));
    let positional = rmp_serde::to_vec(&unsnapshotted).unwrap();
    let back: Result<PersistentState, _> = rmp_serde::from_slice(&positional);
    println!("MessagePack positional, a state without a snapshot: {:?}\n", back.map(|_| "reads"));

    let candidates = [
        Candidate { name: "JSON (serde_json)", encode: |v| v.json() },
        Candidate { name: "MessagePack (rmp-serde)", encode: |v| v.msgpack() },
    ];
    let values: [(&str, &dyn ErasedValue, u32); 4] = [
        ("AppendEntries, 128 SETs", &append, 200),
        ("its reply", &ok, 20_000),
        ("hard-state record", &hard_state, 20_000),
        ("log record, one SET", &log_record, 20_000),
    ];
    println!("| value | encoding | bytes | encode µs | decode µs |");
    println!("|---|---|---:|---:|---:|");
    for (label, value, per_batch) in values {
        for (i, candidate) in candidates.iter().enumerate() {
            let bytes = (candidate.encode)(value);
            let encode = median_nanos(per_batch, || {
                std::hint::black_box((candidate.encode)(value));
            });
            let decode = median_nanos(per_batch, || {
                if i == 0 { value.decode_json(&bytes) } else { value.decode_msgpack(&bytes) }
            });
            println!(
                "| {label} | {} | {} | {:.2} | {:.2} |",
                candidate.name,
                bytes.len(),
                encode / 1_000.0,
                decode / 1_000.0
            );
        }
    }
}
