//! The course map: for each stage, how many of its tests the learner's exercise passes, and
//! what to do next (which chapter to read, which stub to open, which command to run).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::Path;

use crate::cargo::{Build, Cargo};
use crate::fresh;
use crate::hints_cli;
use crate::libtest::Outcome;
use crate::source::Stub;
use crate::stages::{self, STAGES, Stage};
use crate::steps::{self, Step};

/// Where the learner stands in one stage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Standing {
    /// The exercise's tests ran.
    Tested {
        /// Tests that pass.
        passed: usize,
        /// All tests that ran or were ignored.
        total: usize,
        /// Test targets that crashed or hit the time limit, with what happened.
        crashed: Vec<String>,
    },
    /// The exercise does not compile.
    NotCompiling {
        /// The package whose code has the first error, if it is not the exercise.
        culprit: Option<String>,
        /// The first error, as rustc prints it.
        first_error: String,
    },
    /// The exercise's directory is not in this checkout.
    Missing,
}

impl Standing {
    /// Every test passes (and there is at least one).
    pub fn is_done(&self) -> bool {
        matches!(self, Standing::Tested { passed, total, crashed } if passed == total && *total > 0 && crashed.is_empty())
    }
}

/// One stage's line on the map, and what to open next in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageMap {
    /// The stage.
    pub stage: Stage,
    /// How far the learner is.
    pub standing: Standing,
    /// The stubs left, in reading order, each with its file relative to the repository root.
    pub stubs: Vec<(String, Stub)>,
    /// The stage's steps in the chapter's order, or why they cannot be read.
    pub steps: Result<Vec<Step>, String>,
    /// The failing tests, as `(target, name)`.
    pub failing: Vec<(String, String)>,
    /// Every test that ran, as `(target, name)`.
    pub tests: Vec<(String, String)>,
    /// Its `src/` is the learner's work ([`fresh::learners_work`]).
    pub edited: bool,
    /// Tests that passed at the last survey and fail now, as `target::name`.
    pub regressed: Vec<String>,
}

impl StageMap {
    /// `(started, done)`, as [`stages::choose`] reads them: started when some test passes or
    /// its `src/` is the learner's work.
    fn progress(&self) -> (bool, bool) {
        match &self.standing {
            Standing::Missing => (false, true),
            Standing::Tested { passed, .. } => {
                (self.edited || *passed > 0, self.standing.is_done())
            }
            Standing::NotCompiling { .. } => (self.edited, false),
        }
    }
}

/// Builds and tests every stage's exercise, and finds each one's first stub. `progress` is
/// told which stage is being built and run.
pub fn survey(cargo: &Cargo, progress: &mut dyn FnMut(&Stage)) -> io::Result<Vec<StageMap>> {
    survey_while(cargo, STAGES, progress, |_| true)
}

/// What `test` and `watch` need to find the stage the learner is in: the folder's stage
/// (`here`) alone, else the stages in order up to the first one started and not done.
pub fn survey_current(
    cargo: &Cargo,
    here: Option<usize>,
    progress: &mut dyn FnMut(&Stage),
) -> io::Result<Vec<StageMap>> {
    match here {
        Some(index) => survey_while(cargo, &STAGES[index..=index], progress, |_| true),
        None => {
            let stages =
                worth_surveying(|stage| fresh::learners_work(&cargo.root, stage).is_some());
            survey_while(cargo, &stages, progress, |map| {
                let (started, done) = map.progress();
                !started || done
            })
        }
    }
}

/// The stages [`survey_current`] builds, given which are the learner's work (`ours`). Only
/// those can be started (every test fails on a fresh exercise, course check 6): them, and the
/// fresh stage [`stages::choose`] falls back on, so a fresh clone builds stage 1 alone.
fn worth_surveying(ours: impl Fn(&Stage) -> bool) -> Vec<Stage> {
    let last = STAGES.iter().rposition(&ours);
    let after = &STAGES[last.map_or(0, |i| i + 1)..];
    let fallback = after.iter().chain(STAGES).find(|stage| !ours(stage));
    let mut stages: Vec<Stage> = STAGES.iter().filter(|stage| ours(stage)).copied().collect();
    stages.extend(fallback.copied());
    stages.sort_by_key(|stage| stage.number);
    stages
}

