//! The assistance-gap view (issue #15 part 2): reads one [`GapCase`] per case of the caller's
//! scope (parameterised SQL, rows by column name) and hands them to the domain's counting
//! rules (`dayaq_domain::statistics::gaps`); writes the CSV/XLSX files through the one tabular
//! writer of `dayaq-interchange`.
//!
//! Authorised by `Action::ReadGapReport`: on `Resource::System` (the national coordinator:
//! every case) or else on the actor's own organisation (its supervisors: the organisation's own
//! caseload). A refusal is audited (`access.denied`, detail `table=gaps reason=…`) and answered
//! 403; every view and export is audited (`statistics.gap_report`).

use crate::audit::append;
use crate::cases::Ctx;
use crate::{Result, Store, StoreError, from_millis, millis};
use dayaq_domain::assistance::{ActionStatus, GoalTerm, NeedDomain, Severity};
use dayaq_domain::case::parse_date;
use dayaq_domain::policy::{Action, Resource, decide};
use dayaq_domain::referral::{ReferralState, Service};
use dayaq_domain::statistics::gaps::{
    GapCase, GapFollowup, GapGoal, GapPeriod, GapReferral, GapService, decline_code, gap_report,
    suppress_tables,
};
use dayaq_domain::statistics::{Cell, Disclosure, SUPPRESSED_MARK, Table};
use dayaq_domain::vocab::TraffickingStatus;
use dayaq_domain::{FieldError, ValidationErrors};
use dayaq_interchange::tabular::{CsvWriter, XlsxCell, XlsxWriter};
use sqlx::Row;
use std::collections::{BTreeSet, HashMap};
use time::Date;
use uuid::Uuid;

/// Whose cases the view counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GapScope {
    /// Every case (the national coordinator).
    National,
    /// The cases an organisation owns (its supervisors).
    Organisation(Uuid),
}

impl GapScope {
    pub fn name(self) -> &'static str {
        match self {
            GapScope::National => "national",
            GapScope::Organisation(_) => "organisation",
        }
    }
}

/// Proof that the policy allowed the gap view, and for which scope (made only by
/// [`Store::authorize_gap_report`]).
#[derive(Debug, Clone, Copy)]
pub struct GapReportAccess<'a> {
    ctx: Ctx<'a>,
    scope: GapScope,
}

impl GapReportAccess<'_> {
    pub fn scope(&self) -> GapScope {
        self.scope
    }
}

/// What the reader asked for: the cohort's period and, optionally, a region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GapQuery {
    pub from: Date,
    pub to: Date,
    pub region: Option<String>,
}

/// The gap view as a reader receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GapReportOut {
    pub from: Date,
    pub to: Date,
    pub as_of: Date,
    pub region: Option<String>,
    pub scope: GapScope,
    pub disclosure: Disclosure,
    pub tables: Vec<Table>,
}

fn data(e: impl std::fmt::Display) -> StoreError {
    StoreError::Data(e.to_string())
}

fn date(field: &str, s: &str) -> Result<Date> {
    parse_date(field, s).map_err(|e| StoreError::Data(e.message))
}

fn day(ms: i64) -> Date {
    from_millis(ms).date()
}

/// A case being read: its record, its first identification (date, recording order) and its
/// first possible-victim screening (the start is chosen from these at the end).
type Pending = (GapCase, Option<(Date, i64)>, Option<Date>);

