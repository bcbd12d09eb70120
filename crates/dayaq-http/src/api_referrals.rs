//! Referral API: directory, referrals (consent-scoped, need-to-know), break-glass,
//! notifications, and the criminal-justice link.

use crate::AppState;
use crate::api::{ApiJson, ApiQuery, case_id};
use crate::auth::Authed;
use crate::error::AppError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dayaq_domain::referral::ReferralEvent;
use dayaq_storage::referrals::{LegalInput, ReferralInput, ServiceOffer};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(directory))
        .routes(routes!(set_service))
        .routes(routes!(coverage))
        .routes(routes!(list_case_referrals, create_referral))
        .routes(routes!(referral_inbox))
        .routes(routes!(referral_outbox))
        .routes(routes!(get_referral))
        .routes(routes!(referral_action))
        .routes(routes!(break_glass))
        .routes(routes!(notifications))
        .routes(routes!(get_legal, set_legal))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct DirQuery {
    /// A service of the catalogue (e.g. VocationalTraining).
    service: Option<String>,
    /// A region (e.g. Baku, Ganja-Gazakh).
    region: Option<String>,
}

#[utoipa::path(get, path = "/directory", tag = "referral", params(DirQuery),
    responses((status = 200, description = "Who can help with X in region Y", body = Value), (status = 401, body = Value)))]
async fn directory(
    State(state): State<AppState>,
    _a: Authed,
    ApiQuery(q): ApiQuery<DirQuery>,
) -> Result<Json<Value>, AppError> {
    let entries = state
        .store
        .directory(q.service.as_deref(), q.region.as_deref())
        .await?;
    Ok(Json(json!({ "services": entries })))
}

#[utoipa::path(put, path = "/directory/{org}", tag = "referral",
    params(("org" = String, Path, description = "Organisation slug")),
    request_body(content = Value, description = "{service, region, city, languages, opening_hours, capacity, requires_police_cooperation, requires_criminal_case, requires_identified_victim, women_only, children_only, adults_only}"),
    responses((status = 204), (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value), (status = 422, body = Value)))]
async fn set_service(
    State(state): State<AppState>,
    a: Authed,
    Path(org): Path<String>,
    ApiJson(offer): ApiJson<ServiceOffer>,
) -> Result<StatusCode, AppError> {
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    state.store.set_service(&ctx, &org, &offer).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/directory/coverage", tag = "referral",
    responses((status = 200, description = "Services offered per region (gaps are the missing ones)", body = Value), (status = 401, body = Value)))]
async fn coverage(State(state): State<AppState>, _a: Authed) -> Result<Json<Value>, AppError> {
    let all: Vec<&str> = dayaq_domain::referral::Service::ALL
        .iter()
        .map(|s| s.as_str())
        .collect();
    let regions: Vec<Value> = state
        .store
        .coverage()
        .await?
        .into_iter()
        .map(|(region, offered)| {
            let missing: Vec<&str> = all
                .iter()
                .copied()
                .filter(|s| !offered.iter().any(|o| o == s))
                .collect();
            json!({"region": region, "offered": offered, "missing": missing})
        })
        .collect();
    Ok(Json(json!({ "regions": regions })))
}

#[utoipa::path(get, path = "/cases/{id}/referrals", tag = "referral",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, body = Value), (status = 401, body = Value), (status = 404, body = Value)))]
async fn list_case_referrals(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    Ok(Json(
        json!({ "referrals": state.store.case_referrals(&ctx, id).await? }),
    ))
}

#[utoipa::path(post, path = "/cases/{id}/referrals", tag = "referral",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = Value, description = "{to_org (slug), services [..], cas_ReasonForOutgoingReferral, cas_OutgoingReferralDetails?, consent_override_reason? (supervisors only, when no consent covers the recipient)}"),
    responses((status = 201, body = Value), (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value),
              (status = 422, description = "Invalid, not eligible (each unmet rule listed) or no covering consent", body = Value)))]
async fn create_referral(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ReferralInput>,
) -> Result<Response, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let r = state.store.create_referral(&ctx, id, &input).await?;
    Ok((StatusCode::CREATED, Json(r)).into_response())
}

#[utoipa::path(get, path = "/referrals/inbox", tag = "referral",
    responses((status = 200, description = "Referrals received by the organisation (overdue flagged)", body = Value), (status = 401, body = Value), (status = 403, body = Value)))]
