//! Dropbox shared links through the API with the organisation's app key
//! and secret: a link's metadata, a shared folder's entries page by page
//! (`list_folder` with the shared link, then `list_folder/continue` while
//! `has_more`), and a file's bytes (`get_shared_link_file`). Only the API's
//! hosts are called (configurable bases, so tests reach a local fake),
//! through the [`Guard`](oas_platform::fetch::Guard).

use std::path::Path;

use oas_platform::fetch::{Answer, FetchError, Guard, Saved};
use serde::Deserialize;
use serde_json::json;
use url::Url;

#[derive(Debug, thiserror::Error)]
pub enum DropboxError {
    #[error("Dropbox cannot read this shared link ({0}): check that it is shared and not expired.")]
    Link(String),
    #[error(
        "Dropbox refused the organisation's app key and secret: check them in the organisation's settings."
    )]
    Credentials,
    #[error("Dropbox answered {status}: {message}")]
    Api { status: u16, message: String },
    #[error("{0}")]
    Fetch(#[from] FetchError),
    #[error("Dropbox's answer does not read: {0}")]
    Answer(#[from] serde_json::Error),
}

/// An entry of a shared folder, or the link's own item.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Entry {
    #[serde(rename = ".tag")]
    pub tag: String,
    pub name: String,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub server_modified: Option<String>,
    #[serde(default)]
    pub path_lower: Option<String>,
}

impl Entry {
    pub fn is_folder(&self) -> bool {
        self.tag == "folder"
    }
}

#[derive(Debug, Deserialize)]
struct Listing {
    entries: Vec<Entry>,
    cursor: String,
    has_more: bool,
}

/// A Dropbox reader.
#[derive(Debug, Clone)]
pub struct Dropbox {
    api: Url,
    content: Url,
    authorization: String,
    guard: Guard,
}

impl Dropbox {
    pub fn new(api: Url, content: Url, app_key: &str, app_secret: &str, guard: Guard) -> Self {
        use base64::Engine;
        let basic =
            base64::engine::general_purpose::STANDARD.encode(format!("{app_key}:{app_secret}"));
        Self {
            api,
            content,
            authorization: format!("Basic {basic}"),
            guard,
        }
    }

