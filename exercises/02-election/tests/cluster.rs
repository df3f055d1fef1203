//! Leader election in whole clusters, in the simulator (§5.1, §5.2).
//!
//! In the style of the classic lab's election tests: initial election, re-election, many
//! elections. Every test runs over `harness::seeds()` (a few seeds by default, `RAFT_SEEDS=1000`
//! for a stress pass), with the harness's safety checks (Election Safety among them) after every
//! event. A failure prints the seed, the command that replays it and a timeline of the run.

use std::collections::BTreeSet;

use election::RaftNode;
use harness::{Cluster, Config, NetworkConfig, NodeId, Role, Term, check_determinism, seeds};

/// `Config::default()`'s election timeout base T: timeouts are drawn from `[T, 2T)`.
const T: u64 = 20;

/// The leader, and its term, after the cluster has found one.
fn elect(cluster: &mut Cluster<RaftNode>) -> (NodeId, Term) {
    let leader = cluster.check_one_leader();
    (leader, cluster.status(leader).term)
}

/// Messages of `kind` (e.g. `"RequestVote"`) handed to the network so far.
fn sent(cluster: &Cluster<RaftNode>, kind: &str) -> u64 {
    cluster.stats().kinds.get(kind).map_or(0, |counts| counts.sent)
}

/// A fresh cluster elects exactly one leader, all nodes agree on its term, and with no failure
/// nothing changes for many election timeouts: heartbeats keep the followers from starting
/// elections (§5.2).
#[test]
fn initial_election_elects_one_leader_that_stays() {
    for seed in seeds() {
        let mut cluster = Cluster::<RaftNode>::new(3, seed);
        assert_eq!(cluster.config().election_timeout, T);
        let (leader, term) = elect(&mut cluster);
        cluster.run_for(T);
        cluster.ensure(cluster.check_terms() == term, || format!("terms moved from {term}"));
        for id in cluster.ids() {
            let knows = cluster.node(id).state().leader();
            cluster.ensure(knows == Some(leader), || {
                format!("n{id} should know n{leader} leads term {term}, it knows {knows:?}")
            });
        }
        cluster.run_for(50 * T);
        let (now_leader, now_term) = elect(&mut cluster);
        cluster.ensure((now_leader, now_term) == (leader, term), || {
            format!(
                "with no failure, n{leader} should still lead term {term}, found n{now_leader} \
                 in term {now_term}: did a follower time out despite heartbeats?"
            )
        });
    }
}

// ANCHOR: new_leader
/// If the leader crashes, the followers time out and elect a new leader in a newer term
/// (§5.2).
#[test]
fn new_leader_is_elected_when_the_leader_crashes() {
    for seed in seeds() {
        let mut cluster = Cluster::<RaftNode>::new(3, seed).with_disks();
        let (old, old_term) = elect(&mut cluster);
        cluster.crash(old);
        let (new, new_term) = elect(&mut cluster);
        cluster.ensure(new != old && new_term > old_term, || {
            format!("n{old} led term {old_term} and crashed; n{new} leads term {new_term}")
        });
    }
}
// ANCHOR_END: new_leader

/// If the leader is cut off from the others, they elect a new leader in a newer term; when the
/// old leader comes back, it learns the newer term from the first message it gets and steps
/// down, without disrupting the new leader (§5.1, §5.2).
#[test]
fn old_leader_rejoining_steps_down_without_disrupting() {
    for seed in seeds() {
        let mut cluster = Cluster::<RaftNode>::new(5, seed);
        let (old, old_term) = elect(&mut cluster);
        cluster.isolate(old);
        let (new, new_term) = elect(&mut cluster);
        cluster.ensure(new != old && new_term > old_term, || {
            format!("n{old} led term {old_term} and was isolated; n{new} leads term {new_term}")
        });
        cluster.heal();
        cluster.run_for(4 * T);
        let status = cluster.status(old);
        cluster.ensure(status.role == Role::Follower && status.term == new_term, || {
            format!("the old leader n{old} should follow in term {new_term}: {status:?}")
        });
        let after = elect(&mut cluster);
        cluster.ensure(after == (new, new_term), || {
            format!("n{new} should still lead term {new_term} after n{old} rejoined")
        });
    }
}

