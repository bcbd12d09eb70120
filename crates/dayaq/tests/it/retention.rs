//! Retention schedules (issue #17 part 3) end to end, on the configured engine: rules per
//! organisation (legal minimum refused by field, other organisations see and change nothing),
//! legal hold (API and case page), the preview against the daily run with a controllable
//! clock (the preview lists exactly what the run erases), crypto-shredding of an expired case
//! with a canary (API answers, and on SQLite the database and WAL files after the run's
//! checkpoint), held and not-yet-due cases kept, the maintained statistics and the audit chain
//! still verify, idempotence, the screen and the CLI.

use crate::kit::{
    TOTP_SECRET, TestApp, api_call, assert_cli_ok, csrf_field, dayaq_cli, form_post,
    generous_config, now, org_and_user, page_get, spawn_app_with, user_token, web_session,
};
use dayaq_domain::identification::ContactChannel;
use dayaq_storage::Engine;
use dayaq_storage::cases::{Ctx, SearchQuery};
use dayaq_storage::kernel::Acting;
use dayaq_storage::record::StatusInput;
use dayaq_storage::users::User;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

const CANARY_FIRST: &str = "CANARYRETFIRST5521";
const CANARY_SECOND: &str = "CANARYRETSECOND5521";
const CANARY_PHONE: &str = "+994505521552";

fn ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// The server's clock, moved by the test.
struct Clock(Arc<AtomicI64>);

impl Clock {
    fn set(&self, t: OffsetDateTime) {
        self.0.store(ms(t), Ordering::SeqCst);
    }
}

async fn app_with_clock(t0: OffsetDateTime) -> (TestApp, Clock) {
    let at = Arc::new(AtomicI64::new(ms(t0)));
    let read = at.clone();
    let cfg = dayaq_http::AppConfig {
        clock: Arc::new(move || {
            OffsetDateTime::from_unix_timestamp_nanos(
                i128::from(read.load(Ordering::SeqCst)) * 1_000_000,
            )
            .unwrap()
        }),
        ..generous_config()
    };
    (spawn_app_with(cfg).await, Clock(at))
}

fn at<'a>(actor: &'a dayaq_domain::Actor, t: OffsetDateTime) -> Ctx<'a> {
    Ctx {
        actor,
        source: "127.0.0.1",
        now: t,
    }
}

async fn token_at(app: &TestApp, u: &User, t: OffsetDateTime) -> String {
    app.db
        .store
        .create_token(u, "retention", 1, t)
        .await
        .unwrap()
}

/// A case recorded and closed (with a closure reason: a note) at `t`.
async fn closed_case(
    app: &TestApp,
    cw: &dayaq_domain::Actor,
    names: (&str, &str, &str),
    t: OffsetDateTime,
) -> Uuid {
    let s = &app.db.store;
    let case = crate::kit::sample_case(names.0, names.1, "1990-02-03", names.2);
    let c = s.create_case(&at(cw, t), &case).await.unwrap();
    s.change_status(
        &at(cw, t),
        c.id,
        &StatusInput {
            status: "Closed".into(),
            reason: Some("Moved abroad".into()),
        },
    )
    .await
    .unwrap();
    c.id
}

