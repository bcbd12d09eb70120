//! Research data releases (issue #16) end to end: a researcher sets her age key and asks; the
//! national coordinator approves (generation) or refuses, never her own request; the requester
//! alone downloads the age-encrypted ZIP (data.csv + README.md), decrypted here with an
//! identity made in the test; k re-computed over the file by plain grouping; a canary scan for
//! the source cases' identity values; the privacy budget refusing a second table release
//! (ledger unchanged); bad input refused by field with nothing written; every step audited
//! without personal data; the CLI; the screens in a browser (axe, 390 px).

use crate::kit::browser::{Catalogue, run};
use crate::kit::{
    TestApp, api_call, api_request, assert_cli_ok, dayaq_cli, now, org_and_user, spawn_app,
    user_token,
};
use dayaq_storage::packages::generate_age_identity;
use dayaq_storage::releases::delivery::open_release;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;

const YEAR: &str = "2025";
/// Identity values of the source cases: none may appear in any release file.
const CANARY_FIRST: &str = "Zumrudxanim";
const CANARY_SECOND: &str = "Canaryova";
const CANARY_PHONE: &str = "+994 55 777 66 55";
const CANARY_ID: &str = "AZE5566778";

async fn ok(app: &TestApp, token: &str, method: &str, path: &str, body: Value) -> Value {
    let (s, v) = api_call(app, token, method, path, body).await;
    assert!(s.is_success(), "{method} {path}: {s} {v}");
    v
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_default().to_string()
}

/// The people of the scenario: an organisation with `n` identified victims decided in 2025
/// (same sex and age band, distinct persons), two researchers, the coordinator, an auditor and
/// a caseworker.
struct World {
    app: TestApp,
    cw: String,
    researcher: String,
    researcher_name: String,
    other_researcher: String,
    coordinator: String,
    auditor: String,
    identity: String,
}

async fn world(n: usize) -> World {
    let app = spawn_app().await;
    let (_, cw_user) = org_and_user(&app.db, "rl-a", "caseworker").await;
    let (_, police_user) = org_and_user(&app.db, "rl-a", "police_officer").await;
    let cw = user_token(&app.db, &cw_user).await;
    let police = user_token(&app.db, &police_user).await;
    for i in 0..n {
        let case = id(&ok(
            &app,
            &cw,
            "POST",
            "/cases",
            json!({"prs_FirstName": format!("{CANARY_FIRST}{i}"), "prs_SecondName": CANARY_SECOND,
                   "prs_Birthdate": format!("1990-0{}-1{}", 1 + i % 9, i % 10),
                   "prs_Gender": "Feminine", "prs_MobilePhone": CANARY_PHONE,
                   "prs_IdentityNumber": CANARY_ID}),
        )
        .await);
        ok(
            &app,
            &police,
            "POST",
            &format!("/cases/{case}/decisions"),
            json!({"vic_TraffickingStatus": "ActualVictimOfTrafficking",
                   "vic_TraffickingStatusDecisionMakingOrg": "Police",
                   "decided_on": format!("{YEAR}-03-0{}", 1 + i % 9), "reference": "DEC-R"}),
        )
        .await;
    }
    let (_, r) = org_and_user(&app.db, "rl-r", "researcher").await;
    let (_, r2) = org_and_user(&app.db, "rl-r2", "researcher").await;
    let (_, nc) = org_and_user(&app.db, "rl-n", "national_coordinator").await;
    let (_, au) = org_and_user(&app.db, "rl-au", "auditor").await;
    let (secret, public) = generate_age_identity(now());
    let w = World {
        cw,
        researcher: user_token(&app.db, &r).await,
        researcher_name: r.username.clone(),
        other_researcher: user_token(&app.db, &r2).await,
        coordinator: user_token(&app.db, &nc).await,
        auditor: user_token(&app.db, &au).await,
        identity: secret.to_string(),
        app,
    };
    let v = ok(
        &w.app,
        &w.researcher,
        "PUT",
        "/releases/recipient",
        json!({"age_recipient": public}),
    )
    .await;
    assert_eq!(v["age_recipient"], json!(public));
    w
}

