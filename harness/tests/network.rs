//! Network faults in the classic lab's shape: faults that hit some messages only, long
//! hold-backs, and messages that arrive in the tick they were sent.

mod common;

use common::*;
use harness::trace::{Event, Record};
use harness::{Budgets, Cluster, Config, MessageFault, NetworkConfig};
use pretty_assertions::assert_eq;

/// The toy's replies.
fn is_ack(message: &Message) -> bool {
    matches!(message, Message::Ack { .. })
}

/// Replies held back 20 to 30 extra ticks, none lost.
const LATE_REPLIES: MessageFault<Message> =
    MessageFault { name: "late replies", matches: is_ack, loss: 0.0, extra_delay: (20, 30) };

/// How long each message sent in `records` travels, by its kind (the first word).
fn delays<'a>(records: impl Iterator<Item = &'a Record>) -> Vec<(String, u64)> {
    let sends = records.filter_map(|record| match &record.event {
        Event::Send { message, deliver_at: Some(at), .. } => {
            let kind = message.split_whitespace().next().unwrap_or("").to_string();
            Some((kind, at - record.tick))
        }
        _ => None,
    });
    sends.collect()
}

/// A fault limited to some messages delays those only: replies arrive 20 to 30 ticks late
/// (on top of the usual 1 to 3) while the leader's appends arrive on time; clearing it
/// brings the usual delays back (§5.5: late replies are harmless).
#[test]
fn message_fault_delays_only_the_messages_it_matches() {
    let mut cluster = Cluster::<Correct>::new(3, 1);
    cluster.set_message_fault(LATE_REPLIES);
    cluster.run_for(50);
    let sent = delays(cluster.trace().recent());
    let acks: Vec<u64> = sent.iter().filter(|(kind, _)| kind == "Ack").map(|s| s.1).collect();
    let appends: Vec<u64> = sent.iter().filter(|(kind, _)| kind == "Append").map(|s| s.1).collect();
    assert!(!acks.is_empty() && acks.iter().all(|d| (21..=33).contains(d)), "{acks:?}");
    assert!(!appends.is_empty() && appends.iter().all(|d| (1..=3).contains(d)), "{appends:?}");

    cluster.clear_message_faults();
    cluster.run_for(50);
    let recent: Vec<&Record> = cluster.trace().recent().collect();
    let sent = delays(recent[recent.len() - 30..].iter().copied());
    assert!(sent.iter().all(|(_, d)| (1..=3).contains(d)), "{sent:?}");
}

/// A message fault can lose what it matches; the drop names the fault, and the rest of the
/// traffic gets through.
#[test]
fn message_fault_loses_only_the_messages_it_matches() {
    let mut cluster = Cluster::<Correct>::new(3, 1);
    let lost =
        MessageFault { name: "lost replies", loss: 1.0, extra_delay: (0, 0), ..LATE_REPLIES };
    cluster.set_message_fault(lost);
    cluster.run_for(40);
    let stats = cluster.stats();
    assert_eq!(stats.kinds["Ack"].delivered, 0, "{stats}");
    assert_eq!(stats.kinds["Ack"].dropped, stats.kinds["Ack"].sent, "{stats}");
    assert_eq!(stats.kinds["Append"].dropped, 0, "{stats}");
    let dropped_by_fault = cluster
        .trace()
        .recent()
        .any(|r| matches!(r.event, Event::Drop { reason: "lost replies", .. }));
    assert!(dropped_by_fault);
}

/// Setting a fault of the same name replaces it; the trace and the report's settings show
/// the faults in force.
#[test]
fn message_faults_are_shown_in_the_trace_and_the_report() {
    let report = failure_of(|| {
        let mut cluster = Cluster::<Correct>::new(3, 1);
        cluster.set_message_fault(LATE_REPLIES);
        cluster.set_message_fault(MessageFault { extra_delay: (200, 2_000), ..LATE_REPLIES });
        cluster.fail("stop");
    });
    assert!(
        report.contains("network: message fault late replies: loss 0.0%, extra delay 20..=30"),
        "{report}"
    );
    assert!(
        report.contains("  faults:   late replies: loss 0.0%, extra delay 200..=2000\n"),
        "{report}"
    );
}

