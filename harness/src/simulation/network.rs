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
use crate::trace::Sent;

/// How messages travel: every message is delayed, and may be lost, duplicated or held back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkConfig {
    /// The fewest ticks a message takes. With 0, a message may arrive in the tick it was sent:
    /// the tick goes on delivering until nothing more is due (within
    /// `Budgets::deliveries_per_tick`).
    pub min_delay: u64,
    /// The most ticks a message takes, unless held back for reordering.
    pub max_delay: u64,
    /// The probability that a message is lost.
    pub loss: f64,
    /// The probability that a message is delivered twice (each copy with its own delay).
    pub duplicate: f64,
    /// The probability that a message is held back extra ticks (1 to
    /// [`max_hold_back`](NetworkConfig::max_hold_back)), so that messages sent after it
    /// overtake it.
    pub reorder: f64,
    /// The longest hold-back, in ticks; `None` (what [`reliable`](NetworkConfig::reliable) and
    /// [`unreliable`](NetworkConfig::unreliable) set): `4 * max_delay`. The classic lab's "long
    /// reordering" holds replies back for up to about 80 typical delays.
    #[serde(default)]
    pub max_hold_back: Option<u64>,
}

impl NetworkConfig {
    /// Nothing lost, duplicated or held back; delays of 1 to 3 ticks (so still some reordering).
    pub fn reliable() -> Self {
        NetworkConfig {
            min_delay: 1,
            max_delay: 3,
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            max_hold_back: None,
        }
    }

    /// The classic lab's unreliable network: 10% lost, 5% duplicated, 10% held back, delays of
    /// 1 to 5 ticks.
    pub fn unreliable() -> Self {
        NetworkConfig {
            min_delay: 1,
            max_delay: 5,
            loss: 0.1,
            duplicate: 0.05,
            reorder: 0.1,
            max_hold_back: None,
        }
    }
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig::reliable()
    }
}

/// One line, e.g. `delay 1..=3, loss 10.0%, duplicate 5.0%, reorder 10.0%`, and the
/// hold-back if it is set (`, held back up to 200`).
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
        )?;
        match self.max_hold_back {
            Some(ticks) => write!(f, ", held back up to {ticks}"),
            None => Ok(()),
        }
    }
}

/// Extra loss and delay for some messages only: the classic lab's "long reordering" delays
/// replies while heartbeats arrive on time (§5.5: a late reply must be harmless). Drawn from
/// the network's own stream, after the [`NetworkConfig`]'s own draws, and only for matching
/// messages, so a run without faults draws exactly what it always drew.
pub struct MessageFault<M> {
    /// A name for the report, the trace, and a message the fault drops (`Drop` reason).
    pub name: &'static str,
    /// Which messages it applies to.
    pub matches: fn(&M) -> bool,
    /// The probability that a matching message is lost, on top of `NetworkConfig::loss`.
    pub loss: f64,
    /// Extra ticks of delay for a matching message: uniform in `low..=high`.
    pub extra_delay: (u64, u64),
}

impl<M> Clone for MessageFault<M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M> Copy for MessageFault<M> {}

impl<M> fmt::Debug for MessageFault<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageFault({self})")
    }
}

/// `replies: loss 5.0%, extra delay 20..=200`.
impl<M> fmt::Display for MessageFault<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (low, high) = self.extra_delay;
        write!(f, "{}: loss {:.1}%, extra delay {low}..={high}", self.name, self.loss * 100.0)
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
pub struct InFlight<M> {
    /// The sender.
    pub from: NodeId,
    /// The receiver.
    pub to: NodeId,
    /// The receiver's life when the message was sent: a message to a node that crashed
    /// since is lost with the node's volatile state.
    pub life: u64,
    /// The message, shared with the trace records that show its summary (a duplicate's two
    /// copies share it too).
    pub message: Rc<Sent<M>>,
    /// Its kind, as the cluster's statistics number it.
    pub(crate) kind: usize,
}

impl<M> Clone for InFlight<M> {
    fn clone(&self) -> Self {
        let InFlight { from, to, life, ref message, kind } = *self;
        InFlight { from, to, life, message: message.clone(), kind }
    }
}

