//! A catalog audit: the catalog checked on its own (an ISRC on two tracks,
//! a GTIN on two releases, tracks without an ISRC or a release, releases
//! without a valid UPC) and against the usage of a period (recordings it
//! does not account for, one ISRC reported under several titles or
//! artists, one UPC under several release titles, recordings the stores
//! name otherwise than the catalog, identifiers that fail their check,
//! tracks nobody played). The findings are written as a gzipped CSV file,
//! the most severe and the most money first.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::path::Path;

use oas_db::catalog::{AuditRelease, AuditTrack, UsageFilter, UsageRow};
use oas_domain::job::contract::catalogue_matching::{AuditParams, CatalogAudited};
use oas_domain::job::{FailureCode, Job};
use oas_domain::money::Amount;
use oas_platform::config::Settings;
use oas_platform::module::Failure;
use oas_platform::storage::{AnyStorage, ObjectKey, ObjectStore};
use oas_sales::cells::text;
use oas_sales::names;

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Money is not accounted for, or two tracks claim one recording.
    Error,
    /// Something to correct before the next statement.
    Warning,
    /// Worth knowing.
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// The kinds of finding, in the order the counts list them.
pub const KINDS: [&str; 12] = [
    "unmatched_usage",
    "review_usage",
    "duplicate_isrc",
    "duplicate_gtin",
    "isrc_names_differ",
    "upc_titles_differ",
    "metadata_differs",
    "invalid_identifier",
    "track_without_isrc",
    "release_without_upc",
    "track_without_release",
    "track_without_usage",
];

/// One finding, as a row of the findings file.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub kind: &'static str,
    pub severity: Severity,
    pub track_id: Option<i64>,
    pub release_id: Option<i64>,
    pub isrc: String,
    pub upc: String,
    pub artist: String,
    pub title: String,
    pub files: u64,
    pub lines: i64,
    pub revenue: Amount,
    pub detail: String,
}

impl Finding {
    fn of_track(
        kind: &'static str,
        severity: Severity,
        track: &AuditTrack,
        detail: String,
    ) -> Self {
        Finding {
            kind,
            severity,
            track_id: Some(track.id),
            release_id: track.release_id,
            isrc: track.isrc.clone().unwrap_or_default(),
            upc: String::new(),
            artist: track.artist.clone(),
            title: track.title.clone(),
            files: 0,
            lines: 0,
            revenue: Amount::ZERO,
            detail,
        }
    }
}

/// Usage gathered by recording (and, for a matched one, by track).
#[derive(Debug, Clone)]
struct Gathered {
    top: UsageRow,
    files: BTreeSet<i64>,
    lines: i64,
    revenue: Amount,
    review: bool,
}

fn gather<'a>(
    rows: impl Iterator<Item = &'a UsageRow>,
    key: impl Fn(&UsageRow) -> String,
) -> Result<Vec<Gathered>, String> {
    let mut at: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<Gathered> = Vec::new();
    for row in rows {
        let revenue = Amount::parse(&row.revenue)
            .map_err(|_| format!("usage item {} has no exact revenue", row.id))?;
        let index = *at.entry(key(row)).or_insert_with(|| {
            groups.push(Gathered {
                top: row.clone(),
                files: BTreeSet::new(),
                lines: 0,
                revenue: Amount::ZERO,
                review: false,
            });
            groups.len() - 1
        });
        let group = &mut groups[index];
        group.files.insert(row.file_id);
        group.lines += row.lines;
        group.revenue = group
            .revenue
            .checked_add(revenue)
            .ok_or("the revenue overflows")?;
        group.review |= row.status == "review";
    }
    Ok(groups)
}

