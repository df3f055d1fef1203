//! The key-value service's operations (stage 6), their sequential model, and the check that a
//! run's history is linearizable.
//!
//! The operations are a closed enum: an unknown operation cannot be built, and every service
//! and every client speak the same ones. Their model is the `linearizability` crate's
//! [`KvModel`]: a map from keys to values, one operation at a time, each key checked alone.

use std::fmt;

use linearizability::kv::KvModel;
use linearizability::{Budget, Verdict};
use serde::{Deserialize, Serialize};

use crate::cluster::Cluster;
use crate::rng::Rng;
use crate::service::Service;
use crate::service::clients::Clients;
use crate::service::history::History;
use crate::service::view;

/// An operation on the key-value store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvOp {
    /// The value of `key`, if any.
    Get {
        /// The key.
        key: String,
    },
    /// Sets `key` to `value`.
    Put {
        /// The key.
        key: String,
        /// The new value.
        value: String,
    },
    /// Appends `value` to the value of `key` (to "" if it has none).
    Append {
        /// The key.
        key: String,
        /// What to append.
        value: String,
    },
    /// Removes `key`.
    Delete {
        /// The key.
        key: String,
    },
    /// Compare-and-set: if the value of `key` is `expected` (`None`: the key is absent), sets
    /// it to `new` and answers `Cas(true)`; otherwise changes nothing and answers `Cas(false)`.
    Cas {
        /// The key.
        key: String,
        /// The value it must have now.
        expected: Option<String>,
        /// The value it gets if so.
        new: String,
    },
}

impl KvOp {
    /// The key the operation is about.
    pub fn key(&self) -> &str {
        match self {
            KvOp::Get { key }
            | KvOp::Put { key, .. }
            | KvOp::Append { key, .. }
            | KvOp::Delete { key }
            | KvOp::Cas { key, .. } => key,
        }
    }

    /// True for a read (`Get`), which changes nothing.
    pub fn is_read(&self) -> bool {
        matches!(self, KvOp::Get { .. })
    }

    /// The operation as the checker's model reads it.
    pub fn to_model(&self) -> linearizability::kv::Op {
        use linearizability::kv::Op;
        match self.clone() {
            KvOp::Get { key } => Op::Get { key },
            KvOp::Put { key, value } => Op::Put { key, value },
            KvOp::Append { key, value } => Op::Append { key, value },
            KvOp::Delete { key } => Op::Delete { key },
            KvOp::Cas { key, expected, new } => Op::Cas { key, expected, new },
        }
    }
}

/// `get x`, `put x=1`, `append x+=1`, `delete x`, `cas x 1→2`.
impl fmt::Display for KvOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvOp::Get { key } => write!(f, "get {key}"),
            KvOp::Put { key, value } => write!(f, "put {key}={value}"),
            KvOp::Append { key, value } => write!(f, "append {key}+={value}"),
            KvOp::Delete { key } => write!(f, "delete {key}"),
            KvOp::Cas { key, expected, new } => match expected {
                Some(expected) => write!(f, "cas {key} {expected}→{new}"),
                None => write!(f, "cas {key} (absent)→{new}"),
            },
        }
    }
}

/// What a key-value operation answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KvOutput {
    /// A `Get`: the value, or `None` if the key is absent.
    Value(Option<String>),
    /// A `Put`, `Append` or `Delete` took effect.
    Ok,
    /// A `Cas`: whether it set the value.
    Cas(bool),
}

/// `"v"`, `absent`, `ok`, `cas true`.
impl fmt::Display for KvOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KvOutput::Value(Some(value)) => write!(f, "{value:?}"),
            KvOutput::Value(None) => write!(f, "absent"),
            KvOutput::Ok => write!(f, "ok"),
            KvOutput::Cas(set) => write!(f, "cas {set}"),
        }
    }
}

