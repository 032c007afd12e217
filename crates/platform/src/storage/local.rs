use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use tokio::io::AsyncWriteExt;

use super::signing::{EXPIRES_PARAM, METHOD_PARAM, SIGNATURE_PARAM, SignatureError, UrlSigner};
use super::{
    ObjectInfo, ObjectKey, ObjectReader, ObjectStore, PresignMethod, PresignedUrl, StorageError,
};

/// Objects as files under a root folder. Writes land in `.partial/` first
/// and are renamed into place, so a reader never sees half an object.
#[derive(Debug, Clone)]
pub struct LocalStorage {
    root: PathBuf,
    /// Where the gateway is reached, for presigned URLs; known for sure only
    /// once the server has bound its port.
    base_url: Arc<RwLock<url::Url>>,
    signer: UrlSigner,
}

const PARTIAL: &str = ".partial";

impl LocalStorage {
    pub fn new(root: PathBuf, base_url: url::Url, signer: UrlSigner) -> Result<Self, StorageError> {
        std::fs::create_dir_all(root.join(PARTIAL))?;
        Ok(Self {
            root,
            base_url: Arc::new(RwLock::new(base_url)),
            signer,
        })
    }

    pub fn set_base_url(&self, url: url::Url) {
        if let Ok(mut base) = self.base_url.write() {
            *base = url;
        }
    }

    fn base_url(&self) -> url::Url {
        match self.base_url.read() {
            Ok(base) => base.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Checks a presigned URL's parameters for `method` on `key`.
    pub fn verify(
        &self,
        method: PresignMethod,
        key: &ObjectKey,
        expires: i64,
        signature: &str,
    ) -> Result<(), SignatureError> {
        self.signer.verify(
            method.as_str(),
            key.as_str(),
            expires,
            signature,
            Utc::now().timestamp(),
        )
    }

    fn partial_path(&self) -> PathBuf {
        self.root
            .join(PARTIAL)
            .join(uuid::Uuid::new_v4().simple().to_string())
    }

    async fn commit(&self, partial: &Path, key: &ObjectKey) -> Result<(), StorageError> {
        let target = key.path_under(&self.root);
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        tokio::fs::rename(partial, &target).await?;
        Ok(())
    }

    /// Writes an object from a stream of chunks, refusing more than
    /// `max_bytes`; returns its size. Nothing is left behind on failure.
    pub async fn write_stream<S, E>(
        &self,
        key: &ObjectKey,
        mut chunks: S,
        max_bytes: u64,
    ) -> Result<u64, StorageError>
    where
        S: futures_core::Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let partial = self.partial_path();
        let written = async {
            let mut file = tokio::fs::File::create(&partial).await?;
            let mut size: u64 = 0;
            while let Some(chunk) =
                std::future::poll_fn(|cx| std::pin::Pin::new(&mut chunks).poll_next(cx)).await
            {
                let chunk =
                    chunk.map_err(|e| StorageError::Io(format!("reading the upload: {e}")))?;
                size += chunk.len() as u64;
                if size > max_bytes {
                    return Err(StorageError::TooLarge(max_bytes));
                }
                file.write_all(&chunk).await?;
            }
            file.flush().await?;
            file.sync_all().await?;
            Ok(size)
        }
        .await;
        match written {
            Ok(size) => {
                self.commit(&partial, key).await?;
                Ok(size)
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&partial).await;
                Err(e)
            }
        }
    }
}

impl ObjectStore for LocalStorage {
    async fn put(&self, key: &ObjectKey, bytes: Bytes) -> Result<(), StorageError> {
        let partial = self.partial_path();
        tokio::fs::write(&partial, &bytes).await?;
        self.commit(&partial, key).await
    }

    async fn put_file(&self, key: &ObjectKey, path: &Path) -> Result<(), StorageError> {
        let partial = self.partial_path();
        link_or_copy(path, &partial).await?;
        self.commit(&partial, key).await
    }

