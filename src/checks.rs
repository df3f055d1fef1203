//! The course checks (design contract 3, and contracts 1 and 2 for drift): what `cargo run --
//! verify` and the root package's tests (`tests/course.rs`) prove on every CI run.
//!
//! - [`stubs_fail`]: every test of the fresh exercise fails, and only through a `todo!()`;
//! - [`reference_passes`]: every test passes on the reference solution;
//! - [`no_stubs_in_solutions`]: no `todo!` or `unimplemented!` left in `solutions/`;
//! - [`no_drift`]: exercise and solution sources differ only in the stubs' bodies;
//! - [`tests_shared`]: the solution runs exactly the exercise's test files.

use std::collections::BTreeSet;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cargo::{BinaryRun, Cargo, Package, Tested};
use crate::drift;
use crate::libtest::{Outcome, TestResult};
use crate::process;
use crate::source::{self, Parsed};
use crate::stages::{STAGES, Stage};

/// One thing a check found wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The stage it concerns (`stage 1 data-structures`), if any.
    pub stage: Option<String>,
    /// What is wrong, with the evidence (names, lines, an output excerpt).
    pub what: String,
}

impl Problem {
    fn new(stage: &Stage, what: impl Into<String>) -> Self {
        Problem { stage: Some(stage.label()), what: what.into() }
    }

    fn global(what: impl Into<String>) -> Self {
        Problem { stage: None, what: what.into() }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.stage {
            Some(stage) => write!(f, "{stage}: {}", self.what),
            None => write!(f, "{}", self.what),
        }
    }
}

/// What a check found: its problems (none: it passed) and a few words on what it saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Findings {
    /// Everything wrong.
    pub problems: Vec<Problem>,
    /// What was checked, e.g. `stage 1 data-structures: 40 tests`.
    pub notes: Vec<String>,
}

impl Findings {
    fn merge(&mut self, other: Findings) {
        self.problems.extend(other.problems);
        self.notes.extend(other.notes);
    }

    /// The problems, one paragraph each, for a test's failure message.
    pub fn report(&self) -> String {
        let problems: Vec<String> = self.problems.iter().map(|p| format!("- {p}")).collect();
        problems.join("\n")
    }
}

/// A check, as `verify` lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// a. Every test fails on the fresh exercise, and only through a `todo!()`.
    StubsFail,
    /// b. Every test passes on the reference.
    ReferencePasses,
    /// c. No `todo!` / `unimplemented!` in `solutions/`.
    NoStubsInSolutions,
    /// d. Exercise and solution differ only in stub bodies.
    NoDrift,
    /// e. The solution runs the exercise's test files, and only those.
    TestsShared,
}

/// Every check, in the order `verify` runs them (the cheap ones first).
pub const CHECKS: [Check; 5] = [
    Check::NoStubsInSolutions,
    Check::NoDrift,
    Check::TestsShared,
    Check::StubsFail,
    Check::ReferencePasses,
];

impl Check {
    /// One line saying what it proves.
    pub fn title(self) -> &'static str {
        match self {
            Check::StubsFail => "every test fails on the fresh exercise, only through a todo!()",
            Check::ReferencePasses => "every test passes on the reference solution",
            Check::NoStubsInSolutions => "no todo!() or unimplemented!() left in solutions/",
            Check::NoDrift => "exercise and solution sources differ only in the stubs' bodies",
            Check::TestsShared => "each solution runs its exercise's test files, and only those",
        }
    }

    /// Runs the check over every stage.
    pub fn run(self, cargo: &Cargo) -> Findings {
        let root = cargo.root.as_path();
        match self {
            Check::StubsFail => each_stage(|stage| stubs_fail(cargo, stage)),
            Check::ReferencePasses => each_stage(|stage| reference_passes(cargo, stage)),
            Check::NoStubsInSolutions => no_stubs_in_solutions(root),
            Check::NoDrift => each_stage(|stage| no_drift(root, stage)),
            Check::TestsShared => match cargo.metadata() {
                Ok(packages) => {
                    let mut findings = stage_table_matches_workspace(root, &packages);
                    findings.merge(each_stage(|stage| tests_shared(root, &packages, stage)));
                    findings
                }
                Err(error) => problem(Problem::global(error.to_string())),
            },
        }
    }
}

