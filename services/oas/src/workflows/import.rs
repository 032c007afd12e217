//! `Module::Importer`: importing a cleaned sales file.
//!
//! - `params`: the cleaning's output, the organisation's formats (its own,
//!   then the built-ins), base currency and rates, the file's own rate and
//!   period, and the clean copies of the other files of its DSR message;
//! - `ended`: an import ended: the file is PROCESSED with its totals, and
//!   its match follows (`matching`); or FAILED with the reason.

use oas_db::formats::FormatRecord;
use oas_db::jobs::JobRecord;
use oas_db::organisations::{ExchangeRate, Organisation};
use oas_db::sales_files::{SalesFile, StatusChange};
use oas_domain::job::Module;
use oas_domain::job::contract::importer::{Output, Params, Rate};
use oas_domain::job::contract::uploads::{self, Cleaned};

use super::{archive, dsr_message, files, output_of};
use crate::background::{BackgroundError, BackgroundResult};
use crate::runs::Subject;
use crate::state::AppState;

/// The importer's job for `file`; refused (the file's cause) when the file
/// has no clean copy or waits for the rest of its DSR message.
pub async fn params(state: &AppState, file: &SalesFile) -> BackgroundResult<serde_json::Value> {
    let (file_id, org_id) = (file.id, file.organisation_id);
    let (clean, org, formats, rates) = state
        .db
        .run(move |conn| {
            let clean = JobRecord::latest_output(conn, file_id, Module::Uploads.as_str())?;
            let org = Organisation::find(conn, org_id)?;
            let formats = FormatRecord::usable_by(conn, org_id)?;
            let rates = ExchangeRate::list(conn, org_id)?;
            Ok::<_, oas_db::DbError>((clean, org, formats, rates))
        })
        .await?;
    let clean = clean
        .as_deref()
        .and_then(|c| serde_json::from_str::<uploads::Output>(c).ok())
        .filter(|c| !matches!(c.cleaned, Cleaned::Archive(_)))
        .ok_or_else(|| BackgroundError::refused(files::NOT_CLEANED))?;
    let message_parts = dsr_message::other_parts(state, file).await?;
    let formats: Vec<serde_json::Value> = formats
        .iter()
        .filter_map(|f| serde_json::from_str(&f.spec).ok())
        .collect();
    let rates: Vec<Rate> = rates
        .iter()
        .filter(|r| r.to_currency == org.base_currency)
        .map(|r| Rate {
            currency: r.from_currency.clone(),
            period: r.period.clone(),
            rate: r.rate.clone(),
        })
        .collect();
    let missing_rates = crate::routes::organisations::settings::missing_rates(&org);
    let params = Params {
        clean,
        formats,
        base_currency: org.base_currency,
        file_rate: file.exchange_rate.clone(),
        rates,
        missing_rates,
        reporting_period: file.reporting_period.clone(),
        lines_prefix: oas_platform::storage::lines_prefix(file.organisation_id),
        message_parts,
    };
    serde_json::to_value(params).map_err(BackgroundError::final_)
}

/// An import ended. A file whose lines repeat another live file's (the
/// same report, whatever its bytes) fails naming it, and its lines and
/// snapshot are removed so that nothing counts twice; unless it was
/// reimported on purpose after being found a copy.
pub async fn ended(state: &AppState, job: &JobRecord) -> BackgroundResult<()> {
    let Subject::File(file_id) = Subject::of(job) else {
        return Ok(());
    };
    let Some(file) = super::file(state, file_id).await? else {
        return Ok(());
    };
    apply(state, job, &file).await?;
    if let Some(parent) = file.parent_id {
        archive::tally(state, parent).await?;
    }
    Ok(())
}

