//! The key hierarchy: master key (file, outside the database) → wrapped keys in the database
//! (per-case keys in `case_keys`; the blind-index and system keys in `keyring`).

use crate::crypto::{CryptoError, SecretKey, load_master_key, load_or_create_master_key};
use crate::engine::Engine;
use crate::{Result, Store, StoreError};
use sqlx::{AnyPool, Row};
use std::path::{Path, PathBuf};
use std::sync::RwLock;

const BLIND: &str = "blind_index";
const SYSTEM: &str = "system";

pub struct Keys {
    pub(crate) master_path: PathBuf,
    /// The current master key first, then any other key file still present (rotation).
    masters: RwLock<Vec<SecretKey>>,
    /// The blind-index and system keys (replaced when a restore loads another keyring).
    derived: RwLock<(SecretKey, SecretKey)>,
}

pub(crate) fn next_path(p: &Path) -> PathBuf {
    p.with_extension("key.next")
}

/// Makes a rename (or file creation) in `dir` durable: on Unix the directory entry itself
/// must be flushed, or a crash can bring back the old name after the database committed.
pub(crate) fn sync_dir(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        std::fs::File::open(dir)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// `rename` followed by a flush of the directory.
pub(crate) fn rename_durable(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to)?;
    sync_dir(to)
}

/// Every master key file next to `master_path`: the key file itself, a pending
/// `.key.next` and the retired `.key.retired-<id>` files (older key first is not implied).
/// Files that cannot be read as keys are skipped.
fn key_files(master_path: &Path) -> Vec<SecretKey> {
    let mut out = Vec::new();
    for p in [master_path.to_path_buf(), next_path(master_path)] {
        if p.exists()
            && let Ok(k) = load_master_key(&p)
        {
            out.push(k);
        }
    }
    let prefix = master_path
        .with_extension("key.retired-")
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    let dir = match master_path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if let (Some(prefix), Ok(entries)) = (prefix, std::fs::read_dir(&dir)) {
        let mut retired: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .map(|n| n.to_string_lossy().starts_with(&prefix))
                    .unwrap_or(false)
            })
            .collect();
        retired.sort();
        for p in retired {
            if let Ok(k) = load_master_key(&p) {
                out.push(k);
            }
        }
    }
    out
}

/// The label of the subkey that seals the audit head (see `audit::seal_head`).
const AUDIT_HEAD_LABEL: &str = "audit-head-mac/v1";