fn each_stage(check: impl Fn(&Stage) -> Findings) -> Findings {
    let mut findings = Findings::default();
    for stage in STAGES {
        findings.merge(check(stage));
    }
    findings
}

fn problem(problem: Problem) -> Findings {
    Findings { problems: vec![problem], notes: Vec::new() }
}

/// Check a: every test of the untouched exercise fails, through a `todo!()` of the exercise.
///
/// A test that passes on the stubs, or fails another way (a wrong assertion, a panic in the
/// tests themselves), proves nothing about the learner's code; each is reported by name with
/// an excerpt of its output. A stage with no tests fails the check.
pub fn stubs_fail(cargo: &Cargo, stage: &Stage) -> Findings {
    let stubs = match stub_messages(&cargo.root.join(stage.exercise_dir()).join("src")) {
        Ok(stubs) => stubs,
        Err(error) => return problem(Problem::new(stage, error)),
    };
    let runs = match tested(cargo, stage, stage.name) {
        Ok(runs) => runs,
        Err(found) => return found,
    };
    let mut findings = runs_problems(stage, &runs);
    let mut total = 0;
    let mut bad = Vec::new();
    for (run, result) in
        runs.iter().flat_map(|run| run.report.results.iter().map(move |r| (run, r)))
    {
        total += 1;
        let problem = match result.outcome {
            Outcome::Passed => Some("passes on the stubs: it does not need the learner's code"),
            Outcome::Ignored => Some("is #[ignore]d, so it cannot fail on the stubs"),
            Outcome::Failed if fails_through_a_stub(&result.output, &stubs) => None,
            Outcome::Failed => Some("fails, but not through a todo!() of the exercise"),
        };
        if let Some(problem) = problem {
            bad.push(test_problem(run, result, problem));
        }
    }
    findings.problems.extend(capped(stage, bad));
    if total == 0 {
        findings.problems.push(Problem::new(stage, format!("`{}` has no tests", stage.name)));
    }
    findings.notes.push(format!("{}: {total} tests, {} stubs", stage.label(), stubs.len()));
    findings
}

/// Check b: every test of the stage passes on the reference solution.
pub fn reference_passes(cargo: &Cargo, stage: &Stage) -> Findings {
    let package = stage.solution_package();
    let runs = match tested(cargo, stage, &package) {
        Ok(runs) => runs,
        Err(found) => return found,
    };
    let mut findings = runs_problems(stage, &runs);
    let results: Vec<(&BinaryRun, &TestResult)> =
        runs.iter().flat_map(|run| run.report.results.iter().map(move |r| (run, r))).collect();
    let mut bad = Vec::new();
    for &(run, result) in &results {
        let problem = match result.outcome {
            Outcome::Passed => None,
            Outcome::Failed => Some("fails on the reference solution"),
            Outcome::Ignored => Some("is #[ignore]d, so the reference is not checked against it"),
        };
        if let Some(problem) = problem {
            bad.push(test_problem(run, result, problem));
        }
    }
    findings.problems.extend(capped(stage, bad));
    if results.is_empty() {
        findings.problems.push(Problem::new(stage, format!("`{package}` has no tests")));
    }
    findings.notes.push(format!("{}: {} tests", stage.label(), results.len()));
    findings
}

/// Builds and runs `package`'s tests; a build failure or an I/O error is the findings.
fn tested(cargo: &Cargo, stage: &Stage, package: &str) -> Result<Vec<BinaryRun>, Findings> {
    match cargo.test_package(package) {
        Ok(Tested::Ran(runs)) => Ok(runs),
        Ok(Tested::NotCompiled { culprit, first_error }) => {
            let culprit = culprit
                .filter(|c| c != package)
                .map_or_else(String::new, |c| format!(" (the error is in `{c}`)"));
            Err(problem(Problem::new(
                stage,
                format!(
                    "`{package}` does not compile{culprit}; see `{}`:\n{}",
                    Cargo::errors_command(package),
                    indent(&process::tail(&first_error, 20))
                ),
            )))
        }
        Err(error) => Err(problem(Problem::new(stage, format!("`{package}`: {error}")))),
    }
}

