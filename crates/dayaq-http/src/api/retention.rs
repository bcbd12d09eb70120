//! Retention API (issue #17 part 3): the organisation's retention rules, the preview of what
//! the daily job erases, and legal holds on cases. The job itself runs in `serve` and by
//! `dayaq retention run`, not over HTTP.

use super::common::{Act, ApiQuery, Body, ErrorBody, OnPath, OrgBody};
use crate::AppState;
use crate::auth::Authed;
use crate::error::AppError;
use axum::Json;
use axum::extract::State;
use dayaq_domain::policy::Action;
use dayaq_storage::retention::{LegalHold, RetentionPreview, RetentionRules};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Routes under /api/v1 (register each with `routes!` so OpenAPI lists it).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_rules, put_rule))
        .routes(routes!(preview))
        .routes(routes!(get_hold, put_hold))
        .routes(routes!(lift_hold))
}

/// Checks `Action::ManageRetention` on the organisation before typing the body.
pub(crate) struct ManageRetention;
impl Act for ManageRetention {
    const ACTION: Option<Action> = Some(Action::ManageRetention);
}

/// Checks `Action::HoldCase` on the case before typing the body.
pub(crate) struct HoldCase;
impl Act for HoldCase {
    const ACTION: Option<Action> = Some(Action::HoldCase);
}

#[utoipa::path(get, path = "/retention/rules", tag = "retention",
    responses((status = 200, description = "The organisation's rule per record kind (months, legal minimum, default, whether the job executes it); supervisors of the organisation", body = RetentionRules)))]
async fn get_rules(
    State(state): State<AppState>,
    a: Authed,
) -> Result<Json<RetentionRules>, AppError> {
    let ctx = a.cx();
    Ok(Json(state.store.retention_rules(&ctx).await?))
}

/// One retention rule.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    /// case_identity, case_notes, contacts_without_case, sessions, audit_rows.
    pub kind: String,
    /// Months after closure (after the contact; after the session's last use); at least the
    /// kind's legal minimum.
    pub months: i64,
}

#[utoipa::path(put, path = "/retention/rules", tag = "retention",
    request_body(content = RuleInput, description = "{kind, months}; a supervisor of the organisation; audited"),
    responses((status = 200, description = "All rules of the organisation after the change", body = RetentionRules),
              (status = 422, description = "Field `kind` (invalid_value) or `months` (below_legal_minimum, too_large)", body = ErrorBody)))]
async fn put_rule(
    State(state): State<AppState>,
    r: OrgBody<RuleInput, ManageRetention>,
) -> Result<Json<RetentionRules>, AppError> {
    let ctx = r.auth.cx();
    Ok(Json(
        state
            .store
            .set_retention_rule(&ctx, r.body.kind.trim(), r.body.months)
            .await?,
    ))
}

#[derive(Debug, Deserialize)]
pub struct PreviewQuery {
    /// Days ahead (0–3660, default 90).
    #[serde(default)]
    pub days: Option<i64>,
}

#[utoipa::path(get, path = "/retention/preview", tag = "retention",
    params(("days" = Option<i64>, Query, description = "Horizon in days from today (0-3660, default 90)")),
    responses((status = 200, description = "The records the daily job erases until today + days, grouped by kind and day, and listed by id; audited", body = RetentionPreview),
              (status = 422, description = "Field `days`", body = ErrorBody)))]
async fn preview(
    State(state): State<AppState>,
    a: Authed,
    ApiQuery(q): ApiQuery<PreviewQuery>,
) -> Result<Json<RetentionPreview>, AppError> {
    let ctx = a.cx();
    Ok(Json(
        state
            .store
            .retention_preview(&ctx, q.days.unwrap_or(90))
            .await?,
    ))
}

#[utoipa::path(get, path = "/cases/{id}/legal-hold", tag = "retention",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "{case_id, held, reason, set_at}", body = LegalHold)))]
async fn get_hold(State(state): State<AppState>, r: OnPath) -> Result<Json<LegalHold>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    Ok(Json(state.store.legal_hold(&ctx, id).await?))
}

/// A legal hold's reason.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldInput {
    /// Setting: prosecution, civil_claim, survivor_request, court_order. Lifting:
    /// proceedings_ended, order_lifted, survivor_request, set_in_error.
    pub reason: String,
}

#[utoipa::path(put, path = "/cases/{id}/legal-hold", tag = "retention",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = HoldInput, description = "{reason}; a supervisor of the owning organisation; audited"),
    responses((status = 200, description = "The case is under hold: retention never shreds it", body = LegalHold),
              (status = 422, description = "Field `reason`", body = ErrorBody)))]
async fn put_hold(
    State(state): State<AppState>,
    r: Body<HoldInput, HoldCase>,
) -> Result<Json<LegalHold>, AppError> {
    let ([id], ctx) = (r.ids, r.auth.cx());
    Ok(Json(
        state
            .store
            .set_legal_hold(&ctx, id, r.body.reason.trim())
            .await?,
    ))
}

#[utoipa::path(post, path = "/cases/{id}/legal-hold/lift", tag = "retention",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = HoldInput, description = "{reason}; a supervisor of the owning organisation; audited"),
    responses((status = 200, description = "The hold is lifted (a case without one is left as it is)", body = LegalHold),
              (status = 422, description = "Field `reason`", body = ErrorBody)))]
async fn lift_hold(
    State(state): State<AppState>,
    r: Body<HoldInput, HoldCase>,
) -> Result<Json<LegalHold>, AppError> {
    let ([id], ctx) = (r.ids, r.auth.cx());
    Ok(Json(
        state
            .store
            .lift_legal_hold(&ctx, id, r.body.reason.trim())
            .await?,
    ))
}
