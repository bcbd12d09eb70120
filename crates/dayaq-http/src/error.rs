//! The one place where errors become HTTP responses.
//! JSON API: `AppError` answers `{"error": {"code", "message", "field"?, "errors"?}}` with a
//! stable code. Screens: `PageError` (an `AppError` in the frame of the page it happened on)
//! answers the human HTML page with the same status; `PageMessage` is that page with a message
//! of the caller's (sign-in refusals). The 404 fallback picks one of the two by path.
//! Messages never contain submitted values (they may be personal data).

use crate::i18n::{Lang, Tr};
use crate::pages::Chrome;
use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dayaq_domain::{FieldError, ValidationErrors};
use dayaq_storage::StoreError;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("authentication required")]
    Unauthorized,
    #[error("forbidden")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    #[error("version conflict")]
    Conflict,
    #[error("invalid input")]
    Invalid(ValidationErrors),
    #[error("already exists")]
    AlreadyExists(&'static str),
    #[error("too many attempts")]
    TooManyRequests(i64),
    #[error("CSRF token missing or wrong")]
    Csrf,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("internal error")]
    Internal(String),
    /// A service the request needs does not answer (the attachment store): 503.
    #[error("service unavailable")]
    Unavailable(&'static str),
}

impl AppError {
    pub fn field(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        AppError::Invalid(ValidationErrors::single(FieldError::new(
            field, code, message,
        )))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict | AppError::AlreadyExists(_) => StatusCode::CONFLICT,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Conflict => "version_conflict",
            AppError::Invalid(_) => "invalid_input",
            AppError::AlreadyExists(_) => "already_exists",
            AppError::TooManyRequests(_) => "too_many_requests",
            AppError::Csrf => "csrf",
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::Internal(_) => "internal",
            AppError::Unavailable(r) => r,
        }
    }

    /// The i18n key of the human error page's title; its text is `<key>-text`.
    pub fn page_key(&self) -> &'static str {
        match self {
            AppError::NotFound => "error-not-found",
            AppError::Forbidden(_) => "error-forbidden",
            AppError::Conflict => "error-conflict",
            AppError::Csrf => "error-csrf",
            AppError::TooManyRequests(_) => "error-too-many",
            AppError::Unauthorized => "error-unauthorized",
            AppError::MethodNotAllowed => "error-method",
            AppError::Invalid(_) => "error-invalid",
            _ => "error-internal",
        }
    }

    /// A request body that could not be read (cut off, or over the body limit).
    pub fn unreadable_body(message: &'static str) -> Self {
        AppError::field("body", "too_large", message)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Forbidden(r) => AppError::Forbidden(r),
            StoreError::Conflict => AppError::Conflict,
            StoreError::AlreadyExists(w) => AppError::AlreadyExists(w),
            StoreError::Invalid(v) => AppError::Invalid(v),
            StoreError::RateLimited(secs) => AppError::TooManyRequests(secs),
            StoreError::Unavailable(r) => AppError::Unavailable(r),
            // Internal details are logged (they hold no personal data: SQL errors carry no
            // bound values) and never sent to the client.
            other => AppError::Internal(other.to_string()),
        }
    }
}

/// A sentence for refusals whose reason code alone would not tell the caller what to do.
fn forbidden_message(reason: &str) -> Option<&'static str> {
    match reason {
        "identity_export_needs_second_factor" => Some(
            "exports with identities need a caseworker or supervisor signed in to the web \
             application with a second factor; a bearer token is not enough. Add identity=none \
             to export without identities",
        ),
        "identity_export_needs_case_manager" => Some(
            "exports with identities are for caseworkers and supervisors; add identity=none to \
             export without identities",
        ),
        _ => None,
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut body = json!({"code": self.code(), "message": self.to_string()});
        match &self {
            AppError::Invalid(v) => {
                if let Some(first) = v.errors.first() {
                    body["field"] = json!(first.field);
                    body["message"] = json!(first.message);
                }
                body["errors"] = json!(v.errors);
            }
            AppError::Forbidden(reason) => {
                body["reason"] = json!(reason);
                if let Some(m) = forbidden_message(reason) {
                    body["message"] = json!(m);
                }
            }
            AppError::AlreadyExists(what) => body["field"] = json!(what),
            AppError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
            }
            _ => {}
        }
        let mut resp = (status, Json(json!({"error": body}))).into_response();
        if let AppError::TooManyRequests(secs) = self
            && let Ok(v) = axum::http::HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, v);
        }
        resp
    }
}

/// Turns a JSON body error into a field error without echoing the submitted value.
/// Parses a JSON body already read as a value, after the access check (errors name the field,
/// never the value).
pub fn body_as<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T, AppError> {
    serde_path_to_error::deserialize(v).map_err(json_body_error)
}

pub fn json_body_error(e: serde_path_to_error::Error<serde_json::Error>) -> AppError {
    let path = e.path().to_string();
    let inner = e.inner();
    let msg = inner.to_string();
    let field = if let Some(rest) = msg.strip_prefix("unknown field `") {
        rest.split('`').next().unwrap_or("").to_string()
    } else if let Some(rest) = msg.strip_prefix("missing field `") {
        rest.split('`').next().unwrap_or("").to_string()
    } else if path == "." {
        String::new()
    } else {
        path
    };
    let (code, message) = match inner.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            ("invalid_json", "the body is not valid JSON".to_string())
        }
        serde_json::error::Category::Io => {
            ("invalid_json", "the body could not be read".to_string())
        }
        serde_json::error::Category::Data if msg.starts_with("unknown field") => (
            "unknown_field",
            format!("{field} is not a field of this resource"),
        ),
        serde_json::error::Category::Data if msg.starts_with("missing field") => {
            ("required", format!("{field} is required"))
        }
        serde_json::error::Category::Data => {
            ("invalid_type", format!("{field} has the wrong type"))
        }
    };
    AppError::field(
        if field.is_empty() { "body" } else { &field },
        code,
        message,
    )
}

