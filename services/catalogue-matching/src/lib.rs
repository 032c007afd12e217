//! The catalogue-matching module: the organisation's catalog against the
//! usage its sales files report.
//!
//! `match`: a file's usage items (the distinct recordings its lines name)
//! are read from its lines' Parquet file, matched through the cascade of
//! [`matcher`], and stored with their sums, match and reason, replacing
//! the file's earlier match whole.
//!
//! `import_catalog`: a catalog file, cleaned by the uploads module, read
//! into the organisation's catalog ([`catalog_import`]).
//!
//! `generate_catalog`: the recordings of processed files' lines added to
//! the catalog where it lacks them ([`generate`]).
//!
//! `audit_catalog`: the catalog checked on its own and against a period's
//! usage, the findings written as a gzipped CSV file ([`audit`]).

pub mod accuracy;
pub mod audit;
pub mod catalog_import;
pub mod generate;
pub mod items;
pub mod matcher;

use std::collections::BTreeMap;

use oas_db::catalog::{ImportWrite, NewUsageItem, RuleRecord, TrackForMatching, UsageItemRecord};
use oas_domain::job::contract::catalogue_matching::{
    self as contract, CatalogGenerated, CatalogImported, GenerateParams, ImportMode, ImportParams,
    MatchParams, Matched,
};
use oas_domain::job::contract::uploads::Cleaned;
use oas_domain::job::{FailureCode, Job, Module};
use oas_domain::money::Amount;
use oas_platform::config::Settings;
use oas_platform::module::{Failure, ModuleInfo};
use oas_platform::storage::{AnyStorage, ObjectKey, ObjectStore};
use oas_sales::names::ItemKey;
use rayon::prelude::*;

use matcher::{CatalogTrack, Index, Outcome, Rule, Status, Thresholds};

pub const INFO: ModuleInfo = ModuleInfo {
    module: Module::CatalogueMatching,
    about: "matches each sales file's usage items to the organisation's catalog",
    actions: &[
        contract::MATCH,
        contract::IMPORT_CATALOG,
        contract::GENERATE_CATALOG,
        contract::AUDIT_CATALOG,
    ],
    params: "match: parquet_key, source, accept, review; import_catalog: clean (the uploads module's output), mode, columns; generate_catalog: files [{file_id, parquet_key}]; audit_catalog: period_from, period_to, target",
};

fn internal(what: &str, error: impl std::fmt::Display) -> Failure {
    Failure::new(FailureCode::Internal, format!("{what}: {error}"))
}

fn invalid(error: impl std::fmt::Display) -> Failure {
    Failure::new(FailureCode::InvalidParams, error.to_string())
}

pub async fn run(job: Job, settings: Settings) -> Result<serde_json::Value, Failure> {
    let output = match job.action.as_str() {
        contract::MATCH => contract::Output::Match(match_file(&job, &settings).await?),
        contract::IMPORT_CATALOG => {
            contract::Output::ImportCatalog(import_catalog(&job, &settings).await?)
        }
        contract::GENERATE_CATALOG => {
            contract::Output::GenerateCatalog(generate_catalog(&job, &settings).await?)
        }
        contract::AUDIT_CATALOG => {
            contract::Output::AuditCatalog(audit::run(&job, &settings).await?)
        }
        other => return Err(invalid(format!("unknown action {other:?}"))),
    };
    serde_json::to_value(&output).map_err(|e| internal("output", e))
}

fn database(settings: &Settings) -> Result<oas_db::Database, Failure> {
    let pool = oas_db::PoolSettings {
        max_size: 2,
        ..Default::default()
    };
    oas_db::Database::new(&settings.database_url, pool).map_err(|e| internal("the database", e))
}

/// The catalog and rules as the matcher reads them.
pub fn index_of(
    tracks: Vec<TrackForMatching>,
    rules: Vec<RuleRecord>,
    thresholds: Thresholds,
) -> Index {
    let tracks: Vec<CatalogTrack> = tracks
        .into_iter()
        .map(|t| CatalogTrack {
            id: t.id,
            isrc: t.isrc,
            title: t.title,
            version: t.version,
            artist: t.artist,
            gtin: t.gtin,
            catalog_number: t.catalog_number,
        })
        .collect();
    let rules = rules
        .into_iter()
        .map(|r| Rule {
            id: r.id,
            key: ItemKey {
                artist: r.artist_key,
                title: r.title_key,
                isrc: r.isrc_key,
                gtin: r.gtin_key,
            },
            track_id: r.track_id,
            source: r.source,
        })
        .collect();
    Index::new(&tracks, rules, thresholds)
}

/// Matches every item of `items` (in parallel) and sums the outcome.
pub fn match_items(index: &Index, items: &[items::Item], source: Option<&str>) -> Vec<Outcome> {
    items
        .par_iter()
        .map(|item| index.match_item(&item.usage, source))
        .collect()
}

