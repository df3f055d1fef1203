//! The RPCs of Figure 2 (§5.2, §5.3): the sender's term, the wire format and its round-trips.

use data_structures::{
    AppendEntries, AppendEntriesReply, Conflict, DecodeError, InstallSnapshot,
    InstallSnapshotReply, LogEntry, Message, RequestVote, RequestVoteReply,
};
use pretty_assertions::assert_eq;
use rstest::rstest;

fn request_vote() -> Message {
    Message::RequestVote(RequestVote {
        term: 5,
        candidate_id: 2,
        last_log_index: 7,
        last_log_term: 4,
    })
}

fn vote_granted() -> Message {
    Message::RequestVoteReply(RequestVoteReply { term: 6, vote_granted: true })
}

fn vote_refused() -> Message {
    Message::RequestVoteReply(RequestVoteReply { term: 9, vote_granted: false })
}

fn append_entries() -> Message {
    Message::AppendEntries(AppendEntries {
        term: 3,
        leader_id: 1,
        prev_log_index: 4,
        prev_log_term: 2,
        entries: vec![LogEntry::new(3, "set x 1"), LogEntry::new(3, "set y \"2\"")],
        leader_commit: 4,
    })
}

fn heartbeat() -> Message {
    Message::AppendEntries(AppendEntries {
        term: 8,
        leader_id: 3,
        prev_log_index: 0,
        prev_log_term: 0,
        entries: vec![],
        leader_commit: 0,
    })
}

fn append_ok() -> Message {
    Message::AppendEntriesReply(AppendEntriesReply {
        term: 11,
        success: true,
        match_index: 6,
        conflict: None,
    })
}

fn append_rejected() -> Message {
    Message::AppendEntriesReply(AppendEntriesReply {
        term: 12,
        success: false,
        match_index: 4,
        conflict: None,
    })
}

/// A refusal with the follower's hint: it holds term 2 at the leader's prev index, from index 3.
fn append_rejected_with_conflict() -> Message {
    Message::AppendEntriesReply(AppendEntriesReply {
        term: 12,
        success: false,
        match_index: 4,
        conflict: Some(Conflict { term: Some(2), first_index: 3 }),
    })
}

/// Every RPC carries its sender's term, which the receiver compares with its own before
/// anything else (§5.1).
fn install_snapshot() -> Message {
    Message::InstallSnapshot(InstallSnapshot {
        term: 7,
        leader_id: 3,
        last_included_index: 40,
        last_included_term: 6,
        data: vec![1, 2, 255],
    })
}

fn snapshot_reply() -> Message {
    Message::InstallSnapshotReply(InstallSnapshotReply { term: 10, last_included_index: 40 })
}

#[rstest]
#[case::request_vote(request_vote(), 5)]
#[case::vote_granted(vote_granted(), 6)]
#[case::vote_refused(vote_refused(), 9)]
#[case::append_entries(append_entries(), 3)]
#[case::heartbeat(heartbeat(), 8)]
#[case::append_ok(append_ok(), 11)]
#[case::append_rejected(append_rejected(), 12)]
#[case::install_snapshot(install_snapshot(), 7)]
#[case::snapshot_reply(snapshot_reply(), 10)]
fn message_term_is_the_senders_term(#[case] message: Message, #[case] term: u64) {
    assert_eq!(message.term(), term, "{message:?}.term(): the term the message carries (§5.1)");
}

/// A message decodes to what was encoded, every RPC of Figure 2, requests and replies: what a
/// node sends is what the other receives.
#[rstest]
#[case::request_vote(request_vote())]
#[case::vote_granted(vote_granted())]
#[case::vote_refused(vote_refused())]
#[case::append_entries(append_entries())]
#[case::heartbeat(heartbeat())]
#[case::append_ok(append_ok())]
#[case::append_rejected(append_rejected())]
#[case::append_rejected_with_conflict(append_rejected_with_conflict())]
#[case::install_snapshot(install_snapshot())]
#[case::snapshot_reply(snapshot_reply())]
fn every_message_survives_an_encode_decode_round_trip(#[case] message: Message) {
    assert_eq!(
        Message::decode(&message.encode()),
        Ok(message.clone()),
        "Message::decode(&{message:?}.encode()): the message that was encoded (Figure 2)"
    );
}

