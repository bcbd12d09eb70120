//! One form pattern on the case page (issue #23 §1, §3).
//!
//! In the browser (axe-checked, screenshots in `target/e2e-artifacts/<test>/`): a form of each
//! family of the case page (identification, assistance, record, follow-up) and the new-case and
//! contact forms are submitted with a bad value; the page comes back with that form open, the
//! error inside the field's container, linked from the form's summary, the field focused, and
//! everything typed still there; a corrected submission is confirmed in words.
//!
//! Over plain HTTP (always run, SQLite and PostgreSQL): the same form posted twice (double
//! click, one-time form token) makes one record and answers the same; empty cases and contacts
//! are refused; a follow-up contact long before a round cannot complete it.

use crate::kit::browser::{Catalogue, run};
use crate::kit::{ctx, form_post, new_case, org_and_user, page_get, web_session};
use dayaq_domain::assistance::fmt_date;
use reqwest::StatusCode;

/// The value of the first hidden `form_token` field of a page.
fn form_token(html: &str) -> String {
    let at = html
        .find("name=\"form_token\" value=\"")
        .expect("a form_token field");
    let rest = &html[at + "name=\"form_token\" value=\"".len()..];
    rest[..rest.find('"').expect("end of the token")].to_string()
}

/// Decision, service, trafficking event and follow-up contact: each refused with the error
/// beside its field and the typed values kept; the corrected service is confirmed in words.
#[tokio::test]
async fn case_page_forms_keep_input_and_show_errors_beside_fields() {
    run(
        "case_page_forms_keep_input_and_show_errors_beside_fields",
        |b, app| async move {
            let t = Catalogue::load("en");
            let store = &app.db.store;
            let (_, pol) = org_and_user(&app.db, "police-forms", "police_officer").await;
            store.set_locale(pol.id, "en").await.expect("set_locale");
            let case = new_case(
                store,
                &pol.actor(),
                ["Leyla", "Sintetika", "1996-02-03", "+994 50 555 12 34"],
            )
            .await;
            let case_path = format!("/cases/{}", case.id);
            let today = time::OffsetDateTime::now_utc().date();
            b.sign_in(&pol.username, None).await;
            b.open(&case_path, "case").await;

            // Identification: a decision dated tomorrow keeps its status and reference.
            b.select("#d-status", "ActualVictimOfTrafficking").await;
            b.select("#d-org", "Police").await;
            b.set_value("#d-date", &fmt_date(today + time::Duration::days(1)))
                .await;
            b.fill("#d-ref", "ATD-2026-9").await;
            b.click_to("#decision-submit", "decision-refused").await;
            b.assert_error_beside("d-date").await;
            assert_eq!(b.value("#d-status").await, "ActualVictimOfTrafficking");
            assert_eq!(b.value("#d-ref").await, "ATD-2026-9");
            assert_eq!(b.count("#d-date[autofocus]").await, 1, "focus on the error");
            assert!(
                b.text("#decision-errors")
                    .await
                    .contains(t.get("err-in-future"))
            );

            // Assistance: a service with cost "abc" keeps its details, its form open.
            b.click_here("#asst-service-form summary").await;
            b.select("#s-service", "VocationalTraining").await;
            b.set_value("#s-start", &fmt_date(today)).await;
            b.fill("#s-cost", "abc").await;
            b.fill("#s-details", "Tailoring course, three months").await;
            b.click_to("#asst-service-submit", "service-refused").await;
            assert_eq!(b.count("#asst-service-form[open]").await, 1);
            b.assert_error_beside("s-cost").await;
            assert_eq!(b.value("#s-cost").await, "abc");
            assert_eq!(
                b.value("#s-details").await,
                "Tailoring course, three months"
            );
            assert_eq!(b.value("#s-service").await, "VocationalTraining");
            assert_eq!(b.value("#s-start").await, fmt_date(today));
            // Corrected: recorded, and said so in words.
            b.fill("#s-cost", "120.50").await;
            b.click_to("#asst-service-submit", "service-recorded").await;
            assert_eq!(b.text("#assistance-done").await, t.get("done-service"));
            assert!(b.text("#asst-services").await.contains("120.50 AZN"));

            // Record: a trafficking event with latitude "north" keeps the description.
            b.click_here("details:has(#form-event) summary").await;
            b.select("#rec-hte-type", "Exploitation").await;
            b.fill("#rec-hte-city", "Dubai").await;
            b.fill("#rec-hte-lat", "north").await;
            b.fill("#rec-hte-desc", "Domestic work without pay").await;
            b.click_to("#rec-event-submit", "event-refused").await;
            b.assert_error_beside("rec-hte-lat").await;
            assert_eq!(b.value("#rec-hte-city").await, "Dubai");
            assert_eq!(b.value("#rec-hte-desc").await, "Domestic work without pay");
            assert_eq!(b.value("#rec-hte-type").await, "Exploitation");

            // Follow-up: a contact without a time keeps the reason typed.
            b.click_here("details:has(#form-fucontact) summary").await;
            b.fill("#fu-l-why", "She asked to be called in the evening")
                .await;
            b.click_to("#form-fucontact button[type=submit]", "fu-contact-refused")
                .await;
            b.assert_error_beside("fu-l-at").await;
            assert_eq!(
                b.value("#fu-l-why").await,
                "She asked to be called in the evening"
            );
            b.sign_out().await;
        },
    )
    .await;
}

