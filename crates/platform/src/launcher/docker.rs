use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use bollard::Docker;
use bollard::errors::Error as DockerError;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, KillContainerOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder,
};
use futures_util::StreamExt;
use oas_domain::job::Job;
use tokio::io::AsyncWriteExt;

use super::{LaunchError, RunEnd, Started};

/// Where and how module runs start as containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerSettings {
    /// Where the engine listens (`DOCKER_HOST`: `unix:///var/run/docker.sock`
    /// by default, or `tcp://host:2375`).
    pub host: String,
    /// The image of a module is this prefix, the module's name and
    /// `image_tag` (`oas-importer:latest`), as the ECS task definitions
    /// name them.
    pub image_prefix: String,
    pub image_tag: String,
    /// The network the containers join (`bridge` when unset; a compose
    /// stack's network, or `host`).
    pub network: Option<String>,
    /// A memory limit for each run, in MiB; a run that passes it is killed
    /// and ends failed, saying so.
    pub memory_mib: Option<u64>,
}

/// Starts each module run as a container on a Docker Engine (`DOCKER_HOST`,
/// else the local socket): the module's image, the job in `OAS_JOB` exactly
/// as an ECS container override sets it, the gateway's settings for modules
/// in its environment. The container's output is kept in
/// `logs/{job_id}.log`, it is killed after `timeout`, and removed once its
/// end is known.
///
/// Like a local run, a container outlives the gateway that started it; one
/// whose gateway stopped meanwhile stays behind, stopped, labelled
/// `oas.job` (`docker container prune --filter label=oas.job`).
#[derive(Debug, Clone)]
pub struct DockerLauncher {
    docker: Docker,
    settings: DockerSettings,
    logs: PathBuf,
    timeout: Duration,
    env: Vec<(String, String)>,
}

/// Where the engine listens when `DOCKER_HOST` is not set.
pub const DEFAULT_ENGINE: &str = "unix:///var/run/docker.sock";

impl DockerLauncher {
    /// Connects to the engine and checks that it answers: a gateway
    /// configured for containers does not start without one.
    pub async fn connect(
        settings: DockerSettings,
        logs: PathBuf,
        timeout: Duration,
        env: Vec<(String, String)>,
    ) -> Result<Self, LaunchError> {
        let unreachable = |e: DockerError| {
            LaunchError::Engine(format!(
                "cannot reach the Docker Engine at {} (set DOCKER_HOST to where it listens): {e}",
                settings.host
            ))
        };
        let docker = Docker::connect_with_host(&settings.host)
            .map_err(unreachable)?
            // A run's wait and its log stream last as long as the run.
            .with_timeout(timeout + Duration::from_secs(60))
            .negotiate_version()
            .await
            .map_err(unreachable)?;
        docker.ping().await.map_err(unreachable)?;
        std::fs::create_dir_all(&logs).map_err(|e| {
            LaunchError::Start(format!(
                "cannot make the log folder {}: {e}",
                logs.display()
            ))
        })?;
        Ok(Self {
            docker,
            settings,
            logs,
            timeout,
            env,
        })
    }

    /// The image a job's module runs from.
    pub fn image(&self, job: &Job) -> String {
        format!(
            "{}{}:{}",
            self.settings.image_prefix, job.module, self.settings.image_tag
        )
    }

    pub fn log_path(&self, job_id: &str) -> PathBuf {
        self.logs.join(format!("{job_id}.log"))
    }

