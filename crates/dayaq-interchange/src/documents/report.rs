//! The annual national report (issue #15 part 5) as a document: A4 pages, the tables with
//! their captions, the text in the reader's language (az, ru or en). Built by
//! `dayaq-http/src/pages/statistics_charts.rs` (`national_pdf`) and written by
//! [`super::pdf`] like every other document.

use super::{Block, Document, Row, Table, pdf};
use crate::tabular::WriteError;

/// One row: its label and the cells as text (numbers, `x` for a suppressed cell, amounts).
pub type PdfRow = Row;

/// One table, labelled in the reader's language.
pub type PdfTable = Table;

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

/// The report in the documents' model: the intro as paragraphs, then the tables.
pub fn document(r: &PdfReport) -> Document {
    Document {
        lang: r.lang.clone(),
        title: r.title.clone(),
        blocks: r
            .intro
            .iter()
            .map(|p| Block::Paragraph(p.clone()))
            .chain(r.tables.iter().map(|t| Block::Table(t.clone())))
            .collect(),
        footer: r.footer.clone(),
    }
}

/// The report as a PDF (A4, embedded DejaVu Sans subset).
pub fn report_pdf(r: &PdfReport) -> Result<Vec<u8>, WriteError> {
    pdf(&document(r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::FONT_TTF;
    use crate::documents::layout::{self, BOTTOM, MARGIN, Metrics, Op};
    use crate::documents::tests::{mapped, searchable};

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
        let pages = layout::layout(&document(&r), &m);
        assert!(pages.len() >= 5, "{}", pages.len());
        for p in &pages {
            for op in p {
                if let Op::Text { y, .. } = op {
                    assert!(*y <= BOTTOM + 16.0 && *y >= MARGIN);
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
