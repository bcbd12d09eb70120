//! The case record as the API and the exports see it, with HTCDS field names as keys.
//!
//! Input arrives as `CaseInput` (all strings, so every error can name its field), and
//! `CaseInput::validate` turns it into a `ValidCase` or a list of field errors.

use crate::error::{FieldError, ValidationErrors};
use crate::vocab::{CaseStatus, Gender, TraffickingStatus, TypeOfExploitation, parse_country};
use serde::{Deserialize, Serialize};
use time::Date;

/// Identity fields: encrypted at rest under the case key, never logged, never in URLs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Identity {
    #[serde(
        rename = "prs_FirstName",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub first_name: Option<String>,
    #[serde(
        rename = "prs_MiddleName",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub middle_name: Option<String>,
    #[serde(
        rename = "prs_SecondName",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub second_name: Option<String>,
    /// ISO 8601 date (YYYY-MM-DD).
    #[serde(
        rename = "prs_Birthdate",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub birthdate: Option<String>,
    #[serde(
        rename = "prs_IdentityNumber",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub identity_number: Option<String>,
    #[serde(
        rename = "prs_MobilePhone",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub mobile_phone: Option<String>,
    #[serde(
        rename = "prs_HomePhone",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub home_phone: Option<String>,
    #[serde(rename = "prs_Email", skip_serializing_if = "Option::is_none", default)]
    pub email: Option<String>,
    #[serde(
        rename = "prs_MailingStreet",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub mailing_street: Option<String>,
    #[serde(
        rename = "prs_MailingCity",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub mailing_city: Option<String>,
    #[serde(
        rename = "prs_MailingCountry",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub mailing_country: Option<String>,
    /// Free-text case notes (HTCDS `cco_CaseComment`).
    #[serde(
        rename = "cco_CaseComment",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub notes: Option<String>,
}

/// Victim context and further person attributes (not identifying; queryable for statistics).
/// HTCDS names and value names; multi-select fields are lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VictimContext {
    #[serde(
        rename = "prs_MaritalStatus",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub marital_status: Option<String>,
    #[serde(
        rename = "prs_NumberOfChildren",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub number_of_children: Option<i64>,
    #[serde(
        rename = "prs_PrimaryLanguage",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub primary_language: Option<String>,
    #[serde(
        rename = "prs_SecondaryLanguage",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub secondary_language: Option<String>,
    #[serde(
        rename = "vic_RelationshipToTrafficker",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub relationship_to_trafficker: Option<String>,
    #[serde(
        rename = "vic_MethodOfRecruitment",
        skip_serializing_if = "Vec::is_empty",
        default
    )]
    pub method_of_recruitment: Vec<String>,
    #[serde(
        rename = "vic_RecruitmentWebsitesAndApps",
        skip_serializing_if = "Vec::is_empty",
        default
    )]
    pub recruitment_websites_and_apps: Vec<String>,
    #[serde(
        rename = "vic_MethodsOfControl",
        skip_serializing_if = "Vec::is_empty",
        default
    )]
    pub methods_of_control: Vec<String>,
    #[serde(
        rename = "vic_ForcedLabourIndustry",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub forced_labour_industry: Option<String>,
    #[serde(
        rename = "vic_TypeOfSexExploitation",
        skip_serializing_if = "Vec::is_empty",
        default
    )]
    pub type_of_sex_exploitation: Vec<String>,
    #[serde(
        rename = "vic_Vulnerabilities",
        skip_serializing_if = "Vec::is_empty",
        default
    )]
    pub vulnerabilities: Vec<String>,
}

/// The single-valued and multi-valued attribute fields of `VictimContext`, in a fixed order.
pub const CONTEXT_FIELDS: &[&str] = &[
    "prs_MaritalStatus",
    "prs_NumberOfChildren",
    "prs_PrimaryLanguage",
    "prs_SecondaryLanguage",
    "vic_RelationshipToTrafficker",
    "vic_MethodOfRecruitment",
    "vic_RecruitmentWebsitesAndApps",
    "vic_MethodsOfControl",
    "vic_ForcedLabourIndustry",
    "vic_TypeOfSexExploitation",
    "vic_Vulnerabilities",
];

