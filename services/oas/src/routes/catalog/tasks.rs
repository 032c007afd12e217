//! Work on the catalog as a whole: a catalog generated from usage, and an
//! audit of the catalog against the usage of a period.

use std::collections::BTreeMap;
use std::time::Duration;

use actix_web::{HttpResponse, get, post, web};
use chrono::Utc;
use oas_db::catalog::{CatalogAuditRecord, NewCatalogAudit};
use oas_db::sales_files::SalesFile;
use oas_domain::access::Permission;
use oas_domain::catalog::ImportStatus as TaskStatus;
use oas_domain::file::FileStatus;
use oas_platform::storage::{ObjectKey, ObjectStore, PresignMethod};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::{OrganisationQuery, organisation_for};
use crate::access;
use crate::auth::Authenticated;
use crate::http::error::ErrorBody;
use crate::http::{ApiError, ApiJson};
use crate::state::AppState;

/// How long an audit's download link works.
const DOWNLOAD_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// Whether `value` is a month written `YYYY-MM` (months compare as text).
fn is_month(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == 7
        && bytes[4] == b'-'
        && bytes[..4].iter().chain(&bytes[5..]).all(u8::is_ascii_digit)
        && matches!(value[5..].parse::<u8>(), Ok(1..=12))
}

/// `period_from` and `period_to`, each a month (`YYYY-MM`), in order.
pub(crate) fn months(from: &Option<String>, to: &Option<String>) -> Result<(), ApiError> {
    for (name, value) in [("period_from", from), ("period_to", to)] {
        if let Some(value) = value
            && !is_month(value)
        {
            return Err(ApiError::field(name, "A month, YYYY-MM."));
        }
    }
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        return Err(ApiError::field(
            "period_to",
            "The period ends before it starts.",
        ));
    }
    Ok(())
}

/// Whether `file` reports or covers a month from `from` to `to`.
pub(crate) fn in_period(file: &SalesFile, from: Option<&str>, to: Option<&str>) -> bool {
    if from.is_none() && to.is_none() {
        return true;
    }
    let (from, to) = (from.unwrap_or("0000-01"), to.unwrap_or("9999-12"));
    let reported = file
        .reporting_period
        .as_deref()
        .is_some_and(|p| p >= from && p <= to);
    let covered = match (file.period_from.as_deref(), file.period_to.as_deref()) {
        (Some(first), Some(last)) => first <= to && last >= from,
        _ => false,
    };
    reported || covered
}

/// Which usage to build the catalog from.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateRequest {
    /// A month (`YYYY-MM`): files reporting or covering it or a later one.
    #[schema(value_type = Option<String>, pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2026-01")]
    pub period_from: Option<String>,
    /// A month (`YYYY-MM`): files reporting or covering it or an earlier one.
    #[schema(value_type = Option<String>, pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2026-06")]
    pub period_to: Option<String>,
    /// File ids; every processed file of the organisation when absent.
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_items = 1, max_items = 1000)]
    pub files: Option<Vec<i64>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SkippedFile {
    pub file: i64,
    pub detail: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GenerateStarted {
    /// The module run, at /api/jobs/{id}/: its output says how many
    /// tracks were added.
    pub job: String,
    /// How many files it reads.
    pub files: i64,
    /// Files named but not read, and why.
    pub skipped: Vec<SkippedFile>,
}

/// Build or extend the catalog from the usage of processed files: one
/// track per ISRC, one release per UPC, recordings without an ISRC by
/// artist and title; the spelling most lines use names each. Tracks the
/// catalog has are left as they are (`source: "usage"` marks the new
/// ones). Match the files again afterwards (`POST /api/catalog/match/`).
#[utoipa::path(
    tag = "catalog",
    security(("api_key" = []), ("bearer" = [])),
    params(OrganisationQuery),
    request_body = GenerateRequest,
    responses(
        (status = 202, description = "Started", body = GenerateStarted),
        (status = 400, description = "Invalid input, or no organisation given or active", body = ErrorBody),
        (status = 403, description = "The caller's role may not change the catalog", body = ErrorBody),
        (status = 404, description = "No such organisation, or a file not of it", body = ErrorBody),
        (status = 409, description = "No processed file to read", body = ErrorBody),
    ),
)]
#[post("/api/catalog/generate/")]
pub async fn generate_catalog(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<OrganisationQuery>,
    body: ApiJson<GenerateRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.0;
    months(&request.period_from, &request.period_to)?;
    let org = organisation_for(&state, &auth, query.organisation, Permission::ProcessFiles).await?;
    let mut skipped = Vec::new();
    let candidates = super::files_named(&state, org, request.files).await?;
    let (from, to) = (request.period_from.as_deref(), request.period_to.as_deref());
    let mut files = Vec::new();
    for file in candidates {
        let processed = [FileStatus::Processed, FileStatus::Finalized]
            .iter()
            .any(|s| s.as_str() == file.status);
        if !processed {
            skipped.push(SkippedFile {
                file: file.id,
                detail: format!(
                    "Its status is {}: only PROCESSED and FINALIZED files have lines to read.",
                    file.status
                ),
            });
        } else if in_period(&file, from, to) {
            files.push(file);
        }
    }
    if files.is_empty() {
        return Err(ApiError::conflict(
            "No processed file of the organisation is in the period or among the files named: import sales files first.",
        ));
    }
    let job = crate::workflows::catalog_tasks::generate(&state, org, &files).await?;
    Ok(HttpResponse::Accepted().json(GenerateStarted {
        job: job.id,
        files: files.len() as i64,
        skipped,
    }))
}

