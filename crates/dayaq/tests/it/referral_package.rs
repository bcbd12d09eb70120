//! Off-platform referral packages between two Dayaq instances (two data directories / two
//! stores on the configured engine): export needs consent, the package carries only the
//! consented sections, a wrong identity fails clearly and writes nothing.
//!
//! Why this file is over 800 lines: five scenario tests between two instances, sharing the two-
//! store set-up at the top of the file.

use crate::kit::{
    TestDb, api_token, assert_cli_ok, bearer_get, ctx, dayaq_cli, fetch_text, json_answer,
    json_body, new_case, now, org_and_user, test_db,
};
use dayaq_storage::StoreError;
use dayaq_storage::identification::ConsentInput;
use dayaq_storage::packages::{PackageInput, generate_age_identity, parse_age_identities};

fn input(services: &[&str], override_reason: Option<&str>) -> PackageInput {
    PackageInput {
        recipient_org: "partner-b".into(),
        services: services.iter().map(|s| s.to_string()).collect(),
        reason: "AdditionalServicesRequired".into(),
        consent_override_reason: override_reason.map(str::to_string),
    }
}

fn fields(e: &StoreError) -> Vec<String> {
    match e {
        StoreError::Invalid(v) => v.errors.iter().map(|f| f.field.clone()).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

/// Instance B: its identity installed; returns the public key.
async fn instance_b(b: &TestDb) -> String {
    let (text, _) = generate_age_identity(now());
    b.store
        .install_instance_identity(&text, now())
        .await
        .unwrap()
}

#[tokio::test]
async fn package_moves_only_consented_sections_between_instances() {
    let a = test_db().await;
    let b = test_db().await;
    let b_public = instance_b(&b).await;

    // Instance A: an NGO, and instance B's organisation in A's directory with B's key.
    let (_, cw) = org_and_user(&a, "ngo-a", "caseworker").await;
    let (_, sup) = org_and_user(&a, "ngo-a", "supervisor").await;
    a.store
        .add_org("partner-b", "Partner B", "NGO", "Baku", now())
        .await
        .unwrap();
    let e = a
        .store
        .set_org_age_recipient("partner-b", "age1notakey", now())
        .await
        .unwrap_err();
    assert_eq!(fields(&e), vec!["age_recipient"]);
    a.store
        .set_org_age_recipient("partner-b", &b_public, now())
        .await
        .unwrap();
    let cw_actor = cw.actor();
    let case = new_case(
        &a.store,
        &cw_actor,
        ["Aysel", "Mammadova", "1990-04-01", "+994501234567"],
    )
    .await
    .id;

    // Without consent: refused, field-named, nothing recorded.
    let e = a
        .store
        .export_package(&ctx(&cw_actor), case, &input(&["VocationalTraining"], None))
        .await
        .err()
        .unwrap();
    assert_eq!(fields(&e), vec!["consent"]);
    // A caseworker cannot override; a supervisor can (below, in the second export).
    let e = a
        .store
        .export_package(
            &ctx(&cw_actor),
            case,
            &input(&["VocationalTraining"], Some("urgent return flight")),
        )
        .await
        .err()
        .unwrap();
    assert!(matches!(e, StoreError::Forbidden(_)), "{e:?}");
    assert!(
        a.store
            .case_referrals(&ctx(&cw_actor), case)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        a.store
            .audit_recent(50)
            .await
            .unwrap()
            .iter()
            .any(|r| r.action == "referral.package_export" && r.outcome == "denied")
    );

    // With consent covering partner-b: vocational training needs identity, plan, services.
    a.store
        .add_consent(
            &ctx(&cw_actor),
            case,
            &ConsentInput {
                purpose: "SharingWithOrganisation".into(),
                given: true,
                recipient_org: Some("partner-b".into()),
                recipient_org_type: None,
                given_by: "Survivor".into(),
                language: "az".into(),
            },
        )
        .await
        .unwrap();
    let p = a
        .store
        .export_package(&ctx(&cw_actor), case, &input(&["VocationalTraining"], None))
        .await
        .unwrap();
    assert!(!p.ciphertext.windows(5).any(|w| w == b"Aysel"));
    // A signed envelope around the age ciphertext.
    assert!(
        p.ciphertext
            .starts_with(b"{\"format\":\"dayaq-signed-referral-package\"")
    );
    let refs = a.store.case_referrals(&ctx(&cw_actor), case).await.unwrap();
    assert_eq!(refs.len(), 1);
    assert_eq!(refs[0].state, "Completed");
    assert_eq!(refs[0].id, p.referral_id);
    let sent = a.store.case_packages(&ctx(&cw_actor), case).await.unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].direction, "outgoing");
    assert_eq!(sent[0].sections, vec!["identity", "plan", "services"]);
    assert!(
        a.store
            .audit_recent(50)
            .await
            .unwrap()
            .iter()
            .any(|r| r.action == "referral.package_export"
                && r.outcome == "success"
                && r.case_id == case.to_string())
    );

    // Instance B, whose administrator accepted A's package-signing key.
    let (_, b_cw) = org_and_user(&b, "partner-b", "caseworker").await;
    let b_actor = b_cw.actor();
    let a_key = a
        .store
        .package_signing_public("ngo-a", now())
        .await
        .unwrap();
    b.store
        .trust_package_key("Organisation ngo-a", &a_key, now())
        .await
        .unwrap();
    // A wrong identity fails clearly and writes nothing (the package was made for another
    // recipient than this identity's).
    let (other, _) = generate_age_identity(now());
    let wrong = parse_age_identities(&other).unwrap();
    let e = b
        .store
        .import_package(&ctx(&b_actor), &p.ciphertext, &wrong)
        .await
        .unwrap_err();
    assert_eq!(fields(&e), vec!["package"]);
    // Garbage is refused as such.
    let e = b
        .store
        .import_package(&ctx(&b_actor), b"not a package", &wrong)
        .await
        .unwrap_err();
    assert_eq!(fields(&e), vec!["package"]);
    assert_eq!(b.store.count_cases(&ctx(&b_actor)).await.unwrap(), 0);

    let ids = b.store.instance_identities().await.unwrap();
    let imported = b
        .store
        .import_package(&ctx(&b_actor), &p.ciphertext, &ids)
        .await
        .unwrap();
    assert_eq!(imported.from_org, "Organisation ngo-a");
    assert_eq!(b.store.count_cases(&ctx(&b_actor)).await.unwrap(), 1);
    // The same package twice: refused, nothing written.
    let e = b
        .store
        .import_package(&ctx(&b_actor), &p.ciphertext, &ids)
        .await
        .unwrap_err();
    assert_eq!(fields(&e), vec!["package"]);
    assert_eq!(b.store.count_cases(&ctx(&b_actor)).await.unwrap(), 1);
    let v = b
        .store
        .get_case(&ctx(&b_actor), imported.case_id, true)
        .await
        .unwrap();
    let identity = v.identity.clone().unwrap();
    assert_eq!(identity.first_name.as_deref(), Some("Aysel"));
    assert_eq!(identity.birthdate.as_deref(), Some("1990-04-01"));
    assert_eq!(v.citizenship, vec!["AZ".to_string()]);
    // Contact details, notes and the victim context were not consented: absent.
    assert!(identity.mobile_phone.is_none());
    assert!(identity.notes.is_none());
    assert!(v.types_of_exploitation.is_empty());
    let got = b
        .store
        .case_packages(&ctx(&b_actor), imported.case_id)
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].direction, "incoming");
    assert_eq!(got[0].counterpart, "Organisation ngo-a");
    assert_eq!(got[0].services, vec!["VocationalTraining"]);
    assert_eq!(got[0].digest, sent[0].digest);
    assert!(
        b.store
            .audit_recent(20)
            .await
            .unwrap()
            .iter()
            .any(|r| r.action == "referral.package_import" && r.outcome == "success")
    );

    // A supervisor's override (no consent needed) for return home: contact details go too.
    let case2 = new_case(
        &a.store,
        &cw_actor,
        ["Leyla", "Aliyeva", "1995-02-03", "+994551112233"],
    )
    .await
    .id;
    let sup_actor = sup.actor();
    let p2 = a
        .store
        .export_package(
            &ctx(&sup_actor),
            case2,
            &input(
                &["ReturnHome"],
                Some("flight tomorrow; survivor agreed by phone"),
            ),
        )
        .await
        .unwrap();
    let refs = a
        .store
        .case_referrals(&ctx(&cw_actor), case2)
        .await
        .unwrap();
    assert!(refs[0].consent_override);
    assert!(
        a.store
            .audit_recent(10)
            .await
            .unwrap()
            .iter()
            .any(|r| r.action == "referral.consent_override" && r.case_id == case2.to_string())
    );
    let imported = b
        .store
        .import_package(&ctx(&b_actor), &p2.ciphertext, &ids)
        .await
        .unwrap();
    let v = b
        .store
        .get_case(&ctx(&b_actor), imported.case_id, true)
        .await
        .unwrap();
    let identity = v.identity.unwrap();
    assert_eq!(identity.mobile_phone.as_deref(), Some("+994551112233"));
    assert!(identity.notes.is_none());

    a.cleanup().await;
    b.cleanup().await;
}

