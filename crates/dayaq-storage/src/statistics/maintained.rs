//! The maintained national statistics as the `Store` offers them (issue #15 §6): the sums
//! kept by `crate::aggregates` (refreshed in every write transaction), their rebuild from the
//! records (`dayaq statistics rebuild`, upgrades), and the check that the sums equal a
//! recomputation (tests, benchmarks). Nothing here returns personal data: cells are counts.

use super::national::NationalReportAccess;
use crate::aggregates::{self, RebuildInfo};
use crate::{Result, Store};
use dayaq_domain::statistics::Cells;

impl Store {
    /// Counts the cases written outside a write transaction of this process (raw SQL, bulk
    /// loaders) into the maintained statistics. Every write transaction does this itself.
    pub async fn refresh_statistics(&self) -> Result<()> {
        let tx = self.begin_write().await?;
        tx.commit().await
    }

    /// Recomputes the maintained statistics from the records (`dayaq statistics rebuild`).
    pub async fn rebuild_statistics(&self) -> Result<RebuildInfo> {
        let mut tx = self.begin_write().await?;
        let info = aggregates::rebuild(&mut tx, &self.keys).await?;
        tx.commit().await?;
        Ok(info)
    }

    /// The maintained cells (the report's source), read after this process's pending
    /// writes are counted.
    pub(crate) async fn statistics_cells(
        &self,
        _checked: &NationalReportAccess<'_>,
    ) -> Result<Cells> {
        let mut conn = self.pool.acquire().await?;
        aggregates::stored_cells(&mut conn).await
    }

    /// The maintained cells and the same cells recomputed from the records now: equal unless
    /// a write escaped the maintenance (tests and `dayaq statistics check`).
    pub async fn statistics_maintained_and_recomputed(&self) -> Result<(Cells, Cells)> {
        self.refresh_statistics().await?;
        let mut conn = self.pool.acquire().await?;
        let stored = aggregates::stored_cells(&mut conn).await?;
        let recomputed = aggregates::recomputed_cells(&mut conn, &self.keys).await?;
        Ok((stored, recomputed))
    }
}
