//! Users: accounts and their rows, passwords (Argon2id) and login throttling
//! (`password.rs`), the TOTP second factor (`totp.rs`), passkeys and recovery codes
//! (`passkeys.rs`).

mod oidc;
mod passkeys;
mod password;
mod totp;

pub use oidc::*;
pub use passkeys::*;
pub use password::*;
pub use totp::*;

use crate::audit::AuditEntry;
use crate::{Result, Store, StoreError, millis, unique_as};
use dayaq_domain::{Actor, Role, ValidationErrors};
use serde::Serialize;
use sqlx::FromRow;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub org_id: Uuid,
    pub username: String,
    pub role: Role,
    pub totp_enabled: bool,
    pub locale: String,
    pub disabled: bool,
    /// The time zone of the user's organisation (IANA name; issue #23 §4).
    pub timezone: String,
    /// The user has at least one passkey / security key (issue 22 §2).
    pub passkeys: bool,
}

impl User {
    /// An audit row of an action by this user from `source` (a client address; empty when
    /// none is recorded).
    pub(crate) fn audit_entry(
        &self,
        action: &'static str,
        outcome: &'static str,
        source: &str,
    ) -> AuditEntry {
        AuditEntry {
            actor_user: self.id.to_string(),
            actor_org: self.org_id.to_string(),
            source: source.to_string(),
            ..AuditEntry::new(action, outcome)
        }
    }

    /// A second factor is set up (TOTP or a passkey): a session of this user that passed it
    /// counts as a second-factor session.
    pub fn has_second_factor(&self) -> bool {
        self.totp_enabled || self.passkeys
    }

    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.id,
            org_id: self.org_id,
            role: self.role,
        }
    }
}

const USER_COLS: &str = "id, org_id, username, role, totp_enabled, locale, disabled, \
     (SELECT o.timezone FROM organisations o WHERE o.id = users.org_id) AS timezone, \
     (SELECT COUNT(*) FROM user_passkeys p WHERE p.user_id = users.id) AS passkey_count";

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
    timezone: Option<String>,
    passkey_count: i64,
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
        timezone: row
            .timezone
            .unwrap_or_else(|| dayaq_domain::zone::DEFAULT_ZONE.to_string()),
        passkeys: row.passkey_count > 0,
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
        tx.commit_with(&e, millis(now)).await?;
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
