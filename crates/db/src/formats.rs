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

/// A built-in format as the binary carries it (`oas_sales::format::builtin`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltinFormat {
    pub slug: String,
    pub name: String,
    pub source: String,
    pub spec: String,
}

impl FormatRecord {
    /// Makes the built-in rows exactly `builtins`, in their order: a
    /// changed one is rewritten in place (its id, which organisations'
    /// files do not reference, is kept), a new one added, one no longer
    /// built in removed. Run at every start after the migrations, so the
    /// built-ins are always those of the running binary; the migration
    /// that first seeded them is history.
    pub fn sync_builtins(
        conn: &mut DbConnection,
        builtins: &[BuiltinFormat],
        at: NaiveDateTime,
    ) -> Result<usize, DbError> {
        conn.write_transaction(|conn| {
            let stored: Vec<FormatRecord> = formats::table
                .filter(formats::organisation_id.is_null())
                .order(formats::id.asc())
                .select(FormatRecord::as_select())
                .load(conn)?;
            // Built-ins are listed by id: a sync that only appended would
            // keep a moved format in its old place, so stored rows are
            // reused in order and the rest written anew.
            let mut changed = 0;
            for (index, builtin) in builtins.iter().enumerate() {
                match stored.get(index) {
                    Some(row)
                        if row.slug == builtin.slug
                            && row.name == builtin.name
                            && row.source == builtin.source
                            && row.spec == builtin.spec => {}
                    Some(row) => {
                        diesel::update(formats::table.find(row.id))
                            .set((
                                formats::slug.eq(&builtin.slug),
                                formats::name.eq(&builtin.name),
                                formats::source.eq(&builtin.source),
                                formats::spec.eq(&builtin.spec),
                                formats::updated_at.eq(at),
                            ))
                            .execute(conn)?;
                        changed += 1;
                    }
                    None => {
                        diesel::insert_into(formats::table)
                            .values(&NewFormat {
                                organisation_id: None,
                                slug: &builtin.slug,
                                name: &builtin.name,
                                source: &builtin.source,
                                spec: &builtin.spec,
                                created_at: at,
                                updated_at: at,
                            })
                            .execute(conn)?;
                        changed += 1;
                    }
                }
            }
            for row in stored.iter().skip(builtins.len()) {
                diesel::delete(formats::table.find(row.id)).execute(conn)?;
                changed += 1;
            }
            Ok(changed)
        })
    }

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
        conn.write_transaction(|conn| {
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
