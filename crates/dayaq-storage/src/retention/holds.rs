//! Legal hold per case: a held case is never shredded by retention. Set and lifted by a
//! supervisor of the owning organisation with a reason from a closed list; audited and on the
//! case's timeline.
use super::*;
use crate::kernel::{millis, ts};
use dayaq_domain::retention::{HoldReason, LiftReason};
use serde::Serialize;
use sqlx::Row;

/// A case's legal hold (none: `held` is false).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LegalHold {
    pub case_id: Uuid,
    pub held: bool,
    pub reason: Option<HoldReason>,
    pub set_at: Option<String>,
}

impl Store {
    async fn hold_of(&self, case: Uuid) -> Result<LegalHold> {
        let r = sqlx::query("SELECT reason, set_at FROM retention_holds WHERE case_id = $1")
            .bind(case.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(match r {
            Some(r) => {
                let reason: String = r.try_get("reason")?;
                LegalHold {
                    case_id: case,
                    held: true,
                    reason: HoldReason::parse("reason", &reason).ok(),
                    set_at: Some(ts(r.try_get("set_at")?)),
                }
            }
            None => LegalHold {
                case_id: case,
                held: false,
                reason: None,
                set_at: None,
            },
        })
    }

    /// The case's legal hold, for whoever may read the case.
    pub async fn legal_hold(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<LegalHold> {
        let access = self.authorize_case(ctx, Action::ReadCase, case).await?;
        self.hold_of(access.id()).await
    }

    /// Puts the case under legal hold (or changes the hold's reason): a supervisor of the
    /// owning organisation. Audited `retention.hold` with the reason code.
    pub async fn set_legal_hold(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        reason: &str,
    ) -> Result<LegalHold> {
        let access = self.authorize_case(ctx, Action::HoldCase, case).await?;
        let reason = HoldReason::parse("reason", reason)?;
        let mut w = self.write_case(ctx, &access).await?;
        w.exec("DELETE FROM retention_holds WHERE case_id = $1")
            .await?;
        sqlx::query(
            "INSERT INTO retention_holds (case_id, org_id, reason, set_by, set_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(access.id_str())
        .bind(access.facts().owner_org.to_string())
        .bind(reason.as_str())
        .bind(ctx.actor.user_id.to_string())
        .bind(millis(ctx.now))
        .execute(&mut *w)
        .await?;
        w.event("retention.hold", reason.as_str()).await?;
        w.commit("retention.hold", format!("reason={}", reason.as_str()))
            .await?;
        self.hold_of(access.id()).await
    }

    /// Lifts the case's legal hold: a supervisor of the owning organisation, with a reason.
    /// Audited `retention.hold_lifted`. A case without a hold is left as it is (nothing is
    /// written).
    pub async fn lift_legal_hold(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        reason: &str,
    ) -> Result<LegalHold> {
        let access = self.authorize_case(ctx, Action::HoldCase, case).await?;
        let reason = LiftReason::parse("reason", reason)?;
        let mut w = self.write_case(ctx, &access).await?;
        let n = w
            .exec("DELETE FROM retention_holds WHERE case_id = $1")
            .await?;
        if n == 0 {
            drop(w);
            return self.hold_of(access.id()).await;
        }
        w.event("retention.hold_lifted", reason.as_str()).await?;
        w.commit(
            "retention.hold_lifted",
            format!("reason={}", reason.as_str()),
        )
        .await?;
        self.hold_of(access.id()).await
    }
}
