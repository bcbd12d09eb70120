//! `dayaq report national --as USER --year Y --format json|csv|xlsx|pdf [--lang az|ru|en]
//! [--public [--k K]] [--out FILE]`:
//! the annual national report through the same storage call as the API and the screen
//! (authorised as the acting user, audited with the table and year).

use crate::cli::{GlobalOpts, ReportCommand};
use crate::commands::{acting_user, create_private, open};
use anyhow::{Context, bail};
use dayaq_domain::statistics::Disclosure;
use dayaq_http::i18n::Lang;
use dayaq_storage::cases::Ctx;
use std::io::Write;
use std::process::ExitCode;
use time::OffsetDateTime;

pub async fn run(g: &GlobalOpts, cmd: ReportCommand) -> anyhow::Result<ExitCode> {
    let ReportCommand::National {
        as_user,
        year,
        format,
        lang,
        public,
        k,
        out,
    } = cmd
    else {
        bail!("unexpected report command");
    };
    if !(1990..=2100).contains(&year) {
        bail!("--year must be between 1990 and 2100");
    }
    let disclosure = if public {
        Disclosure::public(k).map_err(|e| anyhow::anyhow!("--k: {}", e.message))?
    } else {
        Disclosure::Internal
    };
    if (format == "xlsx" || format == "pdf") && out.is_none() {
        bail!("--format {format} needs --out FILE");
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
        "pdf" => "pdf",
        _ => "json",
    };
    let r = async {
        let access = store.authorize_national_report(&ctx).await?;
        store.national_report(&access, year, disclosure, via).await
    }
    .await;
    store.close().await;
    let r = r?;
    let bytes = match via {
        "csv" => dayaq_storage::statistics::export::to_csv(&r)?,
        "xlsx" => dayaq_storage::statistics::export::to_xlsx(&r)?,
        "pdf" => {
            let lang = lang
                .as_deref()
                .or(Some(user.locale.as_str()))
                .and_then(Lang::parse)
                .unwrap_or(Lang::Az);
            dayaq_http::pages::statistics_charts::national_pdf(lang, &r)
                .map_err(|e| anyhow::anyhow!("pdf: {e}"))?
        }
        _ => {
            // The API's body, so that both give the same JSON.
            let mut v = serde_json::to_vec_pretty(&dayaq_http::api::statistics::report_body(&r))?;
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
