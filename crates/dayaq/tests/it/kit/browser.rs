//! The browser harness: headless Chromium driven over WebDriver (chromedriver, started per
//! test on a port of its own, retried when it does not come up), against the real server on a
//! random port.
//!
//! Every page load is checked with axe-core (WCAG 2.0/2.1 A and AA: no "serious" or
//! "critical" violation) and captured to `target/e2e-artifacts/<test>/<nn>-<step>.png` (also
//! `99-failure.png` when a test fails). [`Browser::narrow`] checks a page at 360 px.
//!
//! Needs chromium, chromedriver and `e2e/node_modules/axe-core/axe.min.js`: `scripts/test`
//! installs them. `DAYAQ_SKIP_BROWSER_TESTS=1` skips these tests (with a loud banner).
//! `DAYAQ_CHROMEDRIVER` / `DAYAQ_CHROMIUM` name other binaries than the ones on `PATH`.

use super::api::totp_code;
use super::db::{PASSWORD, TestApp, spawn_app};
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
pub const WIDE: (u32, u32) = (1280, 900);
pub const NARROW: (u32, u32) = (360, 800);
pub const WAIT: Duration = Duration::from_secs(15);

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
        let http = crate::kit::local_client().build().expect("http client");
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
pub struct Browser {
    pub client: Client,
    pub base: String,
    dir: Arc<PathBuf>,
    step: Arc<AtomicUsize>,
    axe: Arc<String>,
}

