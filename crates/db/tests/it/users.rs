use chrono::{NaiveDateTime, Utc};
use oas_db::testing::{TestDatabase, backends, sample_user};
use oas_db::users::{EMAIL_KEY, NewUser, USERNAME_KEY, User};
use oas_db::{Database, DbError, PoolSettings};

async fn fresh(backend: oas_db::Backend) -> (TestDatabase, Database) {
    let test_db = TestDatabase::new(backend).unwrap();
    let db = Database::new(test_db.url(), PoolSettings::default()).unwrap();
    db.migrate().await.unwrap();
    (test_db, db)
}

fn now() -> NaiveDateTime {
    // Both engines keep microseconds; compare at that precision.
    let now = Utc::now().naive_utc();
    now.with_nanosecond_truncated()
}

trait Truncate {
    fn with_nanosecond_truncated(self) -> Self;
}

impl Truncate for NaiveDateTime {
    fn with_nanosecond_truncated(self) -> Self {
        use chrono::Timelike;
        self.with_nanosecond(self.nanosecond() / 1000 * 1000)
            .unwrap()
    }
}

async fn insert(db: &Database, username: &str, email: &str) -> Result<User, DbError> {
    let (username, email) = (username.to_owned(), email.to_owned());
    db.run(move |conn| {
        User::insert(
            conn,
            &NewUser {
                username: &username,
                email: &email,
                password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
                first_name: "Ana",
                last_name: "Ops",
                is_superuser: true,
                is_staff: true,
                is_active: true,
                date_joined: now(),
            },
        )
    })
    .await
}

#[tokio::test]
async fn insert_then_find_by_id_and_by_username_in_any_case() {
    for backend in backends() {
        let (_guard, db) = fresh(backend).await;
        let created = insert(&db, "Ana.Ops", "ana@label.com").await.unwrap();
        assert!(created.id > 0);
        assert!(created.is_superuser && created.is_staff && created.is_active);
        assert_eq!(created.last_login, None);

        let id = created.id;
        let by_id = db.run(move |c| User::find(c, id)).await.unwrap();
        assert_eq!(
            by_id, created,
            "{backend}: a row reads back exactly as written"
        );

        let by_name = db
            .run(|c| User::find_by_username(c, "ana.ops"))
            .await
            .unwrap();
        assert_eq!(by_name.map(|u| u.id), Some(id), "{backend}");
        let missing = db
            .run(|c| User::find_by_username(c, "nobody"))
            .await
            .unwrap();
        assert!(missing.is_none(), "{backend}");
        let gone = db.run(|c| User::find(c, 999_999)).await;
        assert!(
            matches!(gone, Err(DbError::NotFound)),
            "{backend}: {gone:?}"
        );
    }
}

#[tokio::test]
async fn usernames_and_emails_are_unique_whatever_their_case() {
    for backend in backends() {
        let (_guard, db) = fresh(backend).await;
        insert(&db, "ana", "ana@label.com").await.unwrap();

        let same_name = insert(&db, "ANA", "other@label.com").await.unwrap_err();
        assert!(
            same_name.is_conflict_on(USERNAME_KEY),
            "{backend}: {same_name:?}"
        );
        let same_email = insert(&db, "bea", "ANA@label.com").await.unwrap_err();
        assert!(
            same_email.is_conflict_on(EMAIL_KEY),
            "{backend}: {same_email:?}"
        );

        assert!(db.run(|c| User::username_taken(c, "Ana")).await.unwrap());
        assert!(!db.run(|c| User::username_taken(c, "bea")).await.unwrap());
        assert!(
            db.run(|c| User::email_taken(c, "Ana@Label.com"))
                .await
                .unwrap()
        );
    }
}

#[tokio::test]
async fn record_login_sets_last_login() {
    for backend in backends() {
        let (_guard, db) = fresh(backend).await;
        let user = insert(&db, "ana", "ana@label.com").await.unwrap();
        let at = now();
        let id = user.id;
        db.run(move |c| User::record_login(c, id, at))
            .await
            .unwrap();
        let reread = db.run(move |c| User::find(c, id)).await.unwrap();
        assert_eq!(reread.last_login, Some(at), "{backend}");
        let missing = db.run(move |c| User::record_login(c, 424_242, at)).await;
        assert!(matches!(missing, Err(DbError::NotFound)), "{backend}");
    }
}

#[tokio::test]
async fn a_failed_transaction_leaves_nothing_behind() {
    for backend in backends() {
        let (_guard, db) = fresh(backend).await;
        let result: Result<(), DbError> = db
            .transaction(|conn| {
                User::insert(conn, &sample_user("ghost", "ghost@label.com"))?;
                Err(DbError::Conflict("forced".into()))
            })
            .await;
        assert!(result.is_err());
        assert!(
            !db.run(|c| User::username_taken(c, "ghost")).await.unwrap(),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn an_update_that_changes_nothing_returns_the_row() {
    for backend in backends() {
        let (_guard, db) = fresh(backend).await;
        let user = insert(&db, "ana", "ana@label.com").await.unwrap();
        let id = user.id;
        let same = db
            .run(move |c| User::update(c, id, &oas_db::users::UserChanges::default()))
            .await
            .unwrap();
        assert_eq!(same, user, "{backend}");
        let missing = db
            .run(|c| User::update(c, 424_242, &oas_db::users::UserChanges::default()))
            .await;
        assert!(matches!(missing, Err(DbError::NotFound)), "{backend}");
    }
}
