//! `import`, `export` and `report`: HTCDS and questionnaire files, written privately and renamed when complete.

use super::*;

pub(super) fn htcds_format(path: &std::path::Path) -> anyhow::Result<Format> {
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
    let ctx = cli_ctx(&actor);
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
    let partial = partial_path(&out)?;
    let store = open(g).await?;
    let user = acting_user(&store, &as_user).await?;
    let actor = user.actor();
    let ctx = cli_ctx(&actor);
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
pub(super) async fn import_questionnaire(
    g: &GlobalOpts,
    file: std::path::PathBuf,
    as_user: String,
) -> anyhow::Result<ExitCode> {
    let format = htcds_format(&file)?;
    let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
    let store = open(g).await?;
    let user = acting_user(&store, &as_user).await?;
    let actor = user.actor();
    let ctx = cli_ctx(&actor);
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
pub(super) async fn export_questionnaire(
    g: &GlobalOpts,
    as_user: String,
    round: Option<String>,
    format: &str,
    out: std::path::PathBuf,
) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let partial = partial_path(&out)?;
    let store = open(g).await?;
    let user = acting_user(&store, &as_user).await?;
    let actor = user.actor();
    let ctx = cli_ctx(&actor);
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
    let ctx = cli_ctx(&actor);
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
