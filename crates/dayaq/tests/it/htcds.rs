//! HTCDS import and export (CSV and XLSX) through the store, the HTTP API, the screen and the
//! command line, on the configured engine (see `kit::db`).
//!
//! Row numbers are spreadsheet rows: the header is row 1, so the n-th case of a file is row
//! n + 1.
//!
//! Why this file is over 800 lines: seven tests, one per path of the same file format (store
//! round trips, XLSX, the HTCDS template, roles, API, screen, CLI), kept with the row-number
//! helpers they share.

use crate::kit::{
    TestDb, api_token, assert_cli_ok, bearer_get, csrf_field, ctx, dayaq_cli, db_with_user, fetch,
    fetch_json, fetch_text, json_answer, org_and_user, sign_in, sign_in_with_second_factor,
    spawn_app, test_db, user_token, web_client,
};
use dayaq_domain::Actor;
use dayaq_storage::htcds::{COLUMNS, CsvSink, Format, ImportFailure, XlsxSink, parse};
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Instant;

// ---------- a synthetic HTCDS file ----------

/// One CSV field exactly as the exporter writes it: quoted when it holds `,` `"` CR or LF, and
/// guarded with a leading `'` when a spreadsheet would run it as a formula.
fn field(s: &str) -> String {
    let formula = match s.chars().next() {
        Some('=' | '@' | '\t' | '\r' | '\'') => true,
        Some('+' | '-') => !s
            .chars()
            .all(|c| c.is_ascii_digit() || " +-()./".contains(c)),
        _ => false,
    };
    let s = if formula {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn line(cells: &[String]) -> String {
    let mut l = cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(",");
    l.push_str("\r\n");
    l
}

fn header() -> String {
    line(
        &COLUMNS
            .iter()
            .map(|c| c.name.to_string())
            .collect::<Vec<_>>(),
    )
}

fn pick<'a>(xs: &[&'a str], i: usize) -> &'a str {
    xs[i % xs.len()]
}

