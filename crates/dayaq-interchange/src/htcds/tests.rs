#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use super::export::XlsxCases;
use super::*;
use crate::tabular::CsvWriter;
use dayaq_domain::case::CaseView;
use dayaq_domain::vocab::{CaseStatus, TraffickingStatus};
use time::Date;
use uuid::Uuid;
fn today() -> Date {
    time::macros::date!(2026 - 11 - 22)
}

fn full_row() -> Vec<(&'static str, &'static str)> {
    vec![
        ("prs_FirstName", " Aysel "),
        ("prs_MiddleName", "Kamal qızı"),
        ("prs_SecondName", "Məmmədova"),
        ("prs_Birthdate", "1998-04-12"),
        ("prs_Gender", "Feminine"),
        ("prs_MaritalStatus", "Single"),
        ("prs_NumberOfChildren", "2"),
        ("prs_PrimaryLanguage", "az"),
        ("prs_SecondaryLanguage", "ru"),
        ("prs_Citizenship", "AZ;RU"),
        ("prs_IdentityNumber", "AZE 1234567"),
        ("prs_Email", "a@example.org"),
        ("prs_HomePhone", "+994 12 555 55 55"),
        ("prs_MobilePhone", "+994 50 123 45 67"),
        ("prs_MailingStreet", "Nizami küç. 1, \"mən\""),
        ("prs_MailingCity", "Bakı"),
        ("prs_MailingCountry", "AZ"),
        ("vic_RelationshipToTrafficker", "Acquainted"),
        ("vic_AgeWhenTrafficked", "19"),
        ("vic_RecruitmentWebsitesAndApps", "4Sale;Telegram"),
        (
            "vic_MethodOfRecruitment",
            "ThroughATelevisionAdvert;ThroughAnOnlineAdvertisement",
        ),
        ("vic_MethodsOfControl", "DebtBondage;WithholdsDocuments"),
        ("vic_TypeOfExploitation", "ForcedLabour;SexualExploitation"),
        ("vic_ForcedLabourIndustry", "F_Construction"),
        ("vic_TypeOfSexExploitation", "Prostitution"),
        ("vic_Vulnerabilities", "Migration;Poverty"),
        ("cas_Status", "Closed"),
        (
            "cas_ReasonForCaseClosure",
            "=moved; \"abroad\"\nsecond line",
        ),
        ("cco_CaseComment", "-1 + cmd, with, commas\r\nand ';'"),
    ]
}

fn csv_of(rows: &[Vec<(&str, &str)>]) -> Vec<u8> {
    let mut w = CsvWriter::new(Vec::new());
    w.row(rows[0].iter().map(|(k, _)| *k)).unwrap();
    for r in rows {
        w.row(r.iter().map(|(_, v)| *v)).unwrap();
    }
    w.into_inner().unwrap()
}

fn view_of(c: &ValidCase) -> CaseView {
    CaseView {
        id: Uuid::nil(),
        case_number: "DQ-2026-00000001".into(),
        version: 1,
        owner_org: Uuid::nil(),
        status: c.status,
        reason_for_closure: c.reason_for_closure.clone(),
        trafficking_status: TraffickingStatus::PossibleVictimOfTrafficking,
        gender: c.gender,
        citizenship: c.citizenship.clone(),
        age_when_trafficked: c.age_when_trafficked,
        age_band: None,
        types_of_exploitation: c.types_of_exploitation.clone(),
        context: c.context.clone(),
        created_at: String::new(),
        updated_at: String::new(),
        identity: Some(c.identity.clone()),
    }
}

#[test]
fn every_column_round_trips_through_csv_cells() {
    let row = full_row();
    let parsed = parse(&csv_of(std::slice::from_ref(&row)), Format::Csv, today()).unwrap();
    assert_eq!(parsed.cases.len(), 1);
    let c = &parsed.cases[0];
    assert_eq!(c.status, CaseStatus::Closed);
    assert_eq!(c.identity.first_name.as_deref(), Some(" Aysel "));
    let cells = case_cells(&view_of(c));
    // Every importable column is filled, and exported exactly as it was imported.
    for (column, value) in &row {
        let i = COLUMNS.iter().position(|c| c.name == *column).unwrap();
        assert_eq!(&cells[i], value, "{column}");
    }
    let imported = COLUMNS
        .iter()
        .filter(|c| c.kind != ColumnKind::ReadOnly)
        .count();
    assert_eq!(imported, row.len(), "the test row fills every column");
    assert_eq!(cells[0], "DQ-2026-00000001");
}

