//! Automatic uploads: the batches that fetch a link or poll a source, the
//! saved sources, and what each source's polls have seen.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{fetch_batches, source_entries, sources};
use crate::{DbConnection, DbError};

/// A batch's statuses.
pub const FETCHING: &str = "FETCHING";
pub const DONE: &str = "DONE";
pub const FAILED: &str = "FAILED";

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = fetch_batches)]
pub struct FetchBatch {
    pub id: i64,
    pub organisation_id: i64,
    pub source_id: Option<i64>,
    /// The link as shown: without credentials.
    pub url: String,
    /// The link as fetched, credentials included; a source's batch reads
    /// its source's. Never answered.
    pub secret_url: Option<String>,
    pub upload_mode: String,
    pub status: String,
    pub status_cause: Option<String>,
    /// What was found, as JSON.
    pub items: String,
    pub job_id: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = fetch_batches)]
pub struct NewFetchBatch<'a> {
    pub organisation_id: i64,
    pub source_id: Option<i64>,
    pub url: &'a str,
    pub secret_url: Option<&'a str>,
    pub upload_mode: &'a str,
    pub status: &'a str,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What a batch's progress writes.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = fetch_batches)]
pub struct BatchChange {
    pub status: Option<String>,
    pub status_cause: Option<Option<String>>,
    pub items: Option<String>,
    pub job_id: Option<Option<String>>,
    pub updated_at: Option<NaiveDateTime>,
}

impl FetchBatch {
    pub fn insert(conn: &mut DbConnection, new: &NewFetchBatch<'_>) -> Result<Self, DbError> {
        let id: i64 = diesel::insert_into(fetch_batches::table)
            .values(new)
            .returning(fetch_batches::id)
            .get_result(conn)?;
        Self::find(conn, id)
    }

    pub fn find(conn: &mut DbConnection, id: i64) -> Result<Self, DbError> {
        Ok(fetch_batches::table
            .find(id)
            .select(FetchBatch::as_select())
            .first(conn)?)
    }

    /// A page of the organisation's batches (of one source, when given),
    /// newest first, and how many there are.
    pub fn page(
        conn: &mut DbConnection,
        organisation_id: i64,
        source_id: Option<i64>,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<Self>, i64), DbError> {
        let filtered = || {
            let mut query = fetch_batches::table
                .filter(fetch_batches::organisation_id.eq(organisation_id))
                .into_boxed();
            if let Some(source) = source_id {
                query = query.filter(fetch_batches::source_id.eq(source));
            }
            query
        };
        let count = filtered().count().get_result(conn)?;
        let rows = filtered()
            .order(fetch_batches::id.desc())
            .offset(offset)
            .limit(limit)
            .select(FetchBatch::as_select())
            .load(conn)?;
        Ok((rows, count))
    }

    /// Applies `change` if the batch is still `from`; `false` if it moved on.
    pub fn transition(
        conn: &mut DbConnection,
        id: i64,
        from: &str,
        change: &BatchChange,
    ) -> Result<bool, DbError> {
        let changed = diesel::update(
            fetch_batches::table
                .filter(fetch_batches::id.eq(id))
                .filter(fetch_batches::status.eq(from)),
        )
        .set(change)
        .execute(conn)?;
        Ok(changed == 1)
    }

    /// Records the run fetching the batch.
    pub fn set_job(conn: &mut DbConnection, id: i64, job_id: &str) -> Result<(), DbError> {
        diesel::update(fetch_batches::table.find(id))
            .set(fetch_batches::job_id.eq(Some(job_id)))
            .execute(conn)?;
        Ok(())
    }

    /// The source's latest batch, if any.
    pub fn latest_of(conn: &mut DbConnection, source_id: i64) -> Result<Option<Self>, DbError> {
        Ok(fetch_batches::table
            .filter(fetch_batches::source_id.eq(source_id))
            .order(fetch_batches::id.desc())
            .select(FetchBatch::as_select())
            .first(conn)
            .optional()?)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = sources)]
pub struct Source {
    pub id: i64,
    pub organisation_id: i64,
    pub name: String,
    /// As shown: without credentials.
    pub url: String,
    /// As fetched, credentials included. Never answered.
    pub secret_url: String,
    pub upload_mode: String,
    pub every_seconds: i64,
    /// The SFTP server's pinned key (`ssh-ed25519 AAAA…`).
    pub host_key: Option<String>,
    pub paused: bool,
    /// Failed polls in a row.
    pub failures: i64,
    pub status_cause: Option<String>,
    pub next_poll_at: NaiveDateTime,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = sources)]
pub struct NewSource<'a> {
    pub organisation_id: i64,
    pub name: &'a str,
    pub url: &'a str,
    pub secret_url: &'a str,
    pub upload_mode: &'a str,
    pub every_seconds: i64,
    pub host_key: Option<&'a str>,
    pub next_poll_at: NaiveDateTime,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = sources)]
