//! `audit`, `backup`, `restore` and `key`: the audit chain, backups and key files.

use super::*;

pub async fn audit(g: &GlobalOpts, cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    let (seal, witness) = match cmd {
        AuditCommand::Seal { witness } => (true, witness),
        AuditCommand::Verify {
            segment: Some(path),
            ..
        } => return super::audit_viewer::verify_segment(&path),
        AuditCommand::Verify { witness, .. } => (false, witness),
        other => return super::audit_viewer::run(g, other).await,
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

pub(super) fn backup_key(args: &BackupArgs) -> anyhow::Result<BackupKey> {
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

pub(super) fn restore_key(args: &RestoreArgs) -> anyhow::Result<RestoreKey> {
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

pub(super) fn env_passphrase() -> anyhow::Result<Option<String>> {
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
pub(super) fn retired_key_files(key_path: &std::path::Path) -> Vec<std::path::PathBuf> {
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
