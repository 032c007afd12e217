//! Statements' lifecycle in the database: a draft recalculated, an
//! approved one never written again, the next period opening from it and
//! knowing what it recouped.

use oas_db::contracts::{Contract, ContractCost, NewContractCost};
use oas_db::organisations::{NewOrganisation, Organisation};
use oas_db::payees::{NewPayee, Payee};
use oas_db::statements::{
    APPROVED, DRAFT, FAILED, NewStatement, PENDING, StatementChange, StatementRecord,
};
use oas_db::testing::{TestDatabase, backends, sample_user};
use oas_db::users::User;
use oas_db::{Database, DbConnection, PoolSettings};

fn statement(
    conn: &mut DbConnection,
    org: i64,
    contract: i64,
    payee: i64,
    month: &str,
) -> StatementRecord {
    let now = chrono::Utc::now().naive_utc();
    StatementRecord::insert(
        conn,
        &NewStatement {
            organisation_id: org,
            contract_id: Some(contract),
            contract_version: Some(1),
            payee_id: Some(payee),
            subject: None,
            period_from: month,
            period_to: month,
            currency: "EUR",
            status: PENDING,
            supersedes: None,
            created_by: None,
            created_at: now,
            updated_at: now,
        },
    )
    .unwrap()
}

fn figures(earnings: &str, recouped: &str, closing: &str) -> StatementChange {
    StatementChange {
        opening_balance: Some(Some("0".into())),
        earnings: Some(Some(earnings.into())),
        costs_recouped: Some(Some(recouped.into())),
        closing_balance: Some(Some(closing.into())),
        payable: Some(Some(closing.into())),
        carried_forward: Some(Some("0".into())),
        status: Some(DRAFT.into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn an_approved_statement_is_locked_and_the_next_opens_from_it() {
    for backend in backends() {
        let test = TestDatabase::new(backend).unwrap();
        let db = Database::new(test.url(), PoolSettings::default()).unwrap();
        db.migrate().await.unwrap();
        db.run(|conn| {
            let owner = User::insert(conn, &sample_user("fin", "fin@example.com"))?.id;
            let now = chrono::Utc::now().naive_utc();
            let org = Organisation::create(
                conn,
                &NewOrganisation {
                    name: "Acme",
                    base_currency: "EUR",
                    currencies: "[]",
                    image: None,
                    settings: "{}",
                    created_by: Some(owner),
                    created_at: now,
                    updated_at: now,
                },
                owner,
                "owner",
            )?
            .id;
            let payee = Payee::insert(
                conn,
                &NewPayee {
                    organisation_id: org,
                    name: "Ana",
                    email: "",
                    address: "",
                    tax_id: "",
                    currency: "EUR",
                    created_at: now,
                    updated_at: now,
                },
            )?
            .id;
            let (contract, _) = Contract::insert(conn, org, "Ana", "{}", Some(owner), now)?;
            let advance = ContractCost::insert(
                conn,
                &NewContractCost {
                    organisation_id: org,
                    contract_id: contract.id,
                    kind: "advance",
                    description: "Signing",
                    amount: "100",
                    currency: "EUR",
                    date: "2026-01-15",
                    recoupable: "1",
                    created_at: now,
                },
            )?
            .id;

            // January: calculated twice as a draft, the second replacing
            // the first, then approved.
            let january = statement(conn, org, contract.id, payee, "2026-01");
            assert!(StatementRecord::calculated(
                conn,
                january.id,
                &figures("50", "50", "0"),
                &[(advance, "50".into())]
            )?);
            let recalculate = StatementChange {
                status: Some(PENDING.into()),
                ..Default::default()
            };
            assert!(StatementRecord::transition(
                conn,
                january.id,
                DRAFT,
                &recalculate
            )?);
            assert!(StatementRecord::calculated(
                conn,
                january.id,
                &figures("60", "60", "0"),
                &[(advance, "60".into())]
            )?);
            let approve = StatementChange {
                status: Some(APPROVED.into()),
                approved_at: Some(Some(now)),
                ..Default::default()
            };
            assert!(StatementRecord::transition(
                conn, january.id, DRAFT, &approve
            )?);
            // Locked: nothing recalculated changes it, nor approves it twice.
            assert!(!StatementRecord::calculated(
                conn,
                january.id,
                &figures("999", "0", "999"),
                &[]
            )?);
            assert!(!StatementRecord::transition(
                conn, january.id, DRAFT, &approve
            )?);
            let kept = StatementRecord::find(conn, january.id)?;
            assert_eq!(
                (kept.status.as_str(), kept.earnings.as_deref()),
                (APPROVED, Some("60"))
            );

            // February opens from January and knows what it recouped.
            let february = statement(conn, org, contract.id, payee, "2026-02");
            let previous = StatementRecord::previous_approved(conn, contract.id, payee, "2026-02")?;
            assert_eq!(previous.map(|p| p.id), Some(january.id));
            assert_eq!(
                StatementRecord::recouped_before(conn, contract.id, payee, None)?,
                [(advance, "60".to_owned())]
            );
            // A draft counts for nothing yet; a failed one cannot be approved.
            assert!(StatementRecord::calculated(
                conn,
                february.id,
                &figures("70", "40", "30"),
                &[(advance, "40".into())]
            )?);
            assert_eq!(
                StatementRecord::recouped_before(conn, contract.id, payee, None)?.len(),
                1
            );
            let failed = StatementChange {
                status: Some(FAILED.into()),
                ..Default::default()
            };
            assert!(StatementRecord::transition(
                conn,
                february.id,
                DRAFT,
                &failed
            )?);
            assert!(!StatementRecord::transition(
                conn,
                february.id,
                DRAFT,
                &approve
            )?);
            assert_eq!(
                StatementRecord::previous_approved(conn, contract.id, payee, "2026-03")?
                    .map(|p| p.id),
                Some(january.id),
                "the failed February is not an account to open from"
            );
            Ok::<_, oas_db::DbError>(())
        })
        .await
        .unwrap();
    }
}
