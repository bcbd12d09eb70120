//! Needs assessment, rehabilitation plan, services and allowance forms of the case page.

use super::*;

// The forms of the assistance section (issue #23 §1): storage's field names → input ids.
const ASSESSMENT: FormSpec = FormSpec {
    name: "assessment",
    done: "assessment",
    ids: &[("priorities", "asst-prio")],
};
const PLAN: FormSpec = FormSpec {
    name: "plan",
    done: "plan",
    ids: &[
        ("spl_Type", "p-type"),
        ("spl_type", "p-type"),
        ("spl_PlannedEndDate", "p-end"),
        ("review_on", "p-review"),
        ("spl_Objectives", "p-obj"),
    ],
};
const GOAL: FormSpec = FormSpec {
    name: "goal",
    done: "goal",
    ids: &[
        ("term", "g-term"),
        ("domain", "g-domain"),
        ("description", "g-desc"),
    ],
};
const ACTION: FormSpec = FormSpec {
    name: "action",
    done: "action",
    ids: &[
        ("goal_id", "a-goal"),
        ("domain", "a-domain"),
        ("service", "a-service"),
        ("due_on", "a-due"),
    ],
};
const SERVICE: FormSpec = FormSpec {
    name: "service",
    done: "service",
    ids: &[
        ("service", "s-service"),
        ("plan_action_id", "s-action"),
        ("started_on", "s-start"),
        ("ended_on", "s-start"),
        ("outcome", "s-outcome"),
        ("cost_minor", "s-cost"),
        ("funding_source_id", "s-source"),
        ("details", "s-details"),
    ],
};
const APPROVAL: FormSpec = FormSpec {
    name: "approval",
    done: "approval",
    ids: &[("confirm_warnings", "asst-confirm")],
};
/// Forms that are one button (no fields): their refusals link to the form itself.
const fn button(name: &'static str) -> FormSpec {
    FormSpec {
        name,
        done: name,
        ids: &[],
    }
}

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
    BACK.answer(&state, &a, &id, &ASSESSMENT, Posted(f), r)
        .await
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
    BACK.answer(&state, &a, &id, &PLAN, Posted(f), r).await
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
    BACK.answer(&state, &a, &id, &GOAL, Posted(f), r).await
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
    BACK.answer(&state, &a, &id, &ACTION, Posted(f), r).await
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
    BACK.answer(&state, &a, &id, &button("action-done"), Posted(f), r)
        .await
}

pub(super) async fn agree_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    let Some(plan) = opt_uuid(&f, "plan") else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    let ctx = a.cx();
    let r = state.store.record_plan_agreement(&ctx, uid, plan).await;
    BACK.answer(&state, &a, &id, &button("agreement"), Posted(f), r)
        .await
}

pub(super) async fn approve_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    let Some(plan) = opt_uuid(&f, "plan") else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    let ctx = a.cx();
    // A plan with warnings (no objectives, end in the past) is approved only when the
    // supervisor confirms them (storage applies the domain rule `approval_check`, as for the API).
    let confirmed = !value(&f, "confirm_warnings").is_empty();
    let r = state.store.approve_plan(&ctx, uid, plan, confirmed).await;
    BACK.answer(&state, &a, &id, &APPROVAL, Posted(f), r).await
}

pub(super) async fn service_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    // Cost is entered in AZN with up to two decimals; an unreadable cost is refused beside its
    // field together with storage's checks of the other fields (nothing is written).
    let cost = parse_money("cost_minor", &value(&f, "cost"));
    let mine = gather(&[&cost]);
    let cost_minor = cost.unwrap_or(-1);
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
    let r = merged(mine, state.store.add_service(&ctx, uid, &input).await);
    BACK.answer(&state, &a, &id, &SERVICE, Posted(f), r).await
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
    BACK.answer(&state, &a, &id, &button("allowance"), Posted::default(), r)
        .await
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
    BACK.answer(&state, &a, &id, &button("payment"), Posted(f), r)
        .await
}
