//! `trace-page`: renders a trace file (`RAFT_TRACE=trace.json`) as a self-contained HTML page.
//!
//! ```text
//! cargo run -p harness --bin trace-page -- trace.json             writes trace.html
//! cargo run -p harness --bin trace-page -- trace.json -o run.html
//! ```
//!
//! Open the page in any browser: no network needed. See `docs/harness.md`, "The trace page".

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: trace-page TRACE.json [-o PAGE.html]\n\
    Renders a RAFT_TRACE file as one self-contained HTML page (default: TRACE.html).\n";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (input, output) = match args.as_slice() {
        [input] => (PathBuf::from(input), None),
        [input, flag, output] if flag == "-o" => {
            (PathBuf::from(input), Some(PathBuf::from(output)))
        }
        _ => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let output = output.unwrap_or_else(|| harness::page::page_path(&input));
    let text = match std::fs::read_to_string(&input) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("trace-page: cannot read {}: {error}", input.display());
            eprintln!("(write one with RAFT_TRACE=<path> before the test or run: docs/harness.md)");
            return ExitCode::FAILURE;
        }
    };
    let page = match harness::page::render(&text) {
        Ok(page) => page,
        Err(error) => {
            eprintln!("trace-page: {}: {error}", input.display());
            return ExitCode::FAILURE;
        }
    };
    if let Err(error) = std::fs::write(&output, page) {
        eprintln!("trace-page: cannot write {}: {error}", output.display());
        return ExitCode::FAILURE;
    }
    let shown = std::fs::canonicalize(&output).unwrap_or(output);
    println!(
        "trace-page: wrote {} (open it in a browser: file://{})",
        shown.display(),
        shown.display()
    );
    ExitCode::SUCCESS
}
