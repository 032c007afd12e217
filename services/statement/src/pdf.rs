//! Renders a royalty statement of account to PDF bytes.
//!
//! The layout is computed in two passes: first every page is laid out into a
//! list of marks (text runs, rules, shaded bands) so the page count is known,
//! then the footers ("Page N of M") are added and the marks become printpdf
//! operations. Text widths come from the embedded DejaVu Sans glyph advances,
//! which is what right alignment, truncation and wrapping rely on.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use printpdf::{
    Color, DateTime, FontId, Greyscale, Line, LinePoint, Mm, Op, PaintMode, ParsedFont,
    PdfDocument, PdfFontHandle, PdfPage, PdfParseErrorSeverity, PdfSaveOptions, Point, Pt, Rect,
    TextItem, TextMatrix,
};

/// A statement as its PDF shows it: every text already formatted (amounts as text in the currency's format).
pub struct StatementDoc {
    /// The label issuing it, e.g. "Velvet Records Ltd".
    pub organisation: String,
    /// E.g. "Royalty statement" or "Sales statement".
    pub title: String,
    /// E.g. "Statement 1042".
    pub number: String,
    /// The payee's name.
    pub payee: String,
    /// Address lines, email, tax id (may be empty).
    pub payee_lines: Vec<String>,
    /// E.g. "Ana Lima recording agreement, version 3".
    pub contract: String,
    /// E.g. "January 2026 to March 2026".
    pub period: String,
    /// E.g. "Issued 2026-04-02" or "DRAFT, not approved".
    pub issued: String,
    /// E.g. "EUR".
    pub currency: String,
    /// The statement of account, in order.
    pub account: Vec<AccountRow>,
    /// Earnings by store, territory, release, track.
    pub sections: Vec<Section>,
    /// Paragraphs at the end (may be long; they are wrapped).
    pub notes: Vec<String>,
}

/// One line of the statement of account.
pub struct AccountRow {
    /// What the amount is, e.g. "Closing balance".
    pub label: String,
    /// The amount, already formatted.
    pub amount: String,
    /// Drawn bold (balances, totals); a rule is drawn above a strong row that follows plain rows.
    pub strong: bool,
    /// Drawn indented (an item of a group, e.g. one recouped cost).
    pub indent: bool,
}

/// An earnings table: name, quantity, amount.
pub struct Section {
    /// E.g. "Earnings by store".
    pub title: String,
    /// E.g. ["Store", "Quantity", "Royalty (EUR)"].
    pub columns: [String; 3],
    /// Name, quantity, amount; the last row may be "All others (12)".
    pub rows: Vec<[String; 3]>,
    /// A total row, drawn bold with a rule above.
    pub total: Option<[String; 3]>,
}

/// Why a statement could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The bundled font could not be parsed (should never happen with the DejaVu crate).
    #[error("cannot read the embedded {face} font: {detail}")]
    Font {
        /// Which face: "regular" or "bold".
        face: &'static str,
        /// What printpdf reported.
        detail: String,
    },
    /// printpdf reported errors while writing the PDF.
    #[error("cannot write the PDF: {0}")]
    Write(String),
}

// ---------------------------------------------------------------------------
// Page geometry (millimetres, y measured downwards from the top edge).

const PAGE_WIDTH: f32 = 210.0;
const PAGE_HEIGHT: f32 = 297.0;
const MARGIN_LEFT: f32 = 18.0;
const MARGIN_RIGHT: f32 = PAGE_WIDTH - 18.0;
const MARGIN_TOP: f32 = 18.0;
/// Content must end above this line; the footer lives below it.
const CONTENT_BOTTOM: f32 = PAGE_HEIGHT - 22.0;
const FOOTER_RULE_Y: f32 = PAGE_HEIGHT - 16.0;
const FOOTER_BASELINE: f32 = PAGE_HEIGHT - 11.5;
const TEXT_WIDTH: f32 = MARGIN_RIGHT - MARGIN_LEFT;

const PT_TO_MM: f32 = 25.4 / 72.0;
/// DejaVu Sans cap height as a fraction of the em, used to centre text in rows.
const CAP_HEIGHT_EM: f32 = 0.73;

// Type sizes (points).
const SIZE_ORGANISATION: f32 = 16.0;
const SIZE_TITLE: f32 = 11.0;
const SIZE_HEADING: f32 = 11.0;
const SIZE_BODY: f32 = 9.0;
const SIZE_LABEL: f32 = 7.5;
const SIZE_TABLE_HEAD: f32 = 8.0;
const SIZE_NOTES: f32 = 8.0;
const SIZE_FOOTER: f32 = 7.0;

// Greys (0 = black, 1 = white).
const INK: f32 = 0.1;
const MUTED: f32 = 0.4;
const RULE_DARK: f32 = 0.3;
const RULE_LIGHT: f32 = 0.7;
const ZEBRA: f32 = 0.955;

// Table geometry.
const ROW_HEIGHT: f32 = 5.6;
const ACCOUNT_ROW_HEIGHT: f32 = 6.2;
const HEAD_ROW_HEIGHT: f32 = 6.4;
const INDENT: f32 = 6.0;
const COLUMN_GAP: f32 = 8.0;
/// Where the contract details start in the header, as a fraction of the text width.
const DETAILS_AT: f32 = 0.46;

