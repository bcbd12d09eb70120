//! Research data releases (issue #16): the pure part. Storage reads one [`ReleaseCase`] per
//! case (no name, no free text, no date leaves it except to compute an age), [`records`]
//! turns them into one [`ReleaseRecord`] per person and year under the national report's
//! counting rules, and the generators make the release:
//!
//! - `microdata`: k-anonymous microdata in a CTDC-compatible layout ([`microdata`]);
//! - `generalise`: the fixed generalisations (CTDC broad age groups, country → region);
//! - `budget`: the privacy-budget rule ([`check_budget`]);
//! - the differentially private tables live in the `dayaq-privacy` crate (OpenDP), which
//!   reads the same records.
//!
//! docs/RELEASES.md describes the layout, the rules and the figures.

mod budget;
pub mod generalise;
mod microdata;
mod records;

pub use budget::check_budget;
pub use generalise::{AgeBroad, citizenship_group, country_group, country_values, region_of};
pub use microdata::{
    DEFAULT_K, DEFAULT_VARIABLES, Generalisation, MIN_K, Microdata, MicrodataCounter,
    MicrodataParams, MicrodataRelease, microdata, microdata_period,
};
pub use records::{ReleaseCase, records};

use crate::statistics::PersonKey;
use crate::vocab::{Gender, MethodOfControl, RelationshipToTrafficker, TypeOfExploitation};
use std::collections::BTreeSet;

/// Why a release cannot be made. Each variant names the request field it concerns
/// ([`ReleaseError::field`]); messages never carry personal data.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReleaseError {
    /// A variable outside the release schema (the name is a schema word, not personal data).
    #[error("variables: {0} is not in the release schema; allowed: {allowed}", allowed = ReleaseVariable::allowed())]
    UnknownVariable(String),
    /// No variable asked for, or one asked for twice.
    #[error("variables: {0}")]
    Variables(String),
    #[error("k: must be at least {min} (got {got})", min = MIN_K)]
    K { got: usize },
    #[error("epsilon: {0}")]
    Epsilon(String),
    #[error("period: {0}")]
    Period(String),
    /// Too few records in the period to release anything.
    #[error(
        "period: too few records to release anything at k = {k} ({released} of {records} records would remain)"
    )]
    TooFewRecords {
        k: usize,
        records: usize,
        released: usize,
    },
    #[error(
        "budget: this release would spend epsilon {requested} but only {remaining} of the budget {budget} is left"
    )]
    Budget {
        spent: f64,
        requested: f64,
        budget: f64,
        remaining: f64,
    },
    /// The differential-privacy library refused a measurement (a parameter out of its range).
    #[error("epsilon: the noise mechanism could not be built ({0})")]
    Mechanism(String),
}

impl ReleaseError {
    /// The request field the error concerns: `variables`, `k`, `epsilon`, `period`, `budget`.
    pub fn field(&self) -> &'static str {
        match self {
            Self::UnknownVariable(_) | Self::Variables(_) => "variables",
            Self::K { .. } => "k",
            Self::Epsilon(_) | Self::Mechanism(_) => "epsilon",
            Self::Period(_) | Self::TooFewRecords { .. } => "period",
            Self::Budget { .. } => "budget",
        }
    }
}

/// How the person is counted in the year (HTCDS `vic_TraffickingStatus` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Standing {
    /// Identified: the first `ActualVictimOfTrafficking` decision falls in the year.
    Identified,
    /// Presumed: screened as a possible victim in the year, not identified by its end.
    Presumed,
}

impl Standing {
    pub const ALL: &'static [Standing] = &[Standing::Identified, Standing::Presumed];
    /// The HTCDS value name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Identified => "ActualVictimOfTrafficking",
            Self::Presumed => "PossibleVictimOfTrafficking",
        }
    }
}

/// Child or adult at the counting event (CTDC `majorityStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Majority {
    Minor,
    Adult,
}

impl Majority {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Minor => "Minor",
            Self::Adult => "Adult",
        }
    }
}

