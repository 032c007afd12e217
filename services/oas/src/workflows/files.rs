//! A sales file's side of module runs: the operator's actions (`act`), a
//! run started on a file (`start`), and the generic end of a run (`finish`)
//! that the per-module workflows (`clean`, `import`) build on. The status
//! machine itself is `oas_domain::file`.

use chrono::{DateTime, Utc};
use oas_db::jobs::{self as job_status, JobRecord};
use oas_db::sales_files::{NewSalesFile, SalesFile, StatusChange, UUID_KEY};
use oas_db::{DbConnection, DbError};
use oas_domain::file::{After, FileAction, FileStatus, Inputs, Step, act as decide, after_run};
use oas_domain::job::contract::uploads::{self, Cleaned};
use oas_domain::job::{FailureCode, Module};
use oas_platform::snapshots::SnapshotStore;
use oas_platform::storage::{ObjectStore, PresignMethod};
use rand::Rng;
use rand::distr::Alphanumeric;

use super::{clean, dsr_message, import, matching};
use crate::background::{BackgroundError, BackgroundResult};
use crate::runs::{self, Launch, Subject};
use crate::state::AppState;

/// Why a file cannot be imported before it is cleaned.
pub const NOT_CLEANED: &str =
    "No cleaned copy of the file is known: process it with the action \"clean\" first.";

/// The status a file was stored with (only ever written from `FileStatus`).
pub fn status_of(file: &SalesFile) -> BackgroundResult<FileStatus> {
    file.status
        .parse()
        .map_err(|e: String| BackgroundError::final_(anyhow::anyhow!(e)))
}

/// A change that moves a file to `status`, clearing the last cause.
pub fn moving_to(status: FileStatus) -> StatusChange {
    StatusChange {
        status: Some(status.as_str().to_owned()),
        status_cause: Some(None),
        error_message: Some(None),
        updated_at: Some(Utc::now().naive_utc()),
        ..Default::default()
    }
}

/// The state of a module's answer, as `response_module` holds it: PENDING
/// while a run is under way (or none has run), then how the last one
/// ended: SUCCEEDED, FAILED or TIMED_OUT.
pub fn answer(job_status: &str) -> String {
    job_status.to_ascii_uppercase()
}

/// A change that fails a file with a cause for the operator and the full
/// message, after a run of `module` that ended `ended`.
pub fn failing(cause: &str, message: &str, module: Module, ended: &str) -> StatusChange {
    StatusChange {
        status: Some(FileStatus::Failed.as_str().to_owned()),
        status_cause: Some(Some(cause.to_owned())),
        error_message: Some(Some(message.to_owned())),
        module_response: Some(Some(module.as_str().to_owned())),
        response_module: Some(answer(ended)),
        updated_at: Some(Utc::now().naive_utc()),
        ..Default::default()
    }
}

/// Applies `change` if the file is still `from`; `false` if it moved on.
pub async fn transition(
    state: &AppState,
    file_id: i64,
    from: FileStatus,
    change: StatusChange,
) -> BackgroundResult<bool> {
    Ok(state
        .db
        .run(move |conn| SalesFile::transition(conn, file_id, from.as_str(), &change))
        .await?)
}

/// Fails the file, if still `from`, with `cause` after a run of `module`
/// that itself succeeded (what it found is the file's fault).
pub async fn fail(
    state: &AppState,
    file_id: i64,
    from: FileStatus,
    module: Module,
    cause: &str,
    message: &str,
) -> BackgroundResult<()> {
    let change = failing(cause, message, module, job_status::SUCCEEDED);
    transition(state, file_id, from, change).await?;
    Ok(())
}

/// How the cause of a file whose match failed begins.
pub const MATCH_FAILED: &str = "Matching failed: ";

