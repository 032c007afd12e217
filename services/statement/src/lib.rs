//! The statement module: statements of account of a period, each written
//! to the database as a DRAFT as soon as it is calculated, with a CSV of
//! its lines and a PDF summary.
//!
//! `statement`: the job names PENDING statements (a contract's payee, or
//! the artist or label of a sales statement) and the processed files of
//! the period. Every line of the period is read once and priced for every
//! contract at the same time ([`ledger`]): the contract its most specific
//! scope belongs to, the most specific term that fits it, its royalty in
//! the contract's currency, exact. Then, statement by statement, the
//! contract's earnings are rounded once and divided among its payees by
//! largest remainder, the payee's costs recouped in date order, the
//! balance carried from the previous approved statement, and the CSV
//! ([`present`]) and PDF ([`pdf`]) stored.

pub mod ledger;
pub mod pdf;
pub mod present;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{NaiveDate, Utc};
use oas_db::catalog::CatalogEntry;
use oas_db::contracts::{Contract, ContractCost};
use oas_db::organisations::Organisation;
use oas_db::payees::Payee;
use oas_db::statements::{DRAFT, FAILED, PENDING, StatementChange, StatementRecord};
use oas_domain::job::contract::statement::{self as contract, Output, Params, Refused, Written};
use oas_domain::job::{FailureCode, Job, Module};
use oas_domain::money::{Amount, CurrencyCode};
use oas_domain::statement::{
    Basis, ContractTerms, Cost, PayeeShare, Scope, ScopeIndex, ScopeKind, Term, account, split,
};
use oas_platform::config::Settings;
use oas_platform::module::{Failure, ModuleInfo};
use oas_platform::storage::{AnyStorage, ObjectStore};
use rust_decimal::Decimal;

use ledger::{Ledger, LedgerError};
use pdf::{AccountRow, StatementDoc};

pub const INFO: ModuleInfo = ModuleInfo {
    module: Module::Statement,
    about: "calculates statements of account of a period (royalties by contract and payee, costs recouped, balances), each stored as a DRAFT with its CSV and PDF",
    actions: &[contract::ACTION],
    params: "statement: period_from, period_to (YYYY-MM), statements [ids of PENDING statements], files [{file_id, name, parquet_key, period}]",
};

fn failure(code: FailureCode, what: &str, error: impl std::fmt::Display) -> Failure {
    Failure::new(code, format!("{what}: {error}"))
}

fn internal(what: &str) -> impl FnOnce(oas_db::DbError) -> Failure + '_ {
    move |e| failure(FailureCode::Internal, what, e)
}

pub async fn run(job: Job, settings: Settings) -> Result<serde_json::Value, Failure> {
    if job.action != contract::ACTION {
        return Err(failure(
            FailureCode::InvalidParams,
            "action",
            format!("unknown action {:?}", job.action),
        ));
    }
    let output = statements(&job, &settings).await?;
    serde_json::to_value(&output).map_err(|e| failure(FailureCode::Internal, "output", e))
}

/// One statement to calculate, with what it is calculated from.
struct Wanted {
    record: StatementRecord,
    /// The account its lines go to: a contract's id, or the negated
    /// statement id of a sales statement.
    key: i64,
    payee: Option<Payee>,
    contract_name: String,
}

/// A sales statement's subject, `artist:<name>` or `label:<name>`, as a
/// contract of one scope paying 100% of net receipts.
fn subject_terms(subject: &str, currency: &str) -> Option<ContractTerms> {
    let (kind, name) = subject.split_once(':')?;
    let kind = match kind {
        "artist" => ScopeKind::Artist,
        "label" => ScopeKind::Label,
        _ => return None,
    };
    Some(ContractTerms {
        currency: currency.to_owned(),
        min_payout: Amount::ZERO,
        payees: Vec::new(),
        scope: vec![Scope {
            kind,
            value: name.to_owned(),
        }],
        terms: vec![Term {
            dsps: Vec::new(),
            territories: Vec::new(),
            sale_types: Vec::new(),
            basis: Basis::Net,
            rate: Decimal::ONE,
        }],
    })
}

