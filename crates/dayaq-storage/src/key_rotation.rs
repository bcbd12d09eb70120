//! Master-key rotation: every wrapped key re-wrapped under a new master key in one
//! transaction, audited (kept apart from `keys`, which the audit chain itself uses).

use crate::crypto::{SecretKey, load_master_key, write_master_key};
use crate::keys::{next_path, rename_durable, retired_path, sync_dir};
use crate::{Result, Store};
use sqlx::Row;

/// The rows holding a key wrapped under the master key (cases, intake contacts): how to read
/// them (`id`, `master_key_id`, `wrapped`) and how to write one re-wrapped ($1 key id, $2
/// wrapped key, $3 id).
const WRAPPED_KEYS: [(&str, &str); 2] = [
    (
        "SELECT case_id AS id, master_key_id, wrapped FROM case_keys",
        "UPDATE case_keys SET master_key_id = $1, wrapped = $2 WHERE case_id = $3",
    ),
    (
        "SELECT id, master_key_id, wrapped_key AS wrapped FROM contacts WHERE wrapped_key IS NOT NULL",
        "UPDATE contacts SET master_key_id = $1, wrapped_key = $2 WHERE id = $3",
    ),
];

const BLIND: &str = "blind_index";
const SYSTEM: &str = "system";

impl Store {
    /// Generates a new master key and re-wraps every case key and keyring entry under it, in
    /// one transaction. The old key file is kept as `master.key.retired-<id>` so that backups
    /// taken before the rotation stay restorable; delete it when those backups expire.
    /// Returns the number of keys re-wrapped.
    ///
    /// Safe while a server runs on the same database: every write transaction first reads the
    /// current key id from `keyring` and switches to the new key file (`adopt_current`), and
    /// keys wrapped under the previous key in the meantime stay readable through its retired
    /// file (read at start) until the next rotation re-wraps them.
    pub async fn rotate_master_key(&self) -> Result<usize> {
        let new = SecretKey::generate()?;
        let next = next_path(&self.keys.master_path);
        write_master_key(&next, &new)?;
        sync_dir(&next)?;
        let mut tx = self.begin_write().await?;
        // Take the audit head's row lock first: on PostgreSQL a concurrent writer that appends
        // to the audit log waits for this rotation and then sees the new key id.
        sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        let mut n = 0usize;
        for (select, update) in WRAPPED_KEYS {
            let rows = sqlx::query(select).fetch_all(&mut *tx).await?;
            for r in rows {
                let id: String = r.try_get("id")?;
                let kid: String = r.try_get("master_key_id")?;
                let wrapped: Vec<u8> = r.try_get("wrapped")?;
                let k = self.keys.unwrap_case_key(&kid, &wrapped)?;
                sqlx::query(update)
                    .bind(new.key_id())
                    .bind(new.wrap("case", &k)?)
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
                n += 1;
            }
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
        let new_id = new.key_id();
        self.keys.add_known(new)?;
        tx.commit().await?;
        let path = &self.keys.master_path;
        if path.exists() {
            // Normally the previous key; whatever it holds, it is kept, never overwritten.
            let was = load_master_key(path)?;
            rename_durable(path, &retired_path(path, &was))?;
        }
        rename_durable(&next, path)?;
        self.keys.adopt_current(&new_id)?;
        Ok(n)
    }
}
