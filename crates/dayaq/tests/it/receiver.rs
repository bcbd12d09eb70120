//! Issue #23 §8–§10: the receiving organisation's view (the badge of new referrals, the cases
//! it received, the service it was asked to deliver), derived labels that obey the grants of
//! their source, and the case page's actions by role (with the break-glass card).

use crate::kit::{
    TOTP_SECRET, TestApp, accepted_referral, accepted_vt_referral, api_call, ctx, form_post,
    new_case, org_and_user, page_get, pending_referral, spawn_app, user_token, web_session,
};
use dayaq_domain::Actor;
use dayaq_domain::policy::Section;
use dayaq_http::i18n::{Lang, Tr};
use dayaq_storage::users::User;
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

/// Calls the API as `token` and checks the status (the answer in the message); gives the body.
async fn expect(
    app: &TestApp,
    token: &str,
    method: &str,
    path: &str,
    body: serde_json::Value,
    want: StatusCode,
) -> serde_json::Value {
    let (st, v) = api_call(app, token, method, path, body).await;
    assert_eq!(st, want, "{method} {path}: {v}");
    v
}

const IDENTITY: [&str; 4] = ["Leyla", "Receiverova", "1990-02-03", "+994 55 321 54 76"];

/// The translations of `user`'s screens.
fn tr(user: &User) -> Tr {
    Tr::new(Lang::parse(&user.locale).unwrap_or(Lang::Az))
}

/// A case of organisation `org-a` recorded by its caseworker (returned with the case id).
async fn owner_case(app: &TestApp) -> (User, Actor, Uuid) {
    let (_, cw) = org_and_user(&app.db, "org-a", "caseworker").await;
    let a = cw.actor();
    let case = new_case(&app.db.store, &a, IDENTITY).await.id;
    (cw, a, case)
}

/// A case of `org-a` referred to `vt-centre` for vocational training, accepted by its
/// caseworker (returned last).
async fn vt_referred_case(app: &TestApp) -> (User, Actor, Uuid, User) {
    let (cw_user, cw, case) = owner_case(app).await;
    let (_, vt) = org_and_user(&app.db, "vt-centre", "caseworker").await;
    accepted_vt_referral(&app.db.store, &cw, &vt.actor(), case, "vt-centre").await;
    (cw_user, cw, case, vt)
}

#[tokio::test]
async fn new_referrals_badge_and_received_cases() {
    let app = spawn_app().await;
    let s = &app.db.store;
    let (_, cw, case) = owner_case(&app).await;
    let (_, vt) = org_and_user(&app.db, "vt-centre", "caseworker").await;
    let (web, _) = web_session(&app, &vt.username, None).await;
    let (_, home) = page_get(&app, &web, "/").await;
    assert!(home.contains("id=\"home-no-new-referrals\""), "{home}");
    let (_, badge) = page_get(&app, &web, "/referrals/badge").await;
    assert!(!badge.contains("nav-new-referrals"));

    let r = pending_referral(s, &cw, case, "vt-centre", &["VocationalTraining"]).await;
    assert_eq!(s.new_referral_count(&ctx(&vt.actor())).await.unwrap(), 1);
    assert_eq!(
        s.new_referral_count(&ctx(&cw)).await.unwrap(),
        0,
        "the sender"
    );
    let (_, home) = page_get(&app, &web, "/").await;
    assert!(
        home.contains("id=\"home-new-referrals-count\">1<"),
        "{home}"
    );
    assert!(home.contains(&tr(&vt).arg("recv-new-count", "count", 1_i64)));
    let (_, badge) = page_get(&app, &web, "/referrals/badge").await;
    assert!(badge.contains("id=\"nav-new-referrals\">1<"), "{badge}");
    // Every page of a case worker asks for the badge.
    assert!(home.contains("hx-get=\"/referrals/badge\""));
    assert!(
        s.received_cases(&ctx(&vt.actor()), 100)
            .await
            .unwrap()
            .is_empty(),
        "a pending referral gives nothing yet"
    );

    s.respond_referral(
        &ctx(&vt.actor()),
        r,
        dayaq_domain::referral::ReferralEvent::Accept,
        None,
    )
    .await
    .unwrap();
    let (_, badge) = page_get(&app, &web, "/referrals/badge").await;
    assert!(!badge.contains("nav-new-referrals"), "answered: {badge}");
    let got = s.received_cases(&ctx(&vt.actor()), 100).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].case.id, case);
    assert_eq!(
        got[0].sections,
        vec![Section::Identity, Section::Plan, Section::Services]
    );
    assert_eq!(got[0].services, vec!["VocationalTraining".to_string()]);
    assert!(
        got[0].case.types_of_exploitation.is_empty(),
        "the summary is redacted to the grant"
    );
    assert!(
        s.received_cases(&ctx(&cw), 100).await.unwrap().is_empty(),
        "the owner lists its own cases elsewhere"
    );
    app.db.cleanup().await;
}