// ---------- the human error page (screens) ----------

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
    /// The "sign in again" link (`/login?next=…`) of the session-ended page; empty for others.
    signin: String,
}

/// An error on a screen: answered with the human page (not JSON), in `frame` (the signed-in
/// user's navigation, or the bare frame), with the status the API would give.
pub struct PageError {
    pub err: AppError,
    pub frame: Chrome,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.err.status();
        if let AppError::Internal(detail) = &self.err {
            tracing::error!(error = %detail, "internal error");
        }
        let c = self.frame;
        let key = self.err.page_key();
        let message = match &self.err {
            AppError::Invalid(v) => v
                .errors
                .iter()
                .map(|e| error_text(&c.t, e))
                .collect::<Vec<_>>()
                .join("; "),
            _ => c.t.get(&format!("{key}-text")),
        };
        let title = c.t.get(key);
        let page = ErrorPage {
            c,
            title,
            message,
            signin: String::new(),
        };
        (status, page).into_response()
    }
}

/// The human error page with a title key and a message of the caller's.
pub struct PageMessage {
    pub frame: Chrome,
    pub status: StatusCode,
    pub title_key: &'static str,
    pub message: String,
}

impl IntoResponse for PageMessage {
    fn into_response(self) -> Response {
        let title = self.frame.t.get(self.title_key);
        let page = ErrorPage {
            c: self.frame,
            title,
            message: self.message,
            signin: String::new(),
        };
        (self.status, page).into_response()
    }
}

/// The fallback for a path no route serves: JSON under `/api/`, the human page elsewhere (in
/// the signed-in user's language, else the switcher's or the browser's).
pub async fn not_found(req: Request) -> Response {
    if req.uri().path().starts_with("/api/") {
        return AppError::NotFound.into_response();
    }
    let lang = crate::auth::request_lang(&req);
    let frame = Chrome::bare(lang);
    let message = frame.t.get("error-not-found-text");
    PageMessage {
        frame,
        status: StatusCode::NOT_FOUND,
        title_key: "error-not-found",
        message,
    }
    .into_response()
}

// ---------- issue #23 §2: human pages for every error of a screen ----------

/// Whether `path` is the JSON API's (errors stay JSON there) rather than a screen's.
pub fn is_api_path(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// "Your session ended — sign in again; what you typed is kept" (401): a form posted from a
/// tab whose session expired, was signed out or replaced, or whose CSRF token is stale. The
/// link signs in and comes back to `next` (a path only; `static/drafts.js` fills in the
/// form's page when the server does not know it, and restores what was typed there). An
/// htmx request is sent to the sign-in page instead (`HX-Redirect`), since htmx does not show
/// an error answer.
pub fn session_ended(lang: Lang, next: Option<&str>, htmx: bool) -> Response {
    let c = Chrome::bare(lang);
    let signin = crate::auth::login_url(next);
    let title = c.t.get("error-session-ended");
    let message = c.t.get("error-session-ended-text");
    let mut resp = (
        StatusCode::UNAUTHORIZED,
        ErrorPage {
            c,
            title,
            message,
            signin: signin.clone(),
        },
    )
        .into_response();
    if htmx && let Ok(v) = axum::http::HeaderValue::from_str(&signin) {
        resp.headers_mut().insert("hx-redirect", v);
    }
    resp
}

/// The answer to a method a route does not serve (`GET` on a form's address): JSON under
/// `/api/`, elsewhere a page saying that the address belongs to a form.
pub async fn method_not_allowed(req: Request) -> Response {
    if is_api_path(req.uri().path()) {
        return AppError::MethodNotAllowed.into_response();
    }
    PageError {
        err: AppError::MethodNotAllowed,
        frame: Chrome::bare(crate::auth::request_lang(&req)),
    }
    .into_response()
}

/// A JSON error answered to a screen's request (outside `/api/`) becomes the human page with
/// the same status, in `lang` (`Retry-After` is kept). Anything else passes unchanged.
pub fn humanise(path: &str, lang: Lang, resp: Response) -> Response {
    let status = resp.status();
    let json = resp
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let machine = is_api_path(path) || path == "/healthz" || path == "/metrics";
    if machine || !json || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let err = match status {
        StatusCode::NOT_FOUND => AppError::NotFound,
        StatusCode::FORBIDDEN => AppError::Forbidden("forbidden"),
        StatusCode::UNAUTHORIZED => AppError::Unauthorized,
        StatusCode::CONFLICT => AppError::Conflict,
        StatusCode::METHOD_NOT_ALLOWED => AppError::MethodNotAllowed,
        StatusCode::TOO_MANY_REQUESTS => AppError::TooManyRequests(0),
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => {
            AppError::Invalid(ValidationErrors::default())
        }
        // The detail was logged where the error was answered; not logged twice.
        _ => AppError::Internal(String::new()),
    };
    let retry = resp.headers().get(axum::http::header::RETRY_AFTER).cloned();
    let c = Chrome::bare(lang);
    let key = err.page_key();
    let page = ErrorPage {
        title: c.t.get(key),
        message: c.t.get(&format!("{key}-text")),
        c,
        signin: String::new(),
    };
    let mut out = (status, page).into_response();
    if let Some(v) = retry {
        out.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
    }
    out
}
