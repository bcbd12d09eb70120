//! Maintained aggregates (issue #15 §6): what one person adds to the national report.
//!
//! Every table of the report is a sum over persons (a person counts once per table, referrals
//! and allowance amounts are summed per person). So the report of any year is the sum of the
//! persons' **contributions**: `person_contribution(all cases of one person)` gives, for every
//! year, the cells that person adds (`CellKey` = span, year, table, row, column → n). Storage
//! keeps the sum of the contributions (`stat_cell`) and each person's own contribution, and on
//! a write replaces the contribution of the persons touched (old out, new in) in the same
//! transaction; [`report_from_cells`] and [`trend_from_cells`] turn the sums back into the
//! same [`NationalReport`] and trend table that [`super::national_report`] and
//! [`super::trend`] compute from the records (the property test below checks it).
//!
//! Open-ended assistance (a shelter stay or a service without an end) counts in every later
//! year. A person's contribution is therefore written for every year from the first to the
//! last year any of her/his dates falls in (`Span::Year`), plus one `Span::From` entry for the
//! year after: for all later years nothing but the open assistance can change, so that entry
//! holds for every year from it on.

use super::national::report_of_people;
use super::{CaseRecord, Cell, NationalReport, ReportOptions, Row, Table};
use std::collections::{BTreeMap, BTreeSet};

/// Whether a cell counts in its year only or in its year and every later one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Span {
    Year,
    From,
}

impl Span {
    pub fn code(self) -> i64 {
        match self {
            Span::Year => 0,
            Span::From => 1,
        }
    }
    pub fn from_code(c: i64) -> Option<Self> {
        match c {
            0 => Some(Span::Year),
            1 => Some(Span::From),
            _ => None,
        }
    }
}

/// One cell of the report in one year. The table `_years` (row and column empty) marks the
/// years the trend covers (a decision, screening or assistance began in it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CellKey {
    pub span: Span,
    pub year: i32,
    pub table: String,
    pub row: String,
    pub column: String,
}

/// Cell sums (or one person's contribution); zero entries carry no meaning.
pub type Cells = BTreeMap<CellKey, i64>;

/// The table that marks the trend's years.
pub const YEARS_TABLE: &str = "_years";

/// Every year one of the person's dates falls in, and the years the trend counts.
fn years(cases: &[&CaseRecord]) -> (BTreeSet<i32>, BTreeSet<i32>) {
    let mut all = BTreeSet::new();
    let mut trend = BTreeSet::new();
    for c in cases {
        for d in &c.decisions {
            trend.insert(d.decided_on.year());
        }
        for s in &c.screenings {
            trend.insert(s.on.year());
        }
        for s in &c.stays {
            trend.insert(s.admitted_on.year());
            all.extend(s.exited_on.map(|d| d.year()));
        }
        for s in &c.services {
            trend.insert(s.started_on.year());
            all.extend(s.ended_on.map(|d| d.year()));
        }
        for a in &c.allowances {
            trend.insert(a.paid_on.year());
        }
        for r in &c.referrals {
            all.insert(r.made_on.year());
            all.extend(r.answered_on.map(|d| d.year()));
        }
    }
    all.extend(trend.iter().copied());
    (all, trend)
}

fn add_report(out: &mut Cells, span: Span, r: &NationalReport) {
    for t in &r.tables {
        for row in &t.rows {
            for (col, cell) in t.columns.iter().zip(&row.cells) {
                if let Cell::Value(n) = cell
                    && *n != 0
                {
                    *out.entry(CellKey {
                        span,
                        year: r.year,
                        table: t.id.to_string(),
                        row: row.key.clone(),
                        column: col.key.to_string(),
                    })
                    .or_default() += n;
                }
            }
        }
    }
}

/// What the person whose cases these are (all of them, one person key) adds to the report of
/// every year. Empty for a person with no dated fact.
pub fn person_contribution(cases: &[&CaseRecord], opts: &ReportOptions) -> Cells {
    let mut out = Cells::new();
    let (all, trend) = years(cases);
    let (Some(&first), Some(&last)) = (all.first(), all.last()) else {
        return out;
    };
    for year in first..=last {
        add_report(&mut out, Span::Year, &report_of_people([cases], year, opts));
    }
    if let Some(after) = last.checked_add(1) {
        add_report(
            &mut out,
            Span::From,
            &report_of_people([cases], after, opts),
        );
    }
    for year in trend {
        out.insert(
            CellKey {
                span: Span::Year,
                year,
                table: YEARS_TABLE.to_string(),
                row: String::new(),
                column: String::new(),
            },
            1,
        );
    }
    out
}