/// The new-case form refuses an empty case and the contact form an empty contact, the error
/// beside the field and what was typed kept; so does the "Her data" request form (issue #17),
/// and its corrected submission is confirmed in words.
#[tokio::test]
async fn empty_case_and_empty_contact_are_refused_beside_their_fields() {
    run(
        "empty_case_and_empty_contact_are_refused_beside_their_fields",
        |b, app| async move {
            let t = Catalogue::load("en");
            let store = &app.db.store;
            let (_, cw) = org_and_user(&app.db, "ngo-forms", "caseworker").await;
            store.set_locale(cw.id, "en").await.expect("set_locale");
            b.sign_in(&cw.username, None).await;

            b.open("/cases/new", "new-case").await;
            b.fill("#citizenship", "UZ").await;
            b.click_to("#create-case", "empty-case-refused").await;
            b.assert_error_beside("first_name").await;
            assert!(
                b.text("#first_name-err")
                    .await
                    .contains(t.get("err-empty-case"))
            );
            assert_eq!(b.value("#citizenship").await, "UZ");
            assert!(
                store
                    .list_cases(&ctx(&cw.actor()), 10, 0)
                    .await
                    .expect("list_cases")
                    .is_empty()
            );

            b.open("/contacts", "contacts").await;
            b.select("#channel", "NgoOutreach").await;
            b.click_here("#anonymous").await;
            b.fill("#summary", "   ").await;
            b.click_to("#contact-submit", "empty-contact-refused").await;
            b.assert_error_beside("summary").await;
            assert_eq!(b.value("#channel").await, "NgoOutreach");
            assert_eq!(b.count("#anonymous:checked").await, 1);
            assert!(
                b.text("#summary-err")
                    .await
                    .contains(t.get("err-empty-contact"))
            );

            // Her data: a request for her copy without its language.
            let case = new_case(
                store,
                &cw.actor(),
                ["Aysel", "Sintetika", "1994-05-06", "+994 50 555 98 76"],
            )
            .await;
            b.open(&format!("/cases/{}/her-data", case.id), "her-data")
                .await;
            b.select("#dsr-kind", "access").await;
            b.select("#dsr-channel", "via_caseworker").await;
            b.set_value("#dsr-date", "2026-11-30").await;
            b.click_to("#record-submit", "her-data-refused").await;
            b.assert_error_beside("dsr-language").await;
            assert_eq!(b.value("#dsr-kind").await, "access");
            assert_eq!(b.value("#dsr-channel").await, "via_caseworker");
            assert_eq!(b.value("#dsr-date").await, "2026-11-30");
            assert_eq!(b.count("#dsr-language[autofocus]").await, 1);
            b.select("#dsr-language", "ru").await;
            b.click_to("#record-submit", "her-data-recorded").await;
            assert_eq!(b.text("#her-data-done").await, t.get("done-dsr-recorded"));
            b.sign_out().await;
        },
    )
    .await;
}

