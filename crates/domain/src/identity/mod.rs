//! Who may use OAS: usernames, email addresses and the password policy.

mod email;
mod password;
mod username;

pub use email::Email;
pub use password::{PasswordPolicy, WeakPassword};
pub use username::Username;

/// A value that failed validation; the message is written for the person
/// who typed the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// A language tag such as `en`, `es` or `pt-BR` (BCP 47 language and region).
pub fn parse_language(raw: &str) -> Result<String, Invalid> {
    let value = raw.trim();
    let (language, region) = match value.split_once('-') {
        Some((l, r)) => (l, Some(r)),
        None => (value, None),
    };
    let language_ok =
        (2..=3).contains(&language.len()) && language.chars().all(|c| c.is_ascii_lowercase());
    let region_ok =
        region.is_none_or(|r| r.len() == 2 && r.chars().all(|c| c.is_ascii_uppercase()));
    if language_ok && region_ok {
        Ok(value.to_owned())
    } else {
        Err(Invalid(format!(
            "\"{value}\" is not a language tag such as en, es or pt-BR."
        )))
    }
}

/// Every name [`parse_timezone`] accepts.
pub fn timezone_names() -> impl Iterator<Item = &'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
}

/// An IANA time zone name such as `Europe/Madrid` or `UTC`.
pub fn parse_timezone(raw: &str) -> Result<String, Invalid> {
    let value = raw.trim();
    value
        .parse::<chrono_tz::Tz>()
        .map(|tz| tz.name().to_owned())
        .map_err(|_| {
            Invalid(format!(
                "\"{value}\" is not a time zone such as Europe/Madrid or UTC."
            ))
        })
}

#[cfg(test)]
mod preference_tests {
    use super::*;

    #[test]
    fn languages_and_timezones() {
        assert_eq!(parse_language("pt-BR").unwrap(), "pt-BR");
        assert!(parse_language("english").is_err());
        assert!(parse_language("EN").is_err());
        assert_eq!(parse_timezone("Europe/Madrid").unwrap(), "Europe/Madrid");
        assert!(parse_timezone("Mars/Olympus").is_err());
    }
}
