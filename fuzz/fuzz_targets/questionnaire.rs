//! The questionnaire importer (`POST /api/v1/followups/questionnaire/import`), its pure part:
//! reading a CSV or XLSX file and checking every row. Never panics; every row problem names
//! a row of the file. The first byte picks CSV (even) or XLSX (odd); an odd second byte
//! prefixes a valid header so that the fuzzer spends its time on rows.
#![no_main]

use dayaq_storage::followup::parse_questionnaire;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [kind, hdr, rest @ ..] = data else {
        return;
    };
    let xlsx = kind & 1 == 1;
    let mut bytes = Vec::with_capacity(rest.len() + 128);
    if !xlsx && hdr & 1 == 1 {
        bytes.extend_from_slice(b"case_number,round,assessed_on,assistance_needed_words\r\n");
    }
    bytes.extend_from_slice(rest);
    let lines = bytes
        .iter()
        .filter(|b| **b == b'\n' || **b == b'\r')
        .count()
        + 2;
    if let Ok(rows) = parse_questionnaire(&bytes, xlsx) {
        for r in &rows {
            assert!(r.row >= 2);
            if !xlsx {
                assert!(r.row <= lines, "row {} beyond the file", r.row);
            }
            let prefix = format!("row {}.", r.row);
            for e in &r.errors {
                assert!(e.field.starts_with(&prefix), "{} not on its row", e.field);
            }
            assert_eq!(
                r.assessed_on.is_none(),
                r.errors
                    .iter()
                    .any(|e| e.field.ends_with(".assessed_on") && e.code == "invalid_date")
            );
        }
    }
});
