//! Configuration in layers: built-in defaults, then a `.env` file in the
//! working directory, then `OAS_`-prefixed environment variables (which win).
//!
//! Every variable is declared once in [`VARIABLES`]; that table drives the
//! parsing, the README's configuration table (a test keeps them in step) and
//! the warnings about unknown `OAS_` names. Values are parsed and validated
//! at start-up; an error names the variable and never repeats a secret.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use oas_db::DatabaseUrl;
use secrecy::SecretString;

/// Exit status for a configuration error (sysexits' EX_CONFIG).
pub const EXIT_CONFIG: u8 = 78;

/// One configuration variable, as documented.
#[derive(Debug, Clone, Copy)]
pub struct Variable {
    pub name: &'static str,
    /// The default as a person reads it; empty when there is none.
    pub default: &'static str,
    pub description: &'static str,
    /// Secrets are never printed, logged, or echoed in errors.
    pub secret: bool,
}

const fn var(name: &'static str, default: &'static str, description: &'static str) -> Variable {
    Variable {
        name,
        default,
        description,
        secret: false,
    }
}

const fn secret(name: &'static str, description: &'static str) -> Variable {
    Variable {
        name,
        default: "",
        description,
        secret: true,
    }
}

pub const BIND: &str = "OAS_BIND";
pub const DATA_DIR: &str = "OAS_DATA_DIR";
pub const DATABASE_URL: &str = "OAS_DATABASE_URL";
pub const DATABASE_POOL_SIZE: &str = "OAS_DATABASE_POOL_SIZE";
pub const PUBLIC_URL: &str = "OAS_PUBLIC_URL";
pub const LOG: &str = "OAS_LOG";
pub const LOG_FORMAT: &str = "OAS_LOG_FORMAT";
pub const CORS_ORIGINS: &str = "OAS_CORS_ORIGINS";
pub const MAX_BODY_BYTES: &str = "OAS_MAX_BODY_BYTES";
pub const PAGE_SIZE: &str = "OAS_PAGE_SIZE";
pub const MAX_PAGE_SIZE: &str = "OAS_MAX_PAGE_SIZE";
pub const WORKERS: &str = "OAS_WORKERS";
pub const SHUTDOWN_TIMEOUT: &str = "OAS_SHUTDOWN_TIMEOUT";
pub const JWT_SECRET: &str = "OAS_JWT_SECRET";
pub const WEBHOOK_SECRET: &str = "OAS_WEBHOOK_SECRET";
pub const ADMIN_PASSWORD: &str = "OAS_ADMIN_PASSWORD";
pub const ACCESS_TOKEN_TTL: &str = "OAS_ACCESS_TOKEN_TTL";
pub const REFRESH_TOKEN_TTL: &str = "OAS_REFRESH_TOKEN_TTL";
pub const SMTP_URL: &str = "OAS_SMTP_URL";
pub const MAIL_FROM: &str = "OAS_MAIL_FROM";
pub const STORAGE_URL: &str = "OAS_STORAGE_URL";
pub const MAX_UPLOAD_BYTES: &str = "OAS_MAX_UPLOAD_BYTES";
pub const UPLOAD_URL_TTL: &str = "OAS_UPLOAD_URL_TTL";
pub const MODULES_DIR: &str = "OAS_MODULES_DIR";
pub const MODULE_TIMEOUT: &str = "OAS_MODULE_TIMEOUT";
pub const JOB: &str = "OAS_JOB";
pub const LAUNCHER: &str = "OAS_LAUNCHER";
pub const EVENTS_QUEUE_URL: &str = "OAS_EVENTS_QUEUE_URL";
/// The Docker Engine's own variable, read for `OAS_LAUNCHER=docker`.
pub const DOCKER_HOST: &str = "DOCKER_HOST";
pub const DOCKER_IMAGE_PREFIX: &str = "OAS_DOCKER_IMAGE_PREFIX";
pub const DOCKER_IMAGE_TAG: &str = "OAS_DOCKER_IMAGE_TAG";
pub const DOCKER_NETWORK: &str = "OAS_DOCKER_NETWORK";
pub const DOCKER_MEMORY: &str = "OAS_DOCKER_MEMORY";
pub const ECS_CLUSTER: &str = "OAS_ECS_CLUSTER";
pub const ECS_TASK_DEFINITION_PREFIX: &str = "OAS_ECS_TASK_DEFINITION_PREFIX";
pub const ECS_SUBNETS: &str = "OAS_ECS_SUBNETS";
pub const ECS_SECURITY_GROUPS: &str = "OAS_ECS_SECURITY_GROUPS";
pub const ECS_ASSIGN_PUBLIC_IP: &str = "OAS_ECS_ASSIGN_PUBLIC_IP";
pub const SNAPSHOTS_URL: &str = "OAS_SNAPSHOTS_URL";
pub const GOOGLE_API_KEY: &str = "OAS_GOOGLE_API_KEY";
pub const DROPBOX_APP_KEY: &str = "OAS_DROPBOX_APP_KEY";
pub const DROPBOX_APP_SECRET: &str = "OAS_DROPBOX_APP_SECRET";
pub const DRIVE_API_URL: &str = "OAS_DRIVE_API_URL";
pub const DROPBOX_API_URL: &str = "OAS_DROPBOX_API_URL";
pub const DROPBOX_CONTENT_URL: &str = "OAS_DROPBOX_CONTENT_URL";
pub const FETCH_ALLOW_PRIVATE: &str = "OAS_FETCH_ALLOW_PRIVATE";
pub const FETCH_CA_FILE: &str = "OAS_FETCH_CA_FILE";
pub const FETCH_MAX_FILES: &str = "OAS_FETCH_MAX_FILES";
pub const FETCH_MAX_DEPTH: &str = "OAS_FETCH_MAX_DEPTH";

