//! Checksummed records: the unit every file on disk is made of.
//!
//! A record is a 12-byte header and a payload:
//!
//! ```text
//! [len: u32 LE][crc32c(payload): u32 LE][crc32c(the 8 bytes before): u32 LE][payload: len bytes]
//! ```
//!
//! The header carries its own checksum so that a damaged *length* is told apart from a record
//! cut short: without it, a flipped bit in a length in the middle of the log could point past
//! the end of the file and pass for a crash mid-write, and the records after it would be cut
//! without a word.
//!
//! # Torn tail or damage
//!
//! The log is only ever appended to, and a crash can only tear the last write: the file then
//! ends inside a record, or (after a power loss) its last pages read as zeros. So a bad record
//! is a *torn tail*, cut off on start, when nothing but zeros follows it; anything else is
//! *damage*, and the node refuses to start: a record in the middle of the log that does not
//! match its checksum was written whole and synced once, so the disk lost what the node had
//! promised to keep (§5.1), and a node that votes or answers from it may break safety.
//!
//! One case cannot be told apart: a bit flipped in the very last record reads as a torn tail
//! and is cut. etcd's and LevelDB's logs make the same choice; the entry comes back from the
//! leader like any entry a follower lacks (§5.3).

use std::fmt;
use std::path::{Path, PathBuf};

/// Bytes in a record's header.
pub const HEADER: usize = 12;

/// The largest payload a record may carry (1 GiB): a length above it is damage, not data.
pub const MAX_PAYLOAD: usize = 1 << 30;

/// `payload` as one record, header first.
pub fn encode(payload: &[u8]) -> Vec<u8> {
    let mut record = Vec::with_capacity(HEADER + payload.len());
    append(&mut record, payload);
    record
}

/// Appends `payload` as one record to `buffer` (a batch of records written with one call).
pub fn append(buffer: &mut Vec<u8>, payload: &[u8]) {
    let len = u32::try_from(payload.len()).expect("a record payload fits in 4 GiB");
    assert!(payload.len() <= MAX_PAYLOAD, "a record of {} bytes is over the limit", payload.len());
    let mut header = [0u8; HEADER];
    header[0..4].copy_from_slice(&len.to_le_bytes());
    header[4..8].copy_from_slice(&crc32c::crc32c(payload).to_le_bytes());
    let check = crc32c::crc32c(&header[0..8]);
    header[8..12].copy_from_slice(&check.to_le_bytes());
    buffer.extend_from_slice(&header);
    buffer.extend_from_slice(payload);
}

/// What a file of records holds.
#[derive(Debug, PartialEq, Eq)]
pub struct Scan<'a> {
    /// The payloads of the good records, in file order.
    pub payloads: Vec<&'a [u8]>,
    /// The byte offset just after the last good record: where the file must be cut, and where
    /// the next record goes.
    pub good_len: u64,
    /// A torn tail after the good records, if any: its offset and why it is not a record.
    pub torn: Option<Torn>,
}

/// The end of a file that a crash left half-written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Torn {
    /// The offset where the torn record starts.
    pub offset: u64,
    /// How many bytes from there to the end of the file.
    pub bytes: u64,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// A record that was written whole and is now wrong: the disk lost data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damaged {
    /// The file.
    pub file: PathBuf,
    /// The byte offset of the damaged record's header.
    pub offset: u64,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl fmt::Display for Damaged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: damaged record at byte offset {} ({}); records follow it, so this is not a \
             crash mid-write but a disk that lost data it had synced. Refusing to start: a node \
             must not vote or answer from a damaged log (§5.1). Restore this data directory \
             from a copy, or replace the node.",
            self.file.display(),
            self.offset,
            self.reason
        )
    }
}

impl std::error::Error for Damaged {}

/// Reads `bytes`, the content of `file`, as records: the good ones, then a torn tail (nothing
/// but zeros after the first bad record) or an error naming the file and the offset of the
/// first bad record.
pub fn scan<'a>(file: &Path, bytes: &'a [u8]) -> Result<Scan<'a>, Damaged> {
    let mut payloads = Vec::new();
    let mut offset = 0usize;
    while offset < bytes.len() {
        match read_one(&bytes[offset..]) {
            Ok(payload) => {
                payloads.push(payload);
                offset += HEADER + payload.len();
            }
            Err(bad) => {
                let rest = &bytes[offset + bad.skip.min(bytes.len() - offset)..];
                if bad.at_end || rest.iter().all(|&byte| byte == 0) {
                    let torn = Torn {
                        offset: offset as u64,
                        bytes: (bytes.len() - offset) as u64,
                        reason: bad.reason,
                    };
                    return Ok(Scan { payloads, good_len: offset as u64, torn: Some(torn) });
                }
                let file = file.to_path_buf();
                return Err(Damaged { file, offset: offset as u64, reason: bad.reason });
            }
        }
    }
    Ok(Scan { payloads, good_len: offset as u64, torn: None })
}