/// What the import's end does to the file.
async fn apply(state: &AppState, job: &JobRecord, file: &SalesFile) -> BackgroundResult<()> {
    if files::skip_member(state, job, file, Module::Importer).await? {
        return Ok(());
    }
    let output: Option<Output> = output_of(job)?;
    let copy_of = match output.as_ref().and_then(|o| o.fingerprint.clone()) {
        Some(fingerprint) => record_lines(state, file, fingerprint).await?,
        None => None,
    };
    if let Some(original) = copy_of.as_ref().filter(|_| file.duplicate_of.is_none()) {
        return fail_as_copy(state, job, file, original).await;
    }
    let succeeded = output.map(|output| StatusChange {
        status_cause: Some(match &copy_of {
            Some(original) => Some(format!(
                "Imported on purpose, although it repeats file {} ({}): its lines count twice.",
                original.id, original.filename
            )),
            None => left_out(job),
        }),
        total_rows: Some(Some(output.lines)),
        total_artists: Some(i64::try_from(output.artists).ok()),
        total_local: Some(Some(output.total.to_string())),
        rates_used: Some(serde_json::to_string(&output.rates_used).ok()),
        // A period the operator gave stands; else the report's.
        reporting_period: file.reporting_period.is_none().then_some(output.period),
        period_from: Some(output.period_from),
        period_to: Some(output.period_to),
        // A copy imported on purpose still names the file it repeats;
        // a file whose lines are its own no longer does.
        duplicate_of: Some(copy_of.as_ref().map(|o| o.id)),
        // The rate the import used stays in its job's output: written into
        // the file's own exchange_rate it would override the organisation's
        // corrected rates at the next reimport.
        ..Default::default()
    });
    let after = files::finish(state, job, file, Module::Importer, succeeded).await?;
    if after.is_some_and(|a| a.then == Some(oas_domain::file::FileAction::Match)) {
        super::matching::after_import(state, file.id).await?;
    }
    Ok(())
}

/// Records the fingerprint of the lines the import read on the file (still
/// being imported); answers another live file of the organisation with the
/// same lines, if there is one.
async fn record_lines(
    state: &AppState,
    file: &SalesFile,
    fingerprint: String,
) -> BackgroundResult<Option<SalesFile>> {
    let (id, org) = (file.id, file.organisation_id);
    let status = files::status_of(file)?;
    Ok(state
        .db
        .run(move |conn| {
            let change = StatusChange {
                lines_hash: Some(Some(fingerprint.clone())),
                ..Default::default()
            };
            SalesFile::transition(conn, id, status.as_str(), &change)?;
            SalesFile::same_lines(conn, org, &fingerprint, id)
        })
        .await?)
}

/// Fails an imported file as a copy of `original`, after removing the
/// lines and snapshot its import stored.
async fn fail_as_copy(
    state: &AppState,
    job: &JobRecord,
    file: &SalesFile,
    original: &SalesFile,
) -> BackgroundResult<()> {
    let status = files::status_of(file)?;
    if !status.is_busy() {
        // A late or repeated event: the file has moved on.
        return Ok(());
    }
    files::remove_lines(state, file).await?;
    let cause = copy_cause(original);
    let mut change = files::failing(&cause, &cause, Module::Importer, &job.status);
    change.duplicate_of = Some(Some(original.id));
    tracing::info!(
        file.id = file.id,
        duplicate_of = original.id,
        "a copy of another file was not counted"
    );
    files::transition(state, file.id, status, change).await?;
    Ok(())
}

/// Why a copy of `original` failed, and how to count it anyway.
pub fn copy_cause(original: &SalesFile) -> String {
    format!(
        "The same report was already imported as file {} ({}): this copy counts nowhere. To count it anyway, process this file with the action \"reimport\".",
        original.id, original.filename
    )
}

/// What an import left out, in the words of the file's `status_cause`:
/// the lines cleaning found after the table (a summary block).
fn left_out(job: &JobRecord) -> Option<String> {
    let params: Params<serde_json::Value> = serde_json::from_str(&job.params).ok()?;
    let Cleaned::Table(table) = params.clean.cleaned else {
        return None;
    };
    let trailing = Some(table.trailing_lines).filter(|n| *n > 0)?;
    Some(format!(
        "Imported. {trailing} line(s) after the table, below a blank line and shaped otherwise, were taken for a summary block and left out."
    ))
}