#[tokio::test]
async fn recipient_without_key_or_unknown_is_refused_by_field() {
    let a = test_db().await;
    let (_, cw) = org_and_user(&a, "ngo-a", "caseworker").await;
    a.store
        .add_org("partner-b", "Partner B", "NGO", "Baku", now())
        .await
        .unwrap();
    let actor = cw.actor();
    let case = new_case(&a.store, &actor, ["A", "B", "1990-01-01", "+994500000000"])
        .await
        .id;
    let e = a
        .store
        .export_package(&ctx(&actor), case, &input(&["Medical", "Teleport"], None))
        .await
        .unwrap_err();
    assert_eq!(fields(&e), vec!["recipient_org", "services[1]"]);
    // An organisation that works on the platform gets a referral, not a package.
    let mut i = input(&["Medical"], None);
    i.recipient_org = "on-platform".into();
    org_and_user(&a, "on-platform", "caseworker").await;
    let e = a
        .store
        .export_package(&ctx(&actor), case, &i)
        .await
        .unwrap_err();
    assert_eq!(fields(&e), vec!["recipient_org", "recipient_org"]);
    let mut i = input(&["Medical"], None);
    i.recipient_org = "nobody".into();
    i.reason = "Because".into();
    let e = a
        .store
        .export_package(&ctx(&actor), case, &i)
        .await
        .unwrap_err();
    assert_eq!(
        fields(&e),
        vec!["recipient_org", "cas_ReasonForOutgoingReferral"]
    );
    a.cleanup().await;
}

