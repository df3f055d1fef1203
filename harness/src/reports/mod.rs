//! The reports: what a run leaves to read.
//!
//! The failure [`report`] a broken run panics with (gathered by `failure.rs`), the [`trace`] of
//! every event and the [`logbook`] of every log change, the trace [`page`] that draws them in a
//! browser, and the message [`stats`].

mod failure;
pub mod logbook;
pub mod page;
pub mod report;
pub mod stats;
pub mod trace;