impl KvOutput {
    /// The output as the checker's model reads it.
    pub fn to_model(&self) -> linearizability::kv::Reply {
        use linearizability::kv::Reply;
        match self.clone() {
            KvOutput::Value(value) => Reply::Value(value),
            KvOutput::Ok => Reply::Ok,
            KvOutput::Cas(set) => Reply::Cas(set),
        }
    }
}

/// A random operation on one of `keys` keys (`k0`, `k1`, ...), for randomized runs: reads and
/// writes of every kind. `client` and `n` make appended values unique, so that a duplicated
/// append shows in the value.
pub fn random_op(rng: &mut Rng, keys: u64, client: u64, n: u64) -> KvOp {
    let key = format!("k{}", rng.range(0, keys.max(1)));
    let value = format!("{client}.{n};");
    match rng.range(0, 10) {
        0..=3 => KvOp::Get { key },
        4 => KvOp::Put { key, value },
        5..=7 => KvOp::Append { key, value },
        8 => KvOp::Delete { key },
        _ => {
            let expected = (rng.range(0, 2) == 0).then(|| format!("{client}.{};", n.max(1) - 1));
            KvOp::Cas { key, expected, new: value }
        }
    }
}

/// Checks `history` for linearizability against the key-value model, within `budget` steps.
pub fn check_history(history: &History<KvOp, KvOutput>, budget: Budget) -> Verdict {
    let operations = history.operations(KvOp::to_model, KvOutput::to_model);
    linearizability::check(&KvModel, &operations, budget)
}

impl Clients<KvOp, KvOutput> {
    /// Checks the clients' history for linearizability (§6: a linearizable service answers as
    /// if each operation took effect at one instant between its call and its return). Fails
    /// with `cluster`'s report otherwise, the checker's evidence and the whole history in it;
    /// a budget that runs out fails too, never passes. Returns the number of operations.
    ///
    /// A cluster that keeps its whole trace (`RAFT_TRACE`) also gets the history and the
    /// verdict in its trace file, for the trace page's history view ([`view`]).
    pub fn check_linearizable<N: Service<Op = KvOp, Output = KvOutput> + 'static>(
        &self,
        cluster: &Cluster<N>,
    ) -> usize {
        let history = self.history();
        let operations = history.operations(KvOp::to_model, KvOutput::to_model);
        let answer = linearizability::linearize(&KvModel, &operations, Budget::default());
        cluster.show_history(|| view::view(history, |op| op.key().to_string(), &answer));
        let verdict = match answer {
            Ok(_) => return history.records().len(),
            Err(verdict) => verdict,
        };
        let Verdict::NotLinearizable(evidence) = &verdict else {
            cluster.fail(&format!(
                "Linearizability (dissertation §6.3) not decided for the clients' history of {} \
                 operations: {verdict}",
                history.records().len()
            ))
        };
        // The operations on the key that cannot be linearized, up to the last one the
        // evidence names: the part of the history to read next to the timeline.
        let last = evidence.cannot_place.iter().map(|op| op.index).max().unwrap_or(0);
        let on_key = |index: &usize| {
            let op = &history.records()[*index].op;
            evidence.partition == format!("key {:?}", op.key())
        };
        let lines = history.lines();
        let shown: Vec<&str> =
            (0..=last.min(lines.len() - 1)).filter(on_key).map(|i| lines[i].as_str()).collect();
        let from = shown.len().saturating_sub(40);
        cluster.fail(&format!(
            "Linearizability (dissertation §6.3) violated: the clients' history of {} operations \
             ({} returned) cannot be explained by any one-at-a-time order within the \
             operations' intervals.\n{evidence}\n\nThe operations on {} up to #{last}, the last \
             {} (client#seq [call tick, return tick] operation → output):\n  {}\n\nThe trace \
             page (`page:` above) draws this history beside the timeline: a bar per operation per \
             client, the prefix numbered in the order found, the operations that cannot follow \
             it outlined.",
            lines.len(),
            history.completed(),
            evidence.partition,
            shown.len() - from,
            shown[from..].join("\n  ")
        ))
    }
}
