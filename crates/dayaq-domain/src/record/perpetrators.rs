//! Perpetrator roles (`per_RoleInProcess`, `per_RoleDetails`; no perpetrator identity).

use super::*;

// ---------------------------------------------------------------- perpetrator roles

/// One perpetrator's part in the process, without identity. Unknown keys are rejected.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PerpetratorInput {
    #[serde(rename = "per_RoleInProcess", default)]
    pub roles: Vec<String>,
    #[serde(rename = "per_RoleDetails", default)]
    pub details: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidPerpetrator {
    /// Deduplicated, in HTCDS list order.
    pub roles: Vec<PerpetratorRole>,
    pub details: Option<String>,
}

impl PerpetratorInput {
    /// At least one role; every role an HTCDS value; "Other" needs details.
    pub fn validate(self) -> Result<ValidPerpetrator, ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let mut roles = Vec::new();
        for (i, r) in self.roles.iter().enumerate() {
            match PerpetratorRole::parse_for(&format!("per_RoleInProcess[{i}]"), r.trim()) {
                Ok(r) if !roles.contains(&r) => roles.push(r),
                Ok(_) => {}
                Err(e) => errs.push(e),
            }
        }
        if self.roles.is_empty() {
            errs.push(required("per_RoleInProcess"));
        }
        roles.sort();
        let mut details = self.details;
        check_text(&mut errs, "per_RoleDetails", &mut details, MAX_LONG_TEXT);
        if roles.contains(&PerpetratorRole::Other) && details.is_none() {
            errs.push(FieldError::new(
                "per_RoleDetails",
                "required_for_other",
                "per_RoleDetails is required when per_RoleInProcess includes Other",
            ));
        }
        errs.into_result()?;
        Ok(ValidPerpetrator { roles, details })
    }
}

/// Stored form of a role list: HTCDS value names joined by `;` (as HTCDS multiselects).
pub fn encode_roles(roles: &[PerpetratorRole]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(";")
}

/// Reads a stored role list; unknown names are an error (the database is checked data).
pub fn decode_roles(s: &str) -> Result<Vec<PerpetratorRole>, FieldError> {
    s.split(';')
        .filter(|x| !x.is_empty())
        .map(PerpetratorRole::parse)
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PerpetratorView {
    pub id: uuid::Uuid,
    #[serde(rename = "per_RoleInProcess")]
    pub roles: Vec<PerpetratorRole>,
    #[serde(rename = "per_RoleDetails", skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    pub created_at: String,
}
