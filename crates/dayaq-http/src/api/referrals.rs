//! Referral API: directory, referrals (consent-scoped, need-to-know), break-glass,
//! notifications, and the criminal-justice link.

use super::common::{
    ApiJson, ApiQuery, Body, ErrorBody, OnPath, Typed, created, list_bodies, path_id,
};
use crate::AppState;
use crate::auth::Authed;
use crate::error::AppError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dayaq_domain::referral::ReferralEvent;
use dayaq_storage::referrals::{DirectoryEntry, Notification, Referral};
use dayaq_storage::referrals::{LegalInput, ReferralInput, ServiceOffer};
use serde::Deserialize;
use serde::Serialize;
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
        .routes(routes!(referral_letter_pdf))
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
    responses((status = 200, description = "Who can help with X in region Y", body = DirectoryList)))]
async fn directory(
    State(state): State<AppState>,
    _a: Authed,
    ApiQuery(q): ApiQuery<DirQuery>,
) -> Result<Json<DirectoryList>, AppError> {
    let entries = state
        .store
        .directory(q.service.as_deref(), q.region.as_deref())
        .await?;
    Ok(Json(DirectoryList { services: entries }))
}

#[utoipa::path(put, path = "/directory/{org}", tag = "referral",
    params(("org" = String, Path, description = "Organisation slug")),
    request_body(content = ServiceOffer, description = "{service, region, city, languages, opening_hours, capacity, requires_police_cooperation, requires_criminal_case, requires_identified_victim, women_only, children_only, adults_only}"),
    responses((status = 204)))]
async fn set_service(
    State(state): State<AppState>,
    a: Authed,
    Path(org): Path<String>,
    ApiJson(offer): ApiJson<ServiceOffer>,
) -> Result<StatusCode, AppError> {
    let ctx = a.cx();
    state.store.set_service(&ctx, &org, &offer).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/directory/coverage", tag = "referral",
    responses((status = 200, description = "Services offered per region (gaps are the missing ones)", body = CoverageList)))]
async fn coverage(
    State(state): State<AppState>,
    _a: Authed,
) -> Result<Json<CoverageList>, AppError> {
    let all: Vec<&str> = dayaq_domain::referral::Service::ALL
        .iter()
        .map(|s| s.as_str())
        .collect();
    let regions: Vec<RegionCoverage> = state
        .store
        .coverage()
        .await?
        .into_iter()
        .map(|(region, offered)| {
            let missing: Vec<String> = all
                .iter()
                .filter(|s| !offered.iter().any(|o| o == *s))
                .map(|s| s.to_string())
                .collect();
            RegionCoverage {
                region,
                offered,
                missing,
            }
        })
        .collect();
    Ok(Json(CoverageList { regions }))
}

#[utoipa::path(get, path = "/cases/{id}/referrals", tag = "referral",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, body = ReferralList)))]
async fn list_case_referrals(
    State(state): State<AppState>,
    r: OnPath,
) -> Result<Json<ReferralList>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    Ok(Json(ReferralList {
        referrals: state.store.case_referrals(&ctx, id).await?,
    }))
}

#[utoipa::path(post, path = "/cases/{id}/referrals", tag = "referral",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = ReferralInput, description = "{to_org (slug), services [..], cas_ReasonForOutgoingReferral, cas_OutgoingReferralDetails?, consent_override_reason? (supervisors only, when no consent covers the recipient)}"),
    responses((status = 201, body = Referral),
              (status = 422, description = "Invalid, not eligible (each unmet rule listed) or no covering consent", body = ErrorBody)))]
async fn create_referral(
    State(state): State<AppState>,
    r: Body<ReferralInput, Typed>,
) -> Result<Response, AppError> {
    let ([id], ctx, input) = (r.ids, r.auth.cx(), r.body);
    let r = state.store.create_referral(&ctx, id, &input).await?;
    Ok(created(r))
}

#[utoipa::path(get, path = "/referrals/inbox", tag = "referral",
    responses((status = 200, description = "Referrals received by the organisation (overdue flagged)", body = ReferralList)))]
async fn referral_inbox(
    State(state): State<AppState>,
    a: Authed,
) -> Result<Json<ReferralList>, AppError> {
    let ctx = a.cx();
    Ok(Json(ReferralList {
        referrals: state.store.referral_box(&ctx, true).await?,
    }))
}

#[utoipa::path(get, path = "/referrals/outbox", tag = "referral",
    responses((status = 200, description = "Referrals sent by the organisation", body = ReferralList)))]
async fn referral_outbox(
    State(state): State<AppState>,
    a: Authed,
) -> Result<Json<ReferralList>, AppError> {
    let ctx = a.cx();
    Ok(Json(ReferralList {
        referrals: state.store.referral_box(&ctx, false).await?,
    }))
}

#[utoipa::path(get, path = "/referrals/{id}", tag = "referral",
    params(("id" = String, Path, description = "Referral id (UUID)")),
    responses((status = 200, body = Referral)))]
