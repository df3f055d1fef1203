//! The course checks, run by a bare `cargo test` at the root (design contract 3): every stage's
//! tests fail on the fresh exercise only through its `todo!()`s and pass on the reference;
//! no stub is left in a solution; exercise and solution differ only in the stubs' bodies;
//! the solution runs the exercise's test files. `cargo run -- verify` runs the same checks.
//!
//! The checks on the *fresh* exercise (stubs fail, no drift) skip, with a note, a stage whose
//! `src/` differs from the record of the fresh exercise (`exercises/fresh-stubs.txt`): a
//! learner's filled-in stubs, committed or not, must not turn the root tests red. Set
//! `RAFT_STRICT_CHECKS=1` to check every stage and require the record to match (CI does).

use std::process::Command;

use pretty_assertions::assert_eq;
use raft_course::cargo::Cargo;
use raft_course::checks::{Check, Findings};
use raft_course::fresh;
use raft_course::stages::{STAGES, repo_root};

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

fn run(check: Check) -> Findings {
    check.run(&cargo(), fresh::strict())
}

/// Every test of a fresh exercise fails, and only through one of its stubs' `todo!()`s.
#[test]
fn every_exercise_test_fails_only_through_a_stub() {
    assert_clean(run(Check::StubsFail));
}

/// Every test of every stage passes on the reference solution.
#[test]
fn every_test_passes_on_the_reference() {
    assert_clean(run(Check::ReferencePasses));
}

/// No `todo!` or `unimplemented!` is left in a reference solution.
#[test]
fn no_stub_is_left_in_the_solutions() {
    assert_clean(run(Check::NoStubsInSolutions));
}

/// A fresh exercise and its solution differ only in the bodies of the exercise's stubs.
#[test]
fn exercises_differ_from_solutions_only_in_stub_bodies() {
    assert_clean(run(Check::NoDrift));
}

/// Each solution runs its exercise's test files and no test of its own; the stage table
/// lists every stage directory.
#[test]
fn solutions_run_the_exercises_test_files() {
    assert_clean(run(Check::TestsShared));
}

/// The record of the fresh exercises lists every stage; under `RAFT_STRICT_CHECKS` (CI) it
/// matches them, so a maintainer's change to a stub cannot leave it stale.
#[test]
fn the_fresh_exercises_match_their_record() {
    assert_clean(run(Check::FreshRecorded));
    if fresh::strict() {
        let recorded = std::fs::read_to_string(repo_root().join(fresh::FILE)).unwrap();
        assert_eq!(
            recorded,
            fresh::render(&repo_root()).unwrap(),
            "run `cargo run -- fingerprint`"
        );
    }
}
/// Every stub has a hint section in its chapter, with at least one hint, and a step with tests;
/// every test belongs to exactly one step, and each step's command runs exactly its tests.
#[test]
fn every_stub_has_hints_and_tests_and_every_test_a_step() {
    assert_clean(run(Check::StepsCover));
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
    if stdout.contains("Next: ") {
        assert!(
            stdout.contains("  step  ") && stdout.contains("  run   cargo run -- test"),
            "{stdout}"
        );
        assert!(stdout.contains(" --no-fail-fast"), "{stdout}");
    }
}

/// `cargo run -- test <stub>` runs the tests of that stub's step, each file's, and no others.
#[test]
fn test_runs_exactly_one_steps_tests() {
    let output = course_map(&["test", "Log::entry"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("stage 1 data-structures, step 2: `Log::entry`"), "{stdout}");
    assert!(stdout.contains("──── tests/log.rs: 8 of this step's tests ────"), "{stdout}");
    assert!(stdout.contains("running 8 tests"), "{stdout}");
    assert!(!stdout.contains("tests/state.rs"), "{stdout}");
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

/// `cargo run -- hint <stub> <level>` prints that one hint, and says how to get the next.
#[test]
fn hint_prints_one_hint_at_a_time() {
    let output = course_map(&["hint", "Log::append_entries", "2"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("Hint 2 of 4:"), "{stdout}");
    assert!(stdout.contains("For each new entry, ask `term_at(index)`"), "{stdout}");
    assert!(!stdout.contains("extend_from_slice"), "hint 3 shown too: {stdout}");
    assert!(
        stdout.contains("A stronger hint: cargo run -- hint Log::append_entries 3"),
        "{stdout}"
    );
}

/// A stub name of two stages asks which; an unknown one or a level past the last is refused.
#[test]
fn hint_names_what_it_cannot_choose_or_find() {
    let mut cases = vec![
        (&["hint", "no_such_stub"][..], "no hint names `no_such_stub`"),
        (&["hint", "Log::term_at", "9"], "`Log::term_at` has 2 hints"),
    ];
    // `handle_append_entries` is a stub of stages 2 and 3: ambiguous only while both are left
    // (once a learner has written one, `hint` picks the other), so this case needs both.
    let stub_left = |file: &str, todo: &str| {
        std::fs::read_to_string(repo_root().join(file)).is_ok_and(|text| text.contains(todo))
    };
    if stub_left("exercises/02-election/src/heartbeat.rs", "todo!(\"follow the sender")
        && stub_left(
            "exercises/03-replication/src/replication.rs",
            "todo!(\"handle_append_entries(",
        )
    {
        cases.push((&["hint", "handle_append_entries"], "`election/handle_append_entries` or"));
    }
    for (args, expected) in cases {
        let output = course_map(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

/// `cargo run` inside a stage's folder runs the course map: each exercise declares the small
/// binary `exercises/course-map.rs` (else cargo answers "a bin target must be available").
#[test]
fn every_stage_folder_runs_the_map() {
    for stage in STAGES {
        let manifest = repo_root().join(stage.exercise_dir()).join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        let bin = format!(
            "[[bin]]\nname = \"{}-map\"\npath = \"../course-map.rs\"\ntest = false\n",
            stage.name
        );
        assert!(
            text.contains(&bin),
            "{}: add to it, for `cargo run` in the stage's folder:\n{bin}doc = false",
            manifest.display()
        );
    }
}
