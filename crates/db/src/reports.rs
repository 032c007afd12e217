//! Reports: what was asked for, their status, rows, totals and file.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{report_snapshots, reports};
use crate::{DbConnection, DbError};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = reports)]
pub struct ReportRecord {
    pub id: i64,
    pub organisation_id: i64,
    pub kind: String,
    pub period_from: String,
    pub period_to: String,
    pub by_period: String,
    /// The file ids asked for, as a JSON array; all the period's files
    /// when absent.
    pub files: Option<String>,
    pub status: String,
    pub status_cause: Option<String>,
    pub row_count: Option<i64>,
    pub total_revenue: Option<String>,
    pub currency: Option<String>,
    pub quantity: Option<i64>,
    pub result_key: Option<String>,
    /// The module run writing it.
    pub job_id: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = reports)]
pub struct NewReport<'a> {
    pub organisation_id: i64,
    pub kind: &'a str,
    pub period_from: &'a str,
    pub period_to: &'a str,
    pub by_period: &'a str,
    pub files: Option<String>,
    pub status: &'a str,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What a report's progress writes.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = reports)]
pub struct ReportChange {
    pub status: Option<String>,
    pub status_cause: Option<Option<String>>,
    pub row_count: Option<Option<i64>>,
    pub total_revenue: Option<Option<String>>,
    pub currency: Option<Option<String>>,
    pub quantity: Option<Option<i64>>,
    pub result_key: Option<Option<String>>,
    pub job_id: Option<Option<String>>,
    pub updated_at: Option<NaiveDateTime>,
}

impl ReportRecord {
    pub fn insert(conn: &mut DbConnection, new: &NewReport<'_>) -> Result<Self, DbError> {
        let id: i64 = diesel::insert_into(reports::table)
            .values(new)
            .returning(reports::id)
            .get_result(conn)?;
        Self::find(conn, id)
    }

    pub fn find(conn: &mut DbConnection, id: i64) -> Result<Self, DbError> {
        Ok(reports::table
            .find(id)
            .select(ReportRecord::as_select())
            .first(conn)?)
    }

    /// A page of the organisation's reports, newest first, and how many
    /// there are.
    pub fn page(
        conn: &mut DbConnection,
        organisation_id: i64,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<Self>, i64), DbError> {
        let count = reports::table
            .filter(reports::organisation_id.eq(organisation_id))
            .count()
            .get_result(conn)?;
        let rows = reports::table
            .filter(reports::organisation_id.eq(organisation_id))
            .order(reports::id.desc())
            .offset(offset)
            .limit(limit)
            .select(ReportRecord::as_select())
            .load(conn)?;
        Ok((rows, count))
    }

    /// Applies `change` if the report is still `from`; `false` if it moved on.
    pub fn transition(
        conn: &mut DbConnection,
        id: i64,
        from: &str,
        change: &ReportChange,
    ) -> Result<bool, DbError> {
        let changed = diesel::update(
            reports::table
                .filter(reports::id.eq(id))
                .filter(reports::status.eq(from)),
        )
        .set(change)
        .execute(conn)?;
        Ok(changed == 1)
    }

    /// Records the run writing the report, whatever its status.
    pub fn set_job(conn: &mut DbConnection, id: i64, job_id: &str) -> Result<(), DbError> {
        diesel::update(reports::table.find(id))
            .set(reports::job_id.eq(Some(job_id)))
            .execute(conn)?;
        Ok(())
    }

    /// Removes the report (its file and snapshot are the caller's).
    pub fn delete(conn: &mut DbConnection, id: i64) -> Result<(), DbError> {
        diesel::delete(reports::table.find(id)).execute(conn)?;
        Ok(())
    }
}

/// A report's snapshot as the OAS database holds it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = report_snapshots)]
pub struct ReportSnapshotRow {
    pub report_id: i64,
    pub organisation_id: i64,
    pub body: String,
    pub created_at: NaiveDateTime,
}

impl ReportSnapshotRow {
    /// Stores the snapshot, replacing any earlier one of the report.
    pub fn replace(conn: &mut DbConnection, row: &ReportSnapshotRow) -> Result<(), DbError> {
        conn.write_transaction(|conn| {
            diesel::delete(report_snapshots::table.find(row.report_id)).execute(conn)?;
            diesel::insert_into(report_snapshots::table)
                .values(row)
                .execute(conn)?;
            Ok(())
        })
    }

    pub fn find(conn: &mut DbConnection, report_id: i64) -> Result<Option<Self>, DbError> {
        Ok(report_snapshots::table
            .find(report_id)
            .select(ReportSnapshotRow::as_select())
            .first(conn)
            .optional()?)
    }

    pub fn delete(conn: &mut DbConnection, report_id: i64) -> Result<(), DbError> {
        diesel::delete(report_snapshots::table.find(report_id)).execute(conn)?;
        Ok(())
    }
}
