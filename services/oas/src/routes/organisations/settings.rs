//! Organisation settings: exchange rates by currency pair and period (and
//! what an import does where a month has none),
//! catalog-matching thresholds, report preferences.

use std::collections::BTreeSet;

use actix_web::{get, patch, web};
use oas_db::organisations::{ExchangeRate, Organisation, OrganisationChanges};
use oas_domain::access::Permission;
use oas_domain::job::contract::importer::MissingRates;
use oas_domain::money::CurrencyCode;
use oas_domain::period::Period;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::access;
use crate::auth::Authenticated;
use crate::http::error::{ErrorBody, FieldErrors};
use crate::http::{ApiError, ApiJson};
use crate::routes::views::RateValue;
use crate::state::AppState;

/// At most this many rates in one organisation's table.
pub const MAX_RATES: usize = 5000;

/// How catalog matching treats a fuzzy candidate (the identifier and
/// exact-text stages do not score).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct MatchingSettings {
    /// Score from which a candidate is matched without review (0 to 1).
    #[serde(alias = "auto_match_threshold")]
    pub accept: f64,
    /// Score from which a candidate is proposed for review (0 to 1).
    #[serde(alias = "review_threshold")]
    pub review: f64,
}

impl Default for MatchingSettings {
    fn default() -> Self {
        Self {
            accept: 0.92,
            review: 0.75,
        }
    }
}

/// The organisation's matching thresholds.
pub fn matching(organisation: &Organisation) -> MatchingSettings {
    stored(organisation).matching
}

/// How reports and statements are written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct ReportSettings {
    /// Field separator of CSV reports: `,`, `;` or `\t`.
    pub csv_delimiter: String,
    /// Decimal places of amounts in statements (2 to 10).
    pub decimal_places: u8,
    pub include_zero_revenue: bool,
    /// Language of statements (e.g. `en`, `es`).
    pub statement_language: String,
    /// Statements per `artist` or per `label`.
    pub statement_grouping: String,
}

impl Default for ReportSettings {
    fn default() -> Self {
        Self {
            csv_delimiter: ",".into(),
            decimal_places: 2,
            include_zero_revenue: false,
            statement_language: "en".into(),
            statement_grouping: "artist".into(),
        }
    }
}

/// What is kept in the organisation's settings column.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
struct Stored {
    missing_rates: MissingRates,
    matching: MatchingSettings,
    reports: ReportSettings,
    fetch: oas_domain::fetch::FetchKeys,
}

/// The organisation's own keys for automatic uploads, shown without their
/// secrets.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct FetchKeysOut {
    /// Whether a Google API key is set (Drive links are read with it).
    pub google_api_key_set: bool,
    /// The Dropbox app's key (Dropbox links are read with it and its secret).
    pub dropbox_app_key: Option<String>,
    pub dropbox_app_secret_set: bool,
}

/// Keys for automatic uploads: each given replaces the one kept; empty
/// removes it (the deployment's own is used then, if any).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FetchPatch {
    #[schema(max_length = 500)]
    pub google_api_key: Option<String>,
    #[schema(max_length = 500)]
    pub dropbox_app_key: Option<String>,
    #[schema(max_length = 500)]
    pub dropbox_app_secret: Option<String>,
}

fn merge_fetch(
    into: &mut oas_domain::fetch::FetchKeys,
    patch: FetchPatch,
    errors: &mut FieldErrors,
) {
    let fields = [
        (
            "fetch.google_api_key",
            patch.google_api_key,
            &mut into.google_api_key,
        ),
        (
            "fetch.dropbox_app_key",
            patch.dropbox_app_key,
            &mut into.dropbox_app_key,
        ),
        (
            "fetch.dropbox_app_secret",
            patch.dropbox_app_secret,
            &mut into.dropbox_app_secret,
        ),
    ];
    for (name, given, kept) in fields {
        let Some(given) = given else { continue };
        let given = given.trim();
        if given.len() > 500 || given.chars().any(char::is_control) {
            push(errors, name, "At most 500 characters, on one line.");
        } else {
            *kept = (!given.is_empty()).then(|| given.to_owned());
        }
    }
}

