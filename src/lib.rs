//! The course's own tooling: the course map (`cargo run`) and the course checks (`cargo run
//! -- verify`, and the root package's tests, so a bare `cargo test` runs them).
//!
//! - [`stages`]: the stage table, the one list every tool reads;
//! - [`map`]: where the learner is, and what to do next;
//! - [`checks`]: what CI proves about every stage (design contracts 1 to 3);
//! - [`drift`]: exercise and solution differ only in the stubs' bodies;
//! - [`source`] and [`lexer`]: just enough Rust reading to find stubs and bodies;
//! - [`demo`]: `cargo run -- demo`, the latest stage's reference running live, then its
//!   trace page;
//! - [`cargo`], [`libtest`] and [`process`]: building the tests once, running them with a
//!   time limit, and reading their results.

pub mod cargo;
pub mod checks;
pub mod cli;
pub mod demo;
pub mod drift;
pub mod lexer;
pub mod libtest;
pub mod map;
pub mod process;
pub mod source;
pub mod stages;
