//! `cargo run -- live --stage 2` (the reference) and `--stage 2 --yours` (this package, your
//! code) run this file: five servers in the browser, electing leaders (docs/harness.md,
//! "Raft live"). Election-only nodes take no requests and keep nothing on disk, so a crashed
//! server stays down. The same file is the reference's example (`solutions/02-election`).

fn main() -> std::process::ExitCode {
    let stage = harness::live::Stage::<election::RaftNode>::of_package(2, env!("CARGO_PKG_NAME"));
    let args: Vec<String> = std::env::args().skip(1).collect();
    harness::live::main(stage, &args)
}
