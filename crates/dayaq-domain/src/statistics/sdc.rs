//! Statistical disclosure control for every published table of small counts: primary
//! suppression below `k`, then **complementary suppression** so that no hidden cell can be
//! recomputed (or narrowed down) from the published cells and the table's totals, checked by
//! linear programming — the audit that τ-ARGUS performs (docs/STATISTICS.md, "Disclosure
//! control").
//!
//! A table (or a set of linked tables) is a vector of count cells and the [`Constraint`]s a
//! reader knows: totals are sums of their parts, a multi-valued table's parts are each at most
//! its `persons` total and together at least it, the same figure shown twice is equal.
//!
//! **Protection rule.** A cell is *sensitive* when 1 ≤ n < k. For every sensitive hidden cell,
//! the feasible range `[low, high]` (over the reals: minimise and maximise the cell subject to
//! every published number, the constraints and non-negativity) must cover the protection
//! interval `[1, k]`: `low ≤ 1` and `high ≥ k`. The reader can then not tell the cell from one
//! person, nor from a count large enough to publish. Hidden cells that are not sensitive (zeros,
//! counts ≥ k hidden to protect another) need no interval.
//!
//! [`protect`] hides the sensitive cells, then, in every sum with exactly one hidden member,
//! the smallest non-zero other member (to a fixed point), then audits with [`audit`] and hides
//! the smallest non-zero published cell next to every exposed one until the audit passes. If
//! that ever fails (the solver gives up), every cell linked to the exposed one is hidden.

use good_lp::{
    Expression, ProblemVariables, Solution, SolverModel, Variable, constraint, microlp, variable,
};
use std::collections::{BTreeMap, BTreeSet};

/// A fact about the published cells that any reader knows (indexes into the cell vector).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constraint {
    /// `total = Σ parts` (a margin; with one part: the same figure shown twice).
    Sum { total: usize, parts: Vec<usize> },
    /// `cell ≤ bound` (a part of a multi-valued table and its `persons` total; answered ≤ made).
    AtMost { cell: usize, bound: usize },
    /// `Σ parts ≥ total` (multi-valued: every person is in at least one part).
    Cover { total: usize, parts: Vec<usize> },
    /// `Σ parts ≤ total` (a single-choice question that not everyone answered).
    Within { total: usize, parts: Vec<usize> },
}

impl Constraint {
    /// Every cell the constraint mentions (the total first).
    pub fn members(&self) -> Vec<usize> {
        match self {
            Constraint::Sum { total, parts }
            | Constraint::Cover { total, parts }
            | Constraint::Within { total, parts } => std::iter::once(*total)
                .chain(parts.iter().copied())
                .collect(),
            Constraint::AtMost { cell, bound } => vec![*bound, *cell],
        }
    }
}

/// A count that primary suppression hides: 1 ≤ n < k.
pub fn sensitive(n: i64, k: i64) -> bool {
    n > 0 && n < k
}

/// The range a reader can infer for one hidden cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub low: f64,
    pub high: f64,
}

/// No count reaches this; it bounds the LP so that it is never unbounded.
const CAP: f64 = 1e9;
const EPS: f64 = 1e-6;

impl Range {
    /// Whether the range covers the protection interval `[1, k]`.
    pub fn protects(self, k: i64) -> bool {
        self.low <= 1.0 + EPS && self.high >= k as f64 - EPS
    }
}

/// A sensitive hidden cell whose feasible range is narrower than the protection interval
/// (`range: None` when the solver found no answer, which counts as exposed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exposure {
    pub cell: usize,
    pub value: i64,
    pub range: Option<Range>,
}

/// For every cell, the indexes of the constraints that mention it.
fn by_cell(n: usize, constraints: &[Constraint]) -> Vec<Vec<usize>> {
    let mut m = vec![Vec::new(); n];
    for (i, c) in constraints.iter().enumerate() {
        for j in c.members() {
            if let Some(v) = m.get_mut(j) {
                v.push(i);
            }
        }
    }
    m
}

