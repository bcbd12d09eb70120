//! Scoped API tokens (issue 22 §3): a scope narrows what the policy grants the token's user on
//! every API request (a read-only token cannot write, a statistics token cannot read a case);
//! tokens are created on `/account/tokens` by users with integration rights (shown once, 90
//! days by default) and list their scope and last use.

use crate::kit::{
    TOTP_SECRET, api_call, ctx, form_post, new_case, now, org_and_user, page_get, spawn_app,
    web_session,
};
use dayaq_domain::tokens::TokenScope;
use reqwest::StatusCode;
use serde_json::{Value, json};

const IDENTITY: [&str; 4] = ["Nigar", "Aliyeva", "1990-01-02", "+994501112233"];

fn case_body() -> Value {
    json!({
        "prs_FirstName": "Test",
        "prs_SecondName": "Testova",
        "prs_Birthdate": "1998-04-12",
        "prs_Gender": "Feminine",
    })
}

#[tokio::test]
async fn token_scope_read_only_cannot_write_and_statistics_cannot_read_a_case() {
    let app = spawn_app().await;
    let s = &app.db.store;
    let (_, sup) = org_and_user(&app.db, "ngo-a", "supervisor").await;
    let case = new_case(s, &sup.actor(), IDENTITY).await.id;
    let make = |scope| {
        let actor = sup.actor();
        async move {
            s.create_scoped_token(&ctx(&actor), "integration", None, Some(scope))
                .await
                .unwrap()
        }
    };
    let ro = make(TokenScope::ReadOnly).await;
    let stats = make(TokenScope::Statistics).await;
    let work = make(TokenScope::CaseWork).await;
    assert!(ro.secret.starts_with("dq_"));
    let path = format!("/cases/{case}");

    // Read-only: reads the case, cannot create or change one; nothing is written.
    let (st, v) = api_call(&app, &ro.secret, "GET", &path, Value::Null).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["id"], case.to_string());
    let (st, _) = api_call(&app, &ro.secret, "GET", "/cases", Value::Null).await;
    assert_eq!(st, StatusCode::OK);
    let (st, e) = api_call(&app, &ro.secret, "POST", "/cases", case_body()).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(e["error"]["code"], "forbidden");
    let (_, list) = api_call(&app, &work.secret, "GET", "/cases", Value::Null).await;
    let count = |v: &Value| {
        v.as_array()
            .or_else(|| v["cases"].as_array())
            .or_else(|| v["items"].as_array())
            .map(Vec::len)
    };
    assert_eq!(count(&list), Some(1), "the read-only token wrote nothing");

    // Statistics: no case, no case list, no write — even though the user may read them.
    for (m, p) in [
        ("GET", path.as_str()),
        ("GET", "/cases"),
        ("POST", "/cases"),
    ] {
        let (st, _) = api_call(&app, &stats.secret, m, p, case_body()).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{m} {p} with a statistics token");
    }
    let (st, me) = api_call(&app, &stats.secret, "GET", "/me", Value::Null).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(me["username"], sup.username);

    // Case work: what the policy grants (a case is created).
    let (st, _) = api_call(&app, &work.secret, "POST", "/cases", case_body()).await;
    assert_eq!(st, StatusCode::CREATED, "case work creates");

    // Listed with their scope and last use; the default life is 90 days.
    let rows = s.user_tokens(sup.id).await.unwrap();
    let row = rows.iter().find(|r| r.id == ro.id).unwrap();
    assert_eq!(row.scope, "read_only");
    assert!(row.last_used_at.is_some());
    assert_eq!(row.expires_at - row.created_at, 90 * 86_400_000);
    app.db.cleanup().await;
}

#[tokio::test]
async fn token_created_on_the_screen_is_shown_once_and_needs_integration_rights() {
    let app = spawn_app().await;
    let s = &app.db.store;
    let (_, sup) = org_and_user(&app.db, "ngo-a", "supervisor").await;
    let (_, cw) = org_and_user(&app.db, "ngo-a", "caseworker").await;
    s.totp_set_secret(&sup, TOTP_SECRET).await.unwrap();
    let (web, csrf) = web_session(&app, &sup.username, Some(TOTP_SECRET)).await;

    // Refused: no label, days out of range — each error by its field, the choice kept.
    let (st, page) = form_post(
        &app,
        &web,
        "/account/tokens",
        &[
            ("csrf", csrf.as_str()),
            ("label", ""),
            ("scope", "statistics"),
            ("days", "400"),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"token-label-error\""));
    assert!(page.contains("id=\"token-days-error\""));
    assert!(page.contains("value=\"statistics\" selected"));
    assert!(page.contains("value=\"400\""));
    assert!(
        s.user_tokens(sup.id).await.unwrap().is_empty(),
        "nothing written"
    );

    let (st, page) = form_post(
        &app,
        &web,
        "/account/tokens",
        &[
            ("csrf", csrf.as_str()),
            ("label", "case system"),
            ("scope", "read_only"),
            ("days", ""),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let marker = "id=\"token-secret\">";
    let i = page.find(marker).expect("the secret is shown") + marker.len();
    let secret = page[i..i + page[i..].find('<').unwrap()].to_string();
    assert!(secret.starts_with("dq_"));
    let (st, _) = api_call(&app, &secret, "GET", "/me", Value::Null).await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = api_call(&app, &secret, "POST", "/cases", case_body()).await;
    assert_eq!(
        st,
        StatusCode::FORBIDDEN,
        "the screen's read-only scope holds"
    );

    // Shown once: the list names it with its scope and last use, never the secret again.
    let (_, page) = page_get(&app, &web, "/account/tokens").await;
    assert!(!page.contains(&secret));
    assert!(page.contains("case system"));
    let rows = s.user_tokens(sup.id).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].scope, "read_only");
    assert_eq!(rows[0].expires_at - rows[0].created_at, 90 * 86_400_000);
    assert!(rows[0].expires_at > dayaq_storage::millis(now()));

    // A caseworker has no integration rights: no form, and a forged post is refused.
    let (web_cw, csrf_cw) = web_session(&app, &cw.username, None).await;
    let (_, page) = page_get(&app, &web_cw, "/account/tokens").await;
    assert!(!page.contains("id=\"token-new\""));
    let (st, _) = form_post(
        &app,
        &web_cw,
        "/account/tokens",
        &[
            ("csrf", csrf_cw.as_str()),
            ("label", "x"),
            ("scope", "case_work"),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(s.user_tokens(cw.id).await.unwrap().is_empty());
    app.db.cleanup().await;
}
