//! Sales files: the records operators create, upload through a presigned
//! URL, and process (clean, import, reimport, match). Fields and statuses are the
//! seed documents'.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{NaiveDateTime, Utc};
use oas_db::sales_files::{ListFilter, NewSalesFile, SalesFile};
use oas_domain::access::Permission;
use oas_domain::file::{FILE_TYPES, FileAction, FileStatus};
use oas_domain::period::Period;
use oas_platform::storage::ObjectStore;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::access;
use crate::auth::Authenticated;
use crate::http::error::ErrorBody;
use crate::http::pagination::{Page, PageQuery, Pagination};
use crate::http::time::utc;
use crate::http::{ApiError, ApiJson};
use crate::routes::views::RateValue;
use crate::state::AppState;
use crate::workflows::files::{self as file_workflow, Acted};

pub const UPLOAD_MODES: [&str; 2] = ["MANUALLY", "AUTOMATICALLY"];

#[derive(Debug, Serialize, ToSchema)]
pub struct SalesFileOut {
    pub id: i64,
    /// A short unique reference (8 characters).
    #[schema(example = "k3J9aZ2q")]
    pub uuid: String,
    pub filename: String,
    #[schema(example = "TSV")]
    pub filetype: String,
    /// As declared at creation (the seed counts it in bits); the upload may
    /// not be larger, counted in bytes.
    pub filesize: i64,
    /// The size in bytes of what was uploaded, read when cleaning starts.
    pub uploaded_bytes: Option<i64>,
    /// The client's own reference for the file, required as the seed
    /// says: any text up to 255 characters (a file name will do, a DSR's
    /// included). OAS keeps it and shows it back; it keys nothing, and the
    /// file's snapshot is found by its `id`.
    pub mongo_db_id: String,
    #[schema(example = "INITIALIZED")]
    pub status: String,
    pub total_rows: Option<i64>,
    pub total_artists: Option<i64>,
    /// Why the file failed, in one sentence.
    pub status_cause: Option<String>,
    pub error_message: Option<String>,
    /// Total revenue of the file in its own currency, exact.
    #[schema(example = "1234.567890")]
    pub total_local: Option<String>,
    /// `YYYY-MM`: the period given at creation, else the one the report
    /// states (a preamble's, a DSR's start), else the first month its lines
    /// cover.
    #[schema(example = "2023-10")]
    pub reporting_period: Option<String>,
    /// The first and last month the file's lines cover (`YYYY-MM`), once
    /// imported: a quarterly report shows three months.
    #[schema(example = "2023-10")]
    pub period_from: Option<String>,
    #[schema(example = "2023-12")]
    pub period_to: Option<String>,
    #[schema(example = "MANUALLY")]
    pub upload_mode: String,
    /// The state of the last module's answer: PENDING while a run is under
    /// way or none has run, then SUCCEEDED, FAILED or TIMED_OUT.
    #[schema(example = "PENDING")]
    pub response_module: String,
    /// The module last called on the file: `uploads` (cleaning) or
    /// `importer`.
    #[schema(example = "importer")]
    pub module_response: Option<String>,
    pub organisation: i64,
    /// Exact decimal, as text.
    pub exchange_rate: Option<String>,
    /// The archive this file came out of.
    pub parent: Option<i64>,
    /// The file this one repeats: the same report already imported (its
    /// lines are the same, whatever its bytes). A copy fails and counts
    /// nowhere, unless it is reimported on purpose.
    pub duplicate_of: Option<i64>,
    /// The rates its last import converted lines at, one per currency and
    /// month: the file's own rate, or the organisation's for `rate_period`
    /// (another month than the lines' only when the organisation chose to
    /// borrow the latest earlier rate). Empty when every line was in the
    /// base currency.
    pub rates_used: Vec<RateUsedOut>,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
}

/// A rate an import converted lines at.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RateUsedOut {
    #[schema(example = "GBP")]
    pub currency: String,
    /// The lines' month; null for lines without a period.
    #[schema(example = "2023-02")]
    pub period: Option<String>,
    /// Into the organisation's base currency, exact.
    #[schema(example = "1.2345")]
    pub rate: String,
    /// The month of the organisation's rate used; null for the file's own
    /// `exchange_rate`.
    #[schema(example = "2023-01")]
    pub rate_period: Option<String>,
}

