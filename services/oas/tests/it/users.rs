//! User administration and the caller's own account.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::files::call;
use crate::support::{PASSWORD, TestApp};

async fn login(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/auth/login/"))
        .json(&json!({"username": username, "email": format!("{username}@label.com"), "password": password}))
        .send()
        .await
        .unwrap()
}

#[actix_web::test]
async fn staff_list_search_and_create_users_but_only_superusers_make_superusers() {
    for backend in oas_db::testing::backends() {
        let app = TestApp::builder().backend(backend).start().await;
        let staff = app.account("staffer", false, true).await;
        let staff = app.key_for(&staff).await;
        let root = app.account("root", true, true).await;
        let root = app.key_for(&root).await;
        let (_, plain) = app.user_with_key("ana").await;
        app.account("anabel", false, false).await;
        app.account("bruno", false, false).await;

        let (status, _) = call(&app, Method::GET, "/api/users/", &plain, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend}");
        let (status, page) = call(
            &app,
            Method::GET,
            "/api/users/?search=ANA&page_size=1",
            &staff,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["count"], 2, "{backend}: ana and anabel: {page}");
        assert_eq!(page["results"][0]["username"], "ana");
        assert!(page["next"].as_str().unwrap().contains("search=ANA"));
        let (_, wildcard) = call(&app, Method::GET, "/api/users/?search=%25", &staff, None).await;
        assert_eq!(wildcard["count"], 0, "{backend}: % matches only itself");

        let new_user = json!({"username": "carla", "email": "carla@label.com", "password": PASSWORD, "first_name": "Carla"});
        let (status, carla) = call(
            &app,
            Method::POST,
            "/api/users/",
            &staff,
            Some(new_user.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{carla}");
        assert_eq!(
            (carla["first_name"].clone(), carla["is_superuser"].clone()),
            (json!("Carla"), json!(false))
        );
        let (status, body) = call(&app, Method::POST, "/api/users/", &staff, Some(new_user)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body["errors"]["username"],
            json!(["A user with that username already exists."])
        );
        let weak = json!({"username": "dan", "email": "dan@label.com", "password": "dan12345"});
        let (status, body) = call(&app, Method::POST, "/api/users/", &staff, Some(weak)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body["errors"]["password"].is_array());

        let boss = json!({"username": "boss", "email": "boss@label.com", "password": PASSWORD, "is_superuser": true});
        let (status, _) = call(
            &app,
            Method::POST,
            "/api/users/",
            &staff,
            Some(boss.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, created) = call(&app, Method::POST, "/api/users/", &root, Some(boss)).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(
            (created["is_superuser"].clone(), created["is_staff"].clone()),
            (json!(true), json!(true))
        );
        app.stop().await;
    }
}

#[actix_web::test]
async fn staff_edit_and_deactivate_accounts_within_limits() {
    let app = TestApp::spawn().await;
    let staff_user = app.account("staffer", false, true).await;
    let staff = app.key_for(&staff_user).await;
    let root = app.account("root", true, true).await;
    let (ana, ana_key) = app.user_with_key("ana").await;
    let tokens: Value = login(&app, "ana", PASSWORD).await.json().await.unwrap();

    let (status, edited) = call(
        &app,
        Method::PATCH,
        &format!("/api/users/{}/", ana.id),
        &staff,
        Some(json!({"last_name": "Ops", "is_staff": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (edited["last_name"].clone(), edited["is_staff"].clone()),
        (json!("Ops"), json!(true))
    );
    let (status, _) = call(
        &app,
        Method::PATCH,
        &format!("/api/users/{}/", root.id),
        &staff,
        Some(json!({"last_name": "X"})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "superusers are edited by superusers"
    );
    let (status, _) = call(
        &app,
        Method::PATCH,
        &format!("/api/users/{}/", ana.id),
        &staff,
        Some(json!({"is_superuser": true})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(
        &app,
        Method::PATCH,
        &format!("/api/users/{}/", staff_user.id),
        &staff,
        Some(json!({"is_staff": false})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "nobody locks themselves out");
    let (status, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/users/{}/", staff_user.id),
        &staff,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = call(&app, Method::GET, "/api/users/424242/", &staff, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/users/{}/", ana.id),
        &staff,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.with_key(Method::GET, "/helloworld", &ana_key)
            .send()
            .await
            .unwrap()
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
    let (_, shown) = call(
        &app,
        Method::GET,
        &format!("/api/users/{}/", ana.id),
        &staff,
        None,
    )
    .await;
    assert_eq!(shown["is_active"], false, "deactivated, not erased");
}

#[actix_web::test]
async fn the_caller_reads_and_changes_their_own_account() {
    let app = TestApp::spawn().await;
    let (ana, key) = app.user_with_key("ana").await;
    app.account("bea", false, false).await;
    let (status, me) = call(&app, Method::GET, "/api/users/me/", &key, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            me["id"].as_i64(),
            me["language"].clone(),
            me["timezone"].clone()
        ),
        (Some(ana.id), json!("en"), json!("UTC"))
    );

    let (status, me) = call(
        &app,
        Method::PATCH,
        "/api/users/me/",
        &key,
        Some(json!({"first_name": "Ana", "language": "es", "timezone": "Europe/Madrid"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            me["first_name"].clone(),
            me["language"].clone(),
            me["timezone"].clone()
        ),
        (json!("Ana"), json!("es"), json!("Europe/Madrid"))
    );
    let (status, body) = call(
        &app,
        Method::PATCH,
        "/api/users/me/",
        &key,
        Some(json!({"timezone": "Mars/Olympus", "language": "Spanish"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["errors"]["timezone"].is_array() && body["errors"]["language"].is_array(),
        "{body}"
    );
    let (status, body) = call(
        &app,
        Method::PATCH,
        "/api/users/me/",
        &key,
        Some(json!({"email": "BEA@label.com"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errors"]["email"],
        json!(["A user with that email already exists."])
    );
    let (status, _) = call(
        &app,
        Method::PATCH,
        "/api/users/me/",
        &key,
        Some(json!({"is_superuser": true})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "privileges are not account settings"
    );
    let (status, _) = call(
        &app,
        Method::PATCH,
        "/api/users/me/",
        &key,
        Some(json!({"first_name": "x".repeat(151)})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn a_password_change_needs_the_old_one_and_signs_out_other_sessions() {
    let app = TestApp::spawn().await;
    let (_, key) = app.user_with_key("ana").await;
    let here: Value = login(&app, "ana", PASSWORD).await.json().await.unwrap();
    let elsewhere: Value = login(&app, "ana", PASSWORD).await.json().await.unwrap();
    let new_password = "cobalt-meadow-lantern-77";

    let (status, body) = call(
        &app,
        Method::POST,
        "/api/users/me/password/",
        &key,
        Some(json!({"old_password": "wrong", "new_password": new_password})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["errors"]["old_password"],
        json!(["Your old password was entered incorrectly."])
    );
    let (status, body) = call(
        &app,
        Method::POST,
        "/api/users/me/password/",
        &key,
        Some(json!({"old_password": PASSWORD, "new_password": "ana12345"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["errors"]["new_password"].is_array());

    let change =
        json!({"old_password": PASSWORD, "new_password": new_password, "refresh": here["refresh"]});
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/users/me/password/",
        &key,
        Some(change),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        login(&app, "ana", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login(&app, "ana", new_password).await.status(),
        StatusCode::OK
    );
    let refresh = |token: &Value| {
        app.client
            .post(app.url("/api/auth/refresh/"))
            .json(&json!({"refresh": token}))
            .send()
    };
    assert_eq!(
        refresh(&elsewhere["refresh"]).await.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "other sessions end"
    );
    assert_eq!(
        refresh(&here["refresh"]).await.unwrap().status(),
        StatusCode::OK,
        "this one goes on"
    );
}
