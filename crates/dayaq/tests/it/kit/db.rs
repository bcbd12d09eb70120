//! The store and the running application: a fresh store per test on the configured engine
//! (SQLite, or PostgreSQL when `DAYAQ_TEST_DATABASE_URL` is set), the application served on a
//! random local port, the `dayaq` binary, and seed data (organisations, users, cases).
//!
//! The engine is chosen by `DAYAQ_TEST_DATABASE_URL`: unset means SQLite in a temporary
//! directory; a `postgres://` URL means a fresh database `dayaq_t_<hex>` on that server per
//! test (dropped again when the `TestDb` is dropped).

use dayaq_domain::Actor;
use dayaq_domain::assistance::fmt_date;
use dayaq_domain::case::{CaseInput, CaseView, ValidCase};
use dayaq_domain::identification::DecisionInput;
use dayaq_domain::referral::ReferralEvent;
use dayaq_http::AppConfig;
use dayaq_storage::cases::Ctx;
use dayaq_storage::identification::ConsentInput;
use dayaq_storage::orgs::Organisation;
use dayaq_storage::referrals::ReferralInput;
use dayaq_storage::users::User;
use dayaq_storage::{OpenOptions, Store};
use sqlx::Connection;
use std::path::PathBuf;
use std::sync::Once;
use time::OffsetDateTime;

pub const PG_ENV: &str = "DAYAQ_TEST_DATABASE_URL";
pub const PASSWORD: &str = "correct horse battery staple";
pub const SOURCE: &str = "127.0.0.1";

static SKIP_WARNING: Once = Once::new();

/// The PostgreSQL server URL to test against, if configured.
pub fn pg_url() -> Option<String> {
    std::env::var(PG_ENV).ok().filter(|u| !u.trim().is_empty())
}

/// "postgres" or "sqlite": the engine the tests in this run exercise.
pub fn engine_name() -> &'static str {
    if pg_url().is_some() {
        "postgres"
    } else {
        "sqlite"
    }
}

/// Prints (once per process) a loud warning when PostgreSQL is not being tested.
pub fn warn_if_pg_skipped() {
    if pg_url().is_none() {
        SKIP_WARNING.call_once(|| {
            eprintln!(
                "\n\
                 ********************************************************************\n\
                 ** WARNING: PostgreSQL backend SKIPPED: {PG_ENV} is not set;\n\
                 ** only SQLite is tested. Set e.g.\n\
                 **   {PG_ENV}=postgres://root@127.0.0.1:5432/postgres\n\
                 ********************************************************************\n"
            );
        });
    }
}

/// `url` with its database name replaced by `db` (query string kept).
pub fn with_database(url: &str, db: &str) -> String {
    let (main, query) = match url.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (url, None),
    };
    let authority_start = main.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match main[authority_start..].find('/') {
        Some(i) => &main[..authority_start + i],
        None => main,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

/// A fresh, empty store on the configured engine.
pub struct TestDb {
    pub store: Store,
    pub opts: OpenOptions,
    pub dir: tempfile::TempDir,
    pg_name: Option<String>,
}

impl TestDb {
    /// Closes the pool and drops the PostgreSQL database (also done, best-effort, on drop).
    pub async fn cleanup(self) {
        self.store.close().await;
        drop(self);
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (Some(name), Some(admin)) = (self.pg_name.take(), pg_url()) else {
            return;
        };
        // Best effort, on a thread of its own so that it works inside or outside a runtime.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(drop_pg_database(&admin, &name));
        })
        .join();
    }
}

/// Drops database `name` (terminating any connection still open to it).
async fn drop_pg_database(admin_url: &str, name: &str) {
    if let Ok(mut c) = sqlx::PgConnection::connect(admin_url).await {
        let q = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(q)).execute(&mut c).await {
            eprintln!("could not drop test database {name}: {e}");
        }
        let _ = c.close().await;
    }
}

/// Creates database `name` on the server at `admin_url`.
async fn create_pg_database(admin_url: &str, name: &str) {
    let mut last_err = String::new();
    for attempt in 0..5 {
        match sqlx::PgConnection::connect(admin_url).await {
            Ok(mut c) => {
                let q = format!("CREATE DATABASE {name}");
                let mut r = sqlx::query(sqlx::AssertSqlSafe(q)).execute(&mut c).await;
                if r.is_ok() {
                    // A test database is thrown away after its test: its commits need not wait
                    // for the WAL flush (the product's own setting is untouched; this is the
                    // test database's default, as `synchronous = FULL` on a tmpfs is for SQLite).
                    let q = format!("ALTER DATABASE {name} SET synchronous_commit = off");
                    r = sqlx::query(sqlx::AssertSqlSafe(q)).execute(&mut c).await;
                }
                let _ = c.close().await;
                match r {
                    Ok(_) => return,
                    Err(e) => last_err = e.to_string(),
                }
            }
            Err(e) => last_err = e.to_string(),
        }
        tokio::time::sleep(std::time::Duration::from_millis(200 * (attempt + 1))).await;
    }
    panic!("cannot create test database {name} through {PG_ENV}: {last_err}");
}

