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

/// An exchange rate as given: text (exact, preferred) or a JSON number.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum RateValue {
    Text(String),
    #[schema(value_type = f64)]
    Number(serde_json::Number),
}

impl RateValue {
    /// The rate, validated (positive, at most 12 decimal places).
    pub fn parse(&self) -> Result<Decimal, Invalid> {
        match self {
            RateValue::Text(text) => parse_rate(text),
            RateValue::Number(number) => parse_rate(&number.to_string()),
        }
    }
}
