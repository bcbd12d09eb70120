//! `dayaq release …`: research data releases (issue #16) through the same storage calls as the
//! API and the screen, authorised as the acting user (`--as`) and audited with source `cli`.
//! `set-key` (researcher's age key), `request` (researcher), `list` (own requests, or the
//! register for the national coordinator), `approve` (generates the file) / `generate` (the
//! same: approval and generation are one step) / `refuse` (national coordinator, never the
//! requester), `download` (the requester; writes the age-encrypted file, never plaintext).

use crate::cli::GlobalOpts;
use crate::commands::{acting_user, create_private, open};
use anyhow::bail;
use clap::Subcommand;
use dayaq_domain::policy::Action;
use dayaq_domain::role::Role;
use dayaq_storage::StoreError;
use dayaq_storage::cases::Ctx;
use dayaq_storage::releases::requests::ReleaseInput;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Subcommand)]
pub enum ReleaseCommand {
    /// Set the researcher's age public key (age1…), to which her releases are encrypted.
    SetKey {
        #[arg(long = "as")]
        as_user: String,
        #[arg(long)]
        age_recipient: String,
    },
    /// Ask for a release (researcher).
    Request {
        #[arg(long = "as")]
        as_user: String,
        #[arg(long)]
        purpose: String,
        /// `microdata` or `tables`.
        #[arg(long)]
        kind: String,
        /// First day, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// Last day, YYYY-MM-DD.
        #[arg(long)]
        to: String,
        /// Release-schema variables, comma-separated (docs/RELEASES.md).
        #[arg(long, value_delimiter = ',')]
        variables: Vec<String>,
        /// Microdata: k (default 11, at least 5).
        #[arg(long)]
        k: Option<i64>,
        /// Tables: ε (default 1.0).
        #[arg(long)]
        epsilon: Option<f64>,
        /// The data-use terms (docs/RELEASES.md) are accepted.
        #[arg(long)]
        accept_terms: bool,
    },
    /// List requests: a researcher's own, the register for the national coordinator.
    List {
        #[arg(long = "as")]
        as_user: String,
    },
    /// Approve a request and generate its file (national coordinator, never the requester).
    Approve {
        #[arg(long = "as")]
        as_user: String,
        id: Uuid,
        #[arg(long)]
        reason: String,
    },
    /// Same as `approve`: approval generates the file in one step.
    Generate {
        #[arg(long = "as")]
        as_user: String,
        id: Uuid,
        #[arg(long)]
        reason: String,
    },
    /// Refuse a request with a reason (national coordinator, never the requester).
    Refuse {
        #[arg(long = "as")]
        as_user: String,
        id: Uuid,
        #[arg(long)]
        reason: String,
    },
    /// Write the age-encrypted release file of a request (its requester only).
    Download {
        #[arg(long = "as")]
        as_user: String,
        id: Uuid,
        /// New file to write (not overwritten).
        #[arg(long)]
        out: PathBuf,
    },
}

impl ReleaseCommand {
    pub fn name(&self) -> &'static str {
        match self {
            Self::SetKey { .. } => "release.set-key",
            Self::Request { .. } => "release.request",
            Self::List { .. } => "release.list",
            Self::Approve { .. } => "release.approve",
            Self::Generate { .. } => "release.generate",
            Self::Refuse { .. } => "release.refuse",
            Self::Download { .. } => "release.download",
        }
    }
}

/// A refused input as lines `field: message` (the messages never carry personal data).
fn explain(e: StoreError) -> anyhow::Error {
    match e {
        StoreError::Invalid(v) => {
            let lines: Vec<String> = v
                .errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            anyhow::anyhow!("refused:\n{}", lines.join("\n"))
        }
        StoreError::Forbidden(r) => anyhow::anyhow!("refused by the access policy ({r})"),
        StoreError::NotFound => anyhow::anyhow!("no such release request"),
        StoreError::Conflict => anyhow::anyhow!("the request was decided already"),
        e => e.into(),
    }
}

