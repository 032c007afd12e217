//! The snapshot's totals, summed exactly as lines stream past.

use std::collections::HashMap;

use oas_domain::money::Amount;
use oas_platform::snapshots::{Dimension, SnapshotRow};
use oas_sales::format::Line;

#[derive(Debug, Clone, Default)]
struct Group {
    name: String,
    isrc: Option<String>,
    upc: Option<String>,
    revenue: Amount,
    base_revenue: Amount,
    quantity: i64,
}

/// Totals by artist, DSP, territory, track and release, and overall.
#[derive(Debug, Default)]
pub struct Totals {
    pub lines: i64,
    pub revenue: Amount,
    pub base_revenue: Amount,
    pub quantity: i64,
    groups: [HashMap<String, Group>; 5],
}

fn normalised(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A group's key and display name for `dimension`.
fn group_of(dimension: Dimension, line: &Line) -> (String, String) {
    let named = |value: &Option<String>| {
        let name = value.clone().unwrap_or_else(|| "(unknown)".to_owned());
        (normalised(&name), name)
    };
    let with_artist = |title: &Option<String>| {
        let (key, name) = named(title);
        let artist = line.artist.as_deref().map(normalised).unwrap_or_default();
        (format!("{key}\u{1f}{artist}"), name)
    };
    match dimension {
        Dimension::Artist => named(&line.artist),
        Dimension::Dsp => named(&line.dsp),
        Dimension::Territory => named(&line.territory),
        Dimension::Track => match &line.isrc {
            Some(isrc) => (
                isrc.clone(),
                line.track_title.clone().unwrap_or_else(|| isrc.clone()),
            ),
            None => with_artist(&line.track_title),
        },
        Dimension::Release => match &line.upc {
            Some(upc) => (
                upc.clone(),
                line.release_title.clone().unwrap_or_else(|| upc.clone()),
            ),
            None => with_artist(&line.release_title),
        },
    }
}

impl Totals {
    /// Adds a line of `amount` (file currency), `base` in the base currency.
    pub fn add(&mut self, line: &Line, amount: Amount, base: Amount) {
        self.lines += 1;
        self.revenue += amount;
        self.base_revenue += base;
        self.quantity += line.quantity;
        for (index, dimension) in Dimension::ALL.into_iter().enumerate() {
            let (key, name) = group_of(dimension, line);
            let group = self.groups[index].entry(key).or_insert_with(|| Group {
                name,
                ..Group::default()
            });
            group.revenue += amount;
            group.base_revenue += base;
            group.quantity += line.quantity;
            if matches!(dimension, Dimension::Track) && group.isrc.is_none() {
                group.isrc.clone_from(&line.isrc);
            }
            if matches!(dimension, Dimension::Release | Dimension::Track) && group.upc.is_none() {
                group.upc.clone_from(&line.upc);
            }
        }
    }

    /// Distinct artists.
    pub fn artists(&self) -> usize {
        self.groups[0].len()
    }

    /// Each dimension's rows.
    pub fn rows(&self) -> Vec<(Dimension, Vec<SnapshotRow>)> {
        let mut all = Vec::new();
        for (index, dimension) in Dimension::ALL.into_iter().enumerate() {
            let mut rows = Vec::with_capacity(self.groups[index].len());
            for (key, group) in &self.groups[index] {
                rows.push(SnapshotRow {
                    key: key.clone(),
                    name: group.name.clone(),
                    isrc: group.isrc.clone(),
                    upc: group.upc.clone(),
                    revenue: group.revenue,
                    base_revenue: group.base_revenue,
                    quantity: group.quantity,
                });
            }
            all.push((dimension, rows));
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(artist: &str, isrc: Option<&str>, title: &str, quantity: i64) -> Line {
        Line {
            artist: Some(artist.to_owned()),
            isrc: isrc.map(str::to_owned),
            track_title: Some(title.to_owned()),
            dsp: Some("Spotify".into()),
            quantity,
            ..Line::default()
        }
    }

    #[test]
    fn groups_sum_exactly_and_tracks_without_an_isrc_group_by_title_and_artist() {
        let mut totals = Totals::default();
        let a = |s: &str| Amount::parse(s).unwrap();
        for (artist, isrc, title, quantity, amount) in [
            ("Joker Face", Some("DEOK41100074"), "Struggles", 8, "0.1"),
            ("joker  face", Some("DEOK41100074"), "Struggles", 2, "0.2"),
            ("Other", None, "Song", 1, "-0.3"),
            ("Else", None, "Song", 1, "0.3"),
        ] {
            totals.add(&line(artist, isrc, title, quantity), a(amount), a(amount));
        }
        assert_eq!(totals.lines, 4);
        assert_eq!(totals.revenue, a("0.3"));
        assert_eq!(
            totals.artists(),
            3,
            "artist names compare without case or spacing"
        );
        let rows = totals.rows();
        let tracks = &rows.iter().find(|(d, _)| *d == Dimension::Track).unwrap().1;
        assert_eq!(tracks.len(), 3);
        let joker = tracks.iter().find(|r| r.key == "DEOK41100074").unwrap();
        assert_eq!((joker.revenue, joker.quantity), (a("0.3"), 10));
        for (_, rows) in &rows {
            let sum: Amount = rows.iter().map(|r| r.revenue).sum();
            assert_eq!(sum, totals.revenue, "every dimension adds up to the total");
        }
    }
}
