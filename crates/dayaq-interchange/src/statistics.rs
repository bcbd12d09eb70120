//! The annual national report as files: CSV and XLSX (one writer crate each, CSV cells through
//! the one formula guard of `tabular::guard`).
//!
//! - CSV: one long table, a line per cell: `year, variant, k, table, unit, row, column,
//!   value, note` (`value` is the number, or `x` (`SUPPRESSED_MARK`) when suppressed; `note` is
//!   `not_recorded:<reason>` for a table the data model cannot fill).
//! - XLSX: a sheet `about` (year, variant, k), then one sheet per table: the row keys in
//!   column A, a column per table column; suppressed cells hold the text `x`.

use crate::tabular::WriteError;
use crate::tabular::guard::guard;
use dayaq_domain::statistics::{Cell, Disclosure, NationalReport, SUPPRESSED_MARK, Table};

/// A report with its trend table and the disclosure rule it was made under.
pub struct ReportFile<'a> {
    pub report: &'a NationalReport,
    pub trend: &'a Table,
    pub disclosure: Disclosure,
}

fn cell_text(c: Cell) -> String {
    match c {
        Cell::Value(v) => v.to_string(),
        Cell::Suppressed => SUPPRESSED_MARK.to_string(),
    }
}

fn tables<'a>(r: &ReportFile<'a>) -> impl Iterator<Item = &'a Table> {
    r.report.tables.iter().chain(std::iter::once(r.trend))
}

/// The report as CSV (UTF-8, comma, CRLF, header line).
pub fn report_csv(r: &ReportFile<'_>) -> Result<Vec<u8>, WriteError> {
    let err = |e: csv::Error| WriteError(format!("csv: {e}"));
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    w.write_record([
        "year", "variant", "k", "table", "unit", "row", "column", "value", "note",
    ])
    .map_err(err)?;
    let year = r.report.year.to_string();
    let variant = r.disclosure.name();
    let k = r.disclosure.k();
    let k_text = k.map(|k| k.to_string()).unwrap_or_default();
    for t in tables(r) {
        if let Some(reason) = t.not_recorded {
            let note = format!("not_recorded:{reason}");
            w.write_record([
                year.as_str(),
                variant,
                &k_text,
                t.id,
                t.unit,
                "",
                "",
                "",
                &note,
            ])
            .map_err(err)?;
            continue;
        }
        for row in &t.rows {
            for (col, cell) in t.columns.iter().zip(&row.cells) {
                let value = cell_text(*cell);
                w.write_record([
                    year.as_str(),
                    variant,
                    &k_text,
                    t.id,
                    t.unit,
                    &guard(&row.key),
                    col.key,
                    &value,
                    "",
                ])
                .map_err(err)?;
            }
        }
    }
    w.into_inner().map_err(|e| WriteError(format!("csv: {e}")))
}

/// The report as an XLSX workbook.
pub fn report_xlsx(r: &ReportFile<'_>) -> Result<Vec<u8>, WriteError> {
    use rust_xlsxwriter::{Format, Workbook};
    let err = |e: rust_xlsxwriter::XlsxError| WriteError(format!("xlsx: {e}"));
    let bold = Format::new().set_bold();
    let k = r.disclosure.k();
    let mut wb = Workbook::new();
    let about = wb.add_worksheet();
    about.set_name("about").map_err(err)?;
    about
        .write_string_with_format(0, 0, "year", &bold)
        .map_err(err)?;
    about
        .write_number(0, 1, f64::from(r.report.year))
        .map_err(err)?;
    about
        .write_string_with_format(1, 0, "variant", &bold)
        .map_err(err)?;
    about.write_string(1, 1, r.disclosure.name()).map_err(err)?;
    if let Some(k) = k {
        about
            .write_string_with_format(2, 0, "k", &bold)
            .map_err(err)?;
        about.write_number(2, 1, k as f64).map_err(err)?;
    }
    for t in tables(r) {
        let sheet = wb.add_worksheet();
        // Sheet names are at most 31 characters.
        let name: String = t.id.chars().take(31).collect();
        sheet.set_name(&name).map_err(err)?;
        sheet
            .write_string_with_format(0, 0, t.unit, &bold)
            .map_err(err)?;
        if let Some(reason) = t.not_recorded {
            sheet
                .write_string(1, 0, format!("not_recorded:{reason}"))
                .map_err(err)?;
            continue;
        }
        for (i, c) in t.columns.iter().enumerate() {
            sheet
                .write_string_with_format(0, i as u16 + 1, c.key, &bold)
                .map_err(err)?;
        }
        for (ri, row) in t.rows.iter().enumerate() {
            let y = ri as u32 + 1;
            sheet.write_string(y, 0, &row.key).map_err(err)?;
            for (ci, cell) in row.cells.iter().enumerate() {
                let x = ci as u16 + 1;
                match cell {
                    Cell::Value(v) => sheet.write_number(y, x, *v as f64),
                    Cell::Suppressed => sheet.write_string(y, x, cell_text(*cell)),
                }
                .map_err(err)?;
            }
        }
        sheet.set_freeze_panes(1, 1).map_err(err)?;
    }
    wb.save_to_buffer().map_err(err)
}