/// The hidden cells linked to `cell` through constraints (the LP separates into these
/// components), and the constraints that mention them.
fn component(
    cell: usize,
    hidden: &[bool],
    constraints: &[Constraint],
    index: &[Vec<usize>],
) -> (BTreeSet<usize>, BTreeSet<usize>) {
    let mut cells = BTreeSet::from([cell]);
    let mut cons = BTreeSet::new();
    let mut todo = vec![cell];
    while let Some(c) = todo.pop() {
        for &ci in index.get(c).map(Vec::as_slice).unwrap_or(&[]) {
            if !cons.insert(ci) {
                continue;
            }
            for m in constraints[ci].members() {
                if hidden.get(m).copied().unwrap_or(false) && cells.insert(m) {
                    todo.push(m);
                }
            }
        }
    }
    (cells, cons)
}

/// Minimum or maximum of `cell` subject to the published numbers and the constraints.
fn optimise(
    published: &[Option<i64>],
    constraints: &[Constraint],
    cells: &BTreeSet<usize>,
    cons: &BTreeSet<usize>,
    cell: usize,
    maximise: bool,
) -> Option<f64> {
    let mut pv = ProblemVariables::new();
    let vars: BTreeMap<usize, Variable> = cells
        .iter()
        .map(|&c| (c, pv.add(variable().min(0.0).max(CAP))))
        .collect();
    let term = |i: usize| -> Expression {
        match vars.get(&i) {
            Some(v) => Expression::from(*v),
            None => Expression::from(published.get(i).copied().flatten().unwrap_or(0) as f64),
        }
    };
    let sum = |parts: &[usize]| -> Expression { parts.iter().map(|&p| term(p)).sum() };
    let objective = *vars.get(&cell)?;
    let problem = if maximise {
        pv.maximise(objective)
    } else {
        pv.minimise(objective)
    };
    let mut model = problem.using(microlp);
    for &ci in cons {
        let c = match &constraints[ci] {
            Constraint::Sum { total, parts } => constraint::eq(sum(parts), term(*total)),
            Constraint::AtMost { cell, bound } => constraint::leq(term(*cell), term(*bound)),
            Constraint::Cover { total, parts } => constraint::geq(sum(parts), term(*total)),
            Constraint::Within { total, parts } => constraint::leq(sum(parts), term(*total)),
        };
        model = model.with(c);
    }
    let solution = model.solve().ok()?;
    Some(solution.value(objective))
}

/// The feasible range of the hidden cell `cell` given every published number (`None` =
/// hidden) and the constraints; `None` when the solver found no answer (e.g. the published
/// numbers contradict the constraints).
pub fn feasible_range(
    published: &[Option<i64>],
    constraints: &[Constraint],
    cell: usize,
) -> Option<Range> {
    let hidden: Vec<bool> = published.iter().map(Option::is_none).collect();
    let index = by_cell(published.len(), constraints);
    let (cells, cons) = component(cell, &hidden, constraints, &index);
    Some(Range {
        low: optimise(published, constraints, &cells, &cons, cell, false)?,
        high: optimise(published, constraints, &cells, &cons, cell, true)?,
    })
}

/// The disclosure audit: every sensitive hidden cell whose feasible range does not cover the
/// protection interval `[1, k]`. `values` are the exact counts, `hidden` what is not
/// published.
pub fn audit(values: &[i64], hidden: &[bool], constraints: &[Constraint], k: i64) -> Vec<Exposure> {
    let published: Vec<Option<i64>> = values
        .iter()
        .zip(hidden)
        .map(|(v, h)| (!h).then_some(*v))
        .collect();
    values
        .iter()
        .enumerate()
        .filter(|(i, v)| hidden.get(*i).copied().unwrap_or(false) && sensitive(**v, k))
        .filter_map(|(cell, v)| {
            let range = feasible_range(&published, constraints, cell);
            match range {
                Some(r) if r.protects(k) => None,
                _ => Some(Exposure {
                    cell,
                    value: *v,
                    range,
                }),
            }
        })
        .collect()
}

/// The published cell to hide next to the exposed `cell`: the smallest non-zero published
/// member of a constraint that mentions `cell` or a hidden cell linked to it (nearest first);
/// a zero only when there is no other.
fn complement(
    cell: usize,
    values: &[i64],
    hidden: &[bool],
    constraints: &[Constraint],
    index: &[Vec<usize>],
) -> Option<usize> {
    let mut seen_cells = BTreeSet::from([cell]);
    let mut seen_cons = BTreeSet::new();
    let mut frontier = vec![cell];
    let mut zero = None;
    while !frontier.is_empty() {
        let mut best: Option<usize> = None;
        let mut next = Vec::new();
        for c in frontier {
            for &ci in index.get(c).map(Vec::as_slice).unwrap_or(&[]) {
                if !seen_cons.insert(ci) {
                    continue;
                }
                for m in constraints[ci].members() {
                    if hidden.get(m).copied().unwrap_or(true) {
                        if seen_cells.insert(m) {
                            next.push(m);
                        }
                    } else if values[m] > 0 {
                        if best.is_none_or(|b| values[m] < values[b]) {
                            best = Some(m);
                        }
                    } else if zero.is_none() {
                        zero = Some(m);
                    }
                }
            }
        }
        if best.is_some() {
            return best;
        }
        frontier = next;
    }
    zero
}