#[tokio::test]
async fn receiver_records_the_service_it_was_asked_to_deliver() {
    let app = spawn_app().await;
    let s = &app.db.store;
    let (cw_user, cw, case, vt) = vt_referred_case(&app).await;
    let owner_token = user_token(&app.db, &cw_user).await;
    let token = user_token(&app.db, &vt).await;

    // API: the service it was asked for, with itself as the provider; audited.
    expect(
        &app,
        &token,
        "POST",
        &format!("/cases/{case}/services"),
        json!({"service": "VocationalTraining", "started_on": "2026-11-02", "outcome": "Ongoing",
               "details": "sewing course"}),
        StatusCode::CREATED,
    )
    .await;
    let own = s.services(&ctx(&cw), case).await.unwrap();
    assert_eq!(own.len(), 1);
    assert_eq!(own[0].provider_org, vt.org_id);
    assert_eq!(own[0].details.as_deref(), Some("sewing course"));
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'case.service' AND case_id = $1 AND actor_user = $2",
    )
    .bind(case.to_string())
    .bind(vt.id.to_string())
    .fetch_one(app.db.store.pool())
    .await
    .unwrap();
    assert_eq!(audited, 1);

    // A service it was not asked for: refused by its field, nothing written.
    let v = expect(
        &app,
        &token,
        "POST",
        &format!("/cases/{case}/services"),
        json!({"service": "Medical", "started_on": "2026-11-02", "outcome": "Ongoing"}),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(v.to_string().contains("not_referred") && v.to_string().contains("\"service\""));
    assert_eq!(s.services(&ctx(&cw), case).await.unwrap().len(), 1);

    // Plan actions within the granted plan section; the plan itself stays the owner's.
    let plan = expect(
        &app,
        &owner_token,
        "POST",
        &format!("/cases/{case}/plans"),
        json!({"spl_Type": "Livelihood"}),
        StatusCode::CREATED,
    )
    .await;
    let plan = plan["id"].as_str().unwrap().to_string();
    let v = expect(
        &app,
        &token,
        "POST",
        &format!("/cases/{case}/plans/{plan}/actions"),
        json!({"service": "VocationalTraining", "due_on": "2027-01-15"}),
        StatusCode::CREATED,
    )
    .await;
    let action = v["id"].as_str().unwrap().to_string();
    expect(
        &app,
        &token,
        "POST",
        &format!("/cases/{case}/plan-actions/{action}/status"),
        json!({"status": "InProgress"}),
        StatusCode::NO_CONTENT,
    )
    .await;
    let p = &s.plans(&ctx(&cw), case).await.unwrap()[0];
    assert_eq!(p.actions[0].responsible_org, vt.org_id);
    assert_eq!(p.actions[0].status, "InProgress");
    for (method, path, body) in [
        (
            "POST",
            format!("/cases/{case}/plans"),
            json!({"spl_Type": "Livelihood"}),
        ),
        ("POST", format!("/cases/{case}/allowance"), json!({})),
        (
            "POST",
            format!("/cases/{case}/screenings"),
            json!({"act": true, "means": true, "purpose": true}),
        ),
    ] {
        let (st, _) = api_call(&app, &token, method, &path, body).await;
        assert!(
            st == StatusCode::FORBIDDEN || st == StatusCode::NOT_FOUND,
            "{path}: {st}"
        );
    }

    // The screen: its service form offers only the services it was asked for, and records.
    let (web, csrf) = web_session(&app, &vt.username, None).await;
    let (_, page) = page_get(&app, &web, &format!("/cases/{case}")).await;
    assert!(page.contains("id=\"asst-service-submit\""));
    assert!(page.contains("id=\"asst-action-submit\""));
    assert!(page.contains("value=\"VocationalTraining\""));
    assert!(
        !page.contains("<option value=\"Medical\">"),
        "only what it was asked for"
    );
    let (st, _) = form_post(
        &app,
        &web,
        &format!("/cases/{case}/assistance/service"),
        &[
            ("csrf", csrf.as_str()),
            ("service", "VocationalTraining"),
            ("started_on", "2026-11-20"),
            ("outcome", "Completed"),
            ("details", "certificate"),
        ],
    )
    .await;
    assert!(st.is_success() || st.is_redirection(), "{st}");
    assert_eq!(s.services(&ctx(&cw), case).await.unwrap().len(), 2);
    app.db.cleanup().await;
}

