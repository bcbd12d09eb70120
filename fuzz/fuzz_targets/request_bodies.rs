//! Request parsing of the other JSON bodies of the API: screening, identification decision,
//! consent, search. The first byte picks the body type; the rest is the JSON.
#![no_main]

use dayaq_domain::identification::{DecisionInput, ScreeningInput};
use dayaq_storage::cases::SearchQuery;
use dayaq_storage::identification::ConsentInput;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, json)) = data.split_first() else {
        return;
    };
    let today = time::macros::date!(2026 - 01 - 31);
    match which % 4 {
        0 => {
            if let Ok(s) = serde_json::from_slice::<ScreeningInput>(json) {
                let (act, means, purpose, child) = (s.act, s.means, s.purpose, s.is_child);
                if let Ok(v) = s.validate() {
                    assert_eq!(
                        v.possible_victim,
                        dayaq_domain::identification::is_possible_victim(
                            act, means, purpose, child
                        )
                    );
                }
            }
        }
        1 => {
            if let Ok(d) = serde_json::from_slice::<DecisionInput>(json)
                && let Ok(v) = d.validate(today)
            {
                assert!(!v.reference.is_empty() && v.reference.chars().count() <= 100);
            }
        }
        2 => {
            let _ = serde_json::from_slice::<ConsentInput>(json);
        }
        _ => {
            let _ = serde_json::from_slice::<SearchQuery>(json);
        }
    }
});
