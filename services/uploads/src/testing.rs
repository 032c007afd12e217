//! A local fake of a storage service's API for the fetchers' tests:
//! answers by path (with `#<pageToken>` when a page is asked for, `#media`
//! for a download), in order, the last one for good; it logs each request
//! as its key, headers and body.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

/// What the fake answers: by key, the statuses and bodies in order.
pub type Routes = HashMap<String, Vec<(u16, String)>>;

/// Serves `routes` on 127.0.0.1; its base URL (`/prefix/`) and the log.
pub async fn fake(routes: Routes, prefix: &str) -> (Url, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let routes = Arc::new(Mutex::new(routes));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buffer = vec![0u8; 65536];
            let n = socket.read(&mut buffer).await.unwrap_or(0);
            let request = String::from_utf8_lossy(&buffer[..n]).to_string();
            let line = request.lines().next().unwrap_or_default().to_owned();
            let target = line.split(' ').nth(1).unwrap_or_default().to_owned();
            let url = Url::parse(&format!("http://fake{target}")).unwrap();
            let mut key = url.path().to_owned();
            if let Some((_, token)) = url.query_pairs().find(|(k, _)| k == "pageToken") {
                key.push_str(&format!("#{token}"));
            }
            if url.query_pairs().any(|(k, v)| k == "alt" && v == "media") {
                key.push_str("#media");
            }
            let (head, body) = request.split_once("\r\n\r\n").unwrap_or((&request, ""));
            let headers: Vec<&str> = head.lines().skip(1).collect();
            log.lock()
                .unwrap()
                .push(format!("{key} {} {body}", headers.join("|")));
            let (status, answer) = {
                let mut routes = routes.lock().unwrap();
                match routes.get_mut(&key) {
                    Some(answers) if answers.len() > 1 => answers.remove(0),
                    Some(answers) => answers[0].clone(),
                    None => (404, r#"{"error":{"code":404}}"#.to_owned()),
                }
            };
            let answer = format!(
                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
            let _ = socket.write_all(answer.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    (
        Url::parse(&format!("http://127.0.0.1:{port}/{prefix}")).unwrap(),
        seen,
    )
}

/// The value of a stand-in's variable (`OAS_TEST_FTP_PORT`, …), set by the
/// test script that starts it; outside the script a test without it is
/// skipped, saying so, and under it (`OAS_TEST_STAND_INS=required`) fails.
pub fn stand_in(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => Some(value),
        _ => {
            assert!(
                std::env::var("OAS_TEST_STAND_INS").as_deref() != Ok("required"),
                "{name} is not set, but the test script starts every stand-in"
            );
            eprintln!("{name} is not set: skipped");
            None
        }
    }
}
