//! Identification: intake contacts, screenings, identification decisions (with history),
//! consent records and the hand-over of a case to another organisation.
//!
//! - `contacts.rs`: intake contacts (possibly anonymous; summary under the contact's own key).
//! - `screening.rs`: screenings, identification decisions, the current status.
//! - `consent.rs`: consents, their withdrawal (ending the referrals it covered).
//! - `transfer.rs`: the hand-over of a case under the survivor's consent.
//!
//! This module holds the types the areas share and their rows (read by column name).

mod consent;
mod contacts;
mod screening;
mod transfer;

use crate::Result;
use crate::kernel::{ts, uuid_of};
use dayaq_domain::identification::{ConsentFact, ConsentPurpose};
use dayaq_domain::vocab::OrgType;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Contact {
    pub id: Uuid,
    pub channel: String,
    pub anonymous: bool,
    pub case_id: Option<Uuid>,
    pub created_at: String,
    /// Decrypted only on the single-contact read (audited).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Screening {
    pub id: Uuid,
    pub act: bool,
    pub means: bool,
    pub purpose: bool,
    pub is_child: bool,
    #[serde(rename = "vic_MethodsOfControl")]
    pub methods_of_control: Vec<String>,
    #[serde(rename = "vic_TypeOfExploitation")]
    pub types_of_exploitation: Vec<String>,
    pub ilo_indicators: Vec<String>,
    pub possible_victim: bool,
    pub screened_by_org: Uuid,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Decision {
    pub id: Uuid,
    #[serde(rename = "vic_TraffickingStatus")]
    pub status: String,
    #[serde(rename = "vic_TraffickingStatusDecisionMakingOrg")]
    pub decision_making_org: String,
    pub decided_by_org: Uuid,
    pub decided_on: String,
    pub reference: String,
    pub created_at: String,
}

/// A consent as recorded with the survivor.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentInput {
    pub purpose: String,
    /// true = given, false = declined (declining is recorded as such).
    pub given: bool,
    /// For SharingWithOrganisation: the recipient organisation's slug.
    #[serde(default)]
    pub recipient_org: Option<String>,
    /// For SharingWithOrganisationType: an HTCDS org_Type value.
    #[serde(default)]
    pub recipient_org_type: Option<String>,
    /// Survivor, ParentOrGuardian or LegalRepresentative.
    pub given_by: String,
    /// Language in which it was explained (ISO 639-1, e.g. az, ru, en, uz, tg).
    pub language: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Consent {
    pub id: Uuid,
    pub purpose: String,
    pub given: bool,
    pub recipient_org: Option<Uuid>,
    pub recipient_org_type: Option<String>,
    pub given_by: String,
    pub language: String,
    pub recorded_at: String,
    pub withdrawn_at: Option<String>,
}

impl Consent {
    pub fn fact(&self) -> Option<ConsentFact> {
        Some(ConsentFact {
            purpose: ConsentPurpose::parse(&self.purpose).ok()?,
            given: self.given,
            recipient_org: self.recipient_org,
            recipient_org_type: self
                .recipient_org_type
                .as_deref()
                .and_then(|t| OrgType::parse(t).ok()),
            withdrawn: self.withdrawn_at.is_some(),
        })
    }
}

fn join<T: AsRef<str>>(v: &[T]) -> String {
    v.iter().map(|x| x.as_ref()).collect::<Vec<_>>().join(",")
}
fn split(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}
/// One row of `contacts` without its sealed summary.
#[derive(sqlx::FromRow)]
struct ContactRow {
    id: String,
    channel: String,
    anonymous: i64,
    case_id: Option<String>,
    created_at: i64,
}

impl ContactRow {
    fn into_contact(self, summary: Option<String>) -> Result<Contact> {
        Ok(Contact {
            id: uuid_of(&self.id)?,
            channel: self.channel,
            anonymous: self.anonymous != 0,
            case_id: self.case_id.as_deref().map(uuid_of).transpose()?,
            created_at: ts(self.created_at),
            summary,
        })
    }
}

/// One row of `screenings`.
#[derive(sqlx::FromRow)]
struct ScreeningRow {
    id: String,
    act: i64,
    means: i64,
    purpose: i64,
    is_child: i64,
    methods_of_control: String,
    types_of_exploitation: String,
    ilo_indicators: String,
    possible_victim: i64,
    screened_by_org: String,
    created_at: i64,
}

impl ScreeningRow {
    fn into_screening(self) -> Result<Screening> {
        Ok(Screening {
            id: uuid_of(&self.id)?,
            act: self.act != 0,
            means: self.means != 0,
            purpose: self.purpose != 0,
            is_child: self.is_child != 0,
            methods_of_control: split(&self.methods_of_control),
            types_of_exploitation: split(&self.types_of_exploitation),
            ilo_indicators: split(&self.ilo_indicators),
            possible_victim: self.possible_victim != 0,
            screened_by_org: uuid_of(&self.screened_by_org)?,
            created_at: ts(self.created_at),
        })
    }
}

/// One row of `identification_decisions`.
#[derive(sqlx::FromRow)]
struct DecisionRow {
    id: String,
    status: String,
    decision_making_org: String,
    decided_by_org: String,
    decided_on: String,
    reference: String,
    created_at: i64,
}

impl DecisionRow {
    fn into_decision(self) -> Result<Decision> {
        Ok(Decision {
            id: uuid_of(&self.id)?,
            status: self.status,
            decision_making_org: self.decision_making_org,
            decided_by_org: uuid_of(&self.decided_by_org)?,
            decided_on: self.decided_on,
            reference: self.reference,
            created_at: ts(self.created_at),
        })
    }
}

/// One row of `consents`.
#[derive(sqlx::FromRow)]
struct ConsentRow {
    id: String,
    purpose: String,
    given: i64,
    recipient_org: Option<String>,
    recipient_org_type: Option<String>,
    given_by: String,
    language: String,
    recorded_at: i64,
    withdrawn_at: Option<i64>,
}

impl ConsentRow {
    fn into_consent(self) -> Result<Consent> {
        Ok(Consent {
            id: uuid_of(&self.id)?,
            purpose: self.purpose,
            given: self.given != 0,
            recipient_org: self.recipient_org.as_deref().map(uuid_of).transpose()?,
            recipient_org_type: self.recipient_org_type,
            given_by: self.given_by,
            language: self.language,
            recorded_at: ts(self.recorded_at),
            withdrawn_at: self.withdrawn_at.map(ts),
        })
    }
}

const CONSENTS_SQL: &str = "SELECT id, purpose, given, recipient_org, recipient_org_type, given_by, language, recorded_at, withdrawn_at \
     FROM consents WHERE case_id = $1 ORDER BY recorded_at, id";
