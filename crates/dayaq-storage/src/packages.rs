//! Off-platform referral packages: the HTCDS keys of the consented sections of one case, as
//! JSON (`dayaq_domain::package`), encrypted with `age` to the X25519 public key recorded for
//! an organisation that is not on the platform; and their import on another Dayaq instance.
//!
//! - The plaintext exists only in memory (zeroised when dropped); it is never written to disk
//!   or logged. Only the ciphertext leaves this module.
//! - Export needs the same consent as an on-platform referral (`sharing_covered`), or a
//!   supervisor's written override; it is recorded as a completed, off-platform referral
//!   (which never grants access on this platform) and audited in the same transaction.
//! - Import decrypts with this instance's identity, validates like an HTCDS import (every
//!   problem named by field; nothing written on error) and creates a case in the importing
//!   user's organisation with an incoming-package record naming the sender.

use crate::crypto::{field_aad, sha256_hex};
use crate::kernel::Ctx;
use crate::referrals::parse_services;
use crate::{Result, Store, StoreError, from_millis, millis};
use age::secrecy::ExposeSecret;
use dayaq_domain::package::{
    FORMAT, MAX_PLAINTEXT_BYTES, Package, VERSION, case_for_sections, section_name,
};
use dayaq_domain::policy::{Action, Section};
use dayaq_domain::referral::sections_for;
use dayaq_domain::vocab::ReferralReason;
use dayaq_domain::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::Row;
use std::io::Read;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;
use zeroize::Zeroizing;

fn invalid(field: &str, code: &'static str, msg: &str) -> StoreError {
    ValidationErrors::single(FieldError::new(field, code, msg)).into()
}

/// Parses an age X25519 public key (`age1…`) with age's own parser.
pub fn parse_age_recipient(field: &str, s: &str) -> Result<age::x25519::Recipient, FieldError> {
    s.trim().parse::<age::x25519::Recipient>().map_err(|_| {
        FieldError::new(
            field,
            "invalid_age_recipient",
            format!("{field} must be an age X25519 public key (age1…)"),
        )
    })
}

/// Parses age identities (an identity file's text: `AGE-SECRET-KEY-1…` lines, comments).
pub fn parse_age_identities(text: &str) -> Result<Vec<age::x25519::Identity>> {
    let ids: Vec<age::x25519::Identity> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.parse::<age::x25519::Identity>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| {
            invalid(
                "identity",
                "invalid_age_identity",
                "the identity must be an age X25519 identity (AGE-SECRET-KEY-1…)",
            )
        })?;
    if ids.is_empty() {
        return Err(invalid(
            "identity",
            "invalid_age_identity",
            "the identity file holds no age identity",
        ));
    }
    Ok(ids)
}

/// Reads an age identity file (the text is zeroised after parsing).
pub fn load_age_identity_file(path: &std::path::Path) -> Result<Vec<age::x25519::Identity>> {
    let text = Zeroizing::new(std::fs::read_to_string(path)?);
    parse_age_identities(&text)
}

/// A new age X25519 identity: (identity file text, public key). The caller keeps the secret.
pub fn generate_age_identity(now: time::OffsetDateTime) -> (Zeroizing<String>, String) {
    let id = age::x25519::Identity::generate();
    let public = id.to_public().to_string();
    let created = now.format(&Rfc3339).unwrap_or_default();
    let text = Zeroizing::new(format!(
        "# created: {created}\n# public key: {public}\n{}\n",
        id.to_string().expose_secret()
    ));
    (text, public)
}

/// An organisation that can receive packages (read by column name).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct PackageRecipient {
    pub org_slug: String,
    #[serde(rename = "org_Name")]
    pub org_name: String,
    #[serde(rename = "org_Type")]
    pub org_type: String,
    pub age_recipient: String,
}

