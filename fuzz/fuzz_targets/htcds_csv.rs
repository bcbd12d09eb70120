//! The HTCDS CSV importer (`dayaq import htcds FILE.csv`, POST /htcds/import): never panics,
//! and every problem it reports names a row within the file. An odd first byte prefixes the
//! input with a header of every HTCDS column, so that the fuzzer spends its time on rows.
#![no_main]

use dayaq_storage::htcds::{COLUMNS, Format, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let mut bytes = Vec::with_capacity(rest.len() + 1024);
    if first & 1 == 1 {
        let header: Vec<&str> = COLUMNS.iter().map(|c| c.name).collect();
        bytes.extend_from_slice(header.join(",").as_bytes());
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(rest);
    let today = time::macros::date!(2026 - 01 - 31);
    let lines = bytes
        .iter()
        .filter(|b| **b == b'\n' || **b == b'\r')
        .count() as u64
        + 2;
    match parse(&bytes, Format::Csv, today) {
        Ok(p) => assert!(p.cases.len() as u64 <= lines),
        Err(e) => {
            assert!(!e.errors.is_empty());
            for r in &e.errors {
                assert!(r.row <= lines, "row {} beyond the file", r.row);
            }
        }
    }
});
