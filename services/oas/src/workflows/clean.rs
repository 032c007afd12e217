//! `Module::Uploads`: cleaning a sales file.
//!
//! - `params`: what the uploads module needs to clean the file;
//! - `ended`: a cleaning ended. A copy of another file's bytes fails,
//!   naming it (`duplicate_of`); an archive is expanded into files of its own; a file of a
//!   DDEX DSR message sent in several files is recorded as such; then the
//!   file moves on by the status machine, and a cleaned file goes on to
//!   its import (once its message, if any, is whole).

use oas_db::jobs::{self as job_status, JobRecord};
use oas_db::sales_files::{SalesFile, StatusChange};
use oas_domain::file::FileStatus;
use oas_domain::job::Module;
use oas_domain::job::contract::uploads::{self, Cleaned, Output, Params};

use super::{archive, dsr_message, files, import, output_of};
use crate::background::{BackgroundError, BackgroundResult};
use crate::runs::Subject;
use crate::state::AppState;

/// The uploads module's job for `file`.
pub async fn params(state: &AppState, file: &SalesFile) -> BackgroundResult<serde_json::Value> {
    let params = Params {
        source: oas_platform::storage::original_key(file.organisation_id, file.id)?
            .as_str()
            .to_owned(),
        target: oas_platform::storage::file_prefix(file.organisation_id, file.id),
        max_expanded_bytes: Some(state.settings.max_upload_bytes.saturating_mul(10)),
        max_members: None,
        max_ratio: None,
    };
    serde_json::to_value(params).map_err(BackgroundError::final_)
}

/// A cleaning ended.
pub async fn ended(state: &AppState, job: &JobRecord) -> BackgroundResult<()> {
    let Subject::File(file_id) = Subject::of(job) else {
        return Ok(());
    };
    let Some(file) = super::file(state, file_id).await? else {
        return Ok(());
    };
    apply(state, job, file.clone()).await?;
    if let Some(parent) = file.parent_id {
        archive::tally(state, parent).await?;
    }
    Ok(())
}

/// What the cleaning's end does to the file.
async fn apply(state: &AppState, job: &JobRecord, file: SalesFile) -> BackgroundResult<()> {
    let status = files::status_of(&file)?;
    let output: Option<Output> = output_of(job)?;
    let module = Module::Uploads;
    if let (Some(output), FileStatus::Cleaning) = (&output, status) {
        if let Some(other) = record_hash(state, &file, &output.content_hash).await? {
            let cause = import::copy_cause(&other);
            let mut change = files::failing(&cause, &cause, module, job_status::SUCCEEDED);
            change.duplicate_of = Some(Some(other.id));
            files::transition(state, file.id, status, change).await?;
            return Ok(());
        }
        if let Cleaned::Archive(members) = &output.cleaned {
            return archive::expand(state, &file, members).await;
        }
        let part = match &output.cleaned {
            Cleaned::Dsr(uploads::Dsr {
                message: Some(part),
                ..
            }) if part.number_of_files > 1 => Some(part),
            _ => None,
        };
        if let Some(cause) = dsr_message::record_part(state, &file, part).await? {
            return files::fail(state, file.id, status, module, &cause, &cause).await;
        }
    }
    if files::skip_member(state, job, &file, module).await? {
        return Ok(());
    }
    let succeeded = output.map(|_| StatusChange::default());
    let Some(after) = files::finish(state, job, &file, module, succeeded).await? else {
        return Ok(());
    };
    if let Some(action) = after.then {
        if !dsr_message::start_message(state, &file).await? {
            return Ok(());
        }
        // The end itself is applied; a next run that cannot start says why.
        files::start_next(state, &file, after.status, action).await;
    }
    Ok(())
}

/// Records the upload's content hash on the file; answers the organisation's
/// other live file with the same bytes, if there is one.
async fn record_hash(
    state: &AppState,
    file: &SalesFile,
    hash: &str,
) -> BackgroundResult<Option<SalesFile>> {
    let (file_id, org, hash) = (file.id, file.organisation_id, hash.to_owned());
    Ok(state
        .db
        .run(move |conn| {
            let change = StatusChange {
                content_hash: Some(Some(hash.clone())),
                ..Default::default()
            };
            SalesFile::transition(conn, file_id, FileStatus::Cleaning.as_str(), &change)?;
            SalesFile::same_content(conn, org, &hash, file_id)
        })
        .await?)
}
