//! Storage tests. Every test opens its own store through `kit::test_db`, so the whole
//! module runs on SQLite, or on PostgreSQL when `DAYAQ_TEST_DATABASE_URL` is set.
//!
//! Why this file is over 800 lines: sixteen independent tests of what every area relies on
//! (schema of both engines, access, erasure, the audit chain's tamper checks, backups, key
//! rotation, identity at rest), each opening its own store; the audit checks alone are eight.

use crate::kit::{
    PASSWORD, SOURCE, TestDb, ctx, engine_name, new_case, now, org_and_user, pg_url, sample_case,
    sqlite_db, test_db, test_db_with_key, warn_if_pg_skipped,
};
use dayaq_domain::case::{CaseInput, Identity};
use dayaq_storage::audit::{AuditEntry, AuditRow, Tamper};
use dayaq_storage::backup::{BackupKey, RestoreKey};
use dayaq_storage::cases::SearchQuery;
use dayaq_storage::schema::expected_schema;
use dayaq_storage::users::LoginCheck;
use dayaq_storage::{Engine, Store, StoreError};
use std::path::{Path, PathBuf};
use uuid::Uuid;

const BACKUP_PASSPHRASE: &str = "a long test backup passphrase";

fn name_dob(first: &str, second: &str, birth: &str) -> SearchQuery {
    SearchQuery {
        first_name: Some(first.into()),
        second_name: Some(second.into()),
        birthdate: Some(birth.into()),
        ..Default::default()
    }
}

fn by_phone(phone: &str) -> SearchQuery {
    SearchQuery {
        phone: Some(phone.into()),
        ..Default::default()
    }
}

async fn count(db: &TestDb, sql: &'static str, id: Uuid) -> i64 {
    sqlx::query_scalar(sql)
        .bind(id.to_string())
        .fetch_one(db.store.pool())
        .await
        .expect(sql)
}

/// Both dumps sorted: `logical_dump` orders by the first column only, so rows that share it
/// (e.g. several `case_values` of one case) may come back in either order.
async fn sorted_dump(store: &Store) -> Vec<String> {
    let mut v: Vec<String> = store
        .logical_dump()
        .await
        .expect("logical_dump")
        .iter()
        .map(|r| r.to_string())
        .collect();
    v.sort();
    v
}

/// Shown by nextest for every run (see `.config/nextest.toml`): which engine is under test.
#[tokio::test]
async fn backend_in_use() {
    warn_if_pg_skipped();
    let db = test_db().await;
    eprintln!(
        "storage tests run on: {} (DAYAQ_TEST_DATABASE_URL {})",
        db.store.engine().name(),
        if pg_url().is_some() { "set" } else { "NOT set" }
    );
    assert_eq!(db.store.engine().name(), engine_name());
    db.cleanup().await;
}

// --- schema ---------------------------------------------------------------------------------

#[tokio::test]
async fn schema_matches_expected_and_both_engines_agree() {
    let db = test_db().await;
    let live = db.store.live_schema().await.unwrap();
    assert_eq!(
        live,
        expected_schema(),
        "{} live schema differs from schema::TABLES",
        engine_name()
    );

    // Both migration directories carry the same versions (and descriptions).
    let versions = |e: Engine| -> Vec<(i64, String)> {
        e.migrator()
            .iter()
            .map(|m| (m.version, m.description.to_string()))
            .collect()
    };
    assert!(!versions(Engine::Sqlite).is_empty());
    assert_eq!(versions(Engine::Sqlite), versions(Engine::Postgres));
    assert_eq!(versions(db.store.engine()), versions(Engine::Sqlite));

    // Every migration was applied to this database.
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(db.store.pool())
            .await
            .unwrap();
    let known: Vec<i64> = versions(db.store.engine())
        .into_iter()
        .map(|v| v.0)
        .collect();
    assert_eq!(applied, known);

    if pg_url().is_some() {
        assert_eq!(db.store.engine(), Engine::Postgres);
        let lite = sqlite_db().await;
        assert_eq!(lite.store.engine(), Engine::Sqlite);
        assert_eq!(
            lite.store.live_schema().await.unwrap(),
            live,
            "SQLite and PostgreSQL schemas differ"
        );
        lite.cleanup().await;
    }
    db.cleanup().await;
}

// --- case isolation -------------------------------------------------------------------------

