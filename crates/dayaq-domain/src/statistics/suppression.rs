//! Disclosure control for the public variant: primary suppression of small cells.
//!
//! The coordinator's internal view is exact. A public export hides every count cell with
//! 0 < n < k (k = 11 unless configured; never below 5) and every money amount in a row where a
//! count was hidden. This is primary suppression only: the public report goes through
//! [`super::disclose`], which adds complementary suppression (`sdc`), so that no hidden cell
//! can be recomputed from totals.

use super::{Cell, ColumnKind, NationalReport};
use crate::error::FieldError;

/// The threshold unless configured.
pub const DEFAULT_K: i64 = 11;
/// No configuration may go below this.
pub const MIN_K: i64 = 5;

/// Which variant of the report: the coordinator's exact one, or the public one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disclosure {
    Internal,
    Public { k: i64 },
}

impl Disclosure {
    /// The public variant with threshold `k` (`None`: [`DEFAULT_K`]); `k` below [`MIN_K`] is
    /// refused.
    pub fn public(k: Option<i64>) -> Result<Self, FieldError> {
        let k = k.unwrap_or(DEFAULT_K);
        if !(MIN_K..=1_000_000).contains(&k) {
            return Err(FieldError::new(
                "k",
                "out_of_range",
                format!("k must be at least {MIN_K}"),
            ));
        }
        Ok(Disclosure::Public { k })
    }

    pub fn name(self) -> &'static str {
        match self {
            Disclosure::Internal => "internal",
            Disclosure::Public { .. } => "public",
        }
    }

    pub fn k(self) -> Option<i64> {
        match self {
            Disclosure::Internal => None,
            Disclosure::Public { k } => Some(k),
        }
    }
}

/// Applies `d` to every table of the report (the internal variant is returned unchanged).
pub fn suppress(mut report: NationalReport, d: Disclosure) -> NationalReport {
    let Disclosure::Public { k } = d else {
        return report;
    };
    for t in &mut report.tables {
        let kinds: Vec<ColumnKind> = t.columns.iter().map(|c| c.kind).collect();
        for row in &mut t.rows {
            let mut hid = false;
            for (cell, kind) in row.cells.iter_mut().zip(&kinds) {
                if *kind == ColumnKind::Count
                    && let Cell::Value(n) = *cell
                    && n > 0
                    && n < k
                {
                    *cell = Cell::Suppressed;
                    hid = true;
                }
            }
            if hid {
                for (cell, kind) in row.cells.iter_mut().zip(&kinds) {
                    if *kind == ColumnKind::AmountMinor {
                        *cell = Cell::Suppressed;
                    }
                }
            }
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::super::{Column, Row, Table};
    use super::*;
    use proptest::prelude::*;

    fn report(cells: Vec<i64>, amount: i64) -> NationalReport {
        let mut columns: Vec<Column> = (0..cells.len())
            .map(|_| Column {
                key: "n",
                kind: ColumnKind::Count,
            })
            .collect();
        columns.push(Column {
            key: "amount",
            kind: ColumnKind::AmountMinor,
        });
        let mut cells: Vec<Cell> = cells.into_iter().map(Cell::Value).collect();
        cells.push(Cell::Value(amount));
        NationalReport {
            year: 2025,
            tables: vec![Table {
                id: "t",
                unit: "persons",
                columns,
                rows: vec![Row {
                    key: "r".into(),
                    cells,
                }],
                not_recorded: None,
            }],
        }
    }

    #[test]
    fn k_is_never_below_five() {
        assert!(Disclosure::public(Some(4)).is_err());
        assert_eq!(
            Disclosure::public(Some(5)).ok(),
            Some(Disclosure::Public { k: 5 })
        );
        assert_eq!(
            Disclosure::public(None).ok(),
            Some(Disclosure::Public { k: 11 })
        );
    }

    #[test]
    fn internal_is_exact() {
        let r = report(vec![1, 2, 30], 40_000);
        assert_eq!(suppress(r.clone(), Disclosure::Internal), r);
    }

    proptest! {
        /// No published count lies in 1..k; zeros and counts from k on are exact; an amount
        /// is hidden exactly when a count in its row is.
        #[test]
        fn no_small_cell_is_published(cells in proptest::collection::vec(0i64..40, 1..6), k in 5i64..20, amount in 0i64..1_000_000) {
            let r = suppress(report(cells.clone(), amount), Disclosure::Public { k });
            let row = &r.tables[0].rows[0];
            let mut hid = false;
            for (i, n) in cells.iter().enumerate() {
                match row.cells[i] {
                    Cell::Value(v) => { prop_assert_eq!(v, *n); prop_assert!(v == 0 || v >= k); }
                    Cell::Suppressed => { prop_assert!(*n > 0 && *n < k); hid = true; }
                }
            }
            let last = row.cells[cells.len()];
            prop_assert_eq!(last == Cell::Suppressed, hid);
        }
    }
}
