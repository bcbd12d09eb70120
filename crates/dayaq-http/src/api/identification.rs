//! Identification API: intake contacts, screening, the formal decision, consent records.

use super::common::{ApiJson, ErrorBody, case_body, list_bodies, path_id};
use crate::AppState;
use crate::auth::Authed;
use crate::error::AppError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dayaq_domain::case::CaseInput;
use dayaq_domain::case::CaseView;
use dayaq_domain::identification::Rights;
use dayaq_domain::identification::{ContactChannel, DecisionInput, ScreeningInput, rights};
use dayaq_domain::policy::Action;
use dayaq_domain::vocab::TraffickingStatus;
use dayaq_storage::identification::ConsentInput;
use dayaq_storage::identification::{Consent, Contact, Decision, Screening};
use dayaq_storage::orgs::Organisation;
use serde::Deserialize;
use serde::Serialize;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_contacts, create_contact))
        .routes(routes!(get_contact))
        .routes(routes!(contact_to_case))
        .routes(routes!(list_screenings, add_screening))
        .routes(routes!(list_decisions, add_decision))
        .routes(routes!(list_consents, add_consent))
        .routes(routes!(withdraw_consent))
        .routes(routes!(transfer_case))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferInput {
    /// The receiving organisation's slug.
    pub to_org: String,
}

#[utoipa::path(post, path = "/cases/{id}/transfer", tag = "identification",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = TransferInput, description = "{to_org: slug}. Hands the case over (e.g. hotline to police); needs a consent covering sharing with that organisation or its type"),
    responses((status = 200, body = Transferred), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, description = "No covering consent, or unknown organisation", body = ErrorBody)))]
