//! Is this the fresh exercise? Judged by content, not by git: each stage's `src/` files, as
//! shipped, are recorded as hashes in [`FILE`] (checked in). A stage whose files still match is
//! the fresh exercise, so the checks about stubs (they fail only through `todo!()`, no drift)
//! apply to it; a stage whose files differ holds the learner's work, and those checks skip it,
//! whether or not the work is committed.
//!
//! The record cannot drift from the exercises unnoticed: with `RAFT_STRICT_CHECKS=1` (CI) a
//! mismatch is a failure, and `cargo run -- fingerprint` writes the record afresh.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::Path;

use crate::source;
use crate::stages::{STAGES, Stage};

/// The record of the fresh exercises, relative to the repository root.
pub const FILE: &str = "exercises/fresh-stubs.txt";

const HEADER: &str = "\
# The fresh exercises: a hash of each file under exercises/NN-stage/src as shipped.
# The course checks about stubs run only on a stage whose files still match (a learner's
# work, committed or not, never turns the root `cargo test` red); RAFT_STRICT_CHECKS=1 (CI)
# requires every stage to match. Written by `cargo run -- fingerprint`: do not edit.
";

/// A stage's files: path relative to the exercise's directory (`src/log.rs`) → hash.
pub type Fingerprint = BTreeMap<String, String>;

/// How a stage's exercise compares with its record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// Every file matches: the fresh exercise.
    Fresh,
    /// These files differ, were added or were removed (relative to the exercise's directory).
    Changed(Vec<String>),
    /// [`FILE`] has no record of this stage, or cannot be read (the reason).
    NotRecorded(String),
}

impl fmt::Display for Freshness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Freshness::Fresh => write!(f, "the fresh exercise"),
            Freshness::Changed(files) => {
                let shown: Vec<&str> = files.iter().take(4).map(String::as_str).collect();
                let more = match files.len().saturating_sub(4) {
                    0 => String::new(),
                    n => format!(" and {n} more"),
                };
                write!(f, "changed since the fresh exercise: {}{more}", shown.join(", "))
            }
            Freshness::NotRecorded(why) => write!(f, "no record of the fresh exercise ({why})"),
        }
    }
}

