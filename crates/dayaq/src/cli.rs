//! Command-line definitions (clap derive). Handlers live in `commands`, `server` and `demo`.

use clap::{Args, Parser, Subcommand};
use dayaq_storage::OpenOptions;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "dayaq",
    version,
    about = "Dayaq: a National Referral Mechanism for survivors of human trafficking",
    long_about = "Dayaq: a National Referral Mechanism for survivors of human trafficking.\n\n\
        Identity data is encrypted under per-case keys wrapped by a master key kept in a file \
        outside the database (default DATA_DIR/master.key). Back that file up separately from \
        the database backups: without it no case can be read."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand accepts.
#[derive(Debug, Clone, Args)]
pub struct GlobalOpts {
    /// Data directory (SQLite database `dayaq.db` and the master key file).
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        env = "DAYAQ_DATA_DIR",
        default_value = "./dayaq-data"
    )]
    pub data_dir: PathBuf,

    /// Database URL. `postgres://...` selects PostgreSQL; without it Dayaq uses SQLite in
    /// DIR/dayaq.db.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "DAYAQ_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// Master key file (default DIR/master.key). Keep it outside the database and its backups.
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        env = "DAYAQ_MASTER_KEY_FILE"
    )]
    pub master_key_file: Option<PathBuf>,
}