pub async fn run(g: &GlobalOpts, cmd: ReleaseCommand) -> anyhow::Result<ExitCode> {
    let as_user = match &cmd {
        ReleaseCommand::SetKey { as_user, .. }
        | ReleaseCommand::Request { as_user, .. }
        | ReleaseCommand::List { as_user }
        | ReleaseCommand::Approve { as_user, .. }
        | ReleaseCommand::Generate { as_user, .. }
        | ReleaseCommand::Refuse { as_user, .. }
        | ReleaseCommand::Download { as_user, .. } => as_user.clone(),
    };
    if let ReleaseCommand::Download { out, .. } = &cmd
        && out.exists()
    {
        bail!("{} exists already: choose a new file name", out.display());
    }
    let store = open(g).await?;
    let user = acting_user(&store, &as_user).await?;
    let actor = user.actor();
    let ctx = Ctx {
        actor: &actor,
        source: "cli",
        now: OffsetDateTime::now_utc(),
    };
    let action = match &cmd {
        ReleaseCommand::SetKey { .. } | ReleaseCommand::Request { .. } => Action::RequestRelease,
        ReleaseCommand::List { .. } if actor.role == Role::NationalCoordinator => {
            Action::DecideRelease
        }
        ReleaseCommand::List { .. } => Action::RequestRelease,
        ReleaseCommand::Approve { .. }
        | ReleaseCommand::Generate { .. }
        | ReleaseCommand::Refuse { .. } => Action::DecideRelease,
        ReleaseCommand::Download { .. } => Action::DownloadRelease,
    };
    let access = store
        .authorize_release(&ctx, action)
        .await
        .map_err(explain)?;
    match cmd {
        ReleaseCommand::SetKey { age_recipient, .. } => {
            let r = store
                .set_release_recipient(&access, &age_recipient)
                .await
                .map_err(explain)?;
            println!("age key set: {r}");
        }
        ReleaseCommand::Request {
            purpose,
            kind,
            from,
            to,
            variables,
            k,
            epsilon,
            accept_terms,
            ..
        } => {
            let input = ReleaseInput {
                purpose,
                kind,
                period_from: from,
                period_to: to,
                variables,
                k,
                epsilon,
                terms_accepted: accept_terms,
            };
            let r = store
                .request_release(&access, &input)
                .await
                .map_err(explain)?;
            println!("{}\t{}", r.id, r.state.name());
        }
        ReleaseCommand::List { .. } => {
            println!("id\trequester\tkind\tperiod\tparameter\tstate\trecords\tsuppressed");
            for r in store
                .release_requests(&access, "cli")
                .await
                .map_err(explain)?
            {
                let parameter = match (r.k, r.epsilon) {
                    (Some(k), _) => format!("k={k}"),
                    (_, Some(e)) => format!("epsilon={e}"),
                    _ => String::new(),
                };
                let (records, suppressed) = r
                    .file
                    .as_ref()
                    .map(|f| (f.records.to_string(), f.suppressed.to_string()))
                    .unwrap_or_default();
                println!(
                    "{}\t{}\t{}\t{}..{}\t{}\t{}\t{}\t{}",
                    r.id,
                    r.requester_name,
                    r.kind.name(),
                    r.period_from,
                    r.period_to,
                    parameter,
                    r.state.name(),
                    records,
                    suppressed
                );
            }
        }
        ReleaseCommand::Approve { id, reason, .. }
        | ReleaseCommand::Generate { id, reason, .. } => {
            let r = store
                .approve_release(&access, id, &reason)
                .await
                .map_err(explain)?;
            let f = r.file.as_ref();
            println!(
                "{}\t{}\trecords={}\tsuppressed={}",
                r.id,
                r.state.name(),
                f.map_or(0, |f| f.records),
                f.map_or(0, |f| f.suppressed)
            );
        }
        ReleaseCommand::Refuse { id, reason, .. } => {
            let r = store
                .refuse_release(&access, id, &reason)
                .await
                .map_err(explain)?;
            println!("{}\t{}", r.id, r.state.name());
        }
        ReleaseCommand::Download { id, out, .. } => {
            let f = store.download_release(&access, id).await.map_err(explain)?;
            let mut file = create_private(&out)?;
            file.write_all(&f.ciphertext)?;
            file.sync_all()?;
            println!(
                "wrote {} ({} bytes, sha256 {}); decrypt with: age -d -i KEY {}",
                out.display(),
                f.ciphertext.len(),
                f.sha256,
                out.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