impl Keys {
    pub(crate) async fn load(pool: &AnyPool, _engine: Engine, master_path: &Path) -> Result<Keys> {
        let rows = sqlx::query("SELECT name, master_key_id, wrapped FROM keyring")
            .fetch_all(pool)
            .await?;
        let next = next_path(master_path);
        // A rotation that committed but did not rename its key file: finish it now.
        if next.exists() {
            let nk = load_master_key(&next)?;
            let uses_next = rows.iter().any(|r| {
                r.try_get::<String, _>("master_key_id").ok().as_deref()
                    == Some(nk.key_id().as_str())
            });
            if uses_next {
                if master_path.exists() {
                    let old = load_master_key(master_path)?;
                    rename_durable(master_path, &retired_path(master_path, &old))?;
                }
                rename_durable(&next, master_path)?;
            } else {
                std::fs::remove_file(&next)?;
                sync_dir(&next)?;
            }
        }
        if rows.is_empty() {
            let master = load_or_create_master_key(master_path)?;
            let blind = SecretKey::generate()?;
            let system = SecretKey::generate()?;
            for (name, k) in [(BLIND, &blind), (SYSTEM, &system)] {
                sqlx::query(
                    "INSERT INTO keyring (name, master_key_id, wrapped) VALUES ($1, $2, $3)",
                )
                .bind(name)
                .bind(master.key_id())
                .bind(master.wrap(name, k)?)
                .execute(pool)
                .await?;
            }
            // A new installation: seal the empty audit log's head (see `audit::seal_head`).
            let mac = audit_head_mac(&master, 0, crate::crypto::GENESIS)?;
            sqlx::query(
                "UPDATE audit_head SET mac_seq = 0, mac_hash = $1, mac = $2, mac_key_id = $3 \
                 WHERE id = 1 AND seq = 0 AND mac = ''",
            )
            .bind(crate::crypto::GENESIS)
            .bind(&mac)
            .bind(master.key_id())
            .execute(pool)
            .await?;
            return Ok(Keys {
                master_path: master_path.to_path_buf(),
                masters: RwLock::new(vec![master]),
                derived: RwLock::new((blind, system)),
            });
        }
        if !master_path.exists() {
            return Err(StoreError::Crypto(CryptoError::KeyFile(format!(
                "the database holds encrypted data but the master key file {} is missing; \
                 restore it from its separate backup",
                master_path.display()
            ))));
        }
        let master = load_master_key(master_path)?;
        let mut blind = None;
        let mut system = None;
        for r in rows {
            let name: String = r.try_get("name")?;
            let kid: String = r.try_get("master_key_id")?;
            let wrapped: Vec<u8> = r.try_get("wrapped")?;
            if kid != master.key_id() {
                return Err(StoreError::Crypto(CryptoError::KeyFile(format!(
                    "the keyring is wrapped by master key {kid}, but the key file holds {}",
                    master.key_id()
                ))));
            }
            let k = master.unwrap_key(&name, &wrapped)?;
            match name.as_str() {
                BLIND => blind = Some(k),
                SYSTEM => system = Some(k),
                _ => {}
            }
        }
        // Retired keys stay readable: a server that had not yet noticed a rotation may have
        // wrapped case keys under the previous key (they are re-wrapped by the next rotation).
        let mut masters = vec![master];
        for k in key_files(master_path) {
            if !masters.iter().any(|m| m.key_id() == k.key_id()) {
                masters.push(k);
            }
        }
        match (blind, system) {
            (Some(blind), Some(system)) => Ok(Keys {
                master_path: master_path.to_path_buf(),
                masters: RwLock::new(masters),
                derived: RwLock::new((blind, system)),
            }),
            _ => Err(StoreError::Data("keyring incomplete".into())),
        }
    }

    pub(crate) fn blind(&self) -> Result<SecretKey> {
        Ok(self
            .derived
            .read()
            .map_err(|_| StoreError::Data("key lock poisoned".into()))?
            .0
            .clone())
    }

    pub(crate) fn system(&self) -> Result<SecretKey> {
        Ok(self
            .derived
            .read()
            .map_err(|_| StoreError::Data("key lock poisoned".into()))?
            .1
            .clone())
    }

    /// Re-reads the keyring after a restore replaced it.
    pub(crate) async fn reload(&self, pool: &AnyPool) -> Result<()> {
        let master = self.current()?;
        let mut blind = None;
        let mut system = None;
        for r in sqlx::query("SELECT name, wrapped FROM keyring")
            .fetch_all(pool)
            .await?
        {
            let name: String = r.try_get("name")?;
            let wrapped: Vec<u8> = r.try_get("wrapped")?;
            let k = master.unwrap_key(&name, &wrapped)?;
            match name.as_str() {
                BLIND => blind = Some(k),
                SYSTEM => system = Some(k),
                _ => {}
            }
        }
        let (Some(b), Some(s)) = (blind, system) else {
            return Err(StoreError::Data("keyring incomplete".into()));
        };
        *self
            .derived
            .write()
            .map_err(|_| StoreError::Data("key lock poisoned".into()))? = (b, s);
        Ok(())
    }

    fn current(&self) -> Result<SecretKey> {
        self.masters
            .read()
            .map_err(|_| StoreError::Data("key lock poisoned".into()))?
            .first()
            .cloned()
            .ok_or_else(|| StoreError::Data("no master key".into()))
    }

    fn find(&self, key_id: &str) -> Result<Option<SecretKey>> {
        Ok(self
            .masters
            .read()
            .map_err(|_| StoreError::Data("key lock poisoned".into()))?
            .iter()
            .find(|k| k.key_id() == key_id)
            .cloned())
    }

    /// Wraps a new case key under the current master key: (master_key_id, wrapped).
    pub(crate) fn wrap_case_key(&self, case_key: &SecretKey) -> Result<(String, Vec<u8>)> {
        let m = self.current()?;
        Ok((m.key_id(), m.wrap("case", case_key)?))
    }

