//! Asking for an account, approval with the welcome email and its key,
//! denial, and invitations turning into memberships.

use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{PASSWORD, TestApp};

async fn post(app: &TestApp, path: &str, key: Option<&str>, body: Value) -> (StatusCode, Value) {
    let mut request = app.client.post(app.url(path)).json(&body);
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    let response = request.send().await.unwrap();
    (
        response.status(),
        response.json().await.unwrap_or(Value::Null),
    )
}

fn request_body(username: &str) -> Value {
    json!({
        "username": username,
        "email": format!("{username}@indie.example.com"),
        "password": PASSWORD,
        "first_name": "Nora",
        "company": "Indie Records",
    })
}

/// Every message in a mail folder (the outbox's `.eml` files, or a Maildir's `new/`).
fn messages(dir: &Path) -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// The API key a welcome email carries.
fn key_in(message: &str) -> String {
    let unfolded = message.replace("=\r\n", "").replace("=\n", "");
    unfolded
        .split_whitespace()
        .find(|word| {
            word.len() == 41
                && word.as_bytes()[8] == b'.'
                && word.bytes().filter(|b| *b == b'.').count() == 1
        })
        .unwrap_or_else(|| panic!("no key in:\n{message}"))
        .to_owned()
}

#[actix_web::test]
async fn a_request_is_validated_and_waits_for_staff() {
    let app = TestApp::spawn().await;
    app.account("taken", false, false).await;
    let (status, pending) = post(&app, "/api/auth/register/", None, request_body("nora")).await;
    assert_eq!(status, StatusCode::CREATED, "{pending}");
    assert_eq!(pending["status"], "pending");
    assert!(pending.get("password_hash").is_none() && pending.get("password").is_none());

    let (status, body) = post(&app, "/api/auth/register/", None, request_body("nora")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["errors"]["username"].is_array(), "{body}");
    let (status, body) = post(&app, "/api/auth/register/", None, request_body("taken")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errors"]["username"],
        json!(["A user with that username already exists."])
    );
    let (status, body) = post(
        &app,
        "/api/auth/register/",
        None,
        json!({"username": "x y", "email": "nope", "password": "123"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["errors"]["username"].is_array(), "{body}");
    let (status, body) = post(&app, "/api/auth/register/", None, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for field in ["username", "email", "password"] {
        assert_eq!(body["errors"][field], json!(["This field is required."]));
    }

    let (_, member) = app.user_with_key("mia").await;
    let staff = app.account("staffer", false, true).await;
    let staff = app.key_for(&staff).await;
    let forbidden = app
        .with_key(Method::GET, "/api/admin/registrations/", &member)
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    let listed: Value = app
        .with_key(
            Method::GET,
            "/api/admin/registrations/?status=pending",
            &staff,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["count"], 1);
    assert_eq!(listed["results"][0]["username"], "nora");
    let bad_filter = app
        .with_key(
            Method::GET,
            "/api/admin/registrations/?status=maybe",
            &staff,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(bad_filter.status(), StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn approval_creates_the_account_and_mails_its_api_key() {
    let app = TestApp::spawn().await;
    let (_, owner) = app.user_with_key("olga").await;
    let staff = app.account("staffer", false, true).await;
    let staff = app.key_for(&staff).await;
    // An invitation waiting for this email becomes a membership on approval.
    let (_, org) = post(
        &app,
        "/api/organisations/",
        Some(&owner),
        json!({"name": "Acme Corp", "base_currency": "USD", "currencies": ["USD"]}),
    )
    .await;
    let (status, _) = post(
        &app,
        &format!("/api/organisations/{}/members/", org["id"]),
        Some(&owner),
        json!({"email": "nora@indie.example.com", "role": "member"}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let (_, pending) = post(&app, "/api/auth/register/", None, request_body("nora")).await;
    let approve = format!("/api/admin/registrations/{}/approve/", pending["id"]);
    let (status, approved) = post(&app, &approve, Some(&staff), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["status"], "approved");
    assert!(approved["user_id"].as_i64().is_some());

    let outbox = app.state.settings.data_dir.join("outbox");
    let mail = messages(&outbox)
        .into_iter()
        .find(|m| m.contains("Welcome to OAS"))
        .expect("a welcome email");
    assert!(mail.contains("To: nora@indie.example.com"), "{mail}");
    let key = key_in(&mail);
    let hello = app
        .with_key(Method::GET, "/helloworld", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(hello.text().await.unwrap(), "Hello world @nora");
    let login = app
        .client
        .post(app.url("/api/auth/login/"))
        .json(&json!({"username": "nora", "email": "nora@indie.example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        login.status(),
        StatusCode::OK,
        "the password chosen when asking works"
    );
    let orgs: Value = app
        .with_key(Method::GET, "/api/organisations/", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(orgs["results"][0]["name"], "Acme Corp");
    assert_eq!(orgs["results"][0]["role"], "member");

    let (status, body) = post(&app, &approve, Some(&staff), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["detail"], "This request was already approved.");
}

#[actix_web::test]
async fn denial_is_mailed_with_its_reason_and_is_final() {
    let app = TestApp::spawn().await;
    let staff = app.account("staffer", false, true).await;
    let staff = app.key_for(&staff).await;
    let (_, pending) = post(&app, "/api/auth/register/", None, request_body("nora")).await;
    let deny = format!("/api/admin/registrations/{}/deny/", pending["id"]);
    let (status, denied) = post(
        &app,
        &deny,
        Some(&staff),
        json!({"reason": "We only onboard labels we have a contract with."}),
    )
    .await;
    assert_eq!(
        (status, denied["status"].clone()),
        (StatusCode::OK, json!("denied"))
    );
    let mail = messages(&app.state.settings.data_dir.join("outbox"))
        .pop()
        .expect("a denial email");
    assert!(
        mail.contains("was not approved") && mail.contains("contract"),
        "{mail}"
    );
    let (status, _) = post(
        &app,
        &format!("/api/admin/registrations/{}/approve/", pending["id"]),
        Some(&staff),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let login = app
        .client
        .post(app.url("/api/auth/login/"))
        .json(&json!({"username": "nora", "email": "nora@indie.example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::UNAUTHORIZED);
}

/// With `OAS_TEST_SMTP_URL` (the test script starts aiosmtpd and sets it,
/// with its Maildir in `OAS_TEST_SMTP_MAILDIR`), the welcome email goes
/// through a real SMTP server.
#[actix_web::test]
async fn the_welcome_email_goes_through_smtp_when_configured() {
    let (Some(url), Some(maildir)) = (
        crate::support::stand_in("OAS_TEST_SMTP_URL"),
        crate::support::stand_in("OAS_TEST_SMTP_MAILDIR"),
    ) else {
        return;
    };
    let app = TestApp::builder()
        .var("OAS_SMTP_URL", &url)
        .var("OAS_MAIL_FROM", "OAS <no-reply@oas.example.com>")
        .start()
        .await;
    let staff = app.account("staffer", false, true).await;
    let staff = app.key_for(&staff).await;
    let username = format!("smtp{}", std::process::id());
    let (_, pending) = post(&app, "/api/auth/register/", None, request_body(&username)).await;
    let (status, body) = post(
        &app,
        &format!("/api/admin/registrations/{}/approve/", pending["id"]),
        Some(&staff),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let delivered = messages(&Path::new(&maildir).join("new"));
    let mail = delivered
        .iter()
        .find(|m| m.contains(&format!("{username}@indie.example.com")))
        .unwrap_or_else(|| panic!("the SMTP server received no welcome email for {username}"));
    assert!(
        mail.contains("From: OAS <no-reply@oas.example.com>"),
        "{mail}"
    );
    let key = key_in(mail);
    let hello = app
        .with_key(Method::GET, "/helloworld", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        hello.text().await.unwrap(),
        format!("Hello world @{username}")
    );
    assert!(
        !app.state.settings.data_dir.join("outbox").exists()
            || messages(&app.state.settings.data_dir.join("outbox")).is_empty()
    );
}
