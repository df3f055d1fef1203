//! The trace page in a real browser: pages rendered from known traces are opened in headless
//! Chromium, which runs the page's own self-test (`?selftest=1`) after drawing; this test then
//! compares what the page shows with what it computes from the trace itself: one lane per node,
//! one arrow per message (sent, copied or dropped), the violation marker on the event after
//! which the check failed, and the roles and terms the state table shows at every step.
//! Stage 6 runs also get the history view: a bar per operation per client, numbered in the
//! order the checker found, open-ended where the outcome is unknown, and the operations that
//! cannot be placed outlined.
//!
//! Skipped, with a note, where no Chromium is installed; `RAFT_BROWSER_TEST=1` (CI) makes a
//! missing browser a failure. `CHROMIUM=<path>` picks the binary. Screenshots go to
//! `target/trace-page-screenshots/` (CI keeps them).

mod browser;

#[path = "../harness/tests/common/mod.rs"]
#[allow(missing_docs, unreachable_pub)]
mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use browser::chromium;
use common::{LOG_MISMATCH, Toy};
use harness::Cluster;
use harness::service::clients::{ClientLink, Clients};
use harness::service::kv::{KvOp, KvOutput};
use harness::service::{Answer, Reply, Request, Service};
use harness::{
    Applied, Compact, Config, Envelope, Index, Node, NodeId, NotLeader, Persist, Replicate, Rng,
    Snapshot, Status, Term,
};
use kv::{KvNode, Message, PersistentState, StorageWrite};
use raft_course::stages::repo_root;
use serde_json::Value;

fn out_dir() -> PathBuf {
    let dir = repo_root().join("target").join("trace-page-screenshots");
    std::fs::create_dir_all(&dir).expect("the screenshot directory can be made");
    dir
}

/// Runs Chromium headless with `args`, at most 120 s; its stdout.
fn run_chromium(chromium: &Path, profile: &Path, args: &[String]) -> String {
    let mut child = Command::new(chromium)
        .args(browser::FLAGS)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let started = Instant::now();
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut text).map(|_| text)
    });
    loop {
        if child.try_wait().expect("chromium can be waited for").is_some() {
            break;
        }
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("chromium did not finish in 120 s: {args:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().expect("reader thread").expect("chromium's stdout is text")
}

/// Opens `page` with `?selftest=1`, returns the self-test's result, and keeps a screenshot.
fn selftest(chromium: &Path, page: &Path, name: &str) -> Value {
    let profile =
        std::env::temp_dir().join(format!("raft-page-profile-{name}-{}", std::process::id()));
    let url = format!("file://{}?selftest=1&steps=80", page.display());
    let dom = run_chromium(chromium, &profile, &["--dump-dom".to_string(), url]);
    let shot = out_dir().join(format!("{name}.png"));
    run_chromium(
        chromium,
        &profile,
        &[
            "--window-size=1500,900".to_string(),
            format!("--screenshot={}", shot.display()),
            format!("file://{}", page.display()),
        ],
    );
    let _ = std::fs::remove_dir_all(&profile);
    assert!(shot.exists(), "no screenshot at {}", shot.display());
    println!("screenshot: {}", shot.display());
    // The result is the last <pre id="selftest"> (the first is in the script's own text).
    let start = dom.rfind("<pre id=\"selftest\">").unwrap_or_else(|| {
        panic!("no self-test output in the page's DOM: did the script run?\n{}", tail(&dom))
    }) + "<pre id=\"selftest\">".len();
    let end = start + dom[start..].find("</pre>").expect("the pre element ends");
    let text = dom[start..end]
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("self-test output is not JSON ({e}): {text}"))
}

fn tail(text: &str) -> &str {
    &text[text.len().saturating_sub(2000)..]
}

/// The column an event is shown in (the receiver's, for a drop on arrival).
fn column(event: &Value) -> Option<u64> {
    let field = |name| event.get(name).and_then(Value::as_u64);
    match event["event"].as_str()? {
        "send" | "duplicate" | "drop" => field("from"),
        "receive" => field("to"),
        "network" | "failure" => None,
        _ => field("node"),
    }
}