// ---------------------------------------------------------------------------
// Fonts and text measurement.

/// Which of the two embedded faces a text uses.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Face {
    Regular,
    Bold,
}

/// One DejaVu Sans face: its font file and the parse printpdf made of it.
struct FontFace {
    /// Family name written into the PDF, e.g. "DejaVuSans-Bold".
    name: &'static str,
    /// The TrueType file as shipped by the `dejavu` crate.
    source: &'static [u8],
    /// Glyph map and advance widths of the whole face, used for measuring.
    parsed: ParsedFont,
}

/// The two DejaVu Sans faces, parsed once per process.
struct Fonts {
    regular: FontFace,
    bold: FontFace,
}

impl Fonts {
    /// The parsed faces, parsed on first use and shared by every later render.
    fn get() -> Result<&'static Fonts, PdfError> {
        static FONTS: OnceLock<Result<Fonts, (&'static str, String)>> = OnceLock::new();
        FONTS
            .get_or_init(|| {
                Ok(Fonts {
                    regular: load_face("regular", "DejaVuSans", dejavu::sans::regular())?,
                    bold: load_face("bold", "DejaVuSans-Bold", dejavu::sans::bold())?,
                })
            })
            .as_ref()
            .map_err(|(face, detail)| PdfError::Font {
                face,
                detail: detail.clone(),
            })
    }

    fn face(&self, face: Face) -> &ParsedFont {
        &self.file(face).parsed
    }

    fn file(&self, face: Face) -> &FontFace {
        match face {
            Face::Regular => &self.regular,
            Face::Bold => &self.bold,
        }
    }

    /// Advance width of one character in font units (0 if the face lacks it).
    fn advance(&self, face: Face, c: char) -> u32 {
        let font = self.face(face);
        font.lookup_glyph_index(u32::from(c))
            .and_then(|gid| font.get_glyph_width(gid))
            .map_or(0, u32::from)
    }

    /// Millimetres per font unit at `size` points.
    fn unit_mm(&self, face: Face, size: f32) -> f32 {
        let upem = f32::from(self.face(face).units_per_em.max(1));
        size * PT_TO_MM / upem
    }

    /// Width of `text` in millimetres at `size` points.
    fn width(&self, face: Face, size: f32, text: &str) -> f32 {
        let units: u32 = text.chars().map(|c| self.advance(face, c)).sum();
        units as f32 * self.unit_mm(face, size)
    }

    /// `text` made drawable: control characters become spaces and characters the
    /// face has no glyph for become '?', so what is measured is what is drawn.
    fn clean(&self, face: Face, text: &str) -> String {
        let font = self.face(face);
        text.chars()
            .map(|c| {
                if c.is_control() || c.is_whitespace() {
                    ' '
                } else if font
                    .lookup_glyph_index(u32::from(c))
                    .is_some_and(|gid| gid != 0)
                {
                    c
                } else {
                    '?'
                }
            })
            .collect()
    }

    /// `text` cut to `max_width` mm, ending in an ellipsis when it had to be cut.
    fn truncate(&self, face: Face, size: f32, text: &str, max_width: f32) -> String {
        if self.width(face, size, text) <= max_width {
            return text.to_string();
        }
        let unit = self.unit_mm(face, size);
        let room = max_width - self.width(face, size, "…");
        if room < 0.0 {
            return String::new();
        }
        let mut used = 0.0;
        let mut end = 0;
        for (i, c) in text.char_indices() {
            used += self.advance(face, c) as f32 * unit;
            if used > room {
                break;
            }
            end = i + c.len_utf8();
        }
        format!("{}…", text[..end].trim_end())
    }

    /// `text` broken into lines no wider than `max_width` mm, at spaces where
    /// possible and inside overlong words otherwise.
    fn wrap(&self, face: Face, size: f32, text: &str, max_width: f32) -> Vec<String> {
        let space = self.width(face, size, " ");
        let mut lines = Vec::new();
        let mut line = String::new();
        let mut line_width = 0.0;
        for word in text.split(' ').filter(|w| !w.is_empty()) {
            let word_width = self.width(face, size, word);
            let needed = if line.is_empty() {
                word_width
            } else {
                line_width + space + word_width
            };
            if needed <= max_width {
                if !line.is_empty() {
                    line.push(' ');
                }
                line.push_str(word);
                line_width = needed;
                continue;
            }
            if word_width <= max_width {
                lines.push(std::mem::replace(&mut line, word.to_string()));
                line_width = word_width;
                continue;
            }
            // A word wider than a whole line (a long URL): carry on from where the
            // current line stands and break it wherever it overflows.
            if !line.is_empty() {
                line.push(' ');
                line_width += space;
            }
            for c in word.chars() {
                let w = self.width(face, size, c.encode_utf8(&mut [0; 4]));
                if line_width + w > max_width && !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    line_width = 0.0;
                }
                line.push(c);
                line_width += w;
            }
        }
        if !line.is_empty() || lines.is_empty() {
            lines.push(line);
        }
        lines
    }
}

/// Parses one bundled face, turning printpdf's warnings into a readable message.
fn load_face(
    face: &'static str,
    name: &'static str,
    source: &'static [u8],
) -> Result<FontFace, (&'static str, String)> {
    let parsed = parse_font(source).map_err(|detail| (face, detail))?;
    Ok(FontFace {
        name,
        source,
        parsed,
    })
}

