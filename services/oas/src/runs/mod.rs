//! Module runs, from the gateway's side: launch one, watch it (local
//! runs), record its end exactly once, and end runs that never report.
//!
//! This is the job runtime. It records that a run ended and wakes the
//! workflows (`AppState::run_ended`); it never calls into them, and knows
//! nothing of files, reports or statements. What a run's end leads to is
//! `crate::workflows`'s business.

mod local;
pub mod queue;
pub mod sweep;

use chrono::Utc;
use oas_db::jobs::{self, JobRecord, Outcome};
use oas_domain::job::{Callback, EventStatus, FailureCode, Job, JobEvent, Module, contract};
use oas_platform::launcher::LaunchError;

use crate::background::{BackgroundError, BackgroundResult};
use crate::state::AppState;

pub use local::Watched;
pub use queue::{handle_queued, spawn_queue_consumer};
pub use sweep::{SWEEP_GRACE, spawn_sweeper, sweep_once};

/// What a run works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// A sales file.
    File(i64),
    /// A catalog file being imported.
    CatalogImport(i64),
    /// A catalog audit.
    CatalogAudit(i64),
    /// A report.
    Report(i64),
    /// Statements of a period, calculated in one run: the first of them
    /// (the run's params name them all).
    Statements(i64),
    /// A batch of automatic uploads being fetched.
    Batch(i64),
    /// Nothing in particular (a ping).
    None,
}

/// How a catalog import is named in `jobs.subject_kind`.
const CATALOG_IMPORT: &str = "catalog_import";
/// How a catalog audit is named in `jobs.subject_kind`.
const CATALOG_AUDIT: &str = "catalog_audit";
/// How a report is named in `jobs.subject_kind`.
const REPORT: &str = "report";
/// How a run of statements is named in `jobs.subject_kind`.
const STATEMENTS: &str = "statements";
/// How a batch of automatic uploads is named in `jobs.subject_kind`.
const BATCH: &str = "fetch_batch";

impl Subject {
    pub fn file_id(self) -> Option<i64> {
        match self {
            Subject::File(id) => Some(id),
            Subject::CatalogImport(_)
            | Subject::CatalogAudit(_)
            | Subject::Report(_)
            | Subject::Statements(_)
            | Subject::Batch(_)
            | Subject::None => None,
        }
    }

    /// The kind and id a run records for a subject other than a file.
    fn recorded(self) -> (Option<String>, Option<i64>) {
        match self {
            Subject::CatalogImport(id) => (Some(CATALOG_IMPORT.to_owned()), Some(id)),
            Subject::CatalogAudit(id) => (Some(CATALOG_AUDIT.to_owned()), Some(id)),
            Subject::Report(id) => (Some(REPORT.to_owned()), Some(id)),
            Subject::Statements(id) => (Some(STATEMENTS.to_owned()), Some(id)),
            Subject::Batch(id) => (Some(BATCH.to_owned()), Some(id)),
            Subject::File(_) | Subject::None => (None, None),
        }
    }

    /// The subject a recorded run names.
    pub fn of(job: &JobRecord) -> Subject {
        match (job.file_id, job.subject_kind.as_deref(), job.subject_id) {
            (Some(id), _, _) => Subject::File(id),
            (None, Some(CATALOG_IMPORT), Some(id)) => Subject::CatalogImport(id),
            (None, Some(CATALOG_AUDIT), Some(id)) => Subject::CatalogAudit(id),
            (None, Some(REPORT), Some(id)) => Subject::Report(id),
            (None, Some(STATEMENTS), Some(id)) => Subject::Statements(id),
            (None, Some(BATCH), Some(id)) => Subject::Batch(id),
            _ => Subject::None,
        }
    }
}

/// What to run.
pub struct Launch {
    pub module: Module,
    pub action: String,
    pub organisation_id: i64,
    pub subject: Subject,
    /// The module's `Params`, as JSON.
    pub params: serde_json::Value,
}

