//! One server of the replicated key-value store: the course's node as an OS process.
//!
//! ```text
//! raft-server --id 1 --peers 10.0.0.1:7001,10.0.0.2:7001,10.0.0.3:7001 \
//!             --client-port 6379 --data-dir /var/lib/raft
//! ```
//!
//! `--peers` lists every server's peer address in id order, this one's included (it listens
//! there); the same list on every machine. Clients speak Redis on `--client-port` (all
//! interfaces with `--client-host 0.0.0.0`; loopback by default).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use driver::server::{self, ServerConfig};
use driver::stage6::Stage6;

const USAGE: &str = "usage: raft-server --id N --peers HOST:PORT,HOST:PORT,... \
                     --client-port PORT --data-dir DIR [--client-host IP]";

fn main() -> ExitCode {
    let config = match parse(std::env::args().skip(1).collect()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("raft-server: {error}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match server::run::<Stage6>(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("raft-server: {error}");
            ExitCode::FAILURE
        }
    }
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