impl VictimContext {
    /// Checks every value against HTCDS; normalises (deduplicates lists).
    pub fn validate(&mut self, errs: &mut ValidationErrors) {
        use crate::vocab::{
            ForcedLabourIndustry, MaritalStatus, MethodOfControl, MethodOfRecruitment,
            RelationshipToTrafficker, TypeOfSexExploitation, Vulnerability, WEBSITES_AND_APPS,
            parse_language,
        };
        fn single(
            errs: &mut ValidationErrors,
            v: &mut Option<String>,
            check: impl Fn(&str) -> Result<(), FieldError>,
        ) {
            empty_to_none(v);
            if let Some(x) = v
                && let Err(e) = check(x)
            {
                errs.push(e);
            }
        }
        fn many(
            errs: &mut ValidationErrors,
            field: &str,
            v: &mut Vec<String>,
            check: impl Fn(&str, &str) -> Result<(), FieldError>,
        ) {
            let mut out: Vec<String> = Vec::new();
            for (i, x) in v.iter().enumerate() {
                match check(&format!("{field}[{i}]"), x) {
                    Ok(()) if !out.contains(x) => out.push(x.clone()),
                    Ok(()) => {}
                    Err(e) => errs.push(e),
                }
            }
            // Canonical order (as stored and exported): sorted by value name.
            out.sort();
            *v = out;
        }
        single(errs, &mut self.marital_status, |x| {
            MaritalStatus::parse(x).map(|_| ())
        });
        single(errs, &mut self.primary_language, |x| {
            parse_language("prs_PrimaryLanguage", x).map(|_| ())
        });
        single(errs, &mut self.secondary_language, |x| {
            parse_language("prs_SecondaryLanguage", x).map(|_| ())
        });
        single(errs, &mut self.relationship_to_trafficker, |x| {
            RelationshipToTrafficker::parse(x).map(|_| ())
        });
        single(errs, &mut self.forced_labour_industry, |x| {
            ForcedLabourIndustry::parse(x).map(|_| ())
        });
        if let Some(n) = self.number_of_children
            && !(0..=30).contains(&n)
        {
            errs.push(FieldError::new(
                "prs_NumberOfChildren",
                "out_of_range",
                "prs_NumberOfChildren must be between 0 and 30",
            ));
        }
        many(
            errs,
            "vic_MethodOfRecruitment",
            &mut self.method_of_recruitment,
            |f, x| MethodOfRecruitment::parse_for(f, x).map(|_| ()),
        );
        many(
            errs,
            "vic_RecruitmentWebsitesAndApps",
            &mut self.recruitment_websites_and_apps,
            |f, x| {
                if WEBSITES_AND_APPS.contains(&x) {
                    Ok(())
                } else {
                    Err(FieldError::new(
                        f,
                        "invalid_value",
                        format!(
                            "not an HTCDS value for {f}; allowed: {}",
                            WEBSITES_AND_APPS.join(", ")
                        ),
                    ))
                }
            },
        );
        many(
            errs,
            "vic_MethodsOfControl",
            &mut self.methods_of_control,
            |f, x| MethodOfControl::parse_for(f, x).map(|_| ()),
        );
        many(
            errs,
            "vic_TypeOfSexExploitation",
            &mut self.type_of_sex_exploitation,
            |f, x| TypeOfSexExploitation::parse_for(f, x).map(|_| ()),
        );
        many(
            errs,
            "vic_Vulnerabilities",
            &mut self.vulnerabilities,
            |f, x| Vulnerability::parse_for(f, x).map(|_| ()),
        );
    }