/// Opens a fresh store: SQLite in a temporary directory, or a new PostgreSQL database when
/// `DAYAQ_TEST_DATABASE_URL` is set. The master key file lives in the temporary directory.
pub async fn test_db() -> TestDb {
    test_db_with_key(None).await
}

/// Like `test_db`, with the master key read from (or created at) `master_key_file`.
pub async fn test_db_with_key(master_key_file: Option<PathBuf>) -> TestDb {
    match pg_url() {
        Some(url) => {
            let name = format!(
                "dayaq_t_{}",
                &uuid::Uuid::new_v4().simple().to_string()[..16]
            );
            create_pg_database(&url, &name).await;
            let dir = tempfile::tempdir().expect("temp dir");
            let mut opts = OpenOptions::new(dir.path().join("data"));
            opts.database_url = Some(with_database(&url, &name));
            opts.max_connections = 4;
            opts.master_key_file = master_key_file;
            match Store::open(&opts).await {
                Ok(store) => TestDb {
                    store,
                    opts,
                    dir,
                    pg_name: Some(name),
                },
                Err(e) => {
                    drop_pg_database(&url, &name).await;
                    panic!("open PostgreSQL test store: {e}");
                }
            }
        }
        None => {
            warn_if_pg_skipped();
            sqlite_db_with_key(master_key_file).await
        }
    }
}

/// A fresh SQLite store in a temporary directory, whatever the configured engine.
pub async fn sqlite_db() -> TestDb {
    sqlite_db_with_key(None).await
}

pub async fn sqlite_db_with_key(master_key_file: Option<PathBuf>) -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut opts = OpenOptions::new(dir.path().join("data"));
    opts.master_key_file = master_key_file;
    let store = Store::open(&opts).await.expect("open SQLite test store");
    TestDb {
        store,
        opts,
        dir,
        pg_name: None,
    }
}

pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// A fresh store (see [`test_db`]) with one user of `role` in the organisation `slug`.
pub async fn db_with_user(slug: &str, role: &str) -> (TestDb, User) {
    let db = test_db().await;
    let (_, user) = org_and_user(&db, slug, role).await;
    (db, user)
}

/// An organisation with slug `slug` and one user `<slug>-<role>` with `role`.
pub async fn org_and_user(db: &TestDb, slug: &str, role: &str) -> (Organisation, User) {
    let org = match db.store.org_by_slug(slug).await {
        Ok(o) => o,
        Err(_) => db
            .store
            .add_org(slug, &format!("Organisation {slug}"), "NGO", "Baku", now())
            .await
            .expect("add_org"),
    };
    let username = format!("{slug}-{}", role.replace('_', "-"));
    let user = db
        .store
        .add_user(slug, role, &username, PASSWORD, now())
        .await
        .expect("add_user");
    (org, user)
}

/// A request context for `actor` from 127.0.0.1 at the current time.
pub fn ctx(actor: &Actor) -> Ctx<'_> {
    Ctx {
        actor,
        source: SOURCE,
        now: now(),
    }
}

/// A valid case with the given identity fields (HTCDS keys).
pub fn sample_case(first: &str, second: &str, birth: &str, phone: &str) -> ValidCase {
    let input: CaseInput = serde_json::from_value(serde_json::json!({
        "prs_FirstName": first,
        "prs_SecondName": second,
        "prs_Birthdate": birth,
        "prs_MobilePhone": phone,
        "prs_Gender": "Feminine",
        "prs_Citizenship": ["AZ"],
        "vic_TypeOfExploitation": ["SexualExploitation"],
        "cco_CaseComment": format!("Met {first} at the shelter intake."),
    }))
    .expect("sample CaseInput");
    input.validate(now().date()).expect("sample case is valid")
}

/// A case that `actor` records now, with the identity fields `[first, second, birth, phone]`
/// (see [`sample_case`]).
pub async fn new_case(store: &Store, actor: &Actor, identity: [&str; 4]) -> CaseView {
    let [first, second, birth, phone] = identity;
    store
        .create_case(&ctx(actor), &sample_case(first, second, birth, phone))
        .await
        .expect("create_case")
}

