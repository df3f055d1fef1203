//! The chapters as a book (`docs/book.toml`, `docs/SUMMARY.md`, built with mdBook into
//! `target/book`): what the book needs of the Markdown, checked without mdBook.
//!
//! mdBook fails its build on an `{{#include}}` of a missing file, but not on an include of a
//! missing anchor (it includes nothing) nor on a link to a missing page or heading. So
//! [`problems`] checks, over every Markdown file of `docs/`:
//!
//! - every page is in `SUMMARY.md` (else the book has no page for it, and links to it break),
//!   and every page `SUMMARY.md` names exists;
//! - every relative link and `src` resolves inside `docs/` to a file that exists, and a
//!   `#fragment` to a heading of that page (ids as mdBook and GitHub make them); the pages the
//!   book build writes itself ([`GENERATED`]) are allowed where `.ci/run` writes them;
//! - every include names a file of the workspace and an anchor that file has
//!   (`// ANCHOR: name` … `// ANCHOR_END: name`).
//!
//! The same links work on GitHub, where the Markdown files are read as they are.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::source::{files_with, normalize};

/// Pages the book build writes into the book itself (not files of `docs/`): `.ci/run` writes
/// each after `mdbook build`, and must name it (`traces/demo.html`, or `book_trace backup …`
/// for `traces/backup.html`).
pub const GENERATED: &[&str] = &[
    "traces/demo.html",
    "traces/backup.html",
    "traces/figure-8.html",
    "traces/snapshot-install.html",
    "traces/kv-partition.html",
    "traces/kv-missed-write.html",
];

/// Every problem with the book's sources under `root/docs`, one line each.
pub fn problems(root: &Path) -> Vec<String> {
    let docs = root.join("docs");
    let mut problems = Vec::new();
    let pages = files_with(&docs, "md").unwrap_or_default();
    let summary = fs::read_to_string(docs.join("SUMMARY.md")).unwrap_or_default();
    if summary.is_empty() {
        problems.push("docs/SUMMARY.md is missing or empty".to_string());
    }
    let listed: Vec<PathBuf> =
        links(&summary).into_iter().map(|(_, target)| docs.join(target)).collect();
    for page in &pages {
        let name = page.strip_prefix(&docs).unwrap_or(page);
        if name != Path::new("SUMMARY.md") && !listed.contains(page) {
            problems.push(format!(
                "docs/{}: not in docs/SUMMARY.md, so the book has no page for it",
                name.display()
            ));
        }
    }
    let ci = fs::read_to_string(root.join(".ci/run")).unwrap_or_default();
    let mut headings: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    for page in &pages {
        let text = fs::read_to_string(page).unwrap_or_default();
        let shown = format!("docs/{}", page.strip_prefix(&docs).unwrap_or(page).display());
        let dir = page.parent().unwrap_or(&docs);
        for (line, target) in links(&text) {
            let (path, fragment) = target.split_once('#').unwrap_or((&target, ""));
            let file = if path.is_empty() { page.clone() } else { normalize(&dir.join(path)) };
            let Ok(inside) = file.strip_prefix(&docs) else {
                problems.push(format!(
                    "{shown}:{line}: `{target}` leads out of docs/, where the book has no page"
                ));
                continue;
            };
            let inside = inside.to_string_lossy().replace('\\', "/");
            if GENERATED.contains(&inside.as_str()) {
                let stem = inside.trim_start_matches("traces/").trim_end_matches(".html");
                if !ci.contains(&inside) && !ci.contains(&format!("book_trace {stem} ")) {
                    problems.push(format!(
                        "{shown}:{line}: `{target}` is written by the book build, but .ci/run \
                         never writes {inside}"
                    ));
                }
                continue;
            }
            if !file.is_file() {
                problems.push(format!("{shown}:{line}: `{target}`: no such file"));
                continue;
            }
            if fragment.is_empty() || file.extension().is_none_or(|e| e != "md") {
                continue;
            }
            let ids = headings
                .entry(file.clone())
                .or_insert_with(|| heading_ids(&fs::read_to_string(&file).unwrap_or_default()));
            if !ids.iter().any(|id| id == fragment) {
                problems.push(format!(
                    "{shown}:{line}: `{target}`: no heading of {} has the id `{fragment}`",
                    file.strip_prefix(root).unwrap_or(&file).display()
                ));
            }
        }
        for (line, path, anchor) in includes(&text) {
            let file = normalize(&dir.join(&path));
            let Ok(code) = fs::read_to_string(&file) else {
                problems.push(format!("{shown}:{line}: includes {path}: no such file"));
                continue;
            };
            let Some(anchor) = anchor else { continue };
            for marker in [format!("ANCHOR: {anchor}"), format!("ANCHOR_END: {anchor}")] {
                if !code.lines().any(|l| l.trim_end().ends_with(&marker)) {
                    problems.push(format!(
                        "{shown}:{line}: includes {path}:{anchor}, but the file has no \
                         `// {marker}` line"
                    ));
                }
            }
        }
    }
    problems
}

