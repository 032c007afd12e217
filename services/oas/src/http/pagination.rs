//! Paged lists the way Django REST Framework pages them: `?page=N` and
//! `page_size`, answered as `{count, next, previous, results}` with absolute
//! `next`/`previous` URLs (null at either end).

use actix_web::HttpRequest;
use oas_platform::config::Settings;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorCode};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page number, from 1.
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// Results per page; larger values are capped at the server's maximum.
    #[param(minimum = 1)]
    pub page_size: Option<i64>,
}

/// A validated page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pagination {
    pub page: u64,
    pub page_size: u64,
}

impl Pagination {
    pub fn new(query: &PageQuery, settings: &Settings) -> Result<Self, ApiError> {
        let page = match query.page {
            None => 1,
            Some(page) => u64::try_from(page)
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(invalid_page)?,
        };
        let page_size = match query.page_size {
            None => settings.page_size,
            Some(n) if n < 1 => {
                return Err(ApiError::bad_request("page_size must be at least 1."));
            }
            Some(n) => u64::try_from(n)
                .unwrap_or(u64::MAX)
                .min(settings.max_page_size),
        };
        Ok(Self { page, page_size })
    }

    /// Rows to skip, for SQL `OFFSET`.
    pub fn offset(&self) -> i64 {
        i64::try_from(self.page.saturating_sub(1).saturating_mul(self.page_size))
            .unwrap_or(i64::MAX)
    }

    /// Rows to take, for SQL `LIMIT`.
    pub fn limit(&self) -> i64 {
        i64::try_from(self.page_size).unwrap_or(i64::MAX)
    }
}

fn invalid_page() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "Invalid page.")
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// Results across all pages.
    pub count: u64,
    /// URL of the next page, or null on the last.
    pub next: Option<String>,
    /// URL of the previous page, or null on the first.
    pub previous: Option<String>,
    pub results: Vec<T>,
}

impl<T> Page<T> {
    /// Wraps one page of `results` out of `count`. A page past the last is a
    /// 404 ("Invalid page."); page 1 of an empty list is an empty page.
    pub fn new(
        req: &HttpRequest,
        settings: &Settings,
        pagination: Pagination,
        count: u64,
        results: Vec<T>,
    ) -> Result<Self, ApiError> {
        let last_page = count.div_ceil(pagination.page_size).max(1);
        if pagination.page > last_page {
            return Err(invalid_page());
        }
        let here = absolute_url(req, settings.public_url.as_ref())?;
        let next = (pagination.page < last_page).then(|| with_page(&here, pagination.page + 1));
        let previous = (pagination.page > 1).then(|| with_page(&here, pagination.page - 1));
        Ok(Self {
            count,
            next,
            previous,
            results,
        })
    }
}

fn absolute_url(req: &HttpRequest, public_url: Option<&url::Url>) -> Result<url::Url, ApiError> {
    let base = match public_url {
        Some(public) => public.as_str().trim_end_matches('/').to_owned(),
        None => {
            let info = req.connection_info();
            format!("{}://{}", info.scheme(), info.host())
        }
    };
    let mut text = format!("{base}{}", req.path());
    if !req.query_string().is_empty() {
        text.push('?');
        text.push_str(req.query_string());
    }
    url::Url::parse(&text).map_err(|_| ApiError::bad_request("The request URL is not valid."))
}

/// The same URL on another page; page 1 drops the parameter, as DRF does.
fn with_page(url: &url::Url, page: u64) -> String {
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(key, _)| key != "page")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut out = url.clone();
    out.set_query(None);
    {
        let mut pairs = out.query_pairs_mut();
        pairs.extend_pairs(kept);
        if page > 1 {
            pairs.append_pair("page", &page.to_string());
        }
    }
    if out.query() == Some("") {
        out.set_query(None);
    }
    out.to_string()
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn settings(extra: &[(&str, &str)]) -> Settings {
        Settings::from_vars(extra.iter().map(|(k, v)| (k.to_string(), v.to_string()))).unwrap()
    }

    fn page(uri: &str, query: PageQuery, count: u64, s: &Settings) -> Result<Page<u64>, ApiError> {
        let req = TestRequest::get()
            .uri(uri)
            .insert_header(("host", "oas.test:8000"))
            .to_http_request();
        let p = Pagination::new(&query, s)?;
        Page::new(&req, s, p, count, vec![])
    }

    #[test]
    fn middle_page_links_both_ways_and_keeps_other_parameters() {
        let s = settings(&[]);
        let q = PageQuery {
            page: Some(2),
            page_size: Some(10),
        };
        let p = page(
            "/api/files/salesfiles/?status=FAILED&page=2&page_size=10",
            q,
            35,
            &s,
        )
        .unwrap();
        assert_eq!(p.count, 35);
        assert_eq!(
            p.next.as_deref(),
            Some("http://oas.test:8000/api/files/salesfiles/?status=FAILED&page_size=10&page=3")
        );
        assert_eq!(
            p.previous.as_deref(),
            Some("http://oas.test:8000/api/files/salesfiles/?status=FAILED&page_size=10")
        );
    }

    #[test]
    fn ends_have_null_links_and_the_public_url_wins() {
        let s = settings(&[("OAS_PUBLIC_URL", "https://oas.example.com/")]);
        let first = page("/api/x/", PageQuery::default(), 45, &s).unwrap();
        assert_eq!(first.previous, None);
        assert_eq!(
            first.next.as_deref(),
            Some("https://oas.example.com/api/x/?page=2")
        );
        let last = page(
            "/api/x/?page=3",
            PageQuery {
                page: Some(3),
                page_size: None,
            },
            45,
            &s,
        )
        .unwrap();
        assert_eq!(last.next, None);
        assert_eq!(
            last.previous.as_deref(),
            Some("https://oas.example.com/api/x/?page=2")
        );
    }

    #[test]
    fn an_empty_list_has_one_empty_page() {
        let p = page("/api/x/", PageQuery::default(), 0, &settings(&[])).unwrap();
        assert_eq!((p.count, p.next, p.previous), (0, None, None));
    }

    #[test]
    fn pages_out_of_range_are_invalid_and_sizes_are_capped() {
        let s = settings(&[("OAS_MAX_PAGE_SIZE", "50")]);
        let err = page(
            "/api/x/?page=4",
            PageQuery {
                page: Some(4),
                page_size: None,
            },
            45,
            &s,
        )
        .unwrap_err();
        assert_eq!(
            (err.code(), err.detail()),
            (ErrorCode::NotFound, "Invalid page.")
        );
        assert!(
            Pagination::new(
                &PageQuery {
                    page: Some(0),
                    page_size: None
                },
                &s
            )
            .is_err()
        );
        assert_eq!(
            Pagination::new(
                &PageQuery {
                    page: None,
                    page_size: Some(0)
                },
                &s
            )
            .unwrap_err()
            .code(),
            ErrorCode::BadRequest
        );
        let capped = Pagination::new(
            &PageQuery {
                page: Some(3),
                page_size: Some(1000),
            },
            &s,
        )
        .unwrap();
        assert_eq!(
            (capped.page_size, capped.offset(), capped.limit()),
            (50, 100, 50)
        );
    }
}
