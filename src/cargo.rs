//! Driving cargo: build a package's test executables once (`cargo test --no-run
//! --message-format=json`), then run each executable ourselves and read its libtest output.
//!
//! Each build is one cargo invocation per package, so that a package that does not compile
//! cannot hide the others (cargo stops at the first failing package of an invocation).

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use serde_json::Value;

use crate::libtest;
use crate::process::{self, Finished, Stderr};
use crate::source::normalize;

/// A build longer than this is stopped: a cold build of the workspace takes about a minute.
pub const BUILD_LIMIT: Duration = Duration::from_secs(20 * 60);
/// A test executable running longer than this is stopped: the default tests take seconds,
/// because time is simulated (design contract 8).
pub const RUN_LIMIT: Duration = Duration::from_secs(5 * 60);

/// How to call cargo.
#[derive(Clone, Debug)]
pub struct Cargo {
    /// The cargo program: `$CARGO` when run by cargo, else `cargo`.
    pub program: OsString,
    /// The workspace root, where cargo runs.
    pub root: PathBuf,
    /// Show cargo's own progress while building (a first, long build).
    pub show_build: bool,
}

/// A test executable that cargo built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestBinary {
    /// The package it belongs to.
    pub package: String,
    /// The target's name: `log` for `tests/log.rs`, the library's name for its unit tests.
    pub target: String,
    /// The executable.
    pub path: PathBuf,
    /// It holds the library's unit tests (not an integration test in `tests/`).
    pub is_lib: bool,
    /// The package's directory, where cargo would run it.
    pub package_dir: PathBuf,
}

impl TestBinary {
    /// Its name in the step table (`src/table.rs`): the target's, or `lib` for unit tests.
    pub fn table_name(&self) -> &str {
        if self.is_lib { "lib" } else { &self.target }
    }

    /// Where its tests are, for messages: `tests/log.rs`, or `src/ (unit tests)`.
    pub fn shown(&self) -> String {
        if self.is_lib {
            "src/ (unit tests)".to_string()
        } else {
            format!("tests/{}.rs", self.target)
        }
    }
}

/// The outcome of building one package's tests: `T` is its test executables
/// ([`Cargo::build_tests`]) or their runs ([`Tested`]).
#[derive(Clone, Debug)]
pub enum Build<T> {
    /// It compiled.
    Built(T),
    /// It did not compile.
    Failed {
        /// The package whose code has the first error, if cargo says (it may be a dependency).
        culprit: Option<String>,
        /// The first error, as rustc prints it.
        first_error: String,
    },
}

/// One test executable's run.
#[derive(Clone, Debug)]
pub struct BinaryRun {
    /// What ran.
    pub binary: TestBinary,
    /// What its output says.
    pub report: libtest::Report,
    /// Exit status as text (`exit status: 101`, `signal: 6 (SIGABRT)`), and the end of its
    /// output, for a run that did not complete normally.
    pub crash: Option<String>,
}

/// The outcome of testing one package: each test executable's run, or the first error.
pub type Tested = Build<Vec<BinaryRun>>;

/// A package as `cargo metadata` describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    /// Its name.
    pub name: String,
    /// Its directory.
    pub dir: PathBuf,
    /// Its integration test targets (`[[test]]`, declared or discovered): their source files.
    pub test_sources: Vec<PathBuf>,
}

impl Cargo {
    /// Cargo at the workspace `root`, with the workspace's own target directory.
    pub fn new(root: &Path) -> Self {
        let program = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        Cargo { program, root: root.to_path_buf(), show_build: false }
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.current_dir(&self.root);
        command
    }

    /// The command line a person would type to see what [`Cargo::build_tests`] saw.
    pub fn errors_command(package: &str) -> String {
        format!("cargo test -p {package} --no-run")
    }