// ---------- command line, two data directories ----------

#[tokio::test]
async fn cli_export_on_one_instance_import_on_another() {
    let a = test_db().await;
    let b = test_db().await;
    let (_, cw) = org_and_user(&a, "ngo-a", "caseworker").await;
    let (_, b_cw) = org_and_user(&b, "partner-b", "caseworker").await;
    let dir = a.dir.path().to_path_buf();

    // B creates its identity; the public key is printed.
    let key_file = b.dir.path().join("package.key");
    let out = dayaq_cli(
        &b,
        &["key", "age-identity", "--out", key_file.to_str().unwrap()],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_cli_ok(&out);
    let public = stdout
        .lines()
        .find(|l| l.starts_with("age1"))
        .unwrap()
        .to_string();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0);
    }

    // A records B's key; a bad key is refused naming the field.
    let out = dayaq_cli(
        &a,
        &[
            "org",
            "add",
            "--slug",
            "partner-b",
            "--name",
            "Partner B",
            "--type",
            "NGO",
        ],
    );
    assert!(out.status.success());
    let out = dayaq_cli(
        &a,
        &[
            "org",
            "set-recipient",
            "--slug",
            "partner-b",
            "--age-recipient",
            "age1bad",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("age_recipient:"));
    let out = dayaq_cli(
        &a,
        &[
            "org",
            "set-recipient",
            "--slug",
            "partner-b",
            "--age-recipient",
            &public,
        ],
    );
    assert_cli_ok(&out);

    let actor = cw.actor();
    let case = new_case(
        &a.store,
        &actor,
        ["Nigar", "Huseynova", "1992-05-06", "+994709998877"],
    )
    .await
    .id
    .to_string();
    let pkg = dir.join("referral.age");
    let export = |a: &TestDb| {
        dayaq_cli(
            a,
            &[
                "referral",
                "export-package",
                "--case",
                &case,
                "--recipient-org",
                "partner-b",
                "--services",
                "Medical,ReturnHome",
                "--reason",
                "Other",
                "--as",
                &cw.username,
                "--out",
                pkg.to_str().unwrap(),
            ],
        )
    };
    // No consent: refused, no file.
    let out = export(&a);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("consent:"));
    assert!(!pkg.exists());
    a.store
        .add_consent(
            &ctx(&actor),
            case.parse().unwrap(),
            &ConsentInput {
                purpose: "SharingWithOrganisationType".into(),
                given: true,
                recipient_org: None,
                recipient_org_type: Some("NGO".into()),
                given_by: "Survivor".into(),
                language: "az".into(),
            },
        )
        .await
        .unwrap();
    let out = export(&a);
    assert_cli_ok(&out);
    assert!(
        std::fs::read(&pkg)
            .unwrap()
            .starts_with(b"{\"format\":\"dayaq-signed-referral-package\"")
    );

    // A prints its package-signing key; B's administrator accepts it (audited).
    let out = dayaq_cli(&a, &["key", "package-signing-public", "--org", "ngo-a"]);
    assert_cli_ok(&out);
    let a_key = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(a_key.starts_with("dayaq-package-key-1:"), "{a_key}");
    let out = dayaq_cli(
        &b,
        &[
            "org",
            "trust-package-key",
            "--sender",
            "NGO A (Baku)",
            "--key",
            &a_key,
        ],
    );
    assert_cli_ok(&out);

    // B, wrong identity: exit 1, names the package (made for another recipient), nothing
    // imported.
    let wrong = b.dir.path().join("wrong.key");
    std::fs::write(&wrong, generate_age_identity(now()).0.as_bytes()).unwrap();
    let import = |key: &std::path::Path| {
        dayaq_cli(
            &b,
            &[
                "referral",
                "import-package",
                pkg.to_str().unwrap(),
                "--identity",
                key.to_str().unwrap(),
                "--as",
                &b_cw.username,
            ],
        )
    };
    let out = import(&wrong);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("package:") && stderr.contains("nothing was imported"),
        "{stderr}"
    );
    let b_actor = b_cw.actor();
    assert_eq!(b.store.count_cases(&ctx(&b_actor)).await.unwrap(), 0);

    let out = import(&key_file);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_cli_ok(&out);
    assert!(
        stdout.contains("sections: identity, contact_details, health"),
        "{stdout}"
    );
    assert!(
        stdout.contains("from NGO A (Baku) (verified sender)"),
        "{stdout}"
    );
    assert!(!stdout.contains("Nigar"));
    assert_eq!(b.store.count_cases(&ctx(&b_actor)).await.unwrap(), 1);

    a.cleanup().await;
    b.cleanup().await;
}

