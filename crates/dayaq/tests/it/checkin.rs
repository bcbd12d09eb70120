//! Discreet self check-in (issue 17, part 1) against the running server: create → answer →
//! the answer is a `self_check_in` contact, an assessment in the trajectory and a call-back
//! task inside her safe window; replayed, expired, revoked and forged links all get the same
//! neutral page; do-not-contact / no consent / no protocol refused by field; another
//! organisation sees nothing; the page carries no personal data and weighs ≤ 30 KB; the
//! caseworker's screen shows the link and code once. Browser test (390 px, az and ru): answer
//! flow, quick exit replaces the history entry, expired link.

use crate::kit::{
    TestApp, api_call, csrf_field, fetch, form_post, generous_config, org_and_user, page_get,
    sample_case, sign_in, spawn_app_with, submit, user_token, web_client,
};
use dayaq_domain::policy::Actor;
use dayaq_storage::cases::Ctx;
use dayaq_storage::followup::ProtocolInput;
use dayaq_storage::identification::ConsentInput;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use time::OffsetDateTime;

/// The server's clock, moved by the test.
struct Clock(Arc<AtomicI64>);

impl Clock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(
            i128::from(self.0.load(Ordering::SeqCst)) * 1_000_000,
        )
        .unwrap()
    }
    fn advance_days(&self, d: i64) {
        self.0.fetch_add(d * 86_400_000, Ordering::SeqCst);
    }
}

async fn app_with_clock() -> (TestApp, Clock) {
    let ms = Arc::new(AtomicI64::new(
        (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64,
    ));
    let read = ms.clone();
    let cfg = dayaq_http::AppConfig {
        clock: Arc::new(move || {
            OffsetDateTime::from_unix_timestamp_nanos(
                i128::from(read.load(Ordering::SeqCst)) * 1_000_000,
            )
            .unwrap()
        }),
        ..generous_config()
    };
    (spawn_app_with(cfg).await, Clock(ms))
}

fn at(actor: &Actor, now: OffsetDateTime) -> Ctx<'_> {
    Ctx {
        actor,
        source: "127.0.0.1",
        now,
    }
}

fn consent() -> ConsentInput {
    ConsentInput {
        purpose: "FollowUpContact".into(),
        given: true,
        recipient_org: None,
        recipient_org_type: None,
        given_by: "Survivor".into(),
        language: "ru".into(),
    }
}

/// Every day 09:00–21:00 Baku time, by SMS or phone.
fn protocol(dnc: bool) -> ProtocolInput {
    ProtocolInput {
        channels: vec!["phone".into(), "sms".into()],
        windows: (1..=7).map(|d| format!("{d}@09:00-21:00")).collect(),
        utc_offset_min: None,
        do_not_contact: dnc,
        caller: None,
        language: "ru".into(),
        safe_numbers: vec!["+994 50 111 22 33".into()],
        never_contact: vec![],
        never_places: vec![],
        cover_reason: "bank survey".into(),
        code_word: "lilac".into(),
    }
}

const NAME: &str = "Zarifa";
const SURNAME: &str = "Canaryeva";

struct Setup {
    app: TestApp,
    clock: Clock,
    token: String,
    actor: Actor,
    case: String,
    case_number: String,
}

/// An app with a clock, a caseworker (API token) and a case of hers; with consent and
/// protocol when `ready`.
async fn setup(slug: &str, ready: bool) -> Setup {
    let (app, clock) = app_with_clock().await;
    let (_, cw) = org_and_user(&app.db, slug, "caseworker").await;
    let token = user_token(&app.db, &cw).await;
    let actor = cw.actor();
    let s = &app.db.store;
    let now = clock.now();
    let case = s
        .create_case(
            &at(&actor, now),
            &sample_case(NAME, SURNAME, "1994-03-03", "+994500000077"),
        )
        .await
        .unwrap();
    if ready {
        s.add_consent(&at(&actor, now), case.id, &consent())
            .await
            .unwrap();
        s.set_protocol(&at(&actor, now), case.id, &protocol(false))
            .await
            .unwrap();
    }
    Setup {
        app,
        clock,
        token,
        actor,
        case: case.id.to_string(),
        case_number: case.case_number.clone(),
    }
}

async fn create(s: &Setup, body: Value) -> (StatusCode, Value) {
    api_call(
        &s.app,
        &s.token,
        "POST",
        &format!("/cases/{}/followup/checkins", s.case),
        body,
    )
    .await
}

