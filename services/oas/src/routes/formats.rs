//! The format registry: the built-in report formats and an organisation's
//! own. An organisation corrects a built-in by adding its own format with
//! the same slug, which replaces the built-in for its files.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{NaiveDateTime, Utc};
use oas_db::formats::{FormatRecord, NewFormat};
use oas_domain::access::Permission;
use oas_sales::format::FormatSpec;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::access;
use crate::auth::Authenticated;
use crate::http::error::ErrorBody;
use crate::http::pagination::{Page, PageQuery, Pagination};
use crate::http::time::utc;
use crate::http::{ApiError, ApiJson};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct FormatOut {
    pub id: i64,
    /// The organisation that owns the format; null for a built-in.
    pub organisation: Option<i64>,
    pub builtin: bool,
    /// The format: slug, name, source, signature, columns, …
    #[schema(value_type = Object)]
    pub format: Value,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
}

impl FormatOut {
    fn new(record: FormatRecord) -> Self {
        Self {
            id: record.id,
            organisation: record.organisation_id,
            builtin: record.organisation_id.is_none(),
            format: serde_json::from_str(&record.spec).unwrap_or(Value::Null),
            updated_at: record.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct FormatQuery {
    /// The organisation whose formats to list; the active one by default.
    pub organisation: Option<i64>,
}

/// A format to add: the organisation, and the format itself.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct FormatBody {
    /// The organisation; the caller's active one by default.
    pub organisation: Option<i64>,
    /// slug, name, source (dsp, distributor, standard, other), signature,
    /// columns, and optionally dsp, currency, decimal, day_first, preamble,
    /// sale_type, returns.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub format: serde_json::Map<String, Value>,
}

/// The schema of [`FormatBody`] as served: the format's own
/// (`oas_sales::format::json_schema`) and the organisation.
pub fn body_schema() -> Value {
    let mut schema = oas_sales::format::json_schema();
    schema["properties"]["organisation"] = serde_json::json!({
        "type": ["integer", "null"], "format": "int64",
        "description": "The organisation; the caller's active one by default.",
    });
    schema
}

fn organisation_of(auth: &Authenticated, given: Option<i64>) -> Result<i64, ApiError> {
    given.or(auth.user.active_organisation_id).ok_or_else(|| {
        ApiError::field(
            "organisation",
            "Name the organisation, or make one active first.",
        )
    })
}

/// Parses and checks a format; every problem is named.
fn checked(format: serde_json::Map<String, Value>) -> Result<FormatSpec, ApiError> {
    let spec: FormatSpec = serde_json::from_value(Value::Object(format))
        .map_err(|e| ApiError::bad_request(format!("The format is not valid: {e}.")))?;
    let problems = spec.problems();
    if !problems.is_empty() {
        return Err(ApiError::bad_request(format!(
            "The format is not valid: {}",
            problems.join(" ")
        )));
    }
    Ok(spec)
}

fn source_name(spec: &FormatSpec) -> String {
    serde_json::to_value(spec.source)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The formats files of an organisation are matched against: its own, then the built-ins.
#[utoipa::path(
    tag = "formats",
    security(("api_key" = []), ("bearer" = [])),
    params(FormatQuery, PageQuery),
    responses(
        (status = 200, description = "A page of formats", body = Page<FormatOut>),
        (status = 400, description = "No organisation given or active", body = ErrorBody),
        (status = 404, description = "No such organisation of the caller's", body = ErrorBody),
    ),
)]
#[get("/api/formats/")]
pub async fn list_formats(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<FormatQuery>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<Page<FormatOut>>, ApiError> {
    let organisation = organisation_of(&auth, query.organisation)?;
    let org = access::require(&state, &auth, organisation, Permission::View)
        .await?
        .organisation;
    let pagination = Pagination::new(&page, &state.settings)?;
    let all = state
        .db
        .run(move |conn| FormatRecord::usable_by(conn, org.id))
        .await?;
    let count = all.len() as u64;
    let results = all
        .into_iter()
        .skip(usize::try_from(pagination.offset()).unwrap_or(0))
        .take(usize::try_from(pagination.limit()).unwrap_or(0))
        .map(FormatOut::new)
        .collect();
    Ok(web::Json(Page::new(
        &req,
        &state.settings,
        pagination,
        count,
        results,
    )?))
}

/// Loads a format the caller may see: a built-in, or one of their organisations'.
async fn format_for(
    state: &AppState,
    auth: &Authenticated,
    id: i64,
    permission: Permission,
) -> Result<FormatRecord, ApiError> {
    let record = state
        .db
        .run(move |conn| FormatRecord::find(conn, id))
        .await?;
    if let Some(org) = record.organisation_id {
        access::require_for_object(state, auth, org, permission).await?;
    }
    Ok(record)
}

/// One format.
#[utoipa::path(
    tag = "formats",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Format id")),
    responses(
        (status = 200, description = "The format", body = FormatOut),
        (status = 404, description = "No such format the caller may see", body = ErrorBody),
    ),
)]
#[get("/api/formats/{id}/")]
pub async fn get_format(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> Result<web::Json<FormatOut>, ApiError> {
    let record = format_for(&state, &auth, *id, Permission::View).await?;
    Ok(web::Json(FormatOut::new(record)))
}

/// Add a format for an organisation (members who process files). A slug
/// that a built-in uses overrides the built-in for this organisation.
#[utoipa::path(
    tag = "formats",
    security(("api_key" = []), ("bearer" = [])),
    request_body = FormatBody,
    responses(
        (status = 201, description = "Added", body = FormatOut),
        (status = 400, description = "The format is not valid; detail names each problem", body = ErrorBody),
        (status = 403, description = "The caller's role may not", body = ErrorBody),
        (status = 404, description = "No such organisation of the caller's", body = ErrorBody),
        (status = 409, description = "The organisation already has a format with this slug", body = ErrorBody),
    ),
)]
#[post("/api/formats/")]
pub async fn create_format(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ApiJson<FormatBody>,
) -> Result<HttpResponse, ApiError> {
    let ApiJson(FormatBody {
        organisation,
        format,
    }) = body;
    let organisation = organisation_of(&auth, organisation)?;
    let org = access::require(&state, &auth, organisation, Permission::ProcessFiles)
        .await?
        .organisation;
    let spec = checked(format)?;
    let text = serde_json::to_string(&spec).map_err(ApiError::internal)?;
    let record = state
        .db
        .run(move |conn| {
            if FormatRecord::find_own(conn, org.id, &spec.slug)?.is_some() {
                return Ok(None);
            }
            let now = Utc::now().naive_utc();
            FormatRecord::insert(
                conn,
                &NewFormat {
                    organisation_id: Some(org.id),
                    slug: &spec.slug,
                    name: &spec.name,
                    source: &source_name(&spec),
                    spec: &text,
                    created_at: now,
                    updated_at: now,
                },
            )
            .map(Some)
        })
        .await?
        .ok_or_else(|| {
            ApiError::conflict(
                "The organisation already has a format with this slug; change it with PATCH.",
            )
        })?;
    Ok(HttpResponse::Created().json(FormatOut::new(record)))
}

