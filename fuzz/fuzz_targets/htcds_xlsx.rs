//! The HTCDS XLSX importer on arbitrary bytes (a ZIP of XML parts): never panics.
#![no_main]

use dayaq_storage::htcds::{Format, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let today = time::macros::date!(2026 - 01 - 31);
    if let Err(e) = parse(data, Format::Xlsx, today) {
        assert!(!e.errors.is_empty());
    }
});
