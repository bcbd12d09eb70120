//! Account administration screens (issue #14, items 9 and 10):
//! - `/admin/users`: the organisation admin's user list; adding a user gives a one-time
//!   enrolment link (never a password);
//! - `/admin/users/{id}`: one user: disable/enable, reset password (new enrolment link), reset
//!   second factor, list and revoke API tokens. Each action needs a confirmation tick and the
//!   session's CSRF token; a user of another organisation is 404;
//! - `/enrol/{token}`: the new user chooses a password (then enrols TOTP where the role needs it);
//! - `/account/tokens`: a user's own API tokens (last use) and revocation.

use super::form::{Opt, Refused, lang_of};
use crate::AppState;
use crate::auth::{Authed, PageUser, ReqInfo, prelogin_cookie_name, set_cookie};
use crate::error::AppError;
use crate::i18n::Tr;
use crate::pages::{Chrome, error_page, error_text};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use dayaq_domain::policy::{Action, Resource, TargetUser, decide, org_admin_administers};
use dayaq_domain::tokens::TokenScope;
use dayaq_domain::{FieldError, Role};
use dayaq_storage::StoreError;
use dayaq_storage::accounts::{Acting, Enrolment, TokenRow};
use dayaq_storage::crypto::random_token;
use dayaq_storage::users::User;
use serde::Deserialize;
use uuid::Uuid;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users_page).post(users_create))
        .route("/admin/users/{id}", get(user_page))
        .route("/admin/users/{id}/{action}", post(user_action))
        .route(
            "/admin/users/{id}/tokens/{tid}/revoke",
            post(user_token_revoke),
        )
        .route("/enrol/{token}", get(enrol_page).post(enrol_submit))
        .route("/account/tokens", get(tokens_page).post(token_create))
        .route("/account/tokens/{tid}/revoke", post(own_token_revoke))
}

fn role_label(t: &Tr, r: Role) -> String {
    t.get(&format!("role-{}", r.as_str().replace('_', "-")))
}

fn when(t: &Tr, ms: i64) -> String {
    let s = dayaq_storage::from_millis(ms)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    t.datetime(&s)
}

