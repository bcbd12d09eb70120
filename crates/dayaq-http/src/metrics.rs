//! `/healthz` and Prometheus `/metrics`: counts only, never personal data or identifiers.

use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

#[derive(Default)]
pub struct Metrics {
    requests_2xx: AtomicU64,
    requests_3xx: AtomicU64,
    requests_4xx: AtomicU64,
    requests_5xx: AtomicU64,
    /// Sum of request durations in microseconds.
    duration_us: AtomicU64,
    requests: AtomicU64,
}

pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    // The route template (e.g. /api/v1/cases/{id}), never the concrete URL.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let resp = next.run(req).await;
    let m = &state.metrics;
    let counter = match resp.status().as_u16() {
        200..=299 => &m.requests_2xx,
        300..=399 => &m.requests_3xx,
        400..=499 => &m.requests_4xx,
        _ => &m.requests_5xx,
    };
    counter.fetch_add(1, Ordering::Relaxed);
    m.requests.fetch_add(1, Ordering::Relaxed);
    let us = start.elapsed().as_micros() as u64;
    m.duration_us.fetch_add(us, Ordering::Relaxed);
    tracing::info!(%method, route, status = resp.status().as_u16(), us, "request");
    resp
}

pub async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(_) => (axum::http::StatusCode::OK, "ok\n").into_response(),
        Err(_) => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "database unavailable\n",
        )
            .into_response(),
    }
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    let m = &state.metrics;
    let mut out = String::new();
    out.push_str("# HELP dayaq_http_requests_total HTTP requests by status class.\n");
    out.push_str("# TYPE dayaq_http_requests_total counter\n");
    for (class, c) in [
        ("2xx", &m.requests_2xx),
        ("3xx", &m.requests_3xx),
        ("4xx", &m.requests_4xx),
        ("5xx", &m.requests_5xx),
    ] {
        out.push_str(&format!(
            "dayaq_http_requests_total{{class=\"{class}\"}} {}\n",
            c.load(Ordering::Relaxed)
        ));
    }
    out.push_str(
        "# HELP dayaq_http_request_duration_seconds_sum Total time spent serving requests.\n",
    );
    out.push_str("# TYPE dayaq_http_request_duration_seconds_sum counter\n");
    out.push_str(&format!(
        "dayaq_http_request_duration_seconds_sum {}\n",
        m.duration_us.load(Ordering::Relaxed) as f64 / 1e6
    ));
    out.push_str("# HELP dayaq_http_request_duration_seconds_count Requests timed.\n");
    out.push_str("# TYPE dayaq_http_request_duration_seconds_count counter\n");
    out.push_str(&format!(
        "dayaq_http_request_duration_seconds_count {}\n",
        m.requests.load(Ordering::Relaxed)
    ));
    // The audit head's sequence number: a scraper that stores it is another witness (a
    // value that goes down means the log was cut back).
    if let Ok(seq) = state.store.audit_head_seq().await {
        out.push_str("# HELP dayaq_audit_head_seq Sequence number of the audit log's head.\n");
        out.push_str("# TYPE dayaq_audit_head_seq gauge\n");
        out.push_str(&format!("dayaq_audit_head_seq {seq}\n"));
    }
    // Access-anomaly alerts (issue #18 part 2): open alerts per rule, every rule listed.
    if let Ok(counts) = state.store.open_alert_counts().await {
        out.push_str("# HELP dayaq_alerts_open Open access-anomaly alerts by rule.\n");
        out.push_str("# TYPE dayaq_alerts_open gauge\n");
        for (rule, n) in counts {
            out.push_str(&format!("dayaq_alerts_open{{rule=\"{rule}\"}} {n}\n"));
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}
