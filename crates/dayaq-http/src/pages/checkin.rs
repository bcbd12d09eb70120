//! Discreet self check-in (issue 17, part 1).
//!
//! - The survivor's pages (no account, no session, no CSRF token: bound to the one-time
//!   token or code): `/c` (code entry), `/c/{token}` (the questions), `/c/exit` (the neutral
//!   page the quick-exit button replaces the page with), `/c/s.css` and `/c/q.js` (the page's
//!   own tiny style and quick-exit script; no app bundle). Every refused link — forged,
//!   malformed, expired, revoked, answered — gets the same neutral page with the same status.
//!   Rate-limited per client address (`ratelimit::Limiters::checkin`).
//! - The caseworker's screen `/cases/{id}/checkins`: create (cover, language, expiry) → the
//!   link and code shown once; the list with each check-in's state; revoke.

use super::form::{lang_of, value, values};
use crate::AppState;
use crate::auth::{Authed, PageUser};
use crate::error::AppError;
use crate::i18n::{Lang, Tr};
use crate::pages::{Chrome, error_page, see_other, visitor_lang};
use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderName, HeaderValue};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use dayaq_domain::FieldError;
use dayaq_domain::followup::{
    CALL_PERIODS, CHECKIN_LANGUAGES, CheckInAnswers, CheckInInput, CheckInState, Cover,
    DEFAULT_CHECKIN_DAYS, FEELINGS, HELP_AREAS,
};
use dayaq_domain::policy::{Action, Resource, decide};
use dayaq_storage::StoreError;
use dayaq_storage::followup::{CheckInPage, CheckInSecret, NewCheckIn};

/// The survivor's pages (merged by `crate::app` behind their own rate limit).
pub(crate) fn public_router() -> Router<AppState> {
    Router::new()
        .route("/c", get(code_page).post(code_submit))
        .route("/c/exit", get(exit_page))
        .route("/c/s.css", get(style))
        .route("/c/q.js", get(script))
        .route("/c/{token}", get(token_page).post(token_submit))
}

/// The caseworker's screen.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/cases/{id}/checkins", get(case_page).post(create_submit))
        .route("/cases/{id}/checkins/revoke", post(revoke_submit))
}

