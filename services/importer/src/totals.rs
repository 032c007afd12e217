//! The snapshot's totals, summed exactly as lines stream past.

use hashbrown::HashMap;
use hashbrown::hash_map::EntryRef;

use compact_str::CompactString;
use oas_domain::money::Amount;
use oas_platform::snapshots::{Dimension, SnapshotRow};
use oas_sales::format::Line;

/// One dimension's groups. The table holds, beside each key, what every
/// line of the group adds to (its revenue and quantity), so a line reads
/// one place per group: a key of up to 24 bytes (an ISRC, a UPC, most
/// names) is held inline, and the sums next to it. What is read once or
/// rarely (names, identifiers, the base-currency difference of converted
/// lines) is kept apart, in `info`. Hashed with foldhash: fast, and seeded
/// per process.
#[derive(Debug, Default)]
struct Groups {
    table: HashMap<CompactString, Sums, foldhash::fast::RandomState>,
    info: Vec<Info>,
}

impl Groups {
    fn len(&self) -> usize {
        self.info.len()
    }

    /// The sums of the group of `key`, made with `info()` if it is new
    /// (one lookup by the borrowed key, an allocation only for a new
    /// group), and every group's info.
    fn sums(&mut self, key: &str, info: impl FnOnce() -> Info) -> (&mut Sums, &mut [Info]) {
        let Groups { table, info: all } = self;
        let sums = match table.entry_ref(key) {
            EntryRef::Occupied(entry) => entry.into_mut(),
            EntryRef::Vacant(entry) => {
                let at = u32::try_from(all.len()).unwrap_or(u32::MAX);
                all.push(info());
                entry.insert(Sums {
                    info: at,
                    upc_missing: true,
                    ..Sums::default()
                })
            }
        };
        (sums, all)
    }
}

/// What each line adds to a group.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    revenue: Amount,
    quantity: i64,
    /// The group's place in [`Groups::info`].
    info: u32,
    /// No line of the group has had a UPC yet.
    upc_missing: bool,
}

/// What a group is called and known by, and the sum only converted lines
/// add to.
#[derive(Debug, Clone, Default)]
struct Info {
    name: String,
    /// The line the name was taken from: the group's first.
    first: i64,
    isrc: Option<String>,
    upc: Option<String>,
    /// The line the UPC was taken from.
    upc_at: i64,
    /// The base-currency revenue less the revenue: nothing to add at rate 1.
    base_extra: Amount,
}

/// Totals by artist, DSP, territory, track and release, and overall.
#[derive(Debug, Default)]
pub struct Totals {
    pub lines: i64,
    pub revenue: Amount,
    pub base_revenue: Amount,
    pub quantity: i64,
    groups: [Groups; 5],
    /// Buffers for a line's group keys, one per dimension, reused line
    /// after line.
    keys: [String; 5],
}

/// Writes `text` into `out` lower-cased with runs of whitespace as one space.
fn normalise_into(out: &mut String, text: &str) {
    for (i, word) in text.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if word.is_ascii() {
            let from = out.len();
            out.push_str(word);
            out[from..].make_ascii_lowercase();
        } else {
            out.extend(word.chars().flat_map(char::to_lowercase));
        }
    }
}

const UNKNOWN: &str = "(unknown)";

/// Writes the group key of `line` for `dimension` into `key`, and returns
/// the group's display name.
fn group_of<'l>(dimension: Dimension, line: &'l Line, key: &mut String) -> &'l str {
    key.clear();
    let name = |value: &'l Option<String>| value.as_deref().unwrap_or(UNKNOWN);
    let with_artist = |title: &'l Option<String>, key: &mut String| {
        normalise_into(key, name(title));
        key.push('\u{1f}');
        if let Some(artist) = &line.artist {
            normalise_into(key, artist);
        }
        name(title)
    };
    match dimension {
        Dimension::Artist => {
            normalise_into(key, name(&line.artist));
            name(&line.artist)
        }
        Dimension::Dsp => {
            normalise_into(key, name(&line.dsp));
            name(&line.dsp)
        }
        Dimension::Territory => {
            normalise_into(key, name(&line.territory));
            name(&line.territory)
        }
        Dimension::Track => match &line.isrc {
            Some(isrc) => {
                key.push_str(isrc);
                line.track_title.as_deref().unwrap_or(isrc)
            }
            None => with_artist(&line.track_title, key),
        },
        Dimension::Release => match &line.upc {
            Some(upc) => {
                key.push_str(upc);
                line.release_title.as_deref().unwrap_or(upc)
            }
            None => with_artist(&line.release_title, key),
        },
    }
}

