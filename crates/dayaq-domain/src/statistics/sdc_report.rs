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