fn microdata_request() -> Value {
    json!({"purpose": "Patterns of exploitation by age group", "kind": "microdata",
           "period_from": format!("{YEAR}-01-01"), "period_to": format!("{YEAR}-12-31"),
           "variables": ["yearOfRegistration", "prs_Gender", "ageBroad", "vic_TraffickingStatus"],
           "k": 5, "terms_accepted": true})
}

fn tables_request(epsilon: f64) -> Value {
    json!({"purpose": "Yearly counts by sex and age", "kind": "tables",
           "period_from": format!("{YEAR}-01-01"), "period_to": format!("{YEAR}-12-31"),
           "variables": ["prs_Gender", "ageBroad", "vic_TraffickingStatus"],
           "epsilon": epsilon, "terms_accepted": true})
}

async fn download(app: &TestApp, token: &str, rid: &str) -> (StatusCode, Vec<u8>) {
    let r = api_request(app, Some(token), "GET", &format!("/releases/{rid}/file"))
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.bytes().await.unwrap().to_vec())
}

/// The entries of a release file, decrypted with the test's identity.
fn entries(identity: &str, file: &[u8]) -> HashMap<String, String> {
    open_release(identity, file)
        .unwrap()
        .into_iter()
        .map(|(n, b)| (n, String::from_utf8(b).unwrap()))
        .collect()
}

async fn audit(app: &TestApp) -> Vec<(String, String, String)> {
    sqlx::query_as("SELECT action, outcome, detail FROM audit_log ORDER BY seq")
        .fetch_all(app.db.store.pool())
        .await
        .unwrap()
}

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(app.db.store.pool())
        .await
        .unwrap()
}

/// An independent k check: every distinct row of data.csv (all its columns are released
/// quasi-identifiers or flags) occurs at least k times.
fn min_group(csv: &str) -> usize {
    let mut groups: HashMap<&str, usize> = HashMap::new();
    for line in csv.lines().skip(1).filter(|l| !l.is_empty()) {
        *groups.entry(line).or_default() += 1;
    }
    groups.values().copied().min().unwrap_or(0)
}

fn canary_free(text: &str) {
    for canary in [
        CANARY_FIRST,
        CANARY_SECOND,
        CANARY_PHONE,
        CANARY_ID,
        "1990-0",
    ] {
        assert!(!text.contains(canary), "{canary} leaked into a release");
    }
}

