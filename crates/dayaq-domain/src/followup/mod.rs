//! Long-term follow-up rules: the survivor's contact protocol, the follow-up schedule,
//! the reintegration questionnaire (IOM domains) with trajectories, and re-trafficking risk
//! flags. Pure rules: no I/O, no clock — time is passed in.
//!
//! One file per part (`protocol`, `schedule`, `questionnaire`, `risk`; tests in `tests.rs`),
//! all re-exported here: `dayaq_domain::followup::X` names every item.

use crate::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::{Date, Month, OffsetDateTime, UtcOffset};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Per-question summary
// ---------------------------------------------------------------------------------------------

/// Counts per question and answer code over a set of assessments (multi-choice: each chosen
/// code counts once per assessment). Rows in questionnaire order; codes in listed order.
pub fn summarise(all: &[Answers]) -> Vec<(&'static str, &'static str, i64)> {
    let mut out = Vec::new();
    for q in QUESTIONS {
        for code in q.codes {
            let n = all
                .iter()
                .filter(|a| a.get(q.key).is_some_and(|v| v.iter().any(|c| c == code)))
                .count() as i64;
            out.push((q.key, *code, n));
        }
    }
    out
}

mod checkin;
mod protocol;
mod questionnaire;
mod risk;
mod schedule;
#[cfg(test)]
mod tests;

pub use checkin::*;
pub use protocol::*;
pub use questionnaire::*;
pub use risk::*;
pub use schedule::*;
