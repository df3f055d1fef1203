//! Peers over TCP: length-delimited frames (a 4-byte big-endian length, then the frame),
//! one connection per direction between two nodes.
//!
//! Each node dials every other node and only *sends* on that connection; it only *reads* the
//! connections others dial to it. So a connection has one writer and one reader, and a node
//! that restarts redials on its own. A dialer that cannot connect retries with a backoff from
//! 50 ms doubling to 1 s; what the node sends to a peer that is down is dropped (Raft resends:
//! heartbeats, AppendEntries retries, §5.3), never queued without bound.
//!
//! A frame over [`MAX_FRAME`] or that does not decode closes that connection with a log line;
//! the node keeps running (a peer never crashes a node).

use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use bytes::BytesMut;
use futures_core::Stream;
use harness::NodeId;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_util::codec::{Encoder, FramedRead, LengthDelimitedCodec};

use crate::encoding;
use crate::service::{Call, Reply};

/// The largest frame a node reads from a peer: 64 MiB (a snapshot travels in one message).
pub const MAX_FRAME: usize = 64 * 1024 * 1024;

/// How many frames may wait for one peer's connection; more are dropped.
pub const QUEUE: usize = 4096;

/// What travels between two nodes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Frame<M> {
    /// The first frame on a connection: who dialed.
    Hello {
        /// The dialer's id.
        from: NodeId,
    },
    /// A Raft message.
    Raft(M),
    /// A client's request (or registration) a follower passes to the leader.
    Forward(Call),
    /// The leader's answer to a forwarded request.
    ForwardReply(Reply),
}

/// The codec of every peer connection.
fn codec() -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder().max_frame_length(MAX_FRAME).new_codec()
}

/// Dials `address` (peer `to`) and sends it the frames of `queue`, reconnecting with backoff.
/// Ends when the queue's sender is dropped.
pub async fn dial<M: Serialize + Send + 'static>(
    me: NodeId,
    to: NodeId,
    address: SocketAddr,
    mut queue: mpsc::Receiver<Frame<M>>,
) {
    let mut backoff = Duration::from_millis(50);
    let mut logged_down = false;
    loop {
        match TcpStream::connect(address).await {
            Ok(stream) => {
                if logged_down {
                    eprintln!("[n{me}] connected to n{to} at {address}");
                }
                logged_down = false;
                backoff = Duration::from_millis(50);
                let _ = stream.set_nodelay(true);
                match send_all(me, stream, &mut queue).await {
                    Ok(()) => return, // the node is shutting down
                    Err(error) => eprintln!("[n{me}] connection to n{to} lost: {error}"),
                }
            }
            Err(error) => {
                if !logged_down {
                    eprintln!("[n{me}] cannot reach n{to} at {address} ({error}); retrying");
                    logged_down = true;
                }
            }
        }
        // Frames that waited while the peer was down are stale: Raft sends fresh ones.
        while queue.try_recv().is_ok() {}
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(1));
    }
}

/// Sends `Hello`, then every frame of `queue`, a batch per write; `Ok` when the queue closes.
async fn send_all<M: Serialize>(
    me: NodeId,
    mut stream: TcpStream,
    queue: &mut mpsc::Receiver<Frame<M>>,
) -> std::io::Result<()> {
    let mut codec = codec();
    let mut buffer = BytesMut::new();
    put(&mut codec, &Frame::<M>::Hello { from: me }, &mut buffer)?;
    loop {
        stream.write_all(&buffer).await?;
        buffer.clear();
        let Some(frame) = queue.recv().await else { return Ok(()) };
        put(&mut codec, &frame, &mut buffer)?;
        while buffer.len() < 1 << 20 {
            let Ok(frame) = queue.try_recv() else { break };
            put(&mut codec, &frame, &mut buffer)?;
        }
    }
}

/// Appends `frame`, length first, to `buffer`.
fn put<M: Serialize>(
    codec: &mut LengthDelimitedCodec,
    frame: &Frame<M>,
    buffer: &mut BytesMut,
) -> std::io::Result<()> {
    codec.encode(bytes::Bytes::from(encoding::to_bytes(frame)), buffer)
}

/// Accepts peers' connections on `listener` and hands every frame they send, with its
/// sender's id, to `deliver`. Runs until the process ends.
pub async fn listen<M, F>(me: NodeId, peers: Vec<NodeId>, listener: TcpListener, deliver: F)
where
    M: DeserializeOwned + Send + 'static,
    F: Fn(NodeId, Frame<M>) + Clone + Send + Sync + 'static,
{
    loop {
        let Ok((stream, address)) = listener.accept().await else { continue };
        let (deliver, peers) = (deliver.clone(), peers.clone());
        tokio::spawn(async move {
            if let Err(reason) = read_peer(stream, &peers, deliver).await {
                eprintln!("[n{me}] closed a peer connection from {address}: {reason}");
            }
        });
    }
}

/// Reads one peer connection: `Hello` from a known peer, then frames until it closes.
async fn read_peer<M, F>(stream: TcpStream, peers: &[NodeId], deliver: F) -> Result<(), String>
where
    M: DeserializeOwned,
    F: Fn(NodeId, Frame<M>),
{
    let mut frames = FramedRead::new(stream, codec());
    let mut from = None;
    loop {
        let next = std::future::poll_fn(|cx| Pin::new(&mut frames).poll_next(cx)).await;
        let bytes = match next {
            None => return Ok(()),
            Some(Ok(bytes)) => bytes,
            Some(Err(error)) => return Err(format!("bad frame: {error}")),
        };
        let frame: Frame<M> = encoding::from_bytes(&bytes).map_err(|error| {
            format!("a frame of {} bytes does not decode: {error}", bytes.len())
        })?;
        match (from, frame) {
            (None, Frame::Hello { from: id }) if peers.contains(&id) => from = Some(id),
            (None, Frame::Hello { from: id }) => {
                return Err(format!("hello from unknown node {id}"));
            }
            (None, _) => return Err("the first frame is not a hello".to_string()),
            (Some(id), frame) => deliver(id, frame),
        }
    }
}
