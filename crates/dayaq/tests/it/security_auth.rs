//! Issue #14, items 1, 4 and 13a/b: the second-factor attempt budget, the sign-in CSRF
//! requirement, the local-only `back` redirect, the trusted-proxy client address and the
//! general rate limit.

use crate::kit::{
    PASSWORD, TestApp, csrf_field, fetch, org_and_user, page_csrf, spawn_app, submit, submit_login,
    web_client,
};
use dayaq_storage::users::User;
use reqwest::StatusCode;

const SECRET: &[u8; 20] = b"0123456789abcdefghij";

fn totp(user: &User) -> totp_rs::Totp {
    totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::new(SECRET.to_vec().into_boxed_slice()))
        .with_account_name(user.username.clone())
        .build()
        .unwrap()
}

/// A six-digit code that is wrong now and in the neighbouring time steps.
fn wrong_code(user: &User, n: u32) -> String {
    let t = totp(user);
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as u64;
    let valid: Vec<String> = [now - 30, now, now + 30, now + 60]
        .iter()
        .map(|s| t.generate(*s).to_string())
        .collect();
    (0u32..)
        .map(|i| format!("{:06}", (123_457 + 7919 * (n + i)) % 1_000_000))
        .find(|c| !valid.contains(c))
        .unwrap()
}

fn session_cookie_of(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("dayaq_session="))
        .map(|v| v.split(';').next().unwrap_or("").to_string())
}

/// Password step for `user` on a fresh browser client; returns the client, the pending
/// session's cookie value and the second-factor page's CSRF token.
async fn password_step(
    app: &TestApp,
    user: &User,
    next: &str,
) -> (reqwest::Client, String, String) {
    let base = &app.base_url;
    let c = web_client();
    let csrf = page_csrf(&c, format!("{base}/login")).await;
    let r = submit_login(&c, base, csrf.as_str(), user.username.as_str(), PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], next);
    let cookie = session_cookie_of(&r).expect("pending session cookie");
    let page = fetch(&c, format!("{base}{next}")).await;
    assert_eq!(page.status(), StatusCode::OK);
    let csrf = csrf_field(&page.text().await.unwrap());
    (c, cookie, csrf)
}

/// A client without a cookie store, presenting `cookie` as the session.
async fn post_code_with_cookie(
    base: &str,
    path: &str,
    cookie: &str,
    csrf: &str,
    code: &str,
) -> reqwest::Response {
    crate::kit::local_client()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{base}{path}"))
        .header("cookie", format!("dayaq_session={cookie}"))
        .form(&[("csrf", csrf), ("code", code)])
        .send()
        .await
        .unwrap()
}

/// A code posted on a dropped pending sign-in: the session is gone, so the request has no
/// sign-in state at all (403, reload the form) or is sent back to the password step.
fn assert_refused(r: &reqwest::Response) {
    let back_to_login = r.status() == StatusCode::SEE_OTHER && r.headers()["location"] == "/login";
    assert!(
        r.status() == StatusCode::FORBIDDEN || back_to_login,
        "{} {:?}",
        r.status(),
        r.headers().get("location")
    );
}

async fn me_status(base: &str, cookie: &str) -> StatusCode {
    crate::kit::local_client()
        .build()
        .expect("http client")
        .get(format!("{base}/api/v1/me"))
        .header("cookie", format!("dayaq_session={cookie}"))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn five_wrong_codes_drop_the_pending_sign_in() {
    let app = spawn_app().await;
    let base = &app.base_url;
    let (_, user) = org_and_user(&app.db, "org-a", "supervisor").await;
    app.db.store.totp_set_secret(&user, SECRET).await.unwrap();
    let (c, cookie, csrf) = password_step(&app, &user, "/login/totp").await;
    for i in 0..5 {
        let r = submit(
            &c,
            format!("{base}/login/totp"),
            &[("csrf", csrf.as_str()), ("code", &wrong_code(&user, i))],
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "wrong code {i}");
        if i == 4 {
            // The last wrong code ends the pending sign-in: the session cookie is cleared
            // and the sign-in form is shown again.
            let set = r
                .headers()
                .get_all("set-cookie")
                .iter()
                .map(|v| v.to_str().unwrap().to_string())
                .collect::<Vec<_>>();
            assert!(
                set.iter()
                    .any(|s| s.starts_with("dayaq_session=;") && s.contains("Max-Age=0")),
                "{set:?}"
            );
            assert!(r.text().await.unwrap().contains("name=\"password\""));
        }
    }
    // The right code on that pending sign-in (replaying its cookie) is refused.
    let right = totp(&user)
        .generate(time::OffsetDateTime::now_utc().unix_timestamp() as u64)
        .to_string();
    let r = post_code_with_cookie(base, "/login/totp", &cookie, &csrf, &right).await;
    assert_refused(&r);
    assert!(session_cookie_of(&r).is_none(), "no new session");
    assert_eq!(me_status(base, &cookie).await, StatusCode::UNAUTHORIZED);
    // Audited: five code failures in the account's failure counter, and the drop.
    let rows = app.db.store.audit_recent(100).await.unwrap();
    assert_eq!(
        rows.iter()
            .filter(|r| r.action == "auth.login"
                && r.outcome == "failure"
                && r.detail == "wrong_totp"
                && r.actor_user == user.id.to_string())
            .count(),
        5
    );
    assert_eq!(
        rows.iter()
            .filter(|r| r.action == "auth.pending_signin_dropped"
                && r.outcome == "failure"
                && r.actor_user == user.id.to_string())
            .count(),
        1
    );
    // The failures are in the throttle the password step reads (per source, per account).
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM login_failures WHERE user_id = $1 AND source = $2",
    )
    .bind(user.id.to_string())
    .bind("127.0.0.1")
    .fetch_one(app.db.store.pool())
    .await
    .unwrap();
    assert_eq!(n, 5);
    app.db.cleanup().await;
}

