//! Intake contacts, screenings, identification decisions (with history) and consent records.

use crate::audit::append;
use crate::crypto::{SecretKey, field_aad};
use crate::kernel::{CaseAccess, Ctx};
use crate::{Result, Store, StoreError, from_millis, millis};
use dayaq_domain::identification::{
    ConsentFact, ConsentPurpose, ContactChannel, ValidDecision, ValidScreening,
};
use dayaq_domain::policy::{Action, Resource, decide};
use dayaq_domain::vocab::{OrgType, TraffickingStatus};
use dayaq_domain::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

fn ts(ms: i64) -> String {
    from_millis(ms).format(&Rfc3339).unwrap_or_default()
}

fn uuid_of(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::Data(e.to_string()))
}

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

const GIVEN_BY: &[&str] = &["Survivor", "ParentOrGuardian", "LegalRepresentative"];

fn join<T: AsRef<str>>(v: &[T]) -> String {
    v.iter().map(|x| x.as_ref()).collect::<Vec<_>>().join(",")
}
fn split(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

impl Store {
    fn org_allowed(&self, ctx: &Ctx<'_>, action: Action) -> Result<()> {
        let d = decide(ctx.actor, action, Resource::Organisation(ctx.actor.org_id));
        if d.allowed {
            Ok(())
        } else {
            Err(StoreError::Forbidden(d.reason))
        }
    }

    /// Records an intake contact (possibly anonymous); its summary is encrypted under its own key.
    pub async fn create_contact(
        &self,
        ctx: &Ctx<'_>,
        channel: ContactChannel,
        anonymous: bool,
        summary: Option<&str>,
    ) -> Result<Contact> {
        self.org_allowed(ctx, Action::CreateCase)?;
        if let Some(s) = summary
            && s.chars().count() > dayaq_domain::case::MAX_LONG_TEXT
        {
            return Err(ValidationErrors::single(FieldError::new(
                "summary",
                "too_long",
                "summary is too long",
            ))
            .into());
        }
        let id = Uuid::new_v4();
        let ids = id.to_string();
        let key = SecretKey::generate()?;
        let sealed = match summary {
            Some(s) => Some(key.seal(
                &field_aad("contacts", "summary", &ids, "contact"),
                s.as_bytes(),
            )?),
            None => None,
        };
        let mut tx = self.begin_write().await?;
        // Wrapped after `begin_write`, which adopts a master key rotated by another process.
        let (kid, wrapped) = self.keys.wrap_case_key(&key)?;
        sqlx::query(
            "INSERT INTO contacts (id, org_id, channel, anonymous, master_key_id, wrapped_key, summary, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&ids)
        .bind(ctx.actor.org_id.to_string())
        .bind(channel.as_str())
        .bind(i64::from(anonymous))
        .bind(kid)
        .bind(wrapped)
        .bind(sealed)
        .bind(ctx.actor.user_id.to_string())
        .bind(millis(ctx.now))
        .execute(&mut *tx)
        .await?;
        let mut e = crate::audit::AuditEntry::new("contact.create", "success");
        e.actor_user = ctx.actor.user_id.to_string();
        e.actor_org = ctx.actor.org_id.to_string();
        e.source = ctx.source.to_string();
        e.detail = format!("contact={ids} channel={}", channel.as_str());
        append(&mut tx, &e, millis(ctx.now)).await?;
        tx.commit().await?;
        Ok(Contact {
            id,
            channel: channel.as_str().into(),
            anonymous,
            case_id: None,
            created_at: ts(millis(ctx.now)),
            summary: None,
        })
    }

    /// The organisation's contacts, newest first (summaries stay encrypted).
    pub async fn list_contacts(&self, ctx: &Ctx<'_>, limit: i64) -> Result<Vec<Contact>> {
        self.org_allowed(ctx, Action::ListCases)?;
        let rows = sqlx::query(
            "SELECT id, channel, anonymous, case_id, created_at FROM contacts WHERE org_id = $1 ORDER BY created_at DESC LIMIT $2",
        )
        .bind(ctx.actor.org_id.to_string())
        .bind(limit.clamp(1, 500))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let case: Option<String> = r.try_get("case_id")?;
                Ok(Contact {
                    id: uuid_of(&r.try_get::<String, _>("id")?)?,
                    channel: r.try_get("channel")?,
                    anonymous: r.try_get::<i64, _>("anonymous")? != 0,
                    case_id: case.as_deref().map(uuid_of).transpose()?,
                    created_at: ts(r.try_get("created_at")?),
                    summary: None,
                })
            })
            .collect()
    }

    /// One contact with its summary decrypted (audited).
    pub async fn get_contact(&self, ctx: &Ctx<'_>, id: Uuid) -> Result<Contact> {
        self.org_allowed(ctx, Action::ListCases)?;
        let r = sqlx::query(
            "SELECT id, channel, anonymous, case_id, created_at, master_key_id, wrapped_key, summary FROM contacts WHERE id = $1 AND org_id = $2",
        )
        .bind(id.to_string())
        .bind(ctx.actor.org_id.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let ids = id.to_string();
        let summary = match (
            r.try_get::<Option<String>, _>("master_key_id")?,
            r.try_get::<Option<Vec<u8>>, _>("wrapped_key")?,
            r.try_get::<Option<Vec<u8>>, _>("summary")?,
        ) {
            (Some(kid), Some(wrapped), Some(ct)) => {
                let key = self.keys.unwrap_case_key(&kid, &wrapped)?;
                let plain = key.open(&field_aad("contacts", "summary", &ids, "contact"), &ct)?;
                Some(String::from_utf8_lossy(&plain).into_owned())
            }
            _ => None,
        };
        let mut e = crate::audit::AuditEntry::new("contact.read", "success");
        e.actor_user = ctx.actor.user_id.to_string();
        e.actor_org = ctx.actor.org_id.to_string();
        e.source = ctx.source.to_string();
        e.detail = format!("contact={ids}");
        self.audit(e, ctx.now).await?;
        let case: Option<String> = r.try_get("case_id")?;
        Ok(Contact {
            id,
            channel: r.try_get("channel")?,
            anonymous: r.try_get::<i64, _>("anonymous")? != 0,
            case_id: case.as_deref().map(uuid_of).transpose()?,
            created_at: ts(r.try_get("created_at")?),
            summary,
        })
    }

    /// Links a contact to a case of the same organisation ("a case keeps its contacts").
    pub async fn link_contact(&self, ctx: &Ctx<'_>, contact: Uuid, case: Uuid) -> Result<()> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE contacts SET case_id = $1 WHERE id = $2 AND org_id = $3 AND case_id IS NULL",
        )
        .bind(case.to_string())
        .bind(contact.to_string())
        .bind(access.facts().owner_org.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(StoreError::NotFound);
        }
        Self::case_event(
            &mut tx,
            ctx,
            &access,
            "contact.linked",
            &format!("contact={contact}"),
        )
        .await?;
        let mut e = crate::audit::AuditEntry::new("contact.link", "success");
        e.actor_user = ctx.actor.user_id.to_string();
        e.actor_org = ctx.actor.org_id.to_string();
        e.source = ctx.source.to_string();
        e.case_id = case.to_string();
        e.detail = format!("contact={contact}");
        append(&mut tx, &e, millis(ctx.now)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a screening; the structured answer is kept with who screened.
    pub async fn add_screening(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        s: &ValidScreening,
    ) -> Result<Screening> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        let id = Uuid::new_v4();
        let cs = case.to_string();
        let now = millis(ctx.now);
        let moc: Vec<&str> = s.methods_of_control.iter().map(|m| m.as_str()).collect();
        let toe: Vec<&str> = s.types_of_exploitation.iter().map(|m| m.as_str()).collect();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO screenings (id, case_id, act, means, purpose, is_child, methods_of_control, types_of_exploitation, \
             ilo_indicators, possible_victim, screened_by, screened_by_org, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(id.to_string())
        .bind(&cs)
        .bind(i64::from(s.act))
        .bind(i64::from(s.means))
        .bind(i64::from(s.purpose))
        .bind(i64::from(s.is_child))
        .bind(join(&moc))
        .bind(join(&toe))
        .bind(join(&s.ilo_indicators))
        .bind(i64::from(s.possible_victim))
        .bind(ctx.actor.user_id.to_string())
        .bind(ctx.actor.org_id.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        // Methods of control found at screening become part of the victim context. Two
        // screenings of one case at the same moment may add the same value: the key decides
        // (a NOT EXISTS check races under PostgreSQL's read committed; found by the crash test).
        for m in &moc {
            sqlx::query(
                "INSERT INTO case_values (case_id, field, value) VALUES ($1, $2, $3) \
                 ON CONFLICT (case_id, field, value) DO NOTHING",
            )
            .bind(&cs)
            .bind("vic_MethodsOfControl")
            .bind(*m)
            .execute(&mut *tx)
            .await?;
        }
        let result = if s.possible_victim {
            "possible_victim"
        } else {
            "not_indicated"
        };
        Self::case_event(&mut tx, ctx, &access, "screening.recorded", result).await?;
        let mut e = crate::audit::AuditEntry::new("case.screening", "success");
        e.actor_user = ctx.actor.user_id.to_string();
        e.actor_org = ctx.actor.org_id.to_string();
        e.source = ctx.source.to_string();
        e.case_id = cs.clone();
        e.detail = result.into();
        append(&mut tx, &e, now).await?;
        tx.commit().await?;
        Ok(Screening {
            id,
            act: s.act,
            means: s.means,
            purpose: s.purpose,
            is_child: s.is_child,
            methods_of_control: moc.iter().map(|m| m.to_string()).collect(),
            types_of_exploitation: toe.iter().map(|m| m.to_string()).collect(),
            ilo_indicators: s.ilo_indicators.clone(),
            possible_victim: s.possible_victim,
            screened_by_org: ctx.actor.org_id,
            created_at: ts(now),
        })
    }

    /// Screenings of a case (victim-context section: need-to-know for referred organisations).
    pub async fn screenings(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Vec<Screening>> {
        self.authorize_case(
            ctx,
            Action::ReadSection(dayaq_domain::policy::Section::VictimContext),
            case,
        )
        .await?;
        let rows = sqlx::query(
            "SELECT id, act, means, purpose, is_child, methods_of_control, types_of_exploitation, ilo_indicators, \
             possible_victim, screened_by_org, created_at FROM screenings WHERE case_id = $1 ORDER BY created_at, id",
        )
        .bind(case.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Screening {
                    id: uuid_of(&r.try_get::<String, _>("id")?)?,
                    act: r.try_get::<i64, _>("act")? != 0,
                    means: r.try_get::<i64, _>("means")? != 0,
                    purpose: r.try_get::<i64, _>("purpose")? != 0,
                    is_child: r.try_get::<i64, _>("is_child")? != 0,
                    methods_of_control: split(&r.try_get::<String, _>("methods_of_control")?),
                    types_of_exploitation: split(&r.try_get::<String, _>("types_of_exploitation")?),
                    ilo_indicators: split(&r.try_get::<String, _>("ilo_indicators")?),
                    possible_victim: r.try_get::<i64, _>("possible_victim")? != 0,
                    screened_by_org: uuid_of(&r.try_get::<String, _>("screened_by_org")?)?,
                    created_at: ts(r.try_get("created_at")?),
                })
            })
            .collect()
    }

    /// The formal identification decision. Only the competent authority (the policy says who)
    /// may decide; every decision is kept, the case carries the latest status.
    pub async fn decide_identification(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        d: &ValidDecision,
    ) -> Result<Decision> {
        let access = self
            .authorize_case(ctx, Action::DecideIdentification, case)
            .await?;
        let id = Uuid::new_v4();
        let cs = case.to_string();
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO identification_decisions (id, case_id, status, decision_making_org, decided_by, decided_by_org, \
             decided_on, reference, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id.to_string())
        .bind(&cs)
        .bind(d.status.as_str())
        .bind(d.decision_making_org.as_str())
        .bind(ctx.actor.user_id.to_string())
        .bind(ctx.actor.org_id.to_string())
        .bind(&d.decided_on)
        .bind(&d.reference)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE cases SET vic_trafficking_status = $1, version = version + 1, updated_at = $2 WHERE id = $3")
            .bind(d.status.as_str())
            .bind(now)
            .bind(&cs)
            .execute(&mut *tx)
            .await?;
        Self::case_event(
            &mut tx,
            ctx,
            &access,
            "identification.decided",
            d.status.as_str(),
        )
        .await?;
        let mut e = crate::audit::AuditEntry::new("case.identification", "success");
        e.actor_user = ctx.actor.user_id.to_string();
        e.actor_org = ctx.actor.org_id.to_string();
        e.source = ctx.source.to_string();
        e.case_id = cs;
        e.detail = d.status.as_str().into();
        append(&mut tx, &e, now).await?;
        tx.commit().await?;
        Ok(Decision {
            id,
            status: d.status.as_str().into(),
            decision_making_org: d.decision_making_org.as_str().into(),
            decided_by_org: ctx.actor.org_id,
            decided_on: d.decided_on.clone(),
            reference: d.reference.clone(),
            created_at: ts(now),
        })
    }

    /// Decision history, oldest first.
    pub async fn decisions(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Vec<Decision>> {
        self.authorize_case(ctx, Action::ReadCase, case).await?;
        let rows = sqlx::query(
            "SELECT id, status, decision_making_org, decided_by_org, decided_on, reference, created_at \
             FROM identification_decisions WHERE case_id = $1 ORDER BY created_at, id",
        )
        .bind(case.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Decision {
                    id: uuid_of(&r.try_get::<String, _>("id")?)?,
                    status: r.try_get("status")?,
                    decision_making_org: r.try_get("decision_making_org")?,
                    decided_by_org: uuid_of(&r.try_get::<String, _>("decided_by_org")?)?,
                    decided_on: r.try_get("decided_on")?,
                    reference: r.try_get("reference")?,
                    created_at: ts(r.try_get("created_at")?),
                })
            })
            .collect()
    }

    /// The current identification status of a case (for rules such as the allowance).
    pub async fn trafficking_status(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<TraffickingStatus> {
        self.authorize_case(ctx, Action::ReadCase, case).await?;
        let s: String =
            sqlx::query_scalar("SELECT vic_trafficking_status FROM cases WHERE id = $1")
                .bind(case.to_string())
                .fetch_one(&self.pool)
                .await?;
        TraffickingStatus::parse(&s).map_err(|e| StoreError::Data(e.message))
    }

    pub async fn add_consent(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        c: &ConsentInput,
    ) -> Result<Consent> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        let mut errs = ValidationErrors::default();
        let purpose = ConsentPurpose::parse(&c.purpose)
            .map_err(|e| errs.push(e))
            .ok();
        if !GIVEN_BY.contains(&c.given_by.as_str()) {
            errs.push(FieldError::new(
                "given_by",
                "invalid_value",
                "given_by must be Survivor, ParentOrGuardian or LegalRepresentative",
            ));
        }
        if !(c.language.len() == 2 && c.language.bytes().all(|b| b.is_ascii_lowercase())) {
            errs.push(FieldError::new(
                "language",
                "invalid_value",
                "language must be an ISO 639-1 code such as az or ru",
            ));
        }
        let mut recipient_org = None;
        let mut recipient_type = None;
        match purpose {
            Some(ConsentPurpose::SharingWithOrganisation) => match c.recipient_org.as_deref() {
                Some(slug) => match self.org_by_slug(slug).await {
                    Ok(o) => recipient_org = Some(o.id),
                    Err(StoreError::NotFound) => errs.push(FieldError::new(
                        "recipient_org",
                        "unknown_organisation",
                        "no organisation with this slug",
                    )),
                    Err(e) => return Err(e),
                },
                None => errs.push(FieldError::new(
                    "recipient_org",
                    "required",
                    "recipient_org is required for SharingWithOrganisation",
                )),
            },
            Some(ConsentPurpose::SharingWithOrganisationType) => match c
                .recipient_org_type
                .as_deref()
                .map(|t| OrgType::parse_for("recipient_org_type", t))
            {
                Some(Ok(t)) => recipient_type = Some(t),
                Some(Err(e)) => errs.push(e),
                None => errs.push(FieldError::new(
                    "recipient_org_type",
                    "required",
                    "recipient_org_type is required for SharingWithOrganisationType",
                )),
            },
            _ => {}
        }
        errs.into_result()?;
        let Some(purpose) = purpose else {
            return Err(StoreError::Data("unreachable".into()));
        };
        let id = Uuid::new_v4();
        let cs = case.to_string();
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO consents (id, case_id, purpose, given, recipient_org, recipient_org_type, given_by, language, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id.to_string())
        .bind(&cs)
        .bind(purpose.as_str())
        .bind(i64::from(c.given))
        .bind(recipient_org.map(|o| o.to_string()))
        .bind(recipient_type.map(|t| t.as_str()))
        .bind(&c.given_by)
        .bind(&c.language)
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let what = format!(
            "{} {}",
            purpose.as_str(),
            if c.given { "given" } else { "declined" }
        );
        Self::case_event(&mut tx, ctx, &access, "consent.recorded", &what).await?;
        let mut e = crate::audit::AuditEntry::new("case.consent", "success");
        e.actor_user = ctx.actor.user_id.to_string();
        e.actor_org = ctx.actor.org_id.to_string();
        e.source = ctx.source.to_string();
        e.case_id = cs;
        e.detail = what;
        append(&mut tx, &e, now).await?;
        tx.commit().await?;
        Ok(Consent {
            id,
            purpose: purpose.as_str().into(),
            given: c.given,
            recipient_org,
            recipient_org_type: recipient_type.map(|t| t.as_str().to_string()),
            given_by: c.given_by.clone(),
            language: c.language.clone(),
            recorded_at: ts(now),
            withdrawn_at: None,
        })
    }

    pub async fn withdraw_consent(&self, ctx: &Ctx<'_>, case: Uuid, consent: Uuid) -> Result<()> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        let cs = case.to_string();
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("UPDATE consents SET withdrawn_at = $1, withdrawn_by = $2 WHERE id = $3 AND case_id = $4 AND withdrawn_at IS NULL")
            .bind(now)
            .bind(ctx.actor.user_id.to_string())
            .bind(consent.to_string())
            .bind(&cs)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n != 1 {
            return Err(StoreError::NotFound);
        }
        Self::case_event(&mut tx, ctx, &access, "consent.withdrawn", "").await?;
        let ended = self
            .end_referrals_of_consent(&mut tx, ctx, &access, consent)
            .await?;
        let mut e = crate::audit::AuditEntry::new("case.consent_withdraw", "success");
        e.actor_user = ctx.actor.user_id.to_string();
        e.actor_org = ctx.actor.org_id.to_string();
        e.source = ctx.source.to_string();
        e.case_id = cs;
        e.detail = format!("consent={consent} referrals_ended={ended}");
        append(&mut tx, &e, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends the live (pending or accepted) on-platform referrals that the withdrawn consent
    /// covered and that no remaining consent covers: state `Withdrawn`, `ended_by =
    /// consent_withdrawn` (the grant ends at once, without the grace period), the receiving
    /// organisation is notified (kind and referral id only), one case event and one audit row
    /// each. Services already recorded stay. Referrals sent under a supervisor's consent
    /// override were not covered by any consent and are left as they are. Returns the count.
    async fn end_referrals_of_consent(
        &self,
        conn: &mut sqlx::AnyConnection,
        ctx: &Ctx<'_>,
        access: &CaseAccess,
        consent: Uuid,
    ) -> Result<usize> {
        let cs = access.id_str();
        let rows = sqlx::query(
            "SELECT id, purpose, given, recipient_org, recipient_org_type, withdrawn_at FROM consents WHERE case_id = $1",
        )
        .bind(cs)
        .fetch_all(&mut *conn)
        .await?;
        let mut withdrawn = None;
        let mut remaining = Vec::new();
        for r in &rows {
            let org: Option<String> = r.try_get("recipient_org")?;
            let org_type: Option<String> = r.try_get("recipient_org_type")?;
            let Ok(purpose) = ConsentPurpose::parse(&r.try_get::<String, _>("purpose")?) else {
                continue;
            };
            let id: String = r.try_get("id")?;
            let fact = ConsentFact {
                purpose,
                given: r.try_get::<i64, _>("given")? != 0,
                recipient_org: org.as_deref().map(uuid_of).transpose()?,
                recipient_org_type: org_type.as_deref().and_then(|t| OrgType::parse(t).ok()),
                withdrawn: r.try_get::<Option<i64>, _>("withdrawn_at")?.is_some(),
            };
            if id == consent.to_string() {
                withdrawn = Some(ConsentFact {
                    withdrawn: false,
                    ..fact
                });
            } else {
                remaining.push(fact);
            }
        }
        let Some(withdrawn) = withdrawn else {
            return Ok(0);
        };
        let live = sqlx::query(
            "SELECT r.id AS id, r.to_org AS to_org, r.state AS state, o.org_type AS org_type \
             FROM referrals r JOIN organisations o ON o.id = r.to_org \
             WHERE r.case_id = $1 AND r.off_platform = 0 AND r.state IN ('Pending', 'Accepted')",
        )
        .bind(cs)
        .fetch_all(&mut *conn)
        .await?;
        let now = millis(ctx.now);
        let mut n = 0;
        for r in &live {
            let id: String = r.try_get("id")?;
            let to = uuid_of(&r.try_get::<String, _>("to_org")?)?;
            let Ok(to_type) = OrgType::parse(&r.try_get::<String, _>("org_type")?) else {
                continue;
            };
            let covered_by_it = dayaq_domain::identification::sharing_covered(
                std::slice::from_ref(&withdrawn),
                to,
                to_type,
            );
            if !covered_by_it
                || dayaq_domain::identification::sharing_covered(&remaining, to, to_type)
            {
                continue;
            }
            let state: String = r.try_get("state")?;
            let changed = sqlx::query(
                "UPDATE referrals SET state = 'Withdrawn', ended_at = $1, ended_by = $2 WHERE id = $3 AND state = $4",
            )
            .bind(now)
            .bind(crate::kernel::access::ENDED_BY_CONSENT)
            .bind(&id)
            .bind(&state)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if changed != 1 {
                continue;
            }
            n += 1;
            Self::case_event(
                conn,
                ctx,
                access,
                "referral.ended-by-consent",
                &format!("referral={id}"),
            )
            .await?;
            sqlx::query("INSERT INTO notifications (id, org_id, role, kind, ref_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(Uuid::new_v4().to_string())
                .bind(to.to_string())
                .bind(None::<String>)
                .bind("referral.consent_withdrawn")
                .bind(&id)
                .bind(now)
                .execute(&mut *conn)
                .await?;
            let mut e = crate::audit::AuditEntry::new("referral.ended_by_consent", "success");
            e.actor_user = ctx.actor.user_id.to_string();
            e.actor_org = ctx.actor.org_id.to_string();
            e.source = ctx.source.to_string();
            e.case_id = cs.to_string();
            e.detail = format!("referral={id} consent={consent}");
            append(conn, &e, now).await?;
        }
        Ok(n)
    }

    /// Hands a case over to another organisation (e.g. hotline → police). The survivor's
    /// consent must cover sharing with that organisation (or its type). Ownership moves with
    /// everything attached (blind index, intake contacts and their summaries); the previous
    /// organisation loses access to every section, its outbox and the referral details. Returns the new owner.
    pub async fn transfer_case(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        to_slug: &str,
    ) -> Result<crate::orgs::Organisation> {
        let access = self.authorize_case(ctx, Action::TransferCase, case).await?;
        let to = match self.org_by_slug(to_slug).await {
            Ok(o) => o,
            Err(StoreError::NotFound) => {
                return Err(ValidationErrors::single(FieldError::new(
                    "to_org",
                    "unknown_organisation",
                    "no organisation with this slug",
                ))
                .into());
            }
            Err(e) => return Err(e),
        };
        if to.id == ctx.actor.org_id {
            return Err(ValidationErrors::single(FieldError::new(
                "to_org",
                "same_organisation",
                "the case already belongs to this organisation",
            ))
            .into());
        }
        let facts: Vec<ConsentFact> = self
            .consents_of(ctx, &access)
            .await?
            .iter()
            .filter_map(Consent::fact)
            .collect();
        if !dayaq_domain::identification::sharing_covered(&facts, to.id, to.org_type) {
            let mut e = crate::audit::AuditEntry::new("case.transfer", "denied");
            e.actor_user = ctx.actor.user_id.to_string();
            e.actor_org = ctx.actor.org_id.to_string();
            e.source = ctx.source.to_string();
            e.case_id = case.to_string();
            e.detail = "no_consent".into();
            self.audit(e, ctx.now).await?;
            return Err(ValidationErrors::single(FieldError::new(
                "consent",
                "consent_required",
                "no consent of the survivor covers sharing with this organisation",
            ))
            .into());
        }
        let cs = case.to_string();
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE cases SET owner_org_id = $1, version = version + 1, updated_at = $2 WHERE id = $3")
            .bind(to.id.to_string())
            .bind(now)
            .bind(&cs)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE blind_index SET org_id = $1 WHERE case_id = $2")
            .bind(to.id.to_string())
            .bind(&cs)
            .execute(&mut *tx)
            .await?;
        // The intake contacts (and their encrypted summaries) move with the case: the
        // previous owner keeps no read of any part of it.
        sqlx::query("UPDATE contacts SET org_id = $1 WHERE case_id = $2")
            .bind(to.id.to_string())
            .bind(&cs)
            .execute(&mut *tx)
            .await?;
        Self::case_event(
            &mut tx,
            ctx,
            &access,
            "case.transferred",
            &format!("from={} to={}", ctx.actor.org_id, to.id),
        )
        .await?;
        let mut e = crate::audit::AuditEntry::new("case.transfer", "success");
        e.actor_user = ctx.actor.user_id.to_string();
        e.actor_org = ctx.actor.org_id.to_string();
        e.source = ctx.source.to_string();
        e.case_id = cs;
        e.detail = format!("to_org={}", to.id);
        append(&mut tx, &e, now).await?;
        tx.commit().await?;
        Ok(to)
    }

    pub async fn consents(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Vec<Consent>> {
        let access = self.authorize_case(ctx, Action::ReadCase, case).await?;
        self.consents_of(ctx, &access).await
    }

    /// [`Store::consents`] of a checked case: asks `ReadCase` on the carried facts.
    pub(crate) async fn consents_of(
        &self,
        ctx: &Ctx<'_>,
        access: &CaseAccess,
    ) -> Result<Vec<Consent>> {
        self.require(ctx, access, Action::ReadCase).await?;
        let case = access.id();
        let rows = sqlx::query(
            "SELECT id, purpose, given, recipient_org, recipient_org_type, given_by, language, recorded_at, withdrawn_at \
             FROM consents WHERE case_id = $1 ORDER BY recorded_at, id",
        )
        .bind(case.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let org: Option<String> = r.try_get("recipient_org")?;
                Ok(Consent {
                    id: uuid_of(&r.try_get::<String, _>("id")?)?,
                    purpose: r.try_get("purpose")?,
                    given: r.try_get::<i64, _>("given")? != 0,
                    recipient_org: org.as_deref().map(uuid_of).transpose()?,
                    recipient_org_type: r.try_get("recipient_org_type")?,
                    given_by: r.try_get("given_by")?,
                    language: r.try_get("language")?,
                    recorded_at: ts(r.try_get("recorded_at")?),
                    withdrawn_at: r.try_get::<Option<i64>, _>("withdrawn_at")?.map(ts),
                })
            })
            .collect()
    }
}
