//! Assistance rules: needs assessment, the individual rehabilitation plan (HTCDS `spl_`),
//! shelter length of stay and the one-time allowance. Pure: no I/O, no clock — `today` is
//! always passed in.

use crate::error::FieldError;
use crate::identification::rights;
use crate::vocab::TraffickingStatus;
use serde::Serialize;
use time::Date;

/// Defines a closed list whose string form is exactly the variant name (see
/// `vocab::closed_enum`).
macro_rules! closed_list {
    ($($t:tt)*) => { crate::vocab::closed_enum!("not a value for", $($t)*); };
}

closed_list!(
    /// Domains of the individual needs assessment.
    NeedDomain, "domain",
    [Safety, PhysicalHealth, MentalHealth, Legal, Housing, EmploymentIncome,
     EducationSkills, FamilySocial, Dependants]
);

closed_list!(
    /// How pressing a need is.
    Severity, "severity",
    [None, Low, Medium, High]
);

closed_list!(
    /// HTCDS `spl_Type`.
    PlanType, "spl_Type",
    [Education, Financial, Health, LabourExploitationRehabilitation, Legal, Livelihood,
     RightsBasedTraining, SexualExploitationRehabilitation, SocialCare]
);

closed_list!(
    /// Goals are short-term or long-term.
    GoalTerm, "term",
    [ShortTerm, LongTerm]
);

closed_list!(
    /// Status of a plan action.
    ActionStatus, "status",
    [Planned, InProgress, Done, Cancelled]
);

closed_list!(
    /// Where a survivor went on leaving a shelter.
    ExitDestination, "exit_destination",
    [Family, IndependentHousing, OtherShelter, ReturnHome, Hospital, Unknown, Other]
);

impl Severity {
    /// Needs of medium or high severity must have something planned.
    pub fn needs_action(self) -> bool {
        matches!(self, Severity::Medium | Severity::High)
    }
}

impl ActionStatus {
    pub fn is_open(self) -> bool {
        matches!(self, ActionStatus::Planned | ActionStatus::InProgress)
    }
}

/// Which domain a need belongs to and how pressing it is (as assessed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeedFact {
    pub domain: NeedDomain,
    pub severity: Severity,
}

/// A goal of the plan as the gap rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoalFact {
    pub id: uuid::Uuid,
    pub term: GoalTerm,
}

/// A plan action as the gap rule sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionFact {
    pub id: uuid::Uuid,
    pub goal: Option<uuid::Uuid>,
    pub domain: Option<NeedDomain>,
    pub due_on: Option<Date>,
    pub status: ActionStatus,
}

/// What the plan still lacks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PlanGaps {
    /// Needs of medium or high severity that no (not cancelled) action addresses.
    pub needs_without_action: Vec<NeedDomain>,
    /// Open actions whose due date is before `today`.
    pub overdue_actions: Vec<uuid::Uuid>,
    /// Long-term goals without any (not cancelled) action.
    pub long_term_goals_without_action: Vec<uuid::Uuid>,
}

impl PlanGaps {
    pub fn is_empty(&self) -> bool {
        self.needs_without_action.is_empty()
            && self.overdue_actions.is_empty()
            && self.long_term_goals_without_action.is_empty()
    }
}

/// The gaps of a plan on `today`, given the needs of the latest assessment.
pub fn plan_gaps(
    needs: &[NeedFact],
    goals: &[GoalFact],
    actions: &[ActionFact],
    today: Date,
) -> PlanGaps {
    let live = || {
        actions
            .iter()
            .filter(|a| a.status != ActionStatus::Cancelled)
    };
    let mut needs_without_action: Vec<NeedDomain> = needs
        .iter()
        .filter(|n| n.severity.needs_action())
        .map(|n| n.domain)
        .filter(|d| !live().any(|a| a.domain == Some(*d)))
        .collect();
    needs_without_action.sort();
    needs_without_action.dedup();
    let overdue_actions = actions
        .iter()
        .filter(|a| a.status.is_open() && a.due_on.is_some_and(|d| d < today))
        .map(|a| a.id)
        .collect();
    let long_term_goals_without_action = goals
        .iter()
        .filter(|g| g.term == GoalTerm::LongTerm)
        .filter(|g| !live().any(|a| a.goal == Some(g.id)))
        .map(|g| g.id)
        .collect();
    PlanGaps {
        needs_without_action,
        overdue_actions,
        long_term_goals_without_action,
    }
}

/// The state shelter's legal length of stay.
pub const STATE_SHELTER_MAX_STAY_DAYS: i64 = 30;
/// Days before the limit from which a warning is shown.
pub const STAY_WARNING_DAYS_BEFORE: i64 = 5;

