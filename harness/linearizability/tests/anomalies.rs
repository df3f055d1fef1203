//! The classic anomalies of a replicated store, each a hand-made history the checker must
//! reject with evidence naming the culprit; and their correct neighbours, which it must accept.

use linearizability::kv::{KvModel, Op, Reply};
use linearizability::{Budget, Operation, Outcome, Verdict, check};

type KvOp = Operation<Op, Reply>;

fn done(client: u64, call: u64, ret: u64, input: Op, output: Reply) -> KvOp {
    Operation { client, call, input, outcome: Outcome::Returned { at: ret, output } }
}

fn put(key: &str, value: &str) -> Op {
    Op::Put { key: key.into(), value: value.into() }
}

fn append(key: &str, value: &str) -> Op {
    Op::Append { key: key.into(), value: value.into() }
}

fn get(key: &str) -> Op {
    Op::Get { key: key.into() }
}

fn value(v: &str) -> Reply {
    Reply::Value(Some(v.into()))
}

/// Checks with the default budget and returns the evidence, failing if it is linearizable.
fn rejected(history: &[KvOp]) -> linearizability::Evidence {
    match check(&KvModel, history, Budget::default()) {
        Verdict::NotLinearizable(evidence) => evidence,
        other => panic!("expected NotLinearizable, got {other:?}"),
    }
}

/// A stale read: a read that starts after a write was acknowledged returns the old value
/// (the deposed leader answering from its own state, dissertation §6.4).
#[test]
fn stale_read_is_rejected() {
    let history = [
        done(1, 0, 2, put("x", "1"), Reply::Ok),
        done(1, 3, 5, put("x", "2"), Reply::Ok),
        done(2, 6, 8, get("x"), value("1")),
    ];
    let evidence = rejected(&history);
    assert_eq!(evidence.partition, "key \"x\"");
    assert_eq!(evidence.prefix.len(), 2, "{evidence}");
    assert_eq!(evidence.cannot_place.len(), 1, "{evidence}");
    assert_eq!(evidence.cannot_place[0].index, 2, "{evidence}");
    assert_eq!(evidence.cannot_place[0].model_answer.as_deref(), Some("get(\"x\") -> \"2\""));
    let text = evidence.to_string();
    assert!(text.contains("get(\"x\") -> \"1\""), "{text}");
    assert!(text.contains("client 2"), "{text}");
}

/// The same read overlapping the second write may see either value.
#[test]
fn read_overlapping_a_write_may_see_the_old_value() {
    let history = [
        done(1, 0, 2, put("x", "1"), Reply::Ok),
        done(1, 3, 7, put("x", "2"), Reply::Ok),
        done(2, 6, 8, get("x"), value("1")),
    ];
    assert_eq!(check(&KvModel, &history, Budget::default()), Verdict::Linearizable);
}

/// A lost acknowledged write: a write returned Ok, yet a later read sees the key as before.
#[test]
fn lost_acknowledged_write_is_rejected() {
    let history = [
        done(1, 0, 1, put("x", "a"), Reply::Ok),
        done(2, 2, 3, append("x", "b"), Reply::Ok),
        done(3, 4, 5, get("x"), value("a")),
    ];
    let evidence = rejected(&history);
    assert_eq!(evidence.cannot_place.len(), 1, "{evidence}");
    assert_eq!(evidence.cannot_place[0].index, 2, "{evidence}");
}

/// A duplicated append: a retried append applied twice (no duplicate detection, §6.3).
#[test]
fn duplicated_append_is_rejected() {
    let history = [
        done(1, 0, 5, append("x", "a"), Reply::Ok),
        done(2, 1, 6, append("x", "b"), Reply::Ok),
        done(3, 7, 8, get("x"), value("aba")),
    ];
    let evidence = rejected(&history);
    assert!(evidence.to_string().contains("\"aba\""), "{evidence}");
}

