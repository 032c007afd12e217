//! Report formats: the built-ins (no organisation) and each organisation's
//! own. The format itself is JSON text (`oas_sales::format::FormatSpec`);
//! slug, name and source are copied out for listing.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::formats;
use crate::{DbConnection, DbError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = formats)]
pub struct FormatRecord {
    pub id: i64,
    pub organisation_id: Option<i64>,
    pub slug: String,
    pub name: String,
    pub source: String,
    pub spec: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = formats)]
pub struct NewFormat<'a> {
    pub organisation_id: Option<i64>,
    pub slug: &'a str,
    pub name: &'a str,
    pub source: &'a str,
    pub spec: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl FormatRecord {
    /// The formats an organisation's files are matched against: its own
    /// first (newest first), then the built-ins it has not replaced with a
    /// format of the same slug, in seeding order.
    pub fn usable_by(
        conn: &mut DbConnection,
        organisation_id: i64,
    ) -> Result<Vec<FormatRecord>, DbError> {
        let mut own: Vec<FormatRecord> = formats::table
            .filter(formats::organisation_id.eq(organisation_id))
            .order(formats::id.desc())
            .select(FormatRecord::as_select())
            .load(conn)?;
        let builtin: Vec<FormatRecord> = formats::table
            .filter(formats::organisation_id.is_null())
            .order(formats::id.asc())
            .select(FormatRecord::as_select())
            .load(conn)?;
        let replaced: Vec<String> = own.iter().map(|f| f.slug.clone()).collect();
        own.extend(builtin.into_iter().filter(|f| !replaced.contains(&f.slug)));
        Ok(own)
    }

    pub fn find(conn: &mut DbConnection, id: i64) -> Result<FormatRecord, DbError> {
        Ok(formats::table
            .find(id)
            .select(FormatRecord::as_select())
            .first(conn)?)
    }

    /// The organisation's own format with `slug`, if any.
    pub fn find_own(
        conn: &mut DbConnection,
        organisation_id: i64,
        slug: &str,
    ) -> Result<Option<FormatRecord>, DbError> {
        Ok(formats::table
            .filter(formats::organisation_id.eq(organisation_id))
            .filter(formats::slug.eq(slug))
            .select(FormatRecord::as_select())
            .first(conn)
            .optional()?)
    }

    pub fn insert(conn: &mut DbConnection, new: &NewFormat<'_>) -> Result<FormatRecord, DbError> {
        conn.transaction(|conn| {
            let id: i64 = diesel::insert_into(formats::table)
                .values(new)
                .returning(formats::id)
                .get_result(conn)?;
            Self::find(conn, id)
        })
    }

    /// Replaces an organisation's own format.
    pub fn update(
        conn: &mut DbConnection,
        id: i64,
        slug: &str,
        name: &str,
        source: &str,
        spec: &str,
        at: NaiveDateTime,
    ) -> Result<FormatRecord, DbError> {
        diesel::update(formats::table.find(id))
            .set((
                formats::slug.eq(slug),
                formats::name.eq(name),
                formats::source.eq(source),
                formats::spec.eq(spec),
                formats::updated_at.eq(at),
            ))
            .execute(conn)?;
        Self::find(conn, id)
    }
}
