//! How the standard extractors answer bad input: JSON bodies, query strings
//! and path parameters that do not parse get a 4xx with `detail`, never a 500.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header::CONTENT_TYPE;
use actix_web::middleware::Next;
use actix_web::{Error, HttpRequest, ResponseError, web};

use super::error::{ApiError, ErrorCode};
use super::json::type_message;

/// JSON bodies: at most `limit` bytes, `application/json` only.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|error, req| json_error(error, req).into())
}

/// A path or query string with the NUL character (`%00`) is refused before
/// any handler reads it: no text of OAS holds one (PostgreSQL cannot).
pub async fn refuse_nul_in_url(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let uri = req.uri();
    if uri.path().contains("%00") || uri.query().is_some_and(|q| q.contains("%00")) {
        let refused = ApiError::bad_request("Null characters (%00) are not allowed in the URL.");
        let response = refused.error_response();
        return Ok(req.into_response(response).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error, _| query_error(error).into())
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|error, req| path_error(error, req).into())
}

fn json_error(error: JsonPayloadError, req: &HttpRequest) -> ApiError {
    match error {
        JsonPayloadError::ContentType => {
            let given = req
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if given.is_empty() {
                ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    "Missing Content-Type header: send the body as application/json.",
                )
            } else {
                ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    format!("Unsupported media type \"{given}\" in request."),
                )
            }
        }
        JsonPayloadError::OverflowKnownLength { limit, .. }
        | JsonPayloadError::Overflow { limit } => ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("Request body is too large: the limit is {limit} bytes."),
        ),
        JsonPayloadError::Deserialize(e) if e.is_data() => ApiError::bad_request(format!(
            "Invalid request body: {}",
            type_message(&e.to_string())
        )),
        JsonPayloadError::Deserialize(e) => {
            ApiError::bad_request(format!("JSON parse error - {e}."))
        }
        JsonPayloadError::Payload(e) => {
            ApiError::bad_request(format!("The request body could not be read: {e}."))
        }
        other => ApiError::internal(anyhow::anyhow!("JSON extractor: {other}")),
    }
}

fn query_error(error: QueryPayloadError) -> ApiError {
    match error {
        QueryPayloadError::Deserialize(e) => ApiError::bad_request(format!(
            "Invalid query parameters: {}",
            type_message(&e.to_string())
        )),
        other => ApiError::bad_request(format!("Invalid query parameters: {other}.")),
    }
}

/// A path parameter that does not parse (`/files/abc/` where an id is
/// expected) names no resource: 404, as Django's URL converters answer. A
/// literal path that a parameter route took for another method (`DELETE
/// /api/users/me/`, served for GET and PATCH only) is a 405.
fn path_error(_: PathError, req: &HttpRequest) -> ApiError {
    match super::fallback::allowed_at(req) {
        Some(allowed) if !allowed.iter().any(|m| m == req.method().as_str()) => {
            ApiError::method_not_allowed(req.method().as_str(), &allowed)
        }
        // The organisation routes say what they did not find, as the
        // seed documents do, whatever the id was.
        _ if req.path().starts_with("/api/organisations/") => {
            ApiError::new(ErrorCode::NotFound, crate::access::ORGANISATION_NOT_FOUND)
        }
        _ => ApiError::not_found(),
    }
}