/// Correct an organisation's own format: the fields given replace the
/// format's (built-ins are changed by adding a format with their slug).
#[utoipa::path(
    tag = "formats",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Format id")),
    request_body = FormatBody,
    responses(
        (status = 200, description = "Updated", body = FormatOut),
        (status = 400, description = "The format is not valid; detail names each problem", body = ErrorBody),
        (status = 403, description = "A built-in, or the caller's role may not", body = ErrorBody),
        (status = 404, description = "No such format the caller may see", body = ErrorBody),
        (status = 409, description = "Another of the organisation's formats has the new slug", body = ErrorBody),
    ),
)]
#[patch("/api/formats/{id}/")]
pub async fn update_format(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    body: ApiJson<FormatBody>,
) -> Result<web::Json<FormatOut>, ApiError> {
    let record = format_for(&state, &auth, *id, Permission::ProcessFiles).await?;
    let Some(org) = record.organisation_id else {
        return Err(ApiError::forbidden_because(
            "Built-in formats cannot be changed; add your own format with the same slug to override it.",
        ));
    };
    let ApiJson(FormatBody { format, .. }) = body;
    let mut merged = match serde_json::from_str::<Value>(&record.spec) {
        Ok(Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    merged.extend(format);
    let spec = checked(merged)?;
    let text = serde_json::to_string(&spec).map_err(ApiError::internal)?;
    let id = record.id;
    let updated = state
        .db
        .run(move |conn| {
            if let Some(other) = FormatRecord::find_own(conn, org, &spec.slug)?
                && other.id != id
            {
                return Ok(None);
            }
            FormatRecord::update(
                conn,
                id,
                &spec.slug,
                &spec.name,
                &source_name(&spec),
                &text,
                Utc::now().naive_utc(),
            )
            .map(Some)
        })
        .await?
        .ok_or_else(|| {
            ApiError::conflict("Another of the organisation's formats has this slug.")
        })?;
    Ok(web::Json(FormatOut::new(updated)))
}
