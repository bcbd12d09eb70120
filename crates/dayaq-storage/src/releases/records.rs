//! The facts of a research release (issue #16): one [`ReleaseRecord`] per person and year of
//! a period, read from the cases that are not erased and counted by the domain
//! (`dayaq_domain::release::records`, the national report's counting rules).
//!
//! Only what a release can show is read: gender, `vic_AgeWhenTrafficked`, citizenship, forms
//! of exploitation, means of control, relationship to the trafficker (plain `case_values`),
//! the countries of events of type `Exploitation`, decisions and screenings. The only
//! decryption is the identity of a case with a decision or screening in the period, for its
//! birth date, and only the age at the counting event leaves this module. The person key is
//! the keyed blind-index digest of name + birth date (else the case id), as the national
//! report uses; it never leaves the server.

use crate::crypto::field_aad;
use crate::{Result, Store, StoreError, from_millis};
use dayaq_domain::case::{Identity, parse_date};
use dayaq_domain::release::{ReleaseCase, ReleaseRecord, records};
use dayaq_domain::statistics::{DecisionFact, PersonKey, ScreeningFact};
use dayaq_domain::vocab::{
    DecisionMakingOrg, Gender, MethodOfControl, RelationshipToTrafficker, TraffickingStatus,
    TypeOfExploitation,
};
use dayaq_domain::{FieldError, ValidationErrors};
use sqlx::Row;
use std::collections::HashMap;
use time::Date;

/// The record type of a release, for callers of [`Store::release_records`].
pub use dayaq_domain::release::ReleaseRecord as Record;

impl Store {
    /// The records of the persons identified or presumed in `from..=to` (both days
    /// included), one per person and year, for the release generators.
    ///
    /// **Does not check the access policy and does not audit**: the caller (the release
    /// workflow, which authorises `DownloadRelease`/the release actions and audits the
    /// generation) must have done so. It never returns a name, a date, a case number or free
    /// text. A period whose first day comes after its last is refused (422 on `period`).
    pub async fn release_records(&self, from: Date, to: Date) -> Result<Vec<ReleaseRecord>> {
        let cases = self.release_cases(from, to).await?;
        records(&cases, from, to).map_err(|e| {
            StoreError::Invalid(ValidationErrors::single(FieldError::new(
                e.field(),
                "invalid_release",
                e.to_string(),
            )))
        })
    }

    async fn release_cases(&self, from: Date, to: Date) -> Result<Vec<ReleaseCase>> {
        let mut conn = self.pool.acquire().await?;
        let mut recs: HashMap<String, ReleaseCase> = HashMap::new();
        let rows = sqlx::query(
            "SELECT c.id AS id, c.prs_gender AS gender, c.age_when_trafficked AS age, \
             (SELECT MIN(b.digest) FROM blind_index b WHERE b.case_id = c.id AND b.kind = 'name_dob') AS person \
             FROM cases c WHERE c.erased_at IS NULL",
        )
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            let id: String = r.try_get("id")?;
            let person = match r.try_get::<Option<String>, _>("person")? {
                Some(d) => format!("name_dob:{d}"),
                None => format!("case:{id}"),
            };
            let mut c = ReleaseCase::new(PersonKey::new(person));
            c.gender = r
                .try_get::<Option<String>, _>("gender")?
                .and_then(|g| Gender::parse(&g).ok());
            c.age_when_trafficked = r.try_get("age")?;
            recs.insert(id, c);
        }

        let rows = sqlx::query(
            "SELECT case_id, field, value FROM case_values WHERE field IN \
             ('prs_Citizenship', 'vic_TypeOfExploitation', 'vic_MethodsOfControl', 'vic_RelationshipToTrafficker')",
        )
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            let id: String = r.try_get("case_id")?;
            let Some(c) = recs.get_mut(&id) else { continue };
            let field: String = r.try_get("field")?;
            let value: String = r.try_get("value")?;
            match field.as_str() {
                "prs_Citizenship" => c.citizenship.push(value),
                "vic_TypeOfExploitation" => c.forms.extend(TypeOfExploitation::parse(&value).ok()),
                "vic_MethodsOfControl" => c.controls.extend(MethodOfControl::parse(&value).ok()),
                _ => c.relationship = RelationshipToTrafficker::parse(&value).ok(),
            }
        }

        let rows = sqlx::query(
            "SELECT case_id, hte_country FROM trafficking_events \
             WHERE hte_type = 'Exploitation' AND hte_country IS NOT NULL",
        )
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            let id: String = r.try_get("case_id")?;
            if let Some(c) = recs.get_mut(&id) {
                c.exploitation_countries.push(r.try_get("hte_country")?);
            }
        }

        let rows = sqlx::query(
            "SELECT case_id, status, decision_making_org, decided_on, created_at FROM identification_decisions",
        )
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            let id: String = r.try_get("case_id")?;
            let Some(c) = recs.get_mut(&id) else { continue };
            let status: String = r.try_get("status")?;
            let org: String = r.try_get("decision_making_org")?;
            let on: String = r.try_get("decided_on")?;
            let (Ok(status), Ok(org)) = (
                TraffickingStatus::parse(&status),
                DecisionMakingOrg::parse(&org),
            ) else {
                return Err(StoreError::Data(
                    "identification decision out of vocabulary".into(),
                ));
            };
            c.decisions.push(DecisionFact {
                status,
                decided_on: parse_date("decided_on", &on)
                    .map_err(|e| StoreError::Data(e.message))?,
                order: r.try_get("created_at")?,
                decision_making_org: org,
            });
        }

        let rows =
            sqlx::query("SELECT case_id, possible_victim AS pv, created_at AS at FROM screenings")
                .fetch_all(&mut *conn)
                .await?;
        for r in &rows {
            let id: String = r.try_get("case_id")?;
            let Some(c) = recs.get_mut(&id) else { continue };
            c.screenings.push(ScreeningFact {
                on: from_millis(r.try_get("at")?).date(),
                possible_victim: r.try_get::<i64, _>("pv")? != 0,
                org_type: None,
            });
        }

        // Birth dates, for the age at the counting event: only cases with an event in the
        // period. The identity is dropped as soon as the date is read.
        let wanted: Vec<String> = recs
            .iter()
            .filter(|(_, c)| c.has_event_in(from, to))
            .map(|(id, _)| id.clone())
            .collect();
        for id in wanted {
            let ct: Option<Vec<u8>> =
                sqlx::query_scalar("SELECT identity FROM cases WHERE id = $1")
                    .bind(&id)
                    .fetch_optional(&mut *conn)
                    .await?
                    .flatten();
            let Some(ct) = ct else { continue };
            let key = self.case_key_for_aggregate(&mut conn, &id).await?;
            let plain = key.open(&field_aad("cases", "identity", &id, "case"), &ct)?;
            let identity: Identity =
                serde_json::from_slice(&plain).map_err(|e| StoreError::Data(e.to_string()))?;
            if let (Some(c), Some(b)) = (recs.get_mut(&id), identity.birthdate.as_deref()) {
                c.birthdate = parse_date("prs_Birthdate", b).ok();
            }
        }
        Ok(recs.into_values().collect())
    }
}