/// Every variable OAS reads, in the order the README lists them.
pub const VARIABLES: &[Variable] = &[
    var(
        BIND,
        "127.0.0.1:8000",
        "Address and port the HTTP server listens on (use 0.0.0.0:8000 in a container).",
    ),
    var(
        DATA_DIR,
        "./data",
        "Folder for the embedded mode's files: the SQLite database, generated secrets, stored objects, outgoing mail.",
    ),
    var(
        DATABASE_URL,
        "sqlite://$OAS_DATA_DIR/oas.db",
        "`sqlite://PATH` (embedded) or `postgres://user:password@host:5432/db` (production). The password is never logged.",
    ),
    var(
        DATABASE_POOL_SIZE,
        "8",
        "Connections kept in the database pool (1 to 256).",
    ),
    var(
        PUBLIC_URL,
        "",
        "Base URL clients reach OAS at (e.g. `https://oas.example.com`), used in absolute links such as `next`/`previous`; taken from the request when unset.",
    ),
    var(
        LOG,
        "info",
        "Log filter in `tracing` syntax, e.g. `info,oas=debug`.",
    ),
    var(
        LOG_FORMAT,
        "json",
        "`json` (one object a line, for log collectors) or `pretty` (for people).",
    ),
    var(
        CORS_ORIGINS,
        "",
        "Comma-separated origins allowed to call the API from a browser, e.g. `https://app.example.com`; `*` allows any. Empty: no cross-origin access.",
    ),
    var(
        MAX_BODY_BYTES,
        "1048576",
        "Largest JSON request body accepted, in bytes; larger ones get 413. Files are uploaded to presigned URLs, not through this limit.",
    ),
    var(
        PAGE_SIZE,
        "20",
        "Default number of results on a page of a paged list.",
    ),
    var(
        MAX_PAGE_SIZE,
        "100",
        "Largest `page_size` a client may ask for.",
    ),
    var(WORKERS, "number of cores", "HTTP worker threads."),
    var(
        SHUTDOWN_TIMEOUT,
        "30",
        "Seconds in-flight requests get to finish after SIGTERM.",
    ),
    secret(
        JWT_SECRET,
        "Key signing access and refresh tokens (at least 32 characters). Generated into `$OAS_DATA_DIR/secrets.json` on first start when unset.",
    ),
    secret(
        WEBHOOK_SECRET,
        "Key signing module completion webhooks (at least 32 characters). Generated like the JWT key when unset.",
    ),
    secret(
        ADMIN_PASSWORD,
        "Password for `oas createsuperuser` when `--password-stdin` is not given.",
    ),
    var(
        ACCESS_TOKEN_TTL,
        "900",
        "Lifetime of access tokens, in seconds (15 minutes).",
    ),
    var(
        REFRESH_TOKEN_TTL,
        "86400",
        "Lifetime of refresh tokens, in seconds (1 day); each is exchanged once.",
    ),
    secret(
        SMTP_URL,
        "Mail server for outgoing email, e.g. `smtps://user:password@smtp.example.com` or `smtp://host:587?tls=required`. Unset: emails are written as `.eml` files to `$OAS_DATA_DIR/outbox/`.",
    ),
    var(
        MAIL_FROM,
        "OAS <no-reply@oas.invalid>",
        "Sender of outgoing email.",
    ),
    var(
        STORAGE_URL,
        "file://$OAS_DATA_DIR/objects",
        "Where files and sales lines are stored: `file://PATH`, or `s3://bucket/prefix` (add `?path_style=true` for S3-compatible servers; credentials, region and `AWS_ENDPOINT_URL_S3` come from the standard AWS settings).",
    ),
    var(
        MAX_UPLOAD_BYTES,
        "4294967296",
        "Largest file accepted through a local presigned upload URL, in bytes (4 GiB).",
    ),
    var(
        UPLOAD_URL_TTL,
        "3600",
        "Seconds a presigned upload or download URL stays valid.",
    ),
    var(
        MODULES_DIR,
        "the folder of `oas`",
        "Where the local launcher finds the module binaries (`oas-importer`, …).",
    ),
    var(
        MODULE_TIMEOUT,
        "3600",
        "Seconds a module run may take before it is stopped and its job marked `timed_out`.",
    ),
    var(
        JOB,
        "",
        "The job of a module run (JSON), as an ECS container override sets it; read by module binaries only.",
    ),
    var(
        LAUNCHER,
        "local",
        "How module runs start: `local` (child processes), `docker` (one container per run on the Docker Engine at `DOCKER_HOST`, else the local socket) or `ecs` (one Fargate task per run).",
    ),
    var(
        EVENTS_QUEUE_URL,
        "",
        "SQS queue URL for module completion events (besides the webhook); the gateway consumes it. `AWS_ENDPOINT_URL_SQS` points at an SQS-compatible server.",
    ),
    var(
        DOCKER_IMAGE_PREFIX,
        "oas-",
        "With `OAS_LAUNCHER=docker`, a module's image is this prefix, the module's name and `OAS_DOCKER_IMAGE_TAG` (`oas-importer:latest`).",
    ),
    var(
        DOCKER_IMAGE_TAG,
        "latest",
        "Tag of the module images (with `OAS_LAUNCHER=docker`).",
    ),
    var(
        DOCKER_NETWORK,
        "",
        "Network the module containers join (with `OAS_LAUNCHER=docker`): a compose stack's, or `host`; the engine's default bridge when unset. Runs reach the database, storage and the gateway's webhook from there, as ECS tasks do from their subnets.",
    ),
    var(
        DOCKER_MEMORY,
        "",
        "Memory limit of each module container in MiB (with `OAS_LAUNCHER=docker`); a run that passes it ends failed with `out_of_memory`. No limit when unset.",
    ),
    var(
        ECS_CLUSTER,
        "",
        "ECS cluster module runs start in (with `OAS_LAUNCHER=ecs`).",
    ),
    var(
        ECS_TASK_DEFINITION_PREFIX,
        "oas-",
        "Task definition family of a module is this prefix and the module name (`oas-importer`); its container is named after the module (`importer`).",
    ),
    var(
        ECS_SUBNETS,
        "",
        "Comma-separated subnet ids of the Fargate tasks (required with `OAS_LAUNCHER=ecs`).",
    ),
    var(
        ECS_SECURITY_GROUPS,
        "",
        "Comma-separated security group ids of the Fargate tasks.",
    ),
    var(
        ECS_ASSIGN_PUBLIC_IP,
        "false",
        "Give Fargate tasks a public IP (`true` only in subnets without a NAT gateway).",
    ),
    var(
        SNAPSHOTS_URL,
        "sql",
        "Where per-file summaries are kept: `sql` (the OAS database, the default) or `mongodb://user:password@host/database`.",
    ),
    secret(
        GOOGLE_API_KEY,
        "Google API key automatic uploads read shared Drive links with (an organisation's own, in its settings, comes first).",
    ),
    var(
        DROPBOX_APP_KEY,
        "",
        "Dropbox app key automatic uploads read shared links with (an organisation's own, in its settings, comes first).",
    ),
    secret(
        DROPBOX_APP_SECRET,
        "The Dropbox app's secret, with `OAS_DROPBOX_APP_KEY`.",
    ),
    var(
        DRIVE_API_URL,
        "https://www.googleapis.com/drive/v3/",
        "Base URL of the Google Drive API (another only to test against a stand-in).",
    ),
    var(
        DROPBOX_API_URL,
        "https://api.dropboxapi.com/2/",
        "Base URL of the Dropbox API (another only to test against a stand-in).",
    ),
    var(
        DROPBOX_CONTENT_URL,
        "https://content.dropboxapi.com/2/",
        "Base URL of the Dropbox content API (another only to test against a stand-in).",
    ),
    var(
        FETCH_ALLOW_PRIVATE,
        "",
        "Comma-separated address ranges an automatic upload may reach although they are private (`127.0.0.1/32`), for tests and private FTP servers; empty: none.",
    ),
    var(
        FETCH_CA_FILE,
        "",
        "PEM file of certificate authorities an FTPS server's certificate may be signed by, besides the system's.",
    ),
    var(
        FETCH_MAX_FILES,
        "1000",
        "Files one automatic upload fetches at most; the rest are listed as not fetched.",
    ),
    var(
        FETCH_MAX_DEPTH,
        "8",
        "Folder levels an automatic upload walks below the folder it was given.",
    ),
];

