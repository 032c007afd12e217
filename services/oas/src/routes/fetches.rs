//! Automatic uploads: a Google Drive, Dropbox, FTP, FTPS or SFTP link
//! fetched once (`/api/files/upload_automatically/`), or saved as a source
//! OAS polls on a schedule (`/api/sources/`). Each fetch is a batch: the
//! files found, what each became, and what was left and why. The gateway
//! never fetches a link itself: the uploads module does.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{NaiveDateTime, Utc};
use oas_db::fetches::{self as batches, FetchBatch, NewSource, Source, SourceChange};
use oas_db::sales_files::SalesFile;
use oas_domain::access::Permission;
use oas_domain::fetch::{Link, parse_link};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::access;
use crate::auth::Authenticated;
use crate::http::error::ErrorBody;
use crate::http::pagination::{Page, PageQuery, Pagination};
use crate::http::time::utc;
use crate::http::{ApiError, ApiJson};
use crate::routes::catalog::organisation_for;
use crate::state::AppState;
use crate::workflows::fetches::{self as workflow, Item};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrganisationOnly {
    /// The organisation; the caller's active one by default.
    pub organisation: Option<i64>,
}

/// A link to fetch.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FetchRequest {
    /// A Google Drive file or folder link shared "Anyone with the link", a
    /// Dropbox shared link, or an `ftp://`, `ftps://` or `sftp://` URL
    /// (`sftp://user:password@host/path`).
    #[validate(required, length(min = 1, max = 2000))]
    #[schema(
        example = "https://drive.google.com/drive/folders/1AbCdEfGhIjKlMnOpQ",
        required = true,
        nullable = false,
        min_length = 1,
        max_length = 2000
    )]
    pub url: Option<String>,
}

/// A file a batch made.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchFileOut {
    /// The sales file: follow it at /api/files/{id}/.
    pub id: i64,
    pub filename: String,
    /// Where it was found below the link.
    pub path: String,
    pub size: Option<u64>,
    #[schema(example = "CLEANING")]
    pub status: String,
    pub status_cause: Option<String>,
}

/// A file a batch found and left.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchSkippedOut {
    pub name: String,
    pub path: String,
    /// `unsupported`, `too_large`, `too_deep`, `too_many`, `seen` (fetched
    /// before by this source), `duplicate` (already imported),
    /// `not_fetched` (could not be read).
    #[schema(example = "duplicate")]
    pub kind: String,
    pub reason: String,
    /// The file it repeats, for a `duplicate`.
    pub duplicate_of: Option<i64>,
}

/// How a batch's files stand.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct BatchCounts {
    pub found: usize,
    pub fetched: usize,
    pub skipped: usize,
    /// Fetched files imported (PROCESSED or FINALIZED).
    pub imported: usize,
    pub failed: usize,
    pub in_progress: usize,
}

/// One fetch of a link.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchOut {
    pub id: i64,
    pub organisation: i64,
    /// The saved source it polled, if any.
    pub source: Option<i64>,
    /// The link, without its password.
    pub url: String,
    /// `GOOGLE_DRIVE`, `DROPBOX` or `FTP`: the upload mode of its files.
    #[schema(example = "GOOGLE_DRIVE")]
    pub upload_mode: String,
    /// `FETCHING`, then `DONE` (whatever each file became) or `FAILED`
    /// (nothing could be fetched: `status_cause` says why).
    #[schema(example = "DONE")]
    pub status: String,
    pub status_cause: Option<String>,
    pub counts: BatchCounts,
    pub files: Vec<BatchFileOut>,
    pub skipped: Vec<BatchSkippedOut>,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
}

