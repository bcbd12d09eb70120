//! Disclosure control of the annual national report: its tables (and the trend) as one set of
//! linked count cells with the constraints a reader knows, complementary suppression over all
//! of them ([`disclose`]), and the LP audit of a published report ([`audit_report`]).
//!
//! Constraints (docs/STATISTICS.md, "Disclosure control"):
//! - a table with a `total` row: in every column, `total` = the sum of the other rows;
//! - `by_sex_age`: in every row, `identified_total` = child + adult + age unknown (the same for
//!   `presumed`);
//! - multi-valued tables (`by_form`, `by_citizenship` with their `persons` row; `assistance`
//!   with `any_assistance`): one person may be in several rows, so they are **not** additive:
//!   every row is at most the persons figure, and the rows together are at least it;
//! - `referrals`: answered ≤ made; `trend`: identified_child ≤ identified in every year;
//! - the same figure shown in two places is equal: the headline `identified` is the
//!   `total`/`persons` of every identified column and the trend's row of the year, and so on.
//!
//! Amounts (`amount_minor`) are not counts: they are hidden with any hidden count of their row.

use super::sdc::{Constraint, Exposure, Range, protect};
use super::{Cell, ColumnKind, Disclosure, NationalReport, Table};
use std::collections::BTreeMap;

/// The count cells of one table, by row and column key (amount columns left out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grid {
    pub id: String,
    pub columns: Vec<String>,
    pub rows: Vec<GridRow>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridRow {
    pub key: String,
    pub cells: Vec<Cell>,
}

impl Grid {
    /// The count columns of `t`.
    pub fn of(t: &Table) -> Grid {
        let keep: Vec<usize> = (0..t.columns.len())
            .filter(|i| t.columns[*i].kind == ColumnKind::Count)
            .collect();
        Grid {
            id: t.id.to_string(),
            columns: keep.iter().map(|i| t.columns[*i].key.to_string()).collect(),
            rows: t
                .rows
                .iter()
                .map(|r| GridRow {
                    key: r.key.clone(),
                    cells: keep
                        .iter()
                        .map(|i| r.cells.get(*i).copied().unwrap_or(Cell::Value(0)))
                        .collect(),
                })
                .collect(),
        }
    }
}

/// One cell of a report that the audit found exposed.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportExposure {
    pub table: String,
    pub row: String,
    pub column: String,
    pub value: i64,
    pub range: Option<Range>,
}

/// The report's count cells, flattened, with the constraints between them.
struct Linked {
    /// (grid, row, column) of every flattened cell.
    at: Vec<(usize, usize, usize)>,
    constraints: Vec<Constraint>,
}

/// The figures that the report shows in more than one place: (table, row, column).
fn same_figures(year: &str) -> Vec<Vec<(&'static str, String, &'static str)>> {
    let y = || year.to_string();
    let s = |x: &str| x.to_string();
    vec![
        vec![
            ("headline", s("identified"), "persons"),
            ("by_sex_age", s("total"), "identified_total"),
            ("by_form", s("persons"), "identified"),
            ("by_citizenship", s("persons"), "identified"),
            ("domestic_transnational", s("total"), "identified"),
            ("identified_by_decision_org", s("total"), "identified"),
            ("cooperation", s("total"), "identified"),
            ("trend", y(), "identified"),
        ],
        vec![
            ("headline", s("presumed"), "persons"),
            ("by_sex_age", s("total"), "presumed_total"),
            ("by_form", s("persons"), "presumed"),
            ("by_citizenship", s("persons"), "presumed"),
            ("domestic_transnational", s("total"), "presumed"),
            ("presumed_by_screening_org_type", s("total"), "presumed"),
            ("trend", y(), "presumed"),
        ],
        vec![
            ("by_sex_age", s("total"), "identified_child"),
            ("trend", y(), "identified_child"),
        ],
        vec![
            ("assistance", s("any_assistance"), "persons"),
            ("trend", y(), "any_assistance"),
        ],
        vec![
            ("assistance", s("allowance_paid"), "persons"),
            ("allowance", s("allowance_paid"), "persons"),
        ],
    ]
}

