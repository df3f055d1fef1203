//! The service layer's own tests: clients, their link, the history and the linearizability
//! check, against a toy key-value service with switchable bugs.
//!
//! The toy is not Raft: node 1 serves every request alone, at once, and the others answer
//! "not leader, try n1". That is enough to run every client path (timeouts, hints, losses,
//! retries, give-ups) and to show that the check catches a service that breaks linearizability.

use std::collections::BTreeMap;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use harness::service::clients::{ClientLink, Clients};
use harness::service::kv::{KvOp, KvOutput, random_op};
use harness::service::{Answer, Reply, Request, Service};
use harness::{
    Applied, Cluster, Compact, Config, Envelope, Index, Node, NodeId, NotLeader, Persist,
    Replicate, Rng, Role, Snapshot, Status, Term,
};
use serde::Serialize;

/// No bug.
const CORRECT: u8 = 0;
/// No duplicate detection: a retried request is applied again (§6.3).
const NO_DEDUP: u8 = 1;
/// Node 2 answers reads from its own store, which never changes (a stale read, §6.4).
const STALE_READS: u8 = 2;
/// Not a bug: the first session (id 100) is evicted before its first request, which is answered
/// "session expired" (§6.3).
const EXPIRING: u8 = 3;

/// The toy's messages: it sends none.
#[derive(Clone, Debug, Serialize)]
enum Never {}

impl fmt::Display for Never {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {}
    }
}

struct Toy<const BUG: u8> {
    id: NodeId,
    store: BTreeMap<String, String>,
    /// Per client: the last sequence number applied and its output.
    sessions: BTreeMap<u64, (u64, KvOutput)>,
    replies: Vec<Reply<KvOutput>>,
    /// Registrations answered, for the next id.
    registered: u64,
}

impl<const BUG: u8> Toy<BUG> {
    fn execute(&mut self, op: &KvOp) -> KvOutput {
        let store = &mut self.store;
        match op.clone() {
            KvOp::Get { key } => KvOutput::Value(store.get(&key).cloned()),
            KvOp::Put { key, value } => {
                store.insert(key, value);
                KvOutput::Ok
            }
            KvOp::Append { key, value } => {
                store.entry(key).or_default().push_str(&value);
                KvOutput::Ok
            }
            KvOp::Delete { key } => {
                store.remove(&key);
                KvOutput::Ok
            }
            KvOp::Cas { key, expected, new } => {
                let matches = store.get(&key) == expected.as_ref();
                if matches {
                    store.insert(key, new);
                }
                KvOutput::Cas(matches)
            }
        }
    }
}

impl<const BUG: u8> Node for Toy<BUG> {
    type Message = Never;
    type Command = String;

    fn new(id: NodeId, _: Vec<NodeId>, _: Config, _: Rng) -> Self {
        let (store, sessions, replies) = (BTreeMap::new(), BTreeMap::new(), Vec::new());
        Toy { id, store, sessions, replies, registered: 0 }
    }
    fn id(&self) -> NodeId {
        self.id
    }
    fn tick(&mut self) {}
    fn step(&mut self, _: NodeId, message: Never) {
        match message {}
    }
    fn take_messages(&mut self) -> Vec<Envelope<Never>> {
        Vec::new()
    }
    fn status(&self) -> Status {
        let role = if self.id == 1 { Role::Leader } else { Role::Follower };
        let voted_for = Some(1);
        Status { term: 1, role, voted_for, commit_index: 0, last_log_index: 0, snapshot_index: 0 }
    }
    fn log_entry(&self, _: Index) -> Option<(Term, &String)> {
        None
    }
}

impl<const BUG: u8> Replicate for Toy<BUG> {
    fn propose(&mut self, _: String) -> Result<(Index, Term), NotLeader> {
        Err(NotLeader { leader_hint: Some(1) })
    }
    fn take_committed(&mut self) -> Vec<Applied<String>> {
        Vec::new()
    }
}

impl<const BUG: u8> Persist for Toy<BUG> {
    type State = ();
    type Write = ();
    fn take_persist(&mut self) -> Vec<()> {
        Vec::new()
    }
    fn apply_write(_: &mut (), _: ()) {}
    fn restart(id: NodeId, peers: Vec<NodeId>, config: Config, rng: Rng, _: ()) -> Self {
        Self::new(id, peers, config, rng)
    }
}

