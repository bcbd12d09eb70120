//! The cells of an HTCDS export and the writers of whole files.

use super::COLUMNS;
use super::ColumnKind::Integer;
use crate::tabular::{CsvWriter, WriteError, XlsxCell, XlsxWriter};
use dayaq_domain::case::CaseView;
use serde_json::{Map, Value};

/// The cells of one case in `COLUMNS` order (empty = absent). Multi-select values are sorted
/// (byte order) and joined with `;`, so an export does not depend on the database engine.
pub fn case_cells(v: &CaseView) -> Vec<String> {
    let mut m = match serde_json::to_value(v) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    if let Some(Value::Object(identity)) = m.remove("identity") {
        m.extend(identity);
    }
    COLUMNS
        .iter()
        .map(|c| match m.get(c.name) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(Value::Array(xs)) => {
                let mut parts: Vec<String> = xs
                    .iter()
                    .map(|x| match x {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect();
                parts.sort();
                parts.join(";")
            }
            Some(other) => other.to_string(),
        })
        .collect()
}

/// Writes HTCDS CSV (UTF-8, comma, CRLF, header row of field names) to any writer; cells are
/// formula-guarded and unguarded on import by the one guard, so the round trip stays exact.
pub struct CsvCases<W: std::io::Write> {
    w: CsvWriter<W>,
}

impl<W: std::io::Write> CsvCases<W> {
    /// Starts a file: writes the header row.
    pub fn new(w: W) -> Result<Self, WriteError> {
        let mut w = CsvWriter::new(w);
        w.row(COLUMNS.iter().map(|c| c.name))?;
        Ok(Self { w })
    }

    /// Continues a file whose header was written before (a streamed export in chunks).
    pub fn continued(w: W) -> Self {
        Self {
            w: CsvWriter::new(w),
        }
    }

    pub fn case(&mut self, v: &CaseView) -> Result<(), WriteError> {
        self.w.row(case_cells(v))
    }

    /// The underlying writer (rows still buffered here are not in it yet).
    pub fn get_ref(&self) -> &W {
        self.w.get_ref()
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(self) -> Result<W, WriteError> {
        self.w.into_inner()
    }
}

/// Builds an HTCDS XLSX workbook (one sheet "HTCDS", header in row 1; whole numbers as numbers,
/// everything else as text cells). Assembled in memory: use CSV for very large exports.
pub struct XlsxCases {
    w: XlsxWriter,
}

impl XlsxCases {
    pub fn new() -> Result<Self, WriteError> {
        Ok(Self {
            w: XlsxWriter::new("HTCDS", COLUMNS.iter().map(|c| c.name))?,
        })
    }

    pub fn case(&mut self, v: &CaseView) -> Result<(), WriteError> {
        let cells = case_cells(v);
        self.w.row(COLUMNS.iter().zip(&cells).map(|(c, cell)| {
            match (c.kind, cell.parse::<i64>()) {
                (Integer, Ok(n)) => XlsxCell::Number(n as f64),
                _ => XlsxCell::Text(cell),
            }
        }))
    }

    /// The workbook as bytes.
    pub fn finish(self) -> Result<Vec<u8>, WriteError> {
        self.w.finish()
    }
}
