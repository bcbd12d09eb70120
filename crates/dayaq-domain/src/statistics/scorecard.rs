//! The action-plan scorecard (issue #15 §3). Pure: an indicators file in, facts in, one line
//! per indicator out (value, numerator, denominator, traffic light).
//!
//! - The indicators come from a TOML file under version control (`config/indicators.toml`,
//!   built in as [`DEFAULT_INDICATORS`]; a deployment may name another). [`IndicatorSet::parse`]
//!   checks it and names the indicator and the field of every problem ([`ConfigError`]).
//! - Each indicator computes one of the known [`Metric`]s from the facts storage reads
//!   ([`ScoreFacts`]: timings per case, shelter refusals, the directory's coverage), or takes
//!   the yearly value the national coordinator entered with its source (`manual`).
//! - [`light`] is the traffic-light rule: green at or beyond the target (in the indicator's
//!   direction), amber within the tolerance, red otherwise, grey without data.
//!
//! Counting rules are in docs/STATISTICS.md, section "Scorecard".

use super::{DecisionFact, PersonKey};
use crate::assistance::ActionStatus;
use crate::error::{FieldError, ValidationErrors};
use crate::referral::DeclineReason;
use crate::vocab::TraffickingStatus;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::{Date, Duration, OffsetDateTime};

/// The built-in indicators file (`config/indicators.toml` at the repository root).
pub const DEFAULT_INDICATORS: &str = include_str!("../../../../config/indicators.toml");

/// The services a region needs a provider of (`regions_without_provider`).
pub const REQUIRED_SERVICES: &[&str] = &[
    "Shelter",
    "Medical",
    "PsychologicalCounselling",
    "LegalConsultation",
];

/// What an indicator computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    DaysToDecisionMedian,
    DaysToDecisionP90,
    NeedsAssessmentWithin14Days,
    PlanApprovedWithin30Days,
    AllowancePaidWithin30Days,
    ReferralsAnsweredWithin72Hours,
    LongTermGoalsDone,
    ReachedAt12Months,
    StateShelterRefusals,
    RegionsWithoutProvider,
    /// A yearly value entered by the national coordinator with its source.
    Manual,
}

impl Metric {
    pub const ALL: &'static [Metric] = &[
        Metric::DaysToDecisionMedian,
        Metric::DaysToDecisionP90,
        Metric::NeedsAssessmentWithin14Days,
        Metric::PlanApprovedWithin30Days,
        Metric::AllowancePaidWithin30Days,
        Metric::ReferralsAnsweredWithin72Hours,
        Metric::LongTermGoalsDone,
        Metric::ReachedAt12Months,
        Metric::StateShelterRefusals,
        Metric::RegionsWithoutProvider,
        Metric::Manual,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Metric::DaysToDecisionMedian => "days_to_decision_median",
            Metric::DaysToDecisionP90 => "days_to_decision_p90",
            Metric::NeedsAssessmentWithin14Days => "needs_assessment_within_14_days",
            Metric::PlanApprovedWithin30Days => "plan_approved_within_30_days",
            Metric::AllowancePaidWithin30Days => "allowance_paid_within_30_days",
            Metric::ReferralsAnsweredWithin72Hours => "referrals_answered_within_72_hours",
            Metric::LongTermGoalsDone => "long_term_goals_done",
            Metric::ReachedAt12Months => "reached_at_12_months",
            Metric::StateShelterRefusals => "state_shelter_refusals",
            Metric::RegionsWithoutProvider => "regions_without_provider",
            Metric::Manual => "manual",
        }
    }

    pub fn parse(s: &str) -> Option<Metric> {
        Metric::ALL.iter().copied().find(|m| m.name() == s)
    }

    pub fn unit(self) -> Unit {
        match self {
            Metric::DaysToDecisionMedian | Metric::DaysToDecisionP90 => Unit::Days,
            Metric::NeedsAssessmentWithin14Days
            | Metric::PlanApprovedWithin30Days
            | Metric::AllowancePaidWithin30Days
            | Metric::ReferralsAnsweredWithin72Hours
            | Metric::LongTermGoalsDone
            | Metric::ReachedAt12Months => Unit::Percent,
            Metric::StateShelterRefusals | Metric::RegionsWithoutProvider => Unit::Count,
            Metric::Manual => Unit::Value,
        }
    }
}

/// How a value reads: days, a percentage (numerator / denominator × 100), a count, or a value
/// entered as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Days,
    Percent,
    Count,
    Value,
}

impl Unit {
    pub fn name(self) -> &'static str {
        match self {
            Unit::Days => "days",
            Unit::Percent => "percent",
            Unit::Count => "count",
            Unit::Value => "value",
        }
    }
}

/// Which way is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Higher,
    Lower,
}

impl Direction {
    pub fn name(self) -> &'static str {
        match self {
            Direction::Higher => "higher",
            Direction::Lower => "lower",
        }
    }
}

/// The traffic light of one indicator in one year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Light {
    Grey,
    Red,
    Amber,
    Green,
}

impl Light {
    pub fn name(self) -> &'static str {
        match self {
            Light::Grey => "grey",
            Light::Red => "red",
            Light::Amber => "amber",
            Light::Green => "green",
        }
    }
}

