//! k-anonymous microdata in a CTDC-compatible layout.
//!
//! Every released variable is a quasi-identifier (the flags too: a rare combination of forms
//! of exploitation identifies as well as a rare citizenship does). The generalisations are
//! fixed ([`super::generalise`]); after them, every record whose combination of released
//! values occurs fewer than k times in the release is suppressed (left out whole). The year
//! is always released and the period must be whole calendar years ([`microdata_period`]), so
//! two releases over overlapping periods hold exactly the same rows for every year they share:
//! nothing can be recovered by subtracting one from the other.

use super::generalise::{AgeBroad, citizenship_group};
use super::{ReleaseError, ReleaseRecord, ReleaseVariable};
use crate::vocab::{MethodOfControl, TypeOfExploitation};
use std::collections::HashMap;
use time::{Date, Month};

/// k of a release when the request names none (CTDC's own threshold).
pub const DEFAULT_K: usize = 11;
/// The smallest k a release may use.
pub const MIN_K: usize = 5;

/// The variables of a microdata request when it names none: everything but the means of
/// control (16 flags that multiply the combinations; ask for them explicitly).
pub const DEFAULT_VARIABLES: &[ReleaseVariable] = &[
    ReleaseVariable::YearOfRegistration,
    ReleaseVariable::Gender,
    ReleaseVariable::AgeBroad,
    ReleaseVariable::MajorityStatus,
    ReleaseVariable::Citizenship,
    ReleaseVariable::CountryOfExploitation,
    ReleaseVariable::TypeOfExploitation,
    ReleaseVariable::RelationshipToTrafficker,
    ReleaseVariable::TraffickingStatus,
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MicrodataParams {
    pub k: usize,
    pub variables: Vec<ReleaseVariable>,
}

impl Default for MicrodataParams {
    fn default() -> Self {
        Self {
            k: DEFAULT_K,
            variables: DEFAULT_VARIABLES.to_vec(),
        }
    }
}

/// One generalisation applied: to which variable, the rule, and how many released records
/// it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generalisation {
    pub variable: ReleaseVariable,
    pub rule: &'static str,
    pub records: usize,
}

/// A microdata release: the header, the rows (sorted, so the order of the source says
/// nothing), and what was done to make it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Microdata {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub k: usize,
    /// Records in the period before suppression.
    pub records: usize,
    /// Records left out so that every combination occurs at least k times.
    pub suppressed: usize,
    pub generalisations: Vec<Generalisation>,
    pub variables: Vec<ReleaseVariable>,
}

impl Microdata {
    /// The CSV file (UTF-8, comma, CRLF). Every cell is a year, a schema value name, a CTDC
    /// age label or a 0/1 flag, so nothing needs quoting and no cell can start a formula.
    pub fn to_csv(&self) -> String {
        let mut s = self.columns.join(",");
        s.push_str("\r\n");
        for r in &self.rows {
            s.push_str(&r.join(","));
            s.push_str("\r\n");
        }
        s
    }
}

/// Microdata may only cover whole calendar years (1 January … 31 December): then every year
/// of two overlapping releases is released identically (the differencing rule).
pub fn microdata_period(from: Date, to: Date) -> Result<(), ReleaseError> {
    let whole = from.month() == Month::January
        && from.day() == 1
        && to.month() == Month::December
        && to.day() == 31
        && from <= to;
    if whole {
        Ok(())
    } else {
        Err(ReleaseError::Period(
            "microdata covers whole calendar years: from 1 January to 31 December".into(),
        ))
    }
}

/// The released variables in the schema's order, with the year always in.
fn with_year(variables: &[ReleaseVariable]) -> Vec<ReleaseVariable> {
    ReleaseVariable::ALL
        .iter()
        .copied()
        .filter(|v| *v == ReleaseVariable::YearOfRegistration || variables.contains(v))
        .collect()
}

fn columns(variables: &[ReleaseVariable]) -> Vec<String> {
    let mut out = Vec::new();
    for v in variables {
        match v {
            ReleaseVariable::TypeOfExploitation => out.extend(
                TypeOfExploitation::ALL
                    .iter()
                    .map(|t| format!("vic_TypeOfExploitation_{}", t.as_str())),
            ),
            ReleaseVariable::MethodsOfControl => out.extend(
                MethodOfControl::ALL
                    .iter()
                    .map(|t| format!("vic_MethodsOfControl_{}", t.as_str())),
            ),
            v => out.push(v.as_str().to_string()),
        }
    }
    out
}

fn flag(b: bool) -> String {
    if b { "1" } else { "0" }.to_string()
}

