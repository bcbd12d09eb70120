//! The assistance-gap view (issue #15 part 2) end to end: a small set of cases entered through
//! the API (needs, services, plan goals with terms, referrals accepted / declined / completed,
//! follow-up plans and contacts, a directory entry), every number checked against values
//! computed by hand (docs/STATISTICS.md "Gap view" explains the rules); who may read it and
//! which cases each reader sees; field errors; the CSV/XLSX exports and the CLI; the screen in
//! a browser (axe-checked, narrow).

use crate::kit::browser::{Catalogue, run};
use crate::kit::{
    TestApp, api_call, assert_cli_ok, dayaq_cli, now, org_and_user, spawn_app, user_token,
};
use dayaq_domain::followup::add_months;
use serde_json::{Value, json};
use time::{Date, Month};

async fn ok(app: &TestApp, token: &str, method: &str, path: &str, body: Value) -> Value {
    let (s, v) = api_call(app, token, method, path, body).await;
    assert!(s.is_success(), "{method} {path}: {s} {v}");
    v
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// The date `n` months before `d` (day clamped to 28, so that month arithmetic stays exact).
fn months_ago(d: Date, n: i32) -> Date {
    let total = d.year() * 12 + i32::from(u8::from(d.month())) - 1 - n;
    let month = Month::try_from((total.rem_euclid(12) + 1) as u8).unwrap();
    Date::from_calendar_date(total.div_euclid(12), month, d.day().min(28)).unwrap()
}

fn at_noon(d: Date) -> String {
    format!("{d}T12:00:00Z")
}

/// The cell (table, row, column) of a gap body: `Some(n)`, or `None` when suppressed.
fn cell(r: &Value, table: &str, row: &str, col: &str) -> Option<i64> {
    let t = r["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == table)
        .unwrap_or_else(|| panic!("table {table} missing"));
    let c = t["columns"]
        .as_array()
        .unwrap()
        .iter()
        .position(|c| c["key"] == col)
        .unwrap_or_else(|| panic!("{table}: column {col} missing"));
    let Some(row) = t["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == row)
    else {
        return Some(0);
    };
    let cell = &row["cells"][c];
    if cell["suppressed"] == true {
        None
    } else {
        Some(cell["value"].as_i64().unwrap())
    }
}

fn row_keys(r: &Value, table: &str) -> Vec<String> {
    r["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == table)
        .unwrap()["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap().to_string())
        .collect()
}

/// Asserts every listed cell of `table`: (row, [(column, value)]).
fn expect(r: &Value, table: &str, rows: &[(&str, &[(&str, i64)])]) {
    for (row, cols) in rows {
        for (col, v) in *cols {
            assert_eq!(cell(r, table, row, col), Some(*v), "{table} {row} {col}");
        }
    }
}

struct Scenario {
    app: TestApp,
    coordinator: String,
    coordinator_name: String,
    sup_a: String,
    sup_a_name: String,
    sup_b: String,
    cw_b: String,
    researcher: String,
    auditor: String,
    query: String,
    personal: Vec<String>,
}

/// The worked example of docs/STATISTICS.md ("Gap view"), relative to today T.
async fn scenario() -> Scenario {
    let app = spawn_app().await;
    let db = &app.db;
    db.store
        .add_org("gp-b", "Organisation gp-b", "NGO", "Ganja", now())
        .await
        .unwrap();
    let (_, cw_a) = org_and_user(db, "gp-a", "caseworker").await;
    let (_, sup_a) = org_and_user(db, "gp-a", "supervisor").await;
    let (_, pol_a) = org_and_user(db, "gp-a", "police_officer").await;
    let (_, res) = org_and_user(db, "gp-a", "researcher").await;
    let (_, aud) = org_and_user(db, "gp-a", "auditor").await;
    let (_, cw_b) = org_and_user(db, "gp-b", "caseworker").await;
    let (_, sup_b) = org_and_user(db, "gp-b", "supervisor").await;
    let (_, pol_b) = org_and_user(db, "gp-b", "police_officer").await;
    let (_, coord) = org_and_user(db, "gp-nrm", "national_coordinator").await;
    let cw = user_token(db, &cw_a).await;
    let sup = user_token(db, &sup_a).await;
    let pol = user_token(db, &pol_a).await;
    let cwb = user_token(db, &cw_b).await;
    let polb = user_token(db, &pol_b).await;
    let t = now().date();
    let from = months_ago(t, 24);

    let case = |token: String, first: &'static str| {
        let app = &app;
        async move {
            id(&ok(
                app,
                &token,
                "POST",
                "/cases",
                json!({"prs_FirstName": first, "prs_SecondName": "Gapova", "prs_Birthdate": "1991-04-04",
                       "prs_Gender": "Feminine"}),
            )
            .await)
        }
    };
    let decide = |token: String, case: String, on: Date| {
        let app = &app;
        async move {
            ok(
                app,
                &token,
                "POST",
                &format!("/cases/{case}/decisions"),
                json!({"vic_TraffickingStatus": "ActualVictimOfTrafficking",
                       "vic_TraffickingStatusDecisionMakingOrg": "Police",
                       "decided_on": on.to_string(), "reference": "DEC-G"}),
            )
            .await;
        }
    };
    let needs = |token: String, case: String, needs: Value| {
        let app = &app;
        async move {
            ok(
                app,
                &token,
                "POST",
                &format!("/cases/{case}/assessments"),
                json!({ "needs": needs }),
            )
            .await;
        }
    };
    let service = |case: String, body: Value| {
        let app = &app;
        let cw = cw.clone();
        async move {
            ok(app, &cw, "POST", &format!("/cases/{case}/services"), body).await;
        }
    };

    // The directory: gp-a offers vocational training in Baku (EducationSkills is covered there).
    let (s, e) = api_call(
        &app,
        &sup,
        "PUT",
        "/directory/gp-a",
        json!({"service": "VocationalTraining", "region": "Baku"}),
    )
    .await;
    assert!(s.is_success(), "{s} {e}");

    // P1 (gp-a, Baku): identified 10 months ago. Needs: housing (high), employment (medium),
    // physical health (low), legal (none = no need). Medical care in month 1; a job search
    // (service "Other" for a plan action of domain EmploymentIncome) from month 7; no housing.
    let p1 = case(cw.clone(), "Aysel").await;
    let r1 = months_ago(t, 10);
    decide(pol.clone(), p1.clone(), r1).await;
    needs(
        cw.clone(),
        p1.clone(),
        json!([{"domain": "Housing", "severity": "High"},
               {"domain": "EmploymentIncome", "severity": "Medium"},
               {"domain": "PhysicalHealth", "severity": "Low"},
               {"domain": "Legal", "severity": "None"}]),
    )
    .await;
    service(
        p1.clone(),
        json!({"service": "Medical", "provider_org": "gp-a",
               "started_on": (r1 + time::Duration::days(10)).to_string(),
               "ended_on": (r1 + time::Duration::days(40)).to_string(),
               "outcome": "Ongoing", "cost_minor": 0}),
    )
    .await;
    let plan = id(&ok(
        &app,
        &cw,
        "POST",
        &format!("/cases/{p1}/plans"),
        json!({"spl_Type": "Livelihood", "spl_Objectives": "independent life"}),
    )
    .await);
    let goal =
        |term: &'static str, domain: &'static str, status: &'static str, svc: &'static str| {
            let app = &app;
            let cw = cw.clone();
            let p1 = p1.clone();
            let plan = plan.clone();
            async move {
                let g = id(&ok(
                    app,
                    &cw,
                    "POST",
                    &format!("/cases/{p1}/plans/{plan}/goals"),
                    json!({"term": term, "domain": domain, "description": "a goal"}),
                )
                .await);
                id(&ok(
                    app,
                    &cw,
                    "POST",
                    &format!("/cases/{p1}/plans/{plan}/actions"),
                    json!({"goal_id": g, "domain": domain, "service": svc, "status": status}),
                )
                .await)
            }
        };
    goal("ShortTerm", "PhysicalHealth", "Done", "Medical").await;
    let job_action = goal("LongTerm", "EmploymentIncome", "InProgress", "JobPlacement").await;
    goal("LongTerm", "Housing", "Cancelled", "Housing").await;
    service(
        p1.clone(),
        json!({"service": "Other", "provider_org": "gp-a",
               "started_on": add_months(r1, 7).to_string(),
               "outcome": "Ongoing", "cost_minor": 0, "plan_action_id": job_action}),
    )
    .await;
    ok(
        &app,
        &cw,
        "POST",
        &format!("/cases/{p1}/consents"),
        json!({"purpose": "SharingWithOrganisation", "given": true, "recipient_org": "gp-b",
               "given_by": "Survivor", "language": "az"}),
    )
    .await;
    let refer = |services: Value| {
        let app = &app;
        let cw = cw.clone();
        let p1 = p1.clone();
        async move {
            id(&ok(
                app,
                &cw,
                "POST",
                &format!("/cases/{p1}/referrals"),
                json!({"to_org": "gp-b", "services": services,
                       "cas_ReasonForOutgoingReferral": "AdditionalServicesRequired"}),
            )
            .await)
        }
    };
    let housing = refer(json!(["Housing"])).await;
    ok(
        &app,
        &cwb,
        "POST",
        &format!("/referrals/{housing}/decline"),
        json!({"decline_reason": "no_capacity"}),
    )
    .await;
    let job = refer(json!(["JobPlacement", "VocationalTraining"])).await;
    ok(
        &app,
        &cwb,
        "POST",
        &format!("/referrals/{job}/accept"),
        json!({}),
    )
    .await;
    ok(
        &app,
        &cwb,
        "POST",
        &format!("/referrals/{job}/complete"),
        json!({}),
    )
    .await;
    // A referral for medical care: not one the table follows.
    refer(json!(["Medical"])).await;
    let e1 = months_ago(t, 7);
    ok(
        &app,
        &cw,
        "PUT",
        &format!("/cases/{p1}/followup/plan"),
        json!({"assistance_end": e1.to_string(), "months": [6, 12, 24]}),
    )
    .await;
    let contact = |case: String, on: Date, reached: bool| {
        let app = &app;
        let cw = cw.clone();
        async move {
            ok(
                app,
                &cw,
                "POST",
                &format!("/cases/{case}/followup/contacts"),
                json!({"channel": "phone", "at": at_noon(on), "reached": reached,
                       "justification": "no protocol recorded yet"}),
            )
            .await;
        }
    };
    contact(p1.clone(), add_months(e1, 6), true).await;

    // P2 (gp-a, Baku): identified 2 months ago; needs housing and mental health; counselling
    // from day 5; the long term has not begun.
    let p2 = case(cw.clone(), "Leyla").await;
    let r2 = months_ago(t, 2);
    decide(pol.clone(), p2.clone(), r2).await;
    needs(
        cw.clone(),
        p2.clone(),
        json!([{"domain": "Housing", "severity": "Medium"},
               {"domain": "MentalHealth", "severity": "High"}]),
    )
    .await;
    service(
        p2.clone(),
        json!({"service": "PsychologicalCounselling", "provider_org": "gp-a",
               "started_on": (r2 + time::Duration::days(5)).to_string(),
               "outcome": "Ongoing", "cost_minor": 0}),
    )
    .await;

    // P3 (gp-a, Baku): not identified, screened possible victim today; needs education
    // (a provider exists in Baku); follow-up: reached at 6 months, then three failed attempts
    // (contact lost; not reached at 12 months).
    let p3 = case(cw.clone(), "Nigar").await;
    ok(
        &app,
        &cw,
        "POST",
        &format!("/cases/{p3}/screenings"),
        json!({"act": true, "means": true, "purpose": true}),
    )
    .await;
    needs(
        cw.clone(),
        p3.clone(),
        json!([{"domain": "EducationSkills", "severity": "High"}]),
    )
    .await;
    let e3 = months_ago(t, 13);
    ok(
        &app,
        &cw,
        "PUT",
        &format!("/cases/{p3}/followup/plan"),
        json!({"assistance_end": e3.to_string(), "months": [6, 12, 24]}),
    )
    .await;
    contact(p3.clone(), add_months(e3, 6), true).await;
    for d in [3, 2, 1] {
        contact(p3.clone(), t - time::Duration::days(d), false).await;
    }

    // P4 (gp-b, Ganja): identified a year ago; needs housing; nothing delivered; no provider.
    let p4 = case(cwb.clone(), "Sevda").await;
    decide(polb.clone(), p4.clone(), months_ago(t, 12)).await;
    needs(
        cwb.clone(),
        p4.clone(),
        json!([{"domain": "Housing", "severity": "High"}]),
    )
    .await;

    // P5 (gp-a): identified three years ago: outside the period.
    let p5 = case(cw.clone(), "Gunel").await;
    decide(pol.clone(), p5.clone(), months_ago(t, 36)).await;
    needs(
        cw.clone(),
        p5.clone(),
        json!([{"domain": "Housing", "severity": "High"}]),
    )
    .await;

    Scenario {
        coordinator: user_token(db, &coord).await,
        coordinator_name: coord.username.clone(),
        sup_a: sup,
        sup_a_name: sup_a.username.clone(),
        sup_b: user_token(db, &sup_b).await,
        cw_b: cwb,
        researcher: user_token(db, &res).await,
        auditor: user_token(db, &aud).await,
        query: format!("from={from}&to={t}"),
        personal: vec![
            "Aysel".into(),
            "Gapova".into(),
            "1991-04-04".into(),
            p1,
            p2,
            p3,
            p4,
            p5,
        ],
        app,
    }
}

#[tokio::test]
async fn gaps_match_hand_computed_tables() {
    let s = scenario().await;
    let app = &s.app;
    let (st, r) = api_call(
        app,
        &s.coordinator,
        "GET",
        &format!("/statistics/gaps?{}", s.query),
        Value::Null,
    )
    .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["scope"], "national");
    assert_eq!(r["variant"], "internal");
    expect(&r, "cohort", &[("cases", &[("cases", 4)])]);
    expect(
        &r,
        "needs_by_domain",
        &[
            (
                "PhysicalHealth",
                &[
                    ("identified", 1),
                    ("delivered", 1),
                    ("open", 0),
                    ("short_term_delivered", 1),
                    ("long_term_reached", 1),
                    ("long_term_delivered", 0),
                    ("long_term_open", 1),
                ],
            ),
            (
                "Housing",
                &[
                    ("identified", 3),
                    ("delivered", 0),
                    ("open", 3),
                    ("short_term_delivered", 0),
                    ("long_term_reached", 2),
                    ("long_term_delivered", 0),
                    ("long_term_open", 2),
                ],
            ),
            (
                "EmploymentIncome",
                &[
                    ("identified", 1),
                    ("delivered", 1),
                    ("open", 0),
                    ("short_term_delivered", 0),
                    ("long_term_reached", 1),
                    ("long_term_delivered", 1),
                    ("long_term_open", 0),
                ],
            ),
            (
                "MentalHealth",
                &[
                    ("identified", 1),
                    ("delivered", 1),
                    ("short_term_delivered", 1),
                    ("long_term_reached", 0),
                ],
            ),
            (
                "EducationSkills",
                &[("identified", 1), ("delivered", 0), ("open", 1)],
            ),
            ("Legal", &[("identified", 0)]),
            (
                "total",
                &[
                    ("identified", 7),
                    ("delivered", 3),
                    ("open", 4),
                    ("short_term_delivered", 2),
                    ("long_term_reached", 4),
                    ("long_term_delivered", 1),
                    ("long_term_open", 3),
                ],
            ),
        ],
    );
    expect(
        &r,
        "plan_goals",
        &[
            (
                "ShortTerm",
                &[("done", 1), ("open", 0), ("cancelled", 0), ("total", 1)],
            ),
            (
                "LongTerm",
                &[("done", 0), ("open", 1), ("cancelled", 1), ("total", 2)],
            ),
            (
                "total",
                &[("done", 1), ("open", 1), ("cancelled", 1), ("total", 3)],
            ),
        ],
    );
    expect(
        &r,
        "referrals",
        &[
            (
                "jobs",
                &[
                    ("made", 1),
                    ("accepted", 1),
                    ("declined", 0),
                    ("completed", 1),
                    ("pending", 0),
                ],
            ),
            (
                "housing",
                &[
                    ("made", 1),
                    ("accepted", 0),
                    ("declined", 1),
                    ("completed", 0),
                ],
            ),
            (
                "training",
                &[("made", 1), ("accepted", 1), ("completed", 1)],
            ),
            (
                "total",
                &[
                    ("made", 2),
                    ("accepted", 1),
                    ("declined", 1),
                    ("completed", 1),
                    ("pending", 0),
                ],
            ),
        ],
    );
    expect(
        &r,
        "decline_reasons",
        &[
            ("no_capacity", &[("declined", 1)]),
            ("other", &[("declined", 0)]),
            ("total", &[("declined", 1)]),
        ],
    );
    expect(
        &r,
        "followup",
        &[
            ("m6", &[("due", 2), ("reached", 2), ("not_reached", 0)]),
            ("m12", &[("due", 1), ("reached", 0), ("not_reached", 1)]),
            ("m24", &[("due", 0), ("reached", 0)]),
        ],
    );
    expect(
        &r,
        "contact",
        &[
            ("with_followup_plan", &[("cases", 2)]),
            ("lost_contact", &[("cases", 1)]),
        ],
    );
    assert_eq!(
        row_keys(&r, "regions_without_provider"),
        vec!["Baku/Housing", "Ganja/Housing"]
    );
    expect(
        &r,
        "regions_without_provider",
        &[
            ("Baku/Housing", &[("open_needs", 2)]),
            ("Ganja/Housing", &[("open_needs", 1)]),
        ],
    );
    let text = r.to_string();
    for p in &s.personal {
        assert!(!text.contains(p.as_str()), "the view reveals {p}");
    }

    // One region: only Ganja's case.
    let (st, g) = api_call(
        app,
        &s.coordinator,
        "GET",
        &format!("/statistics/gaps?{}&region=Ganja", s.query),
        Value::Null,
    )
    .await;
    assert_eq!(st, 200, "{g}");
    expect(&g, "cohort", &[("cases", &[("cases", 1)])]);
    expect(
        &g,
        "needs_by_domain",
        &[("total", &[("identified", 1), ("open", 1)])],
    );

    // The public variant: every non-zero count below k is hidden, zeros stay.
    let (_, p) = api_call(
        app,
        &s.coordinator,
        "GET",
        &format!("/statistics/gaps?{}&variant=public&k=5", s.query),
        Value::Null,
    )
    .await;
    assert_eq!(p["variant"], "public");
    assert_eq!(cell(&p, "needs_by_domain", "Housing", "identified"), None);
    assert_eq!(cell(&p, "needs_by_domain", "total", "identified"), Some(7));
    assert_eq!(cell(&p, "needs_by_domain", "Housing", "delivered"), Some(0));
    assert_eq!(cell(&p, "cohort", "cases", "cases"), None);

    // Every view is audited (scope, period, variant, channel; the region only as set/all).
    let details: Vec<String> = sqlx::query_scalar(
        "SELECT detail FROM audit_log WHERE action = 'statistics.gap_report' ORDER BY seq",
    )
    .fetch_all(app.db.store.pool())
    .await
    .unwrap();
    assert_eq!(details.len(), 3, "{details:?}");
    assert!(details[0].starts_with("table=gaps scope=national from="));
    assert!(details[1].contains("region=set"));
    assert!(details[2].ends_with("variant=public k=5 via=json"));
    app.db.store.audit_verify().await.unwrap();
}

#[tokio::test]
async fn gaps_are_scoped_and_refused_by_role() {
    let s = scenario().await;
    let app = &s.app;
    let q = format!("/statistics/gaps?{}", s.query);
    // The supervisor of gp-a sees its own caseload: P1, P2, P3.
    let (st, a) = api_call(app, &s.sup_a, "GET", &q, Value::Null).await;
    assert_eq!(st, 200, "{a}");
    assert_eq!(a["scope"], "organisation");
    expect(&a, "cohort", &[("cases", &[("cases", 3)])]);
    expect(
        &a,
        "needs_by_domain",
        &[("Housing", &[("identified", 2), ("open", 2)])],
    );
    assert_eq!(
        row_keys(&a, "regions_without_provider"),
        vec!["Baku/Housing"]
    );
    // The supervisor of gp-b: only P4.
    let (st, b) = api_call(app, &s.sup_b, "GET", &q, Value::Null).await;
    assert_eq!(st, 200, "{b}");
    expect(&b, "cohort", &[("cases", &[("cases", 1)])]);
    expect(&b, "referrals", &[("total", &[("made", 0)])]);
    // A caseworker of another organisation, a researcher and an auditor are refused (before
    // the parameters are read), and each refusal is audited.
    for t in [&s.cw_b, &s.researcher, &s.auditor] {
        for path in [
            q.clone(),
            "/statistics/gaps?from=nonsense".to_string(),
            format!("/statistics/gaps/export?{}&format=xlsx", s.query),
        ] {
            let (st, body) = api_call(app, t, "GET", &path, Value::Null).await;
            assert_eq!(st, 403, "{path}: {body}");
        }
    }
    let denied: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'access.denied' AND detail LIKE 'table=gaps %'",
    )
    .fetch_one(app.db.store.pool())
    .await
    .unwrap();
    assert_eq!(denied, 9);
    // Bad input names its field and changes nothing.
    for (query, field) in [
        ("from=2025-13-01", "from"),
        ("from=2025-06-01&to=2025-01-01", "to"),
        ("region=Atlantis", "region"),
        ("variant=public&k=3", "k"),
        ("variant=open", "variant"),
    ] {
        let (st, e) = api_call(
            app,
            &s.coordinator,
            "GET",
            &format!("/statistics/gaps?{query}"),
            Value::Null,
        )
        .await;
        assert_eq!(st, 422, "{query}: {e}");
        assert_eq!(e["error"]["field"], field, "{query}: {e}");
    }
    let views: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'statistics.gap_report'")
            .fetch_one(app.db.store.pool())
            .await
            .unwrap();
    assert_eq!(views, 2, "refused input is not a view");
}

#[tokio::test]
async fn gap_exports_and_cli_agree_with_the_api() {
    let s = scenario().await;
    let app = &s.app;
    let client = crate::kit::local_client().build().expect("http client");
    let url = format!(
        "{}/api/v1/statistics/gaps/export?{}&format=csv",
        app.base_url, s.query
    );
    let r = client
        .get(&url)
        .bearer_auth(&s.coordinator)
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
    let csv = r.text().await.unwrap();
    assert!(
        csv.starts_with("from,to,as_of,scope,region,variant,k,table,unit,row,column,value\r\n")
    );
    assert!(
        csv.contains(",national,,internal,,needs_by_domain,needs,Housing,long_term_open,2\r\n")
    );
    assert!(csv.contains(",regions_without_provider,needs,Ganja/Housing,open_needs,1\r\n"));
    for p in &s.personal {
        assert!(!csv.contains(p.as_str()), "the CSV reveals {p}");
    }
    let x = client
        .get(url.replace("format=csv", "format=xlsx"))
        .bearer_auth(&s.coordinator)
        .send()
        .await
        .unwrap();
    assert_eq!(x.status(), 200);
    assert!(x.bytes().await.unwrap().starts_with(b"PK"));

    // The CLI gives the API's JSON, as the supervisor sees it too.
    let (from, to) = s.query.split_once('&').unwrap();
    let (from, to) = (&from[5..], &to[3..]);
    for (name, token) in [
        (&s.coordinator_name, &s.coordinator),
        (&s.sup_a_name, &s.sup_a),
    ] {
        let out = dayaq_cli(
            &app.db,
            &[
                "report", "gaps", "--as", name, "--from", from, "--to", to, "--format", "json",
            ],
        );
        assert_cli_ok(&out);
        let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
        let (_, api) = api_call(
            app,
            token,
            "GET",
            &format!("/statistics/gaps?{}", s.query),
            Value::Null,
        )
        .await;
        assert_eq!(cli, api);
    }
    let out = dayaq_cli(
        &app.db,
        &[
            "report",
            "gaps",
            "--as",
            &s.coordinator_name,
            "--from",
            from,
            "--to",
            to,
            "--format",
            "csv",
        ],
    );
    assert_cli_ok(&out);
    let cli_csv = String::from_utf8(out.stdout).unwrap();
    assert_eq!(cli_csv, csv);
    // Refused: a bad date, an unknown region, a hotline operator.
    for args in [
        vec!["--from", "2025-02-30", "--to", to],
        vec!["--from", from, "--to", to, "--region", "Atlantis"],
    ] {
        let mut all = vec!["report", "gaps", "--as", s.coordinator_name.as_str()];
        all.extend(args.iter().copied());
        let out = dayaq_cli(&app.db, &all);
        assert!(!out.status.success());
    }
    let (_, hot) = org_and_user(&app.db, "gp-b", "hotline_operator").await;
    let out = dayaq_cli(
        &app.db,
        &[
            "report",
            "gaps",
            "--as",
            &hot.username,
            "--from",
            from,
            "--to",
            to,
        ],
    );
    assert!(!out.status.success());
}

/// The screen in English: the supervisor reaches it from the home page, sees accessible
/// tables, a bad date is refused beside its field with the input kept; axe-clean, narrow.
#[tokio::test]
async fn supervisor_reads_the_gap_view_in_a_browser() {
    run("supervisor_reads_the_gap_view", |b, app| async move {
        let t = Catalogue::load("en");
        let (_, sup) = org_and_user(&app.db, "gp-a", "supervisor").await;
        app.db.store.set_locale(sup.id, "en").await.unwrap();
        let secret: &[u8; 20] = b"dayaq-e2e-gaps-key-1";
        app.db.store.totp_set_secret(&sup, secret).await.unwrap();
        b.sign_in(&sup.username, Some(secret)).await;
        b.click_to("#home-gap-view", "gap-view").await;
        assert_eq!(b.path().await, "/statistics/gaps");
        assert_eq!(b.text("h1").await, t.get("gap-title"));
        assert_eq!(b.text("#gap-scope").await, t.get("gap-scope-organisation"));
        assert_eq!(b.count("table > caption").await, 8);
        assert_eq!(
            b.text("#gt-needs_by_domain caption").await,
            t.get("gap-t-needs-by-domain")
        );
        assert_eq!(b.count("#gt-needs_by_domain th[scope=\"col\"]").await, 7);
        assert_eq!(b.count("#gt-needs_by_domain th[scope=\"row\"]").await, 10);
        b.narrow("gap-view").await;

        b.fill("#gap-from", "2025-02-30").await;
        b.click_to("#gap-submit", "gap-view-bad-date").await;
        assert_eq!(b.text("#gap-from-error").await, t.get("gap-err-date"));
        let kept = b
            .find("#gap-from")
            .await
            .prop("value")
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
        assert_eq!(kept, "2025-02-30");
        assert_eq!(b.count("table").await, 0);
        b.narrow("gap-view-bad-date").await;
    })
    .await;
}

/// The decline screen offers the one list of decline-reason codes (`DeclineReason::ALL`) as a
/// select; an empty choice is refused and changes nothing; the chosen code is stored as the
/// reason and counted by the gap view under its own row.
#[tokio::test]
async fn gap_decline_screen_offers_the_reason_codes_and_the_gap_view_counts_them() {
    use crate::kit::{form_post, page_get, web_session};
    use dayaq_domain::referral::DeclineReason;
    let app = spawn_app().await;
    let db = &app.db;
    db.store
        .add_org("gp-b", "Organisation gp-b", "NGO", "Ganja", now())
        .await
        .unwrap();
    let (_, cw_a) = org_and_user(db, "gp-a", "caseworker").await;
    let (_, cw_b) = org_and_user(db, "gp-b", "caseworker").await;
    let (_, coord) = org_and_user(db, "gp-nrm", "national_coordinator").await;
    let cw = user_token(db, &cw_a).await;
    let p = id(&ok(
        &app,
        &cw,
        "POST",
        "/cases",
        json!({"prs_FirstName": "Aysel", "prs_SecondName": "Gapova", "prs_Birthdate": "1991-04-04",
               "prs_Gender": "Feminine"}),
    )
    .await);
    // No decision: the case's start is the day it was opened (today), in the period.
    let t = now().date();
    ok(
        &app,
        &cw,
        "POST",
        &format!("/cases/{p}/consents"),
        json!({"purpose": "SharingWithOrganisation", "given": true, "recipient_org": "gp-b",
               "given_by": "Survivor", "language": "az"}),
    )
    .await;
    let rid = id(&ok(
        &app,
        &cw,
        "POST",
        &format!("/cases/{p}/referrals"),
        json!({"to_org": "gp-b", "services": ["Housing"],
               "cas_ReasonForOutgoingReferral": "AdditionalServicesRequired"}),
    )
    .await);

    let (c, csrf) = web_session(&app, &cw_b.username, None).await;
    let (st, page) = page_get(&app, &c, "/referrals").await;
    assert_eq!(st, 200);
    let sel = &page[page
        .find(&format!(
            "<select id=\"dr-{rid}\" name=\"decline_reason\" required>"
        ))
        .expect("the decline reason is a select")..];
    let sel = &sel[..sel.find("</select>").unwrap()];
    for r in DeclineReason::ALL {
        assert!(
            sel.contains(&format!("<option value=\"{}\">", r.code())),
            "{sel}"
        );
    }
    assert_eq!(sel.matches("<option").count(), DeclineReason::ALL.len() + 1);

    // No reason chosen: refused, the referral stays pending.
    let (st, body) = form_post(
        &app,
        &c,
        &format!("/referrals/{rid}/decline"),
        &[("csrf", &csrf), ("decline_reason", "")],
    )
    .await;
    assert_eq!(st, 422, "{body}");
    let (st, page) = page_get(&app, &c, "/referrals").await;
    assert_eq!(st, 200);
    assert!(page.contains(&format!("id=\"dr-{rid}\"")), "still pending");

    let (st, _) = form_post(
        &app,
        &c,
        &format!("/referrals/{rid}/decline"),
        &[("csrf", &csrf), ("decline_reason", "survivor_declined")],
    )
    .await;
    assert_eq!(st, 303);

    let coordinator = user_token(db, &coord).await;
    let (st, r) = api_call(
        &app,
        &coordinator,
        "GET",
        &format!("/statistics/gaps?from={}&to={t}", months_ago(t, 1)),
        Value::Null,
    )
    .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(
        row_keys(&r, "decline_reasons"),
        DeclineReason::ALL
            .iter()
            .map(|r| r.code().to_string())
            .chain(["total".to_string()])
            .collect::<Vec<_>>()
    );
    expect(
        &r,
        "decline_reasons",
        &[
            ("no_capacity", &[("declined", 0)]),
            ("survivor_declined", &[("declined", 1)]),
            ("other", &[("declined", 0)]),
            ("total", &[("declined", 1)]),
        ],
    );
}
