//! A labelled set for measuring the cascade: a catalog, and usage items
//! written as stores write them, each with the track it really is (or
//! none). The set is generated from a seed, so every run measures the same
//! items; [`evaluate`] scores the cascade on it per stage.
//!
//! What stores do to a catalog's metadata, and the set holds:
//! identifiers missing, reformatted or wrong; case changed, accents
//! dropped, "The" dropped, `&` written "and"; a featured artist moved from
//! the artist credit into the title; remaster tags added; a typing error in
//! a title. And what must not match: other artists' tracks (some with a
//! catalog title), new tracks by catalog artists, and other versions (live,
//! acoustic, remix) of catalog recordings the catalog does not hold.

use std::fmt;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::matcher::{CatalogTrack, Index, MatchType, Status, Thresholds, Usage};

/// How an item was written, and so what it tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    AsCatalog,
    IsrcReformatted,
    ByUpcAndTitle,
    ByEanAndTitle,
    ByCatalogNumberAndTitle,
    TextChanged,
    FeaturedInTitle,
    RemasterTag,
    TitleTypo,
    WrongIsrc,
    InvalidIsrc,
    VersionInCatalog,
    VersionNotInCatalog,
    OtherArtist,
    CatalogTitleOtherArtist,
    NewTrackOfCatalogArtist,
}

impl Kind {
    /// How often each kind is drawn.
    const WEIGHTS: [(Kind, u32); 16] = [
        (Kind::AsCatalog, 30),
        (Kind::IsrcReformatted, 6),
        (Kind::ByUpcAndTitle, 8),
        (Kind::ByEanAndTitle, 3),
        (Kind::ByCatalogNumberAndTitle, 2),
        (Kind::TextChanged, 14),
        (Kind::FeaturedInTitle, 4),
        (Kind::RemasterTag, 4),
        (Kind::TitleTypo, 4),
        (Kind::WrongIsrc, 3),
        (Kind::InvalidIsrc, 2),
        (Kind::VersionInCatalog, 3),
        (Kind::VersionNotInCatalog, 5),
        (Kind::OtherArtist, 8),
        (Kind::CatalogTitleOtherArtist, 3),
        (Kind::NewTrackOfCatalogArtist, 3),
    ];
}

/// One labelled item.
#[derive(Debug, Clone)]
pub struct Labelled {
    pub usage: Usage,
    pub kind: Kind,
    /// The catalog track it is, if the catalog holds it.
    pub truth: Option<i64>,
}

/// A catalog and items labelled against it.
pub struct Set {
    pub catalog: Vec<CatalogTrack>,
    pub items: Vec<Labelled>,
}

const WORDS: &str = "love night heart fire dream light rain summer river golden wild blue \
    shadow ocean dance city road home star moon sun storm sky silver stone broken \
    paper glass ghost angel devil wolf rose garden winter spring autumn morning evening \
    midnight forever never always tonight yesterday tomorrow heaven island desert \
    thunder echo mirror window door bridge train highway memory promise secret \
    whisper thunderbird velvet neon crystal diamond honey sugar candy cherry lemon \
    coffee whiskey wine smoke ashes dust gold iron steel chrome satellite rocket \
    planet galaxy comet horizon canyon valley mountain forest meadow harbor \
    lighthouse carnival circus parade kingdom empire castle tower prison \
    freedom rebel soldier hunter dreamer stranger lover sinner saint prophet \
    runaway wanderer gambler outlaw shepherd sailor pilot driver dancer singer \
    falling rising running burning shining breaking shaking waiting calling \
    crying flying dying living loving leaving coming going turning hiding \
    electric magnetic cosmic tropical northern southern eastern western \
    little big last first only lonely crazy sweet bitter cold warm hot \
    slow fast loud quiet dark bright empty hollow deep high low young old \
    again alone away back down out over under inside outside together apart";

const FIRST: &str = "Ana Björn Chloé Dmitri Elif François Greta Hugo Inés Jonas Kaito Léa \
    Marta Nikolai Oskar Paula Quentin Renée Søren Tomás Ulla Valentin Wiktor \
    Xavier Yara Zoë Amélie Bastien Céline Dario Emil Fátima Gaspard Hélène Iker \
    Joël Klára Lukas Maël Noémie Olga Pál Raúl Sinéad Théo Uxía";

