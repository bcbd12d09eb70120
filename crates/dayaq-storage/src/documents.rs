//! What the printable documents read (issue #21 §2): each source is read through the access
//! policy like its screen, and the printing is audited (`document.printed`, the kind and the
//! object's id in the detail, never its content) in its own transaction before the data is
//! returned. The layout and the PDF are pure (`dayaq_interchange::documents`); the labels are
//! the screens' (`dayaq-http/src/documents.rs`).

use crate::assistance::Plan;
use crate::audit::append;
use crate::identification::Consent;
use crate::kernel::{CaseAccess, Ctx};
use crate::referrals::Referral;
use crate::{Result, Store, StoreError, millis};
use dayaq_domain::case::CaseView;
use dayaq_domain::policy::{Action, Section};
use dayaq_domain::referral::{Service, redact_case, sections_for};
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use uuid::Uuid;

/// The referral letter's facts: only what the referral covers.
#[derive(Debug, Clone)]
pub struct ReferralLetterSource {
    pub referral: Referral,
    /// The sections the referral's services need (need-to-know), in `Section::ALL` order.
    pub sections: Vec<Section>,
    /// The case with its identity, redacted to `sections` (whoever prints it).
    pub case: CaseView,
    /// `org_Name` of the sending and the receiving organisation.
    pub from_org: String,
    pub to_org: String,
}

/// The rehabilitation plan's facts.
#[derive(Debug, Clone)]
pub struct PlanSource {
    pub case_number: String,
    pub plan: Plan,
    /// `org_Name` of each organisation responsible for an action.
    pub org_names: BTreeMap<Uuid, String>,
    /// The case's organisation.
    pub holder: String,
}

/// The consent form's facts.
#[derive(Debug, Clone)]
pub struct ConsentSource {
    pub case_number: String,
    pub consent: Consent,
    /// `org_Name` of the receiving organisation, when the consent names one.
    pub recipient: Option<String>,
    pub holder: String,
}

impl Store {
    /// Records that `kind` of `object` on the case was printed (its own transaction).
    async fn audit_printed(
        &self,
        ctx: &Ctx<'_>,
        access: &CaseAccess,
        kind: &str,
        object: Uuid,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let mut e = ctx.entry_with(
            "document.printed",
            "success",
            access.id_str(),
            format!("kind={kind} id={object}"),
        );
        e.grant = access.grant();
        append(&mut tx, &e, millis(ctx.now)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn org_name(&self, id: Uuid) -> Result<String> {
        Ok(self.org_by_id(id).await?.name)
    }

    /// The referral letter of referral `id`, for the sending organisation or the receiving
    /// one while the referral grants it the case: the case read (identity revealed, audited)
    /// as the reader may, then cut to the sections the referral covers.
    pub async fn referral_letter_source(
        &self,
        ctx: &Ctx<'_>,
        id: Uuid,
    ) -> Result<ReferralLetterSource> {
        let referral = self.referral(ctx, id).await?;
        let access = self
            .authorize_case(ctx, Action::ReadCase, referral.case_id)
            .await?;
        let services: Vec<Service> = referral
            .services
            .iter()
            .filter_map(|s| Service::parse_for("services", s).ok())
            .collect();
        let sections = sections_for(&services);
        let case = self.get_case_of(ctx, &access, true).await?;
        let case = redact_case(case, &sections);
        self.audit_printed(ctx, &access, "referral_letter", id)
            .await?;
        Ok(ReferralLetterSource {
            from_org: self.org_name(referral.from_org).await?,
            to_org: self.org_name(referral.to_org).await?,
            referral,
            sections,
            case,
        })
    }

    /// The rehabilitation plan `plan` of the case, for whoever may read the plan section.
    pub async fn plan_source(&self, ctx: &Ctx<'_>, case: Uuid, plan: Uuid) -> Result<PlanSource> {
        let access = self
            .authorize_case(ctx, Action::ReadSection(Section::Plan), case)
            .await?;
        let plan = self
            .plans_of(ctx, &access)
            .await?
            .into_iter()
            .find(|p| p.id == plan)
            .ok_or(StoreError::NotFound)?;
        let view = self.get_case_of(ctx, &access, false).await?;
        let mut org_names = BTreeMap::new();
        for a in &plan.actions {
            if let Entry::Vacant(e) = org_names.entry(a.responsible_org) {
                e.insert(self.org_name(a.responsible_org).await?);
            }
        }
        self.audit_printed(ctx, &access, "plan", plan.id).await?;
        Ok(PlanSource {
            case_number: view.case_number,
            holder: self.org_name(view.owner_org).await?,
            plan,
            org_names,
        })
    }

    /// Consent `consent` of the case, as its form, for whoever may read the case.
    pub async fn consent_source(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        consent: Uuid,
    ) -> Result<ConsentSource> {
        let access = self.authorize_case(ctx, Action::ReadCase, case).await?;
        let consent = self
            .consents_of(ctx, &access)
            .await?
            .into_iter()
            .find(|c| c.id == consent)
            .ok_or(StoreError::NotFound)?;
        let view = self.get_case_of(ctx, &access, false).await?;
        let recipient = match consent.recipient_org {
            Some(o) => Some(self.org_name(o).await?),
            None => None,
        };
        self.audit_printed(ctx, &access, "consent", consent.id)
            .await?;
        Ok(ConsentSource {
            case_number: view.case_number,
            holder: self.org_name(view.owner_org).await?,
            consent,
            recipient,
        })
    }
}
