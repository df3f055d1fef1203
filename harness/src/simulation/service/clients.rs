//! Simulated clients of a replicated service, on the cluster's clock (§6.2, §6.3).
//!
//! Each client does one operation at a time, as the classic lab's clerk does: it sends the
//! request to the server it believes leads, waits up to `timeout` ticks, and on a timeout, or
//! an answer "not leader", tries again at the hinted leader or else the next server, with the
//! *same* client id and sequence number, until an answer comes. The service must then apply
//! the operation once however many copies reach it (§6.3: sessions). Every operation goes into
//! the [`History`] with its call and return ticks.
//!
//! **Registration** (§6.3). Before its first operation a client registers
//! ([`Service::register`]), retried like a request (same nonce: the client's own number), and
//! uses the id the service answers ([`Answer::Registered`]) in every request after. A retried
//! registration may open two sessions, of which the client uses the first answered: harmless,
//! the other one is never used and is evicted in time. When a request is answered
//! [`Answer::SessionExpired`] (the session was evicted), the client cannot know whether the
//! operation took effect before the eviction: it leaves it in the history with an *unknown*
//! outcome, registers again before its next operation, and goes on. Its sequence numbers keep
//! counting across sessions (a new session accepts any number above 0), so that `c2#5` names one
//! operation in the history. The history names a client by its own number (`c2`), the
//! timeline names its requests by its session's id.
//!
//! Requests and replies travel on the client link ([`ClientLink`]): delayed by a few ticks,
//! lost with some probability, never duplicated by the link itself (a client's retries are the
//! duplicates). A request reaching a crashed server is lost.
//!
//! [`Clients::tick`] is one round: the cluster ticks, the replies every node sent are put on
//! the link, the packets due are delivered (requests stepped into their server at once, whose
//! own answers, such as "not leader", go on the link too), and then every client whose answer
//! arrived, whose timeout passed or who has a next operation sends.

use std::collections::{BTreeMap, VecDeque};

use crate::cluster::Cluster;
use crate::node::NodeId;
use crate::rng::Rng;
use crate::service::history::History;
use crate::service::{Answer, ClientId, Reply, Request, Service};

/// The sequence number of a registration's answer ([`Service::register`]): no request has it.
const REGISTRATION: u64 = 0;

/// The stream of [`Rng::fork`] the clients and their link draw from (the cluster's streams
/// are in [`crate::cluster::streams`]).
pub const CLIENTS_STREAM: u64 = 4;

/// How clients and their link behave, in ticks.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientLink {
    /// The fewest ticks a request or a reply takes (at least 1).
    pub min_delay: u64,
    /// The most ticks it takes.
    pub max_delay: u64,
    /// The probability that a request or a reply is lost.
    pub loss: f64,
    /// Ticks a client waits for an answer before it tries the next server.
    pub timeout: u64,
}

impl ClientLink {
    /// No loss, 1 to 2 ticks each way, a timeout of 40 ticks (two election timeouts: time for
    /// a new leader to be elected and to commit).
    pub fn reliable() -> Self {
        ClientLink { min_delay: 1, max_delay: 2, loss: 0.0, timeout: 40 }
    }

    /// As [`reliable`](ClientLink::reliable), but a tenth of the requests and replies are
    /// lost, so that clients retry and servers see duplicates.
    pub fn unreliable() -> Self {
        ClientLink { loss: 0.1, ..ClientLink::reliable() }
    }
}

/// A packet on the client link.
#[derive(Clone, Debug)]
enum Packet<Op, Output> {
    /// A request on its way to server `to`.
    Request { to: NodeId, request: Request<Op> },
    /// A registration (nonce `nonce`) on its way to server `to`.
    Register { to: NodeId, nonce: ClientId },
    /// A reply from server `from` on its way to its client.
    Reply { from: NodeId, reply: Reply<Output> },
}

/// Where a client's request (or registration) went, and when to send it again.
#[derive(Clone, Copy, Debug)]
struct Attempt {
    /// The server asked last, and the tick after which the client gives up on it.
    server: NodeId,
    deadline: u64,
    /// Set when the client should send again now (an answer said "not leader").
    resend: bool,
}

/// One operation a client is waiting for.
#[derive(Clone, Debug)]
struct Waiting<Op> {
    seq: u64,
    op: Op,
    /// Its place in the history.
    place: usize,
    attempt: Attempt,
}

/// One client.
#[derive(Clone, Debug)]
struct Client<Op> {
    /// The client's own number: its name in the history, and its registrations' nonce.
    id: ClientId,
    /// The id its session got from the service (§6.3); `None` before it registered, and
    /// after its session expired.
    session: Option<ClientId>,
    /// Its registration in flight, if any.
    registering: Option<Attempt>,
    /// The sequence number of its latest operation (0 before the first).
    seq: u64,
    /// Operations to do, in order.
    queue: VecDeque<Op>,
    waiting: Option<Waiting<Op>>,
    /// The server it believes leads: where its next request goes.
    leader: NodeId,
    /// The servers it can reach; all by default.
    reachable: Vec<NodeId>,
}

