//! Webhooks screen (issue 22 §4): `/webhooks` — the organisation's endpoints (register with
//! the event types, the signing secret shown once; disable), and the delivery log (event type,
//! state, attempts, last status). For the organisation's admin and supervisors
//! (`Action::ManageWebhooks`); anyone else gets the refusal page.

use super::form::{Refused, lang_of, values};
use crate::AppState;
use crate::auth::{Authed, PageUser};
use crate::error::AppError;
use crate::i18n::Tr;
use crate::pages::{Chrome, error_page, see_other};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use dayaq_domain::webhooks::{EndpointInput, EventType};
use dayaq_storage::StoreError;
use dayaq_storage::webhooks::{Delivery, Endpoint};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks", get(webhooks_page).post(endpoint_submit))
        .route("/webhooks/{id}/disable", post(endpoint_disable))
}

fn event_label(t: &Tr, code: &str) -> String {
    t.get(match EventType::parse(code) {
        Some(EventType::ReferralReceived) => "wh-event-referral-received",
        Some(EventType::ReferralAnswered) => "wh-event-referral-answered",
        Some(EventType::DecisionMade) => "wh-event-decision-made",
        Some(EventType::CheckinAnswered) => "wh-event-checkin-answered",
        None => "wh-event-unknown",
    })
}

fn state_label(t: &Tr, state: &str) -> String {
    t.get(match state {
        "delivered" => "wh-state-delivered",
        "failed" => "wh-state-failed",
        "cancelled" => "wh-state-cancelled",
        _ => "wh-state-pending",
    })
}

/// One event type's checkbox.
pub struct EventBox {
    pub code: &'static str,
    pub id: String,
    pub label: String,
}

pub struct EndpointLine {
    pub id: String,
    pub url: String,
    pub events: String,
    pub live: bool,
}

pub struct DeliveryLine {
    pub id: String,
    pub event: String,
    pub state: String,
    pub attempts: i64,
    pub created: String,
    /// The last status or error code, or the time of the next attempt.
    pub last: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "webhooks.html")]
struct WebhooksPage {
    c: Chrome,
    boxes: Vec<EventBox>,
    endpoints: Vec<EndpointLine>,
    deliveries: Vec<DeliveryLine>,
    /// The secret of the endpoint just registered, shown once.
    secret: Option<String>,
    r: Refused,
}

fn endpoint_line(t: &Tr, e: Endpoint) -> EndpointLine {
    EndpointLine {
        id: e.id.to_string(),
        url: e.url,
        events: e
            .events
            .iter()
            .map(|c| event_label(t, c))
            .collect::<Vec<_>>()
            .join(", "),
        live: !e.disabled,
    }
}

fn delivery_line(t: &Tr, d: Delivery) -> DeliveryLine {
    let last = match (&d.last_status, &d.last_error, &d.next_attempt_at) {
        (Some(s), _, _) if d.state == "delivered" => s.to_string(),
        (Some(s), _, Some(next)) => format!("{s} → {next}"),
        (None, Some(e), Some(next)) => format!("{e} → {next}"),
        (Some(s), _, None) => s.to_string(),
        (None, Some(e), None) => e.clone(),
        (None, None, Some(next)) => next.clone(),
        (None, None, None) => String::new(),
    };
    DeliveryLine {
        event: event_label(t, &d.event_type),
        state: state_label(t, &d.state),
        id: d.id,
        attempts: d.attempts,
        created: d.created_at,
        last,
    }
}

async fn render(
    state: &AppState,
    a: &Authed,
    secret: Option<String>,
    r: Refused,
    status: StatusCode,
) -> Response {
    let c = Chrome::for_user(state, a, "");
    let t = c.t;
    let ctx = a.cx();
    let endpoints = match state.store.webhook_endpoints(&ctx).await {
        Ok(e) => e,
        Err(e) => return error_page(state, Some(c), t.lang, e.into()),
    };
    let deliveries = match state.store.webhook_deliveries(&ctx).await {
        Ok(d) => d,
        Err(e) => return error_page(state, Some(c), t.lang, e.into()),
    };
    let boxes = EventType::ALL
        .iter()
        .map(|e| EventBox {
            code: e.as_str(),
            id: format!("wh-ev-{}", e.as_str().replace('.', "-")),
            label: event_label(&t, e.as_str()),
        })
        .collect();
    let page = WebhooksPage {
        boxes,
        endpoints: endpoints
            .into_iter()
            .map(|e| endpoint_line(&t, e))
            .collect(),
        deliveries: deliveries
            .into_iter()
            .map(|d| delivery_line(&t, d))
            .collect(),
        secret,
        r,
        c,
    };
    (status, page).into_response()
}

async fn webhooks_page(State(state): State<AppState>, PageUser(a): PageUser) -> Response {
    render(&state, &a, None, Refused::default(), StatusCode::OK).await
}

async fn endpoint_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let t = Tr::new(lang_of(&a));
    let input = EndpointInput {
        url: super::form::value(&f, "url"),
        events: values(&f, "events"),
    };
    match state.store.add_webhook_endpoint(&a.cx(), &input).await {
        Ok(created) => {
            render(
                &state,
                &a,
                Some(created.secret),
                Refused::default(),
                StatusCode::CREATED,
            )
            .await
        }
        Err(StoreError::Invalid(v)) => {
            let r = Refused::new(&t, "endpoint", f, &v);
            render(&state, &a, None, r, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => error_page(&state, None, t.lang, e.into()),
    }
}

async fn endpoint_disable(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
) -> Response {
    let t = Tr::new(lang_of(&a));
    let Ok(id) = crate::paths::parse_id(&id) else {
        return error_page(&state, None, t.lang, AppError::NotFound);
    };
    match state.store.disable_webhook_endpoint(&a.cx(), id).await {
        Ok(()) => see_other("/webhooks"),
        Err(e) => error_page(&state, None, t.lang, e.into()),
    }
}
