//! The SQL side of the snapshot store: plain rows, written in batches.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{snapshot_rows, snapshots};
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

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = snapshot_rows)]
pub struct SnapshotRowRecord {
    pub file_id: i64,
    pub organisation_id: i64,
    pub dimension: String,
    pub position: i32,
    pub key: String,
    pub name: String,
    pub isrc: Option<String>,
    pub upc: Option<String>,
    pub revenue: String,
    pub base_revenue: String,
    pub quantity: i64,
}

/// Rows per INSERT statement.
const BATCH: usize = 500;

/// Replaces the file's snapshot, in one transaction.
pub fn replace(
    conn: &mut DbConnection,
    header: &SnapshotHeaderRow,
    rows: &[SnapshotRowRecord],
) -> Result<(), DbError> {
    conn.transaction(|conn| {
        diesel::delete(snapshots::table.find(header.file_id)).execute(conn)?;
        diesel::delete(snapshot_rows::table.filter(snapshot_rows::file_id.eq(header.file_id)))
            .execute(conn)?;
        diesel::insert_into(snapshots::table)
            .values(header)
            .execute(conn)?;
        // A MultiConnection cannot insert many rows in one statement; each
        // engine's own connection can, and hundreds of thousands of rows
        // need it.
        for chunk in rows.chunks(BATCH) {
            match conn {
                DbConnection::Postgres(pg) => {
                    diesel::insert_into(snapshot_rows::table)
                        .values(chunk)
                        .execute(pg)?;
                }
                DbConnection::Sqlite(lite) => {
                    // SQLite does best with one row a statement: the same
                    // statement, prepared once and run for every row.
                    for row in chunk {
                        diesel::insert_into(snapshot_rows::table)
                            .values(row)
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

/// A page of one dimension's rows, by position, with their total.
pub fn rows(
    conn: &mut DbConnection,
    file_id: i64,
    dimension: &str,
    offset: i64,
    limit: i64,
) -> Result<(Vec<SnapshotRowRecord>, i64), DbError> {
    let of = || {
        snapshot_rows::table
            .filter(snapshot_rows::file_id.eq(file_id))
            .filter(snapshot_rows::dimension.eq(dimension.to_owned()))
    };
    let total = of().count().get_result(conn)?;
    let page = of()
        .order(snapshot_rows::position)
        .offset(offset)
        .limit(limit)
        .select(SnapshotRowRecord::as_select())
        .load(conn)?;
    Ok((page, total))
}

pub fn delete(conn: &mut DbConnection, file_id: i64) -> Result<(), DbError> {
    conn.transaction(|conn| {
        diesel::delete(snapshot_rows::table.filter(snapshot_rows::file_id.eq(file_id)))
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

/// Distinct keys of a dimension across an organisation's snapshots.
pub fn distinct_keys(
    conn: &mut DbConnection,
    organisation_id: i64,
    dimension: &str,
) -> Result<i64, DbError> {
    Ok(snapshot_rows::table
        .filter(snapshot_rows::organisation_id.eq(organisation_id))
        .filter(snapshot_rows::dimension.eq(dimension.to_owned()))
        .select(diesel::dsl::count(snapshot_rows::key).aggregate_distinct())
        .first(conn)?)
}

/// Every row of a dimension across an organisation's snapshots, for
/// merging by key.
pub fn rows_of(
    conn: &mut DbConnection,
    organisation_id: i64,
    dimension: &str,
) -> Result<Vec<SnapshotRowRecord>, DbError> {
    Ok(snapshot_rows::table
        .filter(snapshot_rows::organisation_id.eq(organisation_id))
        .filter(snapshot_rows::dimension.eq(dimension.to_owned()))
        .select(SnapshotRowRecord::as_select())
        .load(conn)?)
}
