//! Long-term follow-up rules: the survivor's contact protocol, the follow-up schedule,
//! the reintegration questionnaire (IOM domains) with trajectories, and re-trafficking risk
//! flags. Pure rules: no I/O, no clock — time is passed in.

use crate::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::{Date, Month, OffsetDateTime, UtcOffset};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Contact protocol
// ---------------------------------------------------------------------------------------------

/// Ways a caseworker may reach the survivor. "none" is an empty channel list.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Phone,
    Sms,
    Messenger,
    Email,
    Visit,
}

impl Channel {
    pub const ALL: &'static [Channel] = &[
        Channel::Phone,
        Channel::Sms,
        Channel::Messenger,
        Channel::Email,
        Channel::Visit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Phone => "phone",
            Channel::Sms => "sms",
            Channel::Messenger => "messenger",
            Channel::Email => "email",
            Channel::Visit => "visit",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

/// A safe time window on one weekday, in the survivor's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Window {
    /// 1 = Monday … 7 = Sunday.
    pub weekday: u8,
    /// Minutes after local midnight, inclusive.
    pub start_min: u16,
    /// Minutes after local midnight, exclusive; greater than `start_min`, at most 1440.
    pub end_min: u16,
}

impl Window {
    /// "1@09:00-12:30" (weekday@start-end).
    pub fn encode(&self) -> String {
        format!(
            "{}@{:02}:{:02}-{:02}:{:02}",
            self.weekday,
            self.start_min / 60,
            self.start_min % 60,
            self.end_min / 60,
            self.end_min % 60
        )
    }

    pub fn parse(s: &str) -> Option<Window> {
        let (d, range) = s.trim().split_once('@')?;
        let (a, b) = range.split_once('-')?;
        let w = Window {
            weekday: d.trim().parse().ok()?,
            start_min: hm(a)?,
            end_min: hm(b)?,
        };
        w.valid().then_some(w)
    }

    pub fn valid(&self) -> bool {
        (1..=7).contains(&self.weekday) && self.start_min < self.end_min && self.end_min <= 1440
    }

    /// "09:00–12:30"
    pub fn hours(&self) -> String {
        format!(
            "{:02}:{:02}–{:02}:{:02}",
            self.start_min / 60,
            self.start_min % 60,
            self.end_min / 60,
            self.end_min % 60
        )
    }
}

fn hm(s: &str) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    if m >= 60 || h > 24 || (h == 24 && m > 0) {
        return None;
    }
    Some(h * 60 + m)
}

/// Azerbaijan time (UTC+4, no daylight saving) in minutes.
pub const DEFAULT_UTC_OFFSET_MIN: i32 = 240;

/// The rule part of the survivor's contact protocol (what `check_contact` needs).
/// The personal parts — safe numbers, never-contact list and places, cover reason or code
/// word — are kept encrypted by storage and are not needed by the rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ContactRules {
    /// Allowed channels; empty = "none".
    pub channels: Vec<Channel>,
    /// Safe times; empty = no safe time, so nothing can be scheduled.
    pub windows: Vec<Window>,
    /// The survivor's local offset from UTC in minutes.
    pub utc_offset_min: i32,
    /// Respected absolutely.
    pub do_not_contact: bool,
    /// The named caseworker who may call; `None` = any caseworker of the owner organisation.
    pub caller: Option<Uuid>,
    /// Language for contacts (ISO 639-1).
    pub language: String,
}

impl ContactRules {
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        if self.windows.iter().any(|w| !w.valid()) {
            errs.push(FieldError::new(
                "windows",
                "invalid",
                "a time window is not valid (weekday 1-7, start before end)",
            ));
        }
        if !(-720..=840).contains(&self.utc_offset_min) {
            errs.push(FieldError::new(
                "utc_offset_min",
                "invalid",
                "offset out of range",
            ));
        }
        let l = self.language.trim();
        if l.len() != 2 || !l.chars().all(|c| c.is_ascii_lowercase()) {
            errs.push(FieldError::new(
                "language",
                "invalid",
                "language must be an ISO 639-1 code",
            ));
        }
        errs.into_result()
    }

    /// The safe windows on the local weekday of `when`.
    pub fn windows_on(&self, when: OffsetDateTime) -> Vec<Window> {
        let local = to_local(when, self.utc_offset_min);
        let wd = local.weekday().number_from_monday();
        self.windows
            .iter()
            .copied()
            .filter(|w| w.weekday == wd)
            .collect()
    }
}

