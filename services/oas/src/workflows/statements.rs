//! Statements of a period, one run of the statement module: recorded
//! PENDING (one per contract and payee, or one sales statement), each
//! written by the module as a DRAFT as soon as it is calculated; any still
//! PENDING when the run ends is FAILED with why. A DRAFT is recalculated by
//! asking again, locked by approval, and sent to its payee by email with
//! links to its PDF and CSV (valid 24 hours, renewable).

use std::time::Duration;

use chrono::Utc;
use oas_db::jobs::JobRecord;
use oas_db::payees::Payee;
use oas_db::statements::{PENDING, SENT, StatementChange, StatementRecord};
use oas_domain::job::Module;
use oas_domain::job::contract::{report, statement};
use oas_platform::storage::{ObjectKey, ObjectStore, PresignMethod};

use super::failure_cause;
use crate::background::{BackgroundError, BackgroundResult};
use crate::mail::Email;
use crate::runs::{self, Launch, Subject};
use crate::state::AppState;

/// How long a statement's links work.
pub const LINK_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// Starts the run calculating statements `ids` (PENDING, of organisation
/// `org`) for the months `from` to `to` from the lines of `sources`.
pub async fn start(
    state: &AppState,
    org: i64,
    ids: Vec<i64>,
    from: &str,
    to: &str,
    sources: Vec<report::Source>,
) -> BackgroundResult<JobRecord> {
    let Some(first) = ids.first().copied() else {
        return Err(BackgroundError::refused("No statement to calculate."));
    };
    let params = statement::Params {
        period_from: from.to_owned(),
        period_to: to.to_owned(),
        statements: ids.clone(),
        files: sources,
    };
    let job = runs::launch(
        state,
        Launch {
            module: Module::Statement,
            action: statement::ACTION.to_owned(),
            organisation_id: org,
            subject: Subject::Statements(first),
            params: serde_json::to_value(params).map_err(BackgroundError::final_)?,
        },
    )
    .await?;
    let job_id = job.id.clone();
    state
        .db
        .run(move |conn| StatementRecord::set_job(conn, &ids, &job_id))
        .await?;
    Ok(job)
}

/// A run of statements ended: those it did not calculate fail with why.
pub async fn ended(state: &AppState, job: &JobRecord) -> BackgroundResult<()> {
    let params: statement::Params =
        serde_json::from_str(&job.params).map_err(BackgroundError::final_)?;
    let cause = failure_cause(job, |code| {
        format!("The statement could not be calculated ({code}). Ask for it again.")
    });
    fail_pending(state, params.statements, cause).await
}

/// Statements `ids` still PENDING fail with `cause`.
pub async fn fail_pending(state: &AppState, ids: Vec<i64>, cause: String) -> BackgroundResult<()> {
    state
        .db
        .run(move |conn| {
            for id in ids {
                StatementRecord::transition(conn, id, PENDING, &failing(cause.clone()))?;
            }
            Ok::<_, oas_db::DbError>(())
        })
        .await?;
    Ok(())
}

/// A statement that cannot go on, with why.
pub fn failing(cause: String) -> StatementChange {
    StatementChange {
        status: Some(oas_db::statements::FAILED.to_owned()),
        status_cause: Some(Some(cause)),
        updated_at: Some(Utc::now().naive_utc()),
        ..Default::default()
    }
}

/// Links to a calculated statement's PDF and CSV, and when they stop
/// working.
pub struct Links {
    pub pdf: String,
    pub csv: String,
    pub expires_at: chrono::DateTime<Utc>,
}

/// Fresh links to `statement`'s files; `None` before it is calculated.
pub async fn links(
    state: &AppState,
    statement: &StatementRecord,
) -> BackgroundResult<Option<Links>> {
    let (Some(pdf), Some(csv)) = (statement.pdf_key.as_deref(), statement.csv_key.as_deref())
    else {
        return Ok(None);
    };
    let pdf = state
        .storage
        .presign(PresignMethod::Get, &ObjectKey::parse(pdf)?, LINK_TTL)
        .await?;
    let csv = state
        .storage
        .presign(PresignMethod::Get, &ObjectKey::parse(csv)?, LINK_TTL)
        .await?;
    Ok(Some(Links {
        expires_at: pdf.expires_at.min(csv.expires_at),
        pdf: pdf.url,
        csv: csv.url,
    }))
}

/// Why a statement cannot be sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("A sales statement has no payee to send it to: download it instead.")]
    NoPayee,
    #[error("The payee {0} has no email address: add one, then send it again.")]
    NoEmail(String),
    #[error("The statement's files are not there: recalculate it.")]
    NoFiles,
    #[error(transparent)]
    Failed(#[from] BackgroundError),
}

/// Emails the payee of an approved (or already sent) `statement` links
/// to its PDF and CSV, and records it SENT.
pub async fn send(state: &AppState, statement: &StatementRecord) -> Result<(), SendError> {
    let Some(payee_id) = statement.payee_id else {
        return Err(SendError::NoPayee);
    };
    let payee = state
        .db
        .run(move |conn| Payee::find(conn, payee_id))
        .await
        .map_err(|e| SendError::Failed(e.into()))?;
    if payee.email.trim().is_empty() {
        return Err(SendError::NoEmail(payee.name));
    }
    let Some(links) = links(state, statement).await? else {
        return Err(SendError::NoFiles);
    };
    let organisation_id = statement.organisation_id;
    let organisation = state
        .db
        .run(move |conn| oas_db::organisations::Organisation::find(conn, organisation_id))
        .await
        .map_err(|e| SendError::Failed(e.into()))?;
    let period = if statement.period_from == statement.period_to {
        statement.period_from.clone()
    } else {
        format!("{} to {}", statement.period_from, statement.period_to)
    };
    let currency = &statement.currency;
    let payable = statement.payable.as_deref().unwrap_or("0");
    let closing = statement.closing_balance.as_deref().unwrap_or("0");
    let body = format!(
        "Dear {name},\n\n\
         {org} has issued your royalty statement {id} for {period}.\n\n\
         Closing balance: {closing} {currency}\n\
         Payable now: {payable} {currency}\n\n\
         The statement (PDF): {pdf}\n\
         Every line behind it (CSV): {csv}\n\n\
         These links work for 24 hours, until {expires} UTC; ask {org} for fresh ones after that.\n",
        name = payee.name,
        org = organisation.name,
        id = statement.id,
        pdf = links.pdf,
        csv = links.csv,
        expires = links.expires_at.format("%Y-%m-%d %H:%M"),
    );
    state
        .mailer
        .send(Email {
            to: payee.email.clone(),
            subject: format!("{}: your royalty statement for {period}", organisation.name),
            body,
        })
        .await
        .map_err(|e| SendError::Failed(BackgroundError::Passing(e.into())))?;
    let id = statement.id;
    let from = statement.status.clone();
    let change = StatementChange {
        status: Some(SENT.to_owned()),
        sent_at: Some(Some(Utc::now().naive_utc())),
        updated_at: Some(Utc::now().naive_utc()),
        ..Default::default()
    };
    state
        .db
        .run(move |conn| StatementRecord::transition(conn, id, &from, &change))
        .await
        .map_err(|e| SendError::Failed(e.into()))?;
    Ok(())
}
