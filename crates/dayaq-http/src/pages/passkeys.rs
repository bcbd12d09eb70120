//! Passkeys / security keys and recovery codes on screens (issue 22 §2): the account's
//! "Security keys" page (add, name, list with last use, remove; recovery codes), and the
//! sign-in steps (passkey, recovery code, first passkey when the role must use one).
//!
//! Each page that starts a ceremony stores its state server-side (`crate::passkeys`) and puts
//! the options in the form's `data-options`; `static/passkeys.js` calls
//! `navigator.credentials` and posts the answer in the hidden `credential` field, so the
//! answers are ordinary forms (CSRF field, errors beside their field, no inline script).

use super::*;
use crate::passkeys as ceremony;
use dayaq_storage::users::PasskeyInfo;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/account/security-keys", get(keys_page).post(add_key))
        .route("/account/security-keys/{id}/rename", post(rename_key))
        .route("/account/security-keys/{id}/remove", post(remove_key))
        .route("/account/recovery-codes", post(new_recovery_codes))
}

/// The sign-in steps (merged into the rate-limited sign-in router).
pub(crate) fn signin_router() -> Router<AppState> {
    Router::new()
        .route("/login/passkey", get(passkey_page).post(passkey_submit))
        .route(
            "/login/passkey/enrol",
            get(passkey_enrol_page).post(passkey_enrol_submit),
        )
        .route("/login/recovery", get(recovery_page).post(recovery_submit))
}

/// Where a pending sign-in of `user` must go instead of a TOTP step when the role must use a
/// passkey: the passkey step, or the first passkey. The TOTP steps ask this first (no fallback
/// to TOTP for such a role; a user with a passkey is sent to it first anyway, `signed_in`).
pub(super) async fn passkey_step(
    state: &AppState,
    user: &User,
) -> Result<Option<&'static str>, AppError> {
    if !state.store.passkey_required(user.role).await? {
        return Ok(None);
    }
    Ok(Some(if user.passkeys {
        "/login/passkey"
    } else {
        "/login/passkey/enrol"
    }))
}

fn rp(state: &AppState) -> Result<&webauthn_rs::prelude::Webauthn, AppError> {
    state
        .cfg
        .passkeys
        .as_deref()
        .ok_or(AppError::Unavailable("passkeys_not_configured"))
}

fn field_msg(t: &Tr, errs: &[FieldError], field: &str) -> Option<String> {
    errs.iter()
        .find(|e| e.field == field)
        .map(|e| error_text(t, e))
}

fn field_errors(e: AppError) -> Result<Vec<FieldError>, AppError> {
    match e {
        AppError::Invalid(v) => Ok(v.errors),
        other => Err(other),
    }
}

// ---------- the account's security keys ----------

pub(super) struct KeyRow {
    id: String,
    name: String,
    added: String,
    last_used: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "account_passkeys.html")]
pub(super) struct KeysPage {
    c: Chrome,
    keys: Vec<KeyRow>,
    /// A confirmation after a change (`?done=`).
    message: Option<String>,
    /// The new recovery codes, shown once.
    codes: Vec<String>,
    codes_left: i64,
    /// The registration ceremony for the add form (empty when passkeys are unavailable).
    challenge_id: String,
    options: String,
    /// The name typed into the add form, and the errors of a refused form.
    name: String,
    name_error: Option<String>,
    key_error: Option<String>,
    /// Errors of the per-key forms (remove the last required key, a bad new name).
    list_error: Option<String>,
    required: bool,
}

#[derive(Default)]
struct KeysView {
    message: Option<String>,
    codes: Vec<String>,
    name: String,
    errors: Vec<FieldError>,
}

async fn render_keys(
    state: &AppState,
    a: &auth::Authed,
    view: KeysView,
    status: StatusCode,
) -> Response {
    let c = Chrome::for_user(state, a, "account");
    let lang = c.t.lang;
    match keys_page_data(state, a, c, view).await {
        Ok(p) => (status, p).into_response(),
        Err(e) => error_page(state, None, lang, e),
    }
}

