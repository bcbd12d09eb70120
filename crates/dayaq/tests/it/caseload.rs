//! The caseload list and the case page's navigation (issue 23 §6–7): list contents per role
//! and organisation (received cases only within their grants, another organisation's case
//! never), filters, sort and keyset pages, the display-name policy, the API and the screens.

use crate::kit::{
    PASSWORD, accepted_vt_referral, api_call, ctx, db_with_user, new_case, now, org_and_user,
    page_get, pending_vt_referral, spawn_app, user_token, web_session,
};
use dayaq_domain::policy::Section;
use dayaq_domain::progress::{DisplayName, Prompt, Stage};
use dayaq_storage::cases::{CaseloadPage, CaseloadParams, CaseloadRow};
use dayaq_storage::{Store, StoreError};
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

async fn list(s: &Store, actor: &dayaq_domain::Actor, p: CaseloadParams) -> CaseloadPage {
    let q = p.query().expect("valid parameters");
    s.caseload(&ctx(actor), &q).await.expect("caseload")
}

fn ids(p: &CaseloadPage) -> Vec<Uuid> {
    let mut v: Vec<Uuid> = p.rows.iter().map(|r| r.id).collect();
    v.sort();
    v
}

fn row(p: &CaseloadPage, id: Uuid) -> &CaseloadRow {
    p.rows
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("case {id} is not in the list"))
}

fn with(f: impl FnOnce(&mut CaseloadParams)) -> CaseloadParams {
    let mut p = CaseloadParams::default();
    f(&mut p);
    p
}

#[tokio::test]
async fn caseload_lists_own_and_received_cases_within_their_grants() {
    let (db, cw) = db_with_user("ngo-a", "caseworker").await;
    let s = &db.store;
    let cw2 = s
        .add_user("ngo-a", "caseworker", "ngo-a-second", PASSWORD, now())
        .await
        .expect("second caseworker");
    let (_, vt) = org_and_user(&db, "vt-centre", "caseworker").await;
    let (_, other) = org_and_user(&db, "ngo-c", "caseworker").await;
    let (cw, cw2, vt, other) = (cw.actor(), cw2.actor(), vt.actor(), other.actor());
    let mine = new_case(s, &cw, ["Ayla", "Mammadova", "1995-04-02", "+994501112233"]).await;
    let theirs = new_case(s, &cw2, ["Nigar", "Aliyeva", "1990-01-01", "+994501112244"]).await;
    let foreign = new_case(
        s,
        &other,
        ["Sona", "Huseynova", "1988-02-02", "+994501112255"],
    )
    .await;

    // The owning organisation: both its cases, never another organisation's.
    let a = list(s, &cw, CaseloadParams::default()).await;
    assert_eq!(ids(&a), {
        let mut v = vec![mine.id, theirs.id];
        v.sort();
        v
    });
    let r = row(&a, mine.id);
    assert_eq!(r.stage, Stage::Contact);
    assert_eq!(
        r.next_steps,
        vec![Prompt::NoConsent, Prompt::ScreeningMissing]
    );
    assert_eq!(r.assigned_to.as_deref(), Some("ngo-a-caseworker"));
    assert!(!r.referred_to_us);
    assert_eq!(r.display_name, None, "the default policy shows no name");
    assert_eq!(
        ids(&list(s, &other, CaseloadParams::default()).await),
        vec![foreign.id]
    );

    // Referred to the training centre (consent + accepted referral).
    accepted_vt_referral(s, &cw, &vt, mine.id, "vt-centre").await;
    let a = list(s, &cw, CaseloadParams::default()).await;
    let r = row(&a, mine.id);
    assert_eq!(r.stage, Stage::Referral);
    assert!(!r.next_steps.contains(&Prompt::NoConsent));

    // The receiver: only the received case, marked, within its grants.
    let b = list(s, &vt, CaseloadParams::default()).await;
    assert_eq!(ids(&b), vec![mine.id], "only the received case");
    let r = row(&b, mine.id);
    assert!(r.referred_to_us);
    assert_eq!(r.assigned_to, None, "the owner's staff are not shown");
    assert_eq!(r.stage, Stage::Referral);
    let readable = s.readable_sections(&ctx(&vt), mine.id).await.unwrap();
    assert!(!readable.contains(&Section::VictimContext));
    for p in &r.next_steps {
        match p.section() {
            Some(sec) => assert!(readable.contains(&sec), "{p:?} needs {sec:?}"),
            None => panic!("{p:?} is the owner's fact"),
        }
    }
    assert!(
        !r.next_steps.contains(&Prompt::ScreeningMissing),
        "screening is in the victim context the centre may not read"
    );
    // Another organisation never sees it.
    assert_eq!(
        ids(&list(s, &other, CaseloadParams::default()).await),
        vec![foreign.id]
    );
}

