//! The case status life cycle: changes, closure with a reason, reopening, new episodes.

use super::*;

// ---------------------------------------------------------------- status and episodes

/// The kind of a status-history entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusChange {
    /// Between open statuses (Active ↔ FollowUp).
    Change,
    /// To Closed or ClosedReferred (reason required).
    Close,
    /// An explicit reopening of a closed case (reason required).
    Reopen,
    /// The first status of a case opened as a new episode.
    NewEpisode,
}

impl StatusChange {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusChange::Change => "change",
            StatusChange::Close => "close",
            StatusChange::Reopen => "reopen",
            StatusChange::NewEpisode => "new_episode",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            StatusChange::Change,
            StatusChange::Close,
            StatusChange::Reopen,
            StatusChange::NewEpisode,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

pub fn is_closed(s: CaseStatus) -> bool {
    matches!(s, CaseStatus::Closed | CaseStatus::ClosedReferred)
}

pub(super) fn reason_text(
    errs: &mut ValidationErrors,
    field: &str,
    reason: Option<&str>,
) -> Option<String> {
    let mut r = reason.map(str::to_string);
    check_text(errs, field, &mut r, MAX_LONG_TEXT);
    r
}

/// A status change that is not a reopening: the case must be open, the status must change,
/// and closing needs `cas_ReasonForCaseClosure`. Returns the kind and the cleaned reason.
pub fn check_status_change(
    from: CaseStatus,
    to: &str,
    reason: Option<&str>,
) -> Result<(CaseStatus, StatusChange, Option<String>), ValidationErrors> {
    let mut errs = ValidationErrors::default();
    let to = match to.trim() {
        "" => {
            errs.push(required("cas_Status"));
            None
        }
        s => CaseStatus::parse(s).map_err(|e| errs.push(e)).ok(),
    };
    let reason = reason_text(&mut errs, "cas_ReasonForCaseClosure", reason);
    if is_closed(from) {
        errs.push(FieldError::new(
            "cas_Status",
            "closed_needs_reopen",
            "the case is closed; reopen it (with a reason) to change its status",
        ));
    } else if to == Some(from) {
        errs.push(FieldError::new(
            "cas_Status",
            "unchanged",
            "the case already has this cas_Status",
        ));
    }
    if to.is_some_and(is_closed) && reason.is_none() {
        errs.push(FieldError::new(
            "cas_ReasonForCaseClosure",
            "required",
            "cas_ReasonForCaseClosure is required to close a case",
        ));
    }
    errs.into_result()?;
    let to = to.ok_or_else(|| ValidationErrors::single(required("cas_Status")))?;
    let kind = if is_closed(to) {
        StatusChange::Close
    } else {
        StatusChange::Change
    };
    Ok((to, kind, reason))
}

/// Reopening: only a closed case, to an open status (Active by default), with a reason.
pub fn check_reopen(
    from: CaseStatus,
    to: Option<&str>,
    reason: Option<&str>,
) -> Result<(CaseStatus, String), ValidationErrors> {
    let mut errs = ValidationErrors::default();
    let to = match to.map(str::trim) {
        None | Some("") => Some(CaseStatus::Active),
        Some(s) => CaseStatus::parse(s).map_err(|e| errs.push(e)).ok(),
    };
    if !is_closed(from) {
        errs.push(FieldError::new(
            "cas_Status",
            "not_closed",
            "only a closed case can be reopened",
        ));
    }
    if to.is_some_and(is_closed) {
        errs.push(FieldError::new(
            "cas_Status",
            "must_be_open",
            "a reopened case is Active or FollowUp",
        ));
    }
    let reason = reason_text(&mut errs, "reason", reason);
    if reason.is_none() {
        errs.push(required("reason"));
    }
    errs.into_result()?;
    match (to, reason) {
        (Some(t), Some(r)) => Ok((t, r)),
        _ => Err(ValidationErrors::single(required("reason"))),
    }
}

/// A new episode (re-trafficking) is opened from the latest episode of the person, once that
/// case is no longer Active (closed or in follow-up), with a reason.
pub fn check_new_episode(
    previous: CaseStatus,
    previous_is_latest: bool,
    reason: Option<&str>,
) -> Result<String, ValidationErrors> {
    let mut errs = ValidationErrors::default();
    if previous == CaseStatus::Active {
        errs.push(FieldError::new(
            "cas_Status",
            "previous_case_active",
            "the case is still Active: record the new events in it, or close it first",
        ));
    }
    if !previous_is_latest {
        errs.push(FieldError::new(
            "previous_case",
            "not_latest_episode",
            "a new episode is opened from the latest episode of the person",
        ));
    }
    let reason = reason_text(&mut errs, "reason", reason);
    if reason.is_none() {
        errs.push(required("reason"));
    }
    errs.into_result()?;
    reason.ok_or_else(|| ValidationErrors::single(required("reason")))
}