fn to_local(when: OffsetDateTime, offset_min: i32) -> OffsetDateTime {
    let off =
        UtcOffset::from_whole_seconds(offset_min.saturating_mul(60)).unwrap_or(UtcOffset::UTC);
    when.to_offset(off)
}

/// Why a contact is outside the protocol (stable codes).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Breach {
    DoNotContact,
    ChannelNotAllowed,
    OutsideSafeWindow,
    CallerNotNamed,
}

impl Breach {
    pub fn as_str(self) -> &'static str {
        match self {
            Breach::DoNotContact => "do_not_contact",
            Breach::ChannelNotAllowed => "channel_not_allowed",
            Breach::OutsideSafeWindow => "outside_safe_window",
            Breach::CallerNotNamed => "caller_not_named",
        }
    }
    pub fn parse(s: &str) -> Option<Breach> {
        [
            Breach::DoNotContact,
            Breach::ChannelNotAllowed,
            Breach::OutsideSafeWindow,
            Breach::CallerNotNamed,
        ]
        .into_iter()
        .find(|b| b.as_str() == s)
    }
}

/// Is this contact within the survivor's protocol? All breaches are listed.
pub fn check_contact(
    rules: &ContactRules,
    channel: Channel,
    when: OffsetDateTime,
    caller: Uuid,
) -> Result<(), Vec<Breach>> {
    let mut out = Vec::new();
    if rules.do_not_contact {
        out.push(Breach::DoNotContact);
    }
    if !rules.channels.contains(&channel) {
        out.push(Breach::ChannelNotAllowed);
    }
    let local = to_local(when, rules.utc_offset_min);
    let minute = u16::from(local.hour()) * 60 + u16::from(local.minute());
    let inside = rules_windows_contain(rules, local.weekday().number_from_monday(), minute);
    if !inside {
        out.push(Breach::OutsideSafeWindow);
    }
    if let Some(named) = rules.caller
        && named != caller
    {
        out.push(Breach::CallerNotNamed);
    }
    if out.is_empty() { Ok(()) } else { Err(out) }
}

fn rules_windows_contain(rules: &ContactRules, weekday: u8, minute: u16) -> bool {
    rules
        .windows
        .iter()
        .any(|w| w.valid() && w.weekday == weekday && w.start_min <= minute && minute < w.end_min)
}

/// Longest free text of a follow-up record (cover reason, code word, justification, her words),
/// in characters.
pub const MAX_TEXT: usize = 2000;
/// Most entries of a personal list of the protocol (safe numbers, never-contact, places).
pub const MAX_LIST: usize = 20;

/// `too_long` when `s` has more than [`MAX_TEXT`] characters.
pub fn check_text(errs: &mut ValidationErrors, field: &str, s: &str) {
    if s.chars().count() > MAX_TEXT {
        errs.push(FieldError::new(field, "too_long", "text is too long"));
    }
}

/// `too_long` when `v` has more than [`MAX_LIST`] entries or one over 200 characters.
pub fn check_list(errs: &mut ValidationErrors, field: &str, v: &[String]) {
    if v.len() > MAX_LIST || v.iter().any(|s| s.chars().count() > 200) {
        errs.push(FieldError::new(
            field,
            "too_long",
            "too many or too long entries",
        ));
    }
}

/// A calendar date `YYYY-MM-DD` (spaces around it ignored).
pub fn parse_day(field: &str, s: &str) -> Result<Date, FieldError> {
    Date::parse(
        s.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| FieldError::new(field, "invalid_date", "expected a date YYYY-MM-DD"))
}

