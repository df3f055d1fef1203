//! Client connections: Redis commands in, the service's answers out.
//!
//! Each connection is a set of client sessions (§6.3), one per request it may have in flight
//! (up to [`MAX_BATCH`]), each registered through Raft before its first request: the
//! connection sends a registration (with a random nonce, at least 2^56, to route the answer back;
//! a follower forwards it to the leader like a request) and uses the id it gets, the index of
//! the registration's log entry. Then a sequence number per operation, the same for every retry
//! of it, so a request retried after a timeout or a change of leader is applied once. A
//! request answered "session expired" (the session was evicted, §6.3) may or may not have taken
//! effect: the command gets `-TRYAGAIN` saying so, and that session registers again before its
//! next request. Commands are answered in the order they came
//! (pipelining); consecutive `GET`s and `SET`s of a pipeline go to the node together, so one
//! loop turn (one fsync) carries them all.
//!
//! A server that does not lead answers `NotLeader` with a hint: the request is then sent to
//! the hinted leader through the peer connection (a client may use any node); while no leader
//! is known, after a few tries, the client gets `-TRYAGAIN`.

use std::collections::BTreeMap;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use harness::NodeId;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

use crate::resp::{self, Value};
use crate::server::{Info, Input};
use crate::service::{Answer, Call, KvOp, KvOutput, Reply, Request};

/// How long one request may take, retries included, before the client gets an error.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(10);
/// How long to wait for an answer before sending the request again (same sequence number).
pub const RETRY_AFTER: Duration = Duration::from_millis(1000);
/// The most requests of one connection in flight at once. The stage 3 reference sends an
/// AppendEntries to every follower per proposal, so a pipeline of thousands proposed in one
/// loop turn would send thousands of messages carrying up to 64 entries each; measured with
/// 300 pipelined SETs (debug build, busy machine), the leader's turn took long enough for its
/// heartbeats to be late and the followers to start elections.
pub const MAX_BATCH: usize = 16;
/// The most bytes a connection may have sent without completing a command.
pub const MAX_PENDING: usize = resp::MAX_BULK + 1024;

/// Accepts clients on `listener`, one task per connection.
pub async fn serve<M: Send + 'static>(
    me: NodeId,
    listener: TcpListener,
    node: std_mpsc::Sender<Input<M>>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let _ = stream.set_nodelay(true);
        let node = node.clone();
        tokio::spawn(async move {
            let mut connection = Connection::new(me, node);
            connection.run(stream).await;
        });
    }
}

/// One client's connection and session.
struct Connection<M> {
    me: NodeId,
    node: std_mpsc::Sender<Input<M>>,
    /// The connection's sessions: (client id, last sequence number), one per request a
    /// pipeline may have in flight; `None` before it registered, and after it expired.
    sessions: Vec<Option<(u64, u64)>>,
    replies_tx: mpsc::UnboundedSender<Reply>,
    replies: mpsc::UnboundedReceiver<Reply>,
}

/// A parsed command, as the connection runs it.
enum Command {
    /// Answered here, without the node.
    Local(Value),
    /// `QUIT`: `+OK`, then close.
    Quit,
    /// `INFO`.
    Info,
    /// `RAFT.ISOLATE ON|OFF`.
    Isolate(bool),
    /// One operation whose output is the reply (`GET`, `SET`): may go in a batch.
    Single(KvOp),
    /// `DEL`, `EXISTS`: a read per key (and a delete per present key).
    Count { keys: Vec<String>, delete: bool },
    /// `APPEND`: append, then read the length.
    Append { key: String, value: String },
    /// `INCR`: read, then compare-and-set until it holds.
    Incr { key: String },
}

