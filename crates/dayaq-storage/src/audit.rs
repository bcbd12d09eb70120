//! Append-only, hash-chained audit log.
//!
//! Each row's hash is SHA-256 over its fields and the previous row's hash; `audit_head` holds
//! the last sequence number and hash. Appends serialise on the head row (the first statement of
//! the transaction updates it), so the chain has no forks on either engine. Rows record who,
//! what, which case, when and from where — never personal data (callers pass codes, not text).
//!
//! The head is anchored outside the database: every write transaction that moved it seals
//! it at commit with a keyed MAC over (seq, hash) under a subkey of the master key
//! (`audit_head.mac*`, see [`seal_head`]), and a running server writes checkpoints
//! (`seq hash mac time`) to a witness file, the log and `/metrics`. Someone with write access
//! to the database but not the master key cannot cut the tail and re-point the head: the
//! seal no longer matches, and `verify` names the row.

use crate::keys::Keys;
use crate::{Result, Store, StoreError, millis};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, FromRow, Row};

pub use crate::crypto::GENESIS;

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
    /// Under which grant the actor reached the case: `owner`, `referral`, `break_glass`
    /// (`dayaq_domain::policy::access_grant`), or empty.
    pub grant: &'static str,
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

/// One row of `audit_log`, read by column name.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, sqlx::FromRow)]
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
    /// `owner`, `referral`, `break_glass` or empty (migration 0023).
    pub access_grant: String,
}

/// The row hash: SHA-256 over the length-prefixed fields and the previous hash; the grant
/// (migration 0023) is hashed after them only when not empty, so older rows keep their hashes.
pub fn row_hash(r: &AuditRow) -> String {
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
    if !r.access_grant.is_empty() {
        h.update((r.access_grant.len() as u64).to_be_bytes());
        h.update(r.access_grant.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Appends one entry inside the caller's transaction (which must not have read anything
/// before on SQLite; use `Store::begin_write`).
pub async fn append(conn: &mut AnyConnection, e: &AuditEntry, now_ms: i64) -> Result<i64> {
    let head = sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut *conn)
        .await?;
    let seq: i64 = head.try_get("seq")?;
    let prev: String = head.try_get("hash")?;
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
        access_grant: e.grant.to_string(),
    };
    row.hash = row_hash(&row);
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor_user, actor_org, action, outcome, case_id, source, \
         detail, prev_hash, hash, access_grant) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
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
    .bind(&row.access_grant)
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
    /// The head carries no seal (a database from before sealing; see `dayaq audit seal`).
    Unsealed,
    /// The head's seal is not a MAC of (seq, hash) under any master key: forged or moved.
    SealInvalid { seq: i64 },
    /// The head is not the one that was sealed: it was moved without the key.
    HeadMoved { head_seq: i64, sealed_seq: i64 },
    /// The sealed row is missing from the log or differs: the tail was cut and re-written.
    SealedRowMissing { seq: i64 },
    /// The witness recorded a row the log no longer has (truncation or rollback).
    WitnessAhead { witness_seq: i64, last_seq: i64 },
    /// The row differs from what the witness recorded (the tail was replaced).
    WitnessMismatch { seq: i64 },
    /// A witness line's MAC is not one this instance made.
    WitnessForged { seq: i64 },
    /// The last archive anchor (`audit_archive`) is not confirmed by an `audit.archive` row of
    /// the live chain: rows were cut and an anchor forged.
    AnchorUnconfirmed { seq: i64 },
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
            Tamper::Unsealed => write!(
                f,
                "the head carries no seal (run `dayaq audit seal` after a clean verify)"
            ),
            Tamper::SealInvalid { seq } => write!(
                f,
                "row {seq}: the head's seal is invalid (head forged or rolled back)"
            ),
            Tamper::HeadMoved {
                head_seq,
                sealed_seq,
            } => write!(
                f,
                "the head records row {head_seq} but row {sealed_seq} was sealed (head moved without the key)"
            ),
            Tamper::SealedRowMissing { seq } => write!(
                f,
                "row {seq}: sealed as the head but missing or changed (log truncated or rolled back)"
            ),
            Tamper::WitnessAhead {
                witness_seq,
                last_seq,
            } => write!(
                f,
                "row {witness_seq}: recorded by the witness but the log ends at row {last_seq} (truncated)"
            ),
            Tamper::WitnessMismatch { seq } => write!(
                f,
                "row {seq}: differs from the witness checkpoint (log rewritten or rolled back)"
            ),
            Tamper::WitnessForged { seq } => write!(
                f,
                "row {seq}: the witness line's MAC was not made with this instance's keys"
            ),
            Tamper::AnchorUnconfirmed { seq } => write!(
                f,
                "row {seq}: the archive anchor is not confirmed by an audit.archive row of the live log (rows cut, anchor forged)"
            ),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub rows: i64,
    pub problems: Vec<Tamper>,
}

