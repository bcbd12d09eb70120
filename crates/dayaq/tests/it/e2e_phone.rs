//! Phone width (issue #23 §11), in a real browser on the demo world (`dayaq demo`).
//!
//! One account of each demo role signs in, in az, ru and en, and visits every page its
//! navigation leads to, every page those pages link to, and — for the roles that work cases —
//! the first case of its caseload with every section open and the case's own pages. Each page
//! at 390 px and at 360 px must not scroll sideways (the failure names the elements that stick
//! out) and must be axe-clean (WCAG 2.x A/AA, at 390 px). At 390 px the header is collapsed
//! to the brand, a menu button and the languages; the menu opens by keyboard and by pointer.
//!
//! The screenshots listed in docs/SCREENS.md are saved to `target/screens/` (not committed):
//! the caseload list and a case page at 1280 px (laptop) and 390 px (phone), per language.
//!
//! Also at 390 px, the screens of issue #17 that had no browser test (practice rules,
//! retention, her data): a refused value stays in its field with its error beside it, and
//! nothing is saved.
//!
//! Run: `cargo nextest run -p dayaq -E 'test(/e2e_phone/)'` (100–135 s per language, about
//! 100 pages each, on the shared 2-core machine).

use crate::kit::browser::{Browser, NARROW, WAIT, WIDE, run};
use crate::kit::{Demo, DemoLogin, TestApp, ctx, load_demo, new_case};
use dayaq_storage::identification::ConsentInput;
use dayaq_storage::referrals::ReferralInput;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

// Synthetic identity with long unbroken names (not a real person).
const LONG_FIRST: &str = "Gülnarəxanımbəyimxanımqızıgözəlxanım";
const LONG_SECOND: &str = "Təhmasibquluzadəbəyimxanımovaqızıoğlu";
/// The demo organisation that receives vocational-training referrals.
const RECEIVER: &str = "assistance-center";

/// A phone: 390 px wide (the 360 px check is [`NARROW`]).
const PHONE: (u32, u32) = (390, 844);

/// The folder of the screenshots docs/SCREENS.md lists.
fn screens_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screens")
}

/// The same-origin links of the elements `css` selects (as written in the page).
const LINKS: &str = r#"
return Array.from(document.querySelectorAll(arguments[0]))
  .filter(function (a) { return !a.hasAttribute('download'); })
  .map(function (a) { return a.getAttribute('href') || ''; });
"#;

