//! The case record as the API and the exports see it, with HTCDS field names as keys.
//!
//! Input arrives as `CaseInput` (all strings, so every error can name its field), and
//! `CaseInput::validate` turns it into a `ValidCase` or a list of field errors.

use crate::error::{FieldError, ValidationErrors};
use crate::vocab::{CaseStatus, Gender, TraffickingStatus, TypeOfExploitation, parse_country};
use serde::{Deserialize, Serialize};
use time::Date;

/// Identity fields: encrypted at rest under the case key, never logged, never in URLs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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

/// What a client sends to create or replace a case. Unknown keys are rejected.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseInput {
    #[serde(flatten)]
    pub identity: Identity,
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
        errs.into_result()?;
        Ok(ValidCase {
            identity: self.identity,
            gender,
            citizenship,
            age_when_trafficked: self.age_when_trafficked,
            types_of_exploitation: types,
            status,
            reason_for_closure: self.reason_for_closure,
        })
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
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
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