/// What an import of the organisation's files does with a line whose month
/// has no rate.
pub fn missing_rates(organisation: &Organisation) -> MissingRates {
    stored(organisation).missing_rates
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RateOut {
    #[schema(example = "EUR")]
    pub from_currency: String,
    #[schema(example = "USD")]
    pub to_currency: String,
    #[schema(example = "2024-01")]
    pub period: String,
    /// Exact decimal, as text.
    #[schema(example = "1.0823")]
    pub rate: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SettingsOut {
    pub exchange_rates: Vec<RateOut>,
    /// What an import does with a line whose month has no rate: `fail`
    /// (the default: the file fails, naming every currency and month
    /// without one) or `latest_earlier` (the latest earlier month's rate;
    /// the file shows which in `rates_used`).
    #[schema(value_type = String, schema_with = missing_rates_schema)]
    pub missing_rates: &'static str,
    pub matching: MatchingSettings,
    pub reports: ReportSettings,
    pub fetch: FetchKeysOut,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateIn {
    /// One of the organisation's currencies.
    #[schema(schema_with = crate::http::schema::currency)]
    pub from_currency: String,
    /// Another of the organisation's currencies.
    #[schema(schema_with = crate::http::schema::currency)]
    pub to_currency: String,
    /// `YYYY-MM`.
    #[schema(
        pattern = r"^(19|[2-9][0-9])[0-9]{2}-(0[1-9]|1[0-2])$",
        example = "2024-01"
    )]
    pub period: String,
    pub rate: RateValue,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchingPatch {
    /// 0 to 1, at least the review threshold.
    #[schema(minimum = 0, maximum = 1)]
    pub accept: Option<f64>,
    /// 0 to 1, at most the accept threshold.
    #[schema(minimum = 0, maximum = 1)]
    pub review: Option<f64>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportsPatch {
    /// `,`, `;` or a tab.
    #[schema(value_type = Option<String>, schema_with = delimiter_schema)]
    pub csv_delimiter: Option<String>,
    #[schema(minimum = 2, maximum = 10)]
    pub decimal_places: Option<u8>,
    pub include_zero_revenue: Option<bool>,
    /// BCP 47 tag such as `en`, `es`, `pt-BR`.
    #[schema(pattern = r"^[a-z]{2,3}(-[A-Z]{2})?$", example = "en")]
    pub statement_language: Option<String>,
    /// `artist` or `label`.
    #[schema(value_type = Option<String>, schema_with = grouping_schema)]
    pub statement_grouping: Option<String>,
}

fn delimiter_schema() -> utoipa::openapi::Object {
    crate::http::schema::one_of(&[",", ";", "\t"], true)
}

fn missing_rates_schema() -> utoipa::openapi::Object {
    let all: Vec<&str> = MissingRates::ALL.iter().map(|m| m.as_str()).collect();
    crate::http::schema::one_of(&all, false)
}

fn missing_rates_patch_schema() -> utoipa::openapi::Object {
    let all: Vec<&str> = MissingRates::ALL.iter().map(|m| m.as_str()).collect();
    crate::http::schema::one_of(&all, true)
}

fn grouping_schema() -> utoipa::openapi::Object {
    crate::http::schema::one_of(&["artist", "label"], true)
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    /// Replaces the whole table of rates when given.
    #[schema(max_items = 10_000)]
    pub exchange_rates: Option<Vec<RateIn>>,
    /// `fail` or `latest_earlier`: see the settings. Null or absent: unchanged.
    #[schema(value_type = Option<String>, schema_with = missing_rates_patch_schema)]
    pub missing_rates: Option<String>,
    #[serde(default, deserialize_with = "object_only")]
    pub matching: Option<MatchingPatch>,
    #[serde(default, deserialize_with = "object_only")]
    pub reports: Option<ReportsPatch>,
    #[serde(default, deserialize_with = "object_only")]
    pub fetch: Option<FetchPatch>,
}

fn stored(organisation: &Organisation) -> Stored {
    serde_json::from_str(&organisation.settings).unwrap_or_default()
}

fn rate_out(rate: ExchangeRate) -> RateOut {
    RateOut {
        from_currency: rate.from_currency,
        to_currency: rate.to_currency,
        period: rate.period,
        rate: rate.rate,
    }
}

async fn settings_of(
    state: &AppState,
    organisation: Organisation,
) -> Result<SettingsOut, ApiError> {
    let id = organisation.id;
    let rates = state
        .db
        .run(move |conn| ExchangeRate::list(conn, id))
        .await?;
    let Stored {
        missing_rates,
        matching,
        reports,
        fetch,
    } = stored(&organisation);
    Ok(SettingsOut {
        exchange_rates: rates.into_iter().map(rate_out).collect(),
        missing_rates: missing_rates.as_str(),
        matching,
        reports,
        fetch: FetchKeysOut {
            google_api_key_set: fetch.google_api_key.is_some(),
            dropbox_app_key: fetch.dropbox_app_key,
            dropbox_app_secret_set: fetch.dropbox_app_secret.is_some(),
        },
    })
}

/// The organisation's settings.
#[utoipa::path(
    tag = "organisations",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "The settings", body = SettingsOut),
        (status = 404, description = "Not found, or not a member", body = ErrorBody),
    ),
)]
#[get("/api/organisations/{id}/settings/")]
pub async fn get_settings(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
) -> Result<web::Json<SettingsOut>, ApiError> {
    let organisation = access::require(&state, &auth, *id, Permission::View)
        .await?
        .organisation;
    Ok(web::Json(settings_of(&state, organisation).await?))
}

