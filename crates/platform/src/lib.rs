//! What every OAS binary needs from its surroundings: configuration,
//! secrets and telemetry; later, the adapters to storage, queues and tasks.

pub mod config;
pub mod events;
pub mod fetch;
pub mod launcher;
pub mod module;
pub mod secrets;
pub mod snapshots;
pub mod storage;
pub mod telemetry;
