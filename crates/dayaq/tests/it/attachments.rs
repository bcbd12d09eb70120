//! Encrypted attachments (issue #21 §1): upload, list, download, delete on the API and the
//! screen; need-to-know by section; bad input leaves nothing behind; erasure shreds; the
//! repair command; the S3-compatible store against moto (started by `scripts/test`).

use crate::kit::{
    TestDb, accepted_vt_referral, api_request, attachment_upload, ctx, dayaq_cli, new_case,
    org_and_user, page_get, sign_in, spawn_app, test_db, user_token, web_client,
};
use bytes::Bytes;
use dayaq_domain::Actor;
use dayaq_storage::Store;
use dayaq_storage::StoreError;
use dayaq_storage::attachments::{Blobs, S3Config, ScanSession, Scanner};
use reqwest::StatusCode;
use reqwest::header::CONTENT_DISPOSITION;
use std::sync::Arc;

/// A small valid PDF-looking file (magic bytes decide the type) holding `marker`.
fn pdf(marker: &str, len: usize) -> Vec<u8> {
    let mut v = format!("%PDF-1.7\n% {marker}\n").into_bytes();
    while v.len() < len {
        v.extend_from_slice(b"0123456789abcdef");
    }
    v.truncate(len.max(20));
    v
}

/// A 2×2 PNG header (enough for the type and dimension checks).
fn png() -> Vec<u8> {
    let mut v = vec![
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0,
        0, 2, 0, 0, 0, 2, 8, 6, 0, 0, 0, 0x72, 0xb6, 0x0d, 0x24,
    ];
    v.extend_from_slice(b"PNGMARKER-identity-scan");
    v
}

