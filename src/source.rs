//! What the course tools read from Rust source: the stubs (function bodies holding a
//! `todo!(`), where they are, what they are called, and what their `todo!` message says.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::lexer::{self, Kind, Token};

/// A parsed source file: its text, tokens and matched delimiters.
pub struct Parsed<'a> {
    /// The text.
    pub source: &'a str,
    /// Its tokens (comments and whitespace left out).
    pub tokens: Vec<Token>,
    /// For each token index, the index of the matching delimiter, if it is one.
    pub matches: Vec<Option<usize>>,
}

impl<'a> Parsed<'a> {
    /// Tokenizes `source` and matches its delimiters.
    pub fn new(source: &'a str) -> Result<Self, String> {
        let tokens = lexer::tokenize(source)?;
        let matches = lexer::match_delimiters(source, &tokens)?;
        Ok(Parsed { source, tokens, matches })
    }

    fn text(&self, index: usize) -> &'a str {
        self.tokens[index].text(self.source)
    }

    fn is(&self, index: usize, kind: Kind, text: &str) -> bool {
        self.tokens.get(index).is_some_and(|t| t.kind == kind && t.text(self.source) == text)
    }

    /// Is the token at `index` the name of a macro call `name!(`, `name![` or `name!{`?
    pub fn is_macro_call(&self, index: usize, name: &str) -> bool {
        self.is(index, Kind::Ident, name)
            && self.is(index + 1, Kind::Punct, "!")
            && self.tokens.get(index + 2).is_some_and(|t| t.kind == Kind::Open)
    }

    /// Every function with a body: its name (`Type::name` inside an `impl` or `trait`) and the
    /// token indexes of its body's braces, in source order.
    pub fn functions(&self) -> Vec<Function> {
        let owners = self.owners();
        let mut functions = Vec::new();
        for index in 0..self.tokens.len() {
            if !self.is(index, Kind::Ident, "fn") || self.tokens.get(index + 1).is_none() {
                continue;
            }
            let Some(open) = self.body_of(index + 2) else { continue };
            let name = self.text(index + 1).to_string();
            let owner = owners
                .iter()
                .filter(|o| o.open < index && index < o.close)
                .max_by_key(|o| o.open)
                .map(|o| o.name.clone());
            functions.push(Function {
                name: owner.map_or(name.clone(), |owner| format!("{owner}::{name}")),
                open,
                close: self.matches[open].expect("delimiters are matched"),
            });
        }
        functions
    }

    /// The `{` that opens the body of the function whose signature starts at `from`, or
    /// `None` for a declaration without a body (`fn f();`).
    fn body_of(&self, from: usize) -> Option<usize> {
        let mut index = from;
        while index < self.tokens.len() {
            match (self.tokens[index].kind, self.text(index)) {
                (Kind::Open, "{") => return Some(index),
                (Kind::Open, _) => index = self.matches[index]?,
                (Kind::Punct, ";") => return None,
                _ => {}
            }
            index += 1;
        }
        None
    }

    /// The `impl` and `trait` blocks, with the name of the type (or trait) they belong to.
    fn owners(&self) -> Vec<Owner> {
        let mut owners = Vec::new();
        for index in 0..self.tokens.len() {
            let keyword = self.tokens[index].kind == Kind::Ident
                && matches!(self.text(index), "impl" | "trait");
            if !keyword || !self.starts_item(index) {
                continue;
            }
            let Some(open) = self.body_of(index + 1) else { continue };
            let header: Vec<&str> = (index + 1..open).map(|i| self.text(i)).collect();
            let close = self.matches[open].expect("delimiters are matched");
            owners.push(Owner { name: owner_name(&header), open, close });
        }
        owners
    }

    /// Does the keyword at `index` start an item (not `impl Trait` in a type position)?
    fn starts_item(&self, index: usize) -> bool {
        let Some(previous) = index.checked_sub(1) else { return true };
        matches!(self.text(previous), "}" | ";" | "{" | "]" | ")" | "pub" | "unsafe" | "default")
    }

    /// The stubs: functions whose body calls `todo!`, outermost only, in source order.
    pub fn stubs(&self) -> Vec<Stub> {
        let mut stubs: Vec<Stub> = Vec::new();
        for function in self.functions() {
            if stubs.last().is_some_and(|s| function.open < s.function.close) {
                continue;
            }
            let Some(call) =
                (function.open..function.close).find(|&i| self.is_macro_call(i, "todo"))
            else {
                continue;
            };
            let message = self
                .tokens
                .get(call + 3)
                .filter(|t| t.kind == Kind::Str)
                .and_then(|t| lexer::string_value(t.text(self.source)));
            let line = lexer::line_of(self.source, self.tokens[call].start);
            stubs.push(Stub { function, line, message });
        }
        stubs
    }

    /// The modules declared with `mod name;`, in order.
    pub fn declared_modules(&self) -> Vec<String> {
        (0..self.tokens.len())
            .filter(|&i| self.is(i, Kind::Ident, "mod") && self.is(i + 2, Kind::Punct, ";"))
            .map(|i| self.text(i + 1).to_string())
            .collect()
    }

    /// The byte range of a function's body, braces included.
    pub fn body_range(&self, function: &Function) -> (usize, usize) {
        (self.tokens[function.open].start, self.tokens[function.close].end)
    }
}

