//! The live page's server: plain HTTP/1.1 on 127.0.0.1, a port the OS picks, no framework.
//!
//! The [`Session`] lives on the thread that calls [`serve`] (a cluster is not `Send`); one
//! thread accepts connections and one more per connection reads a request and hands it over a
//! channel, so a slow or silent connection never holds the clock up. Each answer closes its
//! connection (`Connection: close`): the page asks a few times a second, on loopback.
//!
//! The page **polls** (`GET /update`, about 8 times a second) rather than holding an event
//! stream open: every answer is one JSON document, which the protocol tests read with a bare
//! `TcpStream`; nothing has to reconnect after a pause; and the poll is the page's heartbeat:
//! when polls stop for [`Options::heartbeat`] (the tab was closed), the server ends.
//!
//! Routes: `GET /` the page; `GET /update?generation=G&events=K&logs=L` the run since the
//! page's K-th event and L-th log change (everything when G is not the run's generation);
//! `POST /input` one [`Input`] as JSON, answered `200 {"ok": ..}` or
//! `400 {"error": ..}`. Anything else: 404.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::action::{Action, Control, Input, parse_input};
use super::session::Session;
use super::stage::Stage;
use crate::node::Node;

const STYLE: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// The most bytes of a request the server reads (head and body each).
const MAX_REQUEST: usize = 64 * 1024;

/// How the server runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// The run's seed.
    pub seed: u64,
    /// Ticks per second of wall time while playing.
    pub speed: f64,
    /// Start paused (the page's play button starts the clock).
    pub paused: bool,
    /// The port; 0 lets the OS choose.
    pub port: u16,
    /// Open the page in a browser, if one is found.
    pub open: bool,
    /// The server ends when the page has not polled for this long.
    pub heartbeat: Duration,
    /// If set, the server ends when no page has polled at all for this long.
    pub first_contact: Option<Duration>,
    /// Where "save" writes the trace and its page.
    pub save_dir: PathBuf,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seed: 1,
            speed: 10.0,
            paused: false,
            port: 0,
            open: true,
            heartbeat: Duration::from_secs(5),
            first_contact: None,
            save_dir: PathBuf::from("target").join("live"),
        }
    }
}

/// Why the server ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// The page stopped polling (it was closed).
    PageClosed,
    /// No page came within [`Options::first_contact`].
    NoPage,
}

/// A request, read by a connection's thread.
struct Request {
    method: String,
    path: String,
    query: BTreeMap<String, String>,
    body: String,
}