/// Records the job, then starts its run. A run that cannot start is
/// recorded as failed, saying why (its end is handed on like any other).
pub async fn launch(state: &AppState, request: Launch) -> BackgroundResult<JobRecord> {
    let now = Utc::now().naive_utc();
    let timeout = state.settings.module_timeout + SWEEP_GRACE;
    let (subject_kind, subject_id) = request.subject.recorded();
    let record = JobRecord {
        id: uuid::Uuid::new_v4().to_string(),
        module: request.module.as_str().to_owned(),
        action: request.action.clone(),
        organisation_id: request.organisation_id,
        file_id: request.subject.file_id(),
        status: jobs::QUEUED.to_owned(),
        params: request.params.to_string(),
        output: None,
        error_code: None,
        error_message: None,
        task_ref: None,
        exit_code: None,
        created_at: now,
        started_at: None,
        finished_at: None,
        deadline_at: now + chrono::Duration::from_std(timeout).unwrap_or_default(),
        continued_at: None,
        continue_after: None,
        subject_kind,
        subject_id,
    };
    let inserted = record.clone();
    state
        .db
        .run(move |conn| JobRecord::insert(conn, &inserted))
        .await?;

    let job = Job {
        job_id: record.id.clone(),
        module: request.module,
        action: request.action,
        org_id: request.organisation_id,
        file_id: request.subject.file_id(),
        params: request.params,
        callback: Callback {
            webhook_url: Some(webhook_url(state)),
            queue_url: state.settings.events_queue_url.clone(),
        },
    };
    match state.launcher.launch(&job).await {
        Ok(run) => {
            let (id, task_ref) = (record.id.clone(), run.task_ref.clone());
            state
                .db
                .run(move |conn| JobRecord::started(conn, &id, &task_ref, Utc::now().naive_utc()))
                .await?;
            tracing::info!(job.id = %record.id, job.module = %job.module, job.task = %run.task_ref, "module run started");
            if let Some(end) = run.end {
                local::watch(state, &record.id, end);
            }
        }
        Err(e) => {
            let message = match &e {
                LaunchError::MissingBinary(_) | LaunchError::MissingImage(_) => {
                    format!("The {} module is not installed: {e}", job.module)
                }
                LaunchError::Engine(_) | LaunchError::Start(_) => {
                    format!("The {} module could not start: {e}", job.module)
                }
            };
            tracing::error!(job.id = %record.id, job.module = %job.module, error = %e, "module run not started");
            record_end(
                state,
                &record.id,
                failed(FailureCode::LaunchFailed, &message),
            )
            .await?;
        }
    }
    let id = record.id;
    Ok(state.db.run(move |conn| JobRecord::find(conn, &id)).await?)
}

/// The gateway's completion webhook, as module runs should call it.
pub fn webhook_url(state: &AppState) -> String {
    format!(
        "{}/api/webhooks/jobs/",
        state.base_url().as_str().trim_end_matches('/')
    )
}

pub(crate) fn failed(code: FailureCode, message: &str) -> Outcome {
    Outcome {
        status: jobs::FAILED,
        output: None,
        error_code: Some(code.as_str().to_owned()),
        error_message: Some(message.to_owned()),
    }
}

/// Records a run's end once, and wakes the workflows; `false` if the run
/// had already ended (nothing changes).
pub async fn record_end(state: &AppState, id: &str, outcome: Outcome) -> BackgroundResult<bool> {
    let job_id = id.to_owned();
    let recorded = state
        .db
        .run(move |conn| JobRecord::finish(conn, &job_id, &outcome, Utc::now().naive_utc()))
        .await?;
    if recorded {
        state.run_ended.notify_one();
    }
    Ok(recorded)
}

/// What applying an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Recorded,
    /// The run had already ended: nothing changed.
    AlreadyRecorded,
}

/// Applies a completion event to its job, exactly once. A succeeded event
/// whose output is not what its module's contract promises is recorded as
/// a failed run (`invalid_output`), so nothing downstream reads half of it.
pub async fn apply_event(state: &AppState, event: JobEvent) -> BackgroundResult<Applied> {
    let JobEvent::V1(event) = event;
    let id = event.job_id.clone();
    let job = state.db.run(move |conn| JobRecord::find(conn, &id)).await?;
    if job.module != event.module.as_str() || job.action != event.action {
        return Err(BackgroundError::Invalid(
            "The event's module or action does not match its job.".into(),
        ));
    }
    let outcome = match event.status {
        EventStatus::Succeeded => {
            match contract::check_output(event.module, &event.action, &event.output) {
                Ok(()) => Outcome {
                    status: jobs::SUCCEEDED,
                    output: Some(event.output.to_string()),
                    error_code: None,
                    error_message: None,
                },
                Err(reason) => {
                    tracing::error!(job.id = %job.id, job.module = %event.module, %reason, "a module's output breaks its contract");
                    failed(
                        FailureCode::InvalidOutput,
                        &format!(
                            "The {} module's output could not be read: {reason}.",
                            event.module
                        ),
                    )
                }
            }
        }
        EventStatus::Failed => {
            let error = event.error.unwrap_or_else(|| oas_domain::job::EventError {
                code: FailureCode::Other,
                message: "The module reported a failure without a reason.".into(),
            });
            failed(error.code, &error.message)
        }
    };
    if record_end(state, &job.id, outcome).await? {
        Ok(Applied::Recorded)
    } else {
        // A repeated delivery: its first may have been recorded while what
        // follows failed for a passing reason. Wake the workflows, which
        // carry out any continuation still due.
        state.run_ended.notify_one();
        Ok(Applied::AlreadyRecorded)
    }
}
