//! The course checks (design contract 3, and contracts 1 and 2 for drift): what `cargo run --
//! verify` and the root package's tests (`tests/course.rs`) prove on every CI run.
//!
//! - [`stubs_fail`]: every test of the fresh exercise fails, and only through a `todo!()`;
//! - [`reference_passes`]: every test passes on the reference solution;
//! - [`no_stubs_in_solutions`]: no `todo!` or `unimplemented!` left in `solutions/`;
//! - [`no_drift`]: exercise and solution sources differ only in the stubs' bodies;
//! - [`tests_shared`]: the solution runs exactly the exercise's test files;
//! - [`fresh_recorded`]: the record of the fresh exercises matches them.
//!
//! The checks about the *fresh* exercise (stubs fail, no drift) skip, with a note, a stage
//! whose `src/` differs from its record ([`crate::fresh`]): that is a learner's work, committed
//! or not. With `RAFT_STRICT_CHECKS=1` (CI) nothing is skipped and a difference is a failure.

use std::collections::BTreeSet;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::cargo::{BinaryRun, Build, Cargo, Package};
use crate::drift;
use crate::fresh::{self, Freshness};
use crate::hints;
use crate::libtest::{Outcome, TestResult};
use crate::process;
use crate::source::{self, Parsed};
use crate::stages::{STAGES, Stage};
use crate::steps;

/// One thing a check found wrong, with the evidence (names, lines, an output excerpt), as
/// `stage 1 data-structures: what is wrong`.
fn at(stage: &Stage, what: impl fmt::Display) -> String {
    format!("{}: {what}", stage.label())
}

/// What a check found: its problems (none: it passed) and a few words on what it saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Findings {
    /// Everything wrong, one paragraph each (each names its stage first).
    pub problems: Vec<String>,
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

/// A check, numbered as `verify` and README.md ("Course checks") list them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// 1. The record of the fresh exercises matches them.
    FreshRecorded,
    /// 2. No `todo!` / `unimplemented!` in `solutions/`.
    NoStubsInSolutions,
    /// 3. Exercise and solution differ only in stub bodies.
    NoDrift,
    /// 4. The solution runs the exercise's test files, and only those.
    TestsShared,
    /// 5. Every stub has hints and tests; every step runs a test of its own; every test
    ///    belongs to one step.
    StepsCover,
    /// 6. Every test fails on the fresh exercise, and only through a `todo!()`.
    StubsFail,
    /// 7. Every test passes on the reference.
    ReferencePasses,
}

