//! The "Her data" screen of a case (issue #17 part 2): her data-subject requests (access,
//! correction, restriction, erasure), a form to record one, the supervisor's decisions, her
//! copy (the passphrase is shown once, on the answer of the form that made it) with its single
//! download, the erasure workflow (approve by another supervisor → execute) and lifting an
//! accepted restriction. The case page shows a short section with the restriction flag and a
//! link here. Forms follow the one form pattern of `form.rs` (issue #23): `FormSpec`s, a
//! refused form shown again (422) open with its values (`CaseForms`), each error beside its
//! field and in a summary; a success redirects with a `?done=` code confirmed in words.

use super::form::{CaseForm, CaseForms, FormSpec, Opt, Posted, lang_of, opt_value, value};
use crate::AppState;
use crate::auth::{Authed, PageUser};
use crate::error::AppError;
use crate::i18n::Tr;
use crate::pages::{CasePart, Chrome, error_page, see_other};
use crate::subject_access::{download_name, make_copy};
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
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
        .route("/cases/{id}/her-data/lift", post(lift_submit))
}

/// The form that records a request.
const RECORD: FormSpec = FormSpec {
    name: "record",
    done: "dsr-recorded",
    ids: &[
        ("kind", "dsr-kind"),
        ("channel", "dsr-channel"),
        ("requested_on", "dsr-date"),
        ("language", "dsr-language"),
    ],
};
/// The forms of one request (decide, copy, download, erase, lift): one refused at a time, the
/// request named by the posted `request`; the summary links to the request's block.
const DECIDE: FormSpec = FormSpec {
    name: "request",
    done: "dsr-decided",
    ids: &[],
};
const LIFT: FormSpec = FormSpec {
    name: "request",
    done: "dsr-lifted",
    ids: &[],
};

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
    ("not_restriction", "dsr-e-not-restriction"),
    ("not_in_force", "dsr-e-not-in-force"),
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
    (RequestState::Lifted, "dsr-state-lifted"),
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
    pub lifted_at: String,
    /// This request's form was the one refused (its errors are shown here).
    pub refused: bool,
    pub can_lift: bool,
    pub can_accept: bool,
    pub can_approve: bool,
    pub own_erasure: bool,
    pub can_refuse: bool,
    pub can_export: bool,
    pub can_download: bool,
    pub can_execute: bool,
}

fn row(t: &Tr, r: &SubjectRequestView, supervisor: bool, me: Uuid, forms: &CaseForms) -> Row {
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
        lifted_at: r
            .lifted_at
            .as_deref()
            .map(|d| t.datetime(d))
            .unwrap_or_default(),
        refused: forms.errs.form == DECIDE.name
            && Uuid::parse_str(forms.posted.v("request").trim()).ok() == Some(r.id),
        can_lift: supervisor && r.kind == K::Restriction && r.state == S::Completed,
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
    forms: CaseForms,
}

/// `?done=<code>` after a form that succeeded (codes of `form::DONE`, never free text).
#[derive(serde::Deserialize, Default)]
struct DoneQuery {
    done: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let Ok(uid) = crate::paths::parse_id(&id) else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    let done = q.done;
    let extra = Extra {
        passphrase: None,
        forms: CaseForms::page(&Tr::new(lang_of(&a)), done.as_deref()),
    };
    render(&state, &a, uid, extra, StatusCode::OK).await
}

struct Extra {
    passphrase: Option<(String, Uuid)>,
    forms: CaseForms,
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
                    .map(|r| row(&t, r, supervisor, a.actor.user_id, &extra.forms))
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
                forms: extra.forms,
                c,
            },
        )
            .into_response())
    }
    .await;
    r.unwrap_or_else(|e| error_page(state, None, lang_of(a), e))
}

/// The page again (422) with form `spec` open, its values kept and each error by its field;
/// anything but refused input is the error page.
async fn refused(state: &AppState, f: CaseForm, spec: &FormSpec, e: StoreError) -> Response {
    match e {
        StoreError::Invalid(v) => {
            let t = Tr::new(lang_of(&f.a));
            let extra = Extra {
                passphrase: None,
                forms: CaseForms::refused(&t, spec, Posted(f.f), &v, error_text),
            };
            render(state, &f.a, f.uid, extra, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        e => error_page(state, None, lang_of(&f.a), e.into()),
    }
}

/// The answer to a form of this screen: back here with the form's `?done=` code, or refused.
async fn answer<T>(
    state: &AppState,
    f: CaseForm,
    spec: &FormSpec,
    r: Result<T, StoreError>,
) -> Response {
    match r {
        Ok(_) => see_other(&format!("{}?done={}", here(f.uid), spec.done)),
        Err(e) => refused(state, f, spec, e).await,
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
    let r = state
        .store
        .record_subject_request(&f.a.cx(), f.uid, &input)
        .await;
    answer(&state, f, &RECORD, r).await
}

async fn decide_submit(State(state): State<AppState>, f: CaseForm) -> Response {
    let input = DecisionInput {
        request: Some(value(&f.f, "request")),
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
    let r = state
        .store
        .decide_subject_request(&f.a.cx(), f.uid, &input)
        .await;
    answer(&state, f, &DECIDE, r).await
}

async fn lift_submit(State(state): State<AppState>, f: CaseForm) -> Response {
    let r = RequestRef {
        request: Some(value(&f.f, "request")),
    };
    let r = state
        .store
        .lift_subject_restriction(&f.a.cx(), f.uid, &r)
        .await;
    answer(&state, f, &LIFT, r).await
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
                forms: CaseForms::page(&Tr::new(lang_of(&f.a)), None),
            };
            render(&state, &f.a, f.uid, extra, StatusCode::OK).await
        }
        Err(AppError::Invalid(v)) => refused(&state, f, &DECIDE, StoreError::Invalid(v)).await,
        Err(e) => error_page(&state, None, lang_of(&f.a), e),
    }
}

async fn download_submit(State(state): State<AppState>, f: CaseForm) -> Response {
    let r = RequestRef {
        request: Some(value(&f.f, "request")),
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
        Err(e) => refused(&state, f, &DECIDE, e).await,
    }
}

async fn erase_submit(State(state): State<AppState>, f: CaseForm) -> Response {
    if value(&f.f, "confirm") != "erase" {
        let e = ValidationErrors::single(FieldError::new(
            "confirm",
            "required",
            "tick the box to confirm",
        ));
        return refused(&state, f, &DECIDE, StoreError::Invalid(e)).await;
    }
    let r = RequestRef {
        request: Some(value(&f.f, "request")),
    };
    match state
        .store
        .execute_subject_erasure(&f.a.cx(), f.uid, &r)
        .await
    {
        Ok(()) => see_other("/cases?erased=1"),
        Err(e) => refused(&state, f, &DECIDE, e).await,
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
