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

fn flag(out: &mut String, b: bool) {
    out.push_str(if b { "1," } else { "0," });
}

/// The released cells of one record (after the fixed generalisations), as one CSV line
/// (no line end). An empty cell means not recorded.
fn line(r: &ReleaseRecord, variables: &[ReleaseVariable], out: &mut String) {
    out.clear();
    for v in variables {
        match v {
            ReleaseVariable::YearOfRegistration => out.push_str(&r.year.to_string()),
            ReleaseVariable::Gender => out.push_str(r.sex.map(|g| g.as_str()).unwrap_or("")),
            ReleaseVariable::AgeBroad => out.push_str(
                r.age
                    .and_then(AgeBroad::of)
                    .map(AgeBroad::as_str)
                    .unwrap_or(""),
            ),
            ReleaseVariable::MajorityStatus => {
                out.push_str(r.majority.map(|m| m.as_str()).unwrap_or(""));
            }
            ReleaseVariable::Citizenship => {
                out.push_str(citizenship_group(&r.citizenship).unwrap_or(""));
            }
            ReleaseVariable::CountryOfExploitation => {
                out.push_str(citizenship_group(&r.exploitation_countries).unwrap_or(""));
            }
            ReleaseVariable::TypeOfExploitation => {
                for t in TypeOfExploitation::ALL {
                    flag(out, r.forms.contains(t));
                }
                out.pop();
            }
            ReleaseVariable::MethodsOfControl => {
                for t in MethodOfControl::ALL {
                    flag(out, r.controls.contains(t));
                }
                out.pop();
            }
            ReleaseVariable::RelationshipToTrafficker => {
                out.push_str(r.relationship.map(|x| x.as_str()).unwrap_or(""));
            }
            ReleaseVariable::TraffickingStatus => out.push_str(r.standing.as_str()),
        }
        out.push(',');
    }
    out.pop();
}

/// Whether the released value of a country list differs from the single recorded country.
fn country_generalised(countries: &[String]) -> bool {
    match countries {
        [] => false,
        [one] => citizenship_group(countries) != Some(one.as_str()),
        _ => true,
    }
}

/// How many records share one combination of released values, and how many of them each
/// generalisation changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Combo {
    n: usize,
    aged: usize,
    citizenship: usize,
    country: usize,
}

/// The counts behind a microdata release, fed one record at a time (storage streams the
/// records of a period page by page): memory holds one entry per distinct combination of
/// released values, never the records. [`microdata`] is this over a slice.
#[derive(Debug, Clone)]
pub struct MicrodataCounter {
    k: usize,
    variables: Vec<ReleaseVariable>,
    combos: HashMap<String, Combo>,
    records: usize,
    buf: String,
}

impl MicrodataCounter {
    /// Refuses k below [`MIN_K`] and an empty list of variables.
    pub fn new(params: &MicrodataParams) -> Result<Self, ReleaseError> {
        if params.k < MIN_K {
            return Err(ReleaseError::K { got: params.k });
        }
        if params.variables.is_empty() {
            return Err(ReleaseError::Variables(
                "ask for at least one variable".into(),
            ));
        }
        Ok(Self {
            k: params.k,
            variables: with_year(&params.variables),
            combos: HashMap::new(),
            records: 0,
            buf: String::new(),
        })
    }

    /// Counts one record.
    pub fn add(&mut self, r: &ReleaseRecord) {
        line(r, &self.variables, &mut self.buf);
        let c = match self.combos.get_mut(self.buf.as_str()) {
            Some(c) => c,
            None => self.combos.entry(self.buf.clone()).or_default(),
        };
        c.n += 1;
        c.aged += usize::from(r.age.is_some());
        c.citizenship += usize::from(country_generalised(&r.citizenship));
        c.country += usize::from(country_generalised(&r.exploitation_countries));
        self.records += 1;
    }

    /// Suppresses every combination seen fewer than k times. Refuses a release left with
    /// no record.
    pub fn finish(self) -> Result<MicrodataRelease, ReleaseError> {
        self.release_at(self.k)
    }

