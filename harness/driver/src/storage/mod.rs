//! A node's stable storage as files in one directory, with fsync (§5.1, Figure 2).
//!
//! The node says what to keep as a list of writes ([`harness::Persist::take_persist`]); this
//! module carries them out on files and, on start, builds back the node's persistent state from
//! them. The files:
//!
//! - `log-<g>`: an append-only file of checksummed records ([`records`]), one per log write
//!   (entries appended, a suffix truncated), in order. One loop turn's records are written with
//!   one call and made durable with one `fdatasync` (group commit).
//! - `hard-state`: `current_term` and `voted_for`, one record, replaced atomically: written
//!   to `hard-state.tmp`, synced, renamed over the old one, and the directory synced, so a
//!   crash leaves either the old vote or the new one, never half of each.
//! - `snapshot`: the persistent state as of the node's last snapshot (§7): the snapshot, the
//!   log entries it kept after it, the term and vote, and the generation `g` of the log file
//!   that continues it. Replaced atomically like `hard-state`; then a new `log-<g>` starts
//!   and the old one is removed. So the log file holds only what happened since the last
//!   snapshot, and it never grows past the service's compaction interval.
//!
//! - `LOCK`: empty, locked while a server uses the directory, so that a second server on the
//!   same directory refuses to start.
//!
//! On start: `snapshot` (if any), then `hard-state` (if any), then the records of `log-<g>`
//! in order rebuild the state. A torn last record is cut off, with a line saying so; any other
//! bad record, or a record that does not decode, is an error naming the file and the offset,
//! and the node does not start.
//!
//! # Which write goes where
//!
//! The driver is generic over the node; it only needs to know, for each write, which file it
//! belongs to: [`Filing`]. The writes are encoded whole with serde ([`crate::encoding`]).

pub mod records;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use harness::Persist;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::encoding;
pub use records::Damaged;

/// Which file a write goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// `current_term` and `voted_for`: the `hard-state` file, replaced whole.
    HardState,
    /// A change to the log (append, truncate): a record at the end of the log file.
    Log,
    /// A new snapshot: the `snapshot` file, replaced whole, and a new log file after it.
    Snapshot,
}

/// A node's write that knows its file.
pub trait Filing {
    /// Where this write is kept.
    fn place(&self) -> Place;
}

/// The stage 1 writes, used by every stage from 2 on.
impl Filing for data_structures::StorageWrite {
    fn place(&self) -> Place {
        use data_structures::StorageWrite;
        match self {
            StorageWrite::HardState { .. } => Place::HardState,
            StorageWrite::TruncateLog { .. } | StorageWrite::AppendLog { .. } => Place::Log,
            StorageWrite::Snapshot { .. } => Place::Snapshot,
        }
    }
}

/// What a node's disk needs: writes that say where they go and decode back, and a state
/// that can be written whole at a snapshot.
pub trait Durable: Persist<Write: Filing + DeserializeOwned, State: DeserializeOwned> {}

impl<N> Durable for N where N: Persist<Write: Filing + DeserializeOwned, State: DeserializeOwned> {}

/// Why a data directory cannot be used.
#[derive(Debug)]
pub enum StorageError {
    /// The operating system refused a file operation.
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What it said.
        error: io::Error,
    },
    /// Another process holds the directory's lock: another server runs on it.
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// A record is damaged: not a torn tail (see [`records`]).
    Damaged(Damaged),
    /// A record's checksum matches but its bytes are not a write of this node: written by
    /// another program or version.
    Undecodable {
        /// The file.
        file: PathBuf,
        /// The record's offset.
        offset: u64,
        /// What the decoder said.
        error: String,
    },
}

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StorageError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            StorageError::Locked { path } => write!(
                f,
                "{}: the data directory is in use by another process (it holds the lock on \
                 {}); two servers on one data directory would overwrite each other's log. \
                 Stop the other one, or give this one its own --data-dir.",
                path.parent().unwrap_or(path).display(),
                path.display()
            ),
            StorageError::Damaged(damaged) => damaged.fmt(f),
            StorageError::Undecodable { file, offset, error } => write!(
                f,
                "{}: the record at byte offset {offset} has a good checksum but is not a \
                 write of this node ({error}); written by another version? Refusing to start.",
                file.display()
            ),
        }
    }
}

