//! The referral mechanism: service directory, consent-scoped referrals that grant
//! need-to-know access, break-glass, in-app notifications, and the criminal-justice link.

mod break_glass;
mod directory;
mod legal;
mod notifications;
mod received;
mod referral;

pub use directory::*;
pub use legal::*;
pub use notifications::*;
pub use received::*;
pub use referral::*;

use crate::audit::append;
use crate::crypto::field_aad;
use crate::kernel::Ctx;
use crate::kernel::{ts, uuid_of};
use crate::{Result, Store, StoreError, millis};
use dayaq_domain::policy::{Action, Resource, decide};
use dayaq_domain::referral::{
    Eligibility, EligibilityFacts, ReferralEvent, ReferralState, Service, Side, Travel,
    check_travel, details_readable, transition, unmet,
};
use dayaq_domain::vocab::{Gender, ReferralReason, TraffickingStatus};
use dayaq_domain::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use uuid::Uuid;

fn invalid(field: &str, code: &'static str, msg: &str) -> StoreError {
    ValidationErrors::single(FieldError::new(field, code, msg)).into()
}

pub(crate) use crate::kernel::access::ENDED_BY_CONSENT;

fn b(v: bool) -> i64 {
    i64::from(v)
}

/// The services an input lists (`services[i]` names a bad one), each once, in input order;
/// an empty list is `required` on `services`.
pub(crate) fn parse_services(list: &[String], errs: &mut ValidationErrors) -> Vec<Service> {
    let mut services = Vec::new();
    for (i, s) in list.iter().enumerate() {
        match Service::parse_for(&format!("services[{i}]"), s) {
            Ok(s) if !services.contains(&s) => services.push(s),
            Ok(_) => {}
            Err(e) => errs.push(e),
        }
    }
    if list.is_empty() {
        errs.push(FieldError::new(
            "services",
            "required",
            "name at least one service",
        ));
    }
    services
}
