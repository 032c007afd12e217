//! Currencies, exchange rates and amounts of money.
//!
//! Rates are `rust_decimal::Decimal` (at most 12 decimal places). Amounts
//! are [`Amount`]: reports carry up to 31 decimal places (Spotify), beyond
//! the 28 digits of `rust_decimal`, so an amount is a 256-bit integer count
//! of 10^-40 units. Sums are exact; a conversion is exact whenever the
//! amount's and the rate's decimal places add up to 40 or fewer, and is
//! otherwise rounded half to even at the 40th place.

use std::fmt;
use std::str::FromStr;

use ethnum::I256;

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

    /// Decimal places of the currency's minor unit (ISO 4217: 2 for EUR,
    /// 0 for JPY, 3 for BHD); 2 for a code that has none (gold, SDRs).
    pub fn minor_units(&self) -> u32 {
        self.0.exponent().map_or(2, u32::from)
    }
}

/// Every code [`CurrencyCode::parse`] accepts, sorted.
pub fn currency_codes() -> Vec<&'static str> {
    // Every currency has a numeric code below 1000.
    let mut codes: Vec<&'static str> = (0..1000u16)
        .filter_map(iso_currency::Currency::from_numeric)
        .map(|c| c.code())
        .collect();
    codes.sort_unstable();
    codes
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

/// Decimal places an [`Amount`] keeps.
pub const AMOUNT_SCALE: u32 = 40;

/// Digits allowed before the decimal point: with them, no realistic sum
/// can reach the 256-bit bound, and a product with a rate never does.
pub const AMOUNT_INTEGER_DIGITS: usize = 15;

/// An exact amount of money (see the module's notes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Amount(I256);

/// Powers of ten up to 10^40, the ones amounts and rates use.
static POWERS_OF_TEN: std::sync::LazyLock<[I256; AMOUNT_SCALE as usize + 1]> =
    std::sync::LazyLock::new(|| {
        let mut powers = [I256::ONE; AMOUNT_SCALE as usize + 1];
        for i in 1..powers.len() {
            powers[i] = powers[i - 1] * I256::from(10u8);
        }
        powers
    });

/// 10^0 to 10^19, the powers a run of up to 19 digits is shifted by.
const TENS: [u64; 20] = {
    let mut tens = [1u64; 20];
    let mut at = 1;
    while at < tens.len() {
        tens[at] = tens[at - 1] * 10;
        at += 1;
    }
    tens
};

fn pow10(exponent: u32) -> I256 {
    match POWERS_OF_TEN.get(exponent as usize) {
        Some(power) => *power,
        None => I256::from(10u8).pow(exponent),
    }
}

impl Amount {
    pub const ZERO: Amount = Amount(I256::ZERO);

    /// Parses plain decimal text: an optional sign, digits, an optional
    /// point and decimals (`-12.5`, `.021330`, `+3`). At most 15 digits
    /// before the point and 40 after it (trailing zeros aside).
    pub fn parse(raw: &str) -> Result<Amount, Invalid> {
        Self::parse_within(raw, AMOUNT_INTEGER_DIGITS)
    }

    /// Parses a stored sum: totals may pass the 15 digits a single amount
    /// may have (36 fit before the point).
    pub fn parse_total(raw: &str) -> Result<Amount, Invalid> {
        Self::parse_within(raw, 36)
    }

    fn parse_within(raw: &str, integer_digits: usize) -> Result<Amount, Invalid> {
        let text = raw.trim();
        let invalid = || Invalid(format!("\"{text}\" is not a decimal amount."));
        let (negative, unsigned) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        if whole.is_empty() && fraction.is_empty() {
            return Err(invalid());
        }
        if !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
        {
            return Err(invalid());
        }
        let whole = whole.trim_start_matches('0');
        let fraction = fraction.trim_end_matches('0');
        if whole.len() > integer_digits {
            return Err(Invalid(format!(
                "\"{text}\" is too large: amounts have at most {integer_digits} digits before the decimal point."
            )));
        }
        if fraction.len() > AMOUNT_SCALE as usize {
            return Err(Invalid(format!(
                "\"{text}\" has more than {AMOUNT_SCALE} decimal places."
            )));
        }
        let digits = whole.bytes().chain(fraction.bytes());
        // Up to 38 digits fit a u128, read far faster than 256 bits wide:
        // 19 digits at a time in 64 bits, each run added in 128.
        let mut units = if whole.len() + fraction.len() <= 38 {
            let runs = whole
                .as_bytes()
                .chunks(19)
                .chain(fraction.as_bytes().chunks(19));
            I256::from(runs.fold(0u128, |n, run| {
                let value = run.iter().fold(0u64, |v, d| v * 10 + u64::from(d - b'0'));
                let scale = TENS.get(run.len()).copied().unwrap_or(1);
                n * u128::from(scale) + u128::from(value)
            }))
        } else {
            digits.fold(I256::ZERO, |n, d| {
                n * I256::from(10u8) + I256::from(d - b'0')
            })
        };
        // At most 15 + 40 digits: far inside the 256-bit range.
        units *= pow10(AMOUNT_SCALE - fraction.len() as u32);
        Ok(Amount(if negative { -units } else { units }))
    }

