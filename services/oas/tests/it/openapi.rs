//! The OpenAPI document describes every route, and every described route exists.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use reqwest::StatusCode;
use syn::visit::Visit;

use crate::support::TestApp;

const ROUTE_ATTRIBUTES: &[&str] = &["get", "post", "put", "patch", "delete", "head", "route"];

async fn document(app: &TestApp) -> serde_json::Value {
    let response = app.get("/api/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    response.json().await.unwrap()
}

/// (method, path, operationId) of every operation in the document.
fn operations(doc: &serde_json::Value) -> Vec<(String, String, String)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            all.push((method.to_uppercase(), path.clone(), id));
        }
    }
    all
}

#[actix_web::test]
async fn the_document_is_openapi_3_with_auth_schemes_and_the_operations_routes() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "OAS");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["api_key"]["name"], "X-Api-Key");
    let paths: BTreeSet<String> = operations(&doc)
        .into_iter()
        .map(|(m, p, _)| format!("{m} {p}"))
        .collect();
    for expected in [
        "GET /healthz",
        "GET /readyz",
        "GET /metrics",
        "GET /api/openapi.json",
    ] {
        assert!(
            paths.contains(expected),
            "{expected} missing from {paths:?}"
        );
    }
    for (method, path, id) in operations(&doc) {
        let operation = &doc["paths"][&path][method.to_lowercase()];
        assert!(!id.is_empty(), "{method} {path} has an operationId");
        assert!(
            operation["responses"]
                .as_object()
                .is_some_and(|r| !r.is_empty()),
            "{method} {path} documents its responses"
        );
    }
}

#[actix_web::test]
async fn every_documented_operation_is_served() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    for (method, path, _) in operations(&doc) {
        // Path parameters get a plausible value; the route must exist either way.
        let concrete: String = path
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "1"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let response = app
            .client
            .request(method.parse().unwrap(), app.url(&concrete))
            .send()
            .await
            .unwrap();
        assert!(
            !matches!(
                response.status(),
                StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
            ),
            "{method} {path} is documented but answers {}",
            response.status()
        );
    }
}

#[actix_web::test]
async fn swagger_ui_is_served_from_bundled_assets() {
    let app = TestApp::spawn().await;
    let page = app.get("/api/docs/").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        page.text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("swagger")
    );
    let init = app.get("/api/docs/swagger-initializer.js").await;
    assert_eq!(init.status(), StatusCode::OK);
    assert!(init.text().await.unwrap().contains("/api/openapi.json"));
    let bundle = app.get("/api/docs/swagger-ui-bundle.js").await;
    assert_eq!(bundle.status(), StatusCode::OK);
    assert!(
        bundle.bytes().await.unwrap().len() > 100_000,
        "the UI is bundled, not fetched"
    );
    let bare = app.get("/api/docs").await;
    assert!(bare.status().is_redirection());
    assert_eq!(bare.headers()["location"], "/api/docs/");
}

/// Finds route handlers and manual route registrations in the gateway's source.
#[derive(Default)]
struct RouteScan {
    file: PathBuf,
    /// Handlers carrying an actix route attribute: (file, function, has `#[utoipa::path]`).
    handlers: Vec<(PathBuf, String, bool)>,
    /// Calls registering a route around utoipa: `.route(..)`, `web::get()`, `web::resource(..)`…
    manual: Vec<String>,
}

fn last_segment(path: &syn::Path) -> String {
    path.segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default()
}

impl<'ast> Visit<'ast> for RouteScan {
    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        let is_route = item.attrs.iter().any(|a| {
            let path = a.path();
            let name = last_segment(path);
            ROUTE_ATTRIBUTES.contains(&name.as_str())
                && (path.segments.len() == 1
                    || path
                        .segments
                        .first()
                        .is_some_and(|s| s.ident == "actix_web"))
        });
        if is_route {
            let documented = item.attrs.iter().any(|a| {
                let segments: Vec<String> = a
                    .path()
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect();
                segments == ["utoipa", "path"]
            });
            self.handlers
                .push((self.file.clone(), item.sig.ident.to_string(), documented));
        }
        syn::visit::visit_item_fn(self, item);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        if call.method == "route" {
            self.manual
                .push(format!("{}: .route(..)", self.file.display()));
        }
        syn::visit::visit_expr_method_call(self, call);
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        if let syn::Expr::Path(path) = call.func.as_ref() {
            let segments: Vec<String> = path
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            let actix_route = matches!(
                segments
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .as_slice(),
                [
                    ..,
                    "web",
                    "get"
                        | "post"
                        | "put"
                        | "patch"
                        | "delete"
                        | "head"
                        | "method"
                        | "route"
                        | "resource"
                ] | [.., "Resource" | "Route", "new"]
            );
            if actix_route {
                self.manual.push(format!(
                    "{}: {}(..)",
                    self.file.display(),
                    segments.join("::")
                ));
            }
        }
        syn::visit::visit_expr_call(self, call);
    }
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[actix_web::test]
async fn every_route_in_the_source_is_in_the_document() {
    let mut files = Vec::new();
    rust_files(
        &Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("src"),
        &mut files,
    );
    let mut scan = RouteScan::default();
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        let syntax = syn::parse_file(&source).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        scan.file = file;
        scan.visit_file(&syntax);
    }
    assert!(
        scan.handlers.len() >= 4,
        "the scan finds the handlers: {:?}",
        scan.handlers
    );
    let undocumented: Vec<_> = scan
        .handlers
        .iter()
        .filter(|(_, _, documented)| !documented)
        .collect();
    assert!(
        undocumented.is_empty(),
        "route handlers without #[utoipa::path]: {undocumented:?}"
    );
    assert!(
        scan.manual.is_empty(),
        "routes registered around the documented handlers: {:?}",
        scan.manual
    );

    let app = TestApp::spawn().await;
    let ids: BTreeSet<String> = operations(&document(&app).await)
        .into_iter()
        .map(|(_, _, id)| id)
        .collect();
    for (file, handler, _) in &scan.handlers {
        assert!(
            ids.contains(handler),
            "{handler} ({}) is not in the document",
            file.display()
        );
    }
}

