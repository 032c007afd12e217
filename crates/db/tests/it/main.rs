//! Repository and schema tests, run on SQLite always and on PostgreSQL when
//! `OAS_TEST_DATABASE_URL` names a server.
// Test code: a failed expectation should stop the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod dsr_messages;
mod formats;
mod pool;
mod schema;
mod statements;
mod users;
