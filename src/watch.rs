//! `cargo run -- watch [what]`: the learner's loop on every save. Each round finds the step
//! `cargo run -- test [what]` runs ([`crate::cli::aimed_step`]), runs its tests with libtest's
//! own output, then shows the map; a new round starts when a file under `exercises/` changes (polled: the
//! course tool may read the wall clock, the nodes never do).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, SystemTime};

use crate::cargo::Cargo;
use crate::map;
use crate::step_tests;

/// How often the files are looked at.
const POLL: Duration = Duration::from_millis(400);

/// Runs rounds until interrupted (`once`: one round).
pub fn run(root: &Path, what: Option<&str>, once: bool) -> ExitCode {
    let cargo = Cargo::new(root);
    let mut seen = snapshot(&root.join("exercises"));
    loop {
        if let Err(error) = round(root, &cargo, what) {
            eprintln!("error: {error}");
            if once {
                return ExitCode::FAILURE;
            }
        }
        if once {
            return ExitCode::SUCCESS;
        }
        eprintln!("\nwatching exercises/ for changes (Ctrl-C stops)…");
        let changed = loop {
            thread::sleep(POLL);
            let now = snapshot(&root.join("exercises"));
            let changed = changes(&seen, &now);
            if !changed.is_empty() {
                // An editor may save several files, or write one in two steps: settle first.
                thread::sleep(POLL);
                seen = snapshot(&root.join("exercises"));
                break changed;
            }
        };
        let shown: Vec<String> = changed.iter().map(|p| crate::checks::relative(root, p)).collect();
        println!("\n──── changed: {} ────\n", shown.join(", "));
    }
}

/// One round: find the step, run its tests, show the map.
fn round(root: &Path, cargo: &Cargo, what: Option<&str>) -> Result<(), String> {
    let aimed = crate::cli::aimed_step(cargo, what, true)?;
    step_tests::run(cargo, &aimed.stage, &aimed.step).map_err(|e| e.to_string())?;
    print!("\n{}", map::render(root, &aimed.maps, aimed.here));
    Ok(())
}

/// Every file under `dir` (a `target` directory left out) and when it was last modified.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, SystemTime> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let Ok(entries) = fs::read_dir(&current) else { continue };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let Ok(metadata) = entry.metadata() else { continue };
            if metadata.is_dir() {
                if entry.file_name() != "target" {
                    pending.push(path);
                }
            } else if let Ok(modified) = metadata.modified() {
                files.insert(path, modified);
            }
        }
    }
    files
}

/// The files added, removed or modified between two snapshots.
pub fn changes(
    before: &BTreeMap<PathBuf, SystemTime>,
    after: &BTreeMap<PathBuf, SystemTime>,
) -> Vec<PathBuf> {
    let mut changed: Vec<PathBuf> =
        after.iter().filter(|(p, t)| before.get(*p) != Some(t)).map(|(p, _)| p.clone()).collect();
    changed.extend(before.keys().filter(|p| !after.contains_key(*p)).cloned());
    changed.sort();
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_file_is_a_change_and_an_untouched_one_is_not() {
        let dir = std::env::temp_dir().join(format!("raft-course-watch-{}", std::process::id()));
        fs::create_dir_all(dir.join("src")).unwrap();
        fs::write(dir.join("src/log.rs"), "a").unwrap();
        fs::write(dir.join("src/state.rs"), "b").unwrap();
        let before = snapshot(&dir);
        assert!(changes(&before, &snapshot(&dir)).is_empty());
        let later = SystemTime::now() + Duration::from_secs(5);
        fs::File::options()
            .write(true)
            .open(dir.join("src/log.rs"))
            .and_then(|f| f.set_modified(later))
            .unwrap();
        fs::remove_file(dir.join("src/state.rs")).unwrap();
        assert_eq!(
            changes(&before, &snapshot(&dir)),
            [dir.join("src/log.rs"), dir.join("src/state.rs")]
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
