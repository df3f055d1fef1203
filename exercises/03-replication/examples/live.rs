//! `cargo run -- live --stage 3` (the reference) and `--stage 3 --yours` (this package, your
//! code) run this file: five servers in the browser, electing leaders and replicating the
//! requests you send (docs/harness.md, "Raft live"). Nothing is kept on disk yet, so a crashed
//! server stays down. The same file is the reference's example (`solutions/03-replication`).

fn main() -> std::process::ExitCode {
    let stage =
        harness::live::Stage::<replication::RaftNode>::of_package(3, env!("CARGO_PKG_NAME"))
            .with_requests();
    let args: Vec<String> = std::env::args().skip(1).collect();
    harness::live::main(stage, &args)
}
