use std::sync::Arc;

use oas_db::Database;
use oas_platform::config::Settings;
use oas_platform::secrets::Secrets;
use oas_platform::storage::AnyStorage;

use crate::auth::tokens::Tokens;
use crate::http::metrics::HttpMetrics;
use crate::mail::Mailer;

/// What every handler can reach, shared by all workers.
#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: Database,
    pub secrets: Arc<Secrets>,
    pub tokens: Arc<Tokens>,
    pub mailer: Arc<Mailer>,
    pub storage: Arc<AnyStorage>,
    pub metrics: Arc<HttpMetrics>,
    /// The OpenAPI document, serialized once at start.
    pub openapi_json: Arc<str>,
}