/// The traffic-light rule: green at or beyond the target in the indicator's direction, amber
/// within `tolerance` of it, red beyond; grey when there is no value.
pub fn light(value: Option<f64>, target: f64, tolerance: f64, direction: Direction) -> Light {
    let Some(v) = value.filter(|v| v.is_finite()) else {
        return Light::Grey;
    };
    // Distance short of the target (positive = worse than the target).
    let short = match direction {
        Direction::Higher => target - v,
        Direction::Lower => v - target,
    };
    if short <= 0.0 {
        Light::Green
    } else if short <= tolerance {
        Light::Amber
    } else {
        Light::Red
    }
}

/// A text in the three languages of the screens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub az: String,
    pub ru: String,
    pub en: String,
}

impl Text {
    /// The text in `lang` (`az`, `ru`, `en`; anything else gives Azerbaijani).
    pub fn get(&self, lang: &str) -> &str {
        match lang {
            "ru" => &self.ru,
            "en" => &self.en,
            _ => &self.az,
        }
    }
}

/// One checked indicator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Indicator {
    pub id: String,
    pub metric: Metric,
    pub name: Text,
    pub definition: Text,
    pub target: f64,
    pub tolerance: f64,
    pub direction: Direction,
}

impl Indicator {
    pub fn unit(&self) -> Unit {
        self.metric.unit()
    }
}

/// A problem in an indicators file: which indicator (its id, or `#n` for the n-th entry, or
/// `(file)`), which field, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("indicator {indicator}: field {field}: {message}")]
pub struct ConfigError {
    pub indicator: String,
    pub field: String,
    pub message: String,
}

fn cfg_err(indicator: &str, field: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        indicator: indicator.to_string(),
        field: field.to_string(),
        message: message.into(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIndicator {
    id: String,
    metric: String,
    name: Text,
    definition: Text,
    target: f64,
    direction: String,
    #[serde(default)]
    tolerance: f64,
}

/// The first name in backticks of a serde message (`missing field `target``), else `entry`.
fn field_in(message: &str) -> String {
    let mut parts = message.split('`');
    match (parts.next(), parts.next()) {
        (Some(_), Some(f)) if !f.is_empty() => f.to_string(),
        _ => "entry".to_string(),
    }
}

/// The checked list of indicators, in the file's order.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct IndicatorSet {
    pub indicators: Vec<Indicator>,
}

impl IndicatorSet {
    /// The built-in set (`config/indicators.toml`). A unit test proves it parses.
    pub fn builtin() -> Result<IndicatorSet, ConfigError> {
        IndicatorSet::parse(DEFAULT_INDICATORS)
    }

    pub fn get(&self, id: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.id == id)
    }

    /// Parses and checks an indicators file; the first problem is returned, naming the
    /// indicator and the field.
    pub fn parse(text: &str) -> Result<IndicatorSet, ConfigError> {
        let root: toml::Value = text
            .parse()
            .map_err(|e: toml::de::Error| cfg_err("(file)", "syntax", e.to_string()))?;
        let table = root
            .as_table()
            .ok_or_else(|| cfg_err("(file)", "indicator", "the file must be a TOML table"))?;
        if let Some(k) = table.keys().find(|k| k.as_str() != "indicator") {
            return Err(cfg_err(
                "(file)",
                k,
                "unknown key: the file holds [[indicator]] entries only",
            ));
        }
        let entries = table
            .get("indicator")
            .and_then(|v| v.as_array())
            .filter(|a| !a.is_empty())
            .ok_or_else(|| {
                cfg_err(
                    "(file)",
                    "indicator",
                    "the file needs at least one [[indicator]] entry",
                )
            })?;
        let mut out: Vec<Indicator> = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let label = entry
                .get("id")
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .unwrap_or_else(|| format!("#{}", i + 1));
            let raw: RawIndicator = entry.clone().try_into().map_err(|e: toml::de::Error| {
                let msg = e.to_string();
                cfg_err(&label, &field_in(&msg), msg)
            })?;
            let ind = check(raw)?;
            if out.iter().any(|o| o.id == ind.id) {
                return Err(cfg_err(&ind.id, "id", "another indicator has the same id"));
            }
            out.push(ind);
        }
        Ok(IndicatorSet { indicators: out })
    }
}

