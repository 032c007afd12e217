//! What a module run's end leads to. The job runtime (`crate::runs`)
//! records that a run ended and wakes this module; it never calls in here.
//!
//! One file per module, each with the same two functions:
//!
//! - `params(state, subject)`: the module's `Params` for its subject;
//! - `ended(state, job)`: what the run's end does to its subject, and the
//!   run that follows, if any.
//!
//! [`job_ended`] dispatches on the module with an exhaustive match, so a
//! new module does not compile until its continuation is written.
//!
//! A continuation is carried out at least once and is written to be
//! carried out again safely (every status change is conditional on the
//! status expected). Each ended run is claimed for a while before it is
//! handed on, so two gateway tasks never carry out the same one at once;
//! one that fails for a passing reason (the database drops for a moment)
//! is tried again later, however the run's end was heard: the reconciler
//! ([`reconcile_once`]) looks for ended runs not yet carried on, whenever a
//! run ends, when an event is delivered again, and every few seconds.

pub mod archive;
pub mod catalog_import;
pub mod catalog_tasks;
pub mod clean;
pub mod dsr_message;
pub mod fetches;
pub mod files;
pub mod import;
pub mod matching;
pub mod reports;
pub mod statements;

use std::time::Duration;

use chrono::Utc;
use futures_util::future::join_all;
use oas_db::jobs::{self as job_status, JobRecord};
use oas_db::sales_files::SalesFile;
use oas_domain::job::{FailureCode, Module};
use tracing::Instrument;

use crate::background::{BackgroundError, BackgroundResult};
use crate::runs::Subject;
use crate::state::AppState;

/// How long a claimed continuation is held before another may try it.
const HOLD: Duration = Duration::from_secs(10 * 60);
/// How long after a passing failure a continuation is tried again.
const RETRY: Duration = Duration::from_secs(5);
/// How often the reconciler looks without being woken.
const EVERY: Duration = Duration::from_secs(10);
/// Continuations carried out together, at most.
const BATCH: i64 = 64;

/// What the end of `job` does next, by its module.
pub async fn job_ended(state: &AppState, job: &JobRecord) -> BackgroundResult<()> {
    let Ok(module) = job.module.parse::<Module>() else {
        tracing::warn!(job.module = %job.module, "a run of an unknown module ended");
        return Ok(());
    };
    match Subject::of(job) {
        Subject::CatalogImport(id) => return catalog_import::ended(state, job, module, id).await,
        Subject::CatalogAudit(id) => return catalog_tasks::audit_ended(state, job, id).await,
        Subject::Report(id) => return reports::ended(state, job, id).await,
        Subject::Statements(_) => return statements::ended(state, job).await,
        Subject::Batch(id) => return fetches::ended(state, job, id).await,
        Subject::File(_) | Subject::None => {}
    }
    match module {
        Module::Uploads => clean::ended(state, job).await,
        Module::Importer => import::ended(state, job).await,
        Module::CatalogueMatching => matching::ended(state, job).await,
        // A report's run always names its report (above).
        Module::Report => Ok(()),
        // A statement run always names its statements (above).
        Module::Statement => Ok(()),
        Module::Ping => Ok(()),
    }
}

/// Carries out what follows the end of job `id`, if it is due and nobody
/// else holds it; `true` when it was carried out now.
pub async fn continue_job(state: &AppState, id: &str) -> BackgroundResult<bool> {
    let now = Utc::now().naive_utc();
    let until = now + chrono::Duration::from_std(HOLD).unwrap_or_default();
    let job_id = id.to_owned();
    let claimed = state
        .db
        .run(move |conn| JobRecord::claim_continuation(conn, &job_id, now, until))
        .await?;
    if !claimed {
        return Ok(false);
    }
    let job_id = id.to_owned();
    let job = state
        .db
        .run(move |conn| JobRecord::find(conn, &job_id))
        .await?;
    let span = tracing::info_span!("job_ended", job.id = %job.id, job.module = %job.module, job.status = %job.status, file.id = ?job.file_id);
    carry_on(state, &job).instrument(span).await
}

/// Carries out what follows a claimed run's end, and records how it went.
async fn carry_on(state: &AppState, job: &JobRecord) -> BackgroundResult<bool> {
    let job_id = job.id.clone();
    match job_ended(state, job).await {
        Ok(()) => {
            state
                .db
                .run(move |conn| JobRecord::continued(conn, &job_id, Utc::now().naive_utc()))
                .await?;
            Ok(true)
        }
        Err(e) if e.is_passing() => {
            tracing::warn!(error = %e, "what follows the run failed for a passing reason; it is tried again shortly");
            let at = Utc::now().naive_utc() + chrono::Duration::from_std(RETRY).unwrap_or_default();
            state
                .db
                .run(move |conn| JobRecord::continue_later(conn, &job_id, at))
                .await?;
            Err(e)
        }
        Err(e) => {
            tracing::error!(error = %e, "what follows the run failed");
            // Never leave the subject busy for good.
            fail_subject(state, job, &e).await?;
            state
                .db
                .run(move |conn| JobRecord::continued(conn, &job_id, Utc::now().naive_utc()))
                .await?;
            Err(e)
        }
    }
}