/// A candidate needs votes from a majority of the whole cluster: with only a minority
/// connected, nobody becomes leader; once a majority can talk again, one is elected (§5.2).
#[test]
fn no_leader_is_elected_without_a_majority() {
    for seed in seeds() {
        let mut cluster = Cluster::<RaftNode>::new(3, seed);
        let (leader, _) = elect(&mut cluster);
        let follower = if leader == 1 { 2 } else { 1 };
        cluster.isolate(leader);
        cluster.isolate(follower);
        cluster.run_for(20 * T);
        cluster.check_no_leader();
        cluster.heal();
        cluster.check_one_leader();
    }
}

/// The nodes of a minority partition keep trying (their terms rise) but never win; the
/// majority side elects a leader (§5.2).
#[test]
fn minority_partition_never_elects_a_leader() {
    for seed in seeds() {
        let mut cluster = Cluster::<RaftNode>::new(5, seed);
        let (leader, term) = elect(&mut cluster);
        let others: Vec<NodeId> = cluster.ids().into_iter().filter(|&id| id != leader).collect();
        let minority = [others[0], others[1]];
        let majority = [leader, others[2], others[3]];
        cluster.partition(&[&minority, &majority]);
        for _ in 0..20 * T {
            cluster.tick();
            for id in minority {
                cluster.ensure(cluster.status(id).role != Role::Leader, || {
                    format!("n{id} became leader with only {minority:?} to vote (§5.2)")
                });
            }
        }
        for id in minority {
            let minority_term = cluster.status(id).term;
            cluster.ensure(minority_term > term, || {
                format!("n{id} in the minority should keep starting elections past term {term}")
            });
        }
        let (after, _) = elect(&mut cluster);
        cluster
            .ensure(after == leader, || format!("n{leader} with a majority should keep leading"));
    }
}

/// Many elections in a seven-node cluster: again and again, three random nodes are cut off; the
/// other four always elect (or keep) a leader (the classic lab's ManyElections, §5.2).
#[test]
fn many_elections_in_a_seven_node_cluster() {
    for seed in seeds() {
        let mut cluster = Cluster::<RaftNode>::new(7, seed);
        let mut rng = cluster.fork_rng(1_000);
        cluster.check_one_leader();
        for _ in 0..10 {
            let mut ids = cluster.ids();
            for i in (1..ids.len()).rev() {
                ids.swap(i, rng.range(0, i as u64 + 1) as usize);
            }
            let (connected, cut_off) = ids.split_at(4);
            cluster.note("cut off", format!("{cut_off:?}"));
            cluster.partition(&[connected]);
            cluster.check_one_leader();
            cluster.heal();
        }
        cluster.check_one_leader();
    }
}

/// When candidates split the vote, each times out again after a new random timeout, so the
/// next round is unlikely to split: a leader is elected within a few rounds. A slow network and
/// six nodes make split votes common here; some runs must have needed more than one
/// election, and every run must end with a leader (§5.2).
#[test]
fn split_votes_resolve() {
    let slow = NetworkConfig { min_delay: 4, max_delay: 8, ..NetworkConfig::reliable() };
    // Forty fixed runs, so that some split; a report's replay (RAFT_SEED) runs just its own.
    let replay = std::env::var_os("RAFT_SEED").is_some();
    let runs: Vec<u64> = if replay { seeds() } else { (1..=40).collect() };
    let mut split = 0;
    for &seed in &runs {
        let mut cluster =
            Cluster::<RaftNode>::with_config(6, seed, Config::default(), slow.clone());
        let (_, term) = elect(&mut cluster);
        if term > 1 {
            split += 1;
        }
    }
    assert!(
        replay || split > 0,
        "no run of {} needed a second election: the test sets no split up",
        runs.len()
    );
}

/// An election costs a handful of messages: each candidacy sends one RequestVote to every
/// other node and gets at most one reply from each; a node runs at most once per term; and
/// random timeouts make a leader emerge within a few terms (the classic lab's RPC count, §5.2).
#[test]
fn election_costs_a_handful_of_messages() {
    for seed in seeds() {
        let mut cluster = Cluster::<RaftNode>::new(5, seed);
        let (leader, term) = elect(&mut cluster);
        let requests = sent(&cluster, "RequestVote");
        let replies = sent(&cluster, "VoteReply");
        let candidacies = requests / 4;
        cluster.ensure(requests % 4 == 0 && replies <= requests, || {
            format!(
                "{requests} RequestVote and {replies} replies: expected 4 requests per candidacy"
            )
        });
        // Over 2000 seeds, the first leader was elected in term 3 at the latest.
        cluster.ensure(term <= 3 && candidacies <= 5 * term, || {
            format!(
                "n{leader} won term {term} after {candidacies} candidacies: expected term 3 at \
                 most, and each of the 5 nodes a candidate at most once per term"
            )
        });
    }
}

