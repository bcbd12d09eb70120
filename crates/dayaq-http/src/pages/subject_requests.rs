//! The "Her data" screen of a case (issue #17 part 2): her data-subject requests (access,
//! correction, restriction, erasure), a form to record one, the supervisor's decisions, her
//! copy (the passphrase is shown once, on the answer of the form that made it) with its single
//! download, and the erasure workflow (approve by another supervisor → execute). The case page
//! shows a short section with the restriction flag and a link here.

use super::form::{CaseForm, Opt, lang_of, opt_value, value};
use crate::AppState;
use crate::auth::{Authed, PageUser};
use crate::error::AppError;
use crate::i18n::Tr;
use crate::pages::{CasePart, Chrome, error_page, see_other};
use crate::subject_access::{download_name, make_copy};
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use dayaq_domain::policy::{Action, Resource, decide};
use dayaq_domain::subject_request::{
    Channel, DecisionInput, RecordLanguage, RefusalReason, RequestInput, RequestKind, RequestRef,
    RequestState,
};
use dayaq_domain::{FieldError, ValidationErrors};
use dayaq_storage::StoreError;
use dayaq_storage::subject_requests::SubjectRequestView;
use uuid::Uuid;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/cases/{id}/her-data", get(page))
        .route("/cases/{id}/her-data/request", post(record_submit))
        .route("/cases/{id}/her-data/decide", post(decide_submit))
        .route("/cases/{id}/her-data/export", post(export_submit))
        .route("/cases/{id}/her-data/download", post(download_submit))
        .route("/cases/{id}/her-data/erase", post(erase_submit))
}

/// The posted values of a refused form.
#[derive(Default)]
pub struct Posted(Vec<(String, String)>);

impl Posted {
    pub fn v(&self, key: &str) -> String {
        value(&self.0, key)
    }
    pub fn is(&self, key: &str, v: &str) -> bool {
        self.v(key) == v
    }
}

/// The errors of one refused form (`form`: "record", or the request id for its decision).
#[derive(Default)]
pub struct FieldErrs {
    pub form: String,
    pub by_field: Vec<(String, String)>,
    pub summary: Vec<String>,
}

impl FieldErrs {
    fn of(t: &Tr, form: String, errs: &ValidationErrors) -> FieldErrs {
        FieldErrs {
            form,
            by_field: errs
                .errors
                .iter()
                .map(|e| (e.field.clone(), error_text(t, e)))
                .collect(),
            summary: errs.errors.iter().map(|e| error_text(t, e)).collect(),
        }
    }
    pub fn get(&self, form: &str, field: &str) -> Option<String> {
        if self.form != form {
            return None;
        }
        let msgs: Vec<&str> = self
            .by_field
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
            .collect();
        (!msgs.is_empty()).then(|| msgs.join("; "))
    }
    pub fn attrs(&self, form: &str, field: &str, err_id: &str) -> String {
        if self.get(form, field).is_some() {
            format!(" aria-invalid=\"true\" aria-describedby=\"{err_id}\"")
        } else {
            String::new()
        }
    }
}

