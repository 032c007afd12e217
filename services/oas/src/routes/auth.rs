//! Signing in and out: JWT pairs, rotation of refresh tokens, throttling.

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::Utc;
use oas_db::refresh_tokens::{NewRefreshToken, RefreshToken};
use oas_db::users::User;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::views::UserOut;
use crate::auth::password;
use crate::auth::throttle::{self, PER_ADDRESS, PER_USERNAME};
use crate::auth::tokens::{Claims, TokenType};
use crate::http::error::{ErrorBody, ErrorCode};
use crate::http::{ApiError, ApiJson};
use crate::state::AppState;

pub const BAD_CREDENTIALS: &str = "Unable to log in with the provided credentials.";
pub const BAD_TOKEN: &str = "Token is invalid or expired.";

/// Verifying against this when the username is unknown takes as long as a
/// real check, so timing does not tell which usernames exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$YWJjZGVmZ2hpamtsbW5vcA$Cd7H3oeMmA7jmqwKz4yY2hQ3Qn7m3gq0x2k5Yc8pKjU";

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[validate(required, length(min = 1, max = 150))]
    #[schema(
        example = "your_username",
        required = true,
        nullable = false,
        min_length = 1,
        max_length = 150
    )]
    pub username: Option<String>,
    #[validate(required, length(min = 1, max = 254))]
    #[schema(
        example = "your@email.com",
        required = true,
        nullable = false,
        min_length = 1,
        max_length = 254
    )]
    pub email: Option<String>,
    #[validate(required, length(min = 1, max = 256))]
    #[schema(
        example = "your_password",
        required = true,
        nullable = false,
        min_length = 1,
        max_length = 256
    )]
    pub password: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Short-lived token for `Authorization: Bearer`.
    pub access: String,
    /// Exchange at `/api/auth/refresh/` for a new pair; usable once.
    pub refresh: String,
    pub user: UserOut,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[validate(required, length(min = 1, max = 4096))]
    #[schema(required = true, nullable = false, min_length = 1, max_length = 4096)]
    pub refresh: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    pub access: String,
    pub refresh: String,
}

/// Issues an access token and a recorded refresh token.
pub async fn issue_pair(state: &AppState, user_id: i64) -> Result<TokenPair, ApiError> {
    let now = Utc::now();
    let (access, _) = state
        .tokens
        .issue(TokenType::Access, user_id, now)
        .map_err(ApiError::internal)?;
    let (refresh, claims) = state
        .tokens
        .issue(TokenType::Refresh, user_id, now)
        .map_err(ApiError::internal)?;
    record_refresh(state, &claims).await?;
    Ok(TokenPair { access, refresh })
}

async fn record_refresh(state: &AppState, claims: &Claims) -> Result<(), ApiError> {
    let (jti, user_id) = (claims.jti.clone(), claims.user_id);
    let (issued_at, expires_at) = (
        claims.issued_at().naive_utc(),
        claims.expires_at().naive_utc(),
    );
    state
        .db
        .run(move |conn| {
            RefreshToken::insert(
                conn,
                &NewRefreshToken {
                    jti: &jti,
                    user_id,
                    issued_at,
                    expires_at,
                },
            )
        })
        .await?;
    Ok(())
}

fn client_address(req: &HttpRequest) -> String {
    let info = req.connection_info();
    let raw = info.realip_remote_addr().unwrap_or("unknown");
    raw.parse::<std::net::SocketAddr>()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|_| raw.to_owned())
}

