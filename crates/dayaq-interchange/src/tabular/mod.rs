//! One reader and one writer for every tabular file Dayaq takes in or gives out (HTCDS cases,
//! questionnaire rounds, questionnaire summaries), CSV and XLSX alike.
//!
//! - [`read`] turns a file into a [`Table`]: the header row and the data rows, each with its
//!   row number as a spreadsheet shows it, cells as text or as a [`Cell::Bad`] that names the
//!   problem (never the value). XLSX goes through the bounded reader of [`xlsx`] (ZIP sizes,
//!   streaming cells, grid); CSV cells are unguarded ([`guard::unguard`]).
//! - [`CsvWriter`] writes UTF-8 CSV with CRLF line ends and guards every cell against formula
//!   injection ([`guard::guard`]); [`XlsxWriter`] writes one sheet of typed cells (text is never
//!   evaluated, so it is not guarded) with a bold, frozen header row.
//!
//! Nothing here does file I/O: bytes in, bytes (or any `std::io::Write`) out.

pub mod guard;
pub mod xlsx;

use calamine::Data;
use serde::Serialize;

/// A file format of an import or export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub const XLSX_MEDIA_TYPE: &'static str =
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

    /// By file name extension (`.csv`, `.xlsx`; any case).
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Format::from_name(&ext)
    }

    /// `csv` or `xlsx`.
    pub fn from_name(s: &str) -> Option<Format> {
        match s {
            "csv" => Some(Format::Csv),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }

    /// By media type: `text/csv` (also `application/csv`) or the XLSX media type.
    pub fn from_media_type(ct: &str) -> Option<Format> {
        let base = ct
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match base.as_str() {
            "text/csv" | "application/csv" => Some(Format::Csv),
            Format::XLSX_MEDIA_TYPE => Some(Format::Xlsx),
            _ => None,
        }
    }

    /// XLSX files are ZIP archives; anything else is read as CSV.
    pub fn sniff(bytes: &[u8]) -> Format {
        if bytes.starts_with(b"PK\x03\x04") {
            Format::Xlsx
        } else {
            Format::Csv
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => Format::XLSX_MEDIA_TYPE,
        }
    }
}

/// The spreadsheet name of a 0-based column index: A, B, …, Z, AA, …
pub fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut out = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        out.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

// ------------------------------------------------------------------------------------------
// Reading

/// A cell as read: its text, or a problem that makes it unreadable (never its value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    Bad {
        code: &'static str,
        message: &'static str,
    },
}

impl Cell {
    /// Empty or only whitespace (a bad cell is not blank).
    pub fn is_blank(&self) -> bool {
        matches!(self, Cell::Text(s) if s.trim().is_empty())
    }

    /// The text; a bad cell has none.
    pub fn text(&self) -> Option<&str> {
        match self {
            Cell::Text(s) => Some(s),
            Cell::Bad { .. } => None,
        }
    }

    /// The text, a bad cell as empty text.
    pub fn into_text(self) -> String {
        match self {
            Cell::Text(s) => s,
            Cell::Bad { .. } => String::new(),
        }
    }
}

/// One row of a file: its number as a spreadsheet shows it (1-based) and its cells from
/// column A (XLSX: up to the row's last cell; CSV: as many as the line has).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub number: u64,
    pub cells: Vec<Cell>,
}

impl Row {
    /// Every cell blank.
    pub fn is_blank(&self) -> bool {
        self.cells.iter().all(Cell::is_blank)
    }
}

/// A whole file: its first row (CSV: the first record; XLSX: the first row holding a cell),
/// then every later row. XLSX rows without any cell are not listed; CSV blank lines are not
/// records. `first_column` is the smallest column any XLSX cell uses (0 for CSV).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub header: Option<Row>,
    pub rows: Vec<Row>,
    pub first_column: usize,
}

/// Why a file could not be read at all. `row` is 0 for the file as a whole. Never contains a
/// cell's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ReadError {
    pub row: u64,
    pub code: &'static str,
    pub message: String,
}

/// Reads a whole CSV or XLSX file within [`xlsx::LIMITS`].
pub fn read(bytes: &[u8], format: Format) -> Result<Table, ReadError> {
    read_with(bytes, format, &xlsx::LIMITS)
}