async fn shown(state: &AppState, batch: FetchBatch) -> Result<BatchOut, ApiError> {
    let items: Vec<Item> = workflow::items_of(&batch);
    let ids: Vec<i64> = items.iter().filter_map(|i| i.file).collect();
    let files = state
        .db
        .run(move |conn| SalesFile::many(conn, &ids))
        .await?;
    let mut counts = BatchCounts {
        found: items.len(),
        ..Default::default()
    };
    let mut made = Vec::new();
    let mut skipped = Vec::new();
    for item in items {
        match item.file {
            Some(id) => {
                counts.fetched += 1;
                // A file deleted since is no longer the batch's.
                let Some(file) = files.iter().find(|f| f.id == id) else {
                    continue;
                };
                match file.status.as_str() {
                    "PROCESSED" | "FINALIZED" => counts.imported += 1,
                    "FAILED" => counts.failed += 1,
                    _ => counts.in_progress += 1,
                }
                made.push(BatchFileOut {
                    id,
                    filename: file.filename.clone(),
                    path: item.path,
                    size: item.size,
                    status: file.status.clone(),
                    status_cause: file.status_cause.clone(),
                });
            }
            None => {
                counts.skipped += 1;
                skipped.push(BatchSkippedOut {
                    name: item.name,
                    path: item.path,
                    kind: item.skipped.unwrap_or_default(),
                    reason: item.reason.unwrap_or_default(),
                    duplicate_of: item.duplicate_of,
                });
            }
        }
    }
    Ok(BatchOut {
        id: batch.id,
        organisation: batch.organisation_id,
        source: batch.source_id,
        url: batch.url,
        upload_mode: batch.upload_mode,
        status: batch.status,
        status_cause: batch.status_cause,
        counts,
        files: made,
        skipped,
        created_at: batch.created_at,
        updated_at: batch.updated_at,
    })
}

/// Reads a link, saying what is wrong with one OAS cannot fetch.
fn link_of(field: &str, url: &str) -> Result<Link, ApiError> {
    parse_link(url).map_err(|e| ApiError::field(field, e.to_string()))
}

/// Fetch every sales report a link holds: a Google Drive file or folder
/// shared "Anyone with the link", a Dropbox shared link, or an FTP, FTPS
/// or SFTP URL. Folders are walked (to a depth limit); each supported
/// file becomes a sales file (`upload_mode` GOOGLE_DRIVE, DROPBOX or FTP)
/// and is cleaned and imported as an upload is; a file already imported
/// is listed as a duplicate, and one of another type with the reason. A
/// link may not point at a ZIP file: ZIPs belong inside folders, where
/// they are expanded as uploads are.
#[utoipa::path(
    tag = "files",
    security(("api_key" = []), ("bearer" = [])),
    params(OrganisationOnly),
    request_body = FetchRequest,
    responses(
        (status = 202, description = "Fetching: follow it at /api/files/upload_automatically/{id}/", body = BatchOut),
        (status = 400, description = "A link OAS does not fetch, or no organisation given or active", body = ErrorBody),
        (status = 403, description = "The caller's role may not process files", body = ErrorBody),
        (status = 404, description = "No such organisation of the caller's", body = ErrorBody),
    ),
)]
#[post("/api/files/upload_automatically/")]
pub async fn upload_automatically(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<OrganisationOnly>,
    body: ApiJson<FetchRequest>,
) -> Result<HttpResponse, ApiError> {
    let url = body.0.url.unwrap_or_default();
    link_of("url", &url)?;
    let org = organisation_for(&state, &auth, query.organisation, Permission::ProcessFiles).await?;
    let batch = workflow::begin(&state, org, None, Some(url.trim()), Some(auth.user.id)).await?;
    Ok(HttpResponse::Accepted().json(shown(&state, batch).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BatchesQuery {
    /// The organisation; the caller's active one by default.
    pub organisation: Option<i64>,
    /// Only the batches of this source.
    pub source: Option<i64>,
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1)]
    pub page_size: Option<i64>,
}

/// The organisation's fetches, newest first.
#[utoipa::path(
    tag = "files",
    security(("api_key" = []), ("bearer" = [])),
    params(BatchesQuery),
    responses(
        (status = 200, description = "A page of batches", body = Page<BatchOut>),
        (status = 400, description = "A bad page, or no organisation given or active", body = ErrorBody),
        (status = 404, description = "No such organisation of the caller's, or no such page", body = ErrorBody),
    ),
)]
#[get("/api/files/upload_automatically/")]
pub async fn list_batches(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<BatchesQuery>,
) -> Result<web::Json<Page<BatchOut>>, ApiError> {
    let BatchesQuery {
        organisation,
        source,
        page,
        page_size,
    } = query.into_inner();
    let org = organisation_for(&state, &auth, organisation, Permission::View).await?;
    let pagination = Pagination::new(&PageQuery { page, page_size }, &state.settings)?;
    let (offset, limit) = (pagination.offset(), pagination.limit());
    let (rows, total) = state
        .db
        .run(move |conn| FetchBatch::page(conn, org, source, offset, limit))
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for batch in rows {
        out.push(shown(&state, batch).await?);
    }
    Ok(web::Json(Page::new(
        &req,
        &state.settings,
        pagination,
        total as u64,
        out,
    )?))
}

