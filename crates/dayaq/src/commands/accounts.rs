//! `org`, `user` and `token`: organisations, accounts, enrolment links and API tokens.

use super::*;

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
        OrgCommand::SetOidc(a) => {
            // The secret file must be readable now (the server reads it at each sign-in).
            match std::fs::read_to_string(&a.client_secret_file) {
                Ok(s) if !s.trim().is_empty() => {}
                _ => {
                    let v = dayaq_domain::ValidationErrors::single(dayaq_domain::FieldError::new(
                        "client_secret_file",
                        "unreadable",
                        "the client secret file cannot be read or is empty",
                    ));
                    return refused(store, &v).await;
                }
            }
            let input = dayaq_domain::sso::ProviderInput {
                display_name: a.name.clone(),
                issuer: a.issuer.clone(),
                redirect_uri: a.redirect_uri.clone(),
                client_id: a.client_id.clone(),
                secret_file: a.client_secret_file.to_string_lossy().into_owned(),
                allowed_domains: a.allowed_domains.clone(),
                role_claim: a.role_claim.clone(),
                role_map: a.role_map.clone(),
                local_passwords_allowed: !a.no_local_passwords,
            };
            match store
                .set_org_oidc(&a.slug, &input, OffsetDateTime::now_utc())
                .await
            {
                Ok(p) => println!(
                    "single sign-on of {}: {} ({}); local passwords {}",
                    p.org_slug,
                    p.provider.display_name,
                    p.provider.issuer,
                    if p.provider.local_passwords_allowed {
                        "allowed"
                    } else {
                        "barred"
                    }
                ),
                Err(StoreError::Invalid(v)) => return refused(store, &v).await,
                Err(e) => return Err(e.into()),
            }
        }
        OrgCommand::ClearOidc { slug } => {
            match store.clear_org_oidc(&slug, OffsetDateTime::now_utc()).await {
                Ok(true) => println!("single sign-on of {slug} removed"),
                Ok(false) => println!("{slug} had no single sign-on"),
                Err(StoreError::Invalid(v)) => return refused(store, &v).await,
                Err(e) => return Err(e.into()),
            }
        }
        OrgCommand::SetTimezone { slug, zone } => {
            match store
                .set_org_timezone(&slug, &zone, OffsetDateTime::now_utc())
                .await
            {
                Ok(zone) => println!("time zone of {slug}: {zone}"),
                Err(StoreError::Invalid(v)) => return refused(store, &v).await,
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
pub(super) async fn named_user(store: &Store, username: &str) -> anyhow::Result<User> {
    match store.user_by_name(username).await {
        Ok(u) => Ok(u),
        Err(StoreError::NotFound) => bail!("no user with this username"),
        Err(e) => Err(e.into()),
    }
}

pub(super) fn print_enrolment(base_url: Option<&str>, e: &Enrolment) {
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
        UserCommand::LinkOidc { username, subject } => {
            match store.link_oidc_subject(&by, &username, &subject, now).await {
                Ok(()) => println!("{username} linked to the organisation's identity provider"),
                Err(StoreError::Invalid(v)) => return refused(store, &v).await,
                Err(e) => return Err(e.into()),
            }
        }
        UserCommand::PasskeyRequired { role, off } => match role {
            Some(role) => {
                let role = dayaq_domain::Role::parse(role.trim())
                    .map_err(|e| anyhow::anyhow!("--role: {}", e.message))?;
                store.set_passkey_required(&by, role, !off, now).await?;
                println!(
                    "passkey {} for role {}",
                    if off { "optional" } else { "mandatory" },
                    role.as_str()
                );
            }
            None => {
                for r in store.passkey_required_roles().await? {
                    println!("{}", r.as_str());
                }
            }
        },
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

/// A refused input: each field error on stderr, nothing changed, exit 1.
async fn refused(store: Store, v: &dayaq_domain::ValidationErrors) -> anyhow::Result<ExitCode> {
    store.close().await;
    for e in &v.errors {
        eprintln!("{}: {}", e.field, e.message);
    }
    eprintln!("error: nothing was changed");
    Ok(ExitCode::FAILURE)
}
