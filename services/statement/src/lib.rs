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
//! balance carried from the previous approved statement ([`calculate`]),
//! and the CSV ([`present`]) and PDF ([`pdf`]) stored.

pub mod calculate;
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
use oas_domain::money::Amount;
use oas_domain::statement::{Basis, ContractTerms, Scope, ScopeIndex, ScopeKind, Term};
use oas_platform::config::Settings;
use oas_platform::module::{Failure, ModuleInfo};
use oas_platform::storage::{AnyStorage, ObjectStore};
use rust_decimal::Decimal;

use calculate::{CalculateError, Corrected, CostIn, Inputs, PayeeIn, calculate};
use ledger::{Ledger, LedgerError};

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
                .map_err(Failure::from)?;
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
    let mut costs_of = HashMap::new();
    for want in wanted {
        let id = want.record.id;
        match statement(
            &db,
            &storage,
            &organisation,
            &mut ledger,
            &mut costs_of,
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

fn parse_amount(text: &str, what: &str) -> Result<Amount, Failure> {
    Amount::parse_total(text).map_err(|e| failure(FailureCode::Internal, what, e))
}

/// Calculates one statement, stores its files and figures, and says what
/// it wrote.
async fn statement(
    db: &oas_db::Database,
    storage: &AnyStorage,
    organisation: &Organisation,
    ledger: &mut Ledger,
    costs_of: &mut HashMap<i64, Vec<ContractCost>>,
    want: Wanted,
    dir: &std::path::Path,
) -> Result<Written, Failure> {
    let record = want.record;
    let id = record.id;

    // What the account opens with, and what it still has to recoup.
    // A contract's costs are read once for all its payees.
    let (previous, costs, recouped_before, superseded) = match (record.contract_id, record.payee_id)
    {
        (Some(contract_id), Some(payee_id)) => {
            let (from, correcting) = (record.period_from.clone(), record.supersedes);
            let known = costs_of.contains_key(&contract_id);
            let (previous, read, before, superseded) = db
                .run(move |conn| {
                    let previous =
                        StatementRecord::previous_approved(conn, contract_id, payee_id, &from)?;
                    let costs = if known {
                        None
                    } else {
                        Some(ContractCost::all_of(conn, contract_id)?)
                    };
                    let before =
                        StatementRecord::recouped_before(conn, contract_id, payee_id, correcting)?;
                    let superseded = correcting
                        .map(|id| StatementRecord::find(conn, id))
                        .transpose()?;
                    Ok::<_, oas_db::DbError>((previous, costs, before, superseded))
                })
                .await
                .map_err(internal("reading the account"))?;
            let costs = costs_of
                .entry(contract_id)
                .or_insert_with(|| read.unwrap_or_default());
            (previous, costs.as_slice(), before, superseded)
        }
        _ => (None, &[][..], Vec::new(), None),
    };
    let opening = match previous.as_ref().and_then(|p| p.carried_forward.as_deref()) {
        Some(text) => parse_amount(text, "the previous statement's balance")?,
        None => Amount::ZERO,
    };
    let mut before: HashMap<i64, Amount> = HashMap::new();
    for (cost, amount) in &recouped_before {
        let amount = parse_amount(amount, "what was recouped")?;
        *before.entry(*cost).or_default() += amount;
    }
    let mut owed = Vec::with_capacity(costs.len());
    for cost in costs {
        owed.push(CostIn {
            id: cost.id,
            kind: cost.kind.clone(),
            description: cost.description.clone(),
            date: NaiveDate::parse_from_str(&cost.date, "%Y-%m-%d")
                .map_err(|e| failure(FailureCode::Internal, "a cost's date", e))?,
            amount: parse_amount(&cost.amount, "a cost")?,
            recoupable: cost
                .recoupable
                .parse()
                .map_err(|e| failure(FailureCode::Internal, "a cost's recoupable share", e))?,
            recouped_before: before.get(&cost.id).copied().unwrap_or_default(),
        });
    }
    let corrects = match superseded {
        Some(old) => Some(Corrected {
            id: old.id,
            earnings: parse_amount(
                old.earnings.as_deref().unwrap_or("0"),
                "the corrected statement",
            )?,
            payable: parse_amount(
                old.payable.as_deref().unwrap_or("0"),
                "the corrected statement",
            )?,
        }),
        None => None,
    };
    let inputs = Inputs {
        id,
        organisation: organisation.name.clone(),
        base_currency: organisation.base_currency.clone(),
        payee: want.payee.map(|p| PayeeIn {
            id: p.id,
            name: p.name,
            email: p.email,
            address: p.address,
            tax_id: p.tax_id,
        }),
        subject: record.subject.clone(),
        contract_name: want.contract_name,
        contract_version: record.contract_version,
        period_from: record.period_from.clone(),
        period_to: record.period_to.clone(),
        opening,
        costs: owed,
        corrects,
        issued: format!("Calculated {}", Utc::now().format("%Y-%m-%d")),
    };
    let lines = ledger
        .accounts
        .get_mut(&want.key)
        .ok_or_else(|| Failure::new(FailureCode::Internal, "the statement's account is missing"))?;
    let currency = lines.terms.currency.clone();
    let done = calculate(&inputs, lines, dir).map_err(|e| match e {
        CalculateError::Refused(why) => Failure::new(FailureCode::Rejected, why),
        other => failure(FailureCode::Internal, "writing the statement", other),
    })?;

    let org = organisation.id;
    let csv_key = oas_platform::storage::statement_key(org, id, "csv")
        .map_err(|e| failure(FailureCode::Internal, "the CSV's key", e))?;
    let pdf_key = oas_platform::storage::statement_key(org, id, "pdf")
        .map_err(|e| failure(FailureCode::Internal, "the PDF's key", e))?;
    storage
        .put_file(&csv_key, &done.csv)
        .await
        .map_err(|e| failure(FailureCode::Internal, "storing the CSV", e))?;
    storage
        .put_file(&pdf_key, &done.pdf)
        .await
        .map_err(|e| failure(FailureCode::Internal, "storing the PDF", e))?;
    let _ = std::fs::remove_file(&done.csv);
    let _ = std::fs::remove_file(&done.pdf);

    let figures = &done.figures;
    let change = StatementChange {
        status: Some(DRAFT.to_owned()),
        status_cause: Some(done.cause.clone()),
        opening_balance: Some(Some(figures.opening.to_string())),
        earnings: Some(Some(figures.earnings.to_string())),
        costs_recouped: Some(Some(figures.costs_recouped.to_string())),
        closing_balance: Some(Some(figures.closing.to_string())),
        payable: Some(Some(figures.payable.to_string())),
        carried_forward: Some(Some(figures.carried_forward.to_string())),
        unattributed: Some(Some(done.unattributed.to_string())),
        line_count: Some(i64::try_from(done.lines).ok()),
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
        lines: done.lines,
        csv_key: csv_key.as_str().to_owned(),
        pdf_key: pdf_key.as_str().to_owned(),
    })
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
