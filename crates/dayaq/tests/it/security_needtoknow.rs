//! Issue 14, items 5, 7, 8 and 11 (item 6 is the contents check of `authz_matrix.rs`):
//! identity exports, referral details after a referral ends, consent withdrawal and transfer,
//! and the search presence oracle. Each test fails on the code before the fix.

use crate::kit::{
    TestApp, api_call, api_client, bearer_get, ctx, fetch, fetch_text, now, org_and_user, sign_in,
    sign_in_with_second_factor, spawn_app, test_db, user_token, web_client,
};
use dayaq_storage::StoreError;
use dayaq_storage::cases::SearchQuery;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn ok(app: &TestApp, token: &str, method: &str, path: &str, body: Value) -> Value {
    let (s, v) = api_call(app, token, method, path, body).await;
    assert!(s.is_success(), "{method} {path}: {s} {v}");
    v
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_default().to_string()
}

/// (action, case id, detail) of every audit row.
async fn audit_rows(app: &TestApp) -> Vec<(String, String, String)> {
    sqlx::query_as("SELECT action, case_id, detail FROM audit_log ORDER BY seq")
        .fetch_all(app.db.store.pool())
        .await
        .unwrap()
}

async fn new_case(app: &TestApp, token: &str, first: &str, consent_for: Option<&str>) -> String {
    let case = ok(
        app,
        token,
        "POST",
        "/cases",
        json!({"prs_FirstName": first, "prs_SecondName": "Sectestova", "prs_Birthdate": "1993-03-03",
               "prs_Gender": "Feminine", "prs_MobilePhone": "+994 55 400 12 34",
               "prs_IdentityNumber": "AZE9988776"}),
    )
    .await;
    let case = id(&case);
    if let Some(org) = consent_for {
        ok(
            app,
            token,
            "POST",
            &format!("/cases/{case}/consents"),
            json!({"purpose": "SharingWithOrganisation", "given": true, "recipient_org": org,
                   "given_by": "Survivor", "language": "az"}),
        )
        .await;
    }
    case
}

// ---------------------------------------------------------------- item 5: identity exports