#[tokio::test]
async fn another_organisation_cannot_reach_a_case() {
    let db = test_db().await;
    let s = &db.store;
    let (org_a, alice) = org_and_user(&db, "org-a", "caseworker").await;
    let (_org_b, bob) = org_and_user(&db, "org-b", "caseworker").await;
    let (_, bob_sup) = org_and_user(&db, "org-b", "supervisor").await;
    let (a, b, b_sup) = (alice.actor(), bob.actor(), bob_sup.actor());

    let case = sample_case("Leyla", "Hasanova", "1999-04-12", "+994 50 111 22 33");
    let created = s.create_case(&ctx(&a), &case).await.unwrap();
    let id = created.id;
    // Org B has a case of its own, so its lists are not trivially empty.
    let own_b = new_case(
        s,
        &b,
        ["Other", "Person", "1990-01-01", "+994 50 999 88 77"],
    )
    .await;

    for reveal in [false, true] {
        assert!(
            matches!(
                s.get_case(&ctx(&b), id, reveal).await,
                Err(StoreError::NotFound)
            ),
            "get_case(reveal={reveal}) from another organisation must be NotFound"
        );
    }
    let changed = sample_case("Hacked", "Name", "2000-01-01", "+994 50 000 00 00");
    assert!(matches!(
        s.update_case(&ctx(&b), id, created.version, &changed, true)
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.erase_case(&ctx(&b), id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.erase_case(&ctx(&b_sup), id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.case_events(&ctx(&b), id).await,
        Err(StoreError::NotFound)
    ));

    let listed: Vec<Uuid> = s
        .list_cases(&ctx(&b), 500, 0)
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(listed, vec![own_b.id]);
    assert_eq!(s.count_cases(&ctx(&b)).await.unwrap(), 1);

    // Issue 14 item 11: one identifier alone (name + birth date, or a phone) never reveals a
    // registration in another organisation; name + birth date with a phone does.
    for q in [
        name_dob("Leyla", "Hasanova", "1999-04-12"),
        by_phone("+994501112233"),
    ] {
        let found = s.search_cases(&ctx(&b), &q).await.unwrap();
        assert!(found.cases.is_empty());
        assert!(found.possible_matches_elsewhere.is_empty());
    }
    let found = s
        .search_cases(
            &ctx(&b),
            &SearchQuery {
                phone: Some("+994501112233".into()),
                ..name_dob("Leyla", "Hasanova", "1999-04-12")
            },
        )
        .await
        .unwrap();
    assert!(found.cases.is_empty());
    assert_eq!(found.possible_matches_elsewhere, vec![org_a.name.clone()]);
    let by_number = SearchQuery {
        case_number: Some(created.case_number.clone()),
        ..Default::default()
    };
    let found = s.search_cases(&ctx(&b), &by_number).await.unwrap();
    assert!(found.cases.is_empty());

    // The owner still sees the case untouched, and finds it by name (with varied spacing/case).
    let after = s.get_case(&ctx(&a), id, true).await.unwrap();
    assert_eq!(after.version, created.version);
    assert_eq!(after.identity.as_ref().unwrap(), &case.identity);
    let found = s
        .search_cases(&ctx(&a), &name_dob("  leyla ", "HASANOVA", "1999-04-12"))
        .await
        .unwrap();
    assert_eq!(
        found.cases.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![id]
    );
    assert!(found.possible_matches_elsewhere.is_empty());
    let listed: Vec<Uuid> = s
        .list_cases(&ctx(&a), 500, 0)
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(listed, vec![id]);

    // The denials were audited.
    let denied = s
        .audit_recent(1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.action == "access.denied" && r.case_id == id.to_string())
        .count();
    assert!(
        denied >= 5,
        "denied accesses must be audited, found {denied}"
    );
    db.cleanup().await;
}

// --- optimistic concurrency -----------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_updates_one_wins_one_conflicts() {
    let db = test_db().await;
    let s = &db.store;
    let (_, u1) = org_and_user(&db, "org-a", "caseworker").await;
    let (_, u2) = org_and_user(&db, "org-a", "supervisor").await;
    let (a1, a2) = (u1.actor(), u2.actor());
    let created = new_case(
        s,
        &a1,
        ["Nigar", "Aliyeva", "2001-02-03", "+994 55 123 45 67"],
    )
    .await;
    let v = created.version;
    let c1 = sample_case("Nigar", "Aliyeva-One", "2001-02-03", "+994 55 123 45 67");
    let c2 = sample_case("Nigar", "Aliyeva-Two", "2001-02-03", "+994 55 123 45 67");
    let (x1, x2) = (ctx(&a1), ctx(&a2));
    let (r1, r2) = tokio::join!(
        s.update_case(&x1, created.id, v, &c1, true),
        s.update_case(&x2, created.id, v, &c2, true)
    );
    let (winner, loser_err) = match (r1, r2) {
        (Ok(_), Err(e)) => (&c1, e),
        (Err(e), Ok(_)) => (&c2, e),
        (Ok(_), Ok(_)) => {
            panic!("both concurrent updates with version {v} succeeded: a lost update")
        }
        (Err(e1), Err(e2)) => panic!("both concurrent updates failed: {e1} / {e2}"),
    };
    assert!(
        matches!(loser_err, StoreError::Conflict),
        "loser must get Conflict, got {loser_err:?}"
    );
    let now_case = s.get_case(&ctx(&a1), created.id, true).await.unwrap();
    assert_eq!(now_case.version, v + 1);
    assert_eq!(now_case.identity.as_ref().unwrap(), &winner.identity);
    // A stale version stays refused afterwards.
    assert!(matches!(
        s.update_case(&ctx(&a1), created.id, v, &c1, true).await,
        Err(StoreError::Conflict)
    ));
    db.cleanup().await;
}

// --- erase (crypto-shredding) ---------------------------------------------------------------

#[tokio::test]
async fn erase_shreds_the_case() {
    let db = test_db().await;
    let s = &db.store;
    let (_, sup) = org_and_user(&db, "org-a", "supervisor").await;
    let (_, cw) = org_and_user(&db, "org-a", "caseworker").await;
    let (a, w) = (sup.actor(), cw.actor());
    let case = sample_case("Samira", "Quliyeva", "1995-06-07", "+994 70 555 44 33");
    let created = s.create_case(&ctx(&a), &case).await.unwrap();
    let keep = new_case(s, &a, ["Kept", "Case", "1994-01-01", "+994 70 555 00 00"]).await;
    let id = created.id;
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM case_keys WHERE case_id = $1", id).await,
        1
    );
    assert!(
        count(
            &db,
            "SELECT COUNT(*) FROM blind_index WHERE case_id = $1",
            id
        )
        .await
            >= 2
    );

    // A caseworker may not erase; a supervisor may.
    assert!(matches!(
        s.erase_case(&ctx(&w), id).await,
        Err(StoreError::Forbidden(_))
    ));
    s.erase_case(&ctx(&a), id).await.unwrap();

    for reveal in [false, true] {
        assert!(matches!(
            s.get_case(&ctx(&a), id, reveal).await,
            Err(StoreError::NotFound)
        ));
    }
    assert!(matches!(
        s.update_case(&ctx(&a), id, created.version, &case, true)
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM case_keys WHERE case_id = $1", id).await,
        0
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM blind_index WHERE case_id = $1",
            id
        )
        .await,
        0
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM cases WHERE id = $1 AND identity IS NULL AND closure IS NULL AND erased_at IS NOT NULL", id).await,
        1,
        "the tombstone keeps no ciphertext"
    );
    for q in [
        name_dob("Samira", "Quliyeva", "1995-06-07"),
        by_phone("+994705554433"),
    ] {
        let r = s.search_cases(&ctx(&a), &q).await.unwrap();
        assert!(
            r.cases.is_empty(),
            "erased case still found by the blind index"
        );
        assert!(r.possible_matches_elsewhere.is_empty());
    }
    let listed: Vec<Uuid> = s
        .list_cases(&ctx(&a), 500, 0)
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(listed, vec![keep.id]);
    // The other case is unaffected.
    assert!(
        s.get_case(&ctx(&a), keep.id, true)
            .await
            .unwrap()
            .identity
            .is_some()
    );
    // The audit chain records the erasure and is intact.
    let rows = s.audit_recent(1000).await.unwrap();
    assert!(
        rows.iter()
            .any(|r| r.action == "case.erase" && r.case_id == id.to_string())
    );
    assert!(s.audit_verify().await.unwrap().problems.is_empty());
    db.cleanup().await;
}

