//! Contracts over HTTP: payees' shares, scope and rates checked, each
//! change a new version; advances and costs recorded against them; bad
//! input named by field; another organisation sees none of it.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::TestApp;
use crate::support::files::call;

async fn payee(app: &TestApp, key: &str, name: &str) -> i64 {
    let (status, payee) = call(
        app,
        Method::POST,
        "/api/payees/",
        key,
        Some(json!({"name": name})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{payee}");
    payee["id"].as_i64().unwrap()
}

async fn contracts_are_versioned_and_checked(app: TestApp) {
    let (_, key) = app.user_with_key("fiona").await;
    app.organisation(&key).await;
    let (ana, bea) = (
        payee(&app, &key, "Ana").await,
        payee(&app, &key, "Bea").await,
    );

    let contract = json!({
        "name": "Ana & Bea – recordings",
        "payees": [{"payee": ana, "share": "0.5"}, {"payee": bea, "share": "0.50"}],
        "scope": [{"kind": "artist", "value": " Ana & Bea "}, {"kind": "track", "value": "gb-aaa-24-00001"}],
        "terms": [{"rate": "0.15"}, {"dsps": ["Spotify"], "territories": ["gb"], "basis": "gross", "rate": "0.2"}],
        "min_payout": "50",
        "currency": "eur"
    });
    let (status, made) = call(
        &app,
        Method::POST,
        "/api/contracts/",
        &key,
        Some(contract.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["version"], 1);
    assert_eq!(made["currency"], "EUR");
    assert_eq!(made["payees"][1]["share"], "0.5");
    assert_eq!(made["scope"][0]["value"], "Ana & Bea");
    assert_eq!(
        made["scope"][1]["value"], "GBAAA2400001",
        "an ISRC as the catalog keeps it"
    );
    assert_eq!(made["terms"][0]["basis"], "net");
    assert_eq!(made["terms"][1]["territories"], json!(["GB"]));
    let path = format!("/api/contracts/{}/", made["id"]);

    // A change is a new version; the same terms again change nothing.
    let (status, changed) = call(
        &app,
        Method::PATCH,
        &path,
        &key,
        Some(json!({"min_payout": "25"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        (&changed["version"], &changed["min_payout"]),
        (&json!(2), &json!("25"))
    );
    assert_eq!(changed["payees"], made["payees"], "what is left out stays");
    let (_, same) = call(
        &app,
        Method::PATCH,
        &path,
        &key,
        Some(json!({"min_payout": "25.00"})),
    )
    .await;
    assert_eq!(same["version"], 2, "{same}");

    // Bad terms, each named by its field, nothing changed.
    let (_, stranger) = app.user_with_key("stranger").await;
    app.organisation(&stranger).await;
    let theirs = payee(&app, &stranger, "Theirs").await;
    for (change, field) in [
        (
            json!({"payees": [{"payee": ana, "share": "0.5"}, {"payee": bea, "share": "0.3"}]}),
            "payees",
        ),
        (
            json!({"payees": [{"payee": ana, "share": "1"}, {"payee": ana, "share": "0"}]}),
            "payees",
        ),
        (
            json!({"payees": [{"payee": theirs, "share": "1"}]}),
            "payees",
        ),
        (
            json!({"payees": [{"payee": ana, "share": "one"}]}),
            "payees",
        ),
        (json!({"terms": [{"rate": "1.2"}]}), "terms"),
        (
            json!({"terms": [{"rate": "0.1", "basis": "royalty"}]}),
            "terms",
        ),
        (
            json!({"scope": [{"kind": "track", "value": "not an isrc"}]}),
            "scope",
        ),
        (json!({"scope": [{"kind": "song", "value": "x"}]}), "scope"),
        (json!({"min_payout": "-1"}), "min_payout"),
        (json!({"currency": "EURO"}), "currency"),
        (json!({"name": "  "}), "name"),
    ] {
        let (status, answer) = call(&app, Method::PATCH, &path, &key, Some(change.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{change}: {answer}");
        assert!(answer["errors"][field].is_array(), "{change}: {answer}");
    }
    let (status, answer) = call(
        &app,
        Method::POST,
        "/api/contracts/",
        &key,
        Some(json!({"name": "Empty"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    for field in ["payees", "scope", "terms"] {
        assert!(answer["errors"][field].is_array(), "{answer}");
    }
    let (_, now) = call(&app, Method::GET, &path, &key, None).await;
    assert_eq!(now["version"], 2, "{now}");

    // Advances and costs, in the contract's currency, in date order.
    let costs = format!("{path}costs/");
    for cost in [
        json!({"kind": "cost", "description": "Video", "amount": "300.50", "date": "2026-03-01", "recoupable": "0.5"}),
        json!({"kind": "advance", "description": "Signing", "amount": "1000", "currency": "EUR", "date": "2026-01-15"}),
    ] {
        let (status, made) = call(&app, Method::POST, &costs, &key, Some(cost)).await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
    }
    let (_, listed) = call(&app, Method::GET, &costs, &key, None).await;
    let order: Vec<(&Value, &Value, &Value)> = listed["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (&c["description"], &c["amount"], &c["recoupable"]))
        .collect();
    assert_eq!(
        order,
        [
            (&json!("Signing"), &json!("1000"), &json!("1")),
            (&json!("Video"), &json!("300.5"), &json!("0.5"))
        ]
    );
    for (cost, field) in [
        (
            json!({"kind": "bonus", "amount": "1", "date": "2026-01-01"}),
            "kind",
        ),
        (
            json!({"kind": "cost", "amount": "0", "date": "2026-01-01"}),
            "amount",
        ),
        (
            json!({"kind": "cost", "amount": "1.005", "date": "2026-01-01"}),
            "amount",
        ),
        (
            json!({"kind": "cost", "amount": "1", "date": "2026-13-01"}),
            "date",
        ),
        (
            json!({"kind": "cost", "amount": "1", "date": "2026-01-01", "currency": "USD"}),
            "currency",
        ),
        (
            json!({"kind": "cost", "amount": "1", "date": "2026-01-01", "recoupable": "2"}),
            "recoupable",
        ),
    ] {
        let (status, answer) = call(&app, Method::POST, &costs, &key, Some(cost.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{cost}: {answer}");
        assert!(answer["errors"][field].is_array(), "{cost}: {answer}");
    }

    // Another organisation sees none of it.
    for (method, target) in [(Method::GET, path.clone()), (Method::GET, costs.clone())] {
        let (status, answer) = call(&app, method, &target, &stranger, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{target}: {answer}");
    }
    let (status, _) = call(
        &app,
        Method::PATCH,
        &path,
        &stranger,
        Some(json!({"name": "Mine"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = call(&app, Method::GET, "/api/contracts/", &stranger, None).await;
    assert_eq!(list["count"], 0);
    let (_, list) = call(&app, Method::GET, "/api/contracts/", &key, None).await;
    assert_eq!(list["count"], 1);
}

#[actix_web::test]
async fn contracts_are_versioned_and_checked_on_sqlite() {
    contracts_are_versioned_and_checked(TestApp::spawn().await).await;
}

#[actix_web::test]
async fn contracts_are_versioned_and_checked_on_postgres() {
    let app = TestApp::builder()
        .backend(oas_db::Backend::Postgres)
        .start()
        .await;
    contracts_are_versioned_and_checked(app).await;
}
