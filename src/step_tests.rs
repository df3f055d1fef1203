//! `cargo run -- test [stub]`: runs exactly the tests of a step (the one the learner is at, or
//! the step of `stub`), each test executable with its tests named and `--exact`, so that the
//! output is libtest's own and nothing else runs.

use std::io;
use std::process::Command;

use crate::cargo::{Build, Cargo};
use crate::stages::Stage;
use crate::steps::Step;

/// Builds `stage`'s tests and runs those of `step`; `Ok(true)` if they all pass.
pub fn run(cargo: &Cargo, stage: &Stage, step: &Step) -> io::Result<bool> {
    println!("{}, step {}: {}", stage.label(), step.number, step.title());
    let binaries = match cargo.build_tests(stage.name)? {
        Build::Built(binaries) => binaries,
        Build::Failed { first_error, .. } => {
            println!("{}\n(the exercise does not compile: the first error above)", first_error);
            return Ok(false);
        }
    };
    let mut passed = true;
    let mut ran = 0;
    for binary in &binaries {
        let target = if binary.is_lib { "lib" } else { binary.target.as_str() };
        let names: Vec<String> =
            cargo.list_tests(binary)?.into_iter().filter(|n| step.has_test(target, n)).collect();
        if names.is_empty() {
            continue;
        }
        let shown = if binary.is_lib {
            "src/ (unit tests)".to_string()
        } else {
            format!("tests/{target}.rs")
        };
        println!("\n──── {shown}: {} of this step's tests ────", names.len());
        let status = Command::new(&binary.path)
            .args(&names)
            .arg("--exact")
            .current_dir(&binary.package_dir)
            .env("CARGO_MANIFEST_DIR", &binary.package_dir)
            .env("CARGO_PKG_NAME", &binary.package)
            .status()?;
        passed &= status.success();
        ran += names.len();
    }
    match (ran, passed) {
        (0, _) => println!("no test of this step was found: is src/table.rs up to date?"),
        (n, true) => println!("\nAll {n} tests of step {} pass.", step.number),
        (n, false) => println!("\nSome of the {n} tests of step {} fail (above).", step.number),
    }
    Ok(passed && ran > 0)
}
