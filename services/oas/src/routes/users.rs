//! Accounts, administered by staff and superusers. Accounts are never
//! erased (files and statements keep their author): DELETE deactivates.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::Utc;
use oas_db::DbError;
use oas_db::api_keys::ApiKey;
use oas_db::refresh_tokens::RefreshToken;
use oas_db::users::{EMAIL_KEY, User, UserChanges};
use oas_domain::identity::{Email, parse_language, parse_timezone};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::views::UserDetail;
use crate::accounts::{self, AccountRequest, CreateAccountError};
use crate::auth::Authenticated;
use crate::http::error::{ErrorBody, FieldErrors};
use crate::http::pagination::{Page, PageQuery, Pagination};
use crate::http::{ApiError, ApiJson};
use crate::state::AppState;

/// How account creation failures read to the client.
pub fn account_error(error: CreateAccountError) -> ApiError {
    match error {
        CreateAccountError::Invalid { field, message } => ApiError::field(field, message),
        CreateAccountError::UsernameTaken => {
            ApiError::field("username", "A user with that username already exists.")
        }
        CreateAccountError::EmailTaken => {
            ApiError::field("email", "A user with that email already exists.")
        }
        CreateAccountError::Database(e) => e.into(),
        CreateAccountError::Internal(e) => ApiError::internal(anyhow::anyhow!(e)),
    }
}

/// Email conflicts on update read as a field error.
pub fn email_conflict(error: DbError) -> ApiError {
    if error.is_conflict_on(EMAIL_KEY)
        || matches!(&error, DbError::Conflict(c) if c.contains("users.email") || c.contains("email"))
    {
        ApiError::field("email", "A user with that email already exists.")
    } else {
        error.into()
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserSearch {
    /// Part of a username, email or name, any case.
    #[param(max_length = 254)]
    pub search: Option<String>,
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1)]
    pub page_size: Option<i64>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Letters, digits and `@.+-_`.
    #[validate(required, length(min = 1, max = 150))]
    #[schema(
        required = true,
        nullable = false,
        pattern = r"^\s*[\w@.+-]+\s*$",
        min_length = 1,
        max_length = 150
    )]
    pub username: Option<String>,
    #[validate(required, length(min = 1, max = 254))]
    #[schema(required = true, nullable = false, format = Email, min_length = 1, max_length = 254)]
    pub email: Option<String>,
    /// At least 10 characters, and hard to guess (a zxcvbn score of 3).
    #[validate(required, length(min = 1, max = 256))]
    #[schema(required = true, nullable = false, min_length = 10, max_length = 256)]
    pub password: Option<String>,
    #[validate(length(max = 150))]
    #[schema(max_length = 150)]
    pub first_name: Option<String>,
    #[validate(length(max = 150))]
    #[schema(max_length = 150)]
    pub last_name: Option<String>,
    pub is_staff: Option<bool>,
    /// Superusers only.
    pub is_superuser: Option<bool>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[validate(length(min = 1, max = 254))]
    #[schema(format = Email, min_length = 1, max_length = 254)]
    pub email: Option<String>,
    #[validate(length(max = 150))]
    #[schema(max_length = 150)]
    pub first_name: Option<String>,
    #[validate(length(max = 150))]
    #[schema(max_length = 150)]
    pub last_name: Option<String>,
    /// BCP 47 tag such as `en`, `es`, `pt-BR`.
    #[validate(length(min = 2, max = 20))]
    #[schema(pattern = r"^[a-z]{2,3}(-[A-Z]{2})?$", example = "en")]
    pub language: Option<String>,
    /// IANA time zone such as `Europe/Madrid`.
    #[validate(length(min = 1, max = 64))]
    #[schema(value_type = Option<String>, schema_with = crate::http::schema::timezone_or_null)]
    pub timezone: Option<String>,
    pub is_active: Option<bool>,
    pub is_staff: Option<bool>,
    /// Superusers only.
    pub is_superuser: Option<bool>,
}

/// Validates profile fields into changes; shared with `/api/users/me/`.
pub fn profile_changes(
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    language: Option<String>,
    timezone: Option<String>,
) -> Result<UserChanges, ApiError> {
    let mut errors = FieldErrors::new();
    let mut changes = UserChanges::default();
    if let Some(raw) = email {
        match Email::parse(&raw) {
            Ok(email) => changes.email = Some(email.as_str().to_owned()),
            Err(e) => errors.entry("email".into()).or_default().push(e.0),
        }
    }
    if let Some(raw) = language {
        match parse_language(&raw) {
            Ok(language) => changes.language = Some(language),
            Err(e) => errors.entry("language".into()).or_default().push(e.0),
        }
    }
    if let Some(raw) = timezone {
        match parse_timezone(&raw) {
            Ok(timezone) => changes.timezone = Some(timezone),
            Err(e) => errors.entry("timezone".into()).or_default().push(e.0),
        }
    }
    changes.first_name = first_name.map(|s| s.trim().to_owned());
    changes.last_name = last_name.map(|s| s.trim().to_owned());
    if errors.is_empty() {
        Ok(changes)
    } else {
        Err(ApiError::validation(errors))
    }
}

async fn find(state: &AppState, id: i64) -> Result<User, ApiError> {
    Ok(state.db.run(move |conn| User::find(conn, id)).await?)
}

