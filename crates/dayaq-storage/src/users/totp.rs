//! The TOTP second factor: enrolment, activation, the sign-in code step (attempt budget).

use super::{MAX_FAILURES_PER_HOUR, MAX_SECOND_FACTOR_ATTEMPTS, User};
use crate::audit::append;
use crate::crypto::{field_aad, random_bytes};
use crate::{Result, Store, StoreError, millis};
use sqlx::Row;
use totp_rs::{Secret, Totp};
use uuid::Uuid;

/// The outcome of a second-factor step (sign-in code or first enrolment code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactor {
    Ok,
    /// A wrong (or replayed) code; `remaining` codes may still be tried on this sign-in.
    Wrong {
        remaining: i64,
    },
    /// The attempt budget is spent or the account is locked: the pending sign-in has ended
    /// and the password step starts again (with the per-source backoff).
    Dropped,
    /// Too many failures from this source address: wait before the next attempt.
    Throttled {
        retry_after_secs: i64,
    },
}

fn totp_for(secret: &[u8], username: &str) -> Result<Totp> {
    totp_rs::Builder::new()
        .with_secret(Secret::new(secret.to_vec().into_boxed_slice()))
        .with_account_name(username.to_string())
        .with_issuer(Some("Dayaq"))
        .build()
        .map_err(|e| StoreError::Data(e.to_string()))
}

/// TOTP enrolment data shown to the user until the secret is activated.
#[derive(Debug, Clone)]
pub struct TotpEnrolment {
    pub secret_base32: String,
    pub otpauth_url: String,
}

fn totp_enrolment(secret: &[u8], account: &str) -> Result<TotpEnrolment> {
    let t = totp_for(secret, account)?;
    Ok(TotpEnrolment {
        secret_base32: Secret::new(secret.to_vec().into_boxed_slice()).to_base32(),
        otpauth_url: t.to_url().map_err(|e| StoreError::Data(e.to_string()))?,
    })
}

impl Store {
    fn totp_aad(&self, user_id: Uuid, system: &crate::crypto::SecretKey) -> Vec<u8> {
        field_aad(
            "users",
            "totp_secret",
            &user_id.to_string(),
            &system.key_id(),
        )
    }

    /// Starts TOTP enrolment, or resumes the one already under way: while a secret is pending
    /// (stored, not yet activated) the same secret is shown again, so a wrong code or a page
    /// reload never re-keys an authenticator app that has already scanned it. A new secret,
    /// stored encrypted and not yet active, is made only when none is pending (or the pending
    /// one no longer opens, e.g. after a system-key change). An administrator's TOTP reset
    /// clears the pending secret, which starts a fresh enrolment.
    pub async fn totp_begin(&self, user: &User) -> Result<TotpEnrolment> {
        let system = self.keys.system()?;
        let aad = self.totp_aad(user.id, &system);
        if let Some(secret) = self.pending_totp_secret(user, &system, &aad).await? {
            return totp_enrolment(&secret, &user.username);
        }
        let secret = random_bytes::<20>()?;
        let sealed = system.seal(&aad, &secret)?;
        // Two renders racing: only one secret is stored; both show the stored one.
        let stored = sqlx::query(
            "UPDATE users SET totp_secret = $1, totp_enabled = 0 \
             WHERE id = $2 AND totp_enabled = 0 AND totp_secret IS NULL",
        )
        .bind(sealed.clone())
        .bind(user.id.to_string())
        .execute(&self.pool)
        .await?
        .rows_affected();
        if stored == 0 {
            if let Some(pending) = self.pending_totp_secret(user, &system, &aad).await? {
                return totp_enrolment(&pending, &user.username);
            }
            // A pending secret that no longer opens: replace it.
            sqlx::query(
                "UPDATE users SET totp_secret = $1, totp_enabled = 0 WHERE id = $2 AND totp_enabled = 0",
            )
            .bind(sealed)
            .bind(user.id.to_string())
            .execute(&self.pool)
            .await?;
        }
        totp_enrolment(&secret, &user.username)
    }

    /// The pending (stored, not yet active) TOTP secret of `user`, if there is one and it opens.
    async fn pending_totp_secret(
        &self,
        user: &User,
        system: &crate::crypto::SecretKey,
        aad: &[u8],
    ) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>> {
        let r = sqlx::query("SELECT totp_secret, totp_enabled FROM users WHERE id = $1")
            .bind(user.id.to_string())
            .fetch_one(&self.pool)
            .await?;
        let sealed: Option<Vec<u8>> = r.try_get("totp_secret")?;
        let enabled = r.try_get::<i64, _>("totp_enabled")? != 0;
        match sealed {
            Some(sealed) if !enabled => Ok(system.open(aad, &sealed).ok()),
            _ => Ok(None),
        }
    }