/// A sealed audit head as written to the witness: `seq hash mac time` (one line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    pub mac: String,
}

impl Checkpoint {
    /// The witness line (without newline); `at` is written as RFC 3339.
    pub fn line(&self, at: time::OffsetDateTime) -> String {
        let t = at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        format!("{} {} {} {t}", self.seq, self.hash, self.mac)
    }
}

/// Reads a witness file's text: one `seq hash mac time` per line; blank lines and `#`
/// comments are skipped. A malformed line is an error naming its number.
pub fn parse_witness(text: &str) -> Result<Vec<Checkpoint>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || {
            StoreError::Data(format!(
                "witness line {}: expected `seq hash mac time`",
                i + 1
            ))
        };
        let mut parts = line.split_whitespace();
        let seq: i64 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let hash = parts.next().ok_or_else(bad)?;
        let mac = parts.next().ok_or_else(bad)?;
        let hex64 = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
        if seq < 0 || !hex64(hash) || !hex64(mac) {
            return Err(bad());
        }
        out.push(Checkpoint {
            seq,
            hash: hash.to_string(),
            mac: mac.to_string(),
        });
    }
    Ok(out)
}

/// The audit head: the chain's last row (`seq`, `hash`) and the seal over the row it was
/// last sealed at (`mac_seq`, `mac_hash`, `mac` under key `mac_key_id`; empty `mac` =
/// unsealed).
#[derive(sqlx::FromRow)]
struct Head {
    seq: i64,
    hash: String,
    mac_seq: i64,
    mac_hash: String,
    mac: String,
    mac_key_id: String,
}

const HEAD_SQL: &str =
    "SELECT seq, hash, mac_seq, mac_hash, mac, mac_key_id FROM audit_head WHERE id = 1";

