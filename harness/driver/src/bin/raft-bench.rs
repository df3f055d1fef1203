//! The benchmark: `redis-benchmark` against a 3-node cluster and, in the same run, against one
//! `redis-server` with `appendfsync always` and with `everysec`, on the same machine.
//!
//! ```text
//! cargo run --release -p driver --bin raft-bench [-- --requests 100000 --clients 50]
//! ```
//!
//! Needs `redis-benchmark` and `redis-server` (Debian's `redis-tools` and `redis-server`).
//! Prints requests per second, p50 and p99 for SET and GET with `-P 1` and `-P 16`, the
//! ratios to the durable `redis-server`, and the cluster leader's fsyncs per SET. A benchmark,
//! not a test: numbers depend on the machine and on what else runs on it.

use std::process::{Command, Stdio};
use std::time::Duration;

use driver::testing::{Processes, Reply, RespClient, TempDir, free_ports};

/// One measured line: requests per second, p50 and p99 in ms.
#[derive(Clone, Copy, Debug, Default)]
struct Measured {
    rps: f64,
    p50: f64,
    p99: f64,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let option = |name: &str, default: u64| {
        args.iter()
            .position(|arg| arg == name)
            .and_then(|at| args.get(at + 1))
            .and_then(|value| value.parse().ok())
            .unwrap_or(default)
    };
    let (requests, clients) = (option("--requests", 100_000), option("--clients", 50));
    for tool in ["redis-benchmark", "redis-server"] {
        if Command::new(tool).arg("--version").output().is_err() {
            eprintln!("raft-bench: {tool} is missing (apt-get install redis-tools redis-server)");
            std::process::exit(2);
        }
    }
    let server = std::env::current_exe().expect("own path").with_file_name("raft-server");
    let mut rows: Vec<(String, [Measured; 4])> = Vec::new();
    for fsync in ["always", "everysec"] {
        let dir = TempDir::new("bench-redis");
        let port = free_ports(1)[0];
        let mut redis = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "yes", "--appendfsync", fsync])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("start redis-server");
        std::thread::sleep(Duration::from_millis(500));
        rows.push((format!("redis-server appendfsync {fsync}"), run_all(port, requests, clients)));
        let _ = redis.kill();
        let _ = redis.wait();
    }
    let processes = Processes::start(&server, 3, "bench");
    let leader = processes.wait_for_leader(Duration::from_secs(10)).expect("a leader");
    let port = processes.client_ports[leader - 1];
    let fsyncs_before = fsyncs(&processes, leader);
    let cluster = run_all(port, requests, clients);
    let fsyncs_after = fsyncs(&processes, leader);
    rows.push(("raft cluster, 3 nodes (leader)".to_string(), cluster));
    print_table(&rows, requests, clients);
    let ops = 4.0 * requests as f64;
    println!(
        "cluster leader: {} fsyncs for {} requests (SET and GET, -P 1 and -P 16): {:.3} fsyncs per request",
        fsyncs_after - fsyncs_before,
        ops,
        (fsyncs_after - fsyncs_before) as f64 / ops
    );
}

/// SET and GET with `-P 1`, then with `-P 16`.
fn run_all(port: u16, requests: u64, clients: u64) -> [Measured; 4] {
    let mut out = [Measured::default(); 4];
    for (i, pipeline) in [1, 16].into_iter().enumerate() {
        for (j, test) in ["set", "get"].into_iter().enumerate() {
            out[i * 2 + j] = benchmark(port, test, requests, clients, pipeline);
        }
    }
    out
}

/// One `redis-benchmark` run, read from its CSV output.
fn benchmark(port: u16, test: &str, requests: u64, clients: u64, pipeline: u64) -> Measured {
    let output = Command::new("redis-benchmark")
        .args(["-p", &port.to_string(), "-t", test, "--csv"])
        .args(["-n", &requests.to_string(), "-c", &clients.to_string()])
        .args(["-P", &pipeline.to_string(), "-r", "100000"])
        .output()
        .expect("run redis-benchmark");
    let text = String::from_utf8_lossy(&output.stdout);
    // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
    let line = text.lines().find(|line| !line.starts_with("\"test\"")).unwrap_or("");
    let fields: Vec<f64> = line
        .split(',')
        .skip(1)
        .map(|field| field.trim_matches('"').parse().unwrap_or(0.0))
        .collect();
    let field = |at: usize| fields.get(at).copied().unwrap_or(0.0);
    Measured { rps: field(0), p50: field(3), p99: field(5) }
}

fn fsyncs(processes: &Processes, id: usize) -> u64 {
    let Ok(mut client) = RespClient::connect(&processes.client_address(id)) else { return 0 };
    let Ok(Reply::Bulk(Some(info))) = client.command(&["INFO"]) else { return 0 };
    let info = String::from_utf8_lossy(&info).into_owned();
    info.lines()
        .find_map(|line| line.strip_prefix("fsyncs:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0)
}

fn print_table(rows: &[(String, [Measured; 4])], requests: u64, clients: u64) {
    println!(
        "redis-benchmark -n {requests} -c {clients} -r 100000 (requests/s, p50 and p99 in ms)"
    );
    println!(
        "{:<36} {:>22} {:>22} {:>22} {:>22}",
        "server", "SET -P 1", "GET -P 1", "SET -P 16", "GET -P 16"
    );
    for (name, measured) in rows {
        let cells: Vec<String> = measured
            .iter()
            .map(|m| format!("{:>8.0} {:>6.2} {:>6.2}", m.rps, m.p50, m.p99))
            .collect();
        println!("{name:<36} {:>22} {:>22} {:>22} {:>22}", cells[0], cells[1], cells[2], cells[3]);
    }
    let (durable, cluster) = (&rows[0].1, &rows[rows.len() - 1].1);
    let ratios: Vec<String> =
        (0..4).map(|i| format!("{:.2}", cluster[i].rps / durable[i].rps.max(1.0))).collect();
    println!(
        "{:<36} {:>22} {:>22} {:>22} {:>22}",
        "cluster / redis always", ratios[0], ratios[1], ratios[2], ratios[3]
    );
}