/// The released cells of one record (after the fixed generalisations). An empty cell means
/// not recorded.
fn cells(r: &ReleaseRecord, variables: &[ReleaseVariable]) -> Vec<String> {
    let mut out = Vec::new();
    for v in variables {
        match v {
            ReleaseVariable::YearOfRegistration => out.push(r.year.to_string()),
            ReleaseVariable::Gender => out.push(r.sex.map(|g| g.as_str()).unwrap_or("").into()),
            ReleaseVariable::AgeBroad => out.push(
                r.age
                    .and_then(AgeBroad::of)
                    .map(AgeBroad::as_str)
                    .unwrap_or("")
                    .into(),
            ),
            ReleaseVariable::MajorityStatus => {
                out.push(r.majority.map(|m| m.as_str()).unwrap_or("").into());
            }
            ReleaseVariable::Citizenship => {
                out.push(citizenship_group(&r.citizenship).unwrap_or("").into());
            }
            ReleaseVariable::CountryOfExploitation => {
                out.push(
                    citizenship_group(&r.exploitation_countries)
                        .unwrap_or("")
                        .into(),
                );
            }
            ReleaseVariable::TypeOfExploitation => out.extend(
                TypeOfExploitation::ALL
                    .iter()
                    .map(|t| flag(r.forms.contains(t))),
            ),
            ReleaseVariable::MethodsOfControl => out.extend(
                MethodOfControl::ALL
                    .iter()
                    .map(|t| flag(r.controls.contains(t))),
            ),
            ReleaseVariable::RelationshipToTrafficker => {
                out.push(r.relationship.map(|x| x.as_str()).unwrap_or("").into());
            }
            ReleaseVariable::TraffickingStatus => out.push(r.standing.as_str().into()),
        }
    }
    out
}

/// Whether the released value of a country list differs from the single recorded country.
fn country_generalised(countries: &[String]) -> bool {
    match countries {
        [] => false,
        [one] => citizenship_group(countries) != Some(one.as_str()),
        _ => true,
    }
}

/// Generalises, then suppresses until every combination of released values occurs at least
/// `k` times. Refuses k below [`MIN_K`] and a release left with no record.
pub fn microdata(
    records: &[ReleaseRecord],
    params: &MicrodataParams,
) -> Result<Microdata, ReleaseError> {
    if params.k < MIN_K {
        return Err(ReleaseError::K { got: params.k });
    }
    if params.variables.is_empty() {
        return Err(ReleaseError::Variables(
            "ask for at least one variable".into(),
        ));
    }
    let variables = with_year(&params.variables);
    let all: Vec<Vec<String>> = records.iter().map(|r| cells(r, &variables)).collect();
    let mut counts: HashMap<&[String], usize> = HashMap::new();
    for row in &all {
        *counts.entry(row.as_slice()).or_default() += 1;
    }
    let keep: Vec<bool> = all
        .iter()
        .map(|row| counts.get(row.as_slice()).copied().unwrap_or(0) >= params.k)
        .collect();
    let mut rows: Vec<Vec<String>> = all
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(r, _)| r.clone())
        .collect();
    rows.sort();
    if rows.is_empty() {
        return Err(ReleaseError::TooFewRecords {
            k: params.k,
            records: records.len(),
            released: 0,
        });
    }
    let kept = || {
        records
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(r, _)| r)
    };
    let mut generalisations = Vec::new();
    for v in &variables {
        let (rule, n) = match v {
            ReleaseVariable::YearOfRegistration => (
                "calendar year of the counting event (periods are whole years)",
                0,
            ),
            ReleaseVariable::AgeBroad => (
                "age in years at the counting event → CTDC broad age group",
                kept().filter(|r| r.age.is_some()).count(),
            ),
            ReleaseVariable::Citizenship => (
                "country outside the country-level list → UN M49 region; several → common region or Multiple",
                kept()
                    .filter(|r| country_generalised(&r.citizenship))
                    .count(),
            ),
            ReleaseVariable::CountryOfExploitation => (
                "country outside the country-level list → UN M49 region; several → common region or Multiple",
                kept()
                    .filter(|r| country_generalised(&r.exploitation_countries))
                    .count(),
            ),
            _ => continue,
        };
        generalisations.push(Generalisation {
            variable: *v,
            rule,
            records: n,
        });
    }
    Ok(Microdata {
        columns: columns(&variables),
        suppressed: records.len() - rows.len(),
        rows,
        k: params.k,
        records: records.len(),
        generalisations,
        variables,
    })
}
