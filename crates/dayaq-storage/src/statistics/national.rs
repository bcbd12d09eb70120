//! Reads one [`CaseRecord`] per case that is not erased and hands them to the domain's
//! counting rules. The person key is the case's keyed blind-index digest of name + birth date
//! (the same key the once-per-person allowance rule uses), else the case id: it stays in this
//! process. Birth dates are decrypted here, only to compute the age at the decision.
//!
//! Authorised by `Action::ReadNationalReport` on `Resource::System` (the national
//! coordinator); every view and export is audited (`statistics.national_report`, with the
//! table, year, variant and format), every refusal too (`access.denied`).

use crate::audit::append;
use crate::cases::Ctx;
use crate::crypto::field_aad;
use crate::{Result, Store, StoreError, from_millis, millis};
use dayaq_domain::case::{Identity, parse_date};
use dayaq_domain::policy::{Action, Resource, decide};
use dayaq_domain::referral::Service;
use dayaq_domain::statistics::{
    AllowanceFact, CaseRecord, Cooperation, DecisionFact, Disclosure, NationalReport, PersonKey,
    ReferralFact, ReportOptions, ScreeningFact, ServiceFact, StayFact, Table, disclose,
    national_report, report_from_cells, trend, trend_from_cells,
};
use dayaq_domain::vocab::{
    DecisionMakingOrg, Gender, OrgType, TraffickingStatus, TypeOfExploitation,
};
use sqlx::Row;
use std::collections::HashMap;
use time::Date;

/// A report as a reader receives it: the year's tables and the trend, both under the same
/// disclosure rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NationalReportOut {
    pub report: NationalReport,
    pub trend: Table,
    pub disclosure: Disclosure,
}

fn date(field: &str, s: &str) -> Result<Date> {
    parse_date(field, s).map_err(|e| StoreError::Data(e.message))
}

