//! Remembered corrections (match rules), the usage items a rule covers,
//! and the items still waiting for the catalog across files.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{NewRule, RuleRecord};
use crate::schema::{match_rules, sales_files, usage_items};
use crate::{DbConnection, DbError};

/// A rule to remember, its keys computed by the caller.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewRuleFields {
    pub artist: String,
    pub track_title: String,
    pub isrc: Option<String>,
    pub upc: Option<String>,
    pub artist_key: String,
    pub title_key: String,
    pub isrc_key: String,
    pub gtin_key: String,
    pub track_id: Option<i64>,
    pub source: Option<String>,
}

impl RuleRecord {
    pub fn find(conn: &mut DbConnection, organisation_id: i64, id: i64) -> Result<Self, DbError> {
        Ok(match_rules::table
            .filter(match_rules::organisation_id.eq(organisation_id))
            .filter(match_rules::id.eq(id))
            .select(RuleRecord::as_select())
            .first(conn)?)
    }

    /// A page of the organisation's rules, newest first, and how many
    /// there are.
    pub fn page(
        conn: &mut DbConnection,
        organisation_id: i64,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<Self>, i64), DbError> {
        let count = match_rules::table
            .filter(match_rules::organisation_id.eq(organisation_id))
            .count()
            .get_result(conn)?;
        let rows = match_rules::table
            .filter(match_rules::organisation_id.eq(organisation_id))
            .order(match_rules::id.desc())
            .offset(offset)
            .limit(limit)
            .select(RuleRecord::as_select())
            .load(conn)?;
        Ok((rows, count))
    }

    /// The organisation's rule for the same item and scope, if one exists.
    pub fn same(
        conn: &mut DbConnection,
        organisation_id: i64,
        fields: &NewRuleFields,
    ) -> Result<Option<Self>, DbError> {
        let mut query = match_rules::table
            .filter(match_rules::organisation_id.eq(organisation_id))
            .filter(match_rules::artist_key.eq(&fields.artist_key))
            .filter(match_rules::title_key.eq(&fields.title_key))
            .filter(match_rules::isrc_key.eq(&fields.isrc_key))
            .filter(match_rules::gtin_key.eq(&fields.gtin_key))
            .into_boxed();
        query = match &fields.source {
            Some(source) => query.filter(match_rules::source.eq(source.clone())),
            None => query.filter(match_rules::source.is_null()),
        };
        Ok(query
            .select(RuleRecord::as_select())
            .first(conn)
            .optional()?)
    }

    pub fn insert(
        conn: &mut DbConnection,
        organisation_id: i64,
        fields: &NewRuleFields,
        created_by: Option<i64>,
        at: NaiveDateTime,
    ) -> Result<Self, DbError> {
        let id: i64 = diesel::insert_into(match_rules::table)
            .values(&NewRule {
                organisation_id,
                artist: &fields.artist,
                track_title: &fields.track_title,
                isrc: fields.isrc.as_deref(),
                upc: fields.upc.as_deref(),
                artist_key: &fields.artist_key,
                title_key: &fields.title_key,
                isrc_key: &fields.isrc_key,
                gtin_key: &fields.gtin_key,
                track_id: fields.track_id,
                source: fields.source.as_deref(),
                created_by,
                created_at: at,
            })
            .returning(match_rules::id)
            .get_result(conn)?;
        Self::find(conn, organisation_id, id)
    }

    /// Forgets the rule; the items it decided keep their match until their
    /// files are matched again.
    pub fn delete(conn: &mut DbConnection, organisation_id: i64, id: i64) -> Result<(), DbError> {
        let deleted = diesel::delete(
            match_rules::table
                .filter(match_rules::organisation_id.eq(organisation_id))
                .filter(match_rules::id.eq(id)),
        )
        .execute(conn)?;
        if deleted == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }

    /// The usage items of the organisation's files this rule covers: the
    /// same folded artist and title, the identifiers the rule names, and
    /// its source when it is scoped to one.
    pub fn covered(&self, conn: &mut DbConnection) -> Result<Vec<Covered>, DbError> {
        let mut query = usage_items::table
            .filter(usage_items::organisation_id.eq(self.organisation_id))
            .filter(usage_items::artist_key.eq(&self.artist_key))
            .filter(usage_items::title_key.eq(&self.title_key))
            .into_boxed();
        if !self.isrc_key.is_empty() {
            query = query.filter(usage_items::isrc_key.eq(self.isrc_key.clone()));
        }
        if !self.gtin_key.is_empty() {
            query = query.filter(usage_items::gtin_key.eq(self.gtin_key.clone()));
        }
        if let Some(source) = &self.source {
            query = query.filter(usage_items::source.eq(source.clone()));
        }
        Ok(query
            .order(usage_items::id.asc())
            .select((
                usage_items::file_id,
                usage_items::lines,
                usage_items::revenue,
                usage_items::status,
                usage_items::track_id,
                usage_items::rule_id,
            ))
            .load(conn)?)
    }
}

