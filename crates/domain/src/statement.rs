//! The arithmetic of a royalty statement, apart from where its numbers
//! come from: which term of a contract prices a line, how a contract's
//! earnings are divided among its payees, and a payee's statement of
//! account (opening balance, earnings, costs recouped, closing balance,
//! payable, carried forward).
//!
//! Amounts are exact ([`Amount`]) until a statement is presented; then a
//! contract's earnings are rounded once to the currency's minor unit
//! (half to even) and divided among payees by largest remainder, so the
//! parts add up to the whole to the last minor unit. Everything after is
//! in whole minor units.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::Amount;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    #[error("A contract needs at least one payee.")]
    NoPayee,
    #[error("Each payee's share is more than 0 and at most 1; {0} is not.")]
    Share(Decimal),
    #[error("The payees' shares add up to {0}, not to exactly 1.")]
    SharesTotal(Decimal),
    #[error("A rate is from 0 to 1; {0} is not.")]
    Rate(Decimal),
    #[error("A recoupable share is from 0 to 1; {0} is not.")]
    Recoupable(Decimal),
}

/// Checks that `shares` are each in (0, 1] and add up to exactly 1.
pub fn check_shares(shares: &[Decimal]) -> Result<(), StatementError> {
    if shares.is_empty() {
        return Err(StatementError::NoPayee);
    }
    if let Some(bad) = shares
        .iter()
        .find(|s| **s <= Decimal::ZERO || **s > Decimal::ONE)
    {
        return Err(StatementError::Share(*bad));
    }
    let total: Decimal = shares.iter().sum();
    if total != Decimal::ONE {
        return Err(StatementError::SharesTotal(total.normalize()));
    }
    Ok(())
}

/// Checks a royalty rate: from 0 to 1.
pub fn check_rate(rate: Decimal) -> Result<(), StatementError> {
    if rate < Decimal::ZERO || rate > Decimal::ONE {
        return Err(StatementError::Rate(rate.normalize()));
    }
    Ok(())
}

/// `total` rounded to `places` and divided in `shares` (adding up to one)
/// by largest remainder: each part is its exact share rounded down to a
/// whole minor unit, and the units left over go one each to the parts
/// that lost the most, the first listed first among equals. The parts add
/// up to the rounded total exactly; a negative total is divided as its
/// opposite, then negated.
pub fn split(total: Amount, shares: &[Decimal], places: u32) -> Vec<Amount> {
    let rounded = total.round_dp(places);
    let negative = rounded.is_negative();
    let whole = if negative { -rounded } else { rounded };
    let mut parts = Vec::with_capacity(shares.len());
    let mut lost = Vec::with_capacity(shares.len());
    let mut given = Amount::ZERO;
    for share in shares {
        let exact = whole.convert(*share).unwrap_or(Amount::ZERO);
        let part = exact.floor_dp(places);
        given += part;
        lost.push(exact + -part);
        parts.push(part);
    }
    let unit = Amount::from_units(1, places);
    let mut left = whole + -given;
    let mut order: Vec<usize> = (0..shares.len()).collect();
    // Stable: among equal losses the first listed comes first.
    order.sort_by(|a, b| lost[*b].cmp(&lost[*a]));
    for at in order {
        if left < unit {
            break;
        }
        parts[at] += unit;
        left += -unit;
    }
    if negative {
        parts.iter_mut().for_each(|p| *p = -*p);
    }
    parts
}

/// What a contract pays on: a line's net receipts or its gross.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Basis {
    Net,
    Gross,
}

/// A contract's term: the lines it prices (by store, territory and sale
/// type; an empty list is any) and the rate it pays on their basis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Term {
    #[serde(default)]
    pub dsps: Vec<String>,
    #[serde(default)]
    pub territories: Vec<String>,
    #[serde(default)]
    pub sale_types: Vec<String>,
    pub basis: Basis,
    pub rate: Decimal,
}

