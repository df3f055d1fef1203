//! Every operation the clients called: when, what, and what came back (or that nothing did).
//!
//! A history is what a linearizability checker reads (Herlihy & Wing): an operation is an
//! interval from its call to its return, and the service is linearizable if every operation
//! can be placed at one instant inside its interval so that, in that order, a sequential
//! service gives the outputs the clients saw. An operation whose client gave up has an
//! *unknown* outcome: it may have taken effect at any instant after its call, or never.
//!
//! Times are ticks: the tick a client sent its first request (the call) and the tick its
//! answer reached it (the return). Retries do not move the call: a retried operation is one
//! operation whose interval covers every attempt.

use std::fmt::Display;

use linearizability::{Operation, Outcome};

use crate::service::ClientId;

/// One operation of a history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record<Op, Output> {
    /// The client that called it.
    pub client: ClientId,
    /// The id its requests carried: the client's session (§6.3), by which the timeline names
    /// them (`c12#5`); the client's own number for a service without registration.
    pub session: ClientId,
    /// The client's sequence number for it.
    pub seq: u64,
    /// The tick of the call (its first request sent).
    pub call: u64,
    /// What was asked.
    pub op: Op,
    /// `Some((tick, output))` once an answer reached the client; `None` while it waits, or if
    /// it never learned the outcome.
    pub returned: Option<(u64, Output)>,
    /// How many requests the client sent for it (1 without a retry).
    pub attempts: u32,
}

/// The operations of a run, in the order they were called.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct History<Op, Output> {
    records: Vec<Record<Op, Output>>,
}

impl<Op, Output> Default for History<Op, Output> {
    fn default() -> Self {
        History { records: Vec::new() }
    }
}

impl<Op: Clone + Display, Output: Clone + Display> History<Op, Output> {
    /// Records a call; returns its place in the history.
    pub fn call(&mut self, client: ClientId, seq: u64, call: u64, op: Op) -> usize {
        self.call_as(client, client, seq, call, op)
    }

    /// Records a call whose requests carry the id `session` (§6.3); returns its place.
    pub fn call_as(
        &mut self,
        client: ClientId,
        session: ClientId,
        seq: u64,
        call: u64,
        op: Op,
    ) -> usize {
        let record = Record { client, session, seq, call, op, returned: None, attempts: 1 };
        self.records.push(record);
        self.records.len() - 1
    }

    /// Records the return of the operation at `place`.
    pub fn returned(&mut self, place: usize, at: u64, output: Output) {
        self.records[place].returned = Some((at, output));
    }

    /// Counts one more request sent for the operation at `place`.
    pub fn retried(&mut self, place: usize) {
        self.records[place].attempts += 1;
    }

    /// Every operation, in call order.
    pub fn records(&self) -> &[Record<Op, Output>] {
        &self.records
    }

    /// How many operations returned.
    pub fn completed(&self) -> usize {
        self.records.iter().filter(|record| record.returned.is_some()).count()
    }

    /// The history as the checker reads it, each input and output converted by `input` and
    /// `output`; an operation that never returned has an unknown outcome.
    pub fn operations<I, O>(
        &self,
        input: impl Fn(&Op) -> I,
        output: impl Fn(&Output) -> O,
    ) -> Vec<Operation<I, O>> {
        let operation = |record: &Record<Op, Output>| Operation {
            client: record.client,
            call: record.call,
            input: input(&record.op),
            outcome: match &record.returned {
                Some((at, out)) => Outcome::Returned { at: *at, output: output(out) },
                None => Outcome::Unknown,
            },
        };
        self.records.iter().map(operation).collect()
    }

    /// The history one operation a line, for reports, each with its place (as the checker's
    /// evidence numbers them): `#7 c2#5 [31, 40] put x=1 → ok`.
    pub fn lines(&self) -> Vec<String> {
        self.records.iter().enumerate().map(|(place, record)| describe(place, record)).collect()
    }
}

/// One operation in words.
fn describe<Op: Display, Output: Display>(place: usize, record: &Record<Op, Output>) -> String {
    let (client, seq, call, op) = (record.client, record.seq, record.call, &record.op);
    let retries = match record.attempts {
        1 => String::new(),
        n => format!(" ({n} attempts)"),
    };
    match &record.returned {
        Some((at, output)) => {
            format!("#{place} c{client}#{seq} [{call}, {at}] {op} → {output}{retries}")
        }
        None => format!("#{place} c{client}#{seq} [{call}, ?] {op} → unknown{retries}"),
    }
}
