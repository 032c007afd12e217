//! The matching cascade: each usage item against the organisation's
//! catalog, first hit wins.
//!
//! 1. a remembered rule, one scoped to the item's source before one for
//!    the whole organisation;
//! 2. the ISRC (an ISRC on two catalog tracks is an ambiguity, for review);
//! 3. the release's GTIN-14 and the title within it, then the catalog
//!    number and the title;
//! 4. the exact folded artist and title;
//! 5. fuzzy title and artist over candidates from a token index, accepted
//!    at or above the `accept` threshold with a margin over the runner-up,
//!    for review from `review` up, unmatched below.
//!
//! A version that differs (a live line against the studio recording) is
//! never matched automatically at any text stage: a different version is a
//! different recording. Every outcome says why, in words an operator reads.

use std::cell::RefCell;
use std::collections::HashMap;

use foldhash::fast::RandomState;
use oas_sales::ids;
use oas_sales::names::{self, Artists, ItemKey, Tags, Title};
use rapidfuzz::distance::levenshtein::BatchComparator;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

type Map<K, V> = HashMap<K, V, RandomState>;

/// The organisation's thresholds (`matching: {accept, review}`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    pub accept: f64,
    pub review: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            accept: 0.92,
            review: 0.75,
        }
    }
}

/// How far the best fuzzy candidate must lead the runner-up (another
/// recording) to be accepted automatically.
pub const MARGIN: f64 = 0.04;

/// Candidates a fuzzy search scores: the tracks sharing the most of the
/// item's words, rarer words counting more.
const SCORED: usize = 48;

/// Tracks a fuzzy search takes its candidates from: those of the item's two
/// rarest words, and of the next ones while they fit (a typing error in one
/// word leaves the other); commoner words only add weight to them.
const MAX_POSTINGS: usize = 2_000;

/// Candidates an outcome lists.
const LISTED: usize = 3;

/// A catalog track, as the matcher needs it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CatalogTrack {
    pub id: i64,
    pub isrc: Option<String>,
    pub title: String,
    pub version: Option<String>,
    pub artist: String,
    /// The release's GTIN-14.
    pub gtin: Option<String>,
    pub catalog_number: Option<String>,
}

/// A usage item: what a file's lines say of one recording.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub artist: String,
    pub track_title: String,
    pub release_title: String,
    pub isrc: String,
    pub upc: String,
    pub catalog_number: String,
}

/// A remembered correction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub id: i64,
    pub key: ItemKey,
    /// `None`: never match the item.
    pub track_id: Option<i64>,
    /// The source (the report format) it is scoped to; `None` for the
    /// whole organisation.
    pub source: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchType {
    Rule,
    Isrc,
    UpcTitle,
    CatalogNumber,
    ExactText,
    Fuzzy,
}

impl MatchType {
    pub const ALL: [MatchType; 6] = [
        MatchType::Rule,
        MatchType::Isrc,
        MatchType::UpcTitle,
        MatchType::CatalogNumber,
        MatchType::ExactText,
        MatchType::Fuzzy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MatchType::Rule => "rule",
            MatchType::Isrc => "isrc",
            MatchType::UpcTitle => "upc_title",
            MatchType::CatalogNumber => "catalog_number",
            MatchType::ExactText => "exact_text",
            MatchType::Fuzzy => "fuzzy",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Matched,
    Review,
    Unmatched,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Matched => "matched",
            Status::Review => "review",
            Status::Unmatched => "unmatched",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub track_id: i64,
    pub score: f64,
}

/// What the cascade decided for one item, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub status: Status,
    /// The stage that decided (none when nothing came close).
    pub match_type: Option<MatchType>,
    pub confidence: f64,
    pub track_id: Option<i64>,
    pub candidates: Vec<Candidate>,
    pub reason: String,
    /// The rule that decided, if one did.
    pub rule_id: Option<i64>,
}

