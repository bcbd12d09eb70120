//! The counting rules of the annual national report (docs/STATISTICS.md):
//!
//! - a person (all cases with one person key) is **identified in Y** when the first formal
//!   decision `ActualVictimOfTrafficking` over all her/his cases falls in Y and the latest
//!   decision is not `NotAVictimOfTrafficking` (a reversed identification is counted in the
//!   headline row `identification_reversed` instead);
//! - **presumed in Y** when screened as a possible victim in Y, not identified on or before
//!   31 December of Y, and not decided `NotAVictimOfTrafficking` by then;
//! - the person is described by the case that carries the counting event (the first
//!   identification decision, or the first possible-victim screening of Y): sex, citizenship,
//!   age at that date (from the birth date; else `vic_AgeWhenTrafficked` ≥ 18 means adult);
//!   forms of exploitation and trafficking-event countries are the union over all her/his
//!   cases;
//! - one person counts once per table; multi-valued fields give a row per value and a
//!   `persons` row counted once.

use super::counter::{Counter, keys, table};
use super::{
    AllowanceFact, CaseRecord, Cell, Column, ColumnKind, Cooperation, DecisionFact, NationalReport,
    PersonKey, ReportOptions, Row, ScreeningFact, Table,
};
use crate::referral::Service;
use crate::vocab::{DecisionMakingOrg, Gender, OrgType, TraffickingStatus, TypeOfExploitation};
use std::collections::{BTreeMap, BTreeSet};
use time::Date;

/// Child or adult at a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AgeGroup {
    Child,
    Adult,
    Unknown,
}

/// Whole years from `birth` to `on`.
fn age_at(birth: Date, on: Date) -> i64 {
    let mut years = i64::from(on.year()) - i64::from(birth.year());
    if (on.month() as u8, on.day()) < (birth.month() as u8, birth.day()) {
        years -= 1;
    }
    years
}

fn age_group(c: &CaseRecord, on: Date) -> AgeGroup {
    match (c.birthdate, c.age_when_trafficked) {
        (Some(b), _) if age_at(b, on) < 18 => AgeGroup::Child,
        (Some(_), _) => AgeGroup::Adult,
        // The age at the decision is at least the age when trafficked.
        (None, Some(a)) if a >= 18 => AgeGroup::Adult,
        _ => AgeGroup::Unknown,
    }
}

/// How a person stands in a year.
#[derive(Debug, Clone, Copy)]
enum Standing<'a> {
    Identified {
        case: &'a CaseRecord,
        decision: &'a DecisionFact,
    },
    Reversed,
    Presumed {
        case: &'a CaseRecord,
        screening: &'a ScreeningFact,
    },
}

fn decisions<'a>(
    cases: &[&'a CaseRecord],
) -> impl Iterator<Item = (&'a CaseRecord, &'a DecisionFact)> {
    cases
        .iter()
        .flat_map(|c| c.decisions.iter().map(move |d| (*c, d)))
}

fn standing<'a>(cases: &[&'a CaseRecord], year: i32) -> Option<Standing<'a>> {
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
        && decision.decided_on.year() == year
    {
        return Some(
            if latest_until(None) == Some(TraffickingStatus::NotAVictimOfTrafficking) {
                Standing::Reversed
            } else {
                Standing::Identified { case, decision }
            },
        );
    }
    let end = Date::from_calendar_date(year, time::Month::December, 31).ok()?;
    if first_actual.is_some_and(|(_, d)| d.decided_on <= end)
        || latest_until(Some(end)) == Some(TraffickingStatus::NotAVictimOfTrafficking)
    {
        return None;
    }
    cases
        .iter()
        .flat_map(|c| c.screenings.iter().map(move |s| (*c, s)))
        .filter(|(_, s)| s.possible_victim && s.on.year() == year)
        .min_by_key(|(_, s)| s.on)
        .map(|(case, screening)| Standing::Presumed { case, screening })
}

fn group(records: &[CaseRecord]) -> BTreeMap<&PersonKey, Vec<&CaseRecord>> {
    let mut m: BTreeMap<&PersonKey, Vec<&CaseRecord>> = BTreeMap::new();
    for r in records {
        m.entry(&r.person).or_default().push(r);
    }
    m
}

fn overlaps(year: i32, from: Date, to: Option<Date>) -> bool {
    from.year() <= year && to.is_none_or(|t| t.year() >= year)
}

