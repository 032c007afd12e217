//! Exchange rates: a file without one for its currency fails, naming it.

use super::*;

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
        cause.contains("No exchange rate from GBP to USD for 2020-04"),
        "{cause}"
    );
}
