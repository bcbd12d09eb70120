//! Server-rendered HTML screens (askama templates, checked at compile time).
//! Pages work without JavaScript; htmx only swaps fragments where it helps.
//! No personal data in titles or URLs: searches are POSTed, cases are addressed by UUID.

use crate::AppState;
use crate::auth::{
    self, LANG_COOKIE, PageUser, Pending, ReqInfo, prelogin_cookie_name, session_cookie_name,
    set_cookie,
};
use crate::error::{AppError, PageError, PageMessage};
use crate::i18n::{Lang, Tr};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use dayaq_domain::case::{CaseInput, CaseView, Identity};
use dayaq_domain::vocab::{Gender, TypeOfExploitation};
use dayaq_domain::{FieldError, Role};
use dayaq_storage::cases::{CaseEvent, SearchQuery};
use dayaq_storage::crypto::random_token;
use dayaq_storage::users::{LoginCheck, SecondFactor, User};
use serde::Deserialize;
use uuid::Uuid;

mod account;
mod admin;
mod alerts;
mod assistance;
// Encrypted attachments (issue #21 §1).
mod attachments;
mod audit_viewer;
mod cases;
mod checkin;
mod followup;
pub(crate) mod form;
mod gaps;
mod home;
mod htcds;
mod identification;
mod passkeys;
mod record;
mod referrals;
mod retention;
mod rules;
mod scorecard;
// Research data releases (issue #16).
mod releases;
mod signin;
mod statistics;
pub mod statistics_charts;
pub(crate) use assistance::plan_document;
mod subject_requests;
// Webhooks (issue 22 §4).
mod webhooks;
// Single sign-on with OpenID Connect (issue 22 §1).
mod oidc;

/// Every screen except the sign-in steps: one router per area, merged.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/logout", post(signin::logout))
        .route("/lang", post(signin::set_lang))
        .route("/static/{name}", get(static_file))
        .merge(home::router())
        .merge(cases::router())
        .merge(account::router())
        .merge(identification::router())
        .merge(referrals::router())
        .merge(assistance::router())
        .merge(followup::router())
        .merge(record::router())
        .merge(admin::router())
        .merge(htcds::router())
        .merge(statistics::router())
        .merge(gaps::router())
        .merge(scorecard::router())
        .merge(releases::router())
        .merge(audit_viewer::router())
        .merge(alerts::router())
        .merge(rules::router())
        .merge(retention::router())
        .merge(subject_requests::router())
        .merge(checkin::router())
        .merge(attachments::router())
        .merge(webhooks::router())
        .merge(oidc::admin_router())
        .merge(passkeys::router())
}

/// The survivor's self check-in pages (no account; rate-limited separately, see `ratelimit`).
pub fn checkin_router() -> Router<AppState> {
    checkin::public_router()
}

/// The sign-in steps (rate-limited separately, see `ratelimit`).
pub fn signin_router() -> Router<AppState> {
    signin::router()
        .merge(oidc::router())
        .merge(passkeys::signin_router())
}

// ---------- chrome shared by every page ----------

pub struct NavUser {
    pub username: String,
    pub role_label: String,
    pub works_cases: bool,
    pub manages_users: bool,
    /// Assistance screens in the navigation: shelter facilities, funding.
    pub sees_shelters: bool,
    pub sees_funding: bool,
    /// The annual national report (national coordinator).
    pub sees_national_report: bool,
    /// Access-anomaly alerts (auditors; organisation administrators).
    pub sees_alerts: bool,
}

pub struct Chrome {
    pub t: Tr,
    pub user: Option<NavUser>,
    pub csrf: String,
    pub idle_secs: i64,
    pub langs: Vec<(&'static str, &'static str, bool)>,
    pub nav: &'static str,
}

impl Chrome {
    fn new(
        state: &AppState,
        lang: Lang,
        user: Option<&auth::Authed>,
        csrf: String,
        nav: &'static str,
    ) -> Chrome {
        // Times are shown in the signed-in user's organisation's zone (issue #23 §4).
        let t = match user {
            Some(a) => Tr::new(lang).in_zone(&a.user.timezone),
            None => Tr::new(lang),
        };
        Chrome {
            t,
            user: user.map(|a| {
                let (sees_shelters, sees_funding) = assistance::nav_links(a);
                NavUser {
                    sees_national_report: statistics::nav_link(a),
                    sees_alerts: alerts::nav_link(a),
                    sees_shelters,
                    sees_funding,
                    username: a.user.username.clone(),
                    role_label: t.get(&format!("role-{}", a.user.role.as_str().replace('_', "-"))),
                    works_cases: a.user.role.works_cases(),
                    manages_users: matches!(a.user.role, Role::OrgAdmin | Role::SystemAdmin),
                }
            }),
            csrf,
            idle_secs: state.cfg.session.idle_ms / 1000,
            langs: Lang::ALL
                .iter()
                .map(|l| (l.code(), l.native_name(), *l == lang))
                .collect(),
            nav,
        }
    }

