//! The real `oas` binary as a child process, with its log lines readable as
//! they come.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_oas");

/// A command for the binary with a clean `OAS_` environment rooted in `data_dir`.
pub fn oas(data_dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(BIN);
    for (name, _) in std::env::vars() {
        if name.starts_with("OAS_") {
            command.env_remove(name);
        }
    }
    command
        .args(args)
        .current_dir(data_dir)
        .env("OAS_DATA_DIR", data_dir)
        .env("OAS_LOG_FORMAT", "json");
    for (name, value) in vars {
        command.env(name, value);
    }
    command
}

/// Runs to completion, feeding `stdin`.
pub fn run(data_dir: &Path, args: &[&str], vars: &[(&str, &str)], stdin: &str) -> Output {
    let mut child = oas(data_dir, args, vars)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn oas");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// `oas serve` running in the background.
pub struct Serving {
    child: Child,
    lines: Receiver<String>,
    pub seen: Vec<String>,
    pub address: SocketAddr,
}

impl Serving {
    pub fn start(data_dir: &Path, vars: &[(&str, &str)]) -> Serving {
        let mut all = vec![("OAS_BIND", "127.0.0.1:0"), ("OAS_WORKERS", "1")];
        all.extend_from_slice(vars);
        let mut child = oas(data_dir, &["serve"], &all)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn oas serve");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut serving = Serving {
            child,
            lines,
            seen: Vec::new(),
            address: "0.0.0.0:0".parse().unwrap(),
        };
        let listening = serving.wait_for_log(|json| json["message"] == "listening");
        serving.address = listening["address"].as_str().unwrap().parse().unwrap();
        serving
    }

    /// Waits (up to 60 s) for a JSON log line that `matches`, and returns it.
    pub fn wait_for_log(
        &mut self,
        matches: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if let Ok(json) = serde_json::from_str::<serde_json::Value>(&line)
                        && matches(&json)
                    {
                        return json;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no matching log line; saw:\n{}", self.seen.join("\n"))
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!(
                        "oas exited before the log line; saw:\n{}",
                        self.seen.join("\n")
                    )
                }
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits (up to 60 s) for the process to exit.
    pub fn wait(mut self) -> (ExitStatus, Vec<String>) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                self.seen.extend(self.lines.try_iter());
                return (status, std::mem::take(&mut self.seen));
            }
            assert!(Instant::now() < deadline, "oas did not exit");
            // Drain log lines while waiting; this also paces the loop.
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(50)) {
                self.seen.push(line);
            }
        }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}