/// Every check, in the order `verify` runs and numbers them (the cheap ones first).
pub const CHECKS: [Check; 7] = [
    Check::FreshRecorded,
    Check::NoStubsInSolutions,
    Check::NoDrift,
    Check::TestsShared,
    Check::StepsCover,
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
            Check::FreshRecorded => {
                "the fresh exercises match their record (exercises/fresh-stubs.txt)"
            }
            Check::StepsCover => {
                "every stub has hints and tests, every test belongs to one step (src/table.rs)"
            }
        }
    }

    /// Runs the check over every stage; `strict` (CI): no stage is skipped as a learner's work.
    pub fn run(self, cargo: &Cargo, strict: bool) -> Findings {
        let root = cargo.root.as_path();
        let fresh_only = |check: &dyn Fn(&Stage) -> Findings| {
            each_stage(|stage| match skip_as_learners_work(root, stage, strict) {
                Some(skipped) => note(skipped),
                None => check(stage),
            })
        };
        match self {
            Check::StubsFail => fresh_only(&|stage| stubs_fail(cargo, stage)),
            Check::ReferencePasses => each_stage(|stage| reference_passes(cargo, stage)),
            Check::NoStubsInSolutions => no_stubs_in_solutions(root),
            Check::NoDrift => fresh_only(&|stage| no_drift(root, stage)),
            Check::FreshRecorded => each_stage(|stage| fresh_recorded(root, stage, strict)),
            Check::StepsCover => each_stage(|stage| steps_cover(cargo, stage)),
            Check::TestsShared => match cargo.metadata() {
                Ok(packages) => {
                    let mut findings = stage_table_matches_workspace(root, &packages);
                    findings.merge(each_stage(|stage| tests_shared(root, &packages, stage)));
                    findings
                }
                Err(error) => problem(error.to_string()),
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

fn problem(problem: String) -> Findings {
    Findings { problems: vec![problem], notes: Vec::new() }
}

fn note(note: String) -> Findings {
    Findings { problems: Vec::new(), notes: vec![note] }
}

/// Check 6: every test of the untouched exercise fails, through a `todo!()` of the exercise.
///
/// A test that passes on the stubs, or fails another way (a wrong assertion, a panic in the
/// tests themselves), proves nothing about the learner's code; each is reported by name with
/// an excerpt of its output. A stage with no tests fails the check.
pub fn stubs_fail(cargo: &Cargo, stage: &Stage) -> Findings {
    let stubs = match stub_messages(&cargo.root.join(stage.exercise_dir()).join("src")) {
        Ok(stubs) => stubs,
        Err(error) => return problem(at(stage, error)),
    };
    judge(cargo, stage, stage.name, |result| match result.outcome {
        Outcome::Passed => Some("passes on the stubs: it does not need the learner's code"),
        Outcome::Ignored => Some("is #[ignore]d, so it cannot fail on the stubs"),
        Outcome::Failed if fails_through_a_stub(&result.output, &stubs) => None,
        Outcome::Failed => Some("fails, but not through a todo!() of the exercise"),
    })
}

/// Check 7: every test of the stage passes on the reference solution.
pub fn reference_passes(cargo: &Cargo, stage: &Stage) -> Findings {
    judge(cargo, stage, &stage.solution_package(), |result| match result.outcome {
        Outcome::Passed => None,
        Outcome::Failed => Some("fails on the reference solution"),
        Outcome::Ignored => Some("is #[ignore]d, so the reference is not checked against it"),
    })
}

/// Runs `package`'s tests and reports every test `wrong` finds wrong (with its output), every
/// test executable that crashed, and a package with no tests.
fn judge(
    cargo: &Cargo,
    stage: &Stage,
    package: &str,
    wrong: impl Fn(&TestResult) -> Option<&'static str>,
) -> Findings {
    let runs = match tested(cargo, stage, package) {
        Ok(runs) => runs,
        Err(found) => return found,
    };
    let mut findings = runs_problems(stage, &runs);
    let mut total = 0;
    let mut bad = Vec::new();
    for run in &runs {
        for result in &run.report.results {
            total += 1;
            bad.extend(wrong(result).map(|problem| test_problem(run, result, problem)));
        }
    }
    findings.problems.extend(capped(stage, bad));
    if total == 0 {
        findings.problems.push(at(stage, format!("`{package}` has no tests")));
    }
    findings.notes.push(format!("{}: {total} tests", stage.label()));
    findings
}

/// Builds and runs `package`'s tests; a build failure or an I/O error is the findings.
fn tested(cargo: &Cargo, stage: &Stage, package: &str) -> Result<Vec<BinaryRun>, Findings> {
    match cargo.test_package(package) {
        Ok(Build::Built(runs)) => Ok(runs),
        Ok(Build::Failed { culprit, first_error }) => {
            let culprit = culprit
                .filter(|c| c != package)
                .map_or_else(String::new, |c| format!(" (the error is in `{c}`)"));
            Err(problem(at(
                stage,
                format!(
                    "`{package}` does not compile{culprit}; see `{}`:\n{}",
                    Cargo::errors_command(package),
                    process::indent(&process::tail(&first_error, 20), "    ")
                ),
            )))
        }
        Err(error) => Err(problem(at(stage, format!("`{package}`: {error}")))),
    }
}

/// Test executables that crashed or hit the time limit.
fn runs_problems(stage: &Stage, runs: &[BinaryRun]) -> Findings {
    let mut findings = Findings::default();
    for run in runs {
        if let Some(crash) = &run.crash {
            findings.problems.push(at(
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
fn capped(stage: &Stage, problems: Vec<String>) -> Vec<String> {
    let hidden = problems.len().saturating_sub(SHOWN_TESTS);
    let mut shown: Vec<String> =
        problems.into_iter().take(SHOWN_TESTS).map(|p| at(stage, p)).collect();
    if hidden > 0 {
        shown.push(at(stage, format!("… and {hidden} more tests like these")));
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
    format!(
        "{name} {problem}; its output:\n{}",
        process::indent(&process::tail(&result.output, 15), "    ")
    )
}

/// The `todo!` messages of every stub under `src` (`None` for a bare `todo!()`).
pub fn stub_messages(src: &Path) -> Result<Vec<Option<String>>, String> {
    source::gather(src, |_, parsed| parsed.stubs().into_iter().map(|stub| stub.message).collect())
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

/// Check 2: no stub left in any reference solution.
pub fn no_stubs_in_solutions(root: &Path) -> Findings {
    let mut files = 0;
    let found = source::gather(&root.join("solutions"), |file, parsed| {
        files += 1;
        let mut problems: Vec<String> = Vec::new();
        for (index, token) in parsed.tokens.iter().enumerate() {
            for name in ["todo", "unimplemented"] {
                if parsed.is_macro_call(index, name) {
                    let line = crate::lexer::line_of(parsed.source, token.start);
                    let shown = relative(root, file);
                    let what = format!("{shown}:{line}: `{name}!` in a reference solution");
                    problems.push(what);
                }
            }
        }
        problems
    });
    match found {
        Ok(problems) => Findings { problems, notes: vec![format!("{files} files")] },
        Err(error) => problem(error),
    }
}

/// Check 3: the exercise's and the solution's `src` hold the same files, identical except
/// for the bodies of the exercise's stubs.
pub fn no_drift(root: &Path, stage: &Stage) -> Findings {
    let exercise_src = root.join(stage.exercise_dir()).join("src");
    let solution_src = root.join(stage.solution_dir()).join("src");
    let (exercise_files, solution_files) =
        match (files_under(&exercise_src), files_under(&solution_src)) {
            (Ok(e), Ok(s)) => (e, s),
            (Err(error), _) | (_, Err(error)) => {
                return problem(at(stage, error.to_string()));
            }
        };
    let mut findings = Findings::default();
    for only in exercise_files.symmetric_difference(&solution_files) {
        let (present, absent) = match exercise_files.contains(only) {
            true => (&exercise_src, &solution_src),
            false => (&solution_src, &exercise_src),
        };
        findings.problems.push(at(
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
                findings.problems.push(at(stage, error));
                continue;
            }
        };
        if let Err(drift) = drift::compare(&exercise, &solution) {
            findings.problems.push(at(
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

/// Check 4: each `exercises/NN/tests/*.rs` is a test target of the solution, and the
/// solution has no test of its own (one test source, design contract 1).
pub fn tests_shared(root: &Path, packages: &[Package], stage: &Stage) -> Findings {
    let solution_package = stage.solution_package();
    let Some(solution) = packages.iter().find(|p| p.name == solution_package) else {
        return problem(at(stage, format!("no package `{solution_package}` in the workspace")));
    };
    let tests_dir = root.join(stage.exercise_dir()).join("tests");
    let exercise_tests = match top_level_rust_files(&tests_dir) {
        Ok(files) => files,
        Err(error) => {
            return problem(at(
                stage,
                format!("cannot read {}: {error}", relative(root, &tests_dir)),
            ));
        }
    };
    let mut findings = Findings::default();
    if exercise_tests.is_empty() {
        findings
            .problems
            .push(at(stage, format!("{} has no test files", relative(root, &tests_dir))));
    }
    for test in &exercise_tests {
        if !solution.test_sources.contains(test) {
            findings.problems.push(at(
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
            findings.problems.push(at(
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
            findings.problems.push(at(
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
                Some(found) => findings.problems.push(at(
                    stage,
                    format!(
                        "package `{package}` is in {}, expected {}",
                        relative(root, &found.dir),
                        dir.display()
                    ),
                )),
                None => findings.problems.push(at(
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
            findings.problems.push(format!(
                "{parent}/{dir} is not in the stage table (src/stages.rs), so no check covers it"
            ));
        }
    }
    findings
}

/// Check 5: the stage's steps (the hint sections of its hints file, `docs/hints/NN-stage.md`,
/// in order, and the tests of each in `src/table.rs`) cover it: every stub of the exercise is
/// named by exactly one section, every name by a function of the reference, every section has
/// a hint, every step a test; every test of the stage belongs to exactly one step. The chapter
/// itself holds no hint ([`hints_on_request`]).
pub fn steps_cover(cargo: &Cargo, stage: &Stage) -> Findings {
    let root = cargo.root.as_path();
    let steps = match steps::steps(root, stage) {
        Ok(steps) => steps,
        Err(error) => return problem(at(stage, error)),
    };
    let chapter = stage.hints().display().to_string();
    let mut findings = Findings::default();
    let mut complain = |what: String| findings.problems.push(at(stage, what));
    for problem in hints_on_request(root, stage).into_iter().chain(no_spoilers(root, stage)) {
        complain(problem);
    }
    match later_needs_told(root, stage) {
        Ok(problems) => problems.into_iter().for_each(&mut complain),
        Err(error) => complain(error),
    }
    let exercise_stubs = functions_in(&root.join(stage.exercise_dir()).join("src"), true);
    let solution_functions = functions_in(&root.join(stage.solution_dir()).join("src"), false);
    let (exercise_stubs, solution_functions) = match (exercise_stubs, solution_functions) {
        (Ok(e), Ok(s)) => (e, s),
        (Err(error), _) | (_, Err(error)) => return problem(at(stage, error)),
    };
    let sections: Vec<&hints::Section> = steps.iter().flat_map(|s| &s.sections).collect();
    for stub in &exercise_stubs {
        let lines: Vec<usize> =
            sections.iter().filter(|s| s.covers(stub)).map(|s| s.line).collect();
        match lines[..] {
            [_] => {}
            [] => complain(format!("stub `{stub}` has no `### ` hint section in {chapter}")),
            _ => complain(format!(
                "stub `{stub}` is in several hint sections ({chapter}, lines {lines:?})"
            )),
        }
    }
    for section in &sections {
        for name in &section.names {
            if !solution_functions.iter().any(|f| hints::names_match(name, f)) {
                complain(format!(
                    "{chapter}:{}: the hint section names `{name}`, which is no function of {}",
                    section.line,
                    stage.solution_dir().display()
                ));
            }
        }
        if section.hints.is_empty() {
            complain(format!("{chapter}:{}: `{}` has no hint", section.line, section.heading));
        }
        if let Some(code) = section.hints.last().and_then(|hint| hints::reads_as_code(hint)) {
            complain(format!(
                "{chapter}:{}: the last hint of `{}` is the code ({code}): it should point at \
                 the idea, and leave the code to the learner",
                section.line, section.heading
            ));
        }
    }
    let all = match listed_tests(cargo, &stage.solution_package()) {
        Ok(all) => all,
        Err(error) => return problem(at(stage, error)),
    };
    for (target, name) in &all {
        let owners: Vec<usize> =
            steps.iter().filter(|s| s.has_test(target, name)).map(|s| s.number).collect();
        match owners[..] {
            [_] => {}
            [] => complain(format!(
                "test `{target}::{name}` belongs to no step: add it to src/table.rs, under the \
                 first step after which it passes"
            )),
            _ => complain(format!("test `{target}::{name}` is in several steps: {owners:?}")),
        }
    }
    for step in &steps {
        if !all.iter().any(|(target, name)| step.has_test(target, name)) {
            complain(format!("step {} ({}) runs no test of its own", step.number, step.title()));
        }
        for entry in step.tests {
            if !all.iter().any(|(target, name)| steps::belongs(entry, target, name)) {
                complain(format!("src/table.rs: `{entry}` (step {}) is no test", step.number));
            }
        }
    }
    findings.notes.push(format!("{}: {} steps, {} tests", stage.label(), steps.len(), all.len()));
    findings
}

/// The chapter shows no hint of its own (a reader in a terminal would see every one of them
/// in full: hints are in the stage's hints file, folded, one at a time on request) and links
/// to its hints file, which links back.
pub fn hints_on_request(root: &Path, stage: &Stage) -> Vec<String> {
    let (chapter, hints) = (stage.chapter(), stage.hints());
    let mut problems = Vec::new();
    let read = |path: &Path| fs::read_to_string(root.join(path)).unwrap_or_default();
    let text = read(&chapter);
    for (index, line) in text.lines().enumerate() {
        if line.contains("<summary>Hint") {
            problems.push(format!(
                "{}:{}: a hint in the chapter: hints go in {}, so that reading the chapter \
                 shows none until one is asked for",
                chapter.display(),
                index + 1,
                hints.display()
            ));
        }
    }
    let name = hints.file_name().unwrap_or_default().to_string_lossy().into_owned();
    if !text.contains(&format!("](hints/{name})")) {
        problems
            .push(format!("{} does not link to its hints, `](hints/{name})`", chapter.display()));
    }
    let chapter_name = chapter.file_name().unwrap_or_default().to_string_lossy().into_owned();
    if !read(&hints).contains(&format!("](../{chapter_name})")) {
        problems.push(format!(
            "{} does not link back to its chapter, `](../{chapter_name})`",
            hints.display()
        ));
    }
    problems
}

/// Words that mark, in an earlier stage's reference, code that only a later stage exercises,
/// with that stage: stage 5 (§7) compacts logs, and builds on the stubs of stages 1 to 4 (its
/// `lib.rs` includes their files), which must then send, write and count from a snapshot
/// although the tests of stages 2 to 4 never make one.
pub const LATER_STAGE_WORDS: &[(&str, u32)] = &[("snapshot", 5)];

/// What a later stage needs of this stage's stubs is told where a learner reads while writing
/// them. For each stub, every identifier of its reference body that holds a word of
/// [`LATER_STAGE_WORDS`] (`send_snapshot`, `snapshot_write`, `snapshot_index`) must be named by
/// the stub's own text in the exercise (doc comment, `// TODO:`, `todo!` message) and by its
/// hint section. A learner who writes the stub from that text alone then writes what the later
/// stage needs, and `cargo run -- carry <stage> 5` holds; a reference that starts needing
/// something new, or a text that stops naming it, fails here.
///
/// (Carrying the references themselves into stage 5 is the shipped layout: stage 5 includes the
/// reference files of stages 2 to 4, identical outside the stubs' bodies to the exercises' by
/// the drift check, so check 7 on `snapshots-solution` runs it.)
pub fn later_needs_told(root: &Path, stage: &Stage) -> Result<Vec<String>, String> {
    let exercise_src = root.join(stage.exercise_dir()).join("src");
    let sections = hints::read(&root.join(stage.hints()))?;
    let read = |path: &Path| {
        fs::read_to_string(path).map_err(|e| format!("{}: {e}", relative(root, path)))
    };
    let mut problems = Vec::new();
    let files = source::rust_files(&exercise_src)
        .map_err(|e| format!("cannot read {}: {e}", relative(root, &exercise_src)))?;
    for file in files {
        let reference_file = root
            .join(stage.solution_dir())
            .join(file.strip_prefix(root.join(stage.exercise_dir())).unwrap_or(&file));
        let (exercise, reference) = (read(&file)?, read(&reference_file)?);
        let parsed =
            Parsed::new(&exercise).map_err(|e| format!("{}: {e}", relative(root, &file)))?;
        let parsed_reference = Parsed::new(&reference)
            .map_err(|e| format!("{}: {e}", relative(root, &reference_file)))?;
        for stub in parsed.stubs() {
            let name = &stub.function.name;
            let Some(body) = parsed_reference.functions().into_iter().find(|f| f.name == *name)
            else {
                continue;
            };
            let needs = later_stage_identifiers(&parsed_reference, &body, stage);
            if needs.is_empty() {
                continue;
            }
            let own_text = stub_text(&parsed, &stub.function);
            let hint_text: String = sections
                .iter()
                .filter(|s| s.covers(name))
                .flat_map(|s| s.hints.iter().map(String::as_str))
                .collect::<Vec<&str>>()
                .join("\n");
            for need in &needs {
                for (text, place) in [
                    (
                        own_text,
                        format!("its doc comment, TODO and todo! in {}", relative(root, &file)),
                    ),
                    (hint_text.as_str(), format!("its hints in {}", stage.hints().display())),
                ] {
                    if !text.contains(need.as_str()) {
                        problems.push(format!(
                            "`{name}`: its reference uses `{need}`, which a later stage needs \
                             of the learner's code (it builds on this stage's stubs), but \
                             {place} never name it: a learner who follows them cannot carry \
                             their code forward"
                        ));
                    }
                }
            }
        }
    }
    Ok(problems)
}

/// The identifiers in `function`'s body that hold a word of [`LATER_STAGE_WORDS`] of a stage
/// after `stage`, sorted.
fn later_stage_identifiers(
    parsed: &Parsed<'_>,
    function: &source::Function,
    stage: &Stage,
) -> BTreeSet<String> {
    let words: Vec<&str> = LATER_STAGE_WORDS
        .iter()
        .filter(|(_, later)| *later > stage.number)
        .map(|(word, _)| *word)
        .collect();
    parsed.tokens[function.open..function.close]
        .iter()
        .filter(|t| t.kind == crate::lexer::Kind::Ident)
        .map(|t| t.text(parsed.source))
        .filter(|text| words.iter().any(|word| text.contains(word)))
        .map(str::to_string)
        .collect()
}

/// A stub's own text: its doc comment and attributes, its signature and its body.
fn stub_text<'a>(parsed: &Parsed<'a>, function: &source::Function) -> &'a str {
    let source = parsed.source;
    let end = parsed.tokens[function.close].end;
    let fn_keyword = (0..function.open)
        .rev()
        .find(|&i| {
            parsed.tokens[i].kind == crate::lexer::Kind::Ident
                && parsed.tokens[i].text(source) == "fn"
        })
        .map_or(0, |i| parsed.tokens[i].start);
    let mut start = source[..fn_keyword].rfind('\n').map_or(0, |n| n + 1);
    while start > 0 {
        let previous = source[..start - 1].rfind('\n').map_or(0, |n| n + 1);
        let line = source[previous..start].trim();
        if !(line.starts_with("///") || line.starts_with("#[")) {
            break;
        }
        start = previous;
    }
    &source[start..end]
}

/// No spoiler: chapter N (and its hints) never points at the reference of a later stage's
/// stubs, `solutions/MM-name/src/<file>` with M > N where the exercise's `<file>` has a stub,
/// or at a later stage's `solutions/MM-name` as a whole. Given code of a later stage's
/// reference (a file with no stub, `without_snapshots.rs`) may be named; the chapter's own
/// stage's reference may be too (to compare with at the end).
pub fn no_spoilers(root: &Path, stage: &Stage) -> Vec<String> {
    let mut problems = Vec::new();
    for doc in [stage.chapter(), stage.hints()] {
        let text = fs::read_to_string(root.join(&doc)).unwrap_or_default();
        for (index, line) in text.lines().enumerate() {
            for later in STAGES.iter().filter(|s| s.number > stage.number) {
                let base = format!("solutions/{}", later.dir_name());
                for (at, _) in line.match_indices(&base) {
                    let rest = &line[at + base.len()..];
                    let file: String = rest
                        .strip_prefix("/src/")
                        .unwrap_or("")
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '/' | '-'))
                        .collect();
                    let exercise_file = root.join(later.exercise_dir()).join("src").join(&file);
                    let spoils = match file.ends_with(".rs") {
                        true => fs::read_to_string(&exercise_file)
                            .ok()
                            .and_then(|text| Parsed::new(&text).ok().map(|p| !p.stubs().is_empty()))
                            .unwrap_or(false),
                        false => true,
                    };
                    if spoils {
                        problems.push(format!(
                            "{}:{}: `{base}{}` is the reference of {}'s stubs: a learner of {} \
                             must not be sent to read it",
                            doc.display(),
                            index + 1,
                            if file.is_empty() { String::new() } else { format!("/src/{file}") },
                            later.label(),
                            stage.label()
                        ));
                    }
                }
            }
        }
    }
    problems
}

/// The names of the stubs (`only_stubs`) or of all functions with a body under `src`.
fn functions_in(src: &Path, only_stubs: bool) -> Result<Vec<String>, String> {
    source::gather(src, |_, parsed| match only_stubs {
        true => parsed.stubs().into_iter().map(|s| s.function.name).collect(),
        false => parsed.functions().into_iter().map(|f| f.name).collect(),
    })
}

/// Every test of `package` as `(target, name)`; unit tests in `src/` have the target `lib`.
pub fn listed_tests(cargo: &Cargo, package: &str) -> Result<Vec<(String, String)>, String> {
    let binaries = match cargo.build_tests(package).map_err(|e| e.to_string())? {
        Build::Built(binaries) => binaries,
        Build::Failed { first_error, .. } => {
            return Err(format!(
                "`{package}` does not compile:\n{}",
                process::indent(&first_error, "    ")
            ));
        }
    };
    let mut all = Vec::new();
    for binary in &binaries {
        let names = cargo.list_tests(binary).map_err(|e| e.to_string())?;
        all.extend(names.into_iter().map(|name| (binary.table_name().to_string(), name)));
    }
    Ok(all)
}

/// `Some(note)` if the checks about the fresh exercise should skip this stage: its `src/`
/// differs from the record of the fresh exercise, so it holds a learner's work (committed or
/// not), and the checks are not `strict`. A stage with no record is checked.
pub fn skip_as_learners_work(root: &Path, stage: &Stage, strict: bool) -> Option<String> {
    let why = fresh::learners_work(root, stage).filter(|_| !strict)?;
    Some(format!("skipped {}: {why}; RAFT_STRICT_CHECKS=1 checks it anyway", stage.label()))
}

/// Check 1: the stage's exercise matches the record of the fresh exercise. Only `strict` (CI)
/// makes a difference a problem: elsewhere it is a learner's work, and noted as such.
pub fn fresh_recorded(root: &Path, stage: &Stage, strict: bool) -> Findings {
    let fix = "if a maintainer changed the exercise on purpose, `cargo run -- fingerprint` \
               records it anew (a carry: `cargo run -- carry <stage> --undo`)";
    match (fresh::freshness(root, stage), fresh::learners_work(root, stage)) {
        (unknown @ Freshness::NotRecorded(_), _) => problem(at(stage, format!("{unknown}; {fix}"))),
        (_, None) => note(format!("{}: the fresh exercise", stage.label())),
        (_, Some(why)) if strict => {
            problem(at(stage, format!("{why} (RAFT_STRICT_CHECKS is set); {fix}")))
        }
        (_, Some(why)) => note(format!(
            "{}: your work, {why}; the checks about the fresh exercise skip it",
            stage.label()
        )),
    }
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

    /// A stage whose `src/` differs from the record is the learner's work: skipped with a note
    /// naming the file, unless strict; committing changes nothing, as git is not asked.
    #[test]
    fn an_edited_exercise_is_skipped_unless_strict() {
        let root = std::env::temp_dir().join(format!("raft-course-fresh-{}", std::process::id()));
        let stage = &STAGES[0];
        let src = root.join(stage.exercise_dir()).join("src");
        fs::create_dir_all(&src).unwrap();
        fs::write(src.join("lib.rs"), "fn a() { todo!() }\n").unwrap();
        fs::write(root.join(fresh::FILE), fresh::render(&root).unwrap()).unwrap();
        assert_eq!(skip_as_learners_work(&root, stage, false), None);
        assert!(fresh_recorded(&root, stage, true).problems.is_empty());

        fs::write(src.join("lib.rs"), "fn a() { 1; }\n").unwrap();
        let note = skip_as_learners_work(&root, stage, false).expect("skipped");
        assert!(note.contains("changed since the fresh exercise: src/lib.rs"), "{note}");
        assert_eq!(skip_as_learners_work(&root, stage, true), None);
        assert!(fresh_recorded(&root, stage, false).problems.is_empty());
        let strict = fresh_recorded(&root, stage, true);
        assert!(strict.report().contains("cargo run -- fingerprint"), "{}", strict.report());
        fs::remove_dir_all(&root).unwrap();
    }

    /// A hint left in a chapter (a reader would see it in full) is named with its line, and so
    /// is a missing link between the chapter and its hints file.
    #[test]
    fn a_hint_in_the_chapter_is_named_and_the_links_are_required() {
        let root = std::env::temp_dir().join(format!("raft-course-hints-{}", std::process::id()));
        let stage = &STAGES[0];
        fs::create_dir_all(root.join("docs/hints")).unwrap();
        let chapter = "# Stage 1\n\nHints: [hints](hints/01-data-structures.md).\n";
        fs::write(root.join(stage.chapter()), chapter).unwrap();
        fs::write(root.join(stage.hints()), "For [chapter 1](../01-data-structures.md).\n")
            .unwrap();
        assert_eq!(hints_on_request(&root, stage), Vec::<String>::new());

        let leaked = format!("{chapter}\n<details><summary>Hint 1</summary>\nx\n</details>\n");
        fs::write(root.join(stage.chapter()), leaked).unwrap();
        fs::write(root.join(stage.hints()), "no link\n").unwrap();
        let problems = hints_on_request(&root, stage);
        assert!(problems[0].starts_with("docs/01-data-structures.md:5: a hint in the chapter"));
        assert!(problems[1].contains("does not link back to its chapter"), "{problems:?}");
        fs::write(root.join(stage.chapter()), "no link\n").unwrap();
        assert!(hints_on_request(&root, stage)[0].contains("does not link to its hints"));
        fs::remove_dir_all(&root).unwrap();
    }

    /// `verify` numbers the checks as README.md's list does (issue 20: they differed).
    #[test]
    fn verify_numbers_the_checks_as_the_readme_lists_them() {
        let readme = fs::read_to_string(crate::stages::repo_root().join("README.md")).unwrap();
        let list =
            readme.split("### Course checks").nth(1).unwrap().split("\n### ").next().unwrap();
        for (position, check) in CHECKS.iter().enumerate() {
            let words = match check {
                Check::FreshRecorded => "exercises/fresh-stubs.txt",
                Check::NoStubsInSolutions => "no `todo!` or `unimplemented!`",
                Check::NoDrift => "no drift",
                Check::TestsShared => "is a `[[test]]` of the solution",
                Check::StepsCover => "every step runs at least one test of its own",
                Check::StubsFail => "every test of the fresh exercise fails",
                Check::ReferencePasses => "every test passes on the reference",
            };
            let number = format!("\n{}. ", position + 1);
            // The item: its first line and the indented lines that continue it.
            let item = list.split(&number).nth(1).map(|rest| {
                let mut lines = rest.lines();
                let first = lines.next().unwrap_or("").to_string();
                lines
                    .take_while(|l| l.starts_with("   "))
                    .fold(first, |item, l| item + " " + l.trim())
            });
            assert!(
                item.as_ref().is_some_and(|item| item.contains(words)),
                "README.md's course check {} should be `{}` ({words}): {item:?}",
                position + 1,
                check.title()
            );
        }
    }

    #[test]
    fn other_failures_are_not_stub_panics() {
        let stubs = [Some("return the last index (§5.3)".to_string()), None];
        assert!(!fails_through_a_stub("assertion `left == right` failed", &stubs));
        assert!(!fails_through_a_stub("not yet implemented: another message", &stubs));
        assert!(fails_through_a_stub("not yet implemented", &stubs));
    }
}