/// A leader with nothing to do sends one heartbeat per follower every heartbeat interval, and
/// nobody starts an election: idle traffic is bounded and steady (§5.2).
#[test]
fn idle_traffic_is_one_heartbeat_per_follower_per_interval() {
    for seed in seeds() {
        let mut cluster = Cluster::<RaftNode>::new(5, seed);
        elect(&mut cluster);
        cluster.run_for(T);
        let interval = cluster.config().heartbeat_interval;
        let (votes, beats, answers) = (
            sent(&cluster, "RequestVote"),
            sent(&cluster, "AppendEntries"),
            sent(&cluster, "AppendReply"),
        );
        let ticks = 100 * interval;
        cluster.run_for(ticks);
        let new_votes = sent(&cluster, "RequestVote") - votes;
        let new_beats = sent(&cluster, "AppendEntries") - beats;
        let new_answers = sent(&cluster, "AppendReply") - answers;
        let expected = 4 * (ticks / interval);
        cluster.ensure(new_votes == 0, || format!("{new_votes} RequestVote while idle"));
        cluster.ensure(new_beats == expected && new_answers == expected, || {
            format!(
                "in {ticks} idle ticks: {new_beats} heartbeats and {new_answers} answers, \
                 expected {expected} each (4 followers, one every {interval} ticks)"
            )
        });
    }
}

/// Term and vote are persistent state: a node that crashes and restarts comes back with the
/// term and vote it had, so it cannot vote twice in a term (§5.1, Figure 2). After the whole
/// cluster restarts, the next leader is elected in a newer term.
#[test]
fn crash_and_restart_keep_term_and_vote() {
    for seed in seeds() {
        let mut cluster = Cluster::<RaftNode>::new(3, seed).with_disks();
        let (leader, term) = elect(&mut cluster);
        cluster.run_for(T);
        let mut before = Vec::new();
        for id in cluster.ids() {
            before.push((id, cluster.status(id).term, cluster.status(id).voted_for));
            cluster.crash(id);
        }
        let mut after = Vec::new();
        for id in cluster.ids() {
            cluster.restart(id);
            after.push((id, cluster.status(id).term, cluster.status(id).voted_for));
        }
        cluster.ensure(before == after, || {
            format!("(id, term, vote) before the crash {before:?}, after the restart {after:?}")
        });
        let roles: BTreeSet<Role> =
            cluster.ids().iter().map(|&id| cluster.status(id).role).collect();
        cluster.ensure(roles == BTreeSet::from([Role::Follower]), || {
            format!("restarted nodes start as followers, found {roles:?}")
        });
        let (new, new_term) = elect(&mut cluster);
        cluster.ensure(new_term > term, || {
            format!("n{leader} led term {term}; after the restart n{new} leads term {new_term}")
        });
    }
}

/// The same seed gives the same run, event for event: the node reads no clock and draws no
/// randomness but from the `Rng` it was given (§5.2 randomness, made replayable).
#[test]
fn elections_are_deterministic() {
    for seed in seeds() {
        check_determinism(|| {
            let mut cluster = Cluster::<RaftNode>::new(5, seed).with_disks();
            let leader = cluster.check_one_leader();
            cluster.crash(leader);
            cluster.check_one_leader();
            cluster.restart(leader);
            cluster.run_for(5 * T);
            cluster
        });
    }
}

/// Elections still succeed on a network that loses, duplicates and reorders messages (§5.1:
/// RPCs may be lost; §5.2).
#[test]
fn leader_is_elected_on_an_unreliable_network() {
    for seed in seeds() {
        let config = Config::default();
        let mut cluster =
            Cluster::<RaftNode>::with_config(5, seed, config, NetworkConfig::unreliable());
        let (leader, _) = elect(&mut cluster);
        cluster.crash(leader);
        cluster.check_one_leader();
    }
}