impl FetchSettings {
    /// The variables that say these settings, for a module run.
    pub fn env(&self) -> Vec<(String, String)> {
        use secrecy::ExposeSecret;
        let mut env = vec![
            (DRIVE_API_URL.to_owned(), self.drive_api.to_string()),
            (DROPBOX_API_URL.to_owned(), self.dropbox_api.to_string()),
            (
                DROPBOX_CONTENT_URL.to_owned(),
                self.dropbox_content.to_string(),
            ),
            (FETCH_ALLOW_PRIVATE.to_owned(), self.allow_private.text()),
            (FETCH_MAX_FILES.to_owned(), self.max_files.to_string()),
            (FETCH_MAX_DEPTH.to_owned(), self.max_depth.to_string()),
        ];
        if let Some(key) = &self.google_api_key {
            env.push((GOOGLE_API_KEY.to_owned(), key.expose_secret().to_owned()));
        }
        if let Some(key) = &self.dropbox_app_key {
            env.push((DROPBOX_APP_KEY.to_owned(), key.clone()));
        }
        if let Some(secret) = &self.dropbox_app_secret {
            env.push((
                DROPBOX_APP_SECRET.to_owned(),
                secret.expose_secret().to_owned(),
            ));
        }
        if let Some(path) = &self.ca_file {
            env.push((FETCH_CA_FILE.to_owned(), path.display().to_string()));
        }
        env
    }
}

/// The bases of the storage services' APIs.
pub mod drive {
    pub const DRIVE_API: &str = "https://www.googleapis.com/drive/v3/";
    pub const DROPBOX_API: &str = "https://api.dropboxapi.com/2/";
    pub const DROPBOX_CONTENT: &str = "https://content.dropboxapi.com/2/";
}