fn check(raw: RawIndicator) -> Result<Indicator, ConfigError> {
    let id = raw.id.clone();
    let id_ok = (1..=64).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !id_ok {
        return Err(cfg_err(
            &id,
            "id",
            "use 1 to 64 of a-z, 0-9 and _, starting with a letter",
        ));
    }
    let metric = Metric::parse(&raw.metric).ok_or_else(|| {
        let known: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
        cfg_err(
            &id,
            "metric",
            format!("unknown metric; known: {}", known.join(", ")),
        )
    })?;
    let direction = match raw.direction.as_str() {
        "higher" => Direction::Higher,
        "lower" => Direction::Lower,
        _ => return Err(cfg_err(&id, "direction", "must be \"higher\" or \"lower\"")),
    };
    if !raw.target.is_finite() || raw.target < 0.0 {
        return Err(cfg_err(&id, "target", "must be a number of 0 or more"));
    }
    if metric.unit() == Unit::Percent && raw.target > 100.0 {
        return Err(cfg_err(&id, "target", "a share is at most 100 (percent)"));
    }
    if !raw.tolerance.is_finite() || raw.tolerance < 0.0 {
        return Err(cfg_err(&id, "tolerance", "must be a number of 0 or more"));
    }
    for (field, text, max) in [
        ("name", &raw.name, 200),
        ("definition", &raw.definition, 2000),
    ] {
        for (lang, s) in [("az", &text.az), ("ru", &text.ru), ("en", &text.en)] {
            let n = s.trim().chars().count();
            if n == 0 {
                return Err(cfg_err(&id, &format!("{field}.{lang}"), "is empty"));
            }
            if n > max || s.chars().any(char::is_control) {
                return Err(cfg_err(
                    &id,
                    &format!("{field}.{lang}"),
                    format!("must be one line of at most {max} characters"),
                ));
            }
        }
    }
    Ok(Indicator {
        id,
        metric,
        name: raw.name,
        definition: raw.definition,
        target: raw.target,
        tolerance: raw.tolerance,
        direction,
    })
}

// ---------------------------------------------------------------------------------------
// Facts.

/// A referral made from a case: when, and when it was accepted or declined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferralTiming {
    pub made_at: OffsetDateTime,
    pub answered_at: Option<OffsetDateTime>,
}

/// A goal of a case's assistance plan with the statuses of its actions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoalFact {
    pub long_term: bool,
    pub created_on: Date,
    pub actions: Vec<ActionStatus>,
}

impl GoalFact {
    /// Done: at least one action done and none planned or in progress.
    pub fn done(&self) -> bool {
        self.actions.contains(&ActionStatus::Done)
            && self
                .actions
                .iter()
                .all(|a| matches!(a, ActionStatus::Done | ActionStatus::Cancelled))
    }
}

/// The follow-up plan of a case: the end of short-term assistance and the days a contact
/// reached the survivor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowupFact {
    pub assistance_end: Date,
    pub reached_on: Vec<Date>,
}

/// What the scorecard needs of one (not erased) case. No names, no free text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreCase {
    pub person: PersonKey,
    /// The first contact linked to the case, or the case's opening if earlier.
    pub first_contact: Option<Date>,
    pub decisions: Vec<DecisionFact>,
    pub assessments: Vec<Date>,
    pub plan_approvals: Vec<Date>,
    pub allowance_paid: Vec<Date>,
    pub referrals: Vec<ReferralTiming>,
    pub goals: Vec<GoalFact>,
    pub followup: Option<FollowupFact>,
}

impl ScoreCase {
    pub fn new(person: PersonKey) -> Self {
        Self {
            person,
            first_contact: None,
            decisions: Vec::new(),
            assessments: Vec::new(),
            plan_approvals: Vec::new(),
            allowance_paid: Vec::new(),
            referrals: Vec::new(),
            goals: Vec::new(),
            followup: None,
        }
    }
}

/// A referral for shelter to an organisation that runs a state shelter, answered on `on`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShelterAnswer {
    pub on: Date,
    /// `Some` when it was declined.
    pub refused: Option<DeclineReason>,
}

/// A yearly value entered by the national coordinator.
#[derive(Debug, Clone, PartialEq)]
pub struct ManualValue {
    pub indicator: String,
    pub year: i32,
    pub value: f64,
    pub source: String,
    /// Entry time (UNIX ms): the latest entry of an indicator and year counts.
    pub entered_at: i64,
}

/// Everything the scorecard is computed from.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreFacts {
    pub cases: Vec<ScoreCase>,
    pub shelter_answers: Vec<ShelterAnswer>,
    /// Every region of the directory with the services offered there.
    pub coverage: Vec<(String, Vec<String>)>,
    pub manual: Vec<ManualValue>,
    /// Today (UTC): the directory's coverage is today's, and follow-up windows not yet closed
    /// are left out.
    pub today: Date,
}

// ---------------------------------------------------------------------------------------
// Computation.

/// The result of one indicator in one year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorResult {
    pub year: i32,
    /// `None`: no data (grey).
    pub value: Option<f64>,
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    pub light: Light,
    /// Counts by a closed list of keys (refusal reasons, missing services).
    pub breakdown: Vec<(String, i64)>,
    /// The source of an entered value.
    pub source: Option<String>,
}

/// One line of the scorecard: the indicator, its result in the year and in the two years
/// before.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScorecardRow {
    pub indicator: Indicator,
    pub result: IndicatorResult,
    pub history: Vec<IndicatorResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scorecard {
    pub year: i32,
    pub rows: Vec<ScorecardRow>,
}

/// The median of `v` (the mean of the two middle values for an even count).
pub fn median(v: &[i64]) -> Option<f64> {
    let mut s = v.to_vec();
    s.sort_unstable();
    let n = s.len();
    if n == 0 {
        return None;
    }
    Some(if n % 2 == 1 {
        s[n / 2] as f64
    } else {
        (s[n / 2 - 1] as f64 + s[n / 2] as f64) / 2.0
    })
}

