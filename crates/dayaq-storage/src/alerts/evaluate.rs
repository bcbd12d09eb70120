//! The evaluation job: reads the audit rows written since the last evaluated row (cursor
//! `alert_state.last_seq`) in batches, loads the window each rule needs, asks the domain's
//! pure rules and stores their alerts. The search rule needs the hours after a read, so it
//! has its own cursor (`deferred_seq`) that moves only over rows whose window has passed.
//! Idempotent: every proposal has a deterministic key (`alerts.dedup_key` is unique) and the
//! windowed rules leave out rows an earlier alert of the same rule and subject already holds.

use crate::audit::{AuditEntry, append};
use crate::kernel::millis;
use crate::{Result, Store};
use dayaq_domain::oversight::{
    AlertDraft, AuditFact, IDENTITY_READ, Rule, RulesConfig, SEARCH, break_glass, bulk_export,
    identity_baseline, is_read, is_signin_failure, local_date, off_hours, repeated_denials,
    search_without_work, signin_failures,
};
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet};
use time::OffsetDateTime;
use uuid::Uuid;

/// Rows read per batch.
const BATCH: i64 = 5000;
const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;

const FACT_COLS: &str = "seq, at, actor_user, actor_org, action, outcome, case_id, source, detail";

/// What one evaluation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EvalReport {
    /// Audit rows judged by the immediate rules.
    pub rows: i64,
    /// New alerts.
    pub raised: i64,
    /// The evaluated row cursors after the run.
    pub last_seq: i64,
    pub deferred_seq: i64,
}

fn fact(r: &sqlx::any::AnyRow) -> Result<AuditFact> {
    Ok(AuditFact {
        seq: r.try_get("seq")?,
        at: r.try_get("at")?,
        user: r.try_get("actor_user")?,
        org: r.try_get("actor_org")?,
        action: r.try_get("action")?,
        outcome: r.try_get("outcome")?,
        case_id: r.try_get("case_id")?,
        source: r.try_get("source")?,
        detail: r.try_get("detail")?,
    })
}

impl Store {
    async fn facts(&self, sql: String, binds: &[Bind<'_>]) -> Result<Vec<AuditFact>> {
        // Built only from constant column lists; every value is bound.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in binds {
            q = match b {
                Bind::I(v) => q.bind(*v),
                Bind::S(v) => q.bind(*v),
            };
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(fact).collect()
    }

    async fn alert_cursors(&self) -> Result<(i64, i64)> {
        let r = sqlx::query("SELECT last_seq, deferred_seq FROM alert_state WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok((r.try_get("last_seq")?, r.try_get("deferred_seq")?))
    }

    /// Per subject (user, or source address), the last audit row an alert of `rule` holds.
    async fn last_alerted(&self, rule: Rule, by_source: bool) -> Result<BTreeMap<String, i64>> {
        let col = if by_source {
            "subject_source"
        } else {
            "subject_user"
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT a.{col} AS subject, MAX(r.seq) AS last FROM alerts a \
             JOIN alert_rows r ON r.alert_id = a.id WHERE a.rule = $1 GROUP BY a.{col}"
        )))
        .bind(rule.name())
        .fetch_all(&self.pool)
        .await?;
        let mut out = BTreeMap::new();
        for r in &rows {
            out.insert(r.try_get::<String, _>("subject")?, r.try_get("last")?);
        }
        Ok(out)
    }

    /// Evaluates the rules over the audit rows written since the last run (and the search
    /// rule over the rows whose window ended before `now`); stores new alerts.
    pub async fn evaluate_alerts(
        &self,
        cfg: &RulesConfig,
        now: OffsetDateTime,
    ) -> Result<EvalReport> {
        let mut report = EvalReport::default();
        loop {
            let (last, _) = self.alert_cursors().await?;
            let rows = self
                .facts(
                    format!(
                        "SELECT {FACT_COLS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT {BATCH}"
                    ),
                    &[Bind::I(last)],
                )
                .await?;
            let (Some(first), Some(end)) = (rows.first(), rows.last()) else {
                break;
            };
            let (from, to) = (first.seq, end.seq);
            let mut drafts = break_glass(&rows, cfg);
            drafts.extend(bulk_export(&rows, cfg));
            drafts.extend(off_hours(&rows, cfg));
            drafts.extend(self.windowed(&rows, from, to, cfg).await?);
            drafts.extend(self.baseline(&rows, to, cfg).await?);
            report.raised += self.store_alerts(&drafts, now, Some(to), None).await?;
            report.rows += rows.len() as i64;
            if (rows.len() as i64) < BATCH {
                break;
            }
        }
        // The search rule, over rows whose window has passed.
        let cutoff = millis(now) - i64::from(cfg.search_without_work.hours) * 3_600_000;
        loop {
            let (_, deferred) = self.alert_cursors().await?;
            let rows = self
                .facts(
                    format!(
                        "SELECT {FACT_COLS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT {BATCH}"
                    ),
                    &[Bind::I(deferred)],
                )
                .await?;
            let mut judged = deferred;
            let mut drafts = Vec::new();
            let mut stopped = false;
            for r in &rows {
                if r.at > cutoff {
                    stopped = true;
                    break;
                }
                if is_read(r)
                    && let Some(d) = self.search_rule(r, cfg).await?
                {
                    drafts.push(d);
                }
                judged = r.seq;
            }
            if judged > deferred {
                report.raised += self.store_alerts(&drafts, now, None, Some(judged)).await?;
            }
            if stopped || (rows.len() as i64) < BATCH {
                break;
            }
        }
        let (last, deferred) = self.alert_cursors().await?;
        report.last_seq = last;
        report.deferred_seq = deferred;
        Ok(report)
    }

