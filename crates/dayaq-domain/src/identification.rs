//! Intake, screening, the formal identification decision and consent — the rules, no I/O.

use crate::error::{FieldError, ValidationErrors};
use crate::vocab::{DecisionMakingOrg, MethodOfControl, TraffickingStatus, TypeOfExploitation};
use serde::{Deserialize, Serialize};

/// How a person came to the mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum ContactChannel {
    Hotline,
    Police,
    NgoOutreach,
    SelfReferral,
    MigrationService,
    IomReturn,
}

impl ContactChannel {
    pub const ALL: &'static [ContactChannel] = &[
        ContactChannel::Hotline,
        ContactChannel::Police,
        ContactChannel::NgoOutreach,
        ContactChannel::SelfReferral,
        ContactChannel::MigrationService,
        ContactChannel::IomReturn,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ContactChannel::Hotline => "Hotline",
            ContactChannel::Police => "Police",
            ContactChannel::NgoOutreach => "NgoOutreach",
            ContactChannel::SelfReferral => "SelfReferral",
            ContactChannel::MigrationService => "MigrationService",
            ContactChannel::IomReturn => "IomReturn",
        }
    }
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        Self::ALL.iter().copied().find(|c| c.as_str() == s).ok_or_else(|| {
            FieldError::new(
                "channel",
                "invalid_value",
                "channel must be one of Hotline, Police, NgoOutreach, SelfReferral, MigrationService, IomReturn",
            )
        })
    }
}

/// ILO indicators of forced labour (ILO, 2012).
pub const ILO_INDICATORS: &[&str] = &[
    "AbuseOfVulnerability",
    "Deception",
    "RestrictionOfMovement",
    "Isolation",
    "PhysicalAndSexualViolence",
    "IntimidationAndThreats",
    "RetentionOfIdentityDocuments",
    "WithholdingOfWages",
    "DebtBondage",
    "AbusiveWorkingAndLivingConditions",
    "ExcessiveOvertime",
];

/// Structured screening against the UN Protocol definition.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScreeningInput {
    /// Act: recruitment, transport, transfer, harbouring or receipt of persons.
    #[serde(default)]
    pub act: bool,
    /// Means: threat, force, coercion, abduction, fraud, deception, abuse of power or of a
    /// position of vulnerability, giving or receiving payments.
    #[serde(default)]
    pub means: bool,
    /// Purpose: exploitation.
    #[serde(default)]
    pub purpose: bool,
    /// Under 18 at the time: the means element is not required.
    #[serde(default)]
    pub is_child: bool,
    #[serde(rename = "vic_MethodsOfControl", default)]
    pub methods_of_control: Vec<String>,
    #[serde(rename = "vic_TypeOfExploitation", default)]
    pub types_of_exploitation: Vec<String>,
    #[serde(default)]
    pub ilo_indicators: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ValidScreening {
    pub act: bool,
    pub means: bool,
    pub purpose: bool,
    pub is_child: bool,
    pub methods_of_control: Vec<MethodOfControl>,
    pub types_of_exploitation: Vec<TypeOfExploitation>,
    pub ilo_indicators: Vec<String>,
    /// The rule's answer: possible victim of trafficking or not.
    pub possible_victim: bool,
}

/// The UN Protocol rule: act + purpose, and means unless the person is a child.
pub fn is_possible_victim(act: bool, means: bool, purpose: bool, is_child: bool) -> bool {
    act && purpose && (means || is_child)
}

