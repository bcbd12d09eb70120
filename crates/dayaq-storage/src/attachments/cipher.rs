//! Streaming authenticated encryption of an attachment: the STREAM construction (`aead-stream`,
//! big-endian 32-bit counter with a last-chunk flag) over XChaCha20-Poly1305, in chunks of
//! [`CHUNK`] plaintext bytes, so no file is ever held whole in memory.
//!
//! - Key: HKDF-SHA-256 of the case key with info `dayaq-attachment/v1 | case id | attachment id`
//!   (never stored; erasing the case key shreds every attachment of the case).
//! - Every chunk carries the associated data `dayaq-attachment/v1 | case id | attachment id`,
//!   so an object moved to another case or attachment row fails to decrypt; the STREAM counter
//!   and last-chunk flag detect reordered, dropped or truncated chunks.
//! - Format: version byte, 19-byte random nonce prefix, then chunks of `CHUNK + 16` bytes
//!   (the last one shorter, possibly only its tag).

use crate::crypto::{CryptoError, SecretKey, random_bytes};
use aead_stream::{DecryptorBE32, EncryptorBE32, Key, KeyInit, Nonce, StreamBE32};
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::Payload;
use hkdf::Hkdf;
use sha2::Sha256;
use uuid::Uuid;
use zeroize::Zeroizing;

/// Plaintext bytes per chunk.
pub const CHUNK: usize = 64 * 1024;
const TAG: usize = 16;
const VERSION: u8 = 1;
const NONCE_PREFIX: usize = 19;
/// Bytes before the first chunk.
pub const HEADER: usize = 1 + NONCE_PREFIX;
const LABEL: &[u8] = b"dayaq-attachment/v1";

type Aead = XChaCha20Poly1305;
type Stream = StreamBE32<Aead>;

fn context(case: Uuid, attachment: Uuid) -> Vec<u8> {
    let mut v = Vec::with_capacity(LABEL.len() + 34);
    v.extend_from_slice(LABEL);
    v.push(b'|');
    v.extend_from_slice(case.as_bytes());
    v.push(b'|');
    v.extend_from_slice(attachment.as_bytes());
    v
}

fn file_key(case_key: &SecretKey, ctx: &[u8]) -> Result<Aead, CryptoError> {
    let mut okm = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(None, case_key.as_bytes())
        .expand(ctx, &mut okm[..])
        .map_err(|_| CryptoError::Encrypt)?;
    let key = Key::<Aead>::try_from(&okm[..]).map_err(|_| CryptoError::Encrypt)?;
    Ok(Aead::new(&key))
}

/// Encrypts a stream of plaintext pieces; `push` and `finish` give ciphertext to store.
pub struct Sealer {
    enc: EncryptorBE32<Aead>,
    aad: Vec<u8>,
    pending: Vec<u8>,
    header: Option<Vec<u8>>,
}

impl Sealer {
    pub fn new(case_key: &SecretKey, case: Uuid, attachment: Uuid) -> Result<Self, CryptoError> {
        let aad = context(case, attachment);
        let prefix = random_bytes::<NONCE_PREFIX>()?;
        let nonce =
            Nonce::<Aead, Stream>::try_from(&prefix[..]).map_err(|_| CryptoError::Encrypt)?;
        let enc = EncryptorBE32::from_aead(file_key(case_key, &aad)?, &nonce);
        let mut header = Vec::with_capacity(HEADER);
        header.push(VERSION);
        header.extend_from_slice(&prefix);
        Ok(Self {
            enc,
            aad,
            pending: Vec::with_capacity(CHUNK),
            header: Some(header),
        })
    }

