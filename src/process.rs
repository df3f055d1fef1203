//! Running a child process with a time limit, its output collected in full.
//!
//! The output goes to temporary files rather than pipes, so a child that writes a lot can
//! never block on a full pipe while we wait for it, and no reader thread is needed.

use std::fs::{self, File};
use std::io;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// How a child process ended.
#[derive(Debug)]
pub struct Finished {
    /// Its exit status, or `None` if it was killed at the time limit.
    pub status: Option<ExitStatus>,
    /// Everything it wrote to stdout.
    pub stdout: String,
    /// Everything it wrote to stderr (empty if stderr was shown instead).
    pub stderr: String,
}

impl Finished {
    /// Did it exit with status 0?
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    /// Did it hit the time limit?
    pub fn timed_out(&self) -> bool {
        self.status.is_none()
    }
}

/// Where the child's stderr goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stderr {
    /// Collected in [`Finished::stderr`].
    Capture,
    /// Shown on our own stderr as it comes (e.g. cargo's progress).
    Show,
}

/// Runs `command` to completion, or kills it after `limit`.
pub fn run(command: &mut Command, limit: Duration, stderr: Stderr) -> io::Result<Finished> {
    let out_path = scratch_file("out");
    let err_path = scratch_file("err");
    let result = run_to_files(command, limit, stderr, &out_path, &err_path);
    let _ = fs::remove_file(&out_path);
    let _ = fs::remove_file(&err_path);
    result
}

fn run_to_files(
    command: &mut Command,
    limit: Duration,
    stderr: Stderr,
    out_path: &PathBuf,
    err_path: &PathBuf,
) -> io::Result<Finished> {
    command.stdin(Stdio::null()).stdout(File::create(out_path)?);
    match stderr {
        Stderr::Capture => command.stderr(File::create(err_path)?),
        Stderr::Show => command.stderr(Stdio::inherit()),
    };
    let started = Instant::now();
    let mut child = command.spawn().map_err(|e| {
        io::Error::new(e.kind(), format!("cannot start {:?}: {e}", command.get_program()))
    })?;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if started.elapsed() >= limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(20));
    };
    let read = |path: &PathBuf| {
        fs::read(path).map(|bytes| String::from_utf8_lossy(&bytes).into_owned()).unwrap_or_default()
    };
    Ok(Finished { status, stdout: read(out_path), stderr: read(err_path) })
}

/// A fresh file name in the system's temporary directory.
fn scratch_file(suffix: &str) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("raft-course-{}-{n}.{suffix}", std::process::id()))
}

/// The last `lines` lines of `text`, for a readable excerpt of a long output.
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let skipped = all.len().saturating_sub(lines);
    let mut excerpt = String::new();
    if skipped > 0 {
        excerpt.push_str(&format!("[… {skipped} earlier lines]\n"));
    }
    excerpt.push_str(&all[skipped..].join("\n"));
    excerpt
}

/// `text` with `by` before each line, for an excerpt inside a message.
pub fn indent(text: &str, by: &str) -> String {
    text.lines().map(|line| format!("{by}{line}")).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_past_its_time_limit_is_killed() {
        let started = Instant::now();
        let finished =
            run(Command::new("sleep").arg("5"), Duration::from_millis(200), Stderr::Capture)
                .unwrap();
        assert!(finished.timed_out());
        assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
    }

    #[test]
    fn large_outputs_do_not_block_the_child() {
        let mut command = Command::new("sh");
        command.args(["-c", "yes x | head -c 1000000; echo done >&2"]);
        let finished = run(&mut command, Duration::from_secs(20), Stderr::Capture).unwrap();
        assert!(finished.success());
        assert_eq!(finished.stdout.len(), 1_000_000);
        assert_eq!(finished.stderr, "done\n");
    }

    #[test]
    fn tails_say_how_much_they_skipped() {
        assert_eq!(tail("a\nb\nc", 2), "[… 1 earlier lines]\nb\nc");
        assert_eq!(tail("a", 2), "a");
    }
}
