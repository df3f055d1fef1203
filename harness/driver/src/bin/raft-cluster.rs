//! `cargo run --release -- cluster`: a cluster of real `raft-server` processes on loopback,
//! shown live, with keys to kill, restart, partition and heal.
//!
//! ```text
//! raft-cluster [--nodes 3] [--yours]
//! ```
//!
//! `--yours` starts the servers with `--yours`: the learner's own stage 6, in a build with the
//! `yours` feature (the course tool's `cargo run --release -- cluster --yours` checks that no
//! stub is left, then builds it); a server built without it stops, saying how.
//!
//! Type a key and Enter: `k 2` kills n2 (SIGKILL), `r 2` restarts it, `p 2` cuts n2 off from
//! its peers (`RAFT.ISOLATE ON`), `h` heals every partition, `q` quits (every server is killed
//! and the data directory removed). Meanwhile use any server with `redis-cli -p <port>`.

use std::io::BufRead;
use std::sync::mpsc;
use std::time::Duration;

use driver::testing::{Processes, Reply, RespClient};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let yours = args.iter().any(|arg| arg == "--yours");
    let nodes = args
        .iter()
        .position(|arg| arg == "--nodes")
        .and_then(|at| args.get(at + 1))
        .and_then(|value| value.parse::<usize>().ok())
        .unwrap_or(3);
    if !(1..=9).contains(&nodes) {
        eprintln!("raft-cluster: --nodes takes 1 to 9");
        std::process::exit(2);
    }
    let server = std::env::current_exe().expect("own path").with_file_name("raft-server");
    let server_args: &[&str] = if yours { &["--yours"] } else { &[] };
    let mut processes = Processes::start_with(&server, nodes, "cluster", server_args);
    if yours {
        std::thread::sleep(Duration::from_millis(500));
        if let Some(status) = (1..=nodes).find_map(|id| processes.exited(id)) {
            eprintln!("raft-cluster: the servers stopped ({status}):\n{}", processes.stderr(1));
            std::process::exit(1);
        }
    }
    let whose = if yours { "your stage 6, exercises/06-kv" } else { "the stage 6 reference" };
    let keys = spawn_key_reader();
    let mut down = vec![false; nodes];
    loop {
        draw(&processes, &down, whose);
        match keys.recv_timeout(Duration::from_millis(500)) {
            Ok(line) => {
                let words: Vec<&str> = line.split_whitespace().collect();
                let id = words
                    .get(1)
                    .and_then(|word| word.parse::<usize>().ok())
                    .filter(|id| (1..=nodes).contains(id));
                match (words.first().copied(), id) {
                    (Some("q"), _) => break,
                    (Some("k"), Some(id)) => {
                        processes.kill(id);
                        down[id - 1] = true;
                    }
                    (Some("r"), Some(id)) => {
                        processes.restart(id);
                        down[id - 1] = false;
                    }
                    (Some("p"), Some(id)) => isolate(&processes, id, true),
                    (Some("h"), _) => (1..=nodes).for_each(|id| isolate(&processes, id, false)),
                    _ => {}
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                std::thread::sleep(Duration::from_millis(500)); // no terminal: keep showing
            }
        }
    }
}

/// Clears the screen and prints one line per server.
fn draw(processes: &Processes, down: &[bool], whose: &str) {
    let mut out = String::from("\x1b[2J\x1b[H");
    out.push_str(&format!(
        "Raft cluster: real processes on 127.0.0.1 ({whose}, files with fsync)\n\n"
    ));
    out.push_str(&format!(
        "{:<4} {:<7} {:<10} {:>5} {:>7} {:>8} {:>8} {:>8} {:>9} {:>9}  {}\n",
        "node",
        "process",
        "role",
        "term",
        "leader",
        "commit",
        "applied",
        "log",
        "snapshot",
        "partition",
        "client"
    ));
    for id in 1..=down.len() {
        let info = if down[id - 1] { None } else { info(processes, id) };
        let field = |name: &str| {
            info.as_ref()
                .and_then(|text| {
                    text.lines()
                        .find_map(|line| line.strip_prefix(&format!("{name}:")).map(str::to_string))
                })
                .unwrap_or_else(|| "-".to_string())
        };
        let process = if down[id - 1] {
            "killed"
        } else if info.is_some() {
            "up"
        } else {
            "?"
        };
        let partition = if field("isolated") == "1" { "cut off" } else { "" };
        out.push_str(&format!(
            "n{:<3} {:<7} {:<10} {:>5} {:>7} {:>8} {:>8} {:>8} {:>9} {:>9}  redis-cli -p {}\n",
            id,
            process,
            field("role"),
            field("term"),
            field("leader"),
            field("commit_index"),
            field("applied_index"),
            field("log_length"),
            field("snapshot_index"),
            partition,
            processes.client_ports[id - 1]
        ));
    }
    out.push_str("\nkeys (then Enter): k N kill n N · r N restart · p N partition n N off · h heal all · q quit\n");
    print!("{out}");
}

fn info(processes: &Processes, id: usize) -> Option<String> {
    let mut client = RespClient::connect(&processes.client_address(id)).ok()?;
    match client.command(&["INFO"]).ok()? {
        Reply::Bulk(Some(bytes)) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        _ => None,
    }
}

fn isolate(processes: &Processes, id: usize, on: bool) {
    if let Ok(mut client) = RespClient::connect(&processes.client_address(id)) {
        let _ = client.command(&["RAFT.ISOLATE", if on { "ON" } else { "OFF" }]);
    }
}

/// Lines typed on stdin, read on a thread so that the view keeps refreshing.
fn spawn_key_reader() -> mpsc::Receiver<String> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}