/// What automatic uploads may fetch and with which keys.
#[derive(Debug, Clone)]
pub struct FetchSettings {
    pub google_api_key: Option<SecretString>,
    pub dropbox_app_key: Option<String>,
    pub dropbox_app_secret: Option<SecretString>,
    pub drive_api: url::Url,
    pub dropbox_api: url::Url,
    pub dropbox_content: url::Url,
    pub allow_private: oas_domain::fetch::Allowed,
    pub ca_file: Option<PathBuf>,
    pub max_files: usize,
    pub max_depth: usize,
}

/// Prefixes of `OAS_` names that are not configuration (test switches) and
/// are never reported as unknown.
const NOT_CONFIGURATION: &[&str] = &["OAS_TEST_"];

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// How module runs start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LauncherKind {
    Local,
    Docker(crate::launcher::DockerSettings),
    Ecs(crate::launcher::EcsSettings),
}

/// Which browser origins may call the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    Any,
    List(Vec<String>),
}

/// The validated configuration of one OAS process. Secrets are wrapped so
/// that `{:?}` never shows them.
#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: DatabaseUrl,
    pub database_pool_size: usize,
    pub public_url: Option<url::Url>,
    pub log_filter: String,
    pub log_format: LogFormat,
    pub cors_origins: CorsOrigins,
    pub max_body_bytes: usize,
    pub page_size: u64,
    pub max_page_size: u64,
    pub workers: usize,
    pub shutdown_timeout: Duration,
    pub jwt_secret: Option<SecretString>,
    pub webhook_secret: Option<SecretString>,
    pub admin_password: Option<SecretString>,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub smtp_url: Option<SecretString>,
    pub mail_from: String,
    pub storage_url: crate::storage::StorageUrl,
    pub max_upload_bytes: u64,
    pub upload_url_ttl: Duration,
    pub modules_dir: Option<PathBuf>,
    pub module_timeout: Duration,
    pub launcher: LauncherKind,
    pub events_queue_url: Option<String>,
    /// `None` for the OAS database, else a MongoDB URI.
    pub snapshots_url: Option<SecretString>,
    pub fetch: FetchSettings,
    /// `OAS_` variables that are set but mean nothing to OAS (likely typos).
    pub unknown_variables: Vec<String>,
}

/// One invalid variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: String,
    pub message: String,
}

/// Every invalid variable found, so an operator fixes them in one pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid configuration:")?;
        for e in &self.0 {
            write!(f, "\n  {}: {}", e.variable, e.message)?;
        }
        Ok(())
    }
}

/// Loads `.env` from the working directory into the process environment,
/// without overriding variables already set. Call it first thing in `main`,
/// before any thread starts. Returns the file loaded, if any.
pub fn load_dotenv() -> Result<Option<PathBuf>, ConfigErrors> {
    match dotenvy::dotenv() {
        Ok(path) => Ok(Some(path)),
        Err(e) if e.not_found() => Ok(None),
        Err(e) => Err(ConfigErrors(vec![ConfigError {
            variable: ".env".into(),
            message: format!("cannot be read: {e}"),
        }])),
    }
}

impl Settings {
    /// Reads the process environment (after [`load_dotenv`]).
    pub fn from_env() -> Result<Self, ConfigErrors> {
        Self::from_vars(std::env::vars())
    }

    /// Reads the given variables over the built-in defaults.
    pub fn from_vars<I, K, V>(vars: I) -> Result<Self, ConfigErrors>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let vars: HashMap<String, String> = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .filter(|(k, _)| k.starts_with("OAS_") || k == DOCKER_HOST)
            .collect();
        let mut r = Reader {
            vars,
            errors: Vec::new(),
        };

