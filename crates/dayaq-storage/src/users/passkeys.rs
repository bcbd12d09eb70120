//! Passkeys / security keys (WebAuthn) as a second factor, one-time recovery codes and the
//! per-role "passkey mandatory" setting (issue 22 §2; migration 0034).
//!
//! The WebAuthn ceremony itself (options, signatures) is done by the HTTP layer with
//! `webauthn-rs`; this module keeps what it needs between requests: the registered
//! credentials (webauthn-rs `Passkey` as JSON: credential id, public key, counter — no secret),
//! the ceremony states (one-time, five minutes, bound to the user and the session that began
//! them), and the attempt budget a second-factor step shares with TOTP codes.

use super::{MAX_FAILURES_PER_HOUR, MAX_SECOND_FACTOR_ATTEMPTS, SecondFactor, User};
use super::{hash_password_off_worker, verify_password_off_worker};
use crate::crypto::random_bytes;
use crate::kernel::Acting;
use crate::{Result, Store, StoreError, millis};
use dayaq_domain::{FieldError, Role, ValidationErrors};
use serde::Serialize;
use sqlx::Row;
use uuid::Uuid;

/// How long a ceremony's state waits for its second request.
pub const CHALLENGE_TTL_MS: i64 = 5 * 60 * 1000;
/// Recovery codes made at once (regenerating replaces all of them).
pub const RECOVERY_CODES: usize = 10;
/// The longest name of a passkey.
pub const PASSKEY_NAME_MAX: usize = 60;

/// What a stored ceremony state is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ceremony {
    Register,
    Authenticate,
}

impl Ceremony {
    fn as_str(self) -> &'static str {
        match self {
            Ceremony::Register => "register",
            Ceremony::Authenticate => "authenticate",
        }
    }
}

/// One passkey as listed to its owner.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PasskeyInfo {
    pub id: Uuid,
    /// The name the owner gave it.
    pub name: String,
    /// Milliseconds since the epoch.
    pub created_at: i64,
    /// Milliseconds since the epoch; null before its first use.
    pub last_used_at: Option<i64>,
}

/// A stored credential, for the ceremony (the webauthn-rs `Passkey` as JSON).
#[derive(Debug, Clone)]
pub struct StoredPasskey {
    pub id: Uuid,
    pub credential_id: String,
    pub credential: String,
}

/// A passkey name: 1 to 60 characters after trimming, no control characters.
pub fn validate_passkey_name(name: &str) -> std::result::Result<String, FieldError> {
    let n = name.trim();
    let len = n.chars().count();
    if len == 0 || len > PASSKEY_NAME_MAX || n.chars().any(char::is_control) {
        return Err(FieldError::new(
            "name",
            "invalid_passkey_name",
            format!("name must be 1-{PASSKEY_NAME_MAX} characters"),
        ));
    }
    Ok(n.to_string())
}

/// The alphabet of recovery codes: 32 characters without i, l, o, 1 (uniform from a byte's 5 bits).
const CODE_ALPHABET: &[u8; 32] = b"abcdefghjkmnpqrstuvwxyz023456789";

