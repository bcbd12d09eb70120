//! The action-plan scorecard as files (issue #15 §3): CSV (every text cell through the one
//! formula guard) and XLSX, one line per indicator and year (the year asked for and the two
//! before it).

use crate::tabular::WriteError;
use crate::tabular::guard::guard;
use dayaq_domain::statistics::scorecard::{IndicatorResult, Scorecard};

/// The column names of both files.
pub const COLUMNS: &[&str] = &[
    "year",
    "indicator",
    "metric",
    "unit",
    "direction",
    "target",
    "tolerance",
    "value",
    "numerator",
    "denominator",
    "light",
    "breakdown",
    "source",
    "name_en",
];

fn num(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The text cells of every line, in `COLUMNS` order (not yet guarded).
pub fn lines(card: &Scorecard) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for row in &card.rows {
        let i = &row.indicator;
        let mut results: Vec<&IndicatorResult> = row.history.iter().collect();
        results.push(&row.result);
        for r in results {
            out.push(vec![
                r.year.to_string(),
                i.id.clone(),
                i.metric.name().to_string(),
                i.unit().name().to_string(),
                i.direction.name().to_string(),
                i.target.to_string(),
                i.tolerance.to_string(),
                num(r.value),
                r.numerator.map(|n| n.to_string()).unwrap_or_default(),
                r.denominator.map(|n| n.to_string()).unwrap_or_default(),
                r.light.name().to_string(),
                r.breakdown
                    .iter()
                    .map(|(k, n)| format!("{k}={n}"))
                    .collect::<Vec<_>>()
                    .join(";"),
                r.source.clone().unwrap_or_default(),
                i.name.en.clone(),
            ]);
        }
    }
    out
}

/// The scorecard as CSV (UTF-8, comma, CRLF, header line).
pub fn scorecard_csv(card: &Scorecard) -> Result<Vec<u8>, WriteError> {
    let err = |e: csv::Error| WriteError(format!("csv: {e}"));
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    w.write_record(COLUMNS).map_err(err)?;
    for line in lines(card) {
        w.write_record(line.iter().map(|c| guard(c).into_owned()))
            .map_err(err)?;
    }
    w.into_inner().map_err(|e| WriteError(format!("csv: {e}")))
}

/// The scorecard as an XLSX workbook (one sheet `scorecard`).
pub fn scorecard_xlsx(card: &Scorecard) -> Result<Vec<u8>, WriteError> {
    use rust_xlsxwriter::{Format, Workbook};
    let err = |e: rust_xlsxwriter::XlsxError| WriteError(format!("xlsx: {e}"));
    let bold = Format::new().set_bold();
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.set_name("scorecard").map_err(err)?;
    for (c, name) in COLUMNS.iter().enumerate() {
        sheet
            .write_string_with_format(0, c as u16, *name, &bold)
            .map_err(err)?;
    }
    for (r, line) in lines(card).iter().enumerate() {
        for (c, cell) in line.iter().enumerate() {
            let (y, x) = (r as u32 + 1, c as u16);
            match cell.parse::<f64>() {
                Ok(v) if COLUMNS[c] != "indicator" && COLUMNS[c] != "source" => {
                    sheet.write_number(y, x, v).map_err(err)?;
                }
                _ => {
                    sheet.write_string(y, x, cell).map_err(err)?;
                }
            }
        }
    }
    wb.save_to_buffer().map_err(err)
}
