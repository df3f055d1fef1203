//! `cargo run -- live --stage 4` (the reference) and `--stage 4 --yours` (this package, your
//! code) run this file: five servers in the browser that replicate your requests, persist
//! to simulated disks and restart after a crash (docs/harness.md, "Raft live"). The same file
//! is the reference's example (`solutions/04-safety`).

fn main() -> std::process::ExitCode {
    let stage = harness::live::Stage::<safety::RaftNode>::of_package(4, env!("CARGO_PKG_NAME"))
        .with_requests()
        .with_disks();
    let args: Vec<String> = std::env::args().skip(1).collect();
    harness::live::main(stage, &args)
}
