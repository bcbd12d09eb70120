//! Assistance: the 30-day shelter rule with a controllable clock, the once-per-person
//! allowance under 50 concurrent requests, plan gaps and approval, need-to-know.
//! Runs on SQLite, and on PostgreSQL when `DAYAQ_TEST_DATABASE_URL` is set.

use crate::kit::{
    SOURCE, accepted_vt_referral, ctx, db_with_user, decide_identification, new_case, org_and_user,
};
use dayaq_domain::assistance::StayState;
use dayaq_domain::assistance::fmt_date;
use dayaq_storage::StoreError;
use dayaq_storage::assistance::{
    ActionInput, AdmissionInput, AssessmentInput, FacilityInput, GoalInput, GrantInput, NeedInput,
    PlanInput, ServiceInput,
};
use dayaq_storage::cases::Ctx;
use dayaq_storage::referrals::LegalInput;
use time::{Duration, OffsetDateTime};

fn at(actor: &dayaq_domain::Actor, now: OffsetDateTime) -> Ctx<'_> {
    Ctx {
        actor,
        source: SOURCE,
        now,
    }
}

fn field_of(e: &StoreError) -> Vec<(String, &'static str)> {
    match e {
        StoreError::Invalid(v) => v.errors.iter().map(|e| (e.field.clone(), e.code)).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn shelter_thirty_day_rule_with_controllable_clock() {
    let (db, sup) = db_with_user("state-shelter", "supervisor").await;
    let (_, cw) = org_and_user(&db, "state-shelter", "caseworker").await;
    let (sup, cw) = (sup.actor(), cw.actor());
    let s = &db.store;
    let day0 = OffsetDateTime::now_utc();
    let fac = s
        .add_facility(
            &ctx(&sup),
            &FacilityInput {
                name: "State shelter".into(),
                beds: 3,
                max_stay_days: None,
                state_shelter: true,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        fac.max_stay_days, 30,
        "the state shelter's legal 30 days by default"
    );
    let e = s
        .add_facility(
            &ctx(&cw),
            &FacilityInput {
                name: "x".into(),
                beds: 1,
                max_stay_days: None,
                state_shelter: false,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden(_)));

    let case = new_case(
        s,
        &cw,
        ["Leyla", "Mammadova", "1990-02-03", "+994501112233"],
    )
    .await
    .id;
    let adm = AdmissionInput {
        facility_id: fac.id,
        admitted_on: dayaq_domain::assistance::fmt_date(day0.date()),
        dependants: 1,
        daily_cost_minor: 0,
        funding_source_id: None,
    };
    // Eligibility: the state shelter's admission rule (data, off by default; the coordinator
    // switches it on) needs cooperation with law enforcement.
    let (_, coord) = org_and_user(&db, "org-nrm", "national_coordinator").await;
    let coord = coord.actor();
    s.set_admission_rules(
        &ctx(&coord),
        fac.id,
        &dayaq_storage::rules::AdmissionRulesInput {
            requires_cooperation: true,
        },
    )
    .await
    .unwrap();
    let e = s.admit(&at(&cw, day0), case, &adm).await.unwrap_err();
    assert_eq!(
        field_of(&e),
        vec![("cooperation".to_string(), "cooperation_required")]
    );
    s.set_legal(
        &ctx(&cw),
        case,
        &LegalInput {
            criminal_case_ref: None,
            cooperation: "Yes".into(),
            witness: true,
            compensation_claim: false,
            non_punishment: false,
        },
    )
    .await
    .unwrap();
    let stay = s.admit(&at(&cw, day0), case, &adm).await.unwrap();
    assert!(matches!(
        stay.length_of_stay,
        Some(StayState::Ok { day: 0, .. })
    ));
    let f = s.facilities().await.unwrap();
    let f = f.iter().find(|x| x.id == fac.id).unwrap();
    assert_eq!((f.occupied, f.available), (2, 1), "survivor + dependant");

    let on = |n: i64| day0 + Duration::days(n);
    let check = |n: i64| async move { s.stay_check(&at(&cw, on(n)), case, stay.id).await.unwrap() };
    assert!(matches!(check(0).await, StayState::Ok { .. }));
    assert!(matches!(check(24).await, StayState::Ok { .. }));
    assert!(matches!(
        check(25).await,
        StayState::Warning { days_left: 5, .. }
    ));
    assert!(matches!(check(30).await, StayState::Warning { .. }));
    assert!(
        check(31).await.is_blocked(),
        "day 31 without an extension is blocked"
    );

    // An extension counts only once a supervisor approves it.
    let e = s
        .request_extension(&at(&cw, on(28)), case, stay.id, 14, "  ")
        .await
        .unwrap_err();
    assert_eq!(field_of(&e), vec![("reason".to_string(), "required")]);
    let ext = s
        .request_extension(
            &at(&cw, on(28)),
            case,
            stay.id,
            14,
            "awaiting court hearing",
        )
        .await
        .unwrap();
    assert!(
        check(31).await.is_blocked(),
        "a requested extension does not count"
    );
    let e = s
        .approve_extension(&at(&cw, on(29)), case, ext)
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Forbidden(_)),
        "only a supervisor approves"
    );
    s.approve_extension(&at(&sup, on(29)), case, ext)
        .await
        .unwrap();
    assert!(matches!(
        check(31).await,
        StayState::Ok {
            allowed_days: 44,
            ..
        }
    ));
    assert!(check(45).await.is_blocked());

    s.exit_stay(
        &at(&cw, on(40)),
        case,
        stay.id,
        &dayaq_domain::assistance::fmt_date(on(40).date()),
        "IndependentHousing",
    )
    .await
    .unwrap();
    let stays = s.stays(&ctx(&cw), case).await.unwrap();
    assert_eq!(
        stays[0].exit_destination.as_deref(),
        Some("IndependentHousing")
    );
    assert!(stays[0].length_of_stay.is_none());
    let f = s.facilities().await.unwrap();
    assert_eq!(f.iter().find(|x| x.id == fac.id).unwrap().available, 3);
    db.cleanup().await;
}

#[tokio::test]
async fn allowance_once_per_person_under_50_concurrent_requests() {
    let (db, police) = db_with_user("police-atd", "police_officer").await;
    let police = police.actor();
    let s = &db.store;
    let case = new_case(
        s,
        &police,
        ["Aysel", "Quliyeva", "1995-05-06", "+994502223344"],
    )
    .await
    .id;

    // A possible victim is refused with a clear reason naming the field.
    decide_identification(s, &police, case, "PossibleVictimOfTrafficking").await;
    let e = s
        .pay_allowance(&ctx(&police), case, 40_000)
        .await
        .unwrap_err();
    assert_eq!(
        field_of(&e),
        vec![("vic_TraffickingStatus".to_string(), "not_actual_victim")]
    );
    if let StoreError::Invalid(v) = &e {
        assert!(v.errors[0].message.contains("ActualVictimOfTrafficking"));
    }

    decide_identification(s, &police, case, "ActualVictimOfTrafficking").await;
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let store = s.clone();
        tasks.push(tokio::spawn(async move {
            store.pay_allowance(&ctx(&police), case, 40_000).await
        }));
    }
    let mut paid = 0;
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(p) => {
                assert_eq!((p.amount_minor, p.currency.as_str()), (40_000, "AZN"));
                paid += 1
            }
            Err(StoreError::AlreadyExists("allowance")) => refused += 1,
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    assert_eq!((paid, refused), (1, 49), "exactly one payment");
    let payments = s.payments(&ctx(&police), case).await.unwrap();
    assert_eq!(payments.len(), 1);

    // The same person registered by another organisation is not paid again.
    let (_, other) = org_and_user(&db, "other-police", "police_officer").await;
    let other = other.actor();
    let case2 = new_case(
        s,
        &other,
        ["Aysel", "Quliyeva", "1995-05-06", "+994509999999"],
    )
    .await
    .id;
    decide_identification(s, &other, case2, "ActualVictimOfTrafficking").await;
    let e = s
        .pay_allowance(&ctx(&other), case2, 40_000)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::AlreadyExists("allowance")), "{e:?}");

    // Payment status: a supervisor marks it paid.
    let (_, sup) = org_and_user(&db, "police-atd", "supervisor").await;
    let sup = sup.actor();
    let e = s
        .set_payment_status(&ctx(&police), case, payments[0].id, "Paid")
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden(_)));
    s.set_payment_status(&ctx(&sup), case, payments[0].id, "Paid")
        .await
        .unwrap();
    assert_eq!(
        s.payments(&ctx(&sup), case).await.unwrap()[0].status,
        "Paid"
    );
    db.cleanup().await;
}

