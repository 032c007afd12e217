//! Test harness: the real gateway on a free port with a fresh database
//! (either engine) and a temporary data directory.

pub mod chaos;
pub mod files;
pub mod process;

use std::net::SocketAddr;
use std::sync::{Arc, Once};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::web;
use oas::accounts::{self, AccountRequest};
use oas::startup::{self, ExtraRoutes, Server};
use oas::state::AppState;
use oas_db::testing::TestDatabase;
use oas_db::users::User;
use oas_db::{Backend, Database, DatabaseUrl, PoolSettings};
use oas_platform::config::{LogFormat, Settings};
use oas_platform::secrets::Secrets;
use tempfile::TempDir;

/// The password of every account the helpers create.
pub const PASSWORD: &str = "violet-harbour-tangent-41";

pub struct TestApp {
    pub address: SocketAddr,
    pub client: reqwest::Client,
    pub state: AppState,
    handle: ServerHandle,
    _data_dir: TempDir,
    _database: Option<TestDatabase>,
}

pub struct TestAppBuilder {
    backend: Backend,
    vars: Vec<(String, String)>,
    extra: Option<ExtraRoutes>,
    unreachable_database: bool,
    workflows: bool,
    database_through: Option<SocketAddr>,
}

/// Where cargo puts the workspace's binaries (`oas-ping`, …): the folder
/// above this test binary's `deps/`.
pub fn modules_dir() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>")
        .to_path_buf()
}

/// The value of a stand-in's variable (`OAS_TEST_S3_ENDPOINT`, …), which the
/// test script sets when it starts the stand-in. Outside it, a test that
/// needs a stand-in not given is skipped, saying so; under the script
/// (`OAS_TEST_STAND_INS=required`) a missing one fails the test.
pub fn stand_in(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => Some(value),
        _ => {
            assert!(
                std::env::var("OAS_TEST_STAND_INS").as_deref() != Ok("required"),
                "{name} is not set, but the test script starts every stand-in"
            );
            eprintln!("{name} is not set: skipped");
            None
        }
    }
}

/// Set `OAS_TEST_LOG=1` to see the servers' logs while tests run.
fn init_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("OAS_TEST_LOG").is_some() {
            let _ = oas_platform::telemetry::init(LogFormat::Pretty, "debug");
        }
    });
}

impl TestApp {
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            backend: Backend::Sqlite,
            vars: Vec::new(),
            extra: None,
            unreachable_database: false,
            workflows: true,
            database_through: None,
        }
    }

    pub async fn spawn() -> TestApp {
        Self::builder().start().await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// The running server's handle (stop it gracefully as SIGTERM would).
    pub fn handle(&self) -> ServerHandle {
        self.handle.clone()
    }

    /// An active account `name` with email `name@label.com` and [`PASSWORD`].
    pub async fn account(&self, name: &str, superuser: bool, staff: bool) -> User {
        accounts::create(
            &self.state.db,
            AccountRequest {
                username: name.to_owned(),
                email: format!("{name}@label.com"),
                password: PASSWORD.to_owned().into(),
                first_name: String::new(),
                last_name: String::new(),
                is_superuser: superuser,
                is_staff: staff,
            },
        )
        .await
        .expect("create the account")
    }

    /// An ordinary account and an API key of its own.
    pub async fn user_with_key(&self, name: &str) -> (User, String) {
        let user = self.account(name, false, false).await;
        let key = self.key_for(&user).await;
        (user, key)
    }

    pub async fn key_for(&self, user: &User) -> String {
        oas::auth::api_keys::issue(&self.state.db, user.id, "tests", None)
            .await
            .expect("issue a key")
            .key
    }

    /// A request carrying `key` as `X-Api-Key`.
    pub fn with_key(
        &self,
        method: reqwest::Method,
        path: &str,
        key: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .header("x-api-key", key)
    }

    /// Creates the seed's "Acme Corp" (USD; USD, EUR, MXN) as the key's owner.
    pub async fn organisation(&self, key: &str) -> i64 {
        let response = self
            .with_key(reqwest::Method::POST, "/api/organisations/", key)
            .json(&serde_json::json!({"name": "Acme Corp", "base_currency": "USD", "currencies": ["USD", "EUR", "MXN"]}))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), reqwest::StatusCode::CREATED);
        let body: serde_json::Value = response.json().await.expect("JSON");
        body["id"].as_i64().expect("an id")
    }

    /// Delivers `body` as job `id`'s completion webhook, signed now with
    /// the deployment's key; the answer's status and JSON body.
    pub async fn deliver_event(
        &self,
        id: &str,
        body: Vec<u8>,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        use oas_platform::events::webhook;
        use secrecy::ExposeSecret;
        let key = self
            .state
            .secrets
            .webhook
            .expose_secret()
            .as_bytes()
            .to_vec();
        let signature = webhook::sign(&key, id, chrono::Utc::now().timestamp(), &body);
        let response = self
            .client
            .post(self.url("/api/webhooks/jobs/"))
            .header("content-type", "application/json")
            .header(webhook::ID_HEADER, id)
            .header(webhook::SIGNATURE_HEADER, signature)
            .body(body)
            .send()
            .await
            .expect("request");
        let status = response.status();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }

    /// Waits (up to 60 s) until what follows every ended run is carried
    /// out (`oas::workflows`).
    pub async fn continued(&self) {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let pending = self
                .state
                .db
                .run(oas_db::jobs::JobRecord::continuations_pending)
                .await
                .expect("count pending continuations");
            if pending == 0 {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{pending} continuation(s) still pending"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn stop(self) {
        self.handle.stop(true).await;
    }
}

