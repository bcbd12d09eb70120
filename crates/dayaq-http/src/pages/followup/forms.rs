//! The follow-up forms of the case page.

use super::*;
use crate::pages::form::{FormSpec, Posted};

// The follow-up forms of the case page (issue #23 §1): field names → input ids.
const PROTOCOL: FormSpec = FormSpec {
    name: PROTOCOL_FORM,
    done: "followup",
    ids: &[
        ("channels", "fu-channels"),
        ("windows", "fu-windows"),
        ("utc_offset_min", "fu-windows"),
        ("caller", "fu-caller"),
        ("language", "fu-language"),
        ("safe_numbers", "fu-safe"),
        ("never_contact", "fu-never"),
        ("never_places", "fu-places"),
        ("cover_reason", "fu-cover"),
        ("code_word", "fu-code"),
    ],
};
const ASSESSMENT: FormSpec = FormSpec {
    name: ASSESSMENT_FORM,
    done: "fu-assessment",
    ids: &[
        ("round", "fu-a-round"),
        ("assessed_on", "fu-a-on"),
        ("assistance_needed_words", "fu-a-words"),
    ],
};
const FLAG_GOAL: FormSpec = FormSpec {
    name: "fuflag",
    done: "fu-goal",
    ids: &[],
};
const PLAN: FormSpec = FormSpec {
    name: "fuplan",
    done: "followup",
    ids: &[
        ("assistance_end", "fu-end"),
        ("months", "fu-months"),
        ("max_failed", "fu-max"),
    ],
};
const SCHEDULE: FormSpec = FormSpec {
    name: "fuschedule",
    done: "followup",
    ids: &[
        ("task", "fu-s-task"),
        ("channel", "fu-s-ch"),
        ("planned_at", "fu-s-at"),
    ],
};
const CONTACT: FormSpec = FormSpec {
    name: "fucontact",
    done: "followup",
    ids: &[
        ("task_id", "fu-l-task"),
        ("channel", "fu-l-ch"),
        ("at", "fu-l-at"),
        ("justification", "fu-l-why"),
    ],
};
const REQUEST: FormSpec = FormSpec {
    name: "furequest",
    done: "followup",
    ids: &[("request", "fu-r")],
};

pub(super) async fn protocol_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    let input = ProtocolInput {
        channels: values(&f, "channels"),
        windows: windows_posted(&f),
        utc_offset_min: None,
        do_not_contact: value(&f, "do_not_contact") == "yes",
        caller: Some(value(&f, "caller")),
        language: value(&f, "language"),
        safe_numbers: lines(&value(&f, "safe_numbers")),
        never_contact: lines(&value(&f, "never_contact")),
        never_places: lines(&value(&f, "never_places")),
        cover_reason: value(&f, "cover_reason"),
        code_word: value(&f, "code_word"),
    };
    let ctx = a.cx();
    let r = state.store.set_protocol(&ctx, uid, &input).await;
    BACK.answer(&state, &a, &id, &PROTOCOL, Posted(f), r).await
}

pub(super) async fn plan_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    // Empty: the organisation's default schedule.
    let months = match dayaq_domain::followup::parse_months(&value(&f, "months")) {
        Ok(m) if m.is_empty() => None,
        Ok(m) => Some(m),
        Err(e) => return BACK.refused(&state, &a, &id, &PLAN, Posted(f), e).await,
    };
    let Ok(max_failed) = value(&f, "max_failed").trim().parse::<u32>() else {
        let e = invalid("max_failed", "invalid");
        return BACK.refused(&state, &a, &id, &PLAN, Posted(f), e).await;
    };
    let input = PlanInput {
        assistance_end: value(&f, "assistance_end"),
        months,
        max_failed: Some(max_failed),
    };
    let ctx = a.cx();
    let r = state.store.set_plan(&ctx, uid, &input).await;
    BACK.answer(&state, &a, &id, &PLAN, Posted(f), r).await
}

pub(super) async fn schedule_submit(
    State(state): State<AppState>,
    PageUser(a): PageUser,
    Path(id): Path<String>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let (Ok(uid), Ok(task)) = (
        crate::paths::parse_id(&id),
        Uuid::parse_str(value(&f, "task").trim()),
    ) else {
        return error_page(&state, None, lang_of(&a), AppError::NotFound);
    };
    let Some(when) = local_time(&value(&f, "planned_at"), &a) else {
        let e = invalid("planned_at", "invalid_time");
        return BACK.refused(&state, &a, &id, &SCHEDULE, Posted(f), e).await;
    };
    let ctx = a.cx();
    let r = state
        .store
        .schedule_contact(&ctx, uid, task, value(&f, "channel").trim(), when)
        .await;
    BACK.answer(&state, &a, &id, &SCHEDULE, Posted(f), r).await
}

pub(super) async fn contact_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    let Some(when) = local_time(&value(&f, "at"), &a) else {
        let e = invalid("at", "invalid_time");
        return BACK.refused(&state, &a, &id, &CONTACT, Posted(f), e).await;
    };
    let input = LogInput {
        task_id: Uuid::parse_str(value(&f, "task").trim()).ok(),
        channel: value(&f, "channel"),
        at: when.format(&Rfc3339).unwrap_or_default(),
        reached: value(&f, "reached") == "yes",
        justification: Some(value(&f, "justification")),
    };
    let ctx = a.cx();
    let r = state.store.log_contact(&ctx, uid, &input).await;
    BACK.answer(&state, &a, &id, &CONTACT, Posted(f), r).await
}

pub(super) async fn request_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    let ctx = a.cx();
    let r = state
        .store
        .request_followup(&ctx, uid, value(&f, "request").trim())
        .await;
    BACK.answer(&state, &a, &id, &REQUEST, Posted(f), r).await
}

pub(super) async fn assessment_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    let mut answers = dayaq_domain::followup::Answers::new();
    for q in QUESTIONS {
        let v: Vec<String> = values(&f, q.key)
            .into_iter()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        if !v.is_empty() {
            answers.insert(q.key.to_string(), v);
        }
    }
    let words = value(&f, "assistance_needed_words");
    let input = AssessmentInput {
        round: value(&f, "round"),
        assessed_on: value(&f, "assessed_on"),
        answers,
        assistance_needed_words: (!words.trim().is_empty()).then_some(words),
    };
    let ctx = a.cx();
    let r = state
        .store
        .add_reintegration_assessment(&ctx, uid, &input)
        .await;
    // Back to the flags and the trajectory of the case.
    Back {
        anchor: "fu-reintegration",
        ..BACK
    }
    .answer(&state, &a, &id, &ASSESSMENT, Posted(f), r)
    .await
}

pub(super) async fn flag_goal_submit(State(state): State<AppState>, c: CaseForm) -> Response {
    let CaseForm { a, id, uid, f } = c;
    let t = Tr::new(lang_of(&a));
    let code = value(&f, "flag");
    let code = code.trim();
    // The goal's text in the caseworker's language: the flag and the suggestion.
    let description = format!(
        "{} — {}: {}",
        label(&t, FLAGS, code),
        t.get("fu-suggested"),
        dayaq_domain::followup::flag_action(code)
            .map(|act| label(&t, ACTIONS, act))
            .unwrap_or_default()
    );
    let ctx = a.cx();
    let r = state
        .store
        .goal_from_flag(&ctx, uid, code, Some(&description))
        .await;
    Back {
        anchor: "assistance",
        ..BACK
    }
    .answer(&state, &a, &id, &FLAG_GOAL, Posted(f), r)
    .await
}