        let bind = r.parse(BIND, "127.0.0.1:8000", |v| {
            v.parse::<SocketAddr>()
                .map_err(|_| "expected IP:PORT, such as 127.0.0.1:8000 or 0.0.0.0:8000".to_owned())
        });
        let data_dir = r.parse(DATA_DIR, "./data", |v| Ok(PathBuf::from(v)));
        let default_db = data_dir
            .as_ref()
            .map(|dir| format!("sqlite://{}", dir.join("oas.db").display()))
            .unwrap_or_default();
        let database_url = r.parse(DATABASE_URL, &default_db, |v| {
            DatabaseUrl::parse(v).map_err(|e| e.to_string())
        });
        let database_pool_size = r.parse(DATABASE_POOL_SIZE, "8", |v| whole_in(v, 1, 256));
        let public_url = r.parse(PUBLIC_URL, "", |v| {
            if v.is_empty() {
                return Ok(None);
            }
            let url = url::Url::parse(v).map_err(|e| format!("not a URL ({e})"))?;
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                return Err("expected an http:// or https:// URL with a host".into());
            }
            Ok(Some(url))
        });
        let log_filter = r.parse(LOG, "info", |v| {
            tracing_subscriber::EnvFilter::try_new(v)
                .map(|_| v.to_owned())
                .map_err(|e| format!("not a valid log filter ({e})"))
        });
        let log_format = r.parse(LOG_FORMAT, "json", |v| {
            match v.to_ascii_lowercase().as_str() {
                "json" => Ok(LogFormat::Json),
                "pretty" => Ok(LogFormat::Pretty),
                _ => Err("expected json or pretty".into()),
            }
        });
        let cors_origins = r.parse(CORS_ORIGINS, "", parse_origins);
        let max_body_bytes = r.parse(MAX_BODY_BYTES, "1048576", |v| whole_in(v, 1024, 1 << 30));
        let page_size = r.parse(PAGE_SIZE, "20", |v| whole_in(v, 1, 10_000));
        let max_page_size = r.parse(MAX_PAGE_SIZE, "100", |v| whole_in(v, 1, 10_000));
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let workers = r.parse(WORKERS, &cores.to_string(), |v| whole_in(v, 1, 512));
        let shutdown_timeout = r.parse(SHUTDOWN_TIMEOUT, "30", |v| {
            whole_in(v, 0, 3600).map(Duration::from_secs)
        });
        let jwt_secret = r.secret(JWT_SECRET, 32);
        let webhook_secret = r.secret(WEBHOOK_SECRET, 32);
        let admin_password = r.secret(ADMIN_PASSWORD, 1);
        let access_token_ttl = r.parse(ACCESS_TOKEN_TTL, "900", |v| {
            whole_in(v, 30, 86_400).map(Duration::from_secs)
        });
        let refresh_token_ttl = r.parse(REFRESH_TOKEN_TTL, "86400", |v| {
            whole_in(v, 60, 90 * 86_400).map(Duration::from_secs)
        });
        let smtp_url = r.secret(SMTP_URL, 1);
        if let Some(Some(url)) = &smtp_url {
            use secrecy::ExposeSecret;
            let scheme_ok = url::Url::parse(url.expose_secret())
                .is_ok_and(|u| matches!(u.scheme(), "smtp" | "smtps") && u.host().is_some());
            if !scheme_ok {
                r.fail(
                    SMTP_URL,
                    "expected smtp://host[:port] or smtps://host[:port]".into(),
                );
            }
        }
        let mail_from = r.parse(MAIL_FROM, "OAS <no-reply@oas.invalid>", |v| {
            if v.contains('@') {
                Ok(v.to_owned())
            } else {
                Err("expected a mailbox such as OAS <no-reply@example.com>".into())
            }
        });

        if let (Some(page), Some(max)) = (page_size, max_page_size)
            && page > max
        {
            r.fail(
                PAGE_SIZE,
                format!("must not exceed {MAX_PAGE_SIZE} ({max})"),
            );
        }

        let default_storage = data_dir
            .as_ref()
            .map(|dir| format!("file://{}", dir.join("objects").display()))
            .unwrap_or_default();
        let storage_url = r.parse(
            STORAGE_URL,
            &default_storage,
            crate::storage::StorageUrl::parse,
        );
        let max_upload_bytes = r.parse(MAX_UPLOAD_BYTES, "4294967296", |v| {
            whole_in(v, 1024, 1 << 40)
        });
        let upload_url_ttl = r.parse(UPLOAD_URL_TTL, "3600", |v| {
            whole_in(v, 60, 7 * 86_400).map(Duration::from_secs)
        });

        let modules_dir = r.parse(MODULES_DIR, "", |v| {
            Ok((!v.is_empty()).then(|| PathBuf::from(v)))
        });
        let module_timeout = r.parse(MODULE_TIMEOUT, "3600", |v| {
            whole_in(v, 1, 86_400).map(Duration::from_secs)
        });

        let list = |v: &str| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        let launcher_name = r.parse(LAUNCHER, "local", |v| match v {
            "local" | "docker" | "ecs" => Ok(v.to_owned()),
            _ => Err("expected local, docker or ecs".into()),
        });
        let docker = (
            r.parse(DOCKER_HOST, crate::launcher::DEFAULT_ENGINE, |v| {
                Ok(if v.is_empty() {
                    crate::launcher::DEFAULT_ENGINE.to_owned()
                } else {
                    v.to_owned()
                })
            }),
            r.parse(DOCKER_IMAGE_PREFIX, "oas-", |v| Ok(v.to_owned())),
            r.parse(DOCKER_IMAGE_TAG, "latest", |v| {
                if v.is_empty() {
                    Err("expected a tag, such as latest".into())
                } else {
                    Ok(v.to_owned())
                }
            }),
            r.parse(DOCKER_NETWORK, "", |v| {
                Ok((!v.is_empty()).then(|| v.to_owned()))
            }),
            r.parse(DOCKER_MEMORY, "", |v| {
                if v.is_empty() {
                    Ok(None)
                } else {
                    whole_in(v, 6, 1 << 20).map(Some)
                }
            }),
        );
        let cluster = r.parse(ECS_CLUSTER, "", |v| Ok(v.to_owned()));
        let prefix = r.parse(ECS_TASK_DEFINITION_PREFIX, "oas-", |v| Ok(v.to_owned()));
        let subnets = r.parse(ECS_SUBNETS, "", |v| Ok(list(v)));
        let security_groups = r.parse(ECS_SECURITY_GROUPS, "", |v| Ok(list(v)));
        let public_ip = r.parse(ECS_ASSIGN_PUBLIC_IP, "false", |v| match v {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err("expected true or false".into()),
        });
        let launcher = match (
            launcher_name.as_deref(),
            cluster,
            prefix,
            subnets,
            security_groups,
            public_ip,
        ) {
            (
                Some("ecs"),
                Some(cluster),
                Some(prefix),
                Some(subnets),
                Some(security_groups),
                Some(assign_public_ip),
            ) => {
                if cluster.is_empty() {
                    r.fail(ECS_CLUSTER, "is required with OAS_LAUNCHER=ecs".into());
                }
                if subnets.is_empty() {
                    r.fail(ECS_SUBNETS, "is required with OAS_LAUNCHER=ecs".into());
                }
                Some(LauncherKind::Ecs(crate::launcher::EcsSettings {
                    cluster,
                    task_definition_prefix: prefix,
                    subnets,
                    security_groups,
                    assign_public_ip,
                }))
            }
            (Some("local"), ..) => Some(LauncherKind::Local),
            (Some("docker"), ..) => match docker {
                (
                    Some(host),
                    Some(image_prefix),
                    Some(image_tag),
                    Some(network),
                    Some(memory_mib),
                ) => Some(LauncherKind::Docker(crate::launcher::DockerSettings {
                    host,
                    image_prefix,
                    image_tag,
                    network,
                    memory_mib,
                })),
                _ => None,
            },
            _ => None,
        };
        let events_queue_url = r.parse(EVENTS_QUEUE_URL, "", |v| {
            if v.is_empty() {
                return Ok(None);
            }
            url::Url::parse(v)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .map(|_| Some(v.to_owned()))
                .ok_or_else(|| "expected an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<queue>)".to_owned())
        });

        let snapshots_url = r.parse(SNAPSHOTS_URL, "sql", |v| {
            if v == "sql" {
                Ok(None)
            } else if v.starts_with("mongodb://") || v.starts_with("mongodb+srv://") {
                Ok(Some(SecretString::from(v.to_owned())))
            } else {
                Err("expected sql or a mongodb:// URI".into())
            }
        });

        let base = |v: &str| {
            url::Url::parse(v)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.path().ends_with('/'))
                .ok_or_else(|| "expected an http(s) URL ending in /".to_owned())
        };
        let fetch = (|| {
            let google_api_key = r.secret(GOOGLE_API_KEY, 1);
            let dropbox_app_key = r.parse(DROPBOX_APP_KEY, "", |v| {
                Ok((!v.is_empty()).then(|| v.to_owned()))
            });
            let dropbox_app_secret = r.secret(DROPBOX_APP_SECRET, 1);
            let drive_api = r.parse(DRIVE_API_URL, drive::DRIVE_API, base);
            let dropbox_api = r.parse(DROPBOX_API_URL, drive::DROPBOX_API, base);
            let dropbox_content = r.parse(DROPBOX_CONTENT_URL, drive::DROPBOX_CONTENT, base);
            let allow_private = r.parse(FETCH_ALLOW_PRIVATE, "", oas_domain::fetch::Allowed::parse);
            let ca_file = r.parse(FETCH_CA_FILE, "", |v| {
                Ok((!v.is_empty()).then(|| PathBuf::from(v)))
            });
            let max_files = r.parse(FETCH_MAX_FILES, "1000", |v| {
                whole_in::<usize>(v, 1, 100_000)
            });
            let max_depth = r.parse(FETCH_MAX_DEPTH, "8", |v| whole_in::<usize>(v, 0, 64));
            Some(FetchSettings {
                google_api_key: google_api_key?,
                dropbox_app_key: dropbox_app_key?,
                dropbox_app_secret: dropbox_app_secret?,
                drive_api: drive_api?,
                dropbox_api: dropbox_api?,
                dropbox_content: dropbox_content?,
                allow_private: allow_private?,
                ca_file: ca_file?,
                max_files: max_files?,
                max_depth: max_depth?,
            })
        })();

        let unknown_variables = r.unknown();
        if !r.errors.is_empty() {
            return Err(ConfigErrors(r.errors));
        }
        // Every reader above records an error when it yields None, so with no
        // errors each value is present.
        let settings = (|| {
            Some(Self {
                bind: bind?,
                data_dir: data_dir?,
                database_url: database_url?,
                database_pool_size: database_pool_size?,
                public_url: public_url?,
                log_filter: log_filter?,
                log_format: log_format?,
                cors_origins: cors_origins?,
                max_body_bytes: max_body_bytes?,
                page_size: page_size?,
                max_page_size: max_page_size?,
                workers: workers?,
                shutdown_timeout: shutdown_timeout?,
                jwt_secret: jwt_secret?,
                webhook_secret: webhook_secret?,
                admin_password: admin_password?,
                access_token_ttl: access_token_ttl?,
                refresh_token_ttl: refresh_token_ttl?,
                smtp_url: smtp_url?,
                mail_from: mail_from?,
                storage_url: storage_url?,
                max_upload_bytes: max_upload_bytes?,
                upload_url_ttl: upload_url_ttl?,
                modules_dir: modules_dir?,
                module_timeout: module_timeout?,
                launcher: launcher?,
                events_queue_url: events_queue_url?,
                snapshots_url: snapshots_url?,
                fetch: fetch?,
                unknown_variables,
            })
        })();
        settings.ok_or_else(|| {
            ConfigErrors(vec![ConfigError {
                variable: "configuration".into(),
                message: "could not be read".into(),
            }])
        })
    }
}

