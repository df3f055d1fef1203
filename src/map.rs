//! The course map: for each stage, how many of its tests the learner's exercise passes, and
//! what to do next (which chapter to read, which stub to open, which command to run).

use std::fs;
use std::io;
use std::path::Path;

use crate::cargo::{BinaryRun, Cargo, Tested};
use crate::checks::relative;
use crate::libtest::Outcome;
use crate::source::{self, Parsed, Stub};
use crate::stages::{STAGES, Stage};

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
    /// The first stub left (file relative to the repository root, and the stub), and how
    /// many stubs are left in all.
    pub next_stub: Option<(String, Stub)>,
    /// Stubs left in the exercise.
    pub stubs_left: usize,
}

/// Builds and tests every stage's exercise, and finds each one's first stub.
pub fn survey(cargo: &Cargo) -> io::Result<Vec<StageMap>> {
    STAGES.iter().map(|stage| survey_stage(cargo, stage)).collect()
}

fn survey_stage(cargo: &Cargo, stage: &Stage) -> io::Result<StageMap> {
    let dir = cargo.root.join(stage.exercise_dir());
    if !dir.join("Cargo.toml").is_file() {
        return Ok(StageMap {
            stage: *stage,
            standing: Standing::Missing,
            next_stub: None,
            stubs_left: 0,
        });
    }
    let (next_stub, stubs_left) = first_stub(&cargo.root, &dir.join("src"))?;
    let standing = match cargo.test_package(stage.name)? {
        Tested::Ran(runs) => tally(&runs),
        Tested::NotCompiled { culprit, first_error } => {
            Standing::NotCompiling { culprit: culprit.filter(|c| c != stage.name), first_error }
        }
    };
    Ok(StageMap { stage: *stage, standing, next_stub, stubs_left })
}

fn tally(runs: &[BinaryRun]) -> Standing {
    let results = runs.iter().flat_map(|run| &run.report.results);
    let total = results.clone().count();
    let passed = results.filter(|r| r.outcome == Outcome::Passed).count();
    let crashed = runs
        .iter()
        .filter_map(|run| run.crash.as_ref().map(|c| format!("tests/{}.rs {c}", run.binary.target)))
        .collect();
    Standing::Tested { passed, total, crashed }
}

/// The first stub in reading order (lib.rs, then modules as declared), and the number left.
fn first_stub(root: &Path, src: &Path) -> io::Result<(Option<(String, Stub)>, usize)> {
    let mut first = None;
    let mut count = 0;
    for file in source::rust_files_in_reading_order(src)? {
        let text = fs::read_to_string(&file)?;
        let Ok(parsed) = Parsed::new(&text) else { continue };
        let stubs = parsed.stubs();
        count += stubs.len();
        if first.is_none() {
            first = stubs.into_iter().next().map(|stub| (relative(root, &file), stub));
        }
    }
    Ok((first, count))
}

/// The stage the learner should work on: the first one not done.
pub fn next_stage(maps: &[StageMap]) -> Option<&StageMap> {
    maps.iter().find(|m| m.standing != Standing::Missing && !m.standing.is_done())
}

/// The map as text.
pub fn render(root: &Path, maps: &[StageMap]) -> String {
    let mut out = String::from("Learning Raft in Rust: the course map\n\n");
    let width = maps.iter().map(|m| m.stage.name.len()).max().unwrap_or(0);
    for map in maps {
        let (count, status) = status(map);
        out.push_str(&format!(
            "  stage {}  {:width$}  {count:15}  {status}\n",
            map.stage.number, map.stage.name
        ));
    }
    out.push('\n');
    match next_stage(maps) {
        Some(map) => out.push_str(&next_steps(root, map)),
        None => out.push_str(&all_done(maps)),
    }
    out
}