/// The protocol as recorded with the survivor.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProtocolInput {
    /// phone, sms, messenger, email, visit (empty = none).
    #[serde(default)]
    pub channels: Vec<String>,
    /// Safe times "weekday@HH:MM-HH:MM", weekday 1 = Monday … 7 = Sunday, local time.
    #[serde(default)]
    pub windows: Vec<String>,
    #[serde(default)]
    pub utc_offset_min: Option<i32>,
    #[serde(default)]
    pub do_not_contact: bool,
    /// Username of the one caseworker who may call (of the owner organisation).
    #[serde(default)]
    pub caller: Option<String>,
    pub language: String,
    /// Personal (encrypted): safe numbers / addresses.
    #[serde(default)]
    pub safe_numbers: Vec<String>,
    /// Personal (encrypted): people and numbers never to contact.
    #[serde(default)]
    pub never_contact: Vec<String>,
    /// Personal (encrypted): places never to visit or mention.
    #[serde(default)]
    pub never_places: Vec<String>,
    /// Personal (encrypted): the cover reason to give for a call or visit.
    #[serde(default)]
    pub cover_reason: String,
    /// Personal (encrypted): the code word.
    #[serde(default)]
    pub code_word: String,
}

impl ProtocolInput {
    /// The checks that need no database: channels (distinct, in order), safe windows, the
    /// personal lists and texts. Every problem is added to `errs`; the caller adds the ones
    /// that need the database (the named caller) and then [`ContactRules::validate`].
    pub fn check(&self, errs: &mut ValidationErrors) -> (Vec<Channel>, Vec<Window>) {
        let mut channels = Vec::new();
        for c in &self.channels {
            match Channel::parse(c.trim()) {
                Some(ch) if !channels.contains(&ch) => channels.push(ch),
                Some(_) => {}
                None => errs.push(FieldError::new("channels", "unknown", "unknown channel")),
            }
        }
        let mut windows = Vec::new();
        for w in self.windows.iter().filter(|w| !w.trim().is_empty()) {
            match Window::parse(w) {
                Some(w) => windows.push(w),
                None => errs.push(FieldError::new(
                    "windows",
                    "invalid",
                    "a safe time must look like 1@09:00-12:00 (weekday 1-7)",
                )),
            }
        }
        check_list(errs, "safe_numbers", &self.safe_numbers);
        check_list(errs, "never_contact", &self.never_contact);
        check_list(errs, "never_places", &self.never_places);
        check_text(errs, "cover_reason", &self.cover_reason);
        check_text(errs, "code_word", &self.code_word);
        (channels, windows)
    }
}

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

// ---------------------------------------------------------------------------------------------
// Reintegration questionnaire (IOM domains)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// One answer code; `ordered` = codes are listed from best to worst (trajectory applies).
    Single { ordered: bool },
    /// Any number of answer codes.
    Multi,
}

#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct Question {
    pub key: &'static str,
    pub domain: &'static str,
    pub kind: QuestionKind,
    pub codes: &'static [&'static str],
}

const fn single(
    key: &'static str,
    domain: &'static str,
    ordered: bool,
    codes: &'static [&'static str],
) -> Question {
    Question {
        key,
        domain,
        kind: QuestionKind::Single { ordered },
        codes,
    }
}

/// The questionnaire: stable question keys and answer codes. Never rename; add new keys.
/// `assistance_needed_words` (her words, free text) is not listed here: it is encrypted.
pub const QUESTIONS: &[Question] = &[
    single(
        "current_situation",
        "situation",
        true,
        &["very_good", "good", "average", "bad", "very_bad"],
    ),
    single(
        "compared_before",
        "situation",
        true,
        &["better", "same", "worse"],
    ),
    single(
        "feel_integrated",
        "integration",
        true,
        &["very_well", "not_so_well", "not_at_all"],
    ),
    single(
        "employment",
        "employment",
        true,
        &["full_time", "part_time", "occasional", "none"],
    ),
    single(
        "income_covers",
        "employment",
        true,
        &["yes", "sometimes", "no"],
    ),
    single(
        "living_with",
        "housing",
        false,
        &[
            "family",
            "relatives",
            "alone",
            "shelter",
            "friends",
            "rented_room",
            "partner",
            "no_stable_place",
        ],
    ),
    single(
        "family_reconciliation",
        "family",
        true,
        &["reconciled", "partly", "rejected", "not_applicable"],
    ),
    single(
        "children_schooling",
        "family",
        true,
        &[
            "all_in_school",
            "some_in_school",
            "none_in_school",
            "no_children",
        ],
    ),
    single(
        "health_support",
        "health",
        true,
        &["not_needed", "receiving", "needed_not_receiving"],
    ),
    single(
        "psychological_support",
        "health",
        true,
        &["not_needed", "receiving", "needed_not_receiving"],
    ),
    single(
        "legal_issues",
        "legal",
        true,
        &["none", "resolved", "ongoing", "unresolved_needs_help"],
    ),
    Question {
        key: "future_plans",
        domain: "future",
        kind: QuestionKind::Multi,
        codes: &[
            "work_locally",
            "study",
            "own_business",
            "family",
            "migrate",
            "undecided",
        ],
    },
    single(
        "plans_migrate_abroad",
        "future",
        true,
        &["no", "considering", "planning_for_work", "planning_other"],
    ),
    single(
        "trafficker_contact",
        "safety",
        true,
        &["none", "indirect", "direct"],
    ),
    single("feel_protected", "safety", true, &["yes", "partly", "no"]),
    single("knows_where_help", "safety", true, &["yes", "no"]),
    Question {
        key: "assistance_needed",
        domain: "needs",
        kind: QuestionKind::Multi,
        codes: &[
            "job",
            "housing",
            "psychological",
            "medical",
            "legal",
            "education",
            "childcare",
            "financial",
            "family_mediation",
            "none",
        ],
    },
];