    /// The chrome of a page seen before sign-in (enrolment).
    pub(crate) fn anonymous(
        state: &AppState,
        lang: Lang,
        csrf: String,
        nav: &'static str,
    ) -> Chrome {
        Chrome::new(state, lang, None, csrf, nav)
    }

    /// The frame of a page shown without looking at the session (the 404 fallback).
    pub(crate) fn bare(lang: Lang) -> Chrome {
        Chrome {
            t: Tr::new(lang),
            user: None,
            csrf: String::new(),
            idle_secs: 0,
            langs: Lang::ALL
                .iter()
                .map(|l| (l.code(), l.native_name(), *l == lang))
                .collect(),
            nav: "",
        }
    }

    pub(crate) fn for_user(state: &AppState, a: &auth::Authed, nav: &'static str) -> Chrome {
        let lang = Lang::parse(&a.user.locale).unwrap_or(Lang::Az);
        let csrf = a
            .session
            .as_ref()
            .map(|s| s.csrf.clone())
            .unwrap_or_default();
        Chrome::new(state, lang, Some(a), csrf, nav)
    }
}

pub use crate::error::error_text;

/// The human error page for `err`, in the frame `c` (or the bare frame in `lang`).
pub(crate) fn error_page(
    state: &AppState,
    c: Option<Chrome>,
    lang: Lang,
    err: AppError,
) -> Response {
    let frame = c.unwrap_or_else(|| Chrome::new(state, lang, None, String::new(), ""));
    PageError { err, frame }.into_response()
}

