//! Webhooks (issue 22 §4) against a local receiver started in the test (a tiny axum server on
//! a free port): events written in the change's transaction are delivered with a valid
//! Standard Webhooks signature (checked by the independent `standardwebhooks` crate); a
//! receiver that is down gets the event later and none is lost; a delivery claimed by a worker
//! that died is delivered after its lease with the same id; payloads carry ids only; a
//! non-https URL is refused on its field; endpoints and the log stay in their organisation.

use crate::kit::{
    TOTP_SECRET, accepted_vt_referral, api_call, ctx, decide_identification, form_post, new_case,
    now, org_and_user, page_get, spawn_app, user_token, web_session,
};
use axum::http::{HeaderMap, StatusCode as AxStatus};
use dayaq_domain::Actor;
use dayaq_domain::webhooks::{EndpointInput, LEASE_MS};
use dayaq_http::webhook_worker::{Round, client, deliver_due};
use dayaq_storage::Store;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use time::Duration;
use uuid::Uuid;

const IDENTITY: [&str; 4] = ["Leyla", "Hasanova", "1994-03-02", "+994507654321"];

/// What the receiver got: each request's headers and body.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(HeaderMap, String)>>>);

impl Received {
    fn all(&self) -> Vec<(HeaderMap, String)> {
        self.0.lock().unwrap().clone()
    }
    fn ids(&self) -> Vec<String> {
        self.all()
            .iter()
            .map(|(h, _)| h["webhook-id"].to_str().unwrap().to_string())
            .collect()
    }
}

/// Serves a receiver on `listener` that records every POST and answers 204.
fn serve_receiver(listener: tokio::net::TcpListener) -> Received {
    let got = Received::default();
    let rec = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let rec = rec.clone();
            async move {
                rec.0.lock().unwrap().push((headers, body));
                AxStatus::NO_CONTENT
            }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    got
}

async fn receiver() -> (String, Received) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    (url, serve_receiver(l))
}

/// Registers an endpoint of `manager`'s organisation: its id and signing secret.
async fn endpoint(store: &Store, manager: &Actor, url: &str, events: &[&str]) -> (Uuid, String) {
    let input = EndpointInput {
        url: url.into(),
        events: events.iter().map(|e| e.to_string()).collect(),
    };
    let e = store
        .add_webhook_endpoint(&ctx(manager), &input)
        .await
        .expect("add_webhook_endpoint");
    assert!(e.secret.starts_with("whsec_"));
    (e.endpoint.id, e.secret)
}

async fn round(store: &Store, at: time::OffsetDateTime) -> Round {
    deliver_due(store, &client().unwrap(), at)
        .await
        .expect("delivery round")
}

/// Checks one delivery: the signature verifies under `secret` (the reference verifier), and
/// the body is `{type, timestamp, data}` with only ids in `data` and none of the survivor's
/// details anywhere.
fn check(headers: &HeaderMap, body: &str, secret: &str, event: &str) -> Value {
    standardwebhooks::Webhook::new(secret)
        .unwrap()
        .verify(body.as_bytes(), headers)
        .expect("a valid Standard Webhooks signature");
    for part in IDENTITY {
        assert!(!body.contains(part), "personal data in a payload");
    }
    let v: Value = serde_json::from_str(body).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    assert_eq!(keys, ["data", "timestamp", "type"]);
    assert_eq!(v["type"], event);
    for (k, id) in v["data"].as_object().unwrap() {
        assert!(k.ends_with("_id"), "{k} is an id");
        Uuid::parse_str(id.as_str().unwrap()).expect("an id is a UUID");
    }
    v
}