#[tokio::test]
async fn derived_labels_obey_the_grants_of_their_source() {
    let app = spawn_app().await;
    let s = &app.db.store;
    let (cw_user, cw, case, vt) = vt_referred_case(&app).await;
    let owner_token = user_token(&app.db, &cw_user).await;
    // The owner screens the case and plans a rehabilitation named after the exploitation.
    expect(
        &app,
        &owner_token,
        "POST",
        &format!("/cases/{case}/screenings"),
        json!({"act": true, "means": true, "purpose": true}),
        StatusCode::CREATED,
    )
    .await;
    expect(
        &app,
        &owner_token,
        "POST",
        &format!("/cases/{case}/plans"),
        json!({"spl_Type": "SexualExploitationRehabilitation", "spl_Objectives": "recovery"}),
        StatusCode::CREATED,
    )
    .await;

    // The owner sees them; the vocational-training centre (no victim context) does not.
    let own = s.plans(&ctx(&cw), case).await.unwrap();
    assert_eq!(own[0].spl_type, "SexualExploitationRehabilitation");
    let theirs = s.plans(&ctx(&vt.actor()), case).await.unwrap();
    assert!(theirs[0].spl_type.is_empty() && theirs[0].spl_type_restricted);

    let token = user_token(&app.db, &vt).await;
    for path in [
        format!("/cases/{case}"),
        format!("/cases/{case}/events"),
        format!("/cases/{case}/plans"),
        format!("/cases/{case}/services"),
        format!("/cases/{case}/referrals"),
    ] {
        let v = expect(&app, &token, "GET", &path, json!({}), StatusCode::OK).await;
        let body = v.to_string();
        // Values, not keys: `vic_TypeOfExploitation` is there, empty.
        assert!(!body.contains("SexualExploitation"), "{path}: {body}");
        assert!(!body.contains("Rehabilitation"), "{path}: {body}");
        assert!(!body.contains("screening."), "{path}: {body}");
    }

    let t = tr(&vt);
    let (web, _) = web_session(&app, &vt.username, None).await;
    let (st, page) = page_get(&app, &web, &format!("/cases/{case}")).await;
    assert_eq!(st, StatusCode::OK);
    for leak in [
        t.get("asst-t-sexual"),
        t.vocab("vic_TypeOfExploitation", "SexualExploitation"),
        t.get("screen-none"),
        t.get("event-screening-recorded"),
        "SexualExploitation".to_string(),
    ] {
        assert!(
            !page.contains(&leak),
            "the receiver's case page shows {leak:?}"
        );
    }
    assert!(page.contains("id=\"screening-not-shared\""));
    assert!(page.contains(&t.get("recv-not-shared")));

    // The owner's page still says all of it.
    let (web, _) = web_session(&app, &cw_user.username, None).await;
    let (_, page) = page_get(&app, &web, &format!("/cases/{case}")).await;
    let t = tr(&cw_user);
    assert!(page.contains(&t.get("asst-t-sexual")));
    assert!(page.contains(&t.vocab("vic_TypeOfExploitation", "SexualExploitation")));
    assert!(!page.contains("screening-not-shared"));
    app.db.cleanup().await;
}

/// The case page's action buttons, by role (issue #23 §10).
const BUTTONS: [&str; 6] = [
    "refer-submit",
    "screening-submit",
    "decision-submit",
    "asst-plan-submit",
    "asst-service-submit",
    "asst-allowance-pay",
];

async fn buttons_on(
    app: &TestApp,
    user: &User,
    totp: Option<&[u8]>,
    case: Uuid,
) -> Vec<&'static str> {
    let (web, _) = web_session(app, &user.username, totp).await;
    let (st, page) = page_get(app, &web, &format!("/cases/{case}")).await;
    assert_eq!(st, StatusCode::OK, "{}", user.username);
    BUTTONS
        .iter()
        .copied()
        .filter(|b| page.contains(&format!("id=\"{b}\"")))
        .collect()
}

