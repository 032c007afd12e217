//! The report module: the sales lines of a period as a gzipped CSV file.
//!
//! `report`: a `monthly` report holds every line of the period whose usage
//! item is matched to the catalog, with the catalog's fields beside the
//! line's; an `unmatched` report every other line of the period (waiting
//! for review, unmatched, or in a file not matched yet). The two together
//! hold each line of the period's files once. Each file's lines are read
//! from its Parquet file a slice at a time and joined to the file's item
//! matches ([`lines`]); the CSV is compressed on its own thread
//! ([`sink`]), stored at the job's `target`, and the report's totals by
//! artist, DSP, territory, track and release saved through the snapshot
//! store under the report's id.

pub mod lines;
pub mod sink;

use std::collections::HashMap;
use std::sync::Arc;

use oas_db::catalog::CatalogEntry;
use oas_domain::job::contract::report::{self as contract, Output, Params};
use oas_domain::job::{FailureCode, Job, Module};
use oas_platform::config::Settings;
use oas_platform::module::{Failure, ModuleInfo};
use oas_platform::snapshots::{AnySnapshots, REPORT_TOP, ReportSnapshot, SnapshotStore};
use oas_platform::storage::{AnyStorage, ObjectKey, ObjectStore};

use lines::{Report, ReportError, Spec};

pub const INFO: ModuleInfo = ModuleInfo {
    module: Module::Report,
    about: "writes the sales lines of a period, matched to the catalog (monthly) or not (unmatched), as a gzipped CSV file with its snapshot",
    actions: &[contract::ACTION],
    params: "report: report_id, kind (monthly|unmatched), period_from, period_to (YYYY-MM), by (reporting|sale), files [{file_id, name, parquet_key, period}], target",
};

fn failure(code: FailureCode, what: &str, error: impl std::fmt::Display) -> Failure {
    Failure::new(code, format!("{what}: {error}"))
}

pub async fn run(job: Job, settings: Settings) -> Result<serde_json::Value, Failure> {
    if job.action != contract::ACTION {
        return Err(failure(
            FailureCode::InvalidParams,
            "action",
            format!("unknown action {:?}", job.action),
        ));
    }
    let output = report(&job, &settings).await?;
    serde_json::to_value(&output).map_err(|e| failure(FailureCode::Internal, "output", e))
}

async fn report(job: &Job, settings: &Settings) -> Result<Output, Failure> {
    let params: Params = serde_json::from_value(job.params.clone())
        .map_err(|e| failure(FailureCode::InvalidParams, "params", e))?;
    oas_lines::check_period(&params.period_from, &params.period_to)
        .map_err(|(name, why)| failure(FailureCode::InvalidParams, name, why))?;
    let target = ObjectKey::parse(&params.target)
        .map_err(|e| failure(FailureCode::InvalidParams, "target", e))?;
    let org_id = job.org_id;
    let storage = AnyStorage::for_module(settings)
        .await
        .map_err(|e| failure(FailureCode::Internal, "storage", e))?;
    let pool = oas_db::PoolSettings {
        max_size: 2,
        ..Default::default()
    };
    let db = oas_db::Database::new(&settings.database_url, pool)
        .map_err(|e| failure(FailureCode::Internal, "the database", e))?;
    let work =
        tempfile::tempdir().map_err(|e| failure(FailureCode::Internal, "temporary folder", e))?;
    let path = work.path().join("report.csv.gz");
    let spec = Spec {
        kind: params.kind,
        period_from: params.period_from.clone(),
        period_to: params.period_to.clone(),
        by: params.by,
    };
    let mut report =
        Report::create(spec, &path).map_err(|e| failure(FailureCode::Internal, "writing", e))?;
    let mut catalog: HashMap<i64, Arc<CatalogEntry>> = HashMap::new();
    let started = std::time::Instant::now();
    for source in &params.files {
        let fetched =
            oas_lines::fetch::fetch(&storage, &db, org_id, source, &mut catalog, work.path())
                .await
                .map_err(Failure::from)?;
        let source = source.clone();
        let (back, added) = tokio::task::spawn_blocking(move || {
            let added = report.add_file(&source, &fetched.parquet, &fetched.matches);
            (report, added)
        })
        .await
        .map_err(|e| failure(FailureCode::Internal, "reading the lines", e))?;
        report = back;
        added.map_err(rejected)?;
    }
    let written = tokio::task::spawn_blocking(move || report.finish(REPORT_TOP))
        .await
        .map_err(|e| failure(FailureCode::Internal, "writing", e))?
        .map_err(rejected)?;
    tracing::info!(
        rows = written.rows,
        period_lines = written.period_lines,
        seconds = started.elapsed().as_secs_f64(),
        "report written"
    );
    storage
        .put_file(&target, &path)
        .await
        .map_err(|e| failure(FailureCode::Internal, "storing the report", e))?;
    let snapshots = AnySnapshots::open(settings, Some(db))
        .await
        .map_err(|e| failure(FailureCode::Internal, "the snapshot store", e))?;
    let snapshot = ReportSnapshot {
        report_id: params.report_id,
        organisation_id: org_id,
        currency: written.currency.clone(),
        lines: i64::try_from(written.rows).unwrap_or(i64::MAX),
        revenue: written.total,
        quantity: written.quantity,
        groups: written.groups,
    };
    snapshots
        .save_report(&snapshot)
        .await
        .map_err(|e| failure(FailureCode::Internal, "saving the snapshot", e))?;
    Ok(Output {
        key: target.as_str().to_owned(),
        rows: written.rows,
        total: written.total,
        currency: written.currency,
        quantity: written.quantity,
        by_currency: written.by_currency,
        period_lines: written.period_lines,
        bytes: written.bytes,
    })
}

/// A report that cannot be written from what it was given: a readable
/// cause; a failure to write is OAS's own.
fn rejected(e: ReportError) -> Failure {
    match e {
        ReportError::Write(_) | ReportError::Csv(_) => {
            failure(FailureCode::Internal, "writing the report", e)
        }
        other => Failure::new(
            FailureCode::Rejected,
            format!("The report cannot be written: {other}."),
        ),
    }
}
