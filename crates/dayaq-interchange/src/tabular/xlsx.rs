//! The one bounded reader for every XLSX input (HTCDS import, questionnaire import, CLI and
//! screens alike), used by [`super::read`].
//!
//! A spreadsheet is a ZIP of XML files, and both layers can be used to exhaust memory with a
//! small upload: a ZIP member that inflates to gigabytes, or a sheet with one cell at `A1` and
//! one at `XFD1048576`, which a reader that builds a rows × columns grid turns into 17 billion
//! cells. This reader therefore
//!
//! 1. checks every ZIP member's **declared** and **actual** decompressed size (the actual size
//!    by inflating it into nothing with a bound, so a lying header does not help) and the total,
//!    before the workbook is opened;
//! 2. reads the first sheet **streaming**, cell by cell ([`calamine::XlsxCellReader`]), bounding
//!    the number of cells, the row and column indices, and the size of the grid the callers
//!    build (each row only up to its own last cell, rows without cells are skipped).
//!
//! Nothing proportional to the sheet's declared dimension is ever allocated.

use calamine::{Data, Reader, Xlsx};
use std::io::{Cursor, Read};

/// Bounds of one XLSX file.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// ZIP members in the file.
    pub max_members: usize,
    /// Decompressed bytes of one worksheet member (read streaming).
    pub max_member_bytes: u64,
    /// Decompressed bytes of any other member (shared strings, styles … are read whole into
    /// memory by calamine, so they get a smaller bound).
    pub max_other_member_bytes: u64,
    /// Decompressed bytes of all members together.
    pub max_total_bytes: u64,
    /// Cells (`<c>` elements) in the sheet.
    pub max_cells: usize,
    /// Rows × columns the callers may lay out: the sum over rows of the row's last column + 1
    /// (counted from column A, whatever the first used column).
    pub max_grid: u64,
}

/// Generous for real files (an HTCDS import is at most 100,000 cases of a few hundred columns
/// in an 8 MiB upload), small enough that a hostile file costs at most a few hundred MiB.
pub const LIMITS: Limits = Limits {
    max_members: 1_000,
    max_member_bytes: 256 * 1024 * 1024,
    max_other_member_bytes: 64 * 1024 * 1024,
    max_total_bytes: 512 * 1024 * 1024,
    max_cells: 5_000_000,
    max_grid: 8_000_000,
};

/// Why a file was refused. Never contains a cell's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetError {
    pub code: &'static str,
    pub message: String,
}

impl std::fmt::Display for SheetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl SheetError {
    fn unreadable() -> Self {
        Self {
            code: "unreadable_file",
            message: "the file is not a readable XLSX workbook".into(),
        }
    }
    fn too_large(message: String) -> Self {
        Self {
            code: "file_too_large",
            message,
        }
    }
}

/// One row that holds at least one non-empty cell: its 0-based index and its cells as
/// `(0-based column, value)`, in column order.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub index: u32,
    pub cells: Vec<(u32, Data)>,
}

impl Row {
    /// The row as a dense vector from column `from` to its last cell; missing cells are
    /// `empty()`. The grid bound of [`read_first_sheet`] bounds the total of these lengths.
    pub fn dense<T>(&self, from: u32, empty: impl Fn() -> T, f: impl Fn(&Data) -> T) -> Vec<T> {
        let end = self.cells.last().map_or(from, |(c, _)| c + 1);
        let mut out = Vec::with_capacity(end.saturating_sub(from) as usize);
        let mut next = from;
        for (c, d) in &self.cells {
            if *c < from {
                continue;
            }
            while next < *c {
                out.push(empty());
                next += 1;
            }
            out.push(f(d));
            next = c + 1;
        }
        out
    }
}

/// The first sheet, sparse: rows with cells in row order, and the smallest column used.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sheet {
    pub rows: Vec<Row>,
    pub first_column: u32,
}