/// Accounts, by username; `search` filters on username, email and names.
#[utoipa::path(
    tag = "users",
    security(("api_key" = []), ("bearer" = [])),
    params(UserSearch),
    responses(
        (status = 200, description = "A page of accounts", body = Page<UserDetail>),
        (status = 403, description = "Staff only", body = ErrorBody),
    ),
)]
#[get("/api/users/")]
pub async fn list_users(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<UserSearch>,
) -> Result<web::Json<Page<UserDetail>>, ApiError> {
    auth.require_staff()?;
    let UserSearch {
        search,
        page,
        page_size,
    } = query.into_inner();
    if search.as_deref().is_some_and(|s| s.chars().count() > 254) {
        return Err(ApiError::bad_request(
            "search may have at most 254 characters.",
        ));
    }
    let pagination = Pagination::new(&PageQuery { page, page_size }, &state.settings)?;
    let (offset, limit) = (pagination.offset(), pagination.limit());
    let (rows, total) = state
        .db
        .run(move |conn| User::list(conn, search.as_deref(), offset, limit))
        .await?;
    let results = rows.iter().map(UserDetail::from).collect();
    Ok(web::Json(Page::new(
        &req,
        &state.settings,
        pagination,
        total as u64,
        results,
    )?))
}

/// Create an active account (staff; only superusers create superusers).
#[utoipa::path(
    tag = "users",
    security(("api_key" = []), ("bearer" = [])),
    request_body = CreateUser,
    responses(
        (status = 201, description = "Created", body = UserDetail),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 403, description = "Staff only", body = ErrorBody),
    ),
)]
#[post("/api/users/")]
pub async fn create_user(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ApiJson<CreateUser>,
) -> Result<HttpResponse, ApiError> {
    auth.require_staff()?;
    let ApiJson(CreateUser {
        username,
        email,
        password,
        first_name,
        last_name,
        is_staff,
        is_superuser,
    }) = body;
    let is_superuser = is_superuser.unwrap_or(false);
    if is_superuser {
        auth.require_superuser()?;
    }
    let user = accounts::create(
        &state.db,
        AccountRequest {
            username: username.unwrap_or_default(),
            email: email.unwrap_or_default(),
            password: password.unwrap_or_default().into(),
            first_name: first_name.unwrap_or_default(),
            last_name: last_name.unwrap_or_default(),
            is_superuser,
            is_staff: is_staff.unwrap_or(false) || is_superuser,
        },
    )
    .await
    .map_err(account_error)?;
    Ok(HttpResponse::Created().json(UserDetail::from(&user)))
}

/// One account.
#[utoipa::path(
    tag = "users",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses(
        (status = 200, description = "The account", body = UserDetail),
        (status = 403, description = "Staff only", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
    ),
)]
#[get("/api/users/{id}/")]
pub async fn get_user(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> Result<web::Json<UserDetail>, ApiError> {
    auth.require_staff()?;
    Ok(web::Json(UserDetail::from(&find(&state, *id).await?)))
}

/// Change an account (staff). Superuser accounts and the superuser flag are
/// for superusers; nobody removes their own administrator access.
#[utoipa::path(
    tag = "users",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    request_body = UpdateUser,
    responses(
        (status = 200, description = "Updated", body = UserDetail),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 409, description = "It would lock the caller out", body = ErrorBody),
    ),
)]
#[patch("/api/users/{id}/")]
pub async fn update_user(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    body: ApiJson<UpdateUser>,
) -> Result<web::Json<UserDetail>, ApiError> {
    auth.require_staff()?;
    let target = find(&state, *id).await?;
    let ApiJson(UpdateUser {
        email,
        first_name,
        last_name,
        language,
        timezone,
        is_active,
        is_staff,
        is_superuser,
    }) = body;
    if target.is_superuser || is_superuser.is_some() {
        auth.require_superuser()?;
    }
    let own = target.id == auth.user.id;
    if own && (is_active == Some(false) || is_staff == Some(false) || is_superuser == Some(false)) {
        return Err(ApiError::conflict(
            "You cannot deactivate yourself or remove your own administrator access.",
        ));
    }
    let mut changes = profile_changes(email, first_name, last_name, language, timezone)?;
    changes.is_active = is_active;
    changes.is_staff = is_staff;
    changes.is_superuser = is_superuser;
    let (target_id, now) = (target.id, Utc::now().naive_utc());
    let user = state
        .db
        .transaction(move |conn| {
            let user = User::update(conn, target_id, &changes)?;
            if !user.is_active {
                RefreshToken::revoke_all_for_user(conn, user.id, None, now)?;
            }
            Ok(user)
        })
        .await
        .map_err(email_conflict)?;
    Ok(web::Json(UserDetail::from(&user)))
}

/// Deactivate an account: its tokens and keys stop working at once.
#[utoipa::path(
    tag = "users",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "User id")),
    responses(
        (status = 204, description = "Deactivated"),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 409, description = "Callers cannot deactivate themselves", body = ErrorBody),
    ),
)]
#[delete("/api/users/{id}/")]
pub async fn deactivate_user(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require_staff()?;
    let target = find(&state, *id).await?;
    if target.is_superuser {
        auth.require_superuser()?;
    }
    if target.id == auth.user.id {
        return Err(ApiError::conflict(
            "You cannot deactivate yourself or remove your own administrator access.",
        ));
    }
    let (target_id, now) = (target.id, Utc::now().naive_utc());
    state
        .db
        .transaction(move |conn| {
            User::update(
                conn,
                target_id,
                &UserChanges {
                    is_active: Some(false),
                    ..Default::default()
                },
            )?;
            RefreshToken::revoke_all_for_user(conn, target_id, None, now)?;
            // Keys are revoked too: reactivating an account should not revive
            // credentials that may have leaked in the meantime.
            ApiKey::revoke_all_for_user(conn, target_id, now)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
