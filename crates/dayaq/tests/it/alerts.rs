//! Access-anomaly alerts (issue #18 part 2) end to end: each rule's anomaly is planted through
//! the real write paths (and the server's controllable clock, or a request context at a
//! chosen time), the evaluation job runs, and the alert is read back through the API with its
//! audit rows; normal activity raises nothing; re-evaluation raises nothing twice; an
//! organisation's administrator sees only the organisation's alerts; a caseworker is refused
//! (audited); an acknowledgement is audited without its note; `/metrics` counts open alerts by
//! rule; the CLI; the screen in a browser.

use crate::kit::browser::{Catalogue, run};
use crate::kit::{
    TestApp, api_call, assert_cli_ok, dayaq_cli, new_case, org_and_user, page_csrf, spawn_app,
    submit_login, user_token, web_client,
};
use dayaq_domain::oversight::RulesConfig;
use dayaq_domain::policy::Actor;
use dayaq_storage::audit::AuditEntry;
use dayaq_storage::cases::{Ctx, SearchQuery};
use dayaq_storage::identification::ConsentInput;
use dayaq_storage::users::User;
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::{Date, OffsetDateTime, Time, Weekday};

/// A Monday at least two days after today, so that every planted row is later than the rows
/// the test kit writes at the real time.
fn monday() -> Date {
    let mut d = OffsetDateTime::now_utc().date() + time::Duration::days(2);
    while d.weekday() != Weekday::Monday {
        d = d.next_day().unwrap();
    }
    d
}

/// A UTC instant on day `d` of a week whose Monday is day 7 (6 = the Sunday before, 1 = the
/// Tuesday of the week before, 8 = the Tuesday after); Baku is UTC+4.
fn utc(d: u8, h: u8, m: u8) -> OffsetDateTime {
    (monday() + time::Duration::days(i64::from(d) - 7))
        .with_time(Time::from_hms(h, m, 0).unwrap())
        .assume_utc()
}

fn cx(actor: &Actor, now: OffsetDateTime) -> Ctx<'_> {
    Ctx {
        actor,
        source: "127.0.0.1",
        now,
    }
}

fn rules() -> RulesConfig {
    RulesConfig::builtin().unwrap()
}

async fn evaluate(app: &TestApp, now: OffsetDateTime) -> i64 {
    app.db
        .store
        .evaluate_alerts(&rules(), now)
        .await
        .unwrap()
        .raised
}

/// The alerts `token` sees (all states).
async fn alerts(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let (s, v) = api_call(
        app,
        token,
        "GET",
        &format!("/alerts?state=all{query}"),
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["alerts"].as_array().cloned().unwrap_or_default()
}

async fn auditor(app: &TestApp) -> String {
    let (_, u) = org_and_user(&app.db, "al-audit", "auditor").await;
    user_token(&app.db, &u).await
}

/// The action of audit row `seq`.
async fn action_of(app: &TestApp, seq: i64) -> String {
    sqlx::query_scalar("SELECT action FROM audit_log WHERE seq = $1")
        .bind(seq)
        .fetch_one(app.db.store.pool())
        .await
        .unwrap()
}

fn of_rule<'a>(v: &'a [Value], rule: &str) -> Vec<&'a Value> {
    v.iter().filter(|a| a["rule"] == rule).collect()
}

#[tokio::test]
async fn alerts_break_glass_use_raises_an_alert() {
    let app = spawn_app().await;
    let (_, cw) = org_and_user(&app.db, "al-a", "caseworker").await;
    let (org_b, sup) = org_and_user(&app.db, "al-b", "supervisor").await;
    let case = new_case(
        &app.db.store,
        &cw.actor(),
        ["Aysel", "Quliyeva", "1990-01-02", ""],
    )
    .await;
    app.db
        .store
        .break_glass(
            &cx(&sup.actor(), utc(7, 10, 0)),
            &case.case_number,
            "Emergency: hospital called at night",
        )
        .await
        .unwrap();
    assert_eq!(evaluate(&app, utc(7, 10, 5)).await, 1);
    let token = auditor(&app).await;
    let list = alerts(&app, &token, "").await;
    let bg = of_rule(&list, "break_glass");
    assert_eq!(bg.len(), 1, "{list:?}");
    assert_eq!(bg[0]["severity"], "high");
    assert_eq!(bg[0]["subject_user"], sup.id.to_string());
    assert_eq!(bg[0]["organisation"], org_b.id.to_string());
    assert_eq!(bg[0]["state"], "open");
    let rows = bg[0]["audit_rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        action_of(&app, rows[0].as_i64().unwrap()).await,
        "break_glass"
    );
    // No case content in the alert: ids and codes only.
    assert!(!bg[0].to_string().contains("Aysel"));
    app.db.cleanup().await;
}

