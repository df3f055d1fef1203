//! `cargo run -- carry <stage> [<into>]`: a later stage built on the learner's own code of an
//! earlier stage instead of that stage's reference.
//!
//! Each stage starts from the reference of the stages before it, and takes it in one of two
//! ways: a source file of the later stage includes the earlier reference's file by path
//! (`#[path = "../../../solutions/02-election/src/node.rs"] pub mod node;`), or the later
//! stage's `Cargo.toml` depends on the earlier reference's crate (`data-structures = {
//! package = "data-structures-solution", path = "../../solutions/01-data-structures" }`).
//! Carrying switches each such [`Link`] to the learner's exercise: the include points at
//! `exercises/…/src/node.rs`, the dependency at `exercises/01-data-structures`. The later
//! stage then compiles the learner's very file (their bodies and any helper they added), so
//! there is no copy to go stale; the drift check guarantees the exercise and the reference
//! file differ only in the stubs' bodies, so nothing else changes.
//!
//! A file (or, for a dependency, a crate) that still holds a `todo!()` is not carried: it is
//! named with its stubs left, and the later stage keeps the reference for it. Undoing
//! (`--undo`) writes the reference's line back, byte for byte as shipped.
//!
//! A carried stage is the learner's work: its `src/lib.rs` (or its dependency) is no longer
//! the fresh exercise, so the course checks about the fresh exercise skip it unless strict
//! ([`carried_into`], used by `checks::skip_as_learners_work`), and CI, which is strict, fails.
//!
//! [`fill`] moves bodies between two versions of one file the other way round: a file's stubs
//! take the bodies of another's functions of the same name (how a maintainer places a new test
//! in a step, `src/table.rs`).

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::map::plural;
use crate::source::{self, Parsed, normalize};
use crate::stages::{STAGES, Stage};

/// How a later stage takes an earlier stage's code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// `#[path = "…"]` on a module of the later stage: one file.
    Include,
    /// A dependency in the later stage's `Cargo.toml`: the whole crate.
    Dependency,
}

/// One place where a later stage takes an earlier stage's code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// Include or dependency.
    pub via: Via,
    /// The file that holds the line, relative to the root.
    pub file: PathBuf,
    /// The line's index (from 0).
    pub line: usize,
    /// For an include, the file it takes, relative to the stage's directory (`src/node.rs`);
    /// empty for a dependency (the crate).
    pub code: PathBuf,
    /// It takes the learner's exercise already, not the reference.
    pub yours: bool,
}

impl Link {
    /// What the link takes from the earlier stage's exercise, relative to the root.
    pub fn learners(&self, from: &Stage) -> PathBuf {
        from.exercise_dir().join(&self.code)
    }

    /// What it takes of the learner's, for messages: a file, or `exercises/… (the crate)`.
    fn shown(&self, from: &Stage) -> String {
        match self.via {
            Via::Include => self.learners(from).display().to_string(),
            Via::Dependency => format!("{} (the crate)", from.exercise_dir().display()),
        }
    }
}

/// What carrying (or undoing) did, or would do, with one link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Switched to the learner's code; `yours`: the functions whose bodies are the learner's
    /// (they differ from the reference's, or the reference has no function of that name).
    Carried {
        /// Function names, in source order.
        yours: Vec<String>,
    },
    /// It took the learner's code already.
    AlreadyYours,
    /// Left on the reference, and why (stubs left, a file missing).
    NotCarried(String),
    /// Switched back to the reference (`--undo`).
    Restored,
    /// It took the reference already (`--undo`).
    AlreadyReference,
}

/// A carry (or an undo) from one stage into a later one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// The stage whose code is carried.
    pub from: Stage,
    /// The stage that takes it.
    pub into: Stage,
    /// Every link from `into` to `from`, and what happens to it.
    pub links: Vec<(Link, Outcome)>,
    /// The earlier stage's source files that `into` does not take at all (it has its own code
    /// in their place), relative to the root.
    pub unused: Vec<PathBuf>,
}

impl Plan {
    /// The files the plan rewrites, relative to the root.
    pub fn changed_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = self
            .links
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Carried { .. } | Outcome::Restored))
            .map(|(link, _)| link.file.clone())
            .collect();
        files.dedup();
        files
    }

    /// Does the later stage take any of the learner's code once the plan is applied?
    pub fn takes_yours(&self) -> bool {
        self.links.iter().any(|(_, o)| matches!(o, Outcome::Carried { .. } | Outcome::AlreadyYours))
    }
}

