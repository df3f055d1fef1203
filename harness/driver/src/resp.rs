//! The Redis protocol (RESP2) as clients send it: commands in, replies out.
//!
//! A client sends a command as an array of bulk strings (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`), or
//! as one *inline* line (`PING\r\n`, as `redis-benchmark`'s PING_INLINE and a person on telnet
//! send it). These are the only two forms a Redis server accepts from a client, and the parser
//! below takes exactly them, with Redis's own error texts and limits.
//!
//! Why by hand and not a crate: `redis-protocol` 6.0.0, the well-kept RESP crate, parses any
//! RESP value, nested arrays included, by recursion: 4 MB of `*1\r\n` (one million nested
//! arrays) overflowed the stack and aborted the process in a measurement on this machine, so
//! one client could kill a server. It also takes no inline commands, re-parses the buffer from
//! its start on every read, and did not build with its `resp2` feature alone. A client's
//! command is a flat array of strings: the parser is a loop, not a recursion.

/// The longest inline command, as Redis (`PROTO_INLINE_MAX_SIZE`).
pub const MAX_INLINE: usize = 64 * 1024;
/// The most arguments in one command (Redis allows more once authenticated; 1M is plenty).
pub const MAX_ARGS: usize = 1024 * 1024;
/// The longest argument: 16 MiB (Redis: 512 MiB, `proto-max-bulk-len`).
pub const MAX_BULK: usize = 16 * 1024 * 1024;

/// A client broke the protocol: the reply is this error, then the connection closes (as Redis
/// does: after a protocol error the rest of the stream cannot be trusted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolError(pub String);

/// A command's arguments and the bytes it took, `None` if incomplete, or a protocol error.
pub type Parsed = Result<Option<(Vec<Vec<u8>>, usize)>, ProtocolError>;

/// The first command in `buffer`: its arguments and how many bytes it took, or `None` if the
/// buffer does not hold a whole command yet. An empty inline line or `*0` is a command with no
/// argument (ignored, as Redis does).
pub fn parse_command(buffer: &[u8]) -> Parsed {
    match buffer.first() {
        None => Ok(None),
        Some(b'*') => parse_multibulk(buffer),
        Some(_) => parse_inline(buffer),
    }
}

fn protocol_error(what: &str) -> ProtocolError {
    ProtocolError(format!("ERR Protocol error: {what}"))
}

/// `PING\r\n`, `SET k v\n`: split on spaces and tabs.
fn parse_inline(buffer: &[u8]) -> Parsed {
    let Some(end) = buffer.iter().position(|&byte| byte == b'\n') else {
        if buffer.len() > MAX_INLINE {
            return Err(protocol_error("too big inline request"));
        }
        return Ok(None);
    };
    if end > MAX_INLINE {
        return Err(protocol_error("too big inline request"));
    }
    let line = buffer[..end].strip_suffix(b"\r").unwrap_or(&buffer[..end]);
    let args = line
        .split(|&byte| byte == b' ' || byte == b'\t')
        .filter(|arg| !arg.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    Ok(Some((args, end + 1)))
}

/// `*<n>\r\n` then `n` times `$<len>\r\n<len bytes>\r\n`.
fn parse_multibulk(buffer: &[u8]) -> Parsed {
    let Some((count, mut at)) = read_line_number(buffer, 1, "invalid multibulk length")? else {
        return Ok(None);
    };
    if count > MAX_ARGS as i64 {
        return Err(protocol_error("invalid multibulk length"));
    }
    let count = count.max(0) as usize; // `*-1` and `*0`: nothing
    let mut args = Vec::with_capacity(count.min(1024));
    for _ in 0..count {
        let Some(&kind) = buffer.get(at) else { return Ok(None) };
        if kind != b'$' {
            return Err(protocol_error(&format!("expected '$', got '{}'", kind as char)));
        }
        let Some((len, data)) = read_line_number(buffer, at + 1, "invalid bulk length")? else {
            return Ok(None);
        };
        if !(0..=MAX_BULK as i64).contains(&len) {
            return Err(protocol_error("invalid bulk length"));
        }
        let end = data + len as usize;
        if buffer.len() < end + 2 {
            return Ok(None);
        }
        if &buffer[end..end + 2] != b"\r\n" {
            return Err(protocol_error("bulk string not followed by CRLF"));
        }
        args.push(buffer[data..end].to_vec());
        at = end + 2;
    }
    Ok(Some((args, at)))
}

/// The decimal number from `from` up to `\r\n`, and the offset after it; `None` if the line
/// is not complete yet.
fn read_line_number(
    buffer: &[u8],
    from: usize,
    error: &str,
) -> Result<Option<(i64, usize)>, ProtocolError> {
    let rest = &buffer[from.min(buffer.len())..];
    let Some(end) = rest.iter().position(|&byte| byte == b'\r') else {
        if rest.len() > 32 {
            return Err(protocol_error(error));
        }
        return Ok(None);
    };
    if end > 20 {
        return Err(protocol_error(error));
    }
    let Some(&next) = rest.get(end + 1) else { return Ok(None) };
    let number = std::str::from_utf8(&rest[..end]).ok().and_then(|text| text.parse().ok());
    match (next, number) {
        (b'\n', Some(number)) => Ok(Some((number, from + end + 2))),
        _ => Err(protocol_error(error)),
    }
}

/// A reply to a client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// `+OK`
    Simple(String),
    /// `-ERR ...`: the text includes its code (`ERR`, `TRYAGAIN`, ...).
    Error(String),
    /// `:42`
    Integer(i64),
    /// `$3\r\nabc`, or `$-1` (nil) for `None`.
    Bulk(Option<Vec<u8>>),
    /// `*2\r\n...`
    Array(Vec<Value>),
}

