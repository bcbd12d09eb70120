//! Field encryption and the blind index.
//!
//! - The master key (32 random bytes) lives in a file outside the database (mode 0600).
//! - Each case has its own random data key, wrapped (XChaCha20-Poly1305) by the master key and
//!   stored in `case_keys`. Deleting that row makes the case's ciphertext unreadable.
//! - Every ciphertext carries its associated data `table/column/row-id/key-id`, so a blob moved
//!   to another row or column fails to decrypt.
//! - The blind index is HMAC-SHA-256 under a separate random key (wrapped like the case keys).

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::path::Path;
use zeroize::{Zeroize, Zeroizing};

pub const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;
/// Ciphertext format version byte.
const FORMAT_V1: u8 = 1;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("decryption failed (wrong key or tampered data)")]
    Decrypt,
    #[error("encryption failed")]
    Encrypt,
    #[error("random number generator failed")]
    Random,
    #[error("master key file: {0}")]
    KeyFile(String),
}

/// A 32-byte secret key, zeroed on drop.
#[derive(Clone)]
pub struct SecretKey(Zeroizing<[u8; KEY_LEN]>);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|_| CryptoError::Random)?;
    Ok(b)
}

/// Random token as lowercase hex (session ids, API tokens, CSRF tokens).
pub fn random_token() -> Result<String, CryptoError> {
    Ok(hex::encode(random_bytes::<32>()?))
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

impl SecretKey {
    pub fn generate() -> Result<Self, CryptoError> {
        Ok(Self(Zeroizing::new(random_bytes::<KEY_LEN>()?)))
    }

    pub fn from_bytes(b: &[u8]) -> Result<Self, CryptoError> {
        let arr: [u8; KEY_LEN] = b.try_into().map_err(|_| CryptoError::Decrypt)?;
        Ok(Self(Zeroizing::new(arr)))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0[..]
    }

    /// A short public identifier of the key (not secret; derived one-way).
    pub fn key_id(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"dayaq-key-id");
        h.update(self.as_bytes());
        hex::encode(&h.finalize()[..8])
    }

    /// Authenticated encryption of `plain`, bound to `aad`. Output: version | nonce | ct+tag.
    pub fn seal(&self, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let cipher =
            XChaCha20Poly1305::new_from_slice(self.as_bytes()).map_err(|_| CryptoError::Encrypt)?;
        let nonce_bytes = random_bytes::<NONCE_LEN>()?;
        let nonce = XNonce::try_from(&nonce_bytes[..]).map_err(|_| CryptoError::Encrypt)?;
        let ct = cipher
            .encrypt(&nonce, Payload { msg: plain, aad })
            .map_err(|_| CryptoError::Encrypt)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != FORMAT_V1 {
            return Err(CryptoError::Decrypt);
        }
        let cipher =
            XChaCha20Poly1305::new_from_slice(self.as_bytes()).map_err(|_| CryptoError::Decrypt)?;
        let nonce =
            XNonce::try_from(&sealed[1..1 + NONCE_LEN]).map_err(|_| CryptoError::Decrypt)?;
        cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: &sealed[1 + NONCE_LEN..],
                    aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Decrypt)
    }

    /// Wraps another key under this one.
    pub fn wrap(&self, purpose: &str, key: &SecretKey) -> Result<Vec<u8>, CryptoError> {
        self.seal(
            format!("wrap/{purpose}/{}", self.key_id()).as_bytes(),
            key.as_bytes(),
        )
    }

    pub fn unwrap_key(&self, purpose: &str, wrapped: &[u8]) -> Result<SecretKey, CryptoError> {
        let plain = self.open(
            format!("wrap/{purpose}/{}", self.key_id()).as_bytes(),
            wrapped,
        )?;
        SecretKey::from_bytes(&plain)
    }

    /// A subkey for one purpose, derived one-way (HMAC-SHA-256 under this key over a fixed
    /// label), so that it is as secret as this key and never stored anywhere.
    pub fn derive(&self, label: &str) -> Result<SecretKey, CryptoError> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(self.as_bytes()).map_err(|_| CryptoError::Encrypt)?;
        mac.update(b"dayaq-derive\0");
        mac.update(label.as_bytes());
        SecretKey::from_bytes(&mac.finalize().into_bytes())
    }

    /// HMAC-SHA-256 (blind index).
    pub fn hmac_hex(&self, kind: &str, value: &str) -> Result<String, CryptoError> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(self.as_bytes()).map_err(|_| CryptoError::Encrypt)?;
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        Ok(hex::encode(mac.finalize().into_bytes()))
    }
}

/// Associated data for a field ciphertext.
pub fn field_aad(table: &str, column: &str, row_id: &str, key_id: &str) -> Vec<u8> {
    format!("{table}/{column}/{row_id}/{key_id}").into_bytes()
}

/// Loads the master key from `path`, creating it (mode 0600) when absent.
/// The file holds the key as 64 hex characters.
pub fn load_or_create_master_key(path: &Path) -> Result<SecretKey, CryptoError> {
    if path.exists() {
        return load_master_key(path);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| CryptoError::KeyFile(e.to_string()))?;
    }
    let key = SecretKey::generate()?;
    write_master_key(path, &key)?;
    Ok(key)
}

pub fn load_master_key(path: &Path) -> Result<SecretKey, CryptoError> {
    let mut text =
        std::fs::read_to_string(path).map_err(|e| CryptoError::KeyFile(e.to_string()))?;
    let bytes = hex::decode(text.trim());
    text.zeroize();
    let mut bytes = bytes.map_err(|_| CryptoError::KeyFile("not a hex key".into()))?;
    let key = SecretKey::from_bytes(&bytes)
        .map_err(|_| CryptoError::KeyFile("the key must be 32 bytes".into()));
    bytes.zeroize();
    key
}

/// Writes a key file atomically with mode 0600.
pub fn write_master_key(path: &Path, key: &SecretKey) -> Result<(), CryptoError> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(&tmp)
        .map_err(|e| CryptoError::KeyFile(e.to_string()))?;
    let mut hexkey = Zeroizing::new(hex::encode(key.as_bytes()));
    hexkey.push('\n');
    f.write_all(hexkey.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| CryptoError::KeyFile(e.to_string()))?;
    std::fs::rename(&tmp, path).map_err(|e| CryptoError::KeyFile(e.to_string()))?;
    Ok(())
}

/// The previous hash of the first audit row (and the hash of an empty chain).
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_aad_binding() -> Result<(), CryptoError> {
        let k = SecretKey::generate()?;
        let ct = k.seal(b"cases/identity/1/k", b"secret")?;
        assert_eq!(&k.open(b"cases/identity/1/k", &ct)?[..], b"secret");
        assert!(k.open(b"cases/identity/2/k", &ct).is_err());
        let mut bad = ct.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(k.open(b"cases/identity/1/k", &bad).is_err());
        Ok(())
    }

    #[test]
    fn wrap_unwrap() -> Result<(), CryptoError> {
        let m = SecretKey::generate()?;
        let k = SecretKey::generate()?;
        let w = m.wrap("case", &k)?;
        assert_eq!(m.unwrap_key("case", &w)?.as_bytes(), k.as_bytes());
        assert!(SecretKey::generate()?.unwrap_key("case", &w).is_err());
        Ok(())
    }
}