/// `into += sign × cells` (zeros removed).
pub fn add_cells(into: &mut Cells, cells: &Cells, sign: i64) {
    for (k, n) in cells {
        let e = into.entry(k.clone()).or_default();
        *e += sign * n;
        if *e == 0 {
            into.remove(k);
        }
    }
}

/// The annual national report of `year` from the summed contributions of every person: the
/// same value `national_report(records, year, opts)` gives from the records.
pub fn report_from_cells(cells: &Cells, year: i32, opts: &ReportOptions) -> NationalReport {
    let mut sums: BTreeMap<(&str, &str, &str), i64> = BTreeMap::new();
    for (k, n) in cells {
        let counts = match k.span {
            Span::Year => k.year == year,
            Span::From => k.year <= year,
        };
        if counts && k.table != YEARS_TABLE {
            *sums
                .entry((k.table.as_str(), k.row.as_str(), k.column.as_str()))
                .or_default() += n;
        }
    }
    sums.retain(|_, n| *n != 0);
    // The skeleton: every table with its fixed rows at zero.
    let mut report = report_of_people(std::iter::empty(), year, opts);
    for t in &mut report.tables {
        // Rows that only data makes appear (the citizenship codes): sorted, before the fixed
        // rows, as the counting rules order them.
        let extra: BTreeSet<&str> = sums
            .keys()
            .filter(|(tid, row, _)| *tid == t.id && !t.rows.iter().any(|r| r.key == *row))
            .map(|(_, row, _)| *row)
            .collect();
        let width = t.columns.len();
        let mut rows: Vec<Row> = extra
            .into_iter()
            .map(|k| Row {
                key: k.to_string(),
                cells: vec![Cell::Value(0); width],
            })
            .collect();
        rows.append(&mut t.rows);
        t.rows = rows;
        fill(t, &sums);
    }
    report
}

fn fill(t: &mut Table, sums: &BTreeMap<(&str, &str, &str), i64>) {
    for row in &mut t.rows {
        for (col, cell) in t.columns.iter().zip(row.cells.iter_mut()) {
            if let Some(n) = sums.get(&(t.id, row.key.as_str(), col.key)) {
                *cell = Cell::Value(*n);
            }
        }
    }
}

