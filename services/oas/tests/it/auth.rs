//! Signing in, tokens, API keys and the 401 contract.

use chrono::Utc;
use diesel::prelude::*;
use oas_db::schema::{api_keys, users};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{PASSWORD, TestApp};

const UNAUTHENTICATED: &str = "Authentication credentials were not provided or are invalid.";

async fn login(app: &TestApp, username: &str, email: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/auth/login/"))
        .json(&json!({"username": username, "email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn hello_with_bearer(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .get(app.url("/helloworld"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[actix_web::test]
async fn the_seed_login_answers_tokens_and_the_user_object_on_every_backend() {
    for backend in oas_db::testing::backends() {
        let app = TestApp::builder().backend(backend).start().await;
        let ana = app.account("ana", true, false).await;
        let response = login(&app, "ana", "ana@label.com", PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK, "{backend}");
        let body: Value = response.json().await.unwrap();
        let mut keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        assert_eq!(keys, ["access", "refresh", "user"]);
        let user = &body["user"];
        let mut user_keys: Vec<&str> = user
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        user_keys.sort();
        assert_eq!(
            user_keys,
            [
                "email",
                "id",
                "is_active",
                "is_staff",
                "is_superuser",
                "last_login",
                "username"
            ]
        );
        assert_eq!(
            (
                user["id"].as_i64(),
                &user["username"],
                &user["email"],
                &user["is_superuser"],
                &user["is_staff"],
                &user["is_active"]
            ),
            (
                Some(ana.id),
                &json!("ana"),
                &json!("ana@label.com"),
                &json!(true),
                &json!(false),
                &json!(true)
            )
        );
        assert!(
            user["last_login"].as_str().unwrap().ends_with('Z'),
            "{backend}: last_login is set"
        );

        let hello = hello_with_bearer(&app, body["access"].as_str().unwrap()).await;
        assert_eq!(hello.status(), StatusCode::OK);
        assert_eq!(hello.text().await.unwrap(), "Hello world @ana");
        app.stop().await;
    }
}

#[actix_web::test]
async fn every_missing_field_is_reported_and_wrong_credentials_get_the_seed_401() {
    let app = TestApp::spawn().await;
    app.account("ana", false, false).await;
    let response = app
        .client
        .post(app.url("/api/auth/login/"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    for field in ["username", "email", "password"] {
        assert_eq!(
            body["errors"][field],
            json!(["This field is required."]),
            "{body}"
        );
    }
    let wrong_type = app
        .client
        .post(app.url("/api/auth/login/"))
        .json(&json!({"username": 5, "email": "a", "password": "b"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), StatusCode::BAD_REQUEST);
    let body: Value = wrong_type.json().await.unwrap();
    assert!(
        body["errors"]["username"][0]
            .as_str()
            .unwrap()
            .starts_with("Invalid type"),
        "{body}"
    );
    let unknown = app
        .client
        .post(app.url("/api/auth/login/"))
        .json(&json!({"username": "ana", "email": "ana@label.com", "password": PASSWORD, "otp": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);

    for (username, email, password) in [
        ("ana", "ana@label.com", "not-the-password-at-all"),
        ("ana", "other@label.com", PASSWORD),
        ("nobody", "ana@label.com", PASSWORD),
    ] {
        let response = login(&app, username, email, password).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({"detail": "Unable to log in with the provided credentials."})
        );
    }
}

#[actix_web::test]
async fn repeated_failures_for_a_username_are_throttled_with_retry_after() {
    let app = TestApp::spawn().await;
    app.account("ana", false, false).await;
    app.account("bea", false, false).await;
    for _ in 0..5 {
        assert_eq!(
            login(&app, "ana", "ana@label.com", "wrong-password-guess")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let throttled = login(&app, "ana", "ana@label.com", PASSWORD).await;
    assert_eq!(
        throttled.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    let retry: u64 = throttled.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    assert!(
        throttled.json::<Value>().await.unwrap()["detail"]
            .as_str()
            .unwrap()
            .contains("throttled")
    );
    // Another account from the same address is not locked out by ana's failures.
    assert_eq!(
        login(&app, "bea", "bea@label.com", PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[actix_web::test]
async fn refresh_tokens_rotate_once_and_logout_revokes() {
    let app = TestApp::spawn().await;
    app.account("ana", false, false).await;
    let first: Value = login(&app, "ana", "ana@label.com", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let refresh = |token: Value| {
        app.client
            .post(app.url("/api/auth/refresh/"))
            .json(&json!({"refresh": token}))
            .send()
    };

    let second = refresh(first["refresh"].clone()).await.unwrap();
    assert_eq!(second.status(), StatusCode::OK);
    let second: Value = second.json().await.unwrap();
    assert_ne!(second["refresh"], first["refresh"]);
    assert_eq!(
        hello_with_bearer(&app, second["access"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );

    let replay = refresh(first["refresh"].clone()).await.unwrap();
    assert_eq!(
        replay.status(),
        StatusCode::UNAUTHORIZED,
        "a refresh token is spent once"
    );
    assert_eq!(
        replay.json::<Value>().await.unwrap(),
        json!({"detail": "Token is invalid or expired."})
    );
    assert_eq!(
        refresh(first["access"].clone()).await.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "an access token is no refresh token"
    );
    assert_eq!(
        hello_with_bearer(&app, second["refresh"].as_str().unwrap())
            .await
            .status(),
        StatusCode::UNAUTHORIZED,
        "nor the reverse"
    );

    let logout = app
        .client
        .post(app.url("/api/auth/logout/"))
        .json(&json!({"refresh": second["refresh"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        refresh(second["refresh"].clone()).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

#[actix_web::test]
async fn api_keys_are_shown_once_work_as_x_api_key_and_stop_when_revoked_or_expired() {
    let app = TestApp::spawn().await;
    let (_, bootstrap) = app.user_with_key("ana").await;
    let created = app
        .with_key(Method::POST, "/api/api-keys/", &bootstrap)
        .json(&json!({"name": "nightly import"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    let key = created["key"].as_str().unwrap().to_owned();
    assert_eq!(key.len(), 41);
    assert_eq!(&key[8..9], ".");
    assert_eq!(created["prefix"], &key[..8]);

    let hello = app
        .with_key(Method::GET, "/helloworld", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(hello.text().await.unwrap(), "Hello world @ana");

    let listed: Value = app
        .with_key(Method::GET, "/api/api-keys/", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["count"], 2);
    let text = listed.to_string();
    assert!(!text.contains(&key[9..]), "the secret is never listed");
    let mine = listed["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["prefix"] == key[..8])
        .unwrap();
    assert_eq!(mine["name"], "nightly import");
    assert!(
        mine["last_used"].as_str().is_some(),
        "use is recorded: {mine}"
    );

    let revoked = app
        .with_key(
            Method::DELETE,
            &format!("/api/api-keys/{}/", created["id"]),
            &bootstrap,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let refused = app
        .with_key(Method::GET, "/helloworld", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused.json::<Value>().await.unwrap(),
        json!({"detail": UNAUTHENTICATED})
    );

    // Expiry: set in the past directly, as time passing would.
    let past = Utc::now().naive_utc() - chrono::Duration::minutes(1);
    let prefix = bootstrap[..8].to_owned();
    app.state
        .db
        .run(move |conn| {
            diesel::update(api_keys::table.filter(api_keys::prefix.eq(prefix)))
                .set(api_keys::expires_at.eq(Some(past)))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(
        app.with_key(Method::GET, "/helloworld", &bootstrap)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );

    let past_expiry = app
        .with_key(
            Method::POST,
            "/api/api-keys/",
            &app.key_for(&app.account("bea", false, false).await).await,
        )
        .json(&json!({"name": "x", "expires_at": "2001-01-01T00:00:00Z"}))
        .send()
        .await
        .unwrap();
    assert_eq!(past_expiry.status(), StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn missing_malformed_and_foreign_credentials_all_get_the_same_401() {
    let app = TestApp::spawn().await;
    let (_, key) = app.user_with_key("ana").await;
    let mut forged = key.clone();
    forged.replace_range(40..41, if key.ends_with('A') { "B" } else { "A" });
    let attempts = [
        app.client.get(app.url("/helloworld")),
        app.client
            .get(app.url("/helloworld"))
            .header("x-api-key", "nonsense"),
        app.client
            .get(app.url("/helloworld"))
            .header("x-api-key", forged),
        app.client
            .get(app.url("/helloworld"))
            .bearer_auth("not.a.jwt"),
        app.client
            .get(app.url("/helloworld"))
            .header("authorization", format!("Token {key}")),
    ];
    for attempt in attempts {
        let response = attempt.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response.headers().contains_key("www-authenticate"));
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({"detail": UNAUTHENTICATED})
        );
    }
}

#[actix_web::test]
async fn a_deactivated_account_loses_tokens_and_keys_at_once() {
    let app = TestApp::spawn().await;
    let (ana, key) = app.user_with_key("ana").await;
    let tokens: Value = login(&app, "ana", "ana@label.com", PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let id = ana.id;
    app.state
        .db
        .run(move |conn| {
            diesel::update(users::table.find(id))
                .set(users::is_active.eq(false))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(
        app.with_key(Method::GET, "/helloworld", &key)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        hello_with_bearer(&app, tokens["access"].as_str().unwrap())
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let refreshed = app
        .client
        .post(app.url("/api/auth/refresh/"))
        .json(&json!({"refresh": tokens["refresh"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        login(&app, "ana", "ana@label.com", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
}
