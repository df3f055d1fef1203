//! Crashes, restarts and hostile networks, in whole clusters (§5.1, §5.4, §5.5, Figure 8).
//!
//! With the intent of the classic lab's persistence tests: everyone crashes and restarts; the
//! leader and a follower crash at once; partitioned subsets crash and come back; Figure 8 (many
//! rounds of leader crashes while proposing), reliable and on an unreliable network with long
//! reordering; agreement on an unreliable network; churn. Every test runs over
//! `harness::seeds()`, with the harness's checks after every event, including the restart
//! check: a node must come back with exactly the term, vote and log it had.

use data_structures::{
    AppendEntriesReply, Index, Message, PersistentState, RequestVote, RequestVoteReply, Role,
    StorageWrite, Term,
};
use harness::seeds::story_seeds;
use harness::{
    Applied, Client, Cluster, Config, Envelope, MessageFault, NetworkConfig, Node, NodeId,
    NotLeader, Persist, Replicate, Rng, Status, seeds,
};
use safety::RaftNode;

#[path = "../../03-replication/tests/leading/mod.rs"]
mod leading;

/// The stage's node, with the invariants `replication.rs` states checked after every input
/// (stage 3's `tests/leading/mod.rs`).
type Checked = leading::Checked<RaftNode>;

impl leading::Inspect for RaftNode {
    fn whole_state(&self) -> &data_structures::State {
        self.state()
    }
}

/// `Config::default()`'s election timeout base T: timeouts are drawn from `[T, 2T)`.
const T: u64 = 20;

fn cluster(nodes: usize, seed: u64) -> Cluster<Checked> {
    Cluster::<Checked>::new(nodes, seed).with_disks()
}

fn unreliable(nodes: usize, seed: u64) -> Cluster<Checked> {
    let network = NetworkConfig::unreliable();
    Cluster::<Checked>::with_config(nodes, seed, Config::default(), network).with_disks()
}

/// Crashes node `id` and brings it straight back from its disk (the lab's `start1`).
fn reboot(cluster: &mut Cluster<Checked>, id: NodeId) {
    if cluster.is_up(id) {
        cluster.crash(id);
    }
    cluster.restart(id);
}

/// `(leader + offset - 1) % n + 1`: the lab's `(leader + offset) % servers`, for ids from 1.
fn after(cluster: &Cluster<Checked>, leader: NodeId, offset: u64) -> NodeId {
    let n = cluster.ids().len() as NodeId;
    (leader - 1 + offset) % n + 1
}

/// A RequestVote of `term` from candidate `from`, whose log ends at `last` = (index, term).
fn request_vote(term: Term, from: NodeId, last: (Index, Term)) -> Message {
    let (last_log_index, last_log_term) = last;
    Message::RequestVote(RequestVote { term, candidate_id: from, last_log_index, last_log_term })
}

/// A vote granted in a term the voter already knew survives its crash (§5.2, Figure 2:
/// `votedFor` is persistent state): a node can learn a term without voting in it, from a
/// candidate it refuses, and only then grant its vote, in that same term, to a second
/// candidate. That vote changes `voted_for` alone, and must be written before the reply leaves;
/// the harness's restart check then finds it after a crash. Here two candidates of one term
/// ask one follower in turn, the first with a log behind its own (their requests, held back in
/// the network, are handed to it as they arrive), then the follower crashes and restarts.
#[test]
fn a_vote_granted_in_a_term_the_voter_knew_survives_a_crash() {
    for seed in story_seeds() {
        let mut cluster = cluster(3, seed);
        cluster.one("c1".to_string(), 3, true);
        let leader = cluster.check_one_leader();
        let (voter, stale) = (after(&cluster, leader, 1), after(&cluster, leader, 2));
        let term = cluster.status(leader).term + 1;
        let log = &cluster.node(leader).state().log;
        let up_to_date = (log.last_index(), log.last_term());
        cluster.deliver(voter, stale, request_vote(term, stale, (0, 0)));
        let refused = cluster.status(voter).voted_for;
        cluster.ensure_story(cluster.status(voter).term == term && refused.is_none(), || {
            format!(
                "n{voter} should be in term {term} without a vote after refusing n{stale}'s \
                 empty log, it is in term {} with vote {refused:?}",
                cluster.status(voter).term
            )
        });
        cluster.deliver(voter, leader, request_vote(term, leader, up_to_date));
        let granted = cluster.status(voter).voted_for;
        cluster.ensure(granted == Some(leader), || {
            format!(
                "n{voter}, in term {term} without a vote, should grant it to n{leader}, whose \
                 log is as up to date as its own; its vote is {granted:?} (§5.2, §5.4.1)"
            )
        });
        // The restart check compares the restarted node's vote with this one.
        reboot(&mut cluster, voter);
        cluster.one("c2".to_string(), 3, true);
    }
}

