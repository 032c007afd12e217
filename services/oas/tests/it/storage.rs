//! Object storage: one suite, run against the local store (its presigned
//! URLs served by the gateway) and against S3 (s3s-fs, a local S3 server
//! that checks presigned signatures, started by the test script).

use std::time::Duration;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use bytes::Bytes;
use chrono::Utc;
use oas_platform::storage::{
    AnyStorage, ObjectKey, ObjectStore, PresignMethod, S3Storage, StorageError,
};
use reqwest::StatusCode;
use tokio::io::AsyncReadExt;

use crate::support::TestApp;

fn key(raw: &str) -> ObjectKey {
    ObjectKey::parse(raw).unwrap()
}

async fn read_all(store: &impl ObjectStore, key: &ObjectKey) -> Vec<u8> {
    let mut reader = store.get(key).await.unwrap();
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes).await.unwrap();
    bytes
}

/// Put, get, head, list, delete, files and prefixes.
async fn conformance(store: &impl ObjectStore) {
    let report = key("org-1/files/42/report.csv");
    store
        .put(&report, Bytes::from_static(b"Country,Quantity\nES,3\n"))
        .await
        .unwrap();
    assert_eq!(store.head(&report).await.unwrap(), Some(22));
    assert_eq!(read_all(store, &report).await, b"Country,Quantity\nES,3\n");

    // A file streamed in and out, larger than one buffer.
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("lines.parquet");
    let content: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&source, &content).unwrap();
    let lines = key("org-1/files/42/lines.parquet");
    store.put_file(&lines, &source).await.unwrap();
    let copy = dir.path().join("copy.parquet");
    assert_eq!(
        store.download(&lines, &copy).await.unwrap(),
        content.len() as u64
    );
    assert!(std::fs::read(&copy).unwrap() == content);

    // A copy inside the store keeps the bytes its source had.
    let copied = key("org-4/files/7/original");
    store.copy(&lines, &copied).await.unwrap();
    assert_eq!(
        store.head(&copied).await.unwrap(),
        Some(content.len() as u64)
    );
    store
        .put(&lines, Bytes::from_static(b"rewritten"))
        .await
        .unwrap();
    assert!(read_all(store, &copied).await == content);
    store.put_file(&lines, &source).await.unwrap();
    assert!(matches!(
        store
            .copy(&key("org-4/files/8/missing"), &key("org-4/files/9/x"))
            .await,
        Err(StorageError::NotFound(_))
    ));
    assert_eq!(store.delete_prefix("org-4/").await.unwrap(), 1);

    store
        .put(&key("org-1/files/43/report.csv"), Bytes::from_static(b"x"))
        .await
        .unwrap();
    store
        .put(&key("org-2/files/1/report.csv"), Bytes::from_static(b"y"))
        .await
        .unwrap();
    let listed: Vec<String> = store
        .list("org-1/")
        .await
        .unwrap()
        .iter()
        .map(|o| o.key.to_string())
        .collect();
    assert_eq!(
        listed,
        [
            "org-1/files/42/lines.parquet",
            "org-1/files/42/report.csv",
            "org-1/files/43/report.csv"
        ]
    );
    assert!(store.list("org-3/").await.unwrap().is_empty());
    assert_eq!(store.list("org-1/files/42/").await.unwrap().len(), 2);

    store
        .put(&report, Bytes::from_static(b"replaced"))
        .await
        .unwrap();
    assert_eq!(read_all(store, &report).await, b"replaced");

    store.delete(&report).await.unwrap();
    assert_eq!(store.head(&report).await.unwrap(), None);
    store.delete(&report).await.unwrap();
    assert!(matches!(
        store.get(&report).await,
        Err(StorageError::NotFound(_))
    ));

    assert_eq!(store.delete_prefix("org-1/").await.unwrap(), 2);
    assert!(store.list("org-1/").await.unwrap().is_empty());
    assert_eq!(
        store.list("org-2/").await.unwrap().len(),
        1,
        "other prefixes are untouched"
    );
}

/// The URL with its signature altered in one character.
fn tampered(url: &str) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .map(|(k, v)| {
            let v = if k.ends_with("Signature") {
                let mut chars: Vec<char> = v.chars().collect();
                chars[0] = if chars[0] == 'a' { 'b' } else { 'a' };
                chars.into_iter().collect()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    parsed.to_string()
}

/// Presigned PUT and GET work; tampered, expired and wrong-method URLs are
/// refused with 403 and change nothing.
async fn presigned(store: &impl ObjectStore, client: &reqwest::Client) {
    let upload = key("org-1/uploads/u1/spotify.tsv");
    let hour = Duration::from_secs(3600);
    let put = store
        .presign(PresignMethod::Put, &upload, hour)
        .await
        .unwrap();
    assert!(put.expires_at > Utc::now() + chrono::Duration::minutes(59));
    let response = client
        .put(&put.url)
        .body("Country\tQuantity\nES\t3\n")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}",
        response.text().await.unwrap()
    );
    assert_eq!(store.head(&upload).await.unwrap(), Some(22));

    let get = store
        .presign(PresignMethod::Get, &upload, hour)
        .await
        .unwrap();
    let response = client.get(&get.url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.bytes().await.unwrap().as_ref(),
        b"Country\tQuantity\nES\t3\n"
    );

    let forged = client
        .put(tampered(&put.url))
        .body("forged")
        .send()
        .await
        .unwrap();
    assert_eq!(
        forged.status(),
        StatusCode::FORBIDDEN,
        "a tampered URL is refused"
    );
    let wrong_method = client.put(&get.url).body("forged").send().await.unwrap();
    assert_eq!(
        wrong_method.status(),
        StatusCode::FORBIDDEN,
        "a GET URL cannot PUT"
    );
    let forged_read = client.get(tampered(&get.url)).send().await.unwrap();
    assert_eq!(forged_read.status(), StatusCode::FORBIDDEN);

    let short = store
        .presign(PresignMethod::Put, &upload, Duration::from_secs(1))
        .await
        .unwrap();
    // Wait for the expiry itself, not a guessed duration.
    while Utc::now().timestamp() <= short.expires_at.timestamp() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let expired = client.put(&short.url).body("late").send().await.unwrap();
    assert_eq!(
        expired.status(),
        StatusCode::FORBIDDEN,
        "an expired URL is refused"
    );

    assert_eq!(
        read_all(store, &upload).await,
        b"Country\tQuantity\nES\t3\n",
        "nothing refused changed the object"
    );
}

