use std::sync::Arc;
use std::time::Duration;

use deadpool::Runtime;
use deadpool::managed::{self, Metrics, Pool, PoolError, RecycleError, RecycleResult, Timeouts};
use deadpool_sync::SyncWrapper;
use diesel::connection::{Connection, TransactionManager};
use diesel::prelude::*;

use crate::{Backend, DatabaseUrl, DbConnection, DbError};

/// How the connection pool is sized and how long callers wait for it.
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    pub max_size: usize,
    /// Longest wait for a free connection, or for a new one to be opened.
    pub timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_size: 8,
            timeout: Duration::from_secs(10),
        }
    }
}

/// The pooled database. Cheap to clone; every clone shares the pool.
///
/// Diesel is synchronous: [`Database::run`] moves a closure onto tokio's
/// blocking threads with a pooled connection, so request handlers never block
/// the async workers.
#[derive(Clone)]
pub struct Database {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Option<Pool<Manager>>,
    backend: Backend,
    /// The runtime the pool was made on. Pooled connections are closed on a
    /// blocking task when dropped, which needs a runtime: the last clone may
    /// be dropped on a thread whose own runtime is already gone (an HTTP
    /// worker shutting down), so the drop enters this one.
    runtime: Option<tokio::runtime::Handle>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let pool = self.pool.take();
        match &self.runtime {
            Some(handle) => {
                let _context = handle.enter();
                drop(pool);
            }
            None => drop(pool),
        }
    }
}

/// How long a pooled connection may rest before it is pinged again.
const PING_AFTER: std::time::Duration = std::time::Duration::from_secs(10);

/// Opens connections for the pool. deadpool-diesel's own manager calls
/// `DbConnection::establish`, which for a MultiConnection tries every engine
/// in turn and reports only that none worked; this one picks the engine from
/// the URL and keeps the real error.
struct Manager {
    url: DatabaseUrl,
}

impl managed::Manager for Manager {
    type Type = SyncWrapper<DbConnection>;
    type Error = DbError;

    async fn create(&self) -> Result<Self::Type, Self::Error> {
        let url = self.url.clone();
        SyncWrapper::new(Runtime::Tokio1, move || DbConnection::open(&url)).await
    }

    async fn recycle(
        &self,
        conn: &mut Self::Type,
        metrics: &Metrics,
    ) -> RecycleResult<Self::Error> {
        if conn.is_mutex_poisoned() {
            return Err(RecycleError::message("connection mutex poisoned"));
        }
        // A connection used a moment ago answered then, and `run` dropped
        // it if it was left in a broken transaction: it is handed out as it
        // is. Only one idle for a while is checked and pinged first, on a
        // blocking thread. Doing so at every checkout cost a round trip and
        // a thread hop for each query a request makes: half of an
        // authenticated request's time.
        if metrics.last_used() <= PING_AFTER {
            return Ok(());
        }
        conn.interact(move |conn| {
            // Never hand out a connection stuck in a half-finished transaction.
            if <DbConnection as Connection>::TransactionManager::is_broken_transaction_manager(conn)
            {
                return Err(RecycleError::message("broken transaction"));
            }
            diesel::select(1.into_sql::<diesel::sql_types::Integer>())
                .execute(conn)
                .map(|_| ())
                .map_err(|e| RecycleError::Backend(e.into()))
        })
        .await
        .map_err(|e| RecycleError::message(format!("connection check failed: {e}")))?
    }
}

impl Database {
    /// Builds the pool. No connection is opened yet: call [`Database::ping`]
    /// or [`Database::migrate`] to find out whether the database answers.
    pub fn new(url: &DatabaseUrl, settings: PoolSettings) -> Result<Self, DbError> {
        let backend = url.backend();
        let manager = Manager { url: url.clone() };
        let timeouts = Timeouts {
            wait: Some(settings.timeout),
            create: Some(settings.timeout),
            recycle: Some(settings.timeout),
        };
        let pool = Pool::builder(manager)
            .max_size(settings.max_size.max(1))
            .runtime(Runtime::Tokio1)
            .timeouts(timeouts)
            .build()
            .map_err(|e| DbError::Unavailable(format!("cannot build the pool: {e}")))?;
        let runtime = tokio::runtime::Handle::try_current().ok();
        Ok(Self {
            inner: Arc::new(Inner {
                pool: Some(pool),
                backend,
                runtime,
            }),
        })
    }

    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    fn pool(&self) -> Result<&Pool<Manager>, DbError> {
        self.inner
            .pool
            .as_ref()
            .ok_or_else(|| DbError::Unavailable("the pool is closed".into()))
    }

    /// Runs `f` with a pooled connection on a blocking thread.
    pub async fn run<F, R>(&self, f: F) -> Result<R, DbError>
    where
        F: FnOnce(&mut DbConnection) -> Result<R, DbError> + Send + 'static,
        R: Send + 'static,
    {
        let conn = self.pool()?.get().await.map_err(|e| match e {
            PoolError::Backend(e) => e,
            PoolError::Timeout(_) => {
                DbError::Unavailable("timed out waiting for a database connection".into())
            }
            other => DbError::Unavailable(other.to_string()),
        })?;
        let (result, broken) = conn
            .interact(|db| {
                let result = f(db);
                let broken =
                    <DbConnection as Connection>::TransactionManager::is_broken_transaction_manager(
                        db,
                    );
                (result, broken)
            })
            .await
            .map_err(|e| DbError::Unavailable(format!("database task failed: {e}")))?;
        if broken || matches!(result, Err(DbError::Unavailable(_))) {
            // Never back into the pool in a half-finished transaction, nor
            // a connection that lost its server: the next checkout opens a
            // fresh one.
            let _ = managed::Object::take(conn);
        }
        result
    }

    /// As [`Database::run`], inside one transaction: all of `f` or none of it.
    pub async fn transaction<F, R>(&self, f: F) -> Result<R, DbError>
    where
        F: FnOnce(&mut DbConnection) -> Result<R, DbError> + Send + 'static,
        R: Send + 'static,
    {
        self.run(|conn| conn.write_transaction(f)).await
    }

    /// A round trip to the database, for readiness checks.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.run(|conn| {
            diesel::select(1.into_sql::<diesel::sql_types::Integer>()).execute(conn)?;
            Ok(())
        })
        .await
    }

    /// Applies the migrations not yet applied; returns their versions.
    pub async fn migrate(&self) -> Result<Vec<String>, DbError> {
        self.run(crate::migrate::run_pending).await
    }

    /// Closes the pool; later calls fail as unavailable.
    pub fn close(&self) {
        if let Ok(pool) = self.pool() {
            pool.close();
        }
    }
}