// --- audit chain ----------------------------------------------------------------------------

const AUDIT_ROWS: i64 = 6;

/// A fresh store whose audit log holds exactly rows 1..=AUDIT_ROWS (oldest first).
async fn audit_fixture() -> (TestDb, Vec<AuditRow>) {
    let db = test_db().await;
    for i in 1..=AUDIT_ROWS {
        let mut e = AuditEntry::new("test.event", "success");
        e.actor_user = Uuid::new_v4().to_string();
        e.source = SOURCE.into();
        e.detail = format!("n={i}");
        db.store.audit(e, now()).await.unwrap();
    }
    let mut rows = db.store.audit_recent(100).await.unwrap();
    rows.reverse();
    assert_eq!(
        rows.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (1..=AUDIT_ROWS).collect::<Vec<_>>()
    );
    let report = db.store.audit_verify().await.unwrap();
    assert_eq!((report.rows, report.problems), (AUDIT_ROWS, vec![]));
    (db, rows)
}

async fn problems(db: &TestDb) -> Vec<Tamper> {
    db.store.audit_verify().await.unwrap().problems
}

/// The chain hash of an audit row, computed independently (SHA-256 over length-prefixed fields).
fn chain_hash(r: &AuditRow) -> String {
    let mut buf = Vec::new();
    for part in [
        r.seq.to_string().as_str(),
        r.at.to_string().as_str(),
        &r.actor_user,
        &r.actor_org,
        &r.action,
        &r.outcome,
        &r.case_id,
        &r.source,
        &r.detail,
        &r.prev_hash,
    ] {
        buf.extend_from_slice(&(part.len() as u64).to_be_bytes());
        buf.extend_from_slice(part.as_bytes());
    }
    // The grant (migration 0023) is hashed after the other fields, only when not empty.
    if !r.access_grant.is_empty() {
        buf.extend_from_slice(&(r.access_grant.len() as u64).to_be_bytes());
        buf.extend_from_slice(r.access_grant.as_bytes());
    }
    dayaq_storage::crypto::sha256_hex(&buf)
}

async fn insert_audit_row(db: &TestDb, r: &AuditRow) {
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor_user, actor_org, action, outcome, case_id, source, \
         detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(r.seq)
    .bind(r.at)
    .bind(&r.actor_user)
    .bind(&r.actor_org)
    .bind(&r.action)
    .bind(&r.outcome)
    .bind(&r.case_id)
    .bind(&r.source)
    .bind(&r.detail)
    .bind(&r.prev_hash)
    .bind(&r.hash)
    .execute(db.store.pool())
    .await
    .unwrap();
}

async fn exec(db: &TestDb, sql: &'static str) {
    sqlx::query(sql).execute(db.store.pool()).await.expect(sql);
}

#[tokio::test]
async fn audit_untouched_log_verifies() {
    let db = test_db().await;
    let s = &db.store;
    let (_, u) = org_and_user(&db, "org-a", "caseworker").await;
    let (_, v) = org_and_user(&db, "org-b", "caseworker").await;
    let a = u.actor();
    let c = new_case(
        s,
        &a,
        ["Aysel", "Mammadova", "1998-09-09", "+994 51 222 33 44"],
    )
    .await;
    s.get_case(&ctx(&a), c.id, true).await.unwrap();
    s.search_cases(&ctx(&a), &name_dob("Aysel", "Mammadova", "1998-09-09"))
        .await
        .unwrap();
    let _ = s.get_case(&ctx(&v.actor()), c.id, false).await;
    assert!(matches!(
        s.check_password("org-a-caseworker", "wrong password!!", SOURCE, now())
            .await
            .unwrap(),
        LoginCheck::Invalid
    ));
    let report = s.audit_verify().await.unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let rows = s.audit_recent(1000).await.unwrap();
    assert_eq!(report.rows, rows.len() as i64);
    assert!(
        report.rows >= 7,
        "expected the operations above to be audited, got {}",
        report.rows
    );
    // Rows form one chain from the genesis hash.
    let mut asc = rows.clone();
    asc.reverse();
    assert_eq!(asc[0].prev_hash, dayaq_storage::audit::GENESIS);
    for w in asc.windows(2) {
        assert_eq!(w[1].prev_hash, w[0].hash);
        assert_eq!(w[1].seq, w[0].seq + 1);
    }
    for r in &asc {
        assert_eq!(chain_hash(r), r.hash, "row {} hash", r.seq);
    }
    db.cleanup().await;
}

