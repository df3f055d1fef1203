//! Snapshots in whole clusters (§7), with the intent of the classic lab's snapshot tests.
//!
//! The cluster plays the service: a state machine runs beside every node, and each node is
//! asked to compact its log every `EVERY` applied entries (`Cluster::compact_every`). The
//! harness checks after every event that a snapshot holds committed entries only, that a
//! snapshot handed to a state machine is exactly the state after the commands applied through
//! its index, that nothing is applied twice or out of order, and that a restarted node comes
//! back with the snapshot it had. Every test runs over `harness::seeds()` and bounds what each
//! node keeps on disk.

use data_structures::{Message, Role};
use harness::seeds::story_seeds;
use harness::{Cluster, Config, Index, MessageFault, NetworkConfig, NodeId, seeds};
use snapshots::RaftNode;

/// Every node compacts its log once it applied this many entries past its snapshot.
const EVERY: u64 = 10;
/// The most a node may keep on disk, in bytes of JSON, when it compacts every `EVERY` entries:
/// a term, a vote, a 16-byte snapshot and the entries after it (at most 342 bytes seen over 200
/// seeds). Without snapshots the tests' logs of 40 to 61 entries take 1,100 to 1,700 bytes.
const MAX_PERSISTED: usize = 1_000;

fn cluster(nodes: usize, seed: u64) -> Cluster<RaftNode> {
    compacting(Cluster::<RaftNode>::new(nodes, seed))
}

fn unreliable(nodes: usize, seed: u64) -> Cluster<RaftNode> {
    let network = NetworkConfig::unreliable();
    compacting(Cluster::<RaftNode>::with_config(nodes, seed, Config::default(), network))
}

fn compacting(cluster: Cluster<RaftNode>) -> Cluster<RaftNode> {
    let mut cluster = cluster.with_disks();
    cluster.compact_every(EVERY);
    cluster
}

/// Commits `count` commands numbered from `first`, each on `expected` nodes.
fn commit(cluster: &mut Cluster<RaftNode>, first: u64, count: u64, expected: usize) {
    for n in first..first + count {
        cluster.one(format!("c{n}"), expected, true);
    }
}

/// No node keeps more than `MAX_PERSISTED` bytes on disk, and each compacted its log.
fn check_bounded(cluster: &mut Cluster<RaftNode>) {
    for id in cluster.ids() {
        let (bytes, snapshot) = (cluster.persisted_bytes(id), cluster.status(id).snapshot_index);
        cluster.ensure(bytes <= MAX_PERSISTED && snapshot > 0, || {
            format!(
                "n{id} keeps {bytes} bytes on disk (at most {MAX_PERSISTED} expected) with its \
                 log starting after index {snapshot}: a node compacts when asked, and its disk \
                 holds the snapshot and the log after it only (§7)"
            )
        });
    }
}

/// How many InstallSnapshot node `id` received.
fn installs_received(cluster: &Cluster<RaftNode>, id: NodeId) -> u64 {
    cluster.stats().received_by(id, "InstallSnapshot")
}

/// Snapshots while every node is up and connected: each node compacts on its own as it
/// applies, logs and disks stay short, and every state machine agrees (§7: "each server takes
/// snapshots independently"). A follower whose acknowledgement is still on its way when the
/// leader compacts may get an InstallSnapshot even here, which is correct.
#[test]
fn every_node_compacts_on_its_own_as_it_applies() {
    for seed in seeds() {
        let mut cluster = cluster(3, seed);
        commit(&mut cluster, 1, 60, 3);
        check_bounded(&mut cluster);
    }
}

/// A follower disconnected while the others compact past what it has is repaired with an
/// InstallSnapshot, then entries (§7), on a reliable and on an unreliable network.
#[test]
fn a_disconnected_follower_is_repaired_with_a_snapshot() {
    for seed in seeds() {
        repaired_with_a_snapshot(cluster(3, seed), Away::Disconnected);
        repaired_with_a_snapshot(unreliable(3, seed), Away::Disconnected);
    }
}

