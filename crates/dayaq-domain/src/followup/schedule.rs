//! The follow-up schedule: month lists, due dates, task status, lost contact, requests.

use super::*;

// ---------------------------------------------------------------------------------------------
// Schedule
// ---------------------------------------------------------------------------------------------

/// Months after the end of short-term assistance.
pub const DEFAULT_MONTHS: &[u32] = &[1, 3, 6, 12, 18, 24];
/// Failed attempts in a row after which contact is "lost".
pub const DEFAULT_MAX_FAILED: u32 = 3;
/// Days after the due date during which a follow-up is "due" rather than "overdue".
pub const DUE_GRACE_DAYS: i64 = 7;

/// Most entries in a case's own schedule.
pub const MAX_CASE_MONTHS: usize = 24;
/// Most entries in an organisation's default schedule.
pub const MAX_ORG_MONTHS: usize = 12;
/// Latest follow-up, in months after the end of short-term assistance.
pub const MAX_MONTH: u32 = 60;

/// Validates a list of month offsets: not empty, at most `max_len` entries, each 1..=60,
/// strictly ascending. Every problem is one error on the field `months` with its own code
/// (`required`, `too_many`, `out_of_range`, `not_ascending`).
pub fn validate_schedule(months: &[u32], max_len: usize) -> Result<(), ValidationErrors> {
    let mut errs = ValidationErrors::default();
    if months.is_empty() {
        errs.push(FieldError::new(
            "months",
            "required",
            "give at least one month",
        ));
    }
    if months.len() > max_len {
        errs.push(FieldError::new(
            "months",
            "too_many",
            "too many follow-ups in the schedule",
        ));
    }
    if months.iter().any(|m| !(1..=MAX_MONTH).contains(m)) {
        errs.push(FieldError::new(
            "months",
            "out_of_range",
            "months must be between 1 and 60",
        ));
    }
    if months.windows(2).any(|w| w[0] >= w[1]) {
        errs.push(FieldError::new(
            "months",
            "not_ascending",
            "months must be in ascending order without repeats",
        ));
    }
    errs.into_result()
}

/// Validates a case's own schedule (at most 24 entries).
pub fn validate_months(months: &[u32]) -> Result<(), ValidationErrors> {
    validate_schedule(months, MAX_CASE_MONTHS)
}

/// Validates an organisation's default schedule (at most 12 entries).
pub fn validate_org_months(months: &[u32]) -> Result<(), ValidationErrors> {
    validate_schedule(months, MAX_ORG_MONTHS)
}

/// Parses months written as text ("1, 3, 6" or "1 3 6"); errors name the field `months`.
pub fn parse_months(s: &str) -> Result<Vec<u32>, ValidationErrors> {
    s.split([',', ' ', ';'])
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(|m| {
            m.parse::<u32>().map_err(|_| {
                ValidationErrors::single(FieldError::new(
                    "months",
                    "not_a_number",
                    "months must be whole numbers separated by commas",
                ))
            })
        })
        .collect()
}

/// Where a plan's months come from: the case's own list, else the organisation's default,
/// else [`DEFAULT_MONTHS`].
pub fn effective_months(case: Option<&[u32]>, org: Option<&[u32]>) -> (Vec<u32>, ScheduleSource) {
    match (case, org) {
        (Some(c), _) => (c.to_vec(), ScheduleSource::Case),
        (None, Some(o)) => (o.to_vec(), ScheduleSource::Organisation),
        (None, None) => (DEFAULT_MONTHS.to_vec(), ScheduleSource::Default),
    }
}

/// Which schedule a plan follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleSource {
    Case,
    Organisation,
    Default,
}

/// `d` plus `months` calendar months (the day is clamped to the month's length).
pub fn add_months(d: Date, months: u32) -> Date {
    let total = d.year() * 12 + (i32::from(u8::from(d.month())) - 1) + months as i32;
    let year = total.div_euclid(12);
    let month = Month::try_from((total.rem_euclid(12) + 1) as u8).unwrap_or(Month::January);
    let last = time::util::days_in_month(month, year);
    Date::from_calendar_date(year, month, d.day().min(last)).unwrap_or(d)
}

/// The due dates of the plan.
pub fn plan_dates(assistance_end: Date, months: &[u32]) -> Vec<Date> {
    months
        .iter()
        .map(|m| add_months(assistance_end, *m))
        .collect()
}

/// How many days before its due date a follow-up round's window opens: a reached contact
/// earlier than that cannot mark the round done (issue #23 §3: a contact on 2026-11-30 must
/// not complete the 2027-09-30 round).
pub const ROUND_WINDOW_OPENS_DAYS: i64 = 30;

/// Whether a reached contact on `contact_on` may complete the round due on `due`.
pub fn contact_completes_round(contact_on: Date, due: Date) -> Result<(), FieldError> {
    if (due - contact_on).whole_days() > ROUND_WINDOW_OPENS_DAYS {
        return Err(FieldError::new(
            "task_id",
            "before_round_window",
            format!(
                "the contact is more than {ROUND_WINDOW_OPENS_DAYS} days before the round it would complete"
            ),
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Upcoming,
    Due,
    Overdue,
    Done,
    Cancelled,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Upcoming => "upcoming",
            TaskStatus::Due => "due",
            TaskStatus::Overdue => "overdue",
            TaskStatus::Done => "done",
            TaskStatus::Cancelled => "cancelled",
        }
    }
}

/// The status of an open / closed follow-up task on `today`.
pub fn task_status(due: Date, today: Date, done: bool, cancelled: bool) -> TaskStatus {
    if cancelled {
        TaskStatus::Cancelled
    } else if done {
        TaskStatus::Done
    } else if today < due {
        TaskStatus::Upcoming
    } else if (today - due).whole_days() < DUE_GRACE_DAYS {
        TaskStatus::Due
    } else {
        TaskStatus::Overdue
    }
}

/// Contact is lost after `max_failed` failed attempts in a row (`attempts`: oldest first,
/// true = reached).
pub fn lost_contact(attempts: &[bool], max_failed: u32) -> bool {
    let failed = attempts.iter().rev().take_while(|r| !**r).count();
    max_failed > 0 && failed >= max_failed as usize
}

/// What the survivor may ask for at any time.
pub const REQUEST_KINDS: &[&str] = &[
    "job_counselling",
    "psychological_support",
    "legal_help",
    "housing",
    "medical",
    "safe_migration_advice",
    "other_help",
];
