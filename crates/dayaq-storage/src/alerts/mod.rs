//! Access-anomaly alerts (issue #18 part 2): the evaluation job over new audit rows
//! (`evaluate.rs`) and the alerts' list and acknowledgement.
//!
//! Authorised by `Action::ReadAlerts` / `Action::AcknowledgeAlert`: on `Resource::System`
//! (auditors: every alert) or else on the actor's own organisation (its administrator: the
//! alerts whose `org_id` is that organisation). A refusal is audited (`access.denied`, detail
//! `table=alerts reason=…`); every list view is audited (`alerts.list`), every acknowledgement
//! (`alerts.acknowledge`, detail `alert=ID rule=R` — never the note) in the same transaction
//! as the change. Nobody acknowledges an alert about themselves.

mod evaluate;

pub use evaluate::EvalReport;

use crate::audit::append;
use crate::kernel::{Acting, Ctx, from_millis, millis};
use crate::{Result, Store, StoreError};
use dayaq_domain::oversight::{AlertState, Rule, validate_note};
use dayaq_domain::policy::{Action, Resource, decide};
use sqlx::Row;
use time::OffsetDateTime;
use uuid::Uuid;

/// What the policy allowed: every alert, or one organisation's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    All,
    Org(Uuid),
}

/// Proof that the policy allowed `action` on alerts to this request's actor; made only by
/// [`Store::authorize_alerts`].
#[derive(Debug, Clone, Copy)]
pub struct AlertAccess<'a> {
    ctx: Ctx<'a>,
    action: Action,
    scope: Scope,
}

impl AlertAccess<'_> {
    /// Whether the actor sees every organisation's alerts (auditors).
    pub fn all_organisations(&self) -> bool {
        self.scope == Scope::All
    }
}

/// One alert as stored (ids and codes only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRow {
    pub id: Uuid,
    pub rule: String,
    pub severity: String,
    /// Empty: no organisation (auditors only).
    pub org_id: String,
    pub subject_user: String,
    pub subject_source: String,
    pub raised_at: OffsetDateTime,
    pub state: String,
    pub ack_by: Option<String>,
    pub ack_at: Option<OffsetDateTime>,
    pub ack_note: Option<String>,
    /// The audit rows (`audit_log.seq`) it is linked to, ascending.
    pub seqs: Vec<i64>,
}

/// List filters.
#[derive(Debug, Clone, Copy, Default)]
pub struct AlertFilter {
    pub state: Option<AlertState>,
    pub rule: Option<Rule>,
}

/// The newest alerts a list shows.
pub const LIST_LIMIT: i64 = 200;

const COLS: &str = "id, rule, severity, org_id, subject_user, subject_source, raised_at, \
                    state, ack_by, ack_at, ack_note";

