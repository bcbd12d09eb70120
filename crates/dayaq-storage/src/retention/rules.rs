//! An organisation's retention rules: months per record kind, defaults where it set none.
use super::*;
use crate::audit::AuditEntry;
use crate::kernel::{millis, ts};
use dayaq_domain::retention::{RecordKind, Rules, validate_rule};
use serde::Serialize;
use sqlx::Row;
use time::OffsetDateTime;

/// One record kind's rule as an organisation sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RetentionRule {
    pub kind: RecordKind,
    /// Retention after closure (after the contact, after the session's last use), in months.
    pub months: u32,
    /// The shortest rule accepted for this kind.
    pub legal_minimum_months: u32,
    /// The rule of a new installation.
    pub default_months: u32,
    /// `true` while the organisation has not set its own rule.
    pub is_default: bool,
    /// Whether the daily job erases this kind (audit rows wait for segment archival).
    pub executed_by_job: bool,
    pub updated_at: Option<String>,
}

/// The rules of one organisation, one per record kind, in the kinds' order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RetentionRules {
    pub org_id: Uuid,
    pub rules: Vec<RetentionRule>,
}

impl Store {
    /// The rules of `org`: its own where set, the defaults otherwise.
    pub(crate) async fn retention_rules_of(&self, org: Uuid) -> Result<(Rules, RetentionRules)> {
        let rows =
            sqlx::query("SELECT kind, months, updated_at FROM retention_rules WHERE org_id = $1")
                .bind(org.to_string())
                .fetch_all(&self.pool)
                .await?;
        let mut set: Vec<(RecordKind, u32, i64)> = Vec::new();
        for r in rows {
            let kind: String = r.try_get("kind")?;
            let months: i64 = r.try_get("months")?;
            if let (Some(k), Ok(m)) = (RecordKind::parse(&kind), u32::try_from(months)) {
                set.push((k, m, r.try_get("updated_at")?));
            }
        }
        let mut rules = Rules::default();
        let mut out = Vec::with_capacity(RecordKind::ALL.len());
        for k in RecordKind::ALL {
            let own = set.iter().find(|(s, _, _)| s == k);
            if let Some((_, m, _)) = own {
                rules = rules.with(*k, *m);
            }
            out.push(RetentionRule {
                kind: *k,
                months: rules.months(*k),
                legal_minimum_months: k.legal_minimum_months(),
                default_months: k.default_months(),
                is_default: own.is_none(),
                executed_by_job: k.executed_by_job(),
                updated_at: own.map(|(_, _, at)| ts(*at)),
            });
        }
        Ok((
            rules,
            RetentionRules {
                org_id: org,
                rules: out,
            },
        ))
    }

    /// The retention rules of the actor's organisation (its supervisors).
    pub async fn retention_rules(&self, ctx: &Ctx<'_>) -> Result<RetentionRules> {
        let org = self.require_retention(ctx, "retention.rules").await?;
        Ok(self.retention_rules_of(org).await?.1)
    }

    /// Sets one rule of the actor's organisation: a supervisor of it; at least the kind's
    /// legal minimum (422 naming `months`), a known kind (422 naming `kind`). Audited
    /// `retention.rule` with the kind and months.
    pub async fn set_retention_rule(
        &self,
        ctx: &Ctx<'_>,
        kind: &str,
        months: i64,
    ) -> Result<RetentionRules> {
        let org = self.require_retention(ctx, "retention.rule").await?;
        let (kind, months) = validate_rule(kind, months)?;
        let e = ctx.entry_with(
            "retention.rule",
            "success",
            "",
            format!("kind={} months={months}", kind.as_str()),
        );
        self.write_retention_rule(
            org,
            kind,
            months,
            &ctx.actor.user_id.to_string(),
            e,
            ctx.now,
        )
        .await?;
        Ok(self.retention_rules_of(org).await?.1)
    }

    /// The rules of the organisation `slug` (`dayaq retention show`).
    pub async fn retention_rules_by_slug(&self, slug: &str) -> Result<RetentionRules> {
        let org = self.org_of_field_or_invalid("org", slug).await?;
        Ok(self.retention_rules_of(org.id).await?.1)
    }

    /// `dayaq retention set --org SLUG --kind K --months N` (the operator, audited as `cli`).
    pub async fn set_retention_rule_by_slug(
        &self,
        slug: &str,
        kind: &str,
        months: i64,
        now: OffsetDateTime,
    ) -> Result<RetentionRules> {
        let org = self.org_of_field_or_invalid("org", slug).await?;
        let (kind, months) = validate_rule(kind, months)?;
        let mut e = AuditEntry::new("retention.rule", "success");
        e.actor_org = org.id.to_string();
        e.source = "cli".into();
        e.detail = format!("kind={} months={months}", kind.as_str());
        self.write_retention_rule(org.id, kind, months, "cli", e, now)
            .await?;
        Ok(self.retention_rules_of(org.id).await?.1)
    }

    async fn write_retention_rule(
        &self,
        org: Uuid,
        kind: RecordKind,
        months: u32,
        by: &str,
        entry: AuditEntry,
        now: OffsetDateTime,
    ) -> Result<()> {
        let at = millis(now);
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM retention_rules WHERE org_id = $1 AND kind = $2")
            .bind(org.to_string())
            .bind(kind.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO retention_rules (org_id, kind, months, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(org.to_string())
        .bind(kind.as_str())
        .bind(i64::from(months))
        .bind(by)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        tx.commit_with(&entry, at).await?;
        Ok(())
    }
}
