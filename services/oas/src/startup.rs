//! From validated settings to a listening server. `oas serve` and the test
//! harness go through the same functions.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServerHandle, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use oas_db::{Database, PoolSettings};
use oas_platform::config::LauncherKind;
use oas_platform::config::Settings;
use oas_platform::launcher::{AnyLauncher, DockerLauncher, EcsLauncher, LocalLauncher};
use oas_platform::secrets::Secrets;
use oas_platform::snapshots::AnySnapshots;
use oas_platform::storage::signing::UrlSigner;
use oas_platform::storage::{AnyStorage, LocalStorage, S3Storage, StorageUrl};
use secrecy::ExposeSecret;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::tokens::Tokens;
use crate::http::metrics::HttpMetrics;
use crate::http::{context, cors, extract, fallback};
use crate::mail::Mailer;
use crate::openapi::{self, DOCS_PATH, DOCUMENT_PATH};
use crate::routes;
use crate::state::AppState;

/// Routes a test adds beside the real ones, to probe the app-wide conventions.
pub type ExtraRoutes = Arc<dyn Fn(&mut web::ServiceConfig) + Send + Sync>;

/// Opens the database pool and applies pending migrations.
pub async fn database(settings: &Settings) -> anyhow::Result<Database> {
    let pool = PoolSettings {
        max_size: settings.database_pool_size,
        timeout: Duration::from_secs(10),
    };
    let db = Database::new(&settings.database_url, pool)?;
    let applied = db
        .migrate()
        .await
        .with_context(|| format!("cannot prepare the database at {}", settings.database_url))?;
    if !applied.is_empty() {
        tracing::info!(migrations = ?applied, "applied database migrations");
    }
    sync_builtin_formats(&db).await?;
    Ok(db)
}

/// Makes the database's built-in report formats this binary's own
/// (`crates/sales/formats/builtin.json`).
pub async fn sync_builtin_formats(db: &Database) -> anyhow::Result<()> {
    let builtins = oas_sales::format::builtin()
        .context("the built-in formats do not parse")?
        .into_iter()
        .map(|spec| {
            Ok(oas_db::formats::BuiltinFormat {
                slug: spec.slug.clone(),
                name: spec.name.clone(),
                source: serde_json::to_value(spec.source)?
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                spec: serde_json::to_string(&spec)?,
            })
        })
        .collect::<Result<Vec<_>, serde_json::Error>>()?;
    let changed = db
        .run(move |conn| {
            oas_db::formats::FormatRecord::sync_builtins(
                conn,
                &builtins,
                chrono::Utc::now().naive_utc(),
            )
        })
        .await
        .context("cannot update the built-in report formats")?;
    if changed > 0 {
        tracing::info!(changed, "updated the built-in report formats");
    }
    Ok(())
}

/// Everything `serve` needs before binding: keys, database, storage, app state.
pub async fn prepare(settings: Settings) -> anyhow::Result<AppState> {
    let secrets = Secrets::resolve(&settings)?;
    let db = database(&settings).await?;
    let storage = storage(&settings, &secrets).await?;
    let launcher = launcher(&settings, &secrets).await?;
    let snapshots = snapshots(&settings, &db).await?;
    state(settings, db, secrets, storage, launcher, snapshots)
}

/// The configured snapshot store (MongoDB's indexes are created here).
pub async fn snapshots(settings: &Settings, db: &Database) -> anyhow::Result<AnySnapshots> {
    AnySnapshots::open(settings, Some(db.clone()))
        .await
        .context("cannot use the snapshot store")
}

/// `OAS_PUBLIC_URL`, else the configured bind address (corrected once bound).
fn initial_base_url(settings: &Settings) -> anyhow::Result<url::Url> {
    Ok(match &settings.public_url {
        Some(url) => url.clone(),
        None => url::Url::parse(&format!("http://{}", reachable(settings.bind)))?,
    })
}