/// Codes whose rank is not comparable (excluded from trajectories).
const UNRANKED: &[&str] = &["not_applicable", "no_children", "planning_other"];

pub fn question(key: &str) -> Option<&'static Question> {
    QUESTIONS.iter().find(|q| q.key == key)
}

/// Coded answers: question key → answer codes (one for single-choice questions).
pub type Answers = BTreeMap<String, Vec<String>>;

/// Checks every answer against the questionnaire; unknown keys or codes are errors, naming
/// the question (never echoing the value). Unanswered questions are allowed.
pub fn validate_answers(a: &Answers) -> Result<(), ValidationErrors> {
    let mut errs = ValidationErrors::default();
    for (k, codes) in a {
        let Some(q) = question(k) else {
            errs.push(FieldError::new(
                k.clone(),
                "unknown_question",
                "unknown question key",
            ));
            continue;
        };
        if codes.iter().any(|c| !q.codes.contains(&c.as_str())) {
            errs.push(FieldError::new(
                k.clone(),
                "unknown_answer",
                "unknown answer code",
            ));
        }
        if matches!(q.kind, QuestionKind::Single { .. }) && codes.len() > 1 {
            errs.push(FieldError::new(
                k.clone(),
                "single_answer",
                "only one answer allowed",
            ));
        }
        let mut seen = codes.clone();
        seen.sort();
        seen.dedup();
        if seen.len() != codes.len() {
            errs.push(FieldError::new(
                k.clone(),
                "duplicate",
                "an answer is repeated",
            ));
        }
    }
    errs.into_result()
}

/// One reintegration assessment as entered on the form, through the API or as a row of a
/// questionnaire file.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = FollowupAssessmentInput)]
pub struct AssessmentInput {
    /// Survey round name (e.g. "2026-12" or "month-6").
    pub round: String,
    pub assessed_on: String,
    /// Question key → answer codes.
    #[serde(default)]
    pub answers: Answers,
    /// Assistance still needed, in her words (encrypted).
    #[serde(default)]
    pub assistance_needed_words: Option<String>,
}

impl AssessmentInput {
    /// The answers, the round name (1-64 characters) and her words; not the date.
    pub fn check(&self) -> Result<(), ValidationErrors> {
        let mut errs = validate_answers(&self.answers).err().unwrap_or_default();
        let r = self.round.trim();
        if r.is_empty() || r.chars().count() > 64 {
            errs.push(FieldError::new(
                "round",
                "invalid",
                "a round name of 1-64 characters",
            ));
        }
        if let Some(w) = &self.assistance_needed_words {
            check_text(&mut errs, "assistance_needed_words", w);
        }
        errs.into_result()
    }

    /// Every check ([`Self::check`], then the date); the date of the assessment.
    pub fn validate(&self) -> Result<Date, ValidationErrors> {
        let mut errs = self.check().err().unwrap_or_default();
        let on = parse_day("assessed_on", &self.assessed_on);
        if let Err(e) = &on {
            errs.push(e.clone());
        }
        errs.into_result()?;
        on.map_err(ValidationErrors::single)
    }
}

