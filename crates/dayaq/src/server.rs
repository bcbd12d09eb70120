//! `dayaq serve`: open the store, bind, serve until Ctrl-C (or SIGTERM).

use crate::cli::ServeArgs;
use anyhow::Context;
use dayaq_http::AppConfig;
use dayaq_http::ratelimit::{Limit, RateLimits};
use dayaq_storage::Store;
use dayaq_storage::sessions::SessionPolicy;
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
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener
        .local_addr()
        .context("cannot read the listening address")?;
    println!("Dayaq listening on http://{addr}");
    tracing::info!(%addr, secure_cookies = args.secure_cookies, "listening");
    let cfg = app_config(args);
    // Graceful: on a signal, stop accepting and let in-flight requests (and their audit
    // writes) finish before the store closes.
    let shutdown = async {
        let s = shutdown_signal().await;
        tracing::info!(signal = s, "shutting down");
    };
    let result = dayaq_http::serve_until(listener, store.clone(), cfg, shutdown)
        .await
        .context("the HTTP server failed");
    store.close().await;
    tracing::info!("stopped");
    result
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