/// Identity exports need a caseworker or supervisor in a session with a completed second
/// factor: a bearer token gets a clear 403 (and may export without identities), a hotline
/// operator is refused identities, and each exported page is audited with its case ids.
#[tokio::test]
async fn identity_export_needs_case_manager_with_second_factor() {
    let app = spawn_app().await;
    let base = &app.base_url;
    let (_, cw) = org_and_user(&app.db, "org-a", "caseworker").await;
    let (_, hotline) = org_and_user(&app.db, "org-a", "hotline_operator").await;
    let t = user_token(&app.db, &cw).await;
    let case = new_case(&app, &t, "Exportmarka", None).await;

    // A bearer token alone: refused with a reason and a sentence, nothing exported.
    let r = bearer_get(&api_client(), format!("{base}/api/v1/export/htcds"), &t).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["error"]["reason"],
        "identity_export_needs_second_factor"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("identity=none"),
        "{body}"
    );
    // Without identities the token may export: the case is there, the name is not.
    let r = bearer_get(
        &api_client(),
        format!("{base}/api/v1/export/htcds?identity=none"),
        &t,
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let csv = r.text().await.unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(!csv.contains("Exportmarka") && !csv.contains("AZE9988776"));
    let r = bearer_get(
        &api_client(),
        format!("{base}/api/v1/export/htcds?identity=all"),
        &t,
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // A hotline operator (password-only session): never identities.
    let h = web_client();
    sign_in(&h, base, &hotline.username).await;
    let r = fetch(&h, format!("{base}/api/v1/export/htcds")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["error"]["reason"],
        "identity_export_needs_case_manager"
    );

    // A caseworker signed in with a second factor exports identities.
    let s = web_client();
    sign_in_with_second_factor(&s, base, &app.db.store, &cw).await;
    let page = fetch(&s, format!("{base}/htcds")).await;
    let html = page.text().await.unwrap();
    assert!(html.contains("href=\"/htcds/export?format=csv\""));
    let r = fetch(&s, format!("{base}/api/v1/export/htcds")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let csv = r.text().await.unwrap();
    assert!(csv.contains("Exportmarka"), "{csv}");

    // Audited with the case ids (never names), the refusals with their reason.
    let rows = audit_rows(&app).await;
    let ids: Vec<&(String, String, String)> =
        rows.iter().filter(|r| r.0 == "case.export_ids").collect();
    assert_eq!(ids.len(), 2, "{rows:?}");
    assert!(ids.iter().all(|r| r.2.contains(&case)));
    assert!(ids.iter().any(|r| r.2.starts_with("identity=yes ")));
    assert!(ids.iter().any(|r| r.2.starts_with("identity=none ")));
    assert!(
        rows.iter()
            .any(|r| r.0 == "case.export" && r.2 == "identity_export_needs_second_factor")
    );
    assert!(
        rows.iter()
            .all(|r| !r.2.contains("Exportmarka") && !r.2.contains("AZE9988776"))
    );
    app.db.cleanup().await;
}

// ---------------------------------------------------------------- item 7: referral details

/// Details and travel data of a return-home referral: readable by the receiver while pending
/// (each read audited), gone after it declines; for an accepted referral, gone after it
/// completes (grace period 0). The sending organisation keeps them.
#[tokio::test]
async fn referral_details_readable_only_while_live_and_audited() {
    let app = spawn_app().await;
    let (_, a) = org_and_user(&app.db, "org-a", "caseworker").await;
    let (_, b) = org_and_user(&app.db, "org-b", "caseworker").await;
    let (ta, tb) = (user_token(&app.db, &a).await, user_token(&app.db, &b).await);
    let case = new_case(&app, &ta, "Travelmarka", Some("org-b")).await;
    let day = (now().date() + time::Duration::days(30)).to_string();
    let send = |services: &'static str| {
        json!({"to_org": "org-b", "services": [services],
               "cas_ReasonForOutgoingReferral": "AdditionalServicesRequired",
               "cas_OutgoingReferralDetails": "Detailmark meet at the gate",
               "travel": {"travel_date": day, "destination_country": "UZ", "flight": "FLIGHTMARK7"}})
    };
    let declined = id(&ok(
        &app,
        &ta,
        "POST",
        &format!("/cases/{case}/referrals"),
        send("ReturnHome"),
    )
    .await);
    let before = audit_rows(&app).await.len();
    let r = ok(
        &app,
        &tb,
        "GET",
        &format!("/referrals/{declined}"),
        Value::Null,
    )
    .await;
    assert_eq!(
        r["cas_OutgoingReferralDetails"],
        "Detailmark meet at the gate"
    );
    assert_eq!(r["travel"]["flight"], "FLIGHTMARK7");
    let inbox = ok(&app, &tb, "GET", "/referrals/inbox", Value::Null).await;
    assert!(inbox.to_string().contains("FLIGHTMARK7"));
    let reads: Vec<_> = audit_rows(&app).await[before..]
        .iter()
        .filter(|r| r.0 == "referral.read_details")
        .cloned()
        .collect();
    assert_eq!(reads.len(), 2, "the single read and the inbox are audited");
    assert!(
        reads
            .iter()
            .all(|r| r.1 == case && r.2 == format!("referral={declined}"))
    );

    ok(
        &app,
        &tb,
        "POST",
        &format!("/referrals/{declined}/decline"),
        json!({"decline_reason": "no places"}),
    )
    .await;
    // Declined: the receiver no longer reads details or travel, anywhere.
    for path in [
        format!("/referrals/{declined}"),
        "/referrals/inbox".to_string(),
    ] {
        let v = ok(&app, &tb, "GET", &path, Value::Null).await.to_string();
        assert!(
            !v.contains("Detailmark") && !v.contains("FLIGHTMARK7"),
            "{path} after decline: {v}"
        );
    }
    // The sender keeps them.
    let v = ok(
        &app,
        &ta,
        "GET",
        &format!("/referrals/{declined}"),
        Value::Null,
    )
    .await;
    assert_eq!(v["travel"]["flight"], "FLIGHTMARK7");

    // Accepted, then completed: readable while accepted, not after.
    let done = id(&ok(
        &app,
        &ta,
        "POST",
        &format!("/cases/{case}/referrals"),
        send("ReturnHome"),
    )
    .await);
    ok(
        &app,
        &tb,
        "POST",
        &format!("/referrals/{done}/accept"),
        json!({}),
    )
    .await;
    let v = ok(&app, &tb, "GET", &format!("/referrals/{done}"), Value::Null).await;
    assert_eq!(v["travel"]["flight"], "FLIGHTMARK7");
    ok(
        &app,
        &tb,
        "POST",
        &format!("/referrals/{done}/complete"),
        json!({}),
    )
    .await;
    let v = ok(&app, &tb, "GET", &format!("/referrals/{done}"), Value::Null).await;
    assert!(v.get("travel").is_none() && v.get("cas_OutgoingReferralDetails").is_none());
    app.db.cleanup().await;
}

// ---------------------------------------------------------------- item 8: consent, transfer

/// Withdrawing the consent that covered an accepted referral ends its grant at once: the
/// receiver loses the case, the referral is withdrawn (ended by the consent withdrawal), the
/// receiving organisation is notified with a kind and an id only.
#[tokio::test]
async fn consent_withdrawal_ends_the_referrals_it_covered() {
    let app = spawn_app().await;
    let (_, a) = org_and_user(&app.db, "org-a", "caseworker").await;
    let (_, b) = org_and_user(&app.db, "org-b", "caseworker").await;
    let (ta, tb) = (user_token(&app.db, &a).await, user_token(&app.db, &b).await);
    let case = new_case(&app, &ta, "Consentmarka", None).await;
    let consent = id(&ok(
        &app,
        &ta,
        "POST",
        &format!("/cases/{case}/consents"),
        json!({"purpose": "SharingWithOrganisation", "given": true, "recipient_org": "org-b",
               "given_by": "Survivor", "language": "az"}),
    )
    .await);
    let referral = id(&ok(
        &app,
        &ta,
        "POST",
        &format!("/cases/{case}/referrals"),
        json!({"to_org": "org-b", "services": ["Medical"],
               "cas_ReasonForOutgoingReferral": "AdditionalServicesRequired"}),
    )
    .await);
    ok(
        &app,
        &tb,
        "POST",
        &format!("/referrals/{referral}/accept"),
        json!({}),
    )
    .await;
    let (s, _) = api_call(
        &app,
        &tb,
        "GET",
        &format!("/cases/{case}?include=identity"),
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "the grant is in force");

    ok(
        &app,
        &ta,
        "POST",
        &format!("/cases/{case}/consents/{consent}/withdraw"),
        json!({}),
    )
    .await;
    for path in [format!("/cases/{case}"), format!("/cases/{case}/events")] {
        let (s, _) = api_call(&app, &tb, "GET", &path, Value::Null).await;
        assert_eq!(
            s,
            StatusCode::NOT_FOUND,
            "{path} after the consent was withdrawn"
        );
    }
    let r = ok(
        &app,
        &ta,
        "GET",
        &format!("/referrals/{referral}"),
        Value::Null,
    )
    .await;
    assert_eq!(r["state"], "Withdrawn");
    let n = ok(&app, &tb, "GET", "/notifications", Value::Null).await;
    let n = n["notifications"].as_array().unwrap();
    assert!(
        n.iter()
            .any(|x| x["kind"] == "referral.consent_withdrawn" && x["ref_id"] == referral.as_str()),
        "{n:?}"
    );
    assert!(!Value::Array(n.clone()).to_string().contains("Consentmarka"));
    let events = ok(
        &app,
        &ta,
        "GET",
        &format!("/cases/{case}/events"),
        Value::Null,
    )
    .await;
    assert!(events.to_string().contains("referral.ended-by-consent"));
    assert!(
        audit_rows(&app)
            .await
            .iter()
            .any(|r| r.0 == "referral.ended_by_consent" && r.1 == case)
    );
    // No grant is left (the referral ended without the grace period).
    let facts = app
        .db
        .store
        .case_facts(uuid::Uuid::parse_str(&case).unwrap(), now())
        .await
        .unwrap()
        .unwrap();
    assert!(facts.grants.is_empty());
    app.db.cleanup().await;
}

/// A transfer moves everything: the previous owner can no longer read the intake contact's
/// summary, nor the case's referrals in its outbox or by id.
#[tokio::test]
async fn transfer_leaves_the_previous_owner_nothing() {
    let app = spawn_app().await;
    let (_, a) = org_and_user(&app.db, "org-a", "caseworker").await;
    let (_, b) = org_and_user(&app.db, "org-b", "caseworker").await;
    // Organisation C receives a referral of the case before the transfer.
    org_and_user(&app.db, "org-c", "caseworker").await;
    let (ta, tb) = (user_token(&app.db, &a).await, user_token(&app.db, &b).await);
    let contact = id(&ok(
        &app,
        &ta,
        "POST",
        "/contacts",
        json!({"channel": "Hotline", "anonymous": false, "summary": "Intakemark she called from the market"}),
    )
    .await);
    let case = id(&ok(
        &app,
        &ta,
        "POST",
        &format!("/contacts/{contact}/case"),
        json!({"prs_FirstName": "Transfermarka", "prs_Gender": "Feminine"}),
    )
    .await);
    for org in ["org-b", "org-c"] {
        ok(
            &app,
            &ta,
            "POST",
            &format!("/cases/{case}/consents"),
            json!({"purpose": "SharingWithOrganisation", "given": true, "recipient_org": org,
                   "given_by": "Survivor", "language": "az"}),
        )
        .await;
    }
    let referral = id(&ok(
        &app,
        &ta,
        "POST",
        &format!("/cases/{case}/referrals"),
        json!({"to_org": "org-c", "services": ["Medical"],
               "cas_ReasonForOutgoingReferral": "AdditionalServicesRequired",
               "cas_OutgoingReferralDetails": "Outboxmark details"}),
    )
    .await);
    let v = ok(
        &app,
        &ta,
        "GET",
        &format!("/contacts/{contact}"),
        Value::Null,
    )
    .await;
    assert!(v.to_string().contains("Intakemark"));

    ok(
        &app,
        &ta,
        "POST",
        &format!("/cases/{case}/transfer"),
        json!({"to_org": "org-b"}),
    )
    .await;
    let (s, v) = api_call(
        &app,
        &ta,
        "GET",
        &format!("/contacts/{contact}"),
        Value::Null,
    )
    .await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "the intake summary stays readable: {v}"
    );
    let list = ok(&app, &ta, "GET", "/contacts", Value::Null).await;
    assert!(!list.to_string().contains(&contact));
    let (s, _) = api_call(
        &app,
        &ta,
        "GET",
        &format!("/referrals/{referral}"),
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let outbox = ok(&app, &ta, "GET", "/referrals/outbox", Value::Null).await;
    assert!(!outbox.to_string().contains(&referral), "{outbox}");
    // The new owner has all of it.
    let v = ok(
        &app,
        &tb,
        "GET",
        &format!("/contacts/{contact}"),
        Value::Null,
    )
    .await;
    assert!(v.to_string().contains("Intakemark"));
    let v = ok(
        &app,
        &tb,
        "GET",
        &format!("/referrals/{referral}"),
        Value::Null,
    )
    .await;
    assert_eq!(v["cas_OutgoingReferralDetails"], "Outboxmark details");
    app.db.cleanup().await;
}

// ---------------------------------------------------------------- item 11: search oracle

fn query(name: bool, phone: Option<&str>, idnum: Option<&str>) -> SearchQuery {
    SearchQuery {
        first_name: name.then(|| "Oraclemarka".into()),
        second_name: name.then(|| "Sectestova".into()),
        birthdate: name.then(|| "1993-03-03".into()),
        phone: phone.map(str::to_string),
        identity_number: idnum.map(str::to_string),
        case_number: None,
    }
}

/// A phone or an identity number alone (or name + birth date alone) never reveals a
/// registration in another organisation; name + birth date with a phone or an identity number
/// of the same case does. The audit row records the kinds searched, never the values.
#[tokio::test]
async fn search_is_no_presence_oracle() {
    let db = test_db().await;
    let s = &db.store;
    let (org_a, a) = org_and_user(&db, "org-a", "caseworker").await;
    let (_, b) = org_and_user(&db, "org-b", "caseworker").await;
    let mut c = crate::kit::sample_case(
        "Oraclemarka",
        "Sectestova",
        "1993-03-03",
        "+994 55 400 12 34",
    );
    c.identity.identity_number = Some("AZE9988776".into());
    s.create_case(&ctx(&a.actor()), &c).await.unwrap();
    // A different person with the same phone: name + birth date of one, phone of another.
    s.create_case(
        &ctx(&a.actor()),
        &crate::kit::sample_case("Someone", "Else", "1980-01-01", "+994 55 111 11 11"),
    )
    .await
    .unwrap();
    let phone = "+994554001234";
    let elsewhere = |q: SearchQuery| {
        let actor = b.actor();
        async move {
            s.search_cases(&ctx(&actor), &q)
                .await
                .unwrap()
                .possible_matches_elsewhere
        }
    };
    assert!(elsewhere(query(false, Some(phone), None)).await.is_empty());
    assert!(
        elsewhere(query(false, None, Some("AZE9988776")))
            .await
            .is_empty()
    );
    assert!(
        elsewhere(query(false, Some(phone), Some("AZE9988776")))
            .await
            .is_empty()
    );
    assert!(elsewhere(query(true, None, None)).await.is_empty());
    assert!(
        elsewhere(query(true, Some("+994551111111"), None))
            .await
            .is_empty(),
        "name of one case and phone of another are not one person"
    );
    assert_eq!(
        elsewhere(query(true, Some(phone), None)).await,
        vec![org_a.name.clone()]
    );
    assert_eq!(
        elsewhere(query(true, None, Some("aze 9988776"))).await,
        vec![org_a.name.clone()]
    );
    // A phone alone still finds the caller's own cases.
    let own = s
        .search_cases(&ctx(&a.actor()), &query(false, Some(phone), None))
        .await
        .unwrap();
    assert_eq!(own.cases.len(), 1);

    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT action, detail FROM audit_log WHERE action = 'case.search' ORDER BY seq",
    )
    .fetch_all(s.pool())
    .await
    .unwrap();
    assert_eq!(rows.len(), 8);
    assert!(rows[0].1.starts_with("kinds=phone "), "{rows:?}");
    assert!(rows[5].1.starts_with("kinds=name+birth,phone "), "{rows:?}");
    assert!(rows[2].1.starts_with("kinds=id_number,phone "), "{rows:?}");
    assert!(
        rows[6].1.starts_with("kinds=id_number,name+birth "),
        "{rows:?}"
    );
    for (_, d) in &rows {
        for secret in ["Oraclemarka", "Sectestova", "1993", "400", "9988776"] {
            assert!(!d.contains(secret), "audit detail {d} holds {secret}");
        }
    }
    db.cleanup().await;
}

