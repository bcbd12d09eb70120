//! `dayaq serve`: open the store, bind, serve until Ctrl-C (or SIGTERM).

use crate::cli::ServeArgs;
use anyhow::Context;
use dayaq_http::AppConfig;
use dayaq_http::ratelimit::{Limit, RateLimits};
use dayaq_storage::Store;
use dayaq_storage::sessions::SessionPolicy;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub fn app_config(args: &ServeArgs) -> AppConfig {
    AppConfig {
        session: SessionPolicy {
            idle_ms: args.idle_timeout_minutes * 60 * 1000,
            absolute_ms: args.absolute_timeout_hours * 3600 * 1000,
        },
        secure_cookies: args.secure_cookies,
        trusted_proxies: args.trusted_proxies.clone(),
        rate_limits: RateLimits {
            signin: Limit {
                burst: args.signin_burst,
                period: Duration::from_secs(u64::from(args.signin_interval)),
            },
            api: Limit {
                burst: args.api_burst,
                period: Duration::from_nanos(1_000_000_000 / u64::from(args.api_rate.max(1))),
            },
        },
        ..AppConfig::default()
    }
}

/// Binds `args.listen`, prints the URL and serves `store` until a shutdown signal.
pub async fn run(store: Store, args: &ServeArgs) -> anyhow::Result<()> {
    // The attachment store (local directory or S3) and its size limit.
    let store = args.attachments.apply(store)?;
    // The scorecard's indicators: a bad file stops the server before it listens.
    let indicators = crate::report_scorecard::load_indicators(args.indicators.as_deref())?;
    // The access-anomaly rules: likewise checked before listening.
    let alert_rules = crate::alerts_cli::load_rules(args.alert_rules.as_deref())?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener
        .local_addr()
        .context("cannot read the listening address")?;
    println!("Dayaq listening on http://{addr}");
    tracing::info!(%addr, secure_cookies = args.secure_cookies, "listening");
    // Passkeys' relying party (issue 22 §2): the public URL's host, checked before listening.
    let passkeys = dayaq_http::passkeys::relying_party(args.public_url.as_ref())
        .map_err(anyhow::Error::msg)?;
    let cfg = AppConfig {
        indicators: Arc::new(indicators),
        passkeys: Some(Arc::new(passkeys)),
        ..app_config(args)
    };
    let witness = Witness::new(args.audit_witness.clone())?;
    // Checkpoints of the audit head: at start, periodically, and at shutdown.
    witness.checkpoint(&store).await;
    let ticker = {
        let (store, witness) = (store.clone(), witness.clone());
        let every = std::time::Duration::from_secs(args.audit_checkpoint_seconds);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                witness.checkpoint(&store).await;
            }
        })
    };
    // The access-anomaly rules over new audit rows: periodically (the first run at start).
    let alert_job = {
        let store = store.clone();
        let every = std::time::Duration::from_secs(args.alert_interval_seconds);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                crate::alerts_cli::evaluate(&store, &alert_rules).await;
            }
        })
    };
    // Retention schedules: the daily erasure job, on the application's clock (checked hourly).
    let retention = tokio::spawn(crate::retention_cli::daily(
        store.clone(),
        cfg.clock.clone(),
        std::time::Duration::from_secs(3600),
    ));
    // Webhooks (issue 22 §4): deliveries from the outbox, a round every 5 seconds.
    let webhooks = tokio::spawn(dayaq_http::webhook_worker::run(
        store.clone(),
        cfg.clock.clone(),
        std::time::Duration::from_secs(5),
    ));
    // Graceful: on a signal, stop accepting and let in-flight requests (and their audit
    // writes) finish before the store closes.
    let shutdown = async {
        let s = shutdown_signal().await;
        tracing::info!(signal = s, "shutting down");
    };
    let result = dayaq_http::serve_until(listener, store.clone(), cfg, shutdown)
        .await
        .context("the HTTP server failed");
    ticker.abort();
    alert_job.abort();
    retention.abort();
    webhooks.abort();
    witness.checkpoint(&store).await;
    store.close().await;
    tracing::info!("stopped");
    result
}

/// Where the audit head's checkpoints go: the log (seq and hash only), and an append-only
/// witness file when one is configured (`seq hash mac time` per line, fsync'd). The file is
/// meant to live where whoever can write the database cannot (another volume or host).
#[derive(Clone)]
pub struct Witness {
    path: Option<PathBuf>,
    last: Arc<Mutex<Option<i64>>>,
}

impl Witness {
    /// Checks at start that the witness file can be appended to.
    pub fn new(path: Option<PathBuf>) -> anyhow::Result<Witness> {
        if let Some(p) = &path {
            open_append(p)
                .with_context(|| format!("cannot open the audit witness file {}", p.display()))?;
        }
        Ok(Witness {
            path,
            last: Arc::new(Mutex::new(None)),
        })
    }

    /// Records the sealed head unless it was the last one recorded.
    pub async fn checkpoint(&self, store: &Store) {
        let c = match store.audit_checkpoint().await {
            Ok(Some(c)) => c,
            Ok(None) => {
                tracing::warn!(
                    "the audit head is unsealed or its seal does not verify: no checkpoint; \
                     run `dayaq audit verify`"
                );
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "audit checkpoint failed");
                return;
            }
        };
        let Ok(mut last) = self.last.lock() else {
            return;
        };
        if *last == Some(c.seq) {
            return;
        }
        tracing::info!(seq = c.seq, hash = %c.hash, "audit checkpoint");
        if let Some(p) = &self.path {
            let line = c.line(time::OffsetDateTime::now_utc());
            let written = open_append(p).and_then(|mut f| {
                f.write_all(format!("{line}\n").as_bytes())?;
                f.sync_all()
            });
            if let Err(e) = written {
                tracing::error!(error = %e, "cannot write the audit witness file");
                return;
            }
        }
        *last = Some(c.seq);
    }
}

fn open_append(p: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(p)
}

/// Resolves on Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => "interrupt",
                _ = term.recv() => "terminate",
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                "interrupt"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "interrupt"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    #[test]
    fn timeouts_map_into_the_session_policy() -> anyhow::Result<()> {
        let cli = Cli::try_parse_from([
            "dayaq",
            "serve",
            "--idle-timeout-minutes",
            "5",
            "--absolute-timeout-hours",
            "2",
        ])?;
        let Command::Serve(args) = cli.command else {
            anyhow::bail!("expected serve");
        };
        let cfg = app_config(&args);
        assert_eq!(cfg.session.idle_ms, 5 * 60 * 1000);
        assert_eq!(cfg.session.absolute_ms, 2 * 3600 * 1000);
        Ok(())
    }
}