impl From<SalesFile> for SalesFileOut {
    fn from(f: SalesFile) -> Self {
        Self {
            id: f.id,
            uuid: f.uuid,
            filename: f.filename,
            filetype: f.filetype,
            filesize: f.filesize,
            uploaded_bytes: f.uploaded_bytes,
            mongo_db_id: f.mongo_db_id,
            status: f.status,
            total_rows: f.total_rows,
            total_artists: f.total_artists,
            status_cause: f.status_cause,
            error_message: f.error_message,
            total_local: f.total_local,
            reporting_period: f.reporting_period,
            period_from: f.period_from,
            period_to: f.period_to,
            upload_mode: f.upload_mode,
            response_module: f.response_module,
            module_response: f.module_response,
            organisation: f.organisation_id,
            exchange_rate: f.exchange_rate,
            parent: f.parent_id,
            duplicate_of: f.duplicate_of,
            rates_used: f
                .rates_used
                .as_deref()
                .and_then(|text| serde_json::from_str(text).ok())
                .unwrap_or_default(),
            created_at: f.created_at,
            updated_at: f.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSalesFile {
    #[validate(required, length(min = 1, max = 255))]
    #[schema(
        example = "Spotify_streaming_via_finetunes_201710.txt",
        required = true,
        nullable = false,
        min_length = 1,
        max_length = 255
    )]
    pub filename: Option<String>,
    /// CSV, TXT, TSV, XLS, XLSX, ZIP (of those) or GZ (one of those, gzipped).
    #[validate(required, length(min = 1, max = 10))]
    #[schema(example = "TXT", required = true, nullable = false, value_type = String, schema_with = file_type_schema)]
    pub filetype: Option<String>,
    /// The declared size.
    #[validate(required, range(min = 0))]
    #[schema(required = true, nullable = false, minimum = 0)]
    pub filesize: Option<i64>,
    /// The client's own reference for the file, required as the seed
    /// says: any text up to 255 characters (a file name will do, a DSR's
    /// included). OAS keeps it and shows it back; it keys nothing, and the
    /// file's snapshot is found by its `id`.
    #[validate(required, length(min = 1, max = 255))]
    #[schema(required = true, nullable = false, min_length = 1, max_length = 255)]
    pub mongo_db_id: Option<String>,
    /// Only INITIALIZED, the default: statuses then follow processing.
    #[validate(length(max = 20))]
    #[schema(value_type = Option<String>, schema_with = initialized_schema)]
    pub status: Option<String>,
    /// Calculated by processing; ignored when given.
    pub total_rows: Option<i64>,
    /// Calculated by processing; ignored when given.
    pub total_artists: Option<i64>,
    /// Set by processing; ignored when given.
    #[validate(length(max = 2000))]
    pub status_cause: Option<String>,
    /// Set by processing; ignored when given.
    #[validate(length(max = 10000))]
    pub error_message: Option<String>,
    /// Calculated by processing; ignored when given.
    #[schema(value_type = Option<serde_json::Value>)]
    pub total_local: Option<serde_json::Value>,
    /// `YYYY-MM`; taken from the report when not given.
    #[validate(length(max = 7))]
    #[schema(
        pattern = r"^(19|[2-9][0-9])[0-9]{2}-(0[1-9]|1[0-2])$",
        example = "2024-01"
    )]
    pub reporting_period: Option<String>,
    /// MANUALLY (the default) or AUTOMATICALLY.
    #[validate(length(max = 20))]
    #[schema(value_type = Option<String>, schema_with = upload_mode_schema)]
    pub upload_mode: Option<String>,
    /// Set by processing (the state of a module's answer); ignored when given.
    #[validate(length(max = 100))]
    #[schema(max_length = 100)]
    pub response_module: Option<String>,
    /// The organisation the file belongs to; the caller's active one by default.
    pub organisation: Option<i64>,
    /// Converts the file's currency into the organisation's base currency.
    pub exchange_rate: Option<RateValue>,
}

fn file_type_schema() -> utoipa::openapi::Object {
    crate::http::schema::one_of(&FILE_TYPES, false)
}

fn initialized_schema() -> utoipa::openapi::Object {
    crate::http::schema::one_of(&[FileStatus::Initialized.as_str()], true)
}

fn upload_mode_schema() -> utoipa::openapi::Object {
    crate::http::schema::one_of(&UPLOAD_MODES, true)
}

