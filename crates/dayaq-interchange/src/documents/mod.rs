//! Printable documents (issue #21 §2): one small layout model — title, headings, wrapped
//! paragraphs, key/value lists, tables, signature lines, page numbers — rendered to PDF by
//! krilla. Every document kind (the national report, the referral letter, the rehabilitation
//! plan, the consent form, her copy of her data) is a [`Document`] built by its caller in the
//! reader's language and written by [`pdf`].
//!
//! The one font is DejaVu Sans, vendored in `fonts/` (Bitstream Vera licence,
//! `fonts/LICENSE-DejaVu`), so a clean clone needs no system font; krilla embeds the subset used
//! (`FontFile2`) with a ToUnicode map, so the text can be searched and copied (Azerbaijani
//! ə ğ ı ö ü ş ç, Cyrillic). Pure: the model in, bytes out.

mod layout;
pub mod report;

use crate::tabular::WriteError;
use krilla::Document as PdfDocument;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::text::{Font, TextDirection};
use layout::{Metrics, Op, clean};

/// The vendored font (DejaVu Sans 2.37).
pub static FONT_TTF: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");

/// One table row: its label and the cells as text (numbers, `x` for a suppressed cell).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub label: String,
    pub cells: Vec<String>,
}

/// A table: a caption, the column names and the rows (label left, cells right-aligned).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub caption: String,
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
    /// Instead of rows: why there is nothing to show.
    pub note: Option<String>,
}

/// A part of a document, laid out from top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A section heading (kept with what follows it).
    Heading(String),
    /// A paragraph, wrapped to the page width.
    Paragraph(String),
    /// Labels and values side by side (each wrapped in its column).
    KeyValues(Vec<(String, String)>),
    Table(Table),
    /// One signature line per label, each with a date line beside it (`date` is its label).
    Signatures {
        people: Vec<String>,
        date: String,
    },
}

/// A whole document in one language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// BCP 47 language of the text (`az`, `ru`, `en`): recorded in the PDF's catalogue.
    pub lang: String,
    pub title: String,
    pub blocks: Vec<Block>,
    /// The page footer before the page number (`Dayaq · 2025 ·`): `footer 2 / 5`.
    pub footer: String,
}

impl Document {
    /// The same document without the characters the reader need not see and the font lacks
    /// (Fluent's bidi isolation marks).
    fn cleaned(&self) -> Document {
        let table = |t: &Table| Table {
            caption: clean(&t.caption),
            columns: t.columns.iter().map(|s| clean(s)).collect(),
            rows: t
                .rows
                .iter()
                .map(|r| Row {
                    label: clean(&r.label),
                    cells: r.cells.iter().map(|s| clean(s)).collect(),
                })
                .collect(),
            note: t.note.as_deref().map(clean),
        };
        Document {
            lang: self.lang.clone(),
            title: clean(&self.title),
            footer: clean(&self.footer),
            blocks: self
                .blocks
                .iter()
                .map(|b| match b {
                    Block::Heading(s) => Block::Heading(clean(s)),
                    Block::Paragraph(s) => Block::Paragraph(clean(s)),
                    Block::KeyValues(kv) => {
                        Block::KeyValues(kv.iter().map(|(k, v)| (clean(k), clean(v))).collect())
                    }
                    Block::Table(t) => Block::Table(table(t)),
                    Block::Signatures { people, date } => Block::Signatures {
                        people: people.iter().map(|s| clean(s)).collect(),
                        date: clean(date),
                    },
                })
                .collect(),
        }
    }
}

fn font_error() -> WriteError {
    WriteError("pdf: the vendored font cannot be read".into())
}

