//! Passkeys / security keys (WebAuthn, `webauthn-rs`) as a second factor (issue 22 §2): the
//! relying party and the two ceremonies. Each ceremony's state is kept server-side
//! (`webauthn_challenges`: one-time, five minutes, bound to the user and the session that
//! began it); the browser gets the options and sends back the credential, nothing else.
//! Screens: `pages/passkeys.rs`; storage: `dayaq_storage::users::passkeys`.

use crate::error::AppError;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dayaq_domain::{FieldError, ValidationErrors};
use dayaq_storage::Store;
use dayaq_storage::users::{Ceremony, User};
use uuid::Uuid;
pub use webauthn_rs::prelude::Url;
use webauthn_rs::prelude::{
    Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Webauthn, WebauthnBuilder,
};

/// The relying party. With a public URL (`serve --public-url https://dayaq.example.gov`) its
/// host is the RP id and its origin the only one accepted; without one, `localhost` on any
/// port (development and tests: browsers treat `http://localhost` as a secure context).
pub fn relying_party(public_url: Option<&Url>) -> Result<Webauthn, String> {
    let (rp_id, origin, any_port) = match public_url {
        Some(u) => (
            u.host_str()
                .ok_or("the public URL has no host name")?
                .to_string(),
            u.clone(),
            false,
        ),
        None => (
            "localhost".to_string(),
            Url::parse("http://localhost").map_err(|e| e.to_string())?,
            true,
        ),
    };
    WebauthnBuilder::new(&rp_id, &origin)
        .map_err(|e| format!("passkeys: the RP id must be the public URL's host ({e})"))?
        .rp_name("Dayaq")
        .allow_any_port(any_port)
        .build()
        .map_err(|e| format!("passkeys: {e}"))
}

/// `serve --public-url`: an `https` URL (or `http://localhost…`) with a host name.
pub fn parse_public_url(s: &str) -> Result<Url, String> {
    let u = Url::parse(s.trim()).map_err(|e| format!("not a URL: {e}"))?;
    let local = u.host_str() == Some("localhost");
    if u.scheme() != "https" && !local {
        return Err("the public URL must be https (or http://localhost)".into());
    }
    relying_party(Some(&u))?;
    Ok(u)
}

/// A begun ceremony: the id of its stored state and the options for `navigator.credentials`.
pub struct Begun {
    pub challenge_id: Uuid,
    pub options_json: String,
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("passkey: {e}"))
}

/// The credential id as stored (base64url, no padding).
pub fn credential_id_text(id: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(id)
}

fn stored_passkeys(list: &[dayaq_storage::users::StoredPasskey]) -> Result<Vec<Passkey>, AppError> {
    list.iter()
        .map(|p| serde_json::from_str::<Passkey>(&p.credential).map_err(internal))
        .collect()
}

fn refused(code: &'static str, message: &str) -> AppError {
    AppError::Invalid(ValidationErrors::single(FieldError::new(
        "credential",
        code,
        message,
    )))
}

/// Begins registering a new passkey for `user` (credentials already registered are excluded).
pub async fn begin_registration(
    store: &Store,
    rp: &Webauthn,
    user: &User,
    session_id: &str,
    now: time::OffsetDateTime,
) -> Result<Begun, AppError> {
    let existing = stored_passkeys(&store.passkey_credentials(user.id).await?)?;
    let exclude = existing.iter().map(|p| p.cred_id().clone()).collect();
    let (ccr, state) = rp
        .start_passkey_registration(user.id, &user.username, &user.username, Some(exclude))
        .map_err(internal)?;
    let state = serde_json::to_string(&state).map_err(internal)?;
    let challenge_id = store
        .put_challenge(user, session_id, Ceremony::Register, &state, now)
        .await?;
    Ok(Begun {
        challenge_id,
        options_json: serde_json::to_string(&ccr).map_err(internal)?,
    })
}