/// A page worth visiting: a local address that is not a download; `None` otherwise.
/// Returns (the address to open, its shape: ids replaced, query and fragment dropped), so
/// that one page of each kind is visited (one user, one case, one page of a list).
fn page(href: &str) -> Option<(String, String)> {
    let href = href.split('#').next().unwrap_or_default();
    if !href.starts_with('/') || href.starts_with("//") || href.starts_with("/static/") {
        return None;
    }
    let path = href.split('?').next().unwrap_or_default();
    let lower = path.to_ascii_lowercase();
    let file = [
        ".csv", ".xlsx", ".pdf", ".json", ".ndjson", ".zip", ".png", ".svg", ".age", ".txt",
    ];
    if file.iter().any(|ext| lower.ends_with(ext))
        || ["download", "export", "/files/", "/file/"]
            .iter()
            .any(|w| lower.contains(w))
    {
        return None;
    }
    let shape = path
        .split('/')
        .map(|seg| {
            if uuid::Uuid::parse_str(seg).is_ok()
                || (!seg.is_empty() && seg.chars().all(|c| c.is_ascii_digit()))
            {
                "{id}"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/");
    Some((href.to_string(), shape))
}

async fn links(b: &Browser, css: &str) -> Vec<String> {
    b.js(LINKS, vec![json!(css)])
        .await
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// Opens every `<details>` of the page (the case page's sections, the forms).
async fn open_all_sections(b: &Browser) {
    b.js(
        "document.querySelectorAll('details').forEach(function (d) { d.open = true; });",
        vec![],
    )
    .await;
}

/// The current page at 390 px and at 360 px: no sideways scrolling, axe-clean, in `lang`.
async fn check_phone(b: &Browser, lang: &str, step: &str) {
    assert_eq!(b.html_lang().await, lang, "language of {step}");
    b.assert_fits(step).await;
    b.check(&format!("{step} at 390 px")).await;
    b.resize(NARROW).await;
    b.assert_fits(step).await;
    b.resize(PHONE).await;
}

/// Opens `path` at phone width and checks it; false when it is not an HTML page.
async fn visit(b: &Browser, lang: &str, path: &str, all_sections: bool) -> bool {
    b.goto(path).await;
    if b.js("return document.contentType;", vec![]).await != json!("text/html") {
        eprintln!("narrow screens: {path} is not an HTML page; not checked");
        return false;
    }
    if all_sections {
        open_all_sections(b).await;
    }
    check_phone(b, lang, path).await;
    true
}

/// At 390 px the navigation is folded behind the menu button; the keyboard opens it.
async fn header_is_collapsed(b: &Browser) {
    let shown = |css: &'static str| {
        let b = b.clone();
        async move {
            b.js(
                "var e = document.querySelector(arguments[0]); \
                 return !!e && e.getClientRects().length > 0;",
                vec![json!(css)],
            )
            .await
                == json!(true)
        }
    };
    assert!(
        shown(".menu-button").await,
        "the menu button shows at 390 px"
    );
    assert!(
        !shown("#top-menu nav").await,
        "the navigation is folded at 390 px"
    );
    let header: Value = b
        .js(
            "return document.querySelector('header.top').getBoundingClientRect().height;",
            vec![],
        )
        .await;
    assert!(
        header.as_f64().unwrap_or(f64::MAX) < 120.0,
        "the collapsed header is at most two rows high (is {header} px)"
    );
    // Keyboard: the toggle takes the focus and the space bar opens the menu.
    b.find("#menu-toggle")
        .await
        .send_keys(" ")
        .await
        .expect("press space on the menu toggle");
    assert!(shown("#top-menu nav").await, "space opens the menu");
    assert!(shown("#sign-out").await, "the open menu holds sign-out");
    b.find("#menu-toggle")
        .await
        .send_keys(" ")
        .await
        .expect("press space on the menu toggle");
    assert!(!shown("#top-menu nav").await, "space folds the menu again");
}

/// A case of the demo caseworker with what the demo cases lack and a phone must still fit:
/// long unbroken names, a consent and a referral (tables with a hidden column header).
/// Returns its address.
async fn busy_case(app: &TestApp, demo: &Demo) -> String {
    let store = &app.db.store;
    let cw = store
        .user_by_name(&demo_login(demo, "caseworker").username)
        .await
        .expect("the demo caseworker")
        .actor();
    let case = new_case(
        store,
        &cw,
        [LONG_FIRST, LONG_SECOND, "1996-02-29", "+994 50 555 77 11"],
    )
    .await;
    let consent = ConsentInput {
        purpose: "SharingWithOrganisation".into(),
        given: true,
        recipient_org: Some(RECEIVER.into()),
        recipient_org_type: None,
        given_by: "Survivor".into(),
        language: "az".into(),
    };
    store
        .add_consent(&ctx(&cw), case.id, &consent)
        .await
        .expect("add_consent");
    let referral = ReferralInput {
        to_org: RECEIVER.into(),
        services: vec!["VocationalTraining".into()],
        reason: "AdditionalServicesRequired".into(),
        details: None,
        consent_override_reason: None,
        travel: None,
    };
    store
        .create_referral(&ctx(&cw), case.id, &referral)
        .await
        .expect("create_referral");
    format!("/cases/{}", case.id)
}

/// The busy case with every section open and the identity shown: the long names wrap.
async fn busy_case_fits(b: &Browser, lang: &str, case: &str) {
    assert!(visit(b, lang, case, true).await, "the case page is HTML");
    assert!(
        b.count("#consent-list tbody tr").await > 0,
        "the consent is listed"
    );
    b.find("#reveal-identity")
        .await
        .click()
        .await
        .expect("click reveal");
    let deadline = Instant::now() + WAIT;
    while !b.text("#identity").await.contains(LONG_FIRST) {
        assert!(Instant::now() < deadline, "the identity was not revealed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    check_phone(b, lang, &format!("{case} with the identity shown")).await;
}

/// Signs `login` in, in `lang`, and checks every page it reaches at phone width (and
/// `busy_case` when given). Returns how many pages were checked.
async fn walk_role(
    b: &Browser,
    app: &TestApp,
    login: &DemoLogin,
    password: &str,
    lang: &'static str,
    busy_case: Option<&str>,
) -> usize {
    sign_in_phone(b, app, login, password, lang).await;
    assert_eq!(b.html_lang().await, lang);
    header_is_collapsed(b).await;

    let nav = links(b, "header nav a[href]").await;
    assert!(!nav.is_empty(), "{} has a navigation", login.role);
    let mut seen = BTreeSet::new();
    let mut todo: Vec<(String, bool)> = Vec::new();
    for href in &nav {
        if let Some((href, shape)) = page(href)
            && seen.insert(shape)
        {
            todo.push((href, true));
        }
    }
    let mut checked = 0;
    let mut i = 0;
    while i < todo.len() {
        let (path, follow) = todo[i].clone();
        i += 1;
        if !visit(b, lang, &path, false).await {
            continue;
        }
        checked += 1;
        if !follow {
            continue;
        }
        for href in links(b, "main a[href]").await {
            if let Some((href, shape)) = page(&href)
                && !shape.starts_with("/cases/{id}")
                && seen.insert(shape)
            {
                todo.push((href, false));
            }
        }
    }

    // The first case of the caseload, every section open, and the case's own pages.
    if nav.iter().any(|h| h == "/cases") {
        b.goto("/cases").await;
        let cases: Vec<String> = links(b, "#case-list a[href^='/cases/']").await;
        let case = cases
            .first()
            .unwrap_or_else(|| panic!("{} sees cases in the demo world", login.role))
            .clone();
        assert!(visit(b, lang, &case, true).await, "the case page is HTML");
        checked += 1;
        for href in links(b, "main a[href]").await {
            if let Some((href, shape)) = page(&href)
                && href.starts_with(&format!("{case}/"))
                && seen.insert(shape)
                && visit(b, lang, &href, true).await
            {
                checked += 1;
            }
        }
    }
    if let Some(case) = busy_case {
        busy_case_fits(b, lang, case).await;
        checked += 1;
    }
    eprintln!(
        "narrow screens: {} ({}) in {lang}: {checked} pages fit at 390 and 360 px",
        login.username, login.role
    );

    sign_out_phone(b).await;
    checked
}

/// Signs out through the folded menu of the phone header.
async fn sign_out_phone(b: &Browser) {
    b.click_here(".menu-button").await;
    b.sign_out().await;
}

/// The first demo account of `role`.
fn demo_login<'a>(demo: &'a Demo, role: &str) -> &'a DemoLogin {
    demo.logins
        .iter()
        .find(|l| l.role == role)
        .unwrap_or_else(|| panic!("a demo {role}"))
}

/// Signs the demo account `login` in at phone width, in `lang`.
async fn sign_in_phone(b: &Browser, app: &TestApp, login: &DemoLogin, password: &str, lang: &str) {
    let user = app
        .db
        .store
        .user_by_name(&login.username)
        .await
        .expect("demo account");
    app.db
        .store
        .set_locale(user.id, lang)
        .await
        .expect("set the account's language");
    b.resize(PHONE).await;
    b.sign_in_with(&login.username, password, login.totp.as_deref())
        .await;
}

/// The refused field `input` keeps `typed`, is marked invalid and has its error right after
/// it, named by `aria-describedby`.
async fn refused_beside(b: &Browser, input: &str, error: &str, typed: &str) {
    let field = b.find(input).await;
    let value = field.prop("value").await.ok().flatten().unwrap_or_default();
    assert_eq!(value, typed, "{input} keeps what was typed");
    assert_eq!(
        field.attr("aria-invalid").await.ok().flatten().as_deref(),
        Some("true"),
        "{input} is marked invalid"
    );
    let described = field
        .attr("aria-describedby")
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    assert!(
        described
            .split_whitespace()
            .any(|id| format!("#{id}") == error),
        "{input} is described by its error {error} (aria-describedby={described:?})"
    );
    assert!(
        !b.text(error).await.is_empty(),
        "{error} says what is wrong"
    );
    let beside = b
        .js(
            "var f = document.querySelector(arguments[0]), e = document.querySelector(arguments[1]); \
             return !!f && !!e && f.parentElement.contains(e) && \
               e.getBoundingClientRect().top >= f.getBoundingClientRect().bottom - 1 && \
               e.getBoundingClientRect().top - f.getBoundingClientRect().bottom < 60;",
            vec![json!(input), json!(error)],
        )
        .await;
    assert_eq!(beside, json!(true), "{error} sits right under {input}");
}

/// The screenshots of docs/SCREENS.md for `lang`: the caseload list and its first case, at
/// 1280 and 390 px. The browser is signed in as a caseworker.
async fn screens(b: &Browser, lang: &str) {
    let dir = screens_dir();
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    b.goto("/cases").await;
    let case = links(b, "#case-list a[href^='/cases/']")
        .await
        .first()
        .cloned()
        .expect("the caseworker's caseload is not empty");
    for (size, label) in [(WIDE, "laptop"), (PHONE, "phone")] {
        b.resize(size).await;
        b.goto("/cases").await;
        b.capture(&dir.join(format!("{lang}-caseload-{label}.png")))
            .await;
        b.goto(&case).await;
        b.capture(&dir.join(format!("{lang}-case-{label}.png")))
            .await;
    }
    b.resize(PHONE).await;
    b.click_here(".menu-button").await;
    b.capture(&dir.join(format!("{lang}-menu-open-phone.png")))
        .await;
    for name in [
        "caseload-laptop",
        "caseload-phone",
        "case-laptop",
        "case-phone",
        "menu-open-phone",
    ] {
        let file = dir.join(format!("{lang}-{name}.png"));
        let len = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        assert!(len > 1000, "screenshot {} was saved", file.display());
    }
}

/// Every demo role (one account each), every page, in `lang`, at 390 and 360 px.
async fn every_page(test: &'static str, lang: &'static str) {
    run(test, move |b, app| async move {
        let demo = load_demo(&app.db);
        let busy = busy_case(&app, &demo).await;
        let mut roles = BTreeSet::new();
        let mut total = 0;
        for login in &demo.logins {
            if !roles.insert(login.role.clone()) {
                continue;
            }
            let mine = (login.role == "caseworker").then_some(busy.as_str());
            total += walk_role(&b, &app, login, &demo.password, lang, mine).await;
        }
        assert!(
            roles.len() >= 9,
            "the demo world has its nine roles: {roles:?}"
        );

        sign_in_phone(
            &b,
            &app,
            demo_login(&demo, "caseworker"),
            &demo.password,
            lang,
        )
        .await;
        screens(&b, lang).await;
        eprintln!(
            "narrow screens: {total} pages of {} roles checked in {lang}",
            roles.len()
        );
    })
    .await;
}

#[tokio::test]
async fn e2e_phone_every_page_az() {
    every_page("e2e_phone_every_page_az", "az").await;
}

#[tokio::test]
async fn e2e_phone_every_page_ru() {
    every_page("e2e_phone_every_page_ru", "ru").await;
}

#[tokio::test]
async fn e2e_phone_every_page_en() {
    every_page("e2e_phone_every_page_en", "en").await;
}

/// The screens of issue #17 that had no browser test, at 390 px in Russian: a refused value
/// stays in its field with the error beside it, nothing is saved, and the page is axe-clean
/// and fits. Practice rules (national coordinator), retention (supervisor), her data
/// (caseworker).
#[tokio::test]
async fn e2e_phone_refused_forms_keep_input() {
    run("e2e_phone_refused_forms_keep_input", |b, app| async move {
        let demo = load_demo(&app.db);
        let lang = "ru";

        // Practice rules: the reflection period in days.
        sign_in_phone(
            &b,
            &app,
            demo_login(&demo, "national_coordinator"),
            &demo.password,
            lang,
        )
        .await;
        assert!(visit(&b, lang, "/rules", false).await);
        let before = b.find("#r-days").await.prop("value").await.ok().flatten();
        b.fill("#r-days", "30д").await;
        b.click_to("#reflection-submit", "rules-refused").await;
        refused_beside(&b, "#r-days", "#r-days-err", "30д").await;
        check_phone(&b, lang, "/rules refused").await;
        b.goto("/rules").await;
        let after = b.find("#r-days").await.prop("value").await.ok().flatten();
        assert_eq!(after, before, "the refused reflection period was not saved");
        sign_out_phone(&b).await;

        // Retention: the months of the first record kind.
        sign_in_phone(
            &b,
            &app,
            demo_login(&demo, "supervisor"),
            &demo.password,
            lang,
        )
        .await;
        assert!(visit(&b, lang, "/retention", false).await);
        let form = b
            .find("form.ret-rule")
            .await
            .attr("id")
            .await
            .ok()
            .flatten()
            .expect("a retention rule form");
        let kind = form.trim_start_matches("ret-rule-").to_string();
        let months = format!("#ret-months-{kind}");
        let before = b.find(&months).await.prop("value").await.ok().flatten();
        b.fill(&months, "12x").await;
        b.click_to(&format!("#{form} button[type=submit]"), "retention-refused")
            .await;
        refused_beside(&b, &months, &format!("#ret-err-{kind}"), "12x").await;
        check_phone(&b, lang, "/retention refused").await;
        b.goto("/retention").await;
        let after = b.find(&months).await.prop("value").await.ok().flatten();
        assert_eq!(after, before, "the refused retention rule was not saved");
        sign_out_phone(&b).await;

        // Her data: a request dated in the future.
        sign_in_phone(
            &b,
            &app,
            demo_login(&demo, "caseworker"),
            &demo.password,
            lang,
        )
        .await;
        b.goto("/cases").await;
        let case = links(&b, "#case-list a[href^='/cases/']")
            .await
            .first()
            .cloned()
            .expect("the caseworker's caseload is not empty");
        let page = format!("{case}/her-data");
        assert!(visit(&b, lang, &page, false).await);
        let requests = b.count("article").await;
        let option = |sel: &'static str| {
            let b = b.clone();
            async move {
                b.js(
                    "return document.querySelector(arguments[0]).options[1].value;",
                    vec![json!(sel)],
                )
                .await
                .as_str()
                .unwrap_or_default()
                .to_string()
            }
        };
        let kind = option("#dsr-kind").await;
        let channel = option("#dsr-channel").await;
        b.select("#dsr-kind", &kind).await;
        b.select("#dsr-channel", &channel).await;
        b.set_value("#dsr-date", "2999-01-01").await;
        b.click_to("#record-submit", "her-data-refused").await;
        refused_beside(&b, "#dsr-date", "#dsr-date-err", "2999-01-01").await;
        for (sel, v) in [("#dsr-kind", &kind), ("#dsr-channel", &channel)] {
            let kept = b.find(sel).await.prop("value").await.ok().flatten();
            assert_eq!(kept.as_deref(), Some(v.as_str()), "{sel} keeps its choice");
        }
        check_phone(&b, lang, "her data refused").await;
        b.goto(&page).await;
        assert_eq!(
            b.count("article").await,
            requests,
            "no request was recorded"
        );
    })
    .await;
}
