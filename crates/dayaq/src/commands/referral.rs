//! `referral` and `key age-identity`: off-platform referral packages.

use super::*;

/// `dayaq key age-identity --out FILE`: writes a new age identity (0600, must not exist),
/// installs it in this instance and prints the public key.
pub(super) async fn age_identity(g: &GlobalOpts, cmd: KeyCommand) -> anyhow::Result<ExitCode> {
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
            let ctx = cli_ctx(&actor);
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
            let ctx = cli_ctx(&actor);
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