impl Totals {
    /// Adds line `number`, of `amount` (file currency) and `base` in the
    /// base currency.
    pub fn add(&mut self, number: i64, line: &Line, amount: Amount, base: Amount) {
        self.lines += 1;
        self.revenue += amount;
        self.base_revenue += base;
        self.quantity += line.quantity;
        let extra = (base != amount).then(|| base + -amount);
        // Every key first, then every lookup: the lookups' memory reads,
        // each far from the last, overlap instead of waiting in turn.
        let mut keys = std::mem::take(&mut self.keys);
        let names = std::array::from_fn::<_, 5, _>(|index| {
            group_of(Dimension::ALL[index], line, &mut keys[index])
        });
        for (index, dimension) in Dimension::ALL.into_iter().enumerate() {
            let (key, name) = (&keys[index], names[index]);
            let groups = &mut self.groups[index];
            let (sums, infos) = groups.sums(key, || Info {
                name: name.to_owned(),
                first: number,
                // A track with an ISRC is keyed by it: its lines all
                // carry it.
                isrc: match dimension {
                    Dimension::Track => line.isrc.clone(),
                    _ => None,
                },
                ..Info::default()
            });
            sums.revenue += amount;
            sums.quantity += line.quantity;
            let upc_found = sums.upc_missing
                && line.upc.is_some()
                && matches!(dimension, Dimension::Release | Dimension::Track);
            sums.upc_missing &= !upc_found;
            if extra.is_none() && !upc_found {
                continue;
            }
            let info = &mut infos[sums.info as usize];
            if let Some(extra) = extra {
                info.base_extra += extra;
            }
            if upc_found {
                info.upc.clone_from(&line.upc);
                info.upc_at = number;
            }
        }
        self.keys = keys;
    }