fn status_schema() -> utoipa::openapi::Object {
    let all: Vec<&str> = FileStatus::ALL.iter().map(|s| s.as_str()).collect();
    crate::http::schema::one_of(&all, true)
}

fn files_prefix(file: &SalesFile) -> String {
    format!(
        "{}/",
        oas_platform::storage::file_prefix(file.organisation_id, file.id)
    )
}

/// Removes what processing stored for a file: its bytes, cleaned copies,
/// Parquet lines and snapshot.
async fn remove_data(state: &AppState, file: &SalesFile) -> Result<(), ApiError> {
    state
        .storage
        .delete_prefix(&files_prefix(file))
        .await
        .map_err(ApiError::internal)?;
    Ok(file_workflow::remove_lines(state, file).await?)
}

/// The stored status; only ever written from `FileStatus::as_str`.
fn status_of(file: &SalesFile) -> Result<FileStatus, ApiError> {
    Ok(file_workflow::status_of(file)?)
}

/// Loads a file the caller may act on with `permission`; others' files do not exist.
pub async fn file_for(
    state: &AppState,
    auth: &Authenticated,
    id: i64,
    permission: Permission,
) -> Result<SalesFile, ApiError> {
    let file = state.db.run(move |conn| SalesFile::find(conn, id)).await?;
    access::require_for_object(state, auth, file.organisation_id, permission).await?;
    Ok(file)
}