impl<const BUG: u8> Compact for Toy<BUG> {
    fn compact(&mut self, _: Index, _: Vec<u8>) {}
    fn take_snapshot(&mut self) -> Option<Snapshot> {
        None
    }
}

impl<const BUG: u8> Service for Toy<BUG> {
    type Op = KvOp;
    type Output = KvOutput;

    fn request(&mut self, request: Request<KvOp>) {
        let Request { client, seq, op } = request;
        let answer = if self.id != 1 && !(BUG == STALE_READS && op.is_read()) {
            Answer::NotLeader { leader_hint: Some(1) }
        } else if BUG == EXPIRING && client == 100 {
            Answer::SessionExpired
        } else if BUG != NO_DEDUP
            && let Some((last, output)) = self.sessions.get(&client)
            && *last == seq
        {
            Answer::Done(output.clone())
        } else {
            let output = self.execute(&op);
            self.sessions.insert(client, (seq, output.clone()));
            Answer::Done(output)
        };
        self.replies.push(Reply { client, seq, answer });
    }

    /// Node 1 opens a session at once, under a new id (100 for its first, then 101, ...: not
    /// the client's own number, as a service's ids are not); the others answer "not leader,
    /// try n1".
    fn register(&mut self, nonce: u64) {
        let answer = if self.id == 1 {
            self.registered += 1;
            Answer::Registered { client_id: 99 + self.registered }
        } else {
            Answer::NotLeader { leader_hint: Some(1) }
        };
        self.replies.push(Reply { client: nonce, seq: 0, answer });
    }

    fn take_replies(&mut self) -> Vec<Reply<KvOutput>> {
        std::mem::take(&mut self.replies)
    }
}

/// `clients` clients run 30 random operations each on 2 keys over `link`, for at most `ticks`
/// ticks, then give up on what is left; returns them for the caller to check.
fn run<const BUG: u8>(
    seed: u64,
    clients: usize,
    ticks: u64,
    link: ClientLink,
) -> (Cluster<Toy<BUG>>, Clients<KvOp, KvOutput>) {
    let mut cluster = Cluster::<Toy<BUG>>::new(3, seed);
    let mut kv = Clients::new(&cluster, clients, link);
    let mut rng = Rng::new(seed);
    for client in 1..=clients as u64 {
        for n in 0..30 {
            kv.submit(client, random_op(&mut rng, 2, client, n));
        }
    }
    kv.run_until_idle(&mut cluster, ticks);
    kv.give_up();
    (cluster, kv)
}

/// The report of a run that must fail its check.
fn failure<const BUG: u8>(seed: u64) -> String {
    let (cluster, kv) = run::<BUG>(seed, 4, 400, ClientLink::unreliable());
    let panic = catch_unwind(AssertUnwindSafe(|| kv.check_linearizable(&cluster)))
        .expect_err("the buggy service's history must fail the check");
    panic.downcast_ref::<String>().cloned().unwrap_or_default()
}

/// A correct service, lossy link: the clients retry through losses and "not leader" answers,
/// every operation ends up answered or unknown, and the history is linearizable.
#[test]
fn clients_retry_through_losses_and_the_history_of_a_correct_service_is_linearizable() {
    for seed in harness::seeds() {
        let (cluster, kv) = run::<CORRECT>(seed, 4, 5_000, ClientLink::unreliable());
        let counts = kv.counts();
        assert!(counts.lost > 0, "seed {seed}: the unreliable link lost nothing: {counts:?}");
        assert!(counts.not_leader > 0, "seed {seed}: no client met a follower: {counts:?}");
        assert!(counts.timeouts > 0, "seed {seed}: no client timed out: {counts:?}");
        let retried = kv.history().records().iter().filter(|r| r.attempts > 1).count();
        assert!(retried > 0, "seed {seed}: no operation was retried");
        assert_eq!(kv.check_linearizable(&cluster), 120, "seed {seed}: 4 clients x 30 calls");
        assert_eq!(kv.history().completed(), 120, "seed {seed}: every call answered: {counts:?}");
    }
}

