//! Requests to open an account, waiting for an administrator's decision.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::registrations;
use crate::sql::lower;
use crate::{DbConnection, DbError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = registrations)]
pub struct Registration {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub message: String,
    /// `pending`, `approved` or `denied`.
    pub status: String,
    pub created_at: NaiveDateTime,
    pub decided_at: Option<NaiveDateTime>,
    pub decided_by: Option<i64>,
    pub user_id: Option<i64>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = registrations)]
pub struct NewRegistration<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub company: &'a str,
    pub message: &'a str,
    pub status: &'a str,
    pub created_at: NaiveDateTime,
}

impl Registration {
    pub fn insert(
        conn: &mut DbConnection,
        new: &NewRegistration<'_>,
    ) -> Result<Registration, DbError> {
        let id: i64 = diesel::insert_into(registrations::table)
            .values(new)
            .returning(registrations::id)
            .get_result(conn)?;
        Self::find(conn, id)
    }

    pub fn find(conn: &mut DbConnection, id: i64) -> Result<Registration, DbError> {
        Ok(registrations::table
            .find(id)
            .select(Registration::as_select())
            .first(conn)?)
    }

    /// Whether a request in `status` already uses this username or email.
    pub fn exists_with(
        conn: &mut DbConnection,
        status: &str,
        username: &str,
        email: &str,
    ) -> Result<(bool, bool), DbError> {
        let in_status = || registrations::table.filter(registrations::status.eq(status));
        let name: i64 = in_status()
            .filter(lower(registrations::username).eq(username.to_lowercase()))
            .count()
            .get_result(conn)?;
        let mail: i64 = in_status()
            .filter(lower(registrations::email).eq(email.to_lowercase()))
            .count()
            .get_result(conn)?;
        Ok((name > 0, mail > 0))
    }

    pub fn list(
        conn: &mut DbConnection,
        status: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<Registration>, i64), DbError> {
        let filtered = || {
            let mut query = registrations::table.into_boxed();
            if let Some(status) = status {
                query = query.filter(registrations::status.eq(status.to_owned()));
            }
            query
        };
        let total = filtered().count().get_result(conn)?;
        let page = filtered()
            .order(registrations::id.desc())
            .offset(offset)
            .limit(limit)
            .select(Registration::as_select())
            .load(conn)?;
        Ok((page, total))
    }

    /// Records a decision on a pending request; `false` when it was no longer pending.
    pub fn decide(
        conn: &mut DbConnection,
        id: i64,
        status: &str,
        by: i64,
        at: NaiveDateTime,
        user_id: Option<i64>,
    ) -> Result<bool, DbError> {
        let updated = diesel::update(
            registrations::table
                .find(id)
                .filter(registrations::status.eq("pending")),
        )
        .set((
            registrations::status.eq(status),
            registrations::decided_by.eq(Some(by)),
            registrations::decided_at.eq(Some(at)),
            registrations::user_id.eq(user_id),
        ))
        .execute(conn)?;
        Ok(updated == 1)
    }
}
