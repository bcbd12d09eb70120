//! Signed referral packages (issue 14, item 12).
//!
//! age encryption alone does not say who wrote a package: anyone who knows the recipient's
//! public key can encrypt a document claiming to come "from IOM". Each organisation therefore
//! has an Ed25519 signing key (created on first use, the secret sealed with the system key
//! like the instance's age identity), and a package file is a signed **envelope**:
//!
//! ```text
//! {"format": "dayaq-signed-referral-package", "version": 1,
//!  "sender_org_id": "<uuid>", "signing_key": "<base64 Ed25519 public key>",
//!  "recipient": "age1…", "signature": "<base64>", "package": "<base64 age ciphertext>"}
//! ```
//!
//! The signature covers a domain-separation string, the sender's organisation id, the
//! recipient's age public key and the SHA-256 of the ciphertext ([`signed_message`]); the
//! encrypted document repeats the sender id and the recipient, so a package cannot be
//! re-signed by someone else, replayed to another recipient, or altered. An importing
//! instance accepts only keys an administrator accepted (`dayaq org trust-package-key`,
//! audited); the name recorded with that key is the **verified sender** shown on import.

use crate::crypto::{field_aad, sha256_hex};
use crate::{Result, Store, StoreError, millis};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use dayaq_domain::{FieldError, ValidationErrors};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;
use uuid::Uuid;
use zeroize::Zeroizing;

pub const ENVELOPE_FORMAT: &str = "dayaq-signed-referral-package";
pub const ENVELOPE_VERSION: i64 = 1;
/// Prefix of an exchanged public key: `dayaq-package-key-1:<org uuid>:<base64 key>`.
pub const KEY_PREFIX: &str = "dayaq-package-key-1";
const CONTEXT: &[u8] = b"dayaq referral package signature v1\0";
/// Largest envelope read (a 1 MiB package, base64, and the fields).
pub const MAX_ENVELOPE_BYTES: usize = 2 * 1024 * 1024;

fn invalid(field: &str, code: &'static str, msg: &str) -> StoreError {
    ValidationErrors::single(FieldError::new(field, code, msg)).into()
}

/// The signed package file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    pub format: String,
    pub version: i64,
    pub sender_org_id: String,
    pub signing_key: String,
    pub recipient: String,
    pub signature: String,
    pub package: String,
}

/// The bytes that are signed: context, sender id, recipient (each length-prefixed) and the
/// SHA-256 of the age ciphertext.
pub fn signed_message(sender_org_id: &str, recipient: &str, ciphertext: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(CONTEXT.len() + 16 + sender_org_id.len() + recipient.len() + 32);
    m.extend_from_slice(CONTEXT);
    for part in [sender_org_id.as_bytes(), recipient.as_bytes()] {
        m.extend_from_slice(&(part.len() as u64).to_be_bytes());
        m.extend_from_slice(part);
    }
    m.extend_from_slice(&Sha256::digest(ciphertext));
    m
}

/// Builds the envelope file for `ciphertext`.
pub fn seal_envelope(
    key: &SigningKey,
    sender_org_id: &str,
    recipient: &str,
    ciphertext: &[u8],
) -> Result<Vec<u8>> {
    let sig = key.sign(&signed_message(sender_org_id, recipient, ciphertext));
    let env = Envelope {
        format: ENVELOPE_FORMAT.into(),
        version: ENVELOPE_VERSION,
        sender_org_id: sender_org_id.into(),
        signing_key: B64.encode(key.verifying_key().as_bytes()),
        recipient: recipient.into(),
        signature: B64.encode(sig.to_bytes()),
        package: B64.encode(ciphertext),
    };
    serde_json::to_vec(&env).map_err(|e| StoreError::Data(e.to_string()))
}

/// Reads an envelope (no signature check yet). An age file without an envelope is refused
/// as unsigned.
pub fn parse_envelope(bytes: &[u8]) -> Result<Envelope> {
    if bytes.starts_with(b"age-encryption.org/") || bytes.starts_with(b"-----BEGIN AGE") {
        return Err(invalid(
            "package",
            "unsigned_package",
            "the package is not signed: ask the sender to export it again with an up-to-date Dayaq",
        ));
    }
    if bytes.len() > MAX_ENVELOPE_BYTES {
        return Err(invalid(
            "package",
            "too_large",
            "the package file is larger than 2 MiB",
        ));
    }
    let env: Envelope = serde_json::from_slice(bytes).map_err(|_| {
        invalid(
            "package",
            "not_a_package",
            "the file is not a signed referral package",
        )
    })?;
    if env.format != ENVELOPE_FORMAT || env.version != ENVELOPE_VERSION {
        return Err(invalid(
            "package",
            "unknown_format",
            "the file is not a signed referral package of a version this instance reads",
        ));
    }
    Ok(env)
}