/// The state of a shelter stay on a given day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum StayState {
    /// Within the allowed stay.
    Ok { day: i64, allowed_days: i64 },
    /// The limit is near: `days_left` days remain (0 on the last allowed day).
    Warning {
        day: i64,
        allowed_days: i64,
        days_left: i64,
    },
    /// Beyond the allowed stay without an approved extension covering it.
    Blocked { day: i64, allowed_days: i64 },
}

impl StayState {
    pub fn is_blocked(self) -> bool {
        matches!(self, StayState::Blocked { .. })
    }
}

/// The length-of-stay rule. The admission day is day 0; a stay may last `max_stay_days`
/// days plus the days of approved extensions; from `STAY_WARNING_DAYS_BEFORE` days before
/// the limit it warns (day 25 of 30), and any day after the limit is blocked (day 31 of 30).
pub fn stay_state(
    admitted_on: Date,
    today: Date,
    max_stay_days: i64,
    approved_extension_days: &[i64],
) -> StayState {
    let day = (today - admitted_on).whole_days();
    let allowed_days = max_stay_days
        + approved_extension_days
            .iter()
            .map(|d| d.max(&0))
            .sum::<i64>();
    if day > allowed_days {
        StayState::Blocked { day, allowed_days }
    } else if day >= allowed_days - STAY_WARNING_DAYS_BEFORE {
        StayState::Warning {
            day,
            allowed_days,
            days_left: allowed_days - day,
        }
    } else {
        StayState::Ok { day, allowed_days }
    }
}

/// Default one-time allowance: AZN 400, in minor units (qəpik).
pub const DEFAULT_ALLOWANCE_MINOR: i64 = 40_000;

/// The one-time allowance is for a person identified as an actual victim only.
pub fn allowance_eligibility(status: TraffickingStatus) -> Result<(), FieldError> {
    if rights(status).one_time_allowance {
        Ok(())
    } else {
        Err(FieldError::new(
            "vic_TraffickingStatus",
            "not_actual_victim",
            format!(
                "the one-time allowance is paid only to a person with status ActualVictimOfTrafficking; the case has status {}",
                status.as_str()
            ),
        ))
    }
}

/// Parses an ISO date (YYYY-MM-DD) for `field`.
pub fn parse_date(field: &str, s: &str) -> Result<Date, FieldError> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), &fmt).map_err(|_| {
        FieldError::new(
            field,
            "invalid_date",
            format!("{field} must be a date YYYY-MM-DD"),
        )
    })
}

