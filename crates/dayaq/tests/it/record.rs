//! The rest of the case record: trafficking events, perpetrator roles, dependants, status
//! changes with closure, explicit reopening and history, new episodes linked both ways —
//! through the API and the case page, on the configured engine (`kit::db`).
//!
//! Why this file is over 800 lines: seven scenario tests of one area, each a case record told
//! from start to end (events, roles, dependants, status, reopening, episodes) through the API and
//! the screens; one file keeps the area's tests under one filter.

use crate::kit::{
    accepted_vt_referral, api_call, api_client, csrf_field, ctx, db_with_user, fetch_text,
    new_case, org_and_user, sign_in, spawn_app, submit, token_and_user, web_client,
};
use dayaq_domain::case::CaseInput;
use dayaq_domain::record::{DependantInput, EventInput};
use dayaq_storage::StoreError;
use dayaq_storage::record::{EpisodeInput, ReopenInput, StatusInput};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn error_fields(v: &Value) -> Vec<String> {
    let e = &v["error"];
    let mut out: Vec<String> = e["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| x["field"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default();
    if let Some(f) = e["field"].as_str()
        && !out.iter().any(|x| x == f)
    {
        out.push(f.to_string());
    }
    out
}

#[tokio::test]
async fn record_api_round_trip_validation_and_other_organisation() {
    let app = spawn_app().await;
    let (token, user) = token_and_user(&app.db, "ngo-rec", "caseworker").await;
    let (other, _) = token_and_user(&app.db, "ngo-other", "caseworker").await;
    let actor = user.actor();
    let id = new_case(
        &app.db.store,
        &actor,
        ["Nigar", "H", "1993-02-02", "+994500000123"],
    )
    .await
    .id;
    let ev = |p: &str| format!("/cases/{id}/{p}");

    // Events, entered out of order, come back in chronological order with sealed parts.
    for body in [
        json!({"hte_Type": "Exploitation", "hte_Country": "TR", "hte_City": "Istanbul", "hte_Date": "2025-06-01",
               "hte_Street": "Textile workshop street 7", "hte_Description": "Locked in a workshop", "hte_Latitude": 41.01, "hte_Longitude": 28.97}),
        json!({"hte_Type": "Recruitment", "hte_Country": "AZ", "hte_City": "Ganja", "hte_Date": "2025-03-10"}),
        json!({"hte_Type": "Transit", "hte_Country": "GE", "hte_Date": "2025-05-30"}),
    ] {
        let (s, v) = api_call(&app, &token, "POST", &ev("trafficking-events"), body).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let (s, events) = api_call(&app, &token, "GET", &ev("trafficking-events"), Value::Null).await;
    assert_eq!(s, StatusCode::OK);
    let types: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["hte_Type"].as_str().unwrap())
        .collect();
    assert_eq!(types, vec!["Recruitment", "Transit", "Exploitation"]);
    assert_eq!(events[2]["hte_Street"], "Textile workshop street 7");
    assert_eq!(events[2]["hte_Description"], "Locked in a workshop");
    assert_eq!(events[2]["hte_Latitude"], 41.01);
    assert_eq!(events[0]["hte_Country"], "AZ");

    // Bad input: every field named, nothing written, the value never echoed.
    let (s, v) = api_call(
        &app,
        &token,
        "POST",
        &ev("trafficking-events"),
        json!({"hte_Type": "Kidnapping", "hte_Country": "Narnia", "hte_Date": "2999-01-01", "hte_Latitude": 10.0}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let f = error_fields(&v);
    for field in ["hte_Type", "hte_Country", "hte_Date", "hte_Longitude"] {
        assert!(f.iter().any(|x| x == field), "{field} in {v}");
    }
    assert!(!v.to_string().contains("Narnia"));
    let (s, v) = api_call(
        &app,
        &token,
        "POST",
        &ev("trafficking-events"),
        json!({"hte_Type": "Transit", "hte_Unknown": 1}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (_, after) = api_call(&app, &token, "GET", &ev("trafficking-events"), Value::Null).await;
    assert_eq!(after.as_array().unwrap().len(), 3);

    // Perpetrator roles.
    let (s, p) = api_call(
        &app,
        &token,
        "POST",
        &ev("perpetrators"),
        json!({"per_RoleInProcess": ["Exploiter", "RecruiterOrIntermediary"], "per_RoleDetails": "Owner of the workshop"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let (s, v) = api_call(
        &app,
        &token,
        "POST",
        &ev("perpetrators"),
        json!({"per_RoleInProcess": ["Boss"]}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&v), vec!["per_RoleInProcess[0]"]);
    let (s, list) = api_call(&app, &token, "GET", &ev("perpetrators"), Value::Null).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(
        list[0]["per_RoleInProcess"],
        json!(["RecruiterOrIntermediary", "Exploiter"])
    );
    assert_eq!(list[0]["per_RoleDetails"], "Owner of the workshop");

    // Dependants.
    let (s, d) = api_call(
        &app,
        &token,
        "POST",
        &ev("dependants"),
        json!({"relation": "Child", "prs_Gender": "Feminine", "age": 6, "with_victim": false, "whereabouts": "With her mother in Ganja", "needs_schooling": true}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{d}");
    let (s, v) = api_call(
        &app,
        &token,
        "POST",
        &ev("dependants"),
        json!({"relation": "Child", "age": 6, "birth_year": 2020}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&v), vec!["age"]);
    let (s, deps) = api_call(&app, &token, "GET", &ev("dependants"), Value::Null).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(deps["dependants"].as_array().unwrap().len(), 1);
    assert_eq!(
        deps["dependants"][0]["whereabouts"],
        "With her mother in Ganja"
    );
    assert_eq!(deps["children"]["recorded"], 1);
    assert_eq!(deps["children"]["consistent"], true);

    // Delete an entry.
    let eid = events[1]["id"].as_str().unwrap();
    let (s, _) = api_call(
        &app,
        &token,
        "DELETE",
        &ev(&format!("trafficking-events/{eid}")),
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, after) = api_call(&app, &token, "GET", &ev("trafficking-events"), Value::Null).await;
    assert_eq!(after.as_array().unwrap().len(), 2);

    // Another organisation: 404 everywhere, even with a bad body; nothing written.
    for (m, p, body) in [
        ("GET", "trafficking-events", Value::Null),
        ("POST", "trafficking-events", json!({"hte_Type": "Bogus"})),
        ("GET", "perpetrators", Value::Null),
        (
            "POST",
            "perpetrators",
            json!({"per_RoleInProcess": ["Exploiter"]}),
        ),
        ("GET", "dependants", Value::Null),
        ("POST", "dependants", json!({"relation": "Child"})),
        ("GET", "status", Value::Null),
        (
            "POST",
            "status",
            json!({"cas_Status": "Closed", "cas_ReasonForCaseClosure": "x"}),
        ),
        ("GET", "status/history", Value::Null),
        ("POST", "status/reopen", json!({"reason": "x"})),
        ("GET", "episodes", Value::Null),
        ("POST", "episodes", json!({"reason": "x"})),
    ] {
        let (s, v) = api_call(&app, &other, m, &ev(p), body).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{m} {p}: {v}");
    }
    let (s, v) = api_call(
        &app,
        &other,
        "DELETE",
        &ev(&format!("trafficking-events/{eid}")),
        Value::Null,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    let (_, st) = api_call(&app, &token, "GET", &ev("status"), Value::Null).await;
    assert_eq!(st["cas_Status"], "Active");
    assert_eq!(st["history"], json!([]));

    // OpenAPI lists the routes.
    let (s, spec) = api_call(&app, &token, "GET", "/openapi.json", Value::Null).await;
    assert_eq!(s, StatusCode::OK);
    for p in [
        "trafficking-events",
        "perpetrators",
        "dependants",
        "status",
        "status/history",
        "status/reopen",
        "episodes",
    ] {
        let path = format!("/cases/{{id}}/{p}");
        assert!(spec["paths"][&path].is_object(), "{path} in OpenAPI");
    }
}

#[tokio::test]
async fn close_reopen_new_episode_with_history_and_links() {
    let app = spawn_app().await;
    let (token, user) = token_and_user(&app.db, "ngo-ep", "caseworker").await;
    let (hotline, _) = token_and_user(&app.db, "ngo-ep", "hotline_operator").await;
    let actor = user.actor();
    let id = new_case(
        &app.db.store,
        &actor,
        ["Leyla", "Q", "1990-09-09", "+994500000456"],
    )
    .await
    .id;
    let p = |x: &str| format!("/cases/{id}/{x}");

    // Closing needs a reason; the refusal changes nothing.
    let (s, v) = api_call(
        &app,
        &token,
        "POST",
        &p("status"),
        json!({"cas_Status": "Closed"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&v), vec!["cas_ReasonForCaseClosure"]);
    let (_, st) = api_call(&app, &token, "GET", &p("status"), Value::Null).await;
    assert_eq!(st["cas_Status"], "Active");
    // A new episode from an Active case is refused.
    let (s, v) = api_call(
        &app,
        &token,
        "POST",
        &p("episodes"),
        json!({"reason": "again"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");

    let (s, st) = api_call(
        &app,
        &token,
        "POST",
        &p("status"),
        json!({"cas_Status": "FollowUp"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{st}");
    let (s, st) = api_call(
        &app,
        &token,
        "POST",
        &p("status"),
        json!({"cas_Status": "Closed", "cas_ReasonForCaseClosure": "Reintegrated, moved to Baku"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{st}");
    assert_eq!(st["cas_Status"], "Closed");
    // The case itself carries the reason for closure (HTCDS cas_ReasonForCaseClosure).
    let (_, case) = api_call(
        &app,
        &token,
        "GET",
        &format!("/cases/{id}?include=identity"),
        Value::Null,
    )
    .await;
    assert_eq!(case["cas_Status"], "Closed");
    assert_eq!(
        case["cas_ReasonForCaseClosure"],
        "Reintegrated, moved to Baku"
    );

    // A closed case is not changed by a status change, only by reopening.
    let (s, v) = api_call(
        &app,
        &token,
        "POST",
        &p("status"),
        json!({"cas_Status": "Active"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v.to_string().contains("closed_needs_reopen"), "{v}");
    // The hotline operator may not reopen.
    let (s, _) = api_call(
        &app,
        &hotline,
        "POST",
        &p("status/reopen"),
        json!({"reason": "called again"}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = api_call(&app, &token, "POST", &p("status/reopen"), json!({})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&v), vec!["reason"]);
    let (s, st) = api_call(
        &app,
        &token,
        "POST",
        &p("status/reopen"),
        json!({"cas_Status": "FollowUp", "reason": "She asked for legal help"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{st}");
    assert_eq!(st["cas_Status"], "FollowUp");
    let (_, case) = api_call(
        &app,
        &token,
        "GET",
        &format!("/cases/{id}?include=identity"),
        Value::Null,
    )
    .await;
    assert_eq!(case["cas_Status"], "FollowUp");
    assert!(case.get("cas_ReasonForCaseClosure").is_none(), "{case}");
    let (s, st) = api_call(
        &app,
        &token,
        "POST",
        &p("status"),
        json!({"cas_Status": "Closed", "reason": "Legal help given"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{st}");

    // The history keeps every step, with reasons.
    let (s, h) = api_call(&app, &token, "GET", &p("status/history"), Value::Null).await;
    assert_eq!(s, StatusCode::OK);
    let kinds: Vec<&str> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["change", "close", "reopen", "close"]);
    assert_eq!(h[1]["reason"], "Reintegrated, moved to Baku");
    assert_eq!(h[2]["reason"], "She asked for legal help");
    assert_eq!(h[2]["from"], "Closed");
    assert_eq!(h[2]["cas_Status"], "FollowUp");
    assert_eq!(h[0]["seq"], 1);
    assert_eq!(h[3]["seq"], 4);

    // A new episode: a new case for the same person, linked both ways.
    let (s, v) = api_call(
        &app,
        &hotline,
        "POST",
        &p("episodes"),
        json!({"reason": "x"}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, v) = api_call(
        &app,
        &token,
        "POST",
        &p("episodes"),
        json!({"reason": "Re-trafficked to Dubai"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let new_id = v["case_id"].as_str().unwrap().to_string();
    assert_ne!(new_id, id.to_string());
    assert_eq!(v["episodes"]["episode"], 2);
    assert_eq!(v["episodes"]["previous_case"], id.to_string());
    let (_, old_eps) = api_call(&app, &token, "GET", &p("episodes"), Value::Null).await;
    assert_eq!(old_eps["episode"], 1);
    assert_eq!(old_eps["next_case"], new_id);
    assert_eq!(old_eps["series"].as_array().unwrap().len(), 2);
    // The new case: Active, same person (identity re-sealed under its own key), its own history.
    let store = &app.db.store;
    let new_uuid = uuid::Uuid::parse_str(&new_id).unwrap();
    let nc = store.get_case(&ctx(&actor), new_uuid, true).await.unwrap();
    assert_eq!(nc.status.as_str(), "Active");
    let ident = nc.identity.unwrap();
    assert_eq!(ident.first_name.as_deref(), Some("Leyla"));
    assert_eq!(ident.mobile_phone.as_deref(), Some("+994500000456"));
    assert_eq!(
        ident.notes, None,
        "case notes stay with the previous episode"
    );
    assert_eq!(nc.citizenship, vec!["AZ".to_string()]);
    assert!(nc.types_of_exploitation.is_empty());
    let (_, nh) = api_call(
        &app,
        &token,
        "GET",
        &format!("/cases/{new_id}/status"),
        Value::Null,
    )
    .await;
    assert_eq!(nh["history"][0]["kind"], "new_episode");
    assert_eq!(nh["history"][0]["reason"], "Re-trafficked to Dubai");
    // Only from the latest episode.
    let (s, v) = api_call(
        &app,
        &token,
        "POST",
        &p("episodes"),
        json!({"reason": "again"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        error_fields(&v).contains(&"previous_case".to_string()),
        "{v}"
    );
    // The previous case is unchanged by the new episode.
    let (_, st) = api_call(&app, &token, "GET", &p("status"), Value::Null).await;
    assert_eq!(st["cas_Status"], "Closed");
    assert_eq!(st["history"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn dependants_respect_number_of_children() {
    let (db, user) = db_with_user("ngo-dep", "caseworker").await;
    let actor = user.actor();
    let input: CaseInput = serde_json::from_value(json!({
        "prs_FirstName": "Sabina", "prs_Gender": "Feminine", "prs_NumberOfChildren": 1
    }))
    .unwrap();
    let valid = input.validate(crate::kit::now().date()).unwrap();
    let s = &db.store;
    let id = s.create_case(&ctx(&actor), &valid).await.unwrap().id;
    let child = || DependantInput {
        relation: "Child".into(),
        birth_year: Some(2018),
        with_victim: true,
        needs_childcare: true,
        ..Default::default()
    };
    s.add_dependant(&ctx(&actor), id, child()).await.unwrap();
    match s.add_dependant(&ctx(&actor), id, child()).await {
        Err(StoreError::Invalid(v)) => {
            assert_eq!(v.errors[0].field, "prs_NumberOfChildren");
            assert_eq!(v.errors[0].code, "exceeds_number_of_children");
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    // A sibling in her care is not one of her children.
    s.add_dependant(
        &ctx(&actor),
        id,
        DependantInput {
            relation: "Sibling".into(),
            age: Some(12),
            with_victim: true,
            needs_schooling: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let d = s.dependants(&ctx(&actor), id).await.unwrap();
    assert_eq!(d.dependants.len(), 2);
    assert_eq!(d.children.declared, Some(1));
    assert_eq!(d.children.recorded, 1);
    assert!(d.children.consistent && d.children.complete);
    // Nothing of the refused child was written; the audit chain still verifies.
    let report = s.audit_verify().await.unwrap();
    assert!(report.problems.is_empty(), "{report:?}");
}

#[tokio::test]
async fn storage_checks_access_before_input_and_seals_free_text() {
    let (db, user) = db_with_user("ngo-st", "caseworker").await;
    let (_, stranger) = org_and_user(&db, "ngo-st2", "supervisor").await;
    let me = user.actor();
    let them = stranger.actor();
    let s = &db.store;
    let id = new_case(s, &me, ["Gunel", "R", "1992-03-03", "+994500000789"])
        .await
        .id;
    // Another organisation gets NotFound before its (invalid) input is looked at.
    let bad = EventInput {
        kind: "Bogus".into(),
        ..Default::default()
    };
    assert!(matches!(
        s.add_trafficking_event(&ctx(&them), id, bad).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.reopen_case(&ctx(&them), id, &ReopenInput::default())
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.open_episode(&ctx(&them), id, &EpisodeInput::default())
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.change_status(&ctx(&them), id, &StatusInput::default())
            .await,
        Err(StoreError::NotFound)
    ));
    s.add_trafficking_event(
        &ctx(&me),
        id,
        EventInput {
            kind: "Recruitment".into(),
            street: Some("Secret-street-31".into()),
            description: Some("Met the recruiter at a cafe".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    s.add_perpetrator(
        &ctx(&me),
        id,
        dayaq_domain::record::PerpetratorInput {
            roles: vec!["Exploiter".into()],
            details: Some("Canary-role-details-31".into()),
        },
    )
    .await
    .unwrap();
    s.add_dependant(
        &ctx(&me),
        id,
        DependantInput {
            relation: "Child".into(),
            whereabouts: Some("Canary-whereabouts-31".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    s.change_status(
        &ctx(&me),
        id,
        &StatusInput {
            status: "Closed".into(),
            reason: Some("Canary-closure-31".into()),
        },
    )
    .await
    .unwrap();
    // No plaintext at rest: not in any table (the rows are there), not in the SQLite files.
    let canaries = [
        "Secret-street-31",
        "Met the recruiter",
        "Canary-role-details-31",
        "Canary-whereabouts-31",
        "Canary-closure-31",
    ];
    let dump = serde_json::to_string(&s.logical_dump().await.unwrap()).unwrap();
    for t in [
        "trafficking_events",
        "perpetrator_roles",
        "dependants",
        "case_status_history",
    ] {
        assert!(dump.contains(t), "{t} is in the dump");
    }
    let mut hay = vec![dump.into_bytes()];
    if s.engine() == dayaq_storage::Engine::Sqlite {
        for f in ["dayaq.db", "dayaq.db-wal"] {
            if let Ok(b) = std::fs::read(db.opts.data_dir.join(f)) {
                hay.push(b);
            }
        }
    }
    for h in &hay {
        for c in canaries {
            assert!(
                !h.windows(c.len()).any(|w| w == c.as_bytes()),
                "{c} found at rest"
            );
        }
    }
    // Erasing the case shreds the key: the sealed parts can no longer be read, and the
    // record is gone for everyone.
    let (_, sup) = org_and_user(&db, "ngo-st", "supervisor").await;
    s.erase_case(&ctx(&sup.actor()), id).await.unwrap();
    assert!(matches!(
        s.trafficking_events(&ctx(&me), id).await,
        Err(StoreError::NotFound)
    ));
}

#[tokio::test]
async fn case_page_shows_record_and_its_forms_work() {
    let app = spawn_app().await;
    let (_, user) = org_and_user(&app.db, "ngo-recui", "caseworker").await;
    let actor = user.actor();
    let case = new_case(
        &app.db.store,
        &actor,
        ["Aynur", "M", "1996-06-06", "+994500000321"],
    )
    .await
    .id;
    let c = web_client();
    let base = &app.base_url;
    sign_in(&c, base, &user.username).await;
    let get = |u: String| {
        let c = c.clone();
        async move { fetch_text(&c, u).await }
    };
    let html = get(format!("{base}/cases/{case}")).await;
    assert!(
        html.contains("id=\"record\""),
        "record section on the case page"
    );
    assert!(
        html.contains(
            "action=\"/cases/{case}/record/event\""
                .replace("{case}", &case.to_string())
                .as_str()
        )
    );
    let csrf = csrf_field(&html);
    let post = |path: &str, form: Vec<(&str, &str)>| {
        let c = c.clone();
        let url = format!("{base}/cases/{case}/record/{path}");
        let mut f: Vec<(String, String)> = form
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        f.push(("csrf".into(), csrf.clone()));
        async move { submit(&c, url, &f).await }
    };
    // Each form, in this order, is accepted (303 back to the case page). The last event is
    // entered by mistake and removed below (the remove form of its row).
    let forms: [(&str, Vec<(&str, &str)>); 4] = [
        (
            "event",
            vec![
                ("hte_Type", "Exploitation"),
                ("hte_Country", "ae"),
                ("hte_City", "Dubai"),
                ("hte_Date", "2025-02-01"),
                ("hte_Description", "Domestic work without pay"),
            ],
        ),
        (
            "perpetrator",
            vec![
                ("per_RoleInProcess", "Exploiter"),
                ("per_RoleInProcess", "Abuser"),
            ],
        ),
        (
            "dependant",
            vec![
                ("relation", "Child"),
                ("age", "4"),
                ("lives", "elsewhere"),
                ("whereabouts", "With grandmother"),
                ("needs_childcare", "yes"),
            ],
        ),
        (
            "event",
            vec![
                ("hte_Type", "Transit"),
                ("hte_Description", "Entered by mistake"),
            ],
        ),
    ];
    for (path, form) in forms {
        let r = post(path, form).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{path}");
    }
    let html = get(format!("{base}/cases/{case}")).await;
    assert!(html.contains("Entered by mistake"));
    let wrong = app
        .db
        .store
        .trafficking_events(&ctx(&actor), case)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.sealed.description.as_deref() == Some("Entered by mistake"))
        .unwrap()
        .id;
    let action = format!("/cases/{case}/record/event/{wrong}/remove");
    assert!(
        html.contains(&format!("action=\"{action}\"")),
        "remove form"
    );
    let r = submit(&c, format!("{base}{action}"), &[("csrf", csrf.as_str())]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = get(format!("{base}/cases/{case}")).await;
    assert!(!html.contains("Entered by mistake"));
    assert!(html.contains("Domestic work without pay"));
    // A dependant's and a perpetrator's rows have their remove forms too.
    assert_eq!(
        html.matches("/remove\"").count(),
        3,
        "event, perpetrator, dependant"
    );
    // A bad event: 422 page naming the field, nothing added.
    let r = post(
        "event",
        vec![("hte_Type", "Exploitation"), ("hte_Latitude", "north")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = post("status", vec![("cas_Status", "Closed")]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = post(
        "status",
        vec![
            ("cas_Status", "Closed"),
            ("cas_ReasonForCaseClosure", "Returned to her family"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = get(format!("{base}/cases/{case}")).await;
    assert!(html.contains("Domestic work without pay"));
    assert!(html.contains("With grandmother"));
    assert!(html.contains("Returned to her family"));
    assert!(
        html.contains("id=\"rec-reopen-submit\""),
        "reopen form on a closed case"
    );
    assert!(
        html.contains("id=\"rec-episode-submit\""),
        "new-episode form on a closed case"
    );
    let events = app
        .db
        .store
        .trafficking_events(&ctx(&actor), case)
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].country.as_deref(), Some("AE"));
    // New episode from the page: redirected to the new case, which links back.
    let r = post("episode", vec![("reason", "Re-trafficked")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        to.starts_with("/cases/") && !to.contains(&case.to_string()),
        "{to}"
    );
    let html = get(format!("{base}{to}")).await;
    assert!(
        html.contains(&format!("href=\"/cases/{case}\"")),
        "link to the previous episode"
    );
    assert!(html.contains("id=\"rec-episode\">2<"));
}

#[tokio::test]
async fn referral_receiver_sees_only_granted_parts_of_the_record() {
    let (db, user) = db_with_user("ngo-nk", "caseworker").await;
    let (_, vt_user) = org_and_user(&db, "vt-nk", "caseworker").await;
    let cw = user.actor();
    let vt = vt_user.actor();
    let s = &db.store;
    let case = new_case(s, &cw, ["Zarifa", "T", "1991-07-07", "+994500000654"])
        .await
        .id;
    s.add_trafficking_event(
        &ctx(&cw),
        case,
        EventInput {
            kind: "Recruitment".into(),
            country: Some("AZ".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    s.add_perpetrator(
        &ctx(&cw),
        case,
        dayaq_domain::record::PerpetratorInput {
            roles: vec!["RecruiterOrIntermediary".into()],
            details: None,
        },
    )
    .await
    .unwrap();
    s.add_dependant(
        &ctx(&cw),
        case,
        DependantInput {
            relation: "Child".into(),
            age: Some(9),
            with_victim: true,
            needs_schooling: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    s.change_status(
        &ctx(&cw),
        case,
        &StatusInput {
            status: "FollowUp".into(),
            reason: Some("Moved to her sister".into()),
        },
    )
    .await
    .unwrap();
    accepted_vt_referral(s, &cw, &vt, case, "vt-nk").await;
    // Vocational training is granted identity, plan and services: dependants (plan) yes;
    // events (victim context) and perpetrator roles (legal) no; status without reasons.
    assert_eq!(
        s.dependants(&ctx(&vt), case)
            .await
            .unwrap()
            .dependants
            .len(),
        1
    );
    assert!(matches!(
        s.trafficking_events(&ctx(&vt), case).await,
        Err(StoreError::Forbidden(_))
    ));
    assert!(matches!(
        s.perpetrators(&ctx(&vt), case).await,
        Err(StoreError::Forbidden(_))
    ));
    let st = s.status_view(&ctx(&vt), case).await.unwrap();
    assert_eq!(st.history.len(), 1);
    assert_eq!(st.history[0].reason, None);
    // Read-only: the receiver adds nothing and cannot close or reopen.
    assert!(
        s.add_dependant(
            &ctx(&vt),
            case,
            DependantInput {
                relation: "Sibling".into(),
                ..Default::default()
            }
        )
        .await
        .is_err()
    );
    assert!(
        s.change_status(
            &ctx(&vt),
            case,
            &StatusInput {
                status: "Active".into(),
                reason: None
            }
        )
        .await
        .is_err()
    );
    // The owner still sees everything, reasons included.
    let st = s.status_view(&ctx(&cw), case).await.unwrap();
    assert_eq!(st.history[0].reason.as_deref(), Some("Moved to her sister"));
    assert_eq!(
        s.trafficking_events(&ctx(&cw), case).await.unwrap().len(),
        1
    );
    assert_eq!(s.perpetrators(&ctx(&cw), case).await.unwrap().len(), 1);
}

/// `PUT /cases/{id}` cannot bypass the status life cycle: a status change through the case
/// edit is kept in the history like one through the status action, closing needs a case
/// manager (not the hotline) and a reason, and a closed case is only reopened explicitly.
#[tokio::test]
async fn case_edit_status_changes_follow_the_life_cycle() {
    let app = spawn_app().await;
    let (token, user) = token_and_user(&app.db, "ngo-put", "caseworker").await;
    let (hotline, _) = token_and_user(&app.db, "ngo-put", "hotline_operator").await;
    let actor = user.actor();
    let id = new_case(
        &app.db.store,
        &actor,
        ["Sevda", "R", "1994-03-03", "+994500000789"],
    )
    .await
    .id;
    let url = format!("{}/api/v1/cases/{id}", app.base_url);
    let body = |status: &str, reason: Option<&str>| {
        let mut b = json!({
            "prs_FirstName": "Sevda",
            "prs_SecondName": "R",
            "prs_Birthdate": "1994-03-03",
            "prs_Gender": "Feminine",
            "cas_Status": status,
        });
        if let Some(r) = reason {
            b["cas_ReasonForCaseClosure"] = json!(r);
        }
        b
    };
    let put = |tok: String, version: i64, b: Value| {
        let url = url.clone();
        async move {
            let r = api_client()
                .put(&url)
                .bearer_auth(tok)
                .header("if-match", format!("\"{version}\""))
                .json(&b)
                .send()
                .await
                .unwrap();
            let s = r.status();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let history = || async {
        let (_, st) = api_call(
            &app,
            &token,
            "GET",
            &format!("/cases/{id}/status"),
            Value::Null,
        )
        .await;
        st
    };

    // A change between open statuses through the edit is recorded in the history.
    let (s, v) = put(token.clone(), 1, body("FollowUp", None)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let st = history().await;
    assert_eq!(st["cas_Status"], "FollowUp");
    let last = st["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "change");
    assert_eq!(last["from"], "Active");
    let version = v["version"].as_i64().unwrap();

    // The hotline operator may edit the case but not close it; nothing changes.
    let (s, _) = put(
        hotline.clone(),
        version,
        body("Closed", Some("no longer reachable")),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = api_call(
        &app,
        &hotline,
        "POST",
        &format!("/cases/{id}/status"),
        json!({"cas_Status": "Closed", "cas_ReasonForCaseClosure": "no longer reachable"}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let st = history().await;
    assert_eq!(st["cas_Status"], "FollowUp");
    assert_eq!(st["history"].as_array().unwrap().len(), 1);

    // The caseworker closes through the edit (with the reason): a "close" history entry.
    let (s, v) = put(token.clone(), version, body("Closed", Some("reintegrated"))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let st = history().await;
    assert_eq!(st["cas_Status"], "Closed");
    assert_eq!(
        st["history"].as_array().unwrap().last().unwrap()["kind"],
        "close"
    );
    let version = v["version"].as_i64().unwrap();

    // Setting a closed case back to Active through the edit is refused, naming the field.
    let (s, v) = put(token.clone(), version, body("Active", None)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(error_fields(&v).contains(&"cas_Status".to_string()), "{v}");
    let st = history().await;
    assert_eq!(st["cas_Status"], "Closed");
    assert_eq!(st["history"].as_array().unwrap().len(), 2);
    app.db.cleanup().await;
}
