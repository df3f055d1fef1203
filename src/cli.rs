//! The command line: no argument shows the course map, `verify` runs the course checks.

use std::process::ExitCode;
use std::time::Instant;

use crate::cargo::Cargo;
use crate::checks::CHECKS;
use crate::map;
use crate::stages::repo_root;

/// What `help` prints, and what a wrong argument is answered with.
pub const USAGE: &str = "\
Learning Raft in Rust: the course map.

usage:
  cargo run              where you are: each stage's passing tests, and what to do next
  cargo run -- verify    the course checks (for maintainers and CI): stubs fail only
                         through todo!(), references pass, no drift between exercise
                         and solution, tests shared
  cargo run -- demo      a five-server cluster of the stage 4 reference, live: keys crash
                         the leader, partition, heal, propose (q quits); then the run as
                         a page (target/demo.html). Options: --scripted (a fixed story,
                         no keys, exits by itself), --seed N, --frame-ms N (pause per
                         tick; 0 prints one frame per step), --page PATH
  cargo run -- help      this text

A failing cluster test's report prints two more commands: one that reruns it with
RAFT_TRACE=<file>, and `cargo run -p harness --bin trace-page -- <file>`, which renders
the run as an HTML page to open in a browser (docs/harness.md, section The trace page).
";

/// What the arguments ask for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Show the course map.
    Map,
    /// Run the course checks.
    Verify,
    /// Print the usage.
    Help,
    /// Run the live demo with these options.
    Demo(crate::demo::Options),
}

/// Reads the arguments (without the program name); `Err` says what is wrong with them.
pub fn parse(args: &[String]) -> Result<Command, String> {
    match args {
        [] => Ok(Command::Map),
        [one] if one == "verify" => Ok(Command::Verify),
        [one] if matches!(one.as_str(), "help" | "-h" | "--help") => Ok(Command::Help),
        [demo, rest @ ..] if demo == "demo" => crate::demo::Options::parse(rest).map(Command::Demo),
        [one] => Err(format!("unknown command `{one}`")),
        [_, extra, ..] => Err(format!("unexpected argument `{extra}`")),
    }
}

/// Runs the command line: exit code 0 on success, 1 when checks fail or cargo cannot run,
/// 2 for a wrong argument.
pub fn main(args: &[String]) -> ExitCode {
    match parse(args) {
        Ok(Command::Help) => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(Command::Map) => show_map(),
        Ok(Command::Verify) => verify(),
        Ok(Command::Demo(options)) => demo(&options),
        Err(error) => {
            eprint!("error: {error}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn show_map() -> ExitCode {
    let root = repo_root();
    eprintln!(
        "Building and running the exercises' tests (the first run compiles the dependencies)…"
    );
    match map::survey(&Cargo::new(&root)) {
        Ok(maps) => {
            print!("{}", map::render(&root, &maps));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn demo(options: &crate::demo::Options) -> ExitCode {
    match crate::demo::run(options, &mut std::io::stdout()) {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("demo: {error}");
            ExitCode::FAILURE
        }
    }
}

fn verify() -> ExitCode {
    let cargo = Cargo::new(&repo_root());
    println!("Course checks\n");
    let mut failed = Vec::new();
    for (position, check) in CHECKS.iter().enumerate() {
        let started = Instant::now();
        let findings = check.run(&cargo);
        let verdict = if findings.problems.is_empty() { "ok" } else { "FAILED" };
        println!(
            "{}. {} ... {verdict} ({:.1} s)",
            position + 1,
            check.title(),
            started.elapsed().as_secs_f64()
        );
        for note in &findings.notes {
            println!("     {note}");
        }
        for problem in &findings.problems {
            println!("   - {}", problem.to_string().replace('\n', "\n     "));
        }
        if !findings.problems.is_empty() {
            failed.push(check.title());
        }
    }
    if failed.is_empty() {
        println!("\nAll {} course checks pass.", CHECKS.len());
        ExitCode::SUCCESS
    } else {
        println!("\n{} of {} course checks FAILED:", failed.len(), CHECKS.len());
        for title in failed {
            println!("  - {title}");
        }
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn no_argument_is_the_map_and_known_words_are_commands() {
        assert_eq!(parse(&args(&[])), Ok(Command::Map));
        assert_eq!(parse(&args(&["verify"])), Ok(Command::Verify));
        assert_eq!(parse(&args(&["--help"])), Ok(Command::Help));
    }

    #[test]
    fn wrong_arguments_are_named() {
        assert_eq!(parse(&args(&["map"])), Err("unknown command `map`".to_string()));
        assert_eq!(parse(&args(&["verify", "x"])), Err("unexpected argument `x`".to_string()));
    }
}