/// Every node crashes and restarts, then a single node at a time: committed entries survive,
/// and the cluster goes on agreeing (§5.1: persistent state survives a crash).
#[test]
fn everyone_crashes_and_restarts_and_the_log_survives() {
    for seed in seeds() {
        let mut cluster = cluster(3, seed);
        cluster.one("11".to_string(), 3, true);
        for id in cluster.ids() {
            reboot(&mut cluster, id);
        }
        cluster.one("12".to_string(), 3, true);
        let leader1 = cluster.check_one_leader();
        cluster.disconnect(leader1);
        reboot(&mut cluster, leader1);
        cluster.connect(leader1);
        cluster.one("13".to_string(), 3, true);
        let leader2 = cluster.check_one_leader();
        cluster.disconnect(leader2);
        cluster.one("14".to_string(), 2, true);
        reboot(&mut cluster, leader2);
        cluster.connect(leader2);
        let caught_up = cluster.run_until(10 * T, |c| c.committed_count(4).0 == 3);
        cluster.ensure(caught_up, || format!("n{leader2} did not catch up on index 4"));
        let leader3 = cluster.check_one_leader();
        let other = after(&cluster, leader3, 1);
        cluster.disconnect(other);
        cluster.one("15".to_string(), 2, true);
        reboot(&mut cluster, other);
        cluster.connect(other);
        cluster.one("16".to_string(), 3, true);
    }
}

/// The leader and followers crash in changing combinations, leaving a bare majority up:
/// agreement goes on every time (§5.1, §5.4).
#[test]
fn leader_and_followers_crash_together() {
    for seed in seeds() {
        let mut cluster = cluster(5, seed);
        let mut index = 1;
        for _ in 0..5 {
            cluster.one(format!("{}", 10 + index), 5, true);
            index += 1;
            let leader = cluster.check_one_leader();
            cluster.disconnect(after(&cluster, leader, 1));
            cluster.disconnect(after(&cluster, leader, 2));
            cluster.one(format!("{}", 10 + index), 3, true);
            index += 1;
            for offset in [0, 3, 4] {
                cluster.disconnect(after(&cluster, leader, offset));
            }
            for offset in [1, 2] {
                let id = after(&cluster, leader, offset);
                reboot(&mut cluster, id);
                cluster.connect(id);
            }
            cluster.run_for(2 * T);
            let id = after(&cluster, leader, 3);
            reboot(&mut cluster, id);
            cluster.connect(id);
            cluster.one(format!("{}", 10 + index), 3, true);
            index += 1;
            cluster.connect(after(&cluster, leader, 4));
            cluster.connect(leader);
        }
        cluster.one("1000".to_string(), 5, true);
    }
}

/// A partitioned node keeps what it had while the leader and another node crash; the crashed
/// ones come back from their disks and everyone agrees again (§5.1, §5.4).
#[test]
fn partitioned_nodes_crash_and_come_back() {
    for seed in seeds() {
        let mut cluster = cluster(3, seed);
        cluster.one("101".to_string(), 3, true);
        let leader = cluster.check_one_leader();
        let (first, second) = (after(&cluster, leader, 1), after(&cluster, leader, 2));
        cluster.disconnect(second);
        cluster.one("102".to_string(), 2, true);
        cluster.crash(leader);
        cluster.crash(first);
        cluster.connect(second);
        cluster.restart(leader);
        cluster.one("103".to_string(), 2, true);
        cluster.restart(first);
        cluster.one("104".to_string(), 3, true);
    }
}