    /// Takes `data`; appends to `out` the ciphertext of every chunk now complete. A full
    /// chunk is kept back until more data arrives, so that the last chunk is never empty
    /// unless the whole file is.
    pub fn push(&mut self, mut data: &[u8], out: &mut Vec<u8>) -> Result<(), CryptoError> {
        if let Some(h) = self.header.take() {
            out.extend_from_slice(&h);
        }
        while !data.is_empty() {
            if self.pending.len() == CHUNK {
                let ct = self
                    .enc
                    .encrypt_next(Payload {
                        msg: &self.pending,
                        aad: &self.aad,
                    })
                    .map_err(|_| CryptoError::Encrypt)?;
                out.extend_from_slice(&ct);
                self.pending.clear();
            }
            let take = (CHUNK - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        Ok(())
    }

    /// Encrypts the last chunk (with the last-chunk flag).
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<(), CryptoError> {
        if let Some(h) = self.header.take() {
            out.extend_from_slice(&h);
        }
        let ct = self
            .enc
            .encrypt_last(Payload {
                msg: &self.pending,
                aad: &self.aad,
            })
            .map_err(|_| CryptoError::Encrypt)?;
        out.extend_from_slice(&ct);
        Ok(())
    }
}

/// Decrypts ciphertext pieces as they arrive; fails on any tampering, reordering or
/// truncation (the last chunk must carry the last-chunk flag).
pub struct Opener {
    key: Option<Aead>,
    dec: Option<DecryptorBE32<Aead>>,
    aad: Vec<u8>,
    buf: Vec<u8>,
}

impl Opener {
    pub fn new(case_key: &SecretKey, case: Uuid, attachment: Uuid) -> Result<Self, CryptoError> {
        let aad = context(case, attachment);
        Ok(Self {
            key: Some(file_key(case_key, &aad)?),
            dec: None,
            aad,
            buf: Vec::with_capacity(CHUNK + TAG),
        })
    }

    /// Takes ciphertext; appends to `out` the plaintext of every chunk known not to be the last.
    pub fn push(&mut self, mut data: &[u8], out: &mut Vec<u8>) -> Result<(), CryptoError> {
        while !data.is_empty() {
            if self.dec.is_none() {
                let take = (HEADER - self.buf.len()).min(data.len());
                self.buf.extend_from_slice(&data[..take]);
                data = &data[take..];
                if self.buf.len() == HEADER {
                    self.start()?;
                }
                continue;
            }
            if self.buf.len() == CHUNK + TAG {
                let dec = self.dec.as_mut().ok_or(CryptoError::Decrypt)?;
                let pt = dec
                    .decrypt_next(Payload {
                        msg: &self.buf,
                        aad: &self.aad,
                    })
                    .map_err(|_| CryptoError::Decrypt)?;
                out.extend_from_slice(&pt);
                self.buf.clear();
            }
            let take = (CHUNK + TAG - self.buf.len()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
        Ok(())
    }

    fn start(&mut self) -> Result<(), CryptoError> {
        if self.buf[0] != VERSION {
            return Err(CryptoError::Decrypt);
        }
        let nonce = Nonce::<Aead, Stream>::try_from(&self.buf[1..HEADER])
            .map_err(|_| CryptoError::Decrypt)?;
        let key = self.key.take().ok_or(CryptoError::Decrypt)?;
        self.dec = Some(DecryptorBE32::from_aead(key, &nonce));
        self.buf.clear();
        Ok(())
    }

    /// The last chunk: fails when the stream was cut short.
    pub fn finish(self, out: &mut Vec<u8>) -> Result<(), CryptoError> {
        let dec = self.dec.ok_or(CryptoError::Decrypt)?;
        let pt = dec
            .decrypt_last(Payload {
                msg: &self.buf,
                aad: &self.aad,
            })
            .map_err(|_| CryptoError::Decrypt)?;
        out.extend_from_slice(&pt);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn seal(key: &SecretKey, c: Uuid, a: Uuid, data: &[u8], piece: usize) -> Vec<u8> {
        let mut s = Sealer::new(key, c, a).expect("sealer");
        let mut out = Vec::new();
        for p in data.chunks(piece.max(1)) {
            s.push(p, &mut out).expect("push");
        }
        s.finish(&mut out).expect("finish");
        out
    }

    fn open(
        key: &SecretKey,
        c: Uuid,
        a: Uuid,
        ct: &[u8],
        piece: usize,
    ) -> Result<Vec<u8>, CryptoError> {
        let mut o = Opener::new(key, c, a)?;
        let mut out = Vec::new();
        for p in ct.chunks(piece.max(1)) {
            o.push(p, &mut out)?;
        }
        o.finish(&mut out)?;
        Ok(out)
    }

    #[test]
    fn bound_to_case_and_attachment_and_detects_truncation() {
        let key = SecretKey::generate().expect("key");
        let (c, a) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let data = vec![7u8; 3 * CHUNK + 5];
        let ct = seal(&key, c, a, &data, 1000);
        assert_eq!(ct.len(), HEADER + data.len() + 4 * TAG);
        assert_eq!(open(&key, c, a, &ct, 4096).expect("open"), data);
        assert!(open(&key, Uuid::from_u128(3), a, &ct, 4096).is_err());
        assert!(open(&key, c, Uuid::from_u128(3), &ct, 4096).is_err());
        let other = SecretKey::generate().expect("key");
        assert!(open(&other, c, a, &ct, 4096).is_err());
        // Cut at a chunk boundary: the last-chunk flag is missing.
        assert!(open(&key, c, a, &ct[..HEADER + CHUNK + TAG], 4096).is_err());
        let mut bad = ct.clone();
        bad[HEADER + 10] ^= 1;
        assert!(open(&key, c, a, &bad, 4096).is_err());
        // An exact multiple of the chunk size and an empty file round-trip too.
        let exact = vec![1u8; 2 * CHUNK];
        assert_eq!(
            open(&key, c, a, &seal(&key, c, a, &exact, CHUNK), 7).expect("open"),
            exact
        );
        assert_eq!(
            open(&key, c, a, &seal(&key, c, a, &[], 1), 1).expect("open"),
            Vec::<u8>::new()
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn round_trips_whatever_the_piece_sizes(len in 0usize..(2 * CHUNK + 100), p1 in 1usize..70_000, p2 in 1usize..70_000) {
            let key = SecretKey::generate().expect("key");
            let (c, a) = (Uuid::from_u128(5), Uuid::from_u128(6));
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let ct = seal(&key, c, a, &data, p1);
            prop_assert_eq!(open(&key, c, a, &ct, p2).expect("open"), data);
        }
    }
}
