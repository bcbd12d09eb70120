//! Webhooks (issue 22 §4): an organisation's endpoints, the outbox and the delivery log.
//!
//! - Endpoints are managed under `Action::ManageWebhooks` on the actor's own organisation
//!   (its admin and supervisors); the URL is checked by the domain (https, or http on
//!   loopback); the signing secret is random, sealed with the system key, and shown once.
//! - [`Store::enqueue_webhook`] writes one outbox row per interested endpoint INSIDE the
//!   transaction of the change (a referral sent or answered, a decision): the event exists
//!   exactly when the change does. The payload holds the event type and ids only.
//! - The delivery worker (`dayaq_http::webhook_worker`) claims due rows with a lease
//!   ([`Store::claim_webhook_deliveries`]), sends them, and records the outcome
//!   ([`Store::complete_webhook_delivery`]): delivered, or tried again later with exponential
//!   backoff, or given up after `MAX_ATTEMPTS`. A claim whose worker died (killed
//!   mid-delivery) is claimable again once its lease has passed, with the same id, so the
//!   receiver can drop the duplicate.

pub mod sign;

use crate::crypto::{field_aad, random_bytes};
use crate::kernel::{Ctx, millis, ts, uuid_of};
use crate::{Result, Store, StoreError};
use dayaq_domain::Action;
use dayaq_domain::webhooks::{
    EndpointInput, EventPayload, EventSubject, EventType, LEASE_MS, retry_delay_ms,
};
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use uuid::Uuid;
use zeroize::Zeroizing;

/// How many deliveries the log shows.
pub const LOG_LIMIT: i64 = 200;

/// An endpoint as listed (never its secret).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Endpoint {
    pub id: Uuid,
    pub url: String,
    /// Event type codes (`referral.received`, …).
    pub events: Vec<String>,
    pub created_at: String,
    /// Disabled endpoints receive nothing; their undelivered events are cancelled.
    pub disabled: bool,
}

/// An endpoint just registered, with its signing secret (`whsec_…`), shown this once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedEndpoint {
    pub endpoint: Endpoint,
    pub secret: String,
}

/// One row of the delivery log.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    /// The `webhook-id` every attempt of this delivery carries.
    pub id: String,
    pub endpoint_id: Uuid,
    pub event_type: String,
    /// `pending`, `delivered`, `failed` (given up) or `cancelled` (endpoint disabled).
    pub state: String,
    pub attempts: i64,
    pub created_at: String,
    pub next_attempt_at: Option<String>,
    pub delivered_at: Option<String>,
    /// The receiver's last HTTP status, if it answered.
    pub last_status: Option<i64>,
    /// A short code of the last failure (`timeout`, `connect`, `status`), never a body.
    pub last_error: Option<String>,
}

/// A claimed delivery, for the worker.
pub struct DueDelivery {
    pub id: String,
    pub url: String,
    pub payload: String,
    pub secret: Zeroizing<Vec<u8>>,
    /// Attempts including this one.
    pub attempts: i64,
}

impl std::fmt::Debug for DueDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DueDelivery")
            .field("id", &self.id)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// What one attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The receiver answered 2xx.
    Delivered { status: u16 },
    /// No answer or a non-2xx one: `error` is a short code.
    Failed {
        status: Option<u16>,
        error: &'static str,
    },
}

fn secret_aad(endpoint: &str, key_id: &str) -> Vec<u8> {
    field_aad("webhook_endpoints", "secret", endpoint, key_id)
}

fn endpoint_of(r: &sqlx::any::AnyRow) -> Result<Endpoint> {
    let events: String = r.try_get("events")?;
    Ok(Endpoint {
        id: uuid_of(&r.try_get::<String, _>("id")?)?,
        url: r.try_get("url")?,
        events: events
            .split(',')
            .filter(|e| !e.is_empty())
            .map(str::to_string)
            .collect(),
        created_at: ts(r.try_get("created_at")?),
        disabled: r.try_get::<Option<i64>, _>("disabled_at")?.is_some(),
    })
}

