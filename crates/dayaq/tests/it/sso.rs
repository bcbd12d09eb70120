//! Single sign-on with OpenID Connect (issue 22 §1), against a real provider: npm
//! `oidc-provider` (`e2e/oidc/provider.mjs`), which `scripts/test` starts and names in
//! `DAYAQ_TEST_OIDC_ISSUER`. Without it every test here says SKIPPED (loudly) and passes.
//! Each test registers its own client at the provider (dynamic registration) with the test
//! server's callback; the provider signs in as the `login_hint` the test adds to the
//! authorization URL, so the flow is a chain of redirects followed here by hand.

use crate::kit::api::*;
use crate::kit::db::*;
use dayaq_domain::Role;
use dayaq_domain::sso::ProviderInput;
use dayaq_storage::StoreError;
use reqwest::StatusCode;
use reqwest::header::LOCATION;

fn issuer(test: &str) -> Option<String> {
    match std::env::var("DAYAQ_TEST_OIDC_ISSUER") {
        Ok(i) if !i.is_empty() => Some(i),
        _ => {
            eprintln!(
                "\n!!!!!!!!!! {test} SKIPPED: DAYAQ_TEST_OIDC_ISSUER is not set (scripts/test \
                 starts the OpenID Connect test provider; run the suite through it) !!!!!!!!!!\n"
            );
            None
        }
    }
}

/// How the provider treats the client's ID tokens (see `e2e/oidc/provider.mjs`).
const NORMAL: &str = "dayaq-test";

/// Registers a client for `app`'s callback at the provider; writes its secret to a file in
/// the test's data directory; gives back (client id, secret file).
async fn register(app: &TestApp, issuer: &str, client_name: &str) -> (String, String) {
    let body = serde_json::json!({
        "redirect_uris": [format!("{}/login/sso/callback", app.base_url)],
        "client_name": client_name,
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
    });
    let r: serde_json::Value = reqwest::Client::new()
        .post(format!("{issuer}/reg"))
        .json(&body)
        .send()
        .await
        .expect("registration")
        .json()
        .await
        .expect("registration JSON");
    let id = r["client_id"].as_str().expect("client_id").to_string();
    let secret = r["client_secret"].as_str().expect("client_secret");
    let path = app.db.opts.data_dir.join(format!("oidc-secret-{id}"));
    std::fs::write(&path, format!("{secret}\n")).expect("secret file");
    (id, path.to_string_lossy().into_owned())
}

/// Gives the organisation `slug` a provider at `issuer` with a new client of `client_name`.
async fn configure(
    app: &TestApp,
    issuer: &str,
    slug: &str,
    client_name: &str,
    tune: impl FnOnce(&mut ProviderInput),
) {
    let (client_id, secret_file) = register(app, issuer, client_name).await;
    let mut input = ProviderInput {
        display_name: "Agency ID".into(),
        issuer: issuer.to_string(),
        redirect_uri: format!("{}/login/sso/callback", app.base_url),
        client_id,
        secret_file,
        allowed_domains: vec![],
        role_claim: String::new(),
        role_map: vec![],
        local_passwords_allowed: true,
    };
    tune(&mut input);
    app.db
        .store
        .set_org_oidc(slug, &input, now())
        .await
        .expect("set_org_oidc");
}

fn location(r: &reqwest::Response) -> String {
    let to = r
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .expect("a redirect");
    r.url().join(to).expect("redirect URL").to_string()
}

/// Starts a single sign-on for `slug` in the browser-like client `c` and follows the
/// provider, signing in as `login`; gives back the callback URL the provider sends the
/// browser to (not yet visited).
async fn through_provider(app: &TestApp, c: &reqwest::Client, slug: &str, login: &str) -> String {
    let r = fetch(c, format!("{}/login/sso/{slug}", app.base_url)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "start: {:?}", r.status());
    let mut url = format!("{}&login_hint={login}", location(&r));
    assert!(url.contains("code_challenge_method=S256"), "PKCE");
    assert!(url.contains("nonce="), "nonce");
    for _ in 0..8 {
        if url.starts_with(&app.base_url) {
            return url;
        }
        let r = fetch(c, &url).await;
        assert!(
            r.status().is_redirection(),
            "provider step {url}: {}",
            r.status()
        );
        url = location(&r);
    }
    panic!("the provider never sent the browser back");
}