/// Test executables that crashed or hit the time limit.
fn runs_problems(stage: &Stage, runs: &[BinaryRun]) -> Findings {
    let mut findings = Findings::default();
    for run in runs {
        if let Some(crash) = &run.crash {
            findings.problems.push(Problem::new(
                stage,
                format!("test target `{}` of `{}` {crash}", run.binary.target, run.binary.package),
            ));
        }
    }
    findings
}

/// At most this many failing tests are reported per stage and check, with their output.
const SHOWN_TESTS: usize = 5;

/// The first [`SHOWN_TESTS`] test problems, then one line counting the rest.
fn capped(stage: &Stage, problems: Vec<String>) -> Vec<Problem> {
    let hidden = problems.len().saturating_sub(SHOWN_TESTS);
    let mut shown: Vec<Problem> =
        problems.into_iter().take(SHOWN_TESTS).map(|p| Problem::new(stage, p)).collect();
    if hidden > 0 {
        shown.push(Problem::new(stage, format!("… and {hidden} more tests like these")));
    }
    shown
}

fn test_problem(run: &BinaryRun, result: &TestResult, problem: &str) -> String {
    let target = match run.binary.is_lib {
        true => "the unit tests in src/".to_string(),
        false => format!("--test {}", run.binary.target),
    };
    let name = format!("test `{}` ({target}, package `{}`)", result.name, run.binary.package);
    if result.output.is_empty() {
        return format!("{name} {problem}");
    }
    format!("{name} {problem}; its output:\n{}", indent(&process::tail(&result.output, 15)))
}

fn indent(text: &str) -> String {
    text.lines().map(|line| format!("    {line}")).collect::<Vec<_>>().join("\n")
}

/// The `todo!` messages of every stub under `src` (`None` for a bare `todo!()`).
pub fn stub_messages(src: &Path) -> Result<Vec<Option<String>>, String> {
    let files =
        source::rust_files(src).map_err(|e| format!("cannot read {}: {e}", src.display()))?;
    let mut messages = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let parsed = Parsed::new(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        messages.extend(parsed.stubs().into_iter().map(|stub| stub.message));
    }
    Ok(messages)
}

/// Does a failure's output show the panic of one of the exercise's stubs? libtest prints
/// `not yet implemented: <message>`, and the harness quotes a node's panic message verbatim.
pub fn fails_through_a_stub(output: &str, stubs: &[Option<String>]) -> bool {
    const TODO: &str = "not yet implemented";
    output.lines().any(|line| {
        line.match_indices(TODO).any(|(at, _)| {
            let after = &line[at + TODO.len()..];
            stubs.iter().any(|stub| match (stub, after.strip_prefix(": ")) {
                (Some(template), Some(printed)) => source::message_matches(template, printed),
                (None, None) => !after.starts_with(':'),
                _ => false,
            })
        })
    })
}

/// Check c: no stub left in any reference solution.
pub fn no_stubs_in_solutions(root: &Path) -> Findings {
    let mut findings = Findings::default();
    let files = match source::rust_files(&root.join("solutions")) {
        Ok(mut files) => {
            files.sort();
            files
        }
        Err(error) => return problem(Problem::global(format!("cannot read solutions/: {error}"))),
    };
    for file in &files {
        let shown = relative(root, file);
        let text = match fs::read_to_string(file) {
            Ok(text) => text,
            Err(error) => {
                findings.problems.push(Problem::global(format!("{shown}: {error}")));
                continue;
            }
        };
        let parsed = match Parsed::new(&text) {
            Ok(parsed) => parsed,
            Err(error) => {
                findings.problems.push(Problem::global(format!("{shown}: {error}")));
                continue;
            }
        };
        for (index, token) in parsed.tokens.iter().enumerate() {
            for name in ["todo", "unimplemented"] {
                if parsed.is_macro_call(index, name) {
                    let line = crate::lexer::line_of(&text, token.start);
                    findings.problems.push(Problem::global(format!(
                        "{shown}:{line}: `{name}!` in a reference solution"
                    )));
                }
            }
        }
    }
    findings.notes.push(format!("{} files", files.len()));
    findings
}

