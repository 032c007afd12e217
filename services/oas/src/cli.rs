//! The `oas` command line.

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use oas_platform::config::{self, Settings};
use oas_platform::telemetry;
use secrecy::{ExposeSecret, SecretString};

use crate::accounts::{self, AccountRequest};
use crate::startup::{self, Server};

/// Exit status for a configuration error (sysexits' EX_CONFIG).
pub const EXIT_CONFIG: u8 = 78;

#[derive(Debug, Parser)]
#[command(
    name = "oas",
    version,
    about = "OAS: sales-report ingestion and royalty accounting for labels and distributors",
    long_about = "OAS: sales-report ingestion and royalty accounting for labels and distributors.\n\n\
        Configuration comes from built-in defaults, then a .env file in the working directory, \
        then OAS_* environment variables. With no configuration OAS runs embedded: SQLite and \
        files under ./data, modules as local processes.",
    after_help = "See README.md for every OAS_* variable."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API server (applies pending migrations first).
    #[command(long_about = "Run the HTTP API server on OAS_BIND.\n\n\
        Pending database migrations are applied first, and signing keys not given through the \
        environment are generated into OAS_DATA_DIR on first start and reused after. SIGTERM or \
        Ctrl-C stops accepting connections and gives in-flight requests OAS_SHUTDOWN_TIMEOUT \
        seconds to finish.")]
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create an administrator account (superuser and staff).
    #[command(
        name = "createsuperuser",
        long_about = "Create an administrator account (superuser and staff).\n\n\
            The password is read from standard input with --password-stdin (one line), else from \
            OAS_ADMIN_PASSWORD. An API key for the new administrator is printed once, alone on the \
            last line of the output. Weak passwords, malformed emails and names already taken are \
            refused with a message and exit status 1."
    )]
    CreateSuperuser(CreateSuperuserArgs),
    /// Ask the server on OAS_BIND whether it is up (a container's health check).
    #[command(
        long_about = "Ask the server listening on OAS_BIND for /healthz and exit 0 when \
        it answers ok, 1 otherwise (a wildcard bind is asked on 127.0.0.1). The gateway image's \
        HEALTHCHECK runs it."
    )]
    Health,
}

#[derive(Debug, Args)]
pub struct CreateSuperuserArgs {
    /// Login name: letters, digits and @ . + - _ (at most 150 characters).
    #[arg(long)]
    pub username: String,
    /// Email address of the administrator.
    #[arg(long)]
    pub email: String,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let settings = match config::load_dotenv().and_then(|_| Settings::from_env()) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("oas: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    if let Err(e) = telemetry::init(settings.log_format, &settings.log_filter) {
        eprintln!("oas: {e}");
        return ExitCode::FAILURE;
    }
    for name in &settings.unknown_variables {
        tracing::warn!(variable = %name, "unknown OAS_ variable ignored; is it misspelt?");
    }
    let result = actix_web::rt::System::new().block_on(async move {
        match cli.command {
            Command::Serve => serve(settings).await,
            Command::Migrate => migrate(settings).await,
            Command::CreateSuperuser(args) => create_superuser(settings, args).await,
            Command::Health => health(settings).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("oas: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    tracing::info!(
        database = %settings.database_url,
        data_dir = %settings.data_dir.display(),
        "starting"
    );
    let state = startup::prepare(settings).await?;
    let sweep_every = (state.settings.module_timeout / 4).clamp(
        std::time::Duration::from_secs(1),
        std::time::Duration::from_secs(60),
    );
    crate::runs::spawn_sweeper(state.clone(), sweep_every);
    crate::workflows::spawn(state.clone());
    crate::workflows::fetches::spawn_polls(state.clone());
    if let Some(url) = &state.settings.events_queue_url {
        let queue = oas_platform::events::sqs::EventQueue::from_environment(url).await;
        crate::runs::spawn_queue_consumer(state.clone(), queue);
        tracing::info!(queue = %url, "consuming module events from SQS");
    }
    let server = Server::bind(state, None)?;
    tracing::info!(address = %server.address(), "listening");
    server.run().await.context("the HTTP server failed")?;
    tracing::info!("stopped");
    Ok(())
}

async fn health(settings: Settings) -> anyhow::Result<()> {
    let mut address = settings.bind;
    if address.ip().is_unspecified() {
        address.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let url = format!("http://{address}/healthz");
    let answer = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()?
        .get(&url)
        .send()
        .await
        .with_context(|| format!("no answer from {url}"))?;
    let status = answer.status();
    anyhow::ensure!(status.is_success(), "{url} answered {status}");
    println!("ok");
    Ok(())
}

async fn migrate(settings: Settings) -> anyhow::Result<()> {
    let db = oas_db::Database::new(
        &settings.database_url,
        oas_db::PoolSettings {
            max_size: 1,
            ..Default::default()
        },
    )?;
    let applied = db
        .migrate()
        .await
        .with_context(|| format!("cannot migrate {}", settings.database_url))?;
    startup::sync_builtin_formats(&db).await?;
    if applied.is_empty() {
        println!("No migrations to apply.");
    } else {
        println!(
            "Applied {} migration(s): {}",
            applied.len(),
            applied.join(", ")
        );
    }
    Ok(())
}

async fn create_superuser(settings: Settings, args: CreateSuperuserArgs) -> anyhow::Result<()> {
    let password = if args.password_stdin {
        read_password_line(std::io::stdin().lock())?
    } else {
        settings.admin_password.clone().with_context(|| {
            format!(
                "no password given: pipe it with --password-stdin or set {}",
                config::ADMIN_PASSWORD
            )
        })?
    };
    let db = startup::database(&settings).await?;
    let user = accounts::create(
        &db,
        AccountRequest {
            username: args.username,
            email: args.email,
            password,
            first_name: String::new(),
            last_name: String::new(),
            is_superuser: true,
            is_staff: true,
        },
    )
    .await?;
    let key = crate::auth::api_keys::issue(&db, user.id, "createsuperuser", None).await?;
    println!(
        "Superuser \"{}\" created (id {}). Its API key, shown only now:",
        user.username, user.id
    );
    // Last line, alone, so a script can capture it with `tail -n 1`.
    println!("{}", key.key);
    Ok(())
}

/// The first line of `input`, without its line ending.
fn read_password_line(mut input: impl BufRead) -> anyhow::Result<SecretString> {
    let mut line = String::new();
    input
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!("the password read from standard input is empty");
    }
    let secret = SecretString::from(password);
    debug_assert!(!secret.expose_secret().ends_with('\n'));
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_line_and_strips_only_the_line_ending() {
        let secret = read_password_line(&b" spaced pass phrase \r\nsecond line\n"[..]).unwrap();
        assert_eq!(secret.expose_secret(), " spaced pass phrase ");
        assert!(read_password_line(&b"\n"[..]).is_err());
        assert!(read_password_line(&b""[..]).is_err());
    }

    #[test]
    fn the_cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