impl<M: fmt::Debug> fmt::Debug for InFlight<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let InFlight { from, to, life, message, kind } = self;
        let message = message.message();
        write!(
            f,
            "InFlight {{ from: {from}, to: {to}, life: {life}, message: {message:?}, kind: {kind} }}"
        )
    }
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
    /// Dropped at random by the [`MessageFault`] of this name.
    Faulted {
        /// The fault's name.
        fault: &'static str,
    },
}

/// Messages in flight, keyed by delivery tick; within a tick, in the order they were sent.
#[derive(Debug)]
pub struct Network<M> {
    /// The current settings.
    pub config: NetworkConfig,
    /// Which links are open.
    pub links: Links,
    /// Extra loss and delay for matching messages, in the order they were set.
    pub faults: Vec<MessageFault<M>>,
    rng: Rng,
    queue: BTreeMap<u64, Vec<InFlight<M>>>,
    in_flight: usize,
    /// Emptied batches, reused for later ticks ([`Network::recycle`]).
    spare: Vec<Vec<InFlight<M>>>,
}

impl<M> Network<M> {
    /// An empty network of `size` nodes drawing from `rng`.
    pub fn new(size: usize, config: NetworkConfig, rng: Rng) -> Self {
        let (links, faults, queue) = (Links::new(size), Vec::new(), BTreeMap::new());
        Network { config, links, faults, rng, queue, in_flight: 0, spare: Vec::new() }
    }

    /// Hands a message sent at tick `now` to the network, which decides its fate.
    pub fn send(&mut self, now: u64, message: InFlight<M>) -> Fate {
        if !self.links.is_open(message.from, message.to) {
            return Fate::Cut;
        }
        if self.rng.chance(self.config.loss) {
            return Fate::Lost;
        }
        let faults = self.matching(message.message.message());
        for fault in &faults {
            if self.rng.chance(fault.loss) {
                return Fate::Faulted { fault: fault.name };
            }
        }
        let at = now + self.draw_delay() + self.draw_extra(&faults);
        if self.rng.chance(self.config.duplicate) {
            let again = now + self.draw_delay() + self.draw_extra(&faults);
            self.enqueue(again, message.clone());
            self.enqueue(at, message);
            return Fate::Duplicated { at, again };
        }
        self.enqueue(at, message);
        Fate::Queued { at }
    }

    fn draw_delay(&mut self) -> u64 {
        let low = self.config.min_delay;
        let high = self.config.max_delay.max(low);
        let mut delay = self.rng.range(low, high + 1);
        if self.rng.chance(self.config.reorder) {
            let longest = self.config.max_hold_back.unwrap_or(4 * high).max(1);
            delay += self.rng.range(1, longest + 1);
        }
        delay
    }

    /// The faults that apply to `message` (none, without a draw, when none is set).
    fn matching(&self, message: &M) -> Vec<MessageFault<M>> {
        if self.faults.is_empty() {
            return Vec::new();
        }
        self.faults.iter().filter(|fault| (fault.matches)(message)).copied().collect()
    }

    /// The extra delay of the matching `faults`, one draw each.
    fn draw_extra(&mut self, faults: &[MessageFault<M>]) -> u64 {
        let draws = faults.iter().map(|fault| (fault.extra_delay.0, fault.extra_delay.1));
        draws.map(|(low, high)| self.rng.range(low, high.max(low) + 1)).sum()
    }

    fn enqueue(&mut self, at: u64, message: InFlight<M>) {
        let spare = &mut self.spare;
        self.queue.entry(at).or_insert_with(|| spare.pop().unwrap_or_default()).push(message);
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
                self.recycle(batch);
            }
        }
        self.in_flight -= due.len();
        due
    }

    /// Hands back a batch [`Network::take_due`] returned, emptied, to hold a later tick's
    /// messages without allocating.
    pub fn recycle(&mut self, mut batch: Vec<InFlight<M>>) {
        batch.clear();
        if self.spare.len() < 64 {
            self.spare.push(batch);
        }
    }

    /// How many messages are in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }
}