fn kinds_ids(v: &Value) -> BTreeSet<(String, String)> {
    v["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_string(),
                r["id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn scalar(app: &TestApp, sql: &'static str, id: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .bind(id)
        .fetch_one(app.db.store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn retention_job_shreds_expired_cases_and_keeps_held_and_not_due_ones() {
    let t0 = now();
    let (app, clock) = app_with_clock(t0).await;
    let s = app.db.store.clone();
    let (_, sup) = org_and_user(&app.db, "org-a", "supervisor").await;
    let (_, cw) = org_and_user(&app.db, "org-a", "caseworker").await;
    let (_, sup_b) = org_and_user(&app.db, "org-b", "supervisor").await;
    let (_, cw_b) = org_and_user(&app.db, "org-b", "caseworker").await;
    let (a, w) = (sup.actor(), cw.actor());
    let tok = user_token(&app.db, &sup).await;

    // The shortest rules the law allows: identity 36 months, notes 12.
    for (kind, months) in [("case_identity", 36), ("case_notes", 12)] {
        let (st, v) = api_call(
            &app,
            &tok,
            "PUT",
            "/retention/rules",
            json!({"kind": kind, "months": months}),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{v}");
    }

    // Expired: closed at t0. Held: closed at t0, under hold. Not due: closed two years later.
    let expired = closed_case(&app, &w, (CANARY_FIRST, CANARY_SECOND, CANARY_PHONE), t0).await;
    let held = closed_case(&app, &w, ("Held", "Kept", "+994505521000"), t0).await;
    let later = t0 + Duration::days(730);
    let not_due = closed_case(&app, &w, ("Later", "Closed", "+994505521001"), later).await;
    let open = s
        .create_case(
            &at(&w, t0),
            &crate::kit::sample_case("Open", "Case", "1991-01-01", "+994505521002"),
        )
        .await
        .unwrap()
        .id;
    // Another organisation's closed case and contact: not org-a's business.
    let other = closed_case(&app, &cw_b.actor(), ("Other", "Org", "+994505521003"), t0).await;
    let contact = s
        .create_contact(
            &at(&w, t0),
            ContactChannel::Hotline,
            true,
            Some("anonymous caller"),
        )
        .await
        .unwrap()
        .id;

    let (st, v) = api_call(
        &app,
        &tok,
        "PUT",
        &format!("/cases/{held}/legal-hold"),
        json!({"reason": "prosecution"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["held"], true);
    assert_eq!(v["reason"], "prosecution");
    // The hold is on the case page.
    app.db
        .store
        .totp_set_secret(&sup, TOTP_SECRET)
        .await
        .unwrap();
    let (web, csrf) = web_session(&app, &sup.username, Some(TOTP_SECRET)).await;
    let (st, page) = page_get(&app, &web, &format!("/cases/{held}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        page.contains("id=\"legal-hold\""),
        "hold section on the case page"
    );
    assert!(page.contains("ret-lift-form"), "the supervisor may lift it");
    // The screen's lift form refused (one form pattern): the error beside its field and in
    // the form's summary; the hold stays.
    let (st, page) = crate::kit::form_post(
        &app,
        &web,
        &format!("/cases/{held}/legal-hold/lift"),
        &[("csrf", csrf.as_str()), ("reason", "because")],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("id=\"ret-lift-reason-err\"") && page.contains("id=\"hold-lift-errors\""),
        "error beside the field and in the summary"
    );
    // A caseworker sees the hold, cannot set or lift it.
    let tok_cw = user_token(&app.db, &cw).await;
    let (st, v) = api_call(
        &app,
        &tok_cw,
        "GET",
        &format!("/cases/{held}/legal-hold"),
        json!({}),
    )
    .await;
    assert_eq!((st, v["held"].clone()), (StatusCode::OK, json!(true)));
    let (st, _) = api_call(
        &app,
        &tok_cw,
        "POST",
        &format!("/cases/{held}/legal-hold/lift"),
        json!({"reason": "set_in_error"}),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    // Another organisation's supervisor: as if the case did not exist.
    let tok_b = user_token(&app.db, &sup_b).await;
    for (m, p) in [("GET", ""), ("PUT", ""), ("POST", "/lift")] {
        let (st, _) = api_call(
            &app,
            &tok_b,
            m,
            &format!("/cases/{held}/legal-hold{p}"),
            json!({"reason": "prosecution"}),
        )
        .await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{m} {p}");
    }
    // A bad reason: 422 naming the field, nothing changes.
    let (st, v) = api_call(
        &app,
        &tok,
        "POST",
        &format!("/cases/{held}/legal-hold/lift"),
        json!({"reason": "because"}),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"]["field"], "reason");
    // A held case cannot be erased by hand either (every erasure path goes through
    // `Store::erase_case`, which refuses under hold): 422 naming `case`, the key stays.
    let (st, v) = api_call(&app, &tok, "DELETE", &format!("/cases/{held}"), json!({})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["field"], "case");
    assert_eq!(v["error"]["errors"][0]["code"], "legal_hold", "{v}");

    // What the shredding must remove: the wrapped case key and the blind-index digests.
    let key: Vec<u8> = sqlx::query("SELECT wrapped FROM case_keys WHERE case_id = $1")
        .bind(expired.to_string())
        .fetch_one(s.pool())
        .await
        .unwrap()
        .try_get("wrapped")
        .unwrap();
    let digests: Vec<String> = sqlx::query("SELECT digest FROM blind_index WHERE case_id = $1")
        .bind(expired.to_string())
        .fetch_all(s.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get("digest").unwrap())
        .collect();
    assert!(!digests.is_empty());

    // Today nothing is due (sessions and contacts are fresh, cases closed today).
    let (st, v) = api_call(&app, &tok, "GET", "/retention/preview?days=0", json!({})).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["total"], 0, "{v}");
    // 90 days ahead: still nothing; 3 years and 2 weeks ahead: the expired case, the contact,
    // the sessions and the notes of the later case are announced with their days.
    let (_, v) = api_call(&app, &tok, "GET", "/retention/preview?days=1110", json!({})).await;
    let ahead = kinds_ids(&v);
    assert!(
        ahead.contains(&("case_identity".into(), expired.to_string())),
        "{v}"
    );
    assert!(ahead.contains(&("contacts_without_case".into(), contact.to_string())));
    assert!(
        !ahead.iter().any(|(_, id)| *id == held.to_string()),
        "held never listed"
    );
    assert!(
        !ahead.iter().any(|(_, id)| *id == other.to_string()),
        "other org never listed"
    );
    assert!(
        v["groups"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["count"].as_u64().unwrap() > 0)
    );

    // The day of the run: 3 years and a month later. The preview of that day (server clock
    // moved) lists exactly what the run then erases.
    let t1 = t0 + Duration::days(1130);
    clock.set(t1);
    let tok1 = token_at(&app, &sup, t1).await;
    let (st, before) = api_call(&app, &tok1, "GET", "/retention/preview?days=0", json!({})).await;
    assert_eq!(st, StatusCode::OK, "{before}");
    let due = kinds_ids(&before);
    let expect: BTreeSet<(String, String)> = [
        ("case_identity".to_string(), expired.to_string()),
        ("case_notes".to_string(), not_due.to_string()),
        ("contacts_without_case".to_string(), contact.to_string()),
    ]
    .into_iter()
    .collect();
    assert!(expect.is_subset(&due), "{before}");
    let sessions_due = due.iter().filter(|(k, _)| k == "sessions").count() as u64;
    assert!(
        sessions_due >= 1,
        "the supervisor's web session is past 6 months"
    );
    assert_eq!(due.len() as u64, 3 + sessions_due, "nothing else: {before}");

    // org-b's records expire too, by org-b's (default) rules: the notes of its case closed at
    // t0 (36 months), not its identity (60 months).
    let b_preview = s
        .retention_preview(&at(&sup_b.actor(), t1), 0)
        .await
        .unwrap();
    let b_due: Vec<(String, Uuid)> = b_preview
        .records
        .iter()
        .map(|r| (r.kind.as_str().to_string(), r.id))
        .collect();
    assert_eq!(b_due, vec![("case_notes".to_string(), other)]);

    let report = s.retention_run(t1, &Acting::cli()).await.unwrap();
    assert_eq!(
        (
            report.case_identity,
            report.case_notes,
            report.contacts_without_case,
            report.sessions,
            report.skipped
        ),
        (1, 1 + 1, 1, sessions_due, 0),
        "the run erases exactly what the previews of the day listed"
    );

    // Erased exactly: the expired case is a tombstone without key, digests or ciphertext.
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) FROM case_keys WHERE case_id = $1",
            &expired.to_string()
        )
        .await,
        0
    );
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) FROM blind_index WHERE case_id = $1",
            &expired.to_string()
        )
        .await,
        0
    );
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) FROM cases WHERE id = $1 AND identity IS NULL AND erased_at IS NOT NULL",
            &expired.to_string()
        )
        .await,
        1
    );
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) FROM contacts WHERE id = $1",
            &contact.to_string()
        )
        .await,
        0
    );
    assert_eq!(
        scalar(
            &app,
            "SELECT COUNT(*) FROM case_status_history WHERE case_id = $1 AND reason IS NOT NULL",
            &not_due.to_string()
        )
        .await,
        0,
        "the later case's notes are cleared"
    );
    // Kept: the held case, the not-yet-due case (its identity), the open case, org-b's case.
    for id in [held, not_due, open, other] {
        assert_eq!(
            scalar(
                &app,
                "SELECT COUNT(*) FROM case_keys WHERE case_id = $1",
                &id.to_string()
            )
            .await,
            1,
            "{id} kept"
        );
    }
    let got = s.get_case(&at(&a, t1), not_due, true).await.unwrap();
    assert_eq!(got.identity.unwrap().first_name.as_deref(), Some("Later"));

    // Nothing of the person is readable through the API.
    let (st, _) = api_call(
        &app,
        &tok1,
        "GET",
        &format!("/cases/{expired}?include=identity"),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, found) = api_call(
        &app,
        &tok1,
        "POST",
        "/cases/search",
        json!({"prs_FirstName": CANARY_FIRST, "prs_SecondName": CANARY_SECOND, "prs_Birthdate": "1990-02-03"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (_, list) = api_call(&app, &tok1, "GET", "/cases?limit=500", json!({})).await;
    let (_, events) = api_call(
        &app,
        &tok1,
        "GET",
        &format!("/cases/{held}/events"),
        json!({}),
    )
    .await;
    for answer in [&found, &list, &events] {
        let text = answer.to_string().to_lowercase();
        for c in [CANARY_FIRST, CANARY_SECOND, "5521552"] {
            assert!(!text.contains(&c.to_lowercase()), "{c} in an API answer");
        }
    }
    assert!(!list.to_string().contains(&expired.to_string()));
    let search = SearchQuery {
        first_name: Some(CANARY_FIRST.into()),
        second_name: Some(CANARY_SECOND.into()),
        birthdate: Some("1990-02-03".into()),
        ..Default::default()
    };
    assert!(
        s.search_cases(&at(&a, t1), &search)
            .await
            .unwrap()
            .cases
            .is_empty()
    );
    // Nor through the HTCDS export of everything the supervisor may see.
    let out_file = app.db.opts.data_dir.join("after-retention.csv");
    let out = dayaq_cli(
        &app.db,
        &[
            "export",
            "htcds",
            "--as",
            &sup.username,
            "--out",
            out_file.to_str().unwrap(),
        ],
    );
    assert_cli_ok(&out);
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        said.contains("exported ") && !said.contains("exported 0 "),
        "the kept cases are exported: {said}"
    );
    let export = std::fs::read_to_string(&out_file).unwrap().to_lowercase();
    for c in [CANARY_FIRST, CANARY_SECOND, "5521552"] {
        assert!(
            !export.contains(&c.to_lowercase()),
            "{c} in the HTCDS export"
        );
    }
    // The audit rows of the run carry counts only.
    let audit = serde_json::to_string(&s.audit_recent(100_000).await.unwrap()).unwrap();
    assert!(audit.contains("retention.run"));
    assert!(!audit.to_lowercase().contains(&CANARY_FIRST.to_lowercase()));
    // On SQLite: neither the database nor its WAL keeps the wrapped key or the digests.
    if s.engine() == Engine::Sqlite {
        for f in ["dayaq.db", "dayaq.db-wal"] {
            let p = app.db.opts.data_dir.join(f);
            let Ok(bytes) = std::fs::read(&p) else {
                continue;
            };
            assert!(
                !bytes.windows(key.len()).any(|w| w == key.as_slice()),
                "the wrapped case key survives in {f}"
            );
            for d in &digests {
                assert!(
                    !bytes.windows(d.len()).any(|w| w == d.as_bytes()),
                    "a blind-index digest survives in {f}"
                );
            }
            let lower = bytes.to_ascii_lowercase();
            let needle = CANARY_FIRST.to_ascii_lowercase();
            assert!(!lower.windows(needle.len()).any(|w| w == needle.as_bytes()));
        }
    }

    // The maintained statistics agree with a recomputation; the audit chain verifies.
    let (stored, recomputed) = s.statistics_maintained_and_recomputed().await.unwrap();
    assert_eq!(stored, recomputed);
    let verify = s.audit_verify().await.unwrap();
    assert!(verify.problems.is_empty(), "{:?}", verify.problems);

    // Idempotent: the same day again erases nothing; the preview is empty.
    let again = s.retention_run(t1, &Acting::cli()).await.unwrap();
    assert_eq!(
        again.case_identity + again.case_notes + again.contacts_without_case + again.sessions,
        0
    );
    let (_, after) = api_call(&app, &tok1, "GET", "/retention/preview?days=0", json!({})).await;
    assert_eq!(after["total"], 0, "{after}");

    // Lifting the hold makes the held case due at the next run.
    let (st, v) = api_call(
        &app,
        &tok1,
        "POST",
        &format!("/cases/{held}/legal-hold/lift"),
        json!({"reason": "proceedings_ended"}),
    )
    .await;
    assert_eq!((st, v["held"].clone()), (StatusCode::OK, json!(false)));
    let r = s.retention_run(t1, &Acting::cli()).await.unwrap();
    assert_eq!(r.case_identity, 1);
    app.db.cleanup().await;
}

#[tokio::test]
async fn retention_rules_refuse_below_minimum_and_stay_in_their_organisation() {
    let (app, _clock) = app_with_clock(now()).await;
    let (_, sup) = org_and_user(&app.db, "org-a", "supervisor").await;
    let (_, cw) = org_and_user(&app.db, "org-a", "caseworker").await;
    let (_, admin) = org_and_user(&app.db, "org-a", "org_admin").await;
    let (_, sup_b) = org_and_user(&app.db, "org-b", "supervisor").await;
    let tok = user_token(&app.db, &sup).await;
    let tok_b = user_token(&app.db, &sup_b).await;

    let (st, v) = api_call(&app, &tok, "GET", "/retention/rules", json!({})).await;
    assert_eq!(st, StatusCode::OK);
    let rule = |v: &Value, k: &str| -> Value {
        v["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["kind"] == k)
            .cloned()
            .unwrap()
    };
    // Defaults of a new installation: anonymous contacts without a case expire after 12 months.
    let c = rule(&v, "contacts_without_case");
    assert_eq!(
        (c["months"].clone(), c["is_default"].clone()),
        (json!(12), json!(true))
    );
    assert_eq!(rule(&v, "audit_rows")["executed_by_job"], false);

    // Below the legal minimum: 422 naming `months`; unknown kind: 422 naming `kind`.
    let (st, e) = api_call(
        &app,
        &tok,
        "PUT",
        "/retention/rules",
        json!({"kind": "case_identity", "months": 35}),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["field"], "months");
    let (st, e) = api_call(
        &app,
        &tok,
        "PUT",
        "/retention/rules",
        json!({"kind": "everything", "months": 40}),
    )
    .await;
    assert_eq!(
        (st, e["error"]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("kind"))
    );
    let (_, v2) = api_call(&app, &tok, "GET", "/retention/rules", json!({})).await;
    assert_eq!(v, v2, "a refused rule changes nothing");

    // Only the organisation's supervisors; the other organisation sees its own defaults.
    for u in [&cw, &admin] {
        let t = user_token(&app.db, u).await;
        for (m, p) in [
            ("GET", "/retention/rules"),
            ("PUT", "/retention/rules"),
            ("GET", "/retention/preview"),
        ] {
            let (st, _) = api_call(&app, &t, m, p, json!({"kind": "sessions", "months": 2})).await;
            assert_eq!(st, StatusCode::FORBIDDEN, "{m} {p} as {:?}", u.role);
        }
    }
    let (st, _) = api_call(
        &app,
        &tok,
        "PUT",
        "/retention/rules",
        json!({"kind": "contacts_without_case", "months": 6}),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (_, mine) = api_call(&app, &tok, "GET", "/retention/rules", json!({})).await;
    assert_eq!(rule(&mine, "contacts_without_case")["months"], 6);
    let (_, theirs) = api_call(&app, &tok_b, "GET", "/retention/rules", json!({})).await;
    assert_eq!(rule(&theirs, "contacts_without_case")["months"], 12);
    assert_ne!(theirs["org_id"], mine["org_id"]);
    let (st, _) = api_call(
        &app,
        &tok_b,
        "PUT",
        "/retention/rules",
        json!({"kind": "contacts_without_case", "months": 24}),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (_, mine_again) = api_call(&app, &tok, "GET", "/retention/rules", json!({})).await;
    assert_eq!(rule(&mine_again, "contacts_without_case")["months"], 6);
    // Audited with the kind and months, refusals too.
    let audit = app.db.store.audit_recent(1000).await.unwrap();
    assert!(audit.iter().any(|r| r.action == "retention.rule"
        && r.outcome == "success"
        && r.detail == "kind=contacts_without_case months=6"));
    assert!(
        audit
            .iter()
            .any(|r| r.action == "retention.rules" && r.outcome == "denied"),
        "a refused reading of the rules is audited"
    );

    // The screen: a refused value is kept and its error is beside its field.
    app.db
        .store
        .totp_set_secret(&sup, TOTP_SECRET)
        .await
        .unwrap();
    let (web, _) = web_session(&app, &sup.username, Some(TOTP_SECRET)).await;
    let (st, page) = page_get(&app, &web, "/retention").await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("id=\"ret-months-case_identity\""));
    assert!(page.contains("id=\"ret-groups\"") || page.contains("id=\"ret-none\""));
    let csrf = csrf_field(&page);
    let (st, page) = form_post(
        &app,
        &web,
        "/retention/rules",
        &[
            ("csrf", csrf.as_str()),
            ("kind", "case_identity"),
            ("months", "3"),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("id=\"ret-err-case_identity\""),
        "error beside the field"
    );
    assert!(page.contains("value=\"3\""), "the typed value is kept");
    let (st, _) = form_post(
        &app,
        &web,
        "/retention/rules",
        &[
            ("csrf", csrf.as_str()),
            ("kind", "sessions"),
            ("months", "2"),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, v) = api_call(&app, &tok, "GET", "/retention/rules", json!({})).await;
    assert_eq!(rule(&v, "sessions")["months"], 2);
    // The CLI: show, a refused rule, set, preview, run.
    let out = dayaq_cli(&app.db, &["retention", "show", "--org", "org-a"]);
    assert_cli_ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("contacts_without_case\t6\t3\t12\torganisation"),
        "{text}"
    );
    let out = dayaq_cli(
        &app.db,
        &[
            "retention",
            "set",
            "--org",
            "org-a",
            "--kind",
            "sessions",
            "--months",
            "0",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("months"));
    let out = dayaq_cli(
        &app.db,
        &[
            "retention",
            "set",
            "--org",
            "org-b",
            "--kind",
            "case_notes",
            "--months",
            "24",
        ],
    );
    assert_cli_ok(&out);
    let out = dayaq_cli(
        &app.db,
        &["retention", "preview", "--org", "org-a", "--days", "30"],
    );
    assert_cli_ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("records will be erased"));
    let out = dayaq_cli(&app.db, &["retention", "run"]);
    assert_cli_ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 cases shredded"));
    app.db.cleanup().await;
}
