//! Reports of a period's sales lines: `monthly` (the lines matched to the
//! catalog, with the catalog's fields) and `unmatched` (the others), each
//! a gzipped CSV file behind a link valid 24 hours, with its snapshot.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::Utc;
use oas_db::jobs::JobRecord;
use oas_db::reports::{NewReport, ReportRecord};
use oas_db::sales_files::{ListFilter, SalesFile};
use oas_domain::access::Permission;
use oas_domain::file::FileStatus;
use oas_domain::job::Module;
use oas_domain::job::contract::importer;
use oas_domain::job::contract::report::{self, By, Kind};
use oas_platform::snapshots::{Dimension, ReportSnapshot, SnapshotStore};
use oas_platform::storage::{ObjectKey, ObjectStore};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::access;
use crate::auth::Authenticated;
use crate::http::error::ErrorBody;
use crate::http::pagination::{Page, PageQuery, Pagination};
use crate::http::{ApiError, ApiJson};
use crate::routes::catalog::{OrganisationQuery, files_named, in_period, months, organisation_for};
use crate::routes::sales::{GroupCounts, GroupOut};
use crate::state::AppState;
use crate::workflows::reports::{self as workflow, PENDING, RUNNING};

/// Which lines a report holds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportType {
    /// The lines matched to the catalog, with its fields.
    Monthly,
    /// The lines not matched (waiting for review, unmatched, or in a file
    /// not matched yet).
    Unmatched,
}

/// Which month of a line places it in the period.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportBy {
    /// The month of the report the line came in (the default).
    Reporting,
    /// The month of the sale (the reporting month when the line has none).
    Sale,
}

/// A report to write.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    /// `monthly` or `unmatched`.
    #[serde(rename = "type")]
    #[schema(value_type = ReportType)]
    pub kind: String,
    /// One month (`YYYY-MM`); or give `period_from` and `period_to`.
    #[schema(value_type = Option<String>, pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2026-01")]
    pub period: Option<String>,
    /// The first month (`YYYY-MM`).
    #[schema(value_type = Option<String>, pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2026-01")]
    pub period_from: Option<String>,
    /// The last month (`YYYY-MM`); `period_from` when absent.
    #[schema(value_type = Option<String>, pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2026-03")]
    pub period_to: Option<String>,
    /// `reporting` (the default) or `sale`.
    #[schema(value_type = Option<ReportBy>)]
    pub by: Option<String>,
    /// Only these files (ids) of the period; all of them when absent.
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_items = 1, max_items = 1000)]
    pub files: Option<Vec<i64>>,
}

/// A report's totals by dimension, the highest 100 of each.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportSnapshotOut {
    #[serde(rename = "byArtist")]
    pub by_artist: Vec<GroupOut>,
    #[serde(rename = "byDSP")]
    pub by_dsp: Vec<GroupOut>,
    #[serde(rename = "byTerritory")]
    pub by_territory: Vec<GroupOut>,
    #[serde(rename = "byTrack")]
    pub by_track: Vec<GroupOut>,
    #[serde(rename = "byRelease")]
    pub by_release: Vec<GroupOut>,
    /// How many groups each dimension has in all.
    pub counts: GroupCounts,
}

impl From<ReportSnapshot> for ReportSnapshotOut {
    fn from(mut s: ReportSnapshot) -> Self {
        let mut take = |d: Dimension| s.groups.remove(&d).unwrap_or_default();
        let (artist, dsp, territory, track, release) = (
            take(Dimension::Artist),
            take(Dimension::Dsp),
            take(Dimension::Territory),
            take(Dimension::Track),
            take(Dimension::Release),
        );
        let counts = GroupCounts {
            by_artist: artist.count,
            by_dsp: dsp.count,
            by_territory: territory.count,
            by_track: track.count,
            by_release: release.count,
        };
        let out = |rows: Vec<oas_platform::snapshots::SnapshotRow>| {
            rows.into_iter().map(GroupOut::from).collect()
        };
        ReportSnapshotOut {
            by_artist: out(artist.top),
            by_dsp: out(dsp.top),
            by_territory: out(territory.top),
            by_track: out(track.top),
            by_release: out(release.top),
            counts,
        }
    }
}

