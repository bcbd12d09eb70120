//! Printable documents (issue 21 §2): the referral letter, the rehabilitation plan and the
//! consent form from the API in az, ru and en, read back with `pdftotext`: the expected letters
//! (ə ğ ı ö ü ş ç, Cyrillic) and values, only what the referral covers, the policy, the audit,
//! a neutral file name; and one page of each shown in the browser, not blank.

use crate::kit::browser::run;
use crate::kit::{
    TestApp, accepted_vt_referral, api_request, ctx, new_case, org_and_user, page_get,
    pdf_first_page_png, pdf_text, spawn_app, user_token, web_session,
};
use dayaq_http::i18n::{Lang, Tr};
use dayaq_storage::assistance::{ActionInput, GoalInput, PlanInput};
use dayaq_storage::rules::PrioritiesInput;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use serde_json::{Value, json};
use uuid::Uuid;

const FIRST: &str = "Aygün";
const SECOND: &str = "Şükürova";
const PHONE: &str = "+994501234567";
const HER_WORDS: &str = "Qızımla yenidən görüşmək, çörək sexində işləmək";
const GOAL: &str = "Peşə kursunu bitirmək, sağlam qalmaq";

/// Organisation A's case of Aygün Şükürova with a vocational-training referral to B (accepted:
/// it covers identity, plan and services, NOT contact details nor the victim context), a plan
/// with her words, a goal and an action; the ids and the tokens of A's and B's case workers.
struct World {
    app: TestApp,
    case: Uuid,
    referral: Uuid,
    plan: Uuid,
    consent: Uuid,
    a: String,
    b: String,
    c: String,
}

async fn world() -> World {
    let app = spawn_app().await;
    let store = &app.db.store;
    let (_, cw) = org_and_user(&app.db, "doc-a", "caseworker").await;
    let (_, rx) = org_and_user(&app.db, "doc-b", "caseworker").await;
    let (_, other) = org_and_user(&app.db, "doc-c", "caseworker").await;
    let (cwa, rxa) = (cw.actor(), rx.actor());
    let case = new_case(store, &cwa, [FIRST, SECOND, "1990-03-04", PHONE])
        .await
        .id;
    accepted_vt_referral(store, &cwa, &rxa, case, "doc-b").await;
    let referral = store.case_referrals(&ctx(&cwa), case).await.unwrap()[0].id;
    let consent = store.consents(&ctx(&cwa), case).await.unwrap()[0].id;
    let plan = store
        .create_plan(
            &ctx(&cwa),
            case,
            &PlanInput {
                spl_type: "Livelihood".into(),
                objectives: Some("Müstəqil gəlir".into()),
                planned_end: Some("2027-06-30".into()),
                review_on: None,
            },
        )
        .await
        .unwrap();
    let goal = store
        .add_goal(
            &ctx(&cwa),
            case,
            plan,
            &GoalInput {
                term: "LongTerm".into(),
                domain: None,
                description: GOAL.into(),
            },
        )
        .await
        .unwrap();
    store
        .add_action(
            &ctx(&cwa),
            case,
            plan,
            &ActionInput {
                goal_id: Some(goal),
                domain: None,
                service: "VocationalTraining".into(),
                responsible_org: Some("doc-b".into()),
                due_on: Some("2027-02-01".into()),
                status: None,
            },
        )
        .await
        .unwrap();
    store
        .set_plan_priorities(
            &ctx(&cwa),
            case,
            plan,
            &PrioritiesInput {
                words: HER_WORDS.into(),
            },
        )
        .await
        .unwrap();
    World {
        a: user_token(&app.db, &cw).await,
        b: user_token(&app.db, &rx).await,
        c: user_token(&app.db, &other).await,
        app,
        case,
        referral,
        plan,
        consent,
    }
}