/// Seals the audit head at the end of a write transaction (called by `WriteTx::commit`):
/// when the head moved, its (seq, hash) get a new MAC under the database's current master
/// key — but only when the previous seal still verifies and its row is still in the log with
/// the sealed hash. A head found moved without the key is left as found (the evidence for
/// `verify`) and reported in the log; writes go on.
pub(crate) async fn seal_head(conn: &mut AnyConnection, keys: &Keys) -> Result<()> {
    let Some(Head {
        seq,
        hash,
        mac_seq,
        mac_hash,
        mac,
        mac_key_id,
    }) = sqlx::query_as(HEAD_SQL).fetch_optional(&mut *conn).await?
    else {
        return Ok(());
    };
    if mac.is_empty() || (seq == mac_seq && hash == mac_hash) {
        // Unsealed (an old database: `dayaq audit seal`) or not moved by this transaction.
        return Ok(());
    }
    let expected = keys.audit_mac(&mac_key_id, mac_seq, &mac_hash)?;
    let sealed_row: Option<String> = if mac_seq == 0 {
        Some(GENESIS.to_string())
    } else {
        sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = $1")
            .bind(mac_seq)
            .fetch_optional(&mut *conn)
            .await?
    };
    let previous_holds = expected.is_some_and(|e| crate::keys::ct_eq(&e, &mac))
        && sealed_row.as_deref() == Some(mac_hash.as_str())
        && seq > mac_seq;
    if !previous_holds {
        tracing::error!(
            sealed_seq = mac_seq,
            head_seq = seq,
            "the audit head's seal does not verify: it is left as found; run `dayaq audit verify`"
        );
        return Ok(());
    }
    let Some(kid) =
        sqlx::query_scalar::<_, String>("SELECT master_key_id FROM keyring WHERE name = 'system'")
            .fetch_optional(&mut *conn)
            .await?
    else {
        return Ok(());
    };
    let Some(new_mac) = keys.audit_mac(&kid, seq, &hash)? else {
        return Err(StoreError::Crypto(crate::crypto::CryptoError::KeyFile(
            format!("the database's master key is {kid}, but no key file holds it"),
        )));
    };
    sqlx::query(
        "UPDATE audit_head SET mac_seq = $1, mac_hash = $2, mac = $3, mac_key_id = $4 WHERE id = 1",
    )
    .bind(seq)
    .bind(&hash)
    .bind(&new_mac)
    .bind(&kid)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// Appends one entry in its own durable transaction.
    pub async fn audit(&self, e: AuditEntry, now: time::OffsetDateTime) -> Result<()> {
        let tx = self.begin_write().await?;
        tx.commit_with(&e, millis(now)).await?;
        Ok(())
    }

    /// Walks the whole chain and reports every problem with the row it concerns.
    pub async fn audit_verify(&self) -> Result<VerifyReport> {
        self.audit_verify_with(&[]).await
    }

    /// [`Store::audit_verify`], also checking the head's seal and the checkpoints of a witness
    /// (truncation: a witnessed row is gone or differs; rollback: the seal is invalid or
    /// older than the witness).
    pub async fn audit_verify_with(&self, witness: &[Checkpoint]) -> Result<VerifyReport> {
        use futures_util::TryStreamExt;
        use std::collections::HashMap;
        let Head {
            seq: head_seq,
            hash: head_hash,
            mac_seq,
            mac_hash,
            mac,
            mac_key_id,
        } = sqlx::query_as(HEAD_SQL).fetch_one(&self.pool).await?;
        // Rows whose hash we must remember while walking: the sealed one and the witnessed.
        let mut wanted: HashMap<i64, Option<String>> =
            witness.iter().map(|c| (c.seq, None)).collect();
        wanted.insert(mac_seq, None);
        let mut problems = Vec::new();
        // Archived segments (`audit_viewer::archive`): the live chain continues from the last
        // anchor, which an `audit.archive` row of the live chain must confirm.
        let anchor = last_anchor(&self.pool).await?;
        let (start_seq, start_hash) = anchor
            .as_ref()
            .map(|a| (a.last_seq, a.last_hash.clone()))
            .unwrap_or_else(|| (0, GENESIS.to_string()));
        let confirm = anchor.as_ref().map(anchor_detail);
        let mut confirmed = false;
        let mut prev_seq = start_seq;
        let mut prev_hash = start_hash.clone();
        let mut n = 0i64;
        let mut rows = sqlx::query(
            "SELECT seq, at, actor_user, actor_org, action, outcome, case_id, source, detail, \
             prev_hash, hash, access_grant FROM audit_log WHERE seq > $1 ORDER BY seq",
        )
        .bind(start_seq)
        .fetch(&self.pool);
        while let Some(r) = rows.try_next().await? {
            let row = AuditRow::from_row(&r)?;
            n += 1;
            if row.action == "audit.archive" && confirm.as_deref() == Some(row.detail.as_str()) {
                confirmed = true;
            }
            if let Some(slot) = wanted.get_mut(&row.seq) {
                *slot = Some(row.hash.clone());
            }
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
        if anchor.is_some() && !confirmed {
            problems.push(Tamper::AnchorUnconfirmed { seq: start_seq });
        }
        let chain_hash = |seq: i64| -> Option<String> {
            if seq == 0 {
                Some(GENESIS.to_string())
            } else if seq == start_seq {
                Some(start_hash.clone())
            } else {
                wanted.get(&seq).cloned().flatten()
            }
        };
        if mac.is_empty() {
            problems.push(Tamper::Unsealed);
        } else {
            let valid = self
                .keys
                .audit_mac(&mac_key_id, mac_seq, &mac_hash)?
                .is_some_and(|e| crate::keys::ct_eq(&e, &mac));
            if !valid {
                problems.push(Tamper::SealInvalid { seq: mac_seq });
            } else if chain_hash(mac_seq).as_deref() != Some(mac_hash.as_str()) {
                problems.push(Tamper::SealedRowMissing { seq: mac_seq });
            }
            if head_seq != mac_seq || head_hash != mac_hash {
                problems.push(Tamper::HeadMoved {
                    head_seq,
                    sealed_seq: mac_seq,
                });
            }
        }
        for c in witness {
            if !self.keys.audit_mac_known(c.seq, &c.hash, &c.mac)? {
                problems.push(Tamper::WitnessForged { seq: c.seq });
            } else if c.seq < start_seq {
                // Archived: `dayaq audit verify --segment` checks it offline.
            } else if c.seq > prev_seq {
                problems.push(Tamper::WitnessAhead {
                    witness_seq: c.seq,
                    last_seq: prev_seq,
                });
            } else if chain_hash(c.seq).as_deref() != Some(c.hash.as_str()) {
                problems.push(Tamper::WitnessMismatch { seq: c.seq });
            }
        }
        Ok(VerifyReport { rows: n, problems })
    }

    /// The sealed audit head as a witness checkpoint, or None when the head is unsealed or
    /// its seal does not verify (then nothing is witnessed; `verify` says why).
    pub async fn audit_checkpoint(&self) -> Result<Option<Checkpoint>> {
        let Head {
            mac_seq,
            mac_hash,
            mac,
            mac_key_id,
            ..
        } = sqlx::query_as(HEAD_SQL).fetch_one(&self.pool).await?;
        if mac.is_empty() {
            return Ok(None);
        }
        let valid = self
            .keys
            .audit_mac(&mac_key_id, mac_seq, &mac_hash)?
            .is_some_and(|e| crate::keys::ct_eq(&e, &mac));
        Ok(valid.then_some(Checkpoint {
            seq: mac_seq,
            hash: mac_hash,
            mac,
        }))
    }

    /// Seals the head after appends made outside `Store`'s write transactions (the bench
    /// generator's bulk writer): an empty write transaction, sealed at commit. Like every
    /// commit, it does not seal over a head whose previous seal does not verify.
    pub async fn audit_reseal(&self) -> Result<()> {
        self.begin_write().await?.commit().await
    }

    /// The head's sequence number (for `/metrics`).
    pub async fn audit_head_seq(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT seq FROM audit_head WHERE id = 1")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Seals an unsealed head (a database created before sealing, or restored from such a
    /// backup) after checking the chain: refused while `verify` finds anything else.
    /// Returns the sealed checkpoint. An attacker who cut the tail and blanked the seal
    /// leaves an "unsealed" head too: pass the witness's checkpoints when there is one.
    pub async fn audit_seal(&self, witness: &[Checkpoint]) -> Result<Checkpoint> {
        let report = self.audit_verify_with(witness).await?;
        if report.problems.iter().any(|p| *p != Tamper::Unsealed) {
            return Err(StoreError::Data(
                "the audit log does not verify; it is not sealed (run `dayaq audit verify`)".into(),
            ));
        }
        let mut tx = self.begin_write().await?;
        let h = sqlx::query("SELECT seq, hash, mac FROM audit_head WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let seq: i64 = h.try_get("seq")?;
        let hash: String = h.try_get("hash")?;
        let old: String = h.try_get("mac")?;
        if !old.is_empty() {
            return Err(StoreError::AlreadyExists("audit head seal"));
        }
        let kid = self.keys.current_key_id()?;
        let mac = self
            .keys
            .audit_mac(&kid, seq, &hash)?
            .ok_or_else(|| StoreError::Data("no current master key".into()))?;
        sqlx::query(
            "UPDATE audit_head SET mac_seq = $1, mac_hash = $2, mac = $3, mac_key_id = $4 WHERE id = 1",
        )
        .bind(seq)
        .bind(&hash)
        .bind(&mac)
        .bind(&kid)
        .execute(&mut *tx)
        .await?;
        let mut e = AuditEntry::new("audit.seal", "success");
        e.detail = format!("seq={seq}");
        tx.commit_with(&e, millis(time::OffsetDateTime::now_utc()))
            .await?;
        Ok(Checkpoint { seq, hash, mac })
    }

    /// The most recent audit rows (for auditors), newest first.
    pub async fn audit_recent(&self, limit: i64) -> Result<Vec<AuditRow>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor_user, actor_org, action, outcome, case_id, source, detail, \
             prev_hash, hash, access_grant FROM audit_log ORDER BY seq DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(AuditRow::from_row(r)?)).collect()
    }
}

// ---------- archive anchors (written by `audit_viewer::archive`, read by the verifier) ----------

/// The last archive anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub first_seq: i64,
    pub last_seq: i64,
    pub last_hash: String,
    pub segment_sha256: String,
}

/// The detail of the `audit.archive` row that confirms an anchor (ids and hashes only).
pub fn anchor_detail(a: &Anchor) -> String {
    format!(
        "first={} last={} hash={} segment={}",
        a.first_seq, a.last_seq, a.last_hash, a.segment_sha256
    )
}

/// The newest anchor, if rows were archived.
pub(crate) async fn last_anchor(pool: &sqlx::AnyPool) -> Result<Option<Anchor>> {
    let r = sqlx::query(
        "SELECT first_seq, last_seq, last_hash, segment_sha256 FROM audit_archive \
         ORDER BY last_seq DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await?;
    r.map(|r| {
        Ok(Anchor {
            first_seq: r.try_get("first_seq")?,
            last_seq: r.try_get("last_seq")?,
            last_hash: r.try_get("last_hash")?,
            segment_sha256: r.try_get("segment_sha256")?,
        })
    })
    .transpose()
}