/// The trend table from the summed contributions: the same value `trend(records, opts)`
/// gives from the records.
pub fn trend_from_cells(cells: &Cells, opts: &ReportOptions) -> Table {
    let years: BTreeSet<i32> = cells
        .iter()
        .filter(|(k, n)| k.table == YEARS_TABLE && k.span == Span::Year && **n > 0)
        .map(|(k, _)| k.year)
        .collect();
    let mut t = super::trend(&[], opts);
    if let (Some(first), Some(last)) = (years.first(), years.last()) {
        for year in *first..=*last {
            let r = report_from_cells(cells, year, opts);
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
    use super::super::{
        AllowanceFact, Cooperation, DecisionFact, PersonKey, ReferralFact, ScreeningFact,
        ServiceFact, StayFact, national_report, trend,
    };
    use super::*;
    use crate::referral::Service;
    use crate::vocab::{DecisionMakingOrg, Gender, OrgType, TraffickingStatus, TypeOfExploitation};
    use proptest::prelude::*;
    use time::Date;
    use time::macros::date;

    fn day() -> impl Strategy<Value = Date> {
        (2021i32..2026, 1u8..13, 1u8..29).prop_map(|(y, m, d)| {
            time::Month::try_from(m)
                .ok()
                .and_then(|m| Date::from_calendar_date(y, m, d).ok())
                .unwrap_or(date!(2024 - 01 - 01))
        })
    }

    prop_compose! {
        fn any_record()(
            p in 0u8..6,
            gender in proptest::option::of(proptest::sample::select(Gender::ALL.to_vec())),
            birth in proptest::option::of(day().prop_map(|d| d.replace_year(d.year() - 20).unwrap_or(d))),
            age in proptest::option::of(5i64..40),
            cit in proptest::collection::vec(proptest::sample::select(vec!["AZ", "RU", "UZ"]), 0..3),
            forms in proptest::collection::vec(proptest::sample::select(TypeOfExploitation::ALL.to_vec()), 0..3),
            countries in proptest::collection::vec(proptest::sample::select(vec!["AZ", "TR"]), 0..3),
            ds in proptest::collection::vec((proptest::sample::select(TraffickingStatus::ALL.to_vec()), day(), 0i64..5, proptest::sample::select(DecisionMakingOrg::ALL.to_vec())), 0..3),
            ss in proptest::collection::vec((day(), any::<bool>(), proptest::option::of(proptest::sample::select(OrgType::ALL.to_vec()))), 0..3),
            stays in proptest::collection::vec((any::<bool>(), day(), proptest::option::of(day())), 0..2),
            services in proptest::collection::vec((proptest::sample::select(Service::ALL.to_vec()), day(), proptest::option::of(day())), 0..3),
            allowances in proptest::collection::vec((day(), 1i64..100_000), 0..2),
            referrals in proptest::collection::vec((day(), proptest::option::of(day())), 0..2),
            coop in proptest::option::of(proptest::sample::select(vec![Cooperation::Yes, Cooperation::No, Cooperation::Declined])),
        ) -> CaseRecord {
            let mut c = CaseRecord::new(PersonKey::new(format!("p{p}")));
            c.gender = gender;
            c.birthdate = birth;
            c.age_when_trafficked = age;
            c.citizenship = cit.into_iter().map(String::from).collect();
            c.forms = forms;
            c.event_countries = countries.into_iter().map(String::from).collect();
            c.decisions = ds.into_iter().map(|(status, decided_on, order, decision_making_org)| DecisionFact { status, decided_on, order, decision_making_org }).collect();
            c.screenings = ss.into_iter().map(|(on, possible_victim, org_type)| ScreeningFact { on, possible_victim, org_type }).collect();
            c.stays = stays.into_iter().map(|(state_shelter, admitted_on, exited_on)| StayFact { state_shelter, admitted_on, exited_on }).collect();
            c.services = services.into_iter().map(|(service, started_on, ended_on)| ServiceFact { service, started_on, ended_on }).collect();
            c.allowances = allowances.into_iter().map(|(paid_on, amount_minor)| AllowanceFact { paid_on, amount_minor }).collect();
            c.referrals = referrals.into_iter().map(|(made_on, answered_on)| ReferralFact { made_on, answered_on }).collect();
            c.cooperation = coop;
            c
        }
    }

    fn summed(recs: &[CaseRecord], opts: &ReportOptions) -> Cells {
        let mut people: BTreeMap<&PersonKey, Vec<&CaseRecord>> = BTreeMap::new();
        for r in recs {
            people.entry(&r.person).or_default().push(r);
        }
        let mut cells = Cells::new();
        for cases in people.values() {
            add_cells(&mut cells, &person_contribution(cases, opts), 1);
        }
        cells
    }

    #[test]
    fn an_open_stay_counts_in_every_later_year() {
        let mut c = CaseRecord::new(PersonKey::new("a"));
        c.stays.push(StayFact {
            state_shelter: false,
            admitted_on: date!(2022 - 05 - 01),
            exited_on: None,
        });
        let opts = ReportOptions::default();
        let cells = summed(std::slice::from_ref(&c), &opts);
        for year in [2021, 2022, 2023, 2030] {
            assert_eq!(
                report_from_cells(&cells, year, &opts),
                national_report(std::slice::from_ref(&c), year, &opts),
                "{year}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// The sum of the persons' contributions gives the report of every year (before, in
        /// and after the data) and the trend, exactly as the counting rules do from the
        /// records; taking one person's contribution out gives the report without her/him.
        #[test]
        fn summed_contributions_equal_the_report(
            recs in proptest::collection::vec(any_record(), 0..10),
        ) {
            let opts = ReportOptions::default();
            let cells = summed(&recs, &opts);
            for year in 2019..2029 {
                prop_assert_eq!(
                    report_from_cells(&cells, year, &opts),
                    national_report(&recs, year, &opts)
                );
            }
            prop_assert_eq!(trend_from_cells(&cells, &opts), trend(&recs, &opts));
            if let Some(first) = recs.first() {
                let p = first.person.clone();
                let mine: Vec<&CaseRecord> = recs.iter().filter(|r| r.person == p).collect();
                let rest: Vec<CaseRecord> = recs.iter().filter(|r| r.person != p).cloned().collect();
                let mut less = cells.clone();
                add_cells(&mut less, &person_contribution(&mine, &opts), -1);
                prop_assert_eq!(less, summed(&rest, &opts));
            }
        }
    }
}