/// Arrows a person should see: one per send and per duplicate's copy, and one per message
/// dropped as it was sent. A drop ends the arrow of an earlier send instead when it happened on
/// arrival: the receiver had crashed, or the link was cut (a network change) after the send.
fn expected_arrows(events: &[Value]) -> usize {
    // Per message and arrival tick: the event indexes of the sends on their way.
    let mut pending: HashMap<(String, u64), Vec<usize>> = HashMap::new();
    let mut arrows = 0;
    let mut last_network = None;
    for (i, e) in events.iter().enumerate() {
        let key = |tick: u64| (format!("{}|{}|{}", e["from"], e["to"], e["message"]), tick);
        let tick = e["tick"].as_u64().unwrap_or_default();
        match e["event"].as_str().unwrap_or_default() {
            "network" => last_network = Some(i),
            "send" | "duplicate" => {
                arrows += 1;
                let at = e["deliver_at"].as_u64().or(e["again"].as_u64());
                if let Some(at) = at {
                    pending.entry(key(at)).or_default().push(i);
                }
            }
            "receive" => {
                if let Some(list) = pending.get_mut(&key(tick)) {
                    if !list.is_empty() {
                        list.remove(0);
                    }
                }
            }
            "drop" => {
                let list = pending.entry(key(tick)).or_default();
                let on_arrival = match e["reason"].as_str() {
                    Some("crashed") => !list.is_empty(),
                    Some("cut") => list.first().is_some_and(|&sent| Some(sent) < last_network),
                    _ => false,
                };
                if on_arrival {
                    list.remove(0);
                } else {
                    arrows += 1;
                }
            }
            _ => {}
        }
    }
    arrows
}

/// The role and term each node's row shows after event `upto`, replayed from the trace.
fn roles_after(events: &[Value], nodes: usize, upto: usize) -> Vec<String> {
    let mut state: BTreeMap<u64, (String, u64, bool)> =
        (1..=nodes as u64).map(|id| (id, ("follower".to_string(), 0, true))).collect();
    for e in &events[..=upto] {
        let Some(node) = e["node"].as_u64() else { continue };
        let s = state.get_mut(&node).expect("a known node");
        if let Some(term) = e["term"].as_u64() {
            s.1 = term;
        }
        match e["event"].as_str().unwrap_or_default() {
            "role" => {
                s.0 = match e["role"].as_str().unwrap_or_default() {
                    "Follower" => "follower".to_string(),
                    other => other.to_uppercase(),
                }
            }
            "crash" => s.2 = false,
            "restart" => (s.0, s.2) = ("follower".to_string(), true),
            _ => {}
        }
    }
    state
        .values()
        .map(|(role, term, up)| format!("{} t{term}", if *up { role.as_str() } else { "CRASHED" }))
        .collect()
}

/// What the page showed against what the trace says.
fn check(result: &Value, trace: &Value) {
    let events = trace["events"].as_array().expect("events");
    let nodes = trace["nodes"].as_u64().expect("the trace names its cluster size") as usize;
    let errors = result["errors"].as_array().expect("errors listed");
    assert!(errors.is_empty(), "script errors in the page: {errors:?}");
    assert_eq!(result["lanes"], nodes, "one lane per node");
    assert_eq!(result["arrowsDrawn"], expected_arrows(events), "one arrow per message: {result}");
    assert_eq!(result["unmatchedReceives"], 0, "every receive has its send");
    match trace["failure"].as_str() {
        Some(_) => {
            let last = events.len() - 1;
            let marker = &result["violation"];
            assert_eq!(
                marker["event"], last,
                "the violation marker sits on the last event: {marker}"
            );
            assert_eq!(marker["node"].as_u64(), column(&events[last]), "in that event's lane");
            assert_eq!(marker["failureRow"], true, "the failure is written under it");
        }
        None => assert!(result["violation"].is_null(), "no violation marker on a run that passed"),
    }
    let steps = result["steps"].as_array().expect("steps");
    assert!(steps.len() > 10, "the page stepped: {}", steps.len());
    for step in steps {
        let event = step["event"].as_u64().expect("an event index") as usize;
        let shown: Vec<String> = serde_json::from_value(step["roles"].clone()).expect("roles");
        assert_eq!(shown, roles_after(events, nodes, event), "the state table after event {event}");
    }
    assert_eq!(result["stepChangedState"], true, "stepping forward changes what is shown");
    assert_eq!(result["backToStart"], true, "stepping back shows the first state again");
    assert_eq!(result["rowsWithoutN1"], result["rowsExpectedWithoutN1"], "the node filter");
    println!("page drawn in {} ms ({} events)", result["loadMs"], events.len());
}