/// What a caseworker asks for.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PackageInput {
    /// Slug of the receiving (off-platform) organisation.
    pub recipient_org: String,
    pub services: Vec<String>,
    /// HTCDS `cas_ReasonForOutgoingReferral`.
    #[serde(rename = "cas_ReasonForOutgoingReferral")]
    pub reason: String,
    /// A supervisor's written reason to send without a covering consent.
    #[serde(default)]
    pub consent_override_reason: Option<String>,
}

/// An exported package: the referral that records it and the age ciphertext.
#[derive(Debug)]
pub struct ExportedPackage {
    pub referral_id: Uuid,
    pub sections: Vec<Section>,
    /// The package file: the signed envelope around the age ciphertext
    /// (see `package_signing`).
    pub ciphertext: Vec<u8>,
}

/// What an import created.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportedPackage {
    pub case_id: Uuid,
    pub case_number: String,
    /// The verified sender: the name an administrator gave the signing key when accepting it.
    pub from_org: String,
    /// Always true: unsigned or unverified packages are refused.
    pub verified_sender: bool,
    /// The sender's name as written inside the package (informational).
    pub claimed_from_org: String,
    /// The sender's organisation id on its own instance.
    pub sender_org_id: String,
    pub services: Vec<String>,
    pub sections: Vec<String>,
}

/// A package sent or received, as recorded on the case.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PackageRecord {
    pub id: Uuid,
    /// outgoing or incoming.
    pub direction: String,
    pub referral_id: Option<Uuid>,
    /// Outgoing: the recipient organisation's id; incoming: the verified sender's name (given
    /// when its signing key was accepted).
    pub counterpart: String,
    pub services: Vec<String>,
    #[serde(rename = "cas_ReasonForOutgoingReferral")]
    pub reason: String,
    pub sections: Vec<String>,
    /// SHA-256 of the encrypted package.
    pub digest: String,
    pub created_at: String,
    /// Incoming: the package's signature was verified against a key accepted on this
    /// instance (`counterpart` is then the name given to that key).
    pub verified_sender: bool,
}

fn split(s: &str) -> Vec<String> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