#[tokio::test]
async fn parallel_wrong_codes_cannot_exceed_the_budget() {
    let app = spawn_app().await;
    let base = app.base_url.clone();
    let (_, user) = org_and_user(&app.db, "org-a", "supervisor").await;
    app.db.store.totp_set_secret(&user, SECRET).await.unwrap();
    let (_c, cookie, csrf) = password_step(&app, &user, "/login/totp").await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let (base, cookie, csrf, code) = (
            base.clone(),
            cookie.clone(),
            csrf.clone(),
            wrong_code(&user, i),
        );
        tasks.push(tokio::spawn(async move {
            post_code_with_cookie(&base, "/login/totp", &cookie, &csrf, &code)
                .await
                .status()
        }));
    }
    for t in tasks {
        let status = t.await.unwrap();
        assert!(
            [
                StatusCode::UNAUTHORIZED,
                StatusCode::SEE_OTHER,
                StatusCode::TOO_MANY_REQUESTS
            ]
            .contains(&status),
            "{status}"
        );
    }
    // Only five codes were checked; the others met a dropped or throttled sign-in.
    assert_eq!(me_status(&base, &cookie).await, StatusCode::UNAUTHORIZED);
    let rows = app.db.store.audit_recent(200).await.unwrap();
    assert_eq!(rows.iter().filter(|r| r.detail == "wrong_totp").count(), 5);
    app.db.cleanup().await;
}