#[tokio::test]
async fn caseload_filters_sort_and_keyset_pages() {
    let (db, cw) = db_with_user("ngo-a", "caseworker").await;
    let s = &db.store;
    let cw2 = s
        .add_user("ngo-a", "caseworker", "ngo-a-second", PASSWORD, now())
        .await
        .expect("second caseworker")
        .actor();
    let (_, vt) = org_and_user(&db, "vt-centre", "caseworker").await;
    let (cw, vt) = (cw.actor(), vt.actor());
    let first = new_case(s, &cw, ["Ayla", "Mammadova", "1995-04-02", "+994501112233"]).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let second = new_case(s, &cw2, ["Nigar", "Aliyeva", "1990-01-01", "+994501112244"]).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let third = new_case(s, &cw, ["Leyla", "Quliyeva", "1993-03-03", "+994501112266"]).await;
    accepted_vt_referral(s, &cw, &vt, third.id, "vt-centre").await;
    // A referral of the first case sent five days ago and still unanswered: due since two days.
    let five_days_ago = dayaq_storage::cases::Ctx {
        now: now() - time::Duration::days(5),
        ..ctx(&cw)
    };
    pending_vt_referral(s, &five_days_ago, first.id, "vt-centre").await;

    // Due date first: the unanswered referral leads, with its due date.
    let p = list(s, &cw, CaseloadParams::default()).await;
    assert_eq!(p.rows[0].id, first.id);
    assert_eq!(p.rows[0].next_steps[0], Prompt::ReferralUnanswered);
    let due = (now() - time::Duration::days(2)).date().to_string();
    assert_eq!(p.rows[0].due.as_deref(), Some(due.as_str()));
    assert!(p.rows[1..].iter().all(|r| r.due.is_none()));

    // Assigned to me.
    let p = list(s, &cw2, with(|p| p.mine = Some("true".into()))).await;
    assert_eq!(ids(&p), vec![second.id]);
    // Stage.
    let p = list(s, &cw, with(|p| p.stage = Some("Contact".into()))).await;
    assert_eq!(ids(&p), vec![second.id]);
    // Status.
    let p = list(s, &cw, with(|p| p.status = Some("Closed".into()))).await;
    assert!(p.rows.is_empty());
    let p = list(s, &cw, with(|p| p.status = Some("Active".into()))).await;
    assert_eq!(p.rows.len(), 3);
    // Needs action: every new case still lacks a screening.
    let p = list(s, &cw, with(|p| p.needs_action = Some("true".into()))).await;
    assert_eq!(p.rows.len(), 3);
    assert!(p.rows.iter().all(|r| !r.next_steps.is_empty()));

    // Newest first, one row a page, by the cursor: each case once, in order.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..4 {
        let p = list(
            s,
            &cw,
            with(|p| {
                p.sort = Some("Newest".into());
                p.limit = Some("1".into());
                p.after = after.clone();
            }),
        )
        .await;
        seen.extend(p.rows.iter().map(|r| r.id));
        match p.next {
            Some(n) => {
                assert!(!n.contains("Ayla") && n.contains('~'), "cursor {n}");
                after = Some(n);
            }
            None => break,
        }
    }
    assert_eq!(seen, vec![third.id, second.id, first.id]);

    // Refused parameters are named, never echoed.
    let bad = with(|p| {
        p.stage = Some("Nowhere".into());
        p.limit = Some("0".into());
        p.sort = Some("Name".into());
        p.after = Some("x".into());
        p.mine = Some("maybe".into());
    })
    .query()
    .unwrap_err();
    let mut fields: Vec<&str> = bad.errors.iter().map(|e| e.field.as_str()).collect();
    fields.sort();
    assert_eq!(fields, vec!["after", "limit", "mine", "sort", "stage"]);
    assert!(bad.errors.iter().all(|e| !e.message.contains("Nowhere")));
}

