//! Formats: an organisation's own, The Orchard's store column by either name.

use super::*;

/// An Orchard export whose store column is called `store_column`.
fn orchard_export(store_column: &str) -> String {
    let header = format!(
        "Period,Activity Period,{store_column},Territory,Product UPC,Product Code,Imprint Label,\
         Artist Name,Product Name,Track Name,Track Artist,ISRC,Trans Type Description,Quantity,\
         Total,Label Share Net Receipts,Preferred Currency"
    );
    let lines = [
        "2024-03,2024-01,Spotify,US,0602537521289,ORC001,Night Shift,Luna Vale,Tides,Harbour Lights,Luna Vale,USAT21300001,Stream,1200,4.80,3.3600000000,USD",
        "2024-03,2024-01,Apple Music,GB,0602537521289,ORC001,Night Shift,Luna Vale,Tides,Undertow,Luna Vale,USAT21300002,Stream,310,1.55,1.0850000001,USD",
        "2024-03,2024-02,iTunes,DE,0602537521289,ORC001,Night Shift,Luna Vale,Tides,Harbour Lights,Luna Vale,USAT21300001,Download,3,2.97,2.0790000000,USD",
    ];
    format!("{header}\n{}\n", lines.join("\n"))
}

#[actix_web::test]
async fn orchard_exports_import_whether_their_store_column_is_retailer_or_dms() {
    let (app, key, _) = app_with_rates().await;
    let folder = tempfile::tempdir().unwrap();
    for store_column in ["Retailer", "DMS"] {
        // An organisation each: the two exports are the same report, and
        // in one organisation the second would be a copy of the first.
        let (app, key, _) = app_with_rates().await;
        let path = folder.path().join(format!("orchard-{store_column}.csv"));
        std::fs::write(&path, orchard_export(store_column)).unwrap();
        let id = submit(&app, &key, &path, "CSV").await;
        let (total, lines) = source_total(&path, "Label Share Net Receipts");
        check_imported(&app, &key, id, total, lines, "USD").await;
        let (_, snapshot) = call(
            &app,
            Method::GET,
            &format!("/api/files/salesfiles/{id}/snapshot/"),
            &key,
            None,
        )
        .await;
        let stores: Vec<&str> = snapshot["byDSP"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row["name"].as_str().unwrap())
            .collect();
        assert_eq!(stores.len(), 3, "{store_column}: {snapshot}");
        assert!(stores.contains(&"Apple Music"), "{stores:?}");
    }
    // The formats served are the binary's built-ins, whatever the
    // migration that first seeded them said.
    let (status, page) = call(&app, Method::GET, "/api/formats/?page_size=100", &key, None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let served: Vec<&Value> = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["builtin"] == true)
        .map(|f| &f["format"])
        .collect();
    let builtins: Vec<Value> = oas_sales::format::builtin()
        .unwrap()
        .iter()
        .map(|spec| serde_json::to_value(spec).unwrap())
        .collect();
    assert_eq!(served, builtins.iter().collect::<Vec<_>>());
}