#[tokio::test]
async fn alerts_bulk_export_raises_an_alert() {
    let app = spawn_app().await;
    let (org, cw) = org_and_user(&app.db, "al-a", "caseworker").await;
    new_case(
        &app.db.store,
        &cw.actor(),
        ["Leyla", "Mammadova", "1991-03-04", ""],
    )
    .await;
    let mut sink = Vec::new();
    app.db
        .store
        .export_cases(&cx(&cw.actor(), utc(7, 11, 0)), &mut sink)
        .await
        .unwrap();
    evaluate(&app, utc(7, 11, 1)).await;
    let list = alerts(&app, &auditor(&app).await, "&rule=bulk_export").await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["organisation"], org.id.to_string());
    assert_eq!(list[0]["subject_user"], cw.id.to_string());
    let seq = list[0]["audit_rows"][0].as_i64().unwrap();
    assert_eq!(action_of(&app, seq).await, "case.export");
    app.db.cleanup().await;
}

#[tokio::test]
async fn alerts_identity_reads_far_above_the_users_baseline() {
    let app = spawn_app().await;
    let (_, cw) = org_and_user(&app.db, "al-a", "caseworker").await;
    let (_, colleague) = org_and_user(&app.db, "al-a", "supervisor").await;
    let a = cw.actor();
    let case = new_case(&app.db.store, &a, ["Nigar", "Aliyeva", "1992-05-06", ""]).await;
    let mut cfg = rules();
    cfg.identity_baseline.floor = 3;
    // A baseline of 2 identity reads a day for 28 days (Baku working hours).
    for day in 0..28u8 {
        let t = utc(7, 8, 0) - time::Duration::days(i64::from(day) + 1);
        for k in 0..2u8 {
            let t = t + time::Duration::minutes(i64::from(k));
            app.db
                .store
                .get_case(&cx(&a, t), case.id, true)
                .await
                .unwrap();
        }
    }
    // Today: 6 reads = 3 × the median: not above it.
    for k in 0..6u8 {
        let t = utc(7, 8, k);
        app.db
            .store
            .get_case(&cx(&a, t), case.id, true)
            .await
            .unwrap();
    }
    // The colleague without history reads 3 times: at the floor, not above it.
    for k in 0..3u8 {
        let t = utc(7, 9, k);
        app.db
            .store
            .get_case(&cx(&colleague.actor(), t), case.id, true)
            .await
            .unwrap();
    }
    let s = &app.db.store;
    s.evaluate_alerts(&cfg, utc(7, 9, 30)).await.unwrap();
    let token = auditor(&app).await;
    assert!(
        alerts(&app, &token, "&rule=identity_read_baseline")
            .await
            .is_empty()
    );
    // The seventh read is above 3 × the median of the user's own days.
    s.get_case(&cx(&a, utc(7, 10, 0)), case.id, true)
        .await
        .unwrap();
    s.evaluate_alerts(&cfg, utc(7, 10, 1)).await.unwrap();
    let list = alerts(&app, &token, "&rule=identity_read_baseline").await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["subject_user"], cw.id.to_string());
    let rows = list[0]["audit_rows"].as_array().unwrap();
    assert_eq!(rows.len(), 7);
    for r in rows {
        assert_eq!(
            action_of(&app, r.as_i64().unwrap()).await,
            "case.read_identity"
        );
    }
    app.db.cleanup().await;
}

