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
/// Where to go after the second factor (a path only, set by the password step; issue #23 §2).
pub const NEXT_COOKIE: &str = "dayaq_next";
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
            Err(e) => {
                let lang = lang_from(&parts.headers, None);
                let resp = AppError::from(e).into_response();
                return crate::error::humanise(parts.uri.path(), lang, resp);
            }
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
                if !crate::error::is_api_path(parts.uri.path()) {
                    // A form of a tab whose session ended or was replaced: a human page that
                    // signs in again and comes back (the typed values wait in the browser).
                    let lang = lang_from(&parts.headers, Some(&slot));
                    return crate::error::session_ended(
                        lang,
                        htmx_page(&parts.headers).as_deref(),
                        parts.headers.contains_key("hx-request"),
                    );
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
    // Screens answer errors with the human page in the user's language (issue #23 §2).
    let lang = lang_from(&parts.headers, Some(&slot));
    let path = parts.uri.path().to_string();
    parts.extensions.insert(slot);
    let resp = next.run(Request::from_parts(parts, body)).await;
    crate::error::humanise(&path, lang, resp)
}

/// The language of a request: the signed-in user's, else the switcher's cookie, else the
/// browser's, else Azerbaijani.
fn lang_from(headers: &HeaderMap, slot: Option<&SessionSlot>) -> Lang {
    slot.and_then(|s| s.session.as_ref())
        .and_then(|s| Lang::parse(&s.user.locale))
        .unwrap_or_else(|| crate::pages::visitor_lang(headers))
}

/// The language of `req` (after the session layer: the signed-in user's first).
pub fn request_lang(req: &Request) -> Lang {
    lang_from(req.headers(), req.extensions().get::<SessionSlot>())
}

/// A path to come back to after signing in: a local path (`pages::local_path`) without query
/// or fragment (never personal data in a URL), and not a sign-in step itself.
pub fn next_path(s: &str) -> Option<String> {
    let s = s.trim();
    let p = crate::pages::local_path(s);
    let own = p == "/login"
        || p.starts_with("/login/")
        || p == "/logout"
        || p == "/lang"
        || p.starts_with("/static/")
        || p.starts_with("/enrol/");
    let ok = p != "/" && !own && !p.contains(['?', '#']);
    ok.then(|| p.to_string())
}

/// `/login`, with `?next=` when there is a path to come back to.
pub fn login_url(next: Option<&str>) -> String {
    match next.and_then(next_path) {
        Some(p) => format!(
            "/login?{}",
            serde_urlencoded::to_string([("next", p.as_str())]).unwrap_or_default()
        ),
        None => "/login".to_string(),
    }
}

/// The path of the page an htmx request was made from (`HX-Current-URL`), if it is local.
fn htmx_page(headers: &HeaderMap) -> Option<String> {
    let url = headers.get("hx-current-url")?.to_str().ok()?;
    let after_scheme = url.split_once("://").map_or(url, |(_, r)| r);
    let path = after_scheme.find('/').map(|i| &after_scheme[i..])?;
    let path = path.split(['?', '#']).next().unwrap_or("");
    next_path(path)
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

/// Why a page request did not reach its handler: a step of the sign-in to finish, the sign-in
/// page (coming back to the page after), or a form posted after the session ended.
pub enum ToLogin {
    Step(&'static str),
    Page(String),
    SessionEnded(Lang),
}

impl IntoResponse for ToLogin {
    fn into_response(self) -> Response {
        match self {
            ToLogin::Step(to) => Redirect::to(to).into_response(),
            ToLogin::Page(path) => Redirect::to(&login_url(Some(&path))).into_response(),
            ToLogin::SessionEnded(lang) => crate::error::session_ended(lang, None, false),
        }
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
            Some(s) if s.user.passkeys => Err(ToLogin::Step("/login/passkey")),
            Some(s) if s.user.totp_enabled => Err(ToLogin::Step("/login/totp")),
            Some(_) => Err(ToLogin::Step("/login/enrol")),
            // Signed out: a page comes back after signing in; a posted form gets the human
            // page (its values wait in the browser, `static/drafts.js`).
            None if matches!(parts.method, Method::GET | Method::HEAD) => {
                Err(ToLogin::Page(parts.uri.path().to_string()))
            }
            None => {
                let htmx = parts.headers.contains_key("hx-request");
                let lang = lang_from(&parts.headers, None);
                if htmx {
                    return Err(ToLogin::Page(htmx_page(&parts.headers).unwrap_or_default()));
                }
                Err(ToLogin::SessionEnded(lang))
            }
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
            (Some(_), _) => Err(ToLogin::Step("/")),
            _ => Err(ToLogin::Step("/login")),
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
    /// The page to come back to after the second factor (`NEXT_COOKIE`), if any.
    pub return_to: Option<String>,
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
        let lang = lang_from(&parts.headers, Some(&slot));
        let return_to = cookie_value(&parts.headers, NEXT_COOKIE).and_then(|v| next_path(&v));
        Ok(ReqInfo {
            return_to,
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

#[cfg(test)]
mod next_tests {
    use super::{login_url, next_path};

    #[test]
    fn next_is_a_local_path_without_query_and_not_a_sign_in_step() {
        assert_eq!(
            next_path("/cases/0b6f1c2e-1111-4222-8333-444455556666"),
            Some("/cases/0b6f1c2e-1111-4222-8333-444455556666".into())
        );
        for bad in [
            "",
            "/",
            "//evil.com",
            "/\\evil",
            "https://evil.com",
            "/cases?name=Aysel",
            "/cases#x",
            "/login",
            "/login/totp",
            "/logout",
            "/lang",
            "/static/app.js",
            "/enrol/en_abc",
        ] {
            assert_eq!(next_path(bad), None, "{bad:?}");
        }
        assert_eq!(login_url(Some("/cases/x")), "/login?next=%2Fcases%2Fx");
        assert_eq!(login_url(Some("//evil.com")), "/login");
        assert_eq!(login_url(None), "/login");
    }
}
