//! HTCDS picklists. Variant names are the HTCDS value names and are what the database, the
//! JSON API and the exports carry. Parsing is exact (case-sensitive), as in the standard.

use crate::error::FieldError;

/// Defines a closed-list enum whose string form is exactly the variant name, with `FIELD`,
/// `ALL`, `as_str`, `parse` and `parse_for`. Parsing is exact (case-sensitive); the error names
/// the field, starts with `$msg` and lists the allowed values (never the submitted one). Used
/// by the HTCDS picklists here and by the closed lists of the other areas.
macro_rules! closed_enum {
    ($msg:literal, $(#[$m:meta])* $name:ident, $field:literal, [$($variant:ident),+ $(,)?]) => {
        $(#[$m])*
        #[allow(non_camel_case_types)] // HTCDS value names are the variant names
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                 serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// The field this list belongs to.
            pub const FIELD: &'static str = $field;
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => stringify!($variant)),+ }
            }

            /// Parses a value name; the error names the field and lists allowed values.
            pub fn parse(s: &str) -> Result<Self, $crate::error::FieldError> {
                Self::parse_for(Self::FIELD, s)
            }

            pub fn parse_for(field: &str, s: &str) -> Result<Self, $crate::error::FieldError> {
                match s {
                    $(stringify!($variant) => Ok($name::$variant),)+
                    _ => Err($crate::error::FieldError::new(
                        field,
                        "invalid_value",
                        format!(concat!($msg, " {}; allowed: {}"), field,
                            [$(stringify!($variant)),+].join(", ")),
                    )),
                }
            }
        }
    };
}
pub(crate) use closed_enum;

/// Defines a picklist enum whose string form is exactly the HTCDS value name (a closed list
/// that also prints and parses with `Display` / `FromStr`).
macro_rules! picklist {
    ($(#[$m:meta])* $name:ident, $($rest:tt)*) => {
        closed_enum!("not an HTCDS value for", $(#[$m])* $name, $($rest)*);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = FieldError;
            fn from_str(s: &str) -> Result<Self, FieldError> { Self::parse(s) }
        }
    };
}

picklist!(
    /// HTCDS `org_Type`.
    OrgType, "org_Type",
    [NGO, LawEnforcement, HealthServiceOrganisation, CentralGovernmentOrganisation,
     LocalGovernmentOrganisation, ImmigrationService, LegalService, CorporateBusiness,
     SchoolOrCollege]
);

picklist!(
    /// HTCDS `prs_Gender`.
    Gender, "prs_Gender",
    [Feminine, Masculine, TransgenderFeminine, TransgenderMasculine, NonConforming,
     NonSpecifiedUnknown]
);

picklist!(
    /// HTCDS `prs_MaritalStatus`.
    MaritalStatus, "prs_MaritalStatus",
    [Single, Married, Widowed, Divorced, Separated, RegisteredPartnership]
);

picklist!(
    /// HTCDS `vic_TraffickingStatus`.
    TraffickingStatus, "vic_TraffickingStatus",
    [PossibleVictimOfTrafficking, ActualVictimOfTrafficking, NotAVictimOfTrafficking]
);

picklist!(
    /// HTCDS `vic_TraffickingStatusDecisionMakingOrg`.
    DecisionMakingOrg, "vic_TraffickingStatusDecisionMakingOrg",
    [Police, NGO, CourtOrProsecution, NonPoliceGovernmentalOrganization, Other]
);

picklist!(
    /// HTCDS `cas_Status`.
    CaseStatus, "cas_Status",
    [Active, FollowUp, Closed, ClosedReferred]
);

picklist!(
    /// HTCDS `vic_TypeOfExploitation`.
    TypeOfExploitation, "vic_TypeOfExploitation",
    [ForcedLabour, SexualExploitation, ChildLabour, ForcedMarriage, Servitude,
     ForcedMilitaryByNonStateActors, OrganRemoval, ForcedBegging, ForcedAdoption, Surrogacy,
     Other]
);

picklist!(
    /// HTCDS `vic_MethodsOfControl`.
    MethodOfControl, "vic_MethodsOfControl",
    [PhysicalThreats, ThreatsLawEnforcement, ThreatensChildrenFamily, DebtBondage,
     FalsePromises, PhysicalAbuse, SexualAbuse, TakesEarnings, RestrictsFinancialAccess,
     RestrictsMedicalCare, WithholdsNecessities, PsychologicalAbuse, PsychoactiveSubstance,
     ExcessiveWorkingHours, WithholdsDocuments, Other]
);

picklist!(
    /// HTCDS `vic_RelationshipToTrafficker`.
    RelationshipToTrafficker, "vic_RelationshipToTrafficker",
    [Familial, Acquainted, Unaquainted]
);

picklist!(
    /// HTCDS `cas_ReasonForOutgoingReferral` (also `cas_ReasonForIncomingReferral`).
    ReferralReason, "cas_ReasonForOutgoingReferral",
    [AdditionalServicesRequired, MigrationOrChangeOfLocation, Other]
);

picklist!(
    /// HTCDS `vic_MethodOfRecruitment`.
    MethodOfRecruitment, "vic_MethodOfRecruitment",
    [AtAPlaceOfBusiness, AtAnEducationalInstitution, AtWork, ThroughOnlineSocialNetworks,
     ThroughAnOnlineAdvertisement, ThroughATelevisionAdvert, ThroughANewspaperAdvert,
     ThroughFamilyOrFamilyEvents, ThroughFriendsOrSocialEvents, Other]
);

/// HTCDS `vic_RecruitmentWebsitesAndApps` / `vic_ExploitationWebsitesAndApps` values
/// ("4Sale" is not a Rust identifier, so this list is checked as strings).
pub const WEBSITES_AND_APPS: &[&str] = &[
    "Facebook",
    "Instagram",
    "WhatsApp",
    "Telegram",
    "FacebookMessenger",
    "Viber",
    "SnapChat",
    "Line",
    "4Sale",
    "WeChat",
    "QQ",
    "QZone",
    "TikTok",
    "Twitter",
    "Other",
];

picklist!(
    /// HTCDS `vic_ForcedLabourIndustry` (ISIC sections).
    ForcedLabourIndustry, "vic_ForcedLabourIndustry",
    [A_AgricultureForestryAndFishing, B_MiningAndQuarrying, C_Manufacturing,
     D_ElectricityGasSteamAndAirConditioningSupply, E_WaterSupplySewerageWasteManagement,
     F_Construction, G_WholesaleAndRetailTradeRepairOfMotorVehicles, H_TransportationAndStorage,
     I_AccommodationAndFoodServiceActivities, J_InformationAndCommunication,
     K_FinancialAndInsuranceActivities, L_RealEstateActivities,
     M_ProfessionalScientificAndTechnicalActivities, N_AdministrativeAndSupportServiceActivities,
     O_PublicAdministrationAndDefence, P_Education, Q_HumanHealthAndSocialWorkActivities,
     R_ArtsEntertainmentAndRecreation, S_OtherServiceActivities,
     T_ActivitiesOfHouseholdsAsEmployers, U_ActivitiesOfExtraterritorialOrganizations]
);

picklist!(
    /// HTCDS `vic_TypeOfSexExploitation`.
    TypeOfSexExploitation, "vic_TypeOfSexExploitation",
    [Prostitution, Pornography, RemoteInteractiveServices, PrivateSexualServices]
);

picklist!(
    /// HTCDS `vic_Vulnerabilities`.
    Vulnerability, "vic_Vulnerabilities",
    [Addiction, SocialGroup, Discrimination, Poverty, DisabilityAndPhysicalHealth, MentalHealth,
     Migration, Homelessness, AbuseSocialMedia, AbusePhysical, Education, WorkEnvironment]
);

/// ISO 639 language code (two or three lowercase letters), as HTCDS asks for languages.
pub fn parse_language(field: &str, s: &str) -> Result<String, FieldError> {
    if (2..=3).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase()) {
        Ok(s.to_string())
    } else {
        Err(FieldError::new(
            field,
            "invalid_language",
            format!("{field} must be an ISO 639 language code such as az, ru or uzb"),
        ))
    }
}

/// ISO 3166-1 alpha-2 country code, as HTCDS asks for `prs_Citizenship`.
/// Checked for shape (two ASCII capitals) and against the assigned-code list.
pub fn parse_country(field: &str, s: &str) -> Result<String, FieldError> {
    if s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()) && ISO3166_ALPHA2.contains(&s) {
        Ok(s.to_string())
    } else {
        Err(FieldError::new(
            field,
            "invalid_country",
            format!("{field} must be an ISO 3166-1 alpha-2 code such as AZ"),
        ))
    }
}