    /// The release the same counts give at another k (the utility figures compare k = 11
    /// and k = 5 over one pass). Refuses k below [`MIN_K`] and a release left with no record.
    pub fn release_at(&self, k: usize) -> Result<MicrodataRelease, ReleaseError> {
        if k < MIN_K {
            return Err(ReleaseError::K { got: k });
        }
        let mut kept: Vec<(&str, Combo)> = self
            .combos
            .iter()
            .filter(|(_, c)| c.n >= k)
            .map(|(l, c)| (l.as_str(), *c))
            .collect();
        // The order of the cells (as `Vec<String>` rows sort), so the source order says nothing.
        kept.sort_by(|a, b| a.0.split(',').cmp(b.0.split(',')));
        let released: usize = kept.iter().map(|(_, c)| c.n).sum();
        if released == 0 {
            return Err(ReleaseError::TooFewRecords {
                k,
                records: self.records,
                released: 0,
            });
        }
        let total = |f: fn(&Combo) -> usize| kept.iter().map(|(_, c)| f(c)).sum::<usize>();
        let mut generalisations = Vec::new();
        for v in &self.variables {
            let (rule, n) = match v {
                ReleaseVariable::YearOfRegistration => (
                    "calendar year of the counting event (periods are whole years)",
                    0,
                ),
                ReleaseVariable::AgeBroad => (
                    "age in years at the counting event → CTDC broad age group",
                    total(|c| c.aged),
                ),
                ReleaseVariable::Citizenship => (
                    "country outside the country-level list → UN M49 region; several → common region or Multiple",
                    total(|c| c.citizenship),
                ),
                ReleaseVariable::CountryOfExploitation => (
                    "country outside the country-level list → UN M49 region; several → common region or Multiple",
                    total(|c| c.country),
                ),
                _ => continue,
            };
            generalisations.push(Generalisation {
                variable: *v,
                rule,
                records: n,
            });
        }
        Ok(MicrodataRelease {
            columns: columns(&self.variables),
            rows: kept
                .into_iter()
                .map(|(l, c)| (l.to_string(), c.n))
                .collect(),
            k,
            records: self.records,
            suppressed: self.records - released,
            released,
            generalisations,
            variables: self.variables.clone(),
        })
    }
}

/// A microdata release as [`MicrodataCounter`] makes it: each released row once, with how
/// many times it occurs (at least k), in the file's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MicrodataRelease {
    pub columns: Vec<String>,
    /// (CSV line without its end, occurrences).
    pub rows: Vec<(String, usize)>,
    pub k: usize,
    /// Records in the period before suppression.
    pub records: usize,
    /// Records left out so that every combination occurs at least k times.
    pub suppressed: usize,
    /// Records released (`records - suppressed`).
    pub released: usize,
    pub generalisations: Vec<Generalisation>,
    pub variables: Vec<ReleaseVariable>,
}

impl MicrodataRelease {
    /// Writes the CSV (UTF-8, comma, CRLF), the same bytes as [`Microdata::to_csv`], without
    /// holding it whole.
    pub fn write_csv(&self, w: &mut impl std::io::Write) -> std::io::Result<()> {
        w.write_all(self.columns.join(",").as_bytes())?;
        w.write_all(b"\r\n")?;
        for (l, n) in &self.rows {
            for _ in 0..*n {
                w.write_all(l.as_bytes())?;
                w.write_all(b"\r\n")?;
            }
        }
        Ok(())
    }

    /// Every released record as a row of cells.
    pub fn into_microdata(self) -> Microdata {
        let rows = self
            .rows
            .iter()
            .flat_map(|(l, n)| {
                let cells: Vec<String> = l.split(',').map(str::to_string).collect();
                std::iter::repeat_n(cells, *n)
            })
            .collect();
        Microdata {
            columns: self.columns,
            rows,
            k: self.k,
            records: self.records,
            suppressed: self.suppressed,
            generalisations: self.generalisations,
            variables: self.variables,
        }
    }
}

/// Generalises, then suppresses until every combination of released values occurs at least
/// `k` times. Refuses k below [`MIN_K`] and a release left with no record.
pub fn microdata(
    records: &[ReleaseRecord],
    params: &MicrodataParams,
) -> Result<Microdata, ReleaseError> {
    let mut counter = MicrodataCounter::new(params)?;
    for r in records {
        counter.add(r);
    }
    counter.finish().map(MicrodataRelease::into_microdata)
}
