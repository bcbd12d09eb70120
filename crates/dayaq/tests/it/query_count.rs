//! Authorise once: a case-scoped write loads the case's access facts (`Store::case_facts`:
//! the case row, referral grants, break-glass holders) exactly once, however many policy
//! questions it asks (update, then a section, then closing …): the kernel's `CaseAccess`
//! carries the facts down. Before the kernel, a trafficking-event write loaded them three
//! times (≈ 9 SELECTs before the write). Both engines via `testkit`.

use crate::kit::{ctx, db_with_user, org_and_user, sample_case};
use dayaq_domain::record::EventInput;
use dayaq_storage::Store;
use dayaq_storage::assistance::ServiceInput;
use dayaq_storage::followup::LogInput;
use time::format_description::well_known::Rfc3339;

/// Runs `f` and returns how many times it loaded case facts.
async fn loads<T>(s: &Store, f: impl AsyncFnOnce() -> T) -> (T, u64) {
    let before = s.case_facts_loads();
    let out = f().await;
    (out, s.case_facts_loads() - before)
}

#[tokio::test]
async fn case_scoped_writes_check_access_once() {
    let (db, user) = db_with_user("ngo-qc", "caseworker").await;
    let me = user.actor();
    let s = &db.store;
    let case = s
        .create_case(
            &ctx(&me),
            &sample_case("Aysel", "Q", "1991-01-01", "+994500000111"),
        )
        .await
        .unwrap()
        .id;

    // Trafficking event: UpdateCase and ReadSection(victim context) on one load.
    let (r, n) = loads(s, async || {
        s.add_trafficking_event(
            &ctx(&me),
            case,
            EventInput {
                kind: "Recruitment".into(),
                description: Some("met the recruiter".into()),
                ..Default::default()
            },
        )
        .await
    })
    .await;
    r.unwrap();
    assert_eq!(
        n, 1,
        "trafficking-event write: access facts loaded {n} times"
    );

    // A service delivered.
    let (r, n) = loads(s, async || {
        s.add_service(
            &ctx(&me),
            case,
            &ServiceInput {
                service: "Medical".into(),
                provider_org: None,
                started_on: dayaq_domain::assistance::fmt_date(
                    time::OffsetDateTime::now_utc().date(),
                ),
                ended_on: None,
                outcome: "Completed".into(),
                details: Some("check-up".into()),
                cost_minor: 0,
                funding_source_id: None,
                plan_action_id: None,
            },
        )
        .await
    })
    .await;
    r.unwrap();
    assert_eq!(n, 1, "service write: access facts loaded {n} times");

    // A follow-up contact.
    let (r, n) = loads(s, async || {
        s.log_contact(
            &ctx(&me),
            case,
            &LogInput {
                task_id: None,
                channel: "phone".into(),
                at: time::OffsetDateTime::now_utc().format(&Rfc3339).unwrap(),
                reached: true,
                justification: Some("she called the hotline".into()),
            },
        )
        .await
    })
    .await;
    r.unwrap();
    assert_eq!(n, 1, "follow-up contact: access facts loaded {n} times");

    // A refused write is checked once as well (and answers 404 to another organisation).
    let (_, stranger) = org_and_user(&db, "ngo-qc2", "caseworker").await;
    let them = stranger.actor();
    let (r, n) = loads(s, async || {
        s.add_trafficking_event(
            &ctx(&them),
            case,
            EventInput {
                kind: "Recruitment".into(),
                ..Default::default()
            },
        )
        .await
    })
    .await;
    assert!(matches!(r, Err(dayaq_storage::StoreError::NotFound)));
    assert_eq!(n, 1);
    db.cleanup().await;
}