#[test]
fn errors_name_row_and_column_and_never_the_value() {
    let mut bad = full_row();
    bad[4] = ("prs_Gender", "Secret-Value");
    bad[18] = ("vic_AgeWhenTrafficked", "nineteen");
    let good = full_row();
    let e = parse(
        &csv_of(&[good.clone(), bad, good.clone()]),
        Format::Csv,
        today(),
    )
    .unwrap_err();
    let got: Vec<(u64, &str, &str)> = e
        .errors
        .iter()
        .map(|e| (e.row, e.column.as_str(), e.code))
        .collect();
    assert_eq!(
        got,
        vec![
            (3, "prs_Gender", "invalid_value"),
            (3, "vic_AgeWhenTrafficked", "invalid_number")
        ]
    );
    let mut bad = full_row();
    bad[4] = ("prs_Gender", "Secret-Value");
    bad[9] = ("prs_Citizenship", "AZ;XX");
    let e = parse(&csv_of(&[good.clone(), bad]), Format::Csv, today()).unwrap_err();
    let got: Vec<(u64, &str, &str)> = e
        .errors
        .iter()
        .map(|e| (e.row, e.column.as_str(), e.code))
        .collect();
    assert_eq!(
        got,
        vec![
            (3, "prs_Gender", "invalid_value"),
            (3, "prs_Citizenship", "invalid_country")
        ]
    );
    for e in &e.errors {
        assert!(!e.message.contains("Secret") && !e.message.contains("XX"));
        assert!(!e.to_string().contains("Secret"));
    }
    assert_eq!(
        e.errors[0].to_string(),
        format!("row 3, column prs_Gender: {}", e.errors[0].message)
    );
}

#[test]
fn header_problems() {
    let e = parse(
        b"prs_FirstName,prs_Nickname,prs_FirstName\nA,b,c\n",
        Format::Csv,
        today(),
    )
    .unwrap_err();
    let got: Vec<(u64, &str, &str)> = e
        .errors
        .iter()
        .map(|e| (e.row, e.column.as_str(), e.code))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, "prs_Nickname", "unknown_column"),
            (1, "prs_FirstName", "duplicate_column")
        ]
    );
    // A file without a header: nothing of its first row is repeated.
    let e = parse(b"Aysel,Mammadova\n", Format::Csv, today()).unwrap_err();
    assert_eq!(e.errors.len(), 1);
    assert_eq!(e.errors[0].code, "no_header");
    assert!(!format!("{e:?}").contains("Aysel"));
    // A personal value in an otherwise valid header is referred to by its letter.
    let e = parse(b"prs_FirstName,Aysel M.\n", Format::Csv, today()).unwrap_err();
    assert_eq!(e.errors[0].column, "B");
}

#[test]
fn ignored_columns_blank_rows_semicolons_and_bom() {
    let csv = "\u{feff}prs_Title;case_number;prs_Gender;;vic_TraffickingStatus\n\
               Dr;DQ-1;Masculine;7;ActualVictimOfTrafficking\n;;;;\n;;Feminine;;\n";
    let p = parse(csv.as_bytes(), Format::Csv, today()).unwrap();
    assert_eq!(p.cases.len(), 2);
    let codes: Vec<(&str, &str)> = p
        .ignored
        .iter()
        .map(|i| (i.column.as_str(), i.code))
        .collect();
    assert_eq!(
        codes,
        vec![
            ("prs_Title", "not_stored"),
            ("case_number", "read_only"),
            ("D", "no_header"),
            ("vic_TraffickingStatus", "read_only")
        ]
    );
    // Blank lines are not rows; a quoted cell over several lines is one row.
    let e = parse(
        b"prs_Gender,cco_CaseComment\n\nFeminine,\"a\nb\"\nX,\n",
        Format::Csv,
        today(),
    )
    .unwrap_err();
    assert_eq!((e.errors[0].row, e.errors[0].code), (3, "invalid_value"));
    // Extra cells beyond the header are an error, not silently dropped.
    let e = parse(b"prs_Gender\nFeminine,x\n", Format::Csv, today()).unwrap_err();
    assert_eq!(e.errors[0].code, "extra_cells");
    assert_eq!((e.errors[0].row, e.errors[0].column.as_str()), (2, "B"));
}

#[test]
fn xlsx_round_trip_of_cells() {
    let parsed = parse(&csv_of(&[full_row()]), Format::Csv, today()).unwrap();
    let mut sink = XlsxCases::new().unwrap();
    sink.case(&view_of(&parsed.cases[0])).unwrap();
    let bytes = sink.finish().unwrap();
    assert_eq!(Format::sniff(&bytes), Format::Xlsx);
    let again = parse(&bytes, Format::Xlsx, today()).unwrap();
    assert_eq!(again.cases, parsed.cases);
    assert_eq!(
        again.ignored.len(),
        2,
        "case_number and vic_TraffickingStatus"
    );
}

#[test]
fn the_htcds_excel_template_is_accepted() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/htcds/Toolkit/HTCDS Excel Spreadsheet v2.0.xlsx");
    let Ok(bytes) = std::fs::read(&path) else {
        eprintln!("skipped: {} is not present", path.display());
        return;
    };
    let p = parse(&bytes, Format::Xlsx, today()).unwrap();
    assert!(p.cases.is_empty());
}

