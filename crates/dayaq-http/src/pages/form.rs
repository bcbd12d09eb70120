//! Building blocks every form handler of the pages shares: reading posted fields, the choice
//! lists of `<select>`s, and the language of the signed-in user. The HTML side of the form
//! pattern (CSRF field, a field with its label and error, the error summary) is in
//! `templates/macros.html`.

use crate::AppState;
use crate::auth::{Authed, PageUser};
use crate::error::AppError;
use crate::i18n::{Lang, Tr};
use crate::pages::{error_page, render_case_with, see_other};
use axum::Form;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dayaq_domain::{FieldError, ValidationErrors};
use dayaq_storage::StoreError;
use uuid::Uuid;

/// One `<option>` of a choice list.
pub struct Opt {
    pub value: String,
    pub label: String,
}

/// The language of the signed-in user's pages.
pub(crate) fn lang_of(a: &Authed) -> Lang {
    Lang::parse(&a.user.locale).unwrap_or(Lang::Az)
}

/// The first value posted under `key`, or "".
pub(crate) fn value(form: &[(String, String)], key: &str) -> String {
    form.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// Every value posted under `key` (checkbox groups, multi-selects), in order.
pub(crate) fn values(form: &[(String, String)], key: &str) -> Vec<String> {
    form.iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .collect()
}

/// The value posted under `key`, trimmed; `None` when empty.
pub(crate) fn opt_value(form: &[(String, String)], key: &str) -> Option<String> {
    Some(value(form, key).trim().to_string()).filter(|v| !v.is_empty())
}

/// A form posted to a case page (`/cases/{id}/…`): the signed-in user, the case id as written
/// in the path (for the redirect and the page shown again) and parsed, and the posted fields.
/// Extracted in the order the handlers always had: sign-in (else the login page), the form
/// body, then the id (a malformed one is the "not found" page).
pub(crate) struct CaseForm {
    pub a: Authed,
    pub id: String,
    pub uid: Uuid,
    pub f: Vec<(String, String)>,
}

impl FromRequest<AppState> for CaseForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let PageUser(a) = PageUser::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let id = Path::<Vec<String>>::from_request_parts(&mut parts, state)
            .await
            .ok()
            .and_then(|Path(v)| v.into_iter().next())
            .unwrap_or_default();
        let Form(f) =
            Form::<Vec<(String, String)>>::from_request(Request::from_parts(parts, body), state)
                .await
                .map_err(IntoResponse::into_response)?;
        let Ok(uid) = crate::paths::parse_id(&id) else {
            return Err(error_page(state, None, lang_of(&a), AppError::NotFound));
        };
        Ok(Self { a, id, uid, f })
    }
}

/// Where a case form goes back to: the case page at `#anchor`, its errors written by `text`;
/// with `conflict_by_field` an "already exists" answer is shown by its field like any other
/// refused input (else it is an error page).
pub(crate) struct Back {
    pub anchor: &'static str,
    pub text: fn(&Tr, &FieldError) -> String,
    pub conflict_by_field: bool,
}

impl Back {
    /// Back to the case page's `anchor`, errors written the common way.
    pub(crate) const fn to(anchor: &'static str) -> Back {
        Back {
            anchor,
            text: crate::pages::error_text,
            conflict_by_field: false,
        }
    }

    /// The answer to a case form: the case page on success, the page again with the errors
    /// by their fields (422) for refused input, else the error page.
    pub(crate) async fn outcome<T>(
        &self,
        state: &AppState,
        a: &Authed,
        id: &str,
        r: Result<T, StoreError>,
    ) -> Response {
        match r {
            Ok(_) => see_other(&format!("/cases/{id}#{}", self.anchor)),
            Err(StoreError::Invalid(v)) => self.with_errors(state, a, id, v).await,
            Err(StoreError::AlreadyExists(w)) if self.conflict_by_field => {
                let v = ValidationErrors::single(FieldError::new(
                    w,
                    "already_exists",
                    "already exists",
                ));
                self.with_errors(state, a, id, v).await
            }
            Err(e) => error_page(state, None, lang_of(a), e.into()),
        }
    }

    /// The case page again (422) with every error of a refused form.
    pub(crate) async fn with_errors(
        &self,
        state: &AppState,
        a: &Authed,
        id: &str,
        errs: ValidationErrors,
    ) -> Response {
        let t = Tr::new(lang_of(a));
        let msgs = errs.errors.iter().map(|e| (self.text)(&t, e)).collect();
        render_case_with(state, a, id, false, msgs, StatusCode::UNPROCESSABLE_ENTITY)
            .await
            .unwrap_or_else(|e| error_page(state, None, t.lang, e))
    }
}

/// A refused stand-alone form (not a case page's; issue 22's token and webhook forms): the
/// posted values to fill it again and each error by its field, shaped for `macros.html`
/// (`text_field` takes it as both `errs` and `posted`; `field_error`, `error_summary`).
#[derive(Default)]
pub(crate) struct Refused {
    form: &'static str,
    posted: Vec<(String, String)>,
    errors: Vec<(String, String)>,
}

impl Refused {
    pub(crate) fn new(
        t: &Tr,
        form: &'static str,
        posted: Vec<(String, String)>,
        errs: &ValidationErrors,
    ) -> Self {
        let errors = errs
            .errors
            .iter()
            .map(|e| (e.field.clone(), crate::error::error_text(t, e)))
            .collect();
        Self {
            form,
            posted,
            errors,
        }
    }
    /// The value posted under `key` ("" when none).
    pub fn v(&self, key: &str) -> String {
        value(&self.posted, key)
    }
    /// Was `v` among the values posted under `key` (checkboxes)?
    pub fn has(&self, key: &str, v: &str) -> bool {
        self.posted.iter().any(|(k, x)| k == key && x == v)
    }
    /// The message of `field` when `form` is the refused one.
    pub fn get(&self, form: &str, field: &str) -> Option<String> {
        if form != self.form {
            return None;
        }
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.clone())
    }
    /// `aria-invalid` and `aria-describedby` for the input of a refused field.
    pub fn attrs(&self, form: &str, field: &str, err_id: &str) -> String {
        match self.get(form, field) {
            Some(_) => format!(" aria-invalid=\"true\" aria-describedby=\"{err_id}\""),
            None => String::new(),
        }
    }
    /// Every message, for the summary at the top of the page.
    pub fn summary(&self) -> Vec<String> {
        self.errors.iter().map(|(_, m)| m.clone()).collect()
    }
}