/// printpdf's parse of a TrueType file, or why it failed.
fn parse_font(bytes: &[u8]) -> Result<ParsedFont, String> {
    let mut warnings = Vec::new();
    ParsedFont::from_bytes(bytes, 0, &mut warnings).ok_or_else(|| {
        if warnings.is_empty() {
            "not a usable TrueType font".to_string()
        } else {
            warnings
                .iter()
                .map(|w| w.message.clone())
                .collect::<Vec<_>>()
                .join("; ")
        }
    })
}

/// The face reduced to the glyphs of `chars`, ready to embed.
///
/// printpdf only subsets with its heavy `text_layout` feature, so this does it
/// with allsorts (which printpdf depends on anyway): the subset keeps a Unicode
/// cmap, so printpdf maps characters to the renumbered glyphs by itself.
fn subset_face(face: &FontFace, chars: &BTreeSet<char>) -> Result<ParsedFont, String> {
    use allsorts::binary::read::ReadScope;
    use allsorts::font_data::FontData;
    use allsorts::subset::{CmapTarget, SubsetProfile, subset};

    // Glyph 0 (.notdef) must come first and ids must be unique.
    let glyphs: BTreeSet<u16> = chars
        .iter()
        .filter_map(|c| face.parsed.lookup_glyph_index(u32::from(*c)))
        .filter(|gid| *gid != 0)
        .collect();
    let glyph_ids: Vec<u16> = std::iter::once(0).chain(glyphs.iter().copied()).collect();

    let data = ReadScope::new(face.source)
        .read::<FontData<'_>>()
        .map_err(|e| e.to_string())?;
    let provider = data.table_provider(0).map_err(|e| e.to_string())?;
    let bytes = subset(
        &provider,
        &glyph_ids,
        &SubsetProfile::Pdf,
        CmapTarget::Unicode,
    )
    .map_err(|e| e.to_string())?;
    let mut parsed = parse_font(&bytes)?;
    parsed.font_name = Some(format!("{}+{}", subset_tag(&glyph_ids), face.name));
    Ok(parsed)
}

/// The six capital letters that prefix a subset font's name (PDF 32000-1, 9.6.4),
/// derived from the glyph set so equal subsets get equal names.
fn subset_tag(glyph_ids: &[u16]) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for gid in glyph_ids {
        hash = (hash ^ u32::from(*gid)).wrapping_mul(0x0100_0193);
    }
    (0..6)
        .map(|_| {
            let letter = char::from(b'A' + (hash % 26) as u8);
            hash /= 26;
            letter
        })
        .collect()
}

/// The face as embedded: subset to `chars`, or whole if subsetting fails
/// (a bigger file is better than no statement).
fn embeddable_face(face: &FontFace, chars: &BTreeSet<char>) -> ParsedFont {
    subset_face(face, chars).unwrap_or_else(|_| {
        let mut whole = face.parsed.clone();
        whole.font_name = Some(face.name.to_string());
        whole
    })
}

// ---------------------------------------------------------------------------
// Layout: pages as lists of marks.

/// How a text run looks.
#[derive(Clone, Copy, PartialEq, Debug)]
struct Style {
    face: Face,
    size: f32,
    grey: f32,
}

const fn style(face: Face, size: f32, grey: f32) -> Style {
    Style { face, size, grey }
}

/// Something drawn on a page; positions in mm from the top-left corner.
enum Mark {
    /// A text run starting at `x` on the baseline `y` (already cleaned and fitted).
    Text {
        x: f32,
        y: f32,
        text: String,
        style: Style,
    },
    /// A horizontal rule of `thickness` points.
    Rule {
        x1: f32,
        x2: f32,
        y: f32,
        thickness: f32,
        grey: f32,
    },
    /// A filled band (zebra row) whose top edge is at `y`.
    Band {
        x: f32,
        y: f32,
        width: f32,
        height: f32,
        grey: f32,
    },
}

/// Column positions of one earnings table.
struct Columns {
    /// Widest the name may be before it is truncated.
    name_width: f32,
    /// Right edge of the quantity column.
    quantity_right: f32,
}

/// Lays the statement out page by page, moving a cursor down the page.
struct Layout<'a> {
    fonts: &'a Fonts,
    pages: Vec<Vec<Mark>>,
    /// Top of the free space on the current page, in mm from the top edge.
    y: f32,
}

impl<'a> Layout<'a> {
    fn new(fonts: &'a Fonts) -> Self {
        Layout {
            fonts,
            pages: vec![Vec::new()],
            y: MARGIN_TOP,
        }
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN_TOP;
    }

    /// Whether `height` mm still fit on the current page.
    fn fits(&self, height: f32) -> bool {
        self.y + height <= CONTENT_BOTTOM
    }

    fn push(&mut self, mark: Mark) {
        if let Some(page) = self.pages.last_mut() {
            page.push(mark);
        }
    }

    /// Draws `text` from `x` on baseline `y`, cut with an ellipsis to `max_width`.
    fn text(&mut self, x: f32, y: f32, text: &str, style: Style, max_width: f32) {
        let clean = self.fonts.clean(style.face, text);
        let text = self
            .fonts
            .truncate(style.face, style.size, &clean, max_width);
        if !text.trim().is_empty() {
            self.push(Mark::Text { x, y, text, style });
        }
    }