/// A follower that crashed while the others compacted restarts behind their snapshots, and is
/// repaired with an InstallSnapshot (§7).
#[test]
fn a_crashed_follower_is_repaired_with_a_snapshot() {
    for seed in seeds() {
        repaired_with_a_snapshot(cluster(3, seed), Away::Crashed);
    }
}

/// How a follower misses 40 commands.
enum Away {
    Disconnected,
    Crashed,
}

/// A follower misses 40 commands while the others compact every `EVERY`; when it is back, the
/// next commands reach it, and it must have received an InstallSnapshot on the way.
fn repaired_with_a_snapshot(mut cluster: Cluster<RaftNode>, away: Away) {
    commit(&mut cluster, 1, 5, 3);
    let leader = cluster.check_one_leader();
    let behind = leader % 3 + 1;
    match away {
        Away::Disconnected => cluster.disconnect(behind),
        Away::Crashed => cluster.crash(behind),
    }
    commit(&mut cluster, 6, 40, 2);
    match away {
        Away::Disconnected => cluster.connect(behind),
        Away::Crashed => cluster.restart(behind),
    }
    commit(&mut cluster, 46, 5, 3);
    let installs = installs_received(&cluster, behind);
    cluster.ensure(installs > 0, || {
        format!(
            "n{behind} caught up without an InstallSnapshot, though the others compacted past \
             its log (§7)"
        )
    });
    check_bounded(&mut cluster);
}

/// Every node crashes and restarts, again and again, between commits: every one comes back
/// with its snapshot (the restart check), the committed log only grows, and the state machines
/// resume from their snapshots (§7).
#[test]
fn every_node_crashes_and_restarts_repeatedly() {
    for seed in seeds() {
        let mut cluster = cluster(3, seed);
        let mut next = 1;
        for _ in 0..5 {
            commit(&mut cluster, next, 12, 3);
            next += 12;
            for id in cluster.ids() {
                cluster.crash(id);
            }
            for id in cluster.ids() {
                cluster.restart(id);
            }
        }
        commit(&mut cluster, next, 1, 3);
        check_bounded(&mut cluster);
    }
}

/// Restart, write, restart: a restarted node serves from its snapshot, so what it writes next
/// and sends next still holds everything; one that forgot to reload the snapshot would lose
/// it (§7, the classic lab's "snapshot init").
#[test]
fn restart_write_restart_keeps_the_snapshot() {
    for seed in seeds() {
        let mut cluster = cluster(3, seed);
        commit(&mut cluster, 1, 25, 3);
        for round in 0..2 {
            for id in cluster.ids() {
                cluster.crash(id);
            }
            for id in cluster.ids() {
                cluster.restart(id);
            }
            commit(&mut cluster, 26 + round, 1, 3);
        }
        check_bounded(&mut cluster);
    }
}

/// A follower that stays behind while the leader compacts, then loses the new leader's first
/// messages: the snapshot is sent again until it lands, and a duplicated or late one changes
/// nothing (§7, Figure 13).
#[test]
fn snapshots_survive_loss_duplication_and_reordering() {
    for seed in seeds() {
        let mut cluster = unreliable(5, seed);
        commit(&mut cluster, 1, 3, 5);
        let leader = cluster.check_one_leader();
        let behind = [leader % 5 + 1, (leader + 1) % 5 + 1];
        for id in behind {
            cluster.crash(id);
        }
        commit(&mut cluster, 4, 30, 3);
        for id in behind {
            cluster.restart(id);
        }
        commit(&mut cluster, 34, 3, 5);
        check_bounded(&mut cluster);
    }
}

/// How many messages of `kind` to node `id` are on their way.
fn in_flight(cluster: &Cluster<RaftNode>, id: NodeId, kind: &str) -> u64 {
    let counts = cluster.stats().to_node(id).kind(kind);
    counts.sent + counts.duplicated - counts.delivered - counts.dropped
}

/// The `next_index` of `leader` for `peer` (0 if it no longer leads).
fn next_index(cluster: &Cluster<RaftNode>, leader: NodeId, peer: NodeId) -> Index {
    match &cluster.node(leader).state().role {
        Role::Leader { next_index, .. } => next_index[&peer],
        _ => 0,
    }
}

