//! Organisations and what belongs to them: memberships with a role,
//! invitations by email, contacts, exchange rates.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{contacts, exchange_rates, invitations, memberships, organisations, users};
use crate::sql::lower;
use crate::users::User;
use crate::{DbConnection, DbError};

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = organisations)]
pub struct Organisation {
    pub id: i64,
    pub name: String,
    pub base_currency: String,
    /// JSON array of ISO 4217 codes.
    pub currencies: String,
    pub image: Option<String>,
    pub is_active: bool,
    /// JSON object of matching thresholds and report preferences.
    pub settings: String,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = organisations)]
pub struct NewOrganisation<'a> {
    pub name: &'a str,
    pub base_currency: &'a str,
    pub currencies: &'a str,
    pub image: Option<&'a str>,
    pub settings: &'a str,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, AsChangeset)]
#[diesel(table_name = organisations)]
pub struct OrganisationChanges {
    pub name: Option<String>,
    pub base_currency: Option<String>,
    pub currencies: Option<String>,
    pub image: Option<Option<String>>,
    pub is_active: Option<bool>,
    pub settings: Option<String>,
    pub updated_at: NaiveDateTime,
}

impl OrganisationChanges {
    pub fn at(updated_at: NaiveDateTime) -> Self {
        Self {
            name: None,
            base_currency: None,
            currencies: None,
            image: None,
            is_active: None,
            settings: None,
            updated_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = memberships)]
pub struct Membership {
    pub id: i64,
    pub organisation_id: i64,
    pub user_id: i64,
    pub role: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = memberships)]
pub struct NewMembership<'a> {
    pub organisation_id: i64,
    pub user_id: i64,
    pub role: &'a str,
    pub created_at: NaiveDateTime,
}

pub const MEMBERSHIP_KEY: &str = "memberships_organisation_user_key";

impl Organisation {
    /// Creates the organisation with `owner` as its first owner.
    pub fn create(
        conn: &mut DbConnection,
        new: &NewOrganisation<'_>,
        owner: i64,
        owner_role: &str,
    ) -> Result<Organisation, DbError> {
        conn.write_transaction(|conn| {
            let id: i64 = diesel::insert_into(organisations::table)
                .values(new)
                .returning(organisations::id)
                .get_result(conn)?;
            Membership::insert(
                conn,
                &NewMembership {
                    organisation_id: id,
                    user_id: owner,
                    role: owner_role,
                    created_at: new.created_at,
                },
            )?;
            Self::find(conn, id)
        })
    }

    pub fn find(conn: &mut DbConnection, id: i64) -> Result<Organisation, DbError> {
        Ok(organisations::table
            .find(id)
            .select(Organisation::as_select())
            .first(conn)?)
    }

    pub fn update(
        conn: &mut DbConnection,
        id: i64,
        changes: &OrganisationChanges,
    ) -> Result<Organisation, DbError> {
        let updated = diesel::update(organisations::table.find(id))
            .set(changes)
            .execute(conn)?;
        if updated == 0 {
            return Err(DbError::NotFound);
        }
        Self::find(conn, id)
    }

    /// A page of the organisations `user_id` belongs to, by name, with the
    /// caller's role in each, and the total.
    pub fn list_for_user(
        conn: &mut DbConnection,
        user_id: i64,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<(Organisation, String)>, i64), DbError> {
        let mine = || {
            organisations::table
                .inner_join(memberships::table)
                .filter(memberships::user_id.eq(user_id))
        };
        let total = mine().count().get_result(conn)?;
        let page = mine()
            .order((lower(organisations::name), organisations::id))
            .offset(offset)
            .limit(limit)
            .select((Organisation::as_select(), memberships::role))
            .load(conn)?;
        Ok((page, total))
    }

    /// The first owner: the one the API shows as `owner`.
    pub fn owner(
        conn: &mut DbConnection,
        id: i64,
        owner_role: &str,
    ) -> Result<Option<User>, DbError> {
        Ok(memberships::table
            .inner_join(users::table)
            .filter(memberships::organisation_id.eq(id))
            .filter(memberships::role.eq(owner_role))
            .order(memberships::id)
            .select(User::as_select())
            .first(conn)
            .optional()?)
    }
}

impl Membership {
    pub fn insert(conn: &mut DbConnection, new: &NewMembership<'_>) -> Result<Membership, DbError> {
        let id: i64 = diesel::insert_into(memberships::table)
            .values(new)
            .returning(memberships::id)
            .get_result(conn)?;
        Ok(memberships::table
            .find(id)
            .select(Membership::as_select())
            .first(conn)?)
    }

