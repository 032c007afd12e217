//! The caller's own account: profile, preferences, password.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::Utc;
use oas_db::refresh_tokens::RefreshToken;
use oas_db::users::{User, UserChanges};
use oas_domain::identity::PasswordPolicy;
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use super::users::{email_conflict, profile_changes};
use super::views::UserDetail;
use crate::auth::tokens::TokenType;
use crate::auth::{Authenticated, password};
use crate::http::error::ErrorBody;
use crate::http::{ApiError, ApiJson};
use crate::state::AppState;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMe {
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
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    #[validate(required, length(min = 1, max = 256))]
    #[schema(required = true, nullable = false, min_length = 1, max_length = 256)]
    pub old_password: Option<String>,
    /// At least 10 characters, and hard to guess (a zxcvbn score of 3).
    #[validate(required, length(min = 1, max = 256))]
    #[schema(required = true, nullable = false, min_length = 10, max_length = 256)]
    pub new_password: Option<String>,
    /// The caller's current refresh token, to keep this session signed in;
    /// every other refresh token is revoked.
    #[validate(length(max = 4096))]
    #[schema(max_length = 4096)]
    pub refresh: Option<String>,
}

/// The caller's account.
#[utoipa::path(
    tag = "users",
    security(("api_key" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The caller's account", body = UserDetail),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
    ),
)]
#[get("/api/users/me/")]
pub async fn get_me(auth: Authenticated) -> web::Json<UserDetail> {
    web::Json(UserDetail::from(&auth.user))
}

/// Change the caller's names, email, language or time zone.
#[utoipa::path(
    tag = "users",
    security(("api_key" = []), ("bearer" = [])),
    request_body = UpdateMe,
    responses(
        (status = 200, description = "Updated", body = UserDetail),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
    ),
)]
#[patch("/api/users/me/")]
pub async fn update_me(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ApiJson<UpdateMe>,
) -> Result<web::Json<UserDetail>, ApiError> {
    let ApiJson(UpdateMe {
        email,
        first_name,
        last_name,
        language,
        timezone,
    }) = body;
    let changes = profile_changes(email, first_name, last_name, language, timezone)?;
    let id = auth.user.id;
    let user = state
        .db
        .run(move |conn| User::update(conn, id, &changes))
        .await
        .map_err(email_conflict)?;
    Ok(web::Json(UserDetail::from(&user)))
}

/// Change the caller's password. The old one is required; every refresh
/// token but the one given in `refresh` is revoked.
#[utoipa::path(
    tag = "users",
    security(("api_key" = []), ("bearer" = [])),
    request_body = ChangePassword,
    responses(
        (status = 204, description = "Changed"),
        (status = 400, description = "Wrong old password or weak new one", body = ErrorBody),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
    ),
)]
#[post("/api/users/me/password/")]
pub async fn change_password(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ApiJson<ChangePassword>,
) -> Result<HttpResponse, ApiError> {
    let ApiJson(ChangePassword {
        old_password,
        new_password,
        refresh,
    }) = body;
    let (old, new) = (
        old_password.unwrap_or_default(),
        new_password.unwrap_or_default(),
    );
    let user = auth.user;
    let stored = user.password_hash.clone();
    let old_ok = tokio::task::spawn_blocking(move || password::verify(&old, &stored))
        .await
        .map_err(ApiError::internal)?;
    if !old_ok {
        return Err(ApiError::field(
            "old_password",
            "Your old password was entered incorrectly.",
        ));
    }
    PasswordPolicy::default()
        .check(&new, &[user.username.as_str(), user.email.as_str()])
        .map_err(|e| ApiError::field("new_password", e.to_string()))?;
    let hash = tokio::task::spawn_blocking(move || password::hash(&new))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    let keep = refresh
        .and_then(|token| state.tokens.verify(&token, TokenType::Refresh).ok())
        .filter(|claims| claims.user_id == user.id)
        .map(|claims| claims.jti);
    let (id, now) = (user.id, Utc::now().naive_utc());
    state
        .db
        .transaction(move |conn| {
            User::update(
                conn,
                id,
                &UserChanges {
                    password_hash: Some(hash),
                    ..Default::default()
                },
            )?;
            RefreshToken::revoke_all_for_user(conn, id, keep.as_deref(), now)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
