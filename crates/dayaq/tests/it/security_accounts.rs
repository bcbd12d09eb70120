//! Issue #14, items 9 and 10: enrolment links instead of generated passwords, account
//! administration (disable/enable, resets, token revocation) limited to the admin's own
//! organisation and audited with the actor, and API tokens that end with the password or the
//! account, live at most 180 days and record their last use.

use crate::kit::{
    PASSWORD, SOURCE, TestApp, bearer_get, csrf_field, fetch, fetch_text, now, org_and_user,
    page_csrf, sign_in, sign_in_with_second_factor, spawn_app, submit, web_client,
};
use dayaq_storage::StoreError;
use dayaq_storage::accounts::Acting;
use dayaq_storage::users::{LoginCheck, User};
use reqwest::StatusCode;

const NEW_PASSWORD: &str = "a brand new passphrase 42";

/// An org admin of `slug` signed in with password and TOTP; returns the browser, the admin and
/// the session's CSRF token.
async fn admin_session(app: &TestApp, slug: &str) -> (reqwest::Client, User, String) {
    let (_, admin) = org_and_user(&app.db, slug, "org_admin").await;
    app.db.store.set_locale(admin.id, "en").await.unwrap();
    let c = web_client();
    let base = &app.base_url;
    sign_in_with_second_factor(&c, base, &app.db.store, &admin).await;
    let page = fetch_text(&c, format!("{base}/admin/users")).await;
    (c, admin, csrf_field(&page))
}

