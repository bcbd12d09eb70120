//! The `dayaq` binary: `serve`, `demo` and the administration commands.
//!
//! Exit codes: 0 success, 1 failure (including a failed audit verification), 2 usage error.
//! Logs are JSON lines on standard error and never carry personal data; results for the
//! operator go to standard output.

mod alerts_cli;
mod attachments_cli;
mod bench;
mod cli;
mod commands;
mod demo;
mod release_cli;
mod report_gaps;
mod report_national;
mod report_scorecard;
mod retention_cli;
mod rules_cli;
mod secret_input;
mod server;
mod statistics_cli;

use clap::Parser;
use cli::{Cli, Command};
use dayaq_domain::ValidationErrors;
use dayaq_storage::StoreError;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(&cli.command);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            report(&e);
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let g = &cli.global;
    tracing::debug!(command = cli.command.name(), "command");
    match cli.command {
        Command::Serve(args) => {
            let store = commands::open(g).await?;
            server::run(store, &args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo(args) => demo::run(g, &args).await,
        Command::Org(c) => commands::org(g, c).await,
        Command::User(c) => commands::user(g, c).await,
        Command::Token(c) => commands::token(g, c).await,
        Command::Audit(c) => commands::audit(g, c).await,
        Command::Backup(a) => commands::backup(g, a).await,
        Command::Restore(a) => commands::restore(g, a).await,
        Command::Key(c) => commands::key(g, c).await,
        Command::Import(c) => commands::import(g, c).await,
        Command::Export(c) => commands::export(g, c).await,
        Command::Report(c) => commands::report(g, c).await,
        Command::Referral(c) => commands::referral(g, c).await,
        Command::Bench(c) => bench::command(&g.open_options(), c).await,
        Command::Statistics(c) => statistics_cli::run(g, c).await,
        Command::Release(c) => release_cli::run(g, c).await,
        Command::Alerts(c) => alerts_cli::run(g, c).await,
        Command::Rules(c) => rules_cli::run(g, c).await,
        Command::Retention(c) => retention_cli::run(g, c).await,
        Command::Attachments(c) => attachments_cli::run(g, c).await,
    }
}

/// JSON logs on stderr. `RUST_LOG` overrides the default level (info for the server, warnings
/// only for one-shot commands so that their output stays readable).
fn init_tracing(cmd: &Command) {
    let default = if cmd.is_server() {
        "info,sqlx=warn"
    } else {
        "warn"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_current_span(false)
        .try_init();
}

/// Prints an error for the operator. Validation errors list every field and message (the
/// messages never repeat submitted values).
fn report(e: &anyhow::Error) {
    if let Some(v) = validation_errors(e) {
        eprintln!("error: invalid input");
        for f in &v.errors {
            eprintln!("  {}: {}", f.field, f.message);
        }
        return;
    }
    eprintln!("error: {e:#}");
}

fn validation_errors(e: &anyhow::Error) -> Option<&ValidationErrors> {
    e.chain().find_map(|c| {
        c.downcast_ref::<ValidationErrors>()
            .or_else(|| match c.downcast_ref::<StoreError>() {
                Some(StoreError::Invalid(v)) => Some(v),
                _ => None,
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dayaq_domain::FieldError;

    #[test]
    fn validation_errors_are_found_through_context() {
        let v = ValidationErrors::single(FieldError::new("slug", "invalid_slug", "bad slug"));
        let e = anyhow::Error::from(StoreError::Invalid(v)).context("adding an organisation");
        assert_eq!(validation_errors(&e).map(|v| v.errors.len()), Some(1));
        let plain = anyhow::anyhow!("other");
        assert!(validation_errors(&plain).is_none());
    }
}
