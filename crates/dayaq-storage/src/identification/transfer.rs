//! The hand-over of a case to another organisation, under the survivor's consent.

use crate::kernel::Ctx;
use crate::{Result, Store, StoreError};
use dayaq_domain::policy::Action;
use dayaq_domain::{FieldError, ValidationErrors};
use uuid::Uuid;

impl Store {
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
        let mut errs = ValidationErrors::default();
        let to = self
            .receiver_of_field("to_org", to_slug, ctx.actor.org_id, &mut errs)
            .await?;
        errs.into_result()?;
        let Some(to) = to else {
            return Err(StoreError::Data("unreachable".into()));
        };
        if !self.consents_cover(ctx, &access, &to).await? {
            let e = ctx.entry_with(
                "case.transfer",
                "denied",
                access.id_str(),
                "no_consent".into(),
            );
            self.audit(e, ctx.now).await?;
            return Err(ValidationErrors::single(FieldError::new(
                "consent",
                "consent_required",
                "no consent of the survivor covers sharing with this organisation",
            ))
            .into());
        }
        let cs = access.id_str();
        let to_id = to.id.to_string();
        let mut w = self.write_case(ctx, &access).await?;
        sqlx::query("UPDATE cases SET owner_org_id = $1, version = version + 1, updated_at = $2 WHERE id = $3")
            .bind(&to_id)
            .bind(w.now())
            .bind(cs)
            .execute(&mut *w)
            .await?;
        // The intake contacts (and their encrypted summaries) move with the case, as does
        // the blind index: the previous owner keeps no read of any part of it.
        for sql in [
            "UPDATE blind_index SET org_id = $1 WHERE case_id = $2",
            "UPDATE contacts SET org_id = $1 WHERE case_id = $2",
        ] {
            sqlx::query(sql)
                .bind(&to_id)
                .bind(cs)
                .execute(&mut *w)
                .await?;
        }
        let moved = format!("from={} to={}", ctx.actor.org_id, to.id);
        w.event("case.transferred", &moved).await?;
        w.commit("case.transfer", format!("to_org={}", to.id))
            .await?;
        Ok(to)
    }
}
