//! End-to-end browser tests: headless Chromium, driven over WebDriver (chromedriver), against
//! the real server on a random port.
//!
//! Every page load is checked with axe-core (WCAG 2.0/2.1 A and AA: no "serious" or
//! "critical" violation). The main screens are captured at 1280 and at 360 px wide, and at
//! 360 px the page must not scroll sideways. Screenshots go to
//! `target/e2e-artifacts/<test>/<nn>-<step>.png` (also `99-failure.png` when a test fails).
//!
//! Needs chromium, chromedriver and `e2e/node_modules/axe-core/axe.min.js`: `scripts/test`
//! installs them. `DAYAQ_SKIP_BROWSER_TESTS=1` skips these tests (with a loud banner).
//! `DAYAQ_CHROMEDRIVER` / `DAYAQ_CHROMIUM` name other binaries than the ones on `PATH`.
//!
//! Each test starts its own chromedriver on its own port with a fresh profile, so the tests
//! can run in parallel (nextest runs each test in a process of its own).

use crate::testkit::{PASSWORD, TestApp, ctx, org_and_user, sample_case, spawn_app};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const SKIP_ENV: &str = "DAYAQ_SKIP_BROWSER_TESTS";
const WIDE: (u32, u32) = (1280, 900);
const NARROW: (u32, u32) = (360, 800);
/// Budget for one page with everything it loads (cold cache).
const MAX_PAGE_BYTES: u64 = 150 * 1024;
const WAIT: Duration = Duration::from_secs(15);

// Synthetic identity (not a real person).
const FIRST: &str = "Nərgiz";
const SECOND: &str = "Testova";
const BIRTH: &str = "1999-03-14";
const PHONE: &str = "+994 50 555 01 23";
const NOTES: &str = "Synthetic e2e note: met at the Baku bus station.";

const CHROME_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--window-size=1280,900",
];

// ---------- tools ----------

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The first executable called one of `names` on `PATH`.
fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

fn tool(env: &str, names: &[&str]) -> Option<PathBuf> {
    match std::env::var_os(env) {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)).filter(|p| p.is_file()),
        _ => on_path(names),
    }
}

struct Tools {
    chromedriver: PathBuf,
    chromium: PathBuf,
    axe: PathBuf,
}

/// The browser, its driver and axe-core; `None` (after a loud banner) when the browser tests
/// are switched off. Anything missing otherwise fails the test, saying how to install it.
fn tools(test: &str) -> Option<Tools> {
    if std::env::var(SKIP_ENV).is_ok_and(|v| v.trim() == "1") {
        eprintln!(
            "\n\
             ********************************************************************\n\
             ** BROWSER TESTS SKIPPED ({test}): {SKIP_ENV}=1.\n\
             ** Nothing was checked in a browser (flows, accessibility, layout).\n\
             ********************************************************************\n"
        );
        return None;
    }
    let chromedriver = tool("DAYAQ_CHROMEDRIVER", &["chromedriver"]);
    let chromium = tool(
        "DAYAQ_CHROMIUM",
        &[
            "chromium",
            "chromium-browser",
            "google-chrome",
            "google-chrome-stable",
        ],
    );
    let axe = workspace_root().join("e2e/node_modules/axe-core/axe.min.js");
    let mut missing = Vec::new();
    if chromedriver.is_none() {
        missing.push("chromedriver (Debian package chromium-driver)".to_string());
    }
    if chromium.is_none() {
        missing.push("chromium (Debian package chromium)".to_string());
    }
    if !axe.is_file() {
        missing.push(format!("axe-core ({})", axe.display()));
    }
    match (chromedriver, chromium) {
        (Some(chromedriver), Some(chromium)) if missing.is_empty() => Some(Tools {
            chromedriver,
            chromium,
            axe,
        }),
        _ => panic!(
            "\n\nThe browser tests need {}.\n\
             Run scripts/test, which installs them (or set {SKIP_ENV}=1 to skip the browser \
             tests, knowing that nothing is then checked in a browser).\n",
            missing.join(", ")
        ),
    }
}

// ---------- chromedriver ----------

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

/// A chromedriver child process, killed on drop (with the browser, if it is still running).
struct Driver {
    child: Child,
    url: String,
    browser_pid: Option<u64>,
}