impl Store {
    /// Asks the policy: the national view (`ReadGapReport` on the system), else the actor's
    /// own organisation's caseload; a refusal of both is audited and answered 403.
    pub async fn authorize_gap_report<'a>(&self, ctx: &Ctx<'a>) -> Result<GapReportAccess<'a>> {
        if decide(ctx.actor, Action::ReadGapReport, Resource::System).allowed {
            return Ok(GapReportAccess {
                ctx: *ctx,
                scope: GapScope::National,
            });
        }
        let org = ctx.actor.org_id;
        let d = decide(
            ctx.actor,
            Action::ReadGapReport,
            Resource::Organisation(org),
        );
        if d.allowed {
            return Ok(GapReportAccess {
                ctx: *ctx,
                scope: GapScope::Organisation(org),
            });
        }
        let mut e = ctx.entry("access.denied", "denied", "");
        e.detail = format!("table=gaps reason={}", d.reason);
        let mut tx = self.begin_write().await?;
        append(&mut tx, &e, millis(ctx.now)).await?;
        tx.commit().await?;
        Err(StoreError::Forbidden(d.reason))
    }

    /// The regions of the registered organisations (the region filter's choices).
    pub async fn gap_regions(&self, _checked: &GapReportAccess<'_>) -> Result<Vec<String>> {
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query("SELECT DISTINCT region FROM organisations ORDER BY region")
            .fetch_all(&mut *conn)
            .await?;
        rows.iter()
            .map(|r| r.try_get::<String, _>("region").map_err(StoreError::from))
            .collect()
    }

    /// The gap view of the cohort (cases starting in `q.from..=q.to`, in `q.region` if given)
    /// within the access's scope, observed today. An unknown region is refused (field
    /// `region`). `via` names the channel in the audit row.
    pub async fn gap_report(
        &self,
        access: &GapReportAccess<'_>,
        q: &GapQuery,
        disclosure: Disclosure,
        via: &'static str,
    ) -> Result<GapReportOut> {
        if let Some(r) = &q.region
            && !self.gap_regions(access).await?.contains(r)
        {
            return Err(StoreError::Invalid(ValidationErrors::single(
                FieldError::new("region", "unknown", "no organisation is in this region"),
            )));
        }
        let ctx = &access.ctx;
        let mut entry = ctx.entry("statistics.gap_report", "success", "");
        entry.detail = format!(
            "table=gaps scope={} from={} to={} region={} variant={} k={} via={via}",
            access.scope.name(),
            q.from,
            q.to,
            if q.region.is_some() { "set" } else { "all" },
            disclosure.name(),
            disclosure.k().unwrap_or(0),
        );
        let mut tx = self.begin_write().await?;
        append(&mut tx, &entry, millis(ctx.now)).await?;
        tx.commit().await?;
        let (cases, providers) = self.gap_records(access, q.region.as_deref()).await?;
        let period = GapPeriod {
            from: q.from,
            to: q.to,
            as_of: ctx.now.date(),
        };
        let tables = suppress_tables(gap_report(&cases, &providers, period), disclosure);
        Ok(GapReportOut {
            from: q.from,
            to: q.to,
            as_of: period.as_of,
            region: q.region.clone(),
            scope: access.scope,
            disclosure,
            tables,
        })
    }

    /// Every case of the scope (and region) that is not erased, as the gap rules see it, and
    /// the directory's (region, service) pairs.
    async fn gap_records(
        &self,
        access: &GapReportAccess<'_>,
        region: Option<&str>,
    ) -> Result<(Vec<GapCase>, BTreeSet<(String, Service)>)> {
        let org = match access.scope {
            GapScope::National => None,
            GapScope::Organisation(o) => Some(o.to_string()),
        };
        let mut conn = self.pool.acquire().await?;
        let rows = sqlx::query(
            "SELECT c.id AS id, c.created_at AS created, o.region AS region \
             FROM cases c JOIN organisations o ON o.id = c.owner_org_id \
             WHERE c.erased_at IS NULL AND ($1 IS NULL OR c.owner_org_id = $1) \
             AND ($2 IS NULL OR o.region = $2)",
        )
        .bind(org.as_deref())
        .bind(region)
        .fetch_all(&mut *conn)
        .await?;
        // Per case: the record, the first identification, the first possible-victim screening.
        let mut recs: HashMap<String, Pending> = HashMap::new();
        for r in &rows {
            let id: String = r.try_get("id")?;
            let region: String = r.try_get("region")?;
            let created: i64 = r.try_get("created")?;
            recs.insert(id, (GapCase::new(region, day(created)), None, None));
        }

        let rows = sqlx::query(
            "SELECT case_id, status, decided_on, created_at FROM identification_decisions",
        )
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            let id: String = r.try_get("case_id")?;
            let Some(c) = recs.get_mut(&id) else { continue };
            let status: String = r.try_get("status")?;
            if TraffickingStatus::parse(&status).ok()
                != Some(TraffickingStatus::ActualVictimOfTrafficking)
            {
                continue;
            }
            let on: String = r.try_get("decided_on")?;
            let key = (date("decided_on", &on)?, r.try_get::<i64, _>("created_at")?);
            if c.1.is_none_or(|k| key < k) {
                c.1 = Some(key);
            }
        }

        let rows = sqlx::query("SELECT case_id, possible_victim, created_at FROM screenings")
            .fetch_all(&mut *conn)
            .await?;
        for r in &rows {
            let id: String = r.try_get("case_id")?;
            let Some(c) = recs.get_mut(&id) else { continue };
            if r.try_get::<i64, _>("possible_victim")? == 0 {
                continue;
            }
            let on = day(r.try_get("created_at")?);
            if c.2.is_none_or(|d| on < d) {
                c.2 = Some(on);
            }
        }

        let rows = sqlx::query(
            "SELECT a.case_id AS case_id, n.domain AS domain, n.severity AS severity \
             FROM assessment_needs n JOIN needs_assessments a ON a.id = n.assessment_id",
        )
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            let id: String = r.try_get("case_id")?;
            let Some(c) = recs.get_mut(&id) else { continue };
            let domain = NeedDomain::parse(&r.try_get::<String, _>("domain")?)
                .map_err(|e| data(e.message))?;
            let severity = Severity::parse(&r.try_get::<String, _>("severity")?)
                .map_err(|e| data(e.message))?;
            if severity != Severity::None {
                c.0.needs.push(domain);
            }
        }

        let rows = sqlx::query(
            "SELECT s.case_id AS case_id, s.service AS service, s.started_on AS started_on, \
             s.ended_on AS ended_on, p.domain AS domain \
             FROM services_delivered s LEFT JOIN plan_actions p ON p.id = s.plan_action_id",
        )
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            let id: String = r.try_get("case_id")?;
            let Some(c) = recs.get_mut(&id) else { continue };
            let service: String = r.try_get("service")?;
            let Ok(service) = Service::parse_for("service", &service) else {
                continue;
            };
            let started: String = r.try_get("started_on")?;
            let ended: Option<String> = r.try_get("ended_on")?;
            let domain: Option<String> = r.try_get("domain")?;
            c.0.services.push(GapService {
                service,
                started_on: date("started_on", &started)?,
                ended_on: ended.map(|e| date("ended_on", &e)).transpose()?,
                domain: domain.and_then(|d| NeedDomain::parse(&d).ok()),
            });
        }

        let rows = sqlx::query(
            "SELECT g.id AS id, p.case_id AS case_id, g.term AS term \
             FROM plan_goals g JOIN plans p ON p.id = g.plan_id",
        )
        .fetch_all(&mut *conn)
        .await?;
        let mut goals: HashMap<String, (String, GapGoal)> = HashMap::new();
        for r in &rows {
            let case: String = r.try_get("case_id")?;
            if !recs.contains_key(&case) {
                continue;
            }
            let term =
                GoalTerm::parse(&r.try_get::<String, _>("term")?).map_err(|e| data(e.message))?;
            goals.insert(
                r.try_get("id")?,
                (
                    case,
                    GapGoal {
                        term,
                        actions: Vec::new(),
                    },
                ),
            );
        }
        let rows =
            sqlx::query("SELECT goal_id, status FROM plan_actions WHERE goal_id IS NOT NULL")
                .fetch_all(&mut *conn)
                .await?;
        for r in &rows {
            let goal: String = r.try_get("goal_id")?;
            if let Some((_, g)) = goals.get_mut(&goal) {
                let status = ActionStatus::parse(&r.try_get::<String, _>("status")?)
                    .map_err(|e| data(e.message))?;
                g.actions.push(status);
            }
        }
        for (case, g) in goals.into_values() {
            if let Some(c) = recs.get_mut(&case) {
                c.0.goals.push(g);
            }
        }

        let rows = sqlx::query("SELECT case_id, services, state, decline_reason FROM referrals")
            .fetch_all(&mut *conn)
            .await?;
        for r in &rows {
            let id: String = r.try_get("case_id")?;
            let Some(c) = recs.get_mut(&id) else { continue };
            let services: String = r.try_get("services")?;
            let state: String = r.try_get("state")?;
            let state = ReferralState::parse(&state).ok_or_else(|| data("referral state"))?;
            let reason: Option<String> = r.try_get("decline_reason")?;
            c.0.referrals.push(GapReferral {
                services: services
                    .split(',')
                    .filter_map(|s| Service::parse_for("services", s.trim()).ok())
                    .collect(),
                state,
                decline_code: reason.as_deref().map(decline_code),
            });
        }

        let rows =
            sqlx::query("SELECT case_id, assistance_end, lost_contact_at FROM followup_plans")
                .fetch_all(&mut *conn)
                .await?;
        for r in &rows {
            let id: String = r.try_get("case_id")?;
            let Some(c) = recs.get_mut(&id) else { continue };
            let end: String = r.try_get("assistance_end")?;
            c.0.followup = Some(GapFollowup {
                assistance_end: date("assistance_end", &end)?,
                reached_on: Vec::new(),
                lost_contact: r.try_get::<Option<i64>, _>("lost_contact_at")?.is_some(),
            });
        }
        let rows = sqlx::query("SELECT case_id, at FROM followup_contacts WHERE reached <> 0")
            .fetch_all(&mut *conn)
            .await?;
        for r in &rows {
            let id: String = r.try_get("case_id")?;
            if let Some((c, _, _)) = recs.get_mut(&id)
                && let Some(f) = c.followup.as_mut()
            {
                f.reached_on.push(day(r.try_get("at")?));
            }
        }

        let rows = sqlx::query("SELECT DISTINCT region, service FROM org_services")
            .fetch_all(&mut *conn)
            .await?;
        let mut providers = BTreeSet::new();
        for r in &rows {
            let service: String = r.try_get("service")?;
            if let Ok(s) = Service::parse_for("service", &service) {
                providers.insert((r.try_get::<String, _>("region")?, s));
            }
        }

        let cases = recs
            .into_values()
            .map(|(mut c, identified, screened)| {
                c.start = identified.map(|(d, _)| d).or(screened).unwrap_or(c.start);
                c
            })
            .collect();
        Ok((cases, providers))
    }
}