/// Kinds of assistance counted in the `assistance` table (rows, in order).
const ASSISTANCE: &[&str] = &[
    "state_shelter",
    "ngo_shelter",
    "allowance_paid",
    "medical",
    "psychological",
    "legal",
    "vocational_training",
    "job_placement",
    "return_or_airport_meeting",
];

fn service_kind(s: Service) -> Option<&'static str> {
    Some(match s {
        Service::Medical => "medical",
        Service::PsychologicalCounselling => "psychological",
        Service::LegalConsultation => "legal",
        Service::VocationalTraining => "vocational_training",
        Service::JobPlacement => "job_placement",
        Service::ReturnHome | Service::AirportMeeting => "return_or_airport_meeting",
        _ => return None,
    })
}

/// The kinds of assistance a person's cases received in `year`, and the allowance paid.
fn assistance_in(cases: &[&CaseRecord], year: i32) -> (BTreeSet<&'static str>, i64) {
    let mut kinds = BTreeSet::new();
    let mut paid = 0;
    for c in cases {
        for s in &c.stays {
            if overlaps(year, s.admitted_on, s.exited_on) {
                kinds.insert(if s.state_shelter {
                    "state_shelter"
                } else {
                    "ngo_shelter"
                });
            }
        }
        for s in &c.services {
            if let Some(k) = service_kind(s.service)
                && overlaps(year, s.started_on, s.ended_on)
            {
                kinds.insert(k);
            }
        }
        for AllowanceFact {
            paid_on,
            amount_minor,
        } in &c.allowances
        {
            if paid_on.year() == year {
                kinds.insert("allowance_paid");
                paid += amount_minor;
            }
        }
    }
    (kinds, paid)
}

/// One counted person of the year, as the tables see her/him.
struct Counted<'a> {
    /// Column 0 = identified, 1 = presumed.
    col: usize,
    case: &'a CaseRecord,
    age: AgeGroup,
    forms: BTreeSet<TypeOfExploitation>,
    countries: BTreeSet<&'a str>,
    cooperation: Option<Cooperation>,
    decision_org: Option<DecisionMakingOrg>,
    screening_org: Option<OrgType>,
}

/// The annual national report of `year` from every case record (exact counts; apply
/// [`super::suppress`] for the public variant).
pub fn national_report(records: &[CaseRecord], year: i32, opts: &ReportOptions) -> NationalReport {
    let people = group(records);
    report_of_people(people.values().map(Vec::as_slice), year, opts)
}

