//! The audit viewer (issue #18 part 1): filtered, keyset-paged reads of `audit_log` for
//! auditors (every row) and organisation administrators (their organisation's rows), the
//! JSON-lines export and the tail. Every read is itself audited (`audit.view`,
//! `audit.export`, `audit.tail`), a refusal too (`access.denied`, `table=audit`).
//!
//! Rows hold ids and codes only (see `audit.rs`); nothing here joins case content.

pub mod archive;

use crate::audit::{AuditEntry, AuditRow, append};
use crate::kernel::{Acting, Ctx};
use crate::{Result, Store, StoreError, millis};
use dayaq_domain::audit_view::{AuditFilter, Kind, describe};
use dayaq_domain::policy::{Action, Resource, decide};
use sqlx::FromRow;
use uuid::Uuid;

/// Which rows a reader may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditScope {
    /// Every row (auditors, the command line).
    All,
    /// Rows whose actor belongs to this organisation (its administrator).
    Organisation(Uuid),
}

impl AuditScope {
    pub fn name(&self) -> &'static str {
        match self {
            AuditScope::All => "all",
            AuditScope::Organisation(_) => "organisation",
        }
    }
}

/// Proof that the policy allowed a reader the audit viewer, with the scope it allowed.
#[derive(Debug, Clone, Copy)]
pub struct AuditViewAccess<'a> {
    ctx: Ctx<'a>,
    scope: AuditScope,
}

impl AuditViewAccess<'_> {
    pub fn scope(&self) -> AuditScope {
        self.scope
    }
}

/// One page, newest first; `next_before` is the cursor of the next (older) page.
#[derive(Debug, Clone)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    pub next_before: Option<i64>,
}

/// The columns every viewer query reads.
pub(crate) const COLUMNS: &str = "seq, at, actor_user, actor_org, action, outcome, case_id, \
                                  source, detail, prev_hash, hash, access_grant";

enum Bind {
    Int(i64),
    Text(String),
}

/// The WHERE clause of a filter in a scope, with its parameters ($1.. in order).
fn conditions(scope: AuditScope, f: &AuditFilter) -> (String, Vec<Bind>) {
    let mut conds: Vec<String> = Vec::new();
    let mut binds: Vec<Bind> = Vec::new();
    let mut push = |cond: &str, b: Bind, conds: &mut Vec<String>| {
        binds.push(b);
        conds.push(cond.replace('?', &format!("${}", binds.len())));
    };
    if let AuditScope::Organisation(o) = scope {
        push("actor_org = ?", Bind::Text(o.to_string()), &mut conds);
    }
    if let Some(c) = f.case_id {
        push("case_id = ?", Bind::Text(c.to_string()), &mut conds);
    }
    if let Some(u) = &f.user {
        push("actor_user = ?", Bind::Text(u.clone()), &mut conds);
    }
    if let Some(o) = f.org {
        push("actor_org = ?", Bind::Text(o.to_string()), &mut conds);
    }
    if let Some(a) = &f.action {
        push("action = ?", Bind::Text(a.clone()), &mut conds);
    }
    if let Some(o) = &f.outcome {
        push("outcome = ?", Bind::Text(o.clone()), &mut conds);
    }
    if let Some(g) = &f.grant {
        push("access_grant = ?", Bind::Text(g.clone()), &mut conds);
    }
    if let Some(k) = f.kind {
        let actions = k.actions();
        if !actions.is_empty() {
            let mut marks = Vec::new();
            for a in actions {
                binds.push(Bind::Text((*a).to_string()));
                marks.push(format!("${}", binds.len()));
            }
            conds.push(format!("action IN ({})", marks.join(", ")));
        }
        match k {
            Kind::Denied => conds.push("outcome = 'denied'".into()),
            k if k.only_failures() => conds.push("outcome <> 'success'".into()),
            _ => {}
        }
    }
    let mut push = |cond: &str, b: Bind, conds: &mut Vec<String>| {
        binds.push(b);
        conds.push(cond.replace('?', &format!("${}", binds.len())));
    };
    if let Some(s) = f.since_ms {
        push("at >= ?", Bind::Int(s), &mut conds);
    }
    if let Some(u) = f.until_ms {
        push("at < ?", Bind::Int(u), &mut conds);
    }
    if let Some(b) = f.before {
        push("seq < ?", Bind::Int(b), &mut conds);
    }
    if let Some(a) = f.after {
        push("seq > ?", Bind::Int(a), &mut conds);
    }
    let clause = if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    };
    (clause, binds)
}

