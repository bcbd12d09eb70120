//! Data-subject requests (issue #17 part 2) against the running server, on the test engine
//! (SQLite; PostgreSQL with `DAYAQ_TEST_DATABASE_URL`): her copy decrypts with its passphrase
//! and holds the HTML, the HTCDS JSON and the organisations that received her data (no staff
//! names), downloads once; other organisations (even a referral receiver) and caseworkers get
//! no further than the policy grants; the erasure workflow (four eyes, legal refusal, execution
//! through `erase_case`) leaves nothing of her readable and the maintained statistics agree;
//! correction and restriction outcomes; the "Her data" screen with a refused form.

use crate::kit::{
    PASSWORD, TestApp, accepted_vt_referral, api_call, api_request, dayaq_cli, form_post, new_case,
    org_and_user, page_get, spawn_app, user_token, web_session,
};
use dayaq_storage::subject_requests::{
    HTML_NAME, JSON_NAME, PDF_NAME, open_subject_access, unpack,
};
use dayaq_storage::users::User;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

const FIRST: &str = "Canarydsrfirst";
const SECOND: &str = "Canarydsrsecond";
const BIRTH: &str = "1931-02-27";
const PHONE: &str = "+994 50 731 31 77";

fn fields(v: &Value) -> Vec<String> {
    v["error"]["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["field"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

async fn second_supervisor(app: &TestApp, slug: &str) -> User {
    app.db
        .store
        .add_user(
            slug,
            "supervisor",
            &format!("{slug}-second-sup"),
            PASSWORD,
            crate::kit::now(),
        )
        .await
        .expect("add_user")
}

/// Organisation A's caseworker and supervisor (with tokens), a case of hers with the canary
/// identity, accepted by organisation B (a referral), and B's supervisor's token.
struct World {
    app: TestApp,
    cw: String,
    sup: String,
    sup_user: User,
    b_sup: String,
    case: Uuid,
    usernames: Vec<String>,
}

async fn world(a: &str, b: &str) -> World {
    let app = spawn_app().await;
    let (_, cw_user) = org_and_user(&app.db, a, "caseworker").await;
    let (_, sup_user) = org_and_user(&app.db, a, "supervisor").await;
    let (_, b_cw) = org_and_user(&app.db, b, "caseworker").await;
    let (_, b_sup_user) = org_and_user(&app.db, b, "supervisor").await;
    let case = new_case(
        &app.db.store,
        &cw_user.actor(),
        [FIRST, SECOND, BIRTH, PHONE],
    )
    .await
    .id;
    accepted_vt_referral(&app.db.store, &cw_user.actor(), &b_cw.actor(), case, b).await;
    World {
        cw: user_token(&app.db, &cw_user).await,
        sup: user_token(&app.db, &sup_user).await,
        b_sup: user_token(&app.db, &b_sup_user).await,
        usernames: vec![
            cw_user.username.clone(),
            sup_user.username.clone(),
            b_cw.username.clone(),
            b_sup_user.username.clone(),
        ],
        sup_user,
        case,
        app,
    }
}

async fn record(w: &World, token: &str, body: Value) -> (StatusCode, Value) {
    api_call(
        &w.app,
        token,
        "POST",
        &format!("/cases/{}/subject-requests", w.case),
        body,
    )
    .await
}

async fn post(w: &World, token: &str, what: &str, body: Value) -> (StatusCode, Value) {
    api_call(
        &w.app,
        token,
        "POST",
        &format!("/cases/{}/subject-requests/{what}", w.case),
        body,
    )
    .await
}

async fn download(w: &World, token: &str, request: &str) -> (StatusCode, Vec<u8>) {
    let r = api_request(
        &w.app,
        Some(token),
        "POST",
        &format!("/cases/{}/subject-requests/access-download", w.case),
    )
    .json(&json!({ "request": request }))
    .send()
    .await
    .expect("download");
    let s = r.status();
    (s, r.bytes().await.expect("body").to_vec())
}

fn denied(s: StatusCode) -> bool {
    s == StatusCode::FORBIDDEN || s == StatusCode::NOT_FOUND
}

#[tokio::test]
async fn subject_requests_access_copy_decrypts_and_names_recipients_only() {
    let w = world("dsr-a", "dsr-b").await;
    // Recorded by her caseworker; a bad request names its fields and records nothing.
    let (s, v) = record(&w, &w.cw, json!({"kind": "access", "channel": "by_post"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let mut f = fields(&v);
    f.sort();
    assert_eq!(f, ["channel", "language"], "{v}");
    let (s, v) = record(
        &w,
        &w.cw,
        json!({"kind": "access", "channel": "in_person", "language": "ru"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["state"], "requested");
    let req = v["id"].as_str().unwrap().to_string();
    let list = format!("/cases/{}/subject-requests", w.case);
    let (_, l) = api_call(&w.app, &w.cw, "GET", &list, Value::Null).await;
    assert_eq!(l["requests"].as_array().map(Vec::len), Some(1), "{l}");
    assert_eq!(l["restricted"], false);

    // The receiving organisation (accepted referral) and a caseworker get nothing more.
    let (s, _) = api_call(&w.app, &w.b_sup, "GET", &list, Value::Null).await;
    assert!(denied(s), "receiver lists requests: {s}");
    let (s, _) = record(
        &w,
        &w.b_sup,
        json!({"kind": "erasure", "channel": "in_person"}),
    )
    .await;
    assert!(denied(s), "receiver records a request: {s}");
    let (s, _) = post(&w, &w.b_sup, "access-export", json!({ "request": req })).await;
    assert!(denied(s), "receiver makes her copy: {s}");
    let (s, _) = post(&w, &w.cw, "access-export", json!({ "request": req })).await;
    assert!(denied(s), "caseworker makes her copy: {s}");
    let (s, v) = post(
        &w,
        &w.sup,
        "access-export",
        json!({ "request": Uuid::new_v4() }),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(fields(&v), ["request"]);

    // The supervisor makes the copy: the passphrase once, then one download.
    let (s, v) = post(&w, &w.sup, "access-export", json!({ "request": req })).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let pass = v["passphrase"].as_str().unwrap().to_string();
    assert_eq!(pass.len(), 29);
    let (s, _) = download(&w, &w.b_sup, &req).await;
    assert!(denied(s));
    let (s, blob) = download(&w, &w.sup, &req).await;
    assert_eq!(s, StatusCode::OK);
    assert!(blob.starts_with(b"age-encryption.org/v1"), "an age file");
    let (s, again) = download(&w, &w.sup, &req).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "downloaded once only");
    assert!(!String::from_utf8_lossy(&again).contains(FIRST));
    assert!(open_subject_access(&blob, "WRONG-PASSPHRASE").is_err());
    let zip = open_subject_access(&blob, &pass).expect("decrypts with the passphrase");
    let files = unpack(&zip).unwrap();
    let file = |n: &str| {
        String::from_utf8(
            files
                .iter()
                .find(|(name, _)| name == n)
                .unwrap_or_else(|| panic!("{n} in the ZIP"))
                .1
                .clone(),
        )
        .unwrap()
    };
    let html = file(HTML_NAME);
    let doc: Value = serde_json::from_str(&file(JSON_NAME)).unwrap();
    // In her language (ru), with her record and who received it.
    assert!(
        html.contains("lang=\"ru\"") && html.contains("Ваша запись"),
        "{html}"
    );
    assert!(html.contains(FIRST) && html.contains("Organisation dsr-b"));
    // The printable copy (issue 21 §2): the same record and recipients, in her language.
    let printed = crate::kit::pdf_text(
        &files
            .iter()
            .find(|(name, _)| name == PDF_NAME)
            .expect("record.pdf in the ZIP")
            .1,
    );
    assert!(
        printed.contains(FIRST) && printed.contains("Organisation dsr-b"),
        "{printed}"
    );
    assert!(
        printed.contains("Ваша запись") && printed.contains("Что записано"),
        "{printed}"
    );
    assert_eq!(doc["format"], "dayaq-subject-access");
    assert_eq!(doc["language"], "ru");
    assert_eq!(doc["case"]["prs_FirstName"], FIRST);
    assert_eq!(doc["case"]["prs_Birthdate"], BIRTH);
    assert_eq!(doc["case"]["prs_Citizenship"], json!(["AZ"]));
    assert_eq!(doc["holder"], "Organisation dsr-a");
    let rec = doc["recipients"].as_array().unwrap();
    assert_eq!(rec.len(), 1, "{doc}");
    assert_eq!(rec[0]["org_Name"], "Organisation dsr-b");
    assert_eq!(rec[0]["how"], "referral");
    assert_eq!(rec[0]["state"], "Accepted");
    // Never staff names.
    for u in &w.usernames {
        assert!(
            !html.contains(u.as_str()) && !doc.to_string().contains(u.as_str()),
            "{u}"
        );
    }
    // The request is completed; the passphrase is nowhere (audit rows, stored rows).
    let (_, l) = api_call(&w.app, &w.sup, "GET", &list, Value::Null).await;
    assert_eq!(l["requests"][0]["state"], "completed");
    assert_eq!(l["requests"][0]["export_ready"], false);
    assert!(l["requests"][0]["export_downloaded_at"].is_string());
    let audit = serde_json::to_string(&w.app.db.store.audit_recent(10_000).await.unwrap()).unwrap();
    for a in [
        "subject_request.record",
        "subject_request.export",
        "subject_request.download",
    ] {
        assert!(audit.contains(a), "{a} audited");
    }
    let dump = serde_json::to_string(&w.app.db.store.logical_dump().await.unwrap()).unwrap();
    for hay in [&audit, &dump] {
        assert!(!hay.contains(&pass), "passphrase stored");
        assert!(!hay.contains(FIRST), "identity in clear");
    }
}

#[tokio::test]
async fn subject_requests_erasure_four_eyes_refusal_execution_and_canaries() {
    let w = world("dsr-e", "dsr-f").await;
    let sup2_user = second_supervisor(&w.app, "dsr-e").await;
    let sup2 = user_token(&w.app.db, &sup2_user).await;
    // A refused erasure keeps the case.
    let (_, v) = record(
        &w,
        &w.cw,
        json!({"kind": "erasure", "channel": "via_caseworker"}),
    )
    .await;
    let refused = v["id"].as_str().unwrap().to_string();
    let (s, _) = post(
        &w,
        &w.cw,
        "decision",
        json!({"request": refused, "decision": "approve"}),
    )
    .await;
    assert!(denied(s), "a caseworker approves an erasure: {s}");
    let (s, v) = post(
        &w,
        &w.sup,
        "decision",
        json!({"request": refused, "decision": "refuse", "refusal_reason": "other"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&v), ["refusal_text"]);
    let (s, v) = post(
        &w,
        &w.sup,
        "decision",
        json!({"request": refused, "decision": "refuse", "refusal_reason": "legal_hold"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["state"].as_str(), v["refusal_reason"].as_str()),
        (Some("refused"), Some("legal_hold"))
    );
    let (s, v) = post(&w, &w.sup, "erasure", json!({ "request": refused })).await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a refused erasure is not executed: {v}"
    );
    let (s, c) = api_call(
        &w.app,
        &w.sup,
        "GET",
        &format!("/cases/{}?include=identity", w.case),
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(c.to_string().contains(FIRST), "the case is kept");

    // Four eyes: the supervisor who recorded it cannot approve it; another can.
    let (_, v) = record(
        &w,
        &w.sup,
        json!({"kind": "erasure", "channel": "in_person"}),
    )
    .await;
    let req = v["id"].as_str().unwrap().to_string();
    let (s, _) = post(&w, &w.sup, "erasure", json!({ "request": req })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "not approved yet");
    let (s, v) = post(
        &w,
        &w.sup,
        "decision",
        json!({"request": req, "decision": "approve"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v.to_string().contains("four_eyes"), "{v}");
    let (s, v) = post(
        &w,
        &sup2,
        "decision",
        json!({"request": req, "decision": "approve"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "approved");
    // A copy made before the erasure waits for its download: it goes with the erasure.
    let (_, v) = record(
        &w,
        &w.cw,
        json!({"kind": "access", "channel": "in_person", "language": "az"}),
    )
    .await;
    let access = v["id"].as_str().unwrap().to_string();
    let (s, _) = post(&w, &w.sup, "access-export", json!({ "request": access })).await;
    assert_eq!(s, StatusCode::CREATED);
    // The receiving organisation cannot execute it; a caseworker neither.
    let (s, _) = post(&w, &w.b_sup, "erasure", json!({ "request": req })).await;
    assert!(denied(s));
    let (s, _) = post(&w, &w.cw, "erasure", json!({ "request": req })).await;
    assert!(denied(s));
    let (s, v) = post(&w, &w.sup, "erasure", json!({ "request": req })).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");

    // Nothing of her is readable: API answers, stored rows, the SQLite files after the
    // erasure's checkpoint.
    let store = &w.app.db.store;
    let mut answers = Vec::new();
    for (t, p) in [
        (&w.sup, format!("/cases/{}?include=identity", w.case)),
        (&w.sup, format!("/cases/{}/subject-requests", w.case)),
        (&w.b_sup, format!("/cases/{}?include=identity", w.case)),
        (&w.sup, "/cases".to_string()),
    ] {
        let (s, v) = api_call(&w.app, t, "GET", &p, Value::Null).await;
        assert_ne!(s, StatusCode::INTERNAL_SERVER_ERROR);
        answers.push(v.to_string());
    }
    let (s, v) = api_call(
        &w.app,
        &w.sup,
        "POST",
        "/cases/search",
        json!({"prs_FirstName": FIRST, "prs_SecondName": SECOND, "prs_Birthdate": BIRTH}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    answers.push(v.to_string());
    let (s, _) = download(&w, &w.sup, &access).await;
    assert!(s != StatusCode::OK, "her copy went with the erasure");
    let dump = serde_json::to_string(&store.logical_dump().await.unwrap()).unwrap();
    assert!(dump.contains("subject_requests"));
    // The HTCDS export of everything her organisation may see (identity included).
    let out_file = w.app.db.opts.data_dir.join("after-erasure.csv");
    let out = dayaq_cli(
        &w.app.db,
        &[
            "export",
            "htcds",
            "--as",
            &w.sup_user.username,
            "--out",
            out_file.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let export = std::fs::read(&out_file).unwrap();
    let mut hay: Vec<(String, Vec<u8>)> = answers
        .into_iter()
        .map(|a| ("api".to_string(), a.into_bytes()))
        .collect();
    hay.push(("dump".into(), dump.into_bytes()));
    hay.push(("htcds export".into(), export));
    if store.engine() == dayaq_storage::Engine::Sqlite {
        for f in ["dayaq.db", "dayaq.db-wal"] {
            if let Ok(b) = std::fs::read(w.app.db.opts.data_dir.join(f)) {
                hay.push((f.to_string(), b));
            }
        }
    }
    for (what, h) in &hay {
        for c in [FIRST, SECOND, BIRTH] {
            assert!(
                !h.windows(c.len()).any(|x| x == c.as_bytes()),
                "{c} readable in {what}"
            );
        }
    }
    // The requests stay as codes and dates; their export is gone.
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT kind, state FROM subject_requests WHERE case_id = $1 AND export_blob IS NULL ORDER BY recorded_at",
    )
    .bind(w.case.to_string())
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows.contains(&("erasure".into(), "completed".into())));
    assert!(rows.contains(&("erasure".into(), "refused".into())));
    // The maintained statistics agree with a recomputation (`dayaq statistics check`).
    let (stored, recomputed) = store.statistics_maintained_and_recomputed().await.unwrap();
    assert_eq!(stored, recomputed);
    let out = dayaq_cli(&w.app.db, &["statistics", "check"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The erasure and the request's completion are audited, the chain intact.
    let audit = serde_json::to_string(&store.audit_recent(10_000).await.unwrap()).unwrap();
    assert!(audit.contains("case.erase") && audit.contains("subject_request.erasure_executed"));
    assert!(store.audit_verify().await.unwrap().problems.is_empty());
}

/// The approved erasure and the request's completion are one transaction (issue #17): a
/// failure at the request's update (injected with a trigger) leaves the case whole and readable
/// and the request approved; executed again, both happen together.
#[tokio::test]
async fn subject_requests_erasure_and_its_request_commit_together() {
    let w = world("dsr-x", "dsr-y").await;
    let store = &w.app.db.store;
    let sup2 = user_token(&w.app.db, &second_supervisor(&w.app, "dsr-x").await).await;
    let (_, v) = record(
        &w,
        &w.cw,
        json!({"kind": "erasure", "channel": "in_person"}),
    )
    .await;
    let req = v["id"].as_str().unwrap().to_string();
    let (s, _) = post(
        &w,
        &sup2,
        "decision",
        json!({"request": req, "decision": "approve"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let pg = store.engine() == dayaq_storage::Engine::Postgres;
    let inject: &[&str] = if pg {
        &[
            "CREATE FUNCTION dsr_crash() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.state = 'completed' THEN RAISE EXCEPTION 'injected'; END IF; RETURN NEW; END $$",
            "CREATE TRIGGER dsr_crash BEFORE UPDATE ON subject_requests FOR EACH ROW EXECUTE FUNCTION dsr_crash()",
        ]
    } else {
        &[
            "CREATE TRIGGER dsr_crash BEFORE UPDATE ON subject_requests WHEN NEW.state = 'completed' \
           BEGIN SELECT RAISE(ABORT, 'injected'); END",
        ]
    };
    for q in inject {
        sqlx::query(sqlx::AssertSqlSafe(*q))
            .execute(store.pool())
            .await
            .unwrap();
    }
    let (s, _) = post(&w, &w.sup, "erasure", json!({ "request": req })).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR, "the injected failure");
    let case_path = format!("/cases/{}?include=identity", w.case);
    let (s, c) = api_call(&w.app, &w.sup, "GET", &case_path, Value::Null).await;
    assert_eq!(s, StatusCode::OK, "the case is not erased: {c}");
    assert!(c.to_string().contains(FIRST), "her identity still opens");
    let keys: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM case_keys WHERE case_id = $1")
        .bind(w.case.to_string())
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(keys, 1, "the case key is kept");
    let (_, l) = api_call(
        &w.app,
        &w.sup,
        "GET",
        &format!("/cases/{}/subject-requests", w.case),
        Value::Null,
    )
    .await;
    assert_eq!(l["requests"][0]["state"], "approved", "{l}");
    let drop = if pg {
        "DROP TRIGGER dsr_crash ON subject_requests"
    } else {
        "DROP TRIGGER dsr_crash"
    };
    sqlx::query(drop).execute(store.pool()).await.unwrap();
    let (s, v) = post(&w, &w.sup, "erasure", json!({ "request": req })).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let (s, _) = api_call(&w.app, &w.sup, "GET", &case_path, Value::Null).await;
    assert_ne!(s, StatusCode::OK, "erased");
    let state: String = sqlx::query_scalar("SELECT state FROM subject_requests WHERE id = $1")
        .bind(&req)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(state, "completed");
    // Executed once: a second execution is refused, nothing written.
    let (s, _) = post(&w, &w.sup, "erasure", json!({ "request": req })).await;
    assert!(s.is_client_error(), "{s}");
    let audit = serde_json::to_string(&store.audit_recent(10_000).await.unwrap()).unwrap();
    assert_eq!(audit.matches("subject_request.erasure_executed").count(), 1);
    assert!(store.audit_verify().await.unwrap().problems.is_empty());
}

#[tokio::test]
async fn subject_requests_correction_and_restriction_outcomes() {
    let w = world("dsr-c", "dsr-d").await;
    let (_, v) = record(
        &w,
        &w.cw,
        json!({"kind": "correction", "channel": "in_person", "requested_on": "2026-01-02"}),
    )
    .await;
    let corr = v["id"].as_str().unwrap().to_string();
    assert_eq!(v["requested_on"], "2026-01-02");
    let (s, v) = post(
        &w,
        &w.sup,
        "decision",
        json!({"request": corr, "decision": "accept", "changed_fields": ["prs_FirstName", "not_a_field"]}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields(&v), ["changed_fields"]);
    let (s, v) = post(
        &w,
        &w.sup,
        "decision",
        json!({"request": corr, "decision": "accept", "changed_fields": ["prs_MobilePhone", "prs_FirstName"]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "completed");
    assert_eq!(
        v["changed_fields"],
        json!(["prs_FirstName", "prs_MobilePhone"])
    );
    let (s, _) = post(
        &w,
        &w.sup,
        "decision",
        json!({"request": corr, "decision": "refuse", "refusal_reason": "legal_hold"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "decided once");

    // A restriction refused with a reason in words (sealed, shown to the organisation), then
    // one accepted: the case is flagged, on the API and on the case page.
    let (_, v) = record(
        &w,
        &w.cw,
        json!({"kind": "restriction", "channel": "via_caseworker"}),
    )
    .await;
    let r1 = v["id"].as_str().unwrap().to_string();
    let (s, v) = post(
        &w,
        &w.sup,
        "decision",
        json!({"request": r1, "decision": "refuse", "refusal_reason": "other", "refusal_text": "Court order 12/2026 in force"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["refusal_text"], "Court order 12/2026 in force");
    let dump = serde_json::to_string(&w.app.db.store.logical_dump().await.unwrap()).unwrap();
    assert!(
        !dump.contains("Court order 12/2026"),
        "the reason in words is sealed"
    );
    let list = format!("/cases/{}/subject-requests", w.case);
    let (_, l) = api_call(&w.app, &w.cw, "GET", &list, Value::Null).await;
    assert_eq!(l["restricted"], false);
    let (_, v) = record(
        &w,
        &w.cw,
        json!({"kind": "restriction", "channel": "in_person"}),
    )
    .await;
    let r2 = v["id"].as_str().unwrap().to_string();
    let (s, _) = post(
        &w,
        &w.cw,
        "decision",
        json!({"request": r2, "decision": "accept"}),
    )
    .await;
    assert!(denied(s), "a caseworker decides");
    let (s, _) = post(
        &w,
        &w.sup,
        "decision",
        json!({"request": r2, "decision": "approve"}),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "approve is for erasures"
    );
    let (s, _) = post(
        &w,
        &w.sup,
        "decision",
        json!({"request": r2, "decision": "accept"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (_, l) = api_call(&w.app, &w.cw, "GET", &list, Value::Null).await;
    assert_eq!(l["restricted"], true);
    assert_eq!(l["requests"].as_array().map(Vec::len), Some(3));
    // The case page shows the flag to the owner and to the receiving organisation.
    let (c, _) = web_session(&w.app, &w.usernames[0], None).await;
    let (s, html) = page_get(&w.app, &c, &format!("/cases/{}", w.case)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("id=\"case-restricted\"") && html.contains("id=\"her-data-link\""));
    let (c, _) = web_session(&w.app, &w.usernames[2], None).await;
    let (s, html) = page_get(&w.app, &c, &format!("/cases/{}", w.case)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("id=\"case-restricted\""),
        "the receiver sees the flag"
    );
    assert!(
        !html.contains("id=\"her-data-link\""),
        "but not the requests"
    );
    let (s, _) = page_get(&w.app, &c, &format!("/cases/{}/her-data", w.case)).await;
    assert!(denied(s));

    // The restriction is lifted by a supervisor (not a caseworker, not the receiver), once; a
    // request that is not a restriction in force is refused on its field.
    let (s, _) = post(&w, &w.cw, "lift-restriction", json!({ "request": r2 })).await;
    assert!(denied(s), "a caseworker lifts: {s}");
    let (s, _) = post(&w, &w.b_sup, "lift-restriction", json!({ "request": r2 })).await;
    assert!(denied(s), "the receiver lifts: {s}");
    for (req, code) in [(&r1, "not_in_force"), (&corr, "not_restriction")] {
        let (s, v) = post(&w, &w.sup, "lift-restriction", json!({ "request": req })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(fields(&v), ["request"]);
        assert!(v.to_string().contains(code), "{v}");
    }
    // On the screen: the supervisor's button, the answer confirmed in words.
    let secret = b"dayaq-dsr-lift-key01";
    w.app
        .db
        .store
        .totp_set_secret(&w.sup_user, secret)
        .await
        .unwrap();
    let her = format!("/cases/{}/her-data", w.case);
    let (c, csrf) = web_session(&w.app, &w.sup_user.username, Some(secret)).await;
    let (_, html) = page_get(&w.app, &c, &her).await;
    assert_eq!(
        html.matches("/her-data/lift\"").count(),
        1,
        "one restriction in force"
    );
    let (s, _) = form_post(
        &w.app,
        &c,
        &format!("{her}/lift"),
        &[("csrf", &csrf), ("request", &r2)],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, html) = page_get(&w.app, &c, &format!("{her}?done=dsr-lifted")).await;
    assert!(html.contains("id=\"her-data-done\"") && html.contains("state-lifted"));
    assert!(!html.contains("id=\"case-restricted\"") && !html.contains("/her-data/lift\""));
    let (s, v) = post(&w, &w.sup, "lift-restriction", json!({ "request": r2 })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "lifted once: {v}");
    let (_, l) = api_call(&w.app, &w.cw, "GET", &list, Value::Null).await;
    assert_eq!(l["restricted"], false);
    let lifted = l["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == r2.as_str())
        .unwrap();
    assert_eq!(lifted["state"], "lifted");
    assert!(lifted["lifted_at"].is_string());
    let (c, _) = web_session(&w.app, &w.usernames[2], None).await;
    let (_, html) = page_get(&w.app, &c, &format!("/cases/{}", w.case)).await;
    assert!(
        !html.contains("id=\"case-restricted\""),
        "the receiver no longer sees the flag"
    );
    let audit = serde_json::to_string(&w.app.db.store.audit_recent(10_000).await.unwrap()).unwrap();
    assert_eq!(
        audit.matches("subject_request.lift").count(),
        1,
        "audited once"
    );
}

#[tokio::test]
async fn subject_requests_screen_records_decides_and_shows_the_passphrase_once() {
    let w = world("dsr-s", "dsr-t").await;
    let path = format!("/cases/{}/her-data", w.case);
    // Caseworker in Azerbaijani (default): a refused form keeps what was typed and shows the
    // error beside its field; then the request is recorded.
    let (c, csrf) = web_session(&w.app, &w.usernames[0], None).await;
    let (s, html) = page_get(&w.app, &c, &path).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Onun məlumatları") && html.contains("id=\"no-requests\""));
    let (s, html) = form_post(
        &w.app,
        &c,
        &format!("{path}/request"),
        &[
            ("csrf", &csrf),
            ("kind", "access"),
            ("channel", "in_person"),
            ("requested_on", "2026-02-03"),
            ("language", ""),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("id=\"dsr-language-err\""),
        "error beside the field"
    );
    assert!(
        html.contains("value=\"2026-02-03\""),
        "the typed date is kept"
    );
    assert!(html.contains("<option value=\"access\" selected>"));
    let (s, html) = form_post(
        &w.app,
        &c,
        &format!("{path}/request"),
        &[
            ("csrf", &csrf),
            ("kind", "access"),
            ("channel", "in_person"),
            ("requested_on", "2026-02-03"),
            ("language", "en"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "back to the page: {html}");
    let (_, html) = page_get(&w.app, &c, &format!("{path}?done=dsr-recorded")).await;
    assert!(html.contains("request-access state-requested"));
    assert!(html.contains("id=\"her-data-done\""), "confirmed in words");
    assert!(
        !html.contains("id=\"export-1\""),
        "a caseworker does not make the copy"
    );
    // The supervisor makes her copy: the passphrase is on this answer only.
    let sup_name = w.sup_user.username.clone();
    let secret = b"dayaq-dsr-screen-key1";
    w.app
        .db
        .store
        .totp_set_secret(&w.sup_user, secret)
        .await
        .unwrap();
    let (c, csrf) = web_session(&w.app, &sup_name, Some(secret)).await;
    let (_, html) = page_get(&w.app, &c, &path).await;
    let req = html
        .split("name=\"request\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let (s, html) = form_post(
        &w.app,
        &c,
        &format!("{path}/export"),
        &[("csrf", &csrf), ("request", &req)],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let pass = html
        .split("id=\"passphrase\"")
        .nth(1)
        .and_then(|s| s.split('>').nth(1))
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_string();
    assert_eq!(pass.len(), 29, "{pass}");
    let (_, again) = page_get(&w.app, &c, &path).await;
    assert!(!again.contains(&pass), "shown once");
    let r = crate::kit::submit(
        &c,
        format!("{}{path}/download", w.app.base_url),
        &[("csrf", csrf.as_str()), ("request", req.as_str())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let blob = r.bytes().await.unwrap().to_vec();
    let zip = open_subject_access(&blob, &pass).unwrap();
    let files = unpack(&zip).unwrap();
    let html = String::from_utf8(files[0].1.clone()).unwrap();
    assert!(html.contains("lang=\"en\"") && html.contains("Your record") && html.contains(FIRST));
    let (s, html) = form_post(
        &w.app,
        &c,
        &format!("{path}/download"),
        &[("csrf", &csrf), ("request", &req)],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "once");
    assert!(
        html.contains("id=\"request-errors\"") && html.contains("id=\"req-err\""),
        "the error by the request it belongs to"
    );
    // The erasure screen: a supervisor records, another approves, the first executes.
    let (_, _) = form_post(
        &w.app,
        &c,
        &format!("{path}/request"),
        &[
            ("csrf", &csrf),
            ("kind", "erasure"),
            ("channel", "in_person"),
        ],
    )
    .await;
    let (_, html) = page_get(&w.app, &c, &path).await;
    assert!(html.contains("request-erasure state-requested"));
    assert!(
        !html.contains("id=\"approve-1\""),
        "no approval of one's own erasure request"
    );
    let sup2 = second_supervisor(&w.app, "dsr-s").await;
    w.app.db.store.totp_set_secret(&sup2, secret).await.unwrap();
    let (c2, csrf2) = web_session(&w.app, &sup2.username, Some(secret)).await;
    let (_, html) = page_get(&w.app, &c2, &path).await;
    assert!(html.contains("id=\"approve-1\""));
    let erasure = html
        .split("request-erasure")
        .nth(1)
        .and_then(|s| s.split("name=\"request\" value=\"").nth(1))
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let (s, _) = form_post(
        &w.app,
        &c2,
        &format!("{path}/decide"),
        &[
            ("csrf", &csrf2),
            ("request", &erasure),
            ("decision", "approve"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, html) = form_post(
        &w.app,
        &c,
        &format!("{path}/erase"),
        &[("csrf", &csrf), ("request", &erasure)],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "confirmation needed");
    assert!(html.contains("id=\"confirm-err\""));
    let (s, _) = form_post(
        &w.app,
        &c,
        &format!("{path}/erase"),
        &[("csrf", &csrf), ("request", &erasure), ("confirm", "erase")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "back to the case list");
    let (s, _) = page_get(&w.app, &c, &format!("/cases/{}", w.case)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