// ---------------------------------------------------------------------------------------------
// The survivor's pages

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}\
main{max-width:36rem;margin:0 auto;padding:1rem}header{display:flex;justify-content:flex-end;padding:.5rem}\
.exit{background:#444;color:#fff;padding:.6rem 1rem;border-radius:.3rem;text-decoration:none;font-weight:600}\
fieldset{border:1px solid #ccc;border-radius:.3rem;margin:0 0 1rem;padding:.5rem .8rem}\
label{display:block;padding:.35rem 0}input[type=text]{font-size:1.2rem;padding:.4rem;width:100%;box-sizing:border-box;letter-spacing:.15em}\
button{font-size:1rem;padding:.6rem 1.2rem;border:0;border-radius:.3rem;background:#2b5d8a;color:#fff}\
.error{color:#a00}";

/// Quick exit: replace the page and its history entry (no way back with the back button).
/// Without JavaScript the link still goes to the neutral page.
const SCRIPT: &str = "(function(){function go(e){var a=document.getElementById('quick-exit');\
if(!a)return;if(e)e.preventDefault();location.replace(a.href);}\
document.addEventListener('click',function(e){if(e.target&&e.target.id==='quick-exit')go(e);});\
document.addEventListener('keydown',function(e){if(e.key==='Escape')go(e);});})();";

fn lang_code(l: Lang) -> &'static str {
    l.code()
}

fn lang_of_page(p: &CheckInPage) -> Lang {
    Lang::parse(p.language).unwrap_or(Lang::Az)
}

/// The cover as the caseworker sees it (the choice list, the case's list).
fn cover_title(t: &Tr, c: Cover) -> String {
    match c {
        Cover::AppointmentReminder => t.get("ci-cover-appointment-reminder"),
        Cover::CustomerSurvey => t.get("ci-cover-customer-survey"),
        Cover::DeliveryUpdate => t.get("ci-cover-delivery-update"),
        Cover::Organisation => t.get("ci-cover-organisation"),
    }
}

/// Her page's title: the neutral cover, or the organisation's name when she chose that.
fn page_title(t: &Tr, p: &CheckInPage) -> String {
    match (&p.organisation, p.cover) {
        (Some(name), Cover::Organisation) => name.clone(),
        (_, c) => cover_title(t, c),
    }
}

fn feeling_label(t: &Tr, f: &str) -> String {
    match f {
        "very_good" => t.get("ci-feel-very-good"),
        "good" => t.get("ci-feel-good"),
        "average" => t.get("ci-feel-average"),
        "bad" => t.get("ci-feel-bad"),
        _ => t.get("ci-feel-very-bad"),
    }
}

fn help_label(t: &Tr, h: &str) -> String {
    match h {
        "work" => t.get("ci-help-work"),
        "housing" => t.get("ci-help-housing"),
        "health" => t.get("ci-help-health"),
        "legal" => t.get("ci-help-legal"),
        _ => t.get("ci-help-family"),
    }
}

fn period_label(t: &Tr, p: &str) -> String {
    match p {
        "morning" => t.get("ci-when-morning"),
        "afternoon" => t.get("ci-when-afternoon"),
        "evening" => t.get("ci-when-evening"),
        _ => t.get("ci-when-any"),
    }
}

pub struct Opt {
    pub value: String,
    pub label: String,
    pub on: bool,
}

#[derive(Template)]
#[template(path = "checkin_public.html")]
struct PublicPage {
    t: Tr,
    lang: &'static str,
    title: String,
    /// code, questions, thanks, gone, exit
    mode: &'static str,
    action: String,
    code: String,
    feelings: Vec<Opt>,
    helps: Vec<Opt>,
    call_yes: bool,
    call_no: bool,
    periods: Vec<Opt>,
    error: String,
}

impl PublicPage {
    fn new(lang: Lang, mode: &'static str, title: String) -> PublicPage {
        PublicPage {
            t: Tr::new(lang),
            lang: lang_code(lang),
            title,
            mode,
            action: String::new(),
            code: String::new(),
            feelings: vec![],
            helps: vec![],
            call_yes: false,
            call_no: false,
            periods: vec![],
            error: String::new(),
        }
    }
}

/// Headers of every check-in page: not cached, not indexed, no referrer.
fn public_response(status: StatusCode, body: String) -> Response {
    let mut r = (status, Html(body)).into_response();
    let h = r.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        HeaderName::from_static("x-robots-tag"),
        HeaderValue::from_static("noindex, nofollow"),
    );
    h.insert(
        axum::http::header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    r
}

fn render(status: StatusCode, p: PublicPage) -> Response {
    match p.render() {
        Ok(html) => public_response(status, html),
        Err(_) => public_response(StatusCode::INTERNAL_SERVER_ERROR, String::new()),
    }
}

/// The one page for every refused link or code (same status, same size whatever the reason).
fn gone(headers: &HeaderMap) -> Response {
    let lang = visitor_lang(headers);
    let t = Tr::new(lang);
    render(
        StatusCode::OK,
        PublicPage::new(lang, "gone", t.get("ci-gone-title")),
    )
}

/// A storage failure on the public side: the neutral page too (logged without detail).
fn failed(headers: &HeaderMap, e: &StoreError) -> Response {
    tracing::warn!(error = %e, "self check-in page failed");
    gone(headers)
}

fn questions(
    page: &CheckInPage,
    action: String,
    code: String,
    posted: Option<&CheckInAnswers>,
    error: String,
) -> Response {
    let lang = lang_of_page(page);
    let t = Tr::new(lang);
    let mut p = PublicPage::new(lang, "questions", page_title(&t, page));
    p.feelings = FEELINGS
        .iter()
        .map(|f| Opt {
            value: (*f).into(),
            label: feeling_label(&t, f),
            on: posted.is_some_and(|a| a.feeling.as_deref() == Some(*f)),
        })
        .collect();
    p.helps = HELP_AREAS
        .iter()
        .map(|(h, _)| Opt {
            value: (*h).into(),
            label: help_label(&t, h),
            on: posted.is_some_and(|a| a.help.iter().any(|x| x == h)),
        })
        .collect();
    p.periods = CALL_PERIODS
        .iter()
        .map(|(k, _, _)| Opt {
            value: (*k).into(),
            label: period_label(&t, k),
            on: posted.is_some_and(|a| a.call_period.as_deref() == Some(*k)),
        })
        .collect();
    p.call_yes = posted.is_some_and(|a| a.call);
    p.call_no = posted.is_some_and(|a| !a.call);
    p.action = action;
    p.code = code;
    let status = if error.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    p.error = error;
    render(status, p)
}

fn answers_of(f: &[(String, String)]) -> CheckInAnswers {
    let opt = |k: &str| Some(value(f, k).trim().to_string()).filter(|v| !v.is_empty());
    let call = value(f, "call") == "yes";
    CheckInAnswers {
        feeling: opt("feeling"),
        help: values(f, "help"),
        call,
        call_period: if call { opt("call_period") } else { None },
    }
}

async fn record(
    state: &AppState,
    headers: &HeaderMap,
    secret: CheckInSecret<'_>,
    f: &[(String, String)],
    action: String,
    code: String,
) -> Response {
    let answers = answers_of(f);
    match state
        .store
        .answer_checkin(secret, &answers, state.now())
        .await
    {
        Ok(Some(page)) => {
            let lang = lang_of_page(&page);
            let t = Tr::new(lang);
            render(
                StatusCode::OK,
                PublicPage::new(lang, "thanks", page_title(&t, &page)),
            )
        }
        Ok(None) => gone(headers),
        Err(StoreError::Invalid(_)) => {
            // Only a forged form gets here: the page offers known answers only.
            match state.store.checkin_page(secret, state.now()).await {
                Ok(Some(page)) => {
                    let t = Tr::new(lang_of_page(&page));
                    questions(&page, action, code, Some(&answers), t.get("ci-error"))
                }
                _ => gone(headers),
            }
        }
        Err(e) => failed(headers, &e),
    }
}

async fn code_page(headers: HeaderMap) -> Response {
    let lang = visitor_lang(&headers);
    let t = Tr::new(lang);
    render(
        StatusCode::OK,
        PublicPage::new(lang, "code", t.get("ci-code-title")),
    )
}

/// `POST /c`: the code alone opens the questions (the code travels on as a hidden field);
/// with `step=answer` the answers are recorded.
async fn code_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let code = value(&f, "code");
    let secret = CheckInSecret::Code(&code);
    if value(&f, "step") == "answer" {
        return record(&state, &headers, secret, &f, "/c".into(), code.clone()).await;
    }
    match state.store.checkin_page(secret, state.now()).await {
        Ok(Some(page)) => questions(&page, "/c".into(), code.clone(), None, String::new()),
        Ok(None) => gone(&headers),
        Err(e) => failed(&headers, &e),
    }
}

async fn token_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    match state
        .store
        .checkin_page(CheckInSecret::Token(&token), state.now())
        .await
    {
        Ok(Some(page)) => questions(
            &page,
            format!("/c/{token}"),
            String::new(),
            None,
            String::new(),
        ),
        Ok(None) => gone(&headers),
        Err(e) => failed(&headers, &e),
    }
}

async fn token_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let action = format!("/c/{token}");
    record(
        &state,
        &headers,
        CheckInSecret::Token(&token),
        &f,
        action,
        String::new(),
    )
    .await
}

