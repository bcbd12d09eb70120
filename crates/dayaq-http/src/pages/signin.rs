//! Sign-in (password, second factor, enrolment), sign-out and the language switch.

use super::passkeys;
use super::*;
use axum::extract::RawQuery;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/login/totp", get(totp_page).post(totp_submit))
        .route("/login/enrol", get(enrol_page).post(enrol_submit))
}

// ---------- sign-in ----------

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub(super) struct LoginPage {
    c: Chrome,
    error: Option<String>,
    /// The page to come back to after signing in (`?next=`, a path only; issue #23 §2).
    next: String,
    /// "Sign in with <provider>" buttons (issue 22 §1): (organisation slug, provider name).
    sso: Vec<(String, String)>,
}

/// `?next=` of the sign-in page, if it is a path to come back to (`auth::next_path`).
fn next_of(query: Option<&str>) -> String {
    query
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .and_then(|v| v.into_iter().find(|(k, _)| k == "next"))
        .and_then(|(_, v)| auth::next_path(&v))
        .unwrap_or_default()
}

pub(super) async fn login_page(
    State(state): State<AppState>,
    info: ReqInfo,
    RawQuery(query): RawQuery,
) -> Response {
    let next = next_of(query.as_deref());
    if info.slot.session.as_ref().is_some_and(|s| s.mfa_ok) {
        // Signed in already (a session replaced in another tab): straight back to the page.
        return see_other(if next.is_empty() { "/" } else { &next });
    }
    let sso = match state.store.sso_buttons().await {
        Ok(b) => b
            .into_iter()
            .map(|b| (b.org_slug, b.display_name))
            .collect(),
        Err(e) => return error_page(&state, None, info.lang, e.into()),
    };
    login_response(&state, info.lang, None, StatusCode::OK, &next, sso)
}

pub(super) fn render_login(
    state: &AppState,
    lang: Lang,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    render_login_next(state, lang, error, status, "")
}

/// The sign-in page, coming back to `next` (a checked path, or empty) after signing in.
pub(super) fn render_login_next(
    state: &AppState,
    lang: Lang,
    error: Option<String>,
    status: StatusCode,
    next: &str,
) -> Response {
    login_response(state, lang, error, status, next, Vec::new())
}