/// One fetch: its status, the files it made (with theirs) and the files it
/// left, each with why.
#[utoipa::path(
    tag = "files",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Batch id")),
    responses(
        (status = 200, description = "The batch", body = BatchOut),
        (status = 404, description = "No such batch of the caller's organisations", body = ErrorBody),
    ),
)]
#[get("/api/files/upload_automatically/{id}/")]
pub async fn get_batch(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> Result<web::Json<BatchOut>, ApiError> {
    let id = *id;
    let batch = state.db.run(move |conn| FetchBatch::find(conn, id)).await?;
    access::require_for_object(&state, &auth, batch.organisation_id, Permission::View).await?;
    Ok(web::Json(shown(&state, batch).await?))
}

/// A place OAS polls for new reports.
#[derive(Debug, Serialize, ToSchema)]
pub struct SourceOut {
    pub id: i64,
    pub organisation: i64,
    pub name: String,
    /// The link, without its password.
    pub url: String,
    #[schema(example = "FTP")]
    pub upload_mode: String,
    /// How often it is polled: `15m`, `1h`, `1d`…
    #[schema(example = "1d")]
    pub every: String,
    /// An SFTP server's pinned key (taken on the first poll when not given).
    pub host_key: Option<String>,
    /// Paused by hand, or after three failed polls in a row.
    pub paused: bool,
    /// Failed polls in a row.
    pub failures: i64,
    /// Why the last poll failed.
    pub status_cause: Option<String>,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub next_poll_at: NaiveDateTime,
    /// The latest poll, if any: /api/files/upload_automatically/{id}/.
    pub last_batch: Option<i64>,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
}

async fn source_out(state: &AppState, source: Source) -> Result<SourceOut, ApiError> {
    let id = source.id;
    let last = state
        .db
        .run(move |conn| FetchBatch::latest_of(conn, id))
        .await?;
    Ok(SourceOut {
        id: source.id,
        organisation: source.organisation_id,
        name: source.name,
        url: source.url,
        upload_mode: source.upload_mode,
        every: every_text(source.every_seconds),
        host_key: source.host_key,
        paused: source.paused,
        failures: source.failures,
        status_cause: source.status_cause,
        next_poll_at: source.next_poll_at,
        last_batch: last.map(|b| b.id),
        created_at: source.created_at,
    })
}

/// The shortest a schedule may be, and the longest.
const MIN_EVERY: i64 = 15 * 60;
const MAX_EVERY: i64 = 31 * 86_400;

/// `15m`, `6h`, `1d`, `1w` as seconds.
fn every_seconds(text: &str) -> Result<i64, ApiError> {
    let wrong = || {
        ApiError::field(
            "every",
            "A number and a unit, m, h, d or w (\"1h\", \"1d\"), from 15m to 31d.",
        )
    };
    let text = text.trim();
    let Some((at, _)) = text.char_indices().last() else {
        return Err(wrong());
    };
    let (number, unit) = text.split_at(at);
    let n: i64 = number.parse().map_err(|_| wrong())?;
    let unit = match unit {
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(wrong()),
    };
    let seconds = n.checked_mul(unit).ok_or_else(wrong)?;
    if !(MIN_EVERY..=MAX_EVERY).contains(&seconds) {
        return Err(wrong());
    }
    Ok(seconds)
}

fn every_text(seconds: i64) -> String {
    for (unit, size) in [("w", 7 * 86_400), ("d", 86_400), ("h", 3600)] {
        if seconds % size == 0 {
            return format!("{}{unit}", seconds / size);
        }
    }
    format!("{}m", seconds / 60)
}

fn host_key_of(text: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(text) = text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let valid = key_like(&text);
    if !valid {
        return Err(ApiError::field(
            "host_key",
            "An SSH public key as a known_hosts line shows it: \"ssh-ed25519 AAAA…\".",
        ));
    }
    Ok(Some(text))
}

/// `algorithm base64` (a comment may follow).
fn key_like(text: &str) -> bool {
    let mut parts = text.split_whitespace();
    let (Some(algorithm), Some(body)) = (parts.next(), parts.next()) else {
        return false;
    };
    let known = ["ssh-", "ecdsa-", "rsa-"]
        .iter()
        .any(|prefix| algorithm.starts_with(prefix));
    known
        && body.len() >= 16
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSource {
    #[validate(required, length(min = 1, max = 200))]
    #[schema(
        example = "Distributor monthly drop",
        required = true,
        nullable = false,
        min_length = 1,
        max_length = 200,
        pattern = r"\S"
    )]
    pub name: Option<String>,
    /// A Google Drive folder, a Dropbox shared folder, or an FTP, FTPS or
    /// SFTP path (credentials in the URL).
    #[validate(required, length(min = 1, max = 2000))]
    #[schema(
        example = "sftp://label:secret@sftp.distributor.example/reports/",
        required = true,
        nullable = false,
        min_length = 1,
        max_length = 2000
    )]
    pub url: Option<String>,
    /// How often to poll: `15m` to `31d` (`1h`, `1d`, `1w`…). Daily by default.
    #[schema(example = "1d", pattern = "^[0-9]{1,6}[mhdw]$")]
    pub every: Option<String>,
    /// An SFTP server's key to pin (`ssh-ed25519 AAAA…`); when not given,
    /// the key shown on the first poll is pinned.
    #[validate(length(max = 4000))]
    #[schema(max_length = 4000)]
    pub host_key: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSource {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: Option<String>,
    /// A new link (of any kind); what was seen at the old one is kept.
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub url: Option<String>,
    #[schema(example = "1h", pattern = "^[0-9]{1,6}[mhdw]$")]
    pub every: Option<String>,
    /// A new key to pin; empty to pin the key shown on the next poll.
    #[validate(length(max = 4000))]
    #[schema(max_length = 4000)]
    pub host_key: Option<String>,
    /// `false` resumes a paused source (its failures forgotten).
    pub paused: Option<bool>,
}