async fn me(app: &TestApp, c: &reqwest::Client) -> (StatusCode, serde_json::Value) {
    let r = fetch(c, format!("{}/api/v1/me", app.base_url)).await;
    let s = r.status();
    (s, r.json().await.unwrap_or(serde_json::Value::Null))
}

async fn sso_rows(app: &TestApp) -> Vec<(String, String, String)> {
    app.db
        .store
        .audit_recent(200)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| {
            r.action.starts_with("auth.sso")
                || r.action.contains("oidc")
                || r.action == "user.role_from_sso"
        })
        .map(|r| (r.action, r.outcome, r.detail))
        .collect()
}

async fn assert_refused(app: &TestApp, c: &reqwest::Client, callback: &str, reason: &str) {
    let r = fetch(c, callback).await;
    let status = r.status();
    let body = r.text().await.unwrap();
    assert!(
        status == StatusCode::FORBIDDEN || status == StatusCode::BAD_REQUEST,
        "{reason}: {status}"
    );
    assert!(body.contains(&format!("({reason})")), "{reason}: {body}");
    assert_eq!(me(app, c).await.0, StatusCode::UNAUTHORIZED, "no session");
    assert!(
        sso_rows(app)
            .await
            .iter()
            .any(|(a, o, d)| a == "auth.sso" && o == "failure" && d == &format!("reason={reason}")),
        "audited: {reason}"
    );
}

