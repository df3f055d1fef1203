//! The node as real processes on 127.0.0.1: elect, serve Redis clients, survive SIGKILL, come
//! back from disk, refuse a damaged disk, shrug off bad input, and stay linearizable while
//! nodes are killed and restarted.
//!
//! Every test starts its own servers on ports the OS picks, in a temporary directory; the
//! `Processes` guard kills them (SIGKILL) and removes the directory when the test ends, also
//! when it fails. Every wait is bounded.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use driver::server::UNCOMMITTED_WINDOW;
use driver::testing::{Processes, Reply, RespClient, encode_command};
use linearizability::kv::{KvModel, Op, Reply as ModelReply};
use linearizability::{Budget, Operation, Outcome};

const ELECTION: Duration = Duration::from_secs(10);

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_raft-server"))
}

fn start(count: usize, label: &str) -> (Processes, usize) {
    let processes = Processes::start(binary(), count, label);
    let leader = processes.wait_for_leader(ELECTION).unwrap_or_else(|| {
        let logs: Vec<String> = (1..=count).map(|id| processes.stderr(id)).collect();
        panic!("no leader within {ELECTION:?}; the servers said:\n{}", logs.join("\n"))
    });
    (processes, leader)
}

fn client(processes: &Processes, id: usize) -> RespClient {
    RespClient::connect(&processes.client_address(id))
        .unwrap_or_else(|error| panic!("connect to n{id}: {error}"))
}

fn bulk(text: &str) -> Reply {
    Reply::Bulk(Some(text.as_bytes().to_vec()))
}

/// A SET acknowledged by one server is read back from every server (followers forward).
#[test]
fn three_servers_elect_and_serve_set_and_get_from_any_node() {
    let (processes, leader) = start(3, "set-get");
    let follower = if leader == 1 { 2 } else { 1 };
    let mut to_follower = client(&processes, follower);
    assert_eq!(
        to_follower.command(&["SET", "greeting", "hello"]).unwrap(),
        Reply::Simple("OK".into())
    );
    for id in 1..=3 {
        let reply = client(&processes, id).command(&["GET", "greeting"]).unwrap();
        assert_eq!(reply, bulk("hello"), "GET on n{id}");
    }
    let mut c = client(&processes, leader);
    assert_eq!(c.command(&["INCR", "n"]).unwrap(), Reply::Integer(1));
    assert_eq!(c.command(&["INCR", "n"]).unwrap(), Reply::Integer(2));
    assert_eq!(c.command(&["APPEND", "greeting", " world"]).unwrap(), Reply::Integer(11));
    assert_eq!(c.command(&["EXISTS", "greeting", "nope", "n"]).unwrap(), Reply::Integer(2));
    assert_eq!(c.command(&["DEL", "n", "nope"]).unwrap(), Reply::Integer(1));
    assert_eq!(c.command(&["GET", "n"]).unwrap(), Reply::Bulk(None));
    assert_eq!(c.command(&["PING"]).unwrap(), Reply::Simple("PONG".into()));
    assert_eq!(c.command(&["ECHO", "hi"]).unwrap(), bulk("hi"));
    assert_eq!(c.command(&["CONFIG", "GET", "save"]).unwrap(), Reply::Array(vec![]));
    assert_eq!(c.command(&["COMMAND", "DOCS"]).unwrap(), Reply::Array(vec![]));
    assert_eq!(c.command(&["CLIENT", "SETNAME", "me"]).unwrap(), Reply::Simple("OK".into()));
    let Reply::Bulk(Some(info)) = c.command(&["INFO"]).unwrap() else { panic!("INFO is a bulk") };
    let info = String::from_utf8(info).unwrap();
    for field in
        ["# Raft", "role:leader", "term:", "commit_index:", "applied_index:", "snapshot_index:"]
    {
        assert!(info.contains(field), "INFO lacks {field}:\n{info}");
    }
    assert_eq!(c.command(&["QUIT"]).unwrap(), Reply::Simple("OK".into()));
}

