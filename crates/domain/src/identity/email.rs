use std::fmt;
use std::str::FromStr;

use super::Invalid;

/// An email address, syntax-checked (RFC 5321/5322 through `email_address`),
/// with the domain part lower-cased. Comparisons for uniqueness are made
/// case-insensitively by the database.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let value = raw.trim();
        if value.is_empty() {
            return Err(Invalid("Email may not be blank.".into()));
        }
        if value.len() > Self::MAX_LEN {
            return Err(Invalid(format!(
                "Email may have at most {} characters.",
                Self::MAX_LEN
            )));
        }
        let parsed = email_address::EmailAddress::from_str(value)
            .map_err(|_| Invalid("Enter a valid email address.".into()))?;
        // A bare host ("ana@localhost") is legal syntax but never a mailbox we can reach.
        if !parsed.domain().contains('.') {
            return Err(Invalid("Enter a valid email address.".into()));
        }
        Ok(Self(format!(
            "{}@{}",
            parsed.local_part(),
            parsed.domain().to_lowercase()
        )))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercases_the_domain_only() {
        assert_eq!(
            Email::parse(" Ana.Ops@Label.COM ").unwrap().as_str(),
            "Ana.Ops@label.com"
        );
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in [
            "",
            "ana",
            "ana@",
            "@label.com",
            "ana@localhost",
            "ana @label.com",
            "a@b@c.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