impl GlobalOpts {
    pub fn open_options(&self) -> OpenOptions {
        let mut o = OpenOptions::new(&self.data_dir);
        o.database_url = self.database_url.clone();
        o.master_key_file = self.master_key_file.clone();
        o
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web application and the JSON API.
    Serve(ServeArgs),
    /// Load a synthetic demo world (once) and serve it. Never use it with real data.
    Demo(ServeArgs),
    /// Organisations in the directory.
    #[command(subcommand)]
    Org(OrgCommand),
    /// User accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// API bearer tokens for integrations.
    #[command(subcommand)]
    Token(TokenCommand),
    /// The hash-chained audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Write an encrypted (age) backup of the whole database.
    #[command(
        long_about = "Write an encrypted (age) backup of the whole database.\n\n\
            The backup is encrypted to a passphrase (--passphrase-stdin or the environment \
            variable DAYAQ_BACKUP_PASSPHRASE) or to an age X25519 recipient (--recipient). \
            The master key is NOT in the backup: back up the master key file separately \
            and keep it apart from the backups."
    )]
    Backup(BackupArgs),
    /// Restore an encrypted backup into an empty data directory.
    #[command(
        long_about = "Restore an encrypted backup into an empty data directory.\n\n\
            BEFORE restoring, place the source installation's master key file in the target \
            (DATA_DIR/master.key, or point to it with --master-key-file): the backup holds \
            only wrapped keys, and they unwrap only with that key. The restore refuses to run \
            when the key file is missing or the target database is not empty.\n\n\
            The backup is decrypted with a passphrase (--passphrase-stdin or the environment \
            variable DAYAQ_BACKUP_PASSPHRASE) or an age identity file (--identity-file)."
    )]
    Restore(RestoreArgs),
    /// Master key management.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Import cases from a file.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Export cases to a file.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Reports (counts per question and answer).
    #[command(subcommand)]
    Report(ReportCommand),
    /// Referral packages for organisations not on the platform (age-encrypted HTCDS JSON).
    #[command(subcommand)]
    Referral(ReferralCommand),
    /// Measurement harness: synthetic population and benchmarks (synthetic data only; see
    /// docs/PERFORMANCE.md).
    #[command(subcommand)]
    Bench(crate::bench::BenchCommand),
    /// The maintained national statistics: rebuild from the records, check.
    #[command(subcommand)]
    Statistics(crate::statistics_cli::StatisticsCommand),
    /// Research data releases: set-key, request, list, approve/generate, refuse, download.
    #[command(subcommand)]
    Release(crate::release_cli::ReleaseCommand),
    /// Access-anomaly alerts: evaluate the rules, list, acknowledge.
    #[command(subcommand)]
    Alerts(crate::alerts_cli::AlertsCommand),
    /// Rules of practice: the reflection period, facility admission rules (coordinator).
    #[command(subcommand)]
    Rules(crate::rules_cli::RulesCommand),
    /// Retention schedules: rules per organisation, the preview, the daily erasure job.
    #[command(subcommand)]
    Retention(crate::retention_cli::RetentionCommand),
    /// Encrypted attachments: list and fix what interrupted uploads and deletions left.
    #[command(subcommand)]
    Attachments(crate::attachments_cli::AttachmentsCommand),
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(
        long,
        value_name = "ADDR",
        env = "DAYAQ_LISTEN",
        default_value = "127.0.0.1:8080"
    )]
    pub listen: SocketAddr,

    /// Mark cookies `Secure` (use when served over TLS, directly or behind a proxy).
    #[arg(long, env = "DAYAQ_SECURE_COOKIES")]
    pub secure_cookies: bool,

    /// Sign a session out after this many idle minutes.
    #[arg(long, value_name = "MINUTES", default_value_t = 15,
          value_parser = clap::value_parser!(i64).range(1..=1440))]
    pub idle_timeout_minutes: i64,

    /// Sign a session out this many hours after sign-in, active or not.
    #[arg(long, value_name = "HOURS", default_value_t = 12,
          value_parser = clap::value_parser!(i64).range(1..=168))]
    pub absolute_timeout_hours: i64,

    /// Append audit checkpoints (`seq hash mac time`, one line each, fsync'd) to this file.
    /// Keep it on another volume or host than the database: `dayaq audit verify --witness`
    /// then detects a cut-off or rolled-back audit log.
    #[arg(long, value_name = "FILE", env = "DAYAQ_AUDIT_WITNESS")]
    pub audit_witness: Option<PathBuf>,

    /// How often the audit head is checkpointed (witness file, log, metrics), in seconds;
    /// also at start and at shutdown.
    #[arg(long, value_name = "SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub audit_checkpoint_seconds: u64,

    /// A reverse proxy (address or CIDR block) whose `Forwarded` / `X-Forwarded-For` header
    /// names the client; repeat for several (environment: comma separated). Only requests
    /// whose TCP peer is inside one of these are read for the client address; the rightmost
    /// address that is not itself a trusted proxy is the client (audit source, throttling,
    /// rate limits). Without it the TCP peer is the client.
    #[arg(long = "trusted-proxy", value_name = "CIDR", env = "DAYAQ_TRUSTED_PROXY",
          value_delimiter = ',', value_parser = dayaq_http::proxy::parse_trusted)]
    pub trusted_proxies: Vec<dayaq_http::proxy::IpNet>,

    /// The address people open Dayaq at (e.g. `https://dayaq.example.gov`): passkeys are
    /// bound to its host name (the WebAuthn relying party) and accepted only from its origin.
    /// Without it, passkeys work on `http://localhost` only (development).
    #[arg(long, value_name = "URL", env = "DAYAQ_PUBLIC_URL",
          value_parser = dayaq_http::passkeys::parse_public_url)]
    pub public_url: Option<dayaq_http::passkeys::Url>,

    /// API requests per second per client address after the burst (429 with Retry-After).
    #[arg(long, value_name = "N", default_value_t = 50, env = "DAYAQ_API_RATE",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub api_rate: u32,

    /// API requests a client address may send at once before the rate applies.
    #[arg(long, value_name = "N", default_value_t = 200, env = "DAYAQ_API_BURST",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub api_burst: u32,

    /// Seconds between sign-in attempts (POST /login*) per client address after the burst.
    #[arg(long, value_name = "SECONDS", default_value_t = 2, env = "DAYAQ_SIGNIN_INTERVAL",
          value_parser = clap::value_parser!(u32).range(1..=3600))]
    pub signin_interval: u32,

    /// Sign-in attempts a client address may send at once before the interval applies.
    #[arg(long, value_name = "N", default_value_t = 10, env = "DAYAQ_SIGNIN_BURST",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub signin_burst: u32,

    /// The action-plan scorecard's indicators file (TOML; default: the built-in
    /// config/indicators.toml). Checked at start: a bad file stops the server with the
    /// indicator and field named.
    #[arg(long, value_name = "FILE", env = "DAYAQ_INDICATORS")]
    pub indicators: Option<PathBuf>,

    /// The access-anomaly rules file (TOML; default: the built-in config/alert_rules.toml).
    /// Checked at start: a bad file stops the server with the key named.
    #[arg(long, value_name = "FILE", env = "DAYAQ_ALERT_RULES")]
    pub alert_rules: Option<PathBuf>,

    /// How often the anomaly rules run over new audit rows, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(5..=3600))]
    pub alert_interval_seconds: u64,

    /// The attachment store (issue #21): local directory or S3 bucket, size limit.
    #[command(flatten)]
    pub attachments: crate::attachments_cli::AttachmentStoreArgs,
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Add an organisation.
    Add {
        /// Short identifier: lowercase letters, digits and '-'.
        #[arg(long)]
        slug: String,
        /// Display name (HTCDS org_Name).
        #[arg(long)]
        name: String,
        /// HTCDS org_Type, e.g. NGO, LawEnforcement, CentralGovernmentOrganisation.
        #[arg(long = "type", value_name = "ORG_TYPE")]
        org_type: String,
        /// Region (Baku or a region outside it).
        #[arg(long, default_value = "Baku")]
        region: String,
    },
    /// List organisations.
    List,
    /// Record the age X25519 public key (age1...) of an organisation that is not on the
    /// platform, so that referral packages can be encrypted to it.
    SetRecipient {
        /// Organisation slug.
        #[arg(long)]
        slug: String,
        /// The organisation's age public key (age1...).
        #[arg(long, value_name = "AGE_RECIPIENT")]
        age_recipient: String,
    },
    /// Set an organisation's default follow-up schedule (months after the end of short-term
    /// assistance) used by new follow-up plans of its cases unless a case sets its own.
    SetFollowupSchedule {
        /// Organisation slug.
        #[arg(value_name = "SLUG")]
        slug: String,
        /// Ascending months from 1 to 60, comma-separated, at most 12 (e.g. 1,3,6,12,18,24).
        #[arg(long, value_name = "M,M,...", value_delimiter = ',', required = true)]
        months: Vec<u32>,
    },
    /// Set the time zone (IANA name, e.g. Asia/Baku) in which the organisation's screens show
    /// times and read the local times typed in forms. Times stay stored in UTC. Audited.
    SetTimezone {
        /// Organisation slug.
        #[arg(value_name = "SLUG")]
        slug: String,
        /// A zone of the tz database, e.g. Asia/Baku (the default of a new organisation).
        #[arg(value_name = "ZONE")]
        zone: String,
    },
    /// Accept a sender's referral-package signing key on this instance. Packages signed with
    /// it are imported with NAME shown as the verified sender; packages that are unsigned or
    /// signed with a key not accepted here are refused. Audited.
    TrustPackageKey {
        /// The name shown as the verified sender (e.g. "IOM Azerbaijan").
        #[arg(long, value_name = "NAME")]
        sender: String,
        /// The sender's key as printed by `dayaq key package-signing-public` on its instance
        /// (dayaq-package-key-1:...). Compare it with the sender over a second channel.
        #[arg(long, value_name = "KEY")]
        key: String,
    },
    /// Connect the organisation to its OpenID Connect identity provider (single sign-on,
    /// authorization code flow with PKCE). Replaces an earlier setting. Users sign in with the
    /// provider only once an administrator has linked their subject (`user link-oidc`). Audited.
    SetOidc(Box<SetOidcArgs>),
    /// Remove the organisation's identity provider (links are kept, unused). Audited.
    ClearOidc {
        /// Organisation slug.
        #[arg(value_name = "SLUG")]
        slug: String,
    },
}

