//! End-to-end browser tests (being written).