async fn match_file(job: &Job, settings: &Settings) -> Result<Matched, Failure> {
    let params: MatchParams = serde_json::from_value(job.params.clone()).map_err(invalid)?;
    let file_id = job
        .file_id
        .ok_or_else(|| invalid("the job names no file"))?;
    let org_id = job.org_id;
    let storage = AnyStorage::for_module(settings)
        .await
        .map_err(|e| internal("storage", e))?;
    let work = tempfile::tempdir().map_err(|e| internal("temporary folder", e))?;
    let parquet = work.path().join("lines.parquet");
    let key = ObjectKey::parse(&params.parquet_key).map_err(invalid)?;
    storage.download(&key, &parquet).await.map_err(|e| {
        Failure::new(
            FailureCode::Rejected,
            format!(
                "The file's imported lines are not found ({e}): reimport it, then match it again."
            ),
        )
    })?;
    let db = database(settings)?;
    let (tracks, rules) = db
        .run(move |conn| {
            Ok::<_, oas_db::DbError>((
                TrackForMatching::all(conn, org_id)?,
                RuleRecord::all(conn, org_id)?,
            ))
        })
        .await
        .map_err(|e| internal("reading the catalog", e))?;
    let thresholds = Thresholds {
        accept: params.accept,
        review: params.review,
    };
    let source = params.source.clone();
    let started = std::time::Instant::now();
    let (items, outcomes, no_catalog) = tokio::task::spawn_blocking(move || {
        let items = items::read(&parquet)?;
        let no_catalog = tracks.is_empty();
        let index = index_of(tracks, rules, thresholds);
        let outcomes = match_items(&index, &items, source.as_deref());
        Ok::<_, items::ItemsError>((items, outcomes, no_catalog))
    })
    .await
    .map_err(|e| internal("matching", e))?
    .map_err(|e| {
        Failure::new(
            FailureCode::Rejected,
            format!("The file's lines cannot be read: {e}."),
        )
    })?;
    tracing::debug!(
        seconds = started.elapsed().as_secs_f64(),
        items = items.len(),
        "matched"
    );

    let matched = summarise(&items, &outcomes, no_catalog)?;
    let now = chrono::Utc::now().naive_utc();
    let rows: Vec<NewUsageItem> = items
        .into_iter()
        .zip(outcomes)
        .map(|(item, outcome)| {
            row(
                org_id,
                file_id,
                params.source.as_deref(),
                item,
                outcome,
                now,
            )
        })
        .collect();
    db.run(move |conn| UsageItemRecord::replace_for_file(conn, file_id, &rows))
        .await
        .map_err(|e| internal("storing the matches", e))?;
    tracing::info!(
        items = matched.items,
        matched = matched.matched,
        review = matched.review,
        unmatched = matched.unmatched,
        "file matched"
    );
    Ok(matched)
}

/// The counts and revenues of a file's outcomes.
pub fn summarise(
    items: &[items::Item],
    outcomes: &[Outcome],
    no_catalog: bool,
) -> Result<Matched, Failure> {
    let mut matched = Matched {
        items: items.len() as u64,
        matched: 0,
        review: 0,
        unmatched: 0,
        matched_revenue: Amount::ZERO,
        review_revenue: Amount::ZERO,
        unmatched_revenue: Amount::ZERO,
        by_type: BTreeMap::new(),
        no_catalog,
    };
    for (item, outcome) in items.iter().zip(outcomes) {
        let (count, revenue) = match outcome.status {
            Status::Matched => (&mut matched.matched, &mut matched.matched_revenue),
            Status::Review => (&mut matched.review, &mut matched.review_revenue),
            Status::Unmatched => (&mut matched.unmatched, &mut matched.unmatched_revenue),
        };
        *count += 1;
        *revenue = revenue
            .checked_add(item.revenue)
            .ok_or_else(|| internal("summing", "the revenue overflows"))?;
        if let (Status::Matched, Some(stage)) = (outcome.status, outcome.match_type) {
            *matched
                .by_type
                .entry(stage.as_str().to_owned())
                .or_insert(0) += 1;
        }
    }
    Ok(matched)
}

fn row(
    organisation_id: i64,
    file_id: i64,
    source: Option<&str>,
    item: items::Item,
    outcome: Outcome,
    now: chrono::NaiveDateTime,
) -> NewUsageItem {
    let usage = item.usage;
    let key = ItemKey::new(
        &usage.artist,
        &usage.track_title,
        Some(&usage.isrc),
        Some(&usage.upc),
    );
    let revenue = item.revenue.to_string();
    NewUsageItem {
        organisation_id,
        file_id,
        artist_key: key.artist,
        title_key: key.title,
        isrc_key: key.isrc,
        gtin_key: key.gtin,
        artist: usage.artist,
        track_title: usage.track_title,
        release_title: usage.release_title,
        isrc: usage.isrc,
        upc: usage.upc,
        catalog_number: usage.catalog_number,
        lines: item.lines,
        quantity: item.quantity,
        revenue_rank: revenue.parse().unwrap_or_default(),
        revenue,
        status: outcome.status.as_str().to_owned(),
        match_type: outcome.match_type.map(|t| t.as_str().to_owned()),
        confidence: outcome.confidence,
        track_id: outcome.track_id,
        rule_id: outcome.rule_id,
        candidates: serde_json::to_string(&outcome.candidates).unwrap_or_else(|_| "[]".into()),
        reason: outcome.reason,
        source: source.map(str::to_owned),
        matched_at: now,
    }
}