/// Change settings (owners and admins). Given groups are merged field by
/// field; `exchange_rates`, when given, replaces the whole table. Rates
/// convert between the organisation's own currencies, for one period each.
#[utoipa::path(
    tag = "organisations",
    security(("api_key" = []), ("bearer" = [])),
    params(("id" = i64, Path, description = "Organisation id")),
    request_body = SettingsPatch,
    responses(
        (status = 200, description = "The settings after the change", body = SettingsOut),
        (status = 400, description = "Invalid input", body = ErrorBody),
        (status = 403, description = "The caller's role may not", body = ErrorBody),
        (status = 404, description = "Not found, or not a member", body = ErrorBody),
    ),
)]
#[patch("/api/organisations/{id}/settings/")]
pub async fn update_settings(
    state: web::Data<AppState>,
    auth: Authenticated,
    id: web::Path<i64>,
    body: ApiJson<SettingsPatch>,
) -> Result<web::Json<SettingsOut>, ApiError> {
    let organisation = access::require(&state, &auth, *id, Permission::ManageSettings)
        .await?
        .organisation;
    let ApiJson(SettingsPatch {
        exchange_rates,
        missing_rates,
        matching,
        reports,
        fetch,
    }) = body;
    let mut errors = FieldErrors::new();
    let mut next = stored(&organisation);
    if let Some(choice) = missing_rates {
        match MissingRates::ALL.into_iter().find(|m| m.as_str() == choice) {
            Some(choice) => next.missing_rates = choice,
            None => push(
                &mut errors,
                "missing_rates",
                "Choose \"fail\" or \"latest_earlier\".",
            ),
        }
    }
    if let Some(patch) = matching {
        merge_matching(&mut next.matching, patch, &mut errors);
    }
    if let Some(patch) = reports {
        merge_reports(&mut next.reports, patch, &mut errors);
    }
    if let Some(patch) = fetch {
        merge_fetch(&mut next.fetch, patch, &mut errors);
    }
    let rates = exchange_rates.map(|rates| check_rates(&organisation, rates, &mut errors));
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let settings = serde_json::to_string(&next).map_err(ApiError::internal)?;
    let id = organisation.id;
    let updated = state
        .db
        .transaction(move |conn| {
            if let Some(rates) = rates {
                ExchangeRate::replace_all(conn, id, &rates)?;
            }
            let mut changes = OrganisationChanges::at(chrono::Utc::now().naive_utc());
            changes.settings = Some(settings);
            Organisation::update(conn, id, &changes)
        })
        .await?;
    Ok(web::Json(settings_of(&state, updated).await?))
}

/// A nested settings object, read only from a JSON object (serde would
/// also read a struct from an array of its fields).
fn object_only<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    use serde::de::Error;
    let object = Option::<serde_json::Map<String, serde_json::Value>>::deserialize(deserializer)?;
    object
        .map(|o| serde_json::from_value(serde_json::Value::Object(o)).map_err(D::Error::custom))
        .transpose()
}