/// The labels of this screen's form fields (also the field names of its errors).
const FIELDS: &[(&str, &str)] = &[
    ("kind", "dsr-f-kind"),
    ("channel", "dsr-f-channel"),
    ("requested_on", "dsr-f-requested-on"),
    ("language", "dsr-f-language"),
    ("decision", "dsr-f-decision"),
    ("refusal_reason", "dsr-f-refusal-reason"),
    ("refusal_text", "dsr-f-refusal-text"),
    ("changed_fields", "dsr-f-changed-fields"),
    ("request", "dsr-f-request"),
    ("confirm", "dsr-f-confirm"),
];
/// The reasons of refused input (`FieldError::code`).
const ERRORS: &[(&str, &str)] = &[
    ("invalid_value", "dsr-e-invalid-value"),
    ("required", "dsr-e-required"),
    ("in_future", "dsr-e-in-future"),
    ("invalid_date", "dsr-e-invalid-date"),
    ("too_long", "dsr-e-too-long"),
    ("unknown_field", "dsr-e-unknown-field"),
    ("too_many", "dsr-e-too-many"),
    ("already_decided", "dsr-e-already-decided"),
    ("four_eyes", "dsr-e-four-eyes"),
    ("not_for_kind", "dsr-e-not-for-kind"),
    ("not_access", "dsr-e-not-access"),
    ("refused", "dsr-e-refused"),
    ("not_erasure", "dsr-e-not-erasure"),
    ("not_approved", "dsr-e-not-approved"),
    ("unknown", "dsr-e-unknown"),
    ("no_copy_waiting", "dsr-e-no-copy-waiting"),
];
const KINDS: &[(RequestKind, &str)] = &[
    (RequestKind::Access, "dsr-kind-access"),
    (RequestKind::Correction, "dsr-kind-correction"),
    (RequestKind::Restriction, "dsr-kind-restriction"),
    (RequestKind::Erasure, "dsr-kind-erasure"),
];
const CHANNELS: &[(Channel, &str)] = &[
    (Channel::InPerson, "dsr-channel-in-person"),
    (Channel::ViaCaseworker, "dsr-channel-via-caseworker"),
];
const STATES: &[(RequestState, &str)] = &[
    (RequestState::Requested, "dsr-state-requested"),
    (RequestState::Approved, "dsr-state-approved"),
    (RequestState::Refused, "dsr-state-refused"),
    (RequestState::Completed, "dsr-state-completed"),
];
const REASONS: &[(RefusalReason, &str)] = &[
    (
        RefusalReason::OngoingProsecution,
        "dsr-reason-ongoing-prosecution",
    ),
    (RefusalReason::LegalHold, "dsr-reason-legal-hold"),
    (
        RefusalReason::StatutoryRetention,
        "dsr-reason-statutory-retention",
    ),
    (RefusalReason::Other, "dsr-reason-other"),
];

fn label<T: PartialEq + Copy>(t: &Tr, table: &[(T, &str)], v: T) -> String {
    table
        .iter()
        .find(|(x, _)| *x == v)
        .map(|(_, k)| t.get(k))
        .unwrap_or_default()
}

/// "Field: reason" with this screen's own labels.
fn error_text(t: &Tr, e: &FieldError) -> String {
    let field = label(t, FIELDS, e.field.as_str());
    let reason = ERRORS
        .iter()
        .find(|(c, _)| *c == e.code)
        .map(|(_, k)| t.get(k))
        .unwrap_or_else(|| e.message.clone());
    format!("{field}: {reason}")
}

fn kind_label(t: &Tr, k: RequestKind) -> String {
    label(t, KINDS, k)
}
fn channel_label(t: &Tr, c: Channel) -> String {
    label(t, CHANNELS, c)
}
fn state_label(t: &Tr, s: RequestState) -> String {
    label(t, STATES, s)
}
fn reason_label(t: &Tr, r: RefusalReason) -> String {
    label(t, REASONS, r)
}
fn language_label(l: RecordLanguage) -> &'static str {
    match l {
        RecordLanguage::Az => "Azərbaycanca",
        RecordLanguage::Ru => "Русский",
        RecordLanguage::En => "English",
    }
}

/// One request as the screen shows it, with the actions open to the reader.
pub struct Row {
    pub id: Uuid,
    pub kind: String,
    pub kind_code: &'static str,
    pub channel: String,
    pub requested_on: String,
    pub state: String,
    pub state_code: &'static str,
    pub language: String,
    pub decided_at: String,
    pub refusal: String,
    pub changed_fields: String,
    pub completed_at: String,
    pub downloaded_at: String,
    pub can_accept: bool,
    pub can_approve: bool,
    pub own_erasure: bool,
    pub can_refuse: bool,
    pub can_export: bool,
    pub can_download: bool,
    pub can_execute: bool,
}

fn row(t: &Tr, r: &SubjectRequestView, supervisor: bool, me: Uuid) -> Row {
    use RequestKind as K;
    use RequestState as S;
    let open = r.state == S::Requested;
    let refusal = match r.refusal_reason {
        Some(reason) => {
            let mut s = reason_label(t, reason);
            if let Some(text) = &r.refusal_text {
                s.push_str(": ");
                s.push_str(text);
            }
            s
        }
        None => String::new(),
    };
    Row {
        id: r.id,
        kind: kind_label(t, r.kind),
        kind_code: r.kind.as_str(),
        channel: channel_label(t, r.channel),
        requested_on: r.requested_on.clone(),
        state: state_label(t, r.state),
        state_code: r.state.as_str(),
        language: r.language.map(language_label).unwrap_or_default().into(),
        decided_at: r
            .decided_at
            .as_deref()
            .map(|d| t.datetime(d))
            .unwrap_or_default(),
        refusal,
        changed_fields: r.changed_fields.join(", "),
        completed_at: r
            .completed_at
            .as_deref()
            .map(|d| t.datetime(d))
            .unwrap_or_default(),
        downloaded_at: r
            .export_downloaded_at
            .as_deref()
            .map(|d| t.datetime(d))
            .unwrap_or_default(),
        can_accept: supervisor && open && matches!(r.kind, K::Correction | K::Restriction),
        can_approve: supervisor && open && r.kind == K::Erasure && r.recorded_by != me,
        own_erasure: supervisor && open && r.kind == K::Erasure && r.recorded_by == me,
        can_refuse: supervisor && (open || (r.kind == K::Erasure && r.state == S::Approved)),
        can_export: supervisor && r.kind == K::Access && r.state != S::Refused,
        can_download: supervisor && r.export_ready,
        can_execute: supervisor && r.kind == K::Erasure && r.state == S::Approved,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "subject_requests.html")]