async fn referral_inbox(State(state): State<AppState>, a: Authed) -> Result<Json<Value>, AppError> {
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    Ok(Json(
        json!({ "referrals": state.store.referral_box(&ctx, true).await? }),
    ))
}

#[utoipa::path(get, path = "/referrals/outbox", tag = "referral",
    responses((status = 200, description = "Referrals sent by the organisation", body = Value), (status = 401, body = Value), (status = 403, body = Value)))]
async fn referral_outbox(
    State(state): State<AppState>,
    a: Authed,
) -> Result<Json<Value>, AppError> {
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    Ok(Json(
        json!({ "referrals": state.store.referral_box(&ctx, false).await? }),
    ))
}

#[utoipa::path(get, path = "/referrals/{id}", tag = "referral",
    params(("id" = String, Path, description = "Referral id (UUID)")),
    responses((status = 200, body = Value), (status = 401, body = Value), (status = 404, body = Value)))]
async fn get_referral(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    Ok(Json(json!(state.store.referral(&ctx, id).await?)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionInput {
    #[serde(default)]
    decline_reason: Option<String>,
}

#[utoipa::path(post, path = "/referrals/{id}/{action}", tag = "referral",
    params(("id" = String, Path, description = "Referral id (UUID)"), ("action" = String, Path, description = "accept | decline | complete | withdraw")),
    request_body(content = Value, description = "{decline_reason} (required to decline)"),
    responses((status = 200, body = Value), (status = 401, body = Value), (status = 403, body = Value), (status = 404, body = Value), (status = 409, body = Value), (status = 422, body = Value)))]
async fn referral_action(
    State(state): State<AppState>,
    a: Authed,
    Path((id, action)): Path<(String, String)>,
    ApiJson(input): ApiJson<ActionInput>,
) -> Result<Json<Value>, AppError> {
    let id = case_id(&id)?;
    let event = match action.as_str() {
        "accept" => ReferralEvent::Accept,
        "decline" => ReferralEvent::Decline,
        "complete" => ReferralEvent::Complete,
        "withdraw" => ReferralEvent::Withdraw,
        _ => return Err(AppError::NotFound),
    };
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    Ok(Json(json!(
        state
            .store
            .respond_referral(&ctx, id, event, input.decline_reason.as_deref())
            .await?
    )))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BreakGlassInput {
    case_number: String,
    reason: String,
}

#[utoipa::path(post, path = "/break-glass", tag = "referral",
    request_body(content = Value, description = "{case_number, reason}. Supervisors only; access lasts 3 hours; the owner's supervisors are notified"),
    responses((status = 201, body = Value), (status = 401, body = Value), (status = 404, body = Value), (status = 422, body = Value)))]
async fn break_glass(
    State(state): State<AppState>,
    a: Authed,
    ApiJson(input): ApiJson<BreakGlassInput>,
) -> Result<Response, AppError> {
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    let (case, until) = state
        .store
        .break_glass(&ctx, &input.case_number, &input.reason)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"case_id": case, "expires_at": until})),
    )
        .into_response())
}

#[utoipa::path(get, path = "/notifications", tag = "referral",
    responses((status = 200, description = "In-app notifications (kinds and ids only)", body = Value), (status = 401, body = Value)))]
async fn notifications(State(state): State<AppState>, a: Authed) -> Result<Json<Value>, AppError> {
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    Ok(Json(
        json!({ "notifications": state.store.notifications(&ctx).await? }),
    ))
}

#[utoipa::path(get, path = "/cases/{id}/legal", tag = "referral",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "Criminal-justice link (legal section)", body = Value), (status = 401, body = Value), (status = 404, body = Value)))]
async fn get_legal(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<Value>, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    Ok(Json(json!({ "legal": state.store.legal(&ctx, id).await? })))
}

#[utoipa::path(put, path = "/cases/{id}/legal", tag = "referral",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = Value, description = "{criminal_case_ref?, cooperation (Yes | No | Declined), witness, compensation_claim, non_punishment}"),
    responses((status = 204), (status = 401, body = Value), (status = 404, body = Value), (status = 422, body = Value)))]
async fn set_legal(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<LegalInput>,
) -> Result<StatusCode, AppError> {
    let id = case_id(&id)?;
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    state.store.set_legal(&ctx, id, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}