impl Term {
    /// Whether the term prices a line of `dsp`, `territory` and
    /// `sale_type` (compared without regard to case).
    pub fn fits(&self, dsp: &str, territory: &str, sale_type: &str) -> bool {
        let within = |list: &[String], value: &str| {
            list.is_empty() || list.iter().any(|v| v.eq_ignore_ascii_case(value))
        };
        within(&self.dsps, dsp)
            && within(&self.territories, territory)
            && within(&self.sale_types, sale_type)
    }

    /// How many conditions the term sets.
    pub fn specificity(&self) -> usize {
        [&self.dsps, &self.territories, &self.sale_types]
            .iter()
            .filter(|l| !l.is_empty())
            .count()
    }
}

/// The term that prices a line: of those that fit it, the one setting the
/// most conditions, the first listed among equals; its index.
pub fn term_for(terms: &[Term], dsp: &str, territory: &str, sale_type: &str) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    for (at, term) in terms.iter().enumerate() {
        if !term.fits(dsp, territory, sale_type) {
            continue;
        }
        let specificity = term.specificity();
        if best.is_none_or(|(_, s)| specificity > s) {
            best = Some((at, specificity));
        }
    }
    best.map(|(at, _)| at)
}

/// A line's royalty under `term`: its basis amount times the rate, exact.
pub fn royalty(term: &Term, net: Amount, gross: Option<Amount>) -> Amount {
    let basis = match term.basis {
        Basis::Net => net,
        Basis::Gross => gross.unwrap_or(net),
    };
    basis.convert(term.rate).unwrap_or(Amount::ZERO)
}

/// What a contract covers: an artist or a label (by name, as the
/// catalog writes it), a release (by UPC) or a track (by ISRC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScopeKind {
    Artist,
    Label,
    Release,
    Track,
}

impl ScopeKind {
    pub const ALL: [ScopeKind; 4] = [
        ScopeKind::Artist,
        ScopeKind::Label,
        ScopeKind::Release,
        ScopeKind::Track,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ScopeKind::Artist => "artist",
            ScopeKind::Label => "label",
            ScopeKind::Release => "release",
            ScopeKind::Track => "track",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    pub kind: ScopeKind,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayeeShare {
    pub payee: i64,
    pub share: Decimal,
}

/// A contract's version: what the statement module reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractTerms {
    /// ISO 4217 code of the statements.
    pub currency: String,
    pub min_payout: Amount,
    pub payees: Vec<PayeeShare>,
    pub scope: Vec<Scope>,
    pub terms: Vec<Term>,
}

/// Which contract a line belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// No contract covers it.
    Unclaimed,
    /// This contract (its id), by its most specific scope that holds the
    /// line.
    Contract(i64),
    /// Several contracts hold it at the same, most specific level: an
    /// error for the operator to settle, the line counted for none.
    Conflict(ScopeKind, Vec<i64>),
}

/// A sales line as scopes see it, through its catalog match: the track's
/// ISRC, the release's UPC, the artist and the label (as the catalog
/// writes them).
#[derive(Debug, Clone, Copy, Default)]
pub struct Covered<'a> {
    pub isrc: Option<&'a str>,
    pub upc: Option<&'a str>,
    pub artist: Option<&'a str>,
    pub label: Option<&'a str>,
}

/// Every contract's scope, by kind and value, to find which contract a
/// line belongs to: the most specific kind that holds it decides (a track
/// before its release, a release before its artist, an artist before its
/// label). Names compare without regard to case or spacing.
#[derive(Debug, Default)]
pub struct ScopeIndex {
    by_kind: std::collections::BTreeMap<(ScopeKind, String), Vec<i64>>,
}

/// How scopes compare names: lower case, runs of spaces as one.
fn name_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

