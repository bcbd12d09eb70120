//! Settings the pages and the JSON API share (no handler imports them from the other side):
//! the upload body limit and the allowance amount.

use dayaq_domain::assistance::DEFAULT_ALLOWANCE_MINOR;

/// Largest accepted upload (HTCDS imports, off-platform packages), in bytes.
pub const UPLOAD_LIMIT: usize = 8 * 1024 * 1024;

/// The one-time allowance in minor units: `DAYAQ_ALLOWANCE_MINOR` when set to a positive
/// integer, else the domain's default.
pub(crate) fn allowance_amount() -> i64 {
    std::env::var("DAYAQ_ALLOWANCE_MINOR")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|v| *v > 0)
        .unwrap_or(DEFAULT_ALLOWANCE_MINOR)
}