/// A short cause for the file's `status_cause`: the module's own words when
/// the file itself was at fault.
pub fn cause(module: Module, job: &JobRecord) -> String {
    let code = job
        .error_code
        .as_deref()
        .map(|c| c.parse::<FailureCode>().unwrap_or(FailureCode::Other));
    match (code, &job.error_message) {
        (Some(FailureCode::Rejected | FailureCode::NotASalesReport), Some(message)) => {
            message.clone()
        }
        _ if job.status == job_status::TIMED_OUT => {
            format!("The {module} module did not finish in time.")
        }
        (Some(FailureCode::LaunchFailed), _) => format!("The {module} module could not start."),
        (Some(FailureCode::OutOfMemory), _) => {
            format!("The {module} module ran out of memory on this file.")
        }
        (Some(_), _) => format!(
            "The {module} module failed ({}).",
            job.error_code.as_deref().unwrap_or_default()
        ),
        (None, _) => format!("The {module} module failed."),
    }
}

/// Removes the lines and snapshot an import stored for the file.
pub async fn remove_lines(state: &AppState, file: &SalesFile) -> BackgroundResult<()> {
    state
        .storage
        .delete_matching(
            &format!(
                "{}/",
                oas_platform::storage::lines_prefix(file.organisation_id)
            ),
            &oas_platform::storage::lines_suffix(file.id),
        )
        .await?;
    state
        .snapshots
        .delete(file.id)
        .await
        .map_err(|e| BackgroundError::Passing(e.into()))?;
    Ok(())
}

/// How a skipped member's cause begins.
pub const SKIPPED: &str = "Skipped: ";

/// A member of an archive that its run found is not a sales report is
/// skipped, not failed: left at the stage it reached (as
/// [`oas_domain::file::skipped`] says), saying why. `true` when it was.
pub async fn skip_member(
    state: &AppState,
    job: &JobRecord,
    file: &SalesFile,
    module: Module,
) -> BackgroundResult<bool> {
    let not_a_report = job.error_code.as_deref() == Some(FailureCode::NotASalesReport.as_str());
    if file.parent_id.is_none() || !not_a_report {
        return Ok(false);
    }
    let status = status_of(file)?;
    let Some(to) = oas_domain::file::skipped(status, module) else {
        return Ok(false);
    };
    if module == Module::Importer {
        // A reimport's earlier lines no longer stand.
        remove_lines(state, file).await?;
    }
    let message = job.error_message.as_deref().unwrap_or("not a sales report");
    let change = StatusChange {
        status: Some(to.as_str().to_owned()),
        status_cause: Some(Some(format!("{SKIPPED}{message}"))),
        error_message: Some(None),
        module_response: Some(Some(module.as_str().to_owned())),
        response_module: Some(answer(&job.status)),
        updated_at: Some(Utc::now().naive_utc()),
        ..Default::default()
    };
    tracing::info!(file.id = file.id, file.parent = ?file.parent_id, job.id = %job.id, job.module = %module, "an archive's member is not a sales report: skipped");
    transition(state, file.id, status, change).await?;
    Ok(true)
}

/// Applies a run's end to its file by the status machine: the file moves
/// on (with `succeeded`'s extra fields) or fails with the run's reason.
/// Returns where it went, or `None` when the file had moved on meanwhile
/// (a late or stray event changes nothing).
pub async fn finish(
    state: &AppState,
    job: &JobRecord,
    file: &SalesFile,
    module: Module,
    succeeded: Option<StatusChange>,
) -> BackgroundResult<Option<After>> {
    let status = status_of(file)?;
    let Some(after) = after_run(status, module, succeeded.is_some()) else {
        tracing::info!(file.id = file.id, file.status = %status, "file has moved on; run outcome not applied");
        return Ok(None);
    };
    let mut change = match (after.status, succeeded) {
        (FileStatus::Failed, _) | (_, None) => {
            let message = job
                .error_message
                .clone()
                .unwrap_or_else(|| format!("The {module} module failed."));
            let mut cause = cause(module, job);
            tracing::warn!(job.id = %job.id, job.module = %module, file.id = file.id, error.cause = %cause, error.message = %message, "module run failed");
            if after.status != FileStatus::Failed {
                // A failed match: the file's lines stand.
                cause = format!(
                    "{MATCH_FAILED}{cause} Its lines stand: process it with the action \"match\" to match it again."
                );
            }
            StatusChange {
                status: Some(after.status.as_str().to_owned()),
                ..failing(&cause, &message, module, &job.status)
            }
        }
        (_, Some(extra)) => StatusChange {
            status: Some(after.status.as_str().to_owned()),
            status_cause: extra.status_cause.or(Some(None)),
            error_message: Some(None),
            ..extra
        },
    };
    change.module_response = Some(Some(module.as_str().to_owned()));
    change.response_module = Some(answer(&job.status));
    change.updated_at = Some(Utc::now().naive_utc());
    let moved = transition(state, file.id, status, change).await?;
    Ok(moved.then_some(after))
}

