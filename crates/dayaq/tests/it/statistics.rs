//! The annual national report (issue #15 part 1) end to end: a small year of cases entered
//! through the API, every table checked against hand-computed values (docs/STATISTICS.md has
//! the same scenario as its worked example), the public variant's suppression, who may read it,
//! the audit rows, the CSV/XLSX exports and the CLI.

use crate::kit::{
    TestApp, api_call, assert_cli_ok, dayaq_cli, now, org_and_user, page_get, spawn_app,
    user_token, web_session,
};
use serde_json::{Value, json};

/// Enters one person's case in organisation `org` as `cw` (caseworker); returns the case id.
pub(crate) async fn case(app: &TestApp, cw: &str, body: Value) -> String {
    let (s, v) = api_call(app, cw, "POST", "/cases", body).await;
    assert!(s.is_success(), "create case: {s} {v}");
    v["id"].as_str().unwrap().to_string()
}

pub(crate) async fn ok(app: &TestApp, token: &str, method: &str, path: &str, body: Value) -> Value {
    let (s, v) = api_call(app, token, method, path, body).await;
    assert!(s.is_success(), "{method} {path}: {s} {v}");
    v
}

pub(crate) async fn screen(app: &TestApp, token: &str, id: &str, possible: bool) {
    ok(
        app,
        token,
        "POST",
        &format!("/cases/{id}/screenings"),
        json!({"act": possible, "means": true, "purpose": true}),
    )
    .await;
}

pub(crate) async fn decide(
    app: &TestApp,
    police: &str,
    id: &str,
    status: &str,
    org: &str,
    on: &str,
) {
    ok(
        app,
        police,
        "POST",
        &format!("/cases/{id}/decisions"),
        json!({"vic_TraffickingStatus": status, "vic_TraffickingStatusDecisionMakingOrg": org,
               "decided_on": on, "reference": "DEC-1"}),
    )
    .await;
}

