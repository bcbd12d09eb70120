//! The national report's charts (SVG beside their tables on `/statistics/national`) and its
//! PDF (API export `format=pdf`, CLI `--format pdf`), labelled in the reader's language. The
//! drawing and the PDF writing are pure and live in `dayaq_interchange::{charts, documents}`;
//! this module only picks the series and translates the labels.
//!
//! Public variant: a suppressed cell is drawn as the mark `x` (no bar, no point) and printed
//! as `x` in the PDF, never as its value.

use super::statistics::{ViewTable, view};
use crate::error::AppError;
use crate::i18n::{Lang, Tr};
use dayaq_domain::statistics::{DEFAULT_K, Disclosure, SUPPRESSED_MARK, Table};
use dayaq_interchange::charts::{Chart, bar_chart_svg, chart_data, line_chart_svg};
use dayaq_interchange::documents::report::{PdfReport, PdfRow, PdfTable, report_pdf};
use dayaq_storage::statistics::NationalReportOut;

/// One chart: the table it draws, the columns drawn (series), the rows left out (totals),
/// a line chart (trend) or bars, and the message ids of its title and description.
struct ChartSpec {
    table: &'static str,
    series: &'static [&'static str],
    skip: &'static [&'static str],
    line: bool,
    title: &'static str,
    desc: &'static str,
}

const CHARTS: &[ChartSpec] = &[
    ChartSpec {
        table: "trend",
        series: &["identified", "presumed", "any_assistance"],
        skip: &[],
        line: true,
        title: "stat-chart-trend",
        desc: "stat-chart-trend-desc",
    },
    ChartSpec {
        table: "by_sex_age",
        series: &[
            "identified_child",
            "identified_adult",
            "identified_age_unknown",
        ],
        skip: &["total"],
        line: false,
        title: "stat-chart-by-sex-age",
        desc: "stat-chart-by-sex-age-desc",
    },
    ChartSpec {
        table: "by_form",
        series: &["identified", "presumed"],
        skip: &["persons"],
        line: false,
        title: "stat-chart-by-form",
        desc: "stat-chart-by-form-desc",
    },
];

/// The chart of `table` as SVG markup (title, desc, role="img"), or `None` for a table
/// without a chart. `vt` is the table's labelled view (row and column labels).
pub(crate) fn chart_svg(
    t: &Tr,
    table: &Table,
    vt: &ViewTable,
    public_k: Option<i64>,
) -> Option<String> {
    let spec = CHARTS.iter().find(|c| c.table == table.id)?;
    if table.not_recorded.is_some() {
        return None;
    }
    let data = chart_data(table, spec.series, spec.skip);
    let label_of_row = |key: &str| {
        table
            .rows
            .iter()
            .position(|r| r.key == key)
            .and_then(|i| vt.rows.get(i))
            .map(|r| r.label.clone())
            .unwrap_or_else(|| key.to_string())
    };
    let label_of_col = |key: &str| {
        table
            .columns
            .iter()
            .position(|c| c.key == key)
            .and_then(|i| vt.columns.get(i))
            .cloned()
            .unwrap_or_else(|| key.to_string())
    };
    let category_labels: Vec<String> = data.categories.iter().map(|k| label_of_row(k)).collect();
    let series_labels: Vec<String> = data.series.iter().map(|k| label_of_col(k)).collect();
    let title = t.get(spec.title);
    let mut desc = t.get(spec.desc);
    let k = public_k.unwrap_or(DEFAULT_K);
    if public_k.is_some() {
        desc.push(' ');
        desc.push_str(&t.arg("stat-chart-suppressed-desc", "count", k));
    }
    let id = format!("chart-{}", table.id);
    let chart = Chart {
        id: &id,
        title: &title,
        desc: &desc,
        category_labels: &category_labels,
        series_labels: &series_labels,
        suppressed_mark: SUPPRESSED_MARK,
        data: &data,
    };
    let svg = if spec.line {
        line_chart_svg(&chart)
    } else {
        bar_chart_svg(&chart)
    };
    match svg {
        Ok(svg) => Some(svg),
        Err(e) => {
            // The error names the drawing step only, never a figure or a label.
            tracing::warn!(table = table.id, error = %e, "chart not drawn");
            None
        }
    }
}

/// The annual national report as a PDF in `lang`: the same tables (and labels) as the screen.
pub fn national_pdf(lang: Lang, r: &NationalReportOut) -> Result<Vec<u8>, AppError> {
    let t = Tr::new(lang);
    let k = r.disclosure.k().unwrap_or(DEFAULT_K);
    let public = matches!(r.disclosure, Disclosure::Public { .. });
    let year = r.report.year;
    let tables: Vec<PdfTable> = r
        .report
        .tables
        .iter()
        .chain(std::iter::once(&r.trend))
        .map(|tb| {
            let v = view(&t, tb);
            PdfTable {
                caption: v.caption,
                columns: v.columns,
                rows: v
                    .rows
                    .into_iter()
                    .map(|row| PdfRow {
                        label: row.label,
                        cells: row.cells,
                    })
                    .collect(),
                note: v
                    .not_recorded
                    .map(|reason| format!("{}: {reason}", t.get("stat-not-recorded"))),
            }
        })
        .collect();
    let title = format!("{} · {year}", t.get("stat-title"));
    let variant = if public {
        t.arg("stat-public-note", "count", k)
    } else {
        t.get("stat-internal-note")
    };
    let doc = PdfReport {
        lang: lang.code().to_string(),
        title: title.clone(),
        intro: vec![variant, t.get("stat-rules-note")],
        tables,
        footer: format!("Dayaq · {title} · {}", t.get("stat-pdf-page")),
    };
    report_pdf(&doc).map_err(|e| AppError::Internal(e.0))
}
