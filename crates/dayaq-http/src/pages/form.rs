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
            Err(e) => match self.by_field(e) {
                Ok(v) => self.with_errors(state, a, id, v).await,
                Err(e) => error_page(state, None, lang_of(a), e.into()),
            },
        }
    }

    /// A refusal shown by the fields: refused input, and "already exists" with
    /// `conflict_by_field`; anything else stays an error.
    fn by_field(&self, e: StoreError) -> Result<ValidationErrors, StoreError> {
        match e {
            StoreError::Invalid(v) => Ok(v),
            StoreError::AlreadyExists(w) if self.conflict_by_field => Ok(ValidationErrors::single(
                FieldError::new(w, "already_exists", "already exists"),
            )),
            e => Err(e),
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

// ---------- one form pattern (issue #23 §1) ----------
//
// A refused form is shown again OPEN, with every typed value (`Posted`), each error beside its
// field and in a summary at the top of that form linked to the field (`FieldErrs`), focus on
// the first error (`autofocus`); a form that succeeded redirects with a fixed `?done=` code and
// the page confirms it in words (`DONE`). The HTML side is `templates/macros.html`
// (`once`, `form_summary`, `ferr`, `done`).

/// The values a form was posted with, to fill it again after a refusal.
#[derive(Default)]
pub struct Posted(pub Vec<(String, String)>);

impl Posted {
    pub fn v(&self, key: &str) -> String {
        value(&self.0, key)
    }
    pub fn is(&self, key: &str, v: &str) -> bool {
        self.v(key) == v
    }
    /// Whether `v` is among the values of a checkbox group or multi-select `key`.
    pub fn has(&self, key: &str, v: &str) -> bool {
        self.0.iter().any(|(k, x)| k == key && x == v)
    }
}

/// A form of a page: its name (the `form` of its errors, its element id `form-{name}`) and
/// where each refused field's input is (field as storage names it → input id), so the summary
/// links to it and focus goes to the first.
pub(crate) struct FormSpec {
    pub name: &'static str,
    /// The `?done=` code of a success (a key of `DONE`).
    pub done: &'static str,
    pub ids: &'static [(&'static str, &'static str)],
}

/// Errors of one refused form: each next to its field, all in the summary.
#[derive(Default)]
pub struct FieldErrs {
    /// The form the errors belong to (pages with several forms show them only there).
    pub form: &'static str,
    pub by_field: Vec<(String, String)>,
    pub summary: Vec<String>,
    /// The summary as links: (input id, message).
    pub links: Vec<(String, String)>,
    /// The field whose input takes the focus.
    pub first: String,
}

fn base_field(f: &str) -> String {
    f.split('[').next().unwrap_or(f).to_string()
}

impl FieldErrs {
    /// The errors of form `form` (links to `form-{form}` when the field has no input known).
    pub(crate) fn of(t: &Tr, form: &'static str, errs: &ValidationErrors) -> FieldErrs {
        let spec = FormSpec {
            name: form,
            done: "",
            ids: &[],
        };
        let mut e = FieldErrs::of_spec(t, &spec, errs, crate::pages::error_text);
        e.first = errs
            .errors
            .first()
            .map(|x| base_field(&x.field))
            .unwrap_or_default();
        e
    }

    /// The errors of the form `spec`, linked to its inputs, written by `text`.
    pub(crate) fn of_spec(
        t: &Tr,
        spec: &FormSpec,
        errs: &ValidationErrors,
        text: fn(&Tr, &FieldError) -> String,
    ) -> FieldErrs {
        let input = |f: &str| spec.ids.iter().find(|(k, _)| *k == f).map(|(_, id)| *id);
        FieldErrs {
            form: spec.name,
            by_field: errs
                .errors
                .iter()
                .map(|e| (base_field(&e.field), text(t, e)))
                .collect(),
            summary: errs.errors.iter().map(|e| text(t, e)).collect(),
            links: errs
                .errors
                .iter()
                .map(|e| {
                    let id = input(&base_field(&e.field))
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("form-{}", spec.name));
                    (id, text(t, e))
                })
                .collect(),
            first: errs
                .errors
                .iter()
                .map(|e| base_field(&e.field))
                .find(|f| input(f).is_some())
                .unwrap_or_default(),
        }
    }

    /// The message for `field` of form `form`, if any.
    pub fn get(&self, form: &str, field: &str) -> Option<String> {
        if self.form != form {
            return None;
        }
        let msgs: Vec<&str> = self
            .by_field
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
            .collect();
        (!msgs.is_empty()).then(|| msgs.join("; "))
    }

    /// `aria-invalid` and `aria-describedby` for an input whose error is shown with id
    /// `err_id`; the first refused field also takes the focus.
    pub fn attrs(&self, form: &str, field: &str, err_id: &str) -> String {
        if self.get(form, field).is_some() {
            let focus = if self.first == field {
                " autofocus"
            } else {
                ""
            };
            format!(" aria-invalid=\"true\" aria-describedby=\"{err_id}\"{focus}")
        } else {
            String::new()
        }
    }

    /// Whether these are the errors of `form`.
    pub fn shows(&self, form: &str) -> bool {
        self.form == form && !self.links.is_empty()
    }
}

/// Successes the case page confirms in words: `?done=` code, the section it is shown in, the
/// message key. A code not listed here shows nothing (the query never carries free text).
pub(crate) const DONE: &[(&str, &str, &str)] = &[
    ("decision", "identification", "done-decision"),
    ("screening", "screening", "done-screening"),
    ("consent", "consent", "done-consent"),
    ("withdrawal", "consent", "done-withdrawal"),
    ("assessment", "assistance", "done-assessment"),
    ("plan", "assistance", "done-plan"),
    ("goal", "assistance", "done-goal"),
    ("action", "assistance", "done-action"),
    ("action-done", "assistance", "done-action-done"),
    ("agreement", "assistance", "done-agreement"),
    ("approval", "assistance", "done-approval"),
    ("service", "assistance", "done-service"),
    ("allowance", "assistance", "done-allowance"),
    ("payment", "assistance", "done-payment"),
    ("event", "record", "done-event"),
    ("perpetrator", "record", "done-perpetrator"),
    ("dependant", "record", "done-dependant"),
    ("status", "record", "done-status"),
    ("followup", "followup", "done-followup"),
    // Issue #23 §1, the remaining forms: referrals, legal, hand-over, follow-up assessment.
    ("referral", "referrals", "done-referral"),
    ("legal", "legal", "done-legal"),
    ("referral-accepted", "referrals", "done-referral-accepted"),
    (
        "referral-declined",
        "referrals-page",
        "done-referral-declined",
    ),
    (
        "referral-completed",
        "referrals-page",
        "done-referral-completed",
    ),
    (
        "referral-withdrawn",
        "referrals-page",
        "done-referral-withdrawn",
    ),
    ("fu-assessment", "fu-reintegration", "done-fu-assessment"),
    ("fu-goal", "assistance", "done-goal"),
    ("transfer", "cases", "done-transfer"),
    ("dsr-recorded", "her-data", "done-dsr-recorded"),
    ("dsr-decided", "her-data", "done-dsr-decided"),
    ("dsr-lifted", "her-data", "done-dsr-lifted"),
    ("hold", "legal-hold", "done-hold"),
    ("hold-lifted", "legal-hold", "done-hold-lifted"),
];

/// What the case page's forms are drawn with: the refused form's values and errors, the
/// confirmation of the last success, and the page's one-time form token.
#[derive(Default)]
pub struct CaseForms {
    pub posted: Posted,
    pub errs: FieldErrs,
    /// (section, message) of a `?done=` confirmation.
    pub done: Option<(&'static str, String)>,
    pub token: String,
}

impl CaseForms {
    /// A fresh page: no refused form; `done` is the `?done=` code, if any.
    pub(crate) fn page(t: &Tr, done: Option<&str>) -> CaseForms {
        CaseForms {
            done: done.and_then(|d| {
                DONE.iter()
                    .find(|(code, _, _)| *code == d)
                    .map(|(_, section, key)| (*section, t.get(key)))
            }),
            token: new_form_token(),
            ..CaseForms::default()
        }
    }

    /// The page again after form `spec` was refused.
    pub(crate) fn refused(
        t: &Tr,
        spec: &FormSpec,
        posted: Posted,
        errs: &ValidationErrors,
        text: fn(&Tr, &FieldError) -> String,
    ) -> CaseForms {
        CaseForms {
            posted,
            errs: FieldErrs::of_spec(t, spec, errs, text),
            done: None,
            token: new_form_token(),
        }
    }

    /// The posted value of `key` when `form` was refused, else "".
    pub fn v(&self, form: &str, key: &str) -> String {
        if self.errs.form == form {
            self.posted.v(key)
        } else {
            String::new()
        }
    }
    /// Whether the refused `form` had `key` = `v` (a select's option, a radio).
    pub fn is(&self, form: &str, key: &str, v: &str) -> bool {
        self.errs.form == form && self.posted.is(key, v)
    }
    /// Whether the refused `form` had `v` among the values of `key` (a checkbox).
    pub fn has(&self, form: &str, key: &str, v: &str) -> bool {
        self.errs.form == form && self.posted.has(key, v)
    }
    /// `v` for a field named `prefix` + `name` (fields repeated per item, e.g. `notes-Safety`).
    pub fn v_in(&self, form: &str, prefix: &str, name: &str) -> String {
        self.v(form, &format!("{prefix}{name}"))
    }
    /// `is` for a field named `prefix` + `name`.
    pub fn is_in(&self, form: &str, prefix: &str, name: &str, v: &str) -> bool {
        self.is(form, &format!("{prefix}{name}"), v)
    }
    /// " open" for the `<details>` of the refused form.
    pub fn open(&self, form: &str) -> &'static str {
        if self.errs.form == form { " open" } else { "" }
    }
    /// The error of `field` of `form`, if any.
    pub fn err(&self, form: &str, field: &str) -> Option<String> {
        self.errs.get(form, field)
    }
    /// The attributes of the input of `field` (see `FieldErrs::attrs`).
    pub fn attrs(&self, form: &str, field: &str, err_id: &str) -> String {
        self.errs.attrs(form, field, err_id)
    }
    /// The confirmation shown in `section`, if the last success belongs there.
    pub fn done_in(&self, section: &str) -> Option<String> {
        self.done
            .as_ref()
            .filter(|(s, _)| *s == section)
            .map(|(_, m)| m.clone())
    }
}

/// A one-time form token for the hidden field `form_token` (random; see `once_layer`).
pub(crate) fn new_form_token() -> String {
    dayaq_storage::crypto::random_token().unwrap_or_default()
}

impl Back {
    /// The answer to a case form drawn with the pattern: on success the case page at the
    /// form's section with its `?done=` confirmation; on refused input the page again (422)
    /// with the form open, its values kept and its errors by their fields; else the error page.
    pub(crate) async fn answer<T>(
        &self,
        state: &AppState,
        a: &Authed,
        id: &str,
        spec: &FormSpec,
        posted: Posted,
        r: Result<T, StoreError>,
    ) -> Response {
        match r {
            Ok(_) => see_other(&format!("/cases/{id}?done={}#{}", spec.done, self.anchor)),
            Err(e) => match self.by_field(e) {
                Ok(v) => self.refused(state, a, id, spec, posted, v).await,
                Err(e) => error_page(state, None, lang_of(a), e.into()),
            },
        }
    }

    /// The case page again (422) with form `spec` open, its values and its errors.
    pub(crate) async fn refused(
        &self,
        state: &AppState,
        a: &Authed,
        id: &str,
        spec: &FormSpec,
        posted: Posted,
        errs: ValidationErrors,
    ) -> Response {
        let t = Tr::new(lang_of(a));
        let forms = CaseForms::refused(&t, spec, posted, &errs, self.text);
        crate::pages::render_case_forms(
            state,
            a,
            id,
            false,
            forms,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await
        .unwrap_or_else(|e| error_page(state, None, t.lang, e))
    }
}

// ---------- double submit: one-time form tokens (issue #23 §3) ----------

/// The most a screen form may post (as the session layer).
const MAX_ONCE_BYTES: usize = 1024 * 1024;
/// How long a repeat waits for the first submission's answer.
const ONCE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The key of one submission: user, path, posted bytes (which hold the one-time token).
fn once_key(user: Uuid, path: &str, body: &[u8]) -> String {
    let mut b = Vec::with_capacity(body.len() + 64);
    b.extend_from_slice(user.as_bytes());
    b.extend_from_slice(path.as_bytes());
    b.push(0);
    b.extend_from_slice(body);
    dayaq_storage::crypto::sha256_hex(&b)
}

/// Makes a screen form that carries a `form_token` field idempotent: the first POST claims the
/// key (user, path, token, posted bytes) and runs; a repeat of the very same POST waits for the
/// first one's answer and, if it was a redirect (the record was made), gets the same redirect
/// without running again. A refused first submission frees the key (nothing was written), so a
/// repeat is refused the same way. Requests without the field (the API, other forms) pass.
pub async fn once_layer(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    use axum::http::header::{CONTENT_TYPE, LOCATION};
    let is_form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let user = req
        .extensions()
        .get::<crate::auth::SessionSlot>()
        .and_then(|s| s.session.as_ref())
        .map(|s| s.user.id);
    let (true, Some(user), true) = (req.method() == axum::http::Method::POST, user, is_form) else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ONCE_BYTES).await else {
        return AppError::unreadable_body("the form is too large").into_response();
    };
    let has_token = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .ok()
        .is_some_and(|f| f.iter().any(|(k, v)| k == "form_token" && !v.is_empty()));
    if !has_token {
        return next
            .run(Request::from_parts(parts, axum::body::Body::from(bytes)))
            .await;
    }
    let key = once_key(user, parts.uri.path(), &bytes);
    let started = std::time::Instant::now();
    loop {
        match state.store.claim_form_token(user, state.now(), &key).await {
            Ok(dayaq_storage::form_tokens::FormClaim::Fresh) => break,
            Ok(dayaq_storage::form_tokens::FormClaim::Answered(to)) => return see_other(&to),
            Ok(dayaq_storage::form_tokens::FormClaim::Pending) if started.elapsed() < ONCE_WAIT => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Ok(dayaq_storage::form_tokens::FormClaim::Pending) => {
                return AppError::Conflict.into_response();
            }
            Err(e) => return AppError::from(e).into_response(),
        }
    }
    let resp = next
        .run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await;
    let to = resp
        .status()
        .is_redirection()
        .then(|| resp.headers().get(LOCATION))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let settled = match to {
        Some(to) => state.store.finish_form_token(&key, &to).await,
        None => state.store.release_form_token(&key).await,
    };
    if let Err(e) = settled {
        tracing::warn!(error = %e, "form token not settled");
    }
    resp
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
