//! Statements of account: their lifecycle (PENDING while the statement
//! module calculates them, then DRAFT, APPROVED, SENT; or FAILED), their
//! figures, and what each recouped of a contract's costs.
//! An approved or sent statement is never written again: every change
//! goes through [`StatementRecord::transition`], which only moves a
//! statement from the status it is expected to be in.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{statement_recoupments, statements};
use crate::{DbConnection, DbError};

pub const PENDING: &str = "PENDING";
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
    pub contract_version: Option<Option<i64>>,
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

/// Whose statements: a contract's payee, or the artist or label of a
/// sales statement (`artist:<name>`, `label:<name>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountOf<'a> {
    Payee { contract: i64, payee: i64 },
    Subject(&'a str),
}

/// Which statements a page lists.
#[derive(Debug, Clone, Default)]
pub struct StatementFilter {
    pub payee: Option<i64>,
    pub contract: Option<i64>,
    pub status: Option<String>,
    /// A month `YYYY-MM` the period holds.
    pub period: Option<String>,
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

    /// A pending statement's figures (the change makes it a DRAFT) and
    /// what it recouped of each cost, replacing any earlier calculation,
    /// in one transaction; `false` (nothing written) if it is no longer
    /// pending.
    pub fn calculated(
        conn: &mut DbConnection,
        id: i64,
        change: &StatementChange,
        recouped: &[(i64, String)],
    ) -> Result<bool, DbError> {
        conn.write_transaction(|conn| {
            if !Self::transition(conn, id, PENDING, change)? {
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
    /// cost, as they stored it (exact decimal text, one row a statement):
    /// a statement an approved correction superseded counts no more, nor
    /// does `correcting` (the one a correction being calculated replaces).
    pub fn recouped_before(
        conn: &mut DbConnection,
        contract_id: i64,
        payee_id: i64,
        correcting: Option<i64>,
    ) -> Result<Vec<(i64, String)>, DbError> {
        let mut replaced: Vec<i64> = statements::table
            .filter(statements::contract_id.eq(contract_id))
            .filter(statements::payee_id.eq(payee_id))
            .filter(statements::status.eq_any([APPROVED, SENT]))
            .filter(statements::supersedes.is_not_null())
            .select(statements::supersedes.assume_not_null())
            .load(conn)?;
        replaced.extend(correcting);
        Ok(statement_recoupments::table
            .inner_join(statements::table)
            .filter(statements::contract_id.eq(contract_id))
            .filter(statements::payee_id.eq(payee_id))
            .filter(statements::status.eq_any([APPROVED, SENT]))
            .filter(statements::id.ne_all(replaced))
            .select((
                statement_recoupments::cost_id,
                statement_recoupments::amount,
            ))
            .load(conn)?)
    }

    /// Records the run calculating statements `ids`.
    pub fn set_job(conn: &mut DbConnection, ids: &[i64], job_id: &str) -> Result<(), DbError> {
        diesel::update(statements::table.filter(statements::id.eq_any(ids)))
            .set(statements::job_id.eq(job_id))
            .execute(conn)?;
        Ok(())
    }

    /// How many statements name payee `payee_id`.
    pub fn count_for_payee(conn: &mut DbConnection, payee_id: i64) -> Result<i64, DbError> {
        Ok(statements::table
            .filter(statements::payee_id.eq(payee_id))
            .count()
            .get_result(conn)?)
    }

    /// Statements `ids` (those that exist), by id.
    pub fn many(conn: &mut DbConnection, ids: &[i64]) -> Result<Vec<Self>, DbError> {
        Ok(statements::table
            .filter(statements::id.eq_any(ids))
            .order(statements::id)
            .select(StatementRecord::as_select())
            .load(conn)?)
    }

    /// The statements of one account (a contract's payee, or a sales
    /// statement's subject) for exactly the period `from` to `to`, newest
    /// first.
    pub fn of_account(
        conn: &mut DbConnection,
        organisation_id: i64,
        account: &AccountOf<'_>,
        from: &str,
        to: &str,
    ) -> Result<Vec<Self>, DbError> {
        let mut query = statements::table
            .filter(statements::organisation_id.eq(organisation_id))
            .filter(statements::period_from.eq(from.to_owned()))
            .filter(statements::period_to.eq(to.to_owned()))
            .into_boxed();
        query = match account {
            AccountOf::Payee { contract, payee } => query
                .filter(statements::contract_id.eq(*contract))
                .filter(statements::payee_id.eq(*payee)),
            AccountOf::Subject(subject) => query
                .filter(statements::contract_id.is_null())
                .filter(statements::subject.eq(subject.to_string())),
        };
        Ok(query
            .order(statements::id.desc())
            .select(StatementRecord::as_select())
            .load(conn)?)
    }

    /// An approved (or sent) statement of `payee` under `contract` whose
    /// period overlaps `from` to `to` without being it: those months are
    /// accounted for already.
    pub fn overlapping_approved(
        conn: &mut DbConnection,
        contract_id: i64,
        payee_id: i64,
        from: &str,
        to: &str,
    ) -> Result<Option<Self>, DbError> {
        let (from, to) = (from.to_owned(), to.to_owned());
        Ok(statements::table
            .filter(statements::contract_id.eq(contract_id))
            .filter(statements::payee_id.eq(payee_id))
            .filter(statements::status.eq_any([APPROVED, SENT]))
            .filter(statements::period_from.le(to.clone()))
            .filter(statements::period_to.ge(from.clone()))
            .filter(
                statements::period_from
                    .ne(from)
                    .or(statements::period_to.ne(to)),
            )
            .select(StatementRecord::as_select())
            .first(conn)
            .optional()?)
    }

    /// A page of the organisation's statements, newest first, and how
    /// many match.
    pub fn page(
        conn: &mut DbConnection,
        organisation_id: i64,
        filter: &StatementFilter,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<Self>, i64), DbError> {
        let query = || {
            let mut query = statements::table
                .filter(statements::organisation_id.eq(organisation_id))
                .into_boxed();
            if let Some(payee) = filter.payee {
                query = query.filter(statements::payee_id.eq(payee));
            }
            if let Some(contract) = filter.contract {
                query = query.filter(statements::contract_id.eq(contract));
            }
            if let Some(status) = &filter.status {
                query = query.filter(statements::status.eq(status.clone()));
            }
            if let Some(month) = &filter.period {
                query = query
                    .filter(statements::period_from.le(month.clone()))
                    .filter(statements::period_to.ge(month.clone()));
            }
            query
        };
        let total: i64 = query().count().get_result(conn)?;
        let rows = query()
            .order(statements::id.desc())
            .offset(offset)
            .limit(limit)
            .select(StatementRecord::as_select())
            .load(conn)?;
        Ok((rows, total))
    }

    /// How many of the organisation's statements of periods within `from`
    /// to `to` (any when not given) are in each status.
    pub fn counts(
        conn: &mut DbConnection,
        organisation_id: i64,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Vec<(String, i64)>, DbError> {
        let mut query = statements::table
            .filter(statements::organisation_id.eq(organisation_id))
            .into_boxed();
        if let Some(from) = from {
            query = query.filter(statements::period_to.ge(from.to_owned()));
        }
        if let Some(to) = to {
            query = query.filter(statements::period_from.le(to.to_owned()));
        }
        let statuses: Vec<String> = query.select(statements::status).load(conn)?;
        let mut counts: std::collections::BTreeMap<String, i64> = Default::default();
        for status in statuses {
            *counts.entry(status).or_default() += 1;
        }
        Ok(counts.into_iter().collect())
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
