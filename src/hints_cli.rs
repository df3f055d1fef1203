//! `cargo run -- hint [stub] [level]`: one hint at a time, from the stage's hints file
//! (`docs/hints/NN-stage.md`).

use std::path::{Path, PathBuf};

use crate::hints::{Section, names_match};
use crate::stages::{STAGES, Stage};
use crate::steps::{self, Step};

/// A step whose hints were asked for.
#[derive(Clone, Debug)]
pub struct Found {
    /// Its stage.
    pub stage: Stage,
    /// The step: its hint sections and tests.
    pub step: Step,
    /// The hint section asked for.
    pub section: Section,
    /// How many steps the stage has.
    pub steps: usize,
    /// The name to type for it again (`Log::term_at`, or `election/become_leader` when a name
    /// is a stub of several stages).
    pub name: String,
}

/// The step `stub` names (else the step the learner is at, by the source: the first stub
/// left in the chapter's order).
pub fn find(root: &Path, stub: Option<&str>) -> Result<Found, String> {
    let Some(query) = stub else {
        let Some((stage, step, (_, stub))) = steps::current(root)? else {
            return Err("no stub is left in any stage; `cargo run` shows which tests fail, \
                        and `cargo run -- hint <stub>` shows a stub's hints"
                .to_string());
        };
        let steps = steps::steps(root, &stage)?.len();
        let section = step.section_of(&stub.function.name).cloned().expect("the step covers it");
        let name = qualified(root, &stage, &section.names[0])?;
        return Ok(Found { stage, step, section, steps, name });
    };
    let (wanted_stage, name) = match query.split_once('/') {
        Some((stage, name)) => (Some(stage), name),
        None => (None, query),
    };
    let mut found = naming(root, wanted_stage, name)?;
    if found.len() > 1 {
        // Several stages have a stub of this name: the one the learner still has to write.
        let left: Vec<Found> = found
            .iter()
            .filter(|f| {
                steps::stubs_left(root, &f.stage).is_ok_and(|stubs| {
                    stubs.iter().any(|(_, s)| {
                        f.section.covers(&s.function.name) && names_match(name, &s.function.name)
                    })
                })
            })
            .cloned()
            .collect();
        if left.len() == 1 {
            found = left;
        }
    }
    match found.len() {
        0 => Err(format!(
            "no hint names `{query}`; the hints files (docs/hints/) name each stub, e.g. \
             `cargo run -- hint Log::term_at`"
        )),
        1 => {
            let mut found = found.remove(0);
            found.name = qualified(root, &found.stage, &found.name)?;
            Ok(found)
        }
        _ => {
            let choices: Vec<String> =
                found.iter().map(|f| format!("`{}/{name}`", f.stage.name)).collect();
            Err(format!(
                "`{query}` is a stub of several stages: say which, {}",
                choices.join(" or ")
            ))
        }
    }
}

/// Every hint section that names `name` (or that `name` names), in every stage or in the
/// stage called `wanted` alone.
fn naming(root: &Path, wanted: Option<&str>, name: &str) -> Result<Vec<Found>, String> {
    let mut found = Vec::new();
    for stage in STAGES.iter().filter(|s| wanted.is_none_or(|w| w == s.name)) {
        let steps = steps::steps(root, stage)?;
        for step in &steps {
            for section in &step.sections {
                if section.names.iter().any(|n| names_match(n, name) || names_match(name, n)) {
                    let (step, section) = (step.clone(), section.clone());
                    let (steps, name) = (steps.len(), name.to_string());
                    found.push(Found { stage: *stage, step, section, steps, name });
                }
            }
        }
    }
    Ok(found)
}

/// `name`, or `stage/name` if another stage has a step of that name too.
pub fn qualified(root: &Path, stage: &Stage, name: &str) -> Result<String, String> {
    match naming(root, None, name)?.iter().any(|found| found.stage != *stage) {
        true => Ok(format!("{}/{name}", stage.name)),
        false => Ok(name.to_string()),
    }
}

/// The hint at `level` (1 if `None`), with where it comes from and how to get the next one.
pub fn render(found: &Found, level: Option<usize>) -> Result<String, String> {
    let hints = &found.section.hints;
    let level = level.unwrap_or(1);
    let Some(hint) = hints.get(level - 1) else {
        return Err(format!(
            "{} has {} (`cargo run -- hint {} {}` is the strongest)",
            found.section.heading,
            crate::map::plural(hints.len(), "hint"),
            found.name,
            hints.len()
        ));
    };
    let file: PathBuf = found.stage.hints();
    let mut out = format!(
        "{}, step {} of {}: {}  ({}:{})\n\nHint {level} of {}:\n\n{hint}\n\n",
        found.stage.label(),
        found.step.number,
        found.steps,
        found.section.heading,
        file.display(),
        found.section.line,
        hints.len(),
    );
    if level < hints.len() {
        out.push_str(&format!("A stronger hint: cargo run -- hint {} {}\n", found.name, level + 1));
    } else {
        out.push_str(&format!(
            "That was the last hint. The reference: {}\n",
            found.stage.solution_dir().join("src").display()
        ));
    }
    out.push_str(&format!("This step's tests: cargo run -- test {}\n", found.name));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stub name that two stages' hints use is qualified with its stage; another is not.
    #[test]
    fn a_name_of_two_stages_is_qualified_with_its_stage() {
        let root = crate::stages::repo_root();
        let qualified = |stage: usize, name| qualified(&root, &STAGES[stage], name).unwrap();
        assert_eq!(qualified(1, "handle_append_entries"), "election/handle_append_entries");
        assert_eq!(qualified(0, "Log::term_at"), "Log::term_at");
    }
}
