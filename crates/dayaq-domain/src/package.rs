//! Referral packages for organisations that are not on the platform: which HTCDS keys belong
//! to which case section, the package document, and its validation on import.
//!
//! A package is a JSON document `{format, version, created, from_org, services,
//! cas_ReasonForOutgoingReferral, sections, case}` whose `case` object carries the HTCDS keys
//! of the included sections only (keys of other sections are absent, never null). Storage
//! encrypts it to the recipient's `age` key; nothing here does I/O.

use crate::case::{CONTEXT_FIELDS, CaseInput, ValidCase};
use crate::error::{FieldError, ValidationErrors};
use crate::policy::Section;
use crate::referral::Service;
use crate::vocab::ReferralReason;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::Date;

pub const FORMAT: &str = "dayaq-referral-package";
pub const VERSION: i64 = 1;
/// Largest decrypted package accepted (one case: far below this).
pub const MAX_PLAINTEXT_BYTES: usize = 1 << 20;
/// Longest sender organisation name.
pub const MAX_ORG_NAME: usize = 200;

/// The section names used in packages (the policy's snake_case names).
pub fn section_name(s: Section) -> &'static str {
    match s {
        Section::Identity => "identity",
        Section::ContactDetails => "contact_details",
        Section::VictimContext => "victim_context",
        Section::Health => "health",
        Section::Legal => "legal",
        Section::Plan => "plan",
        Section::Services => "services",
        Section::FollowUp => "follow_up",
        Section::Notes => "notes",
    }
}

pub fn parse_section(field: &str, s: &str) -> Result<Section, FieldError> {
    Section::ALL
        .iter()
        .copied()
        .find(|x| section_name(*x) == s)
        .ok_or_else(|| FieldError::new(field, "invalid_value", "not a case section"))
}

const IDENTITY_KEYS: &[&str] = &[
    "prs_FirstName",
    "prs_MiddleName",
    "prs_SecondName",
    "prs_Birthdate",
    "prs_IdentityNumber",
    "prs_Gender",
    "prs_Citizenship",
];
const CONTACT_KEYS: &[&str] = &[
    "prs_MobilePhone",
    "prs_HomePhone",
    "prs_Email",
    "prs_MailingStreet",
    "prs_MailingCity",
    "prs_MailingCountry",
];
const CONTEXT_EXTRA_KEYS: &[&str] = &["vic_AgeWhenTrafficked", "vic_TypeOfExploitation"];
const NOTES_KEYS: &[&str] = &["cco_CaseComment"];

/// The HTCDS case keys a section carries in a package. Health, legal, plan, services and
/// follow-up have no HTCDS case-record keys in Dayaq's export, so they carry none.
pub fn section_keys(s: Section) -> Vec<&'static str> {
    match s {
        Section::Identity => IDENTITY_KEYS.to_vec(),
        Section::ContactDetails => CONTACT_KEYS.to_vec(),
        Section::VictimContext => CONTEXT_FIELDS
            .iter()
            .chain(CONTEXT_EXTRA_KEYS)
            .copied()
            .collect(),
        Section::Notes => NOTES_KEYS.to_vec(),
        Section::Health
        | Section::Legal
        | Section::Plan
        | Section::Services
        | Section::FollowUp => Vec::new(),
    }
}

