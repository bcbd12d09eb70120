//! The national report: read from the maintained sums (`aggregates`), or recomputed from one
//! [`CaseRecord`] per case that is not erased (the loader the maintained sums use,
//! `aggregates::load_records`). The person key is the case's keyed blind-index digest of
//! name + birth date (the same key the once-per-person allowance rule uses), else the case id:
//! it stays in this process. Birth dates are decrypted by that loader, only to compute the age
//! at the decision.
//!
//! Authorised by `Action::ReadNationalReport` on `Resource::System` (the national
//! coordinator); every view and export is audited (`statistics.national_report`, with the
//! table, year, variant and format), every refusal too (`access.denied`).

use crate::audit::append;
use crate::cases::Ctx;
use crate::{Result, Store, StoreError, millis};
use dayaq_domain::policy::{Action, Resource, decide};
use dayaq_domain::statistics::{
    CaseRecord, Disclosure, NationalReport, ReportOptions, Table, disclose, national_report,
    report_from_cells, trend, trend_from_cells,
};

/// A report as a reader receives it: the year's tables and the trend, both under the same
/// disclosure rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NationalReportOut {
    pub report: NationalReport,
    pub trend: Table,
    pub disclosure: Disclosure,
}

fn out(report: NationalReport, trend: Table, disclosure: Disclosure) -> Result<NationalReportOut> {
    // One publication: complementary suppression runs over the report and the trend together
    // (the trend repeats the year's headline figures).
    let (report, trend) = disclose(report, trend, disclosure);
    Ok(NationalReportOut {
        report,
        trend,
        disclosure,
    })
}

/// Proof that the policy allowed the national report to this request's actor (made only by
/// [`Store::authorize_national_report`]): the report methods take it, so nothing reads the
/// figures unasked and nothing asks twice.
#[derive(Debug, Clone, Copy)]
pub struct NationalReportAccess<'a> {
    ctx: Ctx<'a>,
}

impl Store {
    /// Asks the policy (`ReadNationalReport` on the system); a refusal is audited
    /// (`access.denied`) and answered 403.
    pub async fn authorize_national_report<'a>(
        &self,
        ctx: &Ctx<'a>,
    ) -> Result<NationalReportAccess<'a>> {
        let d = decide(ctx.actor, Action::ReadNationalReport, Resource::System);
        if d.allowed {
            return Ok(NationalReportAccess { ctx: *ctx });
        }
        let mut e = ctx.entry("access.denied", "denied", "");
        e.detail = format!("table=national reason={}", d.reason);
        let mut tx = self.begin_write().await?;
        append(&mut tx, &e, millis(ctx.now)).await?;
        tx.commit().await?;
        Err(StoreError::Forbidden(d.reason))
    }

    /// The annual national report of `year` (and the trend over every year), exact for
    /// `Disclosure::Internal`, small cells suppressed for `Disclosure::Public`. `via` names
    /// the channel in the audit row (`json`, `screen`, `csv`, `xlsx`, `cli`).
    pub async fn national_report(
        &self,
        access: &NationalReportAccess<'_>,
        year: i32,
        disclosure: Disclosure,
        via: &'static str,
    ) -> Result<NationalReportOut> {
        let ctx = &access.ctx;
        let mut entry = ctx.entry("statistics.national_report", "success", "");
        entry.detail = format!(
            "table=national year={year} variant={} k={} via={via}",
            disclosure.name(),
            disclosure.k().unwrap_or(0),
        );
        // The commit also counts this process's pending writes (maintained statistics).
        let mut tx = self.begin_write().await?;
        append(&mut tx, &entry, millis(ctx.now)).await?;
        tx.commit().await?;
        let cells = self.statistics_cells(access).await?;
        let opts = ReportOptions::default();
        out(
            report_from_cells(&cells, year, &opts),
            trend_from_cells(&cells, &opts),
            disclosure,
        )
    }

    /// The same report computed from the records on every call (the counting rules over one
    /// record per case; linear in the number of cases). Not audited: for tests and
    /// benchmarks that compare it with the maintained report.
    pub async fn national_report_recomputed(
        &self,
        access: &NationalReportAccess<'_>,
        year: i32,
        disclosure: Disclosure,
    ) -> Result<NationalReportOut> {
        let records = self.statistics_records(access).await?;
        let opts = ReportOptions::default();
        out(
            national_report(&records, year, &opts),
            trend(&records, &opts),
            disclosure,
        )
    }

    /// Every case that is not erased, as the counting rules see it (the loader the
    /// maintained statistics use: `aggregates::load_records`).
    async fn statistics_records(
        &self,
        _checked: &NationalReportAccess<'_>,
    ) -> Result<Vec<CaseRecord>> {
        let mut conn = self.pool.acquire().await?;
        let recs = crate::aggregates::load_records(&mut conn, &self.keys, None).await?;
        Ok(recs.into_values().map(|c| c.record).collect())
    }
}