/// Surveys `stages` in order while `go_on` says so after each; remembers what passes, to name
/// a regression next time.
fn survey_while(
    cargo: &Cargo,
    stages: &[Stage],
    progress: &mut dyn FnMut(&Stage),
    go_on: impl Fn(&StageMap) -> bool,
) -> io::Result<Vec<StageMap>> {
    let file = crate::progress::target_dir(&cargo.root).join(MEMORY);
    let mut memory = fs::read_to_string(&file).map(|text| parse_memory(&text)).unwrap_or_default();
    let mut maps = Vec::new();
    for stage in stages {
        progress(stage);
        let mut map = survey_stage(cargo, stage)?;
        remember(&mut map, &mut memory);
        let more = go_on(&map);
        maps.push(map);
        if !more {
            break;
        }
    }
    let _ = fs::write(&file, render_memory(&memory));
    Ok(maps)
}

/// Names in `map` the tests that passed at the last survey (`memory`) and fail now, then
/// remembers the tests that pass now; a stage that did not compile changes nothing.
fn remember(map: &mut StageMap, memory: &mut BTreeMap<String, BTreeSet<String>>) {
    if !matches!(map.standing, Standing::Tested { .. }) {
        return;
    }
    let name = |(target, name): &(String, String)| format!("{target}::{name}");
    let passed_before = memory.remove(map.stage.name).unwrap_or_default();
    map.regressed = map.failing.iter().map(name).filter(|t| passed_before.contains(t)).collect();
    let passing = map.tests.iter().filter(|test| !map.failing.contains(test)).map(name).collect();
    memory.insert(map.stage.name.to_string(), passing);
}

/// Where the tests that passed at the last survey are kept, in the target directory.
const MEMORY: &str = "course-map-passing.txt";

/// The memory: one `stage target::name` line per passing test.
fn parse_memory(text: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut memory: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (stage, test) in text.lines().filter_map(|line| line.split_once(' ')) {
        memory.entry(stage.to_string()).or_default().insert(test.to_string());
    }
    memory
}

fn render_memory(memory: &BTreeMap<String, BTreeSet<String>>) -> String {
    let lines = memory
        .iter()
        .flat_map(|(stage, tests)| tests.iter().map(move |t| format!("{stage} {t}\n")));
    lines.collect()
}

fn survey_stage(cargo: &Cargo, stage: &Stage) -> io::Result<StageMap> {
    let mut map = StageMap {
        stage: *stage,
        standing: Standing::Missing,
        stubs: Vec::new(),
        steps: steps::steps(&cargo.root, stage),
        failing: Vec::new(),
        tests: Vec::new(),
        edited: fresh::learners_work(&cargo.root, stage).is_some(),
        regressed: Vec::new(),
    };
    if !cargo.root.join(stage.exercise_dir()).join("Cargo.toml").is_file() {
        return Ok(map);
    }
    map.stubs = steps::stubs_left(&cargo.root, stage)?;
    map.standing = match cargo.test_package(stage.name)? {
        Build::Built(runs) => {
            for run in &runs {
                for result in &run.report.results {
                    let test = (run.binary.table_name().to_string(), result.name.clone());
                    if result.outcome != Outcome::Passed {
                        map.failing.push(test.clone());
                    }
                    map.tests.push(test);
                }
            }
            let crashed = runs.iter().filter_map(|run| {
                run.crash.as_ref().map(|c| format!("{} {c}", run.binary.shown()))
            });
            let passed = map.tests.len() - map.failing.len();
            Standing::Tested { passed, total: map.tests.len(), crashed: crashed.collect() }
        }
        Build::Failed { culprit, first_error } => {
            let culprit = culprit.filter(|c| c != stage.name);
            Standing::NotCompiling { culprit, first_error }
        }
    };
    Ok(map)
}

