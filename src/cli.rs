//! The command line: no argument shows the course map; `hint`, `watch`, `verify` and
//! `fingerprint` as [`USAGE`] says.

use std::process::ExitCode;
use std::time::Instant;

use std::path::Path;

use crate::cargo::{Build, Cargo};
use crate::carry;
use crate::checks::CHECKS;
use crate::fresh;
use crate::hints_cli;
use crate::map;
use crate::progress;
use crate::stages::{self, STAGES, Stage, repo_root};
use crate::step_tests;
use crate::steps::{self, Step};
use crate::watch;

/// What `help` prints, and what a wrong argument is answered with.
pub const USAGE: &str = "\
Learning Raft in Rust: the course map.

usage:
  cargo run                    where you are: each stage's passing tests, and the next
                               step: the stub to open and the command that runs its tests
  cargo run -- test [what]     run exactly the tests of the step you are at, as the
                               map says, and no other test; or of the step of a stub
                               (`test take_committed`), or of a stage's step (`test 3`)
  cargo run -- hint            the first hint for the stub you are at
  cargo run -- hint <stub> [n] hint n (from 1, each stronger) for a stub, e.g.
                               `cargo run -- hint Log::term_at 2`; `election/become_leader`
                               picks a stage when two have a stub of that name
  cargo run -- watch [what]    re-run your current step's tests (or those `test [what]`
                               runs) whenever a file under exercises/ is saved, then
                               show the next step (Ctrl-C stops)
  cargo run -- verify          the course checks: stubs fail only through todo!(),
                               references pass, no drift between exercise and solution,
                               tests shared, every stub has hints and tests
  cargo run -- carry <stage> [into]
                               build the next stage (or stage `into`) on your own code of
                               <stage> instead of its reference, then run its tests;
                               `--undo` puts the reference back (e.g. `carry 2`, `carry 2
                               --undo`, `carry election 4`)
  cargo run -- demo            five servers of the stage 6 reference and three clients,
                               live: keys crash the leader, partition, heal, send client
                               operations (q quits); then the run as a page with the
                               clients' history (target/demo.html). Options: --scripted (a
                               fixed story, no keys, exits by itself), --seed N, --frame-ms N
                               (pause per tick; 0 prints one frame per step), --page PATH
  cargo run -- live            five servers in your browser, live, as in the paper's
                               visualization: click a server to crash or restart it, send
                               requests, partition, lose messages, travel back in time,
                               save the run. Options: --stage N (from 2; default the latest
                               with a live page), --yours (your exercise of that stage,
                               once it has no stub left), --seed N, --speed N, --paused,
                               --no-open
  cargo run -- cluster         the finale: real server processes on 127.0.0.1 (files with
                               fsync, TCP between them, Redis clients: `redis-cli -p <port>`),
                               live, with keys to kill, restart, partition and heal. Options:
                               --nodes N (default 3), --yours (your exercises/06-kv as the
                               servers, once it has no stub left).
                               Builds the driver first (`-p driver`, release: a few minutes
                               the first time)
  cargo run -- help            this text

for maintainers:
  cargo run -- fingerprint     record the fresh exercises (exercises/fresh-stubs.txt) after
                               changing a stub; CI fails while the record is stale

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
    /// Serve the live page with these options.
    Live(crate::live::Options),
    /// Run real server processes (the driver's `raft-cluster`) with these arguments.
    Cluster(Vec<String>),
    /// Record the fresh exercises.
    Fingerprint,
    /// Print one hint: for `stub` (else the current one), at `level` (else 1).
    Hint {
        /// The stub, as the learner typed it (`Log::term_at`, `term_at`, `election/…`).
        stub: Option<String>,
        /// Which hint, from 1.
        level: Option<usize>,
    },
    /// Run exactly the tests of the current step, or of `what`'s step ([`aimed_step`]).
    Test {
        /// A stub, or a stage by number or name.
        what: Option<String>,
    },
    /// Build a later stage on the learner's code of stage `from`, or undo it.
    Carry {
        /// The stage whose code is carried, by number or name.
        from: String,
        /// The stage that takes it (else the next).
        into: Option<String>,
        /// Put the reference back instead.
        undo: bool,
    },
    /// Re-run the current step's tests (or `what`'s) on every save; `once`: one round.
    Watch {
        /// A stub, or a stage by number or name.
        what: Option<String>,
        /// Stop after the first round (for scripts and tests).
        once: bool,
    },
}