    /// Builds `package`'s test executables (unit and integration tests; doc tests are not
    /// built by `--no-run`).
    pub fn build_tests(&self, package: &str) -> io::Result<Build<Vec<TestBinary>>> {
        let mut command = self.command();
        command.args(["test", "--no-run", "--message-format=json", "-p", package]);
        let stderr = match self.show_build {
            true => Stderr::Show,
            false => {
                command.arg("--quiet");
                Stderr::Capture
            }
        };
        let finished = process::run(&mut command, BUILD_LIMIT, stderr)?;
        if finished.timed_out() {
            return Err(io::Error::other(format!(
                "`cargo test -p {package} --no-run` did not finish within {} s",
                BUILD_LIMIT.as_secs()
            )));
        }
        Ok(read_build(package, &finished))
    }

    /// The command that runs `binary` as cargo would, but never with a backtrace, even when
    /// the learner's environment sets `RUST_BACKTRACE`: an expected failure would end in 10 to
    /// 30 lines of it, pushing the panic message out of view.
    pub fn test_command(binary: &TestBinary) -> Command {
        let mut command = Command::new(&binary.path);
        command
            .current_dir(&binary.package_dir)
            .env("CARGO_MANIFEST_DIR", &binary.package_dir)
            .env("CARGO_PKG_NAME", &binary.package)
            .env("RUST_BACKTRACE", "0");
        command
    }

    /// Runs every test in `binary` and reads the outcome of each.
    pub fn run_tests(&self, binary: &TestBinary) -> io::Result<BinaryRun> {
        let mut command = Self::test_command(binary);
        command.args(["--color", "never", "--format", "pretty"]);
        let finished = process::run(&mut command, RUN_LIMIT, Stderr::Capture)?;
        let report = libtest::parse(&finished.stdout);
        let normal_end = report.complete && finished.status.is_some_and(|s| s.code().is_some());
        let crash = (!normal_end).then(|| describe_crash(&finished));
        Ok(BinaryRun { binary: binary.clone(), report, crash })
    }

    /// The names of the tests in `binary` (`--list`), without running them.
    pub fn list_tests(&self, binary: &TestBinary) -> io::Result<Vec<String>> {
        let mut command = Self::test_command(binary);
        command.args(["--list", "--format", "terse"]);
        let finished = process::run(&mut command, RUN_LIMIT, Stderr::Capture)?;
        if !finished.success() {
            return Err(io::Error::other(format!(
                "`{} --list` failed:\n{}",
                binary.path.display(),
                process::tail(&finished.stderr, 10)
            )));
        }
        Ok(finished
            .stdout
            .lines()
            .filter_map(|line| line.strip_suffix(": test"))
            .map(str::to_string)
            .collect())
    }

    /// Builds `package`'s tests, then runs them all.
    pub fn test_package(&self, package: &str) -> io::Result<Tested> {
        match self.build_tests(package)? {
            Build::Built(binaries) => Ok(Build::Built(
                binaries.iter().map(|b| self.run_tests(b)).collect::<io::Result<_>>()?,
            )),
            Build::Failed { culprit, first_error } => Ok(Build::Failed { culprit, first_error }),
        }
    }

    /// Runs `cargo <args>` in the foreground, the terminal its own (`cluster`, `live`): the
    /// exit code of what it ran.
    pub fn foreground(&self, args: impl IntoIterator<Item = String>) -> ExitCode {
        match self.command().args(args).status() {
            Ok(status) => ExitCode::from(status.code().map_or(1, |code| code.clamp(0, 255) as u8)),
            Err(error) => {
                eprintln!("error: cannot run cargo: {error}");
                ExitCode::FAILURE
            }
        }
    }