fn link(grids: &[Grid], year: i32) -> Linked {
    let mut at = Vec::new();
    let mut index: BTreeMap<(usize, usize, usize), usize> = BTreeMap::new();
    for (g, grid) in grids.iter().enumerate() {
        for (r, row) in grid.rows.iter().enumerate() {
            for c in 0..grid.columns.len().min(row.cells.len()) {
                index.insert((g, r, c), at.len());
                at.push((g, r, c));
            }
        }
    }
    let find = |table: &str, row: &str, col: &str| -> Option<usize> {
        let g = grids.iter().position(|t| t.id == table)?;
        let r = grids[g].rows.iter().position(|x| x.key == row)?;
        let c = grids[g].columns.iter().position(|x| x == col)?;
        index.get(&(g, r, c)).copied()
    };
    let mut constraints = Vec::new();
    for grid in grids {
        let id = grid.id.as_str();
        let rows_except = |except: &str, col: &str| -> Vec<usize> {
            grid.rows
                .iter()
                .filter(|r| r.key != except)
                .filter_map(|r| find(id, &r.key, col))
                .collect()
        };
        let multi_valued = |total_row: &str, constraints: &mut Vec<Constraint>| {
            for col in &grid.columns {
                if let Some(total) = find(id, total_row, col) {
                    let parts = rows_except(total_row, col);
                    for &p in &parts {
                        constraints.push(Constraint::AtMost {
                            cell: p,
                            bound: total,
                        });
                    }
                    constraints.push(Constraint::Cover { total, parts });
                }
            }
        };
        match id {
            "by_form" | "by_citizenship" => multi_valued("persons", &mut constraints),
            "assistance" => multi_valued("any_assistance", &mut constraints),
            "referrals" => {
                if let (Some(cell), Some(bound)) = (
                    find(id, "answered", "referrals"),
                    find(id, "made", "referrals"),
                ) {
                    constraints.push(Constraint::AtMost { cell, bound });
                }
            }
            "trend" => {
                for r in &grid.rows {
                    if let (Some(cell), Some(bound)) = (
                        find(id, &r.key, "identified_child"),
                        find(id, &r.key, "identified"),
                    ) {
                        constraints.push(Constraint::AtMost { cell, bound });
                    }
                }
            }
            _ if grid.rows.iter().any(|r| r.key == "total") => {
                for col in &grid.columns {
                    if let Some(total) = find(id, "total", col) {
                        constraints.push(Constraint::Sum {
                            total,
                            parts: rows_except("total", col),
                        });
                    }
                }
            }
            _ => {}
        }
        if id == "by_sex_age" {
            for r in &grid.rows {
                for group in ["identified", "presumed"] {
                    let total = find(id, &r.key, &format!("{group}_total"));
                    let parts: Vec<usize> = ["child", "adult", "age_unknown"]
                        .iter()
                        .filter_map(|a| find(id, &r.key, &format!("{group}_{a}")))
                        .collect();
                    if let Some(total) = total {
                        constraints.push(Constraint::Sum { total, parts });
                    }
                }
            }
        }
    }
    for figure in same_figures(&year.to_string()) {
        let cells: Vec<usize> = figure
            .iter()
            .filter_map(|(t, r, c)| find(t, r, c))
            .collect();
        if let Some((first, rest)) = cells.split_first() {
            for other in rest {
                constraints.push(Constraint::Sum {
                    total: *first,
                    parts: vec![*other],
                });
            }
        }
    }
    Linked { at, constraints }
}

fn grids_of(report: &NationalReport, trend: &Table) -> Vec<Grid> {
    report
        .tables
        .iter()
        .chain(std::iter::once(trend))
        .map(Grid::of)
        .collect()
}

/// Applies `d` to the report of one year and its trend, as one publication: exact for the
/// internal variant; for the public one, primary and complementary suppression over every
/// table together ([`super::sdc::protect`]), and every amount in a row with a hidden count.
pub fn disclose(
    mut report: NationalReport,
    mut trend: Table,
    d: Disclosure,
) -> (NationalReport, Table) {
    let Disclosure::Public { k } = d else {
        return (report, trend);
    };
    let grids = grids_of(&report, &trend);
    let linked = link(&grids, report.year);
    let values: Vec<i64> = linked
        .at
        .iter()
        .map(|(g, r, c)| grids[*g].rows[*r].cells[*c].value().unwrap_or(0))
        .collect();
    let hidden = protect(&values, &linked.constraints, k);
    let mut hide: BTreeMap<(usize, usize), Vec<&str>> = BTreeMap::new();
    for (i, (g, r, c)) in linked.at.iter().enumerate() {
        if hidden[i] {
            hide.entry((*g, *r))
                .or_default()
                .push(grids[*g].columns[*c].as_str());
        }
    }
    for (g, t) in report
        .tables
        .iter_mut()
        .chain(std::iter::once(&mut trend))
        .enumerate()
    {
        for (r, row) in t.rows.iter_mut().enumerate() {
            let Some(cols) = hide.get(&(g, r)) else {
                continue;
            };
            for (col, cell) in t.columns.iter().zip(row.cells.iter_mut()) {
                if col.kind == ColumnKind::AmountMinor || cols.contains(&col.key) {
                    *cell = Cell::Suppressed;
                }
            }
        }
    }
    (report, trend)
}