/// `org set-oidc`: the organisation's identity provider.
#[derive(Debug, clap::Args)]
pub struct SetOidcArgs {
    /// Organisation slug.
    #[arg(value_name = "SLUG")]
    pub slug: String,
    /// The name on the sign-in button ("Sign in with NAME").
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// The provider's issuer URL (https; its /.well-known/openid-configuration is read).
    #[arg(long, value_name = "URL")]
    pub issuer: String,
    /// Dayaq's callback as registered at the provider: https://<dayaq>/login/sso/callback.
    #[arg(long, value_name = "URL")]
    pub redirect_uri: String,
    #[arg(long, value_name = "ID")]
    pub client_id: String,
    /// A file readable by the server holding the client secret (read at each sign-in; the
    /// secret is never stored in the database or printed).
    #[arg(long, value_name = "PATH")]
    pub client_secret_file: std::path::PathBuf,
    /// An e-mail domain allowed to sign in (repeat; none: any domain).
    #[arg(long = "allowed-domain", value_name = "DOMAIN")]
    pub allowed_domains: Vec<String>,
    /// The ID-token claim whose values give the role (e.g. groups).
    #[arg(long, value_name = "CLAIM", default_value = "")]
    pub role_claim: String,
    /// VALUE=ROLE: a claim value and the Dayaq role it gives (repeat; the first match wins).
    #[arg(long = "role-map", value_name = "VALUE=ROLE")]
    pub role_map: Vec<String>,
    /// Bar the organisation's users from local passwords (the provider only).
    #[arg(long)]
    pub no_local_passwords: bool,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user. No password is set: a one-time enrolment link (72 hours) is printed once;
    /// the user opens it and chooses their own password (and second factor where the role
    /// needs one). The audit row names the operator as cli:<os user>.
    Add {
        /// Organisation slug.
        #[arg(long, value_name = "SLUG")]
        org: String,
        /// caseworker, supervisor, police_officer, hotline_operator, org_admin,
        /// national_coordinator, researcher, auditor or system_admin.
        #[arg(long)]
        role: String,
        #[arg(long, value_name = "NAME")]
        username: String,
        /// The server's public address (e.g. https://dayaq.example.org), to print the whole
        /// link; without it the path is printed.
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
    },
    /// Disable a user: sign-in stops, every session and API token ends.
    Disable {
        #[arg(value_name = "USERNAME")]
        username: String,
    },
    /// Enable a disabled user again.
    Enable {
        #[arg(value_name = "USERNAME")]
        username: String,
    },
    /// Reset a user's second factor: the secret is deleted and sessions end; the user enrols
    /// a new one at the next sign-in.
    ResetTotp {
        #[arg(value_name = "USERNAME")]
        username: String,
    },
    /// Reset a user's password: the old one stops working, sessions and API tokens end, and a
    /// new one-time enrolment link is printed once.
    ResetPassword {
        #[arg(value_name = "USERNAME")]
        username: String,
        /// The server's public address, to print the whole link.
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
    },
    /// Link a user to their identity at the organisation's OpenID Connect provider: the
    /// subject (`sub` claim, as the provider's administrator reads it). Replaces an earlier
    /// link. Audited.
    LinkOidc {
        #[arg(value_name = "USERNAME")]
        username: String,
        /// The provider's subject identifier of this person.
        #[arg(long, value_name = "SUB")]
        subject: String,
    },
    /// Make a passkey / security key mandatory for a role (its members sign in with one and
    /// cannot fall back to TOTP; a member without one adds one at the next sign-in), or
    /// optional again with --off. Without --role, lists the roles that must use one. Audited
    /// (`passkey.role_required`) with the operator as cli:<os user>.
    PasskeyRequired {
        /// The role (as for `user add`).
        #[arg(long)]
        role: Option<String>,
        /// Make it optional again.
        #[arg(long, requires = "role")]
        off: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user; the token is printed once.
    Create {
        #[arg(long, value_name = "NAME")]
        username: String,
        /// A label to recognise the token by.
        #[arg(long, value_name = "L", default_value = "")]
        label: String,
        /// Days until the token expires (at most 180).
        #[arg(long, value_name = "N", default_value_t = 90,
              value_parser = clap::value_parser!(i64).range(1..=180))]
        days: i64,
    },
    /// List a user's API tokens (label, id, created, expires, last use, state; never secrets).
    List {
        #[arg(long, value_name = "NAME")]
        username: String,
    },
    /// Revoke one API token of a user (--id) or all of them (--all).
    Revoke {
        #[arg(long, value_name = "NAME")]
        username: String,
        /// The token id (from `token list`).
        #[arg(
            long,
            value_name = "UUID",
            required_unless_present = "all",
            conflicts_with = "all"
        )]
        id: Option<uuid::Uuid>,
        /// Revoke every live token of the user.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the whole hash chain and check the head's seal; exit 1 when any row was edited,
    /// deleted or inserted, or the log was truncated or rolled back.
    Verify {
        /// A witness file written by `serve --audit-witness` (lines `seq hash mac time`):
        /// also report rows it recorded that are gone or differ.
        #[arg(long, value_name = "FILE")]
        witness: Option<PathBuf>,
        /// Verify an archived segment file (`audit archive --out`) offline instead: every
        /// row's hash and link, the counts and the trailer's SHA-256. Needs no database.
        #[arg(long, value_name = "FILE", conflicts_with = "witness")]
        segment: Option<PathBuf>,
    },
    /// Seal an unsealed audit head (a database from before sealing, or restored from such a
    /// backup). Refused unless `verify` finds nothing else. A head that was sealed before and
    /// is now unsealed means someone blanked the seal: check with --witness first.
    Seal {
        /// Also check the witness file's checkpoints before sealing.
        #[arg(long, value_name = "FILE")]
        witness: Option<PathBuf>,
    },
    /// Write audit rows as JSON lines (one object per row, oldest first: ids, codes, hashes;
    /// never personal data) for a SIEM. Audited as `audit.export`.
    Export(AuditExportArgs),
    /// Print new audit rows as JSON lines as they are written (polls the database).
    Tail(AuditTailArgs),
    /// Move the rows older than --before into a sealed segment file (--out; created readable
    /// by its owner only, must not exist) and remove them from the live log, keeping an anchor
    /// so that `audit verify` still verifies the live chain. Audited as `audit.archive`.
    Archive {
        /// Cut-off date: rows before it (YYYY-MM-DD or RFC 3339) are archived.
        #[arg(long)]
        before: String,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

/// Filters shared by `audit export` and `audit tail` (ids and codes only).
#[derive(Debug, Args)]
pub struct AuditFilterArgs {
    /// A case id.
    #[arg(long)]
    pub case: Option<String>,
    /// A user id (or cli:<name>).
    #[arg(long)]
    pub user: Option<String>,
    /// An organisation id.
    #[arg(long)]
    pub org: Option<String>,
    /// exports, break_glass, erasures, keys, failed_signins, denied or audit_reads.
    #[arg(long)]
    pub kind: Option<String>,
}

#[derive(Debug, Args)]
pub struct AuditExportArgs {
    /// From (inclusive): YYYY-MM-DD or RFC 3339.
    #[arg(long)]
    pub since: String,
    /// Until (exclusive): YYYY-MM-DD or RFC 3339.
    #[arg(long)]
    pub until: Option<String>,
    /// The output format (only `jsonl`).
    #[arg(long, default_value = "jsonl")]
    pub format: String,
    /// Write to this file (created readable by its owner only; must not exist) instead of
    /// standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub filter: AuditFilterArgs,
}

#[derive(Debug, Args)]
pub struct AuditTailArgs {
    /// Keep polling for new rows (otherwise print the last --lines rows and stop).
    #[arg(long)]
    pub follow: bool,
    /// Rows to print first (the most recent ones).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(i64).range(0..=500))]
    pub lines: i64,
    /// Milliseconds between polls.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(50..=60_000))]
    pub interval_ms: u64,
    /// Stop after this many polls (for scripts and tests; default: never).
    #[arg(long)]
    pub polls: Option<u64>,
    #[command(flatten)]
    pub filter: AuditFilterArgs,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Output file (written atomically).
    pub file: PathBuf,
    /// Read the passphrase from standard input (one line).
    #[arg(long, conflicts_with = "recipient")]
    pub passphrase_stdin: bool,
    /// Encrypt to this age X25519 recipient (age1...).
    #[arg(long, value_name = "AGE_RECIPIENT")]
    pub recipient: Option<String>,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// Backup file written by `dayaq backup`.
    pub file: PathBuf,
    /// Read the passphrase from standard input (one line).
    #[arg(long, conflicts_with = "identity_file")]
    pub passphrase_stdin: bool,
    /// age identity file (AGE-SECRET-KEY-1...) matching the backup's recipient.
    #[arg(long, value_name = "PATH")]
    pub identity_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Generate a new master key and re-wrap every key under it. The old key file is kept as
    /// `master.key.retired-<id>` so older backups stay restorable.
    Rotate,
    /// Create this instance's age identity for incoming referral packages: writes the
    /// identity file (readable by its owner only; must not exist), installs it in the
    /// instance (sealed with the system key) so the web application can open uploaded
    /// packages, and prints the public key to give to senders.
    AgeIdentity {
        /// The identity file to write (AGE-SECRET-KEY-1...).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Print an organisation's referral-package signing public key (created on first use),
    /// to give to the instances that import its packages (`dayaq org trust-package-key`).
    PackageSigningPublic {
        /// Organisation slug.
        #[arg(long, value_name = "SLUG")]
        org: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReferralCommand {
    /// Export a referral package for an organisation not on the platform.
    #[command(
        long_about = "Export a referral package for an organisation not on the platform.\n\n\
            The package holds the HTCDS keys of the case sections the named services need, only \
            when a consent of the survivor covers sharing with that organisation (or, for a \
            supervisor, with --consent-override-reason). It is encrypted to the organisation's \
            age public key (see `dayaq org set-recipient`), recorded as a completed off-platform \
            referral and audited. The plaintext is never written."
    )]
    ExportPackage {
        /// Case id (UUID).
        #[arg(long = "case", value_name = "ID")]
        case_id: String,
        /// Slug of the receiving organisation.
        #[arg(long, value_name = "SLUG")]
        recipient_org: String,
        /// Services, comma-separated (e.g. ReturnHome,AirportMeeting).
        #[arg(long, value_name = "A,B", value_delimiter = ',')]
        services: Vec<String>,
        /// HTCDS cas_ReasonForOutgoingReferral.
        #[arg(long, value_name = "R")]
        reason: String,
        /// A supervisor's written reason to send without a covering consent.
        #[arg(long, value_name = "TEXT")]
        consent_override_reason: Option<String>,
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
        /// The file to write (must not exist).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Import a referral package into the user's organisation.
    #[command(
        long_about = "Import a referral package into the organisation of the user given with \
            --as: it is decrypted with the age identity file, checked like an HTCDS import \
            (every problem named by field; nothing written on error) and becomes a new case \
            with a record of the sender."
    )]
    ImportPackage {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// age identity file (AGE-SECRET-KEY-1...), e.g. from `dayaq key age-identity`.
        #[arg(long, value_name = "AGE_KEY_FILE")]
        identity: PathBuf,
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import an HTCDS file (.csv or .xlsx) into the user's organisation.
    #[command(
        long_about = "Import an HTCDS file (.csv or .xlsx, by the file name's extension) into the \
            organisation of the user given with --as, with that user's access rights.\n\n\
            The first row holds HTCDS field names (the HTCDS Excel template is accepted); see \
            docs/HTCDS.md for the columns. Every row is checked first. When any row is invalid, \
            nothing is written, every problem is printed on standard error as \
            \"row N, column C: message\" (rows as a spreadsheet numbers them: the header is row \
            1) and the command exits with status 1."
    )]
    Htcds {
        /// The file to import (.csv or .xlsx).
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Act as this user: the cases go to their organisation and their rights apply.
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
    },
    /// Import a round of reintegration questionnaires (.csv or .xlsx).
    #[command(
        long_about = "Import a round of reintegration questionnaires (.csv or .xlsx, by the file \
            name's extension) for cases of the organisation of the user given with --as.\n\n\
            Columns: case_number, round, assessed_on (YYYY-MM-DD), then question keys (see \
            docs/FOLLOWUP.md); multi-choice answers are separated by ';'. Every row is checked \
            first; when any row is invalid nothing is written, every problem is printed on \
            standard error and the command exits with status 1."
    )]
    Questionnaire {
        /// The file to import (.csv or .xlsx).
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Act as this user (needs write access to every case in the file).
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Counts per question and answer of the reintegration questionnaire.
    #[command(
        long_about = "Counts per question and answer of the reintegration questionnaire, for one \
            survey round (--round) or all. Counts below 5 (and counts a small one could be recomputed from) are shown as \"x\" unless the user \
            given with --as has follow-up access to every counted case."
    )]
    Questionnaire {
        /// Act as this user: their access rights decide whether small counts are shown.
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
        /// The survey round (all rounds when absent).
        #[arg(long, value_name = "NAME")]
        round: Option<String>,
        /// json or csv.
        #[arg(long, value_name = "FORMAT", default_value = "json", value_parser = ["json", "csv"])]
        format: String,
    },
    /// The annual national report (identified and presumed victims, assistance, trend).
    #[command(
        long_about = "The annual national report of one year (docs/STATISTICS.md): identified and \
            presumed victims by sex and age, form of exploitation, citizenship, domestic or \
            transnational, identifying organisation; assistance, allowance, referrals, \
            cooperation; the trend of every year. The user given with --as must be a national \
            coordinator. Exact counts unless --public (counts from 1 to k-1 hidden, and the cells they \
            could be recomputed from: docs/STATISTICS.md). JSON and \
            CSV go to standard output unless --out; XLSX and PDF (in --lang, else the user's \
            locale; embedded font) need --out (created readable by its \
            owner only; must not exist). Audited with the table and year."
    )]
    National {
        /// Act as this user (a national coordinator).
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
        /// The calendar year.
        #[arg(long, value_name = "YEAR")]
        year: i32,
        /// json, csv, xlsx or pdf.
        #[arg(long, value_name = "FORMAT", default_value = "json", value_parser = ["json", "csv", "xlsx", "pdf"])]
        format: String,
        /// Language of the PDF: az, ru or en (default: the acting user's locale).
        #[arg(long, value_name = "LANG", value_parser = ["az", "ru", "en"])]
        lang: Option<String>,
        /// The public variant: primary and complementary suppression of small counts.
        #[arg(long)]
        public: bool,
        /// Suppression threshold of the public variant (default 11, at least 5).
        #[arg(long, value_name = "K", requires = "public")]
        k: Option<i64>,
        /// Write to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// The assistance-gap view (needs vs services, plan goals, referrals, follow-up).
    #[command(
        long_about = "The assistance-gap view (docs/STATISTICS.md, \"Gap view\") of the cases \
            starting in --from..--to (identification, else first screening, else opening), \
            optionally of one region: needs by domain identified / delivered / open, short-term \
            and long-term; plan goals by term; referrals for jobs, housing and training; \
            follow-up at 6, 12 and 24 months and lost contact; regions where an open need has \
            no provider. A national coordinator sees every case, a supervisor the own \
            organisation's caseload; others are refused. JSON and CSV go to standard output \
            unless --out; XLSX needs --out. Audited."
    )]
    Gaps {
        /// Act as this user (a national coordinator or a supervisor).
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
        /// First start date of the cohort (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        from: String,
        /// Last start date of the cohort (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        to: String,
        /// Only cases of organisations in this region.
        #[arg(long, value_name = "REGION")]
        region: Option<String>,
        /// json, csv or xlsx.
        #[arg(long, value_name = "FORMAT", default_value = "json", value_parser = ["json", "csv", "xlsx"])]
        format: String,
        /// The public variant: primary suppression of small counts.
        #[arg(long)]
        public: bool,
        /// Suppression threshold of the public variant (default 11, at least 5).
        #[arg(long, value_name = "K", requires = "public")]
        k: Option<i64>,
        /// Write to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// The action-plan scorecard (indicators, values, traffic lights), or check an
    /// indicators file.
    #[command(
        long_about = "The action-plan scorecard of one year (docs/STATISTICS.md, \"Scorecard\"): \
            every indicator with its value, numerator, denominator, target and traffic light, \
            and the two years before. The user given with --as must be a national coordinator. \
            JSON and CSV go to standard output unless --out; XLSX needs --out (created readable \
            by its owner only; must not exist). Audited. With --check-config FILE only the \
            indicators file is checked (exit 1 naming the indicator and field of a problem)."
    )]
    Scorecard {
        /// Act as this user (a national coordinator).
        #[arg(
            long = "as",
            value_name = "USERNAME",
            required_unless_present = "check_config"
        )]
        as_user: Option<String>,
        /// The calendar year.
        #[arg(long, value_name = "YEAR", required_unless_present = "check_config")]
        year: Option<i32>,
        /// json, csv or xlsx.
        #[arg(long, value_name = "FORMAT", default_value = "json", value_parser = ["json", "csv", "xlsx"])]
        format: String,
        /// Write to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// The indicators file (default: the built-in config/indicators.toml).
        #[arg(long, value_name = "FILE", env = "DAYAQ_INDICATORS")]
        indicators: Option<PathBuf>,
        /// Only check this indicators file and exit.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["as_user", "year", "out"])]
        check_config: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Export every case the user may see as an HTCDS file (.csv or .xlsx).
    #[command(
        long_about = "Export every case the user given with --as may see, identity included, \
            as an HTCDS file (.csv or .xlsx, by the extension of --out). The export is recorded \
            in the audit log. The file is created readable by its owner only and must not exist \
            yet; keep it encrypted and delete it when it is no longer needed."
    )]
    Htcds {
        /// Act as this user: their access rights decide which cases are exported.
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
        /// The file to write (.csv or .xlsx).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Export individual reintegration questionnaire answers (.csv or .xlsx).
    #[command(
        long_about = "Export the individual reintegration questionnaire answers of every case \
            whose follow-up section the user given with --as may read, one row per assessment, \
            in the column mapping of `dayaq import questionnaire` (docs/FOLLOWUP.md): the file \
            can be imported again. Her words (assistance_needed_words) are included, decrypted. \
            The export is recorded in the audit log. The file is created readable by its owner \
            only and must not exist yet."
    )]
    Questionnaire {
        /// Act as this user: their access rights decide which cases are exported.
        #[arg(long = "as", value_name = "USERNAME")]
        as_user: String,
        /// The survey round (all rounds when absent).
        #[arg(long, value_name = "NAME")]
        round: Option<String>,
        /// csv or xlsx.
        #[arg(long, value_name = "FORMAT", value_parser = ["csv", "xlsx"])]
        format: String,
        /// The file to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

impl Command {
    /// Long-running server commands log at `info`; one-shot admin commands only warnings.
    pub fn is_server(&self) -> bool {
        matches!(self, Command::Serve(_) | Command::Demo(_))
    }

    /// A name for logs (never arguments: they may hold personal data).
    pub fn name(&self) -> &'static str {
        match self {
            Command::Serve(_) => "serve",
            Command::Demo(_) => "demo",
            Command::Org(OrgCommand::Add { .. }) => "org.add",
            Command::Org(OrgCommand::List) => "org.list",
            Command::Org(OrgCommand::SetRecipient { .. }) => "org.set_recipient",
            Command::Org(OrgCommand::SetFollowupSchedule { .. }) => "org.set_followup_schedule",
            Command::Org(OrgCommand::SetTimezone { .. }) => "org.set_timezone",
            Command::Key(KeyCommand::AgeIdentity { .. }) => "key.age_identity",
            Command::Key(KeyCommand::PackageSigningPublic { .. }) => "key.package_signing_public",
            Command::Org(OrgCommand::TrustPackageKey { .. }) => "org.trust_package_key",
            Command::Referral(ReferralCommand::ExportPackage { .. }) => "referral.export_package",
            Command::Referral(ReferralCommand::ImportPackage { .. }) => "referral.import_package",
            Command::User(UserCommand::Add { .. }) => "user.add",
            Command::User(UserCommand::Disable { .. }) => "user.disable",
            Command::User(UserCommand::Enable { .. }) => "user.enable",
            Command::User(UserCommand::ResetTotp { .. }) => "user.reset_totp",
            Command::User(UserCommand::ResetPassword { .. }) => "user.reset_password",
            Command::Org(OrgCommand::SetOidc(_)) => "org.set_oidc",
            Command::Org(OrgCommand::ClearOidc { .. }) => "org.clear_oidc",
            Command::User(UserCommand::LinkOidc { .. }) => "user.link_oidc",
            Command::User(UserCommand::PasskeyRequired { .. }) => "user.passkey_required",
            Command::Token(TokenCommand::Create { .. }) => "token.create",
            Command::Audit(AuditCommand::Verify { .. }) => "audit.verify",
            Command::Audit(AuditCommand::Seal { .. }) => "audit.seal",
            Command::Audit(AuditCommand::Export(_)) => "audit.export",
            Command::Audit(AuditCommand::Tail(_)) => "audit.tail",
            Command::Audit(AuditCommand::Archive { .. }) => "audit.archive",
            Command::Token(TokenCommand::List { .. }) => "token.list",
            Command::Token(TokenCommand::Revoke { .. }) => "token.revoke",
            Command::Backup(_) => "backup",
            Command::Restore(_) => "restore",
            Command::Key(KeyCommand::Rotate) => "key.rotate",
            Command::Import(ImportCommand::Htcds { .. }) => "import.htcds",
            Command::Import(ImportCommand::Questionnaire { .. }) => "import.questionnaire",
            Command::Report(ReportCommand::Questionnaire { .. }) => "report.questionnaire",
            Command::Report(ReportCommand::National { .. }) => "report.national",
            Command::Report(ReportCommand::Gaps { .. }) => "report.gaps",
            Command::Report(ReportCommand::Scorecard { .. }) => "report.scorecard",
            Command::Export(ExportCommand::Htcds { .. }) => "export.htcds",
            Command::Export(ExportCommand::Questionnaire { .. }) => "export.questionnaire",
            Command::Bench(b) => b.name(),
            Command::Statistics(c) => c.name(),
            Command::Release(c) => c.name(),
            Command::Alerts(c) => c.name(),
            Command::Rules(c) => c.name(),
            Command::Retention(c) => c.name(),
            Command::Attachments(c) => c.name(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_options_after_subcommand() -> Result<(), clap::Error> {
        let cli = Cli::try_parse_from(["dayaq", "org", "list", "--data-dir", "/tmp/x"])?;
        assert_eq!(cli.global.data_dir, PathBuf::from("/tmp/x"));
        Ok(())
    }

    #[test]
    fn htcds_commands_parse() -> Result<(), clap::Error> {
        let cli = Cli::try_parse_from(["dayaq", "import", "htcds", "cases.csv", "--as", "ali"])?;
        assert!(matches!(
            cli.command,
            Command::Import(ImportCommand::Htcds { ref as_user, .. }) if as_user == "ali"
        ));
        let cli =
            Cli::try_parse_from(["dayaq", "export", "htcds", "--as", "ali", "--out", "x.xlsx"])?;
        assert_eq!(cli.command.name(), "export.htcds");
        assert!(Cli::try_parse_from(["dayaq", "export", "htcds", "--out", "x.csv"]).is_err());
        Ok(())
    }

    #[test]
    fn referral_package_commands_parse() -> Result<(), clap::Error> {
        let cli = Cli::try_parse_from([
            "dayaq",
            "referral",
            "export-package",
            "--case",
            "x",
            "--recipient-org",
            "iom",
            "--services",
            "ReturnHome,AirportMeeting",
            "--reason",
            "Other",
            "--as",
            "ali",
            "--out",
            "p.age",
        ])?;
        assert!(matches!(
            cli.command,
            Command::Referral(ReferralCommand::ExportPackage { ref services, .. }) if services.len() == 2
        ));
        let cli = Cli::try_parse_from([
            "dayaq",
            "referral",
            "import-package",
            "p.age",
            "--identity",
            "k.txt",
            "--as",
            "b",
        ])?;
        assert_eq!(cli.command.name(), "referral.import_package");
        assert!(
            Cli::try_parse_from(["dayaq", "referral", "import-package", "p.age", "--as", "b"])
                .is_err()
        );
        Ok(())
    }

    #[test]
    fn followup_commands_parse() -> Result<(), clap::Error> {
        let cli = Cli::try_parse_from([
            "dayaq",
            "org",
            "set-followup-schedule",
            "ngo",
            "--months",
            "1,3,6,12",
        ])?;
        assert!(matches!(
            cli.command,
            Command::Org(OrgCommand::SetFollowupSchedule { ref months, .. }) if months == &[1, 3, 6, 12]
        ));
        assert!(
            Cli::try_parse_from([
                "dayaq",
                "org",
                "set-followup-schedule",
                "ngo",
                "--months",
                "1,x"
            ])
            .is_err()
        );
        let cli = Cli::try_parse_from([
            "dayaq",
            "export",
            "questionnaire",
            "--as",
            "ali",
            "--round",
            "R1",
            "--format",
            "xlsx",
            "--out",
            "q.xlsx",
        ])?;
        assert_eq!(cli.command.name(), "export.questionnaire");
        assert!(
            Cli::try_parse_from([
                "dayaq",
                "export",
                "questionnaire",
                "--as",
                "ali",
                "--format",
                "pdf",
                "--out",
                "q.pdf"
            ])
            .is_err()
        );
        Ok(())
    }

    #[test]
    fn backup_key_options_conflict() {
        let r = Cli::try_parse_from([
            "dayaq",
            "backup",
            "f.age",
            "--passphrase-stdin",
            "--recipient",
            "age1x",
        ]);
        assert!(r.is_err());
    }

    #[test]
    fn org_set_timezone_parses() -> Result<(), clap::Error> {
        let cli = Cli::try_parse_from(["dayaq", "org", "set-timezone", "ngo", "Asia/Baku"])?;
        assert_eq!(cli.command.name(), "org.set_timezone");
        assert!(matches!(
            cli.command,
            Command::Org(OrgCommand::SetTimezone { ref slug, ref zone }) if slug == "ngo" && zone == "Asia/Baku"
        ));
        assert!(Cli::try_parse_from(["dayaq", "org", "set-timezone", "ngo"]).is_err());
        Ok(())
    }
}
