//! Dates and months as reports write them, to `YYYY-MM-DD` and `YYYY-MM`.
//!
//! A time of day after the date is ignored (`10/15/2023 12:00:00 AM`,
//! `6/24/23 11:45am`, `2015-10-01T00:00:00Z`). Slashed dates are month
//! first unless the format says day first; a day above 12 settles it.

use chrono::NaiveDate;

/// `raw` as `YYYY-MM-DD`, or `None` when it is not a date.
pub fn date(raw: &str, day_first: bool) -> Option<String> {
    parse(raw, day_first).map(|d| d.format("%Y-%m-%d").to_string())
}

/// The month of `raw` as `YYYY-MM`: a month (`2024-03`, `202403`,
/// `03/2024`, `March 2024`) or any date [`date`] reads.
pub fn period(raw: &str, day_first: bool) -> Option<String> {
    let text = raw.trim();
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let month = |year: &str, month: &str| -> Option<String> {
        let y: i32 = year.parse().ok()?;
        let m: u32 = month.parse().ok()?;
        ((1900..=2200).contains(&y) && (1..=12).contains(&m)).then(|| format!("{y:04}-{m:02}"))
    };
    if let Some((a, b)) = text.split_once(['-', '/', '.', '_'])
        && !b.contains(['-', '/', '.', '_'])
    {
        // 2024-03, 2024/03, 03/2024, 3.2024
        let found = if a.len() == 4 {
            month(a, b)
        } else {
            month(b, a)
        };
        if found.is_some() {
            return found;
        }
    }
    if digits.len() == 6 && digits.len() == text.len() {
        return month(&digits[..4], &digits[4..]);
    }
    if let Ok(d) = NaiveDate::parse_from_str(&format!("1 {text}"), "%d %B %Y") {
        return Some(d.format("%Y-%m").to_string());
    }
    parse(text, day_first).map(|d| d.format("%Y-%m").to_string())
}

fn parse(raw: &str, day_first: bool) -> Option<NaiveDate> {
    let text = raw.trim();
    // Drop a time of day.
    let text = match text.split_once([' ', 'T']) {
        Some((date, _)) if date.len() >= 6 => date,
        _ => text,
    };
    if text.len() == 8 && text.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::parse_from_str(text, "%Y%m%d").ok();
    }
    let parts: Vec<&str> = text.split(['-', '/', '.']).collect();
    let [a, b, c] = parts.as_slice() else {
        return None;
    };
    let number = |s: &str| s.parse::<u32>().ok();
    let (year, month, day) = if a.len() == 4 {
        (number(a)?, number(b)?, number(c)?)
    } else {
        let (first, second) = (number(a)?, number(b)?);
        let mut year = number(c)?;
        if c.len() == 2 {
            year += 2000;
        }
        let (month, day) = if first > 12 || (day_first && second <= 12) {
            (second, first)
        } else {
            (first, second)
        };
        (year, month, day)
    };
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_the_shapes_reports_use() {
        for (raw, want) in [
            ("2017-10-01", "2017-10-01"),
            ("20151001", "2015-10-01"),
            ("11/05/2017", "2017-11-05"),
            ("10/15/2023 12:00:00 AM", "2023-10-15"),
            ("6/24/23 11:45am", "2023-06-24"),
            ("2015-10-01T00:00:00Z", "2015-10-01"),
            ("31/12/2024", "2024-12-31"),
        ] {
            assert_eq!(date(raw, false).as_deref(), Some(want), "{raw}");
        }
        assert_eq!(date("01/03/2024", true).as_deref(), Some("2024-03-01"));
        for bad in ["", "soon", "2024-13-01", "32/01/2024", "1/2"] {
            assert_eq!(date(bad, false), None, "{bad}");
        }
    }

    #[test]
    fn months_from_months_or_dates() {
        for (raw, want) in [
            ("2021-04", "2021-04"),
            ("201710", "2017-10"),
            ("03/2024", "2024-03"),
            ("October 2017", "2017-10"),
            ("2020-04-01", "2020-04"),
            ("10/01/2017", "2017-10"),
        ] {
            assert_eq!(period(raw, false).as_deref(), Some(want), "{raw}");
        }
        assert_eq!(period("2021-13", false), None);
        assert_eq!(period("hello", false), None);
    }
}
