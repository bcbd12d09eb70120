//! The recovery and reflection period: the installation's length and one case's dates.

use crate::kernel::{Ctx, from_millis, millis, ts};
use crate::{Result, Store};
use dayaq_domain::ValidationErrors;
use dayaq_domain::assistance::fmt_date;
use dayaq_domain::policy::Action;
use dayaq_domain::rules::{REFLECTION_MIN_DAYS, reflection_period, validate_reflection_days};
use serde::Serialize;
use sqlx::Row;
use uuid::Uuid;

/// The installation's setting.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReflectionSetting {
    /// Length of the period in days (at least 30).
    pub days: i64,
    /// When the coordinator last changed it (RFC 3339); null = never (the default 30 days).
    pub updated_at: Option<String>,
}

/// One case's reflection period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CaseReflection {
    /// First day (YYYY-MM-DD): the first contact or the first screening that found a possible
    /// victim, whichever came first.
    pub starts_on: String,
    /// Last day (YYYY-MM-DD).
    pub ends_on: String,
    pub days: i64,
    /// Today lies within the period: decisions and cooperation requests show the warning.
    pub active: bool,
    pub days_left: i64,
}

impl Store {
    /// The installation's reflection period (30 days until the coordinator changes it).
    pub async fn reflection_setting(&self) -> Result<ReflectionSetting> {
        let row = sqlx::query("SELECT days, updated_at FROM reflection_setting WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => ReflectionSetting {
                days: r.try_get("days")?,
                updated_at: Some(ts(r.try_get("updated_at")?)),
            },
            None => ReflectionSetting {
                days: REFLECTION_MIN_DAYS,
                updated_at: None,
            },
        })
    }

    /// Sets the installation's reflection period (national coordinator; below 30 days → 422
    /// naming `days`, nothing changed). Audited `rules.reflection_period` with `days=N`.
    pub async fn set_reflection_days(&self, ctx: &Ctx<'_>, days: i64) -> Result<ReflectionSetting> {
        self.authorize_rules(ctx).await?;
        let days = validate_reflection_days(days).map_err(ValidationErrors::single)?;
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        let changed = sqlx::query(
            "UPDATE reflection_setting SET days = $1, updated_by = $2, updated_at = $3 WHERE id = 1",
        )
        .bind(days)
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            sqlx::query(
                "INSERT INTO reflection_setting (id, days, updated_by, updated_at) VALUES (1, $1, $2, $3)",
            )
            .bind(days)
            .bind(ctx.actor.user_id.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit_with(
            &ctx.entry_with(
                "rules.reflection_period",
                "success",
                "",
                format!("days={days}"),
            ),
            now,
        )
        .await?;
        Ok(ReflectionSetting {
            days,
            updated_at: Some(ts(now)),
        })
    }

    /// The case's reflection period on `ctx.now` (anyone who may read the case summary: the
    /// dates are no more than the summary shows); `None` before any contact or presumed-victim
    /// screening.
    pub async fn case_reflection(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
    ) -> Result<Option<CaseReflection>> {
        let access = self.authorize_case(ctx, Action::ReadCase, case).await?;
        let cs = access.id_str();
        let contact: Option<i64> =
            sqlx::query_scalar("SELECT MIN(created_at) FROM contacts WHERE case_id = $1")
                .bind(cs)
                .fetch_one(&self.pool)
                .await?;
        let screening: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(created_at) FROM screenings WHERE case_id = $1 AND possible_victim = 1",
        )
        .bind(cs)
        .fetch_one(&self.pool)
        .await?;
        let days = self.reflection_setting().await?.days;
        let p = reflection_period(
            contact.map(|m| from_millis(m).date()),
            screening.map(|m| from_millis(m).date()),
            days,
            ctx.now.date(),
        );
        Ok(p.map(|p| CaseReflection {
            starts_on: fmt_date(p.starts_on),
            ends_on: fmt_date(p.ends_on),
            days: p.days,
            active: p.active,
            days_left: p.days_left,
        }))
    }
}