#[tokio::test]
async fn caseload_display_name_follows_the_organisation_policy() {
    let (db, cw) = db_with_user("ngo-a", "caseworker").await;
    let s = &db.store;
    let (_, sup) = org_and_user(&db, "ngo-a", "supervisor").await;
    let (_, vt) = org_and_user(&db, "vt-centre", "caseworker").await;
    let (_, vt_sup) = org_and_user(&db, "vt-centre", "supervisor").await;
    let (cw, sup, vt, vt_sup) = (cw.actor(), sup.actor(), vt.actor(), vt_sup.actor());
    let case = new_case(s, &cw, ["Ayla", "Mammadova", "1995-04-02", "+994501112233"]).await;
    accepted_vt_referral(s, &cw, &vt, case.id, "vt-centre").await;

    // Only an administrator or supervisor sets it.
    let e = s
        .set_caseload_display_name(&ctx(&cw), DisplayName::Initials)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden(_)));

    s.set_caseload_display_name(&ctx(&sup), DisplayName::Pseudonym)
        .await
        .unwrap();
    let p = list(s, &cw, CaseloadParams::default()).await;
    let name = row(&p, case.id).display_name.clone().expect("a pseudonym");
    assert!(
        !name.contains("Ayla") && !name.contains("Mammadova"),
        "{name}"
    );

    // Initials are an identity read, audited as one.
    let reads = |s: &Store| {
        let pool = s.pool().clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM audit_log WHERE action = 'case.read_identity'",
            )
            .fetch_one(&pool)
            .await
            .expect("audit count")
        }
    };
    let before = reads(s).await;
    s.set_caseload_display_name(&ctx(&sup), DisplayName::Initials)
        .await
        .unwrap();
    let p = list(s, &cw, CaseloadParams::default()).await;
    assert_eq!(row(&p, case.id).display_name.as_deref(), Some("A.M."));
    assert_eq!(reads(s).await, before + 1, "one audited identity read");

    // The receiver's list follows its own organisation's policy (none until it chooses);
    // every referral grants the identity section, so its initials are an audited read too.
    let before = reads(s).await;
    let p = list(s, &vt, CaseloadParams::default()).await;
    assert_eq!(row(&p, case.id).display_name, None);
    assert_eq!(
        reads(s).await,
        before,
        "nothing decrypted under the policy none"
    );
    s.set_caseload_display_name(&ctx(&vt_sup), DisplayName::Initials)
        .await
        .unwrap();
    let p = list(s, &vt, CaseloadParams::default()).await;
    assert_eq!(row(&p, case.id).display_name.as_deref(), Some("A.M."));
    assert_eq!(reads(s).await, before + 1);
    let grant: String = sqlx::query_scalar(
        "SELECT access_grant FROM audit_log WHERE action = 'case.read_identity' ORDER BY seq DESC LIMIT 1",
    )
    .fetch_one(s.pool())
    .await
    .expect("the last identity read");
    assert_eq!(grant, "referral", "audited under the referral's grant");
}

