//! The audit viewer, its export and tail, and archival (issue #18 parts 1 and 3), end to end on
//! the real server: what each role sees (auditor: every row, no case content; organisation
//! admin: its own staff's rows; others refused and the refusal audited), the grant recorded on
//! case reads (owner, break-glass), viewing audited, keyset paging stable while rows are added,
//! 422s naming the field, JSON lines that parse (API and CLI), and the archival round trip
//! (archive → verify segment → live chain verifies; a tampered segment or a forged anchor
//! fails). The viewer screen in a browser (filters, paging, a refused date).

use crate::kit::browser::{Catalogue, run};
use crate::kit::{
    TestApp, api_call, assert_cli_ok, ctx, dayaq_cli, new_case, now, org_and_user, spawn_app,
    user_token,
};
use dayaq_storage::audit::{AuditEntry, Tamper};
use dayaq_storage::users::User;
use serde_json::Value;
use std::collections::HashSet;

const PERSONAL: [&str; 4] = ["Zenfira", "Qasimova", "1991-04-12", "+994501112233"];

struct Scenario {
    app: TestApp,
    case_id: String,
    cw_a: User,
    sup_b: User,
    admin_a: User,
    auditor: String,
    admin_a_token: String,
    admin_b_token: String,
    cw_token: String,
    auditor_user: User,
}

async fn scenario() -> Scenario {
    let app = spawn_app().await;
    let db = &app.db;
    let (org_a, cw_a) = org_and_user(db, "av-a", "caseworker").await;
    let (_, admin_a) = org_and_user(db, "av-a", "org_admin").await;
    let (_, sup_b) = org_and_user(db, "av-b", "supervisor").await;
    let (_, admin_b) = org_and_user(db, "av-b", "org_admin").await;
    let (_, aud) = org_and_user(db, "av-nrm", "auditor").await;
    let _ = org_a;
    let case = new_case(&db.store, &cw_a.actor(), PERSONAL).await;
    // The owner reads the identity; a supervisor of B breaks the glass and reads it too.
    let a = cw_a.actor();
    db.store.get_case(&ctx(&a), case.id, true).await.unwrap();
    let b = sup_b.actor();
    db.store
        .break_glass(
            &ctx(&b),
            &case.case_number,
            "child at immediate risk tonight",
        )
        .await
        .unwrap();
    db.store.get_case(&ctx(&b), case.id, true).await.unwrap();
    Scenario {
        case_id: case.id.to_string(),
        auditor: user_token(db, &aud).await,
        admin_a_token: user_token(db, &admin_a).await,
        admin_b_token: user_token(db, &admin_b).await,
        cw_token: user_token(db, &cw_a).await,
        cw_a,
        sup_b,
        admin_a,
        auditor_user: aud,
        app,
    }
}

async fn get(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let (s, v) = api_call(app, token, "GET", path, Value::Null).await;
    (s.as_u16(), v)
}

fn rows(v: &Value) -> &Vec<Value> {
    v["rows"].as_array().expect("rows")
}

