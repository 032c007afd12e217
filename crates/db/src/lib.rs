//! Relational storage for OAS.
//!
//! One diesel schema and one set of repository functions serve both
//! PostgreSQL (production) and SQLite (the embedded default) through
//! [`DbConnection`], a `diesel::MultiConnection`. SQL is portable diesel DSL;
//! the only dialect-specific pieces are the two migration folders, which a
//! test keeps equivalent.

mod connection;
mod database;
mod error;
mod migrate;
mod url;

pub mod api_keys;
pub mod catalog;
pub mod contracts;
pub mod dsr_messages;
pub mod fetches;
pub mod formats;
pub mod jobs;
pub mod login_failures;
pub mod organisations;
pub mod payees;
pub mod refresh_tokens;
pub mod registrations;
pub mod reports;
pub mod sales_files;
pub mod schema;
pub mod snapshots;
pub mod sql;
pub mod statements;
pub mod users;

#[cfg(feature = "testing")]
pub mod testing;

pub use connection::DbConnection;
pub use database::{Database, PoolSettings};
pub use error::DbError;
pub use migrate::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
pub use url::{Backend, DatabaseUrl, InvalidDatabaseUrl};
