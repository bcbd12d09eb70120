//! HTCDS files: the column mapping (documented in docs/HTCDS.md), parsing and validation of an
//! import file ([`parse`]), and the cells of an export ([`export`]).
//!
//! - Column names are HTCDS field names and cells hold HTCDS value names; a multi-select cell
//!   joins its values with `;` (the HTCDS / Salesforce convention). [`COLUMNS`] is the one list.
//! - [`parse`] reads a whole file (through [`crate::tabular::read`]) and validates every row
//!   through `CaseInput::validate`. It returns either every case or every problem, each naming
//!   the row (as a spreadsheet numbers it: the header is row 1) and the column. No message ever
//!   repeats a cell's value.
//! - [`export::case_cells`] gives the cells of one case; [`export::CsvCases`] and
//!   [`export::XlsxCases`] write them (CSV formula-guarded). Storage pages through the cases and
//!   hands them over (`dayaq_storage::htcds`).
//!
//! Pure: no file I/O, no database; callers pass bytes in and take bytes out.

mod import;

pub mod export;

pub use crate::tabular::{Format, column_letter};
pub use export::case_cells;
pub use import::parse;

use dayaq_domain::case::ValidCase;
use serde::Serialize;

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

pub(crate) fn is_htcds_field(name: &str) -> bool {
    HTCDS_FIELDS
        .iter()
        .any(|(f, _)| f.eq_ignore_ascii_case(name))
}

pub(crate) fn is_htcds_label(s: &str) -> bool {
    HTCDS_FIELDS.iter().any(|(_, l)| l.eq_ignore_ascii_case(s))
}

/// Separator of values in a multi-select cell.
pub const MULTI_SEPARATOR: char = ';';

/// Most data rows one file may hold.
pub const MAX_ROWS: usize = 100_000;

/// Most problems reported for one file (reading stops there).
pub const MAX_ERRORS: usize = 10_000;

// ------------------------------------------------------------------------------------------
// Import results

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
    pub(crate) fn new(
        row: u64,
        column: impl Into<String>,
        code: &'static str,
        message: String,
    ) -> Self {
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

#[cfg(test)]
mod tests;
