//! Her priorities in her words: a sealed free-text part of the rehabilitation plan.

use crate::crypto::SecretKey;
use crate::kernel::case_keys::{open_text, seal_text};
use crate::kernel::{Ctx, millis};
use crate::{Result, Store, StoreError};
use dayaq_domain::policy::Action;
use dayaq_domain::{FieldError, ValidationErrors};
use serde::Deserialize;
use sqlx::AnyConnection;
use uuid::Uuid;

/// The longest text kept.
pub const PRIORITIES_MAX_CHARS: usize = 4000;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrioritiesInput {
    /// Her priorities in her own words (sealed with the case key; never logged or audited).
    /// Empty removes them.
    pub words: String,
}

/// The priorities of `plan`, opened with the case key the plan reader already holds.
pub(crate) async fn priorities_of(
    conn: &mut AnyConnection,
    key: &SecretKey,
    plan: &str,
) -> Result<Option<String>> {
    let sealed: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT words FROM plan_priorities WHERE plan_id = $1")
            .bind(plan)
            .fetch_optional(&mut *conn)
            .await?;
    open_text(key, "plan_priorities", "words", plan, sealed)
}

impl Store {
    /// Sets (or, with empty words, removes) her priorities on a plan of the case (whoever may
    /// update the case). The audit row and the timeline name the plan only.
    pub async fn set_plan_priorities(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        plan: Uuid,
        p: &PrioritiesInput,
    ) -> Result<()> {
        let access = self.authorize_case(ctx, Action::UpdateCase, case).await?;
        let words = p.words.trim();
        if words.chars().count() > PRIORITIES_MAX_CHARS {
            return Err(ValidationErrors::single(FieldError::new(
                "words",
                "too_long",
                format!("words must be at most {PRIORITIES_MAX_CHARS} characters"),
            ))
            .into());
        }
        let ps = plan.to_string();
        let owner: Option<String> = sqlx::query_scalar("SELECT case_id FROM plans WHERE id = $1")
            .bind(&ps)
            .fetch_optional(&self.pool)
            .await?;
        if owner.as_deref() != Some(access.id_str()) {
            return Err(StoreError::NotFound);
        }
        let now = millis(ctx.now);
        let mut w = self.write_case(ctx, &access).await?;
        sqlx::query("DELETE FROM plan_priorities WHERE plan_id = $1")
            .bind(&ps)
            .execute(&mut *w)
            .await?;
        if !words.is_empty() {
            let key = self.case_key(&mut w, &access).await?;
            let sealed = seal_text(&key, "plan_priorities", "words", &ps, Some(words))?;
            sqlx::query("INSERT INTO plan_priorities (plan_id, case_id, words, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(&ps)
                .bind(access.id_str())
                .bind(sealed)
                .bind(ctx.actor.user_id.to_string())
                .bind(now)
                .execute(&mut *w)
                .await?;
        }
        w.event("plan.priorities", "").await?;
        w.commit("case.plan_priorities", format!("plan={ps}")).await
    }
}
