use zxcvbn::{Score, zxcvbn};

/// Why a password was refused: one or more sentences for the person choosing it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .reasons.join(" "))]
pub struct WeakPassword {
    pub reasons: Vec<String>,
}

/// The password rules: a length window and a minimum zxcvbn strength score,
/// judged against the account's own username and email so that neither can
/// serve as the password.
#[derive(Debug, Clone, Copy)]
pub struct PasswordPolicy {
    pub min_len: usize,
    /// Argon2 hashing cost grows with input; a bound keeps login cheap to refuse.
    pub max_len: usize,
    pub min_score: Score,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_len: 10,
            max_len: 256,
            min_score: Score::Three,
        }
    }
}

impl PasswordPolicy {
    pub fn check(&self, password: &str, account_words: &[&str]) -> Result<(), WeakPassword> {
        let length = password.chars().count();
        if length < self.min_len {
            return Err(WeakPassword {
                reasons: vec![format!(
                    "This password is too short: it must contain at least {} characters.",
                    self.min_len
                )],
            });
        }
        if length > self.max_len {
            return Err(WeakPassword {
                reasons: vec![format!(
                    "This password is too long: it may contain at most {} characters.",
                    self.max_len
                )],
            });
        }
        let estimate = zxcvbn(password, account_words);
        if estimate.score() >= self.min_score {
            return Ok(());
        }
        let mut reasons = vec!["This password is too easy to guess.".to_owned()];
        if let Some(feedback) = estimate.feedback() {
            if let Some(warning) = feedback.warning() {
                let warning = warning.to_string();
                reasons.push(format!("{}.", warning.trim_end_matches('.')));
            }
            reasons.extend(feedback.suggestions().iter().map(|s| s.to_string()));
        }
        Err(WeakPassword { reasons })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_short_common_and_account_derived_passwords() {
        let policy = PasswordPolicy::default();
        assert!(policy.check("short", &[]).unwrap_err().reasons[0].contains("too short"));
        assert!(policy.check("password123", &[]).is_err());
        assert!(policy.check("qwertyuiop", &[]).is_err());
        let own = policy.check("ana.ops.labelx", &["ana.ops.labelx", "ana@labelx.com"]);
        assert!(
            own.is_err(),
            "the username itself must not pass as a password"
        );
    }

    #[test]
    fn accepts_a_long_unpredictable_passphrase() {
        let policy = PasswordPolicy::default();
        policy.check("violet-harbour-tangent-41", &["ana"]).unwrap();
    }

    #[test]
    fn bounds_the_length() {
        let policy = PasswordPolicy::default();
        let long = "x9!".repeat(100);
        assert!(policy.check(&long, &[]).unwrap_err().reasons[0].contains("too long"));
    }
}