/// The section an HTCDS key belongs to in a package (none: the key is never packaged).
pub fn section_of(key: &str) -> Option<Section> {
    Section::ALL
        .iter()
        .copied()
        .find(|s| section_keys(*s).contains(&key))
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Keeps only the keys of `sections` from a flat HTCDS case object (null and empty values
/// dropped): every other key is absent.
pub fn case_for_sections(full: &Map<String, Value>, sections: &[Section]) -> Map<String, Value> {
    full.iter()
        .filter(|(k, v)| section_of(k).is_some_and(|s| sections.contains(&s)) && !is_empty(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The package document.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Package {
    pub format: String,
    pub version: i64,
    /// RFC 3339 time of export.
    pub created: String,
    /// HTCDS `org_Name` of the sending organisation.
    pub from_org: String,
    pub services: Vec<String>,
    #[serde(rename = "cas_ReasonForOutgoingReferral")]
    pub reason: String,
    pub sections: Vec<String>,
    pub case: Map<String, Value>,
    /// The sending organisation's id on its instance; the signed envelope names the same id
    /// (a package re-signed by someone else is refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_org_id: Option<String>,
    /// The recipient's age public key; the signed envelope names the same key (a package
    /// re-encrypted to another recipient is refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_recipient: Option<String>,
}

/// A package that passed every check.
#[derive(Debug, Clone)]
pub struct ValidPackage {
    pub from_org: String,
    pub from_org_id: Option<String>,
    pub to_recipient: Option<String>,
    pub services: Vec<Service>,
    pub reason: ReferralReason,
    pub sections: Vec<Section>,
    pub case: ValidCase,
}

fn text_ok(s: &str, max: usize) -> bool {
    let n = s.chars().count();
    n > 0 && n <= max && !s.chars().any(char::is_control)
}

/// Reads and validates a decrypted package like any HTCDS import: every problem, each naming
/// its field (HTCDS keys for the case), never repeating a value. `today` bounds birth dates.
pub fn validate(plain: &[u8], today: Date) -> Result<ValidPackage, ValidationErrors> {
    if plain.len() > MAX_PLAINTEXT_BYTES {
        return Err(ValidationErrors::single(FieldError::new(
            "package",
            "too_large",
            "the package is larger than 1 MiB",
        )));
    }
    let doc: Value = serde_json::from_slice(plain).map_err(|_| {
        ValidationErrors::single(FieldError::new(
            "package",
            "invalid_json",
            "the package is not a JSON document",
        ))
    })?;
    if doc.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(ValidationErrors::single(FieldError::new(
            "format",
            "unknown_format",
            format!("format must be {FORMAT}"),
        )));
    }
    if doc.get("version").and_then(Value::as_i64) != Some(VERSION) {
        return Err(ValidationErrors::single(FieldError::new(
            "version",
            "unsupported_version",
            format!("version must be {VERSION}"),
        )));
    }
    let mut errs = ValidationErrors::default();
    if let Value::Object(m) = &doc {
        for k in m.keys() {
            if !matches!(
                k.as_str(),
                "format"
                    | "version"
                    | "created"
                    | "from_org"
                    | "services"
                    | "cas_ReasonForOutgoingReferral"
                    | "sections"
                    | "case"
                    | "from_org_id"
                    | "to_recipient"
            ) {
                errs.push(FieldError::new(
                    "package",
                    "unknown_field",
                    "the package has a field that version 1 does not define",
                ));
            }
        }
    }
    errs.into_result()?;
    let p: Package = serde_json::from_value(doc).map_err(|_| {
        ValidationErrors::single(FieldError::new(
            "package",
            "invalid_structure",
            "from_org, created, cas_ReasonForOutgoingReferral must be text; services and sections lists of text; case an object",
        ))
    })?;
    let mut errs = ValidationErrors::default();
    if !text_ok(p.from_org.trim(), MAX_ORG_NAME) {
        errs.push(FieldError::new(
            "from_org",
            "invalid_length",
            "from_org must be 1-200 characters without control characters",
        ));
    }
    let mut services = Vec::new();
    for (i, s) in p.services.iter().enumerate() {
        match Service::parse_for(&format!("services[{i}]"), s) {
            Ok(s) if !services.contains(&s) => services.push(s),
            Ok(_) => {}
            Err(e) => errs.push(e),
        }
    }
    if p.services.is_empty() {
        errs.push(FieldError::new(
            "services",
            "required",
            "name at least one service",
        ));
    }
    let reason = ReferralReason::parse(&p.reason)
        .map_err(|e| errs.push(e))
        .ok();
    let mut sections = Vec::new();
    for (i, s) in p.sections.iter().enumerate() {
        match parse_section(&format!("sections[{i}]"), s) {
            Ok(s) if !sections.contains(&s) => sections.push(s),
            Ok(_) => {}
            Err(e) => errs.push(e),
        }
    }
    // Every case key must be an HTCDS key of an included section.
    for k in p.case.keys() {
        match section_of(k) {
            Some(s) if sections.contains(&s) => {}
            Some(_) => errs.push(FieldError::new(
                k.clone(),
                "section_not_included",
                format!("{k} belongs to a section the package does not include"),
            )),
            None => errs.push(FieldError::new(
                k.clone(),
                "unknown_field",
                format!("{k} is not an HTCDS key a package may carry"),
            )),
        }
    }
    errs.into_result()?;
    let input: CaseInput = serde_json::from_value(Value::Object(p.case)).map_err(|_| {
        ValidationErrors::single(FieldError::new(
            "case",
            "invalid_structure",
            "the case could not be read: text fields must be text, lists lists, numbers whole numbers",
        ))
    })?;
    let case = input.validate(today)?;
    let (Some(reason), false) = (reason, services.is_empty()) else {
        return Err(ValidationErrors::single(FieldError::new(
            "services",
            "required",
            "name at least one service",
        )));
    };
    Ok(ValidPackage {
        from_org: p.from_org.trim().to_string(),
        from_org_id: p.from_org_id,
        to_recipient: p.to_recipient,
        services,
        reason,
        sections,
        case,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn today() -> Date {
        time::macros::date!(2026 - 11 - 22)
    }

    fn full_case() -> Map<String, Value> {
        let v = json!({
            "prs_FirstName": "Aysel", "prs_SecondName": "M", "prs_Gender": "Feminine",
            "prs_Citizenship": ["AZ"], "prs_MobilePhone": "+994501234567",
            "prs_MailingCity": "Baku", "vic_AgeWhenTrafficked": 22,
            "vic_TypeOfExploitation": ["ForcedLabour"], "prs_PrimaryLanguage": "az",
            "cco_CaseComment": "n", "prs_MiddleName": null, "case_number": "X-1",
            "vic_TraffickingStatus": "ActualVictimOfTrafficking", "cas_Status": "Open"
        });
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn doc(sections: &[&str], case: Map<String, Value>) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "format": FORMAT, "version": 1, "created": "2026-11-22T10:00:00Z",
            "from_org": "Clean Start", "services": ["ReturnHome"],
            "cas_ReasonForOutgoingReferral": "Other", "sections": sections, "case": case
        }))
        .unwrap_or_default()
    }

    #[test]
    fn only_keys_of_included_sections_and_no_nulls() {
        let c = case_for_sections(&full_case(), &[Section::Identity]);
        let keys: Vec<&str> = c.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            vec![
                "prs_Citizenship",
                "prs_FirstName",
                "prs_Gender",
                "prs_SecondName"
            ]
        );
        let c = case_for_sections(&full_case(), &[Section::ContactDetails]);
        assert!(c.contains_key("prs_MobilePhone") && !c.contains_key("prs_FirstName"));
        // Read-only and status keys are never packaged.
        let all = case_for_sections(&full_case(), Section::ALL);
        assert!(!all.contains_key("case_number") && !all.contains_key("cas_Status"));
        assert!(!all.contains_key("vic_TraffickingStatus") && !all.contains_key("prs_MiddleName"));
    }

    #[test]
    fn a_valid_package_is_accepted() {
        let case = case_for_sections(&full_case(), &[Section::Identity, Section::ContactDetails]);
        let p = validate(&doc(&["identity", "contact_details"], case), today());
        let p = match p {
            Ok(p) => p,
            Err(e) => panic!("{e:?}"),
        };
        assert_eq!(p.services, vec![Service::ReturnHome]);
        assert_eq!(p.case.identity.first_name.as_deref(), Some("Aysel"));
        assert_eq!(p.from_org, "Clean Start");
    }

    #[test]
    fn keys_outside_the_included_sections_are_refused_by_name() {
        let case = case_for_sections(&full_case(), &[Section::Identity, Section::ContactDetails]);
        let Err(e) = validate(&doc(&["identity"], case), today()) else {
            panic!("should fail");
        };
        let fields: Vec<&str> = e.errors.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"prs_MobilePhone") && fields.contains(&"prs_MailingCity"));
        for f in &e.errors {
            assert!(!f.message.contains("+994") && !f.message.contains("Baku"));
        }
    }

    #[test]
    fn bad_values_name_their_fields() {
        let mut case = Map::new();
        case.insert("prs_Gender".into(), json!("female"));
        case.insert("prs_Birthdate".into(), json!("2099-01-01"));
        let Err(e) = validate(&doc(&["identity"], case), today()) else {
            panic!("should fail");
        };
        let fields: Vec<&str> = e.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["prs_Birthdate", "prs_Gender"]);
        let Err(e) = validate(b"{\"format\":\"other\"}", today()) else {
            panic!("should fail");
        };
        assert_eq!(e.errors[0].field, "format");
        let Err(e) = validate(b"not json", today()) else {
            panic!("should fail");
        };
        assert_eq!(e.errors[0].code, "invalid_json");
    }

    proptest! {
        /// Whatever sections are chosen, no key of another section is ever packaged.
        #[test]
        fn never_leaks_other_sections(mask in 0u16..512) {
            let chosen: Vec<Section> = Section::ALL.iter().enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0).map(|(_, s)| *s).collect();
            let c = case_for_sections(&full_case(), &chosen);
            for k in c.keys() {
                prop_assert!(section_of(k).is_some_and(|s| chosen.contains(&s)));
            }
        }
    }
}