async fn count_rows(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(app.db.store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn audit_viewer_contents_by_role() {
    let s = scenario().await;
    let app = &s.app;
    // The auditor, by case: creation, both identity reads with their grants, break-glass.
    let (st, v) = get(app, &s.auditor, &format!("/audit/rows?case={}", s.case_id)).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["scope"], "all");
    let by_action =
        |a: &str| -> Vec<&Value> { rows(&v).iter().filter(|r| r["action"] == a).collect() };
    assert_eq!(by_action("case.create").len(), 1);
    let reads = by_action("case.read_identity");
    assert_eq!(reads.len(), 2, "{v}");
    // Newest first: the break-glass read, then the owner's.
    assert_eq!(reads[0]["actor_user"], s.sup_b.id.to_string());
    assert_eq!(reads[0]["grant"], "break_glass");
    assert_eq!(reads[1]["actor_user"], s.cw_a.id.to_string());
    assert_eq!(reads[1]["grant"], "owner");
    assert_eq!(by_action("break_glass").len(), 1);
    for r in rows(&v) {
        assert_eq!(r["case_id"], s.case_id);
    }
    let text = v.to_string();
    for p in PERSONAL {
        assert!(!text.contains(p), "the viewer shows {p}");
    }
    // Seqs strictly decreasing.
    let seqs: Vec<i64> = rows(&v)
        .iter()
        .map(|r| r["seq"].as_i64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "{seqs:?}");

    // By kind: break-glass only.
    let (_, bg) = get(app, &s.auditor, "/audit/rows?kind=break_glass").await;
    assert_eq!(rows(&bg).len(), 1);
    assert_eq!(rows(&bg)[0]["action"], "break_glass");
    // By user over a period.
    let today = now().date();
    let (_, u) = get(
        app,
        &s.auditor,
        &format!(
            "/audit/rows?user={}&since={today}&until={}",
            s.sup_b.id,
            today.next_day().unwrap()
        ),
    )
    .await;
    assert!(!rows(&u).is_empty());
    assert!(
        rows(&u)
            .iter()
            .all(|r| r["actor_user"] == s.sup_b.id.to_string())
    );

    // Organisation A's admin: only A's staff's rows, never B's break-glass read.
    let (st, a) = get(app, &s.admin_a_token, "/audit/rows?limit=500").await;
    assert_eq!(st, 200, "{a}");
    assert_eq!(a["scope"], "organisation");
    let org_a = s.admin_a.org_id.to_string();
    assert!(!rows(&a).is_empty());
    assert!(rows(&a).iter().all(|r| r["actor_org"] == org_a), "{a}");
    assert!(
        rows(&a)
            .iter()
            .any(|r| r["action"] == "case.read_identity" && r["grant"] == "owner")
    );
    // An organisation filter cannot widen the scope.
    let b_org = s.sup_b.org_id.to_string();
    let (_, wide) = get(app, &s.admin_a_token, &format!("/audit/rows?org={b_org}")).await;
    assert!(rows(&wide).is_empty(), "{wide}");
    // Organisation B's admin sees B's break-glass read of A's case, and nothing of A.
    let (_, b) = get(
        app,
        &s.admin_b_token,
        &format!("/audit/rows?case={}", s.case_id),
    )
    .await;
    let actions: HashSet<&str> = rows(&b)
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains("break_glass"));
    assert!(rows(&b).iter().all(|r| r["actor_org"] == b_org), "{b}");

    // A caseworker is refused, and the refusal is audited.
    let (st, c) = get(app, &s.cw_token, "/audit/rows").await;
    assert_eq!(st, 403, "{c}");
    let (st, _) = get(app, &s.cw_token, "/audit/export").await;
    assert_eq!(st, 403);
    assert_eq!(
        count_rows(
            app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'access.denied' AND detail LIKE 'table=audit %'"
        )
        .await,
        2
    );

    // Viewing is audited: one audit.view row per page, with the filter's ids.
    let (_, views) = get(app, &s.auditor, "/audit/rows?kind=audit_reads&limit=100").await;
    let mine: Vec<&Value> = rows(&views)
        .iter()
        .filter(|r| r["actor_user"] == s.auditor_user.id.to_string() && r["action"] == "audit.view")
        .collect();
    // The case view, the kind view, the user view (this page's own row is written after
    // its rows are read).
    assert_eq!(mine.len(), 3, "{views}");
    assert!(mine.iter().any(|r| {
        r["case_id"] == s.case_id
            && r["detail"]
                .as_str()
                .unwrap()
                .contains(&format!("case={}", s.case_id))
    }));
    let admin_views = rows(&views)
        .iter()
        .filter(|r| r["actor_user"] == s.admin_a.id.to_string())
        .count();
    assert_eq!(admin_views, 2);
    s.app.db.cleanup().await;
}

