//! HTTP as the tests speak it: API tokens and JSON calls with a bearer token, and the
//! screens through a cookie-keeping client (sign-in, second factor, CSRF field, forms).

use super::db::{PASSWORD, TestApp, TestDb, now, org_and_user};
use dayaq_storage::Store;
use dayaq_storage::users::User;
use reqwest::StatusCode;
use serde_json::Value;
use time::OffsetDateTime;

/// A client builder for the test server, which speaks plain HTTP on loopback: it loads no
/// TLS root certificates. With the workspace's `rustls-tls-native-roots` feature every
/// `Client` would otherwise parse the system's whole certificate store (about 15 ms in a debug
/// build) — once per API call, since the kit builds a client per request.
pub fn local_client() -> reqwest::ClientBuilder {
    reqwest::Client::builder().tls_built_in_root_certs(false)
}

/// An HTTP client that behaves like a browser for the screens: keeps cookies, does not follow
/// redirects (so tests can check them).
pub fn web_client() -> reqwest::Client {
    local_client()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("http client")
}

/// The CSRF token of the first form on a page.
pub fn csrf_field(html: &str) -> String {
    let i = html.find("name=\"csrf\" value=\"").expect("csrf field");
    let rest = &html[i + 19..];
    rest[..rest.find('"').expect("end of csrf value")].to_string()
}

/// GET `url` with the client `c` (cookies and redirect policy are the client's).
pub async fn fetch(c: &reqwest::Client, url: impl reqwest::IntoUrl) -> reqwest::Response {
    c.get(url).send().await.expect("GET")
}

/// GET `url` with the cookie-keeping client `c`; the body as text.
pub async fn fetch_text(c: &reqwest::Client, url: impl reqwest::IntoUrl) -> String {
    fetch(c, url).await.text().await.expect("body")
}

/// GET `url` with the cookie-keeping client `c`; the body as JSON.
pub async fn fetch_json(c: &reqwest::Client, url: impl reqwest::IntoUrl) -> serde_json::Value {
    fetch(c, url).await.json().await.expect("JSON body")
}

/// GET `url` with the client `c` and bearer `token`.
pub async fn bearer_get(
    c: &reqwest::Client,
    url: impl reqwest::IntoUrl,
    token: &str,
) -> reqwest::Response {
    c.get(url).bearer_auth(token).send().await.expect("GET")
}

/// Posts `form` (URL-encoded: pairs of name and value) to `url` with the client `c`.
pub async fn submit<F: serde::Serialize + ?Sized>(
    c: &reqwest::Client,
    url: impl reqwest::IntoUrl,
    form: &F,
) -> reqwest::Response {
    c.post(url).form(form).send().await.expect("POST form")
}

/// The CSRF token of the form on the page at `url`, as the client `c` gets it.
pub async fn page_csrf(c: &reqwest::Client, url: impl reqwest::IntoUrl) -> String {
    csrf_field(&fetch(c, url).await.text().await.expect("page body"))
}

/// The password step of the sign-in form at `base`: `csrf`, `username` and `password`
/// posted by the client `c`; the response, unchecked.
pub async fn submit_login(
    c: &reqwest::Client,
    base: &str,
    csrf: &str,
    username: &str,
    password: &str,
) -> reqwest::Response {
    let form = [
        ("csrf", csrf),
        ("username", username),
        ("password", password),
    ];
    submit(c, format!("{base}/login"), &form).await
}

/// Signs `username` (password [`PASSWORD`]) in through the sign-in form.
pub async fn sign_in(c: &reqwest::Client, base: &str, username: &str) {
    let csrf = page_csrf(c, format!("{base}/login")).await;
    let r = submit_login(c, base, &csrf, username, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "sign-in of {username}");
}

/// The fixed TOTP secret the HTTP tests give users who need a second factor.
pub const TOTP_SECRET: &[u8; 20] = b"0123456789abcdefghij";

/// The current TOTP code of `secret` for `account`, as an authenticator app would show it.
pub fn totp_code(secret: &[u8], account: &str) -> String {
    totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::new(secret.to_vec().into_boxed_slice()))
        .with_account_name(account.to_string())
        .build()
        .expect("TOTP")
        .generate(OffsetDateTime::now_utc().unix_timestamp() as u64)
        .to_string()
}

/// The second step of the sign-in form for the cookie-keeping client `c`, after the password
/// step: the current code of `secret` for `account`; asserts it is accepted.
pub async fn second_factor(c: &reqwest::Client, base: &str, secret: &[u8], account: &str) {
    let csrf = page_csrf(c, format!("{base}/login/totp")).await;
    let code = totp_code(secret, account);
    let form = [("csrf", csrf.as_str()), ("code", code.as_str())];
    let r = submit(c, format!("{base}/login/totp"), &form).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "second factor of {account}"
    );
}

/// Gives `user` a second factor ([`TOTP_SECRET`]) and signs the cookie-keeping client `c`
/// in with password and code: a session whose second factor is complete (what identity
/// exports need; a bearer token is not enough).
pub async fn sign_in_with_second_factor(
    c: &reqwest::Client,
    base: &str,
    store: &Store,
    user: &User,
) {
    store
        .totp_set_secret(user, TOTP_SECRET)
        .await
        .expect("TOTP secret");
    sign_in(c, base, &user.username).await;
    second_factor(c, base, TOTP_SECRET, &user.username).await;
}

