//! The ping module does no data work: it reports back, so an operator can
//! see that launching a module run, handing it its job and hearing its
//! completion all work in a deployment (ECS task definition, network,
//! webhook key, queues).

use std::time::Duration;

use oas_domain::job::contract::ping::{self, Output, Params};
use oas_domain::job::{FailureCode, Job, Module};
use oas_platform::config::Settings;
use oas_platform::module::{Failure, ModuleInfo};
use serde_json::Value;

/// The longest `hold_ms` honoured: a day.
const MAX_HOLD_MS: u64 = 86_400_000;
/// The most memory `allocate_mib` takes.
const MAX_ALLOCATE_MIB: u32 = 512;

pub const INFO: ModuleInfo = ModuleInfo {
    module: Module::Ping,
    about: "checks the module plumbing of a deployment end to end",
    actions: &[ping::ACTION],
    params: "{\"hold_ms\": N} waits N milliseconds before reporting (to check timeouts); \
             {\"fail\": \"message\"} reports a failure with that message; \
             {\"allocate_mib\": N} takes and touches N MiB first (at most 512, to check memory limits)",
};

pub async fn run(job: Job, _settings: Settings) -> Result<Value, Failure> {
    let params: Params = match job.params {
        Value::Null => Params::default(),
        params => serde_json::from_value(params)
            .map_err(|e| Failure::new(FailureCode::InvalidParams, e.to_string()))?,
    };
    let taken = params.allocate_mib.map(|mib| {
        // Every page written, so the memory is really taken.
        vec![1_u8; mib.min(MAX_ALLOCATE_MIB) as usize * 1024 * 1024]
    });
    if let Some(hold) = params.hold_ms {
        tokio::time::sleep(Duration::from_millis(hold.min(MAX_HOLD_MS))).await;
    }
    if let Some(message) = params.fail {
        // The failure asked for: the operator's own words.
        return Err(Failure::new(FailureCode::Rejected, message));
    }
    drop(std::hint::black_box(taken));
    let output = Output {
        pong: true,
        version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    serde_json::to_value(output).map_err(|e| Failure::new(FailureCode::Internal, e.to_string()))
}
