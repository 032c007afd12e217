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
use oas_platform::storage::{AnyStorage, ObjectKey, ObjectStore, StorageError};

use lines::{FileMatches, Report, ReportError, Spec};

pub const INFO: ModuleInfo = ModuleInfo {
    module: Module::Report,
    about: "writes the sales lines of a period, matched to the catalog (monthly) or not (unmatched), as a gzipped CSV file with its snapshot",
    actions: &[contract::ACTION],
    params: "report: report_id, kind (monthly|unmatched), period_from, period_to (YYYY-MM), by (reporting|sale), files [{file_id, name, parquet_key, period}], target",
};

fn failure(code: FailureCode, what: &str, error: impl std::fmt::Display) -> Failure {
    Failure::new(code, format!("{what}: {error}"))
}

fn month(name: &str, value: &str) -> Result<(), Failure> {
    let valid = value.len() == 7
        && value.as_bytes()[4] == b'-'
        && value[..4].bytes().all(|b| b.is_ascii_digit())
        && matches!(value[5..].parse::<u8>(), Ok(1..=12));
    if valid {
        Ok(())
    } else {
        Err(failure(
            FailureCode::InvalidParams,
            name,
            format!("{value:?} is not a month (YYYY-MM)"),
        ))
    }
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
    month("period_from", &params.period_from)?;
    month("period_to", &params.period_to)?;
    if params.period_from > params.period_to {
        return Err(Failure::new(
            FailureCode::InvalidParams,
            "period_to: the period ends before it starts",
        ));
    }
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
        let parquet = work
            .path()
            .join(format!("lines-{}.parquet", source.file_id));
        let key = ObjectKey::parse(&source.parquet_key)
            .map_err(|e| failure(FailureCode::InvalidParams, "parquet_key", e))?;
        storage.download(&key, &parquet).await.map_err(|e| match e {
            StorageError::NotFound(_) => Failure::new(
                FailureCode::Rejected,
                format!(
                    "The imported lines of {} (file {}) are not found: reimport it, then ask for the report again.",
                    source.name, source.file_id
                ),
            ),
            other => failure(FailureCode::Internal, "reading the lines", other),
        })?;
        let file_id = source.file_id;
        let mut known: Vec<i64> = catalog.keys().copied().collect();
        known.sort_unstable();
        let (items, entries) = db
            .run(move |conn| {
                let items = oas_db::catalog::item_matches(conn, org_id, file_id)?;
                let mut wanted: Vec<i64> = items.iter().filter_map(|i| i.track_id).collect();
                wanted.sort_unstable();
                wanted.dedup();
                wanted.retain(|id| known.binary_search(id).is_err());
                let entries = oas_db::catalog::catalog_entries(conn, org_id, &wanted)?;
                Ok::<_, oas_db::DbError>((items, entries))
            })
            .await
            .map_err(|e| failure(FailureCode::Internal, "reading the matches", e))?;
        for entry in entries {
            catalog.insert(entry.track_id, Arc::new(entry));
        }
        let matches = FileMatches::new(items, &catalog);
        let source = source.clone();
        let read = parquet.clone();
        let (back, added) = tokio::task::spawn_blocking(move || {
            let added = report.add_file(&source, &read, &matches);
            (report, added)
        })
        .await
        .map_err(|e| failure(FailureCode::Internal, "reading the lines", e))?;
        report = back;
        added.map_err(rejected)?;
        let _ = std::fs::remove_file(&parquet);
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
