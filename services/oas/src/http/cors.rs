//! Which browser pages may call the API: the configured origins, and always
//! the page's own origin (so the bundled API docs can "try it out").

use actix_cors::Cors;
use actix_web::dev::RequestHead;
use actix_web::http::header::{HOST, HeaderValue};
use oas_platform::config::CorsOrigins;

pub fn cors(origins: &CorsOrigins) -> Cors {
    let base = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        .allowed_headers([
            "authorization",
            "content-type",
            "accept",
            "x-api-key",
            "x-request-id",
        ])
        .expose_headers(["x-request-id", "retry-after"])
        .max_age(3600);
    match origins {
        CorsOrigins::Any => base.allow_any_origin(),
        CorsOrigins::List(list) => {
            let list = list.clone();
            base.allowed_origin_fn(move |origin, head| {
                list.iter()
                    .any(|allowed| allowed.as_bytes() == origin.as_bytes())
                    || same_origin(origin, head)
            })
        }
    }
}

/// Whether the `Origin` names the host the request was sent to.
fn same_origin(origin: &HeaderValue, head: &RequestHead) -> bool {
    let (Some(host), Ok(origin)) = (head.headers().get(HOST), origin.to_str()) else {
        return false;
    };
    let Ok(url) = url::Url::parse(origin) else {
        return false;
    };
    let Some(origin_host) = url.host_str() else {
        return false;
    };
    let origin_authority = match url.port() {
        Some(port) => format!("{origin_host}:{port}"),
        None => origin_host.to_owned(),
    };
    host.to_str()
        .is_ok_and(|host| host.eq_ignore_ascii_case(&origin_authority))
}