    /// Checks a TOTP code. Each time step is accepted once (replay protection).
    /// With `enrol`, a correct code also activates a pending secret.
    pub async fn totp_verify(
        &self,
        user: &User,
        code: &str,
        enrol: bool,
        source: &str,
        now: time::OffsetDateTime,
    ) -> Result<bool> {
        let r = sqlx::query(
            "SELECT totp_secret, totp_enabled, totp_last_step FROM users WHERE id = $1",
        )
        .bind(user.id.to_string())
        .fetch_one(&self.pool)
        .await?;
        let sealed: Option<Vec<u8>> = r.try_get("totp_secret")?;
        let enabled = r.try_get::<i64, _>("totp_enabled")? != 0;
        let Some(sealed) = sealed else {
            return Ok(false);
        };
        if enabled == enrol {
            return Ok(false);
        }
        let system = self.keys.system()?;
        let secret = system.open(&self.totp_aad(user.id, &system), &sealed)?;
        let t = totp_for(&secret, &user.username)?;
        let unix = now.unix_timestamp().max(0) as u64;
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        let Some(step) = t.check(&code, unix) else {
            self.record_failure(Some(user), source, "wrong_totp", millis(now))
                .await?;
            return Ok(false);
        };
        let step = step as i64;
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE users SET totp_last_step = $1, totp_enabled = 1 WHERE id = $2 AND totp_last_step < $1",
        )
        .bind(step)
        .bind(user.id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let outcome = if n == 1 { "success" } else { "failure" };
        let mut e = user.audit_entry(
            if enrol {
                "auth.totp_enrol"
            } else {
                "auth.totp"
            },
            outcome,
            source,
        );
        if n != 1 {
            e.detail = "replayed_code".into();
        }
        tx.commit_with(&e, millis(now)).await?;
        Ok(n == 1)
    }

    /// The second step of a sign-in (`enrol`: the first code of a new TOTP secret) on the
    /// pending session `session_public_id`, with its own attempt budget: an attempt is reserved
    /// before the code is checked (parallel guesses cannot exceed the budget), every failure
    /// counts in the account's and the source's failure counters (the same throttle as the
    /// password step), and after [`MAX_SECOND_FACTOR_ATTEMPTS`] codes or on a locked account
    /// the pending session is revoked and the drop audited.
    pub async fn second_factor(
        &self,
        session_public_id: &str,
        user: &User,
        code: &str,
        enrol: bool,
        source: &str,
        now: time::OffsetDateTime,
    ) -> Result<SecondFactor> {
        let now_ms = millis(now);
        if let Some(retry_after_secs) = self.source_backoff(source, now_ms).await? {
            return Ok(SecondFactor::Throttled { retry_after_secs });
        }
        if self.account_failures(user.id, now_ms).await? >= MAX_FAILURES_PER_HOUR {
            self.record_failure(Some(user), source, "locked", now_ms)
                .await?;
            self.drop_pending(session_public_id, user, source, "account_locked", now_ms)
                .await?;
            return Ok(SecondFactor::Dropped);
        }
        let mut tx = self.begin_write().await?;
        let used: Option<i64> = sqlx::query_scalar(
            "UPDATE sessions SET mfa_attempts = mfa_attempts + 1 \
             WHERE public_id = $1 AND user_id = $2 AND mfa_ok = 0 AND revoked_at IS NULL \
             AND mfa_attempts < $3 RETURNING mfa_attempts",
        )
        .bind(session_public_id)
        .bind(user.id.to_string())
        .bind(MAX_SECOND_FACTOR_ATTEMPTS)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        // No attempt left before this code (`None`), or this wrong code was the last one:
        // the pending sign-in ends.
        if let Some(used) = used {
            if self.totp_verify(user, code, enrol, source, now).await? {
                return Ok(SecondFactor::Ok);
            }
            if used < MAX_SECOND_FACTOR_ATTEMPTS {
                return Ok(SecondFactor::Wrong {
                    remaining: MAX_SECOND_FACTOR_ATTEMPTS - used,
                });
            }
        }
        self.drop_pending(
            session_public_id,
            user,
            source,
            "second_factor_attempts",
            now_ms,
        )
        .await?;
        Ok(SecondFactor::Dropped)
    }

    /// Ends a pending sign-in (revokes the session) and audits the drop once.
    pub(super) async fn drop_pending(
        &self,
        session_public_id: &str,
        user: &User,
        source: &str,
        reason: &'static str,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE public_id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(session_public_id)
        .bind(user.id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n > 0 {
            let mut e = user.audit_entry("auth.pending_signin_dropped", "failure", source);
            e.detail = reason.to_string();
            append(&mut tx, &e, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// For the demo and tests: enrol a known TOTP secret directly (activated).
    pub async fn totp_set_secret(&self, user: &User, secret: &[u8]) -> Result<()> {
        let system = self.keys.system()?;
        let sealed = system.seal(&self.totp_aad(user.id, &system), secret)?;
        sqlx::query("UPDATE users SET totp_secret = $1, totp_enabled = 1 WHERE id = $2")
            .bind(sealed)
            .bind(user.id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
