//! Single sign-on with OpenID Connect (issue 22 §1): an organisation's provider settings, the
//! (issuer, subject) → account links, the one-time pending sign-ins (state, nonce, PKCE
//! verifier) and the decision on a verified ID token. The protocol itself (discovery, code
//! exchange, token verification) is `dayaq-http/src/pages/oidc.rs` through `openidconnect`.

use super::User;
use crate::audit::AuditEntry;
use crate::crypto::sha256_hex;
use crate::kernel::Acting;
use crate::{Result, Store, StoreError, millis};
use dayaq_domain::sso::{Provider, ProviderInput, Refusal, RoleMap, email_allowed};
use dayaq_domain::{FieldError, ValidationErrors};
use sqlx::FromRow;
use uuid::Uuid;

/// A pending sign-in lives this long (the user types their password at the provider).
pub const PENDING_TTL_MS: i64 = 10 * 60 * 1000;

/// An organisation's provider as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgOidc {
    pub org_id: Uuid,
    pub org_slug: String,
    pub provider: Provider,
}

/// A provider offered on the sign-in page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoButton {
    pub org_slug: String,
    pub display_name: String,
}

/// A started sign-in, taken back once by its callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSso {
    pub org_id: Uuid,
    pub nonce: String,
    pub pkce_verifier: String,
    pub next_path: String,
}

/// What a verified ID token says about the user (nothing of it is logged or audited).
#[derive(Debug, Clone, Default)]
pub struct SsoIdentity {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    /// The values of the organisation's role claim (empty when none is configured).
    pub role_values: Vec<String>,
}

/// The outcome of a single sign-on.
#[derive(Debug, Clone)]
pub enum SsoOutcome {
    SignedIn(User),
    Refused(Refusal),
}

#[derive(FromRow)]
struct OidcRow {
    org_id: String,
    slug: String,
    display_name: String,
    issuer: String,
    redirect_uri: String,
    client_id: String,
    secret_file: String,
    allowed_domains: String,
    role_claim: String,
    role_map: String,
    local_passwords_allowed: i64,
}

const OIDC_SELECT: &str = "SELECT p.org_id, o.slug, p.display_name, p.issuer, p.redirect_uri, \
     p.client_id, p.secret_file, p.allowed_domains, p.role_claim, p.role_map, \
     p.local_passwords_allowed FROM org_oidc p JOIN organisations o ON o.id = p.org_id";

fn oidc_from_row(r: &sqlx::any::AnyRow) -> Result<OrgOidc> {
    let row = OidcRow::from_row(r)?;
    Ok(OrgOidc {
        org_id: Uuid::parse_str(&row.org_id).map_err(|e| StoreError::Data(e.to_string()))?,
        org_slug: row.slug,
        provider: Provider {
            display_name: row.display_name,
            issuer: row.issuer,
            redirect_uri: row.redirect_uri,
            client_id: row.client_id,
            secret_file: row.secret_file,
            allowed_domains: row
                .allowed_domains
                .split(',')
                .filter(|d| !d.is_empty())
                .map(str::to_string)
                .collect(),
            role_claim: row.role_claim,
            role_map: RoleMap::from_lines(&row.role_map)
                .map_err(|e| StoreError::Data(e.message))?,
            local_passwords_allowed: row.local_passwords_allowed != 0,
        },
    })
}

fn refused(org: Option<Uuid>, user: Option<&User>, reason: Refusal, source: &str) -> AuditEntry {
    let mut e = AuditEntry::new("auth.sso", "failure");
    if let Some(o) = org {
        e.actor_org = o.to_string();
    }
    if let Some(u) = user {
        e.actor_user = u.id.to_string();
        e.actor_org = u.org_id.to_string();
    }
    e.source = source.to_string();
    e.detail = format!("reason={}", reason.code());
    e
}