async fn keys_page_data(
    state: &AppState,
    a: &auth::Authed,
    c: Chrome,
    view: KeysView,
) -> Result<KeysPage, AppError> {
    let list: Vec<PasskeyInfo> = state.store.passkeys_of(a.user.id).await?;
    let keys = list
        .into_iter()
        .map(|k| KeyRow {
            id: k.id.to_string(),
            name: k.name,
            added: c.t.datetime(&account::rfc3339(k.created_at)),
            last_used: k
                .last_used_at
                .map(|ms| c.t.datetime(&account::rfc3339(ms)))
                .unwrap_or_else(|| c.t.get("passkey-never-used")),
        })
        .collect();
    let session = a
        .session
        .as_ref()
        .map(|s| s.public_id.clone())
        .unwrap_or_default();
    let (challenge_id, options) = match state.cfg.passkeys.as_deref() {
        Some(rp) => {
            let b =
                ceremony::begin_registration(&state.store, rp, &a.user, &session, a.now).await?;
            (b.challenge_id.to_string(), b.options_json)
        }
        None => (String::new(), String::new()),
    };
    let t = &c.t;
    let name_error = field_msg(t, &view.errors, "name");
    let key_error = field_msg(t, &view.errors, "credential");
    let list_error =
        field_msg(t, &view.errors, "passkey").or_else(|| field_msg(t, &view.errors, "new_name"));
    Ok(KeysPage {
        keys,
        message: view.message,
        codes: view.codes,
        codes_left: state.store.recovery_codes_left(a.user.id).await?,
        challenge_id,
        options,
        name: view.name,
        name_error,
        key_error,
        list_error,
        required: state.store.passkey_required(a.user.role).await?,
        c,
    })
}

#[derive(Deserialize)]
pub(super) struct DoneQuery {
    #[serde(default)]
    done: String,
}

pub(super) async fn keys_page(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    axum::extract::Query(q): axum::extract::Query<DoneQuery>,
) -> Response {
    let t = Tr::new(Lang::parse(&a.user.locale).unwrap_or(Lang::Az));
    let message = match q.done.as_str() {
        "added" => Some(t.get("passkey-added")),
        "renamed" => Some(t.get("passkey-renamed")),
        "removed" => Some(t.get("passkey-removed")),
        _ => None,
    };
    let view = KeysView {
        message,
        ..KeysView::default()
    };
    render_keys(&state, &a, view, StatusCode::OK).await
}

#[derive(Deserialize)]
pub(super) struct AddForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    challenge_id: String,
    #[serde(default)]
    credential: String,
}

pub(super) async fn add_key(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Form(f): Form<AddForm>,
) -> Response {
    let lang = Lang::parse(&a.user.locale).unwrap_or(Lang::Az);
    let rp = match rp(&state) {
        Ok(rp) => rp,
        Err(e) => return error_page(&state, None, lang, e),
    };
    let session = a
        .session
        .as_ref()
        .map(|s| s.public_id.clone())
        .unwrap_or_default();
    match ceremony::finish_registration(
        &state.store,
        rp,
        &a.user,
        &session,
        &f.challenge_id,
        &f.credential,
        &f.name,
        &a.source,
        a.now,
    )
    .await
    {
        Ok(_) => see_other("/account/security-keys?done=added"),
        Err(e) => match field_errors(e) {
            Ok(errors) => {
                let view = KeysView {
                    name: f.name,
                    errors,
                    ..KeysView::default()
                };
                render_keys(&state, &a, view, StatusCode::UNPROCESSABLE_ENTITY).await
            }
            Err(e) => error_page(&state, None, lang, e),
        },
    }
}

#[derive(Deserialize)]
pub(super) struct RenameForm {
    #[serde(default)]
    new_name: String,
}

