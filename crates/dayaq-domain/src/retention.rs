//! Retention schedules (issue #17 part 3): which records are due for erasure on a day.
//!
//! Pure: rules, facts and "today" go in, a list of (record kind, id, due date) comes out. The
//! storage layer gathers the facts and executes the list; the same function answers the
//! preview (with a horizon) and the daily run (horizon 0), so the preview lists exactly what
//! the run erases on that day.

use crate::error::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month};
use uuid::Uuid;

/// The closed list of record kinds a retention rule covers.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// The whole case: crypto-shredded (its key deleted) after closure.
    CaseIdentity,
    /// The free-text notes of a closed case (closure reason, status-change reasons,
    /// needs-assessment notes): cleared earlier than the identity when the rule says so.
    CaseNotes,
    /// Hotline and outreach contacts that never became a case (counted from the contact).
    ContactsWithoutCase,
    /// Staff sign-in sessions (client address, browser), counted from their last use.
    Sessions,
    /// Audit rows past the legal period. The rule is kept, but the daily job does not prune
    /// the hash chain: that needs segment archival (issue #18).
    AuditRows,
}

impl RecordKind {
    pub const ALL: &'static [RecordKind] = &[
        RecordKind::CaseIdentity,
        RecordKind::CaseNotes,
        RecordKind::ContactsWithoutCase,
        RecordKind::Sessions,
        RecordKind::AuditRows,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::CaseIdentity => "case_identity",
            RecordKind::CaseNotes => "case_notes",
            RecordKind::ContactsWithoutCase => "contacts_without_case",
            RecordKind::Sessions => "sessions",
            RecordKind::AuditRows => "audit_rows",
        }
    }

    pub fn parse(s: &str) -> Option<RecordKind> {
        RecordKind::ALL.iter().copied().find(|k| k.as_str() == s)
    }

    /// The shortest retention the law (and the audit duties) allow, in months.
    pub fn legal_minimum_months(self) -> u32 {
        match self {
            // Civil claims and appeals after the end of assistance.
            RecordKind::CaseIdentity => 36,
            RecordKind::CaseNotes => 12,
            RecordKind::ContactsWithoutCase => 3,
            RecordKind::Sessions => 1,
            RecordKind::AuditRows => 60,
        }
    }

    /// The rule of a new installation (an organisation that set nothing).
    pub fn default_months(self) -> u32 {
        match self {
            RecordKind::CaseIdentity => 60,
            RecordKind::CaseNotes => 36,
            // Anonymous hotline contacts without a case expire by default.
            RecordKind::ContactsWithoutCase => 12,
            RecordKind::Sessions => 6,
            RecordKind::AuditRows => 84,
        }
    }

    /// Whether the daily job erases this kind (audit rows wait for segment archival).
    pub fn executed_by_job(self) -> bool {
        self != RecordKind::AuditRows
    }
}

/// The longest retention accepted (100 years): a guard against typing errors.
pub const MAX_MONTHS: u32 = 1200;

/// An organisation's rules: months per kind (every kind present).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    months: [u32; 5],
}

impl Default for Rules {
    fn default() -> Self {
        let mut months = [0; 5];
        for (i, k) in RecordKind::ALL.iter().enumerate() {
            months[i] = k.default_months();
        }
        Rules { months }
    }
}

impl Rules {
    fn idx(kind: RecordKind) -> usize {
        RecordKind::ALL.iter().position(|k| *k == kind).unwrap_or(0)
    }

    pub fn months(&self, kind: RecordKind) -> u32 {
        self.months[Self::idx(kind)]
    }

    /// Sets one rule, unchecked (storage loads already validated rows).
    pub fn with(mut self, kind: RecordKind, months: u32) -> Rules {
        self.months[Self::idx(kind)] = months;
        self
    }
}

/// Checks a requested rule: at least the kind's legal minimum, at most [`MAX_MONTHS`]. The
/// error names the field `months` (or `kind` for an unknown kind).
pub fn validate_rule(kind: &str, months: i64) -> Result<(RecordKind, u32), ValidationErrors> {
    let Some(k) = RecordKind::parse(kind) else {
        return Err(ValidationErrors::single(FieldError::new(
            "kind",
            "invalid_value",
            format!(
                "unknown record kind; allowed: {}",
                RecordKind::ALL
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )));
    };
    let min = i64::from(k.legal_minimum_months());
    if months < min {
        return Err(ValidationErrors::single(FieldError::new(
            "months",
            "below_legal_minimum",
            format!("the legal minimum for this record kind is {min} months"),
        )));
    }
    if months > i64::from(MAX_MONTHS) {
        return Err(ValidationErrors::single(FieldError::new(
            "months",
            "too_large",
            format!("at most {MAX_MONTHS} months"),
        )));
    }
    Ok((k, months as u32))
}

/// What storage knows about one record that a rule may expire. No personal data: ids and
/// dates only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// A closed, not erased case: the day it was closed, whether it is under legal hold, and
    /// whether it still has note text to clear.
    ClosedCase {
        id: Uuid,
        closed_on: Date,
        held: bool,
        has_notes: bool,
    },
    /// A contact never linked to a case, recorded on `on`.
    ContactWithoutCase { id: Uuid, on: Date },
    /// A sign-in session last used on `on`. Its id is the session's public id.
    Session { id: Uuid, on: Date },
}