#[tokio::test]
async fn audit_detects_an_edited_row() {
    let (db, _) = audit_fixture().await;
    exec(
        &db,
        "UPDATE audit_log SET detail = 'n=edited' WHERE seq = 3",
    )
    .await;
    assert_eq!(problems(&db).await, vec![Tamper::Edited { seq: 3 }]);
    db.cleanup().await;
}

#[tokio::test]
async fn audit_detects_a_deleted_middle_row() {
    let (db, _) = audit_fixture().await;
    exec(&db, "DELETE FROM audit_log WHERE seq = 3").await;
    assert_eq!(
        problems(&db).await,
        vec![Tamper::Deleted {
            after_seq: 2,
            next_seq: 4
        }]
    );
    db.cleanup().await;
}

#[tokio::test]
async fn audit_detects_reordered_rows() {
    let (db, _) = audit_fixture().await;
    // Swap rows 3 and 4.
    exec(&db, "UPDATE audit_log SET seq = -4 WHERE seq = 4").await;
    exec(&db, "UPDATE audit_log SET seq = 4 WHERE seq = 3").await;
    exec(&db, "UPDATE audit_log SET seq = 3 WHERE seq = -4").await;
    assert_eq!(
        problems(&db).await,
        vec![
            Tamper::Edited { seq: 3 },
            Tamper::BrokenLink { seq: 3 },
            Tamper::Edited { seq: 4 },
            Tamper::BrokenLink { seq: 4 },
            Tamper::BrokenLink { seq: 5 },
        ]
    );
    db.cleanup().await;
}

#[tokio::test]
async fn audit_detects_a_forged_row_with_a_valid_hash() {
    let (db, rows) = audit_fixture().await;
    // Replace row 4 by a forgery that is internally consistent and links to row 3: the
    // chain breaks at row 5, which still names the original row 4's hash.
    let mut forged = rows[3].clone();
    assert_eq!(forged.seq, 4);
    forged.detail = "n=forged".into();
    forged.actor_user = Uuid::new_v4().to_string();
    forged.hash = chain_hash(&forged);
    assert_ne!(forged.hash, rows[3].hash);
    exec(&db, "DELETE FROM audit_log WHERE seq = 4").await;
    insert_audit_row(&db, &forged).await;
    assert_eq!(problems(&db).await, vec![Tamper::BrokenLink { seq: 5 }]);
    db.cleanup().await;
}

#[tokio::test]
async fn audit_detects_an_appended_forged_row() {
    let (db, rows) = audit_fixture().await;
    let last = &rows[rows.len() - 1];
    let mut forged = last.clone();
    forged.seq = AUDIT_ROWS + 1;
    forged.detail = "n=appended".into();
    forged.prev_hash = last.hash.clone();
    forged.hash = chain_hash(&forged);
    insert_audit_row(&db, &forged).await;
    assert_eq!(
        problems(&db).await,
        vec![Tamper::Truncated {
            head_seq: AUDIT_ROWS,
            last_seq: AUDIT_ROWS + 1
        }]
    );
    db.cleanup().await;
}

#[tokio::test]
async fn audit_detects_a_truncated_log() {
    let (db, _) = audit_fixture().await;
    exec(&db, "DELETE FROM audit_log WHERE seq = 6").await;
    assert_eq!(
        problems(&db).await,
        vec![
            Tamper::Truncated {
                head_seq: AUDIT_ROWS,
                last_seq: AUDIT_ROWS - 1
            },
            // The head's seal names the row that is gone.
            Tamper::SealedRowMissing { seq: AUDIT_ROWS },
        ]
    );
    db.cleanup().await;
}

#[tokio::test]
async fn audit_detects_a_rewritten_last_row() {
    let (db, rows) = audit_fixture().await;
    // Rewrite the last row consistently (valid hash and link) without the head.
    let mut forged = rows[rows.len() - 1].clone();
    forged.detail = "n=rewritten".into();
    forged.hash = chain_hash(&forged);
    exec(&db, "DELETE FROM audit_log WHERE seq = 6").await;
    insert_audit_row(&db, &forged).await;
    assert_eq!(
        problems(&db).await,
        vec![
            Tamper::Truncated {
                head_seq: AUDIT_ROWS,
                last_seq: AUDIT_ROWS
            },
            // The sealed row's hash is not the one the seal covers.
            Tamper::SealedRowMissing { seq: AUDIT_ROWS },
        ]
    );
    db.cleanup().await;
}

// --- backup and restore ---------------------------------------------------------------------

struct Populated {
    case_a: Uuid,
    identity_a: Identity,
    caseworker_a: dayaq_storage::users::User,
}

