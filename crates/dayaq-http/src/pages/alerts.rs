//! The access-anomaly alerts screen (`/alerts`, issue #18 part 2): the alerts the policy
//! shows (auditors: every organisation's; an organisation's administrator: its own), filtered
//! by state and rule, each with its linked audit rows and, while open, an acknowledgement form
//! (a refused note is kept and its error shown beside it). The same storage calls as
//! `GET /api/v1/alerts` and `POST /api/v1/alerts/{id}/acknowledge`.

use crate::AppState;
use crate::api::ApiQuery;
use crate::auth::{Authed, PageUser};
use crate::error::AppError;
use crate::i18n::Tr;
use crate::pages::form::value;
use crate::pages::{Chrome, error_page, see_other};
use crate::paths::parse_id;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use dayaq_domain::Role;
use dayaq_domain::oversight::{AlertState, Rule};
use dayaq_domain::policy::Action;
use dayaq_storage::alerts::{AlertFilter, AlertRow};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/alerts", get(alerts_page))
        .route("/alerts/{id}/acknowledge", post(ack_submit))
}

/// The navigation shows the screen to those the policy lets read alerts.
pub(crate) fn nav_link(a: &Authed) -> bool {
    matches!(a.user.role, Role::Auditor | Role::OrgAdmin)
}

pub struct AlertView {
    pub id: String,
    pub rule: String,
    pub severity: String,
    pub severity_class: String,
    pub org: String,
    pub subject: String,
    pub raised_at: String,
    pub open: bool,
    pub state: String,
    pub ack_by: String,
    pub ack_at: String,
    pub note: String,
    pub rows: String,
    /// The typed note of a refused acknowledgement of this alert, and its error.
    pub typed: String,
    pub error: Option<String>,
}

pub struct Opt {
    pub value: &'static str,
    pub label: String,
    pub selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "alerts.html")]
struct AlertsPage {
    c: Chrome,
    alerts: Vec<AlertView>,
    states: Vec<Opt>,
    rules: Vec<Opt>,
    all_orgs: bool,
    summary: Vec<String>,
    acknowledged: bool,
}