async fn statements(job: &Job, settings: &Settings) -> Result<Output, Failure> {
    let params: Params = serde_json::from_value(job.params.clone())
        .map_err(|e| failure(FailureCode::InvalidParams, "params", e))?;
    oas_lines::check_period(&params.period_from, &params.period_to)
        .map_err(|(name, why)| failure(FailureCode::InvalidParams, name, why))?;
    let org_id = job.org_id;
    let storage = AnyStorage::for_module(settings)
        .await
        .map_err(|e| failure(FailureCode::Internal, "storage", e))?;
    let pool = oas_db::PoolSettings {
        max_size: 2,
        ..Default::default()
    };
    let db = oas_db::Database::new(&settings.database_url, pool)
        .map_err(|e| failure(FailureCode::Internal, "the database", e))?;
    let ids = params.statements.clone();
    let (organisation, records, contracts) = db
        .run(move |conn| {
            let organisation = Organisation::find(conn, org_id)?;
            let records = StatementRecord::many(conn, &ids)?;
            let contracts = Contract::current(conn, org_id)?;
            Ok::<_, oas_db::DbError>((organisation, records, contracts))
        })
        .await
        .map_err(internal("reading the statements"))?;

    let mut refused = Vec::new();
    let mut wanted = Vec::new();
    // Each contract's terms: the version its statements name (the
    // current one when they were asked for), else its current one.
    let mut terms_of: BTreeMap<i64, ContractTerms> = BTreeMap::new();
    let mut names: HashMap<i64, String> = HashMap::new();
    for (contract, version) in &contracts {
        names.insert(contract.id, contract.name.clone());
        if let Ok(terms) = serde_json::from_str::<ContractTerms>(&version.body) {
            terms_of.insert(contract.id, terms);
        }
    }
    let mut priced: BTreeMap<i64, ContractTerms> = BTreeMap::new();
    for record in records {
        if record.organisation_id != org_id || record.status != PENDING {
            refused.push(Refused {
                statement_id: record.id,
                cause: format!(
                    "Statement {} is {}, not waiting to be calculated.",
                    record.id, record.status
                ),
            });
            continue;
        }
        match (record.contract_id, record.payee_id, record.subject.clone()) {
            (Some(contract_id), Some(payee_id), _) => {
                let version = record.contract_version.unwrap_or_default();
                let read = db
                    .run(move |conn| {
                        let version = Contract::version(conn, contract_id, version)?;
                        let payee = Payee::find(conn, payee_id)?;
                        Ok::<_, oas_db::DbError>((version, payee))
                    })
                    .await;
                let (version, payee) = match read {
                    Ok(read) => read,
                    Err(oas_db::DbError::NotFound) => {
                        refused.push(Refused {
                            statement_id: record.id,
                            cause: "Its contract version or its payee is gone.".to_owned(),
                        });
                        continue;
                    }
                    Err(e) => return Err(internal("reading the contract")(e)),
                };
                let terms: ContractTerms = serde_json::from_str(&version.body)
                    .map_err(|e| failure(FailureCode::Internal, "the contract's terms", e))?;
                terms_of.insert(contract_id, terms.clone());
                priced.insert(contract_id, terms);
                wanted.push(Wanted {
                    key: contract_id,
                    payee: Some(payee),
                    contract_name: format!(
                        "{}, version {}",
                        names.get(&contract_id).cloned().unwrap_or_default(),
                        record.contract_version.unwrap_or_default()
                    ),
                    record,
                });
            }
            (None, None, Some(subject)) => {
                let Some(terms) = subject_terms(&subject, &record.currency) else {
                    refused.push(Refused {
                        statement_id: record.id,
                        cause: format!("{subject:?} is neither an artist nor a label."),
                    });
                    continue;
                };
                let (kind, name) = subject.split_once(':').unwrap_or(("", &subject));
                priced.insert(-record.id, terms);
                wanted.push(Wanted {
                    key: -record.id,
                    payee: None,
                    contract_name: format!("Sales of {kind} {name} at 100%"),
                    record,
                });
            }
            _ => refused.push(Refused {
                statement_id: record.id,
                cause: "It names neither a contract's payee nor an artist or label.".to_owned(),
            }),
        }
    }
    for refusal in &refused {
        let (id, cause) = (refusal.statement_id, refusal.cause.clone());
        let change = StatementChange {
            status: Some(FAILED.to_owned()),
            status_cause: Some(Some(cause)),
            updated_at: Some(Utc::now().naive_utc()),
            ..Default::default()
        };
        db.run(move |conn| StatementRecord::transition(conn, id, PENDING, &change))
            .await
            .map_err(internal("recording a failed statement"))?;
    }
    let scopes = ScopeIndex::new(terms_of.iter().map(|(id, t)| (*id, t.scope.as_slice())));

    let work =
        tempfile::tempdir().map_err(|e| failure(FailureCode::Internal, "temporary folder", e))?;
    let mut ledger = Ledger::new(
        &params.period_from,
        &params.period_to,
        &organisation.base_currency,
        scopes,
        priced.into_iter().collect(),
        work.path(),
    );
    let mut catalog: HashMap<i64, Arc<CatalogEntry>> = HashMap::new();
    let started = std::time::Instant::now();
    for source in &params.files {
        let fetched =
            oas_lines::fetch::fetch(&storage, &db, org_id, source, &mut catalog, work.path())
                .await
                .map_err(|e| match e {
                    oas_lines::fetch::FetchError::Missing { .. } => {
                        Failure::new(FailureCode::Rejected, e.to_string())
                    }
                    other => failure(FailureCode::Internal, "reading the lines", other),
                })?;
        let source = source.clone();
        let (back, added) = tokio::task::spawn_blocking(move || {
            let added = ledger.add_file(&source, &fetched.parquet, &fetched.matches);
            (ledger, added)
        })
        .await
        .map_err(|e| failure(FailureCode::Internal, "reading the lines", e))?;
        ledger = back;
        added.map_err(rejected)?;
    }
    tracing::info!(
        period_lines = ledger.period_lines,
        seconds = started.elapsed().as_secs_f64(),
        "lines priced"
    );

    let mut written = Vec::new();
    for want in wanted {
        let id = want.record.id;
        match statement(
            &db,
            &storage,
            &organisation,
            &params,
            &mut ledger,
            want,
            work.path(),
        )
        .await
        {
            Ok(done) => written.push(done),
            Err(e) => {
                let cause = e.message.clone();
                let change = StatementChange {
                    status: Some(FAILED.to_owned()),
                    status_cause: Some(Some(cause.clone())),
                    updated_at: Some(Utc::now().naive_utc()),
                    ..Default::default()
                };
                db.run(move |conn| StatementRecord::transition(conn, id, PENDING, &change))
                    .await
                    .map_err(internal("recording a failed statement"))?;
                refused.push(Refused {
                    statement_id: id,
                    cause,
                });
            }
        }
    }
    tracing::info!(
        written = written.len(),
        refused = refused.len(),
        seconds = started.elapsed().as_secs_f64(),
        "statements written"
    );
    Ok(Output {
        written,
        refused,
        period_lines: ledger.period_lines,
    })
}

