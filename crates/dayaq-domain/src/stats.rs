//! Aggregation rules for statistics that expose no one: small cells are suppressed.

use crate::statistics::SUPPRESSED_MARK;
use crate::statistics::sdc::{Constraint, protect};
use serde::Serialize;

/// Cells with fewer cases than this (but more than zero) are not published.
pub const MIN_CELL: i64 = 5;

/// A published count: exact, or suppressed (shown as [`SUPPRESSED_MARK`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Cell {
    Count(i64),
    Suppressed(&'static str),
}

impl Cell {
    pub fn of(n: i64) -> Cell {
        if n > 0 && n < MIN_CELL {
            Cell::Suppressed(SUPPRESSED_MARK)
        } else {
            Cell::Count(n)
        }
    }
}

/// Publishes linked counts (a total and its parts, a question and its answers …): primary
/// suppression below [`MIN_CELL`], then complementary suppression so that no hidden count can
/// be recomputed, or narrowed below `[1, MIN_CELL]`, from the published ones and the
/// `constraints` ([`crate::statistics::sdc`]; the same rule as the public national report).
pub fn publish(values: &[i64], constraints: &[Constraint]) -> Vec<Cell> {
    protect(values, constraints, MIN_CELL)
        .into_iter()
        .zip(values)
        .map(|(hidden, n)| {
            if hidden {
                Cell::Suppressed(SUPPRESSED_MARK)
            } else {
                Cell::Count(*n)
            }
        })
        .collect()
}

/// [`publish`] for a total (first) and groupings of it that each add up to it (the home card:
/// cases by status, by sex, by trafficking status). Returns the total and the groupings.
pub fn publish_breakdowns(total: i64, groupings: &[Vec<i64>]) -> (Cell, Vec<Vec<Cell>>) {
    let mut values = vec![total];
    let mut constraints = Vec::new();
    for g in groupings {
        let parts: Vec<usize> = (values.len()..values.len() + g.len()).collect();
        values.extend(g.iter().copied());
        constraints.push(Constraint::Sum { total: 0, parts });
    }
    let cells = publish(&values, &constraints);
    let mut rest = cells.iter().copied().skip(1);
    let groups = groupings
        .iter()
        .map(|g| rest.by_ref().take(g.len()).collect())
        .collect();
    (cells.first().copied().unwrap_or(Cell::Count(0)), groups)
}

impl std::fmt::Display for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cell::Count(n) => write!(f, "{n}"),
            Cell::Suppressed(s) => f.write_str(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_breakdown_never_leaves_one_hidden_cell_next_to_its_total() {
        // 30 cases = 27 + 3: hiding only the 3 tells it (30 − 27).
        let (total, groups) = publish_breakdowns(30, &[vec![27, 3], vec![10, 20, 0]]);
        assert_eq!(total, Cell::Count(30));
        assert_eq!(
            groups[0],
            vec![
                Cell::Suppressed(SUPPRESSED_MARK),
                Cell::Suppressed(SUPPRESSED_MARK)
            ]
        );
        assert_eq!(
            groups[1],
            vec![Cell::Count(10), Cell::Count(20), Cell::Count(0)]
        );
    }

    proptest! {
        /// Random home-card breakdowns: the LP audit finds no hidden count narrower than
        /// [1, MIN_CELL].
        #[test]
        fn breakdowns_pass_the_audit(a in proptest::collection::vec(0i64..12, 1..6), b in proptest::collection::vec(0i64..12, 1..6)) {
            let total: i64 = a.iter().sum();
            let mut b = b;
            let sb: i64 = b.iter().sum();
            if sb < total { b.push(total - sb); } else { b = vec![total]; }
            let (t, groups) = publish_breakdowns(total, &[a.clone(), b.clone()]);
            let mut values = vec![total];
            values.extend(&a);
            values.extend(&b);
            let cells: Vec<Cell> = std::iter::once(t).chain(groups.into_iter().flatten()).collect();
            let hidden: Vec<bool> = cells.iter().map(|c| matches!(c, Cell::Suppressed(_))).collect();
            let cons = vec![
                Constraint::Sum { total: 0, parts: (1..=a.len()).collect() },
                Constraint::Sum { total: 0, parts: (a.len() + 1..values.len()).collect() },
            ];
            prop_assert!(crate::statistics::sdc::audit(&values, &hidden, &cons, MIN_CELL).is_empty());
        }

        #[test]
        fn small_nonzero_cells_never_published(n in 0i64..1000) {
            match Cell::of(n) {
                Cell::Count(c) => prop_assert!(c == 0 || c >= MIN_CELL),
                Cell::Suppressed(_) => prop_assert!(n > 0 && n < MIN_CELL),
            }
        }
    }
}
