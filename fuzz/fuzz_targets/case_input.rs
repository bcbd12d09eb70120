//! Request parsing of a case (POST/PUT /api/v1/cases, and every importer's row): JSON into
//! `CaseInput`, then `validate`. Never panics; a valid case re-validates to itself
//! (validation is idempotent on its own output).
#![no_main]

use dayaq_domain::case::{CaseInput, ValidCase};
use libfuzzer_sys::fuzz_target;

fn back(v: &ValidCase) -> CaseInput {
    CaseInput {
        identity: v.identity.clone(),
        context: v.context.clone(),
        gender: v.gender.map(|g| g.as_str().to_string()),
        citizenship: v.citizenship.clone(),
        age_when_trafficked: v.age_when_trafficked,
        types_of_exploitation: v
            .types_of_exploitation
            .iter()
            .map(|t| t.as_str().to_string())
            .collect(),
        status: Some(v.status.as_str().to_string()),
        reason_for_closure: v.reason_for_closure.clone(),
    }
}

fuzz_target!(|data: &[u8]| {
    let today = time::macros::date!(2026 - 01 - 31);
    let Ok(input) = serde_json::from_slice::<CaseInput>(data) else {
        return;
    };
    match input.validate(today) {
        Ok(valid) => {
            let again = back(&valid).validate(today);
            assert_eq!(
                again.as_ref().ok(),
                Some(&valid),
                "validation is not idempotent"
            );
            // Attribute rows round-trip (what storage writes to case_values).
            let values: Vec<(String, String)> = valid
                .context
                .to_values()
                .into_iter()
                .map(|(f, v)| (f.to_string(), v))
                .collect();
            let rebuilt = dayaq_domain::case::VictimContext::from_values(&values);
            assert_eq!(rebuilt.to_values(), valid.context.to_values());
        }
        Err(e) => assert!(!e.errors.is_empty(), "an error without a field"),
    }
});