impl<M: Send + 'static> Connection<M> {
    fn new(me: NodeId, node: std_mpsc::Sender<Input<M>>) -> Connection<M> {
        let (replies_tx, replies) = mpsc::unbounded_channel();
        Connection { me, node, sessions: Vec::new(), replies_tx, replies }
    }

    /// Reads commands and answers them in order until the client leaves or breaks the
    /// protocol.
    async fn run(&mut self, mut stream: TcpStream) {
        let mut buffer = Vec::with_capacity(16 * 1024);
        loop {
            match stream.read_buf(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let (commands, used, error) = parse_all(&buffer);
            buffer.drain(..used);
            let mut out = Vec::new();
            let quit = self.answer_all(commands, &mut out).await;
            if let Some(error) = &error {
                Value::Error(error.0.clone()).encode(&mut out);
            }
            if buffer.len() > MAX_PENDING && error.is_none() {
                Value::Error("ERR Protocol error: request too large".into()).encode(&mut out);
                let _ = stream.write_all(&out).await;
                return;
            }
            if stream.write_all(&out).await.is_err() || quit || error.is_some() {
                return;
            }
        }
    }

    /// Answers `commands` in order into `out`; true if one was `QUIT`.
    async fn answer_all(&mut self, commands: Vec<Vec<Vec<u8>>>, out: &mut Vec<u8>) -> bool {
        let mut batch = Vec::new();
        for args in commands {
            if args.is_empty() {
                continue;
            }
            match parse(&args) {
                Command::Single(op) => {
                    batch.push(op);
                    if batch.len() >= MAX_BATCH {
                        self.flush(&mut batch, out).await;
                    }
                }
                other => {
                    self.flush(&mut batch, out).await;
                    match other {
                        Command::Quit => {
                            Value::ok().encode(out);
                            return true;
                        }
                        command => self.answer(command).await.encode(out),
                    }
                }
            }
        }
        self.flush(&mut batch, out).await;
        false
    }

    /// Runs the batched single operations together and encodes their replies in order.
    async fn flush(&mut self, batch: &mut Vec<KvOp>, out: &mut Vec<u8>) {
        if batch.is_empty() {
            return;
        }
        for result in self.call_many(std::mem::take(batch)).await {
            match result {
                Ok(KvOutput::Value(value)) => Value::Bulk(value.map(String::into_bytes)),
                Ok(KvOutput::Ok) => Value::ok(),
                Ok(KvOutput::Cas(set)) => Value::Integer(i64::from(set)),
                Err(error) => error,
            }
            .encode(out);
        }
    }

    async fn answer(&mut self, command: Command) -> Value {
        match command {
            Command::Local(value) => value,
            Command::Info => self.info().await,
            Command::Isolate(isolated) => {
                let _ = self.node.send(Input::Isolate(isolated));
                Value::ok()
            }
            Command::Count { keys, delete } => self.count(keys, delete).await,
            Command::Append { key, value } => {
                if let Err(error) = self.call(KvOp::Append { key: key.clone(), value }).await {
                    return error;
                }
                match self.call(KvOp::Get { key }).await {
                    Ok(KvOutput::Value(value)) => {
                        Value::Integer(value.map_or(0, |v| v.len()) as i64)
                    }
                    Ok(other) => unexpected(other),
                    Err(error) => error,
                }
            }
            Command::Incr { key } => self.incr(key).await,
            Command::Quit | Command::Single(_) => unreachable!("handled by answer_all"),
        }
    }

    /// `DEL` / `EXISTS`: how many of `keys` are present (and deletes them for `DEL`).
    async fn count(&mut self, keys: Vec<String>, delete: bool) -> Value {
        let mut present = 0;
        for key in keys {
            match self.call(KvOp::Get { key: key.clone() }).await {
                Ok(KvOutput::Value(Some(_))) => present += 1,
                Ok(KvOutput::Value(None)) => continue,
                Ok(other) => return unexpected(other),
                Err(error) => return error,
            }
            if delete && let Err(error) = self.call(KvOp::Delete { key }).await {
                return error;
            }
        }
        Value::Integer(present)
    }

    /// `INCR`: read the value, then set it one higher if it is still that value (CAS), again
    /// until the CAS holds. Linearizable: the CAS that holds is the increment.
    async fn incr(&mut self, key: String) -> Value {
        for _ in 0..100 {
            let current = match self.call(KvOp::Get { key: key.clone() }).await {
                Ok(KvOutput::Value(value)) => value,
                Ok(other) => return unexpected(other),
                Err(error) => return error,
            };
            let number = match current.as_deref().unwrap_or("0").parse::<i64>() {
                Ok(number) => number,
                Err(_) => {
                    return Value::Error("ERR value is not an integer or out of range".into());
                }
            };
            let Some(next) = number.checked_add(1) else {
                return Value::Error("ERR increment or decrement would overflow".into());
            };
            let op = KvOp::Cas { key: key.clone(), expected: current, new: next.to_string() };
            match self.call(op).await {
                Ok(KvOutput::Cas(true)) => return Value::Integer(next),
                Ok(KvOutput::Cas(false)) => continue,
                Ok(other) => return unexpected(other),
                Err(error) => return error,
            }
        }
        Value::Error("TRYAGAIN the key changed under every try".into())
    }

    async fn call(&mut self, op: KvOp) -> Result<KvOutput, Value> {
        self.call_many(vec![op]).await.pop().expect("one result per operation")
    }

    /// Sends `ops` to the node together, op `i` as the next request of sub-session `i` (so
    /// every session has one request in flight, as stage 6's sessions expect, §6.3), and waits
    /// for each one's answer: retried with the same sequence number at the hinted leader, or
    /// again after [`RETRY_AFTER`], until [`REQUEST_DEADLINE`].
    async fn call_many(&mut self, ops: Vec<KvOp>) -> Vec<Result<KvOutput, Value>> {
        assert!(ops.len() <= MAX_BATCH, "at most {MAX_BATCH} requests in flight");
        if let Err(error) = self.register_sessions(ops.len()).await {
            return vec![Err(error); ops.len()];
        }
        let mut results: Vec<Option<Result<KvOutput, Value>>> = vec![None; ops.len()];
        let mut waiting: BTreeMap<u64, (usize, u64, KvOp, Option<NodeId>)> = BTreeMap::new();
        for (i, op) in ops.into_iter().enumerate() {
            let (client, seq) = self.next_request(i);
            waiting.insert(client, (i, seq, op, None));
        }
        let deadline = Instant::now() + REQUEST_DEADLINE;
        for (&client, (_, seq, op, target)) in &waiting {
            self.submit(client, *seq, op.clone(), *target);
        }
        while !waiting.is_empty() {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            let wait = RETRY_AFTER.min(deadline - now);
            match tokio::time::timeout(wait, self.replies.recv()).await {
                Ok(Some(reply)) => {
                    let Some(&(i, seq, _, _)) = waiting.get(&reply.client) else { continue };
                    if reply.seq != seq {
                        continue; // an answer to an earlier try of an earlier request
                    }
                    let (_, _, op, _) = waiting.remove(&reply.client).expect("found above");
                    match reply.answer {
                        Answer::Done(output) => results[i] = Some(Ok(output)),
                        Answer::Refused(why) => {
                            results[i] = Some(Err(Value::Error(format!("ERR {why}"))))
                        }
                        Answer::SessionExpired => {
                            self.sessions[i] = None;
                            results[i] = Some(Err(Value::Error(EXPIRED.into())));
                        }
                        Answer::Registered { .. } => {
                            waiting.insert(reply.client, (i, seq, op, target_of(&reply)));
                        }
                        Answer::NotLeader { leader_hint } => {
                            let target = leader_hint.filter(|&leader| leader != self.me);
                            if leader_hint.is_none() {
                                tokio::time::sleep(Duration::from_millis(20)).await;
                            }
                            self.submit(reply.client, seq, op.clone(), target);
                            waiting.insert(reply.client, (i, seq, op, target));
                        }
                    }
                }
                Ok(None) => break,
                Err(_) => {
                    for (&client, (_, seq, op, _)) in &waiting {
                        // No answer: the target may be gone; ask this node again, which
                        // hints the leader it knows now.
                        self.submit(client, *seq, op.clone(), None);
                    }
                }
            }
        }
        let timeout =
            "TRYAGAIN no leader answered in time; the command may or may not have taken effect";
        results
            .into_iter()
            .map(|result| result.unwrap_or_else(|| Err(Value::Error(timeout.into()))))
            .collect()
    }

    /// Registers sub-sessions `0..count` that have no session, all at once (§6.3): each
    /// registration goes through the log, retried with the same nonce at the hinted leader, or
    /// again after [`RETRY_AFTER`], until [`REQUEST_DEADLINE`]. A retried registration may open
    /// two sessions; the other one is never used and is evicted in time.
    async fn register_sessions(&mut self, count: usize) -> Result<(), Value> {
        if self.sessions.len() < count {
            self.sessions.resize(count, None);
        }
        // By nonce: the sub-session, and where its registration went last.
        let mut waiting: BTreeMap<u64, (usize, Option<NodeId>)> = BTreeMap::new();
        for i in (0..count).filter(|&i| self.sessions[i].is_none()) {
            let nonce = random_nonce(self.me);
            waiting.insert(nonce, (i, None));
            self.send(Call::Register { nonce }, None);
        }
        let deadline = Instant::now() + REQUEST_DEADLINE;
        while !waiting.is_empty() {
            let now = Instant::now();
            if now >= deadline {
                return Err(Value::Error(
                    "TRYAGAIN no leader registered this client in time".into(),
                ));
            }
            match tokio::time::timeout(RETRY_AFTER.min(deadline - now), self.replies.recv()).await {
                Ok(Some(reply)) => {
                    let Some(&(i, _)) = waiting.get(&reply.client) else { continue };
                    match reply.answer {
                        Answer::Registered { client_id } if reply.seq == 0 => {
                            waiting.remove(&reply.client);
                            self.sessions[i] = Some((client_id, 0));
                        }
                        Answer::NotLeader { leader_hint } if reply.seq == 0 => {
                            let target = target_of(&reply);
                            if leader_hint.is_none() {
                                tokio::time::sleep(Duration::from_millis(20)).await;
                            }
                            waiting.insert(reply.client, (i, target));
                            self.send(Call::Register { nonce: reply.client }, target);
                        }
                        _ => continue, // an answer to an earlier request
                    }
                }
                Ok(None) => return Err(Value::Error("ERR the node is stopping".into())),
                Err(_) => {
                    for &nonce in waiting.keys() {
                        self.send(Call::Register { nonce }, None);
                    }
                }
            }
        }
        Ok(())
    }

    /// The client id and next sequence number of sub-session `i` (registered).
    fn next_request(&mut self, i: usize) -> (u64, u64) {
        let session = self.sessions[i].as_mut().expect("registered before its requests");
        session.1 += 1;
        *session
    }

    fn submit(&self, client: u64, seq: u64, op: KvOp, target: Option<NodeId>) {
        self.send(Call::Request(Request { client, seq, op }), target);
    }

    fn send(&self, call: Call, target: Option<NodeId>) {
        let reply = self.replies_tx.clone();
        let _ = self.node.send(Input::Client { request: call, target, reply });
    }

    async fn info(&self) -> Value {
        let (tx, rx) = oneshot::channel();
        let _ = self.node.send(Input::Info(tx));
        match rx.await {
            Ok(info) => Value::Bulk(Some(info_text(&info).into_bytes())),
            Err(_) => Value::Error("ERR the node is stopping".into()),
        }
    }
}