/// A read of a value nobody ever wrote.
#[test]
fn read_of_a_value_never_written_is_rejected() {
    let history = [done(1, 0, 10, put("x", "1"), Reply::Ok), done(2, 1, 9, get("x"), value("7"))];
    let evidence = rejected(&history);
    // No put of "7": the read fits no state, found before any search (`Model::never_fits`),
    // so the evidence stops where the read may first be placed: at the start.
    assert_eq!(evidence.prefix.len(), 0, "{evidence}");
    let read = evidence.cannot_place.iter().find(|op| op.index == 1).expect("the read is named");
    assert!(!read.fits, "{evidence}");
}

/// A write seen, then unseen: one client reads the new value, a later read gets the old one
/// (a new leader that lost an entry a reader already saw).
#[test]
fn write_seen_then_unseen_is_rejected() {
    let history = [
        done(1, 0, 1, put("x", "old"), Reply::Ok),
        done(1, 2, 20, put("x", "new"), Reply::Ok),
        done(2, 3, 4, get("x"), value("new")),
        done(3, 5, 6, get("x"), value("old")),
    ];
    let evidence = rejected(&history);
    assert_eq!(evidence.prefix.len(), 3, "{evidence}");
    assert_eq!(evidence.cannot_place.len(), 1, "{evidence}");
    assert_eq!(evidence.cannot_place[0].index, 3, "{evidence}");
}

/// Two operations of one key fail while another key is fine: the evidence names the key.
#[test]
fn evidence_names_the_failing_key() {
    let history = [
        done(1, 0, 1, put("a", "1"), Reply::Ok),
        done(1, 2, 3, get("a"), value("1")),
        done(2, 0, 1, put("b", "1"), Reply::Ok),
        done(2, 2, 3, get("b"), Reply::Value(None)),
    ];
    let evidence = rejected(&history);
    assert_eq!(evidence.partition, "key \"b\"");
    assert_eq!(evidence.operations, 2);
}

fn cas(key: &str, expected: Option<&str>, new: &str) -> Op {
    Op::Cas { key: key.into(), expected: expected.map(Into::into), new: new.into() }
}

/// Compare-and-set, one operation at a time: it sets the value only when the key holds the
/// expected one (absent included), and answers whether it did. Generated histories cannot
/// catch a wrong model (they are made by the same model), so this one is by hand.
#[test]
fn compare_and_set_follows_the_model_table() {
    let history = [
        done(1, 0, 1, cas("x", None, "1"), Reply::Cas(true)),
        done(1, 2, 3, cas("x", None, "2"), Reply::Cas(false)),
        done(1, 4, 5, cas("x", Some("9"), "2"), Reply::Cas(false)),
        done(1, 6, 7, cas("x", Some("1"), "3"), Reply::Cas(true)),
        done(1, 8, 9, get("x"), value("3")),
    ];
    assert_eq!(check(&KvModel, &history, Budget::default()), Verdict::Linearizable);
    let mut wrong = history.clone();
    wrong[2] = done(1, 4, 5, cas("x", Some("9"), "2"), Reply::Cas(true));
    let evidence = rejected(&wrong);
    assert_eq!(evidence.cannot_place[0].index, 2, "{evidence}");
}

/// Gets and failed compare-and-sets are reads (`Model::is_read_only`): twelve of them
/// overlapping cost one cache entry each, not one per subset (4,096), before a read of a value
/// never written is rejected.
#[test]
fn gets_and_failed_cas_are_placed_as_soon_as_they_fit() {
    let mut history: Vec<KvOp> = (0..12)
        .map(|client| match client % 2 {
            0 => done(client, 0, 10, get("x"), Reply::Value(None)),
            _ => done(client, 0, 10, cas("x", Some("9"), "1"), Reply::Cas(false)),
        })
        .collect();
    history.push(done(12, 20, 21, get("x"), value("never written")));
    let (verdict, stats) = linearizability::check_with_stats(&KvModel, &history, Budget::default());
    assert!(matches!(verdict, Verdict::NotLinearizable(_)), "{verdict}");
    assert_eq!(stats.peak_cache_entries, 13, "the empty set, then one entry per read placed");
}
