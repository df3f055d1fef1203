//! Helpers for tests: a temporary directory removed on drop, even when the test fails.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A fresh directory under the system's temporary directory, removed with everything in it
/// when dropped (also when a test panics).
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// A new empty directory whose name starts with `raft-driver-<label>`.
    pub fn new(label: &str) -> TempDir {
        static COUNT: AtomicU64 = AtomicU64::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let name = format!("raft-driver-{label}-{}-{n}", std::process::id());
        let path = std::env::temp_dir().join(name);
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create a temporary directory");
        TempDir { path }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Ports the OS picks: bound on 127.0.0.1 port 0, then released for a server to take. (Another
/// program could take one in between; on a test machine's loopback this has not happened.)
pub fn free_ports(count: usize) -> Vec<u16> {
    let listeners: Vec<std::net::TcpListener> = (0..count)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").expect("bind port 0"))
        .collect();
    listeners.iter().map(|listener| listener.local_addr().expect("address").port()).collect()
}

/// Real server processes on loopback, killed (SIGKILL) and their data removed when dropped,
/// also when a test fails.
pub struct Processes {
    binary: PathBuf,
    dir: TempDir,
    peer_ports: Vec<u16>,
    /// Each server's client port, by id - 1.
    pub client_ports: Vec<u16>,
    /// More arguments for every server (`--yours`).
    args: Vec<String>,
    children: Vec<Option<std::process::Child>>,
}

impl Processes {
    /// Starts `count` servers of `binary` (the `raft-server` executable).
    pub fn start(binary: &Path, count: usize, label: &str) -> Processes {
        Processes::start_with(binary, count, label, &[])
    }

    /// Starts `count` servers of `binary`, each with `args` after the usual ones.
    pub fn start_with(binary: &Path, count: usize, label: &str, args: &[&str]) -> Processes {
        let ports = free_ports(2 * count);
        let mut processes = Processes {
            binary: binary.to_path_buf(),
            dir: TempDir::new(label),
            peer_ports: ports[..count].to_vec(),
            client_ports: ports[count..].to_vec(),
            args: args.iter().map(|arg| arg.to_string()).collect(),
            children: (0..count).map(|_| None).collect(),
        };
        for id in 1..=count {
            processes.restart(id);
        }
        processes
    }

    /// Node `id`'s data directory.
    pub fn data_dir(&self, id: usize) -> PathBuf {
        self.dir.path().join(format!("n{id}"))
    }

    /// Node `id`'s log of its standard error.
    pub fn stderr_path(&self, id: usize) -> PathBuf {
        self.dir.path().join(format!("n{id}.stderr"))
    }

    /// What node `id` wrote to its standard error so far, every run of it.
    pub fn stderr(&self, id: usize) -> String {
        std::fs::read_to_string(self.stderr_path(id)).unwrap_or_default()
    }

    /// The command line that runs node `id`.
    pub fn command(&self, id: usize) -> std::process::Command {
        let peers: Vec<String> =
            self.peer_ports.iter().map(|port| format!("127.0.0.1:{port}")).collect();
        let mut command = std::process::Command::new(&self.binary);
        command
            .arg("--id")
            .arg(id.to_string())
            .arg("--peers")
            .arg(peers.join(","))
            .arg("--client-port")
            .arg(self.client_ports[id - 1].to_string())
            .arg("--data-dir")
            .arg(self.data_dir(id))
            // A test or a bench killed with SIGKILL cannot stop its servers: they stop.
            .arg("--exit-with-parent")
            .args(&self.args);
        command
    }

    /// Starts node `id` (again), its standard error appended to its log.
    pub fn restart(&mut self, id: usize) {
        self.kill(id);
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.stderr_path(id))
            .expect("open the stderr log");
        let child = self
            .command(id)
            .stdout(std::process::Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start raft-server");
        self.children[id - 1] = Some(child);
    }

    /// Kills node `id` with SIGKILL (no chance to flush anything), and waits for it.
    pub fn kill(&mut self, id: usize) {
        if let Some(mut child) = self.children[id - 1].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Whether node `id` is running; `Some(status)` if it exited by itself.
    pub fn exited(&mut self, id: usize) -> Option<std::process::ExitStatus> {
        self.children[id - 1].as_mut().and_then(|child| child.try_wait().ok().flatten())
    }

    /// Node `id`'s peer address.
    pub fn peer_address(&self, id: usize) -> String {
        format!("127.0.0.1:{}", self.peer_ports[id - 1])
    }

    /// Node `id`'s client address.
    pub fn client_address(&self, id: usize) -> String {
        format!("127.0.0.1:{}", self.client_ports[id - 1])
    }

    /// The id of a node whose `INFO` says it leads, waiting up to `within`.
    pub fn wait_for_leader(&self, within: std::time::Duration) -> Option<usize> {
        let deadline = std::time::Instant::now() + within;
        while std::time::Instant::now() < deadline {
            for id in 1..=self.client_ports.len() {
                let Ok(mut client) = RespClient::connect(&self.client_address(id)) else {
                    continue;
                };
                if let Ok(Reply::Bulk(Some(info))) = client.command(&["INFO"])
                    && String::from_utf8_lossy(&info).contains("role:leader")
                {
                    return Some(id);
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        for id in 1..=self.children.len() {
            self.kill(id);
        }
    }
}

/// A reply as a client reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// `+...`
    Simple(String),
    /// `-...`
    Error(String),
    /// `:...`
    Integer(i64),
    /// `$...`
    Bulk(Option<Vec<u8>>),
    /// `*...`
    Array(Vec<Reply>),
}

/// A minimal blocking Redis client for tests: sends commands, reads replies, with timeouts.
pub struct RespClient {
    stream: std::io::BufReader<std::net::TcpStream>,
}

impl RespClient {
    /// Connects to `address`, with 15 s read and write timeouts.
    pub fn connect(address: &str) -> std::io::Result<RespClient> {
        let stream = std::net::TcpStream::connect(address)?;
        stream.set_read_timeout(Some(std::time::Duration::from_secs(15)))?;
        stream.set_write_timeout(Some(std::time::Duration::from_secs(15)))?;
        Ok(RespClient { stream: std::io::BufReader::new(stream) })
    }

    /// Sends `args` as one command and reads its reply.
    pub fn command(&mut self, args: &[&str]) -> std::io::Result<Reply> {
        self.send_raw(&encode_command(args))?;
        self.read_reply()
    }

    /// Sends raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        self.stream.get_mut().write_all(bytes)
    }

    /// Reads one reply.
    pub fn read_reply(&mut self) -> std::io::Result<Reply> {
        use std::io::{BufRead, Read};
        let mut line = String::new();
        if self.stream.read_line(&mut line)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        let line = line.trim_end_matches("\r\n");
        let bad = || std::io::Error::other(format!("bad reply line {line:?}"));
        let (kind, rest) = line.split_at_checked(1).ok_or_else(bad)?;
        Ok(match kind {
            "+" => Reply::Simple(rest.to_string()),
            "-" => Reply::Error(rest.to_string()),
            ":" => Reply::Integer(rest.parse().map_err(|_| bad())?),
            "$" => {
                let len: i64 = rest.parse().map_err(|_| bad())?;
                if len < 0 {
                    Reply::Bulk(None)
                } else {
                    let mut data = vec![0; len as usize + 2];
                    self.stream.read_exact(&mut data)?;
                    data.truncate(len as usize);
                    Reply::Bulk(Some(data))
                }
            }
            "*" => {
                let len: i64 = rest.parse().map_err(|_| bad())?;
                let mut items = Vec::new();
                for _ in 0..len.max(0) {
                    items.push(self.read_reply()?);
                }
                Reply::Array(items)
            }
            _ => return Err(bad()),
        })
    }
}

/// `args` as a RESP array of bulk strings.
pub fn encode_command(args: &[&str]) -> Vec<u8> {
    let mut bytes = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        bytes.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
    }
    bytes
}
