//! API keys: long-lived credentials for scripts, sent as `X-Api-Key`.
//! Only a prefix (to find the row) and a SHA-256 of the whole key are kept.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::api_keys;
use crate::{DbConnection, DbError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = api_keys)]
pub struct ApiKey {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = api_keys)]
pub struct NewApiKey<'a> {
    pub user_id: i64,
    pub name: &'a str,
    pub prefix: &'a str,
    pub key_hash: &'a str,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
}

pub const PREFIX_KEY: &str = "api_keys_prefix_key";

impl ApiKey {
    pub fn insert(conn: &mut DbConnection, new: &NewApiKey<'_>) -> Result<ApiKey, DbError> {
        conn.write_transaction(|conn| {
            let id: i64 = diesel::insert_into(api_keys::table)
                .values(new)
                .returning(api_keys::id)
                .get_result(conn)?;
            Ok(api_keys::table
                .find(id)
                .select(ApiKey::as_select())
                .first(conn)?)
        })
    }

    pub fn find_by_prefix(
        conn: &mut DbConnection,
        prefix: &str,
    ) -> Result<Option<ApiKey>, DbError> {
        Ok(api_keys::table
            .filter(api_keys::prefix.eq(prefix))
            .select(ApiKey::as_select())
            .first(conn)
            .optional()?)
    }

    /// The key with `prefix` and the account it belongs to, in one query:
    /// what authenticating a request by key needs.
    pub fn find_with_user(
        conn: &mut DbConnection,
        prefix: &str,
    ) -> Result<Option<(ApiKey, crate::users::User)>, DbError> {
        use crate::schema::users;
        Ok(api_keys::table
            .inner_join(users::table)
            .filter(api_keys::prefix.eq(prefix))
            .select((ApiKey::as_select(), crate::users::User::as_select()))
            .first(conn)
            .optional()?)
    }

    /// A page of a user's keys that are not revoked, newest first, with the total.
    pub fn list_for_user(
        conn: &mut DbConnection,
        user_id: i64,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<ApiKey>, i64), DbError> {
        let mine = || {
            api_keys::table
                .filter(api_keys::user_id.eq(user_id))
                .filter(api_keys::revoked_at.is_null())
        };
        let total = mine().count().get_result(conn)?;
        let page = mine()
            .order(api_keys::id.desc())
            .offset(offset)
            .limit(limit)
            .select(ApiKey::as_select())
            .load(conn)?;
        Ok((page, total))
    }

    /// Revokes one of the user's keys; `NotFound` if it is not theirs or already revoked.
    pub fn revoke(
        conn: &mut DbConnection,
        user_id: i64,
        id: i64,
        at: NaiveDateTime,
    ) -> Result<(), DbError> {
        let updated = diesel::update(
            api_keys::table
                .find(id)
                .filter(api_keys::user_id.eq(user_id))
                .filter(api_keys::revoked_at.is_null()),
        )
        .set(api_keys::revoked_at.eq(Some(at)))
        .execute(conn)?;
        if updated == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }

    pub fn revoke_all_for_user(
        conn: &mut DbConnection,
        user_id: i64,
        at: NaiveDateTime,
    ) -> Result<usize, DbError> {
        Ok(diesel::update(
            api_keys::table
                .filter(api_keys::user_id.eq(user_id))
                .filter(api_keys::revoked_at.is_null()),
        )
        .set(api_keys::revoked_at.eq(Some(at)))
        .execute(conn)?)
    }

    /// Records a use, at most once per `every` so busy scripts do not write on every call.
    pub fn touch(
        conn: &mut DbConnection,
        id: i64,
        at: NaiveDateTime,
        every: chrono::Duration,
    ) -> Result<(), DbError> {
        let stale = at - every;
        diesel::update(
            api_keys::table.find(id).filter(
                api_keys::last_used_at
                    .is_null()
                    .or(api_keys::last_used_at.lt(stale)),
            ),
        )
        .set(api_keys::last_used_at.eq(Some(at)))
        .execute(conn)?;
        Ok(())
    }
}
