//! General request rate limits (GCRA, `governor` through `tower_governor`), keyed by the client
//! address of [`crate::proxy`] (the `Source` of the request), never by the socket: behind a
//! trusted reverse proxy every client has its own budget.
//!
//! Two budgets: the JSON API (`/api/v1/*`, all methods) and the sign-in steps (`POST /login*`).
//! Over the budget: 429 with `Retry-After`; the API answers in its JSON error shape, the
//! sign-in screens with a page. These limits sit in front of the database-backed login
//! throttle (per source and per account, `dayaq_storage::users`), which works across instances;
//! these budgets are per process.

use crate::AppState;
use crate::auth::Source;
use crate::error::AppError;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::middleware::NoOpMiddleware;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tower_governor::GovernorError;
use tower_governor::governor::{GovernorConfig, GovernorConfigBuilder};
use tower_governor::key_extractor::KeyExtractor;

/// One budget: `burst` requests at once, then one more every `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub burst: u32,
    pub period: Duration,
}

/// The budgets of [`crate::AppConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// `POST /login`, `/login/totp`, `/login/enrol` per client address.
    pub signin: Limit,
    /// Every `/api/v1/*` request per client address.
    pub api: Limit,
}

impl Default for RateLimits {
    /// Sign-in: a burst of 10, then one attempt every 2 s. API: a burst of 200, then 50/s.
    fn default() -> Self {
        Self {
            signin: Limit {
                burst: 10,
                period: Duration::from_secs(2),
            },
            api: Limit {
                burst: 200,
                period: Duration::from_millis(20),
            },
        }
    }
}

/// The rate-limit key: the request's client address (set by the session layer from the
/// trusted-proxy rule).
#[derive(Debug, Clone, Copy)]
pub struct SourceKey;

impl KeyExtractor for SourceKey {
    type Key = String;

    fn extract<T>(&self, req: &axum::http::Request<T>) -> Result<Self::Key, GovernorError> {
        Ok(req
            .extensions()
            .get::<Source>()
            .map(|s| s.0.clone())
            .unwrap_or_else(|| "unknown".into()))
    }
}

pub type Config = GovernorConfig<SourceKey, NoOpMiddleware>;
pub type Layer = tower_governor::GovernorLayer<SourceKey, NoOpMiddleware, Body>;

fn config(limit: Limit, methods: Option<Vec<Method>>) -> Option<Arc<Config>> {
    let mut b = GovernorConfigBuilder::default().key_extractor(SourceKey);
    b.burst_size(limit.burst.max(1))
        .period(limit.period.max(Duration::from_micros(1)));
    if let Some(m) = methods {
        b.methods(m);
    }
    b.finish().map(Arc::new)
}

fn wait_secs(e: &GovernorError) -> i64 {
    match e {
        GovernorError::TooManyRequests { wait_time, .. } => (*wait_time as i64).max(1),
        _ => 1,
    }
}

/// Marks a sign-in request refused by the limiter; [`signin_page`] renders the page.
#[derive(Debug, Clone, Copy)]
struct SignInLimited(i64);

/// The two limiters of one application.
pub struct Limiters {
    pub signin: Arc<Config>,
    pub api: Arc<Config>,
    /// The self check-in pages (`/c`, `/c/{token}`, issue 17): every method, the sign-in
    /// budget (a guessed link or code is a guessed password).
    pub checkin: Arc<Config>,
}

impl Limiters {
    pub fn new(l: &RateLimits) -> Option<Self> {
        Some(Self {
            signin: config(l.signin, Some(vec![Method::POST]))?,
            api: config(l.api, None)?,
            checkin: config(l.signin, None)?,
        })
    }

    pub fn api_layer(&self) -> Layer {
        tower_governor::GovernorLayer::new(self.api.clone())
            .error_handler(|e| AppError::TooManyRequests(wait_secs(&e)).into_response())
    }

    pub fn signin_layer(&self) -> Layer {
        tower_governor::GovernorLayer::new(self.signin.clone()).error_handler(|e| {
            let mut r = StatusCode::TOO_MANY_REQUESTS.into_response();
            r.extensions_mut().insert(SignInLimited(wait_secs(&e)));
            r
        })
    }

    /// Over the budget the check-in pages answer a bare 429 (no page that could tell a valid
    /// link from another).
    pub fn checkin_layer(&self) -> Layer {
        tower_governor::GovernorLayer::new(self.checkin.clone()).error_handler(|e| {
            let mut r = StatusCode::TOO_MANY_REQUESTS.into_response();
            if let Ok(v) = axum::http::HeaderValue::from_str(&wait_secs(&e).to_string()) {
                r.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
            }
            r
        })
    }

    /// Forgets idle clients once a minute while the application lives (bounded memory).
    pub fn spawn_cleanup(&self) {
        let (a, b): (Weak<Config>, Weak<Config>) =
            (Arc::downgrade(&self.signin), Arc::downgrade(&self.api));
        let c: Weak<Config> = Arc::downgrade(&self.checkin);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    let (Some(a), Some(b)) = (a.upgrade(), b.upgrade()) else {
                        break;
                    };
                    a.limiter().retain_recent();
                    b.limiter().retain_recent();
                    if let Some(c) = c.upgrade() {
                        c.limiter().retain_recent();
                    }
                }
            });
        }
    }
}

/// Around the sign-in routes: a request refused by the limiter gets the sign-in page's
/// "too many attempts" answer in the visitor's language, with `Retry-After`.
pub async fn signin_page(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let headers = req.headers().clone();
    let resp = next.run(req).await;
    let Some(SignInLimited(secs)) = resp.extensions().get::<SignInLimited>().copied() else {
        return resp;
    };
    let mut page = crate::pages::visitor_error_page(
        &state,
        &headers,
        StatusCode::TOO_MANY_REQUESTS,
        "error-too-many",
        |t| t.arg("login-throttled", "seconds", secs),
    );
    if let Ok(v) = axum::http::HeaderValue::from_str(&secs.to_string()) {
        page.headers_mut()
            .insert(axum::http::header::RETRY_AFTER, v);
    }
    page
}