/// Reads the arguments (without the program name); `Err` says what is wrong with them.
pub fn parse(args: &[String]) -> Result<Command, String> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let level = |text: &str| match text.parse::<usize>() {
        Ok(level) if level >= 1 => Ok(level),
        _ => Err(format!("the hint level `{text}` is not a number from 1")),
    };
    match words[..] {
        [] => Ok(Command::Map),
        ["verify"] => Ok(Command::Verify),
        ["demo", ref rest @ ..] => {
            let rest: Vec<String> = rest.iter().map(|word| word.to_string()).collect();
            crate::demo::Options::parse(&rest).map(Command::Demo)
        }
        ["live", ref rest @ ..] => {
            let rest: Vec<String> = rest.iter().map(|word| word.to_string()).collect();
            crate::live::Options::parse(&rest).map(Command::Live)
        }
        ["cluster", ref rest @ ..] => {
            Ok(Command::Cluster(rest.iter().map(|word| word.to_string()).collect()))
        }
        ["fingerprint"] => Ok(Command::Fingerprint),
        ["help" | "-h" | "--help"] => Ok(Command::Help),
        ["test"] => Ok(Command::Test { what: None }),
        ["test", what] => Ok(Command::Test { what: Some(what.to_string()) }),
        ["watch", ref rest @ ..] => {
            let once = rest.contains(&"--once");
            match rest.iter().filter(|word| **word != "--once").collect::<Vec<_>>()[..] {
                [] => Ok(Command::Watch { what: None, once }),
                [what] => Ok(Command::Watch { what: Some(what.to_string()), once }),
                [_, extra, ..] => Err(format!("unexpected argument `{extra}`")),
            }
        }
        ["hint"] => Ok(Command::Hint { stub: None, level: None }),
        ["hint", one] if one.starts_with(|c: char| c.is_ascii_digit()) => {
            Ok(Command::Hint { stub: None, level: Some(level(one)?) })
        }
        ["hint", stub] => Ok(Command::Hint { stub: Some(stub.to_string()), level: None }),
        ["hint", stub, n] => {
            Ok(Command::Hint { stub: Some(stub.to_string()), level: Some(level(n)?) })
        }
        ["carry", ref rest @ ..] => {
            let undo = rest.last() == Some(&"--undo");
            let rest = &rest[..rest.len() - usize::from(undo)];
            match rest {
                [] => Err("carry needs a stage: `cargo run -- carry 2`".to_string()),
                [from] => Ok(Command::Carry { from: from.to_string(), into: None, undo }),
                [from, into] => Ok(Command::Carry {
                    from: from.to_string(),
                    into: Some(into.to_string()),
                    undo,
                }),
                [_, _, extra, ..] => Err(format!("unexpected argument `{extra}`")),
            }
        }
        [one] => Err(format!("unknown command `{one}`")),
        ["hint", _, _, extra, ..] => Err(format!("unexpected argument `{extra}`")),
        [_, extra, ..] => Err(format!("unexpected argument `{extra}`")),
    }
}

