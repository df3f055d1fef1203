//! The live page's protocol, without a browser: a run is its seed and its recorded actions
//! (replayed, they give the same trace bytes), time travel computes the same run again, what
//! the page sends that the cluster cannot do is refused with an error, a broken rule stops
//! the clock, and the HTTP server answers, refuses, and ends when the page stops polling.
//!
//! The nodes are the toy of `tests/common` (node 1 leads term 1 forever), which is enough: the
//! protocol is about the harness's operations, not about Raft.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::{Correct, LOG_MISMATCH, Toy};
use harness::live::action::{format_actions, parse_actions};
use harness::live::session::command_words;
use harness::live::{Action, Args, Ended, Options, Session, Stage};
use pretty_assertions::assert_eq;
use serde_json::Value;

fn toy_stage() -> Stage<Correct> {
    Stage::new(4, "toy", false).with_requests().with_disks()
}

/// A run with one of each action: crash, request, partition, heal, restart, loss.
fn clicked_run(seed: u64) -> Session<Correct> {
    let mut session = Session::new(toy_stage(), seed);
    let at = |session: &mut Session<Correct>, tick: u64, action: Action| {
        while session.cluster().now() < tick {
            session.tick();
        }
        session.act(action).unwrap_or_else(|e| panic!("the action is refused: {e}"));
    };
    at(&mut session, 10, Action::Request { node: 1, command: "v1".into() });
    at(&mut session, 20, Action::Crash { node: 3 });
    at(&mut session, 20, Action::Request { node: 1, command: "v2".into() });
    at(&mut session, 35, Action::Partition { groups: vec![vec![1, 2, 4], vec![3, 5]] });
    at(&mut session, 40, Action::Network { loss_percent: 30, min_delay: 1, max_delay: 6 });
    at(&mut session, 50, Action::Restart { node: 3 });
    at(&mut session, 60, Action::Heal);
    at(&mut session, 61, Action::Isolate { node: 5 });
    at(&mut session, 70, Action::Connect { node: 5 });
    for _ in 0..30 {
        session.tick();
    }
    session
}

/// Seed + actions is the run: replaying the recorded actions, also through their text form
/// (the replay command's `--actions`), gives the same trace, byte for byte.
#[test]
fn replaying_the_recorded_actions_gives_the_same_trace_bytes() {
    let run = clicked_run(7);
    let (trace, now) = (run.trace_json(), run.cluster().now());
    assert_eq!(run.actions().len(), 9);
    assert!(trace.contains("\"crash\"") && trace.contains("partition"), "the actions are traced");
    let replayed = Session::replay(toy_stage(), 7, run.actions().to_vec(), now);
    assert_eq!(replayed.trace_json(), trace, "the replay differs from the run");
    let text = format_actions(run.actions());
    let parsed = parse_actions(&text).expect("the recorded text reads back");
    let replayed = Session::replay(toy_stage(), 7, parsed, now);
    assert_eq!(replayed.trace_json(), trace, "the replay of the text form differs");
    let other_seed = Session::replay(toy_stage(), 8, run.actions().to_vec(), now);
    assert_ne!(other_seed.trace_json(), trace, "the seed matters");
}

/// Travelling back computes the same run up to there; going on from there without a new
/// action replays the same future; a new action drops the old future.
#[test]
fn time_travel_is_a_replay_from_the_seed() {
    let mut run = clicked_run(3);
    let end = run.cluster().now();
    let whole = run.trace_json();
    run.travel(45);
    assert_eq!(run.cluster().now(), 45);
    let upto = Session::replay(toy_stage(), 3, run.actions().to_vec(), 45);
    assert_eq!(run.trace_json(), upto.trace_json(), "the state after travelling back");
    assert_eq!(run.furthest(), end, "the slider still reaches the end");
    while run.cluster().now() < end {
        run.tick();
    }
    assert_eq!(run.trace_json(), whole, "the same future, replayed");
    run.travel(30);
    run.act(Action::Heal).expect("a heal at tick 30");
    let kept: Vec<String> = run.actions().iter().map(ToString::to_string).collect();
    assert_eq!(
        kept,
        ["@10 request 1 v1", "@20 crash 3", "@20 request 1 v2", "@30 heal"],
        "the actions after tick 30 are dropped, the new one recorded"
    );
    assert_eq!(run.furthest(), 30);
}

