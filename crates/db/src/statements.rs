//! Statements of account: their lifecycle (DRAFT, APPROVED, SENT,
//! FAILED), their figures, and what each recouped of a contract's costs.
//! An approved or sent statement is never written again: every change
//! goes through [`StatementRecord::transition`], which only moves a
//! statement from the status it is expected to be in.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{statement_recoupments, statements};
use crate::{DbConnection, DbError};

pub const DRAFT: &str = "DRAFT";
pub const APPROVED: &str = "APPROVED";
pub const SENT: &str = "SENT";
pub const FAILED: &str = "FAILED";

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = statements)]
pub struct StatementRecord {
    pub id: i64,
    pub organisation_id: i64,
    pub contract_id: Option<i64>,
    pub contract_version: Option<i64>,
    pub payee_id: Option<i64>,
    /// A plain sales statement's artist or label (`artist:<name>`).
    pub subject: Option<String>,
    pub period_from: String,
    pub period_to: String,
    pub currency: String,
    pub status: String,
    pub status_cause: Option<String>,
    pub opening_balance: Option<String>,
    pub earnings: Option<String>,
    pub costs_recouped: Option<String>,
    pub closing_balance: Option<String>,
    pub payable: Option<String>,
    pub carried_forward: Option<String>,
    /// Revenue in scope the statement could not attribute (lines not
    /// matched to the catalog).
    pub unattributed: Option<String>,
    pub line_count: Option<i64>,
    pub supersedes: Option<i64>,
    pub csv_key: Option<String>,
    pub pdf_key: Option<String>,
    pub job_id: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub approved_at: Option<NaiveDateTime>,
    pub sent_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = statements)]
pub struct NewStatement<'a> {
    pub organisation_id: i64,
    pub contract_id: Option<i64>,
    pub contract_version: Option<i64>,
    pub payee_id: Option<i64>,
    pub subject: Option<&'a str>,
    pub period_from: &'a str,
    pub period_to: &'a str,
    pub currency: &'a str,
    pub status: &'a str,
    pub supersedes: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What a statement's calculation, approval or sending writes.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = statements)]
pub struct StatementChange {
    pub status: Option<String>,
    pub status_cause: Option<Option<String>>,
    pub opening_balance: Option<Option<String>>,
    pub earnings: Option<Option<String>>,
    pub costs_recouped: Option<Option<String>>,
    pub closing_balance: Option<Option<String>>,
    pub payable: Option<Option<String>>,
    pub carried_forward: Option<Option<String>>,
    pub unattributed: Option<Option<String>>,
    pub line_count: Option<Option<i64>>,
    pub csv_key: Option<Option<String>>,
    pub pdf_key: Option<Option<String>>,
    pub job_id: Option<Option<String>>,
    pub updated_at: Option<NaiveDateTime>,
    pub approved_at: Option<Option<NaiveDateTime>>,
    pub sent_at: Option<Option<NaiveDateTime>>,
}

/// What a statement recouped of one cost.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = statement_recoupments)]
pub struct Recoupment {
    pub statement_id: i64,
    pub cost_id: i64,
    pub amount: String,
}

impl StatementRecord {
    pub fn insert(conn: &mut DbConnection, new: &NewStatement<'_>) -> Result<Self, DbError> {
        let id: i64 = diesel::insert_into(statements::table)
            .values(new)
            .returning(statements::id)
            .get_result(conn)?;
        Self::find(conn, id)
    }

    pub fn find(conn: &mut DbConnection, id: i64) -> Result<Self, DbError> {
        Ok(statements::table
            .find(id)
            .select(StatementRecord::as_select())
            .first(conn)?)
    }

    /// Applies `change` if the statement is still `from`; `false` if it
    /// is not (approved meanwhile, or in another status).
    pub fn transition(
        conn: &mut DbConnection,
        id: i64,
        from: &str,
        change: &StatementChange,
    ) -> Result<bool, DbError> {
        let changed = diesel::update(
            statements::table
                .filter(statements::id.eq(id))
                .filter(statements::status.eq(from)),
        )
        .set(change)
        .execute(conn)?;
        Ok(changed == 1)
    }

    /// A draft's figures and what it recouped of each cost, replacing its
    /// earlier calculation, in one transaction; `false` (nothing written)
    /// if it is no longer a draft.
    pub fn calculated(
        conn: &mut DbConnection,
        id: i64,
        change: &StatementChange,
        recouped: &[(i64, String)],
    ) -> Result<bool, DbError> {
        conn.transaction(|conn| {
            if !Self::transition(conn, id, DRAFT, change)? {
                return Ok(false);
            }
            diesel::delete(
                statement_recoupments::table.filter(statement_recoupments::statement_id.eq(id)),
            )
            .execute(conn)?;
            for (cost_id, amount) in recouped {
                diesel::insert_into(statement_recoupments::table)
                    .values(&Recoupment {
                        statement_id: id,
                        cost_id: *cost_id,
                        amount: amount.clone(),
                    })
                    .execute(conn)?;
            }
            Ok(true)
        })
    }

    /// The last approved (or sent) statement of `payee_id` under
    /// `contract_id` ending before `period_from`: the one the next opens
    /// from.
    pub fn previous_approved(
        conn: &mut DbConnection,
        contract_id: i64,
        payee_id: i64,
        period_from: &str,
    ) -> Result<Option<Self>, DbError> {
        Ok(statements::table
            .filter(statements::contract_id.eq(contract_id))
            .filter(statements::payee_id.eq(payee_id))
            .filter(statements::status.eq_any([APPROVED, SENT]))
            .filter(statements::period_to.lt(period_from.to_owned()))
            .order((statements::period_to.desc(), statements::id.desc()))
            .select(StatementRecord::as_select())
            .first(conn)
            .optional()?)
    }

    /// What approved (or sent) statements of `payee_id` recouped of each
    /// cost, as they stored it (exact decimal text, one row a statement).
    pub fn recouped_before(
        conn: &mut DbConnection,
        contract_id: i64,
        payee_id: i64,
    ) -> Result<Vec<(i64, String)>, DbError> {
        Ok(statement_recoupments::table
            .inner_join(statements::table)
            .filter(statements::contract_id.eq(contract_id))
            .filter(statements::payee_id.eq(payee_id))
            .filter(statements::status.eq_any([APPROVED, SENT]))
            .select((
                statement_recoupments::cost_id,
                statement_recoupments::amount,
            ))
            .load(conn)?)
    }

    /// What a statement recouped, cost by cost.
    pub fn recoupments(conn: &mut DbConnection, id: i64) -> Result<Vec<Recoupment>, DbError> {
        Ok(statement_recoupments::table
            .filter(statement_recoupments::statement_id.eq(id))
            .order(statement_recoupments::cost_id)
            .select(Recoupment::as_select())
            .load(conn)?)
    }
}
