//! Module runs, from the gateway's side: launch, watch (local runs), apply
//! the completion event exactly once, and time out runs that never report.

use std::time::Duration;

use chrono::Utc;
use oas_db::jobs::{self, JobRecord, Outcome};
use oas_domain::job::{Callback, EventStatus, Job, JobEvent, Module};
use oas_platform::events::sqs::{EventQueue, Handled};
use oas_platform::launcher::{LaunchError, RunEnd};

use crate::http::ApiError;
use crate::http::error::ErrorCode;
use crate::state::AppState;

/// Extra time past the module timeout before the sweep steps in, so that a
/// local run's own watcher, which knows more, acts first.
const SWEEP_GRACE: Duration = Duration::from_secs(30);

/// What to run.
pub struct Launch {
    pub module: Module,
    pub action: String,
    pub organisation_id: i64,
    pub file_id: Option<i64>,
    pub params: serde_json::Value,
}

/// A launch in progress. Named rather than opaque: a run's end can start
/// the file's next run, and this type is where that cycle is cut.
pub type Launching<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<JobRecord, ApiError>> + Send + 'a>>;

/// Records the job, then starts its run. A run that cannot start leaves a
/// `failed` job saying why.
pub fn launch(state: &AppState, request: Launch) -> Launching<'_> {
    Box::pin(launch_now(state, request))
}

async fn launch_now(state: &AppState, request: Launch) -> Result<JobRecord, ApiError> {
    let now = Utc::now().naive_utc();
    let timeout = state.settings.module_timeout + SWEEP_GRACE;
    let record = JobRecord {
        id: uuid::Uuid::new_v4().to_string(),
        module: request.module.as_str().to_owned(),
        action: request.action.clone(),
        organisation_id: request.organisation_id,
        file_id: request.file_id,
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
        file_id: request.file_id,
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
            tracing::info!(job_id = %record.id, module = %job.module, task = %run.task_ref, "module run started");
            if let Some(end) = run.end {
                let watcher = state.clone();
                let id = record.id.clone();
                tokio::spawn(async move {
                    let end = end.await.unwrap_or_else(|e| RunEnd::Lost(e.to_string()));
                    if let Err(e) = local_run_ended(&watcher, &id, end).await {
                        tracing::error!(job_id = %id, error = %e, "cannot record the end of a module run");
                    }
                });
            }
        }
        Err(e) => {
            let message = match &e {
                LaunchError::MissingBinary(_) => {
                    format!("The {} module is not installed: {e}", job.module)
                }
                LaunchError::Start(_) => format!("The {} module could not start: {e}", job.module),
            };
            tracing::error!(job_id = %record.id, error = %e, "module run not started");
            finish(state, &record.id, failed("launch_failed", &message)).await?;
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

fn failed(code: &str, message: &str) -> Outcome {
    Outcome {
        status: jobs::FAILED,
        output: None,
        error_code: Some(code.to_owned()),
        error_message: Some(message.to_owned()),
    }
}

/// Records an outcome once; `false` if the run had already ended. A
/// recorded end is applied to the run's file, if it has one.
async fn finish(state: &AppState, id: &str, outcome: Outcome) -> Result<bool, ApiError> {
    let job_id = id.to_owned();
    let finished = state
        .db
        .run(move |conn| JobRecord::finish(conn, &job_id, &outcome, Utc::now().naive_utc()))
        .await?;
    if finished {
        let job_id = id.to_owned();
        let job = state
            .db
            .run(move |conn| JobRecord::find(conn, &job_id))
            .await?;
        crate::files::after_job(state, &job).await?;
    }
    Ok(finished)
}

/// A local run's process ended: keep its exit status; if it ended without
/// reporting, the job fails (or times out) with the reason.
async fn local_run_ended(state: &AppState, id: &str, end: RunEnd) -> Result<(), ApiError> {
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
            error_code: Some("timed_out".into()),
            error_message: Some(format!(
                "The module did not finish within {seconds} seconds and was stopped."
            )),
        },
        RunEnd::Exited(code) => failed(
            "exited_without_report",
            &format!(
                "The module exited ({}) without reporting its outcome; see its log.",
                code.map_or("killed by a signal".to_owned(), |c| format!("status {c}"))
            ),
        ),
        RunEnd::Lost(e) => failed("lost", &format!("The module run was lost: {e}")),
    };
    if finish(state, id, outcome).await? {
        tracing::warn!(job_id = %id, "module run ended without a completion event");
    }
    Ok(())
}

/// What applying an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Recorded,
    /// The run had already ended: nothing changed.
    AlreadyRecorded,
}

/// Applies a completion event to its job, exactly once.
pub async fn apply_event(state: &AppState, event: JobEvent) -> Result<Applied, ApiError> {
    let JobEvent::V1(event) = event;
    let id = event.job_id.clone();
    let job = state.db.run(move |conn| JobRecord::find(conn, &id)).await?;
    if job.module != event.module.as_str() || job.action != event.action {
        return Err(ApiError::bad_request(
            "The event's module or action does not match its job.",
        ));
    }
    let outcome = match event.status {
        EventStatus::Succeeded => Outcome {
            status: jobs::SUCCEEDED,
            output: Some(event.output.to_string()),
            error_code: None,
            error_message: None,
        },
        EventStatus::Failed => {
            let error = event.error.unwrap_or_else(|| oas_domain::job::EventError {
                code: "failed".into(),
                message: "The module reported a failure without a reason.".into(),
            });
            failed(&error.code, &error.message)
        }
    };
    Ok(if finish(state, &job.id, outcome).await? {
        Applied::Recorded
    } else {
        Applied::AlreadyRecorded
    })
}

/// Marks every open run past its deadline `timed_out`; returns how many.
pub async fn sweep_once(state: &AppState) -> Result<usize, ApiError> {
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
            error_code: Some("timed_out".into()),
            error_message: Some("The module run did not report back in time.".into()),
        };
        if finish(state, &job.id, outcome).await? {
            tracing::warn!(job_id = %job.id, module = %job.module, "module run timed out");
            swept += 1;
        }
    }
    Ok(swept)
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

/// Consumes completion events from SQS for as long as the runtime lives.
/// An event is deleted once applied, or once it can never apply (unknown
/// job, mismatch); one that failed for a passing reason (the database) is
/// left to come back, and an unreadable one goes to the dead-letter queue.
pub fn spawn_queue_consumer(state: AppState, queue: EventQueue) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let consumed = queue
                .consume_once(Duration::from_secs(20), |event| {
                    handle_queued(&state, event)
                })
                .await;
            if let Err(e) = consumed {
                tracing::error!(error = %e, queue = %queue.url(), "cannot read the events queue; retrying");
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    })
}

/// Applies one event from the queue.
pub async fn handle_queued(state: &AppState, event: Result<JobEvent, String>) -> Handled {
    let Ok(event) = event else {
        return Handled::Retry;
    };
    let job_id = event.job_id().to_owned();
    match apply_event(state, event).await {
        Ok(applied) => {
            tracing::info!(job_id = %job_id, ?applied, "queued event handled");
            Handled::Done
        }
        Err(e) if e.code() == ErrorCode::Unavailable => Handled::Retry,
        Err(e) => {
            tracing::warn!(job_id = %job_id, error = %e, "queued event cannot apply; dropped");
            Handled::Done
        }
    }
}