/// The p-th percentile (0 < p ≤ 100) by the nearest-rank method: the smallest value with at
/// least p % of the values at or below it.
pub fn percentile(v: &[i64], p: f64) -> Option<f64> {
    let mut s = v.to_vec();
    s.sort_unstable();
    let n = s.len();
    if n == 0 {
        return None;
    }
    let rank = ((p / 100.0) * n as f64).ceil() as usize;
    let i = rank.clamp(1, n) - 1;
    Some(s[i] as f64)
}

fn share(num: i64, den: i64) -> Option<f64> {
    (den > 0).then(|| (num as f64 * 1000.0 / den as f64).round() / 10.0)
}

/// The person's identification in `year`: the date of the first `ActualVictimOfTrafficking`
/// decision over all her/his cases, when it falls in `year` and the latest decision is not
/// `NotAVictimOfTrafficking` (the national report's rule).
fn identified_in(cases: &[ScoreCase], year: i32) -> Vec<(Date, Vec<&ScoreCase>)> {
    let mut by_person: BTreeMap<&PersonKey, Vec<&ScoreCase>> = BTreeMap::new();
    for c in cases {
        by_person.entry(&c.person).or_default().push(c);
    }
    let mut out = Vec::new();
    for (_, cs) in by_person {
        let mut ds: Vec<&DecisionFact> = cs.iter().flat_map(|c| &c.decisions).collect();
        ds.sort_by_key(|d| (d.decided_on, d.order));
        let first = ds
            .iter()
            .find(|d| d.status == TraffickingStatus::ActualVictimOfTrafficking);
        let reversed = ds
            .last()
            .is_some_and(|d| d.status == TraffickingStatus::NotAVictimOfTrafficking);
        if let Some(d) = first
            && d.decided_on.year() == year
            && !reversed
        {
            out.push((d.decided_on, cs));
        }
    }
    out
}

/// `d` plus whole months (the last day of a shorter month when the day does not exist).
fn add_months(d: Date, months: i32) -> Date {
    let total = d.year() * 12 + (d.month() as i32 - 1) + months;
    let (y, m0) = (total.div_euclid(12), total.rem_euclid(12));
    let month = time::Month::try_from((m0 + 1) as u8).unwrap_or(time::Month::January);
    let mut day = d.day();
    loop {
        if let Ok(x) = Date::from_calendar_date(y, month, day) {
            return x;
        }
        if day <= 28 {
            return d;
        }
        day -= 1;
    }
}

struct Computed {
    value: Option<f64>,
    numerator: Option<i64>,
    denominator: Option<i64>,
    breakdown: Vec<(String, i64)>,
    source: Option<String>,
}

impl Computed {
    fn ratio(num: i64, den: i64) -> Computed {
        Computed {
            value: share(num, den),
            numerator: Some(num),
            denominator: Some(den),
            breakdown: Vec::new(),
            source: None,
        }
    }
}

fn within_days(
    cohort: &[(Date, Vec<&ScoreCase>)],
    days: i64,
    f: fn(&ScoreCase) -> &[Date],
) -> Computed {
    let den = cohort.len() as i64;
    let num = cohort
        .iter()
        .filter(|(d, cs)| {
            let limit = *d + Duration::days(days);
            cs.iter().any(|c| f(c).iter().any(|x| *x <= limit))
        })
        .count() as i64;
    Computed::ratio(num, den)
}

