//! A stage, one step at a time, in the chapter's order. Each `###` section of the chapter's
//! hints names a stub or a few; a step is one section, or several consecutive ones whose stubs
//! only work together (no test passes until all of them are written), with the tests that pass
//! once that step and the ones before it are written. The map's next step runs exactly those.
//!
//! The grouping of tests is the table [`TESTS`]. A course check ([`crate::checks`]) proves
//! that it stays true to the stages: every stub has a hint section and every section a test,
//! every test belongs to exactly one step, and each step's command selects exactly its tests.

use std::fs;
use std::io;
use std::path::Path;

use crate::checks::relative;
use crate::hints::{self, Section};
use crate::source::{self, Parsed, Stub};
use crate::stages::{STAGES, Stage};
use crate::table::TESTS;

/// One step of a stage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Its position, from 1.
    pub number: usize,
    /// The chapter's hint sections it covers (one, or several whose stubs work together).
    pub sections: Vec<Section>,
    /// Its tests, as `target::function` (`log::leader_appends_a_new_entry_at_the_end`); an
    /// `rstest` function stands for all its cases.
    pub tests: &'static [&'static str],
}

/// A stage's steps, from its chapter's hints and [`TESTS`]; `Err` if the two disagree.
pub fn steps(root: &Path, stage: &Stage) -> Result<Vec<Step>, String> {
    let chapter = stage.hints();
    let sections = hints::read(&root.join(&chapter))?;
    let table = TESTS.iter().find(|(name, _)| *name == stage.name).map_or(&[][..], |(_, t)| t);
    if sections.len() != table.len() {
        return Err(format!(
            "{} has {} hint sections, the step table (src/table.rs) {} steps for `{}`",
            chapter.display(),
            sections.len(),
            table.len(),
            stage.name
        ));
    }
    let mut steps = Vec::new();
    let mut pending = Vec::new();
    for (index, (section, (first, tests))) in sections.into_iter().zip(table.iter()).enumerate() {
        if section.names.first().map(String::as_str) != Some(*first) {
            return Err(format!(
                "hint section {} of `{}`: {}:{} is `{}`, the step table \
                 (src/table.rs) says `{first}`: the table follows the chapter's order",
                index + 1,
                stage.name,
                chapter.display(),
                section.line,
                section.heading
            ));
        }
        pending.push(section);
        if !tests.is_empty() {
            let sections = std::mem::take(&mut pending);
            steps.push(Step { number: steps.len() + 1, sections, tests });
        }
    }
    if let Some(last) = pending.first() {
        return Err(format!(
            "{}:{}: `{}` and the hint sections after it have no tests in src/table.rs",
            chapter.display(),
            last.line,
            last.heading
        ));
    }
    Ok(steps)
}

/// Does the test `target::name` belong to the table entry `entry` (itself, or one of its
/// cases)?
pub fn belongs(entry: &str, target: &str, name: &str) -> bool {
    let Some(rest) = entry.strip_prefix(target).and_then(|r| r.strip_prefix("::")) else {
        return false;
    };
    name == rest || name.strip_prefix(rest).is_some_and(|tail| tail.starts_with("::"))
}

impl Step {
    /// The section of this step that names `stub`, if any.
    pub fn section_of(&self, stub: &str) -> Option<&Section> {
        self.sections.iter().find(|section| section.covers(stub))
    }

    /// Does this test belong to the step?
    pub fn has_test(&self, target: &str, name: &str) -> bool {
        self.tests.iter().any(|entry| belongs(entry, target, name))
    }

    /// The test targets its tests are in, in table order.
    pub fn targets(&self) -> Vec<&'static str> {
        let mut targets: Vec<&str> = Vec::new();
        for entry in self.tests {
            let target = entry.split("::").next().unwrap_or(entry);
            if !targets.contains(&target) {
                targets.push(target);
            }
        }
        targets
    }

    /// The libtest filters: each entry without its target.
    pub fn filters(&self) -> Vec<&'static str> {
        self.tests.iter().map(|entry| entry.split_once("::").map_or(*entry, |(_, f)| f)).collect()
    }

    /// The one command that runs this step's tests in `package` (`cargo test -p
    /// data-structures --test log -- term_at`), every target's when they are in several.
    pub fn command(&self, package: &str) -> String {
        let targets = self.targets();
        let mut command = format!("cargo test -p {package}");
        for target in &targets {
            match *target {
                "lib" => command.push_str(" --lib"),
                _ => command.push_str(&format!(" --test {target}")),
            }
        }
        if targets.len() > 1 {
            command.push_str(" --no-fail-fast");
        }
        format!("{command} -- {}", self.filters().join(" "))
    }

    /// The tests of `all` (`(target, name)`) that [`Step::command`] runs: libtest runs a test
    /// whose name contains any filter, in each target named.
    pub fn selected<'a>(&self, all: &'a [(String, String)]) -> Vec<&'a (String, String)> {
        let targets = self.targets();
        let filters = self.filters();
        all.iter()
            .filter(|(target, name)| {
                targets.contains(&target.as_str()) && filters.iter().any(|f| name.contains(f))
            })
            .collect()
    }

    /// The step's stub names as the chapter writes them, for messages: `Log::last_index`,
    /// `Log::last_term`.
    pub fn title(&self) -> String {
        let names: Vec<String> = self.names().iter().map(|n| format!("`{n}`")).collect();
        names.join(", ")
    }

    /// Every name its sections give, in order.
    pub fn names(&self) -> Vec<&str> {
        self.sections.iter().flat_map(|s| s.names.iter().map(String::as_str)).collect()
    }
}