    /// Draws `text` ending at `right` on baseline `y`, cut to `max_width`.
    fn text_right(&mut self, right: f32, y: f32, text: &str, style: Style, max_width: f32) {
        let clean = self.fonts.clean(style.face, text);
        let text = self
            .fonts
            .truncate(style.face, style.size, &clean, max_width);
        let x = right - self.fonts.width(style.face, style.size, &text);
        if !text.trim().is_empty() {
            self.push(Mark::Text { x, y, text, style });
        }
    }

    /// Lines of `text` wrapped to `max_width`, ready for [`Layout::text`].
    fn wrapped(&self, text: &str, style: Style, max_width: f32) -> Vec<String> {
        let clean = self.fonts.clean(style.face, text);
        self.fonts.wrap(style.face, style.size, &clean, max_width)
    }

    fn rule(&mut self, x1: f32, x2: f32, y: f32, thickness: f32, grey: f32) {
        self.push(Mark::Rule {
            x1,
            x2,
            y,
            thickness,
            grey,
        });
    }

    /// Widest text among `texts` in `style`.
    fn widest<'t>(&self, style: Style, texts: impl Iterator<Item = &'t String>) -> f32 {
        texts
            .map(|t| {
                self.fonts
                    .width(style.face, style.size, &self.fonts.clean(style.face, t))
            })
            .fold(0.0, f32::max)
    }

    /// Page 1's header: who issues it, what it is, to whom, for which contract and period.
    fn header(&mut self, doc: &StatementDoc) {
        let org_style = style(Face::Bold, SIZE_ORGANISATION, INK);
        let title_style = style(Face::Regular, SIZE_TITLE, RULE_DARK);
        let number_style = style(Face::Bold, SIZE_TITLE, INK);
        let issued_style = style(Face::Regular, SIZE_BODY, MUTED);

        let right_room = TEXT_WIDTH * 0.4;
        let number_width = self
            .fonts
            .width(
                Face::Bold,
                SIZE_TITLE,
                &self.fonts.clean(Face::Bold, &doc.number),
            )
            .min(right_room);
        let issued_width = self
            .fonts
            .width(
                Face::Regular,
                SIZE_BODY,
                &self.fonts.clean(Face::Regular, &doc.issued),
            )
            .min(right_room);
        let left_room = TEXT_WIDTH - number_width.max(issued_width) - COLUMN_GAP;

        let first = self.y + SIZE_ORGANISATION * PT_TO_MM * 0.8;
        self.text(MARGIN_LEFT, first, &doc.organisation, org_style, left_room);
        self.text_right(MARGIN_RIGHT, first, &doc.number, number_style, right_room);
        let second = first + 6.5;
        self.text(MARGIN_LEFT, second, &doc.title, title_style, left_room);
        self.text_right(MARGIN_RIGHT, second, &doc.issued, issued_style, right_room);
        let rule_y = second + 4.0;
        self.rule(MARGIN_LEFT, MARGIN_RIGHT, rule_y, 0.8, RULE_DARK);

        // Payee on the left, contract details on the right.
        let block_top = rule_y + 8.0;
        let label_style = style(Face::Regular, SIZE_LABEL, MUTED);
        let name_style = style(Face::Bold, 10.5, INK);
        let line_style = style(Face::Regular, SIZE_BODY, INK);
        let line_height = 4.5;

        let left_width = TEXT_WIDTH * DETAILS_AT - COLUMN_GAP;
        let mut y = block_top;
        self.text(MARGIN_LEFT, y, "PAYEE", label_style, left_width);
        y += 5.5;
        for line in self.wrapped(&doc.payee, name_style, left_width) {
            self.text(MARGIN_LEFT, y, &line, name_style, left_width);
            y += 5.0;
        }
        for payee_line in &doc.payee_lines {
            for line in self.wrapped(payee_line, line_style, left_width) {
                self.text(MARGIN_LEFT, y, &line, line_style, left_width);
                y += line_height;
            }
        }
        let left_bottom = y;

        let label_x = MARGIN_LEFT + TEXT_WIDTH * DETAILS_AT;
        let value_x = label_x + 20.0;
        let value_width = MARGIN_RIGHT - value_x;
        let mut y = block_top + 5.5;
        let details = [
            ("CONTRACT", &doc.contract),
            ("PERIOD", &doc.period),
            ("CURRENCY", &doc.currency),
        ];
        for (label, value) in details {
            self.text(label_x, y, label, label_style, value_x - label_x - 2.0);
            for line in self.wrapped(value, line_style, value_width) {
                self.text(value_x, y, &line, line_style, value_width);
                y += line_height;
            }
            y += 1.5;
        }
        self.y = left_bottom.max(y) + 6.0;
    }

    /// A section heading; `continued` marks its repetition on a new page.
    fn heading(&mut self, title: &str, continued: bool) {
        let heading_style = style(Face::Bold, SIZE_HEADING, INK);
        let text = if continued {
            format!("{title} (continued)")
        } else {
            title.to_string()
        };
        let baseline = self.y + SIZE_HEADING * PT_TO_MM * CAP_HEIGHT_EM + 1.0;
        self.text(MARGIN_LEFT, baseline, &text, heading_style, TEXT_WIDTH);
        self.y = baseline + 3.0;
    }

    /// Height a heading takes, for keep-together decisions.
    fn heading_height() -> f32 {
        SIZE_HEADING * PT_TO_MM * CAP_HEIGHT_EM + 4.0
    }

    /// Baseline that centres a line of `size` points in a row starting at `top`.
    fn row_baseline(top: f32, height: f32, size: f32) -> f32 {
        top + (height + size * PT_TO_MM * CAP_HEIGHT_EM) / 2.0
    }

    /// The statement of account: labels left, amounts right-aligned to the margin.
    fn account(&mut self, rows: &[AccountRow]) {
        if rows.is_empty() {
            return;
        }
        let title = "Statement of account";
        if !self.fits(Self::heading_height() + 2.0 * ACCOUNT_ROW_HEIGHT) {
            self.new_page();
        }
        self.heading(title, false);
        self.y += 1.0;
        let mut previous_strong = true;
        for row in rows {
            if !self.fits(ACCOUNT_ROW_HEIGHT) {
                self.new_page();
                self.heading(title, true);
                self.y += 1.0;
            }
            let face = if row.strong {
                Face::Bold
            } else {
                Face::Regular
            };
            let row_style = style(face, SIZE_BODY, INK);
            if row.strong && !previous_strong {
                self.rule(MARGIN_LEFT, MARGIN_RIGHT, self.y, 0.6, RULE_DARK);
            }
            let baseline = Self::row_baseline(self.y, ACCOUNT_ROW_HEIGHT, SIZE_BODY);
            let amount_width = self.widest(row_style, std::iter::once(&row.amount));
            let amount_width = amount_width.min(TEXT_WIDTH * 0.4);
            self.text_right(MARGIN_RIGHT, baseline, &row.amount, row_style, amount_width);
            let x = if row.indent {
                MARGIN_LEFT + INDENT
            } else {
                MARGIN_LEFT
            };
            let label_width = MARGIN_RIGHT - amount_width - COLUMN_GAP - x;
            self.text(x, baseline, &row.label, row_style, label_width);
            self.y += ACCOUNT_ROW_HEIGHT;
            previous_strong = row.strong;
        }
        self.rule(MARGIN_LEFT, MARGIN_RIGHT, self.y, 0.3, RULE_LIGHT);
        self.y += 9.0;
    }

    /// Where the three columns of `section` go, sized from its content.
    fn columns(&self, section: &Section) -> Columns {
        let body = style(Face::Regular, SIZE_BODY, INK);
        let bold = style(Face::Bold, SIZE_BODY, INK);
        let head = style(Face::Bold, SIZE_TABLE_HEAD, INK);
        let total = section.total.iter();
        let amount_width = self
            .widest(body, section.rows.iter().map(|r| &r[2]))
            .max(self.widest(bold, total.clone().map(|r| &r[2])))
            .max(self.widest(head, std::iter::once(&section.columns[2])))
            .clamp(26.0, TEXT_WIDTH * 0.3);
        let quantity_width = self
            .widest(body, section.rows.iter().map(|r| &r[1]))
            .max(self.widest(bold, total.map(|r| &r[1])))
            .max(self.widest(head, std::iter::once(&section.columns[1])))
            .clamp(18.0, TEXT_WIDTH * 0.25);
        let quantity_right = MARGIN_RIGHT - amount_width - COLUMN_GAP;
        Columns {
            name_width: quantity_right - quantity_width - COLUMN_GAP - MARGIN_LEFT,
            quantity_right,
        }
    }

    /// One row of an earnings table at the cursor.
    fn table_row(&mut self, cells: &[String; 3], row_style: Style, columns: &Columns, height: f32) {
        let baseline = Self::row_baseline(self.y, height, row_style.size);
        let numeric_width = MARGIN_RIGHT - columns.quantity_right - COLUMN_GAP;
        self.text(
            MARGIN_LEFT + 1.5,
            baseline,
            &cells[0],
            row_style,
            columns.name_width - 1.5,
        );
        self.text_right(
            columns.quantity_right,
            baseline,
            &cells[1],
            row_style,
            numeric_width,
        );
        self.text_right(
            MARGIN_RIGHT - 1.5,
            baseline,
            &cells[2],
            row_style,
            numeric_width,
        );
        self.y += height;
    }

    /// The header row of an earnings table, with a rule under it.
    fn table_head(&mut self, section: &Section, columns: &Columns) {
        let head = style(Face::Bold, SIZE_TABLE_HEAD, RULE_DARK);
        self.table_row(&section.columns, head, columns, HEAD_ROW_HEIGHT);
        self.rule(MARGIN_LEFT, MARGIN_RIGHT, self.y, 0.6, RULE_DARK);
    }

    /// An earnings table, repeating its title and header on each new page.
    fn section(&mut self, section: &Section) {
        let columns = self.columns(section);
        // Keep the title, header and at least two rows together.
        let start_height = Self::heading_height() + HEAD_ROW_HEIGHT + 2.0 * ROW_HEIGHT;
        if !self.fits(start_height) {
            self.new_page();
        }
        self.heading(&section.title, false);
        self.table_head(section, &columns);
        let body = style(Face::Regular, SIZE_BODY, INK);
        for (index, row) in section.rows.iter().enumerate() {
            if !self.fits(ROW_HEIGHT) {
                self.rule(MARGIN_LEFT, MARGIN_RIGHT, self.y, 0.3, RULE_LIGHT);
                self.new_page();
                self.heading(&section.title, true);
                self.table_head(section, &columns);
            }
            if index % 2 == 1 {
                self.push(Mark::Band {
                    x: MARGIN_LEFT,
                    y: self.y,
                    width: TEXT_WIDTH,
                    height: ROW_HEIGHT,
                    grey: ZEBRA,
                });
            }
            self.table_row(row, body, &columns, ROW_HEIGHT);
        }
        if let Some(total) = &section.total {
            if !self.fits(ROW_HEIGHT + 1.0) {
                self.new_page();
                self.heading(&section.title, true);
                self.table_head(section, &columns);
            }
            self.rule(MARGIN_LEFT, MARGIN_RIGHT, self.y, 0.6, RULE_DARK);
            self.table_row(
                total,
                style(Face::Bold, SIZE_BODY, INK),
                &columns,
                ROW_HEIGHT + 0.6,
            );
        } else {
            self.rule(MARGIN_LEFT, MARGIN_RIGHT, self.y, 0.3, RULE_LIGHT);
        }
        self.y += 9.0;
    }

    /// The closing notes, wrapped to the text width.
    fn notes(&mut self, notes: &[String]) {
        if notes.is_empty() {
            return;
        }
        let note_style = style(Face::Regular, SIZE_NOTES, RULE_DARK);
        let line_height = 4.0;
        if !self.fits(Self::heading_height() + 2.0 * line_height) {
            self.new_page();
        }
        self.heading("Notes", false);
        self.y += 1.0;
        for paragraph in notes {
            for line in self.wrapped(paragraph, note_style, TEXT_WIDTH) {
                if !self.fits(line_height) {
                    self.new_page();
                }
                let baseline = self.y + SIZE_NOTES * PT_TO_MM * CAP_HEIGHT_EM;
                self.text(MARGIN_LEFT, baseline, &line, note_style, TEXT_WIDTH);
                self.y += line_height;
            }
            self.y += 1.8;
        }
    }

    /// Adds "organisation · number" and "Page N of M" under every page.
    fn footers(&mut self, doc: &StatementDoc) {
        let footer_style = style(Face::Regular, SIZE_FOOTER, MUTED);
        let count = self.pages.len();
        let left = format!("{} · {}", doc.organisation, doc.number);
        let mut marks = Vec::new();
        for number in 1..=count {
            let page_text = format!("Page {number} of {count}");
            let page_width = self.fonts.width(Face::Regular, SIZE_FOOTER, &page_text);
            let left_room = TEXT_WIDTH - page_width - COLUMN_GAP;
            let left_text = self.fonts.truncate(
                Face::Regular,
                SIZE_FOOTER,
                &self.fonts.clean(Face::Regular, &left),
                left_room,
            );
            marks.push([
                Mark::Rule {
                    x1: MARGIN_LEFT,
                    x2: MARGIN_RIGHT,
                    y: FOOTER_RULE_Y,
                    thickness: 0.3,
                    grey: RULE_LIGHT,
                },
                Mark::Text {
                    x: MARGIN_LEFT,
                    y: FOOTER_BASELINE,
                    text: left_text,
                    style: footer_style,
                },
                Mark::Text {
                    x: MARGIN_RIGHT - page_width,
                    y: FOOTER_BASELINE,
                    text: page_text,
                    style: footer_style,
                },
            ]);
        }
        for (page, footer) in self.pages.iter_mut().zip(marks) {
            page.extend(footer);
        }
    }
}