/// The clients of a service, their link, and the history of their operations.
pub struct Clients<Op, Output> {
    link: ClientLink,
    rng: Rng,
    clients: Vec<Client<Op>>,
    /// Packets in flight by delivery tick, then in the order sent.
    in_flight: BTreeMap<(u64, u64), Packet<Op, Output>>,
    sent: u64,
    history: History<Op, Output>,
    /// Requests sent, packets lost, answers "not leader", refusals.
    counts: Counts,
    /// Refusals seen, as (client, seq, why), for tests that expect none.
    refusals: Vec<(ClientId, u64, String)>,
}

/// What the clients did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Requests sent, retries included.
    pub requests: u64,
    /// Requests and replies lost on the link (a crashed server's included).
    pub lost: u64,
    /// Answers "not leader".
    pub not_leader: u64,
    /// Answers "refused".
    pub refused: u64,
    /// Retries after a timeout.
    pub timeouts: u64,
    /// Registrations sent, retries included (§6.3).
    pub registrations: u64,
    /// Answers "session expired": operations whose outcome stayed unknown (§6.3).
    pub expired: u64,
}

impl<Op, Output> Clients<Op, Output>
where
    Op: Clone + std::fmt::Debug + std::fmt::Display + PartialEq,
    Output: Clone + std::fmt::Debug + std::fmt::Display,
{
    /// `count` clients (ids `1..=count`) of `cluster`'s servers, on `link`; each starts with a
    /// server drawn from the seed. The draws come from their own stream ([`CLIENTS_STREAM`]), so
    /// that the clients change none of the cluster's other random choices.
    pub fn new<N: Service<Op = Op, Output = Output> + 'static>(
        cluster: &Cluster<N>,
        count: usize,
        link: ClientLink,
    ) -> Self {
        let mut rng = cluster.fork_rng(CLIENTS_STREAM);
        let servers = cluster.ids();
        let clients = (1..=count as ClientId)
            .map(|id| Client {
                id,
                session: None,
                registering: None,
                seq: 0,
                queue: VecDeque::new(),
                waiting: None,
                leader: servers[rng.range(0, servers.len() as u64) as usize],
                reachable: servers.clone(),
            })
            .collect();
        Clients {
            link,
            rng,
            clients,
            in_flight: BTreeMap::new(),
            sent: 0,
            history: History::default(),
            counts: Counts::default(),
            refusals: Vec::new(),
        }
    }

    /// The number of clients.
    pub fn len(&self) -> usize {
        self.clients.len()
    }

    /// True if there is no client.
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    /// Changes the link's settings from now on.
    pub fn set_link(&mut self, link: ClientLink) {
        self.link = link;
    }

    /// Client `client` can reach only `servers` from now on (e.g. one side of a partition).
    pub fn restrict(&mut self, client: ClientId, servers: &[NodeId]) {
        let state = self.client_mut(client);
        state.reachable = servers.to_vec();
        if !servers.contains(&state.leader) {
            state.leader = servers[0];
        }
    }

    /// Every client can reach every server of `cluster` again.
    pub fn unrestrict<N: Service>(&mut self, cluster: &Cluster<N>) {
        for client in &mut self.clients {
            client.reachable = cluster.ids();
        }
    }

    /// Queues `op` for `client`: it is called once the client's earlier operations returned.
    pub fn submit(&mut self, client: ClientId, op: Op) {
        self.client_mut(client).queue.push_back(op);
    }

    /// True if `client` has no operation waiting or queued.
    pub fn is_idle(&self, client: ClientId) -> bool {
        let state = &self.clients[client as usize - 1];
        state.waiting.is_none() && state.queue.is_empty()
    }

    /// True if no client has an operation waiting or queued.
    pub fn all_idle(&self) -> bool {
        self.clients.iter().all(|client| client.waiting.is_none() && client.queue.is_empty())
    }

    /// The history so far.
    pub fn history(&self) -> &History<Op, Output> {
        &self.history
    }

    /// What the clients did so far.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// The refusals the clients received, as (client, seq, why).
    pub fn refusals(&self) -> &[(ClientId, u64, String)] {
        &self.refusals
    }

    /// Drops every queued operation and stops waiting for every called one: they stay in the
    /// history with an unknown outcome (the clients gave up).
    pub fn give_up(&mut self) {
        for client in &mut self.clients {
            client.queue.clear();
            client.waiting = None;
            client.registering = None;
        }
    }

    /// One round: the cluster ticks; every node's replies go on the link; the packets due are
    /// delivered; the clients send what they have to.
    pub fn tick<N: Service<Op = Op, Output = Output> + 'static>(
        &mut self,
        cluster: &mut Cluster<N>,
    ) {
        cluster.tick();
        self.collect_replies(cluster);
        let now = cluster.now();
        while let Some(entry) = self.in_flight.first_entry() {
            if entry.key().0 > now {
                break;
            }
            match entry.remove() {
                Packet::Request { to, request } => {
                    if cluster.is_up(to) {
                        cluster.request(to, request);
                        self.collect_replies(cluster);
                    } else {
                        self.counts.lost += 1;
                    }
                }
                Packet::Register { to, nonce } => {
                    if cluster.is_up(to) {
                        cluster.register(to, nonce);
                        self.collect_replies(cluster);
                    } else {
                        self.counts.lost += 1;
                    }
                }
                Packet::Reply { from, reply } => self.receive(now, from, reply),
            }
        }
        for index in 0..self.clients.len() {
            self.maybe_send(index, now);
        }
    }

    /// Runs rounds until every client is idle, at most `max_ticks`; true if they all are.
    pub fn run_until_idle<N: Service<Op = Op, Output = Output> + 'static>(
        &mut self,
        cluster: &mut Cluster<N>,
        max_ticks: u64,
    ) -> bool {
        for _ in 0..max_ticks {
            if self.all_idle() {
                return true;
            }
            self.tick(cluster);
        }
        self.all_idle()
    }

    /// Runs `rounds` rounds.
    pub fn run_for<N: Service<Op = Op, Output = Output> + 'static>(
        &mut self,
        cluster: &mut Cluster<N>,
        rounds: u64,
    ) {
        for _ in 0..rounds {
            self.tick(cluster);
        }
    }

    /// `client` calls `op` and waits for the answer, at most `max_ticks`; returns the output.
    /// Fails with the cluster's report if no answer comes in time.
    pub fn call<N: Service<Op = Op, Output = Output> + 'static>(
        &mut self,
        cluster: &mut Cluster<N>,
        client: ClientId,
        op: Op,
        max_ticks: u64,
    ) -> Output {
        self.submit(client, op.clone());
        let start = cluster.now();
        while !self.is_idle(client) {
            if cluster.now() >= start + max_ticks {
                cluster.fail(&format!(
                    "client c{client}: {op:?} got no answer within {max_ticks} ticks (called at \
                     tick {start}); {} requests sent by all clients, {} answered \"not leader\"",
                    self.counts.requests, self.counts.not_leader
                ));
            }
            self.tick(cluster);
        }
        let last = self.history.records().iter().rev().find(|record| record.client == client);
        match last.and_then(|record| record.returned.clone()) {
            Some((_, output)) => output,
            None => cluster.fail(&format!(
                "client c{client}: {op:?} was refused, or its session expired (outcome unknown)"
            )),
        }
    }

    fn client_mut(&mut self, client: ClientId) -> &mut Client<Op> {
        let count = self.clients.len();
        self.clients
            .get_mut((client as usize).wrapping_sub(1))
            .unwrap_or_else(|| panic!("there is no client c{client}: ids are 1..={count}"))
    }

    fn collect_replies<N: Service<Op = Op, Output = Output> + 'static>(
        &mut self,
        cluster: &mut Cluster<N>,
    ) {
        for id in cluster.ids() {
            for reply in cluster.take_replies(id) {
                self.put(cluster.now(), Packet::Reply { from: id, reply });
            }
        }
    }

    /// Puts `packet` on the link at tick `now`: lost, or due after a delay.
    fn put(&mut self, now: u64, packet: Packet<Op, Output>) {
        if self.rng.chance(self.link.loss) {
            self.counts.lost += 1;
            return;
        }
        let delay = self.rng.range(self.link.min_delay.max(1), self.link.max_delay.max(1) + 1);
        self.sent += 1;
        self.in_flight.insert((now + delay, self.sent), packet);
    }

    /// A reply reached its client at tick `now`: an answer to the registration or the
    /// operation it waits for ends it or sends it elsewhere; any other (a late one, a
    /// duplicate, one for a session it no longer uses) is ignored.
    fn receive(&mut self, now: u64, from: NodeId, reply: Reply<Output>) {
        if reply.seq == REGISTRATION {
            return self.receive_registration(now, from, reply);
        }
        let session = Some(reply.client);
        let Some(client) = self.clients.iter_mut().find(|c| c.session == session) else { return };
        let Some(waiting) = client.waiting.as_mut() else { return };
        if waiting.seq != reply.seq {
            return;
        }
        match reply.answer {
            Answer::Done(output) => {
                self.history.returned(waiting.place, now, output);
                client.leader = from;
                client.waiting = None;
            }
            Answer::NotLeader { leader_hint } => {
                self.counts.not_leader += 1;
                let answered = (now, from, leader_hint);
                redirect(&client.reachable, &mut client.leader, &mut waiting.attempt, answered);
            }
            Answer::Refused(why) => {
                self.counts.refused += 1;
                self.refusals.push((client.id, reply.seq, why));
                client.waiting = None;
            }
            Answer::SessionExpired => {
                // It may have been applied before the eviction: unknown, never retried.
                self.counts.expired += 1;
                client.waiting = None;
                client.session = None;
            }
            // Not answers to a request: a broken service's; the client waits on.
            Answer::Registered { .. } => {}
        }
    }

    /// The answer to a registration (`reply.client` is the nonce): the client's session is
    /// open, or it tries elsewhere.
    fn receive_registration(&mut self, now: u64, from: NodeId, reply: Reply<Output>) {
        let Some(client) = self.clients.iter_mut().find(|c| c.id == reply.client) else { return };
        let Some(attempt) = client.registering.as_mut() else { return };
        match reply.answer {
            Answer::Registered { client_id } => {
                client.session = Some(client_id);
                client.registering = None;
                client.leader = from;
            }
            Answer::NotLeader { leader_hint } => {
                self.counts.not_leader += 1;
                redirect(&client.reachable, &mut client.leader, attempt, (now, from, leader_hint));
            }
            // Not answers to a registration: a broken service's; the client waits on.
            Answer::Done(_) | Answer::Refused(_) | Answer::SessionExpired => {}
        }
    }

    /// Client `index` sends if it has to: a registration if it has work and no session, a
    /// new operation, or a retry after a timeout or "not leader".
    fn maybe_send(&mut self, index: usize, now: u64) {
        let timeout = self.link.timeout;
        let client = &mut self.clients[index];
        let Some(session) = client.session else {
            if client.queue.is_empty() {
                return;
            }
            let attempt = client.registering.get_or_insert(Attempt {
                server: client.leader,
                deadline: now,
                resend: true,
            });
            if !retry(
                attempt,
                &client.reachable,
                &mut client.leader,
                now,
                timeout,
                &mut self.counts,
            ) {
                return;
            }
            let (to, nonce) = (client.leader, client.id);
            self.counts.registrations += 1;
            return self.put(now, Packet::Register { to, nonce });
        };
        let request = match client.waiting.as_mut() {
            Some(waiting) => {
                let counts = &mut self.counts;
                if !retry(
                    &mut waiting.attempt,
                    &client.reachable,
                    &mut client.leader,
                    now,
                    timeout,
                    counts,
                ) {
                    return;
                }
                self.history.retried(waiting.place);
                Request { client: session, seq: waiting.seq, op: waiting.op.clone() }
            }
            None => {
                let Some(op) = client.queue.pop_front() else { return };
                client.seq += 1;
                let place = self.history.call_as(client.id, session, client.seq, now, op.clone());
                let attempt =
                    Attempt { server: client.leader, deadline: now + timeout, resend: false };
                client.waiting = Some(Waiting { seq: client.seq, op: op.clone(), place, attempt });
                Request { client: session, seq: client.seq, op }
            }
        };
        let to = client.leader;
        self.counts.requests += 1;
        self.put(now, Packet::Request { to, request });
    }
}

