//! Accounts: who can sign in, and with which global flags.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::users;
use crate::sql::lower;
use crate::{DbConnection, DbError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: String,
    /// A PHC string (argon2id); never the password.
    pub password_hash: String,
    pub first_name: String,
    pub last_name: String,
    pub is_superuser: bool,
    pub is_staff: bool,
    pub is_active: bool,
    pub last_login: Option<NaiveDateTime>,
    pub date_joined: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub is_superuser: bool,
    pub is_staff: bool,
    pub is_active: bool,
    pub date_joined: NaiveDateTime,
}

/// The unique constraints of the table, as [`DbError::Conflict`] names them.
pub const USERNAME_KEY: &str = "users_username_key";
pub const EMAIL_KEY: &str = "users_email_key";

impl User {
    pub fn insert(conn: &mut DbConnection, new: &NewUser<'_>) -> Result<User, DbError> {
        // A MultiConnection can return plain columns but not a `Selectable`
        // struct: take the id, then read the row back in the same transaction.
        conn.transaction(|conn| {
            let id: i64 = diesel::insert_into(users::table)
                .values(new)
                .returning(users::id)
                .get_result(conn)?;
            Self::find(conn, id)
        })
    }

    pub fn find(conn: &mut DbConnection, id: i64) -> Result<User, DbError> {
        Ok(users::table
            .find(id)
            .select(User::as_select())
            .first(conn)?)
    }

    /// Looks a username up whatever its case.
    pub fn find_by_username(
        conn: &mut DbConnection,
        username: &str,
    ) -> Result<Option<User>, DbError> {
        Ok(users::table
            .filter(lower(users::username).eq(username.to_lowercase()))
            .select(User::as_select())
            .first(conn)
            .optional()?)
    }

    pub fn username_taken(conn: &mut DbConnection, username: &str) -> Result<bool, DbError> {
        let count: i64 = users::table
            .filter(lower(users::username).eq(username.to_lowercase()))
            .count()
            .get_result(conn)?;
        Ok(count > 0)
    }

    pub fn email_taken(conn: &mut DbConnection, email: &str) -> Result<bool, DbError> {
        let count: i64 = users::table
            .filter(lower(users::email).eq(email.to_lowercase()))
            .count()
            .get_result(conn)?;
        Ok(count > 0)
    }

    pub fn record_login(
        conn: &mut DbConnection,
        id: i64,
        at: NaiveDateTime,
    ) -> Result<(), DbError> {
        let updated = diesel::update(users::table.find(id))
            .set(users::last_login.eq(Some(at)))
            .execute(conn)?;
        if updated == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }
}
