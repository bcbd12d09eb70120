//! Admission rules per shelter facility and the refusals they caused, by reason.

use crate::kernel::{Ctx, millis, ts};
use crate::{Result, Store, StoreError};
use dayaq_domain::assistance::fmt_date;
use dayaq_domain::policy::{Action, Resource, decide};
use dayaq_domain::rules::{AdmissionRules, RefusalReason};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use time::Date;
use uuid::Uuid;

/// The admission conditions of a facility, as the coordinator sets them.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdmissionRulesInput {
    /// Admit only a survivor whose legal section says she cooperates with law enforcement.
    /// International standards (CoE Convention art. 12(6)) say assistance must not depend on it.
    pub requires_cooperation: bool,
}

/// A facility's rules with the facility's name.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FacilityRules {
    pub facility_id: Uuid,
    pub name: String,
    pub rules: AdmissionRules,
    /// A condition international standards reject is on (CoE art. 12(6)).
    pub conflicts_with_standards: bool,
    /// RFC 3339; null = never set (no condition).
    pub updated_at: Option<String>,
}

/// Admissions refused by a facility rule, by reason (a closed code).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RefusalCount {
    /// `cooperation_required`.
    pub reason: String,
    pub count: i64,
}

/// The admission rules of `facility` (no row = no condition).
pub(crate) async fn rules_of(conn: &mut AnyConnection, facility: &str) -> Result<AdmissionRules> {
    let r: Option<i64> = sqlx::query_scalar(
        "SELECT requires_cooperation FROM facility_admission_rules WHERE facility_id = $1",
    )
    .bind(facility)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(AdmissionRules {
        requires_cooperation: r.unwrap_or(0) != 0,
    })
}

/// Counts one refusal (facility, reason, day; no case, no person). Called inside the
/// admission's transaction.
pub(crate) async fn record_refusal(
    conn: &mut AnyConnection,
    facility: &str,
    org: &str,
    reason: RefusalReason,
    on: Date,
    now_ms: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO admission_refusals (id, facility_id, org_id, reason, refused_on, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(Uuid::new_v4().to_string())
        .bind(facility)
        .bind(org)
        .bind(reason.as_str())
        .bind(fmt_date(on))
        .bind(now_ms)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl Store {
    /// Every facility with its admission rules (names and switches only; anyone signed in
    /// sees the facilities list already).
    pub async fn facility_rules(&self) -> Result<Vec<FacilityRules>> {
        let rows = sqlx::query(
            "SELECT f.id, f.name, r.requires_cooperation, r.updated_at FROM shelter_facilities f \
             LEFT JOIN facility_admission_rules r ON r.facility_id = f.id ORDER BY f.name, f.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                let rules = AdmissionRules {
                    requires_cooperation: r
                        .try_get::<Option<i64>, _>("requires_cooperation")?
                        .unwrap_or(0)
                        != 0,
                };
                Ok(FacilityRules {
                    facility_id: Uuid::parse_str(&id)
                        .map_err(|e| StoreError::Data(e.to_string()))?,
                    name: r.try_get("name")?,
                    conflicts_with_standards: rules.conflicts_with_standards(),
                    rules,
                    updated_at: r.try_get::<Option<i64>, _>("updated_at")?.map(ts),
                })
            })
            .collect()
    }

    /// The admission rules of one facility (`NotFound` for an unknown one).
    pub async fn admission_rules(&self, facility: Uuid) -> Result<FacilityRules> {
        self.facility_rules()
            .await?
            .into_iter()
            .find(|f| f.facility_id == facility)
            .ok_or(StoreError::NotFound)
    }

    /// Sets the admission rules of a facility (national coordinator). Audited
    /// `rules.facility_admission` with the facility and the switches.
    pub async fn set_admission_rules(
        &self,
        ctx: &Ctx<'_>,
        facility: Uuid,
        input: &AdmissionRulesInput,
    ) -> Result<FacilityRules> {
        self.authorize_rules(ctx).await?;
        let fs = facility.to_string();
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        let known: Option<String> =
            sqlx::query_scalar("SELECT id FROM shelter_facilities WHERE id = $1")
                .bind(&fs)
                .fetch_optional(&mut *tx)
                .await?;
        if known.is_none() {
            return Err(StoreError::NotFound);
        }
        let req = i64::from(input.requires_cooperation);
        let changed = sqlx::query("UPDATE facility_admission_rules SET requires_cooperation = $1, updated_by = $2, updated_at = $3 WHERE facility_id = $4")
            .bind(req)
            .bind(ctx.actor.user_id.to_string())
            .bind(now)
            .bind(&fs)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 {
            sqlx::query("INSERT INTO facility_admission_rules (facility_id, requires_cooperation, updated_by, updated_at) VALUES ($1, $2, $3, $4)")
                .bind(&fs)
                .bind(req)
                .bind(ctx.actor.user_id.to_string())
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit_with(
            &ctx.entry_with(
                "rules.facility_admission",
                "success",
                "",
                format!("facility={fs} requires_cooperation={req}"),
            ),
            now,
        )
        .await?;
        self.admission_rules(facility).await
    }

    /// Admissions refused by a facility rule with `refused_on` in `[from, to]`, by reason
    /// (every reason listed, zero included). The national coordinator (who reads the
    /// scorecard or manages the rules); counts only.
    pub async fn admission_refusal_counts(
        &self,
        ctx: &Ctx<'_>,
        from: Date,
        to: Date,
    ) -> Result<Vec<RefusalCount>> {
        let may = decide(ctx.actor, Action::ReadScorecard, Resource::System).allowed
            || decide(ctx.actor, Action::ManagePracticeRules, Resource::System).allowed;
        if !may {
            self.authorize_rules(ctx).await?;
        }
        self.admission_refusal_counts_unchecked(from, to).await
    }

    /// [`Store::admission_refusal_counts`] for an aggregate reader that checked its own access
    /// (the scorecard).
    pub(crate) async fn admission_refusal_counts_unchecked(
        &self,
        from: Date,
        to: Date,
    ) -> Result<Vec<RefusalCount>> {
        let rows = sqlx::query(
            "SELECT reason, CAST(COUNT(*) AS BIGINT) AS n FROM admission_refusals \
             WHERE refused_on >= $1 AND refused_on <= $2 GROUP BY reason",
        )
        .bind(fmt_date(from))
        .bind(fmt_date(to))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for reason in RefusalReason::ALL {
            let mut count = 0;
            for r in &rows {
                if r.try_get::<String, _>("reason")? == reason.as_str() {
                    count = r.try_get("n")?;
                }
            }
            out.push(RefusalCount {
                reason: reason.as_str().into(),
                count,
            });
        }
        Ok(out)
    }
}
