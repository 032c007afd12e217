//! Module runs: their status, and a ping to check the plumbing.

use actix_web::{HttpResponse, get, post, web};
use chrono::NaiveDateTime;
use oas_db::jobs::JobRecord;
use oas_domain::access::Permission;
use oas_domain::job::Module;
use oas_domain::job::contract::ping as contract;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::access;
use crate::auth::Authenticated;
use crate::http::error::ErrorBody;
use crate::http::time::{utc, utc_opt};
use crate::http::{ApiError, ApiJson};
use crate::runs::{self, Launch, Subject};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct JobOut {
    pub id: String,
    #[schema(example = "importer")]
    pub module: String,
    #[schema(example = "import")]
    pub action: String,
    pub organisation: i64,
    /// The sales file the run works on, if any.
    pub file: Option<i64>,
    /// `queued`, `running`, `succeeded`, `failed` or `timed_out`.
    #[schema(example = "succeeded")]
    pub status: String,
    /// ECS task ARN, `docker:<container>` or `local:<pid>`.
    pub task: Option<String>,
    pub exit_code: Option<i32>,
    /// Why the run failed, once failed.
    pub error: Option<JobError>,
    /// What the module reported, once succeeded.
    #[schema(value_type = Option<Object>)]
    pub output: Option<serde_json::Value>,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[serde(serialize_with = "utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<NaiveDateTime>,
    #[serde(serialize_with = "utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<NaiveDateTime>,
}

/// Why a run failed.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobError {
    /// Machine-readable: `rejected`, `invalid_params`, `internal`,
    /// `launch_failed`, `timed_out`, `exited_without_report`,
    /// `out_of_memory`, `lost`, `invalid_output`.
    #[schema(example = "rejected")]
    pub code: String,
    /// For a person.
    pub message: String,
}

impl From<JobRecord> for JobOut {
    fn from(job: JobRecord) -> Self {
        let error = match (job.error_code, job.error_message) {
            (Some(code), Some(message)) => Some(JobError { code, message }),
            _ => None,
        };
        Self {
            id: job.id,
            module: job.module,
            action: job.action,
            organisation: job.organisation_id,
            file: job.file_id,
            status: job.status,
            task: job.task_ref,
            exit_code: job.exit_code,
            error,
            output: job.output.and_then(|o| serde_json::from_str(&o).ok()),
            created_at: job.created_at,
            started_at: job.started_at,
            finished_at: job.finished_at,
        }
    }
}

/// One module run, for members of its organisation.
#[utoipa::path(
    tag = "jobs",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = String, Path, description = "Job id")),
    responses(
        (status = 200, description = "The run", body = JobOut),
        (status = 401, description = "Missing or invalid credentials", body = ErrorBody),
        (status = 404, description = "No such job, or not the caller's organisation's", body = ErrorBody),
    ),
)]
#[get("/api/jobs/{id}/")]
pub async fn get_job(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<String>,
) -> Result<web::Json<JobOut>, ApiError> {
    let id = id.into_inner();
    let job = state.db.run(move |conn| JobRecord::find(conn, &id)).await?;
    access::require_for_object(&state, &auth, job.organisation_id, Permission::View).await?;
    Ok(web::Json(JobOut::from(job)))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PingRequest {
    /// The organisation to run it for; the caller's active one when absent.
    pub organisation: Option<i64>,
    /// Milliseconds the run waits before reporting (to check timeouts).
    #[validate(range(max = 86_400_000))]
    #[schema(minimum = 0, maximum = 86_400_000)]
    pub hold_ms: Option<u64>,
    /// Makes the run report a failure with this message.
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub fail: Option<String>,
    /// MiB of memory the run takes before reporting (to check the memory
    /// limit of module runs).
    #[validate(range(max = 512))]
    #[schema(minimum = 0, maximum = 512)]
    pub allocate_mib: Option<u32>,
}

/// Launch the ping module, which only reports back: a check that module
/// runs start, get their job and are heard from (owners and admins).
#[utoipa::path(
    tag = "jobs",
    security(("api_key" = []), ("bearer" = [])),
    request_body = PingRequest,
    responses(
        (status = 202, description = "Launched; follow it at /api/jobs/{id}/", body = JobOut),
        (status = 400, description = "Invalid input, or no organisation given or active", body = ErrorBody),
        (status = 403, description = "The caller's role may not", body = ErrorBody),
        (status = 404, description = "Not found, or not a member", body = ErrorBody),
    ),
)]
#[post("/api/jobs/ping/")]
pub async fn ping(
    state: web::Data<AppState>,
    auth: Authenticated,
    body: ApiJson<PingRequest>,
) -> Result<HttpResponse, ApiError> {
    let ApiJson(PingRequest {
        organisation,
        hold_ms,
        fail,
        allocate_mib,
    }) = body;
    let organisation = organisation
        .or(auth.user.active_organisation_id)
        .ok_or_else(|| ApiError::bad_request("Name an organisation, or make one active first."))?;
    let org = access::require(&state, &auth, organisation, Permission::ManageSettings)
        .await?
        .organisation;
    let params = serde_json::to_value(contract::Params {
        hold_ms,
        fail,
        allocate_mib,
    })
    .map_err(ApiError::internal)?;
    let job = runs::launch(
        &state,
        Launch {
            module: Module::Ping,
            action: contract::ACTION.into(),
            organisation_id: org.id,
            subject: Subject::None,
            params,
        },
    )
    .await?;
    Ok(HttpResponse::Accepted().json(JobOut::from(job)))
}
