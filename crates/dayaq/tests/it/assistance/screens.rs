use crate::kit::{
    csrf_field, fetch_text, new_case, org_and_user, sign_in, spawn_app, submit, web_client,
};
use reqwest::StatusCode;

#[tokio::test]
async fn case_page_shows_assessment_and_plan_forms() {
    let app = spawn_app().await;
    let (_, user) = org_and_user(&app.db, "ngo-ui", "caseworker").await;
    let actor = user.actor();
    let case = new_case(
        &app.db.store,
        &actor,
        ["Ulviyya", "Karimova", "1994-04-04", "+994507778899"],
    )
    .await
    .id;
    let c = web_client();
    let base = &app.base_url;
    sign_in(&c, base, &user.username).await;
    let html = fetch_text(&c, format!("{base}/cases/{case}")).await;
    assert!(
        html.contains("id=\"assistance\""),
        "the assistance section is on the case page"
    );
    assert!(html.contains("id=\"asst-no-plan\""));
    let csrf = csrf_field(&html);
    let r = submit(
        &c,
        format!("{base}/cases/{case}/assistance/assessment"),
        &[
            ("csrf", csrf.as_str()),
            ("sev-Housing", "High"),
            ("notes-Housing", "no place to stay"),
            ("sev-Safety", ""),
            ("priorities", "my daughter's school"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = submit(
        &c,
        format!("{base}/cases/{case}/assistance/plan"),
        &[
            ("csrf", csrf.as_str()),
            ("spl_type", "SocialCare"),
            ("objectives", "a safe home"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let html = fetch_text(&c, format!("{base}/cases/{case}")).await;
    assert!(html.contains("no place to stay"));
    assert!(
        html.contains("my daughter&#39;s school")
            || html.contains("my daughter's school")
            || html.contains("my daughter&#x27;s school")
    );
    assert!(
        html.contains("id=\"asst-gaps\""),
        "the housing need has no action yet"
    );
    // A bad severity comes back as a field error on the page.
    let r = submit(
        &c,
        format!("{base}/cases/{case}/assistance/assessment"),
        &[("csrf", csrf.as_str()), ("sev-Housing", "Urgent")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        !html.contains("Urgent"),
        "submitted values are not echoed in errors"
    );
}
