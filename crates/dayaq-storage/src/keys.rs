//! The key hierarchy: master key (file, outside the database) → wrapped keys in the database
//! (per-case keys in `case_keys`; the blind-index and system keys in `keyring`).

use crate::crypto::{
    CryptoError, SecretKey, load_master_key, load_or_create_master_key, write_master_key,
};
use crate::db::Engine;
use crate::{Result, Store, StoreError};
use sqlx::{AnyPool, Row};
use std::path::{Path, PathBuf};
use std::sync::RwLock;

const BLIND: &str = "blind_index";
const SYSTEM: &str = "system";

pub struct Keys {
    master_path: PathBuf,
    /// The current master key first, then any other key file still present (rotation).
    masters: RwLock<Vec<SecretKey>>,
    /// The blind-index and system keys (replaced when a restore loads another keyring).
    derived: RwLock<(SecretKey, SecretKey)>,
}

fn next_path(p: &Path) -> PathBuf {
    p.with_extension("key.next")
}

impl Keys {
    pub(crate) async fn load(pool: &AnyPool, _engine: Engine, master_path: &Path) -> Result<Keys> {
        let rows = sqlx::query("SELECT name, master_key_id, wrapped FROM keyring")
            .fetch_all(pool)
            .await?;
        let next = next_path(master_path);
        // A rotation that committed but did not rename its key file: finish it now.
        if next.exists() {
            let nk = load_master_key(&next)?;
            let uses_next = rows
                .iter()
                .any(|r| r.try_get::<String, _>(1).ok().as_deref() == Some(nk.key_id().as_str()));
            if uses_next {
                if master_path.exists() {
                    let old = load_master_key(master_path)?;
                    std::fs::rename(master_path, retired_path(master_path, &old))?;
                }
                std::fs::rename(&next, master_path)?;
            } else {
                std::fs::remove_file(&next)?;
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
            let name: String = r.try_get(0)?;
            let kid: String = r.try_get(1)?;
            let wrapped: Vec<u8> = r.try_get(2)?;
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
        match (blind, system) {
            (Some(blind), Some(system)) => Ok(Keys {
                master_path: master_path.to_path_buf(),
                masters: RwLock::new(vec![master]),
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
            let name: String = r.try_get(0)?;
            let wrapped: Vec<u8> = r.try_get(1)?;
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
        if let Some(m) = self.find(key_id)? {
            return Ok(m.unwrap_key("case", wrapped)?);
        }
        // Another process may have rotated the master key: re-read the key file once.
        let m = load_master_key(&self.master_path)?;
        if m.key_id() != key_id {
            return Err(StoreError::Crypto(CryptoError::Decrypt));
        }
        let k = m.unwrap_key("case", wrapped)?;
        if let Ok(mut ms) = self.masters.write() {
            ms.insert(0, m);
        }
        Ok(k)
    }

    pub fn current_key_id(&self) -> Result<String> {
        Ok(self.current()?.key_id())
    }
}

fn retired_path(master_path: &Path, old: &SecretKey) -> PathBuf {
    master_path.with_extension(format!("key.retired-{}", old.key_id()))
}

impl Store {
    /// Generates a new master key and re-wraps every case key and keyring entry under it, in
    /// one transaction. The old key file is kept as `master.key.retired-<id>` so that backups
    /// taken before the rotation stay restorable; delete it when those backups expire.
    /// Returns the number of keys re-wrapped.
    pub async fn rotate_master_key(&self) -> Result<usize> {
        let old = self.keys.current()?;
        let new = SecretKey::generate()?;
        let next = next_path(&self.keys.master_path);
        write_master_key(&next, &new)?;
        let mut tx = self.begin_write().await?;
        let mut n = 0usize;
        let rows = sqlx::query("SELECT case_id, master_key_id, wrapped FROM case_keys")
            .fetch_all(&mut *tx)
            .await?;
        for r in rows {
            let id: String = r.try_get(0)?;
            let kid: String = r.try_get(1)?;
            let wrapped: Vec<u8> = r.try_get(2)?;
            let k = self.keys.unwrap_case_key(&kid, &wrapped)?;
            sqlx::query("UPDATE case_keys SET master_key_id = $1, wrapped = $2 WHERE case_id = $3")
                .bind(new.key_id())
                .bind(new.wrap("case", &k)?)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            n += 1;
        }
        let rows = sqlx::query(
            "SELECT id, master_key_id, wrapped_key FROM contacts WHERE wrapped_key IS NOT NULL",
        )
        .fetch_all(&mut *tx)
        .await?;
        for r in rows {
            let id: String = r.try_get(0)?;
            let kid: String = r.try_get(1)?;
            let wrapped: Vec<u8> = r.try_get(2)?;
            let k = self.keys.unwrap_case_key(&kid, &wrapped)?;
            sqlx::query("UPDATE contacts SET master_key_id = $1, wrapped_key = $2 WHERE id = $3")
                .bind(new.key_id())
                .bind(new.wrap("case", &k)?)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            n += 1;
        }
        let (blind, system) = (self.keys.blind()?, self.keys.system()?);
        for (name, k) in [(BLIND, &blind), (SYSTEM, &system)] {
            sqlx::query("UPDATE keyring SET master_key_id = $1, wrapped = $2 WHERE name = $3")
                .bind(new.key_id())
                .bind(new.wrap(name, k)?)
                .bind(name)
                .execute(&mut *tx)
                .await?;
            n += 1;
        }
        let mut e = crate::audit::AuditEntry::new("key.rotate", "success");
        e.detail = format!("keys={n} new_master={}", new.key_id());
        crate::audit::append(&mut tx, &e, crate::millis(time::OffsetDateTime::now_utc())).await?;
        tx.commit().await?;
        let path = &self.keys.master_path;
        std::fs::rename(path, retired_path(path, &old))?;
        std::fs::rename(&next, path)?;
        if let Ok(mut ms) = self.keys.masters.write() {
            ms.insert(0, new);
        }
        Ok(n)
    }
}
