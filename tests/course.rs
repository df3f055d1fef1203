//! The course checks, run by a bare `cargo test` at the root (design contract 3): every stage's
//! tests fail on the fresh exercise only through its `todo!()`s and pass on the reference;
//! no stub is left in a solution; exercise and solution differ only in the stubs' bodies;
//! the solution runs the exercise's test files. `cargo run -- verify` runs the same checks.
//!
//! The checks on the *fresh* exercise (stubs fail, no drift) are skipped, with a note, for a
//! stage whose exercise git reports as edited: a learner's filled-in stubs must not turn the
//! root tests red. Set `RAFT_STRICT_CHECKS=1` to check edited exercises too (CI does).

use std::process::Command;

use pretty_assertions::assert_eq;
use raft_course::cargo::Cargo;
use raft_course::checks::{self, Findings};
use raft_course::stages::{STAGES, Stage, repo_root};

fn cargo() -> Cargo {
    Cargo::new(&repo_root())
}

/// Fails the test with every problem found, each with its evidence.
fn assert_clean(findings: Findings) {
    assert!(findings.problems.is_empty(), "\n{}\n", findings.report());
    for note in findings.notes {
        println!("checked {note}");
    }
}

/// The stages whose fresh exercise can be checked: all of them, except those the learner has
/// edited (unless `RAFT_STRICT_CHECKS` is set).
fn fresh_stages() -> Vec<&'static Stage> {
    let strict = std::env::var_os("RAFT_STRICT_CHECKS").is_some_and(|v| v != "0");
    STAGES
        .iter()
        .filter(|stage| {
            let edited = !strict && checks::exercise_is_edited(&repo_root(), stage) == Some(true);
            if edited {
                println!(
                    "skipped {}: its exercise differs from the last commit (your work, or a \
                     maintainer's edit); RAFT_STRICT_CHECKS=1 checks it anyway",
                    stage.label()
                );
            }
            !edited
        })
        .collect()
}

/// Every test of a fresh exercise fails, and only through one of its stubs' `todo!()`s.
#[test]
fn every_exercise_test_fails_only_through_a_stub() {
    let mut findings = Findings::default();
    for stage in fresh_stages() {
        let found = checks::stubs_fail(&cargo(), stage);
        findings.problems.extend(found.problems);
        findings.notes.extend(found.notes);
    }
    assert_clean(findings);
}

/// Every test of every stage passes on the reference solution.
#[test]
fn every_test_passes_on_the_reference() {
    assert_clean(checks::Check::ReferencePasses.run(&cargo()));
}

/// No `todo!` or `unimplemented!` is left in a reference solution.
#[test]
fn no_stub_is_left_in_the_solutions() {
    assert_clean(checks::no_stubs_in_solutions(&repo_root()));
}

/// A fresh exercise and its solution differ only in the bodies of the exercise's stubs.
#[test]
fn exercises_differ_from_solutions_only_in_stub_bodies() {
    let mut findings = Findings::default();
    for stage in fresh_stages() {
        let found = checks::no_drift(&repo_root(), stage);
        findings.problems.extend(found.problems);
        findings.notes.extend(found.notes);
    }
    assert_clean(findings);
}

/// Each solution runs its exercise's test files and no test of its own; the stage table
/// lists every stage directory.
#[test]
fn solutions_run_the_exercises_test_files() {
    assert_clean(checks::Check::TestsShared.run(&cargo()));
}

fn course_map(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_raft-course"))
        .args(args)
        .output()
        .expect("the course map runs")
}

/// `cargo run` prints the map with every stage and a next step.
#[test]
fn the_map_lists_every_stage_and_a_next_step() {
    let output = course_map(&[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    for stage in STAGES {
        assert!(stdout.contains(&format!("stage {}  {}", stage.number, stage.name)), "{stdout}");
    }
    assert!(stdout.contains("Next: ") || stdout.contains("Every stage passes."), "{stdout}");
}

/// A wrong argument gets the usage and exit code 2, not a panic.
#[test]
fn a_wrong_argument_gets_the_usage_and_exit_code_2() {
    let output = course_map(&["mpa"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("error: unknown command `mpa`\n\nLearning Raft in Rust"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// `cargo run -- help` prints the usage and succeeds.
#[test]
fn help_prints_the_usage() {
    let output = course_map(&["help"]);
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout), raft_course::cli::USAGE);
}