/// Two organisations, several users, cases (one updated, one erased), a session, an API
/// token, a TOTP enrolment and some failed logins: every table gets rows.
async fn populate(db: &TestDb) -> Populated {
    let s = &db.store;
    let (_, cw) = org_and_user(db, "org-a", "caseworker").await;
    let (_, sup) = org_and_user(db, "org-a", "supervisor").await;
    let (_, other) = org_and_user(db, "org-b", "police_officer").await;
    let (_, other_sup) = org_and_user(db, "org-b", "supervisor").await;
    let (a, sp, o) = (cw.actor(), sup.actor(), other.actor());
    let osp = other_sup.actor();
    let case = sample_case("Gunel", "Rzayeva", "1997-11-30", "+994 50 321 65 47");
    let c1 = s.create_case(&ctx(&a), &case).await.unwrap();
    let c2 = new_case(
        s,
        &a,
        ["Erased", "Person", "1990-05-05", "+994 50 000 11 22"],
    )
    .await;
    let c3 = new_case(s, &o, ["Police", "Case", "1985-03-03", "+994 12 444 55 66"]).await;
    let mut closed: CaseInput = serde_json::from_value(serde_json::json!({
        "prs_FirstName": "Police", "prs_SecondName": "Case", "prs_Birthdate": "1985-03-03",
        "prs_Citizenship": ["AZ", "GE"], "vic_TypeOfExploitation": ["ForcedLabour", "Servitude"],
        "vic_AgeWhenTrafficked": 22, "cas_Status": "Closed",
        "cas_ReasonForCaseClosure": "Returned home safely"
    }))
    .unwrap();
    closed.identity.notes = Some("long note\nwith lines".into());
    let closed = closed.validate(now().date()).unwrap();
    // Closing is case management: the police organisation's supervisor closes it.
    s.update_case(&ctx(&osp), c3.id, c3.version, &closed, true)
        .await
        .unwrap();
    s.erase_case(&ctx(&sp), c2.id).await.unwrap();
    s.get_case(&ctx(&a), c1.id, true).await.unwrap();
    s.search_cases(&ctx(&o), &name_dob("Gunel", "Rzayeva", "1997-11-30"))
        .await
        .unwrap();
    s.create_session(&cw, true, "test-agent", SOURCE, now())
        .await
        .unwrap();
    s.create_token(&cw, "script", 30, now()).await.unwrap();
    s.totp_begin(&sup).await.unwrap();
    let _ = s
        .check_password("org-a-caseworker", "not the password", SOURCE, now())
        .await
        .unwrap();
    let _ = s
        .check_password("nobody-here", "not the password", "10.0.0.9", now())
        .await
        .unwrap();
    Populated {
        case_a: c1.id,
        identity_a: case.identity,
        caseworker_a: cw,
    }
}

/// Tables the `populate` fixture fills (the foundation schema).
const POPULATED_TABLES: &[&str] = &[
    "organisations",
    "users",
    "login_failures",
    "sessions",
    "api_tokens",
    "keyring",
    "cases",
    "case_values",
    "case_keys",
    "blind_index",
    "case_events",
    "audit_log",
    "audit_head",
];

fn table_of(row: &serde_json::Value) -> &str {
    row["t"].as_str().unwrap_or_default()
}

/// Asserts that `restored` holds exactly the rows of `source`. The audit log may go on with
/// rows that a restore writes about itself (`backup.restore`), which also moves the audit
/// head; the chain itself is checked with `audit_verify`.
async fn assert_restored_equals(source: &[serde_json::Value], restored: &Store, what: &str) {
    let restored_dump = restored.logical_dump().await.unwrap();
    let audit = |d: &[serde_json::Value]| -> Vec<serde_json::Value> {
        d.iter()
            .filter(|r| table_of(r) == "audit_log")
            .cloned()
            .collect()
    };
    let rest = |d: &[serde_json::Value]| -> Vec<String> {
        let mut v: Vec<String> = d
            .iter()
            .filter(|r| !matches!(table_of(r), "audit_log" | "audit_head"))
            .map(|r| r.to_string())
            .collect();
        // `logical_dump` orders by the first column only: rows sharing it may swap.
        v.sort();
        v
    };
    assert_eq!(
        rest(&restored_dump),
        rest(source),
        "{what}: restored rows differ"
    );
    let (src_audit, new_audit) = (audit(source), audit(&restored_dump));
    assert!(!src_audit.is_empty());
    assert!(
        new_audit.len() >= src_audit.len() && new_audit[..src_audit.len()] == src_audit[..],
        "{what}: the audit log was not restored verbatim"
    );
    for extra in &new_audit[src_audit.len()..] {
        assert_eq!(
            extra["r"][4], "backup.restore",
            "{what}: unexpected audit row {extra}"
        );
    }
    let report = restored.audit_verify().await.unwrap();
    assert!(report.problems.is_empty(), "{what}: {:?}", report.problems);
    assert_eq!(report.rows, new_audit.len() as i64);
}

