//! Research data releases API (issue #16): a researcher sets her age key and asks for a
//! release (microdata or tables); the national coordinator approves (which generates the
//! age-encrypted file and spends the privacy budget) or refuses, never her own request; the
//! requester alone downloads the file. The policy is asked before any body field is looked at;
//! every step is audited (docs/RELEASES.md).

use crate::AppState;
use crate::api::ApiJson;
use crate::api::common::{created, path_id, typed};
use crate::auth::Authed;
use crate::error::AppError;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use dayaq_domain::policy::Action;
use dayaq_domain::role::Role;
use dayaq_storage::cases::Ctx;
use dayaq_storage::releases::requests::{ReleaseInput, variable_names};
use dayaq_storage::releases::{
    EPSILON_BUDGET, EPSILON_CAP, LedgerEntry, ReleaseAccess, ReleaseRequest,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_releases, request_release))
        .routes(routes!(get_release))
        .routes(routes!(approve_release))
        .routes(routes!(refuse_release))
        .routes(routes!(download_release))
        .routes(routes!(set_recipient))
}

fn ts(t: time::OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReleaseFileBody {
    /// Size of the encrypted file in bytes.
    pub size: i64,
    /// SHA-256 of the encrypted file (hex).
    pub sha256: String,
    /// Records released (microdata) or counted (tables).
    pub records: i64,
    /// Records suppressed to reach k (microdata).
    pub suppressed: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReleaseBody {
    pub id: String,
    /// The requester's user name.
    pub requester: String,
    pub purpose: String,
    /// `microdata` or `tables`.
    pub kind: String,
    pub period_from: String,
    pub period_to: String,
    /// Release-schema variables (HTCDS/CTDC names).
    pub variables: Vec<String>,
    pub k: Option<i64>,
    pub epsilon: Option<f64>,
    pub terms_accepted: bool,
    /// `requested`, `approved`, `refused`, `generated` or `downloaded`.
    pub state: String,
    /// The decision's reason.
    pub reason: Option<String>,
    pub created_at: String,
    pub decided_at: Option<String>,
    pub generated_at: Option<String>,
    pub downloaded_at: Option<String>,
    pub file: Option<ReleaseFileBody>,
    /// Where the requester downloads the file (once generated).
    pub download_href: Option<String>,
}

pub fn release_body(r: &ReleaseRequest) -> ReleaseBody {
    ReleaseBody {
        id: r.id.to_string(),
        requester: r.requester_name.clone(),
        purpose: r.purpose.clone(),
        kind: r.kind.name().to_string(),
        period_from: r.period_from.to_string(),
        period_to: r.period_to.to_string(),
        variables: r.variables.clone(),
        k: r.k,
        epsilon: r.epsilon,
        terms_accepted: r.terms_accepted,
        state: r.state.name().to_string(),
        reason: r.reason.clone(),
        created_at: ts(r.created_at),
        decided_at: r.decided_at.map(ts),
        generated_at: r.generated_at.map(ts),
        downloaded_at: r.downloaded_at.map(ts),
        file: r.file.as_ref().map(|f| ReleaseFileBody {
            size: f.size,
            sha256: f.sha256.clone(),
            records: f.records,
            suppressed: f.suppressed,
        }),
        download_href: r
            .state
            .has_file()
            .then(|| format!("/api/v1/releases/{}/file", r.id)),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LedgerBody {
    pub dataset: String,
    pub period_from: String,
    pub period_to: String,
    pub epsilon: f64,
    pub release_id: String,
    pub created_at: String,
}

fn ledger_body(e: &LedgerEntry) -> LedgerBody {
    LedgerBody {
        dataset: e.dataset.clone(),
        period_from: e.period_from.to_string(),
        period_to: e.period_to.to_string(),
        epsilon: e.epsilon,
        release_id: e.release_id.to_string(),
        created_at: ts(e.created_at),
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReleaseList {
    /// A researcher's own requests, or (national coordinator) every request, newest first.
    pub requests: Vec<ReleaseBody>,
    /// The variables a request may ask for.
    pub variables: Vec<String>,
    /// ε budget per dataset and period (the sum over releases whose periods overlap).
    pub epsilon_budget: f64,
    /// Largest ε of one release.
    pub epsilon_cap: f64,
    /// The privacy-budget ledger (national coordinator only; empty for a researcher).
    pub ledger: Vec<LedgerBody>,
}

/// The access of a list: the coordinator's register, else the researcher's own requests.
pub(crate) async fn list_access<'a>(
    state: &AppState,
    cx: &Ctx<'a>,
) -> Result<ReleaseAccess<'a>, AppError> {
    let action = if cx.actor.role == Role::NationalCoordinator {
        Action::DecideRelease
    } else {
        Action::RequestRelease
    };
    Ok(state.store.authorize_release(cx, action).await?)
}

#[utoipa::path(get, path = "/releases", tag = "releases",
    responses((status = 200, description = "Release requests: a researcher's own, or every request with the privacy-budget ledger (national coordinator)", body = ReleaseList)))]
async fn list_releases(
    State(state): State<AppState>,
    a: Authed,
) -> Result<Json<ReleaseList>, AppError> {
    let cx = a.cx();
    let access = list_access(&state, &cx).await?;
    let requests = state.store.release_requests(&access, "json").await?;
    let ledger = if access.action() == Action::DecideRelease {
        state.store.privacy_ledger(&access, "json").await?
    } else {
        Vec::new()
    };
    Ok(Json(ReleaseList {
        requests: requests.iter().map(release_body).collect(),
        variables: variable_names().iter().map(|s| s.to_string()).collect(),
        epsilon_budget: EPSILON_BUDGET,
        epsilon_cap: EPSILON_CAP,
        ledger: ledger.iter().map(ledger_body).collect(),
    }))
}

/// A release request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseRequestInput {
    /// What the data is for (at most 2000 characters).
    pub purpose: Option<String>,
    /// `microdata` or `tables`.
    pub kind: Option<String>,
    /// First day of the period, `YYYY-MM-DD`.
    pub period_from: Option<String>,
    /// Last day of the period, `YYYY-MM-DD` (not in the future).
    pub period_to: Option<String>,
    /// Variables of the release schema (see `GET /releases`).
    pub variables: Option<Vec<String>>,
    /// Microdata: k (default 11, at least 5).
    pub k: Option<i64>,
    /// Tables: ε (default 1.0, above 0, at most the cap).
    pub epsilon: Option<f64>,
    /// The data-use terms are accepted (must be true).
    pub terms_accepted: Option<bool>,
}

impl ReleaseRequestInput {
    pub fn into_input(self) -> ReleaseInput {
        ReleaseInput {
            purpose: self.purpose.unwrap_or_default(),
            kind: self.kind.unwrap_or_default(),
            period_from: self.period_from.unwrap_or_default(),
            period_to: self.period_to.unwrap_or_default(),
            variables: self.variables.unwrap_or_default(),
            k: self.k,
            epsilon: self.epsilon,
            terms_accepted: self.terms_accepted.unwrap_or(false),
        }
    }
}

#[utoipa::path(post, path = "/releases", tag = "releases",
    request_body = ReleaseRequestInput,
    responses((status = 201, description = "The request is recorded (state `requested`); researchers only; audited. Refused with 422 naming the field: unknown variable, k below 5, ε not above 0 or above the cap, no age key set (`age_recipient`), budget overrun (`budget`), terms not accepted", body = ReleaseBody)))]
