//! A catalog import: the uploads module cleans the file (the same decoding
//! and sheet reading as sales reports), then the catalogue-matching module
//! reads it into the catalog (`import_catalog`).
//!
//! - `process`: an operator's request: the import's bytes are checked and
//!   its cleaning starts;
//! - `ended`: a run on the import ended: after cleaning, the reading
//!   starts; after reading, the import is DONE with its counts; any
//!   failure leaves it FAILED with a cause, to be processed again.

use chrono::Utc;
use oas_db::catalog::{CatalogImportChange, CatalogImportRecord};
use oas_db::jobs::JobRecord;
use oas_domain::catalog::{self as status_machine, ImportStatus};
use oas_domain::job::contract::catalogue_matching::{
    CatalogImported, IMPORT_CATALOG, ImportMode, ImportParams, Output,
};
use oas_domain::job::contract::uploads;
use oas_domain::job::{FailureCode, Module};
use oas_platform::storage::ObjectStore;

use super::{failure_cause, output_of};
use crate::background::{BackgroundError, BackgroundResult};
use crate::runs::{self, Launch, Subject};
use crate::state::AppState;

fn status_of(import: &CatalogImportRecord) -> BackgroundResult<ImportStatus> {
    import
        .status
        .parse()
        .map_err(|e: String| BackgroundError::final_(anyhow::anyhow!(e)))
}

async fn transition(
    state: &AppState,
    id: i64,
    from: ImportStatus,
    change: CatalogImportChange,
) -> BackgroundResult<bool> {
    Ok(state
        .db
        .run(move |conn| CatalogImportRecord::transition(conn, id, from.as_str(), &change))
        .await?)
}

fn failing(cause: String) -> CatalogImportChange {
    CatalogImportChange {
        status: Some(ImportStatus::Failed.as_str().to_owned()),
        status_cause: Some(Some(cause)),
        updated_at: Some(Utc::now().naive_utc()),
        ..Default::default()
    }
}

/// Starts processing an import: refused (409) unless it is uploaded (or
/// failed) and its bytes are there, within its declared size.
pub async fn process(
    state: &AppState,
    import: &CatalogImportRecord,
) -> BackgroundResult<JobRecord> {
    let status = status_of(import)?;
    let next = status_machine::process(status).map_err(|hint| {
        BackgroundError::Refused(format!(
            "Cannot process a catalog import whose status is {status}. {hint}"
        ))
    })?;
    let key = oas_platform::storage::catalog_import_key(import.organisation_id, import.id)?;
    let Some(size) = state.storage.head(&key).await? else {
        return Err(BackgroundError::Refused(
            "None of its bytes are uploaded: PUT them to its presigned URL first.".into(),
        ));
    };
    if i64::try_from(size).unwrap_or(i64::MAX) > import.filesize {
        return Err(BackgroundError::Refused(format!(
            "The bytes uploaded ({size}) are more than the import's declared filesize ({}): create the import again with its size.",
            import.filesize
        )));
    }
    let params = uploads::Params {
        source: key.as_str().to_owned(),
        target: oas_platform::storage::catalog_import_prefix(import.organisation_id, import.id),
        max_expanded_bytes: Some(state.settings.max_upload_bytes.saturating_mul(10)),
        max_members: None,
        max_ratio: None,
    };
    let change = CatalogImportChange {
        status: Some(next.as_str().to_owned()),
        status_cause: Some(None),
        updated_at: Some(Utc::now().naive_utc()),
        ..Default::default()
    };
    if !transition(state, import.id, status, change).await? {
        return Err(BackgroundError::refused(
            "The import changed meanwhile; read it again.",
        ));
    }
    runs::launch(
        state,
        Launch {
            module: Module::Uploads,
            action: uploads::ACTION.to_owned(),
            organisation_id: import.organisation_id,
            subject: Subject::CatalogImport(import.id),
            params: serde_json::to_value(params).map_err(BackgroundError::final_)?,
        },
    )
    .await
}

