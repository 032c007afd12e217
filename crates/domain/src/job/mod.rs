//! The contract between the gateway and the modules: the job a module run
//! receives, and the event it sends back when done.
//!
//! ```json
//! {"job_id": "5f0c…", "module": "importer", "action": "import", "org_id": 7,
//!  "file_id": 42, "params": {}, "callback": {"webhook_url": "…", "queue_url": "…"}}
//! ```

pub mod contract;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The modules a job can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Module {
    Uploads,
    Importer,
    CatalogueMatching,
    Report,
    Statement,
    /// Checks a deployment's module plumbing end to end: it does nothing
    /// but report back.
    Ping,
}

impl Module {
    pub const ALL: [Module; 6] = [
        Module::Uploads,
        Module::Importer,
        Module::CatalogueMatching,
        Module::Report,
        Module::Statement,
        Module::Ping,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Module::Uploads => "uploads",
            Module::Importer => "importer",
            Module::CatalogueMatching => "catalogue-matching",
            Module::Report => "report",
            Module::Statement => "statement",
            Module::Ping => "ping",
        }
    }

    /// The module's binary, found beside `oas` (and the container's entrypoint).
    pub fn binary(self) -> String {
        format!("oas-{}", self.as_str())
    }
}

impl fmt::Display for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Module {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Module::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| format!("unknown module {s:?}"))
    }
}

/// Where a module run reports back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Callback {
    /// The gateway's `/api/webhooks/jobs/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    /// An SQS queue the gateway consumes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_url: Option<String>,
}

/// One module run's input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    pub job_id: String,
    pub module: Module,
    pub action: String,
    pub org_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<i64>,
    #[serde(default)]
    pub params: serde_json::Value,
    #[serde(default)]
    pub callback: Callback,
}

impl Job {
    /// Checks what serde cannot: a plausible id and action.
    pub fn validate(&self) -> Result<(), String> {
        let id_ok = (8..=64).contains(&self.job_id.len())
            && self
                .job_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !id_ok {
            return Err("job_id must be 8 to 64 letters, digits or dashes".into());
        }
        if self.action.is_empty() || self.action.len() > 64 {
            return Err("action must be 1 to 64 characters".into());
        }
        if self.org_id <= 0 {
            return Err("org_id must be positive".into());
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventStatus {
    Succeeded,
    Failed,
}

/// Why a run failed, machine-readable: what the modules report and what
/// the gateway records for runs that could not report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureCode {
    /// The input's fault (a file that is not a report, a bad line): the
    /// message is written for the operator and becomes the subject's cause.
    Rejected,
    /// The input is readable but is not a sales report (no table, or a
    /// table of no known format: a statement or a reference table in a
    /// distributor's bundle). Like `Rejected`, the message is the cause;
    /// an archive's member that is not a sales report is skipped, not
    /// failed.
    NotASalesReport,
    /// The job's params do not fit the module.
    InvalidParams,
    /// The module failed on its own account (storage, a bug).
    Internal,
    /// The run could not start.
    LaunchFailed,
    /// The run did not finish in time.
    TimedOut,
    /// The process ended without reporting its outcome.
    ExitedWithoutReport,
    /// The run passed its memory limit and was killed.
    OutOfMemory,
    /// Waiting for the run failed, or it ended while nobody watched it.
    Lost,
    /// The run reported success with an output its module's contract
    /// does not allow.
    InvalidOutput,
    /// A code this gateway does not know (a newer module): kept readable
    /// rather than refusing the event.
    #[serde(other)]
    Other,
}

impl FailureCode {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureCode::Rejected => "rejected",
            FailureCode::NotASalesReport => "not_a_sales_report",
            FailureCode::InvalidParams => "invalid_params",
            FailureCode::Internal => "internal",
            FailureCode::LaunchFailed => "launch_failed",
            FailureCode::TimedOut => "timed_out",
            FailureCode::ExitedWithoutReport => "exited_without_report",
            FailureCode::OutOfMemory => "out_of_memory",
            FailureCode::Lost => "lost",
            FailureCode::InvalidOutput => "invalid_output",
            FailureCode::Other => "other",
        }
    }
}

