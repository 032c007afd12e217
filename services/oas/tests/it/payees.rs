//! Payees over HTTP: added, found, changed and removed within the
//! organisation; bad input named by field; another organisation sees none.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::TestApp;
use crate::support::files::call;

async fn payees_are_kept_per_organisation(app: TestApp) {
    let (_, key) = app.user_with_key("fiona").await;
    app.organisation(&key).await;

    let (status, ana) = call(
        &app,
        Method::POST,
        "/api/payees/",
        &key,
        Some(json!({"name": "  Ana Lima ", "email": "ana@example.com", "tax_id": "PT123", "currency": "eur"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{ana}");
    assert_eq!(
        (&ana["name"], &ana["currency"], &ana["address"]),
        (&json!("Ana Lima"), &json!("EUR"), &json!(""))
    );
    let (status, band) = call(
        &app,
        Method::POST,
        "/api/payees/",
        &key,
        Some(json!({"name": "The Band"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{band}");
    assert_eq!(band["currency"], "USD", "the organisation's base currency");
    // Text with a NUL character is refused by field (PostgreSQL could not
    // keep it); nothing is added.
    let (status, refused) = call(
        &app,
        Method::POST,
        "/api/payees/",
        &key,
        Some(json!({"name": "\u{0}[7", "tax_id": "0"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(
        refused["errors"]["name"],
        json!(["Null characters are not allowed."])
    );
    let (status, refused) = call(&app, Method::GET, "/api/payees/?search=a%00b", &key, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(
        refused["detail"].as_str().unwrap().contains("%00"),
        "{refused}"
    );

    let (_, list) = call(&app, Method::GET, "/api/payees/", &key, None).await;
    let names: Vec<&Value> = list["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["name"])
        .collect();
    assert_eq!(names, [&json!("Ana Lima"), &json!("The Band")], "{list}");
    let (_, found) = call(&app, Method::GET, "/api/payees/?search=EXAMPLE", &key, None).await;
    assert_eq!(found["count"], 1, "{found}");

    let path = format!("/api/payees/{}/", ana["id"]);
    let (status, changed) = call(
        &app,
        Method::PATCH,
        &path,
        &key,
        Some(json!({"address": "1 Rua Nova, Lisboa", "currency": "GBP"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        (&changed["address"], &changed["currency"], &changed["email"]),
        (
            &json!("1 Rua Nova, Lisboa"),
            &json!("GBP"),
            &json!("ana@example.com")
        )
    );

    for (method, body, field) in [
        (
            Method::POST,
            json!({"name": "X", "currency": "EURO"}),
            "currency",
        ),
        (
            Method::POST,
            json!({"name": "X", "email": "not-an-email"}),
            "email",
        ),
        (Method::POST, json!({"name": "   "}), "name"),
        (Method::POST, json!({}), "name"),
        (Method::PATCH, json!({"currency": "ZZZ"}), "currency"),
    ] {
        let target = if method == Method::POST {
            "/api/payees/"
        } else {
            path.as_str()
        };
        let (status, answer) = call(&app, method, target, &key, Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert!(answer["errors"][field].is_array(), "{body}: {answer}");
    }

    // Another organisation sees none of it.
    let (_, stranger) = app.user_with_key("stranger").await;
    app.organisation(&stranger).await;
    let (_, theirs) = call(&app, Method::GET, "/api/payees/", &stranger, None).await;
    assert_eq!(theirs["count"], 0);
    for method in [Method::GET, Method::PATCH, Method::DELETE] {
        let body = (method == Method::PATCH).then(|| json!({"name": "Mine"}));
        let (status, answer) = call(&app, method.clone(), &path, &stranger, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method}: {answer}");
    }

    let (status, _) = call(&app, Method::DELETE, &path, &key, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(&app, Method::GET, &path, &key, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = call(&app, Method::GET, "/api/payees/", &key, None).await;
    assert_eq!(list["count"], 1);
}

#[actix_web::test]
async fn payees_are_kept_per_organisation_on_sqlite() {
    payees_are_kept_per_organisation(TestApp::spawn().await).await;
}

#[actix_web::test]
async fn payees_are_kept_per_organisation_on_postgres() {
    let app = TestApp::builder()
        .backend(oas_db::Backend::Postgres)
        .start()
        .await;
    payees_are_kept_per_organisation(app).await;
}