impl ScreeningInput {
    pub fn validate(self) -> Result<ValidScreening, ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let mut moc = Vec::new();
        for (i, m) in self.methods_of_control.iter().enumerate() {
            match MethodOfControl::parse_for(&format!("vic_MethodsOfControl[{i}]"), m) {
                Ok(v) if !moc.contains(&v) => moc.push(v),
                Ok(_) => {}
                Err(e) => errs.push(e),
            }
        }
        let mut toe = Vec::new();
        for (i, m) in self.types_of_exploitation.iter().enumerate() {
            match TypeOfExploitation::parse_for(&format!("vic_TypeOfExploitation[{i}]"), m) {
                Ok(v) if !toe.contains(&v) => toe.push(v),
                Ok(_) => {}
                Err(e) => errs.push(e),
            }
        }
        let mut ilo = Vec::new();
        for (i, m) in self.ilo_indicators.iter().enumerate() {
            if ILO_INDICATORS.contains(&m.as_str()) {
                if !ilo.contains(m) {
                    ilo.push(m.clone());
                }
            } else {
                errs.push(FieldError::new(
                    format!("ilo_indicators[{i}]"),
                    "invalid_value",
                    format!(
                        "not an ILO forced-labour indicator; allowed: {}",
                        ILO_INDICATORS.join(", ")
                    ),
                ));
            }
        }
        errs.into_result()?;
        Ok(ValidScreening {
            possible_victim: is_possible_victim(self.act, self.means, self.purpose, self.is_child),
            act: self.act,
            means: self.means,
            purpose: self.purpose,
            is_child: self.is_child,
            methods_of_control: moc,
            types_of_exploitation: toe,
            ilo_indicators: ilo,
        })
    }
}

/// A formal identification decision (HTCDS `vic_TraffickingStatus` and its decision fields).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    #[serde(rename = "vic_TraffickingStatus", default)]
    pub status: String,
    #[serde(rename = "vic_TraffickingStatusDecisionMakingOrg", default)]
    pub decision_making_org: String,
    /// Date of the decision (YYYY-MM-DD).
    #[serde(default)]
    pub decided_on: String,
    /// The decision's document reference (not personal data of the survivor).
    #[serde(default)]
    pub reference: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ValidDecision {
    pub status: TraffickingStatus,
    pub decision_making_org: DecisionMakingOrg,
    pub decided_on: String,
    pub reference: String,
}

impl DecisionInput {
    pub fn validate(self, today: time::Date) -> Result<ValidDecision, ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let status = TraffickingStatus::parse(&self.status)
            .map_err(|e| errs.push(e))
            .ok();
        let org = DecisionMakingOrg::parse(&self.decision_making_org)
            .map_err(|e| errs.push(e))
            .ok();
        match crate::case::parse_date("decided_on", &self.decided_on) {
            Ok(d) if d > today => errs.push(FieldError::new(
                "decided_on",
                "in_future",
                "decided_on is in the future",
            )),
            Ok(_) => {}
            Err(e) => errs.push(e),
        }
        let reference = self.reference.trim().to_string();
        if reference.is_empty() || reference.chars().count() > 100 {
            errs.push(FieldError::new(
                "reference",
                "invalid_length",
                "reference must be 1-100 characters",
            ));
        }
        errs.into_result()?;
        match (status, org) {
            (Some(status), Some(decision_making_org)) => Ok(ValidDecision {
                status,
                decision_making_org,
                decided_on: self.decided_on,
                reference,
            }),
            _ => Err(ValidationErrors::default()),
        }
    }
}

/// Rights that follow from the identification status (used by assistance and shelter rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Rights {
    /// The one-time allowance (AZN 400): only for a formally identified victim.
    pub one_time_allowance: bool,
    /// Admission to the state shelter (an identified victim; any further admission condition,
    /// such as cooperation with law enforcement, is a per-facility rule: `rules::AdmissionRules`,
    /// off by default).
    pub state_shelter: bool,
    /// NGO assistance is open to possible victims too.
    pub ngo_assistance: bool,
}

pub fn rights(status: TraffickingStatus) -> Rights {
    let actual = status == TraffickingStatus::ActualVictimOfTrafficking;
    Rights {
        one_time_allowance: actual,
        state_shelter: actual,
        ngo_assistance: status != TraffickingStatus::NotAVictimOfTrafficking,
    }
}

/// What a consent is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum ConsentPurpose {
    Assistance,
    SharingWithOrganisation,
    SharingWithOrganisationType,
    FollowUpContact,
    Research,
}

impl ConsentPurpose {
    pub const ALL: &'static [ConsentPurpose] = &[
        ConsentPurpose::Assistance,
        ConsentPurpose::SharingWithOrganisation,
        ConsentPurpose::SharingWithOrganisationType,
        ConsentPurpose::FollowUpContact,
        ConsentPurpose::Research,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentPurpose::Assistance => "Assistance",
            ConsentPurpose::SharingWithOrganisation => "SharingWithOrganisation",
            ConsentPurpose::SharingWithOrganisationType => "SharingWithOrganisationType",
            ConsentPurpose::FollowUpContact => "FollowUpContact",
            ConsentPurpose::Research => "Research",
        }
    }
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        Self::ALL.iter().copied().find(|c| c.as_str() == s).ok_or_else(|| {
            FieldError::new(
                "purpose",
                "invalid_value",
                "purpose must be one of Assistance, SharingWithOrganisation, SharingWithOrganisationType, FollowUpContact, Research",
            )
        })
    }
}