    /// Adds the totals of other lines of the same file, summed apart: each
    /// group keeps the name and identifiers of its earliest line, as if
    /// all lines had been summed here in order.
    pub fn merge(&mut self, other: Totals) {
        self.lines += other.lines;
        self.revenue += other.revenue;
        self.base_revenue += other.base_revenue;
        self.quantity += other.quantity;
        for (groups, theirs) in self.groups.iter_mut().zip(other.groups) {
            let mut their_info = theirs.info.into_iter().map(Some).collect::<Vec<_>>();
            for (key, their_sums) in theirs.table {
                let Some(their) = their_info
                    .get_mut(their_sums.info as usize)
                    .and_then(Option::take)
                else {
                    continue;
                };
                let mut their = Some(their);
                let (sums, infos) = groups.sums(&key, || their.take().unwrap_or_default());
                let Some(their) = their else {
                    // A group new here: theirs, as it was.
                    sums.revenue = their_sums.revenue;
                    sums.quantity = their_sums.quantity;
                    sums.upc_missing = their_sums.upc_missing;
                    continue;
                };
                sums.revenue += their_sums.revenue;
                sums.quantity += their_sums.quantity;
                sums.upc_missing &= their_sums.upc_missing;
                let info = &mut infos[sums.info as usize];
                info.base_extra += their.base_extra;
                if their.first < info.first {
                    info.name = their.name;
                    info.first = their.first;
                }
                if info.isrc.is_none() {
                    info.isrc = their.isrc;
                }
                let earlier_upc =
                    their.upc.is_some() && (info.upc.is_none() || their.upc_at < info.upc_at);
                if earlier_upc {
                    info.upc = their.upc;
                    info.upc_at = their.upc_at;
                }
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
            let groups = &self.groups[index];
            for (key, sums) in &groups.table {
                let Some(info) = groups.info.get(sums.info as usize) else {
                    continue;
                };
                rows.push(SnapshotRow {
                    key: key.to_string(),
                    name: info.name.clone(),
                    isrc: info.isrc.clone(),
                    upc: info.upc.clone(),
                    revenue: sums.revenue,
                    base_revenue: sums.revenue + info.base_extra,
                    quantity: sums.quantity,
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
        for (number, (artist, isrc, title, quantity, amount)) in [
            ("Joker Face", Some("DEOK41100074"), "Struggles", 8, "0.1"),
            ("joker  face", Some("DEOK41100074"), "Struggles", 2, "0.2"),
            ("Other", None, "Song", 1, "-0.3"),
            ("Else", None, "Song", 1, "0.3"),
        ]
        .into_iter()
        .enumerate()
        {
            let l = line(artist, isrc, title, quantity);
            totals.add(number as i64, &l, a(amount), a(amount));
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

    #[test]
    fn totals_summed_apart_and_merged_equal_totals_summed_in_order() {
        let a = |s: &str| Amount::parse(s).unwrap();
        let lines: Vec<(i64, Line, Amount)> = [
            ("Joker Face", Some("DEOK41100074"), None, 3, "0.125"),
            (
                "JOKER FACE",
                Some("DEOK41100074"),
                Some("602517646489"),
                1,
                "1.5",
            ),
            ("Other", None, None, 2, "-0.5"),
            (
                "joker face",
                Some("DEOK41100074"),
                Some("602517646496"),
                4,
                "2",
            ),
            ("Other", None, Some("602517646489"), 1, "0.25"),
        ]
        .into_iter()
        .enumerate()
        .map(|(n, (artist, isrc, upc, quantity, amount))| {
            let mut l = line(artist, isrc, "Song", quantity);
            l.upc = upc.map(str::to_owned);
            (n as i64 + 1, l, a(amount))
        })
        .collect();
        // Every other line converted (at rate 2), the others at rate 1.
        let base = |n: i64, amount: Amount| if n % 2 == 0 { amount + amount } else { amount };
        let mut in_order = Totals::default();
        for (n, l, amount) in &lines {
            in_order.add(*n, l, *amount, base(*n, *amount));
        }
        // Lines 2 and 4 summed on one side, the others on the other, and
        // the later side merged into the earlier one's.
        let (mut odd, mut even) = (Totals::default(), Totals::default());
        for (n, l, amount) in &lines {
            let side = if n % 2 == 0 { &mut even } else { &mut odd };
            side.add(*n, l, *amount, base(*n, *amount));
        }
        even.merge(odd);
        assert_eq!(even.lines, in_order.lines);
        assert_eq!(even.revenue, in_order.revenue);
        let sorted = |t: &Totals| {
            let mut rows: Vec<_> = t
                .rows()
                .into_iter()
                .flat_map(|(d, rows)| {
                    rows.into_iter().map(move |r| {
                        (
                            format!("{d:?}"),
                            r.key,
                            r.name,
                            r.isrc,
                            r.upc,
                            (r.revenue, r.base_revenue, r.quantity),
                        )
                    })
                })
                .collect();
            rows.sort();
            rows
        };
        assert_eq!(sorted(&even), sorted(&in_order));
        for (_, rows) in even.rows() {
            let base_sum: Amount = rows.iter().map(|r| r.base_revenue).sum();
            assert_eq!(base_sum, in_order.base_revenue, "base sums add up");
        }
        assert_ne!(even.base_revenue, even.revenue, "some lines were converted");
        let artists = even
            .rows()
            .into_iter()
            .find(|(d, _)| *d == Dimension::Artist);
        let joker = artists
            .unwrap()
            .1
            .into_iter()
            .find(|r| r.key == "joker face")
            .unwrap();
        assert_eq!(joker.name, "Joker Face", "the name of the earliest line");
    }
}
