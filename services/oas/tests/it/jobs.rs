//! Module runs: launched as local processes and as containers, heard back
//! through the signed webhook, timed out when silent, stopped when asked,
//! and visible only to their organisation.

use std::time::{Duration, Instant};

use chrono::Utc;
use oas_db::jobs::JobRecord;
use oas_platform::events::webhook;
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::support::TestApp;

/// Polls the job until `done` holds (at most 60 s).
async fn wait_for(app: &TestApp, key: &str, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let job: Value = app
            .with_key(Method::GET, &format!("/api/jobs/{id}/"), key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if done(&job) {
            return job;
        }
        assert!(Instant::now() < deadline, "the job never got there: {job}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn ping(app: &TestApp, key: &str, body: Value) -> Value {
    let response = app
        .with_key(Method::POST, "/api/jobs/ping/", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    response.json().await.unwrap()
}

/// Where the suite's runs start: as local processes always, and as
/// containers when the test script built the ping module's image
/// (`OAS_TEST_DOCKER_TAG`). Containers join the host's network, so they
/// reach the test gateway's webhook on 127.0.0.1 as a task reaches the
/// gateway from its subnet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Launcher {
    Local,
    Docker,
}

fn launchers() -> Vec<Launcher> {
    let mut all = vec![Launcher::Local];
    if crate::support::stand_in("OAS_TEST_DOCKER_TAG").is_some() {
        all.push(Launcher::Docker);
    }
    all
}

impl Launcher {
    fn app(self) -> crate::support::TestAppBuilder {
        match self {
            Launcher::Local => TestApp::builder(),
            Launcher::Docker => TestApp::builder()
                .var("OAS_LAUNCHER", "docker")
                .var(
                    "OAS_DOCKER_IMAGE_TAG",
                    &std::env::var("OAS_TEST_DOCKER_TAG").unwrap(),
                )
                .var("OAS_DOCKER_NETWORK", "host"),
        }
    }

    fn task_prefix(self) -> &'static str {
        match self {
            Launcher::Local => "local:",
            Launcher::Docker => "docker:",
        }
    }

    /// Asks the run of job `id` to stop, as ECS or `docker stop` does.
    async fn stop(self, job: &Value) {
        let status = match self {
            Launcher::Local => {
                let pid = job["task"].as_str().unwrap().trim_start_matches("local:");
                tokio::process::Command::new("kill")
                    .args(["-TERM", pid])
                    .status()
                    .await
            }
            Launcher::Docker => {
                let name = format!("oas-ping-{}", job["id"].as_str().unwrap());
                tokio::process::Command::new("docker")
                    .args(["stop", "--time", "30", &name])
                    .stdout(std::process::Stdio::null())
                    .status()
                    .await
            }
        };
        assert!(
            status.unwrap().success(),
            "{self:?}: the run was not stopped"
        );
    }
}

#[actix_web::test]
async fn a_run_reports_back_through_the_signed_webhook() {
    for launcher in launchers() {
        let app = launcher.app().start().await;
        let (_, key) = app.user_with_key("olga").await;
        let org = app.organisation(&key).await;
        let launched = ping(&app, &key, json!({"organisation": org})).await;
        assert_eq!(launched["module"], "ping");
        assert!(
            launched["task"]
                .as_str()
                .unwrap()
                .starts_with(launcher.task_prefix()),
            "{launcher:?}: {launched}"
        );
        let id = launched["id"].as_str().unwrap().to_owned();

        let done = wait_for(&app, &key, &id, |job| {
            job["status"] != "running" && job["exit_code"].is_i64()
        })
        .await;
        assert_eq!(done["status"], "succeeded", "{launcher:?}: {done}");
        assert_eq!(done["output"]["pong"], true);
        assert_eq!(done["exit_code"], 0);
        assert_eq!(done["error"], Value::Null);
        let log = app
            .state
            .settings
            .data_dir
            .join("logs/jobs")
            .join(format!("{id}.log"));
        assert!(
            std::fs::read_to_string(log).unwrap().contains(&id),
            "{launcher:?}: the run's log is kept, with its job id"
        );
    }
}

#[actix_web::test]
async fn a_failing_run_and_a_missing_module_end_failed_with_their_reason() {
    for launcher in launchers() {
        let app = launcher.app().start().await;
        let (_, key) = app.user_with_key("olga").await;
        app.organisation(&key).await;
        let launched = ping(&app, &key, json!({"fail": "disk full"})).await;
        let done = wait_for(&app, &key, launched["id"].as_str().unwrap(), |job| {
            job["status"] != "running" && job["exit_code"].is_i64()
        })
        .await;
        assert_eq!(done["status"], "failed", "{launcher:?}");
        assert_eq!(
            done["error"],
            json!({"code": "rejected", "message": "disk full"})
        );
        assert_eq!(done["exit_code"], 1, "{launcher:?}: {done}");

        // Where the module is looked for, somewhere it is not.
        let (variable, nowhere, named) = match launcher {
            Launcher::Local => ("OAS_MODULES_DIR", "/nonexistent/modules", "oas-ping"),
            Launcher::Docker => ("OAS_DOCKER_IMAGE_TAG", "not-built", "oas-ping:not-built"),
        };
        let lost = launcher.app().var(variable, nowhere).start().await;
        let (_, key) = lost.user_with_key("olga").await;
        lost.organisation(&key).await;
        let launched = ping(&lost, &key, json!({})).await;
        assert_eq!(launched["status"], "failed");
        assert_eq!(launched["error"]["code"], "launch_failed");
        assert!(
            launched["error"]["message"]
                .as_str()
                .unwrap()
                .contains(named),
            "{launcher:?}: {launched}"
        );
    }
}

#[actix_web::test]
async fn a_run_past_its_timeout_is_stopped_and_ends_timed_out() {
    for launcher in launchers() {
        let app = launcher.app().var("OAS_MODULE_TIMEOUT", "1").start().await;
        let (_, key) = app.user_with_key("olga").await;
        app.organisation(&key).await;
        let started = Instant::now();
        let launched = ping(&app, &key, json!({"hold_ms": 600_000})).await;
        let done = wait_for(&app, &key, launched["id"].as_str().unwrap(), |job| {
            job["status"] != "running"
        })
        .await;
        assert_eq!(done["status"], "timed_out", "{launcher:?}: {done}");
        assert_eq!(done["error"]["code"], "timed_out");
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{launcher:?}: nothing hangs: {:?}",
            started.elapsed()
        );
    }
}