/// A recovery code as typed: lowercase, without spaces and dashes.
fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// A new recovery code: 16 characters (80 bits), shown as four groups of four.
fn new_recovery_code() -> Result<String> {
    let bytes = random_bytes::<16>()?;
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| char::from(CODE_ALPHABET[usize::from(b & 31)]))
        .collect();
    Ok(chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

/// The start of a second-factor step: go on (the attempt is reserved, `used` counts it), or
/// the step's outcome without checking anything.
enum Attempt {
    Go { used: i64 },
    Stop(SecondFactor),
}

impl Store {
    // ---------- passkeys ----------

    /// The user's passkeys, newest first.
    pub async fn passkeys_of(&self, user_id: Uuid) -> Result<Vec<PasskeyInfo>> {
        let rows = sqlx::query(
            "SELECT id, name, created_at, last_used_at FROM user_passkeys \
             WHERE user_id = $1 ORDER BY created_at DESC, id",
        )
        .bind(user_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PasskeyInfo {
                    id: parse_uuid(&r.try_get::<String, _>("id")?)?,
                    name: r.try_get("name")?,
                    created_at: r.try_get("created_at")?,
                    last_used_at: r.try_get("last_used_at")?,
                })
            })
            .collect()
    }

    /// The user's stored credentials, for a ceremony.
    pub async fn passkey_credentials(&self, user_id: Uuid) -> Result<Vec<StoredPasskey>> {
        let rows = sqlx::query(
            "SELECT id, credential_id, credential FROM user_passkeys WHERE user_id = $1 ORDER BY id",
        )
        .bind(user_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredPasskey {
                    id: parse_uuid(&r.try_get::<String, _>("id")?)?,
                    credential_id: r.try_get("credential_id")?,
                    credential: r.try_get("credential")?,
                })
            })
            .collect()
    }

    /// Keeps a ceremony's state for its second request (five minutes), bound to `user` and
    /// the session `session_id`; an unfinished earlier one of the same session and purpose is
    /// replaced, expired ones of the user are cleared. Returns the id the client sends back.
    pub async fn put_challenge(
        &self,
        user: &User,
        session_id: &str,
        purpose: Ceremony,
        state: &str,
        now: time::OffsetDateTime,
    ) -> Result<Uuid> {
        let now_ms = millis(now);
        let id = Uuid::new_v4();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "DELETE FROM webauthn_challenges WHERE user_id = $1 \
             AND (expires_at <= $2 OR (session_id = $3 AND purpose = $4))",
        )
        .bind(user.id.to_string())
        .bind(now_ms)
        .bind(session_id)
        .bind(purpose.as_str())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO webauthn_challenges (id, user_id, session_id, purpose, state, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.to_string())
        .bind(user.id.to_string())
        .bind(session_id)
        .bind(purpose.as_str())
        .bind(state)
        .bind(now_ms)
        .bind(now_ms + CHALLENGE_TTL_MS)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Takes a ceremony's state once: only for the user and session that began it, for the
    /// same purpose, before it expires. A second take (a replayed response) finds nothing.
    pub async fn take_challenge(
        &self,
        id: Uuid,
        user: &User,
        session_id: &str,
        purpose: Ceremony,
        now: time::OffsetDateTime,
    ) -> Result<Option<String>> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "DELETE FROM webauthn_challenges WHERE id = $1 AND user_id = $2 AND session_id = $3 \
             AND purpose = $4 RETURNING state, expires_at",
        )
        .bind(id.to_string())
        .bind(user.id.to_string())
        .bind(session_id)
        .bind(purpose.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let expires_at: i64 = row.try_get("expires_at")?;
        if expires_at <= millis(now) {
            return Ok(None);
        }
        Ok(Some(row.try_get("state")?))
    }

    /// Registers a passkey of `user` (the ceremony is done); audited `passkey.register` with
    /// the new id (never its name). A bad name is a field error on `name`; a credential
    /// already registered (to anyone) on `credential`.
    pub async fn add_passkey(
        &self,
        user: &User,
        credential_id: &str,
        credential: &str,
        name: &str,
        source: &str,
        now: time::OffsetDateTime,
    ) -> Result<Uuid> {
        let name = validate_passkey_name(name)
            .map_err(|e| StoreError::Invalid(ValidationErrors::single(e)))?;
        let now_ms = millis(now);
        let id = Uuid::new_v4();
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO user_passkeys (id, user_id, credential_id, credential, name, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.to_string())
        .bind(user.id.to_string())
        .bind(credential_id)
        .bind(credential)
        .bind(&name)
        .bind(now_ms)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => {}
            Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                return Err(StoreError::Invalid(ValidationErrors::single(
                    FieldError::new(
                        "credential",
                        "passkey_already_registered",
                        "this security key is registered already",
                    ),
                )));
            }
            Err(e) => return Err(e.into()),
        }
        let mut e = user.audit_entry("passkey.register", "success", source);
        e.detail = format!("passkey={id}");
        tx.commit_with(&e, now_ms).await?;
        Ok(id)
    }

    /// Renames one of the user's own passkeys; `false` when it is not theirs.
    pub async fn rename_passkey(
        &self,
        user: &User,
        id: Uuid,
        name: &str,
        source: &str,
        now: time::OffsetDateTime,
    ) -> Result<bool> {
        let name = validate_passkey_name(name)
            .map_err(|e| StoreError::Invalid(ValidationErrors::single(e)))?;
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("UPDATE user_passkeys SET name = $1 WHERE id = $2 AND user_id = $3")
            .bind(&name)
            .bind(id.to_string())
            .bind(user.id.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Ok(false);
        }
        let mut e = user.audit_entry("passkey.rename", "success", source);
        e.detail = format!("passkey={id}");
        tx.commit_with(&e, millis(now)).await?;
        Ok(true)
    }

    /// Removes one of the user's own passkeys (audited `passkey.remove`); `false` when it is
    /// not theirs. A role that must use a passkey keeps at least one: removing the last is a
    /// field error on `passkey`.
    pub async fn remove_passkey(
        &self,
        user: &User,
        id: Uuid,
        source: &str,
        now: time::OffsetDateTime,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let required: Option<String> =
            sqlx::query_scalar("SELECT role FROM passkey_required_roles WHERE role = $1")
                .bind(user.role.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        let n = sqlx::query("DELETE FROM user_passkeys WHERE id = $1 AND user_id = $2")
            .bind(id.to_string())
            .bind(user.id.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Ok(false);
        }
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM user_passkeys WHERE user_id = $1")
            .bind(user.id.to_string())
            .fetch_one(&mut *tx)
            .await?;
        if required.is_some() && left == 0 {
            // Dropping the transaction rolls the delete back.
            return Err(StoreError::Invalid(ValidationErrors::single(
                FieldError::new(
                    "passkey",
                    "last_required_passkey",
                    "your role must sign in with a passkey: add another before removing this one",
                ),
            )));
        }
        let mut e = user.audit_entry("passkey.remove", "success", source);
        e.detail = format!("passkey={id}");
        tx.commit_with(&e, millis(now)).await?;
        Ok(true)
    }

    // ---------- the second-factor step ----------

    /// Reserves one attempt of the pending sign-in's second-factor budget (shared with TOTP
    /// codes): throttled sources wait, locked accounts and a spent budget end the pending
    /// sign-in.
    async fn reserve_attempt(
        &self,
        session_public_id: &str,
        user: &User,
        source: &str,
        now_ms: i64,
    ) -> Result<Attempt> {
        if let Some(retry_after_secs) = self.source_backoff(source, now_ms).await? {
            return Ok(Attempt::Stop(SecondFactor::Throttled { retry_after_secs }));
        }
        if self.account_failures(user.id, now_ms).await? >= MAX_FAILURES_PER_HOUR {
            self.record_failure(Some(user), source, "locked", now_ms)
                .await?;
            self.drop_pending(session_public_id, user, source, "account_locked", now_ms)
                .await?;
            return Ok(Attempt::Stop(SecondFactor::Dropped));
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
        match used {
            Some(used) => Ok(Attempt::Go { used }),
            None => {
                self.drop_pending(
                    session_public_id,
                    user,
                    source,
                    "second_factor_attempts",
                    now_ms,
                )
                .await?;
                Ok(Attempt::Stop(SecondFactor::Dropped))
            }
        }
    }

    /// A failed attempt: counted in the account's and the source's failures, audited with
    /// `reason`; the last one of the budget ends the pending sign-in.
    async fn failed_attempt(
        &self,
        session_public_id: &str,
        user: &User,
        used: i64,
        reason: &'static str,
        source: &str,
        now_ms: i64,
    ) -> Result<SecondFactor> {
        self.record_failure(Some(user), source, reason, now_ms)
            .await?;
        if used < MAX_SECOND_FACTOR_ATTEMPTS {
            return Ok(SecondFactor::Wrong {
                remaining: MAX_SECOND_FACTOR_ATTEMPTS - used,
            });
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

    /// The passkey step of a pending sign-in. `verify` is the ceremony's verdict, made by the
    /// caller after the attempt is reserved: `Some((credential id, updated credential JSON if
    /// its counter moved))` when the signature verified for one of this user's credentials,
    /// `None` otherwise. Success is audited `auth.passkey` with the passkey's id and updates
    /// its last use.
    pub async fn passkey_second_factor<F, Fut>(
        &self,
        session_public_id: &str,
        user: &User,
        source: &str,
        now: time::OffsetDateTime,
        verify: F,
    ) -> Result<SecondFactor>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Option<(String, Option<String>)>>,
    {
        let now_ms = millis(now);
        let used = match self
            .reserve_attempt(session_public_id, user, source, now_ms)
            .await?
        {
            Attempt::Go { used } => used,
            Attempt::Stop(outcome) => return Ok(outcome),
        };
        let Some((credential_id, updated)) = verify().await else {
            return self
                .failed_attempt(
                    session_public_id,
                    user,
                    used,
                    "wrong_passkey",
                    source,
                    now_ms,
                )
                .await;
        };
        let mut tx = self.begin_write().await?;
        let id: Option<String> = sqlx::query_scalar(
            "UPDATE user_passkeys SET last_used_at = $1, credential = COALESCE($2, credential) \
             WHERE credential_id = $3 AND user_id = $4 RETURNING id",
        )
        .bind(now_ms)
        .bind(updated)
        .bind(&credential_id)
        .bind(user.id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            drop(tx);
            return self
                .failed_attempt(
                    session_public_id,
                    user,
                    used,
                    "wrong_passkey",
                    source,
                    now_ms,
                )
                .await;
        };
        let mut e = user.audit_entry("auth.passkey", "success", source);
        e.detail = format!("passkey={id}");
        tx.commit_with(&e, now_ms).await?;
        Ok(SecondFactor::Ok)
    }

    // ---------- recovery codes ----------

    /// Makes a new set of recovery codes (the old set stops working) and gives them back —
    /// the only time they are seen; stored as Argon2id hashes. Audited
    /// `recovery_codes.regenerate`.
    pub async fn regenerate_recovery_codes(
        &self,
        user: &User,
        source: &str,
        now: time::OffsetDateTime,
    ) -> Result<Vec<String>> {
        let now_ms = millis(now);
        let mut codes = Vec::with_capacity(RECOVERY_CODES);
        let mut hashed = Vec::with_capacity(RECOVERY_CODES);
        for _ in 0..RECOVERY_CODES {
            let code = new_recovery_code()?;
            let plain = normalise_code(&code);
            let lookup: String = plain.chars().take(4).collect();
            hashed.push((lookup, hash_password_off_worker(&plain).await?));
            codes.push(code);
        }
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user.id.to_string())
            .execute(&mut *tx)
            .await?;
        for (lookup, hash) in hashed {
            sqlx::query(
                "INSERT INTO recovery_codes (id, user_id, lookup, code_hash, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(Uuid::new_v4().to_string())
            .bind(user.id.to_string())
            .bind(lookup)
            .bind(hash)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        }
        let mut e = user.audit_entry("recovery_codes.regenerate", "success", source);
        e.detail = format!("codes={RECOVERY_CODES}");
        tx.commit_with(&e, now_ms).await?;
        Ok(codes)
    }

    /// How many unused recovery codes the user has.
    pub async fn recovery_codes_left(&self, user_id: Uuid) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
        )
        .bind(user_id.to_string())
        .fetch_one(&self.pool)
        .await?)
    }

    /// A recovery code as the second step of a pending sign-in, with the same attempt budget
    /// as codes and passkeys. A code works once: it is marked used in the same statement that
    /// accepts it (`used_at IS NULL`), so two parallel uses cannot both pass. Audited
    /// `auth.recovery_code` (success with the codes left, or a failure).
    pub async fn recovery_second_factor(
        &self,
        session_public_id: &str,
        user: &User,
        code: &str,
        source: &str,
        now: time::OffsetDateTime,
    ) -> Result<SecondFactor> {
        let now_ms = millis(now);
        let used = match self
            .reserve_attempt(session_public_id, user, source, now_ms)
            .await?
        {
            Attempt::Go { used } => used,
            Attempt::Stop(outcome) => return Ok(outcome),
        };
        let plain = normalise_code(code);
        let lookup: String = plain.chars().take(4).collect();
        let rows = sqlx::query(
            "SELECT id, code_hash FROM recovery_codes \
             WHERE user_id = $1 AND lookup = $2 AND used_at IS NULL",
        )
        .bind(user.id.to_string())
        .bind(&lookup)
        .fetch_all(&self.pool)
        .await?;
        let mut matched = None;
        if plain.len() == 16 {
            for r in &rows {
                let hash: String = r.try_get("code_hash")?;
                if verify_password_off_worker(&plain, &hash).await? {
                    matched = Some(r.try_get::<String, _>("id")?);
                    break;
                }
            }
        }
        if let Some(id) = matched {
            let mut tx = self.begin_write().await?;
            let n = sqlx::query(
                "UPDATE recovery_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL",
            )
            .bind(now_ms)
            .bind(&id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 1 {
                let left: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
                )
                .bind(user.id.to_string())
                .fetch_one(&mut *tx)
                .await?;
                let mut e = user.audit_entry("auth.recovery_code", "success", source);
                e.detail = format!("left={left}");
                tx.commit_with(&e, now_ms).await?;
                return Ok(SecondFactor::Ok);
            }
        }
        self.failed_attempt(
            session_public_id,
            user,
            used,
            "wrong_recovery_code",
            source,
            now_ms,
        )
        .await
    }

    // ---------- the per-role setting ----------

    /// Whether members of `role` must sign in with a passkey.
    pub async fn passkey_required(&self, role: Role) -> Result<bool> {
        let r: Option<String> =
            sqlx::query_scalar("SELECT role FROM passkey_required_roles WHERE role = $1")
                .bind(role.as_str())
                .fetch_optional(&self.pool)
                .await?;
        Ok(r.is_some())
    }

    /// The roles whose members must sign in with a passkey.
    pub async fn passkey_required_roles(&self) -> Result<Vec<Role>> {
        let rows = sqlx::query("SELECT role FROM passkey_required_roles ORDER BY role")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Role::parse(&r.try_get::<String, _>("role")?)
                    .map_err(|e| StoreError::Data(e.message))
            })
            .collect()
    }

    /// Makes a passkey mandatory (or optional again) for `role`; audited
    /// `passkey.role_required` with `role=… required=0|1` and the acting administrator.
    /// Callers ask the policy first (system administrators, or the command line).
    pub async fn set_passkey_required(
        &self,
        by: &Acting,
        role: Role,
        required: bool,
        now: time::OffsetDateTime,
    ) -> Result<()> {
        let now_ms = millis(now);
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM passkey_required_roles WHERE role = $1")
            .bind(role.as_str())
            .execute(&mut *tx)
            .await?;
        if required {
            sqlx::query(
                "INSERT INTO passkey_required_roles (role, set_by, set_at) VALUES ($1, $2, $3)",
            )
            .bind(role.as_str())
            .bind(&by.user)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        }
        let mut e = by.entry("passkey.role_required", "success");
        e.detail = format!("role={} required={}", role.as_str(), u8::from(required));
        tx.commit_with(&e, now_ms).await?;
        Ok(())
    }
}

fn parse_uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::Data(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_four_groups_and_normalise() {
        let c = new_recovery_code().unwrap();
        assert_eq!(c.len(), 19);
        assert_eq!(c.split('-').count(), 4);
        let n = normalise_code(&format!(" {} ", c.to_uppercase()));
        assert_eq!(n, c.replace('-', ""));
        assert!(n.bytes().all(|b| CODE_ALPHABET.contains(&b)));
        assert_ne!(new_recovery_code().unwrap(), c);
    }

    #[test]
    fn passkey_names_are_bounded() {
        assert_eq!(
            validate_passkey_name("  Office key ").unwrap(),
            "Office key"
        );
        for bad in ["", "   ", "a\u{7}b", &"x".repeat(61)] {
            assert_eq!(validate_passkey_name(bad).unwrap_err().field, "name");
        }
    }
}