/// Primary and complementary suppression: which cells to hide so that the audit passes.
pub fn protect(values: &[i64], constraints: &[Constraint], k: i64) -> Vec<bool> {
    let mut hidden: Vec<bool> = values.iter().map(|v| sensitive(*v, k)).collect();
    if !hidden.iter().any(|h| *h) {
        return hidden;
    }
    let index = by_cell(values.len(), constraints);
    // 1. No sum with exactly one hidden member (it would be its total minus the others).
    loop {
        let mut changed = false;
        for c in constraints {
            if let Constraint::Sum { .. } = c {
                let members = c.members();
                if members.iter().filter(|m| hidden[**m]).count() == 1
                    && let Some(j) = members
                        .iter()
                        .copied()
                        .filter(|m| !hidden[*m] && values[*m] > 0)
                        .min_by_key(|m| values[*m])
                {
                    hidden[j] = true;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    // 2. Audit; hide one more cell next to each exposure until none is left.
    for _ in 0..values.len() {
        let exposed = audit(values, &hidden, constraints, k);
        if exposed.is_empty() {
            return hidden;
        }
        let mut touched: BTreeSet<usize> = BTreeSet::new();
        let mut added = false;
        for e in exposed {
            if index[e.cell].iter().any(|ci| touched.contains(ci)) {
                continue; // one of its lines changed this round: audit it again first
            }
            if let Some(j) = complement(e.cell, values, &hidden, constraints, &index) {
                hidden[j] = true;
                added = true;
                touched.extend(index[j].iter().copied());
            }
        }
        if !added {
            break;
        }
    }
    // 3. Last resort: hide everything linked to a cell still exposed.
    for e in audit(values, &hidden, constraints, k) {
        let all = vec![true; values.len()];
        let (cells, _) = component(e.cell, &all, constraints, &index);
        for c in cells {
            hidden[c] = true;
        }
    }
    hidden
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A rows × columns table with row totals, column totals and a grand total; cells are
    /// numbered row by row, the totals column last in every row, the totals row last.
    fn grid(body: &[Vec<i64>]) -> (Vec<i64>, Vec<Constraint>) {
        let rows = body.len();
        let cols = body.first().map_or(0, Vec::len);
        let w = cols + 1;
        let mut values = Vec::new();
        for r in body {
            values.extend(r.iter().copied());
            values.push(r.iter().sum());
        }
        for c in 0..=cols {
            values.push((0..rows).map(|r| values[r * w + c]).sum());
        }
        let mut cons = Vec::new();
        for r in 0..=rows {
            cons.push(Constraint::Sum {
                total: r * w + cols,
                parts: (0..cols).map(|c| r * w + c).collect(),
            });
        }
        for c in 0..=cols {
            cons.push(Constraint::Sum {
                total: rows * w + c,
                parts: (0..rows).map(|r| r * w + c).collect(),
            });
        }
        (values, cons)
    }

    #[test]
    fn primary_suppression_alone_is_disclosive() {
        // 3 | 20 || 23
        // 30| 40 || 70
        // 33| 60 || 93 : hiding only the 3 leaves it = 23 − 20.
        let (values, cons) = grid(&[vec![3, 20], vec![30, 40]]);
        let primary: Vec<bool> = values.iter().map(|v| sensitive(*v, 11)).collect();
        let exposed = audit(&values, &primary, &cons, 11);
        assert_eq!(exposed.len(), 1);
        let r = exposed[0].range.map(|r| (r.low.round(), r.high.round()));
        assert_eq!(r, Some((3.0, 3.0)));
    }

    /// docs/STATISTICS.md, "Disclosure control", worked example (k = 11).
    #[test]
    fn worked_example_of_the_docs() {
        //            child adult total
        // Feminine     3    40    43
        // Masculine   12    25    37
        // total       15    65    80
        let (values, cons) = grid(&[vec![3, 40], vec![12, 25]]);
        let primary: Vec<bool> = values.iter().map(|v| sensitive(*v, 11)).collect();
        let exposed = audit(&values, &primary, &cons, 11);
        assert_eq!(exposed.len(), 1, "43 − 40 = 3");
        let hidden = protect(&values, &cons, 11);
        let hidden_at: Vec<usize> = (0..values.len()).filter(|i| hidden[*i]).collect();
        assert_eq!(hidden_at, vec![0, 1, 3, 4]);
        let published: Vec<Option<i64>> = values
            .iter()
            .zip(&hidden)
            .map(|(v, h)| (!h).then_some(*v))
            .collect();
        let r = feasible_range(&published, &cons, 0).map(|r| (r.low.round(), r.high.round()));
        assert_eq!(r, Some((0.0, 15.0)));
        assert!(audit(&values, &hidden, &cons, 11).is_empty());
    }

    #[test]
    fn complementary_suppression_protects_and_keeps_most_cells() {
        let (values, cons) = grid(&[vec![3, 20, 15], vec![30, 40, 12], vec![25, 18, 50]]);
        let hidden = protect(&values, &cons, 11);
        assert!(audit(&values, &hidden, &cons, 11).is_empty());
        assert!(hidden[0]);
        assert!(hidden.iter().filter(|h| **h).count() < values.len() / 2);
    }

    #[test]
    fn two_small_cells_in_a_line_are_not_enough() {
        // 2 + 3 + 40 = 45: hiding 2 and 3 tells that both are ≤ 5 < k.
        let values = vec![2, 3, 40, 45];
        let cons = vec![Constraint::Sum {
            total: 3,
            parts: vec![0, 1, 2],
        }];
        let hidden = vec![true, true, false, false];
        assert_eq!(audit(&values, &hidden, &cons, 11).len(), 2);
        let hidden = protect(&values, &cons, 11);
        assert!(audit(&values, &hidden, &cons, 11).is_empty());
    }

    #[test]
    fn multi_valued_tables_bound_by_persons() {
        // forms 4, 30, 0; persons 31 (one person in two forms). 4 ≥ 31 − 30 = 1: low ≤ 1;
        // high = 31 ≥ 11: protected without a complement.
        let values = vec![4, 30, 0, 31];
        let cons = vec![
            Constraint::AtMost { cell: 0, bound: 3 },
            Constraint::AtMost { cell: 1, bound: 3 },
            Constraint::AtMost { cell: 2, bound: 3 },
            Constraint::Cover {
                total: 3,
                parts: vec![0, 1, 2],
            },
        ];
        let hidden = protect(&values, &cons, 11);
        assert_eq!(hidden, vec![true, false, false, false]);
        assert!(audit(&values, &hidden, &cons, 11).is_empty());
        // persons 34 = 30 + 4 and nobody in two forms: the cover tells a reader the 4 is ≥ 4.
        let values = vec![4, 30, 0, 34];
        let r = feasible_range(&[None, Some(30), Some(0), Some(34)], &cons, 0);
        assert_eq!(
            r.map(|r| (r.low.round(), r.high.round())),
            Some((4.0, 34.0))
        );
        let hidden = protect(&values, &cons, 11);
        assert_eq!(hidden, vec![true, true, false, false]);
        assert!(audit(&values, &hidden, &cons, 11).is_empty());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// Random tables with many small cells: after `protect`, the LP audit finds no hidden
        /// sensitive cell narrower than [1, k]; every published cell is exact and not in 1..k;
        /// not every cell is hidden when some total is large.
        #[test]
        fn protected_tables_pass_the_audit(
            body in proptest::collection::vec(proptest::collection::vec(0i64..25, 2..5), 2..5),
            k in 5i64..12,
        ) {
            let cols = body[0].len();
            let body: Vec<Vec<i64>> = body.into_iter().map(|mut r| { r.resize(cols, 0); r }).collect();
            let (values, cons) = grid(&body);
            let hidden = protect(&values, &cons, k);
            let exposed = audit(&values, &hidden, &cons, k);
            prop_assert!(exposed.is_empty(), "exposed: {:?}", exposed);
            for (v, h) in values.iter().zip(&hidden) {
                if !h { prop_assert!(!sensitive(*v, k)); }
                else { prop_assert!(*v >= 0); }
            }
        }
    }
}
