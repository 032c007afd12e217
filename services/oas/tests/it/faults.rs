//! What happens when things go wrong around a module run: its process is
//! killed, the gateway restarts while it runs, the database drops between
//! a run's end and what follows, an event comes twice or late. Nothing is
//! lost or counted twice.

use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use oas_db::jobs::JobRecord;
use oas_domain::money::Amount;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::TestApp;
use crate::support::chaos::ChaosProxy;
use crate::support::files::{call, file_when, process, settled, submit_bytes, wait_until};
use crate::support::process::{Serving, run};

/// A report in the OAS standard layout with `lines` lines, and its exact total.
fn report(lines: usize) -> (Vec<u8>, Amount) {
    let mut text =
        String::from("dsp,territory,artist,track_title,isrc,quantity,net_revenue,currency\n");
    let mut total = Amount::ZERO;
    for n in 0..lines {
        let amount = format!("0.{:06}", (n * 7919) % 1_000_000);
        total += Amount::parse(&amount).unwrap();
        text.push_str(&format!(
            "Spotify,DE,Artist {},Song {},DEA12{:07},3,{amount},USD\n",
            n % 97,
            n % 5003,
            n % 5003
        ));
    }
    (text.into_bytes(), total)
}

fn amount(value: &Value) -> Amount {
    Amount::parse(
        value
            .as_str()
            .unwrap_or_else(|| panic!("an amount: {value}")),
    )
    .unwrap()
}

/// The runs of `module` on file `id`, oldest first.
async fn runs_of(app: &TestApp, id: i64, module: &str) -> Vec<JobRecord> {
    let module = module.to_owned();
    app.state
        .db
        .run(move |conn| {
            use diesel::prelude::*;
            use oas_db::schema::jobs;
            Ok(jobs::table
                .filter(jobs::file_id.eq(id))
                .filter(jobs::module.eq(&module))
                .order(jobs::created_at.asc())
                .select(JobRecord::as_select())
                .load(conn)?)
        })
        .await
        .unwrap()
}

/// The event a run reported, as its module would deliver it again.
fn event_of(job: &JobRecord) -> Vec<u8> {
    let mut event = json!({"version": "1", "job_id": job.id, "module": job.module,
                           "action": job.action, "emitted_at": Utc::now()});
    match job.status.as_str() {
        "succeeded" => {
            event["status"] = "succeeded".into();
            event["output"] = serde_json::from_str(job.output.as_deref().unwrap()).unwrap();
        }
        _ => {
            event["status"] = "failed".into();
            event["error"] = json!({"code": job.error_code, "message": job.error_message});
        }
    }
    serde_json::to_vec(&event).unwrap()
}

