//! Long-term follow-up: protocol-checked scheduling, schedule → overdue → lost contact with a
//! controllable clock, reintegration assessments and risk flags, questionnaire import and the
//! per-question summary (both engines via `testkit`).

use crate::testkit::{TestApp, org_and_user, sample_case, spawn_app, test_db};
use dayaq_domain::policy::Actor;
use dayaq_domain::stats::Cell;
use dayaq_storage::StoreError;
use dayaq_storage::cases::Ctx;
use dayaq_storage::followup::{AssessmentInput, LogInput, PlanInput, ProtocolInput};
use dayaq_storage::identification::ConsentInput;
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

fn at(actor: &Actor, now: OffsetDateTime) -> Ctx<'_> {
    Ctx {
        actor,
        source: "127.0.0.1",
        now,
    }
}

fn codes(e: StoreError) -> Vec<(String, String)> {
    match e {
        StoreError::Invalid(v) => v
            .errors
            .into_iter()
            .map(|e| (e.field, e.code.to_string()))
            .collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn consent() -> ConsentInput {
    ConsentInput {
        purpose: "FollowUpContact".into(),
        given: true,
        recipient_org: None,
        recipient_org_type: None,
        given_by: "Survivor".into(),
        language: "az".into(),
    }
}

fn protocol(caller: &str) -> ProtocolInput {
    ProtocolInput {
        channels: vec!["phone".into(), "sms".into()],
        // Tuesdays 10:00–12:00 Baku time.
        windows: vec!["2@10:00-12:00".into()],
        utc_offset_min: None,
        do_not_contact: false,
        caller: Some(caller.into()),
        language: "az".into(),
        safe_numbers: vec!["+994 50 000 00 00".into()],
        never_contact: vec!["her uncle".into()],
        never_places: vec!["the market".into()],
        cover_reason: "bank survey".into(),
        code_word: "lilac".into(),
    }
}

#[tokio::test]
async fn schedule_overdue_lost_contact_with_a_controllable_clock() {
    let db = test_db().await;
    let (_, cw) = org_and_user(&db, "ngo-fu", "caseworker").await;
    let (_, other) = org_and_user(&db, "ngo-fu", "supervisor").await;
    let me = cw.actor();
    let sup = other.actor();
    let s = &db.store;
    let t0 = datetime!(2026-01-10 08:00 UTC);
    let case = s
        .create_case(
            &at(&me, t0),
            &sample_case("Aysel", "M", "1995-01-01", "+994500000001"),
        )
        .await
        .unwrap();

    // No protocol, no consent: nothing can be scheduled.
    s.set_plan(
        &at(&me, t0),
        case.id,
        &PlanInput {
            assistance_end: "2026-01-15".into(),
            months: None,
            max_failed: None,
        },
    )
    .await
    .unwrap();
    let tasks = s.followup_tasks(&at(&me, t0), case.id).await.unwrap();
    let due: Vec<&str> = tasks.iter().map(|t| t.due_on.as_str()).collect();
    assert_eq!(
        due,
        [
            "2026-02-15",
            "2026-04-15",
            "2026-07-15",
            "2027-01-15",
            "2027-07-15",
            "2028-01-15"
        ]
    );
    assert!(tasks.iter().all(|t| t.status == "upcoming"));
    let first = tasks[0].id;
    // Tuesday 2026-02-17 07:00 UTC = 11:00 Baku.
    let inside = datetime!(2026-02-17 07:00 UTC);
    let e = s
        .schedule_contact(&at(&me, t0), case.id, first, "phone", inside)
        .await
        .unwrap_err();
    let c = codes(e);
    assert!(c.contains(&("consent".into(), "no_follow_up_consent".into())));
    assert!(c.contains(&("protocol".into(), "no_protocol".into())));

    s.add_consent(&at(&me, t0), case.id, &consent())
        .await
        .unwrap();
    s.set_protocol(&at(&me, t0), case.id, &protocol(&cw.username))
        .await
        .unwrap();
    let p = s.protocol(&at(&me, t0), case.id).await.unwrap().unwrap();
    assert_eq!(p.code_word, "lilac");
    assert_eq!(p.windows, ["2@10:00-12:00"]);
    // Personal parts are sealed: the code word is not stored in clear text.
    let raw: Vec<u8> = sqlx::query_scalar("SELECT sealed FROM followup_protocols")
        .fetch_one(s.pool())
        .await
        .unwrap();
    assert!(!raw.windows(5).any(|w| w == b"lilac"));

    // Outside the safe window, on a disallowed channel: refused with the reasons.
    let e = s
        .schedule_contact(
            &at(&me, t0),
            case.id,
            first,
            "visit",
            datetime!(2026-02-17 10:00 UTC),
        )
        .await
        .unwrap_err();
    let c = codes(e);
    assert!(c.contains(&("planned_at".into(), "outside_safe_window".into())));
    assert!(c.contains(&("planned_at".into(), "channel_not_allowed".into())));
    let t = s
        .schedule_contact(&at(&me, t0), case.id, first, "phone", inside)
        .await
        .unwrap();
    assert_eq!(t.channel.as_deref(), Some("phone"));

    // Do-not-contact is absolute.
    let mut dnc = protocol(&cw.username);
    dnc.do_not_contact = true;
    s.set_protocol(&at(&me, t0), case.id, &dnc).await.unwrap();
    let c = codes(
        s.schedule_contact(&at(&me, t0), case.id, first, "phone", inside)
            .await
            .unwrap_err(),
    );
    assert!(c.contains(&("planned_at".into(), "do_not_contact".into())));
    s.set_protocol(&at(&me, t0), case.id, &protocol(&cw.username))
        .await
        .unwrap();

    // Due on the day, on the caseworker's home list with today's safe window.
    let day = datetime!(2026-02-17 05:00 UTC);
    let tasks = s.followup_tasks(&at(&me, day), case.id).await.unwrap();
    assert_eq!(tasks[0].status, "due");
    let due = s.followups_due(&at(&me, day)).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].safe_windows_today, ["10:00–12:00"]);
    assert!(s.followups_due(&at(&sup, day)).await.unwrap().is_empty());

    // A week later it is overdue.
    let late = datetime!(2026-02-23 07:00 UTC);
    let tasks = s.followup_tasks(&at(&me, late), case.id).await.unwrap();
    assert_eq!(tasks[0].status, "overdue");

    // A logged attempt outside the protocol needs a reason and is flagged.
    let monday = datetime!(2026-02-23 06:00 UTC);
    let log = |reached: bool, why: Option<&str>, when: OffsetDateTime| LogInput {
        task_id: Some(first),
        channel: "phone".into(),
        at: when
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap(),
        reached,
        justification: why.map(str::to_string),
    };
    let c = codes(
        s.log_contact(&at(&me, late), case.id, &log(false, None, monday))
            .await
            .unwrap_err(),
    );
    assert_eq!(c, [("justification".into(), "required".into())]);
    let flagged = s
        .log_contact(
            &at(&me, late),
            case.id,
            &log(false, Some("she asked to be called on Monday"), monday),
        )
        .await
        .unwrap();
    assert!(flagged.outside_protocol);
    assert_eq!(flagged.breaches, ["outside_safe_window"]);
    // Two more failed attempts inside the window: contact is lost (default 3).
    let tue = datetime!(2026-02-24 07:00 UTC);
    let after = datetime!(2026-02-24 09:00 UTC);
    s.log_contact(&at(&me, after), case.id, &log(false, None, tue))
        .await
        .unwrap();
    assert!(
        !s.plan(&at(&me, after), case.id)
            .await
            .unwrap()
            .unwrap()
            .lost_contact
    );
    s.log_contact(
        &at(&me, after),
        case.id,
        &log(false, None, tue + time::Duration::minutes(30)),
    )
    .await
    .unwrap();
    assert!(
        s.plan(&at(&me, after), case.id)
            .await
            .unwrap()
            .unwrap()
            .lost_contact
    );
    let logged = s.followup_contacts(&at(&me, after), case.id).await.unwrap();
    assert_eq!(logged.len(), 3);
    assert!(
        logged
            .iter()
            .any(|l| l.justification.as_deref() == Some("she asked to be called on Monday"))
    );

    // She is reached: contact restored, the task done.
    let next_tue = datetime!(2026-03-03 07:00 UTC);
    s.log_contact(&at(&me, next_tue), case.id, &log(true, None, next_tue))
        .await
        .unwrap();
    assert!(
        !s.plan(&at(&me, next_tue), case.id)
            .await
            .unwrap()
            .unwrap()
            .lost_contact
    );
    let tasks = s.followup_tasks(&at(&me, next_tue), case.id).await.unwrap();
    assert_eq!(tasks[0].status, "done");

    // On-demand: she asks for job counselling; due today.
    let t = s
        .request_followup(&at(&me, next_tue), case.id, "job_counselling")
        .await
        .unwrap();
    assert_eq!(t.status, "due");
    assert!(
        s.request_followup(&at(&me, next_tue), case.id, "lottery")
            .await
            .is_err()
    );

    // Another organisation sees nothing.
    let (_, stranger) = org_and_user(&db, "other-ngo", "caseworker").await;
    let sa = stranger.actor();
    assert!(s.protocol(&at(&sa, next_tue), case.id).await.is_err());
    db.cleanup().await;
}