/// ISO 3166-1 alpha-2 officially assigned codes.
pub const ISO3166_ALPHA2: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn value_names_round_trip() {
        for g in Gender::ALL {
            assert_eq!(Gender::parse(g.as_str()), Ok(*g));
        }
        for t in OrgType::ALL {
            assert_eq!(OrgType::parse(t.as_str()), Ok(*t));
        }
        assert_eq!(
            serde_json::to_string(&Gender::Feminine).ok().as_deref(),
            Some("\"Feminine\"")
        );
    }

    proptest! {
        /// Any string that is not an HTCDS value name is rejected, and the error names the field.
        #[test]
        fn rejects_values_outside_htcds(s in ".{0,24}") {
            let known = Gender::ALL.iter().any(|g| g.as_str() == s);
            match Gender::parse(&s) {
                Ok(g) => prop_assert!(known && g.as_str() == s),
                Err(e) => {
                    prop_assert!(!known);
                    prop_assert_eq!(e.field, "prs_Gender");
                    prop_assert_eq!(e.code, "invalid_value");
                }
            }
            let known = CaseStatus::ALL.iter().any(|g| g.as_str() == s);
            prop_assert_eq!(CaseStatus::parse(&s).is_ok(), known);
            let known = ISO3166_ALPHA2.contains(&s.as_str());
            prop_assert_eq!(parse_country("prs_Citizenship", &s).is_ok(), known);
        }
    }

    #[test]
    fn lowercase_is_not_a_value_name() {
        assert!(Gender::parse("feminine").is_err());
        assert!(parse_country("prs_Citizenship", "az").is_err());
        assert!(parse_country("prs_Citizenship", "XX").is_err());
    }
}
