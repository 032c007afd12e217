//! The error of the gateway's work outside the request path: module runs
//! (`runs`) and what follows their end (`workflows`).
//!
//! The question that code must answer is whether to try again, so an error
//! says whether its failure is passing (the database or the object store
//! could not be reached: the same work later may well succeed) or final.
//! It becomes an `ApiError` only at the HTTP edge, when a handler called
//! into a workflow (`From<BackgroundError> for ApiError`).

use oas_db::DbError;
use oas_platform::storage::StorageError;

#[derive(Debug, thiserror::Error)]
pub enum BackgroundError {
    /// A service could not be reached: trying the same again later may work.
    #[error("{0:#}")]
    Passing(anyhow::Error),
    /// The work does not fit the state of what it acts on; the message is
    /// for the operator who asked (409 at the edge).
    #[error("{0}")]
    Refused(String),
    /// The request names something that does not fit it (400 at the edge).
    #[error("{0}")]
    Invalid(String),
    /// What the work acts on does not exist (404 at the edge).
    #[error("not found")]
    NotFound,
    /// Trying again cannot help.
    #[error("{0:#}")]
    Final(anyhow::Error),
}

pub type BackgroundResult<T> = Result<T, BackgroundError>;

impl BackgroundError {
    pub fn refused(message: impl Into<String>) -> Self {
        Self::Refused(message.into())
    }

    pub fn final_(cause: impl Into<anyhow::Error>) -> Self {
        Self::Final(cause.into())
    }

    /// Whether the same work may succeed later.
    pub fn is_passing(&self) -> bool {
        matches!(self, Self::Passing(_))
    }
}

impl From<DbError> for BackgroundError {
    fn from(error: DbError) -> Self {
        match error {
            DbError::NotFound => Self::NotFound,
            DbError::Unavailable(_) => Self::Passing(error.into()),
            other => Self::Final(other.into()),
        }
    }
}

impl From<StorageError> for BackgroundError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::Io(_) | StorageError::Service(_) => Self::Passing(error.into()),
            other => Self::Final(other.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unreachable_services_are_passing() {
        assert!(BackgroundError::from(DbError::Unavailable("down".into())).is_passing());
        assert!(!BackgroundError::from(DbError::Conflict("key".into())).is_passing());
        assert!(matches!(
            BackgroundError::from(DbError::NotFound),
            BackgroundError::NotFound
        ));
        assert!(BackgroundError::from(StorageError::Service("503".into())).is_passing());
        assert!(!BackgroundError::from(StorageError::NotFound("k".into())).is_passing());
        assert!(!BackgroundError::refused("no").is_passing());
    }
}