/// Create a sales file's record, before uploading its bytes.
#[utoipa::path(
    tag = "files",
    security(("api_key" = []), ("bearer" = [])),
    request_body = CreateSalesFile,
    responses(
        (status = 201, description = "Created, INITIALIZED", body = SalesFileOut),
        (status = 400, description = "Invalid input, or no organisation given or active", body = ErrorBody),
        (status = 403, description = "The caller's role may not process files", body = ErrorBody),
        (status = 404, description = "No such organisation of the caller's", body = ErrorBody),
    ),
)]
#[post("/api/files/salesfiles/")]
pub async fn create_file(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ApiJson<CreateSalesFile>,
) -> Result<HttpResponse, ApiError> {
    let ApiJson(request) = body;
    let filetype = request
        .filetype
        .unwrap_or_default()
        .trim()
        .to_ascii_uppercase();
    if !FILE_TYPES.contains(&filetype.as_str()) {
        return Err(ApiError::field(
            "filetype",
            format!("Choose one of {}.", FILE_TYPES.join(", ")),
        ));
    }
    if let Some(status) = &request.status
        && status != FileStatus::Initialized.as_str()
    {
        return Err(ApiError::field(
            "status",
            "A new file is INITIALIZED; its status then follows processing.",
        ));
    }
    let upload_mode = request
        .upload_mode
        .unwrap_or_else(|| "MANUALLY".into())
        .trim()
        .to_ascii_uppercase();
    if !UPLOAD_MODES.contains(&upload_mode.as_str()) {
        return Err(ApiError::field(
            "upload_mode",
            "Choose MANUALLY or AUTOMATICALLY.",
        ));
    }
    let period = match request.reporting_period {
        Some(raw) => Some(
            Period::parse(&raw)
                .map_err(|e| ApiError::field("reporting_period", e.0))?
                .to_string(),
        ),
        None => None,
    };
    let rate = match &request.exchange_rate {
        Some(rate) => Some(
            rate.parse()
                .map_err(|e| ApiError::field("exchange_rate", e.0))?
                .to_string(),
        ),
        None => None,
    };
    let organisation = request
        .organisation
        .or(auth.user.active_organisation_id)
        .ok_or_else(|| {
            ApiError::field(
                "organisation",
                "Name an organisation, or make one active first.",
            )
        })?;
    let org = access::require(&state, &auth, organisation, Permission::ProcessFiles)
        .await?
        .organisation;
    if !org.is_active {
        return Err(ApiError::conflict(
            "This organization is deactivated: its files are not processed.",
        ));
    }
    let filename = request.filename.unwrap_or_default().trim().to_owned();
    let (filesize, mongo_db_id) = (
        request.filesize.unwrap_or_default(),
        request.mongo_db_id.unwrap_or_default(),
    );
    // The state of a module's answer: set by processing, not by the client.
    let response_module = file_workflow::PENDING;
    let created_by = auth.user.id;
    let file = state
        .db
        .run(move |conn| {
            let now = Utc::now().naive_utc();
            file_workflow::insert_with_fresh_reference(
                conn,
                &NewSalesFile {
                    uuid: "",
                    organisation_id: org.id,
                    filename: &filename,
                    filetype: &filetype,
                    filesize,
                    mongo_db_id: &mongo_db_id,
                    status: FileStatus::Initialized.as_str(),
                    reporting_period: period.as_deref(),
                    upload_mode: &upload_mode,
                    response_module,
                    exchange_rate: rate.as_deref(),
                    parent_id: None,
                    created_by: Some(created_by),
                    created_at: now,
                    updated_at: now,
                },
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(SalesFileOut::from(file)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileFilter {
    /// The organisation; the caller's active one by default.
    pub organisation: Option<i64>,
    /// One of the statuses, e.g. FAILED.
    #[param(value_type = Option<String>, schema_with = status_schema)]
    pub status: Option<String>,
    /// `YYYY-MM`.
    #[param(pattern = r"^(19|[2-9][0-9])[0-9]{2}-(0[1-9]|1[0-2])$")]
    pub period: Option<String>,
    /// `true`: only copies of other files (`duplicate_of` set); `false`:
    /// none of them, so that FAILED lists only real failures.
    pub duplicate: Option<bool>,
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1)]
    pub page_size: Option<i64>,
}

/// An organisation's files, newest first.
#[utoipa::path(
    tag = "files",
    security(("api_key" = []), ("bearer" = [])),
    params(FileFilter),
    responses(
        (status = 200, description = "A page of files", body = Page<SalesFileOut>),
        (status = 400, description = "Invalid filter, or no organisation given or active", body = ErrorBody),
        (status = 404, description = "No such organisation of the caller's", body = ErrorBody),
    ),
)]
#[get("/api/files/salesfiles/")]
pub async fn list_files(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<FileFilter>,
) -> Result<web::Json<Page<SalesFileOut>>, ApiError> {
    let FileFilter {
        organisation,
        status,
        period,
        duplicate,
        page,
        page_size,
    } = query.into_inner();
    let organisation = organisation
        .or(auth.user.active_organisation_id)
        .ok_or_else(|| ApiError::bad_request("Name an organisation, or make one active first."))?;
    let org = access::require(&state, &auth, organisation, Permission::View)
        .await?
        .organisation;
    if let Some(status) = &status {
        status
            .parse::<FileStatus>()
            .map_err(|_| ApiError::bad_request(format!("Unknown status {status:?}.")))?;
    }
    if let Some(period) = &period {
        Period::parse(period).map_err(|e| ApiError::bad_request(e.0))?;
    }
    let pagination = Pagination::new(&PageQuery { page, page_size }, &state.settings)?;
    let (offset, limit) = (pagination.offset(), pagination.limit());
    let (rows, total) = state
        .db
        .run(move |conn| {
            let filter = ListFilter {
                status: status.as_deref(),
                period: period.as_deref(),
                duplicate,
            };
            SalesFile::list(conn, org.id, &filter, offset, limit)
        })
        .await?;
    let results = rows.into_iter().map(SalesFileOut::from).collect();
    Ok(web::Json(Page::new(
        &req,
        &state.settings,
        pagination,
        total as u64,
        results,
    )?))
}

/// One file.
#[utoipa::path(
    tag = "files",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "File id")),
    responses(
        (status = 200, description = "The file", body = SalesFileOut),
        (status = 404, description = "No such file of the caller's organisations", body = ErrorBody),
    ),
)]
#[get("/api/files/salesfiles/{id}/")]
pub async fn get_file(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> Result<web::Json<SalesFileOut>, ApiError> {
    Ok(web::Json(
        file_for(&state, &auth, *id, Permission::View).await?.into(),
    ))
}

/// Delete a file with its stored bytes, lines and snapshot; an archive
/// goes with the files made from it, which the answer lists. A file being
/// processed cannot be deleted until its run ends.
#[utoipa::path(
    tag = "files",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "File id")),
    responses(
        (status = 200, description = "Deleted: the file, and for an archive every file made from it", body = Deleted),
        (status = 403, description = "The caller's role may not process files", body = ErrorBody),
        (status = 404, description = "No such file of the caller's organisations", body = ErrorBody),
        (status = 409, description = "The file is being processed", body = ErrorBody),
    ),
)]
#[delete("/api/files/salesfiles/{id}/")]
pub async fn delete_file(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let file = file_for(&state, &auth, *id, Permission::ProcessFiles).await?;
    let status = status_of(&file)?;
    if status.is_busy() {
        return Err(ApiError::conflict(format!(
            "The file is being processed ({status}); delete it when the run ends."
        )));
    }
    let parent = file.id;
    let children = state
        .db
        .run(move |conn| SalesFile::children(conn, parent))
        .await?;
    if let Some(busy) = children
        .iter()
        .find(|c| status_of(c).is_ok_and(|s| s.is_busy()))
    {
        return Err(ApiError::conflict(format!(
            "File {} from this archive is being processed; delete the archive when its run ends.",
            busy.id
        )));
    }
    for stored in children.iter().chain(std::iter::once(&file)) {
        remove_data(&state, stored).await?;
    }
    let id = file.id;
    state
        .db
        .run(move |conn| SalesFile::delete(conn, id))
        .await?;
    let deleted = std::iter::once(&file)
        .chain(&children)
        .map(|f| DeletedFile {
            id: f.id,
            filename: f.filename.clone(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(Deleted { deleted }))
}

/// What a delete removed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Deleted {
    /// The file, then the files made from it when it was an archive: they
    /// go with it, lines and snapshots included.
    pub deleted: Vec<DeletedFile>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeletedFile {
    pub id: i64,
    pub filename: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessRequest {
    /// `upload`, `clean`, `import`, `reimport` or `match`.
    #[validate(required, length(min = 1, max = 20))]
    #[schema(example = "upload", required = true, nullable = false, value_type = String, schema_with = action_schema)]
    pub action: Option<String>,
}

fn action_schema() -> utoipa::openapi::Object {
    let all: Vec<&str> = FileAction::ALL.iter().map(|a| a.as_str()).collect();
    crate::http::schema::one_of(&all, false)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProcessResponse {
    pub id: i64,
    /// The file's status after the request.
    #[schema(example = "UPLOADING")]
    pub status: String,
    /// For `upload`: PUT the file's bytes here before it expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub presigned_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<chrono::DateTime<Utc>>,
    /// For the other actions: the module run started, at /api/jobs/{id}/.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
}

/// Act on a file: `upload` returns a presigned URL to PUT its bytes to;
/// `clean` starts cleaning (then importing) an uploaded file; `import` a
/// cleaned one; `reimport` processes it again, replacing the earlier result;
/// `match` matches an imported file's usage items to the catalog again.
#[utoipa::path(
    tag = "files",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "File id")),
    request_body = ProcessRequest,
    responses(
        (status = 200, description = "Done; see status, presigned_url or job", body = ProcessResponse),
        (status = 400, description = "Not one of the actions", body = ErrorBody),
        (status = 404, description = "No such file of the caller's organisations", body = ErrorBody),
        (status = 409, description = "The action does not fit the file's status", body = ErrorBody),
    ),
)]
#[post("/api/files/salesfiles/{id}/process/")]
pub async fn process_file(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    body: ApiJson<ProcessRequest>,
) -> Result<web::Json<ProcessResponse>, ApiError> {
    let raw = body.0.action.unwrap_or_default();
    let action = FileAction::ALL
        .into_iter()
        .find(|a| a.as_str() == raw.trim())
        .ok_or_else(|| {
            let valid: Vec<&str> = FileAction::ALL.iter().map(|a| a.as_str()).collect();
            ApiError::field(
                "action",
                format!(
                    "{raw:?} is not an action: choose one of {}.",
                    valid.join(", ")
                ),
            )
        })?;
    let file = file_for(&state, &auth, *id, Permission::ProcessFiles).await?;
    Ok(web::Json(
        match file_workflow::act(&state, &file, action).await? {
            Acted::Upload {
                status,
                url,
                expires_at,
            } => ProcessResponse {
                id: file.id,
                status: status.as_str().to_owned(),
                presigned_url: Some(url),
                expires_at: Some(expires_at),
                job: None,
            },
            Acted::Started { job, file } => ProcessResponse {
                id: file.id,
                status: file.status,
                presigned_url: None,
                expires_at: None,
                job: Some(job.id),
            },
        },
    ))
}
