//! Assistance screens end to end (issue 6).
//!
//! In the browser (headless Chromium over chromedriver, every page checked with axe-core,
//! screenshots in `target/e2e-artifacts/<test>/`): needs assessment → plan with short- and
//! long-term goals → supervisor approval → services recorded against plan actions → the plan
//! shows the gaps that remain; and the shelter and funding screens pass the accessibility
//! check. Like `e2e.rs`, these need chromium, chromedriver and axe-core (`scripts/test`
//! installs them) and skip loudly with `DAYAQ_SKIP_BROWSER_TESTS=1`.
//!
//! Over plain HTTP (no browser, so they always run, on SQLite and PostgreSQL): the shelter,
//! funding and payment-status forms write through the storage methods, refuse bad input with
//! the error next to the field and write nothing, need the CSRF token, and show only what the
//! role may see.

use crate::kit::browser::{Catalogue, run};
use crate::kit::{
    csrf_field, ctx, decide_identification, form_post, new_case, org_and_user, page_get, spawn_app,
    submit, web_session,
};
use dayaq_domain::assistance::fmt_date;
use reqwest::StatusCode;

// ---------- the browser flow ----------

const SUPERVISOR_SECRET: &[u8; 20] = b"dayaq-e2e-asst-key-1";

/// Assessment → plan with short- and long-term goals → supervisor approval → services
/// recorded against actions → the plan shows the gaps that remain. The supervisor also
/// opens the shelter and funding screens (axe-checked) and uses their forms.
#[tokio::test]
async fn assessment_plan_approval_services_gaps() {
    run(
        "assessment_plan_approval_services_gaps",
        |b, app| async move {
            let t = Catalogue::load("en");
            let store = &app.db.store;
            let (_, cw) = org_and_user(&app.db, "ngo-asst", "caseworker").await;
            let (_, sup) = org_and_user(&app.db, "ngo-asst", "supervisor").await;
            for u in [&cw, &sup] {
                store.set_locale(u.id, "en").await.expect("set_locale");
            }
            store
                .totp_set_secret(&sup, SUPERVISOR_SECRET)
                .await
                .expect("totp_set_secret");
            let cw_actor = cw.actor();
            let case = new_case(
                store,
                &cw_actor,
                ["Aynur", "Sintetika", "1998-05-06", "+994 50 555 77 88"],
            )
            .await;
            let case_path = format!("/cases/{}", case.id);
            let today = time::OffsetDateTime::now_utc().date();

            // 1. The caseworker assesses the needs.
            b.sign_in(&cw.username, None).await;
            b.open(&case_path, "case").await;
            assert!(b.count("#asst-no-assessment").await == 1);
            b.click_here("#asst-assess-form summary").await;
            b.select("#sev-Housing", "High").await;
            b.select("#sev-EmploymentIncome", "Medium").await;
            b.select("#sev-MentalHealth", "Medium").await;
            b.fill("#asst-prio", "A job, and a flat of my own").await;
            b.click_to("#asst-assess-submit", "assessed").await;
            assert_eq!(b.count("#asst-needs tbody tr").await, 3);
            assert_eq!(
                b.text("#asst-priorities").await,
                "A job, and a flat of my own"
            );

            // 2. The plan, with a short-term and two long-term goals and two actions.
            b.select("#p-type", "SexualExploitationRehabilitation")
                .await;
            b.fill("#p-obj", "Recovery, then independent living").await;
            b.click_to("#asst-plan-submit", "plan-created").await;
            assert_eq!(b.count("#asst-plan").await, 1);
            for (term, domain, text) in [
                ("ShortTerm", "MentalHealth", "Weekly counselling"),
                ("LongTerm", "EmploymentIncome", "A stable job"),
                ("LongTerm", "Housing", "A flat of her own"),
            ] {
                b.click_here("#asst-goal-form summary").await;
                b.select("#g-term", term).await;
                b.select("#g-domain", domain).await;
                b.fill("#g-desc", text).await;
                b.click_to("#asst-goal-submit", &format!("goal-{domain}"))
                    .await;
            }
            assert_eq!(b.count("#asst-goals li").await, 3);
            let goals = store
                .plans(&ctx(&cw_actor), case.id)
                .await
                .expect("plans")
                .remove(0)
                .goals;
            let goal = |text: &str| {
                goals
                    .iter()
                    .find(|g| g.description == text)
                    .map(|g| g.id.to_string())
                    .expect("goal")
            };
            let due = fmt_date(today + time::Duration::days(14));
            for (g, domain, service) in [
                (
                    goal("Weekly counselling"),
                    "MentalHealth",
                    "PsychologicalCounselling",
                ),
                (
                    goal("A stable job"),
                    "EmploymentIncome",
                    "VocationalTraining",
                ),
            ] {
                b.click_here("#asst-action-form summary").await;
                b.select("#a-goal", &g).await;
                b.select("#a-domain", domain).await;
                b.select("#a-service", service).await;
                b.set_value("#a-due", &due).await;
                b.click_to("#asst-action-submit", &format!("action-{service}"))
                    .await;
            }
            assert_eq!(b.count("#asst-actions tbody tr").await, 2);
            // Housing (high) has no action and the flat has nothing planned: two gaps.
            let gaps = b.text("#asst-gaps").await;
            assert!(gaps.contains(t.get("asst-gap-need")), "{gaps}");
            assert!(gaps.contains(t.get("asst-d-housing")), "{gaps}");
            assert!(gaps.contains("A flat of her own"), "{gaps}");
            assert!(!gaps.contains(t.get("asst-d-mental-health")), "{gaps}");
            b.click_to("#asst-agree", "agreed").await;
            assert_eq!(b.text("#asst-agreed").await, t.get("asst-agreed"));
            assert_eq!(b.text("#asst-approved").await, t.get("asst-not-approved"));
            assert_eq!(
                b.count("#asst-approve").await,
                0,
                "caseworkers do not approve"
            );
            b.sign_out().await;

            // 3. The supervisor approves; then the shelter and funding screens.
            b.sign_in(&sup.username, Some(SUPERVISOR_SECRET)).await;
            assert!(b.count("#home-approvals a").await >= 1);
            b.open(&case_path, "supervisor-case").await;
            b.click_to("#asst-approve", "approved").await;
            assert_eq!(b.text("#asst-approved").await, t.get("asst-approved"));

            b.open("/shelters", "shelters").await;
            assert_eq!(b.text("h1").await, t.get("shelter-title"));
            b.fill("#f-name", "Safe House Baku").await;
            b.fill("#f-beds", "many").await;
            b.click_to("#facility-submit", "facility-refused").await;
            assert_eq!(
                b.count("#f-beds-err").await,
                1,
                "the error is next to the field"
            );
            assert_eq!(
                b.find("#f-beds")
                    .await
                    .attr("aria-invalid")
                    .await
                    .ok()
                    .flatten()
                    .as_deref(),
                Some("true")
            );
            b.fill("#f-beds", "6").await;
            b.click_to("#facility-submit", "facility-added").await;
            assert_eq!(b.count("#facilities tbody tr").await, 1);
            assert_eq!(b.text("#shelter-total-available").await, "6");

            b.open("/funding", "funding").await;
            assert_eq!(b.text("h1").await, t.get("fund-title"));
            b.fill("#fs-name", "EU victim support grant").await;
            b.select("#fs-kind", "Donor").await;
            b.click_to("#source-submit", "source-added").await;
            b.fill("#g-amount", "25000").await;
            b.fill("#g-currency", "EUR").await;
            b.set_value("#g-start", &fmt_date(today)).await;
            b.set_value("#g-end", &fmt_date(today - time::Duration::days(1)))
                .await;
            b.fill("#g-purpose", "Vocational training").await;
            b.click_to("#grant-submit", "grant-refused").await;
            assert_eq!(b.count("#g-end-err").await, 1);
            b.set_value("#g-end", &fmt_date(today + time::Duration::days(365)))
                .await;
            b.click_to("#grant-submit", "grant-added").await;
            assert!(b.text("#fund-sources").await.contains("000.00 EUR"));
            assert_eq!(
                b.count("#fund-overview").await,
                1,
                "supervisors see the national overview"
            );
            b.sign_out().await;

            // 4. The caseworker records services against the actions: counselling is
            // completed (its action becomes Done), training is ongoing.
            b.sign_in(&cw.username, None).await;
            b.open(&case_path, "case-approved").await;
            let plan = store
                .plans(&ctx(&cw_actor), case.id)
                .await
                .expect("plans")
                .remove(0);
            let action = |service: &str| {
                plan.actions
                    .iter()
                    .find(|a| a.service == service)
                    .map(|a| a.id.to_string())
                    .expect("action")
            };
            let sources = store
                .funding_source_options(&ctx(&cw_actor))
                .await
                .expect("funding options");
            for (service, outcome, cost) in [
                ("PsychologicalCounselling", "Completed", "80"),
                ("VocationalTraining", "Ongoing", "300.50"),
            ] {
                b.click_here("#asst-service-form summary").await;
                b.select("#s-service", service).await;
                b.select("#s-action", &action(service)).await;
                b.set_value("#s-start", &fmt_date(today)).await;
                b.select("#s-outcome", outcome).await;
                b.fill("#s-cost", cost).await;
                b.select("#s-source", &sources[0].id.to_string()).await;
                b.click_to("#asst-service-submit", &format!("service-{service}"))
                    .await;
            }
            assert_eq!(b.count("#asst-services tbody tr").await, 2);
            let actions = b.text("#asst-actions").await;
            assert!(actions.contains(t.get("asst-st-done")), "{actions}");
            // Recording services leaves the approval in place; the gaps that remain show.
            assert_eq!(b.text("#asst-approved").await, t.get("asst-approved"));
            let gaps = b.text("#asst-gaps").await;
            assert!(gaps.contains(t.get("asst-d-housing")), "{gaps}");
            assert!(gaps.contains("A flat of her own"), "{gaps}");
            assert!(!gaps.contains("A stable job"), "{gaps}");

            // The shelter screen of the case (axe-checked), and the nav link to shelters.
            b.click_to("#asst-shelter-link", "case-shelter").await;
            assert_eq!(b.text("h1").await, t.get("shelter-case-title"));
            // Admitted 26 days ago: the 30-day rule warns (4 days left).
            let facility = store.facilities().await.expect("facilities").remove(0);
            b.select("#ad-facility", &facility.id.to_string()).await;
            b.set_value("#ad-date", &fmt_date(today - time::Duration::days(26)))
                .await;
            b.click_to("#admit-submit", "admitted").await;
            let warning = b.find("#stay-state").await;
            assert_eq!(
                warning.attr("class").await.ok().flatten().as_deref(),
                Some("banner warn")
            );
            assert!(
                b.text("#stay-state")
                    .await
                    .contains(t.get("asst-stay-warning")),
                "the length-of-stay warning"
            );
            assert_eq!(b.count("#admit-submit").await, 0, "one open stay per case");
            assert_eq!(
                b.count("nav a[href=\"/funding\"]").await,
                0,
                "no funding link"
            );
            b.click_to("nav a[href=\"/shelters\"]", "caseworker-shelters")
                .await;
            assert_eq!(
                b.count("#facility-form").await,
                0,
                "caseworkers do not register facilities"
            );
            b.sign_out().await;
        },
    )
    .await;
}

