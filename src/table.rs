//! Which tests each step of a stage makes pass (see [`crate::steps`]).
//!
//! One entry per `###` hint section of the stage's chapter, in the chapter's order, keyed by
//! the first name of its heading; the tests are `target::function`, an `rstest` function
//! standing for all its cases (or `target::function::case` where its cases part ways). A test
//! is listed under the first section after which it passes, with the reference's bodies in
//! that section's stubs and the ones before it and `todo!()` in the others. A section with no
//! test of its own has stubs that only work with the next ones: they form one step.
//!
//! The course check `StepsCover` fails when a test is missing here, listed twice, or no longer
//! exists. To place a new test: fill the stubs up to a section with the reference's bodies
//! (`carry::fill` does it) and see whether it passes.

/// A stage's steps: `(first name of the hint heading, tests)`.
pub type StageTable = &'static [(&'static str, &'static [&'static str])];

/// Every stage's steps, by package name.
pub const TESTS: &[(&str, StageTable)] = &[
    (
        "data-structures",
        &[
            ("Log::last_index", &["log::last_index_and_last_term_describe_the_last_entry"]),
            ("Log::entry", &["log::entry_is_none_at_index_zero_and_past_the_end"]),
            ("Log::term_at", &["log::term_at_is_zero_at_index_zero_and_none_past_the_end"]),
            ("Log::entries_from", &["log::entries_from_covers_next_index_to_the_end"]),
            (
                "Log::append",
                &[
                    "log::leader_appends_a_new_entry_at_the_end",
                    "log::leader_appends_consecutive_entries_in_order",
                ],
            ),
            (
                "Log::matches",
                &[
                    "log::consistency_check_needs_an_entry_at_prev_log_index_with_prev_log_term",
                    "log::figure_7_followers_pass_the_first_consistency_check_only_if_they_hold_entry_10_of_term_6",
                ],
            ),
            (
                "Log::append_entries",
                &[
                    "log::duplicated_and_reordered_appends_are_idempotent",
                    "log::figure_7_followers_end_with_the_leaders_log",
                    "log::figure_7_followers_refuse_the_first_append_of_term_8",
                    "log::follower_rejects_append_that_fails_the_consistency_check",
                    "log::follower_replaces_a_conflicting_entry_with_the_leaders",
                    "log::follower_truncates_only_at_the_first_conflict",
                ],
            ),
            (
                "Log::is_up_to_date",
                &[
                    "log::candidate_is_up_to_date_by_last_term_then_last_index",
                    "log::figure_7_up_to_date_compares_last_terms_before_lengths",
                ],
            ),
            (
                "Message::term",
                &[
                    "message::message_term_is_the_senders_term",
                    "message::timeline_line_starts_with_the_senders_term",
                ],
            ),
            (
                "Message::encode",
                &[
                    "message::decode_error_says_what_is_wrong",
                    "message::decode_rejects_bytes_that_are_not_a_message",
                    "message::every_message_survives_an_encode_decode_round_trip",
                    "message::wire_format_is_pinned",
                    "state::decode_rejects_a_corrupted_persistent_state",
                    "state::persistent_state_survives_an_encode_decode_round_trip",
                    "state::storage_format_is_pinned",
                ],
            ),
            (
                "State::persistent",
                &[
                    "state::fresh_server_persists_term_zero_no_vote_and_an_empty_log",
                    "state::persistent_state_is_term_vote_and_log",
                    "state::restart_keeps_persistent_state_and_resets_volatile_state",
                ],
            ),
            (
                "State::observe_term",
                &[
                    "state::higher_term_makes_any_role_a_follower_and_clears_the_vote",
                    "state::same_or_older_term_changes_nothing",
                ],
            ),
            (
                "State::become_follower",
                &[
                    "state::become_follower_in_a_higher_term_clears_the_vote",
                    "state::become_follower_in_the_same_term_keeps_the_vote",
                    "state::become_follower_refuses_a_stale_term",
                    "state::leader_refuses_to_follow_in_its_own_term",
                ],
            ),
            (
                "State::become_candidate",
                &[
                    "state::become_candidate_increments_the_term_and_votes_for_itself",
                    "state::candidate_holds_only_its_own_vote_at_first",
                    "state::leader_refuses_to_become_candidate",
                ],
            ),
            (
                "State::become_leader",
                &[
                    "state::become_leader_initializes_next_index_and_match_index",
                    "state::become_leader_with_an_empty_log_sends_from_index_one",
                    "state::candidate_without_a_majority_does_not_become_leader",
                    "state::election_walks_through_every_role",
                    "state::only_a_candidate_becomes_leader",
                ],
            ),
        ],
    ),
    (
        "election",
        &[
            ("reset_election_timer", &["paper::node_starts_as_follower_in_term_zero"]),
            ("check_term", &[]),
            ("tick_election", &[]),
            ("tick_heartbeat", &[]),
            ("become_candidate", &[]),
            (
                "handle_request_vote",
                &[
                    "paper::node_votes_once_per_term_first_come_first_served",
                    "paper::restarted_node_keeps_term_vote_and_log",
                    "paper::term_and_vote_are_persisted_before_the_vote_reply_leaves",
                    "paper::voter_refuses_a_candidate_whose_log_is_less_up_to_date",
                ],
            ),
            ("handle_request_vote_reply", &[]),
            (
                "maybe_become_leader",
                &[
                    "paper::candidate_and_leader_refuse_other_candidates_of_their_term::role_1_Start__Candidate",
                    "paper::candidate_persists_its_term_and_vote_for_itself",
                    "paper::candidate_rejects_append_entries_of_an_older_term",
                    "paper::candidate_starts_a_new_election_on_timeout",
                    "paper::candidate_waits_a_full_timeout_between_elections",
                    "paper::election_timeouts_cover_the_whole_range",
                    "paper::follower_starts_an_election_on_timeout",
                    "paper::newer_term_clears_the_vote::role_2_Start__Candidate",
                    "paper::node_of_any_role_adopts_a_newer_term_and_becomes_follower::role_2_Start__Candidate::message_1_request_vote_2_2_0_0_",
                    "paper::node_of_any_role_adopts_a_newer_term_and_becomes_follower::role_2_Start__Candidate::message_2_vote_2_false_",
                    "paper::node_of_any_role_adopts_a_newer_term_and_becomes_follower::role_2_Start__Candidate::message_4_append_reply_2_false_0_",
                    "paper::two_nodes_rarely_time_out_together",
                ],
            ),
            ("become_leader", &[]),
            (
                "broadcast_append_entries",
                &[
                    "cluster::election_costs_a_handful_of_messages",
                    "cluster::many_elections_in_a_seven_node_cluster",
                    "cluster::no_leader_is_elected_without_a_majority",
                    "cluster::split_votes_resolve",
                    "paper::candidate_and_leader_refuse_other_candidates_of_their_term::role_2_Start__Leader",
                    "paper::candidate_wins_only_with_a_majority_of_the_cluster",
                    "paper::leader_keeps_leading_when_a_stale_request_arrives",
                    "paper::leader_never_times_out",
                    "paper::leader_sends_heartbeats_at_once_and_every_heartbeat_interval",
                    "paper::leader_takes_heartbeat_replies_in_stride",
                    "paper::newer_term_clears_the_vote::role_3_Start__Leader",
                    "paper::node_of_any_role_adopts_a_newer_term_and_becomes_follower::role_3_Start__Leader::message_1_request_vote_2_2_0_0_",
                    "paper::node_of_any_role_adopts_a_newer_term_and_becomes_follower::role_3_Start__Leader::message_2_vote_2_false_",
                    "paper::node_of_any_role_adopts_a_newer_term_and_becomes_follower::role_3_Start__Leader::message_4_append_reply_2_false_0_",
                    "paper::one_node_cluster_elects_itself",
                    "paper::stale_vote_replies_are_not_counted",
                    "paper::status_reports_the_role",
                ],
            ),
            (
                "handle_append_entries",
                &[
                    "cluster::crash_and_restart_keep_term_and_vote",
                    "cluster::elections_are_deterministic",
                    "cluster::idle_traffic_is_one_heartbeat_per_follower_per_interval",
                    "cluster::initial_election_elects_one_leader_that_stays",
                    "cluster::leader_is_elected_on_an_unreliable_network",
                    "cluster::minority_partition_never_elects_a_leader",
                    "cluster::new_leader_is_elected_when_the_leader_crashes",
                    "cluster::old_leader_rejoining_steps_down_without_disrupting",
                    "paper::candidate_stepping_down_for_the_leader_of_its_term_restarts_its_timer",
                    "paper::candidate_steps_down_on_append_entries_of_its_term_or_newer",
                    "paper::each_reset_draws_a_new_timeout",
                    "paper::follower_answers_heartbeat_with_the_consistency_check",
                    "paper::follower_ignores_a_late_vote_of_its_term",
                    "paper::follower_resets_its_timer_only_on_a_granted_vote_or_the_current_leader",
                    "paper::newer_term_clears_the_vote::role_1_Start__Follower",
                    "paper::node_of_any_role_adopts_a_newer_term_and_becomes_follower::role_1_Start__Follower",
                    "paper::node_of_any_role_adopts_a_newer_term_and_becomes_follower::role_2_Start__Candidate::message_3_heartbeat_2_2_",
                    "paper::node_of_any_role_adopts_a_newer_term_and_becomes_follower::role_3_Start__Leader::message_3_heartbeat_2_2_",
                    "paper::stale_request_is_rejected_with_the_current_term",
                    "paper::stale_request_needs_no_persisting",
                    "paper::vote_in_the_current_term_is_persisted",
                    "random::elections_stay_safe_under_faults_and_recover",
                ],
            ),
        ],
    ),
    (
        "replication",
        &[
            (
                "send_append_entries",
                &["paper::new_leader_starts_each_follower_after_its_last_entry"],
            ),
            ("propose", &["paper::candidate_refuses_a_proposal_with_no_hint"]),
            (
                "handle_append_entries",
                &[
                    "paper::candidate_steps_down_and_stores_the_entries_of_the_leader",
                    "paper::follower_commit_index_never_moves_back",
                    "paper::follower_commits_up_to_what_the_leader_vouched_for",
                    "paper::follower_keeps_later_entries_on_a_stale_append",
                    "paper::follower_refuses_a_proposal_and_names_the_leader",
                    "paper::follower_replaces_conflicting_entries",
                    "paper::follower_stores_entries_after_a_matching_entry_and_acknowledges_them",
                ],
            ),
            (
                "conflict",
                &[
                    "paper::follower_refuses_a_mismatch_with_a_conflict_hint",
                    "paper::follower_restarts_its_timer_even_when_it_refuses_entries",
                ],
            ),
            ("handle_append_entries_reply", &[]),
            (
                "maybe_commit",
                &[
                    "paper::append_entries_carries_at_most_a_batch",
                    "paper::figure_7_followers_converge_to_the_leaders_log",
                    "paper::heartbeat_carries_the_entries_a_follower_still_lacks",
                    "paper::leader_appends_a_proposal_in_its_term_and_returns_its_index",
                    "paper::leader_commits_once_a_majority_stores_the_entry",
                    "paper::leader_never_commits_an_entry_of_an_earlier_term_by_counting_replicas",
                    "paper::leader_sends_a_proposal_to_every_follower_at_once",
                    "paper::match_index_comes_from_the_reply_not_the_leaders_log",
                    "paper::refusal_moves_next_index_back_a_term_at_a_time",
                    "paper::stale_and_duplicated_replies_change_nothing",
                ],
            ),
            (
                "take_committed",
                &[
                    "cluster::agreement_after_the_leader_fails",
                    "cluster::agreement_despite_a_disconnected_follower",
                    "cluster::backup_diverged_logs_converge_a_term_at_a_time",
                    "cluster::basic_agreement_commits_each_command_at_the_next_index",
                    "cluster::bytes_sent_stay_proportional_to_bytes_proposed",
                    "cluster::candidate_with_a_stale_log_cannot_win",
                    "cluster::concurrent_proposals_are_all_committed",
                    "cluster::message_counts_stay_bounded",
                    "cluster::no_agreement_without_a_majority_and_the_index_is_reused",
                    "cluster::old_leader_rejoins_and_its_uncommitted_entries_are_replaced",
                    "cluster::replication_is_deterministic",
                    "paper::committed_entries_are_handed_out_once_in_order",
                    "paper::leader_commits_the_entries_before_a_committed_one",
                    "paper::single_node_leader_commits_at_once",
                    "random::replication_stays_safe_under_faults_and_recovers",
                ],
            ),
        ],
    ),
    (
        "safety",
        &[
            ("take_persist", &[]),
            (
                "first_difference",
                &[
                    "cluster::agreement_on_an_unreliable_network",
                    "paper::candidate_writes_its_term_and_vote_with_its_request_votes",
                    "paper::first_difference_is_where_the_logs_part",
                    "paper::granted_vote_is_written",
                    "paper::newer_term_writes_the_term_and_no_vote",
                    "paper::nothing_changed_nothing_written",
                    "paper::proposal_writes_one_entry_however_long_the_log",
                    "paper::replaced_entries_are_written_as_a_truncation_then_an_append",
                    "paper::stored_entries_are_appended",
                    "paper::vote_in_the_current_term_is_written",
                    "paper::writes_rebuild_the_persistent_state",
                ],
            ),
            (
                "restart",
                &[
                    "cluster::churn_loses_no_acknowledged_command",
                    "cluster::everyone_crashes_and_restarts_and_the_log_survives",
                    "cluster::figure_8_leaders_crash_while_proposing",
                    "cluster::figure_8_on_an_unreliable_network_with_long_reordering",
                    "cluster::figure_8_scripted_counting_replicas_is_caught_and_named",
                    "cluster::figure_8_scripted_the_old_entry_is_not_committed_by_counting",
                    "cluster::leader_and_followers_crash_together",
                    "cluster::partitioned_nodes_crash_and_come_back",
                    "paper::acknowledged_entries_survive_a_restart",
                    "paper::restarted_node_applies_again_from_the_start",
                    "paper::restarted_node_does_not_vote_twice_in_a_term",
                    "paper::restarted_node_is_a_follower_with_its_term_vote_and_log",
                    "random::crashes_and_restarts_stay_safe_and_recover",
                ],
            ),
            ("election_safety", &[]),
            ("log_matching", &[]),
            (
                "leader_completeness",
                &["properties::check_reports_the_first_broken_property_in_figure_3_order"],
            ),
            (
                "state_machine_safety",
                &[
                    "properties::each_checker_names_its_broken_property",
                    "properties::every_checker_accepts_a_legal_state",
                    "properties::every_checker_accepts_every_snapshot_of_a_correct_run",
                ],
            ),
        ],
    ),
];
