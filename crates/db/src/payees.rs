//! Payees: whom an organisation pays royalties to.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::payees;
use crate::{DbConnection, DbError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = payees)]
pub struct Payee {
    pub id: i64,
    pub organisation_id: i64,
    pub name: String,
    pub email: String,
    pub address: String,
    pub tax_id: String,
    pub currency: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = payees)]
pub struct NewPayee<'a> {
    pub organisation_id: i64,
    pub name: &'a str,
    pub email: &'a str,
    pub address: &'a str,
    pub tax_id: &'a str,
    pub currency: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = payees)]
pub struct PayeeChanges {
    pub name: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub tax_id: Option<String>,
    pub currency: Option<String>,
    pub updated_at: Option<NaiveDateTime>,
}

impl Payee {
    pub fn insert(conn: &mut DbConnection, new: &NewPayee<'_>) -> Result<Payee, DbError> {
        let id: i64 = diesel::insert_into(payees::table)
            .values(new)
            .returning(payees::id)
            .get_result(conn)?;
        Self::find(conn, id)
    }

    pub fn find(conn: &mut DbConnection, id: i64) -> Result<Payee, DbError> {
        Ok(payees::table
            .find(id)
            .select(Payee::as_select())
            .first(conn)?)
    }

    /// A page of the organisation's payees by name, and how many match
    /// `search` (in the name or email) if given.
    pub fn page(
        conn: &mut DbConnection,
        organisation_id: i64,
        search: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<Payee>, i64), DbError> {
        let filtered = || {
            let mut query = payees::table
                .filter(payees::organisation_id.eq(organisation_id))
                .into_boxed();
            if let Some(search) = search {
                let pattern = crate::sql::contains_pattern(search);
                query = query.filter(
                    crate::sql::lower(payees::name)
                        .like(pattern.clone())
                        .escape('\\')
                        .or(crate::sql::lower(payees::email).like(pattern).escape('\\')),
                );
            }
            query
        };
        let total = filtered().count().get_result(conn)?;
        let rows = filtered()
            .order((crate::sql::lower(payees::name), payees::id))
            .offset(offset)
            .limit(limit)
            .select(Payee::as_select())
            .load(conn)?;
        Ok((rows, total))
    }

    pub fn update(
        conn: &mut DbConnection,
        id: i64,
        changes: &PayeeChanges,
    ) -> Result<Payee, DbError> {
        diesel::update(payees::table.find(id))
            .set(changes)
            .execute(conn)?;
        Self::find(conn, id)
    }

    pub fn delete(conn: &mut DbConnection, id: i64) -> Result<(), DbError> {
        diesel::delete(payees::table.find(id)).execute(conn)?;
        Ok(())
    }
}