impl Driver {
    async fn start(t: &Tools, log: &Path) -> Driver {
        let mut last = String::new();
        for _ in 0..3 {
            let port = free_port();
            let child = Command::new(&t.chromedriver)
                .arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| {
                    panic!(
                        "cannot start {}: {e} (run scripts/test, which installs it)",
                        t.chromedriver.display()
                    )
                });
            let mut d = Driver {
                child,
                url: format!("http://127.0.0.1:{port}"),
                browser_pid: None,
            };
            match d.ready().await {
                Ok(()) => return d,
                Err(e) => last = e,
            }
        }
        panic!(
            "chromedriver did not start: {last} (log: {})",
            log.display()
        );
    }

    async fn ready(&mut self) -> Result<(), String> {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("chromedriver exited: {status}"));
            }
            if let Ok(r) = http.get(format!("{}/status", self.url)).send().await
                && let Ok(v) = r.json::<Value>().await
                && v["value"]["ready"] == json!(true)
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err("no answer on /status within 20 s".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Only when the WebDriver session could not be closed: chromium outlives a killed
        // chromedriver, so its main process (which takes its children along) goes first.
        if let Some(pid) = self.browser_pid {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------- the browser, as the tests use it ----------

/// One browser session for one test: the WebDriver client, the application's address, and
/// the test's screenshot folder and step counter.
#[derive(Clone)]
struct Browser {
    client: Client,
    base: String,
    dir: Arc<PathBuf>,
    step: Arc<AtomicUsize>,
    axe: Arc<String>,
}

/// Starts chromedriver and a headless browser, serves a fresh application and runs `body`
/// with both; the browser is closed whatever happens, and a failure screenshot is kept.
async fn run<F, Fut>(test: &str, body: F)
where
    F: FnOnce(Browser, TestApp) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(tools) = tools(test) else {
        return;
    };
    let dir = workspace_root().join("target/e2e-artifacts").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    let axe = std::fs::read_to_string(&tools.axe)
        .unwrap_or_else(|e| panic!("read {}: {e}", tools.axe.display()));
    let profile = tempfile::tempdir().expect("temporary browser profile");
    let mut driver = Driver::start(&tools, &dir.join("chromedriver.log")).await;

    let mut args: Vec<String> = CHROME_ARGS.iter().map(|s| s.to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.path().display()));
    let caps = json!({
        "browserName": "chrome",
        "pageLoadStrategy": "normal",
        "timeouts": { "script": 30_000, "pageLoad": 30_000 },
        "goog:chromeOptions": {
            "binary": tools.chromium.to_string_lossy(),
            "args": args,
        },
    });
    let Value::Object(caps) = caps else {
        unreachable!("a JSON object")
    };
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "cannot start {} through chromedriver: {e} (log: {}/chromedriver.log)",
                tools.chromium.display(),
                dir.display()
            )
        });
    driver.browser_pid = client
        .capabilities()
        .and_then(|c| c.get("goog:processID"))
        .and_then(Value::as_u64);

    let app = spawn_app().await;
    let b = Browser {
        client: client.clone(),
        base: app.base_url.clone(),
        dir: Arc::new(dir),
        step: Arc::new(AtomicUsize::new(0)),
        axe: Arc::new(axe),
    };
    // The body runs as a task of its own so that a failed assertion still lets us close
    // the browser cleanly.
    let outcome = tokio::spawn(body(b.clone(), app)).await;
    if outcome.is_err() {
        b.shot_named("99-failure").await;
    }
    drop(b);
    if client.close().await.is_ok() {
        driver.browser_pid = None;
    }
    drop(driver);
    drop(profile);
    if let Err(e) = outcome {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("the test task did not finish: {e}");
    }
}

/// One axe-core finding, as reported back from the page.
fn describe_violations(vs: &[Value]) -> String {
    let mut out = String::new();
    for v in vs {
        out.push_str(&format!(
            "  - {} [{}]: {} ({})\n",
            v["id"].as_str().unwrap_or("?"),
            v["impact"].as_str().unwrap_or("?"),
            v["help"].as_str().unwrap_or(""),
            v["helpUrl"].as_str().unwrap_or(""),
        ));
        for n in v["nodes"].as_array().into_iter().flatten().take(8) {
            out.push_str(&format!(
                "      at {}  {}\n        {}\n",
                n["target"],
                n["html"].as_str().unwrap_or(""),
                n["summary"]
                    .as_str()
                    .unwrap_or("")
                    .replace('\n', "\n        ")
            ));
        }
    }
    out
}

const AXE_RUN: &str = r#"
const done = arguments[arguments.length - 1];
window.axe.run(document, {
  runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  resultTypes: ['violations'],
}).then(function (r) {
  done({ ok: true, passes: r.passes.length, violations: r.violations.map(function (v) {
    return { id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
      nodes: v.nodes.map(function (n) {
        return { target: n.target, html: n.html, summary: n.failureSummary };
      }) };
  }) });
}).catch(function (e) { done({ ok: false, error: String(e) }); });
"#;

/// Elements sticking out of the viewport (at 360 px nothing may force sideways scrolling).
const OVERFLOW: &str = r#"
const vw = document.documentElement.clientWidth;
const sw = document.documentElement.scrollWidth;
const wide = [];
if (sw > vw) {
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.right > vw + 1 && wide.length < 12) {
      wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
        (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '') +
        ' right=' + Math.round(r.right));
    }
  }
}
return { viewport: vw, scroll: sw, wide: wide };
"#;

/// Bytes a first visit to the current page transfers: the document and every resource it
/// loaded (cached ones count with their size; ones the browser did not report are fetched).
const PAGE_WEIGHT: &str = r#"
const done = arguments[arguments.length - 1];
const size = function (e) { return Math.max(e.transferSize || 0, e.encodedBodySize || 0); };
const nav = performance.getEntriesByType('navigation')[0];
const items = [{ name: location.pathname, bytes: nav ? size(nav) : 0 }];
const seen = new Set();
for (const e of performance.getEntriesByType('resource')) {
  seen.add(e.name);
  items.push({ name: e.name, bytes: size(e) });
}
const urls = [];
document.querySelectorAll('script[src], link[rel=stylesheet][href], img[src], link[rel~=icon][href]')
  .forEach(function (el) {
    const u = el.src || el.href;
    if (u && !u.startsWith('data:') && !seen.has(u)) { seen.add(u); urls.push(u); }
  });
Promise.all(urls.map(function (u) {
  return fetch(u, { cache: 'no-store', credentials: 'same-origin' })
    .then(function (r) { return r.arrayBuffer(); })
    .then(function (b) { items.push({ name: u + ' (fetched)', bytes: b.byteLength }); });
})).then(function () { done(items); }, function (e) { done([{ name: 'error ' + e, bytes: 1e9 }]); });
"#;

impl Browser {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    async fn path(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("current URL")
            .path()
            .to_string()
    }

    async fn source(&self) -> String {
        self.client.source().await.expect("page source")
    }