    pub fn is_zero(&self) -> bool {
        self.0 == I256::ZERO
    }

    pub fn is_negative(&self) -> bool {
        self.0 < I256::ZERO
    }

    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.0.checked_add(other.0).map(Amount)
    }

    /// The amount converted at `rate`, exact where the decimal places allow
    /// (see the module's notes); `None` only past the 256-bit bound.
    pub fn convert(self, rate: rust_decimal::Decimal) -> Option<Amount> {
        let scale = rate.scale();
        let mantissa = I256::from(rate.mantissa());
        let product = self.0.checked_mul(mantissa)?;
        Some(Amount(divide_half_even(product, pow10(scale))))
    }

    /// Rounded half to even to `places` decimals (at most 40).
    pub fn round_dp(self, places: u32) -> Amount {
        let drop = AMOUNT_SCALE.saturating_sub(places);
        let unit = pow10(drop);
        Amount(divide_half_even(self.0, unit) * unit)
    }

    /// Rounded toward negative infinity to `places` decimals (at most 40).
    pub fn floor_dp(self, places: u32) -> Amount {
        let unit = pow10(AMOUNT_SCALE.saturating_sub(places));
        let quotient = self.0 / unit;
        let below = self.0 % unit != I256::ZERO && self.0 < I256::ZERO;
        Amount(
            (if below {
                quotient - I256::ONE
            } else {
                quotient
            }) * unit,
        )
    }

    /// The amount in units of 10^-`places` (an amount of whole minor
    /// units, as [`Amount::round_dp`] leaves it, is exact); `None` past
    /// 128 bits.
    pub fn units(self, places: u32) -> Option<i128> {
        let unit = pow10(AMOUNT_SCALE.saturating_sub(places));
        i128::try_from(self.0 / unit).ok()
    }

    /// `units` units of 10^-`places`.
    pub fn from_units(units: i128, places: u32) -> Amount {
        Amount(I256::from(units) * pow10(AMOUNT_SCALE.saturating_sub(places)))
    }

    /// The text with exactly `places` decimals, rounded half to even.
    pub fn to_fixed(self, places: u32) -> String {
        let places = places.min(AMOUNT_SCALE);
        let rounded = self.round_dp(places);
        let text = rounded.to_string();
        let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
        if places == 0 {
            return whole.to_owned();
        }
        format!("{whole}.{fraction:0<width$}", width = places as usize)
    }
}

/// `n / d` rounded half to even (`d` positive).
fn divide_half_even(n: I256, d: I256) -> I256 {
    let quotient = n / d;
    let remainder = n % d;
    let two = I256::from(2u8);
    let twice = remainder.abs() * two;
    let away = if twice > d {
        true
    } else if twice == d {
        quotient % two != I256::ZERO
    } else {
        false
    };
    if !away {
        quotient
    } else if n < I256::ZERO {
        quotient - I256::ONE
    } else {
        quotient + I256::ONE
    }
}

impl fmt::Display for Amount {
    /// Plain decimal text without trailing zeros: `-0.0125`, `12`, `0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.0.unsigned_abs().to_string();
        let scale = AMOUNT_SCALE as usize;
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (whole, fraction) = padded.split_at(padded.len() - scale);
        let fraction = fraction.trim_end_matches('0');
        if self.is_negative() {
            f.write_str("-")?;
        }
        f.write_str(whole)?;
        if !fraction.is_empty() {
            write!(f, ".{fraction}")?;
        }
        Ok(())
    }
}

impl FromStr for Amount {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Amount::parse(s)
    }
}

impl std::ops::Add for Amount {
    type Output = Amount;

    /// Saturates at the 256-bit bound, which parsed amounts cannot reach.
    fn add(self, other: Amount) -> Amount {
        Amount(self.0.saturating_add(other.0))
    }
}

impl std::ops::AddAssign for Amount {
    fn add_assign(&mut self, other: Amount) {
        *self = *self + other;
    }
}

impl std::ops::Neg for Amount {
    type Output = Amount;

    fn neg(self) -> Amount {
        Amount(-self.0)
    }
}

impl std::iter::Sum for Amount {
    fn sum<I: Iterator<Item = Amount>>(iter: I) -> Amount {
        iter.fold(Amount::ZERO, |a, b| a + b)
    }
}

impl serde::Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Amount {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Amount::parse(&text).map_err(|e| serde::de::Error::custom(e.0))
    }
}