    /// (field, value) rows for storage; lists give one row per value.
    pub fn to_values(&self) -> Vec<(&'static str, String)> {
        let mut v: Vec<(&'static str, String)> = Vec::new();
        let singles = [
            ("prs_MaritalStatus", self.marital_status.clone()),
            (
                "prs_NumberOfChildren",
                self.number_of_children.map(|n| n.to_string()),
            ),
            ("prs_PrimaryLanguage", self.primary_language.clone()),
            ("prs_SecondaryLanguage", self.secondary_language.clone()),
            (
                "vic_RelationshipToTrafficker",
                self.relationship_to_trafficker.clone(),
            ),
            (
                "vic_ForcedLabourIndustry",
                self.forced_labour_industry.clone(),
            ),
        ];
        for (f, x) in singles {
            if let Some(x) = x {
                v.push((f, x));
            }
        }
        for (f, xs) in [
            ("vic_MethodOfRecruitment", &self.method_of_recruitment),
            (
                "vic_RecruitmentWebsitesAndApps",
                &self.recruitment_websites_and_apps,
            ),
            ("vic_MethodsOfControl", &self.methods_of_control),
            ("vic_TypeOfSexExploitation", &self.type_of_sex_exploitation),
            ("vic_Vulnerabilities", &self.vulnerabilities),
        ] {
            v.extend(xs.iter().map(|x| (f, x.clone())));
        }
        v
    }

    /// Rebuilds the context from stored (field, value) rows; unknown fields are ignored.
    pub fn from_values(values: &[(String, String)]) -> VictimContext {
        let mut c = VictimContext::default();
        for (f, x) in values {
            let x = x.clone();
            match f.as_str() {
                "prs_MaritalStatus" => c.marital_status = Some(x),
                "prs_NumberOfChildren" => c.number_of_children = x.parse().ok(),
                "prs_PrimaryLanguage" => c.primary_language = Some(x),
                "prs_SecondaryLanguage" => c.secondary_language = Some(x),
                "vic_RelationshipToTrafficker" => c.relationship_to_trafficker = Some(x),
                "vic_ForcedLabourIndustry" => c.forced_labour_industry = Some(x),
                "vic_MethodOfRecruitment" => c.method_of_recruitment.push(x),
                "vic_RecruitmentWebsitesAndApps" => c.recruitment_websites_and_apps.push(x),
                "vic_MethodsOfControl" => c.methods_of_control.push(x),
                "vic_TypeOfSexExploitation" => c.type_of_sex_exploitation.push(x),
                "vic_Vulnerabilities" => c.vulnerabilities.push(x),
                _ => {}
            }
        }
        c
    }
}

/// What a client sends to create or replace a case. Unknown keys are rejected.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseInput {
    #[serde(flatten)]
    pub identity: Identity,
    #[serde(flatten)]
    pub context: VictimContext,
    #[serde(rename = "prs_Gender", default)]
    pub gender: Option<String>,
    #[serde(rename = "prs_Citizenship", default)]
    pub citizenship: Vec<String>,
    #[serde(rename = "vic_AgeWhenTrafficked", default)]
    pub age_when_trafficked: Option<i64>,
    #[serde(rename = "vic_TypeOfExploitation", default)]
    pub types_of_exploitation: Vec<String>,
    #[serde(rename = "cas_Status", default)]
    pub status: Option<String>,
    #[serde(rename = "cas_ReasonForCaseClosure", default)]
    pub reason_for_closure: Option<String>,
}

/// A validated case: vocabulary parsed, text bounded, dates real.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidCase {
    pub identity: Identity,
    pub context: VictimContext,
    pub gender: Option<Gender>,
    pub citizenship: Vec<String>,
    pub age_when_trafficked: Option<i64>,
    pub types_of_exploitation: Vec<TypeOfExploitation>,
    pub status: CaseStatus,
    pub reason_for_closure: Option<String>,
}

pub const MAX_SHORT_TEXT: usize = 200;
pub const MAX_LONG_TEXT: usize = 20_000;

fn check_text(errs: &mut ValidationErrors, field: &str, v: &Option<String>, max: usize) {
    if let Some(s) = v {
        if s.chars().count() > max {
            errs.push(FieldError::new(
                field,
                "too_long",
                format!("{field} is longer than {max} characters"),
            ));
        }
        if s.chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            errs.push(FieldError::new(
                field,
                "control_characters",
                format!("{field} contains control characters"),
            ));
        }
    }
}

/// Parses an ISO date `YYYY-MM-DD`.
pub fn parse_date(field: &str, s: &str) -> Result<Date, FieldError> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, &fmt).map_err(|_| {
        FieldError::new(
            field,
            "invalid_date",
            format!("{field} must be a date YYYY-MM-DD"),
        )
    })
}

/// Normalises a phone number for the blind index: digits only, leading + kept.
pub fn normalise_phone(s: &str) -> String {
    let t = s.trim();
    let digits: String = t.chars().filter(|c| c.is_ascii_digit()).collect();
    if t.starts_with('+') {
        format!("+{digits}")
    } else {
        digits
    }
}