impl ScopeIndex {
    /// The scopes of `contracts` (each contract's id and scope).
    pub fn new<'a>(contracts: impl IntoIterator<Item = (i64, &'a [Scope])>) -> Self {
        let mut by_kind: std::collections::BTreeMap<(ScopeKind, String), Vec<i64>> =
            std::collections::BTreeMap::new();
        for (contract, scope) in contracts {
            for s in scope {
                let value = match s.kind {
                    ScopeKind::Artist | ScopeKind::Label => name_key(&s.value),
                    ScopeKind::Track | ScopeKind::Release => s.value.clone(),
                };
                let holders = by_kind.entry((s.kind, value)).or_default();
                if !holders.contains(&contract) {
                    holders.push(contract);
                }
            }
        }
        Self { by_kind }
    }

    /// The contract `line` belongs to.
    pub fn claim(&self, line: Covered<'_>) -> Claim {
        let levels = [
            (ScopeKind::Track, line.isrc.map(str::to_owned)),
            (ScopeKind::Release, line.upc.map(str::to_owned)),
            (ScopeKind::Artist, line.artist.map(name_key)),
            (ScopeKind::Label, line.label.map(name_key)),
        ];
        for (kind, value) in levels {
            let Some(value) = value.filter(|v| !v.is_empty()) else {
                continue;
            };
            match self.by_kind.get(&(kind, value)).map(Vec::as_slice) {
                None | Some([]) => {}
                Some([one]) => return Claim::Contract(*one),
                Some(many) => return Claim::Conflict(kind, many.to_vec()),
            }
        }
        Claim::Unclaimed
    }
}

/// A sales line as a statement prices it.
#[derive(Debug, Clone, Copy)]
pub struct PricedLine<'a> {
    /// Through the line's catalog match when it has one; else the line's
    /// own identifiers and names.
    pub covered: Covered<'a>,
    /// Whether the line's usage item is matched to the catalog.
    pub matched: bool,
    pub dsp: &'a str,
    pub territory: &'a str,
    pub sale_type: &'a str,
    /// In the line's currency.
    pub net: Amount,
    pub gross: Option<Amount>,
    pub currency: &'a str,
    /// The rate the import converted the line into the base currency at.
    pub rate: Decimal,
    pub base_currency: &'a str,
}

/// A line's royalty under a contract, in the contract's currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Priced {
    /// Contract `contract`, term `term` (its index), this royalty.
    Royalty {
        contract: i64,
        term: usize,
        royalty: Amount,
    },
    /// In a contract's scope but not matched to the catalog: not counted,
    /// said (its base-currency revenue).
    Unattributed { contract: i64, revenue: Amount },
    /// Held by several contracts at one level: counted for none.
    Conflict {
        kind: ScopeKind,
        contracts: Vec<i64>,
        revenue: Amount,
    },
    /// In a contract's scope, but no term of it fits the line.
    NoTerm { contract: i64, revenue: Amount },
    /// The contract's currency is neither the line's nor the base
    /// currency: no rate the line was imported at converts it.
    NoRate { contract: i64, revenue: Amount },
    /// Outside every contract.
    Outside,
}

/// What `line` earns, and under which contract (`contracts`: each one's
/// id and current terms, found through `scopes`). The royalty is the
/// term's rate times the line's basis, exact, in the line's currency, then
/// in the contract's: as it is when the contract is in the line's
/// currency, at the rate the line was imported at when the contract is in
/// the base currency.
pub fn price(
    line: &PricedLine<'_>,
    scopes: &ScopeIndex,
    contracts: &std::collections::BTreeMap<i64, ContractTerms>,
) -> Priced {
    price_claimed(line, scopes.claim(line.covered), contracts)
}

