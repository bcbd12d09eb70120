//! The audit viewer's filters (issue #18 part 1): pure parsing and validation, no I/O, no
//! clock (the caller passes nothing time-dependent; dates are absolute).
//!
//! A filter is read from text (query string, form or CLI) so that every problem is reported by
//! its field name. The values it accepts are ids and codes only: a case id (UUID), a user id
//! (UUID or `cli:<os user>`), an organisation id (UUID), an action kind, an outcome, a period
//! and a keyset cursor. Nothing here can carry personal data.

use crate::{FieldError, ValidationErrors};
use uuid::Uuid;

/// Largest page of the viewer and of one export batch.
pub const MAX_LIMIT: i64 = 500;
/// Default page size of the viewer.
pub const DEFAULT_LIMIT: i64 = 50;

/// Groups of audit actions an oversight body asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Exports of case data, identities, packages, backups and the audit log itself.
    Exports,
    /// Break-glass emergency access.
    BreakGlass,
    /// Crypto-shredding of cases.
    Erasures,
    /// Key rotation, key material and trust, audit sealing and archival.
    Keys,
    /// Failed sign-ins (password or second factor).
    FailedSignins,
    /// Any refused action (`outcome = denied`).
    Denied,
    /// Reads of the audit log (viewer, export, tail).
    AuditReads,
}

impl Kind {
    pub const ALL: &'static [Kind] = &[
        Kind::Exports,
        Kind::BreakGlass,
        Kind::Erasures,
        Kind::Keys,
        Kind::FailedSignins,
        Kind::Denied,
        Kind::AuditReads,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Exports => "exports",
            Kind::BreakGlass => "break_glass",
            Kind::Erasures => "erasures",
            Kind::Keys => "keys",
            Kind::FailedSignins => "failed_signins",
            Kind::Denied => "denied",
            Kind::AuditReads => "audit_reads",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.name() == s)
    }

    /// The audit actions of the kind (an empty list: every action, see [`Kind::outcome`]).
    pub fn actions(self) -> &'static [&'static str] {
        match self {
            Kind::Exports => &[
                "case.export",
                "case.export_ids",
                "case.export_request",
                "case.export_approve",
                "case.export_request_used",
                "followup.export",
                "referral.package_export",
                "referral.export_package",
                "backup.create",
                "audit.export",
            ],
            Kind::BreakGlass => &["break_glass", "break_glass.opened"],
            Kind::Erasures => &["case.erase", "case.erased"],
            Kind::Keys => &[
                "key.rotate",
                "key.next",
                "key.age_identity",
                "key.package_signing_created",
                "key.package_signing_public",
                "org.trust_package_key",
                "org.package_key_trusted",
                "audit.seal",
                "audit.archive",
            ],
            Kind::FailedSignins => &["auth.login", "auth.totp"],
            Kind::Denied => &[],
            Kind::AuditReads => &["audit.view", "audit.export", "audit.tail"],
        }
    }

    /// The outcome condition of the kind: `Some(true)` = only `success`, `Some(false)` = only
    /// not `success`, `None` = any.
    pub fn only_failures(self) -> bool {
        matches!(self, Kind::FailedSignins | Kind::Denied)
    }
}

/// Where a row's actor got access to the case (recorded in `audit_log.access_grant` from
/// migration 0023 on; empty before, and for rows that concern no case).
pub const GRANTS: &[&str] = &["owner", "referral", "break_glass"];

/// A validated viewer filter. Every field narrows; none given = everything in scope.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub case_id: Option<Uuid>,
    /// A user id (UUID) or a command-line operator `cli:<name>`.
    pub user: Option<String>,
    pub org: Option<Uuid>,
    pub kind: Option<Kind>,
    /// An exact action code (e.g. `case.read_identity`).
    pub action: Option<String>,
    /// `success`, `denied`, `failure` or `refused`.
    pub outcome: Option<String>,
    pub grant: Option<String>,
    /// Inclusive lower bound, milliseconds since the epoch.
    pub since_ms: Option<i64>,
    /// Exclusive upper bound, milliseconds since the epoch.
    pub until_ms: Option<i64>,
    /// Keyset cursor: only rows with `seq < before` (the previous page's last seq).
    pub before: Option<i64>,
    /// Oldest first, from `seq > after` (the tail and the export go forward).
    pub after: Option<i64>,
    pub limit: i64,
}