/// Sign-in end to end through the CLI's settings: the button on the sign-in page, the code
/// flow, a Dayaq session for the account linked to the subject, local passwords barred,
/// sign-out ending the session; everything audited.
#[tokio::test]
async fn sso_sign_in_by_linked_subject_and_sign_out() {
    let Some(issuer) = issuer("sso_sign_in_by_linked_subject_and_sign_out") else {
        return;
    };
    let app = spawn_app().await;
    let (_, user) = org_and_user(&app.db, "sso-in", "caseworker").await;
    let (client_id, secret_file) = register(&app, &issuer, NORMAL).await;
    let callback = format!("{}/login/sso/callback", app.base_url);
    let out = dayaq_cli(
        &app.db,
        &[
            "org",
            "set-oidc",
            "sso-in",
            "--name",
            "Agency ID",
            "--issuer",
            &issuer,
            "--redirect-uri",
            &callback,
            "--client-id",
            &client_id,
            "--client-secret-file",
            &secret_file,
            "--allowed-domain",
            "agency.example",
            "--no-local-passwords",
        ],
    );
    assert_cli_ok(&out);
    // A bad setting is refused by field, nothing changed.
    let bad = dayaq_cli(
        &app.db,
        &[
            "org",
            "set-oidc",
            "sso-in",
            "--name",
            "x",
            "--issuer",
            "ftp://x",
            "--redirect-uri",
            &callback,
            "--client-id",
            "x",
            "--client-secret-file",
            &secret_file,
        ],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("issuer"));
    let out = dayaq_cli(
        &app.db,
        &["user", "link-oidc", &user.username, "--subject", "amina-cw"],
    );
    assert_cli_ok(&out);

    let c = web_client();
    let page = fetch_text(&c, format!("{}/login", app.base_url)).await;
    assert!(page.contains("id=\"sso-sso-in\""), "SSO button");
    assert!(page.contains("Agency ID"));
    let cb = through_provider(&app, &c, "sso-in", "amina-cw").await;
    let r = fetch(&c, &cb).await;
    assert_eq!(r.status(), StatusCode::OK, "continue page");
    let body = r.text().await.unwrap();
    assert!(body.contains("id=\"sso-continue\" href=\"/\""), "{body}");
    let (s, me_json) = me(&app, &c).await;
    assert_eq!(s, StatusCode::OK, "signed in");
    assert_eq!(me_json["username"], user.username);
    let rows = sso_rows(&app).await;
    assert!(
        rows.iter()
            .any(|(a, o, _)| a == "auth.sso" && o == "success")
    );
    assert!(rows.iter().any(|(a, _, _)| a == "user.oidc_link"));
    assert!(rows.iter().any(|(a, _, _)| a == "org.oidc_set"));

    // Sign-out ends the Dayaq session.
    let csrf = page_csrf(&c, format!("{}/", app.base_url)).await;
    let r = submit(
        &c,
        format!("{}/logout", app.base_url),
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(me(&app, &c).await.0, StatusCode::UNAUTHORIZED);

    // Local passwords are barred for this organisation: the right password is refused.
    let c2 = web_client();
    let csrf = page_csrf(&c2, format!("{}/login", app.base_url)).await;
    let r = submit_login(&c2, &app.base_url, &csrf, &user.username, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(me(&app, &c2).await.0, StatusCode::UNAUTHORIZED);
    app.db.cleanup().await;
}

/// An ID token for another audience (validly signed by the provider) is refused.
#[tokio::test]
async fn sso_wrong_audience_is_refused() {
    let Some(issuer) = issuer("sso_wrong_audience_is_refused") else {
        return;
    };
    let app = spawn_app().await;
    let (_, user) = org_and_user(&app.db, "sso-aud", "caseworker").await;
    configure(
        &app,
        &issuer,
        "sso-aud",
        "dayaq-test:wrong_audience",
        |_| {},
    )
    .await;
    let by = dayaq_storage::kernel::Acting::cli();
    app.db
        .store
        .link_oidc_subject(&by, &user.username, "aud-cw", now())
        .await
        .unwrap();
    let c = web_client();
    let cb = through_provider(&app, &c, "sso-aud", "aud-cw").await;
    assert_refused(&app, &c, &cb, "invalid_token").await;
    app.db.cleanup().await;
}

/// An expired ID token (validly signed) is refused.
#[tokio::test]
async fn sso_expired_token_is_refused() {
    let Some(issuer) = issuer("sso_expired_token_is_refused") else {
        return;
    };
    let app = spawn_app().await;
    let (_, user) = org_and_user(&app.db, "sso-exp", "caseworker").await;
    configure(&app, &issuer, "sso-exp", "dayaq-test:expired", |_| {}).await;
    let by = dayaq_storage::kernel::Acting::cli();
    app.db
        .store
        .link_oidc_subject(&by, &user.username, "exp-cw", now())
        .await
        .unwrap();
    let c = web_client();
    let cb = through_provider(&app, &c, "sso-exp", "exp-cw").await;
    assert_refused(&app, &c, &cb, "invalid_token").await;
    app.db.cleanup().await;
}

/// A callback replayed is refused (its state was taken once), and the old code under a fresh
/// state is refused by the provider (code used, PKCE verifier of another sign-in); a callback
/// from another browser (no binding cookie) is refused too.
#[tokio::test]
async fn sso_replayed_code_is_refused() {
    let Some(issuer) = issuer("sso_replayed_code_is_refused") else {
        return;
    };
    let app = spawn_app().await;
    let (_, user) = org_and_user(&app.db, "sso-rep", "caseworker").await;
    configure(&app, &issuer, "sso-rep", NORMAL, |_| {}).await;
    let by = dayaq_storage::kernel::Acting::cli();
    app.db
        .store
        .link_oidc_subject(&by, &user.username, "rep-cw", now())
        .await
        .unwrap();
    // Another browser cannot finish this browser's sign-in.
    let c = web_client();
    let cb = through_provider(&app, &c, "sso-rep", "rep-cw").await;
    let other = web_client();
    assert_refused(&app, &other, &cb, "unknown_state").await;

    let c = web_client();
    let cb = through_provider(&app, &c, "sso-rep", "rep-cw").await;
    assert_eq!(fetch(&c, &cb).await.status(), StatusCode::OK);
    assert_eq!(me(&app, &c).await.0, StatusCode::OK);
    // The same callback again, from a fresh browser holding the same binding: refused.
    let c2 = web_client();
    let fresh = through_provider(&app, &c2, "sso-rep", "rep-cw").await;
    let code = reqwest::Url::parse(&cb)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.to_string())
        .unwrap();
    let state = reqwest::Url::parse(&fresh)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.to_string())
        .unwrap();
    let old_code_new_state = format!(
        "{}/login/sso/callback?code={code}&state={state}",
        app.base_url
    );
    assert_refused(&app, &c2, &old_code_new_state, "token_exchange").await;
    let c3 = web_client();
    let r = fetch(&c3, &cb).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "replayed callback");
    assert!(r.text().await.unwrap().contains("(unknown_state)"));
    app.db.cleanup().await;
}

