//! Server-rendered HTML screens (askama templates, checked at compile time).
//! Pages work without JavaScript; htmx only swaps fragments where it helps.
//! No personal data in titles or URLs: searches are POSTed, cases are addressed by UUID.

use crate::AppState;
use crate::auth::{
    self, LANG_COOKIE, PageUser, Pending, ReqInfo, prelogin_cookie_name, session_cookie_name,
    set_cookie,
};
use crate::error::AppError;
use crate::i18n::{Lang, Tr};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::Router;
use axum::extract::{Path, Request, State};
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

pub mod statistics;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/logout", post(logout))
        .route("/lang", post(set_lang))
        .route("/cases", get(cases_page))
        .route("/cases/search", post(cases_search))
        .route("/cases/new", get(new_case_page).post(new_case_submit))
        .route("/cases/{id}", get(case_page))
        .route("/cases/{id}/reveal", post(case_reveal))
        .route("/account", get(account_page))
        .route("/account/sessions/{pid}/revoke", post(revoke_session))
        .route("/account/password", post(change_password))
        .route("/static/{name}", get(static_file))
        .merge(crate::pages_identification::router())
        .merge(crate::pages_referrals::router())
        .merge(crate::pages_assistance::router())
        .merge(crate::pages_followup::router())
        .merge(crate::pages_record::router())
        .merge(crate::pages_admin::router())
        .merge(statistics::router())
}

