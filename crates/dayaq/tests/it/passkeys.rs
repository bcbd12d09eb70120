//! Passkeys / security keys as a second factor and recovery codes (issue 22 §2), over HTTP
//! with the webauthn-rs project's software authenticator (`SoftPasskey`): registration on the
//! account screen, sign-in with the passkey, refusals (replayed ceremony, unknown credential,
//! another user's credential), recovery codes once, the per-role mandatory setting.
//! The browser flow with Chromium's virtual authenticator is `e2e_passkeys`.

use crate::kit::*;
use reqwest::StatusCode;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::prelude::{
    CreationChallengeResponse, RequestChallengeResponse, Url,
};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

/// The origin the tests' authenticator signs (the default relying party: localhost, any port).
fn origin(app: &TestApp) -> Url {
    Url::parse(&app.base_url.replace("127.0.0.1", "localhost")).unwrap()
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of attribute `name` on the first element that has it.
fn attr(html: &str, name: &str) -> String {
    let key = format!("{name}=\"");
    let i = html
        .find(&key)
        .unwrap_or_else(|| panic!("no {name} in:\n{html}"));
    let rest = &html[i + key.len()..];
    unescape(&rest[..rest.find('"').unwrap()])
}

/// The hidden `challenge_id` of the ceremony form.
fn challenge_id(html: &str) -> String {
    let key = "name=\"challenge_id\" value=\"";
    let i = html.find(key).expect("challenge_id field");
    let rest = &html[i + key.len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// A page's registration ceremony answered by `auth`: (challenge id, credential JSON).
fn register(app: &TestApp, auth: &mut SoftPasskey, page: &str) -> (String, String) {
    let options: CreationChallengeResponse =
        serde_json::from_str(&attr(page, "data-options")).unwrap();
    let cred = auth.do_registration(origin(app), options).unwrap();
    (challenge_id(page), serde_json::to_string(&cred).unwrap())
}

/// A page's sign-in ceremony answered by `auth`, with `allow` (a credential id, base64url)
/// put in place of the page's allowed credentials when given: (challenge id, credential JSON).
fn assert_with(
    app: &TestApp,
    auth: &mut SoftPasskey,
    page: &str,
    allow: Option<&serde_json::Value>,
) -> (String, String) {
    let mut options: serde_json::Value = serde_json::from_str(&attr(page, "data-options")).unwrap();
    if let Some(id) = allow {
        options["publicKey"]["allowCredentials"] =
            serde_json::json!([{ "type": "public-key", "id": id }]);
    }
    let options: RequestChallengeResponse = serde_json::from_value(options).unwrap();
    let cred = auth.do_authentication(origin(app), options).unwrap();
    (challenge_id(page), serde_json::to_string(&cred).unwrap())
}

async fn audit_count(app: &TestApp, action: &str, outcome: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = $1 AND outcome = $2")
        .bind(action)
        .bind(outcome)
        .fetch_one(app.db.store.pool())
        .await
        .unwrap()
}

/// The password step; asserts where it sends the user.
async fn password_step(app: &TestApp, c: &reqwest::Client, username: &str, to: &str) {
    let csrf = page_csrf(c, format!("{}/login", app.base_url)).await;
    let r = submit_login(c, &app.base_url, &csrf, username, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "password of {username}");
    assert_eq!(
        r.headers()["location"],
        to,
        "after the password of {username}"
    );
}

async fn sign_out(app: &TestApp, c: &reqwest::Client) {
    let (_, home) = page_get(app, c, "/").await;
    let csrf = csrf_field(&home);
    let r = submit(c, format!("{}/logout", app.base_url), &[("csrf", csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn passkeys_register_sign_in_and_refuse_replays_unknown_and_foreign_credentials() {
    let app = spawn_app().await;
    let store = &app.db.store;
    let (_, aysel) = org_and_user(&app.db, "pk-org", "caseworker").await;
    let (_, bahar) = org_and_user(&app.db, "pk-org", "hotline_operator").await;
    let c = web_client();
    sign_in_with_second_factor(&c, &app.base_url, store, &aysel).await;
    let mut key = SoftPasskey::new(true);

    // A refused form (no name) keeps nothing and says why beside the field.
    let (_, page) = page_get(&app, &c, "/account/security-keys").await;
    let (cid, cred) = register(&app, &mut key, &page);
    let csrf = csrf_field(&page);
    let (s, body) = form_post(
        &app,
        &c,
        "/account/security-keys",
        &[
            ("csrf", &csrf),
            ("challenge_id", &cid),
            ("credential", &cred),
            ("name", " "),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"passkey-name-error\""), "{body}");
    assert!(store.passkeys_of(aysel.id).await.unwrap().is_empty());

    // Registered with a name; listed; audited.
    let (_, page) = page_get(&app, &c, "/account/security-keys").await;
    let (cid, cred) = register(&app, &mut key, &page);
    let form = [
        ("csrf", csrf.as_str()),
        ("challenge_id", &cid),
        ("credential", &cred),
        ("name", "Office key"),
    ];
    let r = submit(&c, format!("{}/account/security-keys", app.base_url), &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/account/security-keys?done=added");
    let (_, page) = page_get(&app, &c, "/account/security-keys?done=added").await;
    assert!(page.contains("Office key") && page.contains("id=\"passkeys-done\""));
    assert_eq!(audit_count(&app, "passkey.register", "success").await, 1);
    // The same answer again (a replayed ceremony) is refused: its state was used up.
    let r = submit(&c, format!("{}/account/security-keys", app.base_url), &form).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("id=\"passkey-key-error\""));
    assert_eq!(store.passkeys_of(aysel.id).await.unwrap().len(), 1);
    // The API lists it (never credential material).
    let token = user_token(&app.db, &aysel).await;
    let list: serde_json::Value = bearer_get(
        &api_client(),
        format!("{}/api/v1/account/passkeys", app.base_url),
        &token,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(list["passkeys"][0]["name"], "Office key");
    assert!(list["passkeys"][0]["last_used_at"].is_null());
    assert!(!list.to_string().contains("cred"), "{list}");

    // Bahar registers a key of her own (for the foreign-credential case).
    let cb = web_client();
    sign_in(&cb, &app.base_url, &bahar.username).await;
    let mut bahar_key = SoftPasskey::new(true);
    let (_, page) = page_get(&app, &cb, "/account/security-keys").await;
    let (cid, cred) = register(&app, &mut bahar_key, &page);
    let bahar_cred_id: serde_json::Value =
        serde_json::from_str::<serde_json::Value>(&cred).unwrap()["rawId"].clone();
    let (s, _) = form_post(
        &app,
        &cb,
        "/account/security-keys",
        &[
            ("csrf", &csrf_field(&page)),
            ("challenge_id", &cid),
            ("credential", &cred),
            ("name", "Bahar"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    // A key never registered anywhere.
    let mut stray = SoftPasskey::new(true);
    let (_, page) = page_get(&app, &cb, "/account/security-keys").await;
    let (_, stray_cred) = register(&app, &mut stray, &page);
    let stray_id: serde_json::Value =
        serde_json::from_str::<serde_json::Value>(&stray_cred).unwrap()["rawId"].clone();

    // Sign out; the password step now leads to the passkey (preferred over TOTP).
    sign_out(&app, &c).await;
    password_step(&app, &c, &aysel.username, "/login/passkey").await;
    let (s, step) = page_get(&app, &c, "/login/passkey").await;
    assert_eq!(s, StatusCode::OK);
    assert!(step.contains("href=\"/login/totp\"") && step.contains("href=\"/login/recovery\""));
    let step_csrf = csrf_field(&step);
    // Another user's real key answering this user's challenge: refused.
    let (cid, foreign) = assert_with(&app, &mut bahar_key, &step, Some(&bahar_cred_id));
    let (s, body) = form_post(
        &app,
        &c,
        "/login/passkey",
        &[
            ("csrf", &step_csrf),
            ("challenge_id", &cid),
            ("credential", &foreign),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
    // An unknown credential: refused.
    let (_, step) = page_get(&app, &c, "/login/passkey").await;
    let (cid, unknown) = assert_with(&app, &mut stray, &step, Some(&stray_id));
    let (s, _) = form_post(
        &app,
        &c,
        "/login/passkey",
        &[
            ("csrf", &step_csrf),
            ("challenge_id", &cid),
            ("credential", &unknown),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // The right key: signed in, with a new session; last use recorded and audited.
    let (_, step) = page_get(&app, &c, "/login/passkey").await;
    let (cid, good) = assert_with(&app, &mut key, &step, None);
    let good_form = [
        ("csrf", step_csrf.as_str()),
        ("challenge_id", &cid),
        ("credential", &good),
    ];
    let r = submit(&c, format!("{}/login/passkey", app.base_url), &good_form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/");
    let (s, _) = page_get(&app, &c, "/cases").await;
    assert_eq!(s, StatusCode::OK, "a full session after the passkey");
    assert!(
        store.passkeys_of(aysel.id).await.unwrap()[0]
            .last_used_at
            .is_some()
    );
    assert_eq!(audit_count(&app, "auth.passkey", "success").await, 1);
    assert_eq!(
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login' AND detail = 'wrong_passkey'"
        )
        .fetch_one(store.pool())
        .await
        .unwrap(),
        2
    );

    // Replaying that good answer on a new pending sign-in: its ceremony is used up, and
    // under the new ceremony the signature is over another challenge. Both refused.
    sign_out(&app, &c).await;
    password_step(&app, &c, &aysel.username, "/login/passkey").await;
    let (_, step) = page_get(&app, &c, "/login/passkey").await;
    let csrf = csrf_field(&step);
    let (s, _) = form_post(
        &app,
        &c,
        "/login/passkey",
        &[
            ("csrf", &csrf),
            ("challenge_id", &cid),
            ("credential", &good),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "replayed ceremony");
    let (_, step) = page_get(&app, &c, "/login/passkey").await;
    let (s, body) = form_post(
        &app,
        &c,
        "/login/passkey",
        &[
            ("csrf", &csrf),
            ("challenge_id", &challenge_id(&step)),
            ("credential", &good),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "replayed signature");
    assert!(body.contains("role=\"alert\""));
    // Still pending: no page opens.
    let (s, _) = page_get(&app, &c, "/cases").await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    app.db.cleanup().await;
}

#[tokio::test]
async fn recovery_codes_sign_in_once_and_regenerating_ends_the_old_ones() {
    let app = spawn_app().await;
    let store = &app.db.store;
    let (_, user) = org_and_user(&app.db, "rc-org", "caseworker").await;
    let c = web_client();
    sign_in_with_second_factor(&c, &app.base_url, store, &user).await;
    let (_, page) = page_get(&app, &c, "/account/security-keys").await;
    let (s, page) = form_post(
        &app,
        &c,
        "/account/recovery-codes",
        &[("csrf", &csrf_field(&page))],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let codes: Vec<String> = page
        .split("<li><code>")
        .skip(1)
        .map(|s| s[..s.find('<').unwrap()].to_string())
        .collect();
    assert_eq!(codes.len(), 10, "{page}");
    // Stored hashed: no code in the table.
    let stored: Vec<String> = sqlx::query_scalar("SELECT code_hash FROM recovery_codes")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(stored.len(), 10);
    assert!(stored.iter().all(|h| h.starts_with("$argon2id$")));
    assert!(
        codes
            .iter()
            .all(|code| !stored.iter().any(|h| h.contains(&code.replace('-', ""))))
    );
    // Shown once: the page again lists none.
    let (_, again) = page_get(&app, &c, "/account/security-keys").await;
    assert!(!again.contains(&codes[0]));

    let name = user.username.as_str();
    let use_code = |code: String| {
        let (app, c) = (&app, &c);
        async move {
            sign_out(app, c).await;
            password_step(app, c, name, "/login/totp").await;
            let (s, page) = page_get(app, c, "/login/recovery").await;
            assert_eq!(s, StatusCode::OK);
            let csrf = csrf_field(&page);
            form_post(
                app,
                c,
                "/login/recovery",
                &[("csrf", &csrf), ("code", &code)],
            )
            .await
        }
    };
    // Typed in capitals with spaces: accepted once.
    let (s, _) = use_code(codes[0].to_uppercase().replace('-', " ")).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(page_get(&app, &c, "/cases").await.0, StatusCode::OK);
    assert_eq!(audit_count(&app, "auth.recovery_code", "success").await, 1);
    // Not twice.
    let (s, body) = use_code(codes[0].clone()).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(body.contains("id=\"code-error\""));
    assert_eq!(store.recovery_codes_left(user.id).await.unwrap(), 9);

    // New codes: the old unused ones stop working.
    let (_, home) = page_get(&app, &c, "/login/recovery").await;
    let (s, _) = form_post(
        &app,
        &c,
        "/login/recovery",
        &[("csrf", &csrf_field(&home)), ("code", &codes[1])],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "another code still works");
    let (_, page) = page_get(&app, &c, "/account/security-keys").await;
    let (s, _) = form_post(
        &app,
        &c,
        "/account/recovery-codes",
        &[("csrf", &csrf_field(&page))],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = use_code(codes[2].clone()).await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "an old code after regenerating"
    );
    assert_eq!(
        audit_count(&app, "recovery_codes.regenerate", "success").await,
        2
    );
    app.db.cleanup().await;
}

#[tokio::test]
async fn a_role_that_must_use_a_passkey_enrols_one_and_cannot_fall_back_to_totp() {
    let app = spawn_app().await;
    let store = &app.db.store;
    let (_, sup) = org_and_user(&app.db, "mand-org", "supervisor").await;
    store.totp_set_secret(&sup, TOTP_SECRET).await.unwrap();
    let out = dayaq_cli(
        &app.db,
        &["user", "passkey-required", "--role", "supervisor"],
    );
    assert_cli_ok(&out);
    let out = dayaq_cli(&app.db, &["user", "passkey-required"]);
    assert_cli_ok(&out);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "supervisor");
    let out = dayaq_cli(&app.db, &["user", "passkey-required", "--role", "nobody"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--role"));
    assert_eq!(
        audit_count(&app, "passkey.role_required", "success").await,
        1
    );

    let c = web_client();
    password_step(&app, &c, &sup.username, "/login/passkey/enrol").await;
    // No TOTP way around it.
    let r = fetch(&c, format!("{}/login/totp", app.base_url)).await;
    assert_eq!(r.headers()["location"], "/login/passkey/enrol");
    let (_, page) = page_get(&app, &c, "/login/passkey/enrol").await;
    assert!(page.contains("id=\"code\""), "TOTP proves the factor first");
    let mut key = SoftPasskey::new(true);
    let (cid, cred) = register(&app, &mut key, &page);
    let csrf = csrf_field(&page);
    // A wrong code: refused beside the code, no key stored.
    let (s, body) = form_post(
        &app,
        &c,
        "/login/passkey/enrol",
        &[
            ("csrf", &csrf),
            ("challenge_id", &cid),
            ("credential", &cred),
            ("name", "Desk"),
            ("code", "000000"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(body.contains("id=\"code-error\"") && body.contains("value=\"Desk\""));
    assert!(store.passkeys_of(sup.id).await.unwrap().is_empty());
    let (cid, cred) = register(&app, &mut key, &body);
    let code = totp_code(TOTP_SECRET, &sup.username);
    let (s, _) = form_post(
        &app,
        &c,
        "/login/passkey/enrol",
        &[
            ("csrf", &csrf),
            ("challenge_id", &cid),
            ("credential", &cred),
            ("name", "Desk"),
            ("code", &code),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(page_get(&app, &c, "/cases").await.0, StatusCode::OK);
    // The last key of such a role stays.
    let id = store.passkeys_of(sup.id).await.unwrap()[0].id;
    let (_, page) = page_get(&app, &c, "/account/security-keys").await;
    assert!(page.contains("id=\"passkey-required\""));
    let (s, body) = form_post(
        &app,
        &c,
        &format!("/account/security-keys/{id}/remove"),
        &[("csrf", &csrf_field(&page))],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"passkeys-list-error\""));
    assert_eq!(store.passkeys_of(sup.id).await.unwrap().len(), 1);
    // Optional again: the key can go (audited), and TOTP signs in.
    assert_cli_ok(&dayaq_cli(
        &app.db,
        &["user", "passkey-required", "--role", "supervisor", "--off"],
    ));
    let (s, _) = form_post(
        &app,
        &c,
        &format!("/account/security-keys/{id}/remove"),
        &[("csrf", &csrf_field(&page))],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert_eq!(audit_count(&app, "passkey.remove", "success").await, 1);
    sign_out(&app, &c).await;
    password_step(&app, &c, &sup.username, "/login/totp").await;
    app.db.cleanup().await;
}
