//! What the handlers' annotations leave implicit, made explicit in the
//! served document, from rules every route follows (`crate::http`):
//!
//! - a route that takes credentials can answer 401;
//! - a JSON body can be malformed (400), too large (413) or not JSON (415);
//! - a query string can be malformed (400);
//! - a path names something that may not exist, or not for the caller (404);
//! - every error is `{"detail"}` ([`ErrorBody`]);
//! - no text of a JSON body, a path or a query string holds the NUL
//!   character (`crate::http::json`, `crate::http::extract`);
//! - a create operation (POST answering 201 with an `id`) links to the
//!   operations on what it created, so a client (or a stateful test) can
//!   follow them.
//!
//! The methods each path serves are also read from here, for the `Allow`
//! header of a 405 ([`Routes`]).
//!
//! [`ErrorBody`]: crate::http::error::ErrorBody

use serde_json::{Map, Value, json};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Adds the implicit responses and the links to `doc` (an OpenAPI 3 document).
pub fn complete(doc: &mut Value) {
    let paths: Vec<String> = doc["paths"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    for path in &paths {
        for method in METHODS {
            let Some(operation) = doc["paths"][path].get_mut(method) else {
                continue;
            };
            add_implicit_responses(operation);
        }
    }
    add_links(doc, &paths);
    for path in &paths {
        for method in METHODS {
            let Some(operation) = doc["paths"][path].get_mut(method) else {
                continue;
            };
            for part in ["requestBody", "parameters"] {
                if let Some(part) = operation.get_mut(part) {
                    no_nul_characters(part);
                }
            }
        }
    }
    if let Some(schemas) = doc["components"].get_mut("schemas") {
        no_nul_characters(schemas);
    }
}

/// Any text: none of it the NUL character.
const WITHOUT_NUL: &str = r"^[^\x00]*$";
/// Text with a character other than white space (`\S`), and no NUL.
const NOT_BLANK_WITHOUT_NUL: &str = r"^[^\x00]*[^\s\x00][^\x00]*$";

/// States on every free text schema under `value` that it holds no NUL
/// character: as a pattern where it has none, or within its "not blank"
/// one. Text with a format, a list of values or another pattern is left
/// as it is: none of those admits a NUL.
fn no_nul_characters(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            let text = fields.get("type").is_some_and(|t| {
                t == "string"
                    || t.as_array()
                        .is_some_and(|ts| ts.iter().any(|t| t == "string"))
            });
            if text && !fields.contains_key("format") && !fields.contains_key("enum") {
                match fields.get("pattern").and_then(Value::as_str) {
                    None => {
                        fields.insert("pattern".into(), WITHOUT_NUL.into());
                    }
                    Some(r"\S") => {
                        fields.insert("pattern".into(), NOT_BLANK_WITHOUT_NUL.into());
                    }
                    Some(_) => {}
                }
            }
            for (key, inner) in fields.iter_mut() {
                // Examples and defaults are values, not schemas.
                if !matches!(key.as_str(), "example" | "examples" | "default" | "enum") {
                    no_nul_characters(inner);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(no_nul_characters),
        _ => {}
    }
}

fn error(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    })
}

fn add_implicit_responses(operation: &mut Value) {
    let secured = operation["security"].as_array().is_some_and(|s| {
        s.iter()
            .any(|r| r.as_object().is_some_and(|r| !r.is_empty()))
    });
    if operation.get("security").is_none()
        && let Some(operation) = operation.as_object_mut()
    {
        // Said outright: this operation takes no credentials.
        operation.insert("security".to_owned(), json!([]));
    }
    let parameters = operation["parameters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let takes = |place: &str| parameters.iter().any(|p| p["in"] == place);
    let body = operation.get("requestBody").is_some();
    let mut implicit = Vec::new();
    if secured {
        implicit.push((
            "401",
            "Credentials missing, malformed, expired or revoked (an API key in X-Api-Key, or a bearer access token)",
        ));
    }
    if body {
        implicit.push(("400", "The body is not valid JSON for this operation, or breaks a rule; `errors` names each field"));
        implicit.push(("413", "The body is larger than OAS_MAX_BODY_BYTES"));
        implicit.push(("415", "The body is not `application/json`"));
    }
    if takes("query") {
        implicit.push(("400", "A query parameter is not valid"));
    }
    if parameters
        .iter()
        .any(|p| p["in"] == "query" && p["name"] == "page")
    {
        implicit.push(("404", "No such page (`Invalid page.`)"));
    }
    if takes("path") {
        implicit.push((
            "404",
            "Not found, or not the caller's to see (existence is not disclosed)",
        ));
    }
    let Some(responses) = operation["responses"].as_object_mut() else {
        return;
    };
    for (status, description) in implicit {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| error(description));
    }
}