/// The `match_index` of `leader` for `peer` (0 if it no longer leads).
fn match_index(cluster: &Cluster<RaftNode>, leader: NodeId, peer: NodeId) -> Index {
    match &cluster.node(leader).state().role {
        Role::Leader { match_index, .. } => match_index[&peer],
        _ => 0,
    }
}

fn is_append_entries(message: &Message) -> bool {
    matches!(message, Message::AppendEntries(_))
}

fn is_install_snapshot(message: &Message) -> bool {
    matches!(message, Message::InstallSnapshot(_))
}

/// Extra ticks for every AppendEntries: fewer than an election timeout minus a heartbeat, so
/// followers do not time out, but enough that some are always on their way.
const SLOW: u64 = 10;
/// Extra ticks for every InstallSnapshot: long enough for the follower to catch up first.
const HELD_BACK: u64 = 100;

/// An InstallSnapshot the network held back arrives after its follower caught up through
/// AppendEntries and committed past the snapshot: it brings nothing new, and the follower's
/// `commit_index`, log and state machine must not go back to it (§7, Figure 13; Figure 2:
/// `commit_index` never decreases).
///
/// The story, in one term: a follower with a snapshot of its own through 5 keeps receiving
/// entries, but its acknowledgements are lost (a one-way cut), so the leader, which believes
/// it still needs entry 6, compacts through 15 and sends it the snapshot, which the network
/// holds back. The cut heals: the follower's answer to an AppendEntries still on its way tells
/// the leader where it is, the leader sends it the next entries as usual, and it commits
/// through 20. Only then does the old snapshot arrive: newer than the follower's own snapshot,
/// but not past its `commit_index`. A follower that compares it with its own snapshot installs
/// it, and its `commit_index` goes down from 20 to 15 ("Commit index monotonicity"). The
/// replies to those late snapshots are late too: the leader's `match_index` for the follower
/// must not move back on them.
#[test]
fn a_held_back_snapshot_arrives_after_its_follower_committed_past_it() {
    for seed in story_seeds() {
        let mut cluster = Cluster::<RaftNode>::new(3, seed).with_disks();
        // Nodes compact only when the test asks.
        cluster.compact_every(0);
        commit(&mut cluster, 1, 5, 3);
        let leader = cluster.check_one_leader();
        let (term, behind) = (cluster.status(leader).term, leader % 3 + 1);
        cluster.compact(behind);
        cluster.cut(behind, leader);
        commit(&mut cluster, 6, 10, 2);
        let snapshot = compact_with_a_snapshot_held_back(&mut cluster, leader, behind);
        cluster.note(
            "story",
            format!(
                "n{behind}'s acknowledgements to leader n{leader} were cut; n{leader} compacted \
                 through {snapshot} and its InstallSnapshot to n{behind} is held back \
                 {HELD_BACK} ticks; n{behind} commits past {snapshot} through AppendEntries \
                 before it arrives"
            ),
        );
        cluster.connect(behind);
        cluster.story_step("the leader learns where the follower is", 20, |c| {
            next_index(c, leader, behind) > snapshot
        });
        cluster.clear_message_faults();
        commit(&mut cluster, 16, 5, 3);
        let reached = cluster.status(behind).commit_index;
        let waiting = in_flight(&cluster, behind, "InstallSnapshot");
        cluster.ensure_story(
            reached > snapshot && waiting > 0 && cluster.status(leader).term == term,
            || {
                format!(
                    "n{behind} reached commit_index {reached} in term {} (the story's is \
                     {term}), with {waiting} InstallSnapshot through {snapshot} still on its way",
                    cluster.status(behind).term
                )
            },
        );
        let matched = match_index(&cluster, leader, behind);
        cluster.story_step(
            "the held-back snapshots and their replies arrive",
            2 * HELD_BACK,
            |c| {
                in_flight(c, behind, "InstallSnapshot") == 0
                    && in_flight(c, leader, "SnapshotReply") == 0
            },
        );
        let now = cluster.status(behind).commit_index;
        cluster.ensure(now >= reached && installs_received(&cluster, behind) > 0, || {
            format!("n{behind}'s commit_index went from {reached} to {now} (§7)")
        });
        let late = match_index(&cluster, leader, behind);
        cluster.ensure(late >= matched, || {
            format!(
                "leader n{leader}'s match_index for n{behind} went back from {matched} to {late} \
                 on the replies to the held-back snapshots (through {snapshot}): a late reply \
                 never moves match_index back (Figure 2: it only increases)"
            )
        });
    }
}

