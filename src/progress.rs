//! What the map says while it builds and runs the stages' tests (on stderr, so the map on
//! stdout stays clean).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::stages::Stage;

/// Does the target directory look unbuilt (no compiled harness in it)? Then the first run
/// compiles every dependency, and says so; a wrong guess only changes a message.
pub fn looks_cold(root: &Path) -> bool {
    let fingerprints = target_dir(root).join("debug").join(".fingerprint");
    let Ok(entries) = std::fs::read_dir(fingerprints) else { return true };
    !entries.filter_map(Result::ok).any(|e| e.file_name().to_string_lossy().starts_with("harness-"))
}

/// The target directory cargo builds into (`CARGO_TARGET_DIR`, else `target`).
pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map_or_else(|| root.join("target"), |dir| root.join(dir))
}

/// One line per stage: `stage 2 election: building and running its tests… 3.1 s`.
pub struct Stages {
    current: Option<(Stage, Instant)>,
    terminal: bool,
}

impl Stages {
    /// Nothing shown yet; `inline`: end each stage's line with its time, on a terminal
    /// (not while cargo's own progress is shown, which would break the line).
    pub fn new(inline: bool) -> Self {
        Stages { current: None, terminal: inline && std::io::stderr().is_terminal() }
    }

    /// `stage` starts building and running.
    pub fn start(&mut self, stage: &Stage) {
        self.finish();
        eprint!("{}: building and running its tests…", stage.label());
        if !self.terminal {
            eprintln!();
        }
        let _ = std::io::stderr().flush();
        self.current = Some((*stage, Instant::now()));
    }

    /// The stage's line ends with its time (every stage is done, or another starts).
    pub fn finish(&mut self) {
        if let Some((stage, started)) = self.current.take() {
            let seconds = started.elapsed().as_secs_f64();
            match self.terminal {
                true => eprintln!(" {seconds:.1} s"),
                false => eprintln!("{}: done in {seconds:.1} s", stage.label()),
            }
        }
    }
}
