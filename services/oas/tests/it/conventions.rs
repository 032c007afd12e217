//! The conventions every route shares: JSON error bodies with the right
//! status, request ids, pagination links, CORS.

use actix_web::{HttpRequest, HttpResponse, web};
use oas::http::ApiError;
use oas::http::pagination::{Page, PageQuery, Pagination};
use oas::state::AppState;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::TestApp;

#[derive(serde::Deserialize)]
struct Probe {
    name: String,
    count: u32,
}

async fn echo(body: web::Json<Probe>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"name": body.name, "count": body.count}))
}

async fn boom() -> Result<HttpResponse, ApiError> {
    Err(ApiError::internal(anyhow::anyhow!(
        "ledger shard 7 exploded"
    )))
}

async fn item(id: web::Path<i64>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"id": id.into_inner()}))
}

/// A list of the numbers 1 to 5, paged.
async fn numbers(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<Page<u64>>, ApiError> {
    let pagination = Pagination::new(&query, &state.settings)?;
    let all: Vec<u64> = (1..=5).collect();
    let results = all
        .iter()
        .copied()
        .skip(pagination.offset() as usize)
        .take(pagination.limit() as usize)
        .collect();
    Ok(web::Json(Page::new(
        &req,
        &state.settings,
        pagination,
        all.len() as u64,
        results,
    )?))
}

fn probes(cfg: &mut web::ServiceConfig) {
    cfg.route("/__probe/echo", web::post().to(echo))
        .route("/__probe/boom", web::get().to(boom))
        .route("/__probe/items/{id}/", web::get().to(item))
        .route("/__probe/numbers/", web::get().to(numbers));
}

async fn app() -> TestApp {
    TestApp::builder()
        .var("OAS_MAX_BODY_BYTES", "2048")
        .routes(probes)
        .start()
        .await
}

async fn json_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let body = response.text().await.unwrap();
    let json =
        serde_json::from_str(&body).unwrap_or_else(|_| panic!("not JSON ({status}): {body:?}"));
    (status, json)
}

#[actix_web::test]
async fn a_valid_json_body_reaches_the_handler() {
    let app = app().await;
    let response = app
        .client
        .post(app.url("/__probe/echo"))
        .json(&json!({"name": "x", "count": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_of(response).await,
        (StatusCode::OK, json!({"name": "x", "count": 3}))
    );
}

#[actix_web::test]
async fn unknown_routes_are_404_and_wrong_methods_405_with_detail() {
    let app = app().await;
    assert_eq!(
        json_of(app.get("/api/nothing/here/").await).await,
        (StatusCode::NOT_FOUND, json!({"detail": "Not found."}))
    );
    let response = app.client.post(app.url("/healthz")).send().await.unwrap();
    assert_eq!(
        json_of(response).await,
        (
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"detail": "Method \"POST\" not allowed."})
        )
    );
    let response = app
        .client
        .delete(app.url("/__probe/echo"))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(response).await.0, StatusCode::METHOD_NOT_ALLOWED);

    // A path without its trailing slash: a GET is redirected there, any
    // other request told where it is.
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = plain
        .get(app.url("/api/files/salesfiles?page=2"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        response.headers()["location"],
        "/api/files/salesfiles/?page=2"
    );
    let response = plain
        .post(app.url("/api/organisations"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_of(response).await,
        (
            StatusCode::NOT_FOUND,
            json!({"detail": "Not found. The path ends with a slash: /api/organisations/"})
        )
    );
}

#[actix_web::test]
async fn malformed_json_and_wrong_types_are_400() {
    let app = app().await;
    let send = |body: &'static str| {
        app.client
            .post(app.url("/__probe/echo"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let (status, body) = json_of(send("{\"name\": \"x\", ").await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("JSON parse error - "),
        "{body}"
    );

    for wrong in [
        "{\"name\": 5, \"count\": 1}",
        "{\"name\": \"x\", \"count\": -1}",
        "{\"name\": \"x\"}",
        "[1, 2]",
        "null",
    ] {
        let (status, body) = json_of(send(wrong).await.unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{wrong}");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .starts_with("Invalid request body: "),
            "{wrong}: {body}"
        );
    }
}

#[actix_web::test]
async fn bodies_that_are_not_json_are_415() {
    let app = app().await;
    let response = app
        .client
        .post(app.url("/__probe/echo"))
        .body("{\"name\": \"x\", \"count\": 1}")
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        body["detail"].as_str().unwrap().contains("Content-Type"),
        "{body}"
    );

    let response = app
        .client
        .post(app.url("/__probe/echo"))
        .header("content-type", "text/csv")
        .body("a,b")
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_of(response).await,
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            json!({"detail": "Unsupported media type \"text/csv\" in request."})
        )
    );
}