/// Finishes a registration begun on this session: the state is taken once (a replayed or
/// expired response is refused), the attestation checked, the passkey stored and audited.
/// Refusals are field errors on `credential` (or `name`).
#[allow(clippy::too_many_arguments)]
pub async fn finish_registration(
    store: &Store,
    rp: &Webauthn,
    user: &User,
    session_id: &str,
    challenge_id: &str,
    credential: &str,
    name: &str,
    source: &str,
    now: time::OffsetDateTime,
) -> Result<Uuid, AppError> {
    // The name first: a bad one costs no ceremony.
    dayaq_storage::users::validate_passkey_name(name)
        .map_err(|e| AppError::Invalid(ValidationErrors::single(e)))?;
    let Ok(challenge_id) = Uuid::parse_str(challenge_id.trim()) else {
        return Err(refused(
            "passkey_challenge_unknown",
            "the security key step has expired; try again",
        ));
    };
    let Some(state) = store
        .take_challenge(challenge_id, user, session_id, Ceremony::Register, now)
        .await?
    else {
        return Err(refused(
            "passkey_challenge_unknown",
            "the security key step has expired; try again",
        ));
    };
    let state: PasskeyRegistration = serde_json::from_str(&state).map_err(internal)?;
    let Ok(reg) = serde_json::from_str::<RegisterPublicKeyCredential>(credential) else {
        return Err(refused(
            "passkey_missing",
            "no answer from a security key was received",
        ));
    };
    let passkey = rp.finish_passkey_registration(&reg, &state).map_err(|_| {
        refused(
            "passkey_refused",
            "the security key's answer was not accepted",
        )
    })?;
    let json = serde_json::to_string(&passkey).map_err(internal)?;
    Ok(store
        .add_passkey(
            user,
            &credential_id_text(passkey.cred_id()),
            &json,
            name,
            source,
            now,
        )
        .await?)
}

/// Begins the sign-in step with one of `user`'s passkeys; `None` when the user has none.
pub async fn begin_authentication(
    store: &Store,
    rp: &Webauthn,
    user: &User,
    session_id: &str,
    now: time::OffsetDateTime,
) -> Result<Option<Begun>, AppError> {
    let passkeys = stored_passkeys(&store.passkey_credentials(user.id).await?)?;
    if passkeys.is_empty() {
        return Ok(None);
    }
    let (rcr, state) = rp
        .start_passkey_authentication(&passkeys)
        .map_err(internal)?;
    let state = serde_json::to_string(&state).map_err(internal)?;
    let challenge_id = store
        .put_challenge(user, session_id, Ceremony::Authenticate, &state, now)
        .await?;
    Ok(Some(Begun {
        challenge_id,
        options_json: serde_json::to_string(&rcr).map_err(internal)?,
    }))
}

/// Takes the sign-in ceremony's state (once; `None` when unknown, expired, of another user or
/// session, or already used).
pub async fn take_authentication(
    store: &Store,
    user: &User,
    session_id: &str,
    challenge_id: &str,
    now: time::OffsetDateTime,
) -> Result<Option<PasskeyAuthentication>, AppError> {
    let Ok(id) = Uuid::parse_str(challenge_id.trim()) else {
        return Ok(None);
    };
    match store
        .take_challenge(id, user, session_id, Ceremony::Authenticate, now)
        .await?
    {
        Some(s) => Ok(Some(serde_json::from_str(&s).map_err(internal)?)),
        None => Ok(None),
    }
}

/// Checks a sign-in answer against the taken state and the user's stored credentials:
/// `Some((credential id, the credential again when its counter moved))` when it verifies.
/// An unknown credential, another user's credential, a wrong signature or a malformed answer
/// give `None`.
pub fn verify_authentication(
    rp: &Webauthn,
    state: Option<&PasskeyAuthentication>,
    stored: &[dayaq_storage::users::StoredPasskey],
    credential: &str,
) -> Option<(String, Option<String>)> {
    let state = state?;
    let answer: PublicKeyCredential = serde_json::from_str(credential).ok()?;
    let res = rp.finish_passkey_authentication(&answer, state).ok()?;
    let cred_id = credential_id_text(res.cred_id());
    let row = stored.iter().find(|p| p.credential_id == cred_id)?;
    let mut pk: Passkey = serde_json::from_str(&row.credential).ok()?;
    let updated = match pk.update_credential(&res) {
        Some(true) => serde_json::to_string(&pk).ok(),
        _ => None,
    };
    Some((cred_id, updated))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_follows_the_public_url() {
        let rp = relying_party(None).unwrap();
        assert!(
            rp.get_allowed_origins()
                .iter()
                .any(|o| o.as_str() == "http://localhost/")
        );
        let u = Url::parse("https://dayaq.example.gov").unwrap();
        let rp = relying_party(Some(&u)).unwrap();
        assert_eq!(
            rp.get_allowed_origins()[0].as_str(),
            "https://dayaq.example.gov/"
        );
        // An address is no RP id: refused at start, not at the first sign-in.
        let ip = Url::parse("https://192.0.2.1").unwrap();
        assert!(relying_party(Some(&ip)).is_err());
    }
}
