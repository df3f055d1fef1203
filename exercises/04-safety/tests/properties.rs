//! Figure 3's safety properties as checks over a snapshot of a cluster (§5.2, §5.3, §5.4).
//!
//! Each checker gets the state of every server at one instant. It must accept every snapshot
//! of a correct run, and the legal states that look alarming (two leaders of different terms,
//! logs that part after the entries they share, a stale leader that lacks newer commits); and
//! it must name its property for the states the paper rules out.

use data_structures::{Index, Log, LogEntry, NodeId, Term};
use harness::{Cluster, NetworkConfig, Rng, seeds};
use pretty_assertions::assert_eq;
use rstest::rstest;
use safety::RaftNode;
use safety::properties::{self, Property, ServerSnapshot, Violation};

// ---------------------------------------------------------------------------------------------
// Helpers: servers written tersely.

/// Entries of `terms` from index 1; the command of an entry is fixed by its index and term.
fn log_of(terms: &[Term]) -> Log {
    let entries = terms
        .iter()
        .zip(1..)
        .map(|(&term, index): (&Term, Index)| LogEntry::new(term, format!("e{index}t{term}")));
    Log::from_entries(entries.collect())
}

/// A follower `id` in `term` with a log of `terms`, nothing committed or applied.
fn server(id: NodeId, term: Term, terms: &[Term]) -> ServerSnapshot {
    ServerSnapshot {
        id,
        current_term: term,
        leader: false,
        log: log_of(terms),
        commit_index: 0,
        applied: Vec::new(),
    }
}

fn leading(mut server: ServerSnapshot) -> ServerSnapshot {
    server.leader = true;
    server
}

/// Commits and applies the first `index` entries of its log.
fn committed(mut server: ServerSnapshot, index: Index) -> ServerSnapshot {
    server.commit_index = index;
    server.applied = server.log.entries()[..index as usize].to_vec();
    server
}

/// Replaces the command of the entry at `index`, keeping its term.
fn rewritten(mut server: ServerSnapshot, index: Index) -> ServerSnapshot {
    let mut entries = server.log.entries().to_vec();
    entries[index as usize - 1].command.push_str(" (rewritten)");
    server.log = Log::from_entries(entries);
    server
}

/// One line per server: `n1 t3 leader log [1, 3] commit 2 applied 2`.
fn brief(servers: &[ServerSnapshot]) -> String {
    let lines = servers.iter().map(|s| {
        let terms: Vec<Term> = s.log.entries().iter().map(|entry| entry.term).collect();
        let role = if s.leader { "leader" } else { "follower" };
        format!(
            "\n  n{} t{} {role} log {terms:?} commit {} applied {}",
            s.id,
            s.current_term,
            s.commit_index,
            s.applied.len()
        )
    });
    lines.collect()
}

type Checker = fn(&[ServerSnapshot]) -> Result<(), Violation>;

fn checkers() -> [(Property, Checker); 4] {
    [
        (Property::ElectionSafety, properties::election_safety),
        (Property::LogMatching, properties::log_matching),
        (Property::LeaderCompleteness, properties::leader_completeness),
        (Property::StateMachineSafety, properties::state_machine_safety),
    ]
}

// ---------------------------------------------------------------------------------------------
// Legal states: every checker accepts them.

/// States a correct cluster can be in, some of which look wrong at first sight: every checker
/// must accept them (Figure 3 holds in all of them).
#[rstest]
#[case::fresh_cluster(vec![server(1, 0, &[]), server(2, 0, &[]), server(3, 0, &[])])]
#[case::leaders_of_different_terms(vec![
    leading(server(1, 2, &[1, 2])),
    leading(server(2, 3, &[1, 3])),
    server(3, 3, &[1, 3]),
])]
#[case::logs_part_after_what_they_share(vec![
    server(1, 4, &[1, 1, 2, 2]),
    server(2, 4, &[1, 1, 3]),
    server(3, 4, &[1, 1, 3, 3, 3]),
])]
#[case::figure_7_followers(vec![
    leading(server(1, 8, &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6])),
    server(2, 8, &[1, 1, 1, 4, 4, 5, 5, 6, 6]),
    server(3, 8, &[1, 1, 1, 4]),
    server(4, 8, &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6]),
    server(5, 8, &[1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]),
])]
#[case::stale_leader_lacks_newer_commits(vec![
    leading(server(1, 2, &[1, 2])),
    committed(server(2, 3, &[1, 3, 3]), 3),
    committed(leading(server(3, 3, &[1, 3, 3])), 3),
])]
#[case::follower_behind_on_applying(vec![
    committed(leading(server(1, 2, &[1, 2, 2])), 3),
    committed(server(2, 2, &[1, 2, 2]), 1),
    server(3, 2, &[1]),
])]
#[case::uncommitted_entry_of_an_old_term_replaced(vec![
    committed(leading(server(1, 4, &[1, 4])), 2),
    committed(server(2, 4, &[1, 4]), 1),
    committed(server(3, 2, &[1, 2]), 1),
])]
fn every_checker_accepts_a_legal_state(#[case] servers: Vec<ServerSnapshot>) {
    for (property, check) in checkers() {
        assert_eq!(
            check(&servers),
            Ok(()),
            "{property} rejected a legal state: {}",
            brief(&servers)
        );
    }
}