/// Whatever the page sends that the cluster cannot do is refused with an error, and changes
/// and records nothing.
#[test]
fn impossible_actions_are_refused_with_an_error() {
    let mut run = Session::new(toy_stage(), 1);
    let refusals = [
        (Action::Crash { node: 9 }, "there is no server n9: the servers are n1 to n5"),
        (Action::Crash { node: 0 }, "there is no server n0"),
        (Action::Restart { node: 2 }, "n2 is up: crash it first"),
        (Action::Partition { groups: vec![vec![1, 2], vec![2, 3]] }, "n2 is in two groups"),
        (Action::Partition { groups: vec![vec![1, 2, 3, 4, 5]] }, "needs two groups"),
        (Action::Network { loss_percent: 101, min_delay: 1, max_delay: 3 }, "loss is 0 to 100"),
        (Action::Network { loss_percent: 0, min_delay: 5, max_delay: 2 }, "delays 1 <= low"),
        (Action::Request { node: 1, command: "two words".into() }, "must be 1 to 40 letters"),
    ];
    for (action, expected) in refusals {
        let text = action.to_string();
        let error = run.act(action).expect_err(&text);
        assert!(error.contains(expected), "{text}: {error:?} does not say {expected:?}");
    }
    run.act(Action::Crash { node: 2 }).expect("a crash");
    let again = run.act(Action::Crash { node: 2 }).expect_err("crashing a crashed server");
    assert_eq!(again, "n2 is already down");
    let refused = run.act(Action::Request { node: 2, command: "v1".into() });
    assert_eq!(refused, Err("n2 is down: it cannot take a request".to_string()));
    assert_eq!(run.actions().len(), 1, "only the crash is recorded");
    let mut elections_only = Session::new(Stage::<Correct>::new(2, "toy", false), 1);
    let error = elections_only.act(Action::Request { node: 1, command: "v1".into() });
    assert!(error.unwrap_err().contains("take no client requests (stage 3 on do)"));
    elections_only.act(Action::Crash { node: 1 }).expect("a crash");
    let error = elections_only.act(Action::Restart { node: 1 }).unwrap_err();
    assert!(error.contains("keep nothing on disk"), "{error}");
}

/// A broken rule stops the clock and is kept as the run's end: no tick or action after it,
/// the trace carries it, and a replay breaks the same rule at the same event.
#[test]
fn a_broken_rule_stops_the_clock() {
    let stage =
        Stage::<Toy<LOG_MISMATCH>>::new(4, "broken toy", false).with_requests().with_disks();
    let mut run = Session::new(stage.clone(), 7);
    let mut round = 0;
    while run.failure().is_none() && round < 100 {
        round += 1;
        for _ in 0..10 {
            run.tick();
        }
        let _ = run.act(Action::Request { node: 1, command: format!("x{round}") });
    }
    let why = run.failure().expect("the planted mismatch is caught").to_string();
    assert!(why.starts_with("Log Matching (§5.3)"), "{why}");
    let now = run.cluster().now();
    assert!(!run.tick(), "the clock stopped");
    assert_eq!(run.cluster().now(), now);
    let refused = run.act(Action::Heal).unwrap_err();
    assert!(refused.starts_with("the run stopped at a broken rule (Log Matching"), "{refused}");
    let trace: Value = serde_json::from_str(&run.trace_json()).expect("JSON");
    assert_eq!(trace["failure"], why.as_str());
    let update = run.update(0, 0, 0);
    assert_eq!(update["failure"], why.as_str(), "the page is told, and stops its clock");
    // The failing event's log change is there (the checks saw it before the logbook): n2's
    // entry that differs from the leader's, which the grid and the trace page must show.
    let last = trace["logs"].as_array().and_then(|logs| logs.last()).cloned().expect("logs");
    assert_eq!(last["node"], 2, "the failing node's log change comes last: {last}");
    assert_eq!(update["logs"].as_array().and_then(|l| l.last()), Some(&last));
    let replayed = Session::replay(stage, 7, run.actions().to_vec(), now);
    assert_eq!(replayed.trace_json(), run.trace_json(), "the failure replays");
}