impl TestAppBuilder {
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    pub fn var(mut self, name: &str, value: &str) -> Self {
        self.vars.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds routes beside the real ones (to probe app-wide conventions).
    pub fn routes(
        mut self,
        routes: impl Fn(&mut web::ServiceConfig) + Send + Sync + 'static,
    ) -> Self {
        self.extra = Some(Arc::new(routes));
        self
    }

    /// No background workflows: ended runs are carried on only when the
    /// test calls `oas::workflows::reconcile_once`.
    pub fn without_workflows(mut self) -> Self {
        self.workflows = false;
        self
    }

    /// The gateway (and the module runs it starts) reach PostgreSQL through
    /// `proxy` (a [`chaos::ChaosProxy`]).
    pub fn database_through(mut self, proxy: SocketAddr) -> Self {
        self.database_through = Some(proxy);
        self
    }

    /// A PostgreSQL URL where nothing listens, and no migrations.
    pub fn unreachable_database(mut self) -> Self {
        self.unreachable_database = true;
        self
    }

    pub async fn start(self) -> TestApp {
        init_logs();
        let data_dir = tempfile::tempdir().expect("data dir");
        let mut vars = vec![
            ("OAS_BIND".to_owned(), "127.0.0.1:0".to_owned()),
            (
                "OAS_DATA_DIR".to_owned(),
                data_dir.path().display().to_string(),
            ),
            ("OAS_WORKERS".to_owned(), "1".to_owned()),
            ("OAS_SHUTDOWN_TIMEOUT".to_owned(), "1".to_owned()),
            (
                "OAS_MODULES_DIR".to_owned(),
                modules_dir().display().to_string(),
            ),
        ];
        vars.extend(self.vars);
        let mut settings = Settings::from_vars(vars).expect("test settings");

        let (database, state) = if self.unreachable_database {
            settings.database_url =
                DatabaseUrl::parse("postgres://oas@127.0.0.1:1/oas?connect_timeout=1").unwrap();
            let db = Database::new(
                &settings.database_url,
                PoolSettings {
                    max_size: 1,
                    timeout: Duration::from_secs(2),
                },
            )
            .unwrap();
            let secrets = Secrets::resolve(&settings).unwrap();
            let storage = startup::storage(&settings, &secrets).await.unwrap();
            let launcher = startup::launcher(&settings, &secrets).await.unwrap();
            let snapshots = startup::snapshots(&settings, &db).await.unwrap();
            let state =
                startup::state(settings, db, secrets, storage, launcher, snapshots).unwrap();
            (None, state)
        } else {
            let database = TestDatabase::new(self.backend)
                .unwrap_or_else(|| panic!("{} needs OAS_TEST_DATABASE_URL", self.backend));
            settings.database_url = match self.database_through {
                None => database.url().clone(),
                Some(proxy) => {
                    let mut url = url::Url::parse(&database.url().expose()).expect("a URL");
                    url.set_ip_host(proxy.ip()).expect("an address");
                    url.set_port(Some(proxy.port())).expect("a port");
                    DatabaseUrl::parse(url.as_str()).expect("a database URL")
                }
            };
            (
                Some(database),
                startup::prepare(settings).await.expect("prepare the app"),
            )
        };

        if self.workflows {
            oas::workflows::spawn(state.clone());
        }
        let server = Server::bind(state.clone(), self.extra).expect("bind");
        let address = server.address();
        let handle = server.handle();
        actix_web::rt::spawn(server.run());
        TestApp {
            address,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            state,
            handle,
            _data_dir: data_dir,
            _database: database,
        }
    }
}