/// An answer: status, content type, body.
struct Response(u16, &'static str, String);

impl Response {
    fn json(status: u16, value: &Value) -> Response {
        Response(status, "application/json", value.to_string())
    }
}

/// The clock and the page's last contact, beside the session.
struct Clock {
    running: bool,
    /// Ticks per second.
    speed: f64,
    next_tick: Instant,
    last_poll: Option<Instant>,
}

/// Serves `stage` live until the page closes; `ready` is told the address first.
pub fn serve<N: Node>(
    stage: Stage<N>,
    options: &Options,
    ready: impl FnOnce(SocketAddr),
) -> io::Result<Ended> {
    let listener = TcpListener::bind(("127.0.0.1", options.port))?;
    let address = listener.local_addr()?;
    let (send, requests) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let acceptor = {
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("live-accept".to_string())
            .spawn(move || accept(&listener, &send, &stop))?
    };
    ready(address);
    let mut session = Session::new(stage, options.seed);
    let ended = run(&mut session, options, &requests);
    // Wake the acceptor so that it sees `stop` and ends.
    stop.store(true, Ordering::SeqCst);
    let _ = TcpStream::connect(address);
    let _ = acceptor.join();
    Ok(ended)
}

/// The session's loop: answer requests, tick at the page's pace, end when the page is gone.
///
/// The wall clock here only paces the ticks for the eye; it never reaches the simulation. A run is
/// fixed by its seed and its actions, each recorded with the tick it came at, so a replay
/// ([`Session::replay`]) gives the same trace bytes whatever the pace was.
fn run<N: Node>(
    session: &mut Session<N>,
    options: &Options,
    requests: &Receiver<(Request, Sender<Response>)>,
) -> Ended {
    let started = Instant::now();
    let mut clock = Clock {
        running: false,
        speed: options.speed.clamp(0.5, 100.0),
        next_tick: started,
        last_poll: None,
    };
    loop {
        let now = Instant::now();
        let wait = if clock.running {
            clock.next_tick.saturating_duration_since(now).min(Duration::from_millis(50))
        } else {
            Duration::from_millis(50)
        };
        match requests.recv_timeout(wait) {
            Ok((request, reply)) => {
                if request.path == "/update" && clock.last_poll.is_none() {
                    // The page's first contact starts the clock, so the first election is
                    // there to be seen.
                    clock.running = !options.paused;
                    clock.next_tick = Instant::now();
                }
                let response = handle(session, &mut clock, options, &request);
                let _ = reply.send(response);
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Ended::PageClosed,
        }
        let now = Instant::now();
        if clock.running && now >= clock.next_tick {
            if !session.tick() {
                clock.running = false;
            }
            let period = Duration::from_secs_f64(1.0 / clock.speed);
            clock.next_tick += period;
            if clock.next_tick + period < now {
                // Behind (a slow machine): skip ahead rather than rush to catch up.
                clock.next_tick = now + period;
            }
        }
        match clock.last_poll {
            Some(last) if last.elapsed() > options.heartbeat => return Ended::PageClosed,
            None if options.first_contact.is_some_and(|limit| started.elapsed() > limit) => {
                return Ended::NoPage;
            }
            _ => {}
        }
    }
}

fn handle<N: Node>(
    session: &mut Session<N>,
    clock: &mut Clock,
    options: &Options,
    request: &Request,
) -> Response {
    match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/") => Response(200, "text/html; charset=utf-8", page()),
        ("GET", "/update") => {
            clock.last_poll = Some(Instant::now());
            let number = |name: &str| request.query.get(name).and_then(|v| v.parse().ok());
            let generation = number("generation").unwrap_or(u64::MAX);
            let events = number("events").unwrap_or(0) as usize;
            let logs = number("logs").unwrap_or(0) as usize;
            let mut update = session.update(generation, events, logs);
            update["running"] = json!(clock.running);
            update["speed"] = json!(clock.speed);
            Response::json(200, &update)
        }
        ("POST", "/input") => match parse_input(&request.body) {
            Ok(input) => match input_to(session, clock, options, input) {
                Ok(answer) => Response::json(200, &json!({ "ok": answer })),
                Err(error) => Response::json(400, &json!({ "error": error })),
            },
            Err(error) => Response::json(400, &json!({ "error": error })),
        },
        _ => Response::json(
            404,
            &json!({ "error": format!("no {} {}", request.method, request.path) }),
        ),
    }
}

/// Carries out one input: `Ok(what happened)` for the page to show, `Err(why not)`.
fn input_to<N: Node>(
    session: &mut Session<N>,
    clock: &mut Clock,
    options: &Options,
    input: Input,
) -> Result<Value, String> {
    let control = match input {
        Input::Act(action) => {
            let text = action.to_string();
            session.act(action)?;
            return Ok(json!(format!("{text} at tick {}", session.cluster().now())));
        }
        Input::Control(control) => control,
    };
    match control {
        Control::Play => {
            if let Some(why) = session.failure() {
                return Err(format!("the run stopped at a broken rule: {why}"));
            }
            clock.running = true;
            clock.next_tick = Instant::now();
            Ok(json!("playing"))
        }
        Control::Pause => {
            clock.running = false;
            Ok(json!("paused"))
        }
        Control::Speed { ticks_per_second } => {
            if !(0.5..=100.0).contains(&ticks_per_second) {
                return Err(format!("speed {ticks_per_second}: 0.5 to 100 ticks per second"));
            }
            clock.speed = ticks_per_second;
            Ok(json!(format!("{ticks_per_second} ticks per second")))
        }
        Control::Step { ticks } => {
            let ticks = ticks.unwrap_or(1);
            if !(1..=1000).contains(&ticks) {
                return Err(format!("step {ticks}: 1 to 1000 ticks at a time"));
            }
            for _ in 0..ticks {
                if !session.tick() {
                    break;
                }
            }
            Ok(json!(format!("tick {}", session.cluster().now())))
        }
        Control::Travel { tick } => {
            clock.running = false;
            session.travel(tick);
            Ok(json!(format!("back at tick {}", session.cluster().now())))
        }
        Control::Save => save(session, &options.save_dir).map_err(|e| format!("save: {e}")),
        Control::Toggle { node } => {
            let action = if (1..=super::session::NODES as u64).contains(&node)
                && !session.cluster().is_up(node)
            {
                Action::Restart { node }
            } else {
                Action::Crash { node }
            };
            let text = action.to_string();
            session.act(action)?;
            Ok(json!(format!("{text} at tick {}", session.cluster().now())))
        }
        Control::Request { node, command } => {
            let node = match node.or_else(|| session.leader()) {
                Some(node) => node,
                None => return Err("no leader yet to send a request to".to_string()),
            };
            let command = match command {
                Some(command) => command,
                None => session.next_command(),
            };
            let text = format!("request {node} {command}");
            session.act(Action::Request { node, command })?;
            Ok(json!(format!("{text} at tick {}", session.cluster().now())))
        }
    }
}

/// Writes the trace and its trace page into `dir`; the paths and the replay command.
fn save<N: Node>(session: &Session<N>, dir: &Path) -> io::Result<Value> {
    std::fs::create_dir_all(dir)?;
    let tick = session.cluster().now();
    let name = format!("live-seed{}-tick{tick}", session.cluster().seed());
    let trace_path = dir.join(format!("{name}.json"));
    let page_path = dir.join(format!("{name}.html"));
    let trace = session.trace_json();
    std::fs::write(&trace_path, &trace)?;
    let page = crate::page::render(&trace).map_err(io::Error::other)?;
    std::fs::write(&page_path, page)?;
    let replay_path = dir.join(format!("{name}-replay.json"));
    Ok(json!({
        "trace": trace_path.display().to_string(),
        "page": page_path.display().to_string(),
        "replay": session.replay_command(&replay_path.display().to_string()),
    }))
}

/// The page: the styles and the script inline, as the trace page has them.
fn page() -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Raft, live</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n\
         <noscript>The live page draws the cluster with JavaScript.</noscript>\n\
         <script>\n{LOGS}</script>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n",
        LOGS = crate::page::LOGS_SCRIPT
    )
}

