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