/// The single answer to a question, if any.
pub fn answer<'a>(a: &'a Answers, key: &str) -> Option<&'a str> {
    a.get(key).and_then(|v| v.first()).map(String::as_str)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Trend {
    Better,
    Same,
    Worse,
    /// Not comparable (no earlier answer, unranked answer, or multi-choice question).
    NotComparable,
}

impl Trend {
    pub fn as_str(self) -> &'static str {
        match self {
            Trend::Better => "better",
            Trend::Same => "same",
            Trend::Worse => "worse",
            Trend::NotComparable => "not_comparable",
        }
    }
}

fn rank(q: &Question, code: &str) -> Option<usize> {
    if UNRANKED.contains(&code) {
        return None;
    }
    q.codes.iter().position(|c| *c == code)
}

/// One question's answers across assessments (oldest first) and the latest trend.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Trajectory {
    pub key: &'static str,
    pub domain: &'static str,
    pub answers: Vec<Option<String>>,
    pub trend: Trend,
}

/// Trajectory per question over assessments ordered oldest first.
pub fn trajectories(history: &[Answers]) -> Vec<Trajectory> {
    QUESTIONS
        .iter()
        .map(|q| {
            let answers: Vec<Option<String>> = history
                .iter()
                .map(|a| a.get(q.key).map(|v| v.join("+")))
                .collect();
            let trend = match q.kind {
                QuestionKind::Single { ordered: true } => {
                    let known: Vec<&str> =
                        history.iter().filter_map(|a| answer(a, q.key)).collect();
                    match known.as_slice() {
                        [.., prev, last] => match (rank(q, prev), rank(q, last)) {
                            (Some(p), Some(l)) if l < p => Trend::Better,
                            (Some(p), Some(l)) if l > p => Trend::Worse,
                            (Some(_), Some(_)) => Trend::Same,
                            _ => Trend::NotComparable,
                        },
                        _ => Trend::NotComparable,
                    }
                }
                _ => Trend::NotComparable,
            };
            Trajectory {
                key: q.key,
                domain: q.domain,
                answers,
                trend,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Re-trafficking risk
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RiskFlag {
    /// Stable flag code.
    pub code: &'static str,
    /// "high" or "medium".
    pub level: &'static str,
    /// The answers that raised it: (question key, answer code).
    pub reasons: Vec<(String, String)>,
    /// What the plan should get (a long-term goal or a referral).
    pub suggested_action: &'static str,
    /// The needs-assessment domain (`NeedDomain` of the assistance plan) a long-term goal made
    /// from this flag belongs to.
    pub plan_domain: &'static str,
}

struct Rule {
    code: &'static str,
    level: &'static str,
    action: &'static str,
    /// `NeedDomain` of a goal made from the flag.
    domain: &'static str,
    /// All conditions must hold; each is (question, any of these codes).
    all: &'static [(&'static str, &'static [&'static str])],
}

/// The rules, in full (shown in docs/FOLLOWUP.md). No weights, no scores.
const RULES: &[Rule] = &[
    Rule {
        code: "plans_abroad_for_work",
        level: "high",
        action: "safe_migration_counselling",
        domain: "Safety",
        all: &[("plans_migrate_abroad", &["planning_for_work"])],
    },
    Rule {
        code: "considering_migration",
        level: "medium",
        action: "safe_migration_counselling",
        domain: "Safety",
        all: &[("plans_migrate_abroad", &["considering"])],
    },
    Rule {
        code: "no_income",
        level: "high",
        action: "job_counselling",
        domain: "EmploymentIncome",
        all: &[("employment", &["none"]), ("income_covers", &["no"])],
    },
    Rule {
        code: "income_insufficient",
        level: "medium",
        action: "job_counselling",
        domain: "EmploymentIncome",
        all: &[("income_covers", &["no", "sometimes"])],
    },
    Rule {
        code: "rejected_by_family",
        level: "high",
        action: "family_mediation_or_housing",
        domain: "FamilySocial",
        all: &[("family_reconciliation", &["rejected"])],
    },
    Rule {
        code: "no_stable_housing",
        level: "high",
        action: "housing_referral",
        domain: "Housing",
        all: &[("living_with", &["shelter", "no_stable_place"])],
    },
    Rule {
        code: "trafficker_circle_contact",
        level: "high",
        action: "safety_plan",
        domain: "Safety",
        all: &[("trafficker_contact", &["direct", "indirect"])],
    },
    Rule {
        code: "unprotected",
        level: "medium",
        action: "safety_plan",
        domain: "Safety",
        all: &[("feel_protected", &["no"]), ("knows_where_help", &["no"])],
    },
];

/// Flags raised by the latest assessment, each with the answers that raised it.
pub fn risk_flags(latest: &Answers) -> Vec<RiskFlag> {
    let mut flags = Vec::new();
    for r in RULES {
        let mut reasons = Vec::new();
        let mut all = true;
        for (key, codes) in r.all {
            match a_match(latest, key, codes) {
                Some(c) => reasons.push(((*key).to_string(), c)),
                None => {
                    all = false;
                    break;
                }
            }
        }
        if all {
            flags.push(RiskFlag {
                code: r.code,
                level: r.level,
                reasons,
                suggested_action: r.action,
                plan_domain: r.domain,
            });
        }
    }
    // "income_insufficient" is implied by "no_income".
    if flags.iter().any(|f| f.code == "no_income") {
        flags.retain(|f| f.code != "income_insufficient");
    }
    flags
}

/// Is this a flag code of the rules?
pub fn is_flag_code(code: &str) -> bool {
    RULES.iter().any(|r| r.code == code)
}

/// The suggestion for the plan of a flag code.
pub fn flag_action(code: &str) -> Option<&'static str> {
    RULES.iter().find(|r| r.code == code).map(|r| r.action)
}

