//! `cargo run -- demo`: a cluster of the latest stage's reference (`kv::KvNode`, the key-value
//! service on Raft) and three clients, live in the terminal: roles, terms, logs, commit indexes
//! and each client's last operation as they change, at a pace a person can follow.
//! `--scripted` plays a fixed story unattended (elect, write, crash the leader, partition,
//! heal, read back) and exits; without it, keys (a letter and Enter) drive the cluster. Either
//! way the clients' history is checked for linearizability and the run is written as a trace
//! page at the end ([`harness::page`]), with the history view above the timeline.
//!
//! The cluster is the harness's simulated one, so every check of the course runs after every
//! event, and the run is fixed by its seed; only the pause between frames reads a clock, and it
//! changes nothing in the run.

use std::io::{self, BufRead, Write};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::time::Duration;

use harness::service::clients::{ClientLink, Clients};
use harness::service::kv::{KvOp, KvOutput};
use harness::{Cluster, NodeId, Role};
use kv::{Entry, KvConfig, KvNode};

/// What `cargo run -- demo` was asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Play the scripted story and exit, without reading the keyboard.
    pub scripted: bool,
    /// The run's seed.
    pub seed: u64,
    /// The pause between two frames (one frame per tick); 0 draws only each step's last frame.
    pub frame: Duration,
    /// Where the page goes.
    pub page: PathBuf,
}

/// The keys of the interactive mode.
pub const KEYS: &str = "keys (then Enter): c crash the leader · r restart the crashed · \
    p partition the leader with one follower from the rest · h heal · s the clients write and \
    read · q quit and write the page";

impl Options {
    /// Reads `demo`'s arguments: `--scripted`, `--seed N`, `--frame-ms N`, `--page PATH`.
    pub fn parse(args: &[String]) -> Result<Options, String> {
        let mut options = Options {
            scripted: false,
            seed: 1,
            frame: Duration::from_millis(120),
            page: crate::stages::repo_root().join("target").join("demo.html"),
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value =
                |name: &str| args.next().cloned().ok_or_else(|| format!("`{name}` needs a value"));
            match arg.as_str() {
                "--scripted" => options.scripted = true,
                "--seed" => {
                    options.seed = value("--seed")?.parse().map_err(|_| "--seed takes a number")?
                }
                "--frame-ms" => {
                    let ms: u64 =
                        value("--frame-ms")?.parse().map_err(|_| "--frame-ms takes a number")?;
                    options.frame = Duration::from_millis(ms);
                }
                "--page" => options.page = PathBuf::from(value("--page")?),
                other => return Err(format!("unknown demo option `{other}`")),
            }
        }
        Ok(options)
    }
}

/// The demo's cluster, its clients and what it shows.
struct Demo<'a> {
    cluster: Cluster<KvNode>,
    clients: Clients<KvOp, KvOutput>,
    options: &'a Options,
    out: &'a mut dyn Write,
    caption: String,
    /// Rounds of operations the clients were given so far.
    rounds: u64,
}

/// How many applied entries each node's log keeps before it compacts them into a snapshot.
const COMPACT_EVERY: u64 = 4;
/// How many clients call the service.
const CLIENTS: u64 = 3;

/// Runs the demo, writing frames to `out`; returns the page's path.
pub fn run(options: &Options, out: &mut dyn Write) -> io::Result<PathBuf> {
    let mut cluster = Cluster::<KvNode>::new(5, options.seed).with_disks();
    cluster.service_snapshots();
    cluster.keep_whole_trace();
    for id in cluster.ids() {
        compact_often(&mut cluster, id);
    }
    let seed = options.seed;
    cluster.set_replay(|_| format!("cargo run -- demo --scripted --seed {seed}"));
    let clients = Clients::new(&cluster, CLIENTS as usize, ClientLink::reliable());
    let mut demo = Demo { cluster, clients, options, out, caption: String::new(), rounds: 0 };
    if options.scripted {
        demo.scripted()?;
    } else {
        demo.interactive()?;
    }
    demo.finish()
}

