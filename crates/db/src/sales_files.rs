//! Sales files and their status.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::sales_files;
use crate::{DbConnection, DbError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = sales_files)]
pub struct SalesFile {
    pub id: i64,
    pub uuid: String,
    pub organisation_id: i64,
    pub filename: String,
    pub filetype: String,
    pub filesize: i64,
    pub mongo_db_id: String,
    pub status: String,
    pub total_rows: Option<i64>,
    pub total_artists: Option<i64>,
    pub status_cause: Option<String>,
    pub error_message: Option<String>,
    pub total_local: Option<String>,
    pub reporting_period: Option<String>,
    pub upload_mode: String,
    pub response_module: String,
    pub module_response: Option<String>,
    pub exchange_rate: Option<String>,
    pub content_hash: Option<String>,
    pub parent_id: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The fingerprint of the lines its last import read.
    pub lines_hash: Option<String>,
    /// The file this one repeats, when it is a copy.
    pub duplicate_of: Option<i64>,
    /// The rates its last import converted lines at (JSON).
    pub rates_used: Option<String>,
    /// The size of the bytes uploaded, as cleaning found them.
    pub uploaded_bytes: Option<i64>,
    /// The first and last month its lines cover.
    pub period_from: Option<String>,
    pub period_to: Option<String>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = sales_files)]
pub struct NewSalesFile<'a> {
    pub uuid: &'a str,
    pub organisation_id: i64,
    pub filename: &'a str,
    pub filetype: &'a str,
    pub filesize: i64,
    pub mongo_db_id: &'a str,
    pub status: &'a str,
    pub reporting_period: Option<&'a str>,
    pub upload_mode: &'a str,
    pub response_module: &'a str,
    pub exchange_rate: Option<&'a str>,
    pub parent_id: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A status change, with what it reports about the file.
#[derive(Debug, Default, Clone, AsChangeset)]
#[diesel(table_name = sales_files)]
pub struct StatusChange {
    pub status: Option<String>,
    pub status_cause: Option<Option<String>>,
    pub error_message: Option<Option<String>>,
    pub module_response: Option<Option<String>>,
    pub response_module: Option<String>,
    pub total_rows: Option<Option<i64>>,
    pub total_artists: Option<Option<i64>>,
    pub total_local: Option<Option<String>>,
    pub reporting_period: Option<Option<String>>,
    pub content_hash: Option<Option<String>>,
    pub exchange_rate: Option<Option<String>>,
    pub lines_hash: Option<Option<String>>,
    pub duplicate_of: Option<Option<i64>>,
    pub rates_used: Option<Option<String>>,
    pub uploaded_bytes: Option<Option<i64>>,
    pub period_from: Option<Option<String>>,
    pub period_to: Option<Option<String>>,
    pub updated_at: Option<NaiveDateTime>,
}

/// Which of an organisation's files a list shows.
#[derive(Debug, Default, Clone, Copy)]
pub struct ListFilter<'a> {
    pub status: Option<&'a str>,
    pub period: Option<&'a str>,
    /// Only copies of other files (`true`), or none of them (`false`).
    pub duplicate: Option<bool>,
}

pub const UUID_KEY: &str = "sales_files_uuid_key";

impl SalesFile {
    pub fn insert(conn: &mut DbConnection, new: &NewSalesFile<'_>) -> Result<SalesFile, DbError> {
        conn.write_transaction(|conn| {
            let id: i64 = diesel::insert_into(sales_files::table)
                .values(new)
                .returning(sales_files::id)
                .get_result(conn)?;
            Self::find(conn, id)
        })
    }

    /// The file whose uploaded bytes are kept at `org-<o>/files/<id>/original`.
    pub fn declared_size(
        conn: &mut DbConnection,
        organisation_id: i64,
        id: i64,
    ) -> Result<Option<i64>, DbError> {
        Ok(sales_files::table
            .find(id)
            .filter(sales_files::organisation_id.eq(organisation_id))
            .select(sales_files::filesize)
            .first(conn)
            .optional()?)
    }

    pub fn find(conn: &mut DbConnection, id: i64) -> Result<SalesFile, DbError> {
        Ok(sales_files::table
            .find(id)
            .select(SalesFile::as_select())
            .first(conn)?)
    }