/// A catalog track read for matching.
struct Entry {
    id: i64,
    isrc: Option<String>,
    title: Title,
    artists: Artists,
    /// The title's and artist's words sorted, for reordered words.
    sorted: Sorted,
    /// Title and artist as the catalog writes them, for reasons.
    display: String,
}

/// A title's and an artist key's words in alphabetical order.
struct Sorted {
    title: String,
    artist: String,
}

impl Sorted {
    fn of(title: &Title, artists: &Artists) -> Sorted {
        Sorted {
            title: sorted_words(&title.base),
            artist: sorted_words(&artists.key),
        }
    }
}

/// The catalog indexed for the cascade.
pub struct Index {
    entries: Vec<Entry>,
    by_id: Map<i64, u32>,
    by_isrc: Map<String, Vec<u32>>,
    by_gtin: Map<String, Vec<u32>>,
    by_catalog_number: Map<String, Vec<u32>>,
    by_text: Map<(String, String), Vec<u32>>,
    title_words: Map<String, Vec<u32>>,
    artist_words: Map<String, Vec<u32>>,
    rules: Map<(String, String), Vec<Rule>>,
    thresholds: Thresholds,
}

/// Adds a track to a word's list.
fn post(words: &mut Map<String, Vec<u32>>, word: &str, at: u32) {
    match words.get_mut(word) {
        Some(list) => list.push(at),
        None => {
            words.insert(word.to_owned(), vec![at]);
        }
    }
}

/// A catalog number as a key: folded, without spaces.
fn catalog_number_key(raw: &str) -> String {
    names::fold(raw).replace(' ', "")
}

