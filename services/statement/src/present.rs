//! A statement as people read it: amounts in the currency's format, the
//! payee's CSV of lines (adding up to the statement's earnings exactly),
//! and the summary the PDF shows.

use std::io;
use std::path::Path;

use oas_domain::money::Amount;
use oas_domain::statement::apportion;
use rust_decimal::Decimal;

use crate::ledger::{Account, DIMENSIONS, LedgerError, PAYEE_COLUMNS_AT, ROYALTY_AT, SPILL_HEADER};
use crate::pdf::Section;

/// Rows of each summary table before the rest are put together.
pub const TOP_ROWS: usize = 15;

/// `amount` with `places` decimals and thousands grouped: `-1,234.50`.
pub fn money(amount: Amount, places: u32) -> String {
    let text = amount.to_fixed(places);
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (at, digit) in whole.chars().enumerate() {
        if at > 0 && (whole.len() - at) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign =
        if grouped.chars().all(|c| c == '0' || c == ',') && fraction.chars().all(|c| c == '0') {
            ""
        } else {
            sign
        };
    if fraction.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{fraction}")
    }
}

/// A whole number with thousands grouped.
pub fn count(n: i64) -> String {
    money(Amount::from_units(i128::from(n), 0), 0)
}

/// `2026-01` as `January 2026`.
pub fn month_name(month: &str) -> String {
    const NAMES: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let name = month
        .get(5..7)
        .and_then(|m| m.parse::<usize>().ok())
        .and_then(|m| NAMES.get(m.wrapping_sub(1)));
    match (name, month.get(..4)) {
        (Some(name), Some(year)) => format!("{name} {year}"),
        _ => month.to_owned(),
    }
}

/// The period as a heading says it.
pub fn period_name(from: &str, to: &str) -> String {
    if from == to {
        month_name(from)
    } else {
        format!("{} to {}", month_name(from), month_name(to))
    }
}

/// The header of a payee's CSV: a contract's line, then the payee's share
/// and part of its royalty.
pub fn csv_header() -> Vec<&'static str> {
    let mut header = SPILL_HEADER.to_vec();
    header.splice(
        PAYEE_COLUMNS_AT..PAYEE_COLUMNS_AT,
        ["share", "payee_royalty"],
    );
    header
}

/// Writes the payee's CSV of `account`'s lines to `path`, and says how
/// many (the rounding line aside): each line with
/// the payee's `share` and part of its royalty (exact), then a last line
/// that rounds their sum to `earnings`, the statement's figure, so the
/// column adds up to it exactly.
pub fn write_csv(
    account: &mut Account,
    share: Decimal,
    earnings: Amount,
    path: &Path,
) -> Result<u64, LedgerError> {
    let mut out = csv::WriterBuilder::new()
        .buffer_capacity(1 << 16)
        .from_path(path)?;
    out.write_record(csv_header())?;
    let share_text = share.normalize().to_string();
    let mut lines = 0u64;
    let mut exact = Amount::ZERO;
    let mut reader = account.spill()?.reader()?;
    let mut row = csv::ByteRecord::new();
    while reader.read_byte_record(&mut row)? {
        let royalty = std::str::from_utf8(row.get(ROYALTY_AT).unwrap_or_default())
            .ok()
            .and_then(|t| Amount::parse(t).ok())
            .ok_or_else(|| {
                LedgerError::Write(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "a spilled royalty is not a decimal",
                ))
            })?;
        let part = royalty.convert(share).ok_or(LedgerError::Overflow)?;
        exact = exact.checked_add(part).ok_or(LedgerError::Overflow)?;
        for (at, cell) in row.iter().enumerate() {
            if at == PAYEE_COLUMNS_AT {
                out.write_field(&share_text)?;
                out.write_field(part.to_string())?;
            }
            out.write_field(cell)?;
        }
        out.write_record(None::<&[u8]>)?;
        lines += 1;
    }
    let mut rounding = vec![String::new(); SPILL_HEADER.len() + 2];
    rounding[PAYEE_COLUMNS_AT] = share_text;
    rounding[PAYEE_COLUMNS_AT + 1] = (earnings + -exact).to_string();
    if let Some(term) = rounding.last_mut() {
        *term =
            "rounding: the payee's earnings rounded once to the currency's minor unit".to_owned();
    }
    out.write_record(&rounding)?;
    out.flush()?;
    Ok(lines)
}

/// The account's earnings by store, territory, release and track, as the
/// payee's part (`share`): the highest [`TOP_ROWS`] of each and the rest
/// together, rounded so that each table adds up to `earnings`.
pub fn sections(
    account: &Account,
    share: Decimal,
    earnings: Amount,
    currency: &str,
    places: u32,
) -> Vec<Section> {
    let titles = ["Store", "Territory", "Release", "Track"];
    DIMENSIONS
        .iter()
        .zip(titles)
        .enumerate()
        .map(|(at, (dimension, title))| {
            let mut groups: Vec<(&String, &crate::ledger::Tally)> = account.by[at].iter().collect();
            groups.sort_by(|a, b| b.1.amount.cmp(&a.1.amount).then_with(|| a.0.cmp(b.0)));
            let mut names = Vec::new();
            let mut values = Vec::new();
            let mut quantities = Vec::new();
            for (name, tally) in groups.iter().take(TOP_ROWS) {
                names.push((*name).clone());
                values.push(tally.amount.convert(share).unwrap_or(Amount::ZERO));
                quantities.push(tally.quantity);
            }
            if groups.len() > TOP_ROWS {
                let rest = &groups[TOP_ROWS..];
                let amount: Amount = rest.iter().map(|(_, t)| t.amount).sum();
                names.push(format!("All others ({})", rest.len()));
                values.push(amount.convert(share).unwrap_or(Amount::ZERO));
                quantities.push(rest.iter().map(|(_, t)| t.quantity).sum());
            }
            let rounded = apportion(&values, earnings, places);
            let rows = names
                .into_iter()
                .zip(quantities)
                .zip(rounded)
                .map(|((name, quantity), amount)| [name, count(quantity), money(amount, places)])
                .collect();
            let quantity: i64 = groups.iter().map(|(_, t)| t.quantity).sum();
            Section {
                title: format!("Earnings by {dimension}"),
                columns: [
                    title.to_owned(),
                    "Quantity".to_owned(),
                    format!("Royalty ({currency})"),
                ],
                rows,
                total: Some(["Total".to_owned(), count(quantity), money(earnings, places)]),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(text: &str) -> Amount {
        text.parse().unwrap()
    }

    #[test]
    fn amounts_read_in_the_currencys_format() {
        assert_eq!(money(a("1234567.891"), 2), "1,234,567.89");
        assert_eq!(money(a("-1234.5"), 2), "-1,234.50");
        assert_eq!(money(a("-0.001"), 2), "0.00");
        assert_eq!(money(a("999"), 0), "999");
        assert_eq!(money(a("1000.5"), 0), "1,000");
        assert_eq!(money(a("12.3456"), 3), "12.346");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(
            period_name("2026-01", "2026-03"),
            "January 2026 to March 2026"
        );
        assert_eq!(period_name("2026-12", "2026-12"), "December 2026");
    }
}
