//! Long-term follow-up screens: the survivor's contact protocol, the plan and its tasks
//! (schedule a contact, log a contact, an on-demand request), reintegration trajectory and
//! re-trafficking risk flags on the case page; the caseworker's due follow-ups on the home page.

use super::form::{Back, CaseForm, lang_of, value, values};
use crate::AppState;
use crate::auth::{Authed, PageUser};
use crate::error::AppError;
use crate::i18n::Tr;
use crate::pages::{CasePart, Chrome, error_page, error_text, see_other};
use askama::Template;
use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use dayaq_domain::ValidationErrors;
use dayaq_domain::followup::{QUESTIONS, QuestionKind, Window};
use dayaq_domain::policy::{Action, Resource, Section, decide};
use dayaq_storage::StoreError;
use dayaq_storage::cases::Ctx;
use dayaq_storage::followup::{AssessmentInput, LogInput, PlanInput, ProtocolInput};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/cases/{id}/followup/protocol", post(protocol_submit))
        .route("/cases/{id}/followup/plan", post(plan_submit))
        .route("/cases/{id}/followup/schedule", post(schedule_submit))
        .route("/cases/{id}/followup/contact", post(contact_submit))
        .route("/cases/{id}/followup/request", post(request_submit))
        .route("/cases/{id}/followup/assessment", post(assessment_submit))
        .route("/cases/{id}/followup/flag-goal", post(flag_goal_submit))
        .route(
            "/followup/schedule",
            axum::routing::get(schedule_page).post(schedule_submit_org),
        )
}

const CHANNELS: &[(&str, &str)] = &[
    ("phone", "fu-ch-phone"),
    ("sms", "fu-ch-sms"),
    ("messenger", "fu-ch-messenger"),
    ("email", "fu-ch-email"),
    ("visit", "fu-ch-visit"),
];
const WEEKDAYS: &[(u8, &str)] = &[
    (1, "fu-wd-1"),
    (2, "fu-wd-2"),
    (3, "fu-wd-3"),
    (4, "fu-wd-4"),
    (5, "fu-wd-5"),
    (6, "fu-wd-6"),
    (7, "fu-wd-7"),
];
const STATUSES: &[(&str, &str)] = &[
    ("upcoming", "fu-st-upcoming"),
    ("due", "fu-st-due"),
    ("overdue", "fu-st-overdue"),
    ("done", "fu-st-done"),
    ("cancelled", "fu-st-cancelled"),
];
const REQUESTS: &[(&str, &str)] = &[
    ("job_counselling", "fu-req-job-counselling"),
    ("psychological_support", "fu-req-psychological-support"),
    ("legal_help", "fu-req-legal-help"),
    ("housing", "fu-req-housing"),
    ("medical", "fu-req-medical"),
    ("safe_migration_advice", "fu-req-safe-migration-advice"),
    ("other_help", "fu-req-other-help"),
];
const FLAGS: &[(&str, &str)] = &[
    ("plans_abroad_for_work", "fu-flag-plans-abroad-for-work"),
    ("considering_migration", "fu-flag-considering-migration"),
    ("no_income", "fu-flag-no-income"),
    ("income_insufficient", "fu-flag-income-insufficient"),
    ("rejected_by_family", "fu-flag-rejected-by-family"),
    ("no_stable_housing", "fu-flag-no-stable-housing"),
    (
        "trafficker_circle_contact",
        "fu-flag-trafficker-circle-contact",
    ),
    ("unprotected", "fu-flag-unprotected"),
];
const ACTIONS: &[(&str, &str)] = &[
    (
        "safe_migration_counselling",
        "fu-act-safe-migration-counselling",
    ),
    ("job_counselling", "fu-act-job-counselling"),
    (
        "family_mediation_or_housing",
        "fu-act-family-mediation-or-housing",
    ),
    ("housing_referral", "fu-act-housing-referral"),
    ("safety_plan", "fu-act-safety-plan"),
];
const LEVELS: &[(&str, &str)] = &[("high", "fu-level-high"), ("medium", "fu-level-medium")];
const TRENDS: &[(&str, &str)] = &[
    ("better", "fu-trend-better"),
    ("same", "fu-trend-same"),
    ("worse", "fu-trend-worse"),
    ("not_comparable", "fu-trend-not-comparable"),
];
const BREACHES: &[(&str, &str)] = &[
    ("do_not_contact", "fu-br-do-not-contact"),
    ("channel_not_allowed", "fu-br-channel-not-allowed"),
    ("outside_safe_window", "fu-br-outside-safe-window"),
    ("caller_not_named", "fu-br-caller-not-named"),
];
const QUESTION_KEYS: &[(&str, &str)] = &[
    ("current_situation", "fu-q-current-situation"),
    ("compared_before", "fu-q-compared-before"),
    ("feel_integrated", "fu-q-feel-integrated"),
    ("employment", "fu-q-employment"),
    ("income_covers", "fu-q-income-covers"),
    ("living_with", "fu-q-living-with"),
    ("family_reconciliation", "fu-q-family-reconciliation"),
    ("children_schooling", "fu-q-children-schooling"),
    ("health_support", "fu-q-health-support"),
    ("psychological_support", "fu-q-psychological-support"),
    ("legal_issues", "fu-q-legal-issues"),
    ("future_plans", "fu-q-future-plans"),
    ("plans_migrate_abroad", "fu-q-plans-migrate-abroad"),
    ("trafficker_contact", "fu-q-trafficker-contact"),
    ("feel_protected", "fu-q-feel-protected"),
    ("knows_where_help", "fu-q-knows-where-help"),
    ("assistance_needed", "fu-q-assistance-needed"),
];