/// FNV-1a, 64 bits, over the text with `\r\n` read as `\n` (a Windows checkout is the same
/// exercise). Not cryptographic: it tells edited from untouched, nothing more.
pub fn hash(text: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut bytes = text.iter().peekable();
    while let Some(&byte) = bytes.next() {
        if byte == b'\r' && bytes.peek() == Some(&&b'\n') {
            continue;
        }
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// The fingerprint of a stage's exercise as it is now (empty if it has no `src/`).
pub fn current(root: &Path, stage: &Stage) -> io::Result<Fingerprint> {
    let dir = root.join(stage.exercise_dir());
    let mut fingerprint = Fingerprint::new();
    if !dir.join("src").is_dir() {
        return Ok(fingerprint);
    }
    for file in source::rust_files(&dir.join("src"))? {
        let relative = file.strip_prefix(&dir).unwrap_or(&file);
        let name: Vec<String> =
            relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        fingerprint.insert(name.join("/"), hash(&fs::read(&file)?));
    }
    Ok(fingerprint)
}

/// The record, as [`FILE`] holds it: stage directory name → fingerprint.
pub fn parse(text: &str) -> Result<BTreeMap<String, Fingerprint>, String> {
    let mut record: BTreeMap<String, Fingerprint> = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [stage, file, hash] = fields[..] else {
            return Err(format!("{FILE}:{}: expected `<stage> <file> <hash>`", number + 1));
        };
        record.entry(stage.to_string()).or_default().insert(file.to_string(), hash.to_string());
    }
    Ok(record)
}

/// The text of [`FILE`] for the exercises as they are now.
pub fn render(root: &Path) -> io::Result<String> {
    let mut text = HEADER.to_string();
    for stage in STAGES {
        for (file, hash) in current(root, stage)? {
            text.push_str(&format!("{} {file} {hash}\n", stage.dir_name()));
        }
    }
    Ok(text)
}

/// Compares a stage's exercise with the record in `root`'s [`FILE`].
pub fn freshness(root: &Path, stage: &Stage) -> Freshness {
    let record = match fs::read_to_string(root.join(FILE)) {
        Ok(text) => match parse(&text) {
            Ok(record) => record,
            Err(error) => return Freshness::NotRecorded(error),
        },
        Err(error) => return Freshness::NotRecorded(format!("cannot read {FILE}: {error}")),
    };
    let Some(recorded) = record.get(&stage.dir_name()) else {
        return Freshness::NotRecorded(format!("{FILE} does not list {}", stage.dir_name()));
    };
    match current(root, stage) {
        Ok(now) => compare(recorded, &now),
        Err(error) => Freshness::NotRecorded(format!("cannot read the exercise: {error}")),
    }
}

/// The files in which two fingerprints differ.
pub fn compare(recorded: &Fingerprint, now: &Fingerprint) -> Freshness {
    let mut changed: Vec<String> = recorded
        .iter()
        .filter(|(file, hash)| now.get(*file) != Some(hash))
        .map(|(file, _)| file.clone())
        .collect();
    changed.extend(now.keys().filter(|file| !recorded.contains_key(*file)).cloned());
    changed.sort();
    match changed.is_empty() {
        true => Freshness::Fresh,
        false => Freshness::Changed(changed),
    }
}

/// Why the stage is the learner's work, if it is: it builds on their code of an earlier
/// stage (`cargo run -- carry`), or its `src/` differs from the record.
pub fn learners_work(root: &Path, stage: &Stage) -> Option<String> {
    let carried = crate::carry::carried_into(root, stage);
    if !carried.is_empty() {
        return Some(format!(
            "it builds on your own code ({}: `cargo run -- carry`)",
            carried.join(", ")
        ));
    }
    match freshness(root, stage) {
        changed @ Freshness::Changed(_) => {
            Some(format!("{changed} (your work, or a maintainer's edit not yet recorded)"))
        }
        _ => None,
    }
}

/// Are the strict checks asked for (`RAFT_STRICT_CHECKS` set, and not `0`)? Then every
/// stage must be the fresh exercise, as in CI.
pub fn strict() -> bool {
    std::env::var_os("RAFT_STRICT_CHECKS").is_some_and(|v| !v.is_empty() && v != "0")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fingerprint(pairs: &[(&str, &str)]) -> Fingerprint {
        pairs.iter().map(|(f, h)| (f.to_string(), h.to_string())).collect()
    }

    #[test]
    fn line_endings_do_not_change_the_hash_and_a_byte_does() {
        assert_eq!(hash(b"fn a() {}\r\n"), hash(b"fn a() {}\n"));
        assert_ne!(hash(b"fn a() {}\n"), hash(b"fn b() {}\n"));
        assert_eq!(hash(b""), "cbf29ce484222325");
    }

    #[test]
    fn changed_added_and_removed_files_are_named() {
        let recorded = fingerprint(&[("src/a.rs", "1"), ("src/b.rs", "2"), ("src/c.rs", "3")]);
        let now = fingerprint(&[("src/a.rs", "1"), ("src/b.rs", "9"), ("src/d.rs", "4")]);
        assert_eq!(
            compare(&recorded, &now),
            Freshness::Changed(vec!["src/b.rs".into(), "src/c.rs".into(), "src/d.rs".into()])
        );
        assert_eq!(compare(&recorded, &recorded), Freshness::Fresh);
    }

    #[test]
    fn the_record_reads_back_and_rejects_a_malformed_line() {
        let record = parse("# comment\n\n01-x src/a.rs 00ff\n01-x src/b.rs 0100\n").unwrap();
        assert_eq!(record["01-x"], fingerprint(&[("src/a.rs", "00ff"), ("src/b.rs", "0100")]));
        assert_eq!(
            parse("01-x src/a.rs\n"),
            Err(format!("{FILE}:1: expected `<stage> <file> <hash>`"))
        );
    }
}
