//! The referral mechanism: service directory, consent-scoped referrals that grant
//! need-to-know access, break-glass, in-app notifications, and the criminal-justice link.

use crate::audit::{AuditEntry, append};
use crate::crypto::field_aad;
use crate::identification::Consent;
use crate::kernel::Ctx;
use crate::{Result, Store, StoreError, from_millis, millis};
use dayaq_domain::identification::{ConsentFact, sharing_covered};
use dayaq_domain::policy::{Action, Resource, decide};
use dayaq_domain::referral::{
    Eligibility, EligibilityFacts, ReferralEvent, ReferralState, Service, Side, Travel,
    check_travel, details_readable, transition, unmet,
};
use dayaq_domain::vocab::{Gender, ReferralReason, TraffickingStatus};
use dayaq_domain::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

fn ts(ms: i64) -> String {
    from_millis(ms).format(&Rfc3339).unwrap_or_default()
}
fn uuid_of(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::Data(e.to_string()))
}
fn invalid(field: &str, code: &'static str, msg: &str) -> StoreError {
    ValidationErrors::single(FieldError::new(field, code, msg)).into()
}
fn entry(ctx: &Ctx<'_>, action: &'static str, outcome: &'static str, case: &str) -> AuditEntry {
    AuditEntry {
        actor_user: ctx.actor.user_id.to_string(),
        actor_org: ctx.actor.org_id.to_string(),
        action,
        outcome,
        case_id: case.to_string(),
        source: ctx.source.to_string(),
        detail: String::new(),
    }
}

/// One organisation's offer of one service.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceOffer {
    pub service: String,
    pub region: String,
    #[serde(default)]
    pub city: String,
    /// ISO 639-1 codes, comma-separated (e.g. "az,ru").
    #[serde(default)]
    pub languages: String,
    #[serde(default)]
    pub opening_hours: String,
    /// Free places (beds for a shelter), if counted.
    #[serde(default)]
    pub capacity: Option<i64>,
    #[serde(default, flatten)]
    pub eligibility: Eligibility,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DirectoryEntry {
    pub org_id: Uuid,
    pub org_slug: String,
    pub org_name: String,
    #[serde(rename = "org_Type")]
    pub org_type: String,
    pub service: String,
    pub region: String,
    pub city: String,
    pub languages: String,
    pub opening_hours: String,
    pub capacity: Option<i64>,
    pub eligibility: Eligibility,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferralInput {
    /// Receiving organisation's slug.
    pub to_org: String,
    pub services: Vec<String>,
    /// HTCDS `cas_ReasonForOutgoingReferral`.
    #[serde(rename = "cas_ReasonForOutgoingReferral")]
    pub reason: String,
    /// HTCDS `cas_OutgoingReferralDetails` (encrypted).
    #[serde(rename = "cas_OutgoingReferralDetails", default)]
    pub details: Option<String>,
    /// A supervisor's written reason to send without a covering consent.
    #[serde(default)]
    pub consent_override_reason: Option<String>,
    /// Travel details: required for ReturnHome and AirportMeeting (encrypted).
    #[serde(default)]
    pub travel: Option<Travel>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Referral {
    pub id: Uuid,
    pub case_id: Uuid,
    pub case_number: String,
    #[serde(rename = "cas_ReferringOrganisation")]
    pub from_org: Uuid,
    #[serde(rename = "cas_ReferredOrganisation")]
    pub to_org: Uuid,
    pub services: Vec<String>,
    #[serde(rename = "cas_ReasonForOutgoingReferral")]
    pub reason: String,
    pub state: String,
    pub consent_override: bool,
    #[serde(rename = "cas_OutgoingReferralDate")]
    pub created_at: String,
    pub responded_at: Option<String>,
    pub decline_reason: Option<String>,
    pub overdue: bool,
    /// Decrypted for the two organisations involved.
    #[serde(
        rename = "cas_OutgoingReferralDetails",
        skip_serializing_if = "Option::is_none"
    )]
    pub details: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub override_reason: Option<String>,
    /// Travel details (return home, airport meeting), decrypted for the two organisations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub travel: Option<Travel>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Notification {
    pub id: Uuid,
    pub kind: String,
    pub ref_id: String,
    pub created_at: String,
    pub read: bool,
}

/// Criminal-justice link (legal section).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LegalInput {
    /// Criminal case reference (encrypted).
    #[serde(default)]
    pub criminal_case_ref: Option<String>,
    /// Yes, No or Declined.
    pub cooperation: String,
    #[serde(default)]
    pub witness: bool,
    #[serde(default)]
    pub compensation_claim: bool,
    /// Non-punishment for offences the trafficker forced.
    #[serde(default)]
    pub non_punishment: bool,
}

const COOPERATION: &[&str] = &["Yes", "No", "Declined"];

pub(crate) use crate::kernel::access::ENDED_BY_CONSENT;

