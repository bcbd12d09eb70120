//! Rules of practice as data (issue #17 part 4): the recovery and reflection period (Council of
//! Europe Convention art. 13) and the admission conditions of a shelter facility. Pure: dates
//! and facts in, decisions out; the installation's settings live in storage.

use crate::FieldError;
use serde::Serialize;
use time::{Date, Duration};

/// The Convention's minimum: "at least 30 days" (art. 13(1)).
pub const REFLECTION_MIN_DAYS: i64 = 30;
/// A sanity ceiling for the setting (ten years).
pub const REFLECTION_MAX_DAYS: i64 = 3650;

/// Checks a reflection-period length; below the Convention's minimum is refused naming `days`.
pub fn validate_reflection_days(days: i64) -> Result<i64, FieldError> {
    if days < REFLECTION_MIN_DAYS {
        return Err(FieldError::new(
            "days",
            "below_minimum",
            format!(
                "the recovery and reflection period is at least {REFLECTION_MIN_DAYS} days (CoE Convention art. 13)"
            ),
        ));
    }
    if days > REFLECTION_MAX_DAYS {
        return Err(FieldError::new(
            "days",
            "out_of_range",
            format!("days must be at most {REFLECTION_MAX_DAYS}"),
        ));
    }
    Ok(days)
}

/// The period of one case: it starts on the first contact or the first screening that found a
/// possible (presumed) victim, whichever came first, and lasts `days` days: `ends_on` is its
/// last day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReflectionPeriod {
    pub starts_on: Date,
    pub ends_on: Date,
    pub days: i64,
    /// `today` lies within the period (both ends included).
    pub active: bool,
    /// Days left after `today` (0 on the last day and after).
    pub days_left: i64,
}

/// The reflection period from the case's first contact and first presumed-victim screening
/// (either may be unknown); `None` when neither is known. `days` below the minimum counts as
/// the minimum (the setting refuses it anyway).
pub fn reflection_period(
    first_contact: Option<Date>,
    presumed_screening: Option<Date>,
    days: i64,
    today: Date,
) -> Option<ReflectionPeriod> {
    let starts_on = match (first_contact, presumed_screening) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b)?,
    };
    let days = days.clamp(REFLECTION_MIN_DAYS, REFLECTION_MAX_DAYS);
    let ends_on = starts_on.saturating_add(Duration::days(days - 1));
    let active = starts_on <= today && today <= ends_on;
    let days_left = if today < starts_on {
        days - 1
    } else {
        (ends_on - today).whole_days().max(0)
    };
    Some(ReflectionPeriod {
        starts_on,
        ends_on,
        days,
        active,
        days_left,
    })
}

/// The admission conditions one facility has switched on. All off = admission without
/// conditions (the default of a new installation).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AdmissionRules {
    /// Admit only a survivor whose legal section says she cooperates with law enforcement.
    /// International standards (CoE Convention art. 12(6)) say assistance must not depend on it.
    pub requires_cooperation: bool,
}

impl AdmissionRules {
    /// Whether a condition that international standards reject is on (the screens then show
    /// the art. 12(6) warning).
    pub fn conflicts_with_standards(&self) -> bool {
        self.requires_cooperation
    }
}

/// Why a facility rule refused an admission (a closed code; counted for the scorecard).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RefusalReason {
    CooperationRequired,
}

impl RefusalReason {
    pub const ALL: &'static [RefusalReason] = &[RefusalReason::CooperationRequired];

    pub fn as_str(self) -> &'static str {
        match self {
            RefusalReason::CooperationRequired => "cooperation_required",
        }
    }

    /// The form field the refusal is shown beside.
    pub fn field(self) -> &'static str {
        match self {
            RefusalReason::CooperationRequired => "cooperation",
        }
    }

    pub fn error(self) -> FieldError {
        match self {
            RefusalReason::CooperationRequired => FieldError::new(
                self.field(),
                self.as_str(),
                "this facility's admission rule requires cooperation with law enforcement (legal section: cooperation = Yes)",
            ),
        }
    }
}