struct HerDataPage {
    c: Chrome,
    case_id: Uuid,
    case_number: String,
    restricted: bool,
    rows: Vec<Row>,
    kinds: Vec<Opt>,
    channels: Vec<Opt>,
    languages: Vec<Opt>,
    reasons: Vec<Opt>,
    today: String,
    /// The passphrase of the copy just made (shown on this answer only) and its request.
    passphrase: String,
    passphrase_request: String,
    posted: Posted,
    errs: FieldErrs,
}

async fn page(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
) -> Response {
    let Ok(uid) = crate::paths::parse_id(&id) else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    render(&state, &a, uid, Extra::default(), StatusCode::OK).await
}

#[derive(Default)]
struct Extra {
    passphrase: Option<(String, Uuid)>,
    posted: Posted,
    errs: FieldErrs,
}

async fn render(
    state: &AppState,
    a: &Authed,
    id: Uuid,
    extra: Extra,
    status: StatusCode,
) -> Response {
    let c = Chrome::for_user(state, a, "cases");
    let t = c.t;
    let r: Result<Response, AppError> = async {
        let ctx = a.cx();
        let list = state.store.subject_requests(&ctx, id).await?;
        let case = state.store.get_case(&ctx, id, false).await?;
        let supervisor = a.actor.role == dayaq_domain::Role::Supervisor;
        let opts = |codes: Vec<(&str, String)>| -> Vec<Opt> {
            codes
                .into_iter()
                .map(|(v, l)| Opt {
                    value: v.to_string(),
                    label: l,
                })
                .collect()
        };
        let (passphrase, passphrase_request) = match extra.passphrase {
            Some((p, r)) => (p, r.to_string()),
            None => (String::new(), String::new()),
        };
        Ok((
            status,
            [(CACHE_CONTROL, "no-store")],
            HerDataPage {
                case_id: id,
                case_number: case.case_number.clone(),
                restricted: list.restricted,
                rows: list
                    .requests
                    .iter()
                    .map(|r| row(&t, r, supervisor, a.actor.user_id))
                    .collect(),
                kinds: opts(
                    RequestKind::ALL
                        .iter()
                        .map(|k| (k.as_str(), kind_label(&t, *k)))
                        .collect(),
                ),
                channels: opts(
                    Channel::ALL
                        .iter()
                        .map(|k| (k.as_str(), channel_label(&t, *k)))
                        .collect(),
                ),
                languages: opts(
                    RecordLanguage::ALL
                        .iter()
                        .map(|k| (k.as_str(), language_label(*k).to_string()))
                        .collect(),
                ),
                reasons: opts(
                    RefusalReason::ALL
                        .iter()
                        .map(|k| (k.as_str(), reason_label(&t, *k)))
                        .collect(),
                ),
                today: ctx.now.date().to_string(),
                passphrase,
                passphrase_request,
                posted: extra.posted,
                errs: extra.errs,
                c,
            },
        )
            .into_response())
    }
    .await;
    r.unwrap_or_else(|e| error_page(state, None, lang_of(a), e))
}