#[tokio::test]
async fn alerts_reads_outside_working_hours() {
    let app = spawn_app().await;
    let (_, cw) = org_and_user(&app.db, "al-a", "caseworker").await;
    let a = cw.actor();
    let s = &app.db.store;
    let case = new_case(s, &a, ["Sevda", "Huseynova", "1993-07-08", ""]).await;
    // Monday 14:00 in Baku: working hours.
    s.get_case(&cx(&a, utc(7, 10, 0)), case.id, true)
        .await
        .unwrap();
    // Monday 06:30 and Sunday noon in Baku: outside.
    s.get_case(&cx(&a, utc(7, 2, 30)), case.id, true)
        .await
        .unwrap();
    s.get_case(&cx(&a, utc(6, 8, 0)), case.id, true)
        .await
        .unwrap();
    evaluate(&app, utc(7, 11, 0)).await;
    let list = alerts(&app, &auditor(&app).await, "&rule=off_hours_read").await;
    assert_eq!(list.len(), 2, "one per user and local day: {list:?}");
    for a in &list {
        assert_eq!(a["subject_user"], cw.id.to_string());
        assert_eq!(a["audit_rows"].as_array().unwrap().len(), 1);
        assert_eq!(a["severity"], "low");
    }
    app.db.cleanup().await;
}

#[tokio::test]
async fn alerts_case_opened_from_a_search_without_later_work() {
    let app = spawn_app().await;
    let (_, cw) = org_and_user(&app.db, "al-a", "caseworker").await;
    let (_, other) = org_and_user(&app.db, "al-a", "hotline_operator").await;
    let s = &app.db.store;
    let case = new_case(s, &cw.actor(), ["Gunel", "Rzayeva", "1994-09-10", ""]).await;
    let o = other.actor();
    let q = SearchQuery {
        case_number: Some(case.case_number.clone()),
        ..SearchQuery::default()
    };
    s.search_cases(&cx(&o, utc(7, 10, 0)), &q).await.unwrap();
    s.get_case(&cx(&o, utc(7, 10, 2)), case.id, true)
        .await
        .unwrap();
    // The creator searches and reads too, but touched the case before: no alert.
    s.search_cases(&cx(&cw.actor(), utc(7, 10, 5)), &q)
        .await
        .unwrap();
    s.get_case(&cx(&cw.actor(), utc(7, 10, 6)), case.id, true)
        .await
        .unwrap();
    // Within the 24 hours nothing is judged yet.
    evaluate(&app, utc(7, 12, 0)).await;
    let token = auditor(&app).await;
    assert!(
        alerts(&app, &token, "&rule=search_without_work")
            .await
            .is_empty()
    );
    evaluate(&app, utc(8, 11, 0)).await;
    let list = alerts(&app, &token, "&rule=search_without_work").await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["subject_user"], other.id.to_string());
    let rows: Vec<i64> = list[0]["audit_rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_i64)
        .collect();
    assert_eq!(action_of(&app, rows[0]).await, "case.search");
    assert_eq!(action_of(&app, rows[1]).await, "case.read_identity");
    app.db.cleanup().await;
}

#[tokio::test]
async fn alerts_repeated_denied_access() {
    let app = spawn_app().await;
    let (_, cw) = org_and_user(&app.db, "al-a", "caseworker").await;
    let (org_b, outsider) = org_and_user(&app.db, "al-b", "caseworker").await;
    let s = &app.db.store;
    let case = new_case(s, &cw.actor(), ["Aynur", "Babayeva", "1995-11-12", ""]).await;
    let o = outsider.actor();
    for k in 0..5u8 {
        assert!(
            s.get_case(&cx(&o, utc(7, 10, k)), case.id, false)
                .await
                .is_err()
        );
    }
    evaluate(&app, utc(7, 10, 10)).await;
    let token = auditor(&app).await;
    let list = alerts(&app, &token, "&rule=repeated_denials").await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["subject_user"], outsider.id.to_string());
    assert_eq!(list[0]["organisation"], org_b.id.to_string());
    assert_eq!(list[0]["audit_rows"].as_array().unwrap().len(), 5);
    // Four more denials: not yet a new burst; the fifth is.
    for k in 0..4u8 {
        assert!(
            s.get_case(&cx(&o, utc(7, 10, 20 + k)), case.id, false)
                .await
                .is_err()
        );
    }
    evaluate(&app, utc(7, 10, 30)).await;
    assert_eq!(
        alerts(&app, &token, "&rule=repeated_denials").await.len(),
        1
    );
    assert!(
        s.get_case(&cx(&o, utc(7, 10, 25)), case.id, false)
            .await
            .is_err()
    );
    evaluate(&app, utc(7, 10, 31)).await;
    assert_eq!(
        alerts(&app, &token, "&rule=repeated_denials").await.len(),
        2
    );
    app.db.cleanup().await;
}

