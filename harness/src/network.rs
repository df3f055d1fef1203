//! The simulated network: links that can be cut, and messages in flight with a delivery tick.
//!
//! Raft assumes an asynchronous network that may delay, drop, duplicate and reorder messages
//! (§5.1: "RPCs ... may be lost"; §5.5: a lost or repeated RPC is harmless). This module makes
//! each of those happen on purpose, drawn from its own random stream so that the network's
//! choices do not shift the nodes' timers.

use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use crate::node::NodeId;
use crate::rng::Rng;

/// How messages travel: every message is delayed, and may be lost, duplicated or held back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkConfig {
    /// The fewest ticks a message takes (at least 1: nothing arrives in the tick it is sent).
    pub min_delay: u64,
    /// The most ticks a message takes, unless held back for reordering.
    pub max_delay: u64,
    /// The probability that a message is lost.
    pub loss: f64,
    /// The probability that a message is delivered twice (each copy with its own delay).
    pub duplicate: f64,
    /// The probability that a message is held back up to `4 * max_delay` extra ticks, so that
    /// messages sent after it overtake it.
    pub reorder: f64,
}

impl NetworkConfig {
    /// Nothing lost, duplicated or held back; delays of 1 to 3 ticks (so still some reordering).
    pub fn reliable() -> Self {
        NetworkConfig { min_delay: 1, max_delay: 3, loss: 0.0, duplicate: 0.0, reorder: 0.0 }
    }

    /// The classic lab's unreliable network: 10% lost, 5% duplicated, 10% held back, delays of
    /// 1 to 5 ticks.
    pub fn unreliable() -> Self {
        NetworkConfig { min_delay: 1, max_delay: 5, loss: 0.1, duplicate: 0.05, reorder: 0.1 }
    }
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig::reliable()
    }
}

/// One line, e.g. `delay 1..=3, loss 10.0%, duplicate 5.0%, reorder 10.0%`.
impl fmt::Display for NetworkConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "delay {}..={}, loss {:.1}%, duplicate {:.1}%, reorder {:.1}%",
            self.min_delay,
            self.max_delay,
            self.loss * 100.0,
            self.duplicate * 100.0,
            self.reorder * 100.0
        )
    }
}

/// Which directed links are open. Ids are `1..=size`.
#[derive(Clone, Debug)]
pub struct Links {
    size: usize,
    /// `blocked[(from - 1) * size + (to - 1)]`: a flat matrix, so a lookup costs one index.
    blocked: Vec<bool>,
}

impl Links {
    /// All links open.
    pub fn new(size: usize) -> Self {
        Links { size, blocked: vec![false; size * size] }
    }

    fn slot(&self, from: NodeId, to: NodeId) -> usize {
        (from as usize - 1) * self.size + (to as usize - 1)
    }

    /// Can a message from `from` reach `to` now?
    pub fn is_open(&self, from: NodeId, to: NodeId) -> bool {
        !self.blocked[self.slot(from, to)]
    }

    /// Messages from `from` to `to` are dropped (one way).
    pub fn cut(&mut self, from: NodeId, to: NodeId) {
        let slot = self.slot(from, to);
        self.blocked[slot] = true;
    }

    /// Messages from `from` to `to` get through again (one way).
    pub fn open(&mut self, from: NodeId, to: NodeId) {
        let slot = self.slot(from, to);
        self.blocked[slot] = false;
    }

    /// Every link to and from `id` is cut.
    pub fn isolate(&mut self, id: NodeId) {
        for other in 1..=self.size as NodeId {
            if other != id {
                self.cut(id, other);
                self.cut(other, id);
            }
        }
    }

    /// Only nodes of the same group can talk; a node in no group is alone.
    pub fn partition(&mut self, groups: &[&[NodeId]]) {
        let group_of = |id: NodeId| groups.iter().position(|group| group.contains(&id));
        self.heal();
        for from in 1..=self.size as NodeId {
            for to in 1..=self.size as NodeId {
                let apart = match (group_of(from), group_of(to)) {
                    (Some(a), Some(b)) => a != b,
                    _ => from != to,
                };
                if apart {
                    self.cut(from, to);
                }
            }
        }
    }

    /// Every link open again.
    pub fn heal(&mut self) {
        self.blocked.fill(false);
    }

    /// True if any link is cut.
    pub fn any_cut(&self) -> bool {
        self.blocked.contains(&true)
    }
}

/// A message on the wire.
#[derive(Clone, Debug)]
pub struct InFlight<M> {
    /// The sender.
    pub from: NodeId,
    /// The receiver.
    pub to: NodeId,
    /// The receiver's life when the message was sent: a message to a node that crashed
    /// since is lost with the node's volatile state.
    pub life: u64,
    /// The message.
    pub message: M,
    /// Its one-line summary (its `Display`), made once and shared by the trace records.
    pub summary: Rc<str>,
}

/// What the network did with a message handed to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Queued for delivery at this tick.
    Queued {
        /// The delivery tick.
        at: u64,
    },
    /// Queued twice, at these ticks.
    Duplicated {
        /// The first copy's delivery tick.
        at: u64,
        /// The second copy's delivery tick.
        again: u64,
    },
    /// Dropped because the link is cut.
    Cut,
    /// Dropped at random (`loss`).
    Lost,
}

/// Messages in flight, keyed by delivery tick; within a tick, in the order they were sent.
#[derive(Debug)]
pub struct Network<M> {
    /// The current settings.
    pub config: NetworkConfig,
    /// Which links are open.
    pub links: Links,
    rng: Rng,
    queue: BTreeMap<u64, Vec<InFlight<M>>>,
    in_flight: usize,
}

impl<M: Clone> Network<M> {
    /// An empty network of `size` nodes drawing from `rng`.
    pub fn new(size: usize, config: NetworkConfig, rng: Rng) -> Self {
        Network { config, links: Links::new(size), rng, queue: BTreeMap::new(), in_flight: 0 }
    }

    /// Hands a message sent at tick `now` to the network, which decides its fate.
    pub fn send(&mut self, now: u64, message: InFlight<M>) -> Fate {
        if !self.links.is_open(message.from, message.to) {
            return Fate::Cut;
        }
        if self.rng.chance(self.config.loss) {
            return Fate::Lost;
        }
        let at = now + self.draw_delay();
        if self.rng.chance(self.config.duplicate) {
            let again = now + self.draw_delay();
            self.enqueue(again, message.clone());
            self.enqueue(at, message);
            return Fate::Duplicated { at, again };
        }
        self.enqueue(at, message);
        Fate::Queued { at }
    }

    fn draw_delay(&mut self) -> u64 {
        let low = self.config.min_delay.max(1);
        let high = self.config.max_delay.max(low);
        let mut delay = self.rng.range(low, high + 1);
        if self.rng.chance(self.config.reorder) {
            delay += self.rng.range(1, 4 * high + 1);
        }
        delay
    }

    fn enqueue(&mut self, at: u64, message: InFlight<M>) {
        self.queue.entry(at).or_default().push(message);
        self.in_flight += 1;
    }

    /// Removes and returns the messages due at tick `now` (or earlier), in send order.
    pub fn take_due(&mut self, now: u64) -> Vec<InFlight<M>> {
        let mut due = Vec::new();
        while let Some(entry) = self.queue.first_entry() {
            if *entry.key() > now {
                break;
            }
            let mut batch = entry.remove();
            if due.is_empty() {
                due = batch;
            } else {
                due.append(&mut batch);
            }
        }
        self.in_flight -= due.len();
        due
    }

    /// How many messages are in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }
}
