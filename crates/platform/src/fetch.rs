//! Requests to addresses a user gave: the host's addresses are resolved and
//! every one checked ([`oas_domain::fetch::Allowed::check`]) before any
//! connection; the connection is pinned to the checked addresses, so no
//! second lookup can answer differently; redirects are followed by hand and
//! each checked the same way; every request has a time limit and a body a
//! size limit. A file's bytes go straight to disk ([`Guard::get_to`],
//! [`Saver`]), hashed on the way, however large.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use crate::storage::ContentHasher;

use oas_domain::fetch::Allowed;
use url::Url;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The URL, or a redirect, leads where OAS does not fetch from.
    #[error("{0}")]
    Refused(String),
    #[error("{host} cannot be found: {error}")]
    Lookup { host: String, error: String },
    #[error("more than {0} redirects")]
    Redirects(usize),
    #[error("the answer is larger than {0} bytes")]
    TooLarge(u64),
    #[error("{0}")]
    Http(#[from] reqwest::Error),
    #[error("cannot write the file: {0}")]
    Io(#[from] std::io::Error),
}

/// A file written to disk by a fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub size: u64,
    /// `blake3:<hex>`, as storage computes it.
    pub content_hash: String,
}

/// What an answer was: its body saved (a success), or the body in memory
/// (anything else, at most 64 KiB, to read why).
#[derive(Debug)]
pub enum Answer {
    Saved(Saved),
    Body(Vec<u8>),
}

/// How much of an answer that is not a file is read.
const ERROR_BODY: u64 = 64 * 1024;

/// Writes bytes to a file as they come, hashing them, refusing more than a
/// limit.
pub struct Saver {
    file: tokio::fs::File,
    hasher: ContentHasher,
    size: u64,
    max_bytes: u64,
}

impl Saver {
    pub async fn create(path: &Path, max_bytes: u64) -> Result<Self, FetchError> {
        Ok(Self {
            file: tokio::fs::File::create(path).await?,
            hasher: ContentHasher::default(),
            size: 0,
            max_bytes,
        })
    }

    pub async fn push(&mut self, bytes: &[u8]) -> Result<(), FetchError> {
        self.size += bytes.len() as u64;
        if self.size > self.max_bytes {
            return Err(FetchError::TooLarge(self.max_bytes));
        }
        self.hasher.update(bytes);
        self.file.write_all(bytes).await?;
        Ok(())
    }

    pub async fn finish(mut self) -> Result<Saved, FetchError> {
        self.file.flush().await?;
        Ok(Saved {
            size: self.size,
            content_hash: self.hasher.finish(),
        })
    }
}

/// What a fetch may reach and how long and large its answers may be.
#[derive(Debug, Clone)]
pub struct Guard {
    allowed: Allowed,
    timeout: Duration,
    max_redirects: usize,
}

impl Guard {
    pub fn new(allowed: Allowed, timeout: Duration) -> Self {
        Self {
            allowed,
            timeout,
            max_redirects: 5,
        }
    }

