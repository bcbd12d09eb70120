//! HTCDS import and export, CSV and XLSX (the column mapping is documented in docs/HTCDS.md).
//!
//! - Column names are HTCDS field names and cells hold HTCDS value names; a multi-select cell
//!   joins its values with `;` (the HTCDS / Salesforce convention). `COLUMNS` is the one list.
//! - [`parse`] reads a whole file and validates every row through `CaseInput::validate`. It
//!   returns either every case or every problem, each naming the row (as a spreadsheet numbers
//!   it: the header is row 1) and the column. No message ever repeats a cell's value.
//! - [`Store::import_cases`] writes all rows in one transaction through the same insert path as
//!   `create_case` ([`Store::insert_prepared`]), with one audit entry `case.import`.
//! - [`Store::export_cases`] pages through the cases the actor may read, decrypts identity, and
//!   hands each case to a [`CaseSink`] ([`CsvSink`], [`XlsxSink`], [`ChannelSink`] for a
//!   streamed HTTP body), audited once as `case.export`.
//!
//! This module does no file I/O: callers pass bytes in and take bytes or a stream out.

use crate::audit::append;
use crate::cases::{CASE_COLS, Ctx, blind_terms};
use crate::crypto::{SecretKey, field_aad, random_bytes};
use crate::keys::Keys;
use crate::{Result, Store, StoreError, millis};
use dayaq_domain::case::{CaseInput, CaseView, Identity, ValidCase, age_band};
use dayaq_domain::policy::{Action, CaseFacts, Resource, Section, decide};
use dayaq_domain::vocab::TraffickingStatus;
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::{AnyConnection, Row};
use std::collections::HashSet;
use std::fmt::Write as _;
use std::future::Future;
use std::sync::Arc;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

// ------------------------------------------------------------------------------------------
// Columns

/// What a column holds and how a cell is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Free text, kept exactly as written (identity fields, notes).
    Text,
    /// One code (picklist value name, date, country or language code); spaces around it are
    /// ignored.
    Code,
    /// Several codes separated by `;`.
    Multi,
    /// A whole number.
    Integer,
    /// Exported for information, ignored on import (Dayaq sets these values itself).
    ReadOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub kind: ColumnKind,
}

const fn col(name: &'static str, kind: ColumnKind) -> Column {
    Column { name, kind }
}

use ColumnKind::{Code, Integer, Multi, ReadOnly, Text};

/// Every column Dayaq exports, in export order. All but the read-only ones are imported; the
/// names are the serde names of `CaseInput` / `CaseView` (a unit test keeps them in step).
pub const COLUMNS: &[Column] = &[
    col("case_number", ReadOnly),
    col("prs_FirstName", Text),
    col("prs_MiddleName", Text),
    col("prs_SecondName", Text),
    col("prs_Birthdate", Code),
    col("prs_Gender", Code),
    col("prs_MaritalStatus", Code),
    col("prs_NumberOfChildren", Integer),
    col("prs_PrimaryLanguage", Code),
    col("prs_SecondaryLanguage", Code),
    col("prs_Citizenship", Multi),
    col("prs_IdentityNumber", Text),
    col("prs_Email", Text),
    col("prs_HomePhone", Text),
    col("prs_MobilePhone", Text),
    col("prs_MailingStreet", Text),
    col("prs_MailingCity", Text),
    col("prs_MailingCountry", Code),
    col("vic_TraffickingStatus", ReadOnly),
    col("vic_RelationshipToTrafficker", Code),
    col("vic_AgeWhenTrafficked", Integer),
    col("vic_RecruitmentWebsitesAndApps", Multi),
    col("vic_MethodOfRecruitment", Multi),
    col("vic_MethodsOfControl", Multi),
    col("vic_TypeOfExploitation", Multi),
    col("vic_ForcedLabourIndustry", Code),
    col("vic_TypeOfSexExploitation", Multi),
    col("vic_Vulnerabilities", Multi),
    col("cas_Status", Code),
    col("cas_ReasonForCaseClosure", Text),
    col("cco_CaseComment", Text),
];

/// The column named `name` (case-insensitive), if Dayaq has it.
pub fn column(name: &str) -> Option<&'static Column> {
    COLUMNS.iter().find(|c| c.name.eq_ignore_ascii_case(name))
}