/// The police decision `status` (an HTCDS `vic_TraffickingStatus`) on `case`, recorded today
/// by `police`.
pub async fn decide_identification(store: &Store, police: &Actor, case: uuid::Uuid, status: &str) {
    let today = now().date();
    let d: DecisionInput = serde_json::from_value(serde_json::json!({
        "vic_TraffickingStatus": status,
        "vic_TraffickingStatusDecisionMakingOrg": "Police",
        "decided_on": fmt_date(today),
        "reference": "ATD-1",
    }))
    .expect("sample DecisionInput");
    let v = d.validate(today).expect("sample decision is valid");
    store
        .decide_identification(&ctx(police), case, &v)
        .await
        .expect("decide_identification");
}

/// `cw` refers `case` to organisation `to_org` for vocational training, with the survivor's
/// consent to share with that organisation; `receiver` (of `to_org`) accepts the referral.
pub async fn accepted_vt_referral(
    store: &Store,
    cw: &Actor,
    receiver: &Actor,
    case: uuid::Uuid,
    to_org: &str,
) {
    accepted_referral(store, cw, receiver, case, to_org, &["VocationalTraining"]).await;
}

/// `cw` refers `case` to organisation `to_org` for `services`, with the survivor's consent to
/// share with that organisation; `receiver` (of `to_org`) accepts the referral.
pub async fn accepted_referral(
    store: &Store,
    cw: &Actor,
    receiver: &Actor,
    case: uuid::Uuid,
    to_org: &str,
    services: &[&str],
) {
    let r = pending_referral(store, cw, case, to_org, services).await;
    store
        .respond_referral(&ctx(receiver), r, ReferralEvent::Accept, None)
        .await
        .expect("accept the referral");
}

/// `cw` refers `case` to organisation `to_org` for `services`, with the survivor's consent to
/// share with that organisation; the referral (its id is returned) waits for an answer.
pub async fn pending_referral(
    store: &Store,
    cw: &Actor,
    case: uuid::Uuid,
    to_org: &str,
    services: &[&str],
) -> uuid::Uuid {
    pending_referral_in(store, &ctx(cw), case, to_org, services).await
}

/// The referral of [`accepted_vt_referral`] (consent, then referral) made in the context
/// `cx` (its time is the referral's), not answered yet: its id.
pub async fn pending_vt_referral(
    store: &Store,
    cx: &Ctx<'_>,
    case: uuid::Uuid,
    to_org: &str,
) -> uuid::Uuid {
    pending_referral_in(store, cx, case, to_org, &["VocationalTraining"]).await
}

/// Consent to share with `to_org`, then a referral for `services`, both in the context `cx`.
async fn pending_referral_in(
    store: &Store,
    cx: &Ctx<'_>,
    case: uuid::Uuid,
    to_org: &str,
    services: &[&str],
) -> uuid::Uuid {
    let consent = ConsentInput {
        purpose: "SharingWithOrganisation".into(),
        given: true,
        recipient_org: Some(to_org.into()),
        recipient_org_type: None,
        given_by: "Survivor".into(),
        language: "az".into(),
    };
    store
        .add_consent(cx, case, &consent)
        .await
        .expect("add_consent");
    let referral = ReferralInput {
        to_org: to_org.into(),
        services: services.iter().map(|s| s.to_string()).collect(),
        reason: "AdditionalServicesRequired".into(),
        details: None,
        consent_override_reason: None,
        travel: None,
    };
    store
        .create_referral(cx, case, &referral)
        .await
        .expect("create_referral")
        .id
}

/// The application served on an ephemeral local port over a fresh test store.
pub struct TestApp {
    pub base_url: String,
    pub db: TestDb,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(generous_config()).await
}

/// The test servers' configuration: the default, with rate limits no test reaches (the
/// authorisation matrix alone makes ~18,500 calls from 127.0.0.1). `security_auth` proves
/// the default limits with `spawn_app_with`.
pub fn generous_config() -> AppConfig {
    let generous = dayaq_http::ratelimit::Limit {
        burst: 1_000_000,
        period: std::time::Duration::from_micros(1),
    };
    AppConfig {
        rate_limits: dayaq_http::ratelimit::RateLimits {
            signin: generous,
            api: generous,
        },
        ..AppConfig::default()
    }
}