/// The facts about a survivor an admission rule may look at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AdmissionFacts {
    /// The legal section says `cooperation = Yes`.
    pub cooperates: bool,
}

/// Checks the facility's rules against the survivor's facts: `Ok` or the first refusal.
pub fn admission_check(
    rules: &AdmissionRules,
    facts: &AdmissionFacts,
) -> Result<(), RefusalReason> {
    if rules.requires_cooperation && !facts.cooperates {
        return Err(RefusalReason::CooperationRequired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    #[test]
    fn thirty_days_from_the_earlier_date() {
        let p = reflection_period(
            Some(date!(2026 - 03 - 10)),
            Some(date!(2026 - 03 - 05)),
            30,
            date!(2026 - 03 - 05),
        )
        .unwrap();
        assert_eq!(p.starts_on, date!(2026 - 03 - 05));
        assert_eq!(p.ends_on, date!(2026 - 04 - 03));
        assert!(p.active);
        assert_eq!(p.days_left, 29);
        assert_eq!(
            reflection_period(None, None, 30, date!(2026 - 01 - 01)),
            None
        );
    }

    #[test]
    fn setting_below_thirty_is_refused_naming_days() {
        let e = validate_reflection_days(29).unwrap_err();
        assert_eq!((e.field.as_str(), e.code), ("days", "below_minimum"));
        assert_eq!(validate_reflection_days(30), Ok(30));
        assert_eq!(validate_reflection_days(90), Ok(90));
        assert!(validate_reflection_days(3651).is_err());
    }

    #[test]
    fn rules_off_admit_without_cooperation() {
        let off = AdmissionRules::default();
        assert!(admission_check(&off, &AdmissionFacts { cooperates: false }).is_ok());
        assert!(!off.conflicts_with_standards());
        let on = AdmissionRules {
            requires_cooperation: true,
        };
        assert_eq!(
            admission_check(&on, &AdmissionFacts { cooperates: false }),
            Err(RefusalReason::CooperationRequired)
        );
        assert!(admission_check(&on, &AdmissionFacts { cooperates: true }).is_ok());
        assert!(on.conflicts_with_standards());
    }

    fn day() -> impl Strategy<Value = Date> {
        (0i64..20_000).prop_map(|n| date!(2000 - 01 - 01) + Duration::days(n))
    }

    proptest! {
        /// The period is never shorter than 30 days, starts on the earlier known date, and
        /// `active` is exactly "today within [start, end]".
        #[test]
        fn period_at_least_minimum(a in proptest::option::of(day()), b in proptest::option::of(day()),
                                   days in -10i64..400, today in day()) {
            match reflection_period(a, b, days, today) {
                None => prop_assert!(a.is_none() && b.is_none()),
                Some(p) => {
                    let start = [a, b].into_iter().flatten().min().unwrap();
                    prop_assert_eq!(p.starts_on, start);
                    prop_assert!((p.ends_on - p.starts_on).whole_days() + 1 >= REFLECTION_MIN_DAYS);
                    prop_assert_eq!((p.ends_on - p.starts_on).whole_days() + 1, p.days);
                    prop_assert_eq!(p.active, p.starts_on <= today && today <= p.ends_on);
                    prop_assert!(p.days_left >= 0 && p.days_left < p.days);
                }
            }
        }

        /// With no condition switched on, every admission passes; a refusal always names a
        /// condition that is on.
        #[test]
        fn refusal_only_by_a_rule_that_is_on(req in any::<bool>(), coop in any::<bool>()) {
            let rules = AdmissionRules { requires_cooperation: req };
            let r = admission_check(&rules, &AdmissionFacts { cooperates: coop });
            prop_assert_eq!(r.is_err(), req && !coop);
            let none = AdmissionRules::default();
            let facts = AdmissionFacts { cooperates: coop };
            prop_assert!(admission_check(&none, &facts).is_ok());
        }
    }
}
