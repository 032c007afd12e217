//! Authentication as an extractor: a handler that takes [`Authenticated`]
//! runs only for an active user presenting a valid `Authorization: Bearer`
//! access token or `X-Api-Key`. Everything else is the same 401, whatever
//! was wrong, so probing learns nothing.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use chrono::Utc;
use oas_db::api_keys::ApiKey;
use oas_db::users::User;

use super::api_keys;
use super::tokens::TokenType;
use crate::http::ApiError;
use crate::state::AppState;

pub const API_KEY_HEADER: &str = "x-api-key";

/// How often a key's `last_used` is written at most.
const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);

/// What the caller authenticated with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    AccessToken { jti: String },
    ApiKey { id: i64 },
}

/// The authenticated, active user of a request.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: User,
    pub credential: Credential,
}

impl Authenticated {
    /// Staff and superusers administer users and registrations.
    pub fn require_staff(&self) -> Result<(), ApiError> {
        if self.user.is_staff || self.user.is_superuser {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }

    pub fn require_superuser(&self) -> Result<(), ApiError> {
        if self.user.is_superuser {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }
}

enum Presented {
    Bearer(String),
    ApiKey(String),
}

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let presented = presented(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal(anyhow::anyhow!("no app state")))?;
            match presented {
                Some(Presented::Bearer(token)) => by_access_token(&state, &token).await,
                Some(Presented::ApiKey(key)) => by_api_key(&state, &key).await,
                None => Err(ApiError::unauthenticated()),
            }
        })
    }
}

fn presented(req: &HttpRequest) -> Option<Presented> {
    if let Some(value) = req.headers().get(AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| Presented::Bearer(token.trim().to_owned()));
    }
    let key = req.headers().get(API_KEY_HEADER)?.to_str().ok()?;
    Some(Presented::ApiKey(key.trim().to_owned()))
}

async fn active_user(state: &AppState, user_id: i64) -> Result<User, ApiError> {
    let user = state
        .db
        .run(move |conn| User::find(conn, user_id))
        .await
        .map_err(|e| match e {
            oas_db::DbError::NotFound => ApiError::unauthenticated(),
            other => other.into(),
        })?;
    if !user.is_active {
        return Err(ApiError::unauthenticated());
    }
    Ok(user)
}

async fn by_access_token(state: &AppState, token: &str) -> Result<Authenticated, ApiError> {
    let claims = state
        .tokens
        .verify(token, TokenType::Access)
        .map_err(|_| ApiError::unauthenticated())?;
    let user = active_user(state, claims.user_id).await?;
    Ok(Authenticated {
        user,
        credential: Credential::AccessToken { jti: claims.jti },
    })
}

async fn by_api_key(state: &AppState, key: &str) -> Result<Authenticated, ApiError> {
    let prefix = api_keys::prefix_of(key)
        .ok_or_else(ApiError::unauthenticated)?
        .to_owned();
    let key = key.to_owned();
    let now = Utc::now().naive_utc();
    // One trip to the database: the key with its account, checked, and its
    // use recorded when the last record is over a minute old.
    let found = state
        .db
        .run(move |conn| {
            let Some((stored, user)) = ApiKey::find_with_user(conn, &prefix)? else {
                return Ok(None);
            };
            let live = stored.revoked_at.is_none() && stored.expires_at.is_none_or(|at| at > now);
            if !live || !api_keys::matches(&key, &stored) || !user.is_active {
                return Ok(None);
            }
            if stored.last_used_at.is_none_or(|at| at < now - TOUCH_EVERY) {
                ApiKey::touch(conn, stored.id, now, TOUCH_EVERY)?;
            }
            Ok(Some((stored.id, user)))
        })
        .await?;
    let (id, user) = found.ok_or_else(ApiError::unauthenticated)?;
    Ok(Authenticated {
        user,
        credential: Credential::ApiKey { id },
    })
}