/// The two settings of today's hold-back, left unset or set to what it stands for
/// (`4 * max_delay`), draw the same numbers: the same run, event for event.
#[test]
fn unset_hold_back_is_four_max_delays() {
    let run = |network: NetworkConfig| {
        let mut cluster = Cluster::<Correct>::with_config(5, 3, Config::default(), network);
        cluster.run_for(300);
        let records: Vec<Record> = cluster.trace().recent().cloned().collect();
        (records, cluster.stats().clone())
    };
    let unreliable = NetworkConfig::unreliable();
    assert_eq!(unreliable.max_hold_back, None);
    let explicit =
        NetworkConfig { max_hold_back: Some(4 * unreliable.max_delay), ..unreliable.clone() };
    assert_eq!(run(unreliable), run(explicit));
}

/// A longer hold-back (the lab's long reordering) holds messages back longer than the default
/// could; the report's network line says so.
#[test]
fn long_hold_back_holds_messages_back_longer() {
    let network =
        NetworkConfig { reorder: 0.5, max_hold_back: Some(200), ..NetworkConfig::reliable() };
    assert_eq!(
        network.to_string(),
        "delay 1..=3, loss 0.0%, duplicate 0.0%, reorder 50.0%, held back up to 200"
    );
    let mut cluster = Cluster::<Correct>::with_config(3, 1, Config::default(), network);
    cluster.run_for(100);
    let longest = delays(cluster.trace().recent()).into_iter().map(|(_, d)| d).max();
    assert!(longest > Some(3 + 4 * 3), "longest delay {longest:?}");
    assert!(longest <= Some(3 + 200), "longest delay {longest:?}");
}

/// With `min_delay: 0` a message may arrive in the tick it was sent, and its answer too: the
/// tick keeps delivering until nothing more is due.
#[test]
fn zero_min_delay_delivers_within_the_tick() {
    let network = NetworkConfig { min_delay: 0, max_delay: 0, ..NetworkConfig::reliable() };
    let mut cluster = Cluster::<Correct>::with_config(3, 1, Config::default(), network);
    cluster.run_for(4);
    let at_tick_4: Vec<String> =
        cluster.trace().recent().filter(|r| r.tick == 4).map(|r| r.event.to_string()).collect();
    let expected = [
        "n1@1 → n2 Append t1 prev 0 +0 commit 0 (at 4)",
        "n1@1 → n3 Append t1 prev 0 +0 commit 0 (at 4)",
        "n2@0 ← n1 Append t1 prev 0 +0 commit 0",
        "n2@1 new term",
        "n2@1 → n1 Ack t1 match 0 (at 4)",
        "n3@0 ← n1 Append t1 prev 0 +0 commit 0",
        "n3@1 new term",
        "n3@1 → n1 Ack t1 match 0 (at 4)",
        "n1@1 ← n2 Ack t1 match 0",
        "n1@1 ← n3 Ack t1 match 0",
    ];
    assert_eq!(at_tick_4, expected);
}

/// Deliveries within one tick still count against `Budgets::deliveries_per_tick`, across the
/// rounds of a tick: a node that answers at once cannot keep a tick going forever.
#[test]
fn zero_min_delay_is_bounded_by_the_delivery_budget() {
    let report = failure_of(|| {
        let network = NetworkConfig { min_delay: 0, max_delay: 0, ..NetworkConfig::reliable() };
        let mut cluster = Cluster::<Correct>::with_config(3, 1, Config::default(), network);
        cluster.set_budgets(Budgets { deliveries_per_tick: 3, ..Budgets::default() });
        cluster.run_for(4);
    });
    let expected = "Budget exceeded: delivery budget: 4 messages due at tick 4 \
                    (Budgets::deliveries_per_tick is 3)";
    assert!(report.contains(expected), "{report}");
}

/// A tick may deliver exactly `Budgets::deliveries_per_tick` messages; one more fails it.
/// Here every heartbeat tick delivers 4: two appends and, in the same tick, two replies.
#[test]
fn zero_min_delay_may_use_the_whole_delivery_budget() {
    let network = NetworkConfig { min_delay: 0, max_delay: 0, ..NetworkConfig::reliable() };
    let mut cluster = Cluster::<Correct>::with_config(3, 1, Config::default(), network);
    cluster.set_budgets(Budgets { deliveries_per_tick: 4, ..Budgets::default() });
    cluster.run_for(40);
    assert_eq!(cluster.stats().total().delivered, 40);
}

