//! Finding the headless Chromium the browser tests run (`tests/page.rs`, `tests/live_page.rs`).
//!
//! A test skips, with a note, where no Chromium is installed; `RAFT_BROWSER_TEST=1` (CI) makes
//! a missing browser a failure. `CHROMIUM=<path>` picks the binary.

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The flags every headless run takes: as root in a container (no sandbox, no GPU), and with
/// Chromium's own background traffic off, which this machine's closed network refuses.
pub const FLAGS: [&str; 8] = [
    "--headless",
    "--disable-gpu",
    "--no-sandbox",
    "--no-first-run",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// The Chromium to run, or `None` (skip) unless the browser test is required.
pub fn chromium() -> Option<PathBuf> {
    let required = std::env::var_os("RAFT_BROWSER_TEST").is_some_and(|v| v != "0");
    let candidates = match std::env::var_os("CHROMIUM") {
        Some(path) => vec![PathBuf::from(path)],
        None => ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]
            .iter()
            .map(PathBuf::from)
            .collect(),
    };
    for candidate in candidates {
        let works = Command::new(&candidate)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if works {
            return Some(candidate);
        }
    }
    assert!(
        !required,
        "RAFT_BROWSER_TEST is set but no Chromium runs (tried chromium, chromium-browser, \
         google-chrome; set CHROMIUM=<path>); on Debian: apt-get install -y chromium"
    );
    println!("skipped: no chromium binary (apt-get install -y chromium, or CHROMIUM=<path>)");
    None
}
