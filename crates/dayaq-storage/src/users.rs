//! Users, passwords (Argon2id), login throttling and the TOTP second factor.

use crate::audit::{AuditEntry, append};
use crate::crypto::{field_aad, random_bytes};
use crate::{Result, Store, StoreError, millis, unique_as};
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use dayaq_domain::{Actor, FieldError, Role, ValidationErrors};
use serde::Serialize;
use sqlx::{FromRow, Row};
use totp_rs::{Secret, Totp};
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
async fn verify_password_off_worker(pw: &str, hash: &str) -> Result<bool> {
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

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub org_id: Uuid,
    pub username: String,
    pub role: Role,
    pub totp_enabled: bool,
    pub locale: String,
    pub disabled: bool,
}

impl User {
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.id,
            org_id: self.org_id,
            role: self.role,
        }
    }
}

const USER_COLS: &str = "id, org_id, username, role, totp_enabled, locale, disabled";

/// One row of `USER_COLS`, read by column name.
#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    org_id: String,
    username: String,
    role: String,
    totp_enabled: i64,
    locale: String,
    disabled: i64,
}

fn user_from_row(r: &sqlx::any::AnyRow) -> Result<User> {
    let row = UserRow::from_row(r)?;
    Ok(User {
        id: Uuid::parse_str(&row.id).map_err(|e| StoreError::Data(e.to_string()))?,
        org_id: Uuid::parse_str(&row.org_id).map_err(|e| StoreError::Data(e.to_string()))?,
        username: row.username,
        role: Role::parse(&row.role).map_err(|e| StoreError::Data(e.message))?,
        totp_enabled: row.totp_enabled != 0,
        locale: row.locale,
        disabled: row.disabled != 0,
    })
}

/// The outcome of a password check. The caller shows the same message for every failure.
#[derive(Debug)]
pub enum LoginCheck {
    Ok(User),
    Invalid,
    Locked,
    Throttled { retry_after_secs: i64 },
}

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

