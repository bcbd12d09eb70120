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
        (status, ErrorPage { c, title, message }).into_response()
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
        };
        (self.status, page).into_response()
    }
}

/// The fallback for a path no route serves: JSON under `/api/`, the human page elsewhere (in
/// the browser's language; no session is looked at).
pub async fn not_found(req: Request) -> Response {
    if req.uri().path().starts_with("/api/") {
        return AppError::NotFound.into_response();
    }
    let lang = req
        .headers()
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Lang::from_accept_language)
        .unwrap_or(Lang::Az);
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
