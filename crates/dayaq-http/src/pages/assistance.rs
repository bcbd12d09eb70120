//! Assistance screens on the case page: needs assessment, the individual rehabilitation plan
//! with its gaps, supervisor approval, services delivered, shelter stays (length-of-stay rule)
//! and the one-time allowance; the supervisor's "waiting for approval" list on the home page.

use super::form::{
    Back, CaseForm, CaseForms, FieldErrs, FormSpec, Opt, Posted, lang_of, opt_value, value,
};
use crate::AppState;
use crate::auth::{Authed, PageUser};
use crate::error::AppError;
use crate::i18n::Tr;
use crate::pages::{CasePart, Chrome, error_page, error_text, see_other};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use dayaq_domain::assistance::{STATE_SHELTER_MAX_STAY_DAYS, StayState};
use dayaq_domain::policy::{Action, Resource, Section, decide};
use dayaq_domain::referral::Service;
use dayaq_domain::{Role, ValidationErrors};
use dayaq_storage::StoreError;
use dayaq_storage::assistance::{
    ActionInput, AdmissionInput, AssessmentInput, FacilityInput, GoalInput, GrantInput, NeedInput,
    PlanInput, ServiceInput,
};
use dayaq_storage::cases::Ctx;
use uuid::Uuid;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/cases/{id}/assistance/assessment", post(assessment_submit))
        .route("/cases/{id}/assistance/plan", post(plan_submit))
        .route("/cases/{id}/assistance/goal", post(goal_submit))
        .route("/cases/{id}/assistance/action", post(action_submit))
        .route(
            "/cases/{id}/assistance/action-done",
            post(action_done_submit),
        )
        .route("/cases/{id}/assistance/agree", post(agree_submit))
        .route("/cases/{id}/assistance/approve", post(approve_submit))
        .route("/cases/{id}/assistance/service", post(service_submit))
        .route("/cases/{id}/assistance/allowance", post(allowance_submit))
        .route(
            "/cases/{id}/assistance/payment-status",
            post(payment_status_submit),
        )
        .route("/shelters", get(shelters_page).post(facility_submit))
        .route("/cases/{id}/shelter", get(case_shelter_page))
        .route("/cases/{id}/shelter/admit", post(admit_submit))
        .route("/cases/{id}/shelter/extension", post(extension_submit))
        .route(
            "/cases/{id}/shelter/extension-approve",
            post(extension_approve_submit),
        )
        .route("/cases/{id}/shelter/exit", post(exit_submit))
        .route("/funding", get(funding_page))
        .route("/funding/sources", post(source_submit))
        .route("/funding/grants", post(grant_submit))
}

const DOMAINS: &[(&str, &str)] = &[
    ("Safety", "asst-d-safety"),
    ("PhysicalHealth", "asst-d-physical-health"),
    ("MentalHealth", "asst-d-mental-health"),
    ("Legal", "asst-d-legal"),
    ("Housing", "asst-d-housing"),
    ("EmploymentIncome", "asst-d-employment-income"),
    ("EducationSkills", "asst-d-education-skills"),
    ("FamilySocial", "asst-d-family-social"),
    ("Dependants", "asst-d-dependants"),
];
const SEVERITIES: &[(&str, &str)] = &[
    ("None", "asst-sev-none"),
    ("Low", "asst-sev-low"),
    ("Medium", "asst-sev-medium"),
    ("High", "asst-sev-high"),
];
const PLAN_TYPES: &[(&str, &str)] = &[
    ("Education", "asst-t-education"),
    ("Financial", "asst-t-financial"),
    ("Health", "asst-t-health"),
    ("LabourExploitationRehabilitation", "asst-t-labour"),
    ("Legal", "asst-t-legal"),
    ("Livelihood", "asst-t-livelihood"),
    ("RightsBasedTraining", "asst-t-rights"),
    ("SexualExploitationRehabilitation", "asst-t-sexual"),
    ("SocialCare", "asst-t-social"),
];
const TERMS: &[(&str, &str)] = &[
    ("ShortTerm", "asst-term-short"),
    ("LongTerm", "asst-term-long"),
];
const ACTION_STATUSES: &[(&str, &str)] = &[
    ("Planned", "asst-st-planned"),
    ("InProgress", "asst-st-inprogress"),
    ("Done", "asst-st-done"),
    ("Cancelled", "asst-st-cancelled"),
];
const OUTCOMES: &[(&str, &str)] = &[
    ("Ongoing", "asst-o-ongoing"),
    ("Completed", "asst-o-completed"),
    ("Discontinued", "asst-o-discontinued"),
    ("Declined", "asst-o-declined"),
];
const PAYMENT_STATUSES: &[(&str, &str)] = &[
    ("Requested", "asst-pay-requested"),
    ("Paid", "asst-pay-paid"),
    ("Cancelled", "asst-pay-cancelled"),
];

