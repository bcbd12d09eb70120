//! Server-side sessions and API tokens. Only SHA-256 hashes of the secrets are stored.

use crate::crypto::{random_token, sha256_hex};
use crate::kernel::uuid_of;
use crate::users::User;
use crate::{Result, Store, StoreError, millis};
use serde::Serialize;
use sqlx::Row;
use uuid::Uuid;

/// Session lifetimes (ASVS: idle and absolute timeouts).
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub idle_ms: i64,
    pub absolute_ms: i64,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle_ms: 15 * 60 * 1000,
            absolute_ms: 12 * 3600 * 1000,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub public_id: String,
    pub csrf: String,
    pub mfa_ok: bool,
    pub last_seen: i64,
    pub created_at: i64,
}

/// A live session as listed to its user (read by column name).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct SessionInfo {
    pub public_id: String,
    pub created_at: i64,
    pub last_seen: i64,
    pub user_agent: String,
    pub source: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenInfo {
    pub id: Uuid,
    pub label: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked: bool,
}

/// Default lifetime of an API token, in days.
pub const DEFAULT_TOKEN_DAYS: i64 = 90;
/// The longest lifetime an API token may have, in days (half a year: a leaked token is
/// bounded, and the owner renews it at least twice a year).
pub const MAX_TOKEN_DAYS: i64 = 180;
/// `last_used_at` of a token is written at most this often (a busy script would otherwise
/// write on every request).
pub const TOKEN_USE_RESOLUTION_MS: i64 = 60_000;