#[tokio::test]
async fn backup_restore_round_trip_is_identical() {
    let db = test_db().await;
    let p = populate(&db).await;
    let source_dump = db.store.logical_dump().await.unwrap();
    for table in POPULATED_TABLES {
        assert!(
            source_dump.iter().any(|r| table_of(r) == *table),
            "no {table} rows in the fixture"
        );
    }
    let backup = db.dir.path().join("dayaq.backup.age");
    let written = db
        .store
        .backup(&backup, BackupKey::Passphrase(BACKUP_PASSPHRASE.into()))
        .await
        .unwrap();
    assert_eq!(
        written,
        source_dump.len() as u64,
        "the backup holds every row"
    );

    // Restoring into a non-empty store is refused and changes nothing.
    let before = sorted_dump(&db.store).await;
    let refused = db
        .store
        .restore(&backup, RestoreKey::Passphrase(BACKUP_PASSPHRASE.into()))
        .await;
    assert!(
        matches!(refused, Err(StoreError::Backup(_))),
        "restore into a non-empty store: {refused:?}"
    );
    assert_eq!(sorted_dump(&db.store).await, before);

    // A wrong passphrase, or a store whose master key is not the backed-up one, is refused
    // and leaves the target empty.
    let stranger = test_db().await;
    let wrong_key = stranger
        .store
        .restore(&backup, RestoreKey::Passphrase(BACKUP_PASSPHRASE.into()))
        .await;
    assert!(
        matches!(wrong_key, Err(StoreError::Backup(_))),
        "restore under another master key: {wrong_key:?}"
    );
    assert!(stranger.store.is_empty().await.unwrap());
    assert_eq!(stranger.store.audit_verify().await.unwrap().rows, 0);
    stranger.cleanup().await;

    // Restore into an empty store on the same engine, with the first store's master key.
    let target = test_db_with_key(Some(db.opts.master_key_path())).await;
    let wrong = target
        .store
        .restore(&backup, RestoreKey::Passphrase("not the passphrase".into()))
        .await;
    assert!(wrong.is_err(), "a wrong passphrase must fail");
    assert!(target.store.is_empty().await.unwrap());
    let restored = target
        .store
        .restore(&backup, RestoreKey::Passphrase(BACKUP_PASSPHRASE.into()))
        .await
        .unwrap();
    assert_eq!(restored, written);
    assert_restored_equals(&source_dump, &target.store, engine_name()).await;

    // The restored store decrypts the identity.
    let a = p.caseworker_a.actor();
    let got = target
        .store
        .get_case(&ctx(&a), p.case_a, true)
        .await
        .unwrap();
    assert_eq!(got.identity.as_ref(), Some(&p.identity_a));

    // Reopened (as `Store::restore` asks), search, identities and logins all work.
    target.store.close().await;
    let reopened = Store::open(&target.opts).await.unwrap();
    let found = reopened
        .search_cases(&ctx(&a), &name_dob("Gunel", "Rzayeva", "1997-11-30"))
        .await
        .unwrap();
    assert_eq!(
        found.cases.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![p.case_a]
    );
    let got = reopened.get_case(&ctx(&a), p.case_a, true).await.unwrap();
    assert_eq!(got.identity.as_ref(), Some(&p.identity_a));
    assert!(matches!(
        reopened
            .check_password("org-a-caseworker", PASSWORD, "10.1.1.1", now())
            .await
            .unwrap(),
        LoginCheck::Ok(_)
    ));
    // A case created after the restore is found again after another reopen.
    let later = new_case(
        &reopened,
        &a,
        ["After", "Restore", "1996-02-02", "+994 50 246 80 24"],
    )
    .await;
    reopened.close().await;
    let again = Store::open(&target.opts).await.unwrap();
    let found = again
        .search_cases(&ctx(&a), &name_dob("After", "Restore", "1996-02-02"))
        .await
        .unwrap();
    assert_eq!(
        found.cases.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![later.id]
    );
    again.close().await;

    // A backup restores across engines as well.
    if pg_url().is_some() {
        let lite = crate::kit::sqlite_db_with_key(Some(db.opts.master_key_path())).await;
        lite.store
            .restore(&backup, RestoreKey::Passphrase(BACKUP_PASSPHRASE.into()))
            .await
            .unwrap();
        assert_restored_equals(&source_dump, &lite.store, "PostgreSQL -> SQLite").await;
        lite.cleanup().await;
    }
    target.cleanup().await;
    db.cleanup().await;
}

// --- master key rotation --------------------------------------------------------------------

