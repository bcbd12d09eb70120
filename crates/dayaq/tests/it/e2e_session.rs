//! Issue #23 §2 and §4 in the browser (headless Chromium, every page axe-checked, screenshots
//! in `target/e2e-artifacts/<test>/`; skipped loudly like `e2e.rs` without the tools):
//! a form sent after its session was revoked from another client shows the human page, and
//! signing in again comes back to the form with what was typed (kept by `static/drafts.js` in
//! the tab, never on the server); a follow-up contact entered at 11:00 is shown at 11:00.

use crate::kit::browser::{Catalogue, run};
use crate::kit::{PASSWORD, new_case, now, org_and_user};

#[tokio::test]
async fn e2e_session_stale_form_comes_back_with_its_input() {
    run("e2e_session_stale_form", |b, app| async move {
        let t = Catalogue::load("az");
        let store = &app.db.store;
        let (_, user) = org_and_user(&app.db, "e2e-stale", "hotline_operator").await;
        b.sign_in(&user.username, None).await;
        b.open("/contacts", "contacts-form").await;
        let typed = "Zəng edən sığınacaq haqqında soruşur";
        b.fill("#summary", typed).await;
        b.click_here("#anonymous").await;

        // Another client ends every session of the user (as "sign out everywhere" does).
        for s in store
            .list_sessions(&user, Default::default(), now())
            .await
            .expect("sessions")
        {
            store
                .revoke_session(&user, &s.public_id, "127.0.0.1", now())
                .await
                .expect("revoke");
        }

        // Sending the form: the human page, not JSON; nothing was written.
        b.click_to("#contact-submit", "session-ended").await;
        assert_eq!(b.text("h1").await, t.get("error-session-ended"));
        assert_eq!(b.count("#sign-in-again").await, 1);
        assert!(!b.source().await.contains("\"error\""));

        // Sign in again: the sign-in page knows where to come back to (a path only).
        b.click_to("#sign-in-again", "sign-in-again").await;
        assert_eq!(b.path().await, "/login");
        let next = b.find("#login-next").await;
        assert_eq!(
            next.prop("value").await.ok().flatten().as_deref(),
            Some("/contacts")
        );
        b.fill("#username", &user.username).await;
        b.fill("#password", PASSWORD).await;
        b.click_to("#login-submit", "back-to-the-form").await;
        assert_eq!(b.path().await, "/contacts");
        let summary = b.find("#summary").await;
        assert_eq!(
            summary.prop("value").await.ok().flatten().as_deref(),
            Some(typed),
            "what was typed is back"
        );
        let checked = b
            .js(
                "return document.getElementById('anonymous').checked;",
                vec![],
            )
            .await;
        assert_eq!(
            checked,
            serde_json::json!(true),
            "the box ticked is ticked again"
        );

        // Sent now, it is saved; the form is then empty again (the draft is gone).
        b.click_to("#contact-submit", "saved").await;
        b.open("/contacts", "contacts-after").await;
        let summary = b.find("#summary").await;
        assert_eq!(
            summary.prop("value").await.ok().flatten().as_deref(),
            Some("")
        );
        assert_eq!(b.count("#contact-list tbody tr").await, 1);
    })
    .await;
}

#[tokio::test]
async fn e2e_session_contact_entered_at_1100_is_shown_at_1100() {
    run("e2e_session_contact_time", |b, app| async move {
        let store = &app.db.store;
        let (_, cw) = org_and_user(&app.db, "e2e-tz", "caseworker").await;
        let case = new_case(
            store,
            &cw.actor(),
            ["Leyla", "Saatova", "1995-03-04", "+994 50 555 11 22"],
        )
        .await;
        b.sign_in(&cw.username, None).await;
        let case_path = format!("/cases/{}", case.id);
        b.open(&case_path, "case").await;
        b.click_here("#followup details:has(#fu-l-at) summary")
            .await;
        b.set_value("#fu-l-at", "2026-12-01T11:00").await;
        b.fill("#fu-l-why", "Planlaşdırılmamış zəng").await;
        b.click_to(
            "form[action$='/followup/contact'] button[type=submit]",
            "contact-logged",
        )
        .await;
        let table = b.text("#fu-contacts").await;
        assert!(table.contains("01.12.2026 11:00"), "{table}");
    })
    .await;
}