/// A report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportOut {
    pub id: i64,
    /// `monthly` or `unmatched`.
    #[serde(rename = "type")]
    #[schema(example = "monthly")]
    pub kind: String,
    #[schema(example = "2026-01")]
    pub period_from: String,
    #[schema(example = "2026-01")]
    pub period_to: String,
    /// `reporting` or `sale`.
    pub by: String,
    /// The files asked for; all the period's when null.
    pub files: Option<Vec<i64>>,
    /// PENDING, RUNNING, READY or FAILED.
    #[schema(example = "READY")]
    pub status: String,
    /// Why it failed; for a READY report, files of the period left out
    /// or still being matched.
    pub status_cause: Option<String>,
    /// Lines in the file (once READY).
    pub rows: Option<i64>,
    /// What they add up to in `currency`, exact decimal text.
    #[schema(example = "1204.5")]
    pub total_revenue: Option<String>,
    /// The organisation's base currency.
    pub currency: Option<String>,
    pub quantity: Option<i64>,
    /// Once READY: the gzipped CSV file, for 24 hours (a fresh link:
    /// `POST /api/reports/{id}/link/`).
    pub download_url: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<chrono::DateTime<Utc>>,
    /// Once READY: its totals by artist, DSP, territory, track and release.
    pub snapshot: Option<ReportSnapshotOut>,
    /// The module run, at /api/jobs/{id}/.
    pub job: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: chrono::DateTime<Utc>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: chrono::DateTime<Utc>,
}

