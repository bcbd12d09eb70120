//! Identification API: intake contacts, screening, the formal decision, consent records.

use super::common::{
    ApiJson, Body, DecideIdentification, ErrorBody, OnPath, Typed, created, list_bodies, path_id,
};
use crate::AppState;
use crate::auth::Authed;
use crate::error::AppError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use dayaq_domain::case::CaseInput;
use dayaq_domain::case::CaseView;
use dayaq_domain::identification::Rights;
use dayaq_domain::identification::{ContactChannel, DecisionInput, ScreeningInput, rights};
use dayaq_domain::vocab::TraffickingStatus;
use dayaq_storage::identification::ConsentInput;
use dayaq_storage::identification::{Consent, Contact, Decision, Screening};
use dayaq_storage::orgs::Organisation;
use serde::Deserialize;
use serde::Serialize;
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
        .routes(routes!(consent_pdf))
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
    responses((status = 200, body = Transferred), (status = 422, description = "No covering consent, or unknown organisation", body = ErrorBody)))]
async fn transfer_case(
    State(state): State<AppState>,
    r: Body<TransferInput, Typed>,
) -> Result<Json<Transferred>, AppError> {
    let ([id], ctx, input) = (r.ids, r.auth.cx(), r.body);
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
    /// What was said (encrypted at rest). Required: an empty or missing summary is refused
    /// (422, field `summary`, code `empty_contact`).
    #[serde(default)]
    pub summary: Option<String>,
}

#[utoipa::path(get, path = "/contacts", tag = "identification",
    responses((status = 200, description = "The organisation's intake contacts (summaries stay encrypted)", body = ContactList)))]
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
    request_body(content = ContactInput, description = "{channel, anonymous, summary}; a contact without a summary is refused (422, field `summary`)"),
    responses((status = 201, body = Contact)))]
async fn create_contact(
    State(state): State<AppState>,
    a: Authed,
    ApiJson(c): ApiJson<ContactInput>,
) -> Result<Response, AppError> {
    let channel = ContactChannel::parse(&c.channel)
        .map_err(|e| AppError::Invalid(dayaq_domain::ValidationErrors::single(e)))?;
    let ctx = a.cx();
    // As on the screen (issue #23 §3, §5 API parity): storage refuses a contact without a
    // summary by its field (after the policy), nothing saved.
    let contact = state
        .store
        .create_contact(&ctx, channel, c.anonymous, c.summary.as_deref())
        .await?;
    Ok(created(contact))
}

#[utoipa::path(get, path = "/contacts/{id}", tag = "identification",
    params(("id" = String, Path, description = "Contact id (UUID)")),
    responses((status = 200, description = "The contact with its summary (audited)", body = Contact)))]
async fn get_contact(State(state): State<AppState>, r: OnPath) -> Result<Json<Contact>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    Ok(Json(state.store.get_contact(&ctx, id).await?))
}

#[utoipa::path(post, path = "/contacts/{id}/case", tag = "identification",
    params(("id" = String, Path, description = "Contact id (UUID)")),
    request_body(content = CaseInput, description = "The case to open (same fields as POST /cases)"),
    responses((status = 201, description = "A case was opened from the contact and keeps it", body = CaseView)))]
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
    Ok(created(case))
}

#[utoipa::path(get, path = "/cases/{id}/screenings", tag = "identification",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, body = ScreeningList)))]
async fn list_screenings(
    State(state): State<AppState>,
    r: OnPath,
) -> Result<Json<ScreeningList>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    Ok(Json(ScreeningList {
        screenings: state.store.screenings(&ctx, id).await?,
    }))
}

#[utoipa::path(post, path = "/cases/{id}/screenings", tag = "identification",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = ScreeningInput, description = "{act, means, purpose, is_child, vic_MethodsOfControl[], vic_TypeOfExploitation[], ilo_indicators[]}; the result follows the UN Protocol (means not needed for children)"),
    responses((status = 201, body = Screening)))]