/// The enrolment token in a page (`/enrol/<token>`).
fn enrol_token(html: &str) -> String {
    let i = html.find("/enrol/").expect("an enrolment link on the page");
    html[i + 7..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

async fn bearer_status(app: &TestApp, token: &str) -> StatusCode {
    bearer_get(
        &crate::kit::local_client().build().expect("http client"),
        format!("{}/api/v1/me", app.base_url),
        token,
    )
    .await
    .status()
}

async fn password_works(app: &TestApp, username: &str, password: &str, source: &str) -> bool {
    matches!(
        app.db
            .store
            .check_password(username, password, source, now())
            .await
            .unwrap(),
        LoginCheck::Ok(_)
    )
}

#[tokio::test]
async fn admin_screen_creates_user_with_enrolment_link_never_a_password() {
    let app = spawn_app().await;
    let (c, admin, csrf) = admin_session(&app, "org-a").await;
    let r = submit(
        &c,
        format!("{}/admin/users", app.base_url),
        &[
            ("csrf", csrf.as_str()),
            ("username", "new.caseworker"),
            ("role", "caseworker"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    // Nothing shown on the page is a password of the new user.
    let words: Vec<&str> = body
        .split(|c: char| c.is_whitespace() || "<>\"'=/:".contains(c))
        .filter(|w| w.len() >= 12)
        .collect();
    assert!(!words.is_empty());
    for (i, w) in words.iter().enumerate() {
        assert!(
            !password_works(
                &app,
                "new.caseworker",
                w,
                &format!("10.1.{}.{}", i / 200, i % 200)
            )
            .await,
            "the admin page showed a working password"
        );
    }
    // A one-time enrolment link instead.
    let token = enrol_token(&body);
    assert!(token.starts_with("en_"), "{token}");
    let u = app.db.store.user_by_name("new.caseworker").await.unwrap();
    assert_eq!(
        app.db
            .store
            .enrolment_user(&token, now())
            .await
            .unwrap()
            .map(|u| u.id),
        Some(u.id)
    );
    // The audit row of the creation names the acting admin.
    let rows = app.db.store.audit_recent(50).await.unwrap();
    let row = rows
        .iter()
        .find(|r| r.action == "user.create" && r.detail.contains(&u.id.to_string()))
        .expect("user.create audited");
    assert_eq!(row.actor_user, admin.id.to_string());
    assert_eq!(row.actor_org, admin.org_id.to_string());
    assert!(
        !row.detail.contains("new.caseworker"),
        "no username in audit"
    );
}

#[tokio::test]
async fn users_created_outside_the_screen_are_audited_with_an_actor() {
    let app = spawn_app().await;
    let (_, u) = org_and_user(&app.db, "org-a", "caseworker").await;
    let by = Acting::cli();
    let (v, _) = app
        .db
        .store
        .create_user_with_enrolment(&by, "org-a", "caseworker", "cli.made", now())
        .await
        .unwrap();
    let rows = app.db.store.audit_recent(50).await.unwrap();
    for id in [u.id, v.id] {
        let row = rows
            .iter()
            .find(|r| r.action == "user.create" && r.detail.contains(&id.to_string()))
            .expect("user.create audited");
        assert!(row.actor_user.starts_with("cli:"), "{}", row.actor_user);
    }
}

#[tokio::test]
async fn enrolment_link_sets_the_password_once_and_expires() {
    let app = spawn_app().await;
    let base = &app.base_url;
    org_and_user(&app.db, "org-a", "caseworker").await;
    let s = &app.db.store;
    let (u, e) = s
        .create_user_with_enrolment(&Acting::cli(), "org-a", "caseworker", "fresh.user", now())
        .await
        .unwrap();
    // Before enrolment no password signs the user in.
    assert!(!password_works(&app, "fresh.user", PASSWORD, "10.2.0.1").await);
    assert!(!password_works(&app, "fresh.user", "", "10.2.0.2").await);

    let c = web_client();
    let page = fetch(&c, format!("{base}/enrol/{}", e.token)).await;
    assert_eq!(page.status(), StatusCode::OK);
    let csrf = csrf_field(&page.text().await.unwrap());
    // A bad password is refused and leaves the link usable.
    let r = submit(
        &c,
        format!("{base}/enrol/{}", e.token),
        &[
            ("csrf", csrf.as_str()),
            ("new_password", "short"),
            ("confirm_password", "short"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let csrf = csrf_field(&r.text().await.unwrap());
    let r = submit(
        &c,
        format!("{base}/enrol/{}", e.token),
        &[
            ("csrf", csrf.as_str()),
            ("new_password", NEW_PASSWORD),
            ("confirm_password", NEW_PASSWORD),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/");
    assert!(password_works(&app, "fresh.user", NEW_PASSWORD, "10.2.0.3").await);
    // Signed in right away.
    let me = fetch(&c, format!("{base}/api/v1/me")).await;
    assert_eq!(me.status(), StatusCode::OK);

    // Single use: the link is dead, on the screen and in storage.
    let again = fetch(&web_client(), format!("{base}/enrol/{}", e.token)).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    assert!(matches!(
        s.complete_enrolment(&e.token, "yet another passphrase", SOURCE, now())
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(password_works(&app, "fresh.user", NEW_PASSWORD, "10.2.0.4").await);

    // Expiry: a link is dead after 72 hours.
    let e2 = s
        .reset_password_with_enrolment(&Acting::cli(), u.id, now())
        .await
        .unwrap();
    assert!(!password_works(&app, "fresh.user", NEW_PASSWORD, "10.2.0.5").await);
    let later = now() + time::Duration::hours(73);
    assert!(s.enrolment_user(&e2.token, later).await.unwrap().is_none());
    assert!(matches!(
        s.complete_enrolment(&e2.token, NEW_PASSWORD, SOURCE, later)
            .await,
        Err(StoreError::NotFound)
    ));
    // A newer link replaces an older one.
    let e3 = s
        .reset_password_with_enrolment(&Acting::cli(), u.id, now())
        .await
        .unwrap();
    assert!(s.enrolment_user(&e2.token, now()).await.unwrap().is_none());
    assert!(s.enrolment_user(&e3.token, now()).await.unwrap().is_some());
}

#[tokio::test]
async fn enrolment_of_a_role_with_second_factor_continues_with_totp() {
    let app = spawn_app().await;
    org_and_user(&app.db, "org-a", "caseworker").await;
    let (_, e) = app
        .db
        .store
        .create_user_with_enrolment(&Acting::cli(), "org-a", "supervisor", "new.sup", now())
        .await
        .unwrap();
    let c = web_client();
    let base = &app.base_url;
    let page = fetch_text(&c, format!("{base}/enrol/{}", e.token)).await;
    let csrf = csrf_field(&page);
    let r = submit(
        &c,
        format!("{base}/enrol/{}", e.token),
        &[
            ("csrf", csrf.as_str()),
            ("new_password", NEW_PASSWORD),
            ("confirm_password", NEW_PASSWORD),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login/enrol");
    // No access before the second factor.
    let me = fetch(&c, format!("{base}/api/v1/me")).await;
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn org_admin_administers_own_organisation_only() {
    let app = spawn_app().await;
    let base = &app.base_url;
    let (c, admin, csrf) = admin_session(&app, "org-a").await;
    let (_, mine) = org_and_user(&app.db, "org-a", "caseworker").await;
    let (_, theirs) = org_and_user(&app.db, "org-b", "caseworker").await;
    let s = &app.db.store;
    let their_token = s.create_token(&theirs, "t", 30, now()).await.unwrap();

    // Another organisation's user: 404 for the page and every action; nothing changes.
    let r = fetch(&c, format!("{base}/admin/users/{}", theirs.id)).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    for action in [
        "disable",
        "enable",
        "reset-password",
        "reset-totp",
        "revoke-tokens",
    ] {
        let r = submit(
            &c,
            format!("{base}/admin/users/{}/{action}", theirs.id),
            &[("csrf", csrf.as_str()), ("confirm", "yes")],
        )
        .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{action}");
    }
    let tokens = s.user_tokens(theirs.id).await.unwrap();
    let r = submit(
        &c,
        format!(
            "{base}/admin/users/{}/tokens/{}/revoke",
            theirs.id, tokens[0].id
        ),
        &[("csrf", csrf.as_str()), ("confirm", "yes")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(!s.user_by_id(theirs.id).await.unwrap().disabled);
    assert!(password_works(&app, &theirs.username, PASSWORD, "10.3.0.1").await);
    // The refused attempts are audited with the admin and the reason.
    let denied = s.audit_recent(100).await.unwrap();
    let denied: Vec<_> = denied
        .iter()
        .filter(|r| r.action == "access.denied" && r.detail.contains(&theirs.id.to_string()))
        .collect();
    assert!(denied.len() >= 7, "{}", denied.len());
    assert!(
        denied.iter().all(
            |r| r.actor_user == admin.id.to_string() && r.detail.contains("other_organisation")
        )
    );
    assert_eq!(bearer_status(&app, &their_token).await, StatusCode::OK);
    // Nor are they listed.
    let list = fetch_text(&c, format!("{base}/admin/users")).await;
    assert!(list.contains(&mine.username));
    assert!(!list.contains(&theirs.username));

    // Own organisation: confirmation required, then the action happens and is audited.
    let my_token = s.create_token(&mine, "t", 30, now()).await.unwrap();
    let r = submit(
        &c,
        format!("{base}/admin/users/{}/disable", mine.id),
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!s.user_by_id(mine.id).await.unwrap().disabled);
    let r = submit(
        &c,
        format!("{base}/admin/users/{}/disable", mine.id),
        &[("csrf", csrf.as_str()), ("confirm", "yes")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(s.user_by_id(mine.id).await.unwrap().disabled);
    assert_eq!(
        bearer_status(&app, &my_token).await,
        StatusCode::UNAUTHORIZED
    );
    let r = submit(
        &c,
        format!("{base}/admin/users/{}/enable", mine.id),
        &[("csrf", csrf.as_str()), ("confirm", "yes")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(!s.user_by_id(mine.id).await.unwrap().disabled);
    // The token revoked by the disable stays revoked.
    assert_eq!(
        bearer_status(&app, &my_token).await,
        StatusCode::UNAUTHORIZED
    );

    // Password reset: old password dead, a new link shown once.
    let r = submit(
        &c,
        format!("{base}/admin/users/{}/reset-password", mine.id),
        &[("csrf", csrf.as_str()), ("confirm", "yes")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let token = enrol_token(&r.text().await.unwrap());
    assert!(!password_works(&app, &mine.username, PASSWORD, "10.3.0.2").await);
    s.complete_enrolment(&token, NEW_PASSWORD, SOURCE, now())
        .await
        .unwrap();
    assert!(password_works(&app, &mine.username, NEW_PASSWORD, "10.3.0.3").await);

    // Second factor reset.
    s.totp_set_secret(&mine, b"abcdefghij0123456789")
        .await
        .unwrap();
    let r = submit(
        &c,
        format!("{base}/admin/users/{}/reset-totp", mine.id),
        &[("csrf", csrf.as_str()), ("confirm", "yes")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(!s.user_by_id(mine.id).await.unwrap().totp_enabled);

    // Token revocation, one and all.
    let t1 = s.create_token(&mine, "one", 30, now()).await.unwrap();
    let t2 = s.create_token(&mine, "two", 30, now()).await.unwrap();
    let one = s
        .user_tokens(mine.id)
        .await
        .unwrap()
        .into_iter()
        .find(|t| t.label == "one")
        .unwrap();
    let r = submit(
        &c,
        format!("{base}/admin/users/{}/tokens/{}/revoke", mine.id, one.id),
        &[("csrf", csrf.as_str()), ("confirm", "yes")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(bearer_status(&app, &t1).await, StatusCode::UNAUTHORIZED);
    assert_eq!(bearer_status(&app, &t2).await, StatusCode::OK);
    let r = submit(
        &c,
        format!("{base}/admin/users/{}/revoke-tokens", mine.id),
        &[("csrf", csrf.as_str()), ("confirm", "yes")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(bearer_status(&app, &t2).await, StatusCode::UNAUTHORIZED);

    // Every action audited with the acting admin.
    let rows = s.audit_recent(200).await.unwrap();
    for action in [
        "user.disable",
        "user.enable",
        "user.reset_password",
        "user.reset_totp",
        "auth.token_revoke",
    ] {
        let row = rows
            .iter()
            .find(|r| r.action == action && r.detail.contains(&mine.id.to_string()))
            .unwrap_or_else(|| panic!("{action} audited"));
        assert_eq!(row.actor_user, admin.id.to_string(), "{action}");
    }
    // An admin cannot act on themselves here (account screen instead).
    let r = submit(
        &c,
        format!("{base}/admin/users/{}/disable", admin.id),
        &[("csrf", csrf.as_str()), ("confirm", "yes")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_caseworker_cannot_administer_users() {
    let app = spawn_app().await;
    let base = &app.base_url;
    let (_, cw) = org_and_user(&app.db, "org-a", "caseworker").await;
    let (_, other) = org_and_user(&app.db, "org-a", "police_officer").await;
    let c = web_client();
    sign_in(&c, base, &cw.username).await;
    let csrf = page_csrf(&c, format!("{base}/account")).await;
    let r = submit(
        &c,
        format!("{base}/admin/users/{}/disable", other.id),
        &[("csrf", csrf.as_str()), ("confirm", "yes")],
    )
    .await;
    assert!(
        matches!(r.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
        "{}",
        r.status()
    );
    assert!(!app.db.store.user_by_id(other.id).await.unwrap().disabled);
}

#[tokio::test]
async fn tokens_end_with_password_change_reset_and_disable() {
    let app = spawn_app().await;
    let s = &app.db.store;
    let (_, u) = org_and_user(&app.db, "org-a", "caseworker").await;

    // Own password change.
    let t = s.create_token(&u, "t", 30, now()).await.unwrap();
    assert_eq!(bearer_status(&app, &t).await, StatusCode::OK);
    s.change_password(&u, PASSWORD, NEW_PASSWORD, None, SOURCE, now())
        .await
        .unwrap();
    assert_eq!(bearer_status(&app, &t).await, StatusCode::UNAUTHORIZED);

    // Account disabled (the existing storage entry point), then enabled again.
    let t = s.create_token(&u, "t", 30, now()).await.unwrap();
    let by = org_and_user(&app.db, "org-a", "org_admin").await.1.actor();
    s.set_user_disabled(&by, u.id, true, SOURCE, now())
        .await
        .unwrap();
    s.set_user_disabled(&by, u.id, false, SOURCE, now())
        .await
        .unwrap();
    assert_eq!(bearer_status(&app, &t).await, StatusCode::UNAUTHORIZED);

    // Password set without the old one (demo/tests) and the administrator's reset.
    let t = s.create_token(&u, "t", 30, now()).await.unwrap();
    s.set_password(u.id, PASSWORD, now()).await.unwrap();
    assert_eq!(bearer_status(&app, &t).await, StatusCode::UNAUTHORIZED);
    let t = s.create_token(&u, "t", 30, now()).await.unwrap();
    s.reset_password_with_enrolment(&Acting::cli(), u.id, now())
        .await
        .unwrap();
    assert_eq!(bearer_status(&app, &t).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn token_lifetime_is_bounded() {
    let app = spawn_app().await;
    let (_, u) = org_and_user(&app.db, "org-a", "caseworker").await;
    let s = &app.db.store;
    for days in [0, 181, 366] {
        assert!(
            matches!(
                s.create_token(&u, "t", days, now()).await,
                Err(StoreError::Invalid(_))
            ),
            "{days} days"
        );
    }
    s.create_token(&u, "t", 180, now()).await.unwrap();
    let t = s.user_tokens(u.id).await.unwrap();
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].expires_at - t[0].created_at, 180 * 86_400_000);
}

#[tokio::test]
async fn token_list_shows_last_use_and_revokes() {
    let app = spawn_app().await;
    let base = &app.base_url;
    let s = &app.db.store;
    let (_, u) = org_and_user(&app.db, "org-a", "caseworker").await;
    s.set_locale(u.id, "en").await.unwrap();
    let secret = s
        .create_token(&u, "nightly-script", 30, now())
        .await
        .unwrap();
    let c = web_client();
    sign_in(&c, base, &u.username).await;
    let page = fetch_text(&c, format!("{base}/account/tokens")).await;
    assert!(page.contains("nightly-script"));
    assert!(page.contains("class=\"last-used\">Never<"), "{page}");

    assert_eq!(bearer_status(&app, &secret).await, StatusCode::OK);
    let first = s.user_tokens(u.id).await.unwrap()[0].last_used_at;
    assert!(first.is_some(), "use recorded");
    let page = fetch_text(&c, format!("{base}/account/tokens")).await;
    assert!(!page.contains("class=\"last-used\">Never<"));
    // Shown in the organisation's time zone (Asia/Baku by default, UTC+4 all year): after
    // 20:00 UTC it is already tomorrow there.
    let today = now()
        .to_offset(time::UtcOffset::from_hms(4, 0, 0).unwrap())
        .date();
    assert!(page.contains(&format!(
        "class=\"last-used\">{}-{:02}-{:02}",
        today.year(),
        u8::from(today.month()),
        today.day()
    )));

    // Throttled: a use within the minute writes nothing, a later one does.
    let t0 = now();
    s.token_user(&secret, t0 + time::Duration::seconds(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.user_tokens(u.id).await.unwrap()[0].last_used_at, first);
    s.token_user(&secret, t0 + time::Duration::seconds(120))
        .await
        .unwrap()
        .unwrap();
    assert!(s.user_tokens(u.id).await.unwrap()[0].last_used_at > first);

    // Revoked from the screen.
    let csrf = csrf_field(&page);
    let id = s.user_tokens(u.id).await.unwrap()[0].id;
    let r = submit(
        &c,
        format!("{base}/account/tokens/{id}/revoke"),
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(bearer_status(&app, &secret).await, StatusCode::UNAUTHORIZED);
    // Another user's token id is not found.
    let (_, other) = org_and_user(&app.db, "org-a", "police_officer").await;
    let theirs = s.create_token(&other, "x", 30, now()).await.unwrap();
    let their_id = s.user_tokens(other.id).await.unwrap()[0].id;
    let r = submit(
        &c,
        format!("{base}/account/tokens/{their_id}/revoke"),
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(bearer_status(&app, &theirs).await, StatusCode::OK);
}

#[tokio::test]
async fn enrolment_link_works_in_a_browser_signed_in_as_someone_else() {
    let app = spawn_app().await;
    let base = &app.base_url;
    let (_, cw) = org_and_user(&app.db, "org-a", "caseworker").await;
    let (_, e) = app
        .db
        .store
        .create_user_with_enrolment(&Acting::cli(), "org-a", "caseworker", "late.user", now())
        .await
        .unwrap();
    let c = web_client();
    sign_in(&c, base, &cw.username).await;
    let csrf = page_csrf(&c, format!("{base}/enrol/{}", e.token)).await;
    let r = submit(
        &c,
        format!("{base}/enrol/{}", e.token),
        &[
            ("csrf", csrf.as_str()),
            ("new_password", NEW_PASSWORD),
            ("confirm_password", NEW_PASSWORD),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(password_works(&app, "late.user", NEW_PASSWORD, "10.4.0.1").await);
}
