//! Raft live: the paper's visualization (servers on a ring, timers, messages in flight, logs),
//! driven by a real node in the simulated cluster, in a browser (`cargo run -- live`).
//!
//! # Where things are
//!
//! - [`stage`]: which node runs, and what the page may do with it (requests from stage 3,
//!   restarts from stage 4, snapshots at stage 5);
//! - [`session`]: one run: the [`Cluster`](crate::Cluster), every action recorded with its
//!   tick, time travel, and what a poll sends;
//! - [`action`]: what the page may send, as JSON, and the recorded actions as text;
//! - [`server`]: plain HTTP on 127.0.0.1 (the port the OS picks), the page polling;
//! - `page.js`, `page.css`: the page, one script and one style sheet, no build step.
//!
//! # What stays deterministic
//!
//! The simulation is the harness's deterministic cluster; the server only decides *when* it
//! ticks (the page's speed, pause and step), which changes nothing in the run. Everything that
//! does change the run (a crash, a request, a partition) is an [`Action`] recorded at the tick
//! it happened. So seed + actions is the run: [`Session::replay`] computes it again, event for
//! event, and the page's "save" prints the command that does it from the shell:
//!
//! ```text
//! cargo run -- live --stage 5 --seed 1 --actions '@41 crash 3; @60 request 1 v1' --until 90 \
//!     --trace target/live/replay.json
//! ```
//!
//! which writes the same trace file, byte for byte, as the saved one.
//!
//! # The protocol
//!
//! `GET /update?generation=G&events=K&logs=L` answers JSON: the run's settings (`seed`,
//! `title`, `config`, what the stage `can` do), `tick`, `running`, `speed`, `failure` (the
//! broken rule, or null), the trace's events from index K on (`events`, as the trace file
//! has them) and log changes from L on (`logs`), each server's state at the latest tick
//! (`nodes`: up, connected, role, term, vote, indexes), the network settings and the recorded
//! `actions`. A page that is behind a time travel (its G is old) gets everything from 0.
//!
//! `POST /input` takes one JSON object with a verb in `do`: the controls `play`, `pause`,
//! `speed {ticks_per_second}`, `step {ticks?}`, `travel {tick}`, `save`, `toggle {node}`
//! (crash, or restart if down), `request {node?, command?}` (to the leader unless named); the
//! actions `crash`, `restart`, `isolate`, `connect` `{node}`, `partition {groups}`, `heal`,
//! `network {loss_percent, min_delay, max_delay}`. The answer is `{"ok": what happened}` or,
//! for anything malformed or impossible (an unknown server, crashing a crashed one, a
//! request to a stage 2 node), `400 {"error": why}`, which the page shows; never a panic.

pub mod action;
pub mod server;
pub mod session;
pub mod stage;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

pub use action::{Action, Recorded};
pub use server::{Ended, Options, serve};
pub use session::Session;
pub use stage::Stage;

use crate::node::Node;

/// What `live` was asked for: serve the page, or compute a recorded run into a trace file.
#[derive(Clone, Debug)]
pub struct Args {
    /// The server's settings (the seed among them).
    pub options: Options,
    /// Replay these actions (with `--until` and `--trace`).
    pub actions: Vec<Recorded>,
    /// Compute the run up to this tick.
    pub until: Option<u64>,
    /// Write the run's trace here instead of serving.
    pub trace: Option<PathBuf>,
}

/// The options `live` takes after `--stage` and `--yours`.
pub const USAGE: &str = "\
  --seed N          the run's seed (default 1)
  --speed N         ticks per second (default 10; the page changes it)
  --paused          start paused
  --port N          listen on 127.0.0.1:N (default: a port the OS picks)
  --no-open         do not open a browser, only print the address
  --heartbeat-ms N  stop when the page has not polled for N ms (default 5000)
  --wait-ms N       stop if no page comes within N ms (default: wait)
  --actions TEXT    with --until and --trace: the recorded actions to replay
  --until N         compute the run to the end of tick N
  --trace PATH      write the run's trace there and exit (no server)";