/// Case `i` of the synthetic file, cells in `COLUMNS` order, as the export would write them
/// (an empty case number; multi-select values in byte order; every case starts as possible
/// victim).
fn synthetic(i: usize) -> Vec<String> {
    let closed = i % 7 == 3;
    let mut m: std::collections::HashMap<&str, String> = std::collections::HashMap::new();
    let first = [
        "Aysel",
        "Leyla",
        "Nigar",
        "Olga",
        "Günay",
        "Rəşad",
        "Иван",
        "O'Neil",
        "Ana, Maria",
    ];
    m.insert("prs_FirstName", format!("{} {i}", pick(&first, i)));
    if !i.is_multiple_of(3) {
        m.insert(
            "prs_MiddleName",
            pick(&["Kamal qızı", "\"Mila\"", "Ivanovna"], i).into(),
        );
    }
    m.insert(
        "prs_SecondName",
        pick(&["Məmmədova", "Petrova", "Əliyev", "Smith-Jones"], i / 3).into(),
    );
    if !i.is_multiple_of(11) {
        m.insert(
            "prs_Birthdate",
            format!("{}-{:02}-{:02}", 1960 + i % 45, 1 + i % 12, 1 + i % 28),
        );
    }
    m.insert(
        "prs_Gender",
        pick(
            &[
                "Feminine",
                "Masculine",
                "TransgenderFeminine",
                "TransgenderMasculine",
                "NonConforming",
                "NonSpecifiedUnknown",
            ],
            i,
        )
        .into(),
    );
    if !i.is_multiple_of(4) {
        m.insert(
            "prs_MaritalStatus",
            pick(
                &["Single", "Married", "Divorced", "RegisteredPartnership"],
                i,
            )
            .into(),
        );
        m.insert("prs_NumberOfChildren", (i % 5).to_string());
    }
    m.insert(
        "prs_PrimaryLanguage",
        pick(&["az", "ru", "en", "uzb"], i).into(),
    );
    if i.is_multiple_of(2) {
        m.insert("prs_SecondaryLanguage", pick(&["ru", "tr", "fa"], i).into());
    }
    m.insert(
        "prs_Citizenship",
        pick(&["AZ", "AZ;RU", "GE;UZ", "", "TJ"], i).into(),
    );
    m.insert("prs_IdentityNumber", format!("AZE {i:07}"));
    if !i.is_multiple_of(5) {
        m.insert("prs_Email", format!("person{i}@example.org"));
    }
    if i.is_multiple_of(6) {
        m.insert("prs_HomePhone", format!("+994 12 {:03} 00 00", i % 1000));
    }
    m.insert("prs_MobilePhone", format!("+994 50 {i:07}"));
    m.insert("prs_MailingStreet", format!("Nizami küç. {i}, mənzil 4"));
    m.insert(
        "prs_MailingCity",
        pick(&["Bakı", "Gəncə", "Sumqayıt", " Şəki "], i).into(),
    );
    m.insert("prs_MailingCountry", "AZ".into());
    m.insert(
        "vic_TraffickingStatus",
        "PossibleVictimOfTrafficking".into(),
    );
    m.insert(
        "vic_RelationshipToTrafficker",
        pick(&["Familial", "Acquainted", "Unaquainted", ""], i).into(),
    );
    m.insert("vic_AgeWhenTrafficked", (8 + i % 50).to_string());
    m.insert(
        "vic_RecruitmentWebsitesAndApps",
        pick(
            &[
                "4Sale;Telegram",
                "Facebook",
                "",
                "Instagram;TikTok;WhatsApp",
            ],
            i,
        )
        .into(),
    );
    m.insert(
        "vic_MethodOfRecruitment",
        pick(
            &[
                "ThroughATelevisionAdvert;ThroughAnOnlineAdvertisement",
                "AtWork",
                "",
            ],
            i,
        )
        .into(),
    );
    m.insert(
        "vic_MethodsOfControl",
        pick(
            &["DebtBondage;WithholdsDocuments", "", "PhysicalThreats"],
            i,
        )
        .into(),
    );
    m.insert(
        "vic_TypeOfExploitation",
        pick(
            &[
                "ForcedLabour",
                "ForcedLabour;SexualExploitation",
                "SexualExploitation",
                "ForcedBegging;Other",
            ],
            i,
        )
        .into(),
    );
    if i % 3 == 1 {
        m.insert("vic_ForcedLabourIndustry", "F_Construction".into());
    }
    if i % 4 == 2 {
        m.insert(
            "vic_TypeOfSexExploitation",
            "Pornography;Prostitution".into(),
        );
    }
    m.insert(
        "vic_Vulnerabilities",
        pick(&["Migration;Poverty", "", "Education"], i).into(),
    );
    m.insert(
        "cas_Status",
        if closed {
            pick(&["Closed", "ClosedReferred"], i / 7)
        } else {
            pick(&["Active", "FollowUp"], i)
        }
        .into(),
    );
    if closed {
        m.insert(
            "cas_ReasonForCaseClosure",
            "Returned home, \"safe\"\nwith family".into(),
        );
    }
    m.insert(
        "cco_CaseComment",
        pick(
            &[
                "Met at the shelter intake.",
                "=SUM(A1) typed by mistake",
                "two\r\nlines; and \"quotes\"",
                "",
                "\tindented",
            ],
            i,
        )
        .into(),
    );
    COLUMNS
        .iter()
        .map(|c| m.get(c.name).cloned().unwrap_or_default())
        .collect()
}