/// The neutral page of the quick exit: a weather placeholder, no trace of the check-in.
async fn exit_page(headers: HeaderMap) -> Response {
    let lang = visitor_lang(&headers);
    let t = Tr::new(lang);
    render(
        StatusCode::OK,
        PublicPage::new(lang, "exit", t.get("ci-exit-title")),
    )
}

async fn style() -> Response {
    let mut r = public_response(StatusCode::OK, STYLE.into());
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    r
}

async fn script() -> Response {
    let mut r = public_response(StatusCode::OK, SCRIPT.into());
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    r
}

// ---------------------------------------------------------------------------------------------
// The caseworker's screen

pub struct CheckInLine {
    pub id: String,
    pub created_at: String,
    pub cover: String,
    /// She chose the cover herself.
    pub chosen_by_her: bool,
    pub language: String,
    pub state: String,
    pub state_code: &'static str,
    pub expires_at: String,
    pub answered_at: String,
}

pub struct Created {
    pub link: String,
    pub code: String,
    pub expires_at: String,
}

#[derive(Template)]
#[template(path = "checkin_case.html")]
struct CasePage {
    c: Chrome,
    case_id: String,
    can_create: bool,
    created: Option<Created>,
    covers: Vec<Opt>,
    languages: Vec<Opt>,
    form_days: String,
    form_chosen: bool,
    errors: Vec<String>,
    err_cover: String,
    err_language: String,
    err_days: String,
    lines: Vec<CheckInLine>,
}