/// The configured object store. Local presigned URLs point at
/// `OAS_PUBLIC_URL`, else at the address the server binds.
pub async fn storage(settings: &Settings, secrets: &Secrets) -> anyhow::Result<AnyStorage> {
    Ok(match &settings.storage_url {
        StorageUrl::Local(root) => {
            let base = initial_base_url(settings)?;
            let signer = UrlSigner::new(secrets.webhook.expose_secret().as_bytes());
            AnyStorage::Local(
                LocalStorage::new(root.clone(), base, signer)
                    .with_context(|| format!("cannot use the storage folder {}", root.display()))?,
            )
        }
        StorageUrl::S3 {
            bucket,
            prefix,
            path_style,
        } => AnyStorage::S3(
            S3Storage::from_environment(bucket.clone(), prefix.clone(), *path_style).await,
        ),
    })
}

/// The configured launcher. A launcher for containers checks that its
/// engine answers: the gateway does not start without one.
pub async fn launcher(settings: &Settings, secrets: &Secrets) -> anyhow::Result<AnyLauncher> {
    Ok(match &settings.launcher {
        LauncherKind::Local => AnyLauncher::Local(local_launcher(settings, secrets)),
        LauncherKind::Docker(docker) => {
            if matches!(settings.storage_url, StorageUrl::Local(_))
                || settings.database_url.backend() == oas_db::Backend::Sqlite
            {
                tracing::warn!(
                    "module containers cannot see this machine's files: with OAS_LAUNCHER=docker, \
                     use PostgreSQL (OAS_DATABASE_URL) and S3 (OAS_STORAGE_URL)"
                );
            }
            let mut env = module_env(settings, secrets);
            env.extend(
                FORWARDED_TO_CONTAINERS
                    .iter()
                    .filter_map(|name| Some(((*name).to_owned(), std::env::var(name).ok()?))),
            );
            AnyLauncher::Docker(
                DockerLauncher::connect(
                    docker.clone(),
                    jobs_log_dir(settings),
                    settings.module_timeout,
                    env,
                )
                .await?,
            )
        }
        LauncherKind::Ecs(ecs) => {
            AnyLauncher::Ecs(EcsLauncher::from_environment(ecs.clone()).await)
        }
    })
}

/// What a module container takes from the gateway's own environment, as an
/// ECS task definition sets it: the AWS settings (region, keys, endpoints)
/// and the log filter.
pub const FORWARDED_TO_CONTAINERS: &[&str] = &[
    "OAS_LOG",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_SQS",
];

/// The settings a module run shares with the gateway, given explicitly so
/// a run sees the same database, storage, snapshot store and keys whatever
/// environment started the gateway. (ECS task definitions set them.)
pub fn module_env(settings: &Settings, secrets: &Secrets) -> Vec<(String, String)> {
    let mut env = vec![
        (
            "OAS_DATABASE_URL".to_owned(),
            settings.database_url.expose(),
        ),
        (
            "OAS_STORAGE_URL".to_owned(),
            settings.storage_url.to_string(),
        ),
        (
            "OAS_WEBHOOK_SECRET".to_owned(),
            secrets.webhook.expose_secret().to_owned(),
        ),
        ("OAS_LOG_FORMAT".to_owned(), "json".to_owned()),
        (
            "OAS_MAX_UPLOAD_BYTES".to_owned(),
            settings.max_upload_bytes.to_string(),
        ),
    ];
    // What automatic uploads may reach, and with which keys.
    env.extend(settings.fetch.env());
    if let Some(url) = &settings.snapshots_url {
        // Where the importer writes snapshots must be where the gateway reads them.
        env.push((
            "OAS_SNAPSHOTS_URL".to_owned(),
            url.expose_secret().to_owned(),
        ));
    }
    env
}

/// Where module runs' output is kept.
fn jobs_log_dir(settings: &Settings) -> std::path::PathBuf {
    settings.data_dir.join("logs").join("jobs")
}

/// Local module runs: the shared settings and this machine's data folder.
pub fn local_launcher(settings: &Settings, secrets: &Secrets) -> LocalLauncher {
    let mut env = vec![(
        "OAS_DATA_DIR".to_owned(),
        settings.data_dir.display().to_string(),
    )];
    env.extend(module_env(settings, secrets));
    let dir = settings
        .modules_dir
        .clone()
        .unwrap_or_else(LocalLauncher::default_dir);
    LocalLauncher::new(dir, jobs_log_dir(settings), settings.module_timeout, env)
}

