//! A single register of integers: read, write, compare-and-set (the Jepsen etcd workload).
//!
//! | operation | effect | answer |
//! |---|---|---|
//! | `Read` | none | `Reply::Value(Some(v))`, or `Reply::Value(None)` before any write |
//! | `Write(v)` | the register holds `v` | `Reply::Ok` |
//! | `Cas { expected, new }` | if it holds `expected` (`None`: never written), it holds `new` | `Reply::Cas(true)` if it did, else `Reply::Cas(false)` |

use crate::Model;

/// A request to the register.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// Read the value.
    Read,
    /// Set the value.
    Write(i64),
    /// Compare-and-set.
    Cas {
        /// The value it must hold (`None`: never written).
        expected: Option<i64>,
        /// Its new value if it did.
        new: i64,
    },
}

/// The register's answer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Reply {
    /// A `Read`'s answer, `None` before any write.
    Value(Option<i64>),
    /// A `Write` took effect.
    Ok,
    /// A `Cas`'s answer: whether it set the value.
    Cas(bool),
}

/// The sequential register (see the module's table); one partition.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RegisterModel;

impl Model for RegisterModel {
    type State = Option<i64>;
    type Input = Op;
    type Output = Reply;

    fn init(&self) -> Option<i64> {
        None
    }

    fn step(&self, state: &Option<i64>, input: &Op) -> (Option<i64>, Reply) {
        match input {
            Op::Read => (*state, Reply::Value(*state)),
            Op::Write(value) => (Some(*value), Reply::Ok),
            Op::Cas { expected, new } if state == expected => (Some(*new), Reply::Cas(true)),
            Op::Cas { .. } => (*state, Reply::Cas(false)),
        }
    }

    /// A `Read`, and a `Cas` that answered `false`, change nothing.
    fn is_read_only(&self, input: &Op, output: Option<&Reply>) -> bool {
        matches!((input, output), (Op::Read, _) | (Op::Cas { .. }, Some(Reply::Cas(false))))
    }
}
