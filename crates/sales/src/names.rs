//! Titles and artist names as catalogs and stores write them, reduced to
//! what identifies a recording.
//!
//! Folding ([`fold`]) ignores what stores change freely: case, accents,
//! typographic punctuation, `&` against `and`, a leading "The", spacing.
//! Parsing ([`title`], [`artists`]) keeps what they carry as data:
//! featured artists (`feat.`, `ft.`, `featuring`, `with` in brackets) are
//! split out as names, and version words (live, remix, radio edit, …) as
//! [`Tags`], because a different version is a different recording.

use std::fmt;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Lower case, accents dropped, every run of characters other than letters
/// and digits one space, `&` read as "and", apostrophes dropped ("Don't"
/// is "dont"), and a leading "the" dropped.
pub fn fold(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut space = true;
    let push = |out: &mut String, c: char, space: &mut bool| {
        if c == ' ' {
            if !*space {
                out.push(' ');
                *space = true;
            }
        } else {
            out.push(c);
            *space = false;
        }
    };
    for c in raw.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        match c {
            '\'' | '\u{2019}' | '\u{2018}' | '`' | '\u{b4}' | '\u{2bc}' => {}
            '&' => {
                push(&mut out, ' ', &mut space);
                for c in "and".chars() {
                    push(&mut out, c, &mut space);
                }
                push(&mut out, ' ', &mut space);
            }
            'ß' => {
                push(&mut out, 's', &mut space);
                push(&mut out, 's', &mut space);
            }
            'æ' | 'Æ' => {
                push(&mut out, 'a', &mut space);
                push(&mut out, 'e', &mut space);
            }
            'œ' | 'Œ' => {
                push(&mut out, 'o', &mut space);
                push(&mut out, 'e', &mut space);
            }
            'ø' | 'Ø' => push(&mut out, 'o', &mut space),
            'ł' | 'Ł' => push(&mut out, 'l', &mut space),
            'đ' | 'Đ' => push(&mut out, 'd', &mut space),
            c if c.is_alphanumeric() => {
                for lower in c.to_lowercase() {
                    push(&mut out, lower, &mut space);
                }
            }
            _ => push(&mut out, ' ', &mut space),
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    match out.strip_prefix("the ") {
        Some(rest) => rest.to_owned(),
        None => out,
    }
}

/// Version words found in a title or a catalog track's version, as bits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tags(u16);

impl Tags {
    pub const LIVE: Tags = Tags(1);
    pub const REMIX: Tags = Tags(1 << 1);
    pub const RADIO_EDIT: Tags = Tags(1 << 2);
    pub const ACOUSTIC: Tags = Tags(1 << 3);
    pub const INSTRUMENTAL: Tags = Tags(1 << 4);
    pub const EXTENDED: Tags = Tags(1 << 5);
    pub const REMASTER: Tags = Tags(1 << 6);
    pub const DEMO: Tags = Tags(1 << 7);
    pub const MONO: Tags = Tags(1 << 8);
    pub const EXPLICIT: Tags = Tags(1 << 9);
    pub const CLEAN: Tags = Tags(1 << 10);

    const NAMES: [(Tags, &'static str); 11] = [
        (Tags::LIVE, "live"),
        (Tags::REMIX, "remix"),
        (Tags::RADIO_EDIT, "radio edit"),
        (Tags::ACOUSTIC, "acoustic"),
        (Tags::INSTRUMENTAL, "instrumental"),
        (Tags::EXTENDED, "extended"),
        (Tags::REMASTER, "remaster"),
        (Tags::DEMO, "demo"),
        (Tags::MONO, "mono"),
        (Tags::EXPLICIT, "explicit"),
        (Tags::CLEAN, "clean"),
    ];

    /// Tags that name the same recording: a remaster is the recording
    /// remastered, and "explicit" is how a store marks the original
    /// lyrics. (A clean edit is an edit: another recording.)
    const SAME_RECORDING: u16 = Tags::REMASTER.0 | Tags::EXPLICIT.0;

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn contains(self, other: Tags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The tags that make another recording.
    pub fn version(self) -> Tags {
        Tags(self.0 & !Tags::SAME_RECORDING)
    }

    /// Whether `self` and `other` name the same version of a recording.
    pub fn same_version(self, other: Tags) -> bool {
        self.version() == other.version()
    }

    /// The tags of a version or a title segment, folded: `"2011 Remaster"`,
    /// `"Radio Edit"`, `"Live at Wembley"`.
    pub fn of(folded: &str) -> Tags {
        let words: Vec<&str> = folded.split(' ').collect();
        let has = |w: &str| words.contains(&w);
        let mut tags = Tags::default();
        if has("live") || has("unplugged") && !has("acoustic") {
            tags |= if has("unplugged") {
                Tags::ACOUSTIC
            } else {
                Tags::LIVE
            };
        }
        if has("remix") || has("rmx") || has("remixed") {
            tags |= Tags::REMIX;
        }
        if has("radio") || has("edit") {
            tags |= Tags::RADIO_EDIT;
        }
        if has("acoustic") {
            tags |= Tags::ACOUSTIC;
        }
        if has("instrumental") {
            tags |= Tags::INSTRUMENTAL;
        }
        if has("extended") {
            tags |= Tags::EXTENDED;
        }
        if words
            .iter()
            .any(|w| w.starts_with("remaster") || *w == "remastered")
        {
            tags |= Tags::REMASTER;
        }
        if has("demo") {
            tags |= Tags::DEMO;
        }
        if has("mono") {
            tags |= Tags::MONO;
        }
        if has("explicit") {
            tags |= Tags::EXPLICIT;
        }
        if has("clean") {
            tags |= Tags::CLEAN;
        }
        // "Club Mix", "Dub Mix": a mix that is neither the original nor a
        // radio or extended one is a remix.
        if has("mix")
            && !has("original")
            && !tags.contains(Tags::RADIO_EDIT)
            && !tags.contains(Tags::EXTENDED)
        {
            tags |= Tags::REMIX;
        }
        tags
    }
}

impl std::ops::BitOr for Tags {
    type Output = Tags;
    fn bitor(self, other: Tags) -> Tags {
        Tags(self.0 | other.0)
    }
}

impl std::ops::BitOrAssign for Tags {
    fn bitor_assign(&mut self, other: Tags) {
        self.0 |= other.0;
    }
}

impl fmt::Display for Tags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (tag, name) in Tags::NAMES {
            if self.contains(tag) {
                if !first {
                    f.write_str(", ")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("original")?;
        }
        Ok(())
    }
}

/// Segments that say nothing of the version: the original.
const PLAIN_VERSIONS: [&str; 7] = [
    "original",
    "original mix",
    "original version",
    "album version",
    "single version",
    "stereo",
    "main version",
];

/// A title read: the words that name the work, its version tags and its
/// featured artists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Title {
    /// Folded, without version or featuring segments.
    pub base: String,
    pub tags: Tags,
    /// Folded names.
    pub featured: Vec<String>,
}

/// Reads a title: bracketed segments (`(…)`, `[…]`, `{…}`) and segments
/// after a spaced dash (`Song - 2011 Remaster`) are version tags or
/// featured artists when they read as such, and part of the title
/// otherwise (`Song (Interlude)`); an unbracketed `feat.` ends the title.
pub fn title(raw: &str) -> Title {
    let mut main = String::with_capacity(raw.len());
    let mut segments: Vec<String> = Vec::new();
    let mut depth = 0usize;
    let mut inner = String::new();
    for c in raw.chars() {
        match c {
            '(' | '[' | '{' => {
                if depth == 0 {
                    inner.clear();
                } else {
                    inner.push(c);
                }
                depth += 1;
            }
            ')' | ']' | '}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    segments.push(std::mem::take(&mut inner));
                    main.push(' ');
                } else {
                    inner.push(c);
                }
            }
            _ if depth > 0 => inner.push(c),
            _ => main.push(c),
        }
    }
    if depth > 0 {
        // An unclosed bracket: its text is a segment all the same.
        segments.push(inner);
    }
    // "Song - Live", "Song – 2011 Remaster": the first part is the title.
    let mut parts = main.split([' ', '\u{a0}']).peekable();
    let mut head = String::new();
    let mut tail: Vec<String> = Vec::new();
    while let Some(word) = parts.next() {
        let dash = matches!(word, "-" | "\u{2013}" | "\u{2014}");
        if dash && !head.trim().is_empty() {
            let rest: Vec<&str> = parts.by_ref().collect();
            tail.push(rest.join(" "));
            break;
        }
        head.push_str(word);
        head.push(' ');
    }
    let mut read = Title::default();
    let (head, featured) = split_featuring(&fold(&head));
    read.featured.extend(featured);
    let mut base = head;
    for segment in segments.iter().chain(&tail) {
        let folded = fold(segment);
        if folded.is_empty() {
            continue;
        }
        if let Some(names) = featuring(&folded) {
            read.featured.extend(names);
            continue;
        }
        let tags = Tags::of(&folded);
        if !tags.is_empty() || PLAIN_VERSIONS.contains(&folded.as_str()) {
            read.tags |= tags;
        } else {
            if !base.is_empty() {
                base.push(' ');
            }
            base.push_str(&folded);
        }
    }
    if base.is_empty() {
        // A title that is only a version word ("Intro", "Live"): the words
        // are the title.
        base = fold(raw);
    }
    read.base = base;
    read.featured.sort();
    read.featured.dedup();
    read
}

