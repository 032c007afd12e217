//! Identifiers as reports write them, normalised: ISRCs upper case without
//! separators, UPC/EAN as digits with lost leading zeros restored. They are
//! always text: as numbers they lose leading zeros or turn into `8.6e+11`.

/// An ISRC: two letters (country), three letters or digits (registrant),
/// two digits (year), five digits (designation), e.g. `NLA1Z2600123` from
/// `nl-a1z-26-00123`.
pub fn isrc(raw: &str) -> Option<String> {
    let code: String = raw
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '.'))
        .collect::<String>()
        .to_ascii_uppercase();
    let b = code.as_bytes();
    let valid = b.len() == 12
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..5].iter().all(u8::is_ascii_alphanumeric)
        && b[5..].iter().all(u8::is_ascii_digit);
    valid.then_some(code)
}

/// Writes the normalised ISRC of `raw` into `out` (cleared first) and says
/// whether `raw` was one; no allocation when it is already normalised.
pub fn isrc_into(raw: &str, out: &mut String) -> bool {
    let b = raw.as_bytes();
    let normal = b.len() == 12
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..5]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && b[5..].iter().all(u8::is_ascii_digit);
    normalised_into(raw, normal, isrc, out)
}

/// Writes `raw` into `out` (cleared first) as it is when it is already
/// `normal`, else as `normalise` makes it; says whether it could.
fn normalised_into(
    raw: &str,
    normal: bool,
    normalise: fn(&str) -> Option<String>,
    out: &mut String,
) -> bool {
    out.clear();
    if normal {
        out.push_str(raw);
        return true;
    }
    match normalise(raw) {
        Some(code) => {
            out.push_str(&code);
            true
        }
        None => false,
    }
}

/// Writes the normalised UPC/EAN of `raw` into `out` (cleared first) and
/// says whether `raw` was one; no allocation for 12 to 14 plain digits
/// that need no change.
pub fn upc_into(raw: &str, out: &mut String) -> bool {
    let b = raw.as_bytes();
    let plain = (b.len() == 12 || b.len() == 14 || (b.len() == 13 && b[0] != b'0'))
        && b.iter().all(u8::is_ascii_digit);
    normalised_into(raw, plain, upc, out)
}

/// A UPC or EAN as its digits. 11 digits (a UPC-A that lost its leading
/// zero) become 12; a 13-digit EAN that starts with 0 is a UPC-A and
/// becomes 12; 12, 13 and 14 digits otherwise stay. Quotes and separators
/// are dropped; anything else (letters, scientific notation) is `None`.
pub fn upc(raw: &str) -> Option<String> {
    let trimmed = raw
        .trim()
        .trim_matches(|c| c == '"' || c == '\'' || c == '=');
    if trimmed.is_empty() || trimmed.contains(['e', 'E']) {
        return None;
    }
    let digits: String = trimmed
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match digits.len() {
        11 => Some(format!("0{digits}")),
        13 if digits.starts_with('0') => Some(digits[1..].to_owned()),
        12..=14 => Some(digits),
        _ => None,
    }
}

/// A UPC or EAN as its GTIN-14 key (zeros in front), when its check digit
/// is right: a 12-digit UPC and the 13-digit EAN written for it are one key.
pub fn gtin14(raw: &str) -> Option<String> {
    let digits = upc(raw)?;
    let key = format!("{digits:0>14}");
    gtin_check_ok(&key).then_some(key)
}

/// Whether the last digit of a GTIN (any length) is the check digit of the
/// others: weights 3 and 1 alternate from the right.
pub fn gtin_check_ok(digits: &str) -> bool {
    let bytes = digits.as_bytes();
    let Some((&check, body)) = bytes.split_last() else {
        return false;
    };
    if !bytes.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| u32::from(d - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    (10 - sum % 10) % 10 == u32::from(check - b'0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gtins_are_one_key_for_a_upc_and_its_ean() {
        assert_eq!(gtin14("602517646483").as_deref(), Some("00602517646483"));
        assert_eq!(gtin14("0602517646483"), gtin14("602517646483"));
        assert_eq!(
            gtin14("60251764648").as_deref(),
            None,
            "a UPC-A that lost a zero and its check"
        );
        assert_eq!(gtin14("4250137264165").as_deref(), Some("04250137264165"));
        assert_eq!(gtin14("602517646488"), None, "a wrong check digit");
        assert_eq!(gtin14("abc"), None);
        assert!(gtin_check_ok("00012345600012"));
        assert!(!gtin_check_ok(""));
    }

    #[test]
    fn isrcs_are_normalised_or_refused() {
        assert_eq!(isrc("nl-a1z-26-00123").as_deref(), Some("NLA1Z2600123"));
        assert_eq!(isrc(" DEOK41100074 ").as_deref(), Some("DEOK41100074"));
        assert_eq!(
            isrc("usx123000001").as_deref(),
            Some("USX123000001"),
            "CD Baby writes them in lower case"
        );
        assert_eq!(
            isrc("USX12300000A"),
            None,
            "the last seven characters are digits"
        );
        for bad in [
            "",
            "DEOK4110007",
            "DEOK411000745",
            "1EOK41100074",
            "DE-OK4-11-0007X",
        ] {
            assert_eq!(isrc(bad), None, "{bad}");
        }
    }

    #[test]
    fn identifiers_written_in_place_match_the_allocating_ones() {
        let mut out = String::from("left over");
        for raw in [
            "DEOK41100074",
            "nl-a1z-26-00123",
            "usx123000001",
            "DEOK4110007",
            "",
        ] {
            let found = isrc_into(raw, &mut out);
            assert_eq!(found.then(|| out.clone()), isrc(raw), "{raw}");
        }
        for raw in [
            "602517646489",
            "60251764648",
            "0602517646489",
            "4250137264165",
            "\"880000000001\"",
            "8.8e+11",
            "12345",
            "",
        ] {
            let found = upc_into(raw, &mut out);
            assert_eq!(found.then(|| out.clone()), upc(raw), "{raw}");
        }
    }

    #[test]
    fn upcs_keep_their_leading_zeros() {
        assert_eq!(upc("602517646489").as_deref(), Some("602517646489"));
        assert_eq!(
            upc("60251764648").as_deref(),
            Some("060251764648"),
            "11 digits lost a leading zero"
        );
        assert_eq!(
            upc("0602517646489").as_deref(),
            Some("602517646489"),
            "EAN-13 of a UPC-A"
        );
        assert_eq!(
            upc("4250137264165").as_deref(),
            Some("4250137264165"),
            "a European EAN stays"
        );
        assert_eq!(upc("\"880000000001\"").as_deref(), Some("880000000001"));
        assert_eq!(upc("8.8e+11"), None, "scientific notation has lost digits");
        for bad in ["", "ABC", "12345", "123456789012345"] {
            assert_eq!(upc(bad), None, "{bad}");
        }
    }
}
