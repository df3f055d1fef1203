//! `cargo run -- live`: five servers in the browser, the paper's visualization driven by a
//! real node in the course's simulated cluster ([`harness::live`]).
//!
//! Which node: the reference of the latest stage that has a live example by default; `--stage
//! N` another stage's (from 2: stage 1 has no node; a stage without an example is refused,
//! naming the file); `--yours` the learner's own exercise of that stage, refused while it has
//! stubs left (they are named), since a `todo!()` would stop the run at its first call.
//!
//! How the node gets into a binary: each stage's exercise has one small example,
//! `exercises/NN-stage/examples/live.rs`, that names its node type and abilities and calls
//! [`harness::live::main`]; the reference's package builds the very same file (an
//! `[[example]]` by path, as its tests are). So this command runs `cargo run -p <package>
//! --example <package>-live` with the rest of the arguments (every example in a workspace
//! needs a name of its own). The course tool itself depends on no
//! exercise: a learner's half-written crate that does not compile must never stop `cargo run`
//! from showing the map, and only `--yours` builds it, when asked.

use std::path::Path;
use std::process::ExitCode;

use crate::cargo::Cargo;

use crate::stages::{STAGES, Stage};
use crate::steps;

/// What `live` was asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The stage whose node runs; `None`: the latest that has a live example.
    pub stage: Option<u32>,
    /// The learner's exercise instead of the reference.
    pub yours: bool,
    /// The options for the page itself (`--seed`, `--speed`, …), passed on.
    pub rest: Vec<String>,
}

/// The first stage with a node to run.
const FIRST: u32 = 2;

impl Options {
    /// Reads `--stage N` and `--yours`; the rest goes to the page's server.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let last = STAGES.last().expect("stages").number;
        let mut options = Options { stage: None, yours: false, rest: Vec::new() };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--yours" => options.yours = true,
                "--stage" => {
                    let value = args.next().ok_or("`--stage` needs a number")?;
                    let number = value.parse().ok().filter(|n| (FIRST..=last).contains(n));
                    let why = format!("--stage takes {FIRST} to {last}: stage 1 has no node");
                    options.stage = Some(number.ok_or(why)?);
                }
                _ => options.rest.push(arg.clone()),
            }
        }
        Ok(options)
    }

    /// The stage asked for, else the latest with a live example; `Err` names what is missing.
    fn stage(&self, root: &Path) -> Result<&'static Stage, String> {
        let has_example = |stage: &&Stage| live_example(root, stage).is_file();
        let Some(number) = self.stage else {
            let latest = STAGES.iter().rev().find(has_example);
            return latest.ok_or_else(|| "no stage has a live example".to_string());
        };
        let stage = STAGES.iter().find(|s| s.number == number).expect("checked by parse");
        if has_example(&stage) {
            return Ok(stage);
        }
        let with: Vec<String> =
            STAGES.iter().filter(has_example).map(|s| s.number.to_string()).collect();
        Err(format!(
            "{} has no live page yet ({} is missing); stages {} have one",
            stage.label(),
            live_example(Path::new(""), stage).display(),
            with.join(", ")
        ))
    }
}

/// A stage's live example: the file that names its node type and abilities.
pub fn live_example(root: &Path, stage: &Stage) -> std::path::PathBuf {
    root.join(stage.exercise_dir()).join("examples").join("live.rs")
}

/// Runs the page for the stage asked for: exit code of the page's server.
pub fn run(root: &Path, options: &Options) -> ExitCode {
    let stage = match options.stage(root) {
        Ok(stage) => stage,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let instead = format!("watch the reference: cargo run -- live --stage {}", stage.number);
    if options.yours
        && let Err(refused) = no_stub_left(root, stage, "live", "the servers", &instead)
    {
        return refused;
    }
    let package = if options.yours { stage.name.to_string() } else { stage.solution_package() };
    let example = format!("{package}-live");
    // The exercise's example is behind its `live` feature, so that `cargo test` does not link
    // it at every change of the learner's code; the reference's is always built.
    let features = if options.yours { "--features live " } else { "" };
    eprintln!("(building and starting it: cargo run -p {package} {features}--example {example})");
    let mut args = vec!["run".to_string(), "-q".into(), "-p".into(), package];
    args.extend(features.split_whitespace().map(str::to_string));
    args.extend(["--example".to_string(), example, "--".into()]);
    Cargo::new(root).foreground(args.into_iter().chain(options.rest.clone()))
}

/// `command --yours` runs the learner's exercise of `stage`: refused (the exit code) while it
/// has stubs left, since the first `todo!()` a server reached would stop it (`stops`: "a
/// server"). The refusal names them, and what to run `instead`.
pub fn no_stub_left(
    root: &Path,
    stage: &Stage,
    command: &str,
    stops: &str,
    instead: &str,
) -> Result<(), ExitCode> {
    match stubs_left(root, stage) {
        Ok(left) if left.is_empty() => Ok(()),
        Ok(left) => {
            eprintln!(
                "{command} --yours: your {} still has {} left, and the first call of a todo!() \
                 would stop {stops}:\n{}\n\nWrite them (`cargo run` says which is next), or \
                 {instead}",
                stage.label(),
                crate::map::plural(left.len(), "stub"),
                left.join("\n")
            );
            Err(ExitCode::FAILURE)
        }
        Err(error) => {
            eprintln!("error: cannot read {}: {error}", stage.exercise_dir().display());
            Err(ExitCode::FAILURE)
        }
    }
}

/// The stubs left in the learner's exercise of `stage`, one line each: `src/log.rs:42 Log::term_at`.
pub fn stubs_left(root: &Path, stage: &Stage) -> std::io::Result<Vec<String>> {
    let stubs = steps::stubs_left(root, stage)?;
    Ok(stubs
        .into_iter()
        .map(|(file, stub)| format!("  {file}:{}  {}", stub.line, stub.function.name))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn the_latest_reference_by_default_and_the_rest_passed_on() {
        let options = parse(&["--seed", "7", "--no-open"]).expect("parses");
        assert_eq!(options.stage, None);
        assert!(!options.yours);
        assert_eq!(options.rest, ["--seed", "7", "--no-open"]);
        let root = crate::stages::repo_root();
        let latest = options.stage(&root).expect("a stage with a live example");
        assert!(live_example(&root, latest).is_file());
        let later: Vec<&Stage> = STAGES.iter().filter(|s| s.number > latest.number).collect();
        for stage in later {
            let asked = parse(&["--stage", &stage.number.to_string()]).expect("parses");
            let error = asked.stage(&root).unwrap_err();
            assert!(error.contains("has no live page yet"), "{error}");
        }
        let options = parse(&["--stage", "3", "--yours"]).expect("parses");
        assert_eq!((options.stage, options.yours), (Some(3), true));
        assert!(parse(&["--stage", "1"]).unwrap_err().contains("stage 1 has no node"));
        assert!(parse(&["--stage"]).is_err());
    }
}