/// The stage the learner is working in ([`stages::choose`]); `here`: the folder's stage.
pub fn current(maps: &[StageMap], here: Option<usize>) -> Option<&StageMap> {
    if let Some(index) = here {
        return maps.iter().find(|map| map.stage == STAGES[index]);
    }
    let progress: Vec<(bool, bool)> = maps.iter().map(StageMap::progress).collect();
    stages::choose(&progress, None).map(|index| &maps[index])
}

/// The map as text; `here`: the stage whose folder it runs from.
pub fn render(root: &Path, maps: &[StageMap], here: Option<usize>) -> String {
    let mut out = String::from("Learning Raft in Rust: the course map\n\n");
    let width = maps.iter().map(|m| m.stage.name.len()).max().unwrap_or(0);
    for map in maps {
        let (count, status) = status(map);
        out.push_str(&format!(
            "  stage {}  {:width$}  {count:15}  {status}\n",
            map.stage.number, map.stage.name
        ));
    }
    for map in maps.iter().filter(|map| !map.regressed.is_empty()) {
        let shown: Vec<&str> = map.regressed.iter().take(3).map(String::as_str).collect();
        let more = map.regressed.len().saturating_sub(3);
        let more = if more > 0 { format!(" and {more} more") } else { String::new() };
        out.push_str(&format!(
            "\n  {} regressed: {} passed at the last `cargo run` and fail{} now: {}{more}\n",
            map.stage.label(),
            plural(map.regressed.len(), "test"),
            if map.regressed.len() == 1 { "s" } else { "" },
            shown.join(", ")
        ));
    }
    out.push('\n');
    match current(maps, here) {
        Some(map) if map.standing.is_done() => out.push_str(&done_here(map)),
        Some(map) => out.push_str(&next_steps(root, map)),
        None => out.push_str(&all_done(maps)),
    }
    out
}

/// `1 test`, `2 tests`.
pub fn plural(count: usize, noun: &str) -> String {
    format!("{count} {noun}{}", if count == 1 { "" } else { "s" })
}

fn status(map: &StageMap) -> (String, &'static str) {
    match &map.standing {
        Standing::Missing => (String::new(), "not in this checkout"),
        Standing::NotCompiling { .. } => (String::new(), "does not compile"),
        Standing::Tested { total: 0, .. } => (String::new(), "no tests yet"),
        Standing::Tested { passed, total, crashed } => {
            let status = match () {
                _ if !crashed.is_empty() => "tests crashed",
                _ if !map.regressed.is_empty() => "regressed (see below)",
                _ if passed == total => "done",
                _ if *passed == 0 && !map.edited => "not started",
                _ => "in progress",
            };
            (format!("{passed}/{total} passing"), status)
        }
    }
}

