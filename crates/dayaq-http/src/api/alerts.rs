//! Access-anomaly alerts (issue #18 part 2): the list (auditors: every alert; an
//! organisation's administrator: the organisation's) and the acknowledgement with a note.
//! The policy is asked before any parameter or body field is looked at; views and
//! acknowledgements are audited (the note never is). Alerts carry ids and codes only.

use crate::AppState;
use crate::api::common::{path_id, typed};
use crate::api::{ApiJson, ApiQuery};
use crate::auth::Authed;
use crate::error::AppError;
use axum::Json;
use axum::extract::{Path, State};
use dayaq_domain::oversight::{AlertState, Rule};
use dayaq_domain::policy::Action;
use dayaq_storage::alerts::{AlertFilter, AlertRow};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_alerts))
        .routes(routes!(acknowledge))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AlertBody {
    pub id: String,
    /// `break_glass`, `bulk_export`, `identity_read_baseline`, `off_hours_read`,
    /// `search_without_work`, `repeated_denials`, `signin_failures_account`,
    /// `signin_failures_source`.
    pub rule: String,
    /// `low`, `medium` or `high`.
    pub severity: String,
    /// The organisation (empty: none, e.g. failed sign-ins of unknown accounts).
    pub organisation: String,
    /// The user the alert is about (empty when none).
    pub subject_user: String,
    /// The source address (per-source sign-in failures only).
    pub subject_source: String,
    /// RFC 3339.
    pub raised_at: String,
    /// `open` or `acknowledged`.
    pub state: String,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<String>,
    pub note: Option<String>,
    /// The audit rows (`seq`) that raised it.
    pub audit_rows: Vec<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AlertListBody {
    /// Newest first, at most 200.
    pub alerts: Vec<AlertBody>,
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub(crate) fn alert_body(a: &AlertRow) -> AlertBody {
    AlertBody {
        id: a.id.to_string(),
        rule: a.rule.clone(),
        severity: a.severity.clone(),
        organisation: a.org_id.clone(),
        subject_user: a.subject_user.clone(),
        subject_source: a.subject_source.clone(),
        raised_at: rfc3339(a.raised_at),
        state: a.state.clone(),
        acknowledged_by: a.ack_by.clone(),
        acknowledged_at: a.ack_at.map(rfc3339),
        note: a.ack_note.clone(),
        audit_rows: a.seqs.clone(),
    }
}

/// Query parameters, read as text so that nothing is refused before the policy is asked.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// `open` (default), `acknowledged` or `all`.
    pub state: Option<String>,
    /// One rule's code (default: every rule).
    pub rule: Option<String>,
}

/// The filter of a query (422 naming `state` or `rule`).
pub(crate) fn parse_filter(q: &AlertQuery) -> Result<AlertFilter, AppError> {
    let state = match q.state.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None | Some("open") => Some(AlertState::Open),
        Some("all") => None,
        Some(s) => Some(AlertState::parse(s).ok_or_else(|| {
            AppError::field("state", "invalid_value", "open, acknowledged or all")
        })?),
    };
    let rule = match q.rule.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None | Some("all") => None,
        Some(r) => Some(
            Rule::parse(r)
                .ok_or_else(|| AppError::field("rule", "invalid_value", "an alert rule code"))?,
        ),
    };
    Ok(AlertFilter { state, rule })
}

#[utoipa::path(get, path = "/alerts", tag = "oversight",
    params(AlertQuery),
    responses((status = 200, description = "Access-anomaly alerts, newest first (at most 200): every organisation's for auditors, the own organisation's for its administrator; ids and codes only; audited", body = AlertListBody)))]
async fn list_alerts(
    State(state): State<AppState>,
    a: Authed,
    ApiQuery(q): ApiQuery<AlertQuery>,
) -> Result<Json<AlertListBody>, AppError> {
    let cx = a.cx();
    let access = state
        .store
        .authorize_alerts(&cx, Action::ReadAlerts)
        .await?;
    let filter = parse_filter(&q)?;
    let rows = state.store.alerts(&access, filter, "json").await?;
    Ok(Json(AlertListBody {
        alerts: rows.iter().map(alert_body).collect(),
    }))
}

/// An acknowledgement.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgeInput {
    /// What was checked (one line, at most 200 characters; no case content, no names).
    pub note: Option<String>,
}

#[utoipa::path(post, path = "/alerts/{id}/acknowledge", tag = "oversight",
    params(("id" = String, Path, description = "Alert id (UUID)")),
    request_body = AcknowledgeInput,
    responses((status = 200, description = "The alert, acknowledged (audited without the note); 409 when it already was; 403 for an alert about oneself", body = AlertBody)))]
async fn acknowledge(
    State(state): State<AppState>,
    a: Authed,
    Path(id): Path<String>,
    ApiJson(raw): ApiJson<Value>,
) -> Result<Json<AlertBody>, AppError> {
    let cx = a.cx();
    let access = state
        .store
        .authorize_alerts(&cx, Action::AcknowledgeAlert)
        .await?;
    let id = path_id(&id)?;
    let input: AcknowledgeInput = typed(raw)?;
    let row = state
        .store
        .acknowledge_alert(&access, id, input.note.as_deref().unwrap_or(""))
        .await?;
    Ok(Json(alert_body(&row)))
}
