use std::path::Path;
use std::time::Duration;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
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

/// The largest object one `CopyObject` takes.
const LARGEST_COPY: u64 = 5 << 30;
/// The parts of a larger copy.
const COPY_PART: u64 = 1 << 30;

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

    /// `bucket/key` of an object, URL-encoded, as a copy names its source.
    fn copy_source(&self, key: &ObjectKey) -> String {
        let key = self.full(key);
        let key = percent_encoding::utf8_percent_encode(&key, COPY_SOURCE);
        format!("{}/{key}", self.bucket)
    }

    /// One `CopyObject`.
    async fn copy_once(&self, from: &ObjectKey, to: &ObjectKey) -> Result<(), StorageError> {
        let copied = self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .copy_source(self.copy_source(from))
            .key(self.full(to))
            .send()
            .await;
        match copied {
            Ok(_) => Ok(()),
            // Deleted since it was looked at.
            Err(e) if e.as_service_error().and_then(|s| s.code()) == Some("NoSuchKey") => {
                Err(StorageError::NotFound(from.to_string()))
            }
            Err(e) => Err(service(e)),
        }
    }

    /// Copies `from` to `to` on the server in parts of `part` bytes (a
    /// multipart upload whose parts are copied, not sent), for objects
    /// past the 5 GiB a single copy takes. The upload is aborted if a
    /// part fails, so no partial object is left.
    pub async fn copy_in_parts(
        &self,
        from: &ObjectKey,
        to: &ObjectKey,
        part: u64,
    ) -> Result<(), StorageError> {
        let Some(size) = self.head(from).await? else {
            return Err(StorageError::NotFound(from.to_string()));
        };
        self.copy_sized_in_parts(from, to, size, part).await
    }

    /// As [`S3Storage::copy_in_parts`], for a source of `size` bytes.
    async fn copy_sized_in_parts(
        &self,
        from: &ObjectKey,
        to: &ObjectKey,
        size: u64,
        part: u64,
    ) -> Result<(), StorageError> {
        if size == 0 {
            // Nothing to copy in parts.
            return self.copy_once(from, to).await;
        }
        let key = self.full(to);
        let upload = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(&key)
            .send()
            .await
            .map_err(service)?;
        let Some(upload_id) = upload.upload_id else {
            return Err(StorageError::Service("no multipart upload id".into()));
        };
        let copied = self
            .copy_parts(from, &key, &upload_id, size, part.max(1))
            .await;
        if copied.is_err() {
            let _ = self
                .client
                .abort_multipart_upload()
                .bucket(&self.bucket)
                .key(&key)
                .upload_id(&upload_id)
                .send()
                .await;
        }
        copied
    }

    async fn copy_parts(
        &self,
        from: &ObjectKey,
        key: &str,
        upload_id: &str,
        size: u64,
        part: u64,
    ) -> Result<(), StorageError> {
        use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
        let source = self.copy_source(from);
        let mut parts = Vec::new();
        let mut start = 0;
        while start < size {
            let end = (start + part).min(size);
            let number = i32::try_from(parts.len() + 1)
                .map_err(|_| StorageError::Service("too many parts".into()))?;
            let copied = self
                .client
                .upload_part_copy()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(upload_id)
                .part_number(number)
                .copy_source(&source)
                .copy_source_range(format!("bytes={start}-{}", end - 1))
                .send()
                .await
                .map_err(service)?;
            let tag = copied.copy_part_result.and_then(|r| r.e_tag);
            parts.push(
                CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(tag)
                    .build(),
            );
            start = end;
        }
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map_err(service)?;
        Ok(())
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

    /// A server-side copy: one `CopyObject`, or for an object past the
    /// 5 GiB one copy takes, a multipart copy of 1 GiB parts.
    async fn copy(&self, from: &ObjectKey, to: &ObjectKey) -> Result<(), StorageError> {
        let Some(size) = self.head(from).await? else {
            return Err(StorageError::NotFound(from.to_string()));
        };
        match size > LARGEST_COPY {
            true => self.copy_sized_in_parts(from, to, size, COPY_PART).await,
            false => self.copy_once(from, to).await,
        }
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