    /// Repeated refusals and failed sign-ins: the new rows and the window before them.
    async fn windowed(
        &self,
        rows: &[AuditFact],
        from: i64,
        to: i64,
        cfg: &RulesConfig,
    ) -> Result<Vec<AlertDraft>> {
        let mut out = Vec::new();
        if let Some(min_at) = rows
            .iter()
            .filter(|f| f.outcome == "denied")
            .map(|f| f.at)
            .min()
        {
            let window = i64::from(cfg.repeated_denials.minutes) * MINUTE_MS;
            let ctx = self
                .facts(
                    format!(
                        "SELECT {FACT_COLS} FROM audit_log WHERE outcome = 'denied' AND at > $1 \
                         AND seq <= $2 ORDER BY seq"
                    ),
                    &[Bind::I(min_at - window), Bind::I(to)],
                )
                .await?;
            let last = self.last_alerted(Rule::RepeatedDenials, false).await?;
            out.extend(repeated_denials(&ctx, &last, from, cfg));
        }
        if let Some(min_at) = rows
            .iter()
            .filter(|f| is_signin_failure(f))
            .map(|f| f.at)
            .min()
        {
            let window = i64::from(cfg.signin_failures.minutes) * MINUTE_MS;
            let ctx = self
                .facts(
                    format!(
                        "SELECT {FACT_COLS} FROM audit_log WHERE action = 'auth.login' \
                         AND outcome = 'failure' AND at > $1 AND seq <= $2 ORDER BY seq"
                    ),
                    &[Bind::I(min_at - window), Bind::I(to)],
                )
                .await?;
            let accounts = self
                .last_alerted(Rule::SigninFailuresAccount, false)
                .await?;
            let sources = self.last_alerted(Rule::SigninFailuresSource, true).await?;
            out.extend(signin_failures(&ctx, &accounts, &sources, from, cfg));
        }
        Ok(out)
    }

    /// Identity reads above the user's own baseline, for every user and local day the new rows
    /// touch.
    async fn baseline(
        &self,
        rows: &[AuditFact],
        to: i64,
        cfg: &RulesConfig,
    ) -> Result<Vec<AlertDraft>> {
        let b = &cfg.identity_baseline;
        let mut days: BTreeSet<(String, String, i64)> = BTreeSet::new();
        for f in rows
            .iter()
            .filter(|f| f.action == IDENTITY_READ && f.outcome == "success" && !f.user.is_empty())
        {
            let hours = cfg.hours_of(&f.org);
            let local = hours.local(f.at);
            let midnight = local.replace_time(time::Time::MIDNIGHT);
            days.insert((f.user.clone(), f.org.clone(), millis(midnight)));
        }
        let mut out = Vec::new();
        for (user, org, start) in days {
            let date = local_date(cfg.hours_of(&org), start);
            let key = format!("{}:{user}:{date}", Rule::IdentityBaseline.name());
            let known: Option<String> =
                sqlx::query_scalar("SELECT id FROM alerts WHERE dedup_key = $1")
                    .bind(&key)
                    .fetch_optional(&self.pool)
                    .await?;
            if known.is_some() {
                continue;
            }
            let day_reads = self
                .facts(
                    format!(
                        "SELECT {FACT_COLS} FROM audit_log WHERE actor_user = $1 AND action = $2 \
                         AND outcome = 'success' AND at >= $3 AND at < $4 AND seq <= $5 ORDER BY seq"
                    ),
                    &[
                        Bind::S(&user),
                        Bind::S(IDENTITY_READ),
                        Bind::I(start),
                        Bind::I(start + DAY_MS),
                        Bind::I(to),
                    ],
                )
                .await?;
            if (day_reads.len() as u64) <= u64::from(b.floor) {
                continue;
            }
            let days_back = i64::from(b.days);
            let before: Vec<i64> = sqlx::query_scalar(
                "SELECT at FROM audit_log WHERE actor_user = $1 AND action = $2 \
                 AND outcome = 'success' AND at >= $3 AND at < $4",
            )
            .bind(&user)
            .bind(IDENTITY_READ)
            .bind(start - days_back * DAY_MS)
            .bind(start)
            .fetch_all(&self.pool)
            .await?;
            let mut history = vec![0u32; b.days as usize];
            for at in before {
                let i = ((start - at - 1) / DAY_MS) as usize;
                if let Some(h) = history.get_mut(i) {
                    *h += 1;
                }
            }
            out.extend(identity_baseline(&day_reads, &history, &date, cfg));
        }
        Ok(out)
    }

