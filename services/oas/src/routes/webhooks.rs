//! Completion events of module runs, delivered as signed webhooks.

use actix_web::{HttpRequest, post, web};
use oas_domain::job::JobEvent;
use oas_platform::events::webhook::{self, WebhookError};
use secrecy::ExposeSecret;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::ApiError;
use crate::http::error::{ErrorBody, ErrorCode};
use crate::runs::{self, Applied};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAnswer {
    /// `recorded`, or `already_recorded` when the run had already ended
    /// (a repeated or late delivery changes nothing).
    #[schema(example = "recorded")]
    pub status: &'static str,
}

/// Receive a module run's completion event. The request must carry
/// `X-OAS-Event-Id` (the job id) and `X-OAS-Signature: t=<unix>,v1=<hex>`,
/// an HMAC-SHA256 with the deployment's webhook key over
/// `{id}.{t}.{body}`, made within five minutes. Anything else is 401 and
/// changes nothing.
#[utoipa::path(
    tag = "jobs",
    request_body(content = Object, description = "A versioned job event", content_type = "application/json"),
    responses(
        (status = 200, description = "Applied, or already applied", body = WebhookAnswer),
        (status = 400, description = "Not a valid event, or not matching its job", body = ErrorBody),
        (status = 401, description = "Unsigned, badly signed or stale", body = ErrorBody),
        (status = 404, description = "No such job", body = ErrorBody),
    ),
)]
#[post("/api/webhooks/jobs/")]
pub async fn job_webhook(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<web::Json<WebhookAnswer>, ApiError> {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let id = header(webhook::ID_HEADER).unwrap_or_default();
    let secret = state.secrets.webhook.expose_secret().as_bytes();
    webhook::verify(
        secret,
        id,
        header(webhook::SIGNATURE_HEADER),
        &body,
        chrono::Utc::now().timestamp(),
    )
    .map_err(|e| {
        tracing::warn!(error = %e, event_id = %id, "webhook refused");
        ApiError::new(
            ErrorCode::Unauthenticated,
            match e {
                WebhookError::Missing => "The delivery is not signed.",
                WebhookError::Malformed => "The signature header is malformed.",
                WebhookError::Stale => "The signature is too old or too new.",
                WebhookError::Mismatch => "The signature does not match.",
            },
        )
    })?;
    let event: JobEvent = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("Not a valid job event: {e}.")))?;
    if event.job_id() != id {
        return Err(ApiError::bad_request(
            "The event's job id does not match X-OAS-Event-Id.",
        ));
    }
    let applied = runs::apply_event(&state, event).await?;
    Ok(web::Json(WebhookAnswer {
        status: match applied {
            Applied::Recorded => "recorded",
            Applied::AlreadyRecorded => "already_recorded",
        },
    }))
}

/// Deliveries arrive before anyone signs in; this only keeps the payload small.
pub fn payload_config() -> web::PayloadConfig {
    web::PayloadConfig::new(1 << 20)
}