// ---------------------------------------------------------------------------
// Drawing: marks to printpdf operations.

/// Ids the embedded faces got in the document.
struct FontIds {
    regular: FontId,
    bold: FontId,
}

fn grey(level: f32) -> Color {
    Color::Greyscale(Greyscale::new(level, None))
}

/// A point `x` mm from the left and `y` mm from the top edge.
fn point(x: f32, y: f32) -> Point {
    Point::new(Mm(x), Mm(PAGE_HEIGHT - y))
}

/// The operations drawing one page: shapes first, then all text in one text object.
fn page_ops(marks: &[Mark], ids: &FontIds) -> Vec<Op> {
    let mut ops = Vec::with_capacity(marks.len() * 3 + 8);
    for mark in marks {
        match mark {
            Mark::Band {
                x,
                y,
                width,
                height,
                grey: level,
            } => {
                ops.push(Op::SetFillColor { col: grey(*level) });
                let bottom_left = point(*x, *y + *height);
                ops.push(Op::DrawRectangle {
                    rectangle: Rect {
                        mode: Some(PaintMode::Fill),
                        ..Rect::from_xywh(
                            bottom_left.x,
                            bottom_left.y,
                            Mm(*width).into(),
                            Mm(*height).into(),
                        )
                    },
                });
            }
            Mark::Rule {
                x1,
                x2,
                y,
                thickness,
                grey: level,
            } => {
                ops.push(Op::SetOutlineColor { col: grey(*level) });
                ops.push(Op::SetOutlineThickness { pt: Pt(*thickness) });
                ops.push(Op::DrawLine {
                    line: Line {
                        points: vec![
                            LinePoint {
                                p: point(*x1, *y),
                                bezier: false,
                            },
                            LinePoint {
                                p: point(*x2, *y),
                                bezier: false,
                            },
                        ],
                        is_closed: false,
                    },
                });
            }
            Mark::Text { .. } => {}
        }
    }

    ops.push(Op::StartTextSection);
    let mut current_font: Option<(Face, f32)> = None;
    let mut current_grey: Option<f32> = None;
    for mark in marks {
        let Mark::Text { x, y, text, style } = mark else {
            continue;
        };
        if current_font != Some((style.face, style.size)) {
            let id = match style.face {
                Face::Regular => ids.regular.clone(),
                Face::Bold => ids.bold.clone(),
            };
            ops.push(Op::SetFont {
                font: PdfFontHandle::External(id),
                size: Pt(style.size),
            });
            current_font = Some((style.face, style.size));
        }
        if current_grey != Some(style.grey) {
            ops.push(Op::SetFillColor {
                col: grey(style.grey),
            });
            current_grey = Some(style.grey);
        }
        let at = point(*x, *y);
        ops.push(Op::SetTextMatrix {
            matrix: TextMatrix::Translate(at.x, at.y),
        });
        ops.push(Op::ShowText {
            items: vec![TextItem::Text(text.clone())],
        });
    }
    ops.push(Op::EndTextSection);
    ops
}

