use oas_db::dsr_messages::MessagePart;
use oas_db::organisations::{NewOrganisation, Organisation};
use oas_db::sales_files::{NewSalesFile, SalesFile};
use oas_db::testing::{TestDatabase, backends, sample_user};
use oas_db::users::User;
use oas_db::{Database, DbConnection, PoolSettings};

fn organisation(conn: &mut DbConnection, name: &str, owner: i64) -> i64 {
    let now = chrono::Utc::now().naive_utc();
    Organisation::create(
        conn,
        &NewOrganisation {
            name,
            base_currency: "USD",
            currencies: "[]",
            image: None,
            settings: "{}",
            created_by: Some(owner),
            created_at: now,
            updated_at: now,
        },
        owner,
        "owner",
    )
    .unwrap()
    .id
}

fn file(conn: &mut DbConnection, organisation_id: i64, uuid: &str) -> i64 {
    let now = chrono::Utc::now().naive_utc();
    SalesFile::insert(
        conn,
        &NewSalesFile {
            uuid,
            organisation_id,
            filename: &format!("{uuid}.tsv"),
            filetype: "TSV",
            filesize: 1,
            mongo_db_id: "65f1c2aa9d1e8b0012345678",
            status: "CLEANED",
            reporting_period: None,
            upload_mode: "manual",
            response_module: "importer",
            exchange_rate: None,
            parent_id: None,
            created_by: None,
            created_at: now,
            updated_at: now,
        },
    )
    .unwrap()
    .id
}

fn part(file_id: i64, organisation_id: i64, message: &str, number: i32) -> MessagePart {
    MessagePart {
        file_id,
        organisation_id,
        sender: "PADPIDA2013020802I".to_owned(),
        message_id: message.to_owned(),
        file_number: number,
        number_of_files: 2,
    }
}

#[tokio::test]
async fn a_messages_files_are_found_by_number_newest_first_only_of_its_sender_and_organisation() {
    for backend in backends() {
        let test = TestDatabase::new(backend).unwrap();
        let db = Database::new(test.url(), PoolSettings::default()).unwrap();
        db.migrate().await.unwrap();
        db.run(|conn| {
            let owner = User::insert(conn, &sample_user("mia", "mia@example.com"))?.id;
            let (acme, other) = (
                organisation(conn, "Acme", owner),
                organisation(conn, "Other", owner),
            );
            let second = file(conn, acme, "aaaa0002");
            let first = file(conn, acme, "aaaa0001");
            let first_again = file(conn, acme, "aaaa0011");
            let theirs = file(conn, other, "bbbb0001");
            let stranger = file(conn, acme, "cccc0001");
            let other_sender = file(conn, acme, "dddd0001");
            for saved in [
                part(second, acme, "M1", 2),
                part(first, acme, "M1", 1),
                part(first_again, acme, "M1", 1),
                part(theirs, other, "M1", 1),
                part(stranger, acme, "M2", 1),
                MessagePart {
                    sender: "PADPIDA2014999999Z".to_owned(),
                    ..part(other_sender, acme, "M1", 1)
                },
            ] {
                MessagePart::save(conn, &saved)?;
            }
            let m1 = part(0, acme, "M1", 1);
            let found: Vec<(i32, i64)> = MessagePart::files_of(conn, acme, &m1)?
                .into_iter()
                .map(|(p, f)| {
                    assert_eq!(p.file_id, f.id);
                    (p.file_number, f.id)
                })
                .collect();
            assert_eq!(found, [(1, first_again), (1, first), (2, second)]);

            // Cleaned again as another message's file, then as no message's.
            MessagePart::save(conn, &part(first, acme, "M2", 2))?;
            assert_eq!(
                MessagePart::of_file(conn, first)?,
                Some(part(first, acme, "M2", 2))
            );
            assert_eq!(MessagePart::files_of(conn, acme, &m1)?.len(), 2);
            MessagePart::forget(conn, first)?;
            assert_eq!(MessagePart::of_file(conn, first)?, None);

            // A file deleted takes its record with it.
            SalesFile::delete(conn, second)?;
            assert_eq!(MessagePart::of_file(conn, second)?, None);
            let left: Vec<i64> = MessagePart::files_of(conn, acme, &m1)?
                .into_iter()
                .map(|(_, f)| f.id)
                .collect();
            assert_eq!(left, [first_again]);
            Ok::<_, oas_db::DbError>(())
        })
        .await
        .unwrap();
    }
}