fn day(ms: i64) -> Date {
    from_millis(ms).date()
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

    /// Every case that is not erased, as the counting rules see it.
    async fn statistics_records(
        &self,
        _checked: &NationalReportAccess<'_>,
    ) -> Result<Vec<CaseRecord>> {
        let mut conn = self.pool.acquire().await?;
        let mut recs: HashMap<String, CaseRecord> = HashMap::new();
        let rows = sqlx::query(
            "SELECT c.id AS id, c.prs_gender AS gender, c.age_when_trafficked AS age, \
             (SELECT MIN(b.digest) FROM blind_index b WHERE b.case_id = c.id AND b.kind = 'name_dob') AS person \
             FROM cases c WHERE c.erased_at IS NULL",
        )
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            let id: String = r.try_get("id")?;
            let person = match r.try_get::<Option<String>, _>("person")? {
                Some(d) => format!("name_dob:{d}"),
                None => format!("case:{id}"),
            };
            let mut c = CaseRecord::new(PersonKey::new(person));
            c.gender = r
                .try_get::<Option<String>, _>("gender")?
                .and_then(|g| Gender::parse(&g).ok());
            c.age_when_trafficked = r.try_get("age")?;
            recs.insert(id, c);
        }

        let rows = sqlx::query(
            "SELECT case_id, field, value FROM case_values \
             WHERE field IN ('prs_Citizenship', 'vic_TypeOfExploitation')",
        )
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            let id: String = r.try_get("case_id")?;
            let Some(c) = recs.get_mut(&id) else { continue };
            let field: String = r.try_get("field")?;
            let value: String = r.try_get("value")?;
            if field == "prs_Citizenship" {
                c.citizenship.push(value);
            } else if let Ok(f) = TypeOfExploitation::parse(&value) {
                c.forms.push(f);
            }
        }

        let rows = sqlx::query(
            "SELECT case_id, hte_country FROM trafficking_events WHERE hte_country IS NOT NULL",
        )
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            let id: String = r.try_get("case_id")?;
            if let Some(c) = recs.get_mut(&id) {
                c.event_countries.push(r.try_get("hte_country")?);
            }
        }

        let rows = sqlx::query(
            "SELECT case_id, status, decision_making_org, decided_on, created_at FROM identification_decisions",
        )
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            let id: String = r.try_get("case_id")?;
            let Some(c) = recs.get_mut(&id) else { continue };
            let status: String = r.try_get("status")?;
            let org: String = r.try_get("decision_making_org")?;
            let on: String = r.try_get("decided_on")?;
            let (Ok(status), Ok(org)) = (
                TraffickingStatus::parse(&status),
                DecisionMakingOrg::parse(&org),
            ) else {
                return Err(StoreError::Data(
                    "identification decision out of vocabulary".into(),
                ));
            };
            c.decisions.push(DecisionFact {
                status,
                decided_on: date("decided_on", &on)?,
                order: r.try_get("created_at")?,
                decision_making_org: org,
            });
        }

        let rows = sqlx::query(
            "SELECT s.case_id AS case_id, s.possible_victim AS pv, s.created_at AS at, o.org_type AS org_type \
             FROM screenings s LEFT JOIN organisations o ON o.id = s.screened_by_org",
        )
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            let id: String = r.try_get("case_id")?;
            let Some(c) = recs.get_mut(&id) else { continue };
            c.screenings.push(ScreeningFact {
                on: day(r.try_get("at")?),
                possible_victim: r.try_get::<i64, _>("pv")? != 0,
                org_type: r
                    .try_get::<Option<String>, _>("org_type")?
                    .and_then(|t| OrgType::parse(&t).ok()),
            });
        }

        let rows = sqlx::query(
            "SELECT s.case_id AS case_id, f.state_shelter AS state, s.admitted_on AS admitted, s.exited_on AS exited \
             FROM shelter_stays s JOIN shelter_facilities f ON f.id = s.facility_id",
        )
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            let id: String = r.try_get("case_id")?;
            let Some(c) = recs.get_mut(&id) else { continue };
            let admitted: String = r.try_get("admitted")?;
            let exited: Option<String> = r.try_get("exited")?;
            c.stays.push(StayFact {
                state_shelter: r.try_get::<i64, _>("state")? != 0,
                admitted_on: date("admitted_on", &admitted)?,
                exited_on: exited.map(|e| date("exited_on", &e)).transpose()?,
            });
        }

        let rows =
            sqlx::query("SELECT case_id, service, started_on, ended_on FROM services_delivered")
                .fetch_all(&mut *conn)
                .await?;
        for r in &rows {
            let id: String = r.try_get("case_id")?;
            let Some(c) = recs.get_mut(&id) else { continue };
            let service: String = r.try_get("service")?;
            let Some(service) = Service::ALL.iter().copied().find(|s| s.as_str() == service) else {
                continue;
            };
            let started: String = r.try_get("started_on")?;
            let ended: Option<String> = r.try_get("ended_on")?;
            c.services.push(ServiceFact {
                service,
                started_on: date("started_on", &started)?,
                ended_on: ended.map(|e| date("ended_on", &e)).transpose()?,
            });
        }

        let rows = sqlx::query(
            "SELECT case_id, amount_minor, updated_at FROM allowance_payments WHERE status = 'Paid'",
        )
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            let id: String = r.try_get("case_id")?;
            if let Some(c) = recs.get_mut(&id) {
                c.allowances.push(AllowanceFact {
                    paid_on: day(r.try_get("updated_at")?),
                    amount_minor: r.try_get("amount_minor")?,
                });
            }
        }

        let rows = sqlx::query("SELECT case_id, created_at, responded_at FROM referrals")
            .fetch_all(&mut *conn)
            .await?;
        for r in &rows {
            let id: String = r.try_get("case_id")?;
            if let Some(c) = recs.get_mut(&id) {
                c.referrals.push(ReferralFact {
                    made_on: day(r.try_get("created_at")?),
                    answered_on: r.try_get::<Option<i64>, _>("responded_at")?.map(day),
                });
            }
        }

        let rows = sqlx::query("SELECT case_id, cooperation FROM case_legal")
            .fetch_all(&mut *conn)
            .await?;
        for r in &rows {
            let id: String = r.try_get("case_id")?;
            if let Some(c) = recs.get_mut(&id) {
                c.cooperation = Cooperation::parse(&r.try_get::<String, _>("cooperation")?);
            }
        }

        // Birth dates, for the age at the decision: only cases with a decision or screening.
        let wanted: Vec<String> = recs
            .iter()
            .filter(|(_, c)| !c.decisions.is_empty() || !c.screenings.is_empty())
            .map(|(id, _)| id.clone())
            .collect();
        for id in wanted {
            let ct: Option<Vec<u8>> =
                sqlx::query_scalar("SELECT identity FROM cases WHERE id = $1")
                    .bind(&id)
                    .fetch_optional(&mut *conn)
                    .await?
                    .flatten();
            let Some(ct) = ct else { continue };
            let key = self.case_key_for_aggregate(&mut conn, &id).await?;
            let plain = key.open(&field_aad("cases", "identity", &id, "case"), &ct)?;
            let identity: Identity =
                serde_json::from_slice(&plain).map_err(|e| StoreError::Data(e.to_string()))?;
            if let (Some(c), Some(b)) = (recs.get_mut(&id), identity.birthdate.as_deref()) {
                c.birthdate = parse_date("prs_Birthdate", b).ok();
            }
        }
        Ok(recs.into_values().collect())
    }
}
