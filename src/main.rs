//! The course map: `cargo run` shows where you are in the course and what to do next;
//! `cargo run -- verify` runs the course checks; `cargo run -- help` says so.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    raft_course::cli::main(&args)
}
