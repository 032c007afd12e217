//! Answers for requests no handler took, and a last guard that turns any
//! non-JSON error body (from actix itself or a middleware) into `{"detail"}`.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{CONTENT_LENGTH, CONTENT_TYPE, LOCATION, ORIGIN};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{HttpRequest, HttpResponse, ResponseError};

use super::error::{ApiError, ErrorBody};

/// The default service: 405 when the path exists for other methods (with
/// `Allow` naming them, as RFC 9110 asks), else 404.
pub async fn no_route(req: HttpRequest) -> HttpResponse {
    if !req.resource_map().has_resource(req.path()) {
        return missing_slash(&req).unwrap_or_else(|| ApiError::not_found().error_response());
    }
    let allowed = allowed_at(&req).unwrap_or_default();
    ApiError::method_not_allowed(req.method().as_str(), &allowed).error_response()
}

/// A path that exists with a trailing slash: a GET or HEAD is redirected
/// there (308, which keeps the method); any other request is told where.
fn missing_slash(req: &HttpRequest) -> Option<HttpResponse> {
    let path = req.path();
    if path.ends_with('/') {
        return None;
    }
    let with_slash = format!("{path}/");
    if !req.resource_map().has_resource(&with_slash) {
        return None;
    }
    let detail = format!("Not found. The path ends with a slash: {with_slash}");
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        let location = match req.query_string() {
            "" => with_slash,
            query => format!("{with_slash}?{query}"),
        };
        return Some(
            HttpResponse::PermanentRedirect()
                .insert_header((LOCATION, location))
                .json(ErrorBody {
                    detail,
                    errors: None,
                }),
        );
    }
    Some(HttpResponse::NotFound().json(ErrorBody {
        detail,
        errors: None,
    }))
}

/// The methods the documented path that `req`'s path resolves to serves.
pub fn allowed_at(req: &HttpRequest) -> Option<Vec<String>> {
    req.app_data::<actix_web::web::Data<crate::state::AppState>>()
        .and_then(|state| state.routes.allowed(req.path()))
}

pub fn json_error_bodies<B: MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(ensure_json_detail)
}

fn ensure_json_detail<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = res
        .response()
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    // Every handler answers JSON: a bare 400 to a request from a browser
    // page is the CORS check refusing its origin.
    let refused_origin = res
        .request()
        .headers()
        .get(ORIGIN)
        .and_then(|o| o.to_str().ok())
        .filter(|_| status == StatusCode::BAD_REQUEST)
        .map(str::to_owned);
    let detail = match refused_origin {
        Some(origin) => format!(
            "The origin {origin} may not call this API from a browser: add it to OAS_CORS_ORIGINS (a comma-separated list of origins)."
        ),
        None => status.canonical_reason().unwrap_or("Error").to_owned() + ".",
    };
    let (req, original) = res.into_parts();
    let mut replacement = HttpResponse::build(status).json(ErrorBody {
        detail,
        errors: None,
    });
    for (name, value) in original.headers() {
        if name != CONTENT_TYPE && name != CONTENT_LENGTH {
            replacement
                .headers_mut()
                .append(name.clone(), value.clone());
        }
    }
    let replacement: HttpResponse<EitherBody<B, BoxBody>> = replacement.map_into_right_body();
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(
        req,
        replacement,
    )))
}