/// The findings of a catalog and a period's usage, the most severe and
/// the most money first; and the revenue the catalog does not account
/// for.
pub fn findings(
    tracks: &[AuditTrack],
    releases: &[AuditRelease],
    usage: &[UsageRow],
) -> Result<(Vec<Finding>, Amount), String> {
    let mut found = Vec::new();
    let track_by_id: HashMap<i64, &AuditTrack> = tracks.iter().map(|t| (t.id, t)).collect();

    // Usage the catalog does not account for, by recording across files.
    let waiting = gather(
        // An item a rule says never to match is decided, not at stake.
        usage
            .iter()
            .filter(|u| u.status != "matched" && u.match_type.as_deref() != Some("rule")),
        |u| {
            format!(
                "{}\u{1f}{}\u{1f}{}\u{1f}{}",
                u.artist_key, u.title_key, u.isrc_key, u.gtin_key
            )
        },
    )?;
    let mut at_stake = Amount::ZERO;
    for group in waiting {
        at_stake = at_stake
            .checked_add(group.revenue)
            .ok_or("the revenue overflows")?;
        let (kind, severity, detail) = if group.review {
            (
                "review_usage",
                Severity::Warning,
                format!("Waiting for review: {}", group.top.reason),
            )
        } else {
            ("unmatched_usage", Severity::Error, group.top.reason.clone())
        };
        found.push(Finding {
            kind,
            severity,
            track_id: None,
            release_id: None,
            isrc: group.top.isrc.clone(),
            upc: group.top.upc.clone(),
            artist: group.top.artist.clone(),
            title: group.top.track_title.clone(),
            files: group.files.len() as u64,
            lines: group.lines,
            revenue: group.revenue,
            detail,
        });
    }

    // Matched by ISRC, but the stores name it otherwise.
    let by_isrc = usage
        .iter()
        .filter(|u| u.status == "matched" && u.match_type.as_deref() == Some("isrc"));
    let differing = gather(
        by_isrc.filter(|u| {
            u.track_id
                .and_then(|id| track_by_id.get(&id))
                .is_some_and(|t| {
                    names::title(&u.track_title).base != names::title(&t.title).base
                        || names::artists(&u.artist).key != names::artists(&t.artist).key
                })
        }),
        |u| {
            format!(
                "{}\u{1f}{}\u{1f}{}",
                u.track_id.unwrap_or_default(),
                u.artist_key,
                u.title_key
            )
        },
    )?;
    for group in differing {
        let Some(track) = group.top.track_id.and_then(|id| track_by_id.get(&id)) else {
            continue;
        };
        let mut finding = Finding::of_track(
            "metadata_differs",
            Severity::Warning,
            track,
            format!(
                "Reported as \"{}\" by {} under the track's ISRC; the catalog says \"{}\" by {}.",
                group.top.track_title, group.top.artist, track.title, track.artist
            ),
        );
        finding.upc = group.top.upc.clone();
        finding.files = group.files.len() as u64;
        finding.lines = group.lines;
        finding.revenue = group.revenue;
        found.push(finding);
    }

    // One ISRC reported under several recordings' names, one UPC under
    // several release titles, and identifiers that fail their check.
    // By identifier: the distinct names seen, and the rows.
    type Seen<'a, N> = BTreeMap<&'a str, (BTreeSet<N>, Vec<&'a UsageRow>)>;
    let mut names_by_isrc: Seen<(String, String)> = BTreeMap::new();
    let mut titles_by_gtin: Seen<String> = BTreeMap::new();
    let mut invalid: BTreeMap<(&str, &str), Vec<&UsageRow>> = BTreeMap::new();
    for row in usage {
        if !row.isrc_key.is_empty() {
            let entry = names_by_isrc.entry(&row.isrc_key).or_default();
            entry.0.insert((
                names::title(&row.track_title).base,
                names::artists(&row.artist).key,
            ));
            entry.1.push(row);
        } else if !row.isrc.trim().is_empty() {
            invalid
                .entry(("ISRC", row.isrc.trim()))
                .or_default()
                .push(row);
        }
        if !row.gtin_key.is_empty() {
            let entry = titles_by_gtin.entry(&row.gtin_key).or_default();
            let title = names::fold(&row.release_title);
            if !title.is_empty() {
                entry.0.insert(title);
            }
            entry.1.push(row);
        } else if !row.upc.trim().is_empty() {
            invalid
                .entry(("UPC", row.upc.trim()))
                .or_default()
                .push(row);
        }
    }
    let sum = |rows: &[&UsageRow]| -> Result<(u64, i64, Amount), String> {
        let files: BTreeSet<i64> = rows.iter().map(|r| r.file_id).collect();
        let mut revenue = Amount::ZERO;
        for row in rows {
            revenue = revenue
                .checked_add(
                    Amount::parse(&row.revenue)
                        .map_err(|_| format!("usage item {} has no exact revenue", row.id))?,
                )
                .ok_or("the revenue overflows")?;
        }
        Ok((
            files.len() as u64,
            rows.iter().map(|r| r.lines).sum(),
            revenue,
        ))
    };
    let spellings = |rows: &[&UsageRow], of: &dyn Fn(&UsageRow) -> String| -> String {
        let mut seen: Vec<String> = Vec::new();
        for row in rows {
            let spelling = of(row);
            if !seen.contains(&spelling) {
                seen.push(spelling);
            }
        }
        let more = seen.len().saturating_sub(3);
        let mut text = seen.into_iter().take(3).collect::<Vec<_>>().join("; ");
        if more > 0 {
            text.push_str(&format!("; and {more} more"));
        }
        text
    };
    for (isrc, (names_seen, rows)) in &names_by_isrc {
        if names_seen.len() < 2 {
            continue;
        }
        let (files, lines, revenue) = sum(rows)?;
        let top = rows[0];
        found.push(Finding {
            kind: "isrc_names_differ",
            severity: Severity::Warning,
            track_id: rows.iter().find_map(|r| r.track_id),
            release_id: None,
            isrc: (*isrc).to_owned(),
            upc: String::new(),
            artist: top.artist.clone(),
            title: top.track_title.clone(),
            files,
            lines,
            revenue,
            detail: format!(
                "ISRC {isrc} is reported as {} recordings: {}.",
                names_seen.len(),
                spellings(rows, &|r| format!("\"{}\" by {}", r.track_title, r.artist))
            ),
        });
    }
    for (gtin, (titles, rows)) in &titles_by_gtin {
        if titles.len() < 2 {
            continue;
        }
        let (files, lines, revenue) = sum(rows)?;
        let top = rows[0];
        found.push(Finding {
            kind: "upc_titles_differ",
            severity: Severity::Warning,
            track_id: None,
            release_id: None,
            isrc: String::new(),
            upc: top.upc.clone(),
            artist: top.artist.clone(),
            title: top.release_title.clone(),
            files,
            lines,
            revenue,
            detail: format!(
                "UPC/EAN {gtin} (GTIN-14) is reported under {} release titles: {}.",
                titles.len(),
                spellings(
                    &rows
                        .iter()
                        .copied()
                        .filter(|r| !r.release_title.trim().is_empty())
                        .collect::<Vec<_>>(),
                    &|r| format!("\"{}\"", r.release_title)
                )
            ),
        });
    }
    for ((scheme, raw), rows) in &invalid {
        let (files, lines, revenue) = sum(rows)?;
        let top = rows[0];
        let (isrc, upc, why) = if *scheme == "ISRC" {
            (
                (*raw).to_owned(),
                String::new(),
                "is not of the form CC-XXX-YY-NNNNN",
            )
        } else {
            (
                String::new(),
                (*raw).to_owned(),
                "fails its check digit or is not 8 to 14 digits",
            )
        };
        found.push(Finding {
            kind: "invalid_identifier",
            severity: Severity::Warning,
            track_id: None,
            release_id: None,
            isrc,
            upc,
            artist: top.artist.clone(),
            title: top.track_title.clone(),
            files,
            lines,
            revenue,
            detail: format!(
                "The reports give {scheme} {raw:?}, which {why}: matching cannot use it."
            ),
        });
    }

    // An ISRC on more than one track.
    let mut by_code: BTreeMap<&str, Vec<&AuditTrack>> = BTreeMap::new();
    for track in tracks {
        if let Some(isrc) = track.isrc.as_deref().filter(|i| !i.is_empty()) {
            by_code.entry(isrc).or_default().push(track);
        }
    }
    for (isrc, same) in by_code.iter().filter(|(_, same)| same.len() > 1) {
        let ids: Vec<String> = same.iter().map(|t| t.id.to_string()).collect();
        for track in same {
            found.push(Finding::of_track(
                "duplicate_isrc",
                Severity::Error,
                track,
                format!(
                    "ISRC {isrc} is on tracks {}: matching cannot tell them apart.",
                    ids.join(", ")
                ),
            ));
        }
    }

    // The catalog on its own.
    for track in tracks {
        if track.isrc.as_deref().is_none_or(str::is_empty) {
            found.push(Finding::of_track(
                "track_without_isrc",
                Severity::Warning,
                track,
                "No ISRC: only its artist and title can match it.".into(),
            ));
        }
        if track.release_id.is_none() {
            found.push(Finding::of_track(
                "track_without_release",
                Severity::Info,
                track,
                "On no release: a UPC in the reports cannot confirm it.".into(),
            ));
        }
    }
    let mut by_gtin: BTreeMap<&str, Vec<&AuditRelease>> = BTreeMap::new();
    for release in releases {
        if let Some(gtin) = release.gtin.as_deref() {
            by_gtin.entry(gtin).or_default().push(release);
        }
    }
    for (gtin, same) in by_gtin.iter().filter(|(_, same)| same.len() > 1) {
        let ids: Vec<String> = same.iter().map(|r| r.id.to_string()).collect();
        for release in same {
            found.push(Finding {
                kind: "duplicate_gtin",
                severity: Severity::Error,
                track_id: None,
                release_id: Some(release.id),
                isrc: String::new(),
                upc: release.upc.clone().unwrap_or_default(),
                artist: release.artist.clone(),
                title: release.title.clone(),
                files: 0,
                lines: 0,
                revenue: Amount::ZERO,
                detail: format!(
                    "GTIN {gtin} is on releases {}: a UPC in the reports cannot tell them apart.",
                    ids.join(", ")
                ),
            });
        }
    }
    for release in releases {
        if let (None, Some(upc)) = (
            &release.gtin,
            release.upc.as_deref().filter(|u| !u.is_empty()),
        ) {
            found.push(Finding {
                kind: "invalid_identifier",
                severity: Severity::Warning,
                track_id: None,
                release_id: Some(release.id),
                isrc: String::new(),
                upc: upc.to_owned(),
                artist: release.artist.clone(),
                title: release.title.clone(),
                files: 0,
                lines: 0,
                revenue: Amount::ZERO,
                detail: format!("The release's UPC/EAN {upc:?} fails its check digit."),
            });
        } else if release.gtin.is_none() {
            found.push(Finding {
                kind: "release_without_upc",
                severity: Severity::Warning,
                track_id: None,
                release_id: Some(release.id),
                isrc: String::new(),
                upc: release.upc.clone().unwrap_or_default(),
                artist: release.artist.clone(),
                title: release.title.clone(),
                files: 0,
                lines: 0,
                revenue: Amount::ZERO,
                detail: "No UPC or EAN: its tracks match by ISRC or name only.".into(),
            });
        }
    }

    // Tracks nobody played in the period (when the period has usage).
    if !usage.is_empty() {
        let played: BTreeSet<i64> = usage.iter().filter_map(|u| u.track_id).collect();
        for track in tracks.iter().filter(|t| !played.contains(&t.id)) {
            found.push(Finding::of_track(
                "track_without_usage",
                Severity::Info,
                track,
                "No usage in the period's files.".into(),
            ));
        }
    }

    found.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then(b.revenue.cmp(&a.revenue))
            .then(a.kind.cmp(b.kind))
            .then(a.track_id.cmp(&b.track_id))
            .then(a.release_id.cmp(&b.release_id))
    });
    Ok((found, at_stake))
}

