//! The SQL side of the snapshot store: a header per file and its groups in
//! ranked pages. What a page holds (a JSON array of rows, and one of their
//! keys) is the snapshot store's business (`oas_platform::snapshots`); here
//! pages are written, read and deleted whole.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{snapshot_pages, snapshots};
use crate::{DbConnection, DbError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = snapshots)]
pub struct SnapshotHeaderRow {
    pub file_id: i64,
    pub organisation_id: i64,
    pub currency: String,
    pub base_currency: String,
    pub period: Option<String>,
    pub lines: i64,
    pub revenue: String,
    pub base_revenue: String,
    pub quantity: i64,
    pub created_at: NaiveDateTime,
}

/// Consecutive groups of one dimension, in ranking order.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = snapshot_pages)]
pub struct SnapshotPage {
    pub file_id: i64,
    pub organisation_id: i64,
    pub dimension: String,
    /// The page's place in the dimension's ranking, from 0.
    pub page: i32,
    pub row_count: i32,
    /// The rows' keys, as a JSON array.
    pub keys: String,
    /// The rows, as a JSON array.
    pub body: String,
}

/// Pages per INSERT statement on PostgreSQL.
const BATCH: usize = 100;

/// Replaces the file's snapshot, in one transaction.
pub fn replace(
    conn: &mut DbConnection,
    header: &SnapshotHeaderRow,
    pages: &[SnapshotPage],
) -> Result<(), DbError> {
    conn.write_transaction(|conn| {
        diesel::delete(snapshot_pages::table.filter(snapshot_pages::file_id.eq(header.file_id)))
            .execute(conn)?;
        diesel::delete(snapshots::table.find(header.file_id)).execute(conn)?;
        diesel::insert_into(snapshots::table)
            .values(header)
            .execute(conn)?;
        // A MultiConnection cannot insert many rows in one statement; each
        // engine's own connection can.
        for chunk in pages.chunks(BATCH) {
            match conn {
                DbConnection::Postgres(pg) => {
                    diesel::insert_into(snapshot_pages::table)
                        .values(chunk)
                        .execute(pg)?;
                }
                DbConnection::Sqlite(lite) => {
                    // One page a statement: the same statement, prepared
                    // once and run for every page.
                    for page in chunk {
                        diesel::insert_into(snapshot_pages::table)
                            .values(page)
                            .execute(lite)?;
                    }
                }
            }
        }
        Ok(())
    })
}

pub fn header(conn: &mut DbConnection, file_id: i64) -> Result<Option<SnapshotHeaderRow>, DbError> {
    Ok(snapshots::table
        .find(file_id)
        .select(SnapshotHeaderRow::as_select())
        .first(conn)
        .optional()?)
}

/// How many rows each page of a file's dimension holds, in page order.
pub fn page_sizes(
    conn: &mut DbConnection,
    file_id: i64,
    dimension: &str,
) -> Result<Vec<(i32, i32)>, DbError> {
    Ok(snapshot_pages::table
        .filter(snapshot_pages::file_id.eq(file_id))
        .filter(snapshot_pages::dimension.eq(dimension.to_owned()))
        .order(snapshot_pages::page)
        .select((snapshot_pages::page, snapshot_pages::row_count))
        .load(conn)?)
}

/// A file's pages `first..=last` of a dimension, in order: each page's
/// number, row count and body.
pub fn page_bodies(
    conn: &mut DbConnection,
    file_id: i64,
    dimension: &str,
    first: i32,
    last: i32,
) -> Result<Vec<(i32, i32, String)>, DbError> {
    Ok(snapshot_pages::table
        .filter(snapshot_pages::file_id.eq(file_id))
        .filter(snapshot_pages::dimension.eq(dimension.to_owned()))
        .filter(snapshot_pages::page.between(first, last))
        .order(snapshot_pages::page)
        .select((
            snapshot_pages::page,
            snapshot_pages::row_count,
            snapshot_pages::body,
        ))
        .load(conn)?)
}

pub fn delete(conn: &mut DbConnection, file_id: i64) -> Result<(), DbError> {
    conn.write_transaction(|conn| {
        diesel::delete(snapshot_pages::table.filter(snapshot_pages::file_id.eq(file_id)))
            .execute(conn)?;
        diesel::delete(snapshots::table.find(file_id)).execute(conn)?;
        Ok(())
    })
}

/// Every header of an organisation.
pub fn headers_of(
    conn: &mut DbConnection,
    organisation_id: i64,
) -> Result<Vec<SnapshotHeaderRow>, DbError> {
    Ok(snapshots::table
        .filter(snapshots::organisation_id.eq(organisation_id))
        .select(SnapshotHeaderRow::as_select())
        .load(conn)?)
}

/// The keys of every page of a dimension across an organisation's
/// snapshots (each a JSON array), for counting distinct keys.
pub fn keys_of(
    conn: &mut DbConnection,
    organisation_id: i64,
    dimension: &str,
) -> Result<Vec<String>, DbError> {
    Ok(snapshot_pages::table
        .filter(snapshot_pages::organisation_id.eq(organisation_id))
        .filter(snapshot_pages::dimension.eq(dimension.to_owned()))
        .select(snapshot_pages::keys)
        .load(conn)?)
}

/// The bodies of every page of a dimension across an organisation's
/// snapshots, for merging by key.
pub fn bodies_of(
    conn: &mut DbConnection,
    organisation_id: i64,
    dimension: &str,
) -> Result<Vec<String>, DbError> {
    Ok(snapshot_pages::table
        .filter(snapshot_pages::organisation_id.eq(organisation_id))
        .filter(snapshot_pages::dimension.eq(dimension.to_owned()))
        .select(snapshot_pages::body)
        .load(conn)?)
}

/// Ids per `IN` list.
const CHUNK: usize = 500;

/// The headers of `files` that have a snapshot.
pub fn headers_of_files(
    conn: &mut DbConnection,
    files: &[i64],
) -> Result<Vec<SnapshotHeaderRow>, DbError> {
    let mut headers = Vec::with_capacity(files.len());
    for chunk in files.chunks(CHUNK) {
        headers.extend(
            snapshots::table
                .filter(snapshots::file_id.eq_any(chunk))
                .select(SnapshotHeaderRow::as_select())
                .load(conn)?,
        );
    }
    Ok(headers)
}

/// The first `pages` pages (the highest groups) of a dimension of each of
/// `files`: each page's number and body.
pub fn leading_bodies(
    conn: &mut DbConnection,
    files: &[i64],
    dimension: &str,
    pages: i32,
) -> Result<Vec<(i32, String)>, DbError> {
    let mut bodies = Vec::new();
    for chunk in files.chunks(CHUNK) {
        bodies.extend(
            snapshot_pages::table
                .filter(snapshot_pages::file_id.eq_any(chunk))
                .filter(snapshot_pages::dimension.eq(dimension.to_owned()))
                .filter(snapshot_pages::page.lt(pages))
                .select((snapshot_pages::page, snapshot_pages::body))
                .load::<(i32, String)>(conn)?,
        );
    }
    Ok(bodies)
}