    /// An organisation and `user_id`'s membership of it, in one query:
    /// what authorising a request needs. `None` if there is no such
    /// organisation.
    pub fn organisation_for_user(
        conn: &mut DbConnection,
        organisation_id: i64,
        user_id: i64,
    ) -> Result<Option<(Organisation, Option<Membership>)>, DbError> {
        Ok(organisations::table
            .left_join(
                memberships::table.on(memberships::organisation_id
                    .eq(organisations::id)
                    .and(memberships::user_id.eq(user_id))),
            )
            .filter(organisations::id.eq(organisation_id))
            .select((Organisation::as_select(), Option::<Membership>::as_select()))
            .first(conn)
            .optional()?)
    }

    pub fn find_for_user(
        conn: &mut DbConnection,
        organisation_id: i64,
        user_id: i64,
    ) -> Result<Option<Membership>, DbError> {
        Ok(memberships::table
            .filter(memberships::organisation_id.eq(organisation_id))
            .filter(memberships::user_id.eq(user_id))
            .select(Membership::as_select())
            .first(conn)
            .optional()?)
    }

    /// One membership of the organisation, with its user.
    pub fn find(
        conn: &mut DbConnection,
        organisation_id: i64,
        id: i64,
    ) -> Result<(Membership, User), DbError> {
        Ok(memberships::table
            .inner_join(users::table)
            .filter(memberships::organisation_id.eq(organisation_id))
            .filter(memberships::id.eq(id))
            .select((Membership::as_select(), User::as_select()))
            .first(conn)?)
    }

    pub fn list(
        conn: &mut DbConnection,
        organisation_id: i64,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<(Membership, User)>, i64), DbError> {
        let of_org = || {
            memberships::table
                .inner_join(users::table)
                .filter(memberships::organisation_id.eq(organisation_id))
        };
        let total = of_org().count().get_result(conn)?;
        let page = of_org()
            .order(memberships::id)
            .offset(offset)
            .limit(limit)
            .select((Membership::as_select(), User::as_select()))
            .load(conn)?;
        Ok((page, total))
    }

    pub fn count_with_role(
        conn: &mut DbConnection,
        organisation_id: i64,
        role: &str,
    ) -> Result<i64, DbError> {
        Ok(memberships::table
            .filter(memberships::organisation_id.eq(organisation_id))
            .filter(memberships::role.eq(role))
            .count()
            .get_result(conn)?)
    }

    pub fn set_role(conn: &mut DbConnection, id: i64, role: &str) -> Result<(), DbError> {
        diesel::update(memberships::table.find(id))
            .set(memberships::role.eq(role))
            .execute(conn)?;
        Ok(())
    }

    pub fn delete(conn: &mut DbConnection, id: i64) -> Result<(), DbError> {
        diesel::delete(memberships::table.find(id)).execute(conn)?;
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = invitations)]
pub struct Invitation {
    pub id: i64,
    pub organisation_id: i64,
    pub email: String,
    pub role: String,
    pub invited_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub accepted_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = invitations)]
pub struct NewInvitation<'a> {
    pub organisation_id: i64,
    pub email: &'a str,
    pub role: &'a str,
    pub invited_by: Option<i64>,
    pub created_at: NaiveDateTime,
}

pub const INVITATION_KEY: &str = "invitations_organisation_email_key";

impl Invitation {
    pub fn insert(conn: &mut DbConnection, new: &NewInvitation<'_>) -> Result<Invitation, DbError> {
        let id: i64 = diesel::insert_into(invitations::table)
            .values(new)
            .returning(invitations::id)
            .get_result(conn)?;
        Ok(invitations::table
            .find(id)
            .select(Invitation::as_select())
            .first(conn)?)
    }

    pub fn list_pending(
        conn: &mut DbConnection,
        organisation_id: i64,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<Invitation>, i64), DbError> {
        let pending = || {
            invitations::table
                .filter(invitations::organisation_id.eq(organisation_id))
                .filter(invitations::accepted_at.is_null())
        };
        let total = pending().count().get_result(conn)?;
        let page = pending()
            .order(invitations::id)
            .offset(offset)
            .limit(limit)
            .select(Invitation::as_select())
            .load(conn)?;
        Ok((page, total))
    }

    pub fn delete(conn: &mut DbConnection, organisation_id: i64, id: i64) -> Result<(), DbError> {
        let deleted = diesel::delete(
            invitations::table
                .filter(invitations::organisation_id.eq(organisation_id))
                .filter(invitations::id.eq(id))
                .filter(invitations::accepted_at.is_null()),
        )
        .execute(conn)?;
        if deleted == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }

    /// Turns every pending invitation for `email` into a membership of `user_id`.
    pub fn accept_all(
        conn: &mut DbConnection,
        email: &str,
        user_id: i64,
        at: NaiveDateTime,
    ) -> Result<usize, DbError> {
        let pending: Vec<Invitation> = invitations::table
            .filter(lower(invitations::email).eq(email.to_lowercase()))
            .filter(invitations::accepted_at.is_null())
            .select(Invitation::as_select())
            .load(conn)?;
        for invitation in &pending {
            if Membership::find_for_user(conn, invitation.organisation_id, user_id)?.is_none() {
                Membership::insert(
                    conn,
                    &NewMembership {
                        organisation_id: invitation.organisation_id,
                        user_id,
                        role: &invitation.role,
                        created_at: at,
                    },
                )?;
            }
            diesel::update(invitations::table.find(invitation.id))
                .set(invitations::accepted_at.eq(Some(at)))
                .execute(conn)?;
        }
        Ok(pending.len())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = contacts)]