impl Demo<'_> {
    fn scripted(&mut self) -> io::Result<()> {
        self.say(
            "1/7 five followers; the first election timeout to fire starts an election (§5.2)",
        );
        self.until(400, |c| c.majority_leader().is_some())?;
        let leader = self.leader();
        self.say(&format!(
            "2/7 n{leader} leads: three clients register (their sessions: an entry each), then \
             write and read through it; a write is answered once committed (§5.3, dissertation \
             §6)"
        ));
        self.operations();
        self.run(40)?;
        self.say(&format!(
            "3/7 n{leader} crashes: the others time out and elect a new leader (§5.2)"
        ));
        self.operations();
        self.run(3)?;
        self.cluster.crash(leader);
        self.until(400, |c| c.majority_leader().is_some())?;
        self.run(60)?;
        self.say(&format!("4/7 n{leader} restarts from its disk and catches up (§5.1, §5.3)"));
        self.cluster.restart(leader);
        compact_often(&mut self.cluster, leader);
        self.run(40)?;
        let leader = self.leader();
        let buddy = self.cluster.ids().into_iter().find(|&id| id != leader).expect("5 nodes");
        let rest: Vec<NodeId> =
            self.cluster.ids().into_iter().filter(|&id| id != leader && id != buddy).collect();
        self.say(&format!(
            "5/7 partition {{n{leader} n{buddy}}} | the other three: the majority elects its own \
             leader; c1, kept on n{leader}'s side, waits: its write cannot commit there (§5.4.2)"
        ));
        self.cluster.partition(&[&[leader, buddy], &rest]);
        self.clients.restrict(1, &[leader, buddy]);
        self.operations();
        self.until(400, |c| c.leaders().iter().any(|(id, _)| rest.contains(id)))?;
        self.run(60)?;
        self.say("6/7 heal: the old leader steps down, its uncommitted entry is replaced, and c1's retries reach the new leader (§5.3, §6.3)");
        self.cluster.heal();
        self.clients.unrestrict(&self.cluster);
        self.run(100)?;
        self.say("7/7 the clients read every key back; the history is checked for linearizability");
        self.operations();
        let patience = 400;
        for _ in 0..patience {
            if self.clients.all_idle() {
                break;
            }
            self.clients.tick(&mut self.cluster);
            self.frame(false)?;
        }
        self.run(10)?;
        Ok(())
    }

    fn interactive(&mut self) -> io::Result<()> {
        let keys = spawn_key_reader();
        self.say("running: press a key and Enter");
        loop {
            match keys.try_recv() {
                Ok(line) => match line.trim() {
                    "q" => return Ok(()),
                    "c" => match self.cluster.majority_leader() {
                        Some(leader) => {
                            self.cluster.crash(leader);
                            self.say(&format!("crashed the leader n{leader}"));
                        }
                        None => self.say("no leader to crash yet"),
                    },
                    "r" => {
                        let down: Vec<NodeId> = self
                            .cluster
                            .ids()
                            .into_iter()
                            .filter(|&id| !self.cluster.is_up(id))
                            .collect();
                        for &id in &down {
                            self.cluster.restart(id);
                            compact_often(&mut self.cluster, id);
                        }
                        self.say(&format!("restarted {down:?}"));
                    }
                    "p" => {
                        let leader = self.cluster.majority_leader().unwrap_or(1);
                        let buddy = if leader == 1 { 2 } else { 1 };
                        let rest: Vec<NodeId> = self
                            .cluster
                            .ids()
                            .into_iter()
                            .filter(|&id| id != leader && id != buddy)
                            .collect();
                        self.cluster.partition(&[&[leader, buddy], &rest]);
                        self.say(&format!("partitioned {{n{leader} n{buddy}}} from the rest"));
                    }
                    "h" => {
                        self.cluster.heal();
                        self.say("healed the network");
                    }
                    "s" => {
                        self.operations();
                        self.say("each client calls one more write, then a read");
                    }
                    "" => {}
                    other => self.say(&format!("unknown key `{other}`; {KEYS}")),
                },
                Err(TryRecvError::Disconnected) => return Ok(()),
                Err(TryRecvError::Empty) => {}
            }
            self.run(1)?;
        }
    }

    fn finish(mut self) -> io::Result<PathBuf> {
        // What is still waiting has an unknown outcome; then the check (it fails the run with
        // its report if the history is not linearizable) puts the history in the trace.
        self.clients.give_up();
        let operations = self.clients.check_linearizable(&self.cluster);
        let page = harness::page::render(&self.cluster.trace_json(None)).map_err(|error| {
            io::Error::other(format!("the demo's trace does not render: {error}"))
        })?;
        if let Some(dir) = self.options.page.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&self.options.page, page)?;
        writeln!(
            self.out,
            "\ndemo: {} events, {operations} client operations, linearizable; the run as a page: {}",
            self.cluster.trace().count(),
            self.options.page.display()
        )?;
        Ok(self.options.page.clone())
    }

    fn say(&mut self, caption: &str) {
        self.caption = caption.to_string();
    }

    /// Gives each client two more operations: client 1 puts `x`, client 2 appends to `x`,
    /// client 3 appends to `y`; then each reads the key it wrote.
    fn operations(&mut self) {
        self.rounds += 1;
        let n = self.rounds;
        let key = |client: u64| if client == 3 { "y" } else { "x" }.to_string();
        for client in 1..=CLIENTS {
            let write = match client {
                1 => KvOp::Put { key: key(client), value: format!("{n}") },
                _ => KvOp::Append { key: key(client), value: format!("{client}.{n};") },
            };
            self.clients.submit(client, write);
            self.clients.submit(client, KvOp::Get { key: key(client) });
        }
    }

    fn leader(&self) -> NodeId {
        self.cluster
            .majority_leader()
            .or_else(|| self.cluster.leaders().first().map(|l| l.0))
            .unwrap_or(1)
    }

    /// Runs `ticks` ticks (the clients' rounds), one frame each.
    fn run(&mut self, ticks: u64) -> io::Result<()> {
        for _ in 0..ticks {
            self.clients.tick(&mut self.cluster);
            self.frame(false)?;
        }
        self.frame(true)
    }

    /// Runs until `done` holds, at most `max` ticks, one frame each.
    fn until(&mut self, max: u64, done: impl Fn(&Cluster<KvNode>) -> bool) -> io::Result<()> {
        for _ in 0..max {
            if done(&self.cluster) {
                break;
            }
            self.clients.tick(&mut self.cluster);
            self.frame(false)?;
        }
        self.frame(true)
    }

    /// Draws the cluster: every tick when frames are paced, else only the last of a step.
    fn frame(&mut self, last: bool) -> io::Result<()> {
        if self.options.frame.is_zero() && !last {
            return Ok(());
        }
        let text = self.render();
        let clear = if self.options.frame.is_zero() { "\n" } else { "\x1b[2J\x1b[H" };
        write!(self.out, "{clear}{text}")?;
        self.out.flush()?;
        if !self.options.frame.is_zero() {
            std::thread::sleep(self.options.frame);
        }
        Ok(())
    }

    fn render(&self) -> String {
        let c = &self.cluster;
        let mut out = format!(
            "Raft demo: 5 servers of kv::KvNode (stage 6 reference), 3 clients, seed {}, tick {}\n{}\n\n",
            self.options.seed,
            c.now(),
            self.caption
        );
        out.push_str("  node  state     role       term  vote  commit  log (index·term command, ✓ committed)\n");
        for id in c.ids() {
            let status = c.status(id);
            let state = if !c.is_up(id) {
                "CRASHED"
            } else if !c.is_connected(id) {
                "cut off"
            } else {
                "up"
            };
            let role = if !c.is_up(id) {
                "-".to_string()
            } else {
                match status.role {
                    Role::Leader => "LEADER".to_string(),
                    Role::Candidate => "candidate".to_string(),
                    Role::Follower => "follower".to_string(),
                }
            };
            let vote = status.voted_for.map_or("-".to_string(), |v| format!("n{v}"));
            let log = if c.is_up(id) { log_line(c, id) } else { "(on disk)".to_string() };
            out.push_str(&format!(
                "  n{id:<4} {state:<9} {role:<10} {:<5} {vote:<5} {:<7} {log}\n",
                status.term, status.commit_index
            ));
        }
        out.push_str("\n  client  last operation [call tick, return tick] → answer\n");
        for client in 1..=CLIENTS {
            out.push_str(&format!("  c{client:<6} {}\n", self.last_operation(client)));
        }
        out.push_str(&format!("\n{} events so far. ", c.trace().count()));
        if !self.options.scripted {
            out.push_str(KEYS);
        }
        out.push('\n');
        out
    }
}

