//! Dependants linked to the case and the rule that compares child records with `prs_NumberOfChildren`.

use super::*;

// ---------------------------------------------------------------- dependants

/// A dependant (child) linked to the case. Give `birth_year` or `age`, not both.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DependantInput {
    #[serde(default)]
    pub relation: String,
    #[serde(rename = "prs_Gender", default)]
    pub gender: Option<String>,
    #[serde(default)]
    pub birth_year: Option<i64>,
    #[serde(default)]
    pub age: Option<i64>,
    /// Lives with the person (true) or elsewhere (false; then `whereabouts` may say where).
    #[serde(default)]
    pub with_victim: bool,
    /// Where the dependant lives when not with her: sealed with the case key.
    #[serde(default)]
    pub whereabouts: Option<String>,
    #[serde(default)]
    pub needs_schooling: bool,
    #[serde(default)]
    pub needs_childcare: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidDependant {
    pub relation: Relation,
    pub gender: Option<Gender>,
    pub birth_year: Option<i32>,
    pub with_victim: bool,
    pub whereabouts: Option<String>,
    pub needs_schooling: bool,
    pub needs_childcare: bool,
}

/// Oldest age (and furthest birth year back) accepted for a dependant.
pub const MAX_DEPENDANT_AGE: i64 = 100;

impl DependantInput {
    /// `today` turns an age into a birth year (this year minus the age: the year is what is
    /// kept, so "age 7" recorded in 2026 reads as born 2019).
    pub fn validate(self, today: Date) -> Result<ValidDependant, ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let relation = match self.relation.trim() {
            "" => {
                errs.push(required("relation"));
                None
            }
            r => Relation::parse(r).map_err(|e| errs.push(e)).ok(),
        };
        let gender = match self.gender.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(g) => Gender::parse(g).map_err(|e| errs.push(e)).ok(),
        };
        let year = i64::from(today.year());
        let birth_year = match (self.birth_year, self.age) {
            (Some(_), Some(_)) => {
                errs.push(FieldError::new(
                    "age",
                    "conflicts_with_birth_year",
                    "give birth_year or age, not both",
                ));
                None
            }
            (Some(y), None) if (year - MAX_DEPENDANT_AGE..=year).contains(&y) => Some(y),
            (Some(_), None) => {
                errs.push(FieldError::new(
                    "birth_year",
                    "out_of_range",
                    format!(
                        "birth_year must be between {} and {year}",
                        year - MAX_DEPENDANT_AGE
                    ),
                ));
                None
            }
            (None, Some(a)) if (0..=MAX_DEPENDANT_AGE).contains(&a) => Some(year - a),
            (None, Some(_)) => {
                errs.push(FieldError::new(
                    "age",
                    "out_of_range",
                    format!("age must be between 0 and {MAX_DEPENDANT_AGE}"),
                ));
                None
            }
            (None, None) => None,
        };
        let mut whereabouts = self.whereabouts;
        check_text(&mut errs, "whereabouts", &mut whereabouts, MAX_SHORT_TEXT);
        if self.with_victim && whereabouts.is_some() {
            errs.push(FieldError::new(
                "whereabouts",
                "only_when_elsewhere",
                "whereabouts is recorded only for a dependant who does not live with her",
            ));
        }
        errs.into_result()?;
        Ok(ValidDependant {
            relation: relation.ok_or_else(|| ValidationErrors::single(required("relation")))?,
            gender,
            birth_year: birth_year.and_then(|y| i32::try_from(y).ok()),
            with_victim: self.with_victim,
            whereabouts,
            needs_schooling: self.needs_schooling,
            needs_childcare: self.needs_childcare,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DependantView {
    pub id: uuid::Uuid,
    pub relation: Relation,
    #[serde(rename = "prs_Gender", skip_serializing_if = "Option::is_none")]
    pub gender: Option<Gender>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth_year: Option<i32>,
    /// This year minus the birth year.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age: Option<i32>,
    pub with_victim: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub whereabouts: Option<String>,
    pub needs_schooling: bool,
    pub needs_childcare: bool,
    pub created_at: String,
}

/// How the linked child records compare with `prs_NumberOfChildren`.
///
/// Rule: only dependants whose relation counts as a child (`Relation::counts_as_child`) are
/// compared. When `prs_NumberOfChildren` is set, the records may not exceed it (a new child
/// record beyond it is refused; correct the number first); fewer records are allowed (children
/// are recorded as the case worker learns about them) and shown as "n of N recorded". When it
/// is not set, any number may be recorded. If the number is later lowered below the records,
/// the mismatch is reported (`consistent = false`), never hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ChildrenCount {
    #[serde(rename = "prs_NumberOfChildren")]
    pub declared: Option<i64>,
    pub recorded: i64,
    pub consistent: bool,
    pub complete: bool,
}

pub fn children_count(declared: Option<i64>, recorded: i64) -> ChildrenCount {
    ChildrenCount {
        declared,
        recorded,
        consistent: declared.is_none_or(|d| recorded <= d),
        complete: declared.is_some_and(|d| recorded == d),
    }
}

/// Whether one more dependant of `relation` may be linked, given the declared number and
/// the child records already linked.
pub fn check_new_dependant(
    relation: Relation,
    declared: Option<i64>,
    recorded_children: i64,
) -> Result<(), FieldError> {
    match declared {
        Some(d) if relation.counts_as_child() && recorded_children >= d => Err(FieldError::new(
            "prs_NumberOfChildren",
            "exceeds_number_of_children",
            "the case records fewer children (prs_NumberOfChildren) than this would link; correct prs_NumberOfChildren first",
        )),
        _ => Ok(()),
    }
}
