//! Exchange rates: a line whose month has no rate fails the file, naming
//! every currency and month without one, unless the organisation chose to
//! borrow the latest earlier rate; either way the file shows each rate used.

use super::*;
use crate::support::files::submit_bytes;

#[actix_web::test]
async fn a_file_without_a_rate_for_its_currency_fails_saying_which_rate_is_missing() {
    let app = TestApp::spawn().await;
    let (_, key) = app.user_with_key("rita").await;
    app.organisation(&key).await;
    let id = submit(&app, &key, &sample("distributors/Tunecore_Test.csv"), "CSV").await;
    let file = settled(&app, &key, id).await;
    assert_eq!(file["status"], "FAILED");
    let cause = file["status_cause"].as_str().unwrap();
    assert!(
        cause.starts_with("No exchange rate into USD for GBP (2020-04)."),
        "{cause}"
    );
}

/// A TuneCore report of one line for each month and amount given.
fn tunecore(lines: &[(&str, &str)]) -> Vec<u8> {
    let mut text = String::from(
        "Sales Period,Posted Date,Store Name,Country Of Sale,Artist,Release Type,Release Title,Song Title,Label,UPC,Optional UPC,TC Song ID,Optional ISRC,Sales Type,# Units Sold,Per Unit Price,Net Sales,Net Sales Currency,Exchange Rate,Total Earned,Currency\n",
    );
    for (n, (month, amount)) in lines.iter().enumerate() {
        text.push_str(&format!(
            "{month}-01,2023-06-01,Google Play,GB,Artist {n},Song,Album {n},Song {n},Test Records,567890123456,112233445566,ABCDE1234567,GBAYE230000{n},Streaming,1,{amount},{amount},GBP,1,{amount},GBP\n"
        ));
    }
    text.into_bytes()
}

#[actix_web::test]
async fn a_month_without_a_rate_fails_the_file_unless_the_organisation_borrows_the_latest_earlier()
{
    let app = TestApp::spawn().await;
    let (_, key) = app.user_with_key("rhea").await;
    let org = app.organisation(&key).await;
    let settings = format!("/api/organisations/{org}/settings/");
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
        &settings,
        &key,
        Some(json!({"exchange_rates": [
            {"from_currency": "GBP", "to_currency": "USD", "period": "2022-11", "rate": "1.2"},
            {"from_currency": "GBP", "to_currency": "USD", "period": "2023-01", "rate": "1.25"},
        ]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["missing_rates"], "fail", "the default");

    let lines = [
        ("2022-11", "10.5"),
        ("2022-12", "20.25"),
        ("2023-01", "30"),
        ("2023-02", "0.125"),
    ];
    let id = submit_bytes(&app, &key, "tunecore.csv", "CSV", tunecore(&lines)).await;
    let file = settled(&app, &key, id).await;
    assert_eq!(file["status"], "FAILED", "{file}");
    let cause = file["status_cause"].as_str().unwrap();
    assert!(
        cause.starts_with("No exchange rate into USD for GBP (2022-12, 2023-02)."),
        "{cause}"
    );
    assert!(cause.contains("latest_earlier"), "{cause}");
    assert_eq!(summary(&app, &key).await["files"], 0);

    let (status, body) = call(
        &app,
        Method::PATCH,
        &settings,
        &key,
        Some(json!({"missing_rates": "sometimes"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = call(
        &app,
        Method::PATCH,
        &settings,
        &key,
        Some(json!({"missing_rates": "latest_earlier"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["missing_rates"], "latest_earlier");
    assert_eq!(
        body["exchange_rates"].as_array().unwrap().len(),
        2,
        "the rates stay"
    );

    let (status, body) = process(&app, &key, id, "reimport").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let file = settled(&app, &key, id).await;
    assert_eq!(file["status"], "FINALIZED", "{file}");
    assert_eq!(
        file["rates_used"],
        json!([
            {"currency": "GBP", "period": "2022-11", "rate": "1.2", "rate_period": "2022-11"},
            {"currency": "GBP", "period": "2022-12", "rate": "1.2", "rate_period": "2022-11"},
            {"currency": "GBP", "period": "2023-01", "rate": "1.25", "rate_period": "2023-01"},
            {"currency": "GBP", "period": "2023-02", "rate": "1.25", "rate_period": "2023-01"},
        ])
    );
    // 10.5 × 1.2 + 20.25 × 1.2 + 30 × 1.25 + 0.125 × 1.25
    let total = summary(&app, &key).await["total_gross"].clone();
    assert_eq!(
        Amount::parse(total.as_str().unwrap()).unwrap(),
        Amount::parse("74.55625").unwrap()
    );
}
