//! Simulated clients of a replicated service, on the cluster's clock (§6.2, §6.3).
//!
//! Each client does one operation at a time, as the classic lab's clerk does: it sends the
//! request to the server it believes leads, waits up to `timeout` ticks, and on a timeout, or
//! an answer "not leader", tries again at the hinted leader or else the next server, with the
//! *same* client id and sequence number, until an answer comes. The service must then apply
//! the operation once however many copies reach it (§6.3: sessions). Every operation goes into
//! the [`History`] with its call and return ticks.
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
    /// A reply from server `from` on its way to its client.
    Reply { from: NodeId, reply: Reply<Output> },
}

/// One operation a client is waiting for.
#[derive(Clone, Debug)]
struct Waiting<Op> {
    seq: u64,
    op: Op,
    /// Its place in the history.
    place: usize,
    /// The server asked last, and the tick after which the client gives up on it.
    server: NodeId,
    deadline: u64,
    /// Set when the client should send again now (an answer said "not leader").
    resend: bool,
}

/// One client.
#[derive(Clone, Debug)]
struct Client<Op> {
    id: ClientId,
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
            None => cluster.fail(&format!("client c{client}: {op:?} was refused")),
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

    /// A reply reached its client at tick `now`: an answer to the operation it waits for ends
    /// it or sends it elsewhere; any other (a late one, a duplicate) is ignored.
    fn receive(&mut self, now: u64, from: NodeId, reply: Reply<Output>) {
        let index = reply.client as usize - 1;
        let Some(client) = self.clients.get_mut(index) else { return };
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
                client.leader = match leader_hint {
                    Some(hint) if hint != from && client.reachable.contains(&hint) => hint,
                    _ => next_server(&client.reachable, from),
                };
                // Without a hint, no leader is known: wait a little before the next try.
                if leader_hint.is_some() {
                    waiting.resend = true;
                } else {
                    waiting.deadline = now + 2;
                }
            }
            Answer::Refused(why) => {
                self.counts.refused += 1;
                self.refusals.push((client.id, reply.seq, why));
                client.waiting = None;
            }
        }
    }

    /// Client `index` sends if it has to: a new operation, a retry after a timeout, or a
    /// retry after "not leader".
    fn maybe_send(&mut self, index: usize, now: u64) {
        let timeout = self.link.timeout;
        let client = &mut self.clients[index];
        let request = match client.waiting.as_mut() {
            Some(waiting) if waiting.resend || now >= waiting.deadline => {
                if !waiting.resend {
                    // Timed out: the server may be down or cut off; try the next one.
                    self.counts.timeouts += 1;
                    client.leader = next_server(&client.reachable, waiting.server);
                }
                waiting.resend = false;
                waiting.server = client.leader;
                waiting.deadline = now + timeout;
                self.history.retried(waiting.place);
                Request { client: client.id, seq: waiting.seq, op: waiting.op.clone() }
            }
            Some(_) => return,
            None => {
                let Some(op) = client.queue.pop_front() else { return };
                client.seq += 1;
                let place = self.history.call(client.id, client.seq, now, op.clone());
                client.waiting = Some(Waiting {
                    seq: client.seq,
                    op: op.clone(),
                    place,
                    server: client.leader,
                    deadline: now + timeout,
                    resend: false,
                });
                Request { client: client.id, seq: client.seq, op }
            }
        };
        let to = client.leader;
        self.counts.requests += 1;
        self.put(now, Packet::Request { to, request });
    }
}

/// The server after `server` among `servers`, round the ring.
fn next_server(servers: &[NodeId], server: NodeId) -> NodeId {
    let after = servers.iter().position(|&s| s == server).map_or(0, |at| at + 1);
    servers[after % servers.len()]
}