impl std::error::Error for StorageError {}

/// What the `snapshot` file holds.
#[derive(Serialize, Deserialize)]
struct Checkpoint<S> {
    /// The generation of the log file that continues it.
    generation: u64,
    /// The persistent state as of the snapshot.
    state: S,
}

/// What [`Disk::open`] found.
pub struct Recovered<S> {
    /// The persistent state the files hold.
    pub state: S,
    /// True if the directory held nothing: a new node, not a restart.
    pub fresh: bool,
    /// What recovery did that an operator should know (a torn tail cut, leftovers removed).
    pub notes: Vec<String>,
}

/// A node's stable storage in a directory.
pub struct Disk<N: Durable> {
    dir: PathBuf,
    /// The state the files hold: what a restart would build. Kept to write it whole into the
    /// `snapshot` file.
    mirror: N::State,
    /// The generation of the current log file.
    generation: u64,
    /// The current log file, opened for appending.
    log: File,
    /// How many times this disk called fsync or fdatasync (for the benchmark: fsyncs per op).
    fsyncs: u64,
    /// Test hook: how many more file operations succeed before every one fails, as if the
    /// process were killed there.
    ops_left: Option<u64>,
    /// The `LOCK` file, locked while this disk is open (released when the process ends, also
    /// by SIGKILL: the kernel drops the lock with the file).
    _lock: File,
}

impl<N: Durable> Disk<N> {
    /// Opens the data directory `dir` (creating it if missing) and rebuilds the persistent
    /// state from its files. Fails on a damaged record, naming the file and the offset.
    pub fn open(dir: &Path) -> Result<(Disk<N>, Recovered<N::State>), StorageError> {
        fs::create_dir_all(dir).map_err(io_at(dir))?;
        let lock = lock(dir)?;
        let mut notes = Vec::new();
        let mut fresh = true;
        remove_leftover_temporaries(dir, &mut notes)?;
        let (generation, mut state) = match read_single::<Checkpoint<N::State>>(dir, "snapshot")? {
            Some(checkpoint) => {
                fresh = false;
                (checkpoint.generation, checkpoint.state)
            }
            None => (0, N::State::default()),
        };
        if let Some(hard_state) = read_single::<N::Write>(dir, "hard-state")? {
            fresh = false;
            N::apply_write(&mut state, hard_state);
        }
        let log_path = dir.join(log_name(generation));
        if log_path.exists() {
            fresh &= fs::metadata(&log_path).map_err(io_at(&log_path))?.len() == 0;
            for write in read_log::<N::Write>(&log_path, &mut notes)? {
                N::apply_write(&mut state, write);
            }
        }
        remove_old_logs(dir, generation, &mut notes)?;
        let log = open_log(dir, generation)?;
        let disk = Disk {
            dir: dir.to_path_buf(),
            mirror: state.clone(),
            generation,
            log,
            fsyncs: 0,
            ops_left: None,
            _lock: lock,
        };
        Ok((disk, Recovered { state, fresh, notes }))
    }

    /// Carries out one loop turn's writes, in order, and returns once they are durable: log
    /// records are appended together and synced once (group commit); a hard state or a
    /// snapshot first syncs the records before it, then replaces its file atomically.
    pub fn write(&mut self, writes: Vec<N::Write>) -> io::Result<()> {
        let mut batch = Vec::new();
        for write in writes {
            let place = write.place();
            let bytes = encoding::to_bytes(&write);
            N::apply_write(&mut self.mirror, write);
            match place {
                Place::Log => records::append(&mut batch, &bytes),
                Place::HardState => {
                    self.append_log(&mut batch)?;
                    self.replace("hard-state", &records::encode(&bytes))?;
                }
                Place::Snapshot => {
                    self.append_log(&mut batch)?;
                    self.checkpoint()?;
                }
            }
        }
        self.append_log(&mut batch)
    }