/// Reads a whole CSV or XLSX file; `limits` bound an XLSX file (see [`xlsx`]).
pub fn read_with(bytes: &[u8], format: Format, limits: &xlsx::Limits) -> Result<Table, ReadError> {
    match format {
        Format::Csv => read_csv(bytes),
        Format::Xlsx => read_xlsx(bytes, limits),
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

fn read_csv(bytes: &[u8]) -> Result<Table, ReadError> {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    // Spreadsheets set to a locale with a decimal comma write `;` between cells; header names
    // contain neither separator, so the header line tells which one the file uses.
    let first_line = bytes.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let delimiter = if first_line.contains(&b',') {
        b','
    } else if first_line.contains(&b';') {
        b';'
    } else if first_line.contains(&b'\t') {
        b'\t'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(bytes);
    let mut table = Table::default();
    let mut record = csv::ByteRecord::new();
    let mut index: u64 = 0;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(_) => {
                return Err(ReadError {
                    row: index + 2,
                    code: "unreadable_file",
                    message: "the file is not valid CSV from this row on".into(),
                });
            }
        }
        index += 1;
        let cells: Vec<Cell> = record
            .iter()
            .map(|b| match std::str::from_utf8(b) {
                Ok(s) => Cell::Text(guard::unguard(s).into_owned()),
                Err(_) => Cell::Bad {
                    code: "invalid_encoding",
                    message: "the cell is not UTF-8 text; save the file as CSV UTF-8",
                },
            })
            .collect();
        let row = Row {
            number: index,
            cells,
        };
        if table.header.is_none() {
            table.header = Some(row);
        } else {
            table.rows.push(row);
        }
    }
    Ok(table)
}

/// A number as a spreadsheet shows it: whole numbers without a fraction.
fn float_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// An XLSX cell as text: numbers as a spreadsheet shows them, dates as `YYYY-MM-DD` (with a
/// time `THH:MM:SS` when it has one), spreadsheet errors as bad cells.
fn xlsx_cell(d: &Data) -> Cell {
    match d {
        Data::Empty => Cell::Text(String::new()),
        Data::String(s) => Cell::Text(s.clone()),
        Data::Int(n) => Cell::Text(n.to_string()),
        Data::Float(f) => Cell::Text(float_text(*f)),
        Data::Bool(b) => Cell::Text(b.to_string()),
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, m, d, hh, mm, ss, ms) = dt.to_ymd_hms_milli();
            if (hh, mm, ss, ms) == (0, 0, 0, 0) {
                Cell::Text(format!("{y:04}-{m:02}-{d:02}"))
            } else {
                Cell::Text(format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}"))
            }
        }
        Data::DateTime(dt) => Cell::Text(float_text(dt.as_f64())),
        Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(_) => Cell::Bad {
            code: "cell_error",
            message: "the cell holds a spreadsheet error",
        },
    }
}

fn read_xlsx(bytes: &[u8], limits: &xlsx::Limits) -> Result<Table, ReadError> {
    // The bounded reader: ZIP sizes and the sheet's extent are checked before anything
    // proportional to them is allocated.
    let sheet = xlsx::read_first_sheet(bytes, limits).map_err(|e| ReadError {
        row: 0,
        code: e.code,
        message: e.message,
    })?;
    let mut table = Table {
        first_column: sheet.first_column as usize,
        ..Table::default()
    };
    for r in &sheet.rows {
        // Cells keep their absolute column (column letters in messages).
        let row = Row {
            number: u64::from(r.index) + 1,
            cells: r.dense(0, || Cell::Text(String::new()), xlsx_cell),
        };
        if table.header.is_none() {
            table.header = Some(row);
        } else {
            table.rows.push(row);
        }
    }
    Ok(table)
}

// ------------------------------------------------------------------------------------------
// Writing

/// Why a file could not be written (the writer's own message, never a cell's value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WriteError(pub String);

fn csv_error(e: impl std::fmt::Display) -> WriteError {
    WriteError(format!("csv: {e}"))
}

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> WriteError {
    WriteError(format!("xlsx: {e}"))
}

/// Writes CSV (UTF-8, comma, CRLF) to any writer; every cell is formula-guarded.
pub struct CsvWriter<W: std::io::Write> {
    w: csv::Writer<W>,
}

impl<W: std::io::Write> CsvWriter<W> {
    pub fn new(w: W) -> Self {
        Self {
            w: csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(w),
        }
    }

    /// Writes one row, each cell guarded ([`guard::guard`]).
    pub fn row<I>(&mut self, cells: I) -> Result<(), WriteError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.w
            .write_record(
                cells
                    .into_iter()
                    .map(|c| guard::guard(c.as_ref()).into_owned()),
            )
            .map_err(csv_error)
    }

    /// The underlying writer (what is still buffered here is not in it yet).
    pub fn get_ref(&self) -> &W {
        self.w.get_ref()
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(self) -> Result<W, WriteError> {
        self.w.into_inner().map_err(csv_error)
    }
}

/// A cell for [`XlsxWriter::row`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum XlsxCell<'a> {
    /// A string cell (empty text leaves the cell empty).
    Text(&'a str),
    Number(f64),
}

