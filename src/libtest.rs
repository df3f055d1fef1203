//! Reading the output of a libtest test executable (the default "pretty" format): each
//! test's outcome, and the captured output of each failure.

/// How one test ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It passed.
    Passed,
    /// It failed (a panic, usually).
    Failed,
    /// It is `#[ignore]`d and did not run.
    Ignored,
}

/// One test's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestResult {
    /// Its name, as `cargo test -- --exact` takes it (e.g. `log::appends_in_order`).
    pub name: String,
    /// How it ended.
    pub outcome: Outcome,
    /// For a failure, what it printed (the panic message, the harness's report).
    pub output: String,
}

/// What a test executable reported.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Every test that reported an outcome, in the order they finished.
    pub results: Vec<TestResult>,
    /// Did the executable get to its final `test result:` line? If not, it crashed (an abort,
    /// a stack overflow) or was killed, and some tests may be missing.
    pub complete: bool,
}

/// Parses the stdout of a test executable. Colour codes are dropped: `pretty_assertions` writes
/// them even into a pipe (it honours neither `NO_COLOR` nor a non-terminal).
pub fn parse(stdout: &str) -> Report {
    let stdout = &strip_colours(stdout);
    let mut report = Report::default();
    let mut failure: Option<(String, Vec<&str>)> = None;
    for line in stdout.lines() {
        if let Some(name) = line.strip_prefix("---- ").and_then(|l| l.strip_suffix(" stdout ----"))
        {
            finish(&mut failure, &mut report);
            failure = Some((name.to_string(), Vec::new()));
            continue;
        }
        if line == "failures:" || line.starts_with("test result: ") {
            finish(&mut failure, &mut report);
            report.complete |= line.starts_with("test result: ");
            continue;
        }
        if let Some((_, lines)) = failure.as_mut() {
            lines.push(line);
            continue;
        }
        if let Some(result) = result_line(line) {
            report.results.push(result);
        }
    }
    finish(&mut failure, &mut report);
    report
}

/// `text` without ANSI escape sequences (`ESC [ … letter`).
pub fn strip_colours(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for inner in chars.by_ref() {
                if inner.is_ascii_alphabetic() {
                    break;
                }
            }
            continue;
        }
        plain.push(c);
    }
    plain
}

/// Ends a failure's output block: it is the output of the test of that name (whose result
/// line came before, as libtest prints every result before the failures).
fn finish(failure: &mut Option<(String, Vec<&str>)>, report: &mut Report) {
    let Some((name, lines)) = failure.take() else { return };
    if let Some(result) = report.results.iter_mut().find(|r| r.name == name) {
        result.output = lines.join("\n").trim().to_string();
    }
}

/// `test log::x ... ok` / `... FAILED` / `... ignored` / `... ignored, slow`.
fn result_line(line: &str) -> Option<TestResult> {
    let (name, status) = line.strip_prefix("test ")?.rsplit_once(" ... ")?;
    let outcome = match status {
        "ok" => Outcome::Passed,
        "FAILED" => Outcome::Failed,
        s if s == "ignored" || s.starts_with("ignored, ") => Outcome::Ignored,
        _ => return None,
    };
    Some(TestResult { name: name.to_string(), outcome, output: String::new() })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "
running 3 tests
test log::empty_log_has_last_index_zero ... ok
test log::slow ... ignored, run with RAFT_SEEDS
test log::append_keeps_order ... FAILED

failures:

---- log::append_keeps_order stdout ----

thread 'log::append_keeps_order' panicked at exercises/01-data-structures/src/log.rs:91:9:
not yet implemented: append the entries (§5.3)
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace


failures:
    log::append_keeps_order

test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s
";

    #[test]
    fn outcomes_and_failure_outputs_are_read() {
        let report = parse(OUTPUT);
        assert!(report.complete);
        let outcomes: Vec<(&str, Outcome)> =
            report.results.iter().map(|r| (r.name.as_str(), r.outcome)).collect();
        assert_eq!(
            outcomes,
            [
                ("log::empty_log_has_last_index_zero", Outcome::Passed),
                ("log::slow", Outcome::Ignored),
                ("log::append_keeps_order", Outcome::Failed),
            ]
        );
        assert!(report.results[2].output.contains("not yet implemented: append the entries"));
        assert!(report.results[2].output.ends_with("display a backtrace"));
    }

    #[test]
    fn colour_codes_are_dropped() {
        assert_eq!(strip_colours("\u{1b}[31m<left\u{1b}[0m \u{1b}[1;32mright"), "<left right");
        assert_eq!(strip_colours("plain [x]"), "plain [x]");
    }

    #[test]
    fn an_output_cut_short_is_incomplete() {
        let report = parse("running 2 tests\ntest a ... ok\n");
        assert!(!report.complete);
        assert_eq!(report.results[0].outcome, Outcome::Passed);
    }
}