    pub(crate) fn unwrap_case_key(&self, key_id: &str, wrapped: &[u8]) -> Result<SecretKey> {
        match self.find_or_load(key_id)? {
            Some(m) => Ok(m.unwrap_key("case", wrapped)?),
            None => Err(StoreError::Crypto(CryptoError::Decrypt)),
        }
    }

    /// The master key with this id: from memory, else from the key files (another process
    /// may have rotated the key since this one started; the new key is in `master.key` or
    /// still in `master.key.next`, the old one in `master.key.retired-<id>`).
    pub(crate) fn find_or_load(&self, key_id: &str) -> Result<Option<SecretKey>> {
        if let Some(m) = self.find(key_id)? {
            return Ok(Some(m));
        }
        let found = key_files(&self.master_path);
        let mut ms = self
            .masters
            .write()
            .map_err(|_| StoreError::Data("key lock poisoned".into()))?;
        for k in found {
            if !ms.iter().any(|m| m.key_id() == k.key_id()) {
                ms.push(k);
            }
        }
        Ok(ms.iter().find(|k| k.key_id() == key_id).cloned())
    }

    /// Makes the key the database names as current (`keyring.master_key_id`) this process's
    /// current key, reading the key files when another process rotated it. Called at the
    /// start of every write transaction, so new case keys are wrapped under the current key.
    pub(crate) fn adopt_current(&self, key_id: &str) -> Result<()> {
        if self.current()?.key_id() == key_id {
            return Ok(());
        }
        let Some(k) = self.find_or_load(key_id)? else {
            return Err(StoreError::Crypto(CryptoError::KeyFile(format!(
                "the database's master key is {key_id}, but no key file holds it; \
                 put the current master key file in place"
            ))));
        };
        let mut ms = self
            .masters
            .write()
            .map_err(|_| StoreError::Data("key lock poisoned".into()))?;
        ms.retain(|m| m.key_id() != key_id);
        ms.insert(0, k);
        tracing::info!(
            master_key_id = key_id,
            "master key rotated by another process: now using the new key"
        );
        Ok(())
    }

    /// The seal of an audit head (seq, hash) under the master key `key_id`, or None when no
    /// key file holds that key.
    pub(crate) fn audit_mac(&self, key_id: &str, seq: i64, hash: &str) -> Result<Option<String>> {
        match self.find_or_load(key_id)? {
            Some(m) => Ok(Some(audit_head_mac(&m, seq, hash)?)),
            None => Ok(None),
        }
    }

    /// True when `mac` seals (seq, hash) under any master key this process knows.
    pub(crate) fn audit_mac_known(&self, seq: i64, hash: &str, mac: &str) -> Result<bool> {
        let ms = self
            .masters
            .read()
            .map_err(|_| StoreError::Data("key lock poisoned".into()))?
            .clone();
        for m in ms {
            if ct_eq(&audit_head_mac(&m, seq, hash)?, mac) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Makes a newly generated key known (not current) before the rotation commits, so that
    /// the rotating transaction can seal the audit head under it.
    pub(crate) fn add_known(&self, k: SecretKey) -> Result<()> {
        let mut ms = self
            .masters
            .write()
            .map_err(|_| StoreError::Data("key lock poisoned".into()))?;
        if !ms.iter().any(|m| m.key_id() == k.key_id()) {
            ms.push(k);
        }
        Ok(())
    }

    pub fn current_key_id(&self) -> Result<String> {
        Ok(self.current()?.key_id())
    }
}

/// HMAC-SHA-256 of an audit head under a subkey of the master key (never stored).
pub(crate) fn audit_head_mac(master: &SecretKey, seq: i64, hash: &str) -> Result<String> {
    let k = master.derive(AUDIT_HEAD_LABEL)?;
    Ok(k.hmac_hex("audit-head", &format!("{seq}:{hash}"))?)
}

/// Equality of two MACs in time independent of where they differ.
pub(crate) fn ct_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

pub(crate) fn retired_path(master_path: &Path, old: &SecretKey) -> PathBuf {
    master_path.with_extension(format!("key.retired-{}", old.key_id()))
}

impl Store {
    /// The id of the master key this store wraps new keys under.
    pub fn current_master_key_id(&self) -> Result<String> {
        self.keys.current_key_id()
    }
}
