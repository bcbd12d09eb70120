//! Aggregate statistics (no identity, small cells suppressed by the domain rule).

use crate::{Result, Store, StoreError};
use dayaq_domain::policy::{Action, Actor, Resource, decide};
use dayaq_domain::stats::Cell;
use serde::Serialize;
use sqlx::Row;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Overview {
    pub total: Cell,
    pub by_status: Vec<(String, Cell)>,
    pub by_gender: Vec<(String, Cell)>,
    pub by_trafficking_status: Vec<(String, Cell)>,
}

impl Store {
    /// Runs a `SELECT <column> AS k, COUNT(*) AS n … GROUP BY` query.
    async fn grouped(&self, column_query: &'static str) -> Result<Vec<(String, Cell)>> {
        let rows = sqlx::query(column_query).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let k: Option<String> = r.try_get("k")?;
                let n: i64 = r.try_get("n")?;
                Ok((
                    k.unwrap_or_else(|| "NonSpecifiedUnknown".into()),
                    Cell::of(n),
                ))
            })
            .collect()
    }

    /// National overview across all organisations, for the coordinator's landing page.
    pub async fn national_overview(&self, actor: &Actor) -> Result<Overview> {
        let d = decide(actor, Action::ReadStatistics, Resource::System);
        if !d.allowed {
            return Err(StoreError::Forbidden(d.reason));
        }
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases WHERE erased_at IS NULL")
            .fetch_one(&self.pool)
            .await?;
        Ok(Overview {
            total: Cell::of(total),
            by_status: self
                .grouped("SELECT cas_status AS k, COUNT(*) AS n FROM cases WHERE erased_at IS NULL GROUP BY cas_status ORDER BY cas_status")
                .await?,
            by_gender: self
                .grouped("SELECT prs_gender AS k, COUNT(*) AS n FROM cases WHERE erased_at IS NULL GROUP BY prs_gender ORDER BY prs_gender")
                .await?,
            by_trafficking_status: self
                .grouped(
                    "SELECT vic_trafficking_status AS k, COUNT(*) AS n FROM cases WHERE erased_at IS NULL \
                     GROUP BY vic_trafficking_status ORDER BY vic_trafficking_status",
                )
                .await?,
        })
    }

    /// Cheap liveness probe for `/healthz`.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
