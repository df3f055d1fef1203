//! The driver: a course node run for real, as an OS process, on files with fsync, talking to
//! its peers over TCP and to clients in the Redis protocol.
//!
//! The node is the simulator's node, unchanged (design contract 9: real IO lives only in the
//! driver). The driver feeds it inputs (a real-time tick, peer messages, client requests) and
//! carries out its outputs in the order the node contract gives ([`harness::node`]): the
//! writes, made durable before anything is sent; then the messages; then what the state
//! machine must load or apply.
//!
//! - [`storage`]: the node's stable storage as files: an append-only log of checksummed
//!   records, the hard state and the snapshot replaced atomically.
//! - [`encoding`]: bytes for writes and messages.
//! - [`peers`]: frames between nodes over TCP, reconnecting.
//! - [`resp`] and [`client`]: the Redis protocol, and client sessions on it.
//! - [`coalesce`]: one loop turn's messages, fewer: the later ones to a peer cover the
//!   earlier.
//! - [`routes`]: where replies go, one per request in flight, forgotten after a while.
//! - [`server`]: one process: the node's loop and the outputs in order.
//! - [`service`]: what the driver runs; [`stage6`]: the stage 6 reference, hosted.

pub mod client;
pub mod coalesce;
pub mod encoding;
pub mod peers;
pub mod resp;
pub mod routes;
pub mod server;
pub mod service;
pub mod stage6;
pub mod storage;
#[doc(hidden)]
pub mod testing;
