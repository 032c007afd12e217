//! What every module binary's `main` calls.
//!
//! It reads the job (`--input FILE`, `--input -` for stdin, or the `OAS_JOB`
//! environment variable, which an ECS container override sets), validates
//! it (a malformed job exits with status 2 and a message on stderr, and
//! reports nothing), sets up logging with the job id on every line, runs the
//! module's work, reports the outcome to the job's callback (a signed
//! webhook, retried with backoff), and exits 0 on success, 1 on failure.
//! Asked to stop (SIGTERM or SIGINT), it reports the run failed, saying so,
//! and exits 1.

use std::future::Future;
use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

use oas_domain::job::{FailureCode, Job, JobEvent, Module};
use secrecy::ExposeSecret;
use tracing::Instrument;

use crate::config::{self, Settings};
use crate::events::webhook;
use crate::telemetry;

/// A module's description, for `--help` and validation.
pub struct ModuleInfo {
    pub module: Module,
    pub about: &'static str,
    /// The actions it accepts.
    pub actions: &'static [&'static str],
    /// The `params` it reads, for `--help`.
    pub params: &'static str,
}

/// Why a run failed, as the job's error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: FailureCode,
    pub message: String,
}

impl Failure {
    pub fn new(code: FailureCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

pub const EXIT_INVALID_JOB: u8 = 2;

/// The completion webhook is retried with pauses from `FIRST_BACKOFF`,
/// doubling up to `MAX_BACKOFF`, for `DELIVERY_WINDOW` in all: long enough
/// for a gateway to be restarted or redeployed while the run finishes,
/// bounded so a run whose gateway is gone for good ends (the gateway's
/// sweep then ends its job).
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
const DELIVERY_WINDOW: Duration = Duration::from_secs(15 * 60);
/// How long a run stopped by SIGTERM tries to report.
const STOPPED_REPORT_WINDOW: Duration = Duration::from_secs(20);

/// Resolves when the process is asked to stop (SIGTERM: `docker stop`, an
/// ECS task stopped or scaled in; SIGINT: Ctrl-C by hand). A process that
/// is PID 1 in its container has no default action for them: without this
/// it would be killed only after the grace period, silently.
async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => std::future::pending().await,
        }
    }
    #[cfg(not(unix))]
    std::future::pending::<()>().await;
}

fn help(info: &ModuleInfo) -> String {
    format!(
        "{binary}: {about}\n\n\
         Usage: {binary} [--input FILE | --input -] [--output FILE]\n\n\
         The job is read from FILE, from standard input with `-`, or from the OAS_JOB\n\
         environment variable. It is one JSON object:\n\n  \
         {{\"job_id\": \"5f0c…\", \"module\": \"{module}\", \"action\": \"{action}\", \"org_id\": 7,\n   \
         \"file_id\": 42, \"params\": {{…}},\n   \
         \"callback\": {{\"webhook_url\": \"https://oas.example.com/api/webhooks/jobs/\", \"queue_url\": \"…\"}}}}\n\n\
         Actions: {actions}\n\
         Params: {params}\n\n\
         The outcome is reported to the callback, signed with OAS_WEBHOOK_SECRET,\n\
         and written to FILE as JSON with --output.\n\
         Exit status: 0 succeeded, 1 failed, 2 invalid job.\n\
         Configuration: the same OAS_* variables as the gateway (see its README).\n",
        binary = info.module.binary(),
        about = info.about,
        module = info.module,
        action = info.actions.first().copied().unwrap_or("…"),
        actions = info.actions.join(", "),
        params = info.params,
    )
}

