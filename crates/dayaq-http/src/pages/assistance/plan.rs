//! Needs assessment, rehabilitation plan, services and allowance forms of the case page.

use super::*;

pub(super) async fn assessment_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    let needs = DOMAINS
        .iter()
        .filter_map(|(d, _)| {
            let sev = opt_value(&f, &format!("sev-{d}"))?;
            Some(NeedInput {
                domain: (*d).into(),
                severity: sev,
                notes: opt_value(&f, &format!("notes-{d}")),
            })
        })
        .collect();
    let input = AssessmentInput {
        needs,
        priorities: opt_value(&f, "priorities"),
    };
    let ctx = a.cx();
    let r = state.store.add_assessment(&ctx, uid, &input).await;
    BACK.outcome(&state, &a, &id, r).await
}

pub(super) async fn plan_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    let input = PlanInput {
        spl_type: value(&f, "spl_type"),
        objectives: opt_value(&f, "objectives"),
        planned_end: opt_value(&f, "planned_end"),
        review_on: opt_value(&f, "review_on"),
    };
    let ctx = a.cx();
    let r = state.store.create_plan(&ctx, uid, &input).await;
    BACK.outcome(&state, &a, &id, r).await
}

pub(super) async fn goal_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    let Some(plan) = opt_uuid(&f, "plan") else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    let input = GoalInput {
        term: value(&f, "term"),
        domain: opt_value(&f, "domain"),
        description: value(&f, "description"),
    };
    let ctx = a.cx();
    let r = state.store.add_goal(&ctx, uid, plan, &input).await;
    BACK.outcome(&state, &a, &id, r).await
}

pub(super) async fn action_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    let Some(plan) = opt_uuid(&f, "plan") else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    let input = ActionInput {
        goal_id: opt_uuid(&f, "goal"),
        domain: opt_value(&f, "domain"),
        service: value(&f, "service"),
        responsible_org: opt_value(&f, "responsible_org"),
        due_on: opt_value(&f, "due_on"),
        status: None,
    };
    let ctx = a.cx();
    let r = state.store.add_action(&ctx, uid, plan, &input).await;
    BACK.outcome(&state, &a, &id, r).await
}

pub(super) async fn action_done_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    let Some(action) = opt_uuid(&f, "action") else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    let ctx = a.cx();
    let r = state
        .store
        .set_action_status(&ctx, uid, action, "Done")
        .await;
    BACK.outcome(&state, &a, &id, r).await
}

pub(super) async fn agree_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    let Some(plan) = opt_uuid(&f, "plan") else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    let ctx = a.cx();
    let r = state.store.record_plan_agreement(&ctx, uid, plan).await;
    BACK.outcome(&state, &a, &id, r).await
}

pub(super) async fn approve_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    let Some(plan) = opt_uuid(&f, "plan") else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    let ctx = a.cx();
    let r = state.store.approve_plan(&ctx, uid, plan).await;
    BACK.outcome(&state, &a, &id, r).await
}

pub(super) async fn service_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    // Cost is entered in AZN with up to two decimals.
    let cost_minor = match opt_value(&f, "cost") {
        None => 0,
        Some(c) => match c.replace(',', ".").parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => (v * 100.0).round() as i64,
            _ => {
                let v = ValidationErrors::single(dayaq_domain::FieldError::new(
                    "cost_minor",
                    "out_of_range",
                    "invalid cost",
                ));
                return BACK.with_errors(&state, &a, &id, v).await;
            }
        },
    };
    let input = ServiceInput {
        service: value(&f, "service"),
        provider_org: None,
        started_on: value(&f, "started_on"),
        ended_on: None,
        outcome: value(&f, "outcome"),
        details: opt_value(&f, "details"),
        cost_minor,
        funding_source_id: opt_uuid(&f, "funding_source_id"),
        plan_action_id: opt_uuid(&f, "action"),
    };
    let ctx = a.cx();
    let r = state.store.add_service(&ctx, uid, &input).await;
    BACK.outcome(&state, &a, &id, r).await
}

pub(super) async fn allowance_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
) -> Response {
    let uid = case_uuid!(state, a, id);
    let ctx = a.cx();
    let r = state
        .store
        .pay_allowance(&ctx, uid, crate::settings::allowance_amount())
        .await;
    BACK.outcome(&state, &a, &id, r).await
}

// ---------- allowance payment status (supervisor) ----------

pub(super) async fn payment_status_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    let Some(payment) = opt_uuid(&f, "payment") else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    let ctx = a.cx();
    let r = state
        .store
        .set_payment_status(&ctx, uid, payment, &value(&f, "status"))
        .await;
    BACK.outcome(&state, &a, &id, r).await
}