/// The lines of `text` outside fenced code blocks, with their 1-based numbers.
fn prose(text: &str) -> Vec<(usize, &str)> {
    let mut fenced = false;
    let mut lines = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            lines.push((index + 1, line));
        }
    }
    lines
}

/// The relative link targets of `text` (`](target)`, `src="target"`), with their lines; web
/// addresses and code spans are left out.
pub fn links(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (line, content) in prose(text) {
        let outside_code: String = content.split('`').step_by(2).collect::<Vec<&str>>().join(" ");
        for (opening, closing) in [("](", ')'), ("src=\"", '"')] {
            for (at, _) in outside_code.match_indices(opening) {
                let rest = &outside_code[at + opening.len()..];
                let Some(end) = rest.find(closing) else { continue };
                let target = rest[..end].trim();
                if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                found.push((line, target.to_string()));
            }
        }
    }
    found
}

/// The includes of `text`: `{{#include path}}` or `{{#include path:anchor}}`, with their lines.
pub fn includes(text: &str) -> Vec<(usize, String, Option<String>)> {
    let mut found = Vec::new();
    for (index, line) in text.lines().enumerate() {
        for (at, _) in line.match_indices("{{#include ") {
            let rest = &line[at + "{{#include ".len()..];
            let Some(end) = rest.find("}}") else { continue };
            let spec = rest[..end].trim();
            let (path, anchor) = match spec.rsplit_once(':') {
                Some((path, anchor)) if !anchor.chars().all(|c| c.is_ascii_digit() || c == ':') => {
                    (path, Some(anchor.to_string()))
                }
                Some((path, _)) => (path, None),
                None => (spec, None),
            };
            found.push((index + 1, path.to_string(), anchor));
        }
    }
    found
}