/// What a rule would change of one usage item.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct Covered {
    pub file_id: i64,
    pub lines: i64,
    pub revenue: String,
    pub status: String,
    pub track_id: Option<i64>,
    pub rule_id: Option<i64>,
}

impl Covered {
    /// Whether matching the file again under `rule` would change this
    /// item: it is not already where the rule puts it.
    pub fn moves_under(&self, rule: &RuleRecord) -> bool {
        match rule.track_id {
            Some(track) => self.status != "matched" || self.track_id != Some(track),
            None => self.status != "unmatched" || self.rule_id != Some(rule.id),
        }
    }
}

/// Which usage items to gather.
#[derive(Debug, Clone, Default)]
pub struct UsageFilter {
    /// Months (`YYYY-MM`, inclusive): items of files reporting or covering
    /// a month between them.
    pub period_from: Option<String>,
    pub period_to: Option<String>,
    /// Only items of these statuses; all when empty.
    pub statuses: Vec<&'static str>,
}

/// A usage item of one file, as lists across files read it.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct UsageRow {
    pub id: i64,
    pub file_id: i64,
    pub artist: String,
    pub track_title: String,
    pub release_title: String,
    pub isrc: String,
    pub upc: String,
    pub artist_key: String,
    pub title_key: String,
    pub isrc_key: String,
    pub gtin_key: String,
    pub lines: i64,
    pub quantity: i64,
    pub revenue: String,
    pub status: String,
    pub match_type: Option<String>,
    pub track_id: Option<i64>,
    pub candidates: String,
    pub reason: String,
}

/// The organisation's usage items `filter` names, most revenue first.
pub fn usage(
    conn: &mut DbConnection,
    organisation_id: i64,
    filter: &UsageFilter,
) -> Result<Vec<UsageRow>, DbError> {
    let mut query = usage_items::table
        .filter(usage_items::organisation_id.eq(organisation_id))
        .into_boxed();
    if !filter.statuses.is_empty() {
        query = query.filter(usage_items::status.eq_any(filter.statuses.clone()));
    }
    if filter.period_from.is_some() || filter.period_to.is_some() {
        // Lexical order is month order for YYYY-MM.
        let from = filter
            .period_from
            .clone()
            .unwrap_or_else(|| "0000-01".into());
        let to = filter.period_to.clone().unwrap_or_else(|| "9999-12".into());
        let files = sales_files::table
            .filter(sales_files::organisation_id.eq(organisation_id))
            .filter(
                sales_files::reporting_period
                    .ge(from.clone())
                    .and(sales_files::reporting_period.le(to.clone()))
                    .or(sales_files::period_from
                        .le(to)
                        .and(sales_files::period_to.ge(from))),
            )
            .select(sales_files::id);
        query = query.filter(usage_items::file_id.eq_any(files));
    }
    Ok(query
        .order((usage_items::revenue_rank.desc(), usage_items::id.asc()))
        .select((
            usage_items::id,
            usage_items::file_id,
            usage_items::artist,
            usage_items::track_title,
            usage_items::release_title,
            usage_items::isrc,
            usage_items::upc,
            usage_items::artist_key,
            usage_items::title_key,
            usage_items::isrc_key,
            usage_items::gtin_key,
            usage_items::lines,
            usage_items::quantity,
            usage_items::revenue,
            usage_items::status,
            usage_items::match_type,
            usage_items::track_id,
            usage_items::candidates,
            usage_items::reason,
        ))
        .load(conn)?)
}

/// One usage item of the organisation, by id.
pub fn usage_item(
    conn: &mut DbConnection,
    organisation_id: i64,
    id: i64,
) -> Result<super::UsageItemRecord, DbError> {
    Ok(usage_items::table
        .filter(usage_items::organisation_id.eq(organisation_id))
        .filter(usage_items::id.eq(id))
        .select(super::UsageItemRecord::as_select())
        .first(conn)?)
}