/// Finds a stage by number (`2`) or package name (`election`).
pub fn stage_named(word: &str) -> Result<Stage, String> {
    STAGES
        .iter()
        .find(|s| s.name == word || s.number.to_string() == word || s.dir_name() == word)
        .copied()
        .ok_or_else(|| {
            let known: Vec<String> =
                STAGES.iter().map(|s| format!("{} ({})", s.number, s.name)).collect();
            format!("no stage `{word}`: the stages are {}", known.join(", "))
        })
}

/// The stage after `stage`, if any.
pub fn next_stage(stage: &Stage) -> Option<Stage> {
    STAGES.iter().find(|s| s.number == stage.number + 1).copied()
}

/// `../` once per component of `dir` (relative to the root): from `dir` back to the root.
fn up(dir: &Path) -> String {
    "../".repeat(dir.components().count())
}

/// The text between `path = "` and the next `"` on `line`, with its byte range.
fn path_value(line: &str) -> Option<(usize, usize)> {
    let key = line.find("path")?;
    let rest = &line[key + 4..];
    let quote = rest.find('"')?;
    if !rest[..quote].trim().starts_with('=') {
        return None;
    }
    let start = key + 4 + quote + 1;
    let end = start + line[start..].find('"')?;
    Some((start, end))
}

/// Every link from `into`'s exercise to `from`'s code, reference or learner's, in file order.
pub fn links(root: &Path, from: &Stage, into: &Stage) -> io::Result<Vec<Link>> {
    let mut found = Vec::new();
    let src = into.exercise_dir().join("src");
    let files = source::rust_files(&root.join(&src))?;
    for file in files {
        let relative = file.strip_prefix(root).unwrap_or(&file).to_path_buf();
        let dir = relative.parent().unwrap_or(Path::new("")).to_path_buf();
        let text = fs::read_to_string(&file)?;
        for (index, line) in text.lines().enumerate() {
            if !line.trim_start().starts_with("#[path") {
                continue;
            }
            let Some((start, end)) = path_value(line) else { continue };
            let target = normalize(&dir.join(&line[start..end]));
            for (base, yours) in [(from.solution_dir(), false), (from.exercise_dir(), true)] {
                if let Ok(code) = target.strip_prefix(&base) {
                    let code = code.to_path_buf();
                    let (via, file) = (Via::Include, relative.clone());
                    found.push(Link { via, file, line: index, code, yours });
                }
            }
        }
    }
    let manifest = into.exercise_dir().join("Cargo.toml");
    let text = fs::read_to_string(root.join(&manifest))?;
    for (index, line) in text.lines().enumerate() {
        let Some(rest) = line.trim_start().strip_prefix(from.name) else { continue };
        if !rest.trim_start().starts_with('=') {
            continue;
        }
        let Some((start, end)) = path_value(line) else { continue };
        let target = normalize(&into.exercise_dir().join(&line[start..end]));
        for (base, yours) in [(from.solution_dir(), false), (from.exercise_dir(), true)] {
            if target == base {
                let (via, file, code) = (Via::Dependency, manifest.clone(), PathBuf::new());
                found.push(Link { via, file, line: index, code, yours });
            }
        }
    }
    Ok(found)
}

/// The line `link`'s line becomes: on the learner's code (`yours`) or on the reference, in the
/// form the course ships (`../../../solutions/02-election/src/node.rs`).
fn rewritten(line: &str, link: &Link, from: &Stage, yours: bool) -> String {
    let dir = link.file.parent().unwrap_or(Path::new(""));
    let base = if yours { from.exercise_dir() } else { from.solution_dir() };
    let base = match link.code.as_os_str().is_empty() {
        true => base,
        false => base.join(&link.code),
    };
    let target = format!("{}{}", up(dir), base.display());
    match link.via {
        Via::Include => match path_value(line) {
            Some((start, end)) => format!("{}{target}{}", &line[..start], &line[end..]),
            None => line.to_string(),
        },
        Via::Dependency => {
            let indent = &line[..line.len() - line.trim_start().len()];
            let name = from.name;
            match yours {
                true => format!("{indent}{name} = {{ path = \"{target}\" }}"),
                false => format!(
                    "{indent}{name} = {{ package = \"{}\", path = \"{target}\" }}",
                    from.solution_package()
                ),
            }
        }
    }
}

