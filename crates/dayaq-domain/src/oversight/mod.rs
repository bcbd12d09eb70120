//! Access-anomaly rules (issue #18 part 2): pure functions over audit facts and a time window,
//! each proposing alerts linked to the audit rows that raised them. No I/O and no clock: the
//! storage layer loads the facts (new audit rows since the last evaluated row, plus the window
//! a rule needs) and stores the alerts; `now` is passed in.
//!
//! The thresholds come from a TOML file (`config/alert_rules.toml` is the built-in default;
//! `serve --alert-rules FILE`): operators tune them with the deployment, under change control,
//! and a bad file stops the server before it listens. Each proposal carries a deterministic
//! `key` (rule, subject and the rows or day it is about), so evaluating the same rows twice
//! proposes the same alert and the store keeps one.

mod config;
mod rules;
#[cfg(test)]
mod tests;

pub use config::{DEFAULT_ALERT_RULES, Hours, RulesConfig, RulesError};
pub use rules::*;

use serde::Serialize;

/// One audit row as the rules see it: codes and ids only (never personal data).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditFact {
    pub seq: i64,
    /// UNIX milliseconds.
    pub at: i64,
    pub user: String,
    pub org: String,
    pub action: String,
    pub outcome: String,
    pub case_id: String,
    pub source: String,
    pub detail: String,
}

/// The anomaly rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Rule {
    BreakGlass,
    BulkExport,
    IdentityBaseline,
    OffHours,
    SearchWithoutWork,
    RepeatedDenials,
    SigninFailuresAccount,
    SigninFailuresSource,
}

impl Rule {
    pub const ALL: [Rule; 8] = [
        Rule::BreakGlass,
        Rule::BulkExport,
        Rule::IdentityBaseline,
        Rule::OffHours,
        Rule::SearchWithoutWork,
        Rule::RepeatedDenials,
        Rule::SigninFailuresAccount,
        Rule::SigninFailuresSource,
    ];

    /// The stable code (stored, in the API and on `/metrics`).
    pub fn name(self) -> &'static str {
        match self {
            Rule::BreakGlass => "break_glass",
            Rule::BulkExport => "bulk_export",
            Rule::IdentityBaseline => "identity_read_baseline",
            Rule::OffHours => "off_hours_read",
            Rule::SearchWithoutWork => "search_without_work",
            Rule::RepeatedDenials => "repeated_denials",
            Rule::SigninFailuresAccount => "signin_failures_account",
            Rule::SigninFailuresSource => "signin_failures_source",
        }
    }

    pub fn parse(s: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.name() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        [Severity::Low, Severity::Medium, Severity::High]
            .into_iter()
            .find(|v| v.name() == s)
    }
}

/// An alert a rule proposes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertDraft {
    pub rule: Rule,
    pub severity: Severity,
    /// Deterministic: the same rule over the same rows (or user and day) gives the same key.
    pub key: String,
    /// The organisation whose administrator sees the alert (empty: auditors only).
    pub org: String,
    /// The user the alert is about (empty for failures of unknown accounts).
    pub subject_user: String,
    /// The source address, for the per-source sign-in rule (empty otherwise).
    pub subject_source: String,
    /// The audit rows it is linked to, ascending.
    pub seqs: Vec<i64>,
}

/// The state of an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertState {
    Open,
    Acknowledged,
}

impl AlertState {
    pub fn name(self) -> &'static str {
        match self {
            AlertState::Open => "open",
            AlertState::Acknowledged => "acknowledged",
        }
    }

    pub fn parse(s: &str) -> Option<AlertState> {
        match s {
            "open" => Some(AlertState::Open),
            "acknowledged" => Some(AlertState::Acknowledged),
            _ => None,
        }
    }
}

/// The longest acknowledgement note (characters).
pub const NOTE_MAX: usize = 200;

/// Checks an acknowledgement note: required, one line, at most [`NOTE_MAX`] characters. The
/// note says what was checked ("called the supervisor, planned visit"), never case content:
/// the form says so and the length keeps it short.
pub fn validate_note(note: &str) -> Result<String, crate::ValidationErrors> {
    let n = note.trim();
    let err = |code, msg: &str| {
        Err(crate::ValidationErrors::single(crate::FieldError::new(
            "note", code, msg,
        )))
    };
    if n.is_empty() {
        return err("required", "a note is required");
    }
    if n.chars().count() > NOTE_MAX {
        return err("too_long", "at most 200 characters");
    }
    if n.chars().any(char::is_control) {
        return err("invalid", "one line without control characters");
    }
    Ok(n.to_string())
}
