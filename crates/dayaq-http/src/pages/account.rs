//! The user's own account: sessions, password.

use super::*;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/account", get(account_page))
        .route("/account/sessions/{pid}/revoke", post(revoke_session))
        .route("/account/password", post(change_password))
}

// ---------- account ----------

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
pub(super) struct AccountPage {
    c: Chrome,
    sessions: Vec<(String, String, String, String, bool)>,
    message: Option<String>,
    errors: Vec<String>,
}

pub(super) async fn account_with(
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

pub(super) fn rfc3339(ms: i64) -> String {
    dayaq_storage::from_millis(ms)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub(super) async fn account_page(State(state): State<AppState>, PageUser(a): PageUser) -> Response {
    account_with(&state, &a, None, vec![], StatusCode::OK).await
}

pub(super) async fn revoke_session(
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
pub(super) struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

pub(super) async fn change_password(
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
