use std::time::Duration;

use diesel::connection::SimpleConnection;
use oas_db::testing::{TestDatabase, backends, sample_user};
use oas_db::users::User;
use oas_db::{Database, DatabaseUrl, DbConnection, DbError, PoolSettings};

#[tokio::test]
async fn an_unreachable_postgres_is_reported_as_unavailable_not_replaced_by_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    // Port 1 on loopback: nothing listens there.
    let url =
        DatabaseUrl::parse("postgres://oas:secret-pw@127.0.0.1:1/oas?connect_timeout=2").unwrap();
    let db = Database::new(
        &url,
        PoolSettings {
            max_size: 1,
            timeout: Duration::from_secs(5),
        },
    )
    .unwrap();
    let err = db.ping().await.unwrap_err();
    assert!(matches!(err, DbError::Unavailable(_)), "{err:?}");
    assert!(!err.to_string().contains("secret-pw"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn sqlite_creates_its_folder_and_serves_concurrent_writers() {
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::sqlite(dir.path().join("nested/deeper/oas.db"));
    let db = Database::new(
        &url,
        PoolSettings {
            max_size: 4,
            timeout: Duration::from_secs(10),
        },
    )
    .unwrap();
    db.migrate().await.unwrap();

    let writers = (0..24).map(|i| {
        let db = db.clone();
        tokio::spawn(async move {
            db.run(move |conn| {
                let name = format!("user{i}");
                let email = format!("user{i}@label.com");
                User::insert(conn, &sample_user(&name, &email))
            })
            .await
        })
    });
    for writer in writers {
        writer.await.unwrap().unwrap();
    }
    for i in 0..24 {
        let name = format!("USER{i}");
        assert!(
            db.run(move |c| User::username_taken(c, &name))
                .await
                .unwrap()
        );
    }
}

#[tokio::test]
async fn ping_answers_on_every_configured_backend() {
    for backend in backends() {
        let test_db = TestDatabase::new(backend).unwrap();
        let db = Database::new(test_db.url(), PoolSettings::default()).unwrap();
        db.ping().await.unwrap();
        db.close();
        assert!(
            db.ping().await.is_err(),
            "{backend}: a closed pool refuses work"
        );
    }
}

/// Two connections to one SQLite file, the second refusing to wait for a
/// lock, so that who holds the write lock shows at once.
fn two_sqlite_connections(dir: &tempfile::TempDir) -> (DbConnection, DbConnection) {
    let url = DatabaseUrl::sqlite(dir.path().join("oas.db"));
    let mut first = DbConnection::open(&url).unwrap();
    first.batch_execute("CREATE TABLE t (n INTEGER)").unwrap();
    let mut second = DbConnection::open(&url).unwrap();
    second.batch_execute("PRAGMA busy_timeout = 0").unwrap();
    (first, second)
}

#[test]
fn a_sqlite_transaction_that_reads_first_keeps_its_right_to_write() {
    // Why: a deferred transaction that read, then saw another connection
    // write, is refused its own write however long it would wait.
    let dir = tempfile::tempdir().unwrap();
    let (mut first, mut second) = two_sqlite_connections(&dir);
    #[allow(clippy::disallowed_methods)]
    let deferred = diesel::Connection::transaction(&mut first, |first| {
        first.batch_execute("SELECT n FROM t")?;
        second.batch_execute("INSERT INTO t VALUES (1)")?;
        first.batch_execute("INSERT INTO t VALUES (2)")
    });
    let refused = deferred.unwrap_err().to_string();
    assert!(refused.contains("locked"), "{refused}");

    // The repository's transactions hold the lock from their start: the
    // other writer is the one told to wait, and nothing of either is lost.
    let dir = tempfile::tempdir().unwrap();
    let (mut first, mut second) = two_sqlite_connections(&dir);
    first
        .write_transaction(|first| {
            first.batch_execute("SELECT n FROM t")?;
            let waited = DbError::from(
                second
                    .batch_execute("INSERT INTO t VALUES (1)")
                    .unwrap_err(),
            );
            // Answered as a passing failure (503), not a wrong query.
            assert!(matches!(waited, DbError::Unavailable(_)), "{waited:?}");
            first.batch_execute("INSERT INTO t VALUES (2)")
        })
        .unwrap();
    second.batch_execute("INSERT INTO t VALUES (1)").unwrap();
    let rows: i64 = diesel::RunQueryDsl::get_result(
        diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "(SELECT COUNT(*) FROM t)",
        )),
        &mut first,
    )
    .unwrap();
    assert_eq!(rows, 2);
}

#[test]
fn a_nested_write_transaction_is_a_savepoint() {
    for backend in backends() {
        let test_db = TestDatabase::new(backend).unwrap();
        let mut conn = DbConnection::open(test_db.url()).unwrap();
        conn.batch_execute("CREATE TABLE nested (n INTEGER)")
            .unwrap();
        let outer: Result<(), DbError> = conn.write_transaction(|conn| {
            conn.batch_execute("INSERT INTO nested VALUES (1)")?;
            let inner: Result<(), DbError> = conn.write_transaction(|conn| {
                conn.batch_execute("INSERT INTO nested VALUES (2)")?;
                Err(DbError::Conflict("forced".into()))
            });
            assert!(inner.is_err(), "{backend}");
            Ok(())
        });
        outer.unwrap();
        let kept: Vec<i64> = diesel::RunQueryDsl::load(
            diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                "(SELECT CAST(SUM(n) AS BIGINT) FROM nested)",
            )),
            &mut conn,
        )
        .unwrap();
        assert_eq!(
            kept,
            vec![1],
            "{backend}: the inner rollback kept the outer row"
        );
    }
}
