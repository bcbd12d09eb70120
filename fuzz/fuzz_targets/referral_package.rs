//! The referral-package importer (`dayaq referral import-package`): the age decryption of an
//! arbitrary file with this instance's identity, and the validation of an arbitrary decrypted
//! document. Never panics; every refusal says why.
//! The first byte picks the stage: bit 2 set → read the rest as a signed package file
//! (envelope parsing and the signature check against a fixed key; see
//! `dayaq_storage::package_signing`); otherwise even → validate the rest as a decrypted
//! package; odd → decrypt the rest (a random age file or the rest sealed to the identity, by
//! the second bit).
#![no_main]

use dayaq_domain::package::validate;
use libfuzzer_sys::fuzz_target;
use std::io::Read;
use std::sync::OnceLock;

fn identity() -> &'static age::x25519::Identity {
    static ID: OnceLock<age::x25519::Identity> = OnceLock::new();
    ID.get_or_init(age::x25519::Identity::generate)
}

fn check(plain: &[u8]) {
    let today = time::macros::date!(2026 - 01 - 31);
    match validate(plain, today) {
        Ok(p) => assert!(!p.from_org.is_empty()),
        Err(e) => assert!(!e.errors.is_empty()),
    }
}

/// Envelope parsing and signature checking of an arbitrary file: never panics, and a file
/// signed by someone else never verifies.
fn envelope(file: &[u8]) {
    use dayaq_storage::package_signing::{parse_envelope, seal_envelope, verify_envelope};
    let key = ed25519_dalek::SigningKey::from_bytes(&[42u8; 32]);
    if let Ok(env) = parse_envelope(file) {
        let _ = verify_envelope(&env, &key.verifying_key());
    }
    // A file signed with the fixed key over the input verifies, and names the input.
    if let Ok(signed) = seal_envelope(&key, "org", "age1recipient", file)
        && let Ok(env) = parse_envelope(&signed)
    {
        assert_eq!(verify_envelope(&env, &key.verifying_key()).ok().as_deref(), Some(file));
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    if which & 4 == 4 {
        envelope(rest);
        return;
    }
    if which & 1 == 0 {
        check(rest);
        return;
    }
    let file = if which & 2 == 0 {
        rest.to_vec()
    } else {
        match age::encrypt(&identity().to_public(), rest) {
            Ok(f) => f,
            Err(_) => return,
        }
    };
    let Ok(d) = age::Decryptor::new_buffered(&file[..]) else {
        return;
    };
    let Ok(mut r) = d.decrypt(std::iter::once(identity() as &dyn age::Identity)) else {
        return;
    };
    let mut plain = Vec::new();
    if r.by_ref().take(1 << 21).read_to_end(&mut plain).is_ok() {
        check(&plain);
    }
});