async fn add_screening(
    State(state): State<AppState>,
    r: Body<ScreeningInput, Typed>,
) -> Result<Response, AppError> {
    let ([id], ctx, input) = (r.ids, r.auth.cx(), r.body);
    let valid = input.validate().map_err(AppError::Invalid)?;
    let s = state.store.add_screening(&ctx, id, &valid).await?;
    Ok(created(s))
}

#[utoipa::path(get, path = "/cases/{id}/decisions", tag = "identification",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "Identification decision history, the current status and the rights it opens", body = DecisionList)))]
async fn list_decisions(
    State(state): State<AppState>,
    r: OnPath,
) -> Result<Json<DecisionList>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
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
    responses((status = 201, body = Decision)))]
// Access first (the extractor): a caller who may not decide learns nothing from the body's
// errors.
async fn add_decision(
    State(state): State<AppState>,
    r: Body<DecisionInput, DecideIdentification>,
) -> Result<Response, AppError> {
    let ([id], ctx, input) = (r.ids, r.auth.cx(), r.body);
    let valid = input
        .validate(state.now().date())
        .map_err(AppError::Invalid)?;
    let d = state.store.decide_identification(&ctx, id, &valid).await?;
    Ok(created(d))
}

#[utoipa::path(get, path = "/cases/{id}/consents", tag = "identification",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, body = ConsentList)))]
async fn list_consents(
    State(state): State<AppState>,
    r: OnPath,
) -> Result<Json<ConsentList>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    Ok(Json(ConsentList {
        consents: state.store.consents(&ctx, id).await?,
    }))
}

#[utoipa::path(post, path = "/cases/{id}/consents", tag = "identification",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = ConsentInput, description = "{purpose (Assistance | SharingWithOrganisation | SharingWithOrganisationType | FollowUpContact | Research), given (true = given, false = declined), recipient_org (slug), recipient_org_type (HTCDS org_Type), given_by (Survivor | ParentOrGuardian | LegalRepresentative), language (ISO 639-1)}"),
    responses((status = 201, body = Consent)))]
async fn add_consent(
    State(state): State<AppState>,
    r: Body<ConsentInput, Typed>,
) -> Result<Response, AppError> {
    let ([id], ctx, input) = (r.ids, r.auth.cx(), r.body);
    let c = state.store.add_consent(&ctx, id, &input).await?;
    Ok(created(c))
}

#[utoipa::path(post, path = "/cases/{id}/consents/{consent_id}/withdraw", tag = "identification",
    params(("id" = String, Path, description = "Case id (UUID)"), ("consent_id" = String, Path, description = "Consent id (UUID)")),
    responses((status = 204, description = "Withdrawn")))]
async fn withdraw_consent(
    State(state): State<AppState>,
    r: OnPath<2>,
) -> Result<StatusCode, AppError> {
    let ([id, consent], ctx) = (r.ids, r.cx());
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

#[utoipa::path(get, path = "/cases/{id}/consents/{consent_id}/pdf", tag = "identification",
    params(("id" = String, Path, description = "Case id (UUID)"), ("consent_id" = String, Path, description = "Consent id (UUID)"), crate::documents::DocQuery),
    responses((status = 200, description = "The consent form of a recorded consent as PDF (az/ru/en): purpose, recipient, answer, who gave it, the right to withdraw, signature lines; for whoever may read the case; audited (`document.printed`); neutral file name",
               content_type = "application/pdf")))]
async fn consent_pdf(
    State(state): State<AppState>,
    super::common::ApiQuery(q): super::common::ApiQuery<crate::documents::DocQuery>,
    r: OnPath<2>,
) -> Result<Response, AppError> {
    let lang = q.lang(&r.auth)?;
    let ([id, consent], ctx) = (r.ids, r.cx());
    let src = state.store.consent_source(&ctx, id, consent).await?;
    Ok(crate::documents::pdf_answer(
        &crate::documents::consent_form(lang, &src),
        "consent",
        ctx.now,
    ))
}