/// A double click: the same form posted twice makes ONE record and both answers are the same
/// redirect (no false error); a refused form posted twice writes nothing; the contact form too.
#[tokio::test]
async fn double_submit_makes_one_record() {
    let app = crate::kit::spawn_app().await;
    let store = &app.db.store;
    let (_, cw) = org_and_user(&app.db, "ngo-twice", "caseworker").await;
    let actor = cw.actor();
    let case = new_case(
        store,
        &actor,
        ["Nigar", "Sintetika", "1994-04-04", "+994 50 555 44 33"],
    )
    .await;
    let (c, csrf) = web_session(&app, &cw.username, None).await;
    let (_, html) = page_get(&app, &c, &format!("/cases/{}", case.id)).await;
    let token = form_token(&html);
    let path = format!("/cases/{}/assistance/service", case.id);
    let today = fmt_date(time::OffsetDateTime::now_utc().date());
    let service = |cost: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("form_token", token.clone()),
            ("service", "VocationalTraining".to_string()),
            ("started_on", today.clone()),
            ("outcome", "Ongoing".to_string()),
            ("cost", cost.to_string()),
            ("details", "Sewing course".to_string()),
        ]
    };
    let post = |form: Vec<(&'static str, String)>| {
        let (app, c, path) = (&app, c.clone(), path.clone());
        async move {
            let f: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = crate::kit::submit(&c, format!("{}{path}", app.base_url), &f).await;
            let loc = r
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap_or_default().to_string());
            (r.status(), loc)
        }
    };
    // Refused twice: both 422, nothing written.
    let bad = service("abc");
    assert_eq!(post(bad.clone()).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(post(bad).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        store
            .services(&ctx(&actor), case.id)
            .await
            .unwrap()
            .is_empty()
    );
    // Accepted twice, at once (a double click): one service, the same answer.
    let good = service("15");
    let (a, b) = tokio::join!(post(good.clone()), post(good.clone()));
    assert_eq!(a.0, StatusCode::SEE_OTHER);
    assert_eq!(a, b, "the repeat answers as the first did");
    assert_eq!(
        a.1.as_deref(),
        Some(format!("/cases/{}?done=service#assistance", case.id).as_str())
    );
    // And once more later (a resend): still one.
    assert_eq!(post(good).await, a);
    assert_eq!(
        store.services(&ctx(&actor), case.id).await.unwrap().len(),
        1
    );
    // A new page has a new token: the same values make a second service.
    let (_, html) = page_get(&app, &c, &format!("/cases/{}?done=service", case.id)).await;
    assert!(html.contains("id=\"assistance-done\""));
    let fresh = form_token(&html);
    assert_ne!(fresh, token);
    let mut again = service("15");
    again[1].1 = fresh;
    assert_eq!(post(again).await.0, StatusCode::SEE_OTHER);
    assert_eq!(
        store.services(&ctx(&actor), case.id).await.unwrap().len(),
        2
    );

    // "Admit" double-clicked: one stay and no false error for the second click.
    let (_, sup) = org_and_user(&app.db, "ngo-twice", "supervisor").await;
    let facility = store
        .add_facility(
            &ctx(&sup.actor()),
            &dayaq_storage::assistance::FacilityInput {
                name: "Safe House".into(),
                beds: 3,
                max_stay_days: None,
                state_shelter: false,
            },
        )
        .await
        .unwrap();
    let shelter = format!("/cases/{}/shelter", case.id);
    let (_, html) = page_get(&app, &c, &shelter).await;
    let (token, fid) = (form_token(&html), facility.id.to_string());
    let admit = [
        ("csrf", csrf.as_str()),
        ("form_token", token.as_str()),
        ("facility_id", fid.as_str()),
        ("admitted_on", today.as_str()),
        ("dependants", "0"),
        ("daily_cost_minor", ""),
    ];
    let admit_path = format!("{shelter}/admit");
    let (first, second) = tokio::join!(
        crate::kit::submit(&c, format!("{}{admit_path}", app.base_url), &admit),
        crate::kit::submit(&c, format!("{}{admit_path}", app.base_url), &admit)
    );
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(second.status(), StatusCode::SEE_OTHER, "no false error");
    assert_eq!(first.headers()["location"], second.headers()["location"]);
    assert_eq!(store.stays(&ctx(&actor), case.id).await.unwrap().len(), 1);

    // "Save contact" double-clicked: one contact.
    let (_, html) = page_get(&app, &c, "/contacts").await;
    let token = form_token(&html);
    let contact = [
        ("csrf", csrf.as_str()),
        ("form_token", token.as_str()),
        ("channel", "Hotline"),
        ("summary", "Asked about a job offer abroad"),
    ];
    let (s1, _) = form_post(&app, &c, "/contacts", &contact).await;
    let (s2, _) = form_post(&app, &c, "/contacts", &contact).await;
    assert_eq!((s1, s2), (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER));
    assert_eq!(
        store.list_contacts(&ctx(&actor), 10).await.unwrap().len(),
        1
    );
    // An empty contact: refused, nothing saved.
    let (_, html) = page_get(&app, &c, "/contacts").await;
    let token = form_token(&html);
    let (s, html) = form_post(
        &app,
        &c,
        "/contacts",
        &[
            ("csrf", csrf.as_str()),
            ("form_token", token.as_str()),
            ("channel", "Hotline"),
            ("summary", " "),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"summary-err\""));
    assert_eq!(
        store.list_contacts(&ctx(&actor), 10).await.unwrap().len(),
        1
    );
    app.db.cleanup().await;
}