/// The functions of `yours` whose bodies are not the reference's, in source order.
pub fn your_functions(yours: &str, reference: &str) -> Result<Vec<String>, String> {
    let parsed_yours = Parsed::new(yours)?;
    let parsed_reference = Parsed::new(reference)?;
    let mut given: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for function in parsed_reference.functions() {
        let (start, end) = parsed_reference.body_range(&function);
        given.entry(function.name).or_default().push(&reference[start..end]);
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut differing = Vec::new();
    for function in parsed_yours.functions() {
        let (start, end) = parsed_yours.body_range(&function);
        let nth = seen.entry(function.name.clone()).or_default();
        let same = given.get(&function.name).and_then(|bodies| bodies.get(*nth));
        *nth += 1;
        if same != Some(&&yours[start..end]) {
            differing.push(function.name);
        }
    }
    Ok(differing)
}

/// The stubs left in the learner's `files` (relative to the root), as `file: a, b`.
fn stubs_left(root: &Path, files: &[PathBuf]) -> Result<Vec<String>, String> {
    let mut left = Vec::new();
    for file in files {
        let text = fs::read_to_string(root.join(file))
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let parsed = Parsed::new(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        let names: Vec<String> = parsed.stubs().into_iter().map(|s| s.function.name).collect();
        if !names.is_empty() {
            left.push(format!("{} in {}: {}", names.len(), file.display(), names.join(", ")));
        }
    }
    Ok(left)
}

/// The `.rs` files of a stage's exercise `src/`, relative to the root, sorted.
fn exercise_files(root: &Path, stage: &Stage) -> Result<Vec<PathBuf>, String> {
    let src = stage.exercise_dir().join("src");
    let files = source::rust_files(&root.join(&src))
        .map_err(|e| format!("cannot read {}: {e}", src.display()))?;
    Ok(files.iter().map(|f| f.strip_prefix(root).unwrap_or(f).to_path_buf()).collect())
}

/// What carrying `from` into `into` would do (`undo`: what undoing it would do), without
/// writing anything.
pub fn plan(root: &Path, from: &Stage, into: &Stage, undo: bool) -> Result<Plan, String> {
    if from.number >= into.number {
        return Err(format!(
            "{} comes after {}: code is carried forward, into a later stage",
            from.label(),
            into.label()
        ));
    }
    let found =
        links(root, from, into).map_err(|e| format!("cannot read {}: {e}", into.label()))?;
    let mut links = Vec::new();
    for link in found {
        let outcome = match (undo, link.yours) {
            (true, true) => Outcome::Restored,
            (true, false) => Outcome::AlreadyReference,
            (false, true) => Outcome::AlreadyYours,
            (false, false) => carry_one(root, from, &link)?,
        };
        links.push((link, outcome));
    }
    let whole_crate = links.iter().any(|(link, _)| link.via == Via::Dependency);
    let unused = match whole_crate || undo {
        true => Vec::new(),
        false => exercise_files(root, from)?
            .into_iter()
            .filter(|file| file.file_name().is_some_and(|n| n != "lib.rs"))
            .filter(|file| !links.iter().any(|(link, _)| link.learners(from) == *file))
            .collect(),
    };
    Ok(Plan { from: *from, into: *into, links, unused })
}

/// What carrying one link would do: carried, with the learner's functions, or why not.
fn carry_one(root: &Path, from: &Stage, link: &Link) -> Result<Outcome, String> {
    let files = match link.via {
        Via::Include => vec![link.learners(from)],
        Via::Dependency => exercise_files(root, from)?,
    };
    if let Some(missing) = files.iter().find(|f| !root.join(f).is_file()) {
        return Ok(Outcome::NotCarried(format!("{} does not exist", missing.display())));
    }
    let left = stubs_left(root, &files)?;
    if !left.is_empty() {
        return Ok(Outcome::NotCarried(format!(
            "stubs left ({}); write them first (`cargo test -p {}`)",
            left.join("; "),
            from.name
        )));
    }
    let mut yours = Vec::new();
    for file in &files {
        let reference_file =
            from.solution_dir().join(file.strip_prefix(from.exercise_dir()).unwrap_or(file));
        let read = |f: &Path| {
            fs::read_to_string(root.join(f))
                .map_err(|e| format!("cannot read {}: {e}", f.display()))
        };
        let reference = read(&reference_file).unwrap_or_default();
        let mine = read(file)?;
        let prefix = match link.via {
            Via::Include => String::new(),
            Via::Dependency => format!(
                "{}: ",
                file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
            ),
        };
        let functions =
            your_functions(&mine, &reference).map_err(|e| format!("{}: {e}", file.display()))?;
        yours.extend(functions.into_iter().map(|f| format!("{prefix}{f}")));
    }
    Ok(Outcome::Carried { yours })
}

/// Writes the plan: every carried link on the learner's code, every restored one on the
/// reference. Other lines and files stay byte for byte.
pub fn apply(root: &Path, plan: &Plan) -> io::Result<()> {
    for file in plan.changed_files() {
        let path = root.join(&file);
        let text = fs::read_to_string(&path)?;
        let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
        for (link, outcome) in plan.links.iter().filter(|(link, _)| link.file == file) {
            let yours = match outcome {
                Outcome::Carried { .. } => true,
                Outcome::Restored => false,
                _ => continue,
            };
            let line = &mut lines[link.line];
            let (body, cr) = match line.strip_suffix('\r') {
                Some(body) => (body.to_string(), "\r"),
                None => (line.clone(), ""),
            };
            *line = format!("{}{cr}", rewritten(&body, link, &plan.from, yours));
        }
        fs::write(&path, lines.join("\n"))?;
    }
    Ok(())
}

/// What the plan did, for the learner: carried, left and why, unused; and how to undo it.
pub fn describe(plan: &Plan) -> String {
    let (from, into) = (&plan.from, &plan.into);
    if plan.links.is_empty() {
        return format!(
            "{} does not take any code of {}: nothing to carry.\n",
            into.label(),
            from.label()
        );
    }
    let mut out = String::new();
    for (link, outcome) in &plan.links {
        let what = link.shown(from);
        let place = format!("{}:{}", link.file.display(), link.line + 1);
        let line = match outcome {
            Outcome::Carried { yours } if yours.is_empty() => {
                format!("  carried       {what} ({place}): the same bodies as the reference's\n")
            }
            Outcome::Carried { yours } => format!(
                "  carried       {what} ({place}): your {}: {}\n",
                plural(yours.len(), "function"),
                yours.join(", ")
            ),
            Outcome::AlreadyYours => format!("  already yours {what} ({place})\n"),
            Outcome::NotCarried(why) => {
                format!("  NOT carried   {what}: {why}; {} keeps the reference's\n", into.label())
            }
            Outcome::Restored => format!("  restored      {place}: the reference's again\n"),
            Outcome::AlreadyReference => format!("  unchanged     {place}: the reference's\n"),
        };
        out.push_str(&line);
    }
    for file in &plan.unused {
        out.push_str(&format!(
            "  not used      {}: {} has code of its own in its place\n",
            file.display(),
            into.label()
        ));
    }
    out
}

/// How to undo a carry: the command, and the git command that does the same.
pub fn undo_hint(plan: &Plan) -> String {
    let mut files: Vec<String> = plan
        .links
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Carried { .. } | Outcome::AlreadyYours))
        .map(|(link, _)| link.file.display().to_string())
        .collect();
    files.dedup();
    if files.is_empty() {
        return String::new();
    }
    if plan.links.iter().any(|(link, _)| link.via == Via::Dependency) {
        files.push("Cargo.lock".to_string());
    }
    format!(
        "Undo: cargo run -- carry {} {} --undo\n  (or `git checkout -- {}`, which also drops any \
         other edit of yours in these files)\n",
        plan.from.number,
        plan.into.number,
        files.join(" ")
    )
}

