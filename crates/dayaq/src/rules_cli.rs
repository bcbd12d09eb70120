//! `dayaq rules`: the rules of practice (issue #17 part 4). `show` prints the reflection
//! period and every facility's admission rules; `reflection-period` and `facility` change them
//! as a national coordinator (`--as`), audited like the screen and the API. Nothing printed
//! names a person.

use crate::cli::GlobalOpts;
use crate::commands::{acting_user, open};
use anyhow::bail;
use clap::Subcommand;
use dayaq_storage::StoreError;
use dayaq_storage::cases::Ctx;
use dayaq_storage::rules::AdmissionRulesInput;
use std::process::ExitCode;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Print the reflection period and the admission rules of every shelter facility.
    Show,
    /// Set the recovery and reflection period (at least 30 days, CoE Convention art. 13).
    ReflectionPeriod {
        /// Act as this user (a national coordinator).
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
        /// Length in days (at least 30).
        #[arg(long, value_name = "DAYS")]
        days: i64,
    },
    /// Switch a facility's admission condition on or off.
    Facility {
        /// Act as this user (a national coordinator).
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
        /// The facility id (from `dayaq rules show`).
        #[arg(long, value_name = "UUID")]
        facility: Uuid,
        /// Admit only survivors who cooperate with law enforcement (`on`/`off`). International
        /// standards (CoE Convention art. 12(6)) say assistance must not depend on it.
        #[arg(long, value_name = "on|off", value_parser = ["on", "off"])]
        requires_cooperation: String,
    },
}

impl RulesCommand {
    pub fn name(&self) -> &'static str {
        match self {
            RulesCommand::Show => "rules.show",
            RulesCommand::ReflectionPeriod { .. } => "rules.reflection_period",
            RulesCommand::Facility { .. } => "rules.facility",
        }
    }
}

fn refused(e: StoreError) -> anyhow::Error {
    match e {
        StoreError::Invalid(v) => {
            let msgs: Vec<String> = v
                .errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            anyhow::anyhow!("refused: {}", msgs.join("; "))
        }
        StoreError::Forbidden(r) => anyhow::anyhow!("refused: {r}"),
        StoreError::NotFound => anyhow::anyhow!("no such facility"),
        e => e.into(),
    }
}

pub async fn run(g: &GlobalOpts, cmd: RulesCommand) -> anyhow::Result<ExitCode> {
    let store = open(g).await?;
    let now = OffsetDateTime::now_utc();
    let r: anyhow::Result<()> = async {
        match cmd {
            RulesCommand::Show => {
                let r = store.reflection_setting().await?;
                println!("reflection_period_days {}", r.days);
                for f in store.facility_rules().await? {
                    println!(
                        "facility {} requires_cooperation={} {}",
                        f.facility_id,
                        if f.rules.requires_cooperation { "on" } else { "off" },
                        f.name
                    );
                }
            }
            RulesCommand::ReflectionPeriod { as_user, days } => {
                let actor = acting_user(&store, &as_user).await?.actor();
                let ctx = Ctx {
                    actor: &actor,
                    source: "cli",
                    now,
                };
                let s = store
                    .set_reflection_days(&ctx, days)
                    .await
                    .map_err(refused)?;
                println!("reflection_period_days {}", s.days);
            }
            RulesCommand::Facility {
                as_user,
                facility,
                requires_cooperation,
            } => {
                let actor = acting_user(&store, &as_user).await?.actor();
                let ctx = Ctx {
                    actor: &actor,
                    source: "cli",
                    now,
                };
                let input = AdmissionRulesInput {
                    requires_cooperation: match requires_cooperation.as_str() {
                        "on" => true,
                        "off" => false,
                        _ => bail!("--requires-cooperation is on or off"),
                    },
                };
                let f = store
                    .set_admission_rules(&ctx, facility, &input)
                    .await
                    .map_err(refused)?;
                println!(
                    "facility {} requires_cooperation={}",
                    f.facility_id,
                    if f.rules.requires_cooperation { "on" } else { "off" }
                );
                if f.conflicts_with_standards {
                    println!(
                        "note: international standards (CoE Convention art. 12(6)) say assistance must not depend on cooperation with law enforcement"
                    );
                }
            }
        }
        Ok(())
    }
    .await;
    store.close().await;
    r?;
    Ok(ExitCode::SUCCESS)
}
