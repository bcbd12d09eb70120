//! Account administration (issue #14, items 9 and 10): enrolment links instead of generated
//! passwords, disabling and enabling users, resetting a password or a second factor, and
//! revoking a user's API tokens. Every action is audited with the acting user.
//!
//! The access policy (`dayaq_domain::decide(actor, AdministerUser, Resource::User(..))`) is
//! asked by the callers that act for a signed-in administrator (screens); the CLI acts as the
//! machine's operator and is recorded as `cli:<os user>`.

use crate::crypto::{random_token, sha256_hex};
use crate::kernel::one_row;
use crate::users::{User, hash_password, insert_user_tx, revoke_all_tokens_tx, validate_password};
use crate::{Result, Store, StoreError, WriteTx, millis};
use dayaq_domain::tokens::{DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS, TokenScope};
use dayaq_domain::{Action, FieldError, Resource, ValidationErrors, decide};
use sqlx::Row;
use uuid::Uuid;

/// How long an enrolment link stays valid.
pub const ENROLMENT_TTL_MS: i64 = 72 * 3600 * 1000;

/// Stored in `users.password_hash` while a user has not chosen a password: it is not a PHC
/// string, so no password ever verifies against it.
pub const NO_PASSWORD: &str = "!enrolment-pending";

pub use crate::kernel::Acting;

/// A one-time enrolment link's secret, shown once to the administrator who created it.
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub token: String,
    pub expires_at: i64,
}

/// An API token as listed to its owner or an administrator (never the secret).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenRow {
    pub id: Uuid,
    pub label: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    /// `read_only`, `case_work` or `statistics` (issue 22 §3).
    pub scope: String,
}

/// A token just created on the screen or the API: its secret is shown this once.
#[derive(Debug, Clone)]
pub struct CreatedToken {
    pub id: Uuid,
    pub secret: String,
    pub scope: TokenScope,
    pub expires_at: i64,
}

/// A user as listed on the administration screen.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub user: User,
    /// An unused, unexpired enrolment link exists and no password was chosen yet.
    pub enrolment_pending: bool,
    /// Live (unrevoked, unexpired) API tokens.
    pub live_tokens: i64,
}

fn parse_uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::Data(e.to_string()))
}

