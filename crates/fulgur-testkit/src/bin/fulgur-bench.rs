//! `fulgur-bench`: prints performance figures of `fulgurd` next to the targets of the
//! performance issue. It never fails on a missed target; it only reports.
//!
//! What it measures, against a real regtest `bitcoind`:
//!
//! 1. `getinfo` round trips over the `lightning-rpc` Unix socket with N concurrent clients
//!    (default 8), each a thread with its own blocking connection, for a fixed time: calls/s
//!    and p50/p99 latency with one request in flight per client, then calls/s with a pipeline
//!    of requests in flight per client (target ≥ 20,000 calls/s). Requests are pre-built bytes
//!    and replies are only framed (the blank line) and checked to be results, so the client
//!    side stays cheap; the CPU time of both sides is printed per call to show who is busy.
//! 2. Start-up: from spawning `fulgurd` to its socket accepting a connection, with a fresh
//!    lightning directory (the first start creates `hsm_secret`) and restarting on an existing
//!    one; min/median/max (target ≤ 200 ms).
//! 3. Idle resident memory: `VmRSS` and `VmHWM` of `fulgurd` a few seconds after it started
//!    (target ≤ 30 MB), and again after the round-trip load.
//! 4. Peers, with raw BOLT 8 clients on the peer port (each its own node id, made from a
//!    counter): `fulgurd`'s CPU time per connection for N sequential connections that each do
//!    the handshake, exchange `init` and close (target < 1 ms; its threads' run times from
//!    `/proc/<pid>/task/*/schedstat`, utime + stime as a cross-check), and the client's wall
//!    time per connection; then the resident memory of 1,000 idle connected peers (target ≤ 50 MB
//!    on top of the idle node), and that `listpeers` lists them all. This process raises its
//!    own file descriptor limit for that.
//!
//! `fulgurd` is the one the test kit finds: `$FULGUR_BIN_DIR/fulgurd`, else next to this
//! binary. Debug builds give figures that say little; see `--release-hint`.

use anyhow::{bail, Context, Result};
use fulgur_testkit::{paths, Bitcoind, Node, NodeOptions, RpcClient};
use serde_json::Value;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The request every client sends, always the same bytes.
const REQUEST: &[u8] = br#"{"jsonrpc":"2.0","id":1,"method":"getinfo","params":{}}"#;

/// How many replies per client are fully parsed and checked as `getinfo` results.
const FULLY_CHECKED: usize = 3;

const TARGET_CALLS: f64 = 20_000.0;
const TARGET_START_MS: f64 = 200.0;
const TARGET_RSS_MB: f64 = 30.0;
const TARGET_HANDSHAKE_MS: f64 = 1.0;
const TARGET_PEERS_MB: f64 = 50.0;

const USAGE: &str = "\
usage: fulgur-bench [options]

Prints fulgurd performance figures next to their targets (never fails on a missed target).

  --seconds N      measuring time of each round-trip round (default 5)
  --clients N      concurrent RPC clients (default 8)
  --depth N        requests in flight per client in the pipelined round (default 16)
  --starts N       fulgurd starts per start-up series (default 10)
  --idle N         seconds to let fulgurd idle before reading its memory (default 3)
  --handshakes N   sequential connect/handshake/init/close cycles timed (default 200)
  --peers N        idle peers held open for the peer memory figure (default 1000)
  --only LIST      comma-separated parts to run: rpc,start,memory,peers (default all)
  --release-hint   print how to get meaningful (release build) figures
  -h, --help       this text

fulgurd is taken from $FULGUR_BIN_DIR, else next to this program.";

const RELEASE_HINT: &str = "\
note: figures from a debug build say little about the targets. For real figures:
  cargo build --release -p fulgurd -p fulgur-testkit
  FULGUR_BIN_DIR=target/release target/release/fulgur-bench
(the test kit finds fulgurd through FULGUR_BIN_DIR)";

struct Args {
    seconds: f64,
    clients: usize,
    depth: usize,
    starts: usize,
    idle: f64,
    rpc: bool,
    start: bool,
    memory: bool,
    peers: bool,
    handshakes: usize,
    idle_peers: usize,
    release_hint: bool,
}