/// Check d: the exercise's and the solution's `src` hold the same files, identical except
/// for the bodies of the exercise's stubs.
pub fn no_drift(root: &Path, stage: &Stage) -> Findings {
    let exercise_src = root.join(stage.exercise_dir()).join("src");
    let solution_src = root.join(stage.solution_dir()).join("src");
    let (exercise_files, solution_files) =
        match (files_under(&exercise_src), files_under(&solution_src)) {
            (Ok(e), Ok(s)) => (e, s),
            (Err(error), _) | (_, Err(error)) => {
                return problem(Problem::new(stage, error.to_string()));
            }
        };
    let mut findings = Findings::default();
    for only in exercise_files.symmetric_difference(&solution_files) {
        let (present, absent) = match exercise_files.contains(only) {
            true => (&exercise_src, &solution_src),
            false => (&solution_src, &exercise_src),
        };
        findings.problems.push(Problem::new(
            stage,
            format!(
                "{} has no counterpart {}",
                relative(root, &present.join(only)),
                relative(root, &absent.join(only))
            ),
        ));
    }
    for file in exercise_files.intersection(&solution_files) {
        let exercise_path = exercise_src.join(file);
        let solution_path = solution_src.join(file);
        let read =
            |path: &Path| fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()));
        let (exercise, solution) = match (read(&exercise_path), read(&solution_path)) {
            (Ok(e), Ok(s)) => (e, s),
            (Err(error), _) | (_, Err(error)) => {
                findings.problems.push(Problem::new(stage, error));
                continue;
            }
        };
        if let Err(drift) = drift::compare(&exercise, &solution) {
            findings.problems.push(Problem::new(
                stage,
                format!(
                    "drift at {}:{} / {}:{}: {}",
                    relative(root, &exercise_path),
                    drift.exercise_line,
                    relative(root, &solution_path),
                    drift.solution_line,
                    drift.reason
                ),
            ));
        }
    }
    findings.notes.push(format!("{}: {} files", stage.label(), exercise_files.len()));
    findings
}

/// The `.rs` files under `dir`, relative to it.
fn files_under(dir: &Path) -> io::Result<BTreeSet<PathBuf>> {
    let files = source::rust_files(dir)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot read {}: {e}", dir.display())))?;
    Ok(files.iter().filter_map(|f| f.strip_prefix(dir).ok().map(Path::to_path_buf)).collect())
}

/// Check e: each `exercises/NN/tests/*.rs` is a test target of the solution, and the
/// solution has no test of its own (one test source, design contract 1).
pub fn tests_shared(root: &Path, packages: &[Package], stage: &Stage) -> Findings {
    let solution_package = stage.solution_package();
    let Some(solution) = packages.iter().find(|p| p.name == solution_package) else {
        return problem(Problem::new(
            stage,
            format!("no package `{solution_package}` in the workspace"),
        ));
    };
    let tests_dir = root.join(stage.exercise_dir()).join("tests");
    let exercise_tests = match top_level_rust_files(&tests_dir) {
        Ok(files) => files,
        Err(error) => {
            return problem(Problem::new(
                stage,
                format!("cannot read {}: {error}", relative(root, &tests_dir)),
            ));
        }
    };
    let mut findings = Findings::default();
    if exercise_tests.is_empty() {
        findings
            .problems
            .push(Problem::new(stage, format!("{} has no test files", relative(root, &tests_dir))));
    }
    let used: BTreeSet<&PathBuf> = solution.test_sources.iter().collect();
    for test in &exercise_tests {
        if !used.contains(test) {
            findings.problems.push(Problem::new(
                stage,
                format!(
                    "{} is not a [[test]] of `{solution_package}` ({}/Cargo.toml): the reference never runs it",
                    relative(root, test),
                    relative(root, &solution.dir)
                ),
            ));
        }
    }
    for source in &solution.test_sources {
        if !source.starts_with(&tests_dir) {
            findings.problems.push(Problem::new(
                stage,
                format!(
                    "`{solution_package}` has a test of its own, {}: tests belong in {}",
                    relative(root, source),
                    relative(root, &tests_dir)
                ),
            ));
        }
    }
    let own_dir = root.join(stage.solution_dir()).join("tests");
    for stray in top_level_rust_files(&own_dir).unwrap_or_default() {
        if !solution.test_sources.contains(&stray) {
            findings.problems.push(Problem::new(
                stage,
                format!(
                    "{} is never run (not a [[test]] target): tests belong in {}",
                    relative(root, &stray),
                    relative(root, &tests_dir)
                ),
            ));
        }
    }
    findings.notes.push(format!("{}: {} test files", stage.label(), exercise_tests.len()));
    findings
}