/// One call at a time on a reliable link: each returns the output, and the history holds it
/// with its call and return ticks, the return after the call.
#[test]
fn a_call_returns_its_output_and_is_recorded_with_its_interval() {
    let mut cluster = Cluster::<Toy<CORRECT>>::new(3, 1);
    let mut kv = Clients::new(&cluster, 1, ClientLink::reliable());
    let put = KvOp::Put { key: "x".into(), value: "1".into() };
    assert_eq!(kv.call(&mut cluster, 1, put.clone(), 100), KvOutput::Ok);
    let get = KvOp::Get { key: "x".into() };
    assert_eq!(kv.call(&mut cluster, 1, get, 100), KvOutput::Value(Some("1".into())));
    let records = kv.history().records();
    assert_eq!(records.len(), 2);
    assert_eq!((records[0].client, records[0].seq, &records[0].op), (1, 1, &put));
    let (returned, _) = records[0].returned.clone().expect("the put returned");
    assert!(records[0].call < returned && returned <= records[1].call);
    assert_eq!(records[1].seq, 2);
}

/// Operations a client gave up on stay in the history with an unknown outcome, and the lines
/// of the report say so.
#[test]
fn operations_given_up_are_unknown() {
    let mut cluster = Cluster::<Toy<CORRECT>>::new(3, 1);
    let mut kv = Clients::new(&cluster, 1, ClientLink::reliable());
    kv.submit(1, KvOp::Put { key: "x".into(), value: "1".into() });
    for _ in 0..20 {
        if !kv.history().records().is_empty() {
            break; // called (after its registration), not yet answered
        }
        kv.tick(&mut cluster);
    }
    kv.give_up();
    assert!(kv.all_idle());
    assert_eq!(kv.history().records()[0].returned, None);
    assert!(kv.history().lines()[0].contains("→ unknown"), "{:?}", kv.history().lines());
    kv.check_linearizable(&cluster);
}

/// A client registers before its first operation and sends its requests under the id it got;
/// a request answered "session expired" stays in the history with an unknown outcome (it may
/// have taken effect before the eviction), and the client registers again and goes on (§6.3).
#[test]
fn a_client_registers_first_and_again_after_its_session_expired() {
    let mut cluster = Cluster::<Toy<EXPIRING>>::new(3, 1);
    let mut kv = Clients::new(&cluster, 1, ClientLink::reliable());
    kv.submit(1, KvOp::Put { key: "x".into(), value: "1".into() });
    kv.submit(1, KvOp::Put { key: "x".into(), value: "2".into() });
    kv.submit(1, KvOp::Get { key: "x".into() });
    assert!(kv.run_until_idle(&mut cluster, 500), "every operation ended");
    let counts = kv.counts();
    assert_eq!((counts.expired, counts.registrations), (1, 2), "{counts:?}");
    let lines = kv.history().lines();
    assert!(lines[0].ends_with("→ unknown"), "the first session expired at once: {lines:?}");
    assert!(lines[1].ends_with("→ ok"), "the second session's first request: {lines:?}");
    assert!(lines[2].ends_with("→ \"2\""), "the same session goes on: {lines:?}");
    assert_eq!(kv.history().records()[1].seq, 2, "numbers keep counting across sessions");
    kv.check_linearizable(&cluster);
}

/// A service that applies a retried append twice is caught: the report names the rule, gives
/// the checker's evidence and lists the history, with the usual replay command.
#[test]
fn a_service_without_duplicate_detection_fails_the_check() {
    let report = failure::<NO_DEDUP>(1);
    assert!(report.contains("Linearizability (dissertation §6.3) violated"), "{report}");
    assert!(report.contains("attempts)"), "the history shows the retries: {report}");
    assert!(report.contains("RAFT_SEED=1"), "{report}");
}

/// A follower that answers reads from its own out-of-date copy is caught (§6.4).
#[test]
fn a_service_with_stale_reads_fails_the_check() {
    let report = failure::<STALE_READS>(2);
    assert!(report.contains("Linearizability (dissertation §6.3) violated"), "{report}");
}

/// A client kept to some servers sends only to them, and one kept to followers only never gets
/// an answer (its requests are all refused): the classic lab's minority partition.
#[test]
fn a_restricted_client_only_reaches_its_servers() {
    let mut cluster = Cluster::<Toy<CORRECT>>::new(3, 1);
    let mut kv = Clients::new(&cluster, 1, ClientLink::reliable());
    kv.restrict(1, &[2, 3]);
    kv.submit(1, KvOp::Get { key: "x".into() });
    assert!(!kv.run_until_idle(&mut cluster, 200), "no server it reaches can answer");
    assert!(kv.counts().not_leader > 10);
    kv.unrestrict(&cluster);
    assert!(kv.run_until_idle(&mut cluster, 200), "n1 answers once reachable");
}
