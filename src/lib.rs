//! The course's own tooling: the course map (`cargo run`) and the course checks (`cargo run
//! -- verify`, and the root package's tests, so a bare `cargo test` runs them).
//!
//! - [`stages`]: the stage table, the one list every tool reads;
//! - [`map`]: where the learner is, and what to do next;
//! - [`checks`]: what CI proves about every stage (design contracts 1 to 3);
//! - [`drift`]: exercise and solution differ only in the stubs' bodies;
//! - [`fresh`]: is a stage's exercise the fresh one, or the learner's work (by content);
//! - [`hints`] and [`hints_cli`]: the stages' hints (`docs/hints/`), one at a time (`hint`);
//! - [`book`]: the chapters as a book: every page in the summary, every link and include
//!   resolves;
//! - [`step_tests`]: exactly one step's tests (`test`);
//! - [`watch`]: the tests of the current step on every save; [`progress`]: what the map says
//!   while it builds;
//! - [`steps`] and [`table`]: each stage as steps in the chapter's order, with their tests;
//! - [`carry`]: moving function bodies between two versions of a file;
//! - [`source`] and [`lexer`]: just enough Rust reading to find stubs and bodies;
//! - [`demo`]: `cargo run -- demo`, the latest stage's reference running live, then its
//!   trace page;
//! - [`live`]: `cargo run -- live`, a stage's node (or the learner's) live in the browser
//!   ([`harness::live`]);
//! - [`cargo`], [`libtest`] and [`process`]: building the tests once, running them with a
//!   time limit, and reading their results.
//!
//! No clap, notify, indicatif, cargo_metadata or syn: each would add 3 to 50 s to a learner's
//! first cold `cargo run` for a part of under a few hundred lines that is written and tested
//! here (measured in README.md, "Crates the course tool does without").

pub mod book;
pub mod cargo;
pub mod carry;
pub mod checks;
pub mod cli;
pub mod demo;
pub mod drift;
pub mod fresh;
pub mod hints;
pub mod hints_cli;
pub mod lexer;
pub mod libtest;
pub mod live;
pub mod map;
pub mod process;
pub mod progress;
pub mod source;
pub mod stages;
pub mod step_tests;
pub mod steps;
pub mod table;
pub mod watch;
