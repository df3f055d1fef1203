//! A key-value store of string keys and values: get, put, append, delete, compare-and-set.
//!
//! What a correct store answers (the model of the course's stage 6 service):
//!
//! | operation | effect | answer |
//! |---|---|---|
//! | `Get { key }` | none | `Reply::Value(Some(value))`, or `Reply::Value(None)` if the key is absent |
//! | `Put { key, value }` | the key holds `value` | `Reply::Ok` |
//! | `Append { key, value }` | the key holds its old value (`""` if absent) followed by `value` | `Reply::Ok` |
//! | `Delete { key }` | the key is absent (also if it already was) | `Reply::Ok` |
//! | `Cas { key, expected, new }` | if the key's value equals `expected` (`None`: absent), it holds `new` | `Reply::Cas(true)` if it did, `Reply::Cas(false)` if not |
//!
//! Every operation touches one key, so [`KvModel`] partitions a history by key
//! (P-compositionality): each key is checked alone, with a state of one `Option<String>`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crate::{Model, Operation};

/// A request to the store. A closed enum: an operation outside these five cannot be built.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Op {
    /// Read the key's value.
    Get {
        /// The key read.
        key: String,
    },
    /// Set the key's value.
    Put {
        /// The key written.
        key: String,
        /// Its new value.
        value: String,
    },
    /// Add `value` at the end of the key's value (`""` if absent).
    Append {
        /// The key written.
        key: String,
        /// What is appended.
        value: String,
    },
    /// Remove the key.
    Delete {
        /// The key removed.
        key: String,
    },
    /// Compare-and-set: if the key's value is `expected` (`None`: absent), set it to `new`.
    Cas {
        /// The key compared and maybe written.
        key: String,
        /// The value it must hold (`None`: the key must be absent).
        expected: Option<String>,
        /// Its new value if it did.
        new: String,
    },
}

impl Op {
    /// The one key the operation touches.
    pub fn key(&self) -> &str {
        match self {
            Op::Get { key }
            | Op::Put { key, .. }
            | Op::Append { key, .. }
            | Op::Delete { key }
            | Op::Cas { key, .. } => key,
        }
    }

    /// True for a read (`Get`), which changes nothing.
    pub fn is_read(&self) -> bool {
        matches!(self, Op::Get { .. })
    }
}

/// `get x`, `put x=1`, `append x+=1`, `delete x`, `cas x 1→2`, `cas x (absent)→2`: one line, as
/// timelines and histories show it.
impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Get { key } => write!(f, "get {key}"),
            Op::Put { key, value } => write!(f, "put {key}={value}"),
            Op::Append { key, value } => write!(f, "append {key}+={value}"),
            Op::Delete { key } => write!(f, "delete {key}"),
            Op::Cas { key, expected: Some(expected), new } => {
                write!(f, "cas {key} {expected}→{new}")
            }
            Op::Cas { key, expected: None, new } => write!(f, "cas {key} (absent)→{new}"),
        }
    }
}

/// The store's answer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Reply {
    /// A `Get`'s answer: the value, `None` if the key is absent.
    Value(Option<String>),
    /// A `Put`, `Append` or `Delete` took effect.
    Ok,
    /// A `Cas`'s answer: whether it set the value.
    Cas(bool),
}

/// `"v"`, `absent`, `ok`, `cas true`.
impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Value(Some(value)) => write!(f, "{value:?}"),
            Reply::Value(None) => write!(f, "absent"),
            Reply::Ok => write!(f, "ok"),
            Reply::Cas(set) => write!(f, "cas {set}"),
        }
    }
}

/// The sequential key-value store (see the module's table), partitioned by key.
///
/// Its state is the map of the keys touched so far; within one key's partition, that is at
/// most one entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KvModel;

impl Model for KvModel {
    type State = BTreeMap<String, String>;
    type Input = Op;
    type Output = Reply;

    fn init(&self) -> Self::State {
        BTreeMap::new()
    }

    fn step(&self, state: &Self::State, input: &Op) -> (Self::State, Reply) {
        let current = state.get(input.key());
        let mut next = state.clone();
        let reply = match input {
            Op::Get { .. } => return (next, Reply::Value(current.cloned())),
            Op::Put { key, value } => {
                next.insert(key.clone(), value.clone());
                Reply::Ok
            }
            Op::Append { key, value } => {
                next.entry(key.clone()).or_default().push_str(value);
                Reply::Ok
            }
            Op::Delete { key } => {
                next.remove(key);
                Reply::Ok
            }
            Op::Cas { key, expected, new } => {
                let matches = current == expected.as_ref();
                if matches {
                    next.insert(key.clone(), new.clone());
                }
                Reply::Cas(matches)
            }
        };
        (next, reply)
    }