/// A message the network loses at random is traced as lost ("loss"), one dropped on a cut
/// link as cut ("cut").
#[test]
fn drops_say_whether_the_network_lost_the_message_or_the_link_was_cut() {
    let network = NetworkConfig { loss: 0.5, ..NetworkConfig::reliable() };
    let mut cluster = Cluster::<Correct>::with_config(3, 1, Config::default(), network);
    cluster.cut(1, 3);
    cluster.run_for(40);
    let reasons: Vec<(u64, &str)> = cluster
        .trace()
        .recent()
        .filter_map(|r| match r.event {
            Event::Drop { to, reason, .. } => Some((to, reason)),
            _ => None,
        })
        .collect();
    assert!(reasons.contains(&(2, "loss")), "{reasons:?}");
    assert!(reasons.contains(&(3, "cut")), "{reasons:?}");
    assert!(!reasons.contains(&(2, "cut")), "{reasons:?}");
}

/// Delays are drawn from the whole range `min_delay..=max_delay`, both ends included; a
/// held-back message waits 1 to `max_hold_back` extra ticks, both ends included.
#[test]
fn delays_cover_their_whole_range() {
    let delays_with = |network: NetworkConfig| {
        let mut cluster = Cluster::<Correct>::with_config(5, 1, Config::default(), network);
        cluster.run_for(60);
        let mut seen: Vec<u64> =
            delays(cluster.trace().recent()).into_iter().map(|d| d.1).collect();
        seen.sort_unstable();
        seen.dedup();
        seen
    };
    assert_eq!(delays_with(NetworkConfig::reliable()), [1, 2, 3]);
    let held = NetworkConfig {
        min_delay: 1,
        max_delay: 1,
        reorder: 1.0,
        max_hold_back: Some(2),
        ..NetworkConfig::reliable()
    };
    assert_eq!(delays_with(held), [2, 3]);

    let fixed = NetworkConfig { min_delay: 1, max_delay: 1, ..NetworkConfig::reliable() };
    let mut cluster = Cluster::<Correct>::with_config(5, 1, Config::default(), fixed);
    cluster.set_message_fault(MessageFault { extra_delay: (1, 2), ..LATE_REPLIES });
    cluster.run_for(60);
    let mut acks: Vec<u64> = delays(cluster.trace().recent())
        .into_iter()
        .filter_map(|(kind, delay)| (kind == "Ack").then_some(delay))
        .collect();
    acks.sort_unstable();
    acks.dedup();
    assert_eq!(acks, [2, 3], "a base delay of 1 and an extra delay of 1..=2");
}

/// A duplicate's second copy gets its own delay, with the extra delay of the faults that match
/// it, like the first.
#[test]
fn duplicate_copies_get_the_extra_delay_too() {
    let network = NetworkConfig { duplicate: 1.0, ..NetworkConfig::reliable() };
    let mut cluster = Cluster::<Correct>::with_config(3, 1, Config::default(), network);
    cluster.set_message_fault(LATE_REPLIES);
    cluster.run_for(40);
    let copies: Vec<(String, u64)> = cluster
        .trace()
        .recent()
        .filter_map(|record| match &record.event {
            Event::Duplicate { message, again, .. } => {
                let kind = message.split_whitespace().next().unwrap_or("").to_string();
                Some((kind, again - record.tick))
            }
            _ => None,
        })
        .collect();
    let acks: Vec<u64> = copies.iter().filter(|(k, _)| k == "Ack").map(|c| c.1).collect();
    let appends: Vec<u64> = copies.iter().filter(|(k, _)| k == "Append").map(|c| c.1).collect();
    assert!(!acks.is_empty() && acks.iter().all(|d| (21..=33).contains(d)), "{acks:?}");
    assert!(!appends.is_empty() && appends.iter().all(|d| (1..=3).contains(d)), "{appends:?}");
}

/// A fault reads as its settings, in the report and in `{:?}`.
#[test]
fn message_fault_reads_as_its_settings() {
    let expected = "late replies: loss 0.0%, extra delay 20..=30";
    assert_eq!(LATE_REPLIES.to_string(), expected);
    assert_eq!(format!("{LATE_REPLIES:?}"), format!("MessageFault({expected})"));
}