/// The filter as text, as it arrives.
#[derive(Debug, Clone, Default)]
pub struct FilterText<'a> {
    pub case_id: Option<&'a str>,
    pub user: Option<&'a str>,
    pub org: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub action: Option<&'a str>,
    pub outcome: Option<&'a str>,
    pub grant: Option<&'a str>,
    pub since: Option<&'a str>,
    pub until: Option<&'a str>,
    pub before: Option<&'a str>,
    pub limit: Option<&'a str>,
}

pub const OUTCOMES: &[&str] = &["success", "denied", "failure", "refused"];

fn blank(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|s| !s.is_empty())
}

/// A date `YYYY-MM-DD` (midnight UTC) or an RFC 3339 instant, as milliseconds; years
/// 1990..=2100.
pub fn parse_instant(s: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    let f = time::macros::format_description!("[year]-[month]-[day]");
    let t = if let Ok(d) = time::Date::parse(s, &f) {
        d.midnight().assume_utc()
    } else {
        time::OffsetDateTime::parse(s, &Rfc3339).ok()?
    };
    if !(1990..=2100).contains(&t.year()) {
        return None;
    }
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// A user filter: a UUID, or `cli:` and 1..64 of `[A-Za-z0-9._-]`.
pub fn valid_user(s: &str) -> bool {
    if Uuid::parse_str(s).is_ok() {
        return true;
    }
    s.strip_prefix("cli:").is_some_and(|n| {
        !n.is_empty()
            && n.len() <= 64
            && n.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    })
}

/// An action code: 1..64 of `[a-z0-9._-]`.
pub fn valid_action(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

/// Validates the filter; every problem is named by its field.
pub fn parse_filter(t: &FilterText<'_>) -> Result<AuditFilter, ValidationErrors> {
    let mut errs = ValidationErrors::default();
    let mut f = AuditFilter {
        limit: DEFAULT_LIMIT,
        ..Default::default()
    };
    if let Some(s) = blank(t.case_id) {
        match Uuid::parse_str(s) {
            Ok(u) => f.case_id = Some(u),
            Err(_) => errs.push(FieldError::new("case", "invalid_id", "expected a case id")),
        }
    }
    if let Some(s) = blank(t.user) {
        if valid_user(s) {
            f.user = Some(s.to_string());
        } else {
            errs.push(FieldError::new(
                "user",
                "invalid_id",
                "expected a user id or cli:<name>",
            ));
        }
    }
    if let Some(s) = blank(t.org) {
        match Uuid::parse_str(s) {
            Ok(u) => f.org = Some(u),
            Err(_) => errs.push(FieldError::new(
                "org",
                "invalid_id",
                "expected an organisation id",
            )),
        }
    }
    if let Some(s) = blank(t.kind) {
        match Kind::parse(s) {
            Some(k) => f.kind = Some(k),
            None => errs.push(FieldError::new(
                "kind",
                "invalid_value",
                "exports, break_glass, erasures, keys, failed_signins, denied or audit_reads",
            )),
        }
    }
    if let Some(s) = blank(t.action) {
        if valid_action(s) {
            f.action = Some(s.to_string());
        } else {
            errs.push(FieldError::new(
                "action",
                "invalid_value",
                "expected an action code",
            ));
        }
    }
    if let Some(s) = blank(t.outcome) {
        if OUTCOMES.contains(&s) {
            f.outcome = Some(s.to_string());
        } else {
            errs.push(FieldError::new(
                "outcome",
                "invalid_value",
                "success, denied, failure or refused",
            ));
        }
    }
    if let Some(s) = blank(t.grant) {
        if GRANTS.contains(&s) {
            f.grant = Some(s.to_string());
        } else {
            errs.push(FieldError::new(
                "grant",
                "invalid_value",
                "owner, referral or break_glass",
            ));
        }
    }
    for (field, v, slot) in [
        ("since", t.since, &mut f.since_ms),
        ("until", t.until, &mut f.until_ms),
    ] {
        if let Some(s) = blank(v) {
            match parse_instant(s) {
                Some(ms) => *slot = Some(ms),
                None => errs.push(FieldError::new(
                    field,
                    "invalid_date",
                    "expected a date YYYY-MM-DD or an RFC 3339 time",
                )),
            }
        }
    }
    if let (Some(a), Some(b)) = (f.since_ms, f.until_ms)
        && b <= a
    {
        errs.push(FieldError::new(
            "until",
            "before_since",
            "the end of the period is not after its start",
        ));
    }
    if let Some(s) = blank(t.before) {
        match s.parse::<i64>() {
            Ok(n) if n > 0 => f.before = Some(n),
            _ => errs.push(FieldError::new(
                "before",
                "invalid_cursor",
                "expected a positive row number",
            )),
        }
    }
    if let Some(s) = blank(t.limit) {
        match s.parse::<i64>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => f.limit = n,
            _ => errs.push(FieldError::new(
                "limit",
                "out_of_range",
                "expected a whole number from 1 to 500",
            )),
        }
    }
    if errs.is_empty() { Ok(f) } else { Err(errs) }
}

/// A filter's short description for its own audit row: the field names and ids/codes only.
pub fn describe(f: &AuditFilter) -> String {
    let mut parts = Vec::new();
    if let Some(c) = f.case_id {
        parts.push(format!("case={c}"));
    }
    if let Some(u) = &f.user {
        parts.push(format!("user={u}"));
    }
    if let Some(o) = f.org {
        parts.push(format!("org={o}"));
    }
    if let Some(k) = f.kind {
        parts.push(format!("kind={}", k.name()));
    }
    if let Some(a) = &f.action {
        parts.push(format!("action={a}"));
    }
    if let Some(o) = &f.outcome {
        parts.push(format!("outcome={o}"));
    }
    if let Some(g) = &f.grant {
        parts.push(format!("grant={g}"));
    }
    if let Some(s) = f.since_ms {
        parts.push(format!("since={s}"));
    }
    if let Some(u) = f.until_ms {
        parts.push(format!("until={u}"));
    }
    if let Some(b) = f.before {
        parts.push(format!("before={b}"));
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text<'a>() -> FilterText<'a> {
        FilterText::default()
    }

    #[test]
    fn empty_filter_is_everything_with_the_default_page() {
        let f = parse_filter(&text()).unwrap_or_default();
        assert_eq!(f.limit, DEFAULT_LIMIT);
        assert_eq!(describe(&f), "");
    }

    #[test]
    fn each_bad_field_is_named() {
        let t = FilterText {
            case_id: Some("x"),
            user: Some("Ayla"),
            org: Some("1"),
            kind: Some("reads"),
            action: Some("DROP TABLE"),
            outcome: Some("ok"),
            grant: Some("friend"),
            since: Some("2025-13-01"),
            until: Some("yesterday"),
            before: Some("-1"),
            limit: Some("100000"),
        };
        let e = parse_filter(&t).err().unwrap_or_default();
        let fields: Vec<&str> = e.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "case", "user", "org", "kind", "action", "outcome", "grant", "since", "until",
                "before", "limit"
            ]
        );
    }

    #[test]
    fn period_must_go_forward() {
        let t = FilterText {
            since: Some("2025-02-01"),
            until: Some("2025-01-01"),
            ..text()
        };
        let e = parse_filter(&t).err().unwrap_or_default();
        assert_eq!(e.errors[0].field, "until");
        let ok = FilterText {
            since: Some("2025-01-01"),
            until: Some("2025-01-02T00:00:00Z"),
            ..text()
        };
        let f = parse_filter(&ok).unwrap_or_default();
        assert_eq!(
            f.until_ms.unwrap_or(0) - f.since_ms.unwrap_or(0),
            86_400_000
        );
    }

    #[test]
    fn kinds_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.name()), Some(*k));
        }
    }

    proptest! {
        /// Whatever text arrives, the filter either names a field or holds only ids/codes
        /// from the accepted alphabets (never free text).
        #[test]
        fn filter_never_carries_free_text(user in ".{0,80}", action in ".{0,80}", lim in ".{0,6}") {
            let t = FilterText { user: Some(&user), action: Some(&action), limit: Some(&lim), ..text() };
            match parse_filter(&t) {
                Ok(f) => {
                    if let Some(u) = &f.user { prop_assert!(valid_user(u)); }
                    if let Some(a) = &f.action { prop_assert!(valid_action(a)); }
                    prop_assert!((1..=MAX_LIMIT).contains(&f.limit));
                }
                Err(e) => prop_assert!(!e.errors.is_empty()),
            }
        }
    }
}
