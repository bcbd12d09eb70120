//! Archival of old audit rows into sealed segment files (issue #18 part 3).
//!
//! A segment holds a contiguous run of the chain, rows `first..=last`, all older than the
//! cut-off date. Its format (UTF-8, one JSON object per line, `\n`):
//!
//! 1. header: `{"format":"dayaq-audit-segment","version":1,"first_seq":…,"last_seq":…,
//!    "prev_hash":"<hash of row first-1, or the genesis>","last_hash":"…","rows":N,
//!    "before_ms":…,"created_at_ms":…}`
//! 2. N rows, oldest first: every column of `audit_log` (`seq`, `at`, `actor_user`, `actor_org`,
//!    `action`, `outcome`, `case_id`, `source`, `detail`, `prev_hash`, `hash`, `access_grant`);
//! 3. trailer: `{"sha256":"<SHA-256 of every byte before this line>"}`.
//!
//! Offline, [`verify_segment`] recomputes every row hash, the links from `prev_hash` on, the
//! counts and the trailer. Online, the archival removes the rows in one transaction that also
//! writes an anchor (`audit_archive`: last seq and hash, the segment's SHA-256) and appends an
//! `audit.archive` row whose detail repeats the anchor: the live chain then starts after the
//! anchor, and `Store::audit_verify` checks the anchor against that (sealed) row.

use crate::audit::{Anchor, AuditRow, GENESIS, anchor_detail, append, last_anchor, row_hash};
use crate::kernel::Acting;
use crate::{Result, Store, StoreError, millis};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{FromRow, Row};

pub const FORMAT: &str = "dayaq-audit-segment";

/// The segment file's first line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentHeader {
    pub format: String,
    pub version: u32,
    pub first_seq: i64,
    pub last_seq: i64,
    pub prev_hash: String,
    pub last_hash: String,
    pub rows: i64,
    pub before_ms: i64,
    pub created_at_ms: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Trailer {
    sha256: String,
}

#[derive(Debug, Deserialize)]
struct SegmentRow {
    seq: i64,
    at: i64,
    actor_user: String,
    actor_org: String,
    action: String,
    outcome: String,
    case_id: String,
    source: String,
    detail: String,
    prev_hash: String,
    hash: String,
    #[serde(default)]
    access_grant: String,
}

/// What an archival did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveInfo {
    pub first_seq: i64,
    pub last_seq: i64,
    pub rows: i64,
    pub last_hash: String,
    pub segment_sha256: String,
}

/// What [`verify_segment`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentReport {
    pub header: Option<SegmentHeader>,
    pub rows: i64,
    pub sha256: String,
    /// Empty when the segment verifies.
    pub problems: Vec<String>,
}

fn json_line(v: &impl Serialize) -> Result<String> {
    let mut s = serde_json::to_string(v).map_err(|e| StoreError::Data(e.to_string()))?;
    s.push('\n');
    Ok(s)
}

/// Checks a segment file's text offline: header, every row's hash and link, the counts and
/// the trailer's SHA-256. Problems name rows by number, never their content.
pub fn verify_segment(text: &str) -> SegmentReport {
    let mut problems = Vec::new();
    let mut header: Option<SegmentHeader> = None;
    let mut rows = 0i64;
    let mut offset = 0usize;
    let mut trailer: Option<(usize, Trailer)> = None;
    let mut prev: Option<(i64, String)> = None;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += line.len();
        let body = line.trim_end_matches('\n');
        if trailer.is_some() {
            problems.push(format!("line {}: after the trailer", i + 1));
            continue;
        }
        if i == 0 {
            match serde_json::from_str::<SegmentHeader>(body) {
                Ok(h) if h.format == FORMAT && h.version == 1 => {
                    prev = Some((h.first_seq - 1, h.prev_hash.clone()));
                    header = Some(h);
                }
                _ => {
                    problems.push("line 1: not a dayaq audit segment header".into());
                    break;
                }
            }
            continue;
        }
        if let Ok(t) = serde_json::from_str::<Trailer>(body) {
            trailer = Some((start, t));
            continue;
        }
        let Ok(r) = serde_json::from_str::<SegmentRow>(body) else {
            problems.push(format!("line {}: not an audit row", i + 1));
            continue;
        };
        rows += 1;
        let row = AuditRow {
            seq: r.seq,
            at: r.at,
            actor_user: r.actor_user,
            actor_org: r.actor_org,
            action: r.action,
            outcome: r.outcome,
            case_id: r.case_id,
            source: r.source,
            detail: r.detail,
            prev_hash: r.prev_hash,
            hash: r.hash,
            access_grant: r.access_grant,
        };
        if row_hash(&row) != row.hash {
            problems.push(format!(
                "row {}: edited (content does not match its hash)",
                row.seq
            ));
        }
        if let Some((pseq, phash)) = &prev {
            if row.seq != pseq + 1 {
                problems.push(format!("row {}: does not follow row {pseq}", row.seq));
            } else if row.prev_hash != *phash {
                problems.push(format!(
                    "row {}: does not link to the previous row",
                    row.seq
                ));
            }
        }
        prev = Some((row.seq, row.hash));
    }
    let sha256 = match &trailer {
        Some((at, _)) => hex::encode(Sha256::digest(&text.as_bytes()[..*at])),
        None => hex::encode(Sha256::digest(text.as_bytes())),
    };
    match &trailer {
        None => problems.push("the trailer (sha256) is missing: segment cut short".into()),
        Some((_, t)) if t.sha256 != sha256 => {
            problems.push("the trailer's SHA-256 does not match the segment".into())
        }
        _ => {}
    }
    if let Some(h) = &header {
        if h.rows != rows {
            problems.push(format!(
                "the header says {} rows, the segment holds {rows}",
                h.rows
            ));
        }
        match &prev {
            Some((s, hash)) if *s == h.last_seq && *hash == h.last_hash => {}
            _ => problems.push(format!(
                "the segment does not end at row {} with the header's last hash",
                h.last_seq
            )),
        }
    }
    SegmentReport {
        header,
        rows,
        sha256,
        problems,
    }
}