/// The example: a contact on 2026-11-30 must not mark the 2027-09-30 round done; a
/// contact inside the round's window does (storage, both engines).
#[tokio::test]
async fn followup_contact_before_a_rounds_window_cannot_complete_it() {
    use dayaq_storage::followup::{LogInput, PlanInput};
    use time::macros::datetime;
    let (db, cw) = crate::kit::db_with_user("ngo-rounds", "caseworker").await;
    let s = &db.store;
    let actor = cw.actor();
    let at = |now| dayaq_storage::cases::Ctx {
        actor: &actor,
        source: "test",
        now,
    };
    let t0 = datetime!(2026-11-30 08:00 UTC);
    let case = new_case(
        s,
        &actor,
        ["Aysu", "Sintetika", "1990-01-01", "+994 50 555 00 99"],
    )
    .await;
    let plan = PlanInput {
        assistance_end: "2026-09-30".into(),
        months: Some(vec![12]),
        max_failed: None,
    };
    s.set_plan(&at(t0), case.id, &plan).await.unwrap();
    let task = s.followup_tasks(&at(t0), case.id).await.unwrap()[0].clone();
    assert_eq!(task.due_on, "2027-09-30");
    let log = |when: time::OffsetDateTime| LogInput {
        task_id: Some(task.id),
        channel: "phone".into(),
        at: when
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap(),
        reached: true,
        justification: Some("no protocol recorded yet".into()),
    };
    match s.log_contact(&at(t0), case.id, &log(t0)).await {
        Err(dayaq_storage::StoreError::Invalid(v)) => {
            assert_eq!(v.errors[0].field, "task_id");
            assert_eq!(v.errors[0].code, "before_round_window");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let tasks = s.followup_tasks(&at(t0), case.id).await.unwrap();
    assert_ne!(tasks[0].status, "done", "the round stays open");
    assert!(
        s.followup_contacts(&at(t0), case.id)
            .await
            .unwrap()
            .is_empty()
    );
    // Inside the window (two weeks before the due date): the round is done.
    let near = datetime!(2027-09-16 08:00 UTC);
    s.log_contact(&at(near), case.id, &log(near)).await.unwrap();
    let tasks = s.followup_tasks(&at(near), case.id).await.unwrap();
    assert_eq!(tasks[0].status, "done");
    db.cleanup().await;
}

/// The remaining forms of issue #23 on the one pattern, in ONE browser session, one language
/// per form (az, ru, en in turn): referral, legal details, contact protocol, reintegration
/// assessment and hand-over on the case page, and a referral's decline on the receiver's
/// referrals page. Each is submitted with a bad value: the form comes back open, the error
/// inside the field's container, linked from the form's summary, and what was typed kept.
#[tokio::test]
async fn remaining_forms_keep_input_and_show_errors_beside_fields() {
    run(
        "remaining_forms_keep_input_and_show_errors_beside_fields",
        |b, app| async move {
            let store = &app.db.store;
            let (_, cw) = org_and_user(&app.db, "ngo-rest", "caseworker").await;
            let (_, receiver) = org_and_user(&app.db, "vt-rest", "caseworker").await;
            org_and_user(&app.db, "police-rest", "police_officer").await;
            let actor = cw.actor();
            let case = new_case(
                store,
                &actor,
                ["Sevda", "Sintetika", "1993-03-03", "+994 50 555 66 77"],
            )
            .await;
            // A pending referral to "vt-rest" (with the consent it needs) for its decline.
            let rid =
                crate::kit::pending_vt_referral(store, &ctx(&actor), case.id, "vt-rest").await;
            let case_path = format!("/cases/{}", case.id);
            let yesterday =
                fmt_date(time::OffsetDateTime::now_utc().date() - time::Duration::days(1));
            let lang = |l: &'static str| {
                let id = cw.id;
                async move { store.set_locale(id, l).await.expect("set_locale") }
            };
            b.sign_in(&cw.username, None).await;

            // 1. Referral (az): a return home with the travel date in the past.
            lang("az").await;
            b.open(&case_path, "refer-form").await;
            assert_eq!(b.html_lang().await, "az");
            b.click_here("#refer-details summary").await;
            b.select("#r-org", "police-rest").await;
            b.click_here("#svc-ReturnHome").await;
            b.fill("#r-details", "Anası Daşkənddə gözləyir").await;
            b.set_value("#t-date", &yesterday).await;
            b.fill("#t-country", "UZ").await;
            b.click_to("#refer-submit", "refer-refused").await;
            assert_eq!(b.count("#refer-details[open]").await, 1);
            b.assert_error_beside("t-date").await;
            assert_eq!(b.value("#t-date").await, yesterday);
            assert_eq!(b.value("#r-details").await, "Anası Daşkənddə gözləyir");
            assert_eq!(b.value("#t-country").await, "UZ");
            assert_eq!(b.value("#r-org").await, "police-rest");
            assert_eq!(b.count("#svc-ReturnHome:checked").await, 1);

            // 2. Legal details (ru): a case reference longer than 100 characters.
            lang("ru").await;
            b.open(&case_path, "legal-form").await;
            b.click_here("#legal-details summary").await;
            b.select("#l-coop", "Declined").await;
            b.click_here("#l-witness").await;
            let long_ref = "АТД-".repeat(30);
            b.set_value("#l-ref", &long_ref).await;
            b.click_to("#legal-submit", "legal-refused").await;
            assert_eq!(b.html_lang().await, "ru");
            b.assert_error_beside("l-ref").await;
            assert_eq!(b.value("#l-ref").await, long_ref);
            assert_eq!(b.value("#l-coop").await, "Declined");
            assert_eq!(b.count("#l-witness:checked").await, 1);

            // 3. Contact protocol (en): a language that is not a code.
            lang("en").await;
            b.open(&case_path, "protocol-form").await;
            b.click_here("#fu-protocol-details summary").await;
            b.fill("#fu-language", "R1").await;
            b.fill("#fu-cover", "A call from the clinic").await;
            b.set_value("#fu-w0-from", "10:00").await;
            b.set_value("#fu-w0-to", "12:00").await;
            b.click_to("#fu-protocol-submit", "protocol-refused").await;
            assert_eq!(b.html_lang().await, "en");
            assert_eq!(b.count("#fu-protocol-details[open]").await, 1);
            b.assert_error_beside("fu-language").await;
            assert_eq!(b.value("#fu-language").await, "R1");
            assert_eq!(b.value("#fu-cover").await, "A call from the clinic");
            assert_eq!(b.value("#fu-w0-from").await, "10:00");
            assert_eq!(b.value("#fu-w0-to").await, "12:00");

            // 4. Reintegration assessment (az): no round name; then corrected, said in words.
            lang("az").await;
            b.open(&case_path, "assessment-form").await;
            b.click_here("#fu-assess summary").await;
            b.select("#fu-a-current_situation", "good").await;
            b.fill("#fu-a-words", "Tikiş kursuna getmək istəyir").await;
            b.click_to("#fu-assess-submit", "assessment-refused").await;
            assert_eq!(b.count("#fu-assess[open]").await, 1);
            b.assert_error_beside("fu-a-round").await;
            assert_eq!(b.value("#fu-a-current_situation").await, "good");
            assert_eq!(b.value("#fu-a-words").await, "Tikiş kursuna getmək istəyir");
            b.fill("#fu-a-round", "6 ay").await;
            b.click_to("#fu-assess-submit", "assessment-recorded").await;
            assert_eq!(
                b.text("#fu-reintegration-done").await,
                Catalogue::load("az").get("done-fu-assessment")
            );

            // 5. Hand-over (ru): to an organisation her consent does not cover.
            lang("ru").await;
            b.open(&case_path, "transfer-form").await;
            b.click_here("#transfer-details summary").await;
            b.select("#t-org", "police-rest").await;
            b.click_to("#transfer-submit", "transfer-refused").await;
            assert_eq!(b.count("#transfer-details[open]").await, 1);
            b.assert_error_beside("t-org").await;
            assert_eq!(b.value("#t-org").await, "police-rest");
            assert_eq!(
                store
                    .case_facts(case.id, crate::kit::now())
                    .await
                    .unwrap()
                    .unwrap()
                    .owner_org,
                cw.org_id,
                "nothing handed over"
            );
            b.sign_out().await;

            // 6. Decline (en), on the receiver's referrals page: without a reason.
            b.sign_in(&receiver.username, None).await;
            // After signing in: the sign-in page keeps the language last used in this browser.
            store
                .set_locale(receiver.id, "en")
                .await
                .expect("set_locale");
            b.open("/referrals", "referrals").await;
            assert_eq!(b.html_lang().await, "en");
            b.click_here(&format!("#decline-{rid} summary")).await;
            b.click_to(&format!("#decline-submit-{rid}"), "decline-refused")
                .await;
            assert_eq!(b.count(&format!("#decline-{rid}[open]")).await, 1);
            b.assert_error_beside(&format!("dr-{rid}")).await;
            // Corrected: declined, said in words; the referral is no longer pending.
            b.select(&format!("#dr-{rid}"), "no_capacity").await;
            b.click_to(&format!("#decline-submit-{rid}"), "declined")
                .await;
            assert_eq!(
                b.text("#referrals-page-done").await,
                Catalogue::load("en").get("done-referral-declined")
            );
            assert_eq!(b.count(&format!("#decline-{rid}")).await, 0);
            b.sign_out().await;
        },
    )
    .await;
}

/// API parity (issue #23 §5): the API refuses an empty contact by its field and approves a
/// plan with warnings only with `confirm_warnings=true`, as the screens do; nothing changes
/// on a refusal.
#[tokio::test]
async fn api_refuses_empty_contact_and_unconfirmed_plan_warnings() {
    use crate::kit::{api_call, api_call_opt, token_and_user};
    use serde_json::json;
    let app = crate::kit::spawn_app().await;
    let (token, cw) = token_and_user(&app.db, "ngo-parity", "caseworker").await;
    let (sup_token, _) = token_and_user(&app.db, "ngo-parity", "supervisor").await;
    let field =
        |v: &serde_json::Value| v["error"]["field"].as_str().unwrap_or_default().to_string();
    for body in [
        json!({"channel": "Hotline", "anonymous": true}),
        json!({"channel": "Hotline", "anonymous": true, "summary": "   "}),
    ] {
        let (s, v) = api_call(&app, &token, "POST", "/contacts", body).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(field(&v), "summary", "{v}");
    }
    assert!(
        app.db
            .store
            .list_contacts(&ctx(&cw.actor()), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let (s, _) = api_call(
        &app,
        &token,
        "POST",
        "/contacts",
        json!({"channel": "Hotline", "summary": "Asked about a job offer abroad"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);

    // A plan without objectives (a warning), agreed by her.
    let case = new_case(
        &app.db.store,
        &cw.actor(),
        ["Ulviyya", "Sintetika", "1992-02-02", "+994 50 555 22 11"],
    )
    .await;
    let (s, plan) = api_call(
        &app,
        &token,
        "POST",
        &format!("/cases/{}/plans", case.id),
        json!({"spl_Type": "Health"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{plan}");
    let plan = plan["id"].as_str().expect("plan id").to_string();
    let base = format!("/cases/{}/plans/{plan}", case.id);
    let (s, _) = api_call_opt(&app, &token, "POST", &format!("{base}/agreement"), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    for q in ["", "?confirm_warnings=false"] {
        let (s, v) = api_call_opt(
            &app,
            &sup_token,
            "POST",
            &format!("{base}/approval{q}"),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(field(&v), "confirm_warnings", "{v}");
    }
    let (s, v) = api_call_opt(
        &app,
        &sup_token,
        "POST",
        &format!("{base}/approval?confirm_warnings=true"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let plans = app
        .db
        .store
        .plans(&ctx(&cw.actor()), case.id)
        .await
        .unwrap();
    assert!(plans[0].approved);
    app.db.cleanup().await;
}
