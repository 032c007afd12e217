//! Organisations: the seed's flow, validation, ownership rules, settings,
//! and the isolation and role matrix over every organisation-scoped route.

use chrono::Utc;
use oas_db::organisations::{
    Contact, Invitation, Membership, NewContact, NewInvitation, NewMembership, NewOrganisation,
    Organisation,
};
use oas_db::users::User;
use oas_domain::access::{Permission, Role};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::TestApp;

const NOT_FOUND: &str = "Organization not found.";

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = app.with_key(method, path, key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        },
    )
}

fn seed_body() -> Value {
    json!({"name": "Acme Corp", "base_currency": "USD", "currencies": ["USD", "EUR", "MXN"]})
}

#[actix_web::test]
async fn the_seed_flow_creates_lists_and_activates_on_every_backend() {
    for backend in oas_db::testing::backends() {
        let app = TestApp::builder().backend(backend).start().await;
        let (ana, key) = app.user_with_key("ana").await;
        let (status, created) = send(
            &app,
            Method::POST,
            "/api/organisations/",
            &key,
            Some(seed_body()),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{backend}: {created}");
        for field in [
            "id",
            "owner",
            "name",
            "base_currency",
            "currencies",
            "image",
        ] {
            assert!(created.get(field).is_some(), "{field} in {created}");
        }
        assert_eq!(created["name"], "Acme Corp");
        assert_eq!(created["base_currency"], "USD");
        assert_eq!(created["currencies"], json!(["USD", "EUR", "MXN"]));
        assert_eq!(created["owner"]["id"].as_i64(), Some(ana.id));
        assert_eq!(created["owner"]["username"], "ana");
        assert_eq!(created["image"], Value::Null);
        assert_eq!(created["role"], "owner");
        let id = created["id"].as_i64().unwrap();

        let (_, second) = send(
            &app,
            Method::POST,
            "/api/organisations/",
            &key,
            Some(json!({"name": "Beta Records", "base_currency": "EUR", "currencies": ["EUR"]})),
        )
        .await;
        let (status, list) = send(
            &app,
            Method::GET,
            "/api/organisations/?page_size=1",
            &key,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(list["count"], 2);
        assert_eq!(list["previous"], Value::Null);
        assert_eq!(
            list["next"],
            app.url("/api/organisations/?page_size=1&page=2")
        );
        assert_eq!(list["results"][0]["name"], "Acme Corp");

        let user_id = ana.id;
        let active = app
            .state
            .db
            .run(move |c| User::find(c, user_id))
            .await
            .unwrap()
            .active_organisation_id;
        assert_eq!(
            active,
            Some(id),
            "{backend}: the first organisation becomes active"
        );

        let second_id = second["id"].as_i64().unwrap();
        let (status, body) = send(
            &app,
            Method::POST,
            &format!("/api/organisations/{second_id}/make_active/"),
            &key,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            json!({"message": "Organization \"Beta Records\" is now your active organization."})
        );
        let active = app
            .state
            .db
            .run(move |c| User::find(c, user_id))
            .await
            .unwrap()
            .active_organisation_id;
        assert_eq!(active, Some(second_id));

        let (status, body) = send(
            &app,
            Method::POST,
            "/api/organisations/424242/make_active/",
            &key,
            None,
        )
        .await;
        assert_eq!(
            (status, body),
            (StatusCode::NOT_FOUND, json!({"detail": NOT_FOUND}))
        );
        let unauthenticated = app
            .client
            .post(app.url(&format!("/api/organisations/{id}/make_active/")))
            .send()
            .await
            .unwrap();
        assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);
        app.stop().await;
    }
}

#[actix_web::test]
async fn invalid_organisations_are_refused_field_by_field() {
    let app = TestApp::spawn().await;
    let (_, key) = app.user_with_key("ana").await;
    let cases = [
        (json!({}), vec!["name", "base_currency", "currencies"]),
        (
            json!({"name": "A", "base_currency": "USX", "currencies": ["USD"]}),
            vec!["base_currency"],
        ),
        (
            json!({"name": "A", "base_currency": "USD", "currencies": ["USD", "EURO"]}),
            vec!["currencies"],
        ),
        (
            json!({"name": "A", "base_currency": "USD", "currencies": ["USD", "usd"]}),
            vec!["currencies"],
        ),
        (
            json!({"name": "x".repeat(201), "base_currency": "USD", "currencies": ["USD"]}),
            vec!["name"],
        ),
        (
            json!({"name": "A", "base_currency": "USD", "currencies": "USD"}),
            vec!["currencies"],
        ),
        (
            json!({"name": "A", "base_currency": "USD", "currencies": ["USD"], "image": "not a url"}),
            vec!["image"],
        ),
        (
            json!({"name": "A", "base_currency": "USD", "currencies": ["USD"], "owner": 1}),
            vec!["owner"],
        ),
        (
            json!({"name": "   ", "base_currency": "USD", "currencies": ["USD"]}),
            vec!["name"],
        ),
    ];
    // The base currency is always among the organisation's currencies.
    let (status, answer) = send(
        &app,
        Method::POST,
        "/api/organisations/",
        &key,
        Some(json!({"name": "A", "base_currency": "USD", "currencies": ["EUR"]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["currencies"], json!(["USD", "EUR"]));
    for (body, fields) in cases {
        let (status, answer) = send(
            &app,
            Method::POST,
            "/api/organisations/",
            &key,
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        for field in fields {
            assert!(
                answer["errors"][field].is_array(),
                "{body}: expected an error on {field}: {answer}"
            );
        }
    }
    let (status, answer) = send(
        &app,
        Method::POST,
        "/api/organisations/",
        &key,
        Some(json!({"name": "Acme", "base_currency": "usd", "currencies": ["eur", "usd"]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(
        answer["currencies"],
        json!(["EUR", "USD"]),
        "codes are normalised"
    );
}

#[actix_web::test]
async fn ownership_rules_keep_an_owner_and_reserve_the_owner_role_to_owners() {
    let app = TestApp::spawn().await;
    let (_, owner) = app.user_with_key("olga").await;
    let (_, admin) = app.user_with_key("adam").await;
    let (member_user, member) = app.user_with_key("mia").await;
    let org = app.organisation(&owner).await;
    let path = |rest: &str| format!("/api/organisations/{org}/{rest}");

    let (status, adam) = send(
        &app,
        Method::POST,
        &path("members/"),
        &owner,
        Some(json!({"username": "adam", "role": "admin"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{adam}");
    let (status, mia) = send(
        &app,
        Method::POST,
        &path("members/"),
        &admin,
        Some(json!({"email": "MIA@label.com", "role": "member"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "by email, any case: {mia}");
    assert_eq!(mia["user"]["id"].as_i64(), Some(member_user.id));
    let (status, _) = send(
        &app,
        Method::POST,
        &path("members/"),
        &admin,
        Some(json!({"username": "mia", "role": "viewer"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "already a member");

    let (status, _) = send(
        &app,
        Method::POST,
        &path("members/"),
        &admin,
        Some(json!({"username": "olga", "role": "owner"})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "admins do not grant ownership"
    );
    let (status, _) = send(
        &app,
        Method::PATCH,
        &path(&format!("members/{}/", mia["id"])),
        &admin,
        Some(json!({"role": "owner"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (_, members) = send(&app, Method::GET, &path("members/"), &owner, None).await;
    let olga_membership = members["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user"]["username"] == "olga")
        .unwrap()["id"]
        .clone();
    let (status, body) = send(
        &app,
        Method::PATCH,
        &path(&format!("members/{olga_membership}/")),
        &owner,
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::CONFLICT,
            json!({"detail": "An organisation must keep at least one owner."})
        )
    );
    let (status, _) = send(
        &app,
        Method::DELETE,
        &path(&format!("members/{olga_membership}/")),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "the last owner cannot leave");
    let (status, _) = send(
        &app,
        Method::DELETE,
        &path(&format!("members/{olga_membership}/")),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "admins do not remove owners");

    // Ownership can move: promote, then the first owner may step down.
    let (status, promoted) = send(
        &app,
        Method::PATCH,
        &path(&format!("members/{}/", adam["id"])),
        &owner,
        Some(json!({"role": "owner"})),
    )
    .await;
    assert_eq!(
        (status, promoted["role"].clone()),
        (StatusCode::OK, json!("owner"))
    );
    let (status, _) = send(
        &app,
        Method::PATCH,
        &path(&format!("members/{olga_membership}/")),
        &owner,
        Some(json!({"role": "viewer"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // Anyone may leave; leaving clears the active organisation.
    let mia_id = member_user.id;
    app.state
        .db
        .run(move |c| User::set_active_organisation(c, mia_id, Some(org)))
        .await
        .unwrap();
    let (status, _) = send(
        &app,
        Method::DELETE,
        &path(&format!("members/{}/", mia["id"])),
        &member,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.state
            .db
            .run(move |c| User::find(c, mia_id))
            .await
            .unwrap()
            .active_organisation_id,
        None
    );
    let (status, body) = send(&app, Method::GET, &path(""), &member, None).await;
    assert_eq!(
        (status, body),
        (StatusCode::NOT_FOUND, json!({"detail": NOT_FOUND}))
    );
    for bad in ["/api/organisations/acme/", "/api/organisations/1x/members/"] {
        let (status, body) = send(&app, Method::GET, bad, &admin, None).await;
        assert_eq!(
            (status, body),
            (StatusCode::NOT_FOUND, json!({"detail": NOT_FOUND})),
            "{bad}: an id that is not one names no organisation"
        );
    }

    let (status, _) = send(
        &app,
        Method::POST,
        &path("members/"),
        &admin,
        Some(json!({"role": "viewer"})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a username or an email is needed"
    );
    let (status, _) = send(
        &app,
        Method::POST,
        &path("members/"),
        &admin,
        Some(json!({"username": "ghost", "role": "viewer"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no account has that name");
    let (status, _) = send(
        &app,
        Method::POST,
        &path("members/"),
        &admin,
        Some(json!({"username": "mia", "role": "boss"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn an_unknown_email_is_invited_by_mail_and_the_invitation_is_listed() {
    let app = TestApp::spawn().await;
    let (_, owner) = app.user_with_key("olga").await;
    let org = app.organisation(&owner).await;
    let (status, invitation) = send(
        &app,
        Method::POST,
        &format!("/api/organisations/{org}/members/"),
        &owner,
        Some(json!({"email": "newcomer@label.com", "role": "viewer"})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{invitation}");
    assert_eq!(
        (invitation["email"].clone(), invitation["role"].clone()),
        (json!("newcomer@label.com"), json!("viewer"))
    );
    let (status, again) = send(
        &app,
        Method::POST,
        &format!("/api/organisations/{org}/members/"),
        &owner,
        Some(json!({"email": "Newcomer@label.com", "role": "viewer"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");

    let outbox = app.state.settings.data_dir.join("outbox");
    let mails: Vec<String> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("To: newcomer@label.com"), "{}", mails[0]);
    assert!(mails[0].contains("Acme Corp"), "{}", mails[0]);

    let (_, listed) = send(
        &app,
        Method::GET,
        &format!("/api/organisations/{org}/invitations/"),
        &owner,
        None,
    )
    .await;
    assert_eq!(listed["count"], 1);
    let (status, _) = send(
        &app,
        Method::DELETE,
        &format!("/api/organisations/{org}/invitations/{}/", invitation["id"]),
        &owner,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, listed) = send(
        &app,
        Method::GET,
        &format!("/api/organisations/{org}/invitations/"),
        &owner,
        None,
    )
    .await;
    assert_eq!(listed["count"], 0);
}

#[actix_web::test]
async fn settings_hold_exact_rates_and_validated_preferences() {
    let app = TestApp::spawn().await;
    let (_, owner) = app.user_with_key("olga").await;
    let org = app.organisation(&owner).await;
    let path = format!("/api/organisations/{org}/settings/");
    let (status, defaults) = send(&app, Method::GET, &path, &owner, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(defaults["exchange_rates"], json!([]));
    assert_eq!(defaults["matching"]["accept"], 0.92);
    assert_eq!(defaults["reports"]["csv_delimiter"], ",");

    let patch = json!({
        "exchange_rates": [
            {"from_currency": "eur", "to_currency": "USD", "period": "2024-01", "rate": "1.0823000"},
            {"from_currency": "MXN", "to_currency": "USD", "period": "2024-01", "rate": 0.0585},
        ],
        "matching": {"accept": 0.95},
        "reports": {"csv_delimiter": ";", "statement_grouping": "label"},
    });
    let (status, updated) = send(&app, Method::PATCH, &path, &owner, Some(patch)).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(
        updated["exchange_rates"],
        json!([
            {"from_currency": "EUR", "to_currency": "USD", "period": "2024-01", "rate": "1.0823"},
            {"from_currency": "MXN", "to_currency": "USD", "period": "2024-01", "rate": "0.0585"},
        ])
    );
    assert_eq!(updated["matching"]["accept"], 0.95);
    assert_eq!(
        updated["matching"]["review"], 0.75,
        "fields not given are kept"
    );
    assert_eq!(updated["reports"]["csv_delimiter"], ";");
    assert_eq!(updated["reports"]["statement_grouping"], "label");

    let bad = json!({
        "exchange_rates": [
            {"from_currency": "GBP", "to_currency": "USD", "period": "2024-01", "rate": "1.2"},
            {"from_currency": "EUR", "to_currency": "EUR", "period": "2024-01", "rate": "1"},
            {"from_currency": "EUR", "to_currency": "USD", "period": "2024-13", "rate": "-3"},
        ],
        "matching": {"review": 1.5},
        "reports": {"decimal_places": 1},
    });
    let (status, answer) = send(&app, Method::PATCH, &path, &owner, Some(bad)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for field in [
        "exchange_rates.0.from_currency",
        "exchange_rates.1.to_currency",
        "exchange_rates.2.period",
        "exchange_rates.2.rate",
        "matching.review",
        "reports.decimal_places",
    ] {
        assert!(
            answer["errors"][field].is_array(),
            "expected an error on {field}: {answer}"
        );
    }
    let (_, unchanged) = send(&app, Method::GET, &path, &owner, None).await;
    assert_eq!(
        unchanged["exchange_rates"].as_array().unwrap().len(),
        2,
        "a refused change changes nothing"
    );
    let (status, _) = send(
        &app,
        Method::PATCH,
        &path,
        &owner,
        Some(json!({"matching": {"surprise": 1}})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

struct Actor {
    name: &'static str,
    key: String,
    /// The role given in each fixture organisation; `None` for outsiders
    /// and for the superuser.
    role: Option<Role>,
    superuser: bool,
}

struct Fixture {
    org: i64,
    contact: i64,
    target: i64,
    invitation: i64,
}

/// A fresh organisation with every actor in their role, a contact, a
/// member to act on and a pending invitation: written directly, for speed.
async fn fixture(app: &TestApp, members: Vec<(i64, Role)>, target_user: i64) -> Fixture {
    app.state
        .db
        .transaction(move |conn| {
            let now = Utc::now().naive_utc();
            let (first, rest) = members.split_first().expect("an owner");
            let org = Organisation::create(
                conn,
                &NewOrganisation {
                    name: "Matrix Music",
                    base_currency: "USD",
                    currencies: "[\"USD\",\"EUR\"]",
                    image: None,
                    settings: "{}",
                    created_by: Some(first.0),
                    created_at: now,
                    updated_at: now,
                },
                first.0,
                first.1.as_str(),
            )?;
            for (user_id, role) in rest {
                Membership::insert(
                    conn,
                    &NewMembership {
                        organisation_id: org.id,
                        user_id: *user_id,
                        role: role.as_str(),
                        created_at: now,
                    },
                )?;
            }
            let target = Membership::insert(
                conn,
                &NewMembership {
                    organisation_id: org.id,
                    user_id: target_user,
                    role: "member",
                    created_at: now,
                },
            )?;
            let contact = Contact::insert(
                conn,
                &NewContact {
                    organisation_id: org.id,
                    name: "Royalties",
                    email: "",
                    phone: "",
                    role: "",
                    created_at: now,
                },
            )?;
            let invitation = Invitation::insert(
                conn,
                &NewInvitation {
                    organisation_id: org.id,
                    email: "invited@label.com",
                    role: "viewer",
                    invited_by: None,
                    created_at: now,
                },
            )?;
            Ok(Fixture {
                org: org.id,
                contact: contact.id,
                target: target.id,
                invitation: invitation.id,
            })
        })
        .await
        .unwrap()
}

#[actix_web::test]
async fn every_organisation_route_is_isolated_and_follows_the_role_table() {
    for backend in oas_db::testing::backends() {
        let app = TestApp::builder().backend(backend).start().await;
        let mut actors = Vec::new();
        let mut members = Vec::new();
        for (name, role) in [
            ("owner", Role::Owner),
            ("admin", Role::Admin),
            ("member", Role::Member),
            ("viewer", Role::Viewer),
        ] {
            let (user, key) = app.user_with_key(name).await;
            members.push((user.id, role));
            actors.push(Actor {
                name,
                key,
                role: Some(role),
                superuser: false,
            });
        }
        let (_, outsider) = app.user_with_key("outsider").await;
        actors.push(Actor {
            name: "outsider",
            key: outsider,
            role: None,
            superuser: false,
        });
        let root = app.account("root", true, true).await;
        actors.push(Actor {
            name: "superuser",
            key: app.key_for(&root).await,
            role: None,
            superuser: true,
        });
        let target = app.account("target", false, false).await;
        app.account("newcomer", false, false).await;

        type Case = (Method, &'static str, Option<Value>, Permission, StatusCode);
        let cases: Vec<Case> = vec![
            (
                Method::GET,
                "/api/organisations/{org}/",
                None,
                Permission::View,
                StatusCode::OK,
            ),
            (
                Method::PATCH,
                "/api/organisations/{org}/",
                Some(json!({"name": "Renamed"})),
                Permission::Update,
                StatusCode::OK,
            ),
            (
                Method::POST,
                "/api/organisations/{org}/make_active/",
                None,
                Permission::View,
                StatusCode::OK,
            ),
            (
                Method::POST,
                "/api/organisations/{org}/status/",
                Some(json!({"is_active": false})),
                Permission::ChangeStatus,
                StatusCode::OK,
            ),
            (
                Method::GET,
                "/api/organisations/{org}/contacts/",
                None,
                Permission::View,
                StatusCode::OK,
            ),
            (
                Method::POST,
                "/api/organisations/{org}/contacts/",
                Some(json!({"name": "Legal", "email": "legal@label.com"})),
                Permission::ManageContacts,
                StatusCode::CREATED,
            ),
            (
                Method::PATCH,
                "/api/organisations/{org}/contacts/{contact}/",
                Some(json!({"phone": "+34 600 000 000"})),
                Permission::ManageContacts,
                StatusCode::OK,
            ),
            (
                Method::DELETE,
                "/api/organisations/{org}/contacts/{contact}/",
                None,
                Permission::ManageContacts,
                StatusCode::NO_CONTENT,
            ),
            (
                Method::GET,
                "/api/organisations/{org}/members/",
                None,
                Permission::View,
                StatusCode::OK,
            ),
            (
                Method::POST,
                "/api/organisations/{org}/members/",
                Some(json!({"username": "newcomer", "role": "member"})),
                Permission::ManageMembers,
                StatusCode::CREATED,
            ),
            (
                Method::POST,
                "/api/organisations/{org}/members/",
                Some(json!({"username": "newcomer", "role": "owner"})),
                Permission::ManageOwners,
                StatusCode::CREATED,
            ),
            (
                Method::PATCH,
                "/api/organisations/{org}/members/{target}/",
                Some(json!({"role": "viewer"})),
                Permission::ManageMembers,
                StatusCode::OK,
            ),
            (
                Method::DELETE,
                "/api/organisations/{org}/members/{target}/",
                None,
                Permission::ManageMembers,
                StatusCode::NO_CONTENT,
            ),
            (
                Method::GET,
                "/api/organisations/{org}/invitations/",
                None,
                Permission::ManageMembers,
                StatusCode::OK,
            ),
            (
                Method::DELETE,
                "/api/organisations/{org}/invitations/{invitation}/",
                None,
                Permission::ManageMembers,
                StatusCode::NO_CONTENT,
            ),
            (
                Method::GET,
                "/api/organisations/{org}/settings/",
                None,
                Permission::View,
                StatusCode::OK,
            ),
            (
                Method::PATCH,
                "/api/organisations/{org}/settings/",
                Some(json!({"matching": {"accept": 0.95}})),
                Permission::ManageSettings,
                StatusCode::OK,
            ),
        ];
        for (method, template, body, permission, success) in &cases {
            for actor in &actors {
                let f = fixture(&app, members.clone(), target.id).await;
                let path = template
                    .replace("{org}", &f.org.to_string())
                    .replace("{contact}", &f.contact.to_string())
                    .replace("{target}", &f.target.to_string())
                    .replace("{invitation}", &f.invitation.to_string());
                let (status, answer) =
                    send(&app, method.clone(), &path, &actor.key, body.clone()).await;
                let label = format!("{backend}: {} {method} {template}", actor.name);
                match (actor.role, actor.superuser) {
                    (_, true) => assert_eq!(status, *success, "{label}: {answer}"),
                    (None, false) => {
                        assert_eq!(
                            (status, answer),
                            (StatusCode::NOT_FOUND, json!({"detail": NOT_FOUND})),
                            "{label}"
                        );
                    }
                    (Some(role), false) if role.can(*permission) => {
                        assert_eq!(status, *success, "{label}: {answer}")
                    }
                    (Some(_), false) => assert_eq!(
                        (status, answer),
                        (
                            StatusCode::FORBIDDEN,
                            json!({"detail": "You do not have permission to perform this action."})
                        ),
                        "{label}"
                    ),
                }
            }
        }
        // Lists only ever show the caller's own organisations.
        let outsider = &actors.iter().find(|a| a.name == "outsider").unwrap().key;
        let (_, listed) = send(&app, Method::GET, "/api/organisations/", outsider, None).await;
        assert_eq!(listed["count"], 0, "{backend}");
        app.stop().await;
    }
}
