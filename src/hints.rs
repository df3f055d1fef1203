//! The hints of a stage: its own file beside the chapter, `docs/hints/NN-stage.md`, not the
//! chapter itself, so that reading a chapter (in a terminal, an editor, or the book) shows no
//! hint until one is asked for. One `### `stub`` heading per hint section (one stub or a few,
//! named in backticks), each with hints of increasing strength, folded:
//!
//! ```text
//! ### `Log::last_index`, `Log::last_term`
//!
//! <details><summary>Hint 1</summary>
//!
//! With 1-based indexes, …
//! </details>
//! ```
//!
//! `cargo run -- hint <stub> [level]` prints one of them at a time; the headings' order is the
//! chapter's order of the stubs, which the map follows.

use std::fs;
use std::path::Path;

/// One `###` section of a chapter's hints: the stubs it is about and its hints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// The heading's text, without `### `.
    pub heading: String,
    /// The names in backticks in the heading (`Log::last_index`, `check_term`).
    pub names: Vec<String>,
    /// The hints, weakest first, as Markdown.
    pub hints: Vec<String>,
    /// 1-based line of the heading in the hints file.
    pub line: usize,
}

impl Section {
    /// Is this section about `stub` (`Type::function` or `function`, as the course tools name
    /// stubs)? A name in the heading matches the stub's full name or its last segment.
    pub fn covers(&self, stub: &str) -> bool {
        self.names.iter().any(|name| names_match(name, stub))
    }
}

/// `check_term` names `RaftNode::check_term`; `Log::append` names only `Log::append`.
pub fn names_match(name: &str, stub: &str) -> bool {
    name == stub || stub.rsplit("::").next() == Some(name) && !name.contains("::")
}

/// Reads a stage's hints file: every `### ` heading is a section. `Err` says what is
/// malformed, with its line.
pub fn parse(hints: &str) -> Result<Vec<Section>, String> {
    let mut sections: Vec<Section> = Vec::new();
    let mut open_hint: Option<(usize, Vec<&str>)> = None;
    for (index, line) in hints.lines().enumerate() {
        let number = index + 1;
        if let Some((_, lines)) = open_hint.as_mut() {
            if let Some(before) = line.trim_end().strip_suffix("</details>") {
                lines.push(before);
                let (_, lines) = open_hint.take().expect("a hint is open");
                let section = sections.last_mut().expect("a hint belongs to a section");
                section.hints.push(lines.join("\n").trim().to_string());
            } else {
                lines.push(line);
            }
            continue;
        }
        if let Some(heading) = line.strip_prefix("### ") {
            let names = code_spans(heading);
            if names.is_empty() {
                return Err(format!("line {number}: a hint heading names no stub in backticks"));
            }
            sections.push(Section {
                heading: heading.trim().to_string(),
                names,
                hints: Vec::new(),
                line: number,
            });
        } else if let Some(rest) = line.trim().strip_prefix("<details><summary>Hint ") {
            let Some(section) = sections.last() else {
                return Err(format!("line {number}: a hint before any `### ` heading"));
            };
            let expected = format!("{}</summary>", section.hints.len() + 1);
            if rest != expected {
                return Err(format!(
                    "line {number}: expected `<details><summary>Hint {expected}` (hints are \
                     numbered from 1 in each section)"
                ));
            }
            open_hint = Some((number, Vec::new()));
        }
    }
    if let Some((line, _)) = open_hint {
        return Err(format!("line {line}: a hint without its `</details>`"));
    }
    Ok(sections)
}

/// Reads and parses the hints file at `path`.
pub fn read(path: &Path) -> Result<Vec<Section>, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Why a hint reads as the code itself rather than the idea behind it, if it does: a fenced
/// block, or a code span that is a statement (`;`, `{`, ` = `, `=>`) or a long expression on
/// `self` (over 40 characters). The last hint of a stub must point at the idea: the code is
/// the learner's to write (course check 5).
pub fn reads_as_code(hint: &str) -> Option<String> {
    if hint.contains("```") {
        return Some("a code block".to_string());
    }
    code_spans(hint)
        .into_iter()
        .find(|span| {
            [";", "{", " = ", "=>"].iter().any(|mark| span.contains(mark))
                || span.contains("self.") && span.chars().count() > 40
        })
        .map(|span| format!("`{span}`"))
}

/// The text between backticks, in order.
fn code_spans(text: &str) -> Vec<String> {
    text.split('`').skip(1).step_by(2).map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HINTS: &str = "\
# Stage 1 hints

Open a hint when stuck.

### `Log::last_index`, `Log::last_term`

<details><summary>Hint 1</summary>

The number of entries.
</details>

<details><summary>Hint 2</summary>

`self.entries.len() as Index`
</details>

### `check_term`

<details><summary>Hint 1</summary>

Compare the terms.</details>
";

    #[test]
    fn sections_hold_their_names_and_hints_in_order() {
        let sections = parse(HINTS).unwrap();
        let summary: Vec<(Vec<String>, Vec<String>, usize)> =
            sections.into_iter().map(|s| (s.names, s.hints, s.line)).collect();
        assert_eq!(
            summary,
            [
                (
                    vec!["Log::last_index".to_string(), "Log::last_term".to_string()],
                    vec![
                        "The number of entries.".to_string(),
                        "`self.entries.len() as Index`".to_string()
                    ],
                    5
                ),
                (vec!["check_term".to_string()], vec!["Compare the terms.".to_string()], 17),
            ]
        );
    }

    #[test]
    fn a_bare_name_covers_a_method_and_a_path_only_itself() {
        let section = &parse(HINTS).unwrap()[1];
        assert!(section.covers("RaftNode::check_term"));
        assert!(section.covers("check_term"));
        assert!(!section.covers("RaftNode::check_terms"));
        assert!(!names_match("Log::append", "State::append"));
    }

    #[test]
    fn a_hint_that_is_the_code_is_told_from_one_that_names_the_idea() {
        let code = "`self.entries.push(LogEntry::new(term, command)); self.last_index()`.";
        assert_eq!(reads_as_code(code), Some(code.trim_end_matches('.').to_string()));
        assert!(reads_as_code("```rust\nlet x = 1;\n```").is_some());
        assert!(reads_as_code("`self.term_at(prev_log_index) == Some(prev_log_term)`").is_some());
        assert!(reads_as_code("`Role::Candidate { votes }`").is_some());
        let idea =
            "Stage 1's `Log::start_after` moves the start; `index <= snapshot_index` is stale.";
        assert_eq!(reads_as_code(idea), None);
    }

    #[test]
    fn misnumbered_and_unclosed_hints_are_named_with_their_line() {
        let skipped = "# Hints\n### `a`\n<details><summary>Hint 2</summary>\nx\n</details>\n";
        assert!(parse(skipped).unwrap_err().starts_with("line 3: expected"), "{skipped}");
        let unclosed = "# Hints\n### `a`\n<details><summary>Hint 1</summary>\nx\n";
        assert_eq!(parse(unclosed).unwrap_err(), "line 3: a hint without its `</details>`");
    }
}