async fn transfer_case(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<TransferInput>,
) -> Result<Json<Transferred>, AppError> {
    let id = path_id(&id)?;
    let ctx = a.cx();
    let to = state
        .store
        .transfer_case(&ctx, id, input.to_org.trim())
        .await?;
    Ok(Json(Transferred { owner_org: to }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    /// Hotline, Police, NgoOutreach, SelfReferral, MigrationService or IomReturn.
    pub channel: String,
    /// The caller did not give a name.
    #[serde(default)]
    pub anonymous: bool,
    /// What was said (encrypted at rest).
    #[serde(default)]
    pub summary: Option<String>,
}

#[utoipa::path(get, path = "/contacts", tag = "identification",
    responses((status = 200, description = "The organisation's intake contacts (summaries stay encrypted)", body = ContactList),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_contacts(
    State(state): State<AppState>,
    a: Authed,
) -> Result<Json<ContactList>, AppError> {
    let ctx = a.cx();
    Ok(Json(ContactList {
        contacts: state.store.list_contacts(&ctx, 200).await?,
    }))
}

#[utoipa::path(post, path = "/contacts", tag = "identification",
    request_body(content = ContactInput, description = "{channel, anonymous, summary}"),
    responses((status = 201, body = Contact), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_contact(
    State(state): State<AppState>,
    a: Authed,
    ApiJson(c): ApiJson<ContactInput>,
) -> Result<Response, AppError> {
    let channel = ContactChannel::parse(&c.channel)
        .map_err(|e| AppError::Invalid(dayaq_domain::ValidationErrors::single(e)))?;
    let ctx = a.cx();
    let summary = c
        .summary
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let contact = state
        .store
        .create_contact(&ctx, channel, c.anonymous, summary)
        .await?;
    Ok((StatusCode::CREATED, Json(contact)).into_response())
}

#[utoipa::path(get, path = "/contacts/{id}", tag = "identification",
    params(("id" = String, Path, description = "Contact id (UUID)")),
    responses((status = 200, description = "The contact with its summary (audited)", body = Contact), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_contact(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<Contact>, AppError> {
    let id = path_id(&id)?;
    let ctx = a.cx();
    Ok(Json(state.store.get_contact(&ctx, id).await?))
}

#[utoipa::path(post, path = "/contacts/{id}/case", tag = "identification",
    params(("id" = String, Path, description = "Contact id (UUID)")),
    request_body(content = CaseInput, description = "The case to open (same fields as POST /cases)"),
    responses((status = 201, description = "A case was opened from the contact and keeps it", body = CaseView),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn contact_to_case(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CaseInput>,
) -> Result<Response, AppError> {
    let contact = path_id(&id)?;
    let valid = input
        .validate(state.now().date())
        .map_err(AppError::Invalid)?;
    let ctx = a.cx();
    // The contact must exist in this organisation before a case is opened for it.
    let c = state.store.get_contact(&ctx, contact).await?;
    if c.case_id.is_some() {
        return Err(AppError::field(
            "contact",
            "already_linked",
            "this contact already belongs to a case",
        ));
    }
    let case = state.store.create_case(&ctx, &valid).await?;
    state.store.link_contact(&ctx, contact, case.id).await?;
    Ok((StatusCode::CREATED, Json(case)).into_response())
}

#[utoipa::path(get, path = "/cases/{id}/screenings", tag = "identification",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, body = ScreeningList), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_screenings(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<ScreeningList>, AppError> {
    let id = path_id(&id)?;
    let ctx = a.cx();
    Ok(Json(ScreeningList {
        screenings: state.store.screenings(&ctx, id).await?,
    }))
}

#[utoipa::path(post, path = "/cases/{id}/screenings", tag = "identification",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = ScreeningInput, description = "{act, means, purpose, is_child, vic_MethodsOfControl[], vic_TypeOfExploitation[], ilo_indicators[]}; the result follows the UN Protocol (means not needed for children)"),
    responses((status = 201, body = Screening), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_screening(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ScreeningInput>,
) -> Result<Response, AppError> {
    let id = path_id(&id)?;
    let valid = input.validate().map_err(AppError::Invalid)?;
    let ctx = a.cx();
    let s = state.store.add_screening(&ctx, id, &valid).await?;
    Ok((StatusCode::CREATED, Json(s)).into_response())
}

#[utoipa::path(get, path = "/cases/{id}/decisions", tag = "identification",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "Identification decision history, the current status and the rights it opens", body = DecisionList),
              (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_decisions(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<DecisionList>, AppError> {
    let id = path_id(&id)?;
    let ctx = a.cx();
    let status = state.store.trafficking_status(&ctx, id).await?;
    Ok(Json(DecisionList {
        status,
        rights: rights(status),
        decisions: state.store.decisions(&ctx, id).await?,
    }))
}

#[utoipa::path(post, path = "/cases/{id}/decisions", tag = "identification",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = DecisionInput, description = "{vic_TraffickingStatus, vic_TraffickingStatusDecisionMakingOrg, decided_on (YYYY-MM-DD), reference}; only the competent authority (police identification officer) may decide"),
    responses((status = 201, body = Decision), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_decision(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(raw): ApiJson<Value>,
) -> Result<Response, AppError> {
    let id = path_id(&id)?;
    let ctx = a.cx();
    // Access first: a caller who may not decide learns nothing from the body's errors.
    let input: DecisionInput =
        case_body(&state, &ctx, Action::DecideIdentification, id, raw).await?;
    let valid = input
        .validate(state.now().date())
        .map_err(AppError::Invalid)?;
    let d = state.store.decide_identification(&ctx, id, &valid).await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

#[utoipa::path(get, path = "/cases/{id}/consents", tag = "identification",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, body = ConsentList), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_consents(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<ConsentList>, AppError> {
    let id = path_id(&id)?;
    let ctx = a.cx();
    Ok(Json(ConsentList {
        consents: state.store.consents(&ctx, id).await?,
    }))
}

#[utoipa::path(post, path = "/cases/{id}/consents", tag = "identification",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = ConsentInput, description = "{purpose (Assistance | SharingWithOrganisation | SharingWithOrganisationType | FollowUpContact | Research), given (true = given, false = declined), recipient_org (slug), recipient_org_type (HTCDS org_Type), given_by (Survivor | ParentOrGuardian | LegalRepresentative), language (ISO 639-1)}"),
    responses((status = 201, body = Consent), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_consent(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ConsentInput>,
) -> Result<Response, AppError> {
    let id = path_id(&id)?;
    let ctx = a.cx();
    let c = state.store.add_consent(&ctx, id, &input).await?;
    Ok((StatusCode::CREATED, Json(c)).into_response())
}

#[utoipa::path(post, path = "/cases/{id}/consents/{consent_id}/withdraw", tag = "identification",
    params(("id" = String, Path, description = "Case id (UUID)"), ("consent_id" = String, Path, description = "Consent id (UUID)")),
    responses((status = 204, description = "Withdrawn"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn withdraw_consent(
    State(state): State<AppState>,
    a: Authed,
    Path((id, consent)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    let id = path_id(&id)?;
    let consent = path_id(&consent)?;
    let ctx = a.cx();
    state.store.withdraw_consent(&ctx, id, consent).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The case's owner after a transfer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Transferred {
    pub owner_org: Organisation,
}

list_bodies! {
    ContactList { contacts: Contact }
    ScreeningList { screenings: Screening }
    ConsentList { consents: Consent }
}

/// The current identification status, the rights it opens, and the decision history.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DecisionList {
    #[serde(rename = "vic_TraffickingStatus")]
    pub status: TraffickingStatus,
    pub rights: Rights,
    pub decisions: Vec<Decision>,
}