fn compute(ind: &Indicator, facts: &ScoreFacts, year: i32) -> Computed {
    let none = Computed {
        value: None,
        numerator: None,
        denominator: None,
        breakdown: Vec::new(),
        source: None,
    };
    match ind.metric {
        Metric::DaysToDecisionMedian | Metric::DaysToDecisionP90 => {
            let days: Vec<i64> = identified_in(&facts.cases, year)
                .iter()
                .filter_map(|(d, cs)| {
                    let first = cs.iter().filter_map(|c| c.first_contact).min()?;
                    Some((*d - first).whole_days().max(0))
                })
                .collect();
            let value = if ind.metric == Metric::DaysToDecisionMedian {
                median(&days)
            } else {
                percentile(&days, 90.0)
            };
            Computed {
                value,
                numerator: None,
                denominator: Some(days.len() as i64),
                ..none
            }
        }
        Metric::NeedsAssessmentWithin14Days => {
            within_days(&identified_in(&facts.cases, year), 14, |c| &c.assessments)
        }
        Metric::PlanApprovedWithin30Days => {
            within_days(&identified_in(&facts.cases, year), 30, |c| {
                &c.plan_approvals
            })
        }
        Metric::AllowancePaidWithin30Days => {
            within_days(&identified_in(&facts.cases, year), 30, |c| {
                &c.allowance_paid
            })
        }
        Metric::ReferralsAnsweredWithin72Hours => {
            let made: Vec<&ReferralTiming> = facts
                .cases
                .iter()
                .flat_map(|c| &c.referrals)
                .filter(|r| r.made_at.year() == year)
                .collect();
            let num = made
                .iter()
                .filter(|r| {
                    r.answered_at
                        .is_some_and(|a| a - r.made_at <= Duration::hours(72))
                })
                .count() as i64;
            Computed::ratio(num, made.len() as i64)
        }
        Metric::LongTermGoalsDone => {
            let goals: Vec<&GoalFact> = facts
                .cases
                .iter()
                .flat_map(|c| &c.goals)
                .filter(|g| g.long_term && g.created_on.year() == year)
                .collect();
            let num = goals.iter().filter(|g| g.done()).count() as i64;
            Computed::ratio(num, goals.len() as i64)
        }
        Metric::ReachedAt12Months => {
            let (mut num, mut den) = (0, 0);
            for f in facts.cases.iter().filter_map(|c| c.followup.as_ref()) {
                let due = add_months(f.assistance_end, 12);
                if due.year() != year {
                    continue;
                }
                let (from, to) = (due - Duration::days(30), due + Duration::days(30));
                let reached = f.reached_on.iter().any(|d| (from..=to).contains(d));
                if reached {
                    num += 1;
                    den += 1;
                } else if to < facts.today {
                    den += 1;
                }
            }
            Computed::ratio(num, den)
        }
        Metric::StateShelterRefusals => {
            let answered: Vec<&ShelterAnswer> = facts
                .shelter_answers
                .iter()
                .filter(|a| a.on.year() == year)
                .collect();
            if answered.is_empty() {
                return none;
            }
            let breakdown: Vec<(String, i64)> = DeclineReason::ALL
                .iter()
                .map(|r| {
                    let n = answered.iter().filter(|a| a.refused == Some(*r)).count() as i64;
                    (r.code().to_string(), n)
                })
                .collect();
            let num: i64 = breakdown.iter().map(|(_, n)| n).sum();
            Computed {
                value: Some(num as f64),
                numerator: Some(num),
                denominator: Some(answered.len() as i64),
                breakdown,
                source: None,
            }
        }
        Metric::RegionsWithoutProvider => {
            if year != facts.today.year() || facts.coverage.is_empty() {
                return none;
            }
            let lacking = |r: &(String, Vec<String>)| {
                REQUIRED_SERVICES
                    .iter()
                    .any(|s| !r.1.iter().any(|o| o == s))
            };
            let num = facts.coverage.iter().filter(|r| lacking(r)).count() as i64;
            let breakdown = REQUIRED_SERVICES
                .iter()
                .map(|s| {
                    let n = facts
                        .coverage
                        .iter()
                        .filter(|r| !r.1.iter().any(|o| o == s))
                        .count() as i64;
                    (s.to_string(), n)
                })
                .collect();
            Computed {
                value: Some(num as f64),
                numerator: Some(num),
                denominator: Some(facts.coverage.len() as i64),
                breakdown,
                source: None,
            }
        }
        Metric::Manual => {
            let latest = facts
                .manual
                .iter()
                .filter(|m| m.indicator == ind.id && m.year == year)
                .max_by_key(|m| m.entered_at);
            match latest {
                Some(m) => Computed {
                    value: Some(m.value),
                    source: Some(m.source.clone()),
                    ..none
                },
                None => none,
            }
        }
    }
}

/// The result of `ind` in `year`.
pub fn indicator_result(ind: &Indicator, facts: &ScoreFacts, year: i32) -> IndicatorResult {
    let c = compute(ind, facts, year);
    IndicatorResult {
        year,
        value: c.value,
        numerator: c.numerator,
        denominator: c.denominator,
        light: light(c.value, ind.target, ind.tolerance, ind.direction),
        breakdown: c.breakdown,
        source: c.source,
    }
}

/// The scorecard of `year`, with each indicator's results of the two years before.
pub fn scorecard(set: &IndicatorSet, facts: &ScoreFacts, year: i32) -> Scorecard {
    Scorecard {
        year,
        rows: set
            .indicators
            .iter()
            .map(|ind| ScorecardRow {
                indicator: ind.clone(),
                result: indicator_result(ind, facts, year),
                history: (year - 2..year)
                    .map(|y| indicator_result(ind, facts, y))
                    .collect(),
            })
            .collect(),
    }
}

// ---------------------------------------------------------------------------------------
// Entered values.

/// A yearly value to enter, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidManualValue {
    pub indicator: String,
    pub year: i32,
    pub value: f64,
    pub source: String,
}