async fn file(app: &TestApp, key: &str, id: i64) -> Value {
    let (status, file) = call(
        app,
        Method::GET,
        &format!("/api/files/salesfiles/{id}/"),
        key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{file}");
    file
}

async fn summary_total(app: &TestApp, key: &str) -> Amount {
    let (status, summary) = call(app, Method::GET, "/api/sales/summary/", key, None).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    amount(&summary["total_gross"])
}

/// Waits until `path` holds `needle`.
async fn log_says(path: &Path, needle: &str) -> bool {
    wait_until(Duration::from_secs(120), || async {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        text.contains(needle).then_some(())
    })
    .await
    .is_some()
}

#[actix_web::test]
async fn an_import_killed_mid_run_fails_its_file_and_a_reimport_counts_it_once() {
    let app = TestApp::spawn().await;
    let (_, key) = app.user_with_key("kim").await;
    app.organisation(&key).await;
    let (bytes, total) = report(300_000);
    let id = submit_bytes(&app, &key, "big.csv", "CSV", bytes).await;

    // The importer's process, once it is under way.
    let import = wait_until(Duration::from_secs(120), || async {
        runs_of(&app, id, "importer")
            .await
            .into_iter()
            .find(|job| job.task_ref.is_some())
    })
    .await
    .expect("the import starts");
    let log = app
        .state
        .settings
        .data_dir
        .join("logs/jobs")
        .join(format!("{}.log", import.id));
    assert!(
        log_says(&log, "\"started\"").await,
        "the importer logs its start"
    );
    let pid = import
        .task_ref
        .as_deref()
        .unwrap()
        .strip_prefix("local:")
        .unwrap();
    let killed = std::process::Command::new("kill")
        .args(["-KILL", pid])
        .status()
        .unwrap();
    assert!(killed.success());

    let failed = settled(&app, &key, id).await;
    assert_eq!(failed["status"], "FAILED", "{failed}");
    assert_eq!(
        failed["status_cause"], "The importer module failed (exited_without_report).",
        "{failed}"
    );
    assert!(
        failed["error_message"]
            .as_str()
            .unwrap()
            .contains("killed by a signal"),
        "{failed}"
    );

    let (status, body) = process(&app, &key, id, "reimport").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let done = settled(&app, &key, id).await;
    assert_eq!(done["status"], "FINALIZED", "{done}");
    assert_eq!(amount(&done["total_local"]), total);
    assert_eq!(done["total_rows"], 300_000);
    assert_eq!(summary_total(&app, &key).await, total, "counted once");

    // The killed run's event, arriving late (a run that reported just as
    // it was killed), and the reimport's own event again: nothing changes.
    let imports = runs_of(&app, id, "importer").await;
    assert_eq!(imports.len(), 2);
    let mut late = imports[1].clone();
    late.id = imports[0].id.clone();
    late.action = imports[0].action.clone();
    for (job_id, body) in [
        (imports[0].id.clone(), event_of(&late)),
        (imports[1].id.clone(), event_of(&imports[1])),
    ] {
        let (status, answer) = app.deliver_event(&job_id, body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["status"], "already_recorded");
    }
    app.continued().await;
    assert_eq!(file(&app, &key, id).await, done, "byte for byte as it was");
    assert_eq!(summary_total(&app, &key).await, total);
    assert_eq!(
        runs_of(&app, id, "importer").await.len(),
        2,
        "no run started"
    );
}

/// A database that drops right after a run's end is recorded: what follows
/// fails for a passing reason, and is carried out once the database is
/// back, by the module's next delivery of its event or by the reconciler
/// on its own.
#[actix_web::test]
async fn what_follows_a_run_survives_the_database_dropping_for_a_moment() {
    let Some(url) = std::env::var("OAS_TEST_DATABASE_URL").ok() else {
        eprintln!("OAS_TEST_DATABASE_URL is not set: skipped");
        return;
    };
    let server = url::Url::parse(&url).unwrap();
    let upstream = format!(
        "{}:{}",
        server.host_str().unwrap(),
        server.port().unwrap_or(5432)
    );
    let upstream = tokio::net::lookup_host(upstream)
        .await
        .unwrap()
        .next()
        .unwrap();
    let proxy = ChaosProxy::start(upstream).await;
    let app = TestApp::builder()
        .backend(oas_db::Backend::Postgres)
        .database_through(proxy.address)
        .without_workflows()
        .start()
        .await;
    let (_, key) = app.user_with_key("dora").await;
    app.organisation(&key).await;
    let (bytes, total) = report(50);
    let mut ids = Vec::new();
    for name in ["first.csv", "second.csv"] {
        // The same lines twice would be a duplicate: one more line each.
        let mut bytes = bytes.clone();
        bytes.extend_from_slice(format!("Deezer,FR,{name},Extra,,1,0.5,USD\n").as_bytes());
        ids.push(submit_bytes(&app, &key, name, "CSV", bytes).await);
    }
    let total = total + Amount::parse("0.5").unwrap();

    // Both cleanings end and are recorded; nothing has followed yet.
    let mut cleanings = Vec::new();
    for id in &ids {
        let cleaning = wait_until(Duration::from_secs(120), || async {
            runs_of(&app, *id, "uploads")
                .await
                .into_iter()
                .find(|job| job.status == "succeeded")
        })
        .await
        .expect("the cleaning ends");
        assert_eq!(file(&app, &key, *id).await["status"], "CLEANING");
        cleanings.push(cleaning);
    }

    // The database drops: carrying on fails, for a passing reason.
    proxy.cut().await;
    for cleaning in &cleanings {
        let error = oas::workflows::continue_job(&app.state, &cleaning.id)
            .await
            .expect_err("the database is unreachable");
        assert!(error.is_passing(), "{error}");
    }
    proxy.restore();

    // The first: the module delivers its event again, and the delivery
    // wakes the workflows, which carry on.
    // A connection the cut broke may still answer the first request 503
    // ("temporarily unavailable"), which the module retries as it does any
    // 5xx: deliver likewise until the gateway answers otherwise.
    oas::workflows::spawn(app.state.clone());
    let (status, answer) = wait_until(Duration::from_secs(30), || async {
        let (status, answer) = app
            .deliver_event(&cleanings[0].id, event_of(&cleanings[0]))
            .await;
        (status != StatusCode::SERVICE_UNAVAILABLE).then_some((status, answer))
    })
    .await
    .expect("the gateway answers once the database is back");
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["status"], "already_recorded");
    // The second: nobody delivers anything; the reconciler finds it.
    for id in &ids {
        let done = file_when(&app, &key, *id, |f| {
            f["status"] == "FINALIZED" || f["status"] == "FAILED"
        })
        .await;
        assert_eq!(done["status"], "FINALIZED", "{done}");
        assert_eq!(amount(&done["total_local"]), total);
        assert_eq!(
            runs_of(&app, *id, "importer").await.len(),
            1,
            "imported once"
        );
    }
    app.continued().await;
    assert_eq!(summary_total(&app, &key).await, total + total);
}