#[actix_web::test]
async fn a_run_asked_to_stop_reports_that_it_was_stopped() {
    for launcher in launchers() {
        let app = launcher.app().start().await;
        let (_, key) = app.user_with_key("olga").await;
        app.organisation(&key).await;
        let launched = ping(&app, &key, json!({"hold_ms": 600_000})).await;
        let id = launched["id"].as_str().unwrap().to_owned();
        // Stopped once it runs: its log says it started.
        let log = app
            .state
            .settings
            .data_dir
            .join(format!("logs/jobs/{id}.log"));
        let deadline = Instant::now() + Duration::from_secs(30);
        while !std::fs::read_to_string(&log).is_ok_and(|l| l.contains("started")) {
            assert!(
                Instant::now() < deadline,
                "{launcher:?}: the run never started"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let stopped = Instant::now();
        launcher.stop(&launched).await;
        let done = wait_for(&app, &key, &id, |job| {
            job["status"] != "running" && job["exit_code"].is_i64()
        })
        .await;
        assert_eq!(done["status"], "failed", "{launcher:?}: {done}");
        assert!(
            done["error"]["message"]
                .as_str()
                .unwrap()
                .contains("SIGTERM"),
            "{launcher:?}: {done}"
        );
        assert_eq!(done["exit_code"], 1, "{launcher:?}: it exited by itself");
        assert!(
            stopped.elapsed() < Duration::from_secs(25),
            "{launcher:?}: it stopped at once, not at the grace period's end"
        );
    }
}

#[actix_web::test]
async fn a_gateway_for_containers_does_not_start_without_its_engine() {
    let data = tempfile::tempdir().unwrap();
    let settings = oas_platform::config::Settings::from_vars([
        ("OAS_DATA_DIR", data.path().to_str().unwrap()),
        ("OAS_LAUNCHER", "docker"),
        ("DOCKER_HOST", "unix:///nonexistent/docker.sock"),
    ])
    .unwrap();
    let secrets = oas_platform::secrets::Secrets::resolve(&settings).unwrap();
    let Err(error) = oas::startup::launcher(&settings, &secrets).await else {
        panic!("a launcher without an engine")
    };
    let message = error.to_string();
    assert!(
        message.contains("DOCKER_HOST") && message.contains("unix:///nonexistent/docker.sock"),
        "{message}"
    );
}

#[actix_web::test]
async fn a_container_past_its_memory_limit_ends_failed_saying_so() {
    if !launchers().contains(&Launcher::Docker) {
        return;
    }
    let app = Launcher::Docker
        .app()
        .var("OAS_DOCKER_MEMORY", "64")
        .start()
        .await;
    let (_, key) = app.user_with_key("olga").await;
    app.organisation(&key).await;
    let launched = ping(&app, &key, json!({"allocate_mib": 256})).await;
    let done = wait_for(&app, &key, launched["id"].as_str().unwrap(), |job| {
        job["status"] != "running"
    })
    .await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(done["error"]["code"], "out_of_memory", "{done}");
    assert!(
        done["error"]["message"]
            .as_str()
            .unwrap()
            .contains("64 MiB"),
        "{done}"
    );
    // Within the limit, the same run succeeds.
    let launched = ping(&app, &key, json!({"allocate_mib": 16})).await;
    let done = wait_for(&app, &key, launched["id"].as_str().unwrap(), |job| {
        job["status"] != "running"
    })
    .await;
    assert_eq!(done["status"], "succeeded", "{done}");
}

/// A running job written directly, as if launched elsewhere (ECS).
async fn running_job(app: &TestApp, org: i64, deadline: chrono::Duration) -> String {
    let now = Utc::now().naive_utc();
    let id = uuid::Uuid::new_v4().to_string();
    let job = JobRecord {
        id: id.clone(),
        module: "ping".into(),
        action: "ping".into(),
        organisation_id: org,
        file_id: None,
        status: "running".into(),
        params: "{}".into(),
        output: None,
        error_code: None,
        error_message: None,
        task_ref: Some("arn:aws:ecs:eu-west-1:000000000000:task/oas/1".into()),
        exit_code: None,
        created_at: now,
        started_at: Some(now),
        finished_at: None,
        deadline_at: now + deadline,
        continued_at: None,
        continue_after: None,
        subject_kind: None,
        subject_id: None,
    };
    app.state
        .db
        .run(move |conn| JobRecord::insert(conn, &job))
        .await
        .unwrap();
    id
}

fn event(id: &str, status: &str) -> Vec<u8> {
    let mut event = json!({"version": "1", "job_id": id, "module": "ping", "action": "ping", "status": status,
                           "output": {"pong": true}, "emitted_at": Utc::now()});
    if status == "failed" {
        event["error"] = json!({"code": "late", "message": "a late failure"});
    }
    serde_json::to_vec(&event).unwrap()
}

async fn deliver(
    app: &TestApp,
    id: &str,
    signature: Option<String>,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let mut request = app
        .client
        .post(app.url("/api/webhooks/jobs/"))
        .header("content-type", "application/json")
        .header(webhook::ID_HEADER, id);
    if let Some(signature) = signature {
        request = request.header(webhook::SIGNATURE_HEADER, signature);
    }
    let response = request.body(body).send().await.unwrap();
    (
        response.status(),
        response.json().await.unwrap_or(Value::Null),
    )
}

#[actix_web::test]
async fn the_webhook_refuses_unsigned_forged_and_stale_deliveries_and_applies_once() {
    let app = TestApp::spawn().await;
    let (_, key) = app.user_with_key("olga").await;
    let org = app.organisation(&key).await;
    let id = running_job(&app, org, chrono::Duration::hours(1)).await;
    let secret = app
        .state
        .secrets
        .webhook
        .expose_secret()
        .as_bytes()
        .to_vec();
    let now = Utc::now().timestamp();
    let body = event(&id, "succeeded");

    for (signature, why) in [
        (None, "unsigned"),
        (
            Some(webhook::sign(b"not the deployment's key", &id, now, &body)),
            "another key",
        ),
        (Some(webhook::sign(&secret, &id, now - 600, &body)), "stale"),
        (
            Some(webhook::sign(&secret, &id, now, b"{}")),
            "signed over another body",
        ),
        (Some("t=abc,v1=00".into()), "malformed"),
    ] {
        let (status, answer) = deliver(&app, &id, signature, body.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{why}: {answer}");
    }
    let job: Value = app
        .with_key(Method::GET, &format!("/api/jobs/{id}/"), &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        job["status"], "running",
        "refused deliveries change nothing"
    );

    let signed = webhook::sign(&secret, &id, now, &body);
    let (status, answer) = deliver(&app, &id, Some(signed.clone()), body.clone()).await;
    assert_eq!(
        (status, answer),
        (StatusCode::OK, json!({"status": "recorded"}))
    );
    let (status, answer) = deliver(&app, &id, Some(signed), body).await;
    assert_eq!(
        (status, answer),
        (StatusCode::OK, json!({"status": "already_recorded"}))
    );
    let late = event(&id, "failed");
    let (status, answer) = deliver(
        &app,
        &id,
        Some(webhook::sign(&secret, &id, now, &late)),
        late,
    )
    .await;
    assert_eq!(
        (status, answer),
        (StatusCode::OK, json!({"status": "already_recorded"}))
    );
    let job: Value = app
        .with_key(Method::GET, &format!("/api/jobs/{id}/"), &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (job["status"].clone(), job["output"]["pong"].clone()),
        (json!("succeeded"), json!(true))
    );

    let unknown = uuid::Uuid::new_v4().to_string();
    let body = event(&unknown, "succeeded");
    let (status, _) = deliver(
        &app,
        &unknown,
        Some(webhook::sign(&secret, &unknown, now, &body)),
        body,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let other = running_job(&app, org, chrono::Duration::hours(1)).await;
    let body = event(&other, "succeeded");
    let (status, _) = deliver(
        &app,
        &id,
        Some(webhook::sign(&secret, &id, now, &body)),
        body,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the signed id must be the event's"
    );
}

#[actix_web::test]
async fn the_sweep_times_out_silent_runs_once() {
    let app = TestApp::spawn().await;
    let (_, key) = app.user_with_key("olga").await;
    let org = app.organisation(&key).await;
    let overdue = running_job(&app, org, chrono::Duration::seconds(-5)).await;
    let current = running_job(&app, org, chrono::Duration::hours(1)).await;
    assert_eq!(oas::runs::sweep_once(&app.state).await.unwrap(), 1);
    assert_eq!(oas::runs::sweep_once(&app.state).await.unwrap(), 0);
    let job: Value = app
        .with_key(Method::GET, &format!("/api/jobs/{overdue}/"), &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (job["status"].clone(), job["error"]["code"].clone()),
        (json!("timed_out"), json!("timed_out"))
    );
    let job: Value = app
        .with_key(Method::GET, &format!("/api/jobs/{current}/"), &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(job["status"], "running");
}

#[actix_web::test]
async fn jobs_are_visible_to_their_organisation_only() {
    let app = TestApp::spawn().await;
    let (_, owner) = app.user_with_key("olga").await;
    let (_, viewer) = app.user_with_key("vic").await;
    let (_, outsider) = app.user_with_key("otto").await;
    let org = app.organisation(&owner).await;
    let added = app
        .with_key(
            Method::POST,
            &format!("/api/organisations/{org}/members/"),
            &owner,
        )
        .json(&json!({"username": "vic", "role": "viewer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), StatusCode::CREATED);
    let id = running_job(&app, org, chrono::Duration::hours(1)).await;
    let path = format!("/api/jobs/{id}/");
    assert_eq!(
        app.with_key(Method::GET, &path, &viewer)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let hidden = app
        .with_key(Method::GET, &path, &outsider)
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        hidden.json::<Value>().await.unwrap(),
        json!({"detail": "Not found."})
    );
    let forbidden = app
        .with_key(Method::POST, "/api/jobs/ping/", &viewer)
        .json(&json!({"organisation": org}))
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    let elsewhere = app
        .with_key(Method::POST, "/api/jobs/ping/", &outsider)
        .json(&json!({"organisation": org}))
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);
}

/// A sales file in `status`, written directly.
async fn file_in(app: &TestApp, org: i64, status: &str) -> i64 {
    use oas_db::sales_files::{NewSalesFile, SalesFile};
    let now = Utc::now().naive_utc();
    let status = status.to_owned();
    let uuid = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    app.state
        .db
        .run(move |conn| {
            SalesFile::insert(
                conn,
                &NewSalesFile {
                    uuid: &uuid,
                    organisation_id: org,
                    filename: "spotify.tsv",
                    filetype: "TSV",
                    filesize: 1000,
                    mongo_db_id: "pending",
                    status: &status,
                    reporting_period: None,
                    upload_mode: "MANUALLY",
                    response_module: "PENDING",
                    exchange_rate: None,
                    parent_id: None,
                    created_by: None,
                    created_at: now,
                    updated_at: now,
                },
            )
        })
        .await
        .unwrap()
        .id
}

async fn file_status(app: &TestApp, id: i64) -> oas_db::sales_files::SalesFile {
    app.state
        .db
        .run(move |conn| oas_db::sales_files::SalesFile::find(conn, id))
        .await
        .unwrap()
}

/// A running job of `module` on a file, written directly.
async fn running_on(
    app: &TestApp,
    org: i64,
    file: i64,
    module: &str,
    action: &str,
    deadline: chrono::Duration,
) -> String {
    let id = running_job(app, org, deadline).await;
    let (job_id, module, action) = (id.clone(), module.to_owned(), action.to_owned());
    app.state
        .db
        .run(move |conn| {
            use diesel::prelude::*;
            use oas_db::schema::jobs;
            diesel::update(jobs::table.find(&job_id))
                .set((
                    jobs::module.eq(&module),
                    jobs::action.eq(&action),
                    jobs::file_id.eq(Some(file)),
                ))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    id
}

#[actix_web::test]
async fn a_silent_run_fails_its_file_with_a_readable_cause() {
    let app = TestApp::spawn().await;
    let (_, key) = app.user_with_key("olga").await;
    let org = app.organisation(&key).await;
    let file = file_in(&app, org, "CLEANING").await;
    running_on(
        &app,
        org,
        file,
        "uploads",
        "clean",
        chrono::Duration::seconds(-1),
    )
    .await;
    assert_eq!(oas::runs::sweep_once(&app.state).await.unwrap(), 1);
    app.continued().await;
    let failed = file_status(&app, file).await;
    assert_eq!(failed.status, "FAILED");
    assert_eq!(
        failed.status_cause.as_deref(),
        Some("The uploads module did not finish in time.")
    );
    assert!(failed.error_message.is_some());
}

#[actix_web::test]
async fn a_cleaned_file_goes_on_to_import_and_a_late_event_changes_nothing() {
    let app = TestApp::spawn().await;
    let (_, key) = app.user_with_key("olga").await;
    let org = app.organisation(&key).await;

    let file = file_in(&app, org, "CLEANING").await;
    let cleaning = running_on(
        &app,
        org,
        file,
        "uploads",
        "clean",
        chrono::Duration::hours(1),
    )
    .await;
    let body = serde_json::to_vec(
        &json!({"version": "1", "job_id": cleaning, "module": "uploads", "action": "clean",
        "status": "succeeded", "output": {}, "emitted_at": Utc::now()}),
    )
    .unwrap();
    let (status, _) = app.deliver_event(&cleaning, body).await;
    assert_eq!(status, StatusCode::OK);
    app.continued().await;
    // A cleaning that reports no cleaned copy breaks the uploads module's
    // contract: the run is recorded as failed, and so is the file, rather
    // than importing nothing.
    let after = file_status(&app, file).await;
    assert_eq!(after.status, "FAILED", "{after:?}");
    assert_eq!(
        after.status_cause.as_deref(),
        Some("The uploads module failed (invalid_output).")
    );
    let job: Value = app
        .with_key(Method::GET, &format!("/api/jobs/{cleaning}/"), &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(job["error"]["code"], "invalid_output", "{job}");

    let done = file_in(&app, org, "FINALIZED").await;
    let stray = running_on(
        &app,
        org,
        done,
        "uploads",
        "clean",
        chrono::Duration::hours(1),
    )
    .await;
    let body = serde_json::to_vec(
        &json!({"version": "1", "job_id": stray, "module": "uploads", "action": "clean",
        "status": "failed", "error": {"code": "x", "message": "y"}, "emitted_at": Utc::now()}),
    )
    .unwrap();
    let (status, _) = app.deliver_event(&stray, body).await;
    assert_eq!(status, StatusCode::OK);
    app.continued().await;
    assert_eq!(
        file_status(&app, done).await.status,
        "FINALIZED",
        "a file that moved on is left alone"
    );
}

#[actix_web::test]
async fn an_archive_whose_members_cannot_be_stored_fails_instead_of_staying_cleaning() {
    let app = TestApp::spawn().await;
    let (_, key) = app.user_with_key("olga").await;
    let org = app.organisation(&key).await;
    let file = file_in(&app, org, "CLEANING").await;
    let cleaning = running_on(
        &app,
        org,
        file,
        "uploads",
        "clean",
        chrono::Duration::hours(1),
    )
    .await;
    // The run says it expanded a member whose bytes are not in storage.
    let body = serde_json::to_vec(&json!({
        "version": "1", "job_id": cleaning, "module": "uploads", "action": "clean",
        "status": "succeeded", "emitted_at": Utc::now(),
        "output": {
            "kind": "archive",
            "members": [{"name": "report.csv", "size": 120,
                         "key": format!("org-{org}/files/gone/members/0")}],
            "skipped": [],
            "content_hash": format!("blake3:{}", "0".repeat(64)),
        },
    }))
    .unwrap();
    let (status, _) = app.deliver_event(&cleaning, body).await;
    assert_eq!(status, StatusCode::OK);
    app.continued().await;
    let after = file_status(&app, file).await;
    assert_eq!(after.status, "FAILED", "{after:?}");
    let cause = after.status_cause.unwrap_or_default();
    assert!(
        cause.contains("could not all be stored") && cause.contains("\"clean\""),
        "{cause}"
    );
    let children = app
        .state
        .db
        .run(move |conn| oas_db::sales_files::SalesFile::children(conn, file))
        .await
        .unwrap();
    assert!(
        children.is_empty(),
        "no file is left for a member without bytes: {children:?}"
    );
}