/// The language of a visitor who is not signed in: the switcher's cookie, else the browser's.
pub(crate) fn visitor_lang(headers: &HeaderMap) -> Lang {
    auth::cookie_value(headers, LANG_COOKIE)
        .and_then(|v| Lang::parse(&v))
        .or_else(|| {
            headers
                .get(axum::http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or(Lang::Az)
}

/// A human page for a visitor who is not signed in (no session, no chrome state).
pub(crate) fn visitor_error_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    title_key: &'static str,
    message: impl FnOnce(&Tr) -> String,
) -> Response {
    let lang = visitor_lang(headers);
    let frame = Chrome::new(state, lang, None, String::new(), "login");
    let message = message(&frame.t);
    PageMessage {
        frame,
        status,
        title_key,
        message,
    }
    .into_response()
}

/// `POST /login` without the pre-login cookie and its token (login CSRF): 403 asking to reload.
pub(crate) fn login_csrf_page(state: &AppState, headers: &HeaderMap) -> Response {
    visitor_error_page(state, headers, StatusCode::FORBIDDEN, "error-csrf", |t| {
        t.get("login-reload")
    })
}

pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

fn with_cookie(mut resp: Response, cookie: String) -> Response {
    if let Ok(v) = cookie.parse() {
        resp.headers_mut().append(SET_COOKIE, v);
    }
    resp
}

/// The redirect target for a `back` field: only a path on this site, never an open redirect.
/// Accepted: a single `/` followed by a character that is neither `/` nor `\\` (browsers treat
/// `//host` and `/\\host` as another site), and only printable ASCII without `\\` (browsers drop
/// tabs and line breaks from URLs, so `/\t/host` would become `//host`). Anything else is `/`.
pub(crate) fn local_path(back: &str) -> &str {
    let b = back.as_bytes();
    let shape = b.len() >= 2 && b[0] == b'/' && b[1] != b'/' && b[1] != b'\\';
    let chars = b.iter().all(|&c| (0x21..=0x7e).contains(&c) && c != b'\\');
    if shape && chars { back } else { "/" }
}

pub struct CaseRow {
    pub id: Uuid,
    pub number: String,
    pub status: String,
    pub tstatus: String,
    pub gender: String,
    pub updated: String,
}

pub(crate) fn case_row(t: &Tr, v: &CaseView) -> CaseRow {
    CaseRow {
        id: v.id,
        number: v.case_number.clone(),
        status: t.vocab("cas_Status", v.status.as_str()),
        tstatus: t.vocab("vic_TraffickingStatus", v.trafficking_status.as_str()),
        gender: v
            .gender
            .map(|g| t.vocab("prs_Gender", g.as_str()))
            .unwrap_or_default(),
        updated: t.datetime(&v.updated_at),
    }
}

pub(crate) fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

#[derive(Template, WebTemplate)]
#[template(path = "case.html")]
struct CasePage {
    c: Chrome,
    case: CaseView,
    row: CaseRow,
    owner: String,
    citizenship: String,
    exploitation: String,
    identity: Option<IdentityView>,
    events: Vec<(String, String)>,
    ident: identification::IdentSection,
    refer: referrals::ReferSection,
    /// Pre-rendered sections of later modules (assistance, follow-up), already escaped.
    extra_sections: Vec<String>,
    errors: Vec<String>,
    /// The forms' state: refused form, confirmation, one-time token (issue #23).
    forms: form::CaseForms,
    /// Section menu, stage and next-step prompts (issue 23 §6).
    nav: Option<cases::CaseNav>,
}

#[derive(Template, WebTemplate)]
#[template(path = "identity.html")]
struct IdentityFragment {
    c: Chrome,
    case_id: Uuid,
    identity: Option<IdentityView>,
}

pub struct IdentityView {
    pub rows: Vec<(String, String)>,
}

fn identity_view(t: &Tr, i: &Identity) -> IdentityView {
    let mut rows = Vec::new();
    for (key, v) in [
        ("field-prs-firstname", &i.first_name),
        ("field-prs-middlename", &i.middle_name),
        ("field-prs-secondname", &i.second_name),
        ("field-prs-birthdate", &i.birthdate),
        ("field-prs-identitynumber", &i.identity_number),
        ("field-prs-mobilephone", &i.mobile_phone),
        ("field-prs-homephone", &i.home_phone),
        ("field-prs-email", &i.email),
        ("field-prs-mailingstreet", &i.mailing_street),
        ("field-prs-mailingcity", &i.mailing_city),
        ("field-prs-mailingcountry", &i.mailing_country),
        ("field-cco-casecomment", &i.notes),
    ] {
        if let Some(v) = v {
            rows.push((t.get(key), v.clone()));
        }
    }
    IdentityView { rows }
}

fn event_text(t: &Tr, e: &CaseEvent) -> (String, String) {
    (
        t.datetime(&e.at),
        t.get(&format!("event-{}", e.kind.replace(['.', '_'], "-"))),
    )
}

/// The home page's sections of the areas (follow-ups due, approvals), pre-rendered and escaped.
/// Like the case page, the home page is a hub: the root composes the areas' sections so that
/// no area imports another.
pub(crate) async fn home_sections(
    state: &AppState,
    a: &auth::Authed,
    ctx: &dayaq_storage::cases::Ctx<'_>,
    t: &Tr,
) -> Result<Vec<String>, AppError> {
    Ok(vec![
        followup::home_section(state, a, ctx, t).await?,
        assistance::home_section(state, a, ctx, t).await?,
        retention::home_section(state, a, ctx, t).await?,
        referrals::home_section(state, a, ctx, t).await?,
    ])
}

pub(crate) async fn render_case(
    state: &AppState,
    a: &auth::Authed,
    id: &str,
    reveal: bool,
) -> Result<Response, AppError> {
    render_case_with(state, a, id, reveal, vec![], StatusCode::OK).await
}

/// What a part of the case page (record, assistance, followup) is rendered from.
#[derive(Clone, Copy)]
pub(crate) struct CasePart<'a> {
    pub state: &'a AppState,
    pub a: &'a auth::Authed,
    pub ctx: &'a dayaq_storage::cases::Ctx<'a>,
    pub t: &'a Tr,
    pub case: Uuid,
    /// The forms' state: refused form, confirmation, one-time token (issue #23).
    pub forms: &'a form::CaseForms,
}

impl<'a> CasePart<'a> {
    /// Its parts: state, user, request context, translations, case id.
    pub(crate) fn parts(
        self,
    ) -> (
        &'a AppState,
        &'a auth::Authed,
        &'a dayaq_storage::cases::Ctx<'a>,
        &'a Tr,
        Uuid,
    ) {
        (self.state, self.a, self.ctx, self.t, self.case)
    }

    /// The facts the policy needs about the case; `None` when there is no such case (the part
    /// is then left out).
    pub(crate) async fn facts(&self) -> Result<Option<dayaq_domain::policy::CaseFacts>, AppError> {
        Ok(self.state.store.case_facts(self.case, self.ctx.now).await?)
    }
}

pub(crate) async fn render_case_with(
    state: &AppState,
    a: &auth::Authed,
    id: &str,
    reveal: bool,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let t = Tr::new(form::lang_of(a));
    let forms = form::CaseForms::page(&t, None);
    render_case_page(state, a, id, reveal, errors, forms, status).await
}

/// The case page with its forms drawn from `forms` (a refused form open with its values and
/// errors, or the confirmation of a success; issue #23).
pub(crate) async fn render_case_forms(
    state: &AppState,
    a: &auth::Authed,
    id: &str,
    reveal: bool,
    forms: form::CaseForms,
    status: StatusCode,
) -> Result<Response, AppError> {
    render_case_page(state, a, id, reveal, vec![], forms, status).await
}

async fn render_case_page(
    state: &AppState,
    a: &auth::Authed,
    id: &str,
    reveal: bool,
    errors: Vec<String>,
    forms: form::CaseForms,
    status: StatusCode,
) -> Result<Response, AppError> {
    let id = crate::paths::parse_id(id)?;
    let c = Chrome::for_user(state, a, "cases");
    let ctx = a.cx();
    let case = state.store.get_case(&ctx, id, reveal).await?;
    let events = state.store.case_events(&ctx, id).await?;
    let owner = state.store.org_by_id(case.owner_org).await?.name;
    let t = c.t;
    let ident = identification::section(state, a, &ctx, &t, id).await?;
    let refer = referrals::section(state, a, &ctx, &t, id).await?;
    // Issue #23 §9: a reader without the victim context is told it is not shared, never a
    // blank that reads as "none".
    let exploitation = if ident.screening_shared {
        case.types_of_exploitation
            .iter()
            .map(|x| t.vocab("vic_TypeOfExploitation", x.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        t.get("recv-not-shared")
    };
    let part = CasePart {
        state,
        a,
        ctx: &ctx,
        t: &t,
        case: id,
        forms: &forms,
    };
    let extra_sections = vec![
        record::case_section(part).await?,
        assistance::case_section(part).await?,
        followup::case_section(part).await?,
        retention::case_section(part).await?,
        subject_requests::case_section(part).await?,
    ];
    let nav = cases::case_nav(state, &ctx, &t, id, refer.legal_visible, &extra_sections).await?;
    Ok((
        status,
        CasePage {
            ident,
            refer,
            extra_sections,
            errors,
            forms,
            nav: Some(nav),
            row: case_row(&t, &case),
            owner,
            citizenship: case.citizenship.join(", "),
            exploitation,
            identity: case.identity.as_ref().map(|i| identity_view(&t, i)),
            events: events.iter().map(|e| event_text(&t, e)).collect(),
            case,
            c,
        },
    )
        .into_response())
}

// ---------- static files (vendored, no CDN) ----------

async fn static_file(Path(name): Path<String>) -> Response {
    let (body, ctype): (&'static [u8], &str) = match name.as_str() {
        "htmx-2.0.11.min.js" => (
            include_bytes!("../static/htmx-2.0.11.min.js"),
            "text/javascript",
        ),
        "app.js" => (include_bytes!("../static/app.js"), "text/javascript"),
        "drafts.js" => (include_bytes!("../static/drafts.js"), "text/javascript"),
        "passkeys.js" => (include_bytes!("../static/passkeys.js"), "text/javascript"),
        "app.css" => (include_bytes!("../static/app.css"), "text/css"),
        _ => return AppError::NotFound.into_response(),
    };
    ([(CONTENT_TYPE, ctype)], body).into_response()
}

#[cfg(test)]
mod redirect_tests {
    use super::local_path;

    #[test]
    fn back_is_a_local_path_or_home() {
        for ok in [
            "/cases",
            "/cases/0b6f?x=1",
            "/account#sessions",
            "/%2F%2Fevil.com",
        ] {
            assert_eq!(local_path(ok), ok, "{ok}");
        }
        for bad in [
            "",
            "/",
            "//evil.com",
            "/\\evil.com",
            "/\\/evil",
            "\\\\evil.com",
            "https://evil.com",
            "http:/evil.com",
            "evil.com",
            "/\t/evil.com",
            "/\n/evil.com",
            "/\r\n/evil.com",
            "/ /evil.com",
            "/cases\\..\\..\\evil",
            "/caf\u{e9}",
            "/\u{0}x",
        ] {
            assert_eq!(local_path(bad), "/", "{bad:?}");
        }
    }
}