/// The job's JSON text from the arguments or the environment, and where it
/// came from (`OAS_JOB`, `stdin` or `file`).
fn read_job_text(args: &[String]) -> Result<(String, &'static str), String> {
    match args {
        [] => std::env::var("OAS_JOB")
            .map(|text| (text, "OAS_JOB"))
            .map_err(|_| "no job: give --input FILE, --input - or OAS_JOB".to_owned()),
        [flag, source] if flag == "--input" => {
            if source == "-" {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .map_err(|e| format!("cannot read the job from stdin: {e}"))?;
                Ok((text, "stdin"))
            } else {
                std::fs::read_to_string(source)
                    .map(|text| (text, "file"))
                    .map_err(|e| format!("cannot read the job from {source}: {e}"))
            }
        }
        _ => Err(
            "usage: [--input FILE | --input -] (or OAS_JOB); --help explains the job".to_owned(),
        ),
    }
}

/// Parses and checks a job for this module.
pub fn parse_job(info: &ModuleInfo, text: &str) -> Result<Job, String> {
    let job: Job = serde_json::from_str(text)
        .map_err(|e| format!("the job is not valid JSON for a job: {e}"))?;
    job.validate()?;
    if job.module != info.module {
        return Err(format!(
            "this is the {} module, not {}",
            info.module, job.module
        ));
    }
    if !info.actions.contains(&job.action.as_str()) {
        return Err(format!(
            "unknown action {:?}: expected one of {}",
            job.action,
            info.actions.join(", ")
        ));
    }
    Ok(job)
}

