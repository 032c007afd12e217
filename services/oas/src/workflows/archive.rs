//! An archive's members become sales files of their own, linked to it
//! (`parent`), each cleaned in turn; the archive itself is then done.

use chrono::Utc;
use oas_db::jobs::{self as job_status, JobRecord};
use oas_db::sales_files::{NewSalesFile, SalesFile, StatusChange};
use oas_domain::file::{FileAction, FileStatus, type_of_name};
use oas_domain::job::Module;
use oas_domain::job::contract::uploads::{self, Archive};
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
    let cause = standing(&made, &archive.skipped);
    let change = StatusChange {
        status: Some(FileStatus::Finalized.as_str().to_owned()),
        status_cause: Some(Some(cause)),
        error_message: Some(None),
        module_response: Some(Some(Module::Uploads.as_str().to_owned())),
        response_module: Some(files::answer(job_status::SUCCEEDED)),
        updated_at: Some(Utc::now().naive_utc()),
        ..Default::default()
    };
    files::transition(state, file.id, FileStatus::Cleaning, change).await?;
    for child in made {
        // A member whose run cannot start says why; the others still start.
        files::start_next(state, &child, FileStatus::Uploaded, FileAction::Clean).await;
    }
    Ok(())
}

/// Writes on the archive how its members stand: how many were imported,
/// skipped (not sales reports) and failed, and why; called whenever one
/// of them ends a run.
pub async fn tally(state: &AppState, archive_id: i64) -> BackgroundResult<()> {
    let (members, expansion) = state
        .db
        .run(move |conn| {
            let members = SalesFile::children(conn, archive_id)?;
            let output = JobRecord::latest_output(conn, archive_id, Module::Uploads.as_str())?;
            Ok::<_, oas_db::DbError>((members, output))
        })
        .await?;
    let not_taken = expansion
        .as_deref()
        .and_then(|o| serde_json::from_str::<uploads::Output>(o).ok())
        .and_then(|o| match o.cleaned {
            uploads::Cleaned::Archive(archive) => Some(archive.skipped),
            _ => None,
        })
        .unwrap_or_default();
    let change = StatusChange {
        status_cause: Some(Some(standing(&members, &not_taken))),
        updated_at: Some(Utc::now().naive_utc()),
        ..Default::default()
    };
    // Only an archive that was expanded (FINALIZED) has members to tell of.
    files::transition(state, archive_id, FileStatus::Finalized, change).await?;
    Ok(())
}

/// How an archive's members stand, in the words of its `status_cause`.
fn standing(members: &[SalesFile], not_taken: &[uploads::Skipped]) -> String {
    let named =
        |file: &SalesFile, why: &str| format!("{} (file {}): {why}", file.filename, file.id);
    let (mut imported, mut skipped, mut failed, mut busy) = (0, Vec::new(), Vec::new(), 0);
    for member in members {
        let cause = member.status_cause.as_deref().unwrap_or_default();
        match member.status.parse::<FileStatus>() {
            Ok(FileStatus::Finalized | FileStatus::Processed) => imported += 1,
            Ok(FileStatus::Failed) => failed.push(named(member, cause)),
            _ if cause.starts_with(files::SKIPPED) => {
                skipped.push(named(member, &cause[files::SKIPPED.len()..]))
            }
            _ => busy += 1,
        }
    }
    let mut text = format!(
        "The archive was expanded into {} file(s): {imported} imported, {} skipped as not sales reports, {} failed",
        members.len(),
        skipped.len(),
        failed.len()
    );
    if busy > 0 {
        text.push_str(&format!(", {busy} not done yet"));
    }
    text.push('.');
    if !skipped.is_empty() {
        text.push_str(&format!(" Skipped: {}", skipped.join(" ")));
    }
    if !failed.is_empty() {
        text.push_str(&format!(" Failed: {}", failed.join(" ")));
    }
    if !not_taken.is_empty() {
        let names: Vec<String> = not_taken
            .iter()
            .map(|s| format!("{} ({})", s.name, s.reason))
            .collect();
        text.push_str(&format!(
            " Not taken from the archive: {}.",
            names.join(", ")
        ));
    }
    text
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
                        response_module: files::PENDING,
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
