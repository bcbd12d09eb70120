//! Aggregate statistics (no identity, small cells suppressed by the domain rule).

use crate::{Result, Store, StoreError};
use dayaq_domain::policy::{Action, Actor, Resource, decide};
use dayaq_domain::stats::{Cell, publish_breakdowns};
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
    async fn grouped(&self, column_query: &'static str) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(column_query).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let k: Option<String> = r.try_get("k")?;
                let n: i64 = r.try_get("n")?;
                Ok((k.unwrap_or_else(|| "NonSpecifiedUnknown".into()), n))
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
        let groups = [
            self.grouped("SELECT cas_status AS k, COUNT(*) AS n FROM cases WHERE erased_at IS NULL GROUP BY cas_status ORDER BY cas_status")
                .await?,
            self.grouped("SELECT prs_gender AS k, COUNT(*) AS n FROM cases WHERE erased_at IS NULL GROUP BY prs_gender ORDER BY prs_gender")
                .await?,
            self.grouped(
                "SELECT vic_trafficking_status AS k, COUNT(*) AS n FROM cases WHERE erased_at IS NULL \
                 GROUP BY vic_trafficking_status ORDER BY vic_trafficking_status",
            )
            .await?,
        ];
        // Every grouping adds up to the total: complementary suppression so that no hidden
        // count is the total minus the published ones.
        let counts: Vec<Vec<i64>> = groups
            .iter()
            .map(|g| g.iter().map(|(_, n)| *n).collect())
            .collect();
        let (total, cells) = publish_breakdowns(total, &counts);
        let mut named = groups.into_iter().zip(cells).map(|(g, cells)| {
            g.into_iter()
                .zip(cells)
                .map(|((k, _), c)| (k, c))
                .collect::<Vec<(String, Cell)>>()
        });
        Ok(Overview {
            total,
            by_status: named.next().unwrap_or_default(),
            by_gender: named.next().unwrap_or_default(),
            by_trafficking_status: named.next().unwrap_or_default(),
        })
    }

    /// Cheap liveness probe for `/healthz`.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
