use crate::kit::{api_call, api_token, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn assessment_plan_approval_services_and_gaps_over_the_api() {
    let app = spawn_app().await;
    let cw = api_token(&app.db, "ngo-api", "caseworker").await;
    let sup = api_token(&app.db, "ngo-api", "supervisor").await;
    let (s, case) = api_call(
        &app,
        &cw,
        "POST",
        "/cases",
        json!({"prs_Gender": "Feminine", "prs_Citizenship": ["AZ"]}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    let id = case["id"].as_str().unwrap().to_string();
    let (s, a) = api_call(
        &app,
        &cw,
        "POST",
        &format!("/cases/{id}/assessments"),
        json!({
        "needs": [{"domain": "Housing", "severity": "High", "notes": "sleeps at a friend's"},
                  {"domain": "EmploymentIncome", "severity": "Medium"}],
        "priorities": "a job first"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    let (s, e) = api_call(
        &app,
        &cw,
        "POST",
        &format!("/cases/{id}/assessments"),
        json!({"needs": [{"domain": "Luck", "severity": "High"}]}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["field"], "needs[0].domain", "{e}");
    let (s, p) = api_call(
        &app,
        &cw,
        "POST",
        &format!("/cases/{id}/plans"),
        json!({"spl_Type": "Livelihood", "spl_Objectives": "independent life"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let plan = p["id"].as_str().unwrap().to_string();
    let (_, g) = api_call(
        &app,
        &cw,
        "POST",
        &format!("/cases/{id}/plans/{plan}/goals"),
        json!({"term": "LongTerm", "domain": "EmploymentIncome", "description": "stable job"}),
    )
    .await;
    let goal = g["id"].as_str().unwrap().to_string();
    let (s, x) = api_call(
        &app,
        &cw,
        "POST",
        &format!("/cases/{id}/plans/{plan}/actions"),
        json!({"goal_id": goal, "domain": "EmploymentIncome", "service": "VocationalTraining"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{x}");
    let action = x["id"].as_str().unwrap().to_string();
    let (s, _) = api_call(
        &app,
        &sup,
        "POST",
        &format!("/cases/{id}/plans/{plan}/approval"),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "agreement first");
    let (s, _) = api_call(
        &app,
        &cw,
        "POST",
        &format!("/cases/{id}/plans/{plan}/agreement"),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, w) = api_call(&app, &sup, "GET", "/approvals/plans", Value::Null).await;
    assert_eq!(w["plans"].as_array().unwrap().len(), 1);
    let (s, _) = api_call(
        &app,
        &cw,
        "POST",
        &format!("/cases/{id}/plans/{plan}/approval"),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = api_call(
        &app,
        &sup,
        "POST",
        &format!("/cases/{id}/plans/{plan}/approval"),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, r) = api_call(&app, &cw, "POST", &format!("/cases/{id}/services"), json!({"service": "VocationalTraining", "started_on": "2026-01-10", "outcome": "Completed", "cost_minor": 30000, "plan_action_id": action})).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let (_, plans) = api_call(&app, &cw, "GET", &format!("/cases/{id}/plans"), Value::Null).await;
    let p = &plans["plans"][0];
    assert_eq!(p["approved"], true);
    assert_eq!(p["spl_ActionPlan"][0]["status"], "Done");
    assert_eq!(p["gaps"]["needs_without_action"], json!(["Housing"]));
    // Allowance: the status is Possible by default → a clear refusal.
    let (s, e) = api_call(
        &app,
        &cw,
        "POST",
        &format!("/cases/{id}/allowance"),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["field"], "vic_TraffickingStatus", "{e}");
    let (s, spec) = api_call(&app, &cw, "GET", "/openapi.json", Value::Null).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        spec["paths"]["/api/v1/cases/{id}/allowance"].is_object()
            || spec["paths"]["/cases/{id}/allowance"].is_object()
    );
}