/// `data` as an upload body in pieces of `piece` bytes.
fn body(
    data: Vec<u8>,
    piece: usize,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Unpin + Send {
    let parts: Vec<std::io::Result<Bytes>> = data
        .chunks(piece)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    futures_util::stream::iter(parts)
}

/// Every file under the local attachment directory, with its contents.
fn objects_on_disk(db: &TestDb) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut dirs = vec![db.opts.data_dir.join("attachments")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                out.push(std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

async fn rows(store: &Store) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM case_attachments")
        .fetch_one(store.pool())
        .await
        .unwrap()
}

async fn upload(
    store: &Store,
    who: &Actor,
    case: uuid::Uuid,
    section: &str,
    name: &str,
    data: Vec<u8>,
) -> Result<dayaq_storage::attachments::AttachmentView, StoreError> {
    store
        .upload_attachment(&ctx(who), case, section, Some(name), body(data, 10_000))
        .await
}

fn invalid_code(e: StoreError) -> (String, String) {
    match e {
        StoreError::Invalid(v) => (v.errors[0].field.clone(), v.errors[0].code.to_string()),
        other => panic!("expected a field error, got {other:?}"),
    }
}

async fn download_bytes(store: &Store, who: &Actor, case: uuid::Uuid, id: uuid::Uuid) -> Vec<u8> {
    use futures_util::StreamExt;
    let mut d = store
        .download_attachment(&ctx(who), case, id)
        .await
        .unwrap();
    let mut out = Vec::new();
    while let Some(p) = d.body.next().await {
        out.extend_from_slice(&p.unwrap());
    }
    out
}

/// `method` on attachment `id` of `case` with bearer `token`.
async fn att_call(
    app: &crate::kit::TestApp,
    token: &str,
    method: &str,
    case: &str,
    id: &str,
) -> reqwest::Response {
    let path = format!("/cases/{case}/attachments/{id}");
    api_request(app, Some(token), method, &path)
        .send()
        .await
        .unwrap()
}

/// Upload → list → download (bytes identical, neutral name, attachment disposition, audited)
/// → delete on the API; the object on disk holds no plaintext; a receiver with a vocational
/// training referral (identity, plan, services) sees the identity file only and changes
/// nothing; the screen lists by section.
#[tokio::test]
async fn attachments_api_round_trip_and_need_to_know() {
    let app = spawn_app().await;
    let store = &app.db.store;
    let (_, cw) = org_and_user(&app.db, "att-owner", "caseworker").await;
    let (_, rcv) = org_and_user(&app.db, "att-recv", "caseworker").await;
    let case = new_case(
        store,
        &cw.actor(),
        ["Leyla", "Attachova", "1991-01-01", "+994 55 111 22 33"],
    )
    .await;
    accepted_vt_referral(store, &cw.actor(), &rcv.actor(), case.id, "att-recv").await;
    let owner = user_token(&app.db, &cw).await;
    let receiver = user_token(&app.db, &rcv).await;
    let cid = case.id.to_string();

    let health = pdf("HEALTHMARKER-report", 200_000);
    let (s, h) = attachment_upload(
        &app,
        &owner,
        &cid,
        "health",
        "medical report.pdf",
        health.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{h}");
    assert_eq!(h["kind"], "pdf");
    assert_eq!(h["section"], "health");
    assert_eq!(h["name"], "medical report.pdf");
    let (s, i) = attachment_upload(&app, &owner, &cid, "identity", "passport.png", png()).await;
    assert_eq!(s, StatusCode::CREATED, "{i}");

    // Ciphertext only on disk: neither marker nor the name appears in any object.
    let objects = objects_on_disk(&app.db);
    assert_eq!(objects.len(), 2);
    for o in &objects {
        let text = String::from_utf8_lossy(o);
        assert!(
            !text.contains("HEALTHMARKER") && !text.contains("PNGMARKER") && !text.contains("%PDF")
        );
    }

    // Canary scan of the database files (SQLite): the name is sealed, the contents elsewhere.
    for f in ["dayaq.db", "dayaq.db-wal"] {
        let raw = std::fs::read(app.db.opts.data_dir.join(f)).unwrap_or_default();
        let text = String::from_utf8_lossy(&raw);
        assert!(
            !text.contains("medical report") && !text.contains("HEALTHMARKER"),
            "{f}"
        );
    }
    // The owner downloads the file back, whole, under a neutral name.
    let hid = h["id"].as_str().unwrap();
    let r = att_call(&app, &owner, "GET", &cid, hid).await;
    assert_eq!(r.status(), StatusCode::OK);
    let disp = r.headers()[CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disp.starts_with("attachment; filename=\"attachment-") && disp.ends_with(".pdf\""),
        "{disp}"
    );
    assert!(!disp.contains("medical"));
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.bytes().await.unwrap().to_vec(), health);
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'attachment.download' AND case_id = $1",
    )
    .bind(&cid)
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(audited, 1);

    // The receiver: the identity file only, in the list and by id; never the health file.
    let (s, list) = crate::kit::json_answer(api_request(
        &app,
        Some(&receiver),
        "GET",
        &format!("/cases/{cid}/attachments"),
    ))
    .await;
    assert_eq!(s, StatusCode::OK);
    let sections: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["section"].as_str().unwrap())
        .collect();
    assert_eq!(sections, vec!["identity"]);
    assert!(!list.to_string().contains("medical report"));
    let r = att_call(&app, &receiver, "GET", &cid, hid).await;
    assert!(
        matches!(r.status(), StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
        "{}",
        r.status()
    );
    let iid = i["id"].as_str().unwrap();
    let r = att_call(&app, &receiver, "GET", &cid, iid).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().to_vec(), png());
    // Read-only: no upload, no delete.
    let (s, _) = attachment_upload(&app, &receiver, &cid, "identity", "x.pdf", pdf("R", 100)).await;
    assert!(
        matches!(s, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
        "{s}"
    );
    let r = att_call(&app, &receiver, "DELETE", &cid, iid).await;
    assert!(
        matches!(r.status(), StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
        "{}",
        r.status()
    );

    // The screen: grouped by section, the receiver's page without the health file or form.
    let web = web_client();
    sign_in(&web, &app.base_url, &rcv.username).await;
    let (s, html) = page_get(&app, &web, &format!("/cases/{cid}/attachments")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("data-section=\"identity\"") && !html.contains("data-section=\"health\"")
    );
    assert!(!html.contains("medical report") && !html.contains("att-form"));
    let web = web_client();
    sign_in(&web, &app.base_url, &cw.username).await;
    let (_, html) = page_get(&app, &web, &format!("/cases/{cid}/attachments")).await;
    assert!(html.contains("medical report.pdf") && html.contains("id=\"att-form\""));

    // Delete: gone from the list and from the disk.
    let r = att_call(&app, &owner, "DELETE", &cid, hid).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(objects_on_disk(&app.db).len(), 1);
    assert_eq!(rows(store).await, 1);
}

/// (section, name, contents, expected (field, code)).
type BadUpload = (
    &'static str,
    &'static str,
    Vec<u8>,
    (&'static str, &'static str),
);

/// Over-size, wrong type, ZIP bomb, names that are paths or hold control characters, an
/// unknown section, an interrupted upload, an infected file: each a field error, and no row
/// and no object is left.
#[tokio::test]
async fn attachments_bad_input_leaves_nothing_behind() {
    let db = test_db().await;
    let (_, cw) = org_and_user(&db, "att-bad", "caseworker").await;
    let case = new_case(
        &db.store,
        &cw.actor(),
        ["Aygun", "Badova", "1990-02-02", "+994 55 222 33 44"],
    )
    .await;
    let small = db
        .store
        .clone()
        .with_attachment_store(db.store.attachment_store().clone().with_max_bytes(100_000));
    let a = cw.actor();
    let cases: Vec<BadUpload> = vec![
        (
            "health",
            "big.pdf",
            pdf("BIG", 300_000),
            ("file", "too_large"),
        ),
        (
            "health",
            "bomb.zip",
            {
                let mut z = b"PK\x03\x04\x14\x00\x00\x00\x08\x00".to_vec();
                z.extend(vec![0u8; 5000]);
                z
            },
            ("file", "type_not_allowed"),
        ),
        (
            "health",
            "notes.txt",
            b"plain text, not a document".to_vec(),
            ("file", "type_not_allowed"),
        ),
        (
            "health",
            "../../etc/passwd.pdf",
            pdf("P", 500),
            ("name", "path_not_allowed"),
        ),
        (
            "health",
            "a\u{0007}b.pdf",
            pdf("C", 500),
            ("name", "control_characters"),
        ),
        (
            "kitchen",
            "x.pdf",
            pdf("S", 500),
            ("section", "invalid_value"),
        ),
    ];
    for (section, name, data, want) in cases {
        let e = upload(&small, &a, case.id, section, name, data)
            .await
            .unwrap_err();
        assert_eq!(
            invalid_code(e),
            (want.0.to_string(), want.1.to_string()),
            "{name}"
        );
    }
    // An upload cut off after 150 kB.
    let mut parts: Vec<std::io::Result<Bytes>> = pdf("CUT", 150_000)
        .chunks(10_000)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    parts.push(Err(std::io::Error::other("connection reset")));
    let e = db
        .store
        .upload_attachment(
            &ctx(&a),
            case.id,
            "legal",
            Some("court.pdf"),
            futures_util::stream::iter(parts),
        )
        .await
        .unwrap_err();
    assert_eq!(invalid_code(e), ("file".into(), "interrupted".into()));
    // An infected file (a fake scanner that refuses a marker).
    let scanned = db.store.clone().with_attachment_store(
        db.store
            .attachment_store()
            .clone()
            .with_scanner(Arc::new(FakeScanner)),
    );
    let e = upload(
        &scanned,
        &a,
        case.id,
        "legal",
        "eicar.pdf",
        pdf("EICAR-TEST", 1000),
    )
    .await
    .unwrap_err();
    assert_eq!(invalid_code(e), ("file".into(), "malware".into()));
    assert!(
        upload(
            &scanned,
            &a,
            case.id,
            "legal",
            "clean.pdf",
            pdf("CLEAN", 1000)
        )
        .await
        .is_ok()
    );

    assert_eq!(rows(&db.store).await, 1, "only the clean file");
    assert_eq!(objects_on_disk(&db).len(), 1);
    let report = db
        .store
        .repair_attachments(crate::kit::now().unix_timestamp() * 1000, false)
        .await
        .unwrap();
    assert!(report.is_clean(), "{report:?}");
}

struct FakeScanner;
struct FakeScan(Vec<u8>);
impl Scanner for FakeScanner {
    fn begin(&self) -> Box<dyn ScanSession> {
        Box::new(FakeScan(Vec::new()))
    }
}
impl ScanSession for FakeScan {
    fn feed(&mut self, chunk: &[u8]) {
        self.0.extend_from_slice(chunk);
    }
    fn clean(self: Box<Self>) -> Result<bool, String> {
        Ok(!String::from_utf8_lossy(&self.0).contains("EICAR"))
    }
}

/// Erasing the case removes every object and row of its attachments (the names were sealed
/// under the destroyed key).
#[tokio::test]
async fn attachments_erasure_shreds_objects() {
    let db = test_db().await;
    let (_, sv) = org_and_user(&db, "att-erase", "supervisor").await;
    let a = sv.actor();
    let case = new_case(
        &db.store,
        &a,
        ["Nigar", "Erasova", "1989-03-03", "+994 55 333 44 55"],
    )
    .await;
    upload(
        &db.store,
        &a,
        case.id,
        "legal",
        "court.pdf",
        pdf("COURT", 70_000),
    )
    .await
    .unwrap();
    upload(&db.store, &a, case.id, "identity", "id.png", png())
        .await
        .unwrap();
    assert_eq!(objects_on_disk(&db).len(), 2);
    db.store.erase_case(&ctx(&a), case.id).await.unwrap();
    assert_eq!(objects_on_disk(&db).len(), 0);
    assert_eq!(rows(&db.store).await, 0);
}

/// Objects larger than one chunk round-trip; a missing object answers "unavailable"; the
/// repair command lists an orphan object and a stored row without its object, and `--fix`
/// removes the orphan.
#[tokio::test]
async fn attachments_missing_object_and_repair() {
    let db = test_db().await;
    let (_, cw) = org_and_user(&db, "att-repair", "caseworker").await;
    let a = cw.actor();
    let case = new_case(
        &db.store,
        &a,
        ["Sona", "Repairova", "1992-04-04", "+994 55 444 55 66"],
    )
    .await;
    let data = pdf("LONG", 3 * 64 * 1024 + 123);
    let v = upload(&db.store, &a, case.id, "plan", "plan.pdf", data.clone())
        .await
        .unwrap();
    assert_eq!(download_bytes(&db.store, &a, case.id, v.id).await, data);
    // Lose the object; add an orphan file.
    let dir = db.opts.data_dir.join("attachments");
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        std::fs::remove_file(e.path()).unwrap();
    }
    std::fs::write(dir.join("orphan-object"), b"junk").unwrap();
    match db.store.download_attachment(&ctx(&a), case.id, v.id).await {
        Err(StoreError::Unavailable(code)) => assert_eq!(code, "attachment_object_missing"),
        Err(e) => panic!("{e:?}"),
        Ok(_) => panic!("a missing object must not download"),
    }
    let out = dayaq_cli(&db, &["attachments", "repair"]);
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("orphan-object\torphan-object"), "{text}");
    assert!(
        text.contains(&format!("missing-object\t{}", v.id)),
        "{text}"
    );
    let out = dayaq_cli(&db, &["attachments", "repair", "--fix"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("fixed"));
    assert!(!dir.join("orphan-object").exists());
}

/// A store that does not answer: 503-class error, nothing kept.
#[tokio::test]
async fn attachments_store_down_is_unavailable_and_keeps_nothing() {
    let db = test_db().await;
    let (_, cw) = org_and_user(&db, "att-down", "caseworker").await;
    let a = cw.actor();
    let case = new_case(
        &db.store,
        &a,
        ["Gunel", "Downova", "1994-05-05", "+994 55 555 66 77"],
    )
    .await;
    // A port nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let down = Blobs::s3(&S3Config {
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        bucket: "dayaq".into(),
        region: "us-east-1".into(),
        access_key_id: "k".into(),
        secret_access_key: "s".into(),
        allow_http: true,
    })
    .unwrap();
    let store = db.store.clone().with_attachment_store(down);
    match upload(&store, &a, case.id, "health", "r.pdf", pdf("DOWN", 2000)).await {
        Err(StoreError::Unavailable(code)) => assert_eq!(code, "attachment_store_unavailable"),
        other => panic!("expected unavailable, got {:?}", other.map(|v| v.id)),
    }
    assert_eq!(rows(&db.store).await, 0);
}

