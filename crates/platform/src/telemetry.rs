//! Logging through `tracing`: JSON lines by default (one object per event,
//! with the fields of the enclosing spans, such as the request id), or
//! human-readable with `OAS_LOG_FORMAT=pretty`. Logs go to stderr, leaving
//! stdout to command output (e.g. the API key `createsuperuser` prints).

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

use crate::config::LogFormat;

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("invalid log filter: {0}")]
    Filter(String),
    #[error("logging was already set up")]
    AlreadySet,
}

/// Installs the global subscriber (and routes the `log` crate's records,
/// e.g. actix-server's, into it). Call once per process.
pub fn init(format: LogFormat, filter: &str) -> Result<(), TelemetryError> {
    let filter = EnvFilter::try_new(filter).map_err(|e| TelemetryError::Filter(e.to_string()))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_span_events(FmtSpan::NONE);
    let result = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
    result.map_err(|_| TelemetryError::AlreadySet)
}
