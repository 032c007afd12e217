use std::time::Duration;

use oas_db::testing::{TestDatabase, backends, sample_user};
use oas_db::users::User;
use oas_db::{Database, DatabaseUrl, DbError, PoolSettings};

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
