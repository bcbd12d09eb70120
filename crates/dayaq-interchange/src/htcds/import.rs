//! Reading and validating an HTCDS import file.

use super::ColumnKind::{Code, Integer, Multi, ReadOnly, Text};
use super::{
    Column, IgnoredColumn, ImportErrors, MAX_ERRORS, MAX_ROWS, MULTI_SEPARATOR, ParsedImport,
    RowError, column, column_letter, is_htcds_field, is_htcds_label,
};
use crate::tabular::{self, Cell, Format, Row};
use dayaq_domain::case::{CaseInput, ValidCase};
use serde_json::{Map, Value};
use std::collections::HashSet;
use time::Date;

/// Reads and validates a whole import file. `today` bounds birth dates.
pub fn parse(bytes: &[u8], format: Format, today: Date) -> Result<ParsedImport, ImportErrors> {
    let table = tabular::read(bytes, format).map_err(|e| ImportErrors {
        errors: vec![RowError::new(
            e.row,
            // The file as a whole (an XLSX refused by its bounds) is column `file`.
            if e.row == 0 { "file" } else { "" },
            e.code,
            e.message,
        )],
    })?;
    let (header_row, header) = match table.header {
        Some(h) => (h.number, h.cells.into_iter().map(Cell::into_text).collect()),
        None => (1, Vec::new()),
    };
    interpret(header_row, header, table.rows, today)
}

/// A header cell that looks like a field name may be repeated in messages; anything else (a
/// file without a header starts with personal data) is referred to by its column letter.
fn header_label(h: &str, index: usize) -> String {
    let h = h.trim();
    let looks_like_name = !h.is_empty()
        && h.len() <= 64
        && h.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && h.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if looks_like_name {
        h.to_string()
    } else {
        column_letter(index)
    }
}

