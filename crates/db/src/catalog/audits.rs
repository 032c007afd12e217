//! Catalog audits: their status, counts and findings file.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::catalog_audits;
use crate::{DbConnection, DbError};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = catalog_audits)]
pub struct CatalogAuditRecord {
    pub id: i64,
    pub organisation_id: i64,
    pub period_from: Option<String>,
    pub period_to: Option<String>,
    pub status: String,
    pub status_cause: Option<String>,
    pub counts: Option<String>,
    pub findings: Option<i64>,
    pub revenue_at_stake: Option<String>,
    pub result_key: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = catalog_audits)]
pub struct NewCatalogAudit<'a> {
    pub organisation_id: i64,
    pub period_from: Option<&'a str>,
    pub period_to: Option<&'a str>,
    pub status: &'a str,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What an audit's end writes.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = catalog_audits)]
pub struct CatalogAuditChange {
    pub status: Option<String>,
    pub status_cause: Option<Option<String>>,
    pub counts: Option<Option<String>>,
    pub findings: Option<Option<i64>>,
    pub revenue_at_stake: Option<Option<String>>,
    pub result_key: Option<Option<String>>,
    pub updated_at: Option<NaiveDateTime>,
}

impl CatalogAuditRecord {
    pub fn insert(conn: &mut DbConnection, new: &NewCatalogAudit<'_>) -> Result<Self, DbError> {
        let id: i64 = diesel::insert_into(catalog_audits::table)
            .values(new)
            .returning(catalog_audits::id)
            .get_result(conn)?;
        Self::find(conn, id)
    }

    pub fn find(conn: &mut DbConnection, id: i64) -> Result<Self, DbError> {
        Ok(catalog_audits::table
            .find(id)
            .select(CatalogAuditRecord::as_select())
            .first(conn)?)
    }

    /// Applies `change` if the audit is still `from`; `false` if it moved on.
    pub fn transition(
        conn: &mut DbConnection,
        id: i64,
        from: &str,
        change: &CatalogAuditChange,
    ) -> Result<bool, DbError> {
        let changed = diesel::update(
            catalog_audits::table
                .filter(catalog_audits::id.eq(id))
                .filter(catalog_audits::status.eq(from)),
        )
        .set(change)
        .execute(conn)?;
        Ok(changed == 1)
    }
}
