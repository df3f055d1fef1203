//! Which node the live page runs, and what the harness can do with it.
//!
//! The harness splits a node's abilities into traits ([`crate::node`]): a stage 2 node only
//! elects, stage 3 takes requests, stage 4 survives a restart, stage 5 compacts. A [`Stage`]
//! says which of them the page may use, so that the page offers only what the node can do
//! (no "request" button for an election-only node) and an action the node cannot take is
//! refused with an error instead of failing the run.

use crate::cluster::Cluster;
use crate::node::{Compact, Index, Node, NodeId, Persist, Replicate};

/// `Cluster::with_disks` or `compact_every`, done on a fresh cluster.
type Setup<N> = fn(Cluster<N>) -> Cluster<N>;
/// `Cluster::propose` of a command given as text: its index, or why not.
type Propose<N> = fn(&mut Cluster<N>, NodeId, String) -> Result<Index, String>;

/// A node type and its abilities, as the live page uses them.
pub struct Stage<N: Node> {
    /// The stage's number, 2 to 5.
    pub number: u32,
    /// The stage's name, e.g. `snapshots`.
    pub name: String,
    /// True for the learner's own code, false for the reference.
    pub yours: bool,
    setups: Vec<Setup<N>>,
    propose: Option<Propose<N>>,
    restart: Option<fn(&mut Cluster<N>, NodeId)>,
    snapshots: bool,
}

impl<N: Node> Clone for Stage<N> {
    fn clone(&self) -> Self {
        Stage {
            number: self.number,
            name: self.name.clone(),
            yours: self.yours,
            setups: self.setups.clone(),
            propose: self.propose,
            restart: self.restart,
            snapshots: self.snapshots,
        }
    }
}

/// How many applied entries a node's log keeps before the cluster asks it to compact (§7), as
/// in `cargo run -- demo`: small, so that snapshots show within a few requests.
pub const COMPACT_EVERY: u64 = 4;

impl<N: Node> Stage<N> {
    /// Stage `number` (`name`): elections only, until the `with_*` methods add more.
    pub fn new(number: u32, name: &str, yours: bool) -> Self {
        Stage {
            number,
            name: name.to_string(),
            yours,
            setups: Vec::new(),
            propose: None,
            restart: None,
            snapshots: false,
        }
    }

    /// Stage `number` as built into `package` (`env!("CARGO_PKG_NAME")` of the binary that
    /// runs it): the learner's code in the exercise package (`snapshots`), the reference in
    /// the solution package (`snapshots-solution`), which builds the same example file.
    pub fn of_package(number: u32, package: &str) -> Self {
        match package.strip_suffix("-solution") {
            Some(name) => Stage::new(number, name, false),
            None => Stage::new(number, package, true),
        }
    }

    /// `stage 5 snapshots (the reference)` or `(your code)`.
    pub fn title(&self) -> String {
        let whose = if self.yours { "your code" } else { "the reference" };
        format!("stage {} {} ({whose})", self.number, self.name)
    }

    /// The command that runs this stage live: `cargo run -- live --stage 5`.
    pub fn command(&self) -> String {
        let yours = if self.yours { " --yours" } else { "" };
        format!("cargo run -- live --stage {}{yours}", self.number)
    }

    /// A fresh cluster of `nodes` of this stage, set up for what the stage can do.
    pub fn cluster(&self, nodes: usize, seed: u64) -> Cluster<N> {
        let mut cluster = Cluster::<N>::new(nodes, seed);
        cluster.keep_whole_trace();
        for setup in &self.setups {
            cluster = setup(cluster);
        }
        cluster
    }

    /// True if the node takes client requests (stage 3 on).
    pub fn takes_requests(&self) -> bool {
        self.propose.is_some()
    }

    /// True if a crashed node can restart from its disk (stage 4 on).
    pub fn restarts(&self) -> bool {
        self.restart.is_some()
    }

    /// True if the nodes compact their logs into snapshots (stage 5 on).
    pub fn compacts(&self) -> bool {
        self.snapshots
    }

    /// Proposes `command` to `node`, if the stage takes requests.
    pub(crate) fn propose(
        &self,
        cluster: &mut Cluster<N>,
        node: NodeId,
        command: String,
    ) -> Result<Index, String> {
        let propose = self.propose.ok_or_else(|| {
            format!("stage {} nodes take no client requests (stage 3 on do)", self.number)
        })?;
        propose(cluster, node, command)
    }

    /// Restarts `node` from its disk, if the stage persists.
    pub(crate) fn restart(&self, cluster: &mut Cluster<N>, node: NodeId) -> Result<(), String> {
        let restart = self.restart.ok_or_else(|| {
            format!(
                "stage {} nodes keep nothing on disk, so a crashed one stays down (stage 4 on \
                 restart)",
                self.number
            )
        })?;
        restart(cluster, node);
        Ok(())
    }
}

impl<N: Replicate> Stage<N>
where
    N::Command: From<String>,
{
    /// The nodes take client requests (§5.3).
    pub fn with_requests(mut self) -> Self {
        self.propose = Some(|cluster, node, command| {
            cluster.propose(node, N::Command::from(command)).map(|(index, _)| index).map_err(
                |refused| match refused.leader_hint {
                    Some(leader) => format!("n{node} does not lead; it points at n{leader}"),
                    None => format!("n{node} does not lead and knows no leader"),
                },
            )
        });
        self
    }
}

impl<N: Persist + 'static> Stage<N> {
    /// The nodes persist to simulated disks, so a crashed one can restart (§5.1).
    pub fn with_disks(mut self) -> Self {
        self.setups.push(Cluster::with_disks);
        self.restart = Some(Cluster::restart);
        self
    }
}

impl<N: Compact + Persist + 'static> Stage<N> {
    /// Every node compacts its log every [`COMPACT_EVERY`] applied entries (§7), so a server
    /// that was away catches up with an InstallSnapshot.
    pub fn with_snapshots(mut self) -> Self {
        self.setups.push(|mut cluster| {
            cluster.compact_every(COMPACT_EVERY);
            cluster
        });
        self.snapshots = true;
        self
    }
}