/// Decodes a key as exchanged (`dayaq-package-key-1:<org uuid>:<base64>`).
pub fn parse_public_key(field: &str, s: &str) -> Result<(String, VerifyingKey)> {
    let bad = || {
        invalid(
            field,
            "invalid_package_key",
            "expected a package-signing public key (dayaq-package-key-1:…), as printed by \
             `dayaq key package-signing-public`",
        )
    };
    let mut parts = s.trim().splitn(3, ':');
    let (Some(KEY_PREFIX), Some(org), Some(key)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let org = Uuid::parse_str(org).map_err(|_| bad())?;
    let raw = B64.decode(key).map_err(|_| bad())?;
    let raw: [u8; 32] = raw.try_into().map_err(|_| bad())?;
    let vk = VerifyingKey::from_bytes(&raw).map_err(|_| bad())?;
    Ok((org.to_string(), vk))
}

fn format_public_key(org_id: &str, vk: &VerifyingKey) -> String {
    format!("{KEY_PREFIX}:{org_id}:{}", B64.encode(vk.as_bytes()))
}

/// The signature check of an envelope against `vk`.
pub fn verify_envelope(env: &Envelope, vk: &VerifyingKey) -> Result<Vec<u8>> {
    let bad = || {
        invalid(
            "signature",
            "bad_signature",
            "the signature does not match the package: it was altered, or it is not from this sender or for this recipient",
        )
    };
    let ciphertext = B64.decode(&env.package).map_err(|_| bad())?;
    let sig = B64.decode(&env.signature).map_err(|_| bad())?;
    let sig = Signature::from_slice(&sig).map_err(|_| bad())?;
    vk.verify_strict(
        &signed_message(&env.sender_org_id, &env.recipient, &ciphertext),
        &sig,
    )
    .map_err(|_| bad())?;
    Ok(ciphertext)
}

/// A sender key accepted on this instance.
#[derive(Debug, Clone, Serialize)]
pub struct TrustedPackageKey {
    pub name: String,
    pub sender_org_id: String,
    pub public_key: String,
}

/// The verified sender of an envelope: the accepted key's record and the ciphertext.
pub struct Verified {
    pub sender: TrustedPackageKey,
    pub ciphertext: Vec<u8>,
}

impl Store {
    /// The organisation's signing key, created (and audited) on first use. Call outside a
    /// write transaction.
    pub async fn org_signing_key(
        &self,
        org_id: Uuid,
        now: time::OffsetDateTime,
    ) -> Result<SigningKey> {
        let system = self.keys.system()?;
        let org = org_id.to_string();
        let aad = field_aad("org_signing_keys", "secret", &org, &system.key_id());
        let row = sqlx::query("SELECT secret FROM org_signing_keys WHERE org_id = $1")
            .bind(&org)
            .fetch_optional(&self.pool)
            .await?;
        if let Some(r) = row {
            let sealed: Vec<u8> = r.try_get("secret")?;
            let plain = system.open(&aad, &sealed)?;
            let raw: [u8; 32] = plain
                .as_slice()
                .try_into()
                .map_err(|_| StoreError::Data("signing key has the wrong length".into()))?;
            return Ok(SigningKey::from_bytes(&raw));
        }
        let mut raw = Zeroizing::new([0u8; 32]);
        getrandom::fill(raw.as_mut()).map_err(|e| StoreError::Data(e.to_string()))?;
        let key = SigningKey::from_bytes(&raw);
        let sealed = system.seal(&aad, raw.as_ref())?;
        let public = B64.encode(key.verifying_key().as_bytes());
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO org_signing_keys (org_id, public_key, secret, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (org_id) DO NOTHING",
        )
        .bind(&org)
        .bind(&public)
        .bind(sealed)
        .bind(millis(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            // Another request created it first: use that one.
            drop(tx);
            return Box::pin(self.org_signing_key(org_id, now)).await;
        }
        let mut e = crate::audit::AuditEntry::new("key.package_signing_created", "success");
        e.actor_org = org.clone();
        e.detail = format!("key={}", &sha256_hex(key.verifying_key().as_bytes())[..16]);
        tx.commit_with(&e, millis(now)).await?;
        Ok(key)
    }

    /// The organisation's package-signing public key as exchanged with receiving instances
    /// (`dayaq-package-key-1:<org id>:<key>`); creates the key on first use.
    pub async fn package_signing_public(
        &self,
        slug: &str,
        now: time::OffsetDateTime,
    ) -> Result<String> {
        let org = self.org_of_field_or_invalid("org", slug).await?;
        let key = self.org_signing_key(org.id, now).await?;
        Ok(format_public_key(&org.id.to_string(), &key.verifying_key()))
    }

    /// Accepts a sender's package-signing key on this instance under the name shown as the
    /// verified sender; an administrative act (CLI), audited.
    pub async fn trust_package_key(
        &self,
        name: &str,
        key: &str,
        now: time::OffsetDateTime,
    ) -> Result<TrustedPackageKey> {
        let name = name.trim();
        if name.is_empty()
            || name.chars().count() > dayaq_domain::package::MAX_ORG_NAME
            || name.chars().any(char::is_control)
        {
            return Err(invalid(
                "sender",
                "invalid_length",
                "the sender's name must be 1-200 characters without control characters",
            ));
        }
        let (org, vk) = parse_public_key("key", key)?;
        let public = B64.encode(vk.as_bytes());
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM trusted_package_keys WHERE public_key = $1")
            .bind(&public)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO trusted_package_keys (public_key, sender_org_id, name, accepted_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&public)
        .bind(&org)
        .bind(name)
        .bind(millis(now))
        .execute(&mut *tx)
        .await?;
        let mut e = crate::audit::AuditEntry::new("org.package_key_trusted", "success");
        e.source = "cli".into();
        e.detail = format!("sender_org={org} key={}", &sha256_hex(vk.as_bytes())[..16]);
        tx.commit_with(&e, millis(now)).await?;
        Ok(TrustedPackageKey {
            name: name.to_string(),
            sender_org_id: org,
            public_key: public,
        })
    }

    /// Checks an envelope: addressed to one of `our_recipients`, signed by an accepted key of
    /// the sender it names, signature valid. Returns the verified sender and the ciphertext.
    pub async fn verify_package(
        &self,
        env: &Envelope,
        our_recipients: &[String],
    ) -> Result<Verified> {
        if !our_recipients.iter().any(|r| r == &env.recipient) {
            return Err(invalid(
                "package",
                "wrong_recipient",
                "the package was made for another recipient, not for this instance",
            ));
        }
        let row = sqlx::query(
            "SELECT sender_org_id, name FROM trusted_package_keys WHERE public_key = $1",
        )
        .bind(&env.signing_key)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Err(invalid(
                "signature",
                "unknown_signer",
                "the package is signed with a key that no administrator of this instance accepted \
                 (dayaq org trust-package-key)",
            ));
        };
        let sender_org_id: String = row.try_get("sender_org_id")?;
        let name: String = row.try_get("name")?;
        if sender_org_id != env.sender_org_id {
            return Err(invalid(
                "signature",
                "unknown_signer",
                "the package names a sender whose accepted key is a different one",
            ));
        }
        let raw = B64
            .decode(&env.signing_key)
            .ok()
            .and_then(|r| <[u8; 32]>::try_from(r).ok())
            .and_then(|r| VerifyingKey::from_bytes(&r).ok())
            .ok_or_else(|| StoreError::Data("accepted key is not a valid Ed25519 key".into()))?;
        let ciphertext = verify_envelope(env, &raw)?;
        Ok(Verified {
            sender: TrustedPackageKey {
                name,
                sender_org_id,
                public_key: env.signing_key.clone(),
            },
            ciphertext,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn the_signature_binds_sender_recipient_and_ciphertext() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let file = seal_envelope(&key, "org-a", "age1x", b"ciphertext").unwrap();
        let env = parse_envelope(&file).unwrap();
        let vk = key.verifying_key();
        assert_eq!(verify_envelope(&env, &vk).unwrap(), b"ciphertext");
        for change in [
            |e: &mut Envelope| e.sender_org_id = "org-b".into(),
            |e: &mut Envelope| e.recipient = "age1y".into(),
            |e: &mut Envelope| e.package = B64.encode(b"ciphertexT"),
        ] {
            let mut e = env.clone();
            change(&mut e);
            assert!(verify_envelope(&e, &vk).is_err());
        }
        let other = SigningKey::from_bytes(&[8u8; 32]).verifying_key();
        assert!(verify_envelope(&env, &other).is_err());
    }

    #[test]
    fn keys_round_trip_and_bad_keys_name_the_field() {
        let vk = SigningKey::from_bytes(&[9u8; 32]).verifying_key();
        let id = Uuid::nil().to_string();
        let s = format_public_key(&id, &vk);
        let (org, back) = parse_public_key("key", &s).unwrap();
        assert_eq!((org, back), (id, vk));
        let Err(StoreError::Invalid(e)) = parse_public_key("key", "dayaq-package-key-1:x:y") else {
            panic!("expected a field error");
        };
        assert_eq!(e.errors[0].field, "key");
        assert!(parse_envelope(b"age-encryption.org/v1\n").is_err());
    }
}
