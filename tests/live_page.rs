//! The live page in a real browser, driven as a person would: `cargo run -- live` (the real
//! command, stage 5 reference) serves it, headless Chromium opens it, and this test, speaking
//! Chromium's DevTools protocol, watches the servers elect a leader, clicks the leader (a
//! real mouse press at its place on the ring) to crash it, watches a new leader appear, sends
//! a request and waits until a majority has committed it, clicks "save", and runs the replay
//! command the page shows, which must write the same trace, byte for byte, then slides the time
//! back to tick 30 and steps one event at a time. Screenshots of each
//! moment go to `target/live-page-screenshots/` (CI keeps them). When Chromium is closed, the
//! server must end by itself (no poll: the page is gone).
//!
//! Skipped, with a note, where no Chromium is installed; `RAFT_BROWSER_TEST=1` (CI) makes a
//! missing browser a failure (see `tests/browser`).
//!
//! The DevTools protocol is JSON over a WebSocket; the few lines of WebSocket it needs (the
//! handshake, masked text frames out, frames in) are written here rather than taken from a
//! crate, for one test.

mod browser;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use harness::live::session::command_words;
use raft_course::stages::repo_root;
use serde_json::{Value, json};

fn out_dir() -> PathBuf {
    let dir = repo_root().join("target").join("live-page-screenshots");
    std::fs::create_dir_all(&dir).expect("the screenshot directory can be made");
    dir
}

/// A process this test started, killed (and waited for) when dropped, failing or not.
struct Started(Child);

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Lines a child prints on one of its pipes, read on a thread.
fn lines(pipe: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}

/// The first line from `lines` that contains `marker`, within `limit`.
fn wait_for_line(lines: &mpsc::Receiver<String>, marker: &str, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(marker) => return line,
            Ok(_) => {}
            Err(_) => panic!("no line with {marker:?} within {limit:?}"),
        }
    }
}

/// A DevTools connection to one page: commands by id, answers read in order.
struct DevTools {
    socket: TcpStream,
    next_id: u64,
}

impl DevTools {
    /// Connects to `ws://host:port/path`.
    fn connect(url: &str) -> DevTools {
        let rest = url.strip_prefix("ws://").expect("a ws:// address");
        let (host, path) = rest.split_at(rest.find('/').expect("a path"));
        let mut socket = TcpStream::connect(host).expect("DevTools listens");
        socket.set_read_timeout(Some(Duration::from_secs(60))).expect("a timeout");
        let handshake = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        socket.write_all(handshake.as_bytes()).expect("handshake sent");
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let mut byte = [0u8];
            socket.read_exact(&mut byte).expect("the handshake's answer");
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head);
        assert!(head.starts_with("HTTP/1.1 101"), "no WebSocket upgrade: {head}");
        DevTools { socket, next_id: 1 }
    }

    /// Sends `method` with `params`; its result (events in between are skipped).
    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let text = json!({ "id": id, "method": method, "params": params }).to_string();
        self.send_frame(text.as_bytes());
        loop {
            let answer: Value = serde_json::from_slice(&self.read_message()).expect("JSON");
            if answer["id"] == id {
                assert!(answer.get("error").is_none(), "{method}: {answer}");
                return answer["result"].clone();
            }
        }
    }

    /// A masked text frame (a client must mask, RFC 6455 §5.3).
    fn send_frame(&mut self, payload: &[u8]) {
        let mut frame = vec![0x81];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n if n < 65536 => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        let mask = [0x12, 0x34, 0x56, 0x78];
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, byte)| byte ^ mask[i % 4]));
        self.socket.write_all(&frame).expect("frame sent");
    }

    /// One whole message (continuation frames joined).
    fn read_message(&mut self) -> Vec<u8> {
        let mut message = Vec::new();
        loop {
            let mut head = [0u8; 2];
            self.socket.read_exact(&mut head).expect("a frame");
            let length = match head[1] & 0x7f {
                126 => {
                    let mut bytes = [0u8; 2];
                    self.socket.read_exact(&mut bytes).expect("a length");
                    u64::from(u16::from_be_bytes(bytes))
                }
                127 => {
                    let mut bytes = [0u8; 8];
                    self.socket.read_exact(&mut bytes).expect("a length");
                    u64::from_be_bytes(bytes)
                }
                n => u64::from(n),
            };
            let mut payload = vec![0u8; length as usize];
            self.socket.read_exact(&mut payload).expect("a payload");
            message.extend_from_slice(&payload);
            if head[0] & 0x80 != 0 {
                return message;
            }
        }
    }

    /// Evaluates `expression` in the page; its value.
    fn eval(&mut self, expression: &str) -> Value {
        let params = json!({ "expression": expression, "returnByValue": true });
        self.call("Runtime.evaluate", params)["result"]["value"].clone()
    }

    /// What the page says it draws (`window.liveProbe()` in page.js).
    fn probe(&mut self) -> Value {
        let text = self.eval("window.liveProbe ? window.liveProbe() : 'null'");
        serde_json::from_str(text.as_str().unwrap_or("null")).expect("the probe is JSON")
    }

    /// Waits until `done` holds for the probe, at most `limit`; the probe then.
    fn until(&mut self, what: &str, limit: Duration, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let probe = self.probe();
            if done(&probe) {
                return probe;
            }
            assert!(Instant::now() < deadline, "{what}: not within {limit:?}; the page: {probe}");
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// A left click (press and release) at the centre of the element `selector`.
    fn click(&mut self, selector: &str) {
        let rect = self.eval(&format!(
            "(() => {{ const r = document.querySelector('{selector}').getBoundingClientRect(); \
             return [r.x + r.width / 2, r.y + r.height / 2]; }})()"
        ));
        let (x, y) = (rect[0].as_f64().expect("x"), rect[1].as_f64().expect("y"));
        for kind in ["mousePressed", "mouseReleased"] {
            let params = json!({ "type": kind, "x": x, "y": y, "button": "left", "clickCount": 1 });
            self.call("Input.dispatchMouseEvent", params);
        }
    }

    /// Keeps a screenshot of the page as `name.png`.
    fn screenshot(&mut self, name: &str) {
        let shot = self.call("Page.captureScreenshot", json!({ "format": "png" }));
        let png = base64(shot["data"].as_str().expect("base64 data"));
        let path = out_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).expect("the screenshot is written");
        println!("screenshot: {}", path.display());
    }
}

