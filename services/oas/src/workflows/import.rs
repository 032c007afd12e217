//! `Module::Importer`: importing a cleaned sales file.
//!
//! - `params`: the cleaning's output, the organisation's formats (its own,
//!   then the built-ins), base currency and rates, the file's own rate and
//!   period, and the clean copies of the other files of its DSR message;
//! - `ended`: an import ended: the file is FINALIZED with its totals, or
//!   FAILED with the reason.

use oas_db::formats::FormatRecord;
use oas_db::jobs::JobRecord;
use oas_db::organisations::{ExchangeRate, Organisation};
use oas_db::sales_files::{SalesFile, StatusChange};
use oas_domain::job::Module;
use oas_domain::job::contract::importer::{Output, Params, Rate};
use oas_domain::job::contract::uploads::{self, Cleaned};

use super::{dsr_message, files, output_of};
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
    let params = Params {
        clean,
        formats,
        base_currency: org.base_currency,
        file_rate: file.exchange_rate.clone(),
        rates,
        reporting_period: file.reporting_period.clone(),
        lines_prefix: oas_platform::storage::lines_prefix(file.organisation_id),
        message_parts,
    };
    serde_json::to_value(params).map_err(BackgroundError::final_)
}

/// An import ended.
pub async fn ended(state: &AppState, job: &JobRecord) -> BackgroundResult<()> {
    let Subject::File(file_id) = Subject::of(job) else {
        return Ok(());
    };
    let Some(file) = super::file(state, file_id).await? else {
        return Ok(());
    };
    let output: Option<Output> = output_of(job)?;
    let succeeded = output.map(|output| StatusChange {
        status_cause: Some(left_out(job)),
        total_rows: Some(Some(output.lines)),
        total_artists: Some(i64::try_from(output.artists).ok()),
        total_local: Some(Some(output.total.to_string())),
        // A period the operator gave stands; else the report's.
        reporting_period: file.reporting_period.is_none().then_some(output.period),
        // The rate the import used stays in its job's output: written into
        // the file's own exchange_rate it would override the organisation's
        // corrected rates at the next reimport.
        ..Default::default()
    });
    files::finish(state, job, &file, Module::Importer, succeeded).await?;
    Ok(())
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