/// A function with a body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Function {
    /// `name`, or `Type::name` inside an `impl Type` or `trait Type` block.
    pub name: String,
    /// Token index of the body's `{`.
    pub open: usize,
    /// Token index of the body's `}`.
    pub close: usize,
}

/// A function whose body calls `todo!`: what the learner fills in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stub {
    /// The function.
    pub function: Function,
    /// 1-based line of its `todo!`.
    pub line: usize,
    /// The `todo!`'s message (format string), if it has one.
    pub message: Option<String>,
}

struct Owner {
    name: String,
    open: usize,
    close: usize,
}

/// The type an `impl` block is for (`impl<T> fmt::Display for Log<T>` → `Log`), or the name
/// of a trait; `header` is the tokens between the keyword and the `{`.
fn owner_name(header: &[&str]) -> String {
    let mut depth = 0i32;
    let mut previous = "";
    let mut at_depth_zero = Vec::new();
    for &token in header {
        match token {
            "<" => depth += 1,
            ">" if previous != "-" => depth -= 1,
            _ if depth == 0 => at_depth_zero.push(token),
            _ => {}
        }
        previous = token;
    }
    let after_for = match at_depth_zero.iter().position(|&t| t == "for") {
        Some(position) => &at_depth_zero[position + 1..],
        None => &at_depth_zero[..],
    };
    let end = after_for.iter().position(|&t| t == "where").unwrap_or(after_for.len());
    after_for[..end]
        .iter()
        .rev()
        .find(|t| t.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_'))
        .map_or_else(String::new, |t| t.to_string())
}

/// The `.rs` files under `src`, in reading order: `lib.rs` (or `main.rs`), then the modules
/// in the order they are declared (depth first), then any other file, sorted.
pub fn rust_files_in_reading_order(src: &Path) -> io::Result<Vec<PathBuf>> {
    let all = rust_files(src)?;
    let mut ordered = Vec::new();
    for root in ["lib.rs", "main.rs"] {
        let path = src.join(root);
        if path.is_file() {
            visit_module(&path, src, &mut ordered)?;
        }
    }
    for path in all {
        if !ordered.contains(&path) {
            ordered.push(path);
        }
    }
    Ok(ordered)
}

fn visit_module(path: &Path, dir: &Path, ordered: &mut Vec<PathBuf>) -> io::Result<()> {
    if ordered.iter().any(|p| p == path) {
        return Ok(());
    }
    ordered.push(path.to_path_buf());
    let text = fs::read_to_string(path)?;
    let Ok(parsed) = Parsed::new(&text) else { return Ok(()) };
    for module in parsed.declared_modules() {
        let flat = dir.join(format!("{module}.rs"));
        let nested = dir.join(&module).join("mod.rs");
        if flat.is_file() {
            visit_module(&flat, &dir.join(&module), ordered)?;
        } else if nested.is_file() {
            visit_module(&nested, &dir.join(&module), ordered)?;
        }
    }
    Ok(())
}

/// Reads and parses every `.rs` file under `dir`, in path order, and gathers what `each`
/// finds in it (`each` gets the file and its parse); `Err` names a file it cannot read.
pub fn gather<T>(
    dir: &Path,
    mut each: impl FnMut(&Path, &Parsed<'_>) -> Vec<T>,
) -> Result<Vec<T>, String> {
    let files = rust_files(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut found = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let parsed = Parsed::new(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        found.extend(each(&file, &parsed));
    }
    Ok(found)
}

/// Every `.rs` file under `dir`, recursively, in path order.
pub fn rust_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    files_with(dir, "rs")
}

/// Every file under `dir` whose name ends in `.extension`, recursively, in path order (every
/// caller reports or reads them in a fixed order).
pub fn files_with(dir: &Path, extension: &str) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in fs::read_dir(&current)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == extension) {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// `path` with `.` removed and `..` resolved lexically
/// (`solutions/x/../../exercises/x/tests/a.rs` → `exercises/x/tests/a.rs`).
pub fn normalize(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    normal
}

/// Does `printed`, the text after `not yet implemented: ` in a failure's output (up to the
/// end of its line), come from a `todo!` whose message is `template`? Placeholders (`{…}`)
/// stand for any text, and the line may go on after the message (a report may quote it).
pub fn message_matches(template: &str, printed: &str) -> bool {
    let pieces = template_pieces(template);
    let (first, others) = pieces.split_first().expect("a template has at least one piece");
    let Some(mut rest) = printed.strip_prefix(first.as_str()) else { return false };
    let Some((last, middle)) = others.split_last() else { return true };
    for piece in middle {
        match rest.find(piece.as_str()) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.contains(last.as_str())
}

/// The literal pieces of a format string, split at its `{…}` placeholders (`{{` and `}}` are
/// literal braces).
fn template_pieces(template: &str) -> Vec<String> {
    let mut pieces = vec![String::new()];
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                pieces.last_mut().expect("never empty").push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                pieces.last_mut().expect("never empty").push('}');
            }
            '{' => {
                for inner in chars.by_ref() {
                    if inner == '}' {
                        break;
                    }
                }
                pieces.push(String::new());
            }
            _ => pieces.last_mut().expect("never empty").push(c),
        }
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = r#"
impl<T: Clone> fmt::Display for Log<T> where T: Debug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // TODO: print the log.
        todo!("print {} entries (§5.3)", self.len())
    }
}

