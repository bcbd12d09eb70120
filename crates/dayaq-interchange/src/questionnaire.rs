//! The follow-up questionnaire file (a survey round; docs/FOLLOWUP.md): columns `case_number`,
//! `round`, `assessed_on`, then question keys, then `assistance_needed_words`; multi-choice
//! answers separated by `;`. Read and checked here without the database (storage then looks
//! up the case numbers); written for the export with the same columns.

use crate::tabular::{self, Cell, CsvWriter, Format, WriteError, XlsxCell, XlsxWriter};
use dayaq_domain::followup::{self as rules, AssessmentInput, QUESTIONS, parse_day};
use dayaq_domain::{FieldError, ValidationErrors};
use time::Date;

/// The columns of a questionnaire file, for import and export alike: `case_number`, `round`,
/// `assessed_on`, every question key in questionnaire order, `assistance_needed_words`.
pub fn questionnaire_columns() -> Vec<&'static str> {
    let mut c = vec!["case_number", "round", "assessed_on"];
    c.extend(QUESTIONS.iter().map(|q| q.key));
    c.push("assistance_needed_words");
    c
}

/// One data row of a questionnaire file, read and checked without the database: its row
/// number (the header is row 1), case number, the assessment, and what is wrong with it
/// (fields prefixed `row N.`).
#[derive(Debug, Clone)]
pub struct QuestionnaireRow {
    pub row: usize,
    pub case_number: String,
    pub input: AssessmentInput,
    pub assessed_on: Option<Date>,
    pub errors: Vec<FieldError>,
}

fn invalid(field: &str, code: &'static str, msg: &str) -> ValidationErrors {
    ValidationErrors::single(FieldError::new(field, code, msg))
}

/// Reads a questionnaire file (CSV or XLSX, through [`tabular::read`]) and checks every row.
/// Header problems are an error; row problems are returned with each row. Rows whose cells are
/// all blank are skipped; the others are numbered from 2 in file order. Columns count from
/// the first used column of an XLSX sheet. Pure (no I/O), so that it can be fuzzed.
pub fn parse_questionnaire(
    bytes: &[u8],
    xlsx: bool,
) -> Result<Vec<QuestionnaireRow>, ValidationErrors> {
    let format = if xlsx { Format::Xlsx } else { Format::Csv };
    let table = tabular::read(bytes, format).map_err(|e| invalid("file", e.code, &e.message))?;
    let skip = table.first_column;
    let header: Vec<String> = table
        .header
        .map(|h| {
            h.cells
                .into_iter()
                .skip(skip)
                .map(|c| c.into_text().trim().to_string())
                .collect()
        })
        .unwrap_or_default();
    let rows: Vec<Vec<Cell>> = table
        .rows
        .into_iter()
        .filter(|r| !r.is_blank())
        .map(|r| r.cells.into_iter().skip(skip).collect())
        .collect();
    let mut errs = ValidationErrors::default();
    let col = |name: &str| header.iter().position(|h| h == name);
    let (Some(c_case), Some(c_round), Some(c_on)) =
        (col("case_number"), col("round"), col("assessed_on"))
    else {
        return Err(invalid(
            "header",
            "missing_column",
            "case_number, round and assessed_on columns are required",
        ));
    };
    for h in &header {
        if !matches!(
            h.as_str(),
            "case_number" | "round" | "assessed_on" | "assistance_needed_words"
        ) && rules::question(h).is_none()
        {
            errs.push(FieldError::new(
                format!("header.{h}"),
                "unknown_column",
                "not a question key",
            ));
        }
    }
    errs.into_result()?;
    let mut out = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let n = i + 2;
        let mut errors = Vec::new();
        // A cell that could not be read (not UTF-8, a spreadsheet error) is a problem of its
        // column and counts as empty.
        for (c, h) in header.iter().enumerate() {
            if let Some(Cell::Bad { code, message }) = row.get(c) {
                errors.push(FieldError::new(format!("row {n}.{h}"), code, *message));
            }
        }
        let get = |c: usize| row.get(c).and_then(Cell::text).map_or("", str::trim);
        let mut answers = rules::Answers::new();
        let mut words = None;
        for (c, h) in header.iter().enumerate() {
            let v = get(c);
            if v.is_empty() || matches!(h.as_str(), "case_number" | "round" | "assessed_on") {
                continue;
            }
            if h == "assistance_needed_words" {
                words = Some(v.to_string());
                continue;
            }
            answers.insert(
                h.clone(),
                v.split(';')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect(),
            );
        }
        let input = AssessmentInput {
            round: get(c_round).to_string(),
            assessed_on: get(c_on).to_string(),
            answers,
            assistance_needed_words: words,
        };
        if let Err(e) = input.check() {
            for f in e.errors {
                errors.push(FieldError::new(
                    format!("row {n}.{}", f.field),
                    f.code,
                    f.message,
                ));
            }
        }
        let assessed_on = match parse_day("assessed_on", &input.assessed_on) {
            Ok(d) => Some(d),
            Err(f) => {
                errors.push(FieldError::new(
                    format!("row {n}.{}", f.field),
                    f.code,
                    f.message,
                ));
                None
            }
        };
        out.push(QuestionnaireRow {
            row: n,
            case_number: get(c_case).to_string(),
            input,
            assessed_on,
            errors,
        });
    }
    Ok(out)
}

