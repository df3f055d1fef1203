//! A small Rust lexer: just enough to find braces, identifiers and string literals without
//! being fooled by braces inside strings, raw strings, chars, lifetimes or comments.
//!
//! Comments and whitespace produce no tokens. Numbers are kept loose (any run of
//! alphanumerics after a digit); the course tools only look at identifiers, punctuation,
//! delimiters and string literals.

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An identifier or keyword, raw identifiers included (`r#type`).
    Ident,
    /// A lifetime or loop label (`'a`).
    Lifetime,
    /// A string literal of any form (`"…"`, `r#"…"#`, `b"…"`, `c"…"`).
    Str,
    /// A char or byte literal (`'x'`, `b'\n'`).
    Char,
    /// A number.
    Number,
    /// An opening delimiter: `(`, `[` or `{`.
    Open,
    /// A closing delimiter: `)`, `]` or `}`.
    Close,
    /// Any other single punctuation character (`!`, `;`, `<`, `-`, …).
    Punct,
}

/// A token: its kind and its byte range in the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: Kind,
    /// Byte offset of its first character.
    pub start: usize,
    /// Byte offset just past its last character.
    pub end: usize,
}

impl Token {
    /// The token's text in `source`.
    pub fn text<'a>(&self, source: &'a str) -> &'a str {
        &source[self.start..self.end]
    }
}

/// The 1-based line of byte offset `offset` in `source`.
pub fn line_of(source: &str, offset: usize) -> usize {
    source.as_bytes()[..offset.min(source.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

/// Splits `source` into tokens; `Err` names what is unterminated (a string, a char literal, a
/// comment) and the line where it starts.
pub fn tokenize(source: &str) -> Result<Vec<Token>, String> {
    let mut lexer = Lexer { source, bytes: source.as_bytes(), pos: 0, tokens: Vec::new() };
    lexer.run()?;
    Ok(lexer.tokens)
}

/// For each token index, the index of its matching delimiter, if it is one: `(`↔`)`,
/// `[`↔`]`, `{`↔`}`. Unbalanced or mismatched delimiters give an error with the line.
pub fn match_delimiters(source: &str, tokens: &[Token]) -> Result<Vec<Option<usize>>, String> {
    let mut matches = vec![None; tokens.len()];
    let mut open: Vec<usize> = Vec::new();
    for (index, token) in tokens.iter().enumerate() {
        match token.kind {
            Kind::Open => open.push(index),
            Kind::Close => {
                let Some(opener) = open.pop() else {
                    return Err(format!(
                        "line {}: unmatched `{}`",
                        line_of(source, token.start),
                        token.text(source)
                    ));
                };
                let pair = (tokens[opener].text(source), token.text(source));
                if !matches!(pair, ("(", ")") | ("[", "]") | ("{", "}")) {
                    return Err(format!(
                        "line {}: `{}` closed by `{}` on line {}",
                        line_of(source, tokens[opener].start),
                        pair.0,
                        pair.1,
                        line_of(source, token.start)
                    ));
                }
                matches[opener] = Some(index);
                matches[index] = Some(opener);
            }
            Kind::Ident | Kind::Lifetime | Kind::Str | Kind::Char | Kind::Number | Kind::Punct => {}
        }
    }
    match open.pop() {
        Some(opener) => Err(format!(
            "line {}: unclosed `{}`",
            line_of(source, tokens[opener].start),
            tokens[opener].text(source)
        )),
        None => Ok(matches),
    }
}

/// The value of a plain or raw string literal token (`"a\"b"` → `a"b`), with the common
/// escapes resolved; `None` for byte and C strings.
pub fn string_value(literal: &str) -> Option<String> {
    if let Some(raw) = literal.strip_prefix('r') {
        let hashes = raw.len() - raw.trim_start_matches('#').len();
        return Some(raw[hashes + 1..raw.len() - hashes - 1].to_string());
    }
    let inner = literal.strip_prefix('"')?.strip_suffix('"')?;
    let mut value = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            value.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => value.push('\n'),
            Some('t') => value.push('\t'),
            Some('r') => value.push('\r'),
            Some('0') => value.push('\0'),
            // A line continuation: the newline and the next line's indentation vanish.
            Some('\n') => {
                let rest = chars.as_str().trim_start();
                chars = rest.chars();
            }
            Some(other) => value.push(other),
            None => {}
        }
    }
    Some(value)
}

struct Lexer<'a> {
    source: &'a str,
    bytes: &'a [u8],
    pos: usize,
    tokens: Vec<Token>,
}

