//! Accounting periods: a calendar month, written `YYYY-MM`.

use std::fmt;

use crate::identity::Invalid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    year: u16,
    month: u8,
}

impl Period {
    pub fn new(year: u16, month: u8) -> Result<Self, Invalid> {
        if !(1900..=9999).contains(&year) || !(1..=12).contains(&month) {
            return Err(Invalid(format!(
                "{year:04}-{month:02} is not a valid month."
            )));
        }
        Ok(Self { year, month })
    }

    /// Parses `YYYY-MM`.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let invalid = || {
            Invalid(format!(
                "\"{}\" is not a period: expected YYYY-MM.",
                raw.trim()
            ))
        };
        let (year, month) = raw.trim().split_once('-').ok_or_else(invalid)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(invalid());
        }
        let year = year.parse().map_err(|_| invalid())?;
        let month = month.parse().map_err(|_| invalid())?;
        Self::new(year, month)
    }

    pub fn year(&self) -> u16 {
        self.year
    }

    pub fn month(&self) -> u8 {
        self.month
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_year_month() {
        assert_eq!(Period::parse("2023-07").unwrap().to_string(), "2023-07");
        for bad in ["2023-7", "2023-13", "23-07", "2023/07", "July 2023", ""] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
    }
}