/// The cell (table, row, column) of a report body: `Some(n)`, or `None` when suppressed.
fn cell(r: &Value, table: &str, row: &str, col: &str) -> Option<i64> {
    let t = if table == "trend" {
        &r["trend"]
    } else {
        r["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == table)
            .unwrap_or_else(|| panic!("table {table} missing"))
    };
    let c = t["columns"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["key"] == col)
        .unwrap_or_else(|| panic!("{table}: column {col} missing"));
    let row = t["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == row)
        .unwrap_or_else(|| panic!("{table}: row {row} missing"));
    let cell = &row["cells"][c];
    if cell["suppressed"] == true {
        assert!(cell["value"].is_null());
        None
    } else {
        Some(cell["value"].as_i64().unwrap())
    }
}

struct Year {
    app: TestApp,
    coordinator: String,
    coordinator_name: String,
    y: i32,
    personal: Vec<String>,
}

/// The scenario of docs/STATISTICS.md ("worked example"), in the current year Y (screenings,
/// payments and referrals are dated by the server's clock) and the year before.
async fn a_year() -> Year {
    let app = spawn_app().await;
    let db = &app.db;
    let (_, cw_a) = org_and_user(db, "st-a", "caseworker").await;
    let (_, sup_a) = org_and_user(db, "st-a", "supervisor").await;
    let (_, pol_a) = org_and_user(db, "st-a", "police_officer").await;
    let (_, cw_b) = org_and_user(db, "st-b", "caseworker").await;
    let (_, coord) = org_and_user(db, "st-nrm", "national_coordinator").await;
    let cw = user_token(db, &cw_a).await;
    let sup = user_token(db, &sup_a).await;
    let pol = user_token(db, &pol_a).await;
    let cwb = user_token(db, &cw_b).await;
    let coordinator = user_token(db, &coord).await;
    let today = now().date();
    let y = today.year();
    let jan1 = format!("{y}-01-01");
    let today_s = today.to_string();
    let child_birth = format!("{}-06-01", y - 10);

    // P1: adult woman, AZ, two forms, exploited in Türkiye; identified by the police in Y;
    // cooperates; state shelter, allowance paid, medical care; referred to st-b (accepted).
    let p1 = case(
        &app,
        &cw,
        json!({"prs_FirstName": "Aysel", "prs_SecondName": "Birinci", "prs_Birthdate": "1990-01-01",
               "prs_Gender": "Feminine", "prs_Citizenship": ["AZ"],
               "vic_TypeOfExploitation": ["SexualExploitation", "ForcedLabour"]}),
    )
    .await;
    screen(&app, &cw, &p1, true).await;
    ok(
        &app,
        &cw,
        "POST",
        &format!("/cases/{p1}/trafficking-events"),
        json!({"hte_Type": "Exploitation", "hte_Country": "TR"}),
    )
    .await;
    decide(
        &app,
        &pol,
        &p1,
        "ActualVictimOfTrafficking",
        "Police",
        &jan1,
    )
    .await;
    ok(
        &app,
        &cw,
        "PUT",
        &format!("/cases/{p1}/legal"),
        json!({"cooperation": "Yes"}),
    )
    .await;
    let state_shelter = ok(
        &app,
        &sup,
        "POST",
        "/shelters",
        json!({"name": "State shelter", "beds": 10, "state_shelter": true}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ngo_shelter = ok(
        &app,
        &sup,
        "POST",
        "/shelters",
        json!({"name": "NGO shelter", "beds": 10}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    ok(
        &app,
        &cw,
        "POST",
        &format!("/cases/{p1}/shelter-stays"),
        json!({"facility_id": state_shelter, "admitted_on": today_s}),
    )
    .await;
    let pay = ok(
        &app,
        &cw,
        "POST",
        &format!("/cases/{p1}/allowance"),
        json!({"amount_minor": 40000}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    ok(
        &app,
        &sup,
        "POST",
        &format!("/cases/{p1}/allowance/{pay}/status"),
        json!({"status": "Paid"}),
    )
    .await;
    ok(
        &app,
        &cw,
        "POST",
        &format!("/cases/{p1}/services"),
        json!({"service": "Medical", "provider_org": "st-a", "started_on": today_s,
               "outcome": "Ongoing", "cost_minor": 0}),
    )
    .await;
    ok(
        &app,
        &cw,
        "POST",
        &format!("/cases/{p1}/consents"),
        json!({"purpose": "SharingWithOrganisation", "given": true, "recipient_org": "st-b",
               "given_by": "Survivor", "language": "az"}),
    )
    .await;
    let r1 = ok(
        &app,
        &cw,
        "POST",
        &format!("/cases/{p1}/referrals"),
        json!({"to_org": "st-b", "services": ["Medical"],
               "cas_ReasonForOutgoingReferral": "AdditionalServicesRequired"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    ok(
        &app,
        &cwb,
        "POST",
        &format!("/referrals/{r1}/accept"),
        json!({}),
    )
    .await;

    // P2: a boy of 9, AZ and RU citizen, forced begging inside Azerbaijan; identified in Y
    // (decision-making organisation NGO); NGO shelter; psychological help since December of
    // Y-1; referred to st-b (no answer yet).
    let p2 = case(
        &app,
        &cw,
        json!({"prs_FirstName": "Elvin", "prs_SecondName": "Ikinci", "prs_Birthdate": child_birth,
               "prs_Gender": "Masculine", "prs_Citizenship": ["AZ", "RU"],
               "vic_TypeOfExploitation": ["ForcedBegging"]}),
    )
    .await;
    ok(
        &app,
        &cw,
        "POST",
        &format!("/cases/{p2}/trafficking-events"),
        json!({"hte_Type": "Exploitation", "hte_Country": "AZ"}),
    )
    .await;
    decide(&app, &pol, &p2, "ActualVictimOfTrafficking", "NGO", &jan1).await;
    ok(
        &app,
        &cw,
        "POST",
        &format!("/cases/{p2}/shelter-stays"),
        json!({"facility_id": ngo_shelter, "admitted_on": today_s}),
    )
    .await;
    ok(
        &app,
        &cw,
        "POST",
        &format!("/cases/{p2}/services"),
        json!({"service": "PsychologicalCounselling", "provider_org": "st-a",
               "started_on": format!("{}-12-01", y - 1), "outcome": "Ongoing", "cost_minor": 0}),
    )
    .await;
    ok(
        &app,
        &cw,
        "POST",
        &format!("/cases/{p2}/consents"),
        json!({"purpose": "SharingWithOrganisation", "given": true, "recipient_org": "st-b",
               "given_by": "ParentOrGuardian", "language": "az"}),
    )
    .await;
    ok(
        &app,
        &cw,
        "POST",
        &format!("/cases/{p2}/referrals"),
        json!({"to_org": "st-b", "services": ["PsychologicalCounselling"],
               "cas_ReasonForOutgoingReferral": "AdditionalServicesRequired"}),
    )
    .await;

    // P3: identified in Y, then the decision is reversed (not a victim): not counted.
    let p3 = case(
        &app,
        &cw,
        json!({"prs_FirstName": "Leyla", "prs_SecondName": "Ucuncu", "prs_Birthdate": "1985-03-03",
               "prs_Gender": "Feminine", "prs_Citizenship": ["AZ"],
               "vic_TypeOfExploitation": ["ForcedLabour"]}),
    )
    .await;
    screen(&app, &cw, &p3, true).await;
    decide(
        &app,
        &pol,
        &p3,
        "ActualVictimOfTrafficking",
        "Police",
        &jan1,
    )
    .await;
    decide(
        &app,
        &pol,
        &p3,
        "NotAVictimOfTrafficking",
        "Police",
        &today_s,
    )
    .await;

    // P4: one person, two cases (st-a and st-b; same name and birth date). Identified in Y-1
    // through the first case; screened again in Y at st-b (not presumed: already identified);
    // vocational training on both cases in Y (one person).
    let p4a = case(
        &app,
        &cw,
        json!({"prs_FirstName": "Nigar", "prs_SecondName": "Dorduncu", "prs_Birthdate": "1992-02-02",
               "prs_Gender": "Feminine", "prs_Citizenship": ["AZ"],
               "vic_TypeOfExploitation": ["ForcedLabour"]}),
    )
    .await;
    decide(
        &app,
        &pol,
        &p4a,
        "ActualVictimOfTrafficking",
        "Police",
        &format!("{}-06-01", y - 1),
    )
    .await;
    let p4b = case(
        &app,
        &cwb,
        json!({"prs_FirstName": "nigar", "prs_SecondName": "DORDUNCU", "prs_Birthdate": "1992-02-02",
               "prs_Gender": "Feminine", "prs_Citizenship": ["AZ"],
               "vic_TypeOfExploitation": ["ForcedLabour"]}),
    )
    .await;
    screen(&app, &cwb, &p4b, true).await;
    for (token, id, org) in [(&cw, &p4a, "st-a"), (&cwb, &p4b, "st-b")] {
        ok(
            &app,
            token,
            "POST",
            &format!("/cases/{id}/services"),
            json!({"service": "VocationalTraining", "provider_org": org, "started_on": today_s,
                   "outcome": "Ongoing", "cost_minor": 0}),
        )
        .await;
    }

    // P5: a man (no birth date; 25 when trafficked: adult), UZ, forced labour; screened as a
    // possible victim in Y by st-a (an NGO): presumed.
    let p5 = case(
        &app,
        &cw,
        json!({"prs_FirstName": "Bekzod", "prs_SecondName": "Beshinchi",
               "prs_Gender": "Masculine", "prs_Citizenship": ["UZ"], "vic_AgeWhenTrafficked": 25,
               "vic_TypeOfExploitation": ["ForcedLabour"]}),
    )
    .await;
    screen(&app, &cw, &p5, true).await;

    // P6: screened, not a possible victim: counted nowhere.
    let p6 = case(
        &app,
        &cw,
        json!({"prs_FirstName": "Kamran", "prs_SecondName": "Altinci", "prs_Birthdate": "1980-08-08",
               "prs_Gender": "Masculine", "prs_Citizenship": ["AZ"]}),
    )
    .await;
    screen(&app, &cw, &p6, false).await;

    let mut personal = vec![
        "Aysel".to_string(),
        "Birinci".into(),
        "Elvin".into(),
        "Nigar".into(),
        "Bekzod".into(),
        "1990-01-01".into(),
        "1992-02-02".into(),
        child_birth,
        "name_dob".into(),
        "DEC-1".into(),
    ];
    personal.extend([p1, p2, p3, p4a, p4b, p5, p6]);
    Year {
        app,
        coordinator,
        coordinator_name: coord.username,
        y,
        personal,
    }
}

#[tokio::test]
async fn national_report_matches_hand_computed_tables() {
    let s = a_year().await;
    let app = &s.app;
    let y = s.y;
    let (st, r) = api_call(
        app,
        &s.coordinator,
        "GET",
        &format!("/statistics/national?year={y}"),
        Value::Null,
    )
    .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["year"], y);
    assert_eq!(r["variant"], "internal");
    let n = |t: &str, row: &str, col: &str| cell(&r, t, row, col);

    assert_eq!(n("headline", "identified", "persons"), Some(2));
    assert_eq!(n("headline", "presumed", "persons"), Some(1));
    assert_eq!(n("headline", "identification_reversed", "persons"), Some(1));

    assert_eq!(n("by_sex_age", "Feminine", "identified_adult"), Some(1));
    assert_eq!(n("by_sex_age", "Feminine", "identified_child"), Some(0));
    assert_eq!(n("by_sex_age", "Feminine", "presumed_total"), Some(0));
    assert_eq!(n("by_sex_age", "Masculine", "identified_child"), Some(1));
    assert_eq!(n("by_sex_age", "Masculine", "presumed_adult"), Some(1));
    assert_eq!(n("by_sex_age", "total", "identified_child"), Some(1));
    assert_eq!(n("by_sex_age", "total", "identified_adult"), Some(1));
    assert_eq!(n("by_sex_age", "total", "identified_age_unknown"), Some(0));
    assert_eq!(n("by_sex_age", "total", "identified_total"), Some(2));
    assert_eq!(n("by_sex_age", "total", "presumed_total"), Some(1));
    assert_eq!(n("by_sex_age", "not_recorded", "identified_total"), Some(0));

    assert_eq!(n("by_form", "SexualExploitation", "identified"), Some(1));
    assert_eq!(n("by_form", "ForcedLabour", "identified"), Some(1));
    assert_eq!(n("by_form", "ForcedBegging", "identified"), Some(1));
    assert_eq!(n("by_form", "ForcedLabour", "presumed"), Some(1));
    assert_eq!(n("by_form", "persons", "identified"), Some(2));
    assert_eq!(n("by_form", "persons", "presumed"), Some(1));
    assert_eq!(n("by_form", "not_recorded", "identified"), Some(0));

    assert_eq!(n("by_citizenship", "AZ", "identified"), Some(2));
    assert_eq!(n("by_citizenship", "RU", "identified"), Some(1));
    assert_eq!(n("by_citizenship", "UZ", "presumed"), Some(1));
    assert_eq!(n("by_citizenship", "persons", "identified"), Some(2));
    assert_eq!(n("by_citizenship", "persons", "presumed"), Some(1));

    assert_eq!(
        n("domestic_transnational", "domestic", "identified"),
        Some(1)
    );
    assert_eq!(
        n("domestic_transnational", "transnational", "identified"),
        Some(1)
    );
    assert_eq!(
        n("domestic_transnational", "not_recorded", "presumed"),
        Some(1)
    );
    assert_eq!(n("domestic_transnational", "total", "identified"), Some(2));

    assert_eq!(
        n("identified_by_decision_org", "Police", "identified"),
        Some(1)
    );
    assert_eq!(
        n("identified_by_decision_org", "NGO", "identified"),
        Some(1)
    );
    assert_eq!(
        n("identified_by_decision_org", "total", "identified"),
        Some(2)
    );
    assert_eq!(
        n("presumed_by_screening_org_type", "NGO", "presumed"),
        Some(1)
    );
    assert_eq!(
        n("presumed_by_screening_org_type", "total", "presumed"),
        Some(1)
    );

    for (row, want) in [
        ("state_shelter", 1),
        ("ngo_shelter", 1),
        ("allowance_paid", 1),
        ("medical", 1),
        ("psychological", 1),
        ("legal", 0),
        ("vocational_training", 1),
        ("job_placement", 0),
        ("return_or_airport_meeting", 0),
        ("any_assistance", 3),
    ] {
        assert_eq!(
            n("assistance", row, "persons"),
            Some(want),
            "assistance {row}"
        );
    }
    assert_eq!(n("allowance", "allowance_paid", "persons"), Some(1));
    assert_eq!(
        n("allowance", "allowance_paid", "amount_minor"),
        Some(40000)
    );
    assert_eq!(n("referrals", "made", "referrals"), Some(2));
    assert_eq!(n("referrals", "answered", "referrals"), Some(1));
    assert_eq!(n("cooperation", "Yes", "identified"), Some(1));
    assert_eq!(n("cooperation", "not_recorded", "identified"), Some(1));
    assert_eq!(n("cooperation", "total", "identified"), Some(2));
    let comp = r["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "compensation")
        .unwrap();
    assert_eq!(comp["not_recorded"], "no_award_recorded");
    assert!(comp["rows"].as_array().unwrap().is_empty());

    // Trend: Y-1 (P4 identified; P2's psychological help began) and Y.
    let prev = (y - 1).to_string();
    let this = y.to_string();
    assert_eq!(n("trend", &prev, "identified"), Some(1));
    assert_eq!(n("trend", &prev, "presumed"), Some(0));
    assert_eq!(n("trend", &prev, "any_assistance"), Some(1));
    assert_eq!(n("trend", &this, "identified"), Some(2));
    assert_eq!(n("trend", &this, "identified_child"), Some(1));
    assert_eq!(n("trend", &this, "presumed"), Some(1));
    assert_eq!(n("trend", &this, "any_assistance"), Some(3));
    assert_eq!(r["trend"]["rows"].as_array().unwrap().len(), 2);

    // No personal data, case ids or person keys in the answer.
    let text = r.to_string();
    for p in &s.personal {
        assert!(!text.contains(p.as_str()), "the report reveals {p}");
    }

    // Public variant: every count from 1 to k-1 is hidden, zeros stay, the amount next to a
    // hidden count is hidden.
    let (st, p) = api_call(
        app,
        &s.coordinator,
        "GET",
        &format!("/statistics/national?year={y}&variant=public&k=5"),
        Value::Null,
    )
    .await;
    assert_eq!(st, 200, "{p}");
    assert_eq!(p["variant"], "public");
    assert_eq!(p["k"], 5);
    assert_eq!(cell(&p, "headline", "identified", "persons"), None);
    assert_eq!(cell(&p, "assistance", "legal", "persons"), Some(0));
    assert_eq!(
        cell(&p, "allowance", "allowance_paid", "amount_minor"),
        None
    );
    assert_eq!(cell(&p, "trend", &this, "identified"), None);
    for t in p["tables"].as_array().unwrap() {
        for row in t["rows"].as_array().unwrap() {
            for c in row["cells"].as_array().unwrap() {
                if let Some(v) = c["value"].as_i64() {
                    assert!(
                        v == 0 || v >= 5,
                        "{} {}: {v} published",
                        t["id"],
                        row["key"]
                    );
                }
            }
        }
    }
    for bad in [
        "variant=public&k=4",
        "variant=secret",
        "year=abc",
        "year=1800",
        "k=11",
    ] {
        let (st, _) = api_call(
            app,
            &s.coordinator,
            "GET",
            &format!("/statistics/national?{bad}"),
            Value::Null,
        )
        .await;
        assert_eq!(st, 422, "{bad}");
    }

    // Every view is audited with the table and the year (a request refused for its
    // parameters reads nothing and leaves no view row).
    let details: Vec<String> = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE action = 'statistics.national_report' ORDER BY seq",
    )
    .fetch_all(app.db.store.pool())
    .await
    .unwrap();
    assert_eq!(
        details,
        vec![
            format!("table=national year={y} variant=internal k=0 via=json"),
            format!("table=national year={y} variant=public k=5 via=json"),
        ]
    );
    app.db.store.audit_verify().await.unwrap();
}

#[tokio::test]
async fn only_the_national_coordinator_reads_the_national_report() {
    let app = spawn_app().await;
    let db = &app.db;
    for role in [
        "caseworker",
        "supervisor",
        "police_officer",
        "hotline_operator",
        "researcher",
        "auditor",
        "org_admin",
        "system_admin",
    ] {
        let (_, u) = org_and_user(db, "st-x", role).await;
        let t = user_token(db, &u).await;
        for path in [
            "/statistics/national",
            // A refused caller gets 403 before any parameter is looked at.
            "/statistics/national?year=nonsense",
            "/statistics/national/export?format=xlsx",
        ] {
            let (st, body) = api_call(&app, &t, "GET", path, Value::Null).await;
            assert_eq!(st, 403, "{role} {path}: {body}");
        }
    }
    let denied: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'access.denied' AND detail LIKE 'table=national %'",
    )
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert_eq!(denied, 8 * 3);
    let (_, c) = org_and_user(db, "st-nrm", "national_coordinator").await;
    let t = user_token(db, &c).await;
    let (st, body) = api_call(&app, &t, "GET", "/statistics/national", Value::Null).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["year"], now().year());
    // Nothing recorded: every count is zero and the trend is empty.
    assert_eq!(cell(&body, "headline", "identified", "persons"), Some(0));
    assert!(body["trend"]["rows"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn exports_and_cli_give_the_same_report() {
    let s = a_year().await;
    let app = &s.app;
    let y = s.y;
    let client = crate::kit::local_client().build().expect("http client");
    let get = |q: String| {
        let c = client.clone();
        let url = format!("{}/api/v1/statistics/national/export?{q}", app.base_url);
        let t = s.coordinator.clone();
        async move { c.get(url).bearer_auth(t).send().await.unwrap() }
    };
    let r = get(format!("year={y}&format=csv")).await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("national-report-{y}-internal.csv"))
    );
    let csv = r.text().await.unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("year,variant,k,table,unit,row,column,value,note")
    );
    assert!(csv.contains(&format!(
        "{y},internal,,headline,persons,identified,persons,2,"
    )));
    assert!(csv.contains(&format!(
        "{y},internal,,allowance,persons,allowance_paid,amount_minor,40000,"
    )));
    assert!(csv.contains(&format!(
        "{y},internal,,compensation,persons,,,,not_recorded:no_award_recorded"
    )));
    assert!(csv.contains(&format!("{y},internal,,trend,persons,{y},identified,2,")));
    for p in &s.personal {
        assert!(!csv.contains(p.as_str()), "the CSV reveals {p}");
    }

    let r = get(format!("year={y}&variant=public&format=csv")).await;
    let public = r.text().await.unwrap();
    assert!(public.contains(&format!(
        "{y},public,11,headline,persons,identified,persons,x,"
    )));
    assert!(public.contains(&format!(
        "{y},public,11,allowance,persons,allowance_paid,amount_minor,x,"
    )));

    let r = get(format!("year={y}&format=xlsx")).await;
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PK"), "an XLSX file is a ZIP");
    let bad = get(format!("year={y}&format=docx")).await;
    assert_eq!(bad.status(), 422);

    // The CLI, acting as the coordinator: the same numbers, the same JSON as the API.
    let out = dayaq_cli(
        &app.db,
        &[
            "report",
            "national",
            "--as",
            &s.coordinator_name,
            "--year",
            &y.to_string(),
            "--format",
            "json",
        ],
    );
    assert_cli_ok(&out);
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (_, api) = api_call(
        app,
        &s.coordinator,
        "GET",
        &format!("/statistics/national?year={y}"),
        Value::Null,
    )
    .await;
    assert_eq!(cli, api);
    let out = dayaq_cli(
        &app.db,
        &[
            "report",
            "national",
            "--as",
            &s.coordinator_name,
            "--year",
            &y.to_string(),
            "--format",
            "csv",
            "--public",
        ],
    );
    assert!(out.status.success());
    let cli_csv = String::from_utf8(out.stdout).unwrap();
    assert_eq!(cli_csv, public);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.xlsx");
    let out = dayaq_cli(
        &app.db,
        &[
            "report",
            "national",
            "--as",
            &s.coordinator_name,
            "--year",
            &y.to_string(),
            "--format",
            "xlsx",
            "--out",
            file.to_str().unwrap(),
        ],
    );
    assert_cli_ok(&out);
    assert!(std::fs::read(&file).unwrap().starts_with(b"PK"));
    // Too small a k, and a caseworker, are refused.
    let out = dayaq_cli(
        &app.db,
        &[
            "report",
            "national",
            "--as",
            &s.coordinator_name,
            "--year",
            &y.to_string(),
            "--public",
            "--k",
            "3",
        ],
    );
    assert!(!out.status.success());
    let (_, hot) = org_and_user(&app.db, "st-a", "hotline_operator").await;
    let out = dayaq_cli(
        &app.db,
        &[
            "report",
            "national",
            "--as",
            &hot.username,
            "--year",
            &y.to_string(),
        ],
    );
    assert!(!out.status.success());
    // Every export and CLI run is audited with its channel.
    let vias: Vec<String> = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE action = 'statistics.national_report' ORDER BY seq",
    )
    .fetch_all(app.db.store.pool())
    .await
    .unwrap();
    for via in ["via=csv", "via=xlsx", "via=json"] {
        assert!(vias.iter().any(|d| d.ends_with(via)), "{via} in {vias:?}");
    }
}

/// The fill of the first chart series (`dayaq_interchange::charts::SERIES_COLOURS[0]`).
const SERIES_0: &str = "fill=\"#1F4E79\"";

/// The bars (`<rect>`) of the first series in a chart (the legend mark is a polygon).
fn bars0(svg: &str) -> usize {
    svg.lines()
        .filter(|l| l.contains("<rect") && l.contains(SERIES_0))
        .count()
}

/// The `<svg id="{id}" …>…</svg>` element of a page.
fn svg_of<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page
        .find(&format!("<svg id=\"{id}\""))
        .unwrap_or_else(|| panic!("chart {id} missing"));
    let end = page[start..].find("</svg>").expect("svg end") + start;
    &page[start..end]
}

#[tokio::test]
async fn chart_screen_draws_the_charts_beside_the_tables() {
    let s = a_year().await;
    let app = &s.app;
    let y = s.y;
    let (c, _) = web_session(app, &s.coordinator_name, None).await;
    let (st, page) = page_get(app, &c, &format!("/statistics/national?year={y}")).await;
    assert_eq!(st, 200);
    for id in ["chart-trend", "chart-by_sex_age", "chart-by_form"] {
        let svg = svg_of(&page, id);
        assert!(svg.contains("role=\"img\""), "{id}");
        assert!(
            svg.contains(&format!("aria-labelledby=\"{id}-title {id}-desc\"")),
            "{id}"
        );
        assert!(svg.contains(&format!("<title id=\"{id}-title\">")), "{id}");
        assert!(svg.contains(&format!("<desc id=\"{id}-desc\">")), "{id}");
    }
    // The chart sits beside its table, and the page links the PDF.
    assert!(page.contains("<figure class=\"chart-figure\" id=\"fig-by_form\">"));
    let pdf_link = page.find("id=\"stat-pdf\"").expect("PDF link");
    let link = &page[page[..pdf_link].rfind("<a ").unwrap()..pdf_link];
    assert!(
        link.contains("/api/v1/statistics/national/export?year=") && link.contains("format=pdf"),
        "{link}"
    );
    // One bar per published cell of the identified column, none for a suppressed one.
    let report = |variant: &'static str| {
        let token = s.coordinator.clone();
        async move {
            api_call(
                app,
                &token,
                "GET",
                &format!("/statistics/national?year={y}&{variant}"),
                Value::Null,
            )
            .await
            .1
        }
    };
    let internal = report("variant=internal").await;
    let forms = published(&internal, "by_form", "identified", "persons");
    assert!(forms.0 >= 2 && forms.1 == 0, "{forms:?}");
    let by_form = svg_of(&page, "chart-by_form");
    assert_eq!(bars0(by_form), forms.0);
    assert!(!by_form.contains("\nx\n"));
    for p in &s.personal {
        assert!(!page.contains(p.as_str()), "the screen reveals {p}");
    }

    // Public variant: the small counts of this year are suppressed: they get the mark and no
    // bar or point; only the zeros (published) keep theirs.
    let (st, page) = page_get(
        app,
        &c,
        &format!("/statistics/national?year={y}&variant=public&k=11"),
    )
    .await;
    assert_eq!(st, 200);
    let public = report("variant=public&k=11").await;
    let forms = published(&public, "by_form", "identified", "persons");
    assert!(forms.1 >= 2, "{forms:?}");
    let by_form = svg_of(&page, "chart-by_form");
    assert_eq!(bars0(by_form), forms.0, "{by_form}");
    assert!(by_form.matches("\nx\n").count() >= forms.1);
    let sex = published(&public, "by_sex_age", "identified_child", "total");
    let by_sex_age = svg_of(&page, "chart-by_sex_age");
    assert_eq!(bars0(by_sex_age), sex.0);
    let trend_points: usize = ["identified", "presumed", "any_assistance"]
        .iter()
        .map(|col| published(&public, "trend", col, "").0)
        .sum();
    let trend = svg_of(&page, "chart-trend");
    assert_eq!(trend.matches("<circle").count(), trend_points);
    assert!(trend.contains("\nx\n"));
}

/// (published, suppressed) cells of `col` in `table`, leaving out the row `skip`.
fn published(r: &Value, table: &str, col: &str, skip: &str) -> (usize, usize) {
    let t = if table == "trend" {
        &r["trend"]
    } else {
        r["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == table)
            .unwrap()
    };
    let c = t["columns"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["key"] == col)
        .unwrap();
    let mut n = (0, 0);
    for row in t["rows"].as_array().unwrap() {
        if row["key"] == skip {
            continue;
        }
        if row["cells"][c]["suppressed"] == true {
            n.1 += 1;
        } else {
            n.0 += 1;
        }
    }
    n
}

#[tokio::test]
async fn chart_pdf_export_is_in_the_readers_language_and_audited() {
    let s = a_year().await;
    let app = &s.app;
    let y = s.y;
    let coord = app
        .db
        .store
        .user_by_name(&s.coordinator_name)
        .await
        .unwrap();
    app.db.store.set_locale(coord.id, "ru").await.unwrap();
    let client = crate::kit::local_client().build().expect("http client");
    let get = |q: String, token: String| {
        let c = client.clone();
        let url = format!("{}/api/v1/statistics/national/export?{q}", app.base_url);
        async move { c.get(url).bearer_auth(token).send().await.unwrap() }
    };
    let r = get(format!("year={y}&format=pdf"), s.coordinator.clone()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("national-report-{y}-internal.pdf"))
    );
    assert_eq!(r.headers()["cache-control"], "no-store");
    let pdf = r.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let text = String::from_utf8_lossy(&pdf);
    assert!(text.contains("/Lang(ru)"), "the reader's language");
    let r = get(
        format!("year={y}&variant=public&k=11&format=pdf"),
        s.coordinator.clone(),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.unwrap().starts_with(b"%PDF-"));

    // Nobody else gets it, and the refusal is audited.
    for role in ["caseworker", "supervisor", "researcher", "system_admin"] {
        let (_, u) = org_and_user(&app.db, "st-x", role).await;
        let t = user_token(&app.db, &u).await;
        let r = get(format!("year={y}&format=pdf"), t).await;
        assert_eq!(r.status(), 403, "{role}");
    }
    let details: Vec<String> = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE action = 'statistics.national_report' ORDER BY seq",
    )
    .fetch_all(app.db.store.pool())
    .await
    .unwrap();
    assert!(details.contains(&format!(
        "table=national year={y} variant=internal k=0 via=pdf"
    )));
    assert!(details.contains(&format!(
        "table=national year={y} variant=public k=11 via=pdf"
    )));
    let denied: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'access.denied' AND detail LIKE 'table=national %'",
    )
    .fetch_one(app.db.store.pool())
    .await
    .unwrap();
    assert_eq!(denied, 4);

    // The CLI: --lang chooses the language; a PDF needs --out.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.pdf");
    let args = |extra: &[&str]| {
        let mut a = vec![
            "report".to_string(),
            "national".into(),
            "--as".into(),
            s.coordinator_name.clone(),
            "--year".into(),
            y.to_string(),
            "--format".into(),
            "pdf".into(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let run = |a: Vec<String>| {
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        dayaq_cli(&app.db, &refs)
    };
    let out = run(args(&["--lang", "az", "--out", file.to_str().unwrap()]));
    assert_cli_ok(&out);
    let bytes = std::fs::read(&file).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    assert!(String::from_utf8_lossy(&bytes).contains("/Lang(az)"));
    let out = run(args(&[]));
    assert!(
        !out.status.success(),
        "a PDF is not written to the terminal"
    );
}