/// Featuring markers, folded.
const FEATURING: [&str; 4] = ["feat", "ft", "featuring", "with"];

/// The names a folded segment features (`feat a and b`), if it starts
/// with a featuring marker.
fn featuring(folded: &str) -> Option<Vec<String>> {
    let (first, rest) = folded.split_once(' ')?;
    FEATURING
        .contains(&first)
        .then(|| split_names(rest))
        .filter(|names| !names.is_empty())
}

/// Splits a folded text at an unbracketed featuring marker other than
/// "with" (which is often part of a title): the text before it, and the
/// names after it.
fn split_featuring(folded: &str) -> (String, Vec<String>) {
    let words: Vec<&str> = folded.split(' ').collect();
    match words
        .iter()
        .position(|w| matches!(*w, "feat" | "ft" | "featuring"))
    {
        Some(at) if at > 0 => (
            words[..at].join(" "),
            split_names(&words[at + 1..].join(" ")),
        ),
        _ => (folded.to_owned(), Vec::new()),
    }
}

/// Splits folded names at `and`, `x` and `vs` between names.
fn split_names(folded: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for word in folded.split(' ') {
        if matches!(word, "and" | "x" | "vs") {
            if !current.is_empty() {
                names.push(current.join(" "));
                current.clear();
            }
        } else if !word.is_empty() {
            current.push(word);
        }
    }
    if !current.is_empty() {
        names.push(current.join(" "));
    }
    names
}