impl Store {
    /// Asks the policy (`ReadAlerts` or `AcknowledgeAlert`): on the system (every alert),
    /// else on the actor's organisation. A refusal is audited and answered 403.
    pub async fn authorize_alerts<'a>(
        &self,
        ctx: &Ctx<'a>,
        action: Action,
    ) -> Result<AlertAccess<'a>> {
        let known = matches!(action, Action::ReadAlerts | Action::AcknowledgeAlert);
        let all = decide(ctx.actor, action, Resource::System);
        let own = decide(ctx.actor, action, Resource::Organisation(ctx.actor.org_id));
        let scope = if !known {
            None
        } else if all.allowed {
            Some(Scope::All)
        } else if own.allowed {
            Some(Scope::Org(ctx.actor.org_id))
        } else {
            None
        };
        if let Some(scope) = scope {
            return Ok(AlertAccess {
                ctx: *ctx,
                action,
                scope,
            });
        }
        let reason = if known { own.reason } else { "no_rule" };
        let mut e = ctx.entry("access.denied", "denied", "");
        e.detail = format!("table=alerts reason={reason}");
        self.audit(e, ctx.now).await?;
        Err(StoreError::Forbidden(reason))
    }

    /// The newest alerts the access allows ([`LIST_LIMIT`]), newest first; audited.
    pub async fn alerts(
        &self,
        access: &AlertAccess<'_>,
        filter: AlertFilter,
        via: &'static str,
    ) -> Result<Vec<AlertRow>> {
        let rows = self.alert_rows(Some(access.scope), filter).await?;
        let ctx = &access.ctx;
        let mut e = ctx.entry("alerts.list", "success", "");
        e.detail = format!(
            "state={} rule={} count={} via={via}",
            filter.state.map_or("all", AlertState::name),
            filter.rule.map_or("all", Rule::name),
            rows.len()
        );
        self.audit(e, ctx.now).await?;
        Ok(rows)
    }

    /// Every alert (newest first, [`LIST_LIMIT`]), for the command line (the operator).
    pub async fn alerts_cli(&self, filter: AlertFilter) -> Result<Vec<AlertRow>> {
        self.alert_rows(None, filter).await
    }

    async fn alert_rows(&self, scope: Option<Scope>, f: AlertFilter) -> Result<Vec<AlertRow>> {
        let mut sql = format!("SELECT {COLS} FROM alerts WHERE 1 = 1");
        let mut binds: Vec<String> = Vec::new();
        if let Some(Scope::Org(org)) = scope {
            binds.push(org.to_string());
            sql.push_str(&format!(" AND org_id = ${}", binds.len()));
        }
        if let Some(s) = f.state {
            binds.push(s.name().to_string());
            sql.push_str(&format!(" AND state = ${}", binds.len()));
        }
        if let Some(r) = f.rule {
            binds.push(r.name().to_string());
            sql.push_str(&format!(" AND rule = ${}", binds.len()));
        }
        sql.push_str(&format!(" ORDER BY raised_at DESC, id LIMIT {LIST_LIMIT}"));
        // Only constant fragments and numbered placeholders; every value is bound.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in &binds {
            q = q.bind(b);
        }
        let mut conn = self.pool.acquire().await?;
        let rows = q.fetch_all(&mut *conn).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(read_alert(&mut conn, r).await?);
        }
        Ok(out)
    }

    /// One alert the access allows (`NotFound` otherwise).
    async fn visible_alert(&self, scope: Option<Scope>, id: Uuid) -> Result<AlertRow> {
        let mut conn = self.pool.acquire().await?;
        let r = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM alerts WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
        let a = read_alert(&mut conn, &r).await?;
        match scope {
            Some(Scope::Org(org)) if a.org_id != org.to_string() => Err(StoreError::NotFound),
            _ => Ok(a),
        }
    }

    /// Acknowledges an open alert with a note (checked: one short line); audited without the
    /// note. Not visible → `NotFound`; about the actor → `Forbidden("own_alert")`; already
    /// acknowledged → `Conflict`.
    pub async fn acknowledge_alert(
        &self,
        access: &AlertAccess<'_>,
        id: Uuid,
        note: &str,
    ) -> Result<AlertRow> {
        if access.action != Action::AcknowledgeAlert {
            return Err(StoreError::Forbidden("role_cannot_acknowledge_alerts"));
        }
        let ctx = &access.ctx;
        let a = self.visible_alert(Some(access.scope), id).await?;
        if a.subject_user == ctx.actor.user_id.to_string() {
            let mut e = ctx.entry("access.denied", "denied", "");
            e.detail = format!("table=alerts alert={id} reason=own_alert");
            self.audit(e, ctx.now).await?;
            return Err(StoreError::Forbidden("own_alert"));
        }
        let note = validate_note(note)?;
        let by = Acting::user(ctx.actor, ctx.source);
        self.ack(&by, &a, &note, ctx.now).await?;
        self.visible_alert(None, id).await
    }

    /// [`Store::acknowledge_alert`] for the command line (the operator, `cli:<os user>`).
    pub async fn acknowledge_alert_cli(
        &self,
        by: &Acting,
        id: Uuid,
        note: &str,
        now: OffsetDateTime,
    ) -> Result<AlertRow> {
        let a = self.visible_alert(None, id).await?;
        let note = validate_note(note)?;
        self.ack(by, &a, &note, now).await?;
        self.visible_alert(None, id).await
    }

    async fn ack(&self, by: &Acting, a: &AlertRow, note: &str, now: OffsetDateTime) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE alerts SET state = 'acknowledged', ack_by = $1, ack_at = $2, ack_note = $3 \
             WHERE id = $4 AND state = 'open'",
        )
        .bind(&by.user)
        .bind(millis(now))
        .bind(note)
        .bind(a.id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Conflict);
        }
        let mut e = by.entry("alerts.acknowledge", "success");
        e.detail = format!("alert={} rule={}", a.id, a.rule);
        append(&mut tx, &e, millis(now)).await?;
        tx.commit().await
    }

    /// Open alerts per rule (every rule listed, zeros included), for `/metrics`.
    pub async fn open_alert_counts(&self) -> Result<Vec<(&'static str, i64)>> {
        let rows = sqlx::query(
            "SELECT rule, COUNT(*) AS n FROM alerts WHERE state = 'open' GROUP BY rule",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<(&'static str, i64)> = Rule::ALL.iter().map(|r| (r.name(), 0)).collect();
        for r in &rows {
            let rule: String = r.try_get("rule")?;
            let n: i64 = r.try_get("n")?;
            if let Some(slot) = out.iter_mut().find(|(name, _)| *name == rule) {
                slot.1 = n;
            }
        }
        Ok(out)
    }
}

async fn read_alert(conn: &mut sqlx::AnyConnection, r: &sqlx::any::AnyRow) -> Result<AlertRow> {
    let id: String = r.try_get("id")?;
    let seqs: Vec<i64> =
        sqlx::query_scalar("SELECT seq FROM alert_rows WHERE alert_id = $1 ORDER BY seq")
            .bind(&id)
            .fetch_all(&mut *conn)
            .await?;
    Ok(AlertRow {
        id: Uuid::parse_str(&id).map_err(|_| StoreError::Data("alert id".into()))?,
        rule: r.try_get("rule")?,
        severity: r.try_get("severity")?,
        org_id: r.try_get("org_id")?,
        subject_user: r.try_get("subject_user")?,
        subject_source: r.try_get("subject_source")?,
        raised_at: from_millis(r.try_get("raised_at")?),
        state: r.try_get("state")?,
        ack_by: r.try_get("ack_by")?,
        ack_at: r.try_get::<Option<i64>, _>("ack_at")?.map(from_millis),
        ack_note: r.try_get("ack_note")?,
        seqs,
    })
}