/// Decodes standard base64 (what DevTools sends screenshots in).
fn base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let clean: Vec<u8> = text.bytes().filter(|&c| c != b'=' && !c.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let bits = chunk.iter().fold(0u32, |acc, &c| acc << 6 | u32::from(value(c)))
            << (6 * (4 - chunk.len()));
        let bytes = bits.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}

/// The DevTools address of the page at `url`, from Chromium's own list.
fn page_target(port: &str, url: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut socket = TcpStream::connect(format!("127.0.0.1:{port}")).expect("DevTools HTTP");
        socket
            .write_all(
                format!("GET /json/list HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").as_bytes(),
            )
            .expect("sent");
        socket.set_read_timeout(Some(Duration::from_secs(10))).expect("a timeout");
        let mut answer = Vec::new();
        let mut buffer = [0u8; 65536];
        // The list is short: read until the JSON array closes.
        while let Ok(n) = socket.read(&mut buffer) {
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buffer[..n]);
            if answer.ends_with(b"]\n") || answer.ends_with(b"]") {
                break;
            }
        }
        let text = String::from_utf8_lossy(&answer);
        if let Some((_, body)) = text.split_once("\r\n\r\n") {
            if let Ok(Value::Array(targets)) = serde_json::from_str::<Value>(body) {
                let page = targets.iter().find(|t| {
                    t["type"] == "page" && t["url"].as_str().is_some_and(|u| u.starts_with(url))
                });
                if let Some(page) = page {
                    return page["webSocketDebuggerUrl"]
                        .as_str()
                        .expect("a ws address")
                        .to_string();
                }
            }
        }
        assert!(Instant::now() < deadline, "Chromium lists no page at {url}: {text}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The arguments of a `cargo run -- …` command line, as a shell splits them.
fn command_args(command: &str) -> Vec<String> {
    let rest = command.strip_prefix("cargo run -- ").expect("a `cargo run --` command");
    command_words(rest)
}

#[test]
fn the_live_page_elects_crashes_replicates_and_replays() {
    let Some(chromium) = browser::chromium() else { return };
    let course = Path::new(env!("CARGO_BIN_EXE_raft-course"));
    // The real command. `--wait-ms`: it ends by itself if no page ever comes (a failure
    // before Chromium starts leaves no server behind); `--heartbeat-ms`: soon after the page.
    let mut server = Command::new(course)
        .args(["live", "--seed", "3", "--speed", "20", "--no-open"])
        .args(["--heartbeat-ms", "3000", "--wait-ms", "240000"])
        .current_dir(repo_root())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("cargo run -- live starts");
    let said = lines(server.stdout.take().expect("piped"));
    let server = Started(server);
    // The first run builds the stage 5 reference's example.
    let line = wait_for_line(&said, "open http://127.0.0.1:", Duration::from_secs(600));
    let url = line.trim().strip_prefix("open ").expect("the address").to_string();

    let profile = std::env::temp_dir().join(format!("raft-live-profile-{}", std::process::id()));
    let mut chrome = Command::new(&chromium)
        .args(browser::FLAGS)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--remote-debugging-port=0", "--window-size=1300,1000", &url])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let chrome_said = lines(chrome.stderr.take().expect("piped"));
    let chrome = Started(chrome);
    let listening = wait_for_line(&chrome_said, "DevTools listening on", Duration::from_secs(60));
    let port = listening.rsplit("127.0.0.1:").next().and_then(|r| r.split('/').next());
    let port = port.expect("a DevTools port").to_string();
    let mut page = DevTools::connect(&page_target(&port, &url));
    page.call("Page.enable", json!({}));

    let limit = Duration::from_secs(60);
    let loaded = page.until("the page draws five servers", limit, |p| p["servers"] == 5);
    assert_eq!(loaded["errors"], json!([]), "script errors");
    assert_eq!(loaded["logRows"], 5, "one log row per server");
    page.screenshot("1-loaded");

    let elected = page.until("a leader is elected", limit, |p| p["leader"].is_u64());
    let leader = elected["leader"].as_u64().expect("a leader");
    assert!(elected["timers"].as_u64() >= Some(1), "followers show their timers: {elected}");
    page.screenshot("2-leader");

    page.click(&format!("#server-{leader}"));
    let crashed = page.until("the click crashes the leader", limit, |p| {
        p["nodes"][leader as usize - 1]["up"] == false
    });
    assert!(crashed["said"].as_str().unwrap_or_default().starts_with(&format!("crash {leader}")));
    page.screenshot("3-leader-crashed");

    let next = page.until("a new leader appears", limit, |p| {
        p["leader"].as_u64().is_some_and(|l| l != leader)
    });
    let next = next["leader"].as_u64().expect("a leader");
    page.screenshot("4-new-leader");

    page.click("#request");
    let committed = page.until("the request commits on a majority", limit, |p| {
        let nodes = p["nodes"].as_array().expect("nodes");
        let last = nodes[next as usize - 1]["log"].as_u64().unwrap_or(0);
        let with = nodes.iter().filter(|n| n["commit"].as_u64() >= Some(last.max(1))).count();
        p["said"].as_str().unwrap_or_default().starts_with("request") && with >= 3
    });
    assert_eq!(committed["failure"], Value::Null);
    let cells = page.eval("document.querySelectorAll('#logs td.committed').length");
    assert!(cells.as_u64() >= Some(3), "committed entries are framed in the grid: {cells}");
    page.screenshot("5-request-committed");

    page.click("#save");
    let saved = page.until("save shows the replay command", limit, |p| {
        p["saved"].as_str().is_some_and(|s| s.contains("replay: "))
    });
    page.screenshot("6-saved");
    let saved = saved["saved"].as_str().expect("text").to_string();
    let field = |name: &str| {
        saved.lines().find_map(|l| l.strip_prefix(name)).expect(name).trim().to_string()
    };
    let (trace_path, replay) = (field("trace:"), field("replay:"));
    assert!(replay.contains('@'), "the replay carries the actions: {replay}");
    let replay_path = command_args(&replay).last().expect("the trace path").clone();
    let _ = std::fs::remove_file(&replay_path);
    let status = Command::new(course)
        .args(command_args(&replay))
        .current_dir(repo_root())
        .stdout(Stdio::null())
        .status()
        .expect("the replay command runs");
    assert!(status.success(), "{replay}");
    let original = std::fs::read(&trace_path).expect("the saved trace");
    let replayed = std::fs::read(&replay_path).expect("the replayed trace");
    assert!(original == replayed, "the replay command wrote other bytes: {replay}");
    println!("replayed {} bytes identically: {replay}", original.len());

    // Time travel: the slider back to tick 30 computes the run again from the seed, paused;
    // then "event ▶" shows one event more.
    page.eval(
        "(() => { const t = document.getElementById('travel'); t.value = 30; \
         t.dispatchEvent(new Event('change')); return 1; })()",
    );
    let back = page.until("the slider takes the run back to tick 30", limit, |p| {
        p["tick"] == 30 && p["said"].as_str().is_some_and(|s| s.starts_with("back at tick 30"))
    });
    let before = back["cursor"].as_i64().expect("a cursor");
    assert!(back["nodes"].as_array().expect("nodes").iter().all(|n| n["up"] == true));
    page.screenshot("7-back-at-tick-30");
    page.click("#back");
    // The cursor moves at the click, the clock at the next frame drawn: wait for both.
    let back_one =
        page.until("◀ event shows the event before, and the clock names it", limit, |p| {
            p["cursor"].as_i64() == Some(before - 1)
                && p["clock"].as_str().is_some_and(|c| c.contains(&format!("event {before}/")))
        });
    assert_eq!(back_one["tick"], 30);
    page.click("#step");
    page.until("event ▶ shows it again, running no tick", limit, |p| {
        p["cursor"].as_i64() == Some(before) && p["tick"] == 30
    });
    page.click("#step");
    page.until("event ▶ at the newest event runs one tick", limit, |p| {
        // (A tick may bring no event: then the cursor stays until one comes.)
        p["tick"] == 31 && p["cursor"].as_i64() >= Some(before)
    });

    // The page closes: the server ends by itself.
    drop(page);
    drop(chrome);
    let _ = std::fs::remove_dir_all(&profile);
    let mut server = server;
    let closed = Instant::now();
    loop {
        if let Some(status) = server.0.try_wait().expect("waitable") {
            assert!(status.success(), "the server ended with {status}");
            break;
        }
        assert!(closed.elapsed() < Duration::from_secs(30), "the server outlived its page");
        std::thread::sleep(Duration::from_millis(100));
    }
    println!("the server stopped {:?} after the page closed", closed.elapsed());
}

/// `cargo run -- live --stage N` for every stage with a node, without a browser: the replay
/// form (`--until`, `--trace`) computes the run and writes its trace, in which a leader is
/// elected. This builds and runs each reference's example, the same file `--yours` builds
/// for the learner.
#[test]
fn every_stage_runs_live() {
    let course = Path::new(env!("CARGO_BIN_EXE_raft-course"));
    let dir = std::env::temp_dir().join(format!("raft-live-stages-{}", std::process::id()));
    for stage in 2..=5 {
        let path = dir.join(format!("stage{stage}.json"));
        let output = Command::new(course)
            .args(["live", "--stage", &stage.to_string(), "--seed", "2", "--until", "150"])
            .arg("--trace")
            .arg(&path)
            .current_dir(repo_root())
            .output()
            .expect("cargo run -- live runs");
        let said = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "stage {stage}: {said}");
        let trace: Value =
            serde_json::from_slice(&std::fs::read(&path).expect("a trace")).expect("JSON");
        let events = trace["events"].as_array().expect("events");
        let leader = events.iter().any(|e| e["event"] == "role" && e["role"] == "Leader");
        assert!(leader, "stage {stage}: no leader elected in 150 ticks");
        assert_eq!(trace["failure"], Value::Null, "stage {stage}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// `--yours` is refused while the learner's exercise has stubs left, and names them.
#[test]
fn yours_is_refused_while_stubs_are_left() {
    let root = repo_root();
    let stage = raft_course::stages::STAGES[1];
    if raft_course::fresh::freshness(&root, &stage) != raft_course::fresh::Freshness::Fresh {
        println!("skipped: stage 2's exercise is the learner's work, not the fresh one");
        return;
    }
    let output = Command::new(env!("CARGO_BIN_EXE_raft-course"))
        .args(["live", "--stage", "2", "--yours", "--no-open"])
        .current_dir(&root)
        .output()
        .expect("cargo run -- live runs");
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "refused: {said}");
    assert!(said.contains("stubs left"), "{said}");
    assert!(said.contains("exercises/02-election/src/election.rs"), "the stubs are named: {said}");
    assert!(said.contains("cargo run -- live --stage 2"), "the reference is offered: {said}");
}