/// The findings file's columns.
pub const COLUMNS: [&str; 12] = [
    "finding",
    "severity",
    "track_id",
    "release_id",
    "isrc",
    "upc",
    "artist",
    "title",
    "files",
    "lines",
    "revenue",
    "detail",
];

/// Writes `findings` as CSV, gzipped, to `path`; no text cell can run as
/// a spreadsheet formula.
pub fn write(findings: &[Finding], path: &Path) -> std::io::Result<()> {
    let file = std::fs::File::create(path)?;
    let gzip = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    let mut out = csv::Writer::from_writer(gzip);
    out.write_record(COLUMNS)?;
    let id = |id: Option<i64>| id.map(|i| i.to_string()).unwrap_or_default();
    for f in findings {
        out.write_record([
            f.kind,
            f.severity.as_str(),
            &id(f.track_id),
            &id(f.release_id),
            &text(&f.isrc),
            &text(&f.upc),
            &text(&f.artist),
            &text(&f.title),
            &f.files.to_string(),
            &f.lines.to_string(),
            &f.revenue.to_string(),
            &text(&f.detail),
        ])?;
    }
    let gzip = out.into_inner().map_err(|e| e.into_error())?;
    gzip.finish()?.flush()
}

fn failure(code: FailureCode, what: &str, error: impl std::fmt::Display) -> Failure {
    Failure::new(code, format!("{what}: {error}"))
}