pub struct Contact {
    pub id: i64,
    pub organisation_id: i64,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub role: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = contacts)]
pub struct NewContact<'a> {
    pub organisation_id: i64,
    pub name: &'a str,
    pub email: &'a str,
    pub phone: &'a str,
    pub role: &'a str,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = contacts)]
pub struct ContactChanges {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub role: Option<String>,
}

impl Contact {
    pub fn insert(conn: &mut DbConnection, new: &NewContact<'_>) -> Result<Contact, DbError> {
        let id: i64 = diesel::insert_into(contacts::table)
            .values(new)
            .returning(contacts::id)
            .get_result(conn)?;
        Self::find(conn, new.organisation_id, id)
    }

    pub fn find(
        conn: &mut DbConnection,
        organisation_id: i64,
        id: i64,
    ) -> Result<Contact, DbError> {
        Ok(contacts::table
            .filter(contacts::organisation_id.eq(organisation_id))
            .filter(contacts::id.eq(id))
            .select(Contact::as_select())
            .first(conn)?)
    }

    pub fn list(
        conn: &mut DbConnection,
        organisation_id: i64,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<Contact>, i64), DbError> {
        let of_org = || contacts::table.filter(contacts::organisation_id.eq(organisation_id));
        let total = of_org().count().get_result(conn)?;
        let page = of_org()
            .order(contacts::id)
            .offset(offset)
            .limit(limit)
            .select(Contact::as_select())
            .load(conn)?;
        Ok((page, total))
    }

    pub fn update(
        conn: &mut DbConnection,
        organisation_id: i64,
        id: i64,
        changes: &ContactChanges,
    ) -> Result<Contact, DbError> {
        if changes.name.is_some()
            || changes.email.is_some()
            || changes.phone.is_some()
            || changes.role.is_some()
        {
            let updated = diesel::update(
                contacts::table
                    .filter(contacts::organisation_id.eq(organisation_id))
                    .filter(contacts::id.eq(id)),
            )
            .set(changes)
            .execute(conn)?;
            if updated == 0 {
                return Err(DbError::NotFound);
            }
        }
        Self::find(conn, organisation_id, id)
    }

    pub fn delete(conn: &mut DbConnection, organisation_id: i64, id: i64) -> Result<(), DbError> {
        let deleted = diesel::delete(
            contacts::table
                .filter(contacts::organisation_id.eq(organisation_id))
                .filter(contacts::id.eq(id)),
        )
        .execute(conn)?;
        if deleted == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = exchange_rates)]
pub struct ExchangeRate {
    #[diesel(skip_insertion)]
    pub id: i64,
    pub organisation_id: i64,
    pub from_currency: String,
    pub to_currency: String,
    /// `YYYY-MM`.
    pub period: String,
    /// A positive decimal, as text.
    pub rate: String,
}

impl ExchangeRate {
    pub fn list(
        conn: &mut DbConnection,
        organisation_id: i64,
    ) -> Result<Vec<ExchangeRate>, DbError> {
        Ok(exchange_rates::table
            .filter(exchange_rates::organisation_id.eq(organisation_id))
            .order((
                exchange_rates::period,
                exchange_rates::from_currency,
                exchange_rates::to_currency,
            ))
            .select(ExchangeRate::as_select())
            .load(conn)?)
    }

    /// Replaces the organisation's whole table of rates.
    pub fn replace_all(
        conn: &mut DbConnection,
        organisation_id: i64,
        rates: &[ExchangeRate],
    ) -> Result<(), DbError> {
        diesel::delete(
            exchange_rates::table.filter(exchange_rates::organisation_id.eq(organisation_id)),
        )
        .execute(conn)?;
        // One row per statement: a MultiConnection cannot batch-insert.
        for rate in rates {
            diesel::insert_into(exchange_rates::table)
                .values(rate)
                .execute(conn)?;
        }
        Ok(())
    }

    /// The rate for a pair and period, if the organisation set one.
    pub fn find(
        conn: &mut DbConnection,
        organisation_id: i64,
        from_currency: &str,
        to_currency: &str,
        period: &str,
    ) -> Result<Option<ExchangeRate>, DbError> {
        Ok(exchange_rates::table
            .filter(exchange_rates::organisation_id.eq(organisation_id))
            .filter(exchange_rates::from_currency.eq(from_currency))
            .filter(exchange_rates::to_currency.eq(to_currency))
            .filter(exchange_rates::period.eq(period))
            .select(ExchangeRate::as_select())
            .first(conn)
            .optional()?)
    }
}