/// All HTCDS 2.0 fields with their labels (from the HTCDS field standard). A column named by
/// one of these that Dayaq does not store is ignored with a note instead of failing the import;
/// the labels let the import recognise the label row of the HTCDS Excel template.
pub const HTCDS_FIELDS: &[(&str, &str)] = &[
    ("org_Name", "Organisation Name"),
    ("org_ShippingCity", "Shipping City"),
    ("org_ShippingCountry", "Shipping Country"),
    ("org_ShippingState", "Shipping State/Province"),
    ("org_ShippingStreet", "Shipping Street"),
    ("org_ShippingPostalCode", "Shipping Zip/Postal Code"),
    ("org_ShippingLongitude", "Longitude"),
    ("org_ShippingLatitude", "Latitude"),
    ("org_Phone", "Phone"),
    ("org_Type", "Type"),
    ("prs_Salutation", "Salutation"),
    ("prs_FirstName", "First Name"),
    ("prs_MiddleName", "Middle Name"),
    ("prs_SecondName", "Second Name"),
    ("prs_Birthdate", "Birthdate"),
    ("prs_Gender", "Gender"),
    ("prs_Deceased", "Deceased"),
    ("prs_MaritalStatus", "Marital Status"),
    ("prs_NumberOfChildren", "Number of Children"),
    ("prs_PrimaryLanguage", "Primary Language"),
    ("prs_SecondaryLanguage", "Secondary Language"),
    ("prs_HighestLevelOfEducation", "Highest Level of Education"),
    ("prs_Citizenship", "Citizenship"),
    ("prs_IdentityNumber", "Identity Number"),
    ("prs_Title", "Title"),
    ("prs_Email", "Email"),
    ("prs_HomePhone", "Home Phone"),
    ("prs_MobilePhone", "Mobile Phone"),
    ("prs_MailingCity", "Mailing City"),
    ("prs_MailingCountry", "Mailing Country"),
    ("prs_MailingState", "Mailing State/Province"),
    ("prs_MailingStreet", "Mailing Street"),
    ("prs_MailingPostalCode", "Mailing Zip/Postal Code"),
    ("prs_MailingLongitude", "Longitude"),
    ("prs_MailingLatitude", "Latitude"),
    (
        "vic_AgreementToManagePersonalData",
        "Agreement to Manage Personal Data",
    ),
    ("vic_TraffickingStatus", "Trafficking Status"),
    (
        "vic_TraffickingStatusDecisionMakingOrg",
        "Trafficking Status Decision Making Organization",
    ),
    // The HTCDS Excel template (Toolkit, v2.0) spells this header without the second "g".
    (
        "vic_TraffickinStatusDecisionMakingOrg",
        "Trafficking Status Decision Making Organization",
    ),
    ("vic_RelationshipToTrafficker", "Relationship to Trafficker"),
    ("vic_AgeWhenTrafficked", "Age when Trafficked"),
    (
        "vic_RecruitmentWebsitesAndApps",
        "Recruitment Websites and Apps",
    ),
    ("vic_MethodOfRecruitment", "Method of Recruitment"),
    ("vic_LocationOfRecruitment", "Location of Recruitment"),
    ("vic_MethodsOfControl", "Methods of Control"),
    ("vic_TypeOfExploitation", "Type of Exploitation"),
    ("vic_ForcedLabourIndustry", "Forced Labour Industry"),
    ("vic_TypeOfSexExploitation", "Type of Sex Exploitation"),
    ("vic_LocationOfExploitation", "Location of Exploitation"),
    (
        "vic_ExploitationWebsitesAndApps",
        "Exploitation Websites and Apps",
    ),
    ("vic_Vulnerabilities", "Vulnerabilities"),
    ("vic_DetailsOfVulnerabilities", "Details Of Vulnerabilities"),
    ("per_RoleInProcess", "Role in Process"),
    ("per_RoleDetails", "Role Details"),
    ("cas_Status", "Status"),
    ("cas_ReasonForCaseClosure", "Reason for Case Closure"),
    ("cas_CaseOwner", "Case Owner"),
    ("cas_ReferringOrganisation", "Referring Organisation"),
    ("cas_IncomingReferralDate", "Incoming Referral Date"),
    (
        "cas_ReferringPrimaryCaseWorker",
        "Referring Primary Case Worker",
    ),
    (
        "cas_ReasonForIncomingReferral",
        "Reason for Incoming Referral",
    ),
    ("cas_IncomingReferralDetails", "Incoming Referral Details"),
    ("cas_ReferredOrganisation", "Referred Organisation"),
    (
        "cas_ReferredPrimaryCaseWorker",
        "Referred Primary Case Worker",
    ),
    (
        "cas_ReasonForOutgoingReferral",
        "Reason for Outgoing Referral",
    ),
    ("cas_OutgoingReferralDate", "Outgoing Referral Date"),
    ("cas_OutgoingReferralDetails", "Outgoing Referral Details"),
    ("cco_CaseComment", "Case Comment"),
    ("hte_Longitude", "Longitude"),
    ("hte_Latitude", "Latitude"),
    ("hte_City", "City"),
    ("hte_Country", "Country"),
    ("hte_State", "State"),
    ("hte_Street", "Street"),
    ("hte_PostalCode", "PostalCode"),
    ("hte_Date", "Date"),
    ("hte_Type", "Type"),
    ("hte_Description", "Description"),
    ("spl_Objectives", "Objectives"),
    ("spl_ActionPlan", "Action Plan"),
    ("spl_PlannedEndDate", "Planned End Date"),
    ("spl_ActualEndDate", "Actual End Date"),
    ("spl_Type", "Type"),
    ("con_Consent", "Consent"),
];

fn is_htcds_field(name: &str) -> bool {
    HTCDS_FIELDS
        .iter()
        .any(|(f, _)| f.eq_ignore_ascii_case(name))
}

fn is_htcds_label(s: &str) -> bool {
    HTCDS_FIELDS.iter().any(|(_, l)| l.eq_ignore_ascii_case(s))
}

/// Separator of values in a multi-select cell.
pub const MULTI_SEPARATOR: char = ';';

/// Most data rows one file may hold.
pub const MAX_ROWS: usize = 100_000;

/// Most problems reported for one file (reading stops there).
pub const MAX_ERRORS: usize = 10_000;

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
// Formats

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

// ------------------------------------------------------------------------------------------
// Import: parsing and validation

/// One problem in an import file. `row` is the row as a spreadsheet numbers it (the header is
/// row 1, the first case usually row 2); 0 means the file as a whole. `column` is the HTCDS
/// column name (or a column letter when the header cell is not a field name); empty when the
/// problem is not about one column. The message never contains the cell's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RowError {
    pub row: u64,
    pub column: String,
    pub code: &'static str,
    pub message: String,
}

impl RowError {
    fn new(row: u64, column: impl Into<String>, code: &'static str, message: String) -> Self {
        Self {
            row,
            column: column.into(),
            code,
            message,
        }
    }
}

impl std::fmt::Display for RowError {
    /// `row N, column C: message` (one line).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.row, self.column.is_empty() || self.column == "file") {
            (0, true) => write!(f, "file: {}", self.message),
            (0, false) => write!(f, "column {}: {}", self.column, self.message),
            (r, true) => write!(f, "row {r}: {}", self.message),
            (r, false) => write!(f, "row {r}, column {}: {}", self.column, self.message),
        }
    }
}

