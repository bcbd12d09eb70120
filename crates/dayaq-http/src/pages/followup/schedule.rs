use super::*;

// ---------------------------------------------------------------------------------------------
// The organisation's default follow-up schedule

#[derive(Template)]
#[template(path = "followup_schedule.html")]
pub(super) struct SchedulePage {
    c: Chrome,
    months: String,
    from_org: bool,
    updated_at: String,
    can_manage: bool,
    form_months: String,
    errors: Vec<String>,
    saved: bool,
}

pub(super) fn may_manage_schedule(a: &Authed) -> bool {
    let actor = &a.actor;
    decide(
        actor,
        Action::ManageDirectory,
        Resource::Organisation(actor.org_id),
    )
    .allowed
}

pub(super) async fn schedule_with(
    state: &AppState,
    a: &Authed,
    form_months: Option<String>,
    errors: Vec<String>,
    saved: bool,
    status: StatusCode,
) -> Response {
    let c = Chrome::for_user(state, a, "");
    let ctx = a.cx();
    let sched = match state.store.followup_org_schedule(&ctx).await {
        Ok(s) => s,
        Err(e) => {
            let lang = c.t.lang;
            return error_page(state, Some(c), lang, e.into());
        }
    };
    let months = sched
        .months
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let t = c.t;
    let page = SchedulePage {
        form_months: form_months.unwrap_or_else(|| months.clone()),
        months,
        from_org: sched.source == dayaq_domain::followup::ScheduleSource::Organisation,
        updated_at: sched
            .updated_at
            .as_deref()
            .map(|u| t.datetime(u))
            .unwrap_or_default(),
        can_manage: may_manage_schedule(a),
        errors,
        saved,
        c,
    };
    match page.render() {
        Ok(html) => (status, axum::response::Html(html)).into_response(),
        Err(e) => error_page(state, None, t.lang, AppError::Internal(e.to_string())),
    }
}

#[derive(serde::Deserialize)]
pub(super) struct SavedQuery {
    #[serde(default)]
    saved: Option<String>,
}

pub(super) async fn schedule_page(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    axum::extract::Query(q): axum::extract::Query<SavedQuery>,
) -> Response {
    schedule_with(
        &state,
        &a,
        None,
        Vec::new(),
        q.saved.is_some(),
        StatusCode::OK,
    )
    .await
}

pub(super) async fn schedule_submit_org(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let raw = value(&f, "months");
    let t = Tr::new(lang_of(&a));
    let fail = |errs: ValidationErrors| -> Vec<String> {
        errs.errors.iter().map(|e| error_text(&t, e)).collect()
    };
    let months = match dayaq_domain::followup::parse_months(&raw) {
        Ok(m) => m,
        Err(e) => {
            let msgs = fail(e);
            return schedule_with(
                &state,
                &a,
                Some(raw),
                msgs,
                false,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let ctx = a.cx();
    match state.store.set_followup_org_schedule(&ctx, &months).await {
        Ok(_) => see_other("/followup/schedule?saved=1"),
        Err(StoreError::Invalid(v)) => {
            let msgs = fail(v);
            schedule_with(
                &state,
                &a,
                Some(raw),
                msgs,
                false,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => {
            let c = Chrome::for_user(&state, &a, "");
            let lang = c.t.lang;
            error_page(&state, Some(c), lang, e.into())
        }
    }
}