const DOMAINS: &[(&str, &str)] = &[
    ("situation", "fu-dom-situation"),
    ("integration", "fu-dom-integration"),
    ("employment", "fu-dom-employment"),
    ("housing", "fu-dom-housing"),
    ("family", "fu-dom-family"),
    ("health", "fu-dom-health"),
    ("legal", "fu-dom-legal"),
    ("future", "fu-dom-future"),
    ("safety", "fu-dom-safety"),
    ("needs", "fu-dom-needs"),
];
/// Labels of the questionnaire's answer codes (the codes themselves are the stable values
/// the API, the import and the export use).
const ANSWERS: &[(&str, &str)] = &[
    ("very_good", "fu-ans-very-good"),
    ("good", "fu-ans-good"),
    ("average", "fu-ans-average"),
    ("bad", "fu-ans-bad"),
    ("very_bad", "fu-ans-very-bad"),
    ("better", "fu-ans-better"),
    ("same", "fu-ans-same"),
    ("worse", "fu-ans-worse"),
    ("very_well", "fu-ans-very-well"),
    ("not_so_well", "fu-ans-not-so-well"),
    ("not_at_all", "fu-ans-not-at-all"),
    ("full_time", "fu-ans-full-time"),
    ("part_time", "fu-ans-part-time"),
    ("occasional", "fu-ans-occasional"),
    ("none", "fu-ans-none"),
    ("yes", "fu-ans-yes"),
    ("sometimes", "fu-ans-sometimes"),
    ("no", "fu-ans-no"),
    ("family", "fu-ans-family"),
    ("relatives", "fu-ans-relatives"),
    ("alone", "fu-ans-alone"),
    ("shelter", "fu-ans-shelter"),
    ("friends", "fu-ans-friends"),
    ("rented_room", "fu-ans-rented-room"),
    ("partner", "fu-ans-partner"),
    ("no_stable_place", "fu-ans-no-stable-place"),
    ("reconciled", "fu-ans-reconciled"),
    ("partly", "fu-ans-partly"),
    ("rejected", "fu-ans-rejected"),
    ("not_applicable", "fu-ans-not-applicable"),
    ("all_in_school", "fu-ans-all-in-school"),
    ("some_in_school", "fu-ans-some-in-school"),
    ("none_in_school", "fu-ans-none-in-school"),
    ("no_children", "fu-ans-no-children"),
    ("not_needed", "fu-ans-not-needed"),
    ("receiving", "fu-ans-receiving"),
    ("needed_not_receiving", "fu-ans-needed-not-receiving"),
    ("resolved", "fu-ans-resolved"),
    ("ongoing", "fu-ans-ongoing"),
    ("unresolved_needs_help", "fu-ans-unresolved-needs-help"),
    ("work_locally", "fu-ans-work-locally"),
    ("study", "fu-ans-study"),
    ("own_business", "fu-ans-own-business"),
    ("migrate", "fu-ans-migrate"),
    ("undecided", "fu-ans-undecided"),
    ("considering", "fu-ans-considering"),
    ("planning_for_work", "fu-ans-planning-for-work"),
    ("planning_other", "fu-ans-planning-other"),
    ("indirect", "fu-ans-indirect"),
    ("direct", "fu-ans-direct"),
    ("job", "fu-ans-job"),
    ("housing", "fu-ans-housing"),
    ("psychological", "fu-ans-psychological"),
    ("medical", "fu-ans-medical"),
    ("legal", "fu-ans-legal"),
    ("education", "fu-ans-education"),
    ("childcare", "fu-ans-childcare"),
    ("financial", "fu-ans-financial"),
    ("family_mediation", "fu-ans-family-mediation"),
];