pub struct SourceChange {
    pub name: Option<String>,
    pub url: Option<String>,
    pub secret_url: Option<String>,
    pub upload_mode: Option<String>,
    pub every_seconds: Option<i64>,
    pub host_key: Option<Option<String>>,
    pub paused: Option<bool>,
    pub failures: Option<i64>,
    pub status_cause: Option<Option<String>>,
    pub next_poll_at: Option<NaiveDateTime>,
    pub updated_at: Option<NaiveDateTime>,
}

impl Source {
    pub fn insert(conn: &mut DbConnection, new: &NewSource<'_>) -> Result<Self, DbError> {
        let id: i64 = diesel::insert_into(sources::table)
            .values(new)
            .returning(sources::id)
            .get_result(conn)?;
        Self::find(conn, id)
    }

    pub fn find(conn: &mut DbConnection, id: i64) -> Result<Self, DbError> {
        Ok(sources::table
            .find(id)
            .select(Source::as_select())
            .first(conn)?)
    }

    /// A page of the organisation's sources, oldest first, and how many.
    pub fn page(
        conn: &mut DbConnection,
        organisation_id: i64,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<Self>, i64), DbError> {
        let count = sources::table
            .filter(sources::organisation_id.eq(organisation_id))
            .count()
            .get_result(conn)?;
        let rows = sources::table
            .filter(sources::organisation_id.eq(organisation_id))
            .order(sources::id.asc())
            .offset(offset)
            .limit(limit)
            .select(Source::as_select())
            .load(conn)?;
        Ok((rows, count))
    }

    pub fn update(
        conn: &mut DbConnection,
        id: i64,
        change: &SourceChange,
    ) -> Result<Self, DbError> {
        diesel::update(sources::table.find(id))
            .set(change)
            .execute(conn)?;
        Self::find(conn, id)
    }

    /// Claims the sources due at `now` (not paused), at most `limit`:
    /// each is moved to its next time before it is polled, so two gateway
    /// tasks never poll the same one at once.
    pub fn claim_due(
        conn: &mut DbConnection,
        now: NaiveDateTime,
        limit: i64,
    ) -> Result<Vec<Self>, DbError> {
        let due: Vec<Self> = sources::table
            .filter(sources::paused.eq(false))
            .filter(sources::next_poll_at.le(now))
            .order(sources::next_poll_at.asc())
            .limit(limit)
            .select(Source::as_select())
            .load(conn)?;
        let mut claimed = Vec::new();
        for source in due {
            let next = now + chrono::Duration::seconds(source.every_seconds);
            let taken = diesel::update(
                sources::table
                    .filter(sources::id.eq(source.id))
                    .filter(sources::next_poll_at.eq(source.next_poll_at)),
            )
            .set(sources::next_poll_at.eq(next))
            .execute(conn)?;
            if taken == 1 {
                claimed.push(source);
            }
        }
        Ok(claimed)
    }

    /// Removes the source and what it has seen; its batches stay.
    pub fn delete(conn: &mut DbConnection, id: i64) -> Result<(), DbError> {
        conn.write_transaction(|conn| {
            diesel::delete(source_entries::table.filter(source_entries::source_id.eq(id)))
                .execute(conn)?;
            diesel::update(fetch_batches::table.filter(fetch_batches::source_id.eq(id)))
                .set(fetch_batches::source_id.eq(None::<i64>))
                .execute(conn)?;
            diesel::delete(sources::table.find(id)).execute(conn)?;
            Ok(())
        })
    }
}

/// A file a source's poll has seen.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = source_entries)]
pub struct SourceEntry {
    pub source_id: i64,
    pub path: String,
    pub size: i64,
    pub modified: String,
    pub content_hash: String,
    pub seen_at: NaiveDateTime,
}

impl SourceEntry {
    /// Everything the source has seen.
    pub fn of(conn: &mut DbConnection, source_id: i64) -> Result<Vec<Self>, DbError> {
        Ok(source_entries::table
            .filter(source_entries::source_id.eq(source_id))
            .order(source_entries::path.asc())
            .select(SourceEntry::as_select())
            .load(conn)?)
    }

    /// Records `entry` as seen, replacing what was seen at its path.
    pub fn record(conn: &mut DbConnection, entry: &SourceEntry) -> Result<(), DbError> {
        conn.write_transaction(|conn| {
            diesel::delete(
                source_entries::table
                    .filter(source_entries::source_id.eq(entry.source_id))
                    .filter(source_entries::path.eq(&entry.path)),
            )
            .execute(conn)?;
            diesel::insert_into(source_entries::table)
                .values(entry)
                .execute(conn)?;
            Ok(())
        })
    }
}
