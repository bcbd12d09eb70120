//! Research data releases screen (`/releases`, issue #16). A researcher sets her age key,
//! asks for a release (purpose, kind, period, variables, k or ε, the data-use terms) and
//! downloads her generated files; the national coordinator sees the register of every request
//! with the privacy budget spent, and approves (which generates the file) or refuses each
//! request with a reason — never her own. Refused forms keep what was typed and show each
//! error beside its field. The same storage calls as `/api/v1/releases…`.

use crate::AppState;
use crate::api::releases::{file_response, list_access};
use crate::auth::{Authed, PageUser};
use crate::error::AppError;
use crate::i18n::Tr;
use crate::pages::form::{value, values};
use crate::pages::{Chrome, error_page, see_other};
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use dayaq_domain::policy::Action;
use dayaq_domain::{FieldError, ValidationErrors};
use dayaq_storage::releases::requests::{ReleaseInput, variable_names};
use dayaq_storage::releases::{
    DEFAULT_EPSILON, DEFAULT_K, EPSILON_BUDGET, EPSILON_CAP, ReleaseRequest,
};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/releases", get(releases_page).post(request_submit))
        .route("/releases/recipient", post(recipient_submit))
        .route("/releases/{id}/decide", post(decide_submit))
        .route("/releases/{id}/file", get(download))
}

/// One request as a row of the screen.
pub struct RequestView {
    pub id: String,
    pub requester: String,
    pub purpose: String,
    pub kind: String,
    pub period: String,
    pub variables: String,
    pub parameter: String,
    pub state: String,
    pub state_code: &'static str,
    pub reason: String,
    pub created: String,
    pub file: String,
    pub downloadable: bool,
    pub open: bool,
}

pub struct LedgerView {
    pub period: String,
    pub epsilon: String,
    pub release: String,
}

pub struct VarOpt {
    pub name: &'static str,
    pub checked: bool,
}

/// A form's typed values and errors (kept after a refusal).
#[derive(Default)]
pub struct FormView {
    pub fields: Vec<(String, String)>,
    pub errors: Vec<(String, String)>,
    pub summary: Vec<String>,
    /// The request the decision form belongs to (decisions only).
    pub target: String,
}