/// Checks an entered value: the indicator exists and takes entered values, the year is from
/// 1990 to `this_year`, the value is a number from 0 to 1e9, the source is given (one line, at
/// most 500 characters). Every problem names its field.
pub fn validate_manual(
    set: &IndicatorSet,
    indicator: &str,
    year: Option<i64>,
    value: Option<f64>,
    source: &str,
    this_year: i32,
) -> Result<ValidManualValue, ValidationErrors> {
    let mut errs = ValidationErrors::default();
    let indicator = indicator.trim();
    match set.get(indicator) {
        None if indicator.is_empty() => errs.push(FieldError::new(
            "indicator",
            "required",
            "choose an indicator",
        )),
        None => errs.push(FieldError::new(
            "indicator",
            "unknown",
            "is not an indicator of the scorecard",
        )),
        Some(i) if i.metric != Metric::Manual => errs.push(FieldError::new(
            "indicator",
            "invalid_value",
            "this indicator is computed from the data",
        )),
        Some(_) => {}
    }
    let year = match year {
        None => {
            errs.push(FieldError::new("year", "required", "the year is required"));
            0
        }
        Some(y) if !(1990..=i64::from(this_year)).contains(&y) => {
            errs.push(FieldError::new(
                "year",
                "out_of_range",
                "the year must be from 1990 to the current year",
            ));
            0
        }
        Some(y) => y as i32,
    };
    let value = match value {
        None => {
            errs.push(FieldError::new(
                "value",
                "required",
                "the value is required",
            ));
            0.0
        }
        Some(v) if !v.is_finite() || !(0.0..=1e9).contains(&v) => {
            errs.push(FieldError::new(
                "value",
                "out_of_range",
                "the value must be a number from 0 to 1000000000",
            ));
            0.0
        }
        Some(v) => v,
    };
    let source = source.trim();
    if source.is_empty() {
        errs.push(FieldError::new("source", "required", "name the source"));
    } else if source.chars().count() > 500 {
        errs.push(FieldError::new(
            "source",
            "too_long",
            "at most 500 characters",
        ));
    } else if source.chars().any(char::is_control) {
        errs.push(FieldError::new(
            "source",
            "control_characters",
            "one line of text",
        ));
    }
    errs.into_result()?;
    Ok(ValidManualValue {
        indicator: indicator.to_string(),
        year,
        value,
        source: source.to_string(),
    })
}