fn label(t: &Tr, table: &[(&str, &str)], code: &str) -> String {
    table
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, k)| t.get(k))
        .unwrap_or_else(|| code.to_string())
}
fn opts(t: &Tr, table: &[(&str, &str)]) -> Vec<Opt> {
    table
        .iter()
        .map(|(c, k)| Opt {
            value: (*c).into(),
            label: t.get(k),
        })
        .collect()
}
fn service_label(t: &Tr, s: &str) -> String {
    t.get(&format!("service-{}", s.to_lowercase()))
}
fn money(minor: i64) -> String {
    format!("{}.{:02} AZN", minor / 100, minor % 100)
}

// ---------------------------------------------------------------------------------------------
// Form handlers

fn opt_uuid(form: &[(String, String)], key: &str) -> Option<Uuid> {
    opt_value(form, key).and_then(|v| Uuid::parse_str(&v).ok())
}

/// Case forms of assistance go back to `#assistance`; "already exists" is shown by its field.
const BACK: Back = Back {
    anchor: "assistance",
    text: error_text,
    conflict_by_field: true,
};

macro_rules! case_uuid {
    ($state:expr, $a:expr, $id:expr) => {
        match crate::paths::parse_id(&$id) {
            Ok(u) => u,
            Err(_) => return error_page(&$state, None, lang_of(&$a), AppError::NotFound),
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Shelter, funding and payment-status screens. Every form posts to a handler that calls the
// same storage method as the API; a refused form comes back with the values entered and each
// error next to its field (plus a summary at the top).

const EXIT_DESTINATIONS: &[(&str, &str)] = &[
    ("Family", "asst-exit-family"),
    ("IndependentHousing", "asst-exit-independent"),
    ("OtherShelter", "asst-exit-other-shelter"),
    ("ReturnHome", "asst-exit-return-home"),
    ("Hospital", "asst-exit-hospital"),
    ("Unknown", "asst-exit-unknown"),
    ("Other", "asst-exit-other"),
];
const FUNDING_KINDS: &[(&str, &str)] = &[
    ("StateBudget", "fund-kind-state"),
    ("VictimAssistanceFund", "fund-kind-fund"),
    ("Donor", "fund-kind-donor"),
    ("Other", "fund-kind-other"),
];

fn field_err(field: &str, code: &'static str, msg: &str) -> ValidationErrors {
    ValidationErrors::single(dayaq_domain::FieldError::new(field, code, msg))
}

/// An amount typed in major units ("400", "400.5", "400,50") as minor units.
fn parse_money(field: &str, s: &str) -> Result<i64, ValidationErrors> {
    let s = s.trim().replace(',', ".");
    if s.is_empty() {
        return Ok(0);
    }
    let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) || frac.len() > 2 || whole.len() > 12 {
        return Err(field_err(field, "invalid_value", "not an amount"));
    }
    let whole: i64 = whole
        .parse()
        .map_err(|_| field_err(field, "invalid_value", "not an amount"))?;
    let frac: i64 = format!("{frac:0<2}")
        .parse()
        .map_err(|_| field_err(field, "invalid_value", "not an amount"))?;
    Ok(whole * 100 + frac)
}

/// A whole number typed into a form; empty gives `default`.
fn parse_int(field: &str, s: &str, default: i64) -> Result<i64, ValidationErrors> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(default);
    }
    s.parse()
        .map_err(|_| field_err(field, "invalid_number", "not a whole number"))
}