#[tokio::test]
async fn audit_viewer_paging_is_stable_and_bad_filters_are_named() {
    let s = scenario().await;
    let app = &s.app;
    for i in 0..25 {
        let mut e = AuditEntry::new("test.paging", "success");
        e.actor_user = s.cw_a.id.to_string();
        e.actor_org = s.cw_a.org_id.to_string();
        e.detail = format!("n={i}");
        app.db.store.audit(e, now()).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut next: Option<i64> = None;
    let mut pages = 0;
    loop {
        let path = match next {
            None => "/audit/rows?action=test.paging&limit=7".to_string(),
            Some(b) => format!("/audit/rows?action=test.paging&limit=7&before={b}"),
        };
        let (st, v) = get(app, &s.auditor, &path).await;
        assert_eq!(st, 200, "{v}");
        pages += 1;
        seen.extend(rows(&v).iter().map(|r| r["seq"].as_i64().unwrap()));
        if pages == 1 {
            // Rows written while paging do not shift the later pages.
            for _ in 0..5 {
                let mut e = AuditEntry::new("test.paging", "success");
                e.detail = "late".into();
                app.db.store.audit(e, now()).await.unwrap();
            }
        }
        match v["next_before"].as_i64() {
            Some(b) => next = Some(b),
            None => break,
        }
    }
    assert_eq!(pages, 4);
    assert_eq!(seen.len(), 25);
    let unique: HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), 25);
    assert!(seen.windows(2).all(|w| w[0] > w[1]));

    for (query, field) in [
        ("case=not-a-uuid", "case"),
        ("user=Zenfira", "user"),
        ("org=12", "org"),
        ("kind=everything", "kind"),
        ("action=Case%20Read", "action"),
        ("outcome=maybe", "outcome"),
        ("grant=friend", "grant"),
        ("since=2025-02-30", "since"),
        ("until=tomorrow", "until"),
        ("since=2025-03-01&until=2025-02-01", "until"),
        ("before=-3", "before"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("after=3", "after"),
    ] {
        let before = count_rows(app, "SELECT COUNT(*) FROM audit_log").await;
        let (st, v) = get(app, &s.auditor, &format!("/audit/rows?{query}")).await;
        assert_eq!(st, 422, "{query}: {v}");
        assert_eq!(v["error"]["field"], field, "{query}: {v}");
        assert!(!v.to_string().contains("Zenfira"), "{v}");
        assert_eq!(
            count_rows(app, "SELECT COUNT(*) FROM audit_log").await,
            before,
            "{query} changed something"
        );
    }
    for (query, field) in [
        ("after=x", "after"),
        ("before=3", "before"),
        ("since=2025-13-01", "since"),
    ] {
        let (st, v) = get(app, &s.auditor, &format!("/audit/export?{query}")).await;
        assert_eq!(st, 422, "{query}: {v}");
        assert_eq!(v["error"]["field"], field, "{query}: {v}");
    }
    s.app.db.cleanup().await;
}

