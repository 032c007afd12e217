//! Currencies and exchange rates. Amounts are always `rust_decimal::Decimal`.

use std::fmt;

use rust_decimal::Decimal;

use crate::identity::Invalid;

/// An ISO 4217 currency code, upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CurrencyCode(iso_currency::Currency);

impl CurrencyCode {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let code = raw.trim().to_ascii_uppercase();
        iso_currency::Currency::from_code(&code)
            .map(Self)
            .ok_or_else(|| {
                Invalid(format!(
                    "\"{}\" is not an ISO 4217 currency code.",
                    raw.trim()
                ))
            })
    }

    pub fn code(&self) -> &'static str {
        self.0.code()
    }
}

impl fmt::Display for CurrencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An exchange rate: positive, with at most 12 decimal places.
pub fn parse_rate(raw: &str) -> Result<Decimal, Invalid> {
    let rate: Decimal = raw
        .trim()
        .parse()
        .map_err(|_| Invalid(format!("\"{}\" is not a decimal number.", raw.trim())))?;
    if rate <= Decimal::ZERO {
        return Err(Invalid(
            "An exchange rate must be greater than zero.".into(),
        ));
    }
    if rate.scale() > 12 {
        return Err(Invalid(
            "An exchange rate may have at most 12 decimal places.".into(),
        ));
    }
    Ok(rate.normalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_codes_are_iso_4217_in_any_case() {
        assert_eq!(CurrencyCode::parse("usd").unwrap().code(), "USD");
        assert_eq!(CurrencyCode::parse(" MXN ").unwrap().code(), "MXN");
        for bad in ["", "US", "USDX", "XYZ", "dollars"] {
            assert!(CurrencyCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rates_are_exact_positive_decimals() {
        assert_eq!(parse_rate("1.0823000").unwrap().to_string(), "1.0823");
        assert_eq!(parse_rate("18.5").unwrap().to_string(), "18.5");
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("-1.2").is_err());
        assert!(parse_rate("1,2").is_err());
        assert!(parse_rate("0.0000000000001").is_err());
    }
}
