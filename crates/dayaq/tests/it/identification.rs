//! Hotline contact → case → screening → consent → hand-over → police decision, via the API.

use crate::kit::{TestApp, api_call, api_client, org_token, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    api_call(app, token, "POST", path, body).await
}

async fn get(app: &TestApp, token: &str, path: &str) -> (StatusCode, Value) {
    api_call(app, token, "GET", path, Value::Null).await
}

#[tokio::test]
async fn hotline_to_police_identification_flow() {
    let app = spawn_app().await;
    let hotline = org_token(
        &app.db,
        "hotline",
        "hotline_operator",
        "CentralGovernmentOrganisation",
        "Baku",
    )
    .await;
    let police = org_token(
        &app.db,
        "police-atd",
        "police_officer",
        "LawEnforcement",
        "Baku",
    )
    .await;

    // 1. An anonymous call is logged.
    let (s, contact) = post(&app, &hotline, "/contacts", json!({"channel": "Hotline", "anonymous": true, "summary": "caller describes withheld passport"})).await;
    assert_eq!(s, StatusCode::CREATED);
    assert!(
        contact.get("summary").is_none(),
        "summaries are not echoed in lists"
    );
    let cid = contact["id"].as_str().unwrap();
    let (s, _) = post(&app, &hotline, "/contacts", json!({"channel": "Fax"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // 2. The contact becomes a case and keeps the contact.
    let (s, case) = post(&app, &hotline, &format!("/contacts/{cid}/case"), json!({"prs_Gender": "Masculine", "vic_TypeOfExploitation": ["ForcedLabour"], "vic_ForcedLabourIndustry": "F_Construction", "prs_Citizenship": ["AZ"]})).await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    let id = case["id"].as_str().unwrap().to_string();
    assert_eq!(case["vic_ForcedLabourIndustry"], "F_Construction");
    let (_, c) = get(&app, &hotline, &format!("/contacts/{cid}")).await;
    assert_eq!(c["case_id"], id.as_str());
    assert_eq!(c["summary"], "caller describes withheld passport");
    let (s, _) = post(&app, &hotline, &format!("/contacts/{cid}/case"), json!({})).await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a contact belongs to one case"
    );

    // 3. Screening: an adult without "means" is not a possible victim; with means it is.
    let (s, sc) = post(
        &app,
        &hotline,
        &format!("/cases/{id}/screenings"),
        json!({"act": true, "means": false, "purpose": true}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(sc["possible_victim"], false);
    let (_, sc) = post(&app, &hotline, &format!("/cases/{id}/screenings"), json!({"act": true, "means": true, "purpose": true, "vic_MethodsOfControl": ["WithholdsDocuments", "DebtBondage"], "ilo_indicators": ["RetentionOfIdentityDocuments"]})).await;
    assert_eq!(sc["possible_victim"], true);
    let (s, e) = post(
        &app,
        &hotline,
        &format!("/cases/{id}/screenings"),
        json!({"act": true, "vic_MethodsOfControl": ["Blackmail"]}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["field"], "vic_MethodsOfControl[0]");

    // 4. The hotline cannot decide identification; it may not hand over without consent.
    let decision = json!({"vic_TraffickingStatus": "ActualVictimOfTrafficking", "vic_TraffickingStatusDecisionMakingOrg": "Police", "decided_on": "2026-11-01", "reference": "ATD-2026-117"});
    let (s, _) = post(
        &app,
        &hotline,
        &format!("/cases/{id}/decisions"),
        decision.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, e) = post(
        &app,
        &hotline,
        &format!("/cases/{id}/transfer"),
        json!({"to_org": "police-atd"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["field"], "consent");
    // The police cannot see the case before the hand-over.
    let (s, _) = get(&app, &police, &format!("/cases/{id}")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // 5. Consent to share with the police, then hand-over.
    let (s, consent) = post(&app, &hotline, &format!("/cases/{id}/consents"), json!({"purpose": "SharingWithOrganisationType", "given": true, "recipient_org_type": "LawEnforcement", "given_by": "Survivor", "language": "az"})).await;
    assert_eq!(s, StatusCode::CREATED, "{consent}");
    let (s, _) = post(
        &app,
        &hotline,
        &format!("/cases/{id}/transfer"),
        json!({"to_org": "police-atd"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = get(&app, &hotline, &format!("/cases/{id}")).await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "the hotline no longer holds the case"
    );

    // 6. The police decide; the decision is kept as history and rights follow from it.
    let (s, e) = post(&app, &police, &format!("/cases/{id}/decisions"), json!({"vic_TraffickingStatus": "Actual", "vic_TraffickingStatusDecisionMakingOrg": "Police", "decided_on": "2026-11-01", "reference": "x"})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["field"], "vic_TraffickingStatus");
    let (s, _) = post(&app, &police, &format!("/cases/{id}/decisions"), json!({"vic_TraffickingStatus": "PossibleVictimOfTrafficking", "vic_TraffickingStatusDecisionMakingOrg": "Police", "decided_on": "2026-10-20", "reference": "ATD-2026-117"})).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = post(&app, &police, &format!("/cases/{id}/decisions"), decision).await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, h) = get(&app, &police, &format!("/cases/{id}/decisions")).await;
    assert_eq!(h["vic_TraffickingStatus"], "ActualVictimOfTrafficking");
    assert_eq!(h["rights"]["one_time_allowance"], true);
    let hist: Vec<&str> = h["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["vic_TraffickingStatus"].as_str().unwrap())
        .collect();
    assert_eq!(
        hist,
        vec!["PossibleVictimOfTrafficking", "ActualVictimOfTrafficking"]
    );
    let (_, case) = get(&app, &police, &format!("/cases/{id}")).await;
    assert_eq!(case["vic_TraffickingStatus"], "ActualVictimOfTrafficking");
    assert_eq!(
        case["vic_MethodsOfControl"],
        json!(["DebtBondage", "WithholdsDocuments"])
    );
    let (_, ev) = get(&app, &police, &format!("/cases/{id}/events")).await;
    let kinds: Vec<&str> = ev["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"identification.decided") && kinds.contains(&"case.transferred"));

    // 7. Consent can be withdrawn; declining is recorded as such.
    let consent_id = consent["id"].as_str().unwrap();
    let (s, _) = post(
        &app,
        &police,
        &format!("/cases/{id}/consents"),
        json!({"purpose": "Assistance", "given": false, "given_by": "Survivor", "language": "ru"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let r = api_client()
        .post(format!(
            "{}/api/v1/cases/{id}/consents/{consent_id}/withdraw",
            app.base_url
        ))
        .bearer_auth(&police)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (_, cs) = get(&app, &police, &format!("/cases/{id}/consents")).await;
    let cs = cs["consents"].as_array().unwrap();
    assert!(cs[0]["withdrawn_at"].is_string());
    assert_eq!(cs[1]["given"], false);
}

/// Screenings of one case sent at the same moment, with the same method of control, all
/// succeed and leave the value once (on PostgreSQL a check-then-insert raced into a unique
/// violation and a 500; found by the crash test of issue 8).
#[tokio::test]
async fn concurrent_screenings_with_the_same_method_of_control_all_succeed() {
    let app = spawn_app().await;
    let cw = org_token(&app.db, "ngo-conc", "caseworker", "NGO", "Baku").await;
    let (s, case) = post(
        &app,
        &cw,
        "/cases",
        json!({"prs_Gender": "Masculine", "vic_TypeOfExploitation": ["ForcedLabour"]}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    let id = case["id"].as_str().unwrap().to_string();
    let path = format!("/cases/{id}/screenings");
    let body = json!({"act": true, "means": true, "purpose": true,
                      "vic_MethodsOfControl": ["DebtBondage", "WithholdsDocuments"]});
    let (r1, r2, r3, r4) = tokio::join!(
        post(&app, &cw, &path, body.clone()),
        post(&app, &cw, &path, body.clone()),
        post(&app, &cw, &path, body.clone()),
        post(&app, &cw, &path, body.clone()),
    );
    for (s, v) in [r1, r2, r3, r4] {
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM case_values WHERE case_id = $1 AND field = 'vic_MethodsOfControl'",
    )
    .bind(&id)
    .fetch_one(app.db.store.pool())
    .await
    .unwrap();
    assert_eq!(n, 2);
    app.db.cleanup().await;
}
