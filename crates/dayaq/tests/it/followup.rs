//! Long-term follow-up: protocol-checked scheduling, schedule → overdue → lost contact with a
//! controllable clock, reintegration assessments and risk flags, questionnaire import and the
//! per-question summary (both engines via `kit::db`).
//!
//! Why this file is over 800 lines: nine scenario tests of one area, each a survivor's follow-up
//! told from start to end on its own data (protocol, schedule, contacts, assessments, file
//! import); one file keeps the area's tests under one filter (`-E 'test(/followup/)'`).

use crate::kit::{
    api_call, api_client, bearer_get, csrf_field, db_with_user, fetch_text, org_and_user,
    sample_case, second_factor, sign_in, spawn_app, submit, submit_login, user_token, web_client,
};
use dayaq_domain::policy::Actor;
use dayaq_domain::statistics::SUPPRESSED_MARK;
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
    let (db, cw) = db_with_user("ngo-fu", "caseworker").await;
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
    let (db, cw) = db_with_user("ngo-ra", "caseworker").await;
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
    let (db, cw) = db_with_user("ngo-q", "caseworker").await;
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
    let exact_sum = sum.clone();
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
    // Complementary suppression: with 7 assessments, a published 5 would tell the hidden 2.
    assert_eq!(get("employment", "none"), Cell::Suppressed(SUPPRESSED_MARK));
    assert_eq!(
        get("employment", "part_time"),
        Cell::Suppressed(SUPPRESSED_MARK)
    );
    assert_eq!(
        get("assistance_needed", "housing"),
        Cell::Suppressed(SUPPRESSED_MARK)
    );
    assert_eq!(get("employment", "full_time"), Cell::Count(0));
    let csv_out = dayaq_storage::followup::summary_csv(&sum).unwrap();
    assert!(csv_out.contains("employment,part_time,x"));
    crate::statistics_sdc::assert_summary_protected(&exact_sum, &sum);
    db.cleanup().await;
}

