//! Where attachment objects live: one trait (`object_store::ObjectStore`) over the local disk
//! (default, `DATA_DIR/attachments/`) and any S3-compatible store. Objects hold ciphertext
//! only, under random names that say nothing about the case.

use crate::{Result, StoreError};
use dayaq_domain::attachments::DEFAULT_MAX_BYTES;
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::{ClientOptions, RetryConfig};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// An S3-compatible store (`serve --s3-*`). Credentials come from flags or the environment,
/// never from the database.
#[derive(Debug, Clone, Default)]
pub struct S3Config {
    /// e.g. `http://127.0.0.1:9000`; `None` = AWS itself.
    pub endpoint: Option<String>,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Plain HTTP to the endpoint (a local test server); off in production.
    pub allow_http: bool,
}

/// A malware scanner for uploads (e.g. clamd). Fed the plaintext as it streams in; its
/// verdict is asked before anything is kept. Off unless configured.
pub trait Scanner: Send + Sync {
    /// A fresh scan of one file.
    fn begin(&self) -> Box<dyn ScanSession>;
}

/// One file being scanned.
pub trait ScanSession: Send {
    fn feed(&mut self, chunk: &[u8]);
    /// `Ok(true)` clean, `Ok(false)` infected, `Err` the scanner failed (the upload is refused
    /// as unavailable, never accepted unscanned).
    fn clean(self: Box<Self>) -> std::result::Result<bool, String>;
}

/// The attachment store and its limits.
#[derive(Clone)]
pub struct Blobs {
    pub(crate) store: Arc<dyn ObjectStore>,
    pub(crate) max_bytes: u64,
    /// Bytes buffered per part before it is written (S3 needs at least 5 MiB per part).
    pub(crate) part_bytes: usize,
    pub(crate) scanner: Option<Arc<dyn Scanner>>,
    pub(crate) backend: &'static str,
}

impl std::fmt::Debug for Blobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blobs")
            .field("backend", &self.backend)
            .field("max_bytes", &self.max_bytes)
            .finish()
    }
}

impl Blobs {
    /// Files under `dir` (created when missing).
    pub fn local(dir: &Path) -> Result<Blobs> {
        std::fs::create_dir_all(dir)?;
        let fs = LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| StoreError::Data(format!("attachment directory: {e}")))?;
        Ok(Blobs {
            store: Arc::new(fs),
            max_bytes: DEFAULT_MAX_BYTES,
            part_bytes: 1024 * 1024,
            scanner: None,
            backend: "local",
        })
    }

    /// An S3-compatible bucket. A store that does not answer fails fast (a few seconds, two
    /// retries) so that the caller gets 503 rather than a hanging request.
    pub fn s3(cfg: &S3Config) -> Result<Blobs> {
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(&cfg.bucket)
            .with_region(&cfg.region)
            .with_access_key_id(&cfg.access_key_id)
            .with_secret_access_key(&cfg.secret_access_key)
            .with_allow_http(cfg.allow_http)
            .with_retry(RetryConfig {
                max_retries: 2,
                retry_timeout: Duration::from_secs(5),
                ..RetryConfig::default()
            })
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(3))
                    .with_timeout(Duration::from_secs(120))
                    .with_allow_http(cfg.allow_http),
            );
        if let Some(e) = &cfg.endpoint {
            b = b.with_endpoint(e);
        }
        let s3 = b
            .build()
            .map_err(|e| StoreError::Data(format!("S3 attachment store: {e}")))?;
        Ok(Blobs {
            store: Arc::new(s3),
            max_bytes: DEFAULT_MAX_BYTES,
            part_bytes: 5 * 1024 * 1024,
            scanner: None,
            backend: "s3",
        })
    }

    /// The same store with another size limit (bytes of the plain file).
    pub fn with_max_bytes(mut self, max: u64) -> Blobs {
        self.max_bytes = max;
        self
    }

    /// The same store with a malware scanner.
    pub fn with_scanner(mut self, s: Arc<dyn Scanner>) -> Blobs {
        self.scanner = Some(s);
        self
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// `local` or `s3`.
    pub fn backend(&self) -> &'static str {
        self.backend
    }
}