/// Normalises a name for the blind index: trimmed, inner whitespace collapsed, lowercase.
pub fn normalise_name(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn empty_to_none(v: &mut Option<String>) {
    if v.as_deref().is_some_and(|s| s.trim().is_empty()) {
        *v = None;
    }
}

impl CaseInput {
    /// Validates every field; `today` bounds birth dates (the domain never reads the clock).
    pub fn validate(mut self, today: Date) -> Result<ValidCase, ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let id = &mut self.identity;
        for v in [
            &mut id.first_name,
            &mut id.middle_name,
            &mut id.second_name,
            &mut id.birthdate,
            &mut id.identity_number,
            &mut id.mobile_phone,
            &mut id.home_phone,
            &mut id.email,
            &mut id.mailing_street,
            &mut id.mailing_city,
            &mut id.mailing_country,
            &mut id.notes,
            &mut self.gender,
            &mut self.status,
            &mut self.reason_for_closure,
        ] {
            empty_to_none(v);
        }
        let id = &self.identity;
        for (f, v) in [
            ("prs_FirstName", &id.first_name),
            ("prs_MiddleName", &id.middle_name),
            ("prs_SecondName", &id.second_name),
            ("prs_IdentityNumber", &id.identity_number),
            ("prs_MobilePhone", &id.mobile_phone),
            ("prs_HomePhone", &id.home_phone),
            ("prs_Email", &id.email),
            ("prs_MailingStreet", &id.mailing_street),
            ("prs_MailingCity", &id.mailing_city),
        ] {
            check_text(&mut errs, f, v, MAX_SHORT_TEXT);
        }
        check_text(&mut errs, "cco_CaseComment", &id.notes, MAX_LONG_TEXT);
        check_text(
            &mut errs,
            "cas_ReasonForCaseClosure",
            &self.reason_for_closure,
            MAX_LONG_TEXT,
        );
        if let Some(b) = &id.birthdate {
            match parse_date("prs_Birthdate", b) {
                Ok(d) if d > today => errs.push(FieldError::new(
                    "prs_Birthdate",
                    "in_future",
                    "prs_Birthdate is in the future",
                )),
                Ok(d) if d.year() < 1900 => errs.push(FieldError::new(
                    "prs_Birthdate",
                    "too_early",
                    "prs_Birthdate is before 1900",
                )),
                Ok(_) => {}
                Err(e) => errs.push(e),
            }
        }
        for (f, v) in [
            ("prs_MobilePhone", &id.mobile_phone),
            ("prs_HomePhone", &id.home_phone),
        ] {
            if let Some(p) = v {
                let n = normalise_phone(p);
                let digits = n.trim_start_matches('+').len();
                if !(5..=15).contains(&digits) {
                    errs.push(FieldError::new(
                        f,
                        "invalid_phone",
                        format!("{f} must have 5 to 15 digits"),
                    ));
                }
            }
        }
        if let Some(e) = &id.email
            && !(e.contains('@') && !e.starts_with('@') && !e.ends_with('@'))
        {
            errs.push(FieldError::new(
                "prs_Email",
                "invalid_email",
                "prs_Email is not an e-mail address",
            ));
        }
        if let Some(c) = &id.mailing_country
            && let Err(e) = parse_country("prs_MailingCountry", c)
        {
            errs.push(e);
        }
        let gender = match self.gender.as_deref().map(Gender::parse).transpose() {
            Ok(g) => g,
            Err(e) => {
                errs.push(e);
                None
            }
        };
        let mut citizenship = Vec::new();
        for (i, c) in self.citizenship.iter().enumerate() {
            match parse_country(&format!("prs_Citizenship[{i}]"), c) {
                Ok(c) if !citizenship.contains(&c) => citizenship.push(c),
                Ok(_) => {}
                Err(e) => errs.push(e),
            }
        }
        if let Some(a) = self.age_when_trafficked
            && !(0..=120).contains(&a)
        {
            errs.push(FieldError::new(
                "vic_AgeWhenTrafficked",
                "out_of_range",
                "vic_AgeWhenTrafficked must be between 0 and 120",
            ));
        }
        let mut types = Vec::new();
        for (i, t) in self.types_of_exploitation.iter().enumerate() {
            match TypeOfExploitation::parse_for(&format!("vic_TypeOfExploitation[{i}]"), t) {
                Ok(t) if !types.contains(&t) => types.push(t),
                Ok(_) => {}
                Err(e) => errs.push(e),
            }
        }
        let status = match self.status.as_deref().map(CaseStatus::parse).transpose() {
            Ok(s) => s.unwrap_or(CaseStatus::Active),
            Err(e) => {
                errs.push(e);
                CaseStatus::Active
            }
        };
        if matches!(status, CaseStatus::Closed | CaseStatus::ClosedReferred)
            && self.reason_for_closure.is_none()
        {
            errs.push(FieldError::new(
                "cas_ReasonForCaseClosure",
                "required",
                "a closed case needs cas_ReasonForCaseClosure",
            ));
        }
        self.context.validate(&mut errs);
        errs.into_result()?;
        citizenship.sort();
        types.sort_by_key(|t| t.as_str());
        Ok(ValidCase {
            identity: self.identity,
            context: self.context,
            gender,
            citizenship,
            age_when_trafficked: self.age_when_trafficked,
            types_of_exploitation: types,
            status,
            reason_for_closure: self.reason_for_closure,
        })
    }
}

