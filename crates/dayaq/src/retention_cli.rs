//! `dayaq retention show|set|preview|run` (issue #17 part 3), and the daily run inside
//! `serve`. Output is counts, kinds, days and ids only — never personal data.

use crate::cli::GlobalOpts;
use clap::Subcommand;
use dayaq_storage::Store;
use dayaq_storage::kernel::Acting;
use dayaq_storage::retention::{RetentionPreview, RetentionRules};
use std::process::ExitCode;
use time::OffsetDateTime;

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// The retention rules of an organisation (its own or the defaults).
    Show {
        /// The organisation's slug.
        #[arg(long)]
        org: String,
    },
    /// Sets one rule of an organisation (at least the kind's legal minimum; audited).
    Set {
        #[arg(long)]
        org: String,
        /// case_identity, case_notes, contacts_without_case, sessions, audit_rows.
        #[arg(long)]
        kind: String,
        #[arg(long, allow_negative_numbers = true)]
        months: i64,
    },
    /// What the daily job erases from today to DAYS ahead, by kind and day (and by id with
    /// --ids).
    Preview {
        #[arg(long)]
        org: String,
        #[arg(long, default_value_t = 90, allow_negative_numbers = true)]
        days: i64,
        /// Also list each record (kind, id, due day).
        #[arg(long)]
        ids: bool,
    },
    /// Runs the daily job now (idempotent; audited with counts).
    Run,
}

impl RetentionCommand {
    pub fn name(&self) -> &'static str {
        match self {
            RetentionCommand::Show { .. } => "retention.show",
            RetentionCommand::Set { .. } => "retention.set",
            RetentionCommand::Preview { .. } => "retention.preview",
            RetentionCommand::Run => "retention.run",
        }
    }
}

fn print_rules(r: &RetentionRules) {
    println!("kind\tmonths\tlegal_minimum\tdefault\tsource\texecuted_by_job");
    for x in &r.rules {
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}",
            x.kind.as_str(),
            x.months,
            x.legal_minimum_months,
            x.default_months,
            if x.is_default {
                "default"
            } else {
                "organisation"
            },
            if x.executed_by_job {
                "yes"
            } else {
                "no (needs audit archival)"
            }
        );
    }
}

fn print_preview(p: &RetentionPreview, ids: bool) {
    println!(
        "{} records will be erased from {} to {}",
        p.total, p.today, p.until
    );
    for g in &p.groups {
        println!("{}\t{}\t{}", g.erased_on, g.kind.as_str(), g.count);
    }
    if ids {
        for r in &p.records {
            println!("{}\t{}\t{}", r.due_on, r.kind.as_str(), r.id);
        }
    }
}

pub async fn run(g: &GlobalOpts, cmd: RetentionCommand) -> anyhow::Result<ExitCode> {
    let store = crate::commands::open(g).await?;
    let now = OffsetDateTime::now_utc();
    match cmd {
        RetentionCommand::Show { org } => {
            print_rules(&store.retention_rules_by_slug(&org).await?);
        }
        RetentionCommand::Set { org, kind, months } => {
            let r = store
                .set_retention_rule_by_slug(&org, &kind, months, now)
                .await?;
            print_rules(&r);
        }
        RetentionCommand::Preview { org, days, ids } => {
            let p = store.retention_preview_by_slug(&org, now, days).await?;
            print_preview(&p, ids);
        }
        RetentionCommand::Run => {
            let r = store.retention_run(now, &Acting::cli()).await?;
            println!(
                "retention run {}: {} cases shredded, {} case notes cleared, {} contacts without a case and {} sessions deleted, {} left for the next run ({} organisations)",
                r.day,
                r.case_identity,
                r.case_notes,
                r.contacts_without_case,
                r.sessions,
                r.skipped,
                r.organisations
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The daily run inside `serve`: checks every `every` and runs once per UTC day of `clock`
/// (also soon after the start, so that a server restarted daily still runs). A failed run is
/// logged (no ids) and tried again at the next check.
pub async fn daily(store: Store, clock: dayaq_http::Clock, every: std::time::Duration) {
    let acting = Acting {
        user: "system:retention".into(),
        org: String::new(),
        source: dayaq_storage::retention::JOB_SOURCE.into(),
    };
    let mut last: Option<time::Date> = None;
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let now = clock();
        if last == Some(now.date()) {
            continue;
        }
        match store.retention_run(now, &acting).await {
            Ok(r) => {
                tracing::info!(
                    cases = r.case_identity,
                    notes = r.case_notes,
                    contacts = r.contacts_without_case,
                    sessions = r.sessions,
                    skipped = r.skipped,
                    "retention run"
                );
                last = Some(now.date());
            }
            Err(e) => tracing::warn!(error = %e, "retention run failed; retried at the next check"),
        }
    }
}