/// Run by [`a_failing_run_shows_its_violation_in_the_browser`] in a child process with
/// `RAFT_TRACE` set: a toy node (harness/tests/common) whose n2 stores a different command than
/// the leader sent, caught as Log Matching (§5.3). Fails on purpose.
#[test]
#[ignore = "fails on purpose; run by a_failing_run_shows_its_violation_in_the_browser"]
fn planted_log_mismatch() {
    let mut cluster = Cluster::<Toy<LOG_MISMATCH>>::new(3, 7).with_disks();
    for round in 0..100 {
        cluster.run_for(10);
        let _ = cluster.propose(1, format!("x{round}"));
    }
}

/// A failing run, traced as a learner would trace it: the page shows the lanes, the arrows,
/// the violation where it broke, and steps.
#[test]
fn a_failing_run_shows_its_violation_in_the_browser() {
    let Some(chromium) = chromium() else { return };
    let dir = out_dir();
    let trace_path = dir.join("failing.json");
    let _ = std::fs::remove_file(&trace_path);
    let status = Command::new(std::env::current_exe().expect("this test binary"))
        .args(["--ignored", "--exact", "planted_log_mismatch"])
        .env("RAFT_TRACE", &trace_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("the child test runs");
    assert!(!status.success(), "the planted bug was not caught");
    let text = std::fs::read_to_string(&trace_path).expect("the failing run wrote its trace");
    let trace: Value = serde_json::from_str(&text).expect("JSON");
    assert!(trace["failure"].as_str().unwrap_or_default().starts_with("Log Matching (§5.3)"));
    let page = dir.join("failing.html");
    std::fs::write(&page, harness::page::render(&text).expect("renders")).expect("written");
    let result = selftest(&chromium, &page, "failing");
    check(&result, &trace);
}

/// The demo's scripted run (crash, restart, partition, heal on the stage 6 reference, which
/// compacts every 4 entries, with three clients): a run that passes, with crashes, drops,
/// snapshots, five lanes, and the clients' history drawn with its order.
#[test]
fn the_demo_run_draws_in_the_browser() {
    let Some(chromium) = chromium() else { return };
    let page = out_dir().join("demo.html");
    let options = raft_course::demo::Options {
        scripted: true,
        seed: 1,
        frame: Duration::ZERO,
        page: page.clone(),
    };
    raft_course::demo::run(&options, &mut std::io::sink()).expect("the demo runs");
    let html = std::fs::read_to_string(&page).expect("the demo wrote its page");
    let trace = inline_trace(&html);
    let result = selftest(&chromium, &page, "demo");
    check(&result, &trace);
    check_history(&result, &trace);
    assert_eq!(trace["history"]["verdict"], "linearizable");
    assert!(result["dropped"].as_u64() > Some(0), "the partition drops messages: {result}");
    let events = trace["events"].as_array().expect("the trace has events");
    let installs = events
        .iter()
        .filter(|e| {
            e["event"] == "send"
                && e["message"].as_str().is_some_and(|m| m.starts_with("InstallSnapshot"))
        })
        .count();
    assert!(installs > 0, "a server that was away catches up with a snapshot: {installs} sent");
}

/// The trace file a page holds inline.
fn inline_trace(html: &str) -> Value {
    let open = "<script id=\"trace\" type=\"application/json\">";
    let start = html.find(open).expect("the trace is inline") + open.len();
    let end = start + html[start..].find("</script>").expect("and ends");
    serde_json::from_str(&html[start..end]).expect("the inline trace is JSON")
}

/// What the history view showed against the trace's `history`: a bar per operation, the
/// numbers of the order found, the open-ended bars of the unknown outcomes, the outlined
/// operations that cannot be placed, and a click on a bar moving the timeline to its request.
fn check_history(result: &Value, trace: &Value) {
    let history = &trace["history"];
    let view = &result["history"];
    let operations = history["operations"].as_array().expect("the trace has a history");
    assert_eq!(view["bars"], operations.len(), "a bar per operation: {view}");
    let numbered: Vec<(u64, u64)> = operations
        .iter()
        .enumerate()
        .filter_map(|(i, op)| Some((i as u64, op["order"].as_u64()?)))
        .collect();
    let shown: Vec<(u64, u64)> = view["numbered"]
        .as_array()
        .expect("numbered bars")
        .iter()
        .map(|bar| {
            assert_eq!(
                bar[2].as_str(),
                Some(bar[1].to_string().as_str()),
                "the number drawn: {bar}"
            );
            (bar[0].as_u64().expect("op"), bar[1].as_u64().expect("order"))
        })
        .collect();
    assert_eq!(shown, numbered, "each bar numbered with its place in the order found");
    let unknown: Vec<u64> = (0..operations.len() as u64)
        .filter(|&i| operations[i as usize]["returned"].is_null())
        .collect();
    assert_eq!(view["open"], serde_json::json!(unknown), "unknown outcomes drawn open-ended");
    assert_eq!(view["openReachesTheEnd"], true, "an open-ended bar runs to the end of the axis");
    let culprits: Vec<u64> = (0..operations.len() as u64)
        .filter(|&i| operations[i as usize]["cannot_place"] == true)
        .collect();
    assert_eq!(view["culprits"], serde_json::json!(culprits), "the operations outlined");
    let clicked = &view["clicked"];
    let op = &operations[clicked["op"].as_u64().expect("a bar was clicked") as usize];
    let request =
        format!("c{}#{} {}", op["session"], op["seq"], op["op"].as_str().unwrap_or_default());
    assert_eq!(
        clicked["text"].as_str(),
        Some(request.as_str()),
        "the click moved the timeline to the request: {clicked}"
    );
}

/// Three clients of the stage 6 reference put, append and read two keys while the leader
/// crashes and comes back; one last operation is given up on (an unknown outcome), 100 ticks
/// before the run ends.
fn kv_run(seed: u64) -> Cluster<KvNode> {
    let mut cluster = Cluster::<KvNode>::new(3, seed).with_disks();
    cluster.service_snapshots();
    cluster.keep_whole_trace();
    let mut kv = Clients::new(&cluster, 3, ClientLink::unreliable());
    for n in 0..4 {
        kv.submit(1, KvOp::Append { key: "x".into(), value: format!("a{n};") });
        kv.submit(2, KvOp::Get { key: "x".into() });
        kv.submit(3, KvOp::Put { key: "y".into(), value: format!("p{n}") });
        kv.submit(2, KvOp::Get { key: "y".into() });
    }
    kv.run_for(&mut cluster, 60);
    let leader = cluster.check_one_leader();
    cluster.crash(leader);
    kv.run_for(&mut cluster, 60);
    cluster.restart(leader);
    assert!(kv.run_until_idle(&mut cluster, 3_000), "the clients finish");
    kv.submit(3, KvOp::Put { key: "y".into(), value: "last".into() });
    kv.tick(&mut cluster);
    kv.give_up();
    // The run goes on, so that the open-ended bar must reach past the ticks after it.
    kv.run_for(&mut cluster, 100);
    kv.check_linearizable(&cluster);
    cluster
}

/// A linearizable history: every operation a bar on its client's row, numbered in the order
/// the checker found, the one given up on open-ended.
#[test]
fn a_linearizable_history_is_drawn_with_its_order() {
    let cluster = kv_run(1);
    let text = cluster.trace_json(None);
    let trace: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(trace["history"]["verdict"], "linearizable");
    let Some(chromium) = chromium() else { return };
    let page = out_dir().join("history.html");
    std::fs::write(&page, harness::page::render(&text).expect("renders")).expect("written");
    let result = selftest(&chromium, &page, "history");
    check(&result, &trace);
    check_history(&result, &trace);
    let numbered = result["history"]["numbered"].as_array().map_or(0, Vec::len);
    assert!(numbered > 10, "most operations are numbered: {numbered}");
    assert_eq!(result["history"]["open"].as_array().map(Vec::len), Some(1), "one given up");
}

/// The stage 6 reference, except that every read answers "absent": a read that misses an
/// acknowledged write (dissertation §6.3), which the linearizability check catches.
struct ForgetfulReads(KvNode);

impl Node for ForgetfulReads {
    type Message = Message;
    type Command = String;

    fn new(id: NodeId, peers: Vec<NodeId>, config: Config, rng: Rng) -> Self {
        ForgetfulReads(KvNode::new(id, peers, config, rng))
    }
    fn id(&self) -> NodeId {
        self.0.id()
    }
    fn tick(&mut self) {
        self.0.tick();
    }
    fn step(&mut self, from: NodeId, message: Message) {
        self.0.step(from, message);
    }
    fn take_messages(&mut self) -> Vec<Envelope<Message>> {
        self.0.take_messages()
    }
    fn status(&self) -> Status {
        self.0.status()
    }
    fn log_entry(&self, index: Index) -> Option<(Term, &String)> {
        self.0.log_entry(index)
    }
}

impl Replicate for ForgetfulReads {
    fn propose(&mut self, command: String) -> Result<(Index, Term), NotLeader> {
        self.0.propose(command)
    }
    fn take_committed(&mut self) -> Vec<Applied<String>> {
        self.0.take_committed()
    }
}

impl Persist for ForgetfulReads {
    type State = PersistentState;
    type Write = StorageWrite;
    fn take_persist(&mut self) -> Vec<StorageWrite> {
        self.0.take_persist()
    }
    fn apply_write(state: &mut PersistentState, write: StorageWrite) {
        KvNode::apply_write(state, write);
    }
    fn restart(
        id: NodeId,
        peers: Vec<NodeId>,
        config: Config,
        rng: Rng,
        state: Self::State,
    ) -> Self {
        ForgetfulReads(KvNode::restart(id, peers, config, rng, state))
    }
}

impl Compact for ForgetfulReads {
    fn compact(&mut self, index: Index, snapshot: Vec<u8>) {
        self.0.compact(index, snapshot);
    }
    fn take_snapshot(&mut self) -> Option<Snapshot> {
        self.0.take_snapshot()
    }
}

impl Service for ForgetfulReads {
    type Op = KvOp;
    type Output = KvOutput;

    fn request(&mut self, request: Request<KvOp>) {
        self.0.request(request);
    }
    fn register(&mut self, nonce: u64) {
        self.0.register(nonce);
    }
    fn take_replies(&mut self) -> Vec<Reply<KvOutput>> {
        let mut replies = self.0.take_replies();
        for reply in &mut replies {
            if let Answer::Done(KvOutput::Value(value)) = &mut reply.answer {
                *value = None;
            }
        }
        replies
    }
}

/// Run by [`a_non_linearizable_history_outlines_what_cannot_be_placed`] in a child process with
/// `RAFT_TRACE` set, as a learner replays a failing stage 6 test. Fails on purpose.
#[test]
#[ignore = "fails on purpose; run by a_non_linearizable_history_outlines_what_cannot_be_placed"]
fn planted_reads_that_miss_writes() {
    let mut cluster = Cluster::<ForgetfulReads>::new(3, 2).with_disks();
    cluster.service_snapshots();
    let mut kv = Clients::new(&cluster, 3, ClientLink::reliable());
    for n in 0..3 {
        kv.submit(1, KvOp::Put { key: "x".into(), value: format!("{n}") });
        kv.submit(2, KvOp::Get { key: "x".into() });
        kv.submit(3, KvOp::Append { key: "y".into(), value: format!("{n};") });
    }
    kv.run_until_idle(&mut cluster, 2_000);
    kv.check_linearizable(&cluster);
}

/// A failing stage 6 run, traced as its report says: the trace file holds the history and the
/// verdict, and the page outlines the read that cannot be placed after the numbered prefix.
#[test]
fn a_non_linearizable_history_outlines_what_cannot_be_placed() {
    let dir = out_dir();
    let trace_path = dir.join("history-failing.json");
    let _ = std::fs::remove_file(&trace_path);
    let output = Command::new(std::env::current_exe().expect("this test binary"))
        .args(["--ignored", "--exact", "planted_reads_that_miss_writes", "--nocapture"])
        .env("RAFT_TRACE", &trace_path)
        .output()
        .expect("the child test runs");
    assert!(!output.status.success(), "the planted bug was not caught");
    let report = String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
    assert!(
        report.contains("draws this history beside the timeline"),
        "the report points at the page:\n{report}"
    );
    let text = std::fs::read_to_string(&trace_path).expect("the failing run wrote its trace");
    let trace: Value = serde_json::from_str(&text).expect("JSON");
    let failure = trace["failure"].as_str().unwrap_or_default();
    assert!(failure.starts_with("Linearizability (dissertation §6.3) violated"), "{failure}");
    let history = &trace["history"];
    assert_eq!(history["verdict"], "not linearizable", "{history}");
    assert_eq!(history["key"], "x", "the key whose reads miss the writes");
    let culprits: Vec<&Value> = history["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .filter(|op| op["cannot_place"] == true)
        .collect();
    assert!(!culprits.is_empty(), "the evidence names operations that cannot be placed");
    assert!(
        culprits.iter().any(|op| op["op"] == "get x" && op["output"] == "absent"),
        "a read of x that saw nothing is among them: {culprits:?}"
    );
    let Some(chromium) = chromium() else { return };
    let page = dir.join("history-failing.html");
    std::fs::write(&page, harness::page::render(&text).expect("renders")).expect("written");
    let result = selftest(&chromium, &page, "history-failing");
    check(&result, &trace);
    check_history(&result, &trace);
    assert_eq!(result["history"]["key"], "x", "the view opens on the failing key: {result}");
}