/// The enrolment link as the administrator hands it over: absolute when the request named
/// its host, else the path.
fn enrol_link(headers: &HeaderMap, secure: bool, e: &Enrolment) -> String {
    let path = format!("/enrol/{}", e.token);
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

// ---------- the organisation's users ----------

pub struct UserLine {
    pub id: Uuid,
    pub username: String,
    pub role: String,
    pub totp: bool,
    pub disabled: bool,
    pub pending: bool,
    pub tokens: i64,
    pub manageable: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_users.html")]
struct UsersPage {
    c: Chrome,
    users: Vec<UserLine>,
    roles: Vec<(String, String)>,
    /// (username, enrolment link, expiry) right after a creation.
    created: Option<(String, String, String)>,
    errors: Vec<String>,
}

fn may_manage_users(a: &Authed) -> Result<(), AppError> {
    let d = decide(
        &a.actor,
        Action::ManageUsers,
        Resource::Organisation(a.user.org_id),
    );
    if d.allowed {
        Ok(())
    } else {
        Err(AppError::Forbidden(d.reason))
    }
}

async fn users_with(
    state: &AppState,
    a: &Authed,
    created: Option<(String, String, String)>,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    let c = Chrome::for_user(state, a, "users");
    let lang = c.t.lang;
    if let Err(e) = may_manage_users(a) {
        return error_page(state, Some(c), lang, e);
    }
    let rows = match state
        .store
        .user_rows_of_org(a.user.org_id, state.now())
        .await
    {
        Ok(r) => r,
        Err(e) => return error_page(state, None, lang, e.into()),
    };
    let actor = &a.actor;
    let users = rows
        .into_iter()
        .map(|r| UserLine {
            id: r.user.id,
            manageable: decide(
                actor,
                Action::AdministerUser,
                Resource::User(target(&r.user)),
            )
            .allowed,
            username: r.user.username,
            role: role_label(&c.t, r.user.role),
            totp: r.user.totp_enabled,
            disabled: r.user.disabled,
            pending: r.enrolment_pending,
            tokens: r.live_tokens,
        })
        .collect();
    let roles = Role::ALL
        .iter()
        .filter(|r| org_admin_administers(**r))
        .map(|r| (r.as_str().to_string(), role_label(&c.t, *r)))
        .collect();
    (
        status,
        UsersPage {
            c,
            users,
            roles,
            created,
            errors,
        },
    )
        .into_response()
}

async fn users_page(State(state): State<AppState>, PageUser(a): PageUser) -> Response {
    users_with(&state, &a, None, vec![], StatusCode::OK).await
}

#[derive(Deserialize)]
struct NewUserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    role: String,
}

async fn users_create(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    headers: HeaderMap,
    Form(f): Form<NewUserForm>,
) -> Response {
    let t = Tr::new(lang_of(&a));
    if let Err(e) = may_manage_users(&a) {
        return error_page(&state, None, t.lang, e);
    }
    // An organisation admin creates staff of their own organisation only.
    if !Role::parse(&f.role).is_ok_and(org_admin_administers) {
        let e = FieldError::new("role", "invalid_value", "");
        return users_with(
            &state,
            &a,
            None,
            vec![error_text(&t, &e)],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let org = match state.store.org_by_id(a.user.org_id).await {
        Ok(o) => o,
        Err(e) => return error_page(&state, None, t.lang, e.into()),
    };
    let by = Acting::user(&a.actor, &a.source);
    match state
        .store
        .create_user_with_enrolment(&by, &org.slug, &f.role, f.username.trim(), state.now())
        .await
    {
        Ok((u, e)) => {
            let link = enrol_link(&headers, state.cfg.secure_cookies, &e);
            let expires = when(&t, e.expires_at);
            users_with(
                &state,
                &a,
                Some((u.username, link, expires)),
                vec![],
                StatusCode::OK,
            )
            .await
        }
        Err(StoreError::Invalid(v)) => {
            let errs = v.errors.iter().map(|e| error_text(&t, e)).collect();
            users_with(&state, &a, None, errs, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(StoreError::AlreadyExists(_)) => {
            let e = FieldError::new("username", "taken", "");
            users_with(
                &state,
                &a,
                None,
                vec![error_text(&t, &e)],
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => error_page(&state, None, t.lang, e.into()),
    }
}

// ---------- one user ----------

fn target(u: &User) -> TargetUser {
    TargetUser {
        id: u.id,
        org_id: u.org_id,
        role: u.role,
    }
}

/// The user `id` when the actor may administer it; any refusal (other organisation, a role
/// above the admin, unknown id) is 404 so that other organisations' users are not revealed.
async fn administered(state: &AppState, a: &Authed, id: &str) -> Result<User, AppError> {
    may_manage_users(a)?;
    let uid = crate::paths::parse_id(id)?;
    let u = match state.store.user_by_id(uid).await {
        Ok(u) => u,
        Err(StoreError::NotFound) => return Err(AppError::NotFound),
        Err(e) => return Err(e.into()),
    };
    let d = decide(&a.actor, Action::AdministerUser, Resource::User(target(&u)));
    if d.allowed {
        Ok(u)
    } else {
        let by = Acting::user(&a.actor, &a.source);
        state
            .store
            .audit_admin_denied(&by, u.id, d.reason, state.now())
            .await?;
        Err(AppError::NotFound)
    }
}

pub struct TokenLine {
    pub id: Uuid,
    pub label: String,
    pub short_id: String,
    pub created: String,
    pub expires: String,
    pub last_used: String,
    pub live: bool,
    /// The scope's name (issue 22 §3).
    pub scope: String,
}

/// The name of a token scope on the screens.
fn scope_label(t: &Tr, scope: &str) -> String {
    t.get(match TokenScope::parse(scope) {
        Some(TokenScope::ReadOnly) => "token-scope-read-only",
        Some(TokenScope::CaseWork) => "token-scope-case-work",
        Some(TokenScope::Statistics) => "token-scope-statistics",
        None => "token-dead",
    })
}

fn token_lines(t: &Tr, rows: Vec<TokenRow>, now_ms: i64) -> Vec<TokenLine> {
    rows.into_iter()
        .map(|r| TokenLine {
            short_id: r.id.simple().to_string()[..8].to_string(),
            label: r.label,
            created: when(t, r.created_at),
            expires: when(t, r.expires_at),
            last_used: r
                .last_used_at
                .map(|ms| when(t, ms))
                .unwrap_or_else(|| t.get("tokens-never-used")),
            live: r.revoked_at.is_none() && r.expires_at > now_ms,
            scope: scope_label(t, &r.scope),
            id: r.id,
        })
        .collect()
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_user.html")]
struct UserPage {
    c: Chrome,
    id: Uuid,
    username: String,
    role: String,
    totp: bool,
    disabled: bool,
    tokens: Vec<TokenLine>,
    revoke_base: String,
    /// A new enrolment link after a password reset.
    link: Option<(String, String)>,
    message: Option<String>,
    errors: Vec<String>,
}

async fn user_with(
    state: &AppState,
    a: &Authed,
    id: &str,
    link: Option<(String, String)>,
    message: Option<String>,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    let c = Chrome::for_user(state, a, "users");
    let lang = c.t.lang;
    let u = match administered(state, a, id).await {
        Ok(u) => u,
        Err(e) => return error_page(state, Some(c), lang, e),
    };
    let rows = match state.store.user_tokens(u.id).await {
        Ok(r) => r,
        Err(e) => return error_page(state, None, lang, e.into()),
    };
    let tokens = token_lines(&c.t, rows, dayaq_storage::millis(state.now()));
    (
        status,
        UserPage {
            id: u.id,
            username: u.username.clone(),
            role: role_label(&c.t, u.role),
            totp: u.totp_enabled,
            disabled: u.disabled,
            tokens,
            revoke_base: format!("/admin/users/{}/tokens", u.id),
            link,
            message,
            errors,
            c,
        },
    )
        .into_response()
}

async fn user_page(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
) -> Response {
    user_with(&state, &a, &id, None, None, vec![], StatusCode::OK).await
}

#[derive(Deserialize)]
struct ConfirmForm {
    #[serde(default)]
    confirm: String,
}

async fn user_action(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path((id, action)): Path<(String, String)>,
    headers: HeaderMap,
    Form(f): Form<ConfirmForm>,
) -> Response {
    let t = Tr::new(lang_of(&a));
    // Policy first: a refused caller learns nothing about the form.
    let u = match administered(&state, &a, &id).await {
        Ok(u) => u,
        Err(e) => return error_page(&state, None, t.lang, e),
    };
    if !matches!(
        action.as_str(),
        "disable" | "enable" | "reset-password" | "reset-totp" | "revoke-tokens"
    ) {
        return error_page(&state, None, t.lang, AppError::NotFound);
    }
    if f.confirm != "yes" {
        let e = FieldError::new("confirm", "required", "");
        return user_with(
            &state,
            &a,
            &id,
            None,
            None,
            vec![error_text(&t, &e)],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let by = Acting::user(&a.actor, &a.source);
    let now = state.now();
    let s = &state.store;
    let r: Result<(Option<(String, String)>, String), StoreError> = async {
        Ok(match action.as_str() {
            "disable" => {
                s.admin_set_disabled(&by, u.id, true, now).await?;
                (None, t.get("admin-user-disabled"))
            }
            "enable" => {
                s.admin_set_disabled(&by, u.id, false, now).await?;
                (None, t.get("admin-user-enabled"))
            }
            "reset-password" => {
                let e = s.reset_password_with_enrolment(&by, u.id, now).await?;
                let link = enrol_link(&headers, state.cfg.secure_cookies, &e);
                (
                    Some((link, when(&t, e.expires_at))),
                    t.get("admin-password-reset-done"),
                )
            }
            "reset-totp" => {
                s.admin_reset_totp(&by, u.id, now).await?;
                (None, t.get("admin-totp-reset-done"))
            }
            _ => {
                let n = s.revoke_user_tokens(&by, u.id, None, now).await?;
                (None, t.arg("admin-tokens-revoked", "count", n as i64))
            }
        })
    }
    .await;
    match r {
        Ok((link, msg)) => {
            user_with(&state, &a, &id, link, Some(msg), vec![], StatusCode::OK).await
        }
        Err(e) => error_page(&state, None, t.lang, e.into()),
    }
}

async fn user_token_revoke(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path((id, tid)): Path<(String, String)>,
    Form(f): Form<ConfirmForm>,
) -> Response {
    let t = Tr::new(lang_of(&a));
    let u = match administered(&state, &a, &id).await {
        Ok(u) => u,
        Err(e) => return error_page(&state, None, t.lang, e),
    };
    let Ok(tid) = crate::paths::parse_id(&tid) else {
        return error_page(&state, None, t.lang, AppError::NotFound);
    };
    if f.confirm != "yes" {
        let e = FieldError::new("confirm", "required", "");
        return user_with(
            &state,
            &a,
            &id,
            None,
            None,
            vec![error_text(&t, &e)],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let by = Acting::user(&a.actor, &a.source);
    match state
        .store
        .revoke_user_tokens(&by, u.id, Some(tid), state.now())
        .await
    {
        Ok(0) => error_page(&state, None, t.lang, AppError::NotFound),
        Ok(n) => {
            let msg = t.arg("admin-tokens-revoked", "count", n as i64);
            user_with(&state, &a, &id, None, Some(msg), vec![], StatusCode::OK).await
        }
        Err(e) => error_page(&state, None, t.lang, e.into()),
    }
}

// ---------- enrolment (no session) ----------

#[derive(Template, WebTemplate)]
#[template(path = "account_enrol.html")]
struct EnrolPasswordPage {
    c: Chrome,
    username: String,
    token: String,
    error: Vec<String>,
}

fn enrol_form(
    state: &AppState,
    info: &ReqInfo,
    user: &User,
    token: &str,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    let lang = info.lang;
    // The form carries a pre-login CSRF token like the sign-in form (or, in a browser that is
    // signed in already, that session's token, which the CSRF check then expects).
    if let Some(session) = &info.slot.session {
        let c = Chrome::anonymous(state, lang, session.csrf.clone(), "login");
        return (
            status,
            EnrolPasswordPage {
                c,
                username: user.username.clone(),
                token: token.to_string(),
                error: errors,
            },
        )
            .into_response();
    }
    let Ok(pre) = random_token() else {
        return error_page(state, None, lang, AppError::Internal("rng".into()));
    };
    let c = Chrome::anonymous(state, lang, pre.clone(), "login");
    let mut resp = (
        status,
        EnrolPasswordPage {
            c,
            username: user.username.clone(),
            token: token.to_string(),
            error: errors,
        },
    )
        .into_response();
    let secure = state.cfg.secure_cookies;
    if let Ok(v) = set_cookie(prelogin_cookie_name(secure), &pre, secure, Some(3600)).parse() {
        resp.headers_mut().append(SET_COOKIE, v);
    }
    resp
}

async fn enrol_page(
    State(state): State<AppState>,
    info: ReqInfo,
    Path(token): Path<String>,
) -> Response {
    match state.store.enrolment_user(&token, state.now()).await {
        Ok(Some(u)) => enrol_form(&state, &info, &u, &token, vec![], StatusCode::OK),
        Ok(None) => error_page(&state, None, info.lang, AppError::NotFound),
        Err(e) => error_page(&state, None, info.lang, e.into()),
    }
}

#[derive(Deserialize)]
struct EnrolForm {
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

async fn enrol_submit(
    State(state): State<AppState>,
    info: ReqInfo,
    Path(token): Path<String>,
    Form(f): Form<EnrolForm>,
) -> Response {
    let t = Tr::new(info.lang);
    let user = match state.store.enrolment_user(&token, state.now()).await {
        Ok(Some(u)) => u,
        Ok(None) => return error_page(&state, None, info.lang, AppError::NotFound),
        Err(e) => return error_page(&state, None, info.lang, e.into()),
    };
    if f.new_password != f.confirm_password {
        let e = FieldError::new("confirm_password", "mismatch", "");
        return enrol_form(
            &state,
            &info,
            &user,
            &token,
            vec![error_text(&t, &e)],
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let user = match state
        .store
        .complete_enrolment(&token, &f.new_password, &info.source, state.now())
        .await
    {
        Ok(u) => u,
        Err(StoreError::Invalid(v)) => {
            let errs = v.errors.iter().map(|e| error_text(&t, e)).collect();
            return enrol_form(
                &state,
                &info,
                &user,
                &token,
                errs,
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
        Err(e) => return error_page(&state, None, info.lang, e.into()),
    };
    // Signed in; a role that needs a second factor continues with its enrolment (or its code,
    // after a password reset that kept the factor).
    super::signin::signed_in(&state, &user, &info).await
}

// ---------- one's own API tokens ----------

#[derive(Template, WebTemplate)]
#[template(path = "account_tokens.html")]
struct TokensPage {
    c: Chrome,
    tokens: Vec<TokenLine>,
    revoke_base: String,
    message: Option<String>,
    /// Integration rights (`Action::CreateApiToken`): the creation form is shown.
    may_create: bool,
    /// The organisation's webhooks are the user's to manage: a link to them.
    may_webhooks: bool,
    /// A token just created: its secret, shown this once.
    created: Option<String>,
    /// The creation form refused (values kept, errors by field), or empty.
    r: Refused,
    scopes: Vec<Opt>,
}

async fn tokens_with(state: &AppState, a: &Authed, message: Option<String>) -> Response {
    tokens_render(state, a, message, None, Refused::default(), StatusCode::OK).await
}

/// The tokens page with a message, a just-created secret, or the refused creation form.
async fn tokens_render(
    state: &AppState,
    a: &Authed,
    message: Option<String>,
    created: Option<String>,
    r: Refused,
    status: StatusCode,
) -> Response {
    let c = Chrome::for_user(state, a, "account");
    let lang = c.t.lang;
    match state.store.user_tokens(a.user.id).await {
        Ok(rows) => {
            let tokens = token_lines(&c.t, rows, dayaq_storage::millis(state.now()));
            let scopes = TokenScope::ALL
                .iter()
                .map(|s| Opt {
                    value: s.as_str().into(),
                    label: scope_label(&c.t, s.as_str()),
                })
                .collect();
            let may_create = decide(&a.actor, Action::CreateApiToken, Resource::OwnAccount).allowed;
            let may_webhooks = decide(
                &a.actor,
                Action::ManageWebhooks,
                Resource::Organisation(a.actor.org_id),
            )
            .allowed;
            let page = TokensPage {
                c,
                tokens,
                revoke_base: "/account/tokens".into(),
                message,
                may_create,
                may_webhooks,
                created,
                r,
                scopes,
            };
            (status, page).into_response()
        }
        Err(e) => error_page(state, None, lang, e.into()),
    }
}

/// Creates a token of one's own (integration rights only): label, scope, days (default 90).
/// The secret is shown once on the page that answers; a refusal keeps what was typed.
async fn token_create(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let t = Tr::new(lang_of(&a));
    let label = super::form::value(&f, "label");
    let scope = TokenScope::parse(super::form::value(&f, "scope").trim());
    let days_text = super::form::value(&f, "days");
    let days = match days_text.trim() {
        "" => Ok(None),
        d => d.parse::<i64>().map(Some),
    };
    let result = match days {
        Ok(days) => state
            .store
            .create_scoped_token(&a.cx(), &label, days, scope)
            .await
            .map_err(AppError::from),
        Err(_) => Err(AppError::field(
            "days",
            "invalid_number",
            "the days are a whole number",
        )),
    };
    match result {
        Ok(created) => {
            let msg = t.get("tokens-created");
            tokens_render(
                &state,
                &a,
                Some(msg),
                Some(created.secret),
                Refused::default(),
                StatusCode::OK,
            )
            .await
        }
        Err(AppError::Invalid(v)) => {
            let r = Refused::new(&t, "token", f, &v);
            tokens_render(&state, &a, None, None, r, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => error_page(&state, None, t.lang, e),
    }
}

async fn tokens_page(State(state): State<AppState>, PageUser(a): PageUser) -> Response {
    tokens_with(&state, &a, None).await
}

async fn own_token_revoke(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(tid): Path<String>,
) -> Response {
    let t = Tr::new(lang_of(&a));
    let Ok(tid) = crate::paths::parse_id(&tid) else {
        return error_page(&state, None, t.lang, AppError::NotFound);
    };
    let by = Acting::user(&a.actor, &a.source);
    match state
        .store
        .revoke_user_tokens(&by, a.user.id, Some(tid), state.now())
        .await
    {
        Ok(0) => error_page(&state, None, t.lang, AppError::NotFound),
        Ok(n) => {
            tokens_with(
                &state,
                &a,
                Some(t.arg("admin-tokens-revoked", "count", n as i64)),
            )
            .await
        }
        Err(e) => error_page(&state, None, t.lang, e.into()),
    }
}
