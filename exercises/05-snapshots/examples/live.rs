//! `cargo run -- live` (the stage 5 reference, the default) and `--yours` (this package, your
//! code) run this file: five servers in the browser that replicate your requests, restart
//! from disk, and compact their logs every 4 entries, so a server that was away catches up
//! with an InstallSnapshot (docs/harness.md, "Raft live"). The same file is the reference's
//! example (`solutions/05-snapshots`).

fn main() -> std::process::ExitCode {
    let stage = harness::live::Stage::<snapshots::RaftNode>::of_package(5, env!("CARGO_PKG_NAME"))
        .with_requests()
        .with_disks()
        .with_snapshots();
    let args: Vec<String> = std::env::args().skip(1).collect();
    harness::live::main(stage, &args)
}
