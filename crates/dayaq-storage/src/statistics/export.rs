//! The national report's files: written by `dayaq_interchange::statistics` (the one tabular
//! writer); this module only adapts the storage answer and the error.

use super::NationalReportOut;
use crate::{Result, StoreError};
use dayaq_interchange::statistics::{ReportFile, report_csv, report_xlsx};

fn file(r: &NationalReportOut) -> ReportFile<'_> {
    ReportFile {
        report: &r.report,
        trend: &r.trend,
        disclosure: r.disclosure,
    }
}

/// The report as CSV (UTF-8, comma, CRLF, header line).
pub fn to_csv(r: &NationalReportOut) -> Result<Vec<u8>> {
    report_csv(&file(r)).map_err(|e| StoreError::Data(e.0))
}

/// The report as an XLSX workbook.
pub fn to_xlsx(r: &NationalReportOut) -> Result<Vec<u8>> {
    report_xlsx(&file(r)).map_err(|e| StoreError::Data(e.0))
}
