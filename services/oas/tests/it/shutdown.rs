//! Graceful shutdown: a stop (what SIGTERM triggers) lets requests already
//! being handled finish, and takes no new ones.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpResponse, web};
use tokio::sync::Notify;

use crate::support::TestApp;

#[actix_web::test]
async fn a_graceful_stop_lets_in_flight_requests_finish() {
    let entered = Arc::new(Notify::new());
    let release = Arc::new(Notify::new());
    let (entered_probe, release_probe) = (entered.clone(), release.clone());
    let app = TestApp::builder()
        .var("OAS_SHUTDOWN_TIMEOUT", "30")
        .routes(move |cfg| {
            let (entered, release) = (entered_probe.clone(), release_probe.clone());
            cfg.route(
                "/__probe/slow",
                web::get().to(move || {
                    let (entered, release) = (entered.clone(), release.clone());
                    async move {
                        entered.notify_one();
                        release.notified().await;
                        HttpResponse::Ok().body("finished")
                    }
                }),
            );
        })
        .start()
        .await;

    let (client, url) = (app.client.clone(), app.url("/__probe/slow"));
    let in_flight = actix_web::rt::spawn(async move { client.get(url).send().await });
    entered.notified().await;

    let stopping = actix_web::rt::spawn(app.handle().stop(true));
    // Once stopping, the server takes no new requests.
    let refused = app
        .client
        .get(app.url("/healthz"))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(
        refused.is_err(),
        "a request after the stop must not be served: {refused:?}"
    );

    release.notify_one();
    let response = in_flight
        .await
        .unwrap()
        .expect("the in-flight request is answered");
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "finished");
    stopping.await.unwrap();
}
