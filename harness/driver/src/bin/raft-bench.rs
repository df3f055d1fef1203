//! The benchmark: `redis-benchmark` against a 3-node cluster and, in the same run, against one
//! `redis-server` with `appendfsync always` and with `everysec`, on the same machine.
//!
//! ```text
//! cargo run --release -p driver --bin raft-bench [-- --requests 100000 --clients 50 --repeat 3]
//! ```
//!
//! Needs `redis-benchmark` and `redis-server` (Debian's `redis-tools` and `redis-server`).
//! Runs the three servers back to back, `--repeat` times (3), and prints the medians of
//! requests per second, p50 and p99 for SET and GET with `-P 1` and `-P 16`, the ratios to
//! both `redis-server`s, the load average, and per run where the cluster leader's loop spent
//! its time (`INFO # Loop`). A benchmark, not a test: numbers depend on the machine and on
//! what else runs on it.

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
    let repeats = option("--repeat", 3).max(1);
    for tool in ["redis-benchmark", "redis-server"] {
        if Command::new(tool).arg("--version").output().is_err() {
            eprintln!("raft-bench: {tool} is missing (apt-get install redis-tools redis-server)");
            std::process::exit(2);
        }
    }
    let server = std::env::current_exe().expect("own path").with_file_name("raft-server");
    let names = [
        "redis-server appendfsync always",
        "redis-server appendfsync everysec",
        "raft cluster, 3 nodes (leader)",
    ];
    let mut runs: Vec<Vec<[Measured; 4]>> = vec![Vec::new(); names.len()];
    let mut per_request = Vec::new();
    println!("load average before: {}", load_average());
    for repeat in 1..=repeats {
        // Back to back, so that the machine's load is about the same for all three.
        for (i, fsync) in ["always", "everysec"].into_iter().enumerate() {
            runs[i].push(with_redis(fsync, |port| run_all(port, requests, clients)));
        }
        let processes = Processes::start(&server, 3, "bench");
        let leader = processes.wait_for_leader(Duration::from_secs(10)).expect("a leader");
        let port = processes.client_ports[leader - 1];
        let before = info_numbers(&processes, leader);
        runs[2].push(run_all(port, requests, clients));
        let after = info_numbers(&processes, leader);
        let fields = ["fsyncs", "node_ms", "disk_ms", "out_ms", "messages_coalesced", "term"];
        let delta: Vec<u64> = fields
            .iter()
            .map(|f| after.get(*f).unwrap_or(&0) - before.get(*f).unwrap_or(&0))
            .collect();
        per_request.push(delta.clone());
        eprintln!(
            "run {repeat}/{repeats} done; the leader: {} fsyncs, node {} ms, disk {} ms, out {} \
             ms, {} messages coalesced away, {} elections; load average {}",
            delta[0],
            delta[1],
            delta[2],
            delta[3],
            delta[4],
            delta[5],
            load_average()
        );
    }
    let rows: Vec<(String, [Measured; 4])> =
        names.iter().zip(&runs).map(|(name, runs)| (name.to_string(), median(runs))).collect();
    print_table(&rows, requests, clients, repeats);
    let ops = 4.0 * requests as f64;
    for (repeat, delta) in per_request.iter().enumerate() {
        println!(
            "cluster leader, run {}: {:.3} fsyncs per request; node {} ms, disk (write and \
             fdatasync) {} ms, out (coalesce, queue, replies) {} ms for {} requests; {} \
             elections",
            repeat + 1,
            delta[0] as f64 / ops,
            delta[1],
            delta[2],
            delta[3],
            ops,
            delta[5]
        );
    }
    println!("load average after: {}", load_average());
}

/// Runs `work` against a `redis-server` on 127.0.0.1 and a free port, with an append-only
/// file synced `fsync` ("always", "everysec"), in a temporary directory; the server is killed
/// when `work` returns or panics.
fn with_redis<T>(fsync: &str, work: impl FnOnce(u16) -> T) -> T {
    struct Killed(std::process::Child);
    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let dir = TempDir::new("bench-redis");
    let port = free_ports(1)[0];
    let redis = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", ""])
        .args(["--appendonly", "yes", "--appendfsync", fsync])
        .arg("--dir")
        .arg(dir.path())
        .stdout(Stdio::null())
        .spawn()
        .expect("start redis-server");
    let _redis = Killed(redis);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while RespClient::connect(&format!("127.0.0.1:{port}")).is_err() {
        assert!(std::time::Instant::now() < deadline, "redis-server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    work(port)
}

/// The median of each cell over `runs`.
fn median(runs: &[[Measured; 4]]) -> [Measured; 4] {
    let middle = |mut values: Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    std::array::from_fn(|cell| Measured {
        rps: middle(runs.iter().map(|run| run[cell].rps).collect()),
        p50: middle(runs.iter().map(|run| run[cell].p50).collect()),
        p99: middle(runs.iter().map(|run| run[cell].p99).collect()),
    })
}

/// `/proc/loadavg`'s first three numbers.
fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
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

/// The numbers of node `id`'s `INFO`, by field.
fn info_numbers(processes: &Processes, id: usize) -> std::collections::BTreeMap<String, u64> {
    let mut numbers = std::collections::BTreeMap::new();
    let Ok(mut client) = RespClient::connect(&processes.client_address(id)) else { return numbers };
    let Ok(Reply::Bulk(Some(info))) = client.command(&["INFO"]) else { return numbers };
    for line in String::from_utf8_lossy(&info).lines() {
        if let Some((name, value)) = line.split_once(':')
            && let Ok(value) = value.trim().parse()
        {
            numbers.insert(name.to_string(), value);
        }
    }
    numbers
}

fn print_table(rows: &[(String, [Measured; 4])], requests: u64, clients: u64, repeats: u64) {
    println!(
        "redis-benchmark -n {requests} -c {clients} -r 100000, median of {repeats} runs \
         (requests/s, p50 and p99 in ms)"
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
    let cluster = &rows[rows.len() - 1].1;
    for (name, redis) in
        [("cluster / redis always", &rows[0].1), ("cluster / redis everysec", &rows[1].1)]
    {
        let ratios: Vec<String> =
            (0..4).map(|i| format!("{:.2}", cluster[i].rps / redis[i].rps.max(1.0))).collect();
        println!(
            "{name:<36} {:>22} {:>22} {:>22} {:>22}",
            ratios[0], ratios[1], ratios[2], ratios[3]
        );
    }
}
