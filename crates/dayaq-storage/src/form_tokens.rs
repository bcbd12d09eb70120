//! One-time form tokens of the screens (issue #23 §3, migration 0025): the first POST of a form
//! claims its key, a repeat of the same POST waits for the first one's answer and gets it
//! instead of writing a second record. The key is a SHA-256 hash computed by the caller (user,
//! path, one-time token, posted bytes); nothing posted is stored.

use crate::kernel::millis;
use crate::{Result, Store};
use sqlx::Row;

/// How long a claimed key is remembered.
pub const FORM_TOKEN_TTL_MS: i64 = 60 * 60 * 1000;

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormClaim {
    /// The key was not in use: this submission goes ahead (and must `finish` or `release`).
    Fresh,
    /// The same submission was already answered with a redirect to this path.
    Answered(String),
    /// The same submission is still being handled.
    Pending,
}

impl Store {
    /// Claims `key_hash` for `user` (expired keys are forgotten first).
    pub async fn claim_form_token(
        &self,
        user: uuid::Uuid,
        now: time::OffsetDateTime,
        key_hash: &str,
    ) -> Result<FormClaim> {
        let now = millis(now);
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM form_tokens WHERE expires_at < $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        // ON CONFLICT: two claims of the same key at once (PostgreSQL has no write turn) make
        // one row; the other finds it below.
        let inserted = sqlx::query(
            "INSERT INTO form_tokens (key_hash, user_id, created_at, expires_at, outcome) \
             VALUES ($1, $2, $3, $4, NULL) ON CONFLICT (key_hash) DO NOTHING",
        )
        .bind(key_hash)
        .bind(user.to_string())
        .bind(now)
        .bind(now + FORM_TOKEN_TTL_MS)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 1 {
            tx.commit().await?;
            return Ok(FormClaim::Fresh);
        }
        let found = sqlx::query("SELECT user_id, outcome FROM form_tokens WHERE key_hash = $1")
            .bind(key_hash)
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        let Some(r) = found else {
            return Ok(FormClaim::Pending);
        };
        let owner: String = r.try_get("user_id")?;
        let outcome: Option<String> = r.try_get("outcome")?;
        // The key includes the user, so another user's row cannot match; checked anyway.
        if uuid::Uuid::parse_str(&owner).ok() != Some(user) {
            return Ok(FormClaim::Pending);
        }
        Ok(outcome.map_or(FormClaim::Pending, FormClaim::Answered))
    }

    /// Remembers the answer of a claimed submission (the path it was redirected to).
    pub async fn finish_form_token(&self, key_hash: &str, outcome: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE form_tokens SET outcome = $1 WHERE key_hash = $2")
            .bind(outcome)
            .bind(key_hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// Forgets a claimed submission that was refused (nothing was written; a repeat is
    /// handled afresh and refused the same way).
    pub async fn release_form_token(&self, key_hash: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM form_tokens WHERE key_hash = $1 AND outcome IS NULL")
            .bind(key_hash)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }
}