/// The characters drawn in the regular and in the bold face.
fn characters_used(pages: &[Vec<Mark>]) -> (BTreeSet<char>, BTreeSet<char>) {
    let mut regular = BTreeSet::new();
    let mut bold = BTreeSet::new();
    for mark in pages.iter().flatten() {
        if let Mark::Text { text, style, .. } = mark {
            let set = if style.face == Face::Bold {
                &mut bold
            } else {
                &mut regular
            };
            set.extend(text.chars());
        }
    }
    (regular, bold)
}

/// Renders `doc` as an A4 PDF with embedded DejaVu Sans (regular and bold).
pub fn render(doc: &StatementDoc) -> Result<Vec<u8>, PdfError> {
    let fonts = Fonts::get()?;

    let mut layout = Layout::new(fonts);
    layout.header(doc);
    layout.account(&doc.account);
    for section in &doc.sections {
        layout.section(section);
    }
    layout.notes(&doc.notes);
    layout.footers(doc);

    let mut pdf = PdfDocument::new(&format!("{}, {}", doc.title, doc.number));
    pdf.metadata.info.author = doc.organisation.clone();
    pdf.metadata.info.subject = format!("{} for {}, {}", doc.title, doc.payee, doc.period);
    pdf.metadata.info.creator = "OAS".to_string();
    pdf.metadata.info.creation_date = DateTime::now();
    pdf.metadata.info.modification_date = pdf.metadata.info.creation_date;
    let (regular_chars, bold_chars) = characters_used(&layout.pages);
    let ids = FontIds {
        regular: pdf.add_font(&embeddable_face(&fonts.regular, &regular_chars)),
        bold: pdf.add_font(&embeddable_face(&fonts.bold, &bold_chars)),
    };
    let pages = layout
        .pages
        .iter()
        .map(|marks| PdfPage::new(Mm(PAGE_WIDTH), Mm(PAGE_HEIGHT), page_ops(marks, &ids)))
        .collect();

    let mut warnings = Vec::new();
    let bytes = pdf
        .with_pages(pages)
        .save(&PdfSaveOptions::default(), &mut warnings);
    let errors: Vec<String> = warnings
        .iter()
        .filter(|w| w.severity == PdfParseErrorSeverity::Error)
        .map(|w| format!("page {}: {}", w.page + 1, w.msg))
        .collect();
    if !errors.is_empty() {
        return Err(PdfError::Write(errors.join("; ")));
    }
    if !bytes.starts_with(b"%PDF") {
        return Err(PdfError::Write(
            "printpdf produced no PDF output".to_string(),
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::process::Command;

    const PAYEE: &str = "Zoë Ångström-Núñez";

    fn row(name: &str, quantity: &str, amount: &str) -> [String; 3] {
        [name.to_string(), quantity.to_string(), amount.to_string()]
    }

    fn account_row(label: &str, amount: &str, strong: bool, indent: bool) -> AccountRow {
        AccountRow {
            label: label.to_string(),
            amount: amount.to_string(),
            strong,
            indent,
        }
    }

    /// A statement with accented names and a `long_rows`-row section that spans pages.
    fn sample(long_rows: usize) -> StatementDoc {
        let tracks = (1..=long_rows)
            .map(|i| {
                row(
                    &format!(
                        "Canção nº {i} — Łódź session, extended mix for the very long titles test"
                    ),
                    &format!("{}", 10_000 / i),
                    &format!("{}.{:02}", 900 / i, i % 100),
                )
            })
            .collect();
        StatementDoc {
            organisation: "Velvet Records Ltd".to_string(),
            title: "Royalty statement".to_string(),
            number: "Statement 1042".to_string(),
            payee: PAYEE.to_string(),
            payee_lines: vec![
                "Rua das Flores 12, 3º Esq.".to_string(),
                "Łódź, Ça 90-001, Poland".to_string(),
                "zoe@example.org".to_string(),
                "Tax id PL 123-456-78-90".to_string(),
            ],
            contract: "Ana Lima recording agreement, version 3".to_string(),
            period: "January 2026 to March 2026".to_string(),
            issued: "Issued 2026-04-02".to_string(),
            currency: "EUR".to_string(),
            account: vec![
                account_row("Opening balance", "-1,250.00", true, false),
                account_row("Royalties earned this period", "4,812.37", false, false),
                account_row("Recouped costs", "", false, false),
                account_row("Video production, Lisbon", "-800.00", false, true),
                account_row("Tour support", "-450.00", false, true),
                account_row("Closing balance", "2,312.37", true, false),
                account_row("Amount payable", "2,312.37", true, false),
            ],
            sections: vec![
                Section {
                    title: "Earnings by store".to_string(),
                    columns: [
                        "Store".to_string(),
                        "Quantity".to_string(),
                        "Royalty (EUR)".to_string(),
                    ],
                    rows: vec![
                        row("Spotify", "812,004", "2,904.11"),
                        row("Apple Music", "120,338", "1,101.92"),
                        row("All others (12)", "40,120", "806.34"),
                    ],
                    total: Some(row("Total", "972,462", "4,812.37")),
                },
                Section {
                    title: "Earnings by track".to_string(),
                    columns: [
                        "Track".to_string(),
                        "Quantity".to_string(),
                        "Royalty (EUR)".to_string(),
                    ],
                    rows: tracks,
                    total: Some(row("Total", "52,000", "4,812.37")),
                },
            ],
            notes: vec![
                "Amounts are shown in euros. ".repeat(12),
                "Questions about this statement: royalties@velvet.example.".to_string(),
            ],
        }
    }

    #[test]
    fn renders_a_pdf() {
        let bytes = render(&sample(120)).expect("render");
        assert!(bytes.starts_with(b"%PDF"));
        // The fonts are subset: whole DejaVu Sans faces would add about 700 KB.
        assert!(
            bytes.len() < 150_000,
            "PDF is {} bytes; font subsetting failed?",
            bytes.len()
        );
    }

    #[test]
    fn renders_empty_and_awkward_statements() {
        let doc = StatementDoc {
            organisation:
                "A label whose name is far too long to fit on one line of the header, really"
                    .repeat(3),
            title: String::new(),
            number: "Statement 7".to_string(),
            payee: "王 🎵 Ørjan".to_string(),
            payee_lines: Vec::new(),
            contract: String::new(),
            period: String::new(),
            issued: "DRAFT, not approved".to_string(),
            currency: "EUR".to_string(),
            account: Vec::new(),
            sections: vec![Section {
                title: "Earnings by store".to_string(),
                columns: [String::new(), String::new(), String::new()],
                rows: Vec::new(),
                total: None,
            }],
            notes: vec![String::new(), "x".repeat(2_000)],
        };
        let bytes = render(&doc).expect("render");
        assert!(bytes.starts_with(b"%PDF"));
    }

    #[test]
    fn wraps_and_truncates_to_the_width() {
        let fonts = Fonts::get().expect("fonts");
        let text = "Zoë Ångström-Núñez, Łódź, Ça ".repeat(10);
        let lines = fonts.wrap(Face::Regular, 9.0, text.trim(), 60.0);
        assert!(lines.len() > 3);
        assert!(
            lines
                .iter()
                .all(|l| fonts.width(Face::Regular, 9.0, l) <= 60.0)
        );
        assert_eq!(lines.join(" "), text.trim());
        let cut = fonts.truncate(Face::Bold, 9.0, &text, 40.0);
        assert!(cut.ends_with('…') && fonts.width(Face::Bold, 9.0, &cut) <= 40.0);
    }

    #[test]
    fn text_survives_into_the_pdf() {
        let found = Command::new("pdftotext").arg("-v").output().is_ok();
        if !found {
            return;
        }
        let bytes = render(&sample(120)).expect("render");
        let mut file = tempfile::Builder::new()
            .suffix(".pdf")
            .tempfile()
            .expect("temp file");
        file.write_all(&bytes).expect("write pdf");
        let output = Command::new("pdftotext")
            .args(["-layout"])
            .arg(file.path())
            .arg("-")
            .output()
            .expect("run pdftotext");
        assert!(output.status.success(), "pdftotext failed");
        let text = String::from_utf8_lossy(&output.stdout);
        let pages: Vec<&str> = text.split('\u{c}').collect();
        assert!(text.contains(PAYEE), "payee missing:\n{text}");
        assert!(text.contains("Łódź, Ça"), "accented address missing");
        assert!(
            text.contains("January 2026 to March 2026"),
            "period missing"
        );
        assert!(text.contains("4,812.37"), "total missing");
        assert!(text.contains("Page 1 of"), "footer missing");
        assert!(pages.len() > 2, "expected several pages");
        assert!(
            pages[1].contains("Earnings by track (continued)")
                && pages[1].contains("Royalty (EUR)"),
            "repeated header missing on page 2:\n{}",
            pages[1]
        );
    }
}