/// Writes plain decimal text that [`Amount::parse`] reads (an optional
/// sign, digits, an optional point and decimals) in the form
/// [`Amount`]'s `Display` gives the same amount: no `+`, no leading or
/// trailing zeros, no point without decimals, `0` for any zero. `None`
/// when the text is in that form already, so the common case copies
/// nothing.
pub fn canonical_into(text: &str, out: &mut String) -> Option<()> {
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (raw_whole, raw_fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let whole = raw_whole.trim_start_matches('0');
    let fraction = raw_fraction.unwrap_or("").trim_end_matches('0');
    let zero = whole.is_empty() && fraction.is_empty();
    let same = !(text.starts_with('+') || zero && negative)
        && (if whole.is_empty() {
            raw_whole == "0"
        } else {
            raw_whole == whole
        })
        && raw_fraction.is_none_or(|raw| !raw.is_empty() && raw == fraction);
    if same {
        return None;
    }
    out.clear();
    if negative && !zero {
        out.push('-');
    }
    out.push_str(if whole.is_empty() { "0" } else { whole });
    if !fraction.is_empty() {
        out.push('.');
        out.push_str(fraction);
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_written_in_the_form_they_display_in() {
        for text in [
            "0.021330", "2.0", "+3", "-0.0", "007.50", ".5", "-.250", "12", "0", "-1.5", "10",
            "100.001", "0.0000", "0.5",
        ] {
            let mut out = String::new();
            let written = match canonical_into(text, &mut out) {
                Some(()) => out.clone(),
                None => text.to_owned(),
            };
            assert_eq!(written, Amount::parse(text).unwrap().to_string(), "{text}");
        }
    }

    #[test]
    fn every_listed_currency_code_parses_and_the_common_ones_are_listed() {
        let codes = currency_codes();
        assert!(codes.len() > 150, "{}", codes.len());
        for code in &codes {
            assert_eq!(CurrencyCode::parse(code).unwrap().code(), *code);
        }
        for common in ["EUR", "USD", "GBP", "JPY", "MXN", "AUD"] {
            assert!(codes.contains(&common), "{common}");
        }
    }

    fn a(text: &str) -> Amount {
        Amount::parse(text).unwrap()
    }

    #[test]
    fn amounts_keep_every_digit_of_a_report() {
        for text in [
            "0.01000246370629471467011063892",
            "-0.0002503585965471062832417870324",
            "409.05",
            "0",
            "-12",
            "999999999999999.9999999999999999999999999999999999999999",
            // Runs of 19 digits, whole and part: 38 digits, then 20.
            "123456789012345.12345678901234567890123",
            "0.12345678901234567891",
            "987654321098765.4321098765432109876543",
        ] {
            assert_eq!(a(text).to_string(), text);
        }
        assert_eq!(a(".021330").to_string(), "0.02133");
        assert_eq!(a("+007.50").to_string(), "7.5");
        assert_eq!(a("-0.000").to_string(), "0");
        for bad in [
            "",
            "-",
            ".",
            "1.2.3",
            "1,5",
            "1e5",
            "abc",
            " - 1",
            "1000000000000000",
        ] {
            assert!(Amount::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Amount::parse("0.00000000000000000000000000000000000000001").is_err());
        // A sum may pass what one amount may hold, and reads back.
        let big: Amount = (0..1000).map(|_| a("999999999999999.5")).sum();
        assert_eq!(Amount::parse_total(&big.to_string()).unwrap(), big);
        assert!(Amount::parse(&big.to_string()).is_err());
        assert!(Amount::parse("0.10000000000000000000000000000000000000000000").is_ok());
    }

    #[test]
    fn sums_are_exact_where_binary_floats_are_not() {
        let total: Amount = ["0.1", "0.2", "-0.3"].into_iter().map(a).sum();
        assert!(total.is_zero());
        let spotify: Amount = (0..1000)
            .map(|_| a("0.0002503585965471062832417870324"))
            .sum();
        assert_eq!(spotify.to_string(), "0.2503585965471062832417870324");
        assert!(a("-1") < a("0.5"));
        assert_eq!(-a("2.5"), a("-2.5"));
    }

    #[test]
    fn conversion_is_exact_within_forty_places_and_rounds_half_even_beyond() {
        let rate = parse_rate("0.79").unwrap();
        assert_eq!(
            a("0.000342").convert(rate).unwrap().to_string(),
            "0.00027018"
        );
        assert_eq!(a("-10").convert(rate).unwrap().to_string(), "-7.9");
        let long = a("0.0002503585965471062832417870324");
        let fine = parse_rate("1.123456789").unwrap();
        assert_eq!(
            long.convert(fine).unwrap().to_string(),
            "0.0002812670649753585122125425700419429636"
        );
        // 40 places times 1 place: the 41st digit is rounded, half to even.
        let tail = a("0.0000000000000000000000000000000000000005");
        let converted = |rate: &str| tail.convert(parse_rate(rate).unwrap()).unwrap().to_string();
        assert_eq!(
            converted("0.5"),
            "0.0000000000000000000000000000000000000002"
        );
        assert_eq!(
            converted("0.7"),
            "0.0000000000000000000000000000000000000004"
        );
        assert_eq!(
            converted("0.3"),
            "0.0000000000000000000000000000000000000002"
        );
    }

    #[test]
    fn fixed_places_round_half_to_even() {
        assert_eq!(a("2.345").to_fixed(2), "2.34");
        assert_eq!(a("2.355").to_fixed(2), "2.36");
        assert_eq!(a("-2.355").to_fixed(2), "-2.36");
        assert_eq!(a("7").to_fixed(2), "7.00");
        assert_eq!(a("0.5").to_fixed(0), "0");
        assert_eq!(a("1.5").to_fixed(0), "2");
    }

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