/// One HTTP exchange with the live server: status and body.
fn http(address: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).expect("the server listens");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("a timeout");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("the request is sent");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("the server answers");
    let status = answer[9..12].parse().expect("a status code");
    let body = answer.split_once("\r\n\r\n").map(|(_, body)| body.to_string()).unwrap_or_default();
    (status, body)
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The server end to end, over a bare socket: the page, a poll, steps, actions, errors for
/// bad input, "save" and its replay command (same bytes), and the end when polls stop.
#[test]
fn the_server_answers_refuses_saves_and_stops_when_the_page_is_gone() {
    let dir = std::env::temp_dir().join(format!("raft-live-test-{}", std::process::id()));
    let options = Options {
        seed: 11,
        paused: true,
        open: false,
        heartbeat: Duration::from_millis(800),
        first_contact: Some(Duration::from_secs(60)),
        save_dir: dir.clone(),
        ..Options::default()
    };
    let (send, receive) = std::sync::mpsc::channel();
    let server = std::thread::spawn(move || {
        harness::live::serve(toy_stage(), &options, |address| send.send(address).expect("sent"))
    });
    let address = receive.recv_timeout(Duration::from_secs(10)).expect("the server starts");
    assert!(address.ip().is_loopback() && address.port() != 0, "{address}");

    let (status, page) = http(address, "GET", "/", "");
    assert_eq!(status, 200);
    assert!(page.contains("<script>") && !page.contains("src="), "one page, nothing fetched");
    let (status, update) = http(address, "GET", "/update", "");
    assert_eq!(status, 200);
    let update = json(&update);
    assert_eq!((update["tick"].as_u64(), update["running"].as_bool()), (Some(0), Some(false)));
    assert_eq!(update["nodes"].as_array().map(Vec::len), Some(5));

    let bad = [
        ("{", "not JSON"),
        (r#"{"do":"toggle","node":9}"#, "there is no server n9"),
        (r#"{"do":"toggle"}"#, "missing field `node`"),
        (r#"{"do":"explode"}"#, "unknown `do`: `explode`"),
        (r#"{"do":"step","ticks":5000}"#, "1 to 1000 ticks"),
        (r#"{"do":"speed","ticks_per_second":0}"#, "0.5 to 100"),
    ];
    for (body, expected) in bad {
        let (status, answer) = http(address, "POST", "/input", body);
        let error = json(&answer)["error"].as_str().unwrap_or_default().to_string();
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(error.contains(expected), "{body}: {error:?} does not say {expected:?}");
    }
    assert_eq!(http(address, "GET", "/nothing", "").0, 404);

    let input = |body: &str| {
        let (status, answer) = http(address, "POST", "/input", body);
        assert_eq!(status, 200, "{body}: {answer}");
        json(&answer)["ok"].clone()
    };
    input(r#"{"do":"step","ticks":30}"#);
    assert_eq!(input(r#"{"do":"request"}"#), "request 1 v1 at tick 30");
    assert_eq!(input(r#"{"do":"toggle","node":2}"#), "crash 2 at tick 30");
    input(r#"{"do":"step","ticks":20}"#);
    assert_eq!(input(r#"{"do":"toggle","node":2}"#), "restart 2 at tick 50");
    input(r#"{"do":"partition","groups":[[1,2,3],[4,5]]}"#);
    input(r#"{"do":"step","ticks":25}"#);
    let (_, update) = http(address, "GET", "/update?generation=0&events=0&logs=0", "");
    let update = json(&update);
    assert_eq!(update["tick"], 75);
    let actions: Vec<&str> =
        update["actions"].as_array().expect("actions").iter().filter_map(Value::as_str).collect();
    assert_eq!(
        actions,
        ["@30 request 1 v1", "@30 crash 2", "@50 restart 2", "@50 partition 1 2 3 | 4 5"]
    );
    let events = update["events"].as_array().expect("events").len();
    assert!(events > 50, "the events so far: {events}");
    let (_, later) = http(address, "GET", &format!("/update?generation=0&events={events}"), "");
    assert_eq!(json(&later)["events"].as_array().map(Vec::len), Some(0), "nothing new");

    let saved = input(r#"{"do":"save"}"#);
    let trace_path = saved["trace"].as_str().expect("the trace's path");
    let saved_trace = std::fs::read_to_string(trace_path).expect("the saved trace");
    assert!(std::fs::read_to_string(saved["page"].as_str().expect("a page")).is_ok());
    let replay = saved["replay"].as_str().expect("a replay command");
    let prefix = "cargo run -- live --stage 4 ";
    assert!(replay.starts_with(prefix), "{replay}");
    let args = command_words(&replay[prefix.len()..]);
    let args = Args::parse(&args).unwrap_or_else(|e| panic!("the replay command reads: {e}"));
    assert_eq!(args.until, Some(75));
    let replayed = Session::replay(toy_stage(), args.options.seed, args.actions, 75);
    assert!(replayed.trace_json() == saved_trace, "the replay command gives other bytes");

    // The page stops polling: the server ends by itself, within the heartbeat and a little.
    let stopped = Instant::now();
    let ended = server.join().expect("the server thread").expect("it served");
    assert_eq!(ended, Ended::PageClosed);
    assert!(stopped.elapsed() < Duration::from_secs(5), "ended after {:?}", stopped.elapsed());
    assert!(TcpStream::connect(address).is_err(), "nothing listens any more");
    let _ = std::fs::remove_dir_all(dir);
}

/// A request that names this machine by another name is refused (a page elsewhere must not
/// drive the run).
#[test]
fn the_server_answers_loopback_names_only() {
    let options = Options {
        open: false,
        paused: true,
        heartbeat: Duration::from_millis(300),
        first_contact: Some(Duration::from_secs(3)),
        ..Options::default()
    };
    let (send, receive) = std::sync::mpsc::channel();
    let server = std::thread::spawn(move || {
        harness::live::serve(toy_stage(), &options, |address| send.send(address).expect("sent"))
    });
    let address = receive.recv_timeout(Duration::from_secs(10)).expect("the server starts");
    let mut stream = TcpStream::connect(address).expect("connects");
    stream.write_all(b"GET /update HTTP/1.1\r\nHost: evil.example:80\r\n\r\n").expect("sent");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("an answer");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("answers 127.0.0.1 only"), "{answer}");
    assert_eq!(server.join().expect("joined").expect("served"), Ended::NoPage);
}
