//! Issue #14, items 3, 14 and 15: the audit head anchored outside the database (sealed head,
//! witness checkpoints, `/metrics`), master-key rotation while a server runs, and what an
//! erasure leaves behind. Storage tests run on SQLite and, with `DAYAQ_TEST_DATABASE_URL`, on
//! PostgreSQL.

use crate::kit::*;
use dayaq_storage::Store;
use dayaq_storage::audit::{AuditEntry, Checkpoint, Tamper, parse_witness};
use sqlx::Row;

const ROWS: i64 = 6;

/// A fresh store whose audit log holds rows 1..=ROWS, each appended as a server would.
async fn audited() -> TestDb {
    let db = test_db().await;
    append_n(&db.store, ROWS).await;
    let report = db.store.audit_verify().await.unwrap();
    assert_eq!((report.rows, report.problems), (ROWS, vec![]));
    db
}

async fn append_n(s: &Store, n: i64) {
    for i in 0..n {
        let mut e = AuditEntry::new("test.event", "success");
        e.detail = format!("n={i}");
        s.audit(e, now()).await.unwrap();
    }
}

async fn row_hash(db: &TestDb, seq: i64) -> String {
    sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = $1")
        .bind(seq)
        .fetch_one(db.store.pool())
        .await
        .unwrap()
}

/// The whole head row, as an attacker with database access would save it.
async fn head_row(db: &TestDb) -> (i64, String, i64, String, String, String) {
    let r = sqlx::query(
        "SELECT seq, hash, mac_seq, mac_hash, mac, mac_key_id FROM audit_head WHERE id = 1",
    )
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    (
        r.try_get("seq").unwrap(),
        r.try_get("hash").unwrap(),
        r.try_get("mac_seq").unwrap(),
        r.try_get("mac_hash").unwrap(),
        r.try_get("mac").unwrap(),
        r.try_get("mac_key_id").unwrap(),
    )
}

