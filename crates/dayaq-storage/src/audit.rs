//! Append-only, hash-chained audit log.
//!
//! Each row's hash is SHA-256 over its fields and the previous row's hash; `audit_head` holds
//! the last sequence number and hash. Appends serialise on the head row (the first statement of
//! the transaction updates it), so the chain has no forks on either engine. Rows record who,
//! what, which case, when and from where — never personal data (callers pass codes, not text).

use crate::{Result, Store, millis};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit event. `detail` is a short machine code or ids, never personal data.
#[derive(Debug, Clone, Default)]
pub struct AuditEntry {
    pub actor_user: String,
    pub actor_org: String,
    pub action: &'static str,
    pub outcome: &'static str,
    pub case_id: String,
    pub source: String,
    pub detail: String,
}

impl AuditEntry {
    pub fn new(action: &'static str, outcome: &'static str) -> Self {
        Self {
            action,
            outcome,
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuditRow {
    pub seq: i64,
    pub at: i64,
    pub actor_user: String,
    pub actor_org: String,
    pub action: String,
    pub outcome: String,
    pub case_id: String,
    pub source: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

fn row_hash(r: &AuditRow) -> String {
    let mut h = Sha256::new();
    for part in [
        r.seq.to_string().as_str(),
        r.at.to_string().as_str(),
        &r.actor_user,
        &r.actor_org,
        &r.action,
        &r.outcome,
        &r.case_id,
        &r.source,
        &r.detail,
        &r.prev_hash,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Appends one entry inside the caller's transaction (which must not have read anything
/// before on SQLite; use `Store::begin_write`).
pub async fn append(conn: &mut AnyConnection, e: &AuditEntry, now_ms: i64) -> Result<i64> {
    let head = sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut *conn)
        .await?;
    let seq: i64 = head.try_get(0)?;
    let prev: String = head.try_get(1)?;
    let mut row = AuditRow {
        seq,
        at: now_ms,
        actor_user: e.actor_user.clone(),
        actor_org: e.actor_org.clone(),
        action: e.action.to_string(),
        outcome: e.outcome.to_string(),
        case_id: e.case_id.clone(),
        source: e.source.clone(),
        detail: e.detail.clone(),
        prev_hash: prev,
        hash: String::new(),
    };
    row.hash = row_hash(&row);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor_user, actor_org, action, outcome, case_id, source, \
         detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(row.seq)
    .bind(row.at)
    .bind(&row.actor_user)
    .bind(&row.actor_org)
    .bind(&row.action)
    .bind(&row.outcome)
    .bind(&row.case_id)
    .bind(&row.source)
    .bind(&row.detail)
    .bind(&row.prev_hash)
    .bind(&row.hash)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&row.hash)
        .execute(&mut *conn)
        .await?;
    Ok(seq)
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Tamper {
    /// The row's content does not match its hash.
    Edited { seq: i64 },
    /// Sequence numbers jump: rows between were deleted.
    Deleted { after_seq: i64, next_seq: i64 },
    /// The row does not link to its predecessor: inserted or moved.
    BrokenLink { seq: i64 },
    /// The log ends before (or after) the head says it does.
    Truncated { head_seq: i64, last_seq: i64 },
}

impl std::fmt::Display for Tamper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tamper::Edited { seq } => {
                write!(f, "row {seq}: edited (content does not match its hash)")
            }
            Tamper::Deleted {
                after_seq,
                next_seq,
            } => {
                write!(
                    f,
                    "rows {}..{} deleted (after row {after_seq})",
                    after_seq + 1,
                    next_seq - 1
                )
            }
            Tamper::BrokenLink { seq } => {
                write!(
                    f,
                    "row {seq}: inserted or reordered (does not link to the previous row)"
                )
            }
            Tamper::Truncated { head_seq, last_seq } => {
                write!(
                    f,
                    "log ends at row {last_seq} but the head records row {head_seq}"
                )
            }
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub rows: i64,
    pub problems: Vec<Tamper>,
}

impl Store {
    /// Appends one entry in its own durable transaction.
    pub async fn audit(&self, e: AuditEntry, now: time::OffsetDateTime) -> Result<()> {
        let mut tx = self.begin_write().await?;
        append(&mut tx, &e, millis(now)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Walks the whole chain and reports every problem with the row it concerns.
    pub async fn audit_verify(&self) -> Result<VerifyReport> {
        use futures_util::TryStreamExt;
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        let head_seq: i64 = head.try_get(0)?;
        let head_hash: String = head.try_get(1)?;
        let mut problems = Vec::new();
        let mut prev_seq = 0i64;
        let mut prev_hash = GENESIS.to_string();
        let mut n = 0i64;
        let mut rows = sqlx::query(
            "SELECT seq, at, actor_user, actor_org, action, outcome, case_id, source, detail, \
             prev_hash, hash FROM audit_log ORDER BY seq",
        )
        .fetch(&self.pool);
        while let Some(r) = rows.try_next().await? {
            let row = AuditRow {
                seq: r.try_get(0)?,
                at: r.try_get(1)?,
                actor_user: r.try_get(2)?,
                actor_org: r.try_get(3)?,
                action: r.try_get(4)?,
                outcome: r.try_get(5)?,
                case_id: r.try_get(6)?,
                source: r.try_get(7)?,
                detail: r.try_get(8)?,
                prev_hash: r.try_get(9)?,
                hash: r.try_get(10)?,
            };
            n += 1;
            if row_hash(&row) != row.hash {
                problems.push(Tamper::Edited { seq: row.seq });
            }
            if row.seq != prev_seq + 1 {
                problems.push(Tamper::Deleted {
                    after_seq: prev_seq,
                    next_seq: row.seq,
                });
            } else if row.prev_hash != prev_hash {
                problems.push(Tamper::BrokenLink { seq: row.seq });
            }
            prev_seq = row.seq;
            prev_hash = row.hash;
        }
        if prev_seq != head_seq || (head_seq > 0 && prev_hash != head_hash) {
            problems.push(Tamper::Truncated {
                head_seq,
                last_seq: prev_seq,
            });
        }
        Ok(VerifyReport { rows: n, problems })
    }

    /// The most recent audit rows (for auditors), newest first.
    pub async fn audit_recent(&self, limit: i64) -> Result<Vec<AuditRow>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor_user, actor_org, action, outcome, case_id, source, detail, \
             prev_hash, hash FROM audit_log ORDER BY seq DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditRow {
                    seq: r.try_get(0)?,
                    at: r.try_get(1)?,
                    actor_user: r.try_get(2)?,
                    actor_org: r.try_get(3)?,
                    action: r.try_get(4)?,
                    outcome: r.try_get(5)?,
                    case_id: r.try_get(6)?,
                    source: r.try_get(7)?,
                    detail: r.try_get(8)?,
                    prev_hash: r.try_get(9)?,
                    hash: r.try_get(10)?,
                })
            })
            .collect()
    }
}
