//! Starting module runs: as child processes of the gateway (the embedded
//! default), as containers on a Docker Engine (one machine shaped like the
//! cloud), or, in the cloud topology, as ECS tasks.

mod docker;
mod ecs;
mod local;

pub use docker::{DEFAULT_ENGINE, DockerLauncher, DockerSettings};
pub use ecs::{EcsLauncher, EcsSettings};
pub use local::{LocalLauncher, LocalRun, RunEnd};

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("the module binary {0} was not found; build every binary with `make build`")]
    MissingBinary(String),
    #[error("the module image {0} was not found; build the images with `make images`")]
    MissingImage(String),
    #[error("{0}")]
    Engine(String),
    #[error("cannot start the module: {0}")]
    Start(String),
}

/// A started run: its reference (`local:<pid>`, `docker:<container>` or an
/// ECS task ARN) and, for a local run or a container, its end to await.
pub struct Started {
    pub task_ref: String,
    pub end: Option<tokio::task::JoinHandle<RunEnd>>,
}

/// The configured launcher.
pub enum AnyLauncher {
    Local(LocalLauncher),
    Docker(DockerLauncher),
    Ecs(EcsLauncher),
}

impl AnyLauncher {
    pub async fn launch(&self, job: &oas_domain::job::Job) -> Result<Started, LaunchError> {
        match self {
            Self::Local(local) => local.launch(job).map(|run| Started {
                task_ref: run.task_ref,
                end: Some(run.end),
            }),
            Self::Docker(docker) => docker.launch(job).await,
            Self::Ecs(ecs) => ecs.launch(job).await.map(|arn| Started {
                task_ref: arn,
                end: None,
            }),
        }
    }
}