/// With `behind`'s acknowledgements cut, `leader` compacts through everything it applied while
/// AppendEntries to `behind` are still on their way, and sends `behind` its snapshot, held
/// back; returns the snapshot's last index.
fn compact_with_a_snapshot_held_back(
    cluster: &mut Cluster<RaftNode>,
    leader: NodeId,
    behind: NodeId,
) -> Index {
    let slow = MessageFault {
        name: "slow",
        matches: is_append_entries,
        loss: 0.0,
        extra_delay: (SLOW, SLOW),
    };
    cluster.set_message_fault(slow);
    let commit_index = cluster.status(leader).commit_index;
    // A heartbeat later, every AppendEntries on its way is a slow one.
    cluster.run_for(cluster.config().heartbeat_interval);
    cluster.story_step("the follower learns the leader's commit_index", 2 * SLOW, |c| {
        c.status(behind).commit_index == commit_index && in_flight(c, behind, "AppendEntries") > 0
    });
    let held = MessageFault {
        name: "held back",
        matches: is_install_snapshot,
        loss: 0.0,
        extra_delay: (HELD_BACK, HELD_BACK),
    };
    cluster.set_message_fault(held);
    cluster.compact(leader);
    cluster.story_step("the leader sends its snapshot", cluster.config().heartbeat_interval, |c| {
        in_flight(c, behind, "InstallSnapshot") > 0
    });
    cluster.status(leader).snapshot_index
}

/// An InstallSnapshot comes from the leader of its term, so it restarts the election timer as
/// an AppendEntries does (§5.2, Figure 13): a follower that receives nothing but snapshots for
/// four election timeouts (its replies are lost, so the leader sends the snapshot again at every
/// heartbeat) stays in the leader's term. One that ignores them as heartbeats times out and
/// starts an election against a live leader.
#[test]
fn a_follower_hearing_only_snapshots_starts_no_election() {
    let t = Config::default().election_timeout;
    for seed in story_seeds() {
        let mut cluster = Cluster::<RaftNode>::new(3, seed).with_disks();
        cluster.compact_every(0);
        commit(&mut cluster, 1, 3, 3);
        let leader = cluster.check_one_leader();
        let (term, behind) = (cluster.status(leader).term, leader % 3 + 1);
        cluster.crash(behind);
        commit(&mut cluster, 4, 10, 2);
        cluster.compact(leader);
        cluster.cut(behind, leader);
        cluster.restart(behind);
        cluster.run_for(4 * t);
        let (now, installs) = (cluster.status(behind).term, installs_received(&cluster, behind));
        cluster.ensure(now == term, || {
            format!(
                "n{behind} moved from term {term} to term {now} while leader n{leader} sent it an \
                 InstallSnapshot at every heartbeat ({installs} in {} ticks): an InstallSnapshot \
                 of the current term comes from its leader and restarts the election timer \
                 (§5.2, Figure 13)",
                4 * t
            )
        });
        cluster.ensure_story(installs >= 4 * t / cluster.config().heartbeat_interval / 2, || {
            format!(
                "n{behind} received {installs} InstallSnapshot in {} ticks, where the leader \
                 sends one every heartbeat",
                4 * t
            )
        });
    }
}

/// Same seed, same run: the snapshots, the messages and the trace (design contract 5).
#[test]
fn snapshot_runs_are_deterministic() {
    for seed in seeds() {
        let events = harness::check_determinism(|| {
            let mut cluster = unreliable(3, seed);
            commit(&mut cluster, 1, 25, 3);
            cluster
        });
        assert!(events > 0, "the scenario of seed {seed} recorded no event");
    }
}
