//! The trace page: a run as one self-contained HTML file, a space-time diagram to click through.
//!
//! [`render`] turns a trace file (`RAFT_TRACE`, or [`Cluster::trace_json`]) into a page with
//! the styles, the script and the trace inline: no network, no CDN, one file to open, keep or
//! attach to an issue. The page shows one lane per node over the run's events, role and term
//! changes on the lanes, every message as an arrow from send to receive (drops and copies too),
//! crashes, restarts and network changes, each node's log with its committed entries, and the
//! broken rule where it broke; it steps forward and back, jumps to the violation, shows an
//! event's details on a click, and filters by node and message kind. It draws only the rows in
//! view, so a 100,000-event run stays usable.
//!
//! A stage 6 run whose clients' history was checked (the trace file's `history`,
//! [`crate::service::view`]) gets a history view above the timeline: a row per client on the
//! time axis, a bar per operation from call to return (open-ended when the outcome is
//! unknown), each numbered with its place in the order the checker found, a line through a
//! key's linearization points, and, when the history is not linearizable, the operations that
//! cannot be placed outlined. A click on a bar moves the timeline to where its request
//! reached a server.
//!
//! `cargo run -p harness --bin trace-page -- trace.json` writes `trace.html` beside it.
//!
//! Opened with `?selftest=1`, the page checks itself after it has drawn (lanes, arrows, the
//! violation marker, stepping) and writes the result into `<pre id="selftest">`, which the
//! browser test reads (`harness/tests/page.rs`). The trace itself is never changed: rendering
//! happens after the run, from its file.
//!
//! [`Cluster::trace_json`]: crate::Cluster::trace_json

use serde_json::Value;

const STYLE: &str = include_str!("page/page.css");
const SCRIPT: &str = include_str!("page/page.js");
/// The history view of a stage 6 run (the trace file's `history`, [`crate::service::view`]).
const HISTORY_SCRIPT: &str = include_str!("page/history.js");
/// Applying the trace file's log changes: shared with the live page ([`crate::live`]).
pub(crate) const LOGS_SCRIPT: &str = include_str!("page/logs.js");

/// The page for a trace file's text, or why the text is not a trace.
pub fn render(trace_json: &str) -> Result<String, String> {
    let trace: Value =
        serde_json::from_str(trace_json).map_err(|error| format!("not JSON: {error}"))?;
    let events = trace.get("events").and_then(Value::as_array).ok_or(
        "not a trace: no `events` list (expected the file RAFT_TRACE writes: \
         {\"seed\", \"failure\", \"events\": [...]})",
    )?;
    let seed = trace.get("seed").and_then(Value::as_u64).unwrap_or_default();
    let failure = trace.get("failure").and_then(Value::as_str);
    let title = match failure {
        Some(why) => format!("Raft run, seed {seed}: FAILED: {}", cut(why, 90)),
        None => format!("Raft run, seed {seed}: {} events", events.len()),
    };
    // Compact JSON, with `<` escaped so that no string in it can end the script element.
    let data =
        serde_json::to_string(&trace).expect("a JSON value serializes").replace('<', "\\u003c");
    Ok(format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<script>window.pageStart = performance.now();</script>\n\
         <style>\n{STYLE}</style>\n</head>\n<body>\n\
         <noscript>This page draws the run with JavaScript; the trace is in the page source \
         as JSON.</noscript>\n\
         <script id=\"trace\" type=\"application/json\">{data}</script>\n\
         <script>\n{LOGS_SCRIPT}</script>\n<script>\n{HISTORY_SCRIPT}</script>\n\
         <script>\n{SCRIPT}</script>\n</body>\n</html>\n",
        title = escape_html(&title),
    ))
}

/// The page's file for a trace file: `trace.json` gives `trace.html`.
pub fn page_path(trace: &std::path::Path) -> std::path::PathBuf {
    trace.with_extension("html")
}

/// `text` with `&`, `<`, `>` and `"` escaped for HTML.
fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `text` cut to `max` characters, with `…`.
fn cut(text: &str, max: usize) -> String {
    let first_line = text.lines().next().unwrap_or_default();
    if first_line.chars().count() <= max {
        first_line.to_string()
    } else {
        format!("{}…", first_line.chars().take(max - 1).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_holds_the_trace_inline_and_nothing_from_the_network() {
        let trace = r#"{"seed": 7, "failure": "Log Matching (§5.3) violated: </script>",
            "events": [{"tick": 1, "event": "crash", "node": 1}]}"#;
        let page = render(trace).expect("a trace renders");
        assert!(page.contains("<title>Raft run, seed 7: FAILED: Log Matching"));
        assert!(!page.contains("violated: </script>"), "a string in the trace ends the script");
        assert!(page.contains("\\u003c/script>"));
        for remote in ["src=", "href=", "url(h", "url(/", "@import", "fetch(", "XMLHttpRequest"] {
            assert!(!page.contains(remote), "the page loads something: {remote}");
        }
    }

    #[test]
    fn what_is_not_a_trace_is_named() {
        assert!(render("{").unwrap_err().starts_with("not JSON"));
        assert!(render("{\"seed\": 1}").unwrap_err().contains("no `events` list"));
    }
}