/// Starts chromedriver and a headless browser, serves a fresh application and runs `body`
/// with both; the browser is closed whatever happens, and a failure screenshot is kept.
pub async fn run<F, Fut>(test: &str, body: F)
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
return { viewport: vw, inner: window.innerWidth, scroll: sw, wide: wide };
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
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    pub async fn path(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("current URL")
            .path()
            .to_string()
    }

    pub async fn source(&self) -> String {
        self.client.source().await.expect("page source")
    }

    pub async fn html_lang(&self) -> String {
        self.js("return document.documentElement.lang;", vec![])
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits for the element (up to 15 s).
    pub async fn find(&self, css: &str) -> Element {
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

    pub async fn count(&self, css: &str) -> usize {
        self.client
            .find_all(Locator::Css(css))
            .await
            .map(|v| v.len())
            .unwrap_or(0)
    }

    /// The element's rendered text (looked up again if htmx replaced it meanwhile).
    pub async fn text(&self, css: &str) -> String {
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
    pub async fn fill(&self, css: &str, value: &str) {
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
    pub async fn set_value(&self, css: &str, value: &str) {
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

    pub async fn select(&self, css: &str, value: &str) {
        self.find(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("select {value} in {css}: {e}"));
    }

    /// Opens `path`, then checks and captures the page.
    pub async fn open(&self, path: &str, step: &str) {
        self.goto(path).await;
        self.loaded(step).await;
    }

    /// Opens `path` and waits until it has loaded (no check, no capture).
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&self.url(path))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
        self.wait_complete().await;
    }

    async fn wait_complete(&self) {
        let deadline = Instant::now() + WAIT;
        while self.js("return document.readyState;", vec![]).await != json!("complete") {
            assert!(Instant::now() < deadline, "page never finished loading");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks what leads to another page (a submit button, a link), waits for the new
    /// document, then checks and captures it.
    pub async fn click_to(&self, css: &str, step: &str) {
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
    pub async fn loaded(&self, step: &str) {
        self.wait_complete().await;
        self.check(step).await;
        self.shot(step).await;
    }

    /// Runs axe-core (WCAG 2.x A/AA) in the page: its violations and how many rules passed.
    pub async fn axe(&self) -> (Vec<Value>, u64) {
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
    pub async fn check(&self, step: &str) {
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
    pub async fn shot(&self, step: &str) {
        let n = self.step.fetch_add(1, Ordering::SeqCst) + 1;
        let name: String = step
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        self.shot_named(&format!("{n:02}-{name}")).await;
    }

    pub async fn shot_named(&self, name: &str) {
        self.capture(&self.dir.join(format!("{name}.png"))).await;
    }

    /// Saves a screenshot of the whole page (up to 6000 px high) to `file`.
    pub async fn capture(&self, file: &Path) {
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
                if let Err(e) = std::fs::write(file, png) {
                    eprintln!("cannot write {}: {e}", file.display());
                }
            }
            Err(e) => eprintln!("screenshot {} failed: {e}", file.display()),
        }
    }

    pub async fn resize(&self, (w, h): (u32, u32)) {
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
    pub async fn narrow(&self, step: &str) {
        self.resize(NARROW).await;
        self.shot(&format!("{step}-360px")).await;
        self.assert_fits(step).await;
        self.check(&format!("{step} at 360 px")).await;
        self.resize(WIDE).await;
    }

    /// Asserts that the page does not scroll sideways at the current width:
    /// `scrollWidth` within the viewport (`clientWidth`, which is `innerWidth` less a
    /// scroll bar); the message names the elements that stick out.
    pub async fn assert_fits(&self, step: &str) {
        let o = self.overflow().await;
        let path = self.path().await;
        assert!(
            o["scroll"].as_u64() <= o["viewport"].as_u64()
                && o["scroll"].as_u64() <= o["inner"].as_u64(),
            "at {} px {path} ({step}) scrolls sideways ({} > {} px); too wide: {}",
            o["inner"],
            o["scroll"],
            o["viewport"],
            o["wide"]
        );
    }

    /// How wide the page is compared with the viewport, and what sticks out.
    pub async fn overflow(&self) -> Value {
        self.js(OVERFLOW, vec![]).await
    }

    pub async fn page_weight(&self) -> (u64, Vec<(String, u64)>) {
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

    /// Clicks an element that changes nothing but the current page (a <summary>, a checkbox).
    pub async fn click_here(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Signs `username` in through the login page (password [`PASSWORD`]), with the code of
    /// `totp` as second factor when given; asserts that it ends on the home page.
    pub async fn sign_in(&self, username: &str, totp: Option<&[u8]>) {
        self.sign_in_with(username, PASSWORD, totp).await;
    }

    /// [`Browser::sign_in`] with another password (the demo world's accounts).
    pub async fn sign_in_with(&self, username: &str, password: &str, totp: Option<&[u8]>) {
        self.open("/login", "login").await;
        self.fill("#username", username).await;
        self.fill("#password", password).await;
        self.click_to("#login-submit", "signed-in").await;
        if let Some(secret) = totp {
            assert_eq!(self.path().await, "/login/totp");
            wait_for_unused_totp_step(username).await;
            self.fill("#code", &totp_code(secret, username)).await;
            self.click_to("#totp-submit", "second-factor").await;
        }
        assert_eq!(self.path().await, "/", "signed in as {username}");
    }

    /// A refused form's field `#id` (issue #23): its error `#id-err` sits inside the field's
    /// container, the input is marked invalid, and the form's summary links to it.
    pub async fn assert_error_beside(&self, id: &str) {
        let r = self
            .js(
                "const i = document.getElementById(arguments[0]); \
                 const e = document.getElementById(arguments[0] + '-err'); \
                 return [!!i, !!i && !!e && i.parentElement.contains(e), \
                   !!i && i.getAttribute('aria-invalid') === 'true', \
                   !!document.querySelector('a[href=\"#' + arguments[0] + '\"]')];",
                vec![json!(id)],
            )
            .await;
        assert_eq!(
            r,
            json!([true, true, true, true]),
            "#{id}: [input, error beside it, marked invalid, linked from the summary]"
        );
    }

    /// The current value of a form field (what the user typed, or what the page kept).
    pub async fn value(&self, css: &str) -> String {
        self.find(css)
            .await
            .prop("value")
            .await
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    /// Signs out with the button of the navigation; asserts that it ends on the login page.
    pub async fn sign_out(&self) {
        self.click_to("#sign-out", "signed-out").await;
        assert_eq!(self.path().await, "/login");
    }
}

/// The server refuses a TOTP code of a time step already used by the account (replay), so a
/// test that signs the same account in twice within 30 seconds waits for the next step.
async fn wait_for_unused_totp_step(username: &str) {
    static LAST: std::sync::Mutex<Vec<(String, u64)>> = std::sync::Mutex::new(Vec::new());
    loop {
        let step = (time::OffsetDateTime::now_utc().unix_timestamp() as u64) / 30;
        {
            let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
            match last.iter_mut().find(|(u, _)| u == username) {
                Some((_, s)) if *s == step => {}
                Some((_, s)) => {
                    *s = step;
                    return;
                }
                None => {
                    last.push((username.to_string(), step));
                    return;
                }
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

// ---------- translations ----------

/// The single-line messages of a locale's Fluent catalogue, read from the source tree so
/// that the tests follow the translations rather than copies of them.
pub struct Catalogue {
    pub lang: &'static str,
    messages: HashMap<String, String>,
}

impl Catalogue {
    pub fn load(lang: &'static str) -> Catalogue {
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

    pub fn get(&self, key: &str) -> &str {
        self.messages.get(key).unwrap_or_else(|| {
            panic!(
                "no single-line message {key} in the {} catalogue",
                self.lang
            )
        })
    }
}