/// The same through `redis-cli`, as a person would type it. Needs Debian's `redis-tools`
/// (`.ci/run` installs it); outside CI a missing `redis-cli` skips the test with a note.
#[test]
fn redis_cli_sets_and_gets() {
    if std::process::Command::new("redis-cli").arg("--version").output().is_err() {
        assert!(std::env::var_os("CI").is_none(), "CI must install redis-tools (redis-cli)");
        eprintln!("skipped: redis-cli is not installed (apt-get install redis-tools)");
        return;
    }
    let (processes, _) = start(3, "redis-cli");
    let cli = |id: usize, args: &[&str]| {
        let output = std::process::Command::new("redis-cli")
            .args(["-p", &processes.client_ports[id - 1].to_string()])
            .args(args)
            .output()
            .expect("run redis-cli");
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    };
    assert_eq!(cli(1, &["SET", "tool", "redis-cli"]), "OK");
    assert_eq!(cli(2, &["GET", "tool"]), "redis-cli");
    assert_eq!(cli(3, &["PING"]), "PONG");
    assert!(cli(3, &["FROB", "x"]).contains("unknown command 'FROB'"));
}

/// Kill every server with SIGKILL, start them again: what was acknowledged is read back.
#[test]
fn kill_every_server_and_restart_the_state_comes_back_from_disk() {
    let (mut processes, leader) = start(3, "restart-all");
    let mut c = client(&processes, leader);
    for i in 0..20 {
        let reply = c.command(&["SET", &format!("k{i}"), &format!("v{i}")]).unwrap();
        assert_eq!(reply, Reply::Simple("OK".into()));
    }
    for id in 1..=3 {
        processes.kill(id);
    }
    for id in 1..=3 {
        processes.restart(id);
    }
    let leader = processes.wait_for_leader(ELECTION).expect("a leader after the restart");
    let mut c = client(&processes, leader);
    for i in 0..20 {
        assert_eq!(c.command(&["GET", &format!("k{i}")]).unwrap(), bulk(&format!("v{i}")));
    }
    for id in 1..=3 {
        assert!(
            processes.stderr(id).contains("restarted from disk"),
            "n{id}: {}",
            processes.stderr(id)
        );
    }
}

/// A crash in the middle of a write leaves a torn record at the end of the log: the server
/// starts, says what it cut, and serves.
#[test]
fn a_torn_tail_is_cut_and_the_server_says_so() {
    let (mut processes, leader) = start(3, "torn");
    let mut c = client(&processes, leader);
    assert_eq!(c.command(&["SET", "a", "1"]).unwrap(), Reply::Simple("OK".into()));
    let victim = if leader == 1 { 2 } else { 1 };
    processes.kill(victim);
    let log = processes.data_dir(victim).join("log-0");
    let mut bytes = std::fs::read(&log).expect("the log");
    bytes.extend_from_slice(&[40, 0, 0, 0, 1, 2, 3]); // a record's first 7 bytes
    std::fs::write(&log, &bytes).expect("write");
    processes.restart(victim);
    let deadline = Instant::now() + ELECTION;
    while !processes.stderr(victim).contains("cut a torn tail of 7 bytes") {
        assert!(Instant::now() < deadline, "n{victim} said: {}", processes.stderr(victim));
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(client(&processes, victim).command(&["GET", "a"]).unwrap(), bulk("1"));
}

/// A byte flipped in the middle of the log: the server refuses to start, naming the file and
/// the offset, rather than vote or answer from a damaged disk.
#[test]
fn a_flipped_byte_in_the_log_makes_the_server_refuse_to_start() {
    let (mut processes, leader) = start(3, "flipped");
    let mut c = client(&processes, leader);
    for i in 0..5 {
        assert_eq!(c.command(&["SET", "k", &i.to_string()]).unwrap(), Reply::Simple("OK".into()));
    }
    let victim = if leader == 1 { 2 } else { 1 };
    processes.kill(victim);
    let log = processes.data_dir(victim).join("log-0");
    let mut bytes = std::fs::read(&log).expect("the log");
    assert!(bytes.len() > 100, "the log holds several records");
    bytes[20] ^= 0x01; // inside the first record, which others follow
    std::fs::write(&log, &bytes).expect("write");
    let output = processes.command(victim).output().expect("run raft-server");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "a damaged log must stop the server: {stderr}");
    assert!(
        stderr.contains(&format!("{}: damaged record at byte offset 0", log.display())),
        "the error names the file and the offset: {stderr}"
    );
}

