//! What the page may ask for: [`Input`]s, as JSON, and the [`Action`]s among them that change
//! the run, recorded with their tick so that seed + actions replay it exactly.
//!
//! Two kinds of input, kept apart on purpose:
//!
//! - **controls** (play, pause, speed, step, travel, save) change when the run is computed or
//!   what is written, never what happens in it: they are not recorded;
//! - **actions** (crash, restart, request, isolate, connect, partition, heal, network) are
//!   harness operations on the cluster: each is recorded as `@tick action`, and a replay
//!   applies it at the same tick, after that tick's events, in the same order.
//!
//! The recorded form is text, one action after another, e.g.
//! `@41 crash 3; @60 request 1 v1; @75 partition 1 2 | 3 4 5; @90 heal`, so that the replay
//! command a person copies from the page is readable, and [`parse_actions`] reads it back.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::node::NodeId;

/// What the page sends, as JSON with a verb in `do`: a [`Control`] or an [`Action`].
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// Changes when the run is computed, or writes it.
    Control(Control),
    /// Changes the run.
    Act(Action),
}

/// An input that changes when the run is computed, or writes it, never what happens in it:
/// `{"do": "pause"}`. Unknown fields are refused, so a misspelt field is an error the page
/// shows, not an input silently half-read.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case", deny_unknown_fields)]
pub enum Control {
    /// Run the clock.
    Play,
    /// Stop the clock.
    Pause,
    /// Ticks per second of wall time while playing (0.5 to 100).
    Speed {
        /// The new pace.
        ticks_per_second: f64,
    },
    /// Run `ticks` ticks now (1 if absent, at most 1,000), whether playing or not.
    Step {
        /// How many.
        ticks: Option<u64>,
    },
    /// Go back (or forward, within what was computed) to the end of tick `tick`: the run is
    /// computed again from its seed and recorded actions, so it is the same run up to there.
    Travel {
        /// The tick to stand at.
        tick: u64,
    },
    /// Write the trace (and its trace page) and answer with the replay command.
    Save,
    /// Crash a server, or restart it if it is down: what a click on a server does.
    Toggle {
        /// The server.
        node: NodeId,
    },
    /// A client request (`command`, else the next of `v1`, `v2`, ...) to `node`, else to the
    /// leader.
    Request {
        /// The server to send it to; absent: the leader.
        node: Option<NodeId>,
        /// The command; absent: the next `vN`.
        command: Option<String>,
    },
}

/// The verbs of [`Control`], then of [`Action`], as the page writes them.
pub const CONTROLS: [&str; 8] =
    ["play", "pause", "speed", "step", "travel", "save", "toggle", "request"];
/// The verbs of [`Action`] (`request` as an action names its server and command).
pub const ACTIONS: [&str; 8] =
    ["crash", "restart", "isolate", "connect", "partition", "heal", "network", "request"];

/// A harness operation that changes the run: recorded, and replayed at the same tick.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// The server crashes: volatile state and the messages on their way to it are lost.
    Crash {
        /// The server.
        node: NodeId,
    },
    /// The crashed server restarts from what its disk holds (stage 4 on).
    Restart {
        /// The server.
        node: NodeId,
    },
    /// A client hands `command` to `node` (stage 3 on); a server that does not lead refuses
    /// it, which the trace shows.
    Request {
        /// The server.
        node: NodeId,
        /// The command: no spaces and no `;`, so that the replay command can carry it.
        command: String,
    },
    /// Every link to and from the server is cut.
    Isolate {
        /// The server.
        node: NodeId,
    },
    /// The server's links to every connected server are open again.
    Connect {
        /// The server.
        node: NodeId,
    },
    /// Servers talk only within their group.
    Partition {
        /// The groups.
        groups: Vec<Vec<NodeId>>,
    },
    /// Every link works again.
    Heal,
    /// Messages are lost with probability `loss_percent`% and take `min_delay..=max_delay`
    /// ticks (the default network: 0%, 1..=3).
    Network {
        /// Percent of messages lost, 0 to 100.
        loss_percent: u32,
        /// The fewest ticks a message takes, at least 1.
        min_delay: u64,
        /// The most ticks a message takes, at least `min_delay`, at most 100.
        max_delay: u64,
    },
}