/// Snapshots taken after every tick of randomized runs of the reference, with crashes,
/// partitions and a lossy network: Figure 3 holds in all of them, and the checkers say so
/// (§5.4.3).
#[test]
fn every_checker_accepts_every_snapshot_of_a_correct_run() {
    for seed in seeds() {
        let mut cluster = Cluster::<RaftNode>::with_config(
            5,
            seed,
            Default::default(),
            NetworkConfig::unreliable(),
        )
        .with_disks();
        let mut faults = cluster.fork_rng(7);
        for tick in 0..400 {
            fault(&mut cluster, &mut faults);
            let up: Vec<NodeId> =
                cluster.ids().into_iter().filter(|&id| cluster.is_up(id)).collect();
            if tick % 3 == 0 {
                for &id in &up {
                    let _ = cluster.propose(id, format!("c{tick}"));
                }
            }
            cluster.tick();
            let servers: Vec<ServerSnapshot> = up
                .iter()
                .filter(|&&id| cluster.is_up(id))
                .map(|&id| ServerSnapshot::of(cluster.node(id)))
                .collect();
            if let Err(violation) = properties::check(&servers) {
                cluster.fail(&format!("the checkers rejected a correct run: {violation}"));
            }
        }
    }
}

/// One fault, now and then: a crash or restart of one node, or a partition that heals.
fn fault(cluster: &mut Cluster<RaftNode>, rng: &mut Rng) {
    if !rng.chance(0.02) {
        return;
    }
    let id = rng.range(1, 6);
    match rng.range(0, 3) {
        0 if cluster.is_up(id)
            && cluster.ids().iter().filter(|&&n| !cluster.is_up(n)).count() < 2 =>
        {
            cluster.crash(id)
        }
        0 | 1 if !cluster.is_up(id) => cluster.restart(id),
        1 => cluster.isolate(id),
        _ => cluster.heal(),
    }
}

// ---------------------------------------------------------------------------------------------
// States the paper rules out: the checker of that property names it.

/// Each broken state breaks one property, and its checker says which, naming the servers.
#[rstest]
#[case::two_leaders_in_one_term(
    Property::ElectionSafety,
    vec![leading(server(1, 3, &[1])), leading(server(2, 3, &[1])), server(3, 3, &[1])],
    "n1 and n2"
)]
#[case::same_index_and_term_different_prefix(
    Property::LogMatching,
    vec![server(1, 3, &[1, 1, 3]), rewritten(server(2, 3, &[1, 1, 3]), 2), server(3, 3, &[1])],
    "index 3"
)]
#[case::same_entry_different_command(
    Property::LogMatching,
    vec![server(1, 3, &[1, 2]), rewritten(server(2, 3, &[1, 2]), 2)],
    "index 2"
)]
#[case::leader_lacks_a_committed_entry(
    Property::LeaderCompleteness,
    vec![leading(server(1, 3, &[1])), committed(server(2, 2, &[1, 2]), 2), server(3, 3, &[1])],
    "index 2"
)]
#[case::leader_lacks_what_its_own_follower_committed(
    Property::LeaderCompleteness,
    vec![leading(server(1, 3, &[1])), committed(server(2, 3, &[1, 3]), 2), server(3, 3, &[1])],
    "n2 (term 3)"
)]
#[case::leader_holds_another_command_at_a_committed_index(
    Property::LeaderCompleteness,
    vec![leading(rewritten(server(1, 3, &[1, 2]), 2)), committed(server(2, 2, &[1, 2]), 2)],
    "index 2"
)]
#[case::figure_8_leader_erased_a_commit(
    Property::LeaderCompleteness,
    vec![
        leading(server(5, 5, &[1, 3])),
        committed(server(1, 4, &[1, 2, 4]), 2),
        server(2, 4, &[1, 2]),
    ],
    "n5"
)]
#[case::two_commands_applied_at_one_index(
    Property::StateMachineSafety,
    vec![committed(server(1, 3, &[1, 2]), 2), committed(server(2, 3, &[1, 3]), 2)],
    "index 2"
)]
fn each_checker_names_its_broken_property(
    #[case] property: Property,
    #[case] servers: Vec<ServerSnapshot>,
    #[case] detail: &str,
) {
    let (_, check) = checkers().into_iter().find(|(p, _)| *p == property).expect("a checker");
    let violation =
        check(&servers).expect_err(&format!("{property} must reject: {}", brief(&servers)));
    assert_eq!(violation.property, property, "the violation names its property: {violation}");
    assert!(violation.detail.contains(detail), "the detail should name {detail:?}: {violation}");
    let text = violation.to_string();
    let named = match property {
        Property::ElectionSafety => "Election Safety (§5.2) violated: ",
        Property::LogMatching => "Log Matching (§5.3) violated: ",
        Property::LeaderCompleteness => "Leader Completeness (§5.4) violated: ",
        Property::StateMachineSafety => "State Machine Safety (§5.4.3) violated: ",
    };
    assert!(text.starts_with(named), "the message should start {named:?}: {text}");
}

/// `check` runs every property, in Figure 3's order, and reports the first broken one.
#[test]
fn check_reports_the_first_broken_property_in_figure_3_order() {
    let servers = vec![
        leading(server(1, 3, &[1])),
        leading(server(2, 3, &[1, 3])),
        committed(server(3, 2, &[1, 2]), 2),
    ];
    let violation = properties::check(&servers).expect_err("two leaders of term 3");
    assert_eq!(violation.property, Property::ElectionSafety, "{violation}");
    assert_eq!(properties::check(&servers[1..]), Err(violation_of(&servers[1..])), "then the next");
}

fn violation_of(servers: &[ServerSnapshot]) -> Violation {
    properties::leader_completeness(servers).expect_err("n2 leads term 3 without index 2 of n3")
}
