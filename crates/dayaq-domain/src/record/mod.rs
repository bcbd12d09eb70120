//! The rest of the case record around the person: HTCDS "Historic Trafficking Events"
//! (`hte_*`), perpetrator roles (`per_RoleInProcess`, `per_RoleDetails`; no perpetrator
//! identity), dependants (children) linked to the case, and the case status life cycle
//! (`cas_Status` changes, closure with `cas_ReasonForCaseClosure`, explicit reopening, new
//! episodes after re-trafficking).
//!
//! Inputs arrive with HTCDS keys as strings so that every error names its field; `validate`
//! turns them into valid values or a list of field errors. Pure rules: no I/O, no clock (the
//! caller passes today's date).
//!
//! One file per part (`events`, `perpetrators`, `dependants`, `status`; tests in `tests.rs`),
//! all re-exported here: `dayaq_domain::record::X` names every item.

use crate::case::{MAX_LONG_TEXT, MAX_SHORT_TEXT, parse_date};
use crate::error::{FieldError, ValidationErrors};
use crate::policy::Section;
use crate::vocab::{CaseStatus, Gender, parse_country};
use serde::{Deserialize, Serialize};
use time::Date;

/// Need-to-know: trafficking events are part of the victim context (with the recruitment
/// method, places and methods of control).
pub const EVENTS_SECTION: Section = Section::VictimContext;
/// Perpetrator roles belong with the criminal-justice part of the record (legal section):
/// a legal-consultation referral sees them, a vocational-training one does not.
pub const PERPETRATORS_SECTION: Section = Section::Legal;
/// Dependants (children, their care and schooling needs) belong to the assistance plan: the
/// children-schooling service is granted the plan section.
pub const DEPENDANTS_SECTION: Section = Section::Plan;
/// Reasons for status changes are free text and are shown with the notes, like
/// `cas_ReasonForCaseClosure` on the case itself.
pub const STATUS_REASON_SECTION: Section = Section::Notes;

/// Defines a closed list whose string form is exactly the variant name (see
/// `vocab::closed_enum`).
macro_rules! value_list {
    ($($t:tt)*) => { crate::vocab::closed_enum!("not an allowed value for", $($t)*); };
}

value_list!(
    /// HTCDS `hte_Type`.
    EventType, "hte_Type", [Recruitment, Transit, Exploitation]
);

value_list!(
    /// HTCDS `per_RoleInProcess` (multiselect).
    PerpetratorRole, "per_RoleInProcess",
    [TravellingPartner, Transporter, RecruiterOrIntermediary, BrokerTravelAgent,
     TransferredIndividual, HarbouredIndividual, SoldIndividual, BoughtIndividual,
     ReceivedIndividual, ControlledIndividual, Smuggler, Abuser, Kidnapper, Exploiter, Other]
);

value_list!(
    /// A dependant's relation to the person (HTCDS has no list; ours).
    Relation, "relation", [Child, Stepchild, Grandchild, Sibling, OtherDependant]
);

impl Relation {
    /// Whether this dependant is one of the person's children counted by HTCDS
    /// `prs_NumberOfChildren` (her own children and stepchildren she raises).
    pub fn counts_as_child(self) -> bool {
        matches!(self, Relation::Child | Relation::Stepchild)
    }
}

fn check_text(errs: &mut ValidationErrors, field: &str, v: &mut Option<String>, max: usize) {
    if let Some(s) = v.as_deref() {
        let t = s.trim();
        if t.is_empty() {
            *v = None;
            return;
        }
        if t.chars().count() > max {
            errs.push(FieldError::new(
                field,
                "too_long",
                format!("{field} is longer than {max} characters"),
            ));
        }
        if t.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            errs.push(FieldError::new(
                field,
                "control_characters",
                format!("{field} contains control characters"),
            ));
        }
        *v = Some(t.to_string());
    }
}

fn required(field: &str) -> FieldError {
    FieldError::new(field, "required", format!("{field} is required"))
}

mod dependants;
mod events;
mod perpetrators;
mod status;
#[cfg(test)]
mod tests;

pub use dependants::*;
pub use events::*;
pub use perpetrators::*;
pub use status::*;