#[actix_web::test]
async fn the_local_store_passes_the_suite_and_serves_its_presigned_urls() {
    let app = TestApp::spawn().await;
    let AnyStorage::Local(local) = app.state.storage.as_ref() else {
        panic!("the default is local storage")
    };
    conformance(local).await;
    presigned(local, &app.client).await;

    // An unsigned request, or a key trying to leave the store, is refused.
    let unsigned = app
        .client
        .put(app.url("/api/storage/org-1/x.csv"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), StatusCode::FORBIDDEN);
    let escape = app
        .client
        .get(app.url("/api/storage/../secrets.json"))
        .send()
        .await
        .unwrap();
    assert!(
        matches!(
            escape.status(),
            StatusCode::NOT_FOUND | StatusCode::FORBIDDEN
        ),
        "{}",
        escape.status()
    );
    let encoded = app
        .client
        .get(app.url("/api/storage/org-1/%2E%2E/%2E%2E/secrets.json"))
        .send()
        .await
        .unwrap();
    assert!(
        matches!(
            encoded.status(),
            StatusCode::NOT_FOUND | StatusCode::FORBIDDEN
        ),
        "{}",
        encoded.status()
    );
}

#[actix_web::test]
async fn local_uploads_over_the_limit_are_refused_and_leave_nothing() {
    let app = TestApp::builder()
        .var("OAS_MAX_UPLOAD_BYTES", "1024")
        .start()
        .await;
    let AnyStorage::Local(local) = app.state.storage.as_ref() else {
        panic!("local storage")
    };
    let upload = key("org-1/uploads/big.csv");
    let put = local
        .presign(PresignMethod::Put, &upload, Duration::from_secs(60))
        .await
        .unwrap();
    let response = app
        .client
        .put(&put.url)
        .body(vec![b'x'; 4096])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(local.head(&upload).await.unwrap(), None);
    let leftovers: Vec<_> = std::fs::read_dir(local.root().join(".partial"))
        .unwrap()
        .collect();
    assert!(leftovers.is_empty(), "no partial file is left behind");
}

/// S3 through s3s-fs when the test script started it (`OAS_TEST_S3_ENDPOINT`).
#[actix_web::test]
async fn s3_passes_the_same_suite_with_real_presigned_urls() {
    let Some(endpoint) = crate::support::stand_in("OAS_TEST_S3_ENDPOINT") else {
        return;
    };
    let credentials = Credentials::new(
        std::env::var("AWS_ACCESS_KEY_ID").unwrap(),
        std::env::var("AWS_SECRET_ACCESS_KEY").unwrap(),
        None,
        None,
        "tests",
    );
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(credentials)
        .force_path_style(true)
        .build();
    let client = aws_sdk_s3::Client::from_conf(config);
    let bucket = format!("oas-test-{}", uuid::Uuid::new_v4().simple());
    client.create_bucket().bucket(&bucket).send().await.unwrap();
    let store = S3Storage::new(client, bucket, "deployment".into());
    conformance(&store).await;
    presigned(&store, &reqwest::Client::new()).await;

    // An object past what one copy takes is copied in parts, on the
    // server: here 12 MiB in parts of 5 MiB (the smallest S3 allows).
    let content: Vec<u8> = (0..12 << 20).map(|i: u32| (i % 253) as u8).collect();
    let (from, to) = (key("org-5/files/1/original"), key("org-5/files/2/original"));
    store
        .put(&from, Bytes::from(content.clone()))
        .await
        .unwrap();
    store.copy_in_parts(&from, &to, 5 << 20).await.unwrap();
    assert_eq!(store.head(&to).await.unwrap(), Some(12 << 20));
    assert!(
        read_all(&store, &to).await == content,
        "every part in its place"
    );
    let missing = store
        .copy_in_parts(&key("org-5/files/3/none"), &to, 5 << 20)
        .await;
    assert!(matches!(missing, Err(StorageError::NotFound(_))));
    assert_eq!(store.delete_prefix("org-5/").await.unwrap(), 2);
}
