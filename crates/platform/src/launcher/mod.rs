//! Starting module runs: as child processes of the gateway (the embedded
//! default) or, in the cloud topology, as ECS tasks.

mod local;

pub use local::{LocalLauncher, LocalRun, RunEnd};

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("the module binary {0} was not found; build every binary with `make build`")]
    MissingBinary(String),
    #[error("cannot start the module: {0}")]
    Start(String),
}