fn a_match(a: &Answers, key: &str, codes: &[&str]) -> Option<String> {
    a.get(key)?
        .iter()
        .find(|c| codes.contains(&c.as_str()))
        .cloned()
}

// ---------------------------------------------------------------------------------------------
// Per-question summary
// ---------------------------------------------------------------------------------------------

/// Counts per question and answer code over a set of assessments (multi-choice: each chosen
/// code counts once per assessment). Rows in questionnaire order; codes in listed order.
pub fn summarise(all: &[Answers]) -> Vec<(&'static str, &'static str, i64)> {
    let mut out = Vec::new();
    for q in QUESTIONS {
        for code in q.codes {
            let n = all
                .iter()
                .filter(|a| a.get(q.key).is_some_and(|v| v.iter().any(|c| c == code)))
                .count() as i64;
            out.push((q.key, *code, n));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::{date, datetime};

    fn ans(pairs: &[(&str, &str)]) -> Answers {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), vec![(*v).to_string()]))
            .collect()
    }

    fn rules(caller: Option<Uuid>) -> ContactRules {
        ContactRules {
            channels: vec![Channel::Phone],
            windows: vec![Window {
                weekday: 2,
                start_min: 10 * 60,
                end_min: 12 * 60,
            }],
            utc_offset_min: DEFAULT_UTC_OFFSET_MIN,
            do_not_contact: false,
            caller,
            language: "az".into(),
        }
    }

    #[test]
    fn contact_inside_and_outside() {
        let me = Uuid::from_u128(1);
        let r = rules(Some(me));
        // Tuesday 2026-11-24 07:30 UTC = 11:30 Baku.
        let ok = datetime!(2026-11-24 07:30 UTC);
        assert_eq!(check_contact(&r, Channel::Phone, ok, me), Ok(()));
        let e = check_contact(
            &r,
            Channel::Visit,
            datetime!(2026-11-24 09:00 UTC),
            Uuid::from_u128(2),
        )
        .unwrap_err();
        assert_eq!(
            e,
            vec![
                Breach::ChannelNotAllowed,
                Breach::OutsideSafeWindow,
                Breach::CallerNotNamed
            ]
        );
        let mut dnc = r.clone();
        dnc.do_not_contact = true;
        assert_eq!(
            check_contact(&dnc, Channel::Phone, ok, me),
            Err(vec![Breach::DoNotContact])
        );
    }

    #[test]
    fn windows_parse_roundtrip() {
        let w = Window::parse("3@09:05-17:30").unwrap();
        assert_eq!(w.encode(), "3@09:05-17:30");
        assert!(Window::parse("8@09:00-10:00").is_none());
        assert!(Window::parse("1@12:00-10:00").is_none());
    }

    #[test]
    fn plan_and_status() {
        let d = plan_dates(date!(2026 - 01 - 31), DEFAULT_MONTHS);
        assert_eq!(d[0], date!(2026 - 02 - 28));
        assert_eq!(d[5], date!(2028 - 01 - 31));
        let due = date!(2026 - 03 - 01);
        assert_eq!(
            task_status(due, date!(2026 - 02 - 28), false, false),
            TaskStatus::Upcoming
        );
        assert_eq!(task_status(due, due, false, false), TaskStatus::Due);
        assert_eq!(
            task_status(due, date!(2026 - 03 - 08), false, false),
            TaskStatus::Overdue
        );
        assert!(lost_contact(&[true, false, false, false], 3));
        assert!(!lost_contact(&[false, false, true, false], 3));
        assert!(validate_months(&[1, 3, 2]).is_err());
    }

    #[test]
    fn changing_one_answer_changes_the_flag() {
        let mut a = ans(&[
            ("plans_migrate_abroad", "planning_for_work"),
            ("employment", "part_time"),
        ]);
        let f = risk_flags(&a);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].code, "plans_abroad_for_work");
        assert_eq!(
            f[0].reasons,
            vec![(
                "plans_migrate_abroad".to_string(),
                "planning_for_work".to_string()
            )]
        );
        a.insert("plans_migrate_abroad".into(), vec!["no".into()]);
        assert!(risk_flags(&a).is_empty());
        a.insert("family_reconciliation".into(), vec!["rejected".into()]);
        assert_eq!(risk_flags(&a)[0].code, "rejected_by_family");
    }

    #[test]
    fn trajectory_per_domain() {
        let t = trajectories(&[
            ans(&[("employment", "none"), ("current_situation", "good")]),
            ans(&[("employment", "part_time"), ("current_situation", "bad")]),
        ]);
        let e = t.iter().find(|t| t.key == "employment").unwrap();
        assert_eq!(e.trend, Trend::Better);
        let c = t.iter().find(|t| t.key == "current_situation").unwrap();
        assert_eq!(c.trend, Trend::Worse);
    }

    #[test]
    fn answers_are_validated() {
        assert!(validate_answers(&ans(&[("employment", "none")])).is_ok());
        let e = validate_answers(&ans(&[("employment", "lots"), ("bogus", "x")])).unwrap_err();
        assert_eq!(e.errors.len(), 2);
    }

    #[test]
    fn schedule_errors_name_the_field_and_each_problem() {
        assert!(validate_org_months(&[1, 3, 6, 12, 18, 24]).is_ok());
        let codes = |m: &[u32]| -> Vec<&'static str> {
            validate_org_months(m)
                .err()
                .map(|e| {
                    assert!(e.errors.iter().all(|f| f.field == "months"));
                    e.errors.iter().map(|f| f.code).collect()
                })
                .unwrap_or_default()
        };
        assert_eq!(codes(&[]), ["required"]);
        assert_eq!(codes(&[3, 1]), ["not_ascending"]);
        assert_eq!(codes(&[1, 1]), ["not_ascending"]);
        assert_eq!(codes(&[0, 61]), ["out_of_range"]);
        assert_eq!(codes(&(1..=13).collect::<Vec<_>>()), ["too_many"]);
        assert_eq!(parse_months("1, 3;6 12").unwrap(), [1, 3, 6, 12]);
        let e = parse_months("1, three").unwrap_err();
        assert_eq!(e.errors[0].field, "months");
        assert_eq!(e.errors[0].code, "not_a_number");
        // A case may have up to 24 follow-ups, an organisation default 12.
        assert!(validate_months(&(1..=13).collect::<Vec<_>>()).is_ok());
    }

    #[test]
    fn case_schedule_overrides_the_organisation_default() {
        let org = [2u32, 4];
        let case = [1u32];
        assert_eq!(
            effective_months(Some(&case), Some(&org)),
            (vec![1], ScheduleSource::Case)
        );
        assert_eq!(
            effective_months(None, Some(&org)),
            (vec![2, 4], ScheduleSource::Organisation)
        );
        assert_eq!(
            effective_months(None, None),
            (DEFAULT_MONTHS.to_vec(), ScheduleSource::Default)
        );
    }

    #[test]
    fn every_flag_maps_to_a_plan_domain() {
        for r in RULES {
            assert!(
                crate::assistance::NeedDomain::parse(r.domain).is_ok(),
                "{}",
                r.code
            );
            assert!(is_flag_code(r.code));
            assert_eq!(flag_action(r.code), Some(r.action));
        }
        assert!(!is_flag_code("bogus"));
    }

    fn any_answers() -> impl Strategy<Value = Answers> {
        let per_question: Vec<_> = QUESTIONS
            .iter()
            .map(|q| {
                let codes: Vec<String> = q.codes.iter().map(|c| (*c).to_string()).collect();
                let max = match q.kind {
                    QuestionKind::Single { .. } => 1,
                    QuestionKind::Multi => codes.len(),
                };
                proptest::option::of(proptest::sample::subsequence(codes, 1..=max))
                    .prop_map(move |v| (q.key, v))
            })
            .collect();
        per_question.prop_map(|v| {
            v.into_iter()
                .filter_map(|(k, a)| a.map(|a| (k.to_string(), a)))
                .collect()
        })
    }

    proptest! {
        /// Months are accepted exactly when they are 1..=60, strictly ascending, not empty
        /// and at most 12 (organisation) / 24 (case).
        #[test]
        fn schedules_are_accepted_exactly_when_valid(
            months in proptest::collection::vec(0u32..70, 0..16),
        ) {
            let valid = |max: usize| !months.is_empty()
                && months.len() <= max
                && months.iter().all(|m| (1..=60).contains(m))
                && months.windows(2).all(|w| w[0] < w[1]);
            prop_assert_eq!(validate_org_months(&months).is_ok(), valid(12));
            prop_assert_eq!(validate_months(&months).is_ok(), valid(24));
        }

        /// Random answers pass validation; every flag's reasons are answers actually given;
        /// removing one of a flag's reasons removes that flag (no hidden inputs).
        #[test]
        fn flags_are_explained_by_the_answers(a in any_answers()) {
            prop_assert!(validate_answers(&a).is_ok());
            for f in risk_flags(&a) {
                prop_assert!(!f.reasons.is_empty());
                for (k, c) in &f.reasons {
                    prop_assert!(a.get(k).is_some_and(|v| v.contains(c)));
                }
                let (k, _) = &f.reasons[0];
                let mut changed = a.clone();
                changed.remove(k);
                prop_assert!(risk_flags(&changed).iter().all(|g| g.code != f.code));
            }
        }
    }

    fn any_rules() -> impl Strategy<Value = ContactRules> {
        let window = (1u8..=7, 0u16..1440, 1u16..600).prop_map(|(d, s, len)| Window {
            weekday: d,
            start_min: s,
            end_min: (s + len).min(1440),
        });
        (
            proptest::sample::subsequence(Channel::ALL.to_vec(), 0..=5),
            proptest::collection::vec(window, 0..5),
            -720i32..=840,
            any::<bool>(),
            proptest::option::of(0u128..3),
        )
            .prop_map(|(channels, windows, off, dnc, caller)| ContactRules {
                channels,
                windows,
                utc_offset_min: off,
                do_not_contact: dnc,
                caller: caller.map(Uuid::from_u128),
                language: "az".into(),
            })
    }

    proptest! {
        /// Nothing outside the safe windows/channels, by another caller, or with do-not-contact
        /// set passes the check (so it cannot be scheduled).
        #[test]
        fn nothing_outside_the_protocol_passes(
            r in any_rules(),
            ch in proptest::sample::select(Channel::ALL.to_vec()),
            secs in 1_700_000_000i64..1_900_000_000,
            caller in 0u128..3,
        ) {
            let when = OffsetDateTime::from_unix_timestamp(secs).unwrap();
            let caller = Uuid::from_u128(caller);
            let ok = check_contact(&r, ch, when, caller).is_ok();
            let local = when.to_offset(UtcOffset::from_whole_seconds(r.utc_offset_min * 60).unwrap());
            let minute = u16::from(local.hour()) * 60 + u16::from(local.minute());
            let in_window = r.windows.iter().any(|w| w.weekday == local.weekday().number_from_monday()
                && w.start_min <= minute && minute < w.end_min);
            let expected = !r.do_not_contact && r.channels.contains(&ch) && in_window
                && r.caller.is_none_or(|c| c == caller);
            prop_assert_eq!(ok, expected);
            if r.do_not_contact || r.channels.is_empty() || r.windows.is_empty() {
                prop_assert!(!ok);
            }
        }
    }
}
