//! Runs that will never report: past their deadline (no local watcher, as
//! on ECS, or a gateway that restarted), or local processes that are gone
//! while nobody watched them.

use std::time::Duration;

use chrono::Utc;
use oas_db::jobs::{self, JobRecord, Outcome};
use oas_domain::job::FailureCode;

use super::{failed, record_end};
use crate::background::BackgroundResult;
use crate::state::AppState;

/// Extra time past the module timeout before the sweep steps in, so that a
/// local run's own watcher, which knows more, acts first.
pub const SWEEP_GRACE: Duration = Duration::from_secs(30);

/// Ends every open run past its deadline (`timed_out`), and every local
/// run of another gateway process whose process is gone (`lost`); returns
/// how many.
pub async fn sweep_once(state: &AppState) -> BackgroundResult<usize> {
    let now = Utc::now().naive_utc();
    let overdue = state
        .db
        .run(move |conn| JobRecord::overdue(conn, now))
        .await?;
    let mut swept = 0;
    for job in overdue {
        let outcome = Outcome {
            status: jobs::TIMED_OUT,
            output: None,
            error_code: Some(FailureCode::TimedOut.as_str().to_owned()),
            error_message: Some("The module run did not report back in time.".into()),
        };
        if record_end(state, &job.id, outcome).await? {
            tracing::warn!(job.id = %job.id, job.module = %job.module, "module run timed out");
            swept += 1;
        }
    }
    let running = state.db.run(JobRecord::running_locally).await?;
    for job in running {
        if state.watched.contains(&job.id) || process_alive(&job) {
            continue;
        }
        let outcome = failed(
            FailureCode::Lost,
            "The module's process ended without reporting its outcome while the gateway that started it was not running; see its log.",
        );
        if record_end(state, &job.id, outcome).await? {
            tracing::warn!(job.id = %job.id, job.module = %job.module, "a local module run was lost");
            swept += 1;
        }
    }
    Ok(swept)
}

/// Whether the process of a local run (`local:<pid>`) still runs that job:
/// the process must exist and carry the job in its environment, so a
/// process id used again by another program does not count. Where that
/// cannot be told (no `/proc`, no permission), it counts as alive and the
/// deadline decides.
fn process_alive(job: &JobRecord) -> bool {
    let Some(pid) = job
        .task_ref
        .as_deref()
        .and_then(|t| t.strip_prefix("local:"))
        .and_then(|pid| pid.parse::<u32>().ok())
    else {
        return true;
    };
    let proc = std::path::Path::new("/proc");
    if !proc.is_dir() {
        return true;
    }
    match std::fs::read(proc.join(pid.to_string()).join("environ")) {
        Ok(environ) => environ
            .split(|b| *b == 0)
            .any(|var| var.starts_with(b"OAS_JOB=") && contains(var, job.id.as_bytes())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(_) => true,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Sweeps in the background, every `every`, for as long as the runtime lives.
pub fn spawn_sweeper(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        loop {
            ticks.tick().await;
            if let Err(e) = sweep_once(&state).await {
                tracing::error!(error = %e, "the job sweep failed");
            }
        }
    })
}
