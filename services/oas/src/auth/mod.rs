//! Credentials: password hashing, JWT access and refresh tokens, API keys,
//! and the extractor that turns a request's credentials into a user.

pub mod api_keys;
pub mod extract;
pub mod password;
pub mod throttle;
pub mod tokens;

pub use extract::Authenticated;