/// Figure 8: leaders crash right after taking proposals, again and again, so that entries of
/// old terms sit on some servers uncommitted when new leaders come. A leader that commits an
/// old term's entry by counting replicas loses committed entries here; the harness's checks
/// (Leader Completeness, State Machine Safety) watch every event (§5.4.2).
#[test]
fn figure_8_leaders_crash_while_proposing() {
    for seed in seeds() {
        figure_8(cluster(5, seed), seed, false);
    }
}

/// Figure 8 on an unreliable network, and from the 40th round on with replies held back long
/// enough to arrive after whole elections (§5.4.2, §5.5).
#[test]
fn figure_8_on_an_unreliable_network_with_long_reordering() {
    for seed in seeds() {
        figure_8(unreliable(5, seed), seed, true);
    }
}

/// Rounds of: propose to every live node, wait a short or a long while, crash the leader that
/// took the proposal, and keep at least three nodes up. Then everyone comes back, and one
/// command must be applied by all five.
fn figure_8(mut cluster: Cluster<Checked>, seed: u64, long_reordering: bool) {
    let mut rng = cluster.fork_rng(3).fork(8);
    cluster.one(format!("f8-{seed}-start"), 1, true);
    for round in 0..100 {
        if long_reordering && round == 40 {
            cluster.set_network(NetworkConfig {
                max_hold_back: Some(4 * T),
                ..NetworkConfig::unreliable()
            });
            cluster.set_message_fault(MessageFault {
                name: "replies held back",
                matches: is_reply,
                loss: 0.0,
                extra_delay: (0, 2 * T),
            });
        }
        let mut leader = None;
        for id in cluster.ids() {
            if cluster.is_up(id) && cluster.propose(id, format!("f8-{seed}-{round}-{id}")).is_ok() {
                leader = Some(id);
            }
        }
        let pause = if rng.chance(0.1) { rng.range(0, T / 2) } else { rng.range(0, 3) };
        cluster.run_for(pause);
        if let Some(id) = leader {
            cluster.crash(id);
        }
        let up = cluster.ids().into_iter().filter(|&id| cluster.is_up(id)).count();
        if up < 3 {
            let id = rng.range(1, 6);
            if !cluster.is_up(id) {
                cluster.restart(id);
            }
        }
    }
    cluster.clear_message_faults();
    cluster.set_network(NetworkConfig::reliable());
    for id in cluster.ids() {
        if !cluster.is_up(id) {
            cluster.restart(id);
        }
    }
    cluster.one(format!("f8-{seed}-end"), 5, true);
}

fn is_reply(message: &Message) -> bool {
    matches!(
        message,
        Message::AppendEntriesReply(AppendEntriesReply { .. })
            | Message::RequestVoteReply(RequestVoteReply { .. })
    )
}

/// Agreement on a network that loses, duplicates and reorders messages, with several clients
/// at once; then on a reliable one, by everybody (§5.3, §5.5: RPCs are idempotent).
#[test]
fn agreement_on_an_unreliable_network() {
    for seed in seeds() {
        let mut cluster = unreliable(5, seed);
        for round in 0..10 {
            let mut clients: Vec<Client<String>> =
                (0..4).map(|i| Client::new(format!("u{round}-{i}"), 1, true)).collect();
            cluster.run_clients(&mut clients);
            cluster.one(format!("u{round}"), 1, true);
        }
        cluster.set_network(NetworkConfig::reliable());
        cluster.one("100".to_string(), 5, true);
    }
}