/// Runs the command line: exit code 0 on success, 1 when checks fail or cargo cannot run,
/// 2 for a wrong argument.
pub fn main(args: &[String]) -> ExitCode {
    let root = repo_root();
    match parse(args) {
        Ok(Command::Help) => finish(Ok(USAGE.to_string()), 0),
        Ok(Command::Map) => show_map(&root),
        Ok(Command::Verify) => verify(),
        Ok(Command::Demo(options)) => demo(&options),
        Ok(Command::Live(options)) => crate::live::run(&root, &options),
        Ok(Command::Cluster(args)) => cluster(&root, &args),
        Ok(Command::Fingerprint) => fingerprint(),
        Ok(Command::Hint { stub, level }) => hint(&root, stub.as_deref(), level),
        Ok(Command::Watch { what, once }) => watch::run(&root, what.as_deref(), once),
        Ok(Command::Test { what }) => test_step(&root, what.as_deref()),
        Ok(Command::Carry { from, into, undo }) => carry(&root, &from, into.as_deref(), undo),
        Err(error) => {
            eprint!("error: {error}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn show_map(root: &Path) -> ExitCode {
    let mut cargo = Cargo::new(root);
    let cold = progress::looks_cold(root);
    cargo.show_build = cold;
    if cold {
        eprintln!(
            "No build of the course's crates found: building them for the first time (a few \
             minutes on two cores; later runs take seconds)."
        );
    }
    let mut progress = progress::Stages::new(!cold);
    let surveyed = map::survey(&cargo, &mut |stage| progress.start(stage));
    progress.finish();
    let text = surveyed.map(|maps| map::render(root, &maps, stages::here(root)));
    finish(text.map_err(|e| e.to_string()), 1)
}

/// Prints the text, or the error with exit code `error_code`.
fn finish(result: Result<String, String>, error_code: u8) -> ExitCode {
    match result {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(error) => fail(error, error_code),
    }
}

/// Prints the error and gives exit code `code`.
fn fail(error: impl std::fmt::Display, code: u8) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::from(code)
}

/// Runs the driver's `raft-cluster` (release) with `args`: the driver is its own package, so
/// tokio and the sockets stay out of this tool's build. It builds the driver's binaries first
/// (`raft-cluster` starts `raft-server`, which `cargo run --bin` alone would not build).
///
/// `--yours` runs the learner's own stage 6 (`exercises/06-kv`) as the servers: refused while
/// a stub is left (the first `todo!()` a server reached would stop it), naming them; then the
/// driver is built with its `yours` feature, which adds the exercise as a dependency.
fn cluster(root: &Path, args: &[String]) -> ExitCode {
    let yours = args.iter().any(|arg| arg == "--yours");
    if yours {
        let stage = crate::stages::STAGES.iter().find(|stage| stage.number == 6).expect("stage 6");
        let instead = "run the reference: cargo run --release -- cluster";
        if let Err(refused) = crate::live::no_stub_left(root, stage, "cluster", "a server", instead)
        {
            return refused;
        }
    }
    let features: Vec<String> =
        if yours { vec!["--features".into(), "yours".into()] } else { Vec::new() };
    let cargo = Cargo::new(root);
    let build = ["build", "--release", "-q", "-p", "driver", "--bins"];
    let built = cargo.foreground(build.iter().map(|a| a.to_string()).chain(features.clone()));
    if built != ExitCode::SUCCESS {
        return built;
    }
    let run = ["run", "--release", "-q", "-p", "driver"].iter().map(|a| a.to_string());
    let bin = ["--bin", "raft-cluster", "--"].iter().map(|a| a.to_string());
    cargo.foreground(run.chain(features).chain(bin).chain(args.iter().cloned()))
}

fn demo(options: &crate::demo::Options) -> ExitCode {
    let ran = crate::demo::run(options, &mut std::io::stdout());
    finish(ran.map(|_| String::new()).map_err(|error| format!("demo: {error}")), 1)
}

fn test_step(root: &Path, what: Option<&str>) -> ExitCode {
    let cargo = Cargo::new(root);
    let aimed = match aimed_step(&cargo, what, false) {
        Ok(aimed) => aimed,
        Err(error) => return fail(error, 2),
    };
    match step_tests::run(&cargo, &aimed.stage, &aimed.step) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => fail(error, 1),
    }
}

/// The step `test` and `watch` run, and what was surveyed to find it.
pub struct Aimed {
    /// The stage of the step.
    pub stage: Stage,
    /// The step.
    pub step: Step,
    /// The stages surveyed (none for a stub's step unless `survey`).
    pub maps: Vec<map::StageMap>,
    /// The stage the map points at, as an index in [`STAGES`].
    pub here: Option<usize>,
}

/// What `test [what]` and `watch [what]` run: with no `what`, the next step of the stage the
/// learner is in ([`map::current`]); a stage (`3`, `replication`): its next step; else the
/// step of the stub `what` names. `survey`: survey a stub's stage too (for the map after).
pub fn aimed_step(cargo: &Cargo, what: Option<&str>, survey: bool) -> Result<Aimed, String> {
    let root = cargo.root.as_path();
    let stage = what.map(carry::stage_named);
    let here = match (what, stage) {
        (None, _) => stages::here(root),
        (Some(_), Some(Ok(stage))) => STAGES.iter().position(|s| *s == stage),
        // A number is a stage: `test 9` is never a stub's name.
        (Some(word), Some(Err(error))) if word.parse::<u32>().is_ok() => return Err(error),
        (Some(stub), _) => {
            let found = hints_cli::find(root, Some(stub))?;
            let here = STAGES.iter().position(|s| *s == found.stage);
            let maps = if survey { surveyed(cargo, here)? } else { Vec::new() };
            return Ok(Aimed { stage: found.stage, step: found.step, maps, here });
        }
    };
    let maps = surveyed(cargo, here)?;
    let Some(current) = map::current(&maps, here) else {
        return Err("every stage passes: there is no next step".to_string());
    };
    let steps = current.steps.as_ref().map_err(Clone::clone)?;
    match steps::next(steps, &current.stubs, &current.failing) {
        Some((step, _)) => Ok(Aimed { stage: current.stage, step: step.clone(), here, maps }),
        None => Err(format!("{} passes every test: no step is left", current.stage.label())),
    }
}

fn surveyed(cargo: &Cargo, here: Option<usize>) -> Result<Vec<map::StageMap>, String> {
    let mut progress = progress::Stages::new(true);
    let maps = map::survey_current(cargo, here, &mut |stage| progress.start(stage));
    progress.finish();
    maps.map_err(|e| e.to_string())
}

fn carry(root: &Path, from: &str, into: Option<&str>, undo: bool) -> ExitCode {
    let stages = carry::stage_named(from).and_then(|from| {
        let into = match into {
            Some(into) => carry::stage_named(into)?,
            None => carry::next_stage(&from).ok_or_else(|| {
                format!("{} is the last stage: nothing comes after it", from.label())
            })?,
        };
        Ok((from, into))
    });
    let plan = stages.and_then(|(from, into)| carry::plan(root, &from, &into, undo));
    let plan = match plan {
        Ok(plan) => plan,
        Err(error) => return fail(error, 2),
    };
    let (from, into) = (plan.from, plan.into);
    let verb = if undo { "back on the reference of" } else { "on your own code of" };
    println!("{}, {verb} {}:", into.label(), from.label());
    if let Err(error) = carry::apply(root, &plan) {
        return fail(format!("cannot rewrite {}: {error}", into.label()), 1);
    }
    print!("{}", carry::describe(&plan));
    if undo || !plan.takes_yours() {
        return if undo || plan.links.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE };
    }
    println!(
        "\n{}'s tests (cargo test -p {}), with your {} code:",
        into.label(),
        into.name,
        from.label()
    );
    let cargo = Cargo::new(root);
    let stubs = crate::checks::stub_messages(&root.join(into.exercise_dir()).join("src"));
    let verdict = match (cargo.test_package(into.name), stubs) {
        (Ok(Build::Built(runs)), Ok(stubs)) => carry::verdict(&runs, &stubs),
        (Ok(Build::Failed { first_error, .. }), _) => {
            println!(
                "  {} does not compile with your {} code; the first error:\n{first_error}\n  (see it all: {})",
                into.label(),
                from.label(),
                Cargo::errors_command(into.name)
            );
            print!("\n{}", carry::undo_hint(&plan));
            return ExitCode::FAILURE;
        }
        (Err(error), _) => return fail(error, 1),
        (_, Err(error)) => return fail(error, 1),
    };
    print!("{}", carry::describe_verdict(root, &verdict, &from, &into));
    print!("\n{}", carry::undo_hint(&plan));
    match verdict.failed.is_empty() && verdict.crashed.is_empty() {
        true => ExitCode::SUCCESS,
        false => ExitCode::FAILURE,
    }
}