/// The S3-compatible store against moto (`scripts/test` starts it and sets
/// `DAYAQ_TEST_S3_ENDPOINT`): upload, download, delete, and no plaintext in the bucket.
#[tokio::test]
async fn attachments_s3_round_trip() {
    let Ok(endpoint) = std::env::var("DAYAQ_TEST_S3_ENDPOINT") else {
        eprintln!(
            "\n!!!!!!!!!! attachments_s3_round_trip SKIPPED: DAYAQ_TEST_S3_ENDPOINT is not set \
             (scripts/test starts moto's S3 server; run the suite through it) !!!!!!!!!!\n"
        );
        return;
    };
    let db = test_db().await;
    let (_, cw) = org_and_user(&db, "att-s3", "caseworker").await;
    let a = cw.actor();
    let case = new_case(
        &db.store,
        &a,
        ["Aysel", "Bucketova", "1995-06-06", "+994 55 666 77 88"],
    )
    .await;
    // A bucket of this test's own (moto accepts an unsigned bucket creation).
    let bucket = format!("dayaq-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let made = crate::kit::local_client()
        .build()
        .expect("http client")
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .unwrap();
    assert!(
        made.status().is_success(),
        "create bucket: {}",
        made.status()
    );
    let s3 = Blobs::s3(&S3Config {
        endpoint: Some(endpoint),
        bucket,
        region: "us-east-1".into(),
        access_key_id: "testing".into(),
        secret_access_key: "testing".into(),
        allow_http: true,
    })
    .unwrap();
    let store = db.store.clone().with_attachment_store(s3);
    // Larger than one 5 MiB part: a real multipart upload.
    let data = pdf("S3MARKER", 6 * 1024 * 1024 + 17);
    let v = upload(&store, &a, case.id, "legal", "judgment.pdf", data.clone())
        .await
        .unwrap();
    assert_eq!(download_bytes(&store, &a, case.id, v.id).await, data);
    let sums = store.attachment_checksums().await.unwrap();
    assert_eq!(sums.len(), 1);
    store
        .delete_attachment(&ctx(&a), case.id, v.id)
        .await
        .unwrap();
    assert_eq!(rows(&store).await, 0);
    let report = store
        .repair_attachments(crate::kit::now().unix_timestamp() * 1000, false)
        .await
        .unwrap();
    assert!(report.orphan_objects.is_empty(), "{report:?}");
}
