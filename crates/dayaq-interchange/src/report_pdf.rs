//! The annual national report as a PDF (issue #15 part 5), written with krilla: A4 pages, the
//! tables with their captions, the text in the reader's language (az, ru or en). The one font
//! is DejaVu Sans, vendored in `fonts/` (Bitstream Vera licence, `fonts/LICENSE-DejaVu`), so a
//! clean clone needs no system font; krilla embeds the subset used (`FontFile2`) with a
//! ToUnicode map, so the text can be searched and copied (Azerbaijani ə ğ ı ö ü ş ç,
//! Cyrillic). Pure: labelled tables in, bytes out.

use crate::tabular::WriteError;
use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::text::{Font, TextDirection};

/// The vendored font (DejaVu Sans 2.37).
pub static FONT_TTF: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

/// One row: its label and the cells as text (numbers, `x` for a suppressed cell, amounts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfRow {
    pub label: String,
    pub cells: Vec<String>,
}

/// One table, labelled in the reader's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfTable {
    pub caption: String,
    pub columns: Vec<String>,
    pub rows: Vec<PdfRow>,
    /// Instead of rows: why the data model cannot fill the table.
    pub note: Option<String>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfReport {
    /// BCP 47 language of the text (`az`, `ru`, `en`).
    pub lang: String,
    pub title: String,
    /// Lines under the title (variant, rules).
    pub intro: Vec<String>,
    pub tables: Vec<PdfTable>,
    /// The page footer before the page number (`Dayaq · 2025 · page`).
    pub footer: String,
}

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 42.0;
const BOTTOM: f32 = PAGE_H - 56.0;
const TITLE_SIZE: f32 = 16.0;
const TEXT_SIZE: f32 = 9.0;
const CAPTION_SIZE: f32 = 11.0;
const CELL_SIZE: f32 = 8.0;
const LINE: f32 = 1.35;

/// Text widths from the font's horizontal advances (no kerning: a hair wide, never narrow).
struct Metrics<'a> {
    face: ttf_parser::Face<'a>,
    per_em: f32,
}

impl<'a> Metrics<'a> {
    fn new(font: &'a [u8]) -> Option<Self> {
        let face = ttf_parser::Face::parse(font, 0).ok()?;
        let per_em = f32::from(face.units_per_em().max(1));
        Some(Self { face, per_em })
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        let units: f32 = text
            .chars()
            .map(|c| {
                self.face
                    .glyph_index(c)
                    .and_then(|g| self.face.glyph_hor_advance(g))
                    .map(f32::from)
                    .unwrap_or(self.per_em * 0.6)
            })
            .sum();
        units / self.per_em * size
    }

    /// Greedy word wrap to `max` points wide (a word wider than a line is cut).
    fn wrap(&self, text: &str, size: f32, max: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut cur = String::new();
        for word in text.split_whitespace() {
            let mut word = word.to_string();
            while self.width(&word, size) > max && word.chars().count() > 1 {
                if !cur.is_empty() {
                    lines.push(std::mem::take(&mut cur));
                }
                // The longest head that fits (at least one character).
                let chars: Vec<char> = word.chars().collect();
                let mut n = chars.len() - 1;
                while n > 1 && self.width(&chars[..n].iter().collect::<String>(), size) > max {
                    n -= 1;
                }
                lines.push(chars[..n].iter().collect());
                word = chars[n..].iter().collect();
            }
            let candidate = if cur.is_empty() {
                word.clone()
            } else {
                format!("{cur} {word}")
            };
            if self.width(&candidate, size) > max && !cur.is_empty() {
                lines.push(std::mem::replace(&mut cur, word));
            } else {
                cur = candidate;
            }
        }
        if !cur.is_empty() || lines.is_empty() {
            lines.push(cur);
        }
        lines
    }
}

/// Drops characters the reader need not see and the font lacks (Fluent's bidi isolation marks).
fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '\u{2068}' | '\u{2069}' | '\u{200e}' | '\u{200f}'))
        .collect()
}

/// What is drawn on a page.
#[derive(Debug, Clone)]
enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        text: String,
    },
    Rule {
        x: f32,
        y: f32,
        w: f32,
        grey: u8,
    },
}

/// Lays the report out on pages (pure arithmetic, no PDF yet).
struct Layout<'m> {
    pages: Vec<Vec<Op>>,
    y: f32,
    m: &'m Metrics<'m>,
}

