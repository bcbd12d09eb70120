//! One-shot administration commands. Each opens the store, does one thing, prints the result.

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

pub async fn org(g: &GlobalOpts, cmd: OrgCommand) -> anyhow::Result<ExitCode> {
    let store = open(g).await?;
    match cmd {
        OrgCommand::Add {
            slug,
            name,
            org_type,
            region,
        } => {
            let now = OffsetDateTime::now_utc();
            let o = store
                .add_org(&slug, &name, &org_type, &region, now)
                .await
                .map_err(|e| already_exists(e, "an organisation with this slug already exists"))?;
            println!(
                "organisation added: {} ({}, {})",
                o.slug, o.org_type, o.region
            );
        }
        OrgCommand::SetRecipient {
            slug,
            age_recipient,
        } => {
            store
                .set_org_age_recipient(&slug, &age_recipient, OffsetDateTime::now_utc())
                .await?;
            println!("age recipient recorded for {slug}: referral packages can be sent to it");
        }
        OrgCommand::TrustPackageKey { sender, key } => {
            match store
                .trust_package_key(&sender, &key, OffsetDateTime::now_utc())
                .await
            {
                Ok(t) => println!(
                    "packages signed with this key are now accepted, shown as sent by {} \
                     (sender organisation {})",
                    t.name, t.sender_org_id
                ),
                Err(StoreError::Invalid(v)) => {
                    store.close().await;
                    for e in &v.errors {
                        eprintln!("{}: {}", e.field, e.message);
                    }
                    eprintln!("error: nothing was changed");
                    return Ok(ExitCode::FAILURE);
                }
                Err(e) => return Err(e.into()),
            }
        }
        OrgCommand::SetFollowupSchedule { slug, months } => {
            match store
                .set_followup_org_schedule_by_slug(&slug, &months, OffsetDateTime::now_utc())
                .await
            {
                Ok(s) => println!(
                    "default follow-up schedule of {slug}: months {}",
                    s.months
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Err(StoreError::Invalid(v)) => {
                    store.close().await;
                    for e in &v.errors {
                        eprintln!("{}: {}", e.field, e.message);
                    }
                    eprintln!("error: nothing was changed");
                    return Ok(ExitCode::FAILURE);
                }
                Err(e) => return Err(e.into()),
            }
        }
        OrgCommand::List => {
            let orgs = store.list_orgs().await?;
            let w = orgs.iter().map(|o| o.slug.len()).max().unwrap_or(0).max(4);
            let tw = orgs
                .iter()
                .map(|o| o.org_type.as_str().len())
                .max()
                .unwrap_or(0)
                .max(4);
            let rw = orgs
                .iter()
                .map(|o| o.region.chars().count())
                .max()
                .unwrap_or(0)
                .max(6);
            println!("{:w$}  {:tw$}  {:rw$}  NAME", "SLUG", "TYPE", "REGION");
            for o in &orgs {
                println!(
                    "{:w$}  {:tw$}  {:rw$}  {}",
                    o.slug,
                    o.org_type.as_str(),
                    o.region,
                    o.name
                );
            }
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// The user named `username`, or a clear error.
async fn named_user(store: &Store, username: &str) -> anyhow::Result<User> {
    match store.user_by_name(username).await {
        Ok(u) => Ok(u),
        Err(StoreError::NotFound) => bail!("no user with this username"),
        Err(e) => Err(e.into()),
    }
}

fn print_enrolment(base_url: Option<&str>, e: &Enrolment) {
    let path = format!("/enrol/{}", e.token);
    let expires = dayaq_storage::from_millis(e.expires_at)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    println!("enrolment link (shown once; works once; expires {expires}):");
    match base_url {
        Some(b) => println!("{}{path}", b.trim_end_matches('/')),
        None => println!("{path}   (append to the server's address)"),
    }
}

pub async fn user(g: &GlobalOpts, cmd: UserCommand) -> anyhow::Result<ExitCode> {
    let store = open(g).await?;
    let now = OffsetDateTime::now_utc();
    let by = Acting::cli();
    match cmd {
        UserCommand::Add {
            org,
            role,
            username,
            base_url,
        } => {
            let (u, e) = match store
                .create_user_with_enrolment(&by, &org, &role, &username, now)
                .await
            {
                Ok(r) => r,
                Err(StoreError::Invalid(v)) => {
                    store.close().await;
                    for e in &v.errors {
                        eprintln!("{}: {}", e.field, e.message);
                    }
                    eprintln!("error: nothing was changed");
                    return Ok(ExitCode::FAILURE);
                }
                Err(e) => {
                    return Err(already_exists(
                        e,
                        "a user with this username already exists",
                    ));
                }
            };
            println!(
                "user added: {} ({} at {}); no password is set until the user enrols",
                u.username,
                u.role.as_str(),
                org
            );
            print_enrolment(base_url.as_deref(), &e);
            if u.role.requires_totp() {
                println!(
                    "the role {} requires a second factor: the user enrols TOTP right after choosing a password",
                    u.role.as_str()
                );
            }
        }
        UserCommand::Disable { username } => {
            let u = named_user(&store, &username).await?;
            store.admin_set_disabled(&by, u.id, true, now).await?;
            println!(
                "user {} disabled; every session and API token ended",
                u.username
            );
        }
        UserCommand::Enable { username } => {
            let u = named_user(&store, &username).await?;
            store.admin_set_disabled(&by, u.id, false, now).await?;
            println!("user {} enabled", u.username);
        }
        UserCommand::ResetTotp { username } => {
            let u = named_user(&store, &username).await?;
            store.admin_reset_totp(&by, u.id, now).await?;
            println!(
                "second factor of {} reset; sessions ended; a new one is enrolled at the next sign-in",
                u.username
            );
        }
        UserCommand::ResetPassword { username, base_url } => {
            let u = named_user(&store, &username).await?;
            let e = store.reset_password_with_enrolment(&by, u.id, now).await?;
            println!(
                "password of {} reset; sessions and API tokens ended",
                u.username
            );
            print_enrolment(base_url.as_deref(), &e);
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

pub async fn token(g: &GlobalOpts, cmd: TokenCommand) -> anyhow::Result<ExitCode> {
    let store = open(g).await?;
    let now = OffsetDateTime::now_utc();
    match cmd {
        TokenCommand::Create {
            username,
            label,
            days,
        } => {
            let user = named_user(&store, &username).await?;
            if user.disabled {
                bail!("the user is disabled");
            }
            let secret = store.create_token(&user, &label, days, now).await?;
            store.close().await;
            println!(
                "token for {} (expires in {days} days; shown once):",
                user.username
            );
            println!("{secret}");
            return Ok(ExitCode::SUCCESS);
        }
        TokenCommand::List { username } => {
            let user = named_user(&store, &username).await?;
            let now_ms = dayaq_storage::millis(now);
            let fmt = |ms: i64| {
                dayaq_storage::from_millis(ms)
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default()
            };
            println!(
                "{:36}  {:24}  {:24}  {:24}  {:7}  LABEL",
                "ID", "CREATED", "EXPIRES", "LAST USED", "STATE"
            );
            for t in store.user_tokens(user.id).await? {
                let state = if t.revoked_at.is_some() {
                    "revoked"
                } else if t.expires_at <= now_ms {
                    "expired"
                } else {
                    "live"
                };
                println!(
                    "{}  {:24}  {:24}  {:24}  {:7}  {}",
                    t.id,
                    fmt(t.created_at),
                    fmt(t.expires_at),
                    t.last_used_at.map(fmt).unwrap_or_else(|| "never".into()),
                    state,
                    t.label
                );
            }
        }
        TokenCommand::Revoke { username, id, all } => {
            let user = named_user(&store, &username).await?;
            let target = if all { None } else { id };
            let n = store
                .revoke_user_tokens(&Acting::cli(), user.id, target, now)
                .await?;
            store.close().await;
            if n == 0 {
                eprintln!("no live token matched: nothing was revoked");
                return Ok(ExitCode::FAILURE);
            }
            println!("{n} token(s) of {} revoked", user.username);
            return Ok(ExitCode::SUCCESS);
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

pub async fn audit(g: &GlobalOpts, cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    let (seal, witness) = match cmd {
        AuditCommand::Seal { witness } => (true, witness),
        AuditCommand::Verify { witness } => (false, witness),
    };
    let checkpoints = match &witness {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the witness file {}", path.display()))?;
            dayaq_storage::audit::parse_witness(&text)?
        }
        None => Vec::new(),
    };
    let store = open(g).await?;
    if seal {
        let c = store.audit_seal(&checkpoints).await;
        store.close().await;
        let c = c?;
        println!("audit head sealed at row {} ({})", c.seq, c.hash);
        return Ok(ExitCode::SUCCESS);
    }
    let report = store.audit_verify_with(&checkpoints).await?;
    store.close().await;
    if report.problems.is_empty() {
        match checkpoints.last() {
            Some(c) => println!(
                "audit log OK: {} rows; sealed head; {} witness checkpoint(s) up to row {} match",
                report.rows,
                checkpoints.len(),
                c.seq
            ),
            None => println!("audit log OK: {} rows; sealed head", report.rows),
        }
        return Ok(ExitCode::SUCCESS);
    }
    for p in &report.problems {
        println!("{p}");
    }
    eprintln!(
        "audit log FAILED verification: {} problem(s) in {} rows",
        report.problems.len(),
        report.rows
    );
    tracing::warn!(
        problems = report.problems.len(),
        rows = report.rows,
        "audit chain verification failed"
    );
    Ok(ExitCode::FAILURE)
}

fn backup_key(args: &BackupArgs) -> anyhow::Result<BackupKey> {
    if let Some(r) = &args.recipient {
        return Ok(BackupKey::Recipient(r.trim().to_string()));
    }
    if args.passphrase_stdin {
        let p = read_secret_line("Backup passphrase: ")?;
        return Ok(BackupKey::Passphrase(require_nonempty(p, "passphrase")?));
    }
    if let Some(p) = env_passphrase()? {
        return Ok(BackupKey::Passphrase(p));
    }
    bail!(
        "refusing to write an unencrypted backup: give --passphrase-stdin, set {PASSPHRASE_ENV}, \
         or give --recipient age1..."
    )
}

fn restore_key(args: &RestoreArgs) -> anyhow::Result<RestoreKey> {
    if let Some(path) = &args.identity_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the identity file {}", path.display()))?;
        return Ok(RestoreKey::Identity(text));
    }
    if args.passphrase_stdin {
        let p = read_secret_line("Backup passphrase: ")?;
        return Ok(RestoreKey::Passphrase(require_nonempty(p, "passphrase")?));
    }
    if let Some(p) = env_passphrase()? {
        return Ok(RestoreKey::Passphrase(p));
    }
    bail!(
        "the backup cannot be decrypted without a key: give --passphrase-stdin, set {PASSPHRASE_ENV}, or give --identity-file PATH"
    )
}

fn env_passphrase() -> anyhow::Result<Option<String>> {
    match std::env::var(PASSPHRASE_ENV) {
        Ok(p) => Ok(Some(require_nonempty(p, PASSPHRASE_ENV)?)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => bail!("{PASSPHRASE_ENV} is not valid UTF-8"),
    }
}

pub async fn backup(g: &GlobalOpts, args: BackupArgs) -> anyhow::Result<ExitCode> {
    let key = backup_key(&args)?;
    let store = open(g).await?;
    let n = store
        .backup(&args.file, key)
        .await
        .with_context(|| format!("backup to {} failed", args.file.display()))?;
    let mut e = dayaq_storage::audit::AuditEntry::new("backup.create", "success");
    e.source = "cli".into();
    e.detail = format!("rows={n}");
    store.audit(e, time::OffsetDateTime::now_utc()).await?;
    store.close().await;
    tracing::info!(rows = n, "backup written");
    println!("backup written: {} rows to {}", n, args.file.display());
    println!(
        "reminder: the master key file ({}) is not in the backup; back it up separately and keep it apart from the backups",
        g.open_options().master_key_path().display()
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn restore(g: &GlobalOpts, args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let opts = g.open_options();
    let key_path = opts.master_key_path();
    if !key_path.exists() {
        bail!(
            "the master key file {} is missing: copy the source installation's master key there \
             (or point to it with --master-key-file) before restoring, or the restored data \
             cannot be decrypted",
            key_path.display()
        );
    }
    if !args.file.exists() {
        bail!("the backup file {} does not exist", args.file.display());
    }
    let key = restore_key(&args)?;
    let store = open(g).await?;
    let n = store
        .restore(&args.file, key)
        .await
        .with_context(|| format!("restore from {} failed", args.file.display()))?;
    let mut e = dayaq_storage::audit::AuditEntry::new("backup.restore", "success");
    e.source = "cli".into();
    e.detail = format!("rows={n}");
    store.audit(e, time::OffsetDateTime::now_utc()).await?;
    store.close().await;
    tracing::info!(rows = n, "backup restored");
    println!("restored {n} rows from {}", args.file.display());
    // Reopening unwraps the restored keyring: this proves the key file matches the backup.
    match Store::open(&opts).await {
        Ok(s) => {
            s.close().await;
            println!("the master key file matches the restored data");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => bail!(
            "the data was restored but cannot be opened with the master key file {}: {e}. \
             Place the source installation's master key file there.",
            key_path.display()
        ),
    }
}

pub async fn key(g: &GlobalOpts, cmd: KeyCommand) -> anyhow::Result<ExitCode> {
    if let KeyCommand::PackageSigningPublic { org } = &cmd {
        let store = open(g).await?;
        let key = store
            .package_signing_public(org, OffsetDateTime::now_utc())
            .await;
        store.close().await;
        println!("{}", key?);
        return Ok(ExitCode::SUCCESS);
    }
    let KeyCommand::Rotate = cmd else {
        return crate::commands::age_identity(g, cmd).await;
    };
    let store = open(g).await?;
    let n = store
        .rotate_master_key()
        .await
        .context("master key rotation failed")?;
    store.close().await;
    tracing::info!(rewrapped = n, "master key rotated");
    let path = g.open_options().master_key_path();
    println!(
        "master key rotated: {n} keys re-wrapped; new key in {}",
        path.display()
    );
    for f in retired_key_files(&path) {
        println!("retired key kept: {}", f.display());
    }
    println!(
        "back up the new master key file now. Keep the retired key file(s) while backups taken \
         before this rotation are kept; delete them when those backups expire."
    );
    Ok(ExitCode::SUCCESS)
}

/// Retired key files next to the key file (`<stem>.key.retired-<id>`).
fn retired_key_files(key_path: &std::path::Path) -> Vec<std::path::PathBuf> {
    let prefix = key_path.with_extension("key.retired-");
    let (Some(dir), Some(prefix)) = (
        key_path.parent(),
        prefix.file_name().and_then(|p| p.to_str()),
    ) else {
        return Vec::new();
    };
    let dir = if dir.as_os_str().is_empty() {
        std::path::Path::new(".")
    } else {
        dir
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<_> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(prefix))
        })
        .map(|e| e.path())
        .collect();
    out.sort();
    out
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

fn htcds_format(path: &std::path::Path) -> anyhow::Result<Format> {
    Format::from_path(path)
        .ok_or_else(|| anyhow::anyhow!("the file name must end in .csv or .xlsx"))
}

/// `dayaq import htcds FILE --as USERNAME`: all rows or none; exit 1 listing every problem.
pub async fn import(g: &GlobalOpts, cmd: ImportCommand) -> anyhow::Result<ExitCode> {
    let (file, as_user) = match cmd {
        ImportCommand::Htcds { file, as_user } => (file, as_user),
        ImportCommand::Questionnaire { file, as_user } => {
            return import_questionnaire(g, file, as_user).await;
        }
    };
    let format = htcds_format(&file)?;
    let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let store = open(g).await?;
    let user = acting_user(&store, &as_user).await?;
    let actor = user.actor();
    let ctx = Ctx {
        actor: &actor,
        source: "cli",
        now: OffsetDateTime::now_utc(),
    };
    let started = std::time::Instant::now();
    let outcome = store.import_file(&ctx, bytes, format).await;
    store.close().await;
    match outcome {
        Ok(report) => {
            for c in &report.ignored_columns {
                println!("note: {}", c.message);
            }
            println!(
                "imported {} case(s) in {:.1} s",
                report.imported,
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(ImportFailure::Invalid(e)) => {
            for problem in &e.errors {
                eprintln!("{problem}");
            }
            eprintln!("error: {e}");
            Ok(ExitCode::FAILURE)
        }
        Err(ImportFailure::Store(e)) => Err(e.into()),
    }
}

/// Creates `path` for writing, readable by its owner only; fails if it exists.
pub(crate) fn create_private(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

/// `dayaq export htcds --as USERNAME --out FILE`: written to a temporary file beside FILE and
/// renamed when complete, so a failed export leaves no partial file.
pub async fn export(g: &GlobalOpts, cmd: ExportCommand) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let (as_user, out) = match cmd {
        ExportCommand::Htcds { as_user, out } => (as_user, out),
        ExportCommand::Questionnaire {
            as_user,
            round,
            format,
            out,
        } => return export_questionnaire(g, as_user, round, &format, out).await,
    };
    let format = htcds_format(&out)?;
    if out.exists() {
        bail!("{} exists already: choose a new file name", out.display());
    }
    let name = out
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| anyhow::anyhow!("--out must name a file"))?;
    let partial = out.with_file_name(format!(".{name}.partial"));
    let store = open(g).await?;
    let user = acting_user(&store, &as_user).await?;
    let actor = user.actor();
    let ctx = Ctx {
        actor: &actor,
        source: "cli",
        now: OffsetDateTime::now_utc(),
    };
    store.authorize_export(&ctx)?;
    let file =
        create_private(&partial).with_context(|| format!("cannot create {}", partial.display()))?;
    let written: anyhow::Result<usize> = async {
        match format {
            Format::Csv => {
                let mut sink = CsvSink::new(std::io::BufWriter::new(file))?;
                let n = store.export_cases(&ctx, &mut sink).await?;
                let w = sink.finish()?;
                w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
                Ok(n)
            }
            Format::Xlsx => {
                let mut sink = XlsxSink::new()?;
                let n = store.export_cases(&ctx, &mut sink).await?;
                let bytes = sink.finish()?;
                let mut file = file;
                file.write_all(&bytes)?;
                file.sync_all()?;
                Ok(n)
            }
        }
    }
    .await;
    store.close().await;
    match written {
        Ok(n) => {
            std::fs::rename(&partial, &out)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!("exported {n} case(s) to {}", out.display());
            println!(
                "the file holds personal data: keep it encrypted and delete it when it is no longer needed"
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e.context("the export failed; no file was written"))
        }
    }
}

/// `dayaq import questionnaire FILE --as USERNAME`: all rows or none; exit 1 listing every
/// problem.
async fn import_questionnaire(
    g: &GlobalOpts,
    file: std::path::PathBuf,
    as_user: String,
) -> anyhow::Result<ExitCode> {
    let format = htcds_format(&file)?;
    let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let store = open(g).await?;
    let user = acting_user(&store, &as_user).await?;
    let actor = user.actor();
    let ctx = Ctx {
        actor: &actor,
        source: "cli",
        now: OffsetDateTime::now_utc(),
    };
    let outcome = store
        .import_questionnaire(&ctx, &bytes, format == Format::Xlsx)
        .await;
    store.close().await;
    match outcome {
        Ok(n) => {
            println!("imported {n} questionnaire(s)");
            Ok(ExitCode::SUCCESS)
        }
        Err(dayaq_storage::StoreError::Invalid(v)) => {
            for e in &v.errors {
                eprintln!("{}: {}", e.field, e.message);
            }
            eprintln!("error: nothing was imported");
            Ok(ExitCode::FAILURE)
        }
        Err(e) => Err(e.into()),
    }
}

/// `dayaq export questionnaire --as USERNAME [--round NAME] --format csv|xlsx --out FILE`:
/// written to a private temporary file beside FILE and renamed when complete.
async fn export_questionnaire(
    g: &GlobalOpts,
    as_user: String,
    round: Option<String>,
    format: &str,
    out: std::path::PathBuf,
) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    if out.exists() {
        bail!("{} exists already: choose a new file name", out.display());
    }
    let name = out
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| anyhow::anyhow!("--out must name a file"))?;
    let partial = out.with_file_name(format!(".{name}.partial"));
    let store = open(g).await?;
    let user = acting_user(&store, &as_user).await?;
    let actor = user.actor();
    let ctx = Ctx {
        actor: &actor,
        source: "cli",
        now: OffsetDateTime::now_utc(),
    };
    let round = round.as_deref().map(str::trim).filter(|r| !r.is_empty());
    // The command line has no second factor to check: her words go to users whose role may
    // export identities (as `export htcds`), the column stays empty for the others.
    let free_text = store.may_export_identities(&ctx);
    let table = store.export_questionnaire(&ctx, round, free_text).await;
    store.close().await;
    let table = table?;
    let bytes = if format == "xlsx" {
        dayaq_storage::followup::questionnaire_xlsx(&table)?
    } else {
        dayaq_storage::followup::questionnaire_csv(&table)?
    };
    let written: anyhow::Result<()> = (|| {
        let mut file = create_private(&partial)
            .with_context(|| format!("cannot create {}", partial.display()))?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        std::fs::rename(&partial, &out)
            .with_context(|| format!("cannot write {}", out.display()))?;
        Ok(())
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(e.context("the export failed; no file was written"));
    }
    println!(
        "exported {} questionnaire(s) to {}",
        table.rows.len(),
        out.display()
    );
    println!(
        "the file holds personal data: keep it encrypted and delete it when it is no longer needed"
    );
    Ok(ExitCode::SUCCESS)
}

/// `dayaq report questionnaire --as USERNAME [--round NAME] --format json|csv`.
pub async fn report(g: &GlobalOpts, cmd: crate::cli::ReportCommand) -> anyhow::Result<ExitCode> {
    let crate::cli::ReportCommand::Questionnaire {
        as_user,
        round,
        format,
    } = cmd
    else {
        if matches!(cmd, crate::cli::ReportCommand::Gaps { .. }) {
            return crate::report_gaps::run(g, cmd).await;
        }
        if matches!(cmd, crate::cli::ReportCommand::Scorecard { .. }) {
            return crate::report_scorecard::run(g, cmd).await;
        }
        return crate::report_national::run(g, cmd).await;
    };
    let store = open(g).await?;
    let user = acting_user(&store, &as_user).await?;
    let actor = user.actor();
    let ctx = Ctx {
        actor: &actor,
        source: "cli",
        now: OffsetDateTime::now_utc(),
    };
    let summary = store.questionnaire_summary(&ctx, round.as_deref()).await;
    store.close().await;
    let summary = summary?;
    if format == "csv" {
        print!("{}", dayaq_storage::followup::summary_csv(&summary)?);
    } else {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// `dayaq key age-identity --out FILE`: writes a new age identity (0600, must not exist),
/// installs it in this instance and prints the public key.
async fn age_identity(g: &GlobalOpts, cmd: KeyCommand) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let KeyCommand::AgeIdentity { out } = cmd else {
        bail!("unexpected key command");
    };
    if out.exists() {
        bail!("{} exists already: choose a new file name", out.display());
    }
    let store = open(g).await?;
    let now = OffsetDateTime::now_utc();
    let (text, public) = dayaq_storage::packages::generate_age_identity(now);
    let mut file =
        create_private(&out).with_context(|| format!("cannot create {}", out.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    let installed = store.install_instance_identity(&text, now).await;
    store.close().await;
    if let Err(e) = installed {
        let _ = std::fs::remove_file(&out);
        return Err(
            anyhow::Error::from(e).context("the identity could not be installed; no file was kept")
        );
    }
    println!(
        "age identity written to {} (keep it secret; back it up apart from the data)",
        out.display()
    );
    println!("public key (give it to organisations that send referral packages):");
    println!("{public}");
    Ok(ExitCode::SUCCESS)
}

/// `dayaq referral export-package …` and `dayaq referral import-package …`.
pub async fn referral(g: &GlobalOpts, cmd: ReferralCommand) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    match cmd {
        ReferralCommand::ExportPackage {
            case_id,
            recipient_org,
            services,
            reason,
            consent_override_reason,
            as_user,
            out,
        } => {
            let case = uuid::Uuid::parse_str(case_id.trim())
                .map_err(|_| anyhow::anyhow!("--case must be a case id (UUID)"))?;
            if out.exists() {
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
            let input = dayaq_storage::packages::PackageInput {
                recipient_org,
                services,
                reason,
                consent_override_reason,
            };
            let exported = store.export_package(&ctx, case, &input).await;
            store.close().await;
            let p = exported?;
            let mut file =
                create_private(&out).with_context(|| format!("cannot create {}", out.display()))?;
            file.write_all(&p.ciphertext)?;
            file.sync_all()?;
            println!(
                "referral package written to {} (age-encrypted; referral {})",
                out.display(),
                p.referral_id
            );
            Ok(ExitCode::SUCCESS)
        }
        ReferralCommand::ImportPackage {
            file,
            identity,
            as_user,
        } => {
            let ids = dayaq_storage::packages::load_age_identity_file(&identity)
                .with_context(|| format!("cannot use the identity file {}", identity.display()))?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let store = open(g).await?;
            let user = acting_user(&store, &as_user).await?;
            let actor = user.actor();
            let ctx = Ctx {
                actor: &actor,
                source: "cli",
                now: OffsetDateTime::now_utc(),
            };
            let imported = store.import_package(&ctx, &bytes, &ids).await;
            store.close().await;
            match imported {
                Ok(p) => {
                    println!(
                        "imported referral package from {} (verified sender) as case {} ({}); sections: {}",
                        p.from_org,
                        p.case_number,
                        p.case_id,
                        p.sections.join(", ")
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(StoreError::Invalid(v)) => {
                    for e in &v.errors {
                        eprintln!("{}: {}", e.field, e.message);
                    }
                    eprintln!("error: nothing was imported");
                    Ok(ExitCode::FAILURE)
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}
