//! The key-value service's operations (stage 6), their sequential model, and the check that a
//! run's history is linearizable.
//!
//! The operations are the `linearizability` crate's, under the names the course uses: the
//! service executes exactly what the checker's model [`KvModel`] steps through (a map from keys
//! to values, one operation at a time, each key checked alone), so the two cannot drift apart.
//! They are a closed enum: an unknown operation cannot be built, and every service and every
//! client speak the same ones.

use linearizability::kv::KvModel;
use linearizability::{Budget, Verdict};

/// An operation on the key-value store: `Get`, `Put`, `Append`, `Delete`, `Cas` (the checker's
/// [`linearizability::kv::Op`]).
pub use linearizability::kv::Op as KvOp;
/// What a key-value operation answers: `Value`, `Ok`, `Cas` (the checker's
/// [`linearizability::kv::Reply`]).
pub use linearizability::kv::Reply as KvOutput;

use crate::cluster::Cluster;
use crate::rng::Rng;
use crate::service::Service;
use crate::service::clients::Clients;
use crate::service::history::History;
use crate::service::view;

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
    let operations = history.operations(KvOp::clone, KvOutput::clone);
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
        let operations = history.operations(KvOp::clone, KvOutput::clone);
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