/// The key printed on the last line of `oas createsuperuser`.
fn superuser_key(data_dir: &Path, vars: &[(&str, &str)]) -> String {
    let output = run(
        data_dir,
        &[
            "createsuperuser",
            "--username",
            "root",
            "--email",
            "root@label.com",
            "--password-stdin",
        ],
        vars,
        &format!("{}\n", crate::support::PASSWORD),
    );
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned()
}

/// The gateway stops while an import runs and starts again before it
/// ends: the run outlives it, retries its completion webhook until the
/// gateway answers, and the file completes with its exact total.
#[actix_web::test]
async fn a_run_finishes_while_the_gateway_restarts_and_its_file_completes() {
    let data = tempfile::tempdir().unwrap();
    let modules = crate::support::modules_dir().display().to_string();
    let vars = [("OAS_MODULES_DIR", modules.as_str())];
    let key = superuser_key(data.path(), &vars);
    let gateway = Serving::start(data.path(), &vars);
    let base = format!("http://{}", gateway.address);
    let client = reqwest::Client::new();
    let send = |method: Method, path: &str, body: Option<Value>| {
        let mut request = client
            .request(method, format!("{base}{path}"))
            .header("x-api-key", &key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (status, _) = send(
        Method::POST,
        "/api/organisations/",
        Some(json!({"name": "Restart Records", "base_currency": "USD", "currencies": ["USD"]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (bytes, total) = report(300_000);
    let (status, created) = send(
        Method::POST,
        "/api/files/salesfiles/",
        Some(
            json!({"filename": "big.csv", "filetype": "CSV", "filesize": bytes.len(),
                    "mongo_db_id": "big"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();
    let process = |action: &str| {
        send(
            Method::POST,
            &format!("/api/files/salesfiles/{id}/process/"),
            Some(json!({"action": action})),
        )
    };
    let (_, upload) = process("upload").await;
    let put = client
        .put(upload["presigned_url"].as_str().unwrap())
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    let (status, _) = process("clean").await;
    assert_eq!(status, StatusCode::OK);
    let path = format!("/api/files/salesfiles/{id}/");
    let importing = wait_until(Duration::from_secs(120), || async {
        let (_, file) = send(Method::GET, &path, None).await;
        (file["status"] == "PROCESSING").then_some(file)
    })
    .await;
    assert!(importing.is_some(), "the import starts");

    // Stopped (SIGTERM) while the import runs.
    gateway.terminate();
    let address = gateway.address;
    let (status, _) = gateway.wait();
    assert!(status.success(), "a clean stop: {status:?}");
    let logs = data.path().join("logs/jobs");
    let log = wait_until(Duration::from_secs(120), || async {
        std::fs::read_dir(&logs)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .find(|p| {
                std::fs::read_to_string(p).is_ok_and(|t| t.contains("\"module\":\"importer\""))
            })
    })
    .await
    .expect("the importer's log");
    assert!(
        log_says(&log, "completion webhook unreachable; retrying").await,
        "the run finishes while the gateway is down, and keeps trying"
    );

    // Back on the same address: the next delivery is heard.
    let bind = address.to_string();
    let _gateway = Serving::start(
        data.path(),
        &[
            ("OAS_MODULES_DIR", modules.as_str()),
            ("OAS_BIND", bind.as_str()),
        ],
    );
    let done = wait_until(Duration::from_secs(120), || async {
        let (_, file) = send(Method::GET, &path, None).await;
        (file["status"] == "FINALIZED" || file["status"] == "FAILED").then_some(file)
    })
    .await
    .expect("the file completes");
    assert_eq!(done["status"], "FINALIZED", "{done}");
    assert_eq!(amount(&done["total_local"]), total);
    let (_, summary) = send(Method::GET, "/api/sales/summary/", None).await;
    assert_eq!(amount(&summary["total_gross"]), total, "counted once");
}
