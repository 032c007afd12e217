use std::sync::{Arc, RwLock};

use oas_db::Database;
use oas_platform::config::Settings;
use oas_platform::launcher::AnyLauncher;
use oas_platform::secrets::Secrets;
use oas_platform::snapshots::AnySnapshots;
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
    pub snapshots: Arc<AnySnapshots>,
    pub launcher: Arc<AnyLauncher>,
    /// Where clients and module runs reach the gateway: `OAS_PUBLIC_URL`,
    /// else the address the server bound.
    pub base_url: Arc<RwLock<url::Url>>,
    pub metrics: Arc<HttpMetrics>,
    /// The OpenAPI document, serialized once at start.
    pub openapi_json: Arc<str>,
    /// The methods each documented path serves (a 405's `Allow`).
    pub routes: Arc<crate::openapi::contract::Routes>,
    /// Woken when a module run's end is recorded: the workflows carry out
    /// what follows (`crate::workflows`).
    pub run_ended: Arc<tokio::sync::Notify>,
    /// Dashboards answered lately (`crate::routes::dashboard`).
    pub dashboards: Arc<crate::routes::dashboard::Kept>,
    /// The local runs this process watches (`crate::runs`).
    pub watched: crate::runs::Watched,
}

impl AppState {
    pub fn base_url(&self) -> url::Url {
        match self.base_url.read() {
            Ok(url) => url.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn set_base_url(&self, url: url::Url) {
        if let Ok(mut base) = self.base_url.write() {
            *base = url;
        }
    }
}