/// Inserts a new account's row (`password_hash` is an Argon2 hash or the enrolment marker); a
/// taken username is a field error on `username`.
pub(crate) async fn insert_user_tx(
    tx: &mut crate::WriteTx,
    id: Uuid,
    org: &crate::orgs::Organisation,
    username: &str,
    role: Role,
    password_hash: &str,
    now_ms: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO users (id, org_id, username, role, password_hash, created_at, password_changed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(id.to_string())
    .bind(org.id.to_string())
    .bind(username)
    .bind(role.as_str())
    .bind(password_hash)
    .bind(now_ms)
    .execute(&mut **tx)
    .await
    .map_err(|e| unique_as(e, "username"))?;
    Ok(())
}

impl Store {
    /// Checks a new account's username, role, password (when one is set here) and
    /// organisation together, naming every problem; gives back the organisation and role.
    pub(crate) async fn validate_new_user(
        &self,
        org_slug: &str,
        role: &str,
        username: &str,
        password: Option<&str>,
    ) -> Result<(crate::orgs::Organisation, Role)> {
        let mut errs = ValidationErrors::default();
        if let Err(e) = validate_username(username) {
            errs.push(e);
        }
        let role = match Role::parse(role) {
            Ok(r) => Some(r),
            Err(e) => {
                errs.push(e);
                None
            }
        };
        if let Some(Err(e)) = password.map(validate_password) {
            errs.push(e);
        }
        let org = self.org_of_field("org", org_slug, &mut errs).await?;
        errs.into_result()?;
        match (org, role) {
            (Some(org), Some(role)) => Ok((org, role)),
            _ => Err(StoreError::Data("unreachable validation state".into())),
        }
    }

    /// Creates a user with a password chosen by the caller. For the demo world, benchmarks and
    /// tests only: people get an enrolment link (`create_user_with_enrolment`) instead. The
    /// audit row names the local operator (`cli:<os user>`).
    pub async fn add_user(
        &self,
        org_slug: &str,
        role: &str,
        username: &str,
        password: &str,
        now: time::OffsetDateTime,
    ) -> Result<User> {
        let (org, role) = self
            .validate_new_user(org_slug, role, username, Some(password))
            .await?;
        let hash = hash_password_off_worker(password).await?;
        let id = Uuid::new_v4();
        let mut tx = self.begin_write().await?;
        insert_user_tx(&mut tx, id, &org, username, role, &hash, millis(now)).await?;
        let by = crate::kernel::Acting::cli();
        let mut e = AuditEntry::new("user.create", "success");
        e.actor_user = by.user;
        e.source = by.source;
        e.detail = format!(
            "user={id} org={} role={} password_set",
            org.id,
            role.as_str()
        );
        append(&mut tx, &e, millis(now)).await?;
        tx.commit().await?;
        self.user_by_id(id).await
    }

    pub async fn user_by_id(&self, id: Uuid) -> Result<User> {
        let q = format!("SELECT {USER_COLS} FROM users WHERE id = $1");
        let r = sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        user_from_row(&r)
    }

    pub async fn user_by_name(&self, username: &str) -> Result<User> {
        let q = format!("SELECT {USER_COLS} FROM users WHERE username = $1");
        let r = sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(username)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        user_from_row(&r)
    }

    pub async fn users_of_org(&self, org_id: Uuid) -> Result<Vec<User>> {
        let q = format!("SELECT {USER_COLS} FROM users WHERE org_id = $1 ORDER BY username");
        let rows = sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(org_id.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// Disables or enables a user (disabling ends every session and API token), audited with
    /// the acting user. Callers ask the policy (`AdministerUser`) first.
    pub async fn set_user_disabled(
        &self,
        by: &Actor,
        user_id: Uuid,
        disabled: bool,
        source: &str,
        now: time::OffsetDateTime,
    ) -> Result<()> {
        let by = crate::kernel::Acting::user(by, source);
        self.admin_set_disabled(&by, user_id, disabled, now).await
    }

    pub async fn set_locale(&self, user_id: Uuid, locale: &str) -> Result<()> {
        sqlx::query("UPDATE users SET locale = $1 WHERE id = $2")
            .bind(locale)
            .bind(user_id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn record_failure(
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
        append(&mut tx, &e, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Per-source exponential backoff: `Some(seconds to wait)` when `source` has failed too
    /// often in the window (password and second-factor failures alike).
    async fn source_backoff(&self, source: &str, now: i64) -> Result<Option<i64>> {
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
    async fn account_failures(&self, user_id: Uuid, now: i64) -> Result<i64> {
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
        let mut e = AuditEntry::new("auth.password_change", "success");
        e.actor_user = user.id.to_string();
        e.actor_org = user.org_id.to_string();
        e.source = source.to_string();
        append(&mut tx, &e, millis(now)).await?;
        tx.commit().await?;
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
        append(&mut tx, &e, millis(now)).await?;
        tx.commit().await?;
        Ok(())
    }

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
        let mut e = AuditEntry::new(
            if enrol {
                "auth.totp_enrol"
            } else {
                "auth.totp"
            },
            if n == 1 { "success" } else { "failure" },
        );
        e.actor_user = user.id.to_string();
        e.actor_org = user.org_id.to_string();
        e.source = source.to_string();
        if n != 1 {
            e.detail = "replayed_code".into();
        }
        append(&mut tx, &e, millis(now)).await?;
        tx.commit().await?;
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
        let Some(used) = used else {
            self.drop_pending(
                session_public_id,
                user,
                source,
                "second_factor_attempts",
                now_ms,
            )
            .await?;
            return Ok(SecondFactor::Dropped);
        };
        if self.totp_verify(user, code, enrol, source, now).await? {
            return Ok(SecondFactor::Ok);
        }
        if used >= MAX_SECOND_FACTOR_ATTEMPTS {
            self.drop_pending(
                session_public_id,
                user,
                source,
                "second_factor_attempts",
                now_ms,
            )
            .await?;
            return Ok(SecondFactor::Dropped);
        }
        Ok(SecondFactor::Wrong {
            remaining: MAX_SECOND_FACTOR_ATTEMPTS - used,
        })
    }

    /// Ends a pending sign-in (revokes the session) and audits the drop once.
    async fn drop_pending(
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
            let mut e = AuditEntry::new("auth.pending_signin_dropped", "failure");
            e.actor_user = user.id.to_string();
            e.actor_org = user.org_id.to_string();
            e.source = source.to_string();
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

fn dummy_hash() -> &'static str {
    // Argon2id hash of a random string with the production parameters.
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$L3P1mTqkGAOrf1bnYQ6tO4gt3UIE+2zGhAcnkE4D4hI"
}

/// Revokes every live API token of `user_id` inside `tx`; returns how many.
pub(crate) async fn revoke_all_tokens_tx(
    tx: &mut crate::WriteTx,
    user_id: Uuid,
    now: i64,
) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(user_id.to_string())
    .execute(&mut **tx)
    .await?
    .rows_affected())
}
