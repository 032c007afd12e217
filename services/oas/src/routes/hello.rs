use actix_web::{HttpResponse, get};

use crate::auth::Authenticated;
use crate::http::error::ErrorBody;

/// Check that a credential works: answers with its owner's name.
#[utoipa::path(
    tag = "auth",
    security(("api_key" = []), ("bearer" = [])),
    responses(
        (status = 200, description = "The credential works", content_type = "text/plain", body = String,
            example = "Hello world @username"),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
    ),
)]
#[get("/helloworld")]
pub async fn helloworld(auth: Authenticated) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(format!("Hello world @{}", auth.user.username))
}