/// What an attacker with write access to the database (not the master key) does: delete the
/// last rows and point the head at the new last row.
async fn cut_tail(db: &TestDb, keep: i64) {
    let hash = row_hash(db, keep).await;
    sqlx::query("DELETE FROM audit_log WHERE seq > $1")
        .bind(keep)
        .execute(db.store.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(keep)
        .bind(&hash)
        .execute(db.store.pool())
        .await
        .unwrap();
}

#[tokio::test]
async fn audit_tail_truncation_with_head_rewrite_is_detected() {
    let db = audited().await;
    cut_tail(&db, 4).await;
    let problems = db.store.audit_verify().await.unwrap().problems;
    assert!(
        problems.contains(&Tamper::HeadMoved {
            head_seq: 4,
            sealed_seq: ROWS
        }),
        "{problems:?}"
    );
    assert!(
        problems.contains(&Tamper::SealedRowMissing { seq: ROWS }),
        "{problems:?}"
    );

    // The attacker also moves the seal's (seq, hash) to the new head: without the master key
    // the MAC does not match.
    let h4 = row_hash(&db, 4).await;
    sqlx::query("UPDATE audit_head SET mac_seq = 4, mac_hash = $1 WHERE id = 1")
        .bind(&h4)
        .execute(db.store.pool())
        .await
        .unwrap();
    let problems = db.store.audit_verify().await.unwrap().problems;
    assert_eq!(problems, vec![Tamper::SealInvalid { seq: 4 }]);

    // The server goes on writing: it does not re-seal over the cut (the evidence stays).
    append_n(&db.store, 2).await;
    let problems = db.store.audit_verify().await.unwrap().problems;
    assert!(
        problems.contains(&Tamper::SealInvalid { seq: 4 }),
        "{problems:?}"
    );
    db.cleanup().await;
}

#[tokio::test]
async fn audit_head_seal_follows_every_write_and_a_forged_mac_is_refused() {
    let db = audited().await;
    let (seq, hash, mac_seq, mac_hash, mac, kid) = head_row(&db).await;
    assert_eq!((mac_seq, &mac_hash), (seq, &hash), "the head is sealed");
    assert_eq!(mac.len(), 64);
    assert_eq!(kid, db.store.current_master_key_id().unwrap());
    // Blanking the seal is reported too (and is never silently re-sealed by a write).
    sqlx::query("UPDATE audit_head SET mac = '' WHERE id = 1")
        .execute(db.store.pool())
        .await
        .unwrap();
    append_n(&db.store, 1).await;
    let problems = db.store.audit_verify().await.unwrap().problems;
    assert!(problems.contains(&Tamper::Unsealed), "{problems:?}");
    db.cleanup().await;
}

#[tokio::test]
async fn audit_rollback_is_detected_with_the_witness() {
    let db = audited().await;
    // An attacker who could read the database earlier saved the head at row ROWS.
    let saved = head_row(&db).await;
    let c1 = db.store.audit_checkpoint().await.unwrap().unwrap();
    assert_eq!(c1.seq, ROWS);
    append_n(&db.store, 3).await;
    let c2 = db.store.audit_checkpoint().await.unwrap().unwrap();
    assert_eq!(c2.seq, ROWS + 3);
    // The witness file's lines round-trip.
    let text = format!("# witness\n{}\n{}\n", c1.line(now()), c2.line(now()));
    let witness: Vec<Checkpoint> = parse_witness(&text).unwrap();
    assert_eq!(witness, vec![c1.clone(), c2.clone()]);
    assert!(parse_witness("12 nothex x 2026").is_err());

    // Rollback: cut back to row ROWS and put the saved (validly sealed) head back.
    cut_tail(&db, ROWS).await;
    let (seq, hash, mac_seq, mac_hash, mac, kid) = saved;
    sqlx::query(
        "UPDATE audit_head SET seq = $1, hash = $2, mac_seq = $3, mac_hash = $4, mac = $5, \
         mac_key_id = $6 WHERE id = 1",
    )
    .bind(seq)
    .bind(&hash)
    .bind(mac_seq)
    .bind(&mac_hash)
    .bind(&mac)
    .bind(&kid)
    .execute(db.store.pool())
    .await
    .unwrap();
    // A replayed old seal is valid: the database alone cannot show the rollback...
    assert_eq!(db.store.audit_verify().await.unwrap().problems, vec![]);
    // ...the witness does, naming the row.
    let problems = db.store.audit_verify_with(&witness).await.unwrap().problems;
    assert_eq!(
        problems,
        vec![Tamper::WitnessAhead {
            witness_seq: ROWS + 3,
            last_seq: ROWS
        }]
    );
    // The server writes on over the rolled-back tail: the rows differ from the witness.
    append_n(&db.store, 4).await;
    let problems = db.store.audit_verify_with(&witness).await.unwrap().problems;
    assert_eq!(problems, vec![Tamper::WitnessMismatch { seq: ROWS + 3 }]);
    // A witness line not made with this instance's keys is named as such.
    let forged = Checkpoint {
        mac: "0".repeat(64),
        ..c2
    };
    let problems = db
        .store
        .audit_verify_with(&[forged])
        .await
        .unwrap()
        .problems;
    assert_eq!(problems, vec![Tamper::WitnessForged { seq: ROWS + 3 }]);
    db.cleanup().await;
}

#[tokio::test]
async fn audit_seal_seals_a_legacy_head_but_not_over_a_witnessed_cut() {
    let db = audited().await;
    let witness = vec![db.store.audit_checkpoint().await.unwrap().unwrap()];
    // A database from before migration 0014: the seal columns hold their defaults.
    let legacy = "UPDATE audit_head SET mac_seq = 0, mac_hash = '', mac = '', mac_key_id = '' \
                  WHERE id = 1";
    sqlx::query(legacy).execute(db.store.pool()).await.unwrap();
    assert_eq!(
        db.store.audit_verify().await.unwrap().problems,
        vec![Tamper::Unsealed]
    );
    let c = db.store.audit_seal(&witness).await.unwrap();
    assert_eq!(c.seq, ROWS);
    assert_eq!(
        db.store.audit_verify_with(&witness).await.unwrap().problems,
        vec![]
    );
    assert!(db.store.audit_seal(&[]).await.is_err(), "sealed once only");

    // Cut the tail and blank the seal: looks like a legacy head, but the witness refuses it.
    let witness = vec![db.store.audit_checkpoint().await.unwrap().unwrap()];
    cut_tail(&db, 3).await;
    sqlx::query(legacy).execute(db.store.pool()).await.unwrap();
    assert!(db.store.audit_seal(&witness).await.is_err());
    db.cleanup().await;
}

#[tokio::test]
async fn metrics_report_the_audit_head_seq() {
    let app = spawn_app().await;
    let seq = app.db.store.audit_head_seq().await.unwrap();
    let body = reqwest::get(format!("{}/metrics", app.base_url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        body.lines()
            .any(|l| l == format!("dayaq_audit_head_seq {seq}")),
        "{body}"
    );
    app.db.cleanup().await;
}

// --- item 14: key rotation while a server runs ------------------------------------------------

#[tokio::test]
async fn key_rotation_by_another_process_while_a_store_runs() {
    let db = test_db().await;
    let server = &db.store;
    let (_, u) = org_and_user(&db, "org-a", "caseworker").await;
    let a = u.actor();
    let before = sample_case("Gunel", "Mammadova", "1994-02-03", "+994 50 611 00 01");
    let before_id = server.create_case(&ctx(&a), &before).await.unwrap().id;

    // `dayaq key rotate` from the command line: another Store on the same database.
    let cli = Store::open(&db.opts).await.unwrap();
    cli.rotate_master_key().await.unwrap();
    cli.close().await;

    // The running server creates a case with what it has in memory.
    let after = sample_case("Lala", "Huseynova", "1991-07-08", "+994 50 611 00 02");
    let after_id = server.create_case(&ctx(&a), &after).await.unwrap().id;
    // It wrapped the new case key under the new master key, not the one it started with.
    let stale: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM case_keys WHERE master_key_id <> \
         (SELECT master_key_id FROM keyring WHERE name = 'system')",
    )
    .fetch_one(server.pool())
    .await
    .unwrap();
    assert_eq!(stale, 0);

    // A fresh start (the server restarted) reads both cases; the audit log verifies.
    let fresh = Store::open(&db.opts).await.unwrap();
    for (id, c) in [(before_id, &before), (after_id, &after)] {
        let v = fresh.get_case(&ctx(&a), id, true).await.unwrap();
        assert_eq!(v.identity.as_ref(), Some(&c.identity));
    }
    assert_eq!(fresh.audit_verify().await.unwrap().problems, vec![]);
    fresh.close().await;
    db.cleanup().await;
}

#[tokio::test]
async fn retired_key_files_are_read_at_start() {
    let db = test_db().await;
    let s = &db.store;
    let (_, u) = org_and_user(&db, "org-a", "caseworker").await;
    let a = u.actor();
    let c = sample_case("Nigar", "Aliyeva", "1990-01-02", "+994 50 611 00 03");
    let id = s.create_case(&ctx(&a), &c).await.unwrap().id.to_string();
    let old: (String, Vec<u8>) = {
        let r = sqlx::query("SELECT master_key_id, wrapped FROM case_keys WHERE case_id = $1")
            .bind(&id)
            .fetch_one(s.pool())
            .await
            .unwrap();
        (
            r.try_get("master_key_id").unwrap(),
            r.try_get("wrapped").unwrap(),
        )
    };
    s.rotate_master_key().await.unwrap();
    // What a server that had not noticed the rotation wrote: the key under the old master.
    sqlx::query("UPDATE case_keys SET master_key_id = $1, wrapped = $2 WHERE case_id = $3")
        .bind(&old.0)
        .bind(&old.1)
        .bind(&id)
        .execute(s.pool())
        .await
        .unwrap();
    let fresh = Store::open(&db.opts).await.unwrap();
    let v = fresh
        .get_case(&ctx(&a), id.parse().unwrap(), true)
        .await
        .unwrap();
    assert_eq!(v.identity.as_ref(), Some(&c.identity));
    // The next rotation re-wraps it under the new key.
    fresh.rotate_master_key().await.unwrap();
    let kid: String = sqlx::query_scalar("SELECT master_key_id FROM case_keys WHERE case_id = $1")
        .bind(&id)
        .fetch_one(fresh.pool())
        .await
        .unwrap();
    assert_eq!(kid, fresh.current_master_key_id().unwrap());
    fresh.close().await;
    db.cleanup().await;
}

// --- item 15: erasure leftovers ---------------------------------------------------------------

#[tokio::test]
async fn erasure_leaves_no_derived_identifier() {
    let db = test_db().await;
    let s = &db.store;
    let (_, police) = org_and_user(&db, "police-atd", "police_officer").await;
    let (_, sup) = org_and_user(&db, "police-atd", "supervisor").await;
    let police = police.actor();
    let case = new_case(
        s,
        &police,
        ["Aysel", "Quliyeva", "1995-05-06", "+994502223344"],
    )
    .await
    .id;
    decide_identification(s, &police, case, "ActualVictimOfTrafficking").await;
    s.pay_allowance(&ctx(&police), case, 40_000).await.unwrap();
    let digests: Vec<String> =
        sqlx::query_scalar("SELECT digest FROM blind_index WHERE case_id = $1")
            .bind(case.to_string())
            .fetch_all(s.pool())
            .await
            .unwrap();
    assert!(digests.len() >= 2, "name+birth date and phone are indexed");
    let dump = serde_json::to_string(&s.logical_dump().await.unwrap()).unwrap();
    assert!(digests.iter().all(|d| dump.contains(d.as_str())));

    s.erase_case(&ctx(&sup.actor()), case).await.unwrap();
    let dump = serde_json::to_string(&s.logical_dump().await.unwrap()).unwrap();
    for d in &digests {
        assert!(
            !dump.contains(d.as_str()),
            "a digest of the erased person survives"
        );
    }
    // The payment stays for the accounts, no longer tied to the person.
    let key: String =
        sqlx::query_scalar("SELECT person_key FROM allowance_payments WHERE case_id = $1")
            .bind(case.to_string())
            .fetch_one(s.pool())
            .await
            .unwrap();
    assert!(key.starts_with("erased:"), "{key}");
    db.cleanup().await;
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn erasure_checkpoints_the_sqlite_wal() {
    let db = sqlite_db().await;
    let s = &db.store;
    let (_, cw) = org_and_user(&db, "org-a", "caseworker").await;
    let (_, sup) = org_and_user(&db, "org-a", "supervisor").await;
    let case = new_case(
        s,
        &cw.actor(),
        ["Samira", "Rzayeva", "1992-03-04", "+994502220000"],
    )
    .await
    .id;
    let identity: Vec<u8> = sqlx::query_scalar("SELECT identity FROM cases WHERE id = $1")
        .bind(case.to_string())
        .fetch_one(s.pool())
        .await
        .unwrap();
    let probe = &identity[identity.len() - 32..];
    let db_path = db.opts.sqlite_path();
    let wal_path = db_path.with_extension("db-wal");
    let on_disk = || {
        let mut all = std::fs::read(&db_path).unwrap();
        all.extend(std::fs::read(&wal_path).unwrap_or_default());
        all
    };
    assert!(
        contains(&on_disk(), probe),
        "the ciphertext is on disk before"
    );

    s.erase_case(&ctx(&sup.actor()), case).await.unwrap();
    let wal_len = std::fs::metadata(&wal_path).map(|m| m.len()).unwrap_or(0);
    assert_eq!(wal_len, 0, "the WAL is checkpointed and truncated");
    assert!(
        !contains(&on_disk(), probe),
        "pre-erasure ciphertext is left in the database or WAL file"
    );
    db.cleanup().await;
}
