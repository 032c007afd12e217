//! The one schema both engines share. Columns use only the SQL types a
//! MultiConnection maps on both sides (integers, text, booleans,
//! timestamps); money is stored as decimal text.

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        email -> Text,
        password_hash -> Text,
        first_name -> Text,
        last_name -> Text,
        is_superuser -> Bool,
        is_staff -> Bool,
        is_active -> Bool,
        last_login -> Nullable<Timestamp>,
        date_joined -> Timestamp,
        language -> Text,
        timezone -> Text,
        active_organisation_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    organisations (id) {
        id -> BigInt,
        name -> Text,
        base_currency -> Text,
        currencies -> Text,
        image -> Nullable<Text>,
        is_active -> Bool,
        settings -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    memberships (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        user_id -> BigInt,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    invitations (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        email -> Text,
        role -> Text,
        invited_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    contacts (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        name -> Text,
        email -> Text,
        phone -> Text,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    exchange_rates (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        from_currency -> Text,
        to_currency -> Text,
        period -> Text,
        rate -> Text,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> BigInt,
        jti -> Text,
        user_id -> BigInt,
        issued_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> BigInt,
        user_id -> BigInt,
        name -> Text,
        prefix -> Text,
        key_hash -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        scope -> Text,
        failed_at -> Timestamp,
    }
}

diesel::table! {
    registrations (id) {
        id -> BigInt,
        username -> Text,
        email -> Text,
        password_hash -> Text,
        first_name -> Text,
        last_name -> Text,
        company -> Text,
        message -> Text,
        status -> Text,
        created_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
        decided_by -> Nullable<BigInt>,
        user_id -> Nullable<BigInt>,
    }
}

diesel::joinable!(memberships -> organisations (organisation_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(contacts -> organisations (organisation_id));
diesel::joinable!(exchange_rates -> organisations (organisation_id));
diesel::joinable!(invitations -> organisations (organisation_id));
diesel::joinable!(api_keys -> users (user_id));
diesel::joinable!(refresh_tokens -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    organisations,
    memberships,
    invitations,
    contacts,
    exchange_rates,
    refresh_tokens,
    api_keys,
    login_failures,
    registrations,
);

diesel::table! {
    jobs (id) {
        id -> Text,
        module -> Text,
        action -> Text,
        organisation_id -> BigInt,
        file_id -> Nullable<BigInt>,
        status -> Text,
        params -> Text,
        output -> Nullable<Text>,
        error_code -> Nullable<Text>,
        error_message -> Nullable<Text>,
        task_ref -> Nullable<Text>,
        exit_code -> Nullable<Integer>,
        created_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
        deadline_at -> Timestamp,
        continued_at -> Nullable<Timestamp>,
        continue_after -> Nullable<Timestamp>,
        subject_kind -> Nullable<Text>,
        subject_id -> Nullable<BigInt>,
    }
}

diesel::joinable!(jobs -> organisations (organisation_id));
diesel::allow_tables_to_appear_in_same_query!(jobs, organisations);

diesel::table! {
    snapshots (file_id) {
        file_id -> BigInt,
        organisation_id -> BigInt,
        currency -> Text,
        base_currency -> Text,
        period -> Nullable<Text>,
        lines -> BigInt,
        revenue -> Text,
        base_revenue -> Text,
        quantity -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    snapshot_pages (file_id, dimension, page) {
        file_id -> BigInt,
        organisation_id -> BigInt,
        dimension -> Text,
        page -> Integer,
        row_count -> Integer,
        keys -> Text,
        body -> Text,
    }
}

diesel::joinable!(snapshot_pages -> snapshots (file_id));
diesel::allow_tables_to_appear_in_same_query!(snapshots, snapshot_pages);

diesel::table! {
    sales_files (id) {
        id -> BigInt,
        uuid -> Text,
        organisation_id -> BigInt,
        filename -> Text,
        filetype -> Text,
        filesize -> BigInt,
        mongo_db_id -> Text,
        status -> Text,
        total_rows -> Nullable<BigInt>,
        total_artists -> Nullable<BigInt>,
        status_cause -> Nullable<Text>,
        error_message -> Nullable<Text>,
        total_local -> Nullable<Text>,
        reporting_period -> Nullable<Text>,
        upload_mode -> Text,
        response_module -> Text,
        module_response -> Nullable<Text>,
        exchange_rate -> Nullable<Text>,
        content_hash -> Nullable<Text>,
        parent_id -> Nullable<BigInt>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        lines_hash -> Nullable<Text>,
        duplicate_of -> Nullable<BigInt>,
        rates_used -> Nullable<Text>,
        uploaded_bytes -> Nullable<BigInt>,
        period_from -> Nullable<Text>,
        period_to -> Nullable<Text>,
    }
}

diesel::joinable!(sales_files -> organisations (organisation_id));
diesel::allow_tables_to_appear_in_same_query!(sales_files, organisations);

diesel::table! {
    formats (id) {
        id -> BigInt,
        organisation_id -> Nullable<BigInt>,
        slug -> Text,
        name -> Text,
        source -> Text,
        spec -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(formats -> organisations (organisation_id));
diesel::allow_tables_to_appear_in_same_query!(formats, organisations);

diesel::table! {
    dsr_message_parts (file_id) {
        file_id -> BigInt,
        organisation_id -> BigInt,
        sender -> Text,
        message_id -> Text,
        file_number -> Integer,
        number_of_files -> Integer,
    }
}

diesel::joinable!(dsr_message_parts -> sales_files (file_id));
diesel::allow_tables_to_appear_in_same_query!(dsr_message_parts, sales_files);

diesel::table! {
    catalog_artists (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        name -> Text,
        name_key -> Text,
        source -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    catalog_labels (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        name -> Text,
        name_key -> Text,
        source -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    catalog_releases (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        upc -> Nullable<Text>,
        gtin -> Nullable<Text>,
        title -> Text,
        artist -> Text,
        artist_id -> Nullable<BigInt>,
        label -> Nullable<Text>,
        label_id -> Nullable<BigInt>,
        catalog_number -> Nullable<Text>,
        release_date -> Nullable<Text>,
        title_key -> Text,
        source -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    catalog_tracks (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        release_id -> Nullable<BigInt>,
        isrc -> Nullable<Text>,
        title -> Text,
        version -> Nullable<Text>,
        artist -> Text,
        artist_id -> Nullable<BigInt>,
        label -> Nullable<Text>,
        title_key -> Text,
        artist_key -> Text,
        source -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(catalog_tracks -> catalog_releases (release_id));
diesel::allow_tables_to_appear_in_same_query!(
    catalog_tracks,
    catalog_releases,
    catalog_artists,
    catalog_labels
);

diesel::table! {
    match_rules (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        artist -> Text,
        track_title -> Text,
        isrc -> Nullable<Text>,
        upc -> Nullable<Text>,
        artist_key -> Text,
        title_key -> Text,
        isrc_key -> Text,
        gtin_key -> Text,
        track_id -> Nullable<BigInt>,
        source -> Nullable<Text>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    usage_items (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        file_id -> BigInt,
        artist -> Text,
        track_title -> Text,
        release_title -> Text,
        isrc -> Text,
        upc -> Text,
        catalog_number -> Text,
        artist_key -> Text,
        title_key -> Text,
        isrc_key -> Text,
        gtin_key -> Text,
        lines -> BigInt,
        quantity -> BigInt,
        revenue -> Text,
        revenue_rank -> Double,
        status -> Text,
        match_type -> Nullable<Text>,
        confidence -> Double,
        track_id -> Nullable<BigInt>,
        rule_id -> Nullable<BigInt>,
        candidates -> Text,
        reason -> Text,
        source -> Nullable<Text>,
        matched_at -> Timestamp,
    }
}

diesel::joinable!(usage_items -> sales_files (file_id));
diesel::joinable!(usage_items -> catalog_tracks (track_id));
diesel::allow_tables_to_appear_in_same_query!(usage_items, sales_files);
diesel::allow_tables_to_appear_in_same_query!(usage_items, catalog_tracks);

diesel::table! {
    catalog_imports (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        filename -> Text,
        filetype -> Text,
        filesize -> BigInt,
        mode -> Text,
        column_names -> Nullable<Text>,
        status -> Text,
        status_cause -> Nullable<Text>,
        created_count -> Nullable<BigInt>,
        updated_count -> Nullable<BigInt>,
        unchanged_count -> Nullable<BigInt>,
        removed_count -> Nullable<BigInt>,
        rejected -> Nullable<Text>,
        rejected_count -> Nullable<BigInt>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    catalog_audits (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        period_from -> Nullable<Text>,
        period_to -> Nullable<Text>,
        status -> Text,
        status_cause -> Nullable<Text>,
        counts -> Nullable<Text>,
        findings -> Nullable<BigInt>,
        revenue_at_stake -> Nullable<Text>,
        result_key -> Nullable<Text>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    reports (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        kind -> Text,
        period_from -> Text,
        period_to -> Text,
        by_period -> Text,
        files -> Nullable<Text>,
        status -> Text,
        status_cause -> Nullable<Text>,
        row_count -> Nullable<BigInt>,
        total_revenue -> Nullable<Text>,
        currency -> Nullable<Text>,
        quantity -> Nullable<BigInt>,
        result_key -> Nullable<Text>,
        job_id -> Nullable<Text>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    report_snapshots (report_id) {
        report_id -> BigInt,
        organisation_id -> BigInt,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    payees (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        name -> Text,
        email -> Text,
        address -> Text,
        tax_id -> Text,
        currency -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    contracts (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        name -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    contract_versions (contract_id, version) {
        contract_id -> BigInt,
        version -> BigInt,
        body -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    contract_costs (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        contract_id -> BigInt,
        kind -> Text,
        description -> Text,
        amount -> Text,
        currency -> Text,
        date -> Text,
        recoupable -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    statements (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        contract_id -> Nullable<BigInt>,
        contract_version -> Nullable<BigInt>,
        payee_id -> Nullable<BigInt>,
        subject -> Nullable<Text>,
        period_from -> Text,
        period_to -> Text,
        currency -> Text,
        status -> Text,
        status_cause -> Nullable<Text>,
        opening_balance -> Nullable<Text>,
        earnings -> Nullable<Text>,
        costs_recouped -> Nullable<Text>,
        closing_balance -> Nullable<Text>,
        payable -> Nullable<Text>,
        carried_forward -> Nullable<Text>,
        unattributed -> Nullable<Text>,
        line_count -> Nullable<BigInt>,
        supersedes -> Nullable<BigInt>,
        csv_key -> Nullable<Text>,
        pdf_key -> Nullable<Text>,
        job_id -> Nullable<Text>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        approved_at -> Nullable<Timestamp>,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    statement_recoupments (statement_id, cost_id) {
        statement_id -> BigInt,
        cost_id -> BigInt,
        amount -> Text,
    }
}

diesel::joinable!(statement_recoupments -> statements (statement_id));
diesel::allow_tables_to_appear_in_same_query!(statements, statement_recoupments);

diesel::table! {
    sources (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        name -> Text,
        url -> Text,
        secret_url -> Text,
        upload_mode -> Text,
        every_seconds -> BigInt,
        host_key -> Nullable<Text>,
        paused -> Bool,
        failures -> BigInt,
        status_cause -> Nullable<Text>,
        next_poll_at -> Timestamp,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    fetch_batches (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        source_id -> Nullable<BigInt>,
        url -> Text,
        secret_url -> Nullable<Text>,
        upload_mode -> Text,
        status -> Text,
        status_cause -> Nullable<Text>,
        items -> Text,
        job_id -> Nullable<Text>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    source_entries (source_id, path) {
        source_id -> BigInt,
        path -> Text,
        size -> BigInt,
        modified -> Text,
        content_hash -> Text,
        seen_at -> Timestamp,
    }
}

diesel::joinable!(fetch_batches -> sources (source_id));
diesel::joinable!(source_entries -> sources (source_id));
diesel::allow_tables_to_appear_in_same_query!(sources, fetch_batches, source_entries);