/// Builds an XLSX workbook of one sheet: a bold header in row 1 (frozen), then the rows. The
/// workbook is assembled in memory: use CSV for very large files.
pub struct XlsxWriter {
    sheet: rust_xlsxwriter::Worksheet,
    next: u32,
}

impl XlsxWriter {
    pub fn new<I>(sheet_name: &str, header: I) -> Result<Self, WriteError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let mut sheet = rust_xlsxwriter::Worksheet::new();
        sheet.set_name(sheet_name).map_err(xlsx_error)?;
        let bold = rust_xlsxwriter::Format::new().set_bold();
        for (i, h) in header.into_iter().enumerate() {
            sheet
                .write_string_with_format(0, i as u16, h.as_ref(), &bold)
                .map_err(xlsx_error)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(xlsx_error)?;
        Ok(Self { sheet, next: 1 })
    }

    /// Writes the next row from column A.
    pub fn row<'a>(
        &mut self,
        cells: impl IntoIterator<Item = XlsxCell<'a>>,
    ) -> Result<(), WriteError> {
        for (i, cell) in cells.into_iter().enumerate() {
            let col = i as u16;
            match cell {
                XlsxCell::Text("") => continue,
                XlsxCell::Text(s) => self.sheet.write_string(self.next, col, s),
                XlsxCell::Number(n) => self.sheet.write_number(self.next, col, n),
            }
            .map_err(xlsx_error)?;
        }
        self.next += 1;
        Ok(())
    }

    /// The workbook as bytes.
    pub fn finish(self) -> Result<Vec<u8>, WriteError> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        wb.push_worksheet(self.sheet);
        wb.save_to_buffer().map_err(xlsx_error)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn column_letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(38), "AM");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }

    #[test]
    fn formula_guard_round_trips_through_writer_and_reader() {
        let cells = [
            "=1+1",
            "@x",
            "'quoted",
            "''",
            "-x",
            "+994 50 1",
            "-12",
            "plain",
            "\tx",
            "-1+cmd|x",
        ];
        let mut w = CsvWriter::new(Vec::new());
        w.row(["h"; 10]).unwrap();
        w.row(cells).unwrap();
        let bytes = w.into_inner().unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.contains("'=1+1") && text.contains(",+994 50 1,") && text.contains("'-1+cmd|x")
        );
        assert!(text.ends_with("\r\n"));
        let t = read(&bytes, Format::Csv).unwrap();
        let back: Vec<String> = t.rows[0]
            .cells
            .iter()
            .cloned()
            .map(Cell::into_text)
            .collect();
        assert_eq!(back, cells);
    }

    #[test]
    fn csv_delimiter_bom_rows_and_encoding() {
        let t = read(b"\xEF\xBB\xBFa;b\n\n1;\xff\n\"x\ny\";2\n", Format::Csv).unwrap();
        let header = t.header.unwrap();
        assert_eq!((header.number, header.cells.len()), (1, 2));
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].number, 2, "blank lines are not records");
        assert!(matches!(
            t.rows[0].cells[1],
            Cell::Bad {
                code: "invalid_encoding",
                ..
            }
        ));
        assert_eq!(t.rows[1].cells[0], Cell::Text("x\ny".into()));
    }

    #[test]
    fn xlsx_writer_and_reader_agree() {
        let mut w = XlsxWriter::new("S", ["name", "n", "when"]).unwrap();
        w.row([
            XlsxCell::Text("=x"),
            XlsxCell::Number(3.0),
            XlsxCell::Text(""),
        ])
        .unwrap();
        w.row([XlsxCell::Text(""), XlsxCell::Text(""), XlsxCell::Text("")])
            .unwrap();
        w.row([XlsxCell::Text(""), XlsxCell::Number(2.5)]).unwrap();
        let bytes = w.finish().unwrap();
        assert_eq!(Format::sniff(&bytes), Format::Xlsx);
        let t = read(&bytes, Format::Xlsx).unwrap();
        assert_eq!(t.header.unwrap().cells.len(), 3);
        let rows: Vec<(u64, Vec<String>)> = t
            .rows
            .into_iter()
            .map(|r| (r.number, r.cells.into_iter().map(Cell::into_text).collect()))
            .collect();
        assert_eq!(
            rows,
            vec![
                (2, vec!["=x".to_string(), "3".into()]),
                (4, vec![String::new(), "2.5".into()])
            ]
        );
    }

    #[test]
    fn formats() {
        assert_eq!(
            Format::from_media_type("text/csv; charset=utf-8"),
            Some(Format::Csv)
        );
        assert_eq!(
            Format::from_media_type(Format::XLSX_MEDIA_TYPE),
            Some(Format::Xlsx)
        );
        assert_eq!(
            Format::from_path(std::path::Path::new("a/B.XLSX")),
            Some(Format::Xlsx)
        );
        assert_eq!(Format::from_name("ods"), None);
    }
}
