//! HTCDS import/export tests (being written).
