//! The action-plan scorecard (issue #15 §3): reads the facts the domain's indicators need
//! (timings per case, state-shelter answers, the directory's coverage, entered values) and
//! stores the yearly values the national coordinator enters. No names, no free text leave
//! this module: the person key stays in the process, decline reasons are reduced to codes.
//!
//! Authorised by `Action::ReadScorecard` / `Action::EnterIndicatorValue` on
//! `Resource::System` (the national coordinator); every view is audited
//! (`statistics.scorecard`, detail `table=scorecard year=Y via=…`), every entered value
//! (`statistics.indicator_value`, detail `indicator=ID year=Y`) in the same transaction as its
//! row, every refusal (`access.denied`, detail `table=scorecard reason=…`).

use crate::audit::append;
use crate::cases::Ctx;
use crate::{Result, Store, StoreError, from_millis, millis};
use dayaq_domain::assistance::{ActionStatus, GoalTerm};
use dayaq_domain::case::parse_date;
use dayaq_domain::policy::{Action, Resource, decide};
use dayaq_domain::referral::DeclineReason;
use dayaq_domain::statistics::scorecard::{
    FollowupFact, GoalFact, IndicatorSet, ManualValue, ReferralTiming, ScoreCase, ScoreFacts,
    Scorecard, ShelterAnswer, ValidManualValue, scorecard,
};
use dayaq_domain::statistics::{DecisionFact, PersonKey};
use dayaq_domain::vocab::{DecisionMakingOrg, TraffickingStatus};
use sqlx::Row;
use std::collections::{BTreeSet, HashMap};
use time::Date;
use uuid::Uuid;

fn day(ms: i64) -> Date {
    from_millis(ms).date()
}

fn date(field: &str, s: &str) -> Result<Date> {
    parse_date(field, s).map_err(|e| StoreError::Data(e.message))
}

/// Proof that the policy allowed `action` (read the scorecard, or enter a value) to this
/// request's actor; made only by [`Store::authorize_scorecard`].
#[derive(Debug, Clone, Copy)]
pub struct ScorecardAccess<'a> {
    ctx: Ctx<'a>,
    action: Action,
}