/// Searches are rate-limited per user (30 per 10 minutes by default): the 31st answers 429
/// with Retry-After, another user is unaffected, and the refusal is audited.
#[tokio::test]
async fn search_is_rate_limited_per_user() {
    let app = spawn_app().await;
    let (_, a) = org_and_user(&app.db, "org-a", "caseworker").await;
    let (_, a2) = org_and_user(&app.db, "org-a", "hotline_operator").await;
    let (t, t2) = (
        user_token(&app.db, &a).await,
        user_token(&app.db, &a2).await,
    );
    let body = json!({"prs_MobilePhone": "+994 55 000 00 00"});
    for i in 0..30 {
        let (s, _) = api_call(&app, &t, "POST", "/cases/search", body.clone()).await;
        assert_eq!(s, StatusCode::OK, "search {i}");
    }
    let r = api_client()
        .post(format!("{}/api/v1/cases/search", app.base_url))
        .bearer_auth(&t)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    let (s, _) = api_call(&app, &t2, "POST", "/cases/search", body.clone()).await;
    assert_eq!(s, StatusCode::OK, "another user has their own budget");
    assert!(
        audit_rows(&app)
            .await
            .iter()
            .any(|r| r.0 == "case.search" && r.2 == "rate_limited kinds=phone")
    );
    // The same limit on the store, with a clock: the budget comes back after the window.
    let store = app.db.store.clone();
    let actor = a.actor();
    let later = now() + time::Duration::minutes(11);
    let ctx_later = dayaq_storage::cases::Ctx {
        actor: &actor,
        source: "127.0.0.1",
        now: later,
    };
    assert!(matches!(
        store
            .search_cases(&ctx(&actor), &query(false, Some("+994550000000"), None))
            .await,
        Err(StoreError::RateLimited(_))
    ));
    assert!(
        store
            .search_cases(&ctx_later, &query(false, Some("+994550000000"), None))
            .await
            .is_ok()
    );
    // The search screen offers phone and document number (own organisation, or a second
    // identifier next to name and birth date).
    let br = web_client();
    sign_in(&br, &app.base_url, &a2.username).await;
    let html = fetch_text(&br, format!("{}/cases", app.base_url)).await;
    assert!(html.contains("id=\"phone\"") && html.contains("id=\"identity_number\""));
    app.db.cleanup().await;
}