/// Why the bytes at an offset are not a record.
struct Bad {
    /// The record runs past the end of the file: only a torn write looks like this.
    at_end: bool,
    /// How many bytes the bad record claims (header included), where its header is readable:
    /// what follows them decides between torn and damaged.
    skip: usize,
    reason: &'static str,
}

/// The payload of the record at the start of `bytes`, or why there is none.
fn read_one(bytes: &[u8]) -> Result<&[u8], Bad> {
    if bytes.len() < HEADER {
        return Err(Bad { at_end: true, skip: 0, reason: "header cut short" });
    }
    let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    if crc32c::crc32c(&bytes[0..8]) != word(8) {
        return Err(Bad { at_end: false, skip: 0, reason: "header checksum mismatch" });
    }
    let len = word(0) as usize;
    if len > MAX_PAYLOAD {
        return Err(Bad { at_end: false, skip: 0, reason: "length over the limit" });
    }
    let Some(payload) = bytes.get(HEADER..HEADER + len) else {
        return Err(Bad { at_end: true, skip: 0, reason: "payload cut short" });
    };
    if crc32c::crc32c(payload) != word(4) {
        return Err(Bad { at_end: false, skip: HEADER + len, reason: "payload checksum mismatch" });
    }
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_of(payloads: &[&[u8]]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for payload in payloads {
            append(&mut bytes, payload);
        }
        bytes
    }

    fn path() -> &'static Path {
        Path::new("data/log-0")
    }

    #[test]
    fn records_read_back_in_order() {
        let bytes = file_of(&[b"one", b"", b"three"]);
        let scan = scan(path(), &bytes).expect("good records");
        assert_eq!(scan.payloads, vec![&b"one"[..], b"", b"three"]);
        assert_eq!(scan.good_len, bytes.len() as u64);
        assert_eq!(scan.torn, None);
    }

    #[test]
    fn an_empty_file_holds_no_record() {
        assert_eq!(scan(path(), &[]), Ok(Scan { payloads: vec![], good_len: 0, torn: None }));
    }

    /// A crash mid-append leaves any prefix of the last record: every cut is a torn tail,
    /// and the records before it are kept.
    #[test]
    fn every_cut_inside_the_last_record_is_a_torn_tail() {
        let whole = file_of(&[b"first", b"second record"]);
        let first_len = (HEADER + 5) as u64;
        for cut in first_len as usize + 1..whole.len() {
            let scan = scan(path(), &whole[..cut]).unwrap_or_else(|error| {
                panic!("a file cut at byte {cut} of {} read as damaged: {error}", whole.len())
            });
            assert_eq!(scan.payloads, vec![&b"first"[..]], "cut at {cut}");
            assert_eq!(scan.good_len, first_len, "cut at {cut}");
            let torn = scan.torn.expect("a torn tail");
            assert_eq!((torn.offset, torn.bytes), (first_len, cut as u64 - first_len));
        }
    }

    /// A power loss can leave the file longer than what reached the disk, the rest zeros.
    #[test]
    fn zeros_after_the_last_record_are_a_torn_tail() {
        let mut bytes = file_of(&[b"kept"]);
        let kept = bytes.len() as u64;
        bytes.extend_from_slice(&[0; 100]);
        let scan = scan(path(), &bytes).expect("a torn tail, not damage");
        assert_eq!((scan.payloads.len(), scan.good_len), (1, kept));
        assert_eq!(scan.torn.map(|torn| torn.reason), Some("header checksum mismatch"));
    }

    /// A byte flipped anywhere in a record that other records follow is damage, reported with
    /// that record's offset, whether it hits the length, a checksum or the payload.
    #[test]
    fn a_flipped_byte_before_the_last_record_is_damage_at_its_offset() {
        let bytes = file_of(&[b"a", b"the middle one", b"last"]);
        let (start, end) = (HEADER + 1, 2 * HEADER + 1 + 14);
        for at in start..end {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x40;
            let error = scan(path(), &flipped).expect_err(&format!("byte {at} flipped"));
            assert_eq!(error.offset, start as u64, "byte {at} flipped");
            assert_eq!(error.file, path());
            let text = error.to_string();
            assert!(text.contains("data/log-0") && text.contains(&format!("offset {start}")));
        }
    }

    /// A length flipped to point past the end of the file must not pass for a torn tail.
    #[test]
    fn a_length_pointing_past_the_end_is_damage_not_a_tear() {
        let mut bytes = file_of(&[b"first", b"second", b"third"]);
        bytes[2] ^= 0x10; // the first record's length, now about a megabyte
        let error = scan(path(), &bytes).expect_err("damage");
        assert_eq!((error.offset, error.reason), (0, "header checksum mismatch"));
    }
}
