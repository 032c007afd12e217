//! The watcher of a run this gateway can see end (a child process or a
//! container): it keeps the exit status, and ends a run that exited without
//! reporting.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use oas_db::jobs::{self, JobRecord, Outcome};
use oas_domain::job::FailureCode;
use oas_platform::launcher::RunEnd;
use tokio::task::JoinHandle;

use super::{failed, record_end};
use crate::background::BackgroundResult;
use crate::state::AppState;

/// The jobs whose process or container this gateway process watches.
#[derive(Debug, Clone, Default)]
pub struct Watched(Arc<Mutex<HashSet<String>>>);

impl Watched {
    fn with<T>(&self, f: impl FnOnce(&mut HashSet<String>) -> T) -> T {
        match self.0.lock() {
            Ok(mut set) => f(&mut set),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }

    pub fn insert(&self, id: &str) {
        self.with(|set| set.insert(id.to_owned()));
    }

    pub fn remove(&self, id: &str) {
        self.with(|set| set.remove(id));
    }

    pub fn contains(&self, id: &str) -> bool {
        self.with(|set| set.contains(id))
    }
}

/// Watches the run of job `id` until `end`. A gateway that stops stops
/// watching, not the run: the run reports through its webhook when the
/// gateway is back, and the sweep notices one that died meanwhile.
pub(super) fn watch(state: &AppState, id: &str, end: JoinHandle<RunEnd>) {
    let (watcher, id) = (state.clone(), id.to_owned());
    watcher.watched.insert(&id);
    tokio::spawn(async move {
        let end = end.await.unwrap_or_else(|e| RunEnd::Lost(e.to_string()));
        if let Err(e) = ended(&watcher, &id, end).await {
            tracing::error!(job.id = %id, error = %e, "cannot record the end of a module run");
        }
        watcher.watched.remove(&id);
    });
}

/// A watched run ended: keep its exit status; if it ended without
/// reporting, the run fails (or times out) with the reason.
async fn ended(state: &AppState, id: &str, end: RunEnd) -> BackgroundResult<()> {
    let (job_id, exit_code) = (
        id.to_owned(),
        match &end {
            RunEnd::Exited(code) => *code,
            _ => None,
        },
    );
    state
        .db
        .run(move |conn| JobRecord::record_exit(conn, &job_id, exit_code))
        .await?;
    let seconds = state.settings.module_timeout.as_secs();
    let outcome = match end {
        RunEnd::TimedOut => Outcome {
            status: jobs::TIMED_OUT,
            output: None,
            error_code: Some(FailureCode::TimedOut.as_str().to_owned()),
            error_message: Some(format!(
                "The module did not finish within {seconds} seconds and was stopped."
            )),
        },
        RunEnd::Exited(code) => failed(
            FailureCode::ExitedWithoutReport,
            &format!(
                "The module exited ({}) without reporting its outcome; see its log.",
                code.map_or("killed by a signal".to_owned(), |c| format!("status {c}"))
            ),
        ),
        RunEnd::OutOfMemory(limit) => failed(
            FailureCode::OutOfMemory,
            &format!(
                "The module ran out of memory{} and was stopped; give its runs more memory.",
                limit.map_or(String::new(), |mib| format!(" (its limit is {mib} MiB)"))
            ),
        ),
        RunEnd::Lost(e) => failed(FailureCode::Lost, &format!("The module run was lost: {e}")),
    };
    if record_end(state, id, outcome).await? {
        tracing::warn!(job.id = %id, "module run ended without a completion event");
    }
    Ok(())
}
