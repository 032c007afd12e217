//! Creating accounts, with every rule checked in one place: the command
//! line's `createsuperuser` and the API's user and registration routes all
//! come through here.

use chrono::Utc;
use oas_db::users::{EMAIL_KEY, NewUser, USERNAME_KEY, User};
use oas_db::{Database, DbError};
use oas_domain::identity::{Email, PasswordPolicy, Username};
use secrecy::{ExposeSecret, SecretString};

use crate::auth::password;

/// What a new account is made of, before validation.
pub struct AccountRequest {
    pub username: String,
    pub email: String,
    pub password: SecretString,
    pub first_name: String,
    pub last_name: String,
    pub is_superuser: bool,
    pub is_staff: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateAccountError {
    /// A field failed validation: the field and the message for a person.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("A user with that username already exists.")]
    UsernameTaken,
    #[error("A user with that email already exists.")]
    EmailTaken,
    #[error(transparent)]
    Database(DbError),
    #[error("{0}")]
    Internal(String),
}

impl From<DbError> for CreateAccountError {
    fn from(error: DbError) -> Self {
        if error.is_conflict_on(USERNAME_KEY) {
            Self::UsernameTaken
        } else if error.is_conflict_on(EMAIL_KEY) {
            Self::EmailTaken
        } else {
            Self::Database(error)
        }
    }
}

/// Validates and creates an active account.
pub async fn create(db: &Database, request: AccountRequest) -> Result<User, CreateAccountError> {
    let invalid = |field, e: oas_domain::identity::Invalid| CreateAccountError::Invalid {
        field,
        message: e.0,
    };
    let username = Username::parse(&request.username).map_err(|e| invalid("username", e))?;
    let email = Email::parse(&request.email).map_err(|e| invalid("email", e))?;
    let secret = request.password.expose_secret().to_owned();
    let words = [username.as_str(), email.as_str()];
    PasswordPolicy::default()
        .check(&secret, &words)
        .map_err(|e| CreateAccountError::Invalid {
            field: "password",
            message: e.to_string(),
        })?;

    // Cheap checks first for a friendly answer; the unique indexes still
    // decide when two requests race.
    let (name, mail) = (username.as_str().to_owned(), email.as_str().to_owned());
    let (name_taken, mail_taken) = db
        .run(move |conn| {
            Ok((
                User::username_taken(conn, &name)?,
                User::email_taken(conn, &mail)?,
            ))
        })
        .await?;
    if name_taken {
        return Err(CreateAccountError::UsernameTaken);
    }
    if mail_taken {
        return Err(CreateAccountError::EmailTaken);
    }

    let hash = tokio::task::spawn_blocking(move || password::hash(&secret))
        .await
        .map_err(|e| CreateAccountError::Internal(e.to_string()))?
        .map_err(|e| CreateAccountError::Internal(e.to_string()))?;
    let AccountRequest {
        first_name,
        last_name,
        is_superuser,
        is_staff,
        ..
    } = request;
    let user = db
        .run(move |conn| {
            User::insert(
                conn,
                &NewUser {
                    username: username.as_str(),
                    email: email.as_str(),
                    password_hash: &hash,
                    first_name: first_name.trim(),
                    last_name: last_name.trim(),
                    is_superuser,
                    is_staff,
                    is_active: true,
                    date_joined: Utc::now().naive_utc(),
                },
            )
        })
        .await?;
    Ok(user)
}