fn answers(pairs: &[(&str, &str)]) -> dayaq_domain::followup::Answers {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.split(';').map(str::to_string).collect()))
        .collect()
}

#[tokio::test]
async fn assessments_trajectory_and_risk_flags() {
    let db = test_db().await;
    let (_, cw) = org_and_user(&db, "ngo-ra", "caseworker").await;
    let me = cw.actor();
    let s = &db.store;
    let t0 = datetime!(2026-03-01 08:00 UTC);
    let case = s
        .create_case(
            &at(&me, t0),
            &sample_case("Leyla", "K", "1990-02-02", "+994500000002"),
        )
        .await
        .unwrap();
    let first = AssessmentInput {
        round: "month-1".into(),
        assessed_on: "2026-02-15".into(),
        answers: answers(&[
            ("employment", "none"),
            ("income_covers", "no"),
            ("living_with", "shelter"),
        ]),
        assistance_needed_words: Some("a job near my mother".into()),
    };
    s.add_reintegration_assessment(&at(&me, t0), case.id, &first)
        .await
        .unwrap();
    let mut second = AssessmentInput {
        round: "month-3".into(),
        assessed_on: "2026-04-15".into(),
        answers: answers(&[
            ("employment", "part_time"),
            ("income_covers", "sometimes"),
            ("living_with", "family"),
            ("plans_migrate_abroad", "planning_for_work"),
        ]),
        assistance_needed_words: None,
    };
    s.add_reintegration_assessment(&at(&me, t0), case.id, &second)
        .await
        .unwrap();
    let (traj, flags) = s.reintegration(&at(&me, t0), case.id).await.unwrap();
    let emp = traj.iter().find(|t| t.key == "employment").unwrap();
    assert_eq!(emp.trend.as_str(), "better");
    assert_eq!(emp.answers, [Some("none".into()), Some("part_time".into())]);
    let codes: Vec<&str> = flags.iter().map(|f| f.code).collect();
    assert_eq!(codes, ["plans_abroad_for_work", "income_insufficient"]);
    assert_eq!(
        flags[0].reasons,
        [(
            "plans_migrate_abroad".to_string(),
            "planning_for_work".to_string()
        )]
    );
    // Changing one answer changes the flag.
    second.assessed_on = "2026-04-16".into();
    second
        .answers
        .insert("plans_migrate_abroad".into(), vec!["no".into()]);
    s.add_reintegration_assessment(&at(&me, t0), case.id, &second)
        .await
        .unwrap();
    let (_, flags) = s.reintegration(&at(&me, t0), case.id).await.unwrap();
    let codes: Vec<&str> = flags.iter().map(|f| f.code).collect();
    assert_eq!(codes, ["income_insufficient"]);
    // Her words are sealed and come back only on the case read.
    let all = s
        .reintegration_assessments(&at(&me, t0), case.id)
        .await
        .unwrap();
    assert_eq!(
        all[0].assistance_needed_words.as_deref(),
        Some("a job near my mother")
    );
    // Unknown codes are refused, naming the question.
    let bad = AssessmentInput {
        round: "x".into(),
        assessed_on: "2026-04-16".into(),
        answers: answers(&[("employment", "astronaut")]),
        assistance_needed_words: None,
    };
    let e = s
        .add_reintegration_assessment(&at(&me, t0), case.id, &bad)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Invalid(v) if v.errors[0].field == "employment"));
    db.cleanup().await;
}