/// An address clients can connect to: a wildcard bind means this host.
fn reachable(address: SocketAddr) -> SocketAddr {
    if address.ip().is_unspecified() {
        SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), address.port())
    } else {
        address
    }
}

pub fn state(
    settings: Settings,
    db: Database,
    secrets: Secrets,
    storage: AnyStorage,
    launcher: AnyLauncher,
    snapshots: AnySnapshots,
) -> anyhow::Result<AppState> {
    let document = openapi::document_json();
    let routes = openapi::contract::Routes::of(&document);
    let openapi_json =
        serde_json::to_string(&document).context("cannot serialize the OpenAPI document")?;
    let tokens = Tokens::new(
        &secrets.jwt,
        settings.access_token_ttl,
        settings.refresh_token_ttl,
    );
    let mailer = Mailer::from_settings(&settings)?;
    let base_url = initial_base_url(&settings)?;
    Ok(AppState {
        settings: Arc::new(settings),
        db,
        secrets: Arc::new(secrets),
        tokens: Arc::new(tokens),
        mailer: Arc::new(mailer),
        storage: Arc::new(storage),
        snapshots: Arc::new(snapshots),
        launcher: Arc::new(launcher),
        base_url: Arc::new(std::sync::RwLock::new(base_url)),
        metrics: Arc::new(HttpMetrics::new().context("cannot register metrics")?),
        openapi_json: openapi_json.into(),
        routes: Arc::new(routes),
        run_ended: Arc::new(tokio::sync::Notify::new()),
        dashboards: Arc::default(),
        watched: crate::runs::Watched::default(),
    })
}

/// The application: routes, docs, conventions. Middleware order, outermost
/// first: request context (id, log line, metrics), JSON error bodies (so
/// CORS refusals are JSON too), CORS.
pub fn app(
    state: web::Data<AppState>,
    extra: Option<ExtraRoutes>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let settings = state.settings.clone();
    App::new()
        .app_data(state)
        .app_data(extract::json_config(settings.max_body_bytes))
        .app_data(extract::query_config())
        .app_data(extract::path_config())
        .app_data(crate::routes::webhooks::payload_config())
        .into_utoipa_app()
        .configure(routes::configure)
        .into_app()
        .service(
            SwaggerUi::new(format!("{DOCS_PATH}{{_:.*}}"))
                .config(utoipa_swagger_ui::Config::from(DOCUMENT_PATH)),
        )
        .service(web::redirect(DOCS_PATH.trim_end_matches('/'), DOCS_PATH))
        .configure(|cfg| {
            if let Some(extra) = &extra {
                extra(cfg);
            }
        })
        .default_service(web::to(fallback::no_route))
        .wrap(from_fn(extract::refuse_nul_in_url))
        .wrap(cors::cors(&settings.cors_origins))
        .wrap(fallback::json_error_bodies())
        .wrap(from_fn(context::request_context))
}

/// A bound, not yet running, HTTP server.
pub struct Server {
    server: actix_web::dev::Server,
    address: SocketAddr,
}

impl Server {
    /// Binds `settings.bind` (port 0 picks a free port). SIGTERM and SIGINT
    /// stop accepting connections and give in-flight requests
    /// `OAS_SHUTDOWN_TIMEOUT` to finish.
    pub fn bind(state: AppState, extra: Option<ExtraRoutes>) -> anyhow::Result<Self> {
        let settings = state.settings.clone();
        let state_for_urls = state.clone();
        let data = web::Data::new(state);
        let http = HttpServer::new(move || app(data.clone(), extra.clone()))
            .workers(settings.workers)
            .shutdown_timeout(settings.shutdown_timeout.as_secs())
            .bind(settings.bind)
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        let address = http
            .addrs()
            .first()
            .copied()
            .context("the server bound no address")?;
        if settings.public_url.is_none() {
            let bound = url::Url::parse(&format!("http://{}", reachable(address)))?;
            if let AnyStorage::Local(local) = state_for_urls.storage.as_ref() {
                local.set_base_url(bound.clone());
            }
            state_for_urls.set_base_url(bound);
        }
        Ok(Self {
            server: http.run(),
            address,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped by a signal or through the handle.
    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }
}
