//! The rules file (`config/alert_rules.toml`): thresholds and working hours.

use super::Severity;
use serde::Deserialize;
use time::{OffsetDateTime, UtcOffset, Weekday};
use uuid::Uuid;

/// The built-in rules file.
pub const DEFAULT_ALERT_RULES: &str = include_str!("../../../../config/alert_rules.toml");

/// A rules file that cannot be used (the message names the key; it holds no data).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error("alert rules: {0}")]
    Syntax(String),
    #[error("alert rules: {field}: {reason}")]
    Invalid { field: String, reason: &'static str },
}

fn invalid(field: &str, reason: &'static str) -> RulesError {
    RulesError::Invalid {
        field: field.to_string(),
        reason,
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BreakGlassRule {
    pub severity: Severity,
}

impl Default for BreakGlassRule {
    fn default() -> Self {
        Self {
            severity: Severity::High,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExportRule {
    pub severity: Severity,
}

impl Default for ExportRule {
    fn default() -> Self {
        Self {
            severity: Severity::Medium,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BaselineRule {
    pub factor: f64,
    pub floor: u32,
    pub days: u32,
    pub severity: Severity,
}

impl Default for BaselineRule {
    fn default() -> Self {
        Self {
            factor: 3.0,
            floor: 20,
            days: 28,
            severity: Severity::Medium,
        }
    }
}

/// Working hours as written in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct HoursFile {
    org: Option<String>,
    start: Option<String>,
    end: Option<String>,
    days: Option<Vec<String>>,
    utc_offset_minutes: Option<i32>,
    severity: Option<Severity>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkingHoursFile {
    start: Option<String>,
    end: Option<String>,
    days: Option<Vec<String>>,
    utc_offset_minutes: Option<i32>,
    severity: Option<Severity>,
    #[serde(default)]
    org: Vec<HoursFile>,
}

/// Checked working hours: minutes of the local day `[start, end)` on the listed weekdays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hours {
    pub start_minute: u32,
    pub end_minute: u32,
    /// Monday = 0 … Sunday = 6.
    pub days: [bool; 7],
    pub utc_offset_minutes: i32,
}

impl Default for Hours {
    /// 08:00–19:00, Monday to Saturday, Asia/Baku (UTC+4, no daylight saving).
    fn default() -> Self {
        Self {
            start_minute: 8 * 60,
            end_minute: 19 * 60,
            days: [true, true, true, true, true, true, false],
            utc_offset_minutes: 240,
        }
    }
}

impl Hours {
    pub fn offset(&self) -> UtcOffset {
        UtcOffset::from_whole_seconds(self.utc_offset_minutes * 60).unwrap_or(UtcOffset::UTC)
    }

    /// The local time of `at_ms`.
    pub fn local(&self, at_ms: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(at_ms) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
            .to_offset(self.offset())
    }

    /// Whether `at_ms` falls inside the working hours.
    pub fn within(&self, at_ms: i64) -> bool {
        let t = self.local(at_ms);
        let day = t.weekday().number_days_from_monday() as usize;
        let minute = u32::from(t.hour()) * 60 + u32::from(t.minute());
        self.days.get(day).copied().unwrap_or(false)
            && minute >= self.start_minute
            && minute < self.end_minute
    }
}

fn minute_of(field: &str, s: &str) -> Result<u32, RulesError> {
    let (h, m) = s
        .split_once(':')
        .ok_or_else(|| invalid(field, "expected HH:MM"))?;
    let (h, m) = (
        h.parse::<u32>()
            .map_err(|_| invalid(field, "expected HH:MM"))?,
        m.parse::<u32>()
            .map_err(|_| invalid(field, "expected HH:MM"))?,
    );
    if m >= 60 || h * 60 + m > 24 * 60 {
        return Err(invalid(field, "expected a time from 00:00 to 24:00"));
    }
    Ok(h * 60 + m)
}

fn weekday(s: &str) -> Option<Weekday> {
    Some(match s.to_ascii_lowercase().as_str() {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => return None,
    })
}

fn hours(field: &str, f: &HoursFile, base: &Hours) -> Result<Hours, RulesError> {
    let mut h = base.clone();
    if let Some(s) = &f.start {
        h.start_minute = minute_of(&format!("{field}.start"), s)?;
    }
    if let Some(s) = &f.end {
        h.end_minute = minute_of(&format!("{field}.end"), s)?;
    }
    if h.start_minute >= h.end_minute {
        return Err(invalid(field, "start must be before end"));
    }
    if let Some(days) = &f.days {
        h.days = [false; 7];
        for d in days {
            let w = weekday(d).ok_or_else(|| invalid(&format!("{field}.days"), "mon … sun"))?;
            h.days[w.number_days_from_monday() as usize] = true;
        }
    }
    if let Some(o) = f.utc_offset_minutes {
        if !(-14 * 60..=14 * 60).contains(&o) {
            return Err(invalid(
                &format!("{field}.utc_offset_minutes"),
                "from -840 to 840",
            ));
        }
        h.utc_offset_minutes = o;
    }
    Ok(h)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SearchRule {
    pub search_minutes: u32,
    pub hours: u32,
    pub severity: Severity,
}

impl Default for SearchRule {
    fn default() -> Self {
        Self {
            search_minutes: 15,
            hours: 24,
            severity: Severity::Medium,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DenialRule {
    pub count: u32,
    pub minutes: u32,
    pub severity: Severity,
}

impl Default for DenialRule {
    fn default() -> Self {
        Self {
            count: 5,
            minutes: 10,
            severity: Severity::Medium,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SigninRule {
    pub per_account: u32,
    pub per_source: u32,
    pub minutes: u32,
    pub severity: Severity,
}

impl Default for SigninRule {
    fn default() -> Self {
        Self {
            per_account: 5,
            per_source: 10,
            minutes: 15,
            severity: Severity::Medium,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RulesFile {
    break_glass: BreakGlassRule,
    bulk_export: ExportRule,
    identity_baseline: BaselineRule,
    working_hours: Option<WorkingHoursFile>,
    search_without_work: SearchRule,
    repeated_denials: DenialRule,
    signin_failures: SigninRule,
}

/// The checked rules.
#[derive(Debug, Clone)]
pub struct RulesConfig {
    pub break_glass: BreakGlassRule,
    pub bulk_export: ExportRule,
    pub identity_baseline: BaselineRule,
    pub hours: Hours,
    pub hours_severity: Severity,
    pub org_hours: Vec<(Uuid, Hours)>,
    pub search_without_work: SearchRule,
    pub repeated_denials: DenialRule,
    pub signin_failures: SigninRule,
}

impl Default for RulesConfig {
    fn default() -> Self {
        RulesConfig {
            break_glass: BreakGlassRule::default(),
            bulk_export: ExportRule::default(),
            identity_baseline: BaselineRule::default(),
            hours: Hours::default(),
            hours_severity: Severity::Low,
            org_hours: Vec::new(),
            search_without_work: SearchRule::default(),
            repeated_denials: DenialRule::default(),
            signin_failures: SigninRule::default(),
        }
    }
}

impl RulesConfig {
    /// The built-in file (checked by a unit test).
    pub fn builtin() -> Result<RulesConfig, RulesError> {
        RulesConfig::parse(DEFAULT_ALERT_RULES)
    }

    pub fn parse(text: &str) -> Result<RulesConfig, RulesError> {
        let f: RulesFile = toml::from_str(text).map_err(|e| RulesError::Syntax(e.to_string()))?;
        let b = &f.identity_baseline;
        if !(b.factor.is_finite() && b.factor >= 1.0 && b.factor <= 100.0) {
            return Err(invalid("identity_baseline.factor", "from 1 to 100"));
        }
        if b.floor == 0 || b.floor > 100_000 {
            return Err(invalid("identity_baseline.floor", "from 1 to 100000"));
        }
        if !(7..=366).contains(&b.days) {
            return Err(invalid("identity_baseline.days", "from 7 to 366"));
        }
        let s = &f.search_without_work;
        if !(1..=240).contains(&s.search_minutes) {
            return Err(invalid(
                "search_without_work.search_minutes",
                "from 1 to 240",
            ));
        }
        if !(1..=720).contains(&s.hours) {
            return Err(invalid("search_without_work.hours", "from 1 to 720"));
        }
        let d = &f.repeated_denials;
        if !(2..=10_000).contains(&d.count) || !(1..=1440).contains(&d.minutes) {
            return Err(invalid(
                "repeated_denials",
                "count from 2 to 10000, minutes from 1 to 1440",
            ));
        }
        let g = &f.signin_failures;
        if !(2..=10_000).contains(&g.per_account)
            || !(2..=10_000).contains(&g.per_source)
            || !(1..=1440).contains(&g.minutes)
        {
            return Err(invalid(
                "signin_failures",
                "per_account and per_source from 2 to 10000, minutes from 1 to 1440",
            ));
        }
        let mut cfg = RulesConfig {
            break_glass: f.break_glass.clone(),
            bulk_export: f.bulk_export.clone(),
            identity_baseline: f.identity_baseline.clone(),
            search_without_work: f.search_without_work.clone(),
            repeated_denials: f.repeated_denials.clone(),
            signin_failures: f.signin_failures.clone(),
            ..RulesConfig::default()
        };
        if let Some(w) = &f.working_hours {
            let default = HoursFile {
                org: None,
                start: w.start.clone(),
                end: w.end.clone(),
                days: w.days.clone(),
                utc_offset_minutes: w.utc_offset_minutes,
                severity: None,
            };
            cfg.hours = hours("working_hours", &default, &Hours::default())?;
            if let Some(s) = w.severity {
                cfg.hours_severity = s;
            }
            for (i, o) in w.org.iter().enumerate() {
                let field = format!("working_hours.org[{i}]");
                let id = o
                    .org
                    .as_deref()
                    .and_then(|s| Uuid::parse_str(s).ok())
                    .ok_or_else(|| invalid(&format!("{field}.org"), "an organisation id"))?;
                if o.severity.is_some() {
                    return Err(invalid(
                        &format!("{field}.severity"),
                        "set in [working_hours]",
                    ));
                }
                cfg.org_hours.push((id, hours(&field, o, &cfg.hours)?));
            }
        }
        Ok(cfg)
    }

    /// The working hours of an organisation (its own, or the default).
    pub fn hours_of(&self, org: &str) -> &Hours {
        Uuid::parse_str(org)
            .ok()
            .and_then(|id| self.org_hours.iter().find(|(o, _)| *o == id))
            .map_or(&self.hours, |(_, h)| h)
    }
}
