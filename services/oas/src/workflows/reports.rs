//! A report, one run of the report module: recorded PENDING with the
//! period's processed files, written by the module (the run's start shows
//! it RUNNING), and READY with its rows, total and file when the run ends,
//! or FAILED with a cause. When it is READY the requester is emailed a link
//! to the file, valid 24 hours.

use std::time::Duration;

use chrono::Utc;
use oas_db::jobs::JobRecord;
use oas_db::organisations::Membership;
use oas_db::reports::{ReportChange, ReportRecord};
use oas_db::users::User;
use oas_domain::job::Module;
use oas_domain::job::contract::report;
use oas_platform::storage::{ObjectKey, ObjectStore, PresignMethod};

use super::{failure_cause, output_of};
use crate::background::{BackgroundError, BackgroundResult};
use crate::mail::Email;
use crate::runs::{self, Launch, Subject};
use crate::state::AppState;

/// How long a report's download link works.
pub const LINK_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// A report's statuses.
pub const PENDING: &str = "PENDING";
pub const RUNNING: &str = "RUNNING";
pub const READY: &str = "READY";
pub const FAILED: &str = "FAILED";

/// Starts the run writing `report` from `sources` (the processed files
/// of its organisation that hold lines of its period).
pub async fn start(
    state: &AppState,
    report: &ReportRecord,
    sources: Vec<report::Source>,
) -> BackgroundResult<JobRecord> {
    let kind = kind_of(&report.kind)
        .ok_or_else(|| BackgroundError::refused("The report's type is unknown."))?;
    let by = match report.by_period.as_str() {
        "sale" => report::By::Sale,
        _ => report::By::Reporting,
    };
    let target = oas_platform::storage::report_key(report.organisation_id, report.id)?;
    let params = report::Params {
        report_id: report.id,
        kind,
        period_from: report.period_from.clone(),
        period_to: report.period_to.clone(),
        by,
        files: sources,
        target: target.as_str().to_owned(),
    };
    let job = runs::launch(
        state,
        Launch {
            module: Module::Report,
            action: report::ACTION.to_owned(),
            organisation_id: report.organisation_id,
            subject: Subject::Report(report.id),
            params: serde_json::to_value(params).map_err(BackgroundError::final_)?,
        },
    )
    .await?;
    let (id, job_id) = (report.id, job.id.clone());
    // Whatever the status: a quick run may have ended already.
    state
        .db
        .run(move |conn| ReportRecord::set_job(conn, id, &job_id))
        .await?;
    Ok(job)
}

/// A report's type as the module's contract names it.
pub fn kind_of(name: &str) -> Option<report::Kind> {
    report::Kind::ALL.into_iter().find(|k| k.as_str() == name)
}

/// A run on report `id` ended.
pub async fn ended(state: &AppState, job: &JobRecord, id: i64) -> BackgroundResult<()> {
    let current = match state.db.run(move |conn| ReportRecord::find(conn, id)).await {
        Ok(report) => report,
        // Deleted meanwhile: what the run wrote goes too.
        Err(oas_db::DbError::NotFound) => return forget(state, job, id).await,
        Err(e) => return Err(e.into()),
    };
    let change = match output_of::<report::Output>(job)? {
        Some(written) => ReportChange {
            status: Some(READY.to_owned()),
            status_cause: Some(ready_cause(current.status_cause.as_deref(), &written)),
            row_count: Some(i64::try_from(written.rows).ok()),
            total_revenue: Some(Some(written.total.to_string())),
            currency: Some(written.currency.clone()),
            quantity: Some(Some(written.quantity)),
            result_key: Some(Some(written.key)),
            updated_at: Some(Utc::now().naive_utc()),
            ..Default::default()
        },
        None => failing(cause(job)),
    };
    let ready = change.status.as_deref() == Some(READY);
    let changed = state
        .db
        .run(move |conn| ReportRecord::transition(conn, id, PENDING, &change))
        .await?;
    if changed && ready {
        let report = state
            .db
            .run(move |conn| ReportRecord::find(conn, id))
            .await?;
        if let Err(e) = email_link(state, &report).await {
            // The report is there to download; the email is a courtesy.
            tracing::warn!(report.id = id, error = %e, "cannot email the report's link");
        }
    }
    Ok(())
}

