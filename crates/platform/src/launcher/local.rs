use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use oas_domain::job::Job;
use tokio::task::JoinHandle;

use super::LaunchError;

/// Runs modules as child processes: the module's binary from `dir`, the job
/// in `OAS_JOB`, its output in `logs/{job_id}.log`, killed after `timeout`.
///
/// A run outlives the gateway that started it, as an ECS task does: it is
/// in a process group of its own (a Ctrl-C or a signal to the gateway does
/// not reach it) and is not killed when the gateway stops, so a gateway
/// restarted meanwhile hears its completion webhook.
#[derive(Debug, Clone)]
pub struct LocalLauncher {
    dir: PathBuf,
    logs: PathBuf,
    timeout: Duration,
    env: Vec<(String, String)>,
}

/// How a local run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEnd {
    /// The process exited by itself, with this status (none if a signal ended it).
    Exited(Option<i32>),
    /// It ran past the timeout and was killed.
    TimedOut,
    /// It was killed for passing its memory limit (in MiB, when known).
    OutOfMemory(Option<u64>),
    /// Waiting for it failed.
    Lost(String),
}

/// A started run: its task reference, and its end to await.
/// The modules' allocator (mimalloc) asks for no transparent huge pages:
/// with them, the system clears 2 MiB for each page an import first
/// touches, however little of it is used (a tenth less memory and less
/// system time, measured on the benchmark). Freed memory is already kept
/// a second before it goes back (mimalloc 3's default). The module image
/// sets the same (docker/module.Dockerfile).
pub const ALLOCATOR_SETTING: (&str, &str) = ("MIMALLOC_ALLOW_THP", "0");

pub struct LocalRun {
    pub task_ref: String,
    pub end: JoinHandle<RunEnd>,
}

impl LocalLauncher {
    /// `env` is added to the inherited environment (e.g. the webhook key).
    pub fn new(dir: PathBuf, logs: PathBuf, timeout: Duration, env: Vec<(String, String)>) -> Self {
        Self {
            dir,
            logs,
            timeout,
            env,
        }
    }

    /// The folder of the running executable: where `make build` puts every binary.
    pub fn default_dir() -> PathBuf {
        std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("."))
    }

    pub fn log_path(&self, job_id: &str) -> PathBuf {
        self.logs.join(format!("{job_id}.log"))
    }

    pub fn launch(&self, job: &Job) -> Result<LocalRun, LaunchError> {
        let binary = self.dir.join(job.module.binary());
        if !binary.is_file() {
            return Err(LaunchError::MissingBinary(binary.display().to_string()));
        }
        let json = serde_json::to_string(job).map_err(|e| LaunchError::Start(e.to_string()))?;
        std::fs::create_dir_all(&self.logs).map_err(|e| LaunchError::Start(e.to_string()))?;
        let log = std::fs::File::create(self.log_path(&job.job_id))
            .map_err(|e| LaunchError::Start(e.to_string()))?;
        let log_err = log
            .try_clone()
            .map_err(|e| LaunchError::Start(e.to_string()))?;
        let mut command = tokio::process::Command::new(&binary);
        if std::env::var_os(ALLOCATOR_SETTING.0).is_none() {
            command.env(ALLOCATOR_SETTING.0, ALLOCATOR_SETTING.1);
        }
        command
            .env("OAS_JOB", json)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err));
        #[cfg(unix)]
        command.process_group(0);
        let mut child = command
            .spawn()
            .map_err(|e| LaunchError::Start(format!("{}: {e}", binary.display())))?;
        let task_ref = format!("local:{}", child.id().unwrap_or_default());
        let timeout = self.timeout;
        let end = tokio::spawn(async move {
            match tokio::time::timeout(timeout, child.wait()).await {
                Ok(Ok(status)) => RunEnd::Exited(status.code()),
                Ok(Err(e)) => RunEnd::Lost(e.to_string()),
                Err(_) => {
                    let _ = child.kill().await;
                    RunEnd::TimedOut
                }
            }
        });
        Ok(LocalRun { task_ref, end })
    }
}
