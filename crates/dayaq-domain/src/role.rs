use crate::error::FieldError;
use serde::{Deserialize, Serialize};

/// The roles of DESIGN.md §2. A user has exactly one role in one organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Caseworker,
    Supervisor,
    PoliceOfficer,
    HotlineOperator,
    OrgAdmin,
    NationalCoordinator,
    Researcher,
    Auditor,
    SystemAdmin,
}

impl Role {
    pub const ALL: &'static [Role] = &[
        Role::Caseworker,
        Role::Supervisor,
        Role::PoliceOfficer,
        Role::HotlineOperator,
        Role::OrgAdmin,
        Role::NationalCoordinator,
        Role::Researcher,
        Role::Auditor,
        Role::SystemAdmin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Caseworker => "caseworker",
            Role::Supervisor => "supervisor",
            Role::PoliceOfficer => "police_officer",
            Role::HotlineOperator => "hotline_operator",
            Role::OrgAdmin => "org_admin",
            Role::NationalCoordinator => "national_coordinator",
            Role::Researcher => "researcher",
            Role::Auditor => "auditor",
            Role::SystemAdmin => "system_admin",
        }
    }

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        Role::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                FieldError::new(
                    "role",
                    "invalid_value",
                    format!(
                        "unknown role; allowed: {}",
                        Role::ALL
                            .iter()
                            .map(|r| r.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })
    }

    /// Roles that must use a second factor (administrative and approving roles).
    pub fn requires_totp(self) -> bool {
        matches!(
            self,
            Role::Supervisor | Role::OrgAdmin | Role::SystemAdmin | Role::Auditor
        )
    }

    /// Roles that work with individual cases at all.
    pub fn works_cases(self) -> bool {
        matches!(
            self,
            Role::Caseworker | Role::Supervisor | Role::PoliceOfficer | Role::HotlineOperator
        )
    }
}