    async fn html_lang(&self) -> String {
        self.js("return document.documentElement.lang;", vec![])
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits for the element (up to 15 s).
    async fn find(&self, css: &str) -> Element {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.client.find(Locator::Css(css)).await {
                Ok(e) => return e,
                Err(e) if Instant::now() > deadline => {
                    panic!(
                        "no element {css} on {} within {WAIT:?}: {e}",
                        self.path().await
                    )
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    async fn count(&self, css: &str) -> usize {
        self.client
            .find_all(Locator::Css(css))
            .await
            .map(|v| v.len())
            .unwrap_or(0)
    }

    /// The element's rendered text (looked up again if htmx replaced it meanwhile).
    async fn text(&self, css: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.find(css).await.text().await {
                Ok(t) => return t.trim().to_string(),
                Err(e) if Instant::now() > deadline => panic!("text of {css}: {e}"),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Types `value` into a text field and checks that it arrived intact.
    async fn fill(&self, css: &str, value: &str) {
        let e = self.find(css).await;
        e.clear()
            .await
            .unwrap_or_else(|e| panic!("clear {css}: {e}"));
        e.send_keys(value)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
        let got = e.prop("value").await.ok().flatten().unwrap_or_default();
        assert_eq!(got, value, "value of {css} after typing");
    }

    /// Sets an input's value by script (date inputs take keyboard input in the browser
    /// locale's order, which is not what this test is about).
    async fn set_value(&self, css: &str, value: &str) {
        let e = self.find(css).await;
        let el = serde_json::to_value(&e).expect("element reference");
        self.js(
            "arguments[0].value = arguments[1]; \
             arguments[0].dispatchEvent(new Event('change', { bubbles: true }));",
            vec![el, json!(value)],
        )
        .await;
        let got = e.prop("value").await.ok().flatten().unwrap_or_default();
        assert_eq!(got, value, "value of {css}");
    }

    async fn select(&self, css: &str, value: &str) {
        self.find(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("select {value} in {css}: {e}"));
    }

    /// Opens `path`, then checks and captures the page.
    async fn open(&self, path: &str, step: &str) {
        self.client
            .goto(&self.url(path))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
        self.loaded(step).await;
    }

    /// Clicks what leads to another page (a submit button, a link), waits for the new
    /// document, then checks and captures it.
    async fn click_to(&self, css: &str, step: &str) {
        let e = self.find(css).await;
        self.js("window.__e2eOldPage = true;", vec![]).await;
        e.click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
        let deadline = Instant::now() + WAIT;
        loop {
            let fresh = self
                .client
                .execute(
                    "return !window.__e2eOldPage && document.readyState === 'complete';",
                    vec![],
                )
                .await;
            if matches!(fresh, Ok(Value::Bool(true))) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "clicking {css} did not lead to a new page within {WAIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.loaded(step).await;
    }

    /// After each page load: the accessibility check, then a screenshot.
    async fn loaded(&self, step: &str) {
        let deadline = Instant::now() + WAIT;
        while self.js("return document.readyState;", vec![]).await != json!("complete") {
            assert!(Instant::now() < deadline, "page never finished loading");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.check(step).await;
        self.shot(step).await;
    }

    /// Runs axe-core (WCAG 2.x A/AA) in the page: its violations and how many rules passed.
    async fn axe(&self) -> (Vec<Value>, u64) {
        let path = self.path().await;
        // CSP (script-src 'self') blocks inline scripts of the page, not WebDriver's.
        let loaded = self
            .js(&format!("{}\nreturn typeof window.axe;", self.axe), vec![])
            .await;
        assert_eq!(
            loaded,
            json!("object"),
            "axe-core could not be injected into {path}"
        );
        let r = self
            .client
            .execute_async(AXE_RUN, vec![])
            .await
            .unwrap_or_else(|e| panic!("axe.run on {path}: {e}"));
        assert_eq!(
            r["ok"],
            json!(true),
            "axe.run failed on {path}: {}",
            r["error"]
        );
        let all = r["violations"].as_array().cloned().unwrap_or_default();
        (all, r["passes"].as_u64().unwrap_or(0))
    }

    /// The accessibility check: no serious or critical axe-core violation.
    async fn check(&self, step: &str) {
        let path = self.path().await;
        let (all, passes) = self.axe().await;
        let (blocking, minor): (Vec<Value>, Vec<Value>) = all
            .into_iter()
            .partition(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")));
        if !minor.is_empty() {
            eprintln!(
                "axe: moderate/minor findings on {path} ({step}):\n{}",
                describe_violations(&minor)
            );
        }
        assert!(
            blocking.is_empty(),
            "axe: serious/critical accessibility violations on {path} ({step}):\n{}",
            describe_violations(&blocking)
        );
        assert!(passes > 0, "axe checked nothing on {path} ({step})");
        eprintln!(
            "axe: {path} ({step}): {passes} rules passed, {} minor finding(s)",
            minor.len()
        );
    }

    /// Saves a screenshot of the whole page as `<nn>-<step>.png`.
    async fn shot(&self, step: &str) {
        let n = self.step.fetch_add(1, Ordering::SeqCst) + 1;
        let name: String = step
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        self.shot_named(&format!("{n:02}-{name}")).await;
    }

    async fn shot_named(&self, name: &str) {
        // Grow the window to the page's height for a full-page picture, then restore it.
        let size = self.client.get_window_size().await.ok();
        if let Some((w, _)) = size {
            for _ in 0..3 {
                let v = self
                    .client
                    .execute(
                        "return [Math.ceil(document.documentElement.scrollHeight), \
                         window.innerHeight];",
                        vec![],
                    )
                    .await
                    .unwrap_or_default();
                let (full, inner) = (v[0].as_u64().unwrap_or(0), v[1].as_u64().unwrap_or(0));
                let Ok((_, now)) = self.client.get_window_size().await else {
                    break;
                };
                if full <= inner || now >= 6000 {
                    break;
                }
                let _ = self
                    .client
                    .set_window_size(w as u32, (now + full - inner).min(6000) as u32)
                    .await;
            }
        }
        let png = self.client.screenshot().await;
        if let Some((w, h)) = size {
            let _ = self.client.set_window_size(w as u32, h as u32).await;
        }
        match png {
            Ok(png) => {
                let file = self.dir.join(format!("{name}.png"));
                if let Err(e) = std::fs::write(&file, png) {
                    eprintln!("cannot write {}: {e}", file.display());
                }
            }
            Err(e) => eprintln!("screenshot {name} failed: {e}"),
        }
    }

    async fn resize(&self, (w, h): (u32, u32)) {
        self.client
            .set_window_size(w, h)
            .await
            .unwrap_or_else(|e| panic!("resize to {w}x{h}: {e}"));
        let deadline = Instant::now() + WAIT;
        loop {
            let inner = self.js("return window.innerWidth;", vec![]).await;
            if inner.as_u64() == Some(u64::from(w)) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the viewport did not become {w} px wide (innerWidth {inner})"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The current page at 360 px: checked (axe, no sideways scrolling) and captured; then
    /// back to 1280 px. (The page was captured at 1280 px when it loaded.)
    async fn narrow(&self, step: &str) {
        self.resize(NARROW).await;
        let o = self.overflow().await;
        let path = self.path().await;
        self.shot(&format!("{step}-360px")).await;
        assert!(
            o["scroll"].as_u64() <= o["viewport"].as_u64(),
            "at 360 px {path} scrolls sideways ({} > {} px); too wide: {}",
            o["scroll"],
            o["viewport"],
            o["wide"]
        );
        self.check(&format!("{step} at 360 px")).await;
        self.resize(WIDE).await;
    }

    /// How wide the page is compared with the viewport, and what sticks out.
    async fn overflow(&self) -> Value {
        self.js(OVERFLOW, vec![]).await
    }

    async fn page_weight(&self) -> (u64, Vec<(String, u64)>) {
        let v = self
            .client
            .execute_async(PAGE_WEIGHT, vec![])
            .await
            .expect("page weight script");
        let items: Vec<(String, u64)> = v
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| {
                (
                    i["name"].as_str().unwrap_or("?").to_string(),
                    i["bytes"].as_f64().unwrap_or(0.0) as u64,
                )
            })
            .collect();
        (items.iter().map(|(_, b)| b).sum(), items)
    }

    /// Asserts that no identity data of the synthetic person is anywhere in the page.
    async fn assert_no_identity(&self, what: &str) {
        let src = self.source().await;
        for secret in [FIRST, SECOND, BIRTH, PHONE, NOTES] {
            assert!(
                !src.contains(secret),
                "{what}: the page shows identity data ({secret:?}) it must not show"
            );
        }
    }
}

// ---------- translations ----------

/// The single-line messages of a locale's Fluent catalogue, read from the source tree so
/// that the tests follow the translations rather than copies of them.
struct Catalogue {
    lang: &'static str,
    messages: HashMap<String, String>,
}

impl Catalogue {
    fn load(lang: &'static str) -> Catalogue {
        let file = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../dayaq-http/locales")
            .join(lang)
            .join("main.ftl");
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
        let messages = text
            .lines()
            .filter(|l| !l.starts_with([' ', '\t', '#', '.', '*', '[']))
            .filter_map(|l| l.split_once(" = "))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .filter(|(_, v)| !v.is_empty() && !v.contains('{'))
            .collect();
        Catalogue { lang, messages }
    }

    fn get(&self, key: &str) -> &str {
        self.messages.get(key).unwrap_or_else(|| {
            panic!(
                "no single-line message {key} in the {} catalogue",
                self.lang
            )
        })
    }
}

// ---------- shared steps ----------

/// Signs in through the login page, first switching it to `t`'s language with the
/// language buttons. Ends on whatever page sign-in leads to.
async fn sign_in(b: &Browser, t: &Catalogue, username: &str) {
    b.open("/login", "login").await;
    b.click_to(
        &format!("form.langs button[value=\"{}\"]", t.lang),
        &format!("login-{}", t.lang),
    )
    .await;
    assert_eq!(b.path().await, "/login");
    assert_eq!(b.html_lang().await, t.lang, "language of the login page");
    assert_eq!(b.text("h1").await, t.get("login-title"));
    assert_eq!(b.text("#login-submit").await, t.get("login-submit"));
    assert_eq!(
        b.find(&format!("form.langs button[value=\"{}\"]", t.lang))
            .await
            .attr("aria-pressed")
            .await
            .ok()
            .flatten()
            .as_deref(),
        Some("true")
    );
    b.fill("#username", username).await;
    b.fill("#password", PASSWORD).await;
    b.click_to("#login-submit", "signed-in").await;
}

async fn sign_out(b: &Browser, t: &Catalogue) {
    assert_eq!(b.text("#sign-out").await, t.get("nav-sign-out"));
    b.click_to("#sign-out", "signed-out").await;
    assert_eq!(
        b.path().await,
        "/login",
        "signing out leads to the login page"
    );
    assert_eq!(b.text("#login-submit").await, t.get("login-submit"));
    assert_eq!(b.count("#sign-out").await, 0);
}

/// The current code of a TOTP secret, as an authenticator app would show it.
fn totp_code(secret: totp_rs::Secret, account: &str) -> String {
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    totp_rs::Builder::new()
        .with_secret(secret)
        .with_account_name(account)
        .build()
        .expect("TOTP parameters")
        .generate(unix)
        .to_string()
}

// ---------- flows ----------

/// A caseworker signs in in `lang`, records a case, finds it again by exact name and birth
/// date, opens it (identity hidden), reveals the identity, and signs out.
async fn caseworker_flow(test: &'static str, lang: &'static str) {
    run(test, move |b, app| async move {
        let t = Catalogue::load(lang);
        let store = &app.db.store;
        let (_org, user) = org_and_user(&app.db, "org-a", "caseworker").await;
        store.set_locale(user.id, lang).await.expect("set_locale");
        // Another person with the same family name and birth date in the same organisation,
        // so that "exactly one result" means something.
        let actor = user.actor();
        store
            .create_case(
                &ctx(&actor),
                &sample_case("Leyla", SECOND, BIRTH, "+994 50 555 09 87"),
            )
            .await
            .expect("decoy case");

        sign_in(&b, &t, &user.username).await;
        assert_eq!(b.path().await, "/");
        assert_eq!(b.html_lang().await, lang);
        assert_eq!(b.text("h1").await, t.get("home-title"));
        b.narrow("home").await;

        // Record a case.
        b.open("/cases/new", "new-case").await;
        assert_eq!(b.text("#create-case").await, t.get("new-submit"));
        b.narrow("new-case").await;
        b.fill("#first_name", FIRST).await;
        b.fill("#second_name", SECOND).await;
        b.set_value("#birthdate", BIRTH).await;
        b.fill("#phone", PHONE).await;
        b.fill("#notes", NOTES).await;
        b.select("#gender", "Feminine").await;
        b.fill("#citizenship", "AZ").await;
        b.fill("#age", "19").await;
        b.select("#exploitation", "SexualExploitation").await;
        b.shot("new-case-filled").await;
        b.click_to("#create-case", "case-created").await;
        let path = b.path().await;
        let id = path
            .strip_prefix("/cases/")
            .and_then(|s| uuid::Uuid::parse_str(s).ok())
            .unwrap_or_else(|| panic!("after creating a case: {path}, not /cases/<uuid>"));
        let number = b.text("#case-number").await;
        assert!(number.starts_with("DQ-"), "case number {number}");
        b.assert_no_identity("the new case's page").await;

        // Find it again.
        b.open("/cases", "case-list").await;
        assert_eq!(b.text("h1").await, t.get("cases-title"));
        assert_eq!(b.count("#case-list tbody tr").await, 2);
        b.assert_no_identity("the case list").await;
        b.narrow("case-list").await;
        b.fill("#first_name", FIRST).await;
        b.fill("#second_name", SECOND).await;
        b.set_value("#birthdate", BIRTH).await;
        assert_eq!(b.text("#search-submit").await, t.get("search-submit"));
        b.click_to("#search-submit", "search-results").await;
        assert_eq!(
            b.count("#case-list tbody tr").await,
            1,
            "the search finds exactly the one case"
        );
        assert_eq!(b.text("#case-list tbody tr a").await, number);
        assert_eq!(b.count("#elsewhere").await, 0);
        b.assert_no_identity("the search results").await;
        b.narrow("search-results").await;

        // Open it: the identity stays hidden until asked for.
        b.click_to("#case-list tbody tr a", "case-page").await;
        assert_eq!(b.path().await, format!("/cases/{id}"));
        assert_eq!(b.text("#case-number").await, number);
        b.assert_no_identity("the case page").await;
        assert_eq!(b.text("#reveal-identity").await, t.get("case-reveal"));
        b.narrow("case-page").await;

        // Reveal (htmx swaps the block in place: the page is not reloaded).
        b.js("window.__e2eSamePage = true;", vec![]).await;
        b.find("#reveal-identity")
            .await
            .click()
            .await
            .expect("click reveal");
        let deadline = Instant::now() + WAIT;
        while !b.text("#identity").await.contains(FIRST) {
            assert!(
                Instant::now() < deadline,
                "the identity was not revealed: {}",
                b.text("#identity").await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            b.js("return window.__e2eSamePage === true;", vec![]).await,
            json!(true),
            "revealing reloaded the page instead of swapping the block (htmx under CSP)"
        );
        let shown = b.text("#identity").await;
        for part in [SECOND, PHONE, NOTES] {
            assert!(
                shown.contains(part),
                "revealed identity lacks {part:?}: {shown}"
            );
        }
        assert_eq!(b.count("#reveal-identity").await, 0);
        b.check("identity-revealed").await;
        b.shot("identity-revealed").await;
        b.narrow("identity-revealed").await;

        sign_out(&b, &t).await;
        // The case is out of reach once signed out.
        b.open(&format!("/cases/{id}"), "case-after-sign-out").await;
        assert_eq!(b.path().await, "/login");
    })
    .await;
}

#[tokio::test]
async fn caseworker_flow_en() {
    caseworker_flow("caseworker_flow_en", "en").await;
}

#[tokio::test]
async fn caseworker_flow_az() {
    caseworker_flow("caseworker_flow_az", "az").await;
}

#[tokio::test]
async fn caseworker_flow_ru() {
    caseworker_flow("caseworker_flow_ru", "ru").await;
}

#[tokio::test]
async fn supervisor_signs_in_with_totp() {
    run("supervisor_signs_in_with_totp", |b, app| async move {
        let t = Catalogue::load("en");
        let store = &app.db.store;

        // Enrolled: password, then the code from the authenticator.
        let (_, sup) = org_and_user(&app.db, "org-a", "supervisor").await;
        store.set_locale(sup.id, "en").await.expect("set_locale");
        let secret: [u8; 20] = *b"dayaq-e2e-totp-key-1";
        store
            .totp_set_secret(&sup, &secret)
            .await
            .expect("totp_set_secret");
        sign_in(&b, &t, &sup.username).await;
        assert_eq!(b.path().await, "/login/totp");
        assert_eq!(b.text("h1").await, t.get("totp-title"));
        assert_eq!(b.count("#sign-out").await, 0, "not signed in yet");
        b.narrow("totp").await;
        let code = totp_code(totp_rs::Secret::new(Box::new(secret)), &sup.username);
        b.fill("#code", &code).await;
        b.click_to("#totp-submit", "supervisor-home").await;
        assert_eq!(b.path().await, "/");
        assert_eq!(b.text("h1").await, t.get("home-title"));
        assert!(b.text(".who").await.contains(&sup.username));
        b.narrow("supervisor-home").await;
        sign_out(&b, &t).await;

        // Not enrolled yet: the enrolment page shows the secret; activate it with a code.
        let (_, newbie) = org_and_user(&app.db, "org-c", "supervisor").await;
        store.set_locale(newbie.id, "en").await.expect("set_locale");
        sign_in(&b, &t, &newbie.username).await;
        assert_eq!(b.path().await, "/login/enrol");
        assert_eq!(b.text("h1").await, t.get("enrol-title"));
        b.narrow("enrol").await;
        let shown = b.text("#totp-secret").await;
        let secret = totp_rs::Secret::try_from_base32(shown.replace(' ', ""))
            .unwrap_or_else(|e| panic!("#totp-secret {shown:?} is not base32: {e:?}"));
        b.fill("#code", &totp_code(secret, &newbie.username)).await;
        b.click_to("#enrol-submit", "enrolled-home").await;
        assert_eq!(b.path().await, "/");
        assert_eq!(b.text("h1").await, t.get("home-title"));
        assert!(
            store
                .user_by_id(newbie.id)
                .await
                .expect("user_by_id")
                .totp_enabled,
            "the second factor is active after enrolment"
        );
        sign_out(&b, &t).await;
    })
    .await;
}

#[tokio::test]
async fn other_organisation_cannot_see_the_case() {
    run(
        "other_organisation_cannot_see_the_case",
        |b, app| async move {
            let t = Catalogue::load("en");
            let store = &app.db.store;
            let (org_a, a_user) = org_and_user(&app.db, "org-a", "caseworker").await;
            let a_actor = a_user.actor();
            let case = store
                .create_case(&ctx(&a_actor), &sample_case(FIRST, SECOND, BIRTH, PHONE))
                .await
                .expect("org A's case");
            let (_, b_user) = org_and_user(&app.db, "org-b", "caseworker").await;
            store.set_locale(b_user.id, "en").await.expect("set_locale");
            let foreign = [case.case_number.clone(), case.id.to_string()];

            sign_in(&b, &t, &b_user.username).await;
            assert_eq!(b.path().await, "/");
            b.assert_no_identity("org B's home page").await;

            b.open("/cases", "case-list").await;
            assert_eq!(b.count("#case-list tbody tr").await, 0);
            assert!(b.text("main").await.contains(t.get("cases-none")));
            let src = b.source().await;
            for f in &foreign {
                assert!(!src.contains(f.as_str()), "org B's case list shows {f}");
            }

            b.open(&format!("/cases/{}", case.id), "foreign-case").await;
            assert_eq!(b.text("h1").await, t.get("error-not-found"));
            b.assert_no_identity("the foreign case's page").await;
            assert!(!b.source().await.contains(&case.case_number));
            b.narrow("foreign-case").await;

            b.open("/cases", "search-form").await;
            b.fill("#first_name", FIRST).await;
            b.fill("#second_name", SECOND).await;
            b.set_value("#birthdate", BIRTH).await;
            // A second identifier: name + birth date alone never names another organisation.
            b.fill("#phone", PHONE).await;
            b.click_to("#search-submit", "search-elsewhere").await;
            assert_eq!(b.count("#case-list tbody tr").await, 0, "no result");
            let banner = b.text("#elsewhere").await;
            assert!(
                banner.contains(t.get("cases-elsewhere")),
                "banner text: {banner}"
            );
            assert!(
                banner.contains(&org_a.name),
                "the banner names org A: {banner}"
            );
            b.assert_no_identity("the possible-match banner").await;
            let src = b.source().await;
            for f in &foreign {
                assert!(!src.contains(f.as_str()), "the search result shows {f}");
            }
            b.narrow("search-elsewhere").await;
            sign_out(&b, &t).await;
        },
    )
    .await;
}

#[tokio::test]
async fn pages_weigh_at_most_150_kb() {
    run("pages_weigh_at_most_150_kb", |b, app| async move {
        let t = Catalogue::load("en");
        let store = &app.db.store;
        let (_, user) = org_and_user(&app.db, "org-a", "caseworker").await;
        store.set_locale(user.id, "en").await.expect("set_locale");
        let actor = user.actor();
        let case = store
            .create_case(&ctx(&actor), &sample_case(FIRST, SECOND, BIRTH, PHONE))
            .await
            .expect("case");
        sign_in(&b, &t, &user.username).await;
        let case_path = format!("/cases/{}", case.id);
        for (path, step) in [
            ("/", "home"),
            ("/cases", "case-list"),
            (case_path.as_str(), "case-page"),
        ] {
            b.open(path, step).await;
            let (total, items) = b.page_weight().await;
            let list = items
                .iter()
                .map(|(n, bytes)| format!("  {bytes:>8} B  {n}"))
                .collect::<Vec<_>>()
                .join("\n");
            eprintln!("page weight of {path}: {total} B\n{list}");
            assert!(items.len() >= 2, "{path}: resources not measured:\n{list}");
            assert!(
                total <= MAX_PAGE_BYTES,
                "{path} weighs {total} B, over the {MAX_PAGE_BYTES} B budget:\n{list}"
            );
        }
    })
    .await;
}

/// The checks themselves are not vacuous: axe-core reports planted violations, the 360-px
/// check sees a planted overflow, and the page's CSP blocks inline scripts (while the
/// scripts WebDriver injects, such as axe-core, still run).
#[tokio::test]
async fn browser_checks_catch_planted_problems() {
    run(
        "browser_checks_catch_planted_problems",
        |b, _app| async move {
            b.open("/login", "login").await;

            b.js(
                "const s = document.createElement('script'); \
             s.textContent = 'window.__e2eInlineRan = true;'; \
             document.body.appendChild(s);",
                vec![],
            )
            .await;
            tokio::time::sleep(Duration::from_millis(200)).await;
            assert_eq!(
                b.js("return window.__e2eInlineRan === true;", vec![]).await,
                json!(false),
                "the Content-Security-Policy lets an inline script run"
            );

            // An input without a label and faint text (styled through the CSSOM, which the CSP
            // allows, unlike style attributes).
            b.js(
                "const main = document.querySelector('main'); \
             const i = document.createElement('input'); i.id = 'planted-input'; \
             main.appendChild(i); \
             const p = document.createElement('p'); p.textContent = 'Planted faint text'; \
             p.style.color = '#c8c8c8'; p.style.background = '#ffffff'; \
             main.appendChild(p);",
                vec![],
            )
            .await;
            let (found, _) = b.axe().await;
            let ids: Vec<&str> = found.iter().filter_map(|v| v["id"].as_str()).collect();
            for rule in ["label", "color-contrast"] {
                assert!(
                    ids.contains(&rule),
                    "axe did not report the planted {rule} violation: {ids:?}"
                );
            }
            b.shot("planted-violations").await;

            b.resize(NARROW).await;
            b.js(
                "const d = document.createElement('div'); d.id = 'planted-wide'; \
             d.style.width = '600px'; d.textContent = 'wide'; \
             document.querySelector('main').appendChild(d);",
                vec![],
            )
            .await;
            let o = b.overflow().await;
            assert!(
                o["scroll"].as_u64() > o["viewport"].as_u64(),
                "the overflow check missed a 600-px element at 360 px: {o}"
            );
            assert!(
                o["wide"].to_string().contains("planted-wide"),
                "the overflow check did not name the planted element: {o}"
            );
            b.shot("planted-overflow").await;
        },
    )
    .await;
}

// ---------- identification and referral flows (issues 4 and 5) ----------

/// Clicks an element that changes nothing but the current page (a <summary>, a checkbox).
async fn click_here(b: &Browser, css: &str) {
    b.find(css)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// A hotline operator logs a call, opens a case for it, screens it, records the survivor's
/// consent to share with the police and hands the case over; a police officer records the
/// formal decision "Actual", which the case then shows with its history.
#[tokio::test]
async fn hotline_contact_to_police_identification() {
    run(
        "hotline_contact_to_police_identification",
        |b, app| async move {
            let t = Catalogue::load("en");
            let store = &app.db.store;
            let now = time::OffsetDateTime::now_utc();
            store
                .add_org(
                    "hotline",
                    "National Hotline 152",
                    "CentralGovernmentOrganisation",
                    "Baku",
                    now,
                )
                .await
                .expect("hotline org");
            store
                .add_org(
                    "police-atd",
                    "Anti-Trafficking Department",
                    "LawEnforcement",
                    "Baku",
                    now,
                )
                .await
                .expect("police org");
            let (_, hot) = org_and_user(&app.db, "hotline", "hotline_operator").await;
            let (_, pol) = org_and_user(&app.db, "police-atd", "police_officer").await;

            sign_in(&b, &t, &hot.username).await;
            b.open("/contacts", "contacts").await;
            b.select("#channel", "Hotline").await;
            click_here(&b, "#anonymous").await;
            b.fill("#summary", "Caller: passport taken by the employer")
                .await;
            b.click_to("#contact-submit", "contact-saved").await;
            assert!(b.path().await.starts_with("/contacts/"));
            b.select("#gender", "Feminine").await;
            b.click_to("#contact-to-case", "case-opened").await;
            let case_path = b.path().await;
            assert!(case_path.starts_with("/cases/"), "{case_path}");

            // Screening: the UN Protocol elements and a method of control.
            click_here(&b, "#screening details summary").await;
            for id in [
                "#s-act",
                "#s-means",
                "#s-purpose",
                "#moc-WithholdsDocuments",
            ] {
                click_here(&b, id).await;
            }
            b.click_to("#screening-submit", "screened").await;
            assert_eq!(
                b.text("#screening-result strong").await,
                t.get("screen-possible")
            );

            // Consent to share with law enforcement, then the hand-over.
            click_here(&b, "#consent details:nth-of-type(1) summary").await;
            b.select("#c-purpose", "SharingWithOrganisationType").await;
            b.select("#c-type", "LawEnforcement").await;
            b.click_to("#consent-submit", "consent-recorded").await;
            assert_eq!(b.count("#consent-list tbody tr").await, 1);
            click_here(&b, "#consent details:nth-of-type(2) summary").await;
            b.select("#t-org", "police-atd").await;
            b.click_to("#transfer-submit", "handed-over").await;
            assert_eq!(b.path().await, "/cases");
            sign_out(&b, &t).await;

            // The police decide.
            sign_in(&b, &t, &pol.username).await;
            b.open(&case_path, "police-case").await;
            assert_eq!(b.count("#decision-history").await, 0);
            b.select("#d-status", "ActualVictimOfTrafficking").await;
            b.select("#d-org", "Police").await;
            let today = time::OffsetDateTime::now_utc().date();
            b.set_value("#d-date", &format!("{today}")).await;
            b.fill("#d-ref", "ATD-2026-117").await;
            b.click_to("#decision-submit", "decided").await;
            assert_eq!(
                b.text("#ident-status").await,
                t.get("v-vic-traffickingstatus-actualvictimoftrafficking")
            );
            assert_eq!(b.count("#decision-history tbody tr").await, 1);
            assert!(
                b.text("#identification")
                    .await
                    .contains(t.get("right-allowance"))
            );
            sign_out(&b, &t).await;
        },
    )
    .await;
}

/// An NGO caseworker refers a survivor to the Assistance Center for vocational training; the
/// Center accepts and sees only what that service needs; after completion it sees nothing.
#[tokio::test]
async fn referral_for_vocational_training_is_need_to_know() {
    run(
        "referral_for_vocational_training_is_need_to_know",
        |b, app| async move {
            let t = Catalogue::load("en");
            let store = &app.db.store;
            let now = time::OffsetDateTime::now_utc();
            let (_, ngo) = org_and_user(&app.db, "ngo-a", "caseworker").await;
            store
                .add_org(
                    "assistance-center",
                    "Assistance Center",
                    "CentralGovernmentOrganisation",
                    "Baku",
                    now,
                )
                .await
                .expect("center org");
            let (_, center) = org_and_user(&app.db, "assistance-center", "caseworker").await;
            let (_, admin) = org_and_user(&app.db, "system", "system_admin").await;
            let admin_actor = admin.actor();
            let offer = dayaq_storage::referrals::ServiceOffer {
                service: "VocationalTraining".into(),
                region: "Baku".into(),
                ..Default::default()
            };
            store
                .set_service(&ctx(&admin_actor), "assistance-center", &offer)
                .await
                .expect("directory entry");
            let actor = ngo.actor();
            let case = store
                .create_case(&ctx(&actor), &sample_case(FIRST, SECOND, BIRTH, PHONE))
                .await
                .expect("case");
            let consent = dayaq_storage::identification::ConsentInput {
                purpose: "SharingWithOrganisation".into(),
                given: true,
                recipient_org: Some("assistance-center".into()),
                recipient_org_type: None,
                given_by: "Survivor".into(),
                language: "az".into(),
            };
            store
                .add_consent(&ctx(&actor), case.id, &consent)
                .await
                .expect("consent");
            let case_path = format!("/cases/{}", case.id);

            sign_in(&b, &t, &ngo.username).await;
            b.open(
                "/directory?service=VocationalTraining&region=Baku",
                "directory",
            )
            .await;
            assert!(b.text("#directory").await.contains("Assistance Center"));
            b.open(&case_path, "ngo-case").await;
            click_here(&b, "#referrals details summary").await;
            b.select("#r-org", "assistance-center").await;
            click_here(&b, "#svc-VocationalTraining").await;
            b.select("#r-reason", "AdditionalServicesRequired").await;
            b.click_to("#refer-submit", "referred").await;
            assert_eq!(b.count("#case-referrals tbody tr").await, 1);
            sign_out(&b, &t).await;

            sign_in(&b, &t, &center.username).await;
            // Before accepting, the case is out of reach.
            b.open(&case_path, "center-before-accept").await;
            assert_eq!(b.text("h1").await, t.get("error-not-found"));
            b.open("/referrals", "center-inbox").await;
            b.click_to("#inbox button[id^=\"accept-\"]", "accepted")
                .await;
            assert_eq!(b.path().await, case_path);
            click_here(&b, "#reveal-identity").await;
            let deadline = Instant::now() + WAIT;
            while !b.text("#identity").await.contains(FIRST) {
                assert!(Instant::now() < deadline, "identity not revealed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let shown = b.text("#identity").await;
            assert!(
                !shown.contains("555"),
                "no contact details for vocational training: {shown}"
            );
            assert!(!shown.contains("Met "), "no case notes: {shown}");
            b.check("center-identity").await;
            b.shot("center-identity").await;
            b.open("/referrals", "center-inbox-accepted").await;
            b.click_to("#inbox button[id^=\"complete-\"]", "completed")
                .await;
            b.open(&case_path, "center-after-complete").await;
            assert_eq!(b.text("h1").await, t.get("error-not-found"));
            sign_out(&b, &t).await;
        },
    )
    .await;
}

/// The national coordinator opens the annual national report from the home page (in
/// Russian), sees accessible tables without any identity data, switches to the public variant
/// with the form; both views pass axe and fit a 360 px screen.
#[tokio::test]
async fn coordinator_reads_the_national_report() {
    run(
        "coordinator_reads_the_national_report",
        |b, app| async move {
            let t = Catalogue::load("ru");
            let store = &app.db.store;
            let (_, cw) = org_and_user(&app.db, "org-a", "caseworker").await;
            let actor = cw.actor();
            store
                .create_case(&ctx(&actor), &sample_case(FIRST, SECOND, BIRTH, PHONE))
                .await
                .expect("create_case");
            let (_, coord) = org_and_user(&app.db, "org-nrm", "national_coordinator").await;
            store.set_locale(coord.id, "ru").await.expect("set_locale");
            sign_in(&b, &t, &coord.username).await;
            assert_eq!(b.path().await, "/");
            assert_eq!(
                b.text("nav a[href=\"/statistics/national\"]").await,
                t.get("nav-national-report")
            );
            b.click_to("#home-national-report", "national-report").await;
            assert_eq!(b.path().await, "/statistics/national");
            assert!(b.text("h1").await.starts_with(t.get("stat-title")));
            assert_eq!(
                b.count("nav a[href=\"/statistics/national\"][aria-current=\"page\"]")
                    .await,
                1
            );
            // Eleven tables and the trend; compensation is "not recorded" with its reason.
            assert_eq!(b.count("table > caption").await, 12);
            assert_eq!(
                b.text("#t-headline caption").await,
                t.get("stat-t-headline")
            );
            assert!(b.count("#t-by_sex_age th[scope=\"col\"]").await >= 8);
            assert!(b.count("#t-by_sex_age th[scope=\"row\"]").await >= 7);
            assert!(
                b.text("#nr-compensation")
                    .await
                    .contains(t.get("stat-reason-no-award-recorded"))
            );
            assert_eq!(
                b.text("#stat-variant-note").await,
                t.get("stat-internal-note")
            );
            b.assert_no_identity("national report").await;
            b.narrow("national-report").await;

            b.select("#st-variant", "public").await;
            b.click_to("#st-submit", "national-report-public").await;
            assert!(b.text("#stat-variant-note").await.contains("<11"));
            let csv = b
                .find("#stat-csv")
                .await
                .attr("href")
                .await
                .ok()
                .flatten()
                .unwrap_or_default();
            assert!(csv.contains("variant=public&k=11"), "{csv}");
            b.narrow("national-report-public").await;
        },
    )
    .await;
}