impl Store {
    /// Sets (or replaces) an organisation's provider; audited `org.oidc_set` by the operator.
    pub async fn set_org_oidc(
        &self,
        slug: &str,
        input: &ProviderInput,
        now: time::OffsetDateTime,
    ) -> Result<OrgOidc> {
        let mut errs = ValidationErrors::default();
        let p = match input.validate() {
            Ok(p) => Some(p),
            Err(e) => {
                errs.errors.extend(e.errors);
                None
            }
        };
        let org = self.org_of_field("org", slug, &mut errs).await?;
        errs.into_result()?;
        let (Some(p), Some(org)) = (p, org) else {
            return Err(StoreError::Data("unreachable validation state".into()));
        };
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM org_oidc WHERE org_id = $1")
            .bind(org.id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO org_oidc (org_id, display_name, issuer, redirect_uri, client_id, \
             secret_file, allowed_domains, role_claim, role_map, local_passwords_allowed, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(org.id.to_string())
        .bind(&p.display_name)
        .bind(&p.issuer)
        .bind(&p.redirect_uri)
        .bind(&p.client_id)
        .bind(&p.secret_file)
        .bind(p.allowed_domains.join(","))
        .bind(&p.role_claim)
        .bind(p.role_map.to_lines())
        .bind(i64::from(p.local_passwords_allowed))
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        let by = Acting::cli();
        let mut e = AuditEntry::new("org.oidc_set", "success");
        e.actor_user = by.user;
        e.actor_org = org.id.to_string();
        e.source = by.source;
        e.detail = format!(
            "local_passwords_allowed={} role_mappings={}",
            p.local_passwords_allowed,
            p.role_map.0.len()
        );
        tx.commit_with(&e, millis(now)).await?;
        self.org_oidc(org.id)
            .await?
            .ok_or_else(|| StoreError::Data("provider not stored".into()))
    }

    /// Removes an organisation's provider (its users keep their links, unused); audited.
    pub async fn clear_org_oidc(&self, slug: &str, now: time::OffsetDateTime) -> Result<bool> {
        let org = self.org_of_field_or_invalid("org", slug).await?;
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("DELETE FROM org_oidc WHERE org_id = $1")
            .bind(org.id.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let by = Acting::cli();
        let mut e = AuditEntry::new("org.oidc_clear", "success");
        e.actor_user = by.user;
        e.actor_org = org.id.to_string();
        e.source = by.source;
        tx.commit_with(&e, millis(now)).await?;
        Ok(n > 0)
    }

    /// The organisation's provider, if it has one.
    pub async fn org_oidc(&self, org_id: Uuid) -> Result<Option<OrgOidc>> {
        let q = format!("{OIDC_SELECT} WHERE p.org_id = $1");
        let r = sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(org_id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        r.as_ref().map(oidc_from_row).transpose()
    }

    /// The provider of the organisation with this slug, if any.
    pub async fn org_oidc_by_slug(&self, slug: &str) -> Result<Option<OrgOidc>> {
        let q = format!("{OIDC_SELECT} WHERE o.slug = $1");
        let r = sqlx::query(sqlx::AssertSqlSafe(q))
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?;
        r.as_ref().map(oidc_from_row).transpose()
    }

    /// The provider of the acting user's organisation, for its settings screen (the policy's
    /// `ViewSsoSettings`).
    pub async fn sso_settings(&self, ctx: &crate::kernel::Ctx<'_>) -> Result<Option<OrgOidc>> {
        self.authorize_org(ctx, dayaq_domain::Action::ViewSsoSettings)?;
        self.org_oidc(ctx.actor.org_id).await
    }

    /// The providers offered on the sign-in page, by organisation slug.
    pub async fn sso_buttons(&self) -> Result<Vec<SsoButton>> {
        let q = format!("{OIDC_SELECT} ORDER BY o.slug");
        let rows = sqlx::query(sqlx::AssertSqlSafe(q))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                oidc_from_row(r).map(|o| SsoButton {
                    org_slug: o.org_slug,
                    display_name: o.provider.display_name,
                })
            })
            .collect()
    }

    /// Whether users of this organisation may sign in with a local password (organisations
    /// without a provider: always).
    pub async fn local_passwords_allowed(&self, org_id: Uuid) -> Result<bool> {
        let v: Option<i64> =
            sqlx::query_scalar("SELECT local_passwords_allowed FROM org_oidc WHERE org_id = $1")
                .bind(org_id.to_string())
                .fetch_optional(&self.pool)
                .await?;
        Ok(v.is_none_or(|v| v != 0))
    }

    /// Links the provider's subject to an account of an organisation that has a provider
    /// (one subject per account, one account per subject); audited `user.oidc_link`.
    pub async fn link_oidc_subject(
        &self,
        by: &Acting,
        username: &str,
        subject: &str,
        now: time::OffsetDateTime,
    ) -> Result<()> {
        let mut errs = ValidationErrors::default();
        let subject = subject.trim();
        if subject.is_empty() || subject.len() > 255 {
            errs.push(FieldError::new(
                "subject",
                "invalid_length",
                "the subject must be 1-255 characters",
            ));
        }
        let user = match self.user_by_name(username).await {
            Ok(u) => Some(u),
            Err(StoreError::NotFound) => {
                errs.push(FieldError::new("username", "unknown", "no such user"));
                None
            }
            Err(e) => return Err(e),
        };
        let provider = match &user {
            Some(u) => {
                let p = self.org_oidc(u.org_id).await?;
                if p.is_none() {
                    errs.push(FieldError::new(
                        "username",
                        "no_provider",
                        "the user's organisation has no single sign-on provider",
                    ));
                }
                p
            }
            None => None,
        };
        errs.into_result()?;
        let (Some(user), Some(provider)) = (user, provider) else {
            return Err(StoreError::Data("unreachable validation state".into()));
        };
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM oidc_links WHERE user_id = $1")
            .bind(user.id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO oidc_links (issuer, subject, user_id, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&provider.provider.issuer)
        .bind(subject)
        .bind(user.id.to_string())
        .bind(millis(now))
        .execute(&mut *tx)
        .await
        .map_err(|e| crate::unique_as(e, "subject"))?;
        let mut e = AuditEntry::new("user.oidc_link", "success");
        e.actor_user = by.user.clone();
        e.actor_org = user.org_id.to_string();
        e.source = by.source.clone();
        e.detail = format!("user={}", user.id);
        tx.commit_with(&e, millis(now)).await?;
        Ok(())
    }

    /// Whether an account is linked to a provider subject (the subject itself is not shown).
    pub async fn oidc_linked(&self, user_id: Uuid) -> Result<bool> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM oidc_links WHERE user_id = $1")
            .bind(user_id.to_string())
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    /// Stores a started sign-in under the hashes of its `state` and browser binding; drops
    /// expired ones.
    pub async fn oidc_begin(
        &self,
        org_id: Uuid,
        state: &str,
        binding: &str,
        pending: &PendingSso,
        now: time::OffsetDateTime,
    ) -> Result<()> {
        let now = millis(now);
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM oidc_pending WHERE expires_at < $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO oidc_pending (state_hash, binding_hash, org_id, nonce, pkce_verifier, \
             next_path, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(sha256_hex(state.as_bytes()))
        .bind(sha256_hex(binding.as_bytes()))
        .bind(org_id.to_string())
        .bind(&pending.nonce)
        .bind(&pending.pkce_verifier)
        .bind(&pending.next_path)
        .bind(now + PENDING_TTL_MS)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes a started sign-in once: the row named by `state` is deleted whatever happens, and
    /// given back only when the browser binding matches and it has not expired.
    pub async fn oidc_take(
        &self,
        state: &str,
        binding: &str,
        now: time::OffsetDateTime,
    ) -> Result<Option<PendingSso>> {
        #[derive(FromRow)]
        struct Row {
            binding_hash: String,
            org_id: String,
            nonce: String,
            pkce_verifier: String,
            next_path: String,
            expires_at: i64,
        }
        let state_hash = sha256_hex(state.as_bytes());
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT binding_hash, org_id, nonce, pkce_verifier, next_path, expires_at \
             FROM oidc_pending WHERE state_hash = $1",
        )
        .bind(&state_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.commit().await?;
            return Ok(None);
        };
        let row = Row::from_row(&row)?;
        let taken = sqlx::query("DELETE FROM oidc_pending WHERE state_hash = $1")
            .bind(&state_hash)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        let bound = row.binding_hash == sha256_hex(binding.as_bytes());
        if taken != 1 || !bound || row.expires_at < millis(now) {
            return Ok(None);
        }
        Ok(Some(PendingSso {
            org_id: Uuid::parse_str(&row.org_id).map_err(|e| StoreError::Data(e.to_string()))?,
            nonce: row.nonce,
            pkce_verifier: row.pkce_verifier,
            next_path: row.next_path,
        }))
    }

    /// Audits a refused single sign-on (reason code only).
    pub async fn oidc_refused(
        &self,
        org_id: Option<Uuid>,
        reason: Refusal,
        source: &str,
        now: time::OffsetDateTime,
    ) -> Result<()> {
        let tx = self.begin_write().await?;
        tx.commit_with(&refused(org_id, None, reason, source), millis(now))
            .await?;
        Ok(())
    }

    /// Decides on a verified ID token for `org`'s provider: the (issuer, subject) must be
    /// linked to an enabled account of that organisation, its e-mail in the allowed domains,
    /// and, when a role claim is configured, one of its values mapped to a role (the account
    /// takes that role, audited `user.role_from_sso`). Every outcome is audited (`auth.sso`).
    pub async fn oidc_sign_in(
        &self,
        org: &OrgOidc,
        id: &SsoIdentity,
        source: &str,
        now: time::OffsetDateTime,
    ) -> Result<SsoOutcome> {
        let user_id: Option<String> = sqlx::query_scalar(
            "SELECT l.user_id FROM oidc_links l JOIN users u ON u.id = l.user_id \
             WHERE l.issuer = $1 AND l.subject = $2 AND u.org_id = $3",
        )
        .bind(&id.issuer)
        .bind(&id.subject)
        .bind(org.org_id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        let user = match user_id {
            Some(u) => {
                let uid = Uuid::parse_str(&u).map_err(|e| StoreError::Data(e.to_string()))?;
                Some(self.user_by_id(uid).await?)
            }
            None => None,
        };
        let p = &org.provider;
        let refusal = match &user {
            None => Some(Refusal::UnknownSubject),
            Some(u) if u.disabled => Some(Refusal::Disabled),
            Some(_)
                if !email_allowed(&p.allowed_domains, id.email.as_deref(), id.email_verified) =>
            {
                Some(Refusal::EmailDomain)
            }
            Some(_)
                if !p.role_claim.is_empty() && p.role_map.role_for(&id.role_values).is_none() =>
            {
                Some(Refusal::NoRole)
            }
            Some(_) => None,
        };
        let now_ms = millis(now);
        let (Some(mut user), None) = (user.clone(), refusal) else {
            let reason = refusal.unwrap_or(Refusal::UnknownSubject);
            let tx = self.begin_write().await?;
            tx.commit_with(
                &refused(Some(org.org_id), user.as_ref(), reason, source),
                now_ms,
            )
            .await?;
            return Ok(SsoOutcome::Refused(reason));
        };
        let mut tx = self.begin_write().await?;
        if let Some(role) = p.role_map.role_for(&id.role_values)
            && !p.role_claim.is_empty()
            && role != user.role
        {
            sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
                .bind(role.as_str())
                .bind(user.id.to_string())
                .execute(&mut *tx)
                .await?;
            let mut e = user.audit_entry("user.role_from_sso", "success", source);
            e.detail = format!("from={} to={}", user.role.as_str(), role.as_str());
            crate::audit::append(&mut tx, &e, now_ms).await?;
            user.role = role;
        }
        let e = user.audit_entry("auth.sso", "success", source);
        tx.commit_with(&e, now_ms).await?;
        Ok(SsoOutcome::SignedIn(user))
    }
}