trait Node { fn id(&self) -> u64; fn tick(&mut self) { let s = "}"; } }

fn free(x: impl Into<String>) -> impl Fn() -> u32 {
    let _ = |y: u32| { todo!() };
    todo!("never reached")
}
"#;

    #[test]
    fn stubs_are_named_after_their_impl_type_and_carry_their_message() {
        let parsed = Parsed::new(SOURCE).unwrap();
        let stubs: Vec<(String, usize, Option<String>)> =
            parsed.stubs().into_iter().map(|s| (s.function.name, s.line, s.message)).collect();
        assert_eq!(
            stubs,
            [
                ("Log::fmt".to_string(), 5, Some("print {} entries (§5.3)".to_string())),
                ("free".to_string(), 12, None),
            ]
        );
    }

    #[test]
    fn functions_without_bodies_are_skipped_and_trait_defaults_named() {
        let parsed = Parsed::new(SOURCE).unwrap();
        let names: Vec<String> = parsed.functions().into_iter().map(|f| f.name).collect();
        assert_eq!(names, ["Log::fmt", "Node::tick", "free"]);
    }

    #[test]
    fn parent_components_are_resolved() {
        let path = Path::new("/w/solutions/x/../../exercises/./x/tests/a.rs");
        assert_eq!(normalize(path), Path::new("/w/exercises/x/tests/a.rs"));
    }

    #[test]
    fn printed_messages_match_their_template() {
        assert!(message_matches("print {} entries (§5.3)", "print 3 entries (§5.3)"));
        assert!(message_matches("plain (§5.1)", "plain (§5.1)"));
        assert!(message_matches("plain (§5.1)", "plain (§5.1)\" at tick 7"));
        assert!(!message_matches("plain (§5.1)", "other (§5.1)"));
        assert!(!message_matches("print {n} entries", "show 3 entries"));
        assert!(message_matches("{{literal}} {x}", "{literal} 7"));
    }
}