#[tokio::test]
async fn webhook_events_of_referrals_and_decisions_delivered_signed() {
    let app = spawn_app().await;
    let s = &app.db.store;
    let (_, cw) = org_and_user(&app.db, "ngo-a", "caseworker").await;
    let (_, sup_a) = org_and_user(&app.db, "ngo-a", "supervisor").await;
    let (_, cw_b) = org_and_user(&app.db, "ngo-b", "caseworker").await;
    let (_, admin_b) = org_and_user(&app.db, "ngo-b", "org_admin").await;
    let (_, police) = org_and_user(&app.db, "police-atd", "police_officer").await;
    let (_, admin_p) = org_and_user(&app.db, "police-atd", "org_admin").await;
    let (url, got) = receiver().await;
    let (_, secret_a) = endpoint(s, &sup_a.actor(), &url, &["referral.answered"]).await;
    let (_, secret_b) = endpoint(s, &admin_b.actor(), &url, &["referral.received"]).await;
    let (_, secret_p) = endpoint(s, &admin_p.actor(), &url, &["decision.made"]).await;

    let case = new_case(s, &cw.actor(), IDENTITY).await.id;
    accepted_vt_referral(s, &cw.actor(), &cw_b.actor(), case, "ngo-b").await;
    let police_case = new_case(s, &police.actor(), IDENTITY).await.id;
    decide_identification(s, &police.actor(), police_case, "ActualVictimOfTrafficking").await;

    // Nothing leaves before the worker runs; one round delivers the three events.
    assert!(got.all().is_empty());
    assert_eq!(
        round(s, now()).await,
        Round {
            delivered: 3,
            failed: 0
        }
    );
    let all = got.all();
    assert_eq!(all.len(), 3);
    let by_type = |t: &str| {
        all.iter()
            .find(|(_, b)| b.contains(&format!("\"type\":\"{t}\"")))
            .unwrap_or_else(|| panic!("a {t} delivery"))
            .clone()
    };
    let (h, b) = by_type("referral.received");
    let v = check(&h, &b, &secret_b, "referral.received");
    assert_eq!(v["data"]["case_id"], case.to_string());
    // Signed with B's secret, not A's: another organisation's secret does not verify.
    assert!(
        standardwebhooks::Webhook::new(&secret_a)
            .unwrap()
            .verify(b.as_bytes(), &h)
            .is_err()
    );
    let (h, b) = by_type("referral.answered");
    let v = check(&h, &b, &secret_a, "referral.answered");
    assert_eq!(v["data"]["case_id"], case.to_string());
    assert!(v["data"]["referral_id"].is_string());
    let (h, b) = by_type("decision.made");
    let v = check(&h, &b, &secret_p, "decision.made");
    assert_eq!(v["data"]["case_id"], police_case.to_string());

    // Delivered once: a second round sends nothing again.
    assert_eq!(round(s, now()).await, Round::default());
    assert_eq!(got.all().len(), 3);

    // The delivery log (API) of organisation A shows its one delivery, delivered, with the
    // id the receiver got; B's log shows only B's.
    let tok_a = user_token(&app.db, &sup_a).await;
    let (st, log) = api_call(&app, &tok_a, "GET", "/webhooks/deliveries", Value::Null).await;
    assert_eq!(st, StatusCode::OK);
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["state"], "delivered");
    assert_eq!(log[0]["event_type"], "referral.answered");
    assert_eq!(log[0]["attempts"], 1);
    assert!(
        got.ids()
            .contains(&log[0]["id"].as_str().unwrap().to_string())
    );
    let tok_b = user_token(&app.db, &admin_b).await;
    let (_, log_b) = api_call(&app, &tok_b, "GET", "/webhooks/deliveries", Value::Null).await;
    assert_eq!(log_b.as_array().unwrap().len(), 1);
    assert_eq!(log_b[0]["event_type"], "referral.received");
    let (_, eps_b) = api_call(&app, &tok_b, "GET", "/webhooks/endpoints", Value::Null).await;
    assert_eq!(eps_b.as_array().unwrap().len(), 1);
    assert!(
        eps_b[0].get("secret").is_none(),
        "a listed endpoint never shows its secret"
    );
    app.db.cleanup().await;
}

#[tokio::test]
async fn webhook_receiver_down_is_retried_later_and_nothing_is_lost() {
    let app = spawn_app().await;
    let s = &app.db.store;
    let (_, police) = org_and_user(&app.db, "police-atd", "police_officer").await;
    let (_, admin) = org_and_user(&app.db, "police-atd", "org_admin").await;
    // A free port with nothing listening yet.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    let url = format!("http://{addr}/hook");
    let (_, secret) = endpoint(s, &admin.actor(), &url, &["decision.made"]).await;
    for _ in 0..2 {
        let case = new_case(s, &police.actor(), IDENTITY).await.id;
        decide_identification(s, &police.actor(), case, "ActualVictimOfTrafficking").await;
    }
    let t0 = now();
    assert_eq!(
        round(s, t0).await,
        Round {
            delivered: 0,
            failed: 2
        }
    );
    let tok = user_token(&app.db, &admin).await;
    let (_, log) = api_call(&app, &tok, "GET", "/webhooks/deliveries", Value::Null).await;
    for d in log.as_array().unwrap() {
        assert_eq!(d["state"], "pending");
        assert_eq!(d["attempts"], 1);
        assert_eq!(d["last_error"], "connect");
        assert!(d["next_attempt_at"].is_string());
    }
    // Backoff: nothing is tried again before the first retry delay (30 s) has passed.
    assert_eq!(round(s, t0 + Duration::seconds(10)).await, Round::default());

    // The receiver comes up; the next round after the delay delivers both, once each.
    let got = serve_receiver(tokio::net::TcpListener::bind(addr).await.unwrap());
    assert_eq!(
        round(s, t0 + Duration::seconds(31)).await,
        Round {
            delivered: 2,
            failed: 0
        }
    );
    let all = got.all();
    assert_eq!(all.len(), 2);
    for (h, b) in &all {
        check(h, b, &secret, "decision.made");
    }
    let (_, log) = api_call(&app, &tok, "GET", "/webhooks/deliveries", Value::Null).await;
    let mut logged: Vec<String> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            assert_eq!(d["state"], "delivered");
            assert_eq!(d["attempts"], 2);
            d["id"].as_str().unwrap().to_string()
        })
        .collect();
    let mut ids = got.ids();
    logged.sort();
    ids.sort();
    assert_eq!(logged, ids, "every event delivered, none lost");
    app.db.cleanup().await;
}