/// A table of text cells as CSV (UTF-8, comma, CRLF, header row), formula-guarded.
pub fn table_csv(header: &[String], rows: &[Vec<String>]) -> Result<Vec<u8>, WriteError> {
    let mut w = CsvWriter::new(Vec::new());
    w.row(header)?;
    for r in rows {
        w.row(r)?;
    }
    w.into_inner()
}

/// A table of text cells as an XLSX workbook (one sheet `sheet`, every cell a string).
pub fn table_xlsx(
    sheet: &str,
    header: &[String],
    rows: &[Vec<String>],
) -> Result<Vec<u8>, WriteError> {
    let mut w = XlsxWriter::new(sheet, header)?;
    for r in rows {
        w.row(r.iter().map(|c| XlsxCell::Text(c)))?;
    }
    w.finish()
}

/// The per-question summary as CSV text (`question,answer,count`), formula-guarded.
pub fn summary_csv<'a>(
    rows: impl IntoIterator<Item = (&'a str, &'a str, String)>,
) -> Result<String, WriteError> {
    let mut w = CsvWriter::new(Vec::new());
    w.row(["question", "answer", "count"])?;
    for (q, a, n) in rows {
        w.row([q, a, n.as_str()])?;
    }
    String::from_utf8(w.into_inner()?).map_err(|e| WriteError(e.to_string()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn rows_are_checked_and_numbered_without_blank_rows() {
        let csv = b"case_number,round,assessed_on,employment,assistance_needed\n\
                    DQ-1,R1,2026-04-20,none,job;housing\n\
                    ,,,,\n\
                    DQ-2,R1,20.04.2026,astronaut,\xff\n";
        let rows = parse_questionnaire(csv, false).unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows[0].errors.is_empty(), "{:?}", rows[0].errors);
        assert_eq!(
            rows[0].input.answers["assistance_needed"],
            ["job", "housing"]
        );
        let fields: Vec<(&str, &str)> = rows[1]
            .errors
            .iter()
            .map(|e| (e.field.as_str(), e.code))
            .collect();
        assert_eq!(
            fields,
            vec![
                ("row 3.assistance_needed", "invalid_encoding"),
                ("row 3.employment", "unknown_answer"),
                ("row 3.assessed_on", "invalid_date")
            ]
        );
        assert_eq!(rows[1].assessed_on, None);
    }

    #[test]
    fn header_problems() {
        let e = parse_questionnaire(b"case_number,round\n", false).unwrap_err();
        assert_eq!(e.errors[0].code, "missing_column");
        let e = parse_questionnaire(b"case_number,round,assessed_on,secret\n", false).unwrap_err();
        assert_eq!(e.errors[0].field, "header.secret");
    }

    #[test]
    fn export_reimports_through_xlsx_and_csv() {
        let header: Vec<String> = questionnaire_columns()
            .into_iter()
            .map(str::to_string)
            .collect();
        let mut row = vec![String::new(); header.len()];
        row[0] = "DQ-1".into();
        row[1] = "=R1".into();
        row[2] = "2026-04-20".into();
        let rows = vec![row];
        let xlsx = table_xlsx("questionnaire", &header, &rows).unwrap();
        let csv = table_csv(&header, &rows).unwrap();
        assert!(String::from_utf8(csv.clone()).unwrap().contains(",'=R1,"));
        for (bytes, is_xlsx) in [(xlsx, true), (csv, false)] {
            let back = parse_questionnaire(&bytes, is_xlsx).unwrap();
            assert_eq!(back.len(), 1);
            assert_eq!(back[0].input.round, "=R1");
            assert_eq!(back[0].case_number, "DQ-1");
        }
        let s = summary_csv([("employment", "part_time", "x".to_string())]).unwrap();
        assert_eq!(s, "question,answer,count\r\nemployment,part_time,x\r\n");
    }
}