/// An answer "not leader" from `from` at tick `now`: the next try goes to the hinted leader,
/// else the next server; without a hint, no leader is known: wait a little before it.
fn redirect(
    reachable: &[NodeId],
    leader: &mut NodeId,
    attempt: &mut Attempt,
    (now, from, leader_hint): (u64, NodeId, Option<NodeId>),
) {
    *leader = match leader_hint {
        Some(hint) if hint != from && reachable.contains(&hint) => hint,
        _ => next_server(reachable, from),
    };
    if leader_hint.is_some() {
        attempt.resend = true;
    } else {
        attempt.deadline = now + 2;
    }
}

/// True if `attempt` is to be sent (again) now, to `leader`: it is due (an answer said "not
/// leader", or its timeout passed, and then the next server is tried). Sets its next deadline.
fn retry(
    attempt: &mut Attempt,
    reachable: &[NodeId],
    leader: &mut NodeId,
    now: u64,
    timeout: u64,
    counts: &mut Counts,
) -> bool {
    if !attempt.resend && now < attempt.deadline {
        return false;
    }
    if !attempt.resend {
        // Timed out: the server may be down or cut off; try the next one.
        counts.timeouts += 1;
        *leader = next_server(reachable, attempt.server);
    }
    attempt.resend = false;
    attempt.server = *leader;
    attempt.deadline = now + timeout;
    true
}

/// The server after `server` among `servers`, round the ring.
fn next_server(servers: &[NodeId], server: NodeId) -> NodeId {
    let after = servers.iter().position(|&s| s == server).map_or(0, |at| at + 1);
    servers[after % servers.len()]
}