/// Churn: clients keep proposing while nodes crash, restart, disconnect and reconnect at
/// random. Every command a client saw committed is, once the cluster heals, committed exactly
/// once, at the index the client was told (§5.4.3, §8).
#[rstest::rstest]
fn churn_loses_no_acknowledged_command(#[values(false, true)] lossy: bool) {
    let (mut total, mut runs) = (0, 0);
    for seed in seeds() {
        let mut cluster = if lossy { unreliable(5, seed) } else { cluster(5, seed) };
        let mut rng = cluster.fork_rng(3).fork(9);
        let mut next = 0;
        let fresh = |next: &mut u64| {
            *next += 1;
            Client::new(format!("churn-{seed}-{next}"), 1, false)
        };
        let mut clients: Vec<Client<String>> = (0..3).map(|_| fresh(&mut next)).collect();
        let mut acknowledged = Vec::new();
        for _ in 0..600 {
            churn(&mut cluster, &mut rng);
            for client in &mut clients {
                match client.poll(&mut cluster) {
                    Some(Ok(index)) => acknowledged.push((index, client.command().clone())),
                    Some(Err(_)) => {} // not acknowledged: it may or may not be committed
                    None => continue,
                }
                *client = fresh(&mut next);
            }
            cluster.tick();
        }
        cluster.heal();
        cluster.set_network(NetworkConfig::reliable());
        for id in cluster.ids() {
            if !cluster.is_up(id) {
                cluster.restart(id);
            }
        }
        let last = cluster.one(format!("churn-{seed}-end"), 5, true);
        total += acknowledged.len();
        runs += 1;
        for (index, command) in &acknowledged {
            let (_, at) = cluster.committed_count(*index);
            cluster.ensure(at.as_ref() == Some(command), || {
                format!("{command} was acknowledged at index {index}, which now holds {at:?}")
            });
            let copies = (1..=last)
                .filter(|&i| cluster.committed_count(i).1.as_ref() == Some(command))
                .count();
            cluster.ensure(copies == 1, || format!("{command} is committed {copies} times"));
        }
    }
    // A single run may see no command through (the churn can keep a majority apart for its
    // whole 600 ticks); over several runs, clients must get through, or the test proves little.
    if runs >= 5 {
        assert!(
            total >= 5 * runs,
            "only {total} commands were acknowledged in {runs} runs of churn: the clients never \
             got through, so nothing was checked"
        );
    }
}

/// One churn event, now and then: a crash (keeping three nodes up), a restart, a disconnect
/// or a reconnect.
fn churn(cluster: &mut Cluster<Checked>, rng: &mut Rng) {
    if !rng.chance(0.05) {
        return;
    }
    let id = rng.range(1, 6);
    let up = cluster.ids().into_iter().filter(|&n| cluster.is_up(n)).count();
    match rng.range(0, 4) {
        0 if cluster.is_up(id) && up > 3 => cluster.crash(id),
        0 | 1 if !cluster.is_up(id) => cluster.restart(id),
        2 => cluster.disconnect(id),
        _ => cluster.connect(id),
    }
}

// ---------------------------------------------------------------------------------------------
// Figure 8, scripted: the harness names the mistake it is about.

/// The node of this stage, with the mistake of Figure 8 (c): as leader it also counts an entry
/// of an earlier term as committed once a majority stores it. Everything else is the node's.
struct CountsReplicas {
    node: RaftNode,
    /// The commit index it believes, counting replicas of any term (volatile).
    counted: Index,
    /// The last index handed out to apply.
    applied: Index,
}

impl CountsReplicas {
    fn commit_index(&self) -> Index {
        self.node.status().commit_index.max(self.counted)
    }

    /// The largest index stored on a majority, whatever its term: the mistake.
    fn count(&mut self) {
        if let Role::Leader { match_index, .. } = &self.node.state().role {
            let mut stored: Vec<Index> = match_index.values().copied().collect();
            stored.push(self.node.state().log.last_index());
            stored.sort_unstable_by(|a, b| b.cmp(a));
            self.counted = self.counted.max(stored[stored.len() / 2]);
        }
    }
}

impl Node for CountsReplicas {
    type Message = Message;
    type Command = String;