/// An artist credit read: the main artists' key and the featured names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Artists {
    /// The main artists folded, without connecting "and": `"Simon &
    /// Garfunkel"`, `"Simon and Garfunkel"` and `"Simon, Garfunkel"` are
    /// all `"simon garfunkel"`.
    pub key: String,
    /// Folded names of the featured artists, sorted.
    pub featured: Vec<String>,
}

/// Reads an artist credit: `"A feat. B"`, `"A (feat. B & C)"`, `"A, B"`.
pub fn artists(raw: &str) -> Artists {
    let mut main = String::with_capacity(raw.len());
    let mut featured = Vec::new();
    let mut depth = 0usize;
    let mut inner = String::new();
    for c in raw.chars() {
        match c {
            '(' | '[' => {
                depth += 1;
                inner.clear();
            }
            ')' | ']' if depth > 0 => {
                depth -= 1;
                let folded = fold(&inner);
                match featuring(&folded) {
                    Some(names) => featured.extend(names),
                    None => {
                        main.push(' ');
                        main.push_str(&inner);
                    }
                }
            }
            _ if depth > 0 => inner.push(c),
            _ => main.push(c),
        }
    }
    let (head, names) = split_featuring(&fold(&main));
    featured.extend(names);
    featured.sort();
    featured.dedup();
    Artists {
        key: artist_key(&head),
        featured,
    }
}

/// A folded credit without the words that join names.
fn artist_key(folded: &str) -> String {
    let words: Vec<&str> = folded
        .split(' ')
        .filter(|w| !w.is_empty() && *w != "and")
        .collect();
    if words.is_empty() {
        // A credit that is only "and" is its own key.
        return folded.to_owned();
    }
    words.join(" ")
}

/// The fields of a sales line that make its usage item: lines of a file
/// with the same five values (as written, a missing one as empty) are one
/// item, matched once.
pub const ITEM_FIELDS: [&str; 5] = ["artist", "track_title", "release_title", "isrc", "upc"];

/// What identifies a usage item to a remembered rule: its artist and
/// title as written (folded), and its identifiers normalised (empty when
/// absent or invalid).
#[derive(
    Debug,
    Clone,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
pub struct ItemKey {
    pub artist: String,
    pub title: String,
    pub isrc: String,
    pub gtin: String,
}

