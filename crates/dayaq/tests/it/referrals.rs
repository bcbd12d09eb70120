//! Referral mechanism over the API: consent, override, need-to-know, lifecycle, eligibility,
//! break-glass.

use crate::kit::{api_call_opt, org_token, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn ngo_refers_to_assistance_center_for_vocational_training() {
    let app = spawn_app().await;
    let ngo = org_token(&app.db, "ngo-baku", "caseworker", "NGO", "Baku").await;
    let ngo_sup = org_token(&app.db, "ngo-baku", "supervisor", "NGO", "Baku").await;
    let center = org_token(
        &app.db,
        "assistance-center",
        "caseworker",
        "CentralGovernmentOrganisation",
        "Baku",
    )
    .await;
    let sysadmin = org_token(
        &app.db,
        "system",
        "system_admin",
        "CentralGovernmentOrganisation",
        "Baku",
    )
    .await;
    // The Center offers vocational training in Baku.
    let (s, _e) = api_call_opt(
        &app,
        &sysadmin,
        "PUT",
        "/directory/assistance-center",
        Some(json!({"service": "VocationalTraining", "region": "Baku", "languages": "az,ru"})),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{_e}");
    let (_, d) = api_call_opt(
        &app,
        &ngo,
        "GET",
        "/directory?service=VocationalTraining&region=Baku",
        None,
    )
    .await;
    assert_eq!(d["services"][0]["org_slug"], "assistance-center");
    let (_, cov) = api_call_opt(&app, &ngo, "GET", "/directory/coverage", None).await;
    let baku = cov["regions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["region"] == "Baku")
        .unwrap()
        .clone();
    assert!(
        baku["missing"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m == "Housing")
    );

    let (s, case) = api_call_opt(&app, &ngo, "POST", "/cases", Some(json!({
        "prs_FirstName": "Günay", "prs_SecondName": "Testova", "prs_Birthdate": "1997-02-03",
        "prs_MobilePhone": "+994 55 111 22 33", "cco_CaseComment": "private note",
        "prs_Gender": "Feminine", "vic_TypeOfExploitation": ["SexualExploitation"], "vic_MethodsOfControl": ["DebtBondage"]
    }))).await;
    assert_eq!(s, StatusCode::CREATED);
    let id = case["id"].as_str().unwrap().to_string();
    let referral = json!({"to_org": "assistance-center", "services": ["VocationalTraining"], "cas_ReasonForOutgoingReferral": "AdditionalServicesRequired", "cas_OutgoingReferralDetails": "wants tailoring course"});

    // Without consent: refused. A caseworker cannot override; a supervisor can, with a reason.
    let (s, e) = api_call_opt(
        &app,
        &ngo,
        "POST",
        &format!("/cases/{id}/referrals"),
        Some(referral.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["field"], "consent");
    let mut with_override = referral.clone();
    with_override["consent_override_reason"] = json!("survivor consented orally; form to follow");
    let (s, _) = api_call_opt(
        &app,
        &ngo,
        "POST",
        &format!("/cases/{id}/referrals"),
        Some(with_override.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, over) = api_call_opt(
        &app,
        &ngo_sup,
        "POST",
        &format!("/cases/{id}/referrals"),
        Some(with_override),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{over}");
    assert_eq!(over["consent_override"], true);
    assert_eq!(
        over["override_reason"],
        "survivor consented orally; form to follow"
    );
    let (_, ev) = api_call_opt(&app, &ngo, "GET", &format!("/cases/{id}/events"), None).await;
    assert!(
        ev.to_string().contains("referral.override"),
        "the override is shown on the case"
    );
    // Withdraw the override referral; record consent; refer again normally.
    let oid = over["id"].as_str().unwrap();
    let (s, _) = api_call_opt(
        &app,
        &ngo,
        "POST",
        &format!("/referrals/{oid}/withdraw"),
        Some(json!({})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = api_call_opt(&app, &ngo, "POST", &format!("/cases/{id}/consents"), Some(json!({"purpose": "SharingWithOrganisation", "given": true, "recipient_org": "assistance-center", "given_by": "Survivor", "language": "az"}))).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, r) = api_call_opt(
        &app,
        &ngo,
        "POST",
        &format!("/cases/{id}/referrals"),
        Some(referral),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let rid = r["id"].as_str().unwrap().to_string();
    assert_eq!(r["state"], "Pending");

    // Pending: the Center has it in its inbox but cannot open the case.
    let (_, inbox) = api_call_opt(&app, &center, "GET", "/referrals/inbox", None).await;
    assert!(
        inbox["referrals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == rid.as_str())
    );
    let (_, notes) = api_call_opt(&app, &center, "GET", "/notifications", None).await;
    assert!(
        notes["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "referral.received")
    );
    assert!(!notes.to_string().contains("Günay"));
    let (s, _) = api_call_opt(&app, &center, "GET", &format!("/cases/{id}"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Decline needs a reason; the sender cannot accept its own referral.
    let (s, _) = api_call_opt(
        &app,
        &center,
        "POST",
        &format!("/referrals/{rid}/decline"),
        Some(json!({})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = api_call_opt(
        &app,
        &ngo,
        "POST",
        &format!("/referrals/{rid}/accept"),
        Some(json!({})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // Accepted: the Center sees only what vocational training needs.
    let (s, _) = api_call_opt(
        &app,
        &center,
        "POST",
        &format!("/referrals/{rid}/accept"),
        Some(json!({})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, seen) = api_call_opt(
        &app,
        &center,
        "GET",
        &format!("/cases/{id}?include=identity"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(seen["identity"]["prs_FirstName"], "Günay");
    assert!(
        seen["identity"].get("prs_MobilePhone").is_none(),
        "no contact details"
    );
    assert!(
        seen["identity"].get("cco_CaseComment").is_none(),
        "no notes"
    );
    assert!(
        seen.get("vic_MethodsOfControl").is_none(),
        "no victim context"
    );
    let (s, _) = api_call_opt(
        &app,
        &center,
        "GET",
        &format!("/cases/{id}/screenings"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "victim context is not referred");
    let (s, _) = api_call_opt(
        &app,
        &center,
        "PUT",
        &format!("/cases/{id}/legal"),
        Some(json!({"cooperation": "Yes"})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "read-only");
    let (_, d) = api_call_opt(&app, &center, "GET", &format!("/referrals/{rid}"), None).await;
    assert_eq!(d["cas_OutgoingReferralDetails"], "wants tailoring course");

    // Completed: access ends.
    let (s, _) = api_call_opt(
        &app,
        &center,
        "POST",
        &format!("/referrals/{rid}/complete"),
        Some(json!({})),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = api_call_opt(&app, &center, "GET", &format!("/cases/{id}"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = api_call_opt(
        &app,
        &center,
        "POST",
        &format!("/referrals/{rid}/accept"),
        Some(json!({})),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "completed is final");
}

#[tokio::test]
async fn state_shelter_eligibility_is_checked_and_explained() {
    let app = spawn_app().await;
    let ngo = org_token(&app.db, "ngo-baku", "caseworker", "NGO", "Baku").await;
    let sysadmin = org_token(
        &app.db,
        "system",
        "system_admin",
        "CentralGovernmentOrganisation",
        "Baku",
    )
    .await;
    org_token(
        &app.db,
        "state-shelter",
        "caseworker",
        "CentralGovernmentOrganisation",
        "Baku",
    )
    .await;
    api_call_opt(&app, &sysadmin, "PUT", "/directory/state-shelter", Some(json!({"service": "Shelter", "region": "Baku", "capacity": 12, "requires_police_cooperation": true, "requires_criminal_case": true}))).await;
    let (_, case) = api_call_opt(
        &app,
        &ngo,
        "POST",
        "/cases",
        Some(json!({"prs_Gender": "Feminine"})),
    )
    .await;
    let id = case["id"].as_str().unwrap().to_string();
    api_call_opt(&app, &ngo, "POST", &format!("/cases/{id}/consents"), Some(json!({"purpose": "SharingWithOrganisationType", "given": true, "recipient_org_type": "CentralGovernmentOrganisation", "given_by": "Survivor", "language": "az"}))).await;
    let body = json!({"to_org": "state-shelter", "services": ["Shelter"], "cas_ReasonForOutgoingReferral": "AdditionalServicesRequired"});
    let (s, e) = api_call_opt(
        &app,
        &ngo,
        "POST",
        &format!("/cases/{id}/referrals"),
        Some(body.clone()),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let codes: Vec<&str> = e["error"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        vec!["needs_police_cooperation", "needs_criminal_case"]
    );
    let (s, _) = api_call_opt(
        &app,
        &ngo,
        "PUT",
        &format!("/cases/{id}/legal"),
        Some(json!({"cooperation": "Yes", "criminal_case_ref": "CC-2026-41"})),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, l) = api_call_opt(&app, &ngo, "GET", &format!("/cases/{id}/legal"), None).await;
    assert_eq!(l["legal"]["criminal_case_ref"], "CC-2026-41");
    let (s, r) = api_call_opt(
        &app,
        &ngo,
        "POST",
        &format!("/cases/{id}/referrals"),
        Some(body),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
}

#[tokio::test]
async fn break_glass_is_time_limited_notified_and_audited() {
    let app = spawn_app().await;
    let ngo = org_token(&app.db, "ngo-baku", "caseworker", "NGO", "Baku").await;
    let other_sup = org_token(&app.db, "ngo-ganja", "supervisor", "NGO", "Ganja-Gazakh").await;
    let other_cw = org_token(&app.db, "ngo-ganja", "caseworker", "NGO", "Ganja-Gazakh").await;
    let owner_sup = org_token(&app.db, "ngo-baku", "supervisor", "NGO", "Baku").await;
    let (_, case) = api_call_opt(
        &app,
        &ngo,
        "POST",
        "/cases",
        Some(json!({"prs_FirstName": "Sevda", "prs_Gender": "Feminine"})),
    )
    .await;
    let id = case["id"].as_str().unwrap().to_string();
    let number = case["case_number"].as_str().unwrap().to_string();
    let (s, _) = api_call_opt(
        &app,
        &other_cw,
        "POST",
        "/break-glass",
        Some(json!({"case_number": number, "reason": "survivor at our door, in danger"})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "only supervisors");
    let (s, _) = api_call_opt(
        &app,
        &other_sup,
        "POST",
        "/break-glass",
        Some(json!({"case_number": number, "reason": "short"})),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a real reason is required"
    );
    let (s, _) = api_call_opt(&app, &other_sup, "GET", &format!("/cases/{id}"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, bg) = api_call_opt(
        &app,
        &other_sup,
        "POST",
        "/break-glass",
        Some(json!({"case_number": number, "reason": "survivor at our door, in danger"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{bg}");
    let (s, seen) = api_call_opt(
        &app,
        &other_sup,
        "GET",
        &format!("/cases/{id}?include=identity"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(seen["identity"]["prs_FirstName"], "Sevda");
    let (s, _) = api_call_opt(
        &app,
        &other_sup,
        "PUT",
        &format!("/cases/{id}/legal"),
        Some(json!({"cooperation": "No"})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "break-glass is read-only");
    let (_, n) = api_call_opt(&app, &owner_sup, "GET", "/notifications", None).await;
    assert!(
        n["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["kind"] == "break_glass.opened")
    );
    let (_, n) = api_call_opt(&app, &ngo, "GET", "/notifications", None).await;
    assert!(
        !n["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["kind"] == "break_glass.opened"),
        "supervisors are notified"
    );
    let audit = app.db.store.audit_recent(50).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|r| r.action == "break_glass" && r.case_id == id)
    );
    // Expiry: with a store whose clock is 4 hours later, access is gone.
    let later = time::OffsetDateTime::now_utc() + time::Duration::hours(4);
    let sup_user = app
        .db
        .store
        .user_by_name("ngo-ganja-supervisor")
        .await
        .unwrap();
    let actor = sup_user.actor();
    let ctx = dayaq_storage::cases::Ctx {
        actor: &actor,
        source: "test",
        now: later,
    };
    let r = app
        .db
        .store
        .get_case(&ctx, uuid::Uuid::parse_str(&id).unwrap(), false)
        .await;
    assert!(matches!(r, Err(dayaq_storage::StoreError::NotFound)));
}

/// Transnational referral of a foreign victim: the State Migration Service (org_Type
/// ImmigrationService) registers an Uzbek national, and refers her to IOM for return home and
/// an airport meeting. Travel details are required for those services, checked field by
/// field (nothing is written on error), encrypted, and shown to the two organisations only.
#[tokio::test]
async fn migration_service_refers_a_foreign_victim_for_return_home_with_travel_details() {
    let app = spawn_app().await;
    let sms = org_token(
        &app.db,
        "state-migration",
        "caseworker",
        "ImmigrationService",
        "Baku",
    )
    .await;
    let iom = org_token(&app.db, "iom-baku", "caseworker", "NGO", "Baku").await;
    let other = org_token(&app.db, "ngo-other", "caseworker", "NGO", "Ganja").await;
    let sysadmin = org_token(&app.db, "platform", "system_admin", "NGO", "Baku").await;
    for svc in ["ReturnHome", "AirportMeeting"] {
        let (s, v) = api_call_opt(
            &app,
            &sysadmin,
            "PUT",
            "/directory/iom-baku",
            Some(json!({"service": svc, "region": "Baku", "languages": "uz,ru"})),
        )
        .await;
        assert!(s.is_success(), "{s} {v}");
    }
    let (s, case) = api_call_opt(&app, &sms, "POST", "/cases", Some(json!({"prs_FirstName": "Dilnoza", "prs_SecondName": "K", "prs_Birthdate": "1999-03-03", "prs_Gender": "Feminine", "prs_Citizenship": ["UZ"], "vic_TypeOfExploitation": ["ForcedLabour"]}))).await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    let id = case["id"].as_str().unwrap().to_string();
    let (s, _) = api_call_opt(&app, &sms, "POST", &format!("/cases/{id}/consents"), Some(json!({"purpose": "SharingWithOrganisation", "given": true, "recipient_org": "iom-baku", "given_by": "Survivor", "language": "uz"}))).await;
    assert_eq!(s, StatusCode::CREATED);
    let refer_path = format!("/cases/{id}/referrals");
    let refer = |body: Value| api_call_opt(&app, &sms, "POST", &refer_path, Some(body));
    let base = json!({"to_org": "iom-baku", "services": ["ReturnHome", "AirportMeeting"], "cas_ReasonForOutgoingReferral": "MigrationOrChangeOfLocation"});
    let fields = |v: &Value| -> Vec<String> {
        let mut f: Vec<String> = v["error"]["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["field"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default();
        if let Some(x) = v["error"]["field"].as_str() {
            f.push(x.to_string());
        }
        f.sort();
        f.dedup();
        f
    };
    // Without travel details: refused, naming the field.
    let (s, v) = refer(base.clone()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(fields(&v), vec!["travel"]);
    // Incomplete and wrong details: every problem named.
    let mut b = base.clone();
    b["travel"] = json!({"travel_date": "2020-01-01", "destination_country": "Uzbekistan", "travel_documents": "Lost"});
    let (s, v) = refer(b).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(
        fields(&v),
        vec![
            "travel.airport",
            "travel.arrival_time",
            "travel.destination_country",
            "travel.travel_date",
            "travel.travel_documents"
        ]
    );
    let (_, list) = api_call_opt(&app, &sms, "GET", &format!("/cases/{id}/referrals"), None).await;
    assert_eq!(
        list["referrals"].as_array().map(Vec::len),
        Some(0),
        "nothing written on error"
    );
    // Complete details: sent; both organisations read them, nobody else.
    let day = (crate::kit::now().date() + time::Duration::days(7)).to_string();
    let mut b = base.clone();
    b["travel"] = json!({"travel_date": day, "arrival_time": "06:40", "destination_country": "UZ", "airport": "TAS", "flight": "HY 054", "escort_needed": true, "travel_documents": "Requested", "notes": "meet at arrivals, speaks Uzbek and Russian"});
    let (s, r) = refer(b).await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let rid = r["id"].as_str().unwrap().to_string();
    assert_eq!(r["travel"]["airport"], "TAS");
    let (s, seen) = api_call_opt(&app, &iom, "GET", &format!("/referrals/{rid}"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(seen["travel"]["destination_country"], "UZ");
    assert_eq!(seen["travel"]["escort_needed"], true);
    let (s, _) = api_call_opt(&app, &other, "GET", &format!("/referrals/{rid}"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Stored encrypted: the flight number is not in the database in clear.
    let raw: Option<Vec<u8>> = sqlx::query_scalar("SELECT travel FROM referrals WHERE id = $1")
        .bind(&rid)
        .fetch_one(app.db.store.pool())
        .await
        .unwrap();
    let raw = raw.unwrap();
    assert!(!raw.windows(6).any(|w| w == b"HY 054"));
    // Travel details on a referral for other services are refused.
    let (s, v) = api_call_opt(&app, &sms, "POST", &format!("/cases/{id}/referrals"), Some(json!({"to_org": "iom-baku", "services": ["Medical"], "cas_ReasonForOutgoingReferral": "Other", "travel": {"travel_date": day}}))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(fields(&v), vec!["travel"]);
    app.db.cleanup().await;
}
