//! Territories as ISO 3166-1 alpha-2 codes. Reports name the same place
//! `DE`, `DEU`, `Germany` or, for Britain, `UK` and `United Kingdom`; the
//! snapshot's territories must add up across them.

/// The alpha-2 code of a territory as a report writes it: a two-letter code
/// upper-cased (`UK`, reserved for the United Kingdom, becomes `GB`), else
/// an alpha-3 code, an English name or a common alias looked up (celes).
/// `None` when nothing matches: the caller keeps the text as written.
pub fn code(raw: &str) -> Option<String> {
    let text = raw.trim();
    if text.len() == 2 && text.bytes().all(|b| b.is_ascii_alphabetic()) {
        let upper = text.to_ascii_uppercase();
        return Some(if upper == "UK" {
            "GB".to_owned()
        } else {
            upper
        });
    }
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
        .map(|c| c.alpha2.to_owned())
}

#[cfg(test)]
mod tests {
    use super::code;

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