#[actix_web::test]
async fn an_organisation_adds_a_format_for_a_layout_no_builtin_knows() {
    let (app, key, org) = app_with_rates().await;
    let (_, outsider) = app.user_with_key("otto").await;
    app.organisation(&outsider).await;
    let (status, page) = call(&app, Method::GET, "/api/formats/?page_size=100", &key, None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let builtins = page["count"].as_i64().unwrap();
    assert!(builtins >= 16);
    let spotify = page["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["format"]["slug"] == "spotify")
        .unwrap()
        .clone();
    assert_eq!(spotify["builtin"], true);

    // A layout of its own: semicolons, decimal commas, localised names.
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("maison.csv");
    std::fs::write(
        &report,
        "Période;Plateforme;Pays;Artiste;Titre;ISRC;Quantité;Montant net;Devise\n\
         2024-03;Deezer;FR;Zoé;Chanson;FR-AB1-24-00001;12;1.234,50;EUR\n\
         2024-03;Qobuz;BE;Zoé;Chanson;FR-AB1-24-00001;3;0,005;EUR\n",
    )
    .unwrap();
    let id = submit(&app, &key, &report, "CSV").await;
    let file = settled(&app, &key, id).await;
    assert_eq!(file["status"], "FAILED");
    assert!(
        file["status_cause"]
            .as_str()
            .unwrap()
            .contains("matches no known report format"),
        "{file}"
    );

    let mut format = json!({
        "slug": "maison", "name": "Maison de disques", "source": "distributor",
        "decimal": "comma",
        "signature": ["Période", "Plateforme", "Montant net"],
        "columns": {"sale_period": ["Période"], "dsp": ["Plateforme"], "territory": ["Pays"],
                    "artist": ["Artiste"], "track_title": ["Titre"], "isrc": ["ISRC"],
                    "quantity": ["Quantité"], "net_revenue": ["Montant net"], "currency": ["Devise"]}
    });
    let (status, body) = call(
        &app,
        Method::POST,
        "/api/formats/",
        &key,
        Some(json!({"signature": []})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let mut no_amount = format.clone();
    no_amount["columns"]
        .as_object_mut()
        .unwrap()
        .remove("net_revenue");
    let (status, body) = call(&app, Method::POST, "/api/formats/", &key, Some(no_amount)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["detail"].as_str().unwrap().contains("net_revenue"),
        "{body}"
    );
    let (status, created) = call(
        &app,
        Method::POST,
        "/api/formats/",
        &key,
        Some(format.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        (created["organisation"].as_i64(), created["builtin"].clone()),
        (Some(org), json!(false))
    );
    let (status, _) = call(
        &app,
        Method::POST,
        "/api/formats/",
        &key,
        Some(format.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "one slug per organisation");
    let format_id = created["id"].as_i64().unwrap();
    let path = format!("/api/formats/{format_id}/");
    let (status, _) = call(&app, Method::GET, &path, &outsider, None).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another organisation's format does not exist for them"
    );
    let (status, _) = call(
        &app,
        Method::PATCH,
        &path,
        &outsider,
        Some(json!({"name": "Mine"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let builtin_path = format!("/api/formats/{}/", spotify["id"]);
    let (status, body) = call(
        &app,
        Method::PATCH,
        &builtin_path,
        &key,
        Some(json!({"name": "Mine"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("same slug"));

    // The rate is missing for EUR: add it, then correct the name by PATCH.
    format["name"] = json!("Maison (corrigé)");
    let (status, patched) = call(
        &app,
        Method::PATCH,
        &path,
        &key,
        Some(json!({"name": "Maison (corrigé)"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["format"], format);
    let (status, body) = call(
        &app,
        Method::PATCH,
        &format!("/api/organisations/{org}/"),
        &key,
        Some(json!({"currencies": ["USD", "AUD", "GBP", "EUR"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = call(
        &app,
        Method::PATCH,
        &format!("/api/organisations/{org}/settings/"),
        &key,
        Some(json!({"exchange_rates": [{"from_currency": "EUR", "to_currency": "USD", "period": "2024-01", "rate": "1.1"}]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = process(&app, &key, id, "reimport").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let file = settled(&app, &key, id).await;
    assert_eq!(file["status"], "FINALIZED", "{file}");
    assert_eq!(
        (file["total_rows"].as_i64(), file["total_local"].clone()),
        (Some(2), json!("1234.505"))
    );
    let (_, snapshot) = call(
        &app,
        Method::GET,
        &format!("/api/files/salesfiles/{id}/snapshot/"),
        &key,
        None,
    )
    .await;
    assert_eq!(snapshot["total_base_revenue"], "1357.9555");
    assert_eq!(snapshot["byTrack"][0]["isrc"], "FRAB12400001");
    assert_eq!(snapshot["byTrack"][0]["quantity"], 15);
}
