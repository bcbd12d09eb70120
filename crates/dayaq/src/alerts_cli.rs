//! `dayaq alerts`: access-anomaly alerts (issue #18 part 2). `evaluate` runs the rules over
//! the audit rows written since the last evaluation (what `serve` does periodically);
//! `list` prints alerts (ids and codes only); `ack` acknowledges one with a note, audited as
//! `cli:<os user>`.

use crate::cli::GlobalOpts;
use anyhow::Context;
use clap::Subcommand;
use dayaq_domain::oversight::{AlertState, Rule, RulesConfig};
use dayaq_storage::Store;
use dayaq_storage::alerts::AlertFilter;
use dayaq_storage::kernel::Acting;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Evaluate the anomaly rules over the audit rows written since the last evaluation.
    Evaluate {
        /// The rules file (TOML; default: the built-in config/alert_rules.toml).
        #[arg(long, value_name = "FILE")]
        rules: Option<PathBuf>,
        /// Only check the rules file and exit.
        #[arg(long)]
        check_config: bool,
    },
    /// List alerts, newest first (at most 200), one per line: id, raised at, rule,
    /// severity, state, organisation, subject, audit rows.
    List {
        /// open (default), acknowledged or all.
        #[arg(long, default_value = "open")]
        state: String,
        /// One rule's code.
        #[arg(long)]
        rule: Option<String>,
    },
    /// Acknowledge an alert with a note (one line, at most 200 characters, no case content).
    Ack {
        /// The alert's id.
        id: uuid::Uuid,
        #[arg(long)]
        note: String,
    },
}

impl AlertsCommand {
    pub fn name(&self) -> &'static str {
        match self {
            AlertsCommand::Evaluate { .. } => "alerts.evaluate",
            AlertsCommand::List { .. } => "alerts.list",
            AlertsCommand::Ack { .. } => "alerts.ack",
        }
    }
}

/// The rules file, or the built-in one; a bad file is an error naming the key.
pub fn load_rules(path: Option<&Path>) -> anyhow::Result<RulesConfig> {
    match path {
        None => RulesConfig::builtin().context("the built-in alert rules file is invalid"),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the alert rules file {}", p.display()))?;
            RulesConfig::parse(&text)
                .with_context(|| format!("invalid alert rules file {}", p.display()))
        }
    }
}

/// One evaluation, logged with counts only.
pub async fn evaluate(store: &Store, rules: &RulesConfig) {
    match store
        .evaluate_alerts(rules, time::OffsetDateTime::now_utc())
        .await
    {
        Ok(r) if r.raised > 0 => {
            tracing::warn!(
                raised = r.raised,
                rows = r.rows,
                "access-anomaly alerts raised"
            )
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "alert evaluation failed"),
    }
}

pub async fn run(g: &GlobalOpts, cmd: AlertsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AlertsCommand::Evaluate {
            rules,
            check_config,
        } => {
            let cfg = load_rules(rules.as_deref())?;
            if check_config {
                println!("the alert rules file is valid");
                return Ok(ExitCode::SUCCESS);
            }
            let store = crate::commands::open(g).await?;
            let r = store
                .evaluate_alerts(&cfg, time::OffsetDateTime::now_utc())
                .await?;
            println!(
                "evaluated {} audit rows: {} new alerts (last row {}, search rule up to row {})",
                r.rows, r.raised, r.last_seq, r.deferred_seq
            );
            Ok(ExitCode::SUCCESS)
        }
        AlertsCommand::List { state, rule } => {
            let state = match state.as_str() {
                "all" => None,
                s => Some(AlertState::parse(s).context("--state: open, acknowledged or all")?),
            };
            let rule = match rule.as_deref() {
                None | Some("all") => None,
                Some(r) => Some(Rule::parse(r).context("--rule: an alert rule code")?),
            };
            let store = crate::commands::open(g).await?;
            for a in store.alerts_cli(AlertFilter { state, rule }).await? {
                let subject = if a.subject_user.is_empty() {
                    &a.subject_source
                } else {
                    &a.subject_user
                };
                let rows: Vec<String> = a.seqs.iter().map(i64::to_string).collect();
                println!(
                    "{} {} {} {} {} org={} subject={} rows={}",
                    a.id,
                    a.raised_at
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default(),
                    a.rule,
                    a.severity,
                    a.state,
                    if a.org_id.is_empty() { "-" } else { &a.org_id },
                    if subject.is_empty() { "-" } else { subject },
                    rows.join(",")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        AlertsCommand::Ack { id, note } => {
            let store = crate::commands::open(g).await?;
            let a = store
                .acknowledge_alert_cli(&Acting::cli(), id, &note, time::OffsetDateTime::now_utc())
                .await
                .map_err(|e| match e {
                    dayaq_storage::StoreError::Invalid(v) => anyhow::anyhow!(
                        "--note: {}",
                        v.errors
                            .first()
                            .map(|e| e.message.clone())
                            .unwrap_or_default()
                    ),
                    dayaq_storage::StoreError::NotFound => anyhow::anyhow!("no such alert"),
                    dayaq_storage::StoreError::Conflict => {
                        anyhow::anyhow!("the alert is already acknowledged")
                    }
                    e => e.into(),
                })?;
            println!("alert {} acknowledged", a.id);
            Ok(ExitCode::SUCCESS)
        }
    }
}
