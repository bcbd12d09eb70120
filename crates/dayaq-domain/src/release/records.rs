//! One [`ReleaseRecord`] per person and year of a period, under the national report's
//! counting rules (docs/STATISTICS.md), restricted to the period's days:
//!
//! - identified in year Y when the person's first `ActualVictimOfTrafficking` decision (over
//!   all her/his cases) falls in Y and inside the period, and the latest decision is not
//!   `NotAVictimOfTrafficking` (a reversed identification is not released);
//! - presumed in Y when screened as a possible victim in Y inside the period, not identified
//!   on or before the end of Y (or of the period, if earlier), and not decided
//!   `NotAVictimOfTrafficking` by then;
//! - described by the case that carries the counting event (sex, citizenship, relationship to
//!   the trafficker, age at the event); forms of exploitation, means of control and countries
//!   of exploitation are the union over all her/his cases.

use super::{Majority, ReleaseError, ReleaseRecord, Standing};
use crate::statistics::{DecisionFact, PersonKey, ScreeningFact};
use crate::vocab::{
    Gender, MethodOfControl, RelationshipToTrafficker, TraffickingStatus, TypeOfExploitation,
};
use std::collections::{BTreeMap, BTreeSet};
use time::{Date, Month};

/// What a release needs about one (not erased) case. No names, no free text; the birth date
/// only to compute the age at the counting event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseCase {
    pub person: PersonKey,
    pub gender: Option<Gender>,
    /// Never output: only the age at the counting event is computed from it.
    pub birthdate: Option<Date>,
    pub age_when_trafficked: Option<i64>,
    /// `prs_Citizenship`.
    pub citizenship: Vec<String>,
    pub forms: Vec<TypeOfExploitation>,
    pub controls: Vec<MethodOfControl>,
    pub relationship: Option<RelationshipToTrafficker>,
    /// `hte_Country` of the case's events of type `Exploitation`.
    pub exploitation_countries: Vec<String>,
    pub decisions: Vec<DecisionFact>,
    pub screenings: Vec<ScreeningFact>,
}

impl ReleaseCase {
    /// A case with only the person key set (tests and builders).
    pub fn new(person: PersonKey) -> Self {
        Self {
            person,
            gender: None,
            birthdate: None,
            age_when_trafficked: None,
            citizenship: Vec::new(),
            forms: Vec::new(),
            controls: Vec::new(),
            relationship: None,
            exploitation_countries: Vec::new(),
            decisions: Vec::new(),
            screenings: Vec::new(),
        }
    }

    /// Whether any decision or screening of the case falls in `from..=to` (storage decrypts
    /// the birth date of these cases only).
    pub fn has_event_in(&self, from: Date, to: Date) -> bool {
        self.decisions
            .iter()
            .any(|d| (from..=to).contains(&d.decided_on))
            || self.screenings.iter().any(|s| (from..=to).contains(&s.on))
    }
}

/// Whole years from `birth` to `on`.
fn age_at(birth: Date, on: Date) -> i64 {
    let mut years = i64::from(on.year()) - i64::from(birth.year());
    if (on.month() as u8, on.day()) < (birth.month() as u8, birth.day()) {
        years -= 1;
    }
    years
}

fn decisions<'a>(
    cases: &[&'a ReleaseCase],
) -> impl Iterator<Item = (&'a ReleaseCase, &'a DecisionFact)> {
    cases
        .iter()
        .flat_map(|c| c.decisions.iter().map(move |d| (*c, d)))
}

/// The case carrying the person's counting event in the window, the event's date and how the
/// person is counted.
fn standing<'a>(
    cases: &[&'a ReleaseCase],
    start: Date,
    end: Date,
) -> Option<(&'a ReleaseCase, Date, Standing)> {
    let first_actual = decisions(cases)
        .filter(|(_, d)| d.status == TraffickingStatus::ActualVictimOfTrafficking)
        .min_by_key(|(_, d)| (d.decided_on, d.order));
    let latest_until = |until: Option<Date>| {
        decisions(cases)
            .filter(|(_, d)| until.is_none_or(|u| d.decided_on <= u))
            .max_by_key(|(_, d)| (d.decided_on, d.order))
            .map(|(_, d)| d.status)
    };
    if let Some((case, decision)) = first_actual
        && (start..=end).contains(&decision.decided_on)
    {
        if latest_until(None) == Some(TraffickingStatus::NotAVictimOfTrafficking) {
            return None;
        }
        return Some((case, decision.decided_on, Standing::Identified));
    }
    if first_actual.is_some_and(|(_, d)| d.decided_on <= end)
        || latest_until(Some(end)) == Some(TraffickingStatus::NotAVictimOfTrafficking)
    {
        return None;
    }
    cases
        .iter()
        .flat_map(|c| c.screenings.iter().map(move |s| (*c, s)))
        .filter(|(_, s): &(&ReleaseCase, &ScreeningFact)| {
            s.possible_victim && (start..=end).contains(&s.on)
        })
        .min_by_key(|(_, s)| s.on)
        .map(|(case, s)| (case, s.on, Standing::Presumed))
}

fn sorted_unique(xs: impl Iterator<Item = String>) -> Vec<String> {
    xs.collect::<BTreeSet<_>>().into_iter().collect()
}

/// The records of the period `from..=to` (both days included). Refuses an empty period.
pub fn records(
    cases: &[ReleaseCase],
    from: Date,
    to: Date,
) -> Result<Vec<ReleaseRecord>, ReleaseError> {
    if from > to {
        return Err(ReleaseError::Period(
            "the first day comes after the last day".into(),
        ));
    }
    let mut people: BTreeMap<&PersonKey, Vec<&ReleaseCase>> = BTreeMap::new();
    for c in cases {
        people.entry(&c.person).or_default().push(c);
    }
    let mut out = Vec::new();
    for (person, cases) in &people {
        for year in from.year()..=to.year() {
            let (Ok(jan1), Ok(dec31)) = (
                Date::from_calendar_date(year, Month::January, 1),
                Date::from_calendar_date(year, Month::December, 31),
            ) else {
                continue;
            };
            let (start, end) = (from.max(jan1), to.min(dec31));
            let Some((case, on, standing)) = standing(cases, start, end) else {
                continue;
            };
            let age = case.birthdate.map(|b| age_at(b, on)).filter(|a| *a >= 0);
            let majority = match (age, case.age_when_trafficked) {
                (Some(a), _) if a < 18 => Some(Majority::Minor),
                (Some(_), _) => Some(Majority::Adult),
                (None, Some(a)) if a >= 18 => Some(Majority::Adult),
                _ => None,
            };
            out.push(ReleaseRecord {
                person: (*person).clone(),
                year,
                sex: case.gender,
                age,
                majority,
                citizenship: sorted_unique(case.citizenship.iter().cloned()),
                exploitation_countries: sorted_unique(
                    cases
                        .iter()
                        .flat_map(|c| c.exploitation_countries.iter().cloned()),
                ),
                forms: cases.iter().flat_map(|c| c.forms.iter().copied()).collect(),
                controls: cases
                    .iter()
                    .flat_map(|c| c.controls.iter().copied())
                    .collect(),
                relationship: case.relationship,
                standing,
            });
        }
    }
    Ok(out)
}
