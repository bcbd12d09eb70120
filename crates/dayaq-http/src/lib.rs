//! Dayaq HTTP: the axum application (HTML screens, JSON API, authentication).
//! Handlers stay thin: they parse, call the store (which applies the access policy), and map
//! errors in one place (`error.rs`).

pub mod api;
pub mod auth;
pub mod checkin_sender;
pub(crate) mod documents;
pub mod error;
pub mod htcds_export;
pub mod i18n;
pub mod metrics;
pub mod pages;
pub mod passkeys;
pub mod paths;
pub mod proxy;
pub mod ratelimit;
mod security;
pub mod settings;
pub(crate) mod subject_access;
pub mod time_fmt;
pub mod upload;
pub mod webhook_worker;

use axum::Router;
use axum::routing::get;
use dayaq_storage::Store;
use dayaq_storage::sessions::SessionPolicy;
use std::net::SocketAddr;
use std::sync::Arc;
use time::OffsetDateTime;

/// The source of "now". Tests pass a controllable clock.
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(OffsetDateTime::now_utc)
}

#[derive(Clone)]
pub struct AppConfig {
    pub session: SessionPolicy,
    /// Set when Dayaq is served over TLS (directly or behind a proxy): cookies get `Secure`
    /// and the `__Host-` prefix, and HSTS is sent.
    pub secure_cookies: bool,
    pub clock: Clock,
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` are believed (see `proxy`).
    pub trusted_proxies: Vec<proxy::IpNet>,
    /// Request budgets per client address for the API and the sign-in steps.
    pub rate_limits: ratelimit::RateLimits,
    /// The action-plan scorecard's indicators (built-in `config/indicators.toml`, or the file
    /// `serve --indicators` names; checked at start).
    pub indicators: Arc<dayaq_domain::statistics::scorecard::IndicatorSet>,
    /// How self check-in links reach the survivor (issue 17); the default only logs the id.
    pub checkin_sender: Arc<dyn checkin_sender::CheckInSender>,
    /// The WebAuthn relying party for passkeys (issue 22 §2): `serve --public-url`'s host, or
    /// `localhost` on any port by default. `None` only if it could not be built (passkeys
    /// are then unavailable; the other factors work).
    pub passkeys: Option<Arc<webauthn_rs::prelude::Webauthn>>,
}

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            session: SessionPolicy::default(),
            secure_cookies: false,
            clock: system_clock(),
            trusted_proxies: Vec::new(),
            rate_limits: ratelimit::RateLimits::default(),
            // The built-in file is checked by a unit test; an empty set only if it were broken.
            indicators: Arc::new(
                dayaq_domain::statistics::scorecard::IndicatorSet::builtin().unwrap_or_default(),
            ),
            checkin_sender: checkin_sender::logging_sender(),
            passkeys: passkeys::relying_party(None).ok().map(Arc::new),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub cfg: AppConfig,
    pub metrics: Arc<metrics::Metrics>,
}

impl AppState {
    pub fn now(&self) -> OffsetDateTime {
        (self.cfg.clock)()
    }
}

/// The whole application: pages, API, health and metrics, with the security layers.
pub fn app(store: Store, cfg: AppConfig) -> Router {
    let state = AppState {
        store,
        cfg,
        metrics: Arc::new(metrics::Metrics::default()),
    };
    let (api_router, _) = api::router().split_for_parts();
    let limiters = ratelimit::Limiters::new(&state.cfg.rate_limits);
    let mut signin = pages::signin_router();
    // The survivor's self check-in pages (no account), rate-limited per client address.
    let mut checkin = pages::checkin_router();
    let mut api_router = api_router;
    if let Some(l) = &limiters {
        l.spawn_cleanup();
        signin = signin
            .layer(l.signin_layer())
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                ratelimit::signin_page,
            ));
        api_router = api_router.layer(l.api_layer());
        checkin = checkin.layer(l.checkin_layer());
    }
    Router::new()
        .merge(pages::router())
        .merge(signin)
        .merge(checkin)
        .nest("/api/v1", api_router)
        .route("/healthz", get(metrics::healthz))
        .route("/metrics", get(metrics::metrics))
        // GET on a form's address: a human page on screens, JSON on the API (issue #23 §2).
        .method_not_allowed_fallback(error::method_not_allowed)
        .fallback(error::not_found)
        // Inside the session layer: a repeated screen form POST makes one record (issue #23).
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            pages::form::once_layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::session_layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::headers,
        ))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            settings::request_body_limit(state.store.attachment_store().max_bytes()),
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            security::panic_response,
        ))
        .with_state(state)
}

/// Serves the application on `listener` until the process is stopped.
pub async fn serve(
    listener: tokio::net::TcpListener,
    store: Store,
    cfg: AppConfig,
) -> std::io::Result<()> {
    let app = app(store, cfg);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}

/// Like `serve`, ending when `shutdown` completes (graceful: in-flight requests finish).
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    store: Store,
    cfg: AppConfig,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = app(store, cfg);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

#[cfg(test)]
mod i18n_tests;