/// Formats a date as YYYY-MM-DD.
pub fn fmt_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Warnings about a plan a caseworker would expect before it is approved (issue #23 §3): no
/// objectives written, or a planned end that has already passed on `today` (an unreadable end
/// date counts as none). Empty when the plan is sound.
pub fn plan_warnings(
    objectives: Option<&str>,
    planned_end: Option<&str>,
    today: Date,
) -> Vec<FieldError> {
    let mut w = Vec::new();
    if objectives.is_none_or(|o| o.trim().is_empty()) {
        w.push(FieldError::new(
            "spl_Objectives",
            "plan_no_objectives",
            "the plan has no objectives",
        ));
    }
    if let Some(end) = planned_end.and_then(|e| parse_date("spl_PlannedEndDate", e).ok())
        && end < today
    {
        w.push(FieldError::new(
            "spl_PlannedEndDate",
            "plan_end_in_past",
            "the plan's planned end is in the past",
        ));
    }
    w
}

/// Approval of a plan with warnings needs the approver's explicit confirmation (the field
/// `confirm_warnings`); a sound plan is approved without it. Chosen over a refusal because the
/// plan screen cannot edit a plan's objectives or end date: a supervisor who has read the
/// warnings may still approve.
pub fn approval_check(warnings: &[FieldError], confirmed: bool) -> Result<(), FieldError> {
    if warnings.is_empty() || confirmed {
        Ok(())
    } else {
        Err(FieldError::new(
            "confirm_warnings",
            "confirm_required",
            "the plan has warnings: confirm them to approve",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;
    use uuid::Uuid;

    #[test]
    fn thirty_day_rule() {
        let a = date!(2026 - 01 - 01);
        let on = |n: i64| a + time::Duration::days(n);
        assert!(matches!(
            stay_state(a, on(0), 30, &[]),
            StayState::Ok { .. }
        ));
        assert!(matches!(
            stay_state(a, on(24), 30, &[]),
            StayState::Ok { .. }
        ));
        assert!(matches!(
            stay_state(a, on(25), 30, &[]),
            StayState::Warning { days_left: 5, .. }
        ));
        assert!(matches!(
            stay_state(a, on(30), 30, &[]),
            StayState::Warning { .. }
        ));
        assert!(stay_state(a, on(31), 30, &[]).is_blocked());
        assert!(!stay_state(a, on(31), 30, &[15]).is_blocked());
        assert!(stay_state(a, on(46), 30, &[15]).is_blocked());
    }

    #[test]
    fn gaps() {
        let today = date!(2026 - 03 - 10);
        let g1 = Uuid::new_v4();
        let g2 = Uuid::new_v4();
        let a1 = Uuid::new_v4();
        let a2 = Uuid::new_v4();
        let needs = [
            NeedFact {
                domain: NeedDomain::Housing,
                severity: Severity::High,
            },
            NeedFact {
                domain: NeedDomain::Legal,
                severity: Severity::Low,
            },
            NeedFact {
                domain: NeedDomain::MentalHealth,
                severity: Severity::Medium,
            },
        ];
        let goals = [
            GoalFact {
                id: g1,
                term: GoalTerm::LongTerm,
            },
            GoalFact {
                id: g2,
                term: GoalTerm::LongTerm,
            },
        ];
        let actions = [
            ActionFact {
                id: a1,
                goal: Some(g1),
                domain: Some(NeedDomain::MentalHealth),
                due_on: Some(date!(2026 - 03 - 01)),
                status: ActionStatus::Planned,
            },
            ActionFact {
                id: a2,
                goal: Some(g2),
                domain: Some(NeedDomain::Housing),
                due_on: Some(date!(2026 - 03 - 01)),
                status: ActionStatus::Cancelled,
            },
        ];
        let g = plan_gaps(&needs, &goals, &actions, today);
        assert_eq!(g.needs_without_action, vec![NeedDomain::Housing]);
        assert_eq!(g.overdue_actions, vec![a1]);
        assert_eq!(g.long_term_goals_without_action, vec![g2]);
    }

    #[test]
    fn allowance_only_for_actual() {
        assert!(allowance_eligibility(TraffickingStatus::ActualVictimOfTrafficking).is_ok());
        let e = allowance_eligibility(TraffickingStatus::PossibleVictimOfTrafficking);
        assert_eq!(e.map_err(|e| e.code), Err("not_actual_victim"));
    }

    #[test]
    fn plan_warnings_name_missing_objectives_and_a_past_end() {
        let today = date!(2026 - 12 - 05);
        let codes = |o, e| {
            plan_warnings(o, e, today)
                .into_iter()
                .map(|w| w.code)
                .collect::<Vec<_>>()
        };
        assert_eq!(codes(Some("work"), Some("2027-01-01")), Vec::<&str>::new());
        assert_eq!(codes(Some("work"), None), Vec::<&str>::new());
        assert_eq!(codes(Some("work"), Some("2026-12-05")), Vec::<&str>::new());
        assert_eq!(codes(None, Some("2027-01-01")), vec!["plan_no_objectives"]);
        assert_eq!(
            codes(Some("  "), Some("2026-12-04")),
            vec!["plan_no_objectives", "plan_end_in_past"]
        );
        assert_eq!(
            codes(Some("work"), Some("2026-11-30")),
            vec!["plan_end_in_past"]
        );
    }

    #[test]
    fn approval_of_a_plan_with_warnings_needs_confirmation() {
        let w = plan_warnings(None, None, date!(2026 - 12 - 05));
        assert_eq!(
            approval_check(&w, false).map_err(|e| e.field),
            Err("confirm_warnings".to_string())
        );
        assert!(approval_check(&w, true).is_ok());
        assert!(approval_check(&[], false).is_ok());
    }

    proptest::proptest! {
        /// An end date warns exactly when it is before today; objectives warn exactly when blank.
        #[test]
        fn plan_warnings_follow_the_dates(end_off in -3000i64..3000, obj in "[ a-z]{0,8}") {
            let today = date!(2026 - 12 - 05);
            let end = today + time::Duration::days(end_off);
            let end = fmt_date(end);
            let w = plan_warnings(Some(obj.as_str()), Some(end.as_str()), today);
            let past = w.iter().any(|e| e.code == "plan_end_in_past");
            let none = w.iter().any(|e| e.code == "plan_no_objectives");
            proptest::prop_assert_eq!(past, end_off < 0);
            proptest::prop_assert_eq!(none, obj.trim().is_empty());
            proptest::prop_assert_eq!(approval_check(&w, false).is_ok(), w.is_empty());
        }
    }
}
