//! The clients' history as the trace page draws it: a bar per operation per client, the order
//! the checker found, and the operations it could not place ([`crate::page`]).
//!
//! [`HistoryView`] goes into the trace file as its `history` field when the cluster keeps its
//! whole trace (`RAFT_TRACE`, `keep_whole_trace`): [`Clients::check_linearizable`] builds it
//! from the checker's answer, so a stage 6 run traced with `RAFT_TRACE`, passing or failing
//! its check, gives a page with the history beside the timeline. A run that keeps only its
//! last events builds nothing (the randomized runs' stress pass pays nothing for it).
//!
//! [`Clients::check_linearizable`]: crate::service::clients::Clients::check_linearizable

use std::fmt::Display;

use linearizability::Verdict;
use serde::Serialize;

use crate::service::history::History;

/// A history and the checker's verdict on it, for the page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HistoryView {
    /// `linearizable`, `not linearizable` or `unknown` (the budget ran out).
    pub verdict: &'static str,
    /// The checker's words when it is not `linearizable`: the evidence, or the budget's advice.
    pub text: Option<String>,
    /// The partition the checker could not linearize (`key "x"`), if any.
    pub partition: Option<String>,
    /// That partition as the operations' `key` names it (`x`), when the evidence names its
    /// operations (not linearizable).
    pub key: Option<String>,
    /// Every operation, in call order (as the history and the checker's evidence number them).
    pub operations: Vec<ViewOperation>,
}

/// One operation as the page draws it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ViewOperation {
    /// The client that called it.
    pub client: u64,
    /// The id its requests carried (its session, §6.3): the timeline names them by it.
    pub session: u64,
    /// Its sequence number.
    pub seq: u64,
    /// The tick of the call.
    pub call: u64,
    /// The tick of the return; `None` for an unknown outcome (drawn open-ended).
    pub returned: Option<u64>,
    /// The operation (`put x=1`).
    pub op: String,
    /// What it returned (`ok`), `None` for an unknown outcome.
    pub output: Option<String>,
    /// Its partition's name as the page groups them: the key.
    pub key: String,
    /// How many requests the client sent for it.
    pub attempts: u32,
    /// Its place (from 1) in the order the checker found for its key: for a linearizable
    /// history, every operation that took effect; for one that is not, those of the longest
    /// linearizable prefix of the failing key. `None` otherwise (an unknown outcome left out
    /// never took effect).
    pub order: Option<usize>,
    /// True for the operations of which one must come after that prefix, and none can.
    pub cannot_place: bool,
    /// For those: what the model answers if it takes effect right after the prefix.
    pub model_answer: Option<String>,
}

/// The view of `history` (whose operations the checker saw in this order, each in the
/// partition `key_of` names) and of the checker's `answer` ([`linearizability::linearize`]).
pub fn view<Op: Clone + Display, Output: Clone + Display>(
    history: &History<Op, Output>,
    key_of: impl Fn(&Op) -> String,
    answer: &Result<Vec<Vec<usize>>, Verdict>,
) -> HistoryView {
    let mut operations: Vec<ViewOperation> = history
        .records()
        .iter()
        .map(|record| ViewOperation {
            client: record.client,
            session: record.session,
            seq: record.seq,
            call: record.call,
            returned: record.returned.as_ref().map(|(at, _)| *at),
            op: record.op.to_string(),
            output: record.returned.as_ref().map(|(_, output)| output.to_string()),
            key: key_of(&record.op),
            attempts: record.attempts,
            order: None,
            cannot_place: false,
            model_answer: None,
        })
        .collect();
    let (verdict, text, partition, key) = match answer {
        Ok(orders) => {
            for order in orders {
                number(&mut operations, order.iter().copied());
            }
            ("linearizable", None, None, None)
        }
        Err(Verdict::NotLinearizable(evidence)) => {
            number(&mut operations, evidence.prefix.iter().map(|op| op.index));
            for op in &evidence.cannot_place {
                operations[op.index].cannot_place = true;
                operations[op.index].model_answer = op.model_answer.clone();
            }
            let named = evidence.cannot_place.first().or(evidence.prefix.first());
            let key = named.map(|op| operations[op.index].key.clone());
            let partition = Some(evidence.partition.clone());
            ("not linearizable", Some(evidence.to_string()), partition, key)
        }
        Err(verdict @ Verdict::Unknown { partition, .. }) => {
            ("unknown", Some(verdict.to_string()), Some(partition.clone()), None)
        }
        Err(Verdict::Linearizable) => ("linearizable", None, None, None),
    };
    HistoryView { verdict, text, partition, key, operations }
}