/// Checks the ZIP layer: member count, each member's declared and actual decompressed size,
/// and the total.
pub fn check_zip(bytes: &[u8], limits: &Limits) -> Result<(), SheetError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| SheetError::unreadable())?;
    if zip.len() > limits.max_members {
        return Err(SheetError::too_large(format!(
            "the workbook has more than {} parts",
            limits.max_members
        )));
    }
    let total_mib = limits.max_total_bytes / (1024 * 1024);
    let mut total: u64 = 0;
    let bound = |name: &str| {
        if name.starts_with("xl/worksheets/") {
            limits.max_member_bytes
        } else {
            limits.max_other_member_bytes.min(limits.max_member_bytes)
        }
    };
    for i in 0..zip.len() {
        let member = zip.by_index(i).map_err(|_| SheetError::unreadable())?;
        let max = bound(&member.name().map(|n| n.into_owned()).unwrap_or_default());
        if member.size() > max {
            return Err(SheetError::too_large(format!(
                "a part of the workbook unpacks to more than {} MiB",
                max / (1024 * 1024)
            )));
        }
        total = total.saturating_add(member.size());
        if total > limits.max_total_bytes {
            return Err(SheetError::too_large(format!(
                "the workbook unpacks to more than {total_mib} MiB"
            )));
        }
    }
    // The declared sizes may lie: inflate every member into nothing, bounded.
    let mut actual_total: u64 = 0;
    for i in 0..zip.len() {
        let member = zip.by_index(i).map_err(|_| SheetError::unreadable())?;
        let max = bound(&member.name().map(|n| n.into_owned()).unwrap_or_default());
        let mut bounded = member.take(max + 1);
        let n = std::io::copy(&mut bounded, &mut std::io::sink())
            .map_err(|_| SheetError::unreadable())?;
        if n > max {
            return Err(SheetError::too_large(format!(
                "a part of the workbook unpacks to more than {} MiB",
                max / (1024 * 1024)
            )));
        }
        actual_total = actual_total.saturating_add(n);
        if actual_total > limits.max_total_bytes {
            return Err(SheetError::too_large(format!(
                "the workbook unpacks to more than {total_mib} MiB"
            )));
        }
    }
    Ok(())
}