impl ValidCase {
    /// Whether the case says nothing about the person (issue #23 §3): no identity field, no
    /// gender, age or type of exploitation, no notes and no context. Citizenship alone does not
    /// count (the new-case screen presets it).
    pub fn is_empty(&self) -> bool {
        let i = &self.identity;
        [
            &i.first_name,
            &i.middle_name,
            &i.second_name,
            &i.birthdate,
            &i.identity_number,
            &i.mobile_phone,
            &i.home_phone,
            &i.email,
            &i.mailing_street,
            &i.mailing_city,
            &i.mailing_country,
            &i.notes,
        ]
        .iter()
        .all(|v| v.is_none())
            && self.gender.is_none()
            && self.age_when_trafficked.is_none()
            && self.types_of_exploitation.is_empty()
            && self.context.to_values().is_empty()
    }

    /// Refuses an empty case (see `is_empty`) with an error on the first field of the form.
    pub fn require_content(self) -> Result<ValidCase, ValidationErrors> {
        if self.is_empty() {
            return Err(ValidationErrors::single(FieldError::new(
                "prs_FirstName",
                "empty_case",
                "the case holds nothing: give a name, gender, age, type of exploitation or a note",
            )));
        }
        Ok(self)
    }
}

/// Age bands used for statistics (the CTDC bands), so that ages are never published exactly.
pub fn age_band(age: i64) -> &'static str {
    match age {
        i64::MIN..=8 => "0-8",
        9..=17 => "9-17",
        18..=20 => "18-20",
        21..=23 => "21-23",
        24..=26 => "24-26",
        27..=29 => "27-29",
        30..=38 => "30-38",
        39..=47 => "39-47",
        _ => "48+",
    }
}

/// The case as the API returns it (HTCDS keys). Identity is present only when the reader
/// may see it and asked for it; every such read is audited by the caller.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct CaseView {
    pub id: uuid::Uuid,
    pub case_number: String,
    pub version: i64,
    pub owner_org: uuid::Uuid,
    #[serde(rename = "cas_Status")]
    pub status: CaseStatus,
    #[serde(
        rename = "cas_ReasonForCaseClosure",
        skip_serializing_if = "Option::is_none"
    )]
    pub reason_for_closure: Option<String>,
    #[serde(rename = "vic_TraffickingStatus")]
    pub trafficking_status: TraffickingStatus,
    #[serde(rename = "prs_Gender", skip_serializing_if = "Option::is_none")]
    pub gender: Option<Gender>,
    #[serde(rename = "prs_Citizenship")]
    pub citizenship: Vec<String>,
    #[serde(
        rename = "vic_AgeWhenTrafficked",
        skip_serializing_if = "Option::is_none"
    )]
    pub age_when_trafficked: Option<i64>,
    pub age_band: Option<String>,
    #[serde(rename = "vic_TypeOfExploitation")]
    pub types_of_exploitation: Vec<TypeOfExploitation>,
    #[serde(flatten)]
    pub context: VictimContext,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> Date {
        time::macros::date!(2026 - 11 - 22)
    }

    #[test]
    fn errors_name_their_fields() {
        let input: CaseInput = match serde_json::from_value(serde_json::json!({
            "prs_Gender": "female",
            "prs_Birthdate": "2099-01-01",
            "prs_Citizenship": ["AZ", "zz"],
            "vic_TypeOfExploitation": ["ForcedLabour", "Slavery"],
            "cas_Status": "Closed"
        })) {
            Ok(i) => i,
            Err(e) => panic!("{e}"),
        };
        let errs = match input.validate(today()) {
            Err(e) => e,
            Ok(_) => panic!("should fail"),
        };
        let fields: Vec<&str> = errs.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "prs_Birthdate",
                "prs_Gender",
                "prs_Citizenship[1]",
                "vic_TypeOfExploitation[1]",
                "cas_ReasonForCaseClosure"
            ]
        );
        // No error message repeats a submitted value.
        for e in &errs.errors {
            assert!(!e.message.contains("female") && !e.message.contains("Slavery"));
        }
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let r: Result<CaseInput, _> =
            serde_json::from_value(serde_json::json!({"prs_Nickname": "x"}));
        assert!(r.is_err());
    }

    #[test]
    fn phone_normalisation() {
        assert_eq!(normalise_phone(" +994 (50) 123-45-67 "), "+994501234567");
        assert_eq!(normalise_name("  Aysel   MƏMMƏDOVA "), "aysel məmmədova");
    }

    proptest! {
        #[test]
        fn age_band_is_total(age in -5i64..200) {
            prop_assert!(!age_band(age).is_empty());
        }

        /// Validation never panics and either succeeds or names at least one field.
        #[test]
        fn validate_is_total(g in ".{0,12}", b in ".{0,12}", c in "[A-Za-z]{0,3}", age in -10i64..300) {
            let input = CaseInput {
                gender: Some(g),
                identity: Identity { birthdate: Some(b), ..Default::default() },
                citizenship: vec![c],
                age_when_trafficked: Some(age),
                ..Default::default()
            };
            if let Err(e) = input.validate(today()) {
                prop_assert!(!e.errors.is_empty());
            }
        }
    }
}