/// One person counted in one year of a release period, as the national report counts her/him
/// (a person presumed in one year and identified in a later one gives a record in each).
/// No name, no date, no case number, no free text: only the values a release may show, and
/// the exact age, which generators only ever output as a broad group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseRecord {
    /// The opaque person key: generators use it to bound one person's contribution to a
    /// differentially private table, and never output it.
    pub person: PersonKey,
    /// Year of the counting event (CTDC `yearOfRegistration`).
    pub year: i32,
    /// `prs_Gender`.
    pub sex: Option<Gender>,
    /// Whole years at the counting event (from the birth date). Never output as is.
    pub age: Option<i64>,
    /// `majorityStatus`: from the age, else `vic_AgeWhenTrafficked` ≥ 18 means adult.
    pub majority: Option<Majority>,
    /// `prs_Citizenship` (ISO 3166-1 alpha-2, sorted, deduplicated).
    pub citizenship: Vec<String>,
    /// `hte_Country` of the person's trafficking events of type `Exploitation` (sorted,
    /// deduplicated).
    pub exploitation_countries: Vec<String>,
    /// `vic_TypeOfExploitation` (union over the person's cases).
    pub forms: BTreeSet<TypeOfExploitation>,
    /// `vic_MethodsOfControl` (union over the person's cases).
    pub controls: BTreeSet<MethodOfControl>,
    /// `vic_RelationshipToTrafficker` of the case carrying the counting event.
    pub relationship: Option<RelationshipToTrafficker>,
    /// `vic_TraffickingStatus`: identified or presumed in the year.
    pub standing: Standing,
}

/// The release schema: the closed list of variables a researcher may ask for. The names are
/// the HTCDS field names where HTCDS has the field, else CTDC's column names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ReleaseVariable {
    /// CTDC `yearOfRegistration`: the calendar year of the counting event. Always released.
    YearOfRegistration,
    /// HTCDS `prs_Gender`.
    Gender,
    /// CTDC `ageBroad`.
    AgeBroad,
    /// CTDC `majorityStatus`.
    MajorityStatus,
    /// HTCDS `prs_Citizenship` (country or region, [`citizenship_group`]).
    Citizenship,
    /// CTDC `CountryOfExploitation` (HTCDS `hte_Country` of events of type Exploitation).
    CountryOfExploitation,
    /// HTCDS `vic_TypeOfExploitation`, one 0/1 flag column per value.
    TypeOfExploitation,
    /// HTCDS `vic_MethodsOfControl`, one 0/1 flag column per value.
    MethodsOfControl,
    /// HTCDS `vic_RelationshipToTrafficker`.
    RelationshipToTrafficker,
    /// HTCDS `vic_TraffickingStatus` (identified = `ActualVictimOfTrafficking`, presumed =
    /// `PossibleVictimOfTrafficking`).
    TraffickingStatus,
}

impl ReleaseVariable {
    pub const ALL: &'static [ReleaseVariable] = &[
        Self::YearOfRegistration,
        Self::Gender,
        Self::AgeBroad,
        Self::MajorityStatus,
        Self::Citizenship,
        Self::CountryOfExploitation,
        Self::TypeOfExploitation,
        Self::MethodsOfControl,
        Self::RelationshipToTrafficker,
        Self::TraffickingStatus,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::YearOfRegistration => "yearOfRegistration",
            Self::Gender => "prs_Gender",
            Self::AgeBroad => "ageBroad",
            Self::MajorityStatus => "majorityStatus",
            Self::Citizenship => "prs_Citizenship",
            Self::CountryOfExploitation => "CountryOfExploitation",
            Self::TypeOfExploitation => "vic_TypeOfExploitation",
            Self::MethodsOfControl => "vic_MethodsOfControl",
            Self::RelationshipToTrafficker => "vic_RelationshipToTrafficker",
            Self::TraffickingStatus => "vic_TraffickingStatus",
        }
    }

    /// Parses a variable name (exact); the error names the variable (truncated: it is a
    /// schema word typed by a researcher, never personal data) and lists the allowed ones.
    pub fn parse(s: &str) -> Result<Self, ReleaseError> {
        Self::ALL
            .iter()
            .copied()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| ReleaseError::UnknownVariable(s.chars().take(64).collect()))
    }

    /// Parses a list of names, rejecting an empty list and duplicates.
    pub fn parse_list<S: AsRef<str>>(names: &[S]) -> Result<Vec<Self>, ReleaseError> {
        let mut out: Vec<Self> = Vec::new();
        for n in names {
            let v = Self::parse(n.as_ref().trim())?;
            if out.contains(&v) {
                return Err(ReleaseError::Variables(format!(
                    "{} is asked for twice",
                    v.as_str()
                )));
            }
            out.push(v);
        }
        if out.is_empty() {
            return Err(ReleaseError::Variables(
                "ask for at least one variable".into(),
            ));
        }
        Ok(out)
    }

    fn allowed() -> String {
        Self::ALL
            .iter()
            .map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl std::fmt::Display for ReleaseVariable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ReleaseVariable {
    type Err = ReleaseError;
    fn from_str(s: &str) -> Result<Self, ReleaseError> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests;
