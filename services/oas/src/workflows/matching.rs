//! `Module::CatalogueMatching`: a sales file's usage items matched to the
//! organisation's catalog.
//!
//! - after an import or reimport the file is PROCESSED, and its match
//!   starts by itself ([`after_import`]); an organisation without a catalog
//!   has nothing to match against, and the file is FINALIZED at once;
//! - `params`: where the file's lines are, the format they came in (rules
//!   scoped to it apply) and the organisation's thresholds;
//! - `ended`: a match ended: the file is FINALIZED, or stays where it was
//!   with the cause (its lines stand and it can be matched again).

use chrono::Utc;
use oas_db::catalog;
use oas_db::jobs::JobRecord;
use oas_db::organisations::Organisation;
use oas_db::sales_files::{SalesFile, StatusChange};
use oas_domain::file::{FileAction, FileStatus};
use oas_domain::job::Module;
use oas_domain::job::contract::catalogue_matching::{MatchParams, Output};
use oas_domain::job::contract::importer;

use super::{files, output_of};
use crate::background::{BackgroundError, BackgroundResult};
use crate::runs::Subject;
use crate::state::AppState;

/// How the cause of a file finalized without a catalog begins.
pub const NO_CATALOG: &str = "Not matched: the organisation has no catalog yet.";

/// Why a file without imported lines cannot be matched.
const NOT_IMPORTED: &str =
    "The file has no imported lines: process it with the action \"reimport\" first.";

/// The module's job for `file`.
pub async fn params(state: &AppState, file: &SalesFile) -> BackgroundResult<serde_json::Value> {
    let (file_id, org_id) = (file.id, file.organisation_id);
    let (imported, org) = state
        .db
        .run(move |conn| {
            let imported = JobRecord::latest_output(conn, file_id, Module::Importer.as_str())?;
            Ok::<_, oas_db::DbError>((imported, Organisation::find(conn, org_id)?))
        })
        .await?;
    let imported = imported
        .as_deref()
        .and_then(|o| serde_json::from_str::<importer::Output>(o).ok())
        .ok_or_else(|| BackgroundError::refused(NOT_IMPORTED))?;
    let thresholds = crate::routes::organisations::settings::matching(&org);
    let params = MatchParams {
        parquet_key: imported.parquet_key,
        source: Some(imported.format),
        accept: thresholds.accept,
        review: thresholds.review,
    };
    serde_json::to_value(params).map_err(BackgroundError::final_)
}

/// What follows an import that left the file PROCESSED: its match, or
/// FINALIZED at once when there is no catalog to match against.
pub async fn after_import(state: &AppState, file_id: i64) -> BackgroundResult<()> {
    let Some(file) = super::file(state, file_id).await? else {
        return Ok(());
    };
    if files::status_of(&file)? != FileStatus::Processed {
        return Ok(());
    }
    let org = file.organisation_id;
    let has_catalog = state
        .db
        .run(move |conn| catalog::has_catalog(conn, org))
        .await?;
    if !has_catalog {
        let change = StatusChange {
            status: Some(FileStatus::Finalized.as_str().to_owned()),
            status_cause: Some(Some(with_cause(file.status_cause.as_deref(), NO_CATALOG))),
            updated_at: Some(Utc::now().naive_utc()),
            ..Default::default()
        };
        files::transition(state, file.id, FileStatus::Processed, change).await?;
        return Ok(());
    }
    files::start_next(state, &file, FileStatus::Processed, FileAction::Match).await;
    Ok(())
}

/// A match ended.
pub async fn ended(state: &AppState, job: &JobRecord) -> BackgroundResult<()> {
    let Subject::File(file_id) = Subject::of(job) else {
        return Ok(());
    };
    let Some(file) = super::file(state, file_id).await? else {
        return Ok(());
    };
    let output: Option<Output> = output_of(job)?;
    let succeeded = output.and_then(|output| match output {
        Output::Match(matched) => Some(matched),
        Output::ImportCatalog(_) | Output::GenerateCatalog(_) | Output::AuditCatalog(_) => None,
    });
    let succeeded = succeeded.map(|matched| {
        let summary = if matched.no_catalog {
            NO_CATALOG.to_owned()
        } else {
            format!(
                "Matched {} of {} usage item(s); {} for review, {} unmatched.",
                matched.matched, matched.items, matched.review, matched.unmatched
            )
        };
        StatusChange {
            status_cause: Some(Some(with_cause(file.status_cause.as_deref(), &summary))),
            ..Default::default()
        }
    });
    files::finish(state, job, &file, Module::CatalogueMatching, succeeded).await?;
    Ok(())
}

/// The import's own cause (a copy counted on purpose, a summary block
/// left out), if any, followed by what matching says; an earlier match's
/// words are replaced.
fn with_cause(earlier: Option<&str>, matching: &str) -> String {
    let import_part = earlier
        .map(|c| c.split(MATCH_SEPARATOR).next().unwrap_or_default())
        .filter(|c| !c.is_empty() && !is_matching_cause(c));
    match import_part {
        Some(import_part) => format!("{import_part}{MATCH_SEPARATOR}{matching}"),
        None => matching.to_owned(),
    }
}

/// Between the import's cause and matching's.
const MATCH_SEPARATOR: &str = " | ";

fn is_matching_cause(cause: &str) -> bool {
    cause.starts_with("Matched ")
        || cause.starts_with(NO_CATALOG)
        || cause.starts_with(files::MATCH_FAILED)
        || cause.starts_with("Its match did not start")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_words_replace_earlier_ones_and_keep_the_imports() {
        let first = with_cause(
            None,
            "Matched 1 of 2 usage item(s); 0 for review, 1 unmatched.",
        );
        assert_eq!(
            first,
            "Matched 1 of 2 usage item(s); 0 for review, 1 unmatched."
        );
        assert_eq!(with_cause(Some(&first), NO_CATALOG), NO_CATALOG);
        let imported = "Imported. 2 line(s) after the table were left out.";
        let both = with_cause(
            Some(imported),
            "Matched 2 of 2 usage item(s); 0 for review, 0 unmatched.",
        );
        assert!(both.starts_with(imported), "{both}");
        let again = with_cause(Some(&both), NO_CATALOG);
        assert_eq!(again, format!("{imported}{MATCH_SEPARATOR}{NO_CATALOG}"));
    }
}