/// One record due for erasure.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Due {
    /// The day the retention ends (the record is erased by the first run on or after it).
    pub due_on: Date,
    pub kind: RecordKind,
    pub id: Uuid,
}

/// `d` plus `months` calendar months, the day clamped to the month's end (31 Jan + 1 = 28/29
/// Feb). Saturates at the largest date.
pub fn add_months(d: Date, months: u32) -> Date {
    let total = i64::from(d.year()) * 12 + i64::from(u8::from(d.month())) - 1 + i64::from(months);
    let Ok(year) = i32::try_from(total.div_euclid(12)) else {
        return Date::MAX;
    };
    let m = (total.rem_euclid(12) + 1) as u8;
    let Ok(month) = Month::try_from(m) else {
        return Date::MAX;
    };
    let last = time::util::days_in_month(month, year);
    Date::from_calendar_date(year, month, d.day().min(last)).unwrap_or(Date::MAX)
}

/// The records due on or before `today + horizon_days`, sorted by date, kind, id. Held cases
/// are never listed; notes are listed only while the identity is not due (shredding the case
/// erases them anyway); audit rows are never listed (see [`RecordKind::AuditRows`]).
pub fn due(rules: &Rules, facts: &[Fact], today: Date, horizon_days: u32) -> Vec<Due> {
    let until = today
        .checked_add(Duration::days(i64::from(horizon_days)))
        .unwrap_or(Date::MAX);
    let mut out = Vec::new();
    for f in facts {
        match *f {
            Fact::ClosedCase {
                id,
                closed_on,
                held,
                has_notes,
            } => {
                if held {
                    continue;
                }
                let ident = add_months(closed_on, rules.months(RecordKind::CaseIdentity));
                if ident <= until {
                    out.push(Due {
                        due_on: ident,
                        kind: RecordKind::CaseIdentity,
                        id,
                    });
                    continue;
                }
                let notes = add_months(closed_on, rules.months(RecordKind::CaseNotes));
                if has_notes && notes <= until {
                    out.push(Due {
                        due_on: notes,
                        kind: RecordKind::CaseNotes,
                        id,
                    });
                }
            }
            Fact::ContactWithoutCase { id, on } => {
                let d = add_months(on, rules.months(RecordKind::ContactsWithoutCase));
                if d <= until {
                    out.push(Due {
                        due_on: d,
                        kind: RecordKind::ContactsWithoutCase,
                        id,
                    });
                }
            }
            Fact::Session { id, on } => {
                let d = add_months(on, rules.months(RecordKind::Sessions));
                if d <= until {
                    out.push(Due {
                        due_on: d,
                        kind: RecordKind::Sessions,
                        id,
                    });
                }
            }
        }
    }
    out.sort();
    out
}

/// One group of the preview: how many records of a kind are erased by the run of a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewGroup {
    pub kind: RecordKind,
    /// The run that erases them: the due day, or today for records already overdue.
    pub erased_on: Date,
    pub count: u64,
}

/// Groups a due list by kind and erasure day (overdue records go to today's run).
pub fn group(due: &[Due], today: Date) -> Vec<PreviewGroup> {
    let mut out: Vec<PreviewGroup> = Vec::new();
    let mut keyed: Vec<(Date, RecordKind)> =
        due.iter().map(|d| (d.due_on.max(today), d.kind)).collect();
    keyed.sort();
    for (on, kind) in keyed {
        match out.last_mut() {
            Some(g) if g.erased_on == on && g.kind == kind => g.count += 1,
            _ => out.push(PreviewGroup {
                kind,
                erased_on: on,
                count: 1,
            }),
        }
    }
    out
}

/// Reasons for a legal hold (a closed list: no free text, so no personal data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HoldReason {
    /// Criminal proceedings (investigation or prosecution) are ongoing.
    Prosecution,
    /// A civil claim or compensation proceeding is ongoing.
    CivilClaim,
    /// The survivor asked that her record be kept.
    SurvivorRequest,
    /// A court or authority ordered preservation.
    CourtOrder,
}

