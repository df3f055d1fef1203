//! The failure report: everything needed to understand a failed run and replay it.
//!
//! In order: the broken rule; the command that replays the run; the seed and every setting
//! derived from it; the last events as a timeline, one column per node (`n1@3` is node 1 in
//! term 3); the state of every node; and, where two logs disagree, a diff of them.

use std::fmt::Write as _;

use pretty_assertions::StrComparison;
use serde::Serialize;

use crate::checks::Violation;
use crate::logbook::LogChange;
use crate::node::{Index, NodeId, Status};
use crate::trace::{Record, Trace};

/// How many events the timeline shows.
pub const TIMELINE_EVENTS: usize = 40;
/// How many entries (ending at the index of interest) a log diff shows.
pub const DIFF_ENTRIES: usize = 12;
/// The widest a timeline column gets; longer cells are cut with `…`.
const MAX_COLUMN: usize = 46;

/// What a report shows, gathered by the cluster.
#[derive(Clone, Debug)]
pub struct Report {
    /// The run's seed.
    pub seed: u64,
    /// The command that replays the run (see `Cluster::set_replay`).
    pub replay: String,
    /// What failed.
    pub why: String,
    /// The tick of the failure.
    pub now: u64,
    /// How many events the run had.
    pub events: u64,
    /// Settings derived from the seed, name and value.
    pub settings: Vec<(String, String)>,
    /// The cluster size.
    pub nodes: usize,
    /// The last events.
    pub recent: Vec<Record>,
    /// One row per node.
    pub rows: Vec<Row>,
    /// A diff of two logs, if the failure is about logs.
    pub diff: Option<String>,
}

/// One node in the state table.
#[derive(Clone, Debug)]
pub struct Row {
    /// The node.
    pub id: NodeId,
    /// False if crashed.
    pub up: bool,
    /// False if crashed or isolated.
    pub connected: bool,
    /// Its status after its last event.
    pub status: Status,
    /// The last index it applied.
    pub last_applied: Index,
    /// Its disk, if the cluster has disks.
    pub disk: Option<String>,
}

/// A test as a replay command names it: package, test target and test name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestId {
    /// From `CARGO_PKG_NAME`, which cargo sets when it runs a test.
    pub package: String,
    /// The integration-test target, if the test is in one (see `test_target`).
    pub target: Option<String>,
    /// From the name of the thread libtest runs the test on.
    pub name: String,
}

impl TestId {
    /// The test running on the calling thread.
    pub fn current() -> TestId {
        let package = std::env::var("CARGO_PKG_NAME").unwrap_or_else(|_| "<package>".to_string());
        let thread = std::thread::current();
        let name = match thread.name() {
            Some(name) if name != "main" => name.to_string(),
            _ => "<test name>".to_string(),
        };
        let target = test_target(&package);
        TestId { package, target, name }
    }

    /// The command that replays this test with `seed`.
    pub fn replay_command(&self, seed: u64) -> String {
        format!("RAFT_SEED={seed} {}", self.command())
    }

    /// The command that runs this test alone.
    pub fn command(&self) -> String {
        let TestId { package, target, name } = self;
        let target = target.as_ref().map(|target| format!(" --test {target}")).unwrap_or_default();
        format!("cargo test -p {package}{target} -- --exact {name}")
    }
}

/// The command that replays the current test with `seed` (see [`TestId`]).
pub fn replay_command(seed: u64) -> String {
    TestId::current().replay_command(seed)
}

/// The integration-test target this process runs, from its file name (`cluster-1a2b3c…` is
/// target `cluster`), so that a replay builds and runs one test binary, not all of them.
/// `None` for the package's own library tests and anything not named like a cargo test binary.
fn test_target(package: &str) -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let stem = exe.file_stem()?.to_str()?;
    let (name, hash) = stem.rsplit_once('-')?;
    let is_hash = hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit());
    let is_lib = name == package.replace('-', "_");
    (is_hash && !is_lib).then(|| name.to_string())
}

/// The report as text.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\nharness: {}\n", report.why);
    let _ = writeln!(out, "  replay:   {}", report.replay);
    let (trace, page) = trace_commands(report);
    let _ = writeln!(out, "  trace:    {trace}");
    let _ = writeln!(out, "  page:     {page}");
    let _ = writeln!(out, "  seed:     {}", report.seed);
    for (name, value) in &report.settings {
        let _ = writeln!(out, "  {:<9} {value}", format!("{name}:"));
    }
    let _ = writeln!(out, "  at:       tick {}, after {} events", report.now, report.events);
    out.push('\n');
    out.push_str(&timeline(report));
    out.push('\n');
    out.push_str(&state_table(report));
    if let Some(diff) = &report.diff {
        out.push('\n');
        out.push_str(diff);
    }
    out
}

