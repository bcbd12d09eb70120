//! Rules of practice API (issue #17 part 4): the recovery and reflection period (setting and a
//! case's dates), the admission rules of shelter facilities, the refusals they caused by
//! reason, and her priorities on a rehabilitation plan. Changing a rule is the national
//! coordinator's (`ManagePracticeRules`, asked before the body is typed); audited in storage.

use super::common::{Body, OnPath, UpdateCase, typed};
use crate::AppState;
use crate::api::{ApiJson, ApiQuery};
use crate::auth::Authed;
use crate::error::AppError;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use dayaq_domain::{FieldError, ValidationErrors};
use dayaq_storage::rules::{
    AdmissionRulesInput, CaseReflection, FacilityRules, PrioritiesInput, ReflectionSetting,
    RefusalCount,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::{Date, Month};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_reflection, set_reflection))
        .routes(routes!(case_reflection))
        .routes(routes!(list_facility_rules, set_facility_rules))
        .routes(routes!(refusal_counts))
        .routes(routes!(set_priorities))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReflectionInput {
    /// Length of the recovery and reflection period in days (at least 30, CoE art. 13).
    pub days: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaseReflectionBody {
    /// Null before any contact or presumed-victim screening.
    pub period: Option<CaseReflection>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FacilityRulesList {
    pub facilities: Vec<FacilityRules>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RefusalCountList {
    pub year: i32,
    pub refusals: Vec<RefusalCount>,
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RefusalQuery {
    /// The calendar year (default: this year).
    pub year: Option<String>,
}

#[utoipa::path(get, path = "/rules/reflection-period", tag = "rules",
    responses((status = 200, description = "The installation's recovery and reflection period", body = ReflectionSetting)))]
async fn get_reflection(
    State(state): State<AppState>,
    _a: Authed,
) -> Result<Json<ReflectionSetting>, AppError> {
    Ok(Json(state.store.reflection_setting().await?))
}

#[utoipa::path(put, path = "/rules/reflection-period", tag = "rules",
    request_body(content = ReflectionInput, description = "{days} — at least 30"),
    responses((status = 200, description = "Changed (national coordinator; audited)", body = ReflectionSetting)))]
async fn set_reflection(
    State(state): State<AppState>,
    a: Authed,
    ApiJson(raw): ApiJson<Value>,
) -> Result<Json<ReflectionSetting>, AppError> {
    let cx = a.cx();
    state.store.authorize_rules(&cx).await?;
    let input: ReflectionInput = typed(raw)?;
    Ok(Json(
        state.store.set_reflection_days(&cx, input.days).await?,
    ))
}

#[utoipa::path(get, path = "/cases/{id}/reflection-period", tag = "rules",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "The case's reflection period: start, end, whether it runs today", body = CaseReflectionBody)))]
async fn case_reflection(
    State(state): State<AppState>,
    r: OnPath,
) -> Result<Json<CaseReflectionBody>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    Ok(Json(CaseReflectionBody {
        period: state.store.case_reflection(&ctx, id).await?,
    }))
}

#[utoipa::path(get, path = "/rules/facilities", tag = "rules",
    responses((status = 200, description = "Every shelter facility with its admission rules", body = FacilityRulesList)))]
async fn list_facility_rules(
    State(state): State<AppState>,
    _a: Authed,
) -> Result<Json<FacilityRulesList>, AppError> {
    Ok(Json(FacilityRulesList {
        facilities: state.store.facility_rules().await?,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FacilityRulesInput {
    /// The shelter facility (UUID).
    pub facility_id: uuid::Uuid,
    /// Admit only a survivor whose legal section says she cooperates with law enforcement.
    /// International standards (CoE Convention art. 12(6)) say assistance must not depend on it.
    pub requires_cooperation: bool,
}

#[utoipa::path(put, path = "/rules/facilities", tag = "rules",
    request_body(content = FacilityRulesInput, description = "{facility_id, requires_cooperation}"),
    responses((status = 200, description = "Changed (national coordinator; audited)", body = FacilityRules)))]
async fn set_facility_rules(
    State(state): State<AppState>,
    a: Authed,
    ApiJson(raw): ApiJson<Value>,
) -> Result<Json<FacilityRules>, AppError> {
    let cx = a.cx();
    state.store.authorize_rules(&cx).await?;
    let input: FacilityRulesInput = typed(raw)?;
    let rules = AdmissionRulesInput {
        requires_cooperation: input.requires_cooperation,
    };
    Ok(Json(
        state
            .store
            .set_admission_rules(&cx, input.facility_id, &rules)
            .await?,
    ))
}

#[utoipa::path(get, path = "/rules/admission-refusals", tag = "rules",
    params(RefusalQuery),
    responses((status = 200, description = "Admissions refused by a facility rule in the year, by reason (national coordinator; counts only)", body = RefusalCountList)))]
async fn refusal_counts(
    State(state): State<AppState>,
    a: Authed,
    ApiQuery(q): ApiQuery<RefusalQuery>,
) -> Result<Json<RefusalCountList>, AppError> {
    let cx = a.cx();
    let year = match q.year.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => a.now.year(),
        Some(y) => y
            .parse::<i32>()
            .ok()
            .filter(|y| (1900..=9999).contains(y))
            .ok_or_else(|| {
                AppError::Invalid(ValidationErrors::single(FieldError::new(
                    "year",
                    "invalid_value",
                    "year must be a calendar year",
                )))
            })?,
    };
    let (from, to) = year_bounds(year)?;
    Ok(Json(RefusalCountList {
        year,
        refusals: state.store.admission_refusal_counts(&cx, from, to).await?,
    }))
}

fn year_bounds(year: i32) -> Result<(Date, Date), AppError> {
    let bad = |_| {
        AppError::Invalid(ValidationErrors::single(FieldError::new(
            "year",
            "invalid_value",
            "year must be a calendar year",
        )))
    };
    Ok((
        Date::from_calendar_date(year, Month::January, 1).map_err(bad)?,
        Date::from_calendar_date(year, Month::December, 31).map_err(bad)?,
    ))
}

#[utoipa::path(put, path = "/cases/{id}/plans/{plan_id}/priorities", tag = "rules",
    params(("id" = String, Path, description = "Case id (UUID)"), ("plan_id" = String, Path, description = "Plan id (UUID)")),
    request_body(content = PrioritiesInput, description = "{words} — her priorities in her words (sealed); empty removes them"),
    responses((status = 204, description = "Saved (the audit row names the plan only)")))]
async fn set_priorities(
    State(state): State<AppState>,
    r: Body<PrioritiesInput, UpdateCase, 2>,
) -> Result<StatusCode, AppError> {
    let ([id, plan], ctx, input) = (r.ids, r.auth.cx(), r.body);
    state
        .store
        .set_plan_priorities(&ctx, id, plan, &input)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