async fn revoke_all_sessions_tx(tx: &mut WriteTx, user_id: Uuid, now: i64) -> Result<()> {
    sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(user_id.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Inserts a fresh enrolment for `user_id` (older unused links die) and returns its secret.
async fn issue_enrolment_tx(
    tx: &mut WriteTx,
    user_id: Uuid,
    by: &Acting,
    now: i64,
) -> Result<Enrolment> {
    sqlx::query("UPDATE user_enrolments SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL")
        .bind(now)
        .bind(user_id.to_string())
        .execute(&mut **tx)
        .await?;
    let token = format!("en_{}", random_token()?);
    let expires_at = now + ENROLMENT_TTL_MS;
    sqlx::query(
        "INSERT INTO user_enrolments (id, user_id, token_hash, created_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(Uuid::new_v4().to_string())
    .bind(user_id.to_string())
    .bind(sha256_hex(token.as_bytes()))
    .bind(&by.user)
    .bind(now)
    .bind(expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(Enrolment { token, expires_at })
}

impl Store {
    /// Creates a user without a password and returns a one-time enrolment link for them.
    /// The audit row names the acting administrator.
    pub async fn create_user_with_enrolment(
        &self,
        by: &Acting,
        org_slug: &str,
        role: &str,
        username: &str,
        now: time::OffsetDateTime,
    ) -> Result<(User, Enrolment)> {
        let (org, role) = self
            .validate_new_user(org_slug, role, username, None)
            .await?;
        let id = Uuid::new_v4();
        let now_ms = millis(now);
        let mut tx = self.begin_write().await?;
        insert_user_tx(&mut tx, id, &org, username, role, NO_PASSWORD, now_ms).await?;
        let enrolment = issue_enrolment_tx(&mut tx, id, by, now_ms).await?;
        let mut e = by.entry("user.create", "success");
        e.detail = format!("user={id} org={} role={} enrolment", org.id, role.as_str());
        tx.commit_with(&e, now_ms).await?;
        Ok((self.user_by_id(id).await?, enrolment))
    }

    /// Administrator's password reset: the old password stops working, every session and API
    /// token of the user ends, and a new enrolment link (returned once) replaces older ones.
    pub async fn reset_password_with_enrolment(
        &self,
        by: &Acting,
        user_id: Uuid,
        now: time::OffsetDateTime,
    ) -> Result<Enrolment> {
        let now_ms = millis(now);
        let mut tx = self.begin_write().await?;
        one_row(
            sqlx::query(
                "UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3",
            )
            .bind(NO_PASSWORD)
            .bind(now_ms)
            .bind(user_id.to_string())
            .execute(&mut *tx)
            .await?,
        )?;
        revoke_all_sessions_tx(&mut tx, user_id, now_ms).await?;
        let tokens = revoke_all_tokens_tx(&mut tx, user_id, now_ms).await?;
        let enrolment = issue_enrolment_tx(&mut tx, user_id, by, now_ms).await?;
        let mut e = by.entry("user.reset_password", "success");
        e.detail = format!("user={user_id} tokens_revoked={tokens} enrolment");
        tx.commit_with(&e, now_ms).await?;
        Ok(enrolment)
    }

    /// The user an enrolment link belongs to, while it is unused and unexpired (and the user
    /// is not disabled).
    pub async fn enrolment_user(
        &self,
        token: &str,
        now: time::OffsetDateTime,
    ) -> Result<Option<User>> {
        let Some(r) = sqlx::query(
            "SELECT user_id FROM user_enrolments WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(sha256_hex(token.as_bytes()))
        .bind(millis(now))
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let uid: String = r.try_get("user_id")?;
        let user = self.user_by_id(parse_uuid(&uid)?).await?;
        Ok((!user.disabled).then_some(user))
    }

    /// Completes an enrolment: checks the link (unused, unexpired), sets the user's chosen
    /// password (the usual rules), uses the link up, ends sessions and tokens, and audits.
    /// A dead or unknown link is `NotFound`; a bad password is a field error and changes
    /// nothing (the link stays usable).
    pub async fn complete_enrolment(
        &self,
        token: &str,
        password: &str,
        source: &str,
        now: time::OffsetDateTime,
    ) -> Result<User> {
        let Some(user) = self.enrolment_user(token, now).await? else {
            return Err(StoreError::NotFound);
        };
        validate_password(password).map_err(ValidationErrors::single)?;
        let hash = hash_password(password)?;
        let now_ms = millis(now);
        let mut tx = self.begin_write().await?;
        // Single use even under concurrent submissions: only one UPDATE finds the row unused.
        one_row(
            sqlx::query(
                "UPDATE user_enrolments SET used_at = $1 \
             WHERE token_hash = $2 AND user_id = $3 AND used_at IS NULL AND expires_at > $1",
            )
            .bind(now_ms)
            .bind(sha256_hex(token.as_bytes()))
            .bind(user.id.to_string())
            .execute(&mut *tx)
            .await?,
        )?;
        sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3")
            .bind(hash)
            .bind(now_ms)
            .bind(user.id.to_string())
            .execute(&mut *tx)
            .await?;
        revoke_all_sessions_tx(&mut tx, user.id, now_ms).await?;
        revoke_all_tokens_tx(&mut tx, user.id, now_ms).await?;
        let e = user.audit_entry("user.enrol", "success", source);
        tx.commit_with(&e, now_ms).await?;
        self.user_by_id(user.id).await
    }

    /// Disables or enables a user. Disabling ends every session and API token.
    pub async fn admin_set_disabled(
        &self,
        by: &Acting,
        user_id: Uuid,
        disabled: bool,
        now: time::OffsetDateTime,
    ) -> Result<()> {
        let now_ms = millis(now);
        let mut tx = self.begin_write().await?;
        one_row(
            sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
                .bind(i64::from(disabled))
                .bind(user_id.to_string())
                .execute(&mut *tx)
                .await?,
        )?;
        let mut tokens = 0;
        if disabled {
            revoke_all_sessions_tx(&mut tx, user_id, now_ms).await?;
            tokens = revoke_all_tokens_tx(&mut tx, user_id, now_ms).await?;
        }
        let mut e = by.entry(
            if disabled {
                "user.disable"
            } else {
                "user.enable"
            },
            "success",
        );
        e.detail = format!("user={user_id} tokens_revoked={tokens}");
        tx.commit_with(&e, now_ms).await?;
        Ok(())
    }

    /// Resets a user's second factor: the TOTP secret, passkeys and recovery codes are deleted, sessions end; at the next
    /// sign-in a role that needs a second factor enrols a new one.
    pub async fn admin_reset_totp(
        &self,
        by: &Acting,
        user_id: Uuid,
        now: time::OffsetDateTime,
    ) -> Result<()> {
        let now_ms = millis(now);
        let mut tx = self.begin_write().await?;
        one_row(
            sqlx::query("UPDATE users SET totp_secret = NULL, totp_enabled = 0 WHERE id = $1")
                .bind(user_id.to_string())
                .execute(&mut *tx)
                .await?,
        )?;
        // Passkeys and recovery codes are second factors too (issue 22 §2): they go as well.
        for sql in [
            "DELETE FROM user_passkeys WHERE user_id = $1",
            "DELETE FROM recovery_codes WHERE user_id = $1",
            "DELETE FROM webauthn_challenges WHERE user_id = $1",
        ] {
            sqlx::query(sql)
                .bind(user_id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        revoke_all_sessions_tx(&mut tx, user_id, now_ms).await?;
        let mut e = by.entry("user.reset_totp", "success");
        e.detail = format!("user={user_id}");
        tx.commit_with(&e, now_ms).await?;
        Ok(())
    }

    /// Revokes one API token (`Some(id)`) or all live tokens (`None`) of a user, as an
    /// administrator or the owner. Returns how many were revoked.
    pub async fn revoke_user_tokens(
        &self,
        by: &Acting,
        user_id: Uuid,
        token: Option<Uuid>,
        now: time::OffsetDateTime,
    ) -> Result<u64> {
        let now_ms = millis(now);
        let mut tx = self.begin_write().await?;
        let n = match token {
            Some(id) => sqlx::query(
                "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
            )
            .bind(now_ms)
            .bind(id.to_string())
            .bind(user_id.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            None => revoke_all_tokens_tx(&mut tx, user_id, now_ms).await?,
        };
        let mut e = by.entry(
            "auth.token_revoke",
            if n > 0 { "success" } else { "failure" },
        );
        e.detail = match token {
            Some(id) => format!("user={user_id} token={id}"),
            None => format!("user={user_id} all={n}"),
        };
        tx.commit_with(&e, now_ms).await?;
        Ok(n)
    }

    /// Records a refused account administration (another organisation's user, a role above
    /// the admin, oneself): `access.denied` with the policy's reason, never a name.
    pub async fn audit_admin_denied(
        &self,
        by: &Acting,
        user_id: Uuid,
        reason: &'static str,
        now: time::OffsetDateTime,
    ) -> Result<()> {
        let now_ms = millis(now);
        let tx = self.begin_write().await?;
        let mut e = by.entry("access.denied", "denied");
        e.detail = format!("administer_user user={user_id} reason={reason}");
        tx.commit_with(&e, now_ms).await?;
        Ok(())
    }

    /// A user's API tokens, newest first, with their last use.
    pub async fn user_tokens(&self, user_id: Uuid) -> Result<Vec<TokenRow>> {
        let rows = sqlx::query(
            "SELECT id, label, created_at, expires_at, revoked_at, last_used_at, scope FROM api_tokens \
             WHERE user_id = $1 ORDER BY created_at DESC, id",
        )
        .bind(user_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                Ok(TokenRow {
                    id: parse_uuid(&id)?,
                    label: r.try_get("label")?,
                    created_at: r.try_get("created_at")?,
                    expires_at: r.try_get("expires_at")?,
                    revoked_at: r.try_get("revoked_at")?,
                    last_used_at: r.try_get("last_used_at")?,
                    scope: r.try_get("scope")?,
                })
            })
            .collect()
    }

    /// The users of an organisation with their enrolment and token state, for the admin screen.
    pub async fn user_rows_of_org(
        &self,
        org_id: Uuid,
        now: time::OffsetDateTime,
    ) -> Result<Vec<UserRow>> {
        let now_ms = millis(now);
        let users = self.users_of_org(org_id).await?;
        let pending: Vec<String> = sqlx::query(
            "SELECT DISTINCT e.user_id AS user_id FROM user_enrolments e JOIN users u ON u.id = e.user_id \
             WHERE u.org_id = $1 AND e.used_at IS NULL AND e.expires_at > $2",
        )
        .bind(org_id.to_string())
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| r.try_get("user_id"))
        .collect::<Result<_, _>>()?;
        let counts: Vec<(String, i64)> = sqlx::query(
            "SELECT t.user_id AS user_id, COUNT(*) AS n FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE u.org_id = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 GROUP BY t.user_id",
        )
        .bind(org_id.to_string())
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("user_id")?, r.try_get("n")?)))
        .collect::<Result<_>>()?;
        Ok(users
            .into_iter()
            .map(|u| {
                let id = u.id.to_string();
                UserRow {
                    enrolment_pending: pending.contains(&id),
                    live_tokens: counts
                        .iter()
                        .find(|(uid, _)| *uid == id)
                        .map(|(_, n)| *n)
                        .unwrap_or(0),
                    user: u,
                }
            })
            .collect())
    }
}

impl Store {
    /// Creates an API token for the acting user with a scope (issue 22 §3): only with
    /// integration rights (`Action::CreateApiToken`); a label (one line, at most 100
    /// characters) is required; the life is `days` (default 90, at most 180). The secret is
    /// returned once and stored hashed; the audit row names the token and its scope.
    pub async fn create_scoped_token(
        &self,
        ctx: &crate::kernel::Ctx<'_>,
        label: &str,
        days: Option<i64>,
        scope: Option<TokenScope>,
    ) -> Result<CreatedToken> {
        let d = decide(ctx.actor, Action::CreateApiToken, Resource::OwnAccount);
        if !d.allowed {
            return Err(StoreError::Forbidden(d.reason));
        }
        let mut errs = ValidationErrors::default();
        let label = label.trim();
        if label.is_empty() {
            errs.push(FieldError::new("label", "required", "a label is required"));
        } else if label.chars().count() > 100 || label.contains(['\n', '\r']) {
            errs.push(FieldError::new(
                "label",
                "too_long",
                "the label is one line of at most 100 characters",
            ));
        }
        let days = days.unwrap_or(DEFAULT_TOKEN_DAYS);
        if !(1..=MAX_TOKEN_DAYS).contains(&days) {
            errs.push(FieldError::new(
                "days",
                "out_of_range",
                format!("a token lives from 1 to {MAX_TOKEN_DAYS} days"),
            ));
        }
        if scope.is_none() {
            errs.push(FieldError::new(
                "scope",
                "required",
                "choose what the token may do",
            ));
        }
        errs.into_result()?;
        let scope = scope.unwrap_or(TokenScope::ReadOnly);
        let secret = format!("dq_{}", random_token()?);
        let now_ms = millis(ctx.now);
        let expires_at = now_ms + days * 86_400_000;
        let id = Uuid::new_v4();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO api_tokens (id, user_id, token_hash, label, created_at, expires_at, scope) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.to_string())
        .bind(ctx.actor.user_id.to_string())
        .bind(sha256_hex(secret.as_bytes()))
        .bind(label)
        .bind(now_ms)
        .bind(expires_at)
        .bind(scope.as_str())
        .execute(&mut *tx)
        .await?;
        let e = ctx.entry_with(
            "auth.token_create",
            "success",
            "",
            format!("token={id} scope={}", scope.as_str()),
        );
        tx.commit_with(&e, now_ms).await?;
        Ok(CreatedToken {
            id,
            secret,
            scope,
            expires_at,
        })
    }
}