const LAST: &str = "Åberg Bernard Castillo Dubois Eriksen Fernández Gómez Hansen Ivanova \
    Jansen König Larsen Müller Novák Olsen Pérez Quiroga Rossi Schäfer Tanaka \
    Umeå Vasquez Weiß Xu Yılmaz Zieliński Andrés Brontë Côté Dvořák Ekström \
    Fjällström Grünewald Håkansson Ibáñez Jiménez Kovač Løvik Martín Núñez";

/// First names no catalog artist has: other artists, some with a catalog
/// artist's surname.
const OTHER_FIRST: &str = "Aino Bodhi Caoimhe Dagny Eero Fionn Gwen Hamza Ilse Jarl Kirsi \
    Linnea Mireia Nandor Orla Pietro Quim Rasmus Saoirse Tuva";

const BANDS: &str = "Wolves Machines Echoes Parade Satellites Lanterns Horizons Pilots \
    Strangers Ghosts Rivers Comets Outlaws Dreamers Sailors Rebels Saints \
    Velvets Tides Embers";

const VERSIONS: [&str; 4] = ["Live", "Acoustic", "Radio Edit", "Remix"];

fn pick<'a>(rng: &mut StdRng, words: &'a [&'a str]) -> &'a str {
    words[rng.random_range(0..words.len())]
}

/// A UPC-A with a right check digit.
fn upc(rng: &mut StdRng) -> String {
    let body: String = (0..11)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect();
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, d)| u32::from(d - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

fn isrc(n: usize) -> String {
    format!(
        "QZ{}{:02}{:05}",
        ["A1B", "K7X", "Z2Z"][n % 3],
        20 + n / 300_000 % 7,
        n % 100_000
    )
}

/// Some characters of `text` as a careless store writes them.
fn careless(rng: &mut StdRng, text: &str) -> String {
    let mut out: String = match rng.random_range(0..4) {
        0 => text.to_uppercase(),
        1 => text.to_lowercase(),
        _ => text.to_owned(),
    };
    if rng.random_bool(0.5) {
        out = strip_accents(&out);
    }
    if rng.random_bool(0.3) {
        out = out.replace(" & ", " and ");
    }
    if rng.random_bool(0.3) {
        out = out.strip_prefix("The ").unwrap_or(&out).to_owned();
    }
    if rng.random_bool(0.2) {
        out = format!(" {out}  ");
    }
    out
}

fn strip_accents(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    text.nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .collect()
}

/// One edit (a letter dropped, doubled or swapped with the next) in a word
/// of four letters or more, if the title has one.
fn typo(rng: &mut StdRng, title: &str) -> String {
    let mut chars: Vec<char> = title.chars().collect();
    let long: Vec<usize> = (1..chars.len().saturating_sub(2))
        .filter(|&i| chars[i - 1..i + 2].iter().all(|c| c.is_alphabetic()))
        .collect();
    if long.is_empty() {
        return title.to_owned();
    }
    let at = long[rng.random_range(0..long.len())];
    match rng.random_range(0..3) {
        0 => {
            chars.remove(at);
        }
        1 => chars.insert(at, chars[at]),
        _ => chars.swap(at, at + 1),
    }
    chars.into_iter().collect()
}

impl Set {
    /// A catalog of about `tracks` tracks and `items` labelled items.
    pub fn generate(seed: u64, tracks: usize, items: usize) -> Set {
        let mut rng = StdRng::seed_from_u64(seed);
        let words: Vec<&str> = WORDS.split_whitespace().collect();
        let first: Vec<&str> = FIRST.split_whitespace().collect();
        let last: Vec<&str> = LAST.split_whitespace().collect();
        let bands: Vec<&str> = BANDS.split_whitespace().collect();
        let other_first: Vec<&str> = OTHER_FIRST.split_whitespace().collect();
        let artist_name = |rng: &mut StdRng, n: usize| match n % 5 {
            0 => format!(
                "The {} {}",
                title_case(pick(rng, &words)),
                pick(rng, &bands)
            ),
            1 => format!("{} & {}", pick(rng, &first), pick(rng, &first)),
            _ => format!("{} {}", pick(rng, &first), pick(rng, &last)),
        };
        let title_of = |rng: &mut StdRng| {
            let count = rng.random_range(1..=4);
            (0..count)
                .map(|_| title_case(pick(rng, &words)))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let artists: Vec<String> = (0..(tracks / 8).max(4))
            .map(|n| artist_name(&mut rng, n))
            .collect();
        let mut catalog: Vec<CatalogTrack> = Vec::with_capacity(tracks + tracks / 10);
        let mut taken = std::collections::HashSet::new();
        // Versions of a track the catalog holds beside it, and the ones
        // it does not: (track index, version).
        let mut versions_held: Vec<(usize, &str)> = Vec::new();
        let mut versions_missing: Vec<(usize, &str)> = Vec::new();
        while catalog.len() < tracks {
            let artist = &artists[rng.random_range(0..artists.len())];
            let release_upc = upc(&mut rng);
            let catalog_number = format!("CAT-{:05}", catalog.len());
            for _ in 0..rng.random_range(1..=10) {
                let title = title_of(&mut rng);
                let key = (
                    oas_sales::names::artists(artist).key,
                    oas_sales::names::fold(&title),
                );
                if !taken.insert(key) {
                    continue;
                }
                let featured = rng
                    .random_bool(0.1)
                    .then(|| artists[rng.random_range(0..artists.len())].clone());
                let display = match &featured {
                    Some(other) if other != artist => format!("{artist} feat. {other}"),
                    _ => artist.clone(),
                };
                let at = catalog.len();
                catalog.push(CatalogTrack {
                    id: at as i64 + 1,
                    isrc: Some(isrc(at)),
                    title: title.clone(),
                    version: None,
                    artist: display.clone(),
                    gtin: Some(release_upc.clone()),
                    catalog_number: Some(catalog_number.clone()),
                });
                let version = VERSIONS[rng.random_range(0..VERSIONS.len())];
                if rng.random_bool(0.06) {
                    // The version on a release of its own.
                    versions_held.push((at, version));
                    let other = catalog.len();
                    catalog.push(CatalogTrack {
                        id: other as i64 + 1,
                        isrc: Some(isrc(other)),
                        title,
                        version: Some(version.to_owned()),
                        artist: display,
                        gtin: Some(upc(&mut rng)),
                        catalog_number: None,
                    });
                } else {
                    versions_missing.push((at, version));
                }
            }
        }
        let total: u32 = Kind::WEIGHTS.iter().map(|(_, w)| w).sum();
        let mut labelled = Vec::with_capacity(items);
        let mut next_isrc = 900_000;
        while labelled.len() < items {
            let mut draw = rng.random_range(0..total);
            let kind = Kind::WEIGHTS
                .iter()
                .find(|(_, w)| {
                    let hit = draw < *w;
                    draw = draw.saturating_sub(*w);
                    hit
                })
                .map_or(Kind::AsCatalog, |(k, _)| *k);
            let at = rng.random_range(0..catalog.len());
            let track = &catalog[at];
            if track.version.is_some() && !matches!(kind, Kind::AsCatalog | Kind::IsrcReformatted) {
                continue;
            }
            let (primary, featured) = match track.artist.split_once(" feat. ") {
                Some((p, f)) => (p.to_owned(), Some(f.to_owned())),
                None => (track.artist.clone(), None),
            };
            let mut usage = Usage {
                artist: track.artist.clone(),
                track_title: match &track.version {
                    Some(v) => format!("{} ({v})", track.title),
                    None => track.title.clone(),
                },
                release_title: String::new(),
                isrc: String::new(),
                upc: String::new(),
                catalog_number: String::new(),
            };
            let mut truth = Some(track.id);
            match kind {
                Kind::AsCatalog => {
                    usage.isrc = track.isrc.clone().unwrap_or_default();
                    usage.upc = track.gtin.clone().unwrap_or_default();
                }
                Kind::IsrcReformatted => {
                    let code = track.isrc.clone().unwrap_or_default();
                    usage.isrc = format!(
                        "{}-{}-{}-{}",
                        &code[..2],
                        &code[2..5],
                        &code[5..7],
                        &code[7..]
                    )
                    .to_lowercase();
                }
                Kind::ByUpcAndTitle => {
                    usage.upc = track.gtin.clone().unwrap_or_default();
                    usage.track_title = careless(&mut rng, &usage.track_title);
                    usage.artist = String::new();
                }
                Kind::ByEanAndTitle => {
                    usage.upc = format!("0{}", track.gtin.clone().unwrap_or_default());
                    usage.track_title = careless(&mut rng, &usage.track_title);
                }
                Kind::ByCatalogNumberAndTitle => {
                    let Some(number) = track.catalog_number.clone() else {
                        continue;
                    };
                    usage.catalog_number = number;
                    usage.track_title = careless(&mut rng, &usage.track_title);
                    usage.artist = String::new();
                }
                Kind::TextChanged => {
                    usage.artist = careless(&mut rng, &usage.artist);
                    usage.track_title = careless(&mut rng, &usage.track_title);
                }
                Kind::FeaturedInTitle => {
                    let Some(featured) = featured else { continue };
                    usage.artist = primary;
                    usage.track_title = format!("{} (feat. {featured})", track.title);
                }
                Kind::RemasterTag => {
                    usage.track_title = format!(
                        "{} - {} Remaster",
                        track.title,
                        rng.random_range(1995..2025)
                    );
                    usage.artist = careless(&mut rng, &usage.artist);
                }
                Kind::TitleTypo => {
                    let changed = typo(&mut rng, &track.title);
                    if changed == track.title {
                        continue;
                    }
                    usage.track_title = changed;
                }
                Kind::WrongIsrc => {
                    usage.isrc = isrc(next_isrc);
                    next_isrc += 1;
                }
                Kind::InvalidIsrc => {
                    usage.isrc = track.isrc.clone().unwrap_or_default()[..11].to_owned();
                }
                Kind::VersionInCatalog => {
                    let Some(&(original, version)) =
                        versions_held.get(rng.random_range(0..versions_held.len().max(1)))
                    else {
                        continue;
                    };
                    let track = &catalog[original];
                    usage.artist = careless(&mut rng, &track.artist);
                    usage.track_title = format!("{} ({version})", track.title);
                    truth = catalog
                        .iter()
                        .find(|t| {
                            t.title == track.title
                                && t.artist == track.artist
                                && t.version.as_deref() == Some(version)
                        })
                        .map(|t| t.id);
                }
                Kind::VersionNotInCatalog => {
                    let Some(&(original, version)) =
                        versions_missing.get(rng.random_range(0..versions_missing.len().max(1)))
                    else {
                        continue;
                    };
                    let track = &catalog[original];
                    usage.artist = track.artist.clone();
                    usage.track_title = format!("{} - {version}", track.title);
                    truth = None;
                }
                Kind::OtherArtist => {
                    usage.artist =
                        format!("{} {}", pick(&mut rng, &other_first), pick(&mut rng, &last));
                    usage.track_title = title_of(&mut rng);
                    truth = None;
                }
                Kind::CatalogTitleOtherArtist => {
                    usage.artist = format!(
                        "{} {}",
                        pick(&mut rng, &other_first),
                        pick(&mut rng, &bands)
                    );
                    truth = None;
                }
                Kind::NewTrackOfCatalogArtist => {
                    let title = title_of(&mut rng);
                    let key = (
                        oas_sales::names::artists(&usage.artist).key,
                        oas_sales::names::fold(&title),
                    );
                    if taken.contains(&key) {
                        continue;
                    }
                    usage.track_title = title;
                    truth = None;
                }
            }
            labelled.push(Labelled { usage, kind, truth });
        }
        Set {
            catalog,
            items: labelled,
        }
    }
}

fn title_case(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Precision and recall of the cascade on a set.
#[derive(Debug, Default)]
pub struct Evaluation {
    pub items: usize,
    /// Items whose track the catalog holds.
    pub matchable: usize,
    /// Per stage: automatic matches, and the right ones among them.
    pub by_stage: Vec<(MatchType, usize, usize)>,
    pub review: usize,
    /// Review items whose right track is among the candidates.
    pub review_with_truth: usize,
    pub unmatched: usize,
    /// Matchable items not matched automatically, per kind.
    pub missed: Vec<(Kind, usize)>,
    /// Wrong automatic matches, per kind.
    pub wrong: Vec<(Kind, usize)>,
}

impl Evaluation {
    pub fn matched(&self) -> usize {
        self.by_stage.iter().map(|(_, n, _)| n).sum()
    }

    pub fn correct(&self) -> usize {
        self.by_stage.iter().map(|(_, _, c)| c).sum()
    }

    /// Right automatic matches among all automatic ones.
    pub fn precision(&self) -> f64 {
        ratio(self.correct(), self.matched())
    }

    /// Right automatic matches among the items the catalog holds.
    pub fn recall(&self) -> f64 {
        ratio(self.correct(), self.matchable)
    }
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

/// Runs the cascade over the set.
pub fn evaluate(set: &Set, thresholds: Thresholds) -> Evaluation {
    let index = Index::new(&set.catalog, Vec::new(), thresholds);
    let mut evaluation = Evaluation {
        items: set.items.len(),
        by_stage: MatchType::ALL.iter().map(|&t| (t, 0, 0)).collect(),
        ..Evaluation::default()
    };
    let mut missed = std::collections::BTreeMap::new();
    let mut wrong = std::collections::BTreeMap::new();
    for item in &set.items {
        let outcome = index.match_item(&item.usage, None);
        if item.truth.is_some() {
            evaluation.matchable += 1;
        }
        match outcome.status {
            Status::Matched => {
                let stage = outcome.match_type.unwrap_or(MatchType::Fuzzy);
                let right = outcome.track_id == item.truth;
                if let Some(entry) = evaluation.by_stage.iter_mut().find(|(t, _, _)| *t == stage) {
                    entry.1 += 1;
                    entry.2 += usize::from(right);
                }
                if !right {
                    *wrong.entry(item.kind).or_insert(0) += 1;
                    if item.truth.is_some() {
                        *missed.entry(item.kind).or_insert(0) += 1;
                    }
                }
            }
            Status::Review => {
                evaluation.review += 1;
                if item
                    .truth
                    .is_some_and(|t| outcome.candidates.iter().any(|c| c.track_id == t))
                {
                    evaluation.review_with_truth += 1;
                }
                if item.truth.is_some() {
                    *missed.entry(item.kind).or_insert(0) += 1;
                }
            }
            Status::Unmatched => {
                evaluation.unmatched += 1;
                if item.truth.is_some() {
                    *missed.entry(item.kind).or_insert(0) += 1;
                }
            }
        }
    }
    evaluation.missed = missed.into_iter().collect();
    evaluation.wrong = wrong.into_iter().collect();
    evaluation
}

impl fmt::Display for Evaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} items, {} the catalog holds; automatic matches {} (precision {:.2}%, recall {:.2}%); review {} ({} with the right track among the candidates); unmatched {}",
            self.items,
            self.matchable,
            self.matched(),
            100.0 * self.precision(),
            100.0 * self.recall(),
            self.review,
            self.review_with_truth,
            self.unmatched
        )?;
        writeln!(
            f,
            "{:<16} {:>8} {:>8} {:>10}",
            "stage", "matched", "right", "precision"
        )?;
        for (stage, matched, right) in &self.by_stage {
            writeln!(
                f,
                "{:<16} {:>8} {:>8} {:>9.2}%",
                stage.as_str(),
                matched,
                right,
                100.0 * ratio(*right, *matched)
            )?;
        }
        if !self.missed.is_empty() {
            writeln!(f, "not matched automatically, by kind: {:?}", self.missed)?;
        }
        if !self.wrong.is_empty() {
            writeln!(f, "wrong automatic matches, by kind: {:?}", self.wrong)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cascade_is_precise_and_finds_what_the_catalog_holds() {
        let set = Set::generate(17, 20_000, 20_000);
        let evaluation = evaluate(&set, Thresholds::default());
        println!("{evaluation}");
        assert!(evaluation.precision() >= 0.995, "{evaluation}");
        assert!(evaluation.recall() >= 0.97, "{evaluation}");
        // Every stage was exercised.
        for (stage, matched, _) in &evaluation.by_stage {
            if *stage != MatchType::Rule {
                assert!(*matched > 0, "{stage:?} matched nothing: {evaluation}");
            }
        }
    }

    #[test]
    fn a_typo_is_one_edit() {
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..100 {
            let changed = typo(&mut rng, "Golden River");
            assert!(
                rapidfuzz::distance::levenshtein::distance(changed.chars(), "Golden River".chars())
                    <= 2,
                "{changed}"
            );
        }
    }
}