    /// How long one request may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The addresses of `host` a fetch may connect to: all of them, or a
    /// refusal when any is refused (a name that resolves to a private
    /// address among public ones is refused: the next lookup could pick
    /// it).
    pub async fn addresses(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, FetchError> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let found: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => tokio::net::lookup_host((bare, port))
                .await
                .map_err(|e| FetchError::Lookup {
                    host: bare.to_owned(),
                    error: e.to_string(),
                })?
                .collect(),
        };
        if found.is_empty() {
            return Err(FetchError::Lookup {
                host: bare.to_owned(),
                error: "no address".to_owned(),
            });
        }
        for address in &found {
            self.allowed
                .check(address.ip())
                .map_err(|why| FetchError::Refused(format!("{bare}: {why}")))?;
        }
        Ok(found)
    }

    /// A client that connects to `url`'s host only at its checked
    /// addresses, following no redirect by itself.
    async fn client_for(&self, url: &Url) -> Result<reqwest::Client, FetchError> {
        let host = url
            .host_str()
            .ok_or_else(|| FetchError::Refused(format!("{url} names no host")))?;
        let port = url.port_or_known_default().unwrap_or(443);
        let addresses = self.addresses(host, port).await?;
        Ok(reqwest::Client::builder()
            .resolve_to_addrs(host, &addresses)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.timeout)
            .no_proxy()
            .build()?)
    }

    /// GETs `url` with `headers`, following redirects (each checked), and
    /// reads at most `max_bytes` of the answer.
    pub async fn get(
        &self,
        url: &Url,
        headers: &[(&str, &str)],
        max_bytes: u64,
    ) -> Result<(reqwest::StatusCode, Vec<u8>), FetchError> {
        let response = self
            .send(reqwest::Method::GET, url, headers, None, max_bytes)
            .await?;
        let status = response.status();
        Ok((status, read(response, max_bytes).await?))
    }

    /// GETs `url` as [`Guard::get`] does; a successful answer's body is
    /// written to `path` (at most `max_bytes`), any other's read.
    pub async fn get_to(
        &self,
        url: &Url,
        headers: &[(&str, &str)],
        path: &Path,
        max_bytes: u64,
    ) -> Result<(reqwest::StatusCode, Answer), FetchError> {
        let response = self
            .send(reqwest::Method::GET, url, headers, None, max_bytes)
            .await?;
        answer(response, path, max_bytes).await
    }

    /// POSTs as [`Guard::post`] does; a successful answer's body is
    /// written to `path` (at most `max_bytes`), any other's read.
    pub async fn post_to(
        &self,
        url: &Url,
        headers: &[(&str, &str)],
        body: Vec<u8>,
        path: &Path,
        max_bytes: u64,
    ) -> Result<(reqwest::StatusCode, Answer), FetchError> {
        let response = self
            .send(reqwest::Method::POST, url, headers, Some(body), max_bytes)
            .await?;
        answer(response, path, max_bytes).await
    }

    /// POSTs `body` to `url` with `headers` (a redirect is an answer, not
    /// followed), and reads at most `max_bytes` of the answer.
    pub async fn post(
        &self,
        url: &Url,
        headers: &[(&str, &str)],
        body: Vec<u8>,
        max_bytes: u64,
    ) -> Result<(reqwest::StatusCode, Vec<u8>), FetchError> {
        let response = self
            .send(reqwest::Method::POST, url, headers, Some(body), max_bytes)
            .await?;
        let status = response.status();
        Ok((status, read(response, max_bytes).await?))
    }

    /// The answer to a request, redirects followed (each checked), its
    /// body not read yet; one announced larger than `max_bytes` is refused.
    async fn send(
        &self,
        method: reqwest::Method,
        url: &Url,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
        max_bytes: u64,
    ) -> Result<reqwest::Response, FetchError> {
        let mut at = url.clone();
        for _ in 0..=self.max_redirects {
            if !matches!(at.scheme(), "https" | "http") {
                return Err(FetchError::Refused(format!(
                    "{}:// is not fetched",
                    at.scheme()
                )));
            }
            let client = self.client_for(&at).await?;
            let mut request = client.request(method.clone(), at.clone());
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            if let Some(body) = &body {
                request = request.body(body.clone());
            }
            let response = request.send().await?;
            let status = response.status();
            if status.is_redirection()
                && method == reqwest::Method::GET
                && let Some(location) = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
            {
                at = at
                    .join(location)
                    .map_err(|e| FetchError::Refused(format!("a redirect to {location:?}: {e}")))?;
                continue;
            }
            if status.is_success() && response.content_length().is_some_and(|n| n > max_bytes) {
                return Err(FetchError::TooLarge(max_bytes));
            }
            return Ok(response);
        }
        Err(FetchError::Redirects(self.max_redirects))
    }
}

