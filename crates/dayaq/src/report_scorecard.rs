//! `dayaq report scorecard --as USER --year Y --format json|csv|xlsx [--out FILE]
//! [--indicators FILE]`: the action-plan scorecard through the same storage call as the API
//! and the screen (authorised as the acting user, audited); `dayaq report scorecard
//! --check-config FILE` checks an indicators file. `load_indicators` is also what `serve`
//! uses at start (a bad file stops it).

use crate::cli::{GlobalOpts, ReportCommand};
use crate::commands::{acting_user, create_private, open};
use anyhow::{Context, bail};
use dayaq_domain::policy::Action;
use dayaq_domain::statistics::scorecard::IndicatorSet;
use dayaq_storage::cases::Ctx;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use time::OffsetDateTime;

/// The indicators file at `path`, or the built-in one; an error names the file, the
/// indicator and the field.
pub fn load_indicators(path: Option<&Path>) -> anyhow::Result<IndicatorSet> {
    match path {
        None => IndicatorSet::builtin().context("the built-in indicators file is invalid"),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the indicators file {}", p.display()))?;
            IndicatorSet::parse(&text)
                .with_context(|| format!("invalid indicators file {}", p.display()))
        }
    }
}

pub async fn run(g: &GlobalOpts, cmd: ReportCommand) -> anyhow::Result<ExitCode> {
    let ReportCommand::Scorecard {
        as_user,
        year,
        format,
        out,
        indicators,
        check_config,
    } = cmd
    else {
        bail!("unexpected report command");
    };
    if let Some(file) = check_config {
        let set = load_indicators(Some(&file))?;
        println!(
            "{}: {} indicators, valid",
            file.display(),
            set.indicators.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let (Some(as_user), Some(year)) = (as_user, year) else {
        bail!("--as and --year are required (or --check-config FILE)");
    };
    if !(1990..=2100).contains(&year) {
        bail!("--year must be between 1990 and 2100");
    }
    if format == "xlsx" && out.is_none() {
        bail!("--format xlsx needs --out FILE");
    }
    if let Some(path) = &out
        && path.exists()
    {
        bail!("{} exists already: choose a new file name", path.display());
    }
    let set = load_indicators(indicators.as_deref())?;
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
    let r = async {
        let access = store
            .authorize_scorecard(&ctx, Action::ReadScorecard)
            .await?;
        store.scorecard(&access, &set, year, via).await
    }
    .await;
    store.close().await;
    let card = r?;
    let bytes = match via {
        "csv" => dayaq_storage::statistics::scorecard_csv(&card)?,
        "xlsx" => dayaq_storage::statistics::scorecard_xlsx(&card)?,
        _ => {
            // The API's body, so that both give the same JSON.
            let body = dayaq_http::api::scorecard::scorecard_body(&card);
            let mut v = serde_json::to_vec_pretty(&body)?;
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