/// What the report says about the trace: where it was written (`RAFT_TRACE` set) or the
/// command that writes it, and the command that renders it as a page ([`crate::page`]). Paths
/// are absolute: `cargo test` runs a test in its package's directory, not where you type.
pub fn trace_commands(report: &Report) -> (String, String) {
    let (trace, written) = match trace_path() {
        Some(path) => (path, true),
        None => (default_trace_path(report.seed).display().to_string(), false),
    };
    let trace_line = if written {
        format!("written to {trace} (RAFT_TRACE)")
    } else {
        format!("RAFT_TRACE={trace} {}", report.replay)
    };
    let page = format!(
        "cargo run -p harness --bin trace-page -- {trace}   (writes {}; open it in a browser)",
        crate::page::page_path(std::path::Path::new(&trace)).display()
    );
    (trace_line, page)
}

/// Where the report suggests writing a test's trace: `target/traces/<test>-seed<N>.json` in
/// the workspace.
fn default_trace_path(seed: u64) -> std::path::PathBuf {
    let name: String = TestId::current()
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '-' })
        .collect();
    let name = name.trim_matches('-');
    let name = if name.is_empty() { "run" } else { name };
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace = workspace.parent().unwrap_or(workspace);
    workspace.join("target").join("traces").join(format!("{name}-seed{seed}.json"))
}

/// The last events, one line each, one column per node.
pub fn timeline(report: &Report) -> String {
    let start = report.recent.len().saturating_sub(TIMELINE_EVENTS);
    let records = &report.recent[start..];
    let cells: Vec<(u64, Option<NodeId>, String)> = records
        .iter()
        .map(|record| (record.tick, record.event.column(), record.event.to_string()))
        .collect();
    let mut widths = vec![4; report.nodes];
    for (_, column, text) in &cells {
        if let Some(id) = column {
            let width = &mut widths[*id as usize - 1];
            *width = (*width).max(text.chars().count()).min(MAX_COLUMN);
        }
    }
    let mut out = format!(
        "timeline: the last {} of {} events (nX@T = node X in term T; → send, ← receive, \
         ✗ drop, ⇉ duplicate)\n",
        records.len(),
        report.events
    );
    let header: Vec<String> =
        (1..=report.nodes).map(|id| pad(&format!("n{id}"), widths[id - 1])).collect();
    let _ = writeln!(out, " tick │ {}", header.join(" │ ").trim_end());
    for (tick, column, text) in &cells {
        let line = match column {
            Some(id) => {
                let row: Vec<String> = (1..=report.nodes as NodeId)
                    .map(|c| pad(if c == *id { text } else { "" }, widths[c as usize - 1]))
                    .collect();
                row.join(" │ ")
            }
            None => format!("── {text} ──"),
        };
        let _ = writeln!(out, "{tick:>5} │ {}", line.trim_end());
    }
    let _ = writeln!(out, "{:>5} │ ✗ {}", report.now, report.why);
    out
}

/// `text` cut or padded to `width` characters.
fn pad(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count > width {
        let cut: String = text.chars().take(width.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        format!("{text}{}", " ".repeat(width - count))
    }
}

/// One row per node: up or crashed, role, term, vote, indexes, disk.
pub fn state_table(report: &Report) -> String {
    let mut out = format!("state at tick {}:\n", report.now);
    let _ = writeln!(
        out,
        "  node  state      role       term  voted_for  commit_index  last_log_index  last_applied  disk"
    );
    for row in &report.rows {
        let state = match (row.up, row.connected) {
            (false, _) => "crashed",
            (true, false) => "isolated",
            (true, true) => "up",
        };
        let vote = row.status.voted_for.map_or("-".to_string(), |id| format!("n{id}"));
        let mut disk = row.disk.clone().unwrap_or_else(|| "-".to_string());
        if disk.chars().count() > 60 {
            disk = format!("{}…", disk.chars().take(59).collect::<String>());
        }
        let _ = writeln!(
            out,
            "  n{:<4} {:<10} {:<10} {:<5} {:<10} {:<13} {:<15} {:<13} {}",
            row.id,
            state,
            format!("{:?}", row.status.role),
            row.status.term,
            vote,
            row.status.commit_index,
            row.status.last_log_index,
            row.last_applied,
            disk
        );
    }
    out
}

/// A diff of the two logs a violation names, up to its index.
pub fn log_diff(
    violation: &Violation,
    lines_of: impl Fn(NodeId, Index) -> Vec<String>,
) -> Option<String> {
    let [left, right] = violation.logs[..] else { return None };
    let upto = violation.upto;
    let (a, b) = (lines_of(left, upto).join("\n") + "\n", lines_of(right, upto).join("\n") + "\n");
    let diff = without_colors(&StrComparison::new(&a, &b).to_string());
    Some(format!(
        "logs up to index {upto} (index, term, command): n{left} (left, <) vs n{right} (right, >):\n{diff}\n"
    ))
}

/// `text` without ANSI color codes: a report is read in CI logs and pasted into issues.
fn without_colors(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|&c| c == 'm');
        } else {
            out.push(c);
        }
    }
    out
}

