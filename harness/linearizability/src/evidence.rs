//! Why a history is not linearizable, in words a learner can read.

use std::fmt;

use crate::{Model, Operation};

/// One operation as shown in a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperationReport {
    /// Its index in the history given to [`crate::check`].
    pub index: usize,
    /// The client that called it.
    pub client: u64,
    /// The time of its call.
    pub call: u64,
    /// The time of its return, `None` for an unknown outcome.
    pub returned: Option<u64>,
    /// The operation and what it returned ([`Model::describe`]).
    pub description: String,
    /// For an operation that cannot be placed: what the model answers if it takes effect right
    /// after the prefix, as [`Model::describe`] puts it. `None` in the prefix.
    pub model_answer: Option<String>,
    /// For an operation that cannot be placed: whether that answer is the one it returned (it
    /// fits there, but no order of the rest works after it).
    pub fits: bool,
}

/// The evidence that a history is not linearizable.
///
/// The search found no order for one partition. It shows the longest prefix it could place
/// (an order respecting real time and the model), the state after it, and the operations of
/// which one must come next, none of which leads to a complete order. The culprit is among
/// them, or the prefix placed something too early: read them together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// Which partition failed, e.g. `key "x"` (see [`Model::partition_name`]).
    pub partition: String,
    /// How many operations that partition holds.
    pub operations: usize,
    /// The longest linearizable prefix found, in the order the operations take effect.
    pub prefix: Vec<OperationReport>,
    /// The model state after the prefix (`Debug`).
    pub state_after_prefix: String,
    /// The operations that cannot all be placed: every operation left that was called before
    /// the earliest return among those left (one of them must take effect next), in call order.
    pub cannot_place: Vec<OperationReport>,
    /// The index (in the history) of the operation left that returned first: it bounds which
    /// operations may come next.
    pub first_return: Option<usize>,
}

/// Builds the evidence for `partition` of `history`, whose longest placed prefix is `prefix`.
pub(crate) fn explain<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    partition: &[usize],
    prefix: &[usize],
    name: String,
) -> Evidence {
    let report = |index: usize| {
        let op = &history[index];
        OperationReport {
            index,
            client: op.client,
            call: op.call,
            returned: op.returned_at(),
            description: model.describe(&op.input, op.output()),
            model_answer: None,
            fits: false,
        }
    };
    let mut state = model.init();
    for &index in prefix {
        state = model.step(&state, &history[index].input).0;
    }
    let mut placed = vec![false; history.len()];
    for &index in prefix {
        placed[index] = true;
    }
    let left: Vec<usize> = partition.iter().copied().filter(|&index| !placed[index]).collect();
    let first_return = left
        .iter()
        .copied()
        .filter_map(|index| history[index].returned_at().map(|at| (at, index)))
        .min()
        .map(|(_, index)| index);
    let bound = first_return.and_then(|index| history[index].returned_at());
    let mut next: Vec<usize> = left
        .into_iter()
        .filter(|&index| bound.is_none_or(|at| history[index].call <= at))
        .collect();
    next.sort_by_key(|&index| (history[index].call, index));
    let cannot_place = next
        .into_iter()
        .map(|index| {
            let op = &history[index];
            let answer = model.step(&state, &op.input).1;
            OperationReport {
                model_answer: Some(model.describe(&op.input, Some(&answer))),
                fits: op.output().is_none_or(|seen| *seen == answer),
                ..report(index)
            }
        })
        .collect();
    Evidence {
        partition: name,
        operations: partition.len(),
        prefix: prefix.iter().map(|&index| report(index)).collect(),
        state_after_prefix: format!("{state:?}"),
        cannot_place,
        first_return,
    }
}

impl fmt::Display for OperationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let returned = match self.returned {
            Some(at) => at.to_string(),
            None => "?".to_string(),
        };
        let span = format!("[{}..{returned}]", self.call);
        write!(f, "#{:<4} client {:<3} {span:<13} {}", self.index, self.client, self.description)
    }
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "not linearizable: {} ({} operations): no order of its operations respects both \
             real time and the model.",
            self.partition, self.operations
        )?;
        writeln!(
            f,
            "The longest linearizable prefix found ({} of {} operations), in the order they take effect:",
            self.prefix.len(),
            self.operations
        )?;
        if self.prefix.is_empty() && self.cannot_place.iter().any(|op| op.fits) {
            writeln!(f, "    (none)")?;
        } else if self.prefix.is_empty() {
            writeln!(f, "    (none: not even the first operation can be placed)")?;
        }
        for op in &self.prefix {
            writeln!(f, "    {op}")?;
        }
        writeln!(f, "State after it: {}", self.state_after_prefix)?;
        match self.first_return {
            Some(index) => writeln!(
                f,
                "One of these must take effect next (each was called before #{index} returned), \
                 and none leads to a complete order:"
            )?,
            None => writeln!(
                f,
                "One of these must take effect next, and none leads to a complete order:"
            )?,
        }
        for op in &self.cannot_place {
            let answer = op.model_answer.as_deref().unwrap_or("?");
            if op.fits {
                writeln!(f, "    {op}    fits here, but nothing works after it")?;
            } else {
                writeln!(f, "    {op}    but here the model says {answer}")?;
            }
        }
        write!(f, "(#n: index in the history; [call..return], ? = unknown outcome)")
    }
}