fn need(domain: &str, severity: &str, notes: Option<&str>) -> NeedInput {
    NeedInput {
        domain: domain.into(),
        severity: severity.into(),
        notes: notes.map(str::to_string),
    }
}

#[tokio::test]
async fn plan_gaps_approval_and_need_to_know() {
    let (db, cw) = db_with_user("ngo-a", "caseworker").await;
    let (_, sup) = org_and_user(&db, "ngo-a", "supervisor").await;
    let (vt_org, vt) = org_and_user(&db, "vt-centre", "caseworker").await;
    let (cw, sup, vt) = (cw.actor(), sup.actor(), vt.actor());
    let s = &db.store;
    let case = new_case(s, &cw, ["Gunel", "Aliyeva", "1992-07-08", "+994503334455"])
        .await
        .id;
    let e = s
        .add_assessment(
            &ctx(&cw),
            case,
            &AssessmentInput {
                needs: vec![need("Housing", "Urgent", None)],
                priorities: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        field_of(&e),
        vec![("needs[0].severity".to_string(), "invalid_value")]
    );
    s.add_assessment(
        &ctx(&cw),
        case,
        &AssessmentInput {
            needs: vec![need("Housing", "Low", None)],
            priorities: None,
        },
    )
    .await
    .unwrap();
    let a = s
        .add_assessment(
            &ctx(&cw),
            case,
            &AssessmentInput {
                needs: vec![
                    need("Housing", "High", Some("no place to stay")),
                    need("MentalHealth", "Medium", Some("nightmares")),
                    need("EmploymentIncome", "Medium", None),
                    need("Legal", "Low", None),
                ],
                priorities: Some("I want to work and see my son".into()),
            },
        )
        .await
        .unwrap();
    let list = s.assessments(&ctx(&cw), case).await.unwrap();
    assert_eq!(list.len(), 2, "repeated assessments are kept");
    assert_eq!(list[0].id, a.id);
    assert_eq!(
        list[0].priorities.as_deref(),
        Some("I want to work and see my son")
    );

    let now = OffsetDateTime::now_utc();
    let plan = s
        .create_plan(
            &ctx(&cw),
            case,
            &PlanInput {
                spl_type: "Livelihood".into(),
                objectives: Some("independent life".into()),
                planned_end: Some(dayaq_domain::assistance::fmt_date(
                    (now + Duration::days(180)).date(),
                )),
                review_on: Some(dayaq_domain::assistance::fmt_date(
                    (now + Duration::days(30)).date(),
                )),
            },
        )
        .await
        .unwrap();
    let e = s
        .create_plan(
            &ctx(&cw),
            case,
            &PlanInput {
                spl_type: "Fun".into(),
                objectives: None,
                planned_end: None,
                review_on: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        field_of(&e),
        vec![("spl_Type".to_string(), "invalid_value")]
    );
    let g_short = s
        .add_goal(
            &ctx(&cw),
            case,
            plan,
            &GoalInput {
                term: "ShortTerm".into(),
                domain: Some("MentalHealth".into()),
                description: "feel safe".into(),
            },
        )
        .await
        .unwrap();
    let g_job = s
        .add_goal(
            &ctx(&cw),
            case,
            plan,
            &GoalInput {
                term: "LongTerm".into(),
                domain: Some("EmploymentIncome".into()),
                description: "a job".into(),
            },
        )
        .await
        .unwrap();
    let g_home = s
        .add_goal(
            &ctx(&cw),
            case,
            plan,
            &GoalInput {
                term: "LongTerm".into(),
                domain: Some("Housing".into()),
                description: "a home".into(),
            },
        )
        .await
        .unwrap();
    let overdue = s
        .add_action(
            &ctx(&cw),
            case,
            plan,
            &ActionInput {
                goal_id: Some(g_short),
                domain: Some("MentalHealth".into()),
                service: "PsychologicalCounselling".into(),
                responsible_org: None,
                due_on: Some(dayaq_domain::assistance::fmt_date(
                    (now - Duration::days(3)).date(),
                )),
                status: None,
            },
        )
        .await
        .unwrap();
    s.add_action(
        &ctx(&cw),
        case,
        plan,
        &ActionInput {
            goal_id: Some(g_job),
            domain: Some("EmploymentIncome".into()),
            service: "VocationalTraining".into(),
            responsible_org: Some("vt-centre".into()),
            due_on: Some(dayaq_domain::assistance::fmt_date(
                (now + Duration::days(60)).date(),
            )),
            status: None,
        },
    )
    .await
    .unwrap();
    let e = s
        .add_action(
            &ctx(&cw),
            case,
            plan,
            &ActionInput {
                goal_id: None,
                domain: None,
                service: "Spa".into(),
                responsible_org: Some("nobody".into()),
                due_on: Some("soon".into()),
                status: None,
            },
        )
        .await
        .unwrap_err();
    let fields: Vec<String> = field_of(&e).into_iter().map(|f| f.0).collect();
    assert_eq!(fields, vec!["service", "due_on", "responsible_org"]);

    let p = &s.plans(&ctx(&cw), case).await.unwrap()[0];
    assert_eq!(p.goals.len(), 3);
    assert_eq!(p.actions[1].responsible_org, vt_org.id);
    assert_eq!(
        p.gaps.needs_without_action,
        vec![dayaq_domain::assistance::NeedDomain::Housing]
    );
    assert_eq!(p.gaps.overdue_actions, vec![overdue]);
    assert_eq!(p.gaps.long_term_goals_without_action, vec![g_home]);

    // Approval: survivor's agreement first, then a supervisor.
    let e = s
        .approve_plan(&ctx(&sup), case, plan, true)
        .await
        .unwrap_err();
    assert_eq!(
        field_of(&e),
        vec![("survivor_agreed".to_string(), "agreement_required")]
    );
    s.record_plan_agreement(&ctx(&cw), case, plan)
        .await
        .unwrap();
    assert_eq!(s.plans_waiting_approval(&ctx(&sup)).await.unwrap().len(), 1);
    assert!(
        s.plans_waiting_approval(&ctx(&cw))
            .await
            .unwrap()
            .is_empty()
    );
    let e = s
        .approve_plan(&ctx(&cw), case, plan, true)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden(_)));
    s.approve_plan(&ctx(&sup), case, plan, true).await.unwrap();
    assert!(
        s.plans_waiting_approval(&ctx(&sup))
            .await
            .unwrap()
            .is_empty()
    );
    s.set_action_status(&ctx(&cw), case, overdue, "Done")
        .await
        .unwrap();
    let p = &s.plans(&ctx(&cw), case).await.unwrap()[0];
    assert!(p.approved && p.survivor_agreed);
    assert!(
        p.gaps.overdue_actions.is_empty(),
        "done actions are not overdue"
    );

    // Need-to-know: a referred vocational-training centre sees the plan but not health notes.
    assert!(s.plans(&ctx(&vt), case).await.is_err());
    accepted_vt_referral(s, &cw, &vt, case, "vt-centre").await;
    let p = s.plans(&ctx(&vt), case).await.unwrap();
    assert_eq!(p[0].goals.len(), 3);
    s.stays(&ctx(&vt), case).await.unwrap();
    let a = s.assessments(&ctx(&vt), case).await.unwrap();
    let mh = a[0]
        .needs
        .iter()
        .find(|n| n.domain == "MentalHealth")
        .unwrap();
    assert!(
        mh.notes.is_none() && mh.health_restricted,
        "health notes stay in the health section"
    );
    let h = a[0].needs.iter().find(|n| n.domain == "Housing").unwrap();
    assert_eq!(h.notes.as_deref(), Some("no place to stay"));
    let own = s.assessments(&ctx(&cw), case).await.unwrap();
    let mh = own[0]
        .needs
        .iter()
        .find(|n| n.domain == "MentalHealth")
        .unwrap();
    assert_eq!(mh.notes.as_deref(), Some("nightmares"));
    // Services delivered: VT sees the services section, but medical details stay in health.
    let (_, vt_sup) = org_and_user(&db, "vt-centre", "supervisor").await;
    let _ = vt_sup;
    s.add_service(
        &ctx(&cw),
        case,
        &svc("Medical", Some("antenatal check"), 0, None, None),
    )
    .await
    .unwrap();
    let job_action = p[0].actions[1].id;
    s.add_service(
        &ctx(&cw),
        case,
        &svc(
            "VocationalTraining",
            Some("sewing course"),
            0,
            None,
            Some(job_action),
        ),
    )
    .await
    .unwrap();
    let seen = s.services(&ctx(&vt), case).await.unwrap();
    assert_eq!(seen.len(), 2);
    assert!(seen[0].details.is_none() && seen[0].health_restricted);
    assert_eq!(seen[1].details.as_deref(), Some("sewing course"));
    let own = s.services(&ctx(&cw), case).await.unwrap();
    assert_eq!(own[0].details.as_deref(), Some("antenatal check"));
    let p = &s.plans(&ctx(&cw), case).await.unwrap()[0];
    assert_eq!(
        p.actions[1].status, "Done",
        "a completed service fulfils its action"
    );
    // The referred organisation cannot change or approve the plan.
    assert!(
        s.record_plan_agreement(&ctx(&vt), case, plan)
            .await
            .is_err()
    );
    db.cleanup().await;
}