#[tokio::test]
async fn enrolment_codes_have_the_same_budget() {
    let app = spawn_app().await;
    let base = &app.base_url;
    let (_, user) = org_and_user(&app.db, "org-a", "supervisor").await;
    let (c, cookie, csrf) = password_step(&app, &user, "/login/enrol").await;
    for i in 0..5 {
        let r = submit(
            &c,
            format!("{base}/login/enrol"),
            &[
                ("csrf", csrf.as_str()),
                ("code", &format!("{:06}", 100_000 + i)),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "enrolment code {i}");
    }
    let r = post_code_with_cookie(base, "/login/enrol", &cookie, &csrf, "123456").await;
    assert_refused(&r);
    assert!(session_cookie_of(&r).is_none(), "no new session");
    assert_eq!(me_status(base, &cookie).await, StatusCode::UNAUTHORIZED);
    let rows = app.db.store.audit_recent(100).await.unwrap();
    assert!(
        rows.iter()
            .any(|r| r.action == "auth.pending_signin_dropped"
                && r.actor_user == user.id.to_string())
    );
    app.db.cleanup().await;
}

/// The TOTP secret shown on an enrolment page.
fn shown_secret(page: &str) -> String {
    let marker = "id=\"totp-secret\">";
    let start = page.find(marker).expect("secret on the page") + marker.len();
    let end = start + page[start..].find('<').unwrap();
    page[start..end].replace(' ', "")
}

#[tokio::test]
async fn a_wrong_enrolment_code_keeps_the_secret_already_shown() {
    let app = spawn_app().await;
    let base = &app.base_url;
    let (_, user) = org_and_user(&app.db, "org-a", "supervisor").await;
    let (c, _cookie, _) = password_step(&app, &user, "/login/enrol").await;
    // A reload shows the same secret.
    let page = fetch(&c, format!("{base}/login/enrol")).await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    let first = shown_secret(&page);
    let csrf = csrf_field(&page);
    let t = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(&first).unwrap())
        .with_account_name(user.username.clone())
        .build()
        .unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as u64;
    let valid: Vec<String> = [now - 30, now, now + 30, now + 60]
        .iter()
        .map(|s| t.generate(*s).to_string())
        .collect();
    let wrong = (0u32..)
        .map(|i| format!("{:06}", (123_457 + 7919 * i) % 1_000_000))
        .find(|c| !valid.contains(c))
        .unwrap();
    let r = submit(
        &c,
        format!("{base}/login/enrol"),
        &[("csrf", csrf.as_str()), ("code", wrong.as_str())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let again = r.text().await.unwrap();
    assert_eq!(shown_secret(&again), first, "the secret was re-keyed");
    // The authenticator app that scanned the first page still works.
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as u64;
    let right = t.generate(now).to_string();
    let r = submit(
        &c,
        format!("{base}/login/enrol"),
        &[
            ("csrf", csrf_field(&again).as_str()),
            ("code", right.as_str()),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/");
    assert!(app.db.store.user_by_id(user.id).await.unwrap().totp_enabled);
    app.db.cleanup().await;
}

#[tokio::test]
async fn sign_in_needs_the_pre_login_cookie_and_its_token() {
    let app = spawn_app().await;
    let base = &app.base_url;
    let (_, user) = org_and_user(&app.db, "org-a", "caseworker").await;
    let form = [("username", user.username.as_str()), ("password", PASSWORD)];
    // No cookie at all (a cross-site form): 403 with a page asking to reload, no session.
    let r = web_client()
        .post(format!("{base}/login"))
        .header("accept-language", "en")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(session_cookie_of(&r).is_none());
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(r.text().await.unwrap().contains("Reload the sign-in page"));
    // A token without the cookie is refused too.
    let r = submit_login(
        &web_client(),
        base,
        "forged-token",
        user.username.as_str(),
        PASSWORD,
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(session_cookie_of(&r).is_none());
    // The cookie with a wrong token: 403.
    let c = web_client();
    fetch(&c, format!("{base}/login")).await;
    let r = submit_login(&c, base, "wrong", user.username.as_str(), PASSWORD).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(session_cookie_of(&r).is_none());
    // The form as served still signs in.
    crate::kit::sign_in(&c, base, &user.username).await;
    app.db.cleanup().await;
}

#[tokio::test]
async fn language_switch_never_redirects_off_site() {
    let app = spawn_app().await;
    let base = &app.base_url;
    let c = web_client();
    for bad in [
        "/\\evil.com",
        "//evil.com",
        "/\\/evil.com",
        "https://evil.com",
        "/\t/evil.com",
        "\\\\evil.com",
        "/%0a/evil.com",
        "evil.com",
    ] {
        let r = submit(&c, format!("{base}/lang"), &[("lang", "en"), ("back", bad)]).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{bad:?}");
        let to = r.headers()["location"].to_str().unwrap().to_string();
        assert!(
            to == "/" || (to.starts_with('/') && !to.starts_with("//") && !to.contains('\\')),
            "{bad:?} → {to}"
        );
        if bad != "/%0a/evil.com" {
            assert_eq!(to, "/", "{bad:?}");
        }
    }
    let r = submit(
        &c,
        format!("{base}/lang"),
        &[("lang", "ru"), ("back", "/cases?page=2")],
    )
    .await;
    assert_eq!(r.headers()["location"], "/cases?page=2");
    app.db.cleanup().await;
}

// ---------- item 4: client address behind a trusted proxy, rate limits, Argon2 ----------

fn proxied_client(forwarded_for: &str) -> reqwest::Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert("x-forwarded-for", forwarded_for.parse().unwrap());
    crate::kit::local_client()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .default_headers(h)
        .build()
        .unwrap()
}

/// One sign-in form round (GET the form, POST it); returns the POST's status.
async fn try_sign_in(
    c: &reqwest::Client,
    base: &str,
    username: &str,
    password: &str,
) -> StatusCode {
    let page = fetch(c, format!("{base}/login")).await;
    assert_eq!(page.status(), StatusCode::OK);
    let csrf = csrf_field(&page.text().await.unwrap());
    submit_login(c, base, csrf.as_str(), username, password)
        .await
        .status()
}

/// Ten recent failures from `source`: its next attempt waits (per-source backoff).
async fn fail_from(app: &TestApp, source: &str) {
    for _ in 0..10 {
        sqlx::query(
            "INSERT INTO login_failures (id, user_id, source, at) VALUES ($1, NULL, $2, $3)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(source)
        .bind(time::OffsetDateTime::now_utc().unix_timestamp() * 1000)
        .execute(app.db.store.pool())
        .await
        .unwrap();
    }
}

fn with_proxy(mut cfg: dayaq_http::AppConfig, cidr: &str) -> dayaq_http::AppConfig {
    cfg.trusted_proxies = vec![dayaq_http::proxy::parse_trusted(cidr).unwrap()];
    cfg
}

#[tokio::test]
async fn clients_behind_a_trusted_proxy_are_throttled_and_audited_apart() {
    let app =
        crate::kit::spawn_app_with(with_proxy(crate::kit::generous_config(), "127.0.0.0/8")).await;
    let base = &app.base_url;
    let (_, a) = org_and_user(&app.db, "org-a", "caseworker").await;
    let (_, b) = org_and_user(&app.db, "org-a", "hotline_operator").await;
    // Client A (198.51.100.1) has failed often; client B (198.51.100.2) has not.
    fail_from(&app, "198.51.100.1").await;
    let ca = proxied_client("198.51.100.1");
    let cb = proxied_client("203.0.113.9, 198.51.100.2");
    assert_eq!(
        try_sign_in(&ca, base, &a.username, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        "A waits"
    );
    assert_eq!(
        try_sign_in(&cb, base, &b.username, PASSWORD).await,
        StatusCode::SEE_OTHER,
        "B is not throttled by A's failures"
    );
    // The audit row's source is the forwarded client (the rightmost untrusted hop), not the
    // proxy and not what the client prepended.
    let rows = app.db.store.audit_recent(50).await.unwrap();
    let login = rows
        .iter()
        .find(|r| {
            r.action == "auth.login" && r.outcome == "success" && r.actor_user == b.id.to_string()
        })
        .expect("B's sign-in is audited");
    assert_eq!(login.source, "198.51.100.2");
    // A wrong password from B is recorded against B's address.
    let cb2 = proxied_client("198.51.100.2");
    assert_eq!(
        try_sign_in(&cb2, base, &b.username, "not the password!").await,
        StatusCode::UNAUTHORIZED
    );
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE source = $1")
        .bind("198.51.100.2")
        .fetch_one(app.db.store.pool())
        .await
        .unwrap();
    assert_eq!(n, 1);
    app.db.cleanup().await;
}

#[tokio::test]
async fn an_untrusted_peers_forwarded_headers_are_ignored() {
    // 127.0.0.1 is not a trusted proxy here (the default: none).
    let app =
        crate::kit::spawn_app_with(with_proxy(crate::kit::generous_config(), "10.0.0.0/8")).await;
    let base = &app.base_url;
    let (_, a) = org_and_user(&app.db, "org-a", "caseworker").await;
    // Claiming a throttled address does not throttle; claiming a fresh one does not escape.
    fail_from(&app, "198.51.100.7").await;
    let c = proxied_client("198.51.100.7");
    assert_eq!(
        try_sign_in(&c, base, &a.username, PASSWORD).await,
        StatusCode::SEE_OTHER
    );
    let rows = app.db.store.audit_recent(50).await.unwrap();
    let login = rows
        .iter()
        .find(|r| r.action == "auth.login" && r.outcome == "success")
        .unwrap();
    assert_eq!(login.source, "127.0.0.1");
    fail_from(&app, "127.0.0.1").await;
    let c = proxied_client("198.51.100.8");
    assert_eq!(
        try_sign_in(&c, base, &a.username, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    app.db.cleanup().await;
}

#[tokio::test]
async fn requests_over_the_budget_get_429_per_client_address() {
    use dayaq_http::ratelimit::{Limit, RateLimits};
    let slow = std::time::Duration::from_secs(60);
    let cfg = dayaq_http::AppConfig {
        rate_limits: RateLimits {
            signin: Limit {
                burst: 3,
                period: slow,
            },
            api: Limit {
                burst: 5,
                period: slow,
            },
        },
        ..dayaq_http::AppConfig::default()
    };
    let app = crate::kit::spawn_app_with(with_proxy(cfg, "127.0.0.1")).await;
    let base = &app.base_url;
    let (_, a) = org_and_user(&app.db, "org-a", "caseworker").await;
    // API: five answers, then 429 in the API's error shape with Retry-After.
    let c = proxied_client("198.51.100.20");
    for i in 0..5 {
        let r = fetch(&c, format!("{base}/api/v1/me")).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "request {i}");
    }
    let r = fetch(&c, format!("{base}/api/v1/me")).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: i64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_requests");
    // Another client address behind the same proxy has its own budget.
    let other = proxied_client("198.51.100.21");
    assert_eq!(
        fetch(&other, format!("{base}/api/v1/me")).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Sign-in: three attempts, then a 429 page (the form itself still loads).
    let s = proxied_client("198.51.100.22");
    for _ in 0..3 {
        assert_eq!(
            try_sign_in(&s, base, &a.username, "not the password!").await,
            StatusCode::UNAUTHORIZED
        );
    }
    let page = s
        .get(format!("{base}/login"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    let csrf = csrf_field(&page.text().await.unwrap());
    let r = s
        .post(format!("{base}/login"))
        .header("accept-language", "en")
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", a.username.as_str()),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(session_cookie_of(&r).is_none());
    assert!(r.text().await.unwrap().contains("Too many attempts"));
    app.db.cleanup().await;
}