impl<'m> Layout<'m> {
    fn new(m: &'m Metrics<'m>) -> Self {
        Self {
            pages: vec![Vec::new()],
            y: MARGIN,
            m,
        }
    }
    fn page(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }
    fn need(&mut self, h: f32) {
        if self.y + h > BOTTOM && self.y > MARGIN + 1.0 {
            self.pages.push(Vec::new());
            self.y = MARGIN;
        }
    }
    fn text(&mut self, x: f32, size: f32, text: &str) {
        let y = self.y + size;
        self.page().push(Op::Text {
            x,
            y,
            size,
            text: text.to_string(),
        });
    }
    fn paragraph(&mut self, size: f32, text: &str) {
        for line in self.m.wrap(text, size, PAGE_W - 2.0 * MARGIN) {
            self.need(size * LINE);
            self.text(MARGIN, size, &line);
            self.y += size * LINE;
        }
    }
    fn rule(&mut self, grey: u8) {
        let y = self.y;
        self.page().push(Op::Rule {
            x: MARGIN,
            y,
            w: PAGE_W - 2.0 * MARGIN,
            grey,
        });
    }

    fn table(&mut self, t: &PdfTable) {
        let content = PAGE_W - 2.0 * MARGIN;
        let n = t.columns.len().max(1) as f32;
        let label_w = if n <= 2.0 {
            content * 0.5
        } else {
            content * 0.3
        };
        let col_w = (content - label_w) / n;
        let cell_line = CELL_SIZE * LINE;
        // Many columns: a smaller header so that the column names fit in fewer lines.
        let header_size = if n > 4.0 { CELL_SIZE - 1.5 } else { CELL_SIZE };
        let header_line = header_size * LINE;
        // The caption stays with the header and the first row.
        let header: Vec<Vec<String>> = t
            .columns
            .iter()
            .map(|c| self.m.wrap(c, header_size, col_w - 4.0))
            .collect();
        let header_lines = header.iter().map(Vec::len).max().unwrap_or(1) as f32;
        self.need(CAPTION_SIZE * LINE * 2.0 + header_lines * header_line + 2.0 * cell_line);
        self.y += CAPTION_SIZE * 0.6;
        for line in self.m.wrap(&t.caption, CAPTION_SIZE, content) {
            self.text(MARGIN, CAPTION_SIZE, &line);
            self.y += CAPTION_SIZE * LINE;
        }
        if let Some(note) = &t.note {
            self.paragraph(TEXT_SIZE, note);
            self.y += TEXT_SIZE;
            return;
        }
        let draw_header = |l: &mut Layout| {
            for (i, lines) in header.iter().enumerate() {
                let right = MARGIN + label_w + col_w * (i as f32 + 1.0);
                for (j, line) in lines.iter().enumerate() {
                    let x = right - l.m.width(line, header_size) - 2.0;
                    let y = l.y + header_size + j as f32 * header_line;
                    l.page().push(Op::Text {
                        x: x.max(MARGIN + label_w + col_w * i as f32),
                        y,
                        size: header_size,
                        text: line.clone(),
                    });
                }
            }
            l.y += header_lines * header_line + 2.0;
            l.rule(0x60);
            l.y += 2.0;
        };
        draw_header(self);
        for row in &t.rows {
            let label = self.m.wrap(&row.label, CELL_SIZE, label_w - 6.0);
            let h = label.len() as f32 * cell_line + 2.0;
            if self.y + h > BOTTOM {
                self.pages.push(Vec::new());
                self.y = MARGIN;
                draw_header(self);
            }
            for (j, line) in label.iter().enumerate() {
                let y = self.y + CELL_SIZE + j as f32 * cell_line;
                self.page().push(Op::Text {
                    x: MARGIN,
                    y,
                    size: CELL_SIZE,
                    text: line.clone(),
                });
            }
            for (i, cell) in row.cells.iter().enumerate() {
                let right = MARGIN + label_w + col_w * (i as f32 + 1.0);
                let y = self.y + CELL_SIZE;
                let x = right - self.m.width(cell, CELL_SIZE) - 2.0;
                self.page().push(Op::Text {
                    x,
                    y,
                    size: CELL_SIZE,
                    text: cell.clone(),
                });
            }
            self.y += h;
            self.rule(0xd0);
            self.y += 1.0;
        }
        self.y += TEXT_SIZE;
    }
}

