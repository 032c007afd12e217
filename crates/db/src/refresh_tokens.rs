//! Refresh tokens in use: each one can be exchanged once (rotation) and
//! revoked (logout, password change, deactivation).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::refresh_tokens;
use crate::{DbConnection, DbError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshToken {
    pub id: i64,
    pub jti: String,
    pub user_id: i64,
    pub issued_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct NewRefreshToken<'a> {
    pub jti: &'a str,
    pub user_id: i64,
    pub issued_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

impl RefreshToken {
    pub fn insert(conn: &mut DbConnection, new: &NewRefreshToken<'_>) -> Result<(), DbError> {
        diesel::insert_into(refresh_tokens::table)
            .values(new)
            .execute(conn)?;
        Ok(())
    }

    /// Revokes the token if it is live and belongs to `user_id`; returns
    /// whether it was. Exactly one caller wins when two race on one token.
    pub fn consume(
        conn: &mut DbConnection,
        jti: &str,
        user_id: i64,
        at: NaiveDateTime,
    ) -> Result<bool, DbError> {
        let updated = diesel::update(
            refresh_tokens::table
                .filter(refresh_tokens::jti.eq(jti))
                .filter(refresh_tokens::user_id.eq(user_id))
                .filter(refresh_tokens::revoked_at.is_null())
                .filter(refresh_tokens::expires_at.gt(at)),
        )
        .set(refresh_tokens::revoked_at.eq(Some(at)))
        .execute(conn)?;
        Ok(updated == 1)
    }

    /// Revokes every live token of the user but `keep`.
    pub fn revoke_all_for_user(
        conn: &mut DbConnection,
        user_id: i64,
        keep: Option<&str>,
        at: NaiveDateTime,
    ) -> Result<usize, DbError> {
        let mut query = diesel::update(refresh_tokens::table)
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::revoked_at.is_null())
            .into_boxed();
        if let Some(jti) = keep {
            query = query.filter(refresh_tokens::jti.ne(jti));
        }
        Ok(query
            .set(refresh_tokens::revoked_at.eq(Some(at)))
            .execute(conn)?)
    }

    /// Deletes tokens that expired before `before`: they can never be used again.
    pub fn prune(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize, DbError> {
        Ok(
            diesel::delete(refresh_tokens::table.filter(refresh_tokens::expires_at.lt(before)))
                .execute(conn)?,
        )
    }
}
