//! Passwords (Argon2id), the password sign-in step and login throttling (per account and
//! per source address).

use super::{User, revoke_all_tokens_tx};
use crate::audit::AuditEntry;
use crate::crypto::random_bytes;
use crate::{Result, Store, StoreError, millis};
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use dayaq_domain::{FieldError, ValidationErrors};
use sqlx::Row;
use uuid::Uuid;

/// Argon2id parameters: 19 MiB, t = 2, p = 1 (OWASP minimum for Argon2id).
pub const ARGON2_M_KIB: u32 = 19 * 1024;
pub const ARGON2_T: u32 = 2;
pub const ARGON2_P: u32 = 1;

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Failed attempts per account per hour before the account is locked.
pub const MAX_FAILURES_PER_HOUR: i64 = 100;
/// Codes one pending sign-in (password step done, second factor not yet) may try; after the
/// last one the pending sign-in is dropped and the password step starts again.
pub const MAX_SECOND_FACTOR_ATTEMPTS: i64 = 5;
/// Failures from one source address in the window before backoff starts.
const SOURCE_FREE_FAILURES: i64 = 5;
const SOURCE_WINDOW_MS: i64 = 15 * 60 * 1000;

fn argon2() -> Result<Argon2<'static>> {
    let params = Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, None)
        .map_err(|e| StoreError::Data(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

pub fn hash_password(pw: &str) -> Result<String> {
    Ok(argon2()?
        .hash_password(pw.as_bytes())
        .map_err(|e| StoreError::Data(e.to_string()))?
        .to_string())
}

fn verify_password(pw: &str, hash: &str) -> bool {
    argon2().is_ok_and(|a| a.verify_password(pw.as_bytes(), hash).is_ok())
}

/// [`hash_password`] on the blocking pool: Argon2 takes tens of milliseconds of CPU and
/// 19 MiB, which must never stall an async worker (and every request queued behind it).
pub async fn hash_password_off_worker(pw: &str) -> Result<String> {
    let pw = pw.to_string();
    tokio::task::spawn_blocking(move || hash_password(&pw))
        .await
        .map_err(|e| StoreError::Data(format!("password hashing task: {e}")))?
}

/// [`verify_password`] on the blocking pool (see [`hash_password_off_worker`]).
pub(super) async fn verify_password_off_worker(pw: &str, hash: &str) -> Result<bool> {
    let (pw, hash) = (pw.to_string(), hash.to_string());
    tokio::task::spawn_blocking(move || verify_password(&pw, &hash))
        .await
        .map_err(|e| StoreError::Data(format!("password check task: {e}")))
}

/// A password of 20 characters from an unambiguous alphabet (about 110 bits).
pub fn generate_password() -> Result<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut out = String::with_capacity(20);
    while out.len() < 20 {
        for b in random_bytes::<32>()? {
            // Rejection sampling keeps the choice uniform.
            if (b as usize) < 256 - (256 % ALPHABET.len()) && out.len() < 20 {
                out.push(ALPHABET[b as usize % ALPHABET.len()] as char);
            }
        }
    }
    Ok(out)
}

pub fn validate_password(pw: &str) -> Result<(), FieldError> {
    if pw.chars().count() < MIN_PASSWORD_CHARS {
        return Err(FieldError::new(
            "password",
            "too_short",
            format!("the password needs at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if pw.len() > MAX_PASSWORD_BYTES {
        return Err(FieldError::new(
            "password",
            "too_long",
            "the password is too long",
        ));
    }
    Ok(())
}

pub fn validate_username(u: &str) -> Result<(), FieldError> {
    let ok = (3..=64).contains(&u.len())
        && u.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            "username",
            "invalid_username",
            "username must be 3-64 characters: lowercase letters, digits, '.', '_' or '-'",
        ))
    }
}

/// The outcome of a password check. The caller shows the same message for every failure.
#[derive(Debug)]
pub enum LoginCheck {
    Ok(User),
    Invalid,
    Locked,
    Throttled {
        retry_after_secs: i64,
    },
    /// The password was right, but the user's organisation signs in through its identity
    /// provider only (`org_oidc.local_passwords_allowed = 0`, issue 22 §1).
    SsoOnly,
}

impl Store {
    pub(super) async fn record_failure(
        &self,
        user: Option<&User>,
        source: &str,
        reason: &'static str,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO login_failures (id, user_id, source, at) VALUES ($1, $2, $3, $4)")
            .bind(Uuid::new_v4().to_string())
            .bind(user.map(|u| u.id.to_string()))
            .bind(source)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let mut e = AuditEntry::new("auth.login", "failure");
        if let Some(u) = user {
            e.actor_user = u.id.to_string();
            e.actor_org = u.org_id.to_string();
        }
        e.source = source.to_string();
        e.detail = reason.to_string();
        tx.commit_with(&e, now).await?;
        Ok(())
    }

    /// Per-source exponential backoff: `Some(seconds to wait)` when `source` has failed too
    /// often in the window (password and second-factor failures alike).
    pub(super) async fn source_backoff(&self, source: &str, now: i64) -> Result<Option<i64>> {
        let r = sqlx::query(
            "SELECT COUNT(*) AS n, MAX(at) AS last_at FROM login_failures WHERE source = $1 AND at > $2",
        )
        .bind(source)
        .bind(now - SOURCE_WINDOW_MS)
        .fetch_one(&self.pool)
        .await?;
        let n: i64 = r.try_get("n")?;
        let last: Option<i64> = r.try_get("last_at")?;
        if n >= SOURCE_FREE_FAILURES
            && let Some(last) = last
        {
            let wait_ms = 1000i64 << (n - SOURCE_FREE_FAILURES).min(10);
            let wait_ms = wait_ms.min(SOURCE_WINDOW_MS);
            if now - last < wait_ms {
                return Ok(Some((wait_ms - (now - last)) / 1000 + 1));
            }
        }
        Ok(None)
    }

    /// Failed attempts (password or second factor) on the account in the last hour.
    pub(super) async fn account_failures(&self, user_id: Uuid, now: i64) -> Result<i64> {
        Ok(
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM login_failures WHERE user_id = $1 AND at > $2",
            )
            .bind(user_id.to_string())
            .bind(now - 3_600_000)
            .fetch_one(&self.pool)
            .await?,
        )
    }

    /// Checks a username and password with per-source backoff and per-account lockout.
    /// Unknown users cost the same Argon2 work as known ones.
    pub async fn check_password(
        &self,
        username: &str,
        password: &str,
        source: &str,
        now: time::OffsetDateTime,
    ) -> Result<LoginCheck> {
        let now = millis(now);
        if let Some(retry_after_secs) = self.source_backoff(source, now).await? {
            return Ok(LoginCheck::Throttled { retry_after_secs });
        }
        let user = match self.user_by_name(username).await {
            Ok(u) => Some(u),
            Err(StoreError::NotFound) => None,
            Err(e) => return Err(e),
        };
        let hash: Option<String> = match &user {
            Some(u) => {
                sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
                    .bind(u.id.to_string())
                    .fetch_optional(&self.pool)
                    .await?
            }
            None => None,
        };
        // Constant work: verify against a dummy hash when the user is unknown.
        let dummy = dummy_hash();
        // A user waiting for enrolment has no password hash: the same Argon2 work is spent on
        // the dummy hash, and the answer is "invalid" whatever was typed.
        let real = hash.as_deref().filter(|h| h.starts_with('$'));
        let ok =
            verify_password_off_worker(password, real.unwrap_or(dummy)).await? && real.is_some();
        let Some(user) = user else {
            self.record_failure(None, source, "unknown_user", now)
                .await?;
            return Ok(LoginCheck::Invalid);
        };
        if self.account_failures(user.id, now).await? >= MAX_FAILURES_PER_HOUR {
            self.record_failure(Some(&user), source, "locked", now)
                .await?;
            return Ok(LoginCheck::Locked);
        }
        if user.disabled {
            self.record_failure(Some(&user), source, "disabled", now)
                .await?;
            return Ok(LoginCheck::Invalid);
        }
        if !ok {
            self.record_failure(Some(&user), source, "wrong_password", now)
                .await?;
            return Ok(LoginCheck::Invalid);
        }
        if !self.local_passwords_allowed(user.org_id).await? {
            self.record_failure(Some(&user), source, "sso_only", now)
                .await?;
            return Ok(LoginCheck::SsoOnly);
        }
        Ok(LoginCheck::Ok(user))
    }

    pub async fn change_password(
        &self,
        user: &User,
        old: &str,
        new: &str,
        keep_session_public_id: Option<&str>,
        source: &str,
        now: time::OffsetDateTime,
    ) -> Result<()> {
        let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
            .bind(user.id.to_string())
            .fetch_one(&self.pool)
            .await?;
        if !verify_password_off_worker(old, &hash).await? {
            return Err(ValidationErrors::single(FieldError::new(
                "current_password",
                "wrong_password",
                "the current password is not correct",
            ))
            .into());
        }
        validate_password(new).map_err(ValidationErrors::single)?;
        let new_hash = hash_password_off_worker(new).await?;
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3")
            .bind(new_hash)
            .bind(millis(now))
            .bind(user.id.to_string())
            .execute(&mut *tx)
            .await?;
        // Every other session ends when the password changes, and so does every API token
        // (a token taken with the old password must not outlive it).
        sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL AND public_id <> $3",
        )
        .bind(millis(now))
        .bind(user.id.to_string())
        .bind(keep_session_public_id.unwrap_or(""))
        .execute(&mut *tx)
        .await?;
        revoke_all_tokens_tx(&mut tx, user.id, millis(now)).await?;
        let e = user.audit_entry("auth.password_change", "success", source);
        tx.commit_with(&e, millis(now)).await?;
        Ok(())
    }

    /// Sets a new password without the old one, for tests and the demo (administrators issue
    /// an enrolment link instead: `reset_password_with_enrolment`). Ends sessions and tokens.
    pub async fn set_password(
        &self,
        user_id: Uuid,
        new: &str,
        now: time::OffsetDateTime,
    ) -> Result<()> {
        validate_password(new).map_err(ValidationErrors::single)?;
        let h = hash_password_off_worker(new).await?;
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3")
            .bind(h)
            .bind(millis(now))
            .bind(user_id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(millis(now))
        .bind(user_id.to_string())
        .execute(&mut *tx)
        .await?;
        revoke_all_tokens_tx(&mut tx, user_id, millis(now)).await?;
        let by = crate::kernel::Acting::cli();
        let mut e = AuditEntry::new("auth.password_reset", "success");
        e.actor_user = by.user;
        e.source = by.source;
        e.detail = format!("user={user_id}");
        tx.commit_with(&e, millis(now)).await?;
        Ok(())
    }
}

fn dummy_hash() -> &'static str {
    // Argon2id hash of a random string with the production parameters.
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$L3P1mTqkGAOrf1bnYQ6tO4gt3UIE+2zGhAcnkE4D4hI"
}