/// The page again with the form's errors by its fields (422), or the error page.
async fn refused(state: &AppState, f: CaseForm, form: String, e: StoreError) -> Response {
    match e {
        StoreError::Invalid(v) => {
            let t = Tr::new(lang_of(&f.a));
            let extra = Extra {
                passphrase: None,
                errs: FieldErrs::of(&t, form, &v),
                posted: Posted(f.f),
            };
            render(state, &f.a, f.uid, extra, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        e => error_page(state, None, lang_of(&f.a), e.into()),
    }
}

fn here(id: Uuid) -> String {
    format!("/cases/{id}/her-data")
}

async fn record_submit(State(state): State<AppState>, f: CaseForm) -> Response {
    let input = RequestInput {
        kind: value(&f.f, "kind"),
        channel: value(&f.f, "channel"),
        requested_on: opt_value(&f.f, "requested_on"),
        language: opt_value(&f.f, "language"),
    };
    match state
        .store
        .record_subject_request(&f.a.cx(), f.uid, &input)
        .await
    {
        Ok(_) => see_other(&here(f.uid)),
        Err(e) => refused(&state, f, "record".into(), e).await,
    }
}

async fn decide_submit(State(state): State<AppState>, f: CaseForm) -> Response {
    let request = value(&f.f, "request");
    let input = DecisionInput {
        request: Some(request.clone()),
        decision: value(&f.f, "decision"),
        refusal_reason: opt_value(&f.f, "refusal_reason"),
        refusal_text: opt_value(&f.f, "refusal_text"),
        changed_fields: opt_value(&f.f, "changed_fields").map(|s| {
            s.split([',', ' ', ';', '\n'])
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        }),
    };
    match state
        .store
        .decide_subject_request(&f.a.cx(), f.uid, &input)
        .await
    {
        Ok(_) => see_other(&here(f.uid)),
        Err(e) => refused(&state, f, request, e).await,
    }
}

async fn export_submit(State(state): State<AppState>, f: CaseForm) -> Response {
    let request = value(&f.f, "request");
    let r = RequestRef {
        request: Some(request.clone()),
    };
    match make_copy(&state, &f.a.cx(), f.uid, &r).await {
        Ok(pass) => {
            let req = Uuid::parse_str(&request).unwrap_or_default();
            let extra = Extra {
                passphrase: Some((pass.as_str().to_owned(), req)),
                ..Default::default()
            };
            render(&state, &f.a, f.uid, extra, StatusCode::OK).await
        }
        Err(AppError::Invalid(v)) => refused(&state, f, request, StoreError::Invalid(v)).await,
        Err(e) => error_page(&state, None, lang_of(&f.a), e),
    }
}

async fn download_submit(State(state): State<AppState>, f: CaseForm) -> Response {
    let request = value(&f.f, "request");
    let r = RequestRef {
        request: Some(request.clone()),
    };
    match state.store.take_subject_access(&f.a.cx(), f.uid, &r).await {
        Ok(bytes) => (
            [
                (CONTENT_TYPE, "application/octet-stream".to_string()),
                (
                    CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}\"", download_name(&state)),
                ),
                (CACHE_CONTROL, "no-store".to_string()),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => refused(&state, f, request, e).await,
    }
}

async fn erase_submit(State(state): State<AppState>, f: CaseForm) -> Response {
    let request = value(&f.f, "request");
    if value(&f.f, "confirm") != "erase" {
        let e = ValidationErrors::single(FieldError::new(
            "confirm",
            "required",
            "tick the box to confirm",
        ));
        return refused(&state, f, request, StoreError::Invalid(e)).await;
    }
    let r = RequestRef {
        request: Some(request.clone()),
    };
    match state
        .store
        .execute_subject_erasure(&f.a.cx(), f.uid, &r)
        .await
    {
        Ok(()) => see_other("/cases?erased=1"),
        Err(e) => refused(&state, f, request, e).await,
    }
}

#[derive(Template)]
#[template(path = "subject_requests_section.html")]
struct Section {
    t: Tr,
    case_id: Uuid,
    restricted: bool,
    may_open: bool,
}

/// The case page's short "Her data" section: the restriction flag (for anyone who reads the
/// case) and, for the owning organisation's case managers, the link to the screen.
pub(crate) async fn case_section(part: CasePart<'_>) -> Result<String, AppError> {
    let (state, a, ctx, t, case) = part.parts();
    let Some(facts) = part.facts().await? else {
        return Ok(String::new());
    };
    let may = |action| decide(&a.actor, action, Resource::Case(&facts)).allowed;
    if !may(Action::ReadCase) {
        return Ok(String::new());
    }
    let may_open = may(Action::RecordSubjectRequest);
    let restricted = state.store.case_restricted(ctx, case).await?;
    if !may_open && !restricted {
        return Ok(String::new());
    }
    Section {
        t: *t,
        case_id: case,
        restricted,
        may_open,
    }
    .render()
    .map_err(|e| AppError::Internal(e.to_string()))
}