fn layout(r: &PdfReport, m: &Metrics<'_>) -> Vec<Vec<Op>> {
    let mut l = Layout::new(m);
    for line in m.wrap(&r.title, TITLE_SIZE, PAGE_W - 2.0 * MARGIN) {
        l.text(MARGIN, TITLE_SIZE, &line);
        l.y += TITLE_SIZE * LINE;
    }
    l.y += 4.0;
    for p in &r.intro {
        l.paragraph(TEXT_SIZE, p);
    }
    l.y += TEXT_SIZE;
    for t in &r.tables {
        l.table(t);
    }
    l.pages
}

/// The report as a PDF (A4, embedded DejaVu Sans subset).
pub fn report_pdf(r: &PdfReport) -> Result<Vec<u8>, WriteError> {
    let font = Font::new(FONT_TTF.into(), 0)
        .ok_or_else(|| WriteError("pdf: the vendored font cannot be read".into()))?;
    let clean_report = PdfReport {
        lang: r.lang.clone(),
        title: clean(&r.title),
        intro: r.intro.iter().map(|s| clean(s)).collect(),
        tables: r
            .tables
            .iter()
            .map(|t| PdfTable {
                caption: clean(&t.caption),
                columns: t.columns.iter().map(|s| clean(s)).collect(),
                rows: t
                    .rows
                    .iter()
                    .map(|row| PdfRow {
                        label: clean(&row.label),
                        cells: row.cells.iter().map(|s| clean(s)).collect(),
                    })
                    .collect(),
                note: t.note.as_deref().map(clean),
            })
            .collect(),
        footer: clean(&r.footer),
    };
    let metrics = Metrics::new(FONT_TTF)
        .ok_or_else(|| WriteError("pdf: the vendored font cannot be read".into()))?;
    let pages = layout(&clean_report, &metrics);
    let total = pages.len();
    let settings =
        PageSettings::from_wh(PAGE_W, PAGE_H).ok_or_else(|| WriteError("pdf: page size".into()))?;
    let mut doc = Document::new();
    doc.set_metadata(
        Metadata::new()
            .title(clean_report.title.clone())
            .language(r.lang.clone())
            .creator("Dayaq".to_string()),
    );
    let black = Fill {
        paint: rgb::Color::new(0, 0, 0).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    };
    for (pi, ops) in pages.iter().enumerate() {
        let mut page = doc.start_page_with(settings.clone());
        let mut s = page.surface();
        for op in ops {
            match op {
                Op::Text { x, y, size, text } => {
                    s.set_fill(Some(black.clone()));
                    s.draw_text(
                        Point::from_xy(*x, *y),
                        font.clone(),
                        *size,
                        text,
                        false,
                        TextDirection::Auto,
                    );
                }
                Op::Rule { x, y, w, grey } => {
                    if let Some(rect) = Rect::from_xywh(*x, *y, *w, 0.6) {
                        let mut pb = PathBuilder::new();
                        pb.push_rect(rect);
                        if let Some(path) = pb.finish() {
                            s.set_fill(Some(Fill {
                                paint: rgb::Color::new(*grey, *grey, *grey).into(),
                                opacity: NormalizedF32::ONE,
                                rule: Default::default(),
                            }));
                            s.draw_path(&path);
                        }
                    }
                }
            }
        }
        let footer = format!("{} {} / {}", clean_report.footer, pi + 1, total);
        s.set_fill(Some(black.clone()));
        s.draw_text(
            Point::from_xy(MARGIN, PAGE_H - 30.0),
            font.clone(),
            CELL_SIZE,
            &footer,
            false,
            TextDirection::Auto,
        );
        s.finish();
        page.finish();
    }
    doc.finish().map_err(|e| WriteError(format!("pdf: {e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn report(lang: &str, title: &str, label: &str) -> PdfReport {
        PdfReport {
            lang: lang.into(),
            title: title.into(),
            intro: vec!["\u{2068}11\u{2069} — intro".into()],
            tables: vec![
                PdfTable {
                    caption: "Headline".into(),
                    columns: vec!["Persons".into()],
                    rows: vec![PdfRow {
                        label: label.into(),
                        cells: vec!["12".into()],
                    }],
                    note: None,
                },
                PdfTable {
                    caption: "Compensation".into(),
                    columns: vec![],
                    rows: vec![],
                    note: Some("not recorded".into()),
                },
            ],
            footer: "Dayaq · 2025 ·".into(),
        }
    }

    /// The PDF's bytes with every Flate stream inflated after it (to search dictionaries in
    /// object streams and the ToUnicode maps).
    fn searchable(pdf: &[u8]) -> String {
        let mut out = String::from_utf8_lossy(pdf).into_owned();
        let mut i = 0;
        while let Some(p) = find(&pdf[i..], b"stream") {
            let start = i + p + b"stream".len();
            let start = if pdf.get(start) == Some(&b'\r') {
                start + 2
            } else {
                start + 1
            };
            let Some(e) = find(&pdf[start..], b"endstream") else {
                break;
            };
            let mut z = flate2::read::ZlibDecoder::new(&pdf[start..start + e]);
            let mut buf = Vec::new();
            if z.read_to_end(&mut buf).is_ok() {
                out.push_str(&String::from_utf8_lossy(&buf));
            }
            i = start + e + b"endstream".len();
        }
        out
    }

    fn find(h: &[u8], n: &[u8]) -> Option<usize> {
        h.windows(n.len()).position(|w| w == n)
    }

    /// The UTF-16 code units of `s` as the ToUnicode map writes them (`<0259>`).
    fn mapped(text: &str, s: &str) -> bool {
        let t = text.to_ascii_uppercase();
        s.chars().all(|c| {
            t.contains(&format!("<{:04X}>", c as u32)) || t.contains(&format!("{:04X}>", c as u32))
        })
    }

    #[test]
    fn pdf_embeds_the_font_and_maps_azerbaijani_and_cyrillic_text() {
        let az = report_pdf(&report(
            "az",
            "Milli hesabat · 2025",
            "Əmək istismarı: ğ ı ö ü ş ç",
        ))
        .expect("pdf");
        assert!(az.starts_with(b"%PDF-"));
        let text = searchable(&az);
        assert!(text.contains("/FontFile2"), "the font is embedded");
        assert!(text.contains("ToUnicode"));
        assert!(text.contains("DejaVuSans"));
        assert!(mapped(&text, "əğıöüşçƏ"), "Azerbaijani letters mapped");
        // The language is recorded.
        assert!(text.contains("/Lang(az)"));

        let ru = report_pdf(&report(
            "ru",
            "Национальный отчёт · 2025",
            "Трудовая эксплуатация",
        ))
        .expect("pdf");
        let text = searchable(&ru);
        assert!(
            mapped(&text, "Национальйотчёуэксп"),
            "Cyrillic letters mapped"
        );
        // The Azerbaijani-only letters are not in the Russian report's subset.
        assert!(!mapped(&text, "ə"));
        // The catalogue names the language in plain bytes (what the integration test reads).
        assert!(String::from_utf8_lossy(&ru).contains("/Lang(ru)"));
    }

    #[test]
    fn long_reports_break_into_pages() {
        let mut r = report("en", "National report", "Row");
        r.tables[0].rows = (0..200)
            .map(|i| PdfRow {
                label: format!("Row {i} with a label long enough to wrap onto a second line of the label column"),
                cells: vec![i.to_string()],
            })
            .collect();
        let m = Metrics::new(FONT_TTF).expect("font");
        let pages = layout(&r, &m);
        assert!(pages.len() >= 5, "{}", pages.len());
        for p in &pages {
            for op in p {
                if let Op::Text { y, .. } = op {
                    assert!(*y <= BOTTOM + CELL_SIZE * 2.0 && *y >= MARGIN);
                }
            }
        }
        let pdf = report_pdf(&r).expect("pdf");
        assert!(pdf.starts_with(b"%PDF-"));
    }

    #[test]
    fn wrap_keeps_every_word_and_respects_the_width() {
        let m = Metrics::new(FONT_TTF).expect("font");
        let text = "Identified victims by form of exploitation";
        let lines = m.wrap(text, 8.0, 60.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.join(" "), text);
        for l in &lines {
            assert!(m.width(l, 8.0) <= 60.0, "{l}");
        }
        // A word wider than the line is cut, nothing is lost.
        let lines = m.wrap("Müəyyənləşdirilmiş", 8.0, 30.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.concat(), "Müəyyənləşdirilmiş");
        // Real advances: "i" is narrower than "W".
        assert!(m.width("iiii", 10.0) < m.width("WWWW", 10.0));
    }
}
