//! The course's stages: the one table every tool reads. Adding a stage is one entry here
//! (plus its two packages in the workspace, its chapter in `docs/` and its hints in
//! `docs/hints/`).

use std::path::{Path, PathBuf};

/// A stage of the course: an exercise package and its reference solution package.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stage {
    /// 1, 2, …: the order in which a learner takes the stages.
    pub number: u32,
    /// The exercise's package name, what the learner types: `cargo test -p <name>`.
    pub name: &'static str,
    /// What the learner implements, in a few words.
    pub topic: &'static str,
    /// The paper sections it covers, in the course's citation form.
    pub paper: &'static str,
}

/// Every stage, in order.
pub const STAGES: &[Stage] = &[
    Stage {
        number: 1,
        name: "data-structures",
        topic: "terms, the log, RPC messages, server state",
        paper: "Figure 2, §5.1, §5.3, §5.4.1",
    },
    Stage {
        number: 2,
        name: "election",
        topic: "leader election, terms, heartbeats",
        paper: "§5.1, §5.2, §5.4.1",
    },
    Stage {
        number: 3,
        name: "replication",
        topic: "log replication, commitment, applying entries",
        paper: "§5.3, §5.4.2",
    },
    Stage {
        number: 4,
        name: "safety",
        topic: "stable storage, crash recovery, the safety properties",
        paper: "§5.1, §5.4, §5.5",
    },
    Stage {
        number: 5,
        name: "snapshots",
        topic: "snapshots, log compaction, InstallSnapshot",
        paper: "§7, Figure 13",
    },
    Stage {
        number: 6,
        name: "kv",
        topic: "a key-value service: sessions, writes through the log, ReadIndex reads",
        paper: "dissertation §6, §8",
    },
];

impl Stage {
    /// The directory name under `exercises/` and `solutions/`, e.g. `01-data-structures`.
    pub fn dir_name(&self) -> String {
        format!("{:02}-{}", self.number, self.name)
    }

    /// The exercise's directory, relative to the repository root.
    pub fn exercise_dir(&self) -> PathBuf {
        Path::new("exercises").join(self.dir_name())
    }

    /// The reference solution's directory, relative to the repository root.
    pub fn solution_dir(&self) -> PathBuf {
        Path::new("solutions").join(self.dir_name())
    }

    /// The reference solution's package name, e.g. `data-structures-solution`.
    pub fn solution_package(&self) -> String {
        format!("{}-solution", self.name)
    }

    /// The stage's chapter, relative to the repository root.
    pub fn chapter(&self) -> PathBuf {
        Path::new("docs").join(format!("{}.md", self.dir_name()))
    }

    /// The stage's hints, one `### ` section per stub, relative to the repository root: a file
    /// of their own, so that the chapter shows no hint until the learner asks for one.
    pub fn hints(&self) -> PathBuf {
        Path::new("docs").join("hints").join(format!("{}.md", self.dir_name()))
    }

    /// `stage 1 data-structures`.
    pub fn label(&self) -> String {
        format!("stage {} {}", self.number, self.name)
    }
}

/// Which stage the learner is working in, from each stage's `(started, done)` in order and the
/// stage whose folder they run from (`here`, an index); the rule README.md states ("Where you
/// are"): the folder's stage; else the first stage started and not done; else the first stage
/// not done after the last one started; else the first not done. `None`: every stage is done.
pub fn choose(stages: &[(bool, bool)], here: Option<usize>) -> Option<usize> {
    let not_done = |from: usize| (from..stages.len()).find(|&i| !stages[i].1);
    here.or_else(|| stages.iter().position(|&(started, done)| started && !done))
        .or_else(|| stages.iter().rposition(|&(started, _)| started).and_then(|i| not_done(i + 1)))
        .or_else(|| not_done(0))
}

/// The stage whose folder (`exercises/03-replication`, or its solution's) holds the current
/// directory, as its index in [`STAGES`]: `cargo run` there points at that stage.
pub fn here(root: &Path) -> Option<usize> {
    let cwd = std::env::current_dir().ok()?;
    let inside =
        ["exercises", "solutions"].iter().find_map(|dir| cwd.strip_prefix(root.join(dir)).ok())?;
    let folder = inside.components().next()?.as_os_str().to_str()?;
    STAGES.iter().position(|stage| stage.dir_name() == folder)
}

/// The repository root: this package's directory.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_are_numbered_in_order_from_one() {
        let numbers: Vec<u32> = STAGES.iter().map(|s| s.number).collect();
        let expected: Vec<u32> = (1..=STAGES.len() as u32).collect();
        assert_eq!(numbers, expected);
    }

    /// The folder wins; then a stage started and not done (a regression in a done stage makes
    /// it one); then the stage after the last one started; then the first not done.
    #[test]
    fn the_current_stage_follows_the_rule() {
        let (fresh, started, done) = ((false, false), (true, false), (true, true));
        assert_eq!(choose(&[fresh, fresh, started, fresh], None), Some(2));
        assert_eq!(choose(&[fresh, fresh, started, fresh], Some(0)), Some(0));
        assert_eq!(choose(&[fresh, fresh, done, fresh], None), Some(3));
        assert_eq!(choose(&[done, started, done, fresh], None), Some(1));
        assert_eq!(choose(&[fresh, fresh, fresh], None), Some(0));
        assert_eq!(choose(&[fresh, fresh, done], None), Some(0));
        assert_eq!(choose(&[done, done], None), None);
    }

    #[test]
    fn paths_follow_the_layout() {
        let stage = STAGES[0];
        assert_eq!(stage.exercise_dir(), Path::new("exercises/01-data-structures"));
        assert_eq!(stage.solution_dir(), Path::new("solutions/01-data-structures"));
        assert_eq!(stage.chapter(), Path::new("docs/01-data-structures.md"));
        assert_eq!(stage.hints(), Path::new("docs/hints/01-data-structures.md"));
        assert_eq!(stage.solution_package(), "data-structures-solution");
    }
}