/// Every problem found in an import file; nothing was written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, thiserror::Error, utoipa::ToSchema)]
#[error("the file has {} problem(s); nothing was imported", .errors.len())]
pub struct ImportErrors {
    pub errors: Vec<RowError>,
}

/// A column of the file that was not imported (only reported when it holds data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct IgnoredColumn {
    /// The header text (or the column letter when the header is empty or not a field name).
    pub column: String,
    /// `read_only` (case_number, vic_TraffickingStatus), `not_stored` (an HTCDS field Dayaq
    /// does not keep) or `no_header` (a column without a header).
    pub code: &'static str,
    pub message: String,
}

/// A validated file: the cases in file order, and the columns that were not imported.
#[derive(Debug, Clone)]
pub struct ParsedImport {
    pub cases: Vec<ValidCase>,
    pub ignored: Vec<IgnoredColumn>,
}

/// Cells of one file before interpretation: the header row and the data rows, each with its
/// row number as a spreadsheet shows it.
struct Table {
    header_row: u64,
    header: Vec<String>,
    rows: Vec<(u64, Vec<Cell>)>,
}

/// A cell as read: its text, or a problem that makes it unreadable (never its value).
enum Cell {
    Text(String),
    Bad(&'static str, &'static str),
}

impl Cell {
    fn is_blank(&self) -> bool {
        matches!(self, Cell::Text(s) if s.trim().is_empty())
    }
}

/// Reads and validates a whole import file. `today` bounds birth dates.
pub fn parse(bytes: &[u8], format: Format, today: Date) -> Result<ParsedImport, ImportErrors> {
    let table = match format {
        Format::Csv => read_csv(bytes),
        Format::Xlsx => read_xlsx(bytes),
    }
    .map_err(|e| ImportErrors { errors: vec![e] })?;
    interpret(table, today)
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

fn read_csv(bytes: &[u8]) -> Result<Table, RowError> {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    // Spreadsheets set to a locale with a decimal comma write `;` between cells; field names
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
    let mut header: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    let mut record = csv::ByteRecord::new();
    let mut index: u64 = 0;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(_) => {
                return Err(RowError::new(
                    index + 2,
                    "",
                    "unreadable_file",
                    "the file is not valid CSV from this row on".into(),
                ));
            }
        }
        index += 1;
        let row = index;
        let cells: Vec<Cell> = record
            .iter()
            .map(|b| match std::str::from_utf8(b) {
                Ok(s) => Cell::Text(csv_unescape(s).to_string()),
                Err(_) => Cell::Bad(
                    "invalid_encoding",
                    "the cell is not UTF-8 text; save the file as CSV UTF-8",
                ),
            })
            .collect();
        match header {
            None => {
                header = Some(
                    cells
                        .into_iter()
                        .map(|c| match c {
                            Cell::Text(s) => s,
                            Cell::Bad(..) => String::new(),
                        })
                        .collect(),
                );
            }
            Some(_) => rows.push((row, cells)),
        }
    }
    Ok(Table {
        header_row: 1,
        header: header.unwrap_or_default(),
        rows,
    })
}

fn read_xlsx(bytes: &[u8]) -> Result<Table, RowError> {
    use calamine::Data;
    // The bounded reader: ZIP sizes and the sheet's extent are checked before anything
    // proportional to them is allocated (see `crate::sheet`).
    let sheet = crate::sheet::read_first_sheet(bytes, &crate::sheet::LIMITS)
        .map_err(|e| RowError::new(0, "file", e.code, e.message))?;
    let cell = |d: &Data| match d {
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
        Data::Error(_) => Cell::Bad("cell_error", "the cell holds a spreadsheet error"),
    };
    let mut header_row = 1;
    let mut header: Option<Vec<String>> = None;
    let mut rows = Vec::new();
    // Rows without cells are not listed; they would be blank rows, which the import skips.
    for r in &sheet.rows {
        let row = u64::from(r.index) + 1;
        // Cells keep their absolute column (column letters in messages).
        let cells = r.dense(0, || Cell::Text(String::new()), cell);
        match header {
            None => {
                header_row = row;
                header = Some(
                    cells
                        .into_iter()
                        .map(|c| match c {
                            Cell::Text(s) => s,
                            Cell::Bad(..) => String::new(),
                        })
                        .collect(),
                );
            }
            Some(_) => rows.push((row, cells)),
        }
    }
    Ok(Table {
        header_row,
        header: header.unwrap_or_default(),
        rows,
    })
}

/// A number as a spreadsheet shows it: whole numbers without a fraction.
fn float_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
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