fn retired_key_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("master.key.retired-"))
        })
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn master_key_rotation_keeps_data_readable() {
    let db = test_db().await;
    let s = &db.store;
    let (_, u) = org_and_user(&db, "org-a", "caseworker").await;
    let a = u.actor();
    let mut cases = Vec::new();
    for (first, phone) in [
        ("Arzu", "+994 50 700 00 01"),
        ("Sevda", "+994 50 700 00 02"),
        ("Zeynab", "+994 50 700 00 03"),
    ] {
        let c = sample_case(first, "Karimova", "1993-08-15", phone);
        let v = s.create_case(&ctx(&a), &c).await.unwrap();
        cases.push((v.id, c.identity));
    }
    let backup = db.dir.path().join("before-rotation.age");
    s.backup(&backup, BackupKey::Passphrase(BACKUP_PASSPHRASE.into()))
        .await
        .unwrap();

    let key_path = db.opts.master_key_path();
    let key_dir = key_path.parent().unwrap().to_path_buf();
    let old_key = std::fs::read(&key_path).unwrap();
    assert!(retired_key_files(&key_dir).is_empty());

    let n = s.rotate_master_key().await.unwrap();
    assert_eq!(
        n,
        cases.len() + 2,
        "every case key and both keyring keys are re-wrapped"
    );
    let new_key = std::fs::read(&key_path).unwrap();
    assert_ne!(new_key, old_key, "master.key must change");
    let retired = retired_key_files(&key_dir);
    assert_eq!(
        retired.len(),
        1,
        "the old key is kept as master.key.retired-<id>"
    );
    assert_eq!(std::fs::read(&retired[0]).unwrap(), old_key);
    assert!(!key_dir.join("master.key.next").exists());

    // The database no longer names the old key.
    let stale: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM case_keys WHERE master_key_id <> (SELECT master_key_id FROM keyring WHERE name = 'blind_index')")
        .fetch_one(s.pool())
        .await
        .unwrap();
    assert_eq!(stale, 0);

    let check = |store: Store| {
        let cases = cases.clone();
        async move {
            for (id, identity) in &cases {
                let got = store.get_case(&ctx(&a), *id, true).await.unwrap();
                assert_eq!(got.identity.as_ref(), Some(identity));
            }
            let found = store
                .search_cases(&ctx(&a), &by_phone("+994507000002"))
                .await
                .unwrap();
            assert_eq!(
                found.cases.iter().map(|c| c.id).collect::<Vec<_>>(),
                vec![cases[1].0]
            );
        }
    };
    // The running handle and a store reopened from disk both read everything.
    check(s.clone()).await;
    let reopened = Store::open(&db.opts).await.unwrap();
    check(reopened.clone()).await;
    // New cases after rotation work too.
    let later = new_case(
        &reopened,
        &a,
        ["Later", "Case", "1990-01-01", "+994 50 700 00 09"],
    )
    .await;
    assert!(
        reopened
            .get_case(&ctx(&a), later.id, true)
            .await
            .unwrap()
            .identity
            .is_some()
    );
    reopened.close().await;

    // The retired key no longer opens the database.
    let mut with_old = db.opts.clone();
    with_old.master_key_file = Some(retired[0].clone());
    assert!(
        Store::open(&with_old).await.is_err(),
        "the retired key must not open the rotated database"
    );

    // A backup taken before the rotation restores with the retired key file.
    let target = test_db_with_key(Some(retired[0].clone())).await;
    target
        .store
        .restore(&backup, RestoreKey::Passphrase(BACKUP_PASSPHRASE.into()))
        .await
        .unwrap();
    let got = target
        .store
        .get_case(&ctx(&a), cases[0].0, true)
        .await
        .unwrap();
    assert_eq!(got.identity.as_ref(), Some(&cases[0].1));
    target.cleanup().await;
    db.cleanup().await;
}

// --- no plaintext at rest -------------------------------------------------------------------

const CANARIES: &[&str] = &[
    "CANARYFIRST7731",
    "CANARYMIDDLE7731",
    "CANARYSECOND7731",
    "CANARYIDNUM7731",
    "+99450 777 31 31",
    "+994507773131",
    "994507773131",
    "+99412 777 31 32",
    "994127773132",
    "canary7731@example.org",
    "CANARYSTREET7731",
    "CANARYCITY7731",
    "CANARYNOTE7731",
    "CANARYCLOSURE7731",
    "1937-03-13",
];

/// Each canary that occurs in `hay`: as bytes, case-insensitively, and hex-encoded
/// (as `pg_dump` prints `bytea`).
fn canary_hits(what: &str, hay: &[u8]) -> Vec<String> {
    let lower = hay.to_ascii_lowercase();
    let mut hits = Vec::new();
    for c in CANARIES {
        let needle = c.to_ascii_lowercase();
        let hex = |s: &str| -> String { s.bytes().map(|b| format!("{b:02x}")).collect() };
        for (form, n) in [
            ("plain", needle.clone()),
            ("hex", hex(c)),
            ("hex", hex(&needle)),
        ] {
            if lower.windows(n.len()).any(|w| w == n.as_bytes()) {
                hits.push(format!("{what}: {c} ({form})"));
            }
        }
    }
    hits
}

