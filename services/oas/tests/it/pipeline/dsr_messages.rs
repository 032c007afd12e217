//! DDEX DSR messages sent in several files.

use super::*;

/// The files of a DDEX DSR message sent in two: one summary record of
/// 100.00 USD, shared by usages between the lines without revenue of
/// their own in both files (`shared`, a block each), and in the second
/// file one line with revenue of its own (2 usages, 2.50 USD).
pub(super) fn dsr_message(message: &str, shared: [&[i64]; 2]) -> [String; 2] {
    let total: i64 = shared.iter().flat_map(|f| f.iter()).sum::<i64>() + 2;
    let mut files: Vec<Vec<String>> = Vec::new();
    let mut block = 0;
    for (index, usages) in shared.iter().enumerate() {
        let mut lines = vec![
            format!(
                "HEAD\tdsrf/30\tUGCProfile\t1.1\t{message}\t2016-01-21T15:09:26Z\t{}\t2\t2015-10-01\t2015-12-31\tPADPIDA2013020802I\tYouTube",
                index + 1
            ),
            "#HEAD\tMessageVersion\tProfile\tProfileVersion\tMessageId\tMessageCreatedDateTime\tFileNumber\tNumberOfFiles\tUsageStartDate\tUsageEndDate\tSenderPartyId\tSenderName".to_owned(),
            "#SY02.01\tSummaryRecordId\tCommercialModel\tUseType\tTerritory\tServiceDescription\tUsages\tCurrency\tNetRevenue".to_owned(),
            "#AS01\tBlockId\tResourceReference\tDspResourceId\tISRC\tTitle\tSubTitle\tDisplayArtistName".to_owned(),
            "#RU01\tBlockId\tSummaryRecordId\tDspReleaseId\tUsages".to_owned(),
            "#SU03.01\tBlockId\tSalesTransactionId\tSummaryRecordId\tDspReleaseId\tUsages\tNetRevenue".to_owned(),
            "#FOOT\tNumberOfLinesInFile\tNumberOfLinesInReport\tNumberOfSummaryRecords\tNumberOfBlocksInFile\tNumberOfBlocksInReport".to_owned(),
            format!("SY02.01\t1\tAdvertisementSupportedModel\tStream\tIS\tAdSupport-music\t{total}\tUSD\t100.00"),
        ];
        for count in usages.iter() {
            block += 1;
            lines.push(format!(
                "AS01\t{block}\tR{block}\tD{block}\tUSAB1{block:07}\tTrack {block}\t\tArtist {index}"
            ));
            lines.push(format!("RU01\t{block}\t1\tV{block}\t{count}"));
        }
        if index == 1 {
            block += 1;
            lines.push(format!(
                "AS01\t{block}\tR{block}\tD{block}\tUSAB1{block:07}\tTrack {block}\t\tArtist 9"
            ));
            lines.push(format!("SU03.01\t{block}\tS1\t1\tV{block}\t2\t2.50"));
        }
        files.push(lines);
    }
    let report: usize = files.iter().map(|f| f.len() + 1).sum();
    let blocks = [shared[0].len(), shared[1].len() + 1];
    let mut texts = files.into_iter().enumerate().map(|(index, mut lines)| {
        let count = lines.len() + 1;
        let (in_report, blocks_in_report) = match index {
            1 => (report.to_string(), (blocks[0] + blocks[1]).to_string()),
            _ => (String::new(), String::new()),
        };
        lines.push(format!(
            "FOOT\t{count}\t{in_report}\t1\t{}\t{blocks_in_report}",
            blocks[index]
        ));
        lines.join("\n") + "\n"
    });
    [texts.next().unwrap(), texts.next().unwrap()]
}

/// What each file of [`dsr_message`] comes to, worked out here: the
/// summary's 100.00 USD in proportion to the usages of the lines without
/// revenue, plus the second file's own 2.50.
fn dsr_message_totals(shared: [&[i64]; 2]) -> [Amount; 2] {
    let all: i64 = shared.iter().flat_map(|f| f.iter()).sum();
    let share = |usages: &[i64]| {
        let part: i64 = usages.iter().sum();
        Amount::parse(
            &(rust_decimal::Decimal::from(100 * part) / rust_decimal::Decimal::from(all))
                .to_string(),
        )
        .unwrap()
    };
    [
        share(shared[0]),
        share(shared[1]) + Amount::parse("2.50").unwrap(),
    ]
}

/// Waits until file `id` is in `status` with a cause that says `cause`.
async fn waits(app: &TestApp, key: &str, id: i64, status: &str, cause: &str) -> Value {
    let file = file_when(app, key, id, |file| {
        file["status"] == "FAILED"
            || (file["status"] == status
                && file["status_cause"]
                    .as_str()
                    .is_some_and(|said| said.contains(cause)))
    })
    .await;
    assert_eq!(file["status"], status, "{file}");
    file
}