    /// How many times this disk synced a file or the directory since it was opened.
    pub fn fsyncs(&self) -> u64 {
        self.fsyncs
    }

    /// The state the files hold now.
    pub fn state(&self) -> &N::State {
        &self.mirror
    }

    /// Test hook: after `ops` more file operations, every one fails, as if the process had
    /// been killed at that point (what reached the files stays; nothing after it does).
    #[doc(hidden)]
    pub fn fail_after(&mut self, ops: u64) {
        self.ops_left = Some(ops);
    }

    /// One file operation: fails once the test hook's budget is spent.
    fn op(&mut self) -> io::Result<()> {
        match &mut self.ops_left {
            Some(0) => Err(io::Error::other("injected crash: no file operation after this point")),
            Some(left) => {
                *left -= 1;
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Appends the records in `batch` to the log file and syncs it (one fdatasync), if any.
    fn append_log(&mut self, batch: &mut Vec<u8>) -> io::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        self.op()?;
        self.log.write_all(batch)?;
        self.op()?;
        self.log.sync_data()?;
        self.fsyncs += 1;
        batch.clear();
        Ok(())
    }

    /// Replaces file `name` with `bytes` atomically: a temporary file, synced, renamed over it,
    /// then the directory synced so that the rename itself is durable.
    fn replace(&mut self, name: &str, bytes: &[u8]) -> io::Result<()> {
        let (path, temporary) = (self.dir.join(name), self.dir.join(format!("{name}.tmp")));
        self.op()?;
        let mut file = File::create(&temporary)?;
        self.op()?;
        file.write_all(bytes)?;
        self.op()?;
        file.sync_all()?;
        self.fsyncs += 1;
        self.op()?;
        fs::rename(&temporary, &path)?;
        self.sync_dir()
    }

    /// Syncs the directory: makes file creations, renames and removals in it durable.
    fn sync_dir(&mut self) -> io::Result<()> {
        self.op()?;
        File::open(&self.dir)?.sync_all()?;
        self.fsyncs += 1;
        Ok(())
    }

    /// Writes the whole state as the new `snapshot` file, with the next log generation, then
    /// starts that log file and removes the old one. A crash before the rename leaves the old
    /// snapshot and log; after it, the new snapshot and a log that is missing or empty.
    fn checkpoint(&mut self) -> io::Result<()> {
        let generation = self.generation + 1;
        let checkpoint = Checkpoint { generation, state: &self.mirror };
        let bytes = records::encode(&encoding::to_bytes(&checkpoint));
        self.replace("snapshot", &bytes)?;
        self.op()?;
        let new_log = open_log(&self.dir, generation).map_err(io::Error::other)?;
        let old = std::mem::replace(&mut self.log, new_log);
        drop(old);
        self.sync_dir()?;
        self.op()?;
        fs::remove_file(self.dir.join(log_name(self.generation)))?;
        self.generation = generation;
        Ok(())
    }
}

/// Locks `dir` for this process (an advisory lock on `dir/LOCK`, `flock` on Unix): a second
/// server started on the same directory stops with [`StorageError::Locked`] instead of
/// appending to the same log.
fn lock(dir: &Path) -> Result<File, StorageError> {
    let path = dir.join("LOCK");
    let file = OpenOptions::new().create(true).truncate(false).write(true).open(&path);
    let file = file.map_err(io_at(&path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(StorageError::Locked { path }),
        Err(fs::TryLockError::Error(error)) => Err(StorageError::Io { path, error }),
    }
}

/// The name of the log file of generation `generation`.
fn log_name(generation: u64) -> String {
    format!("log-{generation}")
}

/// A closure that wraps an io error with the path it happened at.
fn io_at(path: &Path) -> impl Fn(io::Error) -> StorageError + '_ {
    move |error| StorageError::Io { path: path.to_path_buf(), error }
}

/// Opens (creating if missing) the log file of `generation` for appending.
fn open_log(dir: &Path, generation: u64) -> Result<File, StorageError> {
    let path = dir.join(log_name(generation));
    OpenOptions::new().create(true).append(true).open(&path).map_err(io_at(&path))
}

/// Reads a file that holds exactly one record (`hard-state`, `snapshot`), if it exists. Such
/// a file is renamed into place only after it is synced, so a torn one is damage too.
fn read_single<T: DeserializeOwned>(dir: &Path, name: &str) -> Result<Option<T>, StorageError> {
    let path = dir.join(name);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(StorageError::Io { path, error }),
    };
    let scan = records::scan(&path, &bytes).map_err(StorageError::Damaged)?;
    if let Some(torn) = scan.torn {
        let reason = torn.reason;
        return Err(StorageError::Damaged(Damaged { file: path, offset: torn.offset, reason }));
    }
    let [payload] = scan.payloads[..] else {
        let reason = "not exactly one record in a file replaced whole";
        return Err(StorageError::Damaged(Damaged { file: path, offset: 0, reason }));
    };
    decode_at(&path, 0, payload).map(Some)
}

/// Reads the writes of a log file, cutting a torn tail off the file (with a note).
fn read_log<W: DeserializeOwned>(
    path: &Path,
    notes: &mut Vec<String>,
) -> Result<Vec<W>, StorageError> {
    let bytes = fs::read(path).map_err(io_at(path))?;
    let scan = records::scan(path, &bytes).map_err(StorageError::Damaged)?;
    let mut writes = Vec::with_capacity(scan.payloads.len());
    let mut offset = 0u64;
    for payload in &scan.payloads {
        writes.push(decode_at(path, offset, payload)?);
        offset += (records::HEADER + payload.len()) as u64;
    }
    if let Some(torn) = scan.torn {
        let file = OpenOptions::new().write(true).open(path).map_err(io_at(path))?;
        file.set_len(scan.good_len).map_err(io_at(path))?;
        file.sync_all().map_err(io_at(path))?;
        notes.push(format!(
            "{}: cut a torn tail of {} bytes at byte offset {} ({}): a crash in the middle of \
             a write, which was never acknowledged; {} records kept",
            path.display(),
            torn.bytes,
            torn.offset,
            torn.reason,
            writes.len()
        ));
    }
    Ok(writes)
}

/// Decodes the payload of the record at `offset` in `path`.
fn decode_at<T: DeserializeOwned>(
    path: &Path,
    offset: u64,
    payload: &[u8],
) -> Result<T, StorageError> {
    encoding::from_bytes(payload).map_err(|error| StorageError::Undecodable {
        file: path.to_path_buf(),
        offset,
        error: error.to_string(),
    })
}

/// Removes `*.tmp` files: an atomic replacement a crash interrupted before its rename.
fn remove_leftover_temporaries(dir: &Path, notes: &mut Vec<String>) -> Result<(), StorageError> {
    for name in file_names(dir)? {
        if name.ends_with(".tmp") {
            let path = dir.join(&name);
            fs::remove_file(&path).map_err(io_at(&path))?;
            notes.push(format!("{}: removed, a replacement cut short by a crash", path.display()));
        }
    }
    Ok(())
}

/// Removes log files of other generations than `generation`: a snapshot a crash interrupted
/// after its rename, before the old log's removal.
fn remove_old_logs(
    dir: &Path,
    generation: u64,
    notes: &mut Vec<String>,
) -> Result<(), StorageError> {
    for name in file_names(dir)? {
        let Some(Ok(other)) = name.strip_prefix("log-").map(str::parse::<u64>) else { continue };
        if other != generation {
            let path = dir.join(&name);
            fs::remove_file(&path).map_err(io_at(&path))?;
            notes.push(format!("{}: removed, the log before the last snapshot", path.display()));
        }
    }
    Ok(())
}

/// The names of the files in `dir`, sorted.
fn file_names(dir: &Path) -> Result<Vec<String>, StorageError> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_at(dir))? {
        let entry = entry.map_err(io_at(dir))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests;
