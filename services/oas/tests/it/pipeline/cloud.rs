//! The cloud topology: PostgreSQL, S3 (s3s-fs) and SQS (moto).

use super::*;

/// The cloud topology's stand-ins, ready: a bucket in s3s-fs and a queue
/// in moto, and a gateway configured for them on PostgreSQL (to start).
pub struct Cloud {
    pub builder: crate::support::TestAppBuilder,
    pub s3: aws_sdk_s3::Client,
    pub bucket: String,
    pub sqs: aws_sdk_sqs::Client,
    pub queue: String,
}

/// [`Cloud`], when its stand-ins and PostgreSQL are there.
pub async fn cloud() -> Option<Cloud> {
    let (Some(s3), Some(moto)) = (
        crate::support::stand_in("OAS_TEST_S3_ENDPOINT"),
        crate::support::stand_in("OAS_TEST_MOTO_ENDPOINT"),
    ) else {
        return None;
    };
    if std::env::var("OAS_TEST_DATABASE_URL").is_err() {
        eprintln!("OAS_TEST_DATABASE_URL is not set: cloud flow not exercised");
        return None;
    }
    let aws = |endpoint: String| async move {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .load()
            .await
    };
    let s3_client = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&aws(s3).await)
            .force_path_style(true)
            .build(),
    );
    let bucket = format!("oas-flow-{}", uuid::Uuid::new_v4().simple());
    s3_client
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let sqs = aws_sdk_sqs::Client::new(&aws(moto).await);
    let queue = sqs
        .create_queue()
        .queue_name(uuid::Uuid::new_v4().simple().to_string())
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let builder = TestApp::builder()
        .backend(oas_db::Backend::Postgres)
        .var(
            "OAS_STORAGE_URL",
            &format!("s3://{bucket}/deployment?path_style=true"),
        )
        .var("OAS_EVENTS_QUEUE_URL", &queue);
    Some(Cloud {
        builder,
        s3: s3_client,
        bucket,
        sqs,
        queue,
    })
}

/// The cloud topology's parts: PostgreSQL, S3 (s3s-fs, which checks the
/// presigned URL's signature) and an SQS queue (moto) for completion events.
#[actix_web::test]
async fn the_same_flow_runs_on_postgres_s3_and_sqs() {
    let Some(Cloud {
        builder,
        s3: s3_client,
        bucket,
        sqs,
        queue,
    }) = cloud().await
    else {
        return;
    };
    let app = builder.start().await;
    let (_, key) = app.user_with_key("carla").await;
    let org = app.organisation(&key).await;
    let (status, body) = call(
        &app,
        Method::PATCH,
        &format!("/api/organisations/{org}/"),
        &key,
        Some(json!({"currencies": ["USD", "GBP"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = call(
        &app,
        Method::PATCH,
        &format!("/api/organisations/{org}/settings/"),
        &key,
        Some(json!({"missing_rates": "latest_earlier", "exchange_rates": [{"from_currency": "GBP", "to_currency": "USD", "period": "2000-01", "rate": GBP}]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let spotify = sample("spotify/Spotify_streaming_via_finetunes_201710_example.txt");
    let id = submit(&app, &key, &spotify, "TXT").await;
    let (total, lines) = source_total(&spotify, "USD Payable");
    check_imported(&app, &key, id, total, lines, "USD").await;
    let physical = sample("distributors/Cargo_Physical_Test.xlsx");
    let id = submit(&app, &key, &physical, "XLSX").await;
    let (total, lines) = source_total(&physical, "Net after fee");
    check_imported(&app, &key, id, total, lines, "GBP").await;
    let id = submit(&app, &key, &sample("distributors/gubbins.txt"), "TXT").await;
    assert_eq!(settled(&app, &key, id).await["status"], "FAILED");

    // The lines landed in the bucket, under the organisation and period.
    let listed = s3_client
        .list_objects_v2()
        .bucket(&bucket)
        .prefix(format!("deployment/org-{org}/lines/"))
        .send()
        .await
        .unwrap();
    let keys: Vec<String> = listed
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect();
    assert!(
        keys.iter().any(|k| k.ends_with("/2017-10/file-1.parquet")),
        "{keys:?}"
    );
    // Each run also reported to the queue.
    let messages = sqs
        .receive_message()
        .queue_url(&queue)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap();
    assert!(
        !messages.messages().is_empty(),
        "completion events reach SQS"
    );
}
