//! The privacy-budget rule: a release may spend ε only while the total spent on the dataset
//! and period stays within the configured budget.

use super::ReleaseError;

/// Allows `requested` when `spent + requested ≤ budget`. Every value must be finite and not
/// negative, and `requested` positive; otherwise the error names `epsilon` (the request) or
/// `budget` (the ledger or its configuration).
pub fn check_budget(spent: f64, requested: f64, budget: f64) -> Result<(), ReleaseError> {
    if !requested.is_finite() || requested <= 0.0 {
        return Err(ReleaseError::Epsilon(
            "epsilon must be a positive number".into(),
        ));
    }
    if !spent.is_finite() || spent < 0.0 || !budget.is_finite() || budget < 0.0 {
        return Err(ReleaseError::Budget {
            spent,
            requested,
            budget,
            remaining: 0.0,
        });
    }
    if spent + requested > budget {
        return Err(ReleaseError::Budget {
            spent,
            requested,
            budget,
            remaining: (budget - spent).max(0.0),
        });
    }
    Ok(())
}