fn answer_labels(t: &Tr, codes: &[String]) -> String {
    codes
        .iter()
        .map(|c| label(t, ANSWERS, c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A field error of the follow-up forms: question keys get the question's label.
fn fu_error_text(t: &Tr, e: &dayaq_domain::FieldError) -> String {
    match QUESTION_KEYS.iter().find(|(k, _)| *k == e.field) {
        Some((_, q)) => format!(
            "{}: {}",
            t.get(q),
            t.get(&format!("err-{}", e.code.replace('_', "-")))
        ),
        None => error_text(t, e),
    }
}

fn label(t: &Tr, table: &[(&str, &str)], code: &str) -> String {
    table
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, k)| t.get(k))
        .unwrap_or_else(|| code.to_string())
}

fn window_label(t: &Tr, w: &str) -> String {
    match Window::parse(w) {
        Some(w) => {
            let day = WEEKDAYS
                .iter()
                .find(|(d, _)| *d == w.weekday)
                .map(|(_, k)| t.get(k))
                .unwrap_or_default();
            format!("{day} {}", w.hours())
        }
        None => w.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Form handlers

/// Empty rows the safe-times picker offers after the recorded ones.
const SPARE_WINDOW_ROWS: usize = 2;
/// The names of the protocol and reintegration-assessment forms (their errors, `form-{name}`).
const PROTOCOL_FORM: &str = "fuprotocol";
const ASSESSMENT_FORM: &str = "fuassess";
/// Rows read back from a posted picker (more than any form shows).
const MAX_WINDOW_ROWS: usize = 32;

/// The safe windows of a posted protocol form: each picker row's ticked days with its hours
/// (`weekday@HH:MM-HH:MM`, what storage validates and keeps), plus any typed `windows` lines.
/// A row with hours but no day, or a day without hours, is passed on as it is, so that storage
/// refuses it by the field `windows`.
fn windows_posted(f: &[(String, String)]) -> Vec<String> {
    let mut out = lines(&value(f, "windows"));
    for i in 0..MAX_WINDOW_ROWS {
        let days = values(f, &format!("w{i}_day"));
        let from = value(f, &format!("w{i}_from"));
        let to = value(f, &format!("w{i}_to"));
        let (from, to) = (from.trim(), to.trim());
        if days.is_empty() && from.is_empty() && to.is_empty() {
            continue;
        }
        if days.is_empty() {
            out.push(format!("@{from}-{to}"));
        }
        for d in days {
            out.push(format!("{}@{from}-{to}", d.trim()));
        }
    }
    out
}

fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Case forms of follow-up go back to `#followup`; errors name the question where there is one.
const BACK: Back = Back {
    anchor: "followup",
    text: fu_error_text,
    conflict_by_field: false,
};

fn invalid(field: &str, code: &'static str) -> ValidationErrors {
    ValidationErrors::single(dayaq_domain::FieldError::new(field, code, "invalid"))
}

/// A `datetime-local` value in the organisation's time zone (`time_fmt::parse_local`).
fn local_time(s: &str, a: &crate::auth::Authed) -> Option<OffsetDateTime> {
    crate::time_fmt::parse_local(s, dayaq_domain::zone::zone(&a.user.timezone))
}

mod case;
mod forms;
mod schedule;

pub(crate) use case::{case_section, home_section};
use forms::*;
use schedule::*;

#[cfg(test)]
mod picker_tests {
    use super::case::window_rows;
    use super::windows_posted;
    use crate::i18n::{Lang, Tr};

    fn posted(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    #[test]
    fn the_safe_time_picker_posts_the_stored_windows() {
        let f = posted(&[
            ("w0_day", "2"),
            ("w0_day", "4"),
            ("w0_from", "10:00"),
            ("w0_to", "12:00"),
            ("w1_from", ""),
            ("w1_to", ""),
            ("w2_day", "6"),
            ("w2_from", "09:30"),
            ("w2_to", "11:00"),
        ]);
        assert_eq!(
            windows_posted(&f),
            vec!["2@10:00-12:00", "4@10:00-12:00", "6@09:30-11:00"]
        );
        // Hours without a day reach storage as an invalid window (refused by its field).
        let f = posted(&[("w0_from", "10:00"), ("w0_to", "12:00")]);
        assert_eq!(windows_posted(&f), vec!["@10:00-12:00"]);
    }

    #[test]
    fn recorded_windows_come_back_as_picker_rows() {
        let t = Tr::new(Lang::En);
        let stored = vec![
            "2@10:00-12:00".to_string(),
            "4@10:00-12:00".to_string(),
            "6@09:30-11:00".to_string(),
        ];
        let rows = window_rows(&t, &stored);
        assert_eq!(rows.len(), 2 + super::SPARE_WINDOW_ROWS);
        let on: Vec<&str> = rows[0]
            .days
            .iter()
            .filter(|d| d.on)
            .map(|d| d.value.as_str())
            .collect();
        assert_eq!(on, vec!["2", "4"]);
        assert_eq!(
            (rows[0].from.as_str(), rows[0].to.as_str()),
            ("10:00", "12:00")
        );
        assert_eq!(rows[0].days[1].label, "Tuesday");
        // What the rows post is what was stored.
        let mut f = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            for d in r.days.iter().filter(|d| d.on) {
                f.push((format!("w{i}_day"), d.value.clone()));
            }
            f.push((format!("w{i}_from"), r.from.clone()));
            f.push((format!("w{i}_to"), r.to.clone()));
        }
        assert_eq!(windows_posted(&f), stored);
    }
}
