//! The disk, on real files: what comes back after a restart, a torn tail, a flipped byte and
//! a crash at every file operation.

use data_structures::{LogEntry, PersistentState, StorageWrite};
use harness::Persist;
use pretty_assertions::assert_eq;
use snapshots::RaftNode;

use super::*;
use crate::testing::TempDir;

type TestDisk = Disk<RaftNode>;

fn hard(current_term: u64, voted_for: Option<u64>) -> StorageWrite {
    StorageWrite::HardState { current_term, voted_for }
}

fn append(term: u64, commands: &[&str]) -> StorageWrite {
    let entries = commands.iter().map(|command| LogEntry::new(term, *command)).collect();
    StorageWrite::AppendLog { entries }
}

/// A story in loop turns: elections, appends, a conflict truncated, a snapshot, more appends.
fn story() -> Vec<Vec<StorageWrite>> {
    vec![
        vec![hard(1, Some(1))],
        vec![append(1, &["a", "b"])],
        vec![append(1, &["c"])],
        vec![hard(2, None), StorageWrite::TruncateLog { from: 3 }, append(2, &["c2", "d"])],
        vec![StorageWrite::Snapshot {
            last_included_index: 2,
            last_included_term: 1,
            data: b"state after b".to_vec(),
        }],
        vec![append(2, &["e"]), append(2, &["f"])],
        vec![hard(3, Some(2)), append(3, &["g"])],
    ]
}

/// The state each write leads to, in order, from a blank disk: what a restart may find.
fn states_after_each_write(story: &[Vec<StorageWrite>]) -> Vec<PersistentState> {
    let mut state = PersistentState::default();
    let mut states = vec![state.clone()];
    for write in story.iter().flatten() {
        RaftNode::apply_write(&mut state, write.clone());
        states.push(state.clone());
    }
    states
}

fn open(dir: &Path) -> (TestDisk, Recovered<PersistentState>) {
    TestDisk::open(dir).unwrap_or_else(|error| panic!("open {}: {error}", dir.display()))
}

#[test]
fn a_restart_finds_what_was_written() {
    let dir = TempDir::new("restart");
    let expected = states_after_each_write(&story()).pop().expect("a final state");
    {
        let (mut disk, recovered) = open(dir.path());
        assert!(recovered.fresh, "a new directory is a fresh node");
        for turn in story() {
            disk.write(turn).expect("write");
        }
        assert_eq!(disk.state(), &expected);
    }
    let (_, recovered) = open(dir.path());
    assert!(!recovered.fresh);
    assert_eq!(recovered.notes, Vec::<String>::new());
    assert_eq!(recovered.state, expected);
    assert_eq!(recovered.state.log.snapshot_index(), 2);
    assert_eq!(recovered.state.snapshot, b"state after b");
}

#[test]
fn after_a_snapshot_only_one_log_file_is_left() {
    let dir = TempDir::new("one-log");
    let (mut disk, _) = open(dir.path());
    for turn in story() {
        disk.write(turn).expect("write");
    }
    let names = file_names(dir.path()).expect("list");
    assert_eq!(names, vec!["LOCK", "hard-state", "log-1", "snapshot"]);
}

/// Group commit: one loop turn of log writes costs one fdatasync, however many writes.
#[test]
fn a_turn_of_log_writes_costs_one_fsync() {
    let dir = TempDir::new("group");
    let (mut disk, _) = open(dir.path());
    disk.write(vec![append(1, &["a"]), append(1, &["b"]), append(1, &["c"])]).expect("write");
    assert_eq!(disk.fsyncs(), 1);
    disk.write(vec![]).expect("write");
    assert_eq!(disk.fsyncs(), 1, "no write, no fsync");
    disk.write(vec![hard(1, Some(1))]).expect("write");
    assert_eq!(disk.fsyncs(), 3, "a hard state: the temporary file, then the directory");
}

/// A crash in the middle of the last append leaves any prefix of its bytes: the node starts,
/// cuts them off, says so, and has everything before them.
#[test]
fn a_torn_tail_is_cut_and_reported() {
    let dir = TempDir::new("torn");
    let (mut disk, _) = open(dir.path());
    disk.write(vec![hard(1, Some(1)), append(1, &["a", "b"])]).expect("write");
    let before = disk.state().clone();
    let log = dir.path().join("log-0");
    let good = fs::metadata(&log).expect("log").len();
    disk.write(vec![append(1, &["c"])]).expect("write");
    drop(disk);
    let whole = fs::read(&log).expect("read");
    for cut in good as usize + 1..whole.len() {
        fs::write(&log, &whole[..cut]).expect("write a torn log");
        let (_, recovered) = open(dir.path());
        assert_eq!(recovered.state, before, "log cut at byte {cut}");
        let [note] = &recovered.notes[..] else { panic!("one note, got {:?}", recovered.notes) };
        let expected =
            format!("cut a torn tail of {} bytes at byte offset {good}", cut as u64 - good);
        assert!(note.contains(&expected) && note.contains("log-0"), "note: {note}");
        assert_eq!(
            fs::metadata(&log).expect("log").len(),
            good,
            "the file is cut to its good part"
        );
    }
}

