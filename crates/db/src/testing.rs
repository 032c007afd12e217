//! A fresh, empty database for each test, on either engine (compiled only
//! with the `testing` feature).
//!
//! SQLite databases live in a temporary folder removed on drop. PostgreSQL
//! databases are created on the server named by `OAS_TEST_DATABASE_URL` and
//! dropped (with their connections) on drop. Being test support, it fails
//! loudly rather than returning errors.
#![allow(clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use diesel::pg::PgConnection;
use diesel::prelude::*;

use crate::users::NewUser;
use crate::{Backend, DatabaseUrl};

/// The variable naming a PostgreSQL server the tests may create databases on.
pub const POSTGRES_ENV: &str = "OAS_TEST_DATABASE_URL";

pub struct TestDatabase {
    url: DatabaseUrl,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// A new SQLite file in its own temporary folder.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path: PathBuf = dir.path().join("oas.db");
        Self {
            url: DatabaseUrl::sqlite(path),
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A new database on the server of `OAS_TEST_DATABASE_URL`, or `None`
    /// when the variable is not set.
    pub fn postgres() -> Option<Self> {
        let admin_url = std::env::var(POSTGRES_ENV).ok()?;
        let name = format!("oas_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(&admin_url)
            .unwrap_or_else(|e| panic!("{POSTGRES_ENV} is set but PostgreSQL is unreachable: {e}"));
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("create the test database");
        let mut url = url::Url::parse(&admin_url).expect("OAS_TEST_DATABASE_URL is a URL");
        url.set_path(&name);
        let url = DatabaseUrl::parse(url.as_str()).expect("a PostgreSQL URL");
        Some(Self {
            url,
            cleanup: Cleanup::Postgres { admin_url, name },
        })
    }

    /// A fresh database of the given engine; `None` for PostgreSQL when no
    /// server is configured.
    pub fn new(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite()),
            Backend::Postgres => Self::postgres(),
        }
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup
            && let Ok(mut admin) = PgConnection::establish(admin_url)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin);
        }
    }
}

/// The engines a test should run on here: SQLite always, PostgreSQL when
/// `OAS_TEST_DATABASE_URL` is set (CI always sets it).
pub fn backends() -> Vec<Backend> {
    let mut all = vec![Backend::Sqlite];
    if std::env::var_os(POSTGRES_ENV).is_some() {
        all.push(Backend::Postgres);
    } else {
        eprintln!("{POSTGRES_ENV} is not set: PostgreSQL cases skipped");
    }
    all
}

/// An active, unprivileged account with a placeholder hash, for repository tests.
pub fn sample_user<'a>(username: &'a str, email: &'a str) -> NewUser<'a> {
    NewUser {
        username,
        email,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
        first_name: "",
        last_name: "",
        is_superuser: false,
        is_staff: false,
        is_active: true,
        date_joined: chrono::Utc::now().naive_utc(),
    }
}

/// Reverts the migrations of the database at `url` from the latest down
/// to and including `version` (e.g. `2026-11-25-000001`), as an operator
/// rolling releases back would: for tests of what a migration does to data
/// already stored.
pub fn revert_migrations_to(url: &DatabaseUrl, version: &str) {
    use diesel_migrations::MigrationHarness;

    use crate::DbConnection;
    use crate::migrate::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};

    let mut conn = DbConnection::open(url).expect("the test database opens");
    loop {
        let reverted = match &mut conn {
            DbConnection::Postgres(conn) => conn
                .revert_last_migration(POSTGRES_MIGRATIONS)
                .map(|v| v.to_string()),
            DbConnection::Sqlite(conn) => conn
                .revert_last_migration(SQLITE_MIGRATIONS)
                .map(|v| v.to_string()),
        }
        .expect("the latest migration reverts");
        if reverted.replace('-', "") == version.replace('-', "") {
            return;
        }
    }
}