fn parse_args() -> Result<Option<Args>> {
    let mut a = Args {
        seconds: 5.0,
        clients: 8,
        depth: 16,
        starts: 10,
        idle: 3.0,
        rpc: true,
        start: true,
        memory: true,
        peers: true,
        handshakes: 200,
        idle_peers: 1000,
        release_hint: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let mut value = |what: &str| -> Result<String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => it.next().with_context(|| format!("{name} needs {what}")),
            }
        };
        match name.as_str() {
            "--seconds" => a.seconds = value("a number")?.parse()?,
            "--clients" => a.clients = value("a number")?.parse()?,
            "--depth" => a.depth = value("a number")?.parse()?,
            "--starts" => a.starts = value("a number")?.parse()?,
            "--idle" => a.idle = value("a number")?.parse()?,
            "--handshakes" => a.handshakes = value("a number")?.parse()?,
            "--peers" => a.idle_peers = value("a number")?.parse()?,
            "--only" => {
                let list = value("a list")?;
                (a.rpc, a.start, a.memory, a.peers) = (false, false, false, false);
                for part in list.split(',') {
                    match part.trim() {
                        "rpc" => a.rpc = true,
                        "start" => a.start = true,
                        "memory" => a.memory = true,
                        "peers" => a.peers = true,
                        other => {
                            bail!("--only: unknown part {other:?} (rpc, start, memory, peers)")
                        }
                    }
                }
            }
            "--release-hint" => a.release_hint = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(None);
            }
            other => bail!("unknown argument {other} (try --help)"),
        }
    }
    let bad_time = |x: f64| !x.is_finite() || x < 0.0;
    if bad_time(a.seconds)
        || a.seconds == 0.0
        || bad_time(a.idle)
        || a.clients == 0
        || a.depth == 0
        || a.starts == 0
        || a.handshakes == 0
        || a.idle_peers == 0
    {
        bail!(
            "--seconds, --clients, --depth, --starts, --handshakes and --peers must be positive, \
             --idle not negative"
        );
    }
    Ok(Some(a))
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fulgur-bench: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let Some(args) = parse_args()? else {
        return Ok(());
    };
    let bin = paths::workspace_bin("fulgurd");
    if args.release_hint {
        println!("{RELEASE_HINT}\n");
    }
    let kind = build_kind(&bin);
    println!("fulgurd:  {} ({kind})", bin.display());
    println!(
        "machine:  {} CPUs, load average {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
    // The peer part holds a socket per peer; take every file descriptor the system allows.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => println!("files:    this process may open {n} file descriptors"),
        Err(e) => println!("files:    cannot raise the file descriptor limit: {e}"),
    }
    if kind.starts_with("debug") && !args.release_hint {
        println!(
            "note:     debug build; run with --release-hint for how to measure a release build"
        );
    }
    println!();

    let mut table = Table::default();
    progress("starting bitcoind");
    let bitcoind = Bitcoind::start().context("starting bitcoind")?;

    if args.rpc || args.memory {
        progress("starting fulgurd");
        let node = Node::start(Some(&bitcoind), NodeOptions::default())?;
        let pid = node.pid().context("fulgurd has no pid")?;
        if args.memory {
            progress(&format!("letting fulgurd idle {}s", args.idle));
            std::thread::sleep(Duration::from_secs_f64(args.idle));
            let m = Memory::read(pid)?;
            table.row(
                format!("idle VmRSS, {}s after start", args.idle),
                format!("{:.1} MB", m.rss_mb()),
                format!("≤ {TARGET_RSS_MB} MB"),
                Some(m.rss_mb() <= TARGET_RSS_MB),
            );
            table.row(
                "  idle VmHWM (peak RSS so far)",
                format!("{:.1} MB", m.hwm_mb()),
                "",
                None,
            );
            table.row(
                "  of which anonymous / file-backed",
                format!(
                    "{:.1} / {:.1} MB",
                    kb_mb(m.rss_anon_kb),
                    kb_mb(m.rss_file_kb)
                ),
                "",
                None,
            );
            table.row("  threads", m.threads.to_string(), "", None);
        }
        if args.rpc {
            rpc_rounds(&args, &node.rpc_path, pid, &mut table)?;
            if args.memory {
                let m = Memory::read(pid)?;
                table.row(
                    "VmRSS / VmHWM after the round trips",
                    format!("{:.1} / {:.1} MB", m.rss_mb(), m.hwm_mb()),
                    "",
                    None,
                );
            }
        }
        drop(node);
    }

    if args.start {
        startup_rounds(&args, &bin, &bitcoind, &mut table)?;
    }
    if args.peers {
        // A failing part is reported in the table; the other still runs.
        if let Err(e) = peers::handshake_round(args.handshakes, &bitcoind, &mut table) {
            table.row(
                format!("peer handshakes: failed: {e:#}"),
                "",
                "",
                Some(false),
            );
        }
        if let Err(e) = peers::idle_peers_round(args.idle_peers, args.idle, &bitcoind, &mut table) {
            table.row(format!("idle peers: failed: {e:#}"), "", "", Some(false));
        }
    }
    drop(bitcoind);

    println!();
    table.print();
    println!("\nload average at the end: {}", load_average());
    Ok(())
}

fn progress(what: &str) {
    eprintln!("... {what}");
}

/// Whether the binary looks like a debug or release build, from where it lies.
fn build_kind(bin: &Path) -> &'static str {
    let parent = bin
        .parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str());
    match parent {
        Some("debug") => "debug build",
        Some("release") => "release build",
        _ => "build profile unknown",
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

// ---------------------------------------------------------------------------------------------
// Round trips

/// The replies of one connection, framed by the blank line that ends each.
struct Replies {
    buf: Vec<u8>,
    /// Start of the first reply not handed out yet.
    start: usize,
    /// End of the bytes read.
    len: usize,
    /// Where to resume looking for the terminator.
    scanned: usize,
    /// Replies seen on this connection (the first few are fully checked).
    seen: usize,
}

/// What a reply was.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Result,
    Error,
}

impl Replies {
    fn new() -> Self {
        Replies {
            buf: vec![0; 256 * 1024],
            start: 0,
            len: 0,
            scanned: 0,
            seen: 0,
        }
    }

    /// The next complete reply already read, if any.
    fn next_buffered(&mut self) -> Result<Option<Kind>> {
        let from = self.scanned.max(self.start);
        let Some(pos) = find_blank_line(&self.buf[from..self.len]) else {
            // Keep a trailing '\n' in view: the other one may come with the next read.
            self.scanned = self.len.saturating_sub(1).max(self.start);
            return Ok(None);
        };
        let end = from + pos + 2;
        let reply = &self.buf[self.start..end];
        let kind = if self.seen < FULLY_CHECKED {
            check_getinfo(reply)?
        } else {
            quick_kind(reply)
        };
        self.seen += 1;
        self.start = end;
        self.scanned = end;
        Ok(Some(kind))
    }

    /// Reads once more from `stream` (blocking).
    fn fill(&mut self, stream: &mut UnixStream) -> Result<()> {
        if self.start == self.len {
            (self.start, self.len, self.scanned) = (0, 0, 0);
        } else if self.len == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.len, 0);
                self.len -= self.start;
                self.scanned -= self.start;
                self.start = 0;
            } else {
                let more = self.buf.len();
                self.buf.resize(more * 2, 0);
            }
        }
        let n = stream.read(&mut self.buf[self.len..])?;
        if n == 0 {
            bail!("fulgurd closed the connection");
        }
        self.len += n;
        Ok(())
    }

    /// The next reply, reading as needed.
    fn next(&mut self, stream: &mut UnixStream) -> Result<Kind> {
        loop {
            if let Some(k) = self.next_buffered()? {
                return Ok(k);
            }
            self.fill(stream)?;
        }
    }
}

