//! Every route of the API, registered through utoipa-actix-web: a handler
//! can only be added here if it carries `#[utoipa::path]`, so the OpenAPI
//! document describes every route by construction (and a test checks the
//! source for routes added any other way).

use utoipa_actix_web::service_config::ServiceConfig;

pub mod api_keys;
pub mod auth;
pub mod catalog;
pub mod contracts;
pub mod dashboard;
pub mod fetches;
pub mod files;
pub mod formats;
pub mod hello;
pub mod jobs;
pub mod me;
pub mod ops;
pub mod organisations;
pub mod payees;
pub mod registrations;
pub mod reports;
pub mod sales;
pub mod statements;
pub mod storage;
pub mod users;
pub mod views;
pub mod webhooks;

pub fn configure(cfg: &mut ServiceConfig<'_>) {
    cfg.service(ops::healthz)
        .service(ops::readyz)
        .service(ops::metrics)
        .service(crate::openapi::openapi_json)
        .service(hello::helloworld)
        .service(auth::login)
        .service(auth::refresh_tokens)
        .service(auth::logout)
        .service(registrations::register)
        .service(registrations::list_registrations)
        .service(registrations::get_registration)
        .service(registrations::approve_registration)
        .service(registrations::deny_registration)
        .service(api_keys::list_api_keys)
        .service(api_keys::create_api_key)
        .service(api_keys::revoke_api_key)
        // `me` before `{id}`: both patterns match "/api/users/me/".
        .service(me::get_me)
        .service(me::update_me)
        .service(me::change_password)
        .service(users::list_users)
        .service(users::create_user)
        .service(users::get_user)
        .service(users::update_user)
        .service(users::deactivate_user)
        .service(organisations::create_organisation)
        .service(organisations::list_organisations)
        .service(organisations::get_organisation)
        .service(organisations::update_organisation)
        .service(organisations::make_active)
        .service(organisations::set_status)
        .service(organisations::contacts::list_contacts)
        .service(organisations::contacts::create_contact)
        .service(organisations::contacts::update_contact)
        .service(organisations::contacts::delete_contact)
        .service(organisations::members::list_members)
        .service(organisations::members::add_member)
        .service(organisations::members::change_member_role)
        .service(organisations::members::remove_member)
        .service(organisations::members::list_invitations)
        .service(organisations::members::withdraw_invitation)
        .service(organisations::settings::get_settings)
        .service(organisations::settings::update_settings)
        .service(storage::upload_object)
        .service(storage::download_object)
        // Before `files/{id}/`, whose pattern matches "upload_automatically".
        .service(fetches::upload_automatically)
        .service(fetches::list_batches)
        .service(fetches::get_batch)
        .service(fetches::create_source)
        .service(fetches::list_sources)
        .service(fetches::get_source)
        .service(fetches::update_source)
        .service(fetches::delete_source)
        .service(fetches::poll_source)
        .service(files::create_file)
        .service(files::list_files)
        .service(files::get_file)
        .service(files::delete_file)
        .service(files::process_file)
        .service(catalog::file_matches)
        .service(catalog::list_tracks)
        .service(catalog::create_track)
        .service(catalog::get_track)
        .service(catalog::update_track)
        .service(catalog::delete_track)
        .service(catalog::match_files)
        .service(catalog::create_catalog_import)
        .service(catalog::get_catalog_import)
        .service(catalog::process_catalog_import)
        .service(catalog::list_releases)
        .service(catalog::get_release)
        .service(catalog::list_artists)
        .service(catalog::list_unmatched)
        .service(catalog::list_rules)
        .service(catalog::create_rule)
        .service(catalog::delete_rule)
        .service(catalog::apply_rule)
        .service(catalog::generate_catalog)
        .service(catalog::start_audit)
        .service(catalog::get_audit)
        .service(formats::list_formats)
        .service(formats::create_format)
        .service(formats::get_format)
        .service(formats::update_format)
        .service(reports::create_report)
        .service(reports::list_reports)
        .service(reports::get_report)
        .service(reports::report_link)
        .service(reports::delete_report)
        .service(dashboard::dashboard)
        .service(payees::list_payees)
        .service(payees::create_payee)
        .service(payees::get_payee)
        .service(payees::update_payee)
        .service(payees::delete_payee)
        .service(contracts::list_contracts)
        .service(contracts::create_contract)
        .service(contracts::get_contract)
        .service(contracts::update_contract)
        .service(contracts::list_costs)
        .service(contracts::create_cost)
        .service(statements::create_statements)
        .service(statements::list_statements)
        .service(statements::get_statement)
        .service(statements::approve_statement)
        .service(statements::send_statement)
        .service(sales::file_snapshot)
        .service(sales::sales_summary)
        .service(jobs::get_job)
        .service(jobs::ping)
        .service(webhooks::job_webhook);
}
