//! National statistics: the annual national report (issue #15, part 1). Pure: records in,
//! tables out. Storage reads the records (one [`CaseRecord`] per case, with an opaque person
//! key that never leaves the server), this module counts them under the rules written in
//! docs/STATISTICS.md, and [`suppress`] applies the public variant's disclosure rule.
//!
//! - `national`: the counting rules (who is identified or presumed in a year, which case
//!   describes the person, age at the decision) and the tables.
//! - `suppression`: primary suppression of small cells for the public variant.
//! - `gaps`: the assistance-gap view (issue #15 part 2).
//! - `scorecard`: the action-plan scorecard (issue #15 §3): indicators file, facts, lights.
//! - `sdc`: complementary suppression and the linear-programming disclosure audit, for any
//!   table of small counts (also the home card, funding and questionnaire figures).
//! - `sdc_report`: the national report's tables as linked cells for `sdc` ([`disclose`]).
//! - `counter`: building blocks of the tables.
//! - `contribution`: what one person adds to the report of every year (the maintained
//!   aggregates of issue #15 §6), and the report and trend back from the summed cells.

mod contribution;
mod counter;
pub mod gaps;
mod national;
pub mod scorecard;
pub mod sdc;
mod sdc_report;
mod suppression;

pub use contribution::{
    CellKey, Cells, Span, YEARS_TABLE, add_cells, person_contribution, report_from_cells,
    trend_from_cells,
};
pub use national::{national_report, trend};
pub use sdc_report::{Grid, GridRow, ReportExposure, audit_report, audit_tables, disclose};
pub use suppression::{DEFAULT_K, Disclosure, MIN_K, suppress};

use crate::referral::Service;
use crate::vocab::{DecisionMakingOrg, Gender, OrgType, TraffickingStatus, TypeOfExploitation};
use serde::Serialize;
use time::Date;

/// The text shown in place of a suppressed cell, everywhere (CSV, XLSX, PDF, screens, charts,
/// the home card, funding and questionnaire figures). Neutral on purpose: a complementary
/// suppressed cell may hold k or more, so "<k" would mislead.
pub const SUPPRESSED_MARK: &str = "x";

/// A per-person key (the keyed blind-index digest of name + birth date, else the case id).
/// It is compared, never shown: it has no `Serialize` and its `Debug` hides the value.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PersonKey(String);

impl PersonKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }
}

impl std::fmt::Debug for PersonKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PersonKey(..)")
    }
}

/// One formal identification decision (`vic_TraffickingStatus` with its date and
/// `vic_TraffickingStatusDecisionMakingOrg`). `order` breaks ties on the same date (the
/// recording time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionFact {
    pub status: TraffickingStatus,
    pub decided_on: Date,
    pub order: i64,
    pub decision_making_org: DecisionMakingOrg,
}

/// One screening against the UN Protocol definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreeningFact {
    pub on: Date,
    pub possible_victim: bool,
    /// `org_Type` of the screening organisation.
    pub org_type: Option<OrgType>,
}

/// A shelter stay (`admitted_on` .. `exited_on`, open when still there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StayFact {
    pub state_shelter: bool,
    pub admitted_on: Date,
    pub exited_on: Option<Date>,
}

/// A service delivered (`started_on` .. `ended_on`, open when ongoing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceFact {
    pub service: Service,
    pub started_on: Date,
    pub ended_on: Option<Date>,
}

/// A one-time allowance payment with status `Paid` and the day it was marked paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowanceFact {
    pub paid_on: Date,
    pub amount_minor: i64,
}

/// A referral sent from this case: when it was made and when it was answered (accepted or
/// declined), if it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralFact {
    pub made_on: Date,
    pub answered_on: Option<Date>,
}

/// Cooperation with law enforcement as the legal section records it (`Yes`, `No`,
/// `Declined`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Cooperation {
    Yes,
    No,
    Declined,
}

impl Cooperation {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Yes" => Some(Self::Yes),
            "No" => Some(Self::No),
            "Declined" => Some(Self::Declined),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Yes => "Yes",
            Self::No => "No",
            Self::Declined => "Declined",
        }
    }
}

/// Everything the report needs about one (not erased) case. No names, no free text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRecord {
    pub person: PersonKey,
    pub gender: Option<Gender>,
    /// Used only to compute the age at the decision; never output.
    pub birthdate: Option<Date>,
    pub age_when_trafficked: Option<i64>,
    /// `prs_Citizenship` (ISO 3166-1 alpha-2).
    pub citizenship: Vec<String>,
    pub forms: Vec<TypeOfExploitation>,
    /// `hte_Country` of the case's trafficking events.
    pub event_countries: Vec<String>,
    pub decisions: Vec<DecisionFact>,
    pub screenings: Vec<ScreeningFact>,
    pub stays: Vec<StayFact>,
    pub services: Vec<ServiceFact>,
    pub allowances: Vec<AllowanceFact>,
    pub referrals: Vec<ReferralFact>,
    pub cooperation: Option<Cooperation>,
}

impl CaseRecord {
    /// A record with only the person key set (tests and builders).
    pub fn new(person: PersonKey) -> Self {
        Self {
            person,
            gender: None,
            birthdate: None,
            age_when_trafficked: None,
            citizenship: Vec::new(),
            forms: Vec::new(),
            event_countries: Vec::new(),
            decisions: Vec::new(),
            screenings: Vec::new(),
            stays: Vec::new(),
            services: Vec::new(),
            allowances: Vec::new(),
            referrals: Vec::new(),
            cooperation: None,
        }
    }
}

/// Options of the report that are facts about the deployment, not about the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportOptions {
    /// The country the mechanism serves (ISO 3166-1 alpha-2): trafficking events only in this
    /// country are domestic.
    pub home_country: String,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            home_country: "AZ".into(),
        }
    }
}

/// What a column holds: persons (or referrals) counted, or a money amount in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    Count,
    AmountMinor,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    /// A stable key (`identified`, `presumed`, `identified_child` …).
    pub key: &'static str,
    pub kind: ColumnKind,
}

/// One published number: exact, or suppressed (primary suppression, public variant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Cell {
    Value(i64),
    Suppressed,
}

impl Cell {
    pub fn value(self) -> Option<i64> {
        match self {
            Cell::Value(v) => Some(v),
            Cell::Suppressed => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// The row's category: an HTCDS value name (`Feminine`, `ForcedLabour`, `AZ`, `Police`),
    /// or one of the fixed keys `total`, `persons`, `not_recorded`, … (docs/STATISTICS.md).
    pub key: String,
    pub cells: Vec<Cell>,
}

/// One table of the report. A table the data model cannot support has no rows and names the
/// reason in `not_recorded`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    pub id: &'static str,
    /// What is counted: `persons` or `referrals`.
    pub unit: &'static str,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    pub not_recorded: Option<&'static str>,
}

impl Table {
    /// The cell at (row key, column key), for tests and readers.
    pub fn cell(&self, row: &str, column: &str) -> Option<Cell> {
        let c = self.columns.iter().position(|c| c.key == column)?;
        let r = self.rows.iter().find(|r| r.key == row)?;
        r.cells.get(c).copied()
    }
}

/// The annual national report of one year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NationalReport {
    pub year: i32,
    pub tables: Vec<Table>,
}