/// Removes what a run wrote for a report deleted while it ran.
async fn forget(state: &AppState, job: &JobRecord, id: i64) -> BackgroundResult<()> {
    use oas_platform::snapshots::SnapshotStore;
    if let Some(written) = output_of::<report::Output>(job)? {
        state
            .storage
            .delete(&ObjectKey::parse(&written.key)?)
            .await?;
    }
    // A run that stored its file and then failed leaves it there too.
    let key = oas_platform::storage::report_key(job.organisation_id, id)?;
    state.storage.delete(&key).await?;
    state
        .snapshots
        .delete_report(id)
        .await
        .map_err(|e| BackgroundError::Passing(e.into()))?;
    Ok(())
}

/// What a READY report says beside its figures: files of the period left
/// out (noted when it was asked for), or that the period has no line.
fn ready_cause(noted: Option<&str>, written: &report::Output) -> Option<String> {
    let empty = (written.period_lines == 0)
        .then_some("No line of a processed file falls in the period: the report has no row.");
    match (noted, empty) {
        (Some(noted), Some(empty)) => Some(format!("{empty} {noted}")),
        (Some(noted), None) => Some(noted.to_owned()),
        (None, empty) => empty.map(str::to_owned),
    }
}

/// A report that cannot go on, with why.
pub fn failing(cause: String) -> ReportChange {
    ReportChange {
        status: Some(FAILED.to_owned()),
        status_cause: Some(Some(cause)),
        updated_at: Some(Utc::now().naive_utc()),
        ..Default::default()
    }
}

fn cause(job: &JobRecord) -> String {
    failure_cause(job, |code| {
        format!("The report could not be written ({code}). Ask for it again.")
    })
}

/// A download link to a READY report's file, and when it stops working.
pub async fn link(
    state: &AppState,
    report: &ReportRecord,
) -> BackgroundResult<Option<(String, chrono::DateTime<Utc>)>> {
    let (READY, Some(key)) = (report.status.as_str(), report.result_key.as_deref()) else {
        return Ok(None);
    };
    let key = ObjectKey::parse(key)?;
    let url = state
        .storage
        .presign(PresignMethod::Get, &key, LINK_TTL)
        .await?;
    Ok(Some((url.url, url.expires_at)))
}

/// Emails the report's requester its link.
async fn email_link(state: &AppState, report: &ReportRecord) -> anyhow::Result<()> {
    let Some(user_id) = report.created_by else {
        return Ok(());
    };
    let organisation_id = report.organisation_id;
    let (user, member) = state
        .db
        .run(move |conn| {
            let user = User::find(conn, user_id)?;
            let member = Membership::organisation_for_user(conn, organisation_id, user_id)?
                .and_then(|(_, membership)| membership)
                .is_some();
            Ok::<_, oas_db::DbError>((user, member))
        })
        .await?;
    // Someone no longer of the organisation is not sent its sales.
    if !member || !user.is_active {
        return Ok(());
    }
    let Some((url, expires_at)) = link(state, report).await? else {
        return Ok(());
    };
    let rows = report.row_count.unwrap_or(0);
    // To the cent for reading; the report and its resource are exact.
    let total = report
        .total_revenue
        .as_deref()
        .and_then(|t| oas_domain::money::Amount::parse_total(t).ok())
        .map(|t| t.to_fixed(2))
        .unwrap_or_else(|| "0.00".to_owned());
    let currency = report.currency.as_deref().unwrap_or("");
    let period = if report.period_from == report.period_to {
        report.period_from.clone()
    } else {
        format!("{} to {}", report.period_from, report.period_to)
    };
    let mut body = format!(
        "Your {kind} report of {period} is ready: {rows} line(s), {total} {currency} in all.\n\n\
         Download it (a gzipped CSV file) within 24 hours, until {expires} UTC:\n{url}\n\n\
         After that, ask for a fresh link: POST /api/reports/{id}/link/\n",
        kind = report.kind,
        expires = expires_at.format("%Y-%m-%d %H:%M"),
        id = report.id,
    );
    if let Some(cause) = &report.status_cause {
        body.push_str(&format!("\nNote: {cause}\n"));
    }
    state
        .mailer
        .send(Email {
            to: user.email,
            subject: format!("OAS: your {} report of {period} is ready", report.kind),
            body,
        })
        .await?;
    Ok(())
}