/// An action and the tick it happened at: it is applied after that tick's events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Recorded {
    /// `Cluster::now()` when it happened.
    pub tick: u64,
    /// What happened.
    pub action: Action,
}

/// Reads one input from the page's JSON, or says what is wrong with it.
pub fn parse_input(json: &str) -> Result<Input, String> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(|error| {
        format!("not JSON ({error}): expected {{\"do\": \"toggle\", \"node\": 3}}")
    })?;
    let verb = value.get("do").and_then(serde_json::Value::as_str).map(str::to_string).ok_or(
        "no `do` field: an input is JSON with a verb, e.g. {\"do\": \"toggle\", \"node\": 3}",
    )?;
    let verb = verb.as_str();
    let wrong = |error: serde_json::Error| format!("`{verb}`: {error}");
    // A request with a server and a command is an action in full; without, the page's
    // "request to the leader".
    let full_request =
        verb == "request" && value.get("command").is_some() && value.get("node").is_some();
    if ACTIONS.contains(&verb) && (verb != "request" || full_request) {
        serde_json::from_value(value).map(Input::Act).map_err(wrong)
    } else if CONTROLS.contains(&verb) {
        serde_json::from_value(value).map(Input::Control).map_err(wrong)
    } else {
        Err(format!(
            "unknown `do`: `{verb}`; known: {}, {}",
            CONTROLS.join(", "),
            ACTIONS[..7].join(", ")
        ))
    }
}

/// `crash 3`, `request 1 v1`, `partition 1 2 | 3 4 5`, `network loss 10 delay 1..3`.
impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Crash { node } => write!(f, "crash {node}"),
            Action::Restart { node } => write!(f, "restart {node}"),
            Action::Request { node, command } => write!(f, "request {node} {command}"),
            Action::Isolate { node } => write!(f, "isolate {node}"),
            Action::Connect { node } => write!(f, "connect {node}"),
            Action::Partition { groups } => {
                let groups: Vec<String> = groups
                    .iter()
                    .map(|g| g.iter().map(|id| id.to_string()).collect::<Vec<_>>().join(" "))
                    .collect();
                write!(f, "partition {}", groups.join(" | "))
            }
            Action::Heal => write!(f, "heal"),
            Action::Network { loss_percent, min_delay, max_delay } => {
                write!(f, "network loss {loss_percent} delay {min_delay}..{max_delay}")
            }
        }
    }
}

/// `@41 crash 3`.
impl fmt::Display for Recorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{} {}", self.tick, self.action)
    }
}

/// The recorded actions as the replay command carries them: `@41 crash 3; @60 heal`.
pub fn format_actions(actions: &[Recorded]) -> String {
    actions.iter().map(Recorded::to_string).collect::<Vec<_>>().join("; ")
}

/// Reads what [`format_actions`] wrote; ticks must not go down.
pub fn parse_actions(text: &str) -> Result<Vec<Recorded>, String> {
    let mut actions: Vec<Recorded> = Vec::new();
    for part in text.split(';').map(str::trim).filter(|part| !part.is_empty()) {
        let recorded = parse_recorded(part).map_err(|why| format!("action `{part}`: {why}"))?;
        if let Some(last) = actions.last() {
            if recorded.tick < last.tick {
                return Err(format!(
                    "action `{part}` is at tick {} but the one before it is at {}: actions are \
                     listed in the order they happened",
                    recorded.tick, last.tick
                ));
            }
        }
        actions.push(recorded);
    }
    Ok(actions)
}