/// Reads the first sheet of an XLSX file within `limits` (see the module documentation).
/// A workbook without sheets is an empty [`Sheet`].
pub fn read_first_sheet(bytes: &[u8], limits: &Limits) -> Result<Sheet, SheetError> {
    check_zip(bytes, limits)?;
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|_| SheetError::unreadable())?;
    let Some(name) = wb.sheet_names().into_iter().next() else {
        return Ok(Sheet::default());
    };
    let mut reader = wb
        .worksheet_cells_reader(&name)
        .map_err(|_| SheetError::unreadable())?;
    let mut cells: Vec<((u32, u32), Data)> = Vec::new();
    let mut seen = 0usize;
    while let Some(cell) = reader.next_cell().map_err(|_| SheetError::unreadable())? {
        seen += 1;
        if seen > limits.max_cells {
            return Err(SheetError::too_large(format!(
                "the sheet has more than {} cells",
                limits.max_cells
            )));
        }
        let pos = cell.get_position();
        let value = Data::from(cell.get_value().clone());
        if value == Data::Empty {
            continue;
        }
        cells.push((pos, value));
    }
    drop(reader);
    // Cells are normally in row order already; a stable sort keeps the last of duplicates last.
    cells.sort_by_key(|(p, _)| *p);
    cells.dedup_by(|later, earlier| {
        if later.0 == earlier.0 {
            std::mem::swap(later, earlier);
            true
        } else {
            false
        }
    });
    let first_column = cells.iter().map(|((_, c), _)| *c).min().unwrap_or(0);
    let mut rows: Vec<Row> = Vec::new();
    for ((r, c), d) in cells {
        match rows.last_mut() {
            Some(row) if row.index == r => row.cells.push((c, d)),
            _ => rows.push(Row {
                index: r,
                cells: vec![(c, d)],
            }),
        }
    }
    let grid: u64 = rows
        .iter()
        .map(|r| r.cells.last().map_or(0, |(c, _)| u64::from(*c) + 1))
        .sum();
    if grid > limits.max_grid {
        return Err(SheetError::too_large(format!(
            "the sheet spans more than {} cells (rows × columns); remove stray cells far \
             from the table or split the file",
            limits.max_grid
        )));
    }
    Ok(Sheet { rows, first_column })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use std::io::Write;

    /// A minimal workbook whose first sheet holds `sheet_data` (the inside of `<sheetData>`).
    pub(crate) fn workbook(sheet_data: &str) -> Vec<u8> {
        workbook_with(sheet_data, &[])
    }

    fn workbook_with(sheet_data: &str, extra: &[(&str, &[u8])]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opt = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let files: [(&str, String); 4] = [
            (
                "[Content_Types].xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.into(),
            ),
            (
                "_rels/.rels",
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.into(),
            ),
            (
                "xl/workbook.xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#.into(),
            ),
            (
                "xl/_rels/workbook.xml.rels",
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.into(),
            ),
        ];
        for (name, body) in files {
            zip.start_file(name, opt).unwrap();
            zip.write_all(body.as_bytes()).unwrap();
        }
        zip.start_file("xl/worksheets/sheet1.xml", opt).unwrap();
        write!(
            zip,
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{sheet_data}</sheetData></worksheet>"#
        )
        .unwrap();
        for (name, body) in extra {
            zip.start_file(*name, opt).unwrap();
            zip.write_all(body).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    fn inline(r: &str, v: &str) -> String {
        format!(r#"<c r="{r}" t="inlineStr"><is><t>{v}</t></is></c>"#)
    }

    #[test]
    fn corner_cells_are_read_sparsely() {
        let data = format!(
            r#"<row r="1">{}</row><row r="1048576">{}</row>"#,
            inline("A1", "x"),
            inline("XFD1048576", "y")
        );
        let sheet = read_first_sheet(&workbook(&data), &LIMITS).unwrap();
        assert_eq!(sheet.rows.len(), 2);
        assert_eq!(sheet.rows[1].index, 1_048_575);
        assert_eq!(sheet.rows[1].cells[0].0, 16_383);
    }

    #[test]
    fn a_wide_grid_is_refused() {
        let mut data = String::new();
        for r in 1..=600 {
            data.push_str(&format!(
                r#"<row r="{r}">{}</row>"#,
                inline(&format!("XFD{r}"), "y")
            ));
        }
        let e = read_first_sheet(&workbook(&data), &LIMITS).unwrap_err();
        assert_eq!(e.code, "file_too_large");
        assert!(e.message.contains("rows × columns"), "{e}");
    }

    #[test]
    fn too_many_cells_are_refused() {
        let limits = Limits {
            max_cells: 10,
            ..LIMITS
        };
        let data: String = (1..=11).map(|r| inline(&format!("A{r}"), "v")).collect();
        let e = read_first_sheet(&workbook(&format!("<row>{data}</row>")), &limits).unwrap_err();
        assert_eq!(e.code, "file_too_large");
    }

    #[test]
    fn an_inflating_member_is_refused() {
        let limits = Limits {
            max_member_bytes: 1024 * 1024,
            ..LIMITS
        };
        let zeros = vec![b' '; 2 * 1024 * 1024];
        let file = workbook_with("", &[("xl/padding.xml", &zeros)]);
        assert!(file.len() < 64 * 1024, "compressed {}", file.len());
        let e = read_first_sheet(&file, &limits).unwrap_err();
        assert_eq!(e.code, "file_too_large");
        assert!(e.message.contains("MiB"), "{e}");
    }

    #[test]
    fn a_lying_declared_size_is_caught_by_the_actual_size() {
        let limits = Limits {
            max_member_bytes: 1024 * 1024,
            ..LIMITS
        };
        let big = vec![b' '; 2 * 1024 * 1024];
        let mut file = workbook_with("", &[("xl/padding.xml", &big)]);
        // Rewrite the declared uncompressed size of the last member (local and central
        // headers) to 10 bytes.
        let name = b"xl/padding.xml";
        let mut i = 0;
        while let Some(p) = file[i..].windows(name.len()).position(|w| w == name) {
            let at = i + p;
            let sig_local = at >= 30 && file[at - 30..at - 26] == [0x50, 0x4b, 0x03, 0x04];
            let sig_central = at >= 46 && file[at - 46..at - 42] == [0x50, 0x4b, 0x01, 0x02];
            if sig_local {
                file[at - 30 + 22..at - 30 + 26].copy_from_slice(&10u32.to_le_bytes());
            } else if sig_central {
                file[at - 46 + 24..at - 46 + 28].copy_from_slice(&10u32.to_le_bytes());
            }
            i = at + 1;
        }
        let e = read_first_sheet(&file, &limits).unwrap_err();
        assert!(
            matches!(e.code, "file_too_large" | "unreadable_file"),
            "{e:?}"
        );
    }

    #[test]
    fn dense_rows_pad_only_to_their_own_last_cell() {
        let data = format!(
            r#"<row r="2">{}{}</row>"#,
            inline("B2", "b"),
            inline("D2", "d")
        );
        let sheet = read_first_sheet(&workbook(&data), &LIMITS).unwrap();
        assert_eq!(sheet.first_column, 1);
        let dense = sheet.rows[0].dense(0, String::new, |d| d.to_string());
        assert_eq!(dense, vec!["", "b", "", "d"]);
    }
}