impl fmt::Display for FailureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FailureCode {
    type Err = std::convert::Infallible;

    /// Any text: an unknown code reads as [`FailureCode::Other`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(
            serde_json::from_value(serde_json::Value::String(s.to_owned()))
                .unwrap_or(FailureCode::Other),
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventError {
    pub code: FailureCode,
    /// For the person reading the file's `status_cause`.
    pub message: String,
}

/// What a module run reports, version 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventV1 {
    pub job_id: String,
    pub module: Module,
    pub action: String,
    pub status: EventStatus,
    #[serde(default)]
    pub output: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<EventError>,
    pub emitted_at: DateTime<Utc>,
}

/// A completion event, tagged by version so the format can evolve while old
/// runs are still in flight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "version")]
pub enum JobEvent {
    #[serde(rename = "1")]
    V1(EventV1),
}

impl JobEvent {
    pub fn succeeded(job: &Job, output: serde_json::Value) -> Self {
        JobEvent::V1(EventV1 {
            job_id: job.job_id.clone(),
            module: job.module,
            action: job.action.clone(),
            status: EventStatus::Succeeded,
            output,
            error: None,
            emitted_at: Utc::now(),
        })
    }

    pub fn failed(job: &Job, code: FailureCode, message: &str) -> Self {
        JobEvent::V1(EventV1 {
            job_id: job.job_id.clone(),
            module: job.module,
            action: job.action.clone(),
            status: EventStatus::Failed,
            output: serde_json::Value::Null,
            error: Some(EventError {
                code,
                message: message.to_owned(),
            }),
            emitted_at: Utc::now(),
        })
    }

    pub fn job_id(&self) -> &str {
        match self {
            JobEvent::V1(e) => &e.job_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Job {
        serde_json::from_str(
            r#"{"job_id": "5f0c0a7e-1111-4c2b-9f00-123456789abc", "module": "catalogue-matching", "action": "match",
                "org_id": 7, "file_id": 42, "params": {"period": "2024-01"},
                "callback": {"webhook_url": "http://127.0.0.1:8000/api/webhooks/jobs/"}}"#,
        )
        .unwrap()
    }

    #[test]
    fn jobs_parse_strictly_and_validate() {
        let job = job();
        assert_eq!(job.module, Module::CatalogueMatching);
        assert_eq!(job.module.binary(), "oas-catalogue-matching");
        job.validate().unwrap();
        assert!(
            serde_json::from_str::<Job>(r#"{"job_id": "x", "module": "importer"}"#).is_err(),
            "missing fields"
        );
        assert!(
            serde_json::from_str::<Job>(
                r#"{"job_id": "12345678", "module": "mystery", "action": "a", "org_id": 1}"#
            )
            .is_err()
        );
        let mut bad = job.clone();
        bad.job_id = "../../etc".into();
        assert!(bad.validate().is_err());
    }

    #[test]
    fn events_are_tagged_with_their_version_and_round_trip() {
        let event = JobEvent::failed(&job(), FailureCode::Rejected, "Not a sales report.");
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["version"], "1");
        assert_eq!(json["status"], "failed");
        assert_eq!(json["error"]["code"], "rejected");
        assert_eq!(serde_json::from_value::<JobEvent>(json).unwrap(), event);
        let unknown = serde_json::json!({"version": "9", "job_id": "x"});
        assert!(serde_json::from_value::<JobEvent>(unknown).is_err());
    }

    #[test]
    fn failure_codes_read_back_and_an_unknown_one_stays_readable() {
        for code in [
            FailureCode::Rejected,
            FailureCode::InvalidParams,
            FailureCode::Internal,
            FailureCode::LaunchFailed,
            FailureCode::TimedOut,
            FailureCode::ExitedWithoutReport,
            FailureCode::OutOfMemory,
            FailureCode::Lost,
            FailureCode::InvalidOutput,
        ] {
            assert_eq!(code.as_str().parse::<FailureCode>().unwrap(), code);
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
        let newer: EventError =
            serde_json::from_value(serde_json::json!({"code": "quota", "message": "m"})).unwrap();
        assert_eq!(newer.code, FailureCode::Other);
    }
}
