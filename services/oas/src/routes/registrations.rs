//! Asking for an account, and the administrators' decision.
//!
//! Anyone may ask (`POST /api/auth/register/`); staff list the requests and
//! approve or deny them. Approval creates the active account with the
//! password chosen when asking, an API key of its own, and sends the welcome
//! email carrying that key. Denial sends a short note.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{NaiveDateTime, Utc};
use oas_db::api_keys::ApiKey;
use oas_db::registrations::{NewRegistration, Registration};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::users::account_error;
use crate::accounts::{self, CheckedIdentity, CreateAccountError};
use crate::auth::{Authenticated, api_keys};
use crate::http::error::{ErrorBody, ErrorCode};
use crate::http::pagination::{Page, PageQuery, Pagination};
use crate::http::time::{utc, utc_opt};
use crate::http::{ApiError, ApiJson};
use crate::mail::Email;
use crate::state::AppState;

const PENDING: &str = "pending";
const APPROVED: &str = "approved";
const DENIED: &str = "denied";

#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationOut {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub message: String,
    /// `pending`, `approved` or `denied`.
    #[schema(example = "pending")]
    pub status: String,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<NaiveDateTime>,
    pub decided_by: Option<i64>,
    /// The account created on approval.
    pub user_id: Option<i64>,
}

impl From<Registration> for RegistrationOut {
    fn from(r: Registration) -> Self {
        Self {
            id: r.id,
            username: r.username,
            email: r.email,
            first_name: r.first_name,
            last_name: r.last_name,
            company: r.company,
            message: r.message,
            status: r.status,
            created_at: r.created_at,
            decided_at: r.decided_at,
            decided_by: r.decided_by,
            user_id: r.user_id,
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
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
    /// The label or distributor the account is for.
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub company: Option<String>,
    /// Anything the administrators should know.
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub message: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DenyRequest {
    /// Told to the person in the denial email.
    #[validate(length(max = 1000))]
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
}

fn registration_status() -> utoipa::openapi::Object {
    crate::http::schema::one_of(&[PENDING, APPROVED, DENIED], true)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegistrationFilter {
    /// `pending`, `approved` or `denied`; all when absent.
    #[param(value_type = Option<String>, schema_with = registration_status)]
    pub status: Option<String>,
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1)]
    pub page_size: Option<i64>,
}

/// Ask for an account. The request waits for an administrator; the answer
/// comes by email.
#[utoipa::path(
    tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Recorded, pending approval", body = RegistrationOut),
        (status = 400, description = "Invalid input, or the name or email is taken", body = ErrorBody),
    ),
)]
#[post("/api/auth/register/")]
pub async fn register(
    state: web::Data<AppState>,
    body: ApiJson<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let ApiJson(RegisterRequest {
        username,
        email,
        password,
        first_name,
        last_name,
        company,
        message,
    }) = body;
    let password = password.unwrap_or_default();
    let CheckedIdentity { username, email } = accounts::check(
        &state.db,
        &username.unwrap_or_default(),
        &email.unwrap_or_default(),
        &password,
    )
    .await
    .map_err(account_error)?;
    let (name, mail) = (username.as_str().to_owned(), email.as_str().to_owned());
    let (name_pending, mail_pending) = state
        .db
        .run(move |conn| Registration::exists_with(conn, PENDING, &name, &mail))
        .await?;
    if name_pending {
        return Err(ApiError::field(
            "username",
            "A request with this username is already waiting for approval.",
        ));
    }
    if mail_pending {
        return Err(ApiError::field(
            "email",
            "A request with this email is already waiting for approval.",
        ));
    }
    let hash = accounts::hash_password(password)
        .await
        .map_err(account_error)?;
    let registration = state
        .db
        .run(move |conn| {
            Registration::insert(
                conn,
                &NewRegistration {
                    username: username.as_str(),
                    email: email.as_str(),
                    password_hash: &hash,
                    first_name: first_name.unwrap_or_default().trim(),
                    last_name: last_name.unwrap_or_default().trim(),
                    company: company.unwrap_or_default().trim(),
                    message: message.unwrap_or_default().trim(),
                    status: PENDING,
                    created_at: Utc::now().naive_utc(),
                },
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(RegistrationOut::from(registration)))
}

/// Requests for an account, newest first (staff).
#[utoipa::path(
    tag = "registrations",
    security(("api_key" = []), ("bearer" = [])),
    params(RegistrationFilter),
    responses(
        (status = 200, description = "A page of requests", body = Page<RegistrationOut>),
        (status = 400, description = "Unknown status", body = ErrorBody),
        (status = 403, description = "Staff only", body = ErrorBody),
    ),
)]
#[get("/api/admin/registrations/")]
pub async fn list_registrations(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Authenticated,
    query: web::Query<RegistrationFilter>,
) -> Result<web::Json<Page<RegistrationOut>>, ApiError> {
    auth.require_staff()?;
    let RegistrationFilter {
        status,
        page,
        page_size,
    } = query.into_inner();
    if let Some(status) = &status
        && ![PENDING, APPROVED, DENIED].contains(&status.as_str())
    {
        return Err(ApiError::bad_request(
            "status must be pending, approved or denied.",
        ));
    }
    let pagination = Pagination::new(&PageQuery { page, page_size }, &state.settings)?;
    let (offset, limit) = (pagination.offset(), pagination.limit());
    let (rows, total) = state
        .db
        .run(move |conn| Registration::list(conn, status.as_deref(), offset, limit))
        .await?;
    let results = rows.into_iter().map(RegistrationOut::from).collect();
    Ok(web::Json(Page::new(
        &req,
        &state.settings,
        pagination,
        total as u64,
        results,
    )?))
}