/// The links through which `stage` takes a learner's code of an earlier stage (a carry), as
/// `stage 3 replication takes exercises/02-election/src/node.rs`; empty for the fresh layout.
pub fn carried_into(root: &Path, stage: &Stage) -> Vec<String> {
    STAGES
        .iter()
        .filter(|from| from.number < stage.number)
        .flat_map(|from| {
            let links = links(root, from, stage).unwrap_or_default().into_iter();
            links.filter(|link| link.yours).map(move |link| link.shown(from))
        })
        .collect()
}

/// What the later stage's tests say once it takes the learner's code.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Tests that pass.
    pub passed: usize,
    /// Tests that fail through a `todo!()` of the later stage itself: not yet written, so
    /// they say nothing yet about the carried code.
    pub waiting: usize,
    /// Tests that fail otherwise, as `tests/<target>.rs <name>: <first line of the failure>`.
    pub failed: Vec<String>,
    /// Test executables that ended without a result line (a crash or the time limit).
    pub crashed: Vec<String>,
}

/// Sorts the later stage's test results; `stubs`: the `todo!` messages of its own stubs.
pub fn verdict(runs: &[crate::cargo::BinaryRun], stubs: &[Option<String>]) -> Verdict {
    use crate::libtest::Outcome;
    let mut verdict = Verdict::default();
    for run in runs {
        let target = run.binary.shown();
        for result in &run.report.results {
            match result.outcome {
                Outcome::Passed => verdict.passed += 1,
                Outcome::Ignored => {}
                Outcome::Failed if crate::checks::fails_through_a_stub(&result.output, stubs) => {
                    verdict.waiting += 1
                }
                Outcome::Failed => {
                    let first = result
                        .output
                        .lines()
                        .map(str::trim)
                        .find(|line| !line.is_empty() && !line.starts_with("thread '"))
                        .unwrap_or("(no output)");
                    verdict.failed.push(format!("{target} {}: {first}", result.name));
                }
            }
        }
        if let Some(crash) = &run.crash {
            let first = crash.lines().next().unwrap_or_default();
            verdict.crashed.push(format!("{target}: {first}"));
        }
    }
    verdict
}