    fn new(id: NodeId, peers: Vec<NodeId>, config: Config, rng: Rng) -> Self {
        CountsReplicas { node: RaftNode::new(id, peers, config, rng), counted: 0, applied: 0 }
    }
    fn id(&self) -> NodeId {
        self.node.id()
    }
    fn tick(&mut self) {
        self.node.tick();
        self.count();
    }
    fn step(&mut self, from: NodeId, message: Message) {
        self.node.step(from, message);
        self.count();
    }
    fn take_messages(&mut self) -> Vec<Envelope<Message>> {
        self.node.take_messages()
    }
    fn status(&self) -> Status {
        Status { commit_index: self.commit_index(), ..self.node.status() }
    }
    fn log_entry(&self, index: Index) -> Option<(Term, &String)> {
        self.node.log_entry(index)
    }
}

impl Replicate for CountsReplicas {
    fn propose(&mut self, command: String) -> Result<(Index, Term), NotLeader> {
        let result = self.node.propose(command);
        self.count();
        result
    }
    fn take_committed(&mut self) -> Vec<Applied<String>> {
        self.node.take_committed();
        let upto = self.commit_index();
        let log = &self.node.state().log;
        let applied = (self.applied + 1..=upto).map(|index| {
            let entry = log.entry(index).expect("committed entries are in the log");
            Applied { index, term: entry.term, command: entry.command.clone() }
        });
        let applied: Vec<_> = applied.collect();
        self.applied = upto.max(self.applied);
        applied
    }
}

impl Persist for CountsReplicas {
    type State = PersistentState;
    type Write = StorageWrite;
    fn take_persist(&mut self) -> Vec<StorageWrite> {
        self.node.take_persist()
    }
    fn apply_write(state: &mut PersistentState, write: StorageWrite) {
        RaftNode::apply_write(state, write);
    }
    fn restart(
        id: NodeId,
        peers: Vec<NodeId>,
        config: Config,
        rng: Rng,
        state: PersistentState,
    ) -> Self {
        let node = RaftNode::restart(id, peers, config, rng, state);
        CountsReplicas { node, counted: 0, applied: 0 }
    }
}

/// The story of Figure 8, played on five servers: (a) leader `a` stores an entry at index 2
/// on itself and one follower only; (b) `a` crashes, `s5` is elected by the three others and
/// takes another entry at index 2, then crashes; (c) `a` restarts, `a` or its follower is
/// elected and copies its index 2 to a majority; (d) that leader crashes and `s5`, whose last
/// term is the highest, is elected and overwrites index 2 everywhere it can. With
/// `proposes_in_c`, the leader of (c) also takes a proposal of its own term as the others store
/// its index 2, and the proposal reaches none of them: its log ends in its own term while the
/// old entry is on a majority. Returns the cluster and the commit index of the leader of (c)
/// once a majority stored its index 2.
fn figure_8_story<N>(seed: u64, proposes_in_c: bool) -> (Cluster<N>, Index)
where
    N: Replicate<Command = String> + Persist + 'static,
{
    let mut cluster = Cluster::<N>::new(5, seed).with_disks();
    cluster.one("x".to_string(), 5, false);
    let a = cluster.check_one_leader();
    let others: Vec<NodeId> = cluster.ids().into_iter().filter(|&id| id != a).collect();
    let (b, rest) = (others[0], others[1..].to_vec());
    // (a) Only a and b talk: a's new entry reaches b alone.
    cluster.partition(&[&[a, b]]);
    let _ = cluster.propose(a, "from a".to_string());
    let stored = cluster.run_until(4 * T, |c| c.status(b).last_log_index == 2);
    cluster.ensure(stored, || format!("n{b} should have n{a}'s index 2"));
    // (b) a crashes; the other three elect s5, which takes an entry it never sends.
    cluster.crash(a);
    cluster.partition(&[&rest]);
    let s5 = cluster.check_one_leader();
    cluster.isolate(s5);
    let _ = cluster.propose(s5, "from s5".to_string());
    cluster.crash(s5);
    // (c) a comes back; a or b (the only ones with index 2) leads and copies it to the others.
    cluster.restart(a);
    let pair: Vec<NodeId> = rest.iter().copied().filter(|&id| id != s5).collect();
    cluster.partition(&[&[a, b, pair[0], pair[1]]]);
    let leader = cluster.check_one_leader();
    let copied =
        cluster.run_until(10 * T, |c| pair.iter().all(|&id| c.status(id).last_log_index == 2));
    cluster.ensure(copied, || format!("n{leader} should have copied index 2 to {pair:?}"));
    if proposes_in_c {
        for &id in &pair {
            cluster.cut(leader, id);
        }
        let proposed = cluster.propose(leader, "from the leader of (c)".to_string());
        cluster.ensure(proposed.is_ok(), || format!("n{leader} should lead, got {proposed:?}"));
    }
    cluster.run_for(4);
    let commit_in_c = cluster.status(leader).commit_index;
    // (d) The leader crashes; s5 comes back with the two nodes that cannot outvote it.
    cluster.crash(leader);
    cluster.restart(s5);
    cluster.partition(&[&[s5, pair[0], pair[1]]]);
    let winner = cluster.check_one_leader();
    cluster.ensure(winner == s5, || format!("only n{s5} can win here, n{winner} did"));
    // Until s5's index 2 reaches both, a node with n{a}'s index 2 could still win once the
    // network heals: that is the other future of Figure 8, (e), not this one.
    let term_of_s5 = |c: &Cluster<N>, id| c.node(id).log_entry(2).map(|(term, _)| term);
    let overwritten = cluster
        .run_until(10 * T, |c| pair.iter().all(|&id| term_of_s5(c, id) == term_of_s5(c, s5)));
    cluster.ensure(overwritten, || format!("n{s5} should have overwritten index 2 on {pair:?}"));
    cluster.heal();
    for id in cluster.ids() {
        if !cluster.is_up(id) {
            cluster.restart(id);
        }
    }
    cluster.one("end".to_string(), 5, true);
    (cluster, commit_in_c)
}

