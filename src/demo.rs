//! `cargo run -- demo`: a cluster of the latest stage's reference (`snapshots::RaftNode`), live in
//! the terminal: roles, terms, logs and commit indexes as they change, at a pace a person can
//! follow. `--scripted` plays a fixed story unattended (elect, replicate, crash the leader,
//! partition, heal, propose) and exits; without it, keys (a letter and Enter) drive the
//! cluster. Either way the run is written as a trace page at the end ([`harness::page`]).
//!
//! The cluster is the harness's simulated one, so every check of the course runs after every
//! event, and the run is fixed by its seed; only the pause between frames reads a clock, and it
//! changes nothing in the run.

use std::io::{self, BufRead, Write};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::time::Duration;

use harness::{Cluster, NodeId, Role};
use snapshots::RaftNode;

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
    p partition the leader with one follower from the rest · h heal · s propose a command · \
    q quit and write the page";

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

/// The demo's cluster and what it shows.
struct Demo<'a> {
    cluster: Cluster<RaftNode>,
    options: &'a Options,
    out: &'a mut dyn Write,
    caption: String,
    proposed: u64,
}

/// How many applied entries each node's log keeps before it compacts them into a snapshot.
const COMPACT_EVERY: u64 = 4;

/// Runs the demo, writing frames to `out`; returns the page's path.
pub fn run(options: &Options, out: &mut dyn Write) -> io::Result<PathBuf> {
    let mut cluster = Cluster::<RaftNode>::new(5, options.seed).with_disks();
    // Every node compacts its log every 4 applied entries (§7), so a server that was away
    // catches up with an InstallSnapshot.
    cluster.compact_every(COMPACT_EVERY);
    cluster.keep_whole_trace();
    let seed = options.seed;
    cluster.set_replay(|_| format!("cargo run -- demo --scripted --seed {seed}"));
    let mut demo = Demo { cluster, options, out, caption: String::new(), proposed: 0 };
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
        self.say(&format!("2/7 n{leader} leads: it replicates three commands (§5.3)"));
        for _ in 0..3 {
            self.propose(leader);
        }
        self.run(40)?;
        self.say(&format!(
            "3/7 n{leader} crashes: the others time out and elect a new leader (§5.2)"
        ));
        self.cluster.crash(leader);
        self.until(400, |c| c.majority_leader().is_some())?;
        let second = self.leader();
        self.propose(second);
        self.run(30)?;
        self.say(&format!("4/7 n{leader} restarts from its disk and catches up (§5.1, §5.3)"));
        self.cluster.restart(leader);
        self.run(40)?;
        let leader = self.leader();
        let buddy = self.cluster.ids().into_iter().find(|&id| id != leader).expect("5 nodes");
        let rest: Vec<NodeId> =
            self.cluster.ids().into_iter().filter(|&id| id != leader && id != buddy).collect();
        self.say(&format!(
            "5/7 partition {{n{leader} n{buddy}}} | the other three: the majority elects its own \
             leader; n{leader}'s new entry cannot commit (§5.4.2)"
        ));
        self.cluster.partition(&[&[leader, buddy], &rest]);
        self.propose(leader);
        self.until(400, |c| c.leaders().iter().any(|(id, _)| rest.contains(id)))?;
        let majority = self.leader_among(&rest);
        self.propose(majority);
        self.run(40)?;
        self.say("6/7 heal: the old leader sees a higher term, steps down, and its uncommitted entry is replaced (§5.3)");
        self.cluster.heal();
        self.run(60)?;
        self.say("7/7 one more command, committed on all five");
        let leader = self.leader();
        self.propose(leader);
        self.until(200, |c| {
            c.ids().iter().all(|&id| c.status(id).commit_index >= c.status(leader).last_log_index)
        })?;
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
                    "s" => match self.cluster.majority_leader() {
                        Some(leader) => {
                            self.propose(leader);
                            self.say(&format!("proposed to n{leader}"));
                        }
                        None => self.say("no leader reachable by a majority: nothing proposed"),
                    },
                    "" => {}
                    other => self.say(&format!("unknown key `{other}`; {KEYS}")),
                },
                Err(TryRecvError::Disconnected) => return Ok(()),
                Err(TryRecvError::Empty) => {}
            }
            self.run(1)?;
        }
    }

    fn finish(self) -> io::Result<PathBuf> {
        let page = harness::page::render(&self.cluster.trace_json(None)).map_err(|error| {
            io::Error::other(format!("the demo's trace does not render: {error}"))
        })?;
        if let Some(dir) = self.options.page.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&self.options.page, page)?;
        writeln!(
            self.out,
            "\ndemo: {} events; the run as a page: {}",
            self.cluster.trace().count(),
            self.options.page.display()
        )?;
        Ok(self.options.page.clone())
    }

    fn say(&mut self, caption: &str) {
        self.caption = caption.to_string();
    }

    fn propose(&mut self, id: NodeId) {
        self.proposed += 1;
        let command = format!("x{}", self.proposed);
        let _ = self.cluster.propose(id, command);
    }

    fn leader(&self) -> NodeId {
        self.cluster
            .majority_leader()
            .or_else(|| self.cluster.leaders().first().map(|l| l.0))
            .unwrap_or(1)
    }

    fn leader_among(&self, ids: &[NodeId]) -> NodeId {
        let leaders = self.cluster.leaders();
        leaders.iter().rev().find(|(id, _)| ids.contains(id)).map(|l| l.0).unwrap_or(ids[0])
    }

    /// Runs `ticks` ticks, one frame each.
    fn run(&mut self, ticks: u64) -> io::Result<()> {
        for _ in 0..ticks {
            self.cluster.tick();
            self.frame(false)?;
        }
        self.frame(true)
    }

    /// Runs until `done` holds, at most `max` ticks, one frame each.
    fn until(&mut self, max: u64, done: impl Fn(&Cluster<RaftNode>) -> bool) -> io::Result<()> {
        for _ in 0..max {
            if done(&self.cluster) {
                break;
            }
            self.cluster.tick();
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
            "Raft demo: 5 servers of snapshots::RaftNode (stage 5 reference), seed {}, tick {}\n{}\n\n",
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
        out.push_str(&format!("\n{} events so far. ", c.trace().count()));
        if !self.options.scripted {
            out.push_str(KEYS);
        }
        out.push('\n');
        out
    }
}

/// A node's last entries: `4·t2 "x3"✓`.
fn log_line(c: &Cluster<RaftNode>, id: NodeId) -> String {
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
            parts.push(format!("{index}·t{term} {command:?}{mark}"));
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