    /// A `Get`, and a `Cas` that answered `false`, change nothing.
    fn is_read_only(&self, input: &Op, output: Option<&Reply>) -> bool {
        matches!((input, output), (Op::Get { .. }, _) | (Op::Cas { .. }, Some(Reply::Cas(false))))
    }

    /// A `Get`, or a compare-and-set that answered `true`, that needs the key to hold a value
    /// no operation called before it returned could have left there (see [`never_written`]).
    fn never_fits(&self, history: &[Operation<Op, Reply>], partition: &[usize]) -> Option<usize> {
        never_written(history, partition)
    }

    /// One partition per key, in key order.
    fn partition(&self, history: &[Operation<Op, Reply>]) -> Vec<Vec<usize>> {
        let mut by_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (index, op) in history.iter().enumerate() {
            by_key.entry(op.input.key()).or_default().push(index);
        }
        by_key.into_values().collect()
    }

    fn partition_name(
        &self,
        history: &[Operation<Op, Reply>],
        partition: &[usize],
    ) -> Option<String> {
        let first = partition.first()?;
        Some(format!("key {:?}", history[*first].input.key()))
    }

    fn describe(&self, input: &Op, output: Option<&Reply>) -> String {
        let call = match input {
            Op::Get { key } => format!("get({key:?})"),
            Op::Put { key, value } => format!("put({key:?}, {value:?})"),
            Op::Append { key, value } => format!("append({key:?}, {value:?})"),
            Op::Delete { key } => format!("delete({key:?})"),
            Op::Cas { key, expected, new } => {
                format!("cas({key:?}, {}, {new:?})", show(expected.as_ref()))
            }
        };
        let answer = match output {
            None => "?".to_string(),
            Some(Reply::Value(value)) => show(value.as_ref()),
            Some(Reply::Ok) => "ok".to_string(),
            Some(Reply::Cas(done)) => done.to_string(),
        };
        format!("{call} -> {answer}")
    }
}

/// A value as a learner reads it: quoted, or `absent`.
fn show(value: Option<&String>) -> String {
    match value {
        Some(value) => format!("{value:?}"),
        None => "absent".to_string(),
    }
}

/// The operation of `partition` (earliest return first) that needs its key to hold a value no
/// operation called before it returned could have left there: a `Get` that answered
/// `Some(v)`, or a compare-and-set that answered `true` expecting `Some(v)`, when no `Put` of
/// `v`, no compare-and-set to `v` (that answered `true`, or whose outcome is unknown) and no
/// `Append` of a suffix of `v` (answered or unknown) on that key was called before it returned.
///
/// Why that is sound: in any linearization, the value a key holds when an operation takes
/// effect was left by the last operation before it that changed that key (absent if none):
/// a `Put` leaves its value, a compare-and-set that sets leaves its `new`, an `Append` leaves
/// something ending with what it appends, a `Delete` leaves the key absent; and that
/// operation took effect first, so it was called before the later one returned. A value none
/// of them can leave is never held. (Absent is never refuted: it is the initial state.)
pub fn never_written(history: &[Operation<Op, Reply>], partition: &[usize]) -> Option<usize> {
    // Per (key, value): the earliest call of an operation that may leave exactly that value,
    // and of an append of that value.
    let mut exact: HashMap<(&str, &str), u64> = HashMap::new();
    let mut appended: HashMap<(&str, &str), u64> = HashMap::new();
    for &index in partition {
        let op = &history[index];
        let (map, value) = match (&op.input, op.output()) {
            (Op::Put { value, .. }, _) => (&mut exact, value),
            (Op::Cas { new, .. }, Some(Reply::Cas(true)) | None) => (&mut exact, new),
            (Op::Append { value, .. }, _) => (&mut appended, value),
            _ => continue,
        };
        let call = map.entry((op.input.key(), value.as_str())).or_insert(op.call);
        *call = (*call).min(op.call);
    }
    let mut needs: Vec<(u64, usize, &str)> = partition
        .iter()
        .filter_map(|&index| {
            let op = &history[index];
            let needed = match (&op.input, op.output()?) {
                (Op::Get { .. }, Reply::Value(Some(value))) => value,
                (Op::Cas { expected: Some(value), .. }, Reply::Cas(true)) => value,
                _ => return None,
            };
            Some((op.returned_at()?, index, needed.as_str()))
        })
        .collect();
    needs.sort_unstable();
    needs.into_iter().find_map(|(at, index, value)| {
        let key = history[index].input.key();
        let before = |map: &HashMap<(&str, &str), u64>, value: &str| {
            map.get(&(key, value)).is_some_and(|&call| call <= at)
        };
        // Shortest suffixes first: an appended value is usually the last few characters.
        let produced = before(&exact, value)
            || before(&appended, "")
            || value.char_indices().rev().any(|(start, _)| before(&appended, &value[start..]));
        (!produced).then_some(index)
    })
}
