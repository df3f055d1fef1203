//! One server of the replicated key-value store: the course's node as an OS process.
//!
//! ```text
//! raft-server --id 1 --peers 10.0.0.1:7001,10.0.0.2:7001,10.0.0.3:7001 \
//!             --client-port 6379 --data-dir /var/lib/raft
//! ```
//!
//! `--peers` lists every server's peer address in id order, this one's included (it listens
//! there); the same list on every machine. Clients speak Redis on `--client-port` (all
//! interfaces with `--client-host 0.0.0.0`; loopback by default). `--yours` runs the learner's
//! own stage 6 (`exercises/06-kv`) instead of the reference: only in a build with the `yours`
//! feature (`cargo run --release -- cluster --yours` makes it, once no stub is left).
//! `--exit-with-parent` makes the server exit once the process that started it is gone: the
//! tests, `raft-cluster` and `raft-bench` pass it, so a run killed with SIGKILL (a timeout, a
//! crashed test) leaves no server behind holding ports and CPU. Leave it out when a shell or a
//! service manager starts the server and is meant to go away.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use driver::server::{self, ServerConfig};
use driver::stage6::Stage6;

const USAGE: &str = "usage: raft-server --id N --peers HOST:PORT,HOST:PORT,... \
                     --client-port PORT --data-dir DIR [--client-host IP] [--yours] \
                     [--exit-with-parent]";

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let yours = args.iter().any(|arg| arg == "--yours");
    args.retain(|arg| arg != "--yours");
    if args.iter().any(|arg| arg == "--exit-with-parent") {
        exit_with_parent();
    }
    args.retain(|arg| arg != "--exit-with-parent");
    let config = match parse(args) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("raft-server: {error}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(config, yours) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("raft-server: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Exits the process once its parent is gone. A process whose parent dies is handed to
/// another (init, or a subreaper), so a parent id that changes means the parent is gone; it
/// is looked at twice a second from a thread of its own, outside the event loop. SIGKILL
/// gives the parent no chance to stop its children itself, which is why the child watches.
fn exit_with_parent() {
    let parent = std::os::unix::process::parent_id();
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(std::time::Duration::from_millis(500));
            if std::os::unix::process::parent_id() != parent {
                eprintln!("raft-server: process {parent}, which started me, is gone: exiting");
                std::process::exit(3);
            }
        }
    });
}

/// Runs the reference's stage 6, or the learner's (`--yours`).
fn run(config: ServerConfig, yours: bool) -> Result<(), String> {
    if !yours {
        return server::run::<Stage6>(config);
    }
    #[cfg(feature = "yours")]
    return server::run::<Stage6<kv_yours::KvNode>>(config);
    #[cfg(not(feature = "yours"))]
    Err("--yours needs a build with your stage 6 in it: run `cargo run --release -- cluster \
         --yours` from the repository's root (it checks that no stub is left, then builds \
         the driver with the `yours` feature)"
        .to_string())
}

fn parse(args: Vec<String>) -> Result<ServerConfig, String> {
    let (mut id, mut peers, mut port, mut dir) = (None, None, None, None);
    let mut host: IpAddr = [127, 0, 0, 1].into();
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--id" => id = Some(value.parse::<u64>().map_err(|_| format!("bad --id {value}"))?),
            "--peers" => {
                let list: Result<Vec<SocketAddr>, _> = value.split(',').map(str::parse).collect();
                peers = Some(list.map_err(|_| format!("bad --peers {value}"))?);
            }
            "--client-port" => {
                port = Some(value.parse::<u16>().map_err(|_| format!("bad --client-port {value}"))?)
            }
            "--client-host" => {
                host = value.parse().map_err(|_| format!("bad --client-host {value}"))?
            }
            "--data-dir" => dir = Some(PathBuf::from(value)),
            other => return Err(format!("unknown option {other}")),
        }
    }
    let id = id.ok_or("--id is required")?;
    let peers: Vec<SocketAddr> = peers.ok_or("--peers is required")?;
    if id == 0 || id as usize > peers.len() {
        return Err(format!("--id {id} is not a place in --peers (1 to {})", peers.len()));
    }
    let client_address = SocketAddr::new(host, port.ok_or("--client-port is required")?);
    let data_dir = dir.ok_or("--data-dir is required")?;
    Ok(ServerConfig { id, peers, client_address, data_dir })
}
