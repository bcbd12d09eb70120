//! The reintegration questionnaire (IOM domains): questions, answers, trajectories.

use super::*;

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

pub(super) const fn single(
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
pub(super) const UNRANKED: &[&str] = &["not_applicable", "no_children", "planning_other"];

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

pub(super) fn rank(q: &Question, code: &str) -> Option<usize> {
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