// ---------- API: two running instances ----------

#[tokio::test]
async fn api_export_on_one_instance_upload_on_another() {
    use reqwest::StatusCode;
    use serde_json::{Value, json};
    let a = crate::kit::spawn_app().await;
    let b = crate::kit::spawn_app().await;
    let http = crate::kit::local_client().build().expect("http client");
    let a_tok = api_token(&a.db, "ngo-a", "caseworker").await;
    let b_tok = api_token(&b.db, "partner-b", "caseworker").await;

    a.db.store
        .add_org("partner-b", "Partner B", "NGO", "Baku", now())
        .await
        .unwrap();
    let (text, _) = generate_age_identity(now());
    let public =
        b.db.store
            .install_instance_identity(&text, now())
            .await
            .unwrap();
    a.db.store
        .set_org_age_recipient("partner-b", &public, now())
        .await
        .unwrap();
    // B's administrator accepted A's package-signing key.
    let a_key =
        a.db.store
            .package_signing_public("ngo-a", now())
            .await
            .unwrap();
    b.db.store
        .trust_package_key("Organisation ngo-a", &a_key, now())
        .await
        .unwrap();
    let r: Value = bearer_get(
        &http,
        format!("{}/api/v1/package-recipients", a.base_url),
        &a_tok,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(r["recipients"][0]["org_slug"], "partner-b");
    assert_eq!(r["recipients"][0]["age_recipient"], public.as_str());

    let (status, case) = json_answer(http
        .post(format!("{}/api/v1/cases", a.base_url))
        .bearer_auth(&a_tok)
        .json(&json!({"prs_FirstName": "Sevda", "prs_MobilePhone": "+994501110000", "prs_Gender": "Feminine", "vic_TypeOfExploitation": ["ForcedLabour"]}))).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = case["id"].as_str().unwrap().to_string();
    let body = json!({"recipient_org": "partner-b", "services": ["AirportMeeting"], "cas_ReasonForOutgoingReferral": "MigrationOrChangeOfLocation"});
    let export = || {
        http.post(format!(
            "{}/api/v1/cases/{id}/referral-packages",
            a.base_url
        ))
        .bearer_auth(&a_tok)
        .json(&body)
        .send()
    };
    // No consent: 422 naming `consent`.
    let r = export().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = r.json().await.unwrap();
    assert!(e.to_string().contains("\"consent\""), "{e}");
    let r = http
        .post(format!("{}/api/v1/cases/{id}/consents", a.base_url))
        .bearer_auth(&a_tok)
        .json(&json!({"purpose": "SharingWithOrganisation", "given": true, "recipient_org": "partner-b", "given_by": "Survivor", "language": "az"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let r = export().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
    let referral = r.headers()["x-dayaq-referral"]
        .to_str()
        .unwrap()
        .to_string();
    let pkg = r.bytes().await.unwrap();
    let r: Value = bearer_get(
        &http,
        format!("{}/api/v1/referrals/{referral}", a.base_url),
        &a_tok,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(r["state"], "Completed");

    // B: upload; only identity + contact details arrive (airport meeting).
    let (status, imported) = json_answer(
        http.post(format!("{}/api/v1/referral-packages/import", b.base_url))
            .bearer_auth(&b_tok)
            .header("content-type", "application/octet-stream")
            .body(pkg.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(imported["sections"], json!(["identity", "contact_details"]));
    let cid = imported["case_id"].as_str().unwrap();
    let v: Value = bearer_get(
        &http,
        format!("{}/api/v1/cases/{cid}?include=identity", b.base_url),
        &b_tok,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(v["prs_Gender"], "Feminine");
    assert_eq!(v["identity"]["prs_FirstName"], "Sevda");
    assert_eq!(v["identity"]["prs_MobilePhone"], "+994501110000");
    // The victim context was not in the package.
    assert_eq!(v["vic_TypeOfExploitation"], json!([]));
    let r: Value = bearer_get(
        &http,
        format!("{}/api/v1/cases/{cid}/referral-packages", b.base_url),
        &b_tok,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(r["packages"][0]["direction"], "incoming");
    assert_eq!(r["packages"][0]["counterpart"], "Organisation ngo-a");

    // Instance A cannot open its own package (made for B's key): 422, nothing written.
    let (_, a_sup) = org_and_user(&a.db, "ngo-a", "supervisor").await;
    let a_sup = a_sup.actor();
    let a_cases = a.db.store.count_cases(&ctx(&a_sup)).await.unwrap();
    assert_eq!(a_cases, 1);
    let (status, e) = json_answer(
        http.post(format!("{}/api/v1/referral-packages/import", a.base_url))
            .bearer_auth(&a_tok)
            .header("content-type", "application/octet-stream")
            .body(pkg),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(e.to_string().contains("wrong_recipient"), "{e}");
    assert_eq!(a.db.store.count_cases(&ctx(&a_sup)).await.unwrap(), a_cases);
}

// ---------- screens: two running instances ----------

/// The case page shows a referral's details and travel details to the sender; it sends an
/// off-platform package (refused without consent, with the reason on the page; a download
/// with consent); the other instance's referrals page imports the file (multipart through
/// htmx, CSRF token in the header) into a new case that records the package.
#[tokio::test]
async fn screens_send_a_package_and_import_it_on_another_instance() {
    use reqwest::StatusCode;
    use serde_json::json;
    let a = crate::kit::spawn_app().await;
    let b = crate::kit::spawn_app().await;
    let api = crate::kit::local_client().build().expect("http client");
    let a_tok = api_token(&a.db, "ngo-a", "caseworker").await;
    let a_user = a.db.store.user_by_name("ngo-a-caseworker").await.unwrap();
    a.db.store.set_locale(a_user.id, "en").await.unwrap();
    let (_, b_user) = org_and_user(&b.db, "partner-b", "caseworker").await;
    b.db.store.set_locale(b_user.id, "en").await.unwrap();
    a.db.store
        .add_org("partner-b", "Partner B", "NGO", "Baku", now())
        .await
        .unwrap();
    org_and_user(&a.db, "iom-a", "caseworker").await;
    let (text, _) = generate_age_identity(now());
    let public =
        b.db.store
            .install_instance_identity(&text, now())
            .await
            .unwrap();
    a.db.store
        .set_org_age_recipient("partner-b", &public, now())
        .await
        .unwrap();
    // B's administrator accepted A's package-signing key.
    let a_key =
        a.db.store
            .package_signing_public("ngo-a", now())
            .await
            .unwrap();
    b.db.store
        .trust_package_key("Organisation ngo-a", &a_key, now())
        .await
        .unwrap();
    let body = json!({"prs_FirstName": "Sevda", "prs_MobilePhone": "+994501110000",
                      "prs_Gender": "Feminine", "prs_Citizenship": ["UZ"]});
    let cases = format!("{}/api/v1/cases", a.base_url);
    let case = json_body(api.post(cases).bearer_auth(&a_tok).json(&body)).await;
    let id = case["id"].as_str().unwrap().to_string();
    // An on-platform return-home referral with details and travel (consent to that org).
    let r = api
        .post(format!("{}/api/v1/cases/{id}/consents", a.base_url))
        .bearer_auth(&a_tok)
        .json(&json!({"purpose": "SharingWithOrganisation", "given": true, "recipient_org": "iom-a", "given_by": "Survivor", "language": "ru"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let r = api
        .post(format!("{}/api/v1/cases/{id}/referrals", a.base_url))
        .bearer_auth(&a_tok)
        .json(&json!({"to_org": "iom-a", "services": ["ReturnHome"], "cas_ReasonForOutgoingReferral": "MigrationOrChangeOfLocation",
            "cas_OutgoingReferralDetails": "Wants to travel before the school year", "travel": {"travel_date": "2099-08-20", "destination_country": "UZ", "airport": "TAS", "escort_needed": true}}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );

    let c = crate::kit::web_client();
    crate::kit::sign_in(&c, &a.base_url, &a_user.username).await;
    let html = fetch_text(&c, format!("{}/cases/{id}", a.base_url)).await;
    assert!(
        html.contains("Wants to travel before the school year"),
        "details shown"
    );
    assert!(
        html.contains("<dd>TAS</dd>") && html.contains("<dd>2099-08-20</dd>"),
        "travel shown"
    );
    assert!(html.contains("id=\"packages\""));
    assert!(html.contains("<option value=\"partner-b\">Partner B</option>"));
    let csrf = crate::kit::csrf_field(&html);
    let send = || {
        c.post(format!("{}/cases/{id}/referral-package", a.base_url))
            .form(&[
                ("csrf", csrf.as_str()),
                ("recipient_org", "partner-b"),
                ("service", "AirportMeeting"),
                ("reason", "MigrationOrChangeOfLocation"),
            ])
            .send()
    };
    // No consent to share with Partner B: refused, the case page says why, nothing sent.
    let r = send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(page.contains("role=\"alert\""), "{page}");
    assert!(!page.contains("id=\"case-packages\""));
    let r = api
        .post(format!("{}/api/v1/cases/{id}/consents", a.base_url))
        .bearer_auth(&a_tok)
        .json(&json!({"purpose": "SharingWithOrganisation", "given": true, "recipient_org": "partner-b", "given_by": "Survivor", "language": "ru"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let r = send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with("attachment; filename=\"referral-")
            && !disposition.contains("Sevda")
    );
    let pkg = r.bytes().await.unwrap().to_vec();
    let html = fetch_text(&c, format!("{}/cases/{id}", a.base_url)).await;
    assert!(
        html.contains("id=\"case-packages\""),
        "the package is listed"
    );
    assert!(html.contains("<td>sent</td><td>Partner B</td>"), "{html}");

    // Instance B: the referrals page imports the file.
    let c = crate::kit::web_client();
    crate::kit::sign_in(&c, &b.base_url, &b_user.username).await;
    let html = fetch_text(&c, format!("{}/referrals", b.base_url)).await;
    assert!(html.contains("id=\"package-import\""));
    let csrf = crate::kit::csrf_field(&html);
    let upload = |file: Vec<u8>, token: Option<&str>| {
        let boundary = "dayaqPackageBoundary7";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.age\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(&file);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let mut rq = c
            .post(format!("{}/referrals/import-package", b.base_url))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header("hx-request", "true")
            .body(body);
        if let Some(t) = token {
            rq = rq.header("x-csrf-token", t);
        }
        rq.send()
    };
    let b_actor = b_user.actor();
    // Without the token (no JavaScript): refused. Not a package: the page says so.
    // (The "session ended" answer of issue #23 §2: nothing is applied.)
    let r = upload(pkg.clone(), None).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = upload(b"not a package".to_vec(), Some(&csrf))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("role=\"alert\""));
    let r = upload(Vec::new(), Some(&csrf)).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Choose a package file first.")
    );
    assert_eq!(b.db.store.count_cases(&ctx(&b_actor)).await.unwrap(), 0);

    let r = upload(pkg, Some(&csrf)).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(r.headers()["hx-redirect"].to_str().unwrap(), to);
    assert!(to.starts_with("/cases/"));
    assert_eq!(b.db.store.count_cases(&ctx(&b_actor)).await.unwrap(), 1);
    let html = fetch_text(&c, format!("{}{to}", b.base_url)).await;
    assert!(
        html.contains(
            "<td>received</td><td>Organisation ngo-a <strong class=\"verified\">(verified sender)</strong></td>"
        ),
        "{html}"
    );
    assert!(
        !html.contains("Sevda"),
        "identity stays hidden until asked for"
    );
    a.db.cleanup().await;
    b.db.cleanup().await;
}
