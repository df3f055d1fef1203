//! `cargo run -- test [stub]`: runs exactly the tests of a step (the one the learner is at, or
//! the step of `stub`), each test executable with its tests named and `--exact`, so that the
//! output is libtest's own and nothing else runs.

use std::io::{self, IsTerminal};
use std::process::Command;

use crate::cargo::{Build, Cargo};
use crate::libtest::strip_colours;
use crate::process;
use crate::stages::Stage;
use crate::steps::Step;

/// Builds `stage`'s tests and runs those of `step`; `Ok(true)` if they all pass.
pub fn run(cargo: &Cargo, stage: &Stage, step: &Step) -> io::Result<bool> {
    println!("{}, step {}: {}", stage.label(), step.number, step.title());
    let binaries = match cargo.build_tests(stage.name)? {
        Build::Built(binaries) => binaries,
        Build::Failed { first_error, .. } => {
            println!("{}\n(the exercise does not compile: the first error above)", first_error);
            return Ok(false);
        }
    };
    let mut passed = true;
    let mut ran = 0;
    for binary in &binaries {
        let target = binary.table_name();
        let names: Vec<String> =
            cargo.list_tests(binary)?.into_iter().filter(|n| step.has_test(target, n)).collect();
        if names.is_empty() {
            continue;
        }
        println!("\n──── {}: {} of this step's tests ────", binary.shown(), names.len());
        let mut command = Cargo::test_command(binary);
        command.args(&names).arg("--exact");
        passed &= run_quietly(&mut command)?;
        ran += names.len();
    }
    println!("\n{}", verdict(ran, passed, step.number));
    Ok(passed && ran > 0)
}

/// Runs a test executable with libtest's own output; in a pipe, without colour codes
/// (`pretty_assertions` writes them there too).
fn run_quietly(command: &mut Command) -> io::Result<bool> {
    if std::io::stdout().is_terminal() {
        return Ok(command.status()?.success());
    }
    let (passed, output) = captured(command)?;
    print!("{output}");
    Ok(passed)
}

/// Runs `command` to its end: did it succeed, and its stdout then stderr, colours removed.
fn captured(command: &mut Command) -> io::Result<(bool, String)> {
    command.args(["--color", "never"]);
    let finished = process::run(command, crate::cargo::RUN_LIMIT, process::Stderr::Capture)?;
    let output = strip_colours(&format!("{}{}", finished.stdout, finished.stderr));
    Ok((finished.success(), output))
}

/// The last line of a step's run.
pub fn verdict(ran: usize, passed: bool, step: usize) -> String {
    match (ran, passed) {
        (0, _) => "no test of this step was found: is src/table.rs up to date?".to_string(),
        (1, true) => format!("The one test of step {step} passes."),
        (1, false) => format!("The one test of step {step} fails (above)."),
        (n, true) => format!("All {n} tests of step {step} pass."),
        (n, false) => format!("Some of the {n} tests of step {step} fail (above)."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_test_is_singular() {
        assert_eq!(verdict(1, true, 3), "The one test of step 3 passes.");
        assert_eq!(verdict(2, false, 1), "Some of the 2 tests of step 1 fail (above).");
    }

    /// A failing test's output has no backtrace though the learner's RUST_BACKTRACE=1 asks
    /// for one, and no colour codes in a pipe (a script stands in for the test executable).
    #[test]
    fn a_failure_shows_no_backtrace_and_no_colour() {
        let binary = crate::cargo::TestBinary {
            package: "election".into(),
            target: "paper".into(),
            path: "sh".into(),
            is_lib: false,
            package_dir: std::env::temp_dir(),
        };
        let mut command = Cargo::test_command(&binary);
        let backtrace = command.get_envs().find(|(name, _)| *name == "RUST_BACKTRACE");
        assert_eq!(backtrace, Some(("RUST_BACKTRACE".as_ref(), Some("0".as_ref()))));
        let script =
            "printf '\\033[31mred\\033[0m RUST_BACKTRACE=%s\\n' \"$RUST_BACKTRACE\"; exit 1";
        command.args(["-c", script, "sh"]);
        let (passed, output) = captured(&mut command).unwrap();
        assert!(!passed);
        assert_eq!(output, "red RUST_BACKTRACE=0\n");
    }
}