    /// Moves the file from `from` to the change's status; `false` when it
    /// was no longer in `from` (someone else moved it first).
    pub fn transition(
        conn: &mut DbConnection,
        id: i64,
        from: &str,
        change: &StatusChange,
    ) -> Result<bool, DbError> {
        let updated = diesel::update(
            sales_files::table
                .find(id)
                .filter(sales_files::status.eq(from)),
        )
        .set(change)
        .execute(conn)?;
        Ok(updated == 1)
    }

    /// A page of an organisation's files, newest first, optionally in one
    /// status and reporting period; with the total.
    pub fn list(
        conn: &mut DbConnection,
        organisation_id: i64,
        filter: &ListFilter<'_>,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<SalesFile>, i64), DbError> {
        let filtered = || {
            let mut query = sales_files::table
                .filter(sales_files::organisation_id.eq(organisation_id))
                .into_boxed();
            if let Some(status) = filter.status {
                query = query.filter(sales_files::status.eq(status.to_owned()));
            }
            if let Some(period) = filter.period {
                query = query.filter(sales_files::reporting_period.eq(period.to_owned()));
            }
            match filter.duplicate {
                Some(true) => query = query.filter(sales_files::duplicate_of.is_not_null()),
                Some(false) => query = query.filter(sales_files::duplicate_of.is_null()),
                None => {}
            }
            query
        };
        // The total comes with the page (a window over the filtered rows,
        // on both engines), so a page is one query.
        let rows: Vec<(SalesFile, i64)> = filtered()
            .order(sales_files::id.desc())
            .offset(offset)
            .limit(limit)
            .select((
                SalesFile::as_select(),
                diesel::dsl::sql::<diesel::sql_types::BigInt>("COUNT(*) OVER ()"),
            ))
            .load(conn)?;
        let total = match rows.first() {
            Some((_, total)) => *total,
            // Past the end: counted apart.
            None => filtered().count().get_result(conn)?,
        };
        Ok((rows.into_iter().map(|(file, _)| file).collect(), total))
    }

    /// Deletes the file; its copies no longer name it.
    pub fn delete(conn: &mut DbConnection, id: i64) -> Result<(), DbError> {
        conn.write_transaction(|conn| {
            diesel::update(sales_files::table.filter(sales_files::duplicate_of.eq(id)))
                .set(sales_files::duplicate_of.eq(None::<i64>))
                .execute(conn)?;
            diesel::delete(sales_files::table.find(id)).execute(conn)?;
            Ok(())
        })
    }

    /// The files of these ids that exist.
    pub fn many(conn: &mut DbConnection, ids: &[i64]) -> Result<Vec<SalesFile>, DbError> {
        let mut found = Vec::with_capacity(ids.len());
        // In chunks: a statement's parameters are limited.
        for chunk in ids.chunks(500) {
            found.extend(
                sales_files::table
                    .filter(sales_files::id.eq_any(chunk))
                    .select(SalesFile::as_select())
                    .load(conn)?,
            );
        }
        Ok(found)
    }

    /// The files expanded from an archive.
    pub fn children(conn: &mut DbConnection, parent: i64) -> Result<Vec<SalesFile>, DbError> {
        Ok(sales_files::table
            .filter(sales_files::parent_id.eq(parent))
            .order(sales_files::id.asc())
            .select(SalesFile::as_select())
            .load(conn)?)
    }

    /// Another file of the organisation with the same content that has not
    /// failed, if any.
    pub fn same_content(
        conn: &mut DbConnection,
        organisation_id: i64,
        content_hash: &str,
        except: i64,
    ) -> Result<Option<SalesFile>, DbError> {
        Ok(sales_files::table
            .filter(sales_files::organisation_id.eq(organisation_id))
            .filter(sales_files::content_hash.eq(content_hash))
            .filter(sales_files::id.ne(except))
            .filter(sales_files::status.ne("FAILED"))
            .order(sales_files::id.asc())
            .select(SalesFile::as_select())
            .first(conn)
            .optional()?)
    }

    /// Another live file of the organisation whose last import read the
    /// same lines, if any (the oldest).
    pub fn same_lines(
        conn: &mut DbConnection,
        organisation_id: i64,
        lines_hash: &str,
        except: i64,
    ) -> Result<Option<SalesFile>, DbError> {
        Ok(sales_files::table
            .filter(sales_files::organisation_id.eq(organisation_id))
            .filter(sales_files::lines_hash.eq(lines_hash))
            .filter(sales_files::id.ne(except))
            .filter(sales_files::status.ne("FAILED"))
            .order(sales_files::id.asc())
            .select(SalesFile::as_select())
            .first(conn)
            .optional()?)
    }
}