fn state_label(t: &Tr, s: CheckInState) -> String {
    match s {
        CheckInState::Open => t.get("ci-state-open"),
        CheckInState::Answered => t.get("ci-state-answered"),
        CheckInState::Expired => t.get("ci-state-expired"),
        CheckInState::Revoked => t.get("ci-state-revoked"),
    }
}

fn language_label(t: &Tr, l: &str) -> String {
    match l {
        "az" => t.get("ci-lang-az"),
        "ru" => t.get("ci-lang-ru"),
        _ => t.get("ci-lang-en"),
    }
}

/// A refused field, in the caseworker's language.
fn field_text(t: &Tr, e: &FieldError) -> String {
    let label = match e.field.as_str() {
        "cover" => t.get("ci-cover"),
        "language" => t.get("ci-language"),
        "expiry_days" => t.get("ci-expiry-days"),
        "consent" => t.get("ci-consent"),
        "protocol" => t.get("fu-protocol"),
        _ => t.get("ci-do-not-contact"),
    };
    let reason = t.get(&format!("err-{}", e.code.replace('_', "-")));
    format!("{label}: {reason}")
}

/// The link as the caseworker hands it over: absolute when the request named its host.
fn checkin_link(headers: &HeaderMap, secure: bool, token: &str) -> String {
    let path = format!("/c/{token}");
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        });
    match host {
        Some(h) => format!("{}://{h}{path}", if secure { "https" } else { "http" }),
        None => path,
    }
}

struct Posted<'a> {
    input: &'a CheckInInput,
    errors: Vec<FieldError>,
}