/// One consent record as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ConsentFact {
    pub purpose: ConsentPurpose,
    pub given: bool,
    pub recipient_org: Option<uuid::Uuid>,
    pub recipient_org_type: Option<crate::vocab::OrgType>,
    pub withdrawn: bool,
}

/// Is sharing with `org` (of type `org_type`) covered? The newest record per scope wins; a
/// withdrawn or declined consent never covers.
pub fn sharing_covered(
    consents: &[ConsentFact],
    org: uuid::Uuid,
    org_type: crate::vocab::OrgType,
) -> bool {
    consents.iter().any(|c| {
        c.given
            && !c.withdrawn
            && match c.purpose {
                ConsentPurpose::SharingWithOrganisation => c.recipient_org == Some(org),
                ConsentPurpose::SharingWithOrganisationType => {
                    c.recipient_org_type == Some(org_type)
                }
                _ => false,
            }
    })
}

/// Is a follow-up contact covered?
pub fn follow_up_covered(consents: &[ConsentFact]) -> bool {
    consents
        .iter()
        .any(|c| c.given && !c.withdrawn && c.purpose == ConsentPurpose::FollowUpContact)
}

/// An intake contact as typed on the screen (issue #23 §3): a contact without any summary is
/// empty and refused, so a double click or a stray submit does not leave blank records.
pub fn contact_summary(summary: &str) -> Result<&str, ValidationErrors> {
    let s = summary.trim();
    if s.is_empty() {
        return Err(ValidationErrors::single(FieldError::new(
            "summary",
            "empty_contact",
            "write what the contact was about",
        )));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn children_need_no_means() {
        assert!(is_possible_victim(true, false, true, true));
        assert!(!is_possible_victim(true, false, true, false));
        assert!(is_possible_victim(true, true, true, false));
        assert!(!is_possible_victim(false, true, true, true));
    }

    #[test]
    fn rights_follow_status() {
        assert!(rights(TraffickingStatus::ActualVictimOfTrafficking).one_time_allowance);
        assert!(!rights(TraffickingStatus::PossibleVictimOfTrafficking).one_time_allowance);
        assert!(!rights(TraffickingStatus::NotAVictimOfTrafficking).ngo_assistance);
    }

    proptest! {
        #[test]
        fn without_act_or_purpose_never_a_possible_victim(means: bool, child: bool, act: bool, purpose: bool) {
            if !act || !purpose {
                prop_assert!(!is_possible_victim(act, means, purpose, child));
            }
        }

        #[test]
        fn withdrawn_or_declined_consent_never_covers(given: bool, withdrawn: bool) {
            let org = uuid::Uuid::from_u128(9);
            let c = ConsentFact {
                purpose: ConsentPurpose::SharingWithOrganisation,
                given,
                recipient_org: Some(org),
                recipient_org_type: None,
                withdrawn,
            };
            prop_assert_eq!(sharing_covered(&[c], org, crate::vocab::OrgType::NGO), given && !withdrawn);
        }
    }

    #[test]
    fn an_empty_contact_is_refused_by_its_summary() {
        assert_eq!(
            contact_summary(" \n ").map_err(|e| (e.errors[0].field.clone(), e.errors[0].code)),
            Err(("summary".to_string(), "empty_contact"))
        );
        assert_eq!(
            contact_summary(" called about work ").ok(),
            Some("called about work")
        );
    }

    proptest::proptest! {
        /// Exactly the summaries with a visible character are accepted, trimmed.
        #[test]
        fn contact_summary_accepts_exactly_non_blank(s in "[ \ta-z]{0,10}") {
            let r = contact_summary(&s);
            proptest::prop_assert_eq!(r.is_ok(), !s.trim().is_empty());
            if let Ok(t) = r { proptest::prop_assert_eq!(t, s.trim()); }
        }
    }
}
