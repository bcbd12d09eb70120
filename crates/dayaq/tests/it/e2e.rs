//! End-to-end browser tests: headless Chromium, driven over WebDriver (chromedriver), against
//! the real server on a random port.
//!
//! Every page load is checked with axe-core (WCAG 2.0/2.1 A and AA: no "serious" or
//! "critical" violation). The main screens are captured at 1280 and at 360 px wide, and at
//! 360 px the page must not scroll sideways. Screenshots go to
//! `target/e2e-artifacts/<test>/<nn>-<step>.png` (also `99-failure.png` when a test fails).
//!
//! Needs chromium, chromedriver and `e2e/node_modules/axe-core/axe.min.js`: `scripts/test`
//! installs them. `DAYAQ_SKIP_BROWSER_TESTS=1` skips these tests (with a loud banner).
//! `DAYAQ_CHROMEDRIVER` / `DAYAQ_CHROMIUM` name other binaries than the ones on `PATH`.
//!
//! Each test starts its own chromedriver on its own port with a fresh profile, so the tests
//! can run in parallel (nextest runs each test in a process of its own).

use crate::kit::browser::{Browser, Catalogue, NARROW, WAIT, run};
use crate::kit::{PASSWORD, ctx, new_case, org_and_user, sample_case, totp_code};
use serde_json::json;
use std::time::{Duration, Instant};

/// Budget for one page with everything it loads (cold cache).
const MAX_PAGE_BYTES: u64 = 150 * 1024;

// Synthetic identity (not a real person).
const FIRST: &str = "Nərgiz";
const SECOND: &str = "Testova";
const BIRTH: &str = "1999-03-14";
const PHONE: &str = "+994 50 555 01 23";
const NOTES: &str = "Synthetic e2e note: met at the Baku bus station.";

/// Asserts that no identity data of the synthetic person is anywhere in the page.
async fn assert_no_identity(b: &Browser, what: &str) {
    let src = b.source().await;
    for secret in [FIRST, SECOND, BIRTH, PHONE, NOTES] {
        assert!(
            !src.contains(secret),
            "{what}: the page shows identity data ({secret:?}) it must not show"
        );
    }
}

// ---------- shared steps ----------

/// Signs in through the login page, first switching it to `t`'s language with the
/// language buttons. Ends on whatever page sign-in leads to.
async fn sign_in(b: &Browser, t: &Catalogue, username: &str) {
    b.open("/login", "login").await;
    b.click_to(
        &format!("form.langs button[value=\"{}\"]", t.lang),
        &format!("login-{}", t.lang),
    )
    .await;
    assert_eq!(b.path().await, "/login");
    assert_eq!(b.html_lang().await, t.lang, "language of the login page");
    assert_eq!(b.text("h1").await, t.get("login-title"));
    assert_eq!(b.text("#login-submit").await, t.get("login-submit"));
    assert_eq!(
        b.find(&format!("form.langs button[value=\"{}\"]", t.lang))
            .await
            .attr("aria-pressed")
            .await
            .ok()
            .flatten()
            .as_deref(),
        Some("true")
    );
    b.fill("#username", username).await;
    b.fill("#password", PASSWORD).await;
    b.click_to("#login-submit", "signed-in").await;
}

async fn sign_out(b: &Browser, t: &Catalogue) {
    assert_eq!(b.text("#sign-out").await, t.get("nav-sign-out"));
    b.click_to("#sign-out", "signed-out").await;
    assert_eq!(
        b.path().await,
        "/login",
        "signing out leads to the login page"
    );
    assert_eq!(b.text("#login-submit").await, t.get("login-submit"));
    assert_eq!(b.count("#sign-out").await, 0);
}

// ---------- flows ----------