/// The path parameters of a path template, in order: `{id}` gives `id`.
fn parameters_of(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

/// For every create operation (`POST /things/` answering 201 with an
/// object that has an `id`), links to each operation of `/things/{x}/`,
/// with `x` from the created object's `id` and the other path parameters
/// from the create request's path.
fn add_links(doc: &mut Value, paths: &[String]) {
    let mut found: Vec<(String, String, Map<String, Value>)> = Vec::new();
    for collection in paths {
        let created = &doc["paths"][collection]["post"]["responses"]["201"];
        if created.is_null() || !creates_with_id(doc, created) {
            continue;
        }
        let outer = parameters_of(collection);
        for item in paths {
            let Some(rest) = item.strip_prefix(collection.as_str()) else {
                continue;
            };
            let Some(name) = rest
                .strip_suffix("}/")
                .and_then(|r| r.strip_prefix('{'))
                .filter(|n| !n.contains('/'))
            else {
                continue;
            };
            for method in METHODS {
                let Some(id) = doc["paths"][item][method]["operationId"].as_str() else {
                    continue;
                };
                let mut parameters = Map::new();
                parameters.insert(name.to_owned(), json!("$response.body#/id"));
                for shared in &outer {
                    parameters.insert(
                        (*shared).to_owned(),
                        json!(format!("$request.path.{shared}")),
                    );
                }
                found.push((collection.clone(), id.to_owned(), parameters));
            }
        }
    }
    for (collection, target, parameters) in found {
        let link = json!({"operationId": target, "parameters": parameters});
        let created = &mut doc["paths"][&collection]["post"]["responses"]["201"];
        if let Some(created) = created.as_object_mut() {
            let links = created.entry("links").or_insert_with(|| json!({}));
            if let Some(links) = links.as_object_mut() {
                links.insert(link_name(&target), link);
            }
        }
    }
}

/// `get_file` as `GetFile`.
fn link_name(operation_id: &str) -> String {
    operation_id
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// Whether a 201 response's JSON body is an object with an `id`.
fn creates_with_id(doc: &Value, response: &Value) -> bool {
    let schema = &response["content"]["application/json"]["schema"];
    let schema = match schema["$ref"].as_str() {
        Some(reference) => reference
            .strip_prefix("#/components/schemas/")
            .map(|name| &doc["components"]["schemas"][name])
            .unwrap_or(&Value::Null),
        None => schema,
    };
    schema["properties"].get("id").is_some()
}

/// The methods each documented path serves, for a 405's `Allow`.
#[derive(Debug, Default)]
pub struct Routes(Vec<(Vec<String>, Vec<String>)>);

impl Routes {
    pub fn of(doc: &Value) -> Routes {
        let mut routes = Vec::new();
        if let Some(paths) = doc["paths"].as_object() {
            for (path, item) in paths {
                let methods: Vec<String> = METHODS
                    .iter()
                    .filter(|m| item.get(**m).is_some())
                    .map(|m| m.to_uppercase())
                    .collect();
                let segments = path.split('/').map(str::to_owned).collect();
                routes.push((segments, methods));
            }
        }
        Routes(routes)
    }

    /// The methods served at `path`, if a documented path matches it: a
    /// `{param}` segment matches any one segment, and a last one (without a
    /// trailing slash) the rest of the path. Where several match, the ones
    /// with the most literal segments win (`/api/users/me/` over
    /// `/api/users/{id}/`), as the router resolves them.
    pub fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let given: Vec<&str> = path.split('/').collect();
        let literal = |template: &[String]| {
            template
                .iter()
                .filter(|s| !(s.starts_with('{') && s.ends_with('}')))
                .count()
        };
        let matching: Vec<&(Vec<String>, Vec<String>)> = self
            .0
            .iter()
            .filter(|(template, _)| matches(template, &given))
            .collect();
        let most = matching.iter().map(|(t, _)| literal(t)).max()?;
        let mut allowed: Vec<String> = matching
            .iter()
            .filter(|(t, _)| literal(t) == most)
            .flat_map(|(_, methods)| methods.iter().cloned())
            .collect();
        allowed.sort();
        allowed.dedup();
        (!allowed.is_empty()).then_some(allowed)
    }
}

fn matches(template: &[String], given: &[&str]) -> bool {
    let is_param = |s: &str| s.starts_with('{') && s.ends_with('}');
    for (at, segment) in template.iter().enumerate() {
        let last = at + 1 == template.len();
        match given.get(at) {
            None => return false,
            Some(_) if last && is_param(segment) => return true,
            Some(value) if is_param(segment) => {
                if value.is_empty() {
                    return false;
                }
            }
            Some(value) => {
                if value != segment {
                    return false;
                }
            }
        }
    }
    template.len() == given.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        json!({
            "paths": {
                "/api/things/": {
                    "post": {"operationId": "create_thing", "security": [{"api_key": []}],
                             "requestBody": {},
                             "responses": {"201": {"description": "made",
                                 "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}},
                    "get": {"operationId": "list_things", "security": [{"api_key": []}],
                            "parameters": [{"in": "query", "name": "page"}],
                            "responses": {"200": {"description": "a page"}}},
                },
                "/api/things/{id}/": {
                    "get": {"operationId": "get_thing", "parameters": [{"in": "path", "name": "id"}],
                            "responses": {"200": {"description": "it"}}},
                    "delete": {"operationId": "delete_thing", "parameters": [{"in": "path", "name": "id"}],
                               "responses": {"204": {"description": "gone"}}},
                },
                "/api/storage/{key}": {"get": {"operationId": "get_object", "responses": {}}},
                "/api/things/mine/": {"get": {"operationId": "my_things", "responses": {}}},
            },
            "components": {"schemas": {"Thing": {"properties": {"id": {"type": "integer"}}}}},
        })
    }

    #[test]
    fn implicit_statuses_follow_from_an_operations_shape() {
        let mut doc = doc();
        complete(&mut doc);
        let statuses = |path: &str, method: &str| -> Vec<String> {
            let mut statuses: Vec<String> = doc["paths"][path][method]["responses"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect();
            statuses.sort();
            statuses
        };
        assert_eq!(
            statuses("/api/things/", "post"),
            ["201", "400", "401", "413", "415"]
        );
        assert_eq!(
            statuses("/api/things/", "get"),
            ["200", "400", "401", "404"],
            "a page past the end is 404"
        );
        assert_eq!(
            statuses("/api/things/{id}/", "get"),
            ["200", "404"],
            "public: no 401"
        );
        assert_eq!(
            doc["paths"]["/api/things/"]["post"]["responses"]["401"]["content"]["application/json"]
                ["schema"]["$ref"],
            "#/components/schemas/ErrorBody"
        );
    }

    #[test]
    fn a_create_operation_links_to_what_it_created() {
        let mut doc = doc();
        complete(&mut doc);
        let links = &doc["paths"]["/api/things/"]["post"]["responses"]["201"]["links"];
        assert_eq!(
            links["GetThing"],
            json!({"operationId": "get_thing", "parameters": {"id": "$response.body#/id"}})
        );
        assert_eq!(links["DeleteThing"]["operationId"], "delete_thing");
        assert_eq!(links.as_object().unwrap().len(), 2);
    }

    #[test]
    fn free_text_of_a_body_says_it_holds_no_nul() {
        let mut doc = doc();
        doc["paths"]["/api/things/"]["post"]["requestBody"] = json!({"content": {"application/json": {"schema": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "pattern": r"\S", "example": {"type": "string"}},
                "note": {"type": ["string", "null"]},
                "email": {"type": "string", "format": "email"},
                "isrc": {"type": "string", "pattern": "^[A-Z]{2}$"},
                "kind": {"type": "string", "enum": ["a", "b"]},
            },
        }}}});
        doc["components"]["schemas"]["Thing"]["properties"]["label"] = json!({"type": "string"});
        doc["paths"]["/api/things/"]["get"]["parameters"] =
            json!([{"in": "query", "name": "search", "schema": {"type": ["string", "null"]}}]);
        complete(&mut doc);
        assert_eq!(
            doc["paths"]["/api/things/"]["get"]["parameters"][0]["schema"]["pattern"],
            WITHOUT_NUL
        );
        let body = &doc["paths"]["/api/things/"]["post"]["requestBody"]["content"]["application/json"]
            ["schema"]["properties"];
        assert_eq!(body["name"]["pattern"], NOT_BLANK_WITHOUT_NUL);
        assert_eq!(body["name"]["example"], json!({"type": "string"}));
        assert_eq!(body["note"]["pattern"], WITHOUT_NUL);
        assert!(body["email"].get("pattern").is_none());
        assert_eq!(body["isrc"]["pattern"], "^[A-Z]{2}$");
        assert!(body["kind"].get("pattern").is_none());
        assert_eq!(
            doc["components"]["schemas"]["Thing"]["properties"]["label"]["pattern"],
            WITHOUT_NUL
        );
    }

    #[test]
    fn a_path_is_matched_to_the_methods_it_serves() {
        let routes = Routes::of(&doc());
        assert_eq!(
            routes.allowed("/api/things/"),
            Some(vec!["GET".to_owned(), "POST".to_owned()])
        );
        assert_eq!(
            routes.allowed("/api/things/42/"),
            Some(vec!["DELETE".to_owned(), "GET".to_owned()])
        );
        assert_eq!(routes.allowed("/api/things/42/more/"), None);
        assert_eq!(routes.allowed("/api/things//"), None);
        assert_eq!(
            routes.allowed("/api/storage/org-1/files/2/original"),
            Some(vec!["GET".to_owned()])
        );
        assert_eq!(routes.allowed("/api/nothing/"), None);
        assert_eq!(
            routes.allowed("/api/things/mine/"),
            Some(vec!["GET".to_owned()]),
            "a literal path wins over a parameter"
        );
    }
}