/// The sign-in page with its single sign-on buttons (empty on a refused password).
pub(super) fn login_response(
    state: &AppState,
    lang: Lang,
    error: Option<String>,
    status: StatusCode,
    next: &str,
    sso: Vec<(String, String)>,
) -> Response {
    let Ok(pre) = random_token() else {
        return error_page(state, None, lang, AppError::Internal("rng".into()));
    };
    let c = Chrome::new(state, lang, None, pre.clone(), "login");
    let next = auth::next_path(next).unwrap_or_default();
    let resp = (
        status,
        LoginPage {
            c,
            error,
            next,
            sso,
        },
    )
        .into_response();
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
pub(super) struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub(super) async fn login_submit(
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
            return render_login_next(
                &state,
                info.lang,
                Some(t.get("login-failed")),
                StatusCode::UNAUTHORIZED,
                &f.next,
            );
        }
        LoginCheck::SsoOnly => {
            return render_login_next(
                &state,
                info.lang,
                Some(t.get("login-sso-only")),
                StatusCode::FORBIDDEN,
                &f.next,
            );
        }
        LoginCheck::Throttled { retry_after_secs } => {
            return render_login_next(
                &state,
                info.lang,
                Some(t.arg("login-throttled", "seconds", retry_after_secs)),
                StatusCode::TOO_MANY_REQUESTS,
                &f.next,
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
    let resp = signed_in(&state, &user, &info).await;
    match auth::next_path(&f.next) {
        // Before the second factor the page waits in a short-lived cookie (a path only).
        Some(next) if resp.status() == StatusCode::SEE_OTHER => {
            let to = resp
                .headers()
                .get(axum::http::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("/");
            if to == "/" {
                let mut resp = resp;
                if let Ok(v) = next.parse() {
                    resp.headers_mut().insert(axum::http::header::LOCATION, v);
                }
                resp
            } else {
                let secure = state.cfg.secure_cookies;
                with_cookie(
                    resp,
                    set_cookie(auth::NEXT_COOKIE, &next, secure, Some(900)),
                )
            }
        }
        _ => resp,
    }
}

/// After a good password: a role that needs a second factor continues with its enrolment (or
/// its code, when the factor is set up); anyone else goes to the start page.
pub(crate) async fn signed_in(state: &AppState, user: &User, info: &ReqInfo) -> Response {
    // Passkeys are preferred over TOTP; a role that must use one adds its first (issue 22 §2).
    if user.passkeys {
        return start_session(state, user, false, info, "/login/passkey").await;
    }
    match passkeys::passkey_step(state, user).await {
        Ok(Some(step)) => return start_session(state, user, false, info, step).await,
        Ok(None) => {}
        Err(e) => return error_page(state, None, info.lang, e),
    }
    let mfa_ok = !user.totp_enabled && !user.role.requires_totp();
    let next = if user.totp_enabled {
        "/login/totp"
    } else if user.role.requires_totp() {
        "/login/enrol"
    } else {
        "/"
    };
    start_session(state, user, mfa_ok, info, next).await
}

pub(super) async fn start_session(
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
            let resp = with_cookie(
                resp,
                set_cookie(prelogin_cookie_name(secure), "", secure, Some(0)),
            );
            // The user's language stays known after the session ends, so that the page
            // saying so is in it (issue #23 §2).
            match Lang::parse(&user.locale) {
                Some(l) => with_cookie(
                    resp,
                    set_cookie(LANG_COOKIE, l.code(), secure, Some(365 * 24 * 3600)),
                ),
                None => resp,
            }
        }
        Err(e) => error_page(state, None, info.lang, e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "totp.html")]
pub(super) struct TotpPage {
    c: Chrome,
    error: Option<String>,
}

pub(super) async fn totp_page(
    State(state): State<AppState>,
    info: ReqInfo,
    p: Pending,
) -> Response {
    match passkeys::passkey_step(&state, &p.session.user).await {
        Ok(Some(step)) => return see_other(step),
        Ok(None) => {}
        Err(e) => return error_page(&state, None, info.lang, e),
    }
    if !p.session.user.totp_enabled {
        return see_other("/login/enrol");
    }
    let c = Chrome::new(&state, info.lang, None, p.session.csrf.clone(), "login");
    TotpPage { c, error: None }.into_response()
}

#[derive(Deserialize)]
pub(super) struct CodeForm {
    #[serde(default)]
    code: String,
}

pub(super) async fn totp_submit(
    State(state): State<AppState>,
    info: ReqInfo,
    p: Pending,
    Form(f): Form<CodeForm>,
) -> Response {
    finish_second_factor(state, info, p, f, false).await
}

pub(super) async fn finish_second_factor(
    state: AppState,
    info: ReqInfo,
    p: Pending,
    f: CodeForm,
    enrol: bool,
) -> Response {
    // A role that must use a passkey has no TOTP step (issue 22 §2).
    match passkeys::passkey_step(&state, &p.session.user).await {
        Ok(Some(step)) => return see_other(step),
        Ok(None) => {}
        Err(e) => return error_page(&state, None, info.lang, e),
    }
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
            // Back to the page the user was sent to sign in from, if any (issue #23 §2).
            let next = info.return_to.clone().unwrap_or_else(|| "/".into());
            let resp = start_session(&state, &user, true, &info, &next).await;
            let secure = state.cfg.secure_cookies;
            with_cookie(resp, set_cookie(auth::NEXT_COOKIE, "", secure, Some(0)))
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
pub(super) struct EnrolPage {
    c: Chrome,
    qr_svg_data_uri: String,
    secret: String,
    error: Option<String>,
}

pub(super) async fn render_enrol(
    state: &AppState,
    c: Chrome,
    user: &User,
    error: Option<String>,
) -> Response {
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

pub(super) fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

pub(super) async fn enrol_page(
    State(state): State<AppState>,
    info: ReqInfo,
    p: Pending,
) -> Response {
    match passkeys::passkey_step(&state, &p.session.user).await {
        Ok(Some(step)) => return see_other(step),
        Ok(None) => {}
        Err(e) => return error_page(&state, None, info.lang, e),
    }
    if p.session.user.totp_enabled {
        return see_other("/login/totp");
    }
    let c = Chrome::new(&state, info.lang, None, p.session.csrf.clone(), "login");
    render_enrol(&state, c, &p.session.user, None).await
}

pub(super) async fn enrol_submit(
    State(state): State<AppState>,
    info: ReqInfo,
    p: Pending,
    Form(f): Form<CodeForm>,
) -> Response {
    finish_second_factor(state, info, p, f, true).await
}

pub(super) async fn logout(State(state): State<AppState>, info: ReqInfo) -> Response {
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

#[derive(Deserialize)]
pub(super) struct LangForm {
    lang: String,
    #[serde(default)]
    back: String,
}

pub(super) async fn set_lang(
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