/// Collects parse errors of several fields.
fn gather(results: &[&Result<i64, ValidationErrors>]) -> Option<ValidationErrors> {
    let mut all = ValidationErrors::default();
    for r in results {
        if let Err(e) = r {
            for fe in &e.errors {
                all.push(fe.clone());
            }
        }
    }
    (!all.errors.is_empty()).then_some(all)
}

fn page_error(state: &AppState, a: &Authed, nav: &'static str, e: AppError) -> Response {
    let c = Chrome::for_user(state, a, nav);
    let lang = c.t.lang;
    error_page(state, Some(c), lang, e)
}

/// The form's own parse errors together with the storage method's validation, so that every
/// field's problem shows at once. The caller passes values storage refuses in place of the
/// unreadable ones, so nothing is written when `mine` holds errors.
fn merged<T>(mine: Option<ValidationErrors>, r: Result<T, StoreError>) -> Result<T, StoreError> {
    let Some(mut all) = mine else {
        return r;
    };
    match r {
        Err(StoreError::Invalid(v)) => {
            for e in v.errors {
                if !all.errors.iter().any(|m| m.field == e.field) {
                    all.push(e);
                }
            }
            Err(StoreError::Invalid(all))
        }
        Err(e @ (StoreError::NotFound | StoreError::Forbidden(_))) => Err(e),
        _ => Err(StoreError::Invalid(all)),
    }
}

/// Validation-like refusals become form errors; everything else an error page.
fn form_errors(e: StoreError) -> Result<ValidationErrors, AppError> {
    match e {
        StoreError::Invalid(v) => Ok(v),
        StoreError::AlreadyExists(w) => Ok(field_err(w, "already_exists", "already exists")),
        e => Err(e.into()),
    }
}

/// Which assistance links the navigation shows: (shelters, funding).
pub(crate) fn nav_links(a: &Authed) -> (bool, bool) {
    let (manage, national) = may_see_funding(&a.actor);
    (shelters_in_nav(a.user.role), manage || national)
}

mod case;
mod document;
mod funding;
mod plan;
mod shelter;

pub(crate) use case::{case_section, home_section};
pub(crate) use document::plan_document;
use funding::*;
use plan::*;
use shelter::*;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn money_is_parsed_in_major_units() {
        assert_eq!(parse_money("x", "400").ok(), Some(40_000));
        assert_eq!(parse_money("x", "400,5").ok(), Some(40_050));
        assert_eq!(parse_money("x", " 12.34 ").ok(), Some(1_234));
        assert_eq!(parse_money("x", "").ok(), Some(0));
        for bad in ["-1", "1.234", "abc", ".5", "1e3", "1.2.3"] {
            let e = parse_money("amount_minor", bad).unwrap_err();
            assert_eq!(e.errors[0].field, "amount_minor", "{bad}");
        }
        assert_eq!(amount(123_456_789, "USD"), "1\u{a0}234\u{a0}567.89 USD");
        assert_eq!(amount(5, "AZN"), "0.05 AZN");
    }

    #[test]
    fn field_errors_stay_with_their_form() {
        let t = Tr::new(Lang::En);
        let mut v = ValidationErrors::default();
        v.push(dayaq_domain::FieldError::new("beds", "out_of_range", "x"));
        let e = FieldErrs::of(&t, "facility", &v);
        assert!(e.get("facility", "beds").is_some());
        assert!(e.get("facility", "name").is_none());
        assert!(e.get("other", "beds").is_none());
        assert!(
            e.attrs("facility", "beds", "f-beds-err")
                .contains("aria-invalid")
        );
        assert_eq!(e.summary.len(), 1);
    }
}