/// The sign-in steps (rate-limited separately, see `ratelimit`).
pub fn signin_router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/login/totp", get(totp_page).post(totp_submit))
        .route("/login/enrol", get(enrol_page).post(enrol_submit))
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
        let t = Tr::new(lang);
        Chrome {
            t,
            user: user.map(|a| {
                let (sees_shelters, sees_funding) = crate::pages_assistance::nav_links(a);
                NavUser {
                    sees_national_report: statistics::nav_link(a),
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

/// Translates a field error for display: "<field label>: <reason>".
pub fn error_text(t: &Tr, e: &FieldError) -> String {
    let field = e.field.split('[').next().unwrap_or(&e.field);
    let label = t.get(&format!("field-{}", field.replace(['_', '.'], "-")).to_lowercase());
    let reason = t.get(&format!("err-{}", e.code.replace('_', "-")));
    format!("{label}: {reason}")
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    c: Chrome,
    title: String,
    message: String,
}

pub(crate) fn error_page(
    state: &AppState,
    c: Option<Chrome>,
    lang: Lang,
    err: AppError,
) -> Response {
    let status = err.status();
    if let AppError::Internal(detail) = &err {
        tracing::error!(error = %detail, "internal error");
    }
    let c = c.unwrap_or_else(|| Chrome::new(state, lang, None, String::new(), ""));
    let key = match &err {
        AppError::NotFound => "error-not-found",
        AppError::Forbidden(_) => "error-forbidden",
        AppError::Conflict => "error-conflict",
        AppError::Csrf => "error-csrf",
        AppError::TooManyRequests(_) => "error-too-many",
        AppError::Unauthorized => "error-unauthorized",
        _ => "error-internal",
    };
    let message = match &err {
        AppError::Invalid(v) => v
            .errors
            .iter()
            .map(|e| error_text(&c.t, e))
            .collect::<Vec<_>>()
            .join("; "),
        _ => c.t.get(&format!("{key}-text")),
    };
    let title = c.t.get(key);
    (status, ErrorPage { c, title, message }).into_response()
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
    title_key: &str,
    message: impl FnOnce(&Tr) -> String,
) -> Response {
    let lang = visitor_lang(headers);
    let c = Chrome::new(state, lang, None, String::new(), "login");
    let title = c.t.get(title_key);
    let message = message(&c.t);
    (status, ErrorPage { c, title, message }).into_response()
}

/// `POST /login` without the pre-login cookie and its token (login CSRF): 403 asking to reload.
pub(crate) fn login_csrf_page(state: &AppState, headers: &HeaderMap) -> Response {
    visitor_error_page(state, headers, StatusCode::FORBIDDEN, "error-csrf", |t| {
        t.get("login-reload")
    })
}

pub async fn not_found_page(req: Request) -> Response {
    let lang = req
        .headers()
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Lang::from_accept_language)
        .unwrap_or(Lang::Az);
    let t = Tr::new(lang);
    let c = Chrome {
        t,
        user: None,
        csrf: String::new(),
        idle_secs: 0,
        langs: Lang::ALL
            .iter()
            .map(|l| (l.code(), l.native_name(), *l == lang))
            .collect(),
        nav: "",
    };
    let title = t.get("error-not-found");
    let message = t.get("error-not-found-text");
    (StatusCode::NOT_FOUND, ErrorPage { c, title, message }).into_response()
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

// ---------- sign-in ----------

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    error: Option<String>,
}

async fn login_page(State(state): State<AppState>, info: ReqInfo) -> Response {
    if info.slot.session.as_ref().is_some_and(|s| s.mfa_ok) {
        return see_other("/");
    }
    render_login(&state, info.lang, None, StatusCode::OK)
}

fn render_login(
    state: &AppState,
    lang: Lang,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let Ok(pre) = random_token() else {
        return error_page(state, None, lang, AppError::Internal("rng".into()));
    };
    let c = Chrome::new(state, lang, None, pre.clone(), "login");
    let resp = (status, LoginPage { c, error }).into_response();
    with_cookie(
        resp,
        set_cookie(
            prelogin_cookie_name(state.cfg.secure_cookies),
            &pre,
            state.cfg.secure_cookies,
            Some(3600),
        ),
    )
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

async fn login_submit(
    State(state): State<AppState>,
    info: ReqInfo,
    Form(f): Form<LoginForm>,
) -> Response {
    let t = Tr::new(info.lang);
    let now = state.now();
    let check = match state
        .store
        .check_password(f.username.trim(), &f.password, &info.source, now)
        .await
    {
        Ok(c) => c,
        Err(e) => return error_page(&state, None, info.lang, e.into()),
    };
    let user = match check {
        LoginCheck::Ok(u) => u,
        LoginCheck::Invalid | LoginCheck::Locked => {
            return render_login(
                &state,
                info.lang,
                Some(t.get("login-failed")),
                StatusCode::UNAUTHORIZED,
            );
        }
        LoginCheck::Throttled { retry_after_secs } => {
            return render_login(
                &state,
                info.lang,
                Some(t.arg("login-throttled", "seconds", retry_after_secs)),
                StatusCode::TOO_MANY_REQUESTS,
            );
        }
    };
    // A language chosen on the sign-in page becomes the user's language.
    let mut user = user;
    if let Some(l) = info.lang_cookie
        && l.code() != user.locale
    {
        if let Err(e) = state.store.set_locale(user.id, l.code()).await {
            return error_page(&state, None, info.lang, e.into());
        }
        user.locale = l.code().to_string();
    }
    let mfa_ok = !user.totp_enabled && !user.role.requires_totp();
    let next = if user.totp_enabled {
        "/login/totp"
    } else if user.role.requires_totp() {
        "/login/enrol"
    } else {
        "/"
    };
    start_session(&state, &user, mfa_ok, &info, next).await
}

async fn start_session(
    state: &AppState,
    user: &User,
    mfa_ok: bool,
    info: &ReqInfo,
    next: &str,
) -> Response {
    match state
        .store
        .create_session(user, mfa_ok, &info.user_agent, &info.source, state.now())
        .await
    {
        Ok((token, _)) => {
            let secure = state.cfg.secure_cookies;
            let resp = see_other(next);
            let resp = with_cookie(
                resp,
                set_cookie(session_cookie_name(secure), &token, secure, None),
            );
            with_cookie(
                resp,
                set_cookie(prelogin_cookie_name(secure), "", secure, Some(0)),
            )
        }
        Err(e) => error_page(state, None, info.lang, e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "totp.html")]
struct TotpPage {
    c: Chrome,
    error: Option<String>,
}

async fn totp_page(State(state): State<AppState>, info: ReqInfo, p: Pending) -> Response {
    if !p.session.user.totp_enabled {
        return see_other("/login/enrol");
    }
    let c = Chrome::new(&state, info.lang, None, p.session.csrf.clone(), "login");
    TotpPage { c, error: None }.into_response()
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
}

async fn totp_submit(
    State(state): State<AppState>,
    info: ReqInfo,
    p: Pending,
    Form(f): Form<CodeForm>,
) -> Response {
    finish_second_factor(state, info, p, f, false).await
}

async fn finish_second_factor(
    state: AppState,
    info: ReqInfo,
    p: Pending,
    f: CodeForm,
    enrol: bool,
) -> Response {
    let user = p.session.user.clone();
    match state
        .store
        .second_factor(
            &p.session.public_id,
            &user,
            &f.code,
            enrol,
            &p.source,
            state.now(),
        )
        .await
    {
        Ok(SecondFactor::Ok) => {
            // A new session id after the privilege change (no session fixation).
            if let Err(e) = state
                .store
                .revoke_session_token(&p.token, state.now())
                .await
            {
                return error_page(&state, None, info.lang, e.into());
            }
            let Ok(user) = state.store.user_by_id(user.id).await else {
                return error_page(&state, None, info.lang, AppError::Unauthorized);
            };
            start_session(&state, &user, true, &info, "/").await
        }
        Ok(SecondFactor::Dropped) => {
            // The pending sign-in is over: back to the password step, session cookie cleared.
            let t = Tr::new(info.lang);
            let secure = state.cfg.secure_cookies;
            with_cookie(
                render_login(
                    &state,
                    info.lang,
                    Some(t.get("totp-attempts-spent")),
                    StatusCode::UNAUTHORIZED,
                ),
                set_cookie(session_cookie_name(secure), "", secure, Some(0)),
            )
        }
        Ok(outcome @ (SecondFactor::Wrong { .. } | SecondFactor::Throttled { .. })) => {
            let t = Tr::new(info.lang);
            let (status, error) = match outcome {
                SecondFactor::Throttled { retry_after_secs } => (
                    StatusCode::TOO_MANY_REQUESTS,
                    t.arg("login-throttled", "seconds", retry_after_secs),
                ),
                SecondFactor::Wrong { remaining } => (
                    StatusCode::UNAUTHORIZED,
                    format!(
                        "{} {}",
                        t.get("totp-wrong"),
                        t.arg("totp-attempts-left", "count", remaining)
                    ),
                ),
                SecondFactor::Ok | SecondFactor::Dropped => {
                    (StatusCode::UNAUTHORIZED, t.get("totp-wrong"))
                }
            };
            let c = Chrome::new(&state, info.lang, None, p.session.csrf.clone(), "login");
            let mut resp = if enrol {
                render_enrol(&state, c, &user, Some(error)).await
            } else {
                TotpPage {
                    c,
                    error: Some(error),
                }
                .into_response()
            };
            *resp.status_mut() = status;
            resp
        }
        Err(e) => error_page(&state, None, info.lang, e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "enrol.html")]
struct EnrolPage {
    c: Chrome,
    qr_svg_data_uri: String,
    secret: String,
    error: Option<String>,
}

async fn render_enrol(state: &AppState, c: Chrome, user: &User, error: Option<String>) -> Response {
    let lang = c.t.lang;
    let e = match state.store.totp_begin(user).await {
        Ok(e) => e,
        Err(e) => return error_page(state, None, lang, e.into()),
    };
    let qr = match qrcode::QrCode::new(e.otpauth_url.as_bytes()) {
        Ok(q) => q
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .build(),
        Err(_) => String::new(),
    };
    let uri = format!("data:image/svg+xml;base64,{}", base64_encode(qr.as_bytes()));
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    (
        status,
        EnrolPage {
            c,
            qr_svg_data_uri: uri,
            secret: e.secret_base32,
            error,
        },
    )
        .into_response()
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

async fn enrol_page(State(state): State<AppState>, info: ReqInfo, p: Pending) -> Response {
    if p.session.user.totp_enabled {
        return see_other("/login/totp");
    }
    let c = Chrome::new(&state, info.lang, None, p.session.csrf.clone(), "login");
    render_enrol(&state, c, &p.session.user, None).await
}

async fn enrol_submit(
    State(state): State<AppState>,
    info: ReqInfo,
    p: Pending,
    Form(f): Form<CodeForm>,
) -> Response {
    finish_second_factor(state, info, p, f, true).await
}

async fn logout(State(state): State<AppState>, info: ReqInfo) -> Response {
    if let Some(token) = &info.slot.token
        && let Err(e) = state.store.revoke_session_token(token, state.now()).await
    {
        return error_page(&state, None, info.lang, e.into());
    }
    let secure = state.cfg.secure_cookies;
    with_cookie(
        see_other("/login"),
        set_cookie(session_cookie_name(secure), "", secure, Some(0)),
    )
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

#[derive(Deserialize)]
struct LangForm {
    lang: String,
    #[serde(default)]
    back: String,
}

async fn set_lang(
    State(state): State<AppState>,
    info: ReqInfo,
    Form(f): Form<LangForm>,
) -> Response {
    let lang = Lang::parse(&f.lang).unwrap_or(info.lang);
    if let Some(s) = &info.slot.session
        && let Err(e) = state.store.set_locale(s.user.id, lang.code()).await
    {
        return error_page(&state, None, info.lang, e.into());
    }
    let back = local_path(&f.back);
    let secure = state.cfg.secure_cookies;
    let mut c = cookie::Cookie::build((LANG_COOKIE, lang.code()))
        .path("/")
        .same_site(cookie::SameSite::Strict)
        .secure(secure)
        .max_age(cookie::time::Duration::days(365));
    c = c.http_only(true);
    with_cookie(see_other(back), c.build().to_string())
}

// ---------- home ----------

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    c: Chrome,
    role: String,
    org_name: String,
    recent: Vec<CaseRow>,
    open_count: i64,
    overview: Option<dayaq_storage::stats::Overview>,
    audit_rows: Option<i64>,
    audit_problems: Vec<String>,
    /// Pre-rendered home sections of later modules (follow-ups due, approvals), escaped.
    extra_sections: Vec<String>,
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

async fn home(State(state): State<AppState>, PageUser(a): PageUser) -> Response {
    let c = Chrome::for_user(&state, &a, "home");
    let lang = c.t.lang;
    let r: Result<Response, AppError> = async {
        let org = state.store.org_by_id(a.user.org_id).await?;
        let actor = a.actor();
        let ctx = a.ctx(&actor, &state);
        let (recent, open_count) = if a.user.role.works_cases() {
            let cases = state.store.list_cases(&ctx, 10, 0).await?;
            (
                cases.iter().map(|v| case_row(&c.t, v)).collect(),
                state.store.count_cases(&ctx).await?,
            )
        } else {
            (vec![], 0)
        };
        let overview = if matches!(a.user.role, Role::NationalCoordinator | Role::Supervisor) {
            Some(state.store.national_overview(&actor).await?)
        } else {
            None
        };
        let (audit_rows, audit_problems) = if a.user.role == Role::Auditor {
            let rep = state.store.audit_verify().await?;
            (
                Some(rep.rows),
                rep.problems.iter().map(|p| p.to_string()).collect(),
            )
        } else {
            (None, vec![])
        };
        let role = a.user.role.as_str().to_string();
        let extra_sections = vec![
            crate::pages_followup::home_section(&state, &a, &ctx, &c.t).await?,
            crate::pages_assistance::home_section(&state, &a, &ctx, &c.t).await?,
        ];
        Ok(HomePage {
            extra_sections,
            c,
            role,
            org_name: org.name,
            recent,
            open_count,
            overview,
            audit_rows,
            audit_problems,
        }
        .into_response())
    }
    .await;
    r.unwrap_or_else(|e| error_page(&state, None, lang, e))
}

// ---------- cases ----------

#[derive(Template, WebTemplate)]
#[template(path = "cases.html")]
struct CasesPage {
    c: Chrome,
    rows: Vec<CaseRow>,
    searched: bool,
    elsewhere: Vec<String>,
    error: Option<String>,
}

async fn cases_page(State(state): State<AppState>, PageUser(a): PageUser) -> Response {
    let c = Chrome::for_user(&state, &a, "cases");
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    match state.store.list_cases(&ctx, 100, 0).await {
        Ok(cases) => {
            let rows = cases.iter().map(|v| case_row(&c.t, v)).collect();
            CasesPage {
                c,
                rows,
                searched: false,
                elsewhere: vec![],
                error: None,
            }
            .into_response()
        }
        Err(e) => {
            let lang = c.t.lang;
            error_page(&state, Some(c), lang, e.into())
        }
    }
}

#[derive(Deserialize)]
struct SearchForm {
    #[serde(default)]
    case_number: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    second_name: String,
    #[serde(default)]
    birthdate: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    identity_number: String,
}

pub(crate) fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

async fn cases_search(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Form(f): Form<SearchForm>,
) -> Response {
    let c = Chrome::for_user(&state, &a, "cases");
    let q = SearchQuery {
        case_number: non_empty(&f.case_number),
        first_name: non_empty(&f.first_name),
        second_name: non_empty(&f.second_name),
        birthdate: non_empty(&f.birthdate),
        phone: non_empty(&f.phone),
        identity_number: non_empty(&f.identity_number),
    };
    let name_part = q.first_name.is_some() || q.second_name.is_some() || q.birthdate.is_some();
    let name_complete = q.first_name.is_some() && q.second_name.is_some() && q.birthdate.is_some();
    let other = q.phone.is_some() || q.identity_number.is_some();
    if (name_part && !name_complete) || (!name_part && !other && q.case_number.is_none()) {
        let error = Some(c.t.get("search-needs"));
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            CasesPage {
                c,
                rows: vec![],
                searched: true,
                elsewhere: vec![],
                error,
            },
        )
            .into_response();
    }
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    match state.store.search_cases(&ctx, &q).await {
        Ok(r) => {
            let rows = r.cases.iter().map(|v| case_row(&c.t, v)).collect();
            CasesPage {
                c,
                rows,
                searched: true,
                elsewhere: r.possible_matches_elsewhere,
                error: None,
            }
            .into_response()
        }
        Err(e) => {
            let lang = c.t.lang;
            error_page(&state, Some(c), lang, e.into())
        }
    }
}

#[derive(Default, Deserialize)]
struct CaseForm {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    second_name: String,
    #[serde(default)]
    birthdate: String,
    #[serde(default)]
    gender: String,
    #[serde(default)]
    citizenship: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    age: String,
    #[serde(default)]
    exploitation: String,
    #[serde(default)]
    notes: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "case_new.html")]
struct NewCasePage {
    c: Chrome,
    f: CaseForm,
    errors: Vec<String>,
    genders: Vec<(String, String)>,
    exploitations: Vec<(String, String)>,
}

fn new_case_page_with(
    state: &AppState,
    a: &auth::Authed,
    f: CaseForm,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    let c = Chrome::for_user(state, a, "new");
    let genders = Gender::ALL
        .iter()
        .map(|g| (g.as_str().to_string(), c.t.vocab("prs_Gender", g.as_str())))
        .collect();
    let exploitations = TypeOfExploitation::ALL
        .iter()
        .map(|g| {
            (
                g.as_str().to_string(),
                c.t.vocab("vic_TypeOfExploitation", g.as_str()),
            )
        })
        .collect();
    (
        status,
        NewCasePage {
            c,
            f,
            errors,
            genders,
            exploitations,
        },
    )
        .into_response()
}

async fn new_case_page(State(state): State<AppState>, PageUser(a): PageUser) -> Response {
    new_case_page_with(
        &state,
        &a,
        CaseForm {
            citizenship: "AZ".into(),
            ..Default::default()
        },
        vec![],
        StatusCode::OK,
    )
}

async fn new_case_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Form(f): Form<CaseForm>,
) -> Response {
    let t = Tr::new(Lang::parse(&a.user.locale).unwrap_or(Lang::Az));
    let age = match f.age.trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                let e = FieldError::new("vic_AgeWhenTrafficked", "invalid_number", "");
                return new_case_page_with(
                    &state,
                    &a,
                    f,
                    vec![error_text(&t, &e)],
                    StatusCode::UNPROCESSABLE_ENTITY,
                );
            }
        },
    };
    let input = CaseInput {
        identity: Identity {
            first_name: non_empty(&f.first_name),
            second_name: non_empty(&f.second_name),
            birthdate: non_empty(&f.birthdate),
            mobile_phone: non_empty(&f.phone),
            notes: non_empty(&f.notes),
            ..Default::default()
        },
        gender: non_empty(&f.gender),
        citizenship: non_empty(&f.citizenship)
            .map(|c| vec![c.to_uppercase()])
            .unwrap_or_default(),
        age_when_trafficked: age,
        types_of_exploitation: non_empty(&f.exploitation).into_iter().collect(),
        status: None,
        reason_for_closure: None,
        context: Default::default(),
    };
    let valid = match input.validate(state.now().date()) {
        Ok(v) => v,
        Err(errs) => {
            let msgs = errs.errors.iter().map(|e| error_text(&t, e)).collect();
            return new_case_page_with(&state, &a, f, msgs, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let actor = a.actor();
    let ctx = a.ctx(&actor, &state);
    match state.store.create_case(&ctx, &valid).await {
        Ok(case) => see_other(&format!("/cases/{}", case.id)),
        Err(e) => error_page(&state, None, t.lang, e.into()),
    }
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
    ident: crate::pages_identification::IdentSection,
    refer: crate::pages_referrals::ReferSection,
    /// Pre-rendered sections of later modules (assistance, follow-up), already escaped.
    extra_sections: Vec<String>,
    errors: Vec<String>,
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

pub(crate) async fn render_case(
    state: &AppState,
    a: &auth::Authed,
    id: &str,
    reveal: bool,
) -> Result<Response, AppError> {
    render_case_with(state, a, id, reveal, vec![], StatusCode::OK).await
}

pub(crate) async fn render_case_with(
    state: &AppState,
    a: &auth::Authed,
    id: &str,
    reveal: bool,
    errors: Vec<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let id = Uuid::parse_str(id).map_err(|_| AppError::NotFound)?;
    let c = Chrome::for_user(state, a, "cases");
    let actor = a.actor();
    let ctx = a.ctx(&actor, state);
    let case = state.store.get_case(&ctx, id, reveal).await?;
    let events = state.store.case_events(&ctx, id).await?;
    let owner = state.store.org_by_id(case.owner_org).await?.name;
    let t = c.t;
    let ident = crate::pages_identification::section(state, a, &ctx, &t, id).await?;
    let refer = crate::pages_referrals::section(state, a, &ctx, &t, id).await?;
    let extra_sections = vec![
        crate::pages_record::case_section(state, a, &ctx, &t, id).await?,
        crate::pages_assistance::case_section(state, a, &ctx, &t, id).await?,
        crate::pages_followup::case_section(state, a, &ctx, &t, id).await?,
    ];
    Ok((
        status,
        CasePage {
            ident,
            refer,
            extra_sections,
            errors,
            row: case_row(&t, &case),
            owner,
            citizenship: case.citizenship.join(", "),
            exploitation: case
                .types_of_exploitation
                .iter()
                .map(|x| t.vocab("vic_TypeOfExploitation", x.as_str()))
                .collect::<Vec<_>>()
                .join(", "),
            identity: case.identity.as_ref().map(|i| identity_view(&t, i)),
            events: events.iter().map(|e| event_text(&t, e)).collect(),
            case,
            c,
        },
    )
        .into_response())
}

async fn case_page(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
) -> Response {
    let lang = Lang::parse(&a.user.locale).unwrap_or(Lang::Az);
    render_case(&state, &a, &id, false)
        .await
        .unwrap_or_else(|e| {
            error_page(&state, Some(Chrome::for_user(&state, &a, "cases")), lang, e)
        })
}

/// Reveals the identity block (audited). With htmx only the block is swapped; without
/// JavaScript the whole page comes back with the block open.
async fn case_reveal(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::parse(&a.user.locale).unwrap_or(Lang::Az);
    if headers.get("hx-request").is_none() {
        return render_case(&state, &a, &id, true)
            .await
            .unwrap_or_else(|e| error_page(&state, None, lang, e));
    }
    let r: Result<Response, AppError> = async {
        let uid = Uuid::parse_str(&id).map_err(|_| AppError::NotFound)?;
        let c = Chrome::for_user(&state, &a, "cases");
        let actor = a.actor();
        let ctx = a.ctx(&actor, &state);
        let case = state.store.get_case(&ctx, uid, true).await?;
        let identity = case.identity.as_ref().map(|i| identity_view(&c.t, i));
        Ok(IdentityFragment {
            c,
            case_id: uid,
            identity,
        }
        .into_response())
    }
    .await;
    r.unwrap_or_else(|e| error_page(&state, None, lang, e))
}

// ---------- account ----------

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
struct AccountPage {
    c: Chrome,
    sessions: Vec<(String, String, String, String, bool)>,
    message: Option<String>,
    errors: Vec<String>,
}

async fn account_with(
    state: &AppState,
    a: &auth::Authed,
    message: Option<String>,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    let c = Chrome::for_user(state, a, "account");
    let lang = c.t.lang;
    let current = a
        .session
        .as_ref()
        .map(|s| s.public_id.clone())
        .unwrap_or_default();
    match state
        .store
        .list_sessions(&a.user, state.cfg.session, state.now())
        .await
    {
        Ok(list) => {
            let sessions = list
                .into_iter()
                .map(|s| {
                    let is_current = s.public_id == current;
                    let started = c.t.datetime(&rfc3339(s.created_at));
                    let seen = c.t.datetime(&rfc3339(s.last_seen));
                    (s.public_id, started, seen, s.user_agent, is_current)
                })
                .collect();
            (
                status,
                AccountPage {
                    c,
                    sessions,
                    message,
                    errors,
                },
            )
                .into_response()
        }
        Err(e) => error_page(state, None, lang, e.into()),
    }
}

fn rfc3339(ms: i64) -> String {
    dayaq_storage::from_millis(ms)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

async fn account_page(State(state): State<AppState>, PageUser(a): PageUser) -> Response {
    account_with(&state, &a, None, vec![], StatusCode::OK).await
}

async fn revoke_session(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(pid): Path<String>,
) -> Response {
    let lang = Lang::parse(&a.user.locale).unwrap_or(Lang::Az);
    match state
        .store
        .revoke_session(&a.user, &pid, &a.source, state.now())
        .await
    {
        Ok(_) => see_other("/account"),
        Err(e) => error_page(&state, None, lang, e.into()),
    }
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

async fn change_password(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Form(f): Form<PasswordForm>,
) -> Response {
    let t = Tr::new(Lang::parse(&a.user.locale).unwrap_or(Lang::Az));
    if f.new_password != f.confirm_password {
        let e = FieldError::new("confirm_password", "mismatch", "");
        return account_with(
            &state,
            &a,
            None,
            vec![error_text(&t, &e)],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let keep = a.session.as_ref().map(|s| s.public_id.as_str());
    match state
        .store
        .change_password(
            &a.user,
            &f.current_password,
            &f.new_password,
            keep,
            &a.source,
            state.now(),
        )
        .await
    {
        Ok(()) => {
            account_with(
                &state,
                &a,
                Some(t.get("password-changed")),
                vec![],
                StatusCode::OK,
            )
            .await
        }
        Err(dayaq_storage::StoreError::Invalid(v)) => {
            let errs = v.errors.iter().map(|e| error_text(&t, e)).collect();
            account_with(&state, &a, None, errs, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => error_page(&state, None, t.lang, e.into()),
    }
}

// ---------- organisation admin: users ----------
// In `pages_admin.rs` (user list, enrolment links, disable/enable, resets, API tokens).

// ---------- static files (vendored, no CDN) ----------

async fn static_file(Path(name): Path<String>) -> Response {
    let (body, ctype): (&'static [u8], &str) = match name.as_str() {
        "htmx-2.0.11.min.js" => (
            include_bytes!("../static/htmx-2.0.11.min.js"),
            "text/javascript",
        ),
        "app.js" => (include_bytes!("../static/app.js"), "text/javascript"),
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