/// The `audit_catalog` action.
pub async fn run(job: &Job, settings: &Settings) -> Result<CatalogAudited, Failure> {
    let params: AuditParams = serde_json::from_value(job.params.clone())
        .map_err(|e| failure(FailureCode::InvalidParams, "params", e))?;
    let target = ObjectKey::parse(&params.target)
        .map_err(|e| failure(FailureCode::InvalidParams, "target", e))?;
    let org_id = job.org_id;
    let filter = UsageFilter {
        period_from: params.period_from.clone(),
        period_to: params.period_to.clone(),
        statuses: Vec::new(),
    };
    let ((tracks, releases), usage) = super::database(settings)?
        .run(move |conn| {
            Ok::<_, oas_db::DbError>((
                oas_db::catalog::for_audit(conn, org_id)?,
                oas_db::catalog::usage(conn, org_id, &filter)?,
            ))
        })
        .await
        .map_err(|e| failure(FailureCode::Internal, "reading the catalog", e))?;
    let work =
        tempfile::tempdir().map_err(|e| failure(FailureCode::Internal, "temporary folder", e))?;
    let path = work.path().join("findings.csv.gz");
    let written = path.clone();
    let (found, at_stake) = tokio::task::spawn_blocking(move || {
        let (found, at_stake) = findings(&tracks, &releases, &usage)
            .map_err(|e| failure(FailureCode::Internal, "auditing", e))?;
        write(&found, &written).map_err(|e| failure(FailureCode::Internal, "writing", e))?;
        Ok::<_, Failure>((found, at_stake))
    })
    .await
    .map_err(|e| failure(FailureCode::Internal, "auditing", e))??;
    let storage = AnyStorage::for_module(settings)
        .await
        .map_err(|e| failure(FailureCode::Internal, "storage", e))?;
    storage
        .put_file(&target, &path)
        .await
        .map_err(|e| failure(FailureCode::Internal, "storing the findings", e))?;
    let mut counts: BTreeMap<String, u64> = KINDS.iter().map(|k| ((*k).to_owned(), 0)).collect();
    for finding in &found {
        *counts.entry(finding.kind.to_owned()).or_insert(0) += 1;
    }
    tracing::info!(findings = found.len(), "catalog audited");
    Ok(CatalogAudited {
        counts,
        findings: found.len() as u64,
        key: target.as_str().to_owned(),
        revenue_at_stake: at_stake,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(
        id: i64,
        isrc: Option<&str>,
        title: &str,
        artist: &str,
        release: Option<i64>,
    ) -> AuditTrack {
        AuditTrack {
            id,
            isrc: isrc.map(str::to_owned),
            title: title.into(),
            version: None,
            artist: artist.into(),
            release_id: release,
        }
    }

    fn usage(
        id: i64,
        file: i64,
        (artist, title, isrc): (&str, &str, &str),
        revenue: &str,
        status: &str,
        track: Option<i64>,
    ) -> UsageRow {
        let key = oas_sales::names::ItemKey::new(artist, title, Some(isrc), None);
        UsageRow {
            id,
            file_id: file,
            artist: artist.into(),
            track_title: title.into(),
            release_title: String::new(),
            isrc: isrc.into(),
            upc: String::new(),
            artist_key: key.artist,
            title_key: key.title,
            isrc_key: key.isrc,
            gtin_key: key.gtin,
            lines: 2,
            quantity: 2,
            revenue: revenue.into(),
            status: status.into(),
            match_type: track.map(|_| "isrc".to_owned()),
            track_id: track,
            candidates: "[]".into(),
            reason: "No track with this ISRC, UPC or name.".into(),
        }
    }

    #[test]
    fn finds_each_kind_and_sums_what_is_at_stake_exactly() {
        let tracks = vec![
            track(1, Some("USRC17607839"), "Song", "Artist", Some(10)),
            track(2, Some("USRC17607839"), "Song (Copy)", "Artist", Some(10)),
            track(3, None, "Quiet", "Artist", None),
            track(
                4,
                Some("GBAYE0601690"),
                "Here Comes the Sun",
                "The Beatles",
                Some(11),
            ),
        ];
        let releases = vec![
            AuditRelease {
                id: 10,
                upc: Some("602547202840".into()),
                gtin: Some("00602547202840".into()),
                title: "Album".into(),
                artist: "Artist".into(),
            },
            AuditRelease {
                id: 11,
                upc: Some("123".into()),
                gtin: None,
                title: "Abbey Road".into(),
                artist: "The Beatles".into(),
            },
        ];
        let usage = vec![
            usage(100, 1, ("Nobody", "Lost", ""), "0.1", "unmatched", None),
            usage(101, 2, ("nobody", "LOST", ""), "0.2", "unmatched", None),
            usage(102, 2, ("Some", "Close", ""), "5", "review", None),
            usage(
                103,
                1,
                ("Beatles", "Sun Song", "GBAYE0601690"),
                "1.5",
                "matched",
                Some(4),
            ),
            usage(
                104,
                1,
                ("The Beatles", "Here Comes The Sun", "GBAYE0601690"),
                "3",
                "matched",
                Some(4),
            ),
        ];
        let (found, at_stake) = findings(&tracks, &releases, &usage).unwrap();
        assert_eq!(at_stake.to_string(), "5.3");
        let kinds: Vec<&str> = found.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            [
                "unmatched_usage",
                "duplicate_isrc",
                "duplicate_isrc",
                "review_usage",
                "isrc_names_differ",
                "metadata_differs",
                "invalid_identifier",
                "track_without_isrc",
                "track_without_release",
                "track_without_usage",
                "track_without_usage",
                "track_without_usage",
            ]
        );
        let lost = &found[0];
        assert_eq!(
            (lost.files, lost.lines, lost.revenue.to_string()),
            (2, 4, "0.3".to_owned())
        );
        let differs = found.iter().find(|f| f.kind == "metadata_differs").unwrap();
        assert_eq!(differs.track_id, Some(4));
        assert!(differs.detail.contains("Sun Song"), "{}", differs.detail);
        let unplayed: Vec<Option<i64>> = found
            .iter()
            .filter(|f| f.kind == "track_without_usage")
            .map(|f| f.track_id)
            .collect();
        assert_eq!(unplayed, [Some(1), Some(2), Some(3)]);
    }

    #[test]
    fn identifiers_named_twice_or_failing_their_check_are_found() {
        let releases: Vec<AuditRelease> = [(1, "602547202840"), (2, "0602547202840")]
            .into_iter()
            .map(|(id, upc)| AuditRelease {
                id,
                upc: Some(upc.into()),
                gtin: oas_sales::ids::gtin14(upc),
                title: format!("Album {id}"),
                artist: "Artist".into(),
            })
            .collect();
        let mut rows = vec![
            usage(1, 1, ("Artist", "Song", ""), "1", "matched", None),
            usage(2, 2, ("Artist", "Song", ""), "2", "matched", None),
            usage(3, 1, ("Artist", "Other", "XX-1"), "0.5", "unmatched", None),
        ];
        for (row, release) in rows.iter_mut().zip(["Album", "Album (Deluxe)"]) {
            row.upc = "602547202840".into();
            row.gtin_key = oas_sales::ids::gtin14("602547202840").unwrap();
            row.release_title = release.into();
        }
        let (found, _) = findings(&[], &releases, &rows).unwrap();
        let of = |kind: &str| found.iter().filter(|f| f.kind == kind).collect::<Vec<_>>();
        assert_eq!(of("duplicate_gtin").len(), 2, "{found:?}");
        let titles = of("upc_titles_differ");
        assert_eq!(titles.len(), 1, "{found:?}");
        assert_eq!(
            (titles[0].files, titles[0].revenue.to_string()),
            (2, "3".to_owned())
        );
        assert!(
            titles[0].detail.contains("\"Album (Deluxe)\""),
            "{}",
            titles[0].detail
        );
        let invalid = of("invalid_identifier");
        assert_eq!(invalid.len(), 1, "{found:?}");
        assert_eq!(
            (invalid[0].isrc.as_str(), invalid[0].revenue.to_string()),
            ("XX-1", "0.5".to_owned())
        );
    }

    #[test]
    fn the_file_reads_back_as_csv() {
        let tracks = vec![track(3, None, "Quiet, \"Very\"", "Artist", None)];
        let (found, _) = findings(&tracks, &[], &[]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.csv.gz");
        write(&found, &path).unwrap();
        let gz = flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap());
        let mut reader = csv::Reader::from_reader(gz);
        assert_eq!(
            reader.headers().unwrap().iter().collect::<Vec<_>>(),
            COLUMNS
        );
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[0][0], "track_without_isrc");
        assert_eq!(&rows[0][7], "Quiet, \"Very\"");
        assert_eq!(&rows[1][0], "track_without_release");
    }
}