#[tokio::test]
async fn alerts_signin_failures_per_account_and_per_source() {
    let app = spawn_app().await;
    let (org, cw) = org_and_user(&app.db, "al-a", "caseworker").await;
    let c = web_client();
    for _ in 0..5 {
        let csrf = page_csrf(&c, format!("{}/login", app.base_url)).await;
        let r = submit_login(&c, &app.base_url, &csrf, &cw.username, "wrong password").await;
        assert_ne!(r.status(), StatusCode::SEE_OTHER);
    }
    // Ten failures of unknown accounts from one address (planted rows, as the sign-in path
    // writes them).
    for k in 0..10u8 {
        let mut e = AuditEntry::new("auth.login", "failure");
        e.source = "198.51.100.7".into();
        e.detail = "unknown_user".into();
        app.db.store.audit(e, utc(7, 10, k)).await.unwrap();
    }
    evaluate(&app, OffsetDateTime::now_utc()).await;
    let token = auditor(&app).await;
    let acc = alerts(&app, &token, "&rule=signin_failures_account").await;
    assert_eq!(acc.len(), 1, "{acc:?}");
    assert_eq!(acc[0]["subject_user"], cw.id.to_string());
    assert_eq!(acc[0]["organisation"], org.id.to_string());
    let src = alerts(&app, &token, "&rule=signin_failures_source").await;
    assert_eq!(src.len(), 1, "{src:?}");
    assert_eq!(src[0]["subject_source"], "198.51.100.7");
    assert_eq!(src[0]["organisation"], "");
    assert_eq!(src[0]["audit_rows"].as_array().unwrap().len(), 10);
    // The organisation's administrator sees the account's alert, not the address's.
    let (_, admin) = org_and_user(&app.db, "al-a", "org_admin").await;
    let mine = alerts(&app, &user_token(&app.db, &admin).await, "").await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["rule"], "signin_failures_account");
    app.db.cleanup().await;
}

#[tokio::test]
async fn alerts_normal_activity_raises_nothing() {
    let app = spawn_app().await;
    let (_, cw) = org_and_user(&app.db, "al-a", "caseworker").await;
    let (_, outsider) = org_and_user(&app.db, "al-b", "caseworker").await;
    let s = &app.db.store;
    let a = cw.actor();
    let case = new_case(s, &a, ["Samira", "Ismayilova", "1996-01-02", ""]).await;
    // Reads in working hours, a few a day; a search for an own case followed by work on it;
    // denials spread out.
    for d in 1..=5u8 {
        for k in 0..3u8 {
            s.get_case(&cx(&a, utc(d, 9, k)), case.id, true)
                .await
                .unwrap();
        }
    }
    let (_, sup) = org_and_user(&app.db, "al-a", "supervisor").await;
    let q = SearchQuery {
        case_number: Some(case.case_number.clone()),
        ..SearchQuery::default()
    };
    s.search_cases(&cx(&sup.actor(), utc(7, 10, 0)), &q)
        .await
        .unwrap();
    s.get_case(&cx(&sup.actor(), utc(7, 10, 1)), case.id, true)
        .await
        .unwrap();
    let consent = ConsentInput {
        purpose: "SharingWithOrganisation".into(),
        given: true,
        recipient_org: Some("al-b".into()),
        recipient_org_type: None,
        given_by: "Survivor".into(),
        language: "az".into(),
    };
    s.add_consent(&cx(&sup.actor(), utc(7, 11, 0)), case.id, &consent)
        .await
        .unwrap();
    for k in 0..4i64 {
        let t = utc(7, 10, 0) + time::Duration::minutes(11 * k);
        assert!(
            s.get_case(&cx(&outsider.actor(), t), case.id, false)
                .await
                .is_err()
        );
    }
    evaluate(&app, utc(9, 10, 0)).await;
    let list = alerts(&app, &auditor(&app).await, "").await;
    assert!(list.is_empty(), "{list:?}");
    app.db.cleanup().await;
}

