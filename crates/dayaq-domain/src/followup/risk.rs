//! Re-trafficking risk flags raised by the standing answers (the latest answer to each
//! question) and their plan suggestions.

use super::*;

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

pub(super) struct Rule {
    pub(super) code: &'static str,
    pub(super) level: &'static str,
    pub(super) action: &'static str,
    /// `NeedDomain` of a goal made from the flag.
    pub(super) domain: &'static str,
    /// All conditions must hold; each is (question, any of these codes).
    pub(super) all: &'static [(&'static str, &'static [&'static str])],
}

/// The rules, in full (shown in docs/FOLLOWUP.md). No weights, no scores.
pub(super) const RULES: &[Rule] = &[
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

/// The standing answer to each question over a case's assessments, oldest first: for every
/// question, the answer of the latest assessment that asked it (has an answer for it). An
/// assessment that leaves a question out (a two-question self check-in, a partial interview)
/// changes nothing for that question.
pub fn standing_answers(history: &[Answers]) -> Answers {
    let mut out = Answers::new();
    for a in history {
        for (k, v) in a {
            if !v.is_empty() {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

/// The risk flags of a case over its assessments, oldest first: the rules applied to the
/// [`standing_answers`]. A flag raised by a fuller assessment stays until a later assessment
/// that actually asks one of its questions clears it; a self check-in that asks only how she
/// is and what help she needs neither hides nor clears the others.
pub fn current_risk_flags(history: &[Answers]) -> Vec<RiskFlag> {
    risk_flags(&standing_answers(history))
}

/// Is this a flag code of the rules?
pub fn is_flag_code(code: &str) -> bool {
    RULES.iter().any(|r| r.code == code)
}

/// The suggestion for the plan of a flag code.
pub fn flag_action(code: &str) -> Option<&'static str> {
    RULES.iter().find(|r| r.code == code).map(|r| r.action)
}

pub(super) fn a_match(a: &Answers, key: &str, codes: &[&str]) -> Option<String> {
    a.get(key)?
        .iter()
        .find(|c| codes.contains(&c.as_str()))
        .cloned()
}