#[test]
fn the_scan_catches_undocumented_handlers_and_manual_routes() {
    let source = r#"
        #[utoipa::path(get, path = "/documented")]
        #[get("/documented")]
        async fn documented() {}

        #[actix_web::post("/hidden")]
        async fn hidden() {}

        fn configure(cfg: &mut ServiceConfig) {
            cfg.route("/manual", web::get().to(hidden));
            cfg.service(web::resource("/raw"));
        }
    "#;
    let mut scan = RouteScan::default();
    scan.visit_file(&syn::parse_file(source).unwrap());
    let handlers: Vec<(&str, bool)> = scan
        .handlers
        .iter()
        .map(|(_, name, documented)| (name.as_str(), *documented))
        .collect();
    assert_eq!(handlers, [("documented", true), ("hidden", false)]);
    assert_eq!(scan.manual.len(), 3, "{:?}", scan.manual);
}

/// The statuses every operation can answer by the shared rules are in the
/// document, each with the `{"detail"}` body: 401 where credentials are
/// taken, 400/413/415 where a body is, 404 where a path names something.
#[actix_web::test]
async fn every_operation_lists_the_statuses_the_shared_rules_can_answer() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    for (method, path, _) in operations(&doc) {
        let operation = &doc["paths"][&path][method.to_lowercase()];
        let responses = operation["responses"].as_object().unwrap();
        let has = |status: &str| responses.contains_key(status);
        let secured = operation["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|r| !r.as_object().unwrap().is_empty()));
        assert!(
            operation["security"].is_array(),
            "{method} {path} names its security"
        );
        if secured {
            assert!(has("401"), "{method} {path}: 401");
        }
        if operation.get("requestBody").is_some() {
            for status in ["400", "413", "415"] {
                assert!(has(status), "{method} {path}: {status}");
            }
        }
        if path.contains('{') {
            assert!(has("404"), "{method} {path}: 404");
        }
        for (status, response) in responses {
            if status.starts_with('4') {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path} {status}"
                );
            }
        }
    }
}

#[actix_web::test]
async fn required_fields_are_required_and_limits_are_in_the_schemas() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let schema = &doc["components"]["schemas"]["CreateSalesFile"];
    let required: BTreeSet<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert_eq!(
        required,
        BTreeSet::from(["filename", "filetype", "filesize", "mongo_db_id"])
    );
    let filename = &schema["properties"]["filename"];
    assert_eq!(filename["type"], "string", "required, so not nullable");
    assert_eq!(filename["maxLength"], 255);
    assert_eq!(schema["properties"]["filesize"]["minimum"], 0);
    let types: Vec<&str> = schema["properties"]["filetype"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(types, oas_domain::file::FILE_TYPES);
    let currencies =
        &doc["components"]["schemas"]["CreateOrganisation"]["properties"]["currencies"];
    assert_eq!(currencies["uniqueItems"], true);
    assert!(
        currencies["items"]["enum"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("EUR"))
    );
    // A paged list documents its page.
    let list = &doc["paths"]["/api/files/salesfiles/"]["get"]["responses"]["200"];
    assert_eq!(
        list["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Page_SalesFileOut"
    );
}

#[actix_web::test]
async fn a_create_operation_links_to_what_it_creates() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let links = &doc["paths"]["/api/files/salesfiles/"]["post"]["responses"]["201"]["links"];
    assert_eq!(links["GetFile"]["operationId"], "get_file");
    assert_eq!(links["GetFile"]["parameters"]["id"], "$response.body#/id");
    assert_eq!(links["DeleteFile"]["operationId"], "delete_file");
    let contact = &doc["paths"]["/api/organisations/{id}/contacts/"]["post"]["responses"]["201"]["links"]
        ["UpdateContact"];
    assert_eq!(contact["parameters"]["contact_id"], "$response.body#/id");
    assert_eq!(contact["parameters"]["id"], "$request.path.id");
}

/// A method a path does not serve is 405 with `Allow` naming those it
/// does, also where a parameter route would have taken the path.
#[actix_web::test]
async fn a_method_not_served_is_405_with_allow() {
    let app = TestApp::spawn().await;
    let (_, key) = app.user_with_key("alma").await;
    for (method, path, allow) in [
        (reqwest::Method::PUT, "/api/files/salesfiles/", "GET, POST"),
        (reqwest::Method::DELETE, "/api/users/me/", "GET, PATCH"),
        (reqwest::Method::OPTIONS, "/api/jobs/ping/", "POST"),
        (reqwest::Method::POST, "/healthz", "GET"),
    ] {
        let response = app
            .with_key(method.clone(), path, &key)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(response.headers()["allow"], allow, "{method} {path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["detail"], format!("Method \"{method}\" not allowed."));
    }
    let unknown = app
        .with_key(reqwest::Method::GET, "/api/users/abc/", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        unknown.status(),
        StatusCode::NOT_FOUND,
        "an id that does not parse"
    );
}