    /// A hard link (a copy across file systems): objects are never
    /// changed in place, so the link keeps the bytes it was made from.
    async fn copy(&self, from: &ObjectKey, to: &ObjectKey) -> Result<(), StorageError> {
        if from == to {
            return match self.head(from).await? {
                Some(_) => Ok(()),
                None => Err(StorageError::NotFound(from.to_string())),
            };
        }
        let partial = self.partial_path();
        let copied = match link_or_copy(&from.path_under(&self.root), &partial).await {
            Ok(_) => self.commit(&partial, to).await,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(StorageError::NotFound(from.to_string()))
            }
            Err(e) => Err(e.into()),
        };
        if copied.is_err() {
            let _ = tokio::fs::remove_file(&partial).await;
        }
        copied
    }

    /// A local object is linked (or, across file systems, copied) by the
    /// file system, not streamed through. Objects are never changed in
    /// place (a write renames a new file over the old), so a link keeps
    /// the bytes as they were when it was made.
    async fn download(&self, key: &ObjectKey, path: &Path) -> Result<u64, StorageError> {
        match link_or_copy(&key.path_under(&self.root), path).await {
            Ok(size) => Ok(size),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(StorageError::NotFound(key.to_string()))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn get(&self, key: &ObjectKey) -> Result<ObjectReader, StorageError> {
        match tokio::fs::File::open(key.path_under(&self.root)).await {
            Ok(file) => Ok(Box::pin(file)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(StorageError::NotFound(key.to_string()))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn head(&self, key: &ObjectKey) -> Result<Option<u64>, StorageError> {
        match tokio::fs::metadata(key.path_under(&self.root)).await {
            Ok(meta) if meta.is_file() => Ok(Some(meta.len())),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn delete(&self, key: &ObjectKey) -> Result<(), StorageError> {
        match tokio::fs::remove_file(key.path_under(&self.root)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StorageError> {
        let (root, prefix) = (self.root.clone(), prefix.to_owned());
        tokio::task::spawn_blocking(move || {
            let mut found = Vec::new();
            walk(&root, &root, &prefix, &mut found)?;
            found.sort_by(|a: &ObjectInfo, b| a.key.cmp(&b.key));
            Ok(found)
        })
        .await
        .map_err(|e| StorageError::Io(e.to_string()))?
    }

    async fn presign(
        &self,
        method: PresignMethod,
        key: &ObjectKey,
        expires_in: Duration,
    ) -> Result<PresignedUrl, StorageError> {
        let expires_at = Utc::now()
            + chrono::Duration::from_std(expires_in)
                .map_err(|e| StorageError::Io(e.to_string()))?;
        let expires = expires_at.timestamp();
        let signature = self.signer.sign(method.as_str(), key.as_str(), expires);
        let mut url = self.base_url();
        let base_path = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base_path}/api/storage/{key}"));
        url.query_pairs_mut()
            .append_pair(METHOD_PARAM, method.as_str())
            .append_pair(EXPIRES_PARAM, &expires.to_string())
            .append_pair(SIGNATURE_PARAM, &signature);
        Ok(PresignedUrl {
            url: url.to_string(),
            method,
            expires_at,
        })
    }
}

/// Collects the files under `dir` whose key starts with `prefix`, skipping
/// the partial uploads.
fn walk(
    root: &Path,
    dir: &Path,
    prefix: &str,
    found: &mut Vec<ObjectInfo>,
) -> Result<(), StorageError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let Ok(relative) = path.strip_prefix(root) else {
            continue;
        };
        let Some(relative) = relative
            .to_str()
            .map(|r| r.replace(std::path::MAIN_SEPARATOR, "/"))
        else {
            continue;
        };
        if relative == PARTIAL {
            continue;
        }
        let file_type = entry.file_type()?;
        if file_type.is_dir() {
            // Only descend where keys with the prefix can be.
            if prefix.starts_with(&format!("{relative}/"))
                || relative.starts_with(prefix)
                || prefix.is_empty()
            {
                walk(root, &path, prefix, found)?;
            }
        } else if file_type.is_file()
            && relative.starts_with(prefix)
            && let Ok(key) = ObjectKey::parse(&relative)
        {
            found.push(ObjectInfo {
                key,
                size: entry.metadata()?.len(),
            });
        }
    }
    Ok(())
}

/// Links `from` at `to`, or copies it where a link cannot be made (another
/// file system); returns the size.
async fn link_or_copy(from: &Path, to: &Path) -> std::io::Result<u64> {
    match tokio::fs::hard_link(from, to).await {
        Ok(()) => Ok(tokio::fs::metadata(to).await?.len()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(e),
        Err(_) => tokio::fs::copy(from, to).await,
    }
}
