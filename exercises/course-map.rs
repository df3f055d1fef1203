//! `cargo run` inside a stage's folder (`cd exercises/02-election && cargo run`): the course
//! map lives in the root package, `raft-course`, so this runs it, with the same arguments
//! (`cargo run -- hint`, `cargo run -- test`, …) and in the same folder, from which it knows
//! the stage to point at. Every exercise's
//! `Cargo.toml` declares this file as its one binary, `<stage>-map`.

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let args: Vec<String> = std::env::args().skip(1).collect();
    eprintln!(
        "(in the folder of `{}`: this runs the course map, the root package: `cargo run -p \
         raft-course` from anywhere in the repository)",
        env!("CARGO_PKG_NAME")
    );
    let status = Command::new(cargo)
        .args(["run", "--manifest-path", manifest, "-p", "raft-course", "--"])
        .args(&args)
        .status();
    match status {
        Ok(status) => ExitCode::from(status.code().map_or(1, |code| code.clamp(0, 255) as u8)),
        Err(error) => {
            eprintln!("error: cannot run cargo: {error}; run `cargo run` from {root}");
            ExitCode::FAILURE
        }
    }
}