/// [`price`] for a line whose claim is known (a line's claim is its
/// item's and label's: callers reading many lines of one item find it
/// once).
pub fn price_claimed(
    line: &PricedLine<'_>,
    claim: Claim,
    contracts: &std::collections::BTreeMap<i64, ContractTerms>,
) -> Priced {
    if claim == Claim::Unclaimed {
        return Priced::Outside;
    }
    let base_revenue = line.net.convert(line.rate).unwrap_or(Amount::ZERO);
    let contract = match claim {
        Claim::Unclaimed => return Priced::Outside,
        Claim::Conflict(kind, contracts) => {
            return Priced::Conflict {
                kind,
                contracts,
                revenue: base_revenue,
            };
        }
        Claim::Contract(id) => id,
    };
    if !line.matched {
        return Priced::Unattributed {
            contract,
            revenue: base_revenue,
        };
    }
    let Some(terms) = contracts.get(&contract) else {
        return Priced::Outside;
    };
    let Some(term) = term_for(&terms.terms, line.dsp, line.territory, line.sale_type) else {
        return Priced::NoTerm {
            contract,
            revenue: base_revenue,
        };
    };
    let royalty = royalty(&terms.terms[term], line.net, line.gross);
    let royalty = if terms.currency.eq_ignore_ascii_case(line.currency) {
        royalty
    } else if terms.currency.eq_ignore_ascii_case(line.base_currency) {
        royalty.convert(line.rate).unwrap_or(Amount::ZERO)
    } else {
        return Priced::NoRate {
            contract,
            revenue: base_revenue,
        };
    };
    Priced::Royalty {
        contract,
        term,
        royalty,
    }
}

/// `values` (exact) rounded to `places` so that they add up to `target`
/// (whole minor units), for a summary whose rows must make its total:
/// each value is rounded down, and the units the total still needs go one
/// each to the values that lost the most (taken back from those that lost
/// the least when the rounded values pass the total), the first listed
/// first among equals.
pub fn apportion(values: &[Amount], target: Amount, places: u32) -> Vec<Amount> {
    let mut parts: Vec<Amount> = values.iter().map(|v| v.floor_dp(places)).collect();
    if parts.is_empty() {
        return parts;
    }
    let lost: Vec<Amount> = values.iter().zip(&parts).map(|(v, p)| *v + -*p).collect();
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|a, b| lost[*b].cmp(&lost[*a]));
    let unit = Amount::from_units(1, places);
    let given: Amount = parts.iter().copied().sum();
    let mut left = (target + -given).units(places).unwrap_or(0);
    let mut at = 0;
    while left > 0 {
        parts[order[at % order.len()]] += unit;
        left -= 1;
        at += 1;
    }
    let mut at = 0;
    while left < 0 {
        parts[order[order.len() - 1 - at % order.len()]] += -unit;
        left += 1;
        at += 1;
    }
    parts
}

/// An advance or a cost against a payee's earnings, in whole minor units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cost {
    pub id: i64,
    pub date: NaiveDate,
    pub amount: Amount,
    /// The share of the amount that earnings repay, 0 to 1.
    pub recoupable: Decimal,
    /// What earlier approved statements recouped of it.
    pub recouped_before: Amount,
}

/// What one statement recouped of a cost, and what remains to recoup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recouped {
    pub cost: i64,
    pub amount: Amount,
    pub outstanding: Amount,
}

/// A payee's statement of account for a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub opening: Amount,
    pub earnings: Amount,
    /// Cost by cost, in date order (those with something left to recoup).
    pub recouped: Vec<Recouped>,
    pub costs_recouped: Amount,
    /// Opening + earnings − costs recouped.
    pub closing: Amount,
    /// The closing balance when it is positive and at least the minimum
    /// payout; else 0.
    pub payable: Amount,
    /// What the next statement opens with: the closing balance less what
    /// is paid.
    pub carried_forward: Amount,
}

