//! Starting module runs: as child processes of the gateway (the embedded
//! default) or, in the cloud topology, as ECS tasks.

mod ecs;
mod local;

pub use ecs::{EcsLauncher, EcsSettings};
pub use local::{LocalLauncher, LocalRun, RunEnd};

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("the module binary {0} was not found; build every binary with `make build`")]
    MissingBinary(String),
    #[error("cannot start the module: {0}")]
    Start(String),
}

/// A started run: its reference (`local:<pid>` or an ECS task ARN) and, for
/// a local run, its end to await.
pub struct Started {
    pub task_ref: String,
    pub end: Option<tokio::task::JoinHandle<RunEnd>>,
}

/// The configured launcher.
pub enum AnyLauncher {
    Local(LocalLauncher),
    Ecs(EcsLauncher),
}

impl AnyLauncher {
    pub async fn launch(&self, job: &oas_domain::job::Job) -> Result<Started, LaunchError> {
        match self {
            Self::Local(local) => local.launch(job).map(|run| Started {
                task_ref: run.task_ref,
                end: Some(run.end),
            }),
            Self::Ecs(ecs) => ecs.launch(job).await.map(|arn| Started {
                task_ref: arn,
                end: None,
            }),
        }
    }
}