#[actix_web::test]
async fn the_files_of_a_dsr_message_wait_for_each_other_and_share_its_summary_revenue() {
    let (app, key, _) = app_with_rates().await;
    let dir = tempfile::tempdir().unwrap();
    let shared: [&[i64]; 2] = [&[1], &[3]];
    let texts = dsr_message("MSG-2", shared);
    let totals = dsr_message_totals(shared);
    assert_eq!(
        totals,
        [
            Amount::parse("25").unwrap(),
            Amount::parse("77.50").unwrap()
        ],
        "shared by usages, not by files"
    );
    let paths: Vec<PathBuf> = texts
        .iter()
        .enumerate()
        .map(|(index, text)| {
            let path = dir.path().join(format!(
                "DSR_TEST_YouTube_AdSupport_2015-Q4_IS_{}of2.tsv",
                index + 1
            ));
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect();

    // The second file first: cleaned, it waits for the first.
    let second = submit(&app, &key, &paths[1], "TSV").await;
    let waiting = waits(
        &app,
        &key,
        second,
        "CLEANED",
        "Still to upload and clean: file 1.",
    )
    .await;
    let cause = waiting["status_cause"].as_str().unwrap();
    assert!(
        cause.contains("File 2 of 2 of DDEX DSR message MSG-2"),
        "{cause}"
    );
    let (status, body) = process(&app, &key, second, "import").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["detail"], cause);
    assert_eq!(summary(&app, &key).await["files"], 0);

    // The first file makes the message whole: both are imported.
    let first = submit(&app, &key, &paths[0], "TSV").await;
    check_imported(&app, &key, first, totals[0], 1, "USD").await;
    check_imported(&app, &key, second, totals[1], 2, "USD").await;
    // A quarterly message: its period is its first month, and its files
    // show the three months they cover.
    let (_, file) = call(
        &app,
        Method::GET,
        &format!("/api/files/salesfiles/{second}/"),
        &key,
        None,
    )
    .await;
    assert_eq!(
        (
            file["reporting_period"].clone(),
            file["period_from"].clone(),
            file["period_to"].clone()
        ),
        (json!("2015-10"), json!("2015-10"), json!("2015-12")),
        "{file}"
    );
    let both = summary(&app, &key).await;
    assert_eq!(both["files"], 2);
    assert_eq!(
        Amount::parse(both["total_gross"].as_str().unwrap()).unwrap(),
        totals[0] + totals[1]
    );

    // A file imported again takes the same share.
    let (status, body) = process(&app, &key, second, "reimport").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    check_imported(&app, &key, second, totals[1], 2, "USD").await;
    assert_eq!(
        summary(&app, &key).await,
        both,
        "reimport never doubles revenue"
    );

    // The first file again, with other line ends (other bytes): refused,
    // or its lines would count twice.
    let again = dir.path().join("DSR_TEST_again_1of2.tsv");
    std::fs::write(&again, texts[0].replace('\n', "\r\n")).unwrap();
    let twice = submit(&app, &key, &again, "TSV").await;
    let file = settled(&app, &key, twice).await;
    assert_eq!(file["status"], "FAILED", "{file}");
    let cause = file["status_cause"].as_str().unwrap();
    assert!(
        cause.contains(&format!(
            "File 1 of DDEX DSR message MSG-2 was already uploaded as file {first}"
        )),
        "{cause}"
    );
    assert_eq!(summary(&app, &key).await, both);

    // Both files in one archive, cleaned side by side: both imported.
    let shared: [&[i64]; 2] = [&[2], &[1, 5]];
    let texts = dsr_message("MSG-3", shared);
    let totals = dsr_message_totals(shared);
    let zip_path = dir.path().join("message.zip");
    {
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
        for (index, text) in texts.iter().enumerate() {
            let name = format!("DSR_MSG-3_{}of2.tsv", index + 1);
            zip.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            std::io::Write::write_all(&mut zip, text.as_bytes()).unwrap();
        }
        zip.finish().unwrap();
    }
    let archive = submit(&app, &key, &zip_path, "ZIP").await;
    assert_eq!(settled(&app, &key, archive).await["status"], "FINALIZED");
    let (_, page) = call(
        &app,
        Method::GET,
        "/api/files/salesfiles/?page_size=50",
        &key,
        None,
    )
    .await;
    let mut members: Vec<(String, i64)> = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["parent"].as_i64() == Some(archive))
        .map(|f| {
            (
                f["filename"].as_str().unwrap().to_owned(),
                f["id"].as_i64().unwrap(),
            )
        })
        .collect();
    members.sort();
    assert_eq!(members.len(), 2, "{members:?}");
    assert_eq!(totals[0], Amount::parse("25").unwrap());
    for (((_, id), total), lines) in members.iter().zip(totals).zip([1, 3]) {
        check_imported(&app, &key, *id, total, lines, "USD").await;
    }
}
