//! Failed sign-ins by scope (`user:<name>`, `ip:<address>`), kept just long
//! enough to throttle guessing. Stored in the database so every gateway task
//! of a deployment sees the same counts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::login_failures;
use crate::{DbConnection, DbError};

#[derive(Debug, Insertable)]
#[diesel(table_name = login_failures)]
struct NewFailure<'a> {
    scope: &'a str,
    failed_at: NaiveDateTime,
}

/// Failures of one scope in a window: how many, and the oldest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    pub count: i64,
    pub oldest: Option<NaiveDateTime>,
}

pub fn record(conn: &mut DbConnection, scopes: &[&str], at: NaiveDateTime) -> Result<(), DbError> {
    for scope in scopes {
        diesel::insert_into(login_failures::table)
            .values(&NewFailure {
                scope,
                failed_at: at,
            })
            .execute(conn)?;
    }
    Ok(())
}

pub fn since(
    conn: &mut DbConnection,
    scope: &str,
    since: NaiveDateTime,
) -> Result<Failures, DbError> {
    let recent = || {
        login_failures::table
            .filter(login_failures::scope.eq(scope))
            .filter(login_failures::failed_at.gt(since))
    };
    let count = recent().count().get_result(conn)?;
    let oldest = recent()
        .select(diesel::dsl::min(login_failures::failed_at))
        .first::<Option<NaiveDateTime>>(conn)?;
    Ok(Failures { count, oldest })
}

pub fn clear(conn: &mut DbConnection, scope: &str) -> Result<(), DbError> {
    diesel::delete(login_failures::table.filter(login_failures::scope.eq(scope))).execute(conn)?;
    Ok(())
}

/// Forgets failures older than `before`.
pub fn prune(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize, DbError> {
    Ok(
        diesel::delete(login_failures::table.filter(login_failures::failed_at.lt(before)))
            .execute(conn)?,
    )
}