fn next_steps(root: &Path, map: &StageMap) -> String {
    let stage = &map.stage;
    let mut out = format!("Next: {} ({}: {})\n", stage.label(), stage.topic, stage.paper);
    let chapter = stage.chapter();
    if root.join(&chapter).is_file() {
        out.push_str(&format!("  read  {}\n", chapter.display()));
    }
    match &map.standing {
        Standing::NotCompiling { culprit, first_error } => {
            let whose =
                culprit.as_ref().map_or_else(String::new, |c| format!(" (the error is in `{c}`)"));
            out.push_str(&format!(
                "  fix   the exercise does not compile{whose}; the first error:\n{}\n  see   {}\n",
                crate::process::indent(first_line_and_location(first_error), "        "),
                Cargo::errors_command(stage.name)
            ));
            return out;
        }
        Standing::Tested { crashed, .. } if !crashed.is_empty() => {
            out.push_str(&format!(
                "  note  a test target crashed: {}\n",
                crashed[0].lines().next().unwrap_or("")
            ));
        }
        Standing::Tested { .. } | Standing::Missing => {}
    }
    let all = format!("cargo test -p {} --no-fail-fast", stage.name);
    let left = match map.stubs.len() {
        0 => "no stub left".to_string(),
        1 => "the last stub".to_string(),
        n => format!("{n} stubs left"),
    };
    let steps = match &map.steps {
        Ok(steps) => steps,
        Err(error) => {
            out.push_str(&format!("  note  the steps cannot be read: {error}\n"));
            out.push_str(&format!("  run   {all}    ({left})\n"));
            return out;
        }
    };
    let Some((step, stub)) = steps::next(steps, &map.stubs, &map.failing) else {
        out.push_str(&format!(
            "  run   {all}    ({left}: read the first failure; docs/harness.md explains a \
             cluster failure's report)\n"
        ));
        return out;
    };
    let failing = map.failing.iter().filter(|(target, name)| step.has_test(target, name)).count();
    out.push_str(&format!(
        "  step  {} of {}: {}  ({failing} of its tests failing)\n",
        step.number,
        steps.len(),
        step.title()
    ));
    match stub {
        Some((file, stub)) => {
            out.push_str(&format!("  open  {file}:{}, `{}`\n", stub.line, stub.function.name));
            if let Some(message) = &stub.message {
                out.push_str(&format!("        todo!(\"{message}\")\n"));
            }
        }
        None => out.push_str("  fix   its stubs are written, but some of its tests fail\n"),
    }
    out.push_str("  run   cargo run -- test    (exactly this step's tests)\n");
    let own: Vec<&(String, String)> =
        map.tests.iter().filter(|(target, name)| step.has_test(target, name)).collect();
    let command = step.command(stage.name);
    if step.selected(&map.tests) == own && command.len() <= 120 {
        out.push_str(&format!("        {command}\n"));
    }
    let name = stub.map_or_else(|| step.names()[0].to_string(), |(_, s)| s.function.name.clone());
    // `election/handle_append_entries` where another stage has a stub of that name.
    let name = hints_cli::qualified(root, stage, &name).unwrap_or(name);
    out.push_str(&format!("  hint  cargo run -- hint {name}\n"));
    out.push_str(&format!("  all   {all}    ({left})\n"));
    out
}

/// The stage of the folder passes every test: the diff to read, and the next stage.
fn done_here(map: &StageMap) -> String {
    let mut out = format!("{} passes every test. {}", map.stage.label(), compare(&map.stage));
    if let Some(next) = crate::carry::next_stage(&map.stage) {
        out.push_str(&format!("  next  cd ../{} && cargo run\n", next.dir_name()));
    }
    out
}

fn all_done(maps: &[StageMap]) -> String {
    match maps.iter().rev().find(|m| m.standing != Standing::Missing) {
        Some(last) => format!("Every stage passes. {}", compare(&last.stage)),
        None => "No stage found in this checkout.\n".to_string(),
    }
}

fn compare(stage: &Stage) -> String {
    format!(
        "Compare your code with the reference, e.g.\n  diff -r {} {}\n",
        stage.exercise_dir().join("src").display(),
        stage.solution_dir().join("src").display()
    )
}