fn pg_dump_binary() -> PathBuf {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path().join("bin/pg_dump")))
                .filter(|p| p.exists())
                .collect()
        })
        .unwrap_or_default();
    // Highest version first: pg_dump refuses servers newer than itself.
    candidates.sort_by_key(|p| {
        p.parent()
            .and_then(|b| b.parent())
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    candidates.pop().unwrap_or_else(|| PathBuf::from("pg_dump"))
}

#[tokio::test]
async fn identity_canaries_never_appear_at_rest() {
    let db = test_db().await;
    let s = &db.store;
    let (_, u) = org_and_user(&db, "org-a", "caseworker").await;
    let (_, other) = org_and_user(&db, "org-b", "caseworker").await;
    let a = u.actor();
    let input: CaseInput = serde_json::from_value(serde_json::json!({
        "prs_FirstName": "CANARYFIRST7731",
        "prs_MiddleName": "CANARYMIDDLE7731",
        "prs_SecondName": "CANARYSECOND7731",
        "prs_Birthdate": "1937-03-13",
        "prs_IdentityNumber": "CANARYIDNUM7731",
        "prs_MobilePhone": "+99450 777 31 31",
        "prs_HomePhone": "+99412 777 31 32",
        "prs_Email": "canary7731@example.org",
        "prs_MailingStreet": "CANARYSTREET7731",
        "prs_MailingCity": "CANARYCITY7731",
        "prs_Gender": "Feminine",
        "prs_Citizenship": ["AZ"],
        "vic_TypeOfExploitation": ["SexualExploitation"],
        "cco_CaseComment": "CANARYNOTE7731"
    }))
    .unwrap();
    let case = input.validate(now().date()).unwrap();
    let created = s.create_case(&ctx(&a), &case).await.unwrap();
    let mut closed = case.clone();
    closed.status = dayaq_domain::vocab::CaseStatus::Closed;
    closed.reason_for_closure = Some("CANARYCLOSURE7731".into());
    let updated = s
        .update_case(&ctx(&a), created.id, created.version, &closed, true)
        .await
        .unwrap();
    // Reads, searches and denied accesses write audit rows and events: none may carry them.
    let got = s.get_case(&ctx(&a), created.id, true).await.unwrap();
    assert_eq!(got.identity.as_ref(), Some(&case.identity));
    assert_eq!(got.reason_for_closure.as_deref(), Some("CANARYCLOSURE7731"));
    assert_eq!(updated.version, created.version + 1);
    for q in [
        name_dob("CANARYFIRST7731", "CANARYSECOND7731", "1937-03-13"),
        by_phone("+99450 777 31 31"),
        SearchQuery {
            identity_number: Some("CANARYIDNUM7731".into()),
            ..Default::default()
        },
    ] {
        assert_eq!(s.search_cases(&ctx(&a), &q).await.unwrap().cases.len(), 1);
        // One identifier alone is never a cross-organisation match (issue 14 item 11).
        assert_eq!(
            s.search_cases(&ctx(&other.actor()), &q)
                .await
                .unwrap()
                .possible_matches_elsewhere
                .len(),
            0
        );
    }
    let all = SearchQuery {
        phone: Some("+99450 777 31 31".into()),
        identity_number: Some("CANARYIDNUM7731".into()),
        ..name_dob("CANARYFIRST7731", "CANARYSECOND7731", "1937-03-13")
    };
    assert_eq!(
        s.search_cases(&ctx(&other.actor()), &all)
            .await
            .unwrap()
            .possible_matches_elsewhere
            .len(),
        1
    );
    let _ = s.get_case(&ctx(&other.actor()), created.id, true).await;
    let backup = db.dir.path().join("canary.backup.age");
    s.backup(&backup, BackupKey::Passphrase(BACKUP_PASSPHRASE.into()))
        .await
        .unwrap();

    let mut hits = Vec::new();
    // The audit log and every other row, through the engine.
    let audit = serde_json::to_string(&s.audit_recent(100_000).await.unwrap()).unwrap();
    assert!(
        audit.contains("case.read_identity"),
        "the fixture's audit rows are present"
    );
    hits.extend(canary_hits("audit_log rows", audit.as_bytes()));
    let dump = serde_json::to_string(&s.logical_dump().await.unwrap()).unwrap();
    hits.extend(canary_hits("logical dump", dump.as_bytes()));
    // The encrypted backup.
    hits.extend(canary_hits("backup file", &std::fs::read(&backup).unwrap()));
    // The raw database files.
    let mut scanned = Vec::new();
    match s.engine() {
        Engine::Sqlite => {
            for f in ["dayaq.db", "dayaq.db-wal", "dayaq.db-shm"] {
                let p = db.opts.data_dir.join(f);
                if p.exists() {
                    hits.extend(canary_hits(f, &std::fs::read(&p).unwrap()));
                    scanned.push(f.to_string());
                }
            }
            assert!(scanned.contains(&"dayaq.db".to_string()));
        }
        Engine::Postgres => {
            let url = db.opts.database_url.clone().unwrap();
            let bin = pg_dump_binary();
            let out = tokio::process::Command::new(&bin)
                .arg("--no-owner")
                .arg("--dbname")
                .arg(&url)
                .output()
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "cannot run {} (install postgresql-client): {e}",
                        bin.display()
                    )
                });
            assert!(
                out.status.success(),
                "pg_dump failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.contains("audit_log") && text.contains(&created.id.to_string()),
                "pg_dump output looks incomplete"
            );
            hits.extend(canary_hits("pg_dump", &out.stdout));
            scanned.push("pg_dump".into());
        }
    }
    // Also every other file Dayaq keeps next to the database.
    for e in std::fs::read_dir(&db.opts.data_dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if p.is_file() && !scanned.contains(&name) {
            hits.extend(canary_hits(&name, &std::fs::read(&p).unwrap()));
        }
    }
    // Sanity check of the scanner itself.
    assert!(!canary_hits("self-test", b"xx canaryfirst7731 xx").is_empty());
    assert!(!canary_hits("self-test", b"\\x43414E415259464952535437373331").is_empty());
    assert!(
        hits.is_empty(),
        "plaintext identity found at rest:\n{}",
        hits.join("\n")
    );
    db.cleanup().await;
}

// --- login ----------------------------------------------------------------------------------

#[tokio::test]
async fn password_check() {
    let db = test_db().await;
    let s = &db.store;
    let (_, u) = org_and_user(&db, "org-a", "caseworker").await;
    let r = s
        .check_password(&u.username, "correct horse battery stapler", SOURCE, now())
        .await
        .unwrap();
    assert!(matches!(r, LoginCheck::Invalid), "wrong password: {r:?}");
    let r = s
        .check_password("no-such-user", PASSWORD, SOURCE, now())
        .await
        .unwrap();
    assert!(matches!(r, LoginCheck::Invalid), "unknown user: {r:?}");
    match s
        .check_password(&u.username, PASSWORD, SOURCE, now())
        .await
        .unwrap()
    {
        LoginCheck::Ok(user) => assert_eq!(user, u),
        other => panic!("correct password: {other:?}"),
    }
    // The stored hash is Argon2id, never the password.
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(u.id.to_string())
        .fetch_one(s.pool())
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains(PASSWORD));
    // Failures are audited without the password.
    let rows = s.audit_recent(100).await.unwrap();
    assert_eq!(
        rows.iter()
            .filter(|r| r.action == "auth.login" && r.outcome == "failure")
            .count(),
        2
    );
    assert!(!serde_json::to_string(&rows).unwrap().contains("battery"));
    db.cleanup().await;
}