/// The file `RAFT_TRACE` names, if set, as an absolute path ([`resolve_trace_path`]).
pub fn trace_path() -> Option<String> {
    let path = std::env::var("RAFT_TRACE").ok().filter(|path| !path.is_empty())?;
    let pwd = std::env::var_os("PWD");
    let cwd = std::env::current_dir().ok();
    Some(resolve_trace_path(&path, pwd.as_deref(), cwd.as_deref()).display().to_string())
}

/// Where a `RAFT_TRACE` path lands. `cargo test` runs a test in its package's directory, not
/// where the learner typed the command; the shell's `PWD`, which cargo passes on unchanged,
/// still names that place. So a relative path is taken from `pwd` when it is an absolute path
/// to a directory, else from `cwd` (the process's directory); an absolute path stays.
pub fn resolve_trace_path(
    path: &str,
    pwd: Option<&std::ffi::OsStr>,
    cwd: Option<&std::path::Path>,
) -> std::path::PathBuf {
    let path = std::path::Path::new(path);
    if path.is_absolute() {
        return path.to_path_buf();
    }
    let pwd = pwd.map(std::path::Path::new).filter(|dir| dir.is_absolute() && dir.is_dir());
    match pwd.or(cwd) {
        Some(base) => base.join(path),
        None => path.to_path_buf(),
    }
}

#[derive(Serialize)]
struct TraceFile<'a> {
    seed: u64,
    failure: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nodes: Option<usize>,
    events: Vec<&'a Record>,
    #[serde(skip_serializing_if = "Option::is_none")]
    logs: Option<Vec<&'a LogChange>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    history: Option<serde_json::Value>,
}

/// The trace file's text: `{"seed", "failure", "nodes", "events", "logs", "history"}`, pretty
/// JSON. `nodes` and `logs` (every change to every log, [`crate::logbook`]) are there when the
/// cluster kept its whole trace; `history` when, besides, a stage 6 run checked its clients'
/// history ([`crate::service::view`]).
pub fn trace_file_json(seed: u64, trace: &Trace, failure: Option<&str>) -> String {
    trace_file_json_with(seed, trace, failure, &[])
}

/// [`trace_file_json`] with `last`, log changes not yet in the logbook, at its end.
pub(crate) fn trace_file_json_with(
    seed: u64,
    trace: &Trace,
    failure: Option<&str>,
    last: &[LogChange],
) -> String {
    let events = match trace.all() {
        Some(all) => all.iter().collect(),
        None => trace.kept().collect(),
    };
    let book = trace.logbook.as_ref();
    let nodes = book.map(|book| book.nodes).filter(|&nodes| nodes > 0);
    let logs = book.map(|book| book.changes.iter().chain(last).collect());
    let history = trace.history.borrow().clone();
    let file = TraceFile { seed, failure, nodes, events, logs, history };
    serde_json::to_string_pretty(&file).expect("a trace serializes to JSON")
}

/// Writes the trace as JSON to `RAFT_TRACE`, if set (creating its directory if need be).
pub fn write_trace(seed: u64, trace: &Trace, failure: Option<&str>) {
    write_trace_with(seed, trace, failure, &[]);
}

/// [`write_trace`] with `last`, log changes not yet in the logbook (a failure's).
pub(crate) fn write_trace_with(
    seed: u64,
    trace: &Trace,
    failure: Option<&str>,
    last: &[LogChange],
) {
    let Some(path) = trace_path() else { return };
    let json = trace_file_json_with(seed, trace, failure, last);
    if let Some(dir) = std::path::Path::new(&path).parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match std::fs::write(&path, json) {
        Ok(()) => {
            // Once per test process, straight to stderr (a passing test's output is captured,
            // and a run that passed writes its trace too): where the file went.
            static SAID: std::sync::Once = std::sync::Once::new();
            SAID.call_once(|| {
                let line = format!(
                    "harness: RAFT_TRACE: trace written to {path} (each run of this test process \
                     overwrites it; the last stays)\n"
                );
                let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), line.as_bytes());
            });
        }
        Err(error) => eprintln!("harness: could not write RAFT_TRACE={path}: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relative_trace_path_lands_where_the_command_was_typed() {
        use std::path::Path;
        let typed = std::env::temp_dir();
        let package = Path::new("/nowhere/harness");
        let pwd = Some(typed.as_os_str());
        assert_eq!(resolve_trace_path("t.json", pwd, Some(package)), typed.join("t.json"));
        assert_eq!(resolve_trace_path("/abs/t.json", pwd, Some(package)), Path::new("/abs/t.json"));
        // No PWD, or one that is not an absolute directory: the process's directory.
        assert_eq!(resolve_trace_path("t.json", None, Some(package)), package.join("t.json"));
        let relative = Some(std::ffi::OsStr::new("relative/dir"));
        assert_eq!(resolve_trace_path("t.json", relative, Some(package)), package.join("t.json"));
    }
}