fn rejected(message: impl Into<String>) -> Failure {
    Failure::new(FailureCode::Rejected, message)
}

async fn import_catalog(job: &Job, settings: &Settings) -> Result<CatalogImported, Failure> {
    let params: ImportParams = serde_json::from_value(job.params.clone()).map_err(invalid)?;
    let table = match params.clean.cleaned {
        Cleaned::Table(table) => table,
        Cleaned::Dsr(_) => {
            return Err(rejected(
                "The file is a DDEX sales report, not a catalog: upload it as a sales file.",
            ));
        }
        Cleaned::Archive(_) => {
            return Err(rejected(
                "A catalog is one table (CSV, TSV, TXT, XLS or XLSX), not an archive.",
            ));
        }
    };
    let storage = AnyStorage::for_module(settings)
        .await
        .map_err(|e| internal("storage", e))?;
    let work = tempfile::tempdir().map_err(|e| internal("temporary folder", e))?;
    let path = work.path().join("catalog.csv");
    let key = ObjectKey::parse(&table.clean_key).map_err(invalid)?;
    storage
        .download(&key, &path)
        .await
        .map_err(|e| internal("downloading the cleaned catalog", e))?;
    let columns = params.columns.clone();
    let read = tokio::task::spawn_blocking(move || catalog_import::read(&path, &table, &columns))
        .await
        .map_err(|e| internal("reading the catalog", e))?
        .map_err(rejected)?;
    let org_id = job.org_id;
    let write = match params.mode {
        ImportMode::Replace => ImportWrite::Replace,
        ImportMode::Merge => ImportWrite::Merge,
    };
    let rows = read.rows;
    let now = chrono::Utc::now().naive_utc();
    let counts = database(settings)?
        .run(move |conn| oas_db::catalog::import(conn, org_id, &rows, write, "import", now))
        .await
        .map_err(|e| internal("writing the catalog", e))?;
    tracing::info!(
        created = counts.created,
        updated = counts.updated,
        unchanged = counts.unchanged,
        removed = counts.removed,
        rejected = read.rejected_count,
        "catalog imported"
    );
    Ok(CatalogImported {
        created: counts.created,
        updated: counts.updated,
        unchanged: counts.unchanged,
        removed: counts.removed,
        rejected: read.rejected,
        rejected_count: read.rejected_count,
    })
}

async fn generate_catalog(job: &Job, settings: &Settings) -> Result<CatalogGenerated, Failure> {
    let params: GenerateParams = serde_json::from_value(job.params.clone()).map_err(invalid)?;
    if params.files.is_empty() {
        return Err(rejected(
            "No processed file to generate the catalog from: import sales files first.",
        ));
    }
    let storage = AnyStorage::for_module(settings)
        .await
        .map_err(|e| internal("storage", e))?;
    let work = tempfile::tempdir().map_err(|e| internal("temporary folder", e))?;
    let mut generation = generate::Generation::default();
    for file in &params.files {
        let parquet = work.path().join(format!("{}.parquet", file.file_id));
        let key = ObjectKey::parse(&file.parquet_key).map_err(invalid)?;
        storage.download(&key, &parquet).await.map_err(|e| {
            rejected(format!(
                "The imported lines of file {} are not found ({e}): reimport it, then generate again.",
                file.file_id
            ))
        })?;
        // One file's lines at a time: each is read, counted and let go.
        let items = tokio::task::spawn_blocking(move || {
            let items = items::read(&parquet);
            let _ = std::fs::remove_file(&parquet);
            items
        })
        .await
        .map_err(|e| internal("reading the lines", e))?
        .map_err(|e| {
            rejected(format!(
                "The lines of file {} cannot be read: {e}.",
                file.file_id
            ))
        })?;
        generation.add(&items);
    }
    let recordings = generation.len() as u64;
    let (rows, left_out) = generation.rows();
    let org_id = job.org_id;
    let now = chrono::Utc::now().naive_utc();
    let counts = database(settings)?
        .run(move |conn| {
            oas_db::catalog::import(conn, org_id, &rows, ImportWrite::AddOnly, "usage", now)
        })
        .await
        .map_err(|e| internal("writing the catalog", e))?;
    tracing::info!(
        files = params.files.len(),
        recordings,
        created = counts.created,
        unchanged = counts.unchanged,
        left_out,
        "catalog generated"
    );
    Ok(CatalogGenerated {
        files: params.files.len() as u64,
        recordings,
        created: counts.created,
        unchanged: counts.unchanged,
        left_out,
    })
}