/// Reads variables one by one, gathering every error.
struct Reader {
    vars: HashMap<String, String>,
    errors: Vec<ConfigError>,
}

impl Reader {
    fn fail(&mut self, variable: &str, message: String) {
        self.errors.push(ConfigError {
            variable: variable.to_owned(),
            message,
        });
    }

    fn parse<T>(
        &mut self,
        name: &str,
        default: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let raw = self.vars.get(name).map(|v| v.trim().to_owned());
        let value = raw.as_deref().unwrap_or(default);
        match parse(value) {
            Ok(parsed) => Some(parsed),
            Err(message) => {
                self.fail(name, message);
                None
            }
        }
    }

    /// A secret: `None` when unset or empty. Its value never reaches a message.
    fn secret(&mut self, name: &str, min_len: usize) -> Option<Option<SecretString>> {
        match self.vars.get(name).map(|v| v.trim()) {
            None | Some("") => Some(None),
            Some(v) if v.chars().count() < min_len => {
                self.fail(name, format!("must be at least {min_len} characters long"));
                None
            }
            Some(v) => Some(Some(SecretString::from(v.to_owned()))),
        }
    }

    fn unknown(&self) -> Vec<String> {
        let mut unknown: Vec<String> = self
            .vars
            .keys()
            .filter(|k| k.starts_with("OAS_"))
            .filter(|k| !VARIABLES.iter().any(|v| v.name == k.as_str()))
            .filter(|k| !NOT_CONFIGURATION.iter().any(|p| k.starts_with(p)))
            .cloned()
            .collect();
        unknown.sort();
        unknown
    }
}

