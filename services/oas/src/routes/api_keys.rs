//! The caller's own API keys.

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{NaiveDateTime, Utc};
use oas_db::api_keys::ApiKey;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::{Authenticated, api_keys};
use crate::http::error::ErrorBody;
use crate::http::json::invalid;
use crate::http::pagination::{Page, PageQuery, Pagination};
use crate::http::time::{utc, utc_opt};
use crate::http::{ApiError, ApiJson};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyOut {
    pub id: i64,
    /// The first 8 characters of the key, to recognise it.
    #[schema(example = "A2QnAjPg")]
    pub prefix: String,
    pub name: String,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created: NaiveDateTime,
    #[serde(serialize_with = "utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used: Option<NaiveDateTime>,
    #[serde(serialize_with = "utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires: Option<NaiveDateTime>,
}

impl From<&ApiKey> for ApiKeyOut {
    fn from(key: &ApiKey) -> Self {
        Self {
            id: key.id,
            prefix: key.prefix.clone(),
            name: key.name.clone(),
            created: key.created_at,
            last_used: key.last_used_at,
            expires: key.expires_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyCreated {
    #[serde(flatten)]
    pub details: ApiKeyOut,
    /// The key itself. Shown this once: store it now.
    #[schema(example = "A2QnAjPg.2tBY21luBv1V1X1krrXQtmadPpwcuUjH")]
    pub key: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    /// What the key is for, e.g. "nightly import script".
    #[validate(required, length(min = 1, max = 100))]
    #[schema(required = true, nullable = false, min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// When the key stops working (RFC 3339); never when absent.
    #[validate(custom(function = "in_the_future"))]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<chrono::DateTime<Utc>>,
}

fn in_the_future(at: &chrono::DateTime<Utc>) -> Result<(), validator::ValidationError> {
    if *at > Utc::now() {
        Ok(())
    } else {
        Err(invalid("The expiry must be in the future."))
    }
}

/// The caller's keys that are not revoked, newest first.
#[utoipa::path(
    tag = "api keys",
    security(("api_key" = []), ("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of keys", body = Page<ApiKeyOut>),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
    ),
)]
#[get("/api/api-keys/")]
pub async fn list_api_keys(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<PageQuery>,
) -> Result<web::Json<Page<ApiKeyOut>>, ApiError> {
    let pagination = Pagination::new(&query, &state.settings)?;
    let (user_id, offset, limit) = (auth.user.id, pagination.offset(), pagination.limit());
    let (keys, total) = state
        .db
        .run(move |conn| ApiKey::list_for_user(conn, user_id, offset, limit))
        .await?;
    let results = keys.iter().map(ApiKeyOut::from).collect();
    Ok(web::Json(Page::new(
        &req,
        &state.settings,
        pagination,
        total as u64,
        results,
    )?))
}

/// Create a key. The response is the only time the key is shown.
#[utoipa::path(
    tag = "api keys",
    security(("api_key" = []), ("bearer" = [])),
    request_body = CreateApiKey,
    responses(
        (status = 201, description = "Created", body = ApiKeyCreated),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
    ),
)]
#[post("/api/api-keys/")]
pub async fn create_api_key(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ApiJson<CreateApiKey>,
) -> Result<HttpResponse, ApiError> {
    let ApiJson(CreateApiKey { name, expires_at }) = body;
    let name = name.unwrap_or_default();
    let issued = api_keys::issue(
        &state.db,
        auth.user.id,
        name.trim(),
        expires_at.map(|at| at.naive_utc()),
    )
    .await?;
    Ok(HttpResponse::Created().json(ApiKeyCreated {
        details: ApiKeyOut::from(&issued.record),
        key: issued.key,
    }))
}

/// Revoke one of the caller's keys; it stops working at once.
#[utoipa::path(
    tag = "api keys",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Key id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 404, description = "No such key of the caller", body = ErrorBody),
    ),
)]
#[delete("/api/api-keys/{id}/")]
pub async fn revoke_api_key(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (user_id, id, now) = (auth.user.id, id.into_inner(), Utc::now().naive_utc());
    state
        .db
        .run(move |conn| ApiKey::revoke(conn, user_id, id, now))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
