//! Rules of practice as data (issue #17 part 4): the reflection period (setting, a case's
//! dates, the warning on the identification and legal forms), facility admission rules (off
//! by default; switched on by the coordinator only; refusals counted and audited; the
//! CoE art. 12(6) warning on the screens), her priorities on the plan (sealed at rest).
//! Runs on SQLite, and on PostgreSQL when `DAYAQ_TEST_DATABASE_URL` is set.

use crate::kit::{
    TestApp, api_call, api_call_opt, form_post, now, page_get, spawn_app, token_and_user,
    web_session,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn audit_details(app: &TestApp, action: &str) -> Vec<String> {
    sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = $1 ORDER BY seq")
        .bind(action)
        .fetch_all(app.db.store.pool())
        .await
        .unwrap()
}

fn codes(v: &Value) -> Vec<(String, String)> {
    v["error"]["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap_or("").to_string(),
                        e["code"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn new_case(app: &TestApp, cw: &str) -> String {
    let (s, c) = api_call(app, cw, "POST", "/cases", json!({"prs_Gender": "Feminine"})).await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    c["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn rules_reflection_period_dates_setting_and_warning() {
    let app = spawn_app().await;
    let (cw, cw_user) = token_and_user(&app.db, "ngo-rules", "caseworker").await;
    let (coord, coord_user) = token_and_user(&app.db, "org-nrm", "national_coordinator").await;
    let (sup, _) = token_and_user(&app.db, "ngo-rules", "supervisor").await;

    // Default 30 days; only the coordinator changes it; below 30 is refused naming `days`.
    let (s, r) = api_call_opt(&app, &cw, "GET", "/rules/reflection-period", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(r["days"], 30);
    assert!(r["updated_at"].is_null());
    for t in [&cw, &sup] {
        let (s, _) = api_call(
            &app,
            t,
            "PUT",
            "/rules/reflection-period",
            json!({"days": 60}),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    let (s, e) = api_call(
        &app,
        &coord,
        "PUT",
        "/rules/reflection-period",
        json!({"days": 29}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(codes(&e), vec![("days".into(), "below_minimum".into())]);
    let (_, r) = api_call_opt(&app, &cw, "GET", "/rules/reflection-period", None).await;
    assert_eq!(r["days"], 30, "a refusal changes nothing");
    let (s, r) = api_call(
        &app,
        &coord,
        "PUT",
        "/rules/reflection-period",
        json!({"days": 45}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["days"], 45);
    assert_eq!(
        audit_details(&app, "rules.reflection_period").await,
        vec!["days=45"]
    );
    let denied = audit_details(&app, "access.denied").await;
    assert_eq!(
        denied
            .iter()
            .filter(|d| d.starts_with("table=rules"))
            .count(),
        2,
        "{denied:?}"
    );

    // A case: no period before a contact or a presumed-victim screening; then it starts on
    // the screening's day and runs 45 days.
    let id = new_case(&app, &cw).await;
    let (s, p) = api_call_opt(
        &app,
        &cw,
        "GET",
        &format!("/cases/{id}/reflection-period"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(p["period"].is_null(), "{p}");
    let (s, v) = api_call(
        &app,
        &cw,
        "POST",
        &format!("/cases/{id}/screenings"),
        json!({"act": true, "means": true, "purpose": true}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, p) = api_call_opt(
        &app,
        &cw,
        "GET",
        &format!("/cases/{id}/reflection-period"),
        None,
    )
    .await;
    let today = now().date();
    assert_eq!(p["period"]["starts_on"], today.to_string());
    assert_eq!(
        p["period"]["ends_on"],
        (today + time::Duration::days(44)).to_string()
    );
    assert_eq!(p["period"]["active"], true);
    assert_eq!(p["period"]["days"], 45);
    // Another organisation sees nothing of the case.
    let (other, _) = token_and_user(&app.db, "ngo-other", "caseworker").await;
    let (s, _) = api_call_opt(
        &app,
        &other,
        "GET",
        &format!("/cases/{id}/reflection-period"),
        None,
    )
    .await;
    assert!(
        s == StatusCode::NOT_FOUND || s == StatusCode::FORBIDDEN,
        "{s}"
    );

    // The identification screen shows the dates and the warning (az), also on the legal form.
    let (c, _) = web_session(&app, &cw_user.username, None).await;
    let (s, page) = page_get(&app, &c, &format!("/cases/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("id=\"reflection-period\""), "dates shown");
    // In Azerbaijani the date is written day.month.year (issue #23 §4).
    assert!(page.contains(&format!(
        "{:02}.{:02}.{}",
        today.day(),
        u8::from(today.month()),
        today.year()
    )));
    assert!(page.contains("id=\"reflection-warning\""));
    assert!(page.contains("Bərpa və düşünmə müddəti davam edir"));

    // The coordinator's screen: a refused value is kept and shown beside its field.
    let (k, csrf) = web_session(&app, &coord_user.username, None).await;
    let (s, page) = form_post(
        &app,
        &k,
        "/rules/reflection-period",
        &[("csrf", &csrf), ("days", "12")],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"r-days-err\""));
    assert!(page.contains("value=\"12\""));
    let (s, _) = form_post(
        &app,
        &k,
        "/rules/reflection-period",
        &[("csrf", &csrf), ("days", "31")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, r) = api_call_opt(&app, &cw, "GET", "/rules/reflection-period", None).await;
    assert_eq!(r["days"], 31);
    app.db.cleanup().await;
}

#[tokio::test]
async fn rules_facility_admission_off_by_default_then_refused_counted_and_warned() {
    let app = spawn_app().await;
    let (cw, cw_user) = token_and_user(&app.db, "state-shelter", "caseworker").await;
    let (sup, _) = token_and_user(&app.db, "state-shelter", "supervisor").await;
    let (coord, _) = token_and_user(&app.db, "org-nrm", "national_coordinator").await;
    let (s, f) = api_call(
        &app,
        &sup,
        "POST",
        "/shelters",
        json!({"name": "State shelter", "beds": 10, "state_shelter": true}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{f}");
    let fac = f["id"].as_str().unwrap().to_string();
    let today = now().date().to_string();

    // Off by default: admission without cooperation succeeds.
    let (_, list) = api_call_opt(&app, &cw, "GET", "/rules/facilities", None).await;
    assert_eq!(
        list["facilities"][0]["rules"]["requires_cooperation"],
        false
    );
    let a = new_case(&app, &cw).await;
    let (s, v) = api_call(
        &app,
        &cw,
        "POST",
        &format!("/cases/{a}/shelter-stays"),
        json!({"facility_id": fac, "admitted_on": today}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");

    // Only the coordinator switches the rule on (the supervisor who runs the shelter cannot).
    for t in [&cw, &sup] {
        let (s, _) = api_call(
            &app,
            t,
            "PUT",
            "/rules/facilities",
            json!({"facility_id": fac, "requires_cooperation": true}),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    let (s, r) = api_call(
        &app,
        &coord,
        "PUT",
        "/rules/facilities",
        json!({"facility_id": fac, "requires_cooperation": true}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["rules"]["requires_cooperation"], true);
    assert_eq!(r["conflicts_with_standards"], true);
    assert_eq!(
        audit_details(&app, "rules.facility_admission").await,
        vec![format!("facility={fac} requires_cooperation=1")]
    );

    // On: refused with the reason, counted, audited; nothing admitted.
    let b = new_case(&app, &cw).await;
    let (s, e) = api_call(
        &app,
        &cw,
        "POST",
        &format!("/cases/{b}/shelter-stays"),
        json!({"facility_id": fac, "admitted_on": today}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        codes(&e),
        vec![("cooperation".into(), "cooperation_required".into())]
    );
    let (_, stays) =
        api_call_opt(&app, &cw, "GET", &format!("/cases/{b}/shelter-stays"), None).await;
    assert_eq!(stays["stays"].as_array().unwrap().len(), 0);
    let refused = audit_details(&app, "case.shelter_admission_refused").await;
    assert_eq!(
        refused,
        vec![format!("facility={fac} reason=cooperation_required")]
    );
    let (s, counts) = api_call_opt(&app, &coord, "GET", "/rules/admission-refusals", None).await;
    assert_eq!(s, StatusCode::OK, "{counts}");
    assert_eq!(
        counts["refusals"],
        json!([{"reason": "cooperation_required", "count": 1}])
    );
    let (s, _) = api_call_opt(&app, &sup, "GET", "/rules/admission-refusals", None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "counts are the coordinator's");

    // With cooperation = Yes the same admission passes (the behaviour of the old code).
    let (s, _) = api_call(
        &app,
        &cw,
        "PUT",
        &format!("/cases/{b}/legal"),
        json!({"cooperation": "Yes"}),
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = api_call(
        &app,
        &cw,
        "POST",
        &format!("/cases/{b}/shelter-stays"),
        json!({"facility_id": fac, "admitted_on": today}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");

    // The screens: the facility list and the admission form say what CoE art. 12(6) says.
    let (c, csrf) = web_session(&app, &cw_user.username, None).await;
    let (_, page) = page_get(&app, &c, "/shelters").await;
    assert!(page.contains("maddə 12(6)"), "facility screen warns");
    let d = new_case(&app, &cw).await;
    let (_, page) = page_get(&app, &c, &format!("/cases/{d}/shelter")).await;
    assert!(page.contains("id=\"admit-coop-warning-1\""));
    assert!(page.contains("maddə 12(6)"));
    let (s, page) = form_post(
        &app,
        &c,
        &format!("/cases/{d}/shelter/admit"),
        &[
            ("csrf", &csrf),
            ("facility_id", &fac),
            ("admitted_on", &today),
            ("dependants", "0"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("id=\"ad-coop-err\""),
        "the reason beside its field"
    );
    let (_, counts) = api_call_opt(&app, &coord, "GET", "/rules/admission-refusals", None).await;
    assert_eq!(counts["refusals"][0]["count"], 2);

    // Switched off again: no condition, admission without cooperation succeeds.
    let (s, _) = api_call(
        &app,
        &coord,
        "PUT",
        "/rules/facilities",
        json!({"facility_id": fac, "requires_cooperation": false}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, v) = api_call(
        &app,
        &cw,
        "POST",
        &format!("/cases/{d}/shelter-stays"),
        json!({"facility_id": fac, "admitted_on": today}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    app.db.cleanup().await;
}

#[tokio::test]
async fn rules_her_priorities_are_sealed_and_shown_on_the_plan() {
    let app = spawn_app().await;
    let (cw, cw_user) = token_and_user(&app.db, "ngo-prio", "caseworker").await;
    let (other, _) = token_and_user(&app.db, "ngo-else", "caseworker").await;
    let (coord, _) = token_and_user(&app.db, "org-nrm", "national_coordinator").await;
    let id = new_case(&app, &cw).await;
    let (s, p) = api_call(
        &app,
        &cw,
        "POST",
        &format!("/cases/{id}/plans"),
        json!({"spl_Type": "Livelihood"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let plan = p["id"].as_str().unwrap().to_string();
    let words = "Canary-priorities-77 see my daughter first";
    let path = format!("/cases/{id}/plans/{plan}/priorities");
    let (s, _) = api_call(&app, &cw, "PUT", &path, json!({"words": words})).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    // Too long: 422 naming the field.
    let (s, e) = api_call(&app, &cw, "PUT", &path, json!({"words": "x".repeat(4001)})).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(codes(&e), vec![("words".into(), "too_long".into())]);
    // Others cannot write or read them.
    for t in [&other, &coord] {
        let (s, _) = api_call(&app, t, "PUT", &path, json!({"words": "x"})).await;
        assert!(
            s == StatusCode::NOT_FOUND || s == StatusCode::FORBIDDEN,
            "{s}"
        );
        let (s, v) = api_call_opt(&app, t, "GET", &format!("/cases/{id}/plans"), None).await;
        assert!(
            s == StatusCode::NOT_FOUND || s == StatusCode::FORBIDDEN,
            "{s}"
        );
        assert!(!v.to_string().contains("Canary-priorities-77"));
    }
    // The plan reader sees them.
    let (_, plans) = api_call_opt(&app, &cw, "GET", &format!("/cases/{id}/plans"), None).await;
    assert_eq!(plans["plans"][0]["priorities"], words);
    let (c, _) = web_session(&app, &cw_user.username, None).await;
    let (_, page) = page_get(&app, &c, &format!("/cases/{id}")).await;
    assert!(page.contains("id=\"asst-plan-priorities\""));
    assert!(page.contains("Canary-priorities-77"));
    // Sealed at rest; never in the audit.
    let raw: Vec<u8> = sqlx::query_scalar("SELECT words FROM plan_priorities WHERE plan_id = $1")
        .bind(&plan)
        .fetch_one(app.db.store.pool())
        .await
        .unwrap();
    let canary = b"Canary-priorities-77";
    assert!(!raw.windows(canary.len()).any(|w| w == canary));
    let details = audit_details(&app, "case.plan_priorities").await;
    assert_eq!(details, vec![format!("plan={plan}")]);
    let all: Vec<String> = sqlx::query_scalar("SELECT detail FROM audit_log")
        .fetch_all(app.db.store.pool())
        .await
        .unwrap();
    assert!(all.iter().all(|d| !d.contains("Canary")));
    if app.db.store.engine() == dayaq_storage::Engine::Sqlite {
        for f in ["dayaq.db", "dayaq.db-wal"] {
            if let Ok(b) = std::fs::read(app.db.opts.data_dir.join(f)) {
                assert!(!b.windows(canary.len()).any(|w| w == canary), "{f}");
            }
        }
    }
    // Empty words remove them.
    let (s, _) = api_call(&app, &cw, "PUT", &path, json!({"words": " "})).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, plans) = api_call_opt(&app, &cw, "GET", &format!("/cases/{id}/plans"), None).await;
    assert!(plans["plans"][0]["priorities"].is_null());
    app.db.cleanup().await;
}