    /// POSTs to the API; a success's body is saved to `to` when given,
    /// else read.
    async fn send(
        &self,
        base: &Url,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
        to: Option<&Path>,
        max_bytes: u64,
    ) -> Result<Answer, DropboxError> {
        let url = base.join(path).map_err(|e| DropboxError::Api {
            status: 0,
            message: e.to_string(),
        })?;
        let mut all = vec![("Authorization", self.authorization.as_str())];
        all.extend_from_slice(headers);
        let (status, answer) = match to {
            Some(to) => self.guard.post_to(&url, &all, body, to, max_bytes).await?,
            None => {
                let (status, body) = self.guard.post(&url, &all, body, max_bytes).await?;
                (status, Answer::Body(body))
            }
        };
        let text: &[u8] = match &answer {
            Answer::Body(body) => body,
            Answer::Saved(_) => &[],
        };
        match status.as_u16() {
            200..=299 => Ok(answer),
            401 => Err(DropboxError::Credentials),
            409 => {
                let summary = serde_json::from_slice::<serde_json::Value>(text)
                    .ok()
                    .and_then(|v| v["error_summary"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                Err(DropboxError::Link(summary.trim_end_matches('/').to_owned()))
            }
            other => Err(DropboxError::Api {
                status: other,
                message: String::from_utf8_lossy(text).chars().take(300).collect(),
            }),
        }
    }

    async fn call(
        &self,
        base: &Url,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
        max_bytes: u64,
    ) -> Result<Vec<u8>, DropboxError> {
        match self
            .send(base, path, headers, body, None, max_bytes)
            .await?
        {
            Answer::Body(body) => Ok(body),
            Answer::Saved(_) => Err(DropboxError::Api {
                status: 0,
                message: "an answer saved where one was read".to_owned(),
            }),
        }
    }

    async fn json(&self, path: &str, body: serde_json::Value) -> Result<Vec<u8>, DropboxError> {
        self.call(
            &self.api,
            path,
            &[("Content-Type", "application/json")],
            serde_json::to_vec(&body)?,
            16 << 20,
        )
        .await
    }

    /// What the shared link `link` points at.
    pub async fn metadata(&self, link: &str) -> Result<Entry, DropboxError> {
        let answer = self
            .json("sharing/get_shared_link_metadata", json!({"url": link}))
            .await?;
        Ok(serde_json::from_slice(&answer)?)
    }

    /// The entries of the shared folder `link` at `path` ("" for its top).
    pub async fn list(&self, link: &str, path: &str) -> Result<Vec<Entry>, DropboxError> {
        let answer = self
            .json(
                "files/list_folder",
                json!({"path": path, "shared_link": {"url": link}}),
            )
            .await?;
        let mut page: Listing = serde_json::from_slice(&answer)?;
        let mut entries = std::mem::take(&mut page.entries);
        while page.has_more {
            let answer = self
                .json("files/list_folder/continue", json!({"cursor": page.cursor}))
                .await?;
            page = serde_json::from_slice(&answer)?;
            entries.append(&mut page.entries);
        }
        Ok(entries)
    }

    /// The bytes of the file at `path` of the shared link (`None`: the
    /// link is the file), at most `max_bytes`.
    pub async fn download(
        &self,
        link: &str,
        path: Option<&str>,
        to: &Path,
        max_bytes: u64,
    ) -> Result<Saved, DropboxError> {
        let mut arg = json!({"url": link});
        if let Some(path) = path {
            arg["path"] = json!(path);
        }
        // Dropbox wants the argument header in ASCII: non-ASCII escaped.
        let arg = serde_json::to_string(&arg)?
            .chars()
            .map(|c| {
                if c.is_ascii() {
                    c.to_string()
                } else {
                    let mut units = [0u16; 2];
                    c.encode_utf16(&mut units)
                        .iter()
                        .map(|u| format!("\\u{u:04x}"))
                        .collect()
                }
            })
            .collect::<String>();
        let answer = self
            .send(
                &self.content,
                "sharing/get_shared_link_file",
                &[("Dropbox-API-Arg", arg.as_str())],
                Vec::new(),
                Some(to),
                max_bytes,
            )
            .await?;
        match answer {
            Answer::Saved(saved) => Ok(saved),
            Answer::Body(_) => Err(DropboxError::Api {
                status: 0,
                message: "the file's bytes were not saved".to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use oas_domain::fetch::Allowed;

    use super::*;
    use crate::testing::{Routes, fake};

    const LINK: &str = "https://www.dropbox.com/scl/fo/abc/xyz?rlkey=k1";

    fn dropbox(base: Url) -> Dropbox {
        let guard = Guard::new(Allowed::parse("127.0.0.1").unwrap(), Duration::from_secs(5));
        Dropbox::new(base.clone(), base, "app", "secret", guard)
    }

    fn routes(answers: &[(&str, u16, &str)]) -> Routes {
        let mut routes = Routes::new();
        for (path, status, body) in answers {
            routes
                .entry((*path).to_owned())
                .or_default()
                .push((*status, (*body).to_owned()));
        }
        routes
    }

    #[tokio::test]
    async fn a_shared_folder_is_listed_to_its_end_and_its_files_read() {
        let (base, seen) = fake(
            routes(&[
                ("/2/sharing/get_shared_link_metadata", 200, r#"{".tag":"folder","name":"Reports","path_lower":"/reports"}"#),
                ("/2/files/list_folder", 200, r#"{"entries":[{".tag":"file","name":"jan.csv","size":8}],"cursor":"c1","has_more":true}"#),
                ("/2/files/list_folder/continue", 200, r#"{"entries":[{".tag":"folder","name":"2024"},{".tag":"file","name":"Zoë.csv","size":3}],"cursor":"c2","has_more":false}"#),
                ("/2/sharing/get_shared_link_file", 200, "a,b\n1,2\n"),
            ]),
            "2/",
        )
        .await;
        let dropbox = dropbox(base);
        assert!(dropbox.metadata(LINK).await.unwrap().is_folder());
        let entries = dropbox.list(LINK, "").await.unwrap();
        let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["jan.csv", "2024", "Zoë.csv"]);
        assert!(entries[1].is_folder() && !entries[2].is_folder());
        let dir = tempfile::tempdir().unwrap();
        let to = dir.path().join("file");
        let saved = dropbox
            .download(LINK, Some("/Zoë.csv"), &to, 1 << 20)
            .await
            .unwrap();
        assert_eq!(std::fs::read(&to).unwrap(), b"a,b\n1,2\n");
        assert_eq!(saved.size, 8);
        assert!(matches!(
            dropbox.download(LINK, Some("/Zoë.csv"), &to, 3).await,
            Err(DropboxError::Fetch(FetchError::TooLarge(3)))
        ));
        let seen: Vec<String> = seen
            .lock()
            .unwrap()
            .iter()
            .map(|s| s.to_lowercase())
            .collect();
        // "app:secret", as HTTP Basic.
        assert!(
            seen.iter()
                .all(|s| s.contains("authorization: basic yxbwonnly3jlda==")),
            "{seen:?}"
        );
        assert!(
            seen.iter()
                .any(|s| s.starts_with("/2/sharing/get_shared_link_file") && s.contains("\\u00eb")),
            "the argument header is ASCII: {seen:?}"
        );
    }

    #[tokio::test]
    async fn a_dead_link_and_wrong_credentials_say_so() {
        let (base, _) = fake(
            routes(&[
                (
                    "/2/sharing/get_shared_link_metadata",
                    409,
                    r#"{"error_summary":"shared_link_not_found/.."}"#,
                ),
                ("/2/files/list_folder", 401, "invalid app"),
            ]),
            "2/",
        )
        .await;
        let dropbox = dropbox(base);
        let dead = dropbox.metadata(LINK).await;
        assert!(
            matches!(&dead, Err(DropboxError::Link(why)) if why.contains("shared_link_not_found")),
            "{dead:?}"
        );
        assert!(matches!(
            dropbox.list(LINK, "").await,
            Err(DropboxError::Credentials)
        ));
    }
}