/// Garbage, a frame too large, nested arrays, an unknown command, a huge pipeline, garbage on
/// the peer port: every server stays up and the next client is answered.
#[test]
fn bad_input_never_brings_a_server_down() {
    let (mut processes, leader) = start(3, "bad-input");
    let _ = &mut processes;
    let address = processes.client_address(leader);
    let mut c = RespClient::connect(&address).unwrap();
    c.send_raw(b"\x00\xffgarbage here\r\n").unwrap();
    assert!(
        matches!(c.read_reply().unwrap(), Reply::Error(text) if text.starts_with("ERR unknown command"))
    );
    assert!(
        matches!(c.command(&["FROB"]).unwrap(), Reply::Error(text) if text.starts_with("ERR unknown command 'FROB'"))
    );
    assert_eq!(
        c.command(&["GET"]).unwrap(),
        Reply::Error("ERR wrong number of arguments for 'get' command".into())
    );
    let mut c = RespClient::connect(&address).unwrap();
    c.send_raw(b"*1\r\n$999999999\r\n").unwrap();
    assert_eq!(
        c.read_reply().unwrap(),
        Reply::Error("ERR Protocol error: invalid bulk length".into())
    );
    assert!(c.read_reply().is_err(), "the connection closes after a protocol error");
    // A million nested arrays (a recursive parser's stack overflow): the server answers an
    // error and closes while the client is still sending, so the client may see a reset.
    let mut c = RespClient::connect(&address).unwrap();
    if c.send_raw(&b"*1\r\n".repeat(1_000_000)).is_ok() {
        match c.read_reply() {
            Ok(Reply::Error(text)) => assert!(text.starts_with("ERR Protocol error"), "{text}"),
            Ok(other) => panic!("nested arrays answered {other:?}"),
            Err(_) => {} // reset: the server closed first
        }
    }
    let mut pipeline = Vec::new();
    for i in 0..500 {
        pipeline.extend(encode_command(&["SET", &format!("p{}", i % 10), &i.to_string()]));
    }
    let mut c = RespClient::connect(&address).unwrap();
    c.send_raw(&pipeline).unwrap();
    for _ in 0..500 {
        assert_eq!(c.read_reply().unwrap(), Reply::Simple("OK".into()));
    }
    for id in 1..=3 {
        if let Ok(mut peer) = std::net::TcpStream::connect(processes.peer_address(id)) {
            use std::io::Write;
            let _ = peer.write_all(&[0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
            let _ = peer.write_all(b"\x00\x00\x00\x05hello");
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    for id in 1..=3 {
        assert_eq!(processes.exited(id), None, "n{id} exited: {}", processes.stderr(id));
        assert_eq!(client(&processes, id).command(&["GET", "p9"]).unwrap(), bulk("499"));
    }
}

/// Node `id`'s `INFO` field `name`.
fn info_field(processes: &Processes, id: usize, name: &str) -> String {
    let Reply::Bulk(Some(info)) = client(processes, id).command(&["INFO"]).unwrap() else {
        panic!("INFO of n{id} is a bulk")
    };
    let info = String::from_utf8(info).unwrap();
    let prefix = format!("{name}:");
    let value = info.lines().find_map(|line| line.strip_prefix(&prefix));
    value.unwrap_or_else(|| panic!("INFO of n{id} lacks {name}:\n{info}")).to_string()
}

/// What `redis-benchmark -c 50 -P 16` does: 50 connections, each sending pipelines of 16 SETs
/// and reading the 16 replies, 10 times over (8,000 SETs, 800 in flight). Every reply is
/// `+OK`, and no election happens meanwhile: the load must not starve the leader's heartbeats
/// (§5.2), however many requests one loop turn takes. And the leader's log never holds more
/// than [`UNCOMMITTED_WINDOW`] entries past its commit index: the requests beyond wait in the
/// loop, where they cost no copies (`server.rs`).
#[test]
fn fifty_pipelining_connections_get_ok_for_every_set_and_the_term_stays() {
    let (processes, leader) = start(3, "pipelined");
    let term_before = info_field(&processes, leader, "term");
    let address = processes.client_address(leader);
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (address, done) = (address.clone(), done.clone());
        std::thread::spawn(move || {
            let mut c = RespClient::connect(&address).expect("connect for INFO");
            let mut most = 0;
            while !done.load(Ordering::Relaxed) {
                let Ok(Reply::Bulk(Some(info))) = c.command(&["INFO"]) else { continue };
                let info = String::from_utf8_lossy(&info).to_string();
                let field = |name: &str| -> u64 {
                    let prefix = format!("{name}:");
                    info.lines().find_map(|l| l.strip_prefix(&prefix)).unwrap().parse().unwrap()
                };
                most = most.max(field("last_log_index") - field("commit_index"));
                std::thread::sleep(Duration::from_millis(5));
            }
            most
        })
    };
    let connections: Vec<_> = (0..50)
        .map(|connection| {
            let address = address.clone();
            std::thread::spawn(move || -> Result<(), String> {
                let mut c = RespClient::connect(&address).map_err(|e| e.to_string())?;
                for round in 0..10 {
                    let mut pipeline = Vec::new();
                    for i in 0..16 {
                        let key = format!("c{connection}-{i}");
                        pipeline.extend(encode_command(&["SET", &key, &round.to_string()]));
                    }
                    c.send_raw(&pipeline).map_err(|e| e.to_string())?;
                    for i in 0..16 {
                        match c.read_reply() {
                            Ok(Reply::Simple(ok)) if ok == "OK" => {}
                            other => {
                                return Err(format!(
                                    "connection {connection}, round {round}, SET {i}: {other:?}"
                                ));
                            }
                        }
                    }
                }
                Ok(())
            })
        })
        .collect();
    let failures: Vec<String> = connections
        .into_iter()
        .filter_map(|connection| connection.join().expect("a client thread panicked").err())
        .collect();
    done.store(true, Ordering::Relaxed);
    let most_uncommitted = watcher.join().expect("the INFO watcher panicked");
    let term_after = info_field(&processes, leader, "term");
    assert!(
        failures.is_empty(),
        "{} of 50 connections got a reply other than +OK (term {term_before} before, \
         {term_after} after); the first: {}\nthe servers said:\n{}",
        failures.len(),
        failures[0],
        (1..=3).map(|id| processes.stderr(id)).collect::<Vec<_>>().join("\n")
    );
    assert_eq!(
        (term_after.as_str(), info_field(&processes, leader, "role").as_str()),
        (term_before.as_str(), "leader"),
        "n{leader} led term {term_before} before the load; an election meanwhile means its \
         heartbeats were late (§5.2)"
    );
    let reply = client(&processes, leader).command(&["GET", "c49-15"]).unwrap();
    assert_eq!(reply, bulk("9"));
    assert!(
        most_uncommitted <= UNCOMMITTED_WINDOW,
        "n{leader}'s log held {most_uncommitted} entries past its commit index under 800 \
         pipelined SETs; the loop gives a leader no request while it holds \
         {UNCOMMITTED_WINDOW} (server.rs)"
    );
}

/// A second server started on a data directory in use stops at once, saying so, and the
/// first one keeps serving: two processes appending to one log would ruin it.
#[test]
fn a_second_server_on_the_same_data_directory_refuses_to_start() {
    let (processes, leader) = start(3, "locked");
    let output = processes.command(leader).output().expect("run a second raft-server");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the second server must stop: {stderr}");
    let lock = processes.data_dir(leader).join("LOCK");
    assert!(
        stderr.contains("in use by another process") && stderr.contains(&*lock.to_string_lossy()),
        "the error says the directory is in use and names {}: {stderr}",
        lock.display()
    );
    let reply = client(&processes, leader).command(&["SET", "still", "here"]).unwrap();
    assert_eq!(reply, Reply::Simple("OK".into()));
}

/// Thirty clients of a follower each send a SET and leave. The follower forwards every
/// request to the leader; once every reply went back, neither server keeps a route for them
/// (`routes:0` in `INFO`): routes do not pile up with the connections that came and went.
#[test]
fn routes_of_answered_requests_do_not_pile_up() {
    let (processes, leader) = start(3, "routes");
    let follower = if leader == 1 { 2 } else { 1 };
    for i in 0..30 {
        let mut c = client(&processes, follower);
        let reply = c.command(&["SET", &format!("r{i}"), "v"]).unwrap();
        assert_eq!(reply, Reply::Simple("OK".into()), "SET {i} through n{follower}");
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let held = [leader, follower].map(|id| info_field(&processes, id, "routes"));
        if held == ["0", "0"] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "routes held for answered requests: leader n{leader} {}, follower n{follower} {}",
            held[0],
            held[1]
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What the clients saw: the history of SETs and GETs for the checker, and the acknowledged
/// appends.
#[derive(Default)]
struct Seen {
    history: Vec<Operation<Op, ModelReply>>,
    appended: Vec<(String, String)>,
}

/// A Jepsen-style run: clients write and read concurrently while the leader, or a random
/// node, is killed with SIGKILL and restarted, again and again. Afterwards every acknowledged
/// APPEND is in its key's value, and the history of SETs and GETs (a client-side error or
/// timeout on a SET is an unknown outcome) is linearizable. (APPENDs stay out of the checked
/// history: an append of unknown outcome doubles the states the checker must search.)
#[test]
fn clients_stay_linearizable_while_nodes_are_killed_and_restarted() {
    let (mut processes, _) = start(3, "jepsen");
    let start = Instant::now();
    let run_for = Duration::from_secs(8);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let addresses: Vec<String> = (1..=3).map(|id| processes.client_address(id)).collect();
    let clients: Vec<_> = (0..4u64)
        .map(|client_id| {
            let (seen, addresses) = (seen.clone(), addresses.clone());
            std::thread::spawn(move || run_client(client_id, &addresses, start, run_for, &seen))
        })
        .collect();
    let mut kills = 0;
    let mut random = 0x9E37_79B9_7F4A_7C15u64;
    while start.elapsed() < run_for {
        std::thread::sleep(Duration::from_millis(1500));
        random = random.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let victim = match processes.wait_for_leader(Duration::from_secs(2)) {
            Some(leader) if !random.is_multiple_of(3) => leader,
            _ => (random >> 33) as usize % 3 + 1,
        };
        processes.kill(victim);
        kills += 1;
        std::thread::sleep(Duration::from_millis(300));
        processes.restart(victim);
    }
    for client in clients {
        client.join().expect("a client thread panicked");
    }
    let leader = processes.wait_for_leader(ELECTION).expect("a leader after the run");
    let mut c = client(&processes, leader);
    let mut seen = seen.lock().unwrap();
    for (key, token) in &seen.appended {
        let Reply::Bulk(value) = c.command(&["GET", key]).unwrap() else { panic!("GET {key}") };
        let held = String::from_utf8(value.unwrap_or_default()).unwrap();
        assert!(
            held.contains(token.as_str()),
            "acknowledged APPEND {key} {token} is missing: {held:?}"
        );
    }
    for key in KEYS {
        let call = start.elapsed().as_nanos() as u64;
        let Reply::Bulk(value) = c.command(&["GET", key]).unwrap() else { panic!("GET {key}") };
        let value = value.map(|bytes| String::from_utf8(bytes).unwrap());
        let outcome = Outcome::Returned {
            at: start.elapsed().as_nanos() as u64,
            output: ModelReply::Value(value),
        };
        seen.history.push(Operation {
            client: 99,
            call,
            input: Op::Get { key: key.to_string() },
            outcome,
        });
    }
    let acknowledged = seen.history.iter().filter(|op| op.output().is_some()).count();
    eprintln!(
        "{kills} kills; {} operations checked ({acknowledged} acknowledged), {} appends acknowledged",
        seen.history.len(),
        seen.appended.len()
    );
    assert!(kills >= 4, "{kills} kills");
    assert!(acknowledged >= 30, "only {acknowledged} operations were acknowledged in {run_for:?}");
    linearizability::check(&KvModel, &seen.history, Budget::DEFAULT).assert_linearizable();
}

const KEYS: [&str; 4] = ["w", "x", "y", "z"];

/// One client: random SET and GET on [`KEYS`] and APPEND on its own `log<id>`, one at a time,
/// moving to the next server after an error.
fn run_client(
    id: u64,
    addresses: &[String],
    start: Instant,
    run_for: Duration,
    seen: &Mutex<Seen>,
) {
    let mut server = id as usize % addresses.len();
    let mut connection: Option<RespClient> = None;
    let mut n = 0u64;
    while start.elapsed() < run_for {
        n += 1;
        let key = KEYS[(n * 7 + id) as usize % KEYS.len()].to_string();
        let token = format!("{id}.{n};");
        let args: Vec<String> = match (n + id) % 3 {
            0 => vec!["GET".into(), key.clone()],
            1 => vec!["SET".into(), key.clone(), token.clone()],
            _ => vec!["APPEND".into(), format!("log{id}"), token.clone()],
        };
        let connection_ref = match &mut connection {
            Some(c) => c,
            None => match RespClient::connect(&addresses[server]) {
                Ok(c) => connection.insert(c),
                Err(_) => {
                    server = (server + 1) % addresses.len();
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
            },
        };
        let call = start.elapsed().as_nanos() as u64;
        let strs: Vec<&str> = args.iter().map(String::as_str).collect();
        let reply = connection_ref.command(&strs);
        let at = start.elapsed().as_nanos() as u64;
        if reply.is_err() {
            connection = None;
            server = (server + 1) % addresses.len();
        }
        let mut seen = seen.lock().unwrap();
        match (args[0].as_str(), reply) {
            ("APPEND", Ok(Reply::Integer(_))) => seen.appended.push((args[1].clone(), token)),
            ("APPEND", _) => {}
            ("GET", Ok(Reply::Bulk(value))) => {
                let output =
                    ModelReply::Value(value.map(|bytes| String::from_utf8(bytes).unwrap()));
                let outcome = Outcome::Returned { at, output };
                seen.history.push(Operation { client: id, call, input: Op::Get { key }, outcome });
            }
            ("GET", _) => {} // a failed read changed nothing
            (_, reply) => {
                let outcome = match reply {
                    Ok(Reply::Simple(ok)) if ok == "OK" => {
                        Outcome::Returned { at, output: ModelReply::Ok }
                    }
                    _ => Outcome::Unknown,
                };
                let input = Op::Put { key, value: token };
                seen.history.push(Operation { client: id, call, input, outcome });
            }
        }
    }
}

/// A server whose starter dies without stopping it (a test or a bench killed with SIGKILL)
/// stops by itself: `Processes` passes `--exit-with-parent`. Here the starter is a shell that
/// runs the server in the background, prints its pid and is then killed.
#[test]
fn a_server_whose_starter_is_killed_stops_by_itself() {
    let mut processes = Processes::start(binary(), 1, "orphan");
    processes.kill(1);
    let command = processes.command(1);
    let mut shell = std::process::Command::new("sh");
    shell
        .arg("-c")
        .arg(r#""$0" "$@" 2>/dev/null & echo $!; sleep 60"#)
        .arg(command.get_program())
        .args(command.get_args())
        .stdout(std::process::Stdio::piped());
    let mut starter = shell.spawn().expect("start sh");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(starter.stdout.take().expect("stdout")),
        &mut line,
    )
    .expect("read the server's pid");
    let server = format!("/proc/{}", line.trim());
    // Answering PING, it has read who started it: a starter killed before that would have
    // left the server a different parent to watch.
    let deadline = Instant::now() + Duration::from_secs(10);
    let answers = || {
        RespClient::connect(&processes.client_address(1))
            .and_then(|mut client| client.command(&["PING"]))
            .is_ok()
    };
    while !answers() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(is_running(&server), "the server ({server}) runs under its starter");
    starter.kill().expect("SIGKILL the starter");
    starter.wait().expect("reap the starter");
    let deadline = Instant::now() + Duration::from_secs(10);
    while is_running(&server) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let running = is_running(&server);
    if running {
        let pid = line.trim().to_string();
        let _ = std::process::Command::new("kill").args(["-9", &pid]).status();
    }
    assert!(!running, "the server outlived its killed starter by 10 s (--exit-with-parent)");
}

/// Whether `/proc/PID` names a live process (a zombie waiting for its new parent counts as
/// gone: it runs nothing).
fn is_running(proc_dir: &str) -> bool {
    match std::fs::read_to_string(format!("{proc_dir}/stat")) {
        Ok(stat) => !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'),
        Err(_) => false,
    }
}
