//! A catalog generated from usage: the recordings the organisation's
//! files report, one track per ISRC (else per artist and title), on one
//! release per UPC (else per release title), each named by the spelling
//! most of its lines use.

use std::collections::HashMap;

use oas_db::catalog::ImportRow;
use oas_sales::{ids, names};

use crate::items::Item;

/// The spellings of one field, weighed by the lines using each.
#[derive(Debug, Default, Clone)]
struct Votes(HashMap<String, i64>);

impl Votes {
    fn add(&mut self, spelling: &str, lines: i64) {
        let spelling = spelling.trim();
        if !spelling.is_empty() {
            *self.0.entry(spelling.to_owned()).or_insert(0) += lines;
        }
    }

    /// The spelling with the most lines; of equals, the first in byte
    /// order, so a generation does not depend on the order files are read.
    fn winner(&self) -> Option<String> {
        self.0
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(s, _)| s.clone())
    }
}

#[derive(Debug, Default, Clone)]
struct Recording {
    isrc: Option<String>,
    artist: Votes,
    title: Votes,
    release_title: Votes,
    /// UPCs whose check digit holds.
    upc: Votes,
    catalog_number: Votes,
}

/// How a recording is known across files.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Identity {
    Isrc(String),
    /// The folded main artists and title.
    Text(String, String),
}

/// The recordings read so far; files are added one at a time.
#[derive(Debug, Default)]
pub struct Generation {
    at: HashMap<Identity, usize>,
    recordings: Vec<Recording>,
    /// Items naming no title.
    pub left_out: u64,
}

impl Generation {
    pub fn add(&mut self, items: &[Item]) {
        for item in items {
            let usage = &item.usage;
            let isrc = ids::isrc(&usage.isrc);
            let identity = match &isrc {
                Some(code) => Identity::Isrc(code.clone()),
                None => {
                    let title = names::fold(&usage.track_title);
                    if title.is_empty() {
                        self.left_out += 1;
                        continue;
                    }
                    Identity::Text(names::artists(&usage.artist).key, title)
                }
            };
            let index = *self.at.entry(identity).or_insert_with(|| {
                self.recordings.push(Recording {
                    isrc,
                    ..Default::default()
                });
                self.recordings.len() - 1
            });
            let recording = &mut self.recordings[index];
            let lines = item.lines.max(1);
            recording.artist.add(&usage.artist, lines);
            recording.title.add(&usage.track_title, lines);
            recording.release_title.add(&usage.release_title, lines);
            if ids::gtin14(&usage.upc).is_some() {
                recording.upc.add(&usage.upc, lines);
            }
            recording.catalog_number.add(&usage.catalog_number, lines);
        }
    }

    /// How many recordings were found.
    pub fn len(&self) -> usize {
        self.recordings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.recordings.is_empty()
    }

    /// The catalog rows: a recording without a title in any file (an ISRC
    /// only) is left out and counted.
    pub fn rows(mut self) -> (Vec<ImportRow>, u64) {
        let mut rows = Vec::with_capacity(self.recordings.len());
        for recording in self.recordings {
            let Some(title) = recording.title.winner() else {
                self.left_out += 1;
                continue;
            };
            let artist = recording.artist.winner().unwrap_or_default();
            let upc = recording.upc.winner();
            let gtin = upc.as_deref().and_then(ids::gtin14);
            let release_title = recording.release_title.winner();
            let parsed = names::title(&title);
            // A version stays in the title and its key, so that "Song" and
            // "Song (Live)" stay two tracks, and a second generation finds
            // both again.
            let title_key = if parsed.tags.is_empty() {
                parsed.base
            } else {
                names::fold(&title)
            };
            rows.push(ImportRow {
                isrc: recording.isrc,
                upc,
                gtin,
                title_key,
                artist_key: names::artists(&artist).key,
                release_title_key: release_title.as_deref().map(names::fold),
                label_key: None,
                version_key: String::new(),
                title,
                version: None,
                artist,
                release_title,
                label: None,
                catalog_number: recording.catalog_number.winner(),
                release_date: None,
            });
        }
        (rows, self.left_out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::Usage;
    use oas_domain::money::Amount;

    fn item(artist: &str, title: &str, release: &str, isrc: &str, upc: &str, lines: i64) -> Item {
        Item {
            usage: Usage {
                artist: artist.into(),
                track_title: title.into(),
                release_title: release.into(),
                isrc: isrc.into(),
                upc: upc.into(),
                catalog_number: String::new(),
            },
            lines,
            quantity: lines,
            revenue: Amount::ZERO,
        }
    }

    #[test]
    fn one_track_per_isrc_named_by_the_most_lines() {
        let mut generation = Generation::default();
        generation.add(&[
            item(
                "Beatles, The",
                "Here Comes The Sun",
                "Abbey Road",
                "GBAYE0601690",
                "",
                2,
            ),
            item(
                "The Beatles",
                "Here Comes the Sun - 2019 Mix",
                "Abbey Road",
                "gb-aye-06-01690",
                "602547202840",
                5,
            ),
        ]);
        generation.add(&[item(
            "The Beatles",
            "Here Comes the Sun - 2019 Mix",
            "Abbey Road (Super Deluxe)",
            "GBAYE0601690",
            "602547202840",
            1,
        )]);
        assert_eq!(generation.len(), 1);
        let (rows, left_out) = generation.rows();
        assert_eq!(left_out, 0);
        let row = &rows[0];
        assert_eq!(row.isrc.as_deref(), Some("GBAYE0601690"));
        assert_eq!(row.artist, "The Beatles");
        assert_eq!(row.title, "Here Comes the Sun - 2019 Mix");
        assert_eq!(row.release_title.as_deref(), Some("Abbey Road"));
        assert_eq!(row.upc.as_deref(), Some("602547202840"));
        assert_eq!(row.gtin, ids::gtin14("602547202840"));
    }

    #[test]
    fn without_an_isrc_a_recording_is_its_artist_and_title_and_versions_stay_apart() {
        let mut generation = Generation::default();
        generation.add(&[
            item("Sigur Rós", "Hoppípolla", "Takk...", "", "", 3),
            item("SIGUR ROS", "Hoppipolla", "Takk", "", "", 1),
            item("Sigur Rós", "Hoppípolla (Live)", "", "", "", 1),
            item("Nobody", "  ", "", "", "", 4),
            // A bad UPC names no release key.
            item("Sigur Rós", "Glósóli", "Takk...", "", "123", 1),
        ]);
        let (rows, left_out) = generation.rows();
        assert_eq!(left_out, 1);
        let titles: Vec<&str> = rows.iter().map(|r| r.title.as_str()).collect();
        assert_eq!(titles, ["Hoppípolla", "Hoppípolla (Live)", "Glósóli"]);
        assert_eq!(rows[0].artist, "Sigur Rós");
        assert_ne!(rows[0].title_key, rows[1].title_key);
        assert_eq!(rows[2].upc, None);
        assert_eq!(rows[2].release_title.as_deref(), Some("Takk..."));
    }

    #[test]
    fn ties_are_broken_the_same_whatever_the_order() {
        let a = item("A", "Song", "", "USRC17607839", "", 1);
        let b = item("a", "SONG", "", "USRC17607839", "", 1);
        let mut one = Generation::default();
        one.add(&[a.clone(), b.clone()]);
        let mut two = Generation::default();
        two.add(&[b, a]);
        assert_eq!(one.rows().0, two.rows().0);
    }
}