/// Accepts connections until `stop`, one thread each.
fn accept(listener: &TcpListener, send: &Sender<(Request, Sender<Response>)>, stop: &AtomicBool) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let send = send.clone();
        let _ = std::thread::Builder::new()
            .name("live-connection".to_string())
            .spawn(move || connection(stream, &send));
    }
}

/// Reads one request, waits for the session's answer, writes it, closes.
fn connection(mut stream: TcpStream, send: &Sender<(Request, Sender<Response>)>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let response = match read_request(&stream) {
        Ok(request) => {
            let (reply, answer) = mpsc::channel();
            if send.send((request, reply)).is_err() {
                return;
            }
            match answer.recv_timeout(Duration::from_secs(30)) {
                Ok(response) => response,
                Err(_) => return,
            }
        }
        Err(why) => Response::json(400, &json!({ "error": why })),
    };
    let Response(status, kind, body) = response;
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        _ => "Error",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body.as_bytes()));
    let _ = stream.flush();
}

/// Reads a request's head and body; refuses one not addressed to this machine by name
/// (a page elsewhere that points a name at 127.0.0.1 must not drive the run).
fn read_request(stream: &TcpStream) -> Result<Request, String> {
    let mut reader = BufReader::new(stream.take(2 * MAX_REQUEST as u64));
    let mut line = String::new();
    reader.read_line(&mut line).map_err(|e| format!("cannot read the request: {e}"))?;
    let mut words = line.split_whitespace();
    let (Some(method), Some(target)) = (words.next(), words.next()) else {
        return Err(format!("not an HTTP request line: {line:?}"));
    };
    let (method, target) = (method.to_string(), target.to_string());
    let mut length = 0;
    let mut head = line.len();
    loop {
        let mut header = String::new();
        let read = reader.read_line(&mut header).map_err(|e| format!("cannot read: {e}"))?;
        head += read;
        if read == 0 || header == "\r\n" || header == "\n" {
            break;
        }
        if head > MAX_REQUEST {
            return Err("request head too long".to_string());
        }
        let Some((name, value)) = header.split_once(':') else { continue };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => {
                length = value.parse().map_err(|_| format!("bad Content-Length {value:?}"))?;
            }
            "host" if !(value.starts_with("127.0.0.1") || value.starts_with("localhost")) => {
                return Err(format!("Host {value:?}: this server answers 127.0.0.1 only"));
            }
            _ => {}
        }
    }
    if length > MAX_REQUEST {
        return Err(format!("body of {length} bytes: at most {MAX_REQUEST}"));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).map_err(|e| format!("cannot read the body: {e}"))?;
    let body = String::from_utf8(body).map_err(|_| "the body is not UTF-8".to_string())?;
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let query = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    Ok(Request { method, path: path.to_string(), query, body })
}
