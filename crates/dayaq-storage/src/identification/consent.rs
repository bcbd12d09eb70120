//! Consents as recorded with the survivor, and their withdrawal: a withdrawn consent ends the
//! live referrals it alone covered.

use super::{CONSENTS_SQL, Consent, ConsentInput, ConsentRow};
use crate::kernel::one_row;
use crate::kernel::{CaseAccess, CaseWrite, Ctx, ts, uuid_of};
use crate::orgs::Organisation;
use crate::{Result, Store, StoreError};
use dayaq_domain::identification::{ConsentFact, ConsentPurpose, sharing_covered};
use dayaq_domain::policy::{Action, Resource, decide};
use dayaq_domain::vocab::OrgType;
use dayaq_domain::{FieldError, ValidationErrors};
use sqlx::{FromRow, Row};
use uuid::Uuid;

const GIVEN_BY: &[&str] = &["Survivor", "ParentOrGuardian", "LegalRepresentative"];

impl Store {
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
                Some(slug) => {
                    let o = self.org_of_field("recipient_org", slug, &mut errs).await?;
                    recipient_org = o.map(|o| o.id);
                }
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
        let mut w = self.write_case(ctx, &access).await?;
        let now = w.now();
        sqlx::query(
            "INSERT INTO consents (id, case_id, purpose, given, recipient_org, recipient_org_type, given_by, language, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id.to_string())
        .bind(access.id_str())
        .bind(purpose.as_str())
        .bind(i64::from(c.given))
        .bind(recipient_org.map(|o| o.to_string()))
        .bind(recipient_type.map(|t| t.as_str()))
        .bind(&c.given_by)
        .bind(&c.language)
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .execute(&mut *w)
        .await?;
        let given = if c.given { "given" } else { "declined" };
        let what = format!("{} {given}", purpose.as_str());
        w.event("consent.recorded", &what).await?;
        w.commit("case.consent", what).await?;
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
        let mut w = self.write_case(ctx, &access).await?;
        one_row(sqlx::query("UPDATE consents SET withdrawn_at = $1, withdrawn_by = $2 WHERE id = $3 AND case_id = $4 AND withdrawn_at IS NULL")
            .bind(w.now())
            .bind(ctx.actor.user_id.to_string())
            .bind(consent.to_string())
            .bind(access.id_str())
            .execute(&mut *w)
            .await?)?;
        w.event("consent.withdrawn", "").await?;
        let ended = Self::end_referrals_of_consent(&mut w, &access, consent).await?;
        let detail = format!("consent={consent} referrals_ended={ended}");
        w.commit("case.consent_withdraw", detail).await
    }

    /// Ends the live (pending or accepted) on-platform referrals that the withdrawn consent
    /// covered and that no remaining consent covers: state `Withdrawn`, `ended_by =
    /// consent_withdrawn` (the grant ends at once, without the grace period), the receiving
    /// organisation is notified (kind and referral id only), one case event and one audit row
    /// each. Services already recorded stay. Referrals sent under a supervisor's consent
    /// override were not covered by any consent and are left as they are. Returns the count.
    async fn end_referrals_of_consent(
        w: &mut CaseWrite<'_>,
        access: &CaseAccess,
        consent: Uuid,
    ) -> Result<usize> {
        let cs = access.id_str();
        let rows = sqlx::query(CONSENTS_SQL)
            .bind(cs)
            .fetch_all(&mut **w)
            .await?;
        let mut withdrawn = None;
        let mut remaining = Vec::new();
        for r in &rows {
            let c = ConsentRow::from_row(r)?.into_consent()?;
            let Some(fact) = c.fact() else {
                continue;
            };
            if c.id == consent {
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
        .fetch_all(&mut **w)
        .await?;
        let now = w.now();
        let mut n = 0;
        for r in &live {
            let id: String = r.try_get("id")?;
            let to = uuid_of(&r.try_get::<String, _>("to_org")?)?;
            let Ok(to_type) = OrgType::parse(&r.try_get::<String, _>("org_type")?) else {
                continue;
            };
            let covered_by_it = sharing_covered(std::slice::from_ref(&withdrawn), to, to_type);
            if !covered_by_it || sharing_covered(&remaining, to, to_type) {
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
            .execute(&mut **w)
            .await?
            .rows_affected();
            if changed != 1 {
                continue;
            }
            n += 1;
            w.event("referral.ended-by-consent", &format!("referral={id}"))
                .await?;
            sqlx::query("INSERT INTO notifications (id, org_id, role, kind, ref_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(Uuid::new_v4().to_string())
                .bind(to.to_string())
                .bind(None::<String>)
                .bind("referral.consent_withdrawn")
                .bind(&id)
                .bind(now)
                .execute(&mut **w)
                .await?;
            let detail = format!("referral={id} consent={consent}");
            w.audit("referral.ended_by_consent", detail).await?;
        }
        Ok(n)
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
        self.case_list(access, CONSENTS_SQL, ConsentRow::into_consent)
            .await
    }
}

impl Store {
    /// Do the survivor's consents of the checked case cover sharing it with `to`?
    pub(crate) async fn consents_cover(
        &self,
        ctx: &Ctx<'_>,
        access: &CaseAccess,
        to: &Organisation,
    ) -> Result<bool> {
        let facts: Vec<ConsentFact> = self
            .consents_of(ctx, access)
            .await?
            .iter()
            .filter_map(Consent::fact)
            .collect();
        Ok(sharing_covered(&facts, to.id, to.org_type))
    }

    /// The consent rule of sending case data to `to` (a referral, a package): a consent
    /// covering it, or a supervisor's written `override_reason` (policy `OverrideConsent`).
    /// Without either the refusal is audited as `audit_action` (`denied`, `no_consent`) and
    /// is a field error on `consent`. Returns whether a consent covered it (`false`: sent
    /// under the override).
    pub(crate) async fn consent_or_override(
        &self,
        ctx: &Ctx<'_>,
        access: &CaseAccess,
        to: &Organisation,
        override_reason: Option<&str>,
        audit_action: &'static str,
    ) -> Result<bool> {
        if self.consents_cover(ctx, access, to).await? {
            return Ok(true);
        }
        if override_reason.is_none() {
            let e = ctx.entry_with(audit_action, "denied", access.id_str(), "no_consent".into());
            self.audit(e, ctx.now).await?;
            return Err(ValidationErrors::single(FieldError::new(
                "consent",
                "consent_required",
                "no consent of the survivor covers sharing with this organisation; a supervisor may override with a written reason",
            ))
            .into());
        }
        let d = decide(
            ctx.actor,
            Action::OverrideConsent,
            Resource::Case(access.facts()),
        );
        if !d.allowed {
            return Err(StoreError::Forbidden(d.reason));
        }
        Ok(false)
    }
}
