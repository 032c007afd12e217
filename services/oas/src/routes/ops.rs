//! Operations: liveness, readiness and metrics, for load balancers, ECS
//! health checks and Prometheus. None needs credentials.

use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::ApiError;
use crate::http::error::ErrorBody;
use crate::state::AppState;

/// How long readiness waits for the database before calling it unreachable.
const READINESS_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`, or absent with a `detail` when not ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "ready")]
    pub status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub checks: Checks,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Checks {
    /// `ok` or `unreachable`.
    #[schema(example = "ok")]
    pub database: &'static str,
}

/// The process is alive and serving HTTP.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Alive", body = Health)),
)]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health { status: "ok" })
}

/// The process can do its work: the database answers.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Readiness),
        (status = 503, description = "A dependency is unreachable", body = Readiness),
    ),
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let database = tokio::time::timeout(READINESS_TIMEOUT, state.db.ping()).await;
    match database {
        Ok(Ok(())) => HttpResponse::Ok().json(Readiness {
            status: Some("ready"),
            detail: None,
            checks: Checks { database: "ok" },
        }),
        failed => {
            let cause = match failed {
                Ok(Err(e)) => e.to_string(),
                _ => format!("no answer within {READINESS_TIMEOUT:?}"),
            };
            tracing::warn!(cause = %cause, "not ready: database unreachable");
            HttpResponse::ServiceUnavailable().json(Readiness {
                status: None,
                detail: Some("Database is unreachable.".into()),
                checks: Checks {
                    database: "unreachable",
                },
            })
        }
    }
}

/// Request counts and latencies by route, method and status, in the
/// Prometheus text format.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus exposition text", content_type = "text/plain", body = String),
        (status = 500, description = "Metrics could not be rendered", body = ErrorBody),
    ),
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let text = state.metrics.render().map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text))
}
