//! Throttling of failed sign-ins, per username and per client address,
//! shared by every gateway task through the database.

use chrono::{Duration, NaiveDateTime};
use oas_db::{DbConnection, DbError, login_failures};

/// How far back failures count.
pub const WINDOW: Duration = Duration::minutes(15);
/// Failures allowed in the window for one username.
pub const PER_USERNAME: i64 = 5;
/// Failures allowed in the window from one address (offices share addresses).
pub const PER_ADDRESS: i64 = 20;

pub fn username_scope(username: &str) -> String {
    format!("user:{}", username.trim().to_lowercase())
}

pub fn address_scope(address: &str) -> String {
    format!("ip:{address}")
}

/// Seconds to wait before trying again, if any scope is over its limit.
pub fn retry_after(
    conn: &mut DbConnection,
    limits: &[(&str, i64)],
    now: NaiveDateTime,
) -> Result<Option<u64>, DbError> {
    let mut wait = None;
    for (scope, limit) in limits {
        let failures = login_failures::since(conn, scope, now - WINDOW)?;
        if failures.count >= *limit
            && let Some(oldest) = failures.oldest
        {
            let seconds = (oldest + WINDOW - now).num_seconds().max(1) as u64;
            wait = Some(wait.map_or(seconds, |w: u64| w.max(seconds)));
        }
    }
    Ok(wait)
}

pub fn record_failure(
    conn: &mut DbConnection,
    scopes: &[&str],
    now: NaiveDateTime,
) -> Result<(), DbError> {
    login_failures::prune(conn, now - WINDOW)?;
    login_failures::record(conn, scopes, now)
}