/// One request (staff).
#[utoipa::path(
    tag = "registrations",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Registration id")),
    responses(
        (status = 200, description = "The request", body = RegistrationOut),
        (status = 403, description = "Staff only", body = ErrorBody),
        (status = 404, description = "No such request", body = ErrorBody),
    ),
)]
#[get("/api/admin/registrations/{id}/")]
pub async fn get_registration(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> Result<web::Json<RegistrationOut>, ApiError> {
    auth.require_staff()?;
    let id = *id;
    Ok(web::Json(
        state
            .db
            .run(move |conn| Registration::find(conn, id))
            .await?
            .into(),
    ))
}

async fn pending(state: &AppState, id: i64) -> Result<Registration, ApiError> {
    let registration = state
        .db
        .run(move |conn| Registration::find(conn, id))
        .await?;
    if registration.status != PENDING {
        return Err(ApiError::conflict(format!(
            "This request was already {}.",
            registration.status
        )));
    }
    Ok(registration)
}

/// Approve a request: the account is created with an API key, and the
/// welcome email carries the key.
#[utoipa::path(
    tag = "registrations",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Registration id")),
    responses(
        (status = 200, description = "Approved; the account exists", body = RegistrationOut),
        (status = 403, description = "Staff only", body = ErrorBody),
        (status = 404, description = "No such request", body = ErrorBody),
        (status = 409, description = "Already decided, or the name or email was taken since", body = ErrorBody),
        (status = 502, description = "Approved, but the welcome email could not be sent", body = ErrorBody),
    ),
)]
#[post("/api/admin/registrations/{id}/approve/")]
pub async fn approve_registration(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> Result<web::Json<RegistrationOut>, ApiError> {
    auth.require_staff()?;
    let registration = pending(&state, *id).await?;
    let identity = CheckedIdentity {
        username: oas_domain::identity::Username::parse(&registration.username)
            .map_err(ApiError::internal)?,
        email: oas_domain::identity::Email::parse(&registration.email)
            .map_err(ApiError::internal)?,
    };
    let user = accounts::create_hashed(
        &state.db,
        identity,
        registration.password_hash.clone(),
        registration.first_name.clone(),
        registration.last_name.clone(),
        false,
        false,
    )
    .await
    .map_err(|e| match e {
        CreateAccountError::UsernameTaken | CreateAccountError::EmailTaken => {
            ApiError::conflict(format!("{e} Deny this request or ask for another name."))
        }
        other => account_error(other),
    })?;
    let (registration_id, decided_by, user_id, now) = (
        registration.id,
        auth.user.id,
        user.id,
        Utc::now().naive_utc(),
    );
    let decided = state
        .db
        .run(move |conn| {
            Registration::decide(
                conn,
                registration_id,
                APPROVED,
                decided_by,
                now,
                Some(user_id),
            )
        })
        .await?;
    if !decided {
        return Err(ApiError::conflict(
            "This request was decided by someone else meanwhile.",
        ));
    }
    let key = api_keys::issue(&state.db, user.id, "welcome", None).await?;
    let base = state.base_url().as_str().trim_end_matches('/').to_owned();
    let greeting = if user.first_name.is_empty() {
        user.username.clone()
    } else {
        user.first_name.clone()
    };
    let sent = state
        .mailer
        .send(Email {
            to: user.email.clone(),
            subject: "Welcome to OAS".into(),
            body: format!(
                "Hello {greeting},\n\nyour OAS account \"{}\" is approved.\n\n\
                 Your API key is:\n\n    {}\n\n\
                 Send it in the X-Api-Key header of each request, for example:\n\n    \
                 curl -H \"X-Api-Key: {}\" {base}/helloworld\n\n\
                 Store it somewhere safe: it is not shown again. You can also sign in at {base}/api/auth/login/ \
                 with your username, email and password, and manage your keys at {base}/api/api-keys/.\n",
                user.username, key.key, key.key
            ),
        })
        .await;
    if let Err(e) = sent {
        tracing::error!(error = %e, registration = registration_id, "welcome email not sent; its key is revoked");
        let (owner, key_id) = (user.id, key.record.id);
        state
            .db
            .run(move |conn| ApiKey::revoke(conn, owner, key_id, Utc::now().naive_utc()))
            .await?;
        return Err(ApiError::new(
            ErrorCode::BadGateway,
            "The account was approved, but the welcome email could not be sent. The user can sign in with \
             their password and create an API key; check the mail settings.",
        ));
    }
    let id = registration_id;
    Ok(web::Json(
        state
            .db
            .run(move |conn| Registration::find(conn, id))
            .await?
            .into(),
    ))
}

/// Deny a request; a short email tells the person.
#[utoipa::path(
    tag = "registrations",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Registration id")),
    request_body = DenyRequest,
    responses(
        (status = 200, description = "Denied", body = RegistrationOut),
        (status = 403, description = "Staff only", body = ErrorBody),
        (status = 404, description = "No such request", body = ErrorBody),
        (status = 409, description = "Already decided", body = ErrorBody),
    ),
)]
#[post("/api/admin/registrations/{id}/deny/")]
pub async fn deny_registration(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    body: ApiJson<DenyRequest>,
) -> Result<web::Json<RegistrationOut>, ApiError> {
    auth.require_staff()?;
    let registration = pending(&state, *id).await?;
    let (registration_id, decided_by, now) =
        (registration.id, auth.user.id, Utc::now().naive_utc());
    let decided = state
        .db
        .run(move |conn| Registration::decide(conn, registration_id, DENIED, decided_by, now, None))
        .await?;
    if !decided {
        return Err(ApiError::conflict(
            "This request was decided by someone else meanwhile.",
        ));
    }
    let reason = body
        .0
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    let sent = state
        .mailer
        .send(Email {
            to: registration.email.clone(),
            subject: "Your OAS account request".into(),
            body: format!(
                "Hello,\n\nyour request for the OAS account \"{}\" was not approved.{}\n",
                registration.username,
                reason
                    .map(|r| format!("\n\nReason: {r}"))
                    .unwrap_or_default()
            ),
        })
        .await;
    if let Err(e) = sent {
        tracing::error!(error = %e, registration = registration_id, "denial email not sent");
    }
    let id = registration_id;
    Ok(web::Json(
        state
            .db
            .run(move |conn| Registration::find(conn, id))
            .await?
            .into(),
    ))
}