/// The ids mdBook (and GitHub) give the headings of a page, in order: the heading's text in
/// lower case, letters, digits, `_` and `-` kept, spaces made `-`, the rest dropped; a repeated
/// id takes `-1`, `-2`, ….
pub fn heading_ids(text: &str) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for (_, line) in prose(text) {
        let Some(heading) = line.strip_prefix('#') else { continue };
        let heading = heading.trim_start_matches('#');
        if !heading.starts_with(' ') {
            continue;
        }
        let id: String = heading
            .trim()
            .chars()
            .flat_map(|c| match c {
                c if c.is_alphanumeric() || c == '_' || c == '-' => c.to_lowercase().collect(),
                c if c.is_whitespace() => vec!['-'],
                _ => Vec::new(),
            })
            .collect();
        let repeats = ids.iter().filter(|seen| **seen == id).count();
        ids.push(match repeats {
            0 => id,
            n => format!("{id}-{n}"),
        });
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_heading_text() {
        let text = "# Stage 5: snapshots (§7, Figure 13)\n```\n# not a heading\n```\n\
                    ## Carrying your own code forward\n### `take_persist`\n## A\n## A\n";
        assert_eq!(
            heading_ids(text),
            [
                "stage-5-snapshots-7-figure-13",
                "carrying-your-own-code-forward",
                "take_persist",
                "a",
                "a-1"
            ]
        );
    }

    #[test]
    fn links_skip_code_and_the_web() {
        let text = "See [a](a.md#x), `[b](b.md)`, [web](https://x.org).\n```\n[c](c.md)\n```\n\
                    <iframe src=\"traces/demo.html\"></iframe>\n";
        assert_eq!(links(text), [(1, "a.md#x".to_string()), (5, "traces/demo.html".to_string())]);
    }

    #[test]
    fn includes_name_their_file_and_anchor() {
        let text =
            "```rust\n{{#include ../examples/basics.rs:structs}}\n{{#include ../a.rs}}\n```\n";
        assert_eq!(
            includes(text),
            [
                (2, "../examples/basics.rs".to_string(), Some("structs".to_string())),
                (3, "../a.rs".to_string(), None)
            ]
        );
    }

    /// A broken link, a missing heading, a missing anchor, a page left out of the summary and a
    /// generated page that CI does not write are each named with their line.
    #[test]
    fn every_kind_of_break_is_named() {
        let root = std::env::temp_dir().join(format!("raft-course-book-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("docs/hints")).unwrap();
        fs::create_dir_all(root.join(".ci")).unwrap();
        fs::write(root.join(".ci/run"), "cargo run -- demo --page target/book/traces/demo.html\n")
            .unwrap();
        fs::write(root.join("code.rs"), "// ANCHOR: a\nfn a() {}\n// ANCHOR_END: a\n").unwrap();
        fs::write(root.join("docs/SUMMARY.md"), "- [One](one.md)\n  - [Hints](hints/one.md)\n")
            .unwrap();
        fs::write(root.join("docs/hints/one.md"), "# Hints\n[back](../one.md#one)\n").unwrap();
        let good = "# One\n[hints](hints/one.md) [demo](traces/demo.html)\n\
                    ```rust\n{{#include ../code.rs:a}}\n```\n";
        fs::write(root.join("docs/one.md"), good).unwrap();
        assert_eq!(problems(&root), Vec::<String>::new());

        let bad = "# One\n[hints](hints/two.md) [x](hints/one.md#nothing) [out](../code.rs)\n\
                   ```rust\n{{#include ../code.rs:b}}\n```\n";
        fs::write(root.join("docs/one.md"), bad).unwrap();
        fs::write(root.join("docs/stray.md"), "# Stray\n").unwrap();
        fs::write(root.join(".ci/run"), "mdbook build docs\n").unwrap();
        fs::write(root.join("docs/hints/one.md"), "[demo](../traces/demo.html)\n").unwrap();
        let found = problems(&root);
        let expected = [
            "docs/stray.md: not in docs/SUMMARY.md",
            "docs/hints/one.md:1: `../traces/demo.html` is written by the book build, but .ci/run",
            "docs/one.md:2: `hints/two.md`: no such file",
            "docs/one.md:2: `hints/one.md#nothing`: no heading of docs/hints/one.md has the id",
            "docs/one.md:2: `../code.rs` leads out of docs/",
            "docs/one.md:4: includes ../code.rs:b, but the file has no `// ANCHOR: b` line",
            "docs/one.md:4: includes ../code.rs:b, but the file has no `// ANCHOR_END: b` line",
        ];
        for want in expected {
            assert!(found.iter().any(|p| p.starts_with(want)), "{want}\nin:\n{found:#?}");
        }
        assert_eq!(found.len(), expected.len(), "{found:#?}");
        fs::remove_dir_all(&root).unwrap();
    }
}