#[cfg(test)]
mod context_tests {
    use super::*;

    #[test]
    fn victim_context_round_trips_through_input_and_values() {
        let input: CaseInput = serde_json::from_value(serde_json::json!({
            "vic_ForcedLabourIndustry": "F_Construction",
            "vic_MethodsOfControl": ["DebtBondage", "DebtBondage", "WithholdsDocuments"],
            "prs_NumberOfChildren": 2
        }))
        .unwrap_or_default();
        let v = input.validate(time::macros::date!(2026 - 11 - 22));
        let v = match v {
            Ok(v) => v,
            Err(e) => panic!("{e:?}"),
        };
        assert_eq!(
            v.context.forced_labour_industry.as_deref(),
            Some("F_Construction")
        );
        assert_eq!(
            v.context.methods_of_control,
            vec!["DebtBondage", "WithholdsDocuments"]
        );
        let values: Vec<(String, String)> = v
            .context
            .to_values()
            .into_iter()
            .map(|(f, x)| (f.to_string(), x))
            .collect();
        assert_eq!(VictimContext::from_values(&values), v.context);
    }

    #[test]
    fn victim_context_rejects_values_outside_htcds() {
        let input: CaseInput = serde_json::from_value(serde_json::json!({
            "vic_ForcedLabourIndustry": "Construction",
            "vic_RecruitmentWebsitesAndApps": ["Odnoklassniki"],
            "prs_PrimaryLanguage": "Azerbaijani"
        }))
        .unwrap_or_default();
        let fields: Vec<String> = match input.validate(time::macros::date!(2026 - 11 - 22)) {
            Err(e) => e.errors.into_iter().map(|e| e.field).collect(),
            Ok(_) => panic!("should fail"),
        };
        assert_eq!(
            fields,
            vec![
                "prs_PrimaryLanguage",
                "vic_ForcedLabourIndustry",
                "vic_RecruitmentWebsitesAndApps[0]"
            ]
        );
    }
}

#[cfg(test)]
mod empty_case_tests {
    use super::*;
    use proptest::prelude::*;

    fn valid(input: CaseInput) -> ValidCase {
        match input.validate(time::macros::date!(2026 - 12 - 05)) {
            Ok(v) => v,
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn an_empty_case_is_refused_with_a_field_error() {
        let only_citizenship = CaseInput {
            citizenship: vec!["AZ".into()],
            ..Default::default()
        };
        let e = valid(only_citizenship).require_content().err();
        let e = e.map(|e| (e.errors[0].field.clone(), e.errors[0].code));
        assert_eq!(e, Some(("prs_FirstName".to_string(), "empty_case")));
        let named = CaseInput {
            gender: Some("Feminine".into()),
            ..Default::default()
        };
        assert!(valid(named).require_content().is_ok());
    }

    proptest! {
        /// Any one non-blank name or note makes a case non-empty; blanks never do.
        #[test]
        fn one_written_field_is_enough(name in "[a-zA-Z]{1,12}", blank in "[ ]{0,3}", note in proptest::bool::ANY) {
            let mut input = CaseInput::default();
            if note { input.identity.notes = Some(name.clone()); } else { input.identity.first_name = Some(name); }
            prop_assert!(valid(input).require_content().is_ok());
            let blank_input = CaseInput {
                identity: Identity { first_name: Some(blank), ..Default::default() },
                ..Default::default()
            };
            prop_assert!(valid(blank_input).require_content().is_err());
        }
    }
}