/// The disclosure audit of a published report: `exact` and `published` hold the same tables
/// (the internal and the public variant of one year, trend included); every sensitive hidden
/// cell whose feasible range, given every published number and the constraints, does not
/// cover `[1, k]`. A published cell that differs from the exact one is reported too (with
/// `range: None`).
pub fn audit_report(exact: &[Grid], published: &[Grid], year: i32, k: i64) -> Vec<ReportExposure> {
    let linked = link(exact, year);
    let mut values = Vec::new();
    let mut hidden = Vec::new();
    let mut out = Vec::new();
    let name = |(g, r, c): (usize, usize, usize)| {
        (
            exact[g].id.clone(),
            exact[g].rows[r].key.clone(),
            exact[g].columns[c].clone(),
        )
    };
    for &(g, r, c) in &linked.at {
        let v = exact[g].rows[r].cells[c].value().unwrap_or(0);
        let p = published
            .iter()
            .find(|t| t.id == exact[g].id)
            .and_then(|t| {
                let col = t.columns.iter().position(|x| *x == exact[g].columns[c])?;
                t.rows
                    .iter()
                    .find(|x| x.key == exact[g].rows[r].key)?
                    .cells
                    .get(col)
                    .copied()
            });
        match p {
            Some(Cell::Value(pv)) if pv == v => hidden.push(false),
            Some(Cell::Suppressed) => hidden.push(true),
            _ => {
                let (table, row, column) = name((g, r, c));
                out.push(ReportExposure {
                    table,
                    row,
                    column,
                    value: v,
                    range: None,
                });
                hidden.push(true);
            }
        }
        values.push(v);
    }
    for Exposure { cell, value, range } in
        super::sdc::audit(&values, &hidden, &linked.constraints, k)
    {
        let (table, row, column) = name(linked.at[cell]);
        out.push(ReportExposure {
            table,
            row,
            column,
            value,
            range,
        });
    }
    out
}

/// [`audit_report`] of domain tables (the report and its trend, exact and published).
pub fn audit_tables(
    exact: (&NationalReport, &Table),
    published: (&NationalReport, &Table),
    k: i64,
) -> Vec<ReportExposure> {
    audit_report(
        &grids_of(exact.0, exact.1),
        &grids_of(published.0, published.1),
        exact.0.year,
        k,
    )
}

#[cfg(test)]
mod tests {
    use super::super::{
        AllowanceFact, CaseRecord, DecisionFact, PersonKey, ReferralFact, ReportOptions,
        ScreeningFact, ServiceFact, StayFact, national_report, suppress, trend,
    };
    use super::*;
    use crate::referral::Service;
    use crate::vocab::{DecisionMakingOrg, Gender, OrgType, TraffickingStatus, TypeOfExploitation};
    use proptest::prelude::*;
    use time::{Date, Month};

    /// One person from a handful of small numbers (each picks a category).
    fn person(i: usize, x: [usize; 8]) -> CaseRecord {
        let day = |y: i32, n: usize| {
            Date::from_calendar_date(y, Month::January, 1)
                .map(|d| d + time::Duration::days((n % 360) as i64))
                .unwrap_or(Date::MIN)
        };
        let mut c = CaseRecord::new(PersonKey::new(format!("p{}", i % 1000)));
        c.gender = Gender::ALL.get(x[0] % (Gender::ALL.len() + 1)).copied();
        c.age_when_trafficked = Some([12, 16, 25, 40][x[1] % 4]);
        c.citizenship = match x[2] % 5 {
            0 => vec![],
            1 => vec!["AZ".into(), "RU".into()],
            2 => vec!["UZ".into()],
            _ => vec!["AZ".into()],
        };
        let forms = TypeOfExploitation::ALL;
        c.forms = (0..x[3] % 3)
            .filter_map(|j| forms.get((x[3] + j * 7) % forms.len()).copied())
            .collect();
        c.event_countries = match x[4] % 3 {
            0 => vec![],
            1 => vec!["AZ".into()],
            _ => vec!["TR".into()],
        };
        let year = 2024 + (x[5] % 2) as i32;
        if x[5] % 5 != 4 {
            c.decisions.push(DecisionFact {
                status: TraffickingStatus::ActualVictimOfTrafficking,
                decided_on: day(year, x[6] * 37),
                order: i as i64,
                decision_making_org: DecisionMakingOrg::ALL[x[6] % DecisionMakingOrg::ALL.len()],
            });
        }
        c.screenings.push(ScreeningFact {
            on: day(year, x[7] * 11),
            possible_victim: !x[7].is_multiple_of(7),
            org_type: OrgType::ALL.get(x[7] % (OrgType::ALL.len() + 1)).copied(),
        });
        if x[1].is_multiple_of(3) {
            c.stays.push(StayFact {
                state_shelter: x[2].is_multiple_of(2),
                admitted_on: day(year, x[3]),
                exited_on: None,
            });
        }
        let services = [
            Service::Medical,
            Service::PsychologicalCounselling,
            Service::LegalConsultation,
            Service::VocationalTraining,
            Service::JobPlacement,
            Service::ReturnHome,
        ];
        if x[6].is_multiple_of(2) {
            c.services.push(ServiceFact {
                service: services[x[4] % services.len()],
                started_on: day(year, x[5]),
                ended_on: None,
            });
        }
        if x[0].is_multiple_of(4) {
            c.allowances.push(AllowanceFact {
                paid_on: day(year, x[1]),
                amount_minor: 40_000,
            });
        }
        if x[7].is_multiple_of(3) {
            c.referrals.push(ReferralFact {
                made_on: day(year, x[2]),
                answered_on: x[3].is_multiple_of(2).then(|| day(year, x[2] + 1)),
            });
        }
        c
    }

