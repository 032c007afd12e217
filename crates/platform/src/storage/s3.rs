use std::path::Path;
use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use chrono::Utc;

use super::{
    ObjectInfo, ObjectKey, ObjectReader, ObjectStore, PresignMethod, PresignedUrl, StorageError,
};

/// Objects in an S3 bucket (or any S3-compatible endpoint), under an
/// optional key prefix.
#[derive(Debug, Clone)]
pub struct S3Storage {
    client: Client,
    bucket: String,
    prefix: String,
}

/// What a copy source's key keeps unencoded: letters, digits, `/` and the
/// unreserved marks (keys hold no other characters but `=`, `+`, `@`, `,`,
/// which are encoded).
const COPY_SOURCE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn service<E: std::error::Error + 'static, R: std::fmt::Debug>(
    error: SdkError<E, R>,
) -> StorageError {
    StorageError::Service(DisplayErrorContext(&error).to_string())
}

impl S3Storage {
    /// With the standard AWS configuration chain (environment, profile,
    /// ECS task role; `AWS_ENDPOINT_URL` for S3-compatible endpoints).
    pub async fn from_environment(bucket: String, prefix: String, path_style: bool) -> Self {
        let shared = aws_config::load_from_env().await;
        let config = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(path_style)
            .build();
        Self::new(Client::from_conf(config), bucket, prefix)
    }

    pub fn new(client: Client, bucket: String, prefix: String) -> Self {
        Self {
            client,
            bucket,
            prefix: prefix.trim_matches('/').to_owned(),
        }
    }

    fn full(&self, key: &ObjectKey) -> String {
        if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.prefix)
        }
    }

    fn relative<'a>(&self, full: &'a str) -> Option<&'a str> {
        if self.prefix.is_empty() {
            Some(full)
        } else {
            full.strip_prefix(&self.prefix)?.strip_prefix('/')
        }
    }
}

impl ObjectStore for S3Storage {
    async fn put(&self, key: &ObjectKey, bytes: Bytes) -> Result<(), StorageError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(self.full(key))
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(service)?;
        Ok(())
    }

    async fn put_file(&self, key: &ObjectKey, path: &Path) -> Result<(), StorageError> {
        let body = ByteStream::from_path(path)
            .await
            .map_err(|e| StorageError::Io(e.to_string()))?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(self.full(key))
            .body(body)
            .send()
            .await
            .map_err(service)?;
        Ok(())
    }

    async fn get(&self, key: &ObjectKey) -> Result<ObjectReader, StorageError> {
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.full(key))
            .send()
            .await
        {
            Ok(output) => Ok(Box::pin(output.body.into_async_read())),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
                Err(StorageError::NotFound(key.to_string()))
            }
            Err(e) => Err(service(e)),
        }
    }

    /// A server-side copy (`CopyObject`); an object past the 5 GiB a single
    /// copy takes is streamed through a temporary file instead.
    async fn copy(&self, from: &ObjectKey, to: &ObjectKey) -> Result<(), StorageError> {
        const LARGEST_COPY: u64 = 5 << 30;
        let Some(size) = self.head(from).await? else {
            return Err(StorageError::NotFound(from.to_string()));
        };
        if size > LARGEST_COPY {
            let path =
                std::env::temp_dir().join(format!("oas-copy-{}", uuid::Uuid::new_v4().simple()));
            let copied = match self.download(from, &path).await {
                Ok(_) => self.put_file(to, &path).await,
                Err(e) => Err(e),
            };
            let _ = tokio::fs::remove_file(&path).await;
            return copied;
        }
        // The source is "bucket/key", URL-encoded.
        let source = format!(
            "{}/{}",
            self.bucket,
            percent_encoding::utf8_percent_encode(&self.full(from), COPY_SOURCE)
        );
        self.client
            .copy_object()
            .bucket(&self.bucket)
            .copy_source(source)
            .key(self.full(to))
            .send()
            .await
            .map_err(service)?;
        Ok(())
    }

    async fn head(&self, key: &ObjectKey) -> Result<Option<u64>, StorageError> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(self.full(key))
            .send()
            .await
        {
            Ok(output) => Ok(Some(output.content_length.unwrap_or(0).max(0) as u64)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(service(e)),
        }
    }

    async fn delete(&self, key: &ObjectKey) -> Result<(), StorageError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(self.full(key))
            .send()
            .await
            .map_err(service)?;
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StorageError> {
        let full_prefix = if self.prefix.is_empty() {
            prefix.to_owned()
        } else {
            format!("{}/{prefix}", self.prefix)
        };
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(full_prefix)
            .into_paginator()
            .send();
        let mut found = Vec::new();
        while let Some(page) = pages.next().await {
            for object in page.map_err(service)?.contents() {
                let Some(relative) = object.key().and_then(|k| self.relative(k)) else {
                    continue;
                };
                if let Ok(key) = ObjectKey::parse(relative) {
                    found.push(ObjectInfo {
                        key,
                        size: object.size().unwrap_or(0).max(0) as u64,
                    });
                }
            }
        }
        found.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(found)
    }

    async fn presign(
        &self,
        method: PresignMethod,
        key: &ObjectKey,
        expires_in: Duration,
    ) -> Result<PresignedUrl, StorageError> {
        let config = PresigningConfig::expires_in(expires_in)
            .map_err(|e| StorageError::Service(e.to_string()))?;
        let request = match method {
            PresignMethod::Put => self
                .client
                .put_object()
                .bucket(&self.bucket)
                .key(self.full(key))
                .presigned(config)
                .await
                .map_err(service)?,
            PresignMethod::Get => self
                .client
                .get_object()
                .bucket(&self.bucket)
                .key(self.full(key))
                .presigned(config)
                .await
                .map_err(service)?,
        };
        let expires_at = Utc::now() + chrono::Duration::from_std(expires_in).unwrap_or_default();
        Ok(PresignedUrl {
            url: request.uri().to_owned(),
            method,
            expires_at,
        })
    }
}
