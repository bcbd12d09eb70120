//! The action-plan scorecard (issue #15 §3) end to end: a small year of cases entered through
//! the API with a controllable clock (known timings), every computed indicator checked against
//! hand-computed values (docs/STATISTICS.md "Scorecard" has the same scenario); yearly values
//! entered by the coordinator and their validation; who may read and enter (403, audited); the
//! CLI (report, files, --check-config); the screen in a browser (axe, 390 px).

use crate::kit::browser::{Catalogue, run};
use crate::kit::{
    TestApp, api_call, assert_cli_ok, dayaq_cli, generous_config, now, org_and_user, spawn_app,
    spawn_app_with, user_token,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use time::{Date, Month, OffsetDateTime, Time};

/// The server's clock, moved by the test.
struct Clock(Arc<AtomicI64>);

impl Clock {
    fn set(&self, y: i32, m: u8, d: u8, h: u8) {
        let dt = Date::from_calendar_date(y, Month::try_from(m).unwrap(), d)
            .unwrap()
            .with_time(Time::from_hms(h, 0, 0).unwrap())
            .assume_utc();
        self.0.store(
            (dt.unix_timestamp_nanos() / 1_000_000) as i64,
            Ordering::SeqCst,
        );
    }
}

async fn app_with_clock() -> (TestApp, Clock) {
    let ms = Arc::new(AtomicI64::new(
        (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64,
    ));
    let read = ms.clone();
    let cfg = dayaq_http::AppConfig {
        clock: Arc::new(move || {
            OffsetDateTime::from_unix_timestamp_nanos(
                i128::from(read.load(Ordering::SeqCst)) * 1_000_000,
            )
            .unwrap()
        }),
        ..generous_config()
    };
    (spawn_app_with(cfg).await, Clock(ms))
}

async fn ok(app: &TestApp, token: &str, method: &str, path: &str, body: Value) -> Value {
    let (s, v) = api_call(app, token, method, path, body).await;
    assert!(s.is_success(), "{method} {path}: {s} {v}");
    v
}

fn id(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_string()
}

async fn case(app: &TestApp, cw: &str, first: &str, birth: &str) -> String {
    id(&ok(
        app,
        cw,
        "POST",
        "/cases",
        json!({"prs_FirstName": first, "prs_SecondName": "Scorecard", "prs_Birthdate": birth,
               "prs_Gender": "Feminine"}),
    )
    .await)
}

async fn decide(app: &TestApp, police: &str, case: &str, status: &str, on: &str) {
    ok(
        app,
        police,
        "POST",
        &format!("/cases/{case}/decisions"),
        json!({"vic_TraffickingStatus": status, "vic_TraffickingStatusDecisionMakingOrg": "Police",
               "decided_on": on, "reference": "DEC-S"}),
    )
    .await;
}

async fn refer(app: &TestApp, cw: &str, case: &str, service: &str) -> String {
    ok(
        app,
        cw,
        "POST",
        &format!("/cases/{case}/consents"),
        json!({"purpose": "SharingWithOrganisation", "given": true, "recipient_org": "sc-b",
               "given_by": "Survivor", "language": "az"}),
    )
    .await;
    id(&ok(
        app,
        cw,
        "POST",
        &format!("/cases/{case}/referrals"),
        json!({"to_org": "sc-b", "services": [service],
               "cas_ReasonForOutgoingReferral": "AdditionalServicesRequired"}),
    )
    .await)
}

async fn assess(app: &TestApp, cw: &str, case: &str) {
    ok(
        app,
        cw,
        "POST",
        &format!("/cases/{case}/assessments"),
        json!({"needs": [{"domain": "Safety", "severity": "Low"}]}),
    )
    .await;
}

async fn plan(app: &TestApp, cw: &str, case: &str) -> String {
    let p = id(&ok(
        app,
        cw,
        "POST",
        &format!("/cases/{case}/plans"),
        json!({"spl_Type": "Health"}),
    )
    .await);
    ok(
        app,
        cw,
        "POST",
        &format!("/cases/{case}/plans/{p}/agreement"),
        Value::Null,
    )
    .await;
    p
}

async fn goal_with_actions(
    app: &TestApp,
    cw: &str,
    case: &str,
    plan: &str,
    term: &str,
    statuses: &[&str],
) {
    let g = id(&ok(
        app,
        cw,
        "POST",
        &format!("/cases/{case}/plans/{plan}/goals"),
        json!({"term": term, "description": "goal"}),
    )
    .await);
    for s in statuses {
        let a = id(&ok(
            app,
            cw,
            "POST",
            &format!("/cases/{case}/plans/{plan}/actions"),
            json!({"goal_id": g, "service": "JobPlacement"}),
        )
        .await);
        ok(
            app,
            cw,
            "POST",
            &format!("/cases/{case}/plan-actions/{a}/status"),
            json!({"status": s}),
        )
        .await;
    }
}

async fn followup(app: &TestApp, cw: &str, case: &str, assistance_end: &str) {
    ok(
        app,
        cw,
        "POST",
        &format!("/cases/{case}/consents"),
        json!({"purpose": "FollowUpContact", "given": true, "given_by": "Survivor", "language": "az"}),
    )
    .await;
    ok(
        app,
        cw,
        "PUT",
        &format!("/cases/{case}/followup/protocol"),
        json!({"channels": ["phone"], "windows": ["1@00:00-24:00"], "language": "az",
               "code_word": "lilac"}),
    )
    .await;
    ok(
        app,
        cw,
        "PUT",
        &format!("/cases/{case}/followup/plan"),
        json!({"assistance_end": assistance_end, "months": [12]}),
    )
    .await;
}

/// The indicator `id` of a scorecard body.
fn ind<'a>(card: &'a Value, id: &str) -> &'a Value {
    card["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("indicator {id} missing"))
}

/// (value, numerator, denominator, light) of the year's result.
fn res(card: &Value, id: &str) -> (Option<f64>, Option<i64>, Option<i64>, String) {
    let r = &ind(card, id)["result"];
    (
        r["value"].as_f64(),
        r["numerator"].as_i64(),
        r["denominator"].as_i64(),
        r["light"].as_str().unwrap().to_string(),
    )
}

fn some(
    v: f64,
    n: Option<i64>,
    d: i64,
    light: &str,
) -> (Option<f64>, Option<i64>, Option<i64>, String) {
    (Some(v), n, Some(d), light.to_string())
}

#[tokio::test]
async fn scorecard_matches_hand_computed_indicators() {
    let (app, clock) = app_with_clock().await;
    let db = &app.db;
    let y = now().year() - 1;
    clock.set(y, 3, 1, 10);
    let (_, cw_a) = org_and_user(db, "sc-a", "caseworker").await;
    let (_, sup_a) = org_and_user(db, "sc-a", "supervisor").await;
    let (_, pol_a) = org_and_user(db, "sc-a", "police_officer").await;
    let (_, cw_b) = org_and_user(db, "sc-b", "caseworker").await;
    let (_, sup_b) = org_and_user(db, "sc-b", "supervisor").await;
    let (_, coord) = org_and_user(db, "sc-nrm", "national_coordinator").await;
    let cw = user_token(db, &cw_a).await;
    let sup = user_token(db, &sup_a).await;
    let pol = user_token(db, &pol_a).await;
    let cwb = user_token(db, &cw_b).await;
    let supb = user_token(db, &sup_b).await;
    let coordinator = user_token(db, &coord).await;

    // sc-b runs a state shelter. The directory: Baku (every organisation's region) has all
    // four needed services through sc-a; Ganja has only sc-b's medical help.
    ok(
        &app,
        &supb,
        "POST",
        "/shelters",
        json!({"name": "State shelter B", "beds": 5, "state_shelter": true}),
    )
    .await;
    for s in [
        "Shelter",
        "Medical",
        "PsychologicalCounselling",
        "LegalConsultation",
    ] {
        ok(
            &app,
            &sup,
            "PUT",
            "/directory/sc-a",
            json!({"service": s, "region": "Baku"}),
        )
        .await;
    }
    ok(
        &app,
        &supb,
        "PUT",
        "/directory/sc-b",
        json!({"service": "Medical", "region": "Ganja"}),
    )
    .await;

    // Every case opens on 1 March Y (the first contact).
    let p1 = case(&app, &cw, "Birinci", "1990-01-01").await;
    let p2 = case(&app, &cw, "Ikinci", "1991-01-01").await;
    let p3 = case(&app, &cw, "Ucuncu", "1992-01-01").await;
    let p4 = case(&app, &cw, "Dorduncu", "1993-01-01").await;
    let p5 = case(&app, &cw, "Besinci", "1994-01-01").await;
    followup(&app, &cw, &p4, &format!("{}-04-01", y - 1)).await;
    followup(&app, &cw, &p5, &format!("{}-05-01", y - 1)).await;

    // P3: identified on 5 March, reversed on 6 March (counts in no identification share);
    // her shelter referral is made on 5 March 10:00 and accepted 24 h later.
    clock.set(y, 3, 5, 10);
    decide(
        &app,
        &pol,
        &p3,
        "ActualVictimOfTrafficking",
        &format!("{y}-03-05"),
    )
    .await;
    let r3 = refer(&app, &cw, &p3, "Shelter").await;
    clock.set(y, 3, 6, 10);
    ok(
        &app,
        &cwb,
        "POST",
        &format!("/referrals/{r3}/accept"),
        json!({}),
    )
    .await;
    clock.set(y, 3, 6, 11);
    decide(
        &app,
        &pol,
        &p3,
        "NotAVictimOfTrafficking",
        &format!("{y}-03-06"),
    )
    .await;

    // P1: identified on 11 March (10 days after the first contact); medical referral answered
    // in 48 h; needs assessed on day 9; plan approved on day 40; allowance paid on day 21.
    clock.set(y, 3, 11, 10);
    decide(
        &app,
        &pol,
        &p1,
        "ActualVictimOfTrafficking",
        &format!("{y}-03-11"),
    )
    .await;
    let r1 = refer(&app, &cw, &p1, "Medical").await;
    clock.set(y, 3, 13, 10);
    ok(
        &app,
        &cwb,
        "POST",
        &format!("/referrals/{r1}/accept"),
        json!({}),
    )
    .await;
    clock.set(y, 3, 20, 10);
    assess(&app, &cw, &p1).await;
    let plan1 = plan(&app, &cw, &p1).await;
    goal_with_actions(&app, &cw, &p1, &plan1, "LongTerm", &["Done", "Cancelled"]).await;
    goal_with_actions(&app, &cw, &p1, &plan1, "LongTerm", &["Done", "InProgress"]).await;
    goal_with_actions(&app, &cw, &p1, &plan1, "ShortTerm", &["Done"]).await;
    clock.set(y, 4, 1, 10);
    let pay = id(&ok(
        &app,
        &cw,
        "POST",
        &format!("/cases/{p1}/allowance"),
        json!({"amount_minor": 40000}),
    )
    .await);
    ok(
        &app,
        &sup,
        "POST",
        &format!("/cases/{p1}/allowance/{pay}/status"),
        json!({"status": "Paid"}),
    )
    .await;
    clock.set(y, 4, 10, 10);
    ok(
        &app,
        &cw,
        "POST",
        &format!("/cases/{p4}/followup/contacts"),
        json!({"channel": "phone", "at": format!("{y}-04-10T09:00:00Z"), "reached": true,
               "justification": "the 12-month call"}),
    )
    .await;
    clock.set(y, 4, 20, 10);
    ok(
        &app,
        &sup,
        "POST",
        &format!("/cases/{p1}/plans/{plan1}/approval?confirm_warnings=true"),
        Value::Null,
    )
    .await;

    // P2: identified on 30 April (60 days); her state-shelter referral is declined after 96 h
    // ("no_capacity"); plan approved on day 10; needs assessed on day 20; no allowance.
    clock.set(y, 4, 30, 10);
    decide(
        &app,
        &pol,
        &p2,
        "ActualVictimOfTrafficking",
        &format!("{y}-04-30"),
    )
    .await;
    let r2 = refer(&app, &cw, &p2, "Shelter").await;
    clock.set(y, 5, 4, 10);
    ok(
        &app,
        &cwb,
        "POST",
        &format!("/referrals/{r2}/decline"),
        json!({"decline_reason": "no_capacity"}),
    )
    .await;
    clock.set(y, 5, 10, 10);
    let plan2 = plan(&app, &cw, &p2).await;
    ok(
        &app,
        &sup,
        "POST",
        &format!("/cases/{p2}/plans/{plan2}/approval?confirm_warnings=true"),
        Value::Null,
    )
    .await;
    clock.set(y, 5, 20, 10);
    assess(&app, &cw, &p2).await;

    // The coordinator reads the scorecard on 1 July Y.
    clock.set(y, 7, 1, 10);
    let card = ok(
        &app,
        &coordinator,
        "GET",
        &format!("/statistics/scorecard?year={y}"),
        Value::Null,
    )
    .await;
    assert_eq!(card["year"], y);
    assert_eq!(card["indicators"].as_array().unwrap().len(), 12);
    // Days 10 (P1) and 60 (P2): median 35 (target ≤ 30, tolerance 15: amber), p90 60 (green).
    assert_eq!(
        res(&card, "days_to_decision_median"),
        some(35.0, None, 2, "amber")
    );
    assert_eq!(
        res(&card, "days_to_decision_p90"),
        some(60.0, None, 2, "green")
    );
    // P1 assessed in time, P2 not; P2's plan in time, P1's not; P1's allowance in time.
    assert_eq!(
        res(&card, "needs_assessment_14_days"),
        some(50.0, Some(1), 2, "red")
    );
    assert_eq!(
        res(&card, "plan_approved_30_days"),
        some(50.0, Some(1), 2, "red")
    );
    assert_eq!(
        res(&card, "allowance_paid_30_days"),
        some(50.0, Some(1), 2, "red")
    );
    // R3 24 h, R1 48 h, R2 96 h.
    assert_eq!(
        res(&card, "referrals_answered_72h"),
        some(66.7, Some(2), 3, "red")
    );
    // Long-term goals of Y: one done (Done + Cancelled), one not (InProgress); target 50.
    assert_eq!(
        res(&card, "long_term_goals_done"),
        some(50.0, Some(1), 2, "green")
    );
    // P4 reached 9 days after her 12-month date; P5's window closed on 31 May unreached.
    assert_eq!(
        res(&card, "reached_at_12_months"),
        some(50.0, Some(1), 2, "red")
    );
    // State-shelter referrals answered: R3 accepted, R2 declined for lack of places.
    assert_eq!(
        res(&card, "state_shelter_refusals"),
        some(1.0, Some(1), 2, "amber")
    );
    let b = &ind(&card, "state_shelter_refusals")["result"]["breakdown"];
    assert_eq!(
        b,
        &json!([{"key": "no_capacity", "count": 1}, {"key": "not_eligible", "count": 0},
                {"key": "outside_area", "count": 0}, {"key": "service_unavailable", "count": 0},
                {"key": "survivor_declined", "count": 0}, {"key": "other", "count": 0}])
    );
    // Regions: Baku complete, Ganja lacks shelter, psychological and legal help.
    assert_eq!(
        res(&card, "regions_without_provider"),
        some(1.0, Some(1), 2, "amber")
    );
    let b = &ind(&card, "regions_without_provider")["result"]["breakdown"];
    assert_eq!(
        b,
        &json!([{"key": "Shelter", "count": 1}, {"key": "Medical", "count": 0},
                {"key": "PsychologicalCounselling", "count": 1}, {"key": "LegalConsultation", "count": 1}])
    );
    // Entered values: none yet.
    assert_eq!(res(&card, "trainings_held").3, "grey");
    assert_eq!(ind(&card, "trainings_held")["result"]["value"], Value::Null);
    // Every indicator links to its definition; the year before has no identification data.
    let i = ind(&card, "needs_assessment_14_days");
    assert_eq!(
        i["definition_href"],
        "/statistics/scorecard#ind-needs_assessment_14_days"
    );
    assert_eq!(i["history"][1]["year"], y - 1);
    assert_eq!(i["history"][1]["light"], "grey");
    assert!(i["definition"]["az"].as_str().unwrap().len() > 20);
    // Nothing personal in the answer.
    let text = card.to_string();
    for secret in ["Birinci", "Ikinci", "1990-01-01", &p1, &p2, &r1, &r2] {
        assert!(!text.contains(secret), "the scorecard shows {secret}");
    }

    // A yearly value entered by the coordinator; the latest entry counts.
    let (s, v) = api_call(
        &app,
        &coordinator,
        "POST",
        "/statistics/scorecard/values",
        json!({"indicator": "trainings_held", "year": y, "value": 14,
               "source": "Ministry of Internal Affairs, annual report"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let card = ok(
        &app,
        &coordinator,
        "GET",
        &format!("/statistics/scorecard?year={y}"),
        Value::Null,
    )
    .await;
    assert_eq!(
        res(&card, "trainings_held"),
        (Some(14.0), None, None, "green".into())
    );
    assert_eq!(
        ind(&card, "trainings_held")["result"]["source"],
        "Ministry of Internal Affairs, annual report"
    );
    ok(
        &app,
        &coordinator,
        "POST",
        "/statistics/scorecard/values",
        json!({"indicator": "trainings_held", "year": y, "value": 9, "source": "corrected"}),
    )
    .await;
    let card = ok(
        &app,
        &coordinator,
        "GET",
        &format!("/statistics/scorecard?year={y}"),
        Value::Null,
    )
    .await;
    assert_eq!(res(&card, "trainings_held").0, Some(9.0));
    assert_eq!(res(&card, "trainings_held").3, "amber");

    // Audited: views and entries.
    let audit: Vec<String> = sqlx::query_scalar(
        "SELECT action || ' ' || detail FROM audit_log WHERE action LIKE 'statistics.%' ORDER BY seq",
    )
    .fetch_all(db.store.pool())
    .await
    .unwrap();
    assert!(audit.contains(&format!(
        "statistics.scorecard table=scorecard year={y} via=json"
    )));
    assert!(audit.contains(&format!(
        "statistics.indicator_value indicator=trainings_held year={y}"
    )));

    // The CLI gives the same figures (JSON is the API's body), and the files.
    let ys = y.to_string();
    let out = dayaq_cli(
        db,
        &[
            "report",
            "scorecard",
            "--as",
            &coord.username,
            "--year",
            &ys,
            "--format",
            "json",
        ],
    );
    assert_cli_ok(&out);
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    // The CLI runs on the real clock (today's directory counts for the current year only),
    // so compare the figures that do not depend on today.
    for i in [
        "days_to_decision_median",
        "referrals_answered_72h",
        "long_term_goals_done",
        "state_shelter_refusals",
    ] {
        assert_eq!(ind(&cli, i)["result"], ind(&card, i)["result"], "{i}");
    }
    assert_eq!(
        res(&cli, "needs_assessment_14_days"),
        some(50.0, Some(1), 2, "red")
    );
    assert_eq!(res(&cli, "trainings_held").0, Some(9.0));
    let out = dayaq_cli(
        db,
        &[
            "report",
            "scorecard",
            "--as",
            &coord.username,
            "--year",
            &ys,
            "--format",
            "csv",
        ],
    );
    assert_cli_ok(&out);
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.starts_with(
        "year,indicator,metric,unit,direction,target,tolerance,value,numerator,denominator,light"
    ));
    assert!(csv.contains(&format!("{y},needs_assessment_14_days,needs_assessment_within_14_days,percent,higher,90,10,50,1,2,red")), "{csv}");
    // The same lines from the API's export (CSV and XLSX); bad format 422; others 403.
    let client = crate::kit::local_client().build().expect("http client");
    let url = format!(
        "{}/api/v1/statistics/scorecard/export?year={y}&format=csv",
        app.base_url
    );
    let r = client
        .get(&url)
        .bearer_auth(&coordinator)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert_eq!(r.headers()["cache-control"], "no-store");
    let api_csv = r.text().await.unwrap();
    assert!(api_csv.starts_with(
        "year,indicator,metric,unit,direction,target,tolerance,value,numerator,denominator,light"
    ));
    assert!(api_csv.contains(&format!("{y},needs_assessment_14_days,needs_assessment_within_14_days,percent,higher,90,10,50,1,2,red")), "{api_csv}");
    let x = client
        .get(url.replace("format=csv", "format=xlsx"))
        .bearer_auth(&coordinator)
        .send()
        .await
        .unwrap();
    assert_eq!(x.status(), 200);
    assert!(x.bytes().await.unwrap().starts_with(b"PK"));
    let (st, v) = api_call(
        &app,
        &coordinator,
        "GET",
        &format!("/statistics/scorecard/export?year={y}&format=pdf"),
        Value::Null,
    )
    .await;
    assert_eq!(st, 422, "{v}");
    assert!(v.to_string().contains("format"), "{v}");
    let (st, _) = api_call(
        &app,
        &sup,
        "GET",
        &format!("/statistics/scorecard/export?year={y}"),
        Value::Null,
    )
    .await;
    assert_eq!(st, 403);
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("card.xlsx");
    let out = dayaq_cli(
        db,
        &[
            "report",
            "scorecard",
            "--as",
            &coord.username,
            "--year",
            &ys,
            "--format",
            "xlsx",
            "--out",
            xlsx.to_str().unwrap(),
        ],
    );
    assert_cli_ok(&out);
    assert!(std::fs::read(&xlsx).unwrap().starts_with(b"PK"));
    // Not a coordinator: refused.
    let out = dayaq_cli(
        db,
        &[
            "report",
            "scorecard",
            "--as",
            &sup_a.username,
            "--year",
            &ys,
        ],
    );
    assert!(!out.status.success());
    app.db.cleanup().await;
}

#[tokio::test]
async fn scorecard_values_are_checked_and_only_the_coordinator_reads_or_enters() {
    let app = spawn_app().await;
    let db = &app.db;
    let (_, coord) = org_and_user(db, "sv-nrm", "national_coordinator").await;
    let coordinator = user_token(db, &coord).await;
    let y = now().year();
    let post = |body: Value| {
        let (app, t) = (&app, coordinator.clone());
        async move { api_call(app, &t, "POST", "/statistics/scorecard/values", body).await }
    };
    let fields = |v: &Value| -> Vec<(String, String)> {
        v["error"]["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("no errors in {v}"))
            .iter()
            .map(|e| {
                (
                    e["field"].as_str().unwrap().to_string(),
                    e["code"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let (s, v) = post(json!({})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let f: Vec<String> = fields(&v).into_iter().map(|x| x.0).collect();
    assert_eq!(f, ["indicator", "year", "value", "source"]);
    let (s, v) = post(
        json!({"indicator": "needs_assessment_14_days", "year": y + 1,
                             "value": -3, "source": "x"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        fields(&v),
        [
            ("indicator".to_string(), "invalid_value".to_string()),
            ("year".to_string(), "out_of_range".to_string()),
            ("value".to_string(), "out_of_range".to_string()),
        ]
    );
    let (s, v) =
        post(json!({"indicator": "laws_passed", "year": "soon", "value": 1, "source": "x"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v.to_string().contains("year"), "{v}");
    let (s, v) = post(
        json!({"indicator": "laws_passed", "year": y, "value": 1, "source": "x", "colour": 1}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v.to_string().contains("colour"), "{v}");
    // Nothing was stored.
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM indicator_values")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(n, 0);
    let (s, _) = post(
        json!({"indicator": "laws_passed", "year": y, "value": 2, "source": "Official gazette"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);

    // Every other role: 403 on both routes (before the body is looked at), audited.
    for role in [
        "supervisor",
        "caseworker",
        "police_officer",
        "researcher",
        "auditor",
        "org_admin",
    ] {
        let (_, u) = org_and_user(db, "sv-a", role).await;
        let t = user_token(db, &u).await;
        let (s, _) = api_call(&app, &t, "GET", "/statistics/scorecard", Value::Null).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{role} reads the scorecard");
        let (s, _) = api_call(&app, &t, "POST", "/statistics/scorecard/values", json!({})).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{role} enters a value");
    }
    let denied: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'access.denied' AND detail LIKE 'table=scorecard%'",
    )
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert_eq!(denied, 12);
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM indicator_values")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(n, 1);
    // A bad year in the query names the field.
    let (s, v) = api_call(
        &app,
        &coordinator,
        "GET",
        "/statistics/scorecard?year=12",
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v.to_string().contains("\"year\""), "{v}");
    app.db.cleanup().await;
}

#[tokio::test]
async fn scorecard_check_config_names_the_indicator_and_field() {
    let app = spawn_app().await;
    let db = &app.db;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        dayaq_domain::statistics::scorecard::DEFAULT_INDICATORS,
    )
    .unwrap();
    let out = dayaq_cli(
        db,
        &[
            "report",
            "scorecard",
            "--check-config",
            good.to_str().unwrap(),
        ],
    );
    assert_cli_ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("12 indicators"));
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        dayaq_domain::statistics::scorecard::DEFAULT_INDICATORS.replace(
            "direction = \"lower\"\ntolerance = 30",
            "direction = \"down\"\ntolerance = 30",
        ),
    )
    .unwrap();
    let out = dayaq_cli(
        db,
        &[
            "report",
            "scorecard",
            "--check-config",
            bad.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("days_to_decision_p90") && err.contains("direction"),
        "{err}"
    );
    // The server refuses to start with it.
    let out = dayaq_cli(
        db,
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--indicators",
            bad.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("days_to_decision_p90") && err.contains("direction"),
        "{err}"
    );
    app.db.cleanup().await;
}

#[tokio::test]
async fn e2e_coordinator_reads_the_scorecard_and_enters_a_value() {
    run(
        "e2e_coordinator_reads_the_scorecard_and_enters_a_value",
        |b, app| async move {
            let t = Catalogue::load("en");
            let (_, coord) = org_and_user(&app.db, "sc-nrm", "national_coordinator").await;
            app.db
                .store
                .set_locale(coord.id, "en")
                .await
                .expect("set_locale");
            b.sign_in(&coord.username, None).await;
            b.open("/statistics/national", "national").await;
            b.click_to("#stat-scorecard", "scorecard").await;
            assert_eq!(b.path().await, "/statistics/scorecard");
            assert!(b.text("h1").await.starts_with(t.get("sc-title")));
            assert_eq!(b.count("#sc-table tbody tr").await, 12);
            // The light is text as well as colour.
            assert!(
                b.text("#row-laws_passed .sc-current")
                    .await
                    .contains(t.get("sc-light-grey"))
            );
            // Every indicator links to its definition on the page.
            assert_eq!(
                b.count("#sc-table a[href=\"#ind-reached_at_12_months\"]")
                    .await,
                1
            );
            assert_eq!(b.count("article#ind-reached_at_12_months").await, 1);
            b.narrow("scorecard").await;

            // A refused value keeps the input and shows the error by the field.
            b.select("#sc-indicator", "trainings_held").await;
            b.fill("#sc-value", "many").await;
            b.fill("#sc-source", "Training register").await;
            b.click_to("#sc-submit", "value-refused").await;
            assert_eq!(b.count("#form-errors").await, 1);
            assert_eq!(b.count("#sc-value-err").await, 1);
            assert_eq!(
                b.find("#sc-source")
                    .await
                    .prop("value")
                    .await
                    .unwrap()
                    .as_deref(),
                Some("Training register")
            );
            assert_eq!(
                b.find("#sc-value")
                    .await
                    .attr("aria-invalid")
                    .await
                    .unwrap()
                    .as_deref(),
                Some("true")
            );
            b.narrow("value-refused").await;
            b.fill("#sc-value", "7").await;
            b.click_to("#sc-submit", "value-saved").await;
            assert_eq!(b.count("#sc-saved").await, 1);
            assert!(
                b.text("#row-trainings_held .sc-value")
                    .await
                    .starts_with('7')
            );
            assert!(
                b.text("#row-trainings_held .sc-current")
                    .await
                    .contains(t.get("sc-light-red"))
            );
            assert!(
                b.text("#ind-trainings_held .sc-source")
                    .await
                    .contains("Training register")
            );
        },
    )
    .await;
}