    /// The search rule for one read whose window has passed.
    async fn search_rule(&self, read: &AuditFact, cfg: &RulesConfig) -> Result<Option<AlertDraft>> {
        let s = &cfg.search_without_work;
        let searches = self
            .facts(
                format!(
                    "SELECT {FACT_COLS} FROM audit_log WHERE actor_user = $1 AND action = $2 \
                     AND outcome = 'success' AND at >= $3 AND at <= $4 AND seq < $5"
                ),
                &[
                    Bind::S(&read.user),
                    Bind::S(SEARCH),
                    Bind::I(read.at - i64::from(s.search_minutes) * MINUTE_MS),
                    Bind::I(read.at),
                    Bind::I(read.seq),
                ],
            )
            .await?;
        if searches.is_empty() {
            return Ok(None);
        }
        let prior: Option<i64> = sqlx::query_scalar(
            "SELECT seq FROM audit_log WHERE actor_user = $1 AND case_id = $2 AND seq < $3 LIMIT 1",
        )
        .bind(&read.user)
        .bind(&read.case_id)
        .bind(read.seq)
        .fetch_optional(&self.pool)
        .await?;
        let after = self
            .facts(
                format!(
                    "SELECT {FACT_COLS} FROM audit_log WHERE actor_user = $1 AND case_id = $2 \
                     AND seq > $3 AND at <= $4"
                ),
                &[
                    Bind::S(&read.user),
                    Bind::S(&read.case_id),
                    Bind::I(read.seq),
                    Bind::I(read.at + i64::from(s.hours) * 3_600_000),
                ],
            )
            .await?;
        Ok(search_without_work(
            read,
            &searches,
            prior.is_some(),
            &after,
            cfg,
        ))
    }

    /// Stores the proposals (a known key adds its rows to the existing alert) and moves the
    /// cursors, in one transaction; audited (`alerts.evaluate`, detail `raised=N`) when
    /// alerts were raised. Returns the number of new alerts.
    async fn store_alerts(
        &self,
        drafts: &[AlertDraft],
        now: OffsetDateTime,
        last_seq: Option<i64>,
        deferred_seq: Option<i64>,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let mut raised = 0;
        for d in drafts {
            let inserted = sqlx::query(
                "INSERT INTO alerts (id, dedup_key, rule, severity, org_id, subject_user, \
                 subject_source, raised_at, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open') \
                 ON CONFLICT (dedup_key) DO NOTHING",
            )
            .bind(Uuid::new_v4().to_string())
            .bind(&d.key)
            .bind(d.rule.name())
            .bind(d.severity.name())
            .bind(&d.org)
            .bind(&d.subject_user)
            .bind(&d.subject_source)
            .bind(millis(now))
            .execute(&mut *tx)
            .await?;
            raised += inserted.rows_affected() as i64;
            let id: String = sqlx::query_scalar("SELECT id FROM alerts WHERE dedup_key = $1")
                .bind(&d.key)
                .fetch_one(&mut *tx)
                .await?;
            for seq in &d.seqs {
                sqlx::query(
                    "INSERT INTO alert_rows (alert_id, seq) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                )
                .bind(&id)
                .bind(*seq)
                .execute(&mut *tx)
                .await?;
            }
        }
        if let Some(s) = last_seq {
            sqlx::query(
                "UPDATE alert_state SET last_seq = CASE WHEN last_seq < $1 THEN $1 ELSE last_seq END WHERE id = 1",
            )
            .bind(s)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(s) = deferred_seq {
            sqlx::query(
                "UPDATE alert_state SET deferred_seq = CASE WHEN deferred_seq < $1 THEN $1 ELSE deferred_seq END WHERE id = 1",
            )
            .bind(s)
            .execute(&mut *tx)
            .await?;
        }
        if raised > 0 {
            let mut e = AuditEntry::new("alerts.evaluate", "success");
            e.actor_user = "system:alerts".into();
            e.source = "job".into();
            e.detail = format!("raised={raised}");
            append(&mut tx, &e, millis(now)).await?;
        }
        tx.commit().await?;
        Ok(raised)
    }
}

enum Bind<'a> {
    I(i64),
    S(&'a str),
}