async fn case_with(
    state: &AppState,
    a: &Authed,
    id: uuid::Uuid,
    created: Option<Created>,
    posted: Option<Posted<'_>>,
) -> Response {
    let c = Chrome::for_user(state, a, "cases");
    let t = c.t;
    let ctx = a.cx();
    let list = match state.store.checkins(&ctx, id).await {
        Ok(l) => l,
        Err(e) => return error_page(state, Some(c), t.lang, e.into()),
    };
    let can_create = match state.store.case_facts(id, ctx.now).await {
        Ok(Some(facts)) => decide(&a.actor, Action::UpdateCase, Resource::Case(&facts)).allowed,
        _ => false,
    };
    let (cover, language, days) = match &posted {
        Some(p) => (
            p.input.cover.clone(),
            p.input.language.clone(),
            p.input
                .expiry_days
                .map(|d| d.to_string())
                .unwrap_or_default(),
        ),
        None => (
            String::new(),
            t.code().to_string(),
            DEFAULT_CHECKIN_DAYS.to_string(),
        ),
    };
    let form_chosen = posted.as_ref().is_some_and(|p| p.input.chosen_by_her);
    let errors: Vec<FieldError> = posted.map(|p| p.errors).unwrap_or_default();
    let err_of = |field: &str| {
        errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| field_text(&t, e))
            .unwrap_or_default()
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = CasePage {
        case_id: id.to_string(),
        can_create,
        created,
        covers: Cover::ALL
            .iter()
            .map(|k| Opt {
                value: k.as_str().into(),
                label: cover_title(&t, *k),
                on: cover == k.as_str(),
            })
            .collect(),
        languages: CHECKIN_LANGUAGES
            .iter()
            .map(|l| Opt {
                value: (*l).into(),
                label: language_label(&t, l),
                on: language == *l,
            })
            .collect(),
        form_days: days,
        form_chosen,
        err_cover: err_of("cover"),
        err_language: err_of("language"),
        err_days: err_of("expiry_days"),
        errors: errors.iter().map(|e| field_text(&t, e)).collect(),
        lines: list
            .iter()
            .map(|x| CheckInLine {
                id: x.id.to_string(),
                created_at: t.datetime(&x.created_at),
                cover: Cover::parse(&x.cover)
                    .map(|k| cover_title(&t, k))
                    .unwrap_or_default(),
                chosen_by_her: x.cover_chosen_by_her,
                language: language_label(&t, &x.language),
                state: state_label(&t, x.state),
                state_code: x.state.as_str(),
                expires_at: t.datetime(&x.expires_at),
                answered_at: x
                    .answered_at
                    .as_deref()
                    .map(|s| t.datetime(s))
                    .unwrap_or_default(),
            })
            .collect(),
        c,
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => error_page(state, None, t.lang, AppError::Internal(e.to_string())),
    }
}

async fn case_page(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
) -> Response {
    let Ok(uid) = crate::paths::parse_id(&id) else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    case_with(&state, &a, uid, None, None).await
}

async fn create_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: super::form::CaseForm,
) -> Response {
    let (a, uid, f) = (form.a, form.uid, form.f);
    let days = value(&f, "expiry_days");
    let input = CheckInInput {
        cover: value(&f, "cover"),
        chosen_by_her: value(&f, "chosen_by_her") == "yes",
        language: value(&f, "language"),
        expiry_days: if days.trim().is_empty() {
            None
        } else {
            // A value that is not a number is out of range (0), refused by its field.
            Some(days.trim().parse().unwrap_or(0))
        },
    };
    match state.store.create_checkin(&a.cx(), uid, &input).await {
        Ok(n) => {
            let created = created_view(&state, &headers, &a, &n);
            case_with(&state, &a, uid, Some(created), None).await
        }
        Err(StoreError::Invalid(v)) => {
            let posted = Posted {
                input: &input,
                errors: v.errors,
            };
            case_with(&state, &a, uid, None, Some(posted)).await
        }
        Err(e) => error_page(&state, None, lang_of(&a), e.into()),
    }
}

fn created_view(state: &AppState, headers: &HeaderMap, a: &Authed, n: &NewCheckIn) -> Created {
    let t = Tr::new(lang_of(a));
    Created {
        link: checkin_link(headers, state.cfg.secure_cookies, &n.token),
        code: n.code.clone(),
        expires_at: t.datetime(&n.expires_at),
    }
}

async fn revoke_submit(State(state): State<AppState>, form: super::form::CaseForm) -> Response {
    let (a, id, uid, f) = (form.a, form.id, form.uid, form.f);
    let Ok(which) = crate::paths::parse_id(&value(&f, "checkin")) else {
        return see_other(&format!("/cases/{id}/checkins"));
    };
    match state.store.revoke_checkin(&a.cx(), uid, which).await {
        Ok(_) | Err(StoreError::Invalid(_)) => see_other(&format!("/cases/{id}/checkins")),
        Err(e) => error_page(&state, None, lang_of(&a), e.into()),
    }
}