/// Like [`spawn_app`] with the given configuration.
pub async fn spawn_app_with(cfg: AppConfig) -> TestApp {
    let db = test_db().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local_addr");
    let store = db.store.clone();
    tokio::spawn(async move {
        if let Err(e) = dayaq_http::serve(listener, store, cfg).await {
            eprintln!("test server stopped: {e}");
        }
    });
    TestApp {
        base_url: format!("http://{addr}"),
        db,
    }
}

/// The `dayaq` binary on `db`'s data directory (and database URL, if PostgreSQL), with
/// `args` first and `DAYAQ_DATABASE_URL` cleared.
fn cli_command(
    db: &TestDb,
    args: &[&str],
    master_key: Option<&std::path::Path>,
) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_dayaq"));
    cmd.args(args)
        .arg("--data-dir")
        .arg(&db.opts.data_dir)
        .env_remove("DAYAQ_DATABASE_URL");
    if let Some(key) = master_key {
        cmd.arg("--master-key-file").arg(key);
    }
    if let Some(url) = &db.opts.database_url {
        cmd.arg("--database-url").arg(url);
    }
    cmd
}

/// Runs the `dayaq` binary on `db`'s data directory (and database URL, if PostgreSQL) with its
/// master-key file given on the command line; `DAYAQ_DATABASE_URL` and `RUST_LOG` are cleared.
pub fn dayaq_cli(db: &TestDb, args: &[&str]) -> std::process::Output {
    cli_command(db, args, Some(&db.opts.master_key_path()))
        .env_remove("RUST_LOG")
        .output()
        .expect("run the dayaq binary")
}

/// Asserts that a run of the `dayaq` binary succeeded, showing its stderr when not.
#[track_caller]
pub fn assert_cli_ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Like [`dayaq_cli`] but with no master-key file named (the data directory's default is
/// used) and `RUST_LOG=warn`.
pub fn dayaq_cli_default_key(db: &TestDb, args: &[&str]) -> std::process::Output {
    cli_command(db, args, None)
        .env_remove("DAYAQ_MASTER_KEY_FILE")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run the dayaq binary")
}

/// One account of the demo world, as `dayaq demo` prints it.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub username: String,
    pub role: String,
    /// The second-factor secret, for roles that require one.
    pub totp: Option<Vec<u8>>,
}

/// The demo world `dayaq demo` loaded: its shared password and its accounts.
#[derive(Debug, Clone)]
pub struct Demo {
    pub password: String,
    pub logins: Vec<DemoLogin>,
}

/// Loads the demo world into `db` with the real `dayaq demo` command: the command loads it,
/// prints the logins and starts serving on a free port; it is stopped as soon as it listens.
/// The accounts are read from what it printed, so tests follow the demo's list.
pub fn load_demo(db: &TestDb) -> Demo {
    use std::io::{BufRead, BufReader};
    let mut child = cli_command(
        db,
        &["demo", "--listen", "127.0.0.1:0"],
        Some(&db.opts.master_key_path()),
    )
    .env("RUST_LOG", "warn")
    .stdin(std::process::Stdio::null())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .expect("run dayaq demo");
    let out = child.stdout.take().expect("the demo's output");
    let mut printed = Vec::new();
    for line in BufReader::new(out).lines() {
        let Ok(line) = line else { break };
        let listening = line.starts_with("Dayaq listening");
        printed.push(line);
        if listening {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    if !printed.iter().any(|l| l.starts_with("Dayaq listening")) {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        panic!("dayaq demo did not start:\n{}\n{err}", printed.join("\n"));
    }
    parse_demo_logins(&printed)
}

/// The password line and the login table of `dayaq demo`'s output.
fn parse_demo_logins(lines: &[String]) -> Demo {
    let password = lines
        .iter()
        .find_map(|l| l.strip_prefix("Demo logins (password for all: "))
        .and_then(|rest| rest.strip_suffix("):"))
        .unwrap_or_else(|| panic!("dayaq demo printed no password line:\n{}", lines.join("\n")))
        .to_string();
    let logins: Vec<DemoLogin> = lines
        .iter()
        .skip_while(|l| !l.starts_with("USERNAME"))
        .skip(1)
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .take_while(|cols| cols.len() == 5)
        .map(|cols| DemoLogin {
            username: cols[0].to_string(),
            role: cols[1].to_string(),
            totp: (cols[4] != "-").then(|| {
                totp_rs::Secret::try_from_base32(cols[4])
                    .expect("the demo's TOTP secret is base32")
                    .as_ref()
                    .to_vec()
            }),
        })
        .collect();
    assert!(
        !logins.is_empty(),
        "dayaq demo printed no logins:\n{}",
        lines.join("\n")
    );
    Demo { password, logins }
}