const HEADER: [&str; 12] = [
    "from", "to", "as_of", "scope", "region", "variant", "k", "table", "unit", "row", "column",
    "value",
];

fn cell_text(c: Cell) -> String {
    match c {
        Cell::Value(v) => v.to_string(),
        Cell::Suppressed => SUPPRESSED_MARK.to_string(),
    }
}

/// One line per cell: the header fields, then `table, unit, row, column, value`.
fn lines(r: &GapReportOut) -> Vec<[String; 12]> {
    let k = r.disclosure.k();
    let mut out = Vec::new();
    for t in &r.tables {
        for row in &t.rows {
            for (col, cell) in t.columns.iter().zip(&row.cells) {
                out.push([
                    r.from.to_string(),
                    r.to.to_string(),
                    r.as_of.to_string(),
                    r.scope.name().to_string(),
                    r.region.clone().unwrap_or_default(),
                    r.disclosure.name().to_string(),
                    k.map(|k| k.to_string()).unwrap_or_default(),
                    t.id.to_string(),
                    t.unit.to_string(),
                    row.key.clone(),
                    col.key.to_string(),
                    cell_text(*cell),
                ]);
            }
        }
    }
    out
}

/// The gap view as CSV (UTF-8, comma, CRLF, a line per cell; every cell formula-guarded).
pub fn gap_csv(r: &GapReportOut) -> Result<Vec<u8>> {
    let mut w = CsvWriter::new(Vec::new());
    w.row(HEADER).map_err(|e| data(e.0))?;
    for l in lines(r) {
        w.row(&l).map_err(|e| data(e.0))?;
    }
    w.into_inner().map_err(|e| data(e.0))
}

/// The gap view as an XLSX workbook (one sheet `gaps`, a row per cell, numbers typed).
pub fn gap_xlsx(r: &GapReportOut) -> Result<Vec<u8>> {
    let mut w = XlsxWriter::new("gaps", HEADER).map_err(|e| data(e.0))?;
    for l in lines(r) {
        let value = l[11].parse::<f64>().ok();
        let cells: Vec<XlsxCell<'_>> = l
            .iter()
            .enumerate()
            .map(|(i, s)| match (i, value) {
                (11, Some(v)) => XlsxCell::Number(v),
                _ => XlsxCell::Text(s),
            })
            .collect();
        w.row(cells).map_err(|e| data(e.0))?;
    }
    w.finish().map_err(|e| data(e.0))
}