/// Save a source OAS polls by itself: each poll fetches only the files it
/// has not seen (by path, size and modification time, then content) and
/// is a batch like a pasted link's. The first poll is at once.
#[utoipa::path(
    tag = "files",
    security(("api_key" = []), ("bearer" = [])),
    params(OrganisationOnly),
    request_body = CreateSource,
    responses(
        (status = 201, description = "Saved", body = SourceOut),
        (status = 400, description = "A link OAS does not fetch, a bad schedule or key, or no organisation given or active", body = ErrorBody),
        (status = 403, description = "The caller's role may not process files", body = ErrorBody),
        (status = 404, description = "No such organisation of the caller's", body = ErrorBody),
    ),
)]
#[post("/api/sources/")]
pub async fn create_source(
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<OrganisationOnly>,
    body: ApiJson<CreateSource>,
) -> Result<HttpResponse, ApiError> {
    let ApiJson(CreateSource {
        name,
        url,
        every,
        host_key,
    }) = body;
    let name = name.unwrap_or_default().trim().to_owned();
    if name.is_empty() {
        return Err(ApiError::field("name", "A name."));
    }
    let url = url.unwrap_or_default().trim().to_owned();
    let link = link_of("url", &url)?;
    let every = every_seconds(every.as_deref().unwrap_or("1d"))?;
    let host_key = host_key_of(host_key)?;
    let org = organisation_for(&state, &auth, query.organisation, Permission::ProcessFiles).await?;
    let shown = workflow::shown_url(&url);
    let mode = workflow::upload_mode(&link);
    let user = auth.user.id;
    let source = state
        .db
        .run(move |conn| {
            let now = Utc::now().naive_utc();
            Source::insert(
                conn,
                &NewSource {
                    organisation_id: org,
                    name: &name,
                    url: &shown,
                    secret_url: &url,
                    upload_mode: mode,
                    every_seconds: every,
                    host_key: host_key.as_deref(),
                    next_poll_at: now,
                    created_by: Some(user),
                    created_at: now,
                    updated_at: now,
                },
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(source_out(&state, source).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SourcesQuery {
    /// The organisation; the caller's active one by default.
    pub organisation: Option<i64>,
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1)]
    pub page_size: Option<i64>,
}

/// The organisation's saved sources.
#[utoipa::path(
    tag = "files",
    security(("api_key" = []), ("bearer" = [])),
    params(SourcesQuery),
    responses(
        (status = 200, description = "A page of sources", body = Page<SourceOut>),
        (status = 400, description = "A bad page, or no organisation given or active", body = ErrorBody),
        (status = 404, description = "No such organisation of the caller's, or no such page", body = ErrorBody),
    ),
)]
#[get("/api/sources/")]
pub async fn list_sources(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<SourcesQuery>,
) -> Result<web::Json<Page<SourceOut>>, ApiError> {
    let SourcesQuery {
        organisation,
        page,
        page_size,
    } = query.into_inner();
    let org = organisation_for(&state, &auth, organisation, Permission::View).await?;
    let pagination = Pagination::new(&PageQuery { page, page_size }, &state.settings)?;
    let (offset, limit) = (pagination.offset(), pagination.limit());
    let (rows, total) = state
        .db
        .run(move |conn| Source::page(conn, org, offset, limit))
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for source in rows {
        out.push(source_out(&state, source).await?);
    }
    Ok(web::Json(Page::new(
        &req,
        &state.settings,
        pagination,
        total as u64,
        out,
    )?))
}

async fn source_for(
    state: &AppState,
    auth: &Authenticated,
    id: i64,
    permission: Permission,
) -> Result<Source, ApiError> {
    let source = state.db.run(move |conn| Source::find(conn, id)).await?;
    access::require_for_object(state, auth, source.organisation_id, permission).await?;
    Ok(source)
}

/// One saved source.
#[utoipa::path(
    tag = "files",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Source id")),
    responses(
        (status = 200, description = "The source", body = SourceOut),
        (status = 404, description = "No such source of the caller's organisations", body = ErrorBody),
    ),
)]
#[get("/api/sources/{id}/")]
pub async fn get_source(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> Result<web::Json<SourceOut>, ApiError> {
    let source = source_for(&state, &auth, *id, Permission::View).await?;
    Ok(web::Json(source_out(&state, source).await?))
}

/// Change a source: its name, link, schedule or pinned key; pause it, or
/// resume it (its failures forgotten, polled at once).
#[utoipa::path(
    tag = "files",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Source id")),
    request_body = UpdateSource,
    responses(
        (status = 200, description = "The source after the change", body = SourceOut),
        (status = 400, description = "A link OAS does not fetch, or a bad schedule or key", body = ErrorBody),
        (status = 403, description = "The caller's role may not process files", body = ErrorBody),
        (status = 404, description = "No such source of the caller's organisations", body = ErrorBody),
    ),
)]
#[patch("/api/sources/{id}/")]
pub async fn update_source(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    body: ApiJson<UpdateSource>,
) -> Result<web::Json<SourceOut>, ApiError> {
    let ApiJson(UpdateSource {
        name,
        url,
        every,
        host_key,
        paused,
    }) = body;
    let mut change = SourceChange {
        updated_at: Some(Utc::now().naive_utc()),
        ..Default::default()
    };
    if let Some(name) = name {
        let name = name.trim().to_owned();
        if name.is_empty() {
            return Err(ApiError::field("name", "A name."));
        }
        change.name = Some(name);
    }
    if let Some(url) = url {
        let url = url.trim().to_owned();
        let link = link_of("url", &url)?;
        change.upload_mode = Some(workflow::upload_mode(&link).to_owned());
        change.url = Some(workflow::shown_url(&url));
        change.secret_url = Some(url);
    }
    if let Some(every) = every {
        change.every_seconds = Some(every_seconds(&every)?);
    }
    if let Some(key) = host_key {
        change.host_key = Some(host_key_of(Some(key))?);
    }
    let source = source_for(&state, &auth, *id, Permission::ProcessFiles).await?;
    match paused {
        Some(true) => change.paused = Some(true),
        Some(false) if source.paused => {
            change.paused = Some(false);
            change.failures = Some(0);
            change.status_cause = Some(None);
            change.next_poll_at = Some(Utc::now().naive_utc());
        }
        _ => {}
    }
    let id = source.id;
    let source = state
        .db
        .run(move |conn| Source::update(conn, id, &change))
        .await?;
    Ok(web::Json(source_out(&state, source).await?))
}