#[tokio::test]
async fn webhook_killed_mid_delivery_is_redelivered_with_the_same_id() {
    let app = spawn_app().await;
    let s = &app.db.store;
    let (_, police) = org_and_user(&app.db, "police-atd", "police_officer").await;
    let (_, admin) = org_and_user(&app.db, "police-atd", "org_admin").await;
    let (url, got) = receiver().await;
    let (_, secret) = endpoint(s, &admin.actor(), &url, &["decision.made"]).await;
    let case = new_case(s, &police.actor(), IDENTITY).await.id;
    decide_identification(s, &police.actor(), case, "ActualVictimOfTrafficking").await;

    // A worker claims the delivery, sends it, and is killed before it records the outcome.
    let t0 = now();
    let claimed = s.claim_webhook_deliveries(t0, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let d = &claimed[0];
    let ts = t0.unix_timestamp();
    let sig = dayaq_storage::webhooks::sign::signature(&d.secret, &d.id, ts, &d.payload);
    let r = client()
        .unwrap()
        .post(&d.url)
        .header("webhook-id", &d.id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", sig)
        .body(d.payload.clone())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    drop(claimed);

    // While the lease holds, no other worker takes it; after the lease, it is delivered again
    // with the same id (the receiver drops the duplicate by its id).
    assert_eq!(round(s, t0 + Duration::seconds(5)).await, Round::default());
    let after = t0 + Duration::milliseconds(LEASE_MS + 1_000);
    assert_eq!(
        round(s, after).await,
        Round {
            delivered: 1,
            failed: 0
        }
    );
    let all = got.all();
    assert_eq!(all.len(), 2);
    let ids = got.ids();
    assert_eq!(ids[0], ids[1], "a duplicate carries the same id");
    check(&all[1].0, &all[1].1, &secret, "decision.made");
    assert_eq!(
        round(s, after + Duration::seconds(LEASE_MS / 1000 + 1)).await,
        Round::default()
    );
    app.db.cleanup().await;
}

#[tokio::test]
async fn webhook_non_https_url_refused_with_field_error_and_nothing_written() {
    let app = spawn_app().await;
    let (_, sup) = org_and_user(&app.db, "ngo-a", "supervisor").await;
    let (_, cw) = org_and_user(&app.db, "ngo-a", "caseworker").await;
    let tok = user_token(&app.db, &sup).await;
    let body = json!({"url": "http://agency.example/hook", "events": ["referral.received"]});
    let (st, e) = api_call(&app, &tok, "POST", "/webhooks/endpoints", body).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["field"], "url");
    let (st, e) = api_call(
        &app,
        &tok,
        "POST",
        "/webhooks/endpoints",
        json!({"url": "https://agency.example/hook", "events": ["case.deleted"]}),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["field"], "events");
    let (_, eps) = api_call(&app, &tok, "GET", "/webhooks/endpoints", Value::Null).await;
    assert_eq!(eps, json!([]), "nothing written");

    // https is accepted; the secret is in the answer once.
    let (st, made) = api_call(
        &app,
        &tok,
        "POST",
        "/webhooks/endpoints",
        json!({"url": "https://agency.example/hook", "events": ["referral.received"]}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    assert!(made["secret"].as_str().unwrap().starts_with("whsec_"));

    // A caseworker may not manage webhooks (API and screen).
    let tok_cw = user_token(&app.db, &cw).await;
    let (st, _) = api_call(&app, &tok_cw, "GET", "/webhooks/endpoints", Value::Null).await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // The screen: the refused URL stays in its field with the error beside it.
    app.db
        .store
        .totp_set_secret(&sup, TOTP_SECRET)
        .await
        .unwrap();
    let (web, csrf) = web_session(&app, &sup.username, Some(TOTP_SECRET)).await;
    let (st, page) = form_post(
        &app,
        &web,
        "/webhooks",
        &[
            ("csrf", csrf.as_str()),
            ("url", "http://agency.example/x"),
            ("events", "decision.made"),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("id=\"wh-url-error\""),
        "error beside the field"
    );
    assert!(
        page.contains("value=\"http://agency.example/x\""),
        "typed value kept"
    );
    assert!(
        page.contains("value=\"decision.made\" checked"),
        "chosen event kept"
    );
    let (st, page) = page_get(&app, &web, "/webhooks").await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("https://agency.example/hook"));
    assert!(
        !page.contains(made["secret"].as_str().unwrap()),
        "secret shown once only"
    );
    app.db.cleanup().await;
}
