//! The dashboard: the active organisation's figures over a range of
//! months, from the files' snapshots (their headers, and each file's
//! highest groups) and the matches' items not matched; no sales line is
//! read again. An answer is kept for a minute, for as long as the
//! organisation's files are as they were (their statuses and last
//! changes): a dashboard is read far more often than files change.

use actix_web::{get, web};
use oas_db::catalog::{files_with_items, waiting_revenue};
use oas_db::organisations::Organisation;
use oas_db::sales_files::{ListFilter, SalesFile};
use oas_domain::access::Permission;
use oas_domain::file::FileStatus;
use oas_domain::money::Amount;
use oas_platform::snapshots::{Dimension, SnapshotRow, SnapshotStore, by_period};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Authenticated;
use crate::http::ApiError;
use crate::http::error::ErrorBody;
use crate::routes::catalog::{in_period, months, organisation_for};
use crate::state::AppState;

/// Groups in each top list.
const TOP: usize = 10;
/// How long an answer is kept while the files stay as they were.
const KEPT: std::time::Duration = std::time::Duration::from_secs(60);
/// Answers kept, at most (all are dropped beyond).
const KEPT_ANSWERS: usize = 1024;

/// Answers kept: by organisation and months, the files' fingerprint, when
/// it was made, and the answer.
pub type Kept = std::sync::Mutex<
    std::collections::HashMap<
        (i64, Option<String>, Option<String>),
        (u64, std::time::Instant, std::sync::Arc<DashboardOut>),
    >,
>;

/// What the answer depends on, of the organisation's files.
fn fingerprint(files: &[SalesFile]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for f in files {
        (f.id, &f.status, f.updated_at, &f.reporting_period).hash(&mut hasher);
    }
    hasher.finish()
}
/// Files the dashboard counts, at most.
const MAX_FILES: i64 = 100_000;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// The organisation; the caller's active one by default.
    pub organisation: Option<i64>,
    /// The first month (`YYYY-MM`); from the first file when absent.
    #[param(value_type = Option<String>, pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2026-01")]
    pub period_from: Option<String>,
    /// The last month (`YYYY-MM`); to the last file when absent.
    #[param(value_type = Option<String>, pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2026-12")]
    pub period_to: Option<String>,
}

/// A month's revenue.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MonthRevenue {
    #[schema(example = "2026-01")]
    pub period: String,
    /// In the base currency, exact decimal text.
    #[schema(example = "1204.5")]
    pub revenue: String,
    pub quantity: i64,
}

/// One of the highest groups of a dimension.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TopOut {
    pub name: String,
    /// Its identifiers: the ISRC of a track, the UPC of a release, a
    /// territory's code; the normalised name it is grouped by otherwise.
    pub ids: Vec<String>,
    /// In the base currency, exact decimal text.
    pub revenue: String,
    pub quantity: i64,
}

