//! Credentials: password hashing now; tokens and API keys join it.

pub mod password;
