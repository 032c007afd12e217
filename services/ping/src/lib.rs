//! The ping module does no data work: it reports back, so an operator can
//! see that launching a module run, handing it its job and hearing its
//! completion all work in a deployment (ECS task definition, network,
//! webhook key, queues).

use std::time::Duration;

use oas_domain::job::{Job, Module};
use oas_platform::config::Settings;
use oas_platform::module::{Failure, ModuleInfo};
use serde_json::{Value, json};

/// The longest `hold_ms` honoured: a day.
const MAX_HOLD_MS: u64 = 86_400_000;

pub const INFO: ModuleInfo = ModuleInfo {
    module: Module::Ping,
    about: "checks the module plumbing of a deployment end to end",
    actions: &["ping"],
    params: "{\"hold_ms\": N} waits N milliseconds before reporting (to check timeouts); \
             {\"fail\": \"message\"} reports a failure with that message",
};

pub async fn run(job: Job, _settings: Settings) -> Result<Value, Failure> {
    if let Some(hold) = job.params.get("hold_ms").and_then(Value::as_u64) {
        tokio::time::sleep(Duration::from_millis(hold.min(MAX_HOLD_MS))).await;
    }
    if let Some(message) = job.params.get("fail").and_then(Value::as_str) {
        return Err(Failure::new("requested_failure", message));
    }
    Ok(json!({"pong": true, "version": env!("CARGO_PKG_VERSION")}))
}
