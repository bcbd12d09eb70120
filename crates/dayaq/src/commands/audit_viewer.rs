//! `audit export`, `audit tail`, `audit archive` and `audit verify --segment` (issue #18).

use super::*;
use crate::cli::{AuditExportArgs, AuditFilterArgs, AuditTailArgs};
use dayaq_domain::audit_view::{AuditFilter, FilterText, parse_filter, parse_instant};
use dayaq_storage::audit::AuditRow;
use dayaq_storage::audit_viewer::AuditScope;
use dayaq_storage::audit_viewer::archive::verify_segment as check_segment;
use std::io::Write;

/// Rows read per query by export and tail.
const BATCH: i64 = 5_000;

pub(super) async fn run(g: &GlobalOpts, cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AuditCommand::Export(a) => export(g, a).await,
        AuditCommand::Tail(a) => tail(g, a).await,
        AuditCommand::Archive { before, out } => archive(g, &before, &out).await,
        AuditCommand::Verify { .. } | AuditCommand::Seal { .. } => {
            bail!("handled by `audit verify` / `audit seal`")
        }
    }
}

fn filter(
    f: &AuditFilterArgs,
    since: Option<&str>,
    until: Option<&str>,
) -> anyhow::Result<AuditFilter> {
    let text = FilterText {
        case_id: f.case.as_deref(),
        user: f.user.as_deref(),
        org: f.org.as_deref(),
        kind: f.kind.as_deref(),
        since,
        until,
        ..Default::default()
    };
    parse_filter(&text).map_err(|e| {
        let fields: Vec<String> = e
            .errors
            .iter()
            .map(|e| format!("--{}: {}", e.field, e.message))
            .collect();
        anyhow::anyhow!("invalid filter: {}", fields.join("; "))
    })
}

/// One JSON line per row (the API's `AuditRowBody`).
fn write_rows(out: &mut dyn Write, rows: &[AuditRow]) -> anyhow::Result<()> {
    out.write_all(dayaq_http::api::audit_viewer::jsonl(rows).as_bytes())?;
    Ok(())
}

async fn export(g: &GlobalOpts, a: AuditExportArgs) -> anyhow::Result<ExitCode> {
    if a.format != "jsonl" {
        bail!("--format: only jsonl is supported");
    }
    let mut f = filter(&a.filter, Some(&a.since), a.until.as_deref())?;
    let store = open(g).await?;
    let mut sink: Box<dyn Write> = match &a.out {
        Some(path) => Box::new(std::io::BufWriter::new(
            files::create_private(path)
                .with_context(|| format!("cannot create {} (must not exist)", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    f.after = Some(0);
    f.limit = BATCH;
    let mut total = 0usize;
    loop {
        let rows = store.audit_rows(AuditScope::All, &f).await?;
        write_rows(&mut *sink, &rows)?;
        total += rows.len();
        match rows.last() {
            Some(r) if rows.len() as i64 == BATCH => f.after = Some(r.seq),
            _ => break,
        }
    }
    sink.flush()?;
    drop(sink);
    f.after = None;
    store
        .audit_record_cli_read(
            &Acting::cli(),
            "audit.export",
            &f,
            total,
            OffsetDateTime::now_utc(),
        )
        .await?;
    store.close().await;
    eprintln!("exported {total} audit rows");
    Ok(ExitCode::SUCCESS)
}

async fn tail(g: &GlobalOpts, a: AuditTailArgs) -> anyhow::Result<ExitCode> {
    let mut f = filter(&a.filter, None, None)?;
    let store = open(g).await?;
    store
        .audit_record_cli_read(
            &Acting::cli(),
            "audit.tail",
            &f,
            0,
            OffsetDateTime::now_utc(),
        )
        .await?;
    let mut out = std::io::stdout().lock();
    // The last --lines rows first, oldest first.
    let mut last = 0i64;
    if a.lines > 0 {
        f.limit = a.lines;
        let mut rows = store.audit_rows(AuditScope::All, &f).await?;
        rows.reverse();
        write_rows(&mut out, &rows)?;
        last = rows.last().map(|r| r.seq).unwrap_or(0);
    }
    if last == 0 {
        last = store.audit_last_seq().await?;
    }
    out.flush()?;
    if !a.follow {
        store.close().await;
        return Ok(ExitCode::SUCCESS);
    }
    f.limit = BATCH;
    let mut polls = 0u64;
    loop {
        if a.polls.is_some_and(|n| polls >= n) {
            break;
        }
        polls += 1;
        tokio::time::sleep(std::time::Duration::from_millis(a.interval_ms)).await;
        loop {
            f.after = Some(last);
            let rows = store.audit_rows(AuditScope::All, &f).await?;
            write_rows(&mut out, &rows)?;
            out.flush()?;
            match rows.last() {
                Some(r) => last = r.seq,
                None => break,
            }
            if (rows.len() as i64) < BATCH {
                break;
            }
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn archive(g: &GlobalOpts, before: &str, out: &std::path::Path) -> anyhow::Result<ExitCode> {
    let Some(before_ms) = parse_instant(before.trim()) else {
        bail!("--before: expected a date YYYY-MM-DD or an RFC 3339 time");
    };
    let store = open(g).await?;
    let file = files::create_private(out)
        .with_context(|| format!("cannot create {} (must not exist)", out.display()))?;
    let mut w = std::io::BufWriter::new(file);
    let res = store
        .audit_archive(
            before_ms,
            &Acting::cli(),
            OffsetDateTime::now_utc(),
            &mut w,
            |w| {
                w.flush()?;
                w.get_ref().sync_all()
            },
        )
        .await;
    store.close().await;
    match res {
        Ok(info) => {
            println!(
                "archived rows {}..{} ({} rows) to {}; segment sha256 {}",
                info.first_seq,
                info.last_seq,
                info.rows,
                out.display(),
                info.segment_sha256
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            drop(w);
            let _ = std::fs::remove_file(out);
            match e {
                StoreError::NotFound => {
                    bail!("nothing to archive: no live row is older than --before")
                }
                e => Err(e.into()),
            }
        }
    }
}

pub(super) fn verify_segment(path: &std::path::Path) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the segment file {}", path.display()))?;
    let report = check_segment(&text);
    if report.problems.is_empty()
        && let Some(h) = &report.header
    {
        println!(
            "segment OK: rows {}..{} ({} rows), last hash {}, sha256 {}",
            h.first_seq, h.last_seq, report.rows, h.last_hash, report.sha256
        );
        return Ok(ExitCode::SUCCESS);
    }
    for p in &report.problems {
        println!("{p}");
    }
    eprintln!(
        "segment FAILED verification: {} problem(s) in {} rows",
        report.problems.len(),
        report.rows
    );
    Ok(ExitCode::FAILURE)
}
