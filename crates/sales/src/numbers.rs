//! Amounts and quantities as reports write them, turned into canonical
//! decimal text (`-1234.5`), digit for digit: nothing is rounded here, so
//! the numeric type that sums them decides precision in one place.

/// How a format writes its decimals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DecimalStyle {
    /// `1,234.56`: point for decimals, commas (or spaces) for thousands.
    #[default]
    Point,
    /// `1.234,56`: comma for decimals (Believe, Kontor, European exports).
    Comma,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a number")]
pub struct NotANumber(pub String);

/// Whether `text` (trimmed) is already canonical decimal text: an optional
/// minus, digits without a leading zero (or a single `0`), and an optional
/// point followed by digits; never a negative zero. Most report cells are,
/// and are then taken as they are.
fn is_canonical(text: &str, style: DecimalStyle) -> bool {
    let bytes = text.as_bytes();
    let (negative, unsigned) = match bytes.first() {
        Some(b'-') => (true, &bytes[1..]),
        _ => (false, bytes),
    };
    let (whole, fraction) = match unsigned.iter().position(|&b| b == b'.') {
        // In the comma style a point groups thousands: not canonical.
        Some(_) if style == DecimalStyle::Comma => return false,
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let digits = |part: &[u8]| !part.is_empty() && part.iter().all(u8::is_ascii_digit);
    if !digits(whole) || (whole.len() > 1 && whole[0] == b'0') {
        return false;
    }
    if fraction.is_some_and(|f| !digits(f)) {
        return false;
    }
    let zero = || unsigned.iter().all(|&b| matches!(b, b'0' | b'.'));
    !(negative && zero())
}

/// Writes the canonical decimal text of `raw` into `out` (cleared first)
/// and says whether there was one: `false` for an empty cell. The same
/// text as [`decimal`], without allocating when the cell already is
/// canonical.
pub fn decimal_into(raw: &str, style: DecimalStyle, out: &mut String) -> Result<bool, NotANumber> {
    out.clear();
    let text = raw.trim();
    if is_canonical(text, style) {
        out.push_str(text);
        return Ok(true);
    }
    match decimal(raw, style)? {
        Some(canonical) => {
            out.push_str(&canonical);
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Canonical decimal text of `raw`, or `None` for an empty cell.
/// Accepts quotes, spaces, thousands separators, a missing leading zero
/// (`.021330`), a leading `+` or `-`, and accounting parentheses for
/// negatives (`(3.50)`).
pub fn decimal(raw: &str, style: DecimalStyle) -> Result<Option<String>, NotANumber> {
    let invalid = || NotANumber(raw.to_owned());
    let mut text = raw.trim().trim_matches('"').trim().to_owned();
    if text.is_empty() {
        return Ok(None);
    }
    let mut negative = false;
    if text.starts_with('(') && text.ends_with(')') {
        negative = true;
        text = text[1..text.len() - 1].trim().to_owned();
    }
    if let Some(rest) = text.strip_prefix('-') {
        negative = !negative;
        text = rest.trim().to_owned();
    } else if let Some(rest) = text.strip_prefix('+') {
        text = rest.trim().to_owned();
    }
    // Scientific notation (`4.2793E-7`), as some exports write small amounts.
    let mut exponent: i32 = 0;
    if let Some(at) = text.find(['e', 'E']) {
        let power: i32 = text[at + 1..].parse().map_err(|_| invalid())?;
        if power.abs() > 60 {
            return Err(invalid());
        }
        exponent = power;
        text.truncate(at);
    }
    let (decimal_mark, group_marks): (char, &[char]) = match style {
        DecimalStyle::Point => ('.', &[',', ' ', '\u{a0}', '\'']),
        DecimalStyle::Comma => (',', &['.', ' ', '\u{a0}', '\'']),
    };
    let mut integer = String::new();
    let mut fraction = String::new();
    let mut seen_mark = false;
    // Thousands separators must split the integer into groups of three.
    let mut grouped = false;
    let mut group_digits = 0usize;
    for c in text.chars() {
        if c == decimal_mark {
            if seen_mark || (grouped && group_digits != 3) {
                return Err(invalid());
            }
            seen_mark = true;
        } else if group_marks.contains(&c) {
            let first_group_ok = !grouped && (1..=3).contains(&group_digits);
            if seen_mark || !(first_group_ok || (grouped && group_digits == 3)) {
                return Err(invalid());
            }
            grouped = true;
            group_digits = 0;
        } else if c.is_ascii_digit() {
            if !seen_mark {
                group_digits += 1;
            }
            if seen_mark {
                fraction.push(c)
            } else {
                integer.push(c)
            }
        } else {
            return Err(invalid());
        }
    }
    if (integer.is_empty() && fraction.is_empty()) || (grouped && !seen_mark && group_digits != 3) {
        return Err(invalid());
    }
    if exponent != 0 {
        let digits = format!("{integer}{fraction}");
        let point = integer.len() as i32 + exponent;
        (integer, fraction) = if point <= 0 {
            (
                String::new(),
                format!("{}{digits}", "0".repeat(point.unsigned_abs() as usize)),
            )
        } else if point as usize >= digits.len() {
            (
                format!("{digits}{}", "0".repeat(point as usize - digits.len())),
                String::new(),
            )
        } else {
            let (i, f) = digits.split_at(point as usize);
            (i.to_owned(), f.to_owned())
        };
    }
    let integer = integer.trim_start_matches('0');
    let integer = if integer.is_empty() { "0" } else { integer };
    let zero = integer == "0" && fraction.chars().all(|c| c == '0');
    let sign = if negative && !zero { "-" } else { "" };
    Ok(Some(if fraction.is_empty() {
        format!("{sign}{integer}")
    } else {
        format!("{sign}{integer}.{fraction}")
    }))
}

/// A whole quantity (negative for returns); `1.0` is accepted, `1.5` is not.
pub fn quantity(raw: &str, style: DecimalStyle) -> Result<Option<i64>, NotANumber> {
    // Plain digits, as nearly every report writes them.
    let trimmed = raw.trim();
    if !trimmed.is_empty() && trimmed.len() < 19 && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return trimmed
            .parse()
            .map(Some)
            .map_err(|_| NotANumber(raw.to_owned()));
    }
    let Some(text) = decimal(raw, style)? else {
        return Ok(None);
    };
    let whole = match text.split_once('.') {
        Some((whole, fraction)) if fraction.chars().all(|c| c == '0') => whole.to_owned(),
        Some(_) => return Err(NotANumber(raw.to_owned())),
        None => text,
    };
    whole
        .parse()
        .map(Some)
        .map_err(|_| NotANumber(raw.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::DecimalStyle::{Comma, Point};
    use super::*;

    fn d(raw: &str, style: DecimalStyle) -> String {
        decimal(raw, style).unwrap().unwrap()
    }

    #[test]
    fn every_digit_survives() {
        assert_eq!(
            d("0.0002503585965471062832417870324", Point),
            "0.0002503585965471062832417870324"
        );
        assert_eq!(d(".021330", Point), "0.021330");
        assert_eq!(d("\"1,200\"", Point), "1200");
        assert_eq!(d("1,234,567.891", Point), "1234567.891");
        assert_eq!(d("12 345,5", Comma), "12345.5");
        assert_eq!(d("1.234,56", Comma), "1234.56");
        assert_eq!(d("0,021330", Comma), "0.021330");
        assert_eq!(d("-3", Point), "-3");
        assert_eq!(d("(3.50)", Point), "-3.50");
        assert_eq!(d("+0007.10", Point), "7.10");
        assert_eq!(d("-0.00", Point), "0.00", "no negative zero");
        assert_eq!(decimal("  ", Point).unwrap(), None);
    }

    #[test]
    fn canonical_cells_are_taken_as_they_are_and_others_rewritten_alike() {
        let mut out = String::from("left over");
        for (raw, style) in [
            ("0.0002503585965471062832417870324", Point),
            (" 12.50 ", Point),
            ("-3", Point),
            ("-0.00", Point),
            ("007.1", Point),
            (".5", Point),
            ("1,234.5", Point),
            ("1234", Comma),
            ("1.234", Comma),
            ("0,5", Comma),
            ("4.2E-3", Point),
        ] {
            let found = decimal_into(raw, style, &mut out).unwrap();
            assert!(found, "{raw}");
            assert_eq!(out, d(raw, style), "{raw} in the {style:?} style");
        }
        assert!(!decimal_into("  ", Point, &mut out).unwrap());
        assert_eq!(out, "");
        assert!(decimal_into("1.2.3", Point, &mut out).is_err());
        assert!(decimal_into("1.2", Comma, &mut out).is_err());
    }

    #[test]
    fn scientific_notation_is_shifted_exactly() {
        assert_eq!(
            d("4.279320610876071116133903342E-7", Point),
            "0.0000004279320610876071116133903342"
        );
        assert_eq!(d("12e3", Point), "12000");
        assert_eq!(d("-1.5E+2", Point), "-150");
        assert_eq!(d("1,5E-1", Comma), "0.15");
        assert_eq!(d("123.45e1", Point), "1234.5");
    }

    #[test]
    fn what_is_not_a_number_is_said_so() {
        for bad in [
            "abc", "1.2.3", "1.234,5", "12e", "1e99", "e5", "-", ".", "1,2.3", "1,23", "1234,567",
            "1,2345",
        ] {
            assert!(decimal(bad, Point).is_err(), "{bad}");
        }
        assert!(
            decimal("1,234.5", Comma).is_err(),
            "a point after the decimal comma"
        );
    }

    #[test]
    fn quantities_are_whole_and_may_be_negative() {
        assert_eq!(quantity("12", Point).unwrap(), Some(12));
        assert_eq!(quantity("-1", Point).unwrap(), Some(-1));
        assert_eq!(quantity("1.000", Point).unwrap(), Some(1));
        assert_eq!(
            quantity("1.000", Comma).unwrap(),
            Some(1000),
            "a thousands point"
        );
        assert!(quantity("1.5", Point).is_err());
        assert_eq!(quantity("", Point).unwrap(), None);
    }
}