impl Store {
    /// Asks the policy (`ReadScorecard` or `EnterIndicatorValue` on the system); a refusal is
    /// audited (`access.denied`) and answered 403.
    pub async fn authorize_scorecard<'a>(
        &self,
        ctx: &Ctx<'a>,
        action: Action,
    ) -> Result<ScorecardAccess<'a>> {
        let d = decide(ctx.actor, action, Resource::System);
        let known = matches!(action, Action::ReadScorecard | Action::EnterIndicatorValue);
        if d.allowed && known {
            return Ok(ScorecardAccess { ctx: *ctx, action });
        }
        let reason = if known { d.reason } else { "no_rule" };
        let mut e = ctx.entry("access.denied", "denied", "");
        e.detail = format!("table=scorecard reason={reason}");
        let mut tx = self.begin_write().await?;
        append(&mut tx, &e, millis(ctx.now)).await?;
        tx.commit().await?;
        Err(StoreError::Forbidden(reason))
    }

    /// The scorecard of `year` under `set`; `via` names the channel in the audit row (`json`,
    /// `screen`, `csv`, `xlsx`).
    pub async fn scorecard(
        &self,
        access: &ScorecardAccess<'_>,
        set: &IndicatorSet,
        year: i32,
        via: &'static str,
    ) -> Result<Scorecard> {
        if access.action != Action::ReadScorecard {
            return Err(StoreError::Forbidden("role_cannot_read_scorecard"));
        }
        let ctx = &access.ctx;
        let mut entry = ctx.entry("statistics.scorecard", "success", "");
        entry.detail = format!("table=scorecard year={year} via={via}");
        let mut tx = self.begin_write().await?;
        append(&mut tx, &entry, millis(ctx.now)).await?;
        tx.commit().await?;
        let facts = self.score_facts(ctx.now.date()).await?;
        Ok(scorecard(set, &facts, year))
    }

    /// Stores a checked yearly value (every entry is kept; the latest counts), audited in the
    /// same transaction.
    pub async fn enter_indicator_value(
        &self,
        access: &ScorecardAccess<'_>,
        v: &ValidManualValue,
    ) -> Result<()> {
        if access.action != Action::EnterIndicatorValue {
            return Err(StoreError::Forbidden("role_cannot_enter_indicator_value"));
        }
        let ctx = &access.ctx;
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO indicator_values (id, indicator, year, value, source, entered_by, entered_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(Uuid::new_v4().to_string())
        .bind(&v.indicator)
        .bind(i64::from(v.year))
        .bind(v.value.to_string())
        .bind(&v.source)
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let mut entry = ctx.entry("statistics.indicator_value", "success", "");
        entry.detail = format!("indicator={} year={}", v.indicator, v.year);
        append(&mut tx, &entry, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Everything the indicators are computed from (cases that are not erased).
    async fn score_facts(&self, today: Date) -> Result<ScoreFacts> {
        let mut conn = self.pool.acquire().await?;
        let mut cases: HashMap<String, ScoreCase> = HashMap::new();
        let rows = sqlx::query(
            "SELECT c.id AS id, c.created_at AS created_at, \
             (SELECT MIN(b.digest) FROM blind_index b WHERE b.case_id = c.id AND b.kind = 'name_dob') AS person, \
             (SELECT MIN(k.created_at) FROM contacts k WHERE k.case_id = c.id) AS first_contact \
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
            let mut c = ScoreCase::new(PersonKey::new(person));
            let opened: i64 = r.try_get("created_at")?;
            let contact: Option<i64> = r.try_get("first_contact")?;
            c.first_contact = Some(day(contact.map_or(opened, |k| k.min(opened))));
            cases.insert(id, c);
        }

        let rows = sqlx::query(
            "SELECT case_id, status, decision_making_org, decided_on, created_at FROM identification_decisions",
        )
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            let id: String = r.try_get("case_id")?;
            let Some(c) = cases.get_mut(&id) else {
                continue;
            };
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

        let rows = sqlx::query("SELECT case_id, assessed_at FROM needs_assessments")
            .fetch_all(&mut *conn)
            .await?;
        for r in &rows {
            let id: String = r.try_get("case_id")?;
            if let Some(c) = cases.get_mut(&id) {
                c.assessments.push(day(r.try_get("assessed_at")?));
            }
        }

        let rows =
            sqlx::query("SELECT case_id, approved_at FROM plans WHERE approved_at IS NOT NULL")
                .fetch_all(&mut *conn)
                .await?;
        for r in &rows {
            let id: String = r.try_get("case_id")?;
            if let Some(c) = cases.get_mut(&id) {
                c.plan_approvals.push(day(r.try_get("approved_at")?));
            }
        }

        let rows =
            sqlx::query("SELECT case_id, updated_at FROM allowance_payments WHERE status = 'Paid'")
                .fetch_all(&mut *conn)
                .await?;
        for r in &rows {
            let id: String = r.try_get("case_id")?;
            if let Some(c) = cases.get_mut(&id) {
                c.allowance_paid.push(day(r.try_get("updated_at")?));
            }
        }

        // Referrals on the platform; those for shelter to an organisation that runs a state
        // shelter are the state-shelter admissions asked for.
        let state_orgs: BTreeSet<String> = sqlx::query_scalar(
            "SELECT DISTINCT org_id FROM shelter_facilities WHERE state_shelter = 1",
        )
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect();
        let mut shelter_answers = Vec::new();
        let rows = sqlx::query(
            "SELECT case_id, to_org, services, state, created_at, responded_at, decline_reason \
             FROM referrals WHERE off_platform = 0",
        )
        .fetch_all(&mut *conn)
        .await?;
        for r in &rows {
            let id: String = r.try_get("case_id")?;
            let Some(c) = cases.get_mut(&id) else {
                continue;
            };
            let made: i64 = r.try_get("created_at")?;
            let answered: Option<i64> = r.try_get("responded_at")?;
            c.referrals.push(ReferralTiming {
                made_at: from_millis(made),
                answered_at: answered.map(from_millis),
            });
            let to_org: String = r.try_get("to_org")?;
            let services: String = r.try_get("services")?;
            let shelter = services.split(',').any(|s| s.trim() == "Shelter");
            let state: String = r.try_get("state")?;
            if let (true, true, Some(at)) = (shelter, state_orgs.contains(&to_org), answered) {
                let refused = (state == "Declined").then(|| {
                    let reason: Option<String> = r.try_get("decline_reason").ok().flatten();
                    DeclineReason::classify(reason.as_deref().unwrap_or(""))
                });
                shelter_answers.push(ShelterAnswer {
                    on: day(at),
                    refused,
                });
            }
        }

        let rows = sqlx::query(
            "SELECT g.id AS id, p.case_id AS case_id, g.term AS term, g.created_at AS created_at \
             FROM plan_goals g JOIN plans p ON p.id = g.plan_id",
        )
        .fetch_all(&mut *conn)
        .await?;
        let mut goals: HashMap<String, (String, GoalFact)> = HashMap::new();
        for r in &rows {
            let term: String = r.try_get("term")?;
            goals.insert(
                r.try_get("id")?,
                (
                    r.try_get("case_id")?,
                    GoalFact {
                        long_term: GoalTerm::parse(&term).ok() == Some(GoalTerm::LongTerm),
                        created_on: day(r.try_get("created_at")?),
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
            let status: String = r.try_get("status")?;
            if let (Some((_, g)), Ok(s)) = (goals.get_mut(&goal), ActionStatus::parse(&status)) {
                g.actions.push(s);
            }
        }
        for (_, (case, g)) in goals {
            if let Some(c) = cases.get_mut(&case) {
                c.goals.push(g);
            }
        }

        let rows = sqlx::query("SELECT case_id, assistance_end FROM followup_plans")
            .fetch_all(&mut *conn)
            .await?;
        for r in &rows {
            let id: String = r.try_get("case_id")?;
            let end: String = r.try_get("assistance_end")?;
            if let Some(c) = cases.get_mut(&id) {
                c.followup = Some(FollowupFact {
                    assistance_end: date("assistance_end", &end)?,
                    reached_on: Vec::new(),
                });
            }
        }
        let rows = sqlx::query("SELECT case_id, at FROM followup_contacts WHERE reached = 1")
            .fetch_all(&mut *conn)
            .await?;
        for r in &rows {
            let id: String = r.try_get("case_id")?;
            if let Some(f) = cases.get_mut(&id).and_then(|c| c.followup.as_mut()) {
                f.reached_on.push(day(r.try_get("at")?));
            }
        }

        // The directory's coverage today: every region on the platform and what is offered.
        let mut regions: BTreeSet<String> =
            sqlx::query_scalar::<_, String>("SELECT DISTINCT region FROM organisations")
                .fetch_all(&mut *conn)
                .await?
                .into_iter()
                .collect();
        let offers = sqlx::query("SELECT DISTINCT region, service FROM org_services")
            .fetch_all(&mut *conn)
            .await?;
        let mut offered: HashMap<String, Vec<String>> = HashMap::new();
        for r in &offers {
            let region: String = r.try_get("region")?;
            regions.insert(region.clone());
            offered
                .entry(region)
                .or_default()
                .push(r.try_get("service")?);
        }
        let coverage = regions
            .into_iter()
            .filter(|r| !r.trim().is_empty())
            .map(|r| {
                let s = offered.remove(&r).unwrap_or_default();
                (r, s)
            })
            .collect();

        let rows =
            sqlx::query("SELECT indicator, year, value, source, entered_at FROM indicator_values")
                .fetch_all(&mut *conn)
                .await?;
        let mut manual = Vec::new();
        for r in &rows {
            let value: String = r.try_get("value")?;
            let year: i64 = r.try_get("year")?;
            manual.push(ManualValue {
                indicator: r.try_get("indicator")?,
                year: i32::try_from(year).map_err(|_| StoreError::Data("bad year".into()))?,
                value: value
                    .parse()
                    .map_err(|_| StoreError::Data("bad indicator value".into()))?,
                source: r.try_get("source")?,
                entered_at: r.try_get("entered_at")?,
            });
        }

        Ok(ScoreFacts {
            cases: cases.into_values().collect(),
            shelter_answers,
            coverage,
            manual,
            today,
        })
    }
}

/// The scorecard as CSV (the one tabular writer; text cells formula-guarded).
pub fn scorecard_csv(card: &Scorecard) -> Result<Vec<u8>> {
    dayaq_interchange::scorecard::scorecard_csv(card).map_err(|e| StoreError::Data(e.0))
}

/// The scorecard as an XLSX workbook.
pub fn scorecard_xlsx(card: &Scorecard) -> Result<Vec<u8>> {
    dayaq_interchange::scorecard::scorecard_xlsx(card).map_err(|e| StoreError::Data(e.0))
}