#[tokio::test]
async fn alerts_reevaluation_raises_nothing_twice() {
    let app = spawn_app().await;
    let (_, cw) = org_and_user(&app.db, "al-a", "caseworker").await;
    let (_, sup) = org_and_user(&app.db, "al-b", "supervisor").await;
    let (_, outsider) = org_and_user(&app.db, "al-b", "caseworker").await;
    let s = &app.db.store;
    let case = new_case(s, &cw.actor(), ["Ulviyya", "Hasanova", "1997-03-04", ""]).await;
    s.break_glass(
        &cx(&sup.actor(), utc(7, 2, 0)),
        &case.case_number,
        "Emergency: police request at night",
    )
    .await
    .unwrap();
    for k in 0..7u8 {
        assert!(
            s.get_case(&cx(&outsider.actor(), utc(7, 10, k)), case.id, false)
                .await
                .is_err()
        );
    }
    let first = evaluate(&app, utc(7, 11, 0)).await;
    assert!(first >= 2, "{first}");
    let token = auditor(&app).await;
    let before = alerts(&app, &token, "").await;
    assert_eq!(evaluate(&app, utc(7, 11, 1)).await, 0);
    // From the first row again (as after a restore): the same alerts, no new ones.
    sqlx::query("UPDATE alert_state SET last_seq = 0, deferred_seq = 0 WHERE id = 1")
        .execute(s.pool())
        .await
        .unwrap();
    assert_eq!(evaluate(&app, utc(8, 11, 0)).await, 0);
    let after = alerts(&app, &token, "").await;
    assert_eq!(before.len(), after.len());
    for (a, b) in before.iter().zip(&after) {
        assert_eq!(a["id"], b["id"]);
        assert_eq!(a["audit_rows"], b["audit_rows"]);
    }
    // And the command line (another process) finds nothing new either.
    let out = dayaq_cli(&app.db, &["alerts", "evaluate"]);
    assert_cli_ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains(" 0 new alerts"));
    app.db.cleanup().await;
}

/// Alerts in two organisations: org A's break-glass use by its supervisor, org B's denials.
async fn two_org_alerts(app: &TestApp) -> (User, User) {
    let (_, cw) = org_and_user(&app.db, "al-a", "caseworker").await;
    let (_, outsider) = org_and_user(&app.db, "al-b", "caseworker").await;
    let s = &app.db.store;
    let case = new_case(s, &cw.actor(), ["Kamala", "Jafarova", "1998-05-06", ""]).await;
    let (_, sup_c) = org_and_user(&app.db, "al-c", "supervisor").await;
    s.break_glass(
        &cx(&sup_c.actor(), utc(7, 10, 0)),
        &case.case_number,
        "Emergency: shelter called at night",
    )
    .await
    .unwrap();
    for k in 0..5u8 {
        assert!(
            s.get_case(&cx(&outsider.actor(), utc(7, 10, k)), case.id, false)
                .await
                .is_err()
        );
    }
    evaluate(app, utc(7, 11, 0)).await;
    (sup_c, outsider)
}

#[tokio::test]
async fn alerts_org_admin_sees_only_own_org_and_caseworker_is_refused() {
    let app = spawn_app().await;
    let (sup_c, outsider) = two_org_alerts(&app).await;
    let all = alerts(&app, &auditor(&app).await, "").await;
    assert_eq!(all.len(), 2, "{all:?}");
    let (_, admin_b) = org_and_user(&app.db, "al-b", "org_admin").await;
    let tb = user_token(&app.db, &admin_b).await;
    let mine = alerts(&app, &tb, "").await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["subject_user"], outsider.id.to_string());
    // Another organisation's alert is not found for acknowledgement.
    let theirs = of_rule(&all, "break_glass")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, _) = api_call(
        &app,
        &tb,
        "POST",
        &format!("/alerts/{theirs}/acknowledge"),
        json!({"note": "checked"}),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let _ = sup_c;
    // Other roles: 403 before any parameter is looked at, audited.
    for role in [
        "caseworker",
        "supervisor",
        "national_coordinator",
        "system_admin",
    ] {
        let (_, u) = org_and_user(&app.db, "al-e", role).await;
        let t = user_token(&app.db, &u).await;
        let (s, v) = api_call(&app, &t, "GET", "/alerts?state=nonsense", Value::Null).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{role}: {v}");
        let (s, _) = api_call(
            &app,
            &t,
            "POST",
            &format!("/alerts/{theirs}/acknowledge"),
            json!({}),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{role}");
    }
    let denied: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'access.denied' AND detail LIKE 'table=alerts%'",
    )
    .fetch_one(app.db.store.pool())
    .await
    .unwrap();
    assert_eq!(denied, 8);
    // Bad filters: 422 naming the field.
    let (s, v) = api_call(&app, &tb, "GET", "/alerts?state=nonsense", Value::Null).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v.to_string().contains("state"), "{v}");
    let (s, v) = api_call(&app, &tb, "GET", "/alerts?rule=nonsense", Value::Null).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v.to_string().contains("rule"), "{v}");
    app.db.cleanup().await;
}