    /// Creates and starts the run's container; its end is awaited in the
    /// background.
    pub async fn launch(&self, job: &Job) -> Result<Started, LaunchError> {
        let image = self.image(job);
        let json = serde_json::to_string(job).map_err(|e| LaunchError::Start(e.to_string()))?;
        // The image sets the allocator's setting (docker/module.Dockerfile).
        let mut env: Vec<String> = self.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        env.push(format!("OAS_JOB={json}"));
        let memory = self
            .settings
            .memory_mib
            .and_then(|mib| i64::try_from(mib.saturating_mul(1024 * 1024)).ok());
        let body = ContainerCreateBody {
            image: Some(image.clone()),
            env: Some(env),
            labels: Some(HashMap::from([
                ("oas.job".to_owned(), job.job_id.clone()),
                ("oas.module".to_owned(), job.module.to_string()),
            ])),
            host_config: Some(HostConfig {
                network_mode: self.settings.network.clone(),
                memory,
                // No swap beyond the limit: a run over it is stopped, not slowed.
                memory_swap: memory,
                ..Default::default()
            }),
            ..Default::default()
        };
        let name = format!("oas-{}-{}", job.module, job.job_id);
        let options = CreateContainerOptionsBuilder::default().name(&name).build();
        let created = self
            .docker
            .create_container(Some(options), body)
            .await
            .map_err(|e| match e {
                DockerError::DockerResponseServerError {
                    status_code: 404,
                    message,
                } if message.contains("image") => LaunchError::MissingImage(image.clone()),
                e => LaunchError::Start(format!("cannot create the container: {e}")),
            })?;
        if let Err(e) = self.docker.start_container(&created.id, None).await {
            self.remove(&created.id).await;
            return Err(LaunchError::Start(format!(
                "cannot start the container: {e}"
            )));
        }
        let task_ref = format!("docker:{}", &created.id[..created.id.len().min(12)]);
        let watcher = self.clone();
        let log = self.log_path(&job.job_id);
        let end = tokio::spawn(async move { watcher.watch(&created.id, log).await });
        Ok(Started {
            task_ref,
            end: Some(end),
        })
    }

    /// Copies the container's output to `log` while it runs, waits for its
    /// end (killing it at the timeout), reads how it ended, removes it.
    async fn watch(&self, id: &str, log: PathBuf) -> RunEnd {
        let copy = {
            let docker = self.docker.clone();
            let id = id.to_owned();
            tokio::spawn(async move {
                let options = LogsOptionsBuilder::default()
                    .follow(true)
                    .stdout(true)
                    .stderr(true)
                    .build();
                let mut output = docker.logs(&id, Some(options));
                let mut file = tokio::fs::File::create(&log).await.ok();
                while let Some(Ok(chunk)) = output.next().await {
                    if let Some(f) = file.as_mut()
                        && f.write_all(chunk.as_ref()).await.is_err()
                    {
                        file = None;
                    }
                }
                if let Some(mut f) = file {
                    let _ = f.flush().await;
                }
            })
        };
        // A wait answers when the container stops (or its connection
        // drops); the engine's inspection then says how it ended.
        let deadline = tokio::time::Instant::now() + self.timeout;
        let _ =
            tokio::time::timeout_at(deadline, self.docker.wait_container(id, None).next()).await;
        let end = match self.stopped(id, deadline).await {
            Ok(Some(end)) => end,
            Ok(None) => {
                let kill = KillContainerOptionsBuilder::default()
                    .signal("KILL")
                    .build();
                let _ = self.docker.kill_container(id, Some(kill)).await;
                RunEnd::TimedOut
            }
            Err(e) => RunEnd::Lost(e),
        };
        let _ = copy.await;
        self.remove(id).await;
        end
    }

    /// Waits until the container is no longer running, then says how it
    /// ended; `None` when it still runs at `deadline`.
    async fn stopped(
        &self,
        id: &str,
        deadline: tokio::time::Instant,
    ) -> Result<Option<RunEnd>, String> {
        let mut pause = Duration::from_millis(50);
        loop {
            let inspected = self
                .docker
                .inspect_container(id, None)
                .await
                .map_err(|e| format!("cannot inspect the container: {e}"))?;
            let state = inspected.state.unwrap_or_default();
            if state.running != Some(true) {
                if state.oom_killed == Some(true) {
                    return Ok(Some(RunEnd::OutOfMemory(self.settings.memory_mib)));
                }
                return Ok(Some(RunEnd::Exited(
                    state.exit_code.and_then(|c| i32::try_from(c).ok()),
                )));
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
            // A wait answered before the engine recorded the stop.
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }

    async fn remove(&self, id: &str) {
        let options = RemoveContainerOptionsBuilder::default().force(true).build();
        if let Err(e) = self.docker.remove_container(id, Some(options)).await {
            tracing::warn!(container = %id, error = %e, "cannot remove a module run's container");
        }
    }
}