/// GET a public check-in path: status, headers, body.
async fn public_get(app: &TestApp, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let r = fetch(&web_client(), format!("{}{path}", app.base_url)).await;
    let (s, h) = (r.status(), r.headers().clone());
    (s, h, r.text().await.unwrap())
}

async fn public_post(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let r = submit(&web_client(), format!("{}{path}", app.base_url), form).await;
    let s = r.status();
    (s, r.text().await.unwrap())
}

async fn audit_rows(app: &TestApp, action: &str) -> Vec<(String, String, String)> {
    sqlx::query_as::<_, (String, String, String)>(
        "SELECT source, detail, outcome FROM audit_log WHERE action = $1 ORDER BY seq",
    )
    .bind(action)
    .fetch_all(app.db.store.pool())
    .await
    .unwrap()
}

const ANSWER: &[(&str, &str)] = &[
    ("feeling", "bad"),
    ("help", "work"),
    ("help", "housing"),
    ("call", "yes"),
    ("call_period", "evening"),
];

#[tokio::test]
async fn checkin_answer_becomes_a_contact_an_assessment_and_a_call_back_task() {
    let s = setup("ngo-ci1", true).await;
    let app = &s.app;
    let (st, v) = create(
        &s,
        json!({"cover": "customer_survey", "language": "ru", "expiry_days": 3, "send_via": "sms"}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let token = v["token"].as_str().unwrap().to_string();
    let code = v["code"].as_str().unwrap().to_string();
    assert_eq!(token.len(), 64, "256-bit token");
    assert_eq!(code.len(), 8);
    assert_eq!(v["link"], format!("/c/{token}"));
    assert_eq!(v["sent"], true, "the logging sender accepts");
    // Stored hashed: neither secret appears in the table.
    let raw: Vec<(String, String)> =
        sqlx::query_as("SELECT token_hash, code_hash FROM followup_checkins")
            .fetch_all(app.db.store.pool())
            .await
            .unwrap();
    assert_eq!(raw.len(), 1);
    assert!(!raw[0].0.contains(&token) && !raw[0].1.contains(&code));

    // The page: neutral title in her language, no personal data, headers, ≤ 30 KB in all.
    let (st, h, page) = public_get(app, &format!("/c/{token}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains("<html lang=\"ru\">"));
    assert!(page.contains("<title>Опрос клиентов</title>"), "{page}");
    assert!(page.contains("id=\"quick-exit\""));
    for canary in [
        NAME,
        SURNAME,
        s.case_number.as_str(),
        "+994",
        "Dayaq",
        "traffick",
        "Org ",
    ] {
        assert!(!page.contains(canary), "the page shows {canary}");
    }
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["x-robots-tag"], "noindex, nofollow");
    assert!(!page.contains("/static/"), "no app bundle");
    let (_, _, css) = public_get(app, "/c/s.css").await;
    let (_, _, js) = public_get(app, "/c/q.js").await;
    let total = page.len() + css.len() + js.len();
    assert!(total <= 30 * 1024, "page weighs {total} bytes");
    assert!(js.contains("location.replace"));

    // She answers.
    let (st, thanks) = public_post(app, &format!("/c/{token}"), ANSWER).await;
    assert_eq!(st, StatusCode::OK);
    assert!(thanks.contains("id=\"ci-thanks\""), "{thanks}");
    assert!(thanks.contains("Спасибо"));

    // On the case: a self_check_in contact, reached, not outside the protocol.
    let (_, contacts) = api_call(
        app,
        &s.token,
        "GET",
        &format!("/cases/{}/followup/contacts", s.case),
        Value::Null,
    )
    .await;
    let c = contacts.as_array().unwrap();
    assert_eq!(c.len(), 1);
    assert_eq!(c[0]["channel"], "self_check_in");
    assert_eq!(c[0]["reached"], true);
    assert_eq!(c[0]["outside_protocol"], false);
    // In the trajectory: current_situation = bad, assistance_needed = job + housing.
    let (_, r) = api_call(
        app,
        &s.token,
        "GET",
        &format!("/cases/{}/followup/reintegration", s.case),
        Value::Null,
    )
    .await;
    let traj = r["trajectories"]
        .as_array()
        .or_else(|| r.as_array())
        .cloned()
        .unwrap_or_default();
    let text = r.to_string();
    assert!(text.contains("\"current_situation\""), "{text}");
    let cur = traj
        .iter()
        .find(|t| t["key"] == "current_situation")
        .unwrap_or_else(|| panic!("no trajectory in {text}"));
    assert_eq!(cur["answers"], json!(["bad"]));
    let need = traj
        .iter()
        .find(|t| t["key"] == "assistance_needed")
        .unwrap();
    assert_eq!(need["answers"], json!(["job+housing"]));
    // "Call me" in the evening: a call-back task planned inside her window (17:00–21:00 Baku).
    let (_, tasks) = api_call(
        app,
        &s.token,
        "GET",
        &format!("/cases/{}/followup/tasks", s.case),
        Value::Null,
    )
    .await;
    let t = tasks
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["request"] == "call_back")
        .unwrap_or_else(|| panic!("no call-back task in {tasks}"));
    assert_eq!(t["kind"], "on_demand");
    assert_eq!(t["assignee"], s.actor.user_id.to_string());
    assert_eq!(t["channel"], "phone");
    let planned = OffsetDateTime::parse(
        t["planned_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let baku = planned.to_offset(time::UtcOffset::from_hms(4, 0, 0).unwrap());
    assert!((17..21).contains(&baku.hour()), "planned at {baku}");
    assert!(planned > s.clock.now());
    // The list: answered, with its contact and task.
    let (_, list) = api_call(
        app,
        &s.token,
        "GET",
        &format!("/cases/{}/followup/checkins", s.case),
        Value::Null,
    )
    .await;
    assert_eq!(list[0]["state"], "answered");
    assert_eq!(list[0]["contact_id"], c[0]["id"]);
    assert_eq!(list[0]["task_id"], t["id"]);

    // Replay: the neutral page, identical to a forged link's.
    let forged = format!("/c/{}", "ab".repeat(32));
    let (fs, _, forged_page) = public_get(app, &forged).await;
    let (rs, _, replay_page) = public_get(app, &format!("/c/{token}")).await;
    assert_eq!((fs, rs), (StatusCode::OK, StatusCode::OK));
    assert_eq!(replay_page, forged_page);
    assert!(forged_page.contains("id=\"ci-gone\""));
    let (ps, replay_post) = public_post(app, &format!("/c/{token}"), ANSWER).await;
    let (fps, forged_post) = public_post(app, &forged, ANSWER).await;
    assert_eq!((ps, fps), (StatusCode::OK, StatusCode::OK));
    assert_eq!(replay_post, forged_page);
    assert_eq!(forged_post, forged_page);
    let (ms, _, malformed_page) = public_get(app, "/c/not-a-token").await;
    assert_eq!((ms, malformed_page), (StatusCode::OK, forged_page.clone()));
    // The code of an answered check-in is dead too.
    let (cs, code_page) = public_post(app, "/c", &[("code", &code)]).await;
    assert_eq!((cs, code_page), (StatusCode::OK, forged_page.clone()));
    // Only one contact: the replays changed nothing.
    let (_, contacts) = api_call(
        app,
        &s.token,
        "GET",
        &format!("/cases/{}/followup/contacts", s.case),
        Value::Null,
    )
    .await;
    assert_eq!(contacts.as_array().unwrap().len(), 1);

    // Audited: creation and answer, with no client address and no answer in the detail.
    let created = audit_rows(app, "checkin.create").await;
    assert_eq!(created.len(), 1);
    let answered = audit_rows(app, "checkin.answer").await;
    assert_eq!(answered.len(), 1);
    assert_eq!(answered[0].0, "self_check_in");
    for (source, detail, _) in answered
        .iter()
        .chain(audit_rows(app, "followup.assessment").await.iter())
    {
        assert!(!source.contains("127.0.0.1"));
        for word in ["bad", "evening", "work", "housing"] {
            assert!(!detail.contains(word), "audit detail {detail} shows {word}");
        }
    }
}

#[tokio::test]
async fn checkin_expired_revoked_and_code_entry() {
    let s = setup("ngo-ci2", true).await;
    let app = &s.app;
    let (_, a) = create(
        &s,
        json!({"cover": "appointment_reminder", "language": "az", "expiry_days": 1}),
    )
    .await;
    let (_, b) = create(&s, json!({"cover": "delivery_update", "language": "en"})).await;
    let (_, c) = create(&s, json!({"cover": "customer_survey", "language": "ru"})).await;
    let forged = public_get(app, &format!("/c/{}", "cd".repeat(32))).await.2;

    // The code entry page opens the questions of check-in b; answering by code works.
    let (st, _, entry) = public_get(app, "/c").await;
    assert_eq!(st, StatusCode::OK);
    assert!(entry.contains("id=\"ci-code-form\""));
    let code_b = b["code"].as_str().unwrap();
    let typed = format!(" {}-{} ", &code_b[..4], code_b[4..].to_lowercase());
    let (st, q) = public_post(app, "/c", &[("code", &typed)]).await;
    assert_eq!(st, StatusCode::OK);
    assert!(q.contains("<title>Delivery update</title>"), "{q}");
    let mut form = vec![("code", typed.as_str()), ("step", "answer")];
    form.extend_from_slice(&[("feeling", "good"), ("call", "no")]);
    let (st, thanks) = public_post(app, "/c", &form).await;
    assert_eq!(st, StatusCode::OK);
    assert!(thanks.contains("id=\"ci-thanks\""));
    // A forged form (unknown answer) is refused on the page, nothing recorded.
    let (st, refused) = public_post(
        app,
        &format!("/c/{}", c["token"].as_str().unwrap()),
        &[("feeling", "ecstatic")],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains("id=\"ci-error\""));

    // Revoke c: its link dies.
    let (st, v) = api_call(
        app,
        &s.token,
        "POST",
        &format!("/cases/{}/followup/checkins/revoke", s.case),
        json!({"id": c["id"]}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "revoked");
    let revoked = public_get(app, &format!("/c/{}", c["token"].as_str().unwrap()))
        .await
        .2;
    assert_eq!(revoked, forged);
    let (st, v) = api_call(
        app,
        &s.token,
        "POST",
        &format!("/cases/{}/followup/checkins/revoke", s.case),
        json!({"id": c["id"]}),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"]["field"], "id");

    // Two days later check-in a has expired: the same neutral page, audited once.
    s.clock.advance_days(2);
    let (st, _, expired) = public_get(app, &format!("/c/{}", a["token"].as_str().unwrap())).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(expired, forged);
    // (The API token's day has passed on this clock: read through the store.)
    let case: uuid::Uuid = s.case.parse().unwrap();
    let list = app
        .db
        .store
        .checkins(&at(&s.actor, s.clock.now()), case)
        .await
        .unwrap();
    let states: Vec<&str> = list.iter().map(|x| x.state.as_str()).collect();
    let mut sorted = states.clone();
    sorted.sort();
    assert_eq!(sorted, ["answered", "expired", "revoked"]);
    let expiries = audit_rows(app, "checkin.expire").await;
    assert_eq!(expiries.len(), 1);
    assert_eq!(expiries[0].0, "self_check_in");
    assert_eq!(audit_rows(app, "checkin.revoke").await.len(), 1);
}

#[tokio::test]
async fn checkin_refused_without_consent_protocol_or_with_do_not_contact_and_hidden_from_other_orgs()
 {
    let s = setup("ngo-ci3", false).await;
    let app = &s.app;
    let body = json!({"cover": "customer_survey", "language": "az"});
    let (st, v) = create(&s, body.clone()).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let fields: Vec<&str> = v["error"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["consent", "protocol"]);
    let store = &app.db.store;
    let case: uuid::Uuid = s.case.parse().unwrap();
    store
        .add_consent(&at(&s.actor, s.clock.now()), case, &consent())
        .await
        .unwrap();
    store
        .set_protocol(&at(&s.actor, s.clock.now()), case, &protocol(true))
        .await
        .unwrap();
    let (st, v) = create(&s, body.clone()).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"]["field"], "do_not_contact");
    // Bad input names its field.
    let (st, v) = create(&s, json!({"cover": "trafficking", "language": "az"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"]["field"], "cover");
    let (st, v) = create(
        &s,
        json!({"cover": "customer_survey", "language": "az", "expiry_days": 90}),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["error"]["field"], "expiry_days");
    // Nothing was created; refusals were audited with their codes.
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM followup_checkins")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(n, 0);
    let refused = audit_rows(app, "checkin.create").await;
    assert_eq!(refused.len(), 2);
    assert!(refused.iter().all(|(_, _, o)| o == "refused"));
    assert!(refused[1].1.contains("do_not_contact"));

    // Allowed again: a check-in exists; another organisation can neither create nor list.
    store
        .set_protocol(&at(&s.actor, s.clock.now()), case, &protocol(false))
        .await
        .unwrap();
    let (st, _) = create(&s, body.clone()).await;
    assert_eq!(st, StatusCode::CREATED);
    let (_, other) = org_and_user(&app.db, "ngo-ci3-other", "caseworker").await;
    let other_token = user_token(&app.db, &other).await;
    let path = format!("/cases/{}/followup/checkins", s.case);
    let (st, v) = api_call(app, &other_token, "POST", &path, body.clone()).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    let (st, v) = api_call(app, &other_token, "GET", &path, Value::Null).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(!v.to_string().contains("customer_survey"));
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM followup_checkins")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn checkin_screen_shows_link_and_code_once_and_keeps_a_refused_form() {
    let s = setup("ngo-ci4", true).await;
    let app = &s.app;
    let cw = app.db.store.user_by_id(s.actor.user_id).await.unwrap();
    let c = web_client();
    sign_in(&c, &app.base_url, &cw.username).await;
    let path = format!("/cases/{}/checkins", s.case);
    let (st, page) = page_get(app, &c, &path).await;
    assert_eq!(st, StatusCode::OK, "{page}");
    assert!(page.contains("id=\"ci-new-form\""));
    let csrf = csrf_field(&page);
    // Refused: the days stay as typed, the error is beside its field.
    let (st, page) = form_post(
        app,
        &c,
        &path,
        &[
            ("csrf", &csrf),
            ("cover", "customer_survey"),
            ("language", "ru"),
            ("expiry_days", "45"),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"ci-days-error\""), "{page}");
    assert!(page.contains("value=\"45\""));
    assert!(page.contains("value=\"customer_survey\" selected"));
    // Created: link and code shown once.
    let (st, page) = form_post(
        app,
        &c,
        &path,
        &[
            ("csrf", &csrf),
            ("cover", "customer_survey"),
            ("language", "ru"),
            ("expiry_days", "5"),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{page}");
    assert!(page.contains("id=\"ci-link\""));
    let link_start = page.find("/c/").unwrap();
    let token = &page[link_start + 3..link_start + 3 + 64];
    let (_, again) = page_get(app, &c, &path).await;
    assert!(!again.contains(token), "the link is shown only once");
    assert!(again.contains("data-state=\"open\""));
    // The case's follow-up section links to the screen.
    let (_, case_page) = page_get(app, &c, &format!("/cases/{}", s.case)).await;
    assert!(case_page.contains("id=\"fu-checkins-link\""));
}

/// A title naming the organisation only when she chose it: refused on `cover` otherwise;
/// with her choice, her page is titled with the organisation's name and the choice is
/// recorded on the check-in and shown on the case's screen.
#[tokio::test]
async fn checkin_names_the_organisation_only_when_she_chose_it() {
    let s = setup("ngo-ci6", true).await;
    let app = &s.app;
    let (st, v) = create(&s, json!({"cover": "organisation", "language": "az"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["errors"][0]["field"], "cover");
    assert_eq!(v["error"]["errors"][0]["code"], "not_her_choice");
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM followup_checkins")
        .fetch_one(app.db.store.pool())
        .await
        .unwrap();
    assert_eq!(n, 0, "nothing made");
    let (st, v) = create(
        &s,
        json!({"cover": "organisation", "chosen_by_her": true, "language": "az"}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let token = v["token"].as_str().unwrap().to_string();
    let org: String = sqlx::query_scalar(
        "SELECT o.name FROM cases c JOIN organisations o ON o.id = c.owner_org_id WHERE c.id = $1",
    )
    .bind(&s.case)
    .fetch_one(app.db.store.pool())
    .await
    .unwrap();
    let (st, _, page) = public_get(app, &format!("/c/{token}")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains(&format!("<title>{org}</title>")), "{page}");
    assert!(!page.contains(NAME) && !page.contains(SURNAME));
    let (_, list) = api_call(
        app,
        &s.token,
        "GET",
        &format!("/cases/{}/followup/checkins", s.case),
        Value::Null,
    )
    .await;
    assert_eq!(list[0]["cover"], "organisation");
    assert_eq!(list[0]["cover_chosen_by_her"], true);
    let cw = app.db.store.user_by_id(s.actor.user_id).await.unwrap();
    let c = web_client();
    sign_in(&c, &app.base_url, &cw.username).await;
    let (_, screen) = page_get(app, &c, &format!("/cases/{}/checkins", s.case)).await;
    assert!(
        screen.contains("class=\"ci-her-choice\""),
        "shown on the case"
    );
    let audit = audit_rows(app, "checkin.create").await;
    assert!(
        audit.iter().any(|(_, d, _)| d.contains("her_choice=true")),
        "{audit:?}"
    );
}

// ---------- browser: a phone-sized window, az and ru ----------

/// A check-in of a ready case (consent, protocol) in `lang`, created at `when` for `days`.
async fn browser_checkin(
    app: &TestApp,
    actor: &Actor,
    case: uuid::Uuid,
    lang: &str,
    when: OffsetDateTime,
    days: u32,
) -> String {
    app.db
        .store
        .create_checkin(
            &at(actor, when),
            case,
            &dayaq_domain::followup::CheckInInput {
                cover: "appointment_reminder".into(),
                language: lang.into(),
                expiry_days: Some(days),
                chosen_by_her: false,
            },
        )
        .await
        .unwrap()
        .token
}

#[tokio::test]
async fn e2e_checkin_phone_az_ru() {
    use crate::kit::browser::{Catalogue, run};
    run("e2e_checkin_phone_az_ru", |b, app| async move {
        let (_, cw) = org_and_user(&app.db, "ngo-ci-e2e", "caseworker").await;
        let actor = cw.actor();
        let now = OffsetDateTime::now_utc();
        let s = &app.db.store;
        let case = s
            .create_case(
                &at(&actor, now),
                &sample_case(NAME, SURNAME, "1994-03-03", "+994500000078"),
            )
            .await
            .unwrap();
        s.add_consent(&at(&actor, now), case.id, &consent())
            .await
            .unwrap();
        s.set_protocol(&at(&actor, now), case.id, &protocol(false))
            .await
            .unwrap();
        b.resize((390, 844)).await;
        for lang in ["az", "ru"] {
            let t = Catalogue::load(lang);
            // Answer flow.
            let token = browser_checkin(&app, &actor, case.id, lang, now, 7).await;
            b.open(&format!("/c/{token}"), &format!("{lang}-questions"))
                .await;
            assert_eq!(b.html_lang().await, lang);
            assert_eq!(
                b.js("return document.title;", vec![]).await,
                json!(t.get("ci-cover-appointment-reminder"))
            );
            let src = b.source().await;
            for canary in [NAME, SURNAME, case.case_number.as_str()] {
                assert!(!src.contains(canary));
            }
            let o = b.overflow().await;
            assert!(
                o["scroll"].as_u64() <= o["viewport"].as_u64(),
                "at 390 px the check-in scrolls sideways: {o}"
            );
            b.find("input[name=feeling][value=good]")
                .await
                .click()
                .await
                .unwrap();
            b.find("input[name=help][value=health]")
                .await
                .click()
                .await
                .unwrap();
            b.find("input[name=call][value=yes]")
                .await
                .click()
                .await
                .unwrap();
            b.find("input[name=call_period][value=morning]")
                .await
                .click()
                .await
                .unwrap();
            b.click_to("#ci-send", &format!("{lang}-thanks")).await;
            assert_eq!(b.text("#ci-thanks").await, t.get("ci-thanks"));

            // Quick exit replaces the history entry: back does not return to the check-in.
            let token = browser_checkin(&app, &actor, case.id, lang, now, 7).await;
            b.open(&format!("/c/{token}"), &format!("{lang}-exit-before"))
                .await;
            let before = b.js("return history.length;", vec![]).await;
            assert_eq!(b.text("#quick-exit").await, t.get("ci-exit"));
            b.click_to("#quick-exit", &format!("{lang}-exit")).await;
            assert_eq!(b.path().await, "/c/exit");
            assert_eq!(b.js("return history.length;", vec![]).await, before);
            assert!(b.count("#quick-exit").await == 0);
            b.js("history.back();", vec![]).await;
            tokio::time::sleep(std::time::Duration::from_millis(800)).await;
            assert_ne!(
                b.path().await,
                format!("/c/{token}"),
                "back returned to the check-in"
            );

            // An expired link: the neutral page.
            let old = now - time::Duration::days(3);
            let token = browser_checkin(&app, &actor, case.id, lang, old, 1).await;
            b.open(&format!("/c/{token}"), &format!("{lang}-expired"))
                .await;
            b.find("#ci-gone").await;
            assert_eq!(b.count("#ci-form").await, 0);
        }
        // Both answers landed on the case as self check-in contacts.
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM followup_contacts WHERE channel = 'self_check_in'",
        )
        .fetch_one(app.db.store.pool())
        .await
        .unwrap();
        assert_eq!(n, 2);
    })
    .await;
}