#[actix_web::test]
async fn bodies_over_the_limit_are_413() {
    let app = app().await;
    let big = json!({"name": "x".repeat(4096), "count": 1});
    let response = app
        .client
        .post(app.url("/__probe/echo"))
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_of(response).await,
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"detail": "Request body is too large: the limit is 2048 bytes."})
        )
    );
}

#[actix_web::test]
async fn bad_path_and_query_parameters_are_404_and_400() {
    let app = app().await;
    assert_eq!(
        json_of(app.get("/__probe/items/42/").await).await,
        (StatusCode::OK, json!({"id": 42}))
    );
    assert_eq!(
        json_of(app.get("/__probe/items/abc/").await).await,
        (StatusCode::NOT_FOUND, json!({"detail": "Not found."}))
    );
    let (status, body) = json_of(app.get("/__probe/numbers/?page=two").await).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"detail": "Invalid query parameters: Expected a whole number."})
        ),
        "in words, not a Rust parser's"
    );
}

#[actix_web::test]
async fn unexpected_errors_are_an_opaque_500() {
    let app = app().await;
    let response = app.get("/__probe/boom").await;
    assert!(response.headers().contains_key("x-request-id"));
    let (status, body) = json_of(response).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"detail": "A server error occurred."})
        )
    );
}

#[actix_web::test]
async fn every_response_carries_a_request_id() {
    let app = app().await;
    let first = app.get("/healthz").await.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let second = app.get("/no/such/route").await.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(first.len(), 36, "a UUID: {first}");
    assert_ne!(first, second);

    let kept = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "lb-7f3a.trace_1")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.headers()["x-request-id"], "lb-7f3a.trace_1");
    let replaced = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "has spaces and \"quotes\"")
        .send()
        .await
        .unwrap();
    assert_ne!(
        replaced.headers()["x-request-id"],
        "has spaces and \"quotes\""
    );
}

#[actix_web::test]
async fn lists_are_paged_with_absolute_links() {
    let app = app().await;
    let (status, body) = json_of(app.get("/__probe/numbers/?page=2&page_size=2").await).await;
    assert_eq!(status, StatusCode::OK);
    let base = app.url("/__probe/numbers/");
    assert_eq!(
        body,
        json!({
            "count": 5,
            "next": format!("{base}?page_size=2&page=3"),
            "previous": format!("{base}?page_size=2"),
            "results": [3, 4],
        })
    );
    let (_, last) = json_of(app.get("/__probe/numbers/?page=3&page_size=2").await).await;
    assert_eq!(
        (last["next"].clone(), last["results"].clone()),
        (Value::Null, json!([5]))
    );
    assert_eq!(
        json_of(app.get("/__probe/numbers/?page=4&page_size=2").await).await,
        (StatusCode::NOT_FOUND, json!({"detail": "Invalid page."}))
    );
}

#[actix_web::test]
async fn cors_allows_the_configured_origins_and_the_own_origin_only() {
    let app = TestApp::builder()
        .var("OAS_CORS_ORIGINS", "https://app.example.com")
        .start()
        .await;
    let preflight = |origin: String| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/healthz"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .send()
    };
    let allowed = preflight("https://app.example.com".into()).await.unwrap();
    assert_eq!(allowed.status(), StatusCode::OK);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );

    let own = preflight(format!("http://{}", app.address)).await.unwrap();
    assert_eq!(own.status(), StatusCode::OK);

    let refused = preflight("https://evil.example.net".into()).await.unwrap();
    assert!(
        !refused
            .headers()
            .contains_key("access-control-allow-origin")
    );
    let (status, body) = json_of(refused).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["detail"],
        "The origin https://evil.example.net may not call this API from a browser: add it to OAS_CORS_ORIGINS (a comma-separated list of origins).",
        "the refusal names the setting to change"
    );

    let simple = app
        .client
        .get(app.url("/healthz"))
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(
        simple.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let exposed = simple.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap();
    assert!(exposed.contains("x-request-id"), "{exposed}");
}