async fn request_release(
    State(state): State<AppState>,
    a: Authed,
    ApiJson(raw): ApiJson<Value>,
) -> Result<Response, AppError> {
    let cx = a.cx();
    let access = state
        .store
        .authorize_release(&cx, Action::RequestRelease)
        .await?;
    let input: ReleaseRequestInput = typed(raw)?;
    let r = state
        .store
        .request_release(&access, &input.into_input())
        .await?;
    Ok(created(release_body(&r)))
}

#[utoipa::path(get, path = "/releases/{id}", tag = "releases",
    params(("id" = String, Path, description = "Release request id")),
    responses((status = 200, description = "One request (its requester, or the national coordinator)", body = ReleaseBody)))]
async fn get_release(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Json<ReleaseBody>, AppError> {
    let cx = a.cx();
    let access = list_access(&state, &cx).await?;
    let id = path_id(&id)?;
    let r = state.store.release_request(&access, id, "json").await?;
    Ok(Json(release_body(&r)))
}

/// A decision's reason.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    /// Why (required, at most 2000 characters).
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/releases/{id}/approve", tag = "releases",
    params(("id" = String, Path, description = "Release request id")),
    request_body = DecisionInput,
    responses((status = 200, description = "Approved and generated: the file is encrypted to the requester's age key and the ε spent in the ledger, in one transaction. National coordinator, never the requester (403). 422 naming the field when the generator or the budget refuses (nothing changes); 409 when the request was decided already", body = ReleaseBody)))]