/// Runs a module: call it from the binary's `main`.
pub fn main<F, Fut>(info: &ModuleInfo, work: F) -> ExitCode
where
    F: FnOnce(Job, Settings) -> Fut,
    Fut: Future<Output = Result<serde_json::Value, Failure>>,
{
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        print!("{}", help(info));
        return ExitCode::SUCCESS;
    }
    // `--output FILE`: the completion event is also written there, for runs
    // by hand and benchmarks.
    let output = match args.iter().position(|a| a == "--output") {
        Some(at) if at + 1 < args.len() => {
            let path = args.remove(at + 1);
            args.remove(at);
            Some(std::path::PathBuf::from(path))
        }
        Some(_) => {
            eprintln!("{}: --output needs a file", info.module.binary());
            return ExitCode::from(EXIT_INVALID_JOB);
        }
        None => None,
    };
    let binary = info.module.binary();
    let read =
        read_job_text(&args).and_then(|(text, from)| parse_job(info, &text).map(|job| (job, from)));
    let (job, job_from) = match read {
        Ok(read) => read,
        Err(e) => {
            eprintln!("{binary}: invalid job: {e}");
            return ExitCode::from(EXIT_INVALID_JOB);
        }
    };
    let settings = match config::load_dotenv().and_then(|_| Settings::from_env()) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("{binary}: {e}");
            return ExitCode::from(crate::config::EXIT_CONFIG);
        }
    };
    if job.callback.webhook_url.is_some() && settings.webhook_secret.is_none() {
        eprintln!(
            "{binary}: {} is needed to sign the completion webhook",
            config::WEBHOOK_SECRET
        );
        return ExitCode::from(crate::config::EXIT_CONFIG);
    }
    if let Err(e) = telemetry::init(settings.log_format, &settings.log_filter) {
        eprintln!("{binary}: {e}");
        return ExitCode::FAILURE;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("{binary}: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let span = tracing::info_span!("job", job_id = %job.job_id, module = %job.module, action = %job.action);
    runtime.block_on(
        async move {
            tracing::info!(job_from, "started");
            let (outcome, stopped) = tokio::select! {
                outcome = work(job.clone(), settings.clone()) => (outcome, false),
                () = terminated() => {
                    tracing::warn!("stopped by SIGTERM before finishing");
                    (Err(Failure::new(
                        FailureCode::Internal,
                        "The run was stopped by its host (SIGTERM) before it finished; run it again.",
                    )), true)
                }
            };
            let (event, succeeded) = match outcome {
                Ok(output) => (JobEvent::succeeded(&job, output), true),
                Err(failure) => {
                    tracing::warn!(code = %failure.code, message = %failure.message, "failed");
                    (
                        JobEvent::failed(&job, failure.code, &failure.message),
                        false,
                    )
                }
            };
            let mut reported = if stopped {
                // A stopped task has seconds left (30 on ECS by default):
                // one short try, then the gateway's sweep ends the job.
                tokio::time::timeout(STOPPED_REPORT_WINDOW, report(&job, &event, &settings))
                    .await
                    .unwrap_or(false)
            } else {
                report(&job, &event, &settings).await
            };
            if let Some(path) = &output {
                let written = serde_json::to_vec_pretty(&event)
                    .map_err(std::io::Error::other)
                    .and_then(|json| std::fs::write(path, json));
                if let Err(e) = written {
                    tracing::error!(error = %e, "cannot write the completion event to --output");
                    reported = false;
                }
            }
            tracing::info!(succeeded, reported, "finished");
            if succeeded && reported {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        .instrument(span),
    )
}

/// Sends the event through every channel of the job's callback; `true` when
/// all deliveries were accepted.
pub async fn report(job: &Job, event: &JobEvent, settings: &Settings) -> bool {
    let mut delivered = true;
    if let Some(queue_url) = &job.callback.queue_url {
        let queue = crate::events::sqs::EventQueue::from_environment(queue_url).await;
        if let Err(e) = queue.publish(event).await {
            tracing::error!(error = %e, "cannot publish the completion event to SQS");
            delivered = false;
        }
    }
    if let (Some(url), Some(secret)) = (&job.callback.webhook_url, &settings.webhook_secret) {
        delivered &= deliver_webhook(url, secret.expose_secret().as_bytes(), event).await;
    }
    delivered
}

/// POSTs the signed event (signed anew at each attempt), retrying network
/// errors and 5xx with backoff. A 4xx is final: retrying an unauthorised or
/// malformed delivery cannot help.
pub async fn deliver_webhook(url: &str, secret: &[u8], event: &JobEvent) -> bool {
    let Ok(body) = serde_json::to_vec(event) else {
        return false;
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build();
    let Ok(client) = client else { return false };
    let mut pause = FIRST_BACKOFF;
    let give_up = std::time::Instant::now() + DELIVERY_WINDOW;
    for attempt in 1.. {
        let signature = webhook::sign(
            secret,
            event.job_id(),
            chrono::Utc::now().timestamp(),
            &body,
        );
        let sent = client
            .post(url)
            .header("content-type", "application/json")
            .header(webhook::ID_HEADER, event.job_id())
            .header(webhook::SIGNATURE_HEADER, signature)
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => return true,
            Ok(response) if response.status().is_client_error() => {
                tracing::error!(
                    status = response.status().as_u16(),
                    "the completion webhook was refused"
                );
                return false;
            }
            Ok(response) => tracing::warn!(
                attempt,
                status = response.status().as_u16(),
                "completion webhook failed; retrying"
            ),
            Err(e) => {
                tracing::warn!(attempt, error = %e, "completion webhook unreachable; retrying")
            }
        }
        if std::time::Instant::now() + pause > give_up {
            break;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(MAX_BACKOFF);
    }
    tracing::error!("the completion webhook could not be delivered; giving up");
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: ModuleInfo = ModuleInfo {
        module: Module::Ping,
        about: "test",
        actions: &["ping"],
        params: "none",
    };

    #[test]
    fn jobs_for_another_module_or_action_are_refused() {
        let job = r#"{"job_id": "12345678", "module": "ping", "action": "ping", "org_id": 1}"#;
        assert!(parse_job(&INFO, job).is_ok());
        let other =
            r#"{"job_id": "12345678", "module": "importer", "action": "ping", "org_id": 1}"#;
        assert!(
            parse_job(&INFO, other)
                .unwrap_err()
                .contains("not importer")
        );
        let action = r#"{"job_id": "12345678", "module": "ping", "action": "pong", "org_id": 1}"#;
        assert!(
            parse_job(&INFO, action)
                .unwrap_err()
                .contains("unknown action")
        );
        assert!(parse_job(&INFO, "{").is_err());
        assert!(help(&INFO).contains("\"module\": \"ping\""));
    }
}
