use std::fmt;

use super::Invalid;

/// A login name: 1 to 150 characters of letters, digits and `@.+-_`
/// (the set Django accepts, so accounts migrate unchanged).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub const MAX_LEN: usize = 150;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let value = raw.trim();
        if value.is_empty() {
            return Err(Invalid("Username may not be blank.".into()));
        }
        if value.chars().count() > Self::MAX_LEN {
            return Err(Invalid(format!(
                "Username may have at most {} characters.",
                Self::MAX_LEN
            )));
        }
        let allowed = |c: char| c.is_alphanumeric() || "@.+-_".contains(c);
        if !value.chars().all(allowed) {
            return Err(Invalid(
                "Username may contain only letters, digits and @ . + - _".into(),
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_django_character_set_and_trims() {
        assert_eq!(
            Username::parse("  ana.b+ops@label_1-x ").unwrap().as_str(),
            "ana.b+ops@label_1-x"
        );
        assert_eq!(Username::parse("josé").unwrap().as_str(), "josé");
    }

    #[test]
    fn refuses_blank_spaces_symbols_and_overlong_names() {
        assert!(Username::parse("   ").is_err());
        assert!(Username::parse("ana b").is_err());
        assert!(Username::parse("ana;drop").is_err());
        assert!(Username::parse(&"a".repeat(150)).is_ok());
        assert!(Username::parse(&"a".repeat(151)).is_err());
    }
}