async fn approve_release(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(raw): ApiJson<Value>,
) -> Result<Json<ReleaseBody>, AppError> {
    let cx = a.cx();
    let access = state
        .store
        .authorize_release(&cx, Action::DecideRelease)
        .await?;
    let id = path_id(&id)?;
    let input: DecisionInput = typed(raw)?;
    let r = state
        .store
        .approve_release(&access, id, input.reason.as_deref().unwrap_or(""))
        .await?;
    Ok(Json(release_body(&r)))
}

#[utoipa::path(post, path = "/releases/{id}/refuse", tag = "releases",
    params(("id" = String, Path, description = "Release request id")),
    request_body = DecisionInput,
    responses((status = 200, description = "Refused with the reason; national coordinator, never the requester; audited", body = ReleaseBody)))]
async fn refuse_release(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(raw): ApiJson<Value>,
) -> Result<Json<ReleaseBody>, AppError> {
    let cx = a.cx();
    let access = state
        .store
        .authorize_release(&cx, Action::DecideRelease)
        .await?;
    let id = path_id(&id)?;
    let input: DecisionInput = typed(raw)?;
    let r = state
        .store
        .refuse_release(&access, id, input.reason.as_deref().unwrap_or(""))
        .await?;
    Ok(Json(release_body(&r)))
}

#[utoipa::path(get, path = "/releases/{id}/file", tag = "releases",
    params(("id" = String, Path, description = "Release request id")),
    responses((status = 200, description = "The release file: age-encrypted ZIP (`data.csv`, `README.md`) for the requester's key; its requester only; audited",
               content_type = "application/octet-stream")))]
async fn download_release(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let cx = a.cx();
    let access = state
        .store
        .authorize_release(&cx, Action::DownloadRelease)
        .await?;
    let id = path_id(&id)?;
    let f = state.store.download_release(&access, id).await?;
    Ok(file_response(&f))
}

/// The HTTP answer carrying a release file.
pub(crate) fn file_response(f: &dayaq_storage::releases::delivery::ReleaseFile) -> Response {
    (
        [
            (CONTENT_TYPE, "application/octet-stream".to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", f.file_name()),
            ),
            (CACHE_CONTROL, "no-store".to_string()),
        ],
        f.ciphertext.clone(),
    )
        .into_response()
}

/// The researcher's age public key.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecipientInput {
    /// An age X25519 public key (`age1…`).
    pub age_recipient: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecipientBody {
    pub age_recipient: String,
}

#[utoipa::path(put, path = "/releases/recipient", tag = "releases",
    request_body = RecipientInput,
    responses((status = 200, description = "The researcher's own age public key, to which her releases are encrypted; researchers only; audited. 422 `age_recipient` for a key that is not an age X25519 recipient", body = RecipientBody)))]
async fn set_recipient(
    State(state): State<AppState>,
    a: Authed,
    ApiJson(raw): ApiJson<Value>,
) -> Result<Json<RecipientBody>, AppError> {
    let cx = a.cx();
    let access = state
        .store
        .authorize_release(&cx, Action::RequestRelease)
        .await?;
    let input: RecipientInput = typed(raw)?;
    let r = state
        .store
        .set_release_recipient(&access, input.age_recipient.as_deref().unwrap_or(""))
        .await?;
    Ok(Json(RecipientBody { age_recipient: r }))
}