#[tokio::test]
async fn followup_api_refuses_contacts_outside_the_protocol() {
    let app = spawn_app().await;
    let (_, user) = org_and_user(&app.db, "ngo-api", "caseworker").await;
    let token = user_token(&app.db, &user).await;
    let actor = user.actor();
    let case = app
        .db
        .store
        .create_case(
            &crate::kit::ctx(&actor),
            &sample_case("Sevinc", "A", "1991-01-01", "+994500000099"),
        )
        .await
        .unwrap();
    let id = case.id;
    app.db
        .store
        .add_consent(&crate::kit::ctx(&actor), id, &consent())
        .await
        .unwrap();
    let (s, p) = api_call(&app, &token, "PUT", &format!("/cases/{id}/followup/protocol"), json!({"channels": ["phone"], "windows": ["1@00:00-24:00"], "language": "az", "code_word": "lilac"})).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    let (s, p) = api_call(
        &app,
        &token,
        "GET",
        &format!("/cases/{id}/followup/protocol"),
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(p["code_word"], "lilac");
    let (s, plan) = api_call(
        &app,
        &token,
        "PUT",
        &format!("/cases/{id}/followup/plan"),
        json!({"assistance_end": "2026-01-01", "months": [1, 2]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{plan}");
    let (s, tasks) = api_call(
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
    let (s, e) = api_call(
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
    let (s, _) = api_call(
        &app,
        &token,
        "POST",
        &format!("/cases/{id}/followup/tasks/{task}/schedule"),
        json!({"channel": "phone", "planned_at": "2029-12-31T08:00:00Z"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, a) = api_call(&app, &token, "POST", &format!("/cases/{id}/followup/assessments"), json!({"round": "R1", "assessed_on": "2026-02-01", "answers": {"family_reconciliation": ["rejected"]}})).await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    let (s, r) = api_call(
        &app,
        &token,
        "GET",
        &format!("/cases/{id}/followup/reintegration"),
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(r["risk_flags"][0]["code"], "rejected_by_family");
    let (s, _) = api_call(&app, &token, "GET", "/followups/due", Value::Null).await;
    assert_eq!(s, StatusCode::OK);
    let (s, spec) = api_call(&app, &token, "GET", "/openapi.json", Value::Null).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        spec["paths"]["/api/v1/cases/{id}/followup/protocol"].is_object()
            || spec["paths"]["/cases/{id}/followup/protocol"].is_object()
    );
    // Another organisation gets 404 on every follow-up route, whatever the body.
    let (_, other) = org_and_user(&app.db, "ngo-api-other", "caseworker").await;
    let other = user_token(&app.db, &other).await;
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
        let (s, body) = api_call(
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

// ---------------------------------------------------------------------------------------------
// Organisation default schedule, questionnaire export, goals from risk flags, entry form.

fn months_due(tasks: &[dayaq_storage::followup::Task]) -> Vec<String> {
    tasks
        .iter()
        .filter(|t| t.status != "cancelled")
        .map(|t| t.due_on.clone())
        .collect()
}

async fn audit_details(db: &crate::kit::TestDb, action: &str) -> Vec<(String, String)> {
    sqlx::query_as("SELECT outcome, detail FROM audit_log WHERE action = $1 ORDER BY seq")
        .bind(action)
        .fetch_all(db.store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn org_default_schedule_applies_to_new_plans_unless_the_case_overrides() {
    let (db, cw) = db_with_user("ngo-os", "caseworker").await;
    let (_, sup) = org_and_user(&db, "ngo-os", "supervisor").await;
    let (_, other) = org_and_user(&db, "ngo-os-other", "caseworker").await;
    let me = cw.actor();
    let boss = sup.actor();
    let them = other.actor();
    let s = &db.store;
    let t0 = datetime!(2026-01-10 08:00 UTC);

    // A caseworker may not set it; the refusal is audited.
    let e = s
        .set_followup_org_schedule(&at(&me, t0), &[2, 4])
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden(_)), "{e:?}");
    assert_eq!(
        audit_details(&db, "followup.org_schedule").await[0].0,
        "denied"
    );

    // Invalid lists: field-named errors with a code per problem, nothing written.
    for (months, code) in [
        (vec![], "required"),
        (vec![3, 1], "not_ascending"),
        (vec![0, 6], "out_of_range"),
        (vec![6, 61], "out_of_range"),
        ((1..=13).collect::<Vec<u32>>(), "too_many"),
    ] {
        let c = codes(
            s.set_followup_org_schedule(&at(&boss, t0), &months)
                .await
                .unwrap_err(),
        );
        assert_eq!(c, [("months".to_string(), code.to_string())], "{months:?}");
    }
    let d = s.followup_org_schedule(&at(&me, t0)).await.unwrap();
    assert_eq!(d.months, dayaq_domain::followup::DEFAULT_MONTHS);
    assert_eq!(d.source, dayaq_domain::followup::ScheduleSource::Default);

    // The supervisor sets it; every member of the organisation reads it.
    let set = s
        .set_followup_org_schedule(&at(&boss, t0), &[2, 4])
        .await
        .unwrap();
    assert_eq!(set.months, [2, 4]);
    let d = s.followup_org_schedule(&at(&me, t0)).await.unwrap();
    assert_eq!(d.months, [2, 4]);
    assert_eq!(
        d.source,
        dayaq_domain::followup::ScheduleSource::Organisation
    );
    let a = audit_details(&db, "followup.org_schedule").await;
    assert_eq!(a.last().unwrap(), &("success".into(), "months=2,4".into()));

    // A new plan without months of its own uses the organisation default …
    let case = s
        .create_case(
            &at(&me, t0),
            &sample_case("Gunel", "S", "1994-04-04", "+994500000201"),
        )
        .await
        .unwrap();
    let plan = |months: Option<Vec<u32>>| PlanInput {
        assistance_end: "2026-01-15".into(),
        months,
        max_failed: None,
    };
    let p = s
        .set_plan(&at(&me, t0), case.id, &plan(None))
        .await
        .unwrap();
    assert_eq!(p.months, [2, 4]);
    let tasks = s.followup_tasks(&at(&me, t0), case.id).await.unwrap();
    assert_eq!(months_due(&tasks), ["2026-03-15", "2026-05-15"]);
    // … and the case's own months override it.
    s.set_plan(&at(&me, t0), case.id, &plan(Some(vec![1])))
        .await
        .unwrap();
    let tasks = s.followup_tasks(&at(&me, t0), case.id).await.unwrap();
    assert_eq!(months_due(&tasks), ["2026-02-15"]);

    // Another organisation keeps the built-in default …
    let theirs = s
        .create_case(
            &at(&them, t0),
            &sample_case("Sabina", "T", "1993-03-03", "+994500000202"),
        )
        .await
        .unwrap();
    let p = s
        .set_plan(&at(&them, t0), theirs.id, &plan(None))
        .await
        .unwrap();
    assert_eq!(p.months, dayaq_domain::followup::DEFAULT_MONTHS);
    // … until the operator sets one for it (CLI path, audited as `cli`).
    let c = codes(
        s.set_followup_org_schedule_by_slug("no-such-org", &[1], t0)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        c,
        [("slug".to_string(), "unknown_organisation".to_string())]
    );
    assert!(
        s.set_followup_org_schedule_by_slug("ngo-os-other", &[5, 3], t0)
            .await
            .is_err()
    );
    s.set_followup_org_schedule_by_slug("ngo-os-other", &[3, 9], t0)
        .await
        .unwrap();
    let p = s
        .set_plan(&at(&them, t0), theirs.id, &plan(None))
        .await
        .unwrap();
    assert_eq!(p.months, [3, 9]);
    // The first organisation's default did not change.
    assert_eq!(
        s.followup_org_schedule(&at(&me, t0)).await.unwrap().months,
        [2, 4]
    );
    db.cleanup().await;
}

/// Rows of an export, sorted, for comparison as a multiset.
fn sorted(mut rows: Vec<Vec<String>>) -> Vec<Vec<String>> {
    rows.sort();
    rows
}

#[tokio::test]
async fn questionnaire_export_reimports_the_same_answers() {
    let (db, cw) = db_with_user("ngo-qx", "caseworker").await;
    let (_, other) = org_and_user(&db, "ngo-qx-other", "caseworker").await;
    let (_, researcher) = org_and_user(&db, "ngo-qx", "researcher").await;
    let (_, hotline) = org_and_user(&db, "ngo-qx", "hotline_operator").await;
    let me = cw.actor();
    let them = other.actor();
    let s = &db.store;
    let t0 = datetime!(2026-05-01 08:00 UTC);
    let mut cases = Vec::new();
    for i in 0..3 {
        cases.push(
            s.create_case(
                &at(&me, t0),
                &sample_case(
                    "Aynur",
                    &format!("X{i}"),
                    "1990-05-05",
                    &format!("+99450000030{i}"),
                ),
            )
            .await
            .unwrap(),
        );
    }
    let add =
        |round: &str, on: &str, pairs: &[(&str, &str)], words: Option<&str>| AssessmentInput {
            round: round.into(),
            assessed_on: on.into(),
            answers: answers(pairs),
            assistance_needed_words: words.map(str::to_string),
        };
    let inputs = [
        (
            cases[0].id,
            add(
                "R1",
                "2026-04-01",
                &[
                    ("employment", "none"),
                    ("income_covers", "no"),
                    ("future_plans", "study;migrate"),
                    ("assistance_needed", "job;housing;childcare"),
                ],
                Some("=SUM(A1) a job, near \"home\""),
            ),
        ),
        (
            cases[0].id,
            add(
                "R2",
                "2026-04-20",
                &[("employment", "part_time"), ("living_with", "family")],
                None,
            ),
        ),
        (
            cases[1].id,
            add(
                "R1",
                "2026-04-02",
                &[("plans_migrate_abroad", "planning_for_work")],
                Some("-to go to Dubai"),
            ),
        ),
        (
            cases[2].id,
            add("R1", "2026-04-03", &[], Some("nothing, thank you")),
        ),
    ];
    for (case, input) in &inputs {
        s.add_reintegration_assessment(&at(&me, t0), *case, input)
            .await
            .unwrap();
    }
    // Another organisation's questionnaire: never in our export.
    let theirs = s
        .create_case(
            &at(&them, t0),
            &sample_case("Lala", "Y", "1991-06-06", "+994500000399"),
        )
        .await
        .unwrap();
    s.add_reintegration_assessment(
        &at(&them, t0),
        theirs.id,
        &add(
            "R1",
            "2026-04-04",
            &[("employment", "full_time")],
            Some("secret of theirs"),
        ),
    )
    .await
    .unwrap();

    let first = s
        .export_questionnaire(&at(&me, t0), None, true)
        .await
        .unwrap();
    assert_eq!(
        first.header,
        dayaq_storage::followup::questionnaire_columns()
    );
    assert_eq!(first.rows.len(), 4);
    let col = |name: &str| first.header.iter().position(|h| h == name).unwrap();
    assert!(first.rows.iter().all(|r| r[0] != theirs.case_number));
    assert!(
        first
            .rows
            .iter()
            .all(|r| !r.join("|").contains("secret of theirs"))
    );
    let r0 = first
        .rows
        .iter()
        .find(|r| r[0] == cases[0].case_number && r[1] == "R1")
        .unwrap();
    assert_eq!(r0[col("future_plans")], "study;migrate");
    assert_eq!(r0[col("assistance_needed")], "job;housing;childcare");
    assert_eq!(r0[col("employment")], "none");
    assert_eq!(r0[col("living_with")], "");
    assert_eq!(
        r0[col("assistance_needed_words")],
        "=SUM(A1) a job, near \"home\""
    );
    // The other organisation's caseworker exports only their own row.
    let t = s
        .export_questionnaire(&at(&them, t0), None, true)
        .await
        .unwrap();
    assert_eq!(t.rows.len(), 1);
    assert_eq!(t.rows[0][0], theirs.case_number);
    // A role without case access exports nothing.
    let ra = researcher.actor();
    assert!(matches!(
        s.export_questionnaire(&at(&ra, t0), None, false).await,
        Err(StoreError::Forbidden(_))
    ));
    // The export is audited with counts (and, with her words, the case ids) only.
    let a = audit_details(&db, "followup.export").await;
    assert_eq!(a[0].0, "success");
    assert!(
        a[0].1
            .starts_with("round=* rows=4 cases=3 free_text=include case_ids="),
        "{}",
        a[0].1
    );
    // A hotline operator may export the cases, never her words.
    let ha = hotline.actor();
    assert!(matches!(
        s.export_questionnaire(&at(&ha, t0), None, true).await,
        Err(StoreError::Forbidden("free_text_export_needs_case_manager"))
    ));
    let h = s
        .export_questionnaire(&at(&ha, t0), None, false)
        .await
        .unwrap();
    assert!(
        h.rows
            .iter()
            .all(|r| r[col("assistance_needed_words")].is_empty())
    );
    // Without free text her words stay out of the file.
    let plain = s
        .export_questionnaire(&at(&me, t0), None, false)
        .await
        .unwrap();
    assert_eq!(plain.rows.len(), 4);
    assert!(
        plain
            .rows
            .iter()
            .all(|r| r[col("assistance_needed_words")].is_empty())
    );
    let a = audit_details(&db, "followup.export").await;
    assert!(
        a.iter()
            .any(|(_, d)| d == "round=* rows=4 cases=3 free_text=none"),
        "{a:?}"
    );
    assert!(
        a.iter()
            .all(|(_, d)| !d.contains("SUM") && !d.contains("Dubai"))
    );

    // CSV: formula-like text is guarded in the file, and export → import gives the same
    // answers (each row now twice).
    let csv = dayaq_storage::followup::questionnaire_csv(&first).unwrap();
    let text = String::from_utf8(csv.clone()).unwrap();
    assert!(text.contains("'=SUM(A1)"));
    assert!(text.contains("'-to go to Dubai"));
    let n = s
        .import_questionnaire(&at(&me, t0), &csv, false)
        .await
        .unwrap();
    assert_eq!(n, 4);
    let again = s
        .export_questionnaire(&at(&me, t0), None, true)
        .await
        .unwrap();
    let mut twice = first.rows.clone();
    twice.extend(first.rows.clone());
    assert_eq!(sorted(again.rows.clone()), sorted(twice));
    // Imported answers feed trajectories and flags like the original ones.
    let (_, flags) = s.reintegration(&at(&me, t0), cases[1].id).await.unwrap();
    assert_eq!(flags[0].code, "plans_abroad_for_work");

    // XLSX, one round: the same round trip.
    let r1 = s
        .export_questionnaire(&at(&me, t0), Some("R2"), true)
        .await
        .unwrap();
    assert_eq!(r1.rows.len(), 2);
    assert!(r1.rows.iter().all(|r| r[1] == "R2"));
    let xlsx = dayaq_storage::followup::questionnaire_xlsx(&r1).unwrap();
    let n = s
        .import_questionnaire(&at(&me, t0), &xlsx, true)
        .await
        .unwrap();
    assert_eq!(n, 2);
    let after = s
        .export_questionnaire(&at(&me, t0), Some("R2"), true)
        .await
        .unwrap();
    let mut twice = r1.rows.clone();
    twice.extend(r1.rows.clone());
    assert_eq!(sorted(after.rows), sorted(twice));
    db.cleanup().await;
}

#[tokio::test]
async fn a_risk_flag_becomes_a_long_term_goal_of_the_plan() {
    let (db, cw) = db_with_user("ngo-fg", "caseworker").await;
    let (_, other) = org_and_user(&db, "ngo-fg-other", "caseworker").await;
    let me = cw.actor();
    let s = &db.store;
    let t0 = datetime!(2026-06-01 08:00 UTC);
    let case = s
        .create_case(
            &at(&me, t0),
            &sample_case("Ulviyya", "F", "1992-07-07", "+994500000401"),
        )
        .await
        .unwrap();
    s.add_reintegration_assessment(
        &at(&me, t0),
        case.id,
        &AssessmentInput {
            round: "month-6".into(),
            assessed_on: "2026-05-30".into(),
            answers: answers(&[("family_reconciliation", "rejected")]),
            assistance_needed_words: None,
        },
    )
    .await
    .unwrap();
    let c = codes(
        s.goal_from_flag(&at(&me, t0), case.id, "rejected_by_family", None)
            .await
            .unwrap_err(),
    );
    assert_eq!(
        c,
        [("assistance_plan".to_string(), "no_open_plan".to_string())]
    );
    let plan = s
        .create_plan(
            &at(&me, t0),
            case.id,
            &serde_json::from_value(json!({"spl_Type": "SocialCare"})).unwrap(),
        )
        .await
        .unwrap();
    let c = codes(
        s.goal_from_flag(&at(&me, t0), case.id, "no_income", None)
            .await
            .unwrap_err(),
    );
    assert_eq!(c, [("risk_flag".to_string(), "not_raised".to_string())]);
    let c = codes(
        s.goal_from_flag(&at(&me, t0), case.id, "bogus", None)
            .await
            .unwrap_err(),
    );
    assert_eq!(c, [("risk_flag".to_string(), "unknown".to_string())]);
    // Another organisation cannot.
    let oa = other.actor();
    assert!(
        s.goal_from_flag(&at(&oa, t0), case.id, "rejected_by_family", None)
            .await
            .is_err()
    );
    let goal = s
        .goal_from_flag(&at(&me, t0), case.id, "rejected_by_family", None)
        .await
        .unwrap();
    let plans = s.plans(&at(&me, t0), case.id).await.unwrap();
    let p = plans.iter().find(|p| p.id == plan).unwrap();
    let g = p.goals.iter().find(|g| g.id == goal).unwrap();
    assert_eq!(g.term, "LongTerm");
    assert_eq!(g.domain.as_deref(), Some("FamilySocial"));
    assert!(g.description.contains("rejected_by_family"));
    assert!(g.description.contains("family_reconciliation=rejected"));
    db.cleanup().await;
}

#[tokio::test]
async fn followup_forms_and_export_over_http() {
    let app = spawn_app().await;
    let (_, cw) = org_and_user(&app.db, "ngo-web", "caseworker").await;
    let (_, sup) = org_and_user(&app.db, "ngo-web", "supervisor").await;
    let (_, other) = org_and_user(&app.db, "ngo-web-other", "caseworker").await;
    let token = user_token(&app.db, &cw).await;
    let sup_token = user_token(&app.db, &sup).await;
    let other_token = user_token(&app.db, &other).await;
    let actor = cw.actor();
    let case = app
        .db
        .store
        .create_case(
            &crate::kit::ctx(&actor),
            &sample_case("Mehriban", "W", "1995-08-08", "+994500000501"),
        )
        .await
        .unwrap();
    let id = case.id;

    // Organisation default schedule over the API.
    let (s, _) = api_call(
        &app,
        &token,
        "PUT",
        "/followups/org-schedule",
        json!({"months": [1, 2]}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, e) = api_call(
        &app,
        &sup_token,
        "PUT",
        "/followups/org-schedule",
        json!({"months": [6, 3]}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(e.to_string().contains("not_ascending"), "{e}");
    assert!(e.to_string().contains("months"), "{e}");
    let (s, v) = api_call(
        &app,
        &sup_token,
        "PUT",
        "/followups/org-schedule",
        json!({"months": [1, 3, 12]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = api_call(&app, &token, "GET", "/followups/org-schedule", Value::Null).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["months"], json!([1, 3, 12]));
    assert_eq!(v["source"], "organisation");

    // The assessment entry form on the case page, as the caseworker.
    let c = web_client();
    let base = &app.base_url;
    sign_in(&c, base, &cw.username).await;
    let case_page = || {
        let c = c.clone();
        let url = format!("{base}/cases/{id}");
        async move { fetch_text(&c, url).await }
    };
    let html = case_page().await;
    assert!(html.contains("id=\"form-fuassess\""));
    // Every question of the questionnaire is on the form, with the API's answer codes.
    for q in dayaq_domain::followup::QUESTIONS {
        assert!(html.contains(&format!("name=\"{}\"", q.key)), "{}", q.key);
        for code in q.codes {
            assert!(html.contains(&format!("value=\"{code}\"")), "{code}");
        }
    }
    assert!(html.contains("name=\"assistance_needed_words\""));
    // The plan form offers the organisation default.
    assert!(html.contains("placeholder=\"1, 3, 12\""));
    let csrf = csrf_field(&html);
    let post = |form: Vec<(&str, &str)>| {
        let c = c.clone();
        let url = format!("{base}/cases/{id}/followup/assessment");
        let mut f: Vec<(String, String)> = form
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        f.push(("csrf".into(), csrf.clone()));
        async move { submit(&c, url, &f).await }
    };
    // Missing round: 422, nothing saved.
    let r = post(vec![
        ("round", ""),
        ("assessed_on", "2026-05-01"),
        ("employment", "none"),
    ])
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        app.db
            .store
            .reintegration_assessments(&crate::kit::ctx(&actor), id)
            .await
            .unwrap()
            .is_empty()
    );
    let r = post(vec![
        ("round", "month-1"),
        ("assessed_on", "2026-05-01"),
        ("employment", "none"),
        ("income_covers", "no"),
        ("plans_migrate_abroad", "planning_for_work"),
        ("assistance_needed", "job"),
        ("assistance_needed", "housing"),
        ("assistance_needed_words", "work near my son"),
    ])
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("#fu-reintegration")
    );
    let html = case_page().await;
    assert!(html.contains("data-flag=\"plans_abroad_for_work\""));
    assert!(html.contains("data-flag=\"no_income\""));
    assert!(html.contains("work near my son"));
    let all = app
        .db
        .store
        .reintegration_assessments(&crate::kit::ctx(&actor), id)
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].answers["assistance_needed"], ["job", "housing"]);
    assert_eq!(all[0].source, "form");
    // A second assessment with one answer changed: that flag goes, the trajectory shows it.
    let r = post(vec![
        ("round", "month-3"),
        ("assessed_on", "2026-07-01"),
        ("employment", "part_time"),
        ("income_covers", "no"),
        ("plans_migrate_abroad", "planning_for_work"),
    ])
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = case_page().await;
    assert!(html.contains("data-flag=\"plans_abroad_for_work\""));
    assert!(!html.contains("data-flag=\"no_income\""));
    assert!(html.contains("data-flag=\"income_insufficient\""));
    assert!(html.contains("class=\"fu-trend-better\""));
    // An unknown answer code is refused, naming the question.
    let r = post(vec![
        ("round", "x"),
        ("assessed_on", "2026-07-02"),
        ("employment", "astronaut"),
    ])
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The default schedule page: read-only for a caseworker.
    let html = fetch_text(&c, format!("{base}/followup/schedule")).await;
    assert!(html.contains("id=\"fu-sched-readonly\""));
    assert!(html.contains("1, 3, 12"));
    assert!(!html.contains("id=\"fu-sched-form\""));

    // Flag → goal over the API.
    let (s, e) = api_call(
        &app,
        &token,
        "POST",
        &format!("/cases/{id}/followup/risk-flags/plans_abroad_for_work/goal"),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(e.to_string().contains("no_open_plan"), "{e}");
    app.db
        .store
        .create_plan(
            &crate::kit::ctx(&actor),
            id,
            &serde_json::from_value(json!({"spl_Type": "Livelihood"})).unwrap(),
        )
        .await
        .unwrap();
    let (s, g) = api_call(
        &app,
        &token,
        "POST",
        &format!("/cases/{id}/followup/risk-flags/plans_abroad_for_work/goal"),
        json!({"description": "safe-migration counselling before any job offer abroad"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{g}");
    assert!(g["goal_id"].is_string());
    let (s, _) = api_call(
        &app,
        &other_token,
        "POST",
        &format!("/cases/{id}/followup/risk-flags/plans_abroad_for_work/goal"),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Export over the API: CSV and XLSX, access-scoped.
    let get = |tok: String, q: &str| {
        let url = format!("{}/api/v1/followups/questionnaire/export{q}", app.base_url);
        async move { bearer_get(&api_client(), url, &tok).await }
    };
    let r = get(token.clone(), "").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body = r.text().await.unwrap();
    assert!(body.starts_with("case_number,round,assessed_on,current_situation"));
    assert_eq!(body.lines().count(), 3);
    assert!(body.contains(&case.case_number));
    assert!(body.contains("job;housing"));
    // Her own words: not for a bearer token, nor for a session without a second factor; a
    // caseworker's session with a completed second factor gets them.
    assert!(!body.contains("work near my son"), "{body}");
    let r = get(token.clone(), "?free_text=bogus").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let url = format!("{base}/api/v1/followups/questionnaire/export");
    let body = fetch_text(&c, &url).await;
    assert!(body.contains("job;housing"), "{body}");
    assert!(!body.contains("work near my son"), "{body}");
    let strong = crate::kit::web_client();
    crate::kit::sign_in_with_second_factor(&strong, base, &app.db.store, &cw).await;
    let body = fetch_text(&strong, &url).await;
    assert!(body.contains("work near my son"), "{body}");
    let body = fetch_text(&strong, format!("{url}?free_text=none")).await;
    assert!(body.contains("job;housing"), "{body}");
    assert!(!body.contains("work near my son"), "{body}");
    let r = get(token.clone(), "?round=month-3&format=xlsx").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    let bytes = r.bytes().await.unwrap();
    assert_eq!(&bytes[..2], b"PK");
    let r = get(token.clone(), "?format=pdf").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = get(other_token.clone(), "").await;
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    assert_eq!(body.lines().count(), 1, "only the header: {body}");
    app.db.cleanup().await;
}

#[tokio::test]
async fn supervisor_sets_the_default_schedule_on_its_screen() {
    let app = spawn_app().await;
    let (_, sup) = org_and_user(&app.db, "ngo-sched", "supervisor").await;
    let secret = b"0123456789abcdefghij";
    app.db.store.totp_set_secret(&sup, secret).await.unwrap();
    let c = web_client();
    let base = &app.base_url;
    let text = |u: String| {
        let c = c.clone();
        async move { fetch_text(&c, u).await }
    };
    let csrf = csrf_field(&text(format!("{base}/login")).await);
    let r = submit_login(
        &c,
        base,
        csrf.as_str(),
        sup.username.as_str(),
        crate::kit::PASSWORD,
    )
    .await;
    assert_eq!(r.headers()["location"], "/login/totp");
    second_factor(&c, base, secret, &sup.username).await;

    // The home page links to the screen; the screen shows Dayaq's default and the form.
    assert!(
        text(format!("{base}/"))
            .await
            .contains("id=\"fu-sched-link\"")
    );
    let html = text(format!("{base}/followup/schedule")).await;
    assert!(html.contains("id=\"fu-sched-form\""));
    assert!(html.contains("1, 3, 6, 12, 18, 24"));
    let csrf = csrf_field(&html);
    let post = |months: &str| {
        let c = c.clone();
        let f = vec![("csrf", csrf.clone()), ("months", months.to_string())];
        let url = format!("{base}/followup/schedule");
        async move { submit(&c, url, &f).await }
    };
    // Bad lists: 422, the field named, the typed text kept, nothing saved.
    for bad in ["6, 3", "1, three", "0, 70"] {
        let r = post(bad).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"form-errors\""), "{bad}");
        assert!(html.contains(&format!("value=\"{bad}\"")), "{bad}");
    }
    let actor = sup.actor();
    let d = app
        .db
        .store
        .followup_org_schedule(&crate::kit::ctx(&actor))
        .await
        .unwrap();
    assert_eq!(d.source, dayaq_domain::followup::ScheduleSource::Default);
    let r = post("1, 2, 6").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/followup/schedule?saved=1");
    let html = text(format!("{base}/followup/schedule?saved=1")).await;
    assert!(html.contains("id=\"fu-sched-saved\""));
    assert!(html.contains("<strong>1, 2, 6</strong>"));
    let d = app
        .db
        .store
        .followup_org_schedule(&crate::kit::ctx(&actor))
        .await
        .unwrap();
    assert_eq!(d.months, [1, 2, 6]);
    app.db.cleanup().await;
}