fn whole_in<T>(value: &str, min: u64, max: u64) -> Result<T, String>
where
    T: TryFrom<u64>,
{
    let n: u64 = value
        .parse()
        .map_err(|_| format!("expected a whole number from {min} to {max}"))?;
    if !(min..=max).contains(&n) {
        return Err(format!("expected a whole number from {min} to {max}"));
    }
    T::try_from(n).map_err(|_| format!("expected a whole number from {min} to {max}"))
}

fn parse_origins(value: &str) -> Result<CorsOrigins, String> {
    let entries: Vec<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if entries == ["*"] {
        return Ok(CorsOrigins::Any);
    }
    let mut origins = Vec::with_capacity(entries.len());
    for entry in entries {
        let url = url::Url::parse(entry).map_err(|_| format!("{entry:?} is not an origin"))?;
        let origin = url.origin();
        if !origin.is_tuple() || !matches!(url.scheme(), "http" | "https") {
            return Err(format!("{entry:?} is not an http(s) origin"));
        }
        if url.path() != "/" || url.query().is_some() {
            return Err(format!(
                "{entry:?} is not an origin: give scheme, host and port only, with no path"
            ));
        }
        origins.push(origin.ascii_serialization());
    }
    Ok(CorsOrigins::List(origins))
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn load(vars: &[(&str, &str)]) -> Result<Settings, ConfigErrors> {
        Settings::from_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn defaults_give_the_embedded_mode() {
        let s = load(&[]).unwrap();
        assert_eq!(s.bind.to_string(), "127.0.0.1:8000");
        assert_eq!(s.data_dir, PathBuf::from("./data"));
        assert_eq!(s.database_url.to_string(), "sqlite://./data/oas.db");
        assert_eq!(s.log_format, LogFormat::Json);
        assert_eq!(s.cors_origins, CorsOrigins::List(vec![]));
        assert!(s.jwt_secret.is_none() && s.webhook_secret.is_none());
        assert!(s.workers >= 1);
    }

    #[test]
    fn the_database_follows_the_data_dir_unless_given() {
        let s = load(&[(DATA_DIR, "/var/lib/oas")]).unwrap();
        assert_eq!(s.database_url.to_string(), "sqlite:///var/lib/oas/oas.db");
        let s = load(&[
            (DATA_DIR, "/var/lib/oas"),
            (DATABASE_URL, "postgres://db.internal/oas"),
        ])
        .unwrap();
        assert_eq!(s.database_url.backend(), oas_db::Backend::Postgres);
    }

    #[test]
    fn every_bad_variable_is_named_in_one_error() {
        let err = load(&[
            (BIND, "localhost"),
            (DATABASE_POOL_SIZE, "0"),
            (LOG_FORMAT, "xml"),
        ])
        .unwrap_err();
        let named: Vec<&str> = err.0.iter().map(|e| e.variable.as_str()).collect();
        assert_eq!(named, [BIND, DATABASE_POOL_SIZE, LOG_FORMAT]);
        let text = err.to_string();
        assert!(text.contains("OAS_BIND: expected IP:PORT"), "{text}");
    }

    #[test]
    fn secrets_are_kept_whatever_they_look_like_and_never_echoed() {
        let numeric = "1234567890123456789012345678901234567890";
        let s = load(&[(JWT_SECRET, numeric)]).unwrap();
        assert_eq!(s.jwt_secret.as_ref().unwrap().expose_secret(), numeric);
        assert!(!format!("{s:?}").contains(numeric), "Debug shows no secret");

        let err = load(&[(WEBHOOK_SECRET, "short-but-secret")]).unwrap_err();
        assert_eq!(err.0[0].variable, WEBHOOK_SECRET);
        assert!(!err.to_string().contains("short-but-secret"));

        let err = load(&[(DATABASE_URL, "postgres://u:pw-not-shown@/x")]).unwrap_err();
        assert_eq!(err.0[0].variable, DATABASE_URL);
        assert!(!err.to_string().contains("pw-not-shown"), "{err}");
    }

    #[test]
    fn cors_origins_are_validated_and_normalised() {
        let s = load(&[(
            CORS_ORIGINS,
            "https://app.example.com, http://localhost:3000",
        )])
        .unwrap();
        assert_eq!(
            s.cors_origins,
            CorsOrigins::List(vec![
                "https://app.example.com".into(),
                "http://localhost:3000".into()
            ])
        );
        assert_eq!(
            load(&[(CORS_ORIGINS, "*")]).unwrap().cors_origins,
            CorsOrigins::Any
        );
        assert!(load(&[(CORS_ORIGINS, "https://app.example.com/path")]).is_err());
        assert!(load(&[(CORS_ORIGINS, "ftp://files.example.com")]).is_err());
    }

    #[test]
    fn the_ecs_launcher_needs_its_cluster_and_subnets() {
        assert_eq!(load(&[]).unwrap().launcher, LauncherKind::Local);
        let err = load(&[(LAUNCHER, "ecs")]).unwrap_err();
        let named: Vec<&str> = err.0.iter().map(|e| e.variable.as_str()).collect();
        assert_eq!(named, [ECS_CLUSTER, ECS_SUBNETS]);
        let s = load(&[
            (LAUNCHER, "ecs"),
            (ECS_CLUSTER, "oas"),
            (ECS_SUBNETS, "subnet-1, subnet-2"),
        ])
        .unwrap();
        let LauncherKind::Ecs(ecs) = s.launcher else {
            panic!("ecs")
        };
        assert_eq!(
            (
                ecs.cluster.as_str(),
                ecs.subnets.len(),
                ecs.task_definition_prefix.as_str()
            ),
            ("oas", 2, "oas-")
        );
        assert!(load(&[(LAUNCHER, "kubernetes")]).is_err());
        assert!(load(&[(EVENTS_QUEUE_URL, "not a url")]).is_err());
    }

    #[test]
    fn the_docker_launcher_names_images_like_the_task_definitions() {
        let s = load(&[(LAUNCHER, "docker")]).unwrap();
        let LauncherKind::Docker(docker) = s.launcher else {
            panic!("docker")
        };
        assert_eq!(
            (
                docker.host.as_str(),
                docker.image_prefix.as_str(),
                docker.image_tag.as_str(),
                docker.network,
                docker.memory_mib
            ),
            ("unix:///var/run/docker.sock", "oas-", "latest", None, None)
        );
        let s = load(&[
            (LAUNCHER, "docker"),
            (DOCKER_HOST, "tcp://engine:2375"),
            (DOCKER_NETWORK, "oas_default"),
            (DOCKER_MEMORY, "512"),
        ])
        .unwrap();
        let LauncherKind::Docker(docker) = s.launcher else {
            panic!("docker")
        };
        assert_eq!(
            (
                docker.host.as_str(),
                docker.network.as_deref(),
                docker.memory_mib
            ),
            ("tcp://engine:2375", Some("oas_default"), Some(512))
        );
        for bad in [
            (DOCKER_MEMORY, "lots"),
            (DOCKER_MEMORY, "1"),
            (DOCKER_IMAGE_TAG, ""),
        ] {
            let err = load(&[(LAUNCHER, "docker"), bad]).unwrap_err();
            assert_eq!(err.0[0].variable, bad.0, "{bad:?}");
        }
    }

    #[test]
    fn page_size_cannot_exceed_the_maximum() {
        let err = load(&[(PAGE_SIZE, "50"), (MAX_PAGE_SIZE, "10")]).unwrap_err();
        assert_eq!(err.0[0].variable, PAGE_SIZE);
    }

    #[test]
    fn unknown_oas_names_are_reported_but_test_switches_are_not() {
        let s = load(&[
            ("OAS_DATABSE_URL", "x"),
            ("OAS_TEST_DATABASE_URL", "y"),
            ("HOME", "/root"),
            (DOCKER_HOST, "unix:///run/docker.sock"),
        ])
        .unwrap();
        assert_eq!(s.unknown_variables, ["OAS_DATABSE_URL"]);
    }
}

#[cfg(test)]
mod readme {
    use super::VARIABLES;

    /// The README's configuration table lists every variable with its default.
    #[test]
    fn readme_documents_every_variable() {
        let readme =
            // The package folder as cargo runs the test, not as compiled.
            std::fs::read_to_string(format!("{}/../../README.md", std::env::var("CARGO_MANIFEST_DIR").unwrap()))
                .unwrap();
        for variable in VARIABLES {
            let row = readme
                .lines()
                .find(|l| l.starts_with(&format!("| `{}` |", variable.name)))
                .unwrap_or_else(|| panic!("README.md has no row for {}", variable.name));
            if !variable.default.is_empty()
                && !["number of cores", "the folder of `oas`"].contains(&variable.default)
            {
                assert!(
                    row.contains(&format!("`{}`", variable.default)),
                    "README row of {} shows its default: {row}",
                    variable.name
                );
            }
        }
    }
}
