//! Aggregation rules for statistics that expose no one: small cells are suppressed.

use serde::Serialize;

/// Cells with fewer cases than this (but more than zero) are not published.
pub const MIN_CELL: i64 = 5;

/// A published count: exact, or suppressed as "fewer than MIN_CELL".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Cell {
    Count(i64),
    Suppressed(&'static str),
}

impl Cell {
    pub fn of(n: i64) -> Cell {
        if n > 0 && n < MIN_CELL {
            Cell::Suppressed("<5")
        } else {
            Cell::Count(n)
        }
    }
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

    proptest! {
        #[test]
        fn small_nonzero_cells_never_published(n in 0i64..1000) {
            match Cell::of(n) {
                Cell::Count(c) => prop_assert!(c == 0 || c >= MIN_CELL),
                Cell::Suppressed(_) => prop_assert!(n > 0 && n < MIN_CELL),
            }
        }
    }
}
