use oas_db::Database;
use oas_db::PoolSettings;
use oas_db::formats::{BuiltinFormat, FormatRecord, NewFormat};
use oas_db::organisations::{NewOrganisation, Organisation};
use oas_db::testing::{TestDatabase, backends, sample_user};
use oas_db::users::User;

fn builtin_json() -> Vec<serde_json::Value> {
    let package = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    let text = std::fs::read_to_string(format!("{package}/../sales/formats/builtin.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn builtins() -> Vec<BuiltinFormat> {
    builtin_json()
        .iter()
        .map(|spec| BuiltinFormat {
            slug: spec["slug"].as_str().unwrap().to_owned(),
            name: spec["name"].as_str().unwrap().to_owned(),
            source: spec["source"].as_str().unwrap().to_owned(),
            spec: spec.to_string(),
        })
        .collect()
}

#[tokio::test]
async fn syncing_makes_the_builtins_exactly_the_binarys_in_order_keeping_ids_and_organisations_formats()
 {
    for backend in backends() {
        let test = TestDatabase::new(backend).unwrap();
        let db = Database::new(test.url(), PoolSettings::default()).unwrap();
        db.migrate().await.unwrap();
        let now = chrono::Utc::now().naive_utc();
        let listed = |db: &Database| {
            let db = db.clone();
            async move {
                db.run(|conn| FormatRecord::usable_by(conn, 0))
                    .await
                    .unwrap()
            }
        };
        let mut wanted = builtins();
        db.run({
            let wanted = wanted.clone();
            move |conn| FormatRecord::sync_builtins(conn, &wanted, now)
        })
        .await
        .unwrap();
        let first = listed(&db).await;
        let as_given = |rows: &[FormatRecord]| {
            rows.iter()
                .map(|r| (r.slug.clone(), r.spec.clone()))
                .collect::<Vec<_>>()
        };
        let expected = |wanted: &[BuiltinFormat]| {
            wanted
                .iter()
                .map(|b| (b.slug.clone(), b.spec.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(as_given(&first), expected(&wanted));
        let again = db
            .run({
                let wanted = wanted.clone();
                move |conn| FormatRecord::sync_builtins(conn, &wanted, now)
            })
            .await
            .unwrap();
        assert_eq!(again, 0, "nothing changes the second time");

        // One changed, one gone, one new at the end.
        wanted[1].spec = r#"{"changed": true}"#.into();
        let gone = wanted.remove(2);
        wanted.push(BuiltinFormat {
            slug: "newcomer".into(),
            name: "Newcomer".into(),
            source: "dsp".into(),
            spec: "{}".into(),
        });
        db.run({
            let wanted = wanted.clone();
            move |conn| FormatRecord::sync_builtins(conn, &wanted, now)
        })
        .await
        .unwrap();
        let second = listed(&db).await;
        assert_eq!(as_given(&second), expected(&wanted));
        assert!(second.iter().all(|f| f.slug != gone.slug));
        assert_eq!(second[0].id, first[0].id, "an unchanged row keeps its id");
        assert_eq!(second[1].id, first[1].id, "a changed row keeps its id");
        db.close();
    }
}

#[tokio::test]
async fn an_organisations_own_formats_come_first_and_replace_builtins_of_their_slug() {
    for backend in backends() {
        let test = TestDatabase::new(backend).unwrap();
        let db = Database::new(test.url(), PoolSettings::default()).unwrap();
        db.migrate().await.unwrap();
        let now = chrono::Utc::now().naive_utc();
        let owner = db
            .run(|conn| User::insert(conn, &sample_user("fiona", "fiona@example.com")))
            .await
            .unwrap();
        let org = db
            .run(move |conn| {
                Organisation::create(
                    conn,
                    &NewOrganisation {
                        name: "Acme",
                        base_currency: "EUR",
                        currencies: "[]",
                        image: None,
                        settings: "{}",
                        created_by: Some(owner.id),
                        created_at: now,
                        updated_at: now,
                    },
                    owner.id,
                    "owner",
                )
            })
            .await
            .unwrap();
        let org_id = org.id;
        db.run(move |conn| FormatRecord::sync_builtins(conn, &builtins(), now))
            .await
            .unwrap();
        let seeded = db
            .run(move |conn| FormatRecord::usable_by(conn, org_id))
            .await
            .unwrap();
        let specs: Vec<serde_json::Value> = seeded
            .iter()
            .map(|f| serde_json::from_str(&f.spec).unwrap())
            .collect();
        assert_eq!(specs, builtin_json());
        assert!(seeded.iter().all(|f| f.organisation_id.is_none()));
        {
            let own = db
                .run(move |conn| {
                    FormatRecord::insert(
                        conn,
                        &NewFormat {
                            organisation_id: Some(org_id),
                            slug: "spotify",
                            name: "Spotify (our fix)",
                            source: "dsp",
                            spec: "{}",
                            created_at: now,
                            updated_at: now,
                        },
                    )
                })
                .await
                .unwrap();
            let usable = db
                .run(move |conn| FormatRecord::usable_by(conn, org_id))
                .await
                .unwrap();
            assert_eq!(usable[0], own);
            assert_eq!(
                usable.len(),
                specs.len(),
                "its spotify replaces the built-in one"
            );
            assert!(usable[1..].iter().all(|f| f.slug != "spotify"));
            let other = db
                .run(move |conn| FormatRecord::usable_by(conn, org_id + 1))
                .await
                .unwrap();
            assert_eq!(
                other.len(),
                specs.len(),
                "another organisation sees only built-ins"
            );
            let found = db
                .run(move |conn| FormatRecord::find_own(conn, org_id, "spotify"))
                .await
                .unwrap();
            assert_eq!(found, Some(own));
        }
        db.close();
    }
}