/// A subject nobody linked is refused, even when an account of the same name and e-mail
/// exists: accounts are matched by (issuer, subject) only.
#[tokio::test]
async fn sso_unknown_subject_is_refused() {
    let Some(issuer) = issuer("sso_unknown_subject_is_refused") else {
        return;
    };
    let app = spawn_app().await;
    let (_, user) = org_and_user(&app.db, "sso-unk", "caseworker").await;
    configure(&app, &issuer, "sso-unk", NORMAL, |_| {}).await;
    let c = web_client();
    let cb = through_provider(&app, &c, "sso-unk", &user.username).await;
    assert_refused(&app, &c, &cb, "unknown_subject").await;
    app.db.cleanup().await;
}

/// The role claim decides the role (first mapping that matches), a user without a mapped
/// value is refused, and an e-mail outside the allowed domains is refused; the settings
/// screen's data is the organisation admin's only.
#[tokio::test]
async fn sso_role_mapping() {
    let Some(issuer) = issuer("sso_role_mapping") else {
        return;
    };
    let app = spawn_app().await;
    let (_, user) = org_and_user(&app.db, "sso-role", "caseworker").await;
    let (_, plain) = org_and_user(&app.db, "sso-role", "researcher").await;
    let (_, admin) = org_and_user(&app.db, "sso-role", "org_admin").await;
    configure(&app, &issuer, "sso-role", NORMAL, |p| {
        p.role_claim = "groups".into();
        p.role_map = vec![
            "nrm-supervisors=supervisor".into(),
            "nrm-caseworkers=caseworker".into(),
        ];
        p.allowed_domains = vec!["agency.example".into()];
    })
    .await;
    let by = dayaq_storage::kernel::Acting::cli();
    let store = &app.db.store;
    store
        .link_oidc_subject(&by, &user.username, "rashad-sup", now())
        .await
        .unwrap();
    store
        .link_oidc_subject(&by, &plain.username, "plain", now())
        .await
        .unwrap();
    store
        .link_oidc_subject(&by, &admin.username, "out-admin-cw", now())
        .await
        .unwrap();

    // nrm-supervisors → supervisor: the role changes, and a supervisor's second factor
    // comes next (its enrolment).
    let c = web_client();
    let cb = through_provider(&app, &c, "sso-role", "rashad-sup").await;
    let r = fetch(&c, &cb).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("href=\"/login/enrol\""));
    assert_eq!(
        store.user_by_id(user.id).await.unwrap().role,
        Role::Supervisor
    );
    assert!(
        sso_rows(&app)
            .await
            .iter()
            .any(|(a, _, d)| a == "user.role_from_sso" && d == "from=caseworker to=supervisor")
    );

    // No group that maps: refused, role unchanged.
    let c = web_client();
    let cb = through_provider(&app, &c, "sso-role", "plain").await;
    assert_refused(&app, &c, &cb, "no_role").await;
    assert_eq!(
        store.user_by_id(plain.id).await.unwrap().role,
        Role::Researcher
    );

    // An e-mail outside the allowed domains: refused.
    let c = web_client();
    let cb = through_provider(&app, &c, "sso-role", "out-admin-cw").await;
    assert_refused(&app, &c, &cb, "email_domain").await;

    // The settings: the organisation's admin sees them, a caseworker is refused.
    let settings = store
        .sso_settings(&ctx(&admin.actor()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(settings.provider.role_map.0.len(), 2);
    assert!(matches!(
        store.sso_settings(&ctx(&plain.actor())).await,
        Err(StoreError::Forbidden(_))
    ));
    // The screen: the admin (password and second factor; local passwords are allowed here)
    // sees the provider, the mapping and who is linked; the researcher is refused.
    let c = web_client();
    sign_in_with_second_factor(&c, &app.base_url, store, &admin).await;
    let (s, page) = page_get(&app, &c, "/admin/sso").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("id=\"sso-settings\""), "{page}");
    assert!(page.contains("nrm-supervisors") && page.contains(&issuer));
    assert!(page.contains(&plain.username));
    let c = web_client();
    sign_in(&c, &app.base_url, &plain.username).await;
    let (s, page) = page_get(&app, &c, "/admin/sso").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{page}");
    app.db.cleanup().await;
}