    /// A dataset with large and many small cells: `n` persons from a fixed pseudo-random walk.
    fn dataset(n: usize) -> Vec<CaseRecord> {
        let mut s: u64 = 0x2545_F491_4F6C_DD1D;
        (0..n)
            .map(|i| {
                let mut x = [0usize; 8];
                for v in &mut x {
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    *v = (s % 1009) as usize;
                }
                person(i, x)
            })
            .collect()
    }

    fn both(records: &[CaseRecord], year: i32) -> (NationalReport, Table) {
        let opts = ReportOptions::default();
        (national_report(records, year, &opts), trend(records, &opts))
    }

    #[test]
    fn primary_suppression_of_the_report_is_disclosive() {
        let recs = dataset(400);
        let (report, tr) = both(&recs, 2025);
        let d = Disclosure::Public { k: 11 };
        let primary = suppress(report.clone(), d);
        let primary_trend = suppress(
            NationalReport {
                year: 2025,
                tables: vec![tr.clone()],
            },
            d,
        )
        .tables
        .remove(0);
        let exposed = audit_tables((&report, &tr), (&primary, &primary_trend), 11);
        assert!(!exposed.is_empty(), "primary suppression alone passed");
    }

    #[test]
    fn the_public_report_passes_the_audit() {
        for (n, k) in [(400, 11), (150, 5), (60, 11), (1000, 11)] {
            let recs = dataset(n);
            let (report, tr) = both(&recs, 2025);
            let (public, public_trend) =
                disclose(report.clone(), tr.clone(), Disclosure::Public { k });
            let exposed = audit_tables((&report, &tr), (&public, &public_trend), k);
            assert!(exposed.is_empty(), "n={n} k={k}: {exposed:?}");
            // Something is published: the report is not blanked out.
            let shown = public
                .tables
                .iter()
                .flat_map(|t| t.rows.iter().flat_map(|r| r.cells.iter()))
                .filter(|c| matches!(c, Cell::Value(v) if *v > 0))
                .count();
            assert!(n < 100 || shown > 0, "n={n}: nothing published");
        }
    }

    #[test]
    fn the_internal_report_is_exact() {
        let (report, tr) = both(&dataset(80), 2025);
        assert_eq!(
            disclose(report.clone(), tr.clone(), Disclosure::Internal),
            (report, tr)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// Random small populations: the public report passes the audit, and a published cell
        /// is never in 1..k.
        #[test]
        fn random_public_reports_pass_the_audit(
            xs in proptest::collection::vec(proptest::array::uniform8(0usize..1009), 0..80),
            k in 5i64..12,
        ) {
            let recs: Vec<CaseRecord> = xs.into_iter().enumerate().map(|(i, x)| person(i, x)).collect();
            let (report, tr) = both(&recs, 2025);
            let (public, public_trend) = disclose(report.clone(), tr.clone(), Disclosure::Public { k });
            let exposed = audit_tables((&report, &tr), (&public, &public_trend), k);
            prop_assert!(exposed.is_empty(), "{:?}", exposed);
            for t in public.tables.iter().chain(std::iter::once(&public_trend)) {
                for r in &t.rows {
                    for (c, col) in r.cells.iter().zip(&t.columns) {
                        if let (Cell::Value(v), ColumnKind::Count) = (c, col.kind) {
                            prop_assert!(!crate::statistics::sdc::sensitive(*v, k));
                        }
                    }
                }
            }
        }
    }
}