/// The statement of account of a payee: `earnings` (this period's, whole
/// minor units) repay `costs` in date order, each up to its recoupable
/// share less what was recouped before, never more than the period
/// earned; what is left is paid when it reaches `min_payout`, else carried
/// forward with the balance.
pub fn account(
    opening: Amount,
    earnings: Amount,
    costs: &[Cost],
    min_payout: Amount,
    places: u32,
) -> Result<Account, StatementError> {
    let mut ordered: Vec<&Cost> = costs.iter().collect();
    ordered.sort_by_key(|c| (c.date, c.id));
    let mut available = if earnings.is_negative() {
        Amount::ZERO
    } else {
        earnings
    };
    let mut recouped = Vec::new();
    let mut costs_recouped = Amount::ZERO;
    for cost in ordered {
        if cost.recoupable < Decimal::ZERO || cost.recoupable > Decimal::ONE {
            return Err(StatementError::Recoupable(cost.recoupable));
        }
        let recoupable = cost
            .amount
            .convert(cost.recoupable)
            .unwrap_or(Amount::ZERO)
            .round_dp(places);
        let outstanding = recoupable + -cost.recouped_before;
        if outstanding <= Amount::ZERO {
            continue;
        }
        let amount = outstanding.min(available);
        available += -amount;
        costs_recouped += amount;
        recouped.push(Recouped {
            cost: cost.id,
            amount,
            outstanding: outstanding + -amount,
        });
    }
    let closing = opening + earnings + -costs_recouped;
    let payable = if closing > Amount::ZERO && closing >= min_payout {
        closing
    } else {
        Amount::ZERO
    };
    Ok(Account {
        opening,
        earnings,
        recouped,
        costs_recouped,
        closing,
        payable,
        carried_forward: closing + -payable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(text: &str) -> Amount {
        text.parse().unwrap()
    }

    fn d(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn amounts(texts: &[&str]) -> Vec<Amount> {
        texts.iter().map(|t| a(t)).collect()
    }

    #[test]
    fn shares_are_each_above_zero_and_add_up_to_exactly_one() {
        assert_eq!(check_shares(&[d("0.5"), d("0.5")]), Ok(()));
        assert_eq!(check_shares(&[d("1")]), Ok(()));
        assert_eq!(
            check_shares(&[d("0.5"), d("0.3")]),
            Err(StatementError::SharesTotal(d("0.8")))
        );
        // A third written out is not a third: the shares must say 1.
        assert!(check_shares(&[d("0.3333"), d("0.3333"), d("0.3333")]).is_err());
        assert_eq!(
            check_shares(&[d("1.5"), d("-0.5")]),
            Err(StatementError::Share(d("1.5")))
        );
        assert_eq!(check_shares(&[]), Err(StatementError::NoPayee));
        assert!(check_rate(d("0.15")).is_ok());
        assert_eq!(check_rate(d("1.2")), Err(StatementError::Rate(d("1.2"))));
    }

    #[test]
    fn an_odd_cent_goes_to_one_payee_and_the_parts_make_the_whole() {
        // 50/50 of 0.01: 0.005 each, rounded down to 0; the cent left goes
        // to the first (equal losses).
        assert_eq!(
            split(a("0.01"), &[d("0.5"), d("0.5")], 2),
            amounts(&["0.01", "0"])
        );
        // 34/33/33 of 10.01.
        assert_eq!(
            split(a("10.01"), &[d("0.34"), d("0.33"), d("0.33")], 2),
            // 3.4034, 3.3033, 3.3033: 3.40 + 3.30 + 3.30 = 10.00, one cent
            // to the largest loss (0.0034).
            amounts(&["3.41", "3.30", "3.30"])
        );
        // The exact total is rounded once, half to even, before dividing.
        assert_eq!(
            split(a("100.005"), &[d("0.7"), d("0.3")], 2),
            amounts(&["70", "30"])
        );
        // A negative total (returns) is divided the same way.
        assert_eq!(
            split(a("-0.01"), &[d("0.5"), d("0.5")], 2),
            amounts(&["-0.01", "0"])
        );
        // Yen have no minor unit.
        assert_eq!(
            split(a("1001"), &[d("0.5"), d("0.5")], 0),
            amounts(&["501", "500"])
        );
        for total in ["0", "0.07", "99.99", "12345.67", "-3.33"] {
            let parts = split(a(total), &[d("0.2"), d("0.45"), d("0.35")], 2);
            let sum: Amount = parts.iter().copied().sum();
            assert_eq!(sum, a(total), "{total}");
        }
    }

    fn term(dsps: &[&str], territories: &[&str], rate: &str) -> Term {
        Term {
            dsps: dsps.iter().map(|s| (*s).to_owned()).collect(),
            territories: territories.iter().map(|s| (*s).to_owned()).collect(),
            sale_types: Vec::new(),
            basis: Basis::Net,
            rate: d(rate),
        }
    }

    #[test]
    fn summary_rows_rounded_add_up_to_the_statement() {
        // Three stores of 1.005 each make 3.015; the statement says 3.02
        // (rounded once). Rounded down: 1.00 each; two cents to place, to
        // the first two (equal losses).
        let rows = amounts(&["1.005", "1.005", "1.005"]);
        assert_eq!(
            apportion(&rows, a("3.02"), 2),
            amounts(&["1.01", "1.01", "1.00"])
        );
        // A payee's part rounded below the sum of its rows rounded down:
        // the cent is taken back from the row that lost the least.
        assert_eq!(
            apportion(&amounts(&["2.504", "0.509"]), a("2.99"), 2),
            amounts(&["2.49", "0.50"])
        );
        // Returns among the rows.
        let mixed = amounts(&["10.333", "-0.336", "5.111"]);
        let parts = apportion(&mixed, a("15.11"), 2);
        assert_eq!(parts.iter().copied().sum::<Amount>(), a("15.11"));
        assert_eq!(parts, amounts(&["10.33", "-0.33", "5.11"]));
        assert!(apportion(&[], a("0"), 2).is_empty());
    }

    #[test]
    fn the_most_specific_term_that_fits_a_line_prices_it() {
        let terms = [
            term(&[], &[], "0.15"),
            term(&["Spotify"], &[], "0.20"),
            term(&["Spotify"], &["GB"], "0.25"),
            term(&[], &["US"], "0.18"),
        ];
        assert_eq!(term_for(&terms, "spotify", "GB", "stream"), Some(2));
        assert_eq!(term_for(&terms, "Spotify", "FR", "stream"), Some(1));
        assert_eq!(term_for(&terms, "Deezer", "US", "stream"), Some(3));
        assert_eq!(term_for(&terms, "Deezer", "FR", "stream"), Some(0));
        // Spotify in the US: two terms of one condition each; the first
        // listed wins.
        assert_eq!(term_for(&terms, "Spotify", "US", "stream"), Some(1));
        assert_eq!(term_for(&terms[1..3], "Deezer", "FR", "stream"), None);
        // 0.20 of 1.2345 net, exact.
        assert_eq!(royalty(&terms[1], a("1.2345"), None), a("0.2469"));
        let gross = Term {
            basis: Basis::Gross,
            ..terms[0].clone()
        };
        assert_eq!(royalty(&gross, a("1"), Some(a("2"))), a("0.3"));
    }

    fn advance(amount: &str, recouped_before: &str) -> Cost {
        Cost {
            id: 1,
            date: NaiveDate::from_ymd_opt(2026, 1, 15).unwrap(),
            amount: a(amount),
            recoupable: Decimal::ONE,
            recouped_before: a(recouped_before),
        }
    }

    #[test]
    fn an_advance_is_recouped_over_two_periods() {
        // January: 60.00 earned against a 100.00 advance.
        let january = account(a("0"), a("60"), &[advance("100", "0")], a("0"), 2).unwrap();
        assert_eq!(
            (january.costs_recouped, january.closing, january.payable),
            (a("60"), a("0"), a("0"))
        );
        assert_eq!(january.recouped[0].outstanding, a("40"));
        // February: 70.00 earned, the 40.00 left recouped, 30.00 paid.
        let february = account(
            january.carried_forward,
            a("70"),
            &[advance("100", "60")],
            a("0"),
            2,
        )
        .unwrap();
        assert_eq!(
            (
                february.costs_recouped,
                february.closing,
                february.payable,
                february.carried_forward
            ),
            (a("40"), a("30"), a("30"), a("0"))
        );
        // March: nothing left to recoup.
        let march = account(a("0"), a("5"), &[advance("100", "100")], a("0"), 2).unwrap();
        assert!(march.recouped.is_empty());
        assert_eq!(march.payable, a("5"));
    }

    #[test]
    fn costs_are_recouped_in_date_order_and_only_their_recoupable_share() {
        let video = Cost {
            id: 2,
            date: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            amount: a("50"),
            recoupable: d("0.5"),
            recouped_before: a("0"),
        };
        let costs = [video, advance("10", "0")];
        let statement = account(a("0"), a("30"), &costs, a("0"), 2).unwrap();
        // The January advance first (10.00), then half the video (25.00)
        // as far as the earnings go (20.00).
        let recouped: Vec<(i64, Amount, Amount)> = statement
            .recouped
            .iter()
            .map(|r| (r.cost, r.amount, r.outstanding))
            .collect();
        assert_eq!(recouped, [(1, a("10"), a("0")), (2, a("20"), a("5"))]);
        assert_eq!(statement.closing, a("0"));
    }

    #[test]
    fn a_payee_below_the_minimum_payout_is_carried_forward() {
        let first = account(a("0"), a("20"), &[], a("50"), 2).unwrap();
        assert_eq!(
            (first.closing, first.payable, first.carried_forward),
            (a("20"), a("0"), a("20"))
        );
        let second = account(first.carried_forward, a("40"), &[], a("50"), 2).unwrap();
        assert_eq!(
            (second.closing, second.payable, second.carried_forward),
            (a("60"), a("60"), a("0"))
        );
        // Returns: nothing is recouped from a negative period, and a
        // negative balance is carried, never paid.
        let returns = account(a("5"), a("-8"), &[advance("10", "0")], a("0"), 2).unwrap();
        assert_eq!(
            (returns.costs_recouped, returns.closing, returns.payable),
            (a("0"), a("-3"), a("0"))
        );
        assert_eq!(returns.carried_forward, a("-3"));
        let bad = Cost {
            recoupable: d("1.5"),
            ..advance("10", "0")
        };
        assert_eq!(
            account(a("0"), a("1"), &[bad], a("0"), 2),
            Err(StatementError::Recoupable(d("1.5")))
        );
    }

    #[test]
    fn a_currency_has_its_minor_unit() {
        use crate::money::CurrencyCode;
        let places = |code: &str| CurrencyCode::parse(code).unwrap().minor_units();
        assert_eq!((places("EUR"), places("JPY"), places("BHD")), (2, 0, 3));
        assert_eq!(a("-1.005").floor_dp(2), a("-1.01"));
        assert_eq!(a("1.009").floor_dp(2), a("1"));
        assert_eq!(a("12.34").units(2), Some(1234));
        assert_eq!(Amount::from_units(-5, 2), a("-0.05"));
    }

    #[test]
    fn a_line_belongs_to_the_most_specific_scope_that_holds_it() {
        let scope = |kind, value: &str| Scope {
            kind,
            value: value.to_owned(),
        };
        let label_deal = [scope(ScopeKind::Label, "Velvet Records")];
        let artist_deal = [scope(ScopeKind::Artist, "Ana  Lima")];
        let single = [scope(ScopeKind::Track, "GBAAA2400001")];
        let other_single = [scope(ScopeKind::Track, "GBAAA2400001")];
        let index = ScopeIndex::new([
            (1, &label_deal[..]),
            (2, &artist_deal[..]),
            (3, &single[..]),
        ]);
        let ana = Covered {
            isrc: Some("GBAAA2400002"),
            upc: Some("5012345678900"),
            artist: Some("ana lima"),
            label: Some("VELVET records"),
        };
        assert_eq!(
            index.claim(ana),
            Claim::Contract(2),
            "the artist before the label"
        );
        let hit = Covered {
            isrc: Some("GBAAA2400001"),
            ..ana
        };
        assert_eq!(
            index.claim(hit),
            Claim::Contract(3),
            "the track before the artist"
        );
        let someone = Covered {
            isrc: None,
            upc: None,
            artist: Some("Someone"),
            label: Some("Velvet Records"),
        };
        assert_eq!(index.claim(someone), Claim::Contract(1));
        assert_eq!(index.claim(Covered::default()), Claim::Unclaimed);
        // Two contracts on one track: an error, counted for neither.
        let clash = ScopeIndex::new([
            (3, &single[..]),
            (4, &other_single[..]),
            (2, &artist_deal[..]),
        ]);
        assert_eq!(
            clash.claim(hit),
            Claim::Conflict(ScopeKind::Track, vec![3, 4])
        );
    }

    #[test]
    fn a_line_is_priced_by_its_contract_in_the_contracts_currency() {
        let contract = |currency: &str, terms: Vec<Term>| ContractTerms {
            currency: currency.to_owned(),
            min_payout: Amount::ZERO,
            payees: vec![PayeeShare {
                payee: 1,
                share: Decimal::ONE,
            }],
            scope: vec![Scope {
                kind: ScopeKind::Artist,
                value: "Ana".to_owned(),
            }],
            terms,
        };
        let in_gbp = contract(
            "GBP",
            vec![term(&[], &[], "0.5"), term(&["Spotify"], &["GB"], "0.2")],
        );
        let in_usd = contract("USD", vec![term(&["Deezer"], &[], "0.1")]);
        let scope_of = |c: &ContractTerms| c.scope.clone();
        let (gbp_scope, usd_scope) = (scope_of(&in_gbp), scope_of(&in_usd));
        let scopes = ScopeIndex::new([(7, &gbp_scope[..])]);
        let contracts = std::collections::BTreeMap::from([(7, in_gbp), (8, in_usd)]);
        let line = PricedLine {
            covered: Covered {
                artist: Some("ana"),
                ..Covered::default()
            },
            matched: true,
            dsp: "Spotify",
            territory: "GB",
            sale_type: "stream",
            net: a("2.5"),
            gross: None,
            currency: "GBP",
            rate: d("1.25"),
            base_currency: "USD",
        };
        // In the contract's currency: 0.2 of 2.5 GBP.
        assert_eq!(
            price(&line, &scopes, &contracts),
            Priced::Royalty {
                contract: 7,
                term: 1,
                royalty: a("0.5")
            }
        );
        // Elsewhere, the contract's general rate.
        let fr = PricedLine {
            territory: "FR",
            ..line
        };
        assert_eq!(
            price(&fr, &scopes, &contracts),
            Priced::Royalty {
                contract: 7,
                term: 0,
                royalty: a("1.25")
            }
        );
        // A contract in the base currency: at the rate of the import.
        let scopes_usd = ScopeIndex::new([(8, &usd_scope[..])]);
        let deezer = PricedLine {
            dsp: "Deezer",
            ..line
        };
        assert_eq!(
            price(&deezer, &scopes_usd, &contracts),
            Priced::Royalty {
                contract: 8,
                term: 0,
                royalty: a("0.3125")
            },
            "0.1 of 2.5 GBP is 0.25 GBP, at 1.25 is 0.3125 USD"
        );
        assert_eq!(
            price(&line, &scopes_usd, &contracts),
            Priced::NoTerm {
                contract: 8,
                revenue: a("3.125")
            }
        );
        let euro_line = PricedLine {
            currency: "EUR",
            base_currency: "CHF",
            ..deezer
        };
        assert_eq!(
            price(&euro_line, &scopes_usd, &contracts),
            Priced::NoRate {
                contract: 8,
                revenue: a("3.125")
            }
        );
        // Not matched to the catalog: said, never counted.
        let unmatched = PricedLine {
            matched: false,
            ..line
        };
        assert_eq!(
            price(&unmatched, &scopes, &contracts),
            Priced::Unattributed {
                contract: 7,
                revenue: a("3.125")
            }
        );
        let stranger = PricedLine {
            covered: Covered {
                artist: Some("Bea"),
                ..Covered::default()
            },
            ..line
        };
        assert_eq!(price(&stranger, &scopes, &contracts), Priced::Outside);
    }
}
