//! The attachment store's flags (`serve` and `attachments repair`) and `dayaq attachments
//! repair [--fix]` (issue #21 §1). Output is counts, attachment ids and random object names —
//! never file names or contents.

use crate::cli::GlobalOpts;
use anyhow::Context;
use clap::{Args, Subcommand};
use dayaq_storage::Store;
use dayaq_storage::attachments::{Blobs, RepairReport, S3Config};
use std::process::ExitCode;

/// Where attachments are stored: DATA_DIR/attachments/ unless an S3 bucket is named.
#[derive(Debug, Clone, Args)]
pub struct AttachmentStoreArgs {
    /// Largest attachment, in bytes (default 25 MiB).
    #[arg(long, value_name = "BYTES", env = "DAYAQ_ATTACHMENT_MAX_BYTES",
          default_value_t = dayaq_domain::attachments::DEFAULT_MAX_BYTES,
          value_parser = clap::value_parser!(u64).range(1..=(1u64 << 32)))]
    pub attachment_max_bytes: u64,

    /// Store attachments in this S3-compatible bucket instead of DATA_DIR/attachments/.
    #[arg(long, value_name = "BUCKET", env = "DAYAQ_S3_BUCKET")]
    pub s3_bucket: Option<String>,

    /// The S3 endpoint (e.g. http://127.0.0.1:9000 for a local server); default AWS.
    #[arg(long, value_name = "URL", env = "DAYAQ_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,

    /// The bucket's region.
    #[arg(
        long,
        value_name = "REGION",
        env = "DAYAQ_S3_REGION",
        default_value = "us-east-1"
    )]
    pub s3_region: String,

    /// Access key id (environment recommended).
    #[arg(
        long,
        value_name = "ID",
        env = "DAYAQ_S3_ACCESS_KEY_ID",
        hide_env_values = true,
        default_value = ""
    )]
    pub s3_access_key_id: String,

    /// Secret access key (environment only in production: flags show in process lists).
    #[arg(
        long,
        value_name = "SECRET",
        env = "DAYAQ_S3_SECRET_ACCESS_KEY",
        hide_env_values = true,
        default_value = ""
    )]
    pub s3_secret_access_key: String,

    /// Allow plain HTTP to the endpoint (a local test server only).
    #[arg(long, env = "DAYAQ_S3_ALLOW_HTTP")]
    pub s3_allow_http: bool,
}

impl AttachmentStoreArgs {
    /// `store` with the configured attachment store and size limit.
    pub fn apply(&self, store: Store) -> anyhow::Result<Store> {
        let blobs = match &self.s3_bucket {
            Some(bucket) => Blobs::s3(&S3Config {
                endpoint: self.s3_endpoint.clone(),
                bucket: bucket.clone(),
                region: self.s3_region.clone(),
                access_key_id: self.s3_access_key_id.clone(),
                secret_access_key: self.s3_secret_access_key.clone(),
                allow_http: self.s3_allow_http,
            })
            .context("the S3 attachment store")?,
            None => store.attachment_store().clone(),
        };
        Ok(store.with_attachment_store(blobs.with_max_bytes(self.attachment_max_bytes)))
    }
}

#[derive(Debug, Subcommand)]
pub enum AttachmentsCommand {
    /// Lists what interrupted uploads, unfinished deletions and lost objects left behind
    /// (exit 1 when anything is found); with --fix removes stale pending rows and orphan
    /// objects and finishes deletions (audited). Stored rows whose object is gone are only
    /// listed: restore the object from a backup.
    Repair {
        #[arg(long)]
        fix: bool,
        #[command(flatten)]
        store: AttachmentStoreArgs,
    },
}

impl AttachmentsCommand {
    pub fn name(&self) -> &'static str {
        match self {
            AttachmentsCommand::Repair { .. } => "attachments.repair",
        }
    }
}

fn print_report(r: &RepairReport) {
    for id in &r.stale_pending {
        println!("pending\t{id}");
    }
    for id in &r.deleting {
        println!("deleting\t{id}");
    }
    for id in &r.missing_objects {
        println!("missing-object\t{id}");
    }
    for o in &r.orphan_objects {
        println!("orphan-object\t{o}");
    }
    println!(
        "{} interrupted, {} unfinished deletions, {} missing objects, {} orphan objects{}",
        r.stale_pending.len(),
        r.deleting.len(),
        r.missing_objects.len(),
        r.orphan_objects.len(),
        if r.fixed {
            " (fixed, except missing objects)"
        } else {
            ""
        }
    );
}

pub async fn run(g: &GlobalOpts, cmd: AttachmentsCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AttachmentsCommand::Repair { fix, store } => {
            let s = store.apply(crate::commands::open(g).await?)?;
            let now = dayaq_storage::kernel::millis(time::OffsetDateTime::now_utc());
            let r = s.repair_attachments(now, fix).await?;
            print_report(&r);
            let clean = r.is_clean() || (r.fixed && r.missing_objects.is_empty());
            Ok(if clean {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}