impl From<ReportRecord> for ReportOut {
    fn from(r: ReportRecord) -> Self {
        ReportOut {
            id: r.id,
            kind: r.kind,
            period_from: r.period_from,
            period_to: r.period_to,
            by: r.by_period,
            files: r
                .files
                .as_deref()
                .and_then(|f| serde_json::from_str(f).ok()),
            status: r.status,
            status_cause: r.status_cause,
            rows: r.row_count,
            total_revenue: r.total_revenue,
            currency: r.currency,
            quantity: r.quantity,
            download_url: None,
            expires_at: None,
            snapshot: None,
            job: r.job_id,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// The report as the API shows it: RUNNING while its run runs, and once
/// READY its link and snapshot.
async fn shown(state: &AppState, report: ReportRecord, full: bool) -> Result<ReportOut, ApiError> {
    let running = match (&report.job_id, report.status.as_str()) {
        (Some(job), PENDING) => {
            let job = job.clone();
            match state
                .db
                .run(move |conn| oas_db::jobs::JobRecord::find(conn, &job))
                .await
            {
                Ok(job) => job.status == oas_db::jobs::RUNNING,
                Err(oas_db::DbError::NotFound) => false,
                Err(e) => return Err(e.into()),
            }
        }
        _ => false,
    };
    let link = if full {
        workflow::link(state, &report).await?
    } else {
        None
    };
    let snapshot = if full && report.status == workflow::READY {
        state
            .snapshots
            .report(report.id)
            .await
            .map_err(ApiError::internal)?
    } else {
        None
    };
    let mut out = ReportOut::from(report);
    if running {
        out.status = RUNNING.to_owned();
    }
    if let Some((url, expires_at)) = link {
        out.download_url = Some(url);
        out.expires_at = Some(expires_at);
    }
    out.snapshot = snapshot.map(ReportSnapshotOut::from);
    Ok(out)
}

/// Busy files of the organisation whose lines could fall in the period:
/// a report cannot hold them yet.
pub(crate) async fn still_busy(
    state: &AppState,
    org: i64,
    from: &str,
    to: &str,
) -> Result<Vec<SalesFile>, ApiError> {
    let busy = [
        FileStatus::Cleaning,
        FileStatus::Cleaned,
        FileStatus::Processing,
        FileStatus::Reimport,
    ];
    let mut files = Vec::new();
    for status in busy {
        let (rows, _) = state
            .db
            .run(move |conn| {
                let filter = ListFilter {
                    status: Some(status.as_str()),
                    ..Default::default()
                };
                SalesFile::list(conn, org, &filter, 0, 1000)
            })
            .await?;
        files.extend(rows.into_iter().filter(|f| {
            let known = f.reporting_period.is_some() || f.period_from.is_some();
            !known || in_period(f, Some(from), Some(to))
        }));
    }
    Ok(files)
}

pub(crate) fn names(files: &[SalesFile]) -> String {
    let mut named: Vec<String> = files
        .iter()
        .take(5)
        .map(|f| format!("{} (file {}, {})", f.filename, f.id, f.status))
        .collect();
    if files.len() > 5 {
        named.push(format!("and {} more", files.len() - 5));
    }
    named.join(", ")
}

/// The files a report reads, and those it cannot.
pub(crate) struct Selection {
    /// What the module reads.
    pub sources: Vec<report::Source>,
    /// The files read.
    pub processed: Vec<SalesFile>,
    /// Files not PROCESSED, or with no line in the period.
    pub left_out: Vec<SalesFile>,
    /// Processed files that say no month.
    pub undated: Vec<SalesFile>,
    /// Processed files without an import to read.
    pub unimported: Vec<SalesFile>,
}

/// Which of `candidates` hold lines of the months `from` to `to`, counted
/// `by` reporting or sale month: for reporting months, the months the
/// file's lines were stored with, as its latest import recorded them (a
/// line's own reporting month may lie outside the months its sales
/// cover); for sale months, the months its lines cover.
pub(crate) async fn select(
    state: &AppState,
    candidates: Vec<SalesFile>,
    by: By,
    from: &str,
    to: &str,
) -> Result<Selection, ApiError> {
    let is_processed = |f: &SalesFile| {
        [FileStatus::Processed, FileStatus::Finalized]
            .iter()
            .any(|s| s.as_str() == f.status)
    };
    let ids: Vec<i64> = candidates
        .iter()
        .filter(|f| is_processed(f))
        .map(|f| f.id)
        .collect();
    let outputs = state
        .db
        .run(move |conn| {
            ids.into_iter()
                .map(|id| {
                    JobRecord::latest_output(conn, id, Module::Importer.as_str()).map(|o| (id, o))
                })
                .collect::<Result<HashMap<_, _>, _>>()
        })
        .await?;
    let mut selection = Selection {
        sources: Vec::new(),
        processed: Vec::new(),
        left_out: Vec::new(),
        undated: Vec::new(),
        unimported: Vec::new(),
    };
    for file in candidates {
        if !is_processed(&file) {
            selection.left_out.push(file);
            continue;
        }
        let output = outputs
            .get(&file.id)
            .and_then(Option::as_deref)
            .and_then(|o| serde_json::from_str::<importer::Output>(o).ok());
        let Some(output) = output else {
            selection.unimported.push(file);
            continue;
        };
        let reported = output
            .reporting_from
            .as_deref()
            .zip(output.reporting_to.as_deref());
        let in_range = match (by, reported) {
            (By::Reporting, Some((first, last))) => first <= to && last >= from,
            _ => in_period(&file, Some(from), Some(to)),
        };
        let dated =
            reported.is_some() || file.reporting_period.is_some() || file.period_from.is_some();
        if !dated {
            selection.undated.push(file);
        } else if !in_range {
            selection.left_out.push(file);
        } else {
            selection.sources.push(report::Source {
                file_id: file.id,
                name: file.filename.clone(),
                parquet_key: output.parquet_key.clone(),
                period: file.reporting_period.clone().or(output.period.clone()),
            });
            selection.processed.push(file);
        }
    }
    Ok(selection)
}

/// Ask for a report of a period: `monthly` holds every line matched to the
/// catalog, with the catalog's fields beside the line's; `unmatched` every
/// other line. Together they hold each line of the period's files once,
/// and add up to the files' totals exactly. When it is READY, the
/// requester is emailed a link to it (valid 24 hours).
#[utoipa::path(
    tag = "reports",
    security(("api_key" = []), ("bearer" = [])),
    params(OrganisationQuery),
    request_body = ReportRequest,
    responses(
        (status = 202, description = "Asked for: follow it at /api/reports/{id}/", body = ReportOut),
        (status = 400, description = "An unknown type, a malformed period, or no organisation given or active", body = ErrorBody),
        (status = 403, description = "The caller's role may not ask for reports", body = ErrorBody),
        (status = 404, description = "No such organisation, or a file not of it", body = ErrorBody),
    ),
)]
#[post("/api/reports/")]
pub async fn create_report(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<OrganisationQuery>,
    body: ApiJson<ReportRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.0;
    let Some(kind) = workflow::kind_of(&request.kind) else {
        return Err(ApiError::field(
            "type",
            "Either \"monthly\" or \"unmatched\".",
        ));
    };
    let by = match request.by.as_deref() {
        None => By::Reporting,
        Some(name) => By::ALL
            .into_iter()
            .find(|b| b.as_str() == name)
            .ok_or_else(|| ApiError::field("by", "Either \"reporting\" or \"sale\"."))?,
    };
    let (from, to) = match (request.period, request.period_from, request.period_to) {
        (Some(period), None, None) => {
            months(&Some(period.clone()), &None)
                .map_err(|_| ApiError::field("period", "A month, YYYY-MM."))?;
            (period.clone(), period)
        }
        (Some(_), _, _) => {
            return Err(ApiError::field(
                "period",
                "Give either period or period_from and period_to, not both.",
            ));
        }
        (None, Some(from), to) => {
            let to = to.unwrap_or_else(|| from.clone());
            months(&Some(from.clone()), &Some(to.clone()))?;
            (from, to)
        }
        (None, None, _) => {
            return Err(ApiError::field(
                "period",
                "Name the month (period) or the months (period_from, period_to).",
            ));
        }
    };
    let org =
        organisation_for(&state, &auth, query.organisation, Permission::CreateReports).await?;
    let named = request.files.clone();
    let candidates = files_named(&state, org, request.files).await?;
    let Selection {
        sources,
        processed,
        left_out,
        undated,
        unimported,
    } = select(&state, candidates, by, &from, &to).await?;
    let busy = still_busy(&state, org, &from, &to).await?;
    let unmatched_yet: Vec<SalesFile> = processed
        .iter()
        .filter(|f| f.status == FileStatus::Processed.as_str())
        .cloned()
        .collect();
    let mut notes = Vec::new();
    if !busy.is_empty() {
        notes.push(format!(
            "{} file(s) of the period are still being processed and are not in this report: {}. Ask for it again once they are PROCESSED.",
            busy.len(),
            names(&busy)
        ));
    }
    // Files named but not read, and why.
    if named.is_some() && !left_out.is_empty() {
        notes.push(format!(
            "{} of the files named are not in the report, not PROCESSED or outside the period: {}.",
            left_out.len(),
            names(&left_out)
        ));
    }
    if !unimported.is_empty() {
        notes.push(format!(
            "{} processed file(s) have no imported lines to read and are not in the report: {}. Reimport them.",
            unimported.len(),
            names(&unimported)
        ));
    }
    if !undated.is_empty() {
        notes.push(format!(
            "{} processed file(s) say no month, so no period's report holds their lines: {}. Upload them again with their reporting_period.",
            undated.len(),
            names(&undated)
        ));
    }
    if !unmatched_yet.is_empty() && kind == Kind::Monthly {
        notes.push(format!(
            "{} file(s) are not matched to the catalog yet (PROCESSED, not FINALIZED): their lines are in the unmatched report: {}.",
            unmatched_yet.len(),
            names(&unmatched_yet)
        ));
    }
    let cause = (!notes.is_empty()).then(|| notes.join(" "));
    let created_by = auth.user.id;
    let now = Utc::now().naive_utc();
    let files_json = named.map(|ids| serde_json::to_string(&ids).unwrap_or_default());
    let (kind_name, by_name) = (kind.as_str(), by.as_str());
    let (period_from, period_to) = (from.clone(), to.clone());
    let report = state
        .db
        .run(move |conn| {
            let report = ReportRecord::insert(
                conn,
                &NewReport {
                    organisation_id: org,
                    kind: kind_name,
                    period_from: &period_from,
                    period_to: &period_to,
                    by_period: by_name,
                    files: files_json,
                    status: PENDING,
                    created_by: Some(created_by),
                    created_at: now,
                    updated_at: now,
                },
            )?;
            if let Some(cause) = cause {
                let change = oas_db::reports::ReportChange {
                    status_cause: Some(Some(cause)),
                    ..Default::default()
                };
                ReportRecord::transition(conn, report.id, PENDING, &change)?;
            }
            ReportRecord::find(conn, report.id)
        })
        .await?;
    let job = match workflow::start(&state, &report, sources).await {
        Ok(job) => job,
        Err(e) => {
            let change = workflow::failing(format!("The report could not be started: {e}."));
            let id = report.id;
            state
                .db
                .run(move |conn| ReportRecord::transition(conn, id, PENDING, &change))
                .await?;
            return Err(e.into());
        }
    };
    let mut out = ReportOut::from(report);
    out.job = Some(job.id);
    Ok(HttpResponse::Accepted().json(out))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportsQuery {
    /// The organisation; the caller's active one by default.
    pub organisation: Option<i64>,
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1)]
    pub page_size: Option<i64>,
}

