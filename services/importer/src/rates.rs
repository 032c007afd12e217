//! The job's params, and the exchange rates they give.

use std::collections::{BTreeMap, HashMap};

use oas_domain::job::contract::importer;
use oas_domain::money::parse_rate;
use oas_platform::module::Failure;
use oas_sales::format::FormatSpec;

use crate::failure::rejected;

/// The job's params, formats parsed.
pub type Params = importer::Params<FormatSpec>;

/// Exchange rates as the import needs them: to the base currency, by
/// currency and period.
pub struct Rates {
    base: String,
    file_rate: Option<rust_decimal::Decimal>,
    /// Per currency, rates by period.
    by_currency: HashMap<String, BTreeMap<String, rust_decimal::Decimal>>,
    /// The file's currency: the one its own rate is from.
    file_currency: Option<String>,
}

impl Rates {
    /// The rates of `params`; `file_currency` is the currency the file's
    /// own rate converts from (the file's stated currency, else its first
    /// line's).
    pub fn new(params: &Params, file_currency: Option<String>) -> Result<Rates, Failure> {
        let file_rate = match &params.file_rate {
            Some(raw) => Some(parse_rate(raw).map_err(|e| {
                rejected(format!("The file's exchange rate is not usable: {}", e.0))
            })?),
            None => None,
        };
        let mut by_currency: HashMap<String, BTreeMap<String, rust_decimal::Decimal>> =
            HashMap::new();
        for r in &params.rates {
            if let Ok(rate) = parse_rate(&r.rate) {
                by_currency
                    .entry(r.currency.to_ascii_uppercase())
                    .or_default()
                    .insert(r.period.clone(), rate);
            }
        }
        Ok(Rates {
            base: params.base_currency.to_ascii_uppercase(),
            file_rate,
            by_currency,
            file_currency: file_currency.map(|c| c.trim().to_ascii_uppercase()),
        })
    }

    /// The rate from `currency` to the base for a line of `period`: 1 for
    /// the base itself; the file's rate for the file's currency; else the
    /// organisation's rate for that month, or the latest month before it.
    pub fn rate(
        &self,
        currency: &str,
        period: Option<&str>,
    ) -> Result<rust_decimal::Decimal, String> {
        if currency == self.base {
            return Ok(rust_decimal::Decimal::ONE);
        }
        if let Some(rate) = self.file_rate
            && self.file_currency.as_deref() == Some(currency)
        {
            return Ok(rate);
        }
        let found = self
            .by_currency
            .get(currency)
            .and_then(|periods| match period {
                Some(p) => periods.range(..=p.to_owned()).next_back().map(|(_, r)| *r),
                None => periods.values().next_back().copied(),
            });
        found.ok_or_else(|| {
            format!(
                "No exchange rate from {currency} to {base}{for_period}: set the file's exchange_rate, or the organisation's rate for {currency}.",
                base = self.base,
                for_period = period.map(|p| format!(" for {p}")).unwrap_or_default(),
            )
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A table job's params, with every built-in format, base USD.
    pub(crate) fn params() -> Params {
        let formats: serde_json::Value =
            serde_json::from_str(oas_sales::format::BUILTIN_JSON).unwrap();
        serde_json::from_value(serde_json::json!({
            "clean": {"kind": "table", "content_hash": "blake3:00", "source_type": "text",
                      "encoding": "UTF-8", "clean_key": "org-1/files/1/clean.csv",
                      "delimiter": ",", "header": [], "rows": 0},
            "formats": formats,
            "base_currency": "USD",
            "lines_prefix": "org-1/lines",
        }))
        .unwrap()
    }
}
