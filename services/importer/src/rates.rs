//! The job's params, and the exchange rates they give.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use oas_domain::job::contract::importer::{self, MissingRates};
use oas_domain::money::parse_rate;
use oas_platform::module::Failure;
use oas_sales::format::FormatSpec;
use rust_decimal::Decimal;

use crate::failure::rejected;

/// The job's params, formats parsed.
pub type Params = importer::Params<FormatSpec>;

/// Exchange rates as the import needs them: to the base currency, by
/// currency and period.
pub struct Rates {
    base: String,
    file_rate: Option<Decimal>,
    /// Per currency, rates by period.
    by_currency: HashMap<String, BTreeMap<String, Decimal>>,
    /// The file's currency: the one its own rate is from.
    file_currency: Option<String>,
    missing: MissingRates,
}

/// A rate found for a currency and period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found<'a> {
    pub rate: Decimal,
    /// The month of the organisation's rate; `None` for the base currency
    /// and the file's own rate.
    pub period: Option<&'a str>,
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
        let mut by_currency: HashMap<String, BTreeMap<String, Decimal>> = HashMap::new();
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
            missing: params.missing_rates,
        })
    }

    /// The rate from `currency` to the base for a line of `period`: 1 for
    /// the base itself; the file's rate for the file's currency; else the
    /// organisation's rate for that month. Without one, and only when the
    /// organisation chose so, the latest earlier month's (the latest of
    /// all for a line without a period). `None`: no rate.
    pub fn rate(&self, currency: &str, period: Option<&str>) -> Option<Found<'_>> {
        if currency == self.base {
            return Some(Found {
                rate: Decimal::ONE,
                period: None,
            });
        }
        if let Some(rate) = self.file_rate
            && self.file_currency.as_deref() == Some(currency)
        {
            return Some(Found { rate, period: None });
        }
        let periods = self.by_currency.get(currency)?;
        let found = match (period, self.missing) {
            (Some(p), MissingRates::Fail) => periods.get_key_value(p),
            (None, MissingRates::Fail) => None,
            (Some(p), MissingRates::LatestEarlier) => periods.range(..=p.to_owned()).next_back(),
            (None, MissingRates::LatestEarlier) => periods.iter().next_back(),
        };
        found.map(|(period, rate)| Found {
            rate: *rate,
            period: Some(period.as_str()),
        })
    }
}

/// Why a file failed for want of rates into `base`: every currency and
/// month without one, and what to do.
pub fn missing_cause(base: &str, missing: &BTreeSet<(String, Option<String>)>) -> String {
    let mut by_currency: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (currency, period) in missing {
        by_currency
            .entry(currency)
            .or_default()
            .push(period.as_deref().unwrap_or("lines without a period"));
    }
    let listed: Vec<String> = by_currency
        .iter()
        .map(|(currency, periods)| format!("{currency} ({})", periods.join(", ")))
        .collect();
    format!(
        "No exchange rate into {base} for {}. Add the organisation's rate for each of these months, set the file's exchange_rate, or choose in the organisation's settings to use the latest earlier month's rate (missing_rates: \"latest_earlier\").",
        listed.join("; "),
    )
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

    fn rates(missing: MissingRates) -> Rates {
        let mut params = params();
        params.missing_rates = missing;
        for (period, rate) in [("2022-11", "1.2"), ("2023-01", "1.25")] {
            params.rates.push(importer::Rate {
                currency: "GBP".into(),
                period: period.into(),
                rate: rate.into(),
            });
        }
        Rates::new(&params, None).unwrap()
    }

    #[test]
    fn a_month_without_a_rate_has_none_unless_the_latest_earlier_is_chosen() {
        let exact = rates(MissingRates::Fail);
        let found = |rates: &Rates, period| {
            rates
                .rate("GBP", period)
                .map(|f| (f.rate.to_string(), f.period.map(str::to_owned)))
        };
        assert_eq!(
            found(&exact, Some("2022-11")),
            Some(("1.2".into(), Some("2022-11".into())))
        );
        assert_eq!(found(&exact, Some("2022-12")), None);
        assert_eq!(found(&exact, None), None, "no period, no month to take");
        assert_eq!(found(&exact, Some("2022-10")), None);
        let borrowing = rates(MissingRates::LatestEarlier);
        assert_eq!(
            found(&borrowing, Some("2022-12")),
            Some(("1.2".into(), Some("2022-11".into())))
        );
        assert_eq!(
            found(&borrowing, None),
            Some(("1.25".into(), Some("2023-01".into())))
        );
        assert_eq!(found(&borrowing, Some("2022-10")), None, "nothing earlier");
        assert_eq!(exact.rate("USD", None).unwrap().rate, Decimal::ONE);
    }

    #[test]
    fn the_cause_names_every_currency_and_month_without_a_rate() {
        let missing = BTreeSet::from([
            ("GBP".to_owned(), Some("2023-02".to_owned())),
            ("EUR".to_owned(), None),
            ("GBP".to_owned(), Some("2022-12".to_owned())),
        ]);
        assert!(
            missing_cause("USD", &missing).starts_with(
                "No exchange rate into USD for EUR (lines without a period); GBP (2022-12, 2023-02)."
            ),
            "{}",
            missing_cause("USD", &missing)
        );
    }
}
