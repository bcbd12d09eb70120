//! Authentication plumbing: the session middleware (cookie → session, CSRF check on every
//! state-changing request), the request extractors, and cookie helpers.

use crate::AppState;
use crate::error::AppError;
use crate::i18n::Lang;
use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, USER_AGENT};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use dayaq_domain::Actor;
use dayaq_storage::cases::Ctx;
use dayaq_storage::sessions::Session;
use dayaq_storage::users::User;
use std::net::SocketAddr;

pub const LANG_COOKIE: &str = "dayaq_lang";
const MAX_FORM_BYTES: usize = 1024 * 1024;

pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-dayaq_session"
    } else {
        "dayaq_session"
    }
}
pub fn prelogin_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-dayaq_pre"
    } else {
        "dayaq_pre"
    }
}

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| cookie::Cookie::split_parse(v.to_string()))
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Path=/, Secure when served over TLS.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age_secs: Option<i64>) -> String {
    let mut c = cookie::Cookie::build((name.to_string(), value.to_string()))
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .path("/")
        .secure(secure);
    if let Some(s) = max_age_secs {
        c = c.max_age(cookie::time::Duration::seconds(s));
    }
    c.build().to_string()
}

/// Where a request comes from, for audit (the client address; no personal data of survivors).
#[derive(Debug, Clone)]
pub struct Source(pub String);

/// What the session middleware found.
#[derive(Debug, Clone, Default)]
pub struct SessionSlot {
    pub token: Option<String>,
    pub session: Option<Session>,
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn form_csrf(body: &[u8]) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v)
}

/// Resolves the session cookie once per request and enforces CSRF on unsafe methods:
/// with a session, the token (form field `csrf` or header `X-CSRF-Token`) must equal the
/// session's; before sign-in, the pre-login cookie's token must be echoed.
pub async fn session_layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    // The client address: the TCP peer, or behind a trusted proxy the address it forwards.
    let source = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| {
            crate::proxy::client_addr(c.0.ip(), &parts.headers, &state.cfg.trusted_proxies)
                .to_string()
        })
        .unwrap_or_else(|| "unknown".into());
    parts.extensions.insert(Source(source));
    let secure = state.cfg.secure_cookies;
    let mut slot = SessionSlot::default();
    if let Some(token) = cookie_value(&parts.headers, session_cookie_name(secure)) {
        match state
            .store
            .session(&token, state.cfg.session, state.now())
            .await
        {
            Ok(s) => {
                slot.session = s;
                slot.token = Some(token);
            }
            Err(e) => return AppError::from(e).into_response(),
        }
    }
    let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    let mut body = body;
    if unsafe_method && bearer(&parts.headers).is_none() {
        let expected = match &slot.session {
            Some(s) => Some(s.csrf.clone()),
            None => cookie_value(&parts.headers, prelogin_cookie_name(secure)),
        };
        let mut presented = parts
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let is_form = parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if presented.is_none() && is_form {
            let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
                return AppError::unreadable_body("the form is too large").into_response();
            };
            presented = form_csrf(&bytes);
            body = Body::from(bytes);
        }
        // Sign-in itself needs the pre-login cookie and its token (no login CSRF: another
        // site must not sign a victim's browser into the attacker's account).
        let signing_in = parts.uri.path() == "/login" || parts.uri.path().starts_with("/login/");
        // The self check-in pages (issue 17) are bound to their one-time token or code, need
        // no session and must work in any browser: no CSRF token.
        let checkin = parts.uri.path() == "/c" || parts.uri.path().starts_with("/c/");
        match expected {
            _ if checkin => {}
            Some(expected)
                if !presented
                    .as_deref()
                    .is_some_and(|p| constant_time_eq(p, &expected)) =>
            {
                if signing_in {
                    return crate::pages::login_csrf_page(&state, &parts.headers);
                }
                return AppError::Csrf.into_response();
            }
            None if signing_in => {
                return crate::pages::login_csrf_page(&state, &parts.headers);
            }
            // Other requests with neither a session nor a pre-login token are
            // unauthenticated; the handler answers 401.
            _ => {}
        }
    }
    parts.extensions.insert(slot);
    next.run(Request::from_parts(parts, body)).await
}

/// An authenticated user (full session with second factor done, or a bearer token).
#[derive(Debug, Clone)]
pub struct Authed {
    pub user: User,
    pub session: Option<Session>,
    pub source: String,
    /// The policy's view of `user`, derived once per request.
    pub actor: Actor,
    /// The request's "now" (from the application clock), taken once per request.
    pub now: time::OffsetDateTime,
}

