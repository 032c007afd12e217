//! Bad input never causes a server error: every documented operation that
//! takes a body is sent malformed JSON, wrong types, overlong strings, nulls
//! and unknown fields, property by property, by a superuser (so that
//! permissions do not stop the request before the body is read).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::TestApp;

fn properties(doc: &Value, schema: &Value) -> Vec<String> {
    let resolved = match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.rsplit('/').next().unwrap_or_default();
            &doc["components"]["schemas"][name]
        }
        None => schema,
    };
    resolved["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

#[actix_web::test]
async fn no_malformed_body_on_any_documented_operation_causes_a_server_error() {
    let app = TestApp::spawn().await;
    let root = app.account("root", true, true).await;
    let key = app.key_for(&root).await;
    let org = app.organisation(&key).await.to_string();
    let doc: Value = app.get("/api/openapi.json").await.json().await.unwrap();

    let mut checked = 0;
    let mut refused_as_bad_input = 0;
    let mut failures = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Some(schema) =
                operation["requestBody"]["content"]["application/json"].get("schema")
            else {
                continue;
            };
            let concrete: String = path
                .split('/')
                .map(|segment| match segment {
                    "{id}" => org.as_str(),
                    s if s.starts_with('{') => "1",
                    s => s,
                })
                .collect::<Vec<_>>()
                .join("/");
            let mut bodies: Vec<String> = [
                "{",
                "[]",
                "null",
                "\"text\"",
                "{}",
                "{\"unexpected_field\": 1}",
                "{\"a\": \"\\ud800\"}",
            ]
            .iter()
            .map(|b| b.to_string())
            .collect();
            for property in properties(&doc, schema) {
                for value in [
                    json!("x".repeat(20_000)),
                    json!(12345),
                    json!(-1),
                    json!(1e308),
                    json!(true),
                    json!(null),
                    json!([1, 2]),
                    json!({"nested": "object"}),
                    json!(""),
                    json!("\u{0000}\u{200b}"),
                ] {
                    bodies.push(json!({ property.clone(): value }).to_string());
                }
            }
            for body in bodies {
                let response = app
                    .with_key(
                        method.to_uppercase().parse::<Method>().unwrap(),
                        &concrete,
                        &key,
                    )
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                checked += 1;
                let status = response.status();
                if status == StatusCode::BAD_REQUEST {
                    refused_as_bad_input += 1;
                }
                if status.is_server_error()
                    || status == StatusCode::NOT_FOUND
                        && response.headers().get("content-type").is_none()
                {
                    failures.push(format!(
                        "{method} {concrete} {}: {status}",
                        &body[..body.len().min(80)]
                    ));
                }
            }
        }
    }
    assert!(
        checked > 200,
        "the sweep covers the API: {checked} requests"
    );
    assert!(
        refused_as_bad_input * 2 > checked,
        "most bodies reach validation and are refused: {refused_as_bad_input} of {checked}"
    );
    assert!(
        failures.is_empty(),
        "server errors for bad input:\n{}",
        failures.join("\n")
    );
}
