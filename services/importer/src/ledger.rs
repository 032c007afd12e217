//! Accounting for lines: each line's amount read exactly, its currency
//! checked, converted to the base currency and added to the totals. Every
//! thread that maps lines keeps a ledger of its own; ledgers are merged at
//! the end ([`Ledger::merge`]) into what one ledger fed every line in order
//! would hold.

use std::collections::{BTreeMap, BTreeSet};

use oas_domain::job::contract::importer::RateUsed;
use oas_domain::money::{Amount, CurrencyCode, canonical_into};
use oas_platform::module::Failure;
use oas_sales::format::Line;
use rust_decimal::Decimal;

use crate::failure::rejected;
use crate::lines::{Batch, Entry};
use crate::rates::Rates;
use crate::totals::Totals;

/// What every line of a file shares.
pub struct Context {
    pub rates: Rates,
    /// The file's reporting period, when known before its lines.
    pub file_period: Option<String>,
    /// The currency of lines that do not name one (preamble or format).
    pub default_currency: Option<String>,
}

/// A rate looked up for a currency and period, with its text.
struct LastRate {
    currency: String,
    period: Option<String>,
    rate: Decimal,
    text: String,
}

#[derive(Default)]
pub struct Ledger {
    pub totals: Totals,
    /// Lines per currency.
    pub currencies: BTreeMap<String, i64>,
    /// The rates lines were converted at: by currency, then by the lines'
    /// period ("" for none), the rate and the month of the organisation's
    /// rate it is (none for the base currency and the file's own rate).
    rates: BTreeMap<String, BTreeMap<String, (Decimal, Option<String>)>>,
    /// The currencies and periods ("" for none) without a rate.
    missing: BTreeMap<String, BTreeSet<String>>,
    /// The earliest and the latest month the lines cover: their sale (or
    /// reporting) period, and the month their sale ends.
    pub earliest_period: Option<String>,
    pub latest_period: Option<String>,
    /// The earliest and the latest reporting month the lines are stored
    /// with (their own, else the file's), and whether a line has neither
    /// (it takes the file's recorded period).
    pub reported: Option<(String, String)>,
    pub unreported: bool,
    /// The last rate looked up.
    last_rate: Option<LastRate>,
    /// The base amount's text of the last line.
    base_text: String,
    /// The amount's text of the last line, when it had to be rewritten.
    net_text: String,
}

/// `range` widened to hold `first` to `last`.
pub(crate) fn widen(range: &mut Option<(String, String)>, first: &str, last: &str) {
    match range {
        None => *range = Some((first.to_owned(), last.to_owned())),
        Some((from, to)) => {
            if first < from.as_str() {
                *from = first.to_owned();
            }
            if last > to.as_str() {
                *to = last.to_owned();
            }
        }
    }
}

impl Ledger {
    /// Accounts for line `number`, and adds it to `batch`.
    pub fn take(
        &mut self,
        context: &Context,
        number: i64,
        line: &Line,
        batch: &mut Batch,
    ) -> Result<(), Failure> {
        let at = |problem: String| rejected(format!("Line {number}: {problem}"));
        let amount = Amount::parse(&line.net_revenue).map_err(|e| at(e.0))?;
        let Some(currency) = line
            .currency
            .as_deref()
            .or(context.default_currency.as_deref())
        else {
            return Err(rejected(
                "The file names no currency: no currency column or preamble value, and its format has none.",
            ));
        };
        match self.currencies.get_mut(currency) {
            Some(count) => *count += 1,
            None => {
                if CurrencyCode::parse(currency).is_err() {
                    return Err(at(format!(
                        "{currency:?} is not an ISO 4217 currency code."
                    )));
                }
                self.currencies.insert(currency.to_owned(), 1);
            }
        }
        let line_period = line
            .sale_period
            .as_deref()
            .or(line.reporting_period.as_deref());
        if let Some(p) = line_period {
            if self.earliest_period.as_deref().is_none_or(|e| p < e) {
                self.earliest_period = Some(p.to_owned());
            }
            let end = line
                .sale_end
                .as_deref()
                .and_then(|d| d.get(..7))
                .filter(|end| *end > p)
                .unwrap_or(p);
            if self.latest_period.as_deref().is_none_or(|l| end > l) {
                self.latest_period = Some(end.to_owned());
            }
        }
        match line
            .reporting_period
            .as_deref()
            .or(context.file_period.as_deref())
        {
            Some(month) => widen(&mut self.reported, month, month),
            None => self.unreported = true,
        }
        let period = context.file_period.as_deref().or(line_period);
        let last = match self.last_rate.take() {
            Some(last) if last.currency == currency && last.period.as_deref() == period => last,
            _ => {
                let rate = self.look_up(context, currency, period);
                LastRate {
                    currency: currency.to_owned(),
                    period: period.map(str::to_owned),
                    rate,
                    text: rate.to_string(),
                }
            }
        };
        let LastRate {
            rate,
            text: rate_text,
            ..
        } = self.last_rate.insert(last);
        let rate = *rate;
        let base = if rate == Decimal::ONE {
            amount
        } else {
            amount
                .convert(rate)
                .ok_or_else(|| at("the amount is too large to convert".into()))?
        };
        // The amount as text in the one form every amount is written in
        // (as the report wrote it, unless it had a `+`, padding zeros or a
        // bare point); at rate 1 the base amount is the same text.
        let net = match canonical_into(&line.net_revenue, &mut self.net_text) {
            Some(()) => self.net_text.as_str(),
            None => line.net_revenue.as_str(),
        };
        let base_revenue = if rate == Decimal::ONE {
            net
        } else {
            use std::fmt::Write;
            self.base_text.clear();
            let _ = write!(self.base_text, "{base}");
            self.base_text.as_str()
        };
        let entry = Entry {
            currency,
            rate: rate_text,
            net_revenue: net,
            base_revenue,
            base_is_revenue: rate == Decimal::ONE,
        };
        let values = batch.push(number, line, context.file_period.as_deref(), &entry);
        self.totals.add(number, line, (amount, base), &values);
        Ok(())
    }