/// The organisation's reports, newest first.
#[utoipa::path(
    tag = "reports",
    security(("api_key" = []), ("bearer" = [])),
    params(ReportsQuery),
    responses(
        (status = 200, description = "A page of reports (without links or snapshots: read one for them)", body = Page<ReportOut>),
        (status = 400, description = "A bad page, or no organisation given or active", body = ErrorBody),
        (status = 404, description = "No such organisation of the caller's, or no such page", body = ErrorBody),
    ),
)]
#[get("/api/reports/")]
pub async fn list_reports(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<ReportsQuery>,
) -> Result<web::Json<Page<ReportOut>>, ApiError> {
    let ReportsQuery {
        organisation,
        page,
        page_size,
    } = query.into_inner();
    let org = organisation_for(&state, &auth, organisation, Permission::View).await?;
    let pagination = Pagination::new(&PageQuery { page, page_size }, &state.settings)?;
    let (offset, limit) = (pagination.offset(), pagination.limit());
    let (reports, count) = state
        .db
        .run(move |conn| ReportRecord::page(conn, org, offset, limit))
        .await?;
    let mut shown_reports = Vec::with_capacity(reports.len());
    for report in reports {
        shown_reports.push(shown(&state, report, false).await?);
    }
    Ok(web::Json(Page::new(
        &req,
        &state.settings,
        pagination,
        count as u64,
        shown_reports,
    )?))
}

