//! One-shot administration commands. Each opens the store, does one thing, prints the result.
//!
//! One file per group of commands (`accounts`, `admin`, `files`, `referral`), re-exported
//! here; the helpers they share (`open`, `acting_user`, `already_exists`) stay in this file.

use crate::cli::{AuditCommand, BackupArgs, GlobalOpts, KeyCommand, OrgCommand, RestoreArgs};
use crate::cli::{ExportCommand, ImportCommand, ReferralCommand, TokenCommand, UserCommand};
use crate::secret_input::{read_secret_line, require_nonempty};
use anyhow::{Context, bail};
use dayaq_storage::accounts::{Acting, Enrolment};
use dayaq_storage::backup::{BackupKey, RestoreKey};
use dayaq_storage::cases::Ctx;
use dayaq_storage::htcds::{CsvSink, Format, ImportFailure, XlsxSink};
use dayaq_storage::users::User;
use dayaq_storage::{Store, StoreError};
use std::process::ExitCode;
use time::OffsetDateTime;

/// Environment variable holding a backup passphrase (never a command-line flag: argv is
/// visible to other users of the machine).
pub const PASSPHRASE_ENV: &str = "DAYAQ_BACKUP_PASSPHRASE";

pub async fn open(g: &GlobalOpts) -> anyhow::Result<Store> {
    let store = Store::open(&g.open_options())
        .await
        .context("cannot open the Dayaq database")?;
    tracing::info!(engine = store.engine().name(), "store opened");
    Ok(store)
}

/// The context of a command acting as `actor`, now.
fn cli_ctx(actor: &dayaq_domain::Actor) -> Ctx<'_> {
    Ctx {
        actor,
        source: "cli",
        now: OffsetDateTime::now_utc(),
    }
}

/// The temporary file an export writes beside `out` (renamed to `out` when complete); `out`
/// must name a new file.
fn partial_path(out: &std::path::Path) -> anyhow::Result<std::path::PathBuf> {
    if out.exists() {
        bail!("{} exists already: choose a new file name", out.display());
    }
    let name = out
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| anyhow::anyhow!("--out must name a file"))?;
    Ok(out.with_file_name(format!(".{name}.partial")))
}

/// Turns a storage `AlreadyExists` into a plain message.
fn already_exists(e: StoreError, msg: &'static str) -> anyhow::Error {
    match e {
        StoreError::AlreadyExists(_) => anyhow::anyhow!(msg),
        e => e.into(),
    }
}

/// The user a command acts as (`--as`): must exist and be enabled.
pub(crate) async fn acting_user(store: &Store, username: &str) -> anyhow::Result<User> {
    let user = match store.user_by_name(username).await {
        Ok(u) => u,
        Err(StoreError::NotFound) => bail!("no user with this username"),
        Err(e) => return Err(e.into()),
    };
    if user.disabled {
        bail!("the user is disabled");
    }
    Ok(user)
}

mod accounts;
mod admin;
mod audit_viewer;
mod files;
mod referral;

pub use accounts::*;
pub use admin::*;
pub use files::*;
pub use referral::*;