#[tokio::test]
async fn case_page_actions_follow_the_role() {
    let app = spawn_app().await;
    let s = &app.db.store;
    let (cw_user, cw, case) = owner_case(&app).await;
    let (_, sup) = org_and_user(&app.db, "org-a", "supervisor").await;
    s.totp_set_secret(&sup, TOTP_SECRET).await.unwrap();
    let (_, hotline) = org_and_user(&app.db, "org-a", "hotline_operator").await;
    let (_, police) = org_and_user(&app.db, "org-a", "police_officer").await;
    let (_, vt) = org_and_user(&app.db, "vt-centre", "caseworker").await;
    let (_, cop) = org_and_user(&app.db, "police-dept", "police_officer").await;
    accepted_vt_referral(s, &cw, &vt.actor(), case, "vt-centre").await;
    accepted_referral(
        s,
        &cw,
        &cop.actor(),
        case,
        "police-dept",
        &["LegalConsultation"],
    )
    .await;

    let all = BUTTONS.to_vec();
    let case_management = [
        "refer-submit",
        "screening-submit",
        "asst-plan-submit",
        "asst-service-submit",
        "asst-allowance-pay",
    ];
    let front_line = [
        "refer-submit",
        "screening-submit",
        "asst-plan-submit",
        "asst-service-submit",
    ];
    assert_eq!(
        buttons_on(&app, &cw_user, None, case).await,
        case_management
    );
    assert_eq!(
        buttons_on(&app, &sup, Some(TOTP_SECRET), case).await,
        case_management
    );
    assert_eq!(
        buttons_on(&app, &hotline, None, case).await,
        front_line,
        "no allowance"
    );
    assert_eq!(
        buttons_on(&app, &police, None, case).await,
        all,
        "the identifying authority decides and requests the allowance"
    );
    assert_eq!(
        buttons_on(&app, &vt, None, case).await,
        ["asst-service-submit"]
    );
    assert_eq!(
        buttons_on(&app, &cop, None, case).await,
        ["screening-submit", "decision-submit"],
        "the identifying authority screens"
    );

    // The police of the receiving organisation records a screening, audited as theirs.
    let token = user_token(&app.db, &cop).await;
    let screening = json!({"act": true, "means": true, "purpose": true});
    let path = format!("/cases/{case}/screenings");
    expect(&app, &token, "POST", &path, screening, StatusCode::CREATED).await;
    assert_eq!(s.screenings(&ctx(&cw), case).await.unwrap().len(), 1);
    // The hotline operator cannot request the allowance, by the API either.
    let token = user_token(&app.db, &hotline).await;
    expect(
        &app,
        &token,
        "POST",
        &format!("/cases/{case}/allowance"),
        json!({}),
        StatusCode::FORBIDDEN,
    )
    .await;
    app.db.cleanup().await;
}

#[tokio::test]
async fn break_glass_card_only_for_those_who_may_and_refusal_in_words() {
    let app = spawn_app().await;
    let s = &app.db.store;
    let (cw_user, _, _) = owner_case(&app).await;
    let (_, sup) = org_and_user(&app.db, "org-b", "supervisor").await;
    s.totp_set_secret(&sup, TOTP_SECRET).await.unwrap();

    let (web, csrf) = web_session(&app, &cw_user.username, None).await;
    let (_, page) = page_get(&app, &web, "/referrals").await;
    assert!(
        !page.contains("id=\"bg-submit\""),
        "a caseworker cannot ask"
    );
    let (st, page) = form_post(
        &app,
        &web,
        "/break-glass",
        &[
            ("csrf", csrf.as_str()),
            ("case_number", "X-1"),
            ("reason", "ten letters or more"),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(
        page.contains(&tr(&cw_user).get("recv-bg-refused")),
        "not silent"
    );

    let (web, csrf) = web_session(&app, &sup.username, Some(TOTP_SECRET)).await;
    let (_, page) = page_get(&app, &web, "/referrals").await;
    assert!(page.contains("id=\"bg-submit\""));
    let reason = "she called from the border post at night";
    let (st, page) = form_post(
        &app,
        &web,
        "/break-glass",
        &[
            ("csrf", csrf.as_str()),
            ("case_number", "NO-SUCH-1"),
            ("reason", reason),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(page.contains("id=\"bg-error\""), "{page}");
    assert!(page.contains(&tr(&sup).get("recv-bg-refused")));
    assert!(
        page.contains("value=\"NO-SUCH-1\"") && page.contains(reason),
        "input kept"
    );
    app.db.cleanup().await;
}