impl Demo<'_> {
    /// Client `client`'s latest operation: `put x=2 [40, 46] → ok`, or what it waits for.
    fn last_operation(&self, client: u64) -> String {
        let records = self.clients.history().records();
        let Some(record) = records.iter().rev().find(|record| record.client == client) else {
            return "-".to_string();
        };
        let tries = match record.attempts {
            1 => String::new(),
            n => format!(" ({n} attempts)"),
        };
        match &record.returned {
            Some((at, output)) => {
                format!("{} [{}, {at}] → {output}{tries}", record.op, record.call)
            }
            None if self.clients.is_idle(client) => {
                format!("{} [{}, ?] → unknown", record.op, record.call)
            }
            None => format!("{} [{}, …] waiting{tries}", record.op, record.call),
        }
    }
}

/// Sets node `id` to compact its log every [`COMPACT_EVERY`] applied entries (§7), so that a
/// server that was away catches up with an InstallSnapshot (again after each restart).
fn compact_often(cluster: &mut Cluster<KvNode>, id: NodeId) {
    let config = KvConfig { snapshot_every: COMPACT_EVERY, ..KvConfig::default() };
    cluster.with_node(id, |node| node.config = config);
}

/// A node's last entries: `4·t2 c1#2 put x=2✓`.
fn log_line(c: &Cluster<KvNode>, id: NodeId) -> String {
    use harness::Node as _;
    let status = c.status(id);
    let node = c.node(id);
    let last = status.last_log_index;
    let first = last.saturating_sub(5) + 1;
    let first = first.max(status.snapshot_index + 1);
    let mut parts = Vec::new();
    if status.snapshot_index > 0 {
        parts.push(format!("[snapshot through {}]", status.snapshot_index));
    }
    if first > status.snapshot_index + 1 {
        parts.push(format!("…{} more", first - status.snapshot_index - 1));
    }
    for index in first..=last {
        if let Some((term, command)) = node.log_entry(index) {
            let mark = if index <= status.commit_index { "✓" } else { "" };
            let entry = match Entry::decode(command) {
                Entry::Noop => "no-op".to_string(),
                Entry::Register => format!("register c{index}"),
                Entry::Request(request) => {
                    format!("c{}#{} {}", request.client, request.seq, request.op)
                }
            };
            parts.push(format!("{index}·t{term} {entry}{mark}"));
        }
    }
    if parts.is_empty() { "(empty)".to_string() } else { parts.join(" ") }
}

/// Lines typed on stdin, read on a thread so that the cluster keeps running meanwhile.
fn spawn_key_reader() -> Receiver<String> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}
