use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use oas_db::DbError;
use serde::Serialize;
use utoipa::ToSchema;

/// The stable kinds of API error, each with one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    BadRequest,
    Unauthenticated,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    Unprocessable,
    Throttled,
    BadGateway,
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn status(self) -> StatusCode {
        match self {
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Throttled => StatusCode::TOO_MANY_REQUESTS,
            Self::BadGateway => StatusCode::BAD_GATEWAY,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Field name to the problems found with it.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"detail": "Not found."}))]
pub struct ErrorBody {
    /// What went wrong, for a person.
    pub detail: String,
    /// For validation errors: the problems of each field (`parent.child`
    /// for a nested one).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<std::collections::HashMap<String, Vec<String>>>)]
    pub errors: Option<FieldErrors>,
}

/// An error answered to the client.
#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    detail: Cow<'static, str>,
    errors: Option<FieldErrors>,
    retry_after_secs: Option<u64>,
    /// For `MethodNotAllowed`: the methods the path serves (`Allow`).
    allow: Option<String>,
    /// For `Internal`: the cause, logged, never sent.
    source: Option<anyhow::Error>,
}

pub const INTERNAL_DETAIL: &str = "A server error occurred.";
pub const UNAUTHENTICATED_DETAIL: &str =
    "Authentication credentials were not provided or are invalid.";

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<Cow<'static, str>>) -> Self {
        Self {
            code,
            detail: detail.into(),
            errors: None,
            retry_after_secs: None,
            allow: None,
            source: None,
        }
    }

    pub fn bad_request(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::BadRequest, detail)
    }

    /// 400 with one problem of one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::validation(FieldErrors::from([(
            field.to_owned(),
            vec![message.into()],
        )]))
    }

    /// 400 with the problems of each field.
    pub fn validation(errors: FieldErrors) -> Self {
        let mut e = Self::new(ErrorCode::BadRequest, "Invalid input.");
        e.errors = Some(errors);
        e
    }

    /// The one answer to missing, malformed, expired or revoked credentials.
    pub fn unauthenticated() -> Self {
        Self::new(ErrorCode::Unauthenticated, UNAUTHENTICATED_DETAIL)
    }

    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound, "Not found.")
    }

    pub fn conflict(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::Conflict, detail)
    }

    pub fn forbidden() -> Self {
        Self::new(
            ErrorCode::Forbidden,
            "You do not have permission to perform this action.",
        )
    }

    /// 403 with the reason.
    pub fn forbidden_because(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::Forbidden, detail)
    }

    pub fn unavailable(detail: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::Unavailable, detail)
    }

    /// 405, naming the methods the path serves in `Allow` (RFC 9110).
    pub fn method_not_allowed(method: &str, allowed: &[String]) -> Self {
        let mut e = Self::new(
            ErrorCode::MethodNotAllowed,
            format!("Method \"{method}\" not allowed."),
        );
        e.allow = Some(allowed.join(", "));
        e
    }

    pub fn throttled(retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            ErrorCode::Throttled,
            format!("Request was throttled. Expected available in {retry_after_secs} seconds."),
        );
        e.retry_after_secs = Some(retry_after_secs);
        e
    }

    /// Something that should not happen: logged in full, answered opaquely.
    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        let mut e = Self::new(ErrorCode::Internal, INTERNAL_DETAIL);
        e.source = Some(source.into());
        e
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(source) => write!(f, "{}: {source:#}", self.detail),
            None => f.write_str(&self.detail),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if self.code == ErrorCode::Unauthenticated {
            response.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"api\""),
            ));
        }
        if let Some(secs) = self.retry_after_secs {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from(secs)));
        }
        if let Some(allow) = self
            .allow
            .as_deref()
            .and_then(|a| HeaderValue::from_str(a).ok())
        {
            response.insert_header((header::ALLOW, allow));
        }
        response.json(ErrorBody {
            detail: self.detail.to_string(),
            errors: self.errors.clone(),
        })
    }
}

impl From<DbError> for ApiError {
    fn from(error: DbError) -> Self {
        match error {
            DbError::NotFound => Self::not_found(),
            DbError::Unavailable(_) => {
                let mut e = Self::unavailable("The database is temporarily unavailable.");
                e.source = Some(error.into());
                e
            }
            other => Self::internal(other),
        }
    }
}

/// A workflow's failure, answered to the operator who called it.
impl From<crate::background::BackgroundError> for ApiError {
    fn from(error: crate::background::BackgroundError) -> Self {
        use crate::background::BackgroundError as E;
        match error {
            E::Passing(source) => {
                let mut e = Self::unavailable(
                    "A service OAS depends on is temporarily unavailable; try again shortly.",
                );
                e.source = Some(source);
                e
            }
            E::Refused(detail) => Self::conflict(detail),
            E::Invalid(detail) => Self::bad_request(detail),
            E::NotFound => Self::not_found(),
            E::Final(source) => Self::internal(source),
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::to_bytes;

    use super::*;

    async fn body(error: ApiError) -> (StatusCode, serde_json::Value) {
        let response = error.error_response();
        let status = response.status();
        let bytes = to_bytes(response.into_body()).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[actix_web::test]
    async fn bodies_are_exactly_detail_and_field_errors() {
        assert_eq!(
            body(ApiError::not_found()).await,
            (
                StatusCode::NOT_FOUND,
                serde_json::json!({"detail": "Not found."})
            )
        );
        let errors = FieldErrors::from([(
            "email".to_owned(),
            vec!["Enter a valid email address.".to_owned()],
        )]);
        assert_eq!(
            body(ApiError::validation(errors)).await,
            (
                StatusCode::BAD_REQUEST,
                serde_json::json!({"detail": "Invalid input.", "errors": {"email": ["Enter a valid email address."]}})
            )
        );
    }

    #[actix_web::test]
    async fn internal_errors_hide_their_cause_but_display_it_for_logs() {
        let error = ApiError::internal(anyhow::anyhow!("pool exhausted at shard 7"));
        assert!(error.to_string().contains("pool exhausted at shard 7"));
        let (status, json) = body(error).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(json, serde_json::json!({"detail": INTERNAL_DETAIL}));
    }

    #[actix_web::test]
    async fn throttling_says_when_to_retry() {
        let response = ApiError::throttled(42).error_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "42");
    }

    #[actix_web::test]
    async fn database_outages_are_503_not_500() {
        let (status, _) = body(DbError::Unavailable("connection refused".into()).into()).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        let (status, _) = body(DbError::NotFound.into()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}