    /// The workspace's packages.
    pub fn metadata(&self) -> io::Result<Vec<Package>> {
        let mut command = self.command();
        command.args(["metadata", "--format-version", "1", "--no-deps", "--offline"]);
        let finished = process::run(&mut command, Duration::from_secs(120), Stderr::Capture)?;
        if !finished.success() {
            return Err(io::Error::other(format!(
                "`cargo metadata` failed:\n{}",
                process::tail(&finished.stderr, 20)
            )));
        }
        let json: Value = serde_json::from_str(&finished.stdout).map_err(io::Error::other)?;
        let packages = json["packages"].as_array().cloned().unwrap_or_default();
        Ok(packages.iter().map(read_package).collect())
    }
}

fn read_package(package: &Value) -> Package {
    let manifest = PathBuf::from(package["manifest_path"].as_str().unwrap_or_default());
    let test_sources = package["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["kind"].as_array().is_some_and(|k| k.iter().any(|k| k == "test")))
        .filter_map(|t| t["src_path"].as_str().map(|path| normalize(Path::new(path))))
        .collect();
    Package {
        name: package["name"].as_str().unwrap_or_default().to_string(),
        dir: manifest.parent().map(Path::to_path_buf).unwrap_or_default(),
        test_sources,
    }
}

/// Reads cargo's JSON messages: the test executables it built, or the first error.
fn read_build(package: &str, finished: &Finished) -> Build<Vec<TestBinary>> {
    let mut binaries = Vec::new();
    let mut first_error: Option<(Option<String>, String)> = None;
    for line in finished.stdout.lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else { continue };
        match message["reason"].as_str() {
            // Test harness executables only: `cargo test --no-run` also builds examples
            // (a benchmark, say), whose profile is not a test one and which are not ours to run.
            Some("compiler-artifact") if message["profile"]["test"] == true => {
                if let (Some(path), Some(manifest)) =
                    (message["executable"].as_str(), message["manifest_path"].as_str())
                {
                    let package_dir = Path::new(manifest).parent().unwrap_or(Path::new("."));
                    binaries.push(TestBinary {
                        package: package.to_string(),
                        target: message["target"]["name"].as_str().unwrap_or("?").to_string(),
                        path: PathBuf::from(path),
                        is_lib: message["target"]["kind"]
                            .as_array()
                            .is_some_and(|kinds| kinds.iter().any(|k| k == "lib")),
                        package_dir: package_dir.to_path_buf(),
                    });
                }
            }
            Some("compiler-message")
                if first_error.is_none() && message["message"]["level"] == "error" =>
            {
                let culprit = message["package_id"].as_str().map(package_name_of_id);
                let rendered = message["message"]["rendered"].as_str().unwrap_or("").trim_end();
                first_error = Some((culprit, rendered.to_string()));
            }
            _ => {}
        }
    }
    if finished.success() {
        binaries.sort_by(|a, b| a.target.cmp(&b.target));
        return Build::Built(binaries);
    }
    let (culprit, first_error) =
        first_error.unwrap_or_else(|| (None, process::tail(&finished.stderr, 15)));
    Build::Failed { culprit, first_error }
}

/// `path+file:///w/exercises/02-election#election@0.1.0` → `election`;
/// `path+file:///w/harness#0.1.0` → `harness`.
fn package_name_of_id(id: &str) -> String {
    let (location, fragment) = id.rsplit_once('#').unwrap_or((id, ""));
    match fragment.split_once('@') {
        Some((name, _)) => name.to_string(),
        None => location.rsplit('/').next().unwrap_or(location).to_string(),
    }
}

fn describe_crash(finished: &Finished) -> String {
    let how = match finished.status {
        None => format!("killed after {} s (the time limit)", RUN_LIMIT.as_secs()),
        Some(status) => format!("ended with {status} before reporting every test"),
    };
    let output = format!("{}\n{}", finished.stdout, finished.stderr);
    format!("{how}; the end of its output:\n{}", process::tail(output.trim(), 15))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_ids_name_their_package() {
        let id = "path+file:///w/exercises/02-election#election@0.1.0";
        assert_eq!(package_name_of_id(id), "election");
        assert_eq!(package_name_of_id("path+file:///w/harness#0.1.0"), "harness");
    }
}
