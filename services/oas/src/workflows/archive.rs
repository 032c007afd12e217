//! An archive's members become sales files of their own, linked to it
//! (`parent`), each cleaned in turn; the archive itself is then done.

use chrono::Utc;
use oas_db::jobs as job_status;
use oas_db::sales_files::{NewSalesFile, SalesFile, StatusChange};
use oas_domain::file::{FileAction, FileStatus, type_of_name};
use oas_domain::job::Module;
use oas_domain::job::contract::uploads::Archive;
use oas_platform::storage::{ObjectKey, ObjectStore};

use super::files;
use crate::background::{BackgroundError, BackgroundResult};
use crate::state::AppState;

/// Expands the cleaned archive `file` (still CLEANING). Never leaves it
/// CLEANING: if its members cannot all be stored, it fails saying why, and
/// the members already made stay, each a file of its own.
pub async fn expand(state: &AppState, file: &SalesFile, archive: &Archive) -> BackgroundResult<()> {
    let made = match make_members(state, file, archive).await {
        Ok(made) => made,
        Err(e) if e.is_passing() => return Err(e),
        Err(e) => {
            tracing::warn!(file.id = file.id, error = %e, "the archive could not be expanded");
            let cause = format!(
                "The archive was read but its files could not all be stored as files of their own ({e}). Process it with the action \"clean\" to try again."
            );
            return files::fail(
                state,
                file.id,
                FileStatus::Cleaning,
                Module::Uploads,
                &cause,
                &e.to_string(),
            )
            .await;
        }
    };
    let mut cause = format!(
        "The archive was expanded into {} file(s): {}.",
        made.len(),
        made.iter()
            .map(|c| format!("{} (file {})", c.filename, c.id))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !archive.skipped.is_empty() {
        let skipped: Vec<String> = archive
            .skipped
            .iter()
            .map(|s| format!("{} ({})", s.name, s.reason))
            .collect();
        cause.push_str(&format!(" Not taken: {}.", skipped.join(", ")));
    }
    let change = StatusChange {
        status: Some(FileStatus::Finalized.as_str().to_owned()),
        status_cause: Some(Some(cause)),
        error_message: Some(None),
        module_response: Some(Some(format!(
            "{}: {}",
            Module::Uploads,
            job_status::SUCCEEDED
        ))),
        updated_at: Some(Utc::now().naive_utc()),
        ..Default::default()
    };
    files::transition(state, file.id, FileStatus::Cleaning, change).await?;
    for child in made {
        // A member whose run cannot start has been failed with the reason;
        // the others still start.
        if let Err(e) = files::start(state, &child, FileStatus::Uploaded, FileAction::Clean).await {
            tracing::warn!(file.id = child.id, error = %e, "a member's cleaning did not start");
        }
    }
    Ok(())
}

/// A file for each member, its bytes copied inside the store (a hard
/// link, a server-side copy: no member's bytes pass through the gateway).
/// A member made by an earlier attempt that failed for a passing reason
/// is taken as it is, so trying again never makes a member twice.
async fn make_members(
    state: &AppState,
    archive_file: &SalesFile,
    archive: &Archive,
) -> BackgroundResult<Vec<SalesFile>> {
    let parent_id = archive_file.id;
    let existing = state
        .db
        .run(move |conn| SalesFile::children(conn, parent_id))
        .await?;
    let mut made = Vec::new();
    for member in &archive.members {
        if let Some(child) = existing.iter().find(|c| c.filename == member.name) {
            made.push(child.clone());
            continue;
        }
        let filetype = type_of_name(&member.name).unwrap_or("TXT").to_owned();
        let (name, parent) = (member.name.clone(), archive_file.clone());
        let size = i64::try_from(member.size).unwrap_or(i64::MAX);
        let child = state
            .db
            .run(move |conn| {
                let now = Utc::now().naive_utc();
                files::insert_with_fresh_reference(
                    conn,
                    &NewSalesFile {
                        uuid: "",
                        organisation_id: parent.organisation_id,
                        filename: &name,
                        filetype: &filetype,
                        filesize: size,
                        mongo_db_id: &parent.mongo_db_id,
                        status: FileStatus::Uploaded.as_str(),
                        reporting_period: parent.reporting_period.as_deref(),
                        upload_mode: &parent.upload_mode,
                        response_module: &parent.response_module,
                        exchange_rate: parent.exchange_rate.as_deref(),
                        parent_id: Some(parent.id),
                        created_by: parent.created_by,
                        created_at: now,
                        updated_at: now,
                    },
                )
            })
            .await?;
        let stored = async {
            let from = ObjectKey::parse(&member.key)?;
            let to = oas_platform::storage::original_key(child.organisation_id, child.id)?;
            state.storage.copy(&from, &to).await
        }
        .await;
        if let Err(e) = stored {
            // A member without its bytes is not a file: its record goes too.
            let id = child.id;
            if let Err(undo) = state.db.run(move |conn| SalesFile::delete(conn, id)).await {
                tracing::warn!(file.id = id, error = %undo, "a member without bytes was left");
            }
            return Err(match BackgroundError::from(e) {
                BackgroundError::Passing(e) => BackgroundError::Passing(e),
                other => BackgroundError::final_(anyhow::anyhow!("{other}")),
            });
        }
        made.push(child);
    }
    Ok(made)
}