fn interpret(table: Table, today: Date) -> Result<ParsedImport, ImportErrors> {
    let hr = table.header_row;
    let mut errors = Vec::new();
    let known = table
        .header
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
    let mut slots = Vec::with_capacity(table.header.len());
    let mut seen: HashSet<&'static str> = HashSet::new();
    for (i, h) in table.header.iter().enumerate() {
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

    let mut rows = table.rows.into_iter().peekable();
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
                let h = table.header.get(i).map(String::as_str).unwrap_or("");
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
            Cell::Bad(code, message) => {
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

// ------------------------------------------------------------------------------------------
// Export: cells

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

/// CSV cells are formula-guarded on the way out and unguarded on the way in by the one
/// implementation in [`crate::csv_guard`], so the round trip stays exact.
fn csv_escape(s: &str) -> std::borrow::Cow<'_, str> {
    crate::csv_guard::guard(s)
}

fn csv_unescape(s: &str) -> std::borrow::Cow<'_, str> {
    crate::csv_guard::unguard(s)
}

/// Receives the exported cases one by one.
pub trait CaseSink: Send {
    fn case(&mut self, case: CaseView) -> impl Future<Output = Result<()>> + Send;
}

/// Collects the cases (for tests and small exports).
impl CaseSink for Vec<CaseView> {
    fn case(&mut self, case: CaseView) -> impl Future<Output = Result<()>> + Send {
        self.push(case);
        std::future::ready(Ok(()))
    }
}

fn csv_error(e: csv::Error) -> StoreError {
    StoreError::Data(format!("csv: {e}"))
}

fn csv_writer<W: std::io::Write>(w: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(w)
}

fn write_csv_row<W: std::io::Write>(w: &mut csv::Writer<W>, v: &CaseView) -> Result<()> {
    let cells = case_cells(v);
    w.write_record(cells.iter().map(|c| csv_escape(c).into_owned()))
        .map_err(csv_error)
}

fn write_csv_header<W: std::io::Write>(w: &mut csv::Writer<W>) -> Result<()> {
    w.write_record(COLUMNS.iter().map(|c| c.name))
        .map_err(csv_error)
}

/// Writes CSV (UTF-8, comma, CRLF, header row) to any writer, e.g. a file.
pub struct CsvSink<W: std::io::Write + Send> {
    w: csv::Writer<W>,
}

impl<W: std::io::Write + Send> CsvSink<W> {
    pub fn new(w: W) -> Result<Self> {
        let mut w = csv_writer(w);
        write_csv_header(&mut w)?;
        Ok(Self { w })
    }

    /// Flushes and returns the writer.
    pub fn finish(self) -> Result<W> {
        self.w
            .into_inner()
            .map_err(|e| StoreError::Io(std::io::Error::other(e.to_string())))
    }
}

impl<W: std::io::Write + Send> CaseSink for CsvSink<W> {
    fn case(&mut self, case: CaseView) -> impl Future<Output = Result<()>> + Send {
        std::future::ready(write_csv_row(&mut self.w, &case))
    }
}

/// Builds an XLSX workbook (one sheet "HTCDS", header in row 1). The workbook is assembled in
/// memory: use CSV for very large exports.
pub struct XlsxSink {
    sheet: rust_xlsxwriter::Worksheet,
    row: u32,
}

fn xlsx_error(e: rust_xlsxwriter::XlsxError) -> StoreError {
    StoreError::Data(format!("xlsx: {e}"))
}

impl XlsxSink {
    pub fn new() -> Result<Self> {
        let mut sheet = rust_xlsxwriter::Worksheet::new();
        sheet.set_name("HTCDS").map_err(xlsx_error)?;
        let bold = rust_xlsxwriter::Format::new().set_bold();
        for (i, c) in COLUMNS.iter().enumerate() {
            sheet
                .write_string_with_format(0, i as u16, c.name, &bold)
                .map_err(xlsx_error)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(xlsx_error)?;
        Ok(Self { sheet, row: 1 })
    }

    fn push(&mut self, v: &CaseView) -> Result<()> {
        for (i, (c, cell)) in COLUMNS.iter().zip(case_cells(v)).enumerate() {
            if cell.is_empty() {
                continue;
            }
            let col = i as u16;
            match (c.kind, cell.parse::<i64>()) {
                (Integer, Ok(n)) => self.sheet.write_number(self.row, col, n as f64),
                _ => self.sheet.write_string(self.row, col, &cell),
            }
            .map_err(xlsx_error)?;
        }
        self.row += 1;
        Ok(())
    }

    /// The workbook as bytes.
    pub fn finish(self) -> Result<Vec<u8>> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        wb.push_worksheet(self.sheet);
        wb.save_to_buffer().map_err(xlsx_error)
    }
}

impl CaseSink for XlsxSink {
    fn case(&mut self, case: CaseView) -> impl Future<Output = Result<()>> + Send {
        std::future::ready(self.push(&case))
    }
}

/// A chunk of a streamed export, or the error that ends it.
pub type Chunk = std::result::Result<Vec<u8>, std::io::Error>;

/// Streams CSV through a bounded channel (for an HTTP body): the producer waits while the
/// consumer is slow, so an export never sits in memory whole.
pub struct ChannelSink {
    w: csv::Writer<Vec<u8>>,
    tx: tokio::sync::mpsc::Sender<Chunk>,
}

/// The receiving end of [`csv_channel`] as a `Stream` of byte chunks.
pub struct ByteStream(tokio::sync::mpsc::Receiver<Chunk>);

impl futures_util::Stream for ByteStream {
    type Item = Chunk;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Chunk>> {
        self.0.poll_recv(cx)
    }
}

const CHUNK_BYTES: usize = 64 * 1024;

/// A CSV sink and the stream of its bytes (header first).
pub fn csv_channel() -> Result<(ChannelSink, ByteStream)> {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let mut w = csv_writer(Vec::with_capacity(CHUNK_BYTES));
    write_csv_header(&mut w)?;
    Ok((ChannelSink { w, tx }, ByteStream(rx)))
}

impl ChannelSink {
    fn take(&mut self) -> Result<Vec<u8>> {
        let full = std::mem::replace(&mut self.w, csv_writer(Vec::with_capacity(CHUNK_BYTES)));
        full.into_inner()
            .map_err(|e| StoreError::Io(std::io::Error::other(e.to_string())))
    }

    /// Sends what is left, or ends the stream with an error when the export failed (the
    /// client then sees a broken download rather than a silently short file).
    pub async fn finish(mut self, outcome: &Result<usize>) {
        let last = match outcome {
            Ok(_) => self
                .take()
                .map_err(|e| std::io::Error::other(e.to_string())),
            Err(_) => Err(std::io::Error::other("the export failed")),
        };
        let _ = self.tx.send(last).await;
    }
}

impl CaseSink for ChannelSink {
    async fn case(&mut self, case: CaseView) -> Result<()> {
        write_csv_row(&mut self.w, &case)?;
        if self.w.get_ref().len() >= CHUNK_BYTES {
            let chunk = self.take()?;
            self.tx
                .send(Ok(chunk))
                .await
                .map_err(|_| StoreError::Io(std::io::Error::other("the client went away")))?;
        }
        Ok(())
    }
}

// ------------------------------------------------------------------------------------------
// The insert path shared with `create_case`

/// A new case with everything encrypted and derived; no plaintext identity is kept.
pub(crate) struct PreparedCase {
    pub(crate) id: String,
    status: &'static str,
    gender: Option<&'static str>,
    age: Option<i64>,
    age_band: Option<&'static str>,
    identity: Vec<u8>,
    closure: Option<Vec<u8>>,
    key_id: String,
    wrapped: Vec<u8>,
    blind: Vec<(&'static str, String)>,
    values: Vec<(&'static str, String)>,
}

/// The non-identifying attribute rows of a case (`case_values`): citizenship, types of
/// exploitation and the victim context, one row per value.
pub(crate) fn case_values(c: &ValidCase) -> Vec<(&'static str, String)> {
    c.citizenship
        .iter()
        .map(|v| ("prs_Citizenship", v.clone()))
        .chain(
            c.types_of_exploitation
                .iter()
                .map(|t| ("vic_TypeOfExploitation", t.as_str().to_string())),
        )
        .chain(c.context.to_values())
        .collect()
}

/// Time-ordered ids (UUIDv7): `ctx.now` in the timestamp, then the position in the batch,
/// then random bits; so cases created together keep their order (an export, re-imported,
/// exports in the same order).
fn ordered_ids(now: OffsetDateTime, n: usize) -> Result<Vec<Uuid>> {
    let ms = u64::try_from(millis(now)).unwrap_or(0);
    (0..n)
        .map(|i| {
            let mut r = random_bytes::<10>()?;
            let i = i as u32;
            r[0] = ((i >> 14) & 0x0F) as u8;
            r[1] = ((i >> 6) & 0xFF) as u8;
            r[2] = (i & 0x3F) as u8;
            Ok(uuid::Builder::from_unix_timestamp_millis(ms, &r).into_uuid())
        })
        .collect()
}

fn prepare_one(keys: &Keys, blind: &SecretKey, id: Uuid, c: &ValidCase) -> Result<PreparedCase> {
    let id = id.to_string();
    let key = SecretKey::generate()?;
    let (key_id, wrapped) = keys.wrap_case_key(&key)?;
    let identity_json =
        serde_json::to_vec(&c.identity).map_err(|e| StoreError::Data(e.to_string()))?;
    let identity = key.seal(&field_aad("cases", "identity", &id, "case"), &identity_json)?;
    let closure = match &c.reason_for_closure {
        Some(t) => Some(key.seal(&field_aad("cases", "closure", &id, "case"), t.as_bytes())?),
        None => None,
    };
    let blind = blind_terms(&c.identity)
        .into_iter()
        .map(|(kind, value)| Ok((kind, blind.hmac_hex(kind, &value)?)))
        .collect::<Result<Vec<_>>>()?;
    Ok(PreparedCase {
        id,
        status: c.status.as_str(),
        gender: c.gender.map(|g| g.as_str()),
        age: c.age_when_trafficked,
        age_band: c.age_when_trafficked.map(age_band),
        identity,
        closure,
        key_id,
        wrapped,
        blind,
        values: case_values(c),
    })
}

/// `($n, $n+1, …), (…)` for `rows` rows of `cols` parameters, numbered after the `first`
/// parameters bound before them.
fn placeholders(first: usize, rows: usize, cols: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 6);
    for r in 0..rows {
        if r > 0 {
            s.push_str(", ");
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push_str(", ");
            }
            let _ = write!(s, "${}", first + r * cols + c + 1);
        }
        s.push(')');
    }
    s
}

/// Rows per multi-row INSERT (kept well under SQLite's and PostgreSQL's parameter limits).
const INSERT_ROWS: usize = 250;

impl Store {
    /// Encrypts and derives everything for new cases (CPU only; no database access).
    pub(crate) fn prepare_cases(
        &self,
        now: OffsetDateTime,
        cases: &[ValidCase],
    ) -> Result<Vec<PreparedCase>> {
        prepare_cases(&self.keys, now, cases)
    }

    /// Inserts prepared cases with their keys, blind index, attribute values and a
    /// `case.created` timeline event, in the caller's transaction. Used by `create_case` (one
    /// case) and the import (many). Multi-row statements of the form
    /// `INSERT … SELECT column1, $1, column2 … FROM (VALUES …) AS v` (common to SQLite and
    /// PostgreSQL) bind values shared by all rows once. Does not audit: callers do.
    pub(crate) async fn insert_prepared(
        &self,
        conn: &mut AnyConnection,
        ctx: &Ctx<'_>,
        cases: &[PreparedCase],
        event_detail: &str,
    ) -> Result<()> {
        let owner = ctx.actor.org_id.to_string();
        let user = ctx.actor.user_id.to_string();
        let now = millis(ctx.now);
        let numbers = fresh_case_numbers(conn, ctx.now.year(), cases.len()).await?;
        let trafficking = TraffickingStatus::PossibleVictimOfTrafficking.as_str();
        for (chunk, nums) in cases.chunks(INSERT_ROWS).zip(numbers.chunks(INSERT_ROWS)) {
            let sql = format!(
                "INSERT INTO cases (id, case_number, owner_org_id, created_by, version, cas_status, \
                 vic_trafficking_status, prs_gender, age_when_trafficked, age_band, identity, \
                 closure, created_at, updated_at) \
                 SELECT column1, column2, $1, $2, 1, column3, $3, column4, column5, column6, \
                 column7, column8, $4, $4 FROM (VALUES {}) AS v",
                placeholders(4, chunk.len(), 8)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(&owner)
                .bind(&user)
                .bind(trafficking)
                .bind(now);
            for (c, number) in chunk.iter().zip(nums) {
                q = q
                    .bind(&c.id)
                    .bind(number)
                    .bind(c.status)
                    .bind(c.gender)
                    .bind(c.age)
                    .bind(c.age_band)
                    .bind(&c.identity)
                    .bind(&c.closure);
            }
            q.execute(&mut *conn).await?;
        }
        for chunk in cases.chunks(INSERT_ROWS) {
            let sql = format!(
                "INSERT INTO case_keys (case_id, master_key_id, wrapped) VALUES {}",
                placeholders(0, chunk.len(), 3)
            );
            // Prepared before the transaction: if the master key was rotated in between (by
            // another process; `begin_write` has adopted the new key), re-wrap under it.
            let current = self.keys.current_key_id()?;
            let mut keys = Vec::with_capacity(chunk.len());
            for c in chunk {
                if c.key_id == current {
                    keys.push((c.key_id.clone(), c.wrapped.clone()));
                } else {
                    let k = self.keys.unwrap_case_key(&c.key_id, &c.wrapped)?;
                    keys.push(self.keys.wrap_case_key(&k)?);
                }
            }
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (c, (kid, wrapped)) in chunk.iter().zip(keys) {
                q = q.bind(&c.id).bind(kid).bind(wrapped);
            }
            q.execute(&mut *conn).await?;
        }
        // Blind-index entries grouped by kind, attribute values grouped by field: the kind
        // or field is bound once per statement.
        let mut blind: Vec<(&str, &str, &str)> = cases
            .iter()
            .flat_map(|c| {
                c.blind
                    .iter()
                    .map(move |(k, d)| (*k, c.id.as_str(), d.as_str()))
            })
            .collect();
        blind.sort_by_key(|(k, _, _)| *k);
        for group in blind.chunk_by(|a, b| a.0 == b.0) {
            for chunk in group.chunks(INSERT_ROWS) {
                let sql = format!(
                    "INSERT INTO blind_index (case_id, org_id, kind, digest) \
                     SELECT column1, $1, $2, column2 FROM (VALUES {}) AS v",
                    placeholders(2, chunk.len(), 2)
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(&owner)
                    .bind(chunk[0].0);
                for (_, id, digest) in chunk {
                    q = q.bind(*id).bind(*digest);
                }
                q.execute(&mut *conn).await?;
            }
        }
        let mut values: Vec<(&str, &str, &str)> = cases
            .iter()
            .flat_map(|c| {
                c.values
                    .iter()
                    .map(move |(f, v)| (*f, c.id.as_str(), v.as_str()))
            })
            .collect();
        values.sort_by_key(|(f, _, _)| *f);
        for group in values.chunk_by(|a, b| a.0 == b.0) {
            for chunk in group.chunks(INSERT_ROWS) {
                let sql = format!(
                    "INSERT INTO case_values (case_id, field, value) \
                     SELECT column1, $1, column2 FROM (VALUES {}) AS v",
                    placeholders(1, chunk.len(), 2)
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(chunk[0].0);
                for (_, id, value) in chunk {
                    q = q.bind(*id).bind(*value);
                }
                q.execute(&mut *conn).await?;
            }
        }
        for chunk in cases.chunks(INSERT_ROWS) {
            let sql = format!(
                "INSERT INTO case_events (id, case_id, at, actor_user, kind, detail) \
                 SELECT column1, column2, $1, $2, $3, $4 FROM (VALUES {}) AS v",
                placeholders(4, chunk.len(), 2)
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(now)
                .bind(&user)
                .bind("case.created")
                .bind(event_detail);
            for c in chunk {
                q = q.bind(Uuid::new_v4().to_string()).bind(&c.id);
            }
            q.execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// May the actor import into their organisation? (Asked before a file is even read.)
    pub fn authorize_import(&self, ctx: &Ctx<'_>) -> Result<()> {
        self.authorize_org(ctx, Action::ImportCases)
    }

    /// May the actor export their organisation's cases?
    pub fn authorize_export(&self, ctx: &Ctx<'_>) -> Result<()> {
        self.authorize_org(ctx, Action::ExportCases)
    }

    /// Imports validated cases into the actor's organisation: all of them in one transaction,
    /// or none. New cases start as `PossibleVictimOfTrafficking` with fresh case numbers. One
    /// audit entry `case.import` records the count. Returns the number of cases written.
    pub async fn import_cases(&self, ctx: &Ctx<'_>, rows: Vec<ValidCase>) -> Result<usize> {
        self.authorize_import(ctx)?;
        let n = rows.len();
        // Encryption and key wrapping are CPU work: keep them off the async threads and
        // outside the write transaction.
        let keys = Arc::clone(&self.keys);
        let now = ctx.now;
        let prepared = tokio::task::spawn_blocking(move || prepare_cases(&keys, now, &rows))
            .await
            .map_err(|e| StoreError::Data(format!("import worker: {e}")))??;
        let mut tx = self.begin_write().await?;
        self.insert_prepared(&mut tx, ctx, &prepared, "import")
            .await?;
        let mut e = ctx.entry("case.import", "success", "");
        e.detail = format!("count={n}");
        append(&mut tx, &e, millis(ctx.now)).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// May the actor export identities (`Action::ExportIdentities`: caseworkers and
    /// supervisors of the organisation)? The HTTP layer also asks for a session with a
    /// completed second factor.
    pub fn may_export_identities(&self, ctx: &Ctx<'_>) -> bool {
        decide(
            ctx.actor,
            Action::ExportIdentities,
            Resource::Organisation(ctx.actor.org_id),
        )
        .allowed
    }

    /// Audits a refused identity export (reason code only).
    pub async fn audit_export_refusal(&self, ctx: &Ctx<'_>, reason: &'static str) -> Result<()> {
        let mut e = ctx.entry("case.export", "denied", "");
        e.detail = reason.to_string();
        self.audit(e, ctx.now).await
    }

    /// Exports every case the actor may read, with identities when the policy allows the actor
    /// to export them (`ExportIdentities`), without them otherwise. See `export_cases_with`.
    pub async fn export_cases<S: CaseSink>(&self, ctx: &Ctx<'_>, sink: &mut S) -> Result<usize> {
        let identities = self.may_export_identities(ctx);
        self.export_cases_with(ctx, sink, identities).await
    }

    /// Exports every case the actor may read (their organisation's, not erased, created up to
    /// `ctx.now`), oldest first. With `identities`, the identity block and closure reason are
    /// decrypted — that needs `Action::ExportIdentities` (refused otherwise); without, they are
    /// left out. The export is audited once (`case.export`, with the count) before any case is
    /// handed out, and each page of cases is audited with its case ids (`case.export_ids`)
    /// before that page leaves; cases are read a page at a time, so nothing holds the whole
    /// export. Returns the count.
    pub async fn export_cases_with<S: CaseSink>(
        &self,
        ctx: &Ctx<'_>,
        sink: &mut S,
        identities: bool,
    ) -> Result<usize> {
        self.authorize_export(ctx)?;
        if identities && !self.may_export_identities(ctx) {
            let mut e = ctx.entry("case.export", "denied", "");
            e.detail = "identity_export_needs_case_manager".into();
            self.audit(e, ctx.now).await?;
            return Err(StoreError::Forbidden("identity_export_needs_case_manager"));
        }
        let org = ctx.actor.org_id.to_string();
        let until = millis(ctx.now);
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM cases WHERE owner_org_id = $1 AND erased_at IS NULL \
             AND created_at <= $2",
        )
        .bind(&org)
        .bind(until)
        .fetch_one(&self.pool)
        .await?;
        let mut e = ctx.entry("case.export", "success", "");
        e.detail = if identities {
            format!("count={total}")
        } else {
            format!("count={total} identity=none")
        };
        self.audit(e, ctx.now).await?;

        const PAGE: i64 = 500;
        let q = format!(
            "SELECT {CASE_COLS}, identity, (SELECT master_key_id FROM case_keys WHERE case_id = cases.id), \
             (SELECT wrapped FROM case_keys WHERE case_id = cases.id) \
             FROM cases WHERE owner_org_id = $1 AND erased_at IS NULL AND created_at <= $2 \
             AND (created_at, id) > ($3, $4) \
             ORDER BY created_at, id LIMIT $5"
        );
        let mut after: (i64, String) = (i64::MIN, String::new());
        let mut count = 0usize;
        loop {
            let rows = sqlx::query(sqlx::AssertSqlSafe(q.clone()))
                .bind(&org)
                .bind(until)
                .bind(after.0)
                .bind(&after.1)
                .bind(PAGE)
                .fetch_all(&self.pool)
                .await?;
            let Some(last) = rows.last() else { break };
            after = (last.try_get(9)?, last.try_get(0)?);
            let ids: Vec<String> = rows
                .iter()
                .map(|r| r.try_get(0))
                .collect::<Result<_, _>>()?;
            let values = self.values_for(&ids).await?;
            let mut views = Vec::with_capacity(rows.len());
            let mut jobs = Vec::new();
            for r in &rows {
                let id: String = r.try_get(0)?;
                let v =
                    self.view_from_row(r, values.get(&id).map(Vec::as_slice).unwrap_or(&[]), None)?;
                let facts = CaseFacts {
                    owner_org: v.owner_org,
                    erased: false,
                    grants: vec![],
                    break_glass: vec![],
                };
                if !decide(ctx.actor, Action::ReadCase, Resource::Case(&facts)).allowed {
                    continue;
                }
                if identities
                    && decide(
                        ctx.actor,
                        Action::ReadSection(Section::Identity),
                        Resource::Case(&facts),
                    )
                    .allowed
                {
                    jobs.push(Sealed {
                        index: views.len(),
                        id,
                        closure: r.try_get(11)?,
                        identity: r.try_get(12)?,
                        key_id: r.try_get(13)?,
                        wrapped: r.try_get(14)?,
                    });
                }
                views.push(v);
            }
            // Decryption is CPU work: off the async threads, on every core.
            let keys = Arc::clone(&self.keys);
            let opened = tokio::task::spawn_blocking(move || {
                par_map(&jobs, |j| Ok((j.index, open_sealed(&keys, j)?)))
            })
            .await
            .map_err(|e| StoreError::Data(format!("export worker: {e}")))??;
            for (index, (identity, closure)) in opened {
                if let Some(v) = views.get_mut(index) {
                    v.identity = identity;
                    v.reason_for_closure = closure;
                }
            }
            // The page's case ids are audited before any of its cases leaves.
            if !views.is_empty() {
                let mut e = ctx.entry("case.export_ids", "success", "");
                e.detail = format!(
                    "identity={} ids={}",
                    if identities { "yes" } else { "none" },
                    views
                        .iter()
                        .map(|v| v.id.to_string())
                        .collect::<Vec<_>>()
                        .join(",")
                );
                self.audit(e, ctx.now).await?;
            }
            for v in views {
                sink.case(v).await?;
                count += 1;
            }
            if (rows.len() as i64) < PAGE {
                break;
            }
        }
        Ok(count)
    }
}

/// The sealed parts of one exported case.
struct Sealed {
    index: usize,
    id: String,
    closure: Option<Vec<u8>>,
    identity: Option<Vec<u8>>,
    key_id: Option<String>,
    wrapped: Option<Vec<u8>>,
}

/// Identity and closure reason of an exported case (none when its key is gone).
fn open_sealed(keys: &Keys, s: &Sealed) -> Result<(Option<Identity>, Option<String>)> {
    let (Some(kid), Some(wrapped)) = (&s.key_id, &s.wrapped) else {
        return Ok((None, None));
    };
    let key = keys.unwrap_case_key(kid, wrapped)?;
    let identity = match &s.identity {
        Some(ct) => {
            let plain = key.open(&field_aad("cases", "identity", &s.id, "case"), ct)?;
            Some(serde_json::from_slice(&plain).map_err(|e| StoreError::Data(e.to_string()))?)
        }
        None => None,
    };
    let closure = match &s.closure {
        Some(ct) => {
            let plain = key.open(&field_aad("cases", "closure", &s.id, "case"), ct)?;
            Some(String::from_utf8_lossy(&plain).into_owned())
        }
        None => None,
    };
    Ok((identity, closure))
}

/// What an import wrote.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub imported: usize,
    /// Columns of the file that held data but were not imported.
    pub ignored_columns: Vec<IgnoredColumn>,
}

/// Why an import wrote nothing: problems in the file, or a refusal / failure of the store.
#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    #[error(transparent)]
    Invalid(#[from] ImportErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Checks the policy, reads and validates a whole file, then imports every case or none.
    pub async fn import_file(
        &self,
        ctx: &Ctx<'_>,
        bytes: Vec<u8>,
        format: Format,
    ) -> Result<ImportReport, ImportFailure> {
        self.authorize_import(ctx)?;
        let today = ctx.now.date();
        let parsed = tokio::task::spawn_blocking(move || parse(&bytes, format, today))
            .await
            .map_err(|e| StoreError::Data(format!("import worker: {e}")))??;
        let imported = self.import_cases(ctx, parsed.cases).await?;
        Ok(ImportReport {
            imported,
            ignored_columns: parsed.ignored,
        })
    }
}

fn prepare_cases(
    keys: &Keys,
    now: OffsetDateTime,
    cases: &[ValidCase],
) -> Result<Vec<PreparedCase>> {
    let blind = keys.blind()?;
    let ids = ordered_ids(now, cases.len())?;
    let work: Vec<(Uuid, &ValidCase)> = ids.into_iter().zip(cases).collect();
    par_map(&work, |(id, c)| prepare_one(keys, &blind, *id, c))
}

/// `f` over `items` on every core (scoped threads), results in order. Small inputs run on
/// the calling thread.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> Result<R> + Sync) -> Result<Vec<R>> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    if threads <= 1 || items.len() < 64 {
        return items.iter().map(&f).collect();
    }
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(items.len().div_ceil(threads))
            .map(|chunk| s.spawn(move || chunk.iter().map(f).collect::<Result<Vec<R>>>()))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for h in handles {
            out.extend(
                h.join()
                    .map_err(|_| StoreError::Data("a worker thread failed".into()))??,
            );
        }
        Ok(out)
    })
}

/// `n` case numbers `DQ-<year>-<8 hex>` that are not in use (checked inside the caller's
/// write transaction, so no concurrent insert can take one).
async fn fresh_case_numbers(conn: &mut AnyConnection, year: i32, n: usize) -> Result<Vec<String>> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut out: Vec<String> = Vec::with_capacity(n);
    loop {
        while out.len() < n {
            let candidate = format!("DQ-{year}-{}", hex::encode_upper(random_bytes::<4>()?));
            if seen.insert(candidate.clone()) {
                out.push(candidate);
            }
        }
        let mut taken: HashSet<String> = HashSet::new();
        for chunk in out.chunks(500) {
            let sql = format!(
                "SELECT case_number FROM cases WHERE case_number IN ({})",
                (1..=chunk.len())
                    .map(|i| format!("${i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let mut q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
            for s in chunk {
                q = q.bind(s);
            }
            taken.extend(q.fetch_all(&mut *conn).await?);
        }
        if taken.is_empty() {
            return Ok(out);
        }
        out.retain(|s| !taken.contains(s));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use dayaq_domain::vocab::{CaseStatus, TraffickingStatus};

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
        let mut w = csv_writer(Vec::new());
        let header: Vec<&str> = rows[0].iter().map(|(k, _)| *k).collect();
        w.write_record(&header).unwrap();
        for r in rows {
            w.write_record(r.iter().map(|(_, v)| csv_escape(v).into_owned()))
                .unwrap();
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
        let imported = COLUMNS.iter().filter(|c| c.kind != ReadOnly).count();
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
    fn formula_guard_round_trips() {
        for s in [
            "=1+1",
            "@x",
            "'quoted",
            "''",
            "-x",
            "+994 50 1",
            "-12",
            "plain",
            "\tx",
        ] {
            let e = csv_escape(s);
            assert_eq!(csv_unescape(&e), s, "{s}");
        }
        assert_eq!(csv_escape("=cmd"), "'=cmd");
        assert_eq!(csv_escape("+994 50 123 45 67"), "+994 50 123 45 67");
        assert_eq!(csv_escape("-1+cmd|x"), "'-1+cmd|x");
    }

    #[test]
    fn xlsx_round_trip_of_cells() {
        let parsed = parse(&csv_of(&[full_row()]), Format::Csv, today()).unwrap();
        let mut sink = XlsxSink::new().unwrap();
        sink.push(&view_of(&parsed.cases[0])).unwrap();
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

    #[test]
    fn ids_keep_batch_order() {
        let now = OffsetDateTime::now_utc();
        let ids = ordered_ids(now, 70_000).unwrap();
        let texts: Vec<String> = ids.iter().map(|u| u.to_string()).collect();
        let mut sorted = texts.clone();
        sorted.sort();
        assert_eq!(texts, sorted);
        assert!(ids.iter().all(|u| u.get_version_num() == 7));
    }

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
    fn placeholder_lists() {
        assert_eq!(placeholders(0, 2, 2), "($1, $2), ($3, $4)");
        assert_eq!(placeholders(1, 1, 2), "($2, $3)");
    }
}