/// An answer's body, at most `max_bytes`.
async fn read(mut response: reqwest::Response, max_bytes: u64) -> Result<Vec<u8>, FetchError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() as u64 + chunk.len() as u64 > max_bytes {
            return Err(FetchError::TooLarge(max_bytes));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// A successful answer saved to `path`; any other read (a little of it).
async fn answer(
    mut response: reqwest::Response,
    path: &Path,
    max_bytes: u64,
) -> Result<(reqwest::StatusCode, Answer), FetchError> {
    let status = response.status();
    if !status.is_success() {
        let body = read(response, ERROR_BODY).await.unwrap_or_default();
        return Ok((status, Answer::Body(body)));
    }
    let mut saver = Saver::create(path, max_bytes).await?;
    while let Some(chunk) = response.chunk().await? {
        saver.push(&chunk).await?;
    }
    Ok((status, Answer::Saved(saver.finish().await?)))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// A server on 127.0.0.1 answering every request with `answer`,
    /// counting the connections it was given.
    async fn serve(answer: String) -> (u16, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(AtomicUsize::new(0));
        let counted = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                let answer = answer.clone();
                tokio::spawn(async move {
                    let mut buffer = [0u8; 4096];
                    let _ = socket.read(&mut buffer).await;
                    let _ = socket.write_all(answer.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        (port, seen)
    }

    fn ok(body: &str) -> String {
        format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    }

    fn guard(allowed: &str) -> Guard {
        Guard::new(Allowed::parse(allowed).unwrap(), Duration::from_secs(5))
    }

    #[tokio::test]
    async fn a_private_address_is_refused_before_any_connection() {
        let (port, seen) = serve(ok("report")).await;
        let url = Url::parse(&format!("http://127.0.0.1:{port}/report.csv")).unwrap();
        let refused = guard("").get(&url, &[], 1 << 20).await;
        assert!(
            matches!(refused, Err(FetchError::Refused(_))),
            "{refused:?}"
        );
        // A name that resolves to the machine itself, too.
        let by_name = Url::parse(&format!("http://localhost:{port}/report.csv")).unwrap();
        assert!(matches!(
            guard("").get(&by_name, &[], 1 << 20).await,
            Err(FetchError::Refused(_))
        ));
        assert_eq!(seen.load(Ordering::SeqCst), 0, "no connection was made");
        // The tests' exception reaches exactly its range.
        let (status, body) = guard("127.0.0.1").get(&url, &[], 1 << 20).await.unwrap();
        assert_eq!((status.as_u16(), body.as_slice()), (200, &b"report"[..]));
        for address in ["10.0.0.1", "169.254.169.254", "[::ffff:127.0.0.1]"] {
            let url = Url::parse(&format!("http://{address}/")).unwrap();
            assert!(
                matches!(
                    guard("127.0.0.1").get(&url, &[], 1).await,
                    Err(FetchError::Refused(_))
                ),
                "{address}"
            );
        }
    }

    #[tokio::test]
    async fn a_redirect_is_checked_again_and_answers_are_limited() {
        let (port, _) = serve(
            "HTTP/1.1 302 Found\r\nlocation: http://169.254.169.254/latest/meta-data/\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                .to_owned(),
        )
        .await;
        let url = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
        let redirected = guard("127.0.0.1").get(&url, &[], 1 << 20).await;
        assert!(
            matches!(&redirected, Err(FetchError::Refused(why)) if why.contains("169.254.169.254")),
            "{redirected:?}"
        );
        let (port, _) = serve(ok("0123456789")).await;
        let url = Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap();
        assert!(matches!(
            guard("127.0.0.1").get(&url, &[], 5).await,
            Err(FetchError::TooLarge(5))
        ));
        // A file's bytes go to disk, hashed; past the limit, refused.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("file");
        let (status, saved) = guard("127.0.0.1")
            .get_to(&url, &[], &path, 1 << 20)
            .await
            .unwrap();
        assert_eq!(status.as_u16(), 200);
        let Answer::Saved(saved) = saved else {
            panic!("saved")
        };
        assert_eq!(std::fs::read(&path).unwrap(), b"0123456789");
        assert_eq!(saved.size, 10);
        assert_eq!(
            saved.content_hash,
            crate::storage::content_hash(&path).unwrap()
        );
        assert!(matches!(
            guard("127.0.0.1").get_to(&url, &[], &path, 5).await,
            Err(FetchError::TooLarge(5))
        ));
    }
}