/// The error of a command whose session expired (§6.3).
const EXPIRED: &str = "TRYAGAIN session expired; the command may or may not have taken effect (the connection \
     registers again)";

/// Where an answer "not leader" says to try next: the hinted leader, unless it is this node.
fn target_of(reply: &Reply) -> Option<NodeId> {
    match reply.answer {
        Answer::NotLeader { leader_hint } => leader_hint,
        _ => None,
    }
}

fn unexpected(output: KvOutput) -> Value {
    Value::Error(format!("ERR unexpected answer from the service: {output:?}"))
}

/// Every whole command in `buffer`, the bytes they took, and a protocol error that stopped
/// the parse, if any.
fn parse_all(buffer: &[u8]) -> (Vec<Vec<Vec<u8>>>, usize, Option<resp::ProtocolError>) {
    let (mut commands, mut used) = (Vec::new(), 0);
    loop {
        match resp::parse_command(&buffer[used..]) {
            Ok(Some((args, length))) => {
                commands.push(args);
                used += length;
            }
            Ok(None) => return (commands, used, None),
            Err(error) => return (commands, buffer.len(), Some(error)),
        }
    }
}

/// The `INFO` text: a `# Server` section for tools, `# Raft`, then `# Loop` (where the
/// node's loop spent its time since the process started).
pub fn info_text(info: &Info) -> String {
    let leader = info.leader.map_or("none".to_string(), |leader| leader.to_string());
    let c = &info.counters;
    format!(
        "# Server\r\nredis_version:7.0.0\r\nredis_mode:raft\r\n\r\n# Raft\r\nid:{}\r\nrole:{}\r\n\
         term:{}\r\nleader:{}\r\ncommit_index:{}\r\napplied_index:{}\r\nlast_log_index:{}\r\n\
         snapshot_index:{}\r\nlog_length:{}\r\nfsyncs:{}\r\nwrite_turns:{}\r\nisolated:{}\r\n\
         \r\n# Loop\r\nturns:{}\r\nlongest_turn_ms:{}\r\nnode_ms:{}\r\ndisk_ms:{}\r\nout_ms:{}\r\n\
         messages_sent:{}\r\nmessages_coalesced:{}\r\nroutes:{}\r\n",
        info.id,
        info.role,
        info.term,
        leader,
        info.commit_index,
        info.applied,
        info.last_log_index,
        info.snapshot_index,
        info.last_log_index - info.snapshot_index,
        info.fsyncs,
        info.write_turns,
        u8::from(info.isolated),
        c.turns,
        c.longest.as_millis(),
        c.node.as_millis(),
        c.disk.as_millis(),
        c.out.as_millis(),
        c.sent,
        c.coalesced,
        info.routes,
    )
}

