//! What an import found, from the ledger of all a file's lines.

use oas_domain::job::contract::importer::RateUsed;
use oas_domain::money::Amount;
use oas_platform::module::Failure;
use serde::Serialize;

use crate::failure::{internal, rejected};
use crate::ledger::Ledger;
use crate::rates::missing_cause;
use crate::totals::Totals;

/// What an import found.
#[derive(Debug, Serialize)]
pub struct Imported {
    pub format: String,
    pub format_name: String,
    pub lines: i64,
    pub currency: String,
    pub base_currency: String,
    /// The single rate used, when there was one.
    pub rate: Option<String>,
    /// Every rate used, by currency and month.
    pub rates_used: Vec<RateUsed>,
    pub total: Amount,
    pub base_total: Amount,
    pub quantity: i64,
    pub artists: usize,
    pub period: Option<String>,
    /// The first and last month the lines cover.
    pub months: Option<(String, String)>,
    /// The first and last reporting month the lines are stored with.
    pub reported: Option<(String, String)>,
    #[serde(skip)]
    pub totals: Totals,
}

/// What the ledger of all a file's lines comes to; `empty` is the cause
/// when there was no line.
pub(crate) fn imported(
    ledger: Ledger,
    format: &str,
    format_name: &str,
    base_currency: &str,
    file_period: Option<String>,
    empty: &str,
) -> Result<Imported, Failure> {
    if ledger.totals.lines == 0 {
        return Err(rejected(empty));
    }
    if ledger.totals.unfinished() {
        return Err(internal(
            "importing",
            "lines were left whose groups were not found",
        ));
    }
    let missing = ledger.missing_rates();
    if !missing.is_empty() {
        return Err(rejected(missing_cause(base_currency, &missing)));
    }
    let rate = ledger.single_rate();
    let rates_used = ledger.rates_used(base_currency);
    let currency = ledger
        .currencies
        .keys()
        .cloned()
        .collect::<Vec<_>>()
        .join(",");
    let totals = ledger.totals;
    Ok(Imported {
        format: format.to_owned(),
        format_name: format_name.to_owned(),
        lines: totals.lines,
        currency,
        base_currency: base_currency.to_owned(),
        rate,
        rates_used,
        total: totals.revenue,
        base_total: totals.base_revenue,
        quantity: totals.quantity,
        artists: totals.artists(),
        // One rule for every format: the period the operator gave, else the
        // one the report states (a preamble's or a DSR's start), else the
        // first month its lines cover.
        months: ledger
            .earliest_period
            .clone()
            .zip(ledger.latest_period.clone()),
        reported: {
            let period = file_period.clone().or(ledger.earliest_period.clone());
            let mut reported = ledger.reported.clone();
            // A line with no month of its own takes the file's.
            if let (true, Some(period)) = (ledger.unreported, period.as_deref()) {
                crate::ledger::widen(&mut reported, period, period);
            }
            reported
        },
        period: file_period.or(ledger.earliest_period),
        totals,
    })
}
