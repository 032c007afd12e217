//! Creating accounts, with every rule checked in one place: the command
//! line's `createsuperuser`, staff creating users, and approved
//! registrations all come through here.

use chrono::Utc;
use oas_db::organisations::Invitation;
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

/// A username and email that passed validation and are free.
pub struct CheckedIdentity {
    pub username: Username,
    pub email: Email,
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

/// Validates username, email and password, and checks no account has the
/// username or email yet.
pub async fn check(
    db: &Database,
    username: &str,
    email: &str,
    password: &str,
) -> Result<CheckedIdentity, CreateAccountError> {
    let invalid = |field, e: oas_domain::identity::Invalid| CreateAccountError::Invalid {
        field,
        message: e.0,
    };
    let username = Username::parse(username).map_err(|e| invalid("username", e))?;
    let email = Email::parse(email).map_err(|e| invalid("email", e))?;
    PasswordPolicy::default()
        .check(password, &[username.as_str(), email.as_str()])
        .map_err(|e| CreateAccountError::Invalid {
            field: "password",
            message: e.to_string(),
        })?;
    // Friendly answers first; the unique indexes still decide when two
    // requests race.
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
    Ok(CheckedIdentity { username, email })
}

/// Hashes a password off the async workers.
pub async fn hash_password(secret: String) -> Result<String, CreateAccountError> {
    tokio::task::spawn_blocking(move || password::hash(&secret))
        .await
        .map_err(|e| CreateAccountError::Internal(e.to_string()))?
        .map_err(|e| CreateAccountError::Internal(e.to_string()))
}

/// Validates and creates an active account.
pub async fn create(db: &Database, request: AccountRequest) -> Result<User, CreateAccountError> {
    let secret = request.password.expose_secret().to_owned();
    let identity = check(db, &request.username, &request.email, &secret).await?;
    let hash = hash_password(secret).await?;
    create_hashed(
        db,
        identity,
        hash,
        request.first_name,
        request.last_name,
        request.is_superuser,
        request.is_staff,
    )
    .await
}

/// Creates an active account with an already hashed password, and turns
/// pending invitations for its email into memberships.
pub async fn create_hashed(
    db: &Database,
    identity: CheckedIdentity,
    password_hash: String,
    first_name: String,
    last_name: String,
    is_superuser: bool,
    is_staff: bool,
) -> Result<User, CreateAccountError> {
    let user = db
        .transaction(move |conn| {
            let now = Utc::now().naive_utc();
            let user = User::insert(
                conn,
                &NewUser {
                    username: identity.username.as_str(),
                    email: identity.email.as_str(),
                    password_hash: &password_hash,
                    first_name: first_name.trim(),
                    last_name: last_name.trim(),
                    is_superuser,
                    is_staff,
                    is_active: true,
                    date_joined: now,
                },
            )?;
            Invitation::accept_all(conn, &user.email, user.id, now)?;
            Ok(user)
        })
        .await?;
    Ok(user)
}