#[tokio::test]
async fn imported_round_gives_the_hand_computed_summary() {
    let db = test_db().await;
    let (_, cw) = org_and_user(&db, "ngo-q", "caseworker").await;
    let (_, nc) = org_and_user(&db, "national", "national_coordinator").await;
    let me = cw.actor();
    let s = &db.store;
    let t0 = datetime!(2026-05-01 08:00 UTC);
    let mut numbers = Vec::new();
    for i in 0..7 {
        let c = s
            .create_case(
                &at(&me, t0),
                &sample_case(
                    "Nigar",
                    &format!("Q{i}"),
                    "1992-03-03",
                    &format!("+99450000010{i}"),
                ),
            )
            .await
            .unwrap();
        numbers.push(c.case_number);
    }
    // Fixture (7 survivors, round R1):
    //   employment: none ×5, part_time ×2 ; income_covers: no ×5, yes ×1, (blank ×1)
    //   assistance_needed (multi): job ×6, housing ×3, psychological ×1
    let rows = [
        ("none", "no", "job;housing"),
        ("none", "no", "job;housing"),
        ("none", "no", "job;housing"),
        ("none", "no", "job"),
        ("none", "no", "job"),
        ("part_time", "yes", "job;psychological"),
        ("part_time", "", ""),
    ];
    let mut csv =
        String::from("case_number,round,assessed_on,employment,income_covers,assistance_needed\n");
    for (n, (e, i, a)) in numbers.iter().zip(rows) {
        csv.push_str(&format!("{n},R1,2026-04-20,{e},{i},{a}\n"));
    }
    // One bad row: nothing is imported.
    let bad = format!("{csv}{},R1,2026-04-20,astronaut,no,job\n", numbers[0]);
    let e = s
        .import_questionnaire(&at(&me, t0), bad.as_bytes(), false)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Invalid(v) if v.errors[0].field == "row 9.employment"));
    let s_empty = s
        .questionnaire_summary(&at(&me, t0), Some("R1"))
        .await
        .unwrap();
    assert_eq!(s_empty.assessments, Cell::Count(0));

    let n = s
        .import_questionnaire(&at(&me, t0), csv.as_bytes(), false)
        .await
        .unwrap();
    assert_eq!(n, 7);
    let sum = s
        .questionnaire_summary(&at(&me, t0), Some("R1"))
        .await
        .unwrap();
    assert!(sum.exact);
    let get = |q: &str, a: &str| {
        sum.rows
            .iter()
            .find(|r| r.question == q && r.answer == a)
            .unwrap()
            .count
    };
    assert_eq!(sum.assessments, Cell::Count(7));
    assert_eq!(get("employment", "none"), Cell::Count(5));
    assert_eq!(get("employment", "part_time"), Cell::Count(2));
    assert_eq!(get("employment", "full_time"), Cell::Count(0));
    assert_eq!(get("income_covers", "no"), Cell::Count(5));
    assert_eq!(get("income_covers", "yes"), Cell::Count(1));
    assert_eq!(get("assistance_needed", "job"), Cell::Count(6));
    assert_eq!(get("assistance_needed", "housing"), Cell::Count(3));
    assert_eq!(get("assistance_needed", "psychological"), Cell::Count(1));

    // Without case access: small cells suppressed.
    let nca = nc.actor();
    let sum = s
        .questionnaire_summary(&at(&nca, t0), Some("R1"))
        .await
        .unwrap();
    assert!(!sum.exact);
    let get = |q: &str, a: &str| {
        sum.rows
            .iter()
            .find(|r| r.question == q && r.answer == a)
            .unwrap()
            .count
    };
    assert_eq!(get("employment", "none"), Cell::Count(5));
    assert_eq!(get("employment", "part_time"), Cell::Suppressed("<5"));
    assert_eq!(get("assistance_needed", "housing"), Cell::Suppressed("<5"));
    assert_eq!(get("employment", "full_time"), Cell::Count(0));
    let csv_out = dayaq_storage::followup::summary_csv(&sum).unwrap();
    assert!(csv_out.contains("employment,part_time,<5"));
    db.cleanup().await;
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