impl Value {
    /// `+OK`.
    pub fn ok() -> Value {
        Value::Simple("OK".to_string())
    }

    /// Appends this reply's bytes to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Value::Simple(text) => line(out, b'+', text.as_bytes()),
            Value::Error(text) => line(out, b'-', text.as_bytes()),
            Value::Integer(number) => line(out, b':', number.to_string().as_bytes()),
            Value::Bulk(None) => out.extend_from_slice(b"$-1\r\n"),
            Value::Bulk(Some(bytes)) => {
                line(out, b'$', bytes.len().to_string().as_bytes());
                out.extend_from_slice(bytes);
                out.extend_from_slice(b"\r\n");
            }
            Value::Array(values) => {
                line(out, b'*', values.len().to_string().as_bytes());
                for value in values {
                    value.encode(out);
                }
            }
        }
    }
}

/// `<kind><text>\r\n`, with any CR or LF in `text` replaced by a space (a simple string or an
/// error is one line).
fn line(out: &mut Vec<u8>, kind: u8, text: &[u8]) {
    out.push(kind);
    out.extend(text.iter().map(|&byte| if byte == b'\r' || byte == b'\n' { b' ' } else { byte }));
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<Vec<u8>> {
        list.iter().map(|arg| arg.as_bytes().to_vec()).collect()
    }

    #[test]
    fn a_multibulk_command_parses_and_says_its_length() {
        let bytes = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nv a\r\n\r\n*1\r\n";
        let (parsed, used) = parse_command(bytes).expect("valid").expect("whole");
        assert_eq!(parsed, args(&["SET", "k", "v a\r\n"]));
        assert_eq!(&bytes[used..], b"*1\r\n");
    }

    #[test]
    fn every_prefix_of_a_command_is_incomplete_not_an_error() {
        let bytes = b"*2\r\n$4\r\nECHO\r\n$11\r\nhello world\r\n";
        for cut in 0..bytes.len() {
            assert_eq!(parse_command(&bytes[..cut]), Ok(None), "cut at {cut}");
        }
        assert!(parse_command(bytes).expect("valid").is_some());
    }

    #[test]
    fn inline_commands_split_on_spaces() {
        assert_eq!(parse_command(b"PING\r\n"), Ok(Some((args(&["PING"]), 6))));
        assert_eq!(parse_command(b"set  k\tv\n"), Ok(Some((args(&["set", "k", "v"]), 9))));
        assert_eq!(parse_command(b"\r\n"), Ok(Some((vec![], 2))));
    }

    #[test]
    fn broken_frames_get_redis_errors() {
        let error = |bytes: &[u8]| parse_command(bytes).expect_err("an error").0;
        assert_eq!(error(b"*2\r\n*1\r\n"), "ERR Protocol error: expected '$', got '*'");
        assert_eq!(error(b"*x\r\n"), "ERR Protocol error: invalid multibulk length");
        assert_eq!(error(b"*1\r\n$-5\r\n"), "ERR Protocol error: invalid bulk length");
        assert_eq!(error(b"*9999999999\r\n"), "ERR Protocol error: invalid multibulk length");
        assert_eq!(error(b"*1\r\n$99999999999\r\n"), "ERR Protocol error: invalid bulk length");
        assert_eq!(
            error(b"*1\r\n$1\r\nab\r\n"),
            "ERR Protocol error: bulk string not followed by CRLF"
        );
        assert_eq!(error(&[b'x'; MAX_INLINE + 1]), "ERR Protocol error: too big inline request");
    }

    /// The input that overflows a recursive parser's stack is one error here.
    #[test]
    fn a_million_nested_arrays_are_one_error() {
        let bytes = b"*1\r\n".repeat(1_000_000);
        assert!(parse_command(&bytes).is_err());
    }

    #[test]
    fn replies_encode_as_redis_writes_them() {
        let mut out = Vec::new();
        let reply = Value::Array(vec![
            Value::ok(),
            Value::Error("ERR bad\r\nthing".into()),
            Value::Integer(-3),
            Value::Bulk(Some(b"a\r\nb".to_vec())),
            Value::Bulk(None),
        ]);
        reply.encode(&mut out);
        assert_eq!(out, b"*5\r\n+OK\r\n-ERR bad  thing\r\n:-3\r\n$4\r\na\r\nb\r\n$-1\r\n");
    }
}