/// The last day of month `YYYY-MM`, as `YYYY-MM-DD` compares.
fn month_end(month: &str) -> String {
    format!("{month}-31")
}

fn parse_amount(text: &str, what: &str) -> Result<Amount, Failure> {
    Amount::parse_total(text).map_err(|e| failure(FailureCode::Internal, what, e))
}

/// Calculates one statement, stores its files and figures, and says what
/// it wrote.
async fn statement(
    db: &oas_db::Database,
    storage: &AnyStorage,
    organisation: &Organisation,
    params: &Params,
    ledger: &mut Ledger,
    want: Wanted,
    dir: &std::path::Path,
) -> Result<Written, Failure> {
    let record = want.record;
    let id = record.id;
    let account_lines = ledger
        .accounts
        .get_mut(&want.key)
        .ok_or_else(|| Failure::new(FailureCode::Internal, "the statement's account is missing"))?;
    let terms = account_lines.terms.clone();
    let currency = terms.currency.clone();
    let places = CurrencyCode::parse(&currency).map_or(2, |c| c.minor_units());
    let shares: Vec<Decimal> = terms.payees.iter().map(|p| p.share).collect();
    let (share, earnings, at) = match &want.payee {
        Some(payee) => {
            let Some(at) = terms
                .payees
                .iter()
                .position(|p: &PayeeShare| p.payee == payee.id)
            else {
                return Err(Failure::new(
                    FailureCode::Rejected,
                    format!(
                        "{} is no longer a payee of version {} of the contract.",
                        payee.name,
                        record.contract_version.unwrap_or_default()
                    ),
                ));
            };
            let parts = split(account_lines.earnings.amount, &shares, places);
            (shares[at], parts[at], Some(at))
        }
        None => (
            Decimal::ONE,
            account_lines.earnings.amount.round_dp(places),
            None,
        ),
    };

    // What the account opens with, and what it still has to recoup.
    let (previous, costs, recouped_before, superseded) = match (record.contract_id, record.payee_id)
    {
        (Some(contract_id), Some(payee_id)) => {
            let (from, correcting) = (record.period_from.clone(), record.supersedes);
            db.run(move |conn| {
                let previous =
                    StatementRecord::previous_approved(conn, contract_id, payee_id, &from)?;
                let (costs, _) = ContractCost::page(conn, contract_id, 0, 100_000)?;
                let before =
                    StatementRecord::recouped_before(conn, contract_id, payee_id, correcting)?;
                let superseded = correcting
                    .map(|id| StatementRecord::find(conn, id))
                    .transpose()?;
                Ok::<_, oas_db::DbError>((previous, costs, before, superseded))
            })
            .await
            .map_err(internal("reading the account"))?
        }
        _ => (None, Vec::new(), Vec::new(), None),
    };
    let opening = match previous.as_ref().and_then(|p| p.carried_forward.as_deref()) {
        Some(text) => parse_amount(text, "the previous statement's balance")?,
        None => Amount::ZERO,
    };
    let end = month_end(&params.period_to);
    let mut before: HashMap<i64, Amount> = HashMap::new();
    for (cost, amount) in &recouped_before {
        let amount = parse_amount(amount, "what was recouped")?;
        *before.entry(*cost).or_default() += amount;
    }
    let mut owed = Vec::new();
    let mut described: HashMap<i64, String> = HashMap::new();
    for cost in costs.iter().filter(|c| c.date.as_str() <= end.as_str()) {
        let amount = parse_amount(&cost.amount, "a cost")?;
        // Each payee carries its share of the contract's costs.
        let part = match at {
            Some(at) => split(amount, &shares, places)[at],
            None => amount,
        };
        let recoupable: Decimal = cost
            .recoupable
            .parse()
            .map_err(|e| failure(FailureCode::Internal, "a cost's recoupable share", e))?;
        let date = NaiveDate::parse_from_str(&cost.date, "%Y-%m-%d")
            .map_err(|e| failure(FailureCode::Internal, "a cost's date", e))?;
        described.insert(
            cost.id,
            format!(
                "{} {}: {} ({})",
                kind_name(&cost.kind),
                cost.id,
                cost.description,
                cost.date
            ),
        );
        owed.push(Cost {
            id: cost.id,
            date,
            amount: part,
            recoupable,
            recouped_before: before.get(&cost.id).copied().unwrap_or_default(),
        });
    }
    let min_payout = if want.payee.is_some() {
        terms.min_payout
    } else {
        Amount::ZERO
    };
    let figures = account(opening, earnings, &owed, min_payout, places)
        .map_err(|e| Failure::new(FailureCode::Rejected, e.to_string()))?;

    // The notes: what the statement leaves out, and what it corrects.
    let base = &organisation.base_currency;
    let mut notes = Vec::new();
    let left_out = [
        (
            &account_lines.unattributed,
            "are in scope but not matched to the catalog (match them, then recalculate)",
        ),
        (
            &account_lines.no_term,
            "are in scope but no term of the contract prices them",
        ),
        (
            &account_lines.no_rate,
            "are in a currency the contract's cannot be reached from at the rate they were imported at",
        ),
    ];
    for (tally, why) in left_out {
        if tally.lines > 0 {
            notes.push(format!(
                "{} line(s) earning {} {base} {why}: they are not counted.",
                tally.lines,
                present::money(tally.amount, 2)
            ));
        }
    }
    if account_lines.conflicts.lines > 0 {
        let others: Vec<String> = account_lines
            .conflicting
            .iter()
            .map(|(id, kind)| format!("contract {id} ({} scope)", kind.as_str()))
            .collect();
        notes.push(format!(
            "{} line(s) earning {} {base} are also claimed by {} at the same level: they are counted for neither until the scopes are settled.",
            account_lines.conflicts.lines,
            present::money(account_lines.conflicts.amount, 2),
            others.join(", ")
        ));
    }
    if let Some(old) = &superseded {
        let old_earnings = old.earnings.as_deref().unwrap_or("0");
        let old_payable = old.payable.as_deref().unwrap_or("0");
        let diff = earnings + -parse_amount(old_earnings, "the corrected statement")?;
        notes.push(format!(
            "This statement corrects statement {} (earnings {} then, {} now: a difference of {}; payable {} then, {} now).",
            old.id,
            present::money(parse_amount(old_earnings, "the corrected statement")?, places),
            present::money(earnings, places),
            present::money(diff, places),
            present::money(parse_amount(old_payable, "the corrected statement")?, places),
            present::money(figures.payable, places),
        ));
    }
    if currency.eq_ignore_ascii_case(base) {
        notes.push(format!(
            "Royalties are in {currency}; lines reported in another currency are converted at the rate each was imported at (the CSV gives it beside each line)."
        ));
    } else {
        notes.push(format!(
            "Royalties are in {currency}, as the lines reported in {currency}; lines in any other currency have no rate to {currency} and are not counted."
        ));
    }
    if figures.payable.is_zero() && figures.closing > Amount::ZERO {
        notes.push(format!(
            "The balance is below the minimum payout of {} {currency}: it is carried forward to the next statement.",
            present::money(min_payout, places)
        ));
    }
    notes.push(
        "Every line behind these figures, with the term that priced it, is in the statement's CSV file."
            .to_owned(),
    );
    let unattributed = account_lines.unattributed.amount;

    // The CSV and the PDF.
    let csv_path = dir.join(format!("statement-{id}.csv"));
    let csv_written =
        present::write_csv(account_lines, share, earnings, &csv_path).map_err(rejected)?;
    let sections = present::sections(account_lines, share, earnings, &currency, places);
    let mut rows = vec![
        AccountRow {
            label: "Opening balance".to_owned(),
            amount: present::money(figures.opening, places),
            strong: false,
            indent: false,
        },
        AccountRow {
            label: "Royalties earned this period".to_owned(),
            amount: present::money(figures.earnings, places),
            strong: false,
            indent: false,
        },
    ];
    if !figures.recouped.is_empty() {
        rows.push(AccountRow {
            label: "Costs recouped".to_owned(),
            amount: present::money(-figures.costs_recouped, places),
            strong: false,
            indent: false,
        });
        for item in &figures.recouped {
            rows.push(AccountRow {
                label: format!(
                    "{}; {} left to recoup",
                    described.get(&item.cost).cloned().unwrap_or_default(),
                    present::money(item.outstanding, places)
                ),
                amount: present::money(-item.amount, places),
                strong: false,
                indent: true,
            });
        }
    }
    for (label, amount) in [
        ("Closing balance", figures.closing),
        ("Payable", figures.payable),
        ("Carried forward", figures.carried_forward),
    ] {
        rows.push(AccountRow {
            label: label.to_owned(),
            amount: present::money(amount, places),
            strong: true,
            indent: false,
        });
    }
    let payee_lines = want
        .payee
        .as_ref()
        .map(|p| {
            let mut lines: Vec<String> = p
                .address
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect();
            if !p.email.is_empty() {
                lines.push(p.email.clone());
            }
            if !p.tax_id.is_empty() {
                lines.push(format!("Tax id {}", p.tax_id));
            }
            lines
        })
        .unwrap_or_default();
    let payee_name = match (&want.payee, record.subject.as_deref()) {
        (Some(p), _) => p.name.clone(),
        (None, Some(subject)) => subject
            .split_once(':')
            .map_or(subject, |(_, n)| n)
            .to_owned(),
        (None, None) => String::new(),
    };
    let doc = StatementDoc {
        organisation: organisation.name.clone(),
        title: if want.payee.is_some() {
            "Royalty statement".to_owned()
        } else {
            "Sales statement".to_owned()
        },
        number: format!("Statement {id}"),
        payee: payee_name,
        payee_lines,
        contract: want.contract_name.clone(),
        period: present::period_name(&record.period_from, &record.period_to),
        issued: format!("Calculated {}", Utc::now().format("%Y-%m-%d")),
        currency: currency.clone(),
        account: rows,
        sections,
        notes: notes.clone(),
    };
    let pdf_path = dir.join(format!("statement-{id}.pdf"));
    let pdf = tokio::task::spawn_blocking(move || pdf::render(&doc))
        .await
        .map_err(|e| failure(FailureCode::Internal, "writing the PDF", e))?
        .map_err(|e| failure(FailureCode::Internal, "writing the PDF", e))?;
    std::fs::write(&pdf_path, &pdf)
        .map_err(|e| failure(FailureCode::Internal, "writing the PDF", e))?;

    let org = organisation.id;
    let csv_key = oas_platform::storage::statement_key(org, id, "csv")
        .map_err(|e| failure(FailureCode::Internal, "the CSV's key", e))?;
    let pdf_key = oas_platform::storage::statement_key(org, id, "pdf")
        .map_err(|e| failure(FailureCode::Internal, "the PDF's key", e))?;
    storage
        .put_file(&csv_key, &csv_path)
        .await
        .map_err(|e| failure(FailureCode::Internal, "storing the CSV", e))?;
    storage
        .put_file(&pdf_key, &pdf_path)
        .await
        .map_err(|e| failure(FailureCode::Internal, "storing the PDF", e))?;
    let _ = std::fs::remove_file(&csv_path);
    let _ = std::fs::remove_file(&pdf_path);

    let cause = notes
        .iter()
        .filter(|n| n.contains("not counted") || n.contains("neither") || n.contains("corrects"))
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    let change = StatementChange {
        status: Some(DRAFT.to_owned()),
        status_cause: Some((!cause.is_empty()).then_some(cause)),
        opening_balance: Some(Some(figures.opening.to_string())),
        earnings: Some(Some(figures.earnings.to_string())),
        costs_recouped: Some(Some(figures.costs_recouped.to_string())),
        closing_balance: Some(Some(figures.closing.to_string())),
        payable: Some(Some(figures.payable.to_string())),
        carried_forward: Some(Some(figures.carried_forward.to_string())),
        unattributed: Some(Some(unattributed.to_string())),
        line_count: Some(i64::try_from(csv_written.lines).ok()),
        csv_key: Some(Some(csv_key.as_str().to_owned())),
        pdf_key: Some(Some(pdf_key.as_str().to_owned())),
        updated_at: Some(Utc::now().naive_utc()),
        ..Default::default()
    };
    let recouped: Vec<(i64, String)> = figures
        .recouped
        .iter()
        .filter(|r| !r.amount.is_zero())
        .map(|r| (r.cost, r.amount.to_string()))
        .collect();
    let stored = db
        .run(move |conn| StatementRecord::calculated(conn, id, &change, &recouped))
        .await
        .map_err(internal("storing the statement"))?;
    if !stored {
        return Err(Failure::new(
            FailureCode::Rejected,
            format!("Statement {id} changed while it was calculated: ask for it again."),
        ));
    }
    Ok(Written {
        statement_id: id,
        earnings: figures.earnings.to_string(),
        payable: figures.payable.to_string(),
        currency,
        lines: csv_written.lines,
        csv_key: csv_key.as_str().to_owned(),
        pdf_key: pdf_key.as_str().to_owned(),
    })
}

/// How a statement names a kind of cost.
fn kind_name(kind: &str) -> String {
    let mut name = kind.replace('_', " ");
    if let Some(first) = name.get(..1) {
        let upper = first.to_uppercase();
        name.replace_range(..1, &upper);
    }
    name
}

/// Lines that cannot be priced from what they say: a readable cause; a
/// failure to write is OAS's own.
fn rejected(e: LedgerError) -> Failure {
    match e {
        LedgerError::Write(_) | LedgerError::Csv(_) => {
            failure(FailureCode::Internal, "writing the statement", e)
        }
        other => Failure::new(
            FailureCode::Rejected,
            format!("The statements cannot be calculated: {other}."),
        ),
    }
}
