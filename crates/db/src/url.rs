use std::fmt;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};

/// Which SQL engine a [`DatabaseUrl`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        })
    }
}

/// A parsed `OAS_DATABASE_URL`. The scheme alone picks the engine, so a
/// PostgreSQL outage can never fall through to a stray SQLite file. The
/// PostgreSQL form may hold a password: it is kept secret and every way of
/// printing the URL masks it.
#[derive(Clone)]
pub enum DatabaseUrl {
    Postgres(SecretString),
    Sqlite(PathBuf),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidDatabaseUrl(String);

impl DatabaseUrl {
    /// Accepts `postgres://…`, `postgresql://…`, `sqlite://PATH` and `sqlite:PATH`
    /// (`sqlite:///abs/path.db` for an absolute path).
    pub fn parse(raw: &str) -> Result<Self, InvalidDatabaseUrl> {
        let raw = raw.trim();
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            // Never echo the URL: it may carry a password.
            let parsed = ::url::Url::parse(raw)
                .map_err(|e| InvalidDatabaseUrl(format!("not a valid PostgreSQL URL ({e})")))?;
            if parsed.host_str().is_none_or(str::is_empty) {
                return Err(InvalidDatabaseUrl("a PostgreSQL URL needs a host".into()));
            }
            return Ok(Self::Postgres(SecretString::from(raw.to_owned())));
        }
        let path = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
            .ok_or_else(|| {
                InvalidDatabaseUrl("expected a URL starting with sqlite:// or postgres://".into())
            })?;
        if path.is_empty() || path.contains(":memory:") || path.starts_with("file:") {
            return Err(InvalidDatabaseUrl(
                "a SQLite URL needs a file path, e.g. sqlite://./data/oas.db".into(),
            ));
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    pub fn sqlite(path: impl AsRef<Path>) -> Self {
        Self::Sqlite(path.as_ref().to_path_buf())
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgres(_) => Backend::Postgres,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// The URL itself, password included: only for handing to a child
    /// process or a driver, never for logs.
    pub fn expose(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite://{}", path.display()),
            Self::Postgres(secret) => secret.expose_secret().to_owned(),
        }
    }

    /// The URL with any password replaced by `****`, fit for logs.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite://{}", path.display()),
            Self::Postgres(secret) => match ::url::Url::parse(secret.expose_secret()) {
                Ok(mut url) => {
                    if url.password().is_some() {
                        // Setting a password only fails on URLs without a host, refused above.
                        let _ = url.set_password(Some("****"));
                    }
                    url.to_string()
                }
                Err(_) => "postgres://****".into(),
            },
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_forms() {
        let url = DatabaseUrl::parse("sqlite://./data/oas.db").unwrap();
        assert!(matches!(&url, DatabaseUrl::Sqlite(p) if p == Path::new("./data/oas.db")));
        let url = DatabaseUrl::parse("sqlite:///var/lib/oas/oas.db").unwrap();
        assert!(matches!(&url, DatabaseUrl::Sqlite(p) if p == Path::new("/var/lib/oas/oas.db")));
        assert_eq!(
            DatabaseUrl::parse("sqlite:oas.db").unwrap().backend(),
            Backend::Sqlite
        );
    }

    #[test]
    fn postgres_password_is_never_printed() {
        let url = DatabaseUrl::parse("postgres://oas:hunter2-secret@db.internal:5432/oas").unwrap();
        assert_eq!(url.backend(), Backend::Postgres);
        for shown in [url.to_string(), format!("{url:?}"), url.redacted()] {
            assert!(!shown.contains("hunter2-secret"), "{shown}");
            assert!(shown.contains("db.internal"), "{shown}");
        }
    }

    #[test]
    fn refuses_other_schemes_and_memory_databases_without_echoing() {
        for bad in [
            "mysql://root@localhost/oas",
            "",
            "sqlite://",
            "sqlite::memory:",
            "./oas.db",
        ] {
            assert!(DatabaseUrl::parse(bad).is_err(), "{bad:?}");
        }
        let err = DatabaseUrl::parse("postgres://user:pa ss@").unwrap_err();
        assert!(!err.to_string().contains("pa ss"));
    }
}