/// Remove a source; its batches and the files they made stay.
#[utoipa::path(
    tag = "files",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Source id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "The caller's role may not process files", body = ErrorBody),
        (status = 404, description = "No such source of the caller's organisations", body = ErrorBody),
    ),
)]
#[delete("/api/sources/{id}/")]
pub async fn delete_source(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let source = source_for(&state, &auth, *id, Permission::ProcessFiles).await?;
    let id = source.id;
    state.db.run(move |conn| Source::delete(conn, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Poll a source now, whatever its schedule (a paused one too).
#[utoipa::path(
    tag = "files",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Source id")),
    responses(
        (status = 202, description = "Polling: follow the batch at /api/files/upload_automatically/{id}/", body = BatchOut),
        (status = 403, description = "The caller's role may not process files", body = ErrorBody),
        (status = 404, description = "No such source of the caller's organisations", body = ErrorBody),
        (status = 409, description = "A poll of the source is under way", body = ErrorBody),
    ),
)]
#[post("/api/sources/{id}/poll/")]
pub async fn poll_source(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let source = source_for(&state, &auth, *id, Permission::ProcessFiles).await?;
    let id = source.id;
    let busy = state
        .db
        .run(move |conn| FetchBatch::latest_of(conn, id))
        .await?
        .is_some_and(|b| b.status == batches::FETCHING);
    if busy {
        return Err(ApiError::conflict(
            "A poll of this source is under way: follow its batch.",
        ));
    }
    let batch = workflow::begin(
        &state,
        source.organisation_id,
        Some(&source),
        None,
        Some(auth.user.id),
    )
    .await?;
    Ok(HttpResponse::Accepted().json(shown(&state, batch).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_read_and_show_alike_and_bad_ones_are_refused() {
        for (text, seconds) in [
            ("15m", 900),
            ("1h", 3600),
            ("36h", 129_600),
            ("1d", 86_400),
            ("2w", 1_209_600),
        ] {
            assert_eq!(every_seconds(text).ok(), Some(seconds), "{text}");
        }
        assert_eq!(every_text(129_600), "36h");
        assert_eq!(every_text(1_209_600), "2w");
        assert_eq!(every_text(900), "15m");
        for text in [
            "",
            "5m",
            "32d",
            "1y",
            "h",
            "\u{200b}",
            " \u{200b}",
            "1\u{e9}",
            "99999999999999999999w",
        ] {
            assert!(every_seconds(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn host_keys_must_look_like_keys() {
        assert!(
            host_key_of(Some(
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoq comment".into()
            ))
            .is_ok()
        );
        assert_eq!(host_key_of(Some("  ".into())).ok(), Some(None));
        for text in [
            "AAAA",
            "ssh-ed25519",
            "telnet AAAAC3NzaC1lZDI1NTE5AAAA",
            "ssh-ed25519 not*base64*at*all!!",
        ] {
            assert!(host_key_of(Some(text.into())).is_err(), "{text}");
        }
    }
}