#[tokio::test]
async fn caseload_api_and_screens() {
    let app = spawn_app().await;
    let db = &app.db;
    let (_, cw) = org_and_user(db, "ngo-a", "caseworker").await;
    let (_, other) = org_and_user(db, "ngo-c", "caseworker").await;
    let case = new_case(
        &db.store,
        &cw.actor(),
        ["Ayla", "Mammadova", "1995-04-02", "+994501112233"],
    )
    .await;
    let foreign = new_case(
        &db.store,
        &other.actor(),
        ["Sona", "Huseynova", "1988-02-02", "+994501112255"],
    )
    .await;
    let token = user_token(db, &cw).await;

    let (st, body) = api_call(&app, &token, "GET", "/caseload?sort=Newest", json!(null)).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let rows = body["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["id"], case.id.to_string());
    assert_eq!(rows[0]["stage"], "Contact");
    assert_eq!(rows[0]["next_steps"][0], "NoConsent");
    assert!(!body.to_string().contains(&foreign.id.to_string()));
    assert!(!body.to_string().contains("Mammadova"));

    let (st, body) = api_call(&app, &token, "GET", "/caseload?stage=Nowhere", json!(null)).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "stage", "{body}");

    // The screen: rows, filters as GET parameters, a refused filter beside its field.
    let (c, _) = web_session(&app, &cw.username, None).await;
    let (st, html) = page_get(&app, &c, "/cases?stage=Contact&needs_action=true").await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains(&format!("href=\"/cases/{}#consent\"", case.id)),
        "next action links to its section"
    );
    assert!(html.contains("id=\"caseload-filters\""));
    assert!(!html.contains(&foreign.id.to_string()));
    let (st, html) = page_get(&app, &c, "/cases?stage=Nowhere").await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"f-stage-error\""));
    assert!(!html.contains("Nowhere"), "the refused value is not echoed");

    // The case page: menu, progress with the current step, prompts linking to sections.
    let (st, html) = page_get(&app, &c, &format!("/cases/{}", case.id)).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("class=\"case-menu case-menu-wide\""));
    assert!(html.contains("<details class=\"case-menu case-menu-phone\">"));
    assert_eq!(html.matches("aria-current=\"step\"").count(), 1);
    assert!(html.contains("href=\"#screening\""));
    for anchor in ["case-summary", "consent", "screening", "case-timeline"] {
        assert!(
            html.contains(&format!("id=\"{anchor}\"")),
            "section #{anchor} exists"
        );
    }
}

/// The case page's menu and progress and the caseload list in a real browser, in az, ru and
/// en, at 1280 and 360 px: axe-clean, no sideways scrolling, screenshots kept
/// (`target/e2e-artifacts/caseload_browser_menu_and_progress/`).
#[tokio::test]
async fn caseload_browser_menu_and_progress() {
    use crate::kit::browser::{Catalogue, NARROW, WIDE, run};
    run("caseload_browser_menu_and_progress", |b, app| async move {
        let s = &app.db.store;
        let (_, cw) = org_and_user(&app.db, "org-a", "caseworker").await;
        let case = new_case(
            s,
            &cw.actor(),
            ["Ayla", "Mammadova", "1995-04-02", "+994501112233"],
        )
        .await;
        b.sign_in(&cw.username, None).await;
        for lang in ["az", "ru", "en"] {
            let t = Catalogue::load(lang);
            s.set_locale(cw.id, lang).await.expect("set_locale");

            b.open("/cases", &format!("caseload-{lang}")).await;
            assert_eq!(b.html_lang().await, lang);
            assert_eq!(b.count("#case-list tbody tr").await, 1);
            assert_eq!(
                b.text("#case-list td.stage").await,
                t.get("nav-stage-contact")
            );
            assert_eq!(
                b.text("#case-list td.next a").await,
                t.get("nav-prompt-noconsent")
            );
            b.check(&format!("caseload-{lang}")).await;
            b.narrow(&format!("caseload-{lang}")).await;

            b.open(&format!("/cases/{}", case.id), &format!("case-page-{lang}"))
                .await;
            let current = b.text("#case-stages li[aria-current=\"step\"]").await;
            assert_eq!(current, t.get("nav-stage-contact"));
            assert_eq!(b.count("#case-stages li").await, 6);
            assert!(
                b.count(".case-menu-wide a").await >= 8,
                "a menu entry per section"
            );
            assert_eq!(
                b.text("#next-steps li:first-child a").await,
                t.get("nav-prompt-noconsent")
            );
            b.check(&format!("case-page-{lang}")).await;
            // The menu takes the reader to the section.
            b.find(".case-menu-wide a[href=\"#case-timeline\"]")
                .await
                .click()
                .await
                .expect("click the menu");
            let hash = b.js("return location.hash;", vec![]).await;
            assert_eq!(hash, "#case-timeline");
            // On a phone the menu is the compact <details>, the wide one hidden.
            b.resize(NARROW).await;
            let shown = b
                .js(
                    "return [getComputedStyle(document.querySelector('.case-menu-wide')).display, \
                     getComputedStyle(document.querySelector('.case-menu-phone')).display];",
                    vec![],
                )
                .await;
            assert_eq!(shown, json!(["none", "block"]));
            b.resize(WIDE).await;
            b.narrow(&format!("case-page-{lang}")).await;
        }
    })
    .await;
}
