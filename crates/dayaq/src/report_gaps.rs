//! `dayaq report gaps --as USER --from D --to D [--region R] --format json|csv|xlsx
//! [--public [--k K]] [--out FILE]`: the assistance-gap view through the same storage call as
//! the API and the screen (authorised as the acting user, audited).

use crate::cli::{GlobalOpts, ReportCommand};
use crate::commands::{acting_user, create_private, open};
use anyhow::{Context, bail};
use dayaq_domain::statistics::Disclosure;
use dayaq_storage::cases::Ctx;
use dayaq_storage::statistics::gaps::{GapQuery, gap_csv, gap_xlsx};
use std::io::Write;
use std::process::ExitCode;
use time::{Date, OffsetDateTime};

fn day(flag: &str, s: &str) -> anyhow::Result<Date> {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), &f)
        .ok()
        .filter(|d| (1990..=2100).contains(&d.year()))
        .with_context(|| format!("{flag} must be a date YYYY-MM-DD"))
}

pub async fn run(g: &GlobalOpts, cmd: ReportCommand) -> anyhow::Result<ExitCode> {
    let ReportCommand::Gaps {
        as_user,
        from,
        to,
        region,
        format,
        public,
        k,
        out,
    } = cmd
    else {
        bail!("unexpected report command");
    };
    let from = day("--from", &from)?;
    let to = day("--to", &to)?;
    if to < from {
        bail!("--to is before --from");
    }
    let region = region
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    let disclosure = if public {
        Disclosure::public(k).map_err(|e| anyhow::anyhow!("--k: {}", e.message))?
    } else {
        Disclosure::Internal
    };
    if format == "xlsx" && out.is_none() {
        bail!("--format xlsx needs --out FILE");
    }
    if let Some(path) = &out
        && path.exists()
    {
        bail!("{} exists already: choose a new file name", path.display());
    }
    let store = open(g).await?;
    let user = acting_user(&store, &as_user).await?;
    let actor = user.actor();
    let ctx = Ctx {
        actor: &actor,
        source: "cli",
        now: OffsetDateTime::now_utc(),
    };
    let via = match format.as_str() {
        "csv" => "csv",
        "xlsx" => "xlsx",
        _ => "json",
    };
    let query = GapQuery { from, to, region };
    let r = async {
        let access = store.authorize_gap_report(&ctx).await?;
        store.gap_report(&access, &query, disclosure, via).await
    }
    .await;
    store.close().await;
    let r = r.map_err(|e| match e {
        // Name the refused field (`--region`): the storage error alone says "invalid input".
        dayaq_storage::StoreError::Invalid(v) => anyhow::anyhow!(
            "{}",
            v.errors
                .iter()
                .map(|e| format!("--{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        e => e.into(),
    })?;
    let bytes = match via {
        "csv" => gap_csv(&r)?,
        "xlsx" => gap_xlsx(&r)?,
        _ => {
            // The API's body, so that both give the same JSON.
            let mut v = serde_json::to_vec_pretty(&dayaq_http::api::gaps::gap_body(&r))?;
            v.push(b'\n');
            v
        }
    };
    match out {
        Some(path) => {
            let mut f = create_private(&path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            f.write_all(&bytes)?;
            f.sync_all()?;
        }
        None => std::io::stdout().write_all(&bytes)?,
    }
    Ok(ExitCode::SUCCESS)
}
