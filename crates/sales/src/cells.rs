//! Cells of the CSV files OAS writes for people to open in a spreadsheet.
//!
//! A spreadsheet reads a cell that starts with `=`, `+`, `-` or `@` as a
//! formula, and some also one that starts with a tab or a carriage
//! return: a title like `=HYPERLINK(...)` in a store's report would run
//! on the reader's machine. Such a cell is written with a leading
//! apostrophe, which spreadsheets show as text and hide
//! (the OWASP "CSV injection" advice). Amounts and counts are written as
//! they are: a negative amount is a number, not a formula.

use std::borrow::Cow;

/// Whether a spreadsheet could read `cell` as a formula.
pub fn is_formula(cell: &str) -> bool {
    matches!(
        cell.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}

/// `cell` as text a spreadsheet shows as written, never runs.
pub fn text(cell: &str) -> Cow<'_, str> {
    if is_formula(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_quoted_and_text_is_left_alone() {
        for formula in [
            "=1+1",
            "+33 1 23",
            "-2+3",
            "@SUM(A1)",
            "\t=x",
            "\r=x",
            "=HYPERLINK(\"http://x\")",
        ] {
            assert_eq!(text(formula), format!("'{formula}"), "{formula:?}");
        }
        for plain in ["", "Song", "a=b", "'quoted", " =x", "USRC17607839", "1.5"] {
            assert!(matches!(text(plain), Cow::Borrowed(_)), "{plain:?}");
            assert_eq!(text(plain), plain);
        }
    }
}
