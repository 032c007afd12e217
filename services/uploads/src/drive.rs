//! Google Drive through its API (v3) with an API key, for links shared
//! "Anyone with the link": an item's metadata, a folder's children page by
//! page, shortcuts followed, Google Sheets exported as XLSX, resource keys
//! sent, rate limits waited out. Only the API's host is ever called (a
//! configurable base, so tests reach a local fake), through the
//! [`Guard`](oas_platform::fetch::Guard).

use std::time::Duration;

use std::path::Path;

use oas_platform::fetch::{Answer, FetchError, Guard, Saved};
use serde::Deserialize;
use url::Url;

pub const FOLDER: &str = "application/vnd.google-apps.folder";
pub const SHORTCUT: &str = "application/vnd.google-apps.shortcut";
pub const SHEET: &str = "application/vnd.google-apps.spreadsheet";
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Tries a rate-limited request this many times.
const ATTEMPTS: u32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum DriveError {
    #[error(
        "The Drive item {0} is not shared publicly, or does not exist: share it with \"Anyone with the link\" and try again."
    )]
    NotShared(String),
    #[error("Google Drive kept refusing for its rate limit; try again later.")]
    RateLimited,
    #[error("Google Drive answered {status}: {message}")]
    Api { status: u16, message: String },
    #[error("{0}")]
    Fetch(#[from] FetchError),
    #[error("Google Drive's answer does not read: {0}")]
    Answer(#[from] serde_json::Error),
}

/// A Drive item as the API describes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub id: String,
    pub name: String,
    pub mime_type: String,
    #[serde(default)]
    pub size: Option<String>,
    #[serde(default)]
    pub modified_time: Option<String>,
    #[serde(default)]
    pub resource_key: Option<String>,
    #[serde(default)]
    pub shortcut_details: Option<ShortcutDetails>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShortcutDetails {
    pub target_id: String,
    #[serde(default)]
    pub target_resource_key: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    #[serde(default)]
    files: Vec<Item>,
    #[serde(default)]
    next_page_token: Option<String>,
}

const FIELDS: &str = "id,name,mimeType,size,modifiedTime,resourceKey,shortcutDetails";

/// A Drive reader.
#[derive(Debug, Clone)]
pub struct Drive {
    base: Url,
    key: String,
    guard: Guard,
    /// The first wait after a rate limit; doubled each time.
    backoff: Duration,
}

impl Drive {
    pub fn new(base: Url, key: String, guard: Guard) -> Self {
        Self {
            base,
            key,
            guard,
            backoff: Duration::from_millis(500),
        }
    }

    /// Waits `backoff` first after a rate limit (tests wait less).
    pub fn with_backoff(mut self, backoff: Duration) -> Self {
        self.backoff = backoff;
        self
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<Url, DriveError> {
        let mut url = self.base.join(path).map_err(|e| DriveError::Api {
            status: 0,
            message: e.to_string(),
        })?;
        url.query_pairs_mut()
            .extend_pairs(query)
            .append_pair("key", &self.key);
        Ok(url)
    }

    /// GETs from the API, with the resource keys given, waiting out rate
    /// limits (429, or 403 saying so) with a doubling backoff; a success's
    /// body is saved to `to` when given, else read.
    async fn send(
        &self,
        url: &Url,
        id: &str,
        keys: &[(String, String)],
        to: Option<&Path>,
        max_bytes: u64,
    ) -> Result<Answer, DriveError> {
        let header = keys
            .iter()
            .map(|(id, key)| format!("{id}/{key}"))
            .collect::<Vec<_>>()
            .join(",");
        let headers: Vec<(&str, &str)> = if header.is_empty() {
            Vec::new()
        } else {
            vec![("X-Goog-Drive-Resource-Keys", header.as_str())]
        };
        let mut wait = self.backoff;
        for _ in 0..ATTEMPTS {
            let (status, answer) = match to {
                Some(path) => self.guard.get_to(url, &headers, path, max_bytes).await?,
                None => {
                    let (status, body) = self.guard.get(url, &headers, max_bytes).await?;
                    (status, Answer::Body(body))
                }
            };
            let text = match &answer {
                Answer::Body(body) => String::from_utf8_lossy(body).into_owned(),
                Answer::Saved(_) => String::new(),
            };
            let limited = status.as_u16() == 429
                || (status.as_u16() == 403
                    && (text.contains("rateLimitExceeded")
                        || text.contains("userRateLimitExceeded")));
            if limited {
                tokio::time::sleep(wait).await;
                wait *= 2;
                continue;
            }
            return match status.as_u16() {
                200..=299 => Ok(answer),
                404 | 403 | 401 => Err(DriveError::NotShared(id.to_owned())),
                other => Err(DriveError::Api {
                    status: other,
                    message: text.chars().take(300).collect(),
                }),
            };
        }
        Err(DriveError::RateLimited)
    }

    /// GETs a JSON answer.
    async fn get(
        &self,
        url: &Url,
        id: &str,
        keys: &[(String, String)],
        max_bytes: u64,
    ) -> Result<Vec<u8>, DriveError> {
        match self.send(url, id, keys, None, max_bytes).await? {
            Answer::Body(body) => Ok(body),
            Answer::Saved(_) => Err(DriveError::Api {
                status: 0,
                message: "an answer saved where one was read".to_owned(),
            }),
        }
    }

    /// An item's metadata; a shortcut is followed to its target.
    pub async fn item(&self, id: &str, key: Option<&str>) -> Result<Item, DriveError> {
        let mut keys = Vec::new();
        if let Some(key) = key {
            keys.push((id.to_owned(), key.to_owned()));
        }
        let url = self.url(
            &format!("files/{id}"),
            &[("fields", FIELDS), ("supportsAllDrives", "true")],
        )?;
        let item: Item = serde_json::from_slice(&self.get(&url, id, &keys, 1 << 20).await?)?;
        match &item.shortcut_details {
            Some(target) if item.mime_type == SHORTCUT => {
                let target_id = target.target_id.clone();
                let target_key = target.target_resource_key.clone();
                Box::pin(self.item(&target_id, target_key.as_deref())).await
            }
            _ => Ok(item),
        }
    }

    /// Every child of folder `id` not in the trash, page after page.
    pub async fn children(&self, id: &str, key: Option<&str>) -> Result<Vec<Item>, DriveError> {
        let mut keys = Vec::new();
        if let Some(key) = key {
            keys.push((id.to_owned(), key.to_owned()));
        }
        let query = format!("'{id}' in parents and trashed=false");
        let fields = format!("nextPageToken,files({FIELDS})");
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut pairs = vec![
                ("q", query.as_str()),
                ("fields", fields.as_str()),
                ("pageSize", "1000"),
                ("supportsAllDrives", "true"),
                ("includeItemsFromAllDrives", "true"),
            ];
            if let Some(token) = token.as_deref() {
                pairs.push(("pageToken", token));
            }
            let url = self.url("files", &pairs)?;
            let page: Page = serde_json::from_slice(&self.get(&url, id, &keys, 16 << 20).await?)?;
            items.extend(page.files);
            match page.next_page_token.filter(|t| !t.is_empty()) {
                Some(next) => token = Some(next),
                None => return Ok(items),
            }
        }
    }

    /// An item's bytes, written to `to`: a Google Sheet exported as XLSX,
    /// any other file as it is; at most `max_bytes`.
    pub async fn download(
        &self,
        item: &Item,
        to: &Path,
        max_bytes: u64,
    ) -> Result<Saved, DriveError> {
        let mut keys = Vec::new();
        if let Some(key) = &item.resource_key {
            keys.push((item.id.clone(), key.clone()));
        }
        let url = if item.mime_type == SHEET {
            self.url(&format!("files/{}/export", item.id), &[("mimeType", XLSX)])?
        } else {
            self.url(
                &format!("files/{}", item.id),
                &[("alt", "media"), ("supportsAllDrives", "true")],
            )?
        };
        match self
            .send(&url, &item.id, &keys, Some(to), max_bytes)
            .await?
        {
            Answer::Saved(saved) => Ok(saved),
            Answer::Body(_) => Err(DriveError::Api {
                status: 0,
                message: "the file's bytes were not saved".to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use oas_domain::fetch::Allowed;

    use super::*;
    use crate::testing::{Routes, fake};

    fn drive(base: Url) -> Drive {
        let guard = Guard::new(Allowed::parse("127.0.0.1").unwrap(), Duration::from_secs(5));
        Drive::new(base, "test-key".to_owned(), guard).with_backoff(Duration::from_millis(1))
    }

    fn file(id: &str, name: &str, mime: &str) -> String {
        format!(r#"{{"id":"{id}","name":"{name}","mimeType":"{mime}"}}"#)
    }

    #[tokio::test]
    async fn a_folder_is_listed_page_by_page_and_its_files_downloaded() {
        let folder = r#"{"id":"F1","name":"Reports","mimeType":"application/vnd.google-apps.folder","resourceKey":"0-k"}"#;
        let shortcut = r#"{"id":"S1","name":"Shortcut","mimeType":"application/vnd.google-apps.shortcut","shortcutDetails":{"targetId":"T1","targetResourceKey":"0-t"}}"#;
        let routes: Routes = [
            (
                "/drive/v3/files/F1".to_owned(),
                vec![(200, folder.to_owned())],
            ),
            (
                "/drive/v3/files".to_owned(),
                vec![(
                    200,
                    format!(
                        r#"{{"nextPageToken":"p2","files":[{}]}}"#,
                        file("A", "jan.csv", "text/csv")
                    ),
                )],
            ),
            (
                "/drive/v3/files#p2".to_owned(),
                vec![
                    // A rate limit first, then the page.
                    (
                        403,
                        r#"{"error":{"errors":[{"reason":"rateLimitExceeded"}]}}"#.to_owned(),
                    ),
                    (
                        200,
                        format!(r#"{{"files":[{},{}]}}"#, file("B", "feb", SHEET), shortcut),
                    ),
                ],
            ),
            (
                "/drive/v3/files/S1".to_owned(),
                vec![(200, shortcut.to_owned())],
            ),
            (
                "/drive/v3/files/T1".to_owned(),
                vec![(200, file("T1", "mar.csv", "text/csv"))],
            ),
            (
                "/drive/v3/files/A#media".to_owned(),
                vec![(200, "a,b\n1,2\n".to_owned())],
            ),
            (
                "/drive/v3/files/B/export".to_owned(),
                vec![(200, "PK-xlsx".to_owned())],
            ),
        ]
        .into_iter()
        .collect();
        let (base, seen) = fake(routes, "drive/v3/").await;
        let drive = drive(base);
        let top = drive.item("F1", Some("0-k")).await.unwrap();
        assert_eq!(top.mime_type, FOLDER);
        let children = drive.children("F1", Some("0-k")).await.unwrap();
        let names: Vec<&str> = children.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["jan.csv", "feb", "Shortcut"]);
        let target = drive.item("S1", None).await.unwrap();
        assert_eq!(
            (target.id.as_str(), target.name.as_str()),
            ("T1", "mar.csv")
        );
        let dir = tempfile::tempdir().unwrap();
        let (csv, sheet) = (dir.path().join("csv"), dir.path().join("sheet"));
        let saved = drive.download(&children[0], &csv, 1 << 20).await.unwrap();
        assert_eq!(std::fs::read(&csv).unwrap(), b"a,b\n1,2\n");
        assert_eq!(saved.size, 8);
        drive.download(&children[1], &sheet, 1 << 20).await.unwrap();
        assert_eq!(std::fs::read(&sheet).unwrap(), b"PK-xlsx");
        let seen = seen.lock().unwrap().clone();
        assert!(
            seen.iter()
                .any(|s| s.starts_with("/drive/v3/files/F1 ") && s.contains("F1/0-k")),
            "the resource key is sent: {seen:?}"
        );
        assert!(
            seen.iter()
                .any(|s| s.starts_with("/drive/v3/files/T1 ") && s.contains("T1/0-t")),
            "the shortcut's target key too: {seen:?}"
        );
        assert_eq!(
            seen.iter()
                .filter(|s| s.starts_with("/drive/v3/files#p2"))
                .count(),
            2
        );
    }

    #[tokio::test]
    async fn an_item_not_shared_says_so_and_a_lasting_limit_ends() {
        let (base, _) = fake(
            [(
                "/drive/v3/files/L".to_owned(),
                vec![(429, "slow down".to_owned())],
            )]
            .into_iter()
            .collect(),
            "drive/v3/",
        )
        .await;
        let drive = drive(base);
        let missing = drive.item("PRIVATE1", Some("0-wrong")).await;
        assert!(
            matches!(&missing, Err(DriveError::NotShared(id)) if id == "PRIVATE1"),
            "{missing:?}"
        );
        assert!(
            missing
                .unwrap_err()
                .to_string()
                .contains("Anyone with the link")
        );
        assert!(matches!(
            drive.item("L", None).await,
            Err(DriveError::RateLimited)
        ));
    }
}