/// rustc's `error[E…]: what` line and its `--> file:line:col` line.
fn first_line_and_location(error: &str) -> &str {
    let mut lines = error.char_indices().filter(|&(_, c)| c == '\n').map(|(i, _)| i);
    let end = lines.nth(1).unwrap_or(error.len());
    &error[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hints::Section;
    use crate::source::Function;

    fn step(number: usize, name: &str, tests: &'static [&'static str]) -> Step {
        let section = Section {
            heading: format!("`{name}`"),
            names: vec![name.to_string()],
            hints: vec!["a hint".into()],
            line: 1,
        };
        Step { number, sections: vec![section], tests }
    }

    fn stage_map(number: usize, standing: Standing, stubs_left: usize) -> StageMap {
        let stub = |name: &str, line| Stub {
            function: Function { name: name.into(), open: 0, close: 0 },
            line,
            message: Some(format!("{name}: the index of the last entry (§5.3)")),
        };
        let file = "exercises/01-data-structures/src/log.rs".to_string();
        let stubs = [(file.clone(), stub("Log::last_index", 91)), (file, stub("Log::entry", 99))];
        let steps = vec![
            step(1, "Log::last_index", &["log::last_index_is_the_length"]),
            step(2, "Log::entry", &["log::entry_is_none_at_zero", "state::entry_kept"]),
        ];
        let failing = match standing {
            Standing::Tested { passed, total, .. } if passed < total => {
                vec![("state".to_string(), "entry_kept".to_string())]
            }
            _ => Vec::new(),
        };
        let tests = [("log", "last_index_is_the_length"), ("log", "entry_is_none_at_zero")]
            .iter()
            .chain(&[("state", "entry_kept")])
            .map(|(t, n)| (t.to_string(), n.to_string()))
            .collect();
        StageMap {
            stage: STAGES[number],
            standing,
            stubs: stubs.into_iter().rev().take(stubs_left).rev().collect(),
            steps: Ok(steps),
            failing,
            tests,
            edited: false,
            regressed: Vec::new(),
        }
    }

    fn tested(passed: usize, total: usize) -> Standing {
        Standing::Tested { passed, total, crashed: vec![] }
    }

    /// A learner who starts at stage 3 is pointed at stage 3, not stage 1 (issue 20).
    #[test]
    fn the_map_points_at_the_stage_in_progress_not_the_first() {
        let maps = [
            stage_map(0, tested(0, 40), 2),
            stage_map(1, tested(0, 25), 2),
            stage_map(2, tested(1, 3), 2),
        ];
        let text = render(Path::new("/nonexistent"), &maps, None);
        assert!(text.contains("Next: stage 3 replication"), "{text}");
        assert!(text.contains("stage 3  replication      1/3 passing      in progress"), "{text}");
        // From stage 2's folder, stage 2; a stage whose sources were edited counts as started.
        let text = render(Path::new("/nonexistent"), &maps, Some(1));
        assert!(text.contains("Next: stage 2 election"), "{text}");
        let mut edited = maps.clone();
        edited[1].edited = true;
        let text = render(Path::new("/nonexistent"), &edited, None);
        assert!(text.contains("Next: stage 2 election"), "{text}");
        assert!(text.contains("0/25 passing     in progress"), "{text}");
    }

    /// A test that passed at the last survey and fails now is named, whichever stage is next.
    #[test]
    fn a_regression_is_named_on_the_map() {
        let mut memory = parse_memory(&render_memory(&BTreeMap::from([(
            "data-structures".to_string(),
            BTreeSet::from(["log::last_index_is_the_length".into(), "state::entry_kept".into()]),
        )])));
        let mut map = stage_map(0, tested(2, 3), 0);
        remember(&mut map, &mut memory);
        assert_eq!(map.regressed, ["state::entry_kept"]);
        assert_eq!(memory["data-structures"].len(), 2, "{memory:?}");
        let maps = [map, stage_map(1, tested(1, 25), 2)];
        let text = render(Path::new("/nonexistent"), &maps, Some(1));
        assert!(text.contains("2/3 passing      regressed (see below)"), "{text}");
        assert!(
            text.contains(
                "stage 1 data-structures regressed: 1 test passed at the last `cargo run` and \
                 fails now: state::entry_kept\n"
            ),
            "{text}"
        );
        assert!(text.contains("Next: stage 2 election"), "{text}");
    }

    /// `test` builds only the learner's stages and the fresh one after them (or the first).
    #[test]
    fn only_the_learners_stages_and_the_next_fresh_one_are_surveyed() {
        let numbers = |ours: &[u32]| -> Vec<u32> {
            worth_surveying(|stage| ours.contains(&stage.number)).iter().map(|s| s.number).collect()
        };
        assert_eq!(numbers(&[]), [1]);
        assert_eq!(numbers(&[3]), [3, 4]);
        assert_eq!(numbers(&[1, 2]), [1, 2, 3]);
        let last = STAGES.len() as u32;
        assert_eq!(numbers(&[2, last]), [1, 2, last]);
    }

    /// From the folder of a stage that passes, the map says so and names the next stage.
    #[test]
    fn a_finished_stage_of_the_folder_points_at_the_next() {
        let maps = [stage_map(0, tested(3, 3), 0)];
        let text = render(Path::new("/x"), &maps, Some(0));
        assert!(text.contains("stage 1 data-structures passes every test."), "{text}");
        assert!(text.contains("next  cd ../02-election && cargo run"), "{text}");
    }

    #[test]
    fn a_fresh_clone_points_at_stage_one_its_first_step_and_that_steps_tests() {
        let maps = [stage_map(0, tested(0, 40), 2), stage_map(1, tested(0, 25), 2)];
        let text = render(Path::new("/nonexistent"), &maps, None);
        assert!(text.contains("stage 1  data-structures  0/40 passing     not started"), "{text}");
        assert!(text.contains("Next: stage 1 data-structures"), "{text}");
        assert!(text.contains("step  1 of 2: `Log::last_index`"), "{text}");
        assert!(
            text.contains("open  exercises/01-data-structures/src/log.rs:91, `Log::last_index`"),
            "{text}"
        );
        assert!(
            text.contains("run   cargo run -- test    (exactly this step's tests)\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "        cargo test -p data-structures --test log -- last_index_is_the_length\n"
            ),
            "{text}"
        );
        assert!(text.contains("hint  cargo run -- hint Log::last_index\n"), "{text}");
        assert!(
            text.contains("all   cargo test -p data-structures --no-fail-fast    (2 stubs left)"),
            "{text}"
        );
    }

    #[test]
    fn a_step_with_no_stub_left_but_a_failing_test_is_still_next() {
        let maps = [stage_map(0, tested(2, 3), 0)];
        let text = render(Path::new("/nonexistent"), &maps, None);
        assert!(text.contains("step  2 of 2: `Log::entry`  (1 of its tests failing)"), "{text}");
        assert!(text.contains("fix   its stubs are written, but some of its tests fail"), "{text}");
        assert!(
            text.contains(
                "        cargo test -p data-structures --test log --test state --no-fail-fast \
                 -- entry_is_none_at_zero entry_kept\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_finished_stage_is_done_and_the_next_one_is_next() {
        let maps = [
            stage_map(0, tested(40, 40), 0),
            stage_map(
                1,
                Standing::NotCompiling {
                    culprit: None,
                    first_error: "error[E0308]: mismatched types\n --> src/node.rs:3:5\n  |".into(),
                },
                2,
            ),
        ];
        let text = render(Path::new("/nonexistent"), &maps, None);
        assert!(text.contains("40/40 passing    done"), "{text}");
        assert!(text.contains("does not compile"), "{text}");
        assert!(
            text.contains("error[E0308]: mismatched types\n         --> src/node.rs:3:5\n"),
            "{text}"
        );
        assert!(text.contains("see   cargo test -p election --no-run"), "{text}");
    }

    #[test]
    fn when_everything_passes_the_map_says_so_and_diffs_only_the_sources() {
        let maps = [stage_map(0, tested(3, 3), 0)];
        let text = render(Path::new("/x"), &maps, None);
        assert!(text.contains("Every stage passes."), "{text}");
        assert!(
            text.contains(
                "diff -r exercises/01-data-structures/src solutions/01-data-structures/src\n"
            ),
            "{text}"
        );
    }
}