/// Figure 8, scripted: the leader of (c) does not commit the entry of term 2 although a
/// majority stores it, so when s5 overwrites it in (d) nothing committed is lost; nor when it
/// takes a proposal of its own term as the old entry is acknowledged, so that its log ends in
/// its own term: the entry at the index a majority stores is still of term 2 (§5.4.2).
#[rstest::rstest]
fn figure_8_scripted_the_old_entry_is_not_committed_by_counting(
    #[values(false, true)] proposes_in_c: bool,
) {
    for seed in seeds() {
        let (cluster, commit_in_c) = figure_8_story::<Checked>(seed, proposes_in_c);
        // 1 if it knew index 1 committed, 0 if it has just restarted (commit_index is volatile).
        cluster.ensure(commit_in_c < 2, || {
            format!(
                "the leader of (c) had commit_index {commit_in_c}: it committed index 2, an \
                 entry of an earlier term, by counting replicas (§5.4.2)"
            )
        });
        let (_, at_two) = cluster.committed_count(2);
        cluster.ensure(at_two.as_deref() == Some("from s5"), || {
            format!("index 2 should hold s5's entry in the end, it holds {at_two:?}")
        });
    }
}

/// The same story with a node that commits an earlier term's entry by counting replicas: the
/// harness catches it and names the broken property, on every seed (§5.4.2, §5.4).
#[test]
fn figure_8_scripted_counting_replicas_is_caught_and_named() {
    for seed in seeds() {
        let failure = std::panic::catch_unwind(|| {
            figure_8_story::<CountsReplicas>(seed, false);
        });
        let payload = match failure {
            Ok(()) => panic!("seed {seed}: committing by counting replicas went unnoticed"),
            Err(payload) => payload,
        };
        let report = payload.downcast_ref::<String>().cloned().unwrap_or_default();
        if !report.contains(" violated: ") {
            // Not a broken rule but, say, a panic in the node (a todo!() of yours): as it is.
            std::panic::resume_unwind(payload);
        }
        assert!(
            report.contains("Leader Completeness (§5.4) violated"),
            "seed {seed}: the report should name Leader Completeness:\n{report}"
        );
    }
}
