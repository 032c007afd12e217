//! Statements over HTTP, from a catalog and two months of reports to
//! approved statements: a contract of two payees (50/50 of an odd cent),
//! a rate by store and territory, a line in the contract's currency and one
//! converted, an advance recouped, a payee below the minimum payout
//! carried into the next month, a correction that supersedes an approved
//! statement and shows the difference, the CSV adding up to the earnings
//! exactly, the PDF's text, sending by email, a sales statement of an
//! artist, bad requests, and another organisation seeing none of it.

use std::collections::BTreeMap;
use std::time::Duration;

use super::*;
use crate::support::files::wait_until;

async fn get(app: &TestApp, key: &str, path: &str) -> Value {
    let (status, body) = call(app, Method::GET, path, key, None).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

async fn post(app: &TestApp, key: &str, path: &str, body: Value) -> Value {
    let (status, made) = call(app, Method::POST, path, key, Some(body)).await;
    assert!(status.is_success(), "{path}: {status} {made}");
    made
}

/// Asks for statements and waits until none is PENDING; by payee (or
/// subject).
async fn statements(app: &TestApp, key: &str, body: Value) -> Vec<Value> {
    let (status, asked) = call(app, Method::POST, "/api/statements/", key, Some(body)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{asked}");
    let mut done = Vec::new();
    for statement in asked["statements"].as_array().unwrap() {
        assert_eq!(statement["status"], "PENDING", "{statement}");
        let path = format!("/api/statements/{}/", statement["id"]);
        let ended = wait_until(Duration::from_secs(120), || async {
            let now = get(app, key, &path).await;
            (now["status"] != "PENDING").then_some(now)
        })
        .await
        .unwrap_or_else(|| panic!("statement {path} never calculated"));
        done.push(ended);
    }
    done
}

fn amount(v: &Value) -> Amount {
    Amount::parse_total(v.as_str().unwrap_or_else(|| panic!("an amount: {v}"))).unwrap()
}

fn a(text: &str) -> Amount {
    Amount::parse_total(text).unwrap()
}

/// A statement's CSV, downloaded through its link and read with a parser.
async fn csv_of(app: &TestApp, statement: &Value) -> Vec<BTreeMap<String, String>> {
    let url = statement["csv_url"].as_str().expect("a CSV link");
    let response = app.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{url}");
    let text = response.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    reader
        .records()
        .map(|r| {
            let r = r.expect("every row parses");
            header
                .iter()
                .cloned()
                .zip(r.iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

/// The text of a statement's PDF (pdftotext, when poppler-utils is
/// installed; the test scripts install it).
async fn pdf_text(app: &TestApp, statement: &Value) -> Option<String> {
    let url = statement["pdf_url"].as_str().expect("a PDF link");
    let response = app.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{url}");
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF"), "a PDF");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("statement.pdf");
    std::fs::write(&path, &bytes).unwrap();
    let out = match std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(&path)
        .arg("-")
        .output()
    {
        Ok(out) => out,
        // `make test` installs it; a bare `cargo test` may not have it.
        Err(e) if std::env::var("OAS_TEST_STAND_INS").as_deref() == Ok("required") => {
            panic!("pdftotext: {e}")
        }
        Err(_) => return None,
    };
    assert!(out.status.success(), "pdftotext reads it");
    Some(String::from_utf8(out.stdout).unwrap())
}

async fn statements_tie_out(app: TestApp) {
    let (app, key, org) = rates_for(app).await;
    for (title, isrc) in [("One", "GBAAA2400001"), ("Two", "GBAAA2400002")] {
        post(
            &app,
            &key,
            "/api/catalog/tracks/",
            json!({"title": title, "artist": "Ana Lima", "isrc": isrc}),
        )
        .await;
    }
    post(
        &app,
        &key,
        "/api/catalog/tracks/",
        json!({"title": "Three", "artist": "Bea", "isrc": "GBAAA2400003"}),
    )
    .await;
    let january = "reporting_period,dsp,territory,artist,track_title,isrc,quantity,net_revenue,currency\n\
                   2024-01,Spotify,GB,Ana Lima,One,GBAAA2400001,10,10.00,USD\n\
                   2024-01,Deezer,FR,Ana Lima,One,GBAAA2400001,5,5.005,USD\n\
                   2024-01,Spotify,US,Ana Lima,Two,GBAAA2400002,2,2.50,GBP\n\
                   2024-01,Spotify,GB,Bea,Three,GBAAA2400003,7,7.00,USD\n\
                   2024-01,Spotify,GB,Ana Lima,Nothing Like It,,1,1.00,USD\n";
    let id =
        crate::support::files::submit_bytes(&app, &key, "jan.csv", "CSV", january.into()).await;
    let file = settled(&app, &key, id).await;
    assert_eq!(file["status"], "FINALIZED", "{file}");

    let mut payees = Vec::new();
    for (name, email) in [
        ("Ana Lima", "ana@example.com"),
        ("Zoë Ñúñez", "zoe@example.com"),
    ] {
        let made = post(
            &app,
            &key,
            "/api/payees/",
            json!({"name": name, "email": email, "address": "Rua das Flores 12\nLisboa"}),
        )
        .await;
        payees.push(made["id"].as_i64().unwrap());
    }
    let contract = post(
        &app,
        &key,
        "/api/contracts/",
        json!({
            "name": "Ana Lima recording agreement",
            "payees": [{"payee": payees[0], "share": "0.5"}, {"payee": payees[1], "share": "0.5"}],
            "scope": [{"kind": "artist", "value": "ana lima"}],
            "terms": [
                {"basis": "net", "rate": "0.2"},
                {"dsps": ["Spotify"], "territories": ["GB"], "basis": "net", "rate": "0.25"},
            ],
            "min_payout": "1.00",
            "currency": "USD",
        }),
    )
    .await;
    let contract_id = contract["id"].as_i64().unwrap();
    post(
        &app,
        &key,
        &format!("/api/contracts/{contract_id}/costs/"),
        json!({"kind": "advance", "description": "Signing", "amount": "3.00", "date": "2024-01-10", "recoupable": "1"}),
    )
    .await;

    // January. Spotify GB at 0.25 of 10.00 = 2.50; Deezer FR at 0.20 of
    // 5.005 = 1.001; Spotify US at 0.20 of 2.50 GBP = 0.50 GBP, at the
    // import's 1.25 = 0.625 USD. 4.126 in all, rounded once to 4.13: 2.065
    // each, so 2.07 and 2.06 (the odd cent to the first payee). The 3.00
    // advance is 1.50 each, recouped at once: 0.57 and 0.56 remain, below
    // the 1.00 minimum payout, carried forward. Bea's line is outside the
    // contract; the unmatched line of Ana's is unattributed.
    let jan = statements(&app, &key, json!({"period_from": "2024-01"})).await;
    let figures: Vec<[Amount; 6]> = jan
        .iter()
        .map(|s| {
            assert_eq!(s["status"], "DRAFT", "{s}");
            [
                amount(&s["opening_balance"]),
                amount(&s["earnings"]),
                amount(&s["costs_recouped"]),
                amount(&s["closing_balance"]),
                amount(&s["payable"]),
                amount(&s["carried_forward"]),
            ]
        })
        .collect();
    assert_eq!(
        figures,
        [
            [a("0"), a("2.07"), a("1.5"), a("0.57"), a("0"), a("0.57")],
            [a("0"), a("2.06"), a("1.5"), a("0.56"), a("0"), a("0.56")],
        ]
    );
    assert_eq!(jan[0]["payee"], payees[0]);
    assert_eq!(jan[0]["contract_version"], 1);
    assert_eq!(amount(&jan[0]["unattributed"]), a("1"));
    assert!(
        jan[0]["status_cause"]
            .as_str()
            .is_some_and(|c| c.contains("not matched to the catalog")),
        "{}",
        jan[0]
    );
    assert_eq!(jan[0]["recouped"][0]["amount"], "1.5");

    // The CSV: the contract's three priced lines, each with the term that
    // priced it; the payee's column adds up to the earnings exactly.
    for statement in &jan {
        let rows = csv_of(&app, statement).await;
        assert_eq!(rows.len(), 4, "three lines and the rounding");
        assert_eq!(statement["lines"], 3);
        let sum: Amount = rows.iter().map(|r| a(&r["payee_royalty"])).sum();
        assert_eq!(sum, amount(&statement["earnings"]));
        let royalties: Amount = rows.iter().take(3).map(|r| a(&r["royalty"])).sum();
        assert_eq!(royalties, a("4.126"));
        let spotify_gb = rows
            .iter()
            .find(|r| r["store"] == "Spotify" && r["territory"] == "GB")
            .unwrap();
        assert_eq!(
            (spotify_gb["rate"].as_str(), spotify_gb["royalty"].as_str()),
            ("0.25", "2.5")
        );
        assert!(spotify_gb["term"].starts_with("term 2"), "{spotify_gb:?}");
        let converted = rows.iter().find(|r| r["basis_currency"] == "GBP").unwrap();
        assert_eq!(
            (
                converted["exchange_rate"].as_str(),
                converted["royalty"].as_str()
            ),
            ("1.25", "0.625")
        );
    }
    if let Some(text) = pdf_text(&app, &jan[1]).await {
        for wanted in [
            "Zoë Ñúñez",
            "January 2024",
            "2.06",
            "0.56",
            "Ana Lima recording agreement",
            "Page 1 of",
        ] {
            assert!(text.contains(wanted), "{wanted:?} in the PDF:\n{text}");
        }
    }

    // A draft is not sent; approved, it is.
    let first = jan[0]["id"].as_i64().unwrap();
    let (status, refused) = call(
        &app,
        Method::POST,
        &format!("/api/statements/{first}/send/"),
        &key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    for statement in &jan {
        let approved = post(
            &app,
            &key,
            &format!("/api/statements/{}/approve/", statement["id"]),
            json!({}),
        )
        .await;
        assert_eq!(approved["status"], "APPROVED");
    }
    let (status, twice) = call(
        &app,
        Method::POST,
        &format!("/api/statements/{first}/approve/"),
        &key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{twice}");
    let sent = post(
        &app,
        &key,
        &format!("/api/statements/{first}/send/"),
        json!({}),
    )
    .await;
    assert_eq!(sent["status"], "SENT");
    let outbox = app.state.settings.data_dir.join("outbox");
    let wanted = format!("statement-{first}.pdf");
    let mail = wait_until(Duration::from_secs(10), || async {
        std::fs::read_dir(&outbox)
            .ok()?
            .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
            .map(|m| {
                m.replace("=\r\n", "")
                    .replace("=\n", "")
                    .replace("=3D", "=")
            })
            .find(|m| m.contains(&wanted))
    })
    .await
    .expect("the payee is emailed the links");
    assert!(mail.contains("ana@example.com") && mail.contains(&format!("statement-{first}.csv")));

    // February opens from January: 8.00 on Spotify GB earns 2.00, 1.00
    // each; nothing left to recoup; 0.57 + 1.00 = 1.57 is paid.
    let february = "reporting_period,dsp,territory,artist,track_title,isrc,quantity,net_revenue,currency\n\
                    2024-02,Spotify,GB,Ana Lima,One,GBAAA2400001,8,8.00,USD\n";
    let id =
        crate::support::files::submit_bytes(&app, &key, "feb.csv", "CSV", february.into()).await;
    assert_eq!(settled(&app, &key, id).await["status"], "FINALIZED");
    let feb = statements(
        &app,
        &key,
        json!({"period_from": "2024-02", "contracts": [contract_id]}),
    )
    .await;
    assert_eq!(
        [
            amount(&feb[0]["opening_balance"]),
            amount(&feb[0]["earnings"]),
            amount(&feb[0]["costs_recouped"]),
            amount(&feb[0]["payable"]),
            amount(&feb[0]["carried_forward"]),
        ],
        [a("0.57"), a("1"), a("0"), a("1.57"), a("0")]
    );
    // Months an approved statement holds are not stated again in another
    // period.
    let (status, overlap) = call(
        &app,
        Method::POST,
        "/api/statements/",
        &key,
        Some(json!({"period_from": "2024-01", "period_to": "2024-02"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{overlap}");

    // A correction: the general rate was 0.30, not 0.20. Deezer FR earns
    // 1.5015 and Spotify US 0.9375: 4.939, 4.94, 2.47 each; the advance
    // is recouped again in the correction (the statement it replaces no
    // longer counts). The approved January is untouched.
    let (status, changed) = call(
        &app,
        Method::PATCH,
        &format!("/api/contracts/{contract_id}/"),
        &key,
        Some(json!({"terms": [
            {"basis": "net", "rate": "0.3"},
            {"dsps": ["Spotify"], "territories": ["GB"], "basis": "net", "rate": "0.25"},
        ]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    let corrected = statements(&app, &key, json!({"period_from": "2024-01"})).await;
    assert_eq!(corrected[0]["supersedes"], first);
    assert_eq!(corrected[0]["contract_version"], 2);
    assert_eq!(
        [
            amount(&corrected[0]["earnings"]),
            amount(&corrected[0]["costs_recouped"]),
            amount(&corrected[0]["closing_balance"]),
        ],
        [a("2.47"), a("1.5"), a("0.97")]
    );
    assert_eq!(amount(&corrected[0]["difference"]["earnings"]), a("0.4"));
    let kept = get(&app, &key, &format!("/api/statements/{first}/")).await;
    assert_eq!(
        (kept["status"].as_str(), amount(&kept["earnings"])),
        (Some("SENT"), a("2.07"))
    );

    // A sales statement of an artist, without a contract: Bea's line at
    // 100%.
    let bea = statements(
        &app,
        &key,
        json!({"period_from": "2024-01", "artist": "Bea"}),
    )
    .await;
    assert_eq!(
        (bea[0]["subject"].as_str(), amount(&bea[0]["earnings"])),
        (Some("artist:Bea"), a("7"))
    );
    let (status, no_payee) = call(
        &app,
        Method::POST,
        &format!("/api/statements/{}/approve/", bea[0]["id"]),
        &key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{no_payee}");
    let (status, no_payee) = call(
        &app,
        Method::POST,
        &format!("/api/statements/{}/send/", bea[0]["id"]),
        &key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{no_payee}");

    // Listing and the dashboard.
    let listed = get(
        &app,
        &key,
        &format!("/api/statements/?payee={}&period=2024-01", payees[0]),
    )
    .await;
    assert_eq!(listed["count"], 2, "{listed}");
    let dashboard = get(
        &app,
        &key,
        "/api/dashboard/?period_from=2024-01&period_to=2024-02",
    )
    .await;
    assert_eq!(dashboard["statements"]["approved"], 3, "{dashboard}");
    assert_eq!(dashboard["statements"]["draft"], 4, "{dashboard}");

    // Bad requests, and another organisation.
    for (body, status) in [
        (json!({"period_from": "2024-13"}), StatusCode::BAD_REQUEST),
        (
            json!({"period_from": "2024-01", "artist": "A", "label": "B"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"period_from": "2024-01", "contracts": [contract_id], "artist": "A"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"period_from": "2024-01", "contracts": []}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"period_from": "2024-01", "contracts": [999_999]}),
            StatusCode::NOT_FOUND,
        ),
        (
            json!({"period_from": "2024-02", "period_to": "2024-01"}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (got, answer) = call(
            &app,
            Method::POST,
            "/api/statements/",
            &key,
            Some(body.clone()),
        )
        .await;
        assert_eq!(got, status, "{body}: {answer}");
        assert!(answer["detail"].is_string(), "{answer}");
    }
    // A payee on a contract, with statements, stays.
    let (status, kept) = call(
        &app,
        Method::DELETE,
        &format!("/api/payees/{}/", payees[0]),
        &key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{kept}");
    assert!(
        kept["detail"].as_str().unwrap().contains("contract"),
        "{kept}"
    );
    let (_, stranger) = app.user_with_key("stranger").await;
    app.organisation(&stranger).await;
    let (status, _) = call(
        &app,
        Method::GET,
        &format!("/api/statements/{first}/"),
        &stranger,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(
        &app,
        Method::POST,
        &format!("/api/statements/{first}/approve/"),
        &stranger,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let theirs = get(&app, &stranger, "/api/statements/").await;
    assert_eq!(theirs["count"], 0);
    let (status, none) = call(
        &app,
        Method::POST,
        "/api/statements/",
        &stranger,
        Some(json!({"period_from": "2024-01"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{none}");
    let _ = org;
}

#[actix_web::test]
async fn statements_tie_out_on_sqlite() {
    statements_tie_out(TestApp::spawn().await).await;
}

#[actix_web::test]
async fn statements_tie_out_on_postgres() {
    let app = TestApp::builder()
        .backend(oas_db::Backend::Postgres)
        .start()
        .await;
    statements_tie_out(app).await;
}

/// The cloud topology: PostgreSQL, S3 (presigned links checked by
/// s3s-fs), completion events through SQS (moto).
#[actix_web::test]
async fn statements_tie_out_on_s3_and_sqs() {
    let Some(cloud) = super::cloud::cloud().await else {
        return;
    };
    statements_tie_out(cloud.builder.start().await).await;
}