#[tokio::test]
async fn audit_export_lines_parse_in_the_api_and_the_cli() {
    let s = scenario().await;
    let app = &s.app;
    let client = crate::kit::local_client().build().expect("http client");
    let r = client
        .get(format!(
            "{}/api/v1/audit/export?since=2000-01-01",
            app.base_url
        ))
        .bearer_auth(&s.auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-ndjson");
    let body = r.text().await.unwrap();
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert!(lines.len() >= 5);
    let seqs: Vec<i64> = lines.iter().map(|l| l["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    for l in &lines {
        for k in [
            "at",
            "actor_user",
            "action",
            "outcome",
            "hash",
            "prev_hash",
            "grant",
        ] {
            assert!(l.get(k).is_some(), "{k} missing in {l}");
        }
    }
    for p in PERSONAL {
        assert!(!body.contains(p), "the export holds {p}");
    }
    // From a cursor: only the later rows.
    let r = client
        .get(format!(
            "{}/api/v1/audit/export?after={}",
            app.base_url, seqs[2]
        ))
        .bearer_auth(&s.auditor)
        .send()
        .await
        .unwrap();
    let later = r.text().await.unwrap();
    let first: Value = serde_json::from_str(later.lines().next().unwrap()).unwrap();
    assert_eq!(first["seq"].as_i64().unwrap(), seqs[2] + 1);
    // The organisation admin's export holds only its own rows.
    let r = client
        .get(format!("{}/api/v1/audit/export", app.base_url))
        .bearer_auth(&s.admin_a_token)
        .send()
        .await
        .unwrap();
    let own = r.text().await.unwrap();
    let org_a = s.admin_a.org_id.to_string();
    for l in own.lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["actor_org"], org_a);
    }
    assert!(
        count_rows(
            app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'audit.export' AND detail LIKE 'via=api %'"
        )
        .await
            >= 3
    );

    // The CLI: the same JSON lines (the API's rows are a prefix: the CLI runs later).
    let out = dayaq_cli(
        &app.db,
        &[
            "audit",
            "export",
            "--since",
            "2000-01-01",
            "--format",
            "jsonl",
        ],
    );
    assert_cli_ok(&out);
    let cli = String::from_utf8(out.stdout).unwrap();
    let cli_lines: Vec<Value> = cli
        .lines()
        .map(|l| serde_json::from_str(l).expect("a CLI JSON line"))
        .collect();
    assert_eq!(&cli_lines[..lines.len()], &lines[..]);
    assert_eq!(
        count_rows(
            app,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'audit.export' AND actor_user LIKE 'cli:%'"
        )
        .await,
        1
    );
    // A bad date is refused naming the flag; an unknown format too.
    let out = dayaq_cli(&app.db, &["audit", "export", "--since", "2025-02-30"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--since"));
    let out = dayaq_cli(
        &app.db,
        &[
            "audit",
            "export",
            "--since",
            "2025-01-01",
            "--format",
            "csv",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--format"));

    // The tail: the last rows, then new ones while following.
    let out = dayaq_cli(&app.db, &["audit", "tail", "--lines", "3"]);
    assert_cli_ok(&out);
    let tail: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(tail.len(), 3);
    assert_eq!(tail[2]["action"], "audit.tail");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_dayaq"))
        .args([
            "audit",
            "tail",
            "--follow",
            "--lines",
            "0",
            "--interval-ms",
            "200",
            "--polls",
            "15",
            "--data-dir",
        ])
        .arg(&app.db.opts.data_dir)
        .arg("--master-key-file")
        .arg(app.db.opts.master_key_path())
        .args(
            app.db
                .opts
                .database_url
                .as_ref()
                .map(|u| vec!["--database-url".to_string(), u.clone()])
                .unwrap_or_default(),
        )
        .env_remove("DAYAQ_DATABASE_URL")
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let mut e = AuditEntry::new("test.followed", "success");
    e.detail = "n=1".into();
    app.db.store.audit(e, now()).await.unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(out.status.success());
    let followed = String::from_utf8(out.stdout).unwrap();
    assert!(
        followed.lines().any(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["action"] == "test.followed"
        }),
        "{followed}"
    );
    s.app.db.cleanup().await;
}

#[tokio::test]
async fn audit_archive_round_trip() {
    // Rows written "in 2020" (a controllable clock: `at` is passed in), then today's.
    let old = time::macros::datetime!(2020-06-01 12:00 UTC);
    let fresh = crate::kit::test_db().await;
    for i in 0..20 {
        let mut e = AuditEntry::new("test.old", "success");
        e.detail = format!("n={i}");
        fresh
            .store
            .audit(e, old + time::Duration::days(i))
            .await
            .unwrap();
    }
    for i in 0..5 {
        let mut e = AuditEntry::new("test.new", "success");
        e.detail = format!("n={i}");
        fresh.store.audit(e, now()).await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let seg1 = dir.path().join("seg1.jsonl");
    let out = dayaq_cli(
        &fresh,
        &[
            "audit",
            "archive",
            "--before",
            "2020-06-11",
            "--out",
            seg1.to_str().unwrap(),
        ],
    );
    assert_cli_ok(&out);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("archived rows 1..10 (10 rows)"), "{said}");
    // The segment verifies offline; the live chain still verifies.
    let out = dayaq_cli(
        &fresh,
        &["audit", "verify", "--segment", seg1.to_str().unwrap()],
    );
    assert_cli_ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("segment OK: rows 1..10"));
    let report = fresh.store.audit_verify().await.unwrap();
    assert_eq!(report.problems, vec![], "{report:?}");
    assert_eq!(
        count(&fresh, "SELECT COUNT(*) FROM audit_log WHERE seq <= 10").await,
        0
    );
    let out = dayaq_cli(&fresh, &["audit", "verify"]);
    assert_cli_ok(&out);
    // A second segment continues from the anchor.
    let seg2 = dir.path().join("seg2.jsonl");
    let out = dayaq_cli(
        &fresh,
        &[
            "audit",
            "archive",
            "--before",
            "2021-01-01",
            "--out",
            seg2.to_str().unwrap(),
        ],
    );
    assert_cli_ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("archived rows 11..20"));
    let out = dayaq_cli(
        &fresh,
        &["audit", "verify", "--segment", seg2.to_str().unwrap()],
    );
    assert_cli_ok(&out);
    assert_eq!(fresh.store.audit_verify().await.unwrap().problems, vec![]);
    // Nothing left that old: refused, no file left behind.
    let seg3 = dir.path().join("seg3.jsonl");
    let out = dayaq_cli(
        &fresh,
        &[
            "audit",
            "archive",
            "--before",
            "2021-01-01",
            "--out",
            seg3.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    assert!(!seg3.exists());
    // The archive rows are key operations in the viewer's terms, and stay in the live log.
    assert_eq!(
        count(
            &fresh,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'audit.archive' AND actor_user LIKE 'cli:%'"
        )
        .await,
        2
    );

    // A tampered segment fails: an edited detail, a dropped row.
    let text = std::fs::read_to_string(&seg1).unwrap();
    let edited = text.replacen("\"n=3\"", "\"n=33\"", 1);
    assert_ne!(edited, text);
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, &edited).unwrap();
    let out = dayaq_cli(
        &fresh,
        &["audit", "verify", "--segment", bad.to_str().unwrap()],
    );
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("row 4: edited"), "{said}");
    let mut lines: Vec<&str> = text.lines().collect();
    lines.remove(5);
    let dropped = dir.path().join("dropped.jsonl");
    std::fs::write(&dropped, lines.join("\n") + "\n").unwrap();
    let out = dayaq_cli(
        &fresh,
        &["audit", "verify", "--segment", dropped.to_str().unwrap()],
    );
    assert!(!out.status.success());

    // A forged anchor (rows cut, anchor inserted without the chain's archive row) is found.
    sqlx::query(
        "INSERT INTO audit_archive (last_seq, first_seq, first_prev_hash, last_hash, row_count, \
         segment_sha256, archived_at) SELECT seq, 21, '', hash, 1, 'x', 0 FROM audit_log WHERE seq = 21",
    )
    .execute(fresh.store.pool())
    .await
    .unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq = 21")
        .execute(fresh.store.pool())
        .await
        .unwrap();
    let problems = fresh.store.audit_verify().await.unwrap().problems;
    assert!(
        problems.contains(&Tamper::AnchorUnconfirmed { seq: 21 }),
        "{problems:?}"
    );
    fresh.cleanup().await;
}

async fn count(db: &crate::kit::TestDb, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(db.store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn auditor_filters_and_pages_the_viewer_in_a_browser() {
    run(
        "auditor_filters_and_pages_the_audit_viewer",
        |b, app| async move {
            let t = Catalogue::load("en");
            let (_, aud) = org_and_user(&app.db, "av-nrm", "auditor").await;
            app.db.store.set_locale(aud.id, "en").await.unwrap();
            for i in 0..60 {
                let mut e = AuditEntry::new("test.browser", "success");
                e.detail = format!("n={i}");
                app.db.store.audit(e, now()).await.unwrap();
            }
            let secret: &[u8; 20] = b"dayaq-e2e-audit-key1";
            app.db.store.totp_set_secret(&aud, secret).await.unwrap();
            b.sign_in(&aud.username, Some(secret)).await;
            b.click_to("#home-audit-log", "audit-log").await;
            assert_eq!(b.path().await, "/audit/log");
            assert_eq!(b.text("h1").await, t.get("aud-title"));
            b.fill("#aud-action", "test.browser").await;
            b.click_to("#aud-submit", "audit-log-filtered").await;
            assert_eq!(b.count("tr.aud-row").await, 50);
            b.narrow("audit-log-filtered").await;
            b.click_to("#aud-older", "audit-log-older").await;
            assert_eq!(b.count("tr.aud-row").await, 10);
            assert_eq!(b.count("#aud-older").await, 0);
            b.fill("#aud-since", "2025-02-30").await;
            b.click_to("#aud-submit", "audit-log-bad-date").await;
            assert_eq!(b.text("#aud-since-error").await, t.get("aud-err-date"));
            let kept = b
                .find("#aud-since")
                .await
                .prop("value")
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            assert_eq!(kept, "2025-02-30");
            assert_eq!(b.count("#aud-table").await, 0);
            b.narrow("audit-log-bad-date").await;
        },
    )
    .await;
}