impl Store {
    /// The newest archive anchor (`None` before the first archival).
    pub async fn audit_anchor(&self) -> Result<Option<Anchor>> {
        last_anchor(&self.pool).await
    }

    /// Archives the rows older than `before_ms` that follow the last anchor: writes the
    /// segment to `out` (streaming, in batches), then — after `out` is flushed by the caller's
    /// `sync` — removes them from the live table in one transaction with the new anchor and
    /// an `audit.archive` row. The sealed head's row and everything after it stay live.
    /// `NotFound` when nothing is old enough.
    pub async fn audit_archive<W: std::io::Write>(
        &self,
        before_ms: i64,
        acting: &Acting,
        now: time::OffsetDateTime,
        out: &mut W,
        sync: impl FnOnce(&mut W) -> std::io::Result<()>,
    ) -> Result<ArchiveInfo> {
        let (start_seq, start_hash) = match last_anchor(&self.pool).await? {
            Some(a) => (a.last_seq, a.last_hash),
            None => (0, GENESIS.to_string()),
        };
        let h = sqlx::query("SELECT seq, mac_seq FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        let head_seq: i64 = h.try_get("seq")?;
        let mac_seq: i64 = h.try_get("mac_seq")?;
        // The sealed row must stay (the next commit checks the seal against it).
        let keep_from = if mac_seq > 0 {
            head_seq.min(mac_seq)
        } else {
            head_seq
        };
        let first_young: Option<i64> = sqlx::query_scalar(
            "SELECT seq FROM audit_log WHERE seq > $1 AND at >= $2 ORDER BY seq LIMIT 1",
        )
        .bind(start_seq)
        .bind(before_ms)
        .fetch_optional(&self.pool)
        .await?;
        let last_seq = first_young.unwrap_or(head_seq + 1).min(keep_from) - 1;
        if last_seq <= start_seq {
            return Err(StoreError::NotFound);
        }
        let first_seq = start_seq + 1;
        let last_hash: String = sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = $1")
            .bind(last_seq)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::Data(format!("row {last_seq} is missing")))?;
        let header = SegmentHeader {
            format: FORMAT.into(),
            version: 1,
            first_seq,
            last_seq,
            prev_hash: start_hash,
            last_hash: last_hash.clone(),
            rows: last_seq - start_seq,
            before_ms,
            created_at_ms: millis(now),
        };
        let mut sha = Sha256::new();
        let mut write = |s: &str, sha: &mut Sha256| -> Result<()> {
            sha.update(s.as_bytes());
            out.write_all(s.as_bytes())?;
            Ok(())
        };
        write(&json_line(&header)?, &mut sha)?;
        let mut cursor = start_seq;
        let mut written = 0i64;
        const BATCH: i64 = 10_000;
        while cursor < last_seq {
            // Constant text only (the column list and the batch size); values are bound.
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {} FROM audit_log WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT {BATCH}",
                super::COLUMNS
            )))
            .bind(cursor)
            .bind(last_seq)
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                let row = AuditRow::from_row(r)?;
                if row.seq != cursor + 1 {
                    return Err(StoreError::Data(format!(
                        "rows after {cursor} are missing: run `dayaq audit verify`"
                    )));
                }
                cursor = row.seq;
                written += 1;
                write(&json_line(&row)?, &mut sha)?;
            }
        }
        if written != header.rows {
            return Err(StoreError::Data(
                "the rows to archive are incomplete: run `dayaq audit verify`".into(),
            ));
        }
        let digest = hex::encode(sha.finalize());
        let trailer = json_line(&Trailer {
            sha256: digest.clone(),
        })?;
        out.write_all(trailer.as_bytes())?;
        sync(out)?;
        let anchor = Anchor {
            first_seq,
            last_seq,
            last_hash: last_hash.clone(),
            segment_sha256: digest.clone(),
        };
        let mut tx = self.begin_write().await?;
        let mut e = acting.entry("audit.archive", "success");
        e.detail = anchor_detail(&anchor);
        append(&mut tx, &e, millis(now)).await?;
        let current: Option<i64> = sqlx::query_scalar("SELECT MAX(last_seq) FROM audit_archive")
            .fetch_one(&mut *tx)
            .await?;
        if current.unwrap_or(0) != start_seq {
            return Err(StoreError::Conflict);
        }
        sqlx::query(
            "INSERT INTO audit_archive (last_seq, first_seq, first_prev_hash, last_hash, \
             row_count, segment_sha256, archived_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(last_seq)
        .bind(first_seq)
        .bind(&header.prev_hash)
        .bind(&last_hash)
        .bind(header.rows)
        .bind(&digest)
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM audit_log WHERE seq >= $1 AND seq <= $2")
            .bind(first_seq)
            .bind(last_seq)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(ArchiveInfo {
            first_seq,
            last_seq,
            rows: header.rows,
            last_hash,
            segment_sha256: digest,
        })
    }
}