// ---------- the screens over HTTP (no browser) ----------

/// Shelter screens: facility registration (field errors, nothing written), admission with
/// a dependant (occupancy), the length-of-stay block, extension request (reason required)
/// and supervisor approval, exit with destination; the shelter days are charged to a source
/// and appear in the cost report; CSRF is required; another organisation sees nothing.
#[tokio::test]
async fn shelter_screens_admit_extend_exit_and_costs() {
    let app = spawn_app().await;
    let store = &app.db.store;
    let (_, cw) = org_and_user(&app.db, "ngo-sh", "caseworker").await;
    let (_, sup) = org_and_user(&app.db, "ngo-sh", "supervisor").await;
    let (_, other) = org_and_user(&app.db, "ngo-other", "caseworker").await;
    for u in [&cw, &sup, &other] {
        store.set_locale(u.id, "en").await.unwrap();
    }
    let secret = b"dayaq-http-asst-key1";
    store.totp_set_secret(&sup, secret).await.unwrap();
    let t = Catalogue::load("en");
    let (s, s_csrf) = web_session(&app, &sup.username, Some(secret)).await;

    // Facility: bad input is refused next to the field, and nothing is written.
    let (st, html) = form_post(
        &app,
        &s,
        "/shelters",
        &[("csrf", &s_csrf), ("name", "Safe House"), ("beds", "two")],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("id=\"f-beds-err\""),
        "error next to the beds field"
    );
    assert!(html.contains("aria-invalid=\"true\" aria-describedby=\"f-beds-err\""));
    assert!(
        html.contains("value=\"Safe House\""),
        "the form keeps what was typed"
    );
    assert!(store.facilities().await.unwrap().is_empty());
    let (st, html) = form_post(
        &app,
        &s,
        "/shelters",
        &[("csrf", &s_csrf), ("name", " "), ("beds", "2")],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"f-name-err\""));
    // Without the CSRF token nothing happens.
    let (st, _) = form_post(
        &app,
        &s,
        "/shelters",
        &[("name", "Safe House"), ("beds", "2")],
    )
    .await;
    // The "session ended" page (issue #23 §2): a form without its token is never applied.
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert!(store.facilities().await.unwrap().is_empty());
    let (st, _) = form_post(
        &app,
        &s,
        "/shelters",
        &[("csrf", &s_csrf), ("name", "Safe House"), ("beds", "2")],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let fac = store.facilities().await.unwrap().remove(0);
    assert_eq!((fac.beds, fac.max_stay_days), (2, 30), "30 days by default");
    let (st, _) = form_post(
        &app,
        &s,
        "/funding/sources",
        &[
            ("csrf", &s_csrf),
            ("name", "State budget 2026"),
            ("kind", "StateBudget"),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);

    // Admission 32 days ago (survivor + one dependant), 12.50 AZN a day from the source.
    let (c, c_csrf) = web_session(&app, &cw.username, None).await;
    let cw_actor = cw.actor();
    let case = new_case(
        store,
        &cw_actor,
        ["Gunel", "Sintetika", "1995-01-02", "+994 55 555 12 12"],
    )
    .await
    .id;
    let shelter_path = format!("/cases/{case}/shelter");
    let (st, html) = page_get(&app, &c, &shelter_path).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("id=\"admit-submit\""));
    let source = store.funding_source_options(&ctx(&cw_actor)).await.unwrap()[0]
        .id
        .to_string();
    let today = time::OffsetDateTime::now_utc().date();
    let admitted = fmt_date(today - time::Duration::days(32));
    let fid = fac.id.to_string();
    let admit = |deps: &'static str, cost: &'static str| {
        vec![
            ("csrf", c_csrf.clone()),
            ("facility_id", fid.clone()),
            ("admitted_on", admitted.clone()),
            ("dependants", deps.to_string()),
            ("daily_cost_minor", cost.to_string()),
            ("funding_source_id", source.clone()),
        ]
    };
    let send = |form: Vec<(&'static str, String)>| {
        let c = c.clone();
        let url = format!("{}{}/admit", app.base_url, shelter_path);
        async move {
            let r = submit(&c, url, &form).await;
            let s = r.status();
            (s, r.text().await.unwrap())
        }
    };
    let (st, html) = send(admit("x", "12,5")).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"ad-dependants-err\""));
    let (st, html) = send(admit("2", "12.5")).await;
    assert_eq!(
        st,
        StatusCode::UNPROCESSABLE_ENTITY,
        "three people do not fit two beds"
    );
    assert!(html.contains("id=\"ad-facility-err\""));
    assert!(store.stays(&ctx(&cw_actor), case).await.unwrap().is_empty());
    let (st, _) = send(admit("1", "12,50")).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, html) = page_get(&app, &c, "/shelters").await;
    assert!(
        html.contains(&format!("<strong>{}</strong>", t.get("shelter-full"))),
        "two of two beds taken"
    );

    // Day 32 of 30: blocked until an approved extension covers it.
    let (_, html) = page_get(&app, &c, &shelter_path).await;
    assert!(html.contains("class=\"banner error\" role=\"alert\" id=\"stay-state\""));
    assert!(html.contains(t.get("shelter-blocked-hint")));
    let stay = store
        .stays(&ctx(&cw_actor), case)
        .await
        .unwrap()
        .remove(0)
        .id
        .to_string();
    let (st, html) = form_post(
        &app,
        &c,
        &format!("{shelter_path}/extension"),
        &[
            ("csrf", &c_csrf),
            ("stay", &stay),
            ("days", "14"),
            ("reason", "  "),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("id=\"x-reason-err\""),
        "reason required, next to the field"
    );
    let (st, _) = form_post(
        &app,
        &c,
        &format!("{shelter_path}/extension"),
        &[
            ("csrf", &c_csrf),
            ("stay", &stay),
            ("days", "14"),
            ("reason", "Court hearing next week"),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, html) = page_get(&app, &c, &shelter_path).await;
    assert!(
        html.contains(t.get("shelter-blocked-hint")),
        "a requested extension does not count"
    );
    assert!(
        !html.contains("Court hearing"),
        "the reason is not shown back"
    );
    assert!(
        !html.contains("id=\"ext-approve-1\""),
        "caseworkers do not approve"
    );
    let ext = store.stays(&ctx(&cw_actor), case).await.unwrap()[0].extensions[0]
        .id
        .to_string();
    let (st, _) = form_post(
        &app,
        &c,
        &format!("{shelter_path}/extension-approve"),
        &[("csrf", &c_csrf), ("extension", &ext)],
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (_, html) = page_get(&app, &s, &shelter_path).await;
    assert!(html.contains("id=\"ext-approve-1\""));
    let (st, _) = form_post(
        &app,
        &s,
        &format!("{shelter_path}/extension-approve"),
        &[("csrf", &s_csrf), ("extension", &ext)],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, html) = page_get(&app, &c, &shelter_path).await;
    assert!(
        !html.contains(t.get("shelter-blocked-hint")),
        "day 32 of 44 is allowed"
    );
    assert!(html.contains("<p id=\"stay-state\">"));

    // Exit: the destination is required; then the stay ends and the beds are free.
    let (st, html) = form_post(
        &app,
        &c,
        &format!("{shelter_path}/exit"),
        &[
            ("csrf", &c_csrf),
            ("stay", &stay),
            ("exited_on", &fmt_date(today)),
            ("exit_destination", ""),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"e-dest-err\""));
    let (st, _) = form_post(
        &app,
        &c,
        &format!("{shelter_path}/exit"),
        &[
            ("csrf", &c_csrf),
            ("stay", &stay),
            ("exited_on", &fmt_date(today)),
            ("exit_destination", "IndependentHousing"),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (_, html) = page_get(&app, &c, &shelter_path).await;
    assert!(html.contains(t.get("asst-exit-independent")));
    assert_eq!(store.facilities().await.unwrap()[0].available, 2);

    // 32 shelter days × 12.50 AZN = 400.00 AZN charged to the state budget.
    let (st, html) = page_get(&app, &s, "/funding").await;
    assert_eq!(st, StatusCode::OK);
    let per_source = &html[html.find("id=\"cost-per-source\"").unwrap()..];
    assert!(
        per_source.contains("400.00 AZN"),
        "shelter days in the cost report"
    );
    // The national overview beside it: one survivor is a small cell, its money is hidden.
    let overview = &html[html.find("id=\"fund-overview\"").unwrap()..];
    let small = overview.contains(">x<") || overview.contains(">x\n") || overview.contains("\nx<");
    assert!(
        small && overview.contains(t.get("fund-suppressed")),
        "suppressed cell"
    );
    assert!(
        !overview.contains("400.00 AZN"),
        "no amount for a suppressed cell"
    );
    assert!(
        html.contains(&format!("href=\"/cases/{case}\"")),
        "per survivor, by case"
    );

    // Another organisation: not found, and nothing of the case.
    let (o, _) = web_session(&app, &other.username, None).await;
    let (st, html) = page_get(&app, &o, &shelter_path).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert!(!html.contains("Safe House"));
    app.db.cleanup().await;
}

/// Funding screens and payment status: field errors on the source and grant forms; a
/// supervisor marks the allowance paid; the coordinator sees only the national aggregate
/// (small cells suppressed, no organisation's sources or cases); a researcher is refused and
/// has no links.
#[tokio::test]
async fn funding_screens_payment_status_and_roles() {
    let app = spawn_app().await;
    let store = &app.db.store;
    let (_, sup) = org_and_user(&app.db, "ngo-fund", "supervisor").await;
    let (_, police) = org_and_user(&app.db, "ngo-fund", "police_officer").await;
    let (_, coord) = org_and_user(&app.db, "coordination", "national_coordinator").await;
    let (_, researcher) = org_and_user(&app.db, "uni", "researcher").await;
    for u in [&sup, &police, &coord, &researcher] {
        store.set_locale(u.id, "en").await.unwrap();
    }
    let secret = b"dayaq-http-fund-key1";
    store.totp_set_secret(&sup, secret).await.unwrap();
    let t = Catalogue::load("en");
    let (s, csrf) = web_session(&app, &sup.username, Some(secret)).await;

    let (st, html) = form_post(
        &app,
        &s,
        "/funding/sources",
        &[("csrf", &csrf), ("name", "IOM"), ("kind", "Sponsor")],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"fs-kind-err\""));
    let (st, _) = form_post(
        &app,
        &s,
        "/funding/sources",
        &[("csrf", &csrf), ("name", "IOM"), ("kind", "Donor")],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (st, html) = form_post(
        &app,
        &s,
        "/funding/sources",
        &[("csrf", &csrf), ("name", "IOM"), ("kind", "Donor")],
    )
    .await;
    assert_eq!(
        st,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a second source of the same name"
    );
    assert!(html.contains("id=\"fs-name-err\""));
    let sup_actor = sup.actor();
    let source = store.funding_sources(&ctx(&sup_actor)).await.unwrap()[0]
        .id
        .to_string();
    let (st, html) = form_post(
        &app,
        &s,
        "/funding/grants",
        &[
            ("csrf", &csrf),
            ("source", &source),
            ("amount_minor", "12.345"),
            ("currency", "usd"),
            ("period_start", "2026-01-01"),
            ("period_end", "2026-12-31"),
            ("purpose", ""),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    for id in ["g-amount-err", "g-purpose-err"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert!(
        store.funding_sources(&ctx(&sup_actor)).await.unwrap()[0]
            .grants
            .is_empty()
    );
    let (st, _) = form_post(
        &app,
        &s,
        "/funding/grants",
        &[
            ("csrf", &csrf),
            ("source", &source),
            ("amount_minor", "150000"),
            ("currency", "usd"),
            ("period_start", "2026-01-01"),
            ("period_end", "2026-12-31"),
            ("purpose", "Reintegration grants"),
        ],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let g = &store.funding_sources(&ctx(&sup_actor)).await.unwrap()[0].grants[0];
    assert_eq!((g.amount_minor, g.currency.as_str()), (15_000_000, "USD"));

    // The allowance: requested by the police officer, marked paid by the supervisor.
    let pol = police.actor();
    let case = new_case(
        store,
        &pol,
        ["Sevda", "Sintetika", "1993-03-03", "+994 70 555 00 11"],
    )
    .await
    .id;
    decide_identification(store, &pol, case, "ActualVictimOfTrafficking").await;
    let payment = store
        .pay_allowance(&ctx(&pol), case, 40_000)
        .await
        .unwrap()
        .id
        .to_string();
    let (_, html) = page_get(&app, &s, &format!("/cases/{case}")).await;
    assert!(html.contains("id=\"asst-pay-paid-1\""));
    let (st, _) = form_post(
        &app,
        &s,
        &format!("/cases/{case}/assistance/payment-status"),
        &[("csrf", &csrf), ("payment", &payment), ("status", "Paid")],
    )
    .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    assert_eq!(
        store.payments(&ctx(&pol), case).await.unwrap()[0].status,
        "Paid"
    );
    let (_, html) = page_get(&app, &s, &format!("/cases/{case}")).await;
    assert!(html.contains(&format!(
        "<span class=\"pay-status\">{}</span>",
        t.get("asst-pay-paid")
    )));
    assert!(
        !html.contains("id=\"asst-pay-paid-1\""),
        "no buttons once paid"
    );

    // Coordinator: the national aggregate only, with the funding and shelter links.
    let (k, _) = web_session(&app, &coord.username, None).await;
    let (st, html) = page_get(&app, &k, "/funding").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("id=\"fund-overview\""));
    assert!(
        !html.contains("id=\"fund-sources\""),
        "no organisation's sources"
    );
    assert!(!html.contains("IOM") && !html.contains(&case.to_string()));
    assert!(
        html.contains("150\u{a0}000.00 USD"),
        "grants summed per kind"
    );
    assert!(html.contains("href=\"/funding\"") && html.contains("href=\"/shelters\""));
    let (st, _) = form_post(
        &app,
        &k,
        "/funding/sources",
        &[
            ("csrf", &csrf_field(&html)),
            ("name", "X"),
            ("kind", "Donor"),
        ],
    )
    .await;
    assert_eq!(
        st,
        StatusCode::FORBIDDEN,
        "the coordinator manages no sources"
    );

    // Researcher: refused, and no links.
    let (r, _) = web_session(&app, &researcher.username, None).await;
    let (st, html) = page_get(&app, &r, "/funding").await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert!(!html.contains("href=\"/funding\"") && !html.contains("href=\"/shelters\""));
    // Facilities are counts only, readable by any signed-in user (as GET /api/v1/shelters),
    // but not linked for a researcher and without the registration form.
    let (st, html) = page_get(&app, &r, "/shelters").await;
    assert_eq!(st, StatusCode::OK);
    assert!(!html.contains("id=\"facility-form\""));
    app.db.cleanup().await;
}
