//! The HTCDS export and the rules for exports with identities, shared by the JSON API
//! (`api/htcds.rs`) and the screen (`pages/htcds.rs`): the query, the policy and second-factor
//! checks, the supervisor's approval, and the streamed (CSV) or built (XLSX) download.
//!
//! Confidentiality: download file names carry only the date, and exports are audited by the
//! store before any case leaves it.

use crate::AppState;
use crate::auth::Authed;
use crate::error::AppError;
use axum::body::Body;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use dayaq_domain::Actor;
use dayaq_domain::policy::{Action, Resource, decide};
use dayaq_storage::cases::Ctx;
use dayaq_storage::htcds::{self, Format, XlsxSink};
use serde::Deserialize;

/// A download name without personal data: the kind of file and the date.
pub(crate) fn download_name(state: &AppState, format: Format) -> String {
    let d = state.now().date();
    format!(
        "htcds-export-{:04}-{:02}-{:02}.{}",
        d.year(),
        u8::from(d.month()),
        d.day(),
        format.extension()
    )
}

/// May `a` export identities? The policy (`ExportIdentities`: caseworkers and supervisors)
/// and a browser session whose second factor was completed — a bearer token alone, or a
/// session of a user without a second factor, is not enough. `Err` names the reason. (The
/// organisation's approval requirement is checked by `identity_export_approved`.)
pub(crate) fn identity_export_allowed(state: &AppState, a: &Authed) -> Result<(), &'static str> {
    if !state.store.may_export_identities(&a.cx()) {
        return Err("identity_export_needs_case_manager");
    }
    match &a.session {
        Some(s) if s.mfa_ok && a.user.has_second_factor() => Ok(()),
        _ => Err("identity_export_needs_second_factor"),
    }
}

/// When the organisation requires a supervisor's approval for identity exports, a
/// caseworker's export must name an approved request of theirs, which is used up (one
/// download). Supervisors export without one.
pub(crate) async fn identity_export_approved(
    state: &AppState,
    a: &Authed,
    request: Option<uuid::Uuid>,
) -> Result<(), AppError> {
    if a.actor.role == dayaq_domain::Role::Supervisor
        || !state.store.export_approval_required(a.actor.org_id).await?
    {
        return Ok(());
    }
    let ctx = a.cx();
    match request {
        None => {
            state
                .store
                .audit_export_refusal(&ctx, "identity_export_needs_approval")
                .await?;
            Err(AppError::Forbidden("identity_export_needs_approval"))
        }
        Some(id) => Ok(state.store.use_export_approval(&ctx, id).await?),
    }
}

/// Streams (CSV) or builds (XLSX) the export of the cases `a` may see; with `identities`
/// only when `identity_export_allowed` and `identity_export_approved` (403 with the reason
/// otherwise, before any byte).
pub(crate) async fn export_response(
    state: &AppState,
    a: &Authed,
    format: Format,
    identities: bool,
    request: Option<uuid::Uuid>,
) -> Result<Response, AppError> {
    // Ask the policy before any byte is sent, so that a refusal is a proper 403.
    state.store.authorize_export(&a.cx())?;
    if identities {
        if let Err(reason) = identity_export_allowed(state, a) {
            let ctx = a.cx();
            state.store.audit_export_refusal(&ctx, reason).await?;
            return Err(AppError::Forbidden(reason));
        }
        identity_export_approved(state, a, request).await?;
    }
    let body = match format {
        Format::Csv => {
            let (mut sink, stream) = htcds::csv_channel()?;
            let store = state.store.clone();
            let actor = a.actor;
            let source = a.source.clone();
            let now = a.now;
            tokio::spawn(async move {
                let ctx = Ctx {
                    actor: &actor,
                    source: &source,
                    now,
                };
                let outcome = store.export_cases_with(&ctx, &mut sink, identities).await;
                if let Err(e) = &outcome {
                    tracing::error!(error = %e, "HTCDS export failed");
                }
                sink.finish(&outcome).await;
            });
            Body::from_stream(stream)
        }
        Format::Xlsx => {
            let mut sink = XlsxSink::new()?;
            state
                .store
                .export_cases_with(&a.cx(), &mut sink, identities)
                .await?;
            let bytes = tokio::task::spawn_blocking(move || sink.finish())
                .await
                .map_err(|e| AppError::Internal(e.to_string()))??;
            Body::from(bytes)
        }
    };
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(format.media_type()));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}\"",
        download_name(state, format)
    )) {
        headers.insert(CONTENT_DISPOSITION, v);
    }
    Ok((headers, body).into_response())
}

pub(crate) fn may(actor: &Actor, action: Action) -> bool {
    decide(actor, action, Resource::Organisation(actor.org_id)).allowed
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ExportQuery {
    /// `csv` (default, streamed) or `xlsx`.
    pub(crate) format: Option<String>,
    /// `include` (default): with names, birth dates and contact details — needs a caseworker
    /// or supervisor signed in with a second factor (a browser session; a bearer token alone
    /// is refused with 403 `identity_export_needs_second_factor`). `none`: without them
    /// (every role that may export cases, tokens included).
    pub(crate) identity: Option<String>,
    /// An approved export request (UUID) of the caller: needed for an export with identities
    /// when the organisation requires a supervisor's approval; it works once.
    pub(crate) request: Option<String>,
}

pub(crate) fn export_request_id(q: &ExportQuery) -> Result<Option<uuid::Uuid>, AppError> {
    match q.request.as_deref() {
        None | Some("") => Ok(None),
        Some(r) => uuid::Uuid::parse_str(r).map(Some).map_err(|_| {
            AppError::field(
                "request",
                "invalid_value",
                "request must be a request id (UUID)",
            )
        }),
    }
}

pub(crate) fn export_identity(q: &ExportQuery) -> Result<bool, AppError> {
    match q.identity.as_deref() {
        None | Some("") | Some("include") => Ok(true),
        Some("none") => Ok(false),
        Some(_) => Err(AppError::field(
            "identity",
            "invalid_value",
            "identity accepts only: include, none",
        )),
    }
}

pub(crate) fn export_format(q: &ExportQuery) -> Result<Format, AppError> {
    match q.format.as_deref() {
        None | Some("") => Ok(Format::Csv),
        Some(f) => Format::from_name(f).ok_or_else(|| {
            AppError::field("format", "invalid_value", "format accepts only: csv, xlsx")
        }),
    }
}
