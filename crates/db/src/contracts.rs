//! Royalty contracts, their versions and their costs. A version's terms
//! are a JSON document the gateway checks and the statement module reads;
//! a version is written once and never changed.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{contract_costs, contract_versions, contracts};
use crate::{DbConnection, DbError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = contracts)]
pub struct Contract {
    pub id: i64,
    pub organisation_id: i64,
    pub name: String,
    /// The current version.
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = contract_versions)]
pub struct ContractVersion {
    pub contract_id: i64,
    pub version: i64,
    /// The terms, as JSON.
    pub body: String,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = contracts)]
struct NewContract<'a> {
    organisation_id: i64,
    name: &'a str,
    version: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl Contract {
    /// A contract at version 1 with `body`.
    pub fn insert(
        conn: &mut DbConnection,
        organisation_id: i64,
        name: &str,
        body: &str,
        created_by: Option<i64>,
        now: NaiveDateTime,
    ) -> Result<(Contract, ContractVersion), DbError> {
        conn.write_transaction(|conn| {
            let id: i64 = diesel::insert_into(contracts::table)
                .values(&NewContract {
                    organisation_id,
                    name,
                    version: 1,
                    created_at: now,
                    updated_at: now,
                })
                .returning(contracts::id)
                .get_result(conn)?;
            let version = ContractVersion {
                contract_id: id,
                version: 1,
                body: body.to_owned(),
                created_by,
                created_at: now,
            };
            diesel::insert_into(contract_versions::table)
                .values(&version)
                .execute(conn)?;
            Ok((Self::find(conn, id)?, version))
        })
    }

    pub fn find(conn: &mut DbConnection, id: i64) -> Result<Contract, DbError> {
        Ok(contracts::table
            .find(id)
            .select(Contract::as_select())
            .first(conn)?)
    }

    /// The contract's version `version`.
    pub fn version(
        conn: &mut DbConnection,
        id: i64,
        version: i64,
    ) -> Result<ContractVersion, DbError> {
        Ok(contract_versions::table
            .find((id, version))
            .select(ContractVersion::as_select())
            .first(conn)?)
    }

    /// A new version of the contract, if it is still at `from` (else
    /// `DbError::Conflict`: someone changed it meanwhile).
    pub fn revise(
        conn: &mut DbConnection,
        id: i64,
        from: i64,
        name: &str,
        body: &str,
        created_by: Option<i64>,
        now: NaiveDateTime,
    ) -> Result<(Contract, ContractVersion), DbError> {
        conn.write_transaction(|conn| {
            let moved = diesel::update(
                contracts::table
                    .filter(contracts::id.eq(id))
                    .filter(contracts::version.eq(from)),
            )
            .set((
                contracts::version.eq(from + 1),
                contracts::name.eq(name),
                contracts::updated_at.eq(now),
            ))
            .execute(conn)?;
            if moved != 1 {
                return Err(DbError::Conflict(
                    "The contract was changed meanwhile: read it again.".into(),
                ));
            }
            let version = ContractVersion {
                contract_id: id,
                version: from + 1,
                body: body.to_owned(),
                created_by,
                created_at: now,
            };
            diesel::insert_into(contract_versions::table)
                .values(&version)
                .execute(conn)?;
            Ok((Self::find(conn, id)?, version))
        })
    }

    /// A page of the organisation's contracts with their current
    /// versions, by name; and how many there are.
    pub fn page(
        conn: &mut DbConnection,
        organisation_id: i64,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<(Contract, ContractVersion)>, i64), DbError> {
        let total = contracts::table
            .filter(contracts::organisation_id.eq(organisation_id))
            .count()
            .get_result(conn)?;
        let rows: Vec<Contract> = contracts::table
            .filter(contracts::organisation_id.eq(organisation_id))
            .order((crate::sql::lower(contracts::name), contracts::id))
            .offset(offset)
            .limit(limit)
            .select(Contract::as_select())
            .load(conn)?;
        let mut page = Vec::with_capacity(rows.len());
        for contract in rows {
            let version = Self::version(conn, contract.id, contract.version)?;
            page.push((contract, version));
        }
        Ok((page, total))
    }

    /// The current versions of every contract of the organisation.
    pub fn current(
        conn: &mut DbConnection,
        organisation_id: i64,
    ) -> Result<Vec<(Contract, ContractVersion)>, DbError> {
        let rows: Vec<Contract> = contracts::table
            .filter(contracts::organisation_id.eq(organisation_id))
            .order(contracts::id)
            .select(Contract::as_select())
            .load(conn)?;
        rows.into_iter()
            .map(|c| {
                let version = Self::version(conn, c.id, c.version)?;
                Ok((c, version))
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = contract_costs)]
pub struct ContractCost {
    pub id: i64,
    pub organisation_id: i64,
    pub contract_id: i64,
    pub kind: String,
    pub description: String,
    pub amount: String,
    pub currency: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub recoupable: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = contract_costs)]
pub struct NewContractCost<'a> {
    pub organisation_id: i64,
    pub contract_id: i64,
    pub kind: &'a str,
    pub description: &'a str,
    pub amount: &'a str,
    pub currency: &'a str,
    pub date: &'a str,
    pub recoupable: &'a str,
    pub created_at: NaiveDateTime,
}

impl ContractCost {
    pub fn insert(
        conn: &mut DbConnection,
        new: &NewContractCost<'_>,
    ) -> Result<ContractCost, DbError> {
        let id: i64 = diesel::insert_into(contract_costs::table)
            .values(new)
            .returning(contract_costs::id)
            .get_result(conn)?;
        Ok(contract_costs::table
            .find(id)
            .select(ContractCost::as_select())
            .first(conn)?)
    }

    /// Every cost of a contract, in date order.
    pub fn all_of(conn: &mut DbConnection, contract_id: i64) -> Result<Vec<ContractCost>, DbError> {
        Ok(contract_costs::table
            .filter(contract_costs::contract_id.eq(contract_id))
            .order((contract_costs::date, contract_costs::id))
            .select(ContractCost::as_select())
            .load(conn)?)
    }

    /// A page of a contract's costs in date order, and how many there are.
    pub fn page(
        conn: &mut DbConnection,
        contract_id: i64,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<ContractCost>, i64), DbError> {
        let total = contract_costs::table
            .filter(contract_costs::contract_id.eq(contract_id))
            .count()
            .get_result(conn)?;
        let rows = contract_costs::table
            .filter(contract_costs::contract_id.eq(contract_id))
            .order((contract_costs::date, contract_costs::id))
            .offset(offset)
            .limit(limit)
            .select(ContractCost::as_select())
            .load(conn)?;
        Ok((rows, total))
    }
}