async fn call(
    app: &TestApp,
    token: &str,
    method: &str,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let url = format!("{}/api/v1{path}", app.base_url);
    let r = match method {
        "GET" => client().get(url),
        "PUT" => client().put(url).json(&body),
        _ => client().post(url).json(&body),
    }
    .bearer_auth(token)
    .send()
    .await
    .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn followup_api_refuses_contacts_outside_the_protocol() {
    let app = spawn_app().await;
    let (_, user) = org_and_user(&app.db, "ngo-api", "caseworker").await;
    let token = app
        .db
        .store
        .create_token(&user, "t", 1, crate::testkit::now())
        .await
        .unwrap();
    let actor = user.actor();
    let case = app
        .db
        .store
        .create_case(
            &crate::testkit::ctx(&actor),
            &sample_case("Sevinc", "A", "1991-01-01", "+994500000099"),
        )
        .await
        .unwrap();
    let id = case.id;
    app.db
        .store
        .add_consent(&crate::testkit::ctx(&actor), id, &consent())
        .await
        .unwrap();
    let (s, p) = call(&app, &token, "PUT", &format!("/cases/{id}/followup/protocol"), json!({"channels": ["phone"], "windows": ["1@00:00-24:00"], "language": "az", "code_word": "lilac"})).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let (s, p) = call(
        &app,
        &token,
        "GET",
        &format!("/cases/{id}/followup/protocol"),
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(p["code_word"], "lilac");
    let (s, plan) = call(
        &app,
        &token,
        "PUT",
        &format!("/cases/{id}/followup/plan"),
        json!({"assistance_end": "2026-01-01", "months": [1, 2]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{plan}");
    let (s, tasks) = call(
        &app,
        &token,
        "GET",
        &format!("/cases/{id}/followup/tasks"),
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let task = tasks[0]["id"].as_str().unwrap().to_string();
    // A Wednesday: outside the Monday window.
    let (s, e) = call(
        &app,
        &token,
        "POST",
        &format!("/cases/{id}/followup/tasks/{task}/schedule"),
        json!({"channel": "phone", "planned_at": "2030-01-02T08:00:00Z"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!e.to_string().contains("lilac"));
    assert!(e.to_string().contains("outside_safe_window"), "{e}");
    let (s, _) = call(
        &app,
        &token,
        "POST",
        &format!("/cases/{id}/followup/tasks/{task}/schedule"),
        json!({"channel": "phone", "planned_at": "2029-12-31T08:00:00Z"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, a) = call(&app, &token, "POST", &format!("/cases/{id}/followup/assessments"), json!({"round": "R1", "assessed_on": "2026-02-01", "answers": {"family_reconciliation": ["rejected"]}})).await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    let (s, r) = call(
        &app,
        &token,
        "GET",
        &format!("/cases/{id}/followup/reintegration"),
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(r["risk_flags"][0]["code"], "rejected_by_family");
    let (s, _) = call(&app, &token, "GET", "/followups/due", Value::Null).await;
    assert_eq!(s, StatusCode::OK);
    let (s, spec) = call(&app, &token, "GET", "/openapi.json", Value::Null).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        spec["paths"]["/api/v1/cases/{id}/followup/protocol"].is_object()
            || spec["paths"]["/cases/{id}/followup/protocol"].is_object()
    );
    // Another organisation gets 404 on every follow-up route, whatever the body.
    let (_, other) = org_and_user(&app.db, "ngo-api-other", "caseworker").await;
    let other = app
        .db
        .store
        .create_token(&other, "t", 1, crate::testkit::now())
        .await
        .unwrap();
    for (method, path) in [
        ("GET", format!("/cases/{id}/followup/protocol")),
        ("PUT", format!("/cases/{id}/followup/protocol")),
        ("GET", format!("/cases/{id}/followup/plan")),
        ("PUT", format!("/cases/{id}/followup/plan")),
        ("GET", format!("/cases/{id}/followup/tasks")),
        (
            "POST",
            format!("/cases/{id}/followup/tasks/{task}/schedule"),
        ),
        ("POST", format!("/cases/{id}/followup/requests")),
        ("GET", format!("/cases/{id}/followup/contacts")),
        ("POST", format!("/cases/{id}/followup/contacts")),
        ("GET", format!("/cases/{id}/followup/assessments")),
        ("POST", format!("/cases/{id}/followup/assessments")),
        ("GET", format!("/cases/{id}/followup/reintegration")),
    ] {
        let (s, body) = call(
            &app,
            &other,
            method,
            &path,
            json!({"prs_FirstName": "Mallory"}),
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{method} {path}");
        assert!(!body.to_string().contains("lilac"));
    }
    app.db.cleanup().await;
}
