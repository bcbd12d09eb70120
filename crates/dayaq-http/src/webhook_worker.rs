//! The webhook delivery worker (issue 22 §4), spawned by `serve` like the retention job.
//!
//! Each round claims the due deliveries of the outbox (with a lease), POSTs each payload to
//! its endpoint with the Standard Webhooks headers (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature`), and records the outcome: a 2xx answer is delivered; anything else
//! (no connection, a timeout, a redirect, another status) is tried again later with
//! exponential backoff. The client uses rustls with the OS trust store, short timeouts, and
//! never follows a redirect. Logs carry the delivery id, the attempt and a status or error
//! code — never the URL or the payload.

use dayaq_storage::Store;
use dayaq_storage::webhooks::{AttemptOutcome, DueDelivery, sign};
use std::time::Duration;
use time::OffsetDateTime;

/// Deliveries claimed per round.
pub const BATCH: i64 = 20;
/// The whole attempt, connection to answer.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The HTTP client of the worker: rustls, timeouts, no redirects, no cookies.
pub fn client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent("Dayaq-Webhooks/1")
        .build()
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub delivered: usize,
    pub failed: usize,
}

async fn attempt(client: &reqwest::Client, d: &DueDelivery, now: OffsetDateTime) -> AttemptOutcome {
    let ts = now.unix_timestamp();
    let sig = sign::signature(&d.secret, &d.id, ts, &d.payload);
    let sent = client
        .post(&d.url)
        .header("content-type", "application/json")
        .header("webhook-id", &d.id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", sig)
        .body(d.payload.clone())
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() => AttemptOutcome::Delivered {
            status: r.status().as_u16(),
        },
        Ok(r) => AttemptOutcome::Failed {
            status: Some(r.status().as_u16()),
            error: "status",
        },
        Err(e) if e.is_timeout() => AttemptOutcome::Failed {
            status: None,
            error: "timeout",
        },
        Err(e) if e.is_connect() => AttemptOutcome::Failed {
            status: None,
            error: "connect",
        },
        Err(_) => AttemptOutcome::Failed {
            status: None,
            error: "request",
        },
    }
}

/// One round at `now`: claims the due deliveries, sends them concurrently, records each
/// outcome at `now`.
pub async fn deliver_due(
    store: &Store,
    client: &reqwest::Client,
    now: OffsetDateTime,
) -> dayaq_storage::Result<Round> {
    let due = store.claim_webhook_deliveries(now, BATCH).await?;
    let mut set = tokio::task::JoinSet::new();
    for d in due {
        let (store, client) = (store.clone(), client.clone());
        set.spawn(async move {
            let outcome = attempt(&client, &d, now).await;
            match outcome {
                AttemptOutcome::Delivered { status } => {
                    tracing::info!(delivery = %d.id, attempt = d.attempts, status, "webhook delivered");
                }
                AttemptOutcome::Failed { status, error } => {
                    tracing::warn!(delivery = %d.id, attempt = d.attempts, ?status, error, "webhook attempt failed");
                }
            }
            store
                .complete_webhook_delivery(&d.id, d.attempts, outcome, now)
                .await
                .map(|()| outcome)
        });
    }
    let mut round = Round::default();
    while let Some(done) = set.join_next().await {
        match done {
            Ok(Ok(AttemptOutcome::Delivered { .. })) => round.delivered += 1,
            Ok(Ok(AttemptOutcome::Failed { .. })) => round.failed += 1,
            // The row keeps its lease and is tried again once the lease has passed.
            Ok(Err(e)) => tracing::warn!(error = %e, "webhook outcome not recorded"),
            Err(e) => tracing::warn!(error = %e, "webhook attempt task failed"),
        }
    }
    Ok(round)
}

/// The worker loop of `serve`: a round every `every` on the application's clock.
pub async fn run(store: Store, clock: crate::Clock, every: Duration) {
    let client = match client() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhook worker cannot build its HTTP client; no deliveries");
            return;
        }
    };
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match deliver_due(&store, &client, clock()).await {
            Ok(r) if r.delivered + r.failed > 0 => {
                tracing::info!(delivered = r.delivered, failed = r.failed, "webhook round");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "webhook round failed; retried at the next tick"),
        }
    }
}
