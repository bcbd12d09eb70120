//! Issue 22 §2 in the browser (headless Chromium, every page axe-checked, screenshots in
//! `target/e2e-artifacts/<test>/`): a security key registered on the account screen through
//! Chromium's virtual authenticator (WebDriver `POST /session/{id}/webauthn/authenticator`,
//! CTAP2, internal transport, resident keys, user verified), then signing in with password and
//! passkey; a recovery code signs in once and not twice. One flow, one browser session.

use crate::kit::browser::run;
use crate::kit::org_and_user;
use fantoccini::wd::WebDriverCompatibleCommand;
use serde_json::json;
use webauthn_authenticator_rs::prelude::Url;

/// WebDriver's "Add Virtual Authenticator" (WebAuthn Level 2, §11.3), which fantoccini has no
/// method for.
#[derive(Debug)]
struct AddVirtualAuthenticator;

impl WebDriverCompatibleCommand for AddVirtualAuthenticator {
    fn endpoint(&self, base: &Url, session: Option<&str>) -> Result<Url, url_error::ParseError> {
        base.join(&format!(
            "session/{}/webauthn/authenticator",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &Url) -> (axum::http::Method, Option<String>) {
        let body = json!({
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": true,
            "hasUserVerification": true,
            "isUserVerified": true,
        });
        (axum::http::Method::POST, Some(body.to_string()))
    }
}

/// `url::ParseError`, named through the one `url` crate the tree has.
mod url_error {
    pub use webauthn_authenticator_rs::prelude::Url;
    pub type ParseError = <Url as std::str::FromStr>::Err;
}

#[tokio::test]
async fn e2e_passkey_registered_then_signs_in_and_a_recovery_code_works_once() {
    run("e2e_passkeys", |b, app| async move {
        // WebAuthn needs a domain (not an IP address): the same server through `localhost`.
        let mut b = b;
        b.base = b.base.replace("127.0.0.1", "localhost");
        let (_, user) = org_and_user(&app.db, "e2e-pk", "hotline_operator").await;
        let added = b
            .client
            .issue_cmd(AddVirtualAuthenticator)
            .await
            .expect("virtual authenticator");
        assert!(!added.is_null(), "authenticator id: {added}");

        b.sign_in(&user.username, None).await;
        b.open("/account/security-keys", "security-keys").await;
        b.fill("#passkey-name", "Laptop").await;
        b.click_to("#passkey-submit", "key-added").await;
        assert_eq!(b.count("#passkeys-done").await, 1, "{}", b.source().await);
        assert_eq!(b.text("#passkeys .passkey-name").await, "Laptop");
        b.narrow("security-keys-phone").await;

        // Recovery codes, shown once.
        b.click_to("#recovery-generate", "recovery-codes").await;
        let code = b
            .js(
                "return document.querySelector('#recovery-codes code').textContent;",
                vec![],
            )
            .await
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert_eq!(code.len(), 19, "a code of four groups");

        // Password, then the passkey (preferred over everything else).
        b.sign_out().await;
        b.open("/login", "login").await;
        b.fill("#username", &user.username).await;
        b.fill("#password", crate::kit::PASSWORD).await;
        b.click_to("#login-submit", "passkey-step").await;
        assert_eq!(b.path().await, "/login/passkey");
        b.click_to("#passkey-submit", "signed-in-with-passkey")
            .await;
        assert_eq!(b.path().await, "/", "signed in with the passkey");
        let used = app.db.store.passkeys_of(user.id).await.unwrap();
        assert!(used[0].last_used_at.is_some());

        // A recovery code works once …
        for (round, ok) in [("first", true), ("second", false)] {
            b.sign_out().await;
            b.open("/login", "login").await;
            b.fill("#username", &user.username).await;
            b.fill("#password", crate::kit::PASSWORD).await;
            b.click_to("#login-submit", &format!("passkey-step-{round}"))
                .await;
            b.click_to("#use-recovery", &format!("recovery-step-{round}"))
                .await;
            b.fill("#code", &code).await;
            b.click_to("#recovery-submit", &format!("recovery-{round}"))
                .await;
            if ok {
                assert_eq!(b.path().await, "/", "the recovery code signs in");
            } else {
                // … and not twice.
                assert_eq!(b.path().await, "/login/recovery");
                assert_eq!(b.count("#code-error").await, 1);
            }
        }
    })
    .await;
}
