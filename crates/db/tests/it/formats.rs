use oas_db::Database;
use oas_db::PoolSettings;
use oas_db::formats::{FormatRecord, NewFormat};
use oas_db::organisations::{NewOrganisation, Organisation};
use oas_db::testing::{TestDatabase, backends, sample_user};
use oas_db::users::User;

fn builtin_json() -> Vec<serde_json::Value> {
    let package = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    let text = std::fs::read_to_string(format!("{package}/../sales/formats/builtin.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn the_migrations_seed_exactly_the_builtin_formats_and_an_organisations_own_come_first() {
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
        let seeded = db
            .run(move |conn| FormatRecord::usable_by(conn, org_id))
            .await
            .unwrap();
        let specs: Vec<serde_json::Value> = seeded
            .iter()
            .map(|f| serde_json::from_str(&f.spec).unwrap())
            .collect();
        assert_eq!(
            specs,
            builtin_json(),
            "run scripts/formats-sql.py after editing builtin.json"
        );
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