impl HoldReason {
    pub const ALL: &'static [HoldReason] = &[
        HoldReason::Prosecution,
        HoldReason::CivilClaim,
        HoldReason::SurvivorRequest,
        HoldReason::CourtOrder,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HoldReason::Prosecution => "prosecution",
            HoldReason::CivilClaim => "civil_claim",
            HoldReason::SurvivorRequest => "survivor_request",
            HoldReason::CourtOrder => "court_order",
        }
    }

    pub fn parse(field: &str, s: &str) -> Result<HoldReason, ValidationErrors> {
        HoldReason::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                ValidationErrors::single(FieldError::new(
                    field,
                    "invalid_value",
                    format!(
                        "unknown reason; allowed: {}",
                        HoldReason::ALL
                            .iter()
                            .map(|r| r.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ))
            })
    }
}

/// Reasons for lifting a legal hold (a closed list, like [`HoldReason`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LiftReason {
    /// The proceedings ended (verdict, closure of the investigation, settlement).
    ProceedingsEnded,
    /// The preservation order was lifted.
    OrderLifted,
    /// The survivor withdrew her request.
    SurvivorRequest,
    /// The hold was set in error.
    SetInError,
}

impl LiftReason {
    pub const ALL: &'static [LiftReason] = &[
        LiftReason::ProceedingsEnded,
        LiftReason::OrderLifted,
        LiftReason::SurvivorRequest,
        LiftReason::SetInError,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LiftReason::ProceedingsEnded => "proceedings_ended",
            LiftReason::OrderLifted => "order_lifted",
            LiftReason::SurvivorRequest => "survivor_request",
            LiftReason::SetInError => "set_in_error",
        }
    }

    pub fn parse(field: &str, s: &str) -> Result<LiftReason, ValidationErrors> {
        LiftReason::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                ValidationErrors::single(FieldError::new(
                    field,
                    "invalid_value",
                    format!(
                        "unknown reason; allowed: {}",
                        LiftReason::ALL
                            .iter()
                            .map(|r| r.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    #[test]
    fn month_arithmetic_clamps_to_the_month_end() {
        assert_eq!(add_months(date!(2025 - 01 - 31), 1), date!(2025 - 02 - 28));
        assert_eq!(add_months(date!(2024 - 01 - 31), 1), date!(2024 - 02 - 29));
        assert_eq!(add_months(date!(2025 - 11 - 15), 2), date!(2026 - 01 - 15));
        assert_eq!(add_months(date!(2025 - 03 - 01), 0), date!(2025 - 03 - 01));
    }

    #[test]
    fn rules_below_the_minimum_are_refused_by_field() {
        let e = validate_rule("case_identity", 35).unwrap_err();
        assert_eq!(e.errors[0].field, "months");
        assert_eq!(e.errors[0].code, "below_legal_minimum");
        assert_eq!(
            validate_rule("kind?", 40).unwrap_err().errors[0].field,
            "kind"
        );
        assert!(validate_rule("case_identity", 36).is_ok());
        assert!(validate_rule("sessions", i64::from(MAX_MONTHS) + 1).is_err());
        for k in RecordKind::ALL {
            assert!(k.default_months() >= k.legal_minimum_months(), "{k:?}");
        }
    }

    #[test]
    fn anonymous_contacts_expire_by_default_after_twelve_months() {
        let id = Uuid::from_u128(1);
        let f = [Fact::ContactWithoutCase {
            id,
            on: date!(2025 - 03 - 10),
        }];
        let r = Rules::default();
        assert!(due(&r, &f, date!(2026 - 03 - 09), 0).is_empty());
        assert_eq!(
            due(&r, &f, date!(2026 - 03 - 10), 0),
            vec![Due {
                due_on: date!(2026 - 03 - 10),
                kind: RecordKind::ContactsWithoutCase,
                id
            }]
        );
    }

    #[test]
    fn preview_groups_overdue_records_into_todays_run() {
        let today = date!(2026 - 01 - 10);
        let d = |on, k, n| Due {
            due_on: on,
            kind: k,
            id: Uuid::from_u128(n),
        };
        let list = vec![
            d(date!(2025 - 12 - 01), RecordKind::Sessions, 1),
            d(date!(2026 - 01 - 10), RecordKind::Sessions, 2),
            d(date!(2026 - 01 - 20), RecordKind::Sessions, 3),
            d(date!(2026 - 01 - 10), RecordKind::CaseIdentity, 4),
        ];
        let g = group(&list, today);
        assert_eq!(g.len(), 3);
        assert_eq!(
            (g[0].kind, g[0].erased_on, g[0].count),
            (RecordKind::CaseIdentity, today, 1)
        );
        assert_eq!(
            (g[1].kind, g[1].erased_on, g[1].count),
            (RecordKind::Sessions, today, 2)
        );
        assert_eq!(g[2].erased_on, date!(2026 - 01 - 20));
    }

    fn day() -> impl Strategy<Value = Date> {
        (0i64..4000).prop_map(|n| date!(2020 - 01 - 01) + Duration::days(n))
    }

    fn fact() -> impl Strategy<Value = Fact> {
        prop_oneof![
            (any::<u128>(), day(), any::<bool>(), any::<bool>()).prop_map(
                |(n, closed_on, held, has_notes)| Fact::ClosedCase {
                    id: Uuid::from_u128(n),
                    closed_on,
                    held,
                    has_notes
                }
            ),
            (any::<u128>(), day()).prop_map(|(n, on)| Fact::ContactWithoutCase {
                id: Uuid::from_u128(n),
                on
            }),
            (any::<u128>(), day()).prop_map(|(n, on)| Fact::Session {
                id: Uuid::from_u128(n),
                on
            }),
        ]
    }

    fn rules() -> impl Strategy<Value = Rules> {
        proptest::collection::vec(0u32..200, 5).prop_map(|m| {
            let mut r = Rules::default();
            for (k, extra) in RecordKind::ALL.iter().zip(m) {
                r = r.with(*k, k.legal_minimum_months() + extra);
            }
            r
        })
    }

    fn fact_of(facts: &[Fact], id: Uuid, kind: RecordKind) -> Option<&Fact> {
        facts.iter().find(|f| match (f, kind) {
            (Fact::ClosedCase { id: i, .. }, RecordKind::CaseIdentity | RecordKind::CaseNotes) => {
                *i == id
            }
            (Fact::ContactWithoutCase { id: i, .. }, RecordKind::ContactsWithoutCase) => *i == id,
            (Fact::Session { id: i, .. }, RecordKind::Sessions) => *i == id,
            _ => false,
        })
    }

    proptest! {
        /// Nothing is due before its rule's months have passed since its reference day, nothing
        /// past the horizon, held cases and audit rows never; every listed record is due no
        /// earlier than the legal minimum.
        #[test]
        fn due_respects_rules_holds_and_minimums(
            r in rules(),
            facts in proptest::collection::vec(fact(), 0..30),
            today in day(),
            horizon in 0u32..400,
        ) {
            let list = due(&r, &facts, today, horizon);
            let until = today + Duration::days(i64::from(horizon));
            for d in &list {
                prop_assert!(d.due_on <= until);
                prop_assert!(d.kind != RecordKind::AuditRows);
                let f = fact_of(&facts, d.id, d.kind);
                let Some(f) = f else {
                    return Err(TestCaseError::fail("a due record without its fact"));
                };
                let (reference, held) = match f {
                    Fact::ClosedCase { closed_on, held, .. } => (*closed_on, *held),
                    Fact::ContactWithoutCase { on, .. } | Fact::Session { on, .. } => (*on, false),
                };
                prop_assert!(!held);
                prop_assert_eq!(d.due_on, add_months(reference, r.months(d.kind)));
                prop_assert!(d.due_on >= add_months(reference, d.kind.legal_minimum_months()));
            }
            // One entry per record at most; sorted.
            let mut ids: Vec<_> = list.iter().map(|d| (d.id, d.kind)).collect();
            ids.sort();
            ids.dedup();
            prop_assert_eq!(ids.len(), list.len());
            prop_assert!(list.windows(2).all(|w| w[0] <= w[1]));
        }

        /// A later day (or a longer horizon) never drops a record: what is due stays due, so a
        /// run that failed half-way is finished by the next one.
        #[test]
        fn due_is_monotone_in_time(
            r in rules(),
            facts in proptest::collection::vec(fact(), 0..30),
            today in day(),
            later in 0i64..400,
        ) {
            let a = due(&r, &facts, today, 0);
            let b = due(&r, &facts, today + Duration::days(later), 0);
            for d in &a {
                // Notes may be superseded by the identity becoming due.
                prop_assert!(b.contains(d) || (d.kind == RecordKind::CaseNotes
                    && b.iter().any(|x| x.id == d.id && x.kind == RecordKind::CaseIdentity)));
            }
        }

        /// The preview's groups count exactly the due list.
        #[test]
        fn groups_count_every_due_record(
            r in rules(),
            facts in proptest::collection::vec(fact(), 0..30),
            today in day(),
            horizon in 0u32..400,
        ) {
            let list = due(&r, &facts, today, horizon);
            let g = group(&list, today);
            prop_assert_eq!(g.iter().map(|g| g.count).sum::<u64>(), list.len() as u64);
            prop_assert!(g.iter().all(|g| g.erased_on >= today));
        }
    }
}