/// An API token (label "test", one day) for `user`.
pub async fn user_token(db: &TestDb, user: &User) -> String {
    db.store
        .create_token(user, "test", 1, now())
        .await
        .expect("API token")
}

/// A fresh user with `role` in organisation `slug` (created if new) and an API token of theirs.
pub async fn token_and_user(db: &TestDb, slug: &str, role: &str) -> (String, User) {
    let (_, user) = org_and_user(db, slug, role).await;
    (user_token(db, &user).await, user)
}

/// An API token of a fresh user with `role` in organisation `slug` (see [`token_and_user`]).
pub async fn api_token(db: &TestDb, slug: &str, role: &str) -> String {
    token_and_user(db, slug, role).await.0
}

/// An HTTP client for the JSON API and file downloads: no cookies, redirects not followed.
pub fn api_client() -> reqwest::Client {
    local_client()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
}

/// A request `method` to `/api/v1{path}`, with bearer `token` when given, to be completed
/// (body, headers) and sent, e.g. with [`json_answer`].
pub fn api_request(
    app: &TestApp,
    token: Option<&str>,
    method: &str,
    path: &str,
) -> reqwest::RequestBuilder {
    let m: reqwest::Method = method.parse().expect("HTTP method");
    let r = api_client().request(m, format!("{}/api/v1{path}", app.base_url));
    match token {
        Some(t) => r.bearer_auth(t),
        None => r,
    }
}

/// Sends `r`: the status and the JSON body (`Null` when the body is not JSON).
pub async fn json_answer(r: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let r = r.send().await.expect("API call");
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// Sends `r` and reads the answer's JSON body (which must be JSON).
pub async fn json_body(r: reqwest::RequestBuilder) -> Value {
    r.send()
        .await
        .expect("request")
        .json()
        .await
        .expect("a JSON body")
}

/// One JSON API call (`/api/v1{path}`) with bearer `token`, redirects not followed: the
/// status and the JSON body (`Null` when the body is not JSON). `body` is sent with every
/// method except GET and DELETE.
pub async fn api_call(
    app: &TestApp,
    token: &str,
    method: &str,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let r = api_request(app, Some(token), method, path);
    match method {
        "GET" | "DELETE" => json_answer(r).await,
        _ => json_answer(r.json(&body)).await,
    }
}

/// Like [`api_call`], with `body` sent only when there is one (whatever the method).
pub async fn api_call_opt(
    app: &TestApp,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let r = api_request(app, Some(token), method, path);
    match body {
        Some(b) => json_answer(r.json(&b)).await,
        None => json_answer(r).await,
    }
}

/// An API token of a fresh user with `role` in organisation `slug`, which is created first (as
/// "Org <slug>", of `org_type` in `region`) when it does not exist yet.
pub async fn org_token(
    db: &TestDb,
    slug: &str,
    role: &str,
    org_type: &str,
    region: &str,
) -> String {
    if db.store.org_by_slug(slug).await.is_err() {
        db.store
            .add_org(slug, &format!("Org {slug}"), org_type, region, now())
            .await
            .expect("add_org");
    }
    api_token(db, slug, role).await
}

/// A signed-in cookie-keeping session for `username` (with the code of `totp` as second
/// factor when given): the client and the CSRF token of its home page.
pub async fn web_session(
    app: &TestApp,
    username: &str,
    totp: Option<&[u8]>,
) -> (reqwest::Client, String) {
    let c = web_client();
    let base = &app.base_url;
    sign_in(&c, base, username).await;
    if let Some(secret) = totp {
        second_factor(&c, base, secret, username).await;
    }
    let (status, home) = page_get(app, &c, "/").await;
    assert_eq!(status, StatusCode::OK, "home of {username}");
    (c, csrf_field(&home))
}

/// A form posted by the client `c` to the screen `path`: the status and the body.
pub async fn form_post(
    app: &TestApp,
    c: &reqwest::Client,
    path: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String) {
    let r = submit(c, format!("{}{path}", app.base_url), form).await;
    let s = r.status();
    (s, r.text().await.expect("response body"))
}

/// The screen `path` as the client `c` gets it: the status and the body.
pub async fn page_get(app: &TestApp, c: &reqwest::Client, path: &str) -> (StatusCode, String) {
    let r = fetch(c, format!("{}{path}", app.base_url)).await;
    let s = r.status();
    (s, r.text().await.expect("page body"))
}

/// Uploads `data` as attachment `name` to `section` of `case` (multipart part `file`) with
/// bearer `token`: the status and the JSON answer.
pub async fn attachment_upload(
    app: &TestApp,
    token: &str,
    case: &str,
    section: &str,
    name: &str,
    data: Vec<u8>,
) -> (StatusCode, Value) {
    let part = reqwest::multipart::Part::bytes(data).file_name(name.to_string());
    let form = reqwest::multipart::Form::new().part("file", part);
    let path = format!("/cases/{case}/attachments?section={section}");
    json_answer(api_request(app, Some(token), "POST", &path).multipart(form)).await
}
