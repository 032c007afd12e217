//! What module runs do to the sales file they work on: the gateway side of
//! the file's status machine (`oas_domain::file`).

use chrono::Utc;
use oas_db::jobs::{self as job_status, JobRecord};
use oas_db::sales_files::{SalesFile, StatusChange};
use oas_domain::file::{FileStatus, after_run};
use oas_domain::job::Module;

use crate::http::ApiError;
use crate::jobs::{self, Launch};
use crate::state::AppState;

/// Applies a finished run to its file, if it has one: the file moves on
/// (starting the next module), or fails with the run's reason. A file that
/// has moved on meanwhile is left alone.
pub async fn after_job(state: &AppState, job: &JobRecord) -> Result<(), ApiError> {
    let Some(file_id) = job.file_id else {
        return Ok(());
    };
    let Ok(module) = job.module.parse::<Module>() else {
        return Ok(());
    };
    let file = match state
        .db
        .run(move |conn| SalesFile::find(conn, file_id))
        .await
    {
        Ok(file) => file,
        Err(oas_db::DbError::NotFound) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let Ok(status) = file.status.parse::<FileStatus>() else {
        return Ok(());
    };
    let succeeded = job.status == job_status::SUCCEEDED;
    let Some(step) = after_run(status, module, succeeded) else {
        tracing::info!(file_id, job_id = %job.id, status = %status, "file has moved on; run outcome not applied");
        return Ok(());
    };
    let mut change = StatusChange {
        status: Some(step.status.as_str().to_owned()),
        module_response: Some(Some(format!("{module}: {}", job.status))),
        updated_at: Some(Utc::now().naive_utc()),
        ..Default::default()
    };
    if step.status == FileStatus::Failed {
        let message = job
            .error_message
            .clone()
            .unwrap_or_else(|| format!("The {module} module failed."));
        change.status_cause = Some(Some(cause(module, job)));
        change.error_message = Some(Some(message));
    } else {
        change.status_cause = Some(None);
        change.error_message = Some(None);
    }
    let from = status.as_str();
    let moved = state
        .db
        .run(move |conn| SalesFile::transition(conn, file_id, from, &change))
        .await?;
    if !moved {
        return Ok(());
    }
    if let Some(next) = step.module {
        start(
            state,
            &file,
            step.status,
            FileStatus::Processing,
            next,
            "import",
        )
        .await?;
    }
    Ok(())
}

/// A short cause for the file's `status_cause`.
fn cause(module: Module, job: &JobRecord) -> String {
    match job.status.as_str() {
        job_status::TIMED_OUT => format!("The {module} module did not finish in time."),
        _ => match job.error_code.as_deref() {
            Some("launch_failed") => format!("The {module} module could not start."),
            Some(code) => format!("The {module} module failed ({code})."),
            None => format!("The {module} module failed."),
        },
    }
}

/// Moves the file from `from` to `to` and launches `module` on it.
pub async fn start(
    state: &AppState,
    file: &SalesFile,
    from: FileStatus,
    to: FileStatus,
    module: Module,
    action: &str,
) -> Result<JobRecord, ApiError> {
    let change = StatusChange {
        status: Some(to.as_str().to_owned()),
        status_cause: Some(None),
        error_message: Some(None),
        updated_at: Some(Utc::now().naive_utc()),
        ..Default::default()
    };
    let file_id = file.id;
    let moved = state
        .db
        .run(move |conn| SalesFile::transition(conn, file_id, from.as_str(), &change))
        .await?;
    if !moved {
        return Err(ApiError::conflict(
            "The file changed meanwhile; read it again.",
        ));
    }
    jobs::launch(
        state,
        Launch {
            module,
            action: action.to_owned(),
            organisation_id: file.organisation_id,
            file_id: Some(file.id),
            params: serde_json::json!({}),
        },
    )
    .await
}