/// A number typed into a form ("12", "3.5", "3,5"); `None` for anything else.
pub fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim().replace(',', ".");
    if s.is_empty()
        || !s
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
    {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::DecisionMakingOrg;
    use proptest::prelude::*;
    use time::macros::{date, datetime};

    fn set() -> IndicatorSet {
        IndicatorSet::builtin().unwrap()
    }

    #[test]
    fn the_builtin_file_parses_and_covers_every_metric() {
        let s = set();
        for m in Metric::ALL {
            assert!(
                s.indicators.iter().any(|i| i.metric == *m),
                "no default indicator for {}",
                m.name()
            );
        }
        assert_eq!(s.indicators.len(), 12);
    }

    fn one(extra: &str) -> String {
        format!(
            "[[indicator]]\nid = \"a\"\nmetric = \"manual\"\ntarget = 1\ndirection = \"higher\"\n\
             name = {{ az = \"a\", ru = \"б\", en = \"a\" }}\n\
             definition = {{ az = \"a\", ru = \"б\", en = \"a\" }}\n{extra}"
        )
    }

    #[test]
    fn bad_files_name_the_indicator_and_the_field() {
        let e = IndicatorSet::parse(&one("")).map(|s| s.indicators.len());
        assert_eq!(e, Ok(1));
        let cases: Vec<(String, &str, &str)> = vec![
            (one("colour = 1\n"), "a", "colour"),
            (
                one("").replace("metric = \"manual\"", "metric = \"speed\""),
                "a",
                "metric",
            ),
            (one("").replace("\"higher\"", "\"up\""), "a", "direction"),
            (one("").replace("target = 1", "target = -1"), "a", "target"),
            (one("").replace("target = 1\n", ""), "a", "target"),
            (one("tolerance = -2\n"), "a", "tolerance"),
            (
                one("").replace(
                    "ru = \"б\", en = \"a\" }\ndef",
                    "ru = \"\", en = \"a\" }\ndef",
                ),
                "a",
                "name.ru",
            ),
            (format!("{}\n{}", one(""), one("")), "a", "id"),
            (one("").replace("id = \"a\"", "id = \"A-1\""), "A-1", "id"),
            (one("").replace("id = \"a\"\n", ""), "#1", "id"),
            ("title = \"x\"\n".to_string(), "(file)", "title"),
            ("".to_string(), "(file)", "indicator"),
            ("[[indicator]\n".to_string(), "(file)", "syntax"),
        ];
        for (text, ind, field) in cases {
            let e = IndicatorSet::parse(&text).unwrap_err();
            assert_eq!(
                (e.indicator.as_str(), e.field.as_str()),
                (ind, field),
                "{e}"
            );
            assert!(e.to_string().contains(field));
        }
        // A share above 100 %.
        let text = one("")
            .replace("metric = \"manual\"", "metric = \"long_term_goals_done\"")
            .replace("target = 1", "target = 120");
        assert_eq!(IndicatorSet::parse(&text).unwrap_err().field, "target");
    }

    #[test]
    fn median_and_p90_by_hand() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[7]), Some(7.0));
        assert_eq!(median(&[9, 1, 5]), Some(5.0));
        assert_eq!(median(&[4, 1, 3, 2]), Some(2.5));
        assert_eq!(percentile(&[], 90.0), None);
        assert_eq!(percentile(&[3], 90.0), Some(3.0));
        // 10 values 1..=10: rank ceil(9) = 9 → 9; 11 values: rank ceil(9.9) = 10 → 10.
        assert_eq!(percentile(&(1..=10).collect::<Vec<_>>(), 90.0), Some(9.0));
        assert_eq!(
            percentile(&(1..=11).rev().collect::<Vec<_>>(), 90.0),
            Some(10.0)
        );
        assert_eq!(percentile(&[10, 20, 30, 40], 90.0), Some(40.0));
    }

    #[test]
    fn lights_by_hand() {
        use Direction::*;
        assert_eq!(light(None, 90.0, 10.0, Higher), Light::Grey);
        assert_eq!(light(Some(90.0), 90.0, 10.0, Higher), Light::Green);
        assert_eq!(light(Some(80.0), 90.0, 10.0, Higher), Light::Amber);
        assert_eq!(light(Some(79.9), 90.0, 10.0, Higher), Light::Red);
        assert_eq!(light(Some(30.0), 30.0, 15.0, Lower), Light::Green);
        assert_eq!(light(Some(45.0), 30.0, 15.0, Lower), Light::Amber);
        assert_eq!(light(Some(46.0), 30.0, 15.0, Lower), Light::Red);
        assert_eq!(light(Some(f64::NAN), 30.0, 15.0, Lower), Light::Grey);
    }

    fn dec(status: TraffickingStatus, on: Date) -> DecisionFact {
        DecisionFact {
            status,
            decided_on: on,
            order: 0,
            decision_making_org: DecisionMakingOrg::Police,
        }
    }

    #[test]
    fn a_small_year_by_hand() {
        use TraffickingStatus::*;
        let mut p1 = ScoreCase::new(PersonKey::new("p1"));
        p1.first_contact = Some(date!(2025 - 01 - 01));
        p1.decisions = vec![dec(ActualVictimOfTrafficking, date!(2025 - 01 - 11))];
        p1.assessments = vec![date!(2025 - 01 - 20)];
        p1.plan_approvals = vec![date!(2025 - 03 - 01)];
        p1.referrals = vec![ReferralTiming {
            made_at: datetime!(2025-02-01 10:00 UTC),
            answered_at: Some(datetime!(2025-02-04 10:00 UTC)),
        }];
        p1.goals = vec![
            GoalFact {
                long_term: true,
                created_on: date!(2025 - 02 - 01),
                actions: vec![ActionStatus::Done, ActionStatus::Cancelled],
            },
            GoalFact {
                long_term: true,
                created_on: date!(2025 - 02 - 01),
                actions: vec![ActionStatus::Done, ActionStatus::InProgress],
            },
        ];
        let mut p2 = ScoreCase::new(PersonKey::new("p2"));
        p2.first_contact = Some(date!(2025 - 01 - 01));
        p2.decisions = vec![dec(ActualVictimOfTrafficking, date!(2025 - 02 - 01))];
        p2.allowance_paid = vec![date!(2025 - 02 - 10)];
        p2.referrals = vec![ReferralTiming {
            made_at: datetime!(2025-02-01 10:00 UTC),
            answered_at: Some(datetime!(2025-02-04 10:01 UTC)),
        }];
        p2.followup = Some(FollowupFact {
            assistance_end: date!(2024 - 03 - 01),
            reached_on: vec![date!(2025 - 03 - 20)],
        });
        // Reversed: counts nowhere.
        let mut p3 = ScoreCase::new(PersonKey::new("p3"));
        p3.first_contact = Some(date!(2024 - 01 - 01));
        p3.decisions = vec![
            dec(ActualVictimOfTrafficking, date!(2025 - 01 - 05)),
            dec(NotAVictimOfTrafficking, date!(2025 - 03 - 05)),
        ];
        let facts = ScoreFacts {
            cases: vec![p1, p2, p3],
            shelter_answers: vec![
                ShelterAnswer {
                    on: date!(2025 - 04 - 01),
                    refused: Some(DeclineReason::NoCapacity),
                },
                ShelterAnswer {
                    on: date!(2025 - 04 - 02),
                    refused: None,
                },
            ],
            coverage: vec![
                (
                    "Baku".into(),
                    REQUIRED_SERVICES.iter().map(|s| s.to_string()).collect(),
                ),
                ("Ganja".into(), vec!["Medical".into()]),
            ],
            manual: vec![
                ManualValue {
                    indicator: "trainings_held".into(),
                    year: 2025,
                    value: 3.0,
                    source: "old".into(),
                    entered_at: 1,
                },
                ManualValue {
                    indicator: "trainings_held".into(),
                    year: 2025,
                    value: 14.0,
                    source: "Ministry report".into(),
                    entered_at: 2,
                },
            ],
            today: date!(2025 - 06 - 01),
        };
        let card = scorecard(&set(), &facts, 2025);
        let r = |id: &str| {
            card.rows
                .iter()
                .find(|r| r.indicator.id == id)
                .unwrap()
                .result
                .clone()
        };
        // Days 10 and 31: median 20.5 (green ≤ 30), p90 31 (green ≤ 60).
        assert_eq!(r("days_to_decision_median").value, Some(20.5));
        assert_eq!(r("days_to_decision_median").light, Light::Green);
        assert_eq!(r("days_to_decision_p90").value, Some(31.0));
        assert_eq!(r("days_to_decision_p90").denominator, Some(2));
        let n = r("needs_assessment_14_days");
        assert_eq!(
            (n.numerator, n.denominator, n.value),
            (Some(1), Some(2), Some(50.0))
        );
        assert_eq!(n.light, Light::Red);
        let p = r("plan_approved_30_days");
        assert_eq!((p.numerator, p.denominator), (Some(0), Some(2)));
        let a = r("allowance_paid_30_days");
        assert_eq!((a.numerator, a.denominator), (Some(1), Some(2)));
        let rf = r("referrals_answered_72h");
        assert_eq!((rf.numerator, rf.denominator), (Some(1), Some(2)));
        let g = r("long_term_goals_done");
        assert_eq!(
            (g.numerator, g.denominator, g.light),
            (Some(1), Some(2), Light::Green)
        );
        let f = r("reached_at_12_months");
        assert_eq!((f.numerator, f.denominator), (Some(1), Some(1)));
        let s = r("state_shelter_refusals");
        assert_eq!(
            (s.numerator, s.denominator, s.light),
            (Some(1), Some(2), Light::Amber)
        );
        assert_eq!(s.breakdown[0], ("no_capacity".to_string(), 1));
        let g = r("regions_without_provider");
        assert_eq!((g.numerator, g.denominator), (Some(1), Some(2)));
        let t = r("trainings_held");
        assert_eq!(
            (t.value, t.source.as_deref(), t.light),
            (Some(14.0), Some("Ministry report"), Light::Green)
        );
        assert_eq!(r("laws_passed").light, Light::Grey);
        // The year before has no data for computed shares.
        let row = card
            .rows
            .iter()
            .find(|r| r.indicator.id == "needs_assessment_14_days")
            .unwrap();
        assert_eq!(row.history.len(), 2);
        assert!(row.history.iter().all(|h| h.light == Light::Grey));
        // Regions: today's directory only.
        assert_eq!(
            scorecard(&set(), &facts, 2024).rows[9].result.light,
            Light::Grey
        );
    }

    #[test]
    fn entered_values_name_the_field() {
        let s = set();
        let ok = validate_manual(
            &s,
            "trainings_held",
            Some(2025),
            Some(4.0),
            " Ministry ",
            2025,
        );
        assert_eq!(ok.unwrap().source, "Ministry");
        let fields = |r: Result<ValidManualValue, ValidationErrors>| {
            r.unwrap_err()
                .errors
                .into_iter()
                .map(|e| (e.field, e.code))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            fields(validate_manual(
                &s,
                "needs_assessment_14_days",
                Some(2025),
                Some(1.0),
                "x",
                2025
            )),
            vec![("indicator".to_string(), "invalid_value")]
        );
        assert_eq!(
            fields(validate_manual(
                &s,
                "nope",
                Some(2030),
                Some(-1.0),
                "",
                2025
            )),
            vec![
                ("indicator".to_string(), "unknown"),
                ("year".to_string(), "out_of_range"),
                ("value".to_string(), "out_of_range"),
                ("source".to_string(), "required"),
            ]
        );
        assert_eq!(parse_number("3,5"), Some(3.5));
        assert_eq!(parse_number("1e400"), None);
        assert_eq!(parse_number("abc"), None);
    }

    fn rank(l: Light) -> u8 {
        match l {
            Light::Grey => 0,
            Light::Red => 1,
            Light::Amber => 2,
            Light::Green => 3,
        }
    }

    proptest! {
        /// For a given direction, a better value never gets a worse light.
        #[test]
        fn light_is_monotone(a in -1000.0f64..1000.0, b in -1000.0f64..1000.0,
                             target in 0.0f64..500.0, tol in 0.0f64..100.0, higher in any::<bool>()) {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            let d = if higher { Direction::Higher } else { Direction::Lower };
            let (l_lo, l_hi) = (light(Some(lo), target, tol, d), light(Some(hi), target, tol, d));
            prop_assert!(l_lo != Light::Grey && l_hi != Light::Grey);
            if higher {
                prop_assert!(rank(l_lo) <= rank(l_hi));
            } else {
                prop_assert!(rank(l_lo) >= rank(l_hi));
            }
        }

        /// The median splits the values in halves; the p90 has at least 90 % at or below it
        /// and is one of the values.
        #[test]
        fn median_and_p90_properties(v in proptest::collection::vec(0i64..1000, 1..60)) {
            let m = median(&v).unwrap();
            let below = v.iter().filter(|x| (**x as f64) < m).count();
            let above = v.iter().filter(|x| (**x as f64) > m).count();
            prop_assert!(below * 2 <= v.len() && above * 2 <= v.len());
            let p = percentile(&v, 90.0).unwrap();
            prop_assert!(v.iter().any(|x| *x as f64 == p));
            let at_or_below = v.iter().filter(|x| (**x as f64) <= p).count();
            prop_assert!(at_or_below * 10 >= v.len() * 9);
            let strictly_below = v.iter().filter(|x| (**x as f64) < p).count();
            prop_assert!(strictly_below * 10 < v.len() * 9);
        }
    }
}