#[tokio::test]
async fn releases_microdata_request_approve_download_on_the_api() {
    let w = world(12).await;
    let app = &w.app;

    // Bad input: refused by field, nothing written but the refusal's audit row.
    for (body, field) in [
        (
            {
                let mut b = microdata_request();
                b["variables"] = json!(["prs_FirstName"]);
                b
            },
            "variables",
        ),
        (
            {
                let mut b = microdata_request();
                b["k"] = json!(4);
                b
            },
            "k",
        ),
        (
            {
                let mut b = microdata_request();
                b["terms_accepted"] = json!(false);
                b
            },
            "terms_accepted",
        ),
    ] {
        let (s, v) = api_call(app, &w.researcher, "POST", "/releases", body).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["error"]["errors"][0]["field"], json!(field), "{v}");
    }
    // No age key: refused naming the field.
    let (s, v) = api_call(
        app,
        &w.other_researcher,
        "POST",
        "/releases",
        microdata_request(),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"]["errors"][0]["field"], json!("age_recipient"));
    assert_eq!(count(app, "release_requests").await, 0);
    let refusals = audit(app)
        .await
        .into_iter()
        .filter(|(a, o, _)| a == "release.request_refused" && o == "refused")
        .count();
    assert_eq!(refusals, 4);

    // Other roles are refused everything.
    for token in [&w.auditor, &w.cw] {
        let (s, _) = api_call(app, token, "GET", "/releases", json!(null)).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = api_call(app, token, "POST", "/releases", microdata_request()).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    let (s, _) = api_call(
        app,
        &w.coordinator,
        "POST",
        "/releases",
        microdata_request(),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let req = ok(app, &w.researcher, "POST", "/releases", microdata_request()).await;
    let rid = id(&req);
    assert_eq!(req["state"], json!("requested"));
    assert_eq!(req["k"], json!(5));
    assert_eq!(req["requester"], json!(w.researcher_name));

    // The researcher sees her own; the other researcher sees nothing; the coordinator all.
    let mine = ok(app, &w.researcher, "GET", "/releases", json!(null)).await;
    assert_eq!(mine["requests"].as_array().unwrap().len(), 1);
    let theirs = ok(app, &w.other_researcher, "GET", "/releases", json!(null)).await;
    assert_eq!(theirs["requests"], json!([]));
    let (s, _) = api_call(
        app,
        &w.other_researcher,
        "GET",
        &format!("/releases/{rid}"),
        json!(null),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let register = ok(app, &w.coordinator, "GET", "/releases", json!(null)).await;
    assert_eq!(register["requests"][0]["id"], json!(rid));
    // Reads of the register are audited too (issue #16): counts and ids, no personal data;
    // a request the reader may not see is a denial.
    let rows = audit(app).await;
    let listed = |scope: &str, n: usize| {
        rows.iter().any(|(a, o, d)| {
            a == "release.listed"
                && o == "success"
                && d == &format!("scope={scope} requests={n} files=0 via=json")
        })
    };
    assert!(
        listed("own", 1) && listed("own", 0) && listed("all", 1),
        "{rows:?}"
    );
    assert!(rows.iter().any(|(a, o, d)| a == "release.ledger_read"
        && o == "success"
        && d == "entries=0 via=json"));
    assert!(rows.iter().any(|(a, o, d)| a == "access.denied"
        && o == "denied"
        && d == &format!("table=releases request={rid} reason=not_requester")));

    // Nobody but the coordinator decides; the requester never.
    for token in [&w.researcher, &w.other_researcher, &w.auditor, &w.cw] {
        let (s, _) = api_call(
            app,
            token,
            "POST",
            &format!("/releases/{rid}/approve"),
            json!({"reason": "fine"}),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    // A reason is required.
    let (s, v) = api_call(
        app,
        &w.coordinator,
        "POST",
        &format!("/releases/{rid}/approve"),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"]["errors"][0]["field"], json!("reason"));

    let done = ok(
        app,
        &w.coordinator,
        "POST",
        &format!("/releases/{rid}/approve"),
        json!({"reason": "Purpose within the NRM's research programme"}),
    )
    .await;
    assert_eq!(done["state"], json!("generated"), "{done}");
    assert_eq!(done["file"]["records"], json!(12));
    assert_eq!(done["file"]["suppressed"], json!(0));
    // Decided once.
    let (s, _) = api_call(
        app,
        &w.coordinator,
        "POST",
        &format!("/releases/{rid}/refuse"),
        json!({"reason": "late"}),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);

    // The requester only downloads.
    for token in [&w.other_researcher, &w.coordinator] {
        let (s, _) = download(app, token, &rid).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    for token in [&w.auditor, &w.cw] {
        let (s, _) = download(app, token, &rid).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
    let (s, file) = download(app, &w.researcher, &rid).await;
    assert_eq!(s, StatusCode::OK);
    assert!(file.starts_with(b"age-encryption.org/v1"));
    let e = entries(&w.identity, &file);
    let mut names: Vec<&String> = e.keys().collect();
    names.sort();
    assert_eq!(names, ["README.md", "data.csv"]);
    let csv = &e["data.csv"];
    let header = csv.lines().next().unwrap();
    assert!(header.contains("yearOfRegistration"), "{header}");
    assert_eq!(csv.lines().skip(1).count(), 12);
    assert!(min_group(csv) >= 5, "k violated:\n{csv}");
    let readme = &e["README.md"];
    assert!(readme.contains("k: 5"), "{readme}");
    assert!(readme.contains("records suppressed: 0"), "{readme}");
    assert!(readme.contains("Data-use terms"), "{readme}");
    assert!(readme.contains(&format!("{YEAR}-01-01")), "{readme}");
    canary_free(csv);
    canary_free(readme);
    let after = ok(
        app,
        &w.researcher,
        "GET",
        &format!("/releases/{rid}"),
        json!(null),
    )
    .await;
    assert_eq!(after["state"], json!("downloaded"));
    let viewed = audit(app)
        .await
        .into_iter()
        .filter(|(a, o, d)| {
            a == "release.viewed"
                && o == "success"
                && d == &format!("request={rid} state=downloaded via=json")
        })
        .count();
    assert_eq!(viewed, 1);

    // Every step audited, with no identity value in any audit row.
    let rows = audit(app).await;
    for action in [
        "release.age_recipient",
        "release.requested",
        "release.approved",
        "release.generated",
        "release.downloaded",
    ] {
        assert!(
            rows.iter().any(|(a, o, d)| a == action
                && o == "success"
                && (action == "release.age_recipient" || d.contains(&rid))),
            "{action} not audited"
        );
    }
    assert!(rows.iter().any(|(a, _, d)| a == "release.generated"
        && d.contains("records=12")
        && d.contains("suppressed=0")));
    assert!(
        rows.iter().any(|(a, o, d)| a == "access.denied"
            && o == "denied"
            && d.contains("not_the_requester"))
    );
    for (_, _, d) in &rows {
        canary_free(d);
        assert!(
            !d.contains("exploitation by age"),
            "purpose in the audit: {d}"
        );
    }
}

#[tokio::test]
async fn releases_tables_spend_the_budget_and_a_second_release_over_it_is_refused() {
    let w = world(6).await;
    let app = &w.app;
    // Above the cap, or not positive: refused by field.
    for eps in [0.0, -1.0, 2.5] {
        let (s, v) = api_call(app, &w.researcher, "POST", "/releases", tables_request(eps)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["error"]["errors"][0]["field"], json!("epsilon"));
    }
    // Two requests of ε = 2 fit one at a time (budget 3): the second approval is refused.
    let a = id(&ok(app, &w.researcher, "POST", "/releases", tables_request(2.0)).await);
    let b = id(&ok(app, &w.researcher, "POST", "/releases", tables_request(2.0)).await);
    let done = ok(
        app,
        &w.coordinator,
        "POST",
        &format!("/releases/{a}/approve"),
        json!({"reason": "ok"}),
    )
    .await;
    assert_eq!(done["state"], json!("generated"));
    let ledger = ok(app, &w.coordinator, "GET", "/releases", json!(null)).await["ledger"].clone();
    assert_eq!(ledger.as_array().unwrap().len(), 1);
    assert_eq!(ledger[0]["epsilon"], json!(2.0));
    assert_eq!(ledger[0]["release_id"], json!(a));

    let (s, v) = api_call(
        app,
        &w.coordinator,
        "POST",
        &format!("/releases/{b}/approve"),
        json!({"reason": "ok"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["errors"][0]["field"], json!("budget"));
    assert_eq!(count(app, "privacy_ledger").await, 1);
    assert_eq!(count(app, "release_files").await, 1);
    let still = ok(
        app,
        &w.coordinator,
        "GET",
        &format!("/releases/{b}"),
        json!(null),
    )
    .await;
    assert_eq!(still["state"], json!("requested"));
    assert!(
        audit(app)
            .await
            .iter()
            .any(|(a, o, d)| a == "release.generation_refused"
                && o == "refused"
                && d.contains("budget"))
    );
    // A new request over the budget is refused at once.
    let (s, v) = api_call(app, &w.researcher, "POST", "/releases", tables_request(1.5)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"]["errors"][0]["field"], json!("budget"));
    // The coordinator refuses the waiting one with a reason.
    let r = ok(
        app,
        &w.coordinator,
        "POST",
        &format!("/releases/{b}/refuse"),
        json!({"reason": "budget spent"}),
    )
    .await;
    assert_eq!(r["state"], json!("refused"));
    assert_eq!(r["reason"], json!("budget spent"));

    // The table release: DP counts with the method printed.
    let (s, file) = download(app, &w.researcher, &a).await;
    assert_eq!(s, StatusCode::OK);
    let e = entries(&w.identity, &file);
    let readme = &e["README.md"];
    assert!(readme.to_lowercase().contains("epsilon"), "{readme}");
    assert!(readme.contains("expected absolute error"), "{readme}");
    assert!(e["data.csv"].lines().count() > 1);
    canary_free(&e["data.csv"]);
}

#[tokio::test]
async fn releases_with_too_few_records_are_refused_and_nothing_is_generated() {
    let w = world(3).await;
    let app = &w.app;
    let rid = id(&ok(app, &w.researcher, "POST", "/releases", microdata_request()).await);
    let (s, v) = api_call(
        app,
        &w.coordinator,
        "POST",
        &format!("/releases/{rid}/approve"),
        json!({"reason": "ok"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["errors"][0]["field"], json!("period"));
    assert_eq!(count(app, "release_files").await, 0);
}

#[tokio::test]
async fn releases_on_the_cli() {
    let w = world(6).await;
    let db = &w.app.db;
    let out = dayaq_cli(
        db,
        &[
            "release",
            "request",
            "--as",
            &w.researcher_name,
            "--purpose",
            "CLI study",
            "--kind",
            "tables",
            "--from",
            "2025-01-01",
            "--to",
            "2025-12-31",
            "--variables",
            "prs_Gender,ageBroad",
            "--epsilon",
            "0.5",
            "--accept-terms",
        ],
    );
    assert_cli_ok(&out);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let rid = stdout.split('\t').next().unwrap().trim().to_string();
    let out = dayaq_cli(
        db,
        &[
            "release",
            "approve",
            "--as",
            &w.researcher_name,
            &rid,
            "--reason",
            "mine",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused by the access policy"));
    let coordinator = "rl-n-national-coordinator";
    let out = dayaq_cli(
        db,
        &[
            "release",
            "generate",
            "--as",
            coordinator,
            &rid,
            "--reason",
            "ok",
        ],
    );
    assert_cli_ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("generated"));
    let out = dayaq_cli(db, &["release", "list", "--as", coordinator]);
    assert_cli_ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&rid));
    assert!(
        audit(&w.app)
            .await
            .iter()
            .any(|(a, o, d)| a == "release.listed"
                && o == "success"
                && d == "scope=all requests=1 files=1 via=cli"),
        "the CLI listing is not audited"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.zip.age");
    let p = path.to_string_lossy().to_string();
    let out = dayaq_cli(
        db,
        &[
            "release",
            "download",
            "--as",
            &w.researcher_name,
            &rid,
            "--out",
            &p,
        ],
    );
    assert_cli_ok(&out);
    let e = entries(&w.identity, &std::fs::read(&path).unwrap());
    assert!(e.contains_key("data.csv") && e.contains_key("README.md"));
}

#[tokio::test]
async fn researcher_requests_coordinator_approves_researcher_downloads_in_a_browser() {
    run("releases_flow", |b, app| async move {
        let t = Catalogue::load("en");
        let (_, cw_user) = org_and_user(&app.db, "rb-a", "caseworker").await;
        let (_, police_user) = org_and_user(&app.db, "rb-a", "police_officer").await;
        let cw = user_token(&app.db, &cw_user).await;
        let police = user_token(&app.db, &police_user).await;
        for i in 0..6 {
            let case = id(&ok(
                &app,
                &cw,
                "POST",
                "/cases",
                json!({"prs_FirstName": format!("Browser{i}"), "prs_SecondName": "Releaseova",
                       "prs_Birthdate": format!("1991-0{}-11", 1 + i), "prs_Gender": "Feminine"}),
            )
            .await);
            ok(
                &app,
                &police,
                "POST",
                &format!("/cases/{case}/decisions"),
                json!({"vic_TraffickingStatus": "ActualVictimOfTrafficking",
                       "vic_TraffickingStatusDecisionMakingOrg": "Police",
                       "decided_on": "2025-05-05", "reference": "DEC-B"}),
            )
            .await;
        }
        let (_, r) = org_and_user(&app.db, "rb-r", "researcher").await;
        let (_, nc) = org_and_user(&app.db, "rb-n", "national_coordinator").await;
        let secret: &[u8; 20] = b"dayaq-e2e-release-k1";
        for u in [&r, &nc] {
            app.db.store.set_locale(u.id, "en").await.unwrap();
            app.db.store.totp_set_secret(u, secret).await.unwrap();
        }
        let (identity, public) = generate_age_identity(now());

        // Researcher: home link, key, a refused request keeps what was typed, then a request.
        b.sign_in(&r.username, Some(secret)).await;
        b.click_to("#home-releases", "releases-researcher").await;
        assert_eq!(b.path().await, "/releases");
        assert_eq!(b.text("h1").await, t.get("rel-title"));
        b.fill("#rel-key", "age1notakey").await;
        b.click_to("#rel-key-save", "key-refused").await;
        assert!(b.text("#rel-key-err").await.contains(t.get("rel-err-invalid-age-recipient")));
        b.fill("#rel-key", &public).await;
        b.click_to("#rel-key-save", "key-saved").await;
        assert_eq!(b.text("#rel-done").await, t.get("rel-done-key"));
        b.fill("#rel-purpose", "Browser study").await;
        b.select("#rel-kind", "microdata").await;
        b.set_value("#rel-from", "2025-01-01").await;
        b.set_value("#rel-to", "2025-12-31").await;
        b.click_here("input[name=variables][value=prs_Gender]").await;
        b.click_here("input[name=variables][value=ageBroad]").await;
        b.fill("#rel-k", "4").await;
        b.click_here("#rel-terms").await;
        b.click_to("#rel-submit", "request-refused").await;
        assert!(b.text("#rel-k-err").await.contains(t.get("rel-err-below-minimum")));
        let kept = b.find("#rel-purpose").await.prop("value").await.ok().flatten();
        assert_eq!(kept.as_deref(), Some("Browser study"));
        b.narrow("request-refused").await;
        b.fill("#rel-k", "5").await;
        b.click_to("#rel-submit", "requested").await;
        assert_eq!(b.text("#rel-done").await, t.get("rel-done-requested"));
        assert_eq!(b.count("#rel-mine tbody tr").await, 1);
        b.sign_out().await;

        // Coordinator: the register, approve with a reason.
        b.sign_in(&nc.username, Some(secret)).await;
        b.click_to("#home-releases", "register").await;
        assert_eq!(b.count(".rel-request").await, 1);
        b.narrow("register").await;
        b.fill("textarea[name=reason]", "Within the research programme").await;
        b.click_to("button[value=approve]", "approved").await;
        assert_eq!(b.text("#rel-done").await, t.get("rel-done-approved"));
        assert!(b.text(".rel-state").await.contains(t.get("rel-state-generated")));
        b.sign_out().await;

        // Researcher: the download link gives the encrypted file.
        b.sign_in(&r.username, Some(secret)).await;
        b.open("/releases", "ready").await;
        let href = b
            .js(
                "return document.querySelector('a[id^=download-]').getAttribute('href');",
                vec![],
            )
            .await;
        let href = href.as_str().unwrap_or_default().to_string();
        assert!(href.starts_with("/releases/"), "{href}");
        let bytes = b
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 fetch(arguments[0]).then(r => r.arrayBuffer()).then(b => done(Array.from(new Uint8Array(b))));",
                vec![json!(href)],
            )
            .await
            .unwrap();
        let file: Vec<u8> = bytes
            .as_array()
            .map(|a| a.iter().filter_map(|x| x.as_u64()).map(|x| x as u8).collect())
            .unwrap_or_default();
        let e = entries(&identity, &file);
        assert!(e["data.csv"].contains("prs_Gender"), "{}", e["data.csv"]);
        assert!(min_group(&e["data.csv"]) >= 5);
        // The register screens' reads are audited (counts only).
        let rows = audit(&app).await;
        for scope in ["own", "all"] {
            assert!(
                rows.iter().any(|(a, o, d)| a == "release.listed"
                    && o == "success"
                    && d.starts_with(&format!("scope={scope} "))
                    && d.ends_with(" via=screen")),
                "{scope} listing on the screen not audited"
            );
        }
        assert!(rows.iter().any(|(a, _, d)| a == "release.ledger_read" && d.ends_with("via=screen")));
    })
    .await;
}
