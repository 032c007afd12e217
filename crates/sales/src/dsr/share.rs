//! A summary record's revenue shared out among its lines, exactly: the
//! largest-remainder method at 12 decimal places.

use super::*;

/// Decimal places at which a summary record's revenue is shared out.
pub(super) const SCALE: usize = 12;
/// One currency unit at `SCALE` decimal places.
pub(super) const UNIT: u128 = 1_000_000_000_000;

/// A summary record's revenue (canonical decimal text), shared out by
/// `weights`, in units of `SCALE` decimal places.
pub(super) fn share_out(
    summary: &Summary,
    amount: &str,
    weights: &[i64],
) -> Result<Vec<i128>, DsrError> {
    let cannot = |reason: &'static str| DsrError::CannotAllocate {
        line: summary.line,
        amount: amount.to_owned(),
        reason,
    };
    if decimal_places(amount) > SCALE {
        return Err(DsrError::TooPrecise {
            line: summary.line,
            amount: amount.to_owned(),
        });
    }
    let total = to_units(amount).ok_or_else(|| cannot("the amount is too large"))?;
    allocate(total, weights).map_err(cannot)
}

/// Shares `total` out in proportion to `weights`.
///
/// Each gets the floor of its share, then the units left over go one each
/// to the largest remainders, earlier first on ties: the shares add up to
/// `total`.
pub(super) fn allocate(total: i128, weights: &[i64]) -> Result<Vec<i128>, &'static str> {
    if weights.iter().any(|weight| *weight < 0) {
        return Err("a line without revenue has negative usages");
    }
    let sum: i128 = weights.iter().map(|weight| i128::from(*weight)).sum();
    if sum == 0 {
        return if total == 0 {
            Ok(vec![0; weights.len()])
        } else {
            Err("its lines without revenue have no usages to share it by")
        };
    }
    let mut shares = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    for weight in weights {
        let product = total
            .checked_mul(i128::from(*weight))
            .ok_or("the amount is too large")?;
        shares.push(product.div_euclid(sum));
        remainders.push(product.rem_euclid(sum));
    }
    let handed_out: i128 = shares.iter().sum();
    let left = usize::try_from(total - handed_out).map_err(|_| "the shares do not add up")?;
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&index| (Reverse(remainders[index]), index));
    for index in order.into_iter().take(left) {
        shares[index] += 1;
    }
    Ok(shares)
}

/// Decimal places of canonical decimal text, trailing zeros aside.
pub(super) fn decimal_places(amount: &str) -> usize {
    amount
        .split_once('.')
        .map_or(0, |(_, fraction)| fraction.trim_end_matches('0').len())
}

/// Canonical decimal text with at most `SCALE` decimal places, in units.
pub(super) fn to_units(amount: &str) -> Option<i128> {
    let (negative, digits) = match amount.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, amount),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let fraction = fraction.trim_end_matches('0');
    let padding = SCALE.checked_sub(fraction.len())?;
    let mut units: i128 = 0;
    for c in whole
        .chars()
        .chain(fraction.chars())
        .chain(std::iter::repeat_n('0', padding))
    {
        units = units
            .checked_mul(10)?
            .checked_add(i128::from(c.to_digit(10)?))?;
    }
    Some(if negative { -units } else { units })
}

/// Units back to canonical decimal text: no trailing zeros, `0` for zero.
pub(super) fn format_units(units: i128) -> String {
    let sign = if units < 0 { "-" } else { "" };
    let magnitude = units.unsigned_abs();
    let whole = magnitude / UNIT;
    let fraction = magnitude % UNIT;
    // 12 digits: SCALE.
    let fraction = format!("{fraction:012}");
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    }
}