impl Store {
    /// Records (or replaces) the age public key of an organisation that is not on the
    /// platform; an administrative act (CLI), audited.
    pub async fn set_org_age_recipient(
        &self,
        slug: &str,
        recipient: &str,
        now: time::OffsetDateTime,
    ) -> Result<()> {
        let r = parse_age_recipient("age_recipient", recipient)
            .map_err(|e| StoreError::Invalid(ValidationErrors::single(e)))?;
        let org = self.org_of_field_or_invalid("slug", slug).await?;
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM org_age_recipients WHERE org_id = $1")
            .bind(org.id.to_string())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO org_age_recipients (org_id, recipient, updated_at) VALUES ($1, $2, $3)",
        )
        .bind(org.id.to_string())
        .bind(r.to_string())
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        let mut e = crate::audit::AuditEntry::new("org.age_recipient", "success");
        e.actor_org = org.id.to_string();
        e.source = "cli".into();
        tx.commit_with(&e, millis(now)).await?;
        Ok(())
    }

    /// Organisations with a recorded age public key (possible package recipients).
    pub async fn package_recipients(&self) -> Result<Vec<PackageRecipient>> {
        Ok(sqlx::query_as(
            "SELECT o.slug AS org_slug, o.name AS org_name, o.org_type AS org_type, r.recipient AS age_recipient \
             FROM org_age_recipients r JOIN organisations o ON o.id = r.org_id ORDER BY o.slug",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Stores this instance's age identity (sealed with the system key) so that the web
    /// application can open incoming packages. Returns the public key.
    pub async fn install_instance_identity(
        &self,
        identity_text: &str,
        now: time::OffsetDateTime,
    ) -> Result<String> {
        let ids = parse_age_identities(identity_text)?;
        let Some(first) = ids.first() else {
            return Err(invalid("identity", "invalid_age_identity", "no identity"));
        };
        let public = first.to_public().to_string();
        let id = Uuid::new_v4().to_string();
        let system = self.keys.system()?;
        let secret = first.to_string();
        let sealed = system.seal(
            &field_aad("instance_age_identities", "identity", &id, &system.key_id()),
            secret.expose_secret().as_bytes(),
        )?;
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO instance_age_identities (id, recipient, identity, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&id)
            .bind(&public)
            .bind(sealed)
            .bind(millis(now))
            .execute(&mut *tx)
            .await?;
        let mut e = crate::audit::AuditEntry::new("key.age_identity", "success");
        e.source = "cli".into();
        tx.commit_with(&e, millis(now)).await?;
        Ok(public)
    }

    /// This instance's installed age identities (newest first).
    pub async fn instance_identities(&self) -> Result<Vec<age::x25519::Identity>> {
        let rows = sqlx::query(
            "SELECT id, identity FROM instance_age_identities ORDER BY created_at DESC, id",
        )
        .fetch_all(&self.pool)
        .await?;
        let system = self.keys.system()?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id: String = r.try_get("id")?;
            let ct: Vec<u8> = r.try_get("identity")?;
            let plain = system.open(
                &field_aad("instance_age_identities", "identity", &id, &system.key_id()),
                &ct,
            )?;
            let text = Zeroizing::new(String::from_utf8_lossy(&plain).into_owned());
            out.extend(parse_age_identities(&text)?);
        }
        Ok(out)
    }

    /// Builds, encrypts and records a referral package for an off-platform organisation.
    pub async fn export_package(
        &self,
        ctx: &Ctx<'_>,
        case: Uuid,
        input: &PackageInput,
    ) -> Result<ExportedPackage> {
        let access = self.authorize_case(ctx, Action::ReferCase, case).await?;
        let mut errs = ValidationErrors::default();
        let owner = access.facts().owner_org;
        let to = self
            .receiver_of_field(
                "recipient_org",
                input.recipient_org.trim(),
                owner,
                &mut errs,
            )
            .await?;
        if let Some(o) = &to {
            let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE org_id = $1")
                .bind(o.id.to_string())
                .fetch_one(&self.pool)
                .await?;
            if users > 0 {
                errs.push(FieldError::new(
                    "recipient_org",
                    "on_platform",
                    "this organisation works on the platform: send it a referral instead",
                ));
            }
        }
        let recipient = match &to {
            Some(o) => {
                let key: Option<String> = sqlx::query_scalar(
                    "SELECT recipient FROM org_age_recipients WHERE org_id = $1",
                )
                .bind(o.id.to_string())
                .fetch_optional(&self.pool)
                .await?;
                match key.map(|k| parse_age_recipient("recipient_org", &k)) {
                    Some(Ok(r)) => Some(r),
                    Some(Err(e)) => {
                        errs.push(e);
                        None
                    }
                    None => {
                        errs.push(FieldError::new(
                            "recipient_org",
                            "no_age_recipient",
                            "no age public key is recorded for this organisation",
                        ));
                        None
                    }
                }
            }
            None => None,
        };
        let mut services = parse_services(&input.services, &mut errs);
        let reason = ReferralReason::parse(&input.reason)
            .map_err(|e| errs.push(e))
            .ok();
        let override_reason = input
            .consent_override_reason
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if override_reason.is_some_and(|r| r.chars().count() > 2000) {
            errs.push(FieldError::new(
                "consent_override_reason",
                "too_long",
                "the reason is longer than 2000 characters",
            ));
        }
        errs.into_result()?;
        let (Some(to), Some(recipient), Some(reason)) = (to, recipient, reason) else {
            return Err(StoreError::Data("unreachable".into()));
        };
        services.sort();
        let sections = sections_for(&services);
        // The exporter must be able to read every section it sends.
        for s in &sections {
            self.require(ctx, &access, Action::ReadSection(*s)).await?;
        }
        // Consent: the same rule as an on-platform referral.
        let covered = self
            .consent_or_override(
                ctx,
                &access,
                &to,
                override_reason,
                "referral.package_export",
            )
            .await?;
        // The document, in memory only.
        let from = self.org_by_id(access.facts().owner_org).await?;
        // The sender's signing key (created on first use, before the write transaction).
        let signing = self.org_signing_key(from.id, ctx.now).await?;
        let recipient_text = recipient.to_string();
        let view = self.get_case_of(ctx, &access, true).await?;
        let mut flat = match serde_json::to_value(&view) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        if let Some(Value::Object(identity)) = flat.remove("identity") {
            flat.extend(identity);
        }
        let svc: Vec<String> = services.iter().map(|s| s.as_str().to_string()).collect();
        let sec: Vec<String> = sections
            .iter()
            .map(|s| section_name(*s).to_string())
            .collect();
        let doc = Package {
            format: FORMAT.into(),
            version: VERSION,
            created: ctx.now.format(&Rfc3339).unwrap_or_default(),
            from_org: from.name.clone(),
            services: svc.clone(),
            reason: reason.as_str().into(),
            sections: sec.clone(),
            case: case_for_sections(&flat, &sections),
            from_org_id: Some(from.id.to_string()),
            to_recipient: Some(recipient_text.clone()),
        };
        drop(flat);
        let plain =
            Zeroizing::new(serde_json::to_vec(&doc).map_err(|e| StoreError::Data(e.to_string()))?);
        drop(doc);
        let ciphertext =
            age::encrypt(&recipient, &plain).map_err(|e| StoreError::Data(e.to_string()))?;
        drop(plain);
        let digest = sha256_hex(&ciphertext);
        let file = crate::package_signing::seal_envelope(
            &signing,
            &from.id.to_string(),
            &recipient_text,
            &ciphertext,
        )?;

        let referral_id = Uuid::new_v4();
        let rid = referral_id.to_string();
        let cs = case.to_string();
        let now = millis(ctx.now);
        let mut w = self.write_case(ctx, &access).await?;
        let ovr = match (covered, override_reason) {
            (false, Some(r)) => {
                let key = self.case_key(&mut w, &access).await?;
                Some(key.seal(
                    &field_aad("referrals", "consent_override", &rid, "case"),
                    r.as_bytes(),
                )?)
            }
            _ => None,
        };
        sqlx::query(
            "INSERT INTO referrals (id, case_id, from_org, to_org, services, reason, details, state, consent_override, override_by, \
             created_by, created_at, responded_by, responded_at, ended_at, off_platform) \
             VALUES ($1, $2, $3, $4, $5, $6, NULL, 'Completed', $7, $8, $9, $10, $9, $10, $10, 1)",
        )
        .bind(&rid)
        .bind(&cs)
        .bind(access.facts().owner_org.to_string())
        .bind(to.id.to_string())
        .bind(svc.join(","))
        .bind(reason.as_str())
        .bind(ovr.clone())
        .bind(ovr.as_ref().map(|_| ctx.actor.user_id.to_string()))
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .execute(&mut *w)
        .await?;
        sqlx::query(
            "INSERT INTO referral_packages (id, direction, case_id, referral_id, counterpart, services, reason, sections, digest, created_by, created_at) \
             VALUES ($1, 'outgoing', $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(Uuid::new_v4().to_string())
        .bind(&cs)
        .bind(&rid)
        .bind(to.id.to_string())
        .bind(svc.join(","))
        .bind(reason.as_str())
        .bind(sec.join(","))
        .bind(&digest)
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .execute(&mut *w)
        .await?;
        w.event(
            "referral.package_sent",
            &format!("referral={rid} services={}", svc.join(",")),
        )
        .await?;
        w.commit(
            if ovr.is_some() {
                "referral.consent_override"
            } else {
                "referral.package_export"
            },
            format!("referral={rid} to_org={} off_platform=1", to.id),
        )
        .await?;
        Ok(ExportedPackage {
            referral_id,
            sections,
            ciphertext: file,
        })
    }

    /// Decrypts a package with `identities`, validates it and creates a case in the actor's
    /// organisation with an incoming-package record. Nothing is written on any error.
    pub async fn import_package(
        &self,
        ctx: &Ctx<'_>,
        file: &[u8],
        identities: &[age::x25519::Identity],
    ) -> Result<ImportedPackage> {
        self.authorize_import(ctx)?;
        // The signed envelope first: addressed to us, signed by an accepted key, unaltered.
        let envelope = crate::package_signing::parse_envelope(file)?;
        let ours: Vec<String> = identities
            .iter()
            .map(|i| i.to_public().to_string())
            .collect();
        let verified = self.verify_package(&envelope, &ours).await?;
        let ciphertext = verified.ciphertext.as_slice();
        let decryptor = age::Decryptor::new_buffered(ciphertext).map_err(|_| {
            invalid(
                "package",
                "not_age",
                "the file is not an age-encrypted package",
            )
        })?;
        let wrong = || {
            invalid(
                "identity",
                "wrong_identity",
                "the package is not encrypted to this instance's key (wrong identity)",
            )
        };
        if identities.is_empty() {
            return Err(wrong());
        }
        let reader = decryptor
            .decrypt(identities.iter().map(|i| i as &dyn age::Identity))
            .map_err(|_| wrong())?;
        let mut plain = Zeroizing::new(Vec::new());
        reader
            .take(MAX_PLAINTEXT_BYTES as u64 + 1)
            .read_to_end(&mut plain)
            .map_err(|_| invalid("package", "corrupt", "the package could not be decrypted"))?;
        let p = dayaq_domain::package::validate(&plain, ctx.now.date())?;
        drop(plain);
        // The encrypted document names the same sender and recipient as the signature: it was
        // not taken from another package and re-signed or re-addressed.
        if p.from_org_id.as_deref() != Some(envelope.sender_org_id.as_str())
            || p.to_recipient.as_deref() != Some(envelope.recipient.as_str())
        {
            return Err(invalid(
                "signature",
                "sender_mismatch",
                "the package's content names another sender or recipient than its signature",
            ));
        }
        let sender = verified.sender;
        let digest = sha256_hex(ciphertext);
        let svc: Vec<String> = p.services.iter().map(|s| s.as_str().to_string()).collect();
        let sec: Vec<String> = p
            .sections
            .iter()
            .map(|s| section_name(*s).to_string())
            .collect();
        let prepared = self.prepare_cases(ctx.now, std::slice::from_ref(&p.case))?;
        let ids = prepared
            .first()
            .map(|c| c.id.clone())
            .ok_or_else(|| StoreError::Data("no case prepared".into()))?;
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        let seen: Option<String> = sqlx::query_scalar(
            "SELECT id FROM referral_packages WHERE direction = 'incoming' AND digest = $1",
        )
        .bind(&digest)
        .fetch_optional(&mut *tx)
        .await?;
        if seen.is_some() {
            return Err(invalid(
                "package",
                "already_imported",
                "this package was imported before",
            ));
        }
        self.insert_prepared(&mut tx, ctx, &prepared, "referral_package")
            .await?;
        sqlx::query(
            "INSERT INTO referral_packages (id, direction, case_id, referral_id, counterpart, services, reason, sections, digest, created_by, created_at, signed_by) \
             VALUES ($1, 'incoming', $2, NULL, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(Uuid::new_v4().to_string())
        .bind(&ids)
        .bind(&sender.name)
        .bind(svc.join(","))
        .bind(p.reason.as_str())
        .bind(sec.join(","))
        .bind(&digest)
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .bind(&sender.public_key)
        .execute(&mut *tx)
        .await?;
        let new_access = self.new_case_access(ctx, &ids)?;
        Self::case_event(
            &mut tx,
            ctx,
            &new_access,
            "referral.package_received",
            &format!("services={}", svc.join(",")),
        )
        .await?;
        let mut a = ctx.entry("referral.package_import", "success", &ids);
        a.detail = format!(
            "digest={} sender_org={} key={}",
            &digest[..16.min(digest.len())],
            sender.sender_org_id,
            &sha256_hex(sender.public_key.as_bytes())[..16]
        );
        tx.commit_with(&a, now).await?;
        let case_number: String = sqlx::query_scalar("SELECT case_number FROM cases WHERE id = $1")
            .bind(&ids)
            .fetch_one(&self.pool)
            .await?;
        Ok(ImportedPackage {
            case_id: Uuid::parse_str(&ids).map_err(|e| StoreError::Data(e.to_string()))?,
            case_number,
            from_org: sender.name,
            verified_sender: true,
            claimed_from_org: p.from_org,
            sender_org_id: sender.sender_org_id,
            services: svc,
            sections: sec,
        })
    }

    /// Packages sent and received for a case (for anyone who may read the case).
    pub async fn case_packages(&self, ctx: &Ctx<'_>, case: Uuid) -> Result<Vec<PackageRecord>> {
        let access = self.authorize_case(ctx, Action::ReadCase, case).await?;
        // Packages are the owning organisation's off-platform referrals: a receiving
        // organisation (need-to-know grant) does not learn the case's other referrals.
        let sees_all = access.facts().owner_org == ctx.actor.org_id
            || (ctx.actor.role == dayaq_domain::Role::Supervisor
                && access.facts().break_glass.contains(&ctx.actor.user_id));
        if !sees_all {
            return Ok(vec![]);
        }
        let rows = sqlx::query(
            "SELECT id, direction, referral_id, counterpart, services, reason, sections, digest, created_at, signed_by \
             FROM referral_packages WHERE case_id = $1 ORDER BY created_at, id",
        )
        .bind(case.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("id")?;
                let rid: Option<String> = r.try_get("referral_id")?;
                Ok(PackageRecord {
                    id: Uuid::parse_str(&id).map_err(|e| StoreError::Data(e.to_string()))?,
                    direction: r.try_get("direction")?,
                    referral_id: rid.and_then(|s| Uuid::parse_str(&s).ok()),
                    counterpart: r.try_get("counterpart")?,
                    services: split(&r.try_get::<String, _>("services")?),
                    reason: r.try_get("reason")?,
                    sections: split(&r.try_get::<String, _>("sections")?),
                    digest: r.try_get("digest")?,
                    created_at: from_millis(r.try_get("created_at")?)
                        .format(&Rfc3339)
                        .unwrap_or_default(),
                    verified_sender: r.try_get::<Option<String>, _>("signed_by")?.is_some(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dayaq_domain::package::section_keys;

    #[test]
    fn every_packaged_key_is_an_importable_htcds_column() {
        for s in Section::ALL {
            for k in section_keys(*s) {
                let c = crate::htcds::column(k);
                assert!(
                    c.is_some_and(|c| c.kind != crate::htcds::ColumnKind::ReadOnly),
                    "{k}"
                );
            }
        }
    }

    #[test]
    fn recipients_are_checked_with_age_and_errors_name_the_field() {
        let (text, public) = generate_age_identity(time::OffsetDateTime::UNIX_EPOCH);
        assert!(parse_age_recipient("age_recipient", &public).is_ok());
        let e = parse_age_recipient("age_recipient", "age1notakey").err();
        assert_eq!(e.map(|e| e.field), Some("age_recipient".to_string()));
        let ids = parse_age_identities(&text).ok().unwrap_or_default();
        assert_eq!(ids.len(), 1);
        assert!(parse_age_identities("AGE-SECRET-KEY-1XYZ").is_err());
        assert!(parse_age_identities("# only a comment\n").is_err());
    }
}