    /// The rate of `currency` for lines of `period`, noted among the rates
    /// used; a missing one is noted as such (the file fails at its end,
    /// naming them all) and converts at zero meanwhile.
    fn look_up(&mut self, context: &Context, currency: &str, period: Option<&str>) -> Decimal {
        let key = period.unwrap_or("");
        match context.rates.rate(currency, period) {
            Some(found) => {
                let known = self
                    .rates
                    .get(currency)
                    .is_some_and(|periods| periods.contains_key(key));
                if !known {
                    self.rates.entry(currency.to_owned()).or_default().insert(
                        key.to_owned(),
                        (found.rate, found.period.map(str::to_owned)),
                    );
                }
                found.rate
            }
            None => {
                let known = self
                    .missing
                    .get(currency)
                    .is_some_and(|periods| periods.contains(key));
                if !known {
                    self.missing
                        .entry(currency.to_owned())
                        .or_default()
                        .insert(key.to_owned());
                }
                Decimal::ZERO
            }
        }
    }

    /// Ends the block of lines `batch` holds: the groups left to its end
    /// are found. Call it before the batch is encoded or dropped.
    pub fn finish_block(&mut self, batch: &mut Batch) {
        self.totals.finish_block(batch);
    }

    /// Adds the ledger of other lines of the file.
    pub fn merge(&mut self, other: Ledger) {
        self.totals.merge(other.totals);
        for (currency, count) in other.currencies {
            *self.currencies.entry(currency).or_default() += count;
        }
        for (currency, periods) in other.rates {
            self.rates.entry(currency).or_default().extend(periods);
        }
        for (currency, periods) in other.missing {
            self.missing.entry(currency).or_default().extend(periods);
        }
        if let Some(theirs) = other.latest_period
            && self
                .latest_period
                .as_ref()
                .is_none_or(|mine| theirs > *mine)
        {
            self.latest_period = Some(theirs);
        }
        if let Some(theirs) = other.earliest_period
            && self
                .earliest_period
                .as_ref()
                .is_none_or(|mine| theirs < *mine)
        {
            self.earliest_period = Some(theirs);
        }
        if let Some((first, last)) = other.reported {
            widen(&mut self.reported, &first, &last);
        }
        self.unreported |= other.unreported;
    }

    /// The one rate the file was converted at, if it was one: one currency,
    /// at one rate.
    pub fn single_rate(&self) -> Option<String> {
        let mut rates = self.rates.values().flat_map(|periods| periods.values());
        let (first, _) = rates.next()?;
        (self.rates.len() == 1 && rates.all(|(rate, _)| rate == first)).then(|| first.to_string())
    }

    /// Every rate lines of a currency other than `base` were converted at.
    pub fn rates_used(&self, base: &str) -> Vec<RateUsed> {
        self.rates
            .iter()
            .filter(|(currency, _)| currency.as_str() != base)
            .flat_map(|(currency, periods)| {
                periods
                    .iter()
                    .map(|(period, (rate, rate_period))| RateUsed {
                        currency: currency.clone(),
                        period: Some(period.clone()).filter(|p| !p.is_empty()),
                        rate: rate.to_string(),
                        rate_period: rate_period.clone(),
                    })
            })
            .collect()
    }

    /// The currencies and periods lines had no rate for, if any.
    pub fn missing_rates(&self) -> BTreeSet<(String, Option<String>)> {
        self.missing
            .iter()
            .flat_map(|(currency, periods)| {
                periods
                    .iter()
                    .map(|p| (currency.clone(), Some(p.clone()).filter(|p| !p.is_empty())))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lines::{Constants, LinesFile, read_back};
    use crate::rates::tests::params;

    #[test]
    fn amounts_are_written_in_one_form_whatever_the_report_wrote() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("lines.parquet");
        let constants = Constants {
            organisation_id: 1,
            file_id: 1,
            base_currency: "USD".into(),
        };
        let file = LinesFile::create(&path, constants).unwrap();
        let context = Context {
            rates: Rates::new(&params(), None).unwrap(),
            file_period: Some("2024-01".into()),
            default_currency: Some("USD".into()),
        };
        let mut ledger = Ledger::default();
        let mut batch = Batch::new(8);
        let written = ["2.0", "+3", "0.021330", "-.50", "0.125", "007"];
        for (n, amount) in written.iter().enumerate() {
            let line = Line {
                artist: Some("A".into()),
                quantity: 1,
                net_revenue: (*amount).to_owned(),
                ..Line::default()
            };
            ledger
                .take(&context, n as i64 + 1, &line, &mut batch)
                .unwrap();
        }
        ledger.finish_block(&mut batch);
        file.write(file.encode(batch).unwrap()).unwrap();
        file.finish().unwrap();
        let (frame, _) = read_back(&path);
        for column in ["net_revenue", "base_revenue"] {
            let texts: Vec<Option<&str>> = frame
                .column(column)
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .collect();
            assert_eq!(
                texts,
                ["2", "3", "0.02133", "-0.5", "0.125", "7"].map(Some),
                "{column}"
            );
        }
    }
}