async fn open_metric(app: &TestApp, rule: &str) -> String {
    let text = reqwest::get(format!("{}/metrics", app.base_url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let prefix = format!("dayaq_alerts_open{{rule=\"{rule}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix).map(str::to_string))
        .unwrap_or_else(|| panic!("no {prefix} in {text}"))
}

#[tokio::test]
async fn alerts_acknowledge_is_audited_and_metrics_count_open_alerts() {
    let app = spawn_app().await;
    two_org_alerts(&app).await;
    assert_eq!(open_metric(&app, "break_glass").await, "1");
    assert_eq!(open_metric(&app, "repeated_denials").await, "1");
    assert_eq!(open_metric(&app, "off_hours_read").await, "0");
    let token = auditor(&app).await;
    let all = alerts(&app, &token, "").await;
    let id = of_rule(&all, "break_glass")[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/alerts/{id}/acknowledge");
    // A bad note: 422 naming it, nothing changes.
    for bad in [
        json!({}),
        json!({"note": "  "}),
        json!({"note": "x".repeat(201)}),
        json!({"note": "a\nb"}),
    ] {
        let (s, v) = api_call(&app, &token, "POST", &path, bad).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(v.to_string().contains("note"), "{v}");
    }
    let (s, v) = api_call(
        &app,
        &token,
        "POST",
        &path,
        json!({"note": "Confirmed with the shelter: real emergency"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "acknowledged");
    assert_eq!(v["note"], "Confirmed with the shelter: real emergency");
    let (s, _) = api_call(&app, &token, "POST", &path, json!({"note": "again"})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let rows = app.db.store.audit_recent(50).await.unwrap();
    let ack: Vec<_> = rows
        .iter()
        .filter(|r| r.action == "alerts.acknowledge")
        .collect();
    assert_eq!(ack.len(), 1);
    assert_eq!(ack[0].detail, format!("alert={id} rule=break_glass"));
    assert!(
        rows.iter().all(|r| !r.detail.contains("shelter")),
        "the note stays out of the audit log"
    );
    assert!(rows.iter().any(|r| r.action == "alerts.list"));
    assert_eq!(open_metric(&app, "break_glass").await, "0");
    assert_eq!(open_metric(&app, "repeated_denials").await, "1");
    // Nobody acknowledges an alert about themselves: an org admin's own denials.
    let (_, cw) = org_and_user(&app.db, "al-d", "caseworker").await;
    let (_, admin) = org_and_user(&app.db, "al-b", "org_admin").await;
    let s = &app.db.store;
    let case = new_case(s, &cw.actor(), ["Zeynab", "Musayeva", "1999-07-08", ""]).await;
    for k in 0..5u8 {
        assert!(
            s.get_case(&cx(&admin.actor(), utc(7, 12, k)), case.id, false)
                .await
                .is_err()
        );
    }
    evaluate(&app, utc(7, 12, 10)).await;
    let ta = user_token(&app.db, &admin).await;
    let own = alerts(&app, &ta, "&rule=repeated_denials").await;
    let own_id = own
        .iter()
        .find(|a| a["subject_user"] == admin.id.to_string())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, _) = api_call(
        &app,
        &ta,
        "POST",
        &format!("/alerts/{own_id}/acknowledge"),
        json!({"note": "mine"}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    app.db.cleanup().await;
}

#[tokio::test]
async fn alerts_cli_evaluate_list_and_ack() {
    let app = spawn_app().await;
    let (_, cw) = org_and_user(&app.db, "al-a", "caseworker").await;
    let (_, sup) = org_and_user(&app.db, "al-b", "supervisor").await;
    let s = &app.db.store;
    let case = new_case(s, &cw.actor(), ["Narmin", "Karimova", "1990-09-10", ""]).await;
    s.break_glass(
        &cx(&sup.actor(), OffsetDateTime::now_utc()),
        &case.case_number,
        "Emergency: hospital called at night",
    )
    .await
    .unwrap();
    let out = dayaq_cli(&app.db, &["alerts", "evaluate", "--check-config"]);
    assert_cli_ok(&out);
    let out = dayaq_cli(&app.db, &["alerts", "evaluate"]);
    assert_cli_ok(&out);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(" 1 new alerts"),
        "{out:?}"
    );
    let out = dayaq_cli(&app.db, &["alerts", "list"]);
    assert_cli_ok(&out);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let line = text
        .lines()
        .find(|l| l.contains(" break_glass high open "))
        .expect("listed");
    assert!(line.contains(&format!("subject={}", sup.id)), "{line}");
    assert!(!text.contains("Narmin"));
    let id = line.split(' ').next().unwrap();
    let out = dayaq_cli(&app.db, &["alerts", "ack", id, "--note", ""]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--note"));
    let out = dayaq_cli(
        &app.db,
        &[
            "alerts",
            "ack",
            id,
            "--note",
            "Reviewed with the supervisor",
        ],
    );
    assert_cli_ok(&out);
    let out = dayaq_cli(&app.db, &["alerts", "list", "--state", "acknowledged"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains(id));
    let rows = s.audit_recent(5).await.unwrap();
    assert!(
        rows.iter()
            .any(|r| r.action == "alerts.acknowledge" && r.actor_user.starts_with("cli:"))
    );
    let bad = app.db.dir.path().join("bad_rules.toml");
    std::fs::write(&bad, "[repeated_denials]\ncount = 1\n").unwrap();
    let out = dayaq_cli(
        &app.db,
        &["alerts", "evaluate", "--rules", bad.to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("repeated_denials"));
    app.db.cleanup().await;
}

/// The screen in English: the auditor reaches it from the navigation, a blank note is refused
/// beside its field with the page otherwise intact, a note acknowledges the alert; axe-clean,
/// narrow.
#[tokio::test]
async fn alerts_auditor_acknowledges_in_a_browser() {
    run("alerts_auditor_acknowledges", |b, app| async move {
        let t = Catalogue::load("en");
        two_org_alerts(&app).await;
        let (_, aud) = org_and_user(&app.db, "al-audit", "auditor").await;
        app.db.store.set_locale(aud.id, "en").await.unwrap();
        let secret: &[u8; 20] = b"dayaq-e2e-alerts-k-1";
        app.db.store.totp_set_secret(&aud, secret).await.unwrap();
        b.sign_in(&aud.username, Some(secret)).await;
        b.click_to("nav a[href=\"/alerts\"]", "alerts").await;
        assert_eq!(b.path().await, "/alerts");
        assert_eq!(b.text("h1").await, t.get("alerts-title"));
        assert_eq!(b.count(".alert-item").await, 2);
        b.narrow("alerts").await;
        // A note too long for the field: the typed text is kept, the error beside the field.
        let long = "y".repeat(201);
        b.set_value(".alert-item:first-child input[name=note]", &long)
            .await;
        b.click_to(".alert-item:first-child .ack-button", "alerts-refused")
            .await;
        let err = b.text(".alert-item .error").await;
        assert!(err.starts_with(t.get("alert-note")), "{err}");
        assert_eq!(b.count("#form-errors").await, 1);
        let kept = b
            .js(
                "return document.querySelector('.alert-item input[aria-invalid=true]').value",
                vec![],
            )
            .await;
        assert_eq!(kept, Value::String(long.clone()));
        b.fill(
            ".alert-item input[aria-invalid=true]",
            "Checked with the shelter",
        )
        .await;
        b.click_to(".alert-item .ack-button", "alerts-acknowledged")
            .await;
        assert_eq!(b.text("#alerts-done").await, t.get("alerts-acknowledged"));
        assert_eq!(b.count(".alert-item").await, 1);
        b.open("/alerts?state=acknowledged", "alerts-acked").await;
        assert_eq!(b.text(".alert-note").await, "Checked with the shelter");
        b.check("alerts-acked").await;
    })
    .await;
}