impl Authed {
    fn new(
        user: User,
        session: Option<Session>,
        source: String,
        now: time::OffsetDateTime,
    ) -> Self {
        let actor = user.actor();
        Self {
            user,
            session,
            source,
            actor,
            now,
        }
    }

    /// The request context every storage call takes: who acts, from where, when.
    pub fn cx(&self) -> Ctx<'_> {
        Ctx {
            actor: &self.actor,
            source: &self.source,
            now: self.now,
        }
    }
}

fn source_of(parts: &Parts) -> String {
    parts
        .extensions
        .get::<Source>()
        .map(|s| s.0.clone())
        .unwrap_or_default()
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let source = source_of(parts);
        if let Some(token) = bearer(&parts.headers) {
            // The token's scope narrows what the policy grants its user (issue 22 §3): a
            // request outside it is refused before any handler runs. The path is the one
            // received (the API router is nested, so `parts.uri` lacks `/api/v1`).
            let path = parts
                .extensions
                .get::<axum::extract::OriginalUri>()
                .map(|u| u.0.path().to_string())
                .unwrap_or_else(|| parts.uri.path().to_string());
            return match state.store.token_auth(token, state.now()).await? {
                Some((user, scope)) if scope.permits(parts.method.as_str(), &path) => {
                    Ok(Authed::new(user, None, source, state.now()))
                }
                Some(_) => Err(AppError::Forbidden("token_scope")),
                None => Err(AppError::Unauthorized),
            };
        }
        let slot = parts
            .extensions
            .get::<SessionSlot>()
            .cloned()
            .unwrap_or_default();
        match slot.session {
            Some(s) if s.mfa_ok => Ok(Authed::new(s.user.clone(), Some(s), source, state.now())),
            _ => Err(AppError::Unauthorized),
        }
    }
}

/// For HTML pages: like `Authed`, but an anonymous visitor is redirected to sign-in and a
/// session waiting for its second factor is sent to finish it.
#[derive(Debug, Clone)]
pub struct PageUser(pub Authed);

pub struct ToLogin(&'static str);

impl IntoResponse for ToLogin {
    fn into_response(self) -> Response {
        Redirect::to(self.0).into_response()
    }
}

impl FromRequestParts<AppState> for PageUser {
    type Rejection = ToLogin;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let source = source_of(parts);
        let slot = parts
            .extensions
            .get::<SessionSlot>()
            .cloned()
            .unwrap_or_default();
        match slot.session {
            Some(s) if s.mfa_ok => Ok(PageUser(Authed::new(
                s.user.clone(),
                Some(s),
                source,
                state.now(),
            ))),
            Some(s) if s.user.totp_enabled => Err(ToLogin("/login/totp")),
            Some(_) => Err(ToLogin("/login/enrol")),
            None => Err(ToLogin("/login")),
        }
    }
}

/// A session that has passed the password step but not the second factor.
#[derive(Debug, Clone)]
pub struct Pending {
    pub session: Session,
    pub token: String,
    pub source: String,
}

impl FromRequestParts<AppState> for Pending {
    type Rejection = ToLogin;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let source = source_of(parts);
        let slot = parts
            .extensions
            .get::<SessionSlot>()
            .cloned()
            .unwrap_or_default();
        match (slot.session, slot.token) {
            (Some(s), Some(token)) if !s.mfa_ok => Ok(Pending {
                session: s,
                token,
                source,
            }),
            (Some(_), _) => Err(ToLogin("/")),
            _ => Err(ToLogin("/login")),
        }
    }
}

/// Request facts every page needs: language, client address, the raw session slot.
#[derive(Debug, Clone)]
pub struct ReqInfo {
    pub lang: Lang,
    /// The language chosen with the switcher (cookie), if any.
    pub lang_cookie: Option<Lang>,
    pub source: String,
    pub user_agent: String,
    pub slot: SessionSlot,
}

impl FromRequestParts<AppState> for ReqInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let slot = parts
            .extensions
            .get::<SessionSlot>()
            .cloned()
            .unwrap_or_default();
        let lang_cookie = cookie_value(&parts.headers, LANG_COOKIE).and_then(|v| Lang::parse(&v));
        let lang = slot
            .session
            .as_ref()
            .and_then(|s| Lang::parse(&s.user.locale))
            .or(lang_cookie)
            .or_else(|| {
                parts
                    .headers
                    .get(axum::http::header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(Lang::from_accept_language)
            })
            .unwrap_or(Lang::Az);
        Ok(ReqInfo {
            lang,
            lang_cookie,
            source: source_of(parts),
            user_agent: parts
                .headers
                .get(USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .chars()
                .take(200)
                .collect(),
            slot,
        })
    }
}