/// Sign in with username, email and password (all three must match one
/// active account). Repeated failures for a username or from an address
/// are throttled.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = LoginResponse),
        (status = 400, description = "A field is missing or malformed", body = ErrorBody),
        (status = 401, description = "Wrong credentials", body = ErrorBody,
            example = json!({"detail": "Unable to log in with the provided credentials."})),
        (status = 429, description = "Too many failed attempts; see Retry-After", body = ErrorBody),
    ),
)]
#[post("/api/auth/login/")]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: ApiJson<LoginRequest>,
) -> Result<web::Json<LoginResponse>, ApiError> {
    let ApiJson(LoginRequest {
        username,
        email,
        password,
    }) = body;
    let (username, email, password) = (
        username.unwrap_or_default(),
        email.unwrap_or_default(),
        password.unwrap_or_default(),
    );
    let user_scope = throttle::username_scope(&username);
    let address_scope = throttle::address_scope(&client_address(&req));
    let now = Utc::now().naive_utc();

    let (scopes, lookup) = (
        (user_scope.clone(), address_scope.clone()),
        username.clone(),
    );
    let (wait, user) = state
        .db
        .run(move |conn| {
            let wait = throttle::retry_after(
                conn,
                &[(&scopes.0, PER_USERNAME), (&scopes.1, PER_ADDRESS)],
                now,
            )?;
            Ok((wait, User::find_by_username(conn, &lookup)?))
        })
        .await?;
    if let Some(seconds) = wait {
        return Err(ApiError::throttled(seconds));
    }

    let hash = user
        .as_ref()
        .map_or(DUMMY_HASH.to_owned(), |u| u.password_hash.clone());
    let password_ok = tokio::task::spawn_blocking(move || password::verify(&password, &hash))
        .await
        .map_err(ApiError::internal)?;
    let accepted =
        user.filter(|u| password_ok && u.is_active && u.email.eq_ignore_ascii_case(email.trim()));

    let Some(user) = accepted else {
        state
            .db
            .run(move |conn| throttle::record_failure(conn, &[&user_scope, &address_scope], now))
            .await?;
        return Err(ApiError::new(ErrorCode::Unauthenticated, BAD_CREDENTIALS));
    };

    let id = user.id;
    let user = state
        .db
        .run(move |conn| {
            oas_db::login_failures::clear(conn, &user_scope)?;
            User::record_login(conn, id, now)?;
            User::find(conn, id)
        })
        .await?;
    let pair = issue_pair(&state, user.id).await?;
    Ok(web::Json(LoginResponse {
        access: pair.access,
        refresh: pair.refresh,
        user: UserOut::from(&user),
    }))
}

/// Exchange a refresh token for a new pair. The token given is spent: using
/// it again fails.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new pair", body = TokenPair),
        (status = 400, description = "Missing or malformed field", body = ErrorBody),
        (status = 401, description = "Invalid, expired, revoked or already used", body = ErrorBody),
    ),
)]
#[post("/api/auth/refresh/")]
pub async fn refresh_tokens(
    state: web::Data<AppState>,
    body: ApiJson<RefreshRequest>,
) -> Result<web::Json<TokenPair>, ApiError> {
    let claims = spend_refresh(&state, body.0.refresh.as_deref().unwrap_or_default()).await?;
    let user_id = claims.user_id;
    let user = state.db.run(move |conn| User::find(conn, user_id)).await?;
    if !user.is_active {
        return Err(ApiError::new(ErrorCode::Unauthenticated, BAD_TOKEN));
    }
    Ok(web::Json(issue_pair(&state, user.id).await?))
}

/// Sign out: the refresh token is revoked. Access tokens already issued
/// expire on their own (15 minutes by default).
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "Invalid, expired or already revoked", body = ErrorBody),
    ),
)]
#[post("/api/auth/logout/")]
pub async fn logout(
    state: web::Data<AppState>,
    body: ApiJson<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    spend_refresh(&state, body.0.refresh.as_deref().unwrap_or_default()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Verifies a refresh token and revokes it; exactly one caller succeeds.
async fn spend_refresh(state: &AppState, token: &str) -> Result<Claims, ApiError> {
    let invalid = || ApiError::new(ErrorCode::Unauthenticated, BAD_TOKEN);
    let claims = state
        .tokens
        .verify(token, TokenType::Refresh)
        .map_err(|_| invalid())?;
    let (jti, user_id, now) = (claims.jti.clone(), claims.user_id, Utc::now().naive_utc());
    let spent = state
        .db
        .run(move |conn| RefreshToken::consume(conn, &jti, user_id, now))
        .await?;
    if !spent {
        return Err(invalid());
    }
    Ok(claims)
}