/// A registration's nonce no other connection of the cluster uses: the node id in the top byte
/// (so at least 2^56, never a log index, so never a client id), then time and a counter mixed
/// (nonces need not be guessable or ordered, only distinct).
fn random_nonce(me: NodeId) -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as u64);
    let count = COUNT.fetch_add(1, Ordering::Relaxed);
    let mut z = nanos ^ count.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(std::process::id());
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (me << 56) | ((z ^ (z >> 31)) >> 8)
}

/// The command `args` name, with Redis's error for a wrong one.
fn parse(args: &[Vec<u8>]) -> Command {
    let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
    let arity_error = || {
        Command::Local(Value::Error(format!("ERR wrong number of arguments for '{name}' command")))
    };
    let text = |arg: &Vec<u8>| String::from_utf8(arg.clone()).ok();
    let n = args.len();
    let strings: Option<Vec<String>> = args[1..].iter().map(text).collect();
    let Some(strings) = strings else {
        return Command::Local(Value::Error(
            "ERR this store keeps UTF-8 text; an argument is not".into(),
        ));
    };
    match name.as_str() {
        "ping" if n == 1 => Command::Local(Value::Simple("PONG".into())),
        "ping" if n == 2 => Command::Local(Value::Bulk(Some(args[1].clone()))),
        "echo" if n == 2 => Command::Local(Value::Bulk(Some(args[1].clone()))),
        "get" if n == 2 => Command::Single(KvOp::Get { key: strings[0].clone() }),
        "set" if n == 3 => {
            Command::Single(KvOp::Put { key: strings[0].clone(), value: strings[1].clone() })
        }
        "set" if n > 3 => Command::Local(Value::Error("ERR syntax error".into())),
        "del" if n >= 2 => Command::Count { keys: strings, delete: true },
        "exists" if n >= 2 => Command::Count { keys: strings, delete: false },
        "append" if n == 3 => {
            Command::Append { key: strings[0].clone(), value: strings[1].clone() }
        }
        "incr" if n == 2 => Command::Incr { key: strings[0].clone() },
        "config" if n >= 2 && strings[0].eq_ignore_ascii_case("get") => {
            Command::Local(Value::Array(vec![]))
        }
        "command" => Command::Local(Value::Array(vec![])),
        "client" if n == 3 && strings[0].eq_ignore_ascii_case("setname") => {
            Command::Local(Value::ok())
        }
        "quit" => Command::Quit,
        "info" => Command::Info,
        "raft.isolate" if n == 2 && strings[0].eq_ignore_ascii_case("on") => Command::Isolate(true),
        "raft.isolate" if n == 2 && strings[0].eq_ignore_ascii_case("off") => {
            Command::Isolate(false)
        }
        "ping" | "echo" | "get" | "set" | "del" | "exists" | "append" | "incr" | "config"
        | "client" => arity_error(),
        _ => Command::Local(Value::Error(unknown_command(args))),
    }
}

/// Redis's text for an unknown command: `ERR unknown command 'foo', with args beginning
/// with: 'a' 'b' `.
fn unknown_command(args: &[Vec<u8>]) -> String {
    let shown = |arg: &Vec<u8>| String::from_utf8_lossy(&arg[..arg.len().min(128)]).into_owned();
    let mut text = format!("ERR unknown command '{}', with args beginning with: ", shown(&args[0]));
    for arg in &args[1..] {
        text.push_str(&format!("'{}' ", shown(arg)));
    }
    text
}
