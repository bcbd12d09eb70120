//! The referral-package importer (`dayaq referral import-package`): the age decryption of an
//! arbitrary file with this instance's identity, and the validation of an arbitrary decrypted
//! document. Never panics; every refusal says why.
//! The first byte picks the stage: even → validate the rest as a decrypted package; odd →
//! decrypt the rest (a random age file or the rest sealed to the identity, by the second bit).
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

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
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