/// How the actor reads one referral row's encrypted parts (details, travel).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DetailRead {
    /// Not at all (another organisation, a past sender, a declined or ended referral).
    No,
    /// The case's owning organisation.
    Owner,
    /// The receiving organisation while the referral is live: decrypted and audited.
    Receiver,
}

fn b(v: bool) -> i64 {
    i64::from(v)
}

impl Store {
    async fn notify(
        conn: &mut AnyConnection,
        org: Uuid,
        role: Option<&str>,
        kind: &str,
        ref_id: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query("INSERT INTO notifications (id, org_id, role, kind, ref_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(Uuid::new_v4().to_string())
            .bind(org.to_string())
            .bind(role)
            .bind(kind)
            .bind(ref_id)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    // ---------- directory ----------

    /// Adds or replaces an organisation's offer of a service.
    pub async fn set_service(
        &self,
        ctx: &Ctx<'_>,
        org_slug: &str,
        offer: &ServiceOffer,
    ) -> Result<()> {
        let org = self.org_by_slug(org_slug).await?;
        let d = decide(
            ctx.actor,
            Action::ManageDirectory,
            Resource::Organisation(org.id),
        );
        if !d.allowed {
            return Err(StoreError::Forbidden(d.reason));
        }
        let mut errs = ValidationErrors::default();
        let service = Service::parse_for("service", &offer.service)
            .map_err(|e| errs.push(e))
            .ok();
        if offer.region.trim().is_empty() || offer.region.chars().count() > 100 {
            errs.push(FieldError::new(
                "region",
                "invalid_length",
                "region must be 1-100 characters",
            ));
        }
        if offer.capacity.is_some_and(|c| !(0..=100_000).contains(&c)) {
            errs.push(FieldError::new(
                "capacity",
                "out_of_range",
                "capacity must be between 0 and 100000",
            ));
        }
        for (f, v) in [
            ("city", &offer.city),
            ("languages", &offer.languages),
            ("opening_hours", &offer.opening_hours),
        ] {
            if v.chars().count() > 200 {
                errs.push(FieldError::new(
                    f,
                    "too_long",
                    format!("{f} is longer than 200 characters"),
                ));
            }
        }
        errs.into_result()?;
        let Some(service) = service else {
            return Err(StoreError::Data("unreachable".into()));
        };
        let e = &offer.eligibility;
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM org_services WHERE org_id = $1 AND service = $2")
            .bind(org.id.to_string())
            .bind(service.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO org_services (id, org_id, service, region, city, languages, opening_hours, capacity, \
             requires_police_cooperation, requires_criminal_case, requires_identified_victim, women_only, children_only, adults_only) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(Uuid::new_v4().to_string())
        .bind(org.id.to_string())
        .bind(service.as_str())
        .bind(offer.region.trim())
        .bind(offer.city.trim())
        .bind(offer.languages.trim())
        .bind(offer.opening_hours.trim())
        .bind(offer.capacity)
        .bind(b(e.requires_police_cooperation))
        .bind(b(e.requires_criminal_case))
        .bind(b(e.requires_identified_victim))
        .bind(b(e.women_only))
        .bind(b(e.children_only))
        .bind(b(e.adults_only))
        .execute(&mut *tx)
        .await?;
        let mut a = entry(ctx, "directory.update", "success", "");
        a.detail = format!("org={} service={}", org.id, service.as_str());
        append(&mut tx, &a, millis(ctx.now)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// "Who can help with X in region Y": the directory, optionally filtered.
    pub async fn directory(
        &self,
        service: Option<&str>,
        region: Option<&str>,
    ) -> Result<Vec<DirectoryEntry>> {
        let rows = sqlx::query(
            "SELECT s.org_id, o.slug, o.name, o.org_type, s.service, s.region, s.city, s.languages, s.opening_hours, s.capacity, \
             s.requires_police_cooperation, s.requires_criminal_case, s.requires_identified_victim, s.women_only, s.children_only, s.adults_only \
             FROM org_services s JOIN organisations o ON o.id = s.org_id \
             WHERE ($1 = '' OR s.service = $1) AND ($2 = '' OR s.region = $2) ORDER BY s.service, s.region, o.name",
        )
        .bind(service.unwrap_or(""))
        .bind(region.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DirectoryEntry {
                    org_id: uuid_of(&r.try_get::<String, _>("org_id")?)?,
                    org_slug: r.try_get("slug")?,
                    org_name: r.try_get("name")?,
                    org_type: r.try_get("org_type")?,
                    service: r.try_get("service")?,
                    region: r.try_get("region")?,
                    city: r.try_get("city")?,
                    languages: r.try_get("languages")?,
                    opening_hours: r.try_get("opening_hours")?,
                    capacity: r.try_get("capacity")?,
                    eligibility: Eligibility {
                        requires_police_cooperation: r
                            .try_get::<i64, _>("requires_police_cooperation")?
                            != 0,
                        requires_criminal_case: r.try_get::<i64, _>("requires_criminal_case")? != 0,
                        requires_identified_victim: r
                            .try_get::<i64, _>("requires_identified_victim")?
                            != 0,
                        women_only: r.try_get::<i64, _>("women_only")? != 0,
                        children_only: r.try_get::<i64, _>("children_only")? != 0,
                        adults_only: r.try_get::<i64, _>("adults_only")? != 0,
                    },
                })
            })
            .collect()
    }

    /// Coverage by region: for every region on the platform, the services offered there
    /// (a missing service is a gap).
    pub async fn coverage(&self) -> Result<Vec<(String, Vec<String>)>> {
        let mut regions: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT region FROM organisations")
                .fetch_all(&self.pool)
                .await?;
        let offered: Vec<String> = sqlx::query_scalar("SELECT DISTINCT region FROM org_services")
            .fetch_all(&self.pool)
            .await?;
        regions.extend(offered);
        regions.sort();
        regions.dedup();
        let mut out = Vec::new();
        for region in regions {
            let services: Vec<String> = sqlx::query_scalar(
                "SELECT DISTINCT service FROM org_services WHERE region = $1 ORDER BY service",
            )
            .bind(&region)
            .fetch_all(&self.pool)
            .await?;
            out.push((region, services));
        }
        Ok(out)
    }

    // ---------- legal (criminal-justice link) ----------

    pub async fn set_legal(&self, ctx: &Ctx<'_>, case: Uuid, l: &LegalInput) -> Result<()> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        if !COOPERATION.contains(&l.cooperation.as_str()) {
            return Err(invalid(
                "cooperation",
                "invalid_value",
                "cooperation must be Yes, No or Declined",
            ));
        }
        if l.criminal_case_ref
            .as_deref()
            .is_some_and(|r| r.chars().count() > 100)
        {
            return Err(invalid(
                "criminal_case_ref",
                "too_long",
                "criminal_case_ref is longer than 100 characters",
            ));
        }
        let cs = case.to_string();
        let mut tx = self.begin_write().await?;
        let key = self.case_key(&mut tx, &access).await?;
        let sealed = match l
            .criminal_case_ref
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(r) => Some(key.seal(
                &field_aad("case_legal", "criminal_case_ref", &cs, "case"),
                r.as_bytes(),
            )?),
            None => None,
        };
        sqlx::query("DELETE FROM case_legal WHERE case_id = $1")
            .bind(&cs)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO case_legal (case_id, criminal_case_ref, cooperation, witness, compensation_claim, non_punishment, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&cs)
        .bind(sealed)
        .bind(&l.cooperation)
        .bind(b(l.witness))
        .bind(b(l.compensation_claim))
        .bind(b(l.non_punishment))
        .bind(millis(ctx.now))
        .execute(&mut *tx)
        .await?;
        Self::case_event(
            &mut tx,
            ctx,
            &access,
            "legal.updated",
            &format!("cooperation={}", l.cooperation),
        )
        .await?;
        append(
            &mut tx,
            &entry(ctx, "case.legal", "success", &cs),
            millis(ctx.now),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The legal section (needs `Section::Legal`).
    pub async fn legal(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Option<LegalInput>> {
        let access = self
            .authorize_case(
                ctx,
                Action::ReadSection(dayaq_domain::policy::Section::Legal),
                case,
            )
            .await?;
        let cs = case.to_string();
        let Some(r) = sqlx::query("SELECT criminal_case_ref, cooperation, witness, compensation_claim, non_punishment FROM case_legal WHERE case_id = $1")
            .bind(&cs)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let reference = match r.try_get::<Option<Vec<u8>>, _>("criminal_case_ref")? {
            Some(ct) => {
                let mut conn = self.pool.acquire().await?;
                let key = self.case_key(&mut conn, &access).await?;
                let plain = key.open(
                    &field_aad("case_legal", "criminal_case_ref", &cs, "case"),
                    &ct,
                )?;
                Some(String::from_utf8_lossy(&plain).into_owned())
            }
            None => None,
        };
        Ok(Some(LegalInput {
            criminal_case_ref: reference,
            cooperation: r.try_get("cooperation")?,
            witness: r.try_get::<i64, _>("witness")? != 0,
            compensation_claim: r.try_get::<i64, _>("compensation_claim")? != 0,
            non_punishment: r.try_get::<i64, _>("non_punishment")? != 0,
        }))
    }

    async fn eligibility_facts(&self, case: Uuid) -> Result<EligibilityFacts> {
        let cs = case.to_string();
        let r = sqlx::query("SELECT prs_gender, age_when_trafficked, vic_trafficking_status FROM cases WHERE id = $1")
            .bind(&cs)
            .fetch_one(&self.pool)
            .await?;
        let gender: Option<String> = r.try_get("prs_gender")?;
        let legal = sqlx::query(
            "SELECT cooperation, criminal_case_ref IS NOT NULL AS has_case FROM case_legal WHERE case_id = $1",
        )
        .bind(&cs)
        .fetch_optional(&self.pool)
        .await?;
        let (coop, has_case) = match legal {
            Some(l) => (
                l.try_get::<String, _>("cooperation")? == "Yes",
                l.try_get::<bool, _>("has_case")
                    .or_else(|_| l.try_get::<i64, _>("has_case").map(|v| v != 0))?,
            ),
            None => (false, false),
        };
        Ok(EligibilityFacts {
            cooperates_with_police: coop,
            has_criminal_case: has_case,
            identified_victim: r.try_get::<String, _>("vic_trafficking_status")?
                == TraffickingStatus::ActualVictimOfTrafficking.as_str(),
            feminine: matches!(
                gender.as_deref().and_then(|g| Gender::parse(g).ok()),
                Some(Gender::Feminine | Gender::TransgenderFeminine)
            ),
            age: r.try_get("age_when_trafficked")?,
        })
    }

    /// Checks the receiving organisation's eligibility rules for the services: the list of
    /// (service, unmet rule codes) for every service with an unmet rule.
    pub async fn check_eligibility(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        to_org: Uuid,
        services: &[Service],
    ) -> Result<Vec<(String, Vec<&'static str>)>> {
        self.authorize_case(ctx, Action::ReadCase, case).await?;
        let facts = self.eligibility_facts(case).await?;
        let offers = self.directory(None, None).await?;
        let mut out = Vec::new();
        for s in services {
            if let Some(o) = offers
                .iter()
                .find(|o| o.org_id == to_org && o.service == s.as_str())
            {
                let u = unmet(&o.eligibility, &facts);
                if !u.is_empty() {
                    out.push((s.as_str().to_string(), u));
                }
            }
        }
        Ok(out)
    }

    // ---------- referrals ----------

    pub async fn create_referral(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        input: &ReferralInput,
    ) -> Result<Referral> {
        let access = self.authorize_case(ctx, Action::ReferCase, case).await?;
        let mut errs = ValidationErrors::default();
        let to = match self.org_by_slug(input.to_org.trim()).await {
            Ok(o) if o.id == access.facts().owner_org => {
                errs.push(FieldError::new(
                    "to_org",
                    "same_organisation",
                    "the case already belongs to this organisation",
                ));
                None
            }
            Ok(o) => Some(o),
            Err(StoreError::NotFound) => {
                errs.push(FieldError::new(
                    "to_org",
                    "unknown_organisation",
                    "no organisation with this slug",
                ));
                None
            }
            Err(e) => return Err(e),
        };
        let mut services = Vec::new();
        for (i, s) in input.services.iter().enumerate() {
            match Service::parse_for(&format!("services[{i}]"), s) {
                Ok(s) if !services.contains(&s) => services.push(s),
                Ok(_) => {}
                Err(e) => errs.push(e),
            }
        }
        if input.services.is_empty() {
            errs.push(FieldError::new(
                "services",
                "required",
                "name at least one service",
            ));
        }
        let reason = ReferralReason::parse(&input.reason)
            .map_err(|e| errs.push(e))
            .ok();
        if input
            .details
            .as_deref()
            .is_some_and(|d| d.chars().count() > dayaq_domain::case::MAX_LONG_TEXT)
        {
            errs.push(FieldError::new(
                "cas_OutgoingReferralDetails",
                "too_long",
                "the details are too long",
            ));
        }
        let travel = match check_travel(&services, input.travel.as_ref(), ctx.now.date()) {
            Ok(t) => t,
            Err(e) => {
                errs.extend(e);
                None
            }
        };
        errs.into_result()?;
        let (Some(to), Some(reason)) = (to, reason) else {
            return Err(StoreError::Data("unreachable".into()));
        };
        services.sort();
        // Eligibility rules of the receiving service, explained before sending.
        let unmet_rules = self.check_eligibility(ctx, case, to.id, &services).await?;
        if !unmet_rules.is_empty() {
            let mut errs = ValidationErrors::default();
            for (svc, codes) in unmet_rules {
                for c in codes {
                    errs.push(FieldError::new(
                        "services",
                        c,
                        format!("{svc}: eligibility rule not met ({c})"),
                    ));
                }
            }
            return Err(errs.into());
        }
        // Consent: a record covering the recipient, or a supervisor's written override.
        let consents: Vec<ConsentFact> = self
            .consents_of(ctx, &access)
            .await?
            .iter()
            .filter_map(Consent::fact)
            .collect();
        let covered = sharing_covered(&consents, to.id, to.org_type);
        let override_reason = input
            .consent_override_reason
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if !covered {
            let Some(_) = override_reason else {
                let mut a = entry(ctx, "referral.create", "denied", &case.to_string());
                a.detail = "no_consent".into();
                self.audit(a, ctx.now).await?;
                return Err(invalid(
                    "consent",
                    "consent_required",
                    "no consent of the survivor covers sharing with this organisation; a supervisor may override with a written reason",
                ));
            };
            let d = decide(
                ctx.actor,
                Action::OverrideConsent,
                Resource::Case(access.facts()),
            );
            if !d.allowed {
                return Err(StoreError::Forbidden(d.reason));
            }
        }
        let id = Uuid::new_v4();
        let ids = id.to_string();
        let cs = case.to_string();
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        let key = self.case_key(&mut tx, &access).await?;
        let details = match input
            .details
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(d) => Some(key.seal(
                &field_aad("referrals", "details", &ids, "case"),
                d.as_bytes(),
            )?),
            None => None,
        };
        let ovr = match (covered, override_reason) {
            (false, Some(r)) => Some(key.seal(
                &field_aad("referrals", "consent_override", &ids, "case"),
                r.as_bytes(),
            )?),
            _ => None,
        };
        let travel = match &travel {
            Some(t) => {
                let json = serde_json::to_vec(t).map_err(|e| StoreError::Data(e.to_string()))?;
                Some(key.seal(&field_aad("referrals", "travel", &ids, "case"), &json)?)
            }
            None => None,
        };
        let svc: Vec<&str> = services.iter().map(|s| s.as_str()).collect();
        sqlx::query(
            "INSERT INTO referrals (id, case_id, from_org, to_org, services, reason, details, state, consent_override, override_by, created_by, created_at, travel) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'Pending', $8, $9, $10, $11, $12)",
        )
        .bind(&ids)
        .bind(&cs)
        .bind(access.facts().owner_org.to_string())
        .bind(to.id.to_string())
        .bind(svc.join(","))
        .bind(reason.as_str())
        .bind(details)
        .bind(ovr.clone())
        .bind(ovr.as_ref().map(|_| ctx.actor.user_id.to_string()))
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .bind(travel)
        .execute(&mut *tx)
        .await?;
        let kind = if ovr.is_some() {
            "referral.override"
        } else {
            "referral.created"
        };
        Self::case_event(
            &mut tx,
            ctx,
            &access,
            kind,
            &format!("referral={ids} services={}", svc.join(",")),
        )
        .await?;
        Self::notify(&mut tx, to.id, None, "referral.received", &ids, now).await?;
        let mut a = entry(
            ctx,
            if ovr.is_some() {
                "referral.consent_override"
            } else {
                "referral.create"
            },
            "success",
            &cs,
        );
        a.detail = format!("referral={ids} to_org={}", to.id);
        append(&mut tx, &a, now).await?;
        tx.commit().await?;
        self.referral(ctx, id).await
    }

    fn referral_from_row(
        &self,
        r: &sqlx::any::AnyRow,
        now: i64,
        decrypt: Option<&crate::crypto::SecretKey>,
    ) -> Result<Referral> {
        let id: String = r.try_get("id")?;
        let state: String = r.try_get("state")?;
        let created: i64 = r.try_get("created_at")?;
        let services: String = r.try_get("services")?;
        let open = |col: &str, v: Option<Vec<u8>>| -> Result<Option<String>> {
            match (decrypt, v) {
                (Some(k), Some(ct)) => Ok(Some(
                    String::from_utf8_lossy(
                        &k.open(&field_aad("referrals", col, &id, "case"), &ct)?,
                    )
                    .into_owned(),
                )),
                _ => Ok(None),
            }
        };
        let override_ct: Option<Vec<u8>> = r.try_get("consent_override")?;
        Ok(Referral {
            case_id: uuid_of(&r.try_get::<String, _>("case_id")?)?,
            case_number: r.try_get("case_number")?,
            from_org: uuid_of(&r.try_get::<String, _>("from_org")?)?,
            to_org: uuid_of(&r.try_get::<String, _>("to_org")?)?,
            services: services
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            reason: r.try_get("reason")?,
            overdue: state == "Pending" && now - created > self.settings.referral_overdue_ms,
            state,
            consent_override: override_ct.is_some(),
            details: open("details", r.try_get("details")?)?,
            override_reason: open("consent_override", override_ct)?,
            travel: match open("travel", r.try_get("travel")?)? {
                Some(j) => {
                    Some(serde_json::from_str(&j).map_err(|e| StoreError::Data(e.to_string()))?)
                }
                None => None,
            },
            created_at: ts(created),
            responded_at: r.try_get::<Option<i64>, _>("responded_at")?.map(ts),
            decline_reason: r.try_get("decline_reason")?,
            id: uuid_of(&id)?,
        })
    }

    const REFERRAL_COLS: &'static str = "r.id, r.case_id, c.case_number, r.from_org, r.to_org, r.services, r.reason, r.state, \
         r.details, r.consent_override, r.created_at, r.responded_at, r.decline_reason, r.travel, \
         c.owner_org_id AS case_owner, r.ended_at AS ended_at, r.ended_by AS ended_by";

    /// May the actor decrypt this referral row's details and travel data? The case owner
    /// always; the receiving organisation while the referral is pending or accepted (or within
    /// the grace of an ordinary end); nobody else — not a sender the case was transferred away
    /// from, not a receiver after a decline, completion, withdrawal or consent withdrawal.
    fn detail_read(&self, ctx: &Ctx<'_>, r: &sqlx::any::AnyRow) -> Result<DetailRead> {
        if !ctx.actor.role.works_cases() {
            return Ok(DetailRead::No);
        }
        let me = ctx.actor.org_id.to_string();
        let owner: String = r.try_get("case_owner")?;
        if owner == me {
            return Ok(DetailRead::Owner);
        }
        let to: String = r.try_get("to_org")?;
        if to != me {
            return Ok(DetailRead::No);
        }
        let state = ReferralState::parse(&r.try_get::<String, _>("state")?)
            .unwrap_or(ReferralState::Declined);
        let ended_by: Option<String> = r.try_get("ended_by")?;
        let live = details_readable(
            state,
            r.try_get("ended_at")?,
            ended_by.as_deref() == Some(ENDED_BY_CONSENT),
            millis(ctx.now),
            self.settings.referral_grace_ms,
        );
        Ok(if live {
            DetailRead::Receiver
        } else {
            DetailRead::No
        })
    }

    /// Does the row hold encrypted details or travel data?
    fn has_sealed_details(r: &sqlx::any::AnyRow) -> Result<bool> {
        Ok(r.try_get::<Option<Vec<u8>>, _>("details")?.is_some()
            || r.try_get::<Option<Vec<u8>>, _>("travel")?.is_some())
    }

    /// Audits the receiving organisation's reads of referral details (one row per referral,
    /// case id and referral id only), durably, before the details are handed out.
    async fn audit_detail_reads(&self, ctx: &Ctx<'_>, reads: &[(String, String)]) -> Result<()> {
        if reads.is_empty() {
            return Ok(());
        }
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        for (case, referral) in reads {
            let mut a = entry(ctx, "referral.read_details", "success", case);
            a.detail = format!("referral={referral}");
            append(&mut tx, &a, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// One referral, for the case's owning organisation or the receiving organisation (with
    /// its details while the receiver may still read them; such reads are audited).
    pub async fn referral(&self, ctx: &Ctx<'_>, id: Uuid) -> Result<Referral> {
        self.referral_read(ctx, id, true).await
    }

    async fn referral_read(&self, ctx: &Ctx<'_>, id: Uuid, with_details: bool) -> Result<Referral> {
        let q = format!(
            "SELECT {} FROM referrals r JOIN cases c ON c.id = r.case_id WHERE r.id = $1",
            Self::REFERRAL_COLS
        );
        let r = sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        let to: String = r.try_get("to_org")?;
        let owner: String = r.try_get("case_owner")?;
        let me = ctx.actor.org_id.to_string();
        // The sender reads the referral as the case's owner: after a transfer, the previous
        // owner no longer does.
        if (me != owner && me != to) || !ctx.actor.role.works_cases() {
            return Err(StoreError::NotFound);
        }
        let cs: String = r.try_get("case_id")?;
        let read = if with_details {
            self.detail_read(ctx, &r)?
        } else {
            DetailRead::No
        };
        let key = if read == DetailRead::No {
            None
        } else {
            if read == DetailRead::Receiver && Self::has_sealed_details(&r)? {
                self.audit_detail_reads(ctx, &[(cs.clone(), id.to_string())])
                    .await?;
            }
            let access = self
                .access_by_referral(ctx, Action::ReadCase, uuid_of(&cs)?)
                .await?;
            let mut conn = self.pool.acquire().await?;
            self.case_key(&mut conn, &access).await.ok()
        };
        self.referral_from_row(&r, millis(ctx.now), key.as_ref())
    }

    /// Referrals of a case. The owning organisation (and a break-glass holder) sees them all;
    /// a receiving organisation sees only its own referrals, never the case's other referrals
    /// (their services, reasons, decline reasons). Details and travel data are decrypted as
    /// `detail_read` says; the receiver's reads are audited.
    pub async fn case_referrals(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Vec<Referral>> {
        let access = self.authorize_case(ctx, Action::ReadCase, case).await?;
        let q = format!(
            "SELECT {} FROM referrals r JOIN cases c ON c.id = r.case_id WHERE r.case_id = $1 ORDER BY r.created_at, r.id",
            Self::REFERRAL_COLS
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(case.to_string())
            .fetch_all(&self.pool)
            .await?;
        let now = millis(ctx.now);
        let me = ctx.actor.org_id.to_string();
        let sees_all = access.facts().owner_org == ctx.actor.org_id
            || (ctx.actor.role == dayaq_domain::Role::Supervisor
                && access.facts().break_glass.contains(&ctx.actor.user_id));
        let mut kept = Vec::with_capacity(rows.len());
        for r in rows {
            let to: String = r.try_get("to_org")?;
            if sees_all || to == me {
                let read = self.detail_read(ctx, &r)?;
                kept.push((r, read));
            }
        }
        let cs = case.to_string();
        let mut reads = Vec::new();
        for (r, read) in &kept {
            if *read == DetailRead::Receiver && Self::has_sealed_details(r)? {
                reads.push((cs.clone(), r.try_get::<String, _>("id")?));
            }
        }
        self.audit_detail_reads(ctx, &reads).await?;
        let mut key = None;
        if kept.iter().any(|(_, read)| *read != DetailRead::No) {
            let mut conn = self.pool.acquire().await?;
            key = Some(self.case_key(&mut conn, &access).await?);
        }
        kept.iter()
            .map(|(r, read)| {
                let k = if *read == DetailRead::No {
                    None
                } else {
                    key.as_ref()
                };
                self.referral_from_row(r, now, k)
            })
            .collect()
    }

    /// Incoming referrals of the actor's organisation (the inbox) or outgoing ones (of cases
    /// the organisation still owns).
    pub async fn referral_box(&self, ctx: &Ctx<'_>, incoming: bool) -> Result<Vec<Referral>> {
        let d = decide(
            ctx.actor,
            Action::RespondReferral,
            Resource::Organisation(ctx.actor.org_id),
        );
        if !d.allowed {
            return Err(StoreError::Forbidden(d.reason));
        }
        let cond = if incoming {
            "r.to_org = $1"
        } else {
            "r.from_org = $1 AND c.owner_org_id = $1"
        };
        let q = format!(
            "SELECT {}, k.master_key_id AS key_id, k.wrapped AS key_wrapped FROM referrals r JOIN cases c ON c.id = r.case_id \
             LEFT JOIN case_keys k ON k.case_id = r.case_id \
             WHERE {cond} AND c.erased_at IS NULL ORDER BY r.created_at DESC LIMIT 500",
            Self::REFERRAL_COLS
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(ctx.actor.org_id.to_string())
            .fetch_all(&self.pool)
            .await?;
        let now = millis(ctx.now);
        // Details and travel are decrypted as `detail_read` says (case keys come with the
        // rows, one query); the receiver's reads are audited first.
        let mut reads = Vec::new();
        let mut how = Vec::with_capacity(rows.len());
        for r in &rows {
            let read = self.detail_read(ctx, r)?;
            if read == DetailRead::Receiver && Self::has_sealed_details(r)? {
                reads.push((
                    r.try_get::<String, _>("case_id")?,
                    r.try_get::<String, _>("id")?,
                ));
            }
            how.push(read);
        }
        self.audit_detail_reads(ctx, &reads).await?;
        rows.iter()
            .zip(how)
            .map(|(r, read)| {
                let kid: Option<String> = r.try_get("key_id")?;
                let wrapped: Option<Vec<u8>> = r.try_get("key_wrapped")?;
                let key = match (read, kid, wrapped) {
                    (DetailRead::Owner | DetailRead::Receiver, Some(kid), Some(w)) => {
                        self.keys.unwrap_case_key(&kid, &w).ok()
                    }
                    _ => None,
                };
                self.referral_from_row(r, now, key.as_ref())
            })
            .collect()
    }

    /// Moves a referral: the receiver accepts, declines (with a reason) or completes; the
    /// sender withdraws or completes.
    pub async fn respond_referral(
        &self,
        ctx: &Ctx<'_>,
        id: Uuid,
        event: ReferralEvent,
        decline_reason: Option<&str>,
    ) -> Result<Referral> {
        let current = self.referral_read(ctx, id, false).await?;
        let access = self
            .access_by_referral(ctx, Action::RespondReferral, current.case_id)
            .await?;
        let side = if ctx.actor.org_id == current.to_org {
            Side::Receiver
        } else {
            Side::Sender
        };
        let d = match side {
            Side::Receiver => decide(
                ctx.actor,
                Action::RespondReferral,
                Resource::Organisation(current.to_org),
            ),
            Side::Sender => decide(ctx.actor, Action::ReferCase, Resource::Case(access.facts())),
        };
        if !d.allowed {
            return Err(StoreError::Forbidden(d.reason));
        }
        let state = ReferralState::parse(&current.state)
            .ok_or_else(|| StoreError::Data("bad state".into()))?;
        let Some(next) = transition(state, event, side) else {
            return Err(invalid(
                "state",
                "invalid_transition",
                "this step is not possible in the referral's current state",
            ));
        };
        let reason = decline_reason.map(str::trim).filter(|s| !s.is_empty());
        if event == ReferralEvent::Decline && reason.is_none() {
            return Err(invalid(
                "decline_reason",
                "required",
                "a declined referral needs a reason",
            ));
        }
        if reason.is_some_and(|r| r.chars().count() > 500) {
            return Err(invalid(
                "decline_reason",
                "too_long",
                "the reason is too long",
            ));
        }
        let now = millis(ctx.now);
        let ended =
            matches!(next, ReferralState::Completed | ReferralState::Withdrawn).then_some(now);
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE referrals SET state = $1, responded_by = $2, responded_at = $3, decline_reason = COALESCE($4, decline_reason), ended_at = COALESCE($5, ended_at) \
             WHERE id = $6 AND state = $7",
        )
        .bind(next.as_str())
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .bind(reason)
        .bind(ended)
        .bind(id.to_string())
        .bind(state.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict);
        }
        let cs = current.case_id.to_string();
        let kind = match next {
            ReferralState::Accepted => "referral.accepted",
            ReferralState::Declined => "referral.declined",
            ReferralState::Completed => "referral.completed",
            ReferralState::Withdrawn => "referral.withdrawn",
            ReferralState::Pending => "referral.pending",
        };
        Self::case_event(&mut tx, ctx, &access, kind, &format!("referral={id}")).await?;
        let other = if side == Side::Receiver {
            current.from_org
        } else {
            current.to_org
        };
        Self::notify(&mut tx, other, None, kind, &id.to_string(), now).await?;
        let mut a = entry(ctx, "referral.respond", "success", &cs);
        a.detail = format!("referral={id} state={}", next.as_str());
        append(&mut tx, &a, now).await?;
        tx.commit().await?;
        self.referral(ctx, id).await
    }

    // ---------- break-glass ----------

    /// Emergency access for a supervisor to a case identified by its number: reason required,
    /// limited in time, the owning organisation's supervisors are notified, audited as such.
    pub async fn break_glass(
        &self,
        ctx: &Ctx<'_>,
        case_number: &str,
        reason: &str,
    ) -> Result<(Uuid, String)> {
        if ctx.actor.role != dayaq_domain::Role::Supervisor {
            return Err(StoreError::Forbidden("break_glass_needs_supervisor"));
        }
        let reason = reason.trim();
        if reason.chars().count() < 10 {
            return Err(invalid(
                "reason",
                "too_short",
                "explain the emergency (at least 10 characters)",
            ));
        }
        let id: Option<String> =
            sqlx::query_scalar("SELECT id FROM cases WHERE case_number = $1 AND erased_at IS NULL")
                .bind(case_number.trim().to_uppercase())
                .fetch_optional(&self.pool)
                .await?;
        let Some(id) = id else {
            return Err(StoreError::NotFound);
        };
        let case = uuid_of(&id)?;
        let access = self.authorize_case(ctx, Action::BreakGlass, case).await?;
        let now = millis(ctx.now);
        let expires = now + self.settings.break_glass_ms;
        let mut tx = self.begin_write().await?;
        let key = self.case_key(&mut tx, &access).await?;
        let bg = Uuid::new_v4().to_string();
        sqlx::query("INSERT INTO break_glass (id, case_id, user_id, org_id, reason, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&bg)
            .bind(&id)
            .bind(ctx.actor.user_id.to_string())
            .bind(ctx.actor.org_id.to_string())
            .bind(key.seal(&field_aad("break_glass", "reason", &bg, "case"), reason.as_bytes())?)
            .bind(now)
            .bind(expires)
            .execute(&mut *tx)
            .await?;
        Self::case_event(
            &mut tx,
            ctx,
            &access,
            "breakglass.opened",
            &format!("until={}", ts(expires)),
        )
        .await?;
        Self::notify(
            &mut tx,
            access.facts().owner_org,
            Some("supervisor"),
            "break_glass.opened",
            &id,
            now,
        )
        .await?;
        let mut a = entry(ctx, "break_glass", "success", &id);
        a.detail = format!("expires={expires}");
        append(&mut tx, &a, now).await?;
        tx.commit().await?;
        Ok((case, ts(expires)))
    }

    // ---------- notifications ----------

    /// Notifications for the actor's organisation (and role), newest first.
    pub async fn notifications(&self, ctx: &Ctx<'_>) -> Result<Vec<Notification>> {
        let rows = sqlx::query(
            "SELECT id, kind, ref_id, created_at, read_at FROM notifications WHERE org_id = $1 AND (role IS NULL OR role = $2) \
             ORDER BY created_at DESC LIMIT 100",
        )
        .bind(ctx.actor.org_id.to_string())
        .bind(ctx.actor.role.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Notification {
                    id: uuid_of(&r.try_get::<String, _>("id")?)?,
                    kind: r.try_get("kind")?,
                    ref_id: r.try_get("ref_id")?,
                    created_at: ts(r.try_get("created_at")?),
                    read: r.try_get::<Option<i64>, _>("read_at")?.is_some(),
                })
            })
            .collect()
    }
}