enum Slot {
    Import(&'static Column),
    Ignore(&'static str),
}

fn interpret(
    hr: u64,
    header: Vec<String>,
    rows: Vec<Row>,
    today: Date,
) -> Result<ParsedImport, ImportErrors> {
    let mut errors = Vec::new();
    let known = header
        .iter()
        .filter(|h| column(h.trim()).is_some() || is_htcds_field(h.trim()))
        .count();
    if known == 0 {
        return Err(ImportErrors {
            errors: vec![RowError::new(
                hr,
                "",
                "no_header",
                "the first row must hold HTCDS field names such as prs_FirstName".into(),
            )],
        });
    }
    let mut slots = Vec::with_capacity(header.len());
    let mut seen: HashSet<&'static str> = HashSet::new();
    for (i, h) in header.iter().enumerate() {
        let name = h.trim();
        let slot = if name.is_empty() {
            Slot::Ignore("no_header")
        } else if let Some(c) = column(name) {
            if !seen.insert(c.name) {
                errors.push(RowError::new(
                    hr,
                    c.name,
                    "duplicate_column",
                    format!("the column {} appears more than once", c.name),
                ));
            }
            if c.kind == ReadOnly {
                Slot::Ignore("read_only")
            } else {
                Slot::Import(c)
            }
        } else if is_htcds_field(name) {
            Slot::Ignore("not_stored")
        } else {
            let label = header_label(h, i);
            errors.push(RowError::new(
                hr,
                label.clone(),
                "unknown_column",
                format!("{label} is not an HTCDS field name"),
            ));
            Slot::Ignore("unknown")
        };
        slots.push(slot);
    }
    if !errors.is_empty() {
        return Err(ImportErrors { errors });
    }

    let mut rows = rows.into_iter().map(|r| (r.number, r.cells)).peekable();
    // The HTCDS Excel template has a row of field labels under the (hidden) field-name row.
    if let Some((_, first)) = rows.peek() {
        let texts: Vec<&str> = first
            .iter()
            .filter_map(|c| match c {
                Cell::Text(s) if !s.trim().is_empty() => Some(s.trim()),
                _ => None,
            })
            .collect();
        if texts.len() >= 3 && texts.iter().all(|s| is_htcds_label(s)) {
            rows.next();
        }
    }

    let mut cases = Vec::new();
    let mut has_data = vec![false; slots.len()];
    let mut data_rows = 0usize;
    for (row, cells) in rows {
        let imported_blank = cells
            .iter()
            .enumerate()
            .all(|(i, c)| !matches!(slots.get(i), Some(Slot::Import(_))) || c.is_blank());
        for (i, c) in cells.iter().enumerate() {
            if !c.is_blank()
                && let Some(flag) = has_data.get_mut(i)
            {
                *flag = true;
            }
        }
        if imported_blank {
            let extra = cells
                .iter()
                .enumerate()
                .skip(slots.len())
                .find(|(_, c)| !c.is_blank());
            if let Some((i, _)) = extra {
                errors.push(extra_cell(row, i));
            }
            continue;
        }
        data_rows += 1;
        if data_rows > MAX_ROWS {
            errors.push(RowError::new(
                row,
                "",
                "too_many_rows",
                format!("a file may hold at most {MAX_ROWS} cases; split it"),
            ));
            break;
        }
        match row_to_case(row, &slots, &cells, today) {
            Ok(c) => cases.push(c),
            Err(mut e) => errors.append(&mut e),
        }
        if errors.len() >= MAX_ERRORS {
            errors.truncate(MAX_ERRORS);
            errors.push(RowError::new(
                0,
                "",
                "too_many_errors",
                format!("more than {MAX_ERRORS} problems; the first {MAX_ERRORS} are listed"),
            ));
            break;
        }
    }
    if !errors.is_empty() {
        return Err(ImportErrors { errors });
    }
    let ignored = slots
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match s {
            Slot::Ignore(code) if has_data.get(i).copied().unwrap_or(false) => {
                let h = header.get(i).map(String::as_str).unwrap_or("");
                let column = header_label(h, i);
                let message = match *code {
                    "read_only" => format!(
                        "{column} is set by Dayaq (new case numbers are assigned; the \
                         identification status is set only by a formal decision) and was not \
                         imported"
                    ),
                    "not_stored" => {
                        format!("{column} is an HTCDS field that Dayaq does not store")
                    }
                    _ => format!("column {column} has no header and was not imported"),
                };
                Some(IgnoredColumn {
                    column,
                    code,
                    message,
                })
            }
            _ => None,
        })
        .collect();
    Ok(ParsedImport { cases, ignored })
}

fn extra_cell(row: u64, index: usize) -> RowError {
    RowError::new(
        row,
        column_letter(index),
        "extra_cells",
        format!(
            "the row has a value in column {} beyond the header",
            column_letter(index)
        ),
    )
}

/// Builds and validates one case; every problem of the row is returned.
fn row_to_case(
    row: u64,
    slots: &[Slot],
    cells: &[Cell],
    today: Date,
) -> Result<ValidCase, Vec<RowError>> {
    let mut errors = Vec::new();
    let mut map = Map::new();
    for (i, cell) in cells.iter().enumerate() {
        let Some(slot) = slots.get(i) else {
            if !cell.is_blank() {
                errors.push(extra_cell(row, i));
            }
            continue;
        };
        let Slot::Import(c) = slot else { continue };
        let text = match cell {
            Cell::Text(t) => t,
            Cell::Bad { code, message } => {
                errors.push(RowError::new(row, c.name, code, (*message).to_string()));
                continue;
            }
        };
        if text.trim().is_empty() {
            continue;
        }
        let value = match c.kind {
            Text => Value::String(text.clone()),
            Code => Value::String(text.trim().to_string()),
            Multi => Value::Array(
                text.split(MULTI_SEPARATOR)
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.to_string()))
                    .collect(),
            ),
            Integer => match text.trim().parse::<i64>() {
                Ok(n) => Value::from(n),
                Err(_) => {
                    errors.push(RowError::new(
                        row,
                        c.name,
                        "invalid_number",
                        format!("{} must be a whole number", c.name),
                    ));
                    continue;
                }
            },
            ReadOnly => continue,
        };
        map.insert(c.name.to_string(), value);
    }
    // Unreadable cells were left out above, so the rest of the row is still checked.
    match serde_json::from_value::<CaseInput>(Value::Object(map)) {
        Ok(input) => match input.validate(today) {
            Ok(c) if errors.is_empty() => return Ok(c),
            Ok(_) => {}
            Err(v) => errors.extend(v.errors.into_iter().map(|e| {
                let column = e.field.split('[').next().unwrap_or(&e.field).to_string();
                RowError::new(row, column, e.code, e.message)
            })),
        },
        Err(_) => errors.push(RowError::new(
            row,
            "",
            "invalid_row",
            "the row could not be read as a case".into(),
        )),
    }
    // In the order of the file's columns.
    let position = |name: &str| {
        slots
            .iter()
            .position(|s| matches!(s, Slot::Import(c) if c.name == name))
            .unwrap_or(usize::MAX)
    };
    errors.sort_by_key(|e| position(&e.column));
    Err(errors)
}