fn status(map: &StageMap) -> (String, &'static str) {
    match &map.standing {
        Standing::Missing => (String::new(), "not in this checkout"),
        Standing::NotCompiling { .. } => (String::new(), "does not compile"),
        Standing::Tested { total: 0, .. } => (String::new(), "no tests yet"),
        Standing::Tested { passed, total, crashed } => {
            let status = match () {
                _ if !crashed.is_empty() => "tests crashed",
                _ if passed == total => "done",
                _ if *passed == 0 => "not started",
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
                indent(first_line_and_location(first_error)),
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
    match &map.next_stub {
        Some((file, stub)) => {
            out.push_str(&format!("  open  {file}:{}, `{}`\n", stub.line, stub.function.name));
            if let Some(message) = &stub.message {
                out.push_str(&format!("        todo!(\"{message}\")\n"));
            }
            let left = match map.stubs_left {
                1 => "the last stub".to_string(),
                n => format!("{n} stubs left"),
            };
            out.push_str(&format!("  run   cargo test -p {}    ({left})\n", stage.name));
        }
        None => out.push_str(&format!(
            "  run   cargo test -p {}    (no stub left: read the first failure; \
             docs/harness.md explains a cluster failure's report)\n",
            stage.name
        )),
    }
    out
}

fn all_done(maps: &[StageMap]) -> String {
    let Some(last) = maps.iter().rev().find(|m| m.standing != Standing::Missing) else {
        return "No stage found in this checkout.\n".to_string();
    };
    format!(
        "Every stage passes. Compare your code with the reference, e.g.\n  diff -r {} {}\n",
        last.stage.exercise_dir().display(),
        last.stage.solution_dir().display()
    )
}

/// rustc's `error[E…]: what` line and its `--> file:line:col` line.
fn first_line_and_location(error: &str) -> &str {
    let mut lines = error.char_indices().filter(|&(_, c)| c == '\n').map(|(i, _)| i);
    let end = lines.nth(1).unwrap_or(error.len());
    &error[..end]
}

fn indent(text: &str) -> String {
    text.lines().map(|line| format!("        {line}")).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Function;

    fn stage_map(number: usize, standing: Standing, stubs_left: usize) -> StageMap {
        let stub = Stub {
            function: Function { name: "Log::last_index".into(), open: 0, close: 0 },
            line: 91,
            message: Some("return the index of the last entry (§5.3)".into()),
        };
        let next_stub =
            (stubs_left > 0).then(|| ("exercises/01-data-structures/src/log.rs".to_string(), stub));
        StageMap { stage: STAGES[number], standing, next_stub, stubs_left }
    }

    #[test]
    fn a_fresh_clone_points_at_stage_one_and_its_first_stub() {
        let maps = [
            stage_map(0, Standing::Tested { passed: 0, total: 40, crashed: vec![] }, 12),
            stage_map(1, Standing::Tested { passed: 0, total: 25, crashed: vec![] }, 9),
        ];
        let text = render(Path::new("/nonexistent"), &maps);
        assert!(text.contains("stage 1  data-structures  0/40 passing     not started"), "{text}");
        assert!(text.contains("Next: stage 1 data-structures"), "{text}");
        assert!(
            text.contains("open  exercises/01-data-structures/src/log.rs:91, `Log::last_index`"),
            "{text}"
        );
        assert!(text.contains("run   cargo test -p data-structures    (12 stubs left)"), "{text}");
    }

    #[test]
    fn a_finished_stage_is_done_and_the_next_one_is_next() {
        let maps = [
            stage_map(0, Standing::Tested { passed: 40, total: 40, crashed: vec![] }, 0),
            stage_map(
                1,
                Standing::NotCompiling {
                    culprit: None,
                    first_error: "error[E0308]: mismatched types\n --> src/node.rs:3:5\n  |".into(),
                },
                9,
            ),
        ];
        let text = render(Path::new("/nonexistent"), &maps);
        assert!(text.contains("40/40 passing    done"), "{text}");
        assert!(text.contains("does not compile"), "{text}");
        assert!(
            text.contains("error[E0308]: mismatched types\n         --> src/node.rs:3:5\n"),
            "{text}"
        );
        assert!(text.contains("see   cargo test -p election --no-run"), "{text}");
    }

    #[test]
    fn when_everything_passes_the_map_says_so() {
        let maps = [stage_map(0, Standing::Tested { passed: 3, total: 3, crashed: vec![] }, 0)];
        assert!(render(Path::new("/x"), &maps).contains("Every stage passes."));
    }
}