async fn get_referral(
    State(state): State<AppState>,
    r: OnPath,
) -> Result<Json<Referral>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    Ok(Json(state.store.referral(&ctx, id).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralActionInput {
    #[serde(default)]
    decline_reason: Option<String>,
}

#[utoipa::path(post, path = "/referrals/{id}/{action}", tag = "referral",
    params(("id" = String, Path, description = "Referral id (UUID)"), ("action" = String, Path, description = "accept | decline | complete | withdraw")),
    request_body(content = ReferralActionInput, description = "{decline_reason} (required to decline)"),
    responses((status = 200, body = Referral), (status = 409, body = ErrorBody)))]
async fn referral_action(
    State(state): State<AppState>,
    a: Authed,
    Path((id, action)): Path<(String, String)>,
    ApiJson(input): ApiJson<ReferralActionInput>,
) -> Result<Json<Referral>, AppError> {
    let id = path_id(&id)?;
    let event = match action.as_str() {
        "accept" => ReferralEvent::Accept,
        "decline" => ReferralEvent::Decline,
        "complete" => ReferralEvent::Complete,
        "withdraw" => ReferralEvent::Withdraw,
        _ => return Err(AppError::NotFound),
    };
    let ctx = a.cx();
    Ok(Json(
        state
            .store
            .respond_referral(&ctx, id, event, input.decline_reason.as_deref())
            .await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BreakGlassInput {
    pub case_number: String,
    pub reason: String,
}

#[utoipa::path(post, path = "/break-glass", tag = "referral",
    request_body(content = BreakGlassInput, description = "{case_number, reason}. Supervisors only; access lasts 3 hours; the owner's supervisors are notified"),
    responses((status = 201, body = BreakGlass), (status = 404, description = "No case with that number", body = ErrorBody)))]
async fn break_glass(
    State(state): State<AppState>,
    a: Authed,
    ApiJson(input): ApiJson<BreakGlassInput>,
) -> Result<Response, AppError> {
    let ctx = a.cx();
    let (case, until) = state
        .store
        .break_glass(&ctx, &input.case_number, &input.reason)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(BreakGlass {
            case_id: case,
            expires_at: until,
        }),
    )
        .into_response())
}

#[utoipa::path(get, path = "/notifications", tag = "referral",
    responses((status = 200, description = "In-app notifications (kinds and ids only)", body = NotificationList)))]
async fn notifications(
    State(state): State<AppState>,
    a: Authed,
) -> Result<Json<NotificationList>, AppError> {
    let ctx = a.cx();
    Ok(Json(NotificationList {
        notifications: state.store.notifications(&ctx).await?,
    }))
}

#[utoipa::path(get, path = "/cases/{id}/legal", tag = "referral",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "Criminal-justice link (legal section)", body = LegalSection)))]
async fn get_legal(
    State(state): State<AppState>,
    r: OnPath,
) -> Result<Json<LegalSection>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    Ok(Json(LegalSection {
        legal: state.store.legal(&ctx, id).await?,
    }))
}

#[utoipa::path(put, path = "/cases/{id}/legal", tag = "referral",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = LegalInput, description = "{criminal_case_ref?, cooperation (Yes | No | Declined), witness, compensation_claim, non_punishment}"),
    responses((status = 204)))]
async fn set_legal(
    State(state): State<AppState>,
    r: Body<LegalInput, Typed>,
) -> Result<StatusCode, AppError> {
    let ([id], ctx, input) = (r.ids, r.auth.cx(), r.body);
    state.store.set_legal(&ctx, id, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

list_bodies! {
    DirectoryList { services: DirectoryEntry }
    CoverageList { regions: RegionCoverage }
    ReferralList { referrals: Referral }
    NotificationList { notifications: Notification }
}

/// Services offered in a region, and those of the catalogue nobody offers there.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegionCoverage {
    pub region: String,
    pub offered: Vec<String>,
    pub missing: Vec<String>,
}

/// Temporary access to another organisation's case.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BreakGlass {
    pub case_id: uuid::Uuid,
    /// When the access ends (RFC 3339).
    pub expires_at: String,
}

/// The legal section; null when nothing was recorded.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LegalSection {
    pub legal: Option<LegalInput>,
}

#[utoipa::path(get, path = "/referrals/{id}/pdf", tag = "referral",
    params(("id" = String, Path, description = "Referral id (UUID)"), crate::documents::DocQuery),
    responses((status = 200, description = "The referral letter for the receiving organisation as PDF (az/ru/en): only the sections the referral's services cover, signature lines; for the sending organisation and the receiver while the referral grants it the case; audited (`document.printed`); neutral file name",
               content_type = "application/pdf")))]
async fn referral_letter_pdf(
    State(state): State<AppState>,
    r: OnPath,
    ApiQuery(q): ApiQuery<crate::documents::DocQuery>,
) -> Result<Response, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    let lang = q.lang(&r.auth)?;
    let src = state.store.referral_letter_source(&ctx, id).await?;
    let doc = crate::documents::referral_letter(lang, &src);
    Ok(crate::documents::pdf_answer(
        &doc,
        "referral-letter",
        ctx.now,
    ))
}
