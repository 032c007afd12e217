//! Territories as ISO 3166-1 alpha-2 codes. Reports name the same place
//! `DE`, `DEU`, `Germany` or, for Britain, `UK` and `United Kingdom`; the
//! snapshot's territories must add up across them.

/// Writes the territory of `raw` into `out` (cleared first) and says
/// whether it is an alpha-2 code: a two-letter code is upper-cased in place
/// (`UK`, reserved for the United Kingdom, becomes `GB`), as nearly every
/// report writes one; an alpha-3 code, an English name or a common alias is
/// looked up (celes); anything else is kept as written.
pub fn territory_into(raw: &str, out: &mut String) -> bool {
    out.clear();
    let text = raw.trim();
    if text.len() == 2 && text.bytes().all(|b| b.is_ascii_alphabetic()) {
        out.push_str(text);
        out.make_ascii_uppercase();
        if out == "UK" {
            out.replace_range(.., "GB");
        }
        return true;
    }
    let code = looked_up(text);
    out.push_str(code.unwrap_or(text));
    code.is_some()
}

/// The alpha-2 code of an alpha-3 code, a name or an alias.
fn looked_up(text: &str) -> Option<&'static str> {
    let key: String = text
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    if key.is_empty() {
        return None;
    }
    let country = if key.len() == 3 && key.is_ascii() {
        celes::Country::from_alpha3(&key).ok()
    } else {
        None
    };
    country
        .or_else(|| celes::Country::from_name(&key).ok())
        .or_else(|| celes::Country::from_name(format!("the{key}")).ok())
        .or_else(|| celes::Country::from_alias(&key).ok())
        .map(|c| c.alpha2)
}

#[cfg(test)]
mod tests {
    fn code(raw: &str) -> Option<String> {
        let mut out = String::from("left over");
        super::territory_into(raw, &mut out).then_some(out)
    }

    #[test]
    fn codes_names_and_aliases_become_alpha_2_codes() {
        for (raw, expected) in [
            ("de", "DE"),
            (" FR ", "FR"),
            ("UK", "GB"),
            ("DEU", "DE"),
            ("usa", "US"),
            ("Germany", "DE"),
            ("United Kingdom", "GB"),
            ("united states of america", "US"),
            ("Netherlands", "NL"),
            ("Russia", "RU"),
        ] {
            assert_eq!(code(raw).as_deref(), Some(expected), "{raw}");
        }
        for unknown in ["Worldwide", "", "  ", "Rest of world"] {
            assert_eq!(code(unknown), None, "{unknown}");
        }
    }
}