fn svc(
    service: &str,
    details: Option<&str>,
    cost: i64,
    source: Option<uuid::Uuid>,
    action: Option<uuid::Uuid>,
) -> ServiceInput {
    ServiceInput {
        service: service.into(),
        provider_org: None,
        started_on: fmt_date(OffsetDateTime::now_utc().date()),
        ended_on: None,
        outcome: "Completed".into(),
        details: details.map(str::to_string),
        cost_minor: cost,
        funding_source_id: source,
        plan_action_id: action,
    }
}

#[tokio::test]
async fn cost_report_matches_hand_computed_fixture() {
    let (db, sup) = db_with_user("ngo-f", "supervisor").await;
    let (_, cw) = org_and_user(&db, "ngo-f", "caseworker").await;
    let (sup, cw) = (sup.actor(), cw.actor());
    let s = &db.store;
    let now = OffsetDateTime::now_utc();
    let day = |n: i64| fmt_date((now + Duration::days(n)).date());
    let state = s
        .add_funding_source(&ctx(&sup), "State budget", "StateBudget")
        .await
        .unwrap();
    let donor = s
        .add_funding_source(&ctx(&sup), "Donor X", "Donor")
        .await
        .unwrap();
    assert!(matches!(
        s.add_funding_source(&ctx(&cw), "Mine", "Donor").await,
        Err(StoreError::Forbidden(_))
    ));
    let e = s
        .add_funding_source(&ctx(&sup), "Y", "Lottery")
        .await
        .unwrap_err();
    assert_eq!(field_of(&e), vec![("kind".to_string(), "invalid_value")]);
    s.add_grant(
        &ctx(&sup),
        donor,
        &GrantInput {
            amount_minor: 5_000_000,
            currency: "USD".into(),
            period_start: day(-30),
            period_end: day(335),
            purpose: "reintegration of survivors".into(),
        },
    )
    .await
    .unwrap();
    let fs = s.funding_sources(&ctx(&sup)).await.unwrap();
    assert_eq!(fs.len(), 2);
    assert_eq!(fs[0].name, "Donor X");
    assert_eq!(fs[0].grants[0].currency, "USD");

    let fac = s
        .add_facility(
            &ctx(&sup),
            &FacilityInput {
                name: "NGO shelter".into(),
                beds: 10,
                max_stay_days: Some(90),
                state_shelter: false,
            },
        )
        .await
        .unwrap();
    let a = new_case(s, &cw, ["Nigar", "Hasanova", "1991-01-01", "+994505556677"])
        .await
        .id;
    let b = new_case(
        s,
        &cw,
        ["Sevda", "Ismayilova", "1993-03-03", "+994506667788"],
    )
    .await
    .id;
    // Another organisation's source cannot be charged: its cost report would list this case.
    let (_, other_sup) = org_and_user(&db, "ngo-g", "supervisor").await;
    let foreign = s
        .add_funding_source(&ctx(&other_sup.actor()), "Foreign fund", "Donor")
        .await
        .unwrap();
    let e = s
        .add_service(
            &ctx(&cw),
            a,
            &svc("Medical", None, 100, Some(foreign), None),
        )
        .await
        .unwrap_err();
    assert_eq!(
        field_of(&e),
        vec![("funding_source_id".to_string(), "unknown_funding_source")]
    );
    assert!(s.services(&ctx(&cw), a).await.unwrap().is_empty());
    // Case A: Medical 120.00 (state), legal 50.00 (donor), 10 shelter days x 19.00 (state).
    s.add_service(
        &ctx(&cw),
        a,
        &svc("Medical", None, 12_000, Some(state), None),
    )
    .await
    .unwrap();
    s.add_service(
        &ctx(&cw),
        a,
        &svc("LegalConsultation", None, 5_000, Some(donor), None),
    )
    .await
    .unwrap();
    let stay = s
        .admit(
            &ctx(&cw),
            a,
            &AdmissionInput {
                facility_id: fac.id,
                admitted_on: day(-20),
                dependants: 0,
                daily_cost_minor: 1_900,
                funding_source_id: Some(state),
            },
        )
        .await
        .unwrap();
    s.exit_stay(&ctx(&cw), a, stay.id, &day(-10), "Family")
        .await
        .unwrap();
    // Case B: training 300.00 (donor), counselling 80.00 (no source: not charged),
    // 5 shelter days so far x 19.00 (donor).
    s.add_service(
        &ctx(&cw),
        b,
        &svc("VocationalTraining", None, 30_000, Some(donor), None),
    )
    .await
    .unwrap();
    s.add_service(
        &ctx(&cw),
        b,
        &svc("PsychologicalCounselling", None, 8_000, None, None),
    )
    .await
    .unwrap();
    s.admit(
        &ctx(&cw),
        b,
        &AdmissionInput {
            facility_id: fac.id,
            admitted_on: day(-5),
            dependants: 0,
            daily_cost_minor: 1_900,
            funding_source_id: Some(donor),
        },
    )
    .await
    .unwrap();

    let r = s.cost_report(&at(&sup, now)).await.unwrap();
    let src: Vec<(&str, i64, i64, i64)> = r
        .per_source
        .iter()
        .map(|x| {
            (
                x.name.as_str(),
                x.services_minor,
                x.shelter_minor,
                x.total_minor,
            )
        })
        .collect();
    assert_eq!(
        src,
        vec![
            ("Donor X", 35_000, 9_500, 44_500),
            ("State budget", 12_000, 19_000, 31_000)
        ]
    );
    let mut expected_cases = vec![(a, 36_000), (b, 39_500)];
    expected_cases.sort();
    assert_eq!(r.per_survivor, expected_cases);
    assert_eq!(
        r.per_service,
        vec![
            ("LegalConsultation".to_string(), 5_000),
            ("Medical".to_string(), 12_000),
            ("Shelter".to_string(), 28_500),
            ("VocationalTraining".to_string(), 30_000),
        ]
    );
    assert_eq!(r.total_minor, 75_500);
    assert!(matches!(
        s.cost_report(&ctx(&cw)).await,
        Err(StoreError::Forbidden(_))
    ));
    db.cleanup().await;
}

mod api;

mod screens;