/// A CSV of `n` synthetic cases; `bad` = (spreadsheet row, column, value) inserts one more
/// case with that value at that row.
fn synthetic_csv(n: usize, bad: Option<(usize, &str, &str)>) -> String {
    let mut out = header();
    let mut cases = 0;
    let mut row = 2;
    while cases < n {
        if let Some((bad_row, column, value)) = bad
            && row == bad_row
        {
            let mut cells = synthetic(999_999);
            let i = COLUMNS.iter().position(|c| c.name == column).unwrap();
            cells[i] = value.to_string();
            out.push_str(&line(&cells));
        } else {
            out.push_str(&line(&synthetic(cases)));
            cases += 1;
        }
        row += 1;
    }
    out
}

/// The export with its case numbers blanked (the only column that differs by design).
fn without_case_numbers(csv: &str) -> String {
    let b = csv.as_bytes();
    let mut out = String::with_capacity(csv.len());
    let mut i = 0;
    while i < b.len() {
        let is_number = b.len() >= i + 16
            && &b[i..i + 3] == b"DQ-"
            && b[i + 3..i + 7].iter().all(u8::is_ascii_digit)
            && b[i + 7] == b'-'
            && b[i + 8..i + 16]
                .iter()
                .all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(c));
        if is_number {
            i += 16;
        } else {
            let ch = csv[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// The first `n` records of a CSV (a record ends at a CRLF outside quotes).
fn first_records(csv: &str, n: usize) -> String {
    let b = csv.as_bytes();
    let (mut records, mut quoted) = (0, false);
    for i in 0..b.len() {
        match b[i] {
            b'"' => quoted = !quoted,
            b'\n' if !quoted && i > 0 && b[i - 1] == b'\r' => {
                records += 1;
                if records == n {
                    return csv[..=i].to_string();
                }
            }
            _ => {}
        }
    }
    csv.to_string()
}

async fn export_csv(db: &TestDb, actor: &Actor) -> String {
    let mut sink = CsvSink::new(Vec::new()).unwrap();
    db.store.export_cases(&ctx(actor), &mut sink).await.unwrap();
    String::from_utf8(sink.finish().unwrap()).unwrap()
}

async fn audit_actions(db: &TestDb) -> Vec<(String, String)> {
    db.store
        .audit_recent(1000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.action, r.detail))
        .collect()
}

// ---------- the acceptance test ----------

/// A 10,000-case file with one more, bad, case at spreadsheet row 7431 (column prs_Gender)
/// writes nothing and names row 7431 and prs_Gender. Without that row the 10,000 cases import,
/// and export back to the very same file (case numbers aside); export → import into a fresh
/// database → export gives the same file again.
#[tokio::test]
async fn ten_thousand_rows_all_or_nothing_and_identical_round_trip() {
    let (db, user) = db_with_user("org-a", "caseworker").await;
    let actor = user.actor();

    let bad = synthetic_csv(10_000, Some((7431, "prs_Gender", "Female-Secret")));
    assert_eq!(bad.matches("Female-Secret").count(), 1);
    let err = match db
        .store
        .import_file(&ctx(&actor), bad.into_bytes(), Format::Csv)
        .await
    {
        Err(ImportFailure::Invalid(e)) => e,
        other => panic!("the bad file must be refused, got {other:?}"),
    };
    assert_eq!(err.errors.len(), 1, "{:?}", err.errors);
    let e = &err.errors[0];
    assert_eq!(
        (e.row, e.column.as_str(), e.code),
        (7431, "prs_Gender", "invalid_value")
    );
    assert!(!e.message.contains("Female-Secret"));
    assert_eq!(
        e.to_string(),
        format!("row 7431, column prs_Gender: {}", e.message)
    );
    assert_eq!(db.store.count_cases(&ctx(&actor)).await.unwrap(), 0);
    assert!(
        !audit_actions(&db)
            .await
            .iter()
            .any(|(a, _)| a == "case.import")
    );

    let good = synthetic_csv(10_000, None);
    let started = Instant::now();
    let report = db
        .store
        .import_file(&ctx(&actor), good.clone().into_bytes(), Format::Csv)
        .await
        .unwrap();
    let took = started.elapsed();
    eprintln!(
        "HTCDS import of 10,000 CSV rows on {}: {:.2} s ({:.0} rows/s)",
        db.store.engine().name(),
        took.as_secs_f64(),
        10_000.0 / took.as_secs_f64()
    );
    assert_eq!(report.imported, 10_000);
    assert_eq!(db.store.count_cases(&ctx(&actor)).await.unwrap(), 10_000);
    // One audit entry for the whole import, not one per case.
    let actions = audit_actions(&db).await;
    let imports: Vec<&(String, String)> =
        actions.iter().filter(|(a, _)| a == "case.import").collect();
    assert_eq!(imports.len(), 1);
    assert_eq!(imports[0].1, "count=10000");
    assert!(!actions.iter().any(|(a, _)| a == "case.create"));

    let started = Instant::now();
    let first = export_csv(&db, &actor).await;
    eprintln!(
        "HTCDS export of 10,000 cases: {:.2} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(first.matches("DQ-").count(), 10_000);
    assert_eq!(
        without_case_numbers(&first),
        good,
        "import → export is exact"
    );
    let exports: Vec<(String, String)> = audit_actions(&db)
        .await
        .into_iter()
        .filter(|(a, _)| a == "case.export")
        .collect();
    assert_eq!(exports, vec![("case.export".into(), "count=10000".into())]);

    // Another organisation sees none of them.
    let (_, other) = org_and_user(&db, "org-b", "caseworker").await;
    assert_eq!(export_csv(&db, &other.actor()).await, header());

    // Export → import into a fresh database → export: the same file. (The first 2,000 cases
    // of the export, to keep the test quick: the 10,000 above already came back exactly.)
    let slice = first_records(&first, 2_001);
    let db2 = test_db().await;
    let (_, user2) = org_and_user(&db2, "org-c", "supervisor").await;
    let actor2 = user2.actor();
    let report = db2
        .store
        .import_file(&ctx(&actor2), slice.clone().into_bytes(), Format::Csv)
        .await
        .unwrap();
    assert_eq!(report.imported, 2_000);
    let ignored: Vec<(&str, &str)> = report
        .ignored_columns
        .iter()
        .map(|c| (c.column.as_str(), c.code))
        .collect();
    assert_eq!(
        ignored,
        vec![
            ("case_number", "read_only"),
            ("vic_TraffickingStatus", "read_only")
        ]
    );
    let second = export_csv(&db2, &actor2).await;
    assert_eq!(without_case_numbers(&second), without_case_numbers(&slice));
    assert_ne!(second, slice, "new case numbers are assigned");
    db2.cleanup().await;
    db.cleanup().await;
}

#[tokio::test]
async fn xlsx_round_trip() {
    let (db, user) = db_with_user("org-a", "caseworker").await;
    let actor = user.actor();
    let csv = synthetic_csv(300, None);
    db.store
        .import_file(&ctx(&actor), csv.clone().into_bytes(), Format::Csv)
        .await
        .unwrap();
    let mut sink = XlsxSink::new().unwrap();
    assert_eq!(
        db.store
            .export_cases(&ctx(&actor), &mut sink)
            .await
            .unwrap(),
        300
    );
    let xlsx = sink.finish().unwrap();
    assert_eq!(Format::sniff(&xlsx), Format::Xlsx);
    // The workbook reads back as the same cases.
    let today = time::OffsetDateTime::now_utc().date();
    assert_eq!(
        parse(&xlsx, Format::Xlsx, today).unwrap().cases,
        parse(csv.as_bytes(), Format::Csv, today).unwrap().cases
    );
    let (_, user2) = org_and_user(&db, "org-b", "caseworker").await;
    let actor2 = user2.actor();
    let report = db
        .store
        .import_file(&ctx(&actor2), xlsx, Format::Xlsx)
        .await
        .unwrap();
    assert_eq!(report.imported, 300);
    assert_eq!(
        without_case_numbers(&export_csv(&db, &actor2).await),
        without_case_numbers(&export_csv(&db, &actor).await)
    );
    assert_eq!(without_case_numbers(&export_csv(&db, &actor).await), csv);
    db.cleanup().await;
}

fn template_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/htcds/Toolkit/HTCDS Excel Spreadsheet v2.0.xlsx")
}

/// The HTCDS Excel template (field names in a hidden first row, labels in the second, a
/// numbering column) imports; it has no cases.
#[tokio::test]
async fn the_htcds_excel_template_imports() {
    let Ok(bytes) = std::fs::read(template_path()) else {
        eprintln!(
            "SKIPPED: the HTCDS template is not at {}",
            template_path().display()
        );
        return;
    };
    let (db, user) = db_with_user("org-a", "caseworker").await;
    let actor = user.actor();
    let report = db
        .store
        .import_file(&ctx(&actor), bytes, Format::Xlsx)
        .await
        .unwrap();
    assert_eq!(report.imported, 0);
    // Only the numbering column (no header) holds data.
    let ignored: Vec<(&str, &str)> = report
        .ignored_columns
        .iter()
        .map(|c| (c.column.as_str(), c.code))
        .collect();
    assert_eq!(ignored, vec![("A", "no_header")]);
    assert_eq!(db.store.count_cases(&ctx(&actor)).await.unwrap(), 0);
    db.cleanup().await;
}

#[tokio::test]
async fn roles_are_checked_before_the_file_is_read() {
    let (db, hotline) = db_with_user("org-a", "hotline_operator").await;
    let (_, researcher) = org_and_user(&db, "org-a", "researcher").await;
    let file = synthetic_csv(3, None).into_bytes();
    for (who, reason) in [
        (&hotline, "role_cannot_import"),
        (&researcher, "role_without_case_access"),
    ] {
        match db
            .store
            .import_file(&ctx(&who.actor()), file.clone(), Format::Csv)
            .await
        {
            Err(ImportFailure::Store(dayaq_storage::StoreError::Forbidden(r))) => {
                assert_eq!(r, reason)
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    // A hotline operator may export the organisation's cases; a researcher may not.
    let mut v: Vec<dayaq_domain::case::CaseView> = Vec::new();
    assert_eq!(
        db.store
            .export_cases(&ctx(&hotline.actor()), &mut v)
            .await
            .unwrap(),
        0
    );
    assert!(
        db.store
            .export_cases(&ctx(&researcher.actor()), &mut v)
            .await
            .is_err()
    );
    db.cleanup().await;
}

// ---------- HTTP ----------

#[tokio::test]
async fn api_import_and_export() {
    let app = spawn_app().await;
    let base = &app.base_url;
    let (_, user_a) = org_and_user(&app.db, "org-a", "caseworker").await;
    let (_, user_b) = org_and_user(&app.db, "org-b", "caseworker").await;
    let a = user_token(&app.db, &user_a).await;
    let b = user_token(&app.db, &user_b).await;
    let c = web_client();

    let bad = synthetic_csv(50, Some((31, "prs_Citizenship", "AZ;Narnia")));
    let (status, body) = json_answer(
        c.post(format!("{base}/api/v1/import/htcds"))
            .bearer_auth(&a)
            .header("content-type", "text/csv")
            .body(bad),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["code"], "invalid_input");
    assert_eq!(
        body["error"]["errors"],
        serde_json::json!([{
            "row": 31,
            "column": "prs_Citizenship",
            "code": "invalid_country",
            "message": "prs_Citizenship[1] must be an ISO 3166-1 alpha-2 code such as AZ"
        }])
    );
    assert!(!body.to_string().contains("Narnia"));

    let r = c
        .post(format!("{base}/api/v1/import/htcds"))
        .bearer_auth(&a)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let good = synthetic_csv(50, None);
    let r = c
        .post(format!("{base}/api/v1/import/htcds"))
        .bearer_auth(&a)
        .header("content-type", "text/csv; charset=utf-8")
        .body(good.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["imported"], 50);

    // Exports with identities need a session with a second factor (issue 14 item 5): the
    // bearer token is refused, the caseworkers sign in with their second factor instead.
    let r = bearer_get(&c, format!("{base}/api/v1/export/htcds?format=csv"), &a).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (sa, sb) = (web_client(), web_client());
    sign_in_with_second_factor(&sa, base, &app.db.store, &user_a).await;
    sign_in_with_second_factor(&sb, base, &app.db.store, &user_b).await;

    let r = fetch(&sa, format!("{base}/api/v1/export/htcds?format=csv")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with("attachment; filename=\"htcds-export-")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    assert_eq!(r.headers()["cache-control"], "no-store");
    let exported = r.text().await.unwrap();
    assert_eq!(without_case_numbers(&exported), good);

    // Default format is CSV; XLSX is a workbook; an unknown format is refused.
    let r = fetch(&sa, format!("{base}/api/v1/export/htcds?format=xlsx")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .ends_with(".xlsx\"")
    );
    let xlsx = r.bytes().await.unwrap().to_vec();
    // The workbook imports into another organisation over the API.
    let r = c
        .post(format!("{base}/api/v1/import/htcds"))
        .bearer_auth(&b)
        .header("content-type", Format::XLSX_MEDIA_TYPE)
        .body(xlsx)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["imported"], 50);
    let r = bearer_get(&c, format!("{base}/api/v1/export/htcds?format=pdf"), &a).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Each organisation exports only its own cases.
    let export_b = fetch_text(&sb, format!("{base}/api/v1/export/htcds")).await;
    assert_eq!(without_case_numbers(&export_b), good);
    let numbers = |s: &str| -> Vec<String> {
        s.lines()
            .filter_map(|l| l.split(',').next())
            .filter(|n| n.starts_with("DQ-"))
            .map(str::to_string)
            .collect()
    };
    let (na, nb) = (numbers(&exported), numbers(&export_b));
    assert_eq!(na.len(), 50);
    assert!(na.iter().all(|n| !nb.contains(n)));

    // A hotline operator may not import; OpenAPI lists both routes.
    let h = api_token(&app.db, "org-a", "hotline_operator").await;
    let r = c
        .post(format!("{base}/api/v1/import/htcds"))
        .bearer_auth(&h)
        .header("content-type", "text/csv")
        .body(good)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let doc: Value = fetch_json(&c, format!("{base}/api/v1/openapi.json")).await;
    assert!(doc["paths"]["/import/htcds"]["post"].is_object());
    assert!(doc["paths"]["/export/htcds"]["get"].is_object());
}

/// The screen: export links, and an upload (multipart, CSRF token in the header as htmx sends
/// it) whose problems are listed as a table in the user's language.
#[tokio::test]
async fn screen_lists_problems_and_imports() {
    let app = spawn_app().await;
    let base = &app.base_url;
    let (_, user) = org_and_user(&app.db, "org-a", "caseworker").await;
    app.db.store.set_locale(user.id, "ru").await.unwrap();
    let c = web_client();
    sign_in(&c, base, &user.username).await;
    let page = fetch(&c, format!("{base}/htcds")).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Импорт и экспорт HTCDS"));
    // Without a second factor: only the export without identities is offered.
    assert!(html.contains("href=\"/htcds/export?format=csv&amp;identity=none\""));
    assert!(!html.contains("href=\"/htcds/export?format=csv\""));
    let csrf = csrf_field(&html);

    let upload = |file: String, token: Option<String>| {
        let boundary = "dayaqTestBoundary42";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.csv\"\r\n\
             Content-Type: text/csv\r\n\r\n{file}\r\n--{boundary}--\r\n"
        );
        let mut rq = c
            .post(format!("{base}/htcds/import"))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header("hx-request", "true")
            .body(body);
        if let Some(t) = token {
            rq = rq.header("x-csrf-token", t);
        }
        rq.send()
    };
    // Without the CSRF header (a browser without JavaScript) the upload is refused.
    // (The "session ended" answer of issue #23 §2: nothing is applied.)
    let r = upload(synthetic_csv(3, None), None).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let bad = synthetic_csv(5, Some((4, "prs_Gender", "Weiblich")));
    let r = upload(bad, Some(csrf.clone())).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("id=\"import-errors\""), "{html}");
    assert!(html.contains(
        "<td>4</td><td><code>prs_Gender</code></td><td>не входит в число допустимых значений</td>"
    ));
    assert!(html.contains("Ничего не импортировано: найдена 1 ошибка."));
    assert!(!html.contains("Weiblich"));
    assert_eq!(
        app.db.store.count_cases(&ctx(&user.actor())).await.unwrap(),
        0
    );

    let r = upload(synthetic_csv(5, None), Some(csrf.clone()))
        .await
        .unwrap();
    let html = r.text().await.unwrap();
    assert!(html.contains("Импортировано 5 дел."), "{html}");
    assert!(html.contains("id=\"import-ignored\""));

    let r = fetch(&c, format!("{base}/htcds/export?format=xlsx&identity=none")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
}

// ---------- command line ----------

#[tokio::test]
async fn cli_import_and_export() {
    let (db, user) = db_with_user("org-a", "caseworker").await;
    let dir = db.dir.path().to_path_buf();

    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        synthetic_csv(20, Some((12, "prs_Birthdate", "2999-01-01"))),
    )
    .unwrap();
    let out = dayaq_cli(
        &db,
        &[
            "import",
            "htcds",
            bad.to_str().unwrap(),
            "--as",
            &user.username,
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l == "row 12, column prs_Birthdate: prs_Birthdate is in the future"),
        "{stderr}"
    );
    assert!(!stderr.contains("2999"));
    assert_eq!(db.store.count_cases(&ctx(&user.actor())).await.unwrap(), 0);

    let good = dir.join("good.csv");
    let csv = synthetic_csv(20, None);
    std::fs::write(&good, &csv).unwrap();
    let out = dayaq_cli(
        &db,
        &[
            "import",
            "htcds",
            good.to_str().unwrap(),
            "--as",
            &user.username,
        ],
    );
    assert_cli_ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported 20 case(s)"));

    for ext in ["csv", "xlsx"] {
        let file = dir.join(format!("export.{ext}"));
        let out = dayaq_cli(
            &db,
            &[
                "export",
                "htcds",
                "--as",
                &user.username,
                "--out",
                file.to_str().unwrap(),
            ],
        );
        assert_cli_ok(&out);
        let bytes = std::fs::read(&file).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "the export is private to its owner");
        }
        let today = time::OffsetDateTime::now_utc().date();
        let format = if ext == "csv" {
            Format::Csv
        } else {
            Format::Xlsx
        };
        assert_eq!(
            parse(&bytes, format, today).unwrap().cases,
            parse(csv.as_bytes(), Format::Csv, today).unwrap().cases
        );
        if ext == "csv" {
            assert_eq!(
                without_case_numbers(&String::from_utf8(bytes).unwrap()),
                csv
            );
        }
        // An existing file is never overwritten.
        let again = dayaq_cli(
            &db,
            &[
                "export",
                "htcds",
                "--as",
                &user.username,
                "--out",
                file.to_str().unwrap(),
            ],
        );
        assert_eq!(again.status.code(), Some(1));
    }

    // Another user's rights apply: a researcher may not export.
    let (_, researcher) = org_and_user(&db, "org-a", "researcher").await;
    let file = dir.join("r.csv");
    let out = dayaq_cli(
        &db,
        &[
            "export",
            "htcds",
            "--as",
            &researcher.username,
            "--out",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(!file.exists());
    db.cleanup().await;
}