impl Args {
    /// Reads the options of [`USAGE`].
    pub fn parse(args: &[String]) -> Result<Args, String> {
        let mut parsed =
            Args { options: Options::default(), actions: Vec::new(), until: None, trace: None };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value =
                |name: &str| args.next().cloned().ok_or_else(|| format!("`{name}` needs a value"));
            let options = &mut parsed.options;
            match arg.as_str() {
                "--seed" => options.seed = number(&value("--seed")?, "--seed")?,
                "--speed" => {
                    options.speed = value("--speed")?
                        .parse()
                        .ok()
                        .filter(|s| (0.5..=100.0).contains(s))
                        .ok_or("--speed takes 0.5 to 100 ticks per second")?;
                }
                "--port" => options.port = number(&value("--port")?, "--port")? as u16,
                "--paused" => options.paused = true,
                "--no-open" => options.open = false,
                "--heartbeat-ms" => {
                    let ms = number(&value("--heartbeat-ms")?, "--heartbeat-ms")?;
                    options.heartbeat = Duration::from_millis(ms);
                }
                "--wait-ms" => {
                    let ms = number(&value("--wait-ms")?, "--wait-ms")?;
                    options.first_contact = Some(Duration::from_millis(ms));
                }
                "--actions" => parsed.actions = action::parse_actions(&value("--actions")?)?,
                "--until" => parsed.until = Some(number(&value("--until")?, "--until")?),
                "--trace" => parsed.trace = Some(PathBuf::from(value("--trace")?)),
                other => return Err(format!("unknown live option `{other}`")),
            }
        }
        if parsed.trace.is_some() != parsed.until.is_some() {
            return Err("--trace and --until go together: the run up to tick N, written to \
                        PATH"
                .to_string());
        }
        if !parsed.actions.is_empty() && parsed.trace.is_none() {
            return Err("--actions replays a saved run: give --until and --trace too".to_string());
        }
        Ok(parsed)
    }
}

fn number(text: &str, name: &str) -> Result<u64, String> {
    text.parse().map_err(|_| format!("{name} takes a number, not `{text}`"))
}

/// `live` for `stage`: serves the page until it closes, or, with `--trace`, writes a
/// recorded run's trace and exits.
pub fn main<N: Node>(stage: Stage<N>, args: &[String]) -> ExitCode {
    let args = match Args::parse(args) {
        Ok(args) => args,
        Err(error) => {
            eprintln!("error: {error}\n\noptions:\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if let (Some(path), Some(until)) = (&args.trace, args.until) {
        return replay_to_file(stage, &args, path, until);
    }
    let title = stage.title();
    let opened = args.options.open;
    let served = serve(stage, &args.options, |address| {
        let url = format!("http://{address}/");
        println!("Raft live: five servers of {title}, seed {}", args.options.seed);
        println!("  open {url}");
        println!("  (the server stops when the page is closed, or on Ctrl-C)");
        if opened {
            open_browser(&url);
        }
    });
    match served {
        Ok(_) => {
            // Not `println!`: whoever read the address may have closed the pipe by now.
            let _ = writeln!(std::io::stdout(), "the page closed: stopped.");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: cannot serve the live page: {error}");
            ExitCode::FAILURE
        }
    }
}

fn replay_to_file<N: Node>(
    stage: Stage<N>,
    args: &Args,
    path: &std::path::Path,
    until: u64,
) -> ExitCode {
    let session = Session::replay(stage, args.options.seed, args.actions.clone(), until);
    let written = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(path, session.trace_json()));
    if let Err(error) = written {
        eprintln!("error: cannot write {}: {error}", path.display());
        return ExitCode::FAILURE;
    }
    let events = session.cluster().trace().count();
    println!("replayed to tick {until}: {events} events, trace in {}", path.display());
    if let Some(why) = session.failure() {
        println!("the run broke a rule: {why}");
    }
    ExitCode::SUCCESS
}

/// Opens `url` with the desktop's opener, where there is a desktop; a failure is silent (the
/// address is printed anyway).
fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        Some("open")
    } else if std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some()
    {
        Some("xdg-open")
    } else {
        None
    };
    if let Some(opener) = opener {
        let _ = std::process::Command::new(opener)
            .arg(url)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
    }
}