/// The wire format is pinned, byte for byte: a change (a renamed field, another enum layout)
/// breaks this test before it breaks a cluster of mixed versions or a saved trace.
#[rstest]
#[case::request_vote(
    request_vote(),
    r#"{"RequestVote":{"term":5,"candidate_id":2,"last_log_index":7,"last_log_term":4}}"#
)]
#[case::vote_granted(vote_granted(), r#"{"RequestVoteReply":{"term":6,"vote_granted":true}}"#)]
#[case::append_entries(
    append_entries(),
    concat!(
        r#"{"AppendEntries":{"term":3,"leader_id":1,"prev_log_index":4,"prev_log_term":2,"#,
        r#""entries":[{"term":3,"command":"set x 1"},{"term":3,"command":"set y \"2\""}],"#,
        r#""leader_commit":4}}"#
    )
)]
#[case::heartbeat(
    heartbeat(),
    concat!(
        r#"{"AppendEntries":{"term":8,"leader_id":3,"prev_log_index":0,"prev_log_term":0,"#,
        r#""entries":[],"leader_commit":0}}"#
    )
)]
#[case::append_rejected(
    append_rejected(),
    r#"{"AppendEntriesReply":{"term":12,"success":false,"match_index":4}}"#
)]
#[case::append_rejected_with_conflict(
    append_rejected_with_conflict(),
    concat!(
        r#"{"AppendEntriesReply":{"term":12,"success":false,"match_index":4,"#,
        r#""conflict":{"term":2,"first_index":3}}}"#
    )
)]
#[case::install_snapshot(
    install_snapshot(),
    r#"{"InstallSnapshot":{"term":7,"leader_id":3,"last_included_index":40,"last_included_term":6,"data":[1,2,255]}}"#
)]
#[case::snapshot_reply(
    snapshot_reply(),
    r#"{"InstallSnapshotReply":{"term":10,"last_included_index":40}}"#
)]
fn wire_format_is_pinned(#[case] message: Message, #[case] json: &str) {
    assert_eq!(String::from_utf8(message.encode()).expect("JSON is UTF-8"), json);
    assert_eq!(Message::decode(json.as_bytes()), Ok(message));
}

/// Bytes that are not a message give a typed error, never a panic and never a wrong message.
#[rstest]
#[case::nothing(b"")]
#[case::not_json(b"hello")]
#[case::truncated(br#"{"RequestVote":{"term":5"#)]
#[case::unknown_message(br#"{"Gossip":{"term":5}}"#)]
#[case::incomplete_snapshot(br#"{"InstallSnapshot":{"term":5}}"#)]
#[case::missing_field(br#"{"RequestVoteReply":{"term":6}}"#)]
#[case::wrong_type(br#"{"RequestVoteReply":{"term":"six","vote_granted":true}}"#)]
#[case::negative_term(br#"{"RequestVoteReply":{"term":-1,"vote_granted":true}}"#)]
#[case::trailing_garbage(br#"{"RequestVoteReply":{"term":6,"vote_granted":true}}x"#)]
fn decode_rejects_bytes_that_are_not_a_message(#[case] bytes: &[u8]) {
    let result = Message::decode(bytes);
    assert!(result.is_err(), "decoded {:?} from {:?}", result, String::from_utf8_lossy(bytes));
}

/// The error says what is wrong with the bytes, for the log of whoever received them.
#[test]
fn decode_error_says_what_is_wrong() {
    let error = Message::decode(b"").expect_err("no bytes are no message");
    assert_eq!(
        (error.to_string(), error),
        (
            "cannot decode: EOF while parsing a value at line 1 column 0".to_string(),
            DecodeError { reason: "EOF while parsing a value at line 1 column 0".to_string() }
        )
    );
}

/// Timelines show one line per message, with the sender's term first, the term `term()`
/// returns (§5.1).
#[rstest]
#[case::request_vote(request_vote(), 5, "RequestVote t5 last 7/4")]
#[case::vote_granted(vote_granted(), 6, "VoteReply t6 granted")]
#[case::vote_refused(vote_refused(), 9, "VoteReply t9 refused")]
#[case::append_entries(append_entries(), 3, "AppendEntries t3 prev 4/2 +2 commit 4")]
#[case::heartbeat(heartbeat(), 8, "AppendEntries t8 prev 0/0 +0 commit 0")]
#[case::append_ok(append_ok(), 11, "AppendReply t11 ok match 6")]
#[case::append_rejected(append_rejected(), 12, "AppendReply t12 reject match 4")]
#[case::append_rejected_with_conflict(
    append_rejected_with_conflict(),
    12,
    "AppendReply t12 reject match 4 conflict t2 from 3"
)]
#[case::install_snapshot(install_snapshot(), 7, "InstallSnapshot t7 through 40/6 (3 bytes)")]
#[case::snapshot_reply(snapshot_reply(), 10, "SnapshotReply t10 through 40")]
fn timeline_line_starts_with_the_senders_term(
    #[case] message: Message,
    #[case] term: u64,
    #[case] line: &str,
) {
    assert_eq!(
        (message.term(), message.to_string()),
        (term, line.to_string()),
        "(term(), to_string()) of {message:?}: the timeline shows the sender's term (§5.1)"
    );
}