/// The section of `into`'s chapter that says what it needs of a learner's earlier code (its
/// `## Carrying your own …` heading), as `docs/05-snapshots.md:627, "Carrying your own code
/// forward"`.
pub fn carrying_section(root: &Path, into: &Stage) -> Option<String> {
    let chapter = into.chapter();
    let text = fs::read_to_string(root.join(&chapter)).ok()?;
    text.lines().enumerate().find_map(|(index, line)| {
        let heading = line.strip_prefix("## ")?;
        heading
            .starts_with("Carrying your own")
            .then(|| format!("{}:{}, \"{}\"", chapter.display(), index + 1, heading.trim()))
    })
}

/// The verdict for the learner, about `from`'s code under `into`'s tests; a failure points at
/// the chapter's section on what `into` needs of earlier code ([`carrying_section`]).
pub fn describe_verdict(root: &Path, verdict: &Verdict, from: &Stage, into: &Stage) -> String {
    let mut out = format!("  {} pass\n", plural(verdict.passed, "test"));
    if verdict.waiting > 0 {
        out.push_str(&format!(
            "  {} fail at a todo!() of {} itself: write those stubs, and these tests will \
             judge your {} code too\n",
            plural(verdict.waiting, "test"),
            into.label(),
            from.label()
        ));
    }
    if !verdict.failed.is_empty() {
        out.push_str(&format!(
            "  {} fail otherwise: your {} code under {}'s tests (or your {} code), to read first:\n",
            plural(verdict.failed.len(), "test"),
            from.label(),
            into.label(),
            into.label()
        ));
        for line in verdict.failed.iter().take(10) {
            out.push_str(&format!("    {line}\n"));
        }
        if verdict.failed.len() > 10 {
            out.push_str(&format!("    … and {} more\n", verdict.failed.len() - 10));
        }
        out.push_str(&format!("  see them in full: cargo test -p {} --no-fail-fast\n", into.name));
        if let Some(section) = carrying_section(root, into) {
            out.push_str(&format!(
                "  what {} needs of your earlier code, beyond their own stages' tests: {section}\n",
                into.label()
            ));
        }
    }
    for crash in &verdict.crashed {
        out.push_str(&format!("  CRASHED {crash}\n"));
    }
    if verdict.failed.is_empty() && verdict.crashed.is_empty() {
        out.push_str(&match verdict.waiting {
            0 => format!("  Your {} code holds under {}'s tests.\n", from.label(), into.label()),
            _ => format!("  No test fails because of your {} code so far.\n", from.label()),
        });
    }
    out
}

/// What [`fill`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filled {
    /// The new text.
    pub text: String,
    /// The stubs that took a body, in source order.
    pub filled: Vec<String>,
    /// The selected stubs that did not: no function of that name in the donor, or several.
    pub missing: Vec<String>,
}