/// A caseworker signs in in `lang`, records a case, finds it again by exact name and birth
/// date, opens it (identity hidden), reveals the identity, and signs out.
async fn caseworker_flow(test: &'static str, lang: &'static str) {
    run(test, move |b, app| async move {
        let t = Catalogue::load(lang);
        let store = &app.db.store;
        let (_org, user) = org_and_user(&app.db, "org-a", "caseworker").await;
        store.set_locale(user.id, lang).await.expect("set_locale");
        // Another person with the same family name and birth date in the same organisation,
        // so that "exactly one result" means something.
        let actor = user.actor();
        new_case(store, &actor, ["Leyla", SECOND, BIRTH, "+994 50 555 09 87"]).await;

        sign_in(&b, &t, &user.username).await;
        assert_eq!(b.path().await, "/");
        assert_eq!(b.html_lang().await, lang);
        assert_eq!(b.text("h1").await, t.get("home-title"));
        b.narrow("home").await;

        // Record a case.
        b.open("/cases/new", "new-case").await;
        assert_eq!(b.text("#create-case").await, t.get("new-submit"));
        b.narrow("new-case").await;
        b.fill("#first_name", FIRST).await;
        b.fill("#second_name", SECOND).await;
        b.set_value("#birthdate", BIRTH).await;
        b.fill("#phone", PHONE).await;
        b.fill("#notes", NOTES).await;
        b.select("#gender", "Feminine").await;
        b.fill("#citizenship", "AZ").await;
        b.fill("#age", "19").await;
        b.select("#exploitation", "SexualExploitation").await;
        b.shot("new-case-filled").await;
        b.click_to("#create-case", "case-created").await;
        let path = b.path().await;
        let id = path
            .strip_prefix("/cases/")
            .and_then(|s| uuid::Uuid::parse_str(s).ok())
            .unwrap_or_else(|| panic!("after creating a case: {path}, not /cases/<uuid>"));
        let number = b.text("#case-number").await;
        assert!(number.starts_with("DQ-"), "case number {number}");
        assert_no_identity(&b, "the new case's page").await;

        // Find it again.
        b.open("/cases", "case-list").await;
        assert_eq!(b.text("h1").await, t.get("cases-title"));
        assert_eq!(b.count("#case-list tbody tr").await, 2);
        assert_no_identity(&b, "the case list").await;
        b.narrow("case-list").await;
        b.fill("#first_name", FIRST).await;
        b.fill("#second_name", SECOND).await;
        b.set_value("#birthdate", BIRTH).await;
        assert_eq!(b.text("#search-submit").await, t.get("search-submit"));
        b.click_to("#search-submit", "search-results").await;
        assert_eq!(
            b.count("#case-list tbody tr").await,
            1,
            "the search finds exactly the one case"
        );
        assert_eq!(b.text("#case-list tbody tr a").await, number);
        assert_eq!(b.count("#elsewhere").await, 0);
        assert_no_identity(&b, "the search results").await;
        b.narrow("search-results").await;

        // Open it: the identity stays hidden until asked for.
        b.click_to("#case-list tbody tr a", "case-page").await;
        assert_eq!(b.path().await, format!("/cases/{id}"));
        assert_eq!(b.text("#case-number").await, number);
        assert_no_identity(&b, "the case page").await;
        assert_eq!(b.text("#reveal-identity").await, t.get("case-reveal"));
        b.narrow("case-page").await;

        // Reveal (htmx swaps the block in place: the page is not reloaded).
        b.js("window.__e2eSamePage = true;", vec![]).await;
        b.find("#reveal-identity")
            .await
            .click()
            .await
            .expect("click reveal");
        let deadline = Instant::now() + WAIT;
        while !b.text("#identity").await.contains(FIRST) {
            assert!(
                Instant::now() < deadline,
                "the identity was not revealed: {}",
                b.text("#identity").await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            b.js("return window.__e2eSamePage === true;", vec![]).await,
            json!(true),
            "revealing reloaded the page instead of swapping the block (htmx under CSP)"
        );
        let shown = b.text("#identity").await;
        for part in [SECOND, PHONE, NOTES] {
            assert!(
                shown.contains(part),
                "revealed identity lacks {part:?}: {shown}"
            );
        }
        assert_eq!(b.count("#reveal-identity").await, 0);
        b.check("identity-revealed").await;
        b.shot("identity-revealed").await;
        b.narrow("identity-revealed").await;

        sign_out(&b, &t).await;
        // The case is out of reach once signed out.
        b.open(&format!("/cases/{id}"), "case-after-sign-out").await;
        assert_eq!(b.path().await, "/login");
    })
    .await;
}

#[tokio::test]
async fn caseworker_flow_en() {
    caseworker_flow("caseworker_flow_en", "en").await;
}

#[tokio::test]
async fn caseworker_flow_az() {
    caseworker_flow("caseworker_flow_az", "az").await;
}

#[tokio::test]
async fn caseworker_flow_ru() {
    caseworker_flow("caseworker_flow_ru", "ru").await;
}

#[tokio::test]
async fn supervisor_signs_in_with_totp() {
    run("supervisor_signs_in_with_totp", |b, app| async move {
        let t = Catalogue::load("en");
        let store = &app.db.store;

        // Enrolled: password, then the code from the authenticator.
        let (_, sup) = org_and_user(&app.db, "org-a", "supervisor").await;
        store.set_locale(sup.id, "en").await.expect("set_locale");
        let secret: [u8; 20] = *b"dayaq-e2e-totp-key-1";
        store
            .totp_set_secret(&sup, &secret)
            .await
            .expect("totp_set_secret");
        sign_in(&b, &t, &sup.username).await;
        assert_eq!(b.path().await, "/login/totp");
        assert_eq!(b.text("h1").await, t.get("totp-title"));
        assert_eq!(b.count("#sign-out").await, 0, "not signed in yet");
        b.narrow("totp").await;
        let code = totp_code(&secret, &sup.username);
        b.fill("#code", &code).await;
        b.click_to("#totp-submit", "supervisor-home").await;
        assert_eq!(b.path().await, "/");
        assert_eq!(b.text("h1").await, t.get("home-title"));
        assert!(b.text(".who").await.contains(&sup.username));
        b.narrow("supervisor-home").await;
        sign_out(&b, &t).await;

        // Not enrolled yet: the enrolment page shows the secret; activate it with a code.
        let (_, newbie) = org_and_user(&app.db, "org-c", "supervisor").await;
        store.set_locale(newbie.id, "en").await.expect("set_locale");
        sign_in(&b, &t, &newbie.username).await;
        assert_eq!(b.path().await, "/login/enrol");
        assert_eq!(b.text("h1").await, t.get("enrol-title"));
        b.narrow("enrol").await;
        let shown = b.text("#totp-secret").await;
        let secret = totp_rs::Secret::try_from_base32(shown.replace(' ', ""))
            .unwrap_or_else(|e| panic!("#totp-secret {shown:?} is not base32: {e:?}"));
        b.fill("#code", &totp_code(secret.as_bytes(), &newbie.username))
            .await;
        b.click_to("#enrol-submit", "enrolled-home").await;
        assert_eq!(b.path().await, "/");
        assert_eq!(b.text("h1").await, t.get("home-title"));
        assert!(
            store
                .user_by_id(newbie.id)
                .await
                .expect("user_by_id")
                .totp_enabled,
            "the second factor is active after enrolment"
        );
        sign_out(&b, &t).await;
    })
    .await;
}

#[tokio::test]
async fn other_organisation_cannot_see_the_case() {
    run(
        "other_organisation_cannot_see_the_case",
        |b, app| async move {
            let t = Catalogue::load("en");
            let store = &app.db.store;
            let (org_a, a_user) = org_and_user(&app.db, "org-a", "caseworker").await;
            let a_actor = a_user.actor();
            let case = new_case(store, &a_actor, [FIRST, SECOND, BIRTH, PHONE]).await;
            let (_, b_user) = org_and_user(&app.db, "org-b", "caseworker").await;
            store.set_locale(b_user.id, "en").await.expect("set_locale");
            let foreign = [case.case_number.clone(), case.id.to_string()];

            sign_in(&b, &t, &b_user.username).await;
            assert_eq!(b.path().await, "/");
            assert_no_identity(&b, "org B's home page").await;

            b.open("/cases", "case-list").await;
            assert_eq!(b.count("#case-list tbody tr").await, 0);
            assert!(b.text("main").await.contains(t.get("cases-none")));
            let src = b.source().await;
            for f in &foreign {
                assert!(!src.contains(f.as_str()), "org B's case list shows {f}");
            }

            b.open(&format!("/cases/{}", case.id), "foreign-case").await;
            assert_eq!(b.text("h1").await, t.get("error-not-found"));
            assert_no_identity(&b, "the foreign case's page").await;
            assert!(!b.source().await.contains(&case.case_number));
            b.narrow("foreign-case").await;

            b.open("/cases", "search-form").await;
            b.fill("#first_name", FIRST).await;
            b.fill("#second_name", SECOND).await;
            b.set_value("#birthdate", BIRTH).await;
            // A second identifier: name + birth date alone never names another organisation.
            b.fill("#phone", PHONE).await;
            b.click_to("#search-submit", "search-elsewhere").await;
            assert_eq!(b.count("#case-list tbody tr").await, 0, "no result");
            let banner = b.text("#elsewhere").await;
            assert!(
                banner.contains(t.get("cases-elsewhere")),
                "banner text: {banner}"
            );
            assert!(
                banner.contains(&org_a.name),
                "the banner names org A: {banner}"
            );
            assert_no_identity(&b, "the possible-match banner").await;
            let src = b.source().await;
            for f in &foreign {
                assert!(!src.contains(f.as_str()), "the search result shows {f}");
            }
            b.narrow("search-elsewhere").await;
            sign_out(&b, &t).await;
        },
    )
    .await;
}

#[tokio::test]
async fn pages_weigh_at_most_150_kb() {
    run("pages_weigh_at_most_150_kb", |b, app| async move {
        let t = Catalogue::load("en");
        let store = &app.db.store;
        let (_, user) = org_and_user(&app.db, "org-a", "caseworker").await;
        store.set_locale(user.id, "en").await.expect("set_locale");
        let actor = user.actor();
        let case = new_case(store, &actor, [FIRST, SECOND, BIRTH, PHONE]).await;
        sign_in(&b, &t, &user.username).await;
        let case_path = format!("/cases/{}", case.id);
        for (path, step) in [
            ("/", "home"),
            ("/cases", "case-list"),
            (case_path.as_str(), "case-page"),
        ] {
            b.open(path, step).await;
            let (total, items) = b.page_weight().await;
            let list = items
                .iter()
                .map(|(n, bytes)| format!("  {bytes:>8} B  {n}"))
                .collect::<Vec<_>>()
                .join("\n");
            eprintln!("page weight of {path}: {total} B\n{list}");
            assert!(items.len() >= 2, "{path}: resources not measured:\n{list}");
            assert!(
                total <= MAX_PAGE_BYTES,
                "{path} weighs {total} B, over the {MAX_PAGE_BYTES} B budget:\n{list}"
            );
        }
    })
    .await;
}

/// The checks themselves are not vacuous: axe-core reports planted violations, the 360-px
/// check sees a planted overflow, and the page's CSP blocks inline scripts (while the
/// scripts WebDriver injects, such as axe-core, still run).
#[tokio::test]
async fn browser_checks_catch_planted_problems() {
    run(
        "browser_checks_catch_planted_problems",
        |b, _app| async move {
            b.open("/login", "login").await;

            b.js(
                "const s = document.createElement('script'); \
             s.textContent = 'window.__e2eInlineRan = true;'; \
             document.body.appendChild(s);",
                vec![],
            )
            .await;
            tokio::time::sleep(Duration::from_millis(200)).await;
            assert_eq!(
                b.js("return window.__e2eInlineRan === true;", vec![]).await,
                json!(false),
                "the Content-Security-Policy lets an inline script run"
            );

            // An input without a label and faint text (styled through the CSSOM, which the CSP
            // allows, unlike style attributes).
            b.js(
                "const main = document.querySelector('main'); \
             const i = document.createElement('input'); i.id = 'planted-input'; \
             main.appendChild(i); \
             const p = document.createElement('p'); p.textContent = 'Planted faint text'; \
             p.style.color = '#c8c8c8'; p.style.background = '#ffffff'; \
             main.appendChild(p);",
                vec![],
            )
            .await;
            let (found, _) = b.axe().await;
            let ids: Vec<&str> = found.iter().filter_map(|v| v["id"].as_str()).collect();
            for rule in ["label", "color-contrast"] {
                assert!(
                    ids.contains(&rule),
                    "axe did not report the planted {rule} violation: {ids:?}"
                );
            }
            b.shot("planted-violations").await;

            b.resize(NARROW).await;
            b.js(
                "const d = document.createElement('div'); d.id = 'planted-wide'; \
             d.style.width = '600px'; d.textContent = 'wide'; \
             document.querySelector('main').appendChild(d);",
                vec![],
            )
            .await;
            let o = b.overflow().await;
            assert!(
                o["scroll"].as_u64() > o["viewport"].as_u64(),
                "the overflow check missed a 600-px element at 360 px: {o}"
            );
            assert!(
                o["wide"].to_string().contains("planted-wide"),
                "the overflow check did not name the planted element: {o}"
            );
            b.shot("planted-overflow").await;
        },
    )
    .await;
}

// ---------- identification and referral flows (issues 4 and 5) ----------

/// A hotline operator logs a call, opens a case for it, screens it, records the survivor's
/// consent to share with the police and hands the case over; a police officer records the
/// formal decision "Actual", which the case then shows with its history.
#[tokio::test]
async fn hotline_contact_to_police_identification() {
    run(
        "hotline_contact_to_police_identification",
        |b, app| async move {
            let t = Catalogue::load("en");
            let store = &app.db.store;
            let now = time::OffsetDateTime::now_utc();
            store
                .add_org(
                    "hotline",
                    "National Hotline 152",
                    "CentralGovernmentOrganisation",
                    "Baku",
                    now,
                )
                .await
                .expect("hotline org");
            store
                .add_org(
                    "police-atd",
                    "Anti-Trafficking Department",
                    "LawEnforcement",
                    "Baku",
                    now,
                )
                .await
                .expect("police org");
            let (_, hot) = org_and_user(&app.db, "hotline", "hotline_operator").await;
            let (_, pol) = org_and_user(&app.db, "police-atd", "police_officer").await;

            sign_in(&b, &t, &hot.username).await;
            b.open("/contacts", "contacts").await;
            b.select("#channel", "Hotline").await;
            b.click_here("#anonymous").await;
            b.fill("#summary", "Caller: passport taken by the employer")
                .await;
            b.click_to("#contact-submit", "contact-saved").await;
            assert!(b.path().await.starts_with("/contacts/"));
            b.select("#gender", "Feminine").await;
            b.click_to("#contact-to-case", "case-opened").await;
            let case_path = b.path().await;
            assert!(case_path.starts_with("/cases/"), "{case_path}");

            // Screening: the UN Protocol elements and a method of control.
            b.click_here("#screening details summary").await;
            for id in [
                "#s-act",
                "#s-means",
                "#s-purpose",
                "#moc-WithholdsDocuments",
            ] {
                b.click_here(id).await;
            }
            b.click_to("#screening-submit", "screened").await;
            assert_eq!(
                b.text("#screening-result strong").await,
                t.get("screen-possible")
            );

            // Consent to share with law enforcement, then the hand-over.
            b.click_here("#consent details:nth-of-type(1) summary")
                .await;
            b.select("#c-purpose", "SharingWithOrganisationType").await;
            b.select("#c-type", "LawEnforcement").await;
            b.click_to("#consent-submit", "consent-recorded").await;
            assert_eq!(b.count("#consent-list tbody tr").await, 1);
            b.click_here("#consent details:nth-of-type(2) summary")
                .await;
            b.select("#t-org", "police-atd").await;
            b.click_to("#transfer-submit", "handed-over").await;
            assert_eq!(b.path().await, "/cases");
            sign_out(&b, &t).await;

            // The police decide.
            sign_in(&b, &t, &pol.username).await;
            b.open(&case_path, "police-case").await;
            assert_eq!(b.count("#decision-history").await, 0);
            b.select("#d-status", "ActualVictimOfTrafficking").await;
            b.select("#d-org", "Police").await;
            let today = time::OffsetDateTime::now_utc().date();
            b.set_value("#d-date", &format!("{today}")).await;
            b.fill("#d-ref", "ATD-2026-117").await;
            b.click_to("#decision-submit", "decided").await;
            assert_eq!(
                b.text("#ident-status").await,
                t.get("v-vic-traffickingstatus-actualvictimoftrafficking")
            );
            assert_eq!(b.count("#decision-history tbody tr").await, 1);
            assert!(
                b.text("#identification")
                    .await
                    .contains(t.get("right-allowance"))
            );
            sign_out(&b, &t).await;
        },
    )
    .await;
}

/// An NGO caseworker refers a survivor to the Assistance Center for vocational training; the
/// Center accepts and sees only what that service needs; after completion it sees nothing.
#[tokio::test]
async fn referral_for_vocational_training_is_need_to_know() {
    run(
        "referral_for_vocational_training_is_need_to_know",
        |b, app| async move {
            let t = Catalogue::load("en");
            let store = &app.db.store;
            let now = time::OffsetDateTime::now_utc();
            let (_, ngo) = org_and_user(&app.db, "ngo-a", "caseworker").await;
            store
                .add_org(
                    "assistance-center",
                    "Assistance Center",
                    "CentralGovernmentOrganisation",
                    "Baku",
                    now,
                )
                .await
                .expect("center org");
            let (_, center) = org_and_user(&app.db, "assistance-center", "caseworker").await;
            let (_, admin) = org_and_user(&app.db, "system", "system_admin").await;
            let admin_actor = admin.actor();
            let offer = dayaq_storage::referrals::ServiceOffer {
                service: "VocationalTraining".into(),
                region: "Baku".into(),
                ..Default::default()
            };
            store
                .set_service(&ctx(&admin_actor), "assistance-center", &offer)
                .await
                .expect("directory entry");
            let actor = ngo.actor();
            let case = new_case(store, &actor, [FIRST, SECOND, BIRTH, PHONE]).await;
            let consent = dayaq_storage::identification::ConsentInput {
                purpose: "SharingWithOrganisation".into(),
                given: true,
                recipient_org: Some("assistance-center".into()),
                recipient_org_type: None,
                given_by: "Survivor".into(),
                language: "az".into(),
            };
            store
                .add_consent(&ctx(&actor), case.id, &consent)
                .await
                .expect("consent");
            let case_path = format!("/cases/{}", case.id);

            sign_in(&b, &t, &ngo.username).await;
            b.open(
                "/directory?service=VocationalTraining&region=Baku",
                "directory",
            )
            .await;
            assert!(b.text("#directory").await.contains("Assistance Center"));
            b.open(&case_path, "ngo-case").await;
            b.click_here("#referrals details summary").await;
            b.select("#r-org", "assistance-center").await;
            b.click_here("#svc-VocationalTraining").await;
            b.select("#r-reason", "AdditionalServicesRequired").await;
            b.click_to("#refer-submit", "referred").await;
            assert_eq!(b.count("#case-referrals tbody tr").await, 1);
            sign_out(&b, &t).await;

            sign_in(&b, &t, &center.username).await;
            // Before accepting, the case is out of reach.
            b.open(&case_path, "center-before-accept").await;
            assert_eq!(b.text("h1").await, t.get("error-not-found"));
            b.open("/referrals", "center-inbox").await;
            b.click_to("#inbox button[id^=\"accept-\"]", "accepted")
                .await;
            assert_eq!(b.path().await, case_path);
            b.click_here("#reveal-identity").await;
            let deadline = Instant::now() + WAIT;
            while !b.text("#identity").await.contains(FIRST) {
                assert!(Instant::now() < deadline, "identity not revealed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let shown = b.text("#identity").await;
            assert!(
                !shown.contains("555"),
                "no contact details for vocational training: {shown}"
            );
            assert!(!shown.contains("Met "), "no case notes: {shown}");
            b.check("center-identity").await;
            b.shot("center-identity").await;
            b.open("/referrals", "center-inbox-accepted").await;
            b.click_to("#inbox button[id^=\"complete-\"]", "completed")
                .await;
            b.open(&case_path, "center-after-complete").await;
            assert_eq!(b.text("h1").await, t.get("error-not-found"));
            sign_out(&b, &t).await;
        },
    )
    .await;
}

/// The national coordinator opens the annual national report from the home page (in
/// Russian), sees accessible tables without any identity data, switches to the public variant
/// with the form; both views pass axe and fit a 360 px screen.
#[tokio::test]
async fn coordinator_reads_the_national_report() {
    run(
        "coordinator_reads_the_national_report",
        |b, app| async move {
            let t = Catalogue::load("ru");
            let store = &app.db.store;
            let (_, cw) = org_and_user(&app.db, "org-a", "caseworker").await;
            let actor = cw.actor();
            store
                .create_case(&ctx(&actor), &sample_case(FIRST, SECOND, BIRTH, PHONE))
                .await
                .expect("create_case");
            let (_, coord) = org_and_user(&app.db, "org-nrm", "national_coordinator").await;
            store.set_locale(coord.id, "ru").await.expect("set_locale");
            sign_in(&b, &t, &coord.username).await;
            assert_eq!(b.path().await, "/");
            assert_eq!(
                b.text("nav a[href=\"/statistics/national\"]").await,
                t.get("nav-national-report")
            );
            b.click_to("#home-national-report", "national-report").await;
            assert_eq!(b.path().await, "/statistics/national");
            assert!(b.text("h1").await.starts_with(t.get("stat-title")));
            assert_eq!(
                b.count("nav a[href=\"/statistics/national\"][aria-current=\"page\"]")
                    .await,
                1
            );
            // Eleven tables and the trend; compensation is "not recorded" with its reason.
            assert_eq!(b.count("table > caption").await, 12);
            assert_eq!(
                b.text("#t-headline caption").await,
                t.get("stat-t-headline")
            );
            assert!(b.count("#t-by_sex_age th[scope=\"col\"]").await >= 8);
            assert!(b.count("#t-by_sex_age th[scope=\"row\"]").await >= 7);
            assert!(
                b.text("#nr-compensation")
                    .await
                    .contains(t.get("stat-reason-no-award-recorded"))
            );
            assert_eq!(
                b.text("#stat-variant-note").await,
                t.get("stat-internal-note")
            );
            assert_no_identity(&b, "national report").await;
            b.narrow("national-report").await;

            b.select("#st-variant", "public").await;
            b.click_to("#st-submit", "national-report-public").await;
            assert!(b.text("#stat-variant-note").await.contains("x = "));
            let csv = b
                .find("#stat-csv")
                .await
                .attr("href")
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            assert!(csv.contains("variant=public&k=11"), "{csv}");
            b.narrow("national-report-public").await;
        },
    )
    .await;
}

/// The national report's charts (issue #15 part 5): the trend and the bars by sex × age and by
/// form beside their tables, each named by its title and description; axe-clean and no
/// sideways scrolling at 360 px.
#[tokio::test]
async fn coordinator_sees_the_national_report_charts() {
    run(
        "coordinator_sees_the_national_report_charts",
        |b, app| async move {
            let t = Catalogue::load("az");
            let store = &app.db.store;
            let (_, cw) = org_and_user(&app.db, "org-a", "caseworker").await;
            let actor = cw.actor();
            store
                .create_case(&ctx(&actor), &sample_case(FIRST, SECOND, BIRTH, PHONE))
                .await
                .expect("create_case");
            let (_, coord) = org_and_user(&app.db, "org-nrm", "national_coordinator").await;
            store.set_locale(coord.id, "az").await.expect("set_locale");
            sign_in(&b, &t, &coord.username).await;
            b.open("/statistics/national", "national-report-charts")
                .await;
            for id in ["trend", "by_sex_age", "by_form"] {
                assert_eq!(
                    b.count(&format!(
                        "#s-{id} figure > svg#chart-{id}[role=\"img\"][aria-labelledby=\"chart-{id}-title chart-{id}-desc\"]"
                    ))
                    .await,
                    1,
                    "chart {id}"
                );
                assert_eq!(b.count(&format!("#s-{id} table#t-{id}")).await, 1);
            }
            let title = b
                .js(
                    "return document.getElementById('chart-by_form-title').textContent;",
                    vec![],
                )
                .await;
            assert_eq!(title.as_str(), Some(t.get("stat-chart-by-form")));
            let pdf = b
                .find("#stat-pdf")
                .await
                .attr("href")
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            assert!(pdf.ends_with("format=pdf"), "{pdf}");
            assert_no_identity(&b, "national report charts").await;
            b.narrow("national-report-charts").await;
        },
    )
    .await;
}