fn parse_recorded(text: &str) -> Result<Recorded, String> {
    let mut words = text.split_whitespace();
    let tick = words
        .next()
        .and_then(|word| word.strip_prefix('@'))
        .ok_or("starts with `@tick`")?
        .parse()
        .map_err(|_| "`@tick` takes a number")?;
    let verb = words.next().ok_or("no action after the tick")?;
    let rest: Vec<&str> = words.collect();
    let node = |i: usize| -> Result<NodeId, String> {
        rest.get(i)
            .ok_or(format!("`{verb}` needs a server number"))?
            .parse()
            .map_err(|_| format!("`{verb}` takes a server number"))
    };
    let action = match verb {
        "crash" => Action::Crash { node: node(0)? },
        "restart" => Action::Restart { node: node(0)? },
        "isolate" => Action::Isolate { node: node(0)? },
        "connect" => Action::Connect { node: node(0)? },
        "heal" => Action::Heal,
        "request" => {
            let command = rest.get(1).ok_or("`request` needs a server and a command")?;
            Action::Request { node: node(0)?, command: command.to_string() }
        }
        "partition" => {
            let joined = rest.join(" ");
            let groups = joined
                .split('|')
                .map(|group| {
                    group
                        .split_whitespace()
                        .map(|id| id.parse().map_err(|_| format!("`{id}` is not a server number")))
                        .collect::<Result<Vec<NodeId>, String>>()
                })
                .collect::<Result<Vec<_>, String>>()?;
            Action::Partition { groups }
        }
        "network" => match rest[..] {
            ["loss", loss, "delay", delay] => {
                let (low, high) = delay.split_once("..").ok_or("delay is `low..high`")?;
                let number =
                    |text: &str| text.parse().map_err(|_| format!("`{text}` is not a number"));
                Action::Network {
                    loss_percent: number(loss)? as u32,
                    min_delay: number(low)?,
                    max_delay: number(high)?,
                }
            }
            _ => return Err("`network` reads `network loss P delay LOW..HIGH`".to_string()),
        },
        other => return Err(format!("unknown action `{other}`")),
    };
    Ok(Recorded { tick, action })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_read_back_what_they_write() {
        let actions = vec![
            Recorded { tick: 41, action: Action::Crash { node: 3 } },
            Recorded { tick: 60, action: Action::Request { node: 1, command: "v1".into() } },
            Recorded {
                tick: 75,
                action: Action::Partition { groups: vec![vec![1, 2], vec![3, 4, 5]] },
            },
            Recorded {
                tick: 80,
                action: Action::Network { loss_percent: 30, min_delay: 2, max_delay: 9 },
            },
            Recorded { tick: 90, action: Action::Heal },
            Recorded { tick: 90, action: Action::Restart { node: 3 } },
            Recorded { tick: 91, action: Action::Isolate { node: 2 } },
            Recorded { tick: 92, action: Action::Connect { node: 2 } },
        ];
        let text = format_actions(&actions);
        assert_eq!(
            text,
            "@41 crash 3; @60 request 1 v1; @75 partition 1 2 | 3 4 5; \
             @80 network loss 30 delay 2..9; @90 heal; @90 restart 3; @91 isolate 2; @92 connect 2"
        );
        assert_eq!(parse_actions(&text), Ok(actions));
    }

    #[test]
    fn malformed_actions_are_named() {
        assert!(parse_actions("crash 3").unwrap_err().contains("starts with `@tick`"));
        assert!(parse_actions("@4 explode 3").unwrap_err().contains("unknown action `explode`"));
        assert!(parse_actions("@4 crash x").unwrap_err().contains("takes a server number"));
        assert!(parse_actions("@9 heal; @4 heal").unwrap_err().contains("in the order"));
    }

    #[test]
    fn inputs_are_json_with_a_verb() {
        let toggle = parse_input(r#"{"do":"toggle","node":2}"#);
        assert_eq!(toggle, Ok(Input::Control(Control::Toggle { node: 2 })));
        assert_eq!(parse_input(r#"{"do":"heal"}"#), Ok(Input::Act(Action::Heal)));
        assert_eq!(
            parse_input(r#"{"do":"request"}"#),
            Ok(Input::Control(Control::Request { node: None, command: None }))
        );
        let full = parse_input(r#"{"do":"request","node":1,"command":"v1"}"#);
        assert_eq!(full, Ok(Input::Act(Action::Request { node: 1, command: "v1".into() })));
        assert!(parse_input(r#"{"do":"crash"}"#).unwrap_err().contains("missing field `node`"));
        let extra = parse_input(r#"{"do":"toggle","node":2,"x":1}"#).unwrap_err();
        assert!(extra.contains("unknown field `x`"), "{extra}");
        assert!(parse_input("crash 3").unwrap_err().starts_with("not JSON"));
        assert!(parse_input(r#"{"node":3}"#).unwrap_err().starts_with("no `do` field"));
        assert!(
            parse_input(r#"{"do":"explode"}"#).unwrap_err().contains("unknown `do`: `explode`")
        );
    }
}