fn top_level_rust_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut files: Vec<PathBuf> = fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file() && path.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    Ok(files)
}

/// The stage table, the directories and the workspace's packages agree: a stage added to
/// the workspace but not to [`STAGES`] would otherwise go unchecked.
pub fn stage_table_matches_workspace(root: &Path, packages: &[Package]) -> Findings {
    let mut findings = Findings::default();
    for stage in STAGES {
        for (package, dir) in [
            (stage.name.to_string(), stage.exercise_dir()),
            (stage.solution_package(), stage.solution_dir()),
        ] {
            match packages.iter().find(|p| p.name == package) {
                Some(found) if found.dir == root.join(&dir) => {}
                Some(found) => findings.problems.push(Problem::new(
                    stage,
                    format!(
                        "package `{package}` is in {}, expected {}",
                        relative(root, &found.dir),
                        dir.display()
                    ),
                )),
                None => findings.problems.push(Problem::new(
                    stage,
                    format!(
                        "no package `{package}` ({}) among the workspace members",
                        dir.display()
                    ),
                )),
            }
        }
    }
    let known: BTreeSet<String> = STAGES.iter().map(Stage::dir_name).collect();
    for parent in ["exercises", "solutions"] {
        let Ok(entries) = fs::read_dir(root.join(parent)) else { continue };
        let mut dirs: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("Cargo.toml").is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        dirs.sort();
        for dir in dirs.iter().filter(|d| !known.contains(*d)) {
            findings.problems.push(Problem::global(format!(
                "{parent}/{dir} is not in the stage table (src/stages.rs), so no check covers it"
            )));
        }
    }
    findings
}

/// Has the learner (or a maintainer) changed this stage's exercise since the last commit?
/// `None` if git cannot tell (no git, not a repository).
pub fn exercise_is_edited(root: &Path, stage: &Stage) -> Option<bool> {
    let output = Command::new("git")
        .args(["status", "--porcelain", "--"])
        .arg(stage.exercise_dir())
        .current_dir(root)
        .output()
        .ok()?;
    output.status.success().then_some(!output.stdout.is_empty())
}

/// `path` relative to `root`, for messages.
pub fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stub_panic_is_recognised_in_a_default_panic_message() {
        let output = "thread 'x' panicked at exercises/01/src/log.rs:3:9:\n\
                      not yet implemented: return the last index (§5.3)";
        let stubs = [Some("return the last index (§5.3)".to_string())];
        assert!(fails_through_a_stub(output, &stubs));
    }

    #[test]
    fn a_stub_panic_is_recognised_inside_a_harness_report() {
        let output = "node 2 panicked at tick 14 (seed 7): not yet implemented: count votes from {} peers (§5.2)";
        let stubs = [Some("count votes from {peers} peers (§5.2)".to_string())];
        assert!(fails_through_a_stub(output, &stubs));
    }

    #[test]
    fn other_failures_are_not_stub_panics() {
        let stubs = [Some("return the last index (§5.3)".to_string()), None];
        assert!(!fails_through_a_stub("assertion `left == right` failed", &stubs));
        assert!(!fails_through_a_stub("not yet implemented: another message", &stubs));
        assert!(fails_through_a_stub("not yet implemented", &stubs));
    }
}