/// A run on import `id` ended.
pub async fn ended(
    state: &AppState,
    job: &JobRecord,
    module: Module,
    id: i64,
) -> BackgroundResult<()> {
    let import = match state
        .db
        .run(move |conn| CatalogImportRecord::find(conn, id))
        .await
    {
        Ok(import) => import,
        Err(oas_db::DbError::NotFound) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if status_of(&import)? != ImportStatus::Processing {
        // A late or repeated event: the import has moved on.
        return Ok(());
    }
    match module {
        Module::Uploads => cleaned(state, job, &import).await,
        Module::CatalogueMatching => read(state, job, &import).await,
        Module::Importer | Module::Report | Module::Statement | Module::Ping => Ok(()),
    }
}

/// Why a run on a catalog failed, for its `status_cause`.
fn cause(job: &JobRecord, stage: &str) -> String {
    match (job.error_code.as_deref(), &job.error_message) {
        (Some(code), Some(message))
            if code.parse::<FailureCode>().ok() == Some(FailureCode::NotASalesReport) =>
        {
            format!(
                "The catalog file cannot be read as a table (CSV, TSV, TXT, XLS or XLSX): {}",
                message
                    .replace("not a sales report", "not a table")
                    .replace("a sales report", "a table")
            )
        }
        _ => failure_cause(job, |code| {
            format!("{stage} failed ({code}). Process the import again.")
        }),
    }
}

async fn cleaned(
    state: &AppState,
    job: &JobRecord,
    import: &CatalogImportRecord,
) -> BackgroundResult<()> {
    let Some(clean) = output_of::<uploads::Output>(job)? else {
        let change = failing(cause(job, "Cleaning the catalog file"));
        transition(state, import.id, ImportStatus::Processing, change).await?;
        return Ok(());
    };
    let columns = import
        .column_names
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or_default();
    let mode = if import.mode == ImportMode::Replace.as_str() {
        ImportMode::Replace
    } else {
        ImportMode::Merge
    };
    let params = ImportParams {
        clean,
        mode,
        columns,
    };
    runs::launch(
        state,
        Launch {
            module: Module::CatalogueMatching,
            action: IMPORT_CATALOG.to_owned(),
            organisation_id: import.organisation_id,
            subject: Subject::CatalogImport(import.id),
            params: serde_json::to_value(params).map_err(BackgroundError::final_)?,
        },
    )
    .await?;
    Ok(())
}

async fn read(
    state: &AppState,
    job: &JobRecord,
    import: &CatalogImportRecord,
) -> BackgroundResult<()> {
    let change = match output_of::<Output>(job)? {
        Some(Output::ImportCatalog(imported)) => done(&imported),
        Some(Output::Match(_) | Output::GenerateCatalog(_) | Output::AuditCatalog(_)) => {
            failing("The catalogue-matching module answered another action.".into())
        }
        None => failing(cause(job, "Reading the catalog")),
    };
    transition(state, import.id, ImportStatus::Processing, change).await?;
    Ok(())
}

fn done(imported: &CatalogImported) -> CatalogImportChange {
    let count = |n: u64| Some(i64::try_from(n).ok());
    CatalogImportChange {
        status: Some(ImportStatus::Done.as_str().to_owned()),
        status_cause: Some(Some(format!(
            "{} track(s) added, {} updated, {} unchanged, {} removed; {} row(s) or identifier(s) rejected.",
            imported.created,
            imported.updated,
            imported.unchanged,
            imported.removed,
            imported.rejected_count
        ))),
        created_count: count(imported.created),
        updated_count: count(imported.updated),
        unchanged_count: count(imported.unchanged),
        removed_count: count(imported.removed),
        rejected: Some(serde_json::to_string(&imported.rejected).ok()),
        rejected_count: count(imported.rejected_count),
        updated_at: Some(Utc::now().naive_utc()),
    }
}