/// What the file holds that an action can start from: its bytes as
/// uploaded, and what its latest cleaning made of them.
pub async fn inputs(state: &AppState, file: &SalesFile) -> BackgroundResult<Inputs> {
    let key = oas_platform::storage::original_key(file.organisation_id, file.id)?;
    let upload = state.storage.head(&key).await?.is_some();
    let id = file.id;
    let clean = state
        .db
        .run(move |conn| JobRecord::latest_output(conn, id, Module::Uploads.as_str()))
        .await?;
    let cleaned = clean
        .as_deref()
        .and_then(|c| serde_json::from_str::<uploads::Output>(c).ok())
        .map(|c| matches!(c.cleaned, Cleaned::Archive(_)));
    Ok(Inputs {
        upload,
        cleaned: cleaned == Some(false),
        archive: cleaned == Some(true),
    })
}

/// Starts by itself what follows a run (`action` on a file now at
/// `from`), decided by the status machine as an operator's action is.
pub async fn start(
    state: &AppState,
    file: &SalesFile,
    from: FileStatus,
    action: FileAction,
) -> BackgroundResult<JobRecord> {
    let inputs = inputs(state, file).await?;
    let step = decide(from, action, inputs).map_err(|e| BackgroundError::refused(e.to_string()))?;
    begin(state, file, from, action, step).await
}

/// Starts what follows a run by itself, as [`start`]. When it cannot, the
/// file keeps its status and its cause says why, so that the operator's
/// own action can take it on.
pub async fn start_next(state: &AppState, file: &SalesFile, from: FileStatus, action: FileAction) {
    let Err(e) = start(state, file, from, action).await else {
        return;
    };
    tracing::warn!(file.id = file.id, file.action = action.as_str(), error = %e, "the next run did not start");
    let cause = format!("Its {} did not start by itself: {e}", action.as_str());
    let change = StatusChange {
        status_cause: Some(Some(cause)),
        updated_at: Some(Utc::now().naive_utc()),
        ..Default::default()
    };
    if let Err(e) = transition(state, file.id, from, change).await {
        tracing::warn!(file.id = file.id, error = %e, "the cause was not recorded");
    }
}

/// Launches the module `step` runs on the file, moving it from `from` to
/// the step's status. Everything the module needs is gathered first: a
/// file that cannot be given it is refused as it was, unchanged.
async fn begin(
    state: &AppState,
    file: &SalesFile,
    from: FileStatus,
    action: FileAction,
    step: Step,
) -> BackgroundResult<JobRecord> {
    let Some(module) = step.module else {
        return Err(BackgroundError::final_(anyhow::anyhow!(
            "the action {} starts no module",
            action.as_str()
        )));
    };
    let params = match module {
        Module::Uploads => clean::params(state, file).await?,
        Module::Importer => import::params(state, file).await?,
        Module::CatalogueMatching => matching::params(state, file).await?,
        Module::Report | Module::Statement | Module::Ping => {
            return Err(BackgroundError::final_(anyhow::anyhow!(
                "the {module} module does not work on a sales file"
            )));
        }
    };
    let mut change = moving_to(step.status);
    if module == Module::Uploads {
        change.uploaded_bytes = Some(Some(within_declared_size(state, file).await?));
    }
    change.module_response = Some(Some(module.as_str().to_owned()));
    change.response_module = Some(PENDING.to_owned());
    if !transition(state, file.id, from, change).await? {
        return Err(BackgroundError::refused(CHANGED));
    }
    runs::launch(
        state,
        Launch {
            module,
            action: action.as_str().to_owned(),
            organisation_id: file.organisation_id,
            subject: Subject::File(file.id),
            params,
        },
    )
    .await
}