/// The template's own header rows (field names, hidden; then labels) and numbering column,
/// with two cases typed in: dates and numbers arrive as spreadsheet values.
#[test]
fn the_htcds_excel_template_with_cases() {
    use calamine::{Data, Reader, Xlsx};
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/htcds/Toolkit/HTCDS Excel Spreadsheet v2.0.xlsx");
    let Ok(bytes) = std::fs::read(&path) else {
        eprintln!("skipped: {} is not present", path.display());
        return;
    };
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    let mut sheet = rust_xlsxwriter::Worksheet::new();
    let mut names = Vec::new();
    for (r, row) in range.rows().take(2).enumerate() {
        for (c, cell) in row.iter().enumerate() {
            if let Data::String(s) = cell {
                sheet.write_string(r as u32, c as u16, s).unwrap();
                if r == 0 {
                    names.push((s.clone(), c as u16));
                }
            }
        }
    }
    let col = |name: &str| names.iter().find(|(n, _)| n == name).unwrap().1;
    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(1999, 3, 21).unwrap();
    let date_format = rust_xlsxwriter::Format::new().set_num_format("dd.mm.yyyy");
    for (r, gender) in [(2u32, "Feminine"), (3, "Nonsense")] {
        sheet.write_number(r, 0, f64::from(r - 1)).unwrap();
        sheet
            .write_string(r, col("prs_FirstName"), "Aysel")
            .unwrap();
        sheet
            .write_datetime_with_format(r, col("prs_Birthdate"), &date, &date_format)
            .unwrap();
        sheet.write_string(r, col("prs_Gender"), gender).unwrap();
        sheet
            .write_string(r, col("prs_Citizenship"), "AZ; RU")
            .unwrap();
        sheet
            .write_number(r, col("prs_MobilePhone"), 994501234567.0)
            .unwrap();
        sheet.write_string(r, col("cas_Status"), "Active").unwrap();
        sheet.write_string(r, col("prs_Title"), "Dr").unwrap();
    }
    let mut book = rust_xlsxwriter::Workbook::new();
    book.push_worksheet(sheet);
    let file = book.save_to_buffer().unwrap();
    let e = parse(&file, Format::Xlsx, today()).unwrap_err();
    let got: Vec<(u64, &str, &str)> = e
        .errors
        .iter()
        .map(|e| (e.row, e.column.as_str(), e.code))
        .collect();
    assert_eq!(got, vec![(4, "prs_Gender", "invalid_value")]);
    // Without the bad case: one case, the typed date and number read as text.
    let fixed = {
        let mut sheet = rust_xlsxwriter::Worksheet::new();
        for (r, row) in range.rows().take(2).enumerate() {
            for (c, cell) in row.iter().enumerate() {
                if let Data::String(s) = cell {
                    sheet.write_string(r as u32, c as u16, s).unwrap();
                }
            }
        }
        sheet.write_number(2, 0, 1.0).unwrap();
        sheet
            .write_datetime_with_format(2, col("prs_Birthdate"), &date, &date_format)
            .unwrap();
        sheet
            .write_number(2, col("prs_MobilePhone"), 994501234567.0)
            .unwrap();
        sheet
            .write_string(2, col("prs_Citizenship"), "AZ; RU")
            .unwrap();
        sheet.write_string(2, col("prs_Title"), "Dr").unwrap();
        let mut book = rust_xlsxwriter::Workbook::new();
        book.push_worksheet(sheet);
        book.save_to_buffer().unwrap()
    };
    let p = parse(&fixed, Format::Xlsx, today()).unwrap();
    assert_eq!(p.cases.len(), 1);
    let c = &p.cases[0];
    assert_eq!(c.identity.birthdate.as_deref(), Some("1999-03-21"));
    assert_eq!(c.identity.mobile_phone.as_deref(), Some("994501234567"));
    assert_eq!(c.citizenship, vec!["AZ".to_string(), "RU".to_string()]);
    let ignored: Vec<(&str, &str)> = p
        .ignored
        .iter()
        .map(|i| (i.column.as_str(), i.code))
        .collect();
    assert_eq!(
        ignored,
        vec![("A", "no_header"), ("prs_Title", "not_stored")]
    );
}

#[test]
fn error_list_is_bounded() {
    let mut csv = String::from("prs_Gender,vic_AgeWhenTrafficked\n");
    for _ in 0..6_000 {
        csv.push_str("X,old\n");
    }
    let e = parse(csv.as_bytes(), Format::Csv, today()).unwrap_err();
    assert_eq!(e.errors.len(), MAX_ERRORS + 1);
    assert_eq!(e.errors[MAX_ERRORS].code, "too_many_errors");
}
