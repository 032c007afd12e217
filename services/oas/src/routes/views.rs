//! Response shapes shared by several areas.

use chrono::NaiveDateTime;
use oas_db::users::User;
use oas_domain::identity::Invalid;
use oas_domain::money::parse_rate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::time::{utc, utc_opt};

/// The user object of the sign-in response, field for field as documented.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    pub id: i64,
    #[serde(serialize_with = "utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_login: Option<NaiveDateTime>,
    pub is_superuser: bool,
    pub username: String,
    pub email: String,
    pub is_staff: bool,
    pub is_active: bool,
}

impl From<&User> for UserOut {
    fn from(user: &User) -> Self {
        Self {
            id: user.id,
            last_login: user.last_login,
            is_superuser: user.is_superuser,
            username: user.username.clone(),
            email: user.email.clone(),
            is_staff: user.is_staff,
            is_active: user.is_active,
        }
    }
}

/// An account with its profile and preferences.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserDetail {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub is_superuser: bool,
    pub is_staff: bool,
    pub is_active: bool,
    #[serde(serialize_with = "utc_opt")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_login: Option<NaiveDateTime>,
    #[serde(serialize_with = "utc")]
    #[schema(value_type = String, format = DateTime)]
    pub date_joined: NaiveDateTime,
    #[schema(example = "en")]
    pub language: String,
    #[schema(example = "Europe/Madrid")]
    pub timezone: String,
    pub active_organisation: Option<i64>,
}

impl From<&User> for UserDetail {
    fn from(user: &User) -> Self {
        Self {
            id: user.id,
            username: user.username.clone(),
            email: user.email.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            is_superuser: user.is_superuser,
            is_staff: user.is_staff,
            is_active: user.is_active,
            last_login: user.last_login,
            date_joined: user.date_joined,
            language: user.language.clone(),
            timezone: user.timezone.clone(),
            active_organisation: user.active_organisation_id,
        }
    }
}

/// A user as others see them (owners, members).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserRef {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

impl From<&User> for UserRef {
    fn from(user: &User) -> Self {
        Self {
            id: user.id,
            username: user.username.clone(),
            email: user.email.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
        }
    }
}

/// An exchange rate as given: decimal text (exact, preferred: positive, at
/// most 16 digits before the point and 12 after it) or a JSON number
/// (positive, rounded to 12 decimal places).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RateValue {
    Text(String),
    Number(serde_json::Number),
}

impl utoipa::PartialSchema for RateValue {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, SchemaType, Type};
        let text = ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .pattern(Some(RATE_PATTERN))
            .examples([serde_json::json!("1.0823")]);
        let number = ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::Number))
            .minimum(Some(0.000_000_000_001))
            .maximum(Some(1e15));
        OneOfBuilder::new()
            .item(text)
            .item(number)
            .description(Some(
                "Decimal text (exact, preferred) or a JSON number (rounded to 12 places).",
            ))
            .into()
    }
}

impl utoipa::ToSchema for RateValue {}

/// Positive decimal text: at most 16 digits before the point, 12 after.
pub const RATE_PATTERN: &str = r"^([1-9][0-9]{0,15}(\.[0-9]{1,12})?|0\.[0-9]{0,11}[1-9])$";

impl RateValue {
    /// The rate, validated (positive, at most 12 decimal places).
    pub fn parse(&self) -> Result<Decimal, Invalid> {
        match self {
            RateValue::Text(text) => parse_rate(text),
            RateValue::Number(number) => {
                // A JSON number is a binary float: its shortest decimal
                // form, rounded to the 12 places a rate keeps.
                let decimal = match (number.as_u64(), number.as_f64()) {
                    (Some(whole), _) => Decimal::from(whole),
                    (None, Some(float)) => Decimal::try_from(float)
                        .map_err(|_| Invalid(format!("{number} is not a usable exchange rate.")))?,
                    (None, None) => {
                        return Err(Invalid(format!("{number} is not a usable exchange rate.")));
                    }
                };
                parse_rate(&decimal.round_dp(12).normalize().to_string())
            }
        }
    }
}