fn push(errors: &mut FieldErrors, field: &str, message: impl Into<String>) {
    errors
        .entry(field.to_owned())
        .or_default()
        .push(message.into());
}

fn merge_matching(into: &mut MatchingSettings, patch: MatchingPatch, errors: &mut FieldErrors) {
    for (field, value, slot) in [
        ("matching.accept", patch.accept, &mut into.accept),
        ("matching.review", patch.review, &mut into.review),
    ] {
        if let Some(value) = value {
            if (0.0..=1.0).contains(&value) {
                *slot = value;
            } else {
                push(errors, field, "Ensure this value is between 0 and 1.");
            }
        }
    }
    if into.review > into.accept {
        push(
            errors,
            "matching.review",
            "The review threshold may not exceed the accept threshold.",
        );
    }
}

fn merge_reports(into: &mut ReportSettings, patch: ReportsPatch, errors: &mut FieldErrors) {
    if let Some(delimiter) = patch.csv_delimiter {
        if [",", ";", "\t"].contains(&delimiter.as_str()) {
            into.csv_delimiter = delimiter;
        } else {
            push(
                errors,
                "reports.csv_delimiter",
                "Choose one of \",\", \";\" or a tab.",
            );
        }
    }
    if let Some(places) = patch.decimal_places {
        if (2..=10).contains(&places) {
            into.decimal_places = places;
        } else {
            push(
                errors,
                "reports.decimal_places",
                "Ensure this value is between 2 and 10.",
            );
        }
    }
    if let Some(language) = patch.statement_language {
        match oas_domain::identity::parse_language(&language) {
            Ok(language) => into.statement_language = language,
            Err(e) => push(errors, "reports.statement_language", e.0),
        }
    }
    if let Some(grouping) = patch.statement_grouping {
        if ["artist", "label"].contains(&grouping.as_str()) {
            into.statement_grouping = grouping;
        } else {
            push(
                errors,
                "reports.statement_grouping",
                "Choose artist or label.",
            );
        }
    }
    into.include_zero_revenue = patch
        .include_zero_revenue
        .unwrap_or(into.include_zero_revenue);
}

fn check_rates(
    organisation: &Organisation,
    rates: Vec<RateIn>,
    errors: &mut FieldErrors,
) -> Vec<ExchangeRate> {
    if rates.len() > MAX_RATES {
        push(
            errors,
            "exchange_rates",
            format!("At most {MAX_RATES} rates."),
        );
        return Vec::new();
    }
    let own: Vec<String> = serde_json::from_str(&organisation.currencies).unwrap_or_default();
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(rates.len());
    for (index, rate) in rates.into_iter().enumerate() {
        let field = |name: &str| format!("exchange_rates.{index}.{name}");
        let currency =
            |raw: &str, name: &str, errors: &mut FieldErrors| match CurrencyCode::parse(raw) {
                Ok(code) if own.iter().any(|c| c == code.code()) => Some(code.code().to_owned()),
                Ok(code) => {
                    push(
                        errors,
                        &field(name),
                        format!(
                            "{} is not one of the organisation's currencies.",
                            code.code()
                        ),
                    );
                    None
                }
                Err(e) => {
                    push(errors, &field(name), e.0);
                    None
                }
            };
        let from = currency(&rate.from_currency, "from_currency", errors);
        let to = currency(&rate.to_currency, "to_currency", errors);
        let period = Period::parse(&rate.period)
            .map_err(|e| push(errors, &field("period"), e.0))
            .ok();
        let value = rate
            .rate
            .parse()
            .map_err(|e| push(errors, &field("rate"), e.0))
            .ok();
        if let (Some(from), Some(to), Some(period), Some(value)) = (from, to, period, value) {
            if from == to {
                push(
                    errors,
                    &field("to_currency"),
                    "A rate converts between two different currencies.",
                );
            } else if !seen.insert((from.clone(), to.clone(), period)) {
                push(
                    errors,
                    &field("period"),
                    format!("{from} to {to} for {period} is given twice."),
                );
            } else {
                out.push(ExchangeRate {
                    id: 0,
                    organisation_id: organisation.id,
                    from_currency: from,
                    to_currency: to,
                    period: period.to_string(),
                    rate: value.to_string(),
                });
            }
        }
    }
    out
}
