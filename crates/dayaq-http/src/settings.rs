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

/// The app-wide request body limit: 8 MiB, or an attachment of the configured largest size
/// plus its multipart framing (issue #21). Every other route keeps its own smaller limit
/// (axum's 2 MB default for JSON and forms, [`UPLOAD_LIMIT`] for imports).
pub(crate) fn request_body_limit(attachment_max_bytes: u64) -> usize {
    let attachment = usize::try_from(attachment_max_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(1024 * 1024);
    attachment.max(8 * 1024 * 1024)
}
