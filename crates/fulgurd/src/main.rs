//! `fulgurd`: the node daemon. Reads options and config files as `lightningd` does, then runs
//! the node (in the background with `--daemon`). Exit status: 0 after a clean stop, 1 when
//! start-up fails (the message names the cause).

use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// Set in the environment of the background copy `--daemon` starts.
const DAEMON_CHILD_ENV: &str = "FULGURD_DAEMON_CHILD";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| cwd.clone());
    let config = match fulgur_config::load(&args, &home, &cwd) {
        Ok(fulgur_config::Loaded::Help(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Ok(fulgur_config::Loaded::Version) => {
            println!("{}", fulgur_config::VERSION);
            return ExitCode::SUCCESS;
        }
        Ok(fulgur_config::Loaded::Run(config)) => *config,
        Err(e) => {
            eprintln!("fulgurd: {e}");
            return ExitCode::FAILURE;
        }
    };
    if config.daemon && std::env::var_os(DAEMON_CHILD_ENV).is_none() {
        return daemonize(&args, &config.rpc_file);
    }
    match fulgur_node::daemon::run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fulgurd: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Starts a detached copy of this program (its own process group, no terminal) and returns
/// once its RPC socket answers, or fails if the copy exits first.
fn daemonize(args: &[String], rpc_file: &std::path::Path) -> ExitCode {
    use std::os::unix::process::CommandExt;
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("fulgurd: --daemon: cannot find own executable: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut child = match Command::new(exe)
        .args(args)
        .env(DAEMON_CHILD_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .process_group(0)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("fulgurd: --daemon: cannot start the background process: {e}");
            return ExitCode::FAILURE;
        }
    };
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if answers(rpc_file) {
            return ExitCode::SUCCESS;
        }
        if let Ok(Some(status)) = child.try_wait() {
            eprintln!("fulgurd: --daemon: the background process exited with {status}");
            return ExitCode::FAILURE;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!(
        "fulgurd: --daemon: {} not ready after 30s",
        rpc_file.display()
    );
    ExitCode::FAILURE
}

/// Whether the node at `rpc_file` answers a request (the socket exists before the node is up).
fn answers(rpc_file: &std::path::Path) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::os::unix::net::UnixStream::connect(rpc_file) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let req = br#"{"jsonrpc":"2.0","id":"fulgurd-daemon-ready","method":"getinfo","params":[]}"#;
    if s.write_all(req).is_err() {
        return false;
    }
    let mut buf = [0u8; 256];
    matches!(s.read(&mut buf), Ok(n) if n > 0)
}