impl ItemKey {
    pub fn new(artist: &str, title: &str, isrc: Option<&str>, upc: Option<&str>) -> ItemKey {
        ItemKey {
            artist: fold(artist),
            title: fold(title),
            isrc: isrc.and_then(crate::ids::isrc).unwrap_or_default(),
            gtin: upc.and_then(crate::ids::gtin14).unwrap_or_default(),
        }
    }

    /// Whether a rule for `self` covers `item`: the same artist and title,
    /// and the same identifiers where the rule names them.
    pub fn covers(&self, item: &ItemKey) -> bool {
        self.artist == item.artist
            && self.title == item.title
            && (self.isrc.is_empty() || self.isrc == item.isrc)
            && (self.gtin.is_empty() || self.gtin == item.gtin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_what_stores_change() {
        for (a, b) in [
            ("Beyoncé", "BEYONCE"),
            ("Sigur Rós", "sigur ros"),
            ("Don’t Stop", "Dont Stop"),
            ("Rock & Roll", "rock and roll"),
            ("The Beatles", "Beatles"),
            ("  Hello,   World!  ", "hello world"),
            ("Motörhead", "Motorhead"),
            ("Straße", "strasse"),
            ("Ｆｕｌｌ Ｗｉｄｔｈ", "full width"),
        ] {
            assert_eq!(fold(a), fold(b), "{a} / {b}");
        }
        assert_eq!(fold("The The"), "the");
        assert_eq!(fold("Rock & Roll"), "rock and roll");
        assert_ne!(fold("Song 1"), fold("Song 2"));
    }

    #[test]
    fn titles_split_versions_and_featured_artists() {
        let read = title("Blinding Lights (feat. Rosalía) [Live at Wembley]");
        assert_eq!(read.base, "blinding lights");
        assert_eq!(read.tags, Tags::LIVE);
        assert_eq!(read.featured, vec!["rosalia"]);

        let read = title("Here Comes the Sun - 2019 Remaster");
        assert_eq!(read.base, "here comes the sun");
        assert_eq!(read.tags, Tags::REMASTER);
        assert!(read.tags.same_version(Tags::default()));

        let read = title("Song feat. A & B");
        assert_eq!(read.base, "song");
        assert_eq!(read.featured, vec!["a", "b"]);

        assert_eq!(title("Song (Radio Edit)").tags, Tags::RADIO_EDIT);
        assert_eq!(title("Song (Club Mix)").tags, Tags::REMIX);
        assert_eq!(title("Song (Original Mix)").tags, Tags::default());
        assert_eq!(title("Song (Original Mix)").base, "song");
        assert_eq!(title("Song (Extended Mix)").tags, Tags::EXTENDED);
        assert_eq!(title("Song - Acoustic").tags, Tags::ACOUSTIC);
        assert_eq!(title("Song (Interlude)").base, "song interlude");
        assert_eq!(title("Song (with Someone)").featured, vec!["someone"]);
        assert_eq!(title("Live").base, "live", "a title that is a version word");
        assert_eq!(title("Out of Time - Single Version").tags, Tags::default());
        assert_eq!(
            title("Anti-Hero").base,
            "anti hero",
            "an unspaced dash is a word"
        );
        assert!(!title("Song (Live)").tags.same_version(Tags::default()));
        assert!(title("Song (Explicit)").tags.same_version(Tags::default()));
    }

    #[test]
    fn artist_credits_split_featured_artists() {
        let read = artists("Calvin Harris feat. Dua Lipa");
        assert_eq!(read.key, "calvin harris");
        assert_eq!(read.featured, vec!["dua lipa"]);
        assert_eq!(
            artists("Simon & Garfunkel").key,
            artists("Simon and Garfunkel").key
        );
        assert_eq!(artists("Simon, Garfunkel").key, "simon garfunkel");
        assert_eq!(artists("A (feat. B)").featured, vec!["b"]);
        assert_eq!(artists("The Weeknd").key, "weeknd");
    }

    #[test]
    fn a_rule_names_the_identifiers_it_requires() {
        let item = ItemKey::new("Ann", "Song", Some("usx123000001"), Some("602517646483"));
        let rule = ItemKey::new("ANN", "song", None, None);
        assert!(rule.covers(&item));
        let pinned = ItemKey::new("Ann", "Song", Some("USX123000002"), None);
        assert!(!pinned.covers(&item));
        assert_eq!(item.gtin, "00602517646483");
    }
}