/// The stubs left in a stage's exercise, in reading order (`lib.rs`, then the modules as
/// declared), each with its file relative to `root`.
pub fn stubs_left(root: &Path, stage: &Stage) -> io::Result<Vec<(String, Stub)>> {
    let src = root.join(stage.exercise_dir()).join("src");
    let mut stubs = Vec::new();
    if !src.is_dir() {
        return Ok(stubs);
    }
    for file in source::rust_files_in_reading_order(&src)? {
        let text = fs::read_to_string(&file)?;
        let Ok(parsed) = Parsed::new(&text) else { continue };
        stubs.extend(parsed.stubs().into_iter().map(|stub| (relative(root, &file), stub)));
    }
    Ok(stubs)
}

/// Where a learner is in a stage: the first step, in the chapter's order, that has a stub
/// left or a failing test (`failing`: `(target, name)`), and its first stub left, if any.
pub fn next<'a>(
    steps: &'a [Step],
    stubs: &'a [(String, Stub)],
    failing: &[(String, String)],
) -> Option<(&'a Step, Option<&'a (String, Stub)>)> {
    let step = steps.iter().find(|step| {
        stubs.iter().any(|(_, stub)| step.section_of(&stub.function.name).is_some())
            || failing.iter().any(|(target, name)| step.has_test(target, name))
    })?;
    // The first stub left in the chapter's order within the step, then in reading order.
    let stub = step
        .sections
        .iter()
        .find_map(|section| stubs.iter().find(|(_, stub)| section.covers(&stub.function.name)));
    Some((step, stub))
}

/// Where a learner is: a stage, a step of it, and a stub of that step with its file.
pub type Position = (Stage, Step, (String, Stub));

/// The step a learner is at, judged by the source alone (no build, so `hint` answers at
/// once): the stage [`crate::stages::choose`] picks, a stage counting as started when its
/// `src/` is not the fresh exercise and as done when no stub is left; its first step with a
/// stub left.
pub fn current(root: &Path) -> Result<Option<Position>, String> {
    let mut stages = Vec::new();
    for stage in STAGES {
        let stubs = stubs_left(root, stage).map_err(|e| format!("{}: {e}", stage.label()))?;
        stages.push((crate::fresh::learners_work(root, stage).is_some(), stubs.is_empty()));
    }
    let Some(index) = crate::stages::choose(&stages, crate::stages::here(root)) else {
        return Ok(None);
    };
    let stage = STAGES[index];
    let stubs = stubs_left(root, &stage).map_err(|e| format!("{}: {e}", stage.label()))?;
    let steps = steps(root, &stage)?;
    Ok(next(&steps, &stubs, &[])
        .and_then(|(step, stub)| Some((stage, step.clone(), stub?.clone()))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(tests: &'static [&'static str]) -> Step {
        let section = Section {
            heading: "`Log::term_at`".into(),
            names: vec!["Log::term_at".into()],
            hints: vec!["Like entry.".into()],
            line: 1,
        };
        Step { number: 3, sections: vec![section], tests }
    }

    #[test]
    fn an_entry_holds_its_test_and_its_cases_only() {
        assert!(belongs("log::term_at_is_zero", "log", "term_at_is_zero"));
        assert!(belongs("log::term_at_is_zero", "log", "term_at_is_zero::case_1_empty"));
        assert!(!belongs("log::term_at_is_zero", "log", "term_at_is_zero_too"));
        assert!(!belongs("log::term_at_is_zero", "state", "term_at_is_zero"));
    }

    #[test]
    fn one_target_gives_one_test_flag_and_several_no_fail_fast() {
        assert_eq!(
            step(&["log::term_at_is_zero", "log::matches"]).command("data-structures"),
            "cargo test -p data-structures --test log -- term_at_is_zero matches"
        );
        assert_eq!(
            step(&["paper::a", "cluster::b"]).command("election"),
            "cargo test -p election --test paper --test cluster --no-fail-fast -- a b"
        );
    }

    #[test]
    fn the_command_selects_by_substring_in_its_targets() {
        let all: Vec<(String, String)> =
            [("log", "a"), ("log", "ab"), ("state", "a"), ("log", "b")]
                .iter()
                .map(|(t, n)| (t.to_string(), n.to_string()))
                .collect();
        let selected: Vec<&str> =
            step(&["log::a"]).selected(&all).iter().map(|(_, n)| n.as_str()).collect();
        assert_eq!(selected, ["a", "ab"]);
    }
}