impl FormView {
    pub fn v(&self, name: &str) -> String {
        value(&self.fields, name)
    }
    pub fn err(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
    /// `aria-invalid` and `aria-describedby` for a refused field.
    pub fn attrs(&self, field: &str, err_id: &str) -> String {
        if self.err(field).is_some() {
            format!(" aria-invalid=\"true\" aria-describedby=\"{err_id}\"")
        } else {
            String::new()
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "releases.html")]
struct ReleasesPage {
    c: Chrome,
    coordinator: bool,
    recipient: String,
    requests: Vec<RequestView>,
    ledger: Vec<LedgerView>,
    spent: String,
    budget: String,
    cap: String,
    default_k: i64,
    default_epsilon: String,
    vars: Vec<VarOpt>,
    key_form: FormView,
    request_form: FormView,
    decision_form: FormView,
    done: String,
}

fn label(t: &Tr, field: &str) -> String {
    t.get(match field {
        "purpose" => "rel-purpose",
        "kind" => "rel-kind",
        "period_from" => "rel-period-from",
        "period_to" | "period" => "rel-period-to",
        "variables" => "rel-variables",
        "k" => "rel-k",
        "epsilon" | "budget" => "rel-epsilon",
        "terms_accepted" => "rel-terms-accept",
        "age_recipient" => "rel-age-key",
        _ => "rel-reason",
    })
}

/// The message of a refused field: its label and the reason, in the user's language.
fn error_text(t: &Tr, e: &FieldError) -> String {
    let key = match e.code {
        "unknown_variable"
        | "below_minimum"
        | "not_positive"
        | "above_cap"
        | "budget_exceeded"
        | "too_few_records"
        | "invalid_age_recipient"
        | "whole_years" => {
            format!("rel-err-{}", e.code.replace('_', "-"))
        }
        code => format!("err-{}", code.replace('_', "-")),
    };
    format!("{}: {}", label(t, &e.field), t.get(&key))
}

fn fill_errors(t: &Tr, form: &mut FormView, errs: &ValidationErrors) {
    form.errors = errs
        .errors
        .iter()
        .map(|e| {
            // The budget and the period's records are shown beside ε and the period's end.
            let field = match e.field.as_str() {
                "budget" => "epsilon".to_string(),
                "period" => "period_to".to_string(),
                f => f.to_string(),
            };
            (field, error_text(t, e))
        })
        .collect();
    form.summary = errs.errors.iter().map(|e| error_text(t, e)).collect();
}

fn state_text(t: &Tr, r: &ReleaseRequest) -> String {
    t.get(&format!("rel-state-{}", r.state.name()))
}

fn view(t: &Tr, r: &ReleaseRequest) -> RequestView {
    RequestView {
        id: r.id.to_string(),
        requester: r.requester_name.clone(),
        purpose: r.purpose.clone(),
        kind: t.get(&format!("rel-kind-{}", r.kind.name())),
        period: format!("{} – {}", r.period_from, r.period_to),
        variables: r.variables.join(", "),
        parameter: match (r.k, r.epsilon) {
            (Some(k), _) => format!("k = {k}"),
            (_, Some(e)) => format!("ε = {e}"),
            _ => String::new(),
        },
        state: state_text(t, r),
        state_code: r.state.name(),
        reason: r.reason.clone().unwrap_or_default(),
        created: r.created_at.date().to_string(),
        file: r
            .file
            .as_ref()
            .map(|f| {
                format!(
                    "{} {} · {} {}",
                    f.records,
                    t.get("rel-records"),
                    f.suppressed,
                    t.get("rel-suppressed")
                )
            })
            .unwrap_or_default(),
        downloadable: r.state.has_file(),
        open: r.state == dayaq_storage::releases::ReleaseState::Requested,
    }
}

struct Forms {
    key: FormView,
    request: FormView,
    decision: FormView,
    done: String,
}

async fn render(state: &AppState, a: &Authed, forms: Forms, status: StatusCode) -> Response {
    let c = Chrome::for_user(state, a, "releases");
    let lang = c.t.lang;
    let r: Result<Response, AppError> = async {
        let cx = a.cx();
        let access = list_access(state, &cx).await?;
        let coordinator = access.action() == Action::DecideRelease;
        let list = state.store.release_requests(&access, "screen").await?;
        let (ledger, spent) = if coordinator {
            let l = state.store.privacy_ledger(&access, "screen").await?;
            let spent: f64 = l.iter().map(|e| e.epsilon).sum();
            (l, spent)
        } else {
            (Vec::new(), 0.0)
        };
        let recipient = if coordinator {
            String::new()
        } else {
            state
                .store
                .release_recipient(a.actor.user_id)
                .await?
                .unwrap_or_default()
        };
        let t = &c.t;
        let chosen = values(&forms.request.fields, "variables");
        Ok((
            status,
            ReleasesPage {
                coordinator,
                recipient,
                requests: list.iter().map(|r| view(t, r)).collect(),
                ledger: ledger
                    .iter()
                    .map(|e| LedgerView {
                        period: format!("{} – {}", e.period_from, e.period_to),
                        epsilon: e.epsilon.to_string(),
                        release: e.release_id.to_string(),
                    })
                    .collect(),
                spent: format!("{spent}"),
                budget: EPSILON_BUDGET.to_string(),
                cap: EPSILON_CAP.to_string(),
                default_k: DEFAULT_K,
                default_epsilon: DEFAULT_EPSILON.to_string(),
                vars: variable_names()
                    .into_iter()
                    .map(|name| VarOpt {
                        name,
                        checked: chosen.iter().any(|c| c == name),
                    })
                    .collect(),
                key_form: forms.key,
                request_form: forms.request,
                decision_form: forms.decision,
                done: forms.done,
                c,
            },
        )
            .into_response())
    }
    .await;
    r.unwrap_or_else(|e| {
        let c = Chrome::for_user(state, a, "releases");
        error_page(state, Some(c), lang, e)
    })
}

fn empty() -> Forms {
    Forms {
        key: FormView::default(),
        request: FormView::default(),
        decision: FormView::default(),
        done: String::new(),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct PageQuery {
    /// `requested`, `key`, `approved`, `refused` after a successful form.
    pub done: Option<String>,
}

async fn releases_page(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    crate::api::ApiQuery(q): crate::api::ApiQuery<PageQuery>,
) -> Response {
    let mut forms = empty();
    forms.done = match q.done.as_deref() {
        Some(d @ ("requested" | "key" | "approved" | "refused")) => format!("rel-done-{d}"),
        _ => String::new(),
    };
    render(&state, &a, forms, StatusCode::OK).await
}

/// The answer to a form: back to the screen on success, the screen with the errors on a
/// refusal, the error page otherwise.
async fn answer(
    state: &AppState,
    a: &Authed,
    r: Result<(), AppError>,
    mut forms: Forms,
    which: &str,
    done: &str,
) -> Response {
    match r {
        Ok(()) => see_other(&format!("/releases?done={done}")),
        Err(AppError::Invalid(errs)) => {
            let t = Tr::new(crate::pages::form::lang_of(a));
            let form = match which {
                "key" => &mut forms.key,
                "decision" => &mut forms.decision,
                _ => &mut forms.request,
            };
            fill_errors(&t, form, &errs);
            render(state, a, forms, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => {
            let c = Chrome::for_user(state, a, "releases");
            let lang = c.t.lang;
            error_page(state, Some(c), lang, e)
        }
    }
}

async fn recipient_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let cx = a.cx();
    let r: Result<(), AppError> = async {
        let access = state
            .store
            .authorize_release(&cx, Action::RequestRelease)
            .await?;
        state
            .store
            .set_release_recipient(&access, &value(&f, "age_recipient"))
            .await?;
        Ok(())
    }
    .await;
    let mut forms = empty();
    forms.key.fields = f;
    answer(&state, &a, r, forms, "key", "key").await
}

/// A number field: empty is the default, anything else must parse (else 422 on `field`).
fn number<T: std::str::FromStr>(raw: &str, field: &str, errs: &mut ValidationErrors) -> Option<T> {
    let s = raw.trim();
    if s.is_empty() {
        return None;
    }
    match s.replace(',', ".").parse::<T>() {
        Ok(n) => Some(n),
        Err(_) => {
            errs.push(FieldError::new(field, "invalid_number", "not a number"));
            None
        }
    }
}

async fn request_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let cx = a.cx();
    let r: Result<(), AppError> = async {
        let access = state
            .store
            .authorize_release(&cx, Action::RequestRelease)
            .await?;
        let mut errs = ValidationErrors::default();
        let kind = value(&f, "kind");
        let k = if kind == "microdata" {
            number::<i64>(&value(&f, "k"), "k", &mut errs)
        } else {
            None
        };
        let epsilon = if kind == "tables" {
            number::<f64>(&value(&f, "epsilon"), "epsilon", &mut errs)
        } else {
            None
        };
        if !errs.is_empty() {
            return Err(AppError::Invalid(errs));
        }
        let input = ReleaseInput {
            purpose: value(&f, "purpose"),
            kind,
            period_from: value(&f, "period_from"),
            period_to: value(&f, "period_to"),
            variables: values(&f, "variables"),
            k,
            epsilon,
            terms_accepted: value(&f, "terms_accepted") == "yes",
        };
        state.store.request_release(&access, &input).await?;
        Ok(())
    }
    .await;
    let mut forms = empty();
    forms.request.fields = f;
    answer(&state, &a, r, forms, "request", "requested").await
}

async fn decide_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(raw): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let cx = a.cx();
    let approve = value(&f, "decision") == "approve";
    let r: Result<(), AppError> = async {
        let access = state
            .store
            .authorize_release(&cx, Action::DecideRelease)
            .await?;
        let id = Uuid::parse_str(&raw).map_err(|_| AppError::NotFound)?;
        let reason = value(&f, "reason");
        if approve {
            state.store.approve_release(&access, id, &reason).await?;
        } else {
            state.store.refuse_release(&access, id, &reason).await?;
        }
        Ok(())
    }
    .await;
    let mut forms = empty();
    forms.decision.fields = f;
    forms.decision.target = raw;
    let done = if approve { "approved" } else { "refused" };
    answer(&state, &a, r, forms, "decision", done).await
}

async fn download(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(raw): Path<String>,
) -> Response {
    let cx = a.cx();
    let r: Result<Response, AppError> = async {
        let access = state
            .store
            .authorize_release(&cx, Action::DownloadRelease)
            .await?;
        let id = Uuid::parse_str(&raw).map_err(|_| AppError::NotFound)?;
        let f = state.store.download_release(&access, id).await?;
        Ok(file_response(&f))
    }
    .await;
    r.unwrap_or_else(|e| {
        let c = Chrome::for_user(&state, &a, "releases");
        let lang = c.t.lang;
        error_page(&state, Some(c), lang, e)
    })
}