/// The report of `year` over persons already grouped (each item: all cases of one person).
/// Every table is a sum over persons, which the maintained aggregates rely on
/// (`super::contribution`).
pub(super) fn report_of_people<'a>(
    people: impl IntoIterator<Item = &'a [&'a CaseRecord]>,
    year: i32,
    opts: &ReportOptions,
) -> NationalReport {
    let mut counted = Vec::new();
    let mut reversed = 0;
    let mut assisted: BTreeMap<&'static str, i64> = BTreeMap::new();
    let mut any_assistance = 0;
    let mut allowance_persons = 0;
    let mut allowance_amount = 0;
    let mut referrals_made = 0;
    let mut referrals_answered = 0;
    for cases in people {
        for c in cases {
            for r in &c.referrals {
                if r.made_on.year() == year {
                    referrals_made += 1;
                    if r.answered_on.is_some() {
                        referrals_answered += 1;
                    }
                }
            }
        }
        let (kinds, paid) = assistance_in(cases, year);
        if !kinds.is_empty() {
            any_assistance += 1;
        }
        if kinds.contains("allowance_paid") {
            allowance_persons += 1;
            allowance_amount += paid;
        }
        for k in kinds {
            *assisted.entry(k).or_default() += 1;
        }
        let forms: BTreeSet<TypeOfExploitation> =
            cases.iter().flat_map(|c| c.forms.iter().copied()).collect();
        let countries: BTreeSet<&str> = cases
            .iter()
            .flat_map(|c| c.event_countries.iter().map(String::as_str))
            .collect();
        let cooperation = cases.iter().filter_map(|c| c.cooperation).min();
        match standing(cases, year) {
            Some(Standing::Identified { case, decision }) => counted.push(Counted {
                col: 0,
                case,
                age: age_group(case, decision.decided_on),
                forms,
                countries,
                cooperation,
                decision_org: Some(decision.decision_making_org),
                screening_org: None,
            }),
            Some(Standing::Presumed { case, screening }) => counted.push(Counted {
                col: 1,
                case,
                age: age_group(case, screening.on),
                forms,
                countries,
                cooperation,
                decision_org: None,
                screening_org: screening.org_type,
            }),
            Some(Standing::Reversed) => reversed += 1,
            None => {}
        }
    }
    let identified = counted.iter().filter(|p| p.col == 0).count() as i64;
    let presumed = counted.iter().filter(|p| p.col == 1).count() as i64;

    let mut tables = Vec::new();

    let mut t = table("headline", "persons", &["persons"]);
    t.rows = [
        ("identified", identified),
        ("presumed", presumed),
        ("identification_reversed", reversed),
    ]
    .into_iter()
    .map(|(k, n)| Row {
        key: k.into(),
        cells: vec![Cell::Value(n)],
    })
    .collect();
    tables.push(t);

    // Sex × child/adult.
    const SEX_AGE: [&str; 8] = [
        "identified_child",
        "identified_adult",
        "identified_age_unknown",
        "identified_total",
        "presumed_child",
        "presumed_adult",
        "presumed_age_unknown",
        "presumed_total",
    ];
    let mut t = table("by_sex_age", "persons", &SEX_AGE);
    let mut rows = Counter::new(
        keys(Gender::ALL, Gender::as_str)
            .into_iter()
            .chain(["not_recorded".to_string(), "total".to_string()]),
        SEX_AGE.len(),
    );
    for p in &counted {
        let sex = p.case.gender.map_or("not_recorded", Gender::as_str);
        let age = match p.age {
            AgeGroup::Child => 0,
            AgeGroup::Adult => 1,
            AgeGroup::Unknown => 2,
        };
        for row in [sex, "total"] {
            rows.add(row, p.col * 4 + age);
            rows.add(row, p.col * 4 + 3);
        }
    }
    t.rows = rows.into_rows();
    tables.push(t);

    // Forms of exploitation: a row per form, a person in every form recorded; `persons` once.
    let mut t = table("by_form", "persons", &["identified", "presumed"]);
    let mut rows = Counter::new(
        keys(TypeOfExploitation::ALL, TypeOfExploitation::as_str)
            .into_iter()
            .chain(["not_recorded".to_string(), "persons".to_string()]),
        2,
    );
    for p in &counted {
        for f in &p.forms {
            rows.add(f.as_str(), p.col);
        }
        if p.forms.is_empty() {
            rows.add("not_recorded", p.col);
        }
        rows.add("persons", p.col);
    }
    t.rows = rows.into_rows();
    tables.push(t);

    // Citizenship (dual citizens in each of their countries; `persons` once).
    let mut t = table("by_citizenship", "persons", &["identified", "presumed"]);
    let mut countries: BTreeSet<&str> = BTreeSet::new();
    for p in &counted {
        countries.extend(p.case.citizenship.iter().map(String::as_str));
    }
    let mut rows = Counter::new(
        countries
            .iter()
            .map(|c| c.to_string())
            .chain(["not_recorded".to_string(), "persons".to_string()]),
        2,
    );
    for p in &counted {
        for c in &p.case.citizenship {
            rows.add(c, p.col);
        }
        if p.case.citizenship.is_empty() {
            rows.add("not_recorded", p.col);
        }
        rows.add("persons", p.col);
    }
    t.rows = rows.into_rows();
    tables.push(t);

    // Domestic (every trafficking event in the home country) or transnational (any abroad).
    let mut t = table(
        "domestic_transnational",
        "persons",
        &["identified", "presumed"],
    );
    let mut rows = Counter::new(
        ["domestic", "transnational", "not_recorded", "total"].map(String::from),
        2,
    );
    for p in &counted {
        let k = if p.countries.is_empty() {
            "not_recorded"
        } else if p.countries.iter().all(|c| *c == opts.home_country) {
            "domestic"
        } else {
            "transnational"
        };
        rows.add(k, p.col);
        rows.add("total", p.col);
    }
    t.rows = rows.into_rows();
    tables.push(t);

    // Who identified: the decision-making organisation of the first identification decision.
    let mut t = table("identified_by_decision_org", "persons", &["identified"]);
    let mut rows = Counter::new(
        keys(DecisionMakingOrg::ALL, DecisionMakingOrg::as_str)
            .into_iter()
            .chain(["total".to_string()]),
        1,
    );
    for p in counted.iter().filter(|p| p.col == 0) {
        if let Some(o) = p.decision_org {
            rows.add(o.as_str(), 0);
        }
        rows.add("total", 0);
    }
    t.rows = rows.into_rows();
    tables.push(t);

    // Who screened the presumed victims: org_Type of the screening organisation.
    let mut t = table("presumed_by_screening_org_type", "persons", &["presumed"]);
    let mut rows = Counter::new(
        keys(OrgType::ALL, OrgType::as_str)
            .into_iter()
            .chain(["not_recorded".to_string(), "total".to_string()]),
        1,
    );
    for p in counted.iter().filter(|p| p.col == 1) {
        rows.add(p.screening_org.map_or("not_recorded", OrgType::as_str), 0);
        rows.add("total", 0);
    }
    t.rows = rows.into_rows();
    tables.push(t);

    // Assistance received in the year (every person with a case, whatever the status).
    let mut t = table("assistance", "persons", &["persons"]);
    t.rows = ASSISTANCE
        .iter()
        .map(|k| (*k, assisted.get(k).copied().unwrap_or(0)))
        .chain([("any_assistance", any_assistance)])
        .map(|(k, n)| Row {
            key: k.into(),
            cells: vec![Cell::Value(n)],
        })
        .collect();
    tables.push(t);

    let mut t = table("allowance", "persons", &["persons"]);
    t.columns.push(Column {
        key: "amount_minor",
        kind: ColumnKind::AmountMinor,
    });
    t.rows = vec![Row {
        key: "allowance_paid".into(),
        cells: vec![
            Cell::Value(allowance_persons),
            Cell::Value(allowance_amount),
        ],
    }];
    tables.push(t);

    let mut t = table("referrals", "referrals", &["referrals"]);
    t.rows = [("made", referrals_made), ("answered", referrals_answered)]
        .into_iter()
        .map(|(k, n)| Row {
            key: k.into(),
            cells: vec![Cell::Value(n)],
        })
        .collect();
    tables.push(t);

    // Cooperation with law enforcement of the persons identified in the year (the legal
    // section as it stands; `Yes` on any of the person's cases wins).
    let mut t = table("cooperation", "persons", &["identified"]);
    let mut rows = Counter::new(
        ["Yes", "No", "Declined", "not_recorded", "total"].map(String::from),
        1,
    );
    for p in counted.iter().filter(|p| p.col == 0) {
        rows.add(p.cooperation.map_or("not_recorded", Cooperation::as_str), 0);
        rows.add("total", 0);
    }
    t.rows = rows.into_rows();
    tables.push(t);

    let mut t = table("compensation", "persons", &["identified"]);
    t.not_recorded = Some("no_award_recorded");
    tables.push(t);

    NationalReport { year, tables }
}

