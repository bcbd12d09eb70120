//! HTCDS import and export (being written).