fn find_blank_line(bytes: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(p) = bytes[i..].iter().position(|&b| b == b'\n') {
        let at = i + p;
        if bytes.get(at + 1) == Some(&b'\n') {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

/// Result or error, from the first member after `id` (the server writes `jsonrpc`, `id`, then
/// `result` or `error`); anything unexpected counts as an error.
fn quick_kind(reply: &[u8]) -> Kind {
    let head = &reply[..reply.len().min(64)];
    let at = |key: &[u8]| head.windows(key.len()).position(|w| w == key);
    match (at(b"\"result\""), at(b"\"error\"")) {
        (Some(r), Some(e)) if r < e => Kind::Result,
        (Some(_), None) => Kind::Result,
        _ => Kind::Error,
    }
}

/// Parses a reply in full and checks it is a `getinfo` result.
fn check_getinfo(reply: &[u8]) -> Result<Kind> {
    let v: Value = serde_json::from_slice(reply).context("reply is not JSON")?;
    let Some(result) = v.get("result") else {
        bail!("getinfo failed: {v}");
    };
    let id = result.get("id").and_then(Value::as_str).unwrap_or("");
    if id.len() != 66 {
        bail!("getinfo result has no node id: {v}");
    }
    Ok(Kind::Result)
}

/// What one client did in the measured window.
#[derive(Default)]
struct ClientTally {
    calls: u64,
    errors: u64,
    latencies_ns: Vec<u64>,
}

/// One round: when it starts sending, when counting starts and when it ends.
#[derive(Clone, Copy)]
struct Window {
    go: Instant,
    from: Instant,
    until: Instant,
}

/// One request at a time: write, wait for the reply, repeat.
fn client_serial(path: &Path, w: Window) -> Result<ClientTally> {
    let mut stream = UnixStream::connect(path)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut replies = Replies::new();
    let mut t = ClientTally::default();
    // Room for the expected latencies, so the vector rarely grows while measuring.
    t.latencies_ns.reserve(1 << 16);
    sleep_until(w.go);
    loop {
        let sent = Instant::now();
        if sent >= w.until {
            break;
        }
        stream.write_all(REQUEST)?;
        let kind = replies.next(&mut stream)?;
        if sent >= w.from {
            let took = sent.elapsed();
            t.calls += 1;
            t.errors += u64::from(kind == Kind::Error);
            t.latencies_ns.push(took.as_nanos() as u64);
        }
    }
    Ok(t)
}

/// `depth` requests in flight: whenever replies come back, as many requests go out at once.
fn client_pipelined(path: &Path, depth: usize, w: Window) -> Result<ClientTally> {
    let mut stream = UnixStream::connect(path)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let batch: Vec<u8> = REQUEST.repeat(depth);
    let mut replies = Replies::new();
    let mut t = ClientTally::default();
    sleep_until(w.go);
    stream.write_all(&batch)?;
    let mut in_flight = depth;
    loop {
        let mut got = 0usize;
        let mut errors = 0u64;
        while let Some(kind) = replies.next_buffered()? {
            got += 1;
            errors += u64::from(kind == Kind::Error);
        }
        if got == 0 {
            replies.fill(&mut stream)?;
            continue;
        }
        in_flight -= got;
        let now = Instant::now();
        if now >= w.from && now < w.until {
            t.calls += got as u64;
            t.errors += errors;
        }
        if now >= w.until {
            break;
        }
        stream.write_all(&batch[..got * REQUEST.len()])?;
        in_flight += got;
    }
    // Collect what is still in flight so the server is idle for the next round.
    while in_flight > 0 {
        replies.next(&mut stream)?;
        in_flight -= 1;
    }
    Ok(t)
}

fn sleep_until(t: Instant) {
    let now = Instant::now();
    if t > now {
        std::thread::sleep(t - now);
    }
}

/// The totals of one round.
struct Round {
    calls: u64,
    errors: u64,
    seconds: f64,
    latencies_ns: Vec<u64>,
    client_cpu_s: f64,
    server_cpu_s: f64,
}

impl Round {
    fn rate(&self) -> f64 {
        self.calls as f64 / self.seconds
    }
    fn cpu_per_call_us(&self, cpu_s: f64) -> f64 {
        if self.calls == 0 {
            return 0.0;
        }
        cpu_s * 1e6 / self.calls as f64
    }
}

/// Runs `clients` threads of `client` over one window, measuring CPU time of both sides.
fn round<F>(args: &Args, server_pid: u32, client: F) -> Result<Round>
where
    F: Fn(Window) -> Result<ClientTally> + Send + Clone + 'static,
{
    let go = Instant::now() + Duration::from_millis(300);
    let from = go + Duration::from_millis(500);
    let seconds = args.seconds;
    let until = from + Duration::from_secs_f64(seconds);
    let w = Window { go, from, until };
    let handles: Vec<_> = (0..args.clients)
        .map(|_| {
            let client = client.clone();
            std::thread::spawn(move || client(w))
        })
        .collect();
    sleep_until(from);
    let (c0, s0) = (cpu_seconds("self")?, cpu_seconds(&server_pid.to_string())?);
    sleep_until(until);
    let (c1, s1) = (cpu_seconds("self")?, cpu_seconds(&server_pid.to_string())?);
    let mut r = Round {
        calls: 0,
        errors: 0,
        seconds,
        latencies_ns: Vec::new(),
        client_cpu_s: c1 - c0,
        server_cpu_s: s1 - s0,
    };
    for h in handles {
        let t = match h.join() {
            Ok(t) => t?,
            Err(_) => bail!("a client thread panicked"),
        };
        r.calls += t.calls;
        r.errors += t.errors;
        r.latencies_ns.extend(t.latencies_ns);
    }
    r.latencies_ns.sort_unstable();
    Ok(r)
}

/// User plus system CPU time of a whole process (all threads), in seconds.
fn cpu_seconds(pid: &str) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the file, 12 and 13 after the name.
    let ticks: u64 = f.get(11).and_then(|s| s.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|s| s.parse().ok()).unwrap_or(0);
    // The kernel reports these in USER_HZ, 100 on Linux.
    Ok(ticks as f64 / 100.0)
}

fn percentile_ms(sorted_ns: &[u64], p: f64) -> f64 {
    if sorted_ns.is_empty() {
        return 0.0;
    }
    let i = ((sorted_ns.len() - 1) as f64 * p).round() as usize;
    sorted_ns[i] as f64 / 1e6
}

fn rpc_rounds(args: &Args, path: &Path, pid: u32, table: &mut Table) -> Result<()> {
    let n = args.clients;
    let path = path.to_path_buf();

    progress(&format!(
        "getinfo: {n} clients, one request in flight each, {}s",
        args.seconds
    ));
    let p = path.clone();
    let r = round(args, pid, move |w| client_serial(&p, w))?;
    table.row(
        format!("getinfo, {n} clients, 1 in flight each"),
        format!("{} calls/s", thousands(r.rate())),
        format!("≥ {}/s", thousands(TARGET_CALLS)),
        Some(r.rate() >= TARGET_CALLS),
    );
    table.row(
        "  latency p50 / p99 / max",
        format!(
            "{:.3} / {:.3} / {:.3} ms",
            percentile_ms(&r.latencies_ns, 0.50),
            percentile_ms(&r.latencies_ns, 0.99),
            percentile_ms(&r.latencies_ns, 1.0)
        ),
        "",
        None,
    );
    cpu_rows(table, &r);

    let depth = args.depth;
    progress(&format!(
        "getinfo: {n} clients, {depth} requests in flight each, {}s",
        args.seconds
    ));
    let r = round(args, pid, move |w| client_pipelined(&path, depth, w))?;
    table.row(
        format!("getinfo, {n} clients × {depth} in flight (pipelined)"),
        format!("{} calls/s", thousands(r.rate())),
        format!("≥ {}/s", thousands(TARGET_CALLS)),
        Some(r.rate() >= TARGET_CALLS),
    );
    cpu_rows(table, &r);
    Ok(())
}

fn cpu_rows(table: &mut Table, r: &Round) {
    table.row(
        "  CPU per call: fulgurd / bench clients",
        format!(
            "{:.1} / {:.1} µs",
            r.cpu_per_call_us(r.server_cpu_s),
            r.cpu_per_call_us(r.client_cpu_s)
        ),
        "",
        None,
    );
    table.row(
        "  CPU busy: fulgurd / bench clients",
        format!(
            "{:.2} / {:.2} cores",
            r.server_cpu_s / r.seconds,
            r.client_cpu_s / r.seconds
        ),
        "",
        None,
    );
    if r.errors > 0 {
        table.row(
            "  error replies",
            thousands(r.errors as f64),
            "0",
            Some(false),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Start-up

/// One start: spawn to socket accepting, spawn to first `getinfo` reply, `stop` to exit.
struct StartSample {
    ready: Duration,
    first_reply: Duration,
    stop: Duration,
}

fn start_once(bin: &Path, dir: &Path, bitcoind: &Bitcoind) -> Result<StartSample> {
    let socket = fulgur_testkit::rpc::socket_path(dir);
    let out = std::fs::File::create(dir.join("fulgurd.out"))?;
    let t0 = Instant::now();
    let mut child = Command::new(bin)
        .args(Node::base_args(dir, Some(bitcoind)))
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .spawn()
        .context("spawning fulgurd")?;
    let ready = loop {
        if UnixStream::connect(&socket).is_ok() {
            break t0.elapsed();
        }
        if let Some(status) = child.try_wait()? {
            let text = std::fs::read_to_string(dir.join("fulgurd.out")).unwrap_or_default();
            bail!("fulgurd exited with {status} before its socket was ready:\n{text}");
        }
        if t0.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            bail!("fulgurd socket not ready after 30s");
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let mut client = RpcClient::connect(&socket)?;
    client
        .call("getinfo", Value::Object(Default::default()))?
        .result()?;
    let first_reply = t0.elapsed();
    let t1 = Instant::now();
    let _ = client.call("stop", Value::Array(vec![]));
    let exited = loop {
        if child.try_wait()?.is_some() {
            break true;
        }
        if t1.elapsed() > Duration::from_secs(10) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let stop = t1.elapsed();
    if !exited {
        let _ = child.kill();
        let _ = child.wait();
        bail!("fulgurd did not exit within 10s of stop");
    }
    Ok(StartSample {
        ready,
        first_reply,
        stop,
    })
}

fn startup_rounds(args: &Args, bin: &Path, bitcoind: &Bitcoind, table: &mut Table) -> Result<()> {
    let parent = tempfile::Builder::new().prefix("fulgur-bench-").tempdir()?;
    let fresh_dir = |i: usize| -> Result<PathBuf> {
        let d = parent.path().join(format!("fresh{i}"));
        std::fs::create_dir_all(&d)?;
        Ok(d)
    };
    progress("start-up: one untimed start to warm the page cache");
    start_once(bin, &fresh_dir(0)?, bitcoind)?;

    progress(&format!(
        "start-up: {} starts with fresh directories",
        args.starts
    ));
    let mut fresh = Vec::new();
    for i in 1..=args.starts {
        fresh.push(start_once(bin, &fresh_dir(i)?, bitcoind)?);
    }
    progress(&format!(
        "start-up: {} restarts on an existing directory",
        args.starts
    ));
    let existing = fresh_dir(1)?;
    let mut again = Vec::new();
    for _ in 0..args.starts {
        again.push(start_once(bin, &existing, bitcoind)?);
    }
    for (label, samples) in [("fresh dir", &fresh), ("existing dir", &again)] {
        let ready = Stats::of(samples.iter().map(|s| s.ready));
        table.row(
            format!(
                "start → socket ready, {label}, min/med/max (n={})",
                samples.len()
            ),
            ready.to_string(),
            format!("≤ {TARGET_START_MS} ms (median)"),
            Some(ready.median_ms <= TARGET_START_MS),
        );
        table.row(
            "  start → first getinfo reply",
            Stats::of(samples.iter().map(|s| s.first_reply)).to_string(),
            "",
            None,
        );
        table.row(
            "  stop → process exit",
            Stats::of(samples.iter().map(|s| s.stop)).to_string(),
            "",
            None,
        );
    }
    Ok(())
}

/// Min, median and max of some durations.
struct Stats {
    min_ms: f64,
    median_ms: f64,
    max_ms: f64,
}

impl Stats {
    fn of(d: impl Iterator<Item = Duration>) -> Stats {
        let mut ms: Vec<f64> = d.map(|d| d.as_secs_f64() * 1e3).collect();
        ms.sort_by(f64::total_cmp);
        if ms.is_empty() {
            return Stats {
                min_ms: 0.0,
                median_ms: 0.0,
                max_ms: 0.0,
            };
        }
        let n = ms.len();
        let median = if n % 2 == 1 {
            ms[n / 2]
        } else {
            (ms[n / 2 - 1] + ms[n / 2]) / 2.0
        };
        Stats {
            min_ms: ms[0],
            median_ms: median,
            max_ms: ms[n - 1],
        }
    }
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.1} / {:.1} / {:.1} ms",
            self.min_ms, self.median_ms, self.max_ms
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Memory

/// Memory figures of a process from `/proc/<pid>/status`, in kB.
struct Memory {
    rss_kb: u64,
    hwm_kb: u64,
    rss_anon_kb: u64,
    rss_file_kb: u64,
    threads: u64,
}

impl Memory {
    fn read(pid: u32) -> Result<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .with_context(|| format!("reading /proc/{pid}/status"))?;
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
                .unwrap_or(0)
        };
        Ok(Memory {
            rss_kb: field("VmRSS"),
            hwm_kb: field("VmHWM"),
            rss_anon_kb: field("RssAnon"),
            rss_file_kb: field("RssFile"),
            threads: field("Threads"),
        })
    }
    fn rss_mb(&self) -> f64 {
        kb_mb(self.rss_kb)
    }
    fn hwm_mb(&self) -> f64 {
        kb_mb(self.hwm_kb)
    }
}

/// kB (as /proc counts, 1024 bytes) to MB (MiB).
fn kb_mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

// ---------------------------------------------------------------------------------------------
// Peers

mod peers {
    use super::{cpu_seconds, kb_mb, percentile_ms, progress, Memory, Stats, Table};
    use super::{TARGET_HANDSHAKE_MS, TARGET_PEERS_MB};
    use anyhow::{bail, Context, Result};
    use fulgur_testkit::bench_peers::{counter_key, regtest_init, ConnectTimings, RawPeer};
    use fulgur_testkit::{Bitcoind, Node, NodeOptions};
    use secp256k1::PublicKey;
    use serde_json::{json, Value};
    use std::io::{ErrorKind, Read, Write};
    use std::net::SocketAddr;
    use std::os::unix::net::UnixStream;
    use std::path::Path;
    use std::time::{Duration, Instant};

    /// Limit for each socket read or write of a client.
    const IO_LIMIT: Duration = Duration::from_secs(10);

    /// Key tags: the counter keys of each series differ in their first byte.
    const TAG_WARM: u8 = 0x10;
    const TAG_CYCLE: u8 = 0x20;
    const TAG_IDLE: u8 = 0x30;
    /// Added to a node key's tag for its connection's ephemeral key.
    const EPHEMERAL: u8 = 0x01;

    /// A `fulgurd` and where its peers connect.
    struct PeerNode {
        node: Node,
        pid: u32,
        id: PublicKey,
        addr: SocketAddr,
    }

    impl PeerNode {
        fn start(bitcoind: &Bitcoind, max_connections: Option<usize>) -> Result<PeerNode> {
            let extra_args = max_connections
                .map(|m| vec![format!("--max-connections={m}")])
                .unwrap_or_default();
            let node = Node::start(
                Some(bitcoind),
                NodeOptions {
                    extra_args,
                    ..Default::default()
                },
            )?;
            let pid = node.pid().context("fulgurd has no pid")?;
            let info = node.rpc("getinfo", json!({}))?;
            let id: PublicKey = info["id"]
                .as_str()
                .context("getinfo has no id")?
                .parse()
                .context("getinfo id is not a public key")?;
            let port = info["binding"][0]["port"]
                .as_u64()
                .and_then(|p| u16::try_from(p).ok())
                .with_context(|| format!("getinfo has no binding port: {info}"))?;
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            Ok(PeerNode {
                node,
                pid,
                id,
                addr,
            })
        }

        /// One connection as node `n` of series `tag`, through the `init` exchange.
        fn connect(&self, tag: u8, n: u64, init: &[u8]) -> Result<(RawPeer, ConnectTimings)> {
            RawPeer::connect(
                self.addr,
                self.id,
                counter_key(tag, n),
                counter_key(tag + EPHEMERAL, n),
                init,
                IO_LIMIT,
            )
        }

        /// The node's open file descriptors (0 if unreadable).
        fn open_fds(&self) -> usize {
            std::fs::read_dir(format!("/proc/{}/fd", self.pid)).map_or(0, |d| d.count())
        }

        /// How many log lines contain `needle`.
        fn log_lines(&self, needle: &str) -> usize {
            self.node
                .log()
                .lines()
                .filter(|l| l.contains(needle))
                .count()
        }
    }

    /// CPU time of a process: utime + stime from `/proc/<pid>/stat` (10 ms ticks) and the sum
    /// of its threads' `schedstat` run times (nanoseconds; threads that exited are missed).
    #[derive(Clone, Copy)]
    struct Cpu {
        stat_s: f64,
        sched_s: f64,
    }

    impl Cpu {
        fn read(pid: u32) -> Result<Cpu> {
            Ok(Cpu {
                stat_s: cpu_seconds(&pid.to_string())?,
                sched_s: sched_seconds(pid),
            })
        }
        fn since(self, before: Cpu) -> Cpu {
            Cpu {
                stat_s: self.stat_s - before.stat_s,
                sched_s: self.sched_s - before.sched_s,
            }
        }
    }

    /// Sum of the first field of `/proc/<pid>/task/*/schedstat`: time on a CPU, in ns.
    fn sched_seconds(pid: u32) -> f64 {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            return 0.0;
        };
        let mut ns = 0u64;
        for t in tasks.flatten() {
            if let Ok(s) = std::fs::read_to_string(t.path().join("schedstat")) {
                ns += s
                    .split_whitespace()
                    .next()
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
            }
        }
        ns as f64 / 1e9
    }

    /// fulgurd's CPU while idle, per second of wall time, measured over `secs`.
    fn idle_rate(pid: u32, secs: f64) -> Result<Cpu> {
        let c0 = Cpu::read(pid)?;
        std::thread::sleep(Duration::from_secs_f64(secs));
        let d = Cpu::read(pid)?.since(c0);
        Ok(Cpu {
            stat_s: d.stat_s / secs,
            sched_s: d.sched_s / secs,
        })
    }

    fn ms_per(seconds: f64, n: usize) -> f64 {
        seconds * 1e3 / n as f64
    }

    /// Part 1: `n` sequential connections, each handshake + `init` exchange + close.
    pub fn handshake_round(n: usize, bitcoind: &Bitcoind, table: &mut Table) -> Result<()> {
        progress("peers: starting fulgurd");
        let pn = PeerNode::start(bitcoind, None)?;
        let init = regtest_init();
        // Settle after start, then a few untimed connections so lazy set-up is done.
        std::thread::sleep(Duration::from_secs(1));
        for i in 0..10 {
            pn.connect(TAG_WARM, i, &init)
                .context("warm-up connection")?
                .0
                .close();
        }
        progress("peers: measuring fulgurd's idle CPU for 2s");
        let idle = idle_rate(pn.pid, 2.0)?;

        progress(&format!(
            "peers: {n} sequential connections (handshake, init, close)"
        ));
        let fds0 = pn.open_fds();
        let (s0, c0) = (Cpu::read(pn.pid)?, cpu_seconds("self")?);
        let t0 = Instant::now();
        let mut timings = Vec::with_capacity(n);
        for i in 0..n {
            let (peer, t) = pn
                .connect(TAG_CYCLE, i as u64, &init)
                .with_context(|| format!("connection {} of {n}", i + 1))?;
            peer.close();
            timings.push(t);
        }
        let loop_s = t0.elapsed().as_secs_f64();
        // The hang-ups are part of the cost: wait until fulgurd closed every socket.
        let deadline = Instant::now() + Duration::from_secs(5);
        while pn.open_fds() > fds0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(50));
        let window = t0.elapsed().as_secs_f64();
        let server = Cpu::read(pn.pid)?.since(s0);
        let client = cpu_seconds("self")? - c0;

        let net = |total: f64, rate: f64| (total - rate * window).max(0.0);
        // Thread run times are exact; utime + stime come in 10 ms ticks, too coarse for a
        // small n. Fall back to them if schedstat is not available.
        let precise = server.sched_s > 0.0;
        let (used, idle_rate) = if precise {
            (server.sched_s, idle.sched_s)
        } else {
            (server.stat_s, idle.stat_s)
        };
        let per = ms_per(used, n);
        table.row(
            format!("peer handshake + init + close, fulgurd CPU per connection (n={n})"),
            format!("{per:.3} ms"),
            format!("< {TARGET_HANDSHAKE_MS} ms"),
            Some(per < TARGET_HANDSHAKE_MS),
        );
        table.row(
            "  same, net of fulgurd's idle CPU",
            format!("{:.3} ms", ms_per(net(used, idle_rate), n)),
            "",
            None,
        );
        table.row(
            format!(
                "  same, from utime + stime (10 ms ticks: ± {:.3} ms here)",
                ms_per(0.01, n)
            ),
            format!("{:.3} ms", ms_per(server.stat_s, n)),
            "",
            None,
        );
        table.row(
            "  fulgurd idle CPU (bitcoind polling etc.)",
            format!("{:.2} ms/s", idle_rate * 1e3),
            "",
            None,
        );
        let mut total: Vec<u64> = timings
            .iter()
            .map(|t| t.total().as_nanos() as u64)
            .collect();
        total.sort_unstable();
        table.row(
            "  client wall time to node's init, p50 / p99 / max",
            format!(
                "{:.3} / {:.3} / {:.3} ms",
                percentile_ms(&total, 0.5),
                percentile_ms(&total, 0.99),
                percentile_ms(&total, 1.0)
            ),
            "",
            None,
        );
        let med = |f: fn(&ConnectTimings) -> Duration| Stats::of(timings.iter().map(f)).median_ms;
        table.row(
            "  of which TCP / handshake / init exchange (medians)",
            format!(
                "{:.3} / {:.3} / {:.3} ms",
                med(|t| t.tcp),
                med(|t| t.handshake),
                med(|t| t.init)
            ),
            "",
            None,
        );
        table.row(
            "  wall time per cycle incl. close; bench CPU per cycle",
            format!("{:.3} ms; {:.3} ms", ms_per(loop_s, n), ms_per(client, n)),
            "",
            None,
        );
        Ok(())
    }

    /// Part 2: `n` peers connected and idle; fulgurd's memory, and `listpeers`.
    pub fn idle_peers_round(
        n: usize,
        settle_secs: f64,
        bitcoind: &Bitcoind,
        table: &mut Table,
    ) -> Result<()> {
        progress(&format!(
            "peers: starting fulgurd with --max-connections={}",
            n + 100
        ));
        let pn = PeerNode::start(bitcoind, Some(n + 100))?;
        let init = regtest_init();
        progress(&format!("peers: letting fulgurd idle {settle_secs}s"));
        std::thread::sleep(Duration::from_secs_f64(settle_secs));
        let m0 = Memory::read(pn.pid)?;
        let fds0 = pn.open_fds();

        progress(&format!("peers: opening {n} connections and keeping them"));
        let (s0, t0) = (Cpu::read(pn.pid)?, Instant::now());
        let mut held = Vec::with_capacity(n);
        let mut failure = None;
        for i in 0..n {
            match pn.connect(TAG_IDLE, i as u64, &init) {
                Ok((peer, _)) => held.push(peer),
                Err(e) => {
                    failure = Some(format!("connection {} of {n}: {e:#}", i + 1));
                    break;
                }
            }
        }
        let opened = held.len();
        let open_s = t0.elapsed().as_secs_f64();
        let server = Cpu::read(pn.pid)?.since(s0);

        progress("peers: all idle for 2s");
        std::thread::sleep(Duration::from_secs(2));
        let m1 = Memory::read(pn.pid)?;
        let fds1 = pn.open_fds();

        // RPC may fail too if fulgurd ran out of file descriptors: reported, not fatal.
        let t = Instant::now();
        let listing = listpeers(&pn.node.rpc_path).map(|listed| {
            let ms = t.elapsed().as_secs_f64() * 1e3;
            let bytes = serde_json::to_vec(&listed).map_or(0, |v| v.len());
            (ms, peer_count(&listed), bytes)
        });

        progress("peers: closing them all");
        for p in held {
            p.close();
        }
        let t = Instant::now();
        while pn.open_fds() > fds0 && t.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_secs(1));
        let m2 = Memory::read(pn.pid)?;
        let still = listpeers(&pn.node.rpc_path).map(|v| peer_count(&v));

        let delta_kb = m1.rss_kb.saturating_sub(m0.rss_kb);
        let delta_mb = kb_mb(delta_kb);
        table.row(
            format!("VmRSS added by {opened} idle peers"),
            format!("{delta_mb:.1} MB (total {:.1} MB)", m1.rss_mb()),
            format!("≤ {TARGET_PEERS_MB} MB for 1,000"),
            Some(opened == n && delta_mb * 1000.0 / n as f64 <= TARGET_PEERS_MB),
        );
        if opened > 0 {
            table.row(
                "  per peer: RSS / anonymous RSS",
                format!(
                    "{:.1} / {:.1} kB",
                    delta_kb as f64 / opened as f64,
                    m1.rss_anon_kb.saturating_sub(m0.rss_anon_kb) as f64 / opened as f64
                ),
                "",
                None,
            );
        }
        table.row(
            "  VmRSS before / with peers / after closing all",
            format!(
                "{:.1} / {:.1} / {:.1} MB",
                m0.rss_mb(),
                m1.rss_mb(),
                m2.rss_mb()
            ),
            "",
            None,
        );
        table.row(
            "  VmHWM; threads before / with peers",
            format!("{:.1} MB; {} / {}", m1.hwm_mb(), m0.threads, m1.threads),
            "",
            None,
        );
        table.row(
            "  fulgurd open fds before / with peers",
            format!("{fds0} / {fds1}"),
            "",
            None,
        );
        if opened > 0 {
            table.row(
                "  fulgurd CPU per kept connection: stat / schedstat",
                format!(
                    "{:.3} / {:.3} ms",
                    ms_per(server.stat_s, opened),
                    ms_per(server.sched_s, opened)
                ),
                "",
                None,
            );
            table.row(
                "  wall time per kept connection (client)",
                format!("{:.3} ms", ms_per(open_s, opened)),
                "",
                None,
            );
        }
        if let Some(why) = failure {
            table.row(
                "  connections opened",
                format!("{opened} of {n}"),
                format!("{n}"),
                Some(false),
            );
            table.row(format!("  first failure: {why}"), "", "", None);
            let emfile = pn.log_lines("Too many open files");
            let accept = pn.log_lines("accept failed");
            let refused = pn.log_lines("refusing connection");
            table.row(
                "  fulgurd log: `accept failed` / EMFILE / `refusing` lines",
                format!("{accept} / {emfile} / {refused}"),
                "",
                None,
            );
        }
        match listing {
            Ok((ms, count, bytes)) => {
                table.row(
                    "listpeers count with the idle peers",
                    count.to_string(),
                    format!("= {opened}"),
                    Some(count == opened && opened == n),
                );
                table.row(
                    "  listpeers reply time / size",
                    format!("{ms:.1} ms / {:.0} kB", bytes as f64 / 1024.0),
                    "",
                    None,
                );
            }
            Err(e) => table.row(
                format!("listpeers with the idle peers: failed: {e:#}"),
                "",
                format!("= {opened}"),
                Some(false),
            ),
        }
        match still {
            Ok(still) => table.row(
                "  listpeers count after closing all",
                still.to_string(),
                "= 0",
                Some(still == 0),
            ),
            Err(e) => table.row(
                format!("  listpeers after closing all: failed: {e:#}"),
                "",
                "= 0",
                Some(false),
            ),
        }
        Ok(())
    }

    fn peer_count(listpeers: &Value) -> usize {
        listpeers["peers"].as_array().map_or(0, Vec::len)
    }

    /// `listpeers`' result, failing after [`IO_LIMIT`] without an answer (a node out of file
    /// descriptors leaves the connection unaccepted, and the test kit's client waits 60 s).
    fn listpeers(socket: &Path) -> Result<Value> {
        let mut stream = UnixStream::connect(socket)
            .with_context(|| format!("connecting to {}", socket.display()))?;
        stream.set_read_timeout(Some(IO_LIMIT))?;
        stream.write_all(br#"{"jsonrpc":"2.0","id":1,"method":"listpeers","params":{}}"#)?;
        let mut buf = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        while !buf.ends_with(b"\n\n") {
            let n = stream.read(&mut chunk).map_err(|e| match e.kind() {
                ErrorKind::WouldBlock | ErrorKind::TimedOut => anyhow::anyhow!(
                    "no reply within {IO_LIMIT:?} (is fulgurd out of file descriptors?)"
                ),
                _ => anyhow::Error::new(e).context("reading the listpeers reply"),
            })?;
            if n == 0 {
                bail!("fulgurd closed the RPC connection without a reply");
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let mut reply: Value = serde_json::from_slice(&buf).context("reply is not JSON")?;
        match reply.get_mut("result") {
            Some(r) => Ok(r.take()),
            None => bail!("listpeers failed: {reply}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Output

#[derive(Default)]
struct Table {
    rows: Vec<[String; 4]>,
}

impl Table {
    fn row(
        &mut self,
        metric: impl Into<String>,
        figure: impl Into<String>,
        target: impl Into<String>,
        met: Option<bool>,
    ) {
        let verdict = match met {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "",
        };
        self.rows.push([
            metric.into(),
            figure.into(),
            target.into(),
            verdict.to_string(),
        ]);
    }

    fn print(&self) {
        let header = ["measure", "figure", "target", "vs target"];
        let mut width = [0usize; 4];
        for r in self
            .rows
            .iter()
            .chain(std::iter::once(&header.map(String::from)))
        {
            for (w, cell) in width.iter_mut().zip(r) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String; 4]| {
            let mut s = String::new();
            for (i, (cell, w)) in cells.iter().zip(width).enumerate() {
                if i > 0 {
                    s.push_str("  ");
                }
                s.push_str(cell);
                s.extend(std::iter::repeat_n(' ', w - cell.chars().count()));
            }
            println!("{}", s.trim_end());
        };
        line(&header.map(String::from));
        line(&width.map(|w| "-".repeat(w)));
        for r in &self.rows {
            line(r);
        }
    }
}

/// A whole number with thousands separators: 23456.7 → "23,457".
fn thousands(x: f64) -> String {
    let digits = format!("{:.0}", x.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]
    use super::*;

    #[test]
    fn frames_replies_split_across_reads() {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let ok = br#"{"jsonrpc":"2.0","id":1,"result":{"id":"x"}}"#;
        let err = br#"{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"result"}}"#;
        assert!(quick_kind(err) == Kind::Error);
        assert!(quick_kind(br#"{"result":{"error":1}}"#) == Kind::Result);
        let mut r = Replies::new();
        r.seen = FULLY_CHECKED;
        // A terminator split between two reads, then two replies in one read.
        a.write_all(ok).unwrap();
        a.write_all(b"\n").unwrap();
        assert!(r.next_buffered().unwrap().is_none());
        r.fill(&mut b).unwrap();
        assert!(r.next_buffered().unwrap().is_none());
        a.write_all(b"\n").unwrap();
        a.write_all(&[&err[..], b"\n\n", ok, b"\n\n"].concat())
            .unwrap();
        assert!(r.next(&mut b).unwrap() == Kind::Result);
        assert!(r.next(&mut b).unwrap() == Kind::Error);
        assert!(r.next(&mut b).unwrap() == Kind::Result);
        assert!(r.next_buffered().unwrap().is_none());
        assert_eq!(r.start, r.len);
    }

    #[test]
    fn grows_for_a_reply_larger_than_the_buffer() {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let big = format!(
            r#"{{"jsonrpc":"2.0","id":1,"result":{{"x":"{}"}}}}"#,
            "y".repeat(600_000)
        );
        let writer = std::thread::spawn(move || {
            a.write_all(big.as_bytes()).unwrap();
            a.write_all(b"\n\n").unwrap();
        });
        let mut r = Replies::new();
        r.seen = FULLY_CHECKED;
        assert!(r.next(&mut b).unwrap() == Kind::Result);
        writer.join().unwrap();
    }

    #[test]
    fn first_replies_are_checked_in_full() {
        let id = "02".repeat(33);
        let good = format!(r#"{{"jsonrpc":"2.0","id":1,"result":{{"id":"{id}"}}}}"#);
        assert!(check_getinfo(good.as_bytes()).is_ok());
        assert!(check_getinfo(br#"{"jsonrpc":"2.0","id":1,"error":{"code":1}}"#).is_err());
        assert!(check_getinfo(br#"{"jsonrpc":"2.0","id":1,"result":{}}"#).is_err());
    }

    #[test]
    fn formatting() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(23456.7), "23,457");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
        let s = Stats::of([3, 1, 2, 4].map(Duration::from_millis).into_iter());
        assert_eq!(s.to_string(), "1.0 / 2.5 / 4.0 ms");
        assert_eq!(percentile_ms(&[1_000_000, 2_000_000, 3_000_000], 0.5), 2.0);
    }
}
