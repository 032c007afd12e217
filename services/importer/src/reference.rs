//! A plain importer, obviously right and slow: every record read in order
//! with the csv crate, mapped with the same format, and summed into one map
//! per dimension. The property test below runs the fast importer
//! ([`crate::table::import`]: blocks on every core, dictionaries, groups
//! found at a block's end, packed identifier keys, ledgers merged) over
//! generated reports, at several block sizes, and requires the same
//! totals and the same groups, names and sums as this one.
//!
//! The grouping rules are written here again on their own: an artist,
//! store or territory by its name (case and runs of spaces aside), a track
//! by its ISRC (else its title and artist), a release by its UPC (else its
//! title and artist); a group is named after its earliest line.

use std::collections::BTreeMap;

use oas_domain::money::Amount;
use oas_platform::snapshots::Dimension;
use oas_sales::format::{FormatSpec, Line, Mapper};

/// A group as the plain importer sums it: its name, revenue and quantity.
pub type Group = (String, Amount, i64);

/// What the plain importer found.
#[derive(Debug, PartialEq, Eq)]
pub struct Plain {
    pub lines: i64,
    pub total: Amount,
    pub quantity: i64,
    pub groups: BTreeMap<Dimension, BTreeMap<String, Group>>,
}

fn normalised(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The group key and name of `line` in `dimension`.
fn group(dimension: Dimension, line: &Line) -> (String, String) {
    let unknown = || "(unknown)".to_owned();
    let named = |value: &Option<String>| value.clone().unwrap_or_else(unknown);
    // Without a title (nor an identifier) nothing tells releases or
    // tracks apart: one group of what is unknown, whatever the artist.
    let by_title = |title: &Option<String>| match title {
        None => (unknown(), unknown()),
        Some(title) => {
            let artist = line.artist.as_deref().map(normalised).unwrap_or_default();
            (
                format!("{}\u{1f}{artist}", normalised(title)),
                title.clone(),
            )
        }
    };
    match dimension {
        Dimension::Artist => (normalised(&named(&line.artist)), named(&line.artist)),
        Dimension::Dsp => (normalised(&named(&line.dsp)), named(&line.dsp)),
        Dimension::Territory => (normalised(&named(&line.territory)), named(&line.territory)),
        Dimension::Track => match &line.isrc {
            Some(isrc) => (
                isrc.clone(),
                line.track_title.clone().unwrap_or(isrc.clone()),
            ),
            None => by_title(&line.track_title),
        },
        Dimension::Release => match &line.upc {
            Some(upc) => (
                upc.clone(),
                line.release_title.clone().unwrap_or(upc.clone()),
            ),
            None => by_title(&line.release_title),
        },
    }
}

/// Imports the comma-separated `text` (header first) with `spec`.
pub fn import(text: &str, spec: &FormatSpec) -> Plain {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map(|h| h.iter().map(str::to_owned).collect())
        .unwrap_or_default();
    let mapper = Mapper::new(spec, &header, &[]);
    let mut plain = Plain {
        lines: 0,
        total: Amount::ZERO,
        quantity: 0,
        groups: Dimension::ALL
            .into_iter()
            .map(|d| (d, BTreeMap::new()))
            .collect(),
    };
    for record in reader.records().map_while(Result::ok) {
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        let Ok(line) = mapper.line(&record) else {
            continue;
        };
        let Ok(amount) = Amount::parse(&line.net_revenue) else {
            continue;
        };
        plain.lines += 1;
        plain.total += amount;
        plain.quantity += line.quantity;
        for dimension in Dimension::ALL {
            let (key, name) = group(dimension, &line);
            let sums = plain
                .groups
                .entry(dimension)
                .or_default()
                .entry(key)
                .or_insert((name, Amount::ZERO, 0));
            sums.1 += amount;
            sums.2 += line.quantity;
        }
    }
    plain
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lines::Constants;
    use crate::table::{Source, import as fast_import};

    /// A small generator that needs no crate: the same seed, the same report.
    struct Seeded(u64);

    impl Seeded {
        fn next(&mut self, below: u64) -> u64 {
            // xorshift64*
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % below.max(1)
        }

        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from[self.next(from.len() as u64) as usize]
        }
    }

    /// A report in the OAS standard layout: names spelt several ways,
    /// tracks with and without ISRCs, releases with and without UPCs,
    /// blank lines, amounts of up to 12 places.
    fn report(seed: u64, lines: usize) -> String {
        let mut random = Seeded(seed | 1);
        let artists = [
            "Luna Vale",
            "luna  vale",
            "LUNA VALE",
            "Night Shift",
            "Òscar Ruiz",
            "the echo",
        ];
        let stores = ["Spotify", "spotify", "Apple Music", "Deezer", "TikTok"];
        let territories = ["DE", "GB", "US", "FR", "BR"];
        let titles = [
            "Harbour Lights",
            "harbour lights",
            "Undertow",
            "Tides",
            "Ámbar",
        ];
        let releases = ["Tides", "Lights EP", "Undertow (Deluxe)"];
        let mut text = String::from(
            "dsp,territory,artist,track_title,isrc,release_title,upc,quantity,net_revenue,currency\n",
        );
        for n in 0..lines {
            if random.next(40) == 0 {
                text.push('\n');
            }
            let isrc = match random.next(4) {
                0 => String::new(),
                _ => format!("DEA12{:07}", random.next(60)),
            };
            let upc = match random.next(2) {
                0 => String::new(),
                _ => format!("0602537{:05}", random.next(9)),
            };
            let amount = format!("{}.{:012}", random.next(3), random.next(1_000_000_000_000));
            text.push_str(&format!(
                "{},{},{},{},{isrc},{},{upc},{},{amount},USD\n",
                random.pick(&stores),
                random.pick(&territories),
                random.pick(&artists),
                random.pick(&titles),
                random.pick(&releases),
                1 + random.next(5) + (n % 2) as u64,
            ));
        }
        text
    }

    /// The fast importer's result as the plain one writes it.
    fn fast(text: &str, block: usize) -> Plain {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("clean.csv");
        std::fs::write(&path, text).unwrap();
        let source = Source {
            path: &path,
            skip_lines: 0,
            delimiter: b',',
            data_end: None,
            rows: None,
            block,
            hash: false,
        };
        let constants = Constants {
            organisation_id: 1,
            file_id: 1,
            base_currency: "USD".into(),
        };
        let mut hashed = None;
        let imported = fast_import(
            &source,
            &[],
            &crate::rates::tests::params(),
            constants,
            &folder.path().join("lines.parquet"),
            &mut hashed,
        )
        .unwrap();
        let groups = imported
            .totals
            .rows()
            .into_iter()
            .map(|(dimension, rows)| {
                let rows = rows
                    .into_iter()
                    .map(|row| (row.key, (row.name, row.revenue, row.quantity)))
                    .collect();
                (dimension, rows)
            })
            .collect();
        Plain {
            lines: imported.lines,
            total: imported.total,
            quantity: imported.quantity,
            groups,
        }
    }

    #[test]
    fn the_fast_importer_finds_what_the_plain_one_finds_whatever_the_report_and_the_blocks() {
        let spec = oas_sales::format::builtin()
            .unwrap()
            .into_iter()
            .find(|f| f.slug == "oas-standard")
            .unwrap();
        for seed in 1..=6u64 {
            let text = report(seed * 7919, 200 + (seed as usize * 97) % 900);
            let plain = import(&text, &spec);
            assert!(plain.lines >= 200, "seed {seed}: {} lines", plain.lines);
            for block in [1 << 20, 2048, 97] {
                let fast = fast(&text, block);
                assert_eq!(fast.lines, plain.lines, "seed {seed}, block {block}");
                assert_eq!(fast.total, plain.total, "seed {seed}, block {block}");
                assert_eq!(fast.quantity, plain.quantity, "seed {seed}, block {block}");
                for dimension in Dimension::ALL {
                    assert_eq!(
                        fast.groups.get(&dimension),
                        plain.groups.get(&dimension),
                        "seed {seed}, block {block}, {dimension:?}"
                    );
                }
            }
        }
    }
}