/// The period an audit looks at.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditRequest {
    /// A month (`YYYY-MM`): the usage of files reporting or covering it or
    /// a later one.
    #[schema(value_type = Option<String>, pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2026-01")]
    pub period_from: Option<String>,
    /// A month (`YYYY-MM`): … it or an earlier one.
    #[schema(value_type = Option<String>, pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2026-06")]
    pub period_to: Option<String>,
}

/// A catalog audit.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditOut {
    pub id: i64,
    /// PROCESSING, DONE or FAILED.
    #[schema(example = "DONE")]
    pub status: String,
    pub status_cause: Option<String>,
    pub period_from: Option<String>,
    pub period_to: Option<String>,
    /// Findings of each kind (once DONE): `unmatched_usage`,
    /// `review_usage`, `duplicate_isrc`, `duplicate_gtin`,
    /// `isrc_names_differ` (one ISRC reported under several titles or
    /// artists), `upc_titles_differ` (one UPC under several release
    /// titles), `metadata_differs` (the stores name a catalog track
    /// otherwise), `invalid_identifier`, `track_without_isrc`,
    /// `release_without_upc`, `track_without_release`,
    /// `track_without_usage`.
    #[schema(value_type = Object, example = json!({"unmatched_usage": 12, "duplicate_isrc": 2}))]
    pub counts: BTreeMap<String, u64>,
    pub findings: Option<i64>,
    /// The period's revenue in review or unmatched, in the base currency,
    /// exact decimal text.
    #[schema(example = "1204.5")]
    pub revenue_at_stake: Option<String>,
    /// Once DONE: the findings as a gzipped CSV file (finding, severity,
    /// track_id, release_id, isrc, upc, artist, title, files, lines,
    /// revenue, detail), the most severe and the most money first.
    pub download_url: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<chrono::DateTime<Utc>>,
    /// The module run, at /api/jobs/{id}/ (when just started).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: chrono::DateTime<Utc>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: chrono::DateTime<Utc>,
}

impl From<CatalogAuditRecord> for AuditOut {
    fn from(r: CatalogAuditRecord) -> Self {
        AuditOut {
            id: r.id,
            status: r.status,
            status_cause: r.status_cause,
            period_from: r.period_from,
            period_to: r.period_to,
            counts: r
                .counts
                .as_deref()
                .and_then(|c| serde_json::from_str(c).ok())
                .unwrap_or_default(),
            findings: r.findings,
            revenue_at_stake: r.revenue_at_stake,
            download_url: None,
            expires_at: None,
            job: None,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// Audit the catalog: on its own (an ISRC on two tracks, a GTIN on two
/// releases, tracks without an ISRC or a release, releases without a valid
/// UPC) and against the usage of the period (recordings it does not
/// account for, one ISRC or UPC reported under several names, recordings
/// the stores name otherwise, identifiers failing their check, tracks
/// without usage).
#[utoipa::path(
    tag = "catalog",
    security(("api_key" = []), ("bearer" = [])),
    params(OrganisationQuery),
    request_body = AuditRequest,
    responses(
        (status = 202, description = "Started: follow it at /api/catalog/audits/{id}/", body = AuditOut),
        (status = 400, description = "Invalid input, or no organisation given or active", body = ErrorBody),
        (status = 403, description = "The caller's role may not process files", body = ErrorBody),
        (status = 404, description = "No such organisation of the caller's", body = ErrorBody),
    ),
)]
#[post("/api/catalog/audit/")]
pub async fn start_audit(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<OrganisationQuery>,
    body: ApiJson<AuditRequest>,
) -> Result<HttpResponse, ApiError> {
    let request = body.0;
    months(&request.period_from, &request.period_to)?;
    let org = organisation_for(&state, &auth, query.organisation, Permission::ProcessFiles).await?;
    let created_by = auth.user.id;
    let now = Utc::now().naive_utc();
    let audit = state
        .db
        .run(move |conn| {
            CatalogAuditRecord::insert(
                conn,
                &NewCatalogAudit {
                    organisation_id: org,
                    period_from: request.period_from.as_deref(),
                    period_to: request.period_to.as_deref(),
                    status: TaskStatus::Processing.as_str(),
                    created_by: Some(created_by),
                    created_at: now,
                    updated_at: now,
                },
            )
        })
        .await?;
    let job = crate::workflows::catalog_tasks::audit(&state, &audit).await?;
    let mut out = AuditOut::from(audit);
    out.job = Some(job.id);
    Ok(HttpResponse::Accepted().json(out))
}

/// One catalog audit: its status, counts and, once DONE, a link to its
/// findings (valid 24 hours).
#[utoipa::path(
    tag = "catalog",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Audit id")),
    responses(
        (status = 200, description = "The audit", body = AuditOut),
        (status = 404, description = "No such audit of the caller's organisations", body = ErrorBody),
    ),
)]
#[get("/api/catalog/audits/{id}/")]
pub async fn get_audit(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> Result<web::Json<AuditOut>, ApiError> {
    let id = *id;
    let audit = state
        .db
        .run(move |conn| CatalogAuditRecord::find(conn, id))
        .await?;
    access::require_for_object(&state, &auth, audit.organisation_id, Permission::View).await?;
    let done = audit.status == TaskStatus::Done.as_str();
    let key = audit.result_key.clone();
    let mut out = AuditOut::from(audit);
    if let (true, Some(key)) = (done, key) {
        let key = ObjectKey::parse(&key).map_err(ApiError::internal)?;
        let url = state
            .storage
            .presign(PresignMethod::Get, &key, DOWNLOAD_TTL)
            .await
            .map_err(ApiError::internal)?;
        out.download_url = Some(url.url);
        out.expires_at = Some(url.expires_at);
    }
    Ok(web::Json(out))
}