/// With the organisation setting "identity exports need a supervisor's approval" on, a
/// caseworker's identity export waits for a supervisor (not the requester) to approve the
/// request, then works exactly once; supervisors are notified; the screens offer the steps.
#[tokio::test]
async fn identity_export_waits_for_a_supervisors_approval() {
    let app = spawn_app().await;
    let base = &app.base_url;
    let (_, cw) = org_and_user(&app.db, "org-a", "caseworker").await;
    let (_, sup) = org_and_user(&app.db, "org-a", "supervisor").await;
    let (tc, ts) = (
        user_token(&app.db, &cw).await,
        user_token(&app.db, &sup).await,
    );
    new_case(&app, &tc, "Approvalmarka", None).await;
    let s = web_client();
    sign_in_with_second_factor(&s, base, &app.db.store, &cw).await;
    let export = |q: &str| {
        let url = format!("{base}/api/v1/export/htcds{q}");
        let s = s.clone();
        async move { fetch(&s, url).await }
    };
    // Off by default: the caseworker exports directly.
    let v = ok(&app, &tc, "GET", "/export-settings", Value::Null).await;
    assert_eq!(v["approval_required"], false);
    assert_eq!(export("").await.status(), StatusCode::OK);

    // Only a supervisor turns it on.
    let (st, _) = api_call(
        &app,
        &tc,
        "PUT",
        "/export-settings",
        json!({"approval_required": true}),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    ok(
        &app,
        &ts,
        "PUT",
        "/export-settings",
        json!({"approval_required": true}),
    )
    .await;
    let r = export("").await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["reason"], "identity_export_needs_approval");
    // Without identities nothing needs approving.
    assert_eq!(export("?identity=none").await.status(), StatusCode::OK);

    // The caseworker asks; the supervisors are notified; pending is not enough.
    let req = id(&ok(&app, &tc, "POST", "/export-requests", json!({})).await);
    let n = ok(&app, &ts, "GET", "/notifications", Value::Null).await;
    assert!(n.to_string().contains("export.requested") && n.to_string().contains(&req));
    assert_eq!(
        export(&format!("?request={req}")).await.status(),
        StatusCode::FORBIDDEN
    );
    // The screen shows the request, waiting; the supervisor's screen offers to approve it.
    let html = fetch_text(&s, format!("{base}/htcds")).await;
    assert!(
        html.contains("id=\"export-approval-note\"") && html.contains("id=\"export-requests\"")
    );
    assert!(!html.contains(&format!("request={req}")));
    let sb = web_client();
    sign_in_with_second_factor(&sb, base, &app.db.store, &sup).await;
    let html = fetch_text(&sb, format!("{base}/htcds")).await;
    assert!(html.contains(&format!("/htcds/export-requests/{req}/approve")));
    assert!(html.contains("id=\"export-settings\""));
    // The requester cannot approve (not a supervisor); the supervisor does.
    let (st, _) = api_call(
        &app,
        &tc,
        "POST",
        &format!("/export-requests/{req}/approve"),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, _) = api_call(
        &app,
        &ts,
        "POST",
        &format!("/export-requests/{req}/approve"),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let html = fetch_text(&s, format!("{base}/htcds")).await;
    assert!(
        html.contains(&format!("request={req}")),
        "the download link"
    );
    // A bearer token cannot use the approval; the session downloads once.
    let r = bearer_get(
        &api_client(),
        format!("{base}/api/v1/export/htcds?request={req}"),
        &tc,
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = export(&format!("?request={req}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("Approvalmarka"));
    assert_eq!(
        export(&format!("?request={req}")).await.status(),
        StatusCode::FORBIDDEN,
        "an approval works once"
    );
    let rows = audit_rows(&app).await;
    for action in [
        "org.export_approval",
        "case.export_request",
        "case.export_approve",
        "case.export_request_used",
    ] {
        assert!(rows.iter().any(|r| r.0 == action), "{action}");
    }
    let list = ok(&app, &tc, "GET", "/export-requests", Value::Null).await;
    assert_eq!(list["requests"][0]["state"], "Used");
    app.db.cleanup().await;
}
