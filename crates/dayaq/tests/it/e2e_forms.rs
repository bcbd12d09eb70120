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