impl Store {
    /// The organisation's endpoints, newest first.
    pub async fn webhook_endpoints(&self, ctx: &Ctx<'_>) -> Result<Vec<Endpoint>> {
        self.authorize_org(ctx, Action::ManageWebhooks)?;
        let rows = sqlx::query(
            "SELECT id, url, events, created_at, disabled_at FROM webhook_endpoints \
             WHERE org_id = $1 ORDER BY created_at DESC, id",
        )
        .bind(ctx.actor.org_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(endpoint_of).collect()
    }

    /// Registers an endpoint of the actor's organisation; the secret is returned once.
    pub async fn add_webhook_endpoint(
        &self,
        ctx: &Ctx<'_>,
        input: &EndpointInput,
    ) -> Result<CreatedEndpoint> {
        self.authorize_org(ctx, Action::ManageWebhooks)?;
        let valid = input.validate()?;
        let id = Uuid::new_v4();
        let ids = id.to_string();
        let secret = Zeroizing::new(random_bytes::<32>()?);
        let system = self.keys.system()?;
        let sealed = system.seal(&secret_aad(&ids, &system.key_id()), secret.as_ref())?;
        let events: Vec<&str> = valid.events.iter().map(|e| e.as_str()).collect();
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO webhook_endpoints (id, org_id, url, events, secret, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&ids)
        .bind(ctx.actor.org_id.to_string())
        .bind(&valid.url)
        .bind(events.join(","))
        .bind(sealed)
        .bind(ctx.actor.user_id.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let e = ctx.entry_with(
            "webhook.endpoint_create",
            "success",
            "",
            format!("endpoint={ids} events={}", events.join(",")),
        );
        tx.commit_with(&e, now).await?;
        Ok(CreatedEndpoint {
            endpoint: Endpoint {
                id,
                url: valid.url,
                events: events.iter().map(|e| e.to_string()).collect(),
                created_at: ts(now),
                disabled: false,
            },
            secret: sign::secret_text(secret.as_ref()),
        })
    }

    /// Disables an endpoint of the actor's organisation (another organisation's is "not
    /// found") and cancels its undelivered events.
    pub async fn disable_webhook_endpoint(&self, ctx: &Ctx<'_>, id: Uuid) -> Result<()> {
        self.authorize_org(ctx, Action::ManageWebhooks)?;
        let now = millis(ctx.now);
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE webhook_endpoints SET disabled_at = $1 \
             WHERE id = $2 AND org_id = $3 AND disabled_at IS NULL",
        )
        .bind(now)
        .bind(id.to_string())
        .bind(ctx.actor.org_id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(StoreError::NotFound);
        }
        sqlx::query(
            "UPDATE webhook_outbox SET state = 'cancelled', lease_until = NULL \
             WHERE endpoint_id = $1 AND state = 'pending'",
        )
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        let e = ctx.entry_with(
            "webhook.endpoint_disable",
            "success",
            "",
            format!("endpoint={id}"),
        );
        tx.commit_with(&e, now).await
    }

    /// The organisation's latest deliveries (at most [`LOG_LIMIT`]), newest first.
    pub async fn webhook_deliveries(&self, ctx: &Ctx<'_>) -> Result<Vec<Delivery>> {
        self.authorize_org(ctx, Action::ManageWebhooks)?;
        let rows = sqlx::query(
            "SELECT id, endpoint_id, event_type, state, attempts, created_at, next_attempt_at, \
             delivered_at, last_status, last_error FROM webhook_outbox \
             WHERE org_id = $1 ORDER BY created_at DESC, id LIMIT $2",
        )
        .bind(ctx.actor.org_id.to_string())
        .bind(LOG_LIMIT)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let state: String = r.try_get("state")?;
                let next: i64 = r.try_get("next_attempt_at")?;
                Ok(Delivery {
                    id: r.try_get("id")?,
                    endpoint_id: uuid_of(&r.try_get::<String, _>("endpoint_id")?)?,
                    event_type: r.try_get("event_type")?,
                    next_attempt_at: (state == "pending").then(|| ts(next)),
                    state,
                    attempts: r.try_get("attempts")?,
                    created_at: ts(r.try_get("created_at")?),
                    delivered_at: r.try_get::<Option<i64>, _>("delivered_at")?.map(ts),
                    last_status: r.try_get("last_status")?,
                    last_error: r.try_get("last_error")?,
                })
            })
            .collect()
    }

    /// Queues `event` about `subject` for every live endpoint of `org` that wants it, on the
    /// connection of the change's own transaction (call it last, just before the commit).
    pub(crate) async fn enqueue_webhook(
        conn: &mut AnyConnection,
        org: Uuid,
        event: EventType,
        subject: EventSubject,
        now: time::OffsetDateTime,
    ) -> Result<()> {
        let endpoints = sqlx::query(
            "SELECT id, events FROM webhook_endpoints WHERE org_id = $1 AND disabled_at IS NULL",
        )
        .bind(org.to_string())
        .fetch_all(&mut *conn)
        .await?;
        let payload = EventPayload::json(event, &subject, now);
        let at = millis(now);
        for e in endpoints {
            let events: String = e.try_get("events")?;
            if !events.split(',').any(|x| x == event.as_str()) {
                continue;
            }
            let endpoint: String = e.try_get("id")?;
            sqlx::query(
                "INSERT INTO webhook_outbox (id, endpoint_id, org_id, event_type, payload, created_at, \
                 state, attempts, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $6)",
            )
            .bind(format!("msg_{}", Uuid::new_v4().simple()))
            .bind(endpoint)
            .bind(org.to_string())
            .bind(event.as_str())
            .bind(&payload)
            .bind(at)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    /// Claims up to `limit` due deliveries for the worker: each gets a lease of `LEASE_MS`
    /// and one more attempt counted. A delivery claimed by a worker that died is due again
    /// once its lease has passed.
    pub async fn claim_webhook_deliveries(
        &self,
        now: time::OffsetDateTime,
        limit: i64,
    ) -> Result<Vec<DueDelivery>> {
        let now = millis(now);
        let mut tx = self.begin_write().await?;
        let due = sqlx::query(
            "SELECT id FROM webhook_outbox WHERE state = 'pending' AND next_attempt_at <= $1 \
             AND (lease_until IS NULL OR lease_until <= $1) ORDER BY next_attempt_at, id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let system = self.keys.system()?;
        let mut out = Vec::with_capacity(due.len());
        for r in due {
            let id: String = r.try_get("id")?;
            let claimed = sqlx::query(
                "UPDATE webhook_outbox SET lease_until = $1, attempts = attempts + 1, last_attempt_at = $2 \
                 WHERE id = $3 AND state = 'pending' AND (lease_until IS NULL OR lease_until <= $2)",
            )
            .bind(now + LEASE_MS)
            .bind(now)
            .bind(&id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if claimed != 1 {
                continue;
            }
            let d = sqlx::query(
                "SELECT o.payload AS payload, o.attempts AS attempts, e.id AS endpoint_id, e.url AS url, \
                 e.secret AS secret FROM webhook_outbox o JOIN webhook_endpoints e ON e.id = o.endpoint_id \
                 WHERE o.id = $1",
            )
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?;
            let endpoint: String = d.try_get("endpoint_id")?;
            let sealed: Vec<u8> = d.try_get("secret")?;
            let secret = system.open(&secret_aad(&endpoint, &system.key_id()), &sealed)?;
            out.push(DueDelivery {
                id,
                url: d.try_get("url")?,
                payload: d.try_get("payload")?,
                secret,
                attempts: d.try_get("attempts")?,
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Records the outcome of a claimed attempt: delivered, or due again after the backoff,
    /// or given up once the attempts are spent. A late failure never undoes a delivery.
    pub async fn complete_webhook_delivery(
        &self,
        id: &str,
        attempts: i64,
        outcome: AttemptOutcome,
        now: time::OffsetDateTime,
    ) -> Result<()> {
        let now = millis(now);
        let mut tx = self.begin_write().await?;
        match outcome {
            AttemptOutcome::Delivered { status } => {
                sqlx::query(
                    "UPDATE webhook_outbox SET state = 'delivered', delivered_at = $1, lease_until = NULL, \
                     last_status = $2, last_error = NULL WHERE id = $3 AND state = 'pending'",
                )
                .bind(now)
                .bind(i64::from(status))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            AttemptOutcome::Failed { status, error } => {
                let spent = u32::try_from(attempts).unwrap_or(u32::MAX);
                let (state, next) = match retry_delay_ms(spent) {
                    Some(d) => ("pending", now + d),
                    None => ("failed", now),
                };
                sqlx::query(
                    "UPDATE webhook_outbox SET state = $1, next_attempt_at = $2, lease_until = NULL, \
                     last_status = $3, last_error = $4 WHERE id = $5 AND state = 'pending'",
                )
                .bind(state)
                .bind(next)
                .bind(status.map(i64::from))
                .bind(error)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await
    }
}