impl Store {
    /// Creates a session; returns (secret token for the cookie, session).
    pub async fn create_session(
        &self,
        user: &User,
        mfa_ok: bool,
        user_agent: &str,
        source: &str,
        now: time::OffsetDateTime,
    ) -> Result<(String, Session)> {
        let token = random_token()?;
        let csrf = random_token()?;
        let public_id = Uuid::new_v4().to_string();
        let now = millis(now);
        let ua: String = user_agent.chars().take(200).collect();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, public_id, csrf, mfa_ok, created_at, last_seen, user_agent, source) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8)",
        )
        .bind(sha256_hex(token.as_bytes()))
        .bind(user.id.to_string())
        .bind(&public_id)
        .bind(&csrf)
        .bind(i64::from(mfa_ok))
        .bind(now)
        .bind(&ua)
        .bind(source)
        .execute(&mut *tx)
        .await?;
        let mut e = user.audit_entry("auth.login", "success", source);
        e.detail = if mfa_ok {
            "session"
        } else {
            "session_pending_second_factor"
        }
        .into();
        tx.commit_with(&e, now).await?;
        Ok((
            token,
            Session {
                user: user.clone(),
                public_id,
                csrf,
                mfa_ok,
                last_seen: now,
                created_at: now,
            },
        ))
    }

    /// Finds a live session (not revoked, not idle too long, not too old) and touches it.
    pub async fn session(
        &self,
        token: &str,
        policy: SessionPolicy,
        now: time::OffsetDateTime,
    ) -> Result<Option<Session>> {
        let now = millis(now);
        let h = sha256_hex(token.as_bytes());
        let Some(r) = sqlx::query(
            "SELECT user_id, public_id, csrf, mfa_ok, created_at, last_seen, revoked_at FROM sessions WHERE id_hash = $1",
        )
        .bind(&h)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let revoked: Option<i64> = r.try_get("revoked_at")?;
        let created_at: i64 = r.try_get("created_at")?;
        let last_seen: i64 = r.try_get("last_seen")?;
        if revoked.is_some()
            || now - last_seen > policy.idle_ms
            || now - created_at > policy.absolute_ms
        {
            return Ok(None);
        }
        let Some(user) = self.enabled_user_of(&r).await? else {
            return Ok(None);
        };
        // Touch at most every 10 s to spare writes.
        if now - last_seen > 10_000 {
            sqlx::query("UPDATE sessions SET last_seen = $1 WHERE id_hash = $2")
                .bind(now)
                .bind(&h)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(Session {
            user,
            public_id: r.try_get("public_id")?,
            csrf: r.try_get("csrf")?,
            mfa_ok: r.try_get::<i64, _>("mfa_ok")? != 0,
            last_seen: now,
            created_at,
        }))
    }

    pub async fn revoke_session_token(&self, token: &str, now: time::OffsetDateTime) -> Result<()> {
        sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE id_hash = $2 AND revoked_at IS NULL",
        )
        .bind(millis(now))
        .bind(sha256_hex(token.as_bytes()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Revokes one of the user's own sessions by its public id.
    pub async fn revoke_session(
        &self,
        user: &User,
        public_id: &str,
        source: &str,
        now: time::OffsetDateTime,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND public_id = $3 AND revoked_at IS NULL",
        )
        .bind(millis(now))
        .bind(user.id.to_string())
        .bind(public_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let outcome = if n == 1 { "success" } else { "failure" };
        let e = user.audit_entry("auth.session_revoke", outcome, source);
        tx.commit_with(&e, millis(now)).await?;
        Ok(n == 1)
    }

    pub async fn list_sessions(
        &self,
        user: &User,
        policy: SessionPolicy,
        now: time::OffsetDateTime,
    ) -> Result<Vec<SessionInfo>> {
        let now = millis(now);
        Ok(sqlx::query_as(
            "SELECT public_id, created_at, last_seen, user_agent, source FROM sessions \
             WHERE user_id = $1 AND revoked_at IS NULL AND last_seen > $2 AND created_at > $3 ORDER BY last_seen DESC",
        )
        .bind(user.id.to_string())
        .bind(now - policy.idle_ms)
        .bind(now - policy.absolute_ms)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Creates an API token for a user; the secret is returned once and stored hashed.
    pub async fn create_token(
        &self,
        user: &User,
        label: &str,
        ttl_days: i64,
        now: time::OffsetDateTime,
    ) -> Result<String> {
        if !(1..=MAX_TOKEN_DAYS).contains(&ttl_days) {
            return Err(
                dayaq_domain::ValidationErrors::single(dayaq_domain::FieldError::new(
                    "days",
                    "out_of_range",
                    format!("a token lives from 1 to {MAX_TOKEN_DAYS} days"),
                ))
                .into(),
            );
        }
        let secret = format!("dq_{}", random_token()?);
        let now_ms = millis(now);
        let mut tx = self.begin_write().await?;
        let id = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO api_tokens (id, user_id, token_hash, label, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.to_string())
        .bind(user.id.to_string())
        .bind(sha256_hex(secret.as_bytes()))
        .bind(label.chars().take(100).collect::<String>())
        .bind(now_ms)
        .bind(now_ms + ttl_days * 86_400_000)
        .execute(&mut *tx)
        .await?;
        let mut e = user.audit_entry("auth.token_create", "success", "");
        e.detail = format!("token={id}");
        tx.commit_with(&e, now_ms).await?;
        Ok(secret)
    }

    /// Resolves a bearer token to its user when valid (not revoked, not expired, user not
    /// disabled) and records its use (at most once a minute).
    pub async fn token_user(
        &self,
        secret: &str,
        now: time::OffsetDateTime,
    ) -> Result<Option<User>> {
        Ok(self.token_auth(secret, now).await?.map(|(u, _)| u))
    }

    /// [`Store::token_user`] with the token's scope (issue 22 §3), which narrows what the
    /// policy grants the user on every API request.
    pub async fn token_auth(
        &self,
        secret: &str,
        now: time::OffsetDateTime,
    ) -> Result<Option<(User, dayaq_domain::tokens::TokenScope)>> {
        let hash = sha256_hex(secret.as_bytes());
        let Some(r) = sqlx::query(
            "SELECT user_id, expires_at, revoked_at, last_used_at, scope FROM api_tokens WHERE token_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let now_ms = millis(now);
        let expires: i64 = r.try_get("expires_at")?;
        let revoked: Option<i64> = r.try_get("revoked_at")?;
        if revoked.is_some() || expires <= now_ms {
            return Ok(None);
        }
        let Some(user) = self.enabled_user_of(&r).await? else {
            return Ok(None);
        };
        let last_used: Option<i64> = r.try_get("last_used_at")?;
        if last_used.is_none_or(|t| now_ms - t >= TOKEN_USE_RESOLUTION_MS) {
            // Throttled by the condition too, so concurrent requests write once.
            sqlx::query(
                "UPDATE api_tokens SET last_used_at = $1 WHERE token_hash = $2 \
                 AND (last_used_at IS NULL OR last_used_at <= $3)",
            )
            .bind(now_ms)
            .bind(&hash)
            .bind(now_ms - TOKEN_USE_RESOLUTION_MS)
            .execute(&self.pool)
            .await?;
        }
        // An unknown scope (a newer version's) is no scope at all: the token is refused.
        let scope: String = r.try_get("scope")?;
        Ok(dayaq_domain::tokens::TokenScope::parse(&scope).map(|s| (user, s)))
    }

    pub async fn list_tokens(&self, user: &User) -> Result<Vec<TokenInfo>> {
        let rows = sqlx::query(
            "SELECT id, label, created_at, expires_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC",
        )
        .bind(user.id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                Ok(TokenInfo {
                    id: Uuid::parse_str(&id).map_err(|e| StoreError::Data(e.to_string()))?,
                    label: r.try_get("label")?,
                    created_at: r.try_get("created_at")?,
                    expires_at: r.try_get("expires_at")?,
                    revoked: r.try_get::<Option<i64>, _>("revoked_at")?.is_some(),
                })
            })
            .collect()
    }

    pub async fn revoke_token(
        &self,
        user: &User,
        id: Uuid,
        now: time::OffsetDateTime,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
            .bind(millis(now))
            .bind(id.to_string())
            .bind(user.id.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let outcome = if n == 1 { "success" } else { "failure" };
        let mut e = user.audit_entry("auth.token_revoke", outcome, "");
        e.detail = format!("token={id}");
        tx.commit_with(&e, millis(now)).await?;
        Ok(n == 1)
    }
}

impl Store {
    /// The user a credential row (`user_id`: a session, an API token) belongs to; `None`
    /// when the account is disabled.
    async fn enabled_user_of(&self, r: &sqlx::any::AnyRow) -> Result<Option<User>> {
        let uid: String = r.try_get("user_id")?;
        let user = self.user_by_id(uuid_of(&uid)?).await?;
        Ok((!user.disabled).then_some(user))
    }
}
