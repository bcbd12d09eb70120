//! Assistance: needs assessments, the individual rehabilitation plan (HTCDS `spl_`), shelter
//! facilities and stays (length-of-stay rule), the one-time allowance (once per person,
//! enforced by a UNIQUE index). Free text in the survivor's words is sealed with the case key.

mod allowance;
mod funding;
mod needs;
mod plan;
mod services;
mod shelter;

pub use allowance::*;
pub use funding::*;
pub use needs::*;
pub use plan::*;
pub use services::*;
pub use shelter::*;

use crate::kernel::case_keys::{open_text as open, seal_text as seal};
use crate::kernel::{CaseAccess, Ctx};
use crate::kernel::{one_row, ts, uuid_of};
use crate::{Result, Store, StoreError, millis, unique_as};
use dayaq_domain::assistance::{
    ActionFact, ActionStatus, ExitDestination, GoalFact, GoalTerm, NeedDomain, NeedFact, PlanGaps,
    PlanType, STATE_SHELTER_MAX_STAY_DAYS, Severity, StayState, allowance_eligibility, fmt_date,
    parse_date, plan_gaps, stay_state,
};
use dayaq_domain::policy::{Action, Resource, Section, decide};
use dayaq_domain::referral::Service;
use dayaq_domain::stats::Cell;
use dayaq_domain::vocab::TraffickingStatus;
use dayaq_domain::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use time::Date;
use uuid::Uuid;

const MAX_TEXT: usize = 4000;

fn invalid(e: FieldError) -> StoreError {
    ValidationErrors::single(e).into()
}
fn text_ok(errs: &mut ValidationErrors, field: &str, s: Option<&str>) {
    if s.is_some_and(|s| s.chars().count() > MAX_TEXT) {
        errs.push(FieldError::new(
            field,
            "too_long",
            format!("{field} is too long"),
        ));
    }
}
fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}
fn opt_date(field: &str, s: &Option<String>, errs: &mut ValidationErrors) -> Option<Date> {
    match nonempty(s) {
        Some(v) => parse_date(field, v).map_err(|e| errs.push(e)).ok(),
        None => None,
    }
}

impl Store {
    fn audit_entry(
        ctx: &Ctx<'_>,
        action: &'static str,
        case: &str,
        detail: String,
    ) -> crate::audit::AuditEntry {
        let mut e = ctx.entry(action, "success", case);
        e.detail = detail;
        e
    }
}