pub(super) async fn rename_key(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
    Form(f): Form<RenameForm>,
) -> Response {
    let lang = Lang::parse(&a.user.locale).unwrap_or(Lang::Az);
    let Ok(id) = crate::paths::parse_id(&id) else {
        return error_page(&state, None, lang, AppError::NotFound);
    };
    match state
        .store
        .rename_passkey(&a.user, id, &f.new_name, &a.source, a.now)
        .await
    {
        Ok(true) => see_other("/account/security-keys?done=renamed"),
        Ok(false) => error_page(&state, None, lang, AppError::NotFound),
        Err(dayaq_storage::StoreError::Invalid(v)) => {
            let errors = v
                .errors
                .into_iter()
                .map(|mut e| {
                    e.field = "new_name".into();
                    e
                })
                .collect();
            let view = KeysView {
                errors,
                ..KeysView::default()
            };
            render_keys(&state, &a, view, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => error_page(&state, None, lang, e.into()),
    }
}

pub(super) async fn remove_key(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
) -> Response {
    let lang = Lang::parse(&a.user.locale).unwrap_or(Lang::Az);
    let Ok(id) = crate::paths::parse_id(&id) else {
        return error_page(&state, None, lang, AppError::NotFound);
    };
    match state
        .store
        .remove_passkey(&a.user, id, &a.source, a.now)
        .await
    {
        Ok(true) => see_other("/account/security-keys?done=removed"),
        Ok(false) => error_page(&state, None, lang, AppError::NotFound),
        Err(dayaq_storage::StoreError::Invalid(v)) => {
            let view = KeysView {
                errors: v.errors,
                ..KeysView::default()
            };
            render_keys(&state, &a, view, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => error_page(&state, None, lang, e.into()),
    }
}

pub(super) async fn new_recovery_codes(
    State(state): State<AppState>,
    PageUser(a): PageUser,
) -> Response {
    let lang = Lang::parse(&a.user.locale).unwrap_or(Lang::Az);
    match state
        .store
        .regenerate_recovery_codes(&a.user, &a.source, a.now)
        .await
    {
        Ok(codes) => {
            let t = Tr::new(lang);
            let view = KeysView {
                message: Some(t.get("recovery-made")),
                codes,
                ..KeysView::default()
            };
            render_keys(&state, &a, view, StatusCode::OK).await
        }
        Err(e) => error_page(&state, None, lang, e.into()),
    }
}

// ---------- sign-in: the passkey step ----------

#[derive(Template, WebTemplate)]
#[template(path = "login_passkey.html")]
pub(super) struct PasskeyStepPage {
    c: Chrome,
    error: Option<String>,
    challenge_id: String,
    options: String,
    /// The TOTP step is an alternative (the user has TOTP and the role does not need a passkey).
    totp: bool,
}

async fn render_passkey_step(
    state: &AppState,
    info: &ReqInfo,
    p: &Pending,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let user = &p.session.user;
    let begun = match rp(state) {
        Ok(rp) => {
            ceremony::begin_authentication(
                &state.store,
                rp,
                user,
                &p.session.public_id,
                state.now(),
            )
            .await
        }
        Err(e) => Err(e),
    };
    let begun = match begun {
        Ok(Some(b)) => b,
        Ok(None) => return see_other("/login/totp"),
        Err(e) => return error_page(state, None, info.lang, e),
    };
    let totp = match state.store.passkey_required(user.role).await {
        Ok(required) => user.totp_enabled && !required,
        Err(e) => return error_page(state, None, info.lang, e.into()),
    };
    let c = Chrome::new(state, info.lang, None, p.session.csrf.clone(), "login");
    (
        status,
        PasskeyStepPage {
            c,
            error,
            challenge_id: begun.challenge_id.to_string(),
            options: begun.options_json,
            totp,
        },
    )
        .into_response()
}

pub(super) async fn passkey_page(
    State(state): State<AppState>,
    info: ReqInfo,
    p: Pending,
) -> Response {
    render_passkey_step(&state, &info, &p, None, StatusCode::OK).await
}

#[derive(Deserialize)]
pub(super) struct AnswerForm {
    #[serde(default)]
    challenge_id: String,
    #[serde(default)]
    credential: String,
}

pub(super) async fn passkey_submit(
    State(state): State<AppState>,
    info: ReqInfo,
    p: Pending,
    Form(f): Form<AnswerForm>,
) -> Response {
    let now = state.now();
    let user = p.session.user.clone();
    let rp = match rp(&state) {
        Ok(rp) => rp,
        Err(e) => return error_page(&state, None, info.lang, e),
    };
    // The state is taken before anything else: a replayed answer finds nothing.
    let taken = match ceremony::take_authentication(
        &state.store,
        &user,
        &p.session.public_id,
        &f.challenge_id,
        now,
    )
    .await
    {
        Ok(s) => s,
        Err(e) => return error_page(&state, None, info.lang, e),
    };
    let stored = match state.store.passkey_credentials(user.id).await {
        Ok(s) => s,
        Err(e) => return error_page(&state, None, info.lang, e.into()),
    };
    let outcome = state
        .store
        .passkey_second_factor(&p.session.public_id, &user, &p.source, now, || async {
            ceremony::verify_authentication(rp, taken.as_ref(), &stored, &f.credential)
        })
        .await;
    answer_step(state, info, p, outcome, Step::Passkey).await
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Passkey,
    Recovery,
}

/// The answer to a second-factor step: a new full session (and the page the user came for),
/// the password step again when the pending sign-in ended, or the step again with the error.
async fn answer_step(
    state: AppState,
    info: ReqInfo,
    p: Pending,
    outcome: Result<SecondFactor, dayaq_storage::StoreError>,
    step: Step,
) -> Response {
    let t = Tr::new(info.lang);
    let (status, error) = match outcome {
        Ok(SecondFactor::Ok) => return complete_sign_in(&state, &info, &p).await,
        Ok(SecondFactor::Dropped) => {
            let secure = state.cfg.secure_cookies;
            return with_cookie(
                signin::render_login(
                    &state,
                    info.lang,
                    Some(t.get("totp-attempts-spent")),
                    StatusCode::UNAUTHORIZED,
                ),
                set_cookie(session_cookie_name(secure), "", secure, Some(0)),
            );
        }
        Ok(SecondFactor::Throttled { retry_after_secs }) => (
            StatusCode::TOO_MANY_REQUESTS,
            t.arg("login-throttled", "seconds", retry_after_secs),
        ),
        Ok(SecondFactor::Wrong { remaining }) => {
            let key = match step {
                Step::Passkey => "passkey-wrong",
                Step::Recovery => "recovery-wrong",
            };
            (
                StatusCode::UNAUTHORIZED,
                format!(
                    "{} {}",
                    t.get(key),
                    t.arg("totp-attempts-left", "count", remaining)
                ),
            )
        }
        Err(e) => return error_page(&state, None, info.lang, e.into()),
    };
    match step {
        Step::Passkey => render_passkey_step(&state, &info, &p, Some(error), status).await,
        Step::Recovery => {
            let c = Chrome::new(&state, info.lang, None, p.session.csrf.clone(), "login");
            (
                status,
                RecoveryPage {
                    c,
                    error: Some(error),
                },
            )
                .into_response()
        }
    }
}

/// The second factor is done: the pending session ends and a new one (new id: no fixation)
/// starts, back to the page the user was sent to sign in from.
async fn complete_sign_in(state: &AppState, info: &ReqInfo, p: &Pending) -> Response {
    if let Err(e) = state
        .store
        .revoke_session_token(&p.token, state.now())
        .await
    {
        return error_page(state, None, info.lang, e.into());
    }
    let Ok(user) = state.store.user_by_id(p.session.user.id).await else {
        return error_page(state, None, info.lang, AppError::Unauthorized);
    };
    let next = info.return_to.clone().unwrap_or_else(|| "/".into());
    let resp = signin::start_session(state, &user, true, info, &next).await;
    let secure = state.cfg.secure_cookies;
    with_cookie(resp, set_cookie(auth::NEXT_COOKIE, "", secure, Some(0)))
}

// ---------- sign-in: a recovery code ----------

#[derive(Template, WebTemplate)]
#[template(path = "login_recovery.html")]
pub(super) struct RecoveryPage {
    c: Chrome,
    error: Option<String>,
}

pub(super) async fn recovery_page(
    State(state): State<AppState>,
    info: ReqInfo,
    p: Pending,
) -> Response {
    let c = Chrome::new(&state, info.lang, None, p.session.csrf.clone(), "login");
    RecoveryPage { c, error: None }.into_response()
}

#[derive(Deserialize)]
pub(super) struct RecoveryForm {
    #[serde(default)]
    code: String,
}

pub(super) async fn recovery_submit(
    State(state): State<AppState>,
    info: ReqInfo,
    p: Pending,
    Form(f): Form<RecoveryForm>,
) -> Response {
    let outcome = state
        .store
        .recovery_second_factor(
            &p.session.public_id,
            &p.session.user,
            &f.code,
            &p.source,
            state.now(),
        )
        .await;
    answer_step(state, info, p, outcome, Step::Recovery).await
}

// ---------- sign-in: the first passkey of a role that must use one ----------

#[derive(Template, WebTemplate)]
#[template(path = "login_passkey_enrol.html")]
pub(super) struct PasskeyEnrolPage {
    c: Chrome,
    challenge_id: String,
    options: String,
    /// The user has TOTP: its code proves the second factor before the key is added.
    totp: bool,
    name: String,
    name_error: Option<String>,
    key_error: Option<String>,
    code_error: Option<String>,
}

#[derive(Default)]
struct EnrolView {
    name: String,
    errors: Vec<FieldError>,
    code_error: Option<String>,
}

async fn render_passkey_enrol(
    state: &AppState,
    info: &ReqInfo,
    p: &Pending,
    view: EnrolView,
    status: StatusCode,
) -> Response {
    let user = &p.session.user;
    if user.passkeys {
        return see_other("/login/passkey");
    }
    let begun = match rp(state) {
        Ok(rp) => {
            ceremony::begin_registration(&state.store, rp, user, &p.session.public_id, state.now())
                .await
        }
        Err(e) => Err(e),
    };
    let begun = match begun {
        Ok(b) => b,
        Err(e) => return error_page(state, None, info.lang, e),
    };
    let c = Chrome::new(state, info.lang, None, p.session.csrf.clone(), "login");
    let name_error = field_msg(&c.t, &view.errors, "name");
    let key_error = field_msg(&c.t, &view.errors, "credential");
    (
        status,
        PasskeyEnrolPage {
            c,
            challenge_id: begun.challenge_id.to_string(),
            options: begun.options_json,
            totp: user.totp_enabled,
            name: view.name,
            name_error,
            key_error,
            code_error: view.code_error,
        },
    )
        .into_response()
}

pub(super) async fn passkey_enrol_page(
    State(state): State<AppState>,
    info: ReqInfo,
    p: Pending,
) -> Response {
    render_passkey_enrol(&state, &info, &p, EnrolView::default(), StatusCode::OK).await
}

#[derive(Deserialize)]
pub(super) struct EnrolForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    challenge_id: String,
    #[serde(default)]
    credential: String,
    #[serde(default)]
    code: String,
}

pub(super) async fn passkey_enrol_submit(
    State(state): State<AppState>,
    info: ReqInfo,
    p: Pending,
    Form(f): Form<EnrolForm>,
) -> Response {
    let now = state.now();
    let user = p.session.user.clone();
    if user.passkeys {
        return see_other("/login/passkey");
    }
    let rp = match rp(&state) {
        Ok(rp) => rp,
        Err(e) => return error_page(&state, None, info.lang, e),
    };
    // A user who already has TOTP proves it first (the same budget as the TOTP step); only a
    // user without any second factor adds the first one after the password alone, as with
    // TOTP enrolment.
    if user.totp_enabled {
        let t = Tr::new(info.lang);
        match state
            .store
            .second_factor(&p.session.public_id, &user, &f.code, false, &p.source, now)
            .await
        {
            Ok(SecondFactor::Ok) => {}
            Ok(refused @ (SecondFactor::Wrong { .. } | SecondFactor::Throttled { .. })) => {
                let (status, msg) = match refused {
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
                let view = EnrolView {
                    name: f.name,
                    code_error: Some(msg),
                    ..EnrolView::default()
                };
                return render_passkey_enrol(&state, &info, &p, view, status).await;
            }
            outcome => return answer_step(state, info, p, outcome, Step::Passkey).await,
        }
    }
    match ceremony::finish_registration(
        &state.store,
        rp,
        &user,
        &p.session.public_id,
        &f.challenge_id,
        &f.credential,
        &f.name,
        &p.source,
        now,
    )
    .await
    {
        Ok(_) => complete_sign_in(&state, &info, &p).await,
        Err(e) => match field_errors(e) {
            Ok(errors) => {
                let view = EnrolView {
                    name: f.name,
                    errors,
                    ..EnrolView::default()
                };
                render_passkey_enrol(&state, &info, &p, view, StatusCode::UNPROCESSABLE_ENTITY)
                    .await
            }
            Err(e) => error_page(&state, None, info.lang, e),
        },
    }
}