/// GET `path` as `token`: the status, the headers' content type and disposition, the body.
async fn get(w: &World, token: &str, path: &str) -> (StatusCode, String, String, Vec<u8>) {
    let r = api_request(&w.app, Some(token), "GET", path)
        .send()
        .await
        .unwrap();
    let header = |h| {
        r.headers()
            .get(h)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (ct, cd) = (header(CONTENT_TYPE), header(CONTENT_DISPOSITION));
    (r.status(), ct, cd, r.bytes().await.unwrap().to_vec())
}

/// The PDF at `path` in `lang`, checked as a download (type, attachment, neutral name), as text.
async fn pdf_in(w: &World, token: &str, path: &str, lang: &str) -> (Vec<u8>, String) {
    let (s, ct, cd, body) = get(w, token, &format!("{path}?lang={lang}")).await;
    assert_eq!(
        s,
        StatusCode::OK,
        "{path} {lang}: {}",
        String::from_utf8_lossy(&body)
    );
    assert_eq!(ct, "application/pdf");
    assert!(cd.starts_with("attachment; filename=\""), "{cd}");
    assert!(cd.ends_with(".pdf\""), "{cd}");
    for personal in [FIRST, SECOND, "doc-a", "doc-b"] {
        assert!(!cd.contains(personal), "{cd}");
    }
    assert!(body.starts_with(b"%PDF-"));
    let text = pdf_text(&body);
    (body, text)
}

/// The letters each language must show (Azerbaijani Latin, Cyrillic).
fn assert_letters(lang: &str, text: &str) {
    match lang {
        "az" => {
            for c in ['ə', 'ğ', 'ı', 'ö', 'ü', 'ş', 'ç'] {
                assert!(text.contains(c), "{c} missing in:\n{text}");
            }
        }
        "ru" => assert!(
            text.chars().filter(|c| ('а'..='я').contains(c)).count() > 50,
            "{text}"
        ),
        _ => {}
    }
}

fn tr(lang: &str) -> Tr {
    Tr::new(Lang::parse(lang).unwrap())
}

async fn audit_count(w: &World, kind: &str) -> i64 {
    let like = format!("kind={kind} %");
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'document.printed' AND detail LIKE $1 AND case_id = $2",
    )
    .bind(like)
    .bind(w.case.to_string())
    .fetch_one(w.app.db.store.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn referral_letter_prints_only_the_covered_sections_in_three_languages() {
    let w = world().await;
    let path = format!("/referrals/{}/pdf", w.referral);
    for lang in ["az", "ru", "en"] {
        let t = tr(lang);
        for token in [&w.a, &w.b] {
            let (_, text) = pdf_in(&w, token, &path, lang).await;
            assert_letters(lang, &text);
            // The letter, in the language, with the referral and the covered record.
            for expected in [
                t.get("doc-referral-title"),
                t.get("service-vocationaltraining"),
                "Organisation doc-a".to_string(),
                "Organisation doc-b".to_string(),
                FIRST.to_string(),
                SECOND.to_string(),
                t.get("doc-sign-receiver"),
            ] {
                assert!(
                    text.contains(&expected),
                    "{lang}: {expected} missing:\n{text}"
                );
            }
            // Not covered by vocational training: contact details and the victim context.
            assert!(
                !text.contains(PHONE) && !text.contains("501234567"),
                "{text}"
            );
            let form = t.vocab("vic_TypeOfExploitation", "SexualExploitation");
            assert!(!text.contains(&form), "{lang}: {form} printed:\n{text}");
            assert!(!text.contains(&t.get("field-prs-mobilephone")), "{text}");
        }
    }
    // Printed six times, audited six times, with the grant of the reader.
    assert_eq!(audit_count(&w, "referral_letter").await, 6);
    // A third organisation: not found, nothing printed or audited.
    let (s, _, _, body) = get(&w, &w.c, &path).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(!String::from_utf8_lossy(&body).contains(FIRST));
    assert_eq!(audit_count(&w, "referral_letter").await, 6);
    // A language that is not one of the three: 422 naming `lang`.
    let (s, _, _, body) = get(&w, &w.a, &format!("{path}?lang=de")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert!(v.to_string().contains("\"lang\""), "{v}");
    assert_eq!(audit_count(&w, "referral_letter").await, 6);
    // Without `lang`: the account's language (az by default).
    let (s, _, _, body) = get(&w, &w.a, &path).await;
    assert_eq!(s, StatusCode::OK);
    assert!(pdf_text(&body).contains(&tr("az").get("doc-referral-title")));
}

#[tokio::test]
async fn plan_and_consent_forms_print_in_three_languages() {
    let w = world().await;
    let plan = format!("/cases/{}/plans/{}/pdf", w.case, w.plan);
    let consent = format!("/cases/{}/consents/{}/pdf", w.case, w.consent);
    for lang in ["az", "ru", "en"] {
        let t = tr(lang);
        let (_, text) = pdf_in(&w, &w.a, &plan, lang).await;
        assert_letters(lang, &text);
        for expected in [
            t.get("doc-plan-title"),
            t.get("rules-her-priorities"),
            HER_WORDS.to_string(),
            GOAL.to_string(),
            "Müstəqil gəlir".to_string(),
            t.get("service-vocationaltraining"),
            "Organisation doc-b".to_string(),
            "2027-02-01".to_string(),
            t.get("doc-sign-survivor"),
            t.get("doc-sign-supervisor"),
        ] {
            assert!(
                text.contains(&expected),
                "{lang}: {expected} missing:\n{text}"
            );
        }
        let (_, text) = pdf_in(&w, &w.a, &consent, lang).await;
        assert_letters(lang, &text);
        for expected in [
            t.get("doc-consent-title"),
            t.get("consent-purpose-sharingwithorganisation"),
            t.get("consent-given"),
            "Organisation doc-b".to_string(),
            t.get("doc-sign-survivor"),
        ] {
            assert!(
                text.contains(&expected),
                "{lang}: {expected} missing:\n{text}"
            );
        }
    }
    assert_eq!(audit_count(&w, "plan").await, 3);
    assert_eq!(audit_count(&w, "consent").await, 3);
    // The receiver: the referral covers the plan (vocational training), so it may print it;
    // a third organisation may print neither.
    let (s, _, _, _) = get(&w, &w.b, &plan).await;
    assert_eq!(s, StatusCode::OK);
    for path in [&plan, &consent] {
        let (s, _, _, body) = get(&w, &w.c, path).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
        assert!(!String::from_utf8_lossy(&body).contains(HER_WORDS));
    }
    // Another case's plan id under this case: not found.
    let (s, _, _, _) = get(
        &w,
        &w.a,
        &format!("/cases/{}/plans/{}/pdf", w.case, Uuid::new_v4()),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_case_page_links_each_printable_document() {
    let w = world().await;
    let (c, _) = web_session(&w.app, "doc-a-caseworker", None).await;
    let (s, html) = page_get(&w.app, &c, &format!("/cases/{}", w.case)).await;
    assert_eq!(s, StatusCode::OK);
    for href in [
        format!("/api/v1/referrals/{}/pdf", w.referral),
        format!("/api/v1/cases/{}/plans/{}/pdf", w.case, w.plan),
        format!("/api/v1/cases/{}/consents/{}/pdf", w.case, w.consent),
    ] {
        assert!(html.contains(&format!("href=\"{href}\"")), "{href}");
    }
    // The link works with the screen's session (no token), as a download.
    let r = c
        .get(format!(
            "{}/api/v1/cases/{}/plans/{}/pdf",
            w.app.base_url, w.case, w.plan
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"%PDF-"));
}

/// One page of each kind, rendered by poppler and shown in Chromium: the image loads and is
/// not blank (enough dark pixels for a page of text).
#[tokio::test]
async fn browser_shows_one_page_of_each_document_not_blank() {
    run("documents_pdf_pages", |b, _app| async move {
        let w = world().await;
        let pages = [
            format!("/referrals/{}/pdf", w.referral),
            format!("/cases/{}/plans/{}/pdf", w.case, w.plan),
            format!("/cases/{}/consents/{}/pdf", w.case, w.consent),
        ];
        b.open("/login", "sign-in page").await;
        for (i, path) in pages.iter().enumerate() {
            let (pdf, _) = pdf_in(&w, &w.a, path, ["az", "ru", "en"][i]).await;
            let png = pdf_first_page_png(&pdf);
            let dark = b
                .js(
                    r#"const bytes = arguments[0];
                    let s = ''; for (const x of bytes) s += String.fromCharCode(x);
                    document.body.innerHTML = '';
                    const img = document.createElement('img');
                    img.id = 'page'; img.alt = 'page 1';
                    img.src = 'data:image/png;base64,' + btoa(s);
                    document.body.appendChild(img);
                    return img.src.length;"#,
                    vec![json!(png)],
                )
                .await;
            assert!(dark.as_u64().unwrap_or(0) > 1000);
            let mut dark = 0;
            for _ in 0..50 {
                let v = b
                    .js(
                        r#"const img = document.getElementById('page');
                        if (!img.complete || img.naturalWidth === 0) return -1;
                        const c = document.createElement('canvas');
                        c.width = img.naturalWidth; c.height = img.naturalHeight;
                        const g = c.getContext('2d'); g.drawImage(img, 0, 0);
                        const d = g.getImageData(0, 0, c.width, c.height).data;
                        let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] < 128) n++;
                        return n;"#,
                        vec![],
                    )
                    .await;
                dark = v.as_i64().unwrap_or(-1);
                if dark >= 0 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            assert!(dark > 2000, "{path}: {dark} dark pixels");
            b.shot_named(&format!("page-{i}")).await;
        }
    })
    .await;
}