impl Index {
    pub fn new(tracks: &[CatalogTrack], rules: Vec<Rule>, thresholds: Thresholds) -> Index {
        let mut index = Index {
            entries: Vec::with_capacity(tracks.len()),
            by_id: Map::default(),
            by_isrc: Map::default(),
            by_gtin: Map::default(),
            by_catalog_number: Map::default(),
            by_text: Map::default(),
            title_words: Map::default(),
            artist_words: Map::default(),
            rules: Map::default(),
            thresholds,
        };
        // Each track is read on every core, then indexed in order.
        let read: Vec<(Entry, Option<String>, Option<String>)> = tracks
            .par_iter()
            .map(|track| {
                let mut title = names::title(&track.title);
                if let Some(version) = &track.version {
                    title.tags |= Tags::of(&names::fold(version));
                }
                let artists = names::artists(&track.artist);
                let display = match &track.version {
                    Some(version) if !version.is_empty() => {
                        format!("\"{} ({version})\" by {}", track.title, track.artist)
                    }
                    _ => format!("\"{}\" by {}", track.title, track.artist),
                };
                let entry = Entry {
                    id: track.id,
                    isrc: track.isrc.as_deref().and_then(ids::isrc),
                    sorted: Sorted::of(&title, &artists),
                    title,
                    artists,
                    display,
                };
                let gtin = track.gtin.as_deref().and_then(ids::gtin14);
                let number = track
                    .catalog_number
                    .as_deref()
                    .map(catalog_number_key)
                    .filter(|key| !key.is_empty());
                (entry, gtin, number)
            })
            .collect();
        for (entry, gtin, number) in read {
            let at = index.entries.len() as u32;
            if let Some(isrc) = &entry.isrc {
                index.by_isrc.entry(isrc.clone()).or_default().push(at);
            }
            if let Some(gtin) = gtin {
                index.by_gtin.entry(gtin).or_default().push(at);
            }
            if let Some(number) = number {
                index.by_catalog_number.entry(number).or_default().push(at);
            }
            index
                .by_text
                .entry((entry.artists.key.clone(), entry.title.base.clone()))
                .or_default()
                .push(at);
            for word in distinct_words(&entry.title.base) {
                post(&mut index.title_words, word, at);
            }
            for word in distinct_words(&entry.artists.key) {
                post(&mut index.artist_words, word, at);
            }
            index.by_id.insert(entry.id, at);
            index.entries.push(entry);
        }
        for rule in rules {
            index
                .rules
                .entry((rule.key.artist.clone(), rule.key.title.clone()))
                .or_default()
                .push(rule);
        }
        index
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Matches one item from `source` (its file's report format).
    pub fn match_item(&self, usage: &Usage, source: Option<&str>) -> Outcome {
        let item = Item::read(usage);
        let mut notes: Vec<String> = Vec::new();

        if let Some(outcome) = self.by_rule(&item, source, &mut notes) {
            return outcome;
        }
        if let Some(outcome) = self.by_isrc(&item, &mut notes) {
            return outcome;
        }
        if let Some(outcome) = self.by_release(&item, &mut notes) {
            return outcome;
        }
        if let Some(outcome) = self.by_text(&item, &mut notes) {
            return outcome;
        }
        self.by_fuzzy(&item, notes)
    }

    fn by_rule(
        &self,
        item: &Item,
        source: Option<&str>,
        notes: &mut Vec<String>,
    ) -> Option<Outcome> {
        let rules = self
            .rules
            .get(&(item.key.artist.clone(), item.key.title.clone()))?;
        // The source's own rules first, then the most specific.
        let mut fitting: Vec<&Rule> = rules
            .iter()
            .filter(|r| r.key.covers(&item.key))
            .filter(|r| r.source.is_none() || r.source.as_deref() == source)
            .collect();
        fitting.sort_by_key(|r| {
            (
                r.source.is_none(),
                r.key.isrc.is_empty(),
                r.key.gtin.is_empty(),
                -r.id,
            )
        });
        let rule = fitting.first()?;
        let scope = match &rule.source {
            Some(source) => format!("for {source}"),
            None => "for the organisation".to_owned(),
        };
        match rule.track_id {
            None => Some(Outcome {
                status: Status::Unmatched,
                match_type: Some(MatchType::Rule),
                confidence: 1.0,
                track_id: None,
                candidates: Vec::new(),
                reason: format!("Rule {} ({scope}) says never to match this item.", rule.id),
                rule_id: Some(rule.id),
            }),
            Some(track_id) => match self.by_id.get(&track_id) {
                Some(&at) => Some(Outcome {
                    status: Status::Matched,
                    match_type: Some(MatchType::Rule),
                    confidence: 1.0,
                    track_id: Some(track_id),
                    candidates: Vec::new(),
                    reason: format!(
                        "Rule {} ({scope}) matches this item to {}.",
                        rule.id, self.entries[at as usize].display
                    ),
                    rule_id: Some(rule.id),
                }),
                None => {
                    notes.push(format!(
                        "rule {} names track {track_id}, which is no longer in the catalog",
                        rule.id
                    ));
                    None
                }
            },
        }
    }

    fn by_isrc(&self, item: &Item, notes: &mut Vec<String>) -> Option<Outcome> {
        let isrc = item.isrc.as_deref()?;
        let Some(found) = self.by_isrc.get(isrc) else {
            notes.push(format!("no catalog track has ISRC {isrc}"));
            return None;
        };
        if let [one] = found.as_slice() {
            let entry = &self.entries[*one as usize];
            return Some(Outcome {
                status: Status::Matched,
                match_type: Some(MatchType::Isrc),
                confidence: 1.0,
                track_id: Some(entry.id),
                candidates: Vec::new(),
                reason: format!("ISRC {isrc} is {}.", entry.display),
                rule_id: None,
            });
        }
        Some(self.ambiguity(
            MatchType::Isrc,
            found,
            format!(
                "ISRC {isrc} is on {} catalog tracks: choose one.",
                found.len()
            ),
        ))
    }

    /// The release's tracks (by GTIN, then by catalog number) with the
    /// item's title.
    fn by_release(&self, item: &Item, notes: &mut Vec<String>) -> Option<Outcome> {
        let stages = [
            (
                MatchType::UpcTitle,
                item.gtin.as_deref().map(|g| (g, self.by_gtin.get(g))),
                "UPC",
            ),
            (
                MatchType::CatalogNumber,
                item.catalog_number
                    .as_deref()
                    .map(|c| (c, self.by_catalog_number.get(c))),
                "catalog number",
            ),
        ];
        for (stage, lookup, what) in stages {
            let Some((code, tracks)) = lookup else {
                continue;
            };
            let Some(tracks) = tracks else {
                notes.push(format!("no release has {what} {code}"));
                continue;
            };
            let titled: Vec<u32> = tracks
                .iter()
                .copied()
                .filter(|&at| self.entries[at as usize].title.base == item.title.base)
                .collect();
            if titled.is_empty() {
                notes.push(format!(
                    "the release with {what} {code} has no track titled \"{}\"",
                    item.usage_title
                ));
                continue;
            }
            let fitting = self.same_version(item, &titled);
            match fitting.as_slice() {
                [] => {
                    notes.push(self.other_version(item, titled[0]));
                }
                [one] => {
                    let entry = &self.entries[*one as usize];
                    return Some(Outcome {
                        status: Status::Matched,
                        match_type: Some(stage),
                        confidence: if stage == MatchType::UpcTitle {
                            0.99
                        } else {
                            0.98
                        },
                        track_id: Some(entry.id),
                        candidates: Vec::new(),
                        reason: format!("The release with {what} {code} holds {}.", entry.display),
                        rule_id: None,
                    });
                }
                several => {
                    return Some(self.ambiguity(
                        stage,
                        several,
                        format!(
                            "The release with {what} {code} holds {} tracks titled \"{}\": choose one.",
                            several.len(),
                            item.usage_title
                        ),
                    ));
                }
            }
        }
        None
    }

    fn by_text(&self, item: &Item, notes: &mut Vec<String>) -> Option<Outcome> {
        if item.artists.key.is_empty() || item.title.base.is_empty() {
            notes.push("the line names no artist or no title".to_owned());
            return None;
        }
        let key = (item.artists.key.clone(), item.title.base.clone());
        let found = self.by_text.get(&key)?;
        let fitting = self.same_version(item, found);
        match fitting.as_slice() {
            [] => {
                notes.push(self.other_version(item, found[0]));
                None
            }
            [one] => {
                let entry = &self.entries[*one as usize];
                Some(Outcome {
                    status: Status::Matched,
                    match_type: Some(MatchType::ExactText),
                    confidence: 0.97,
                    track_id: Some(entry.id),
                    candidates: Vec::new(),
                    reason: format!(
                        "Artist and title are those of {} (ignoring case, accents and punctuation).",
                        entry.display
                    ),
                    rule_id: None,
                })
            }
            several => Some(self.ambiguity(
                MatchType::ExactText,
                several,
                format!(
                    "{} catalog tracks have this artist and title: choose one.",
                    several.len()
                ),
            )),
        }
    }

    fn by_fuzzy(&self, item: &Item, mut notes: Vec<String>) -> Outcome {
        let sorted = Sorted::of(&item.title, &item.artists);
        let title = Text::new(&item.title.base, &sorted.title);
        let artist = Text::new(&item.artists.key, &sorted.artist);
        let mut scored: Vec<(f64, u32)> = self
            .candidates(item)
            .into_iter()
            .map(|at| {
                let entry = &self.entries[at as usize];
                let title = title.similarity(&entry.title.base, &entry.sorted.title);
                let artist = artist.artist_similarity(&entry.artists.key, &entry.sorted.artist);
                (0.6 * title + 0.4 * artist, at)
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let candidates: Vec<Candidate> = scored
            .iter()
            .take(LISTED)
            .map(|&(score, at)| Candidate {
                track_id: self.entries[at as usize].id,
                score: round(score),
            })
            .collect();
        let Thresholds { accept, review } = self.thresholds;
        let Some(&(best, at)) = scored.first() else {
            notes.push("no catalog track shares a word with its title or artist".to_owned());
            return unmatched(notes, candidates);
        };
        let entry = &self.entries[at as usize];
        let version_ok = self.fits(item, entry);
        // The runner-up that is another recording (the same recording on
        // another release does not compete).
        let runner_up = scored[1..]
            .iter()
            .find(|(_, other)| {
                let other = &self.entries[*other as usize];
                other.isrc.is_none() || other.isrc != entry.isrc
            })
            .map(|(score, _)| *score);
        let clear = runner_up.is_none_or(|second| best - second >= MARGIN);
        let describe = format!("{} scores {:.2}", entry.display, best);
        if best >= accept && version_ok && clear {
            return Outcome {
                status: Status::Matched,
                match_type: Some(MatchType::Fuzzy),
                confidence: round(best),
                track_id: Some(entry.id),
                candidates,
                reason: format!(
                    "{}: {describe} on title and artist (accepted from {accept:.2}).",
                    capitalise(&notes.join("; ")).unwrap_or_else(|| "Closest".into())
                ),
                rule_id: None,
            };
        }
        if best >= review {
            let why = if !version_ok {
                format!(
                    "{describe}, but it is another version ({} against {})",
                    item.title.tags, entry.title.tags
                )
            } else if best >= accept {
                format!(
                    "{describe}, but the runner-up scores {:.2}, too close to choose",
                    runner_up.unwrap_or(best)
                )
            } else {
                format!("{describe}, under {accept:.2} to be accepted")
            };
            notes.push(why);
            return Outcome {
                status: Status::Review,
                match_type: Some(MatchType::Fuzzy),
                confidence: round(best),
                track_id: None,
                candidates,
                reason: format!("{}.", capitalise(&notes.join("; ")).unwrap_or_default()),
                rule_id: None,
            };
        }
        notes.push(format!(
            "the closest, {describe} (review starts at {review:.2})"
        ));
        unmatched(notes, candidates)
    }

    /// The [`SCORED`] tracks sharing the most of the item's title and
    /// artist words, each word weighing its inverse document frequency
    /// (a word on few tracks says more than one on many), so that a typing
    /// error in one word still leaves the others to find the track.
    fn candidates(&self, item: &Item) -> Vec<u32> {
        let total = self.entries.len() as f32;
        let mut lists: Vec<(f32, &[u32])> = item
            .title_words
            .iter()
            .filter_map(|w| self.title_words.get(w.as_str()))
            .chain(
                item.artist_words
                    .iter()
                    .filter_map(|w| self.artist_words.get(w.as_str())),
            )
            .map(|list| ((1.0 + total / list.len() as f32).ln(), list.as_slice()))
            .collect();
        lists.sort_by_key(|(_, list)| list.len());
        WEIGHTS.with_borrow_mut(|weights| {
            if weights.len() < self.entries.len() {
                weights.resize(self.entries.len(), 0.0);
            }
            // The rarest words' tracks are the candidates; a common word
            // only adds its weight to them.
            let mut touched: Vec<u32> = Vec::new();
            let mut read = 0;
            for (seeds, (weight, list)) in lists.into_iter().enumerate() {
                if seeds < 2 || read + list.len() <= MAX_POSTINGS {
                    read += list.len();
                    for &at in list {
                        let slot = &mut weights[at as usize];
                        if *slot == 0.0 {
                            touched.push(at);
                        }
                        *slot += weight;
                    }
                } else if list.len() <= touched.len() * 8 {
                    for &at in list {
                        let slot = &mut weights[at as usize];
                        if *slot != 0.0 {
                            *slot += weight;
                        }
                    }
                } else {
                    // Lists are in track order.
                    for &at in &touched {
                        if list.binary_search(&at).is_ok() {
                            weights[at as usize] += weight;
                        }
                    }
                }
            }
            let mut ranked: Vec<(f32, u32)> = touched
                .iter()
                .map(|&at| (std::mem::take(&mut weights[at as usize]), at))
                .collect();
            let order = |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
            if ranked.len() > SCORED {
                ranked.select_nth_unstable_by(SCORED - 1, order);
                ranked.truncate(SCORED);
            }
            ranked.into_iter().map(|(_, at)| at).collect()
        })
    }

    /// Whether `entry` is the item's version, with compatible featured
    /// artists (when both name some, they share one).
    fn fits(&self, item: &Item, entry: &Entry) -> bool {
        if !item.title.tags.same_version(entry.title.tags) {
            return false;
        }
        let theirs: Vec<&String> = entry
            .title
            .featured
            .iter()
            .chain(&entry.artists.featured)
            .collect();
        item.featured.is_empty()
            || theirs.is_empty()
            || item.featured.iter().any(|name| theirs.contains(&name))
    }

    fn same_version(&self, item: &Item, found: &[u32]) -> Vec<u32> {
        found
            .iter()
            .copied()
            .filter(|&at| self.fits(item, &self.entries[at as usize]))
            .collect()
    }

    fn other_version(&self, item: &Item, at: u32) -> String {
        let entry = &self.entries[at as usize];
        if item.title.tags.same_version(entry.title.tags) {
            format!(
                "{} credits other featured artists ({})",
                entry.display,
                item.featured.join(", ")
            )
        } else {
            format!(
                "{} is another version ({} against {})",
                entry.display, item.title.tags, entry.title.tags
            )
        }
    }

    fn ambiguity(&self, stage: MatchType, found: &[u32], reason: String) -> Outcome {
        Outcome {
            status: Status::Review,
            match_type: Some(stage),
            confidence: 1.0,
            track_id: None,
            candidates: found
                .iter()
                .map(|&at| Candidate {
                    track_id: self.entries[at as usize].id,
                    score: 1.0,
                })
                .collect(),
            reason,
            rule_id: None,
        }
    }
}

fn unmatched(notes: Vec<String>, candidates: Vec<Candidate>) -> Outcome {
    Outcome {
        status: Status::Unmatched,
        match_type: None,
        confidence: candidates.first().map_or(0.0, |c| c.score),
        track_id: None,
        candidates,
        reason: format!(
            "{}.",
            capitalise(&notes.join("; ")).unwrap_or_else(|| "Nothing close".into())
        ),
        rule_id: None,
    }
}

fn capitalise(text: &str) -> Option<String> {
    let mut chars = text.chars();
    let first = chars.next()?;
    Some(first.to_uppercase().chain(chars).collect())
}

fn round(score: f64) -> f64 {
    (score * 1000.0).round() / 1000.0
}

fn distinct_words(folded: &str) -> impl Iterator<Item = &str> {
    let mut seen: Vec<&str> = Vec::new();
    folded.split(' ').filter(move |w| {
        if w.is_empty() || seen.contains(w) {
            false
        } else {
            seen.push(w);
            true
        }
    })
}

thread_local! {
    /// Per-track word weights of the fuzzy search under way on this
    /// thread, all zero between searches.
    static WEIGHTS: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

fn sorted_words(folded: &str) -> String {
    let mut words: Vec<&str> = folded.split(' ').collect();
    words.sort_unstable();
    words.join(" ")
}

/// A text of the item compared with many: its folded words as written and
/// sorted, each ready for bit-parallel Levenshtein distances.
struct Text<'a> {
    text: &'a str,
    direct: BatchComparator<char>,
    /// For the sorted words, when they are not the words as written.
    reordered: Option<BatchComparator<char>>,
}

impl<'a> Text<'a> {
    fn new(text: &'a str, sorted: &'a str) -> Text<'a> {
        Text {
            text,
            direct: BatchComparator::new(text.chars()),
            reordered: (sorted != text).then(|| BatchComparator::new(sorted.chars())),
        }
    }

    /// Normalised Levenshtein similarity (one less the edits over the
    /// longer text's length), the better of the texts as written and with
    /// their words sorted: reordered words are the same words.
    fn similarity(&self, other: &str, other_sorted: &str) -> f64 {
        if self.text == other {
            return 1.0;
        }
        let direct = self.direct.normalized_similarity(other.chars());
        match &self.reordered {
            Some(reordered) => direct.max(reordered.normalized_similarity(other_sorted.chars())),
            None if other_sorted != other => {
                direct.max(self.direct.normalized_similarity(other_sorted.chars()))
            }
            // Both are in order already.
            None => direct,
        }
    }

    /// Artist keys alike: equal, one credit within the other (a duet
    /// against its first artist), or close in spelling.
    fn artist_similarity(&self, other: &str, other_sorted: &str) -> f64 {
        if self.text == other {
            return 1.0;
        }
        let (short, long) = if self.text.len() <= other.len() {
            (self.text, other)
        } else {
            (other, self.text)
        };
        let within = !short.is_empty() && {
            let words: Vec<&str> = long.split(' ').collect();
            short.split(' ').all(|w| words.contains(&w))
        };
        let spelled = self.similarity(other, other_sorted);
        if within { spelled.max(0.9) } else { spelled }
    }
}

/// A usage item read for the cascade.
struct Item {
    key: ItemKey,
    isrc: Option<String>,
    gtin: Option<String>,
    catalog_number: Option<String>,
    title: Title,
    artists: Artists,
    /// Featured names from the title and the artist credit.
    featured: Vec<String>,
    title_words: Vec<String>,
    artist_words: Vec<String>,
    usage_title: String,
}

impl Item {
    fn read(usage: &Usage) -> Item {
        let title = names::title(&usage.track_title);
        let artists = names::artists(&usage.artist);
        let mut featured: Vec<String> = title
            .featured
            .iter()
            .chain(&artists.featured)
            .cloned()
            .collect();
        featured.sort();
        featured.dedup();
        let isrc = ids::isrc(&usage.isrc);
        let gtin = ids::gtin14(&usage.upc);
        Item {
            key: ItemKey {
                artist: names::fold(&usage.artist),
                title: names::fold(&usage.track_title),
                isrc: isrc.clone().unwrap_or_default(),
                gtin: gtin.clone().unwrap_or_default(),
            },
            isrc,
            gtin,
            catalog_number: Some(catalog_number_key(&usage.catalog_number))
                .filter(|k| !k.is_empty()),
            title_words: distinct_words(&title.base).map(str::to_owned).collect(),
            artist_words: distinct_words(&artists.key).map(str::to_owned).collect(),
            title,
            artists,
            featured,
            usage_title: usage.track_title.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(
        id: i64,
        isrc: &str,
        title: &str,
        version: &str,
        artist: &str,
        upc: &str,
    ) -> CatalogTrack {
        CatalogTrack {
            id,
            isrc: Some(isrc.to_owned()).filter(|s| !s.is_empty()),
            title: title.to_owned(),
            version: Some(version.to_owned()).filter(|s| !s.is_empty()),
            artist: artist.to_owned(),
            gtin: Some(upc.to_owned()).filter(|s| !s.is_empty()),
            catalog_number: None,
        }
    }

    fn usage(artist: &str, title: &str, isrc: &str, upc: &str) -> Usage {
        Usage {
            artist: artist.to_owned(),
            track_title: title.to_owned(),
            isrc: isrc.to_owned(),
            upc: upc.to_owned(),
            ..Usage::default()
        }
    }

    fn catalog() -> Vec<CatalogTrack> {
        vec![
            track(
                1,
                "GBAYE0601498",
                "Here Comes the Sun",
                "",
                "The Beatles",
                "00602517646483",
            ),
            track(
                2,
                "GBAYE0601499",
                "Here Comes the Sun",
                "Live",
                "The Beatles",
                "00602517646483",
            ),
            track(3, "USX123000001", "Blinding Lights", "", "The Weeknd", ""),
            track(
                4,
                "USX123000001",
                "Blinding Lights",
                "",
                "The Weeknd",
                "4250137264165",
            ),
            track(5, "", "Déjà Vu", "", "Beyoncé feat. Jay-Z", ""),
            track(6, "", "Yesterday Once More", "", "Carpenters", ""),
        ]
    }

    fn index(rules: Vec<Rule>) -> Index {
        Index::new(&catalog(), rules, Thresholds::default())
    }

    #[test]
    fn each_stage_matches_what_it_should() {
        let index = index(Vec::new());
        let got = index.match_item(&usage("Beatles", "x", "gb-aye-06-01498", ""), None);
        assert_eq!(
            (got.status, got.match_type, got.track_id),
            (Status::Matched, Some(MatchType::Isrc), Some(1))
        );

        let got = index.match_item(
            &usage("", "Here Comes The Sun - 2009 Remaster", "", "602517646483"),
            None,
        );
        assert_eq!(
            (got.status, got.match_type, got.track_id),
            (Status::Matched, Some(MatchType::UpcTitle), Some(1))
        );

        let got = index.match_item(
            &usage("", "Here Comes The Sun (Live)", "", "602517646483"),
            None,
        );
        assert_eq!(
            got.track_id,
            Some(2),
            "the live version on the same release"
        );

        let got = index.match_item(&usage("BEYONCE", "Deja Vu (feat. Jay Z)", "", ""), None);
        assert_eq!(
            (got.status, got.match_type, got.track_id),
            (Status::Matched, Some(MatchType::ExactText), Some(5))
        );

        let got = index.match_item(&usage("Carpenters", "Yesterday Once Mre", "", ""), None);
        assert_eq!(
            (got.status, got.match_type, got.track_id),
            (Status::Matched, Some(MatchType::Fuzzy), Some(6)),
            "{}",
            got.reason
        );
    }

    #[test]
    fn an_isrc_on_two_tracks_is_for_review() {
        let got = index(Vec::new()).match_item(
            &usage("The Weeknd", "Blinding Lights", "USX123000001", ""),
            None,
        );
        assert_eq!(got.status, Status::Review);
        assert_eq!(got.track_id, None);
        assert_eq!(got.candidates.len(), 2);
        assert!(got.reason.contains("on 2 catalog tracks"), "{}", got.reason);
    }

    #[test]
    fn another_version_is_never_matched_automatically() {
        let got = index(Vec::new()).match_item(
            &usage("Carpenters", "Yesterday Once More (Live)", "", ""),
            None,
        );
        assert_ne!(got.status, Status::Matched, "{}", got.reason);
        assert!(got.reason.contains("another version"), "{}", got.reason);
    }

    #[test]
    fn a_wrong_isrc_falls_through_to_the_text() {
        let got = index(Vec::new()).match_item(
            &usage("Carpenters", "Yesterday Once More", "QZ1234500001", ""),
            None,
        );
        assert_eq!(got.track_id, Some(6));
        assert_eq!(got.match_type, Some(MatchType::ExactText));
    }

    #[test]
    fn unmatched_items_say_why() {
        let got = index(Vec::new()).match_item(
            &usage(
                "Someone Else",
                "Another Song",
                "QZ1234500001",
                "602517646488",
            ),
            None,
        );
        assert_eq!(got.status, Status::Unmatched);
        assert!(
            got.reason.contains("catalog track has ISRC QZ1234500001"),
            "{}",
            got.reason
        );
    }

    #[test]
    fn rules_come_first_and_the_source_before_the_organisation() {
        let key = ItemKey::new("Carpenters", "Yesterday Once More", None, None);
        let rules = vec![
            Rule {
                id: 1,
                key: key.clone(),
                track_id: Some(3),
                source: None,
            },
            Rule {
                id: 2,
                key: key.clone(),
                track_id: None,
                source: Some("distrokid".into()),
            },
        ];
        let index = index(rules);
        let item = usage("Carpenters", "Yesterday Once More", "", "");
        let got = index.match_item(&item, None);
        assert_eq!(
            (got.match_type, got.track_id, got.rule_id),
            (Some(MatchType::Rule), Some(3), Some(1))
        );
        let got = index.match_item(&item, Some("distrokid"));
        assert_eq!(
            (got.status, got.track_id, got.rule_id),
            (Status::Unmatched, None, Some(2))
        );
        assert!(got.reason.contains("never"), "{}", got.reason);
    }
}