/// The headline figures of every year from the first to the last year with a decision,
/// screening or assistance in the records (table `trend`).
pub fn trend(records: &[CaseRecord], opts: &ReportOptions) -> Table {
    let years: BTreeSet<i32> = records
        .iter()
        .flat_map(|c| {
            c.decisions
                .iter()
                .map(|d| d.decided_on.year())
                .chain(c.screenings.iter().map(|s| s.on.year()))
                .chain(c.stays.iter().map(|s| s.admitted_on.year()))
                .chain(c.services.iter().map(|s| s.started_on.year()))
                .chain(c.allowances.iter().map(|a| a.paid_on.year()))
        })
        .collect();
    let mut t = table(
        "trend",
        "persons",
        &[
            "identified",
            "identified_child",
            "presumed",
            "any_assistance",
        ],
    );
    if let (Some(first), Some(last)) = (years.first(), years.last()) {
        for year in *first..=*last {
            let r = national_report(records, year, opts);
            let get = |table: &str, row: &str, col: &str| {
                r.tables
                    .iter()
                    .find(|t| t.id == table)
                    .and_then(|t| t.cell(row, col))
                    .unwrap_or(Cell::Value(0))
            };
            t.rows.push(Row {
                key: year.to_string(),
                cells: vec![
                    get("headline", "identified", "persons"),
                    get("by_sex_age", "total", "identified_child"),
                    get("headline", "presumed", "persons"),
                    get("assistance", "any_assistance", "persons"),
                ],
            });
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::super::{ReferralFact, ServiceFact, StayFact};
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn decision(status: TraffickingStatus, on: Date, order: i64) -> DecisionFact {
        DecisionFact {
            status,
            decided_on: on,
            order,
            decision_making_org: DecisionMakingOrg::Police,
        }
    }
    fn screened(on: Date) -> ScreeningFact {
        ScreeningFact {
            on,
            possible_victim: true,
            org_type: Some(OrgType::NGO),
        }
    }
    fn rec(person: &str) -> CaseRecord {
        CaseRecord::new(PersonKey::new(person))
    }
    fn n(r: &NationalReport, table: &str, row: &str, col: &str) -> i64 {
        r.tables
            .iter()
            .find(|t| t.id == table)
            .and_then(|t| t.cell(row, col))
            .and_then(Cell::value)
            .unwrap_or(-1)
    }
    use TraffickingStatus::*;

    #[test]
    fn age_is_taken_at_the_decision() {
        assert_eq!(age_at(date!(2007 - 06 - 01), date!(2025 - 05 - 31)), 17);
        assert_eq!(age_at(date!(2007 - 06 - 01), date!(2025 - 06 - 01)), 18);
        let mut c = rec("a");
        c.birthdate = Some(date!(2007 - 06 - 01));
        c.age_when_trafficked = Some(15);
        c.decisions.push(decision(
            ActualVictimOfTrafficking,
            date!(2025 - 03 - 01),
            1,
        ));
        let r = national_report(&[c.clone()], 2025, &ReportOptions::default());
        assert_eq!(n(&r, "by_sex_age", "total", "identified_child"), 1);
        c.decisions[0].decided_on = date!(2025 - 07 - 01);
        let r = national_report(&[c], 2025, &ReportOptions::default());
        assert_eq!(n(&r, "by_sex_age", "total", "identified_adult"), 1);
    }

    #[test]
    fn a_person_with_two_cases_counts_once_in_the_year_of_the_first_decision() {
        let mut a = rec("p");
        a.forms = vec![TypeOfExploitation::ForcedLabour];
        a.decisions.push(decision(
            ActualVictimOfTrafficking,
            date!(2024 - 11 - 01),
            1,
        ));
        let mut b = rec("p");
        b.forms = vec![
            TypeOfExploitation::SexualExploitation,
            TypeOfExploitation::ForcedLabour,
        ];
        b.decisions.push(decision(
            ActualVictimOfTrafficking,
            date!(2025 - 02 - 01),
            2,
        ));
        let recs = [a, b];
        let r24 = national_report(&recs, 2024, &ReportOptions::default());
        let r25 = national_report(&recs, 2025, &ReportOptions::default());
        assert_eq!(n(&r24, "headline", "identified", "persons"), 1);
        assert_eq!(n(&r25, "headline", "identified", "persons"), 0);
        assert_eq!(n(&r24, "by_form", "ForcedLabour", "identified"), 1);
        assert_eq!(n(&r24, "by_form", "SexualExploitation", "identified"), 1);
        assert_eq!(n(&r24, "by_form", "persons", "identified"), 1);
    }

    #[test]
    fn a_reversed_identification_is_not_counted_as_identified() {
        let mut a = rec("r");
        a.decisions.push(decision(
            ActualVictimOfTrafficking,
            date!(2025 - 02 - 01),
            1,
        ));
        a.decisions
            .push(decision(NotAVictimOfTrafficking, date!(2025 - 04 - 01), 2));
        a.screenings.push(screened(date!(2025 - 01 - 10)));
        let r = national_report(&[a], 2025, &ReportOptions::default());
        assert_eq!(n(&r, "headline", "identified", "persons"), 0);
        assert_eq!(n(&r, "headline", "identification_reversed", "persons"), 1);
        assert_eq!(n(&r, "headline", "presumed", "persons"), 0);
    }

    #[test]
    fn presumed_until_identified() {
        let mut a = rec("s");
        a.screenings.push(screened(date!(2024 - 12 - 20)));
        a.decisions.push(decision(
            ActualVictimOfTrafficking,
            date!(2025 - 01 - 05),
            1,
        ));
        let recs = [a];
        let r24 = national_report(&recs, 2024, &ReportOptions::default());
        let r25 = national_report(&recs, 2025, &ReportOptions::default());
        assert_eq!(n(&r24, "headline", "presumed", "persons"), 1);
        assert_eq!(
            n(&r24, "presumed_by_screening_org_type", "NGO", "presumed"),
            1
        );
        assert_eq!(n(&r25, "headline", "presumed", "persons"), 0);
        assert_eq!(n(&r25, "headline", "identified", "persons"), 1);
        let t = trend(&recs, &ReportOptions::default());
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.cell("2024", "presumed"), Some(Cell::Value(1)));
        assert_eq!(t.cell("2025", "identified"), Some(Cell::Value(1)));
    }

    #[test]
    fn assistance_overlapping_the_year_counts_each_person_once() {
        let mut a = rec("x");
        a.stays.push(StayFact {
            state_shelter: true,
            admitted_on: date!(2024 - 12 - 01),
            exited_on: None,
        });
        a.services.push(ServiceFact {
            service: Service::AirportMeeting,
            started_on: date!(2025 - 01 - 01),
            ended_on: Some(date!(2025 - 01 - 01)),
        });
        a.services.push(ServiceFact {
            service: Service::ReturnHome,
            started_on: date!(2025 - 01 - 02),
            ended_on: None,
        });
        a.allowances.push(AllowanceFact {
            paid_on: date!(2025 - 03 - 01),
            amount_minor: 40_000,
        });
        a.referrals.push(ReferralFact {
            made_on: date!(2025 - 01 - 03),
            answered_on: None,
        });
        let r = national_report(&[a], 2025, &ReportOptions::default());
        assert_eq!(n(&r, "assistance", "state_shelter", "persons"), 1);
        assert_eq!(
            n(&r, "assistance", "return_or_airport_meeting", "persons"),
            1
        );
        assert_eq!(n(&r, "assistance", "any_assistance", "persons"), 1);
        assert_eq!(n(&r, "allowance", "allowance_paid", "amount_minor"), 40_000);
        assert_eq!(n(&r, "referrals", "made", "referrals"), 1);
        assert_eq!(n(&r, "referrals", "answered", "referrals"), 0);
    }

    fn any_record() -> impl Strategy<Value = CaseRecord> {
        let day = (2023i32..2026, 1u8..13, 1u8..29).prop_map(|(y, m, d)| {
            time::Month::try_from(m)
                .ok()
                .and_then(|m| Date::from_calendar_date(y, m, d).ok())
                .unwrap_or(date!(2024 - 01 - 01))
        });
        let status = proptest::sample::select(TraffickingStatus::ALL.to_vec());
        let form = proptest::sample::select(TypeOfExploitation::ALL.to_vec());
        (
            0u8..6,
            proptest::collection::vec((status, day.clone(), 0i64..5), 0..3),
            proptest::collection::vec((day, any::<bool>()), 0..3),
            proptest::collection::vec(form, 0..3),
            proptest::option::of(0i64..60),
        )
            .prop_map(|(p, ds, ss, forms, age)| {
                let mut c = rec(&format!("p{p}"));
                c.decisions = ds.into_iter().map(|(s, d, o)| decision(s, d, o)).collect();
                c.screenings = ss
                    .into_iter()
                    .map(|(d, pv)| ScreeningFact {
                        on: d,
                        possible_victim: pv,
                        org_type: None,
                    })
                    .collect();
                c.forms = forms;
                c.age_when_trafficked = age;
                c
            })
    }

    proptest! {
        /// Every person counts at most once per year, as identified or presumed, never both;
        /// totals equal the sum of their parts; no one is identified in two years.
        #[test]
        fn one_person_once(recs in proptest::collection::vec(any_record(), 0..12)) {
            let persons: BTreeSet<&PersonKey> = recs.iter().map(|r| &r.person).collect();
            let mut identified_total = 0;
            for year in 2023..2026 {
                let r = national_report(&recs, year, &ReportOptions::default());
                let id = n(&r, "headline", "identified", "persons");
                let pr = n(&r, "headline", "presumed", "persons");
                let rev = n(&r, "headline", "identification_reversed", "persons");
                prop_assert!(id + pr + rev <= persons.len() as i64);
                prop_assert_eq!(n(&r, "by_sex_age", "total", "identified_total"), id);
                prop_assert_eq!(n(&r, "by_sex_age", "total", "presumed_total"), pr);
                prop_assert_eq!(
                    n(&r, "by_sex_age", "total", "identified_child")
                        + n(&r, "by_sex_age", "total", "identified_adult")
                        + n(&r, "by_sex_age", "total", "identified_age_unknown"),
                    id
                );
                prop_assert_eq!(n(&r, "by_form", "persons", "identified"), id);
                prop_assert_eq!(n(&r, "by_citizenship", "persons", "presumed"), pr);
                prop_assert_eq!(n(&r, "domestic_transnational", "total", "identified"), id);
                prop_assert_eq!(n(&r, "identified_by_decision_org", "total", "identified"), id);
                prop_assert_eq!(n(&r, "cooperation", "total", "identified"), id);
                // A form row never exceeds the persons row.
                for f in TypeOfExploitation::ALL {
                    prop_assert!(n(&r, "by_form", f.as_str(), "identified") <= id);
                }
                identified_total += id + rev;
            }
            prop_assert!(identified_total <= persons.len() as i64);
        }
    }
}
