//! The cloud topology's adapters against moto (SQS and ECS APIs), started
//! by the test script (`OAS_TEST_MOTO_ENDPOINT`).

use std::time::{Duration, Instant};

use aws_sdk_ecs::types::{Compatibility, ContainerDefinition, NetworkMode};
use aws_sdk_sqs::types::QueueAttributeName;
use oas_domain::job::{Callback, Job, JobEvent, Module};
use oas_platform::events::sqs::{EventQueue, Handled};
use oas_platform::launcher::{EcsLauncher, EcsSettings};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::TestApp;

fn moto() -> Option<String> {
    crate::support::stand_in("OAS_TEST_MOTO_ENDPOINT")
}

async fn aws(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .load()
        .await
}

fn job(id: &str, queue: Option<String>) -> Job {
    Job {
        job_id: id.to_owned(),
        module: Module::Ping,
        action: "ping".into(),
        org_id: 1,
        file_id: None,
        params: json!({}),
        callback: Callback {
            webhook_url: None,
            queue_url: queue,
        },
    }
}

/// A queue whose messages go to a dead-letter queue after `max_receives`.
async fn queue_with_dead_letters(sqs: &aws_sdk_sqs::Client, max_receives: u32) -> (String, String) {
    let name = uuid::Uuid::new_v4().simple().to_string();
    let dead = sqs
        .create_queue()
        .queue_name(format!("dead-{name}"))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let dead_arn = sqs
        .get_queue_attributes()
        .queue_url(&dead)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&QueueAttributeName::QueueArn]
        .clone();
    let redrive =
        json!({"deadLetterTargetArn": dead_arn, "maxReceiveCount": max_receives}).to_string();
    let main = sqs
        .create_queue()
        .queue_name(format!("events-{name}"))
        .attributes(QueueAttributeName::VisibilityTimeout, "1")
        .attributes(QueueAttributeName::RedrivePolicy, redrive)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    (main, dead)
}

#[actix_web::test]
async fn events_are_consumed_once_handled_and_unreadable_ones_are_dead_lettered() {
    let Some(endpoint) = moto() else { return };
    let sqs = aws_sdk_sqs::Client::new(&aws(&endpoint).await);
    let (main, dead) = queue_with_dead_letters(&sqs, 2).await;
    let queue = EventQueue::new(sqs.clone(), &main);

    let event = JobEvent::succeeded(&job("3b9d2f1e-0c4a-4e55", None), json!({"pong": true}));
    queue.publish(&event).await.unwrap();
    let mut seen = Vec::new();
    let received = queue
        .consume_once(Duration::from_secs(5), |e| {
            seen.push(e);
            async { Handled::Done }
        })
        .await
        .unwrap();
    assert_eq!(received, 1);
    assert_eq!(seen, vec![Ok(event)]);
    assert_eq!(
        queue
            .consume_once(Duration::from_secs(1), |_| async { Handled::Done })
            .await
            .unwrap(),
        0,
        "deleted once handled"
    );

    sqs.send_message()
        .queue_url(&main)
        .message_body("{not an event")
        .send()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let dead_queue = EventQueue::new(sqs.clone(), &dead);
    let mut dead_lettered = Vec::new();
    while dead_lettered.is_empty() {
        assert!(
            Instant::now() < deadline,
            "the unreadable message never reached the dead-letter queue"
        );
        // Each receive of the main queue counts towards the redrive policy;
        // the long poll waits for the message to become visible again.
        queue
            .consume_once(Duration::from_secs(2), |e| async move {
                assert!(e.is_err());
                Handled::Retry
            })
            .await
            .unwrap();
        dead_queue
            .consume_once(Duration::from_secs(1), |e| {
                dead_lettered.push(e);
                async { Handled::Done }
            })
            .await
            .unwrap();
    }
    assert!(
        dead_lettered[0]
            .as_ref()
            .unwrap_err()
            .contains("not a job event")
    );
}