/// The document as a PDF (A4, embedded DejaVu Sans subset, page numbers in the footer).
pub fn pdf(d: &Document) -> Result<Vec<u8>, WriteError> {
    let font = Font::new(FONT_TTF.into(), 0).ok_or_else(font_error)?;
    let d = d.cleaned();
    let metrics = Metrics::new(FONT_TTF).ok_or_else(font_error)?;
    let pages = layout::layout(&d, &metrics);
    let total = pages.len();
    let settings = PageSettings::from_wh(layout::PAGE_W, layout::PAGE_H)
        .ok_or_else(|| WriteError("pdf: page size".into()))?;
    let mut doc = PdfDocument::new();
    doc.set_metadata(
        Metadata::new()
            .title(d.title.clone())
            .language(d.lang.clone())
            .creator("Dayaq".to_string()),
    );
    let fill = |grey: u8| Fill {
        paint: rgb::Color::new(grey, grey, grey).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    };
    for (pi, ops) in pages.iter().enumerate() {
        let mut page = doc.start_page_with(settings.clone());
        let mut s = page.surface();
        let footer = Op::Text {
            x: layout::MARGIN,
            y: layout::PAGE_H - 30.0,
            size: layout::SMALL_SIZE,
            text: format!("{} {} / {}", d.footer, pi + 1, total),
        };
        for op in ops.iter().chain(std::iter::once(&footer)) {
            match op {
                Op::Text { x, y, size, text } => {
                    s.set_fill(Some(fill(0)));
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
                            s.set_fill(Some(fill(*grey)));
                            s.draw_path(&path);
                        }
                    }
                }
            }
        }
        s.finish();
        page.finish();
    }
    doc.finish().map_err(|e| WriteError(format!("pdf: {e:?}")))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Read;

    /// The PDF's bytes with every Flate stream inflated after it (to search dictionaries in
    /// object streams and the ToUnicode maps).
    pub(crate) fn searchable(pdf: &[u8]) -> String {
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
    pub(crate) fn mapped(text: &str, s: &str) -> bool {
        let t = text.to_ascii_uppercase();
        s.chars().all(|c| {
            t.contains(&format!("<{:04X}>", c as u32)) || t.contains(&format!("{:04X}>", c as u32))
        })
    }

    fn letter(lang: &str) -> Document {
        Document {
            lang: lang.into(),
            title: "Göndəriş məktubu".into(),
            blocks: vec![
                Block::Heading("Şəxsiyyət və Əlaqə: çox".into()),
                Block::KeyValues(vec![
                    ("Ad".into(), "Aygün Şükürova".into()),
                    ("Xidmətlər".into(), "Tibbi yardım, psixoloji məsləhət, hüquqi yardım, sığınacaq, məşğulluq və peşə təhsili".into()),
                ]),
                Block::Paragraph("Ж ".repeat(400)),
                Block::Signatures {
                    people: vec!["Sorğu edən".into(), "Qəbul edən".into()],
                    date: "Tarix".into(),
                },
            ],
            footer: "Dayaq ·".into(),
        }
    }

    #[test]
    fn every_block_kind_renders_with_the_font_mapped() {
        let bytes = pdf(&letter("az")).expect("pdf");
        assert!(bytes.starts_with(b"%PDF-"));
        let text = searchable(&bytes);
        assert!(text.contains("/FontFile2"));
        assert!(text.contains("/Lang(az)"));
        assert!(mapped(&text, "əğıöüşçƏŞЖ"));
    }

    #[test]
    fn key_values_wrap_within_their_columns_and_signatures_draw_lines() {
        let m = Metrics::new(FONT_TTF).expect("font");
        let pages = layout::layout(&letter("az"), &m);
        let ops: Vec<&Op> = pages.iter().flatten().collect();
        for op in &ops {
            if let Op::Text { x, size, text, .. } = op {
                assert!(
                    x + m.width(text, *size) <= layout::PAGE_W - layout::MARGIN + 0.5,
                    "{text}"
                );
            }
        }
        // The long value wrapped onto more than one line, every word kept.
        let values: Vec<&str> = ops
            .iter()
            .filter_map(|op| match op {
                Op::Text { text, .. } if text.contains("yardım") || text.contains("təhsili") => {
                    Some(text.as_str())
                }
                _ => None,
            })
            .collect();
        assert!(values.len() >= 2, "{values:?}");
        // Two signature lines and two date lines.
        let rules = ops
            .iter()
            .filter(|op| matches!(op, Op::Rule { grey: 0, .. }))
            .count();
        assert_eq!(rules, 4);
    }

    #[test]
    fn a_heading_is_never_the_last_line_of_a_page() {
        let m = Metrics::new(FONT_TTF).expect("font");
        let mut d = letter("en");
        d.blocks = (0..80)
            .flat_map(|i| {
                [
                    Block::Heading(format!("Heading {i}")),
                    Block::Paragraph("word ".repeat(30 + i % 7)),
                ]
            })
            .collect();
        let pages = layout::layout(&d, &m);
        assert!(pages.len() > 2);
        for p in &pages {
            let last = p.iter().rev().find_map(|op| match op {
                Op::Text { text, .. } => Some(text.clone()),
                _ => None,
            });
            assert!(!last.unwrap_or_default().starts_with("Heading"));
        }
    }
}