/// Numbers the operations `places` (history indexes, in order) 1, 2, 3, ...
fn number(operations: &mut [ViewOperation], places: impl Iterator<Item = usize>) {
    for (place, index) in places.enumerate() {
        operations[index].order = Some(place + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::kv::{KvOp, KvOutput};
    use linearizability::kv::KvModel;
    use linearizability::{Budget, linearize};

    /// c1 puts x=1 during [0, 5] and y=1 during [1, 2]; c2 reads x during [6, 8] and sees
    /// `read`; c3 reads y from tick 3 and never learns the answer.
    fn history(read: Option<&str>) -> History<KvOp, KvOutput> {
        let mut history = History::default();
        let put = |key: &str| KvOp::Put { key: key.into(), value: "1".into() };
        let get = |key: &str| KvOp::Get { key: key.into() };
        let x = history.call(1, 1, 0, put("x"));
        let y = history.call(1, 2, 1, put("y"));
        history.returned(y, 2, KvOutput::Ok);
        history.call(3, 1, 3, get("y"));
        history.returned(x, 5, KvOutput::Ok);
        let read_x = history.call(2, 1, 6, get("x"));
        history.returned(read_x, 8, KvOutput::Value(read.map(String::from)));
        history
    }

    fn view_of(history: &History<KvOp, KvOutput>) -> HistoryView {
        let operations = history.operations(KvOp::clone, KvOutput::clone);
        let answer = linearize(&KvModel, &operations, Budget::default());
        view(history, |op| op.key().to_string(), &answer)
    }

    #[test]
    fn a_linearizable_history_is_numbered_per_key_and_its_unknown_outcome_is_open() {
        let view = view_of(&history(Some("1")));
        assert_eq!(view.verdict, "linearizable");
        let orders: Vec<(&str, &str, Option<usize>)> =
            view.operations.iter().map(|op| (op.key.as_str(), op.op.as_str(), op.order)).collect();
        assert_eq!(
            orders,
            [
                ("x", "put x=1", Some(1)),
                ("y", "put y=1", Some(1)),
                ("y", "get y", None),
                ("x", "get x", Some(2))
            ]
        );
        assert_eq!(view.operations[2].returned, None, "the unknown outcome has no return");
        assert_eq!(view.operations[2].output, None);
        assert!(view.operations.iter().all(|op| !op.cannot_place));
        assert_eq!((view.text, view.partition, view.key), (None, None, None));
    }

    #[test]
    fn a_stale_read_is_the_operation_that_cannot_be_placed() {
        let view = view_of(&history(None));
        assert_eq!(view.verdict, "not linearizable");
        assert_eq!(view.partition.as_deref(), Some("key \"x\""));
        assert_eq!(view.key.as_deref(), Some("x"));
        let read = &view.operations[3];
        assert!(read.cannot_place, "the read of x after the put returned: {read:?}");
        assert_eq!(read.model_answer.as_deref(), Some("get(\"x\") -> \"1\""));
        assert_eq!(view.operations[0].order, Some(1), "the put is the prefix");
        assert_eq!(view.operations[1].order, None, "key y is not numbered: only x failed");
        assert!(view.text.unwrap_or_default().starts_with("not linearizable: key \"x\""));
    }

    /// A read of a value nobody wrote is refuted before the checker's search
    /// (`Model::never_fits`), which then only finds the prefix after which the read must come:
    /// the view is drawn as for any other failure.
    #[test]
    fn a_read_of_a_value_never_written_is_outlined_after_its_prefix() {
        let view = view_of(&history(Some("9")));
        assert_eq!(view.verdict, "not linearizable");
        assert_eq!(view.key.as_deref(), Some("x"));
        let read = &view.operations[3];
        assert!(read.cannot_place, "the read of a value never written: {read:?}");
        assert_eq!(read.model_answer.as_deref(), Some("get(\"x\") -> \"1\""));
        assert_eq!(view.operations[0].order, Some(1), "the put is the prefix");
    }
}