/// A byte flipped in a record that others follow: the node refuses to start, naming the file
/// and the offset of that record.
#[test]
fn a_flipped_byte_in_the_middle_of_the_log_refuses_to_start() {
    let dir = TempDir::new("flipped");
    let (mut disk, _) = open(dir.path());
    disk.write(vec![append(1, &["a"])]).expect("write");
    let second = fs::metadata(dir.path().join("log-0")).expect("log").len();
    disk.write(vec![append(1, &["b"])]).expect("write");
    disk.write(vec![append(1, &["c"])]).expect("write");
    drop(disk);
    let log = dir.path().join("log-0");
    let mut bytes = fs::read(&log).expect("read");
    bytes[second as usize + records::HEADER + 3] ^= 0x01;
    fs::write(&log, &bytes).expect("write");
    let Err(error) = TestDisk::open(dir.path()) else { panic!("a damaged log must not open") };
    let text = error.to_string();
    assert!(
        text.contains(&format!("log-0: damaged record at byte offset {second}")),
        "the error names the file and the offset: {text}"
    );
    assert_eq!(fs::read(&log).expect("read"), bytes, "a damaged log is left as it is");
}

#[test]
fn a_damaged_hard_state_or_snapshot_refuses_to_start() {
    for name in ["hard-state", "snapshot"] {
        let dir = TempDir::new("damaged-single");
        let (mut disk, _) = open(dir.path());
        for turn in story() {
            disk.write(turn).expect("write");
        }
        drop(disk);
        let path = dir.path().join(name);
        let mut bytes = fs::read(&path).expect("read");
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        fs::write(&path, &bytes).expect("write");
        let Err(error) = TestDisk::open(dir.path()) else {
            panic!("a damaged {name} must not open")
        };
        assert!(
            error.to_string().contains(&format!("{name}: damaged record at byte offset 0")),
            "{error}"
        );
    }
}

/// A record with a good checksum that is not a write (another program's file): refused.
#[test]
fn a_record_that_is_not_a_write_refuses_to_start() {
    let dir = TempDir::new("undecodable");
    fs::write(dir.path().join("log-0"), records::encode(b"not a write")).expect("write");
    let Err(error) = TestDisk::open(dir.path()) else { panic!("must not open") };
    assert!(matches!(error, StorageError::Undecodable { offset: 0, .. }), "{error}");
}

/// A crash at any point (after any number of file operations of the story): the restarted
/// node finds the state after some prefix of the writes, and at least everything of the turns
/// that had returned (those were durable, and their messages may have been sent).
#[test]
fn a_crash_at_any_file_operation_leaves_a_state_the_writes_passed_through() {
    let story = story();
    let states = states_after_each_write(&story);
    let mut crashed_somewhere = true;
    let mut ops = 0;
    while crashed_somewhere {
        let dir = TempDir::new("crash");
        let (mut disk, _) = open(dir.path());
        disk.fail_after(ops);
        let mut durable = 0; // writes of the turns that returned Ok
        crashed_somewhere = false;
        for turn in &story {
            if disk.write(turn.clone()).is_err() {
                crashed_somewhere = true;
                break;
            }
            durable += turn.len();
        }
        drop(disk);
        let (_, recovered) = open(dir.path());
        let found = states.iter().rposition(|state| *state == recovered.state).unwrap_or_else(|| {
            panic!("crash after {ops} file operations: restarted with a state no prefix of the writes gives: {:?}", recovered.state)
        });
        assert!(
            found >= durable,
            "crash after {ops} file operations: {durable} writes were durable, the restart has only {found}"
        );
        ops += 1;
    }
    assert!(ops > 20, "the story has {ops} file operations");
}

/// A second server on the same data directory refuses to start, naming the lock; once the
/// first is gone (its lock goes with its file), the directory opens again.
#[test]
fn a_second_disk_on_the_same_directory_is_refused_while_the_first_is_open() {
    let dir = TempDir::new("locked");
    let (first, _) = open(dir.path());
    let error = TestDisk::open(dir.path()).err().expect("a second open must be refused");
    let text = error.to_string();
    assert!(matches!(error, StorageError::Locked { .. }), "{text}");
    assert!(
        text.contains("in use by another process") && text.contains("LOCK"),
        "the error says why and names the lock file: {text}"
    );
    drop(first);
    let (_, recovered) = open(dir.path());
    assert!(recovered.fresh, "the lock file alone does not make a used directory");
}