/// Replaces the body of each stub of `target` that `select` picks with the body of the
/// function of the same name in `donor`. Stubs are functions whose body calls `todo!`.
pub fn fill(target: &str, donor: &str, select: impl Fn(&str) -> bool) -> Result<Filled, String> {
    let parsed_target = Parsed::new(target).map_err(|e| format!("the target: {e}"))?;
    let parsed_donor = Parsed::new(donor).map_err(|e| format!("the donor: {e}"))?;
    let mut bodies: BTreeMap<String, Vec<(usize, usize)>> = BTreeMap::new();
    for function in parsed_donor.functions() {
        let range = parsed_donor.body_range(&function);
        bodies.entry(function.name).or_default().push(range);
    }
    let mut text = target.to_string();
    let mut filled = Vec::new();
    let mut missing = Vec::new();
    let stubs = parsed_target.stubs();
    for stub in stubs.iter().rev() {
        let name = &stub.function.name;
        if !select(name) {
            continue;
        }
        match bodies.get(name).map(Vec::as_slice) {
            Some(&[(start, end)]) => {
                let (target_start, target_end) = parsed_target.body_range(&stub.function);
                text.replace_range(target_start..target_end, &donor[start..end]);
                filled.push(name.clone());
            }
            _ => missing.push(name.clone()),
        }
    }
    filled.reverse();
    missing.reverse();
    Ok(Filled { text, filled, missing })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::stages::repo_root;

    /// A temporary root, removed when dropped.
    struct Root(PathBuf);

    impl Root {
        fn new(name: &str) -> Root {
            static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let count = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let dir = std::env::temp_dir()
                .join(format!("raft-course-carry-{name}-{}-{count}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            Root(dir)
        }

        fn write(&self, file: &str, text: &str) {
            let path = self.0.join(file);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }

        fn read(&self, file: &str) -> String {
            fs::read_to_string(self.0.join(file)).unwrap()
        }

        /// A copy of a reference file of the real repository (references are never a
        /// learner's work, so the test does not depend on how far the learner is).
        fn copy_reference(&self, from: &str, to: &str) {
            self.write(to, &fs::read_to_string(repo_root().join(from)).unwrap());
        }
    }

    impl Drop for Root {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    const ELECTION: &str = "solutions/02-election/src";
    const STAGE_2_MANIFEST: &str = "[dependencies]
# a comment
data-structures = { package = \"data-structures-solution\", path = \"../../solutions/01-data-structures\" }
harness.workspace = true
";

    /// Stage 2 finished by a learner (the reference's files, `election.rs` with one body of
    /// their own), stage 3 as shipped (its `lib.rs` is the same in exercise and solution).
    fn finished_stage_2() -> Root {
        let root = Root::new("stage-2");
        for file in ["lib.rs", "node.rs", "election.rs", "heartbeat.rs"] {
            root.copy_reference(&format!("{ELECTION}/{file}"), &format!("{ELECTION}/{file}"));
            let exercise = format!("exercises/02-election/src/{file}");
            root.copy_reference(&format!("{ELECTION}/{file}"), &exercise);
        }
        let election = root.read("exercises/02-election/src/election.rs");
        let mine = Parsed::new(&election).unwrap();
        let function = mine.functions().into_iter().next().expect("election.rs has functions");
        let (start, end) = mine.body_range(&function);
        let mut stub = election.clone();
        stub.replace_range(start..end, "{\n        todo!(\"write me\")\n    }");
        root.write("exercises/02-election/src/election.rs.stub", &stub);
        let mut edited = election.clone();
        let body = format!("{{ /* my own way */{}", &election[start + 1..end]);
        edited.replace_range(start..end, &body);
        root.write("exercises/02-election/src/election.rs", &edited);
        root.copy_reference(
            "solutions/03-replication/src/lib.rs",
            "exercises/03-replication/src/lib.rs",
        );
        root.write("exercises/03-replication/Cargo.toml", STAGE_2_MANIFEST);
        root.write("exercises/02-election/Cargo.toml", STAGE_2_MANIFEST);
        root
    }

    #[test]
    fn carrying_stage_2_switches_stage_3s_includes_and_undo_restores_them_byte_for_byte() {
        let root = finished_stage_2();
        let (two, three) = (stage_named("2").unwrap(), stage_named("replication").unwrap());
        let shipped = root.read("exercises/03-replication/src/lib.rs");
        let plan = plan(&root.0, &two, &three, false).unwrap();
        let carried: Vec<&Path> = plan
            .links
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Carried { .. }))
            .map(|(link, _)| link.code.as_path())
            .collect();
        assert_eq!(carried, [Path::new("src/node.rs"), Path::new("src/election.rs")], "{plan:?}");
        assert_eq!(plan.unused, [PathBuf::from("exercises/02-election/src/heartbeat.rs")]);
        let (_, election) = &plan.links[1];
        let Outcome::Carried { yours } = election else { panic!("{election:?}") };
        assert_eq!(yours.len(), 1, "one body of the learner's own: {yours:?}");
        apply(&root.0, &plan).unwrap();
        let carried = root.read("exercises/03-replication/src/lib.rs");
        assert!(carried.contains("#[path = \"../../../exercises/02-election/src/node.rs\"]"));
        assert!(carried.contains("#[path = \"../../../exercises/02-election/src/election.rs\"]"));
        assert!(carried.contains("#[path = \"../../../solutions/04-safety/src/persistence.rs\"]"));
        assert_eq!(carried.lines().count(), shipped.lines().count());
        let text = describe(&plan);
        assert!(text.contains("carried       exercises/02-election/src/node.rs"), "{text}");
        assert!(text.contains("not used      exercises/02-election/src/heartbeat.rs"), "{text}");
        assert!(undo_hint(&plan).contains("cargo run -- carry 2 3 --undo"));
        assert_eq!(
            carried_into(&root.0, &three),
            ["exercises/02-election/src/node.rs", "exercises/02-election/src/election.rs"]
        );

        let again = super::plan(&root.0, &two, &three, false).unwrap();
        assert!(again.links.iter().all(|(_, o)| *o == Outcome::AlreadyYours), "{again:?}");
        let undo = super::plan(&root.0, &two, &three, true).unwrap();
        apply(&root.0, &undo).unwrap();
        assert_eq!(root.read("exercises/03-replication/src/lib.rs"), shipped);
        assert!(carried_into(&root.0, &three).is_empty());
    }

    #[test]
    fn a_file_with_stubs_left_is_not_carried_and_its_stubs_are_named() {
        let root = finished_stage_2();
        let stub = root.read("exercises/02-election/src/election.rs.stub");
        root.write("exercises/02-election/src/election.rs", &stub);
        let (two, three) = (stage_named("election").unwrap(), stage_named("3").unwrap());
        let plan = plan(&root.0, &two, &three, false).unwrap();
        assert!(matches!(plan.links[0].1, Outcome::Carried { .. }), "{plan:?}");
        let Outcome::NotCarried(why) = &plan.links[1].1 else { panic!("{plan:?}") };
        assert!(why.contains("1 in exercises/02-election/src/election.rs: "), "{why}");
        assert!(why.contains("cargo test -p election"), "{why}");
        apply(&root.0, &plan).unwrap();
        let text = root.read("exercises/03-replication/src/lib.rs");
        assert!(text.contains("\"../../../solutions/02-election/src/election.rs\""), "{text}");
        assert!(text.contains("\"../../../exercises/02-election/src/node.rs\""), "{text}");
    }

    #[test]
    fn carrying_a_crate_switches_the_dependency_only_when_no_file_has_stubs() {
        let root = finished_stage_2();
        root.write("exercises/01-data-structures/src/lib.rs", "pub fn a() -> u8 { 1 }\n");
        root.write("solutions/01-data-structures/src/lib.rs", "pub fn a() -> u8 { 2 }\n");
        let (one, two) = (stage_named("1").unwrap(), stage_named("2").unwrap());
        let plan = plan(&root.0, &one, &two, false).unwrap();
        assert_eq!(plan.links.len(), 1, "{plan:?}");
        assert_eq!(plan.links[0].1, Outcome::Carried { yours: vec!["lib.rs: a".to_string()] });
        assert!(plan.unused.is_empty(), "a crate is carried whole");
        let text = describe(&plan);
        assert!(text.contains("carried       exercises/01-data-structures (the crate)"), "{text}");
        apply(&root.0, &plan).unwrap();
        let manifest = root.read("exercises/02-election/Cargo.toml");
        assert_eq!(
            manifest,
            STAGE_2_MANIFEST.replace(
                "{ package = \"data-structures-solution\", path = \"../../solutions/01-data-structures\" }",
                "{ path = \"../../exercises/01-data-structures\" }"
            )
        );
        assert!(undo_hint(&plan).contains("Cargo.lock"));
        apply(&root.0, &super::plan(&root.0, &one, &two, true).unwrap()).unwrap();
        assert_eq!(root.read("exercises/02-election/Cargo.toml"), STAGE_2_MANIFEST);

        root.write("exercises/01-data-structures/src/log.rs", "fn b() { todo!() }\n");
        let plan = super::plan(&root.0, &one, &two, false).unwrap();
        assert!(matches!(&plan.links[0].1, Outcome::NotCarried(why) if why.contains("log.rs: b")));
    }

    #[test]
    fn code_is_carried_forward_only() {
        let root = finished_stage_2();
        let (two, three) = (stage_named("2").unwrap(), stage_named("3").unwrap());
        assert!(plan(&root.0, &three, &two, false).unwrap_err().contains("forward"));
        assert!(stage_named("9").unwrap_err().contains("the stages are 1 (data-structures)"));
    }

    #[test]
    fn every_later_stage_takes_the_earlier_references_in_a_form_carry_recognises() {
        // The shipped exercises: each include of an earlier reference and each dependency on
        // one is a link; a stage with none would make `carry` say "nothing to carry".
        let root = repo_root();
        for into in STAGES.iter().filter(|s| s.number > 1) {
            let from = STAGES[into.number as usize - 2];
            let found = links(&root, &from, into).unwrap();
            assert!(!found.is_empty(), "{} takes nothing of {}", into.label(), from.label());
        }
    }

    /// `carry` points a learner whose earlier code fails a later stage's tests at the later
    /// chapter's section on carrying: every later stage's chapter has one.
    #[test]
    fn every_later_chapter_says_what_it_needs_of_earlier_code() {
        for into in STAGES.iter().filter(|s| s.number > 1) {
            let section = carrying_section(&repo_root(), into);
            assert!(
                section.is_some(),
                "{} has no `## Carrying your own …` section for `cargo run -- carry` to point at",
                into.chapter().display()
            );
        }
    }

    /// Stage 5 takes stage 3's `replication.rs` and stage 4's `persistence.rs`, the files whose
    /// stubs must know about snapshots (`checks::later_needs_told`), from their references, so
    /// `carry 3 5` and `carry 4 5` have a link to switch, and the shipped stage 5 runs exactly
    /// the references' bodies (what check 7, `reference_passes`, proves on `snapshots-solution`).
    #[test]
    fn stage_5_takes_stage_3s_replication_and_stage_4s_persistence_from_the_references() {
        let root = repo_root();
        let five = stage_named("5").unwrap();
        for (from, file) in [("3", "src/replication.rs"), ("4", "src/persistence.rs")] {
            let found = links(&root, &stage_named(from).unwrap(), &five).unwrap();
            assert!(
                found.iter().any(|link| link.code == Path::new(file) && !link.yours),
                "stage 5 should include the stage {from} reference's {file}: {found:?}"
            );
        }
    }

    #[test]
    fn a_verdict_tells_stub_failures_from_others() {
        use crate::cargo::{BinaryRun, TestBinary};
        use crate::libtest::{Outcome as Test, Report, TestResult};
        let result = |name: &str, outcome, output: &str| TestResult {
            name: name.to_string(),
            outcome,
            output: output.to_string(),
        };
        let binary = TestBinary {
            package: "replication".into(),
            target: "paper".into(),
            path: PathBuf::new(),
            is_lib: false,
            package_dir: PathBuf::new(),
        };
        let report = Report {
            results: vec![
                result("a", Test::Passed, ""),
                result(
                    "b",
                    Test::Failed,
                    "thread 'b' panicked at x\nnot yet implemented: propose\n",
                ),
                result("c", Test::Failed, "thread 'c' panicked at y\nterm went down\n"),
            ],
            complete: true,
        };
        let runs = [BinaryRun { binary, report, crash: None }];
        let verdict = verdict(&runs, &[Some("propose".to_string())]);
        assert_eq!(verdict.passed, 1);
        assert_eq!(verdict.waiting, 1);
        assert_eq!(verdict.failed, ["tests/paper.rs c: term went down"]);
        let (two, three) = (stage_named("2").unwrap(), stage_named("3").unwrap());
        let text = describe_verdict(&repo_root(), &verdict, &two, &three);
        assert!(text.contains("1 test fail at a todo!() of stage 3 replication itself"), "{text}");
        assert!(text.contains("cargo test -p replication --no-fail-fast"), "{text}");
        assert!(
            text.contains(
                "what stage 3 replication needs of your earlier code, beyond their own \
                           stages' tests: docs/03-replication.md:"
            ),
            "{text}"
        );
        assert!(text.contains(", \"Carrying your own stage 2 forward\"\n"), "{text}");
    }

    const EXERCISE: &str = "impl Log {
    fn last_index(&self) -> u64 {
        // TODO: count them.
        todo!(\"last_index (§5.3)\")
    }
    fn last_term(&self) -> u64 {
        todo!(\"last_term {}\", \"}\")
    }
    fn given(&self) {}
}
fn free() {
    todo!()
}
";

    const SOLUTION: &str = "impl Log {
    fn last_index(&self) -> u64 {
        self.entries.len() as u64
    }
    fn last_term(&self) -> u64 {
        self.entries.last().map_or(0, |e| { e.term })
    }
    fn given(&self) {}
}
";

    #[test]
    fn selected_stubs_take_the_donors_bodies_and_the_rest_stay() {
        let filled = fill(EXERCISE, SOLUTION, |name| name != "Log::last_term").unwrap();
        assert_eq!(filled.filled, ["Log::last_index"]);
        assert_eq!(filled.missing, ["free"]);
        assert!(filled.text.contains("{\n        self.entries.len() as u64\n    }"));
        assert!(filled.text.contains("todo!(\"last_term {}\", \"}\")"));
        assert!(!filled.text.contains("last_index (§5.3)"));
    }

    #[test]
    fn filling_every_stub_gives_the_donor_where_it_has_them() {
        let filled = fill(EXERCISE, SOLUTION, |name| name.starts_with("Log::")).unwrap();
        assert_eq!(filled.text, format!("{SOLUTION}fn free() {{\n    todo!()\n}}\n"));
    }
}
