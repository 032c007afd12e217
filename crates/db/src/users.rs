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
    /// Preferred language of the interface and emails (BCP 47, e.g. `en`).
    pub language: String,
    /// IANA time zone used to show dates, e.g. `Europe/Madrid`.
    pub timezone: String,
    /// The organisation files and reports use by default.
    pub active_organisation_id: Option<i64>,
}

/// Changes to an account; `None` leaves a column as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub is_superuser: Option<bool>,
    pub is_staff: Option<bool>,
    pub is_active: Option<bool>,
    pub language: Option<String>,
    pub timezone: Option<String>,
    pub password_hash: Option<String>,
}

impl UserChanges {
    /// Whether nothing would change (diesel refuses an empty `SET`).
    pub fn is_empty(&self) -> bool {
        let Self {
            email,
            first_name,
            last_name,
            is_superuser,
            is_staff,
            is_active,
            language,
            timezone,
            password_hash,
        } = self;
        email.is_none()
            && first_name.is_none()
            && last_name.is_none()
            && is_superuser.is_none()
            && is_staff.is_none()
            && is_active.is_none()
            && language.is_none()
            && timezone.is_none()
            && password_hash.is_none()
    }
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
        conn.write_transaction(|conn| {
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

    /// Looks an email up whatever its case.
    pub fn find_by_email(conn: &mut DbConnection, email: &str) -> Result<Option<User>, DbError> {
        Ok(users::table
            .filter(lower(users::email).eq(email.to_lowercase()))
            .select(User::as_select())
            .first(conn)
            .optional()?)
    }

    /// A page of accounts, by username, optionally those whose username,
    /// email or names contain `search` (any case); with the total.
    pub fn list(
        conn: &mut DbConnection,
        search: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<User>, i64), DbError> {
        let filtered = || {
            let mut query = users::table.into_boxed();
            if let Some(term) = search.map(str::trim).filter(|t| !t.is_empty()) {
                let pattern = crate::sql::contains_pattern(term);
                query = query.filter(
                    lower(users::username)
                        .like(pattern.clone())
                        .escape('\\')
                        .or(lower(users::email).like(pattern.clone()).escape('\\'))
                        .or(lower(users::first_name).like(pattern.clone()).escape('\\'))
                        .or(lower(users::last_name).like(pattern).escape('\\')),
                );
            }
            query
        };
        let total = filtered().count().get_result(conn)?;
        let page = filtered()
            .order(lower(users::username))
            .offset(offset)
            .limit(limit)
            .select(User::as_select())
            .load(conn)?;
        Ok((page, total))
    }

    pub fn update(
        conn: &mut DbConnection,
        id: i64,
        changes: &UserChanges,
    ) -> Result<User, DbError> {
        if changes.is_empty() {
            return Self::find(conn, id);
        }
        let updated = diesel::update(users::table.find(id))
            .set(changes)
            .execute(conn)?;
        if updated == 0 {
            return Err(DbError::NotFound);
        }
        Self::find(conn, id)
    }

    pub fn set_active_organisation(
        conn: &mut DbConnection,
        id: i64,
        organisation_id: Option<i64>,
    ) -> Result<(), DbError> {
        diesel::update(users::table.find(id))
            .set(users::active_organisation_id.eq(organisation_id))
            .execute(conn)?;
        Ok(())
    }

    /// Clears the active organisation of everyone whose active one it is
    /// and who is no longer a member.
    pub fn clear_active_organisation(
        conn: &mut DbConnection,
        user_id: i64,
        organisation_id: i64,
    ) -> Result<(), DbError> {
        diesel::update(
            users::table
                .find(user_id)
                .filter(users::active_organisation_id.eq(organisation_id)),
        )
        .set(users::active_organisation_id.eq(None::<i64>))
        .execute(conn)?;
        Ok(())
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
