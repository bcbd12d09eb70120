//! HTTP API tests against the real server on a random port (both engines via the test kit).

use crate::kit::{
    TestApp, api_token, bearer_get, csrf_field, fetch, fetch_json, fetch_text, json_answer,
    json_body, org_and_user, page_csrf, spawn_app, submit, submit_login, totp_code, user_token,
    web_client,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PW: &str = "correct horse battery staple";

fn case_body(first: &str) -> Value {
    json!({
        "prs_FirstName": first,
        "prs_SecondName": "Testova",
        "prs_Birthdate": "1998-04-12",
        "prs_MobilePhone": "+994 50 123 45 67",
        "prs_Gender": "Feminine",
        "prs_Citizenship": ["AZ"],
        "vic_AgeWhenTrafficked": 19,
        "vic_TypeOfExploitation": ["SexualExploitation"],
        "cco_CaseComment": "met at the airport"
    })
}

/// A body the owner could send successfully to `path` (by the route's last segment).
fn valid_body_for(path: &str) -> Value {
    if path.ends_with("/screenings") {
        json!({"act": true, "means": true, "purpose": true})
    } else if path.ends_with("/decisions") {
        json!({"vic_TraffickingStatus": "ActualVictimOfTrafficking", "vic_TraffickingStatusDecisionMakingOrg": "Police", "decided_on": "2026-01-01", "reference": "R-1"})
    } else if path.ends_with("/consents") {
        json!({"purpose": "Assistance", "given": true, "given_by": "Survivor", "language": "az"})
    } else if path.ends_with("/transfer") {
        json!({"to_org": "org-b"})
    } else if path.ends_with("/legal") {
        json!({"cooperation": "Yes"})
    } else if path.ends_with("/referrals") {
        json!({"to_org": "org-b", "services": ["Medical"], "cas_ReasonForOutgoingReferral": "Other"})
    } else if path.ends_with("/withdraw") || path.ends_with("/accept") {
        json!({})
    } else {
        case_body("Mallory")
    }
}

async fn create(app: &TestApp, token: &str, first: &str) -> Value {
    let r = web_client()
        .post(format!("{}/api/v1/cases", app.base_url))
        .bearer_auth(token)
        .json(&case_body(first))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

/// Every (method, path) of the OpenAPI document, with path parameters filled in.
async fn api_routes(app: &TestApp, id: &str) -> Vec<(reqwest::Method, String)> {
    let doc: Value = fetch_json(
        &web_client(),
        format!("{}/api/v1/openapi.json", app.base_url),
    )
    .await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for m in ["get", "post", "put", "delete", "patch"] {
            if item.get(m).is_some() {
                let p = path
                    .replace("{id}", id)
                    .replace("{public_id}", id)
                    .replace("{consent_id}", id)
                    .replace("{action}", "accept")
                    .replace("{org}", "org-a");
                out.push((m.to_uppercase().parse().unwrap(), format!("/api/v1{p}")));
            }
        }
    }
    assert!(out.len() >= 10, "the OpenAPI document lists every route");
    out
}

#[tokio::test]
async fn openapi_covers_the_router_and_unauthenticated_gets_401() {
    let app = spawn_app().await;
    let id = uuid::Uuid::new_v4().to_string();
    for (method, path) in api_routes(&app, &id).await {
        let r = web_client()
            .request(method.clone(), format!("{}{path}", app.base_url))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        if path == "/api/v1/openapi.json" {
            assert_eq!(r.status(), StatusCode::OK);
            continue;
        }
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
    }
}

#[tokio::test]
async fn unknown_routes_are_404_never_500() {
    let app = spawn_app().await;
    let c = web_client();
    for path in [
        "/api/v1/nope",
        "/nope",
        "/static/../../etc/passwd",
        "/cases/zzz",
    ] {
        let r = fetch(&c, format!("{}{path}", app.base_url)).await;
        assert!(
            r.status() == StatusCode::NOT_FOUND || r.status() == StatusCode::SEE_OTHER,
            "{path}: {}",
            r.status()
        );
    }
    let token = api_token(&app.db, "org-a", "caseworker").await;
    let r = bearer_get(
        &c,
        format!("{}/api/v1/cases/not-a-uuid", app.base_url),
        &token,
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn another_organisation_cannot_reach_a_case_through_any_route() {
    let app = spawn_app().await;
    let a = api_token(&app.db, "org-a", "caseworker").await;
    let b = api_token(&app.db, "org-b", "caseworker").await;
    let b_sup = api_token(&app.db, "org-b2", "supervisor").await;
    let case = create(&app, &a, "Aysel").await;
    let id = case["id"].as_str().unwrap().to_string();
    for token in [&b, &b_sup] {
        for (method, path) in api_routes(&app, &id).await {
            // `{id}` of an alert, a release request or a webhook endpoint is not a case id:
            // those routes answer by role first (their own tests cover them).
            if !path.contains(&id)
                || path.contains("/sessions/")
                || path.contains("/alerts/")
                || path.contains("/releases/")
                || path.contains("/webhooks/")
            {
                continue;
            }
            // A request that would be valid for the owner, so only access decides the answer.
            let r = web_client()
                .request(method.clone(), format!("{}{path}", app.base_url))
                .bearer_auth(token)
                .header("if-match", "\"1\"")
                .json(&valid_body_for(&path))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{method} {path}");
        }
        // Listing does not show it; search reveals only that a match exists elsewhere.
        let list: Value = bearer_get(
            &web_client(),
            format!("{}/api/v1/cases", app.base_url),
            token,
        )
        .await
        .json()
        .await
        .unwrap();
        assert!(!list.to_string().contains(&id));
        // Name + birth date and a phone: a cross-organisation match needs two identifiers
        // (issue 14 item 11).
        let query = json!({"prs_FirstName": "aysel", "prs_SecondName": "TESTOVA",
                           "prs_Birthdate": "1998-04-12", "prs_MobilePhone": "+994501234567"});
        let search = format!("{}/api/v1/cases/search", app.base_url);
        let r = json_body(web_client().post(search).bearer_auth(token).json(&query)).await;
        assert_eq!(r["cases"].as_array().unwrap().len(), 0);
        assert_eq!(r["possible_matches_elsewhere"].as_array().unwrap().len(), 1);
        assert!(!r.to_string().contains("Aysel") && !r.to_string().contains(&id));
    }
    // The owner still has the case, untouched (version 1) and readable with identity.
    let r = bearer_get(
        &web_client(),
        format!("{}/api/v1/cases/{id}?include=identity", app.base_url),
        &a,
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["identity"]["prs_FirstName"], "Aysel");
}

#[tokio::test]
async fn crud_with_htcds_names_and_optimistic_concurrency() {
    let app = spawn_app().await;
    let a = api_token(&app.db, "org-a", "caseworker").await;
    let case = create(&app, &a, "Leyla").await;
    assert_eq!(case["prs_Gender"], "Feminine");
    assert_eq!(case["vic_TraffickingStatus"], "PossibleVictimOfTrafficking");
    assert_eq!(case["cas_Status"], "Active");
    assert_eq!(case["age_band"], "18-20");
    assert!(
        case.get("identity").is_none(),
        "identity is not returned unless asked"
    );
    let id = case["id"].as_str().unwrap();
    let url = format!("{}/api/v1/cases/{id}", app.base_url);
    // Missing If-Match is a clear error naming the header.
    let (status, e) = json_answer(
        web_client()
            .put(&url)
            .bearer_auth(&a)
            .json(&case_body("Leyla")),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["field"], "If-Match");
    // Two concurrent updates from the same version: exactly one wins.
    let mut b1 = case_body("Leyla");
    b1["cas_Status"] = json!("FollowUp");
    let b2 = case_body("Leyla2");
    let c = web_client();
    let (r1, r2) = tokio::join!(
        c.put(&url)
            .bearer_auth(&a)
            .header("if-match", "\"1\"")
            .json(&b1)
            .send(),
        c.put(&url)
            .bearer_auth(&a)
            .header("if-match", "\"1\"")
            .json(&b2)
            .send(),
    );
    let mut statuses = vec![r1.unwrap().status(), r2.unwrap().status()];
    statuses.sort();
    assert_eq!(statuses, vec![StatusCode::OK, StatusCode::CONFLICT]);
    let now: Value = bearer_get(&c, &url, &a).await.json().await.unwrap();
    assert_eq!(now["version"], 2);
    // Erase: needs a supervisor; then the case is gone for everyone.
    let r = c.delete(&url).bearer_auth(&a).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let org = app.db.store.org_by_slug("org-a").await.unwrap();
    let sup = app
        .db
        .store
        .add_user(
            &org.slug,
            "supervisor",
            "sup.a",
            PW,
            time::OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    let sup_token = user_token(&app.db, &sup).await;
    let r = c.delete(&url).bearer_auth(&sup_token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = bearer_get(&c, &url, &a).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_input_names_the_field_and_changes_nothing() {
    let app = spawn_app().await;
    let a = api_token(&app.db, "org-a", "caseworker").await;
    let c = web_client();
    let url = format!("{}/api/v1/cases", app.base_url);
    let cases = [
        (json!({"prs_Gender": "female"}), "prs_Gender"),
        (
            json!({"prs_Citizenship": ["Azerbaijan"]}),
            "prs_Citizenship[0]",
        ),
        (json!({"prs_Birthdate": "12/04/1998"}), "prs_Birthdate"),
        (
            json!({"vic_AgeWhenTrafficked": "nineteen"}),
            "vic_AgeWhenTrafficked",
        ),
        (json!({"prs_Nickname": "x"}), "prs_Nickname"),
        (json!({"cas_Status": "Closed"}), "cas_ReasonForCaseClosure"),
        (
            json!({"vic_TypeOfExploitation": ["Slavery"]}),
            "vic_TypeOfExploitation[0]",
        ),
    ];
    for (body, field) in cases {
        let (status, e) = json_answer(c.post(&url).bearer_auth(&a).json(&body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(e["error"]["field"], field, "{body}");
        assert_eq!(e["error"]["code"], "invalid_input");
        assert!(!e.to_string().contains("nineteen") && !e.to_string().contains("Azerbaijan"));
    }
    for raw in ["{", "null", "[]", "\"x\"", "{\"prs_FirstName\": 5}"] {
        let r = c
            .post(&url)
            .bearer_auth(&a)
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{raw}");
    }
    let r = c
        .post(&url)
        .bearer_auth(&a)
        .body("prs_FirstName=x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let list: Value = bearer_get(&c, &url, &a).await.json().await.unwrap();
    assert_eq!(
        list["cases"].as_array().unwrap().len(),
        0,
        "nothing was written"
    );
}

#[tokio::test]
async fn tokens_can_be_revoked_and_roles_without_case_access_are_refused() {
    let app = spawn_app().await;
    let (_, user) = org_and_user(&app.db, "org-a", "caseworker").await;
    let now = time::OffsetDateTime::now_utc();
    let token = user_token(&app.db, &user).await;
    let c = web_client();
    let url = format!("{}/api/v1/cases", app.base_url);
    assert_eq!(bearer_get(&c, &url, &token).await.status(), StatusCode::OK);
    let tokens = app.db.store.list_tokens(&user).await.unwrap();
    assert!(
        app.db
            .store
            .revoke_token(&user, tokens[0].id, now)
            .await
            .unwrap()
    );
    assert_eq!(
        bearer_get(&c, &url, &token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        bearer_get(&c, &url, "dq_forged").await.status(),
        StatusCode::UNAUTHORIZED
    );
    for role in [
        "national_coordinator",
        "researcher",
        "auditor",
        "system_admin",
        "org_admin",
    ] {
        let t = api_token(&app.db, &format!("org-{}", role.replace('_', "-")), role).await;
        let r = bearer_get(&c, &url, &t).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{role}");
        let r = c
            .post(&url)
            .bearer_auth(&t)
            .json(&case_body("X"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{role}");
    }
}

#[tokio::test]
async fn browser_sign_in_sessions_csrf_and_headers() {
    let app = spawn_app().await;
    let (_, user) = org_and_user(&app.db, "org-a", "caseworker").await;
    let username = user.username.clone();
    let c = web_client();
    let base = &app.base_url;
    let page = fetch(&c, format!("{base}/login")).await;
    let h = page.headers().clone();
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
    let csrf = csrf_field(&page.text().await.unwrap());
    // Without the pre-login token the form is refused.
    let r = submit(
        &c,
        format!("{base}/login"),
        &[("username", username.as_str()), ("password", PW)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Wrong password and unknown user get the same answer.
    let r1 = submit_login(
        &c,
        base,
        csrf.as_str(),
        username.as_str(),
        "wrong password!!",
    )
    .await;
    let s1 = r1.status();
    let t1 = r1.text().await.unwrap();
    let csrf = page_csrf(&c, format!("{base}/login")).await;
    let r2 = submit_login(&c, base, csrf.as_str(), "nobody.here", "wrong password!!").await;
    assert_eq!(s1, r2.status());
    let t2 = r2.text().await.unwrap();
    let msg = |t: &str| {
        t[t.find("id=\"login-error\"").unwrap()..]
            .split('<')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(msg(&t1), msg(&t2));
    // Correct password: session cookie, HttpOnly + SameSite=Strict.
    let page = fetch(&c, format!("{base}/login")).await;
    let csrf = csrf_field(&page.text().await.unwrap());
    let r = submit_login(&c, base, csrf.as_str(), username.as_str(), PW).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let set = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect::<Vec<_>>();
    let sc = set
        .iter()
        .find(|s| s.starts_with("dayaq_session="))
        .expect("session cookie");
    assert!(sc.contains("HttpOnly") && sc.contains("SameSite=Strict"));
    // The API works with the cookie; writes need the CSRF header.
    let me: Value = fetch_json(&c, format!("{base}/api/v1/me")).await;
    let token = me["csrf"].as_str().unwrap().to_string();
    let r = c
        .post(format!("{base}/api/v1/cases"))
        .json(&case_body("Nigar"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c
        .post(format!("{base}/api/v1/cases"))
        .header("x-csrf-token", &token)
        .json(&case_body("Nigar"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    // Pages render; no personal data in the page title.
    let home = fetch_text(&c, format!("{base}/")).await;
    assert!(home.contains("<title>"));
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let page = fetch_text(&c, format!("{base}/cases/{id}")).await;
    assert!(!page.contains("Nigar"), "identity hidden until revealed");
    let title = &page[page.find("<title>").unwrap()..page.find("</title>").unwrap()];
    assert!(!title.contains("Nigar"));
    let revealed = submit(
        &c,
        format!("{base}/cases/{id}/reveal"),
        &[("csrf", token.as_str())],
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(revealed.contains("Nigar"));
    // Sessions: list, then sign out revokes.
    let s: Value = fetch_json(&c, format!("{base}/api/v1/sessions")).await;
    assert_eq!(s["sessions"].as_array().unwrap().len(), 1);
    let r = submit(&c, format!("{base}/logout"), &[("csrf", token.as_str())]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = fetch(&c, format!("{base}/api/v1/me")).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn supervisor_must_use_a_second_factor() {
    let app = spawn_app().await;
    let (_, user) = org_and_user(&app.db, "org-a", "supervisor").await;
    let secret = b"0123456789abcdefghij";
    app.db.store.totp_set_secret(&user, secret).await.unwrap();
    let c = web_client();
    let base = &app.base_url;
    let csrf = page_csrf(&c, format!("{base}/login")).await;
    let r = submit_login(&c, base, csrf.as_str(), user.username.as_str(), PW).await;
    assert_eq!(r.headers()["location"], "/login/totp");
    // Password alone gives no access.
    assert_eq!(
        fetch(&c, format!("{base}/api/v1/me")).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let csrf = page_csrf(&c, format!("{base}/login/totp")).await;
    let r = submit(
        &c,
        format!("{base}/login/totp"),
        &[("csrf", csrf.as_str()), ("code", "000000")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let code = totp_code(secret, &user.username);
    let r = submit(
        &c,
        format!("{base}/login/totp"),
        &[("csrf", csrf.as_str()), ("code", code.as_str())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/");
    let me: Value = fetch_json(&c, format!("{base}/api/v1/me")).await;
    assert_eq!(me["role"], "supervisor");
    // The same code cannot be used twice (replay).
    let c2 = web_client();
    let csrf = page_csrf(&c2, format!("{base}/login")).await;
    submit_login(&c2, base, csrf.as_str(), user.username.as_str(), PW).await;
    let csrf = page_csrf(&c2, format!("{base}/login/totp")).await;
    let r = submit(
        &c2,
        format!("{base}/login/totp"),
        &[("csrf", csrf.as_str()), ("code", code.as_str())],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn health_and_metrics_carry_no_personal_data() {
    let app = spawn_app().await;
    let a = api_token(&app.db, "org-a", "caseworker").await;
    create(&app, &a, "CanaryMetricsName").await;
    let c = web_client();
    let h = fetch(&c, format!("{}/healthz", app.base_url)).await;
    assert_eq!(h.status(), StatusCode::OK);
    let m = fetch_text(&c, format!("{}/metrics", app.base_url)).await;
    assert!(m.contains("dayaq_http_requests_total{class=\"2xx\"}"));
    assert!(!m.contains("CanaryMetricsName") && !m.contains("/cases/"));
}

/// Every operation documents the errors it can give (schemathesis checks answers against the
/// document): 401 and 403 everywhere but the document itself, 404 with a path parameter, 422
/// with any input. And a malformed query really is a documented 422, not a 500.
#[tokio::test]
async fn every_operation_documents_its_error_answers() {
    let app = spawn_app().await;
    let doc: Value = fetch_json(
        &web_client(),
        format!("{}/api/v1/openapi.json", app.base_url),
    )
    .await;
    let paths = doc["paths"].as_object().unwrap();
    let mut checked = 0;
    for (path, item) in paths {
        if path == "/openapi.json" {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            let codes = op["responses"].as_object().unwrap();
            for code in ["401", "403"] {
                assert!(codes.contains_key(code), "{method} {path} lacks {code}");
            }
            if path.contains('{') {
                assert!(codes.contains_key("404"), "{method} {path} lacks 404");
            }
            let takes_input = path.contains('{')
                || op.get("requestBody").is_some()
                || op["parameters"].as_array().is_some_and(|p| !p.is_empty());
            if takes_input {
                assert!(codes.contains_key("422"), "{method} {path} lacks 422");
            }
            checked += 1;
        }
    }
    assert!(checked > 90, "only {checked} operations");

    let token = api_token(&app.db, "org-doc", "caseworker").await;
    for q in ["offset=9223372036854775808", "limit=x"] {
        let r = bearer_get(
            &web_client(),
            format!("{}/api/v1/cases?{q}", app.base_url),
            &token,
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{q}");
    }
}

/// A schema is typed when it names a component, lists properties, is an array of typed
/// items, a scalar, or a choice between typed schemas (e.g. `T` or null). `{}` and
/// `{"type": "object"}` without properties are free-form.
fn typed_schema(s: &Value, components: &serde_json::Map<String, Value>) -> bool {
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/components/schemas/");
        return components
            .get(name)
            .is_some_and(|c| typed_schema(c, components));
    }
    for k in ["oneOf", "anyOf", "allOf"] {
        if let Some(v) = s.get(k).and_then(Value::as_array) {
            return !v.is_empty() && v.iter().all(|x| typed_schema(x, components));
        }
    }
    if s.get("enum").is_some() {
        return true;
    }
    let types: Vec<&str> = match s.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return false,
    };
    types.iter().all(|t| match *t {
        "object" => s
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(|p| !p.is_empty()),
        "array" => s.get("items").is_some_and(|i| typed_schema(i, components)),
        _ => true,
    })
}

/// Every JSON request and response body of the document has a schema (issue 19): clients can
/// be generated from it and schemathesis sends well-formed bodies.
#[tokio::test]
async fn openapi_document_has_no_free_form_body() {
    let app = spawn_app().await;
    let doc: Value = web_client()
        .get(format!("{}/api/v1/openapi.json", app.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let empty = serde_json::Map::new();
    let components = doc["components"]["schemas"].as_object().unwrap_or(&empty);
    let mut bodies = 0;
    let mut free = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        if path == "/openapi.json" {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            let mut contents = Vec::new();
            if let Some(c) = op["requestBody"]["content"].as_object() {
                contents.extend(c.iter().map(|(m, c)| (format!("request {m}"), c)));
            }
            for (code, r) in op["responses"].as_object().unwrap() {
                if let Some(c) = r["content"].as_object() {
                    contents.extend(c.iter().map(|(m, c)| (format!("{code} {m}"), c)));
                }
            }
            for (what, c) in contents {
                if !what.contains("json") {
                    continue;
                }
                bodies += 1;
                if !c.get("schema").is_some_and(|s| typed_schema(s, components)) {
                    free.push(format!("{method} {path} {what}"));
                }
            }
        }
    }
    assert!(free.is_empty(), "free-form bodies: {free:#?}");
    assert!(bodies > 300, "only {bodies} JSON bodies");
    assert!(components.contains_key("ErrorBody") && components.contains_key("CaseView"));
}

/// Two types under one schema name overwrite each other in the document: schemathesis found a
/// status history's `kind: "reopen"` checked against the `{status}` body of a plan action
/// (both were `StatusChange`). The history's kind stays the domain's enum; the body is
/// `StatusUpdate`.
#[tokio::test]
async fn openapi_schema_names_are_not_shared() {
    let app = spawn_app().await;
    let doc: Value = web_client()
        .get(format!("{}/api/v1/openapi.json", app.base_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["StatusEntry"]["properties"]["kind"]["$ref"],
        "#/components/schemas/StatusChange"
    );
    let kind = schemas["StatusChange"].to_string();
    for v in ["change", "close", "reopen", "new_episode"] {
        assert!(kind.contains(&format!("\"{v}\"")), "{v} missing: {kind}");
    }
    assert!(
        schemas["StatusChange"].get("properties").is_none(),
        "{kind}"
    );
    for path in [
        "/cases/{id}/plan-actions/{action_id}/status",
        "/cases/{id}/allowance/{payment_id}/status",
    ] {
        assert_eq!(
            doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/StatusUpdate",
            "{path}"
        );
    }
    assert!(schemas["StatusUpdate"]["properties"]["status"].is_object());
}
