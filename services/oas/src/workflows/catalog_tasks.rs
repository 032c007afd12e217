//! Work on the catalog as a whole, each one run of the catalogue-matching
//! module:
//!
//! - a generation (`generate_catalog`) reads the lines of the processed
//!   files it is given and adds their recordings the catalog lacks; its
//!   run (`/api/jobs/{id}/`) is all there is to follow;
//! - an audit (`audit_catalog`) is recorded (PROCESSING), and its run's end
//!   makes it DONE with its counts and findings file, or FAILED with a
//!   cause.

use chrono::Utc;
use oas_db::catalog::{CatalogAuditChange, CatalogAuditRecord};
use oas_db::jobs::JobRecord;
use oas_db::sales_files::SalesFile;
use oas_domain::catalog::ImportStatus as TaskStatus;
use oas_domain::job::Module;
use oas_domain::job::contract::catalogue_matching::{
    AUDIT_CATALOG, AuditParams, FileLines, GENERATE_CATALOG, GenerateParams, Output,
};
use oas_domain::job::contract::importer;

use super::{failure_cause, output_of};
use crate::background::{BackgroundError, BackgroundResult};
use crate::runs::{self, Launch, Subject};
use crate::state::AppState;

/// Starts a generation from `files` (processed, of one organisation): each
/// file's lines are where its latest import wrote them.
pub async fn generate(
    state: &AppState,
    organisation_id: i64,
    files: &[SalesFile],
) -> BackgroundResult<JobRecord> {
    let ids: Vec<i64> = files.iter().map(|f| f.id).collect();
    let outputs = state
        .db
        .run(move |conn| {
            ids.iter()
                .map(|&id| {
                    JobRecord::latest_output(conn, id, Module::Importer.as_str()).map(|o| (id, o))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    let files: Vec<FileLines> = outputs
        .into_iter()
        .filter_map(|(file_id, output)| {
            let output = serde_json::from_str::<importer::Output>(output.as_deref()?).ok()?;
            Some(FileLines {
                file_id,
                parquet_key: output.parquet_key,
            })
        })
        .collect();
    if files.is_empty() {
        return Err(BackgroundError::refused(
            "None of these files has imported lines: import sales files first.",
        ));
    }
    runs::launch(
        state,
        Launch {
            module: Module::CatalogueMatching,
            action: GENERATE_CATALOG.to_owned(),
            organisation_id,
            subject: Subject::None,
            params: serde_json::to_value(GenerateParams { files })
                .map_err(BackgroundError::final_)?,
        },
    )
    .await
}

/// Starts `audit` (just recorded, PROCESSING).
pub async fn audit(state: &AppState, audit: &CatalogAuditRecord) -> BackgroundResult<JobRecord> {
    let target = oas_platform::storage::catalog_audit_key(audit.organisation_id, audit.id)?;
    let params = AuditParams {
        period_from: audit.period_from.clone(),
        period_to: audit.period_to.clone(),
        target: target.as_str().to_owned(),
    };
    runs::launch(
        state,
        Launch {
            module: Module::CatalogueMatching,
            action: AUDIT_CATALOG.to_owned(),
            organisation_id: audit.organisation_id,
            subject: Subject::CatalogAudit(audit.id),
            params: serde_json::to_value(params).map_err(BackgroundError::final_)?,
        },
    )
    .await
}

/// A run on audit `id` ended.
pub async fn audit_ended(state: &AppState, job: &JobRecord, id: i64) -> BackgroundResult<()> {
    let change = match output_of::<Output>(job)? {
        Some(Output::AuditCatalog(audited)) => CatalogAuditChange {
            status: Some(TaskStatus::Done.as_str().to_owned()),
            status_cause: Some(Some(format!(
                "{} finding(s); {} of revenue not accounted for by the catalog.",
                audited.findings, audited.revenue_at_stake
            ))),
            counts: Some(serde_json::to_string(&audited.counts).ok()),
            findings: Some(i64::try_from(audited.findings).ok()),
            revenue_at_stake: Some(Some(audited.revenue_at_stake.to_string())),
            result_key: Some(Some(audited.key)),
            updated_at: Some(Utc::now().naive_utc()),
        },
        Some(_) => failing("The catalogue-matching module answered another action.".into()),
        None => failing(cause(job)),
    };
    let processing = TaskStatus::Processing.as_str();
    state
        .db
        .run(move |conn| CatalogAuditRecord::transition(conn, id, processing, &change))
        .await?;
    Ok(())
}

/// An audit that cannot go on, with why.
pub fn failing(cause: String) -> CatalogAuditChange {
    CatalogAuditChange {
        status: Some(TaskStatus::Failed.as_str().to_owned()),
        status_cause: Some(Some(cause)),
        updated_at: Some(Utc::now().naive_utc()),
        ..Default::default()
    }
}

fn cause(job: &JobRecord) -> String {
    failure_cause(job, |code| {
        format!("The audit failed ({code}). Start a new audit.")
    })
}