/// The size of the file's uploaded bytes; refused when it is more than the
/// client declared (`filesize`: counted in bytes here, which also lets
/// through a size declared in bits, as the seed counts it).
async fn within_declared_size(state: &AppState, file: &SalesFile) -> BackgroundResult<i64> {
    let key = oas_platform::storage::original_key(file.organisation_id, file.id)?;
    let size = state.storage.head(&key).await?.unwrap_or(0);
    let size = i64::try_from(size).unwrap_or(i64::MAX);
    if size > file.filesize {
        return Err(BackgroundError::Refused(format!(
            "The bytes uploaded ({size}) are more than the file's declared filesize ({}): upload the right file, or create the file again with its size.",
            file.filesize
        )));
    }
    Ok(size)
}

/// `response_module` while a module's answer is awaited.
pub const PENDING: &str = "PENDING";

/// Why an action found the file other than it was read.
const CHANGED: &str = "The file changed meanwhile; read it again.";

/// What an operator's action did.
pub enum Acted {
    /// `upload`: PUT the bytes to `url` before `expires_at`.
    Upload {
        status: FileStatus,
        url: String,
        expires_at: DateTime<Utc>,
    },
    /// A module run started on the file (the file as it is now).
    Started {
        job: Box<JobRecord>,
        file: Box<SalesFile>,
    },
}

/// An operator's action on a file: a presigned URL for `upload`, a module
/// run for the others; refused (409) when it does not fit.
pub async fn act(
    state: &AppState,
    file: &SalesFile,
    action: FileAction,
) -> BackgroundResult<Acted> {
    let status = status_of(file)?;
    let inputs = inputs(state, file).await?;
    let step =
        decide(status, action, inputs).map_err(|e| BackgroundError::refused(e.to_string()))?;
    match action {
        FileAction::Upload => {
            let key = oas_platform::storage::original_key(file.organisation_id, file.id)?;
            let url = state
                .storage
                .presign(PresignMethod::Put, &key, state.settings.upload_url_ttl)
                .await?;
            if !transition(state, file.id, status, moving_to(step.status)).await? {
                return Err(BackgroundError::refused(CHANGED));
            }
            Ok(Acted::Upload {
                status: step.status,
                url: url.url,
                expires_at: url.expires_at,
            })
        }
        FileAction::Clean | FileAction::Import | FileAction::Reimport | FileAction::Match => {
            if matches!(action, FileAction::Import | FileAction::Reimport)
                && let Some(cause) = dsr_message::waiting_for(state, file).await?
            {
                return Err(BackgroundError::Refused(cause));
            }
            let job = begin(state, file, status, action, step).await?;
            let id = file.id;
            let file = state.db.run(move |conn| SalesFile::find(conn, id)).await?;
            Ok(Acted::Started {
                job: Box::new(job),
                file: Box::new(file),
            })
        }
    }
}

/// Whether a file has a clean copy to import: it is cleaned or further on,
/// or only its import failed.
pub fn has_clean_copy(file: &SalesFile) -> bool {
    match file.status.parse::<FileStatus>() {
        Ok(
            FileStatus::Cleaned
            | FileStatus::Processing
            | FileStatus::Processed
            | FileStatus::Finalized
            | FileStatus::Reimport,
        ) => true,
        Ok(FileStatus::Failed) => file
            .module_response
            .as_deref()
            .is_some_and(|r| r.starts_with(Module::Importer.as_str())),
        _ => false,
    }
}

/// A short random reference for a new file (8 letters and digits).
fn new_reference() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(8)
        .map(char::from)
        .collect()
}

/// Inserts a new file under a fresh random reference; a clash of the
/// reference is retried, never shared. `new.uuid` is ignored.
pub fn insert_with_fresh_reference(
    conn: &mut DbConnection,
    new: &NewSalesFile<'_>,
) -> Result<SalesFile, DbError> {
    let mut attempts = 0;
    loop {
        let uuid = new_reference();
        match SalesFile::insert(
            conn,
            &NewSalesFile {
                uuid: &uuid,
                ..*new
            },
        ) {
            Err(e) if e.is_conflict_on(UUID_KEY) && attempts < 3 => attempts += 1,
            other => return other,
        }
    }
}