impl Store {
    /// Asks the policy: every row (`ReadAudit` on the system: auditors), else the actor's
    /// organisation's rows (`ReadAudit` on it: its administrator). A refusal is audited.
    pub async fn authorize_audit_view<'a>(&self, ctx: &Ctx<'a>) -> Result<AuditViewAccess<'a>> {
        if decide(ctx.actor, Action::ReadAudit, Resource::System).allowed {
            return Ok(AuditViewAccess {
                ctx: *ctx,
                scope: AuditScope::All,
            });
        }
        let org = ctx.actor.org_id;
        let d = decide(ctx.actor, Action::ReadAudit, Resource::Organisation(org));
        if d.allowed {
            return Ok(AuditViewAccess {
                ctx: *ctx,
                scope: AuditScope::Organisation(org),
            });
        }
        let mut e = ctx.entry("access.denied", "denied", "");
        e.detail = format!("table=audit reason={}", d.reason);
        self.audit(e, ctx.now).await?;
        Err(StoreError::Forbidden(d.reason))
    }

    /// Rows of the filter in the scope: newest first below `before` (the viewer), or oldest
    /// first above `after` (export, tail). Not audited: the callers audit the read.
    pub async fn audit_rows(&self, scope: AuditScope, f: &AuditFilter) -> Result<Vec<AuditRow>> {
        let (clause, binds) = conditions(scope, f);
        let order = if f.after.is_some() { "ASC" } else { "DESC" };
        let sql = format!(
            "SELECT {COLUMNS} FROM audit_log{clause} ORDER BY seq {order} LIMIT {}",
            f.limit.clamp(1, 100_000)
        );
        // The text is built from constant fragments and numbered placeholders only; every
        // value (ids, codes, times, the cursor) is bound.
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in binds {
            q = match b {
                Bind::Int(i) => q.bind(i),
                Bind::Text(t) => q.bind(t),
            };
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok(AuditRow::from_row(r)?)).collect()
    }

    /// One page of the viewer (newest first, keyset on `seq`), audited as `audit.view` with
    /// the filter's field names and ids (`via` = `api` or `page`).
    pub async fn audit_page(
        &self,
        access: &AuditViewAccess<'_>,
        f: &AuditFilter,
        via: &'static str,
    ) -> Result<AuditPage> {
        let mut probe = f.clone();
        probe.after = None;
        probe.limit = f.limit + 1;
        let mut rows = self.audit_rows(access.scope, &probe).await?;
        let next_before = if rows.len() as i64 > f.limit {
            rows.truncate(f.limit as usize);
            rows.last().map(|r| r.seq)
        } else {
            None
        };
        let case = f.case_id.map(|c| c.to_string()).unwrap_or_default();
        let mut e = access.ctx.entry("audit.view", "success", &case);
        e.detail = audit_detail(via, access.scope, f, rows.len());
        self.audit(e, access.ctx.now).await?;
        Ok(AuditPage { rows, next_before })
    }

    /// Records a read of the audit log by the viewer's reader (`audit.export` of the API).
    pub async fn audit_record_read(
        &self,
        access: &AuditViewAccess<'_>,
        action: &'static str,
        f: &AuditFilter,
        via: &'static str,
        rows: usize,
    ) -> Result<()> {
        let case = f.case_id.map(|c| c.to_string()).unwrap_or_default();
        let mut e = access.ctx.entry(action, "success", &case);
        e.detail = audit_detail(via, access.scope, f, rows);
        self.audit(e, access.ctx.now).await
    }

    /// Records a read of the audit log from the command line (`audit.export`, `audit.tail`).
    pub async fn audit_record_cli_read(
        &self,
        acting: &Acting,
        action: &'static str,
        f: &AuditFilter,
        rows: usize,
        now: time::OffsetDateTime,
    ) -> Result<()> {
        let mut e: AuditEntry = acting.entry(action, "success");
        e.case_id = f.case_id.map(|c| c.to_string()).unwrap_or_default();
        e.detail = audit_detail("cli", AuditScope::All, f, rows);
        let mut tx = self.begin_write().await?;
        append(&mut tx, &e, millis(now)).await?;
        tx.commit().await
    }

    /// The last row number of the log (the tail starts after it).
    pub async fn audit_last_seq(&self) -> Result<i64> {
        self.audit_head_seq().await
    }
}

fn audit_detail(via: &str, scope: AuditScope, f: &AuditFilter, rows: usize) -> String {
    let d = describe(f);
    let mut s = format!("via={via} scope={} rows={rows}", scope.name());
    if !d.is_empty() {
        s.push(' ');
        s.push_str(&d);
    }
    s
}