impl Lexer<'_> {
    fn run(&mut self) -> Result<(), String> {
        while let Some(c) = self.peek(0) {
            let start = self.pos;
            match c {
                b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                b'/' if self.peek(1) == Some(b'/') => self.skip_line_comment(),
                b'/' if self.peek(1) == Some(b'*') => self.skip_block_comment()?,
                b'"' => self.string(start, self.pos)?,
                b'\'' => self.quote(start)?,
                b'0'..=b'9' => self.number(start),
                b'(' | b'[' | b'{' => self.single(Kind::Open),
                b')' | b']' | b'}' => self.single(Kind::Close),
                c if c == b'_' || c.is_ascii_alphabetic() || c >= 0x80 => self.word(start)?,
                _ => self.single(Kind::Punct),
            }
        }
        Ok(())
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    fn push(&mut self, kind: Kind, start: usize) {
        self.tokens.push(Token { kind, start, end: self.pos });
    }

    fn single(&mut self, kind: Kind) {
        self.pos += 1;
        self.push(kind, self.pos - 1);
    }

    fn error(&self, start: usize, what: &str) -> String {
        format!("line {}: unterminated {what}", line_of(self.source, start))
    }

    fn skip_line_comment(&mut self) {
        while let Some(c) = self.peek(0) {
            if c == b'\n' {
                break;
            }
            self.pos += 1;
        }
    }

    /// Block comments nest in Rust: `/* a /* b */ c */` is one comment.
    fn skip_block_comment(&mut self) -> Result<(), String> {
        let start = self.pos;
        let mut depth = 0;
        loop {
            match (self.peek(0), self.peek(1)) {
                (Some(b'/'), Some(b'*')) => {
                    depth += 1;
                    self.pos += 2;
                }
                (Some(b'*'), Some(b'/')) => {
                    depth -= 1;
                    self.pos += 2;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                (Some(_), _) => self.pos += 1,
                (None, _) => return Err(self.error(start, "block comment")),
            }
        }
    }

    /// A `"…"` string whose opening quote is at `self.pos`; `start` includes any prefix.
    fn string(&mut self, start: usize, quote: usize) -> Result<(), String> {
        self.pos = quote + 1;
        self.escaped(start, b'"', Kind::Str)
    }

    /// A raw string `r#"…"#` whose `#`s (if any) start at `self.pos`.
    fn raw_string(&mut self, start: usize) -> Result<(), String> {
        let hashes = self.bytes[self.pos..].iter().take_while(|&&b| b == b'#').count();
        self.pos += hashes;
        if self.peek(0) != Some(b'"') {
            return Err(self.error(start, "raw string"));
        }
        self.pos += 1;
        let closing: Vec<u8> =
            std::iter::once(b'"').chain(std::iter::repeat_n(b'#', hashes)).collect();
        match self.bytes[self.pos..].windows(closing.len()).position(|w| w == closing.as_slice()) {
            Some(at) => {
                self.pos += at + closing.len();
                self.push(Kind::Str, start);
                Ok(())
            }
            None => Err(self.error(start, "raw string")),
        }
    }

    /// `'` starts a char literal (`'x'`, `'\n'`, `'\u{1F600}'`) or a lifetime (`'a`).
    fn quote(&mut self, start: usize) -> Result<(), String> {
        let rest = &self.source[start + 1..];
        let mut chars = rest.chars();
        match (chars.next(), chars.next()) {
            (Some('\\'), _) => {
                self.pos = start + 1;
                self.escaped(start, b'\'', Kind::Char)
            }
            (Some(c), Some('\'')) => {
                self.pos = start + 1 + c.len_utf8() + 1;
                self.push(Kind::Char, start);
                Ok(())
            }
            (Some(_), _) => {
                self.pos = start + 1;
                self.ident_chars();
                self.push(Kind::Lifetime, start);
                Ok(())
            }
            (None, _) => Err(self.error(start, "char literal")),
        }
    }

    /// The rest of a string or an escaped char literal up to its closing byte `close`, from
    /// just after its opening quote (a char literal ends before the end of its line).
    fn escaped(&mut self, start: usize, close: u8, kind: Kind) -> Result<(), String> {
        let what = if kind == Kind::Str { "string" } else { "char literal" };
        loop {
            match self.peek(0) {
                Some(b'\\') => self.pos += 2,
                Some(byte) if byte == close => {
                    self.pos += 1;
                    self.push(kind, start);
                    return Ok(());
                }
                Some(b'\n') if kind == Kind::Char => return Err(self.error(start, what)),
                None => return Err(self.error(start, what)),
                Some(_) => self.pos += 1,
            }
        }
    }

    fn number(&mut self, start: usize) {
        self.ident_chars();
        // A fraction, but not a range (`1..2`) or a method call on an integer (`1.max(2)`).
        if self.peek(0) == Some(b'.') && self.peek(1).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
            self.ident_chars();
        }
        self.push(Kind::Number, start);
    }

    fn ident_chars(&mut self) {
        while let Some(c) = self.peek(0) {
            if c == b'_' || c.is_ascii_alphanumeric() || c >= 0x80 {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    /// An identifier, or a prefixed literal: `b"…"`, `c"…"`, `r"…"`, `r#"…"#`, `br"…"`,
    /// `b'x'`, or a raw identifier `r#name`.
    fn word(&mut self, start: usize) -> Result<(), String> {
        self.ident_chars();
        let word = &self.source[start..self.pos];
        match (word, self.peek(0), self.peek(1)) {
            ("b" | "c", Some(b'"'), _) => self.string(start, self.pos),
            ("r" | "br" | "cr", Some(b'"'), _) => self.raw_string(start),
            ("r" | "br" | "cr", Some(b'#'), Some(b'"' | b'#')) => self.raw_string(start),
            ("r", Some(b'#'), _) => {
                self.pos += 1;
                self.ident_chars();
                self.push(Kind::Ident, start);
                Ok(())
            }
            ("b", Some(b'\''), _) => {
                self.pos += 1;
                self.escaped(start, b'\'', Kind::Char)
            }
            _ => {
                self.push(Kind::Ident, start);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(source: &str) -> Vec<String> {
        tokenize(source).unwrap().iter().map(|t| t.text(source).to_string()).collect()
    }

    #[test]
    fn braces_inside_strings_chars_and_comments_are_not_tokens() {
        let source = r####"f("{", '{', b'}', r#"}"#, br"{", /* { /* } */ */ x) // }
        'a: loop {}"####;
        let kinds: Vec<String> = texts(source);
        assert_eq!(
            kinds,
            [
                "f", "(", "\"{\"", ",", "'{'", ",", "b'}'", ",", "r#\"}\"#", ",", "br\"{\"", ",",
                "x", ")", "'a", ":", "loop", "{", "}"
            ]
        );
    }

    #[test]
    fn lifetimes_are_not_char_literals() {
        let source = "fn f<'a>(x: &'a str) -> char { '\\'' }";
        let tokens = tokenize(source).unwrap();
        let lifetimes: Vec<&str> =
            tokens.iter().filter(|t| t.kind == Kind::Lifetime).map(|t| t.text(source)).collect();
        assert_eq!(lifetimes, ["'a", "'a"]);
        assert!(tokens.iter().any(|t| t.kind == Kind::Char && t.text(source) == "'\\''"));
    }

    #[test]
    fn escaped_quotes_do_not_end_a_string() {
        assert_eq!(texts(r#"x("a\"}b", 1)"#), ["x", "(", r#""a\"}b""#, ",", "1", ")"]);
    }

    #[test]
    fn unterminated_literals_are_errors_with_their_line() {
        assert_eq!(tokenize("a\n\"open").unwrap_err(), "line 2: unterminated string");
        assert_eq!(tokenize("/* /* */").unwrap_err(), "line 1: unterminated block comment");
    }

    #[test]
    fn delimiters_are_matched_or_reported() {
        let source = "{ ( [ ] ) }";
        let tokens = tokenize(source).unwrap();
        assert_eq!(match_delimiters(source, &tokens).unwrap()[0], Some(5));
        let broken = "{ ( }";
        let tokens = tokenize(broken).unwrap();
        assert!(match_delimiters(broken, &tokens).unwrap_err().contains("`(` closed by `}`"));
    }

    #[test]
    fn string_values_resolve_escapes() {
        assert_eq!(string_value(r#""a\"b\n""#).unwrap(), "a\"b\n");
        assert_eq!(string_value(r##"r#"x"y"#"##).unwrap(), "x\"y");
        assert_eq!(string_value("b\"x\""), None);
    }
}