impl TopOut {
    fn of(dimension: Dimension, r: SnapshotRow) -> Self {
        let mut ids: Vec<String> = [r.isrc, r.upc].into_iter().flatten().collect();
        if ids.is_empty() {
            let key = r.key.replace('\u{1f}', " – ");
            // Territories are keyed by their code, as ISO writes it.
            ids.push(match dimension {
                Dimension::Territory => key.to_uppercase(),
                _ => key,
            });
        }
        TopOut {
            name: r.name,
            ids,
            revenue: r.base_revenue.to_string(),
            quantity: r.quantity,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct FileCounts {
    /// PROCESSED or FINALIZED.
    pub processed: i64,
    pub failed: i64,
    /// Uploaded and not yet processed, or being processed.
    pub in_progress: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnmatchedOut {
    /// Revenue of the period not matched to the catalog (waiting for
    /// review or unmatched), in the base currency, exact decimal text.
    pub revenue: String,
    /// Its share of the period's revenue, 0 to 1 (4 decimals).
    pub share: f64,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct StatementCounts {
    pub draft: i64,
    pub approved: i64,
}

/// The organisation's figures over the months asked for.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DashboardOut {
    pub period_from: Option<String>,
    pub period_to: Option<String>,
    /// The organisation's base currency, of every amount.
    pub currency: String,
    /// Revenue of the processed files reporting in each month, oldest first.
    pub revenue_by_month: Vec<MonthRevenue>,
    /// The period's revenue, exact decimal text.
    pub total_revenue: String,
    pub top_artists: Vec<TopOut>,
    pub top_tracks: Vec<TopOut>,
    pub top_releases: Vec<TopOut>,
    pub top_dsps: Vec<TopOut>,
    pub top_territories: Vec<TopOut>,
    pub files: FileCounts,
    pub unmatched: UnmatchedOut,
    pub statements: StatementCounts,
}

/// The organisation's dashboard: revenue by month, the top artists,
/// tracks, releases, stores and territories, files by status, the revenue
/// not matched to the catalog and its share, statements by status. Each
/// top list merges every file's highest 500 groups of its dimension.
#[utoipa::path(
    tag = "dashboard",
    security(("api_key" = []), ("bearer" = [])),
    params(DashboardQuery),
    responses(
        (status = 200, description = "The figures", body = DashboardOut),
        (status = 400, description = "A malformed month, or no organisation given or active", body = ErrorBody),
        (status = 404, description = "No such organisation of the caller's", body = ErrorBody),
    ),
)]
#[get("/api/dashboard/")]
pub async fn dashboard(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<DashboardQuery>,
) -> Result<web::Json<std::sync::Arc<DashboardOut>>, ApiError> {
    let DashboardQuery {
        organisation,
        period_from,
        period_to,
    } = query.into_inner();
    months(&period_from, &period_to)?;
    let org = organisation_for(&state, &auth, organisation, Permission::View).await?;
    let (within_from, within_to) = (period_from.clone(), period_to.clone());
    let (organisation, files, by_status) = state
        .db
        .run(move |conn| {
            let organisation = Organisation::find(conn, org)?;
            let (files, _) = SalesFile::list(conn, org, &ListFilter::default(), 0, MAX_FILES)?;
            let by_status = oas_db::statements::StatementRecord::counts(
                conn,
                org,
                within_from.as_deref(),
                within_to.as_deref(),
            )?;
            Ok::<_, oas_db::DbError>((organisation, files, by_status))
        })
        .await?;
    let mut statements = StatementCounts::default();
    for (status, n) in &by_status {
        match status.as_str() {
            oas_db::statements::DRAFT => statements.draft += n,
            oas_db::statements::APPROVED | oas_db::statements::SENT => statements.approved += n,
            _ => {}
        }
    }
    // An answer kept stands while the files and the statements do.
    let print = fingerprint(&files)
        ^ (statements.draft as u64).rotate_left(21)
        ^ (statements.approved as u64).rotate_left(42);
    let asked = (org, period_from.clone(), period_to.clone());
    if let Ok(kept) = state.dashboards.lock()
        && let Some((known, at, answer)) = kept.get(&asked)
        && *known == print
        && at.elapsed() < KEPT
    {
        return Ok(web::Json(answer.clone()));
    }
    let (from, to) = (period_from.as_deref(), period_to.as_deref());
    let mut counts = FileCounts::default();
    let mut processed: Vec<i64> = Vec::new();
    for file in &files {
        let known = file.reporting_period.is_some() || file.period_from.is_some();
        let status = FileStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == file.status);
        match status {
            Some(FileStatus::Processed | FileStatus::Finalized) => {
                // By the month it reports, as its revenue is shown by
                // month; one that says none only when no month is asked.
                let reported = match (&file.reporting_period, from.or(to)) {
                    (_, None) => true,
                    (Some(month), Some(_)) => {
                        from.is_none_or(|f| month.as_str() >= f)
                            && to.is_none_or(|t| month.as_str() <= t)
                    }
                    (None, Some(_)) => false,
                };
                if reported {
                    counts.processed += 1;
                    processed.push(file.id);
                }
            }
            Some(FileStatus::Failed) => {
                if !known || in_period(file, from, to) {
                    counts.failed += 1;
                }
            }
            _ => {
                if !known || in_period(file, from, to) {
                    counts.in_progress += 1;
                }
            }
        }
    }
    let snapshots = &state.snapshots;
    let totals = snapshots
        .totals_of(&processed)
        .await
        .map_err(ApiError::internal)?;
    let revenue_by_month = by_period(&totals)
        .into_iter()
        .filter(|p| {
            from.is_none_or(|f| p.period.as_str() >= f) && to.is_none_or(|t| p.period.as_str() <= t)
        })
        .map(|p| MonthRevenue {
            period: p.period,
            revenue: p.base_revenue.to_string(),
            quantity: p.quantity,
        })
        .collect();
    let total: Amount = totals.iter().map(|t| t.base_revenue).sum();
    let mut tops = Vec::with_capacity(Dimension::ALL.len());
    for dimension in Dimension::ALL {
        let rows = snapshots
            .top_of(&processed, dimension, TOP)
            .await
            .map_err(ApiError::internal)?;
        tops.push(
            rows.into_iter()
                .map(|r| TopOut::of(dimension, r))
                .collect::<Vec<_>>(),
        );
    }
    let ids = processed.clone();
    let (waiting, matched_files) = state
        .db
        .run(move |conn| {
            Ok::<_, oas_db::DbError>((
                waiting_revenue(conn, org, &ids)?,
                files_with_items(conn, org, &ids)?,
            ))
        })
        .await?;
    // A file without usage items was never matched (no catalog then, or
    // not yet): all its revenue waits for the catalog.
    let mut unmatched: Amount = totals
        .iter()
        .filter(|t| matched_files.binary_search(&t.file_id).is_err())
        .map(|t| t.base_revenue)
        .sum();
    for revenue in &waiting {
        unmatched += Amount::parse_total(revenue).map_err(|_| {
            ApiError::internal(anyhow::anyhow!(
                "a usage item's revenue {revenue:?} is not exact"
            ))
        })?;
    }
    let share = share_of(unmatched, total);
    let [artists, dsps, territories, tracks, releases]: [Vec<TopOut>; 5] = tops
        .try_into()
        .map_err(|_| ApiError::internal(anyhow::anyhow!("five dimensions")))?;
    let answer = std::sync::Arc::new(DashboardOut {
        period_from,
        period_to,
        currency: organisation.base_currency,
        revenue_by_month,
        total_revenue: total.to_string(),
        top_artists: artists,
        top_tracks: tracks,
        top_releases: releases,
        top_dsps: dsps,
        top_territories: territories,
        files: counts,
        unmatched: UnmatchedOut {
            revenue: unmatched.to_string(),
            share,
        },
        statements,
    });
    if let Ok(mut kept) = state.dashboards.lock() {
        if kept.len() >= KEPT_ANSWERS {
            kept.clear();
        }
        kept.insert(asked, (print, std::time::Instant::now(), answer.clone()));
    }
    Ok(web::Json(answer))
}

/// `part` of `whole`, 0 to 1, to 4 decimals (0 of nothing).
fn share_of(part: Amount, whole: Amount) -> f64 {
    if whole.is_zero() {
        return 0.0;
    }
    let (part, whole) = (part.to_fixed(6), whole.to_fixed(6));
    match (part.parse::<f64>(), whole.parse::<f64>()) {
        (Ok(p), Ok(w)) if w != 0.0 => ((p / w) * 10_000.0).round() / 10_000.0,
        _ => 0.0,
    }
}