fn stamp(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

fn rule_label(t: &Tr, rule: &str) -> String {
    t.get(&format!("alert-rule-{}", rule.replace('_', "-")))
}

/// The screen's query: the filters, and `done=1` after an acknowledgement.
#[derive(Debug, Default, serde::Deserialize)]
pub struct PageQuery {
    pub state: Option<String>,
    pub rule: Option<String>,
    pub done: Option<String>,
}

fn filter_of(q: &PageQuery) -> Result<AlertFilter, AppError> {
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

/// A refused acknowledgement: which alert, what was typed, the error.
struct Refused {
    id: Uuid,
    typed: String,
    error: String,
}

async fn render(
    state: &AppState,
    a: &Authed,
    filter: AlertFilter,
    refused: Option<Refused>,
    acknowledged: bool,
    status: StatusCode,
) -> Response {
    let c = Chrome::for_user(state, a, "alerts");
    let lang = c.t.lang;
    let r: Result<Response, AppError> = async {
        let cx = a.cx();
        let access = state
            .store
            .authorize_alerts(&cx, Action::ReadAlerts)
            .await?;
        let mut rows: Vec<AlertRow> = state.store.alerts(&access, filter, "screen").await?;
        // A refused alert stays on the page even when the filter would hide it.
        if let Some(r) = &refused
            && !rows.iter().any(|x| x.id == r.id)
        {
            let all = AlertFilter::default();
            if let Some(x) = state
                .store
                .alerts(&access, all, "screen")
                .await?
                .into_iter()
                .find(|x| x.id == r.id)
            {
                rows.insert(0, x);
            }
        }
        let t = &c.t;
        let alerts = rows
            .iter()
            .map(|x| {
                let mine = refused.as_ref().filter(|r| r.id == x.id);
                AlertView {
                    id: x.id.to_string(),
                    rule: rule_label(t, &x.rule),
                    severity: t.get(&format!("alert-severity-{}", x.severity)),
                    severity_class: x.severity.clone(),
                    org: x.org_id.clone(),
                    subject: if x.subject_user.is_empty() {
                        x.subject_source.clone()
                    } else {
                        x.subject_user.clone()
                    },
                    raised_at: stamp(x.raised_at),
                    open: x.state == "open",
                    state: t.get(&format!("alert-state-{}", x.state)),
                    ack_by: x.ack_by.clone().unwrap_or_default(),
                    ack_at: x.ack_at.map(stamp).unwrap_or_default(),
                    note: x.ack_note.clone().unwrap_or_default(),
                    rows: x
                        .seqs
                        .iter()
                        .map(i64::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                    typed: mine.map(|r| r.typed.clone()).unwrap_or_default(),
                    error: mine.map(|r| r.error.clone()),
                }
            })
            .collect();
        let cur_state = filter.state.map_or("all", AlertState::name);
        let states = ["open", "acknowledged", "all"]
            .into_iter()
            .map(|v| Opt {
                value: v,
                label: t.get(&format!("alert-state-{v}")),
                selected: v == cur_state,
            })
            .collect();
        let cur_rule = filter.rule.map_or("all", Rule::name);
        let mut rules = vec![Opt {
            value: "all",
            label: t.get("alert-rule-all"),
            selected: cur_rule == "all",
        }];
        rules.extend(Rule::ALL.into_iter().map(|r| Opt {
            value: r.name(),
            label: rule_label(t, r.name()),
            selected: r.name() == cur_rule,
        }));
        let summary = refused
            .as_ref()
            .map(|r| vec![r.error.clone()])
            .unwrap_or_default();
        Ok((
            status,
            AlertsPage {
                all_orgs: access.all_organisations(),
                alerts,
                states,
                rules,
                summary,
                acknowledged,
                c,
            },
        )
            .into_response())
    }
    .await;
    r.unwrap_or_else(|e| {
        let c = Chrome::for_user(state, a, "alerts");
        error_page(state, Some(c), lang, e)
    })
}

async fn alerts_page(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Response {
    // The policy first: a refused reader learns nothing about the filters.
    let cx = a.cx();
    if let Err(e) = state.store.authorize_alerts(&cx, Action::ReadAlerts).await {
        let c = Chrome::for_user(&state, &a, "alerts");
        let lang = c.t.lang;
        return error_page(&state, Some(c), lang, e.into());
    }
    let filter = match filter_of(&q) {
        Ok(f) => f,
        Err(e) => {
            let c = Chrome::for_user(&state, &a, "alerts");
            let lang = c.t.lang;
            return error_page(&state, Some(c), lang, e);
        }
    };
    let done = q.done.as_deref() == Some("1");
    render(&state, &a, filter, None, done, StatusCode::OK).await
}

async fn ack_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let note = value(&f, "note");
    let q = PageQuery {
        state: Some(value(&f, "state")),
        rule: Some(value(&f, "rule")),
        done: None,
    };
    let filter = filter_of(&q).unwrap_or(AlertFilter {
        state: Some(AlertState::Open),
        rule: None,
    });
    let cx = a.cx();
    let r: Result<Uuid, AppError> = async {
        let access = state
            .store
            .authorize_alerts(&cx, Action::AcknowledgeAlert)
            .await?;
        let id = parse_id(&id)?;
        state.store.acknowledge_alert(&access, id, &note).await?;
        Ok(id)
    }
    .await;
    match r {
        Ok(_) => {
            let s = filter.state.map_or("all", AlertState::name);
            let r = filter.rule.map_or("all", Rule::name);
            see_other(&format!("/alerts?state={s}&rule={r}&done=1"))
        }
        Err(AppError::Invalid(errs)) => {
            let c = Chrome::for_user(&state, &a, "alerts");
            let reason = errs
                .errors
                .first()
                .map(|e| c.t.get(&format!("err-{}", e.code.replace('_', "-"))))
                .unwrap_or_default();
            let error = format!("{}: {reason}", c.t.get("alert-note"));
            let Ok(id) = parse_id(&id) else {
                let lang = c.t.lang;
                return error_page(&state, Some(c), lang, AppError::NotFound);
            };
            let refused = Refused {
                id,
                typed: note,
                error,
            };
            render(
                &state,
                &a,
                filter,
                Some(refused),
                false,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => {
            let c = Chrome::for_user(&state, &a, "alerts");
            let lang = c.t.lang;
            error_page(&state, Some(c), lang, e)
        }
    }
}