fn hint(root: &Path, stub: Option<&str>, level: Option<usize>) -> ExitCode {
    finish(hints_cli::find(root, stub).and_then(|found| hints_cli::render(&found, level)), 2)
}

fn fingerprint() -> ExitCode {
    let root = repo_root();
    let written =
        fresh::render(&root).and_then(|text| std::fs::write(root.join(fresh::FILE), text));
    let said = format!("recorded the exercises as the fresh ones in {}\n", fresh::FILE);
    finish(written.map(|()| said).map_err(|e| format!("cannot write {}: {e}", fresh::FILE)), 1)
}

fn verify() -> ExitCode {
    let cargo = Cargo::new(&repo_root());
    let strict = fresh::strict();
    println!("Course checks{}\n", if strict { " (strict: RAFT_STRICT_CHECKS is set)" } else { "" });
    let mut failed = Vec::new();
    for (position, check) in CHECKS.iter().enumerate() {
        let started = Instant::now();
        let findings = check.run(&cargo, strict);
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
            println!("   - {}", problem.replace('\n', "\n     "));
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

    /// Each command line, and what it is read as: a command, or what is wrong with it.
    #[test]
    fn arguments_are_read_as_commands_or_refused_naming_what_is_wrong() {
        let what = |word: &str| Some(word.to_string());
        let hint = |stub: Option<&str>, level| Command::Hint { stub: stub.map(Into::into), level };
        let carry = |from: &str, into: Option<&str>, undo| Command::Carry {
            from: from.into(),
            into: into.map(Into::into),
            undo,
        };
        let wrong = |text: &str| Err(text.to_string());
        let cases = [
            (&[][..], Ok(Command::Map)),
            (&["verify"], Ok(Command::Verify)),
            (&["--help"], Ok(Command::Help)),
            // `test` and `watch` take a stub or a stage: `watch take_committed` is not refused.
            (&["watch"], Ok(Command::Watch { what: None, once: false })),
            (&["test", "3"], Ok(Command::Test { what: what("3") })),
            (
                &["watch", "take_committed"],
                Ok(Command::Watch { what: what("take_committed"), once: false }),
            ),
            (&["watch", "--once", "3"], Ok(Command::Watch { what: what("3"), once: true })),
            (&["watch", "a", "b"], wrong("unexpected argument `b`")),
            (&["hint"], Ok(hint(None, None))),
            (&["hint", "2"], Ok(hint(None, Some(2)))),
            (&["hint", "Log::term_at"], Ok(hint(Some("Log::term_at"), None))),
            (&["hint", "term_at", "3"], Ok(hint(Some("term_at"), Some(3)))),
            (&["hint", "term_at", "0"], wrong("the hint level `0` is not a number from 1")),
            (&["hint", "a", "1", "x"], wrong("unexpected argument `x`")),
            (&["carry", "2"], Ok(carry("2", None, false))),
            (&["carry", "election", "4"], Ok(carry("election", Some("4"), false))),
            (&["carry", "2", "--undo"], Ok(carry("2", None, true))),
            (&["carry", "2", "4", "--undo"], Ok(carry("2", Some("4"), true))),
            (&["carry", "1", "2", "3"], wrong("unexpected argument `3`")),
            (&["carry"], wrong("carry needs a stage: `cargo run -- carry 2`")),
            (&["map"], wrong("unknown command `map`")),
            (&["verify", "x"], wrong("unexpected argument `x`")),
        ];
        for (words, expected) in cases {
            let args: Vec<String> = words.iter().map(|s| s.to_string()).collect();
            assert_eq!(parse(&args), expected, "{words:?}");
        }
    }
}