/// The report of the caller's organisations with this id.
async fn report_for(
    state: &AppState,
    auth: &Authenticated,
    id: i64,
    permission: Permission,
) -> Result<ReportRecord, ApiError> {
    let report = state
        .db
        .run(move |conn| ReportRecord::find(conn, id))
        .await?;
    access::require_for_object(state, auth, report.organisation_id, permission).await?;
    Ok(report)
}

/// One report: its status and, once READY, its rows, totals, snapshot and
/// a download link valid 24 hours.
#[utoipa::path(
    tag = "reports",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Report id")),
    responses(
        (status = 200, description = "The report", body = ReportOut),
        (status = 404, description = "No such report of the caller's organisations", body = ErrorBody),
    ),
)]
#[get("/api/reports/{id}/")]
pub async fn get_report(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> Result<web::Json<ReportOut>, ApiError> {
    let report = report_for(&state, &auth, *id, Permission::View).await?;
    Ok(web::Json(shown(&state, report, true).await?))
}

/// A download link to a READY report.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkOut {
    pub download_url: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: chrono::DateTime<Utc>,
}

/// A fresh download link to a READY report, valid 24 hours (the one
/// emailed, or shown earlier, may have expired).
#[utoipa::path(
    tag = "reports",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Report id")),
    responses(
        (status = 200, description = "The link", body = LinkOut),
        (status = 404, description = "No such report of the caller's organisations", body = ErrorBody),
        (status = 409, description = "The report is not READY", body = ErrorBody),
    ),
)]
#[post("/api/reports/{id}/link/")]
pub async fn report_link(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> Result<web::Json<LinkOut>, ApiError> {
    let report = report_for(&state, &auth, *id, Permission::View).await?;
    let status = report.status.clone();
    match workflow::link(&state, &report).await? {
        Some((download_url, expires_at)) => Ok(web::Json(LinkOut {
            download_url,
            expires_at,
        })),
        None => Err(ApiError::conflict(format!(
            "The report is {status}: only a READY report has a file to download."
        ))),
    }
}

/// Delete a report, its file and its snapshot. A report still being
/// written is deleted too; its run's end then changes nothing.
#[utoipa::path(
    tag = "reports",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Report id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "The caller's role may not delete reports", body = ErrorBody),
        (status = 404, description = "No such report of the caller's organisations", body = ErrorBody),
    ),
)]
#[delete("/api/reports/{id}/")]
pub async fn delete_report(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let report = report_for(&state, &auth, *id, Permission::CreateReports).await?;
    let id = report.id;
    // The record first: a run that ends after this finds no report and
    // removes what it wrote (`workflows::reports::ended`).
    state
        .db
        .run(move |conn| ReportRecord::delete(conn, id))
        .await?;
    let key = oas_platform::storage::report_key(report.organisation_id, id)
        .map_err(ApiError::internal)?;
    state
        .storage
        .delete(&key)
        .await
        .map_err(ApiError::internal)?;
    if let Some(stored) = report
        .result_key
        .as_deref()
        .and_then(|k| ObjectKey::parse(k).ok())
        && stored.as_str() != key.as_str()
    {
        state
            .storage
            .delete(&stored)
            .await
            .map_err(ApiError::internal)?;
    }
    state
        .snapshots
        .delete_report(id)
        .await
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::NoContent().finish())
}
