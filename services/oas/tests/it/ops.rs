use reqwest::StatusCode;
use serde_json::json;

use crate::support::TestApp;

#[actix_web::test]
async fn healthz_answers_while_the_process_lives() {
    let app = TestApp::spawn().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        json!({"status": "ok"})
    );
}

#[actix_web::test]
async fn readyz_is_ready_when_the_database_answers_on_every_backend() {
    for backend in oas_db::testing::backends() {
        let app = TestApp::builder().backend(backend).start().await;
        let response = app.get("/readyz").await;
        assert_eq!(response.status(), StatusCode::OK, "{backend}");
        assert_eq!(
            response.json::<serde_json::Value>().await.unwrap(),
            json!({"status": "ready", "checks": {"database": "ok"}}),
            "{backend}"
        );
        app.stop().await;
    }
}

#[actix_web::test]
async fn readyz_is_503_with_detail_when_the_database_is_unreachable() {
    let app = TestApp::builder().unreachable_database().start().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        json!({"detail": "Database is unreachable.", "checks": {"database": "unreachable"}})
    );
    // Liveness does not depend on the database.
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}

#[actix_web::test]
async fn metrics_count_requests_by_route_pattern_method_and_status() {
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        app.get("/healthz").await;
    }
    app.get("/api/does-not-exist/1234/").await;
    app.client.post(app.url("/readyz")).send().await.unwrap();

    let response = app.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    for expected in [
        r#"oas_http_requests_total{method="GET",route="/healthz",status="200"} 3"#,
        r#"oas_http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
        r#"oas_http_requests_total{method="POST",route="/readyz",status="405"} 1"#,
        r#"oas_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"} 3"#,
    ] {
        assert!(text.contains(expected), "missing {expected} in:\n{text}");
    }
    assert!(!text.contains("1234"), "raw paths never become labels");
}
