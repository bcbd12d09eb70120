//! Off-platform referral packages over the API: export for an organisation not on the
//! platform (age-encrypted, consent required), import of a package on this instance, and the
//! record of packages on a case. Logic lives in `dayaq_storage::packages`.

use super::common::{Body, ErrorBody, OnPath, ReferCase, created, list_bodies};
use crate::AppState;
use crate::auth::Authed;
use crate::error::AppError;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use dayaq_storage::packages::PackageInput;
use dayaq_storage::packages::{PackageRecipient, PackageRecord};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(package_recipients))
        .routes(routes!(list_case_packages, export_package))
        .routes(routes!(import_package))
}

#[utoipa::path(get, path = "/package-recipients", tag = "referral",
    responses((status = 200, description = "Organisations not on the platform with a recorded age public key (set with `dayaq org set-recipient`)", body = RecipientList)))]
async fn package_recipients(
    State(state): State<AppState>,
    _a: Authed,
) -> Result<Json<RecipientList>, AppError> {
    Ok(Json(RecipientList {
        recipients: state.store.package_recipients().await?,
    }))
}

#[utoipa::path(get, path = "/cases/{id}/referral-packages", tag = "referral",
    params(("id" = String, Path, description = "Case id (UUID)")),
    responses((status = 200, description = "Packages sent for this case and the package it came from", body = PackageList)))]
async fn list_case_packages(
    State(state): State<AppState>,
    r: OnPath,
) -> Result<Json<PackageList>, AppError> {
    let ([id], ctx) = (r.ids, r.cx());
    Ok(Json(PackageList {
        packages: state.store.case_packages(&ctx, id).await?,
    }))
}

#[utoipa::path(post, path = "/cases/{id}/referral-packages", tag = "referral",
    params(("id" = String, Path, description = "Case id (UUID)")),
    request_body(content = PackageInput, description = "{recipient_org (slug of an organisation with an age key), services [..], cas_ReasonForOutgoingReferral, consent_override_reason? (supervisors only, when no consent covers the recipient)}"),
    responses((status = 201, description = "The signed package file (application/octet-stream, a `dayaq-signed-referral-package` JSON envelope: the age ciphertext, signed with the sending organisation's Ed25519 key over its id, the recipient's age key and the ciphertext; a download named after the referral id; header `X-Dayaq-Referral` holds the referral id). Recorded as a completed off-platform referral and audited.", content_type = "application/octet-stream"),
              (status = 422, description = "Invalid, no age key recorded for the recipient, or no covering consent", body = ErrorBody)))]
// Access first (the extractor): another organisation learns nothing from a body error.
async fn export_package(
    State(state): State<AppState>,
    r: Body<PackageInput, ReferCase>,
) -> Result<Response, AppError> {
    let ([id], ctx, input) = (r.ids, r.auth.cx(), r.body);
    let p = state.store.export_package(&ctx, id, &input).await?;
    let rid = p.referral_id.to_string();
    Ok((
        StatusCode::CREATED,
        [
            (CONTENT_TYPE, "application/octet-stream".to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"referral-{rid}.age\""),
            ),
            (axum::http::HeaderName::from_static("x-dayaq-referral"), rid),
        ],
        p.ciphertext,
    )
        .into_response())
}

/// A referral package imported as a new case, with its verified sender.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
struct ImportedPackageBody {
    case_id: String,
    case_number: String,
    /// The verified sender: the name an administrator of this instance gave the signing key
    /// when accepting it (`dayaq org trust-package-key`).
    from_org: String,
    /// Always true: unsigned packages and unknown signers are refused.
    verified_sender: bool,
    /// The sender's name as written inside the package.
    claimed_from_org: String,
    /// The sender's organisation id on its own instance.
    sender_org_id: String,
    services: Vec<String>,
    sections: Vec<String>,
}

#[utoipa::path(post, path = "/referral-packages/import", tag = "referral",
    request_body(description = "A signed referral package file (`dayaq-signed-referral-package` envelope around the age ciphertext), made for this instance's public key (`dayaq key age-identity`) and signed by a sender whose key an administrator accepted (`dayaq org trust-package-key`).", content_type = "application/octet-stream"),
    responses((status = 201, description = "A new case of the caller's organisation with a record of the verified sender; audited", body = ImportedPackageBody),
              (status = 422, description = "Nothing was imported: not a package or unsigned (field `package`), made for another recipient (`package`, code `wrong_recipient`), signer not accepted or signature not matching (field `signature`), not encrypted to this instance (field `identity`), or invalid content (each problem named by its HTCDS field)", body = ErrorBody)))]
async fn import_package(
    State(state): State<AppState>,
    a: Authed,
    req: Request,
) -> Result<Response, AppError> {
    let ctx = a.cx();
    state.store.authorize_import(&ctx)?;
    let bytes = Bytes::from_request(req, &state).await.map_err(|_| {
        AppError::field(
            "body",
            "too_large",
            "the package could not be read or is too large",
        )
    })?;
    let ids = state.store.instance_identities().await?;
    let p = state.store.import_package(&ctx, &bytes, &ids).await?;
    let body = ImportedPackageBody {
        case_id: p.case_id.to_string(),
        case_number: p.case_number,
        from_org: p.from_org,
        verified_sender: p.verified_sender,
        claimed_from_org: p.claimed_from_org,
        sender_org_id: p.sender_org_id,
        services: p.services,
        sections: p.sections,
    };
    Ok(created(body))
}

list_bodies! {
    RecipientList { recipients: PackageRecipient }
    PackageList { packages: PackageRecord }
}