/// The first `<tag>…</tag>` value of an EC2 query answer from moto's
/// default VPC (moto checks the subnets and groups a task names).
async fn default_ec2(endpoint: &str, action: &str, tag: &str) -> String {
    let signed_header = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0";
    let answer = reqwest::Client::new()
        .post(endpoint)
        .header("authorization", signed_header)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("Action={action}&Version=2016-11-15"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let open = format!("<{tag}>");
    let start = answer
        .find(&open)
        .unwrap_or_else(|| panic!("no {tag} in {answer}"))
        + open.len();
    let end = start + answer[start..].find('<').unwrap();
    answer[start..end].to_owned()
}

#[actix_web::test]
async fn the_ecs_launcher_runs_a_fargate_task_with_the_job_in_its_environment() {
    let Some(endpoint) = moto() else { return };
    let config = aws(&endpoint).await;
    let ecs = aws_sdk_ecs::Client::new(&config);
    let cluster = format!("oas-{}", uuid::Uuid::new_v4().simple());
    ecs.create_cluster()
        .cluster_name(&cluster)
        .send()
        .await
        .unwrap();
    ecs.register_task_definition()
        .family("oas-ping")
        .requires_compatibilities(Compatibility::Fargate)
        .network_mode(NetworkMode::Awsvpc)
        .cpu("256")
        .memory("512")
        .container_definitions(
            // moto needs memory on the container too (ECS itself accepts it on the task).
            ContainerDefinition::builder()
                .name("ping")
                .image("oas-ping:latest")
                .essential(true)
                .memory(512)
                .cpu(256)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let launcher = EcsLauncher::new(
        ecs.clone(),
        EcsSettings {
            cluster: cluster.clone(),
            task_definition_prefix: "oas-".into(),
            subnets: vec![default_ec2(&endpoint, "DescribeSubnets", "subnetId").await],
            security_groups: vec![
                default_ec2(&endpoint, "DescribeSecurityGroups", "groupId").await,
            ],
            assign_public_ip: false,
        },
    );
    let run = job(
        "7c1d2e3f-4a5b-6c7d-8e9f",
        Some("https://sqs.us-east-1.amazonaws.com/000000000000/events".into()),
    );
    let arn = launcher.launch(&run).await.unwrap();
    assert!(arn.starts_with("arn:aws:ecs:"), "{arn}");

    let described = ecs
        .describe_tasks()
        .cluster(&cluster)
        .tasks(&arn)
        .send()
        .await
        .unwrap();
    let task = &described.tasks()[0];
    assert!(
        task.task_definition_arn()
            .unwrap()
            .contains("task-definition/oas-ping")
    );
    let overrides = task.overrides().unwrap().container_overrides();
    assert_eq!(overrides[0].name(), Some("ping"));
    let environment = overrides[0].environment();
    let job_json = environment
        .iter()
        .find(|kv| kv.name() == Some("OAS_JOB"))
        .and_then(|kv| kv.value())
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Job>(job_json).unwrap(),
        run,
        "the container gets the job as given"
    );

    let unknown = Job {
        module: Module::Statement,
        ..run
    };
    assert!(
        launcher.launch(&unknown).await.is_err(),
        "a module without a task definition fails to launch"
    );
}

#[actix_web::test]
async fn a_local_run_also_reports_through_sqs_and_the_gateway_consumes_it() {
    let Some(endpoint) = moto() else { return };
    let sqs = aws_sdk_sqs::Client::new(&aws(&endpoint).await);
    let (main, _) = queue_with_dead_letters(&sqs, 3).await;
    let app = TestApp::builder()
        .var("OAS_EVENTS_QUEUE_URL", &main)
        .start()
        .await;
    let (_, key) = app.user_with_key("olga").await;
    let org = app.organisation(&key).await;
    let launched: Value = app
        .with_key(Method::POST, "/api/jobs/ping/", &key)
        .json(&json!({"organisation": org}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = launched["id"].as_str().unwrap().to_owned();

    // The run reports through both channels; the webhook usually lands
    // first, and the queued copy then changes nothing.
    let queue = EventQueue::new(sqs, &main);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut consumed = 0;
    while consumed == 0 {
        assert!(Instant::now() < deadline, "no event reached the queue");
        consumed = queue
            .consume_once(Duration::from_secs(2), |event| {
                oas::runs::handle_queued(&app.state, event)
            })
            .await
            .unwrap();
    }
    let job: Value = app
        .with_key(Method::GET, &format!("/api/jobs/{id}/"), &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(
        queue
            .consume_once(Duration::from_secs(1), |_| async { Handled::Retry })
            .await
            .unwrap(),
        0,
        "the queued copy was deleted"
    );
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}