/// A file still busy with the run's module, after a final failure of what
/// follows its run, fails with the reason.
async fn fail_subject(
    state: &AppState,
    job: &JobRecord,
    error: &BackgroundError,
) -> BackgroundResult<()> {
    let file_id = match Subject::of(job) {
        Subject::File(id) => id,
        Subject::CatalogImport(id) => {
            let cause = format!(
                "OAS could not carry on after the {} module's run ({error}). Process the import again.",
                job.module
            );
            let change = oas_db::catalog::CatalogImportChange {
                status: Some(
                    oas_domain::catalog::ImportStatus::Failed
                        .as_str()
                        .to_owned(),
                ),
                status_cause: Some(Some(cause)),
                updated_at: Some(Utc::now().naive_utc()),
                ..Default::default()
            };
            let processing = oas_domain::catalog::ImportStatus::Processing.as_str();
            state
                .db
                .run(move |conn| {
                    oas_db::catalog::CatalogImportRecord::transition(conn, id, processing, &change)
                })
                .await?;
            return Ok(());
        }
        Subject::CatalogAudit(id) => {
            let change = catalog_tasks::failing(format!(
                "OAS could not carry on after the {} module's run ({error}). Start a new audit.",
                job.module
            ));
            let processing = oas_domain::catalog::ImportStatus::Processing.as_str();
            state
                .db
                .run(move |conn| {
                    oas_db::catalog::CatalogAuditRecord::transition(conn, id, processing, &change)
                })
                .await?;
            return Ok(());
        }
        Subject::Report(id) => {
            let change = reports::failing(format!(
                "OAS could not carry on after the {} module's run ({error}). Ask for the report again.",
                job.module
            ));
            state
                .db
                .run(move |conn| {
                    oas_db::reports::ReportRecord::transition(conn, id, reports::PENDING, &change)
                })
                .await?;
            return Ok(());
        }
        Subject::Statements(_) => {
            let params: oas_domain::job::contract::statement::Params =
                serde_json::from_str(&job.params).map_err(BackgroundError::final_)?;
            let cause = format!(
                "OAS could not carry on after the {} module's run ({error}). Ask for the statements again.",
                job.module
            );
            return statements::fail_pending(state, params.statements, cause).await;
        }
        Subject::Batch(id) => {
            let change = oas_db::fetches::BatchChange {
                status: Some(oas_db::fetches::FAILED.to_owned()),
                status_cause: Some(Some(format!(
                    "OAS could not carry on after the fetch ({error}). Fetch the link again."
                ))),
                updated_at: Some(Utc::now().naive_utc()),
                ..Default::default()
            };
            state
                .db
                .run(move |conn| {
                    oas_db::fetches::FetchBatch::transition(
                        conn,
                        id,
                        oas_db::fetches::FETCHING,
                        &change,
                    )
                })
                .await?;
            return Ok(());
        }
        Subject::None => return Ok(()),
    };
    let Some(file) = file(state, file_id).await? else {
        return Ok(());
    };
    let (Ok(status), Ok(module)) = (files::status_of(&file), job.module.parse::<Module>()) else {
        return Ok(());
    };
    if !status.is_busy() {
        return Ok(());
    }
    let cause = format!(
        "OAS could not carry on after the {module} module's run ({error}). Process the file again."
    );
    let change = files::failing(&cause, &cause, module, &job.status);
    files::transition(state, file.id, status, change).await?;
    Ok(())
}

/// Carries out every continuation due now; returns how many were.
pub async fn reconcile_once(state: &AppState) -> BackgroundResult<usize> {
    let now = Utc::now().naive_utc();
    let due = state
        .db
        .run(move |conn| JobRecord::continuations_due(conn, now, BATCH))
        .await?;
    let results = join_all(due.iter().map(|job| continue_job(state, &job.id))).await;
    let mut done = 0;
    for result in results {
        match result {
            Ok(true) => done += 1,
            Ok(false) => {}
            // Logged with its job where it happened.
            Err(_) => {}
        }
    }
    Ok(done)
}

/// Carries out continuations in the background for as long as the runtime
/// lives: whenever a run's end is recorded, and every few seconds.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                () = state.run_ended.notified() => {}
                () = tokio::time::sleep(EVERY) => {}
            }
            let state = state.clone();
            // Each round on its own: a long one (an archive of many
            // members) does not hold up the ends that come meanwhile.
            tokio::spawn(async move {
                if let Err(e) = reconcile_once(&state).await {
                    tracing::warn!(error = %e, "cannot look for ended runs to carry on");
                }
            });
        }
    })
}

/// The file a run worked on, if it still exists.
async fn file(state: &AppState, id: i64) -> BackgroundResult<Option<SalesFile>> {
    match state.db.run(move |conn| SalesFile::find(conn, id)).await {
        Ok(file) => Ok(Some(file)),
        Err(oas_db::DbError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Why a run failed, for its subject's `status_cause`: the module's own
/// words when it refused what it was given (they say what to do), else
/// `otherwise` given the failure's code (or the run's status).
fn failure_cause(job: &JobRecord, otherwise: impl FnOnce(&str) -> String) -> String {
    let code = job
        .error_code
        .as_deref()
        .map(|c| c.parse::<FailureCode>().unwrap_or(FailureCode::Other));
    match (code, &job.error_message) {
        (Some(FailureCode::Rejected), Some(message)) => message.clone(),
        _ => otherwise(job.error_code.as_deref().unwrap_or(&job.status)),
    }
}

/// A succeeded run's output, read as its module's contract says; `None`
/// for a run that did not succeed.
fn output_of<T: serde::de::DeserializeOwned>(job: &JobRecord) -> BackgroundResult<Option<T>> {
    if job.status != job_status::SUCCEEDED {
        return Ok(None);
    }
    let text = job.output.as_deref().unwrap_or("null");
    serde_json::from_str(text).map(Some).map_err(|e| {
        // The runtime checked it against the contract when it was recorded.
        BackgroundError::final_(anyhow::anyhow!(
            "the {} module's recorded output does not read: {e}",
            job.module
        ))
    })
}
