//! Accounting for lines: each line's amount read exactly, its currency
//! checked, converted to the base currency and added to the totals. Every
//! thread that maps lines keeps a ledger of its own; ledgers are merged at
//! the end ([`Ledger::merge`]) into what one ledger fed every line in order
//! would hold.

use std::collections::BTreeMap;

use oas_domain::money::{Amount, CurrencyCode};
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
    /// The rate each currency was first converted at, and whether another
    /// line of the currency had another rate.
    first_rates: BTreeMap<String, Decimal>,
    pub several_rates: bool,
    /// The latest sale or reporting period of the lines.
    pub latest_period: Option<String>,
    /// The last rate looked up.
    last_rate: Option<LastRate>,
    /// The base amount's text of the last line.
    base_text: String,
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
        if let Some(p) = line_period
            && self.latest_period.as_deref().is_none_or(|l| p > l)
        {
            self.latest_period = Some(p.to_owned());
        }
        let period = context.file_period.as_deref().or(line_period);
        let last = match self.last_rate.take() {
            Some(last) if last.currency == currency && last.period.as_deref() == period => last,
            _ => {
                let rate = context.rates.rate(currency, period).map_err(rejected)?;
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
        match self.first_rates.get(currency) {
            Some(first) => self.several_rates |= *first != rate,
            None => {
                self.first_rates.insert(currency.to_owned(), rate);
            }
        }
        let base = if rate == Decimal::ONE {
            amount
        } else {
            amount
                .convert(rate)
                .ok_or_else(|| at("the amount is too large to convert".into()))?
        };
        // The base amount as text; at rate 1 it is the amount as written.
        self.base_text.clear();
        if rate == Decimal::ONE {
            self.base_text.push_str(&line.net_revenue);
        } else {
            use std::fmt::Write;
            let _ = write!(self.base_text, "{base}");
        }
        let entry = Entry {
            currency,
            rate: rate_text,
            base_revenue: &self.base_text,
            base_is_revenue: rate == Decimal::ONE,
        };
        let values = batch.push(number, line, context.file_period.as_deref(), &entry);
        self.totals.add(number, line, (amount, base), &values);
        Ok(())
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
        self.several_rates |= other.several_rates;
        for (currency, rate) in other.first_rates {
            match self.first_rates.get(&currency) {
                Some(mine) => self.several_rates |= *mine != rate,
                None => {
                    self.first_rates.insert(currency, rate);
                }
            }
        }
        if let Some(theirs) = other.latest_period
            && self
                .latest_period
                .as_ref()
                .is_none_or(|mine| theirs > *mine)
        {
            self.latest_period = Some(theirs);
        }
    }

    /// The one rate the file was converted at, if it was one.
    pub fn single_rate(&self) -> Option<String> {
        match (self.first_rates.len(), self.several_rates) {
            (1, false) => self.first_rates.values().next().map(Decimal::to_string),
            _ => None,
        }
    }
}
