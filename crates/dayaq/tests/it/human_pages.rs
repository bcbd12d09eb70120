//! Issue #23 §2 and §4: human error pages on the screens (JSON stays on the API), the page of a
//! session that ended before a form was sent, the way back after signing in (`?next=`, a path
//! only), and times shown in the organisation's time zone.

use crate::kit::api::{
    api_call, csrf_field, fetch, page_csrf, page_get, submit, submit_login, user_token, web_client,
    web_session,
};
use crate::kit::db::{
    PASSWORD, TestApp, assert_cli_ok, dayaq_cli, generous_config, new_case, now, org_and_user,
    spawn_app, spawn_app_with,
};
use reqwest::StatusCode;
use serde_json::json;
use std::sync::Arc;

fn is_html(r: &reqwest::Response) -> bool {
    r.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

/// A caseworker of organisation `slug` whose language is Russian, signed in: the client and
/// the CSRF token of its pages.
async fn russian_caseworker(app: &TestApp, slug: &str) -> (reqwest::Client, String) {
    let (_, user) = org_and_user(&app.db, slug, "caseworker").await;
    app.db.store.set_locale(user.id, "ru").await.unwrap();
    web_session(app, &user.username, None).await
}

#[tokio::test]
async fn human_pages_errors_of_screens_are_pages_in_the_users_language() {
    let app = spawn_app().await;
    let (c, _) = russian_caseworker(&app, "hp-ngo").await;
    let base = &app.base_url;

    // 404 of a screen: the page, in Russian; of the API: JSON.
    let r = fetch(
        &c,
        format!("{base}/cases/00000000-0000-4000-8000-000000000000"),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(is_html(&r));
    let html = r.text().await.unwrap();
    assert!(html.contains("Не найдено"), "{html}");
    assert!(!html.contains("\"error\""), "no JSON on a screen: {html}");
    let r = fetch(&c, format!("{base}/no/such/page")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("lang=\"ru\""));
    let r = fetch(&c, format!("{base}/api/v1/no/such")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(!is_html(&r));
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["error"]["code"],
        "not_found"
    );

    // A static file that does not exist: the page too, not JSON.
    let r = fetch(&c, format!("{base}/static/nothing.js")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(is_html(&r));
    app.db.cleanup().await;
}

#[tokio::test]
async fn human_pages_get_on_a_form_address_is_a_page_not_a_bare_405() {
    let app = spawn_app().await;
    let base = &app.base_url;
    // Signed in (Russian): the page in the user's language.
    let (c, _) = russian_caseworker(&app, "hp-405").await;
    for path in ["/logout", "/lang"] {
        let r = fetch(&c, format!("{base}{path}")).await;
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
        assert!(is_html(&r), "{path}");
        let html = r.text().await.unwrap();
        assert!(
            html.contains("Откройте страницу с формой"),
            "{path}: {html}"
        );
    }
    // A visitor: the browser's language.
    let r = web_client()
        .get(format!("{base}/logout"))
        .header("accept-language", "en-GB,en;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Open this page from its form")
    );
    app.db.cleanup().await;
}

#[tokio::test]
async fn human_pages_a_stale_form_gets_the_session_ended_page_and_comes_back() {
    let app = spawn_app().await;
    let base = &app.base_url;
    let (_, user) = org_and_user(&app.db, "hp-stale", "hotline_operator").await;
    app.db.store.set_locale(user.id, "ru").await.unwrap();
    let (c, csrf) = web_session(&app, &user.username, None).await;

    // A stale CSRF token (the session was replaced in another tab): the page, not JSON.
    let r = submit(
        &c,
        format!("{base}/contacts"),
        &[("csrf", "stale-token"), ("channel", "Hotline")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(is_html(&r));
    let html = r.text().await.unwrap();
    assert!(html.contains("Сеанс завершён"), "{html}");
    assert!(html.contains("id=\"sign-in-again\""), "{html}");
    assert!(html.contains("data-drafts-keep"), "{html}");
    assert!(!html.contains("\"code\""), "{html}");
    // The API keeps its JSON answer for the same refusal.
    let r = c
        .post(format!("{base}/api/v1/contacts"))
        .header("x-csrf-token", "stale-token")
        .json(&json!({"channel": "Hotline", "anonymous": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["error"]["code"],
        "csrf"
    );

    // The session revoked from another client: the form gets the same page (in the user's
    // language, remembered by the browser), nothing is written.
    let before = app
        .db
        .store
        .list_sessions(&user, Default::default(), now())
        .await
        .unwrap();
    for s in &before {
        app.db
            .store
            .revoke_session(&user, &s.public_id, "127.0.0.1", now())
            .await
            .unwrap();
    }
    let r = submit(
        &c,
        format!("{base}/contacts"),
        &[
            ("csrf", csrf.as_str()),
            ("channel", "Hotline"),
            ("summary", "typed text"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let html = r.text().await.unwrap();
    assert!(html.contains("Сеанс завершён"), "{html}");
    assert!(
        !html.contains("typed text"),
        "the typed text stays in the browser only"
    );
    let token = user_token(&app.db, &user).await;
    let (s, list) = api_call(&app, &token, "GET", "/contacts", json!(null)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        list["contacts"].as_array().map(Vec::len),
        Some(0),
        "nothing written: {list}"
    );

    // A page opened without a session goes to the sign-in with the path to come back to.
    let r = fetch(&c, format!("{base}/contacts")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/login?next=%2Fcontacts");

    // The sign-in page carries `next` and goes there after the password.
    let (s, login) = page_get(&app, &c, "/login?next=%2Fcontacts").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        login.contains("name=\"next\" id=\"login-next\" value=\"/contacts\""),
        "{login}"
    );
    let form = [
        ("csrf", csrf_field(&login)),
        ("username", user.username.clone()),
        ("password", PASSWORD.to_string()),
        ("next", "/contacts".to_string()),
    ];
    let r = submit(&c, format!("{base}/login"), &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/contacts");

    // Never to another site, never a query (personal data must not travel in a URL).
    for bad in ["//evil.example", "https://evil.example/", "/cases?name=x"] {
        let c2 = web_client();
        let csrf = page_csrf(&c2, format!("{base}/login")).await;
        let form = [
            ("csrf", csrf.as_str()),
            ("username", user.username.as_str()),
            ("password", PASSWORD),
            ("next", bad),
        ];
        let r = submit(&c2, format!("{base}/login"), &form).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{bad}");
        assert_eq!(r.headers()["location"], "/", "{bad}");
    }
    // Without `next`, sign-in still goes home.
    let c3 = web_client();
    let csrf = page_csrf(&c3, format!("{base}/login")).await;
    let r = submit_login(&c3, base, &csrf, &user.username, PASSWORD).await;
    assert_eq!(r.headers()["location"], "/");
    app.db.cleanup().await;
}

#[tokio::test]
async fn timezone_contacts_are_shown_in_the_organisations_zone_across_the_day_boundary() {
    // 21:30 UTC on 4 December is 01:30 on 5 December in Baku.
    let fixed = time::macros::datetime!(2026-12-04 21:30 UTC);
    let cfg = dayaq_http::AppConfig {
        clock: Arc::new(move || fixed),
        ..generous_config()
    };
    let app = spawn_app_with(cfg).await;
    let (_, user) = org_and_user(&app.db, "tz-ngo", "hotline_operator").await;
    assert_eq!(user.timezone, "Asia/Baku", "the default zone");
    let token = user_token(&app.db, &user).await;
    let (s, _) = api_call(
        &app,
        &token,
        "POST",
        "/contacts",
        json!({"channel": "Hotline", "anonymous": true, "summary": "asked about work abroad"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (c, _) = web_session(&app, &user.username, None).await;
    let (_, html) = page_get(&app, &c, "/contacts").await;
    assert!(
        html.contains("05.12.2026 01:30"),
        "shown on its Baku day: {html}"
    );
    assert!(!html.contains("04.12.2026"), "{html}");

    // The organisation moves to UTC (CLI): the same contact is on the 4th at 21:30.
    let out = dayaq_cli(&app.db, &["org", "set-timezone", "tz-ngo", "UTC"]);
    assert_cli_ok(&out);
    let (_, html) = page_get(&app, &c, "/contacts").await;
    assert!(html.contains("04.12.2026 21:30"), "{html}");

    // An unknown zone is refused by field, nothing changed.
    let out = dayaq_cli(&app.db, &["org", "set-timezone", "tz-ngo", "Mars/Olympus"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("timezone:"));
    let again = app.db.store.user_by_id(user.id).await.unwrap();
    assert_eq!(again.timezone, "UTC");
    app.db.cleanup().await;
}

/// Issue #23 §5: the case page speaks to a caseworker in each language: no CLI command, no
/// language code for the consent's and the protocol's language, no untranslated
/// "break-glass", safe times as pickers, the caller as a select of colleagues.
#[tokio::test]
async fn human_pages_the_case_page_shows_no_raw_codes() {
    let app = spawn_app().await;
    let (_, cw) = org_and_user(&app.db, "pw-ngo", "caseworker").await;
    let (_, colleague) = org_and_user(&app.db, "pw-ngo", "hotline_operator").await;
    let case = new_case(
        &app.db.store,
        &cw.actor(),
        ["Aysel", "Kodova", "1990-01-02", "+994 50 555 00 11"],
    )
    .await;
    let id = case.id;
    let token = user_token(&app.db, &cw).await;
    let (s, _) = api_call(
        &app,
        &token,
        "POST",
        &format!("/cases/{id}/consents"),
        json!({"purpose": "SharingWithOrganisationType", "given": true,
               "recipient_org_type": "LawEnforcement", "given_by": "Survivor", "language": "az"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = api_call(
        &app,
        &token,
        "PUT",
        &format!("/cases/{id}/followup/protocol"),
        json!({"channels": ["phone"], "windows": ["2@10:00-12:00", "4@10:00-12:00"],
               "language": "ru", "caller": colleague.username, "code_word": "lilac"}),
    )
    .await;
    assert!(s.is_success(), "{s}");
    for lang in ["az", "ru", "en"] {
        app.db.store.set_locale(cw.id, lang).await.unwrap();
        let (c, _) = web_session(&app, &cw.username, None).await;
        let (s, html) = page_get(&app, &c, &format!("/cases/{id}")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            !html.contains("dayaq org"),
            "{lang}: a CLI command on the case page"
        );
        assert!(
            !html.contains("<td>az</td>"),
            "{lang}: consent language as a code"
        );
        assert!(
            html.contains("<td>Azərbaycanca</td>"),
            "{lang}: consent language by name"
        );
        assert!(
            !html.contains("<dd>ru</dd>"),
            "{lang}: protocol language as a code"
        );
        assert!(html.contains("<dd>Русский</dd>"), "{lang}");
        assert!(
            !html.contains("2@10:00"),
            "{lang}: safe times in their stored code"
        );
        assert!(
            !html.contains("name=\"windows\""),
            "{lang}: typed safe times"
        );
        assert!(
            html.contains("name=\"w0_day\" value=\"2\" checked"),
            "{lang}"
        );
        assert!(
            html.contains("name=\"w0_day\" value=\"4\" checked"),
            "{lang}"
        );
        assert!(html.contains("name=\"w0_from\" value=\"10:00\""), "{lang}");
        assert!(
            html.contains("<select id=\"fu-caller\" name=\"caller\">"),
            "{lang}"
        );
        assert!(
            html.contains(&format!(
                "<option value=\"{}\" selected>",
                colleague.username
            )),
            "{lang}: the caller chosen among colleagues"
        );
        if lang != "en" {
            assert!(!html.to_lowercase().contains("break-glass"), "{lang}");
        }
    }

    // The pickers post what storage keeps: the same windows come back.
    let (c, _) = web_session(&app, &cw.username, None).await;
    let (_, html) = page_get(&app, &c, &format!("/cases/{id}")).await;
    let csrf = csrf_field(&html);
    let form = [
        ("csrf", csrf.as_str()),
        ("channels", "phone"),
        ("w0_day", "1"),
        ("w0_day", "3"),
        ("w0_from", "09:00"),
        ("w0_to", "11:30"),
        ("w1_from", ""),
        ("w1_to", ""),
        ("caller", colleague.username.as_str()),
        ("language", "az"),
        ("code_word", "lilac"),
    ];
    let r = submit(
        &c,
        format!("{}/cases/{id}/followup/protocol", app.base_url),
        &form,
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, p) = api_call(
        &app,
        &token,
        "GET",
        &format!("/cases/{id}/followup/protocol"),
        json!(null),
    )
    .await;
    assert_eq!(
        p["windows"],
        json!(["1@09:00-11:30", "3@09:00-11:30"]),
        "{p}"
    );
    app.db.cleanup().await;
}
